/*
 * The run folder: model.lnr, pipeline.yaml, metrics.json and report.html,
 * and the model's registration.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lanner/data.h"
#include "lanner/io.h"
#include "lanner/log.h"
#include "lanner/registry.h"
#include "lanner/report.h"
#include "pipeline/run_internal.h"

json_t *run_json_number(double value)
{
    return isfinite(value) ? json_real(value) : json_null();
}

static json_t *policy_json(const ln_policy_result *policy, int with_scores, int with_model_fields)
{
    json_t *object = json_object();

    if (with_scores) {
        json_object_set_new(object, "auc", run_json_number(policy->auc));
        json_object_set_new(object, "pr_auc", run_json_number(policy->pr_auc));
    }
    if (with_model_fields) {
        json_object_set_new(object, "logloss", run_json_number(policy->log_loss));
        json_object_set_new(object, "threshold", run_json_number(policy->threshold));
    }
    json_object_set_new(object, "flagged", json_integer((json_int_t)policy->flagged));
    json_object_set_new(object, "flag_rate", run_json_number(policy->flag_rate));
    json_object_set_new(object, "true_positives", json_integer((json_int_t)policy->true_positives));
    json_object_set_new(object, "payoff", run_json_number(policy->payoff));
    json_object_set_new(object, "payoff_per_1000", run_json_number(policy->payoff_per_1000));
    return object;
}

static json_t *interval_json(const ln_bootstrap_interval *interval)
{
    if (interval->n_resamples == 0)
        return json_null();
    json_t *pair = json_array();
    json_array_append_new(pair, run_json_number(interval->lower));
    json_array_append_new(pair, run_json_number(interval->upper));
    return pair;
}

static json_t *calibration_json(const ln_run_result *result)
{
    json_t *bins = json_array();

    for (int b = 0; b < LN_CALIBRATION_BINS; b++) {
        const ln_calibration_bin *bin = &result->calibration[b];
        json_t *object = json_object();
        json_object_set_new(object, "lower", json_real(bin->lower));
        json_object_set_new(object, "upper", json_real(bin->upper));
        json_object_set_new(object, "mean_score", run_json_number(bin->mean_score));
        json_object_set_new(object, "positive_rate", run_json_number(bin->positive_rate));
        json_object_set_new(object, "count", json_integer((json_int_t)bin->count));
        json_array_append_new(bins, object);
    }
    return bins;
}

/* Brier score, calibration, confusion counts and recall of the model on test, added to its policy object. */
static void add_model_statistics(json_t *model, const ln_run_result *result)
{
    const ln_confusion *counts = &result->confusion;
    size_t positives = counts->true_positives + counts->false_negatives;

    json_object_set_new(model, "brier", run_json_number(result->brier));
    json_object_set_new(model, "calibration_error", run_json_number(result->calibration_error));
    json_object_set_new(model, "calibration", calibration_json(result));
    json_t *confusion = json_object();
    json_object_set_new(confusion, "tp", json_integer((json_int_t)counts->true_positives));
    json_object_set_new(confusion, "fp", json_integer((json_int_t)counts->false_positives));
    json_object_set_new(confusion, "fn", json_integer((json_int_t)counts->false_negatives));
    json_object_set_new(confusion, "tn", json_integer((json_int_t)counts->true_negatives));
    json_object_set_new(model, "confusion", confusion);
    json_object_set_new(model, "recall", run_json_number(positives ? (double)counts->true_positives / (double)positives
                                                                   : NAN));
}

