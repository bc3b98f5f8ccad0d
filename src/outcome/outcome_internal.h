/*
 * Helpers shared by the metrics, threshold and bootstrap code.
 */
#ifndef LANNER_OUTCOME_INTERNAL_H
#define LANNER_OUTCOME_INTERNAL_H

#include <math.h>
#include <stddef.h>

#include "lanner/metrics.h"
#include "lanner/sort.h"

/* Compensated (Neumaier) sum, so long totals of money keep their cents. */
typedef struct outcome_sum {
    double sum;
    double compensation;
} outcome_sum;

static inline void outcome_sum_add(outcome_sum *s, double value)
{
    double t = s->sum + value;
    double big = s->sum >= 0 ? s->sum : -s->sum;
    double small = value >= 0 ? value : -value;

    if (big >= small)
        s->compensation += (s->sum - t) + value;
    else
        s->compensation += (value - t) + s->sum;
    s->sum = t;
}

/* Returns the total; an infinite or NaN sum is returned as it is, because its compensation is NaN. */
static inline double outcome_sum_value(const outcome_sum *s)
{
    return isfinite(s->sum) ? s->sum + s->compensation : s->sum;
}

/* Returns the payoff of row i given its decision and label (0 or 1); a NULL array is worth 0. */
static inline double outcome_row_payoff(const ln_payoffs *payoffs, size_t i, int flagged, int positive)
{
    const double *values = flagged ? (positive ? payoffs->true_positive : payoffs->false_positive)
                                   : (positive ? payoffs->false_negative : payoffs->true_negative);
    return values != NULL ? values[i] : 0.0;
}

/* Returns floor(rate * n), taking a product within rounding error of a whole number as that number. */
size_t outcome_flag_capacity(double rate, size_t n);

#endif
