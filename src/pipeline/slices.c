/*
 * The slice table: the test split cut by the values of each `slices`
 * column, with the model, the rule and production compared on each part.
 * A category column, or a numeric one with at most SLICE_MAX_DISTINCT
 * values, gives one slice per value; any other numeric column gives
 * SLICE_BUCKETS quantile buckets. Values with fewer than slice_min_rows
 * test rows are pooled into "other".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/log.h"
#include "pipeline/run_internal.h"

#define SLICE_MAX_DISTINCT 10
#define SLICE_BUCKETS 5

/* Slices shown per column; smaller ones join "other". */
#define SLICE_MAX_PER_COLUMN 30

typedef struct slice_group {
    char label[96];
    size_t rows;
    int pooled; /* 1 for "other" */
} slice_group;

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Groups of a category or text column: one per code, the last for missing values. */
static slice_group *group_codes(const ln_column *column, size_t n, size_t *groups, size_t *row_group)
{
    size_t distinct = (size_t)ln_dict_count(column->dict);
    slice_group *out = calloc(distinct + 1, sizeof *out);
    if (out == NULL)
        return NULL;

    for (size_t g = 0; g < distinct; g++)
        snprintf(out[g].label, sizeof out[g].label, "%s", ln_dict_string(column->dict, (int32_t)g));
    snprintf(out[distinct].label, sizeof out[distinct].label, "(missing)");
    for (size_t i = 0; i < n; i++) {
        row_group[i] = column->codes[i] < 0 ? distinct : (size_t)column->codes[i];
        out[row_group[i]].rows++;
    }
    *groups = distinct + 1;
    return out;
}

/* Sorted distinct non-missing values of a numeric column; returns their count, or SIZE_MAX when out of memory. */
static size_t sorted_values(const ln_column *column, size_t n, double *values, size_t *present)
{
    *present = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(column->values[i]))
            values[(*present)++] = column->values[i];
    }
    qsort(values, *present, sizeof *values, compare_doubles);

    size_t distinct = 0;
    for (size_t i = 0; i < *present; i++)
        distinct += i == 0 || values[i] != values[i - 1];
    return distinct;
}

static void format_number(double value, char *out, size_t capacity)
{
    snprintf(out, capacity, "%.6g", value);
}

/* Groups of a numeric column: one per value when few, else quantile buckets; the last for missing values. */
static slice_group *group_numbers(const ln_column *column, size_t n, size_t *groups, size_t *row_group)
{
    double *values = malloc((n ? n : 1) * sizeof *values);
    slice_group *out = calloc(SLICE_MAX_DISTINCT + SLICE_BUCKETS + 2, sizeof *out);
    if (values == NULL || out == NULL) {
        free(values);
        free(out);
        return NULL;
    }

    size_t present = 0;
    size_t distinct = sorted_values(column, n, values, &present);
    double edges[SLICE_MAX_DISTINCT + SLICE_BUCKETS];
    size_t n_edges = 0;
    char low[32], high[32];

    if (distinct <= SLICE_MAX_DISTINCT) {
        /* One group per value: the edges are the values themselves. */
        for (size_t i = 0; i < present; i++) {
            if (i == 0 || values[i] != values[i - 1])
                edges[n_edges++] = values[i];
        }
        for (size_t g = 0; g < n_edges; g++) {
            format_number(edges[g], low, sizeof low);
            snprintf(out[g].label, sizeof out[g].label, "%s", low);
        }
    } else {
        /* Inner quantile edges, deduplicated: bucket b holds edges[b-1] <= value < edges[b]. */
        for (int q = 1; q < SLICE_BUCKETS; q++) {
            double edge = values[(size_t)((double)present * q / SLICE_BUCKETS)];
            if (n_edges == 0 || edge > edges[n_edges - 1])
                edges[n_edges++] = edge;
        }
        for (size_t g = 0; g <= n_edges; g++) {
            format_number(g > 0 ? edges[g - 1] : 0, low, sizeof low);
            format_number(g < n_edges ? edges[g] : 0, high, sizeof high);
            if (g == 0)
                snprintf(out[g].label, sizeof out[g].label, "< %s", high);
            else if (g == n_edges)
                snprintf(out[g].label, sizeof out[g].label, ">= %s", low);
            else
                snprintf(out[g].label, sizeof out[g].label, "[%s, %s)", low, high);
        }
    }
    size_t value_groups = distinct <= SLICE_MAX_DISTINCT ? n_edges : n_edges + 1;
    snprintf(out[value_groups].label, sizeof out[value_groups].label, "(missing)");

    for (size_t i = 0; i < n; i++) {
        double value = column->values[i];
        size_t g = value_groups;
        if (!isnan(value) && distinct <= SLICE_MAX_DISTINCT) {
            for (g = 0; edges[g] != value; g++)
                ;
        } else if (!isnan(value)) {
            for (g = 0; g < n_edges && value >= edges[g]; g++)
                ;
        }
        row_group[i] = g;
        out[g].rows++;
    }
    free(values);
    *groups = value_groups + 1;
    return out;
}

