/*
 * Per-row explanations of raw scores.
 *
 * Trees: path-dependent TreeSHAP (Lundberg, Erion and Lee 2018, Algorithm 2),
 * which computes exact Shapley values of the tree's conditional expectation
 * in O(leaves x depth^2) per tree. The walk keeps the "unique path" of split
 * features from the root to the current node, with two fractions per
 * feature. The zero fraction is the share of training rows (node covers)
 * that would follow this path if the feature were unknown. The one fraction
 * is 1 when the row being explained follows the path and 0 otherwise. Each
 * element also stores a weight: the sum, over subset sizes, of the Shapley weight times the
 * probability of reaching here. Extending the path adds a feature and
 * updates those weights in one pass. Unwinding removes a feature again, when
 * the same feature splits twice on one path, so that it appears once. At a
 * leaf, each feature's contribution is the unwound weight sum times
 * (one - zero) times the leaf value.
 *
 * The bias of a tree is its expected value under the same fractions:
 * E(node) = sum over the two children of cover(child) / cover(node) x E(child).
 * With that bias, contributions plus bias equal the tree's score for the row
 * up to rounding, whatever the covers are.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learn_internal.h"

/* Rows per explanation task. */
#define EXPLAIN_BLOCK 64

/* Rows explained on the calling thread before a batch uses every core. */
#define EXPLAIN_SINGLE_THREAD_ROWS 256

typedef struct path_element {
    int feature;          /* -1 for the root placeholder */
    double zero_fraction; /* share of covers following the path when the feature is unknown */
    double one_fraction;  /* 1 when the row follows the path, else 0 */
    double weight;
} path_element;

typedef struct shap_walk {
    const learn_tree *tree;
    const double *x;
    double *phi; /* n_features + 1 contributions of one output */
} shap_walk;

static int node_goes_left(const learn_tree *tree, const learn_node *node, double v)
{
    if (node->categorical) {
        unsigned bin = (unsigned)v;
        if (bin == LEARN_MISSING_BIN)
            return node->default_left;
        return learn_bin_set_has(&tree->cat_sets[node->cat_set], bin);
    }
    if (isnan(v))
        return node->default_left;
    return v <= node->threshold;
}

/* Appends a feature to a path of length elements and updates the weights of the path's subset sizes. */
static void extend_path(path_element *path, int length, double zero, double one, int feature)
{
    path[length].feature = feature;
    path[length].zero_fraction = zero;
    path[length].one_fraction = one;
    path[length].weight = length == 0 ? 1.0 : 0.0;

    for (int i = length - 1; i >= 0; i--) {
        path[i + 1].weight += one * path[i].weight * (i + 1) / (double)(length + 1);
        path[i].weight = zero * path[i].weight * (length - i) / (double)(length + 1);
    }
}

/* Removes element index from a path of length elements, undoing its extension. */
static void unwind_path(path_element *path, int length, int index)
{
    double one = path[index].one_fraction;
    double zero = path[index].zero_fraction;
    double next = path[length - 1].weight;

    for (int j = length - 2; j >= 0; j--) {
        if (one != 0) {
            double previous = path[j].weight;
            path[j].weight = next * length / ((j + 1) * one);
            next = previous - path[j].weight * zero * (length - 1 - j) / length;
        } else {
            path[j].weight = path[j].weight * length / (zero * (length - 1 - j));
        }
    }
    for (int j = index; j < length - 1; j++) {
        path[j].feature = path[j + 1].feature;
        path[j].zero_fraction = path[j + 1].zero_fraction;
        path[j].one_fraction = path[j + 1].one_fraction;
    }
}

/* Returns the sum of the weights the path would have after unwinding element index, without changing it. */
static double unwound_sum(const path_element *path, int length, int index)
{
    double one = path[index].one_fraction;
    double zero = path[index].zero_fraction;
    double next = path[length - 1].weight;
    double total = 0;

    for (int j = length - 2; j >= 0; j--) {
        if (one != 0) {
            double weight = next * length / ((j + 1) * one);
            total += weight;
            next = path[j].weight - weight * zero * (length - 1 - j) / length;
        } else {
            total += path[j].weight * length / (zero * (length - 1 - j));
        }
    }
    return total;
}

/*
 * Visits node_index with the parent's path (parent_length elements at
 * parent_path). This node's copy of the path goes right after the parent's,
 * so the scratch needs room for one path per level of the tree.
 */
