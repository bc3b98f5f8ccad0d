/*
 * The report's outcome sections: the uncertainty of the gain, the
 * production comparison, a multi-action policy in words, payoff against
 * each action's share of rows, and the slice table.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"

#define MODEL_COLOR "#2563eb"
#define CHOSEN_COLOR "#16a34a"
#define CAPACITY_COLOR "#dc2626"

/* Appends "a 95% interval of X to Y" for a bootstrap interval, with a plain reading of it. */
static void append_interval(report_buf *buf, const ln_bootstrap_interval *interval, const char *against)
{
    char lower[REPORT_NUMBER_MAX], upper[REPORT_NUMBER_MAX];
    int decimals = report_payoff_decimals(fmax(fabs(interval->lower), fabs(interval->upper)));

    report_buf_printf(buf, "95%% interval of the gain over %s: <strong>%s</strong> to <strong>%s</strong>",
                      against, report_format_signed(lower, interval->lower, decimals),
                      report_format_signed(upper, interval->upper, decimals));
    if (interval->lower > 0)
        report_buf_puts(buf, " (the model is better on resampled test sets)");
    else if (interval->upper < 0)
        report_buf_puts(buf, " (the model is worse on resampled test sets)");
    else
        report_buf_puts(buf, " (the interval includes 0: the test split cannot tell the two apart)");
}

void report_section_uncertainty(report_buf *buf, const ln_report_input *input)
{
    char resamples[REPORT_NUMBER_MAX];

    if (input->gain_over_baseline.n_resamples == 0 && input->production_version <= 0)
        return;
    report_buf_puts(buf, "<section id=\"uncertainty\">\n<ul class=\"intervals\">\n");
    if (input->gain_over_baseline.n_resamples > 0) {
        report_buf_puts(buf, "<li>");
        append_interval(buf, &input->gain_over_baseline, "the rule in use");
        report_buf_puts(buf, ".</li>\n");
    }
    if (input->production_version > 0) {
        char payoff[REPORT_NUMBER_MAX], gain[REPORT_NUMBER_MAX];
        double difference = input->model.payoff - input->production.payoff;
        report_buf_printf(buf, "<li>The production model (version %d) earns %s on the same rows; the new model "
                               "earns %s more. ", input->production_version,
                          report_format_payoff(payoff, input->production.payoff),
                          report_format_signed(gain, difference, report_payoff_decimals(difference)));
        if (input->gain_over_production.n_resamples > 0)
            append_interval(buf, &input->gain_over_production, "production");
        report_buf_puts(buf, ".</li>\n");
    }
    report_format_count(resamples, input->gain_over_baseline.n_resamples);
    report_buf_printf(buf, "</ul>\n<p class=\"note\">Intervals are percentile bootstraps: %s resamples of the test "
                           "rows, drawn with replacement, each summing the per-row payoff differences.</p>\n"
                           "</section>\n", resamples);
}

/* Appends one action's rule in words: "score at least 0.41 (and below 0.73): cancel". */
static void append_action_words(report_buf *buf, const ln_report_input *input, size_t k)
{
    char threshold[REPORT_NUMBER_MAX], previous[REPORT_NUMBER_MAX], rate[REPORT_NUMBER_MAX];
    double t = input->action_thresholds[k];

    report_buf_puts(buf, "<li><strong>");
    report_buf_escaped(buf, input->action_names[k]);
    report_buf_puts(buf, "</strong>: ");
    if (!isfinite(t) || (k > 0 && t == input->action_thresholds[k - 1])) {
        report_buf_puts(buf, "no row (no threshold for this action pays on the valid split)");
    } else {
        report_format_significant(threshold, t, 4);
        report_buf_printf(buf, "rows scored at least %s", threshold);
        if (k > 0 && isfinite(input->action_thresholds[k - 1]))
            report_buf_printf(buf, " and below %s",
                              report_format_significant(previous, input->action_thresholds[k - 1], 4));
        report_format_percent(rate, input->action_test_rates[k], 2);
        report_buf_printf(buf, " (%s of test rows)", rate);
    }
    if (input->action_max_rates[k] < 1) {
        report_format_percent(rate, input->action_max_rates[k], 2);
        report_buf_printf(buf, "; capacity at most %s of rows", rate);
    }
    report_buf_puts(buf, "</li>\n");
}

