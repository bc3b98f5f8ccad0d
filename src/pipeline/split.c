#include "pipeline/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/random.h"

static void shuffle(size_t *rows, size_t n, uint64_t *state)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(ln_splitmix64(state) % i);
        size_t swap = rows[i - 1];
        rows[i - 1] = rows[j];
        rows[j] = swap;
    }
}

static ln_status allocate_split(split_rows *split, size_t n, ln_error *err)
{
    size_t count = n ? n : 1;

    memset(split, 0, sizeof *split);
    split->train = malloc(count * sizeof *split->train);
    split->valid = malloc(count * sizeof *split->valid);
    split->test = malloc(count * sizeof *split->test);
    if (split->train == NULL || split->valid == NULL || split->test == NULL) {
        split_rows_free(split);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory splitting %zu rows", n);
    }
    return LN_OK;
}

/* Deals rows[0..n-1] out in order: the first share to train, then valid, then test. */
static void deal(const size_t *rows, size_t n, double valid_share, double test_share, split_rows *split)
{
    size_t n_test = (size_t)llround((double)n * test_share);
    size_t n_valid = (size_t)llround((double)n * valid_share);

    if (n_test + n_valid > n)
        n_valid = n - n_test;
    size_t n_train = n - n_valid - n_test;

    memcpy(split->train + split->n_train, rows, n_train * sizeof *rows);
    memcpy(split->valid + split->n_valid, rows + n_train, n_valid * sizeof *rows);
    memcpy(split->test + split->n_test, rows + n_train + n_valid, n_test * sizeof *rows);
    split->n_train += n_train;
    split->n_valid += n_valid;
    split->n_test += n_test;
}

static int compare_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a;
    size_t y = *(const size_t *)b;

    return (x > y) - (x < y);
}

ln_status split_stratified(const double *labels, size_t n, double valid_share, double test_share,
                           uint64_t seed, split_rows *split, ln_error *err)
{
    ln_status status = allocate_split(split, n, err);
    if (status != LN_OK)
        return status;

    size_t *rows = malloc((n ? n : 1) * sizeof *rows);
    if (rows == NULL) {
        split_rows_free(split);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory splitting %zu rows", n);
    }

    uint64_t state = seed;
    for (int label = 0; label <= 1; label++) {
        size_t count = 0;
        for (size_t i = 0; i < n; i++) {
            if (labels[i] == (double)label)
                rows[count++] = i;
        }
        shuffle(rows, count, &state);
        deal(rows, count, valid_share, test_share, split);
    }
    free(rows);

    /* Row order inside each split follows the data, which keeps results easy to compare. */
    qsort(split->train, split->n_train, sizeof *split->train, compare_size);
    qsort(split->valid, split->n_valid, sizeof *split->valid, compare_size);
    qsort(split->test, split->n_test, sizeof *split->test, compare_size);
    return LN_OK;
}

typedef struct timed_row {
    double time;
    size_t row;
} timed_row;

static int compare_timed_row(const void *a, const void *b)
{
    const timed_row *x = a;
    const timed_row *y = b;

    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

ln_status split_by_time(const ln_column *time, size_t n, double valid_share, double test_share,
                        split_rows *split, ln_error *err)
{
    if (!ln_type_is_numeric(time->type))
        return ln_error_set(err, LN_ERR_CONFIG,
                            "time column '%s' is %s; it must be a timestamp or a number "
                            "(set its type with data.schema)",
                            time->name, ln_type_name(time->type));

    for (size_t i = 0; i < n; i++) {
        if (isnan(time->values[i]))
            return ln_error_set(err, LN_ERR_DATA,
                                "time column '%s' is missing on data row %zu; every row needs a time "
                                "to be placed in the train, valid or test split",
                                time->name, i + 1);
    }

    timed_row *order = malloc((n ? n : 1) * sizeof *order);
    size_t *rows = malloc((n ? n : 1) * sizeof *rows);
    ln_status status = order && rows ? allocate_split(split, n, err)
                                     : ln_error_set(err, LN_ERR_NOMEM, "out of memory splitting %zu rows", n);
    if (status == LN_OK) {
        for (size_t i = 0; i < n; i++)
            order[i] = (timed_row){time->values[i], i};
        qsort(order, n, sizeof *order, compare_timed_row);
        for (size_t i = 0; i < n; i++)
            rows[i] = order[i].row;
        deal(rows, n, valid_share, test_share, split);
    }
    free(order);
    free(rows);
    return status;
}

void split_rows_free(split_rows *split)
{
    free(split->train);
    free(split->valid);
    free(split->test);
    memset(split, 0, sizeof *split);
}
