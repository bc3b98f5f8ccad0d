/*
 * The cached steps of lanner run. Each step hashes its inputs into a key
 * (cache.h): the keys of the steps it depends on, the pipeline settings it
 * reads and, for load, the bytes of the data. A step whose key has an entry
 * in the cache takes its result from there instead of recomputing it.
 *
 *   load      the data file's bytes (or the SQLite file's bytes and query) and the data section
 *   contract  load's key and the contract file's bytes
 *   split     load's key, target, positive, id, time, ignore and the split section
 *   baseline  split's key and the rule
 *   train     split's key, the features and the model section (its result: the model and its
 *             valid and test scores)
 *   evaluate  train's and baseline's keys, outcome, slices, evaluation, gate, downstream and the
 *             production model's hash; always recomputed (it is cheap and reads the registry)
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lanner/hash.h"
#include "lanner/io.h"
#include "lanner/log.h"
#include "pipeline/run_internal.h"

void run_record_step(run_context *run, const char *name, const char *key, int reused, double seconds)
{
    ln_run_result *result = run->result;

    if (result->n_steps >= LN_RUN_MAX_STEPS)
        return;
    ln_step_record *step = &result->steps[result->n_steps++];
    snprintf(step->name, sizeof step->name, "%s", name);
    snprintf(step->key, sizeof step->key, "%s", key);
    step->reused = reused;
    step->seconds = seconds;
    ln_log(LN_LOG_INFO, "step %s %s (key %.12s, %.3f s)", name, reused ? "reused from the cache" : "ran", key,
           seconds);
}

ln_status run_open_cache(run_context *run, ln_error *err)
{
    char base[PATH_MAX];
    char dir[PATH_MAX];
    ln_status status;

    if (!run->options->use_cache) {
        cache_open(&run->cache, "", 0);
        return LN_OK;
    }
    /* Beside the pipeline by default, and inside --runs-dir when given, so a run of a pipeline that lives in a
     * read-only or shared folder can keep its cache with its runs. */
    if (run->options->cache_dir != NULL) {
        status = ln_path_join(NULL, run->options->cache_dir, dir, sizeof dir, err);
    } else {
        status = run_runs_base(run, base, sizeof base, err);
        if (status == LN_OK)
            status = ln_path_join(run->options->runs_dir != NULL ? base : run->pipeline->dir, ".lanner-cache", dir,
                                  sizeof dir, err);
    }
    if (status == LN_OK)
        cache_open(&run->cache, dir, 1);
    return status;
}

/* Reads a cache entry; a damaged one is logged and counts as a miss. Returns 1 on a hit. */
static int read_entry(run_context *run, const char *step, const char *key, unsigned char **payload, size_t *size)
{
    ln_error local = {0};

    if (!run->cache.enabled)
        return 0;
    ln_status status = cache_read(&run->cache, step, key, payload, size, &local);
    if (status == LN_ERR_CORRUPT)
        ln_log(LN_LOG_WARN, "ignoring the cached %s result, which will be recomputed: %s", step, local.message);
    return status == LN_OK;
}

/* ---- load ---- */

static void add_load_options(cache_blob *key, const ln_pipeline *pipeline)
{
    char text[64];

    snprintf(text, sizeof text, "%d", pipeline->load.delimiter);
    cache_key_text(key, "delimiter", text);
    cache_key_number(key, "decimal_comma", pipeline->load.decimal_comma);
    cache_key_number(key, "missing_markers", pipeline->missing_markers != NULL ? (double)pipeline->n_missing_markers
                                                                               : -1);
    for (size_t i = 0; i < pipeline->n_missing_markers; i++)
        cache_key_text(key, "missing", pipeline->missing_markers[i]);
    for (size_t i = 0; i < pipeline->n_schema; i++) {
        cache_key_text(key, "schema_column", pipeline->schema_names[i]);
        cache_key_text(key, "schema_type", ln_type_name(pipeline->schema_types[i]));
    }
}

/*
 * Adds what identifies the data's content. A file's bytes are hashed every
 * run (XXH3 reads several GB/s), so an edit that keeps the size and time of
 * a file still changes the key. SQLite adds its -wal file, which may hold
 * committed rows not yet in the main file. Returns 0 for postgres, whose
 * content cannot be known before running the query.
 */
