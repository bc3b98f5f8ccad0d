#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/io.h"
#include "lanner/table.h"

void ln_csv_write_field(FILE *out, const char *text)
{
    if (strpbrk(text, ",\"\r\n") == NULL) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *c = text; *c; c++) {
        if (*c == '"')
            fputc('"', out);
        fputc(*c, out);
    }
    fputc('"', out);
}

ln_status ln_table_write_csv(const ln_table *table, const char *path, ln_error *err)
{
    char *buffer = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buffer, &size);
    if (out == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory writing CSV", path);

    /* Category strings can be long; LN_MAX_FIELD_BYTES bounds them. */
    size_t capacity = 1 << 16;
    char *cell = malloc(capacity);
    if (cell == NULL) {
        fclose(out);
        free(buffer);
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory writing CSV", path);
    }

    for (size_t c = 0; c < table->n_cols; c++) {
        if (c > 0)
            fputc(',', out);
        ln_csv_write_field(out, table->cols[c].name);
    }
    fputc('\n', out);

    for (size_t r = 0; r < table->n_rows; r++) {
        for (size_t c = 0; c < table->n_cols; c++) {
            const ln_column *column = &table->cols[c];
            if (c > 0)
                fputc(',', out);
            if (!ln_type_is_numeric(column->type) && !ln_column_is_missing(column, r)) {
                ln_csv_write_field(out, ln_dict_string(column->dict, column->codes[r]));
                continue;
            }
            ln_column_format(column, r, cell, capacity);
            ln_csv_write_field(out, cell);
        }
        fputc('\n', out);
    }
    free(cell);

    if (fclose(out) != 0) {
        free(buffer);
        return ln_error_set(err, LN_ERR_IO, "%s: writing CSV failed", path);
    }
    ln_status status = ln_write_file_atomic(path, buffer, size, err);
    free(buffer);
    return status;
}
