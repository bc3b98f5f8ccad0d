/*
 * Column profiles: counts, moments, exact quantiles, histograms, top
 * categories and each column's univariate AUC against a target. Each numeric
 * column is copied once (finite values only), radix-sorted, and every order
 * statistic is read off the sorted copy. Columns are profiled in parallel.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "contract/contract_internal.h"

const double ln_profile_quantile_levels[LN_PROFILE_N_QUANTILES] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};

/* Folds for the out-of-fold category positive rates behind a category column's AUC. */
#define CATEGORY_AUC_FOLDS 5

/* Threads that profile columns at once. Each one allocates two arrays of n_rows doubles. */
#define PROFILE_MAX_THREADS 8

/* Neumaier-compensated sum, so the mean of a million values keeps its last digits. */
typedef struct compensated_sum {
    double sum;
    double compensation;
} compensated_sum;

static void sum_add(compensated_sum *s, double value)
{
    double t = s->sum + value;

    if (fabs(s->sum) >= fabs(value))
        s->compensation += (s->sum - t) + value;
    else
        s->compensation += (value - t) + s->sum;
    s->sum = t;
}

static double sum_value(const compensated_sum *s)
{
    return isfinite(s->sum) ? s->sum + s->compensation : s->sum;
}

/* Linear interpolation between order statistics, numpy.quantile's default ("linear", type 7). */
static double sorted_quantile(const double *sorted, size_t n, double level)
{
    double position = level * (double)(n - 1);
    size_t low = (size_t)floor(position);
    size_t high = low + 1 < n ? low + 1 : n - 1;
    double fraction = position - (double)low;
    double a = sorted[low];
    double b = sorted[high];

    if (fraction == 0.0 || a == b)
        return a;
    double difference = b - a;
    if (!isfinite(difference))
        return a * (1.0 - fraction) + b * fraction;
    return fraction < 0.5 ? a + difference * fraction : b - difference * (1.0 - fraction);
}

static void fill_histogram(ln_column_profile *profile, const double *sorted, size_t n)
{
    /* Halves keep max - min finite for values near the largest double. */
    double half_width = profile->max * 0.5 - profile->min * 0.5;

    for (size_t i = 0; i < n; i++) {
        size_t bin = 0;
        if (half_width > 0) {
            double position = (sorted[i] * 0.5 - profile->min * 0.5) / half_width * LN_PROFILE_HISTOGRAM_BINS;
            bin = position >= LN_PROFILE_HISTOGRAM_BINS ? LN_PROFILE_HISTOGRAM_BINS - 1 : (size_t)position;
        }
        profile->histogram[bin]++;
    }
}

/* Scratch memory one worker reuses across columns. */
typedef struct worker_scratch {
    double *values;
    double *other;
    unsigned char *labels;      /* per value: 0 negative, 1 positive, NO_LABEL */
    unsigned char *label_other;
} worker_scratch;

/* A label byte for a row whose target is missing. */
#define NO_LABEL 2

/*
 * Accumulates the Mann-Whitney count over groups of tied scores visited in
 * ascending order: each positive in a group beats the negatives of earlier
 * groups and ties (one half each) with the negatives of its own.
 */
typedef struct rank_sum {
    double correct_pairs; /* whole or half counts below 2^53, so the sum is exact */
    size_t positives;
    size_t negatives;
} rank_sum;

static void rank_sum_add_group(rank_sum *sum, size_t positives, size_t negatives)
{
    sum->correct_pairs += (double)positives * ((double)sum->negatives + 0.5 * (double)negatives);
    sum->positives += positives;
    sum->negatives += negatives;
}

/* Stores max(AUC, 1 - AUC) and its direction; leaves NaN when a class is absent. */
static void set_auc(ln_column_profile *profile, const rank_sum *sum)
{
    if (sum->positives == 0 || sum->negatives == 0)
        return;
    double auc = sum->correct_pairs / ((double)sum->positives * (double)sum->negatives);
    profile->auc_direction = auc >= 0.5 ? 1 : -1;
    profile->auc = auc >= 0.5 ? auc : 1.0 - auc;
}

