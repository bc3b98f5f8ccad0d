/*
 * Split search on one feature's histogram, for the binary log-loss
 * objective. A child with gradient sum G and hessian sum H scores
 * T(G)^2 / (H + lambda_l2), T being the L1 soft threshold; a split's gain is
 * left + right - parent (no factor 1/2, as in LightGBM and XGBoost), and it
 * must exceed min_gain_to_split.
 *
 * Monotone constraints (the basic method of LightGBM): each leaf carries a
 * range [lower, upper] for its weight. A split's child weights are clamped
 * to that range and its gain is computed at the clamped weights; on a
 * constrained feature, a split whose left weight exceeds the right one (for
 * +1) is skipped. The grower then narrows the children's ranges at the
 * midpoint of the two weights, so every leaf under the left child stays
 * below every leaf under the right one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn/learn_internal.h"

gbdt_split_params gbdt_split_params_from(const ln_train_params *params)
{
    gbdt_split_params split = {
        .lambda_l1 = params->lambda_l1,
        .lambda_l2 = params->lambda_l2,
        .min_sum_hessian = params->min_sum_hessian,
        .min_data_in_leaf = params->min_data_in_leaf,
        .min_gain_to_split = params->min_gain_to_split,
        .cat_smooth = params->cat_smooth,
        .cat_l2 = params->cat_l2,
        .min_data_per_category = params->min_data_per_category,
    };
    return split;
}

static double soft_threshold(double g, double l1)
{
    if (g > l1)
        return g - l1;
    if (g < -l1)
        return g + l1;
    return 0.0;
}

static double child_score(double g, double h, double l1, double l2)
{
    double t = soft_threshold(g, l1);
    return t * t / (h + l2);
}

double gbdt_leaf_weight(double g, double h, const gbdt_split_params *params)
{
    double denominator = h + params->lambda_l2;
    if (denominator <= 0)
        return 0.0;
    return -soft_threshold(g, params->lambda_l1) / denominator;
}

/* Twice the loss reduction of a leaf holding weight w: -(2 (G w + l1 |w|) + (H + l2) w^2). */
static double output_score(double g, double h, double l1, double l2, double w)
{
    return -(2.0 * (g * w + l1 * fabs(w)) + (h + l2) * w * w);
}

static double clamp_to(double w, const gbdt_bounds *bounds)
{
    if (w < bounds->lower)
        return bounds->lower;
    if (w > bounds->upper)
        return bounds->upper;
    return w;
}

static double weight_with_l2(double g, double h, double l1, double l2)
{
    double denominator = h + l2;
    return denominator > 0 ? -soft_threshold(g, l1) / denominator : 0.0;
}

double gbdt_bounded_weight(double g, double h, const gbdt_split_params *params, const gbdt_bounds *bounds)
{
    double w = gbdt_leaf_weight(g, h, params);
    return bounds != NULL ? clamp_to(w, bounds) : w;
}

static gbdt_bin bin_add(gbdt_bin a, gbdt_bin b)
{
    gbdt_bin sum = {a.g + b.g, a.h + b.h, a.n + b.n};
    return sum;
}

static gbdt_bin bin_sub(gbdt_bin a, gbdt_bin b)
{
    gbdt_bin difference = {a.g - b.g, a.h - b.h, a.n - b.n};
    return difference;
}

static int children_allowed(const gbdt_bin *left, const gbdt_bin *right, const gbdt_split_params *params)
{
    return left->n >= params->min_data_in_leaf && right->n >= params->min_data_in_leaf &&
           left->h >= params->min_sum_hessian && right->h >= params->min_sum_hessian;
}

/*
 * Scores one candidate: left and right already hold every row, missing ones
 * included. Returns the gain, or -INFINITY when a child is too small.
 */
static double split_gain(const gbdt_bin *left, const gbdt_bin *right, double parent_score, double l2,
                         const gbdt_split_params *params)
{
    if (!children_allowed(left, right, params))
        return -INFINITY;
    return child_score(left->g, left->h, params->lambda_l1, l2) +
           child_score(right->g, right->h, params->lambda_l1, l2) - parent_score;
}

