/*
 * Internals shared by the learn module's files: the model's in-memory form,
 * feature binning, the thread pool and the two trainers.
 *
 * Every feature maps a value to a bin index (uint8):
 *   numeric:  bin 0 = missing, bin j+1 = values in (edges[j-1], edges[j]],
 *             the last edge being +inf;
 *   category: bin 0 = missing, bin 1 = rare or unseen categories,
 *             bin 2 + i = the i-th kept category (model->features[f].categories[i]).
 */
#ifndef LANNER_LEARN_INTERNAL_H
#define LANNER_LEARN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lanner/model.h"
#include "lanner/table.h"

#define LEARN_MISSING_BIN 0
#define LEARN_OTHER_BIN 1
#define LEARN_FIRST_CATEGORY_BIN 2

/* Rows drawn to choose the quantile bin edges of a numeric feature. */
#define LEARN_BIN_SAMPLE_ROWS 200000

typedef struct learn_feature {
    char *name;
    ln_type type;           /* LN_TYPE_CATEGORY or a numeric type */
    int n_bins;             /* bins including bin 0, at most 256 */
    double *edges;          /* numeric: n_bins - 1 upper edges, the last +inf */
    int32_t n_categories;   /* category: kept categories */
    char **categories;      /* category: n_categories strings, bin 2 + i each */
    ln_dict *category_dict; /* category: the same strings, code i = categories[i] */
} learn_feature;

/* Bitset over the 256 possible bins of a categorical split: bins in the set go left. */
typedef struct learn_bin_set {
    uint64_t words[4];
} learn_bin_set;

static inline int learn_bin_set_has(const learn_bin_set *set, unsigned bin)
{
    return (int)((set->words[bin >> 6] >> (bin & 63)) & 1u);
}

static inline void learn_bin_set_add(learn_bin_set *set, unsigned bin)
{
    set->words[bin >> 6] |= (uint64_t)1 << (bin & 63);
}

/*
 * A tree node. Internal nodes have left > own index and right > own index,
 * which the loader checks so that a file cannot hold a cycle.
 */
typedef struct learn_node {
    int32_t left;          /* child index, -1 for a leaf */
    int32_t right;         /* child index, -1 for a leaf */
    int32_t feature;       /* feature index, -1 for a leaf */
    uint8_t default_left;  /* missing values go left */
    uint8_t categorical;   /* split on cat_sets[cat_set] rather than threshold */
    uint16_t split_bin;    /* numeric: bins 1..split_bin go left (training only, not saved) */
    uint32_t cat_set;      /* categorical: index into the tree's cat_sets */
    double threshold;      /* numeric: value <= threshold goes left */
    double value;          /* leaf: score added, learning rate applied */
    double gain;           /* internal: loss reduction of the split */
    double cover;          /* training rows that reached the node (NaN when loaded from a format-1 file) */
} learn_node;

typedef struct learn_tree {
    int32_t n_nodes;
    learn_node *nodes;
    int32_t n_cat_sets;
    learn_bin_set *cat_sets;
} learn_tree;

/* Logistic regression weights for one feature, on standardised values. */
typedef struct learn_linear_feature {
    double mean, scale;      /* numeric: z = (clamp(x) - mean) / scale */
    double min, max;         /* numeric: training range used to clamp */
    double *weights;         /* numeric: [weight, missing weight]; category: one per bin (n_bins) */
    int n_weights;
} learn_linear_feature;

/*
 * The prediction form of every tree, built by learn_model_prepare: one array
 * of 16-byte nodes for all trees, children side by side (right = left + 1),
 * so a row walks a tree through a third of the bytes of learn_node. A leaf
 * is a node that sends every value left to itself (threshold +inf, missing
 * values left). So a walk of exactly the tree's depth ends on the row's leaf
 * whatever its path, and rows can walk a tree in lockstep without branching
 * on the shape. Leaf values are in a separate array.
 */
typedef struct flat_node {
    union {
        double threshold; /* numeric split; +inf for a leaf */
        uint64_t cat_set; /* categorical split: index into flat_forest.cat_sets */
    } u;
    uint32_t info;        /* feature index | FLAT_CATEGORICAL | FLAT_DEFAULT_LEFT | FLAT_LEAF */
    uint32_t left;        /* index of the left child in flat_forest.nodes; a leaf's own index */
} flat_node;

#define FLAT_FEATURE_MASK 0x00ffffffu
#define FLAT_CATEGORICAL 0x20000000u
#define FLAT_DEFAULT_LEFT 0x40000000u
#define FLAT_LEAF 0x80000000u