static void profile_numeric(ln_column_profile *profile, const ln_column *column, const double *labels,
                            size_t n_rows, worker_scratch *scratch)
{
    compensated_sum sum = {0};
    double *finite = scratch->values;
    unsigned char *finite_labels = labels != NULL ? scratch->labels : NULL;
    size_t infinite_labels[2][3] = {{0}}; /* [0: -inf, 1: +inf][label byte] */
    size_t n = 0;

    profile->all_whole = 1;
    for (size_t r = 0; r < n_rows; r++) {
        double value = column->values[r];
        unsigned char label = labels == NULL || isnan(labels[r]) ? NO_LABEL : (unsigned char)labels[r];
        if (isnan(value)) {
            profile->missing++;
        } else if (isinf(value)) {
            if (value > 0)
                profile->positive_infinite++;
            else
                profile->negative_infinite++;
            infinite_labels[value > 0][label]++;
        } else {
            if (finite_labels != NULL)
                finite_labels[n] = label;
            finite[n++] = value;
            sum_add(&sum, value);
            if (value != floor(value))
                profile->all_whole = 0;
        }
    }
    profile->finite = n;

    profile->min = profile->max = profile->mean = profile->std = NAN;
    for (int q = 0; q < LN_PROFILE_N_QUANTILES; q++)
        profile->quantiles[q] = NAN;
    if (n > 0) {
        ln_sort_doubles(finite, scratch->other, finite_labels, scratch->label_other, n);
        profile->min = finite[0];
        profile->max = finite[n - 1];
        profile->mean = sum_value(&sum) / (double)n;
        for (int q = 0; q < LN_PROFILE_N_QUANTILES; q++)
            profile->quantiles[q] = sorted_quantile(finite, n, ln_profile_quantile_levels[q]);
        fill_histogram(profile, finite, n);
    }

    /*
     * Second pass for the variance: squared deviations from the mean lose
     * less than a running update. They are all positive, so a plain sum in
     * four lanes is accurate enough and lets the compiler vectorise it.
     */
    if (n > 1) {
        double lanes[4] = {0};
        size_t i = 0;
        for (; i + 4 <= n; i += 4)
            for (int lane = 0; lane < 4; lane++) {
                double deviation = finite[i + lane] - profile->mean;
                lanes[lane] += deviation * deviation;
            }
        for (; i < n; i++) {
            double deviation = finite[i] - profile->mean;
            lanes[0] += deviation * deviation;
        }
        profile->std = sqrt((lanes[0] + lanes[1] + lanes[2] + lanes[3]) / (double)(n - 1));
    }

    /* One walk over the groups of equal values counts distinct values and the AUC's rank sum. */
    rank_sum ranks = {0};
    rank_sum_add_group(&ranks, infinite_labels[0][1], infinite_labels[0][0]);
    for (size_t i = 0; i < n;) {
        size_t end = i + 1;
        size_t group_labels[3] = {0};
        if (finite_labels != NULL)
            group_labels[finite_labels[i]]++;
        while (end < n && finite[end] == finite[i]) {
            if (finite_labels != NULL)
                group_labels[finite_labels[end]]++;
            end++;
        }
        profile->distinct++;
        profile->singletons += end - i == 1;
        rank_sum_add_group(&ranks, group_labels[1], group_labels[0]);
        i = end;
    }
    rank_sum_add_group(&ranks, infinite_labels[1][1], infinite_labels[1][0]);
    profile->distinct += (profile->positive_infinite > 0) + (profile->negative_infinite > 0);
    profile->singletons += (profile->positive_infinite == 1) + (profile->negative_infinite == 1);

    if (labels != NULL)
        set_auc(profile, &ranks);
}

/* Rows of one fold and category: their out-of-fold score and their classes. */
typedef struct score_group {
    double score;
    size_t positives;
    size_t negatives;
} score_group;

static int compare_scores(const void *a, const void *b)
{
    double x = ((const score_group *)a)->score, y = ((const score_group *)b)->score;
    return (x > y) - (x < y);
}

/*
 * Scores each row by its category's positive rate in the other folds (the
 * other folds' overall rate for a category they lack) and sets the AUC of
 * those scores. Rows of one fold and category share a score, so the AUC
 * comes from at most folds x categories groups, sorted by score.
 */
