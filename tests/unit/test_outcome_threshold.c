/*
 * Tests of the payoff-maximising threshold search, against a brute-force
 * search over every candidate threshold, and of the bootstrap interval.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lanner/metrics.h"

typedef struct test_rng {
    uint64_t state;
} test_rng;

static uint64_t next_u64(test_rng *r)
{
    r->state = r->state * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t x = r->state;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static double next_unit(test_rng *r)
{
    return (double)(next_u64(r) >> 11) * 0x1.0p-53;
}

static int next_below(test_rng *r, int bound)
{
    return (int)(next_u64(r) % (uint64_t)bound);
}

/*
 * Brute force: every distinct score and +inf as a threshold, the payoff
 * summed from scratch for each, the highest threshold kept on equal payoff.
 */
static ln_threshold_choice brute_force(const double *scores, const double *labels, const ln_payoffs *payoffs,
                                       size_t n, size_t capacity)
{
    ln_threshold_choice best = {INFINITY, 0, 0, 0};
    unsigned char *flags = calloc(n ? n : 1, 1);

    best.payoff = ln_policy_payoff(flags, labels, payoffs, n);
    for (size_t c = 0; c < n; c++) {
        double threshold = scores[c];
        size_t flagged = 0;
        for (size_t i = 0; i < n; i++) {
            flags[i] = scores[i] >= threshold;
            flagged += flags[i];
        }
        if (flagged > capacity)
            continue;
        double payoff = ln_policy_payoff(flags, labels, payoffs, n);
        if (payoff > best.payoff || (payoff == best.payoff && threshold > best.threshold)) {
            best.threshold = threshold;
            best.payoff = payoff;
            best.flagged = flagged;
        }
    }
    free(flags);
    return best;
}

static void test_hand_made_case(void **state)
{
    (void)state;
    /* Flag a row: a fraud (label 1) saves its amount, a good order costs 10 of review. */
    const double scores[] = {0.9, 0.8, 0.8, 0.3, 0.1, 0.6};
    const double labels[] = {1, 1, 0, 0, 1, 0};
    const double tp[] = {100, 50, 0, 0, 5, 0};
    const double fp[] = {-10, -10, -10, -10, -10, -10};
    ln_payoffs payoffs = {tp, fp, NULL, NULL};
    ln_threshold_choice choice;
    ln_error err = {0};

    /* Thresholds: 0.9 -> 100, 0.8 -> 140, 0.6 -> 130, 0.3 -> 120, 0.1 -> 125. */
    assert_int_equal(ln_threshold_search(scores, labels, &payoffs, 6, 1.0, &choice, &err), LN_OK);
    assert_true(choice.threshold == 0.8);
    assert_true(choice.payoff == 140);
    assert_int_equal(choice.flagged, 3);
    assert_true(choice.flag_rate == 0.5);

    /* At most 2 of 6 rows: the tied pair at 0.8 cannot be split, so only 0.9 fits. */
    assert_int_equal(ln_threshold_search(scores, labels, &payoffs, 6, 2.0 / 6.0, &choice, &err), LN_OK);
    assert_true(choice.threshold == 0.9);
    assert_true(choice.payoff == 100);
    assert_int_equal(choice.flagged, 1);

    /* A zero rate allows only flagging nothing. */
    assert_int_equal(ln_threshold_search(scores, labels, &payoffs, 6, 0.0, &choice, &err), LN_OK);
    assert_true(choice.threshold == INFINITY);
    assert_true(choice.payoff == 0);
    assert_int_equal(choice.flagged, 0);
}

static void test_flag_nothing_when_every_flag_loses(void **state)
{
    (void)state;
    const double scores[] = {0.9, 0.5, 0.1};
    const double labels[] = {0, 0, 1};
    /* Reviewing costs 1 whatever the label, and a missed positive costs nothing. */
    const double review[] = {-1, -1, -1};
    ln_payoffs payoffs = {review, review, NULL, NULL};
    ln_threshold_choice choice;
    ln_error err = {0};

    assert_int_equal(ln_threshold_search(scores, labels, &payoffs, 3, 1.0, &choice, &err), LN_OK);
    assert_true(choice.threshold == INFINITY);
    assert_true(choice.payoff == 0);
    assert_int_equal(choice.flagged, 0);
    assert_true(choice.flag_rate == 0);
}