static json_t *policy_object_json(const run_context *run)
{
    const ln_run_result *result = run->result;
    json_t *policy = json_object();
    json_t *actions = json_array();

    for (size_t k = 0; k < result->n_actions; k++) {
        const ln_action_result *action = &result->actions[k];
        json_t *object = json_object();
        json_object_set_new(object, "name", json_string(action->name));
        json_object_set_new(object, "threshold", run_json_number(action->threshold));
        json_object_set_new(object, "max_rate", run_json_number(run->pipeline->actions[k].max_rate));
        json_object_set_new(object, "valid_rate", run_json_number(action->valid_rate));
        json_object_set_new(object, "test_rows", json_integer((json_int_t)action->test_rows));
        json_object_set_new(object, "test_rate", run_json_number(action->test_rate));
        json_object_set_new(object, "true_positives", json_integer((json_int_t)action->true_positives));
        json_object_set_new(object, "payoff", run_json_number(action->test_payoff));
        json_array_append_new(actions, object);
    }
    json_object_set_new(policy, "actions", actions);
    json_object_set_new(policy, "max_flag_rate", run_json_number(run->pipeline->max_flag_rate));
    json_object_set_new(policy, "multi_action", json_boolean(run->pipeline->multi_action));
    return policy;
}

static json_t *slices_json(const run_context *run)
{
    json_t *slices = json_array();

    for (size_t i = 0; i < run->n_slices; i++) {
        const ln_slice_summary *slice = &run->slices[i];
        json_t *object = json_object();
        json_object_set_new(object, "column", json_string(slice->column));
        json_object_set_new(object, "value", json_string(slice->value));
        json_object_set_new(object, "rows", json_integer((json_int_t)slice->rows));
        json_object_set_new(object, "positives", json_integer((json_int_t)slice->positives));
        json_object_set_new(object, "model_auc", run_json_number(slice->model_auc));
        json_object_set_new(object, "baseline_auc", run_json_number(slice->baseline_auc));
        json_object_set_new(object, "model_flag_rate", run_json_number(slice->model_flag_rate));
        json_object_set_new(object, "baseline_flag_rate", run_json_number(slice->baseline_flag_rate));
        json_object_set_new(object, "model_payoff_per_1000", run_json_number(slice->model_per_1000));
        json_object_set_new(object, "baseline_payoff_per_1000", run_json_number(slice->baseline_per_1000));
        json_object_set_new(object, "production_payoff_per_1000", run_json_number(slice->production_per_1000));
        json_object_set_new(object, "regression", json_boolean(slice->regression));
        json_array_append_new(slices, object);
    }
    return slices;
}

/* The test object: each policy, the gains and their intervals, shared by lanner run and lanner evaluate. */
json_t *run_test_json(const run_context *run)
{
    const ln_run_result *result = run->result;
    json_t *test = json_object();

    json_t *model = policy_json(&result->model, 1, 1);
    add_model_statistics(model, result);
    json_object_set_new(test, "model", model);
    json_object_set_new(test, "baseline", policy_json(&result->baseline, 1, 0));
    json_object_set_new(test, "flag_nothing", policy_json(&result->nothing, 0, 0));
    json_object_set_new(test, "production", result->production_version > 0
                                                ? policy_json(&result->production, 1, 1) : json_null());
    json_object_set_new(test, "production_version", result->production_version > 0
                                                        ? json_integer(result->production_version) : json_null());
    json_object_set_new(test, "gain_over_baseline", run_json_number(result->model.payoff - result->baseline.payoff));
    json_object_set_new(test, "gain_over_nothing", run_json_number(result->model.payoff - result->nothing.payoff));
    json_object_set_new(test, "gain_over_production",
                        result->production_version > 0
                            ? run_json_number(result->model.payoff - result->production.payoff) : json_null());
    json_object_set_new(test, "gain_over_baseline_interval", interval_json(&result->gain_over_baseline));
    json_object_set_new(test, "gain_over_nothing_interval", interval_json(&result->gain_over_nothing));
    json_object_set_new(test, "gain_over_production_interval",
                        result->production_version > 0 ? interval_json(&result->gain_over_production) : json_null());
    json_object_set_new(test, "slices", slices_json(run));
    json_object_set_new(test, "slice_regressions", json_integer((json_int_t)result->slice_regressions));
    return test;
}

