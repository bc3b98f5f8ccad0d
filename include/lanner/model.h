/*
 * Gradient-boosted trees (binary, regression and multiclass objectives) and
 * logistic regression: training, prediction, explanations, calibration and
 * the model file.
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
 * Explaining the same scores, one contribution per feature plus a bias:
 *
 *     size_t width = ln_model_feature_count(model) + 1;
 *     double *contributions = malloc(test->n_rows * width * sizeof *contributions);
 *     ln_model_explain(model, test, contributions, &err);
 *     // sum of row r's width values == log(scores[r] / (1 - scores[r]))
 *
 * Scoring one request without allocating (one ln_model_row per thread):
 *
 *     ln_model_row *row;
 *     ln_model_row_new(model, &row, &err);
 *     ln_model_row_set_number(row, 0, 120.5, &err);
 *     ln_model_row_set_category(row, 1, "FR", 2, &err);
 *     double p;
 *     ln_model_predict_row(model, row, &p, &err);
 *     ln_model_row_clear(row);   // all features missing again
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

/* Classes of a multiclass model (each boosting round grows one tree per class). */
#define LN_LEARN_MAX_CLASSES 256

/* Points of an isotonic calibration curve (at most one per distinct validation score). */
#define LN_LEARN_MAX_CALIBRATION_POINTS 1000000

/* Depth of a tree that ln_model_explain accepts (its scratch grows with depth squared). */
#define LN_LEARN_MAX_EXPLAIN_DEPTH 1024

typedef enum ln_learner {
    LN_LEARNER_GBDT = 0,   /* histogram gradient-boosted trees */
    LN_LEARNER_LINEAR = 1, /* L2-regularised logistic regression */
} ln_learner;

typedef enum ln_objective {
    LN_OBJECTIVE_BINARY = 0,     /* log loss; labels 0 or 1; the score is P(label = 1) */
    LN_OBJECTIVE_REGRESSION = 1, /* squared error; any finite label; the score is the prediction */
    LN_OBJECTIVE_MULTICLASS = 2, /* softmax log loss; labels 0 .. n_classes - 1 */
} ln_objective;

typedef enum ln_calibration {
    LN_CALIBRATION_NONE = 0,
    LN_CALIBRATION_ISOTONIC = 1, /* pool-adjacent-violators fit of the label on P, linear between points */
    LN_CALIBRATION_SIGMOID = 2,  /* Platt scaling: P = 1 / (1 + exp(-(a * raw + b))), raw the log-odds */
} ln_calibration;

typedef enum ln_histograms {
    /* Row-wise when one leaf's histogram fits a core's L2 cache and most features are drawn per tree. */
    LN_HISTOGRAMS_AUTO = 0,
    /*
     * Every feature of a row at once, from a row-major copy of the bins. A
     * model of more than 65,536 bins in all sums column-wise instead.
     */
    LN_HISTOGRAMS_ROW_WISE = 1,
    LN_HISTOGRAMS_COLUMN_WISE = 2, /* One feature at a time, over its column of bins. */
} ln_histograms;

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
    /*
     * Category features. In both learners, a category with fewer than
     * min_category_rows training rows shares one bin with the other rare
     * categories and with categories unseen in training. The other three
     * settings shape gbdt's category splits, which sort a node's categories
     * by gradient sum / (hessian sum + cat_smooth) and split the sorted order
     * in two. Categories with fewer than min_data_per_category rows in the
     * node are left out of the order and go right. A category split is
     * scored with lambda_l2 + cat_l2 in place of lambda_l2.
     */
    int min_category_rows;     /* default 10, at least 1 */
    double cat_smooth;         /* default 10, >= 0 (LightGBM's cat_smooth) */
    double cat_l2;             /* default 10, >= 0 (LightGBM's cat_l2) */
    int min_data_per_category; /* default 10, at least 1 */
    int early_stopping_rounds; /* default 50; 0 disables; needs a validation set */
    double linear_l2;          /* logistic regression: L2 strength on standardised weights, default 1.0 */
    uint64_t seed;             /* default 7 */
    int threads;               /* 0 = all cores */
    ln_objective objective;    /* default binary; regression and multiclass need the gbdt learner */
    int n_classes;             /* multiclass: 3 to LN_LEARN_MAX_CLASSES; ignored otherwise */
    double scale_pos_weight;   /* binary: weight multiplying every positive row's weight, default 1 */
    /*
     * NULL, or one entry per feature (in feature_names order): +1 makes the
     * score non-decreasing in that feature, -1 non-increasing, 0 leaves it
     * free. gbdt with numeric features only. The pointer is read during
     * training only; the caller keeps the array.
     */
    const int *monotone;
    /*
     * Calibration fitted on the validation set after training (binary only;
     * needs a validation set). Default none. See ln_model_calibrate.
     */
    ln_calibration calibration;
    /*
     * The layout in which gbdt sums gradient histograms, default auto. The layouts differ in
     * speed and memory only: models agree up to the rounding of the sums.
     */
    ln_histograms histograms;
} ln_train_params;