/* Equal payoffs at two thresholds: the higher threshold (fewer flags) wins. */
static void test_tie_prefers_higher_threshold(void **state)
{
    (void)state;
    const double scores[] = {0.9, 0.5, 0.2};
    const double labels[] = {1, 0, 1};
    const double tp[] = {10, 0, 3};
    const double fp[] = {0, 0, -3};
    ln_payoffs payoffs = {tp, fp, NULL, NULL};
    ln_threshold_choice choice;
    ln_error err = {0};

    /* 0.9 -> 10, 0.5 -> 10 (the negative costs 0), 0.2 -> 13. Capacity 2 leaves 0.9 and 0.5. */
    assert_int_equal(ln_threshold_search(scores, labels, &payoffs, 3, 2.0 / 3.0, &choice, &err), LN_OK);
    assert_true(choice.threshold == 0.9);
    assert_int_equal(choice.flagged, 1);

    /* Non-integer payoffs whose gain is zero only up to rounding: 0.1 + 0.2 - 0.2 > 0.1 in doubles. */
    const double scores_fractional[] = {0.9, 0.5, 0.5};
    const double labels_fractional[] = {1, 1, 0};
    const double tp_fractional[] = {0.1, 0.2, 0};
    const double fp_fractional[] = {0, 0, -0.2};
    ln_payoffs fractional = {tp_fractional, fp_fractional, NULL, NULL};
    assert_int_equal(ln_threshold_search(scores_fractional, labels_fractional, &fractional, 3, 1.0, &choice, &err),
                     LN_OK);
    assert_int_equal(choice.flagged, 1);
    assert_true(choice.threshold == 0.9);
}

static void test_capacity_rounding(void **state)
{
    (void)state;
    enum { N = 100 };
    double scores[N], labels[N], tp[N];
    ln_payoffs payoffs = {tp, NULL, NULL, NULL};
    ln_threshold_choice choice;
    ln_error err = {0};

    for (int i = 0; i < N; i++) {
        scores[i] = i;
        labels[i] = 1;
        tp[i] = 1;
    }
    /* 0.29 * 100 is 28.999999999999996 in doubles, but the limit is 29 rows. */
    assert_int_equal(ln_threshold_search(scores, labels, &payoffs, N, 0.29, &choice, &err), LN_OK);
    assert_int_equal(choice.flagged, 29);
    assert_true(choice.threshold == 71);
    assert_true(choice.payoff == 29);

    assert_int_equal(ln_threshold_search(scores, labels, &payoffs, N, 0.295, &choice, &err), LN_OK);
    assert_int_equal(choice.flagged, 29);
    assert_int_equal(ln_threshold_search(scores, labels, &payoffs, N, 1.0, &choice, &err), LN_OK);
    assert_int_equal(choice.flagged, 100);
    assert_true(choice.threshold == 0);
}

static void test_invalid_inputs(void **state)
{
    (void)state;
    const double scores[] = {0.9, 0.5, 0.1};
    const double labels[] = {1, 0, 1};
    const double tp[] = {1, 1, 1};
    ln_payoffs payoffs = {tp, NULL, NULL, NULL};
    ln_threshold_choice choice;
    ln_error err = {0};

    assert_int_equal(ln_threshold_search(scores, labels, &payoffs, 3, 1.5, &choice, &err), LN_ERR_CONFIG);
    assert_string_equal(err.message, "maximum flag rate is 1.5; expected a fraction from 0 to 1");
    assert_int_equal(ln_threshold_search(scores, labels, &payoffs, 3, -0.1, &choice, &err), LN_ERR_CONFIG);
    assert_int_equal(ln_threshold_search(scores, labels, &payoffs, 3, NAN, &choice, &err), LN_ERR_CONFIG);

    const double nan_scores[] = {0.9, NAN, 0.1};
    assert_int_equal(ln_threshold_search(nan_scores, labels, &payoffs, 3, 1.0, &choice, &err), LN_ERR_DATA);
    assert_string_equal(err.message, "score of row 2 is missing (NaN); scores must be numbers below +inf");
    const double inf_scores[] = {INFINITY, 0.5, 0.1};
    assert_int_equal(ln_threshold_search(inf_scores, labels, &payoffs, 3, 1.0, &choice, &err), LN_ERR_DATA);
    assert_string_equal(err.message, "score of row 1 is +inf; scores must be numbers below +inf");

    const double bad_labels[] = {1, 0, 2};
    assert_int_equal(ln_threshold_search(scores, bad_labels, &payoffs, 3, 1.0, &choice, &err), LN_ERR_DATA);
    assert_string_equal(err.message, "label of row 3 is 2; expected 0 or 1");

    const double fn_nan[] = {0, NAN, 0};
    ln_payoffs with_nan = {tp, NULL, fn_nan, NULL};
    assert_int_equal(ln_threshold_search(scores, labels, &with_nan, 3, 1.0, &choice, &err), LN_ERR_DATA);
    assert_string_equal(err.message,
                        "false-negative payoff of row 2 is nan; payoffs must be finite, so give missing inputs a "
                        "value in the payoff expression, e.g. with if(is_missing(x), 0, x)");
}

