/*
 * Loaders: CSV files (plain, gzip or zstd), SQLite queries and PostgreSQL
 * queries into an ln_table with inferred column types.
 *
 *     ln_load_options options;
 *     ln_load_options_default(&options);
 *     options.threads = 4;
 *     ln_table *table = NULL;
 *     ln_error err = {0};
 *     if (ln_csv_read("orders.csv.gz", &options, &table, &err) != LN_OK)
 *         fprintf(stderr, "lanner: %s\n", err.message);
 *     ...
 *     ln_table_free(table);
 *
 * CSV dialect: RFC 4180 with a header row. The reader skips a UTF-8 byte
 * order mark, accepts LF, CRLF and a mix of both, quoted fields holding
 * delimiters, doubled quotes and line breaks, and a last record without a
 * line break. Blank lines are skipped. A quote inside an unquoted field, or
 * text after a closing quote, is a parse error (quote the whole field and
 * double the inner quote). Header names that are empty at the end of the
 * header (as spreadsheets write "a,b,,") drop their columns when every cell
 * in them is empty. Every field must be valid UTF-8.
 *
 * Type inference looks at every cell of a column, after removing missing
 * markers (which make a cell missing in every type):
 *   - integer: every cell is an integer literal with magnitude at most 2^53;
 *   - float: every cell is a number (decimal, exponent, inf, -inf, infinity),
 *     including integer literals of any size mixed with decimals;
 *   - boolean: every cell is true/false, TRUE/FALSE or True/False
 *     (0 and 1 stay integer);
 *   - timestamp: every cell is an ISO 8601 date (YYYY-MM-DD), or a date, T or
 *     a space, and HH:MM[:SS[.fraction]] with an optional Z or +-HH:MM offset.
 *     Values are UTC seconds since 1970-01-01;
 *   - category: any other column with at most LN_CATEGORY_MIN_DISTINCT
 *     distinct strings, or at most LN_CATEGORY_MAX_SHARE of its non-missing
 *     cells distinct (whichever allows more);
 *   - text: the remaining string columns;
 *   - a column with no non-missing cell is float.
 * Integer literals above 2^53 in a column with no decimals make it a string
 * column (identifiers), because a double cannot hold them exactly.
 * Spaces and tabs around numbers, booleans and timestamps are ignored;
 * strings keep them.
 *
 * Stray cells: a column can be numeric (or boolean, or timestamp) except for
 * a few string cells, at most LN_STRAY_MAX_SHARE of its non-missing cells and
 * at most LN_STRAY_MAX_CELLS cells. Such a column becomes a category column,
 * as its contents require, and the reader logs a warning (ln_log,
 * LN_LOG_WARN) naming the column and the lines and values of the first stray
 * cells. The loader does not drop or guess the stray values, so the user
 * fixes them with a missing marker or a type override.
 *
 * Category and text dictionaries list strings in order of first appearance
 * in the input, so a table is identical for any thread count.
 */
#ifndef LANNER_DATA_H
#define LANNER_DATA_H

#include <stddef.h>

#include "lanner/status.h"
#include "lanner/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A string column with at most this many distinct values is a category. */
#define LN_CATEGORY_MIN_DISTINCT 1000

/* A string column whose distinct values are at most this share of its non-missing cells is a category. */
#define LN_CATEGORY_MAX_SHARE 0.05

/* Stray cells that make a numeric column a category with a warning: at most this share and count. */
#define LN_STRAY_MAX_SHARE 0.01
#define LN_STRAY_MAX_CELLS 100

/* Bytes of decompressed CSV kept in memory, a guard against a compression bomb. */
#define LN_MAX_DECOMPRESSED_BYTES (64ull << 30)

/* Missing markers and type overrides accepted in one ln_load_options. */
#define LN_MAX_MISSING_MARKERS 256
#define LN_MAX_MARKER_BYTES 64

typedef struct ln_load_options {
    /* Field separator; 0 detects one of , ; tab | from the first lines. */
    char delimiter;
    /* 1: a comma inside a number is its decimal point ("3,5" is 3.5); needs a delimiter other than a comma. */
    int decimal_comma;
    /* Cell texts that mean a missing value, compared exactly; NULL means the
     * defaults "", NA, N/A, NaN, nan, null, NULL and ?. The caller keeps ownership. */
    const char *const *missing_markers;
    size_t n_missing_markers;
    /* Column types that replace inference: override_types[i] for the column
     * named override_names[i]. A cell that does not parse as that type is an
     * error. The caller keeps ownership of both arrays. */
    const char *const *override_names;
    const ln_type *override_types;
    size_t n_overrides;
    /* 1: an override that names a column the source does not have is skipped; 0: it is an error. */
    int overrides_optional;
    /* Worker threads; 0 uses every online core. */
    int threads;
} ln_load_options;

/* Fills options with the defaults: detected delimiter, default missing markers, no overrides, all cores. */
void ln_load_options_default(ln_load_options *options);

