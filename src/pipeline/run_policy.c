/*
 * The money side of a run on the test split: each policy's summary, the
 * production model from the registry, bootstrap intervals of the model's
 * gains, and calibration and confusion counts.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lanner/io.h"
#include "lanner/log.h"
#include "lanner/registry.h"
#include "pipeline/run_internal.h"

void run_summarise_policy(const run_context *run, const unsigned char *decisions, const double *scores,
                          ln_policy_result *out, double *row_payoffs)
{
    const run_split *split = &run->test;
    size_t n = split->table->n_rows;
    ln_action_payoffs options[RUN_MAX_OPTIONS];

    run_split_options(split, run->n_actions, options);
    out->flagged = 0;
    out->true_positives = 0;
    for (size_t i = 0; i < n; i++) {
        int flagged = decisions[i] < run->n_actions;
        out->flagged += flagged;
        out->true_positives += flagged && split->labels[i] == 1;
    }
    out->flag_rate = n ? (double)out->flagged / (double)n : NAN;
    out->payoff = ln_policy_row_payoffs(decisions, split->labels, options, run->n_actions, n, row_payoffs);
    out->payoff_per_1000 = n ? out->payoff * 1000.0 / (double)n : NAN;
    out->auc = scores ? ln_roc_auc(scores, split->labels, n) : NAN;
    out->pr_auc = scores ? ln_average_precision(scores, split->labels, n) : NAN;
    out->log_loss = NAN;
    out->threshold = NAN;
}

static double threshold_value(const json_t *value)
{
    /* null is how JSON stores +INFINITY: the model flags nothing. */
    return json_is_number(value) ? json_number_value(value) : INFINITY;
}

ln_status run_thresholds_from_metadata(const char *metadata, size_t n_actions, double *thresholds, ln_error *err)
{
    json_error_t parse_error;
    json_t *root = metadata ? json_loads(metadata, 0, &parse_error) : NULL;
    if (root == NULL)
        return ln_error_set(err, LN_ERR_DATA, "the model file holds no readable metadata with its threshold");

    ln_status status = LN_OK;
    json_t *actions = json_object_get(json_object_get(root, "policy"), "actions");
    if (json_is_array(actions)) {
        if (json_array_size(actions) != n_actions)
            status = ln_error_set(err, LN_ERR_DATA, "the model's policy has %zu actions and the pipeline has %zu",
                                  json_array_size(actions), n_actions);
        for (size_t k = 0; k < n_actions && status == LN_OK; k++)
            thresholds[k] = threshold_value(json_object_get(json_array_get(actions, k), "threshold"));
    } else if (n_actions == 1 && json_object_get(root, "threshold") != NULL) {
        thresholds[0] = threshold_value(json_object_get(root, "threshold"));
    } else {
        status = ln_error_set(err, LN_ERR_DATA, "the model's metadata has one threshold and the pipeline has %zu "
                              "actions", n_actions);
    }
    json_decref(root);
    return status;
}

static int file_exists(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0;
}

/* Returns 1 when every feature of model is a column of table, else warns naming the first missing one. */
static int features_present(run_context *run, const ln_model *model, int version)
{
    for (size_t i = 0; i < ln_model_feature_count(model); i++) {
        const char *name = ln_model_feature_name(model, i);
        if (ln_table_find(run->test.table, name) < 0) {
            run_warn(run, "production model %s@%d uses column '%s', which is not in the data; it is not compared",
                     run->pipeline->name, version, name);
            return 0;
        }
    }
    return 1;
}

