/*
 * Request bodies: the native shape ({"instances": [...]} or {"instance": {...}}),
 * MLflow's scoring-server shapes (dataframe_split, dataframe_records,
 * instances), and their conversion into an ln_table for ln_model_predict.
 *
 * Everything a client sends is bounded before it is stored. The server's
 * --max-body bounds the body, LN_SERVE_MAX_INSTANCES the rows,
 * LN_MAX_COLUMNS the columns of a dataframe_split and SERVE_CHUNK_CELLS each
 * table chunk. A request therefore allocates at most a fixed multiple of its
 * body size.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/limits.h"
#include "serve/serve_internal.h"

static const char *json_type_name(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "an unknown value";
}

int serve_http_status(ln_status status)
{
    switch (status) {
    case LN_OK: return 200;
    case LN_ERR_PARSE:
    case LN_ERR_DATA:
    case LN_ERR_CONFIG: return 400;
    case LN_ERR_NOT_FOUND: return 404;
    case LN_ERR_LIMIT: return 413;
    default: return 500;
    }
}

void serve_request_clear(serve_request *request)
{
    json_decref(request->root);
    if (request->column_dict != NULL)
        ln_dict_release(request->column_dict);
    memset(request, 0, sizeof *request);
}

/* Checks that rows is a non-empty array within the row limit. */
static ln_status check_rows(const json_t *rows, const char *key, ln_error *err)
{
    if (!json_is_array(rows))
        return ln_error_set(err, LN_ERR_PARSE, "\"%s\" must be an array, found %s", key, json_type_name(rows));

    size_t n = json_array_size(rows);
    if (n == 0)
        return ln_error_set(err, LN_ERR_DATA, "\"%s\" is empty; send at least one row", key);
    if (n > LN_SERVE_MAX_INSTANCES)
        return ln_error_set(err, LN_ERR_LIMIT, "\"%s\" has %zu rows; the limit is %d per request (split the request)",
                            key, n, LN_SERVE_MAX_INSTANCES);
    return LN_OK;
}

static ln_status check_records(const json_t *rows, const char *key, ln_error *err)
{
    ln_status status = check_rows(rows, key, err);
    if (status != LN_OK)
        return status;

    for (size_t i = 0; i < json_array_size(rows); i++) {
        const json_t *row = json_array_get(rows, i);
        if (!json_is_object(row))
            return ln_error_set(err, LN_ERR_PARSE, "%s[%zu] must be an object of feature values, found %s", key, i,
                                json_type_name(row));
    }
    return LN_OK;
}

