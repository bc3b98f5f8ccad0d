/*
 * Probability calibration of binary models, fitted on labelled rows:
 * isotonic regression by pool-adjacent-violators, and Platt's sigmoid.
 * Both follow scikit-learn (1.2) closely enough that its numbers can serve
 * as test references: IsotonicRegression(out_of_bounds="clip") and the
 * sigmoid of CalibratedClassifierCV.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learn_internal.h"

#define PLATT_MAX_STEPS 200
#define PLATT_MAX_HALVINGS 60

typedef struct scored_label {
    double score;
    double label;
} scored_label;

static int compare_scores(const void *a, const void *b)
{
    const scored_label *x = a;
    const scored_label *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return (x->label > y->label) - (x->label < y->label);
}

/* A run of pooled points: their weighted label mean and the first and last distinct score. */
typedef struct pool_block {
    double sum;    /* sum of labels */
    double weight; /* points pooled */
    size_t first, last; /* indices into the distinct scores */
} pool_block;

/*
 * Fits the isotonic curve. It sorts by score, pools tied scores into their
 * mean, and merges adjacent blocks while a block's mean is at least the next
 * one's. It then keeps each distinct score with its block's mean, except the
 * inner points of a flat run, which change no interpolated value.
 */
static ln_status fit_isotonic(scored_label *items, size_t n, learn_calibration *out, ln_error *err)
{
    qsort(items, n, sizeof *items, compare_scores);

    double *x = malloc(n * sizeof *x);
    pool_block *blocks = malloc(n * sizeof *blocks);
    if (x == NULL || blocks == NULL) {
        free(x);
        free(blocks);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory fitting an isotonic calibration on %zu rows", n);
    }

    size_t n_distinct = 0, n_blocks = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double sum = 0;
        while (j < n && items[j].score == items[i].score)
            sum += items[j++].label;
        x[n_distinct] = items[i].score;
        blocks[n_blocks++] = (pool_block){sum, (double)(j - i), n_distinct, n_distinct};
        n_distinct++;

        while (n_blocks > 1 && blocks[n_blocks - 2].sum * blocks[n_blocks - 1].weight >=
                                   blocks[n_blocks - 1].sum * blocks[n_blocks - 2].weight) {
            pool_block *a = &blocks[n_blocks - 2];
            const pool_block *b = &blocks[n_blocks - 1];
            /* Pool equal means too, so a flat run is one block. */
            a->sum += b->sum;
            a->weight += b->weight;
            a->last = b->last;
            n_blocks--;
        }
        i = j;
    }

    double *y = malloc(n_distinct * sizeof *y);
    if (y == NULL) {
        free(x);
        free(blocks);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory fitting an isotonic calibration on %zu rows", n);
    }
    size_t kept = 0;
    for (size_t b = 0; b < n_blocks; b++) {
        double mean = blocks[b].sum / blocks[b].weight;
        x[kept] = x[blocks[b].first];
        y[kept++] = mean;
        if (blocks[b].last != blocks[b].first) {
            x[kept] = x[blocks[b].last];
            y[kept++] = mean;
        }
    }
    free(blocks);

    out->method = LN_CALIBRATION_ISOTONIC;
    out->n_points = kept;
    out->x = x;
    out->y = y;
    return LN_OK;
}

/* Returns the Platt objective at (a, b): log loss of the smoothed targets. */
static double platt_loss(const scored_label *items, size_t n, double a, double b)
{
    double loss = 0;
    for (size_t i = 0; i < n; i++) {
        double z = a * items[i].score + b;
        /* log(1 + e^z) - t z, written to stay finite for large |z|. */
        double softplus = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
        loss += softplus - items[i].label * z;
    }
    return loss;
}

/*
 * Fits P = 1 / (1 + exp(-(a * raw + b))) by Newton's method with step
 * halving; labels in items are already Platt's smoothed targets.
 */