static ln_status category_out_of_fold_auc(ln_column_profile *profile, const ln_column *column,
                                          const double *labels, size_t n_rows, size_t n_codes)
{
    size_t cells = CATEGORY_AUC_FOLDS * n_codes;
    size_t *rows = calloc(2 * cells + 1, sizeof *rows);
    score_group *groups = malloc((cells + 1) * sizeof *groups);
    size_t fold_rows[CATEGORY_AUC_FOLDS] = {0}, fold_positives[CATEGORY_AUC_FOLDS] = {0};
    size_t all_rows = 0, all_positives = 0, n_groups = 0;

    if (rows == NULL || groups == NULL) {
        free(rows);
        free(groups);
        return LN_ERR_NOMEM;
    }
    size_t *positives = rows + cells;

    for (size_t r = 0; r < n_rows; r++) {
        int32_t code = column->codes[r];
        if (code < 0 || isnan(labels[r]))
            continue;
        size_t fold = r % CATEGORY_AUC_FOLDS;
        size_t positive = labels[r] == 1.0;
        rows[fold * n_codes + (size_t)code]++;
        positives[fold * n_codes + (size_t)code] += positive;
        fold_rows[fold]++;
        fold_positives[fold] += positive;
        all_rows++;
        all_positives += positive;
    }

    for (size_t fold = 0; fold < CATEGORY_AUC_FOLDS; fold++) {
        size_t prior_rows = all_rows - fold_rows[fold];
        double prior = prior_rows > 0 ? (double)(all_positives - fold_positives[fold]) / (double)prior_rows : 0.0;
        for (size_t code = 0; code < n_codes; code++) {
            size_t cell_rows = rows[fold * n_codes + code];
            if (cell_rows == 0)
                continue;
            size_t other_rows = 0, other_positives = 0;
            for (size_t f = 0; f < CATEGORY_AUC_FOLDS; f++) {
                if (f == fold)
                    continue;
                other_rows += rows[f * n_codes + code];
                other_positives += positives[f * n_codes + code];
            }
            score_group *group = &groups[n_groups++];
            group->score = other_rows > 0 ? (double)other_positives / (double)other_rows : prior;
            group->positives = positives[fold * n_codes + code];
            group->negatives = cell_rows - group->positives;
        }
    }

    qsort(groups, n_groups, sizeof *groups, compare_scores);
    rank_sum ranks = {0};
    for (size_t i = 0; i < n_groups;) {
        size_t group_positives = 0, group_negatives = 0, end = i;
        for (; end < n_groups && groups[end].score == groups[i].score; end++) {
            group_positives += groups[end].positives;
            group_negatives += groups[end].negatives;
        }
        rank_sum_add_group(&ranks, group_positives, group_negatives);
        i = end;
    }
    set_auc(profile, &ranks);
    free(rows);
    free(groups);
    return LN_OK;
}

/* Orders codes by descending count, ties by ascending code. */
static int count_before(const size_t *counts, int32_t a, int32_t b)
{
    return counts[a] > counts[b] || (counts[a] == counts[b] && a < b);
}

static int32_t *top_codes(const size_t *counts, size_t n_codes, size_t keep)
{
    int32_t *top = malloc((keep ? keep : 1) * sizeof *top);
    size_t n = 0;

    if (top == NULL)
        return NULL;
    /* Insertion into a short sorted list: keep is at most LN_CONTRACT_MAX_INFERRED_VALUES. */
    for (size_t code = 0; code < n_codes; code++) {
        if (counts[code] == 0)
            continue;
        if (n == keep && !count_before(counts, (int32_t)code, top[n - 1]))
            continue;
        size_t at = n < keep ? n++ : n - 1;
        while (at > 0 && count_before(counts, (int32_t)code, top[at - 1])) {
            top[at] = top[at - 1];
            at--;
        }
        top[at] = (int32_t)code;
    }
    return top;
}

static ln_status profile_strings(ln_column_profile *profile, const ln_column *column, const double *labels,
                                 size_t n_rows)
{
    size_t n_codes = (size_t)ln_dict_count(column->dict);
    size_t *counts = calloc(2 * n_codes + 1, sizeof *counts);
    ln_status status = LN_OK;

    if (counts == NULL)
        return LN_ERR_NOMEM;
    size_t *positives = counts + n_codes;
    size_t *target_rows = NULL;

    if (labels != NULL) {
        target_rows = calloc(n_codes + 1, sizeof *target_rows);
        if (target_rows == NULL) {
            free(counts);
            return LN_ERR_NOMEM;
        }
    }
    for (size_t r = 0; r < n_rows; r++) {
        int32_t code = column->codes[r];
        if (code < 0) {
            profile->missing++;
            continue;
        }
        counts[code]++;
        if (labels != NULL && !isnan(labels[r])) {
            target_rows[code]++;
            positives[code] += labels[r] == 1.0;
        }
    }
    for (size_t code = 0; code < n_codes; code++) {
        profile->distinct += counts[code] > 0;
        profile->singletons += counts[code] == 1;
    }

    size_t present = n_rows - profile->missing;
    size_t keep = profile->distinct <= LN_CONTRACT_MAX_INFERRED_VALUES ? profile->distinct : LN_PROFILE_TOP_CATEGORIES;
    int32_t *top = top_codes(counts, n_codes, keep);
    profile->categories = calloc(keep + 1, sizeof *profile->categories);
    if (top == NULL || profile->categories == NULL) {
        status = LN_ERR_NOMEM;
        goto done;
    }
    profile->categories_complete = keep == profile->distinct;
    for (size_t i = 0; i < keep; i++) {
        ln_category_count *category = &profile->categories[i];
        category->value = contract_strdup(ln_dict_string(column->dict, top[i]));
        if (category->value == NULL) {
            status = LN_ERR_NOMEM;
            goto done;
        }
        profile->n_categories++;
        category->count = counts[top[i]];
        category->share = (double)category->count / (double)present;
        category->positive_rate = NAN;
        if (labels != NULL && target_rows[top[i]] > 0)
            category->positive_rate = (double)positives[top[i]] / (double)target_rows[top[i]];
    }

    if (labels != NULL && column->type == LN_TYPE_CATEGORY)
        status = category_out_of_fold_auc(profile, column, labels, n_rows, n_codes);

done:
    free(top);
    free(counts);
    free(target_rows);
    return status;
}

