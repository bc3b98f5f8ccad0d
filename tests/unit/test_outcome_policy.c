/*
 * Multi-action policy search against brute force, the generic bootstrap,
 * the calibration curve and confusion counts. The calibration, Brier and
 * recall figures were computed with scikit-learn 1.2.1 and numpy on the same
 * 24 rows (calibration_curve(strategy="uniform", n_bins=10),
 * brier_score_loss, confusion_matrix, recall_score); the expected
 * calibration error is sum(count / n * |prob_pred - prob_true|) in numpy.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lanner/metrics.h"

#define MAX_ROWS 14

static uint64_t rng_state = 88172645463325252ull;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double uniform(void)
{
    return (double)(next_random() >> 11) * 0x1.0p-53;
}

typedef struct random_case {
    size_t n, n_actions;
    double scores[MAX_ROWS], labels[MAX_ROWS];
    double positive[LN_MAX_ACTIONS + 1][MAX_ROWS], negative[LN_MAX_ACTIONS + 1][MAX_ROWS];
    ln_action_payoffs options[LN_MAX_ACTIONS + 1];
    double max_flag_rate;
} random_case;

/* Fills a case with few distinct scores (so ties are common) and whole-number payoffs (so totals are exact). */
static void make_case(random_case *c)
{
    c->n = 1 + next_random() % MAX_ROWS;
    c->n_actions = 1 + next_random() % 3;
    for (size_t i = 0; i < c->n; i++) {
        c->scores[i] = (double)(next_random() % 6) / 5.0;
        c->labels[i] = (double)(next_random() % 2);
        for (size_t k = 0; k <= c->n_actions; k++) {
            c->positive[k][i] = (double)((int)(next_random() % 21) - 10);
            c->negative[k][i] = (double)((int)(next_random() % 21) - 10);
        }
    }
    for (size_t k = 0; k <= c->n_actions; k++) {
        c->options[k].if_positive = c->positive[k];
        c->options[k].if_negative = c->negative[k];
        c->options[k].max_rate = next_random() % 3 == 0 ? 1.0 : uniform();
    }
    c->max_flag_rate = next_random() % 2 == 0 ? 1.0 : uniform();
}

static double row_payoff(const random_case *c, size_t option, size_t row)
{
    return c->labels[row] == 1.0 ? c->positive[option][row] : c->negative[option][row];
}

/*
 * Tries every assignment of the distinct scores to cut points, as a base-
 * (G + 1) counter over the K cuts, and returns the best total within the
 * capacities.
 */
static double brute_force(const random_case *c)
{
    double distinct[MAX_ROWS];
    size_t groups = 0;
    for (size_t i = 0; i < c->n; i++) {
        size_t j = 0;
        while (j < groups && distinct[j] != c->scores[i])
            j++;
        if (j == groups)
            distinct[groups++] = c->scores[i];
    }
    /* Descending: thresholds are distinct scores, or +inf for none. */
    for (size_t a = 0; a < groups; a++)
        for (size_t b = a + 1; b < groups; b++)
            if (distinct[b] > distinct[a]) {
                double t = distinct[a];
                distinct[a] = distinct[b];
                distinct[b] = t;
            }

    size_t cuts[LN_MAX_ACTIONS] = {0};
    double best = -INFINITY;
    for (;;) {
        int ordered = 1;
        for (size_t k = 1; k < c->n_actions; k++)
            ordered &= cuts[k] >= cuts[k - 1];
        if (ordered) {
            double thresholds[LN_MAX_ACTIONS];
            for (size_t k = 0; k < c->n_actions; k++)
                thresholds[k] = cuts[k] == 0 ? INFINITY : distinct[cuts[k] - 1];
            size_t assigned[LN_MAX_ACTIONS + 1] = {0};
            double total = 0;
            for (size_t i = 0; i < c->n; i++) {
                size_t d = 0;
                while (d < c->n_actions && !(c->scores[i] >= thresholds[d]))
                    d++;
                assigned[d]++;
                total += row_payoff(c, d, i);
            }
            int fits = 1;
            size_t flagged = 0;
            for (size_t k = 0; k < c->n_actions; k++) {
                fits &= (double)assigned[k] <= floor(c->options[k].max_rate * (double)c->n + 1e-9);
                flagged += assigned[k];
            }
            fits &= (double)flagged <= floor(c->max_flag_rate * (double)c->n + 1e-9);
            if (fits && total > best)
                best = total;
        }
        size_t k = 0;
        while (k < c->n_actions && cuts[k] == groups)
            cuts[k++] = 0;
        if (k == c->n_actions)
            break;
        cuts[k]++;
    }
    return best;
}