void report_section_actions(report_buf *buf, const ln_report_input *input)
{
    report_buf_puts(buf, "<section id=\"policy\">\n<h2>Decision policy</h2>\n<p>Rows are ranked by the model's "
                         "score, and the top scores get the first action. The thresholds were chosen together on "
                         "the valid split, the highest total payoff within every capacity limit:</p>\n<ol>\n");
    for (size_t k = 0; k < input->n_actions; k++)
        append_action_words(buf, input, k);
    report_buf_puts(buf, "<li><strong>default</strong>: every other row</li>\n</ol>\n");
    if (input->max_flag_rate < 1) {
        char rate[REPORT_NUMBER_MAX];
        report_buf_printf(buf, "<p>All actions together take at most %s of rows.</p>\n",
                          report_format_percent(rate, input->max_flag_rate, 2));
    }

    report_buf_puts(buf, "<p>The rule in use gives the first action (");
    report_buf_escaped(buf, input->action_names[0]);
    report_buf_puts(buf, ") to the rows where <code>");
    report_buf_escaped(buf, input->baseline_rule);
    report_buf_puts(buf, "</code> holds, and the default elsewhere.</p>\n<table class=\"payoffs\">\n<thead><tr>"
                         "<th>Action</th><th>Payoff if positive</th><th>Payoff if negative</th></tr></thead>\n"
                         "<tbody>\n");
    for (size_t k = 0; k <= input->n_actions; k++) {
        report_buf_puts(buf, "<tr><td>");
        report_buf_escaped(buf, k < input->n_actions ? input->action_names[k] : "default");
        report_buf_puts(buf, "</td><td><code>");
        report_buf_escaped(buf, input->action_payoff_text[k][0]);
        report_buf_puts(buf, "</code></td><td><code>");
        report_buf_escaped(buf, input->action_payoff_text[k][1]);
        report_buf_puts(buf, "</code></td></tr>\n");
    }
    report_buf_puts(buf, "</tbody>\n</table>\n</section>\n");
}

/* Payoff of valid row i under option k (the default is option n_actions). */
static double option_payoff(const ln_report_input *input, size_t k, size_t i)
{
    const double *values = input->valid_labels[i] == 1 ? input->valid_options[k].if_positive
                                                       : input->valid_options[k].if_negative;
    return values != NULL ? values[i] : 0;
}

typedef struct ranked_row {
    double score;
    size_t row;
} ranked_row;

static int compare_ranked(const void *a, const void *b)
{
    double x = ((const ranked_row *)a)->score, y = ((const ranked_row *)b)->score;
    return (x < y) - (x > y);
}

/*
 * Draws payoff per 1,000 valid rows against the share of rows given action
 * k, with every other threshold as chosen: lowering action k's threshold
 * moves rows from the next option to action k.
 */