static int improves(double gain, const gbdt_split *best, const gbdt_split_params *params)
{
    return gain > best->gain && gain > params->min_gain_to_split;
}

/* The parent's score: unclamped without bounds, else at its clamped weight. */
static double parent_score(const gbdt_bin *total, double l2, const gbdt_split_params *params,
                           const gbdt_bounds *bounds)
{
    if (bounds == NULL)
        return child_score(total->g, total->h, params->lambda_l1, l2);
    double w = clamp_to(weight_with_l2(total->g, total->h, params->lambda_l1, l2), bounds);
    return output_score(total->g, total->h, params->lambda_l1, l2, w);
}

/*
 * Scores a candidate under bounds: clamps both weights, rejects a pair
 * against the direction, and stores the weights in *left_w and *right_w.
 */
static double bounded_gain(const gbdt_bin *left, const gbdt_bin *right, double parent, double l2,
                           const gbdt_split_params *params, const gbdt_bounds *bounds, double *left_w,
                           double *right_w)
{
    *left_w = *right_w = 0.0;
    if (!children_allowed(left, right, params))
        return -INFINITY;
    *left_w = clamp_to(weight_with_l2(left->g, left->h, params->lambda_l1, l2), bounds);
    *right_w = clamp_to(weight_with_l2(right->g, right->h, params->lambda_l1, l2), bounds);
    if ((bounds->direction > 0 && *left_w > *right_w) || (bounds->direction < 0 && *left_w < *right_w))
        return -INFINITY;
    return output_score(left->g, left->h, params->lambda_l1, l2, *left_w) +
           output_score(right->g, right->h, params->lambda_l1, l2, *right_w) - parent;
}

/* Scores a candidate with or without bounds; fills the children's weights. */
static double candidate_gain(const gbdt_bin *left, const gbdt_bin *right, double parent, double l2,
                             const gbdt_split_params *params, const gbdt_bounds *bounds, double *left_w,
                             double *right_w)
{
    if (bounds != NULL)
        return bounded_gain(left, right, parent, l2, params, bounds, left_w, right_w);
    *left_w = weight_with_l2(left->g, left->h, params->lambda_l1, l2);
    *right_w = weight_with_l2(right->g, right->h, params->lambda_l1, l2);
    return split_gain(left, right, parent, l2, params);
}

void gbdt_best_numeric_split(const gbdt_bin *hist, int n_bins, const gbdt_bin *total, int feature,
                             const gbdt_split_params *params, const gbdt_bounds *bounds, gbdt_split *best)
{
    const gbdt_bin missing = hist[LEARN_MISSING_BIN];
    double l2 = params->lambda_l2;
    double parent = parent_score(total, l2, params, bounds);
    gbdt_bin cumulative = {0, 0, 0};
    double left_w, right_w;

    for (int b = 1; b < n_bins - 1; b++) {
        cumulative = bin_add(cumulative, hist[b]);
        if (hist[b].n == 0)
            continue;

        /* Missing rows to the right. */
        gbdt_bin left = cumulative;
        gbdt_bin right = bin_sub(*total, left);
        double gain = candidate_gain(&left, &right, parent, l2, params, bounds, &left_w, &right_w);
        if (improves(gain, best, params)) {
            /* Without missing rows in this node, unseen missing values follow the larger child. */
            int default_left = missing.n == 0 && left.n >= right.n;
            *best = (gbdt_split){gain, feature, 0, b, default_left, {{0}}, left, right, left_w, right_w};
        }

        if (missing.n == 0)
            continue;
        left = bin_add(cumulative, missing);
        right = bin_sub(*total, left);
        gain = candidate_gain(&left, &right, parent, l2, params, bounds, &left_w, &right_w);
        if (improves(gain, best, params))
            *best = (gbdt_split){gain, feature, 0, b, 1, {{0}}, left, right, left_w, right_w};
    }

    /*
     * Every value left, missing right: the split "is the value present?".
     * Missing values have no order, so this split is allowed on a
     * constrained feature with any pair of weights.
     */
    if (missing.n > 0 && n_bins >= 2) {
        gbdt_bin left = bin_sub(*total, missing);
        gbdt_bounds free_bounds;
        const gbdt_bounds *presence_bounds = bounds;
        if (bounds != NULL) {
            free_bounds = *bounds;
            free_bounds.direction = 0;
            presence_bounds = &free_bounds;
        }
        double gain = candidate_gain(&left, &missing, parent, l2, params, presence_bounds, &left_w, &right_w);
        if (improves(gain, best, params))
            *best = (gbdt_split){gain, feature, 0, n_bins - 1, 0, {{0}}, left, missing, left_w, right_w};
    }
}

