/*
 * State shared by the steps of a pipeline run (run.c) and the writers of its
 * outputs (run_output.c).
 */
#ifndef LANNER_PIPELINE_RUN_INTERNAL_H
#define LANNER_PIPELINE_RUN_INTERNAL_H

#include <jansson.h>

#include "lanner/expr.h"
#include "lanner/metrics.h"
#include "lanner/model.h"
#include "lanner/pipeline.h"
#include "pipeline/split.h"

#define RUN_MAX_WARNINGS 64

/* Indices of the four payoff expressions, in ln_pipeline.payoff order. */
enum { PAYOFF_TP, PAYOFF_FP, PAYOFF_FN, PAYOFF_TN, PAYOFF_COUNT };

/* One split's rows, labels and per-row payoffs. */
typedef struct run_split {
    ln_table *table;
    double *labels;
    double *payoff[PAYOFF_COUNT];
    double positive_rate;
} run_split;

typedef struct run_context {
    const ln_pipeline *pipeline;
    const ln_run_options *options;
    ln_run_result *result;

    char data_source[8400];
    char created_at[32];
    ln_table *data;
    double *labels;
    split_rows rows;
    char split_description[256];
    run_split train, valid, test;

    char **features;
    size_t n_features;

    ln_expr *rule;
    ln_expr *payoff[PAYOFF_COUNT];
    unsigned char *baseline_flags; /* on the test split */

    ln_model *model;
    double *valid_scores;
    double *test_scores;
    unsigned char *model_flags;    /* on the test split */
    ln_threshold_choice choice;

    char *warnings[RUN_MAX_WARNINGS];
    size_t n_warnings;
} run_context;

/* Turns the target column into 0/1 labels; the caller frees *labels_out. */
ln_status run_make_labels(const ln_table *table, const char *target_name, const char *positive,
                          double **labels_out, ln_error *err);

/* Returns the split's per-row payoff arrays as ln_payoffs. */
ln_payoffs run_split_payoffs(const run_split *split);

/* Records a warning for the report and metrics.json, and logs it. */
void run_warn(run_context *run, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Builds the JSON that metrics.json holds and `lanner run --json` prints. The caller decrefs. */
json_t *run_result_json(const run_context *run);

/* Creates the run folder and writes model.lnr (with its metadata) and pipeline.yaml into it. */
ln_status run_write_model(run_context *run, ln_error *err);

/* Writes metrics.json and report.html into the run folder; call after run_register. */
ln_status run_write_reports(run_context *run, ln_error *err);

/* Adds the model to the registry and records the version in the result. */
ln_status run_register(run_context *run, ln_error *err);

/* Stores a double in JSON as a number, or null when it is NaN or infinite. */
json_t *run_json_number(double value);

#endif
