/* ln_sqlite_read: runs a query on a read-only SQLite database and infers column types. */
#include "data/data_internal.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lanner/limits.h"
#include "lanner/log.h"

#define MAX_EXACT_INTEGER 9007199254740992.0
#define MAX_EXACT_INTEGER_64 ((sqlite3_int64)1 << 53)

typedef struct sqlite_reader {
    const char *db_path;
    const char *query;
    sqlite3 *db;
    sqlite3_stmt *statement;
    data_markers markers;
    size_t n_cols;
    data_column *columns;
    data_column_stats *stats;
    size_t n_rows;
    size_t capacity;
} sqlite_reader;

static ln_status sql_error(sqlite_reader *reader, ln_error *err, const char *what)
{
    return ln_error_set(err, LN_ERR_SQL, "%s: %s: %s (query: %s)", reader->db_path, what,
                        sqlite3_errmsg(reader->db), reader->query);
}

static ln_status grow_rows(sqlite_reader *reader, ln_error *err)
{
    size_t capacity = reader->capacity ? reader->capacity * 2 : 1024;

    if (capacity > SIZE_MAX / sizeof(double))
        return ln_error_set(err, LN_ERR_NOMEM, "%s: too many rows", reader->db_path);
    for (size_t c = 0; c < reader->n_cols; c++) {
        double *grown = realloc(reader->columns[c].slots, capacity * sizeof *grown);
        if (grown == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory after %zu rows",
                                reader->db_path, reader->n_rows);
        reader->columns[c].slots = grown;
    }
    reader->capacity = capacity;
    return LN_OK;
}

static ln_status value_error(const sqlite_reader *reader, size_t c, const char *shown,
                             ln_error *err)
{
    const data_column *column = &reader->columns[c];

    return ln_error_set(err, LN_ERR_DATA,
                        "%s: row %zu, column '%s': value '%s' is not a valid %s, the type the "
                        "options set for this column",
                        reader->db_path, reader->n_rows + 1, column->name, shown,
                        ln_type_name(column->type));
}

/* Checks a number returned by SQLite against a numeric override. */
static int number_fits(ln_type type, double value)
{
    switch (type) {
    case LN_TYPE_INT:
        return value == floor(value) && fabs(value) <= MAX_EXACT_INTEGER;
    case LN_TYPE_BOOL:
        return value == 0.0 || value == 1.0;
    default:
        return 1;
    }
}

