#include "lanner/table.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lanner/limits.h"

/*
 * The dictionary keeps its strings back to back in one growing blob (each
 * NUL-terminated) and finds them through an open-addressing hash table of
 * codes, so interning a string costs no allocation of its own.
 */
struct ln_dict {
    int refcount;
    int32_t count;
    char *blob;
    size_t blob_used;
    size_t blob_cap;
    size_t *offsets;   /* offsets[code] into blob */
    uint32_t *lengths; /* lengths[code], without the NUL */
    uint64_t *hashes;  /* hashes[code] */
    size_t codes_cap;
    int32_t *slots;    /* hash table of codes, -1 when empty */
    size_t slot_count; /* a power of two */
};

static uint64_t hash_bytes(const char *text, size_t length)
{
    /* FNV-1a: category strings are short, and this needs no dependency. */
    uint64_t hash = 1469598103934665603ull;

    for (size_t i = 0; i < length; i++) {
        hash ^= (unsigned char)text[i];
        hash *= 1099511628211ull;
    }
    return hash;
}

ln_dict *ln_dict_new(void)
{
    ln_dict *dict = calloc(1, sizeof *dict);

    if (dict == NULL)
        return NULL;
    dict->refcount = 1;
    dict->slot_count = 64;
    dict->slots = malloc(dict->slot_count * sizeof *dict->slots);
    if (dict->slots == NULL) {
        free(dict);
        return NULL;
    }
    memset(dict->slots, 0xff, dict->slot_count * sizeof *dict->slots);
    return dict;
}

ln_dict *ln_dict_retain(ln_dict *dict)
{
    if (dict != NULL)
        dict->refcount++;
    return dict;
}

void ln_dict_release(ln_dict *dict)
{
    if (dict == NULL || --dict->refcount > 0)
        return;
    free(dict->blob);
    free(dict->offsets);
    free(dict->lengths);
    free(dict->hashes);
    free(dict->slots);
    free(dict);
}

static int32_t find_slot(const ln_dict *dict, const char *text, size_t length, uint64_t hash,
                         size_t *slot_out)
{
    size_t mask = dict->slot_count - 1;
    size_t slot = (size_t)hash & mask;

    for (;;) {
        int32_t code = dict->slots[slot];
        if (code < 0) {
            *slot_out = slot;
            return -1;
        }
        if (dict->hashes[code] == hash && dict->lengths[code] == length &&
            memcmp(dict->blob + dict->offsets[code], text, length) == 0) {
            *slot_out = slot;
            return code;
        }
        slot = (slot + 1) & mask;
    }
}

static int grow_slots(ln_dict *dict)
{
    size_t new_count = dict->slot_count * 2;
    int32_t *slots = malloc(new_count * sizeof *slots);

    if (slots == NULL)
        return -1;
    memset(slots, 0xff, new_count * sizeof *slots);
    for (int32_t code = 0; code < dict->count; code++) {
        size_t slot = (size_t)dict->hashes[code] & (new_count - 1);
        while (slots[slot] >= 0)
            slot = (slot + 1) & (new_count - 1);
        slots[slot] = code;
    }
    free(dict->slots);
    dict->slots = slots;
    dict->slot_count = new_count;
    return 0;
}

static int grow_codes(ln_dict *dict)
{
    size_t new_cap = dict->codes_cap ? dict->codes_cap * 2 : 64;
    size_t *offsets = realloc(dict->offsets, new_cap * sizeof *offsets);
    if (offsets == NULL)
        return -1;
    dict->offsets = offsets;

    uint32_t *lengths = realloc(dict->lengths, new_cap * sizeof *lengths);
    if (lengths == NULL)
        return -1;
    dict->lengths = lengths;

    uint64_t *hashes = realloc(dict->hashes, new_cap * sizeof *hashes);
    if (hashes == NULL)
        return -1;
    dict->hashes = hashes;

    dict->codes_cap = new_cap;
    return 0;
}

static int reserve_blob(ln_dict *dict, size_t extra)
{
    if (dict->blob_used + extra <= dict->blob_cap)
        return 0;

    size_t new_cap = dict->blob_cap ? dict->blob_cap : 1024;
    while (new_cap < dict->blob_used + extra)
        new_cap *= 2;
    char *blob = realloc(dict->blob, new_cap);
    if (blob == NULL)
        return -1;
    dict->blob = blob;
    dict->blob_cap = new_cap;
    return 0;
}

