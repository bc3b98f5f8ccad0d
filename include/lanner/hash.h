/*
 * Content hashes for lineage and caching: XXH3-128 (xxhash), written as 32
 * lowercase hex digits. Not a cryptographic hash: it detects change, not
 * tampering.
 */
#ifndef LANNER_HASH_H
#define LANNER_HASH_H

#include <stddef.h>

#include "lanner/table.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LN_HASH_HEX_SIZE 33 /* 32 hex digits and a NUL */

void ln_hash_bytes(const void *data, size_t size, char hex[LN_HASH_HEX_SIZE]);

/*
 * Hashes a table's names, types and values in row order, so the same data
 * from a CSV file or a SQL query has the same hash whatever its dictionaries'
 * code order.
 */
void ln_hash_table(const ln_table *table, char hex[LN_HASH_HEX_SIZE]);

#ifdef __cplusplus
}
#endif

#endif
