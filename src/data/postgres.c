/*
 * ln_postgres_read: streams a PostgreSQL query result into a table.
 *
 * The query runs inside a read-only transaction as a server-side cursor
 * (DECLARE ... NO SCROLL CURSOR FOR query), and the rows come back in
 * batches of LN_POSTGRES_FETCH_ROWS through FETCH. libpq 15 offers
 * single-row mode but not chunked-rows mode, which needs libpq 17. Single-row
 * mode costs one PGresult per row, while a batch costs one PGresult and one
 * round trip per LN_POSTGRES_FETCH_ROWS rows. Either way, client memory stays
 * bounded by one batch of text. The read-only transaction means a load cannot
 * change the database. PQdescribePortal reports the column types before any
 * row is read, so an unsupported type fails at once.
 *
 * Cells land in the same slot arrays as the CSV reader's (data_internal.h).
 * Columns of text types intern every value and count its CSV class; once all
 * rows are in, a column that inference makes numeric is converted from its
 * dictionary, parsing each distinct string once. So the query runs once, where
 * the SQLite reader may run it twice.
 */
#include "data/data_internal.h"

#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lanner/limits.h"
#include "lanner/log.h"

#define CURSOR_NAME "lanner_cursor"
#define DECLARE_PREFIX "DECLARE " CURSOR_NAME " NO SCROLL CURSOR FOR "
#define MAX_EXACT_INTEGER 9007199254740992.0
/* Bytes of a redacted URL shown in messages. */
#define SHOWN_URL_BYTES 256

typedef struct pg_column {
    data_pg_kind kind;
    unsigned int oid;
    int as_strings;  /* integer column that met a value beyond 2^53: every value is kept as text */
} pg_column;

typedef struct pg_reader {
    const char *url;
    char shown_url[SHOWN_URL_BYTES];
    const char *query;
    PGconn *conn;
    data_markers markers;
    size_t n_cols;
    data_column *columns;
    data_column_stats *stats;
    pg_column *pg;
    size_t n_rows;
    size_t capacity;
} pg_reader;

/* Sets err to "<redacted url>: what: <libpq or server message>", with the password scrubbed. */
static ln_status server_error(const pg_reader *reader, ln_error *err, ln_status status,
                              const char *what, const char *message)
{
    char text[LN_ERROR_MESSAGE_MAX];
    size_t length;

    snprintf(text, sizeof text, "%s", message != NULL && message[0] ? message : "no message");
    length = strlen(text);
    while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == ' '))
        text[--length] = '\0';
    data_pg_scrub_message(text, reader->url);
    ln_error_set(err, status, "%s: %s: %s", reader->shown_url, what, text);
    if (err != NULL)
        data_pg_scrub_message(err->message, reader->url);
    return status;
}

/* Reports a failed query result, pointing at the character the server names in the query. */
static ln_status query_error(const pg_reader *reader, const PGresult *result, ln_error *err,
                             const char *what)
{
    char message[LN_ERROR_MESSAGE_MAX];
    const char *primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    const char *position = PQresultErrorField(result, PG_DIAG_STATEMENT_POSITION);
    long at = position != NULL ? strtol(position, NULL, 10) - (long)strlen(DECLARE_PREFIX) : 0;

    if (primary == NULL)
        primary = PQerrorMessage(reader->conn);
    if (at > 0)
        snprintf(message, sizeof message, "%s at character %ld of the query (query: %.300s)",
                 primary, at, reader->query);
    else
        snprintf(message, sizeof message, "%s (query: %.300s)", primary, reader->query);
    return server_error(reader, err, LN_ERR_SQL, what, message);
}

static ln_status grow_rows(pg_reader *reader, size_t needed, ln_error *err)
{
    size_t capacity = reader->capacity ? reader->capacity : 1024;

    while (capacity < needed)
        capacity *= 2;
    if (capacity == reader->capacity)
        return LN_OK;
    if (capacity > SIZE_MAX / sizeof(double))
        return ln_error_set(err, LN_ERR_NOMEM, "%s: too many rows", reader->shown_url);
    for (size_t c = 0; c < reader->n_cols; c++) {
        double *grown = realloc(reader->columns[c].slots, capacity * sizeof *grown);
        if (grown == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory after %zu rows",
                                reader->shown_url, reader->n_rows);
        reader->columns[c].slots = grown;
    }
    reader->capacity = capacity;
    return LN_OK;
}

/* ---- connection and cursor ---- */