static ln_status store_text(sqlite_reader *reader, size_t c, double *slot, ln_error *err)
{
    data_column *column = &reader->columns[c];
    data_column_stats *stats = &reader->stats[c];
    const char *text = (const char *)sqlite3_column_text(reader->statement, (int)c);
    size_t length = (size_t)sqlite3_column_bytes(reader->statement, (int)c);
    int failed = 0;
    double value;

    if (text == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory reading text", reader->db_path);
    if (length > LN_MAX_FIELD_BYTES)
        return ln_error_set(err, LN_ERR_LIMIT,
                            "%s: row %zu, column '%s': text longer than %u bytes, the maximum",
                            reader->db_path, reader->n_rows + 1, column->name, LN_MAX_FIELD_BYTES);
    if (!data_utf8_valid(text, length))
        return ln_error_set(err, LN_ERR_DATA, "%s: row %zu, column '%s': text is not valid UTF-8",
                            reader->db_path, reader->n_rows + 1, column->name);
    if (data_is_missing(&reader->markers, text, length)) {
        *slot = data_missing_slot();
        stats->counts[DATA_CELL_MISSING]++;
        return LN_OK;
    }

    if (column->forced && ln_type_is_numeric(column->type)) {
        if (!data_parse_as(column->type, text, length, 0, &value)) {
            char shown[80];
            data_quote_value(text, length, shown, sizeof shown);
            return value_error(reader, c, shown, err);
        }
        *slot = value;
        stats->counts[DATA_CELL_FLOAT]++;
        return LN_OK;
    }

    data_cell_class cell = column->forced ? DATA_CELL_STRING
                                          : data_classify(text, length, 0, &value);
    if (cell != DATA_CELL_STRING) {
        *slot = value;
        stats->counts[cell]++;
        return LN_OK;
    }
    *slot = data_stats_add_string(stats, text, length, reader->n_rows + 1, &failed);
    if (failed)
        return ln_error_set(err, LN_ERR_LIMIT, "%s: column '%s' has more than %d distinct values",
                            reader->db_path, column->name, LN_MAX_DICT_SIZE);
    return LN_OK;
}

/* Stores the current row's value of column c in the first pass. */
static ln_status store_value(sqlite_reader *reader, size_t c, ln_error *err)
{
    data_column *column = &reader->columns[c];
    data_column_stats *stats = &reader->stats[c];
    double *slot = &column->slots[reader->n_rows];
    int kind = sqlite3_column_type(reader->statement, (int)c);

    if (kind == SQLITE_NULL) {
        *slot = data_missing_slot();
        stats->counts[DATA_CELL_MISSING]++;
        return LN_OK;
    }
    if (kind == SQLITE_BLOB)
        return ln_error_set(err, LN_ERR_DATA,
                            "%s: row %zu, column '%s' holds a blob, which lanner cannot load; "
                            "leave the column out of the query or cast it to text",
                            reader->db_path, reader->n_rows + 1, column->name);
    if (kind == SQLITE_TEXT || (column->forced && !ln_type_is_numeric(column->type)))
        return store_text(reader, c, slot, err);

    double value = sqlite3_column_double(reader->statement, (int)c);
    data_cell_class cell = DATA_CELL_FLOAT;
    if (kind == SQLITE_INTEGER) {
        sqlite3_int64 integer = sqlite3_column_int64(reader->statement, (int)c);
        value = (double)integer;
        /* Compare as integers: 2^53 + 1 rounds to 2^53 as a double. */
        cell = integer <= MAX_EXACT_INTEGER_64 && integer >= -MAX_EXACT_INTEGER_64
                   ? DATA_CELL_INT
                   : DATA_CELL_BIG_INT;
    }
    if (column->forced && !number_fits(column->type, value)) {
        char shown[80];
        snprintf(shown, sizeof shown, "%.17g", value);
        return value_error(reader, c, shown, err);
    }
    *slot = value;
    stats->counts[cell]++;
    return LN_OK;
}

static ln_status setup_columns(sqlite_reader *reader, const ln_load_options *options,
                               ln_error *err)
{
    int count = sqlite3_column_count(reader->statement);

    if (count == 0)
        return ln_error_set(err, LN_ERR_SQL, "%s: the query returns no columns (query: %s)",
                            reader->db_path, reader->query);
    if (count > LN_MAX_COLUMNS)
        return ln_error_set(err, LN_ERR_LIMIT, "%s: the query returns %d columns; the maximum is %d",
                            reader->db_path, count, LN_MAX_COLUMNS);

    reader->n_cols = (size_t)count;
    reader->columns = calloc(reader->n_cols, sizeof *reader->columns);
    reader->stats = calloc(reader->n_cols, sizeof *reader->stats);
    if (reader->columns == NULL || reader->stats == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->db_path);

    for (size_t c = 0; c < reader->n_cols; c++) {
        const char *name = sqlite3_column_name(reader->statement, (int)c);
        if (name == NULL || name[0] == '\0')
            return ln_error_set(err, LN_ERR_DATA,
                                "%s: column %zu of the query has no name; give it one with AS",
                                reader->db_path, c + 1);
        for (size_t other = 0; other < c; other++) {
            if (strcmp(reader->columns[other].name, name) == 0)
                return ln_error_set(err, LN_ERR_DATA,
                                    "%s: the query returns two columns named '%s'; rename one "
                                    "with AS",
                                    reader->db_path, name);
        }
        reader->columns[c].name = strdup(name);
        if (reader->columns[c].name == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->db_path);
    }

    return data_apply_query_overrides(reader->columns, reader->n_cols, options, reader->db_path, err);
}

static ln_status read_rows(sqlite_reader *reader, ln_error *err)
{
    for (;;) {
        int rc = sqlite3_step(reader->statement);
        if (rc == SQLITE_DONE)
            return LN_OK;
        if (rc != SQLITE_ROW)
            return sql_error(reader, err, "query failed");

        ln_status status;
        if (reader->n_rows == reader->capacity && (status = grow_rows(reader, err)) != LN_OK)
            return status;
        for (size_t c = 0; c < reader->n_cols; c++) {
            if ((status = store_value(reader, c, err)) != LN_OK)
                return status;
        }
        reader->n_rows++;
    }
}

static void warn_stray_cells(const sqlite_reader *reader, size_t c, int family,
                             const size_t counts[DATA_CELL_CLASS_COUNT], size_t non_missing)
{
    const data_column_stats *stats = &reader->stats[c];
    char examples[400] = "";
    size_t used = 0;

    for (int e = 0; e < stats->n_examples; e++) {
        char value[80];
        size_t length;
        const char *text = data_strings_get(stats->strings, stats->examples[e].code, &length);
        data_quote_value(text, length, value, sizeof value);
        int written = snprintf(examples + used, sizeof examples - used, "%srow %zu '%s'",
                               e ? ", " : "", stats->examples[e].line, value);
        if (written > 0 && (size_t)written < sizeof examples - used)
            used += (size_t)written;
    }
    ln_log(LN_LOG_WARN,
           "%s: column '%s' would be %s but %zu of its %zu values are not, so it is loaded as a "
           "category (%s); add those values to the missing markers or override the column type",
           reader->db_path, reader->columns[c].name, ln_type_name((ln_type)family),
           counts[DATA_CELL_STRING], non_missing, examples);
}

/* Decides the column types; returns 1 when some column must be reread as text. */
static int decide_types(sqlite_reader *reader, size_t *non_missing)
{
    int any_needs_text = 0;

    for (size_t c = 0; c < reader->n_cols; c++) {
        data_column *column = &reader->columns[c];
        const size_t *counts = reader->stats[c].counts;

        non_missing[c] = reader->n_rows - counts[DATA_CELL_MISSING];
        if (column->forced)
            continue;
        int stray_family;
        column->type = data_infer_type(counts, &column->needs_text, &stray_family);
        if (stray_family >= 0)
            warn_stray_cells(reader, c, stray_family, counts, non_missing[c]);
        if (column->needs_text) {
            any_needs_text = 1;
            data_strings_free(reader->stats[c].strings);
            memset(&reader->stats[c], 0, sizeof reader->stats[c]);
        }
    }
    return any_needs_text;
}

/* Runs the query again and interns the values of needs_text columns as text. */
static ln_status reread_as_text(sqlite_reader *reader, ln_error *err)
{
    size_t row = 0;

    sqlite3_reset(reader->statement);
    for (;;) {
        int rc = sqlite3_step(reader->statement);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW)
            return sql_error(reader, err, "query failed on its second run");
        if (row == reader->n_rows)
            break;

        for (size_t c = 0; c < reader->n_cols; c++) {
            data_column *column = &reader->columns[c];
            if (!column->needs_text)
                continue;
            int kind = sqlite3_column_type(reader->statement, (int)c);
            const char *text = (const char *)sqlite3_column_text(reader->statement, (int)c);
            size_t length = (size_t)sqlite3_column_bytes(reader->statement, (int)c);
            if (kind == SQLITE_NULL || text == NULL ||
                (kind == SQLITE_TEXT && data_is_missing(&reader->markers, text, length))) {
                column->slots[row] = data_missing_slot();
                continue;
            }
            int failed = 0;
            column->slots[row] = data_stats_add_string(&reader->stats[c], text, length, row + 1,
                                                       &failed);
            if (failed)
                return ln_error_set(err, LN_ERR_LIMIT,
                                    "%s: column '%s' has more than %d distinct values",
                                    reader->db_path, column->name, LN_MAX_DICT_SIZE);
        }
        row++;
    }
    if (row != reader->n_rows)
        return ln_error_set(err, LN_ERR_SQL,
                            "%s: the query returned %zu rows on its second run, %zu on its first "
                            "(query: %s)",
                            reader->db_path, row, reader->n_rows, reader->query);
    return LN_OK;
}

