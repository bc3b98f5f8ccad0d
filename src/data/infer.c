/*
 * Column type inference, type overrides and table assembly shared by the
 * CSV, SQLite and PostgreSQL loaders.
 */
#include "data/data_internal.h"

#include <stdlib.h>
#include <string.h>

#include "lanner/limits.h"

ln_type data_string_type(size_t distinct, size_t non_missing)
{
    if (distinct <= LN_CATEGORY_MIN_DISTINCT)
        return LN_TYPE_CATEGORY;
    if ((double)distinct <= LN_CATEGORY_MAX_SHARE * (double)non_missing)
        return LN_TYPE_CATEGORY;
    return LN_TYPE_TEXT;
}

/* Returns the type of a column whose non-missing cells are all non-strings, or -1 when they mix. */
static int parsed_family(const size_t counts[DATA_CELL_CLASS_COUNT], size_t parsed)
{
    size_t numbers = counts[DATA_CELL_INT] + counts[DATA_CELL_BIG_INT] + counts[DATA_CELL_FLOAT];

    if (numbers == parsed) {
        if (counts[DATA_CELL_FLOAT] > 0)
            return LN_TYPE_FLOAT;
        /* Integers beyond 2^53 without any decimal look like identifiers. */
        return counts[DATA_CELL_BIG_INT] > 0 ? -1 : LN_TYPE_INT;
    }
    if (counts[DATA_CELL_BOOL] == parsed)
        return LN_TYPE_BOOL;
    if (counts[DATA_CELL_TIMESTAMP] == parsed)
        return LN_TYPE_TIMESTAMP;
    return -1;
}

ln_type data_infer_type(const size_t counts[DATA_CELL_CLASS_COUNT], int *needs_text,
                        int *stray_family)
{
    size_t non_missing = 0;

    for (int c = DATA_CELL_MISSING + 1; c < DATA_CELL_CLASS_COUNT; c++)
        non_missing += counts[c];
    size_t strings = counts[DATA_CELL_STRING];
    size_t parsed = non_missing - strings;

    *needs_text = 0;
    *stray_family = -1;
    if (non_missing == 0)
        return LN_TYPE_FLOAT;

    int family = parsed_family(counts, parsed);
    if (strings == 0 && family >= 0)
        return (ln_type)family;

    /* A string column; its cells parsed as something else must be reread as text. */
    *needs_text = parsed > 0;
    if (strings > 0 && family >= 0 && parsed > 0 &&
        (double)strings <= LN_STRAY_MAX_SHARE * (double)non_missing &&
        strings <= LN_STRAY_MAX_CELLS)
        *stray_family = family;
    return LN_TYPE_CATEGORY;
}

int32_t *data_merge_strings(const char *column_name, const double *slots, size_t n_rows,
                            data_strings *const *part_strings, const size_t *part_begin,
                            const size_t *part_rows, size_t n_parts, ln_dict **dict_out,
                            ln_error *err)
{
    ln_dict *dict = ln_dict_new();
    int32_t *codes = malloc((n_rows ? n_rows : 1) * sizeof *codes);
    int32_t *map = NULL;
    size_t map_cap = 0;

    if (dict == NULL || codes == NULL)
        goto out_of_memory;

    for (size_t part = 0; part < n_parts; part++) {
        const data_strings *local = part_strings[part];
        size_t local_count = (size_t)data_strings_count(local);

        /* Interning parts in input order keeps codes in order of first appearance. */
        if (local_count > map_cap) {
            int32_t *grown = realloc(map, local_count * sizeof *map);
            if (grown == NULL)
                goto out_of_memory;
            map = grown;
            map_cap = local_count;
        }
        for (size_t code = 0; code < local_count; code++) {
            size_t length;
            const char *text = data_strings_get(local, (int32_t)code, &length);
            map[code] = ln_dict_intern(dict, text, length);
            if (map[code] < 0) {
                ln_error_set(err, LN_ERR_LIMIT,
                             "column '%s' has more than %d distinct values, the maximum",
                             column_name, LN_MAX_DICT_SIZE);
                goto fail;
            }
        }

        for (size_t row = part_begin[part]; row < part_begin[part] + part_rows[part]; row++) {
            int32_t code = data_unbox_code(slots[row]);
            codes[row] = code < 0 ? LN_MISSING_CODE : map[code];
        }
    }
    free(map);
    *dict_out = dict;
    return codes;

out_of_memory:
    ln_error_set(err, LN_ERR_NOMEM, "out of memory building the dictionary of column '%s'",
                 column_name);
fail:
    free(map);
    free(codes);
    ln_dict_release(dict);
    return NULL;
}