/* dataframe_split: {"columns": [names...], "data": [[values...], ...]}; an "index" is ignored. */
static ln_status parse_split(serve_request *request, const json_t *split, ln_error *err)
{
    if (!json_is_object(split))
        return ln_error_set(err, LN_ERR_PARSE, "\"dataframe_split\" must be an object with \"columns\" and \"data\", found %s",
                            json_type_name(split));

    json_t *columns = json_object_get(split, "columns");
    json_t *data = json_object_get(split, "data");
    if (!json_is_array(columns))
        return ln_error_set(err, LN_ERR_PARSE, "\"dataframe_split.columns\" must be an array of column names, found %s",
                            columns ? json_type_name(columns) : "nothing");
    if (json_array_size(columns) > LN_MAX_COLUMNS)
        return ln_error_set(err, LN_ERR_LIMIT, "\"dataframe_split.columns\" has %zu columns; the limit is %d",
                            json_array_size(columns), LN_MAX_COLUMNS);
    if (data == NULL)
        return ln_error_set(err, LN_ERR_PARSE, "\"dataframe_split\" has no \"data\" array");

    request->columns = columns;
    request->column_dict = ln_dict_new();
    if (request->column_dict == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the request's columns");
    for (size_t c = 0; c < json_array_size(columns); c++) {
        const json_t *name = json_array_get(columns, c);
        if (!json_is_string(name))
            return ln_error_set(err, LN_ERR_PARSE, "dataframe_split.columns[%zu] must be a string, found %s", c,
                                json_type_name(name));
        if (ln_dict_find(request->column_dict, json_string_value(name), json_string_length(name)) >= 0)
            return ln_error_set(err, LN_ERR_PARSE, "dataframe_split.columns[%zu] repeats the column \"%s\"", c,
                                json_string_value(name));
        if (ln_dict_intern(request->column_dict, json_string_value(name), json_string_length(name)) != (int32_t)c)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the request's columns");
    }

    request->rows_key = "dataframe_split.data";
    ln_status status = check_rows(data, request->rows_key, err);
    if (status != LN_OK)
        return status;
    for (size_t i = 0; i < json_array_size(data); i++) {
        const json_t *row = json_array_get(data, i);
        if (!json_is_array(row))
            return ln_error_set(err, LN_ERR_PARSE, "dataframe_split.data[%zu] must be an array of values, found %s", i,
                                json_type_name(row));
        if (json_array_size(row) != json_array_size(columns))
            return ln_error_set(err, LN_ERR_PARSE, "dataframe_split.data[%zu] has %zu values but \"columns\" names %zu",
                                i, json_array_size(row), json_array_size(columns));
    }
    request->rows = data;
    return LN_OK;
}

static ln_status parse_native(serve_request *request, json_t *root, ln_error *err)
{
    json_t *explain = json_object_get(root, "explain");
    if (explain != NULL && !json_is_boolean(explain))
        return ln_error_set(err, LN_ERR_PARSE, "\"explain\" must be true or false, found %s", json_type_name(explain));
    request->explain = json_is_true(explain);

    json_t *instances = json_object_get(root, "instances");
    json_t *instance = json_object_get(root, "instance");
    if (instances != NULL && instance != NULL)
        return ln_error_set(err, LN_ERR_PARSE, "send either \"instances\" or \"instance\", not both");
    if (instances == NULL && instance == NULL)
        return ln_error_set(err, LN_ERR_PARSE,
                            "expected \"instances\" (an array of objects) or \"instance\" (an object) in the request");

    if (instances != NULL) {
        request->rows_key = "instances";
        request->rows = instances;
        return check_records(instances, "instances", err);
    }

    if (!json_is_object(instance))
        return ln_error_set(err, LN_ERR_PARSE, "\"instance\" must be an object of feature values, found %s",
                            json_type_name(instance));
    request->rows_key = "instance";
    request->single = instance;
    return LN_OK;
}

static ln_status parse_mlflow(serve_request *request, json_t *root, ln_error *err)
{
    static const char *const keys[] = {"dataframe_split", "dataframe_records", "instances", "inputs"};
    const char *found = NULL;
    int n_found = 0;

    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        if (json_object_get(root, keys[k]) != NULL) {
            found = keys[k];
            n_found++;
        }
    }
    if (n_found != 1)
        return ln_error_set(err, LN_ERR_PARSE,
                            "expected exactly one of \"dataframe_split\", \"dataframe_records\" or \"instances\" in "
                            "the request, found %d",
                            n_found);
    if (strcmp(found, "inputs") == 0)
        return ln_error_set(err, LN_ERR_PARSE,
                            "tensor \"inputs\" are not supported; send \"dataframe_split\", \"dataframe_records\" or "
                            "\"instances\"");

    json_t *value = json_object_get(root, found);
    if (strcmp(found, "dataframe_split") == 0)
        return parse_split(request, value, err);
    request->rows_key = found;
    request->rows = value;
    return check_records(value, found, err);
}

/* ---- the raw text of "instance" ---- */