static ln_status finish_table(sqlite_reader *reader, ln_table **out, ln_error *err)
{
    size_t n_cols = reader->n_cols;
    size_t *non_missing = calloc(n_cols, sizeof *non_missing);
    int32_t **codes = calloc(n_cols, sizeof *codes);
    ln_dict **dicts = calloc(n_cols, sizeof *dicts);
    ln_status status = LN_OK;

    if (non_missing == NULL || codes == NULL || dicts == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->db_path);
        goto done;
    }
    if (decide_types(reader, non_missing) && (status = reread_as_text(reader, err)) != LN_OK)
        goto done;

    for (size_t c = 0; c < n_cols; c++) {
        data_column *column = &reader->columns[c];
        if (ln_type_is_numeric(column->type))
            continue;
        status = data_finish_string_column(column, reader->stats[c].strings, reader->n_rows, non_missing[c],
                                           &codes[c], &dicts[c], err);
        if (status != LN_OK)
            goto done;
    }
    *out = data_build_table(reader->columns, n_cols, codes, dicts, reader->n_rows, err);
    if (*out == NULL)
        status = err != NULL ? err->status : LN_ERR_NOMEM;

done:
    data_free_string_columns(codes, dicts, n_cols);
    free(non_missing);
    return status;
}

static void free_reader(sqlite_reader *reader)
{
    data_free_sql_columns(reader->columns, reader->stats, reader->n_cols);
    sqlite3_finalize(reader->statement);
    if (reader->db != NULL) {
        sqlite3_exec(reader->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(reader->db);
    }
}

/* Makes sure every column has a slot array, even for a query without rows. */
static ln_status ensure_slots(sqlite_reader *reader, ln_error *err)
{
    if (reader->capacity > 0)
        return LN_OK;
    return grow_rows(reader, err);
}

ln_status ln_sqlite_read(const char *db_path, const char *query, const ln_load_options *options,
                         ln_table **out, ln_error *err)
{
    sqlite_reader reader = {.db_path = db_path, .query = query};
    ln_status status;

    *out = NULL;
    if ((status = data_markers_init(&reader.markers, options, err)) != LN_OK)
        return status;
    if (access(db_path, F_OK) != 0)
        return ln_error_set(err, LN_ERR_NOT_FOUND, "%s: database file not found", db_path);

    if (sqlite3_open_v2(db_path, &reader.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        status = ln_error_set(err, LN_ERR_IO, "%s: cannot open the database: %s", db_path,
                              reader.db ? sqlite3_errmsg(reader.db) : "out of memory");
        goto done;
    }
    /* One read transaction keeps both runs of the query on the same snapshot. */
    if (sqlite3_exec(reader.db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        status = sql_error(&reader, err, "cannot start a read transaction");
        goto done;
    }
    const char *rest = NULL;
    if (sqlite3_prepare_v2(reader.db, query, -1, &reader.statement, &rest) != SQLITE_OK) {
        status = sql_error(&reader, err, "invalid query");
        goto done;
    }
    if (reader.statement == NULL) {
        status = ln_error_set(err, LN_ERR_SQL, "%s: the query is empty", db_path);
        goto done;
    }
    /* SQLite prepares the first statement only; a second one would be dropped without a word. */
    while (rest != NULL && (*rest == ';' || *rest == ' ' || *rest == '\t' || *rest == '\n' || *rest == '\r'))
        rest++;
    if (rest != NULL && *rest != '\0') {
        status = ln_error_set(err, LN_ERR_SQL, "%s: the query contains more than one statement (the second starts "
                              "at '%.40s'); give one SELECT", db_path, rest);
        goto done;
    }

    if ((status = setup_columns(&reader, options, err)) != LN_OK ||
        (status = ensure_slots(&reader, err)) != LN_OK ||
        (status = read_rows(&reader, err)) != LN_OK)
        goto done;
    status = finish_table(&reader, out, err);
    if (status == LN_OK)
        ln_log(LN_LOG_INFO, "loaded %zu rows and %zu columns from %s", reader.n_rows,
               reader.n_cols, db_path);

done:
    free_reader(&reader);
    return status;
}