static void test_no_rows(void **state)
{
    (void)state;
    ln_payoffs payoffs = {NULL, NULL, NULL, NULL};
    ln_threshold_choice choice;
    ln_error err = {0};

    assert_int_equal(ln_threshold_search(NULL, NULL, &payoffs, 0, 1.0, &choice, &err), LN_OK);
    assert_true(choice.threshold == INFINITY);
    assert_true(choice.payoff == 0);
    assert_int_equal(choice.flagged, 0);
    assert_true(choice.flag_rate == 0);
}

/* Random cases with heavy ties, integer payoffs (exact sums) and random flag limits. */
static void test_matches_brute_force(void **state)
{
    (void)state;
    test_rng rng = {2024};
    ln_error err = {0};

    for (int trial = 0; trial < 3000; trial++) {
        size_t n = (size_t)next_below(&rng, 40) + 1;
        int distinct = next_below(&rng, 8) + 1;
        double scores[40], labels[40], tp[40], fp[40], fn[40], tn[40];
        for (size_t i = 0; i < n; i++) {
            scores[i] = (double)next_below(&rng, distinct) - (trial % 3 == 0 ? 3.0 : 0.0);
            labels[i] = next_below(&rng, 3) == 0;
            tp[i] = next_below(&rng, 21) - 5;
            fp[i] = -next_below(&rng, 11);
            fn[i] = -next_below(&rng, 11);
            tn[i] = next_below(&rng, 3);
        }
        ln_payoffs payoffs = {tp, fp, fn, trial % 2 ? tn : NULL};
        double rate = trial % 4 == 0 ? 1.0 : (double)next_below(&rng, 101) / 100.0;
        size_t capacity = (size_t)floor(rate * (double)n + 1e-9);

        ln_threshold_choice got, want = brute_force(scores, labels, &payoffs, n, capacity);
        assert_int_equal(ln_threshold_search(scores, labels, &payoffs, n, rate, &got, &err), LN_OK);
        if (got.threshold != want.threshold || got.payoff != want.payoff || got.flagged != want.flagged) {
            print_error("trial %d (n %zu, rate %g): got threshold %g payoff %g flagged %zu, brute force %g %g %zu\n",
                        trial, n, rate, got.threshold, got.payoff, got.flagged, want.threshold, want.payoff,
                        want.flagged);
            fail();
        }
        assert_true(got.flag_rate == (double)got.flagged / (double)n);
    }
}

/* ---- bootstrap ---- */

static void test_bootstrap_identical_decisions(void **state)
{
    (void)state;
    const unsigned char flags[] = {1, 0, 1, 0};
    const double labels[] = {1, 0, 0, 1};
    const double tp[] = {5, 5, 5, 5};
    ln_payoffs payoffs = {tp, NULL, NULL, NULL};
    ln_bootstrap_interval interval;
    ln_error err = {0};

    assert_int_equal(ln_bootstrap_payoff_difference(flags, flags, labels, &payoffs, 4, NULL, &interval, &err), LN_OK);
    assert_true(interval.difference == 0);
    assert_true(interval.lower == 0);
    assert_true(interval.upper == 0);
    assert_int_equal(interval.n_resamples, LN_BOOTSTRAP_DEFAULT_RESAMPLES);
}

/* When every row differs by the same amount, every resample sums to n times it. */
static void test_bootstrap_constant_difference(void **state)
{
    (void)state;
    const unsigned char flags_a[] = {1, 1, 1, 1, 1};
    const unsigned char flags_b[] = {0, 0, 0, 0, 0};
    const double labels[] = {1, 1, 1, 1, 1};
    const double tp[] = {3, 3, 3, 3, 3};
    const double fn[] = {1, 1, 1, 1, 1};
    ln_payoffs payoffs = {tp, NULL, fn, NULL};
    ln_bootstrap_options options = {.n_resamples = 200, .confidence = 0.9, .seed = 7};
    ln_bootstrap_interval interval;
    ln_error err = {0};

    assert_int_equal(
        ln_bootstrap_payoff_difference(flags_a, flags_b, labels, &payoffs, 5, &options, &interval, &err), LN_OK);
    assert_true(interval.difference == 10);
    assert_true(interval.lower == 10);
    assert_true(interval.upper == 10);
    assert_int_equal(interval.n_resamples, 200);
}