json_t *run_evaluation_json(const run_context *run)
{
    json_t *evaluation = json_object();
    json_object_set_new(evaluation, "bootstrap", json_integer((json_int_t)run->pipeline->bootstrap_resamples));
    json_object_set_new(evaluation, "seed", json_integer((json_int_t)run->pipeline->bootstrap_seed));
    json_object_set_new(evaluation, "confidence", json_real(0.95));
    return evaluation;
}

static json_t *string_or_null(const char *text)
{
    return text ? json_string(text) : json_null();
}

json_t *run_result_json(const run_context *run)
{
    const ln_run_result *result = run->result;
    json_t *root = json_object();

    json_object_set_new(root, "name", json_string(run->pipeline->name));
    json_object_set_new(root, "run_dir", json_string(result->run_dir));
    json_object_set_new(root, "model_path", json_string(result->model_path));
    json_object_set_new(root, "report_path", json_string(result->report_path));
    json_object_set_new(root, "created_at", json_string(run->created_at));
    json_object_set_new(root, "lanner_version", json_string(LANNER_VERSION));

    json_t *registry = json_null();
    if (result->registry_version > 0) {
        registry = json_object();
        json_object_set_new(registry, "path", json_string(result->registry_path));
        json_object_set_new(registry, "name", json_string(result->registry_name));
        json_object_set_new(registry, "version", json_integer(result->registry_version));
    }
    json_object_set_new(root, "registry", registry);

    json_t *rows = json_object();
    json_object_set_new(rows, "train", json_integer((json_int_t)result->rows_train));
    json_object_set_new(rows, "valid", json_integer((json_int_t)result->rows_valid));
    json_object_set_new(rows, "test", json_integer((json_int_t)result->rows_test));
    json_object_set_new(root, "rows", rows);
    json_object_set_new(root, "split", json_string(run->split_description));

    json_t *model = json_object();
    json_object_set_new(model, "type", json_string(run->pipeline->train.learner == LN_LEARNER_GBDT ? "gbdt" : "linear"));
    json_object_set_new(model, "features", json_integer((json_int_t)result->n_features));
    json_object_set_new(model, "trees", json_integer(result->trees));
    json_object_set_new(root, "model", model);

    json_t *valid = json_object();
    json_object_set_new(valid, "threshold", run_json_number(result->valid_threshold));
    json_object_set_new(valid, "payoff", run_json_number(result->valid_payoff));
    json_object_set_new(root, "valid", valid);

    json_object_set_new(root, "policy", policy_object_json(run));
    json_object_set_new(root, "test", run_test_json(run));
    json_object_set_new(root, "evaluation", run_evaluation_json(run));

    json_t *lineage = json_object();
    json_object_set_new(lineage, "data_source", json_string(run->data_source));
    json_object_set_new(lineage, "data_hash", json_string(result->data_hash));
    json_object_set_new(lineage, "pipeline_hash", json_string(result->pipeline_hash));
    json_object_set_new(lineage, "contract_hash", run->contract_hash[0] ? json_string(run->contract_hash) : json_null());
    json_object_set_new(lineage, "steps", run_steps_json(run));
    json_object_set_new(root, "lineage", lineage);
    json_object_set_new(root, "gate", run_gate_json(run));
    json_object_set_new(root, "promoted", json_boolean(result->promoted));
    json_object_set_new(root, "downstream", run_downstream_json(run));
    json_object_set_new(root, "score_psi", run_json_number(result->score_psi));

    json_t *warnings = json_array();
    for (size_t i = 0; i < run->n_warnings; i++)
        json_array_append_new(warnings, json_string(run->warnings[i]));
    json_object_set_new(root, "warnings", warnings);
    return root;
}

