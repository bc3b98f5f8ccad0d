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

static ln_status read_contract_text(run_context *run, const char *path, ln_error *err)
{
    size_t size = 0;

    ln_status status = ln_read_file(path, LN_CONTRACT_MAX_FILE_BYTES, &run->contract_text, &size, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s: contract", run->pipeline->path);
    ln_hash_bytes(run->contract_text, size, run->contract_hash);
    return LN_OK;
}

ln_status run_check_contract(run_context *run, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;
    char path[PATH_MAX];
    ln_contract *contract = NULL;
    ln_validation *validation = NULL;

    if (pipeline->contract == NULL)
        return LN_OK;

    ln_status status = ln_path_join(pipeline->dir, pipeline->contract, path, sizeof path, err);
    if (status == LN_OK)
        status = read_contract_text(run, path, err);
    if (status == LN_OK)
        status = ln_contract_load(path, &contract, err);
    if (status == LN_OK)
        status = ln_contract_validate(contract, run->data, &validation, err);
    if (status != LN_OK) {
        ln_contract_free(contract);
        return status;
    }

    char text[512];
    log_violations(validation);
    for (size_t i = 0; i < validation->n_violations; i++) {
        if (validation->violations[i].severity == LN_SEVERITY_ERROR)
            continue;
        describe_violation(&validation->violations[i], text, sizeof text);
        run_warn(run, "contract %s: %s", pipeline->contract, text);
    }

    size_t errors = ln_validation_error_count(validation);
    if (errors > 0) {
        size_t first = 0;
        while (validation->violations[first].severity != LN_SEVERITY_ERROR)
            first++;
        describe_violation(&validation->violations[first], text, sizeof text);
        status = ln_error_set(err, LN_ERR_CHECK_FAILED,
                              "%s: the data breaks %zu error-level rule%s of contract %s (first: %s); "
                              "the run stopped before training",
                              pipeline->path, errors, errors == 1 ? "" : "s", pipeline->contract, text);
    } else {
        ln_log(LN_LOG_INFO, "data satisfies contract %s (%zu warning%s)", pipeline->contract,
               ln_validation_warning_count(validation), ln_validation_warning_count(validation) == 1 ? "" : "s");
    }
    ln_validation_free(validation);
    ln_contract_free(contract);
    return status;
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