/* Runs a statement that returns no rows; PQexecParams rejects several statements in one string. */
static ln_status run_command(pg_reader *reader, const char *sql, const char *what, ln_error *err)
{
    PGresult *result = PQexecParams(reader->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    ln_status status = LN_OK;

    if (PQresultStatus(result) != PGRES_COMMAND_OK)
        status = query_error(reader, result, err, what);
    PQclear(result);
    return status;
}

static ln_status connect_server(pg_reader *reader, ln_error *err)
{
    /* Keywords after dbname override the URI's values; connect_timeout before it is a default. */
    const char *keywords[] = {"connect_timeout", "dbname", "client_encoding", "application_name",
                              NULL};
    const char *values[] = {"30", reader->url, "UTF8", "lanner", NULL};

    reader->conn = PQconnectdbParams(keywords, values, 1);
    if (reader->conn == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory connecting", reader->shown_url);
    if (PQstatus(reader->conn) != CONNECTION_OK)
        return server_error(reader, err, LN_ERR_IO, "cannot connect",
                            PQerrorMessage(reader->conn));

    /* Fixed output formats make the text parsers' job exact: UTC ISO dates, shortest exact floats. */
    static const char *const settings[] = {
        "SET TimeZone = 'UTC'",
        "SET DateStyle = 'ISO, YMD'",
        "SET extra_float_digits = 3",
    };
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        ln_status status = run_command(reader, settings[i], "cannot set up the session", err);
        if (status != LN_OK)
            return status;
    }
    return run_command(reader, "BEGIN READ ONLY", "cannot start a read-only transaction", err);
}

/* Returns the query without trailing semicolons and blanks, which DECLARE does not accept; caller frees. */
static char *declare_statement(const char *query)
{
    size_t length = strlen(query);

    while (length > 0 && strchr("; \t\r\n", query[length - 1]) != NULL)
        length--;
    size_t prefix = strlen(DECLARE_PREFIX);
    char *statement = malloc(prefix + length + 1);
    if (statement == NULL)
        return NULL;
    memcpy(statement, DECLARE_PREFIX, prefix);
    memcpy(statement + prefix, query, length);
    statement[prefix + length] = '\0';
    return statement;
}

static ln_status open_cursor(pg_reader *reader, ln_error *err)
{
    char *statement = declare_statement(reader->query);

    if (statement == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->shown_url);
    ln_status status = run_command(reader, statement, "query failed", err);
    free(statement);
    if (status != LN_OK && err != NULL && strstr(err->message, "syntax error") != NULL) {
        size_t used = strlen(err->message);
        snprintf(err->message + used, sizeof err->message - used,
                 "; lanner runs the query as a cursor, so it must be one SELECT, VALUES or TABLE "
                 "statement");
    }
    return status;
}

/* ---- columns ---- */

/* Names an unsupported column type as the server spells it (format_type), or by its OID. */
static void sql_type_name(pg_reader *reader, unsigned int oid, int modifier, char *buffer,
                          size_t capacity)
{
    char oid_text[16];
    char modifier_text[16];
    const char *params[] = {oid_text, modifier_text};

    snprintf(oid_text, sizeof oid_text, "%u", oid);
    snprintf(modifier_text, sizeof modifier_text, "%d", modifier);
    PGresult *result = PQexecParams(reader->conn, "SELECT format_type($1::oid, $2::int)", 2, NULL,
                                    params, NULL, NULL, 0);
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1)
        snprintf(buffer, capacity, "%s", PQgetvalue(result, 0, 0));
    else
        snprintf(buffer, capacity, "type OID %u", oid);
    PQclear(result);
}

static ln_status check_names(pg_reader *reader, ln_error *err)
{
    data_strings *names = data_strings_new();
    ln_status status = LN_OK;

    if (names == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->shown_url);
    for (size_t c = 0; c < reader->n_cols && status == LN_OK; c++) {
        const char *name = reader->columns[c].name;
        int32_t before = data_strings_count(names);
        int32_t code = data_strings_intern(names, name, strlen(name));
        if (code < 0)
            status = ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->shown_url);
        else if (code < before)
            status = ln_error_set(err, LN_ERR_DATA,
                                  "%s: the query returns two columns named '%s'; rename one with "
                                  "AS (query: %.300s)",
                                  reader->shown_url, name, reader->query);
        else if (name[0] == '\0')
            status = ln_error_set(err, LN_ERR_DATA,
                                  "%s: column %zu of the query has an empty name; name it with AS",
                                  reader->shown_url, c + 1);
    }
    data_strings_free(names);
    return status;
}

