/*
 * Prediction. Rows are first prepared (one double per feature, category
 * values replaced by their bin number), then walked through the flat trees
 * built by learn_model_prepare. A batch is scored in blocks of rows, and each
 * block runs through every tree in turn. So a tree stays in cache while the
 * block's rows pass through it. Within a block, LOCKSTEP_ROWS rows walk a
 * tree together for exactly its depth steps (leaves loop to themselves), so
 * the walks are independent chains of loads the processor overlaps, and no
 * branch depends on where a row's path ends. Batches of up to
 * SINGLE_THREAD_ROWS rows are scored on the calling thread, where starting
 * threads would cost more than it saves.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learn_internal.h"

/* Rows per prediction block: 256 rows of prepared values stay in L2 for the widths seen in practice. */
#define PREDICT_BLOCK 256

/* Batches up to this many rows run on the calling thread (the serve module relies on at least 1024). */
#define SINGLE_THREAD_ROWS 4096

/* Rows walking one tree together. */
#define LOCKSTEP_ROWS 8

/* Returns the index of the child that value v goes to (a leaf returns itself). */
static inline uint32_t next_node(const flat_forest *flat, const flat_node *node, double v)
{
    uint32_t info = node->info;
    int left;

    if (info & FLAT_CATEGORICAL) {
        unsigned bin = (unsigned)v;
        left = bin == LEARN_MISSING_BIN ? (info & FLAT_DEFAULT_LEFT) != 0
                                        : learn_bin_set_has(&flat->cat_sets[node->u.cat_set], bin);
    } else {
        int missing = v != v;
        left = missing ? (info & FLAT_DEFAULT_LEFT) != 0 : v <= node->u.threshold;
    }
    return node->left + (uint32_t)!left;
}

double learn_tree_score(const ln_model *model, int t, const double *x)
{
    const flat_forest *flat = &model->flat;
    uint32_t i = flat->roots[t];

    while (!(flat->nodes[i].info & FLAT_LEAF))
        i = next_node(flat, &flat->nodes[i], x[flat->nodes[i].info & FLAT_FEATURE_MASK]);
    return flat->values[i];
}

/* Adds tree t's value for n rows (prepared, n_features apart) into raw (stride apart). */
static void add_tree_lockstep(const ln_model *model, int t, const double *x, size_t n, double *raw, size_t stride)
{
    const flat_forest *flat = &model->flat;
    const flat_node *nodes = flat->nodes;
    size_t n_features = model->n_features;
    int32_t depth = flat->depths[t];
    size_t r = 0;

    for (; r + LOCKSTEP_ROWS <= n; r += LOCKSTEP_ROWS) {
        uint32_t at[LOCKSTEP_ROWS];
        const double *rows = x + r * n_features;
        for (int j = 0; j < LOCKSTEP_ROWS; j++)
            at[j] = flat->roots[t];
        for (int32_t level = 0; level < depth; level++)
            for (int j = 0; j < LOCKSTEP_ROWS; j++) {
                const flat_node *node = &nodes[at[j]];
                at[j] = next_node(flat, node, rows[(size_t)j * n_features + (node->info & FLAT_FEATURE_MASK)]);
            }
        for (int j = 0; j < LOCKSTEP_ROWS; j++)
            raw[(r + (size_t)j) * stride] += flat->values[at[j]];
    }
    for (; r < n; r++)
        raw[r * stride] += learn_tree_score(model, t, x + r * n_features);
}

static double linear_raw(const ln_model *model, const double *x)
{
    double z = model->base_scores[0];

    for (size_t f = 0; f < model->n_features; f++) {
        const learn_linear_feature *lf = &model->linear[f];
        if (model->features[f].type == LN_TYPE_CATEGORY) {
            z += lf->weights[(int)x[f]];
            continue;
        }
        if (isnan(x[f])) {
            z += lf->weights[1];
        } else {
            double clamped = fmax(lf->min, fmin(x[f], lf->max));
            z += lf->weights[0] * (clamped - lf->mean) / lf->scale;
        }
    }
    return z;
}

void learn_row_raw(const ln_model *model, const double *x, double *raw)
{
    if (model->learner == LN_LEARNER_LINEAR) {
        raw[0] = linear_raw(model, x);
        return;
    }
    for (size_t k = 0; k < model->n_outputs; k++)
        raw[k] = model->base_scores[k];
    for (int t = 0; t < model->n_trees; t++)
        raw[(size_t)t % model->n_outputs] += learn_tree_score(model, t, x);
}