/* Fills params with the defaults listed in ln_train_params. */
void ln_train_params_default(ln_train_params *params);

typedef struct ln_model ln_model;

/*
 * Trains a model for params->objective (binary by default).
 *
 * train_labels contains one label per row of train: 0 or 1 for binary (both
 * classes must occur), a finite number for regression, a class index
 * 0 .. n_classes - 1 for multiclass (at least two classes must occur).
 * feature_names lists n_features columns of train: numeric columns are used
 * as numbers (NaN is missing), category columns natively; text columns are
 * rejected. valid and valid_labels may both be NULL, in which case early
 * stopping is off. The valid table must have the same feature columns by
 * name; its category dictionaries may differ because categories are matched
 * by string. When early stopping stops training, the model keeps the trees up
 * to the iteration with the lowest validation loss (log loss, squared error
 * or multiclass log loss).
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
 * Same as ln_model_train, with one weight per training row (NULL for all 1).
 * A weight multiplies the row's gradient and hessian, so it counts as that
 * many copies of the row in every sum; min_data_in_leaf still counts rows.
 * Weights must be finite and >= 0 with a positive sum (else LN_ERR_DATA).
 * Validation rows are unweighted.
 */
ln_status ln_model_train_weighted(const ln_train_params *params, const ln_table *train, const double *train_labels,
                                  const double *weights, const char *const *feature_names, size_t n_features,
                                  const ln_table *valid, const double *valid_labels, ln_model **out,
                                  ln_error *err);

/*
 * Writes one score per row of data into scores (data->n_rows values):
 * binary: P(label = 1), calibrated when the model has a calibration;
 * regression: the prediction; multiclass: the most probable class index
 * (lowest index on a tie; see ln_model_predict_proba for the probabilities).
 * Features are found by name, and a missing column is LN_ERR_NOT_FOUND naming
 * it. A numeric feature given as a category or text column, or a category
 * feature given as a numeric column, is LN_ERR_DATA. Category values (from a
 * category or a text column) are matched by string; a category not seen in
 * training is routed like the rare categories pooled in training, and a
 * missing value takes each split's learned default direction. Logistic
 * regression clamps numeric values, infinities included, to the range seen in
 * training.
 *
 * Up to 4096 rows are scored on the calling thread; bigger tables use one
 * thread per core.
 */
ln_status ln_model_predict(const ln_model *model, const ln_table *data, double *scores, ln_error *err);

/*
 * Writes class probabilities, row-major: n_rows x 2 (P(0), P(1)) for binary
 * (calibrated when the model is), n_rows x n_classes for multiclass.
 * Regression is LN_ERR_CONFIG. Other errors as ln_model_predict.
 */
ln_status ln_model_predict_proba(const ln_model *model, const ln_table *data, double *proba, ln_error *err);

/*
 * Writes raw scores, before the link function and calibration, row-major
 * n_rows x ln_model_output_count: log-odds for binary, the prediction for
 * regression, one softmax input per class for multiclass.
 */
ln_status ln_model_predict_raw(const ln_model *model, const ln_table *data, double *raw, ln_error *err);

