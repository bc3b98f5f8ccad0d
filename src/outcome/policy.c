/*
 * Exact search for the thresholds of a multi-action policy.
 *
 * Sort the rows by descending score and cut the G groups of tied scores at
 * c[1] <= c[2] <= ... <= c[K]: action k gets groups [c[k-1], c[k]) with
 * c[0] = 0, and the default gets the rest. Writing P_k(c) for the payoff of
 * giving option k to the first c groups (option K being the default), the
 * total is P_K(G) + sum over k of f_k(c[k]), where f_k = P_{k-1} - P_k in
 * 0-based action terms. So the best total for action k ending at c is
 *
 *     best_k(c) = f_k(c) + max { best_{k-1}(c') : c' <= c, rows(c) - rows(c') <= capacity_k },
 *
 * and the window of c' slides right as c grows, so a monotone deque gives
 * each maximum in amortised O(1). The overall capacity only limits c[K].
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "outcome/outcome_internal.h"

/* Totals within this fraction of the summed absolute payoff changes count as ties, as in threshold.c. */
#define TIE_TOLERANCE 1e-12

static double option_payoff(const ln_action_payoffs *option, size_t row, int positive)
{
    const double *values = positive ? option->if_positive : option->if_negative;
    return values != NULL ? values[row] : 0.0;
}

static ln_status check_rate(double rate, const char *what, size_t index, ln_error *err)
{
    if (rate >= 0.0 && rate <= 1.0)
        return LN_OK;
    return ln_error_set(err, LN_ERR_CONFIG, "%s %zu has a maximum rate of %.17g; expected a fraction from 0 to 1",
                        what, index + 1, rate);
}

static ln_status check_inputs(const double *scores, const double *labels, const ln_action_payoffs *actions,
                              size_t n_actions, const ln_action_payoffs *fallback, size_t n, double max_flag_rate,
                              ln_error *err)
{
    if (n_actions == 0 || n_actions > LN_MAX_ACTIONS)
        return ln_error_set(err, LN_ERR_CONFIG, "a policy has %zu actions; expected 1 to %d", n_actions,
                            LN_MAX_ACTIONS);
    ln_status status = check_rate(max_flag_rate, "policy", 0, err);
    for (size_t k = 0; k < n_actions && status == LN_OK; k++)
        status = check_rate(actions[k].max_rate, "action", k, err);
    if (status != LN_OK)
        return status;

    for (size_t i = 0; i < n; i++) {
        if (isnan(scores[i]) || scores[i] == INFINITY)
            return ln_error_set(err, LN_ERR_DATA, "score of row %zu is %s; scores must be numbers below +inf", i + 1,
                                isnan(scores[i]) ? "missing (NaN)" : "+inf");
        if (labels[i] != 0.0 && labels[i] != 1.0)
            return ln_error_set(err, LN_ERR_DATA, "label of row %zu is %.17g; expected 0 or 1", i + 1, labels[i]);
        for (size_t k = 0; k <= n_actions; k++) {
            const ln_action_payoffs *option = k < n_actions ? &actions[k] : fallback;
            double value = option_payoff(option, i, labels[i] == 1.0);
            if (!isfinite(value))
                return ln_error_set(err, LN_ERR_DATA,
                                    "payoff of row %zu under %s %zu is %.17g; payoffs must be finite, so give "
                                    "missing inputs a value, e.g. with if(is_missing(x), 0, x)",
                                    i + 1, k < n_actions ? "action" : "the default", k + 1, value);
        }
    }
    return LN_OK;
}

/* Scratch of one search, freed by search_free. */
typedef struct search {
    size_t groups;      /* G */
    size_t *group_end;  /* G + 1 values: rows in the first c groups */
    double *group_score;
    double *gain;       /* K * (G + 1): f_k(c), action k's payoff over the default of the next option */
    double *scale;      /* G + 1: summed absolute changes, the size of the rounding noise */
    double *best;       /* 2 * (G + 1): best_{k-1} and best_k */
    size_t *from;       /* K * (G + 1): the c' behind best_k(c) */
    size_t *deque;      /* G + 1 */
} search;

static void search_free(search *s)
{
    free(s->group_end);
    free(s->group_score);
    free(s->gain);
    free(s->scale);
    free(s->best);
    free(s->from);
    free(s->deque);
}

static int search_alloc(search *s, size_t n, size_t n_actions)
{
    size_t slots = n + 1;

    if (slots > SIZE_MAX / (sizeof(double) * LN_MAX_ACTIONS))
        return 0;
    s->group_end = malloc(slots * sizeof *s->group_end);
    s->group_score = malloc(slots * sizeof *s->group_score);
    s->gain = malloc(n_actions * slots * sizeof *s->gain);
    s->scale = malloc(slots * sizeof *s->scale);
    s->best = malloc(2 * slots * sizeof *s->best);
    s->from = malloc(n_actions * slots * sizeof *s->from);
    s->deque = malloc(slots * sizeof *s->deque);
    return s->group_end && s->group_score && s->gain && s->scale && s->best && s->from && s->deque;
}

