/*
 * LSD radix sort of scores, used by the ranking metrics and the threshold
 * search so that a million rows sort in linear time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "outcome/outcome_internal.h"

#define DIGIT_BITS 11
#define DIGIT_COUNT (1u << DIGIT_BITS)
#define PASSES ((64 + DIGIT_BITS - 1) / DIGIT_BITS)

typedef struct keyed_row {
    uint64_t key;
    size_t row;
} keyed_row;

/*
 * Maps a double to a key whose unsigned order is the descending numeric
 * order. A non-negative double's bits order as integers once its sign bit
 * is set; a negative double's bits order backwards, so all of them flip.
 * The final complement turns ascending into descending.
 */
static uint64_t descending_key(double score)
{
    uint64_t bits;
    score += 0.0; /* -0.0 becomes +0.0 so that the two tie */
    memcpy(&bits, &score, sizeof bits);
    uint64_t ascending = (bits >> 63) ? ~bits : bits | (1ull << 63);
    return ~ascending;
}

size_t *outcome_order_descending(const double *scores, size_t n)
{
    if (n > SIZE_MAX / (2 * sizeof(keyed_row)))
        return NULL;

    size_t *order = malloc((n ? n : 1) * sizeof *order);
    keyed_row *rows = malloc((n ? n : 1) * sizeof *rows);
    keyed_row *spare = malloc((n ? n : 1) * sizeof *spare);
    size_t (*counts)[DIGIT_COUNT] = calloc(PASSES, sizeof *counts);
    if (order == NULL || rows == NULL || spare == NULL || counts == NULL) {
        free(order);
        order = NULL;
        goto done;
    }

    for (size_t i = 0; i < n; i++) {
        rows[i].key = descending_key(scores[i]);
        rows[i].row = i;
        for (int pass = 0; pass < PASSES; pass++)
            counts[pass][(rows[i].key >> (pass * DIGIT_BITS)) & (DIGIT_COUNT - 1)]++;
    }

    for (int pass = 0; pass < PASSES; pass++) {
        size_t *count = counts[pass];

        /* A digit every key shares leaves the order unchanged: skip the pass. */
        if (n == 0 || count[(rows[0].key >> (pass * DIGIT_BITS)) & (DIGIT_COUNT - 1)] == n)
            continue;
        size_t offset = 0;
        for (size_t d = 0; d < DIGIT_COUNT; d++) {
            size_t c = count[d];
            count[d] = offset;
            offset += c;
        }
        for (size_t i = 0; i < n; i++)
            spare[count[(rows[i].key >> (pass * DIGIT_BITS)) & (DIGIT_COUNT - 1)]++] = rows[i];
        keyed_row *swap = rows;
        rows = spare;
        spare = swap;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = rows[i].row;

done:
    free(rows);
    free(spare);
    free(counts);
    return order;
}