static int add_content(run_context *run, const run_source *source, cache_blob *key, ln_error *err, ln_status *status)
{
    char hex[LN_HASH_HEX_SIZE];
    char wal[PATH_MAX + 8];
    struct stat info;

    *status = LN_OK;
    if (source->kind == RUN_SOURCE_POSTGRES)
        return 0;

    cache_key_text(key, "source", source->kind == RUN_SOURCE_CSV ? "csv" : "sqlite");
    *status = cache_hash_file(source->path, hex, err);
    if (*status != LN_OK) {
        ln_error_prefix(err, "%s: loading data", run->pipeline->path);
        return 0;
    }
    cache_key_text(key, "content", hex);
    if (source->kind == RUN_SOURCE_SQLITE) {
        cache_key_text(key, "query", run->pipeline->data_query);
        snprintf(wal, sizeof wal, "%s-wal", source->path);
        if (stat(wal, &info) == 0 && cache_hash_file(wal, hex, err) == LN_OK)
            cache_key_text(key, "wal", hex);
        else
            cache_key_text(key, "wal", NULL);
    }
    return 1;
}

static ln_status postgres_key(run_context *run, const run_source *source, ln_error *err)
{
    cache_blob key;

    cache_key_init(&key, "load");
    cache_key_text(&key, "source", "postgres");
    cache_key_text(&key, "url", source->path);
    cache_key_text(&key, "query", run->pipeline->data_query);
    cache_key_text(&key, "table", run->result->data_hash);
    add_load_options(&key, run->pipeline);
    return cache_key_finish(&key, run->keys.load, err);
}

ln_status run_step_load(run_context *run, ln_error *err)
{
    double started = run_seconds_now();
    run_source source;
    cache_blob key;
    unsigned char *payload = NULL;
    size_t size = 0;
    int reused = 0;

    ln_status status = run_describe_source(run, &source, err);
    if (status != LN_OK)
        return status;

    cache_key_init(&key, "load");
    int cacheable = add_content(run, &source, &key, err, &status);
    add_load_options(&key, run->pipeline);
    if (status != LN_OK) {
        cache_blob_free(&key);
        return status;
    }
    status = cache_key_finish(&key, run->keys.load, err);

    if (status == LN_OK && cacheable && read_entry(run, "load", run->keys.load, &payload, &size)) {
        cache_reader reader = {payload, size, 0, 0};
        ln_error local = {0};
        if (cache_get_table(&reader, &run->data, &local) == LN_OK)
            reused = 1;
        else
            ln_log(LN_LOG_WARN, "ignoring the cached load result, which will be recomputed: %s", local.message);
        free(payload);
    }
    if (status == LN_OK && !reused) {
        status = run_read_source(run, &source, err);
        if (status == LN_OK && cacheable && run->cache.enabled) {
            cache_blob blob;
            cache_blob_init(&blob, CACHE_MAX_ENTRY_BYTES);
            cache_put_table(&blob, run->data);
            cache_write(&run->cache, "load", run->keys.load, &blob);
            cache_blob_free(&blob);
        }
    }
    if (status != LN_OK)
        return status;

    ln_hash_table(run->data, run->result->data_hash);
    if (!cacheable)
        status = postgres_key(run, &source, err);
    if (status == LN_OK)
        run_record_step(run, "load", run->keys.load, reused, run_seconds_now() - started);
    return status;
}

/* ---- contract ---- */

