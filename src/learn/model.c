/*
 * The model object: parameters, training entry point, accessors, feature
 * matching between a model and a table.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learn_internal.h"
#include "lanner/limits.h"

void ln_train_params_default(ln_train_params *params)
{
    memset(params, 0, sizeof *params);
    params->learner = LN_LEARNER_GBDT;
    params->trees = 300;
    params->max_leaves = 31;
    params->max_depth = 0;
    params->learning_rate = 0.05;
    params->min_data_in_leaf = 20;
    params->min_sum_hessian = 1e-3;
    params->lambda_l1 = 0.0;
    params->lambda_l2 = 1.0;
    params->min_gain_to_split = 0.0;
    params->row_subsample = 1.0;
    params->feature_subsample = 1.0;
    params->max_bins = 255;
    params->early_stopping_rounds = 50;
    params->linear_l2 = 1.0;
    params->seed = 7;
    params->threads = 0;
}

ln_model *learn_model_new(ln_learner learner, size_t n_features)
{
    ln_model *model = calloc(1, sizeof *model);
    if (model == NULL)
        return NULL;

    model->learner = learner;
    model->n_features = n_features;
    model->features = calloc(n_features ? n_features : 1, sizeof *model->features);
    if (model->features == NULL) {
        free(model);
        return NULL;
    }
    return model;
}

void learn_feature_clear(learn_feature *feature)
{
    free(feature->name);
    free(feature->edges);
    for (int32_t i = 0; i < feature->n_categories; i++)
        free(feature->categories[i]);
    free(feature->categories);
    ln_dict_release(feature->category_dict);
    memset(feature, 0, sizeof *feature);
}

void learn_tree_clear(learn_tree *tree)
{
    free(tree->nodes);
    free(tree->cat_sets);
    memset(tree, 0, sizeof *tree);
}

void ln_model_free(ln_model *model)
{
    if (model == NULL)
        return;

    for (size_t f = 0; f < model->n_features; f++) {
        learn_feature_clear(&model->features[f]);
        if (model->linear != NULL)
            free(model->linear[f].weights);
    }
    free(model->features);
    free(model->linear);
    for (int t = 0; t < model->n_trees; t++)
        learn_tree_clear(&model->trees[t]);
    free(model->trees);
    free(model->metadata);
    free(model);
}

/* Takes ownership of categories (n strings) and indexes them in a dictionary. */
ln_status learn_feature_set_categories(learn_feature *feature, char **categories, int32_t n, ln_error *err)
{
    feature->categories = categories;
    feature->n_categories = n;
    feature->category_dict = ln_dict_new();
    if (feature->category_dict == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory indexing the categories of '%s'", feature->name);

    for (int32_t i = 0; i < n; i++) {
        int32_t code = ln_dict_intern(feature->category_dict, categories[i], strlen(categories[i]));
        if (code < 0)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory indexing the categories of '%s'",
                                feature->name);
        if (code != i)
            return ln_error_set(err, LN_ERR_CORRUPT, "feature '%s': category '%s' appears twice",
                                feature->name, categories[i]);
    }
    return LN_OK;
}

ln_status learn_match_columns(const ln_model *model, const ln_table *table, const char *what,
                              const ln_column **columns, ln_error *err)
{
    for (size_t f = 0; f < model->n_features; f++) {
        const learn_feature *feature = &model->features[f];
        int index = ln_table_find(table, feature->name);
        if (index < 0)
            return ln_error_set(err, LN_ERR_NOT_FOUND, "%s has no column '%s', a feature of the model", what,
                                feature->name);

        const ln_column *column = &table->cols[index];
        int want_category = feature->type == LN_TYPE_CATEGORY;
        /* A text column is accepted for a category feature because values are matched by string. */
        if (want_category && column->type != LN_TYPE_CATEGORY && column->type != LN_TYPE_TEXT)
            return ln_error_set(err, LN_ERR_DATA,
                                "%s: column '%s' is %s, but the model was trained on it as a category", what,
                                feature->name, ln_type_name(column->type));
        if (!want_category && !ln_type_is_numeric(column->type))
            return ln_error_set(err, LN_ERR_DATA,
                                "%s: column '%s' is %s, but the model was trained on it as a number "
                                "(convert the column to a numeric type)",
                                what, feature->name, ln_type_name(column->type));
        columns[f] = column;
    }
    return LN_OK;
}