int32_t ln_dict_intern(ln_dict *dict, const char *text, size_t length)
{
    uint64_t hash = hash_bytes(text, length);
    size_t slot;
    int32_t code = find_slot(dict, text, length, hash, &slot);

    if (code >= 0)
        return code;
    if (dict->count >= LN_MAX_DICT_SIZE || length > LN_MAX_FIELD_BYTES)
        return -1;

    if ((size_t)dict->count == dict->codes_cap && grow_codes(dict) != 0)
        return -1;
    if (reserve_blob(dict, length + 1) != 0)
        return -1;

    code = dict->count++;
    dict->offsets[code] = dict->blob_used;
    dict->lengths[code] = (uint32_t)length;
    dict->hashes[code] = hash;
    memcpy(dict->blob + dict->blob_used, text, length);
    dict->blob[dict->blob_used + length] = '\0';
    dict->blob_used += length + 1;
    dict->slots[slot] = code;

    /* Keep the load factor under one half so probes stay short. */
    if ((size_t)dict->count * 2 > dict->slot_count && grow_slots(dict) != 0) {
        dict->count--;
        dict->slots[slot] = -1;
        return -1;
    }
    return code;
}

int32_t ln_dict_find(const ln_dict *dict, const char *text, size_t length)
{
    size_t slot;

    return find_slot(dict, text, length, hash_bytes(text, length), &slot);
}

const char *ln_dict_string(const ln_dict *dict, int32_t code)
{
    if (code < 0 || code >= dict->count)
        return "";
    return dict->blob + dict->offsets[code];
}

size_t ln_dict_string_length(const ln_dict *dict, int32_t code)
{
    if (code < 0 || code >= dict->count)
        return 0;
    return dict->lengths[code];
}

int32_t ln_dict_count(const ln_dict *dict)
{
    return dict->count;
}

const char *ln_type_name(ln_type type)
{
    switch (type) {
    case LN_TYPE_INT: return "integer";
    case LN_TYPE_FLOAT: return "float";
    case LN_TYPE_BOOL: return "boolean";
    case LN_TYPE_TIMESTAMP: return "timestamp";
    case LN_TYPE_CATEGORY: return "category";
    case LN_TYPE_TEXT: return "text";
    }
    return "unknown";
}

int ln_type_from_name(const char *name)
{
    for (int type = LN_TYPE_INT; type <= LN_TYPE_TEXT; type++) {
        if (strcmp(name, ln_type_name((ln_type)type)) == 0)
            return type;
    }
    return -1;
}

ln_table *ln_table_new(size_t n_rows)
{
    ln_table *table = calloc(1, sizeof *table);

    if (table != NULL)
        table->n_rows = n_rows;
    return table;
}

static void column_clear(ln_column *column)
{
    free(column->name);
    free(column->values);
    free(column->codes);
    ln_dict_release(column->dict);
    memset(column, 0, sizeof *column);
}

void ln_table_free(ln_table *table)
{
    if (table == NULL)
        return;
    ln_dict_release(table->names);
    for (size_t i = 0; i < table->n_cols; i++)
        column_clear(&table->cols[i]);
    free(table->cols);
    free(table);
}

int ln_table_find(const ln_table *table, const char *name)
{
    if (table->names == NULL)
        return -1;
    return ln_dict_find(table->names, name, strlen(name));
}

ln_column *ln_table_column(ln_table *table, const char *name)
{
    int index = ln_table_find(table, name);

    return index < 0 ? NULL : &table->cols[index];
}

static int column_allocate(ln_column *column, size_t n_rows)
{
    size_t count = n_rows ? n_rows : 1;

    if (ln_type_is_numeric(column->type)) {
        column->values = malloc(count * sizeof *column->values);
        if (column->values == NULL)
            return -1;
        for (size_t i = 0; i < n_rows; i++)
            column->values[i] = NAN;
        return 0;
    }

    column->codes = malloc(count * sizeof *column->codes);
    column->dict = ln_dict_new();
    if (column->codes == NULL || column->dict == NULL)
        return -1;
    for (size_t i = 0; i < n_rows; i++)
        column->codes[i] = LN_MISSING_CODE;
    return 0;
}