static void free_strings(char **strings, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

/* Reads a cached contract result: error count, first error and warnings. Returns 1 when it parses. */
static int read_contract_entry(run_context *run, unsigned char *payload, size_t size, char ***warnings, size_t *n)
{
    cache_reader reader = {payload, size, 0, 0};
    uint64_t errors = cache_get_u64(&reader);
    char *first = cache_get_string(&reader);
    uint64_t count = cache_get_u64(&reader);

    *warnings = NULL;
    *n = 0;
    if (reader.failed || count > size) {
        free(first);
        return 0;
    }
    *warnings = calloc(count ? count : 1, sizeof **warnings);
    for (uint64_t i = 0; *warnings != NULL && i < count && !reader.failed; i++) {
        char *text = cache_get_string(&reader);
        if (text != NULL)
            (*warnings)[(*n)++] = text;
    }
    if (reader.failed || *warnings == NULL) {
        free(first);
        free_strings(*warnings, *n);
        *warnings = NULL;
        *n = 0;
        return 0;
    }
    run->contract_errors = (size_t)errors;
    snprintf(run->contract_first_error, sizeof run->contract_first_error, "%s", first);
    free(first);
    return 1;
}

static void write_contract_entry(run_context *run, char **warnings, size_t n)
{
    cache_blob blob;

    cache_blob_init(&blob, CACHE_MAX_ENTRY_BYTES);
    cache_put_u64(&blob, run->contract_errors);
    cache_put_string(&blob, run->contract_first_error);
    cache_put_u64(&blob, n);
    for (size_t i = 0; i < n; i++)
        cache_put_string(&blob, warnings[i]);
    cache_write(&run->cache, "contract", run->keys.contract, &blob);
    cache_blob_free(&blob);
}

ln_status run_step_contract(run_context *run, ln_error *err)
{
    double started = run_seconds_now();
    char path[PATH_MAX];
    char **warnings = NULL;
    size_t n_warnings = 0;
    unsigned char *payload = NULL;
    size_t size = 0;
    int reused = 0;
    cache_blob key;

    if (run->pipeline->contract == NULL)
        return LN_OK;
    ln_status status = run_read_contract(run, path, sizeof path, err);
    if (status != LN_OK)
        return status;

    cache_key_init(&key, "contract");
    cache_key_text(&key, "load", run->keys.load);
    cache_key_text(&key, "contract_name", run->pipeline->contract);
    cache_key_text(&key, "contract", run->contract_hash);
    status = cache_key_finish(&key, run->keys.contract, err);

    if (status == LN_OK && read_entry(run, "contract", run->keys.contract, &payload, &size))
        reused = read_contract_entry(run, payload, size, &warnings, &n_warnings);
    free(payload);
    if (status == LN_OK && !reused) {
        status = run_validate_contract(run, path, &warnings, &n_warnings, err);
        if (status == LN_OK)
            write_contract_entry(run, warnings, n_warnings);
    }
    if (status == LN_OK) {
        run_record_step(run, "contract", run->keys.contract, reused, run_seconds_now() - started);
        status = run_apply_contract(run, warnings, n_warnings, err);
    }
    free_strings(warnings, n_warnings);
    return status;
}

/* ---- split ---- */

static ln_status split_key(run_context *run, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;
    cache_blob key;

    cache_key_init(&key, "split");
    cache_key_text(&key, "load", run->keys.load);
    cache_key_text(&key, "target", pipeline->target);
    cache_key_text(&key, "positive", pipeline->positive);
    cache_key_text(&key, "id", pipeline->id);
    cache_key_text(&key, "time", pipeline->time);
    for (size_t i = 0; i < pipeline->n_ignore; i++)
        cache_key_text(&key, "ignore", pipeline->ignore[i]);
    cache_key_number(&key, "valid", pipeline->valid_share);
    cache_key_number(&key, "test", pipeline->test_share);
    cache_key_unsigned(&key, "seed", pipeline->split_seed);
    return cache_key_finish(&key, run->keys.split, err);
}

static size_t *read_rows(cache_reader *reader, size_t n, size_t n_rows)
{
    const size_t *stored = n <= SIZE_MAX / sizeof *stored ? cache_get_bytes(reader, n * sizeof *stored) : NULL;
    size_t *rows = NULL;

    if (stored != NULL)
        rows = malloc((n ? n : 1) * sizeof *rows);
    if (rows == NULL) {
        reader->failed = 1;
        return NULL;
    }
    memcpy(rows, stored, n * sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        if (rows[i] >= n_rows) {
            reader->failed = 1;
            free(rows);
            return NULL;
        }
    }
    return rows;
}

/* Restores the split rows, description and leakage warnings. Returns 1 when the entry parses. */
static int read_split_entry(run_context *run, unsigned char *payload, size_t size)
{
    cache_reader reader = {payload, size, 0, 0};
    size_t n_rows = run->data->n_rows;
    split_rows *rows = &run->rows;

    rows->n_train = (size_t)cache_get_u64(&reader);
    rows->n_valid = (size_t)cache_get_u64(&reader);
    rows->n_test = (size_t)cache_get_u64(&reader);
    if (reader.failed || rows->n_train > n_rows || rows->n_valid > n_rows || rows->n_test > n_rows) {
        memset(rows, 0, sizeof *rows);
        return 0;
    }
    rows->train = read_rows(&reader, rows->n_train, n_rows);
    rows->valid = read_rows(&reader, rows->n_valid, n_rows);
    rows->test = read_rows(&reader, rows->n_test, n_rows);
    char *description = cache_get_string(&reader);
    uint64_t n_warnings = cache_get_u64(&reader);
    char **warnings = !reader.failed && n_warnings <= RUN_MAX_WARNINGS ? calloc(n_warnings + 1, sizeof *warnings)
                                                                       : NULL;
    for (uint64_t i = 0; warnings != NULL && i < n_warnings; i++)
        warnings[i] = cache_get_string(&reader);

    int ok = !reader.failed && warnings != NULL;
    if (ok) {
        snprintf(run->split_description, sizeof run->split_description, "%s", description);
        for (uint64_t i = 0; i < n_warnings; i++)
            run_warn(run, "%s", warnings[i]);
    } else {
        split_rows_free(rows);
        memset(rows, 0, sizeof *rows);
    }
    free(description);
    if (warnings != NULL)
        free_strings(warnings, (size_t)n_warnings);
    return ok;
}

static void write_split_entry(run_context *run, size_t first_warning)
{
    const split_rows *rows = &run->rows;
    cache_blob blob;

    cache_blob_init(&blob, CACHE_MAX_ENTRY_BYTES);
    cache_put_u64(&blob, rows->n_train);
    cache_put_u64(&blob, rows->n_valid);
    cache_put_u64(&blob, rows->n_test);
    cache_put_bytes(&blob, rows->train, rows->n_train * sizeof *rows->train);
    cache_put_bytes(&blob, rows->valid, rows->n_valid * sizeof *rows->valid);
    cache_put_bytes(&blob, rows->test, rows->n_test * sizeof *rows->test);
    cache_put_string(&blob, run->split_description);
    cache_put_u64(&blob, run->n_warnings - first_warning);
    for (size_t i = first_warning; i < run->n_warnings; i++)
        cache_put_string(&blob, run->warnings[i]);
    cache_write(&run->cache, "split", run->keys.split, &blob);
    cache_blob_free(&blob);
}

ln_status run_step_split(run_context *run, ln_error *err)
{
    double started = run_seconds_now();
    unsigned char *payload = NULL;
    size_t size = 0;
    int reused = 0;

    ln_status status = split_key(run, err);
    if (status == LN_OK && read_entry(run, "split", run->keys.split, &payload, &size))
        reused = read_split_entry(run, payload, size);
    free(payload);
    if (status != LN_OK)
        return status;

    if (reused) {
        status = run_fill_splits(run, err);
        if (status == LN_OK)
            run_record_step(run, "split", run->keys.split, 1, run_seconds_now() - started);
        return status;
    }

    /* The leakage warnings are part of the split's result, so a reused split repeats them. */
    size_t first_warning = run->n_warnings;
    status = run_make_split_rows(run, err);
    if (status == LN_OK)
        status = run_fill_splits(run, err);
    if (status == LN_OK)
        status = run_check_leakage(run, err);
    if (status == LN_OK && run->cache.enabled)
        write_split_entry(run, first_warning);
    if (status == LN_OK)
        run_record_step(run, "split", run->keys.split, 0, run_seconds_now() - started);
    return status;
}

/* ---- baseline ---- */

ln_status run_step_baseline(run_context *run, ln_error *err)
{
    double started = run_seconds_now();
    size_t n = run->test.table->n_rows;
    size_t undecided = 0;
    unsigned char *payload = NULL;
    size_t size = 0;
    int reused = 0;
    cache_blob key;

    cache_key_init(&key, "baseline");
    cache_key_text(&key, "split", run->keys.split);
    cache_key_text(&key, "rule", run->pipeline->baseline_rule);
    ln_status status = cache_key_finish(&key, run->keys.baseline, err);

    if (status == LN_OK && read_entry(run, "baseline", run->keys.baseline, &payload, &size)) {
        cache_reader reader = {payload, size, 0, 0};
        uint64_t stored_rows = cache_get_u64(&reader);
        undecided = (size_t)cache_get_u64(&reader);
        const unsigned char *flags = stored_rows == n ? cache_get_bytes(&reader, n) : NULL;
        run->baseline_flags = NULL;
        if (flags != NULL)
            run->baseline_flags = malloc(n ? n : 1);
        if (run->baseline_flags != NULL) {
            memcpy(run->baseline_flags, flags, n);
            reused = 1;
        }
    }
    free(payload);
    if (status == LN_OK && !reused) {
        status = run_rule_flags(run, &undecided, err);
        if (status == LN_OK && run->cache.enabled) {
            cache_blob blob;
            cache_blob_init(&blob, CACHE_MAX_ENTRY_BYTES);
            cache_put_u64(&blob, n);
            cache_put_u64(&blob, undecided);
            cache_put_bytes(&blob, run->baseline_flags, n);
            cache_write(&run->cache, "baseline", run->keys.baseline, &blob);
            cache_blob_free(&blob);
        }
    }
    if (status == LN_OK)
        status = run_summarise_baseline(run, undecided, err);
    if (status == LN_OK)
        run_record_step(run, "baseline", run->keys.baseline, reused, run_seconds_now() - started);
    return status;
}

/* ---- train ---- */

static void add_tree_settings(cache_blob *key, const ln_train_params *train)
{
    cache_key_number(key, "trees", train->trees);
    cache_key_number(key, "max_leaves", train->max_leaves);
    cache_key_number(key, "max_depth", train->max_depth);
    cache_key_number(key, "learning_rate", train->learning_rate);
    cache_key_number(key, "min_data_in_leaf", train->min_data_in_leaf);
    cache_key_number(key, "min_sum_hessian", train->min_sum_hessian);
    cache_key_number(key, "l1", train->lambda_l1);
    cache_key_number(key, "l2", train->lambda_l2);
    cache_key_number(key, "min_gain_to_split", train->min_gain_to_split);
    cache_key_number(key, "row_subsample", train->row_subsample);
    cache_key_number(key, "feature_subsample", train->feature_subsample);
    cache_key_number(key, "max_bins", train->max_bins);
    cache_key_number(key, "cat_smooth", train->cat_smooth);
    cache_key_number(key, "cat_l2", train->cat_l2);
    cache_key_number(key, "min_data_per_category", train->min_data_per_category);
    cache_key_number(key, "early_stopping_rounds", train->early_stopping_rounds);
    cache_key_unsigned(key, "seed", train->seed);
}

/*
 * NOTE: the key covers the model keys a pipeline file can set. A learner
 * default that changes between builds is covered by the lanner version in
 * every key, not by its own entry.
 */
static ln_status train_key(run_context *run, ln_error *err)
{
    const ln_train_params *train = &run->pipeline->train;
    cache_blob key;

    cache_key_init(&key, "train");
    cache_key_text(&key, "split", run->keys.split);
    for (size_t i = 0; i < run->n_features; i++) {
        cache_key_text(&key, "feature", run->features[i]);
        cache_key_text(&key, "type", ln_type_name(ln_table_column(run->data, run->features[i])->type));
    }
    cache_key_number(&key, "learner", train->learner);
    cache_key_number(&key, "min_category_rows", train->min_category_rows);
    cache_key_number(&key, "scale_pos_weight", train->scale_pos_weight);
    cache_key_number(&key, "calibration", train->calibration);
    /* Logistic regression reads none of the tree settings, so changing them does not retrain it. */
    if (train->learner == LN_LEARNER_LINEAR)
        cache_key_number(&key, "linear_l2", train->linear_l2);
    else
        add_tree_settings(&key, train);
    /* The thread count is left out: training gives the same model on any number of threads. */
    return cache_key_finish(&key, run->keys.train, err);
}

static int load_cached_model(run_context *run)
{
    char path[PATH_MAX];
    ln_error local = {0};

    if (!run->cache.enabled || cache_entry_path(&run->cache, "train", run->keys.train, ".lnr", path, sizeof path,
                                                &local) != LN_OK)
        return 0;
    if (access(path, F_OK) == 0 && !cache_entry_is_file(path)) {
        ln_log(LN_LOG_WARN, "ignoring the cached model %s, which is not a regular file", path);
        return 0;
    }
    ln_status status = ln_model_load(path, &run->model, &local);
    if (status == LN_ERR_CORRUPT)
        ln_log(LN_LOG_WARN, "ignoring the cached model, which will be trained again: %s", local.message);
    if (status != LN_OK)
        return 0;
    cache_touch(path);
    run->result->trees = run->pipeline->train.learner == LN_LEARNER_GBDT ? ln_model_tree_count(run->model) : 0;
    return 1;
}

static void store_model(run_context *run)
{
    char path[PATH_MAX];
    ln_error local = {0};

    if (!run->cache.enabled)
        return;
    /* ln_model_save writes a temporary file and renames it, and the model file carries its own checksum. */
    if (ln_make_dirs(run->cache.dir, &local) != LN_OK ||
        cache_entry_path(&run->cache, "train", run->keys.train, ".lnr", path, sizeof path, &local) != LN_OK ||
        cache_clear_entry_path(path, &local) != LN_OK || ln_model_save(run->model, path, &local) != LN_OK)
        ln_log(LN_LOG_WARN, "the trained model is not cached: %s", local.message);
}

/* Reads the cached valid and test scores of the model; returns 1 when both fit the splits. */
static int load_cached_scores(run_context *run)
{
    unsigned char *payload = NULL;
    size_t size = 0;
    size_t n_valid = run->valid.table->n_rows, n_test = run->test.table->n_rows;

    if (!read_entry(run, "scores", run->keys.train, &payload, &size))
        return 0;
    cache_reader reader = {payload, size, 0, 0};
    int fits = cache_get_u64(&reader) == n_valid && cache_get_u64(&reader) == n_test;
    const void *valid = fits ? cache_get_bytes(&reader, n_valid * sizeof(double)) : NULL;
    const void *test = valid != NULL ? cache_get_bytes(&reader, n_test * sizeof(double)) : NULL;
    if (test != NULL) {
        run->valid_scores = malloc((n_valid ? n_valid : 1) * sizeof(double));
        run->test_scores = malloc((n_test ? n_test : 1) * sizeof(double));
    }
    int loaded = test != NULL && run->valid_scores != NULL && run->test_scores != NULL;
    if (loaded) {
        memcpy(run->valid_scores, valid, n_valid * sizeof(double));
        memcpy(run->test_scores, test, n_test * sizeof(double));
    } else {
        free(run->valid_scores);
        free(run->test_scores);
        run->valid_scores = run->test_scores = NULL;
    }
    free(payload);
    return loaded;
}

/* Scores the splits with the model; the scores are cached under the train key, as they follow from the model. */
static ln_status score_splits(run_context *run, int model_reused, ln_error *err)
{
    if (model_reused && load_cached_scores(run))
        return LN_OK;

    ln_status status = run_score_split(run, &run->valid, &run->valid_scores, err);
    if (status == LN_OK)
        status = run_score_split(run, &run->test, &run->test_scores, err);
    if (status == LN_OK && run->cache.enabled) {
        size_t n_valid = run->valid.table->n_rows, n_test = run->test.table->n_rows;
        cache_blob blob;
        cache_blob_init(&blob, CACHE_MAX_ENTRY_BYTES);
        cache_put_u64(&blob, n_valid);
        cache_put_u64(&blob, n_test);
        cache_put_bytes(&blob, run->valid_scores, n_valid * sizeof(double));
        cache_put_bytes(&blob, run->test_scores, n_test * sizeof(double));
        cache_write(&run->cache, "scores", run->keys.train, &blob);
        cache_blob_free(&blob);
    }
    return status;
}

ln_status run_step_train(run_context *run, ln_error *err)
{
    double started = run_seconds_now();

    ln_status status = train_key(run, err);
    if (status != LN_OK)
        return status;

    int reused = load_cached_model(run);
    if (!reused) {
        status = run_train_model(run, err);
        if (status == LN_OK)
            store_model(run);
    }
    if (status == LN_OK)
        status = score_splits(run, reused, err);
    if (status == LN_OK)
        run_record_step(run, "train", run->keys.train, reused, run_seconds_now() - started);
    return status;
}

/* ---- evaluate ---- */

static void add_action(cache_blob *key, const ln_action_spec *action)
{
    cache_key_text(key, "action", action->name);
    cache_key_text(key, "if_positive", action->payoff_if_positive);
    cache_key_text(key, "if_negative", action->payoff_if_negative);
    cache_key_number(key, "max_rate", action->max_rate);
}

static ln_status evaluate_key(run_context *run, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;
    cache_blob key;

    cache_key_init(&key, "evaluate");
    cache_key_text(&key, "train", run->keys.train);
    cache_key_text(&key, "baseline", run->keys.baseline);
    for (size_t k = 0; k < pipeline->n_actions; k++)
        add_action(&key, &pipeline->actions[k]);
    add_action(&key, &pipeline->fallback);
    cache_key_number(&key, "max_flag_rate", pipeline->max_flag_rate);
    for (size_t i = 0; i < pipeline->n_slices; i++)
        cache_key_text(&key, "slice", pipeline->slices[i]);
    cache_key_number(&key, "slice_min_rows", (double)pipeline->slice_min_rows);
    cache_key_number(&key, "slice_tolerance", pipeline->slice_tolerance);
    cache_key_number(&key, "bootstrap", (double)pipeline->bootstrap_resamples);
    cache_key_unsigned(&key, "bootstrap_seed", pipeline->bootstrap_seed);
    cache_key_number(&key, "gate", pipeline->has_gate);
    cache_key_number(&key, "beat_baseline", pipeline->gate.beat_baseline);
    cache_key_number(&key, "beat_production", pipeline->gate.beat_production);
    cache_key_number(&key, "by_interval", pipeline->gate.by_interval);
    cache_key_number(&key, "gate_contract", pipeline->gate.contract);
    cache_key_number(&key, "max_slice_regression", pipeline->gate.max_slice_regression);
    for (size_t i = 0; i < pipeline->n_consumers; i++) {
        const ln_consumer_spec *consumer = &pipeline->consumers[i];
        cache_key_text(&key, "consumer", consumer->name);
        cache_key_number(&key, "uses_score", consumer->uses_score);
        cache_key_number(&key, "threshold", consumer->threshold);
        cache_key_number(&key, "rate_min", consumer->rate_min);
        cache_key_number(&key, "rate_max", consumer->rate_max);
        cache_key_number(&key, "max_changed", consumer->max_changed);
    }
    cache_key_text(&key, "contract", run->keys.contract);
    cache_key_text(&key, "production", run->production_sha[0] ? run->production_sha : NULL);
    return cache_key_finish(&key, run->keys.evaluate, err);
}

ln_status run_step_evaluate(run_context *run, ln_error *err)
{
    double started = run_seconds_now();

    ln_status status = run_choose_threshold(run, err);
    if (status == LN_OK)
        status = run_evaluate_model(run, err);
    if (status == LN_OK)
        status = run_evaluate_production(run, err);
    if (status == LN_OK)
        status = run_model_statistics(run, err);
    if (status == LN_OK)
        status = run_compute_slices(run, err);
    if (status == LN_OK) {
        run_compare_downstream(run);
        run_evaluate_gate(run);
        status = evaluate_key(run, err);
    }
    if (status == LN_OK)
        run_record_step(run, "evaluate", run->keys.evaluate, 0, run_seconds_now() - started);
    return status;
}
