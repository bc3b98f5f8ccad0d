/*
 * lanner evaluate: a saved model scored on new data, with a pipeline's
 * outcome section (payoffs, rule, slices) and the model's stored
 * thresholds. The whole table plays the part of a run's test split.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/log.h"
#include "pipeline/run_internal.h"

/* Every model feature must be a column of the data: a missing one is a usage error (exit code 2). */
static ln_status check_model_features(const run_context *run, const ln_model *model, ln_error *err)
{
    for (size_t i = 0; i < ln_model_feature_count(model); i++) {
        const char *name = ln_model_feature_name(model, i);
        if (ln_table_find(run->data, name) < 0)
            return ln_error_set(err, LN_ERR_CONFIG, "the model uses column '%s', which is not in the data", name);
    }
    return LN_OK;
}

static ln_status take_all_rows(run_context *run, ln_error *err)
{
    size_t n = run->data->n_rows;
    size_t *rows = malloc((n ? n : 1) * sizeof *rows);
    if (rows == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory evaluating %zu rows", n);
    for (size_t i = 0; i < n; i++)
        rows[i] = i;

    run->test.table = ln_table_take_rows(run->data, rows, n, err);
    free(rows);
    run->test.labels = malloc((n ? n : 1) * sizeof *run->test.labels);
    if (run->test.table == NULL || run->test.labels == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory evaluating %zu rows", n);

    size_t positives = 0;
    for (size_t i = 0; i < n; i++) {
        run->test.labels[i] = run->labels[i];
        positives += run->labels[i] == 1;
    }
    run->test.positive_rate = n ? (double)positives / (double)n : NAN;
    run->result->rows_test = n;
    return LN_OK;
}

static ln_status score_rows(run_context *run, const ln_model *model, ln_error *err)
{
    size_t n = run->test.table->n_rows;

    run->test_scores = malloc((n ? n : 1) * sizeof *run->test_scores);
    if (run->test_scores == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory scoring %zu rows", n);
    ln_status status = ln_model_predict(model, run->test.table, run->test_scores, err);
    if (status != LN_OK)
        return status;

    ln_error local = {0};
    if (run_thresholds_from_metadata(ln_model_metadata(model), run->n_actions, run->thresholds, &local) != LN_OK)
        return ln_error_set(err, LN_ERR_CONFIG, "%s: the pipeline's outcome does not fit the model: %s",
                            run->pipeline->path, local.message);
    return LN_OK;
}

static char *evaluation_json(const run_context *run, const char *model_label, const char *data_label)
{
    json_t *root = json_object();

    json_object_set_new(root, "name", json_string(run->pipeline->name));
    json_object_set_new(root, "model", json_string(model_label));
    json_object_set_new(root, "data", json_string(data_label));
    json_object_set_new(root, "rows", json_integer((json_int_t)run->result->rows_test));
    json_object_set_new(root, "test", run_test_json(run));
    json_object_set_new(root, "evaluation", run_evaluation_json(run));
    json_t *warnings = json_array();
    for (size_t i = 0; i < run->n_warnings; i++)
        json_array_append_new(warnings, json_string(run->warnings[i]));
    json_object_set_new(root, "warnings", warnings);

    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(root);
    return text;
}

ln_status ln_pipeline_evaluate(const ln_pipeline *pipeline, const ln_model *model, ln_table *data,
                               const char *model_label, const char *data_label, ln_run_result *result,
                               char **json_out, ln_error *err)
{
    run_context run = {0};
    ln_run_options options;

    ln_run_options_default(&options);
    memset(result, 0, sizeof *result);
    *json_out = NULL;
    run.pipeline = pipeline;
    run.options = &options;
    run.result = result;
    run.data = data;
    snprintf(run.data_source, sizeof run.data_source, "%.4000s", data_label);

    ln_status status = check_model_features(&run, model, err);
    if (status == LN_OK)
        status = run_check_columns(&run, err);
    if (status == LN_OK)
        status = run_parse_expressions(&run, err);
    if (status == LN_OK)
        status = take_all_rows(&run, err);
    if (status == LN_OK)
        status = run_evaluate_payoffs(&run, &run.test, "evaluated", err);
    if (status == LN_OK)
        status = run_evaluate_baseline(&run, err);
    if (status == LN_OK)
        status = score_rows(&run, model, err);
    if (status == LN_OK)
        status = run_evaluate_model(&run, err);
    if (status == LN_OK)
        status = run_model_statistics(&run, err);
    if (status == LN_OK)
        status = run_compute_slices(&run, err);
    if (status == LN_OK) {
        *json_out = evaluation_json(&run, model_label, data_label);
        if (*json_out == NULL)
            status = ln_error_set(err, LN_ERR_NOMEM, "out of memory writing the evaluation");
    }

    /* The caller owns the data and the model. */
    run.data = NULL;
    run.model = NULL;
    run_free(&run);
    return status;
}