ln_status learn_category_bin_map(const learn_feature *feature, const ln_column *column, uint8_t **map,
                                 ln_error *err)
{
    int32_t count = column->dict != NULL ? ln_dict_count(column->dict) : 0;
    uint8_t *bins = malloc((size_t)count + 1);
    if (bins == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory mapping the categories of '%s'", feature->name);

    /* bins[0] is for code -1 (missing), so callers index map[code + 1]. */
    bins[0] = LEARN_MISSING_BIN;
    for (int32_t code = 0; code < count; code++) {
        const char *text = ln_dict_string(column->dict, code);
        size_t length = ln_dict_string_length(column->dict, code);
        int32_t index = ln_dict_find(feature->category_dict, text, length);
        bins[code + 1] = index < 0 ? LEARN_OTHER_BIN : (uint8_t)(LEARN_FIRST_CATEGORY_BIN + index);
    }
    *map = bins;
    return LN_OK;
}

static ln_status check_params(const ln_train_params *p, ln_error *err)
{
    if (p->learner != LN_LEARNER_GBDT && p->learner != LN_LEARNER_LINEAR)
        return ln_error_set(err, LN_ERR_CONFIG, "unknown learner %d (expected gbdt or linear)", (int)p->learner);
    if (p->trees < 1 || p->trees > LN_MAX_TREES)
        return ln_error_set(err, LN_ERR_CONFIG, "trees is %d; expected 1 to %d", p->trees, LN_MAX_TREES);
    if (p->max_leaves < 2 || p->max_leaves > 65536)
        return ln_error_set(err, LN_ERR_CONFIG, "max_leaves is %d; expected 2 to 65536", p->max_leaves);
    if (p->max_depth < 0 || p->max_depth > 64)
        return ln_error_set(err, LN_ERR_CONFIG, "max_depth is %d; expected 0 (no limit) to 64", p->max_depth);
    if (!(p->learning_rate > 0 && p->learning_rate <= 1))
        return ln_error_set(err, LN_ERR_CONFIG, "learning_rate is %g; expected a number in (0, 1]",
                            p->learning_rate);
    if (p->min_data_in_leaf < 1)
        return ln_error_set(err, LN_ERR_CONFIG, "min_data_in_leaf is %d; expected at least 1",
                            p->min_data_in_leaf);
    if (!(p->min_sum_hessian >= 0 && isfinite(p->min_sum_hessian)))
        return ln_error_set(err, LN_ERR_CONFIG, "min_sum_hessian is %g; expected a finite number >= 0",
                            p->min_sum_hessian);
    if (!(p->lambda_l1 >= 0 && isfinite(p->lambda_l1)) || !(p->lambda_l2 >= 0 && isfinite(p->lambda_l2)))
        return ln_error_set(err, LN_ERR_CONFIG, "lambda_l1 %g and lambda_l2 %g must be finite numbers >= 0",
                            p->lambda_l1, p->lambda_l2);
    if (!(p->min_gain_to_split >= 0 && isfinite(p->min_gain_to_split)))
        return ln_error_set(err, LN_ERR_CONFIG, "min_gain_to_split is %g; expected a finite number >= 0",
                            p->min_gain_to_split);
    if (!(p->row_subsample > 0 && p->row_subsample <= 1))
        return ln_error_set(err, LN_ERR_CONFIG, "row_subsample is %g; expected a fraction in (0, 1]",
                            p->row_subsample);
    if (!(p->feature_subsample > 0 && p->feature_subsample <= 1))
        return ln_error_set(err, LN_ERR_CONFIG, "feature_subsample is %g; expected a fraction in (0, 1]",
                            p->feature_subsample);
    if (p->max_bins < 2 || p->max_bins > LN_LEARN_MAX_BINS)
        return ln_error_set(err, LN_ERR_CONFIG, "max_bins is %d; expected 2 to %d", p->max_bins,
                            LN_LEARN_MAX_BINS);
    if (p->early_stopping_rounds < 0)
        return ln_error_set(err, LN_ERR_CONFIG, "early_stopping_rounds is %d; expected 0 (off) or more",
                            p->early_stopping_rounds);
    if (!(p->linear_l2 >= 0 && isfinite(p->linear_l2)))
        return ln_error_set(err, LN_ERR_CONFIG, "linear_l2 is %g; expected a finite number >= 0", p->linear_l2);
    if (p->threads < 0 || p->threads > 1024)
        return ln_error_set(err, LN_ERR_CONFIG, "threads is %d; expected 0 (all cores) to 1024", p->threads);
    return LN_OK;
}

static ln_status check_labels(const double *labels, size_t n_rows, const char *what, int need_both,
                              ln_error *err)
{
    size_t positives = 0;

    for (size_t i = 0; i < n_rows; i++) {
        if (labels[i] != 0.0 && labels[i] != 1.0)
            return ln_error_set(err, LN_ERR_DATA, "%s label of row %zu is %g; expected 0 or 1", what, i + 1,
                                labels[i]);
        positives += labels[i] == 1.0;
    }
    if (need_both && (positives == 0 || positives == n_rows))
        return ln_error_set(err, LN_ERR_DATA, "%s labels are all %s; training needs both classes", what,
                            positives == 0 ? "0" : "1");
    return LN_OK;
}

/* Creates the model's feature list from the training columns. */
static ln_status setup_features(ln_model *model, const ln_table *train, const char *const *names,
                                const ln_column **columns, ln_error *err)
{
    for (size_t f = 0; f < model->n_features; f++) {
        if (names[f] == NULL)
            return ln_error_set(err, LN_ERR_CONFIG, "feature name %zu is NULL", f);
        for (size_t g = 0; g < f; g++)
            if (strcmp(names[f], names[g]) == 0)
                return ln_error_set(err, LN_ERR_CONFIG, "feature '%s' is listed twice", names[f]);

        int index = ln_table_find(train, names[f]);
        if (index < 0)
            return ln_error_set(err, LN_ERR_NOT_FOUND, "training table has no column '%s'", names[f]);
        const ln_column *column = &train->cols[index];
        if (column->type == LN_TYPE_TEXT)
            return ln_error_set(err, LN_ERR_DATA,
                                "column '%s' is text and cannot be a feature (convert it to a category)",
                                names[f]);

        model->features[f].name = strdup(names[f]);
        if (model->features[f].name == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory");
        model->features[f].type = column->type;
        columns[f] = column;
    }
    return LN_OK;
}

ln_status ln_model_train(const ln_train_params *params, const ln_table *train, const double *train_labels,
                         const char *const *feature_names, size_t n_features, const ln_table *valid,
                         const double *valid_labels, ln_model **out, ln_error *err)
{
    ln_train_params defaults;
    if (params == NULL) {
        ln_train_params_default(&defaults);
        params = &defaults;
    }
    *out = NULL;

    ln_status status = check_params(params, err);
    if (status != LN_OK)
        return status;
    if (train == NULL || train_labels == NULL || (n_features > 0 && feature_names == NULL))
        return ln_error_set(err, LN_ERR_CONFIG, "training table, labels and feature names are required");
    if (train->n_rows == 0)
        return ln_error_set(err, LN_ERR_DATA, "training table has no rows");
    if (train->n_rows > LN_LEARN_MAX_ROWS)
        return ln_error_set(err, LN_ERR_LIMIT, "training table has %zu rows; the limit is %u", train->n_rows,
                            LN_LEARN_MAX_ROWS);
    if (n_features == 0)
        return ln_error_set(err, LN_ERR_CONFIG, "no features given");
    if (n_features > LN_LEARN_MAX_FEATURES)
        return ln_error_set(err, LN_ERR_LIMIT, "%zu features; the limit is %d", n_features,
                            LN_LEARN_MAX_FEATURES);
    if ((valid == NULL) != (valid_labels == NULL))
        return ln_error_set(err, LN_ERR_CONFIG, "validation table and validation labels go together");

    status = check_labels(train_labels, train->n_rows, "training", 1, err);
    if (status != LN_OK)
        return status;
    if (valid != NULL) {
        status = check_labels(valid_labels, valid->n_rows, "validation", 0, err);
        if (status != LN_OK)
            return status;
    }

    ln_model *model = learn_model_new(params->learner, n_features);
    const ln_column **columns = calloc(n_features, sizeof *columns);
    learn_pool *pool = learn_pool_new(params->threads);
    if (model == NULL || columns == NULL || pool == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory starting training");
        goto done;
    }

    status = setup_features(model, train, feature_names, columns, err);
    if (status != LN_OK)
        goto done;

    if (params->learner == LN_LEARNER_GBDT)
        status = gbdt_train(params, model, train, train_labels, columns, valid, valid_labels, pool, err);
    else
        status = linear_train(params, model, train, train_labels, columns, pool, err);

done:
    learn_pool_free(pool);
    free(columns);
    if (status != LN_OK) {
        ln_model_free(model);
        return status;
    }
    *out = model;
    return LN_OK;
}

size_t ln_model_feature_count(const ln_model *model)
{
    return model->n_features;
}

const char *ln_model_feature_name(const ln_model *model, size_t index)
{
    return index < model->n_features ? model->features[index].name : NULL;
}

ln_type ln_model_feature_type(const ln_model *model, size_t index)
{
    return index < model->n_features ? model->features[index].type : LN_TYPE_FLOAT;
}

ln_learner ln_model_learner(const ln_model *model)
{
    return model->learner;
}

int ln_model_tree_count(const ln_model *model)
{
    return model->n_trees;
}

void ln_model_feature_importance(const ln_model *model, double *importance)
{
    double total = 0;

    for (size_t f = 0; f < model->n_features; f++)
        importance[f] = 0;

    if (model->learner == LN_LEARNER_GBDT) {
        for (int t = 0; t < model->n_trees; t++) {
            const learn_tree *tree = &model->trees[t];
            for (int32_t i = 0; i < tree->n_nodes; i++)
                if (tree->nodes[i].feature >= 0)
                    importance[tree->nodes[i].feature] += tree->nodes[i].gain;
        }
    } else if (model->linear != NULL) {
        for (size_t f = 0; f < model->n_features; f++)
            for (int w = 0; w < model->linear[f].n_weights; w++)
                importance[f] += fabs(model->linear[f].weights[w]);
    }

    for (size_t f = 0; f < model->n_features; f++)
        total += importance[f];
    if (total > 0)
        for (size_t f = 0; f < model->n_features; f++)
            importance[f] /= total;
}

ln_status ln_model_set_metadata(ln_model *model, const char *text, ln_error *err)
{
    char *copy = NULL;

    if (text != NULL) {
        size_t length = strlen(text);
        if (length > LN_LEARN_MAX_METADATA_BYTES)
            return ln_error_set(err, LN_ERR_LIMIT, "model metadata is %zu bytes; the limit is %u", length,
                                LN_LEARN_MAX_METADATA_BYTES);
        copy = strdup(text);
        if (copy == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory copying model metadata");
    }
    free(model->metadata);
    model->metadata = copy;
    return LN_OK;
}

const char *ln_model_metadata(const ln_model *model)
{
    return model->metadata != NULL ? model->metadata : "";
}