static size_t skip_space(const char *text, size_t size, size_t pos)
{
    while (pos < size && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r'))
        pos++;
    return pos;
}

/* Returns the position after the string literal opening at pos, or 0 when it does not end. */
static size_t skip_string(const char *text, size_t size, size_t pos)
{
    for (pos++; pos < size; pos++) {
        if (text[pos] == '\\')
            pos++;
        else if (text[pos] == '"')
            return pos + 1;
    }
    return 0;
}

/* Returns the position after the JSON value starting at pos, or 0 when it does not end. */
static size_t skip_value(const char *text, size_t size, size_t pos)
{
    size_t depth = 0;

    while (pos < size) {
        char c = text[pos];
        if (c == '"') {
            pos = skip_string(text, size, pos);
            if (pos == 0)
                return 0;
        } else if (c == '{' || c == '[') {
            depth++;
            pos++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return pos;
            depth--;
            pos++;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            return pos;
        } else {
            pos++;
        }
        if (depth == 0 && (c == '"' || c == '}' || c == ']'))
            return pos;
    }
    return depth == 0 ? pos : 0;
}

/*
 * Finds the text of the top-level "instance" value in body, which jansson
 * has already accepted as a JSON object without duplicate keys. Returns 0
 * and sets *start and *length. Returns -1 when the key is spelled with
 * escapes (such as \u0069) or the scan fails, and the log then writes the
 * parsed value instead.
 */
static int find_instance_text(const char *body, size_t size, size_t *start, size_t *length)
{
    static const char key[] = "\"instance\"";
    size_t pos = skip_space(body, size, 0);

    if (pos >= size || body[pos] != '{')
        return -1;
    pos++;
    while (pos < size) {
        pos = skip_space(body, size, pos);
        if (pos >= size || body[pos] != '"')
            return -1;
        size_t key_start = pos;
        pos = skip_string(body, size, pos);
        if (pos == 0)
            return -1;
        int is_instance = pos - key_start == sizeof key - 1 && memcmp(body + key_start, key, sizeof key - 1) == 0;
        pos = skip_space(body, size, pos);
        if (pos >= size || body[pos] != ':')
            return -1;
        pos = skip_space(body, size, pos + 1);
        size_t value_start = pos;
        pos = skip_value(body, size, pos);
        if (pos == 0 || pos == value_start)
            return -1;
        if (is_instance) {
            *start = value_start;
            *length = pos - value_start;
            return 0;
        }
        pos = skip_space(body, size, pos);
        if (pos >= size || body[pos] != ',')
            return -1;
        pos++;
    }
    return -1;
}

ln_status serve_request_parse(const char *body, size_t size, serve_api api, serve_request *out, ln_error *err)
{
    json_error_t json_err;
    serve_request request = {0};

    if (size == 0)
        return ln_error_set(err, LN_ERR_PARSE, "the request body is empty; expected a JSON object");

    /* Integers as doubles: a feature value is a double anyway, and 2^70 must not be a parse error. */
    request.root = json_loadb(body, size, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &json_err);
    if (request.root == NULL)
        return ln_error_set(err, LN_ERR_PARSE, "invalid JSON at byte %d (line %d, column %d): %s", json_err.position,
                            json_err.line, json_err.column, json_err.text);
    if (!json_is_object(request.root)) {
        ln_status status = ln_error_set(err, LN_ERR_PARSE, "the request must be a JSON object, found %s",
                                        json_type_name(request.root));
        serve_request_clear(&request);
        return status;
    }

    ln_status status = api == SERVE_API_NATIVE ? parse_native(&request, request.root, err)
                                               : parse_mlflow(&request, request.root, err);
    if (status != LN_OK) {
        serve_request_clear(&request);
        return status;
    }
    request.n_rows = request.single != NULL ? 1 : json_array_size(request.rows);
    size_t start, length;
    if (request.single != NULL && find_instance_text(body, size, &start, &length) == 0 && body[start] == '{') {
        request.single_text = body + start;
        request.single_length = length;
    }
    *out = request;
    return LN_OK;
}

size_t serve_chunk_rows(size_t n_features)
{
    size_t rows = n_features > 0 ? SERVE_CHUNK_CELLS / n_features : SERVE_CHUNK_ROWS;
    if (rows > SERVE_CHUNK_ROWS)
        rows = SERVE_CHUNK_ROWS;
    return rows > 0 ? rows : 1;
}

/* Where a value sits, for error messages: `instances[3] field "amount"`. */
typedef struct value_place {
    const serve_request *request;
    size_t row;
    const char *field;
} value_place;

static ln_status wrong_type(const value_place *place, const char *expected, ln_type type, const json_t *value,
                            ln_error *err)
{
    const serve_request *request = place->request;
    char row[64] = "";

    if (request->single == NULL)
        snprintf(row, sizeof row, "[%zu]", place->row);
    return ln_error_set(err, LN_ERR_DATA, "%s%s field \"%s\" must be %s (feature type %s), found %s",
                        request->rows_key, row, place->field, expected, ln_type_name(type), json_type_name(value));
}

/*
 * Checks a category value and returns its text in *text (number receives the
 * text of a numeric value) and its code among the model's categories in
 * *known_code (-1 when the model has no bin for it, which is counted).
 */
static ln_status read_category(const ln_dict *known, const json_t *value, const value_place *place, char *number,
                               size_t number_capacity, const char **text, size_t *length, int32_t *known_code,
                               serve_counts *counts, ln_error *err)
{
    *known_code = -1;
    if (json_is_string(value)) {
        *text = json_string_value(value);
        *length = json_string_length(value);
    } else if (json_is_number(value) && known != NULL) {
        /* A number is accepted only when its text is one of the model's categories, such as area code 415. */
        serve_format_double(json_number_value(value), number, number_capacity);
        *text = number;
        *length = strlen(number);
        if (ln_dict_find(known, *text, *length) < 0)
            return wrong_type(place, "a string", LN_TYPE_CATEGORY, value, err);
    } else {
        return wrong_type(place, "a string", LN_TYPE_CATEGORY, value, err);
    }

    if (known != NULL)
        *known_code = ln_dict_find(known, *text, *length);
    if (known != NULL && *known_code < 0)
        counts->unseen_categories++;
    return LN_OK;
}

static ln_status read_number(ln_type type, const json_t *value, const value_place *place, double *out, ln_error *err)
{
    if (json_is_number(value)) {
        *out = json_number_value(value);
        return LN_OK;
    }
    if (type == LN_TYPE_BOOL && json_is_boolean(value)) {
        *out = json_is_true(value) ? 1.0 : 0.0;
        return LN_OK;
    }
    if (type == LN_TYPE_TIMESTAMP && json_is_string(value)) {
        if (serve_parse_timestamp(json_string_value(value), json_string_length(value), out) == 0)
            return LN_OK;
        return wrong_type(place, "seconds since 1970 or an ISO 8601 date-time", type, value, err);
    }

    const char *expected = type == LN_TYPE_BOOL        ? "true, false or a number"
                           : type == LN_TYPE_TIMESTAMP ? "seconds since 1970 or an ISO 8601 date-time"
                                                       : "a number";
    return wrong_type(place, expected, type, value, err);
}

/* Reads a number and checks it against the feature's contract rules. */
static ln_status read_checked_number(const serve_schema *schema, size_t f, const json_t *value,
                                     const value_place *place, double *out, serve_counts *counts, ln_error *err)
{
    ln_status status = read_number(schema->types[f], value, place, out, err);
    if (status == LN_OK)
        serve_check_number(schema, f, place->row, *out, counts);
    return status;
}

/* Reads a category and checks it against the feature's contract rules. */
static ln_status read_checked_category(const serve_schema *schema, size_t f, const json_t *value,
                                       const value_place *place, char *number, size_t number_capacity,
                                       const char **text, size_t *length, serve_counts *counts, ln_error *err)
{
    int32_t known_code = -1;
    ln_status status = read_category(schema->known[f], value, place, number, number_capacity, text, length,
                                     &known_code, counts, err);
    if (status == LN_OK)
        serve_check_category(schema, f, place->row, known_code, *text, *length, counts);
    return status;
}

/* Stores one received value in a table column; NULL (absent) and JSON null leave the row missing. */
static ln_status set_value(const serve_schema *schema, size_t f, ln_column *column, size_t row, const json_t *value,
                           const value_place *place, serve_counts *counts, ln_error *err)
{
    if (value == NULL || json_is_null(value)) {
        serve_check_missing(schema, f, place->row, counts);
        return LN_OK;
    }
    if (schema->types[f] != LN_TYPE_CATEGORY)
        return read_checked_number(schema, f, value, place, &column->values[row], counts, err);

    char number[40];
    const char *text = NULL;
    size_t length = 0;
    ln_status status = read_checked_category(schema, f, value, place, number, sizeof number, &text, &length, counts,
                                             err);
    if (status != LN_OK)
        return status;
    int32_t code = ln_dict_intern(column->dict, text, length);
    if (code < 0)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory storing category \"%s\"", place->field);
    column->codes[row] = code;
    return LN_OK;
}

