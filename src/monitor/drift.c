/*
 * Drift of one feature, of the score and of the decisions: current rows
 * binned like the reference, then PSI, KS or chi-square and JS.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/monitor_drift.h"
#include "monitor/monitor_internal.h"

void monitor_drift_clear(ln_drift *drift)
{
    free(drift->name);
    for (size_t i = 0; i < drift->n_bins; i++)
        free(drift->bin_labels[i]);
    free(drift->bin_labels);
    free(drift->reference_share);
    free(drift->current_share);
    for (size_t i = 0; i < drift->n_new_listed; i++)
        free(drift->new_values[i]);
    free(drift->new_values);
    free(drift->new_value_shares);
    memset(drift, 0, sizeof *drift);
}

static ln_status drift_start(ln_drift *drift, const char *name, ln_type type, size_t n_bins, ln_error *err)
{
    drift->name = strdup(name);
    drift->type = type;
    drift->categorical = type == LN_TYPE_CATEGORY;
    drift->psi = NAN;
    drift->ks = (ln_test_result){NAN, NAN, 0};
    drift->chi2 = (ln_test_result){NAN, NAN, 0};
    drift->js_distance = NAN;
    drift->n_bins = n_bins;
    drift->bin_labels = calloc(n_bins, sizeof *drift->bin_labels);
    drift->reference_share = calloc(n_bins, sizeof *drift->reference_share);
    drift->current_share = calloc(n_bins, sizeof *drift->current_share);
    if (drift->name == NULL || drift->bin_labels == NULL || drift->reference_share == NULL ||
        drift->current_share == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory comparing '%s'", name);
    return LN_OK;
}

static ln_status set_label(ln_drift *drift, size_t bin, const char *text, ln_error *err)
{
    drift->bin_labels[bin] = strdup(text);
    if (drift->bin_labels[bin] == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory comparing '%s'", drift->name);
    return LN_OK;
}

/* Shares of all rows per bin, and the missing shares (the last bin counts missing values). */
static void finish_shares(ln_drift *drift, const double *reference, const double *current)
{
    double reference_total = 0, current_total = 0;

    for (size_t i = 0; i < drift->n_bins; i++) {
        reference_total += reference[i];
        current_total += current[i];
    }
    for (size_t i = 0; i < drift->n_bins; i++) {
        drift->reference_share[i] = reference_total > 0 ? reference[i] / reference_total : NAN;
        drift->current_share[i] = current_total > 0 ? current[i] / current_total : NAN;
    }
    drift->reference_missing_share = drift->reference_share[drift->n_bins - 1];
    drift->current_missing_share = drift->current_share[drift->n_bins - 1];
    drift->current_rows = (size_t)current_total;
    drift->psi = ln_psi(reference, current, drift->n_bins);
}

static ln_status numeric_labels(ln_drift *drift, const ln_reference_feature *feature, ln_error *err)
{
    char text[96];
    ln_status status = LN_OK;

    for (size_t b = 0; b <= feature->n_edges && status == LN_OK; b++) {
        if (feature->n_edges == 0)
            snprintf(text, sizeof text, "all values");
        else if (b == 0)
            snprintf(text, sizeof text, "< %.6g", feature->edges[0]);
        else if (b == feature->n_edges)
            snprintf(text, sizeof text, ">= %.6g", feature->edges[b - 1]);
        else
            snprintf(text, sizeof text, "[%.6g, %.6g)", feature->edges[b - 1], feature->edges[b]);
        status = set_label(drift, b, text, err);
    }
    if (status == LN_OK)
        status = set_label(drift, feature->n_edges + 1, "(missing)", err);
    return status;
}

