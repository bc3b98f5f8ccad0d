/*
 * Sorting of doubles in linear time: in place, or as an order of row indices.
 */
#ifndef LANNER_SORT_H
#define LANNER_SORT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Sorts n doubles (no NaN) ascending in O(n) with an LSD radix sort, moving
 * labels[i] (when labels is not NULL) with values[i]. scratch has room for
 * n doubles and label_scratch for n bytes. -0.0 sorts before 0.0, and equal
 * values keep their order.
 */
void ln_sort_doubles(double *values, double *scratch, unsigned char *labels, unsigned char *label_scratch, size_t n);

/*
 * Returns a new array of the row indices 0..n-1 ordered by descending score,
 * equal scores keeping their row order (-0.0 equals 0.0), or NULL when out
 * of memory. The caller frees it. Scores must not be NaN. O(n) radix sort.
 */
size_t *ln_order_descending(const double *scores, size_t n);

#ifdef __cplusplus
}
#endif

#endif