static ln_status apply_overrides(pg_reader *reader, const ln_load_options *options, ln_error *err)
{
    return data_apply_query_overrides(reader->columns, reader->n_cols, options, reader->shown_url, err);
}

/* Reads the cursor's column names and types, and rejects the types lanner cannot load. */
static ln_status setup_columns(pg_reader *reader, const ln_load_options *options, ln_error *err)
{
    PGresult *description = PQdescribePortal(reader->conn, CURSOR_NAME);
    ln_status status = LN_OK;

    if (PQresultStatus(description) != PGRES_COMMAND_OK) {
        status = query_error(reader, description, err, "cannot describe the query result");
        goto done;
    }
    int count = PQnfields(description);
    if (count == 0) {
        status = ln_error_set(err, LN_ERR_SQL, "%s: the query returns no columns (query: %.300s)",
                              reader->shown_url, reader->query);
        goto done;
    }
    if (count > LN_MAX_COLUMNS) {
        status = ln_error_set(err, LN_ERR_LIMIT,
                              "%s: the query returns %d columns; the maximum is %d",
                              reader->shown_url, count, LN_MAX_COLUMNS);
        goto done;
    }

    reader->n_cols = (size_t)count;
    reader->columns = calloc(reader->n_cols, sizeof *reader->columns);
    reader->stats = calloc(reader->n_cols, sizeof *reader->stats);
    reader->pg = calloc(reader->n_cols, sizeof *reader->pg);
    if (reader->columns == NULL || reader->stats == NULL || reader->pg == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->shown_url);
        goto done;
    }
    for (size_t c = 0; c < reader->n_cols; c++) {
        reader->columns[c].name = strdup(PQfname(description, (int)c));
        if (reader->columns[c].name == NULL) {
            status = ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->shown_url);
            goto done;
        }
        reader->pg[c].oid = PQftype(description, (int)c);
        reader->pg[c].kind = data_pg_kind_of(reader->pg[c].oid);
    }
    if ((status = check_names(reader, err)) != LN_OK)
        goto done;

    for (size_t c = 0; c < reader->n_cols; c++) {
        if (reader->pg[c].kind != DATA_PG_UNSUPPORTED)
            continue;
        char type[128];
        sql_type_name(reader, reader->pg[c].oid, PQfmod(description, (int)c), type, sizeof type);
        status = ln_error_set(err, LN_ERR_DATA,
                              "%s: column '%s' has SQL type %s, which lanner cannot load; cast it "
                              "in the query (such as %s::text) or leave it out",
                              reader->shown_url, reader->columns[c].name, type,
                              reader->columns[c].name);
        goto done;
    }
    status = apply_overrides(reader, options, err);

done:
    PQclear(description);
    return status;
}

/* ---- cells ---- */

static ln_status value_error(const pg_reader *reader, size_t c, size_t row, const char *text,
                             size_t length, const char *problem, ln_error *err)
{
    char shown[80];
    const char *type = data_pg_type_name(reader->pg[c].oid);

    data_quote_value(text, length, shown, sizeof shown);
    return ln_error_set(err, LN_ERR_DATA, "%s: row %zu, column '%s' (SQL type %s): value '%s' %s",
                        reader->shown_url, row + 1, reader->columns[c].name,
                        type != NULL ? type : "?", shown, problem);
}

static ln_status intern_text(pg_reader *reader, size_t c, size_t row, const char *text,
                             size_t length, data_cell_class cell, ln_error *err)
{
    data_column_stats *stats = &reader->stats[c];
    int32_t code;

    if (stats->strings == NULL && (stats->strings = data_strings_new()) == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->shown_url);
    code = data_strings_intern(stats->strings, text, length);
    if (code < 0) {
        if (data_strings_count(stats->strings) >= LN_MAX_DICT_SIZE)
            return ln_error_set(err, LN_ERR_LIMIT,
                                "%s: column '%s' has more than %d distinct values, the maximum",
                                reader->shown_url, reader->columns[c].name, LN_MAX_DICT_SIZE);
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->shown_url);
    }
    stats->counts[cell]++;
    if (cell == DATA_CELL_STRING && stats->n_examples < DATA_STRAY_EXAMPLES) {
        stats->examples[stats->n_examples].line = row + 1;
        stats->examples[stats->n_examples].code = code;
        stats->n_examples++;
    }
    reader->columns[c].slots[row] = data_box_code(code);
    return LN_OK;
}

