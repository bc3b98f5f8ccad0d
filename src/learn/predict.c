/*
 * Batch prediction: rows are scored in blocks, each block running through
 * every tree (or the linear weights), blocks in parallel.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learn_internal.h"

/* Rows per prediction task; a block's scores stay in L1 while the trees stream by. */
#define PREDICT_BLOCK 1024

static inline uint8_t category_bin(const ln_column *column, const uint8_t *map, int32_t count, size_t row)
{
    int32_t code = column->codes[row];
    return code >= 0 && code < count ? map[code + 1] : LEARN_MISSING_BIN;
}

static double tree_value(const learn_tree *tree, const ln_column **columns, uint8_t *const *maps,
                         const int32_t *dict_counts, size_t row)
{
    int32_t i = 0;

    while (tree->nodes[i].left >= 0) {
        const learn_node *node = &tree->nodes[i];
        const ln_column *column = columns[node->feature];
        int left;

        if (node->categorical) {
            uint8_t bin = category_bin(column, maps[node->feature], dict_counts[node->feature], row);
            left = bin == LEARN_MISSING_BIN ? node->default_left : learn_bin_set_has(&tree->cat_sets[node->cat_set], bin);
        } else {
            double x = column->values[row];
            left = isnan(x) ? node->default_left : x <= node->threshold;
        }
        i = left ? node->left : node->right;
    }
    return tree->nodes[i].value;
}

static double linear_value(const ln_model *model, const ln_column **columns, uint8_t *const *maps,
                           const int32_t *dict_counts, size_t row)
{
    double z = model->base_score;

    for (size_t f = 0; f < model->n_features; f++) {
        const learn_linear_feature *lf = &model->linear[f];
        if (model->features[f].type == LN_TYPE_CATEGORY) {
            z += lf->weights[category_bin(columns[f], maps[f], dict_counts[f], row)];
            continue;
        }
        double x = columns[f]->values[row];
        if (isnan(x)) {
            z += lf->weights[1];
        } else {
            double clamped = fmax(lf->min, fmin(x, lf->max));
            z += lf->weights[0] * (clamped - lf->mean) / lf->scale;
        }
    }
    return z;
}

void learn_predict_raw(const ln_model *model, const ln_column **columns, uint8_t *const *category_maps,
                       const int32_t *dict_counts, size_t begin, size_t end, double *raw)
{
    if (model->learner == LN_LEARNER_LINEAR) {
        for (size_t r = begin; r < end; r++)
            raw[r - begin] = linear_value(model, columns, category_maps, dict_counts, r);
        return;
    }

    for (size_t r = begin; r < end; r++)
        raw[r - begin] = model->base_score;
    for (int t = 0; t < model->n_trees; t++)
        for (size_t r = begin; r < end; r++)
            raw[r - begin] += tree_value(&model->trees[t], columns, category_maps, dict_counts, r);
}

typedef struct predict_job {
    const ln_model *model;
    const ln_column **columns;
    uint8_t **maps;
    const int32_t *dict_counts;
    size_t n_rows;
    double *scores;
} predict_job;

static void predict_task(void *context, size_t task)
{
    predict_job *job = context;
    size_t begin = task * PREDICT_BLOCK;
    size_t end = begin + PREDICT_BLOCK < job->n_rows ? begin + PREDICT_BLOCK : job->n_rows;

    learn_predict_raw(job->model, job->columns, job->maps, job->dict_counts, begin, end, job->scores + begin);
    for (size_t r = begin; r < end; r++)
        job->scores[r] = 1.0 / (1.0 + exp(-job->scores[r]));
}

ln_status ln_model_predict(const ln_model *model, const ln_table *data, double *scores, ln_error *err)
{
    size_t n = model->n_features;
    const ln_column **columns = calloc(n ? n : 1, sizeof *columns);
    uint8_t **maps = calloc(n ? n : 1, sizeof *maps);
    int32_t *dict_counts = calloc(n ? n : 1, sizeof *dict_counts);
    learn_pool *pool = NULL;
    ln_status status = LN_OK;

    if (columns == NULL || maps == NULL || dict_counts == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory");
        goto done;
    }
    status = learn_match_columns(model, data, "table", columns, err);
    for (size_t f = 0; f < n && status == LN_OK; f++)
        if (model->features[f].type == LN_TYPE_CATEGORY)
            status = learn_category_bin_map(&model->features[f], columns[f], &maps[f], err);
    if (status != LN_OK)
        goto done;
    for (size_t f = 0; f < n; f++)
        if (maps[f] != NULL)
            dict_counts[f] = columns[f]->dict != NULL ? ln_dict_count(columns[f]->dict) : 0;

    size_t n_blocks = (data->n_rows + PREDICT_BLOCK - 1) / PREDICT_BLOCK;
    pool = learn_pool_new(n_blocks > 1 ? 0 : 1);
    if (pool == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory starting prediction threads");
        goto done;
    }
    predict_job job = {model, columns, maps, dict_counts, data->n_rows, scores};
    learn_pool_run(pool, n_blocks, predict_task, &job);

done:
    learn_pool_free(pool);
    if (maps != NULL)
        for (size_t f = 0; f < n; f++)
            free(maps[f]);
    free(maps);
    free(dict_counts);
    free(columns);
    return status;
}
