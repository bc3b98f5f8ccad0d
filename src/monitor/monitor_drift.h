/*
 * Drift of one distribution against its reference (drift.c), used by the
 * whole comparison and by each time window.
 */
#ifndef LANNER_MONITOR_DRIFT_H
#define LANNER_MONITOR_DRIFT_H

#include "lanner/monitor.h"

/*
 * Fills drift for a numeric reference feature from values[rows[k]] for
 * k < n (rows NULL: values[0 .. n-1]); NaN is missing.
 */
ln_status monitor_numeric_drift(const ln_reference_feature *feature, const double *values, const size_t *rows,
                                size_t n, ln_drift *drift, ln_error *err);

/* Fills drift for a category reference feature from column's codes at rows (NULL: the first n rows). */
ln_status monitor_category_drift(const ln_reference_feature *feature, const ln_column *column, const size_t *rows,
                                 size_t n, ln_drift *drift, ln_error *err);

/* Fills drift of the flag and pass shares against the valid split's flag rate. */
ln_status monitor_decision_drift(const ln_reference *reference, const unsigned char *flags, size_t n,
                                 ln_drift *drift, ln_error *err);

/* Frees what a drift holds and zeroes it. */
void monitor_drift_clear(ln_drift *drift);

#endif