/*
 * Turns an integer column that met a value beyond 2^53 into a string column:
 * the rows read so far (exact integers) are interned as their decimal text,
 * in row order, so codes still follow first appearance.
 */
static ln_status switch_to_strings(pg_reader *reader, size_t c, size_t rows_done, ln_error *err)
{
    double *slots = reader->columns[c].slots;

    ln_log(LN_LOG_INFO,
           "%s: column '%s' holds integers beyond 2^53, which a double cannot hold exactly, so "
           "it is loaded as strings",
           reader->shown_url, reader->columns[c].name);
    reader->pg[c].as_strings = 1;
    for (size_t row = 0; row < rows_done; row++) {
        if (isnan(slots[row]))
            continue;
        char text[32];
        int length = snprintf(text, sizeof text, "%.0f", slots[row]);
        ln_status status = intern_text(reader, c, row, text, (size_t)length, DATA_CELL_STRING,
                                       err);
        if (status != LN_OK)
            return status;
    }
    return LN_OK;
}

/* Stores a value of a column whose type an override fixes. */
static ln_status store_forced(pg_reader *reader, size_t c, size_t row, const char *text,
                              size_t length, ln_error *err)
{
    data_column *column = &reader->columns[c];
    data_pg_kind kind = reader->pg[c].kind;
    double value;

    if (!ln_type_is_numeric(column->type))
        return intern_text(reader, c, row, text, length, DATA_CELL_STRING, err);

    int parsed;
    if (kind == DATA_PG_STRING) {
        parsed = data_parse_as(column->type, text, length, 0, &value);
    } else {
        data_pg_parse_result result = data_pg_parse(kind, text, length, &value);
        if (result == DATA_PG_NAN)
            value = NAN;
        parsed = result == DATA_PG_PARSED || result == DATA_PG_NAN;
        if (parsed && column->type == LN_TYPE_INT)
            parsed = isnan(value) || (value == floor(value) && fabs(value) <= MAX_EXACT_INTEGER);
        if (parsed && column->type == LN_TYPE_BOOL)
            parsed = isnan(value) || value == 0.0 || value == 1.0;
    }
    if (!parsed)
        return value_error(reader, c, row, text, length,
                           "does not fit the type the options set for this column", err);
    column->slots[row] = isnan(value) ? data_missing_slot() : value;
    reader->stats[c].counts[isnan(value) ? DATA_CELL_MISSING : DATA_CELL_FLOAT]++;
    return LN_OK;
}

static ln_status store_string_kind(pg_reader *reader, size_t c, size_t row, const char *text,
                                   size_t length, ln_error *err)
{
    double value;

    if (length > LN_MAX_FIELD_BYTES)
        return ln_error_set(err, LN_ERR_LIMIT,
                            "%s: row %zu, column '%s': text longer than %u bytes, the maximum",
                            reader->shown_url, row + 1, reader->columns[c].name,
                            LN_MAX_FIELD_BYTES);
    if (!data_utf8_valid(text, length))
        return ln_error_set(err, LN_ERR_DATA, "%s: row %zu, column '%s': text is not valid UTF-8",
                            reader->shown_url, row + 1, reader->columns[c].name);
    if (data_is_missing(&reader->markers, text, length)) {
        reader->columns[c].slots[row] = data_missing_slot();
        reader->stats[c].counts[DATA_CELL_MISSING]++;
        return LN_OK;
    }
    if (reader->columns[c].forced)
        return store_forced(reader, c, row, text, length, err);
    return intern_text(reader, c, row, text, length, data_classify(text, length, 0, &value), err);
}

static ln_status store_typed_kind(pg_reader *reader, size_t c, size_t row, const char *text,
                                  size_t length, ln_error *err)
{
    pg_column *pg = &reader->pg[c];
    double value;

    if (reader->columns[c].forced)
        return store_forced(reader, c, row, text, length, err);
    if (pg->as_strings)
        return intern_text(reader, c, row, text, length, DATA_CELL_STRING, err);

    switch (data_pg_parse(pg->kind, text, length, &value)) {
    case DATA_PG_PARSED:
        reader->columns[c].slots[row] = value;
        reader->stats[c].counts[DATA_CELL_FLOAT]++;
        return LN_OK;
    case DATA_PG_NAN:
        reader->columns[c].slots[row] = data_missing_slot();
        reader->stats[c].counts[DATA_CELL_MISSING]++;
        return LN_OK;
    case DATA_PG_BIG_INTEGER: {
        ln_status status = switch_to_strings(reader, c, row, err);
        if (status != LN_OK)
            return status;
        return intern_text(reader, c, row, text, length, DATA_CELL_STRING, err);
    }
    case DATA_PG_INVALID:
        break;
    }
    return value_error(reader, c, row, text, length,
                       pg->kind == DATA_PG_TIMESTAMP
                           ? "is not a timestamp lanner can hold (infinity, BC or past year "
                             "9999); filter or cast it in the query"
                           : "is outside the range of a double; filter or cast it in the query",
                       err);
}

