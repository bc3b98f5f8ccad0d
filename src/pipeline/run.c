/*
 * lanner run: load, check, split, evaluate the rule in use, train, choose the
 * threshold on the valid split, report on the test split, write and register.
 */
#include "lanner/pipeline.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lanner/data.h"
#include "lanner/hash.h"
#include "lanner/io.h"
#include "lanner/log.h"
#include "pipeline/run_internal.h"

/* A run needs enough rows for three splits that each hold both classes. */
#define RUN_MIN_ROWS 100

/* Names the key of an option's payoff expression in messages, as the pipeline file spells it. */
static void option_key(const run_context *run, size_t option, int which, char *out, size_t capacity)
{
    static const char *const binary_keys[2][2] = {
        {"true_positive", "false_positive"},
        {"false_negative", "true_negative"},
    };
    const char *side = which == IF_POSITIVE ? "payoff_if_positive" : "payoff_if_negative";

    if (!run->pipeline->multi_action)
        snprintf(out, capacity, "outcome.%s", binary_keys[option == 0 ? 0 : 1][which]);
    else if (option < run->n_actions)
        snprintf(out, capacity, "outcome.actions[%zu].%s", option + 1, side);
    else
        snprintf(out, capacity, "outcome.default.%s", side);
}

static const ln_action_spec *option_spec(const run_context *run, size_t option)
{
    return option < run->n_actions ? &run->pipeline->actions[option] : &run->pipeline->fallback;
}

static const char *option_text(const run_context *run, size_t option, int which)
{
    const ln_action_spec *spec = option_spec(run, option);
    return which == IF_POSITIVE ? spec->payoff_if_positive : spec->payoff_if_negative;
}

void ln_run_options_default(ln_run_options *options)
{
    memset(options, 0, sizeof *options);
    options->register_model = 1;
    options->use_cache = 1;
    options->cache_limit_bytes = (uint64_t)4096 * 1000000;
}

/* Keeps the step cache under its limit. A failure is only a warning, since the run itself is done. */
static void prune_cache(const run_context *run, const struct timespec *started)
{
    cache_prune_result pruned;
    ln_error local = {0};

    if (!run->cache.enabled || run->options->cache_limit_bytes == 0)
        return;
    if (cache_prune(run->cache.dir, run->options->cache_limit_bytes, started, &pruned, &local) != LN_OK) {
        ln_log(LN_LOG_WARN, "the step cache was not pruned: %s", local.message);
        return;
    }
    if (pruned.removed > 0)
        ln_log(LN_LOG_INFO, "step cache %s: removed %zu least recently used entries (%.1f MB); %zu entries (%.1f MB) remain",
               run->cache.dir, pruned.removed, (double)pruned.removed_bytes / 1e6, pruned.kept,
               (double)pruned.kept_bytes / 1e6);
}

double run_seconds_now(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

void run_warn(run_context *run, const char *format, ...)
{
    char message[512];
    va_list args;

    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);

    ln_log(LN_LOG_WARN, "%s", message);
    if (run->n_warnings < RUN_MAX_WARNINGS) {
        char *copy = strdup(message);
        if (copy != NULL)
            run->warnings[run->n_warnings++] = copy;
    }
}

/* The lineage names a source by its absolute path, so it stays findable from the registry. */
static const char *absolute_path(const char *path, char full[PATH_MAX])
{
    return realpath(path, full) != NULL ? full : path;
}

ln_status run_describe_source(run_context *run, run_source *source, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;
    ln_status status = LN_OK;
    char full[PATH_MAX];

    if (run->options->data_override_csv != NULL) {
        source->kind = RUN_SOURCE_CSV;
        status = ln_path_join(NULL, run->options->data_override_csv, source->path, sizeof source->path, err);
        snprintf(run->data_source, sizeof run->data_source, "csv %.4000s",
                 absolute_path(run->options->data_override_csv, full));
    } else if (pipeline->data_csv != NULL) {
        source->kind = RUN_SOURCE_CSV;
        status = ln_path_join(pipeline->dir, pipeline->data_csv, source->path, sizeof source->path, err);
        snprintf(run->data_source, sizeof run->data_source, "csv %.4000s", absolute_path(source->path, full));
    } else if (ln_postgres_is_url(pipeline->data_database)) {
        source->kind = RUN_SOURCE_POSTGRES;
        ln_postgres_redact_url(pipeline->data_database, source->path, sizeof source->path);
        snprintf(run->data_source, sizeof run->data_source, "postgres %.4000s: %.4000s", source->path,
                 pipeline->data_query);
    } else {
        source->kind = RUN_SOURCE_SQLITE;
        status = ln_path_join(pipeline->dir, pipeline->data_database, source->path, sizeof source->path, err);
        snprintf(run->data_source, sizeof run->data_source, "sqlite %.4000s: %.4000s",
                 absolute_path(source->path, full), pipeline->data_query);
    }
    return status;
}

