/*
 * Outcome metrics of a scored model and the money side of a decision. This
 * header covers ranking and calibration metrics, the total payoff of a set
 * of flags and the threshold that maximises it. It also offers a bootstrap
 * interval for comparing two decisions, such as a model and today's rule.
 *
 *     ln_payoffs payoffs = {.true_positive = saved, .false_positive = review_cost,
 *                           .false_negative = loss, .true_negative = NULL};
 *     ln_threshold_choice choice;
 *     if (ln_threshold_search(scores, labels, &payoffs, n, 0.05, &choice, &err) != LN_OK)
 *         ...report err.message...
 *     // flag row i when scores[i] >= choice.threshold
 *
 * Labels are doubles holding 0 (negative) or 1 (positive). Every function
 * takes n rows and reads n values from each array it is given.
 */
#ifndef LANNER_METRICS_H
#define LANNER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "lanner/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Returns the area under the ROC curve: the probability that a random
 * positive scores above a random negative, a tie counting one half (the
 * Mann-Whitney statistic, equal to the trapezoid area). O(n log n).
 * Returns NaN when n == 0, when only one class is present, when a score is
 * NaN or when a label is not 0 or 1.
 */
double ln_roc_auc(const double *scores, const double *labels, size_t n);

/*
 * Returns average precision as scikit-learn's average_precision_score
 * computes it: the sum over distinct score thresholds, from the highest, of
 * (recall gain) * (precision at that threshold), with tied scores entering
 * together. Returns NaN when there is no positive label (scikit-learn 1.2
 * returns -0.0 with a warning there), when n == 0, when a score is NaN or
 * when a label is not 0 or 1.
 */
double ln_average_precision(const double *scores, const double *labels, size_t n);

/*
 * Returns the mean binary log loss (natural logarithm) with probabilities
 * clipped to [1e-15, 1 - 1e-15]. Returns NaN when n == 0, when a
 * probability is NaN or outside [0, 1], or when a label is not 0 or 1.
 */
double ln_log_loss(const double *probabilities, const double *labels, size_t n);

/*
 * Returns the mean squared difference between probability and label.
 * Returns NaN under the same conditions as ln_log_loss().
 */
double ln_brier_score(const double *probabilities, const double *labels, size_t n);

/*
 * Per-row payoffs of the four outcomes, in money (positive is gain, a cost
 * is negative). Each array contains n values, and a NULL array means the outcome is
 * worth 0 on every row (true negatives usually are).
 */
typedef struct ln_payoffs {
    const double *true_positive;  /* flagged and positive */
    const double *false_positive; /* flagged and negative */
    const double *false_negative; /* not flagged and positive */
    const double *true_negative;  /* not flagged and negative */
} ln_payoffs;

/*
 * Returns the total payoff of a decision: flags[i] non-zero means row i is
 * flagged. Returns NaN when a label is not 0 or 1 or a payoff used is NaN;
 * 0 when n == 0.
 */
double ln_policy_payoff(const unsigned char *flags, const double *labels, const ln_payoffs *payoffs, size_t n);

typedef struct ln_threshold_choice {
    double threshold; /* flag when score >= threshold; +INFINITY when flagging nothing is best */
    double payoff;    /* total payoff of the choice on the given rows */
    size_t flagged;   /* rows flagged */
    double flag_rate; /* flagged / n, 0 when n == 0 */
} ln_threshold_choice;

/*
 * Chooses the threshold that maximises total payoff, exactly, over the
 * distinct scores: rows with equal scores are flagged together. At most
 * floor(max_flag_rate * n) rows may be flagged; max_flag_rate is in [0, 1],
 * where 1 means no limit and 0 allows only flagging nothing. The product is
 * taken as the nearest integer when within a relative 1e-12 of it, so 0.29
 * of 100 rows allows 29 although 0.29 * 100 is 28.999999999999996 in
 * doubles. When two thresholds give an equal total, the higher one (fewer
 * flags) wins, so a threshold is never lowered for no gain. n == 0 chooses
 * +INFINITY with payoff 0.
 *
 * Errors: LN_ERR_CONFIG when max_flag_rate is NaN or outside [0, 1].
 * LN_ERR_DATA, naming the first bad row, when a score is NaN or +inf, a
 * label is not 0 or 1, or a payoff is NaN or infinite. A +inf score is
 * rejected because it could not be distinguished from the "flag nothing"
 * threshold. LN_ERR_NOMEM when memory runs out.
 */
ln_status ln_threshold_search(const double *scores, const double *labels, const ln_payoffs *payoffs, size_t n,
                              double max_flag_rate, ln_threshold_choice *out, ln_error *err);

/* Resamples drawn by ln_bootstrap_payoff_difference() when options ask for 0. */
#define LN_BOOTSTRAP_DEFAULT_RESAMPLES 1000