static void test_bootstrap_seed_reproducible(void **state)
{
    (void)state;
    enum { N = 300 };
    unsigned char flags_a[N], flags_b[N];
    double labels[N], tp[N], fp[N];
    test_rng rng = {5};
    for (int i = 0; i < N; i++) {
        flags_a[i] = next_below(&rng, 2);
        flags_b[i] = next_below(&rng, 2);
        labels[i] = next_below(&rng, 4) == 0;
        tp[i] = 100 * next_unit(&rng);
        fp[i] = -10;
    }
    ln_payoffs payoffs = {tp, fp, NULL, NULL};
    ln_bootstrap_options options = {.seed = 42};
    ln_bootstrap_interval first, second, other;
    ln_error err = {0};

    assert_int_equal(ln_bootstrap_payoff_difference(flags_a, flags_b, labels, &payoffs, N, &options, &first, &err),
                     LN_OK);
    assert_int_equal(ln_bootstrap_payoff_difference(flags_a, flags_b, labels, &payoffs, N, &options, &second, &err),
                     LN_OK);
    options.seed = 43;
    assert_int_equal(ln_bootstrap_payoff_difference(flags_a, flags_b, labels, &payoffs, N, &options, &other, &err),
                     LN_OK);
    assert_true(first.lower == second.lower && first.upper == second.upper);
    assert_true(first.lower != other.lower || first.upper != other.upper);
    assert_true(first.lower < first.difference && first.difference < first.upper);

    double direct = 0;
    for (int i = 0; i < N; i++) {
        if (flags_a[i] != flags_b[i])
            direct += (flags_a[i] ? 1 : -1) * (labels[i] == 1 ? tp[i] : fp[i]);
    }
    assert_true(fabs(first.difference - direct) < 1e-9);
}

static void test_bootstrap_invalid_inputs(void **state)
{
    (void)state;
    const unsigned char flags_a[] = {1, 0};
    const unsigned char flags_b[] = {0, 0};
    const double labels[] = {1, 0};
    const double tp[] = {INFINITY, 1};
    const double fine[] = {1, 1};
    ln_payoffs infinite = {tp, NULL, NULL, NULL};
    ln_payoffs payoffs = {fine, NULL, NULL, NULL};
    ln_bootstrap_interval interval;
    ln_error err = {0};

    assert_int_equal(ln_bootstrap_payoff_difference(flags_a, flags_b, labels, &infinite, 2, NULL, &interval, &err),
                     LN_ERR_DATA);
    ln_bootstrap_options options = {.confidence = 1.0};
    assert_int_equal(ln_bootstrap_payoff_difference(flags_a, flags_b, labels, &payoffs, 2, &options, &interval, &err),
                     LN_ERR_CONFIG);
    options = (ln_bootstrap_options){.n_resamples = (size_t)LN_BOOTSTRAP_MAX_RESAMPLES + 1};
    assert_int_equal(ln_bootstrap_payoff_difference(flags_a, flags_b, labels, &payoffs, 2, &options, &interval, &err),
                     LN_ERR_CONFIG);
    const double bad_labels[] = {1, -1};
    assert_int_equal(ln_bootstrap_payoff_difference(flags_a, flags_b, bad_labels, &payoffs, 2, NULL, &interval, &err),
                     LN_ERR_DATA);
    assert_int_equal(ln_bootstrap_payoff_difference(NULL, NULL, NULL, &payoffs, 0, NULL, &interval, &err), LN_OK);
    assert_true(interval.lower == 0 && interval.upper == 0 && interval.difference == 0);
}

/*
 * Coverage: rows drawn from a known population, where decision a flags 60%
 * of rows and b 30% at random. The expected total difference over n rows is
 * n * (E[payoff | a] - E[payoff | b]); a 95% interval should contain it in
 * about 95% of samples. Percentile intervals under-cover slightly at small
 * n, and 300 samples give a standard error of about 1.3 points, so the test
 * accepts 88% to 99%.
 */