ln_status monitor_numeric_drift(const ln_reference_feature *feature, const double *values, const size_t *rows,
                                size_t n, ln_drift *drift, ln_error *err)
{
    size_t n_bins = feature->n_edges + 2;
    double *reference = calloc(n_bins, sizeof *reference);
    double *current = calloc(n_bins, sizeof *current);

    ln_status status = reference && current ? drift_start(drift, feature->name, feature->type, n_bins, err)
                                            : ln_error_set(err, LN_ERR_NOMEM, "out of memory comparing '%s'",
                                                           feature->name);
    if (status == LN_OK)
        status = numeric_labels(drift, feature, err);
    if (status != LN_OK) {
        free(reference);
        free(current);
        return status;
    }

    memcpy(reference, feature->counts, (feature->n_edges + 1) * sizeof *reference);
    reference[n_bins - 1] = (double)feature->missing;
    for (size_t k = 0; k < n; k++) {
        double value = values[rows != NULL ? rows[k] : k];
        current[isnan(value) ? n_bins - 1 : monitor_bin_of(feature->edges, feature->n_edges, value)] += 1;
    }

    finish_shares(drift, reference, current);
    drift->ks = ln_ks_binned(reference, current, n_bins - 1);
    free(reference);
    free(current);
    return LN_OK;
}

