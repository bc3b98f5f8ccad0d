/*
 * The model object: parameters, training entry point, accessors, feature
 * matching between a model and a table.
 */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "learn/learn_internal.h"
#include "lanner/limits.h"

static void flat_clear(flat_forest *flat);

void ln_train_params_default(ln_train_params *params)
{
    memset(params, 0, sizeof *params);
    params->learner = LN_LEARNER_GBDT;
    params->trees = 300;
    params->max_leaves = 31;
    params->max_depth = 0;
    params->learning_rate = 0.05;
    params->min_data_in_leaf = 20;
    params->min_sum_hessian = 1e-3;
    params->lambda_l1 = 0.0;
    params->lambda_l2 = 1.0;
    params->min_gain_to_split = 0.0;
    params->row_subsample = 1.0;
    params->feature_subsample = 1.0;
    params->max_bins = 255;
    params->min_category_rows = 10;
    params->cat_smooth = 10.0;
    params->cat_l2 = 10.0;
    params->min_data_per_category = 10;
    params->early_stopping_rounds = 50;
    params->linear_l2 = 1.0;
    params->seed = 7;
    params->threads = 0;
    params->objective = LN_OBJECTIVE_BINARY;
    params->n_classes = 0;
    params->scale_pos_weight = 1.0;
    params->monotone = NULL;
    params->calibration = LN_CALIBRATION_NONE;
    params->histograms = LN_HISTOGRAMS_AUTO;
}

ln_model *learn_model_new(ln_learner learner, size_t n_features, size_t n_outputs)
{
    ln_model *model = calloc(1, sizeof *model);
    if (model == NULL)
        return NULL;

    model->learner = learner;
    model->objective = LN_OBJECTIVE_BINARY;
    model->n_outputs = n_outputs;
    model->n_features = n_features;
    model->has_covers = 1;
    model->features = calloc(n_features ? n_features : 1, sizeof *model->features);
    model->base_scores = calloc(n_outputs ? n_outputs : 1, sizeof *model->base_scores);
    if (model->features == NULL || model->base_scores == NULL) {
        free(model->features);
        free(model->base_scores);
        free(model);
        return NULL;
    }
    return model;
}

void learn_feature_clear(learn_feature *feature)
{
    free(feature->name);
    free(feature->edges);
    for (int32_t i = 0; i < feature->n_categories; i++)
        free(feature->categories[i]);
    free(feature->categories);
    ln_dict_release(feature->category_dict);
    memset(feature, 0, sizeof *feature);
}

void learn_tree_clear(learn_tree *tree)
{
    free(tree->nodes);
    free(tree->cat_sets);
    memset(tree, 0, sizeof *tree);
}

void ln_model_free(ln_model *model)
{
    if (model == NULL)
        return;

    for (size_t f = 0; f < model->n_features; f++) {
        learn_feature_clear(&model->features[f]);
        if (model->linear != NULL)
            free(model->linear[f].weights);
    }
    free(model->features);
    free(model->linear);
    for (int t = 0; t < model->n_trees; t++)
        learn_tree_clear(&model->trees[t]);
    free(model->trees);
    flat_clear(&model->flat);
    free(model->base_scores);
    learn_calibration_clear(&model->calibration);
    free(model->metadata);
    free(model);
}

void learn_calibration_clear(learn_calibration *calibration)
{
    free(calibration->x);
    free(calibration->y);
    memset(calibration, 0, sizeof *calibration);
}

static void flat_clear(flat_forest *flat)
{
    free(flat->nodes);
    free(flat->values);
    free(flat->roots);
    free(flat->depths);
    free(flat->cat_sets);
    memset(flat, 0, sizeof *flat);
}

/*
 * Copies a tree into the flat arrays from *next_node, children side by
 * side, and returns its root. *depth receives its depth. queue and depths
 * have one entry per node of the tree.
 */
