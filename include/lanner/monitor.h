/*
 * Monitoring a registered model: a compact reference of the training data
 * stored with each model version, and a comparison of current data (the
 * server's prediction log, a CSV file or an SQL query) against it: drift per
 * feature, of the score and of the decisions, the data contract, realised
 * outcomes once labels arrive, a trend per time window, and alerts.
 *
 * At training time (src/pipeline/run_reference.c):
 *
 *     ln_reference *reference = NULL;
 *     ln_reference_build(train, features, n_features, valid_scores, valid_labels, n_valid,
 *                        flag_threshold, valid_payoff, &reference, &err);
 *     json_t *json = ln_reference_to_json(reference);   // stored in the model metadata
 *
 * Later, against a day of predictions:
 *
 *     ln_monitor_current *current = NULL;
 *     ln_monitor_report *report = NULL;
 *     ln_monitor_read_log("predictions/", model, "churn", 3, "customer_id", &current, &err);
 *     ln_monitor_options options;
 *     ln_monitor_options_default(&options);
 *     ln_monitor_run(reference, current, &options, &report, &err);
 *     ln_monitor_report_print(report, stdout);
 *     if (report->n_alerts > 0) ...page someone...
 *
 * Statistics (docs/monitoring.md gives the formulas):
 *   - population stability index (PSI) over the reference bins plus a bin for
 *     missing values, each share floored at LN_MONITOR_SHARE_FLOOR so it is
 *     always finite;
 *   - two-sample Kolmogorov-Smirnov for numeric features and the score,
 *     computed on the binned distributions, because the reference keeps bin
 *     counts rather than raw values. The binned statistic is never above the
 *     raw one, so the test is conservative;
 *   - chi-square test of homogeneity (2 x K, no continuity correction) and
 *     the Jensen-Shannon distance (base 2) for category features and the
 *     decisions.
 */
#ifndef LANNER_MONITOR_H
#define LANNER_MONITOR_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "lanner/contract.h"
#include "lanner/metrics.h"
#include "lanner/model.h"
#include "lanner/status.h"
#include "lanner/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Quantile bins of a numeric feature and of the score in the reference (fewer when values repeat). */
#define LN_MONITOR_BINS 20

/* Categories of a category feature kept in the reference; rarer ones are counted together as "other". */
#define LN_MONITOR_MAX_CATEGORIES 100

/* Smallest share a bin takes in the PSI, so an empty bin gives a finite index. */
#define LN_MONITOR_SHARE_FLOOR 1e-4

/* New category values listed per feature (all of them are counted). */
#define LN_MONITOR_MAX_NEW_VALUES 20

/* Time windows in one report. */
#define LN_MONITOR_MAX_WINDOWS 10000

/* Bytes in one prediction log line, and log files read from one folder. */
#define LN_MONITOR_MAX_LINE_BYTES (16u << 20)
#define LN_MONITOR_MAX_LOG_FILES 100000

/* Features in one reference read from a model's metadata. */
#define LN_MONITOR_MAX_REFERENCE_FEATURES 100000

/* ---- Statistics on binned counts ---- */

/*
 * Returns the PSI of current against reference over n bins of counts:
 * sum of (c - r) * ln(c / r) over bins, where r and c are each bin's share of
 * its total, raised to LN_MONITOR_SHARE_FLOOR when smaller. Returns NaN when
 * either total is 0.
 */
double ln_psi(const double *reference, const double *current, size_t n);

/* A test statistic and its p-value; dof is the chi-square degrees of freedom (0 for KS). */
typedef struct ln_test_result {
    double statistic;
    double p_value;
    int dof;
} ln_test_result;

/*
 * Two-sample Kolmogorov-Smirnov test on binned counts of ordered bins: the
 * statistic is the largest gap between the two cumulative shares at a bin
 * boundary; the p-value is the Kolmogorov limiting distribution at
 * (sqrt(e) + 0.12 + 0.11 / sqrt(e)) * D with e = n m / (n + m) (Stephens'
 * approximation). Both NaN when either total is 0.
 */
ln_test_result ln_ks_binned(const double *reference, const double *current, size_t n);

/*
 * Chi-square test of homogeneity of the 2 x n table (reference, current),
 * without continuity correction, after dropping bins empty in both rows.
 * dof is the remaining bins minus 1; with fewer than two bins the statistic
 * is 0 and the p-value 1. NaN when either total is 0.
 */
ln_test_result ln_chi2_homogeneity(const double *reference, const double *current, size_t n);

/* Returns the Jensen-Shannon distance (base 2, in [0, 1]) of the two normalised counts; NaN when a total is 0. */
double ln_js_distance(const double *reference, const double *current, size_t n);