static void fit_platt(const scored_label *items, size_t n, double n_positive, double n_negative,
                      learn_calibration *out)
{
    double a = 0.0;
    double b = log((n_positive + 1.0) / (n_negative + 1.0));
    double loss = platt_loss(items, n, a, b);

    for (int step = 0; step < PLATT_MAX_STEPS; step++) {
        double ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
        for (size_t i = 0; i < n; i++) {
            double f = items[i].score;
            double p = 1.0 / (1.0 + exp(-(a * f + b)));
            double r = p - items[i].label;
            double w = p * (1.0 - p);
            ga += r * f;
            gb += r;
            haa += w * f * f;
            hab += w * f;
            hbb += w;
        }

        /* A tiny ridge keeps the system solvable when every score is equal. */
        haa += 1e-12;
        hbb += 1e-12;
        double det = haa * hbb - hab * hab;
        double da = det > 0 ? (hbb * ga - hab * gb) / det : 0.0;
        double db = det > 0 ? (haa * gb - hab * ga) / det : gb / hbb;

        double scale = 1.0, trial = loss;
        for (int halving = 0; halving < PLATT_MAX_HALVINGS; halving++) {
            trial = platt_loss(items, n, a - scale * da, b - scale * db);
            if (trial <= loss)
                break;
            scale *= 0.5;
        }
        if (!(trial <= loss))
            break;
        a -= scale * da;
        b -= scale * db;
        int done = fabs(scale * da) < 1e-13 * (1 + fabs(a)) && fabs(scale * db) < 1e-13 * (1 + fabs(b));
        loss = trial;
        if (done)
            break;
    }

    out->method = LN_CALIBRATION_SIGMOID;
    out->a = a;
    out->b = b;
}

static ln_status check_calibration_input(const ln_model *model, const ln_table *valid, const double *labels,
                                         ln_calibration method, ln_error *err)
{
    if (method != LN_CALIBRATION_NONE && method != LN_CALIBRATION_ISOTONIC && method != LN_CALIBRATION_SIGMOID)
        return ln_error_set(err, LN_ERR_CONFIG, "unknown calibration %d (expected none, isotonic or sigmoid)",
                            (int)method);
    if (model->objective != LN_OBJECTIVE_BINARY)
        return ln_error_set(err, LN_ERR_CONFIG, "calibration applies to binary models; this one is %s",
                            ln_objective_name(model->objective));
    if (method == LN_CALIBRATION_NONE)
        return LN_OK;
    if (valid == NULL || labels == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "calibration needs labelled rows (a validation set)");

    size_t positives = 0;
    for (size_t i = 0; i < valid->n_rows; i++) {
        if (labels[i] != 0.0 && labels[i] != 1.0)
            return ln_error_set(err, LN_ERR_DATA, "calibration label of row %zu is %g; expected 0 or 1", i + 1,
                                labels[i]);
        positives += labels[i] == 1.0;
    }
    if (positives == 0 || positives == valid->n_rows)
        return ln_error_set(err, LN_ERR_DATA,
                            "calibration labels (%zu rows) are all %s; calibration needs both classes",
                            valid->n_rows, positives == 0 ? "0" : "1");
    return LN_OK;
}

ln_status ln_model_calibrate(ln_model *model, const ln_table *valid, const double *labels, ln_calibration method,
                             ln_error *err)
{
    ln_status status = check_calibration_input(model, valid, labels, method, err);
    if (status != LN_OK)
        return status;
    if (method == LN_CALIBRATION_NONE) {
        learn_calibration_clear(&model->calibration);
        return LN_OK;
    }

    size_t n = valid->n_rows;
    double *raw = malloc(n * sizeof *raw);
    scored_label *items = malloc(n * sizeof *items);
    if (raw == NULL || items == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory calibrating on %zu rows", n);
        goto done;
    }
    status = ln_model_predict_raw(model, valid, raw, err);
    if (status != LN_OK)
        goto done;
    if (n > LN_LEARN_MAX_CALIBRATION_POINTS && method == LN_CALIBRATION_ISOTONIC) {
        status = ln_error_set(err, LN_ERR_LIMIT, "isotonic calibration on %zu rows; the limit is %d rows", n,
                              LN_LEARN_MAX_CALIBRATION_POINTS);
        goto done;
    }

    learn_calibration fitted = {0};
    if (method == LN_CALIBRATION_ISOTONIC) {
        for (size_t i = 0; i < n; i++)
            items[i] = (scored_label){1.0 / (1.0 + exp(-raw[i])), labels[i]};
        status = fit_isotonic(items, n, &fitted, err);
    } else {
        double n_positive = 0;
        for (size_t i = 0; i < n; i++)
            n_positive += labels[i];
        double n_negative = (double)n - n_positive;
        for (size_t i = 0; i < n; i++)
            items[i] = (scored_label){raw[i], labels[i] == 1.0 ? (n_positive + 1.0) / (n_positive + 2.0)
                                                               : 1.0 / (n_negative + 2.0)};
        fit_platt(items, n, n_positive, n_negative, &fitted);
    }
    if (status == LN_OK) {
        learn_calibration_clear(&model->calibration);
        model->calibration = fitted;
    }

done:
    free(raw);
    free(items);
    return status;
}
