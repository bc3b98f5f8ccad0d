/*
 * The effect of promoting a candidate on the systems downstream of the
 * model: each consumer's share of rows before and after, the share of
 * decisions that flip, and the shift of the score distribution (PSI).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/pipeline.h"

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Number of edges at or below score: a score equal to an edge goes to the bin above it. */
static int psi_bin(const double *edges, double score)
{
    int bin = 0;

    while (bin < LN_PSI_BINS - 1 && score >= edges[bin])
        bin++;
    return bin;
}

static size_t count_bins(const double *edges, const double *scores, size_t n, size_t *counts)
{
    size_t present = 0;

    for (int b = 0; b < LN_PSI_BINS; b++)
        counts[b] = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(scores[i]))
            continue;
        counts[psi_bin(edges, scores[i])]++;
        present++;
    }
    return present;
}

double ln_score_psi(const double *reference, size_t n_reference, const double *actual, size_t n_actual)
{
    double *sorted = malloc((n_reference ? n_reference : 1) * sizeof *sorted);
    double edges[LN_PSI_BINS - 1];
    size_t reference_counts[LN_PSI_BINS], actual_counts[LN_PSI_BINS];
    size_t present = 0;

    if (sorted == NULL)
        return NAN;
    for (size_t i = 0; i < n_reference; i++) {
        if (!isnan(reference[i]))
            sorted[present++] = reference[i];
    }
    if (present == 0) {
        free(sorted);
        return NAN;
    }
    qsort(sorted, present, sizeof *sorted, compare_doubles);
    for (int k = 1; k < LN_PSI_BINS; k++)
        edges[k - 1] = sorted[(size_t)k * present / LN_PSI_BINS];
    free(sorted);

    size_t n_ref = count_bins(edges, reference, n_reference, reference_counts);
    size_t n_act = count_bins(edges, actual, n_actual, actual_counts);
    if (n_act == 0)
        return NAN;

    double psi = 0;
    for (int b = 0; b < LN_PSI_BINS; b++) {
        double r = fmax((double)reference_counts[b] / (double)n_ref, LN_PSI_FLOOR);
        double a = fmax((double)actual_counts[b] / (double)n_act, LN_PSI_FLOOR);
        psi += (a - r) * log(a / r);
    }
    return psi;
}

static int receives(const ln_consumer_spec *consumer, double score, double model_threshold)
{
    return score >= (consumer->uses_score ? consumer->threshold : model_threshold);
}

static void judge(const ln_consumer_spec *consumer, ln_consumer_report *report, size_t changed_rows, size_t n_rows)
{
    report->passed = 1;
    if (report->rate_after > consumer->rate_max) {
        report->passed = 0;
        snprintf(report->detail, sizeof report->detail, "would receive %.2f%% of rows, above its maximum %.2f%%",
                 report->rate_after * 100, consumer->rate_max * 100);
    } else if (report->rate_after < consumer->rate_min) {
        report->passed = 0;
        snprintf(report->detail, sizeof report->detail, "would receive %.2f%% of rows, below its minimum %.2f%%",
                 report->rate_after * 100, consumer->rate_min * 100);
    } else if (!isnan(consumer->max_changed) && !isnan(report->changed) && report->changed > consumer->max_changed) {
        report->passed = 0;
        snprintf(report->detail, sizeof report->detail,
                 "%zu of %zu decisions (%.2f%%) would change, above its maximum %.2f%%", changed_rows, n_rows,
                 report->changed * 100, consumer->max_changed * 100);
    } else if (isnan(report->rate_before)) {
        snprintf(report->detail, sizeof report->detail, "would receive %.2f%% of rows (no production model to "
                 "compare with)", report->rate_after * 100);
    } else {
        snprintf(report->detail, sizeof report->detail, "would receive %.2f%% of rows (production %.2f%%); %.2f%% of "
                 "decisions change", report->rate_after * 100, report->rate_before * 100, report->changed * 100);
    }
}