/* Stores one received value in a model row, with the same checks as set_value. */
static ln_status set_row_value(const serve_schema *schema, size_t f, ln_model_row *row, const json_t *value,
                               const value_place *place, serve_counts *counts, ln_error *err)
{
    if (value == NULL || json_is_null(value)) {
        serve_check_missing(schema, f, place->row, counts);
        return LN_OK;
    }
    if (schema->types[f] != LN_TYPE_CATEGORY) {
        double number;
        ln_status status = read_checked_number(schema, f, value, place, &number, counts, err);
        return status == LN_OK ? ln_model_row_set_number(row, f, number, err) : status;
    }

    char number[40];
    const char *text = NULL;
    size_t length = 0;
    ln_status status = read_checked_category(schema, f, value, place, number, sizeof number, &text, &length, counts,
                                             err);
    return status == LN_OK ? ln_model_row_set_category(row, f, text, length, err) : status;
}

static const json_t *request_row(const serve_request *request, size_t row)
{
    return request->single != NULL ? request->single : json_array_get(request->rows, row);
}

/* Fills one table row from an object of named values; counts the fields that are no feature. */
static ln_status fill_record(const serve_schema *schema, const serve_request *request, size_t row, ln_table *table,
                             size_t table_row, serve_counts *counts, ln_error *err)
{
    const json_t *object = request_row(request, row);
    size_t matched = 0;

    for (size_t f = 0; f < schema->n_features; f++) {
        const json_t *value = json_object_get(object, schema->names[f]);
        if (value == NULL) {
            serve_check_missing(schema, f, row, counts);
            continue;
        }
        matched++;
        value_place place = {request, row, schema->names[f]};
        ln_status status = set_value(schema, f, &table->cols[f], table_row, value, &place, counts, err);
        if (status != LN_OK)
            return status;
    }
    counts->extra_fields += json_object_size(object) - matched;
    return LN_OK;
}

