/*
 * The columnar table every lanner step reads: loaders fill it, the pipeline
 * splits it, learners and expressions read it.
 *
 *     ln_table *table = ln_table_new(n_rows);
 *     ln_column *amount = ln_table_add_column(table, "amount", LN_TYPE_FLOAT, &err);
 *     amount->values[0] = 12.5;
 *     ...
 *     ln_table_free(table);
 *
 * Numeric columns (integer, float, boolean, timestamp) keep one double per row,
 * NaN marking a missing value. Integers are therefore exact up to 2^53; a
 * loader must type a column with larger integers as category or text.
 * Category and text columns keep one int32 code per row into a shared,
 * reference-counted dictionary; code -1 marks a missing value.
 */
#ifndef LANNER_TABLE_H
#define LANNER_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lanner/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ln_type {
    LN_TYPE_INT = 0,   /* whole numbers, exact up to 2^53 */
    LN_TYPE_FLOAT,     /* real numbers; +-inf allowed, NaN is missing */
    LN_TYPE_BOOL,      /* 0 or 1 */
    LN_TYPE_TIMESTAMP, /* seconds since 1970-01-01T00:00:00Z */
    LN_TYPE_CATEGORY,  /* dictionary-encoded strings with few distinct values */
    LN_TYPE_TEXT,      /* dictionary-encoded free text; never a model feature */
} ln_type;

#define LN_MISSING_CODE (-1)

/* Returns "integer", "float", "boolean", "timestamp", "category" or "text". */
const char *ln_type_name(ln_type type);

/* Parses a name returned by ln_type_name; returns -1 for an unknown name. */
int ln_type_from_name(const char *name);

static inline int ln_type_is_numeric(ln_type type)
{
    return type == LN_TYPE_INT || type == LN_TYPE_FLOAT || type == LN_TYPE_BOOL ||
           type == LN_TYPE_TIMESTAMP;
}

/*
 * A string dictionary: each distinct string gets the next code from 0.
 * Strings may contain any bytes but NUL. Reference-counted so that the row
 * subsets of a table share one dictionary.
 */
typedef struct ln_dict ln_dict;

ln_dict *ln_dict_new(void);
ln_dict *ln_dict_retain(ln_dict *dict);
void ln_dict_release(ln_dict *dict);

/*
 * Returns the code of the string (adding it when new), or -1 when memory runs
 * out or the dictionary already contains LN_MAX_DICT_SIZE strings.
 */
int32_t ln_dict_intern(ln_dict *dict, const char *text, size_t length);

/* Returns the code of the string, or -1 when it is not in the dictionary. */
int32_t ln_dict_find(const ln_dict *dict, const char *text, size_t length);

/* Returns the NUL-terminated string for code; the dictionary owns it. */
const char *ln_dict_string(const ln_dict *dict, int32_t code);

size_t ln_dict_string_length(const ln_dict *dict, int32_t code);

int32_t ln_dict_count(const ln_dict *dict);

typedef struct ln_column {
    char *name;
    ln_type type;
    double *values;  /* numeric types: n_rows values, NaN when missing */
    int32_t *codes;  /* category and text: n_rows codes, -1 when missing */
    ln_dict *dict;   /* category and text: the strings behind the codes */
} ln_column;

typedef struct ln_table {
    size_t n_rows;
    size_t n_cols;
    size_t cap_cols;
    ln_dict *names;  /* column names in column order, so a name's code is its index */
    ln_column *cols;
} ln_table;

/* Returns an empty table with n_rows rows and no columns, or NULL when out of memory. */
ln_table *ln_table_new(size_t n_rows);

void ln_table_free(ln_table *table);

/*
 * Appends a column with storage for n_rows rows, every row missing. A
 * category or text column gets a fresh dictionary. Returns the column, which
 * the table owns and which stays valid until the next add; NULL on error
 * (duplicate or empty name, out of memory).
 */
ln_column *ln_table_add_column(ln_table *table, const char *name, ln_type type, ln_error *err);

/* Returns the column's index, or -1 when no column has that name. */
int ln_table_find(const ln_table *table, const char *name);

ln_column *ln_table_column(ln_table *table, const char *name);

/*
 * Returns a new table holding rows[0..n-1] of table, in that order; string
 * columns share the source's dictionaries. The caller frees the result.
 */
ln_table *ln_table_take_rows(const ln_table *table, const size_t *rows, size_t n, ln_error *err);

/* Returns 1 when the row's value in column is missing. */
int ln_column_is_missing(const ln_column *column, size_t row);

/*
 * Formats the value at row as text into buffer (capacity bytes), writing an
 * empty string for a missing value. Numbers use the shortest form that reads
 * back to the same double; timestamps use ISO 8601 in UTC.
 */
void ln_column_format(const ln_column *column, size_t row, char *buffer, size_t capacity);

/*
 * Changes a column's type in place: category or text to a numeric type
 * (every non-missing string must parse, else LN_ERR_DATA naming the first
 * bad row), numeric to category (values become their text), category and
 * text into each other.
 */
ln_status ln_column_convert(ln_column *column, ln_type type, size_t n_rows, ln_error *err);

/*
 * Writes the table as RFC 4180 CSV (header row, LF line ends, missing values
 * empty) to path through a temporary file and rename. Numbers are written so
 * they read back to the same double.
 */
ln_status ln_table_write_csv(const ln_table *table, const char *path, ln_error *err);

/* Writes text as one CSV field, quoted when it contains a comma, quote or line break. */
void ln_csv_write_field(FILE *out, const char *text);

#ifdef __cplusplus
}
#endif

#endif
