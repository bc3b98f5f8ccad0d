/*
 * Tests of the ranking and calibration metrics. Expected values were computed
 * with scikit-learn 1.2.1 (roc_auc_score, average_precision_score,
 * log_loss with eps=1e-15, brier_score_loss) on the same arrays.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "lanner/metrics.h"

#define N_OF(array) (sizeof array / sizeof array[0])

static void check_close(double actual, double expected, double tolerance, const char *label)
{
    if (isnan(expected) && isnan(actual))
        return;
    if (fabs(actual - expected) <= tolerance)
        return;
    print_error("%s gave %.17g, expected %.17g\n", label, actual, expected);
    fail();
}

/* Twelve rows with a three-way and a two-way tie across classes. */
static const double scores_a[] = {0.1, 0.4, 0.35, 0.8, 0.8, 0.2, 0.5, 0.5, 0.5, 0.9, 0.05, 0.65};
static const double labels_a[] = {0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1};

/* Every score tied. */
static const double scores_b[] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
static const double labels_b[] = {0, 1, 0, 1, 1, 0};

/* Negative scores, and -0.0 tied with 0.0. */
static const double scores_c[] = {-1, -0.0, 0.0, 2, -3, 2};
static const double labels_c[] = {0, 1, 0, 1, 0, 0};

/* Integer scores with ties. */
static const double scores_d[] = {3, 1, 2, 2, 5, 1, 1, 4};
static const double labels_d[] = {1, 0, 1, 0, 0, 1, 0, 1};

static void test_auc_matches_sklearn(void **state)
{
    (void)state;
    check_close(ln_roc_auc(scores_a, labels_a, N_OF(scores_a)), 0.79166666666666674, 1e-12, "AUC of A");
    check_close(ln_roc_auc(scores_b, labels_b, N_OF(scores_b)), 0.5, 1e-12, "AUC of B");
    check_close(ln_roc_auc(scores_c, labels_c, N_OF(scores_c)), 0.75, 1e-12, "AUC of C");
    check_close(ln_roc_auc(scores_d, labels_d, N_OF(scores_d)), 0.59375, 1e-12, "AUC of D");
}

static void test_auc_reversed_scores(void **state)
{
    (void)state;
    double reversed[N_OF(scores_a)];
    for (size_t i = 0; i < N_OF(scores_a); i++)
        reversed[i] = -scores_a[i];
    check_close(ln_roc_auc(reversed, labels_a, N_OF(scores_a)), 1.0 - 0.79166666666666674, 1e-12,
                "AUC of negated A");
}

static void test_auc_undefined_inputs(void **state)
{
    (void)state;
    const double one_class[] = {1, 1, 1};
    const double scores[] = {0.2, 0.3, 0.9};
    const double with_nan[] = {0.2, NAN, 0.9};
    const double mixed[] = {0, 1, 1};
    const double not_binary[] = {0, 2, 1};

    assert_true(isnan(ln_roc_auc(scores, one_class, 3)));
    assert_true(isnan(ln_roc_auc(scores, mixed, 0)));
    assert_true(isnan(ln_roc_auc(with_nan, mixed, 3)));
    assert_true(isnan(ln_roc_auc(scores, not_binary, 3)));
    check_close(ln_roc_auc(scores, mixed, 3), 1.0, 0, "AUC of a perfect ranking");
}

static void test_average_precision_matches_sklearn(void **state)
{
    (void)state;
    check_close(ln_average_precision(scores_a, labels_a, N_OF(scores_a)), 0.75198412698412698, 1e-12, "AP of A");
    check_close(ln_average_precision(scores_b, labels_b, N_OF(scores_b)), 0.5, 1e-12, "AP of B");
    check_close(ln_average_precision(scores_c, labels_c, N_OF(scores_c)), 0.5, 1e-12, "AP of C");
    check_close(ln_average_precision(scores_d, labels_d, N_OF(scores_d)), 0.56666666666666665, 1e-12, "AP of D");

    const double all_positive[] = {1, 1, 1};
    const double scores[] = {0.2, 0.3, 0.9};
    check_close(ln_average_precision(scores, all_positive, 3), 1.0, 1e-12, "AP with only positives");
}

static void test_average_precision_undefined_inputs(void **state)
{
    (void)state;
    const double no_positive[] = {0, 0, 0};
    const double scores[] = {0.2, 0.3, 0.9};
    const double with_nan[] = {0.2, NAN, 0.9};
    const double mixed[] = {0, 1, 1};

    assert_true(isnan(ln_average_precision(scores, no_positive, 3)));
    assert_true(isnan(ln_average_precision(scores, mixed, 0)));
    assert_true(isnan(ln_average_precision(with_nan, mixed, 3)));
}

static void test_log_loss_matches_sklearn(void **state)
{
    (void)state;
    const double probabilities[] = {0.1, 0.9, 0.3, 0.75, 0.5, 0.02, 0.999};
    const double labels[] = {0, 1, 1, 1, 0, 0, 1};
    check_close(ln_log_loss(probabilities, labels, N_OF(labels)), 0.34524661375777393, 1e-12, "log loss");

    /* 0 and 1 are clipped to 1e-15 and 1 - 1e-15. */
    const double extreme[] = {0, 1, 0.5, 1.0, 0.0};
    const double extreme_labels[] = {1, 0, 1, 1, 0};
    check_close(ln_log_loss(extreme, extreme_labels, N_OF(extreme)), 13.9542999135623, 1e-12, "clipped log loss");
}

