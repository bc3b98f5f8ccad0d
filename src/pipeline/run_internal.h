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
#include "lanner/report.h"
#include "pipeline/split.h"

#define RUN_MAX_WARNINGS 64

/* The policy's actions and then its default. */
#define RUN_MAX_OPTIONS (LN_MAX_ACTIONS + 1)

/* Indices of an option's two payoff expressions. */
enum { IF_POSITIVE, IF_NEGATIVE };

/* One split's rows, labels and per-row payoffs of each option (the actions, then the default). */
typedef struct run_split {
    ln_table *table;
    double *labels;
    double *option_payoff[RUN_MAX_OPTIONS][2];
    double positive_rate;
    const size_t *data_rows; /* the split's rows in the loaded data, for messages; NULL = the same order */
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
    size_t n_actions;
    ln_expr *option_expr[RUN_MAX_OPTIONS][2];

    /* Test split decisions (an action index, n_actions for the default), flags (any action) and row payoffs. */
    unsigned char *baseline_decisions, *model_decisions, *production_decisions;
    unsigned char *baseline_flags, *model_flags;
    double *baseline_row_payoffs, *model_row_payoffs, *nothing_row_payoffs, *production_row_payoffs;

    ln_model *model;
    double *valid_scores;
    double *test_scores;
    double thresholds[LN_MAX_ACTIONS];

    double *production_scores;

    ln_slice_summary *slices;
    size_t n_slices;

    char *contract_text;          /* the pipeline's contract file as read, or NULL */
    char contract_hash[33];       /* its hash, empty without a contract */

    char *warnings[RUN_MAX_WARNINGS];
    size_t n_warnings;
} run_context;

/* Turns the target column into 0/1 labels; the caller frees *labels_out. */
ln_status run_make_labels(const ln_table *table, const char *target_name, const char *positive,
                          double **labels_out, ln_error *err);

/* Returns the binary form's per-row payoff arrays as ln_payoffs: action 0 flagged, the default not. */
ln_payoffs run_split_payoffs(const run_split *split);

/* Fills options[0..n_actions] with the split's payoff arrays of each action and the default. */
void run_split_options(const run_split *split, size_t n_actions, ln_action_payoffs *options);

/* Fills out from decisions on the test split, and the row payoffs when row_payoffs is not NULL. */
void run_summarise_policy(const run_context *run, const unsigned char *decisions, const double *scores,
                          ln_policy_result *out, double *row_payoffs);

/* Scores the test split with the registry's production model of this pipeline's name, when there is one. */
ln_status run_evaluate_production(run_context *run, ln_error *err);

/* Bootstrap intervals of the model's gains, calibration and confusion counts on the test split. */
ln_status run_model_statistics(run_context *run, ln_error *err);

/* Computes the slice table of the test split (slices.c). */
ln_status run_compute_slices(run_context *run, ln_error *err);

/* Reads the policy thresholds stored in a model's metadata; LN_ERR_DATA when they do not fit n_actions. */
ln_status run_thresholds_from_metadata(const char *metadata, size_t n_actions, double *thresholds, ln_error *err);

/* Frees everything the context owns. */
void run_free(run_context *run);

/* Steps shared by lanner run and lanner evaluate (run.c). */
ln_status run_check_columns(run_context *run, ln_error *err);
ln_status run_parse_expressions(run_context *run, ln_error *err);
ln_status run_evaluate_payoffs(run_context *run, run_split *split, const char *name, ln_error *err);
ln_status run_evaluate_baseline(run_context *run, ln_error *err);
ln_status run_evaluate_model(run_context *run, ln_error *err);

/* Records a warning for the report and metrics.json, and logs it. */
void run_warn(run_context *run, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Builds the JSON that metrics.json holds and `lanner run --json` prints. The caller decrefs. */
json_t *run_result_json(const run_context *run);

/* The "test" and "evaluation" objects of metrics.json; the caller decrefs. */
json_t *run_test_json(const run_context *run);
json_t *run_evaluation_json(const run_context *run);

/* Fills the report's input from a finished run or evaluation; importance may be NULL. */
void run_fill_report_input(const run_context *run, ln_report_input *input, const double *importance);

/* Creates the run folder and writes model.lnr (with its metadata) and pipeline.yaml into it. */
ln_status run_write_model(run_context *run, ln_error *err);

/* Validates the loaded data against the pipeline's contract: error-level violations stop the run (exit 3). */
ln_status run_check_contract(run_context *run, ln_error *err);

/* Warns about features that alone predict the target almost perfectly on the train split. */
ln_status run_check_leakage(run_context *run, ln_error *err);

/* Writes metrics.json and report.html into the run folder; call after run_register. */
ln_status run_write_reports(run_context *run, ln_error *err);

/* Adds the model to the registry and records the version in the result. */
ln_status run_register(run_context *run, ln_error *err);

/* Stores a double in JSON as a number, or null when it is NaN or infinite. */
json_t *run_json_number(double value);

#endif
