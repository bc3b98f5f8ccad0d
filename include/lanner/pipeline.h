/*
 * Pipelines: one YAML file names the decision, the data, the target, the rule
 * in use today, the learner and the payoff of each decision outcome.
 *
 *     ln_pipeline *pipeline = NULL;
 *     ln_run_options options;
 *     ln_run_options_default(&options);
 *     if (ln_pipeline_load("pipeline.yaml", &pipeline, &err) == LN_OK)
 *         status = ln_pipeline_run(pipeline, &options, &result, &err);
 *
 * docs/pipeline.md describes every key.
 */
#ifndef LANNER_PIPELINE_H
#define LANNER_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "lanner/data.h"
#include "lanner/metrics.h"
#include "lanner/model.h"
#include "lanner/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One action of a decision policy, or its default: payoff expressions by the row's label. */
typedef struct ln_action_spec {
    char *name;
    char *payoff_if_positive;
    char *payoff_if_negative;
    double max_rate;     /* at most this share of rows get the action; 1 when unlimited */
} ln_action_spec;

/* Bounds of the slice keys. */
#define LN_MAX_SLICES 16
#define LN_DEFAULT_SLICE_MIN_ROWS 100

/* A pipeline file, parsed and checked for shape (not yet against the data). */
typedef struct ln_pipeline {
    char *path;          /* the file as given */
    char *dir;           /* its folder: relative paths in the file are relative to it */
    char *text;          /* the file's bytes, hashed into the model's lineage */

    char *name;

    /* Data source: exactly one of csv and sqlite; query goes with sqlite. Paths resolved against dir. */
    char *data_csv;
    char *data_sqlite;
    char *data_query;
    ln_load_options load;
    char **schema_names; /* data.schema overrides, n_schema entries */
    ln_type *schema_types;
    size_t n_schema;
    char **missing_markers; /* data.missing, n_missing_markers entries; NULL = defaults */
    size_t n_missing_markers;

    char *target;
    char *positive;      /* the target value that counts as positive, as text */
    char *id;            /* may be NULL */
    char *time;          /* may be NULL: stratified random split */
    char *contract;      /* data contract file checked before the split; may be NULL */
    char **ignore;
    size_t n_ignore;

    double valid_share;  /* share of rows in the valid split */
    double test_share;
    uint64_t split_seed;

    char *baseline_rule;

    ln_train_params train;

    /* Payoff expressions of the binary form: true positive, false positive, false negative, true
     * negative; all NULL when the file uses outcome.actions. */
    char *payoff[4];
    double max_flag_rate; /* at most this share of rows get any action; 1 when unlimited */

    /*
     * The decision policy, in both forms: actions ordered by score (the top
     * scores get actions[0]) and the default for every other row. The binary
     * form is one action named "flag" with payoffs true_positive and
     * false_positive, and a default with false_negative and true_negative.
     */
    int multi_action;    /* 1 when the file uses outcome.actions */
    size_t n_actions;
    ln_action_spec actions[LN_MAX_ACTIONS];
    ln_action_spec fallback;

    /* Columns whose values split the test report, n_slices entries. */
    char **slices;
    size_t n_slices;
    size_t slice_min_rows;   /* values with fewer test rows are pooled into "other" */
    double slice_tolerance;  /* payoff per 1,000 rows a slice may lose before it is marked a regression */

    size_t bootstrap_resamples; /* evaluation.bootstrap: resamples of each confidence interval */
    uint64_t bootstrap_seed;    /* evaluation.seed */
} ln_pipeline;

/*
 * Reads and checks the pipeline file at path. Unknown keys, wrong value types
 * and missing required keys are LN_ERR_CONFIG naming the file, line and key.
 * The caller frees the result with ln_pipeline_free.
 */
ln_status ln_pipeline_load(const char *path, ln_pipeline **out, ln_error *err);

void ln_pipeline_free(ln_pipeline *pipeline);