typedef struct flat_forest {
    flat_node *nodes;
    double *values;          /* per node: the leaf value (0 for splits) */
    uint32_t *roots;         /* per tree: index of its root in nodes */
    int32_t *depths;         /* per tree: edges on its longest root-to-leaf path */
    learn_bin_set *cat_sets; /* every tree's category sets */
    int n_trees;
} flat_forest;

/* A fitted calibration of binary probabilities. */
typedef struct learn_calibration {
    ln_calibration method;
    double a, b;             /* sigmoid: P = 1 / (1 + exp(-(a * raw + b))) */
    size_t n_points;         /* isotonic: points (x ascending, y non-decreasing) */
    double *x, *y;
} learn_calibration;

/* A training parameter kept in the model for display. */
typedef struct learn_param {
    char name[32];
    double value;
} learn_param;

#define LEARN_MAX_PARAMS 64

struct ln_model {
    ln_learner learner;
    ln_objective objective;
    size_t n_outputs;        /* raw scores per row: n_classes for multiclass, else 1 */
    size_t n_features;
    learn_feature *features;
    double *base_scores;     /* n_outputs raw scores before trees or the intercept */

    int n_trees;             /* multiclass: tree t belongs to output t % n_outputs */
    learn_tree *trees;
    int has_covers;          /* node covers known (not a format-1 file) */
    flat_forest flat;

    learn_linear_feature *linear; /* n_features entries for LN_LEARNER_LINEAR */

    learn_calibration calibration;
    learn_param params[LEARN_MAX_PARAMS];
    size_t n_params;

    char *metadata;
};

/* model.c */

/* Creates an empty model with n_outputs base scores set to 0. */
ln_model *learn_model_new(ln_learner learner, size_t n_features, size_t n_outputs);

/* Builds model->flat from model->trees; called once trees are final (after training or loading). */
ln_status learn_model_prepare(ln_model *model, ln_error *err);

/* Stores the training parameters worth showing in model->params. */
void learn_model_record_params(ln_model *model, const ln_train_params *params);

/*
 * Writes the prepared values of rows [begin, end) of columns into x,
 * row-major (end - begin) x n_features: numeric values as they are (NaN
 * missing), category features as their bin number (0 missing).
 */
void learn_prepare_rows(const ln_model *model, const ln_column **columns, uint8_t *const *category_maps,
                        const int32_t *dict_counts, size_t begin, size_t end, double *x);

/* Returns the raw score of tree t for a prepared row. */
double learn_tree_score(const ln_model *model, int t, const double *x);

/* Writes the n_outputs raw scores of a prepared row. */
void learn_row_raw(const ln_model *model, const double *x, double *raw);

/* Turns n_outputs raw scores into the model's outputs in place (link function, then calibration). */
void learn_raw_to_probability(const ln_model *model, double *values);

/* Applies the binary calibration to P(label = 1) computed from raw log-odds. */
double learn_calibrate_probability(const learn_calibration *calibration, double raw, double p);

void learn_calibration_clear(learn_calibration *calibration);
void learn_feature_clear(learn_feature *feature);
void learn_tree_clear(learn_tree *tree);
ln_status learn_feature_set_categories(learn_feature *feature, char **categories, int32_t n,
                                       ln_error *err);

/*
 * Finds each model feature in table and checks its type: fills columns
 * (n_features pointers into table). what names the table in messages.
 */
ln_status learn_match_columns(const ln_model *model, const ln_table *table, const char *what,
                              const ln_column **columns, ln_error *err);

/*
 * Builds, for a category column, the map from the column's dictionary codes
 * to the feature's bins (missing and unseen handled). The caller frees *map.
 */
ln_status learn_category_bin_map(const learn_feature *feature, const ln_column *column, uint8_t **map,
                                 ln_error *err);

/* bins.c */
ln_status learn_build_numeric_bins(learn_feature *feature, const double *values, size_t n_rows, int max_bins,
                                   uint64_t seed, ln_error *err);
ln_status learn_build_category_bins(learn_feature *feature, const ln_column *column, size_t n_rows,
                                    int max_categories, int min_rows, ln_error *err);

/* Returns the bin of a numeric value (NaN is bin 0). */
uint8_t learn_numeric_bin(const learn_feature *feature, double value);

/* rng: splitmix64 stream, enough for sampling. */
typedef struct learn_rng {
    uint64_t state;
} learn_rng;