/*
 * Explains raw scores: writes, per row and output, one contribution per
 * feature followed by a bias, row-major n_rows x ln_model_output_count x
 * (n_features + 1). The values of one row and output sum to its raw score
 * (ln_model_predict_raw) up to rounding.
 *
 * Trees: exact path-dependent TreeSHAP (Lundberg, Erion and Lee 2018,
 * "Consistent individualized feature attribution for tree ensembles"), with
 * each node weighted by the training rows that reached it. The bias is the
 * base score plus each tree's mean leaf value under those weights. Missing
 * values, categories and unseen categories follow the same routes as in
 * prediction. In logistic regression a numeric feature contributes
 * weight x (clamped value - training mean) / scale, or its missing weight
 * when missing, and a category feature contributes its category's weight.
 * The bias is the intercept. Calibration is not applied (it is monotone, so the ranking of
 * contributions holds for calibrated scores too).
 *
 * Errors as ln_model_predict; LN_ERR_CONFIG for a tree model loaded from a
 * format-1 file, which stores no node weights (retrain to explain it);
 * LN_ERR_LIMIT for a tree deeper than LN_LEARN_MAX_EXPLAIN_DEPTH.
 */
ln_status ln_model_explain(const ln_model *model, const ln_table *data, double *contributions, ln_error *err);

/*
 * A prepared row for scoring one request without allocating: values are
 * set by feature index (see ln_model_feature_name) and categories resolved
 * to the model's bins when set, through the feature's hash table. A row
 * belongs to one model and must not be shared between threads while set.
 */
typedef struct ln_model_row ln_model_row;

/* Creates a row with every feature missing; the caller frees it with ln_model_row_free. */
ln_status ln_model_row_new(const ln_model *model, ln_model_row **out, ln_error *err);

/* Frees row; NULL is allowed. */
void ln_model_row_free(ln_model_row *row);

/* Sets every feature of row back to missing. */
void ln_model_row_clear(ln_model_row *row);

/*
 * Sets a numeric feature (NaN is missing). LN_ERR_CONFIG when feature is out
 * of range, LN_ERR_DATA when the feature is a category.
 */
ln_status ln_model_row_set_number(ln_model_row *row, size_t feature, double value, ln_error *err);

/*
 * Sets a category feature to the length bytes at text (NULL is missing; an
 * unseen category is routed like the rare categories pooled in training).
 * The text is not kept. LN_ERR_CONFIG when feature is out of range,
 * LN_ERR_DATA when the feature is numeric.
 */
ln_status ln_model_row_set_category(ln_model_row *row, size_t feature, const char *text, size_t length,
                                    ln_error *err);

/*
 * Scores row into out: one value for binary (P(label = 1), calibrated) and
 * regression, n_classes probabilities for multiclass. Allocates nothing and
 * is safe to call from several threads on one model, each with its own row.
 * LN_ERR_CONFIG when row was made for another model.
 */
ln_status ln_model_predict_row(const ln_model *model, const ln_model_row *row, double *out, ln_error *err);

/*
 * Fits a calibration of the model's probabilities on labelled rows (usually
 * the validation set) and stores it in the model, replacing any earlier one.
 * ln_model_predict, ln_model_predict_proba and ln_model_predict_row apply it,
 * and ln_model_save keeps it. LN_CALIBRATION_NONE removes it.
 *
 * Isotonic: the non-decreasing step fit of the label on the uncalibrated
 * probability by pool-adjacent-violators (tied scores pooled first), then
 * linear interpolation between the fitted points, clipped at both ends, as
 * scikit-learn's IsotonicRegression(out_of_bounds="clip"). Sigmoid: Platt's
 * fit of a and b on the raw log-odds, with his smoothed targets
 * (positives (n1 + 1) / (n1 + 2), negatives 1 / (n0 + 2)), as scikit-learn's
 * CalibratedClassifierCV(method="sigmoid").
 *
 * Binary models only (LN_ERR_CONFIG otherwise). labels are 0 or 1, both
 * present (LN_ERR_DATA otherwise); errors of ln_model_predict for the table.
 */
ln_status ln_model_calibrate(ln_model *model, const ln_table *valid, const double *labels, ln_calibration method,
                             ln_error *err);

/* Returns the model's calibration method (LN_CALIBRATION_NONE when it has none). */
ln_calibration ln_model_calibration(const ln_model *model);

/* Returns "none", "isotonic" or "sigmoid". */
const char *ln_calibration_name(ln_calibration method);

