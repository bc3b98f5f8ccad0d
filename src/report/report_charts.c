/*
 * The report's charts: ROC, precision-recall, payoff against flag rate,
 * calibration, score distribution and feature importance, each an inline SVG
 * in a captioned figure. A chart without the data it needs still draws its
 * axes, with a sentence saying why it is empty.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"

#define MODEL_COLOR "#2563eb"
#define RULE_COLOR "#ea580c"
#define CHOSEN_COLOR "#16a34a"
#define REFERENCE_COLOR "#9ca3af"
#define CAPACITY_COLOR "#dc2626"
#define NEGATIVE_COLOR "#60a5fa"
#define POSITIVE_COLOR "#f97316"

#define CALIBRATION_BINS 10
#define HISTOGRAM_BINS 20

/* Rates of one policy's flags on the test split, for the ROC and PR markers. */
typedef struct flag_point {
    double fpr, tpr, precision;
    int valid; /* 0 when the split lacks a class the rates divide by */
} flag_point;

static void figure_begin(report_buf *buf, const char *title, const char *caption)
{
    report_buf_printf(buf, "<figure>\n<figcaption><h3>%s</h3><p>%s</p></figcaption>\n", title, caption);
}

static void figure_end(report_buf *buf)
{
    report_buf_puts(buf, "</figure>\n");
}

static void chart_missing(report_buf *buf, const report_chart *chart, const char *message)
{
    double x = (chart->left + chart->width - chart->right) / 2;
    double y = (chart->top + chart->height - chart->bottom) / 2;
    report_buf_puts(buf, "<g class=\"missing\">");
    report_chart_label(buf, x, y, "middle", message);
    report_buf_puts(buf, "</g>");
}

/* Rates of flagging rows where flag(i) holds; rows with a label other than 0/1 are skipped. */
static flag_point rates_of_flags(const double *labels, size_t rows, const unsigned char *flags,
                                 const double *scores, double threshold)
{
    double tp = 0, fp = 0, positives = 0, negatives = 0;
    for (size_t i = 0; i < rows; i++) {
        if (labels[i] != 0 && labels[i] != 1) {
            continue;
        }
        int flagged = flags != NULL ? flags[i] != 0 : scores[i] >= threshold;
        positives += labels[i];
        negatives += 1 - labels[i];
        tp += flagged && labels[i] == 1;
        fp += flagged && labels[i] == 0;
    }

    flag_point point = {NAN, NAN, NAN, positives > 0 && negatives > 0};
    if (point.valid) {
        point.fpr = fp / negatives;
        point.tpr = tp / positives;
        point.precision = tp + fp > 0 ? tp / (tp + fp) : NAN;
    }
    return point;
}

static void draw_roc(report_buf *buf, const ln_report_input *input, const report_curve *roc, flag_point rule,
                     flag_point model)
{
    static const double diagonal[2] = {0, 1};
    report_chart chart;
    report_chart_init(&chart, 0, 1, 0, 1);
    chart.legend_at_bottom = 1;

    figure_begin(buf, "ROC curve (test split)",
                 "How many positives the model catches (true positive rate) for each share of negatives it "
                 "flags by mistake. The dots mark the model at its threshold and the rule in use.");
    report_chart_begin(buf, &chart, "ROC curve", "false positive rate", "true positive rate");

    report_series series[4] = {
        {roc->x, roc->y, roc->n, MODEL_COLOR, "Model", 0, 0},
        {diagonal, diagonal, 2, REFERENCE_COLOR, "Random ranking", 1, 0},
        {&model.fpr, &model.tpr, 1, CHOSEN_COLOR, "Model at its threshold", 0, 1},
        {&rule.fpr, &rule.tpr, 1, RULE_COLOR, "Rule in use", 0, 1},
    };
    if (roc->n == 0) {
        chart_missing(buf, &chart, input->rows_test == 0 ? "No test rows" : "Needs both classes in the test split");
    }
    for (size_t i = 0; i < 4; i++) {
        report_chart_series(buf, &chart, &series[i]);
    }
    report_chart_legend(buf, &chart, series, 4);
    report_chart_end(buf);
    figure_end(buf);
}