/*
 * Reads the CSV file at path into a new table that the caller frees with
 * ln_table_free. A file starting with the gzip or zstd magic number is
 * decompressed in memory first (any file name). options may be NULL for the
 * defaults. On failure *out stays NULL and err names the file, line and
 * column. Errors:
 *   LN_ERR_NOT_FOUND  the file, or a column named by an override, is missing;
 *   LN_ERR_IO         the file cannot be read;
 *   LN_ERR_CORRUPT    invalid or truncated gzip or zstd data;
 *   LN_ERR_PARSE      malformed CSV, invalid UTF-8, empty file, empty or
 *                     duplicate header name;
 *   LN_ERR_DATA       a cell that does not parse as its overridden type;
 *   LN_ERR_CONFIG     invalid options;
 *   LN_ERR_LIMIT      a field, column count or dictionary above limits.h;
 *   LN_ERR_NOMEM      out of memory.
 */
ln_status ln_csv_read(const char *path, const ln_load_options *options, ln_table **out,
                      ln_error *err);

/*
 * Same as ln_csv_read on size bytes at data (which need not end in NUL and
 * are not compressed). source_name names the input in error messages. The
 * caller keeps ownership of data.
 */
ln_status ln_csv_read_buffer(const char *data, size_t size, const char *source_name,
                             const ln_load_options *options, ln_table **out, ln_error *err);

/*
 * Opens the SQLite database file db_path read-only, runs query and streams
 * its rows into a new table that the caller frees. Column types come from
 * the values returned: all integers (within 2^53) make an integer column,
 * any real makes a float column, text values go through the same inference
 * as CSV cells, and NULL is missing. options may be NULL; only the missing
 * markers and overrides apply (markers apply to text values). Errors:
 * LN_ERR_IO (cannot open the database), LN_ERR_SQL (SQLite's message and the
 * query), LN_ERR_DATA (a blob column, a value not matching an override, or
 * duplicate column names), LN_ERR_NOT_FOUND, LN_ERR_LIMIT, LN_ERR_NOMEM.
 * A mixed column that inference turns into strings runs the query a second
 * time inside the same read transaction to fetch its values as text.
 */
ln_status ln_sqlite_read(const char *db_path, const char *query, const ln_load_options *options,
                         ln_table **out, ln_error *err);

/*
 * Connects to the PostgreSQL server at url (a postgres:// or postgresql://
 * connection URI; a password missing from it comes from PGPASSWORD or
 * ~/.pgpass, as libpq reads them), runs query (one SELECT, VALUES or TABLE
 * statement, run in a read-only transaction) and streams its rows into a new
 * table that the caller frees with ln_table_free. The rows arrive through a
 * server-side cursor, LN_POSTGRES_FETCH_ROWS at a time, so the client never
 * holds the whole text result. The session runs with TimeZone UTC and ISO
 * dates.
 *
 * Column types follow the SQL type of each result column:
 *   int2, int4, int8             integer; an int8 column with a value beyond
 *                                2^53 becomes category or text (the values as
 *                                decimal text), as CSV identifiers do;
 *   float4, float8, numeric      float; NaN is missing, Infinity is inf, and a
 *                                numeric beyond the range of a double is an error;
 *   bool                         boolean;
 *   date, timestamp, timestamptz timestamp (UTC seconds); infinity and BC dates
 *                                are errors;
 *   text, varchar, bpchar, name, "char", uuid
 *                                the CSV inference on the text (category,
 *                                text, or a typed column when every value
 *                                parses); missing markers apply only here;
 *   any other type               LN_ERR_DATA naming the column and its SQL
 *                                type, before any row is read (cast it in
 *                                the query, such as payload::text).
 * NULL is missing. options may be NULL; only the missing markers and the type
 * overrides apply. Every message shows the URL with its password replaced by
 * *** (see ln_postgres_redact_url). Errors:
 *   LN_ERR_CONFIG  url is not a postgres:// URI, or the query is empty;
 *   LN_ERR_IO      the connection failed (server down, authentication
 *                  rejected): the message is libpq's;
 *   LN_ERR_SQL     the server rejected the query or failed while running it:
 *                  the message is the server's, with the query;
 *   LN_ERR_DATA    an unsupported SQL type, a value lanner cannot represent,
 *                  a value not matching an override, or duplicate column names;
 *   LN_ERR_NOT_FOUND, LN_ERR_LIMIT, LN_ERR_NOMEM as for ln_sqlite_read.
 */
ln_status ln_postgres_read(const char *url, const char *query, const ln_load_options *options,
                           ln_table **out, ln_error *err);

/* Rows fetched from the server-side cursor per round trip. */
#define LN_POSTGRES_FETCH_ROWS 10000

/* Returns 1 when text starts with postgres:// or postgresql://, the URIs ln_postgres_read takes. */
int ln_postgres_is_url(const char *text);

/*
 * Copies url into buffer (capacity bytes, always NUL-terminated, cut when
 * too long) with every password replaced by ***: the one between user: and
 * @ and any password= parameter. Use it wherever a URL is printed or stored.
 */
void ln_postgres_redact_url(const char *url, char *buffer, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