/* Maximum resamples, which bounds the memory the interval needs (8 bytes each). */
#define LN_BOOTSTRAP_MAX_RESAMPLES 10000000

typedef struct ln_bootstrap_options {
    size_t n_resamples; /* 0 means LN_BOOTSTRAP_DEFAULT_RESAMPLES */
    double confidence;  /* coverage of the interval in (0, 1); 0 means 0.95 */
    uint64_t seed;      /* the same seed and input give the same interval */
} ln_bootstrap_options;

typedef struct ln_bootstrap_interval {
    double difference;  /* total payoff of decision a minus that of decision b, on the rows given */
    double lower;       /* percentile (1 - confidence) / 2 of the resampled differences */
    double upper;       /* percentile (1 + confidence) / 2 of the resampled differences */
    size_t n_resamples; /* resamples drawn */
} ln_bootstrap_interval;

/*
 * Computes a percentile bootstrap interval for the difference in total
 * payoff between decision a and decision b (flags as in
 * ln_policy_payoff()). Each resample draws n rows with replacement and sums
 * their per-row differences. The bounds are percentiles of those sums, with
 * linear interpolation between order statistics as numpy.percentile does by
 * default. Rows where a and b agree contribute 0, so a resample costs time
 * in proportion to the m rows where the decisions differ. The number of draws
 * landing on those rows is sampled directly, with the same distribution as
 * drawing all n rows. About 2 s for m = 180,000 and 1000 resamples (one core
 * of an AMD EPYC, -O2).
 *
 * options may be NULL for the defaults with seed 0. Errors: LN_ERR_CONFIG
 * for a confidence outside (0, 1) or more than LN_BOOTSTRAP_MAX_RESAMPLES
 * resamples; LN_ERR_DATA naming the row for a label that is not 0 or 1 or a
 * non-finite payoff where the decisions differ; LN_ERR_NOMEM. n == 0 gives
 * an interval of [0, 0].
 */
ln_status ln_bootstrap_payoff_difference(const unsigned char *flags_a, const unsigned char *flags_b,
                                         const double *labels, const ln_payoffs *payoffs, size_t n,
                                         const ln_bootstrap_options *options, ln_bootstrap_interval *out,
                                         ln_error *err);

/*
 * Multi-action policies. Rows are ranked by score and the top scores get the
 * first action: with thresholds t[0] >= t[1] >= ... >= t[K-1], a row whose
 * score is at least t[0] gets action 0, a row with t[1] <= score < t[0] gets
 * action 1, and so on; a row below every threshold gets the default. The
 * binary form ("flag when score >= t") is one action.
 *
 *     ln_action_payoffs actions[2] = {{cancel_pos, cancel_neg, 1.0}, {review_pos, review_neg, 0.02}};
 *     ln_action_payoffs fallback = {keep_pos, keep_neg, 1.0};
 *     ln_policy_choice choice;
 *     ln_policy_search(scores, labels, actions, 2, &fallback, n, 1.0, &choice, &err);
 */

/* Maximum actions of one policy, besides the default. */
#define LN_MAX_ACTIONS 8

/* Per-row payoffs of giving one action (or the default) to a row, by its label. */
typedef struct ln_action_payoffs {
    const double *if_positive; /* n values; NULL means 0 on every row */
    const double *if_negative; /* n values; NULL means 0 on every row */
    double max_rate;           /* at most this share of rows get the action; 1 = no limit (ignored for the default) */
} ln_action_payoffs;

typedef struct ln_policy_choice {
    size_t n_actions;
    double thresholds[LN_MAX_ACTIONS]; /* non-increasing; +INFINITY for an action that gets no row at the top */
    size_t assigned[LN_MAX_ACTIONS];   /* rows given each action */
    size_t flagged;                    /* rows given any action (not the default) */
    double payoff;                     /* total payoff of the choice on the given rows */
} ln_policy_choice;

/*
 * Chooses the thresholds that maximise total payoff, exactly, over every
 * placement of the K cut points between groups of tied scores (rows with
 * equal scores always get the same action). Action k may get at most
 * floor(actions[k].max_rate * n) rows and all actions together at most
 * floor(max_flag_rate * n), with the rounding of ln_threshold_search(). A
 * dynamic programme over the G distinct scores, with a sliding-window
 * maximum for each action's capacity, runs in O(n log n + K * G). Among
 * equal totals (within a relative 1e-12) fewer rows get an action, so a
 * threshold is never lowered for no gain. An action that is never worth
 * giving gets the threshold of the action before it (it gets no row), or
 * +INFINITY when it is the first. Rows with score +INFINITY are rejected as
 * in ln_threshold_search(). For one action with payoffs (true positive,
 * false positive) and default (false negative, true negative) the choice is
 * that of ln_threshold_search().
 *
 * Errors: LN_ERR_CONFIG for n_actions of 0 or above LN_MAX_ACTIONS, or a
 * rate that is NaN or outside [0, 1]; LN_ERR_DATA naming the row for a NaN
 * or +inf score, a label that is not 0 or 1 or a non-finite payoff;
 * LN_ERR_NOMEM.
 */
