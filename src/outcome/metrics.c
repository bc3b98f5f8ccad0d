/*
 * Ranking and calibration metrics. The ranking metrics walk the rows in
 * descending score order one group of tied scores at a time, which is what
 * makes ties exact: a group enters the curve as one step.
 */
#include <math.h>
#include <stdlib.h>

#include "outcome/outcome_internal.h"

static int is_label(double label)
{
    return label == 0.0 || label == 1.0;
}

/* Returns 1 when every score is a number and every label is 0 or 1, counting the positives. */
static int valid_scored_rows(const double *scores, const double *labels, size_t n, size_t *positives)
{
    *positives = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(scores[i]) || !is_label(labels[i]))
            return 0;
        *positives += labels[i] == 1.0;
    }
    return 1;
}

double ln_roc_auc(const double *scores, const double *labels, size_t n)
{
    size_t positives;

    if (n == 0 || !valid_scored_rows(scores, labels, n, &positives) || positives == 0 || positives == n)
        return NAN;

    size_t *order = ln_order_descending(scores, n);
    if (order == NULL)
        return NAN;

    /*
     * Count (positive, negative) pairs ranked correctly, a tied pair as one
     * half. Each count is a whole or half number below 2^53 for any n that
     * fits in memory, so the sum is exact.
     */
    size_t negatives = n - positives;
    size_t negatives_seen = 0;
    double correct_pairs = 0.0;
    for (size_t start = 0; start < n;) {
        size_t end = start;
        size_t group_positives = 0;
        while (end < n && scores[order[end]] == scores[order[start]]) {
            group_positives += labels[order[end]] == 1.0;
            end++;
        }
        size_t group_negatives = end - start - group_positives;
        size_t negatives_below = negatives - negatives_seen - group_negatives;
        correct_pairs += (double)group_positives * (double)negatives_below +
                         0.5 * (double)group_positives * (double)group_negatives;
        negatives_seen += group_negatives;
        start = end;
    }
    free(order);
    return correct_pairs / ((double)positives * (double)negatives);
}

double ln_average_precision(const double *scores, const double *labels, size_t n)
{
    size_t positives;

    if (n == 0 || !valid_scored_rows(scores, labels, n, &positives) || positives == 0)
        return NAN;

    size_t *order = ln_order_descending(scores, n);
    if (order == NULL)
        return NAN;

    size_t true_positives = 0;
    outcome_sum precision_sum = {0};
    for (size_t start = 0; start < n;) {
        size_t end = start;
        size_t group_positives = 0;
        while (end < n && scores[order[end]] == scores[order[start]]) {
            group_positives += labels[order[end]] == 1.0;
            end++;
        }
        true_positives += group_positives;
        if (group_positives > 0) {
            double precision = (double)true_positives / (double)end;
            outcome_sum_add(&precision_sum, (double)group_positives * precision);
        }
        start = end;
    }
    free(order);
    return outcome_sum_value(&precision_sum) / (double)positives;
}

/* Returns 1 when every probability is in [0, 1] and every label is 0 or 1. */
static int valid_probabilities(const double *probabilities, const double *labels, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(probabilities[i] >= 0.0 && probabilities[i] <= 1.0) || !is_label(labels[i]))
            return 0;
    return 1;
}

double ln_log_loss(const double *probabilities, const double *labels, size_t n)
{
    const double eps = 1e-15;

    if (n == 0 || !valid_probabilities(probabilities, labels, n))
        return NAN;

    outcome_sum total = {0};
    for (size_t i = 0; i < n; i++) {
        double p = probabilities[i];
        if (p < eps)
            p = eps;
        if (p > 1.0 - eps)
            p = 1.0 - eps;
        outcome_sum_add(&total, labels[i] == 1.0 ? -log(p) : -log1p(-p));
    }
    return outcome_sum_value(&total) / (double)n;
}

double ln_brier_score(const double *probabilities, const double *labels, size_t n)
{
    if (n == 0 || !valid_probabilities(probabilities, labels, n))
        return NAN;

    outcome_sum total = {0};
    for (size_t i = 0; i < n; i++) {
        double error = probabilities[i] - labels[i];
        outcome_sum_add(&total, error * error);
    }
    return outcome_sum_value(&total) / (double)n;
}

double ln_policy_payoff(const unsigned char *flags, const double *labels, const ln_payoffs *payoffs, size_t n)
{
    outcome_sum total = {0};

    for (size_t i = 0; i < n; i++) {
        if (!is_label(labels[i]))
            return NAN;
        outcome_sum_add(&total, outcome_row_payoff(payoffs, i, flags[i] != 0, labels[i] == 1.0));
    }
    return outcome_sum_value(&total);
}