/* The metadata that travels inside model.lnr: what `lanner predict` needs to act on scores. */
static char *model_metadata(const run_context *run)
{
    const ln_pipeline *pipeline = run->pipeline;
    json_t *root = json_object();

    json_object_set_new(root, "name", json_string(pipeline->name));
    json_object_set_new(root, "target", json_string(pipeline->target));
    json_object_set_new(root, "positive", json_string(pipeline->positive));
    json_object_set_new(root, "id", string_or_null(pipeline->id));
    /* "threshold" is where any action starts, which is what `lanner predict` flags. */
    json_object_set_new(root, "threshold", run_json_number(run->thresholds[run->n_actions - 1]));
    json_t *policy = json_object();
    json_t *actions = json_array();
    for (size_t k = 0; k < run->n_actions; k++) {
        json_t *action = json_object();
        json_object_set_new(action, "name", json_string(pipeline->actions[k].name));
        json_object_set_new(action, "threshold", run_json_number(run->thresholds[k]));
        json_array_append_new(actions, action);
    }
    json_object_set_new(policy, "actions", actions);
    json_object_set_new(root, "policy", policy);
    json_object_set_new(root, "max_flag_rate", json_real(pipeline->max_flag_rate));
    json_object_set_new(root, "baseline_rule", json_string(pipeline->baseline_rule));
    /* The contract travels with the model, so serving and monitoring check the rules it was trained under. */
    json_object_set_new(root, "contract", string_or_null(run->contract_text));
    if (run->reference != NULL)
        json_object_set(root, "reference", run->reference);
    /* No time goes in here: the same inputs give a byte-identical model file. metrics.json and run.json keep
     * the run's times. */
    json_object_set_new(root, "lanner_version", json_string(LANNER_VERSION));
    json_object_set_new(root, "data_hash", json_string(run->result->data_hash));
    json_object_set_new(root, "pipeline_hash", json_string(run->result->pipeline_hash));

    char *text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(root);
    return text;
}

/* runs/<name>-<UTC time>, with a counter when two runs start in the same second. */
ln_status run_runs_base(const run_context *run, char *out, size_t capacity, ln_error *err)
{
    if (run->options->runs_dir != NULL)
        return ln_path_join(NULL, run->options->runs_dir, out, capacity, err);
    return ln_path_join(run->pipeline->dir, "runs", out, capacity, err);
}

static ln_status make_run_dir(run_context *run, ln_error *err)
{
    char base[PATH_MAX];
    char stamp[32];

    ln_status status = run_runs_base(run, base, sizeof base, err);
    if (status == LN_OK)
        status = ln_make_dirs(base, err);
    if (status != LN_OK)
        return status;

    /* created_at is YYYY-MM-DDTHH:MM:SSZ; the folder name drops the separators. */
    snprintf(stamp, sizeof stamp, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", run->created_at, run->created_at + 5,
             run->created_at + 8, run->created_at + 11, run->created_at + 14, run->created_at + 17);

    for (int attempt = 0; attempt < 1000; attempt++) {
        char *dir = run->result->run_dir;
        size_t capacity = sizeof run->result->run_dir;
        int written = attempt == 0 ? snprintf(dir, capacity, "%s/%s-%s", base, run->pipeline->name, stamp)
                                   : snprintf(dir, capacity, "%s/%s-%s-%d", base, run->pipeline->name, stamp, attempt);
        if (written < 0 || (size_t)written >= capacity)
            return ln_error_set(err, LN_ERR_LIMIT, "run folder path too long under %s", base);
        if (mkdir(dir, 0755) == 0)
            return LN_OK;
        if (errno != EEXIST)
            return ln_error_set(err, LN_ERR_IO, "%s: cannot create run folder: %s", dir, strerror(errno));
    }
    return ln_error_set(err, LN_ERR_IO, "%s: too many runs named %s in the same second", base, run->pipeline->name);
}

static ln_status join_run_path(run_context *run, const char *file, char *out, size_t capacity, ln_error *err)
{
    return ln_path_join(run->result->run_dir, file, out, capacity, err);
}

/*
 * Saves the test split as CSV, which `lanner models promote` replays the
 * candidate and production models on, and with --save-splits the train and
 * valid splits too, so another tool can be trained and tested on exactly the
 * same rows.
 */
