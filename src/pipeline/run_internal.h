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
#include "pipeline/cache.h"
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

/* Where the data comes from; path is the resolved file, or the redacted URL for postgres. */
typedef enum run_source_kind { RUN_SOURCE_CSV, RUN_SOURCE_SQLITE, RUN_SOURCE_POSTGRES } run_source_kind;

typedef struct run_source {
    run_source_kind kind;
    char path[PATH_MAX];
} run_source;

/* Cache keys of the steps, 32 hex digits each, empty until the step ran. */
typedef struct run_keys {
    char load[33];
    char contract[33];
    char split[33];
    char baseline[33];
    char train[33];
    char evaluate[33];
} run_keys;

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
    json_t *reference;            /* the monitoring reference stored in the model metadata, or NULL */
    char contract_hash[33];       /* its hash, empty without a contract */
    size_t contract_errors;       /* error-level violations; they stop the run unless the pipeline has a gate */
    char contract_first_error[512];

    run_cache cache;
    run_keys keys;
    double production_threshold;  /* where production's first action starts; +INFINITY flags nothing */
    char production_sha[65];      /* the production model file's hash, empty when none was compared */
    int production_registered;    /* the registry's production version, 0 for none, even when not compared */

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

/* Seconds on a monotonic clock. */
double run_seconds_now(void);

/* Fills source from the pipeline's data section (or --data) and sets run->data_source. */
ln_status run_describe_source(run_context *run, run_source *source, ln_error *err);

/* Reads the data of source into run->data. */
ln_status run_read_source(run_context *run, const run_source *source, ln_error *err);

/* Steps of lanner run (run.c), called by the cached steps in run_steps.c. */
ln_status run_choose_features(run_context *run, ln_error *err);
ln_status run_make_split_rows(run_context *run, ln_error *err);
ln_status run_fill_splits(run_context *run, ln_error *err);
ln_status run_train_model(run_context *run, ln_error *err);
ln_status run_score_split(run_context *run, const run_split *split, double **scores, ln_error *err);
ln_status run_choose_threshold(run_context *run, ln_error *err);

/* The rule's flags on the test split, and the count of rows where it is undecided. */
ln_status run_rule_flags(run_context *run, size_t *undecided, ln_error *err);

/* The rule's decisions, payoffs and summary on the test split from run->baseline_flags. */
ln_status run_summarise_baseline(run_context *run, size_t undecided, ln_error *err);

/* Opens the step cache of the run (run_steps.c). */
ln_status run_open_cache(run_context *run, ln_error *err);

/* The cached steps: each computes its key, reuses the cached result when there is one, and records itself. */
ln_status run_step_load(run_context *run, ln_error *err);
ln_status run_step_contract(run_context *run, ln_error *err);
ln_status run_step_split(run_context *run, ln_error *err);
ln_status run_step_baseline(run_context *run, ln_error *err);
ln_status run_step_train(run_context *run, ln_error *err);

/* Threshold choice, test report, production comparison, slices, downstream and gate; always recomputed. */
ln_status run_step_evaluate(run_context *run, ln_error *err);

/* Validates the data against the contract and records the counts; warnings are logged (run_checks.c). */
ln_status run_validate_contract(run_context *run, const char *path, char ***warnings, size_t *n_warnings,
                                ln_error *err);

/* Applies a contract result: logs it, and stops the run on an error-level violation without a gate. */
ln_status run_apply_contract(run_context *run, char **warnings, size_t n_warnings, ln_error *err);

/* Reads the contract file named by the pipeline into run->contract_text and its hash. */
ln_status run_read_contract(run_context *run, char *path, size_t capacity, ln_error *err);

/* Evaluates the gate's rules into the result (gate.c). */
void run_evaluate_gate(run_context *run);

/* Compares what each downstream consumer receives from production and from the model (gate.c). */
void run_compare_downstream(run_context *run);

/* Promotes the registered model when the gate passed (run_output.c). */
ln_status run_promote(run_context *run, ln_error *err);

/* The folder that contains the run folders: --runs-dir, else runs/ beside the pipeline. */
ln_status run_runs_base(const run_context *run, char *out, size_t capacity, ln_error *err);

/* Writes run.json into the run folder: steps, keys, timings, reuse (run_record.c). */
ln_status run_write_record(run_context *run, ln_error *err);

/* Records a finished step in the result. */
void run_record_step(run_context *run, const char *name, const char *key, int reused, double seconds);

/* The "steps", "gate" and "downstream" objects of metrics.json (run_record.c); the caller decrefs. */
json_t *run_steps_json(const run_context *run);
json_t *run_gate_json(const run_context *run);
json_t *run_downstream_json(const run_context *run);

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

/* Builds the JSON that metrics.json contains and `lanner run --json` prints. The caller decrefs. */
json_t *run_result_json(const run_context *run);

/* The "test" and "evaluation" objects of metrics.json; the caller decrefs. */
json_t *run_test_json(const run_context *run);
json_t *run_evaluation_json(const run_context *run);

/* Fills the report's input from a finished run or evaluation; importance may be NULL. */
void run_fill_report_input(const run_context *run, ln_report_input *input, const double *importance);

/* Creates the run folder and writes model.lnr (with its metadata) and pipeline.yaml into it. */
ln_status run_write_model(run_context *run, ln_error *err);

/* Summarises the train and valid splits into run->reference for `lanner monitor` (run_reference.c). */
ln_status run_build_reference(run_context *run, ln_error *err);


/* Checks that id and time are not the target and that the rule does not read it; warns about repeated ids. */
ln_status run_check_roles(run_context *run, ln_error *err);

/* Warns about features that alone predict the target almost perfectly on the train split. */
ln_status run_check_leakage(run_context *run, ln_error *err);

/* Writes metrics.json and report.html into the run folder; call after run_register. */
ln_status run_write_reports(run_context *run, ln_error *err);

/* Adds the model to the registry and records the version in the result. */
ln_status run_register(run_context *run, ln_error *err);

/* Stores a double in JSON as a number, or null when it is NaN or infinite. */
json_t *run_json_number(double value);

#endif