static void policy_search_matches_brute_force(void **state)
{
    (void)state;

    for (int trial = 0; trial < 3000; trial++) {
        random_case c;
        ln_policy_choice choice;
        ln_error err = {0};
        make_case(&c);

        assert_int_equal(ln_policy_search(c.scores, c.labels, c.options, c.n_actions, &c.options[c.n_actions], c.n,
                                          c.max_flag_rate, &choice, &err),
                         LN_OK);
        double expected = brute_force(&c);
        if (choice.payoff != expected)
            fail_msg("trial %d (n %zu, %zu actions): search found %.17g, brute force %.17g", trial, c.n,
                     c.n_actions, choice.payoff, expected);

        /* The thresholds reproduce the reported counts and stay in order. */
        unsigned char decisions[MAX_ROWS];
        size_t assigned[LN_MAX_ACTIONS + 1] = {0};
        ln_policy_assign(c.scores, c.n, choice.thresholds, c.n_actions, decisions);
        for (size_t i = 0; i < c.n; i++)
            assigned[decisions[i]]++;
        size_t flagged = 0;
        for (size_t k = 0; k < c.n_actions; k++) {
            assert_int_equal(assigned[k], choice.assigned[k]);
            flagged += assigned[k];
            if (k > 0)
                assert_true(choice.thresholds[k] <= choice.thresholds[k - 1]);
        }
        assert_int_equal(flagged, choice.flagged);
        double total = ln_policy_row_payoffs(decisions, c.labels, c.options, c.n_actions, c.n, NULL);
        assert_true(total == expected);
    }
}

static void policy_search_one_action_equals_threshold_search(void **state)
{
    (void)state;

    for (int trial = 0; trial < 500; trial++) {
        random_case c;
        ln_error err = {0};
        make_case(&c);
        c.n_actions = 1;
        c.options[0].max_rate = 1.0;

        ln_payoffs payoffs = {c.positive[0], c.negative[0], c.positive[1], c.negative[1]};
        ln_threshold_choice binary;
        ln_policy_choice policy;
        assert_int_equal(ln_threshold_search(c.scores, c.labels, &payoffs, c.n, c.max_flag_rate, &binary, &err), LN_OK);
        assert_int_equal(ln_policy_search(c.scores, c.labels, c.options, 1, &c.options[1], c.n, c.max_flag_rate,
                                          &policy, &err),
                         LN_OK);
        assert_true(policy.thresholds[0] == binary.threshold);
        assert_int_equal(policy.flagged, binary.flagged);
        assert_true(policy.payoff == binary.payoff);
    }
}

static void policy_search_respects_review_capacity(void **state)
{
    (void)state;
    /* Every row is worth reviewing (10) more than cancelling (4), but review takes at most 2 of 10 rows. */
    double scores[10] = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05};
    double labels[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    double cancel[10], review[10], keep[10];
    for (int i = 0; i < 10; i++) {
        cancel[i] = 4;
        review[i] = 10;
        keep[i] = i < 6 ? 0 : 5;
    }
    ln_action_payoffs actions[2] = {{cancel, cancel, 1.0}, {review, review, 0.2}};
    ln_action_payoffs fallback = {keep, keep, 1.0};
    ln_policy_choice choice;
    ln_error err = {0};

    assert_int_equal(ln_policy_search(scores, labels, actions, 2, &fallback, 10, 1.0, &choice, &err), LN_OK);
    /* Best: cancel 4 rows (16), review 2 (20), keep 4 rows worth 5 each (20) = 56. */
    assert_true(choice.payoff == 56);
    assert_int_equal(choice.assigned[0], 4);
    assert_int_equal(choice.assigned[1], 2);
    assert_true(choice.thresholds[0] == 0.6);
    assert_true(choice.thresholds[1] == 0.4);

    /* An overall limit of 50% leaves cancel 3 and review 2: 12 + 20 + 20 = 52 beats cancel 4 and review 1 (46). */
    assert_int_equal(ln_policy_search(scores, labels, actions, 2, &fallback, 10, 0.5, &choice, &err), LN_OK);
    assert_int_equal(choice.flagged, 5);
    assert_true(choice.payoff == 52);
    assert_int_equal(choice.assigned[0], 3);
}

static void policy_search_rejects_bad_input(void **state)
{
    (void)state;
    double scores[2] = {0.5, NAN};
    double labels[2] = {0, 1};
    ln_action_payoffs actions[1] = {{NULL, NULL, 1.0}};
    ln_policy_choice choice;
    ln_error err = {0};

    assert_int_equal(ln_policy_search(scores, labels, actions, 1, &actions[0], 2, 1.0, &choice, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "score of row 2"));
    assert_int_equal(ln_policy_search(scores, labels, actions, 0, &actions[0], 2, 1.0, &choice, &err), LN_ERR_CONFIG);
    actions[0].max_rate = 1.5;
    scores[1] = 0.1;
    assert_int_equal(ln_policy_search(scores, labels, actions, 1, &actions[0], 2, 1.0, &choice, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "action 1 has a maximum rate of 1.5"));
}