ln_table *data_build_table(data_column *columns, size_t n_cols, int32_t **codes, ln_dict **dicts,
                           size_t n_rows, ln_error *err)
{
    ln_table *table = ln_table_new(0);

    if (table == NULL) {
        ln_error_set(err, LN_ERR_NOMEM, "out of memory creating a table");
        return NULL;
    }

    for (size_t i = 0; i < n_cols; i++) {
        ln_column *column = ln_table_add_column(table, columns[i].name, columns[i].type, err);
        if (column == NULL) {
            ln_table_free(table);
            return NULL;
        }

        /* Swap the one-row storage ln_table_add_column made for the loader's arrays. */
        if (ln_type_is_numeric(columns[i].type)) {
            free(column->values);
            column->values = columns[i].slots;
            columns[i].slots = NULL;
            continue;
        }
        free(column->codes);
        ln_dict_release(column->dict);
        column->codes = codes[i];
        column->dict = dicts[i];
        codes[i] = NULL;
        dicts[i] = NULL;
    }
    table->n_rows = n_rows;
    return table;
}

ln_status data_finish_string_column(data_column *column, data_strings *strings, size_t n_rows,
                                    size_t non_missing, int32_t **codes, ln_dict **dict, ln_error *err)
{
    size_t begin = 0;

    *codes = data_merge_strings(column->name, column->slots, n_rows, &strings, &begin, &n_rows, 1, dict, err);
    if (*codes == NULL)
        return err != NULL ? err->status : LN_ERR_NOMEM;

    free(column->slots);
    column->slots = NULL;
    if (!column->forced)
        column->type = data_string_type((size_t)ln_dict_count(*dict), non_missing);
    return LN_OK;
}

void data_free_string_columns(int32_t **codes, ln_dict **dicts, size_t n_cols)
{
    if (codes != NULL && dicts != NULL) {
        for (size_t c = 0; c < n_cols; c++) {
            free(codes[c]);
            ln_dict_release(dicts[c]);
        }
    }
    free(codes);
    free(dicts);
}

ln_status data_apply_query_overrides(data_column *columns, size_t n_cols, const ln_load_options *options,
                                     const char *source, ln_error *err)
{
    if (options == NULL || options->n_overrides == 0)
        return LN_OK;
    if (options->override_names == NULL || options->override_types == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "type overrides are given without names or types");

    for (size_t i = 0; i < options->n_overrides; i++) {
        size_t c = 0;
        while (c < n_cols && strcmp(columns[c].name, options->override_names[i]) != 0)
            c++;
        if (c == n_cols && options->overrides_optional)
            continue;
        if (c == n_cols)
            return ln_error_set(err, LN_ERR_NOT_FOUND,
                                "%s: type override names column '%s', which the query does not return", source,
                                options->override_names[i]);
        if ((int)options->override_types[i] < LN_TYPE_INT || options->override_types[i] > LN_TYPE_TEXT)
            return ln_error_set(err, LN_ERR_CONFIG, "type override %zu has an invalid type (%d)", i + 1,
                                (int)options->override_types[i]);
        columns[c].forced = 1;
        columns[c].type = options->override_types[i];
    }
    return LN_OK;
}

void data_free_sql_columns(data_column *columns, data_column_stats *stats, size_t n_cols)
{
    for (size_t c = 0; c < n_cols; c++) {
        if (columns != NULL) {
            free(columns[c].name);
            free(columns[c].slots);
        }
        if (stats != NULL)
            data_strings_free(stats[c].strings);
    }
    free(columns);
    free(stats);
}