ln_column *ln_table_add_column(ln_table *table, const char *name, ln_type type, ln_error *err)
{
    if (name == NULL || name[0] == '\0') {
        ln_error_set(err, LN_ERR_DATA, "column %zu has an empty name", table->n_cols + 1);
        return NULL;
    }
    if (ln_table_find(table, name) >= 0) {
        ln_error_set(err, LN_ERR_DATA, "duplicate column name '%s'", name);
        return NULL;
    }
    if (table->n_cols >= LN_MAX_COLUMNS) {
        ln_error_set(err, LN_ERR_LIMIT, "more than %d columns", LN_MAX_COLUMNS);
        return NULL;
    }

    if (table->n_cols == table->cap_cols) {
        size_t new_cap = table->cap_cols ? table->cap_cols * 2 : 16;
        ln_column *cols = realloc(table->cols, new_cap * sizeof *cols);
        if (cols == NULL) {
            ln_error_set(err, LN_ERR_NOMEM, "out of memory adding column '%s'", name);
            return NULL;
        }
        table->cols = cols;
        table->cap_cols = new_cap;
    }

    if (table->names == NULL && (table->names = ln_dict_new()) == NULL) {
        ln_error_set(err, LN_ERR_NOMEM, "out of memory adding column '%s'", name);
        return NULL;
    }

    ln_column *column = &table->cols[table->n_cols];
    memset(column, 0, sizeof *column);
    column->type = type;
    column->name = strdup(name);
    if (column->name == NULL || column_allocate(column, table->n_rows) != 0 ||
        ln_dict_intern(table->names, name, strlen(name)) != (int32_t)table->n_cols) {
        column_clear(column);
        ln_error_set(err, LN_ERR_NOMEM, "out of memory adding column '%s'", name);
        return NULL;
    }
    table->n_cols++;
    return column;
}

ln_table *ln_table_take_rows(const ln_table *table, const size_t *rows, size_t n, ln_error *err)
{
    ln_table *subset = ln_table_new(n);

    if (subset == NULL) {
        ln_error_set(err, LN_ERR_NOMEM, "out of memory selecting %zu rows", n);
        return NULL;
    }

    for (size_t c = 0; c < table->n_cols; c++) {
        const ln_column *source = &table->cols[c];
        ln_column *target = ln_table_add_column(subset, source->name, source->type, err);
        if (target == NULL) {
            ln_table_free(subset);
            return NULL;
        }

        if (ln_type_is_numeric(source->type)) {
            for (size_t i = 0; i < n; i++)
                target->values[i] = source->values[rows[i]];
            continue;
        }

        ln_dict_release(target->dict);
        target->dict = ln_dict_retain(source->dict);
        for (size_t i = 0; i < n; i++)
            target->codes[i] = source->codes[rows[i]];
    }
    return subset;
}

int ln_column_is_missing(const ln_column *column, size_t row)
{
    if (ln_type_is_numeric(column->type))
        return isnan(column->values[row]);
    return column->codes[row] < 0;
}

static void format_timestamp(double seconds, char *buffer, size_t capacity)
{
    double whole = floor(seconds);
    time_t t = (time_t)whole;
    struct tm parts;

    gmtime_r(&t, &parts);
    if (parts.tm_hour == 0 && parts.tm_min == 0 && parts.tm_sec == 0 && whole == seconds)
        strftime(buffer, capacity, "%Y-%m-%d", &parts);
    else
        strftime(buffer, capacity, "%Y-%m-%dT%H:%M:%SZ", &parts);
}

/* Writes the shortest decimal that reads back as the same double. */
static void format_double(double value, char *buffer, size_t capacity)
{
    if (isinf(value)) {
        snprintf(buffer, capacity, value > 0 ? "inf" : "-inf");
        return;
    }
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buffer, capacity, "%.*g", precision, value);
        if (strtod(buffer, NULL) == value)
            return;
    }
}

void ln_column_format(const ln_column *column, size_t row, char *buffer, size_t capacity)
{
    if (capacity == 0)
        return;
    buffer[0] = '\0';
    if (ln_column_is_missing(column, row))
        return;

    double value = ln_type_is_numeric(column->type) ? column->values[row] : 0.0;
    switch (column->type) {
    case LN_TYPE_INT:
        snprintf(buffer, capacity, "%.0f", value);
        break;
    case LN_TYPE_FLOAT:
        format_double(value, buffer, capacity);
        break;
    case LN_TYPE_BOOL:
        snprintf(buffer, capacity, "%s", value != 0 ? "true" : "false");
        break;
    case LN_TYPE_TIMESTAMP:
        format_timestamp(value, buffer, capacity);
        break;
    case LN_TYPE_CATEGORY:
    case LN_TYPE_TEXT:
        snprintf(buffer, capacity, "%s", ln_dict_string(column->dict, column->codes[row]));
        break;
    }
}
