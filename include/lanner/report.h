/*
 * The run report: one self-contained HTML file (inline CSS and SVG, no
 * scripts or network requests) that a product manager can read.
 *
 *     ln_report_input input = {0};
 *     input.pipeline_name = "order-fraud";
 *     ...
 *     ln_report_write_html(&input, "runs/order-fraud-20261204T101500/report.html", &err);
 */
#ifndef LANNER_REPORT_H
#define LANNER_REPORT_H

#include <stddef.h>

#include "lanner/metrics.h"
#include "lanner/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How one decision policy did on the test split. Scores-based figures are NaN when they do not apply. */
typedef struct ln_policy_summary {
    const char *label;      /* "Model", "Rule in use", "Flag nothing" */
    double auc;             /* ROC AUC of the policy's scores (the rule's 0/1 flags for the rule) */
    double pr_auc;          /* average precision */
    double log_loss;        /* model only, NaN otherwise */
    double threshold;       /* model only: flag when score >= threshold; +INFINITY flags nothing */
    size_t flagged;         /* rows flagged */
    double flag_rate;       /* flagged / rows */
    size_t true_positives;  /* flagged rows that are positive */
    double payoff;          /* total payoff, in the payoff expressions' unit */
    double payoff_per_1000; /* payoff per 1,000 rows */
} ln_policy_summary;

/* How the model, the rule and production did on one slice of the test split (the rows sharing a value). */
typedef struct ln_slice_summary {
    char column[129];
    char value[96];             /* the value, "other", "(missing)" or a bucket such as "[10, 25)" */
    size_t rows, positives;
    double model_auc, baseline_auc;       /* NaN when the slice lacks a class */
    double model_flag_rate, baseline_flag_rate;
    double model_per_1000, baseline_per_1000;
    double production_per_1000;           /* NaN without a production model */
    int regression;             /* 1 when the model's payoff per 1,000 rows is below the rule's or production's
                                   by more than the tolerance */
} ln_slice_summary;

/* Everything the report shows. The caller owns every pointer; the writer only reads. */
typedef struct ln_report_input {
    const char *pipeline_name;
    const char *target;         /* target column */
    const char *positive_label; /* the target value that counts as positive */
    const char *learner;        /* "gbdt" or "linear" */
    const char *data_source;    /* e.g. "sqlite warehouse.db: SELECT ..." or a CSV path */
    const char *data_hash;
    const char *baseline_rule;  /* the rule in use today, as written in the pipeline */
    const char *payoff_text[4]; /* payoff expressions: true positive, false positive, false negative, true negative */
    double max_flag_rate;       /* 1 when unlimited */
    const char *registry_name;  /* may be NULL when not registered */
    int registry_version;
    const char *run_dir;
    const char *created_at;     /* ISO 8601 UTC */
    const char *lanner_version;

    size_t rows_train, rows_valid, rows_test;
    double positive_rate_train, positive_rate_valid, positive_rate_test;
    const char *split_description; /* e.g. "by created_at: train before 2026-05-02, ..." */

    /* Test split, row-aligned arrays of rows_test values. */
    const double *test_scores;         /* model P(positive) */
    const double *test_labels;         /* 0/1 */
    const unsigned char *test_baseline_flags;
    ln_payoffs test_payoffs;

    /* Valid split, used to draw payoff against threshold (where the threshold was chosen). */
    const double *valid_scores;
    const double *valid_labels;
    ln_payoffs valid_payoffs;

    ln_policy_summary model, baseline, nothing;

    /*
     * The policy: n_actions actions ordered by score (1 for the binary form,
     * whose payoffs are payoff_text), then the default. Payoff texts are
     * indexed [action][0 = if positive, 1 = if negative], the default last.
     */
    int multi_action;
    size_t n_actions;
    const char *action_names[LN_MAX_ACTIONS];
    const char *action_payoff_text[LN_MAX_ACTIONS + 1][2];
    double action_thresholds[LN_MAX_ACTIONS];
    double action_max_rates[LN_MAX_ACTIONS];
    double action_test_rates[LN_MAX_ACTIONS];
    ln_action_payoffs valid_options[LN_MAX_ACTIONS + 1]; /* valid split, the default last */

    /* The production model, when production_version > 0. */
    int production_version;
    ln_policy_summary production;

    /* Bootstrap intervals of the model's gain; n_resamples 0 when not computed. */
    ln_bootstrap_interval gain_over_baseline, gain_over_nothing, gain_over_production;

    double brier, calibration_error;

    size_t n_slices;
    const ln_slice_summary *slices;
    double slice_tolerance;

    /* Global feature importance, n_features entries, in any order. */
    size_t n_features;
    const char *const *feature_names;
    const double *feature_importance;

    /* Data and label warnings to show (e.g. "column x is constant"), n_warnings strings. */
    size_t n_warnings;
    const char *const *warnings;
} ln_report_input;

/* Writes the report to path through a temporary file and rename. */
ln_status ln_report_write_html(const ln_report_input *input, const char *path, ln_error *err);

#ifdef __cplusplus
}
#endif

#endif