/* Linear interpolation between the isotonic points, clipped to the first and last. */
static double isotonic_value(const learn_calibration *calibration, double p)
{
    const double *x = calibration->x;
    const double *y = calibration->y;
    size_t n = calibration->n_points;

    if (isnan(p))
        return p;
    if (p <= x[0])
        return y[0];
    if (p >= x[n - 1])
        return y[n - 1];

    /* First point with x > p; x[0] <= p < x[n - 1], so 1 <= hi <= n - 1. */
    size_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] <= p)
            lo = mid;
        else
            hi = mid;
    }
    double span = x[hi] - x[lo];
    return span > 0 ? y[lo] + (y[hi] - y[lo]) * (p - x[lo]) / span : y[hi];
}

double learn_calibrate_probability(const learn_calibration *calibration, double raw, double p)
{
    switch (calibration->method) {
    case LN_CALIBRATION_SIGMOID:
        return 1.0 / (1.0 + exp(-(calibration->a * raw + calibration->b)));
    case LN_CALIBRATION_ISOTONIC:
        return isotonic_value(calibration, p);
    case LN_CALIBRATION_NONE:
        break;
    }
    return p;
}

void learn_raw_to_probability(const ln_model *model, double *values)
{
    if (model->objective == LN_OBJECTIVE_REGRESSION)
        return;
    if (model->objective == LN_OBJECTIVE_BINARY) {
        double p = 1.0 / (1.0 + exp(-values[0]));
        values[0] = learn_calibrate_probability(&model->calibration, values[0], p);
        return;
    }

    double largest = -INFINITY, sum = 0;
    for (size_t k = 0; k < model->n_outputs; k++)
        largest = fmax(largest, values[k]);
    for (size_t k = 0; k < model->n_outputs; k++) {
        values[k] = exp(values[k] - largest);
        sum += values[k];
    }
    for (size_t k = 0; k < model->n_outputs; k++)
        values[k] /= sum;
}

void learn_prepare_rows(const ln_model *model, const ln_column **columns, uint8_t *const *category_maps,
                        const int32_t *dict_counts, size_t begin, size_t end, double *x)
{
    size_t n_features = model->n_features;

    for (size_t f = 0; f < n_features; f++) {
        const ln_column *column = columns[f];
        double *out = x + f;

        if (model->features[f].type != LN_TYPE_CATEGORY) {
            for (size_t r = begin; r < end; r++, out += n_features)
                *out = column->values[r];
            continue;
        }
        const uint8_t *map = category_maps[f];
        int32_t count = dict_counts[f];
        for (size_t r = begin; r < end; r++, out += n_features) {
            int32_t code = column->codes[r];
            *out = code >= 0 && code < count ? map[code + 1] : LEARN_MISSING_BIN;
        }
    }
}