/* Index of each reference value by string, through the current dictionary: k, or -1 when not listed. */
static ln_status map_codes(const ln_reference_feature *feature, const ln_dict *dict, int32_t **out, ln_error *err)
{
    int32_t n_codes = dict != NULL ? ln_dict_count(dict) : 0;
    int32_t *map = malloc((size_t)(n_codes > 0 ? n_codes : 1) * sizeof *map);

    if (map == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory comparing '%s'", feature->name);
    for (int32_t c = 0; c < n_codes; c++)
        map[c] = -1;
    for (size_t k = 0; k < feature->n_categories; k++) {
        int32_t code = ln_dict_find(dict, feature->categories[k], strlen(feature->categories[k]));
        if (code >= 0)
            map[code] = (int32_t)k;
    }
    *out = map;
    return LN_OK;
}

typedef struct new_value {
    int32_t code;
    double count;
} new_value;

static int compare_new_values(const void *a, const void *b)
{
    const new_value *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (x->code > y->code) - (x->code < y->code);
}

/* Lists the most frequent values never seen in training, from per-code counts of unlisted values. */
static ln_status list_new_values(ln_drift *drift, const ln_dict *dict, const double *code_counts, int32_t n_codes,
                                 double total, ln_error *err)
{
    new_value *found = malloc((size_t)(n_codes > 0 ? n_codes : 1) * sizeof *found);
    if (found == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory comparing '%s'", drift->name);

    size_t n_found = 0;
    for (int32_t c = 0; c < n_codes; c++) {
        if (code_counts[c] > 0)
            found[n_found++] = (new_value){c, code_counts[c]};
    }
    qsort(found, n_found, sizeof *found, compare_new_values);
    drift->n_new = n_found;

    size_t listed = n_found < LN_MONITOR_MAX_NEW_VALUES ? n_found : LN_MONITOR_MAX_NEW_VALUES;
    drift->new_values = calloc(listed ? listed : 1, sizeof *drift->new_values);
    drift->new_value_shares = calloc(listed ? listed : 1, sizeof *drift->new_value_shares);
    ln_status status = drift->new_values && drift->new_value_shares
                           ? LN_OK : ln_error_set(err, LN_ERR_NOMEM, "out of memory comparing '%s'", drift->name);
    for (size_t i = 0; i < listed && status == LN_OK; i++) {
        drift->new_values[i] = strdup(ln_dict_string(dict, found[i].code));
        if (drift->new_values[i] == NULL) {
            status = ln_error_set(err, LN_ERR_NOMEM, "out of memory comparing '%s'", drift->name);
            break;
        }
        drift->new_value_shares[i] = total > 0 ? found[i].count / total : NAN;
        drift->n_new_listed++;
    }
    free(found);
    return status;
}

static ln_status category_labels(ln_drift *drift, const ln_reference_feature *feature, ln_error *err)
{
    size_t k = feature->n_categories;
    ln_status status = LN_OK;

    for (size_t i = 0; i < k && status == LN_OK; i++)
        status = set_label(drift, i, feature->categories[i], err);
    if (status == LN_OK)
        status = set_label(drift, k, "(other)", err);
    if (status == LN_OK)
        status = set_label(drift, k + 1, "(new)", err);
    if (status == LN_OK)
        status = set_label(drift, k + 2, "(missing)", err);
    return status;
}

/*
 * Bins: each listed reference value, "(other)" (values the reference pooled),
 * "(new)" (values never seen in training; only with a complete reference,
 * otherwise they count as other) and "(missing)".
 */
ln_status monitor_category_drift(const ln_reference_feature *feature, const ln_column *column, const size_t *rows,
                                 size_t n, ln_drift *drift, ln_error *err)
{
    size_t k = feature->n_categories;
    size_t n_bins = k + 3;
    int32_t n_codes = ln_dict_count(column->dict);
    int32_t *map = NULL;
    double *reference = calloc(n_bins, sizeof *reference);
    double *current = calloc(n_bins, sizeof *current);
    double *new_counts = calloc((size_t)(n_codes > 0 ? n_codes : 1), sizeof *new_counts);

    ln_status status = reference && current && new_counts
                           ? drift_start(drift, feature->name, LN_TYPE_CATEGORY, n_bins, err)
                           : ln_error_set(err, LN_ERR_NOMEM, "out of memory comparing '%s'", feature->name);
    if (status == LN_OK)
        status = category_labels(drift, feature, err);
    if (status == LN_OK)
        status = map_codes(feature, column->dict, &map, err);

    if (status == LN_OK) {
        memcpy(reference, feature->category_counts, k * sizeof *reference);
        reference[k] = feature->other_count;
        reference[k + 2] = (double)feature->missing;
        for (size_t i = 0; i < n; i++) {
            int32_t code = column->codes[rows != NULL ? rows[i] : i];
            if (code < 0 || code >= n_codes) {
                current[k + 2] += 1;
            } else if (map[code] >= 0) {
                current[map[code]] += 1;
            } else if (feature->complete) {
                current[k + 1] += 1;
                new_counts[code] += 1;
            } else {
                current[k] += 1;
            }
        }
        finish_shares(drift, reference, current);
        drift->new_share = drift->current_share[k + 1];
        drift->chi2 = ln_chi2_homogeneity(reference, current, n_bins);
        drift->js_distance = ln_js_distance(reference, current, n_bins);
        status = list_new_values(drift, column->dict, new_counts, n_codes, (double)n, err);
    }
    free(map);
    free(reference);
    free(current);
    free(new_counts);
    return status;
}

ln_status monitor_decision_drift(const ln_reference *reference, const unsigned char *flags, size_t n,
                                 ln_drift *drift, ln_error *err)
{
    double valid_rows = (double)reference->valid_rows;
    double valid_flagged = round(reference->valid_flag_rate * valid_rows);
    double reference_counts[3] = {valid_flagged, valid_rows - valid_flagged, 0};
    double current_counts[3] = {0, 0, 0};

    ln_status status = drift_start(drift, "decision", LN_TYPE_CATEGORY, 3, err);
    if (status == LN_OK)
        status = set_label(drift, 0, "flag", err);
    if (status == LN_OK)
        status = set_label(drift, 1, "pass", err);
    if (status == LN_OK)
        status = set_label(drift, 2, "(missing)", err);
    if (status != LN_OK)
        return status;

    if (!isfinite(reference->valid_flag_rate))
        reference_counts[0] = reference_counts[1] = 0;
    for (size_t i = 0; i < n; i++)
        current_counts[flags[i] ? 0 : 1] += 1;
    finish_shares(drift, reference_counts, current_counts);
    drift->chi2 = ln_chi2_homogeneity(reference_counts, current_counts, 3);
    drift->js_distance = ln_js_distance(reference_counts, current_counts, 3);
    return LN_OK;
}

int monitor_compare_drift(const void *a, const void *b)
{
    const ln_drift *x = a, *y = b;
    int x_nan = isnan(x->psi), y_nan = isnan(y->psi);

    if (x_nan || y_nan)
        return x_nan - y_nan;
    if (x->psi != y->psi)
        return x->psi < y->psi ? 1 : -1;
    return strcmp(x->name, y->name);
}
