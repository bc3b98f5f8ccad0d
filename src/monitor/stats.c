/*
 * Drift statistics on binned counts: PSI, Kolmogorov-Smirnov on binned
 * cumulative shares, the chi-square test of homogeneity and the
 * Jensen-Shannon distance, with the two survival functions they need.
 */
#include <math.h>

#include "lanner/monitor.h"

static double total_of(const double *counts, size_t n)
{
    double total = 0;

    for (size_t i = 0; i < n; i++)
        total += counts[i];
    return total;
}

double ln_psi(const double *reference, const double *current, size_t n)
{
    double reference_total = total_of(reference, n);
    double current_total = total_of(current, n);

    if (!(reference_total > 0) || !(current_total > 0))
        return NAN;

    double psi = 0;
    for (size_t i = 0; i < n; i++) {
        double r = fmax(reference[i] / reference_total, LN_MONITOR_SHARE_FLOOR);
        double c = fmax(current[i] / current_total, LN_MONITOR_SHARE_FLOOR);
        psi += (c - r) * log(c / r);
    }
    return psi;
}

/*
 * Regularised lower gamma P(a, x) by its series, for x < a + 1, where the
 * series converges fast and the upper tail is not small.
 */
static double gamma_p_series(double a, double x)
{
    double term = 1.0 / a;
    double sum = term;

    for (int k = 1; k < 10000; k++) {
        term *= x / (a + k);
        sum += term;
        if (fabs(term) < fabs(sum) * 1e-17)
            break;
    }
    return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Regularised upper gamma Q(a, x) by its continued fraction (modified Lentz), for x >= a + 1. */
static double gamma_q_fraction(double a, double x)
{
    const double tiny = 1e-300;
    double b = x + 1 - a;
    double c = 1 / tiny;
    double d = 1 / b;
    double h = d;

    for (int k = 1; k < 10000; k++) {
        double an = -k * (k - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1) < 1e-16)
            break;
    }
    return exp(-x + a * log(x) - lgamma(a)) * h;
}

double ln_chi2_sf(double x, double dof)
{
    if (isnan(x) || !(dof > 0))
        return NAN;
    if (x <= 0)
        return 1;
    if (isinf(x))
        return 0;

    double a = dof / 2;
    double half = x / 2;
    if (half < a + 1)
        return 1 - gamma_p_series(a, half);
    return gamma_q_fraction(a, half);
}

/*
 * P(K > x) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2), which converges fast
 * for x >= 1; below that the equivalent theta-function form
 * 1 - sqrt(2 pi) / x sum_{k>=1} exp(-(2k-1)^2 pi^2 / (8 x^2)) does.
 */
double ln_kolmogorov_sf(double x)
{
    if (isnan(x))
        return NAN;
    if (x <= 0.04)
        return 1;

    if (x < 1) {
        double sum = 0;
        double w = M_PI * M_PI / (8 * x * x);
        for (int k = 1; k < 100; k++) {
            double term = exp(-(double)((2 * k - 1) * (2 * k - 1)) * w);
            sum += term;
            if (term < 1e-18)
                break;
        }
        return 1 - sqrt(2 * M_PI) / x * sum;
    }

    double sum = 0;
    for (int k = 1; k < 100; k++) {
        double term = exp(-2.0 * k * k * x * x);
        sum += (k % 2 ? term : -term);
        if (term < 1e-18)
            break;
    }
    double p = 2 * sum;
    return p < 0 ? 0 : p;
}

ln_test_result ln_ks_binned(const double *reference, const double *current, size_t n)
{
    ln_test_result result = {NAN, NAN, 0};
    double reference_total = total_of(reference, n);
    double current_total = total_of(current, n);

    if (!(reference_total > 0) || !(current_total > 0))
        return result;

    double reference_cumulative = 0, current_cumulative = 0, gap = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        reference_cumulative += reference[i];
        current_cumulative += current[i];
        gap = fmax(gap, fabs(reference_cumulative / reference_total - current_cumulative / current_total));
    }

    double effective = reference_total * current_total / (reference_total + current_total);
    double root = sqrt(effective);
    result.statistic = gap;
    result.p_value = ln_kolmogorov_sf((root + 0.12 + 0.11 / root) * gap);
    return result;
}

ln_test_result ln_chi2_homogeneity(const double *reference, const double *current, size_t n)
{
    ln_test_result result = {NAN, NAN, 0};
    double reference_total = total_of(reference, n);
    double current_total = total_of(current, n);

    if (!(reference_total > 0) || !(current_total > 0))
        return result;

    double total = reference_total + current_total;
    double statistic = 0;
    int bins = 0;
    for (size_t i = 0; i < n; i++) {
        double column = reference[i] + current[i];
        if (column <= 0)
            continue;
        bins++;
        double expected_reference = reference_total * column / total;
        double expected_current = current_total * column / total;
        statistic += (reference[i] - expected_reference) * (reference[i] - expected_reference) / expected_reference;
        statistic += (current[i] - expected_current) * (current[i] - expected_current) / expected_current;
    }

    if (bins < 2) {
        result.statistic = 0;
        result.p_value = 1;
        return result;
    }
    result.statistic = statistic;
    result.dof = bins - 1;
    result.p_value = ln_chi2_sf(statistic, result.dof);
    return result;
}

double ln_js_distance(const double *reference, const double *current, size_t n)
{
    double reference_total = total_of(reference, n);
    double current_total = total_of(current, n);

    if (!(reference_total > 0) || !(current_total > 0))
        return NAN;

    double divergence = 0;
    for (size_t i = 0; i < n; i++) {
        double p = reference[i] / reference_total;
        double q = current[i] / current_total;
        double m = (p + q) / 2;
        if (p > 0)
            divergence += p * log2(p / m);
        if (q > 0)
            divergence += q * log2(q / m);
    }
    /* Rounding can leave a tiny negative sum for identical distributions. */
    return sqrt(fmax(divergence / 2, 0));
}