/* Returns P(X > x) for a chi-square variable with dof degrees of freedom (regularised upper gamma). */
double ln_chi2_sf(double x, double dof);

/* Returns the Kolmogorov distribution's survival function, P(K > x). */
double ln_kolmogorov_sf(double x);

/* ---- The reference stored with a model ---- */

/* A feature's distribution in the train split (or the score's on the valid split). */
typedef struct ln_reference_feature {
    char *name;
    ln_type type;           /* the model's type: numeric types or LN_TYPE_CATEGORY */
    size_t rows;            /* rows summarised, missing ones included */
    size_t missing;         /* rows with a missing value */

    /* Numeric: n_edges increasing inner edges; bin i contains edges[i-1] <= v < edges[i]. */
    size_t n_edges;
    double *edges;
    double *counts;         /* n_edges + 1 counts of non-missing values */

    /* Category: the most frequent values by descending count. */
    size_t n_categories;
    char **categories;
    double *category_counts;
    double other_count;     /* rows holding a value not listed */
    int complete;           /* 1 when every value seen is listed, so an unlisted value is new */
} ln_reference_feature;

typedef struct ln_reference {
    size_t train_rows;
    size_t valid_rows;
    size_t n_features;
    ln_reference_feature *features;
    ln_reference_feature score;   /* the model's scores on the valid split */
    double flag_threshold;        /* a row is flagged (given any action) at or above it; +inf flags nothing */
    double valid_flag_rate;       /* share of valid rows flagged */
    double valid_positive_rate;
    double valid_auc;             /* NaN when it cannot be computed */
    double valid_ece;             /* expected calibration error over LN_CALIBRATION_BINS bins */
    double valid_payoff_per_1000; /* total payoff on valid per 1,000 rows; NaN when unknown */
} ln_reference;

/*
 * Summarises the features of train (their names in features, columns of
 * train) and the valid split's scores and labels into a new reference the
 * caller frees with ln_reference_free. flag_threshold is where a row starts
 * getting an action; valid_payoff the chosen policy's total payoff on the
 * valid split (NaN when unknown). Text and timestamp columns are summarised
 * as categories and numbers. Errors: LN_ERR_NOT_FOUND (a feature is not a
 * column of train), LN_ERR_NOMEM.
 */
ln_status ln_reference_build(const ln_table *train, const char *const *features, size_t n_features,
                             const double *valid_scores, const double *valid_labels, size_t n_valid,
                             double flag_threshold, double valid_payoff, ln_reference **out, ln_error *err);

void ln_reference_free(ln_reference *reference);

/* Returns the reference as a new JSON object (the caller decrefs), or NULL when out of memory. */
json_t *ln_reference_to_json(const ln_reference *reference);

/*
 * Reads a reference written by ln_reference_to_json. Errors: LN_ERR_CORRUPT
 * naming the key that is missing or of the wrong shape, LN_ERR_LIMIT,
 * LN_ERR_NOMEM.
 */
ln_status ln_reference_from_json(const json_t *json, ln_reference **out, ln_error *err);

/* ---- Current data ---- */

/* Rows to monitor, with the model's features in its types, and their scores. */
typedef struct ln_monitor_current {
    ln_table *table;              /* every model feature, plus the id column when known */
    double *scores;               /* n_rows scores */
    unsigned char *flags;         /* n_rows: 1 when the row was flagged (given any action) */
    double *times;                /* n_rows seconds since 1970 UTC, NaN when unknown; NULL without times */
    double *labels;               /* n_rows 0/1, NaN when no label has arrived; NULL without labels */
    size_t labeled;               /* rows with a label */
    size_t label_rows;            /* rows in the label source */
    size_t duplicate_label_ids;   /* ids given more than one label in the label source (the first counts) */
    size_t log_lines;             /* prediction log: lines read */
    size_t skipped_lines;         /* lines that are not a valid prediction record */
    size_t other_model_rows;      /* predictions of another model name */
    size_t other_version_rows;    /* predictions of another version of this model */
    size_t invalid_values;        /* feature values of the wrong JSON type, read as missing */
    char first_skipped[256];      /* file and line of the first skipped line, for the message */
} ln_monitor_current;