static void draw_pr(report_buf *buf, const ln_report_input *input, const report_curve *pr, flag_point rule,
                    flag_point model)
{
    double base_rate[2] = {input->positive_rate_test, input->positive_rate_test};
    static const double span[2] = {0, 1};
    report_chart chart;
    report_chart_init(&chart, 0, 1, 0, 1);

    figure_begin(buf, "Precision-recall curve (test split)",
                 "Of the rows flagged, the share that are positive (precision), against the share of all "
                 "positives caught (recall). The dashed line is the positive rate: random flagging.");
    report_chart_begin(buf, &chart, "Precision-recall curve", "recall", "precision");

    report_series series[4] = {
        {pr->x, pr->y, pr->n, MODEL_COLOR, "Model", 0, 0},
        {span, base_rate, 2, REFERENCE_COLOR, "Positive rate", 1, 0},
        {&model.tpr, &model.precision, 1, CHOSEN_COLOR, "Model at its threshold", 0, 1},
        {&rule.tpr, &rule.precision, 1, RULE_COLOR, "Rule in use", 0, 1},
    };
    if (pr->n == 0) {
        chart_missing(buf, &chart,
                      input->rows_test == 0 ? "No test rows" : "Needs positive rows in the test split");
    }
    for (size_t i = 0; i < 4; i++) {
        report_chart_series(buf, &chart, &series[i]);
    }
    report_chart_legend(buf, &chart, series, 4);
    report_chart_end(buf);
    figure_end(buf);
}

static void draw_calibration(report_buf *buf, const report_scored *rows, size_t n)
{
    double score_sum[CALIBRATION_BINS] = {0}, positives[CALIBRATION_BINS] = {0}, count[CALIBRATION_BINS] = {0};
    for (size_t i = 0; i < n; i++) {
        double score = fmin(fmax(rows[i].score, 0), 1);
        int bin = (int)(score * CALIBRATION_BINS);
        bin = bin >= CALIBRATION_BINS ? CALIBRATION_BINS - 1 : bin;
        score_sum[bin] += rows[i].score;
        positives[bin] += rows[i].label;
        count[bin] += 1;
    }

    double mean_score[CALIBRATION_BINS], observed[CALIBRATION_BINS];
    size_t used = 0;
    for (int bin = 0; bin < CALIBRATION_BINS; bin++) {
        if (count[bin] > 0) {
            mean_score[used] = score_sum[bin] / count[bin];
            observed[used] = positives[bin] / count[bin];
            used++;
        }
    }

    static const double diagonal[2] = {0, 1};
    report_chart chart;
    report_chart_init(&chart, 0, 1, 0, 1);
    figure_begin(buf, "Calibration (test split)",
                 "Rows grouped into 10 bins of score. A well-calibrated model's dots lie on the diagonal: "
                 "of rows scored 0.3, about 30% are positive.");
    report_chart_begin(buf, &chart, "Calibration curve", "mean score in bin", "share positive");

    report_series series[3] = {
        {diagonal, diagonal, 2, REFERENCE_COLOR, "Perfect calibration", 1, 0},
        {mean_score, observed, used, MODEL_COLOR, "Model", 0, 0},
        {mean_score, observed, used, MODEL_COLOR, "Model", 0, 1},
    };
    if (used == 0) {
        chart_missing(buf, &chart, "No test rows with a score and a label");
    }
    for (size_t i = 0; i < 3; i++) {
        report_chart_series(buf, &chart, &series[i]);
    }
    report_chart_legend(buf, &chart, series, 2);
    report_chart_end(buf);
    figure_end(buf);
}