static uint32_t flatten_tree(flat_forest *flat, const learn_tree *tree, uint32_t *next_node, uint32_t set_base,
                             int32_t *queue, int32_t *depths, int32_t *depth)
{
    uint32_t root = (*next_node)++;
    int32_t head = 0, tail = 0;

    /* Breadth-first: queue[k] is the source node of flat node root + k. */
    *depth = 0;
    depths[0] = 0;
    queue[tail++] = 0;
    while (head < tail) {
        int32_t source = queue[head];
        const learn_node *node = &tree->nodes[source];
        uint32_t index = root + (uint32_t)head;
        flat_node *out = &flat->nodes[index];
        int32_t node_depth = depths[head];
        head++;

        flat->values[index] = 0.0;
        if (node->left < 0) {
            out->u.threshold = INFINITY;
            out->info = FLAT_LEAF | FLAT_DEFAULT_LEFT;
            out->left = index;
            flat->values[index] = node->value;
            *depth = node_depth > *depth ? node_depth : *depth;
            continue;
        }
        out->info = (uint32_t)node->feature | (node->default_left ? FLAT_DEFAULT_LEFT : 0);
        if (node->categorical) {
            out->info |= FLAT_CATEGORICAL;
            out->u.cat_set = set_base + node->cat_set;
        } else {
            out->u.threshold = node->threshold;
        }
        out->left = root + (uint32_t)tail;
        depths[tail] = depths[tail + 1] = node_depth + 1;
        queue[tail++] = node->left;
        queue[tail++] = node->right;
        *next_node += 2;
    }
    return root;
}

ln_status learn_model_prepare(ln_model *model, ln_error *err)
{
    flat_forest *flat = &model->flat;
    size_t n_nodes = 0, n_sets = 0;
    int32_t largest = 1;

    flat_clear(flat);
    for (int t = 0; t < model->n_trees; t++) {
        n_nodes += (size_t)model->trees[t].n_nodes;
        n_sets += (size_t)model->trees[t].n_cat_sets;
        largest = model->trees[t].n_nodes > largest ? model->trees[t].n_nodes : largest;
    }
    if (n_nodes > UINT32_MAX)
        return ln_error_set(err, LN_ERR_LIMIT, "the model's trees have %zu nodes; prediction handles up to %u",
                            n_nodes, UINT32_MAX);

    size_t n_trees = (size_t)(model->n_trees ? model->n_trees : 1);
    flat->nodes = malloc((n_nodes ? n_nodes : 1) * sizeof *flat->nodes);
    flat->values = malloc((n_nodes ? n_nodes : 1) * sizeof *flat->values);
    flat->roots = malloc(n_trees * sizeof *flat->roots);
    flat->depths = malloc(n_trees * sizeof *flat->depths);
    flat->cat_sets = malloc((n_sets ? n_sets : 1) * sizeof *flat->cat_sets);
    int32_t *queue = malloc((size_t)largest * sizeof *queue);
    int32_t *depths = malloc((size_t)largest * sizeof *depths);
    if (flat->nodes == NULL || flat->values == NULL || flat->roots == NULL || flat->depths == NULL ||
        flat->cat_sets == NULL || queue == NULL || depths == NULL) {
        free(queue);
        free(depths);
        flat_clear(flat);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory preparing %zu tree nodes for prediction", n_nodes);
    }

    uint32_t next_node = 0, next_set = 0;
    for (int t = 0; t < model->n_trees; t++) {
        const learn_tree *tree = &model->trees[t];
        if (tree->n_cat_sets > 0)
            memcpy(flat->cat_sets + next_set, tree->cat_sets, (size_t)tree->n_cat_sets * sizeof *tree->cat_sets);
        flat->roots[t] = flatten_tree(flat, tree, &next_node, next_set, queue, depths, &flat->depths[t]);
        next_set += (uint32_t)tree->n_cat_sets;
    }
    flat->n_trees = model->n_trees;
    free(queue);
    free(depths);
    return LN_OK;
}

/* Stores the training parameters worth showing with a model, by name. */
void learn_model_record_params(ln_model *model, const ln_train_params *params)
{
    const struct {
        const char *name;
        double value;
    } list[] = {
        {"trees", params->trees},
        {"max_leaves", params->max_leaves},
        {"max_depth", params->max_depth},
        {"learning_rate", params->learning_rate},
        {"min_data_in_leaf", params->min_data_in_leaf},
        {"min_sum_hessian", params->min_sum_hessian},
        {"lambda_l1", params->lambda_l1},
        {"lambda_l2", params->lambda_l2},
        {"min_gain_to_split", params->min_gain_to_split},
        {"row_subsample", params->row_subsample},
        {"feature_subsample", params->feature_subsample},
        {"max_bins", params->max_bins},
        {"min_category_rows", params->min_category_rows},
        {"cat_smooth", params->cat_smooth},
        {"cat_l2", params->cat_l2},
        {"min_data_per_category", params->min_data_per_category},
        {"early_stopping_rounds", params->early_stopping_rounds},
        {"linear_l2", params->linear_l2},
        {"seed", (double)params->seed},
        {"scale_pos_weight", params->scale_pos_weight},
        {"n_classes", params->objective == LN_OBJECTIVE_MULTICLASS ? params->n_classes : 0},
    };
    size_t n = sizeof list / sizeof list[0];

    model->n_params = 0;
    for (size_t i = 0; i < n && i < LEARN_MAX_PARAMS; i++) {
        if (params->learner == LN_LEARNER_LINEAR && strcmp(list[i].name, "linear_l2") != 0 &&
            strcmp(list[i].name, "scale_pos_weight") != 0 && strcmp(list[i].name, "min_category_rows") != 0)
            continue;
        if (params->learner == LN_LEARNER_GBDT && strcmp(list[i].name, "linear_l2") == 0)
            continue;
        if (params->objective != LN_OBJECTIVE_MULTICLASS && strcmp(list[i].name, "n_classes") == 0)
            continue;
        snprintf(model->params[model->n_params].name, sizeof model->params[0].name, "%s", list[i].name);
        model->params[model->n_params++].value = list[i].value;
    }
}