static void shap_recurse(const shap_walk *walk, int32_t node_index, path_element *parent_path, int parent_length,
                         double zero, double one, int feature)
{
    const learn_tree *tree = walk->tree;
    const learn_node *node = &tree->nodes[node_index];
    path_element *path = parent_path + parent_length;

    memcpy(path, parent_path, (size_t)parent_length * sizeof *path);
    extend_path(path, parent_length, zero, one, feature);
    int length = parent_length + 1;

    if (node->left < 0) {
        for (int i = 1; i < length; i++) {
            double w = unwound_sum(path, length, i);
            walk->phi[path[i].feature] += w * (path[i].one_fraction - path[i].zero_fraction) * node->value;
        }
        return;
    }

    int left = node_goes_left(tree, node, walk->x[node->feature]);
    int32_t hot = left ? node->left : node->right;
    int32_t cold = left ? node->right : node->left;
    double hot_zero = tree->nodes[hot].cover / node->cover;
    double cold_zero = tree->nodes[cold].cover / node->cover;

    /* A feature already on the path is taken off, and its fractions carry into this split's. */
    double incoming_zero = 1.0, incoming_one = 1.0;
    for (int k = 1; k < length; k++) {
        if (path[k].feature != node->feature)
            continue;
        incoming_zero = path[k].zero_fraction;
        incoming_one = path[k].one_fraction;
        unwind_path(path, length, k);
        length--;
        break;
    }

    shap_recurse(walk, hot, path, length, hot_zero * incoming_zero, incoming_one, node->feature);
    shap_recurse(walk, cold, path, length, cold_zero * incoming_zero, 0.0, node->feature);
}

/* Returns the tree's expected value under its covers (see the file comment). */
static double tree_expected_value(const learn_tree *tree, int32_t node_index)
{
    const learn_node *node = &tree->nodes[node_index];
    if (node->left < 0)
        return node->value;

    const learn_node *left = &tree->nodes[node->left];
    const learn_node *right = &tree->nodes[node->right];
    return (left->cover * tree_expected_value(tree, node->left) +
            right->cover * tree_expected_value(tree, node->right)) /
           node->cover;
}

/*
 * Returns the number of edges on the longest root-to-leaf path. Children
 * always have higher indices than their parent (the trainer builds them so
 * and the loader checks it), so one pass in index order sets every depth
 * without recursion, however deep a hostile tree is.
 */
static int tree_depth(const learn_tree *tree, int32_t *depths)
{
    int deepest = 0;

    depths[0] = 0;
    for (int32_t i = 0; i < tree->n_nodes; i++) {
        const learn_node *node = &tree->nodes[i];
        if (node->left < 0)
            continue;
        depths[node->left] = depths[node->right] = depths[i] + 1;
        deepest = depths[i] + 1 > deepest ? depths[i] + 1 : deepest;
    }
    return deepest;
}

/*
 * The per-model part of an explanation: each output's bias and the scratch
 * size. It is computed after check_trees, so the recursions of
 * tree_expected_value and shap_recurse are at most
 * LN_LEARN_MAX_EXPLAIN_DEPTH calls deep.
 */
typedef struct explain_plan {
    double *bias; /* n_outputs */
    size_t scratch_elements;
} explain_plan;