static void draw_histogram_bars(report_buf *buf, const report_chart *chart, const double counts[2][HISTOGRAM_BINS])
{
    static const char *const colors[2] = {NEGATIVE_COLOR, POSITIVE_COLOR};
    const double bin_width = 1.0 / HISTOGRAM_BINS;

    for (int bin = 0; bin < HISTOGRAM_BINS; bin++) {
        for (int label = 0; label < 2; label++) {
            if (counts[label][bin] == 0) {
                continue;
            }
            double x0 = bin * bin_width + bin_width * (0.08 + 0.42 * label);
            report_chart_rect(buf, chart, x0, 0, x0 + bin_width * 0.42, counts[label][bin], colors[label]);
        }
    }
}

static void draw_distribution(report_buf *buf, const report_scored *rows, size_t n)
{
    double counts[2][HISTOGRAM_BINS] = {{0}};
    double max_count = 1;
    for (size_t i = 0; i < n; i++) {
        double score = fmin(fmax(rows[i].score, 0), 1);
        int bin = (int)(score * HISTOGRAM_BINS);
        bin = bin >= HISTOGRAM_BINS ? HISTOGRAM_BINS - 1 : bin;
        int label = rows[i].label == 1;
        counts[label][bin] += 1;
        max_count = fmax(max_count, counts[label][bin]);
    }

    report_chart chart;
    report_chart_init(&chart, 0, 1, 0, max_count);
    chart.y_log = 1;
    figure_begin(buf, "Score distribution by class (test split)",
                 "Rows per score bin for negative and positive rows, on a logarithmic count scale. The less "
                 "the two overlap, the better the model separates them.");
    report_chart_begin(buf, &chart, "Score distribution", "model score", "rows (log scale)");
    if (n == 0) {
        chart_missing(buf, &chart, "No test rows with a score and a label");
    }
    draw_histogram_bars(buf, &chart, (const double(*)[HISTOGRAM_BINS])counts);

    report_series legend[2] = {
        {NULL, NULL, 0, NEGATIVE_COLOR, "Negative rows", 0, 1},
        {NULL, NULL, 0, POSITIVE_COLOR, "Positive rows", 0, 1},
    };
    report_chart_legend(buf, &chart, legend, 2);
    report_chart_end(buf);
    figure_end(buf);
}

static int compare_importance_descending(const void *a, const void *b, void *context)
{
    const double *importance = context;
    double value_a = importance[*(const size_t *)a];
    double value_b = importance[*(const size_t *)b];
    return (value_a < value_b) - (value_a > value_b);
}

/* Fills top with the indices of the most important features, skipping non-finite values. Returns their count, or -1 when out of memory. */
static long top_features(const ln_report_input *input, size_t top[REPORT_TOP_FEATURES])
{
    if (input->n_features == 0 || input->feature_importance == NULL) {
        return 0;
    }
    size_t *order = malloc(input->n_features * sizeof *order);
    if (order == NULL) {
        return -1;
    }

    size_t finite = 0;
    for (size_t i = 0; i < input->n_features; i++) {
        if (isfinite(input->feature_importance[i])) {
            order[finite++] = i;
        }
    }
    qsort_r(order, finite, sizeof *order, compare_importance_descending, (void *)input->feature_importance);

    size_t shown = finite < REPORT_TOP_FEATURES ? finite : REPORT_TOP_FEATURES;
    memcpy(top, order, shown * sizeof *top);
    free(order);
    return (long)shown;
}

