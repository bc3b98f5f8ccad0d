/*
 * LSD radix sorts of doubles: in place, for the quantiles of profiles and
 * the bin edges of the tree learner, and as a row order, for the ranking
 * metrics and the threshold search.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/sort.h"

/* Maps a double to an unsigned key with the same order: flip every bit of negatives, the sign bit of the rest. */
static uint64_t order_key(double value)
{
    uint64_t bits;

    memcpy(&bits, &value, sizeof bits);
    return (bits >> 63) ? ~bits : bits | (UINT64_C(1) << 63);
}

static double key_value(uint64_t key)
{
    uint64_t bits = (key >> 63) ? key & ~(UINT64_C(1) << 63) : ~key;
    double value;

    memcpy(&value, &bits, sizeof value);
    return value;
}

/* Digits of 11 bits: six passes cover 64 bits, and 2048 counters stay in the first-level cache. */
#define RADIX_BITS 11
#define RADIX_PASSES 6
#define RADIX_SIZE (1u << RADIX_BITS)

void ln_sort_doubles(double *values, double *scratch, unsigned char *labels, unsigned char *label_scratch, size_t n)
{
    static_assert(sizeof(double) == sizeof(uint64_t), "keys reuse the arrays of doubles");
    uint32_t counts[RADIX_PASSES][RADIX_SIZE];
    uint64_t *from = (uint64_t *)(void *)values;
    uint64_t *to = (uint64_t *)(void *)scratch;
    unsigned char *labels_from = labels;
    unsigned char *labels_to = label_scratch;

    if (n < 2 || n > UINT32_MAX) {
        /* TODO: more than 2^32 values overflow the 32-bit counters; no table that size fits in memory today. */
        assert(n < 2);
        return;
    }

    memset(counts, 0, sizeof counts);
    for (size_t i = 0; i < n; i++) {
        uint64_t key = order_key(values[i]);
        from[i] = key;
        for (int pass = 0; pass < RADIX_PASSES; pass++)
            counts[pass][(key >> (RADIX_BITS * pass)) & (RADIX_SIZE - 1)]++;
    }

    for (int pass = 0; pass < RADIX_PASSES; pass++) {
        uint32_t *count = counts[pass];
        int shift = RADIX_BITS * pass;

        /* A digit that is the same in every key leaves the order unchanged, so its pass is skipped. */
        if (count[(from[0] >> shift) & (RADIX_SIZE - 1)] == n)
            continue;

        uint32_t offset = 0;
        for (uint32_t digit = 0; digit < RADIX_SIZE; digit++) {
            uint32_t c = count[digit];
            count[digit] = offset;
            offset += c;
        }
        if (labels != NULL) {
            for (size_t i = 0; i < n; i++) {
                uint32_t at = count[(from[i] >> shift) & (RADIX_SIZE - 1)]++;
                to[at] = from[i];
                labels_to[at] = labels_from[i];
            }
            unsigned char *swap = labels_from;
            labels_from = labels_to;
            labels_to = swap;
        } else {
            for (size_t i = 0; i < n; i++)
                to[count[(from[i] >> shift) & (RADIX_SIZE - 1)]++] = from[i];
        }
        uint64_t *swap = from;
        from = to;
        to = swap;
    }
    for (size_t i = 0; i < n; i++)
        values[i] = key_value(from[i]);
    if (labels != NULL && labels_from != labels)
        memcpy(labels, labels_from, n);
}

typedef struct keyed_row {
    uint64_t key;
    size_t row;
} keyed_row;

/* Maps a score to a key whose unsigned order is the descending numeric order, with -0.0 tied to 0.0. */
static uint64_t descending_key(double score)
{
    return ~order_key(score + 0.0);
}

size_t *ln_order_descending(const double *scores, size_t n)
{
    if (n > SIZE_MAX / (2 * sizeof(keyed_row)))
        return NULL;

    size_t *order = malloc((n ? n : 1) * sizeof *order);
    keyed_row *rows = malloc((n ? n : 1) * sizeof *rows);
    keyed_row *spare = malloc((n ? n : 1) * sizeof *spare);
    size_t (*counts)[RADIX_SIZE] = calloc(RADIX_PASSES, sizeof *counts);
    if (order == NULL || rows == NULL || spare == NULL || counts == NULL) {
        free(order);
        order = NULL;
        goto done;
    }

    for (size_t i = 0; i < n; i++) {
        rows[i].key = descending_key(scores[i]);
        rows[i].row = i;
        for (int pass = 0; pass < RADIX_PASSES; pass++)
            counts[pass][(rows[i].key >> (pass * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
    }

    for (int pass = 0; pass < RADIX_PASSES; pass++) {
        size_t *count = counts[pass];
        int shift = RADIX_BITS * pass;

        /* A digit that is the same in every key leaves the order unchanged, so its pass is skipped. */
        if (n == 0 || count[(rows[0].key >> shift) & (RADIX_SIZE - 1)] == n)
            continue;

        size_t offset = 0;
        for (size_t digit = 0; digit < RADIX_SIZE; digit++) {
            size_t c = count[digit];
            count[digit] = offset;
            offset += c;
        }
        for (size_t i = 0; i < n; i++)
            spare[count[(rows[i].key >> shift) & (RADIX_SIZE - 1)]++] = rows[i];
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