/* Walks the sorted rows one group of tied scores at a time, filling the prefix gains of each action. */
static void fill_prefixes(search *s, const double *scores, const double *labels, const size_t *order,
                          const ln_action_payoffs *actions, size_t n_actions, const ln_action_payoffs *fallback,
                          size_t n)
{
    outcome_sum sums[LN_MAX_ACTIONS] = {{0}};
    double scale = 0.0;
    size_t slots = n + 1;
    size_t g = 0;

    s->group_end[0] = 0;
    s->scale[0] = 0.0;
    for (size_t k = 0; k < n_actions; k++)
        s->gain[k * slots] = 0.0;

    for (size_t start = 0; start < n;) {
        double score = scores[order[start]];
        size_t end = start;
        while (end < n && scores[order[end]] == score) {
            size_t row = order[end];
            int positive = labels[row] == 1.0;
            for (size_t k = 0; k < n_actions; k++) {
                const ln_action_payoffs *next = k + 1 < n_actions ? &actions[k + 1] : fallback;
                double change = option_payoff(&actions[k], row, positive) - option_payoff(next, row, positive);
                outcome_sum_add(&sums[k], change);
                scale += fabs(change);
            }
            end++;
        }
        s->group_score[g] = score;
        g++;
        s->group_end[g] = end;
        s->scale[g] = scale;
        for (size_t k = 0; k < n_actions; k++)
            s->gain[k * slots + g] = outcome_sum_value(&sums[k]);
        start = end;
    }
    s->groups = g;
}

/*
 * Fills best_k from best_{k-1} for every cut c: the best earlier cut within
 * the action's capacity, ties going to the earliest cut (fewer rows for the
 * actions above).
 */
static void advance_action(search *s, size_t k, size_t capacity, const double *previous, double *current,
                           size_t slots)
{
    size_t head = 0, tail = 0, low = 0;
    const double *gain = s->gain + k * slots;
    size_t *from = s->from + k * slots;

    for (size_t c = 0; c <= s->groups; c++) {
        while (tail > head && previous[s->deque[tail - 1]] < previous[c])
            tail--;
        s->deque[tail++] = c;
        while (s->group_end[c] - s->group_end[low] > capacity)
            low++;
        while (s->deque[head] < low)
            head++;
        from[c] = s->deque[head];
        current[c] = gain[c] + previous[s->deque[head]];
    }
}

ln_status ln_policy_search(const double *scores, const double *labels, const ln_action_payoffs *actions,
                           size_t n_actions, const ln_action_payoffs *fallback, size_t n, double max_flag_rate,
                           ln_policy_choice *out, ln_error *err)
{
    ln_status status = check_inputs(scores, labels, actions, n_actions, fallback, n, max_flag_rate, err);
    if (status != LN_OK)
        return status;

    search s = {0};
    size_t *order = ln_order_descending(scores, n);
    if (order == NULL || !search_alloc(&s, n, n_actions)) {
        free(order);
        search_free(&s);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory searching a policy over %zu rows", n);
    }
    fill_prefixes(&s, scores, labels, order, actions, n_actions, fallback, n);
    free(order);

    size_t slots = n + 1;
    double *previous = s.best, *current = s.best + slots;
    for (size_t c = 0; c <= s.groups; c++)
        previous[c] = c == 0 ? 0.0 : -INFINITY;
    for (size_t k = 0; k < n_actions; k++) {
        advance_action(&s, k, outcome_flag_capacity(actions[k].max_rate, n), previous, current, slots);
        double *swap = previous;
        previous = current;
        current = swap;
    }

    /* The last cut: within the overall capacity, the fewest rows among equal totals. */
    size_t total_capacity = outcome_flag_capacity(max_flag_rate, n);
    size_t cut = 0;
    for (size_t c = 1; c <= s.groups && s.group_end[c] <= total_capacity; c++) {
        if (previous[c] > previous[cut] + TIE_TOLERANCE * s.scale[c])
            cut = c;
    }

    /* Walk the cuts back from the last action to the first. */
    size_t cuts[LN_MAX_ACTIONS];
    for (size_t k = n_actions; k-- > 0;) {
        cuts[k] = cut;
        cut = s.from[k * slots + cut];
    }

    out->n_actions = n_actions;
    out->flagged = s.group_end[cuts[n_actions - 1]];
    for (size_t k = 0; k < n_actions; k++) {
        out->thresholds[k] = cuts[k] > 0 ? s.group_score[cuts[k] - 1] : INFINITY;
        out->assigned[k] = s.group_end[cuts[k]] - (k > 0 ? s.group_end[cuts[k - 1]] : 0);
    }
    for (size_t k = n_actions; k < LN_MAX_ACTIONS; k++) {
        out->thresholds[k] = NAN;
        out->assigned[k] = 0;
    }
    search_free(&s);

    /* Total the chosen decisions row by row, as ln_policy_row_payoffs() would. */
    outcome_sum total = {0};
    for (size_t i = 0; i < n; i++) {
        size_t decision = 0;
        while (decision < n_actions && !(scores[i] >= out->thresholds[decision]))
            decision++;
        const ln_action_payoffs *option = decision < n_actions ? &actions[decision] : fallback;
        outcome_sum_add(&total, option_payoff(option, i, labels[i] == 1.0));
    }
    out->payoff = outcome_sum_value(&total);
    return LN_OK;
}

void ln_policy_assign(const double *scores, size_t n, const double *thresholds, size_t n_actions,
                      unsigned char *decisions)
{
    for (size_t i = 0; i < n; i++) {
        size_t decision = 0;
        while (decision < n_actions && !(scores[i] >= thresholds[decision]))
            decision++;
        decisions[i] = (unsigned char)decision;
    }
}

double ln_policy_row_payoffs(const unsigned char *decisions, const double *labels, const ln_action_payoffs *options,
                             size_t n_actions, size_t n, double *row_payoffs)
{
    outcome_sum total = {0};

    for (size_t i = 0; i < n; i++) {
        if ((labels[i] != 0.0 && labels[i] != 1.0) || decisions[i] > n_actions)
            return NAN;
        double value = option_payoff(&options[decisions[i]], i, labels[i] == 1.0);
        if (row_payoffs != NULL)
            row_payoffs[i] = value;
        outcome_sum_add(&total, value);
    }
    return outcome_sum_value(&total);
}
