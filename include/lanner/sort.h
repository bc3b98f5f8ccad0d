/*
 * Sorting of doubles in linear time.
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

#ifdef __cplusplus
}
#endif

#endif
