/*
 * Shared internals of the data module: cell parsers, the per-column type
 * statistics that inference runs on, and the table assembly that the CSV and
 * SQLite loaders share.
 *
 * Loaders write each cell into one double "slot" per row before the column
 * type is known: a number, the canonical NaN for a missing cell, or a string
 * code NaN-boxed into the payload of a second NaN pattern (data_box_code).
 * data_parse_number never returns NaN because its grammar has no nan
 * spelling, so the three cases cannot collide.
 */
#ifndef LANNER_DATA_INTERNAL_H
#define LANNER_DATA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lanner/data.h"
#include "lanner/table.h"

/* What one non-override cell parses as; the order is also the index into data_column_stats.counts. */
typedef enum data_cell_class {
    DATA_CELL_MISSING = 0,
    DATA_CELL_INT,       /* integer literal within +-2^53 */
    DATA_CELL_BIG_INT,   /* integer literal beyond 2^53: float if mixed with decimals, else a string */
    DATA_CELL_FLOAT,     /* decimal, exponent or infinity */
    DATA_CELL_BOOL,
    DATA_CELL_TIMESTAMP,
    DATA_CELL_STRING,
    DATA_CELL_CLASS_COUNT,
} data_cell_class;

/* ---- slots ---- */

#define DATA_MISSING_BITS 0x7ff8000000000000ull
#define DATA_CODE_BITS 0x7ffc000000000000ull
#define DATA_CODE_MASK 0x00000000ffffffffull

static inline double data_bits_to_double(uint64_t bits)
{
    double value;

    memcpy(&value, &bits, sizeof value);
    return value;
}