static void draw_importance_bars(report_buf *buf, const report_chart *chart, const ln_report_input *input,
                                 const size_t *top, size_t shown)
{
    for (size_t i = 0; i < shown; i++) {
        double value = input->feature_importance[top[i]];
        double row_top = (double)(shown - i);
        report_chart_rect(buf, chart, fmin(0, value), row_top - 0.15, fmax(0, value), row_top - 0.85, MODEL_COLOR);

        const char *name = input->feature_names != NULL ? input->feature_names[top[i]] : NULL;
        report_buf_puts(buf, "<text x=\"");
        report_buf_coord(buf, chart->left - 8);
        report_buf_puts(buf, "\" y=\"");
        report_buf_coord(buf, report_chart_py(chart, row_top - 0.5) + 4);
        report_buf_puts(buf, "\" text-anchor=\"end\">");
        report_buf_escaped_prefix(buf, name, REPORT_MAX_LABEL_BYTES);
        report_buf_puts(buf, "</text>");
    }
}

static ln_status draw_importance(report_buf *buf, const ln_report_input *input, ln_error *err)
{
    size_t top[REPORT_TOP_FEATURES];
    long found = top_features(input, top);
    if (found < 0) {
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory sorting %zu feature importances for the report",
                            input->n_features);
    }
    size_t shown = (size_t)found;

    double lo = 0, hi = 0;
    for (size_t i = 0; i < shown; i++) {
        lo = fmin(lo, input->feature_importance[top[i]]);
        hi = fmax(hi, input->feature_importance[top[i]]);
    }
    report_chart chart;
    report_chart_init(&chart, lo, hi > lo ? hi : lo + 1, 0, shown > 0 ? (double)shown : 1);
    chart.left = 220;
    chart.height = chart.top + chart.bottom + 22.0 * (double)(shown > 0 ? shown : 4);
    chart.y_categorical = 1;

    figure_begin(buf, "Feature importance",
                 "The features the model relies on most (top 20), as the learner measures importance.");
    report_chart_begin(buf, &chart, "Feature importance", "importance", NULL);
    if (shown == 0) {
        chart_missing(buf, &chart, "No feature importance available");
    }
    draw_importance_bars(buf, &chart, input, top, shown);
    report_chart_end(buf);
    figure_end(buf);
    return LN_OK;
}

/* A NULL payoff array is worth 0 on every row. */
static double payoff_at(const double *payoff, size_t row)
{
    return payoff != NULL ? payoff[row] : 0;
}

/*
 * Payoff gained by flagging each valid row: its flagged payoff minus its
 * not-flagged payoff. *base_payoff is the total of flagging nothing. Rows
 * whose label is not 0 or 1 count toward neither, as the curve skips them.
 */
static double *valid_gains(const ln_report_input *input, double *base_payoff)
{
    const ln_payoffs *payoffs = &input->valid_payoffs;
    double *gains = malloc(input->rows_valid * sizeof *gains);
    if (gains == NULL) {
        return NULL;
    }

    *base_payoff = 0;
    for (size_t i = 0; i < input->rows_valid; i++) {
        double label = input->valid_labels[i];
        if (label != 0 && label != 1) {
            gains[i] = 0;
            continue;
        }
        double flagged = label == 1 ? payoff_at(payoffs->true_positive, i) : payoff_at(payoffs->false_positive, i);
        double not_flagged =
            label == 1 ? payoff_at(payoffs->false_negative, i) : payoff_at(payoffs->true_negative, i);
        gains[i] = flagged - not_flagged;
        *base_payoff += not_flagged;
    }
    return gains;
}

/* The x range shown: wide enough for the capacity limit and the chosen flag rate, at least 5%. */
static double payoff_x_max(const ln_report_input *input, double chosen_rate)
{
    double focus = isfinite(chosen_rate) ? chosen_rate : 0;
    if (isfinite(input->max_flag_rate) && input->max_flag_rate < 1) {
        focus = fmax(focus, input->max_flag_rate);
    }
    double x_max = fmax(0.05, 2.5 * focus);
    double step = report_tick_step(0, x_max, 5);
    return fmin(1, ceil(x_max / step - 1e-9) * step);
}

/*
 * Payoff per 1,000 rows when flagging the top-scored rows, one point per
 * distinct score up to x_max, downsampled to about REPORT_MAX_CURVE_POINTS.
 */