static ln_status profile_column(ln_column_profile *profile, const ln_column *column, const double *labels,
                                size_t n_rows, worker_scratch *scratch)
{
    profile->name = contract_strdup(column->name);
    if (profile->name == NULL)
        return LN_ERR_NOMEM;
    profile->type = column->type;
    profile->count = n_rows;
    profile->auc = NAN;
    profile->min = profile->max = profile->mean = profile->std = NAN;
    for (int q = 0; q < LN_PROFILE_N_QUANTILES; q++)
        profile->quantiles[q] = NAN;

    ln_status status = LN_OK;
    if (ln_type_is_numeric(column->type))
        profile_numeric(profile, column, labels, n_rows, scratch);
    else
        status = profile_strings(profile, column, labels, n_rows);
    profile->missing_share = n_rows > 0 ? (double)profile->missing / (double)n_rows : 0.0;
    return status;
}

/* Work shared by the threads: each takes the next column until none is left. */
typedef struct profile_job {
    const ln_table *table;
    ln_profile *profile;
    const double *labels;
    int target_index;
    pthread_mutex_t lock;
    size_t next_column;
    ln_status status;
} profile_job;

static void *profile_worker(void *argument)
{
    profile_job *job = argument;
    size_t n_rows = job->table->n_rows;
    worker_scratch scratch = {malloc((n_rows + 1) * sizeof(double)), malloc((n_rows + 1) * sizeof(double)),
                              malloc(n_rows + 1), malloc(n_rows + 1)};

    for (;;) {
        pthread_mutex_lock(&job->lock);
        size_t c = job->next_column++;
        if (scratch.values == NULL || scratch.other == NULL || scratch.labels == NULL || scratch.label_other == NULL)
            job->status = LN_ERR_NOMEM;
        int stop = c >= job->table->n_cols || job->status != LN_OK;
        pthread_mutex_unlock(&job->lock);
        if (stop)
            break;

        const double *labels = (int)c == job->target_index ? NULL : job->labels;
        ln_status status = profile_column(&job->profile->columns[c], &job->table->cols[c], labels, n_rows, &scratch);
        if (status != LN_OK) {
            pthread_mutex_lock(&job->lock);
            job->status = status;
            pthread_mutex_unlock(&job->lock);
        }
    }
    free(scratch.values);
    free(scratch.other);
    free(scratch.labels);
    free(scratch.label_other);
    return NULL;
}

static ln_status run_workers(profile_job *job, ln_error *err)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n_threads = cores > 0 ? (size_t)cores : 1;
    pthread_t threads[PROFILE_MAX_THREADS];
    size_t started = 0;

    if (n_threads > PROFILE_MAX_THREADS)
        n_threads = PROFILE_MAX_THREADS;
    if (n_threads > job->table->n_cols)
        n_threads = job->table->n_cols;

    /* The calling thread works too, so a failed pthread_create only slows the profile down. */
    for (size_t t = 1; t < n_threads; t++) {
        if (pthread_create(&threads[started], NULL, profile_worker, job) != 0)
            break;
        started++;
    }
    profile_worker(job);
    for (size_t t = 0; t < started; t++)
        pthread_join(threads[t], NULL);

    if (job->status != LN_OK)
        return ln_error_set(err, job->status, "out of memory while profiling %zu rows", job->table->n_rows);
    return LN_OK;
}

/* Parses a positive label for a numeric target: a number, or true/false. */
static int parse_numeric_label(const char *text, double *value)
{
    char *end;

    if (strcmp(text, "true") == 0 || strcmp(text, "True") == 0 || strcmp(text, "TRUE") == 0) {
        *value = 1.0;
        return 0;
    }
    if (strcmp(text, "false") == 0 || strcmp(text, "False") == 0 || strcmp(text, "FALSE") == 0) {
        *value = 0.0;
        return 0;
    }
    *value = strtod(text, &end);
    return end != text && *end == '\0' && !isnan(*value) ? 0 : -1;
}

