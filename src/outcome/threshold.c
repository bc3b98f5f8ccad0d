/*
 * Exact payoff-maximising threshold search. Flagging the rows whose score
 * is at least t changes the payoff of "flag nothing" by the sum, over those
 * rows, of (flagged payoff - unflagged payoff). Walking the rows in
 * descending score order, one group of tied scores at a time, visits every
 * distinct threshold once, so the search is one sort plus one pass.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "outcome/outcome_internal.h"

/* Gains below this fraction of the summed absolute payoff changes count as ties (rounding noise). */
#define TIE_TOLERANCE 1e-12

static ln_status check_rows(const double *scores, const double *labels, const ln_payoffs *payoffs, size_t n,
                            ln_error *err)
{
    const double *arrays[4] = {payoffs->true_positive, payoffs->false_positive, payoffs->false_negative,
                               payoffs->true_negative};
    const char *names[4] = {"true-positive", "false-positive", "false-negative", "true-negative"};

    for (size_t i = 0; i < n; i++) {
        if (isnan(scores[i]) || scores[i] == INFINITY)
            return ln_error_set(err, LN_ERR_DATA, "score of row %zu is %s; scores must be numbers below +inf", i + 1,
                                isnan(scores[i]) ? "missing (NaN)" : "+inf");
        if (labels[i] != 0.0 && labels[i] != 1.0)
            return ln_error_set(err, LN_ERR_DATA, "label of row %zu is %.17g; expected 0 or 1", i + 1, labels[i]);
        for (int k = 0; k < 4; k++)
            if (arrays[k] != NULL && !isfinite(arrays[k][i]))
                return ln_error_set(err, LN_ERR_DATA,
                                    "%s payoff of row %zu is %.17g; payoffs must be finite, so give missing "
                                    "inputs a value in the payoff expression, e.g. with if(is_missing(x), 0, x)",
                                    names[k], i + 1, arrays[k][i]);
    }
    return LN_OK;
}

size_t outcome_flag_capacity(double rate, size_t n)
{
    double product = rate * (double)n;
    double nearest = nearbyint(product);

    if (fabs(product - nearest) <= 1e-12 * (nearest > 1.0 ? nearest : 1.0))
        product = nearest;
    product = floor(product);
    return product >= (double)n ? n : (size_t)product;
}

ln_status ln_threshold_search(const double *scores, const double *labels, const ln_payoffs *payoffs, size_t n,
                              double max_flag_rate, ln_threshold_choice *out, ln_error *err)
{
    if (!(max_flag_rate >= 0.0 && max_flag_rate <= 1.0))
        return ln_error_set(err, LN_ERR_CONFIG, "maximum flag rate is %.17g; expected a fraction from 0 to 1",
                            max_flag_rate);
    ln_status status = check_rows(scores, labels, payoffs, n, err);
    if (status != LN_OK)
        return status;

    size_t *order = ln_order_descending(scores, n);
    if (order == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory sorting %zu scores", n);

    size_t capacity = outcome_flag_capacity(max_flag_rate, n);
    outcome_sum gain = {0};
    double scale = 0.0; /* summed absolute changes so far, the size of the rounding noise */
    double best_gain = 0.0;
    size_t best_flagged = 0;
    double best_threshold = INFINITY;

    for (size_t start = 0; start < n;) {
        double score = scores[order[start]];
        size_t end = start;
        while (end < n && scores[order[end]] == score) {
            size_t row = order[end];
            int positive = labels[row] == 1.0;
            double change = outcome_row_payoff(payoffs, row, 1, positive) - outcome_row_payoff(payoffs, row, 0, positive);
            outcome_sum_add(&gain, change);
            scale += fabs(change);
            end++;
        }
        if (end > capacity)
            break;
        if (outcome_sum_value(&gain) > best_gain + TIE_TOLERANCE * scale) {
            best_gain = outcome_sum_value(&gain);
            best_flagged = end;
            best_threshold = score;
        }
        start = end;
    }
    free(order);

    /* Total the chosen decision row by row, as ln_policy_payoff() would. */
    outcome_sum total = {0};
    for (size_t i = 0; i < n; i++)
        outcome_sum_add(&total, outcome_row_payoff(payoffs, i, scores[i] >= best_threshold, labels[i] == 1.0));

    out->threshold = best_threshold;
    out->payoff = outcome_sum_value(&total);
    out->flagged = best_flagged;
    out->flag_rate = n > 0 ? (double)best_flagged / (double)n : 0.0;
    return LN_OK;
}