static void test_log_loss_invalid_inputs(void **state)
{
    (void)state;
    const double labels[] = {0, 1};
    const double outside[] = {0.5, 1.5};
    const double negative[] = {-0.1, 0.5};
    const double with_nan[] = {NAN, 0.5};
    const double fine[] = {0.5, 0.5};
    const double bad_labels[] = {0, 0.5};

    assert_true(isnan(ln_log_loss(outside, labels, 2)));
    assert_true(isnan(ln_log_loss(negative, labels, 2)));
    assert_true(isnan(ln_log_loss(with_nan, labels, 2)));
    assert_true(isnan(ln_log_loss(fine, bad_labels, 2)));
    assert_true(isnan(ln_log_loss(fine, labels, 0)));
    assert_true(isnan(ln_brier_score(outside, labels, 2)));
    assert_true(isnan(ln_brier_score(fine, labels, 0)));
}

static void test_brier_matches_sklearn(void **state)
{
    (void)state;
    const double probabilities[] = {0.1, 0.9, 0.3, 0.75, 0.5, 0.02, 0.999};
    const double labels[] = {0, 1, 1, 1, 0, 0, 1};
    check_close(ln_brier_score(probabilities, labels, N_OF(labels)), 0.1175572857142857, 1e-12, "Brier score");

    const double extreme[] = {0, 1, 0.5, 1.0, 0.0};
    const double extreme_labels[] = {1, 0, 1, 1, 0};
    check_close(ln_brier_score(extreme, extreme_labels, N_OF(extreme)), 0.45000000000000001, 1e-12,
                "Brier score at 0 and 1");
}

static void test_policy_payoff(void **state)
{
    (void)state;
    const unsigned char flags[] = {1, 1, 0, 0, 2};
    const double labels[] = {1, 0, 1, 0, 1};
    const double tp[] = {100, 101, 102, 103, 104};
    const double fp[] = {-10, -11, -12, -13, -14};
    const double fn[] = {-50, -51, -52, -53, -54};
    const double tn[] = {1, 2, 3, 4, 5};

    /* Rows: TP 100, FP -11, FN -52, TN 4, TP (any non-zero flag) 104. */
    ln_payoffs payoffs = {tp, fp, fn, tn};
    check_close(ln_policy_payoff(flags, labels, &payoffs, 5), 145, 0, "payoff of five rows");

    ln_payoffs no_true_negative = {tp, fp, fn, NULL};
    check_close(ln_policy_payoff(flags, labels, &no_true_negative, 5), 141, 0, "payoff with NULL array");
    check_close(ln_policy_payoff(flags, labels, &payoffs, 0), 0, 0, "payoff of no rows");

    const double bad_labels[] = {1, 0, 1, 0, 0.5};
    assert_true(isnan(ln_policy_payoff(flags, bad_labels, &payoffs, 5)));
    const double tp_nan[] = {NAN, 101, 102, 103, 104};
    ln_payoffs with_nan = {tp_nan, fp, fn, tn};
    assert_true(isnan(ln_policy_payoff(flags, labels, &with_nan, 5)));
}

/*
 * A million rows with 1000 distinct scores: the result must match a direct
 * pair count over the score bins, and the time is printed.
 */
static void test_auc_million_rows(void **state)
{
    (void)state;
    const size_t n = 1000000;
    const size_t bins = 1000;
    double *scores = malloc(n * sizeof *scores);
    double *labels = malloc(n * sizeof *labels);
    double *positive_bins = calloc(bins, sizeof *positive_bins);
    double *negative_bins = calloc(bins, sizeof *negative_bins);
    uint64_t seed = 99;

    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t bin = (size_t)(seed >> 33) % bins;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        /* Higher bins are more often positive. */
        int positive = (double)(seed >> 11) * 0x1.0p-53 < 0.1 + 0.5 * (double)bin / (double)bins;
        scores[i] = (double)bin / 7.0 - 50.0;
        labels[i] = positive;
        (positive ? positive_bins : negative_bins)[bin]++;
    }

    double pairs = 0, negatives_below = 0, positives = 0, negatives = 0;
    for (size_t b = 0; b < bins; b++) {
        pairs += positive_bins[b] * (negatives_below + 0.5 * negative_bins[b]);
        negatives_below += negative_bins[b];
        positives += positive_bins[b];
        negatives += negative_bins[b];
    }

    clock_t start = clock();
    double auc = ln_roc_auc(scores, labels, n);
    double seconds = (double)(clock() - start) / CLOCKS_PER_SEC;
    print_message("AUC of %zu rows took %.3f s\n", n, seconds);
    check_close(auc, pairs / (positives * negatives), 1e-12, "AUC of a million rows");
    assert_true(seconds < 5.0);

    free(scores);
    free(labels);
    free(positive_bins);
    free(negative_bins);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auc_matches_sklearn),
        cmocka_unit_test(test_auc_reversed_scores),
        cmocka_unit_test(test_auc_undefined_inputs),
        cmocka_unit_test(test_average_precision_matches_sklearn),
        cmocka_unit_test(test_average_precision_undefined_inputs),
        cmocka_unit_test(test_log_loss_matches_sklearn),
        cmocka_unit_test(test_log_loss_invalid_inputs),
        cmocka_unit_test(test_brier_matches_sklearn),
        cmocka_unit_test(test_policy_payoff),
        cmocka_unit_test(test_auc_million_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