ln_status run_read_source(run_context *run, const run_source *source, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;
    ln_status status;

    if (source->kind == RUN_SOURCE_CSV)
        status = ln_csv_read(source->path, &pipeline->load, &run->data, err);
    else if (source->kind == RUN_SOURCE_POSTGRES)
        status = ln_postgres_read(pipeline->data_database, pipeline->data_query, &pipeline->load, &run->data, err);
    else
        status = ln_sqlite_read(source->path, pipeline->data_query, &pipeline->load, &run->data, err);

    if (status != LN_OK)
        return ln_error_prefix(err, "%s: loading data", pipeline->path);
    return LN_OK;
}

static ln_status check_named_column(const run_context *run, const char *key, const char *name, ln_error *err)
{
    if (name == NULL || ln_table_find(run->data, name) >= 0)
        return LN_OK;

    char columns[600] = "";
    for (size_t i = 0; i < run->data->n_cols && strlen(columns) < 500; i++) {
        strcat(columns, i ? ", " : "");
        strncat(columns, run->data->cols[i].name, 60);
    }
    return ln_error_set(err, LN_ERR_CONFIG, "%s: '%s' names column '%s', which is not in the data; columns are: %s",
                        run->pipeline->path, key, name, columns);
}

ln_status run_check_columns(run_context *run, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;

    ln_status status = check_named_column(run, "target", pipeline->target, err);
    if (status == LN_OK)
        status = check_named_column(run, "id", pipeline->id, err);
    if (status == LN_OK)
        status = check_named_column(run, "time", pipeline->time, err);
    for (size_t i = 0; i < pipeline->n_ignore && status == LN_OK; i++)
        status = check_named_column(run, "ignore", pipeline->ignore[i], err);
    for (size_t i = 0; i < pipeline->n_slices && status == LN_OK; i++)
        status = check_named_column(run, "slices", pipeline->slices[i], err);
    if (status != LN_OK)
        return status;

    if (run->data->n_rows < RUN_MIN_ROWS)
        return ln_error_set(err, LN_ERR_DATA, "%s: the data has %zu rows; at least %d are needed",
                            pipeline->path, run->data->n_rows, RUN_MIN_ROWS);

    status = run_make_labels(run->data, pipeline->target, pipeline->positive, &run->labels, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s", pipeline->path);
    return LN_OK;
}

static int is_excluded(const ln_pipeline *pipeline, const char *name)
{
    if (strcmp(name, pipeline->target) == 0)
        return 1;
    if (pipeline->id != NULL && strcmp(name, pipeline->id) == 0)
        return 1;
    if (pipeline->time != NULL && strcmp(name, pipeline->time) == 0)
        return 1;
    for (size_t i = 0; i < pipeline->n_ignore; i++) {
        if (strcmp(name, pipeline->ignore[i]) == 0)
            return 1;
    }
    return 0;
}

static int column_is_all_missing(const ln_column *column, size_t n_rows)
{
    for (size_t row = 0; row < n_rows; row++) {
        if (!ln_column_is_missing(column, row))
            return 0;
    }
    return 1;
}

ln_status run_choose_features(run_context *run, ln_error *err)
{
    const ln_table *data = run->data;

    run->features = calloc(data->n_cols ? data->n_cols : 1, sizeof *run->features);
    if (run->features == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory choosing features");

    for (size_t i = 0; i < data->n_cols; i++) {
        const ln_column *column = &data->cols[i];
        if (is_excluded(run->pipeline, column->name))
            continue;

        /* Free text and raw timestamps rarely generalise; a user who wants them derives a feature. */
        if (column->type == LN_TYPE_TEXT) {
            run_warn(run, "column '%s' is free text (too many distinct values for a category) and is not "
                          "used as a feature", column->name);
            continue;
        }
        if (column->type == LN_TYPE_TIMESTAMP) {
            ln_log(LN_LOG_INFO, "column '%s' is a timestamp and is not used as a feature", column->name);
            continue;
        }
        if (column_is_all_missing(column, data->n_rows)) {
            run_warn(run, "column '%s' is missing on every row and is not used as a feature", column->name);
            continue;
        }
        run->features[run->n_features++] = column->name;
    }

    if (run->n_features == 0)
        return ln_error_set(err, LN_ERR_DATA, "%s: no column is left to use as a feature after removing the "
                            "target, id, time, ignored and text columns", run->pipeline->path);
    run->result->n_features = run->n_features;
    return LN_OK;
}

static void describe_time_split(run_context *run)
{
    const ln_column *time = ln_table_column(run->data, run->pipeline->time);
    char valid_start[64] = "";
    char test_start[64] = "";

    if (run->rows.n_valid > 0)
        ln_column_format(time, run->rows.valid[0], valid_start, sizeof valid_start);
    if (run->rows.n_test > 0)
        ln_column_format(time, run->rows.test[0], test_start, sizeof test_start);
    snprintf(run->split_description, sizeof run->split_description,
             "by %s: valid from %s, test from %s", time->name, valid_start, test_start);
}

ln_status run_make_split_rows(run_context *run, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;
    ln_status status;

    if (pipeline->time != NULL) {
        const ln_column *time = ln_table_column(run->data, pipeline->time);
        status = split_by_time(time, run->data->n_rows, pipeline->valid_share, pipeline->test_share,
                               &run->rows, err);
        if (status == LN_OK)
            describe_time_split(run);
    } else {
        status = split_stratified(run->labels, run->data->n_rows, pipeline->valid_share,
                                  pipeline->test_share, pipeline->split_seed, &run->rows, err);
        snprintf(run->split_description, sizeof run->split_description,
                 "stratified random (seed %llu): %.0f%% valid, %.0f%% test",
                 (unsigned long long)pipeline->split_seed, pipeline->valid_share * 100,
                 pipeline->test_share * 100);
    }
    if (status != LN_OK)
        return ln_error_prefix(err, "%s", pipeline->path);
    return LN_OK;
}

static ln_status fill_split(run_context *run, run_split *split, const char *name, const size_t *rows,
                            size_t n, ln_error *err)
{
    split->table = ln_table_take_rows(run->data, rows, n, err);
    split->labels = malloc((n ? n : 1) * sizeof *split->labels);
    if (split->table == NULL || split->labels == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory building the %s split", name);

    size_t positives = 0;
    for (size_t i = 0; i < n; i++) {
        split->labels[i] = run->labels[rows[i]];
        positives += split->labels[i] == 1;
    }
    split->positive_rate = n ? (double)positives / (double)n : NAN;
    split->data_rows = rows;

    if (positives == 0 || positives == n)
        return ln_error_set(err, LN_ERR_DATA,
                            "%s: the %s split (%zu rows) holds only %s rows of target '%s'; each split needs "
                            "both classes: use more data or larger valid/test shares",
                            run->pipeline->path, name, n, positives ? "positive" : "negative",
                            run->pipeline->target);
    return LN_OK;
}

ln_status run_fill_splits(run_context *run, ln_error *err)
{
    ln_status status = fill_split(run, &run->train, "train", run->rows.train, run->rows.n_train, err);
    if (status == LN_OK)
        status = fill_split(run, &run->valid, "valid", run->rows.valid, run->rows.n_valid, err);
    if (status == LN_OK)
        status = fill_split(run, &run->test, "test", run->rows.n_test ? run->rows.test : NULL,
                            run->rows.n_test, err);
    if (status != LN_OK)
        return status;

    run->result->rows_train = run->rows.n_train;
    run->result->rows_valid = run->rows.n_valid;
    run->result->rows_test = run->rows.n_test;
    ln_log(LN_LOG_INFO, "split %s: %zu train, %zu valid, %zu test rows", run->split_description,
           run->rows.n_train, run->rows.n_valid, run->rows.n_test);
    return LN_OK;
}

static ln_status parse_expression(run_context *run, const char *key, const char *text, ln_expr **out,
                                  ln_error *err)
{
    ln_status status = ln_expr_parse(text, out, err);
    if (status == LN_OK)
        status = ln_expr_check(*out, run->data, err);
    /* A long expression is shortened in the message so the reason after it still shows. */
    if (status != LN_OK && strlen(text) > 120)
        return ln_error_prefix(err, "%s: %s \"%.100s...\" (%zu bytes)", run->pipeline->path, key, text, strlen(text));
    if (status != LN_OK)
        return ln_error_prefix(err, "%s: %s \"%s\"", run->pipeline->path, key, text);
    return LN_OK;
}

ln_status run_parse_expressions(run_context *run, ln_error *err)
{
    char key[64];

    run->n_actions = run->pipeline->n_actions;
    ln_status status = parse_expression(run, "baseline.rule", run->pipeline->baseline_rule, &run->rule, err);
    for (size_t k = 0; k <= run->n_actions && status == LN_OK; k++) {
        for (int which = 0; which < 2 && status == LN_OK; which++) {
            option_key(run, k, which, key, sizeof key);
            status = parse_expression(run, key, option_text(run, k, which), &run->option_expr[k][which], err);
        }
    }
    return status;
}

static ln_status evaluate_option(run_context *run, run_split *split, const char *name, size_t option, int which,
                                 ln_error *err)
{
    size_t n = split->table->n_rows;
    char key[64];
    double *values = malloc((n ? n : 1) * sizeof *values);

    split->option_payoff[option][which] = values;
    option_key(run, option, which, key, sizeof key);
    if (values == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory evaluating payoffs");

    ln_status status = ln_expr_eval(run->option_expr[option][which], split->table, values, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s: %s", run->pipeline->path, key);

    for (size_t row = 0; row < n; row++) {
        if (!isfinite(values[row]))
            return ln_error_set(err, LN_ERR_DATA,
                                "%s: %s \"%s\" is %s on a row of the %s split (data row %zu); "
                                "give such rows a value, e.g. with if(is_missing(x), 0, x)",
                                run->pipeline->path, key, option_text(run, option, which),
                                isnan(values[row]) ? "missing" : "infinite", name,
                                (split->data_rows != NULL ? split->data_rows[row] : row) + 1);
    }
    return LN_OK;
}

ln_status run_evaluate_payoffs(run_context *run, run_split *split, const char *name, ln_error *err)
{
    ln_status status = LN_OK;

    for (size_t k = 0; k <= run->n_actions && status == LN_OK; k++) {
        for (int which = 0; which < 2 && status == LN_OK; which++)
            status = evaluate_option(run, split, name, k, which, err);
    }
    return status;
}

ln_payoffs run_split_payoffs(const run_split *split)
{
    ln_payoffs payoffs = {
        split->option_payoff[0][IF_POSITIVE], split->option_payoff[0][IF_NEGATIVE],
        split->option_payoff[1][IF_POSITIVE], split->option_payoff[1][IF_NEGATIVE],
    };
    return payoffs;
}

void run_split_options(const run_split *split, size_t n_actions, ln_action_payoffs *options)
{
    for (size_t k = 0; k <= n_actions; k++) {
        options[k].if_positive = split->option_payoff[k][IF_POSITIVE];
        options[k].if_negative = split->option_payoff[k][IF_NEGATIVE];
        options[k].max_rate = 1.0;
    }
}

/* The rule gives the first action to the rows where it is true, and the default elsewhere. */
ln_status run_evaluate_baseline(run_context *run, ln_error *err)
{
    size_t undecided = 0;
    ln_status status = run_rule_flags(run, &undecided, err);

    if (status == LN_OK)
        status = run_summarise_baseline(run, undecided, err);
    return status;
}

ln_status run_rule_flags(run_context *run, size_t *undecided, ln_error *err)
{
    size_t n = run->test.table->n_rows;
    double *values = malloc((n ? n : 1) * sizeof *values);
    run->baseline_flags = malloc(n ? n : 1);
    if (values == NULL || run->baseline_flags == NULL) {
        free(values);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory evaluating the rule");
    }

    ln_status status = ln_expr_eval(run->rule, run->test.table, values, err);
    if (status != LN_OK) {
        free(values);
        return ln_error_prefix(err, "%s: baseline.rule", run->pipeline->path);
    }

    /* A rule that cannot be decided on a row (a missing input) does not flag it. */
    *undecided = 0;
    for (size_t i = 0; i < n; i++) {
        *undecided += isnan(values[i]);
        run->baseline_flags[i] = !isnan(values[i]) && values[i] != 0;
    }
    free(values);
    return LN_OK;
}

ln_status run_summarise_baseline(run_context *run, size_t undecided, ln_error *err)
{
    size_t n = run->test.table->n_rows;
    double *values = malloc((n ? n : 1) * sizeof *values);
    run->baseline_decisions = malloc(n ? n : 1);
    run->baseline_row_payoffs = malloc((n ? n : 1) * sizeof *run->baseline_row_payoffs);
    if (values == NULL || run->baseline_decisions == NULL || run->baseline_row_payoffs == NULL) {
        free(values);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory evaluating the rule");
    }

    for (size_t i = 0; i < n; i++) {
        run->baseline_decisions[i] = run->baseline_flags[i] ? 0 : (unsigned char)run->n_actions;
        values[i] = run->baseline_flags[i];
    }
    if (undecided > 0)
        run_warn(run, "the rule in use is undecided (a value it reads is missing) on %zu of %zu test rows; "
                      "those rows count as not flagged", undecided, n);

    run_summarise_policy(run, run->baseline_decisions, values, &run->result->baseline, run->baseline_row_payoffs);
    free(values);
    ln_log(LN_LOG_INFO, "rule in use on test: flags %.2f%%, payoff %.2f", run->result->baseline.flag_rate * 100,
           run->result->baseline.payoff);
    return LN_OK;
}

ln_status run_train_model(run_context *run, ln_error *err)
{
    ln_train_params params = run->pipeline->train;
    double started = run_seconds_now();

    if (run->options->threads > 0)
        params.threads = run->options->threads;
    ln_log(LN_LOG_INFO, "training %s on %zu rows x %zu features",
           params.learner == LN_LEARNER_GBDT ? "gradient-boosted trees" : "logistic regression",
           run->train.table->n_rows, run->n_features);

    ln_status status = ln_model_train(&params, run->train.table, run->train.labels,
                                      (const char *const *)run->features, run->n_features, run->valid.table,
                                      run->valid.labels, &run->model, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s: training", run->pipeline->path);

    run->result->trees = params.learner == LN_LEARNER_GBDT ? ln_model_tree_count(run->model) : 0;
    ln_log(LN_LOG_INFO, "trained in %.2f s (%d trees kept)", run_seconds_now() - started, run->result->trees);
    return LN_OK;
}

ln_status run_score_split(run_context *run, const run_split *split, double **scores, ln_error *err)
{
    size_t n = split->table->n_rows;

    *scores = malloc((n ? n : 1) * sizeof **scores);
    if (*scores == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory scoring %zu rows", n);
    return ln_model_predict(run->model, split->table, *scores, err);
}

static void record_valid_rates(run_context *run, const size_t *assigned)
{
    size_t n = run->valid.table->n_rows;

    for (size_t k = 0; k < run->n_actions; k++)
        run->result->actions[k].valid_rate = n ? (double)assigned[k] / (double)n : NAN;
}

/* The binary form keeps its own search; more actions need the joint search over every cut. */
ln_status run_choose_threshold(run_context *run, ln_error *err)
{
    size_t n = run->valid.table->n_rows;
    ln_status status;

    if (run->pipeline->max_flag_rate < 1.0 && run->pipeline->max_flag_rate * (double)n < 1.0)
        run_warn(run, "max_flag_rate %g allows less than one of the %zu valid rows, so the model flags nothing",
                 run->pipeline->max_flag_rate, n);

    if (!run->pipeline->multi_action) {
        ln_payoffs payoffs = run_split_payoffs(&run->valid);
        ln_threshold_choice choice;
        status = ln_threshold_search(run->valid_scores, run->valid.labels, &payoffs, n, run->pipeline->max_flag_rate,
                                     &choice, err);
        if (status == LN_OK) {
            run->thresholds[0] = choice.threshold;
            run->result->valid_payoff = choice.payoff;
            record_valid_rates(run, &choice.flagged);
        }
    } else {
        ln_action_payoffs options[RUN_MAX_OPTIONS];
        ln_policy_choice choice;
        run_split_options(&run->valid, run->n_actions, options);
        for (size_t k = 0; k < run->n_actions; k++)
            options[k].max_rate = run->pipeline->actions[k].max_rate;
        status = ln_policy_search(run->valid_scores, run->valid.labels, options, run->n_actions,
                                  &options[run->n_actions], n, run->pipeline->max_flag_rate, &choice, err);
        if (status == LN_OK) {
            memcpy(run->thresholds, choice.thresholds, sizeof run->thresholds);
            run->result->valid_payoff = choice.payoff;
            record_valid_rates(run, choice.assigned);
        }
    }
    if (status != LN_OK)
        return ln_error_prefix(err, "%s: choosing the threshold on the valid split", run->pipeline->path);

    run->result->valid_threshold = run->thresholds[0];
    for (size_t k = 0; k < run->n_actions; k++) {
        if (isinf(run->thresholds[k]))
            ln_log(LN_LOG_INFO, "action %s: no threshold beats flagging no row on valid", run->pipeline->actions[k].name);
        else
            ln_log(LN_LOG_INFO, "action %s: threshold %.6g chosen on valid (%.2f%% of rows)",
                   run->pipeline->actions[k].name, run->thresholds[k], run->result->actions[k].valid_rate * 100);
    }
    ln_log(LN_LOG_INFO, "valid payoff %.2f", run->result->valid_payoff);
    return LN_OK;
}

ln_status run_evaluate_model(run_context *run, ln_error *err)
{
    size_t n = run->test.table->n_rows;
    size_t bytes = n ? n : 1;

    run->model_decisions = malloc(bytes);
    run->model_flags = malloc(bytes);
    run->model_row_payoffs = malloc(bytes * sizeof *run->model_row_payoffs);
    run->nothing_row_payoffs = malloc(bytes * sizeof *run->nothing_row_payoffs);
    unsigned char *nothing = malloc(bytes);
    if (run->model_decisions == NULL || run->model_flags == NULL || run->model_row_payoffs == NULL ||
        run->nothing_row_payoffs == NULL || nothing == NULL) {
        free(nothing);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory evaluating the model");
    }

    ln_policy_assign(run->test_scores, n, run->thresholds, run->n_actions, run->model_decisions);
    for (size_t i = 0; i < n; i++)
        run->model_flags[i] = run->model_decisions[i] < run->n_actions;

    ln_policy_result *model = &run->result->model;
    run_summarise_policy(run, run->model_decisions, run->test_scores, model, run->model_row_payoffs);
    model->log_loss = ln_log_loss(run->test_scores, run->test.labels, n);
    model->threshold = run->thresholds[0];

    memset(nothing, (int)run->n_actions, bytes);
    run_summarise_policy(run, nothing, NULL, &run->result->nothing, run->nothing_row_payoffs);
    free(nothing);

    run->result->n_actions = run->n_actions;
    for (size_t k = 0; k < run->n_actions; k++) {
        ln_action_result *action = &run->result->actions[k];
        snprintf(action->name, sizeof action->name, "%s", run->pipeline->actions[k].name);
        action->threshold = run->thresholds[k];
        action->test_rows = 0;
        action->true_positives = 0;
        double total = 0;
        for (size_t i = 0; i < n; i++) {
            if (run->model_decisions[i] != k)
                continue;
            action->test_rows++;
            action->true_positives += run->test.labels[i] == 1;
            total += run->model_row_payoffs[i];
        }
        action->test_rate = n ? (double)action->test_rows / (double)n : NAN;
        action->test_payoff = total;
    }

    ln_log(LN_LOG_INFO, "model on test: AUC %.4f, flags %.2f%%, payoff %.2f (rule %.2f, nothing %.2f)",
           model->auc, model->flag_rate * 100, model->payoff, run->result->baseline.payoff,
           run->result->nothing.payoff);
    return LN_OK;
}

void run_free(run_context *run)
{
    run_split *splits[3] = {&run->train, &run->valid, &run->test};

    for (int s = 0; s < 3; s++) {
        ln_table_free(splits[s]->table);
        free(splits[s]->labels);
        for (size_t k = 0; k < RUN_MAX_OPTIONS; k++) {
            free(splits[s]->option_payoff[k][IF_POSITIVE]);
            free(splits[s]->option_payoff[k][IF_NEGATIVE]);
        }
    }
    for (size_t k = 0; k < RUN_MAX_OPTIONS; k++) {
        ln_expr_free(run->option_expr[k][IF_POSITIVE]);
        ln_expr_free(run->option_expr[k][IF_NEGATIVE]);
    }
    for (size_t i = 0; i < run->n_warnings; i++)
        free(run->warnings[i]);
    ln_expr_free(run->rule);
    ln_model_free(run->model);
    ln_table_free(run->data);
    split_rows_free(&run->rows);
    free(run->labels);
    free(run->contract_text);
    json_decref(run->reference);
    free(run->features);
    free(run->baseline_flags);
    free(run->baseline_decisions);
    free(run->baseline_row_payoffs);
    free(run->model_decisions);
    free(run->model_flags);
    free(run->model_row_payoffs);
    free(run->nothing_row_payoffs);
    free(run->production_decisions);
    free(run->production_row_payoffs);
    free(run->production_scores);
    free(run->valid_scores);
    free(run->test_scores);
    free(run->slices);
}

static void stamp_created_at(run_context *run)
{
    time_t now = time(NULL);
    struct tm parts;

    gmtime_r(&now, &parts);
    strftime(run->created_at, sizeof run->created_at, "%Y-%m-%dT%H:%M:%SZ", &parts);
}

ln_status ln_pipeline_run(const ln_pipeline *pipeline, const ln_run_options *options, ln_run_result *result,
                          ln_error *err)
{
    run_context run = {0};
    double started = run_seconds_now();
    struct timespec started_at;
    clock_gettime(CLOCK_REALTIME, &started_at);

    memset(result, 0, sizeof *result);
    run.pipeline = pipeline;
    run.options = options;
    run.result = result;
    stamp_created_at(&run);
    ln_hash_bytes(pipeline->text, strlen(pipeline->text), result->pipeline_hash);

    /* Each run_step_* reuses its result from the cache when its key is unchanged (run_steps.c). */
    ln_status status = run_open_cache(&run, err);
    if (status == LN_OK)
        status = run_step_load(&run, err);
    if (status == LN_OK)
        status = run_check_columns(&run, err);
    if (status == LN_OK)
        status = run_step_contract(&run, err);
    if (status == LN_OK)
        status = run_parse_expressions(&run, err);
    if (status == LN_OK)
        status = run_check_roles(&run, err);
    if (status == LN_OK)
        status = run_choose_features(&run, err);
    if (status == LN_OK)
        status = run_step_split(&run, err);
    if (status == LN_OK)
        status = run_evaluate_payoffs(&run, &run.valid, "valid", err);
    if (status == LN_OK)
        status = run_evaluate_payoffs(&run, &run.test, "test", err);
    if (status == LN_OK)
        status = run_step_baseline(&run, err);
    if (status == LN_OK)
        status = run_step_train(&run, err);
    if (status == LN_OK)
        status = run_step_evaluate(&run, err);
    if (status == LN_OK)
        status = run_build_reference(&run, err);
    if (status == LN_OK)
        status = run_write_model(&run, err);
    if (status == LN_OK && options->register_model)
        status = run_register(&run, err);
    if (status == LN_OK && options->promote && options->register_model)
        status = run_promote(&run, err);
    result->seconds_total = run_seconds_now() - started;
    if (status == LN_OK)
        status = run_write_reports(&run, err);

    prune_cache(&run, &started_at);
    result->seconds_total = run_seconds_now() - started;
    run_free(&run);
    return status;
}
