/*
 * The training-time reference: quantile bins and counts of each numeric
 * feature, the most frequent values of each category feature, the valid
 * split's score distribution and the figures the run promised. It is a few
 * kilobytes of JSON inside the model's metadata and contains no raw rows.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/monitor.h"
#include "monitor/monitor_internal.h"

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

size_t monitor_bin_of(const double *edges, size_t n_edges, double value)
{
    /*
     * Branch-free binary search for the number of edges <= value
     * (numpy.searchsorted, side="right"): the data decides which half to
     * keep, so a branching search mispredicts on nearly every step.
     */
    if (n_edges == 0)
        return 0;
    const double *base = edges;
    size_t length = n_edges;
    while (length > 1) {
        size_t half = length / 2;
        base = base[half] <= value ? base + half : base;
        length -= half;
    }
    return (size_t)(base - edges) + (*base <= value);
}

/*
 * Edges at the order statistics sorted[floor(j n / bins)] for j = 1 ..
 * bins - 1, without repeats or infinities, so each bin gets about 1/bins of
 * the values and a value equal to an edge goes to the bin above it.
 */
static ln_status numeric_summary(const double *values, size_t n_rows, ln_reference_feature *feature, ln_error *err)
{
    double *sorted = malloc((n_rows ? n_rows : 1) * sizeof *sorted);
    feature->edges = malloc((LN_MONITOR_BINS - 1) * sizeof *feature->edges);
    feature->counts = calloc(LN_MONITOR_BINS, sizeof *feature->counts);
    if (sorted == NULL || feature->edges == NULL || feature->counts == NULL) {
        free(sorted);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory summarising feature '%s'", feature->name);
    }

    size_t n = 0;
    for (size_t i = 0; i < n_rows; i++) {
        if (!isnan(values[i]))
            sorted[n++] = values[i];
    }
    feature->rows = n_rows;
    feature->missing = n_rows - n;
    qsort(sorted, n, sizeof *sorted, compare_doubles);

    feature->n_edges = 0;
    for (size_t j = 1; j < LN_MONITOR_BINS && n > 0; j++) {
        double edge = sorted[j * n / LN_MONITOR_BINS];
        if (!isfinite(edge))
            continue;
        if (feature->n_edges > 0 && edge <= feature->edges[feature->n_edges - 1])
            continue;
        feature->edges[feature->n_edges++] = edge;
    }
    for (size_t i = 0; i < n; i++)
        feature->counts[monitor_bin_of(feature->edges, feature->n_edges, sorted[i])] += 1;

    free(sorted);
    return LN_OK;
}

typedef struct code_count {
    int32_t code;
    size_t count;
} code_count;

static int compare_code_counts(const void *a, const void *b)
{
    const code_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (x->code > y->code) - (x->code < y->code);
}

