/*
 * Data checks of a run: the pipeline's data contract on the loaded rows, and
 * features that predict the target too well to be true (likely leakage).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/contract.h"
#include "lanner/hash.h"
#include "lanner/io.h"
#include "lanner/log.h"
#include "pipeline/run_internal.h"

/* A feature whose AUC alone reaches this is almost surely a copy or a consequence of the target. */
#define LEAKAGE_AUC 0.99

/* Describes a violation in one line: "column 'amount', rule max: 12 of 9857 values are above max 25000". */
static void describe_violation(const ln_violation *violation, char *text, size_t capacity)
{
    if (violation->column == NULL)
        snprintf(text, capacity, "rule %s: %s", ln_rule_name(violation->rule), violation->message);
    else
        snprintf(text, capacity, "column '%s', rule %s: %s", violation->column, ln_rule_name(violation->rule),
                 violation->message);
}

/*
 * Logs each error-level violation on its own line, so the user sees them all
 * before the run stops with one error naming the first.
 */
static void log_violations(const ln_validation *validation)
{
    char text[512];

    for (size_t i = 0; i < validation->n_violations; i++) {
        const ln_violation *violation = &validation->violations[i];
        if (violation->severity != LN_SEVERITY_ERROR)
            continue;
        describe_violation(violation, text, sizeof text);
        ln_log(LN_LOG_WARN, "contract violation (error level): %s", text);
    }
}