/*
 * Reads the server's prediction log (docs/serving.md): path is a .jsonl file
 * or a folder whose *.jsonl files are read in name order. Keeps the lines of
 * model model_name and version, takes each feature of model from the
 * "features" object (absent or null is missing), the score, the decision
 * ("pass" is not flagged, any other value is) and the time. id_column (may be
 * NULL) is read from "features" as text, for joining labels. A line that is
 * not a JSON object with those fields is skipped and counted. *out is new;
 * free it with ln_monitor_current_free. Errors: LN_ERR_NOT_FOUND (no such
 * path, or a folder without .jsonl files), LN_ERR_IO, LN_ERR_LIMIT (a line
 * over LN_MONITOR_MAX_LINE_BYTES, too many files), LN_ERR_DATA (no line of
 * that model and version), LN_ERR_NOMEM.
 */
ln_status ln_monitor_read_log(const char *path, const ln_model *model, const char *model_name, int version,
                              const char *id_column, ln_monitor_current **out, ln_error *err);

/*
 * Takes table (a CSV or SQL result; ownership passes to *out, also on
 * error) and scores it with model: feature columns are converted to the
 * model's types (a missing column becomes all-missing), a row is flagged
 * when its score reaches flag_threshold, and time_column (may be NULL; a
 * timestamp or numeric column of seconds) gives the times. Errors:
 * LN_ERR_NOT_FOUND (no time_column), LN_ERR_DATA (a column that cannot take
 * the model's type, a time column that is not a time), errors of
 * ln_model_predict, LN_ERR_NOMEM.
 */
ln_status ln_monitor_score_table(ln_table *table, const ln_model *model, double flag_threshold,
                                 const char *time_column, ln_monitor_current **out, ln_error *err);

/*
 * Joins labels to current rows on id_column. The labels table contains
 * id_column and target. A row whose id has a non-missing target gets 1 when the target,
 * formatted as text, equals positive and 0 otherwise. Ids are compared as
 * text (ln_column_format). Rows without a label get NaN and are left out of
 * the outcome figures. Errors: LN_ERR_NOT_FOUND (a column missing from
 * either table), LN_ERR_NOMEM.
 */
ln_status ln_monitor_join_labels(ln_monitor_current *current, const char *id_column, const ln_table *labels,
                                 const char *target, const char *positive, ln_error *err);

void ln_monitor_current_free(ln_monitor_current *current);

/* ---- The comparison ---- */

/* Alert thresholds; NaN disables one. */
typedef struct ln_monitor_thresholds {
    double psi_max;         /* a feature's PSI above it alerts (default 0.2) */
    double score_psi_max;   /* the score's PSI above it alerts (default 0.2) */
    double auc_min;         /* realised ROC AUC below it alerts (default off) */
    double payoff_drop_max; /* (promised - realised) / |promised| payoff per 1,000 rows above it alerts (default off) */
} ln_monitor_thresholds;

typedef struct ln_monitor_options {
    double window_seconds;  /* length of a trend window, default 86400 (a day), aligned to 1970-01-01 UTC */
    ln_monitor_thresholds thresholds;
    const char *contract_text; /* the model's data contract as YAML (may be NULL) */
    /* Payoff expressions of each action and then the default (may be NULL: no payoff figures). */
    size_t n_actions;
    const char *payoff_if_positive[LN_MAX_ACTIONS + 1];
    const char *payoff_if_negative[LN_MAX_ACTIONS + 1];
    double action_thresholds[LN_MAX_ACTIONS]; /* the model's policy: action k from thresholds[k] */
} ln_monitor_options;

/* Sets the defaults: daily windows, PSI alerts above 0.2, no AUC or payoff alert, no contract or payoffs. */
void ln_monitor_options_default(ln_monitor_options *options);

/* Drift of one feature, the score or the decisions. */
typedef struct ln_drift {
    char *name;
    ln_type type;
    int categorical;
    double psi;
    ln_test_result ks;          /* numeric only; NaN otherwise */
    ln_test_result chi2;        /* categorical only; NaN otherwise */
    double js_distance;         /* categorical only; NaN otherwise */
    size_t current_rows;
    double reference_missing_share, current_missing_share;
    size_t n_bins;              /* bins compared, including missing (and "new" for categories) */
    char **bin_labels;
    double *reference_share;    /* share of all rows per bin */
    double *current_share;
    size_t n_new;               /* distinct values never seen in training */
    double new_share;           /* share of current rows holding such a value */
    size_t n_new_listed;
    char **new_values;          /* the most frequent new values, at most LN_MONITOR_MAX_NEW_VALUES */
    double *new_value_shares;
} ln_drift;

/* One time window of the trend. */
typedef struct ln_monitor_window {
    double start, end;          /* seconds since 1970 UTC: [start, end) */
    size_t rows;
    double score_psi;           /* against the valid split's scores */
    double mean_score;
    double flag_rate;
    size_t labeled;
    double positive_rate;
    double auc;                 /* NaN without both classes among labeled rows */
    double ece;
    double payoff;              /* labeled rows; NaN without payoffs */
    double payoff_per_1000;
} ln_monitor_window;