static inline uint64_t data_double_to_bits(double value)
{
    uint64_t bits;

    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static inline double data_missing_slot(void)
{
    return data_bits_to_double(DATA_MISSING_BITS);
}

static inline double data_box_code(int32_t code)
{
    return data_bits_to_double(DATA_CODE_BITS | (uint32_t)code);
}

/* Returns the string code in slot, or -1 when slot contains a number or a missing value. */
static inline int32_t data_unbox_code(double slot)
{
    uint64_t bits = data_double_to_bits(slot);

    if ((bits & ~DATA_CODE_MASK) != DATA_CODE_BITS)
        return -1;
    return (int32_t)(bits & DATA_CODE_MASK);
}

/* ---- missing markers ---- */

typedef struct data_markers {
    const char *text[LN_MAX_MISSING_MARKERS];
    size_t length[LN_MAX_MISSING_MARKERS];
    size_t count;
    int has_empty;                  /* "" is a marker */
    unsigned char first_byte[256];  /* 1 when some marker starts with that byte */
} data_markers;

/* Fills markers from options (NULL or no markers: the defaults). LN_ERR_CONFIG on too many or too long markers. */
ln_status data_markers_init(data_markers *markers, const ln_load_options *options, ln_error *err);

static inline int data_is_missing(const data_markers *markers, const char *text, size_t length)
{
    if (length == 0)
        return markers->has_empty;
    if (!markers->first_byte[(unsigned char)text[0]])
        return 0;
    for (size_t i = 0; i < markers->count; i++) {
        if (markers->length[i] == length && memcmp(markers->text[i], text, length) == 0)
            return 1;
    }
    return 0;
}

/* ---- cell parsers: each returns 1 and sets *value when the whole text parses ---- */

/*
 * Parses a decimal number (optional sign, digits with an optional point,
 * optional exponent) or inf/infinity, ignoring surrounding spaces and tabs.
 * decimal_comma makes ',' the decimal point. *integer_literal is set to 0
 * for text with a point or an exponent, 1 for an integer within +-2^53 and 2
 * for a larger integer. Correctly rounded.
 */
int data_parse_number(const char *text, size_t length, int decimal_comma, double *value,
                      int *integer_literal);

int data_parse_bool(const char *text, size_t length, double *value);

/* Parses an ISO 8601 date or date-time into UTC seconds since the epoch. */
int data_parse_timestamp(const char *text, size_t length, double *value);

/* Classifies a non-missing cell and stores its value for the numeric classes. */
data_cell_class data_classify(const char *text, size_t length, int decimal_comma, double *value);

/*
 * Parses text as a numeric type fixed by an override: integer accepts whole
 * numbers within 2^53, boolean also accepts 0 and 1, timestamp accepts
 * ISO 8601 only.
 */
int data_parse_as(ln_type type, const char *text, size_t length, int decimal_comma, double *value);

/* Returns 1 when text is valid UTF-8. */
int data_utf8_valid(const char *text, size_t length);

/*
 * Returns the length of the valid UTF-8 sequence starting at text (a lead
 * byte >= 0x80), or 0 when the sequence is invalid or runs past end.
 */
size_t data_utf8_sequence(const unsigned char *text, const unsigned char *end);

/* Copies text into buffer for a message: at most 60 bytes, then "...", NUL-terminated. */
void data_quote_value(const char *text, size_t length, char *buffer, size_t capacity);

/* ---- string sets ---- */

/* A set of strings with codes from 0 in order of insertion; see strings.c. */
typedef struct data_strings data_strings;

data_strings *data_strings_new(void);
void data_strings_free(data_strings *set);

/*
 * Returns the string's code, adding it when new. Returns -1 when memory runs
 * out or the set already contains LN_MAX_DICT_SIZE strings.
 */
int32_t data_strings_intern(data_strings *set, const char *text, size_t length);

/* Returns the hash data_strings_intern_hashed expects for text. */
uint64_t data_strings_hash(const char *text, size_t length);

/* Starts loading the table slot where a string with this hash is probed first. */
void data_strings_prefetch(const data_strings *set, uint64_t hash);

/* Same as data_strings_intern with hash = data_strings_hash(text, length) computed by the caller. */
int32_t data_strings_intern_hashed(data_strings *set, const char *text, size_t length,
                                   uint64_t hash);

/* Returns the count of strings; 0 for NULL. */
int32_t data_strings_count(const data_strings *set);

/* Returns the NUL-terminated string for code and its length; the set owns it. */
const char *data_strings_get(const data_strings *set, int32_t code, size_t *length);

/* ---- inference ---- */

#define DATA_STRAY_EXAMPLES 3

typedef struct data_stray_example {
    size_t line;    /* CSV: line relative to the chunk start; SQLite: 1-based row */
    int32_t code;   /* code in the chunk's string set */
} data_stray_example;

/* What one chunk (or one SQLite result) saw in one column. */
typedef struct data_column_stats {
    size_t counts[DATA_CELL_CLASS_COUNT];
    data_stray_example examples[DATA_STRAY_EXAMPLES]; /* the first string cells */
    int n_examples;
    data_strings *strings; /* strings in order of first appearance; NULL until the first string */
} data_column_stats;

/* Counts a string cell already interned as code, keeps it as an example, and returns the boxed code. */
static inline double data_stats_count_string(data_column_stats *stats, int32_t code, size_t line)
{
    stats->counts[DATA_CELL_STRING]++;
    if (stats->n_examples < DATA_STRAY_EXAMPLES) {
        stats->examples[stats->n_examples].line = line;
        stats->examples[stats->n_examples].code = code;
        stats->n_examples++;
    }
    return data_box_code(code);
}

/* Records a string cell: interns it and returns the boxed code, or sets *failed on a full set. */
static inline double data_stats_add_string(data_column_stats *stats, const char *text, size_t length,
                                           size_t line, int *failed)
{
    if (stats->strings == NULL) {
        stats->strings = data_strings_new();
        if (stats->strings == NULL) {
            *failed = 1;
            return data_missing_slot();
        }
    }
    int32_t code = data_strings_intern(stats->strings, text, length);
    if (code < 0) {
        *failed = 1;
        return data_missing_slot();
    }
    return data_stats_count_string(stats, code, line);
}

/* A column while a loader fills it. */
typedef struct data_column {
    char *name;
    int forced;        /* 1 when an override fixes the type */
    ln_type type;      /* the override, or the inferred type once data_infer_type ran */
    int needs_text;    /* inferred string column holding parsed non-string cells: reread as text */
    double *slots;     /* one slot per row (see the file comment) */
} data_column;

/*
 * Decides the type of a non-forced column from its summed counts; sets
 * *needs_text when the column is a string column holding cells that were
 * parsed as numbers, booleans or timestamps. *stray_family is set to the
 * type the column would have without its few string cells, or -1.
 */
ln_type data_infer_type(const size_t counts[DATA_CELL_CLASS_COUNT], int *needs_text,
                        int *stray_family);

/* Chooses category or text from the distinct and non-missing counts. */
ln_type data_string_type(size_t distinct, size_t non_missing);

/*
 * Merges per-part string sets (parts in input order, each NULL or holding
 * codes in first-appearance order) into one dictionary and rewrites the
 * boxed codes in slots[part_begin[k] .. part_begin[k] + part_rows[k]) into
 * int32 codes. Returns the codes array (caller frees) and *dict_out, or NULL
 * with err set (LN_ERR_LIMIT when the column passes LN_MAX_DICT_SIZE).
 */
int32_t *data_merge_strings(const char *column_name, const double *slots, size_t n_rows,
                            data_strings *const *part_strings, const size_t *part_begin,
                            const size_t *part_rows, size_t n_parts, ln_dict **dict_out,
                            ln_error *err);

/*
 * Moves filled columns into a new table of n_rows rows. For numeric
 * columns the slots array becomes the values array; for string columns
 * codes[i] and dicts[i] are taken. On success every pointer is owned by the
 * table and the arrays in columns are set to NULL.
 */
ln_table *data_build_table(data_column *columns, size_t n_cols, int32_t **codes, ln_dict **dicts,
                           size_t n_rows, ln_error *err);

/* Frees an SQL reader's columns and their statistics; either array may be NULL. */
void data_free_sql_columns(data_column *columns, data_column_stats *stats, size_t n_cols);

/*
 * Applies options' type overrides to an SQL reader's columns, naming source
 * in errors: an override of a column the query does not return is an error
 * unless options->overrides_optional, and an invalid type is an error.
 */
ln_status data_apply_query_overrides(data_column *columns, size_t n_cols, const ln_load_options *options,
                                     const char *source, ln_error *err);

/*
 * Turns an SQL reader's string column into dictionary codes: merges its one
 * string set into *codes and *dict, frees its text slots and, unless an
 * override fixed the type, picks category or text from the distinct count.
 */
ln_status data_finish_string_column(data_column *column, data_strings *strings, size_t n_rows,
                                    size_t non_missing, int32_t **codes, ln_dict **dict, ln_error *err);

/* Frees the codes and dictionaries that data_build_table did not take, and the two arrays. */
void data_free_string_columns(int32_t **codes, ln_dict **dicts, size_t n_cols);

/* Returns the worker thread count that options request (0: online cores), at least 1. */
int data_thread_count(const ln_load_options *options);

/* Runs task(context, index) for every index below n_tasks on up to threads threads. */
void data_parallel_for(size_t n_tasks, int threads, void (*task)(void *context, size_t index),
                       void *context);

/* ---- PostgreSQL ---- */

/* How ln_postgres_read loads a result column, chosen from its type OID. */
typedef enum data_pg_kind {
    DATA_PG_UNSUPPORTED = 0,
    DATA_PG_INTEGER,    /* int2, int4, int8 */
    DATA_PG_FLOAT,      /* float4, float8, numeric */
    DATA_PG_BOOL,       /* bool */
    DATA_PG_TIMESTAMP,  /* date, timestamp, timestamptz */
    DATA_PG_STRING,     /* text, varchar, bpchar, name, "char", uuid: CSV inference */
} data_pg_kind;

/* Returns the kind for a built-in type OID, or DATA_PG_UNSUPPORTED. */
data_pg_kind data_pg_kind_of(unsigned int oid);

/* Returns the SQL name of a built-in type OID ("int8"), or NULL for an OID not in the table. */
const char *data_pg_type_name(unsigned int oid);

/* Outcome of parsing one value of a typed kind. */
typedef enum data_pg_parse_result {
    DATA_PG_PARSED = 0,
    DATA_PG_NAN,          /* float NaN, loaded as missing */
    DATA_PG_BIG_INTEGER,  /* an integer beyond 2^53; *value is its rounded double */
    DATA_PG_INVALID,      /* text a double cannot hold: infinity dates, BC dates, huge numerics */
} data_pg_parse_result;

/*
 * Parses the text output of a value of kind (not DATA_PG_STRING) as the
 * server sends it with DateStyle ISO, TimeZone UTC and extra_float_digits 3.
 */
data_pg_parse_result data_pg_parse(data_pg_kind kind, const char *text, size_t length,
                                   double *value);

/*
 * Replaces each password of url (the user:password one and password=
 * parameters, when at least 4 bytes long) found in message with ***.
 * libpq and server messages pass through it before they reach an ln_error.
 */
void data_pg_scrub_message(char *message, const char *url);

/* ---- input ---- */

/* A whole input in memory: mapped from a file or decompressed into a heap buffer. */
typedef struct data_input {
    const char *data;
    size_t size;
    void *mapping;      /* munmap when not NULL */
    size_t mapping_size;
    char *heap;         /* free when not NULL */
} data_input;

/* Maps or decompresses path into input. LN_ERR_IO, LN_ERR_CORRUPT, LN_ERR_LIMIT or LN_ERR_NOMEM. */
ln_status data_input_open(data_input *input, const char *path, ln_error *err);

void data_input_close(data_input *input);

/*
 * The CSV reader on a buffer with a chosen chunk size: chunk_bytes 0 picks
 * one chunk per thread. Tests use small chunks to put many chunk borders
 * inside quoted fields.
 */
ln_status data_csv_parse(const char *data, size_t size, const char *source_name,
                         const ln_load_options *options, size_t chunk_bytes, ln_table **out,
                         ln_error *err);

#endif
