/*
 * libFuzzer target for the model loader: any input must load or be
 * rejected with LN_ERR_CORRUPT, without a crash or an out-of-bounds read.
 * The checksum rejects almost every mutation, so the fuzzer also tries each
 * input with its checksum recomputed, which reaches the section parsers.
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

static void load_once(const uint8_t *data, size_t size)
{
    ln_model *model = NULL;
    ln_error err = {0};
    ln_status status = ln_model_load_bytes(data, size, &model, &err);
    if (status != LN_OK && status != LN_ERR_CORRUPT && status != LN_ERR_NOMEM)
        abort();
    if (status == LN_OK && model == NULL)
        abort();
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