void ln_downstream_compare(const ln_consumer_spec *consumers, size_t n_consumers, const double *candidate_scores,
                           double candidate_threshold, const double *production_scores,
                           double production_threshold, size_t n_rows, ln_consumer_report *reports)
{
    double psi = production_scores != NULL ? ln_score_psi(production_scores, n_rows, candidate_scores, n_rows) : NAN;

    for (size_t c = 0; c < n_consumers; c++) {
        const ln_consumer_spec *consumer = &consumers[c];
        ln_consumer_report *report = &reports[c];
        size_t after = 0, before = 0, changed = 0;

        memset(report, 0, sizeof *report);
        snprintf(report->name, sizeof report->name, "%s", consumer->name);
        report->uses_score = consumer->uses_score;
        for (size_t i = 0; i < n_rows; i++) {
            int to_candidate = receives(consumer, candidate_scores[i], candidate_threshold);
            after += to_candidate;
            if (production_scores != NULL) {
                int to_production = receives(consumer, production_scores[i], production_threshold);
                before += to_production;
                changed += to_production != to_candidate;
            }
        }
        double n = (double)n_rows;
        report->rate_after = n_rows ? (double)after / n : NAN;
        report->rate_before = production_scores != NULL && n_rows ? (double)before / n : NAN;
        report->changed = production_scores != NULL && n_rows ? (double)changed / n : NAN;
        report->psi = psi;
        judge(consumer, report, changed, n_rows);
    }
}

static double number_or(json_t *value, double fallback)
{
    return json_is_number(value) ? json_number_value(value) : fallback;
}

static ln_status read_consumer(json_t *item, size_t index, ln_consumer_spec *consumer, ln_error *err)
{
    json_t *name = json_object_get(item, "name");
    json_t *uses = json_object_get(item, "uses");
    json_t *rate = json_object_get(item, "rate");

    if (!json_is_object(item) || !json_is_string(name) || !json_is_string(uses))
        return ln_error_set(err, LN_ERR_PARSE, "downstream entry %zu has no name or uses", index + 1);
    consumer->name = strdup(json_string_value(name));
    if (consumer->name == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the downstream section");
    consumer->uses_score = strcmp(json_string_value(uses), "score") == 0;
    if (!consumer->uses_score && strcmp(json_string_value(uses), "flag") != 0)
        return ln_error_set(err, LN_ERR_PARSE, "downstream entry %zu uses '%s'; expected flag or score", index + 1,
                            json_string_value(uses));
    consumer->threshold = number_or(json_object_get(item, "threshold"), NAN);
    consumer->rate_min = number_or(json_object_get(rate, "min"), 0);
    consumer->rate_max = number_or(json_object_get(rate, "max"), 1);
    consumer->max_changed = number_or(json_object_get(item, "max_changed"), NAN);
    if (consumer->uses_score && isnan(consumer->threshold))
        return ln_error_set(err, LN_ERR_PARSE, "downstream consumer '%s' uses the score and has no threshold",
                            consumer->name);
    return LN_OK;
}

ln_status ln_consumers_from_json(const char *metrics_json, ln_consumer_spec **out, size_t *n, ln_error *err)
{
    json_error_t parse_error;
    json_t *root = json_loads(metrics_json != NULL ? metrics_json : "", 0, &parse_error);

    *out = NULL;
    *n = 0;
    if (root == NULL)
        return ln_error_set(err, LN_ERR_PARSE, "metrics JSON is invalid at line %d: %s", parse_error.line,
                            parse_error.text);
    json_t *list = json_object_get(root, "downstream");
    size_t count = json_is_array(list) ? json_array_size(list) : 0;
    if (count > LN_MAX_CONSUMERS) {
        json_decref(root);
        return ln_error_set(err, LN_ERR_LIMIT, "the downstream section lists %zu consumers; the maximum is %d", count,
                            LN_MAX_CONSUMERS);
    }

    ln_consumer_spec *consumers = calloc(count ? count : 1, sizeof *consumers);
    ln_status status = consumers != NULL ? LN_OK
                                         : ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the downstream section");
    size_t read = 0;
    for (; read < count && status == LN_OK; read++)
        status = read_consumer(json_array_get(list, read), read, &consumers[read], err);
    json_decref(root);
    if (status != LN_OK) {
        ln_consumers_free(consumers, count);
        return status;
    }
    *out = consumers;
    *n = count;
    return LN_OK;
}