static void draw_action_chart(report_buf *buf, const ln_report_input *input, const ranked_row *rows, size_t n,
                              size_t k, const unsigned char *decision)
{
    double base = 0;
    for (size_t i = 0; i < n; i++)
        base += option_payoff(input, decision[rows[i].row], rows[i].row);

    /* Rows that can move: those the chosen policy gives action k or the option after it, above the next cut. */
    double upper = k > 0 ? input->action_thresholds[k - 1] : INFINITY;
    double lower_cut = k + 1 < input->n_actions ? input->action_thresholds[k + 1] : -INFINITY;
    double *x = malloc((REPORT_MAX_CURVE_POINTS + 2) * sizeof *x);
    double *y = malloc((REPORT_MAX_CURVE_POINTS + 2) * sizeof *y);
    if (x == NULL || y == NULL) {
        free(x);
        free(y);
        return;
    }

    /* Start from action k getting no row: every row of action k goes to the next option. */
    double payoff = base;
    for (size_t i = 0; i < n; i++) {
        if (decision[rows[i].row] == k)
            payoff += option_payoff(input, k + 1, rows[i].row) - option_payoff(input, k, rows[i].row);
    }
    size_t points = 0, given = 0;
    double chosen_x = NAN, chosen_y = NAN, x_max = 0;
    x[points] = 0;
    y[points++] = payoff * 1000.0 / (double)n;
    for (size_t i = 0; i < n; i++) {
        double score = rows[i].score;
        if (!(score < upper) || !(score >= lower_cut))
            continue;
        size_t row = rows[i].row;
        payoff += option_payoff(input, k, row) - option_payoff(input, k + 1, row);
        given++;
        int last_of_group = i + 1 == n || rows[i + 1].score != score;
        if (!last_of_group)
            continue;
        double share = (double)given / (double)n;
        if (score == input->action_thresholds[k]) {
            chosen_x = share;
            chosen_y = payoff * 1000.0 / (double)n;
        }
        if (points < REPORT_MAX_CURVE_POINTS && share - x[points - 1] >= 0.002) {
            x[points] = share;
            y[points++] = payoff * 1000.0 / (double)n;
        }
        x_max = share;
    }
    if (!isfinite(chosen_x)) {
        chosen_x = 0;
        chosen_y = y[0];
    }

    double lo = chosen_y, hi = chosen_y;
    for (size_t i = 0; i < points; i++) {
        lo = fmin(lo, y[i]);
        hi = fmax(hi, y[i]);
    }
    double pad = (hi - lo) * 0.08 + (hi == lo ? fabs(hi) * 0.1 + 1 : 0);
    report_chart chart;
    report_chart_init(&chart, 0, fmax(x_max, 0.01), lo - pad, hi + pad);
    chart.x_percent = 1;
    chart.left = 72;

    report_buf_puts(buf, "<figure>\n<figcaption><h3>Payoff against the share given ");
    report_buf_escaped(buf, input->action_names[k]);
    report_buf_puts(buf, " (valid split)</h3><p>Payoff per 1,000 valid rows as this action's threshold moves, "
                         "the other thresholds staying as chosen. The dot is the chosen threshold.</p>"
                         "</figcaption>\n");
    report_chart_begin(buf, &chart, "Payoff against the share given the action", "share of rows given the action",
                       "payoff per 1,000 rows");
    report_series series[2] = {
        {x, y, points, MODEL_COLOR, "Model", 0, 0},
        {&chosen_x, &chosen_y, 1, CHOSEN_COLOR, "Chosen threshold", 0, 1},
    };
    if (input->action_max_rates[k] < 1 && input->action_max_rates[k] <= fmax(x_max, 0.01))
        report_chart_vline(buf, &chart, input->action_max_rates[k], CAPACITY_COLOR, "capacity limit");
    report_chart_series(buf, &chart, &series[0]);
    report_chart_series(buf, &chart, &series[1]);
    report_chart_legend(buf, &chart, series, 2);
    report_chart_end(buf);
    report_buf_puts(buf, "</figure>\n");
    free(x);
    free(y);
}