/* Scores the test split with a loaded production model and its stored thresholds. */
static ln_status score_production(run_context *run, ln_model *model, int version, ln_error *err)
{
    size_t n = run->test.table->n_rows;
    double thresholds[LN_MAX_ACTIONS];
    ln_error local = {0};

    if (run_thresholds_from_metadata(ln_model_metadata(model), run->n_actions, thresholds, &local) != LN_OK) {
        run_warn(run, "production model %s@%d is not compared: %s", run->pipeline->name, version, local.message);
        return LN_OK;
    }
    if (!features_present(run, model, version))
        return LN_OK;

    run->production_scores = malloc((n ? n : 1) * sizeof *run->production_scores);
    run->production_decisions = malloc(n ? n : 1);
    run->production_row_payoffs = malloc((n ? n : 1) * sizeof *run->production_row_payoffs);
    if (run->production_scores == NULL || run->production_decisions == NULL || run->production_row_payoffs == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory scoring the production model");

    if (ln_model_predict(model, run->test.table, run->production_scores, &local) != LN_OK) {
        run_warn(run, "production model %s@%d is not compared: %s", run->pipeline->name, version, local.message);
        free(run->production_scores);
        run->production_scores = NULL;
        return LN_OK;
    }

    ln_policy_assign(run->production_scores, n, thresholds, run->n_actions, run->production_decisions);
    ln_policy_result *production = &run->result->production;
    run_summarise_policy(run, run->production_decisions, run->production_scores, production,
                         run->production_row_payoffs);
    production->log_loss = ln_log_loss(run->production_scores, run->test.labels, n);
    production->threshold = thresholds[0];
    run->production_threshold = thresholds[run->n_actions - 1];
    run->result->production_version = version;
    ln_log(LN_LOG_INFO, "production model %s@%d on test: AUC %.4f, payoff %.2f", run->pipeline->name, version,
           production->auc, production->payoff);
    return LN_OK;
}

ln_status run_evaluate_production(run_context *run, ln_error *err)
{
    char path[PATH_MAX];
    const char *given = run->options->registry_path;
    ln_registry *registry = NULL;
    ln_version_info info;
    ln_error local = {0};

    /* Only an existing registry is read: a run that compares must not create one as a side effect. */
    ln_status status = given != NULL ? ln_path_join(NULL, given, path, sizeof path, err)
                                     : ln_path_join(run->pipeline->dir, "lanner.db", path, sizeof path, err);
    if (status != LN_OK || !file_exists(path))
        return status;

    if (ln_registry_open(path, &registry, &local) != LN_OK) {
        run_warn(run, "cannot read the registry to compare with production: %s", local.message);
        return LN_OK;
    }
    status = ln_registry_get(registry, run->pipeline->name, 0, &info, &local);
    ln_registry_close(registry);
    if (status == LN_ERR_NOT_FOUND) {
        ln_log(LN_LOG_INFO, "no production version of %s in %s", run->pipeline->name, path);
        return LN_OK;
    }
    if (status != LN_OK) {
        run_warn(run, "cannot read the production version of %s: %s", run->pipeline->name, local.message);
        return LN_OK;
    }

    run->production_registered = info.version;
    ln_model *model = NULL;
    if (ln_model_load(info.model_path, &model, &local) != LN_OK) {
        run_warn(run, "production model %s@%d cannot be loaded: %s", run->pipeline->name, info.version,
                 local.message);
        ln_version_info_clear(&info);
        return LN_OK;
    }
    status = score_production(run, model, info.version, err);
    if (status == LN_OK && run->result->production_version > 0)
        snprintf(run->production_sha, sizeof run->production_sha, "%s", info.model_sha);
    ln_model_free(model);
    ln_version_info_clear(&info);
    return status;
}

/* Computes the interval of the sum over test rows of model payoff minus other payoff. */
static ln_status gain_interval(const run_context *run, const double *other, double *scratch,
                               ln_bootstrap_interval *out, ln_error *err)
{
    size_t n = run->test.table->n_rows;
    ln_bootstrap_options options = {run->pipeline->bootstrap_resamples, 0.95, run->pipeline->bootstrap_seed};

    for (size_t i = 0; i < n; i++)
        scratch[i] = run->model_row_payoffs[i] - other[i];
    ln_status status = ln_bootstrap_sum(scratch, n, &options, out, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s: bootstrap of the model's gain", run->pipeline->path);
    return LN_OK;
}

ln_status run_model_statistics(run_context *run, ln_error *err)
{
    ln_run_result *result = run->result;
    size_t n = run->test.table->n_rows;

    result->brier = ln_brier_score(run->test_scores, run->test.labels, n);
    result->calibration_error = ln_calibration_curve(run->test_scores, run->test.labels, n, result->calibration);
    result->confusion = ln_confusion_counts(run->model_flags, run->test.labels, n);

    double *scratch = malloc((n ? n : 1) * sizeof *scratch);
    if (scratch == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory for the bootstrap of %zu rows", n);
    ln_status status = gain_interval(run, run->baseline_row_payoffs, scratch, &result->gain_over_baseline, err);
    if (status == LN_OK)
        status = gain_interval(run, run->nothing_row_payoffs, scratch, &result->gain_over_nothing, err);
    if (status == LN_OK && result->production_version > 0)
        status = gain_interval(run, run->production_row_payoffs, scratch, &result->gain_over_production, err);
    free(scratch);
    return status;
}