/* Fills labels (n_rows values: 1 positive, 0 negative, NaN for a missing target) and the profile's target fields. */
static ln_status make_labels(const ln_table *table, int index, const char *positive, ln_profile *profile,
                             double *labels, ln_error *err)
{
    const ln_column *column = &table->cols[index];
    double numeric_positive = 1.0;
    int32_t code = -2;

    if (ln_type_is_numeric(column->type)) {
        if (positive != NULL && parse_numeric_label(positive, &numeric_positive) != 0)
            return ln_error_set(err, LN_ERR_CONFIG,
                                "target column '%s' is %s: the positive label must be a number or true/false, "
                                "found '%s'",
                                column->name, ln_type_name(column->type), positive);
    } else {
        if (positive == NULL)
            return ln_error_set(err, LN_ERR_CONFIG,
                                "target column '%s' holds strings: name the positive label (for example "
                                "--positive '%s')",
                                column->name, ln_dict_count(column->dict) > 0 ? ln_dict_string(column->dict, 0) : "yes");
        code = ln_dict_find(column->dict, positive, strlen(positive));
    }

    for (size_t r = 0; r < table->n_rows; r++) {
        if (ln_column_is_missing(column, r)) {
            labels[r] = NAN;
            continue;
        }
        int is_positive = ln_type_is_numeric(column->type) ? column->values[r] == numeric_positive
                                                          : column->codes[r] == code;
        labels[r] = is_positive ? 1.0 : 0.0;
        profile->target_rows++;
        profile->positives += (size_t)is_positive;
    }

    if (profile->positives == 0 || profile->positives == profile->target_rows)
        return ln_error_set(err, LN_ERR_DATA,
                            "target column '%s': %zu of %zu rows with a value equal '%s', so there is one class; "
                            "check the positive label",
                            column->name, profile->positives, profile->target_rows,
                            positive != NULL ? positive : "1");
    profile->positive_rate = (double)profile->positives / (double)profile->target_rows;
    return LN_OK;
}

static ln_status set_target(const ln_table *table, const char *target, const char *positive, ln_profile *profile,
                            double **labels, int *index, ln_error *err)
{
    *index = ln_table_find(table, target);
    if (*index < 0)
        return ln_error_set(err, LN_ERR_NOT_FOUND, "target column '%s' not found in the data", target);

    profile->target = contract_strdup(target);
    profile->positive = contract_strdup(positive != NULL ? positive : "1");
    *labels = malloc((table->n_rows + 1) * sizeof **labels);
    if (profile->target == NULL || profile->positive == NULL || *labels == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory while reading target column '%s'", target);
    return make_labels(table, *index, positive, profile, *labels, err);
}

ln_status ln_profile_table(const ln_table *table, const char *target, const char *positive, ln_profile **out,
                           ln_error *err)
{
    profile_job job = {.table = table, .target_index = -1, .status = LN_OK};
    double *labels = NULL;
    ln_status status;

    *out = NULL;
    ln_profile *profile = calloc(1, sizeof *profile);
    if (profile == NULL || (profile->columns = calloc(table->n_cols + 1, sizeof *profile->columns)) == NULL) {
        free(profile);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory while profiling %zu columns", table->n_cols);
    }
    profile->n_rows = table->n_rows;
    profile->n_cols = table->n_cols;
    profile->positive_rate = NAN;

    if (target != NULL) {
        status = set_target(table, target, positive, profile, &labels, &job.target_index, err);
        if (status != LN_OK)
            goto fail;
    }

    job.profile = profile;
    job.labels = labels;
    pthread_mutex_init(&job.lock, NULL);
    status = run_workers(&job, err);
    pthread_mutex_destroy(&job.lock);
    if (status != LN_OK)
        goto fail;

    free(labels);
    *out = profile;
    return LN_OK;

fail:
    free(labels);
    ln_profile_free(profile);
    return status;
}

void ln_profile_free(ln_profile *profile)
{
    if (profile == NULL)
        return;
    for (size_t c = 0; c < profile->n_cols; c++) {
        ln_column_profile *column = &profile->columns[c];
        free(column->name);
        for (size_t i = 0; i < column->n_categories; i++)
            free(column->categories[i].value);
        free(column->categories);
    }
    free(profile->columns);
    free(profile->target);
    free(profile->positive);
    free(profile);
}
