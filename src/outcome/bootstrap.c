/*
 * Percentile bootstrap of the difference in total payoff between two
 * decisions. Only the m rows where the decisions differ carry a non-zero
 * difference. So each resample first draws how many of its n rows land on
 * those m rows, a Binomial(n, m / n) count, and then which ones. That has the
 * same distribution as drawing all n rows but costs O(m) instead of O(n).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "lanner/log.h"
#include "lanner/random.h"
#include "outcome/outcome_internal.h"

/* Uniform double in (0, 1], never 0 so that its logarithm is finite. */
static double rng_unit(ln_rng *r)
{
    return (double)((ln_rng_next(r) >> 11) + 1) * 0x1.0p-53;
}

/*
 * Counts successes in n Bernoulli(p) trials, 0 < p <= 0.5, by jumping over
 * the geometric gaps between them: O(successes) draws.
 */
static size_t count_successes(ln_rng *r, size_t n, double p)
{
    double log_miss = log1p(-p);
    double position = 0.0;
    size_t successes = 0;

    for (;;) {
        position += floor(log(rng_unit(r)) / log_miss) + 1.0;
        if (position > (double)n)
            return successes;
        successes++;
    }
}

static size_t draw_binomial(ln_rng *r, size_t n, size_t m)
{
    if (m == n)
        return n;
    double p = (double)m / (double)n;
    return p <= 0.5 ? count_successes(r, n, p) : n - count_successes(r, n, 1.0 - p);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Percentile q in [0, 1] of sorted values, interpolating linearly between order statistics. */
static double percentile(const double *sorted, size_t count, double q)
{
    double position = q * (double)(count - 1);
    size_t below = (size_t)floor(position);
    if (below + 1 >= count)
        return sorted[count - 1];
    double fraction = position - (double)below;
    return sorted[below] + fraction * (sorted[below + 1] - sorted[below]);
}

/* Collects the per-row differences (a minus b) of the rows where the decisions differ. */
static ln_status collect_differences(const unsigned char *flags_a, const unsigned char *flags_b,
                                     const double *labels, const ln_payoffs *payoffs, size_t n, double **out,
                                     size_t *count, ln_error *err)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] != 0.0 && labels[i] != 1.0)
            return ln_error_set(err, LN_ERR_DATA, "label of row %zu is %.17g; expected 0 or 1", i + 1, labels[i]);
        m += (flags_a[i] != 0) != (flags_b[i] != 0);
    }

    double *differences = malloc((m ? m : 1) * sizeof *differences);
    if (differences == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory for %zu payoff differences", m);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int a = flags_a[i] != 0, b = flags_b[i] != 0;
        if (a == b)
            continue;
        int positive = labels[i] == 1.0;
        double difference = outcome_row_payoff(payoffs, i, a, positive) - outcome_row_payoff(payoffs, i, b, positive);
        if (!isfinite(difference)) {
            free(differences);
            return ln_error_set(err, LN_ERR_DATA,
                                "payoff difference of row %zu is %.17g; the payoffs of its outcomes must be finite",
                                i + 1, difference);
        }
        differences[k++] = difference;
    }
    *out = differences;
    *count = m;
    return LN_OK;
}

static ln_status check_options(const ln_bootstrap_options *options, ln_bootstrap_options *chosen, ln_error *err)
{
    *chosen = options != NULL ? *options : (ln_bootstrap_options){0};
    if (chosen->n_resamples == 0)
        chosen->n_resamples = LN_BOOTSTRAP_DEFAULT_RESAMPLES;
    if (chosen->confidence == 0.0)
        chosen->confidence = 0.95;
    if (!(chosen->confidence > 0.0 && chosen->confidence < 1.0))
        return ln_error_set(err, LN_ERR_CONFIG, "bootstrap confidence is %.17g; expected a fraction between 0 and 1",
                            chosen->confidence);
    if (chosen->n_resamples > LN_BOOTSTRAP_MAX_RESAMPLES)
        return ln_error_set(err, LN_ERR_CONFIG, "%zu bootstrap resamples requested; the maximum is %d",
                            chosen->n_resamples, LN_BOOTSTRAP_MAX_RESAMPLES);
    return LN_OK;
}

/* Resamples n rows of which only the m given differences are non-zero, and fills the interval. */
static ln_status resample(const double *differences, size_t m, size_t n, const ln_bootstrap_options *chosen,
                          ln_bootstrap_interval *out, ln_error *err)
{
    double *sums = malloc(chosen->n_resamples * sizeof *sums);
    if (sums == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory for %zu bootstrap resamples", chosen->n_resamples);

    outcome_sum difference = {0};
    for (size_t k = 0; k < m; k++)
        outcome_sum_add(&difference, differences[k]);

    ln_rng generator;
    ln_rng_seed(&generator, chosen->seed);
    for (size_t b = 0; b < chosen->n_resamples; b++) {
        /* A plain sum: its rounding error is far below the resampling noise, and it runs faster. */
        double sum = 0.0;
        size_t draws = m > 0 ? draw_binomial(&generator, n, m) : 0;
        for (size_t k = 0; k < draws; k++)
            sum += differences[ln_rng_below(&generator, m)];
        sums[b] = sum;
        if (b % 4096 == 0)
            ln_progress("bootstrap resamples", (double)b, (double)chosen->n_resamples);
    }
    ln_progress("bootstrap resamples", (double)chosen->n_resamples, (double)chosen->n_resamples);
    qsort(sums, chosen->n_resamples, sizeof *sums, compare_doubles);

    out->difference = outcome_sum_value(&difference);
    out->lower = percentile(sums, chosen->n_resamples, (1.0 - chosen->confidence) / 2.0);
    out->upper = percentile(sums, chosen->n_resamples, (1.0 + chosen->confidence) / 2.0);
    out->n_resamples = chosen->n_resamples;
    free(sums);
    return LN_OK;
}

ln_status ln_bootstrap_payoff_difference(const unsigned char *flags_a, const unsigned char *flags_b,
                                         const double *labels, const ln_payoffs *payoffs, size_t n,
                                         const ln_bootstrap_options *options, ln_bootstrap_interval *out,
                                         ln_error *err)
{
    ln_bootstrap_options chosen;
    ln_status status = check_options(options, &chosen, err);
    if (status != LN_OK)
        return status;

    double *differences = NULL;
    size_t m = 0;
    status = collect_differences(flags_a, flags_b, labels, payoffs, n, &differences, &m, err);
    if (status != LN_OK)
        return status;

    status = resample(differences, m, n, &chosen, out, err);
    free(differences);
    return status;
}

ln_status ln_bootstrap_sum(const double *differences, size_t n, const ln_bootstrap_options *options,
                           ln_bootstrap_interval *out, ln_error *err)
{
    ln_bootstrap_options chosen;
    ln_status status = check_options(options, &chosen, err);
    if (status != LN_OK)
        return status;

    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(differences[i]))
            return ln_error_set(err, LN_ERR_DATA, "difference of row %zu is %.17g; expected a finite number", i + 1,
                                differences[i]);
        m += differences[i] != 0.0;
    }

    double *nonzero = malloc((m ? m : 1) * sizeof *nonzero);
    if (nonzero == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory for %zu differences", m);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (differences[i] != 0.0)
            nonzero[k++] = differences[i];
    }

    status = resample(nonzero, m, n, &chosen, out, err);
    free(nonzero);
    return status;
}
