/*
 * L2-regularised logistic regression fitted by Newton's method with a
 * backtracking line search. It minimises
 *     sum_i c_i logloss(y_i, b + w.x_i) + linear_l2 / 2 * |w|^2
 * where c_i is row i's sample weight (times scale_pos_weight for positives)
 * (the intercept b is not penalised), which is scikit-learn's
 * LogisticRegression with C = 1 / linear_l2 on the same design matrix.
 *
 * The design matrix is never stored: each row has one entry per feature
 * (a standardised value, a missing indicator or a one-hot category bin) plus
 * the intercept, rebuilt on the fly. Numeric values are clamped to the
 * training range (infinities included) and standardised with the training
 * mean and population standard deviation.
 *
 * Sums run over fixed row chunks added in chunk order, so the fit is the
 * same for any thread count.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/log.h"
#include "learn/learn_internal.h"

#define CHUNK_ROWS 32768
#define MAX_CHUNKS 16
#define MAX_CHUNK_BYTES (256u << 20)
#define MAX_NEWTON_STEPS 100
#define MAX_HALVINGS 40

typedef struct linear_fit {
    const ln_model *model;
    const ln_column **columns;
    uint8_t **category_maps;
    const double *labels;
    const double *row_weights; /* per row, NULL for all 1 */
    double pos_weight;
    size_t n_rows;
    size_t n_weights;        /* including the intercept at index 0 */
    size_t *offsets;         /* feature -> first weight */
    double l2;

    size_t n_chunks;
    size_t chunk_rows;
    double *weights;         /* current point */
    double *trial;           /* point whose loss is evaluated */
    double *chunk_gradients; /* n_chunks x n_weights */
    double *chunk_hessians;  /* n_chunks x n_weights^2, lower triangle used */
    double *chunk_losses;
    int want_hessian;
} linear_fit;

static double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double clamp(double x, double lo, double hi)
{
    if (x < lo)
        return lo;
    if (x > hi)
        return hi;
    return x;
}

/* Writes row r's non-zero design entries (ascending indices) and returns their count. */
static size_t design_row(const linear_fit *fit, size_t r, size_t *index, double *value)
{
    size_t n = 0;
    index[n] = 0;
    value[n++] = 1.0;

    for (size_t f = 0; f < fit->model->n_features; f++) {
        const ln_column *column = fit->columns[f];
        size_t first = fit->offsets[f];

        if (fit->model->features[f].type == LN_TYPE_CATEGORY) {
            int32_t code = column->codes[r];
            int32_t count = column->dict != NULL ? ln_dict_count(column->dict) : 0;
            uint8_t bin = code >= 0 && code < count ? fit->category_maps[f][code + 1] : LEARN_MISSING_BIN;
            index[n] = first + bin;
            value[n++] = 1.0;
            continue;
        }

        const learn_linear_feature *lf = &fit->model->linear[f];
        double x = column->values[r];
        if (isnan(x)) {
            index[n] = first + 1;
            value[n++] = 1.0;
        } else {
            index[n] = first;
            value[n++] = (clamp(x, lf->min, lf->max) - lf->mean) / lf->scale;
        }
    }
    return n;
}

static void chunk_task(void *context, size_t chunk)
{
    linear_fit *fit = context;
    size_t d = fit->n_weights;
    size_t begin = chunk * fit->chunk_rows;
    size_t end = begin + fit->chunk_rows < fit->n_rows ? begin + fit->chunk_rows : fit->n_rows;
    size_t k_max = fit->model->n_features + 1;
    size_t index_buffer[k_max];
    double value_buffer[k_max];
    double *gradient = fit->chunk_gradients + chunk * d;
    double *hessian = fit->want_hessian ? fit->chunk_hessians + chunk * d * d : NULL;
    double loss = 0;

    if (fit->want_hessian) {
        memset(gradient, 0, d * sizeof *gradient);
        memset(hessian, 0, d * d * sizeof *hessian);
    }

    for (size_t r = begin; r < end; r++) {
        size_t k = design_row(fit, r, index_buffer, value_buffer);
        double z = 0;
        for (size_t a = 0; a < k; a++)
            z += fit->trial[index_buffer[a]] * value_buffer[a];
        double y = fit->labels[r];
        double c = fit->row_weights != NULL ? fit->row_weights[r] : 1.0;
        if (y > 0.5)
            c *= fit->pos_weight;
        loss += c * (y > 0.5 ? softplus(-z) : softplus(z));
        if (!fit->want_hessian)
            continue;

        double p = 1.0 / (1.0 + exp(-z));
        double residual = c * (p - y);
        double weight = c * p * (1.0 - p);
        for (size_t a = 0; a < k; a++) {
            size_t ia = index_buffer[a];
            double wa = weight * value_buffer[a];
            gradient[ia] += residual * value_buffer[a];
            double *row = hessian + ia * d;
            for (size_t b = 0; b <= a; b++)
                row[index_buffer[b]] += wa * value_buffer[b];
        }
    }
    fit->chunk_losses[chunk] = loss;
}

