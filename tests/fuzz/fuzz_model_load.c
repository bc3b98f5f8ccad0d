/*
 * libFuzzer target for the model loader: any input must load or be
 * rejected with LN_ERR_CORRUPT, without a crash or an out-of-bounds read.
 * The checksum rejects almost every mutation, so the fuzzer also tries each
 * input with its checksum recomputed, which reaches the section parsers.
 * A model that loads is then used: scored through a prepared row and
 * explained on a one-row table, so hostile trees, covers and calibrations
 * reach prediction and TreeSHAP too.
 *
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DLANNER_FUZZ=ON
 *   cmake --build build-fuzz --target fuzz_model_load
 *   build-fuzz/src/learn/fuzz_model_load -max_total_time=60 CORPUS_DIR
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lanner/model.h"

#define HEADER_BYTES 32

/* Features beyond this count are not exercised, to keep each input fast. */
#define MAX_USED_FEATURES 64

/* Scores and explains one row of zeros (categories "x", unseen) and one of missing values. */
static void use_model(const ln_model *model)
{
    size_t n = ln_model_feature_count(model);
    size_t outputs = ln_model_output_count(model);
    ln_error err = {0};
    ln_model_row *row = NULL;
    double out[256];

    if (n > MAX_USED_FEATURES || ln_model_row_new(model, &row, &err) != LN_OK)
        return;
    if (ln_model_predict_row(model, row, out, &err) != LN_OK)
        abort();

    ln_table *table = ln_table_new(1);
    for (size_t f = 0; table != NULL && f < n; f++) {
        int category = ln_model_feature_type(model, f) == LN_TYPE_CATEGORY;
        ln_column *column = ln_table_add_column(table, ln_model_feature_name(model, f),
                                                category ? LN_TYPE_CATEGORY : LN_TYPE_FLOAT, &err);
        if (column == NULL)
            break;
        if (category) {
            column->codes[0] = ln_dict_intern(column->dict, "x", 1);
            ln_model_row_set_category(row, f, "x", 1, &err);
        } else {
            column->values[0] = 0.0;
            ln_model_row_set_number(row, f, 0.0, &err);
        }
    }
    if (ln_model_predict_row(model, row, out, &err) != LN_OK)
        abort();

    double *contributions = malloc(outputs * (n + 1) * sizeof *contributions);
    if (table != NULL && contributions != NULL && table->n_cols == n) {
        ln_status status = ln_model_explain(model, table, contributions, &err);
        if (status != LN_OK && status != LN_ERR_CONFIG && status != LN_ERR_LIMIT && status != LN_ERR_NOMEM)
            abort();
    }
    free(contributions);
    ln_table_free(table);
    ln_model_row_free(row);
}

static void load_once(const uint8_t *data, size_t size)
{
    ln_model *model = NULL;
    ln_error err = {0};
    ln_status status = ln_model_load_bytes(data, size, &model, &err);
    if (status != LN_OK && status != LN_ERR_CORRUPT && status != LN_ERR_NOMEM)
        abort();
    if (status == LN_OK && model == NULL)
        abort();
    if (model != NULL)
        use_model(model);
    ln_model_free(model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    load_once(data, size);
    if (size < HEADER_BYTES)
        return 0;

    uint8_t *copy = malloc(size);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    uint64_t payload = size - HEADER_BYTES;
    uint64_t checksum = XXH64(copy + HEADER_BYTES, (size_t)payload, 0);
    for (int i = 0; i < 8; i++) {
        copy[16 + i] = (uint8_t)(payload >> (8 * i));
        copy[24 + i] = (uint8_t)(checksum >> (8 * i));
    }
    load_once(copy, size);
    free(copy);
    return 0;
}
