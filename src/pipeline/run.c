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

static const char *const payoff_names[PAYOFF_COUNT] = {
    "true_positive", "false_positive", "false_negative", "true_negative",
};

void ln_run_options_default(ln_run_options *options)
{
    memset(options, 0, sizeof *options);
    options->register_model = 1;
}

static double seconds_now(void)
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

static ln_status load_data(run_context *run, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;
    char path[PATH_MAX];
    ln_status status;

    if (run->options->data_override_csv != NULL) {
        snprintf(run->data_source, sizeof run->data_source, "csv %.4000s", run->options->data_override_csv);
        status = ln_csv_read(run->options->data_override_csv, &pipeline->load, &run->data, err);
    } else if (pipeline->data_csv != NULL) {
        status = ln_path_join(pipeline->dir, pipeline->data_csv, path, sizeof path, err);
        if (status != LN_OK)
            return status;
        snprintf(run->data_source, sizeof run->data_source, "csv %.4000s", path);
        status = ln_csv_read(path, &pipeline->load, &run->data, err);
    } else {
        status = ln_path_join(pipeline->dir, pipeline->data_sqlite, path, sizeof path, err);
        if (status != LN_OK)
            return status;
        snprintf(run->data_source, sizeof run->data_source, "sqlite %.4000s: %.4000s", path, pipeline->data_query);
        status = ln_sqlite_read(path, pipeline->data_query, &pipeline->load, &run->data, err);
    }

    if (status != LN_OK)
        return ln_error_prefix(err, "%s: loading data", pipeline->path);

    ln_hash_table(run->data, run->result->data_hash);
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

static ln_status check_columns(run_context *run, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;

    ln_status status = check_named_column(run, "target", pipeline->target, err);
    if (status == LN_OK)
        status = check_named_column(run, "id", pipeline->id, err);
    if (status == LN_OK)
        status = check_named_column(run, "time", pipeline->time, err);
    for (size_t i = 0; i < pipeline->n_ignore && status == LN_OK; i++)
        status = check_named_column(run, "ignore", pipeline->ignore[i], err);
    if (status != LN_OK)
        return status;

    if (run->data->n_rows < RUN_MIN_ROWS)
        return ln_error_set(err, LN_ERR_DATA, "%s: the data has %zu rows; a run needs at least %d",
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

static ln_status choose_features(run_context *run, ln_error *err)
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

static ln_status make_split_rows(run_context *run, ln_error *err)
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

    if (positives == 0 || positives == n)
        return ln_error_set(err, LN_ERR_DATA,
                            "%s: the %s split (%zu rows) holds only %s rows of target '%s'; each split needs "
                            "both classes: use more data or larger valid/test shares",
                            run->pipeline->path, name, n, positives ? "positive" : "negative",
                            run->pipeline->target);
    return LN_OK;
}

static ln_status split_data(run_context *run, ln_error *err)
{
    ln_status status = make_split_rows(run, err);
    if (status == LN_OK)
        status = fill_split(run, &run->train, "train", run->rows.train, run->rows.n_train, err);
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
    if (status != LN_OK)
        return ln_error_prefix(err, "%s: %s \"%s\"", run->pipeline->path, key, text);
    return LN_OK;
}

static ln_status parse_expressions(run_context *run, ln_error *err)
{
    char key[64];

    ln_status status = parse_expression(run, "baseline.rule", run->pipeline->baseline_rule, &run->rule, err);
    for (int i = 0; i < PAYOFF_COUNT && status == LN_OK; i++) {
        snprintf(key, sizeof key, "outcome.%s", payoff_names[i]);
        status = parse_expression(run, key, run->pipeline->payoff[i], &run->payoff[i], err);
    }
    return status;
}

static ln_status evaluate_payoffs(run_context *run, run_split *split, const char *name, ln_error *err)
{
    size_t n = split->table->n_rows;

    for (int i = 0; i < PAYOFF_COUNT; i++) {
        split->payoff[i] = malloc((n ? n : 1) * sizeof *split->payoff[i]);
        if (split->payoff[i] == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory evaluating payoffs");

        ln_status status = ln_expr_eval(run->payoff[i], split->table, split->payoff[i], err);
        if (status != LN_OK)
            return ln_error_prefix(err, "%s: outcome.%s", run->pipeline->path, payoff_names[i]);

        for (size_t row = 0; row < n; row++) {
            if (!isfinite(split->payoff[i][row]))
                return ln_error_set(err, LN_ERR_DATA,
                                    "%s: outcome.%s \"%s\" is %s on a row of the %s split (data row %zu); "
                                    "give such rows a value, e.g. with if(is_missing(x), 0, x)",
                                    run->pipeline->path, payoff_names[i], run->pipeline->payoff[i],
                                    isnan(split->payoff[i][row]) ? "missing" : "infinite", name,
                                    (name[0] == 'v' ? run->rows.valid : run->rows.test)[row] + 1);
        }
    }
    return LN_OK;
}

ln_payoffs run_split_payoffs(const run_split *split)
{
    ln_payoffs payoffs = {
        split->payoff[PAYOFF_TP], split->payoff[PAYOFF_FP], split->payoff[PAYOFF_FN], split->payoff[PAYOFF_TN],
    };
    return payoffs;
}

static void summarise_policy(const run_split *split, const unsigned char *flags, const double *scores,
                             ln_policy_result *out)
{
    size_t n = split->table->n_rows;
    ln_payoffs payoffs = run_split_payoffs(split);

    out->flagged = 0;
    out->true_positives = 0;
    for (size_t i = 0; i < n; i++) {
        out->flagged += flags[i];
        out->true_positives += flags[i] && split->labels[i] == 1;
    }
    out->flag_rate = n ? (double)out->flagged / (double)n : NAN;
    out->payoff = ln_policy_payoff(flags, split->labels, &payoffs, n);
    out->payoff_per_1000 = n ? out->payoff * 1000.0 / (double)n : NAN;
    out->auc = scores ? ln_roc_auc(scores, split->labels, n) : NAN;
    out->pr_auc = scores ? ln_average_precision(scores, split->labels, n) : NAN;
    out->log_loss = NAN;
    out->threshold = NAN;
}

static ln_status evaluate_baseline(run_context *run, ln_error *err)
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
    size_t undecided = 0;
    for (size_t i = 0; i < n; i++) {
        undecided += isnan(values[i]);
        run->baseline_flags[i] = !isnan(values[i]) && values[i] != 0;
        values[i] = run->baseline_flags[i];
    }
    if (undecided > 0)
        run_warn(run, "the rule in use is undecided (a value it reads is missing) on %zu of %zu test rows; "
                      "those rows count as not flagged", undecided, n);

    summarise_policy(&run->test, run->baseline_flags, values, &run->result->baseline);
    free(values);
    ln_log(LN_LOG_INFO, "rule in use on test: flags %.2f%%, payoff %.2f", run->result->baseline.flag_rate * 100,
           run->result->baseline.payoff);
    return LN_OK;
}

static ln_status train_model(run_context *run, ln_error *err)
{
    ln_train_params params = run->pipeline->train;
    double started = seconds_now();

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
    ln_log(LN_LOG_INFO, "trained in %.2f s (%d trees kept)", seconds_now() - started, run->result->trees);
    return LN_OK;
}

static ln_status score_split(run_context *run, const run_split *split, double **scores, ln_error *err)
{
    size_t n = split->table->n_rows;

    *scores = malloc((n ? n : 1) * sizeof **scores);
    if (*scores == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory scoring %zu rows", n);
    return ln_model_predict(run->model, split->table, *scores, err);
}

static ln_status choose_threshold(run_context *run, ln_error *err)
{
    ln_payoffs payoffs = run_split_payoffs(&run->valid);

    ln_status status = ln_threshold_search(run->valid_scores, run->valid.labels, &payoffs,
                                           run->valid.table->n_rows, run->pipeline->max_flag_rate,
                                           &run->choice, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s: choosing the threshold on the valid split", run->pipeline->path);

    run->result->valid_threshold = run->choice.threshold;
    run->result->valid_payoff = run->choice.payoff;
    ln_log(LN_LOG_INFO, "threshold %.6g chosen on valid: flags %.2f%%, payoff %.2f", run->choice.threshold,
           run->choice.flag_rate * 100, run->choice.payoff);
    return LN_OK;
}

static ln_status evaluate_model(run_context *run, ln_error *err)
{
    size_t n = run->test.table->n_rows;

    run->model_flags = malloc(n ? n : 1);
    if (run->model_flags == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory evaluating the model");
    for (size_t i = 0; i < n; i++)
        run->model_flags[i] = run->test_scores[i] >= run->choice.threshold;

    ln_policy_result *model = &run->result->model;
    summarise_policy(&run->test, run->model_flags, run->test_scores, model);
    model->log_loss = ln_log_loss(run->test_scores, run->test.labels, n);
    model->threshold = run->choice.threshold;

    memset(run->model_flags, 0, n ? n : 1);
    summarise_policy(&run->test, run->model_flags, NULL, &run->result->nothing);
    for (size_t i = 0; i < n; i++)
        run->model_flags[i] = run->test_scores[i] >= run->choice.threshold;

    ln_log(LN_LOG_INFO, "model on test: AUC %.4f, flags %.2f%%, payoff %.2f (rule %.2f, nothing %.2f)",
           model->auc, model->flag_rate * 100, model->payoff, run->result->baseline.payoff,
           run->result->nothing.payoff);
    return LN_OK;
}

static void run_free(run_context *run)
{
    run_split *splits[3] = {&run->train, &run->valid, &run->test};

    for (int s = 0; s < 3; s++) {
        ln_table_free(splits[s]->table);
        free(splits[s]->labels);
        for (int i = 0; i < PAYOFF_COUNT; i++)
            free(splits[s]->payoff[i]);
    }
    for (int i = 0; i < PAYOFF_COUNT; i++)
        ln_expr_free(run->payoff[i]);
    for (size_t i = 0; i < run->n_warnings; i++)
        free(run->warnings[i]);
    ln_expr_free(run->rule);
    ln_model_free(run->model);
    ln_table_free(run->data);
    split_rows_free(&run->rows);
    free(run->labels);
    free(run->features);
    free(run->baseline_flags);
    free(run->valid_scores);
    free(run->test_scores);
    free(run->model_flags);
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
    double started = seconds_now();

    memset(result, 0, sizeof *result);
    run.pipeline = pipeline;
    run.options = options;
    run.result = result;
    stamp_created_at(&run);
    ln_hash_bytes(pipeline->text, strlen(pipeline->text), result->pipeline_hash);

    ln_status status = load_data(&run, err);
    if (status == LN_OK)
        status = check_columns(&run, err);
    if (status == LN_OK)
        status = parse_expressions(&run, err);
    if (status == LN_OK)
        status = choose_features(&run, err);
    if (status == LN_OK)
        status = split_data(&run, err);
    if (status == LN_OK)
        status = evaluate_payoffs(&run, &run.valid, "valid", err);
    if (status == LN_OK)
        status = evaluate_payoffs(&run, &run.test, "test", err);
    if (status == LN_OK)
        status = evaluate_baseline(&run, err);
    if (status == LN_OK)
        status = train_model(&run, err);
    if (status == LN_OK)
        status = score_split(&run, &run.valid, &run.valid_scores, err);
    if (status == LN_OK)
        status = score_split(&run, &run.test, &run.test_scores, err);
    if (status == LN_OK)
        status = choose_threshold(&run, err);
    if (status == LN_OK)
        status = evaluate_model(&run, err);
    if (status == LN_OK)
        status = run_write_model(&run, err);
    if (status == LN_OK && options->register_model)
        status = run_register(&run, err);
    if (status == LN_OK)
        status = run_write_reports(&run, err);

    result->seconds_total = seconds_now() - started;
    run_free(&run);
    return status;
}
