/*
 * Pieces shared by the files of the monitor module.
 */
#ifndef LANNER_MONITOR_INTERNAL_H
#define LANNER_MONITOR_INTERNAL_H

#include <stddef.h>

#include "lanner/monitor.h"

/* Returns the bin of value among n_edges increasing edges: the number of edges <= value. */
size_t monitor_bin_of(const double *edges, size_t n_edges, double value);

/*
 * Parses an ISO 8601 UTC time "YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM|-HH:MM]"
 * into seconds since 1970; returns -1 when text is not one.
 */
int monitor_parse_time(const char *text, double *seconds);

/* Formats seconds since 1970 as "YYYY-MM-DDTHH:MM:SSZ" into out. */
void monitor_format_time(double seconds, char *out, size_t capacity);

/* Compares drifts by PSI, largest first, NaN last. */
int monitor_compare_drift(const void *a, const void *b);

#endif