ln_status learn_input_open(const ln_model *model, const ln_table *data, learn_input *input, ln_error *err)
{
    size_t n = model->n_features;

    memset(input, 0, sizeof *input);
    input->n_rows = data->n_rows;
    input->columns = calloc(n ? n : 1, sizeof *input->columns);
    input->maps = calloc(n ? n : 1, sizeof *input->maps);
    input->dict_counts = calloc(n ? n : 1, sizeof *input->dict_counts);
    if (input->columns == NULL || input->maps == NULL || input->dict_counts == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory");

    ln_status status = learn_match_columns(model, data, "table", input->columns, err);
    for (size_t f = 0; f < n && status == LN_OK; f++) {
        if (model->features[f].type != LN_TYPE_CATEGORY)
            continue;
        status = learn_category_bin_map(&model->features[f], input->columns[f], &input->maps[f], err);
        const ln_dict *dict = input->columns[f]->dict;
        input->dict_counts[f] = dict != NULL ? ln_dict_count(dict) : 0;
    }
    return status;
}

void learn_input_close(const ln_model *model, learn_input *input)
{
    if (input->maps != NULL)
        for (size_t f = 0; f < model->n_features; f++)
            free(input->maps[f]);
    free(input->maps);
    free(input->dict_counts);
    free(input->columns);
    memset(input, 0, sizeof *input);
}

/* What a batch writes per row. */
typedef enum predict_output {
    OUTPUT_RAW,         /* n_outputs raw scores */
    OUTPUT_PROBABILITY, /* n_outputs values after the link and calibration */
    OUTPUT_SCORE,       /* one value: probability, prediction or most probable class */
    OUTPUT_PROBA,       /* binary: P(0), P(1); multiclass: n_classes probabilities */
} predict_output;

typedef struct predict_job {
    const ln_model *model;
    const learn_input *input;
    predict_output output;
    double *out;
    int failed; /* a task could not allocate its buffer */
} predict_job;

static size_t output_width(const ln_model *model, predict_output output)
{
    if (output == OUTPUT_SCORE)
        return 1;
    if (output == OUTPUT_PROBA && model->objective == LN_OBJECTIVE_BINARY)
        return 2;
    return model->n_outputs;
}

/* Writes row r's outputs from its n_outputs raw scores (values is overwritten). */
static void write_row(const ln_model *model, predict_output output, double *values, double *out)
{
    size_t k_count = model->n_outputs;

    if (output == OUTPUT_RAW) {
        memcpy(out, values, k_count * sizeof *out);
        return;
    }
    learn_raw_to_probability(model, values);
    if (output == OUTPUT_PROBABILITY) {
        memcpy(out, values, k_count * sizeof *out);
    } else if (output == OUTPUT_PROBA && model->objective == LN_OBJECTIVE_BINARY) {
        out[0] = 1.0 - values[0];
        out[1] = values[0];
    } else if (output == OUTPUT_PROBA || model->objective != LN_OBJECTIVE_MULTICLASS) {
        memcpy(out, values, output_width(model, output) * sizeof *out);
    } else {
        size_t best = 0;
        for (size_t k = 1; k < k_count; k++)
            if (values[k] > values[best])
                best = k;
        out[0] = (double)best;
    }
}

static void score_block(const ln_model *model, const double *x, size_t n, double *raw)
{
    size_t k_count = model->n_outputs;
    size_t n_features = model->n_features;

    if (model->learner == LN_LEARNER_LINEAR) {
        for (size_t r = 0; r < n; r++)
            raw[r] = linear_raw(model, x + r * n_features);
        return;
    }
    for (size_t r = 0; r < n; r++)
        for (size_t k = 0; k < k_count; k++)
            raw[r * k_count + k] = model->base_scores[k];
    for (int t = 0; t < model->n_trees; t++)
        add_tree_lockstep(model, t, x, n, raw + (size_t)t % k_count, k_count);
}

static void predict_task(void *context, size_t task)
{
    predict_job *job = context;
    const ln_model *model = job->model;
    size_t begin = task * PREDICT_BLOCK;
    size_t end = begin + PREDICT_BLOCK < job->input->n_rows ? begin + PREDICT_BLOCK : job->input->n_rows;
    size_t n = end - begin;
    size_t width = output_width(model, job->output);

    double *x = malloc((n * model->n_features + 1) * sizeof *x);
    double *raw = malloc(n * model->n_outputs * sizeof *raw);
    if (x == NULL || raw == NULL) {
        job->failed = 1;
        free(x);
        free(raw);
        return;
    }

    learn_prepare_rows(model, job->input->columns, job->input->maps, job->input->dict_counts, begin, end, x);
    score_block(model, x, n, raw);
    for (size_t r = 0; r < n; r++)
        write_row(model, job->output, raw + r * model->n_outputs, job->out + (begin + r) * width);
    free(x);
    free(raw);
}

static ln_status predict_batch(const ln_model *model, const ln_table *data, predict_output output, double *out,
                               ln_error *err)
{
    learn_input input;
    learn_pool *pool = NULL;

    ln_status status = learn_input_open(model, data, &input, err);
    if (status != LN_OK)
        goto done;

    size_t n_blocks = (data->n_rows + PREDICT_BLOCK - 1) / PREDICT_BLOCK;
    pool = learn_pool_new(data->n_rows > SINGLE_THREAD_ROWS ? 0 : 1);
    if (pool == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory starting prediction threads");
        goto done;
    }
    predict_job job = {model, &input, output, out, 0};
    learn_pool_run(pool, n_blocks, predict_task, &job);
    if (job.failed)
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory scoring %zu rows", data->n_rows);

done:
    learn_pool_free(pool);
    learn_input_close(model, &input);
    return status;
}

ln_status ln_model_predict(const ln_model *model, const ln_table *data, double *scores, ln_error *err)
{
    return predict_batch(model, data, OUTPUT_SCORE, scores, err);
}

ln_status ln_model_predict_proba(const ln_model *model, const ln_table *data, double *proba, ln_error *err)
{
    if (model->objective == LN_OBJECTIVE_REGRESSION)
        return ln_error_set(err, LN_ERR_CONFIG, "a regression model has no class probabilities; use ln_model_predict");
    return predict_batch(model, data, OUTPUT_PROBA, proba, err);
}

ln_status ln_model_predict_raw(const ln_model *model, const ln_table *data, double *raw, ln_error *err)
{
    return predict_batch(model, data, OUTPUT_RAW, raw, err);
}

/* ---- one prepared row ---- */

struct ln_model_row {
    const ln_model *model;
    double x[]; /* prepared values, one per feature */
};

ln_status ln_model_row_new(const ln_model *model, ln_model_row **out, ln_error *err)
{
    ln_model_row *row = malloc(sizeof *row + model->n_features * sizeof row->x[0]);
    if (row == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory allocating a row of %zu features", model->n_features);
    row->model = model;
    ln_model_row_clear(row);
    *out = row;
    return LN_OK;
}

void ln_model_row_free(ln_model_row *row)
{
    free(row);
}

void ln_model_row_clear(ln_model_row *row)
{
    const ln_model *model = row->model;
    for (size_t f = 0; f < model->n_features; f++)
        row->x[f] = model->features[f].type == LN_TYPE_CATEGORY ? LEARN_MISSING_BIN : NAN;
}

static ln_status check_row_feature(const ln_model_row *row, size_t feature, int want_category, ln_error *err)
{
    const ln_model *model = row->model;

    if (feature >= model->n_features)
        return ln_error_set(err, LN_ERR_CONFIG, "feature index %zu is out of range (the model has %zu features)",
                            feature, model->n_features);
    int is_category = model->features[feature].type == LN_TYPE_CATEGORY;
    if (is_category != want_category)
        return ln_error_set(err, LN_ERR_DATA, "feature '%s' is %s, but a %s was given", model->features[feature].name,
                            is_category ? "a category" : "numeric", want_category ? "category" : "number");
    return LN_OK;
}

ln_status ln_model_row_set_number(ln_model_row *row, size_t feature, double value, ln_error *err)
{
    ln_status status = check_row_feature(row, feature, 0, err);
    if (status == LN_OK)
        row->x[feature] = value;
    return status;
}

ln_status ln_model_row_set_category(ln_model_row *row, size_t feature, const char *text, size_t length,
                                    ln_error *err)
{
    ln_status status = check_row_feature(row, feature, 1, err);
    if (status != LN_OK)
        return status;

    if (text == NULL) {
        row->x[feature] = LEARN_MISSING_BIN;
        return LN_OK;
    }
    const learn_feature *f = &row->model->features[feature];
    int32_t index = ln_dict_find(f->category_dict, text, length);
    row->x[feature] = index < 0 ? LEARN_OTHER_BIN : LEARN_FIRST_CATEGORY_BIN + index;
    return LN_OK;
}

ln_status ln_model_predict_row(const ln_model *model, const ln_model_row *row, double *out, ln_error *err)
{
    if (row->model != model)
        return ln_error_set(err, LN_ERR_CONFIG, "the row was made for another model");

    learn_row_raw(model, row->x, out);
    learn_raw_to_probability(model, out);
    return LN_OK;
}

void ln_model_calibration_info(const ln_model *model, ln_calibration_info *info)
{
    const learn_calibration *calibration = &model->calibration;

    memset(info, 0, sizeof *info);
    info->method = calibration->method;
    if (calibration->method == LN_CALIBRATION_SIGMOID) {
        info->a = calibration->a;
        info->b = calibration->b;
    } else if (calibration->method == LN_CALIBRATION_ISOTONIC) {
        info->n_points = calibration->n_points;
        info->x = calibration->x;
        info->y = calibration->y;
    }
}

int ln_model_linear_feature(const ln_model *model, size_t index, ln_linear_feature_info *info)
{
    memset(info, 0, sizeof *info);
    if (model->learner != LN_LEARNER_LINEAR || model->linear == NULL || index >= model->n_features)
        return -1;

    const learn_linear_feature *feature = &model->linear[index];
    info->mean = feature->mean;
    info->scale = feature->scale;
    info->min = feature->min;
    info->max = feature->max;
    info->weights = feature->weights;
    info->n_weights = feature->n_weights;
    return 0;
}

double ln_model_base_score(const ln_model *model, size_t output)
{
    return output < model->n_outputs ? model->base_scores[output] : 0.0;
}
