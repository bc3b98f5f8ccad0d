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

#ifdef __cplusplus
}
#endif

#endif