ln_status report_section_action_charts(report_buf *buf, const ln_report_input *input, ln_error *err)
{
    size_t n = input->rows_valid;

    if (!input->multi_action || n == 0 || input->valid_scores == NULL || input->valid_labels == NULL)
        return LN_OK;

    ranked_row *rows = malloc(n * sizeof *rows);
    unsigned char *decision = malloc(n);
    if (rows == NULL || decision == NULL) {
        free(rows);
        free(decision);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory for the action charts");
    }
    for (size_t i = 0; i < n; i++) {
        rows[i].score = isnan(input->valid_scores[i]) ? -INFINITY : input->valid_scores[i];
        rows[i].row = i;
        size_t d = 0;
        while (d < input->n_actions && !(input->valid_scores[i] >= input->action_thresholds[d]))
            d++;
        decision[i] = (unsigned char)d;
    }
    qsort(rows, n, sizeof *rows, compare_ranked);

    report_buf_puts(buf, "<section id=\"actions\">\n<h2>Payoff of each action</h2>\n<div class=\"charts\">\n");
    for (size_t k = 0; k < input->n_actions; k++)
        draw_action_chart(buf, input, rows, n, k, decision);
    report_buf_puts(buf, "</div>\n</section>\n");
    free(rows);
    free(decision);
    return LN_OK;
}

void report_section_slices(report_buf *buf, const ln_report_input *input)
{
    int production = input->production_version > 0;
    size_t regressions = 0;

    if (input->n_slices == 0 || input->slices == NULL)
        return;
    for (size_t i = 0; i < input->n_slices; i++)
        regressions += input->slices[i].regression != 0;

    report_buf_puts(buf, "<section id=\"slices\">\n<h2>Slices (test split)</h2>\n<p>");
    if (regressions > 0)
        report_buf_printf(buf, "<strong>The model earns less than the rule%s on %zu slice%s</strong>, marked below. ",
                          production ? " or production" : "", regressions, regressions == 1 ? "" : "s");
    else
        report_buf_printf(buf, "The model earns at least as much as the rule%s on every slice. ",
                          production ? " and production" : "");
    char tolerance[REPORT_NUMBER_MAX];
    report_buf_printf(buf, "A slice is marked when its payoff per 1,000 rows is lower by more than %s.</p>\n",
                      report_format_payoff(tolerance, input->slice_tolerance));

    report_buf_printf(buf, "<table class=\"slices\">\n<thead><tr><th>Column</th><th>Value</th>"
                           "<th class=\"num\">Rows</th><th class=\"num\">Positives</th>"
                           "<th class=\"num\">Model AUC</th><th class=\"num\">Rule AUC</th>"
                           "<th class=\"num\">Model flags</th><th class=\"num\">Rule flags</th>"
                           "<th class=\"num\">Model per 1,000</th><th class=\"num\">Rule per 1,000</th>%s"
                           "<th></th></tr></thead>\n<tbody>\n",
                      production ? "<th class=\"num\">Production per 1,000</th>" : "");
    for (size_t i = 0; i < input->n_slices; i++) {
        const ln_slice_summary *slice = &input->slices[i];
        char cells[8][REPORT_NUMBER_MAX];
        report_buf_printf(buf, "<tr%s><td>", slice->regression ? " class=\"regression\"" : "");
        report_buf_escaped(buf, slice->column);
        report_buf_puts(buf, "</td><td>");
        report_buf_escaped(buf, slice->value);
        report_buf_printf(buf, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                               "<td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                               "<td class=\"num\">%s</td><td class=\"num\">%s</td>",
                          report_format_count(cells[0], slice->rows), report_format_count(cells[1], slice->positives),
                          report_format_fixed(cells[2], slice->model_auc, 3),
                          report_format_fixed(cells[3], slice->baseline_auc, 3),
                          report_format_percent(cells[4], slice->model_flag_rate, 1),
                          report_format_percent(cells[5], slice->baseline_flag_rate, 1),
                          report_format_payoff(cells[6], slice->model_per_1000),
                          report_format_payoff(cells[7], slice->baseline_per_1000));
        if (production)
            report_buf_printf(buf, "<td class=\"num\">%s</td>",
                              report_format_payoff(cells[0], slice->production_per_1000));
        report_buf_printf(buf, "<td>%s</td></tr>\n", slice->regression ? "worse" : "");
    }
    report_buf_puts(buf, "</tbody>\n</table>\n<p class=\"note\">Values with too few test rows are pooled into "
                         "\"other\"; a numeric column with many values is cut into quantile buckets.</p>\n"
                         "</section>\n");
}