static void test_bootstrap_coverage(void **state)
{
    (void)state;
    enum { N = 200, SAMPLES = 300 };
    const double p_positive = 0.3, p_a = 0.6, p_b = 0.3;
    const double mean_tp = 50, fp_cost = -5, fn_cost = -20;
    /* Per row: E[payoff] = p_flag * (0.3 * 50 + 0.7 * -5) + (1 - p_flag) * (0.3 * -20). */
    const double flagged_value = p_positive * mean_tp + (1 - p_positive) * fp_cost;
    const double unflagged_value = p_positive * fn_cost;
    const double truth = N * ((p_a - p_b) * (flagged_value - unflagged_value));

    test_rng rng = {77};
    unsigned char flags_a[N], flags_b[N];
    double labels[N], tp[N], fp[N], fn[N];
    int covered = 0;
    ln_error err = {0};

    for (int sample = 0; sample < SAMPLES; sample++) {
        for (int i = 0; i < N; i++) {
            labels[i] = next_unit(&rng) < p_positive;
            flags_a[i] = next_unit(&rng) < p_a;
            flags_b[i] = next_unit(&rng) < p_b;
            tp[i] = -mean_tp * log(1.0 - next_unit(&rng)); /* exponential, skewed like order amounts */
            fp[i] = fp_cost;
            fn[i] = fn_cost;
        }
        ln_payoffs payoffs = {tp, fp, fn, NULL};
        ln_bootstrap_options options = {.seed = (uint64_t)sample};
        ln_bootstrap_interval interval;
        assert_int_equal(
            ln_bootstrap_payoff_difference(flags_a, flags_b, labels, &payoffs, N, &options, &interval, &err), LN_OK);
        covered += interval.lower <= truth && truth <= interval.upper;
    }
    double rate = (double)covered / SAMPLES;
    print_message("bootstrap 95%% interval covered the true difference in %.1f%% of %d samples\n", 100 * rate,
                  SAMPLES);
    assert_true(rate >= 0.88);
    assert_true(rate <= 0.99);
}

/* The shortcut that samples only differing rows must match plain resampling in distribution. */
static void test_bootstrap_matches_plain_resampling(void **state)
{
    (void)state;
    enum { N = 50, RESAMPLES = 20000 };
    unsigned char flags_a[N] = {0}, flags_b[N] = {0};
    double labels[N], tp[N];
    for (int i = 0; i < N; i++) {
        labels[i] = 1;
        tp[i] = i < 5 ? 10.0 * (i + 1) : 1.0;
        flags_a[i] = i < 5; /* five rows differ, worth 10..50 */
    }
    ln_payoffs payoffs = {tp, NULL, NULL, NULL};
    ln_bootstrap_options options = {.n_resamples = RESAMPLES, .confidence = 0.8, .seed = 3};
    ln_bootstrap_interval interval;
    ln_error err = {0};
    assert_int_equal(ln_bootstrap_payoff_difference(flags_a, flags_b, labels, &payoffs, N, &options, &interval, &err),
                     LN_OK);

    /* Plain resampling of all 50 rows with the test's own generator. */
    test_rng rng = {11};
    double *sums = malloc(RESAMPLES * sizeof *sums);
    for (int b = 0; b < RESAMPLES; b++) {
        double sum = 0;
        for (int k = 0; k < N; k++) {
            int row = next_below(&rng, N);
            sum += row < 5 ? tp[row] : 0.0;
        }
        sums[b] = sum;
    }
    int below_lower = 0, above_upper = 0;
    for (int b = 0; b < RESAMPLES; b++) {
        below_lower += sums[b] < interval.lower;
        above_upper += sums[b] > interval.upper;
    }
    free(sums);
    /* Each tail contains about 10% of plain resamples (sums are discrete, so allow slack for ties). */
    print_message("plain resamples below/above the 80%% interval: %d / %d of %d\n", below_lower, above_upper,
                  RESAMPLES);
    assert_true(below_lower > RESAMPLES * 0.06 && below_lower < RESAMPLES * 0.12);
    assert_true(above_upper > RESAMPLES * 0.06 && above_upper < RESAMPLES * 0.12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_made_case),
        cmocka_unit_test(test_flag_nothing_when_every_flag_loses),
        cmocka_unit_test(test_tie_prefers_higher_threshold),
        cmocka_unit_test(test_capacity_rounding),
        cmocka_unit_test(test_invalid_inputs),
        cmocka_unit_test(test_no_rows),
        cmocka_unit_test(test_matches_brute_force),
        cmocka_unit_test(test_bootstrap_identical_decisions),
        cmocka_unit_test(test_bootstrap_constant_difference),
        cmocka_unit_test(test_bootstrap_seed_reproducible),
        cmocka_unit_test(test_bootstrap_invalid_inputs),
        cmocka_unit_test(test_bootstrap_coverage),
        cmocka_unit_test(test_bootstrap_matches_plain_resampling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