static ln_status store_batch(pg_reader *reader, const PGresult *batch, ln_error *err)
{
    size_t n = (size_t)PQntuples(batch);
    ln_status status = grow_rows(reader, reader->n_rows + n, err);

    for (size_t i = 0; i < n && status == LN_OK; i++) {
        size_t row = reader->n_rows;
        for (size_t c = 0; c < reader->n_cols && status == LN_OK; c++) {
            if (PQgetisnull(batch, (int)i, (int)c)) {
                reader->columns[c].slots[row] = data_missing_slot();
                reader->stats[c].counts[DATA_CELL_MISSING]++;
                continue;
            }
            const char *text = PQgetvalue(batch, (int)i, (int)c);
            size_t length = (size_t)PQgetlength(batch, (int)i, (int)c);
            status = reader->pg[c].kind == DATA_PG_STRING
                         ? store_string_kind(reader, c, row, text, length, err)
                         : store_typed_kind(reader, c, row, text, length, err);
        }
        if (status == LN_OK)
            reader->n_rows++;
    }
    return status;
}

static ln_status fetch_rows(pg_reader *reader, ln_error *err)
{
    char fetch[64];

    snprintf(fetch, sizeof fetch, "FETCH FORWARD %d FROM " CURSOR_NAME, LN_POSTGRES_FETCH_ROWS);
    for (;;) {
        PGresult *batch = PQexecParams(reader->conn, fetch, 0, NULL, NULL, NULL, NULL, 0);
        if (PQresultStatus(batch) != PGRES_TUPLES_OK) {
            ln_status status = query_error(reader, batch, err, "query failed");
            PQclear(batch);
            return status;
        }
        int n = PQntuples(batch);
        ln_status status = store_batch(reader, batch, err);
        PQclear(batch);
        if (status != LN_OK)
            return status;
        if (n < LN_POSTGRES_FETCH_ROWS)
            return LN_OK;
    }
}

/* ---- table ---- */

/* Returns the numeric type a text column becomes, or -1 for a string column; logs stray cells. */
static int decide_string_kind(pg_reader *reader, size_t c, size_t non_missing)
{
    const data_column_stats *stats = &reader->stats[c];
    int needs_text;
    int stray_family;
    ln_type type = data_infer_type(stats->counts, &needs_text, &stray_family);

    if (stray_family >= 0) {
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
               "%s: column '%s' would be %s but %zu of its %zu values are not, so it is loaded "
               "as a category (%s); add those values to the missing markers or override the "
               "column type",
               reader->shown_url, reader->columns[c].name, ln_type_name((ln_type)stray_family),
               stats->counts[DATA_CELL_STRING], non_missing, examples);
    }
    return ln_type_is_numeric(type) ? (int)type : -1;
}

/* Replaces the boxed codes of a text column inferred numeric by the values of their strings. */
static ln_status decode_numbers(pg_reader *reader, size_t c, ln_error *err)
{
    const data_strings *strings = reader->stats[c].strings;
    int32_t count = data_strings_count(strings);
    double *values = malloc((count > 0 ? (size_t)count : 1) * sizeof *values);
    double *slots = reader->columns[c].slots;

    if (values == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->shown_url);
    for (int32_t code = 0; code < count; code++) {
        size_t length;
        const char *text = data_strings_get(strings, code, &length);
        data_classify(text, length, 0, &values[code]);
    }
    for (size_t row = 0; row < reader->n_rows; row++) {
        int32_t code = data_unbox_code(slots[row]);
        slots[row] = code < 0 ? data_missing_slot() : values[code];
    }
    free(values);
    return LN_OK;
}