typedef struct ordered_bin {
    int bin;
    double ratio;
} ordered_bin;

static int compare_ratio(const void *a, const void *b)
{
    const ordered_bin *x = a;
    const ordered_bin *y = b;
    if (x->ratio != y->ratio)
        return x->ratio < y->ratio ? -1 : 1;
    return x->bin - y->bin;
}

/*
 * Evaluates the prefix splits of the ordered categories, prefixes taken
 * from the front (direction +1) or from the back (-1). Categories outside
 * the order (too rare in this node) always go right.
 */
static void scan_category_prefixes(const gbdt_bin *hist, const ordered_bin *order, int m, int direction,
                                   const gbdt_bin *total, int feature, double parent, double l2,
                                   const gbdt_split_params *params, const gbdt_bounds *bounds, gbdt_split *best)
{
    const gbdt_bin missing = hist[LEARN_MISSING_BIN];
    gbdt_bin cumulative = {0, 0, 0};
    double left_w, right_w;

    for (int k = 0; k < m - 1; k++) {
        int index = direction > 0 ? k : m - 1 - k;
        cumulative = bin_add(cumulative, hist[order[index].bin]);

        for (int missing_left = 0; missing_left <= (missing.n > 0); missing_left++) {
            gbdt_bin left = missing_left ? bin_add(cumulative, missing) : cumulative;
            gbdt_bin right = bin_sub(*total, left);
            double gain = candidate_gain(&left, &right, parent, l2, params, bounds, &left_w, &right_w);
            if (!improves(gain, best, params))
                continue;

            gbdt_split split = {gain, feature, 1, 0, missing_left, {{0}}, left, right, left_w, right_w};
            if (missing.n == 0)
                split.default_left = left.n >= right.n;
            for (int j = 0; j <= k; j++)
                learn_bin_set_add(&split.left_bins, (unsigned)order[direction > 0 ? j : m - 1 - j].bin);
            *best = split;
        }
    }
}

/*
 * Categorical split in the manner of LightGBM: order the categories by
 * G / (H + cat_smooth), which for a convex loss puts the best binary
 * partition among the prefixes of that order (Fisher 1958 for squared
 * error), then scan the prefixes. The smoothing keeps a category with few
 * rows away from the ends of the order, and cat_l2 penalises the freedom
 * of choosing any subset, which can fit noise.
 */
void gbdt_best_category_split(const gbdt_bin *hist, int n_bins, const gbdt_bin *total, int feature,
                              const gbdt_split_params *params, const gbdt_bounds *bounds, gbdt_split *best)
{
    ordered_bin order[256];
    int m = 0;

    for (int b = 1; b < n_bins; b++) {
        if (hist[b].n < params->min_data_per_category)
            continue;
        /* Zero hessian and zero smoothing (all rows weighted 0) would give 0 / 0. */
        double denominator = hist[b].h + params->cat_smooth;
        order[m].bin = b;
        order[m].ratio = denominator > 0 ? hist[b].g / denominator : 0.0;
        m++;
    }
    if (m < 2)
        return;
    qsort(order, (size_t)m, sizeof *order, compare_ratio);

    /* Category features cannot be constrained, so only the range applies. */
    gbdt_bounds free_bounds;
    if (bounds != NULL) {
        free_bounds = *bounds;
        free_bounds.direction = 0;
        bounds = &free_bounds;
    }
    double l2 = params->lambda_l2 + params->cat_l2;
    double parent = parent_score(total, l2, params, bounds);
    scan_category_prefixes(hist, order, m, +1, total, feature, parent, l2, params, bounds, best);
    scan_category_prefixes(hist, order, m, -1, total, feature, parent, l2, params, bounds, best);
}