ln_status run_read_contract(run_context *run, char *path, size_t capacity, ln_error *err)
{
    size_t size = 0;

    ln_status status = ln_path_join(run->pipeline->dir, run->pipeline->contract, path, capacity, err);
    if (status == LN_OK)
        status = ln_read_file(path, LN_CONTRACT_MAX_FILE_BYTES, &run->contract_text, &size, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s: contract", run->pipeline->path);
    ln_hash_bytes(run->contract_text, size, run->contract_hash);
    return LN_OK;
}

/* Collects the warning-level violations as "contract FILE: text" lines the caller frees. */
static ln_status collect_warnings(const run_context *run, const ln_validation *validation, char ***warnings,
                                  size_t *n_warnings, ln_error *err)
{
    char text[512];
    char line[700];

    *warnings = calloc(validation->n_violations ? validation->n_violations : 1, sizeof **warnings);
    if (*warnings == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory collecting contract warnings");
    for (size_t i = 0; i < validation->n_violations; i++) {
        if (validation->violations[i].severity == LN_SEVERITY_ERROR)
            continue;
        describe_violation(&validation->violations[i], text, sizeof text);
        snprintf(line, sizeof line, "contract %s: %s", run->pipeline->contract, text);
        char *copy = strdup(line);
        if (copy == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory collecting contract warnings");
        (*warnings)[(*n_warnings)++] = copy;
    }
    return LN_OK;
}

ln_status run_validate_contract(run_context *run, const char *path, char ***warnings, size_t *n_warnings,
                                ln_error *err)
{
    ln_contract *contract = NULL;
    ln_validation *validation = NULL;

    *warnings = NULL;
    *n_warnings = 0;
    ln_status status = ln_contract_load(path, &contract, err);
    if (status == LN_OK)
        status = ln_contract_validate(contract, run->data, &validation, err);
    if (status == LN_OK)
        status = collect_warnings(run, validation, warnings, n_warnings, err);
    if (status != LN_OK) {
        ln_validation_free(validation);
        ln_contract_free(contract);
        return status;
    }

    log_violations(validation);
    run->contract_errors = ln_validation_error_count(validation);
    run->contract_first_error[0] = '\0';
    for (size_t i = 0; i < validation->n_violations; i++) {
        if (validation->violations[i].severity == LN_SEVERITY_ERROR) {
            describe_violation(&validation->violations[i], run->contract_first_error,
                               sizeof run->contract_first_error);
            break;
        }
    }
    ln_validation_free(validation);
    ln_contract_free(contract);
    return LN_OK;
}

ln_status run_apply_contract(run_context *run, char **warnings, size_t n_warnings, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;
    size_t errors = run->contract_errors;

    for (size_t i = 0; i < n_warnings; i++)
        run_warn(run, "%s", warnings[i]);

    if (errors == 0) {
        ln_log(LN_LOG_INFO, "data satisfies contract %s (%zu warning%s)", pipeline->contract, n_warnings,
               n_warnings == 1 ? "" : "s");
        return LN_OK;
    }
    /* With a gate, a broken contract is one of the gate's rules: the model is trained and registered, not promoted. */
    if (pipeline->has_gate) {
        run_warn(run, "the data breaks %zu error-level rule%s of contract %s (first: %s); the run goes on because "
                      "the pipeline has a gate%s", errors, errors == 1 ? "" : "s", pipeline->contract,
                 run->contract_first_error, pipeline->gate.contract ? ", whose contract rule fails" : "");
        return LN_OK;
    }
    return ln_error_set(err, LN_ERR_CHECK_FAILED,
                        "%s: the data breaks %zu error-level rule%s of contract %s (first: %s); "
                        "the run stopped before training",
                        pipeline->path, errors, errors == 1 ? "" : "s", pipeline->contract,
                        run->contract_first_error);
}

static int is_feature(const run_context *run, const char *name)
{
    for (size_t i = 0; i < run->n_features; i++) {
        if (strcmp(run->features[i], name) == 0)
            return 1;
    }
    return 0;
}

ln_status run_check_leakage(run_context *run, ln_error *err)
{
    ln_profile *profile = NULL;

    /* The profile reads the target as text, so a numeric target's positive value is matched as written. */
    ln_status status = ln_profile_table(run->train.table, run->pipeline->target, run->pipeline->positive,
                                        &profile, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s: checking the train split for leakage", run->pipeline->path);

    for (size_t c = 0; c < profile->n_cols; c++) {
        const ln_column_profile *column = &profile->columns[c];
        if (!is_feature(run, column->name) || !(column->auc >= LEAKAGE_AUC))
            continue;
        run_warn(run, "feature '%s' alone predicts the target with AUC %.4f on the train split: likely "
                      "leakage (a copy or a consequence of the target); add it to 'ignore' unless it is "
                      "known at decision time", column->name, column->auc);
    }
    ln_profile_free(profile);
    return LN_OK;
}

static ln_status check_not_target(const run_context *run, const char *key, const char *name, ln_error *err)
{
    if (name != NULL && strcmp(name, run->pipeline->target) == 0)
        return ln_error_set(err, LN_ERR_CONFIG, "%s: '%s' names the target column '%s'; the target cannot also be %s",
                            run->pipeline->path, key, name, strcmp(key, "id") == 0 ? "the id" : "the time");
    return LN_OK;
}

/* Counts rows whose id repeats an earlier row's, through a dictionary of the ids' text. */
static size_t count_duplicate_ids(const ln_column *id, size_t n_rows)
{
    ln_dict *seen = ln_dict_new();
    size_t duplicates = 0;
    char text[256];

    if (seen == NULL)
        return 0;
    for (size_t row = 0; row < n_rows; row++) {
        if (ln_column_is_missing(id, row))
            continue;
        ln_column_format(id, row, text, sizeof text);
        int32_t before = ln_dict_count(seen);
        if (ln_dict_intern(seen, text, strlen(text)) < before)
            duplicates++;
    }
    ln_dict_release(seen);
    return duplicates;
}

ln_status run_check_roles(run_context *run, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;

    ln_status status = check_not_target(run, "id", pipeline->id, err);
    if (status == LN_OK)
        status = check_not_target(run, "time", pipeline->time, err);
    if (status != LN_OK)
        return status;

    /* A rule that reads the label would score perfectly here and cannot run before the outcome is known. */
    if (ln_expr_reads_column(run->rule, pipeline->target))
        return ln_error_set(err, LN_ERR_CONFIG,
                            "%s: baseline.rule reads the target column '%s'; the rule in use must decide from "
                            "what is known before the outcome", pipeline->path, pipeline->target);

    if (pipeline->id != NULL) {
        size_t duplicates = count_duplicate_ids(ln_table_column(run->data, pipeline->id), run->data->n_rows);
        if (duplicates > 0)
            run_warn(run, "id column '%s' repeats on %zu rows: rows of one entity can land in both the train and "
                          "the test split, which flatters the test figures", pipeline->id, duplicates);
    }
    return LN_OK;
}
