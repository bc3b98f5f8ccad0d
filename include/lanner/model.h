/*
 * Binary classifiers: histogram gradient-boosted trees and logistic
 * regression, their prediction and their model file.
 *
 *     ln_train_params params;
 *     ln_train_params_default(&params);
 *     params.trees = 500;
 *     const char *features[] = {"amount", "country", "account_age"};
 *     ln_model *model = NULL;
 *     if (ln_model_train(&params, train, labels, features, 3, valid, valid_labels, &model, &err) != LN_OK)
 *         return err.status;
 *     double *scores = malloc(test->n_rows * sizeof *scores);
 *     ln_model_predict(model, test, scores, &err);
 *     ln_model_save(model, "fraud.lnr", &err);
 *     ln_model_free(model);
 *
 * Training is deterministic: the same data, parameters and seed give a
 * byte-identical model file for any thread count.
 */
#ifndef LANNER_MODEL_H
#define LANNER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "lanner/status.h"
#include "lanner/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bins per numeric feature, not counting the bin for missing values. */
#define LN_LEARN_MAX_BINS 255

/* Categories per feature that get their own bin in trees; rarer ones share a bin. */
#define LN_LEARN_MAX_TREE_CATEGORIES 254

/* Categories per feature that get their own weight in logistic regression. */
#define LN_LEARN_MAX_LINEAR_CATEGORIES 100

/* Weights in one logistic regression (the dense Newton solver stores weights^2 doubles). */
#define LN_LEARN_MAX_LINEAR_WEIGHTS 4096

/* Features in one model. */
#define LN_LEARN_MAX_FEATURES 100000

/* Rows in one training table (row indices are 32-bit). */
#define LN_LEARN_MAX_ROWS 4000000000u

/* Bytes of metadata text in one model. */
#define LN_LEARN_MAX_METADATA_BYTES (1u << 20)

typedef enum ln_learner {
    LN_LEARNER_GBDT = 0,   /* histogram gradient-boosted trees */
    LN_LEARNER_LINEAR = 1, /* L2-regularised logistic regression */
} ln_learner;

typedef struct ln_train_params {
    ln_learner learner;
    int trees;                 /* boosting rounds, default 300 */
    int max_leaves;            /* leaves per tree, default 31 */
    int max_depth;             /* 0 = no limit */
    double learning_rate;      /* shrinkage applied to each leaf value, default 0.05 */
    int min_data_in_leaf;      /* rows, default 20 */
    double min_sum_hessian;    /* default 1e-3 */
    double lambda_l1;          /* L1 penalty on leaf values, default 0 */
    double lambda_l2;          /* L2 penalty on leaf values, default 1 */
    double min_gain_to_split;  /* default 0 */
    double row_subsample;      /* fraction of rows drawn per tree, default 1.0 */
    double feature_subsample;  /* fraction of features drawn per tree, default 1.0 */
    int max_bins;              /* bins per numeric feature, 2..255, default 255 */
    int early_stopping_rounds; /* default 50; 0 disables; needs a validation set */
    double linear_l2;          /* logistic regression: L2 strength on standardised weights, default 1.0 */
    uint64_t seed;             /* default 7 */
    int threads;               /* 0 = all cores */
} ln_train_params;

/* Fills params with the defaults listed in ln_train_params. */
void ln_train_params_default(ln_train_params *params);

typedef struct ln_model ln_model;

/*
 * Trains a binary classifier.
 *
 * train_labels holds one 0 or 1 per row of train (both classes must occur).
 * feature_names lists n_features columns of train: numeric columns are used
 * as numbers (NaN is missing), category columns natively; text columns are
 * rejected. valid and valid_labels may both be NULL, in which case early
 * stopping is off. The valid table must have the same feature columns by
 * name; its category dictionaries may differ because categories are matched
 * by string. When early stopping stops training, the model keeps the trees up
 * to the iteration with the lowest validation log loss.
 *
 * params may be NULL for the defaults. On success *out is a new model the
 * caller frees with ln_model_free. Errors: LN_ERR_CONFIG for invalid
 * parameters, LN_ERR_NOT_FOUND for a missing column, LN_ERR_DATA for bad
 * labels, a single class, a text feature or no rows, LN_ERR_LIMIT when the
 * data exceed a limit above, LN_ERR_NOMEM.
 */
ln_status ln_model_train(const ln_train_params *params, const ln_table *train, const double *train_labels,
                         const char *const *feature_names, size_t n_features, const ln_table *valid,
                         const double *valid_labels, ln_model **out, ln_error *err);

/*
 * Writes P(positive) for each row of data into scores (data->n_rows values).
 * Features are found by name: a missing column is LN_ERR_NOT_FOUND naming it;
 * a numeric feature given as a category or text column, or a category
 * feature given as a numeric column, is LN_ERR_DATA. Category values (from a
 * category or a text column) are matched by string; a category not seen in
 * training is routed like the rare categories pooled in training, and a
 * missing value takes each split's learned default direction. Logistic
 * regression clamps numeric values, infinities included, to the range seen in
 * training.
 */
ln_status ln_model_predict(const ln_model *model, const ln_table *data, double *scores, ln_error *err);

/*
 * Writes the model to path in the binary model format (see
 * src/learn/model_file.c) through a temporary file renamed over path.
 */
ln_status ln_model_save(const ln_model *model, const char *path, ln_error *err);

/*
 * Reads a model file. A truncated, corrupt or hostile file is LN_ERR_CORRUPT
 * with a message naming what failed; a missing file is LN_ERR_NOT_FOUND. On
 * success *out is a new model the caller frees with ln_model_free.
 */
ln_status ln_model_load(const char *path, ln_model **out, ln_error *err);

/* Same as ln_model_load, from size bytes in memory (the caller keeps data). */
ln_status ln_model_load_bytes(const void *data, size_t size, ln_model **out, ln_error *err);

/* Frees model and everything it owns; NULL is allowed. */
void ln_model_free(ln_model *model);

size_t ln_model_feature_count(const ln_model *model);

/* Returns the feature's column name, owned by the model. */
const char *ln_model_feature_name(const ln_model *model, size_t index);

/* Returns LN_TYPE_CATEGORY for a category feature and the training column's numeric type otherwise. */
ln_type ln_model_feature_type(const ln_model *model, size_t index);

ln_learner ln_model_learner(const ln_model *model);

/* Returns the number of trees kept (up to the best iteration); 0 for logistic regression. */
int ln_model_tree_count(const ln_model *model);

/*
 * Writes one gain-based importance per feature into importance
 * (ln_model_feature_count values) summing to 1, or all zeros when the model
 * has no splits. For logistic regression: the share of the sum of absolute
 * standardised weights.
 */
void ln_model_feature_importance(const ln_model *model, double *importance);

/*
 * Copies text (at most LN_LEARN_MAX_METADATA_BYTES) into the model; it is
 * saved with the model. NULL clears it.
 */
ln_status ln_model_set_metadata(ln_model *model, const char *text, ln_error *err);

/* Returns the metadata text, owned by the model; "" when none. */
const char *ln_model_metadata(const ln_model *model);

#ifdef __cplusplus
}
#endif

#endif