static void bootstrap_sum_matches_flag_difference(void **state)
{
    (void)state;
    enum { N = 200 };
    unsigned char a[N], b[N];
    double labels[N], tp[N], fp[N], differences[N];
    for (int i = 0; i < N; i++) {
        a[i] = i % 3 == 0;
        b[i] = i % 5 == 0;
        labels[i] = i % 4 == 0;
        tp[i] = 10 + i % 7;
        fp[i] = -3;
        double pa = a[i] ? (labels[i] == 1 ? tp[i] : fp[i]) : 0;
        double pb = b[i] ? (labels[i] == 1 ? tp[i] : fp[i]) : 0;
        differences[i] = pa - pb;
    }
    ln_payoffs payoffs = {tp, fp, NULL, NULL};
    ln_bootstrap_options options = {1000, 0.95, 7};
    ln_bootstrap_interval from_sum, from_flags;
    ln_error err = {0};

    assert_int_equal(ln_bootstrap_sum(differences, N, &options, &from_sum, &err), LN_OK);
    assert_int_equal(ln_bootstrap_payoff_difference(a, b, labels, &payoffs, N, &options, &from_flags, &err), LN_OK);
    assert_true(from_sum.difference == from_flags.difference);
    assert_true(from_sum.lower < from_sum.difference && from_sum.difference < from_sum.upper);
    /* Different draws (rows with a zero difference are skipped), so the bounds agree only roughly. */
    assert_true(fabs(from_sum.lower - from_flags.lower) < 0.25 * (from_flags.upper - from_flags.lower));

    differences[3] = INFINITY;
    assert_int_equal(ln_bootstrap_sum(differences, N, &options, &from_sum, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "row 4"));
}

static const double calibration_scores[24] = {
    0.03, 0.1, 0.15, 0.2, 0.22, 0.3, 0.35, 0.41, 0.5, 0.55, 0.6, 0.62,
    0.7,  0.71, 0.8, 0.85, 0.9, 0.95, 0.99, 1.0, 0.0, 0.47, 0.33, 0.08,
};
static const double calibration_labels[24] = {
    0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0,
};

static void calibration_curve_matches_scikit_learn(void **state)
{
    (void)state;
    const double prob_true[10] = {0.0, 0.5, 0.0, 1.0, 0.3333333333333333, 0.5, 0.5, 1.0, 1.0, 0.6666666666666666};
    const double prob_pred[10] = {0.052500000000000005, 0.175, 0.26, 0.33999999999999997, 0.45999999999999996,
                                  0.575, 0.6599999999999999, 0.755, 0.875, 0.98};
    const size_t counts[10] = {4, 2, 2, 2, 3, 2, 2, 2, 2, 3};
    ln_calibration_bin bins[LN_CALIBRATION_BINS];

    double ece = ln_calibration_curve(calibration_scores, calibration_labels, 24, bins);
    assert_true(fabs(ece - 0.21791666666666665) < 1e-12);
    for (int b = 0; b < 10; b++) {
        assert_int_equal(bins[b].count, counts[b]);
        assert_true(fabs(bins[b].positive_rate - prob_true[b]) < 1e-12);
        assert_true(fabs(bins[b].mean_score - prob_pred[b]) < 1e-12);
    }
    assert_true(fabs(ln_brier_score(calibration_scores, calibration_labels, 24) - 0.18686250000000001) < 1e-12);
}

static void calibration_curve_rejects_bad_scores(void **state)
{
    (void)state;
    double scores[2] = {0.5, 1.5};
    double labels[2] = {0, 1};
    ln_calibration_bin bins[LN_CALIBRATION_BINS];

    assert_true(isnan(ln_calibration_curve(scores, labels, 2, bins)));
    assert_int_equal(bins[0].count, 0);
    assert_true(isnan(ln_calibration_curve(scores, labels, 0, bins)));
}

static void confusion_counts_match_scikit_learn(void **state)
{
    (void)state;
    unsigned char flags[24];
    for (int i = 0; i < 24; i++)
        flags[i] = calibration_scores[i] >= 0.5;

    ln_confusion counts = ln_confusion_counts(flags, calibration_labels, 24);
    assert_int_equal(counts.true_negatives, 9);
    assert_int_equal(counts.false_positives, 3);
    assert_int_equal(counts.false_negatives, 3);
    assert_int_equal(counts.true_positives, 9);
    double recall = (double)counts.true_positives / (double)(counts.true_positives + counts.false_negatives);
    assert_true(fabs(recall - 0.75) < 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policy_search_matches_brute_force),
        cmocka_unit_test(policy_search_one_action_equals_threshold_search),
        cmocka_unit_test(policy_search_respects_review_capacity),
        cmocka_unit_test(policy_search_rejects_bad_input),
        cmocka_unit_test(bootstrap_sum_matches_flag_difference),
        cmocka_unit_test(calibration_curve_matches_scikit_learn),
        cmocka_unit_test(calibration_curve_rejects_bad_scores),
        cmocka_unit_test(confusion_counts_match_scikit_learn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