/* Takes ownership of categories (n strings) and indexes them in a dictionary. */
ln_status learn_feature_set_categories(learn_feature *feature, char **categories, int32_t n, ln_error *err)
{
    feature->categories = categories;
    feature->n_categories = n;
    feature->category_dict = ln_dict_new();
    if (feature->category_dict == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory indexing the categories of '%s'", feature->name);

    for (int32_t i = 0; i < n; i++) {
        int32_t code = ln_dict_intern(feature->category_dict, categories[i], strlen(categories[i]));
        if (code < 0)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory indexing the categories of '%s'",
                                feature->name);
        if (code != i)
            return ln_error_set(err, LN_ERR_CORRUPT, "feature '%s': category '%s' appears twice",
                                feature->name, categories[i]);
    }
    return LN_OK;
}

ln_status learn_match_columns(const ln_model *model, const ln_table *table, const char *what,
                              const ln_column **columns, ln_error *err)
{
    for (size_t f = 0; f < model->n_features; f++) {
        const learn_feature *feature = &model->features[f];
        int index = ln_table_find(table, feature->name);
        if (index < 0)
            return ln_error_set(err, LN_ERR_NOT_FOUND, "%s has no column '%s', a feature of the model", what,
                                feature->name);

        const ln_column *column = &table->cols[index];
        int want_category = feature->type == LN_TYPE_CATEGORY;
        /* A text column is accepted for a category feature because values are matched by string. */
        if (want_category && column->type != LN_TYPE_CATEGORY && column->type != LN_TYPE_TEXT)
            return ln_error_set(err, LN_ERR_DATA,
                                "%s: column '%s' is %s, but the model was trained on it as a category", what,
                                feature->name, ln_type_name(column->type));
        if (!want_category && !ln_type_is_numeric(column->type))
            return ln_error_set(err, LN_ERR_DATA,
                                "%s: column '%s' is %s, but the model was trained on it as a number "
                                "(convert the column to a numeric type)",
                                what, feature->name, ln_type_name(column->type));
        columns[f] = column;
    }
    return LN_OK;
}