/* Realised outcomes over every labeled row. */
typedef struct ln_monitor_outcomes {
    size_t labeled, unlabeled;
    double positive_rate;
    double auc;
    double ece;
    double flag_rate;
    double payoff;
    double payoff_per_1000;
    double payoff_drop;         /* (promised - realised) / |promised|; NaN when either is unknown */
    size_t payoff_skipped;      /* labeled rows left out of the payoff: a payoff expression is missing or infinite */
} ln_monitor_outcomes;

/* Notes kept in a report, such as why payoff figures are absent. */
#define LN_MONITOR_MAX_NOTES 16

typedef struct ln_monitor_alert {
    char kind[32];              /* "feature_psi", "score_psi", "auc", "payoff_drop", "contract" */
    char subject[160];          /* the feature, "score", or "" */
    double figure;
    double threshold;
    char message[320];
} ln_monitor_alert;

typedef struct ln_monitor_report {
    size_t rows;
    double first_time, last_time;  /* NaN without times */
    size_t rows_without_time;
    size_t n_features;
    ln_drift *features;         /* sorted by PSI, largest first */
    ln_drift score;
    ln_drift decision;          /* bins "flag" and "pass" */
    double reference_flag_rate, current_flag_rate;
    ln_validation *contract;    /* NULL without a contract */
    int has_labels;
    ln_monitor_outcomes outcomes;
    size_t n_windows;
    ln_monitor_window *windows;
    ln_monitor_thresholds thresholds;
    size_t n_alerts;
    ln_monitor_alert *alerts;
    char *notes[LN_MONITOR_MAX_NOTES]; /* sentences, also logged as warnings */
    size_t n_notes;
    const ln_reference *reference; /* borrowed from the caller of ln_monitor_run */
} ln_monitor_report;

/*
 * Compares current with reference and fills a new report that the caller
 * frees with ln_monitor_report_free; the report borrows reference, which
 * must outlive it. Returns LN_OK whether or not alerts fired: read
 * report->n_alerts. A payoff expression that names a column the current
 * data lacks leaves the payoff figures out, with a warning in
 * report->notes; rows whose payoff is missing or infinite are left out of
 * the payoff and counted. Errors: LN_ERR_CONFIG (window_seconds not
 * positive, a payoff expression that does not parse, a contract that does
 * not load), LN_ERR_LIMIT (more than LN_MONITOR_MAX_WINDOWS windows),
 * LN_ERR_DATA (a feature of the reference missing from current, or of
 * another kind: numeric against category), LN_ERR_NOMEM.
 */
ln_status ln_monitor_run(const ln_reference *reference, const ln_monitor_current *current,
                         const ln_monitor_options *options, ln_monitor_report **out, ln_error *err);

void ln_monitor_report_free(ln_monitor_report *report);

/* Prints the report for people: features sorted by drift, score, decisions, outcomes, windows, alerts. */
void ln_monitor_report_print(const ln_monitor_report *report, const char *model_label, FILE *out);

/* Returns the report as a new JSON object (the caller decrefs); NaN and infinities are null. */
json_t *ln_monitor_report_to_json(const ln_monitor_report *report);

/*
 * Writes the report as one self-contained HTML page (inline CSS and SVG, no
 * script) to path through a temporary file and rename. title is escaped.
 * Errors: LN_ERR_IO, LN_ERR_NOMEM.
 */
ln_status ln_monitor_write_html(const ln_monitor_report *report, const char *title, const char *path,
                                ln_error *err);

/*
 * Reads the `monitor:` section of a pipeline file (psi_max, score_psi_max,
 * auc_min, payoff_drop_max, each a number >= 0) into thresholds, leaving
 * the fields it does not name unchanged. A file without the section is not
 * an error. Errors: LN_ERR_NOT_FOUND, LN_ERR_PARSE (invalid YAML),
 * LN_ERR_CONFIG naming the line and key (unknown key, not a number, negative).
 */
ln_status ln_monitor_read_thresholds(const char *pipeline_path, ln_monitor_thresholds *thresholds, ln_error *err);

/*
 * Parses a window length such as "6h", "1d", "7d", "30m" or "3600s" (a
 * positive integer and one of s, m, h, d, w) into seconds. Errors:
 * LN_ERR_CONFIG naming the text.
 */
ln_status ln_monitor_parse_window(const char *text, double *seconds, ln_error *err);

#ifdef __cplusplus
}
#endif

#endif