ln_status ln_policy_search(const double *scores, const double *labels, const ln_action_payoffs *actions,
                           size_t n_actions, const ln_action_payoffs *fallback, size_t n, double max_flag_rate,
                           ln_policy_choice *out, ln_error *err);

/*
 * Writes each row's decision: the index of its action (0 to n_actions - 1)
 * or n_actions for the default, from thresholds as ln_policy_search() sets
 * them. A NaN score gets the default.
 */
void ln_policy_assign(const double *scores, size_t n, const double *thresholds, size_t n_actions,
                      unsigned char *decisions);

/*
 * Writes the payoff of each row's decision into row_payoffs (n values), and
 * returns the compensated total. options contains n_actions actions followed by
 * the default (n_actions + 1 entries). Returns NaN when a label is not 0 or
 * 1 or a decision is above n_actions.
 */
double ln_policy_row_payoffs(const unsigned char *decisions, const double *labels, const ln_action_payoffs *options,
                             size_t n_actions, size_t n, double *row_payoffs);

/*
 * Computes a percentile bootstrap interval for the sum of per-row
 * differences (n values, such as the payoff of a model's decision minus that
 * of the rule on the same row), resampling rows with replacement as
 * ln_bootstrap_payoff_difference() does. Rows with a difference of exactly 0
 * cost no time. Errors: LN_ERR_CONFIG as ln_bootstrap_payoff_difference();
 * LN_ERR_DATA naming the row for a non-finite difference; LN_ERR_NOMEM.
 */
ln_status ln_bootstrap_sum(const double *differences, size_t n, const ln_bootstrap_options *options,
                           ln_bootstrap_interval *out, ln_error *err);

/* Bins of the calibration curve that ln_calibration_curve() fills. */
#define LN_CALIBRATION_BINS 10

typedef struct ln_calibration_bin {
    double lower, upper;  /* the bin's score range: (lower, upper], the first bin also holding 0 */
    double mean_score;    /* mean score of the rows in the bin; NaN when empty */
    double positive_rate; /* share of positive labels in the bin; NaN when empty */
    size_t count;         /* rows in the bin */
} ln_calibration_bin;

/*
 * Fills bins with a calibration curve of LN_CALIBRATION_BINS equal-width
 * bins over [0, 1], binned as scikit-learn's calibration_curve(strategy=
 * "uniform") does (a score on an inner edge goes to the lower bin), and
 * returns the expected calibration error: the sum over bins of
 * count / n * |mean_score - positive_rate|. Returns NaN (and leaves every
 * bin empty) when n == 0, a score is NaN or outside [0, 1], or a label is
 * not 0 or 1.
 */
double ln_calibration_curve(const double *scores, const double *labels, size_t n,
                            ln_calibration_bin bins[LN_CALIBRATION_BINS]);

/* Counts of the four outcomes of a set of flags. */
typedef struct ln_confusion {
    size_t true_positives, false_positives, false_negatives, true_negatives;
} ln_confusion;

/* Counts the outcomes of flags (non-zero = flagged) against 0/1 labels; other labels are not counted. */
ln_confusion ln_confusion_counts(const unsigned char *flags, const double *labels, size_t n);

/*
 * Regression metrics over n predictions and true values. Each returns NaN
 * when n == 0 or an input is NaN; R² is NaN when every true value is equal.
 */
double ln_rmse(const double *predictions, const double *values, size_t n);
double ln_mae(const double *predictions, const double *values, size_t n);
double ln_r2(const double *predictions, const double *values, size_t n);

/*
 * Multiclass metrics. probabilities contains n rows of n_classes values (row
 * major); labels contains class indices 0..n_classes-1 as doubles. The predicted
 * class is the most probable one, the lowest index on ties. Each returns NaN
 * when n == 0 or a label is not a class index.
 */
double ln_multiclass_accuracy(const double *probabilities, size_t n_classes, const double *labels, size_t n);

/* Unweighted mean of the per-class F1 scores; a class never predicted nor present scores 0. */
double ln_macro_f1(const double *probabilities, size_t n_classes, const double *labels, size_t n);

/* Mean negative log of the true class's probability, after clipping each to [1e-15, 1 - 1e-15] and renormalising the row. */
double ln_multiclass_log_loss(const double *probabilities, size_t n_classes, const double *labels, size_t n);

#ifdef __cplusplus
}
#endif

#endif