static double penalty(const linear_fit *fit, const double *w)
{
    double sum = 0;
    for (size_t j = 1; j < fit->n_weights; j++)
        sum += w[j] * w[j];
    return 0.5 * fit->l2 * sum;
}

/* Evaluates the objective at fit->trial, and its gradient and Hessian when want_hessian. */
static double evaluate(linear_fit *fit, learn_pool *pool, int want_hessian, double *gradient, double *hessian)
{
    size_t d = fit->n_weights;

    fit->want_hessian = want_hessian;
    learn_pool_run(pool, fit->n_chunks, chunk_task, fit);

    double loss = 0;
    for (size_t c = 0; c < fit->n_chunks; c++)
        loss += fit->chunk_losses[c];
    if (!want_hessian)
        return loss + penalty(fit, fit->trial);

    memset(gradient, 0, d * sizeof *gradient);
    memset(hessian, 0, d * d * sizeof *hessian);
    for (size_t c = 0; c < fit->n_chunks; c++) {
        const double *g = fit->chunk_gradients + c * d;
        const double *h = fit->chunk_hessians + c * d * d;
        for (size_t j = 0; j < d; j++)
            gradient[j] += g[j];
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j <= i; j++)
                hessian[i * d + j] += h[i * d + j];
    }
    for (size_t j = 1; j < d; j++) {
        gradient[j] += fit->l2 * fit->trial[j];
        hessian[j * d + j] += fit->l2;
    }
    return loss + penalty(fit, fit->trial);
}

/*
 * Solves H x = b by Cholesky on H's lower triangle (H is overwritten).
 * A tiny ridge keeps empty one-hot columns (zero rows and columns when
 * linear_l2 is 0) from stopping the factorisation. Returns -1 when H is not
 * positive definite even then.
 */
static int cholesky_solve(double *h, size_t d, const double *b, double *x)
{
    for (size_t j = 0; j < d; j++) {
        double diagonal = h[j * d + j] + 1e-10;
        for (size_t k = 0; k < j; k++)
            diagonal -= h[j * d + k] * h[j * d + k];
        if (!(diagonal > 0))
            return -1;
        double root = sqrt(diagonal);
        h[j * d + j] = root;
        for (size_t i = j + 1; i < d; i++) {
            double sum = h[i * d + j];
            for (size_t k = 0; k < j; k++)
                sum -= h[i * d + k] * h[j * d + k];
            h[i * d + j] = sum / root;
        }
    }

    for (size_t i = 0; i < d; i++) {
        double sum = b[i];
        for (size_t k = 0; k < i; k++)
            sum -= h[i * d + k] * x[k];
        x[i] = sum / h[i * d + i];
    }
    for (size_t i = d; i-- > 0;) {
        double sum = x[i];
        for (size_t k = i + 1; k < d; k++)
            sum -= h[k * d + i] * x[k];
        x[i] = sum / h[i * d + i];
    }
    return 0;
}

