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

/* A category needs this many training rows to get its own bin; rarer ones share bin 1. */
#define LEARN_MIN_CATEGORY_ROWS 10

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

struct ln_model {
    ln_learner learner;
    size_t n_features;
    learn_feature *features;
    double base_score;       /* raw score before trees or the intercept */

    int n_trees;
    learn_tree *trees;

    learn_linear_feature *linear; /* n_features entries for LN_LEARNER_LINEAR */

    char *metadata;
};

/* model.c */
ln_model *learn_model_new(ln_learner learner, size_t n_features);
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
                                    int max_categories, ln_error *err);

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

/* gbdt.c */
ln_status gbdt_train(const ln_train_params *params, ln_model *model, const ln_table *train, const double *labels,
                     const ln_column **train_columns, const ln_table *valid, const double *valid_labels,
                     learn_pool *pool, ln_error *err);

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
} gbdt_split_params;

typedef struct gbdt_split {
    double gain;        /* 0 or less: no valid split */
    int feature;
    int categorical;
    int split_bin;      /* numeric: bins 1..split_bin go left */
    int default_left;
    learn_bin_set left_bins; /* categorical */
    gbdt_bin left, right;    /* sums of each child, missing rows included */
} gbdt_split;

/*
 * Finds the best split of one feature's histogram (n_bins bins, bin 0 the
 * missing bin); fills best only when the split beats best->gain.
 */
void gbdt_best_numeric_split(const gbdt_bin *hist, int n_bins, const gbdt_bin *total, int feature,
                             const gbdt_split_params *params, gbdt_split *best);
void gbdt_best_category_split(const gbdt_bin *hist, int n_bins, const gbdt_bin *total, int feature,
                              const gbdt_split_params *params, gbdt_split *best);

/* Leaf weight -T(G) / (H + lambda_l2), T the L1 soft threshold (learning rate not applied). */
double gbdt_leaf_weight(double g, double h, const gbdt_split_params *params);

/* linear.c */
ln_status linear_train(const ln_train_params *params, ln_model *model, const ln_table *train, const double *labels,
                       const ln_column **train_columns, learn_pool *pool, ln_error *err);

/* predict.c: raw scores (log-odds) of rows [begin, end). */
void learn_predict_raw(const ln_model *model, const ln_column **columns, uint8_t *const *category_maps,
                       const int32_t *dict_counts, size_t begin, size_t end, double *raw);

#endif
