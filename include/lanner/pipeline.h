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

/* Consumers in a pipeline's downstream section. */
#define LN_MAX_CONSUMERS 32

/* Bins of the population stability index of scores, and the share an empty bin counts as. */
#define LN_PSI_BINS 10
#define LN_PSI_FLOOR 1e-4

/*
 * The gate a candidate must pass to be promoted by `lanner run --promote`.
 * Each rule is on (1) or off (0); docs/pipeline.md defines them.
 */
typedef struct ln_gate_spec {
    int beat_baseline;           /* test payoff above the rule's */
    int beat_production;         /* test payoff above production's, when there is a production model */
    int by_interval;             /* compare by the lower bound of the 95% bootstrap interval of the gain */
    int contract;                /* no error-level violation of the pipeline's contract */
    double max_slice_regression; /* largest allowed shortfall of a slice, as a share of the reference's
                                    payoff per 1,000 rows on that slice; NaN when not checked */
} ln_gate_spec;

/* A system that acts on the model's output, from the pipeline's downstream section. */
typedef struct ln_consumer_spec {
    char *name;
    int uses_score;      /* 0: receives the rows the model flags; 1: applies its own threshold to the score */
    double threshold;    /* with uses_score: a row goes to the consumer when its score is at least this */
    double rate_min;     /* share of rows it may receive, from rate_min to rate_max; 0 and 1 when unset */
    double rate_max;
    double max_changed;  /* largest share of decisions that may differ from production's; NaN when unset */
} ln_consumer_spec;

/* How promoting a candidate changes what one consumer receives, on the same rows. */
typedef struct ln_consumer_report {
    char name[129];
    int uses_score;
    double rate_before;  /* share of rows production sends it; NaN without a production model */
    double rate_after;   /* share of rows the candidate sends it */
    double changed;      /* share of rows whose decision differs; NaN without a production model */
    double psi;          /* population stability index of candidate scores against production's */
    int passed;          /* 1 when the consumer is within every limit */
    char detail[256];    /* the first broken limit, or a summary when all hold */
} ln_consumer_report;

/* A pipeline file, parsed and checked for shape (not yet against the data). */
typedef struct ln_pipeline {
    char *path;          /* the file as given */
    char *dir;           /* its folder: relative paths in the file are relative to it */
    char *text;          /* the file's bytes, hashed into the model's lineage */

    char *name;

    /*
     * Data source: exactly one of a CSV file and a database, which is an
     * SQLite file (data.sqlite) or a PostgreSQL URL (data.postgres,
     * recognised by its postgres:// or postgresql:// scheme). A database needs
     * data_query. Paths are resolved against dir.
     */
    char *data_csv;
    char *data_database;
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

    int has_gate;               /* 1 when the file has a gate section */
    ln_gate_spec gate;          /* the defaults when has_gate is 0 */

    ln_consumer_spec *consumers; /* downstream section, n_consumers entries */
    size_t n_consumers;
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
    int save_splits;               /* 1 writes train.csv and valid.csv too; test.csv is always written */
    int use_cache;                 /* 0 recomputes every step and writes nothing to the cache */
    const char *cache_dir;         /* NULL = ".lanner-cache" beside the pipeline, or inside runs_dir when given */
    /*
     * Bytes the step cache may take once a run ends; the least recently used
     * entries of earlier runs go first. 0 = no limit; default 4,096 MB of
     * 10^6 bytes.
     */
    uint64_t cache_limit_bytes;
    int promote;                   /* 1 promotes the registered model when the gate passes */
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

/* Steps of a run that have a cache key. */
#define LN_RUN_MAX_STEPS 8

/* One step of a run: its cache key, whether the cache supplied it, and its wall time. */
typedef struct ln_step_record {
    char name[16];       /* "load", "contract", "split", "baseline", "train", "evaluate" */
    char key[33];        /* XXH3-128 of the step's inputs, 32 hex digits */
    int reused;          /* 1 when the result came from the cache */
    double seconds;
} ln_step_record;

/* Rules of a gate: the four named ones, the slice rule and one per downstream consumer. */
#define LN_GATE_MAX_RULES (5 + LN_MAX_CONSUMERS)

/* One rule of the gate and its outcome. */
typedef struct ln_gate_rule {
    char name[160];      /* "beat_baseline", "beat_production", "contract", "max_slice_regression",
                            "downstream:<consumer>" */
    int passed;
    char detail[320];    /* the figures behind the outcome, in words */
} ln_gate_rule;

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

    /* The steps in the order they ran, each with its cache key and whether it was reused. */
    size_t n_steps;
    ln_step_record steps[LN_RUN_MAX_STEPS];
    char run_json_path[4096];

    /* The gate: evaluated on every run; promoted is 1 when --promote promoted the model. */
    int gate_passed;
    size_t n_gate_rules;
    ln_gate_rule gate_rules[LN_GATE_MAX_RULES];
    int promoted;

    /* Comparison of what one downstream consumer receives before (production) and after (this model), on test. */
    size_t n_consumers;
    ln_consumer_report consumers[LN_MAX_CONSUMERS];
    double score_psi;          /* PSI of the model's test scores against production's; NaN without production */
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

/*
 * Returns the population stability index of actual scores against reference
 * scores: sum over LN_PSI_BINS bins of (a - r) * ln(a / r), where r and a are
 * the shares of reference and actual scores in the bin. The bins are cut at
 * the reference's deciles: edge k (k = 1..9) is the reference score at sorted
 * position floor(k * n_reference / 10), and a score equal to an edge goes to
 * the bin above it. A share below LN_PSI_FLOOR counts as LN_PSI_FLOOR, so an
 * empty bin adds a large but finite term. NaN scores are skipped. Returns NaN
 * when either side has no score.
 */
double ln_score_psi(const double *reference, size_t n_reference, const double *actual, size_t n_actual);

/*
 * Compares what each consumer receives from production and from the
 * candidate on the same n_rows rows. A flag consumer receives the rows whose
 * score is at least the model's own threshold, where its first action
 * starts (+INFINITY flags nothing). A score consumer receives the rows whose
 * score is at least the consumer's threshold. production_scores may be NULL
 * (no production model): then rate_before, changed and psi are NaN and
 * max_changed is not checked. Fills reports[0..n_consumers-1].
 */
void ln_downstream_compare(const ln_consumer_spec *consumers, size_t n_consumers, const double *candidate_scores,
                           double candidate_threshold, const double *production_scores,
                           double production_threshold, size_t n_rows, ln_consumer_report *reports);

/*
 * Reads the "downstream" array of a run's metrics JSON (as `lanner run`
 * stores it with each registered version) into *out, n entries, which the
 * caller frees with ln_consumers_free. A document without the array gives
 * no consumers. Errors: LN_ERR_PARSE for text that is not JSON or an entry of
 * the wrong shape; LN_ERR_LIMIT over LN_MAX_CONSUMERS; LN_ERR_NOMEM.
 */
ln_status ln_consumers_from_json(const char *metrics_json, ln_consumer_spec **out, size_t *n, ln_error *err);

/* Frees n consumers and the array; NULL is ignored. */
void ln_consumers_free(ln_consumer_spec *consumers, size_t n);

#ifdef __cplusplus
}
#endif

#endif