static ln_status payoff_curve(const report_scored *rows, size_t n, double base_payoff, double x_max,
                              report_curve *curve, ln_error *err)
{
    curve->x = malloc((REPORT_MAX_CURVE_POINTS + 4) * sizeof *curve->x);
    curve->y = malloc((REPORT_MAX_CURVE_POINTS + 4) * sizeof *curve->y);
    curve->n = 0;
    if (curve->x == NULL || curve->y == NULL) {
        report_curve_free(curve);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory for the report's payoff curve");
    }

    const double scale = 1000.0 / (double)n;
    const double min_step = x_max / REPORT_MAX_CURVE_POINTS;
    double payoff = base_payoff;
    curve->x[curve->n] = 0;
    curve->y[curve->n++] = payoff * scale;

    size_t i = 0;
    while (i < n) {
        double score = rows[i].score;
        size_t group_end = i;
        while (group_end < n && rows[group_end].score == score) {
            payoff += rows[group_end].gain;
            group_end++;
        }
        double rate = (double)group_end / (double)n;
        if (rate > x_max) {
            break;
        }
        if (rate - curve->x[curve->n - 1] >= min_step && curve->n < REPORT_MAX_CURVE_POINTS + 4) {
            curve->x[curve->n] = rate;
            curve->y[curve->n++] = payoff * scale;
        }
        i = group_end;
    }
    return LN_OK;
}

/* Flag rate and payoff per 1,000 rows of flagging the valid rows scored at or above threshold. */
static void chosen_point(const report_scored *rows, size_t n, double base_payoff, double threshold, double *rate,
                         double *per_1000)
{
    double payoff = base_payoff;
    size_t flagged = 0;
    while (flagged < n && rows[flagged].score >= threshold) {
        payoff += rows[flagged].gain;
        flagged++;
    }
    *rate = n > 0 && !isnan(threshold) ? (double)flagged / (double)n : NAN;
    *per_1000 = n > 0 && !isnan(threshold) ? payoff * 1000.0 / (double)n : NAN;
}

static void curve_y_range(const report_curve *curve, double point_y, double *lo, double *hi)
{
    *lo = isfinite(point_y) ? point_y : INFINITY;
    *hi = isfinite(point_y) ? point_y : -INFINITY;
    for (size_t i = 0; i < curve->n; i++) {
        if (isfinite(curve->y[i])) {
            *lo = fmin(*lo, curve->y[i]);
            *hi = fmax(*hi, curve->y[i]);
        }
    }
    if (!(*hi >= *lo)) {
        *lo = 0;
        *hi = 1;
    }
    double pad = (*hi - *lo) * 0.08 + (*hi == *lo ? fabs(*hi) * 0.1 + 1 : 0);
    *lo -= pad;
    *hi += pad;
}

static void draw_payoff_chart(report_buf *buf, const ln_report_input *input, const report_curve *curve,
                              double x_max, double chosen_rate, double chosen_payoff)
{
    double lo = 0, hi = 0;
    curve_y_range(curve, chosen_payoff, &lo, &hi);
    report_chart chart;
    report_chart_init(&chart, 0, x_max, lo, hi);
    chart.x_percent = 1;
    chart.left = 72;

    figure_begin(buf, "Payoff against flag rate (valid split)",
                 "Payoff per 1,000 rows when the model flags its top-scored rows, on the split where the "
                 "threshold was chosen. The dot is the chosen threshold; the red line is the capacity limit.");
    report_chart_begin(buf, &chart, "Payoff against flag rate", "share of rows flagged", "payoff per 1,000 rows");

    report_series series[2] = {
        {curve->x, curve->y, curve->n, MODEL_COLOR, "Model", 0, 0},
        {&chosen_rate, &chosen_payoff, 1, CHOSEN_COLOR, "Chosen threshold", 0, 1},
    };
    if (curve->n == 0) {
        chart_missing(buf, &chart, "No valid rows with a score and a label");
    }
    if (isfinite(input->max_flag_rate) && input->max_flag_rate < 1) {
        report_chart_vline(buf, &chart, input->max_flag_rate, CAPACITY_COLOR, "capacity limit");
    }
    report_chart_series(buf, &chart, &series[0]);
    report_chart_series(buf, &chart, &series[1]);
    report_chart_legend(buf, &chart, series, 2);
    report_chart_end(buf);
    figure_end(buf);
}