static ln_status fill_split_row(const serve_schema *schema, const serve_request *request, const int32_t *sources,
                                size_t row, ln_table *table, size_t table_row, serve_counts *counts, ln_error *err)
{
    const json_t *values = json_array_get(request->rows, row);

    for (size_t f = 0; f < schema->n_features; f++) {
        if (sources[f] < 0) {
            serve_check_missing(schema, f, row, counts);
            continue;
        }
        value_place place = {request, row, schema->names[f]};
        ln_status status = set_value(schema, f, &table->cols[f], table_row, json_array_get(values, (size_t)sources[f]),
                                     &place, counts, err);
        if (status != LN_OK)
            return status;
    }
    return LN_OK;
}

static ln_status fill_split(const serve_schema *schema, const serve_request *request, size_t begin, size_t end,
                            ln_table *table, serve_counts *counts, ln_error *err)
{
    int32_t *sources = malloc((schema->n_features ? schema->n_features : 1) * sizeof *sources);
    size_t matched = 0;
    ln_status status = LN_OK;

    if (sources == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory matching the request's columns");
    for (size_t f = 0; f < schema->n_features; f++) {
        sources[f] = ln_dict_find(request->column_dict, schema->names[f], strlen(schema->names[f]));
        matched += sources[f] >= 0;
    }

    for (size_t row = begin; row < end && status == LN_OK; row++)
        status = fill_split_row(schema, request, sources, row, table, row - begin, counts, err);
    if (status == LN_OK)
        counts->extra_fields += (uint64_t)(json_array_size(request->columns) - matched) * (end - begin);
    free(sources);
    return status;
}

ln_status serve_request_table(const serve_schema *schema, const serve_request *request, size_t begin, size_t end,
                              ln_table **out, serve_counts *counts, ln_error *err)
{
    assert(begin < end);
    assert(end <= request->n_rows);

    ln_table *table = ln_table_new(end - begin);
    if (table == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory building a table of %zu rows", end - begin);
    for (size_t f = 0; f < schema->n_features; f++) {
        if (ln_table_add_column(table, schema->names[f], schema->types[f], err) == NULL) {
            ln_table_free(table);
            return err != NULL ? err->status : LN_ERR_NOMEM;
        }
    }

    ln_status status = LN_OK;
    if (request->columns != NULL) {
        status = fill_split(schema, request, begin, end, table, counts, err);
    } else {
        for (size_t row = begin; row < end && status == LN_OK; row++)
            status = fill_record(schema, request, row, table, row - begin, counts, err);
    }
    if (status != LN_OK) {
        ln_table_free(table);
        return status;
    }
    *out = table;
    return LN_OK;
}

ln_status serve_request_model_row(const serve_schema *schema, const serve_request *request, ln_model_row *row,
                                  serve_counts *counts, ln_error *err)
{
    assert(request->n_rows == 1);
    assert(request->columns == NULL);

    const json_t *object = request_row(request, 0);
    size_t matched = 0;

    for (size_t f = 0; f < schema->n_features; f++) {
        const json_t *value = json_object_get(object, schema->names[f]);
        if (value == NULL) {
            serve_check_missing(schema, f, 0, counts);
            continue;
        }
        matched++;
        value_place place = {request, 0, schema->names[f]};
        ln_status status = set_row_value(schema, f, row, value, &place, counts, err);
        if (status != LN_OK)
            return status;
    }
    counts->extra_fields += json_object_size(object) - matched;
    return LN_OK;
}

/* Appends JSON text without the whitespace between its tokens; strings are copied as they are. */
static void append_compact(serve_buf *buf, const char *text, size_t length)
{
    size_t run = 0;
    int in_string = 0;

    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            serve_buf_append(buf, text + run, i - run);
            run = i + 1;
        }
    }
    if (run < length)
        serve_buf_append(buf, text + run, length - run);
}