/* Computes clamp range, mean and scale of each numeric feature, and the kept categories of the others. */
static ln_status describe_features(ln_model *model, const ln_column **columns, size_t n_rows, int min_category_rows,
                                   ln_error *err)
{
    for (size_t f = 0; f < model->n_features; f++) {
        learn_feature *feature = &model->features[f];
        learn_linear_feature *lf = &model->linear[f];

        if (feature->type == LN_TYPE_CATEGORY) {
            ln_status status = learn_build_category_bins(feature, columns[f], n_rows, LN_LEARN_MAX_LINEAR_CATEGORIES,
                                                         min_category_rows, err);
            if (status != LN_OK)
                return status;
            lf->n_weights = feature->n_bins;
            lf->scale = 1.0; /* unused, but the file format checks every scale */
        } else {
            const double *values = columns[f]->values;
            double lo = INFINITY, hi = -INFINITY, sum = 0;
            size_t n = 0;
            for (size_t r = 0; r < n_rows; r++) {
                if (isfinite(values[r])) {
                    lo = values[r] < lo ? values[r] : lo;
                    hi = values[r] > hi ? values[r] : hi;
                }
            }
            if (lo > hi)
                lo = hi = 0;

            /*
             * The sums run on values divided by the largest magnitude, so that
             * values beyond 1e154, whose squares overflow, still get a finite
             * mean and standard deviation.
             */
            double magnitude = fmax(fabs(lo), fabs(hi));
            double unit = magnitude > 0 ? magnitude : 1.0;
            for (size_t r = 0; r < n_rows; r++)
                if (!isnan(values[r])) {
                    sum += clamp(values[r], lo, hi) / unit;
                    n++;
                }
            double mean = n > 0 ? sum / (double)n : 0;
            double squares = 0;
            for (size_t r = 0; r < n_rows; r++)
                if (!isnan(values[r])) {
                    double delta = clamp(values[r], lo, hi) / unit - mean;
                    squares += delta * delta;
                }
            double scale = n > 0 ? sqrt(squares / (double)n) * unit : 0;
            lf->min = lo;
            lf->max = hi;
            lf->mean = mean * unit;
            if (!(scale > 0))
                scale = 1.0;
            lf->scale = isfinite(scale) ? scale : DBL_MAX;
            lf->n_weights = 2;
        }

        lf->weights = calloc((size_t)lf->n_weights, sizeof *lf->weights);
        if (lf->weights == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory");
    }
    return LN_OK;
}

static ln_status setup_fit(linear_fit *fit, ln_model *model, const ln_column **columns, const double *labels,
                           size_t n_rows, double l2, ln_error *err)
{
    memset(fit, 0, sizeof *fit);
    fit->model = model;
    fit->columns = columns;
    fit->labels = labels;
    fit->n_rows = n_rows;
    fit->l2 = l2;

    fit->offsets = malloc(model->n_features * sizeof *fit->offsets);
    fit->category_maps = calloc(model->n_features, sizeof *fit->category_maps);
    if (fit->offsets == NULL || fit->category_maps == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory");

    size_t d = 1;
    for (size_t f = 0; f < model->n_features; f++) {
        fit->offsets[f] = d;
        d += (size_t)model->linear[f].n_weights;
        if (model->features[f].type == LN_TYPE_CATEGORY) {
            ln_status status = learn_category_bin_map(&model->features[f], columns[f], &fit->category_maps[f], err);
            if (status != LN_OK)
                return status;
        }
    }
    if (d > LN_LEARN_MAX_LINEAR_WEIGHTS)
        return ln_error_set(err, LN_ERR_LIMIT,
                            "logistic regression needs %zu weights; the limit is %d (use fewer features or "
                            "the gbdt learner)",
                            d, LN_LEARN_MAX_LINEAR_WEIGHTS);
    fit->n_weights = d;

    /* Chunk count depends only on the data size, never on the thread count. */
    size_t n_chunks = (n_rows + CHUNK_ROWS - 1) / CHUNK_ROWS;
    size_t by_memory = MAX_CHUNK_BYTES / (d * d * sizeof(double));
    if (n_chunks > MAX_CHUNKS)
        n_chunks = MAX_CHUNKS;
    if (n_chunks > by_memory)
        n_chunks = by_memory;
    if (n_chunks == 0)
        n_chunks = 1;
    fit->n_chunks = n_chunks;
    fit->chunk_rows = (n_rows + n_chunks - 1) / n_chunks;

    fit->weights = calloc(d, sizeof *fit->weights);
    fit->trial = calloc(d, sizeof *fit->trial);
    fit->chunk_gradients = malloc(n_chunks * d * sizeof *fit->chunk_gradients);
    fit->chunk_hessians = malloc(n_chunks * d * d * sizeof *fit->chunk_hessians);
    fit->chunk_losses = malloc(n_chunks * sizeof *fit->chunk_losses);
    if (fit->weights == NULL || fit->trial == NULL || fit->chunk_gradients == NULL || fit->chunk_hessians == NULL ||
        fit->chunk_losses == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory fitting %zu weights", d);
    return LN_OK;
}

static void free_fit(linear_fit *fit)
{
    if (fit->category_maps != NULL)
        for (size_t f = 0; f < fit->model->n_features; f++)
            free(fit->category_maps[f]);
    free(fit->category_maps);
    free(fit->offsets);
    free(fit->weights);
    free(fit->trial);
    free(fit->chunk_gradients);
    free(fit->chunk_hessians);
    free(fit->chunk_losses);
}

/* Runs Newton steps from fit->weights until the step or the objective change is negligible. */
static ln_status newton(linear_fit *fit, learn_pool *pool, double *gradient, double *hessian, double *step,
                        ln_error *err)
{
    size_t d = fit->n_weights;
    int converged = 0;
    int iteration;

    for (iteration = 0; iteration < MAX_NEWTON_STEPS && !converged; iteration++) {
        memcpy(fit->trial, fit->weights, d * sizeof *fit->trial);
        double objective = evaluate(fit, pool, 1, gradient, hessian);
        if (cholesky_solve(hessian, d, gradient, step) != 0)
            return ln_error_set(err, LN_ERR_DATA,
                                "logistic regression: the Hessian is not positive definite (linear_l2 is %g; raise "
                                "it, or drop features that are constant or copies of others)", fit->l2);

        double scale = 1.0;
        double trial_objective = objective;
        for (int halving = 0; halving < MAX_HALVINGS; halving++) {
            for (size_t j = 0; j < d; j++)
                fit->trial[j] = fit->weights[j] - scale * step[j];
            trial_objective = evaluate(fit, pool, 0, NULL, NULL);
            if (trial_objective <= objective)
                break;
            scale *= 0.5;
        }
        if (!(trial_objective <= objective))
            break;

        double largest = 0;
        for (size_t j = 0; j < d; j++) {
            double change = fabs(scale * step[j]);
            largest = change > largest ? change : largest;
        }
        memcpy(fit->weights, fit->trial, d * sizeof *fit->weights);
        converged = largest < 1e-9 || objective - trial_objective <= 1e-13 * fabs(objective);
    }

    if (!converged)
        ln_log(LN_LOG_WARN, "logistic regression did not converge in %d Newton steps", iteration);
    else
        ln_log(LN_LOG_DEBUG, "logistic regression converged in %d Newton steps", iteration);
    return LN_OK;
}

ln_status linear_train(const ln_train_params *params, ln_model *model, const ln_table *train, const double *labels,
                       const double *weights, const ln_column **train_columns, learn_pool *pool, ln_error *err)
{
    linear_fit fit;
    double *gradient = NULL, *hessian = NULL, *step = NULL;

    memset(&fit, 0, sizeof fit);
    model->linear = calloc(model->n_features, sizeof *model->linear);
    if (model->linear == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory");

    ln_status status = describe_features(model, train_columns, train->n_rows, params->min_category_rows, err);
    if (status == LN_OK)
        status = setup_fit(&fit, model, train_columns, labels, train->n_rows, params->linear_l2, err);
    if (status != LN_OK)
        goto done;
    fit.row_weights = weights;
    fit.pos_weight = params->scale_pos_weight;

    size_t d = fit.n_weights;
    gradient = malloc(d * sizeof *gradient);
    hessian = malloc(d * d * sizeof *hessian);
    step = malloc(d * sizeof *step);
    if (gradient == NULL || hessian == NULL || step == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory fitting %zu weights", d);
        goto done;
    }

    double positives = 0, total = 0;
    for (size_t r = 0; r < train->n_rows; r++) {
        double c = weights != NULL ? weights[r] : 1.0;
        if (labels[r] > 0.5)
            c *= params->scale_pos_weight;
        positives += c * labels[r];
        total += c;
    }
    double rate = positives / total;
    fit.weights[0] = log(rate / (1.0 - rate));

    status = newton(&fit, pool, gradient, hessian, step, err);
    if (status != LN_OK)
        goto done;

    model->base_scores[0] = fit.weights[0];
    for (size_t f = 0; f < model->n_features; f++)
        memcpy(model->linear[f].weights, fit.weights + fit.offsets[f],
               (size_t)model->linear[f].n_weights * sizeof(double));

done:
    free(gradient);
    free(hessian);
    free(step);
    free_fit(&fit);
    return status;
}
