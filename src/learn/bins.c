/*
 * Feature binning: quantile edges for numeric features, kept-category lists
 * for category features, and the seeded random numbers used for sampling.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/sort.h"
#include "learn/learn_internal.h"

void learn_rng_seed(learn_rng *rng, uint64_t seed, uint64_t stream)
{
    rng->state = seed ^ (stream * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull);
    (void)learn_rng_next(rng);
}

/* splitmix64 (Steele, Lea and Flood, 2014). */
uint64_t learn_rng_next(learn_rng *rng)
{
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double learn_rng_uniform(learn_rng *rng)
{
    return (double)(learn_rng_next(rng) >> 11) * 0x1.0p-53;
}

/*
 * Returns an edge between a and b (a < b) such that a <= edge < b, so a
 * value equal to a falls in the lower bin and b in the upper one.
 */
static double edge_between(double a, double b)
{
    double mid = a + (b - a) / 2;
    if (isnan(mid) || mid >= b || mid < a)
        return a;
    return mid;
}

/*
 * Draws up to LEARN_BIN_SAMPLE_ROWS non-missing values in row order with
 * selection sampling (Knuth's algorithm S), so the sample depends only on
 * the seed and the data.
 */
static size_t sample_values(const double *values, size_t n_rows, uint64_t seed, double *sample)
{
    size_t n_present = 0;
    for (size_t i = 0; i < n_rows; i++)
        n_present += !isnan(values[i]);

    size_t want = n_present < LEARN_BIN_SAMPLE_ROWS ? n_present : LEARN_BIN_SAMPLE_ROWS;
    size_t taken = 0;
    size_t seen = 0;
    learn_rng rng;
    learn_rng_seed(&rng, seed, 0x62696e73);

    for (size_t i = 0; i < n_rows && taken < want; i++) {
        if (isnan(values[i]))
            continue;
        if (want == n_present || (double)(n_present - seen) * learn_rng_uniform(&rng) < (double)(want - taken))
            sample[taken++] = values[i];
        seen++;
    }
    return taken;
}

/*
 * Greedy quantile cuts over the sorted sample: each bin aims at an equal
 * share of the rows still to place, and a value too frequent for one share
 * gets a bin to itself, so a spike of zeros does not swallow its neighbours.
 */
static int choose_edges(const double *sorted, size_t n, int max_bins, double *edges)
{
    size_t n_distinct = 0;
    for (size_t i = 0; i < n; i++)
        n_distinct += i == 0 || sorted[i] != sorted[i - 1];

    int n_edges = 0;
    if (n_distinct <= (size_t)max_bins) {
        for (size_t i = 1; i < n; i++)
            if (sorted[i] != sorted[i - 1])
                edges[n_edges++] = edge_between(sorted[i - 1], sorted[i]);
        edges[n_edges++] = INFINITY;
        return n_edges;
    }

    size_t placed = 0;
    size_t in_bin = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && sorted[j] == sorted[i])
            j++;
        size_t run = j - i;
        int bins_left = max_bins - n_edges;
        double target = (double)(n - placed) / (bins_left > 0 ? bins_left : 1);

        /* Close the current bin before a value that would overfill it. */
        if (in_bin > 0 && (double)(in_bin + run) > target * 1.5 && n_edges < max_bins - 1) {
            edges[n_edges++] = edge_between(sorted[i - 1], sorted[i]);
            placed += in_bin;
            in_bin = 0;
        }
        in_bin += run;

        if ((double)in_bin >= target && j < n && n_edges < max_bins - 1) {
            edges[n_edges++] = edge_between(sorted[j - 1], sorted[j]);
            placed += in_bin;
            in_bin = 0;
        }
        i = j;
    }
    edges[n_edges++] = INFINITY;
    return n_edges;
}

ln_status learn_build_numeric_bins(learn_feature *feature, const double *values, size_t n_rows, int max_bins,
                                   uint64_t seed, ln_error *err)
{
    size_t cap = n_rows < LEARN_BIN_SAMPLE_ROWS ? n_rows : LEARN_BIN_SAMPLE_ROWS;
    double *sample = malloc((cap ? cap : 1) * sizeof *sample);
    double *scratch = malloc((cap ? cap : 1) * sizeof *scratch);
    double *edges = malloc(((size_t)max_bins + 1) * sizeof *edges);
    if (sample == NULL || scratch == NULL || edges == NULL) {
        free(sample);
        free(scratch);
        free(edges);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory binning '%s'", feature->name);
    }

    size_t n = sample_values(values, n_rows, seed, sample);
    ln_sort_doubles(sample, scratch, NULL, NULL, n);
    int n_edges = choose_edges(sample, n, max_bins, edges);
    free(sample);
    free(scratch);

    feature->edges = edges;
    feature->n_bins = n_edges + 1;
    return LN_OK;
}

uint8_t learn_numeric_bin(const learn_feature *feature, double value)
{
    if (isnan(value))
        return LEARN_MISSING_BIN;

    /*
     * Finds the first edge >= value. The last edge is +inf, so one exists.
     * The search halves the range without a branch on the comparison,
     * because a processor cannot predict it for values spread over the bins.
     */
    const double *edges = feature->edges;
    size_t base = 0;
    size_t n = (size_t)feature->n_bins - 1;
    if (n == 0)
        return 1;
    while (n > 1) {
        size_t half = n / 2;
        base = edges[base + half - 1] < value ? base + half : base;
        n -= half;
    }
    base += edges[base] < value;
    return (uint8_t)(base + 1);
}

typedef struct category_count {
    int32_t code;
    size_t count;
} category_count;

static int compare_counts(const void *a, const void *b)
{
    const category_count *x = a;
    const category_count *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (x->code > y->code) - (x->code < y->code);
}

/*
 * Keeps the categories with at least min_rows rows, the most frequent first
 * (ties by dictionary code), at most max_categories of them.
 */
ln_status learn_build_category_bins(learn_feature *feature, const ln_column *column, size_t n_rows,
                                    int max_categories, int min_rows, ln_error *err)
{
    int32_t dict_size = column->dict != NULL ? ln_dict_count(column->dict) : 0;
    category_count *counts = calloc((size_t)dict_size + 1, sizeof *counts);
    if (counts == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory counting the categories of '%s'", feature->name);

    for (int32_t c = 0; c < dict_size; c++)
        counts[c].code = c;
    for (size_t i = 0; i < n_rows; i++) {
        int32_t code = column->codes[i];
        if (code >= 0 && code < dict_size)
            counts[code].count++;
    }
    qsort(counts, (size_t)dict_size, sizeof *counts, compare_counts);

    int32_t kept = 0;
    while (kept < dict_size && kept < max_categories && counts[kept].count >= (size_t)min_rows)
        kept++;

    char **categories = calloc((size_t)kept + 1, sizeof *categories);
    if (categories == NULL) {
        free(counts);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory keeping the categories of '%s'", feature->name);
    }
    for (int32_t i = 0; i < kept; i++) {
        categories[i] = strdup(ln_dict_string(column->dict, counts[i].code));
        if (categories[i] == NULL) {
            for (int32_t j = 0; j < i; j++)
                free(categories[j]);
            free(categories);
            free(counts);
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory keeping the categories of '%s'",
                                feature->name);
        }
    }
    free(counts);

    feature->n_bins = LEARN_FIRST_CATEGORY_BIN + kept;
    return learn_feature_set_categories(feature, categories, kept, err);
}