/* A model's fitted calibration, for display. Arrays point into the model. */
typedef struct ln_calibration_info {
    ln_calibration method;
    double a, b;         /* sigmoid: P = 1 / (1 + exp(-(a * raw + b))), raw the log-odds; else 0 */
    size_t n_points;     /* isotonic: points of the curve, x ascending; else 0 */
    const double *x, *y; /* isotonic: uncalibrated P and calibrated P; else NULL */
} ln_calibration_info;

void ln_model_calibration_info(const ln_model *model, ln_calibration_info *info);

/*
 * One feature of a logistic regression, for display. A numeric feature's
 * value is clamped to [min, max] and standardised, z = (x - mean) / scale,
 * and adds weights[0] * z to the log-odds, or weights[1] when missing. A
 * category feature adds weights[b] for its bin b: 0 missing, 1 a category
 * too rare to keep or never seen, 2 + i the model's category i
 * (ln_model_category). The intercept is ln_model_base_score(model, 0).
 */
typedef struct ln_linear_feature_info {
    double mean, scale, min, max; /* numeric features only */
    const double *weights;
    int n_weights;
} ln_linear_feature_info;

/* Fills info for feature index of a logistic regression; returns -1 for a tree model or a bad index. */
int ln_model_linear_feature(const ln_model *model, size_t index, ln_linear_feature_info *info);

/*
 * Returns output's base score: where boosting starts, before any tree, and
 * for a logistic regression its intercept (the log-odds with every
 * standardised value 0). Returns 0 for a bad output.
 */
double ln_model_base_score(const ln_model *model, size_t output);

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

ln_objective ln_model_objective(const ln_model *model);

/* Returns "binary", "regression" or "multiclass". */
const char *ln_objective_name(ln_objective objective);

/* Returns the raw scores per row: n_classes for multiclass, else 1. */
size_t ln_model_output_count(const ln_model *model);

/*
 * Returns the number of trees kept (up to the best iteration); 0 for
 * logistic regression. A multiclass model has one tree per class per round:
 * tree t belongs to class t % n_classes.
 */
int ln_model_tree_count(const ln_model *model);

/* Returns the kept categories of a category feature (0 for a numeric feature or an index out of range). */
int32_t ln_model_category_count(const ln_model *model, size_t feature);

/*
 * Returns kept category i of a category feature, owned by the model, or NULL
 * when out of range. In trees, category i is bin i + 2. Bin 1 is for the rare
 * categories pooled in training and for unseen ones, bin 0 for missing values.
 */
const char *ln_model_category(const ln_model *model, size_t feature, int32_t i);

/* A tree node as ln_model_tree_node describes it. */
typedef struct ln_tree_node {
    int32_t left, right;   /* child node indices, -1 for a leaf */
    int32_t feature;       /* split feature index, -1 for a leaf */
    int categorical;       /* the split tests category bins rather than a threshold */
    int default_left;      /* missing values go left */
    double threshold;      /* numeric split: value <= threshold goes left */
    uint64_t category_bins[4]; /* categorical split: bit b set = bin b goes left (see ln_model_category) */
    double gain;           /* split: loss reduction */
    double value;          /* leaf: score added, learning rate applied */
    double cover;          /* training rows that reached the node; NaN for a format-1 file */
} ln_tree_node;

/* Returns the node count of tree t, or 0 when t is out of range. */
int32_t ln_model_tree_node_count(const ln_model *model, int tree);

/* Fills *out with node i of tree t; returns 0, or -1 when t or i is out of range. */
int ln_model_tree_node(const ln_model *model, int tree, int32_t node, ln_tree_node *out);

/*
 * Writes one gain-based importance per feature into importance
 * (ln_model_feature_count values) summing to 1, or all zeros when the model
 * has no splits. For logistic regression: the share of the sum of absolute
 * standardised weights.
 */
void ln_model_feature_importance(const ln_model *model, double *importance);

/*
 * Writes the number of splits on each feature over all trees into counts
 * (ln_model_feature_count values); all zeros for logistic regression.
 */
void ln_model_feature_split_counts(const ln_model *model, uint64_t *counts);

/*
 * Training parameters stored in the model (learner settings as numbers:
 * trees, max_leaves, learning_rate, ...; saved since format 2). Returns the
 * count; ln_model_param gives parameter i's name (owned by the model) and
 * value, or NULL when i is out of range.
 */
size_t ln_model_param_count(const ln_model *model);
const char *ln_model_param(const ln_model *model, size_t i, double *value);

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