/* Figures of one slice from the rows whose group is g. */
static void summarise_slice(const run_context *run, const size_t *row_group, size_t g, double *scores,
                            double *labels, double *flags, ln_slice_summary *out)
{
    const run_split *test = &run->test;
    size_t n = test->table->n_rows, m = 0;
    double model_payoff = 0, baseline_payoff = 0, production_payoff = 0;
    size_t model_flagged = 0, baseline_flagged = 0;

    out->positives = 0;
    for (size_t i = 0; i < n; i++) {
        if (row_group[i] != g)
            continue;
        scores[m] = run->test_scores[i];
        labels[m] = test->labels[i];
        flags[m] = run->baseline_flags[i];
        m++;
        out->positives += test->labels[i] == 1;
        model_flagged += run->model_flags[i];
        baseline_flagged += run->baseline_flags[i];
        model_payoff += run->model_row_payoffs[i];
        baseline_payoff += run->baseline_row_payoffs[i];
        if (run->production_row_payoffs != NULL && run->result->production_version > 0)
            production_payoff += run->production_row_payoffs[i];
    }

    out->rows = m;
    out->model_auc = ln_roc_auc(scores, labels, m);
    out->baseline_auc = ln_roc_auc(flags, labels, m);
    out->model_flag_rate = m ? (double)model_flagged / (double)m : NAN;
    out->baseline_flag_rate = m ? (double)baseline_flagged / (double)m : NAN;
    out->model_per_1000 = m ? model_payoff * 1000.0 / (double)m : NAN;
    out->baseline_per_1000 = m ? baseline_payoff * 1000.0 / (double)m : NAN;
    out->production_per_1000 =
        m && run->result->production_version > 0 ? production_payoff * 1000.0 / (double)m : NAN;

    double tolerance = run->pipeline->slice_tolerance;
    out->regression = out->model_per_1000 < out->baseline_per_1000 - tolerance ||
                      (isfinite(out->production_per_1000) && out->model_per_1000 < out->production_per_1000 - tolerance);
}

/* Pools groups below the minimum (and beyond the per-column maximum) into one "other" group, index *groups. */
static void pool_small_groups(slice_group *groups, size_t count, size_t min_rows, size_t *row_group, size_t n,
                              size_t other)
{
    size_t kept = 0;
    int *pooled = calloc(count ? count : 1, sizeof *pooled);

    /* Keep the largest groups: repeatedly take the biggest unpooled one. */
    for (size_t g = 0; g < count; g++)
        pooled[g] = groups[g].rows < min_rows || groups[g].rows == 0;
    for (size_t g = 0; g < count; g++)
        kept += !pooled[g];
    while (kept > SLICE_MAX_PER_COLUMN) {
        size_t smallest = SIZE_MAX;
        for (size_t g = 0; g < count; g++) {
            if (!pooled[g] && (smallest == SIZE_MAX || groups[g].rows < groups[smallest].rows))
                smallest = g;
        }
        pooled[smallest] = 1;
        kept--;
    }

    for (size_t i = 0; i < n; i++) {
        if (pooled[row_group[i]]) {
            groups[row_group[i]].pooled = 1;
            row_group[i] = other;
        }
    }
    free(pooled);
}

static ln_status slice_column(run_context *run, const char *name, size_t *row_group, double *scratch,
                              ln_slice_summary *out, size_t *written, ln_error *err)
{
    const ln_table *table = run->test.table;
    const ln_column *column = &table->cols[ln_table_find(table, name)];
    size_t n = table->n_rows, count = 0;
    int categorical = column->type == LN_TYPE_CATEGORY || column->type == LN_TYPE_TEXT;

    slice_group *groups = categorical ? group_codes(column, n, &count, row_group)
                                      : group_numbers(column, n, &count, row_group);
    if (groups == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory slicing by '%s'", name);

    size_t other = count;
    pool_small_groups(groups, count, run->pipeline->slice_min_rows, row_group, n, other);

    size_t other_rows = 0;
    for (size_t i = 0; i < n; i++)
        other_rows += row_group[i] == other;
    for (size_t g = 0; g <= count; g++) {
        int is_other = g == count;
        if ((is_other && other_rows == 0) || (!is_other && (groups[g].pooled || groups[g].rows == 0)))
            continue;
        ln_slice_summary *slice = &out[(*written)++];
        snprintf(slice->column, sizeof slice->column, "%s", name);
        snprintf(slice->value, sizeof slice->value, "%s", is_other ? "other" : groups[g].label);
        summarise_slice(run, row_group, g, scratch, scratch + n, scratch + 2 * n, slice);
    }
    free(groups);
    return LN_OK;
}

ln_status run_compute_slices(run_context *run, ln_error *err)
{
    const ln_pipeline *pipeline = run->pipeline;
    size_t n = run->test.table->n_rows;

    if (pipeline->n_slices == 0)
        return LN_OK;

    /* Each column gives at most SLICE_MAX_PER_COLUMN slices, "other" and "(missing)". */
    run->slices = calloc(pipeline->n_slices * (SLICE_MAX_PER_COLUMN + 2), sizeof *run->slices);
    size_t *row_group = malloc((n ? n : 1) * sizeof *row_group);
    double *scratch = malloc((n ? n : 1) * 3 * sizeof *scratch);
    ln_status status = LN_OK;
    if (run->slices == NULL || row_group == NULL || scratch == NULL)
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory computing slices");

    for (size_t s = 0; s < pipeline->n_slices && status == LN_OK; s++)
        status = slice_column(run, pipeline->slices[s], row_group, scratch, run->slices, &run->n_slices, err);
    free(row_group);
    free(scratch);

    for (size_t i = 0; i < run->n_slices; i++)
        run->result->slice_regressions += run->slices[i].regression;
    if (status == LN_OK && run->result->slice_regressions > 0)
        ln_log(LN_LOG_INFO, "the model does worse than the rule or production on %zu slices",
               run->result->slice_regressions);
    return status;
}