static ln_status write_splits(run_context *run, ln_error *err)
{
    const run_split *splits[3] = {&run->test, &run->train, &run->valid};
    const char *names[3] = {"test.csv", "train.csv", "valid.csv"};
    char path[PATH_MAX];
    int count = run->options->save_splits ? 3 : 1;

    for (int i = 0; i < count; i++) {
        ln_status status = join_run_path(run, names[i], path, sizeof path, err);
        if (status == LN_OK)
            status = ln_table_write_csv(splits[i]->table, path, err);
        if (status != LN_OK)
            return status;
    }
    return LN_OK;
}

/*
 * Copies the pipeline file into the run folder with a PostgreSQL URL's
 * password replaced by ***, so run folders can be shared. The URL is
 * replaced where it appears verbatim; a password written with YAML escapes
 * would survive, which docs/data.md warns about (PGPASSWORD avoids both).
 */
static ln_status write_pipeline_copy(run_context *run, const char *path, ln_error *err)
{
    const char *text = run->pipeline->text;
    const char *url = run->pipeline->data_database;

    if (url == NULL || !ln_postgres_is_url(url) || strstr(text, url) == NULL)
        return ln_write_file_atomic(path, text, strlen(text), err);

    char redacted[4096];
    ln_postgres_redact_url(url, redacted, sizeof redacted);

    size_t url_length = strlen(url);
    size_t occurrences = 0;
    for (const char *at = text; (at = strstr(at, url)) != NULL; at += url_length)
        occurrences++;

    /* "***" can be longer than a short password, so room grows with each occurrence. */
    char *copy = malloc(strlen(text) + occurrences * strlen(redacted) + 1);
    if (copy == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory copying the pipeline file");

    char *out = copy;
    for (const char *at; (at = strstr(text, url)) != NULL; text = at + url_length) {
        memcpy(out, text, (size_t)(at - text));
        out += at - text;
        out = stpcpy(out, redacted);
    }
    strcpy(out, text);

    ln_status status = ln_write_file_atomic(path, copy, strlen(copy), err);
    free(copy);
    return status;
}

ln_status run_write_model(run_context *run, ln_error *err)
{
    char pipeline_copy[PATH_MAX];

    ln_status status = make_run_dir(run, err);
    if (status == LN_OK)
        status = join_run_path(run, "model.lnr", run->result->model_path, sizeof run->result->model_path, err);
    if (status == LN_OK)
        status = join_run_path(run, "pipeline.yaml", pipeline_copy, sizeof pipeline_copy, err);
    if (status != LN_OK)
        return status;

    char *metadata = model_metadata(run);
    if (metadata == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory writing model metadata");
    status = ln_model_set_metadata(run->model, metadata, err);
    free(metadata);

    if (status == LN_OK)
        status = ln_model_save(run->model, run->result->model_path, err);
    if (status == LN_OK)
        status = write_pipeline_copy(run, pipeline_copy, err);
    if (status == LN_OK)
        status = write_splits(run, err);
    return status;
}

static ln_status registry_path(run_context *run, ln_error *err)
{
    const char *given = run->options->registry_path;

    if (given != NULL)
        return ln_path_join(NULL, given, run->result->registry_path, sizeof run->result->registry_path, err);
    return ln_path_join(run->pipeline->dir, "lanner.db", run->result->registry_path,
                        sizeof run->result->registry_path, err);
}

ln_status run_register(run_context *run, ln_error *err)
{
    ln_registry *registry = NULL;

    ln_status status = registry_path(run, err);
    if (status == LN_OK)
        status = ln_registry_open(run->result->registry_path, &registry, err);
    if (status != LN_OK)
        return status;

    json_t *metrics = run_result_json(run);
    char *metrics_text = json_dumps(metrics, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(metrics);

    ln_registration registration = {
        .name = run->pipeline->name,
        .model_path = run->result->model_path,
        .metrics_json = metrics_text ? metrics_text : "{}",
        .data_hash = run->result->data_hash,
        .pipeline_hash = run->result->pipeline_hash,
        .contract_hash = run->contract_hash[0] ? run->contract_hash : NULL,
        .run_dir = run->result->run_dir,
        .lanner_version = LANNER_VERSION,
    };
    status = ln_registry_register(registry, &registration, &run->result->registry_version, err);
    free(metrics_text);
    ln_registry_close(registry);

    if (status == LN_OK) {
        snprintf(run->result->registry_name, sizeof run->result->registry_name, "%s", run->pipeline->name);
        ln_log(LN_LOG_INFO, "registered %s version %d in %s", run->pipeline->name, run->result->registry_version,
               run->result->registry_path);
    }
    return status;
}

static ln_status write_metrics(run_context *run, ln_error *err)
{
    json_t *metrics = run_result_json(run);
    char *text = json_dumps(metrics, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(metrics);
    if (text == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory writing metrics.json");

    ln_status status = ln_write_file_atomic(run->result->metrics_path, text, strlen(text), err);
    free(text);
    return status;
}

static void fill_summary(ln_policy_summary *summary, const char *label, const ln_policy_result *policy)
{
    summary->label = label;
    summary->auc = policy->auc;
    summary->pr_auc = policy->pr_auc;
    summary->log_loss = policy->log_loss;
    summary->threshold = policy->threshold;
    summary->flagged = policy->flagged;
    summary->flag_rate = policy->flag_rate;
    summary->true_positives = policy->true_positives;
    summary->payoff = policy->payoff;
    summary->payoff_per_1000 = policy->payoff_per_1000;
}

void run_fill_report_input(const run_context *run, ln_report_input *input, const double *importance)
{
    const ln_pipeline *pipeline = run->pipeline;
    const ln_run_result *result = run->result;

    input->pipeline_name = pipeline->name;
    input->target = pipeline->target;
    input->positive_label = pipeline->positive;
    input->learner = pipeline->train.learner == LN_LEARNER_GBDT ? "gbdt" : "linear";
    input->data_source = run->data_source;
    input->data_hash = result->data_hash;
    input->baseline_rule = pipeline->baseline_rule;
    for (int i = 0; i < 4; i++)
        input->payoff_text[i] = pipeline->payoff[i];
    input->max_flag_rate = pipeline->max_flag_rate;
    input->registry_name = result->registry_version > 0 ? result->registry_name : NULL;
    input->registry_version = result->registry_version;
    input->run_dir = result->run_dir;
    input->created_at = run->created_at;
    input->lanner_version = LANNER_VERSION;

    input->rows_train = result->rows_train;
    input->rows_valid = result->rows_valid;
    input->rows_test = result->rows_test;
    input->positive_rate_train = run->train.positive_rate;
    input->positive_rate_valid = run->valid.positive_rate;
    input->positive_rate_test = run->test.positive_rate;
    input->split_description = run->split_description;

    input->test_scores = run->test_scores;
    input->test_labels = run->test.labels;
    input->test_baseline_flags = run->baseline_flags;
    if (!pipeline->multi_action)
        input->test_payoffs = run_split_payoffs(&run->test);
    if (run->valid.table != NULL) {
        input->valid_scores = run->valid_scores;
        input->valid_labels = run->valid.labels;
        if (!pipeline->multi_action)
            input->valid_payoffs = run_split_payoffs(&run->valid);
        run_split_options(&run->valid, run->n_actions, input->valid_options);
    }

    fill_summary(&input->model, "Model", &result->model);
    fill_summary(&input->baseline, "Rule in use", &result->baseline);
    fill_summary(&input->nothing, pipeline->multi_action ? "Default for all" : "Flag nothing", &result->nothing);

    input->multi_action = pipeline->multi_action;
    input->n_actions = run->n_actions;
    for (size_t k = 0; k <= run->n_actions; k++) {
        const ln_action_spec *spec = k < run->n_actions ? &pipeline->actions[k] : &pipeline->fallback;
        input->action_payoff_text[k][0] = spec->payoff_if_positive;
        input->action_payoff_text[k][1] = spec->payoff_if_negative;
        if (k == run->n_actions)
            break;
        input->action_names[k] = spec->name;
        input->action_thresholds[k] = run->thresholds[k];
        input->action_max_rates[k] = spec->max_rate;
        input->action_test_rates[k] = result->actions[k].test_rate;
    }
    input->production_version = result->production_version;
    if (result->production_version > 0)
        fill_summary(&input->production, "Production", &result->production);
    input->gain_over_baseline = result->gain_over_baseline;
    input->gain_over_nothing = result->gain_over_nothing;
    input->gain_over_production = result->gain_over_production;
    input->brier = result->brier;
    input->calibration_error = result->calibration_error;
    input->n_slices = run->n_slices;
    input->slices = run->slices;
    input->slice_tolerance = pipeline->slice_tolerance;

    input->n_features = importance != NULL ? run->n_features : 0;
    input->feature_names = (const char *const *)run->features;
    input->feature_importance = importance;
    input->n_warnings = run->n_warnings;
    input->warnings = (const char *const *)run->warnings;
}

static ln_status write_report(run_context *run, ln_error *err)
{
    ln_report_input input = {0};

    double *importance = malloc((run->n_features ? run->n_features : 1) * sizeof *importance);
    if (importance == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory writing the report");
    ln_model_feature_importance(run->model, importance);

    run_fill_report_input(run, &input, importance);
    ln_status status = ln_report_write_html(&input, run->result->report_path, err);
    free(importance);
    return status;
}

ln_status run_write_reports(run_context *run, ln_error *err)
{
    ln_run_result *result = run->result;

    ln_status status = join_run_path(run, "metrics.json", result->metrics_path, sizeof result->metrics_path, err);
    if (status == LN_OK)
        status = join_run_path(run, "report.html", result->report_path, sizeof result->report_path, err);
    if (status == LN_OK)
        status = write_report(run, err);
    if (status == LN_OK)
        status = write_metrics(run, err);
    if (status == LN_OK)
        status = run_write_record(run, err);
    if (status == LN_OK)
        ln_log(LN_LOG_INFO, "wrote %s", result->run_dir);
    return status;
}

/* "gate passed: beat_baseline (model payoff ...); contract (...)", cut to the registry's reason limit. */
static void gate_reason(const ln_run_result *result, char *reason, size_t capacity)
{
    size_t used = (size_t)snprintf(reason, capacity, "gate passed:");

    for (size_t i = 0; i < result->n_gate_rules && used < capacity; i++)
        used += (size_t)snprintf(reason + used, capacity - used, "%s %s (%s)", i ? ";" : "",
                                 result->gate_rules[i].name, result->gate_rules[i].detail);
    if (result->n_gate_rules == 0 && used < capacity)
        snprintf(reason + used, capacity - used, " no rule is enabled");
}

ln_status run_promote(run_context *run, ln_error *err)
{
    ln_run_result *result = run->result;
    ln_registry *registry = NULL;
    char reason[LN_REGISTRY_MAX_REASON_BYTES];

    if (!result->gate_passed) {
        ln_log(LN_LOG_WARN, "%s version %d is registered but not promoted: the gate failed", result->registry_name,
               result->registry_version);
        return LN_OK;
    }
    gate_reason(result, reason, sizeof reason);
    ln_status status = ln_registry_open(result->registry_path, &registry, err);
    if (status == LN_OK)
        status = ln_registry_promote(registry, run->pipeline->name, result->registry_version, reason, err);
    ln_registry_close(registry);
    if (status != LN_OK)
        return ln_error_prefix(err, "promoting %s version %d", run->pipeline->name, result->registry_version);

    result->promoted = 1;
    ln_log(LN_LOG_INFO, "promoted %s version %d: %s", run->pipeline->name, result->registry_version, reason);
    return LN_OK;
}