/* The LN_MONITOR_MAX_CATEGORIES most frequent values by descending count, ties in dictionary order. */
static ln_status category_summary(const ln_column *column, size_t n_rows, ln_reference_feature *feature,
                                  ln_error *err)
{
    int32_t n_codes = ln_dict_count(column->dict);
    code_count *counts = calloc((size_t)(n_codes > 0 ? n_codes : 1), sizeof *counts);
    if (counts == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory summarising feature '%s'", feature->name);

    for (int32_t c = 0; c < n_codes; c++)
        counts[c].code = c;
    feature->rows = n_rows;
    for (size_t i = 0; i < n_rows; i++) {
        int32_t code = column->codes[i];
        if (code < 0 || code >= n_codes)
            feature->missing++;
        else
            counts[code].count++;
    }
    qsort(counts, (size_t)n_codes, sizeof *counts, compare_code_counts);

    size_t present = 0;
    for (int32_t c = 0; c < n_codes && counts[c].count > 0; c++)
        present++;
    size_t listed = present < LN_MONITOR_MAX_CATEGORIES ? present : LN_MONITOR_MAX_CATEGORIES;
    feature->complete = present <= LN_MONITOR_MAX_CATEGORIES;
    feature->categories = calloc(listed ? listed : 1, sizeof *feature->categories);
    feature->category_counts = calloc(listed ? listed : 1, sizeof *feature->category_counts);
    if (feature->categories == NULL || feature->category_counts == NULL) {
        free(counts);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory summarising feature '%s'", feature->name);
    }

    for (size_t k = 0; k < present; k++) {
        if (k >= listed) {
            feature->other_count += (double)counts[k].count;
            continue;
        }
        feature->categories[k] = strdup(ln_dict_string(column->dict, counts[k].code));
        if (feature->categories[k] == NULL) {
            free(counts);
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory summarising feature '%s'", feature->name);
        }
        feature->category_counts[k] = (double)counts[k].count;
        feature->n_categories++;
    }
    free(counts);
    return LN_OK;
}

static ln_status summarise_column(const ln_column *column, size_t n_rows, ln_reference_feature *feature,
                                  ln_error *err)
{
    feature->name = strdup(column->name);
    if (feature->name == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory summarising features");

    if (ln_type_is_numeric(column->type)) {
        feature->type = column->type;
        return numeric_summary(column->values, n_rows, feature, err);
    }
    feature->type = LN_TYPE_CATEGORY;
    return category_summary(column, n_rows, feature, err);
}

/* Figures the valid split promised: flag rate, positive rate, AUC, calibration error, payoff per 1,000 rows. */
static void valid_figures(ln_reference *reference, const double *scores, const double *labels, size_t n,
                          double valid_payoff)
{
    size_t flagged = 0, positives = 0;

    for (size_t i = 0; i < n; i++) {
        flagged += scores[i] >= reference->flag_threshold;
        positives += labels != NULL && labels[i] == 1;
    }
    reference->valid_rows = n;
    reference->valid_flag_rate = n ? (double)flagged / (double)n : NAN;
    reference->valid_positive_rate = n && labels != NULL ? (double)positives / (double)n : NAN;
    reference->valid_auc = labels != NULL ? ln_roc_auc(scores, labels, n) : NAN;

    ln_calibration_bin bins[LN_CALIBRATION_BINS];
    reference->valid_ece = labels != NULL ? ln_calibration_curve(scores, labels, n, bins) : NAN;
    reference->valid_payoff_per_1000 = n && isfinite(valid_payoff) ? valid_payoff / (double)n * 1000 : NAN;
}

ln_status ln_reference_build(const ln_table *train, const char *const *features, size_t n_features,
                             const double *valid_scores, const double *valid_labels, size_t n_valid,
                             double flag_threshold, double valid_payoff, ln_reference **out, ln_error *err)
{
    *out = NULL;
    ln_reference *reference = calloc(1, sizeof *reference);
    if (reference == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory building the monitoring reference");

    reference->train_rows = train->n_rows;
    reference->flag_threshold = isnan(flag_threshold) ? INFINITY : flag_threshold;
    reference->features = calloc(n_features ? n_features : 1, sizeof *reference->features);
    ln_status status = reference->features ? LN_OK
                                           : ln_error_set(err, LN_ERR_NOMEM, "out of memory building the reference");

    for (size_t f = 0; f < n_features && status == LN_OK; f++) {
        int index = ln_table_find(train, features[f]);
        if (index < 0) {
            status = ln_error_set(err, LN_ERR_NOT_FOUND, "feature '%s' is not a column of the train split", features[f]);
            break;
        }
        reference->n_features++;
        status = summarise_column(&train->cols[index], train->n_rows, &reference->features[f], err);
    }

    if (status == LN_OK) {
        reference->score.name = strdup("score");
        reference->score.type = LN_TYPE_FLOAT;
        status = reference->score.name ? numeric_summary(valid_scores, n_valid, &reference->score, err)
                                       : ln_error_set(err, LN_ERR_NOMEM, "out of memory building the reference");
    }
    if (status != LN_OK) {
        ln_reference_free(reference);
        return status;
    }

    valid_figures(reference, valid_scores, valid_labels, n_valid, valid_payoff);
    *out = reference;
    return LN_OK;
}

static void feature_clear(ln_reference_feature *feature)
{
    free(feature->name);
    free(feature->edges);
    free(feature->counts);
    for (size_t k = 0; k < feature->n_categories; k++)
        free(feature->categories[k]);
    free(feature->categories);
    free(feature->category_counts);
}

void ln_reference_free(ln_reference *reference)
{
    if (reference == NULL)
        return;
    for (size_t f = 0; f < reference->n_features; f++)
        feature_clear(&reference->features[f]);
    free(reference->features);
    feature_clear(&reference->score);
    free(reference);
}

/* ---- JSON ---- */

static json_t *number_or_null(double value)
{
    return isfinite(value) ? json_real(value) : json_null();
}

static json_t *count_array(const double *counts, size_t n)
{
    json_t *array = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(array, json_integer((json_int_t)counts[i]));
    return array;
}

static json_t *feature_json(const ln_reference_feature *feature)
{
    json_t *object = json_object();

    json_object_set_new(object, "name", json_string(feature->name));
    json_object_set_new(object, "type", json_string(ln_type_name(feature->type)));
    json_object_set_new(object, "rows", json_integer((json_int_t)feature->rows));
    json_object_set_new(object, "missing", json_integer((json_int_t)feature->missing));
    if (feature->type != LN_TYPE_CATEGORY) {
        json_t *edges = json_array();
        for (size_t i = 0; i < feature->n_edges; i++)
            json_array_append_new(edges, json_real(feature->edges[i]));
        json_object_set_new(object, "edges", edges);
        json_object_set_new(object, "counts", count_array(feature->counts, feature->n_edges + 1));
        return object;
    }
    json_t *values = json_array();
    for (size_t k = 0; k < feature->n_categories; k++)
        json_array_append_new(values, json_string(feature->categories[k]));
    json_object_set_new(object, "values", values);
    json_object_set_new(object, "counts", count_array(feature->category_counts, feature->n_categories));
    json_object_set_new(object, "other", json_integer((json_int_t)feature->other_count));
    json_object_set_new(object, "complete", json_boolean(feature->complete));
    return object;
}

json_t *ln_reference_to_json(const ln_reference *reference)
{
    json_t *root = json_object();
    json_t *features = json_array();

    if (root == NULL || features == NULL) {
        json_decref(root);
        json_decref(features);
        return NULL;
    }
    json_object_set_new(root, "format", json_integer(1));
    json_object_set_new(root, "train_rows", json_integer((json_int_t)reference->train_rows));
    json_object_set_new(root, "valid_rows", json_integer((json_int_t)reference->valid_rows));
    for (size_t f = 0; f < reference->n_features; f++)
        json_array_append_new(features, feature_json(&reference->features[f]));
    json_object_set_new(root, "features", features);
    json_object_set_new(root, "score", feature_json(&reference->score));
    json_object_set_new(root, "flag_threshold", number_or_null(reference->flag_threshold));
    json_object_set_new(root, "valid_flag_rate", number_or_null(reference->valid_flag_rate));
    json_object_set_new(root, "valid_positive_rate", number_or_null(reference->valid_positive_rate));
    json_object_set_new(root, "valid_auc", number_or_null(reference->valid_auc));
    json_object_set_new(root, "valid_ece", number_or_null(reference->valid_ece));
    json_object_set_new(root, "valid_payoff_per_1000", number_or_null(reference->valid_payoff_per_1000));
    return root;
}

static ln_status corrupt(ln_error *err, const char *where, const char *key, const char *expected)
{
    return ln_error_set(err, LN_ERR_CORRUPT, "monitoring reference: %s: '%s' is missing or not %s", where, key,
                        expected);
}

/* Reads a count: a non-negative integer. */
static int read_count(const json_t *value, double *out)
{
    if (!json_is_integer(value) || json_integer_value(value) < 0)
        return -1;
    *out = (double)json_integer_value(value);
    return 0;
}

static ln_status counts_from_json(const json_t *array, size_t expected, const char *where, double **out,
                                  ln_error *err)
{
    if (!json_is_array(array) || json_array_size(array) != expected)
        return ln_error_set(err, LN_ERR_CORRUPT, "monitoring reference: %s: 'counts' must be an array of %zu counts",
                            where, expected);
    *out = calloc(expected ? expected : 1, sizeof **out);
    if (*out == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the monitoring reference");
    for (size_t i = 0; i < expected; i++) {
        if (read_count(json_array_get(array, i), &(*out)[i]) != 0)
            return corrupt(err, where, "counts", "an array of non-negative integers");
    }
    return LN_OK;
}

static ln_status numeric_from_json(const json_t *object, ln_reference_feature *feature, ln_error *err)
{
    const json_t *edges = json_object_get(object, "edges");

    if (!json_is_array(edges) || json_array_size(edges) >= LN_MONITOR_BINS)
        return corrupt(err, feature->name, "edges", "an array of fewer than 20 numbers");
    feature->n_edges = json_array_size(edges);
    feature->edges = malloc((feature->n_edges ? feature->n_edges : 1) * sizeof *feature->edges);
    if (feature->edges == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the monitoring reference");
    for (size_t i = 0; i < feature->n_edges; i++) {
        const json_t *edge = json_array_get(edges, i);
        if (!json_is_number(edge))
            return corrupt(err, feature->name, "edges", "an array of numbers");
        feature->edges[i] = json_number_value(edge);
        if (i > 0 && !(feature->edges[i] > feature->edges[i - 1]))
            return corrupt(err, feature->name, "edges", "increasing");
    }
    return counts_from_json(json_object_get(object, "counts"), feature->n_edges + 1, feature->name,
                            &feature->counts, err);
}

static ln_status category_from_json(const json_t *object, ln_reference_feature *feature, ln_error *err)
{
    const json_t *values = json_object_get(object, "values");

    if (!json_is_array(values) || json_array_size(values) > LN_MONITOR_MAX_CATEGORIES)
        return corrupt(err, feature->name, "values", "an array of at most 100 strings");
    size_t n = json_array_size(values);
    feature->categories = calloc(n ? n : 1, sizeof *feature->categories);
    if (feature->categories == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the monitoring reference");
    for (size_t k = 0; k < n; k++) {
        const char *text = json_string_value(json_array_get(values, k));
        if (text == NULL)
            return corrupt(err, feature->name, "values", "an array of strings");
        feature->categories[k] = strdup(text);
        if (feature->categories[k] == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the monitoring reference");
        feature->n_categories++;
    }
    if (read_count(json_object_get(object, "other"), &feature->other_count) != 0)
        return corrupt(err, feature->name, "other", "a non-negative integer");
    if (!json_is_boolean(json_object_get(object, "complete")))
        return corrupt(err, feature->name, "complete", "true or false");
    feature->complete = json_is_true(json_object_get(object, "complete"));
    return counts_from_json(json_object_get(object, "counts"), n, feature->name, &feature->category_counts, err);
}

static ln_status feature_from_json(const json_t *object, const char *where, ln_reference_feature *feature,
                                   ln_error *err)
{
    const char *name = json_string_value(json_object_get(object, "name"));
    const char *type = json_string_value(json_object_get(object, "type"));
    double rows, missing;

    if (!json_is_object(object) || name == NULL)
        return corrupt(err, where, "name", "a string");
    feature->name = strdup(name);
    if (feature->name == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the monitoring reference");
    int parsed = type ? ln_type_from_name(type) : -1;
    if (parsed < 0 || parsed == LN_TYPE_TEXT)
        return corrupt(err, name, "type", "a feature type");
    feature->type = (ln_type)parsed;
    if (read_count(json_object_get(object, "rows"), &rows) != 0 ||
        read_count(json_object_get(object, "missing"), &missing) != 0 || missing > rows)
        return corrupt(err, name, "rows", "a count at least 'missing'");
    feature->rows = (size_t)rows;
    feature->missing = (size_t)missing;

    if (feature->type == LN_TYPE_CATEGORY)
        return category_from_json(object, feature, err);
    return numeric_from_json(object, feature, err);
}

/* A number, or NaN for null (figures that could not be computed are stored as null). */
static double figure_of(const json_t *object, const char *key, double absent)
{
    const json_t *value = json_object_get(object, key);
    return json_is_number(value) ? json_number_value(value) : absent;
}

ln_status ln_reference_from_json(const json_t *json, ln_reference **out, ln_error *err)
{
    *out = NULL;
    const json_t *features = json_object_get(json, "features");
    double train_rows, valid_rows;

    if (!json_is_object(json))
        return ln_error_set(err, LN_ERR_CORRUPT, "monitoring reference: not a JSON object");
    if (!json_is_array(features))
        return corrupt(err, "the top level", "features", "an array");
    if (json_array_size(features) > LN_MONITOR_MAX_REFERENCE_FEATURES)
        return ln_error_set(err, LN_ERR_LIMIT, "monitoring reference: %zu features, more than the %d allowed",
                            json_array_size(features), LN_MONITOR_MAX_REFERENCE_FEATURES);
    if (read_count(json_object_get(json, "train_rows"), &train_rows) != 0 ||
        read_count(json_object_get(json, "valid_rows"), &valid_rows) != 0)
        return corrupt(err, "the top level", "train_rows", "a count");

    ln_reference *reference = calloc(1, sizeof *reference);
    size_t n = json_array_size(features);
    if (reference == NULL || (reference->features = calloc(n ? n : 1, sizeof *reference->features)) == NULL) {
        free(reference);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the monitoring reference");
    }
    reference->train_rows = (size_t)train_rows;
    reference->valid_rows = (size_t)valid_rows;

    ln_status status = LN_OK;
    for (size_t f = 0; f < n && status == LN_OK; f++) {
        reference->n_features++;
        status = feature_from_json(json_array_get(features, f), "features", &reference->features[f], err);
    }
    if (status == LN_OK)
        status = feature_from_json(json_object_get(json, "score"), "score", &reference->score, err);
    if (status == LN_OK && reference->score.type == LN_TYPE_CATEGORY)
        status = corrupt(err, "score", "type", "numeric");
    if (status != LN_OK) {
        ln_reference_free(reference);
        return status;
    }

    /* null means flagging nothing, as "threshold" in the model metadata does. */
    reference->flag_threshold = figure_of(json, "flag_threshold", INFINITY);
    reference->valid_flag_rate = figure_of(json, "valid_flag_rate", NAN);
    reference->valid_positive_rate = figure_of(json, "valid_positive_rate", NAN);
    reference->valid_auc = figure_of(json, "valid_auc", NAN);
    reference->valid_ece = figure_of(json, "valid_ece", NAN);
    reference->valid_payoff_per_1000 = figure_of(json, "valid_payoff_per_1000", NAN);
    *out = reference;
    return LN_OK;
}