ln_status learn_category_bin_map(const learn_feature *feature, const ln_column *column, uint8_t **map,
                                 ln_error *err)
{
    int32_t count = column->dict != NULL ? ln_dict_count(column->dict) : 0;
    uint8_t *bins = malloc((size_t)count + 1);
    if (bins == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory mapping the categories of '%s'", feature->name);

    /* bins[0] is for code -1 (missing), so callers index map[code + 1]. */
    bins[0] = LEARN_MISSING_BIN;
    for (int32_t code = 0; code < count; code++) {
        const char *text = ln_dict_string(column->dict, code);
        size_t length = ln_dict_string_length(column->dict, code);
        int32_t index = ln_dict_find(feature->category_dict, text, length);
        bins[code + 1] = index < 0 ? LEARN_OTHER_BIN : (uint8_t)(LEARN_FIRST_CATEGORY_BIN + index);
    }
    *map = bins;
    return LN_OK;
}

static ln_status check_objective_params(const ln_train_params *p, ln_error *err)
{
    if (p->objective != LN_OBJECTIVE_BINARY && p->objective != LN_OBJECTIVE_REGRESSION &&
        p->objective != LN_OBJECTIVE_MULTICLASS)
        return ln_error_set(err, LN_ERR_CONFIG, "unknown objective %d (expected binary, regression or multiclass)",
                            (int)p->objective);
    if (p->objective != LN_OBJECTIVE_BINARY && p->learner != LN_LEARNER_GBDT)
        return ln_error_set(err, LN_ERR_CONFIG, "the %s objective needs the gbdt learner; linear is binary only",
                            ln_objective_name(p->objective));
    if (p->objective == LN_OBJECTIVE_MULTICLASS && (p->n_classes < 3 || p->n_classes > LN_LEARN_MAX_CLASSES))
        return ln_error_set(err, LN_ERR_CONFIG,
                            "n_classes is %d; multiclass expects 3 to %d (use the binary objective for 2)",
                            p->n_classes, LN_LEARN_MAX_CLASSES);
    if (p->objective == LN_OBJECTIVE_MULTICLASS && (long long)p->trees * p->n_classes > LN_MAX_TREES)
        return ln_error_set(err, LN_ERR_CONFIG,
                            "%d rounds x %d classes make %lld trees; a model file holds at most %d (lower trees)",
                            p->trees, p->n_classes, (long long)p->trees * p->n_classes, LN_MAX_TREES);
    if (!(p->scale_pos_weight > 0 && isfinite(p->scale_pos_weight)))
        return ln_error_set(err, LN_ERR_CONFIG, "scale_pos_weight is %g; expected a finite number > 0",
                            p->scale_pos_weight);
    if (p->scale_pos_weight != 1.0 && p->objective != LN_OBJECTIVE_BINARY)
        return ln_error_set(err, LN_ERR_CONFIG, "scale_pos_weight applies to the binary objective only");
    if (p->calibration != LN_CALIBRATION_NONE && p->calibration != LN_CALIBRATION_ISOTONIC &&
        p->calibration != LN_CALIBRATION_SIGMOID)
        return ln_error_set(err, LN_ERR_CONFIG, "unknown calibration %d (expected none, isotonic or sigmoid)",
                            (int)p->calibration);
    if (p->calibration != LN_CALIBRATION_NONE && p->objective != LN_OBJECTIVE_BINARY)
        return ln_error_set(err, LN_ERR_CONFIG, "calibration applies to the binary objective only");
    return LN_OK;
}

static ln_status check_category_params(const ln_train_params *p, ln_error *err)
{
    if (p->min_category_rows < 1)
        return ln_error_set(err, LN_ERR_CONFIG, "min_category_rows is %d; expected at least 1 training row",
                            p->min_category_rows);
    if (!(p->cat_smooth >= 0 && isfinite(p->cat_smooth)))
        return ln_error_set(err, LN_ERR_CONFIG, "cat_smooth is %g; expected a finite number >= 0", p->cat_smooth);
    if (!(p->cat_l2 >= 0 && isfinite(p->cat_l2)))
        return ln_error_set(err, LN_ERR_CONFIG, "cat_l2 is %g; expected a finite number >= 0", p->cat_l2);
    if (p->min_data_per_category < 1)
        return ln_error_set(err, LN_ERR_CONFIG, "min_data_per_category is %d; expected at least 1 row",
                            p->min_data_per_category);
    return LN_OK;
}

static ln_status check_params(const ln_train_params *p, ln_error *err)
{
    if (p->learner != LN_LEARNER_GBDT && p->learner != LN_LEARNER_LINEAR)
        return ln_error_set(err, LN_ERR_CONFIG, "unknown learner %d (expected gbdt or linear)", (int)p->learner);
    if (p->trees < 1 || p->trees > LN_MAX_TREES)
        return ln_error_set(err, LN_ERR_CONFIG, "trees is %d; expected 1 to %d", p->trees, LN_MAX_TREES);
    if (p->max_leaves < 2 || p->max_leaves > 65536)
        return ln_error_set(err, LN_ERR_CONFIG, "max_leaves is %d; expected 2 to 65536", p->max_leaves);
    if (p->max_depth < 0 || p->max_depth > 64)
        return ln_error_set(err, LN_ERR_CONFIG, "max_depth is %d; expected 0 (no limit) to 64", p->max_depth);
    if (!(p->learning_rate > 0 && p->learning_rate <= 1))
        return ln_error_set(err, LN_ERR_CONFIG, "learning_rate is %g; expected a number in (0, 1]",
                            p->learning_rate);
    if (p->min_data_in_leaf < 1)
        return ln_error_set(err, LN_ERR_CONFIG, "min_data_in_leaf is %d; expected at least 1",
                            p->min_data_in_leaf);
    if (!(p->min_sum_hessian >= 0 && isfinite(p->min_sum_hessian)))
        return ln_error_set(err, LN_ERR_CONFIG, "min_sum_hessian is %g; expected a finite number >= 0",
                            p->min_sum_hessian);
    if (!(p->lambda_l1 >= 0 && isfinite(p->lambda_l1)) || !(p->lambda_l2 >= 0 && isfinite(p->lambda_l2)))
        return ln_error_set(err, LN_ERR_CONFIG, "lambda_l1 %g and lambda_l2 %g must be finite numbers >= 0",
                            p->lambda_l1, p->lambda_l2);
    if (!(p->min_gain_to_split >= 0 && isfinite(p->min_gain_to_split)))
        return ln_error_set(err, LN_ERR_CONFIG, "min_gain_to_split is %g; expected a finite number >= 0",
                            p->min_gain_to_split);
    if (!(p->row_subsample > 0 && p->row_subsample <= 1))
        return ln_error_set(err, LN_ERR_CONFIG, "row_subsample is %g; expected a fraction in (0, 1]",
                            p->row_subsample);
    if (!(p->feature_subsample > 0 && p->feature_subsample <= 1))
        return ln_error_set(err, LN_ERR_CONFIG, "feature_subsample is %g; expected a fraction in (0, 1]",
                            p->feature_subsample);
    if (p->max_bins < 2 || p->max_bins > LN_LEARN_MAX_BINS)
        return ln_error_set(err, LN_ERR_CONFIG, "max_bins is %d; expected 2 to %d", p->max_bins,
                            LN_LEARN_MAX_BINS);
    if (p->early_stopping_rounds < 0)
        return ln_error_set(err, LN_ERR_CONFIG, "early_stopping_rounds is %d; expected 0 (off) or more",
                            p->early_stopping_rounds);
    if (!(p->linear_l2 >= 0 && isfinite(p->linear_l2)))
        return ln_error_set(err, LN_ERR_CONFIG, "linear_l2 is %g; expected a finite number >= 0", p->linear_l2);
    if (p->histograms < LN_HISTOGRAMS_AUTO || p->histograms > LN_HISTOGRAMS_COLUMN_WISE)
        return ln_error_set(err, LN_ERR_CONFIG, "histograms is %d; expected auto (0), row-wise (1) or column-wise (2)",
                            (int)p->histograms);
    if (p->threads < 0 || p->threads > 1024)
        return ln_error_set(err, LN_ERR_CONFIG, "threads is %d; expected 0 (all cores) to 1024", p->threads);
    ln_status status = check_category_params(p, err);
    if (status != LN_OK)
        return status;
    return check_objective_params(p, err);
}

static ln_status check_class_labels(const double *labels, size_t n_rows, const char *what, int n_classes,
                                    int need_two, ln_error *err)
{
    double first = NAN;
    int two = 0;

    for (size_t i = 0; i < n_rows; i++) {
        double y = labels[i];
        if (!(y >= 0 && y < n_classes && y == floor(y)))
            return ln_error_set(err, LN_ERR_DATA, "%s label of row %zu is %g; expected a class index 0 to %d",
                                what, i + 1, y, n_classes - 1);
        if (i == 0)
            first = y;
        two |= y != first;
    }
    if (need_two && !two)
        return ln_error_set(err, LN_ERR_DATA, "%s labels are all %g; training needs at least two classes", what,
                            first);
    return LN_OK;
}

static ln_status check_regression_labels(const double *labels, size_t n_rows, const char *what, ln_error *err)
{
    for (size_t i = 0; i < n_rows; i++)
        if (!isfinite(labels[i]))
            return ln_error_set(err, LN_ERR_DATA, "%s label of row %zu is %g; expected a finite number", what,
                                i + 1, labels[i]);
    return LN_OK;
}

static ln_status check_binary_labels(const double *labels, size_t n_rows, const char *what, int need_both,
                                     ln_error *err)
{
    size_t positives = 0;

    for (size_t i = 0; i < n_rows; i++) {
        if (labels[i] != 0.0 && labels[i] != 1.0)
            return ln_error_set(err, LN_ERR_DATA, "%s label of row %zu is %g; expected 0 or 1", what, i + 1,
                                labels[i]);
        positives += labels[i] == 1.0;
    }
    if (need_both && (positives == 0 || positives == n_rows))
        return ln_error_set(err, LN_ERR_DATA, "%s labels are all %s; training needs both classes", what,
                            positives == 0 ? "0" : "1");
    return LN_OK;
}

static ln_status check_labels(const ln_train_params *params, const double *labels, size_t n_rows,
                              const char *what, int is_training, ln_error *err)
{
    if (params->objective == LN_OBJECTIVE_REGRESSION)
        return check_regression_labels(labels, n_rows, what, err);
    if (params->objective == LN_OBJECTIVE_MULTICLASS)
        return check_class_labels(labels, n_rows, what, params->n_classes, is_training, err);
    return check_binary_labels(labels, n_rows, what, is_training, err);
}

static ln_status check_weights(const ln_train_params *params, const double *weights, const double *labels,
                               size_t n_rows, ln_error *err)
{
    double sum = 0, positives = 0;

    if (weights == NULL)
        return LN_OK;
    for (size_t i = 0; i < n_rows; i++) {
        if (!(weights[i] >= 0 && isfinite(weights[i])))
            return ln_error_set(err, LN_ERR_DATA, "weight of training row %zu is %g; expected a finite number >= 0",
                                i + 1, weights[i]);
        sum += weights[i];
        positives += labels[i] == 1.0 ? weights[i] : 0.0;
    }
    if (!(sum > 0))
        return ln_error_set(err, LN_ERR_DATA, "training weights sum to 0; at least one row needs a positive weight");
    /* The base score is the log-odds of the weighted positive rate, which must be inside (0, 1). */
    if (params->objective == LN_OBJECTIVE_BINARY && (positives == 0 || positives == sum))
        return ln_error_set(err, LN_ERR_DATA, "every %s row has weight 0; training needs weight on both classes",
                            positives == 0 ? "positive" : "negative");
    return LN_OK;
}

/* Checks monotone constraints against the features once their types are known. */
static ln_status check_monotone(const ln_train_params *params, const ln_model *model, ln_error *err)
{
    if (params->monotone == NULL)
        return LN_OK;
    for (size_t f = 0; f < model->n_features; f++) {
        int direction = params->monotone[f];
        if (direction < -1 || direction > 1)
            return ln_error_set(err, LN_ERR_CONFIG, "monotone constraint of '%s' is %d; expected -1, 0 or 1",
                                model->features[f].name, direction);
        if (direction == 0)
            continue;
        if (params->learner != LN_LEARNER_GBDT)
            return ln_error_set(err, LN_ERR_CONFIG, "monotone constraints need the gbdt learner (feature '%s')",
                                model->features[f].name);
        if (model->features[f].type == LN_TYPE_CATEGORY)
            return ln_error_set(err, LN_ERR_CONFIG,
                                "feature '%s' is a category and cannot have a monotone constraint",
                                model->features[f].name);
    }
    return LN_OK;
}

/* Creates the model's feature list from the training columns. */
static ln_status setup_features(ln_model *model, const ln_table *train, const char *const *names,
                                const ln_column **columns, ln_error *err)
{
    for (size_t f = 0; f < model->n_features; f++) {
        if (names[f] == NULL)
            return ln_error_set(err, LN_ERR_CONFIG, "feature name %zu is NULL", f);
        for (size_t g = 0; g < f; g++)
            if (strcmp(names[f], names[g]) == 0)
                return ln_error_set(err, LN_ERR_CONFIG, "feature '%s' is listed twice", names[f]);

        int index = ln_table_find(train, names[f]);
        if (index < 0)
            return ln_error_set(err, LN_ERR_NOT_FOUND, "training table has no column '%s'", names[f]);
        const ln_column *column = &train->cols[index];
        if (column->type == LN_TYPE_TEXT)
            return ln_error_set(err, LN_ERR_DATA,
                                "column '%s' is text and cannot be a feature (convert it to a category)",
                                names[f]);

        model->features[f].name = strdup(names[f]);
        if (model->features[f].name == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory");
        model->features[f].type = column->type;
        columns[f] = column;
    }
    return LN_OK;
}

ln_status ln_model_train(const ln_train_params *params, const ln_table *train, const double *train_labels,
                         const char *const *feature_names, size_t n_features, const ln_table *valid,
                         const double *valid_labels, ln_model **out, ln_error *err)
{
    return ln_model_train_weighted(params, train, train_labels, NULL, feature_names, n_features, valid,
                                   valid_labels, out, err);
}

/* Runs the learner, then prepares prediction and fits the calibration the parameters request. */
static ln_status fit_model(const ln_train_params *params, ln_model *model, const ln_table *train,
                           const double *labels, const double *weights, const ln_column **columns,
                           const ln_table *valid, const double *valid_labels, learn_pool *pool, ln_error *err)
{
    ln_status status = check_monotone(params, model, err);
    if (status != LN_OK)
        return status;

    if (params->learner == LN_LEARNER_GBDT)
        status = gbdt_train(params, model, train, labels, weights, columns, valid, valid_labels, pool, err);
    else
        status = linear_train(params, model, train, labels, weights, columns, pool, err);
    if (status == LN_OK)
        status = learn_model_prepare(model, err);
    if (status == LN_OK && params->calibration != LN_CALIBRATION_NONE)
        status = ln_model_calibrate(model, valid, valid_labels, params->calibration, err);
    return status;
}

ln_status ln_model_train_weighted(const ln_train_params *params, const ln_table *train, const double *train_labels,
                                  const double *weights, const char *const *feature_names, size_t n_features,
                                  const ln_table *valid, const double *valid_labels, ln_model **out,
                                  ln_error *err)
{
    ln_train_params defaults;
    if (params == NULL) {
        ln_train_params_default(&defaults);
        params = &defaults;
    }
    *out = NULL;

    ln_status status = check_params(params, err);
    if (status != LN_OK)
        return status;
    if (train == NULL || train_labels == NULL || (n_features > 0 && feature_names == NULL))
        return ln_error_set(err, LN_ERR_CONFIG, "training table, labels and feature names are required");
    if (train->n_rows == 0)
        return ln_error_set(err, LN_ERR_DATA, "training table has no rows");
    if (train->n_rows > LN_LEARN_MAX_ROWS)
        return ln_error_set(err, LN_ERR_LIMIT, "training table has %zu rows; the limit is %u", train->n_rows,
                            LN_LEARN_MAX_ROWS);
    if (n_features == 0)
        return ln_error_set(err, LN_ERR_CONFIG, "no features given");
    if (n_features > LN_LEARN_MAX_FEATURES)
        return ln_error_set(err, LN_ERR_LIMIT, "%zu features; the limit is %d", n_features,
                            LN_LEARN_MAX_FEATURES);
    if ((valid == NULL) != (valid_labels == NULL))
        return ln_error_set(err, LN_ERR_CONFIG, "validation table and validation labels go together");
    if (params->calibration != LN_CALIBRATION_NONE && (valid == NULL || valid->n_rows == 0))
        return ln_error_set(err, LN_ERR_CONFIG, "calibration is fitted on the validation set, and none was given");

    status = check_labels(params, train_labels, train->n_rows, "training", 1, err);
    if (status == LN_OK)
        status = check_weights(params, weights, train_labels, train->n_rows, err);
    if (status == LN_OK && valid != NULL)
        status = check_labels(params, valid_labels, valid->n_rows, "validation", 0, err);
    if (status != LN_OK)
        return status;

    size_t n_outputs = params->objective == LN_OBJECTIVE_MULTICLASS ? (size_t)params->n_classes : 1;
    ln_model *model = learn_model_new(params->learner, n_features, n_outputs);
    const ln_column **columns = calloc(n_features, sizeof *columns);
    learn_pool *pool = learn_pool_new(params->threads);
    if (model == NULL || columns == NULL || pool == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory starting training");
        goto done;
    }

    model->objective = params->objective;
    learn_model_record_params(model, params);
    status = setup_features(model, train, feature_names, columns, err);
    if (status == LN_OK)
        status = fit_model(params, model, train, train_labels, weights, columns, valid, valid_labels, pool, err);

done:
    learn_pool_free(pool);
    free(columns);
    if (status != LN_OK) {
        ln_model_free(model);
        return status;
    }
    *out = model;
    return LN_OK;
}

size_t ln_model_feature_count(const ln_model *model)
{
    return model->n_features;
}

const char *ln_model_feature_name(const ln_model *model, size_t index)
{
    return index < model->n_features ? model->features[index].name : NULL;
}

ln_type ln_model_feature_type(const ln_model *model, size_t index)
{
    return index < model->n_features ? model->features[index].type : LN_TYPE_FLOAT;
}

ln_learner ln_model_learner(const ln_model *model)
{
    return model->learner;
}

int ln_model_tree_count(const ln_model *model)
{
    return model->n_trees;
}

ln_objective ln_model_objective(const ln_model *model)
{
    return model->objective;
}

const char *ln_objective_name(ln_objective objective)
{
    switch (objective) {
    case LN_OBJECTIVE_BINARY: return "binary";
    case LN_OBJECTIVE_REGRESSION: return "regression";
    case LN_OBJECTIVE_MULTICLASS: return "multiclass";
    }
    return "unknown";
}

size_t ln_model_output_count(const ln_model *model)
{
    return model->n_outputs;
}

int32_t ln_model_category_count(const ln_model *model, size_t feature)
{
    if (feature >= model->n_features || model->features[feature].type != LN_TYPE_CATEGORY)
        return 0;
    return model->features[feature].n_categories;
}

const char *ln_model_category(const ln_model *model, size_t feature, int32_t i)
{
    if (i < 0 || i >= ln_model_category_count(model, feature))
        return NULL;
    return model->features[feature].categories[i];
}

int32_t ln_model_tree_node_count(const ln_model *model, int tree)
{
    return tree >= 0 && tree < model->n_trees ? model->trees[tree].n_nodes : 0;
}

int ln_model_tree_node(const ln_model *model, int tree, int32_t node, ln_tree_node *out)
{
    if (node < 0 || node >= ln_model_tree_node_count(model, tree))
        return -1;

    const learn_tree *t = &model->trees[tree];
    const learn_node *n = &t->nodes[node];
    memset(out, 0, sizeof *out);
    out->left = n->left;
    out->right = n->right;
    out->feature = n->feature;
    out->categorical = n->categorical;
    out->default_left = n->default_left;
    out->threshold = n->threshold;
    if (n->left >= 0 && n->categorical)
        memcpy(out->category_bins, t->cat_sets[n->cat_set].words, sizeof out->category_bins);
    out->gain = n->gain;
    out->value = n->value;
    out->cover = n->cover;
    return 0;
}

void ln_model_feature_split_counts(const ln_model *model, uint64_t *counts)
{
    for (size_t f = 0; f < model->n_features; f++)
        counts[f] = 0;
    for (int t = 0; t < model->n_trees; t++) {
        const learn_tree *tree = &model->trees[t];
        for (int32_t i = 0; i < tree->n_nodes; i++)
            if (tree->nodes[i].feature >= 0)
                counts[tree->nodes[i].feature]++;
    }
}

size_t ln_model_param_count(const ln_model *model)
{
    return model->n_params;
}

const char *ln_model_param(const ln_model *model, size_t i, double *value)
{
    if (i >= model->n_params)
        return NULL;
    *value = model->params[i].value;
    return model->params[i].name;
}

ln_calibration ln_model_calibration(const ln_model *model)
{
    return model->calibration.method;
}

const char *ln_calibration_name(ln_calibration method)
{
    switch (method) {
    case LN_CALIBRATION_NONE: return "none";
    case LN_CALIBRATION_ISOTONIC: return "isotonic";
    case LN_CALIBRATION_SIGMOID: return "sigmoid";
    }
    return "unknown";
}

void ln_model_feature_importance(const ln_model *model, double *importance)
{
    double total = 0;

    for (size_t f = 0; f < model->n_features; f++)
        importance[f] = 0;

    if (model->learner == LN_LEARNER_GBDT) {
        for (int t = 0; t < model->n_trees; t++) {
            const learn_tree *tree = &model->trees[t];
            for (int32_t i = 0; i < tree->n_nodes; i++)
                if (tree->nodes[i].feature >= 0)
                    importance[tree->nodes[i].feature] += tree->nodes[i].gain;
        }
    } else if (model->linear != NULL) {
        for (size_t f = 0; f < model->n_features; f++)
            for (int w = 0; w < model->linear[f].n_weights; w++)
                importance[f] += fabs(model->linear[f].weights[w]);
    }

    for (size_t f = 0; f < model->n_features; f++)
        total += importance[f];
    if (total > 0)
        for (size_t f = 0; f < model->n_features; f++)
            importance[f] /= total;
}

ln_status ln_model_set_metadata(ln_model *model, const char *text, ln_error *err)
{
    char *copy = NULL;

    if (text != NULL) {
        size_t length = strlen(text);
        if (length > LN_LEARN_MAX_METADATA_BYTES)
            return ln_error_set(err, LN_ERR_LIMIT, "model metadata is %zu bytes; the limit is %u", length,
                                LN_LEARN_MAX_METADATA_BYTES);
        copy = strdup(text);
        if (copy == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory copying model metadata");
    }
    free(model->metadata);
    model->metadata = copy;
    return LN_OK;
}

const char *ln_model_metadata(const ln_model *model)
{
    return model->metadata != NULL ? model->metadata : "";
}
