/*
 * Served models: each loaded version is a reference-counted handle, and the
 * catalog maps names to handles.
 *
 * A request takes a reference under the catalog's read lock and drops it when
 * its response is built. A reload builds the new handle aside, swaps it in
 * under the write lock and drops the catalog's reference to the old one.
 * The old model is freed by whichever finishes later: the reload or the
 * last request in flight.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve_internal.h"

void serve_schema_clear(serve_schema *schema)
{
    serve_schema_clear_checks(schema);
    if (schema->known != NULL)
        for (size_t f = 0; f < schema->n_features; f++)
            if (schema->known[f] != NULL)
                ln_dict_release(schema->known[f]);
    free(schema->known);
    free(schema->types);
    free(schema->names);
    memset(schema, 0, sizeof *schema);
}

/* Copies the categories that have their own bin in the model into a new dictionary. */
static ln_status copy_categories(const ln_model *model, size_t feature, ln_dict **out, ln_error *err)
{
    int32_t n = ln_model_category_count(model, feature);
    ln_dict *dict = ln_dict_new();

    if (dict == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory copying the categories of feature %zu", feature);
    for (int32_t i = 0; i < n; i++) {
        const char *category = ln_model_category(model, feature, i);
        if (ln_dict_intern(dict, category, strlen(category)) < 0) {
            ln_dict_release(dict);
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory copying the categories of feature %zu", feature);
        }
    }
    *out = dict;
    return LN_OK;
}

ln_status serve_schema_init(serve_schema *schema, const ln_model *model, ln_error *err)
{
    size_t n = ln_model_feature_count(model);

    memset(schema, 0, sizeof *schema);
    schema->n_features = n;
    schema->names = calloc(n ? n : 1, sizeof *schema->names);
    schema->types = calloc(n ? n : 1, sizeof *schema->types);
    schema->known = calloc(n ? n : 1, sizeof *schema->known);
    if (schema->names == NULL || schema->types == NULL || schema->known == NULL) {
        serve_schema_clear(schema);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading %zu features", n);
    }

    for (size_t f = 0; f < n; f++) {
        schema->names[f] = ln_model_feature_name(model, f);
        schema->types[f] = ln_model_feature_type(model, f);
        if (schema->types[f] != LN_TYPE_CATEGORY)
            continue;
        ln_status status = copy_categories(model, f, &schema->known[f], err);
        if (status != LN_OK) {
            serve_schema_clear(schema);
            return status;
        }
    }
    return LN_OK;
}

static void model_free(serve_model *model)
{
    for (size_t i = 0; i < model->n_free_rows; i++)
        ln_model_row_free(model->free_rows[i]);
    pthread_mutex_destroy(&model->rows_lock);
    serve_schema_clear(&model->schema);
    ln_model_free(model->model);
    free(model->info_json);
    free(model->summary_json);
    free(model);
}

serve_model *serve_model_retain(serve_model *model)
{
    atomic_fetch_add_explicit(&model->refs, 1, memory_order_relaxed);
    return model;
}

void serve_model_release(serve_model *model)
{
    if (model == NULL)
        return;
    if (atomic_fetch_sub_explicit(&model->refs, 1, memory_order_acq_rel) == 1)
        model_free(model);
}

ln_model_row *serve_model_take_row(serve_model *model)
{
    ln_model_row *row = NULL;

    pthread_mutex_lock(&model->rows_lock);
    if (model->n_free_rows > 0)
        row = model->free_rows[--model->n_free_rows];
    pthread_mutex_unlock(&model->rows_lock);
    if (row == NULL && ln_model_row_new(model->model, &row, NULL) != LN_OK)
        return NULL;
    return row;
}

void serve_model_return_row(serve_model *model, ln_model_row *row)
{
    if (row == NULL)
        return;

    ln_model_row_clear(row);
    pthread_mutex_lock(&model->rows_lock);
    if (model->n_free_rows < SERVE_ROW_POOL) {
        model->free_rows[model->n_free_rows++] = row;
        row = NULL;
    }
    pthread_mutex_unlock(&model->rows_lock);
    ln_model_row_free(row);
}

static json_t *json_string_or_null(const json_t *value)
{
    return json_is_string(value) ? json_string(json_string_value(value)) : json_null();
}

static json_t *threshold_json(double threshold)
{
    return isfinite(threshold) ? json_real(threshold) : json_null();
}

/* Builds the bodies of GET /v1/models and GET /v1/models/{name} once, at load time. */
static ln_status describe(serve_model *served, const json_t *metadata, ln_error *err)
{
    json_t *features = json_array();
    json_t *info = json_object();
    json_t *summary = json_object();

    for (size_t f = 0; features != NULL && f < served->schema.n_features; f++) {
        json_t *feature = json_object();
        json_object_set_new(feature, "name", json_string(served->schema.names[f]));
        json_object_set_new(feature, "type", json_string(ln_type_name(served->schema.types[f])));
        json_array_append_new(features, feature);
    }

    json_object_set_new(info, "name", json_string(served->name));
    json_object_set_new(info, "version", json_integer(served->version));
    json_object_set_new(info, "model_sha", json_string(served->model_sha));
    json_object_set_new(info, "learner", json_string(ln_model_learner(served->model) == LN_LEARNER_GBDT ? "gbdt" : "linear"));
    json_object_set_new(info, "trees", json_integer(ln_model_tree_count(served->model)));
    json_object_set_new(info, "threshold", threshold_json(served->threshold));
    json_object_set_new(info, "id_column", json_string_or_null(json_object_get(metadata, "id")));
    json_object_set_new(info, "target", json_string_or_null(json_object_get(metadata, "target")));
    json_object_set_new(info, "positive", json_string_or_null(json_object_get(metadata, "positive")));
    json_object_set_new(info, "features", features);

    json_object_set_new(summary, "name", json_string(served->name));
    json_object_set_new(summary, "version", json_integer(served->version));
    json_object_set_new(summary, "threshold", threshold_json(served->threshold));

    served->info_json = json_dumps(info, JSON_COMPACT | JSON_REAL_PRECISION(17));
    served->summary_json = json_dumps(summary, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(info);
    json_decref(summary);
    if (served->info_json == NULL || served->summary_json == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory describing model %s", served->name);
    return LN_OK;
}

/* Resolves the data contract that lanner run stores in the metadata (a YAML string, or null). */
static ln_status read_contract(serve_model *served, const json_t *metadata, ln_error *err)
{
    const json_t *contract = json_object_get(metadata, "contract");
    char source[LN_REGISTRY_MAX_NAME + 64];

    if (contract == NULL || json_is_null(contract))
        return LN_OK;
    snprintf(source, sizeof source, "the contract of model %s version %d", served->name, served->version);
    if (!json_is_string(contract))
        return ln_error_set(err, LN_ERR_CORRUPT, "%s must be YAML text or null, found %s", source,
                            json_is_object(contract) ? "an object" : "another JSON type");
    return serve_schema_set_contract(&served->schema, served->model, json_string_value(contract),
                                     json_string_length(contract), source, err);
}

/* Reads what lanner run stores in the model: the threshold (null = never flag), id, target. */
static ln_status read_metadata(serve_model *served, json_t **out, ln_error *err)
{
    const char *text = ln_model_metadata(served->model);
    json_error_t json_err;

    served->threshold = INFINITY;
    *out = NULL;
    if (text[0] == '\0')
        return LN_OK;

    json_t *metadata = json_loads(text, 0, &json_err);
    if (!json_is_object(metadata)) {
        json_decref(metadata);
        return ln_error_set(err, LN_ERR_CORRUPT, "the metadata of model %s version %d is not a JSON object: %s",
                            served->name, served->version, json_err.text);
    }
    json_t *threshold = json_object_get(metadata, "threshold");
    if (json_is_number(threshold))
        served->threshold = json_number_value(threshold);
    *out = metadata;
    return LN_OK;
}

ln_status serve_model_new(ln_model *model, const char *name, int version, const char *model_sha,
                          serve_metrics *metrics, serve_model **out, ln_error *err)
{
    serve_model *served = calloc(1, sizeof *served);
    json_t *metadata = NULL;

    if (served == NULL) {
        ln_model_free(model);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory loading model %s", name);
    }
    atomic_init(&served->refs, 1);
    pthread_mutex_init(&served->rows_lock, NULL);
    snprintf(served->name, sizeof served->name, "%s", name);
    snprintf(served->model_sha, sizeof served->model_sha, "%s", model_sha ? model_sha : "");
    served->version = version;
    served->model = model;

    /* The response's score and flag decision assume a probability of the positive class. */
    if (ln_model_objective(model) != LN_OBJECTIVE_BINARY) {
        ln_status status = ln_error_set(err, LN_ERR_CONFIG,
                                        "model %s version %d is a %s model; lanner serve scores binary models only",
                                        name, version, ln_objective_name(ln_model_objective(model)));
        model_free(served);
        return status;
    }

    ln_status status = read_metadata(served, &metadata, err);
    if (status == LN_OK)
        status = serve_schema_init(&served->schema, model, err);
    if (status == LN_OK)
        status = read_contract(served, metadata, err);
    if (status == LN_OK)
        status = describe(served, metadata, err);
    json_decref(metadata);
    if (status != LN_OK) {
        model_free(served);
        return status;
    }
    served->series = metrics != NULL ? serve_metrics_series(metrics, name, version) : NULL;
    serve_schema_count_in(&served->schema, metrics, served->series);
    *out = served;
    return LN_OK;
}

ln_status serve_model_load(const ln_version_info *info, serve_metrics *metrics, serve_model **out, ln_error *err)
{
    ln_model *model = NULL;
    ln_status status = ln_model_load(info->model_path, &model, err);

    if (status != LN_OK)
        return ln_error_prefix(err, "model %s version %d", info->name, info->version);
    return serve_model_new(model, info->name, info->version, info->model_sha, metrics, out, err);
}

void serve_catalog_init(serve_catalog *catalog)
{
    memset(catalog, 0, sizeof *catalog);
    pthread_rwlock_init(&catalog->lock, NULL);
}

void serve_catalog_clear(serve_catalog *catalog)
{
    for (size_t i = 0; i < catalog->n_models; i++)
        serve_model_release(catalog->models[i]);
    catalog->n_models = 0;
    pthread_rwlock_destroy(&catalog->lock);
}

/* Binary search; returns the index of name, or -(insertion point) - 1. */
static long find(const serve_catalog *catalog, const char *name)
{
    size_t low = 0, high = catalog->n_models;

    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int order = strcmp(catalog->models[mid]->name, name);
        if (order == 0)
            return (long)mid;
        if (order < 0)
            low = mid + 1;
        else
            high = mid;
    }
    return -(long)low - 1;
}

serve_model *serve_catalog_acquire(serve_catalog *catalog, const char *name)
{
    serve_model *model = NULL;

    pthread_rwlock_rdlock(&catalog->lock);
    long i = find(catalog, name);
    if (i >= 0)
        model = serve_model_retain(catalog->models[i]);
    pthread_rwlock_unlock(&catalog->lock);
    return model;
}

size_t serve_catalog_snapshot(serve_catalog *catalog, serve_model **models, size_t capacity)
{
    pthread_rwlock_rdlock(&catalog->lock);
    size_t n = catalog->n_models;
    for (size_t i = 0; i < n && i < capacity; i++)
        models[i] = serve_model_retain(catalog->models[i]);
    pthread_rwlock_unlock(&catalog->lock);
    return n;
}

size_t serve_catalog_count(serve_catalog *catalog)
{
    pthread_rwlock_rdlock(&catalog->lock);
    size_t n = catalog->n_models;
    pthread_rwlock_unlock(&catalog->lock);
    return n;
}

ln_status serve_catalog_put(serve_catalog *catalog, const char *name, serve_model *model, ln_error *err)
{
    serve_model *replaced = NULL;
    ln_status status = LN_OK;

    pthread_rwlock_wrlock(&catalog->lock);
    long i = find(catalog, name);
    if (i >= 0) {
        replaced = catalog->models[i];
        if (model != NULL) {
            catalog->models[i] = model;
        } else {
            memmove(&catalog->models[i], &catalog->models[i + 1],
                    (catalog->n_models - (size_t)i - 1) * sizeof catalog->models[0]);
            catalog->n_models--;
        }
    } else if (model != NULL && catalog->n_models == LN_SERVE_MAX_MODELS) {
        status = ln_error_set(err, LN_ERR_LIMIT, "cannot serve model %s: %d models are served already", name,
                              LN_SERVE_MAX_MODELS);
        replaced = model;
    } else if (model != NULL) {
        size_t at = (size_t)(-i - 1);
        memmove(&catalog->models[at + 1], &catalog->models[at], (catalog->n_models - at) * sizeof catalog->models[0]);
        catalog->models[at] = model;
        catalog->n_models++;
    }
    pthread_rwlock_unlock(&catalog->lock);

    /* Outside the lock: freeing a large model must not stall requests. */
    serve_model_release(replaced);
    return status;
}
