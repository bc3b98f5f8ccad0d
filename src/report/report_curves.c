/*
 * ROC and precision-recall curves for the report's charts. Rows with equal
 * scores form one step, because no threshold separates them. Curves are
 * downsampled so that a million test rows still draw as a few hundred points.
 */
#include <math.h>
#include <stdlib.h>

#include "report/report_internal.h"

void report_curve_free(report_curve *curve)
{
    free(curve->x);
    free(curve->y);
    curve->x = NULL;
    curve->y = NULL;
    curve->n = 0;
}

static int compare_descending(const void *a, const void *b)
{
    double score_a = ((const report_scored *)a)->score;
    double score_b = ((const report_scored *)b)->score;
    return (score_a < score_b) - (score_a > score_b);
}

ln_status report_sort_by_score(const double *scores, const double *labels, const double *gains, size_t count,
                               report_scored **rows, size_t *n, ln_error *err)
{
    *rows = NULL;
    *n = 0;
    if (count == 0 || scores == NULL || labels == NULL) {
        return LN_OK;
    }

    report_scored *kept = malloc(count * sizeof *kept);
    if (kept == NULL) {
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory sorting %zu scores for the report charts", count);
    }

    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        if (isfinite(scores[i]) && (labels[i] == 0 || labels[i] == 1)) {
            kept[used].score = scores[i];
            kept[used].label = labels[i];
            kept[used].gain = gains != NULL ? gains[i] : 0;
            used++;
        }
    }
    if (used == 0) {
        free(kept);
        return LN_OK;
    }

    qsort(kept, used, sizeof *kept, compare_descending);
    *rows = kept;
    *n = used;
    return LN_OK;
}

static ln_status curve_alloc(report_curve *curve, size_t max_points, ln_error *err)
{
    curve->x = malloc(max_points * sizeof *curve->x);
    curve->y = malloc(max_points * sizeof *curve->y);
    curve->n = 0;
    if (curve->x == NULL || curve->y == NULL) {
        report_curve_free(curve);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory for a report curve of %zu points", max_points);
    }
    return LN_OK;
}

static void curve_push(report_curve *curve, double x, double y)
{
    curve->x[curve->n] = x;
    curve->y[curve->n] = y;
    curve->n++;
}

static void count_classes(const report_scored *rows, size_t n, double *positives, double *negatives)
{
    *positives = 0;
    for (size_t i = 0; i < n; i++) {
        *positives += rows[i].label;
    }
    *negatives = (double)n - *positives;
}

/* Advances *i past every row whose score equals rows[*i]'s, adding up the positives and negatives passed. */
static void take_tie_group(const report_scored *rows, size_t n, size_t *i, double *tp, double *fp)
{
    double score = rows[*i].score;
    while (*i < n && rows[*i].score == score) {
        *tp += rows[*i].label;
        *fp += 1 - rows[*i].label;
        (*i)++;
    }
}

ln_status report_roc_curve(const report_scored *rows, size_t n, report_curve *curve, ln_error *err)
{
    curve->x = curve->y = NULL;
    curve->n = 0;
    double positives = 0, negatives = 0;
    count_classes(rows, n, &positives, &negatives);
    if (positives == 0 || negatives == 0) {
        return LN_OK;
    }

    /*
     * Both rates only grow, so the curve's L1 length is at most 2. Keeping a
     * point each time the curve has moved 2 / max since the last kept point
     * bounds the count by about max, plus the two ends.
     */
    const double min_move = 2.0 / REPORT_MAX_CURVE_POINTS;
    ln_status status = curve_alloc(curve, REPORT_MAX_CURVE_POINTS + 4, err);
    if (status != LN_OK) {
        return status;
    }

    curve_push(curve, 0, 0);
    double tp = 0, fp = 0;
    size_t i = 0;
    while (i < n) {
        take_tie_group(rows, n, &i, &tp, &fp);
        double x = fp / negatives;
        double y = tp / positives;
        double moved = fabs(x - curve->x[curve->n - 1]) + fabs(y - curve->y[curve->n - 1]);
        if (moved >= min_move || i == n) {
            curve_push(curve, x, y);
        }
    }
    return LN_OK;
}

ln_status report_pr_curve(const report_scored *rows, size_t n, report_curve *curve, ln_error *err)
{
    curve->x = curve->y = NULL;
    curve->n = 0;
    double positives = 0, negatives = 0;
    count_classes(rows, n, &positives, &negatives);
    if (positives == 0) {
        return LN_OK;
    }

    /* Recall only grows, so keeping a point per 1 / max of recall bounds the count by max plus the ends. */
    const double min_recall_step = 1.0 / REPORT_MAX_CURVE_POINTS;
    ln_status status = curve_alloc(curve, REPORT_MAX_CURVE_POINTS + 4, err);
    if (status != LN_OK) {
        return status;
    }

    double tp = 0, fp = 0;
    size_t i = 0;
    while (i < n) {
        take_tie_group(rows, n, &i, &tp, &fp);
        double recall = tp / positives;
        double precision = tp / (tp + fp);
        if (curve->n == 0 || recall - curve->x[curve->n - 1] >= min_recall_step || i == n) {
            curve_push(curve, recall, precision);
        }
    }
    return LN_OK;
}