void learn_rng_seed(learn_rng *rng, uint64_t seed, uint64_t stream);
uint64_t learn_rng_next(learn_rng *rng);
double learn_rng_uniform(learn_rng *rng); /* [0, 1) */

/* pool.c: a fixed set of worker threads running numbered tasks. */
typedef struct learn_pool learn_pool;
typedef void (*learn_task_fn)(void *context, size_t task);

/* threads 0 means all cores; threads 1 runs tasks on the calling thread. */
learn_pool *learn_pool_new(int threads);
void learn_pool_free(learn_pool *pool);
int learn_pool_threads(const learn_pool *pool);

/*
 * Runs fn(context, task) for task in [0, n_tasks), spread over the workers
 * and the caller, and returns when all are done. Tasks must write disjoint
 * outputs; which thread runs which task varies from run to run.
 */
void learn_pool_run(learn_pool *pool, size_t n_tasks, learn_task_fn fn, void *context);

/* gbdt.c; weights may be NULL (all 1). */
ln_status gbdt_train(const ln_train_params *params, ln_model *model, const ln_table *train, const double *labels,
                     const double *weights, const ln_column **train_columns, const ln_table *valid,
                     const double *valid_labels, learn_pool *pool, ln_error *err);

/* A histogram bin: sums over the rows whose value falls in the bin. */
typedef struct gbdt_bin {
    double g;  /* sum of gradients */
    double h;  /* sum of hessians */
    int64_t n; /* rows */
} gbdt_bin;

typedef struct gbdt_split_params {
    double lambda_l1, lambda_l2;
    double min_sum_hessian;
    int64_t min_data_in_leaf;
    double min_gain_to_split;
    double cat_smooth;             /* added to a category's hessian sum when sorting categories */
    double cat_l2;                 /* added to lambda_l2 when scoring a category split */
    int64_t min_data_per_category; /* rows a category needs in the node to be sorted */
} gbdt_split_params;

/* Copies the split search settings out of the training parameters. */
gbdt_split_params gbdt_split_params_from(const ln_train_params *params);

/*
 * Monotone constraint state of a leaf: its output must stay in
 * [lower, upper]; direction (+1, -1 or 0) is that of the feature being
 * scanned.
 */
typedef struct gbdt_bounds {
    double lower, upper;
    int direction;
} gbdt_bounds;

typedef struct gbdt_split {
    double gain;        /* 0 or less: no valid split */
    int feature;
    int categorical;
    int split_bin;      /* numeric: bins 1..split_bin go left */
    int default_left;
    learn_bin_set left_bins; /* categorical */
    gbdt_bin left, right;    /* sums of each child, missing rows included */
    double left_output, right_output; /* children's leaf weights, clamped to the bounds */
} gbdt_split;

/*
 * Finds the best split of one feature's histogram (n_bins bins, bin 0 the
 * missing bin); fills best only when the split beats best->gain. bounds is
 * NULL without monotone constraints. With bounds, child weights are clamped
 * to [lower, upper] and gains are computed at the clamped weights. A split
 * whose weights go against direction is then skipped.
 */
void gbdt_best_numeric_split(const gbdt_bin *hist, int n_bins, const gbdt_bin *total, int feature,
                             const gbdt_split_params *params, const gbdt_bounds *bounds, gbdt_split *best);
void gbdt_best_category_split(const gbdt_bin *hist, int n_bins, const gbdt_bin *total, int feature,
                              const gbdt_split_params *params, const gbdt_bounds *bounds, gbdt_split *best);

/* Returns the leaf weight clamped to bounds (bounds may be NULL). */
double gbdt_bounded_weight(double g, double h, const gbdt_split_params *params, const gbdt_bounds *bounds);

/* Leaf weight -T(G) / (H + lambda_l2), T the L1 soft threshold (learning rate not applied). */
double gbdt_leaf_weight(double g, double h, const gbdt_split_params *params);

/* linear.c; weights may be NULL (all 1). */
ln_status linear_train(const ln_train_params *params, ln_model *model, const ln_table *train, const double *labels,
                       const double *weights, const ln_column **train_columns, learn_pool *pool, ln_error *err);

/*
 * predict.c: matched columns and category maps of a table, shared by
 * prediction and explanation.
 */
typedef struct learn_input {
    const ln_column **columns;
    uint8_t **maps;
    int32_t *dict_counts;
    size_t n_rows;
} learn_input;

ln_status learn_input_open(const ln_model *model, const ln_table *data, learn_input *input, ln_error *err);
void learn_input_close(const ln_model *model, learn_input *input);

#endif
