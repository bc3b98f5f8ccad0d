/*
 * Train, valid and test splits as lists of row indices into the loaded table.
 */
#ifndef LANNER_PIPELINE_SPLIT_H
#define LANNER_PIPELINE_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "lanner/table.h"

typedef struct split_rows {
    size_t *train, *valid, *test;
    size_t n_train, n_valid, n_test;
} split_rows;

/*
 * Shuffles each class separately with a seeded generator and deals it out,
 * so each split keeps the data's positive rate. Rows keep data order within
 * a split.
 */
ln_status split_stratified(const double *labels, size_t n, double valid_share, double test_share,
                           uint64_t seed, split_rows *split, ln_error *err);

/*
 * Orders rows by time (ties by row order): the earliest rows train, the next
 * validate, the latest test, so the future never leaks into training.
 */
ln_status split_by_time(const ln_column *time, size_t n, double valid_share, double test_share,
                        split_rows *split, ln_error *err);

void split_rows_free(split_rows *split);

#endif