static ln_status check_trees(const ln_model *model, int *max_depth, ln_error *err)
{
    *max_depth = 0;
    if (model->learner != LN_LEARNER_GBDT || model->n_trees == 0)
        return LN_OK;
    if (!model->has_covers)
        return ln_error_set(err, LN_ERR_CONFIG,
                            "the model file (format 1) stores no node covers, which explanations need; "
                            "retrain the model with this lanner to explain it");

    int32_t largest = 1;
    for (int t = 0; t < model->n_trees; t++)
        largest = model->trees[t].n_nodes > largest ? model->trees[t].n_nodes : largest;
    int32_t *depths = malloc((size_t)largest * sizeof *depths);
    if (depths == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory");

    ln_status status = LN_OK;
    for (int t = 0; t < model->n_trees && status == LN_OK; t++) {
        int depth = tree_depth(&model->trees[t], depths);
        if (depth > LN_LEARN_MAX_EXPLAIN_DEPTH)
            status = ln_error_set(err, LN_ERR_LIMIT, "tree %d is %d levels deep; explanations handle up to %d", t,
                                  depth, LN_LEARN_MAX_EXPLAIN_DEPTH);
        *max_depth = depth > *max_depth ? depth : *max_depth;
    }
    free(depths);
    return status;
}

static ln_status plan_explanation(const ln_model *model, explain_plan *plan, ln_error *err)
{
    int max_depth = 0;
    ln_status status = check_trees(model, &max_depth, err);
    if (status != LN_OK)
        return status;

    plan->bias = malloc(model->n_outputs * sizeof *plan->bias);
    if (plan->bias == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory");
    for (size_t k = 0; k < model->n_outputs; k++)
        plan->bias[k] = model->base_scores[k];
    if (model->learner == LN_LEARNER_GBDT)
        for (int t = 0; t < model->n_trees; t++)
            plan->bias[(size_t)t % model->n_outputs] += tree_expected_value(&model->trees[t], 0);

    /* One path per level, the path at depth d holding at most d + 1 elements. */
    size_t levels = (size_t)max_depth + 2;
    plan->scratch_elements = levels * (levels + 1) / 2;
    return LN_OK;
}

static void explain_linear_row(const ln_model *model, const double *x, double *phi)
{
    for (size_t f = 0; f < model->n_features; f++) {
        const learn_linear_feature *lf = &model->linear[f];
        if (model->features[f].type == LN_TYPE_CATEGORY) {
            phi[f] = lf->weights[(int)x[f]];
        } else if (isnan(x[f])) {
            phi[f] = lf->weights[1];
        } else {
            double clamped = fmax(lf->min, fmin(x[f], lf->max));
            phi[f] = lf->weights[0] * (clamped - lf->mean) / lf->scale;
        }
    }
}

/* Writes one row's n_outputs x (n_features + 1) values, using scratch of plan->scratch_elements elements. */
static void explain_row(const ln_model *model, const explain_plan *plan, const double *x, path_element *scratch,
                        double *out)
{
    size_t width = model->n_features + 1;

    memset(out, 0, model->n_outputs * width * sizeof *out);
    for (size_t k = 0; k < model->n_outputs; k++)
        out[k * width + model->n_features] = plan->bias[k];

    if (model->learner == LN_LEARNER_LINEAR) {
        explain_linear_row(model, x, out);
        return;
    }
    for (int t = 0; t < model->n_trees; t++) {
        shap_walk walk = {&model->trees[t], x, out + ((size_t)t % model->n_outputs) * width};
        shap_recurse(&walk, 0, scratch, 0, 1.0, 1.0, -1);
    }
}

typedef struct explain_job {
    const ln_model *model;
    const explain_plan *plan;
    const learn_input *input;
    double *out;
    int failed;
} explain_job;

static void explain_task(void *context, size_t task)
{
    explain_job *job = context;
    const ln_model *model = job->model;
    size_t begin = task * EXPLAIN_BLOCK;
    size_t end = begin + EXPLAIN_BLOCK < job->input->n_rows ? begin + EXPLAIN_BLOCK : job->input->n_rows;
    size_t n_features = model->n_features;
    size_t row_width = model->n_outputs * (n_features + 1);

    double *x = malloc(((end - begin) * n_features + 1) * sizeof *x);
    path_element *scratch = malloc(job->plan->scratch_elements * sizeof *scratch);
    if (x == NULL || scratch == NULL) {
        job->failed = 1;
        free(x);
        free(scratch);
        return;
    }

    learn_prepare_rows(model, job->input->columns, job->input->maps, job->input->dict_counts, begin, end, x);
    for (size_t r = begin; r < end; r++)
        explain_row(model, job->plan, x + (r - begin) * n_features, scratch, job->out + r * row_width);
    free(x);
    free(scratch);
}

ln_status ln_model_explain(const ln_model *model, const ln_table *data, double *contributions, ln_error *err)
{
    explain_plan plan = {0};
    learn_input input;
    learn_pool *pool = NULL;

    memset(&input, 0, sizeof input);
    ln_status status = plan_explanation(model, &plan, err);
    if (status == LN_OK)
        status = learn_input_open(model, data, &input, err);
    if (status != LN_OK)
        goto done;

    pool = learn_pool_new(data->n_rows > EXPLAIN_SINGLE_THREAD_ROWS ? 0 : 1);
    if (pool == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory starting explanation threads");
        goto done;
    }
    explain_job job = {model, &plan, &input, contributions, 0};
    learn_pool_run(pool, (data->n_rows + EXPLAIN_BLOCK - 1) / EXPLAIN_BLOCK, explain_task, &job);
    if (job.failed)
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory explaining %zu rows", data->n_rows);

done:
    learn_pool_free(pool);
    learn_input_close(model, &input);
    free(plan.bias);
    return status;
}