static ln_status draw_payoff(report_buf *buf, const ln_report_input *input, ln_error *err)
{
    double base_payoff = 0;
    double *gains = NULL;
    int has_valid = input->rows_valid > 0 && input->valid_scores != NULL && input->valid_labels != NULL;
    if (has_valid) {
        gains = valid_gains(input, &base_payoff);
        if (gains == NULL) {
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory for the payoffs of %zu valid rows",
                                input->rows_valid);
        }
    }

    /* base_payoff covers every valid row, so the curve also counts rows without a usable score as not flagged. */
    report_scored *rows = NULL;
    size_t n = 0;
    ln_status status = report_sort_by_score(input->valid_scores, input->valid_labels, gains,
                                            has_valid ? input->rows_valid : 0, &rows, &n, err);
    free(gains);
    if (status != LN_OK) {
        return status;
    }

    double chosen_rate = NAN, chosen_payoff = NAN;
    chosen_point(rows, n, base_payoff, input->model.threshold, &chosen_rate, &chosen_payoff);
    double x_max = payoff_x_max(input, chosen_rate);

    report_curve curve = {NULL, NULL, 0};
    if (n > 0) {
        status = payoff_curve(rows, n, base_payoff, x_max, &curve, err);
    }
    free(rows);
    if (status == LN_OK) {
        draw_payoff_chart(buf, input, &curve, x_max, chosen_rate, chosen_payoff);
    }
    report_curve_free(&curve);
    return status;
}

ln_status report_section_charts(report_buf *buf, const ln_report_input *input, ln_error *err)
{
    report_scored *rows = NULL;
    size_t n = 0;
    report_curve roc = {NULL, NULL, 0}, pr = {NULL, NULL, 0};
    size_t rows_test = input->test_scores != NULL && input->test_labels != NULL ? input->rows_test : 0;

    ln_status status = report_sort_by_score(input->test_scores, input->test_labels, NULL, rows_test, &rows, &n, err);
    if (status == LN_OK) {
        status = report_roc_curve(rows, n, &roc, err);
    }
    if (status == LN_OK) {
        status = report_pr_curve(rows, n, &pr, err);
    }
    if (status != LN_OK) {
        goto cleanup;
    }

    flag_point rule = {NAN, NAN, NAN, 0}, model = {NAN, NAN, NAN, 0};
    if (rows_test > 0 && input->test_baseline_flags != NULL) {
        rule = rates_of_flags(input->test_labels, rows_test, input->test_baseline_flags, NULL, 0);
    }
    if (rows_test > 0) {
        model = rates_of_flags(input->test_labels, rows_test, NULL, input->test_scores, input->model.threshold);
    }

    report_buf_puts(buf, "<section id=\"charts\">\n<h2>Charts</h2>\n<div class=\"charts\">\n");
    draw_roc(buf, input, &roc, rule, model);
    draw_pr(buf, input, &pr, rule, model);
    /* A multi-action policy gets one payoff chart per action instead (report_outcomes.c). */
    if (!input->multi_action) {
        status = draw_payoff(buf, input, err);
    }
    if (status != LN_OK) {
        goto cleanup;
    }
    draw_calibration(buf, rows, n);
    draw_distribution(buf, rows, n);
    status = draw_importance(buf, input, err);
    report_buf_puts(buf, "</div>\n</section>\n");

cleanup:
    report_curve_free(&roc);
    report_curve_free(&pr);
    free(rows);
    return status;
}