void serve_request_row_json(const serve_request *request, size_t row, serve_buf *buf)
{
    if (request->single_text != NULL) {
        append_compact(buf, request->single_text, request->single_length);
        return;
    }
    if (request->columns == NULL) {
        serve_buf_json_value(buf, request_row(request, row));
        return;
    }

    const json_t *values = json_array_get(request->rows, row);
    serve_buf_puts(buf, "{");
    for (size_t c = 0; c < json_array_size(request->columns); c++) {
        serve_buf_puts(buf, c ? "," : "");
        serve_buf_json_string(buf, json_string_value(json_array_get(request->columns, c)));
        serve_buf_puts(buf, ":");
        serve_buf_json_value(buf, json_array_get(values, c));
    }
    serve_buf_puts(buf, "}");
}

/* ---- ISO 8601 timestamps ---- */

static int read_digits(const char *text, size_t length, size_t *pos, int count, int *value)
{
    *value = 0;
    for (int i = 0; i < count; i++, (*pos)++) {
        if (*pos >= length || text[*pos] < '0' || text[*pos] > '9')
            return -1;
        *value = *value * 10 + (text[*pos] - '0');
    }
    return 0;
}

static int expect_char(const char *text, size_t length, size_t *pos, char c)
{
    if (*pos >= length || text[*pos] != c)
        return -1;
    (*pos)++;
    return 0;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* Reads the optional time of day after a date; returns seconds into the day, or -1. */
static int read_time(const char *text, size_t length, size_t *pos, double *seconds)
{
    int hour, minute, second = 0;
    double fraction = 0;

    if (read_digits(text, length, pos, 2, &hour) || expect_char(text, length, pos, ':') ||
        read_digits(text, length, pos, 2, &minute))
        return -1;
    if (*pos < length && text[*pos] == ':') {
        (*pos)++;
        if (read_digits(text, length, pos, 2, &second))
            return -1;
        if (*pos < length && text[*pos] == '.') {
            (*pos)++;
            double scale = 0.1;
            size_t start = *pos;
            for (; *pos < length && text[*pos] >= '0' && text[*pos] <= '9'; (*pos)++, scale /= 10)
                fraction += (text[*pos] - '0') * scale;
            if (*pos == start)
                return -1;
        }
    }
    if (hour > 23 || minute > 59 || second > 60)
        return -1;
    *seconds = hour * 3600.0 + minute * 60.0 + second + fraction;
    return 0;
}

/* Reads Z, +HH:MM or -HH:MM; returns the offset east of UTC in seconds. */
static int read_zone(const char *text, size_t length, size_t *pos, double *offset)
{
    int hours, minutes;

    *offset = 0;
    if (*pos == length)
        return 0;
    if (text[*pos] == 'Z') {
        (*pos)++;
        return 0;
    }
    if (text[*pos] != '+' && text[*pos] != '-')
        return -1;
    double sign = text[*pos] == '-' ? -1 : 1;
    (*pos)++;
    if (read_digits(text, length, pos, 2, &hours) || expect_char(text, length, pos, ':') ||
        read_digits(text, length, pos, 2, &minutes) || hours > 23 || minutes > 59)
        return -1;
    *offset = sign * (hours * 3600.0 + minutes * 60.0);
    return 0;
}

int serve_parse_timestamp(const char *text, size_t length, double *seconds)
{
    size_t pos = 0;
    int year, month, day;
    double time_of_day = 0, offset = 0;

    if (read_digits(text, length, &pos, 4, &year) || expect_char(text, length, &pos, '-') ||
        read_digits(text, length, &pos, 2, &month) || expect_char(text, length, &pos, '-') ||
        read_digits(text, length, &pos, 2, &day))
        return -1;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return -1;
    if (pos < length && (text[pos] == 'T' || text[pos] == ' ')) {
        pos++;
        if (read_time(text, length, &pos, &time_of_day) || read_zone(text, length, &pos, &offset))
            return -1;
    }
    if (pos != length)
        return -1;
    *seconds = (double)days_from_civil(year, month, day) * 86400.0 + time_of_day - offset;
    return 0;
}
