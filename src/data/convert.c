/* ln_column_convert: changes a column's type in place, as schema overrides need. */
#include "data/data_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lanner/limits.h"

/* Parses every string of the column as type into a new values array. */
static ln_status strings_to_numeric(ln_column *column, ln_type type, size_t n_rows, ln_error *err)
{
    int32_t count = ln_dict_count(column->dict);
    double *parsed = malloc((count > 0 ? (size_t)count : 1) * sizeof *parsed);
    int8_t *valid = calloc(count > 0 ? (size_t)count : 1, 1);
    double *values = malloc((n_rows ? n_rows : 1) * sizeof *values);
    ln_status status = LN_OK;

    if (parsed == NULL || valid == NULL || values == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory converting column '%s'",
                              column->name);
        goto done;
    }

    /* Each distinct string is parsed once; the rows then look their value up. */
    for (int32_t code = 0; code < count; code++) {
        valid[code] = (int8_t)data_parse_as(type, ln_dict_string(column->dict, code),
                                            ln_dict_string_length(column->dict, code), 0,
                                            &parsed[code]);
    }
    for (size_t row = 0; row < n_rows; row++) {
        int32_t code = column->codes[row];
        if (code < 0) {
            values[row] = NAN;
            continue;
        }
        if (!valid[code]) {
            char shown[80];
            const char *text = ln_dict_string(column->dict, code);
            data_quote_value(text, ln_dict_string_length(column->dict, code), shown, sizeof shown);
            status = ln_error_set(err, LN_ERR_DATA,
                                  "column '%s', row %zu: value '%s' is not a valid %s",
                                  column->name, row + 1, shown, ln_type_name(type));
            goto done;
        }
        values[row] = parsed[code];
    }

    free(column->codes);
    ln_dict_release(column->dict);
    column->codes = NULL;
    column->dict = NULL;
    column->values = values;
    values = NULL;
    column->type = type;

done:
    free(parsed);
    free(valid);
    free(values);
    return status;
}

/* Formats every value as its text into a new dictionary. */
static ln_status numeric_to_strings(ln_column *column, ln_type type, size_t n_rows, ln_error *err)
{
    int32_t *codes = malloc((n_rows ? n_rows : 1) * sizeof *codes);
    ln_dict *dict = ln_dict_new();
    char text[64];

    if (codes == NULL || dict == NULL) {
        free(codes);
        ln_dict_release(dict);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory converting column '%s'",
                            column->name);
    }
    for (size_t row = 0; row < n_rows; row++) {
        if (isnan(column->values[row])) {
            codes[row] = LN_MISSING_CODE;
            continue;
        }
        ln_column_format(column, row, text, sizeof text);
        codes[row] = ln_dict_intern(dict, text, strlen(text));
        if (codes[row] < 0) {
            free(codes);
            ln_dict_release(dict);
            return ln_error_set(err, LN_ERR_LIMIT,
                                "column '%s' has more than %d distinct values, the maximum",
                                column->name, LN_MAX_DICT_SIZE);
        }
    }
    free(column->values);
    column->values = NULL;
    column->codes = codes;
    column->dict = dict;
    column->type = type;
    return LN_OK;
}

/* Checks that every value of a numeric column fits the numeric type, then relabels it. */
static ln_status numeric_to_numeric(ln_column *column, ln_type type, size_t n_rows, ln_error *err)
{
    for (size_t row = 0; row < n_rows; row++) {
        double value = column->values[row];
        int fits = 1;

        if (isnan(value))
            continue;
        if (type == LN_TYPE_INT)
            fits = isfinite(value) && value == floor(value) && fabs(value) <= 9007199254740992.0;
        else if (type == LN_TYPE_BOOL)
            fits = value == 0.0 || value == 1.0;
        else if (type == LN_TYPE_TIMESTAMP)
            fits = isfinite(value);
        if (!fits)
            return ln_error_set(err, LN_ERR_DATA,
                                "column '%s', row %zu: value %.17g is not a valid %s",
                                column->name, row + 1, value, ln_type_name(type));
    }
    column->type = type;
    return LN_OK;
}

ln_status ln_column_convert(ln_column *column, ln_type type, size_t n_rows, ln_error *err)
{
    if ((int)type < LN_TYPE_INT || type > LN_TYPE_TEXT)
        return ln_error_set(err, LN_ERR_CONFIG, "invalid type %d for column '%s'", (int)type,
                            column->name);
    if (column->type == type)
        return LN_OK;

    int from_numeric = ln_type_is_numeric(column->type);
    int to_numeric = ln_type_is_numeric(type);
    if (from_numeric && to_numeric)
        return numeric_to_numeric(column, type, n_rows, err);
    if (from_numeric)
        return numeric_to_strings(column, type, n_rows, err);
    if (to_numeric)
        return strings_to_numeric(column, type, n_rows, err);

    /* Category and text share one representation. */
    column->type = type;
    return LN_OK;
}