typedef struct ln_run_options {
    const char *data_override_csv; /* --data: a CSV used instead of the pipeline's source */
    const char *runs_dir;          /* where run folders go; NULL = "runs" beside the pipeline */
    const char *registry_path;     /* NULL = "lanner.db" beside the pipeline */
    int threads;                   /* 0 = all cores */
    int register_model;            /* 0 skips the registry */
    int save_splits;               /* 1 writes train.csv, valid.csv and test.csv into the run folder */
} ln_run_options;

void ln_run_options_default(ln_run_options *options);

/* How one policy did on the test split; NaN where a figure does not apply. */
typedef struct ln_policy_result {
    double auc;
    double pr_auc;
    double log_loss;
    double threshold;
    size_t flagged;
    double flag_rate;
    size_t true_positives;
    double payoff;
    double payoff_per_1000;
} ln_policy_result;

/* One action of the chosen policy. */
typedef struct ln_action_result {
    char name[129];
    double threshold;       /* rows scored at or above it (and below the previous action's) get the action */
    double valid_rate;      /* share of valid rows given the action */
    size_t test_rows;       /* test rows given the action */
    double test_rate;
    size_t true_positives;  /* test rows given the action that are positive */
    double test_payoff;     /* total payoff of the test rows given the action */
} ln_action_result;

typedef struct ln_run_result {
    char run_dir[4096];
    char model_path[4096];
    char report_path[4096];
    char metrics_path[4096];
    char registry_path[4096];
    char registry_name[129];
    int registry_version;      /* 0 when not registered */
    size_t rows_train, rows_valid, rows_test;
    size_t n_features;
    int trees;                 /* trees kept after early stopping (0 for linear) */
    double valid_threshold;    /* chosen on the valid split */
    double valid_payoff;
    ln_policy_result model, baseline, nothing;

    size_t n_actions;          /* 1 for the binary form */
    ln_action_result actions[LN_MAX_ACTIONS];

    /* The registry's production version of this pipeline's name, scored on the test split. */
    int production_version;    /* 0 when there is none or it could not be scored */
    ln_policy_result production;

    /* 95% bootstrap intervals of the model's test payoff minus each other policy's. */
    ln_bootstrap_interval gain_over_baseline, gain_over_nothing, gain_over_production;

    double brier;              /* model on test */
    double calibration_error;  /* expected calibration error over LN_CALIBRATION_BINS bins */
    ln_calibration_bin calibration[LN_CALIBRATION_BINS];
    ln_confusion confusion;    /* model on test: flagged means any action */
    size_t slice_regressions;  /* slices where the model does worse than the rule or production */

    char data_hash[33];
    char pipeline_hash[33];
    double seconds_total;
} ln_run_result;

/*
 * Runs the pipeline: load, check, split, evaluate the rule, train, choose the
 * threshold on the valid split, evaluate on the test split, write the run
 * folder (model.lnr, metrics.json, report.html, pipeline.yaml) and register
 * the model. Progress goes to ln_log and ln_progress.
 */
ln_status ln_pipeline_run(const ln_pipeline *pipeline, const ln_run_options *options,
                          ln_run_result *result, ln_error *err);

/*
 * Evaluates a saved model on data with the pipeline's outcome section: the
 * whole table is treated as a test split (target, payoffs, rule, slices),
 * and the model decides with the thresholds stored in its metadata. No
 * production comparison is made and nothing is written. Fills result and
 * sets *json_out to the metrics as JSON text (name, model, data, rows, test,
 * evaluation, warnings), which the caller frees. model_label and data_label
 * name the inputs in the JSON. The caller keeps ownership of model and data.
 *
 * Errors: LN_ERR_CONFIG when the data lacks a column the model, the rule or
 * a payoff expression needs, or the model's policy has a different number
 * of actions than the pipeline; LN_ERR_DATA as ln_pipeline_run for the
 * target and payoffs; LN_ERR_NOMEM.
 */
ln_status ln_pipeline_evaluate(const ln_pipeline *pipeline, const ln_model *model, ln_table *data,
                               const char *model_label, const char *data_label, ln_run_result *result,
                               char **json_out, ln_error *err);

#ifdef __cplusplus
}
#endif

#endif