static ln_status decide_types(pg_reader *reader, int *is_string, size_t *non_missing,
                              ln_error *err)
{
    for (size_t c = 0; c < reader->n_cols; c++) {
        data_column *column = &reader->columns[c];
        pg_column *pg = &reader->pg[c];

        non_missing[c] = reader->n_rows - reader->stats[c].counts[DATA_CELL_MISSING];
        if (column->forced) {
            is_string[c] = !ln_type_is_numeric(column->type);
            continue;
        }
        if (pg->kind == DATA_PG_STRING) {
            int type = decide_string_kind(reader, c, non_missing[c]);
            is_string[c] = type < 0;
            column->type = type < 0 ? LN_TYPE_CATEGORY : (ln_type)type;
            if (type >= 0) {
                ln_status status = decode_numbers(reader, c, err);
                if (status != LN_OK)
                    return status;
            }
            continue;
        }
        is_string[c] = pg->as_strings;
        column->type = pg->kind == DATA_PG_INTEGER ? LN_TYPE_INT
                       : pg->kind == DATA_PG_FLOAT ? LN_TYPE_FLOAT
                       : pg->kind == DATA_PG_BOOL  ? LN_TYPE_BOOL
                                                   : LN_TYPE_TIMESTAMP;
    }
    return LN_OK;
}

static ln_status finish_table(pg_reader *reader, ln_table **out, ln_error *err)
{
    size_t n_cols = reader->n_cols;
    int *is_string = calloc(n_cols, sizeof *is_string);
    size_t *non_missing = calloc(n_cols, sizeof *non_missing);
    int32_t **codes = calloc(n_cols, sizeof *codes);
    ln_dict **dicts = calloc(n_cols, sizeof *dicts);
    ln_status status = LN_OK;

    if (is_string == NULL || non_missing == NULL || codes == NULL || dicts == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->shown_url);
        goto done;
    }
    if ((status = decide_types(reader, is_string, non_missing, err)) != LN_OK)
        goto done;

    for (size_t c = 0; c < n_cols; c++) {
        data_column *column = &reader->columns[c];
        if (!is_string[c]) {
            /* Give back the unused tail of the doubled slot array. */
            double *fitted = realloc(column->slots, (reader->n_rows ? reader->n_rows : 1) *
                                                        sizeof(double));
            if (fitted != NULL)
                column->slots = fitted;
            continue;
        }
        status = data_finish_string_column(column, reader->stats[c].strings, reader->n_rows, non_missing[c],
                                           &codes[c], &dicts[c], err);
        if (status != LN_OK)
            goto done;
        data_strings_free(reader->stats[c].strings);
        reader->stats[c].strings = NULL;
    }
    *out = data_build_table(reader->columns, n_cols, codes, dicts, reader->n_rows, err);
    if (*out == NULL)
        status = err != NULL ? err->status : LN_ERR_NOMEM;

done:
    data_free_string_columns(codes, dicts, n_cols);
    free(is_string);
    free(non_missing);
    return status;
}

static void free_reader(pg_reader *reader)
{
    data_free_sql_columns(reader->columns, reader->stats, reader->n_cols);
    free(reader->pg);
    /* Closing the connection ends the read-only transaction and its cursor. */
    PQfinish(reader->conn);
}

static ln_status check_arguments(const char *url, const char *query, ln_error *err)
{
    if (!ln_postgres_is_url(url))
        return ln_error_set(err, LN_ERR_CONFIG,
                            "a PostgreSQL source is a postgres://user@host:port/database URL");
    if (query == NULL || query[strspn(query, " \t\r\n;")] == '\0')
        return ln_error_set(err, LN_ERR_CONFIG,
                            "a PostgreSQL source needs a query, such as \"SELECT * FROM orders\"");
    return LN_OK;
}

ln_status ln_postgres_read(const char *url, const char *query, const ln_load_options *options,
                           ln_table **out, ln_error *err)
{
    pg_reader reader = {.url = url, .query = query};
    ln_status status;

    *out = NULL;
    if ((status = check_arguments(url, query, err)) != LN_OK)
        return status;
    ln_postgres_redact_url(url, reader.shown_url, sizeof reader.shown_url);
    if ((status = data_markers_init(&reader.markers, options, err)) != LN_OK)
        return status;

    if ((status = connect_server(&reader, err)) != LN_OK ||
        (status = open_cursor(&reader, err)) != LN_OK ||
        (status = setup_columns(&reader, options, err)) != LN_OK ||
        (status = grow_rows(&reader, 1, err)) != LN_OK ||
        (status = fetch_rows(&reader, err)) != LN_OK)
        goto done;
    status = finish_table(&reader, out, err);
    if (status == LN_OK)
        ln_log(LN_LOG_INFO, "loaded %zu rows and %zu columns from %s", reader.n_rows,
               reader.n_cols, reader.shown_url);

done:
    free_reader(&reader);
    return status;
}
