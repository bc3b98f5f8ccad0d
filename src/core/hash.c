#include "lanner/hash.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

static void write_hex(XXH128_hash_t hash, char hex[LN_HASH_HEX_SIZE])
{
    snprintf(hex, LN_HASH_HEX_SIZE, "%016llx%016llx", (unsigned long long)hash.high64,
             (unsigned long long)hash.low64);
}

void ln_hash_bytes(const void *data, size_t size, char hex[LN_HASH_HEX_SIZE])
{
    write_hex(XXH3_128bits(data, size), hex);
}

static void update_column(XXH3_state_t *state, const ln_column *column, size_t n_rows)
{
    int32_t type = (int32_t)column->type;

    XXH3_128bits_update(state, column->name, strlen(column->name) + 1);
    XXH3_128bits_update(state, &type, sizeof type);

    if (ln_type_is_numeric(column->type)) {
        /* Every NaN hashes alike, whatever its payload bits. */
        for (size_t row = 0; row < n_rows; row++) {
            double value = isnan(column->values[row]) ? NAN : column->values[row];
            XXH3_128bits_update(state, &value, sizeof value);
        }
        return;
    }

    for (size_t row = 0; row < n_rows; row++) {
        int32_t code = column->codes[row];
        if (code < 0) {
            XXH3_128bits_update(state, "\xff", 1);
            continue;
        }
        XXH3_128bits_update(state, ln_dict_string(column->dict, code),
                            ln_dict_string_length(column->dict, code) + 1);
    }
}

void ln_hash_table(const ln_table *table, char hex[LN_HASH_HEX_SIZE])
{
    XXH3_state_t *state = XXH3_createState();
    uint64_t n_rows = table->n_rows;

    if (state == NULL) {
        snprintf(hex, LN_HASH_HEX_SIZE, "%032d", 0);
        return;
    }
    XXH3_128bits_reset(state);
    XXH3_128bits_update(state, &n_rows, sizeof n_rows);
    for (size_t c = 0; c < table->n_cols; c++)
        update_column(state, &table->cols[c], table->n_rows);
    write_hex(XXH3_128bits_digest(state), hex);
    XXH3_freeState(state);
}
