/*
 * data_strings: the string set one chunk builds for one column.
 *
 * Lookups dominate the load time of string columns. Each open-addressing
 * slot therefore stores what a probe needs: a 16-bit hash tag, the length and
 * the offset of the string. A probe reads the string bytes only when tag and
 * length match. The dictionary in the final table is an ln_dict; these
 * sets only live while a file loads.
 */
#include "data/data_internal.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <xxhash.h>

#include "lanner/limits.h"

#define OFFSET_BITS 48
#define OFFSET_MASK ((1ull << OFFSET_BITS) - 1)
#define HUGE_PAGE_BYTES (2u << 20)

typedef struct string_slot {
    uint64_t offset_and_tag; /* blob offset in the low 48 bits, hash tag in the high 16 */
    uint32_t length;
    int32_t code;            /* -1 when the slot is empty */
} string_slot;

struct data_strings {
    string_slot *slots;
    size_t slot_count;       /* a power of two */
    int32_t count;
    uint64_t *offsets;       /* offsets[code] into blob */
    uint32_t *lengths;
    uint64_t *hashes;        /* hashes[code], so growing the table reads no string bytes */
    size_t codes_cap;
    char *blob;
    size_t blob_used;
    size_t blob_cap;
};

data_strings *data_strings_new(void)
{
    data_strings *set = calloc(1, sizeof *set);

    if (set == NULL)
        return NULL;
    set->slot_count = 64;
    set->slots = malloc(set->slot_count * sizeof *set->slots);
    if (set->slots == NULL) {
        free(set);
        return NULL;
    }
    for (size_t i = 0; i < set->slot_count; i++)
        set->slots[i].code = -1;
    return set;
}

void data_strings_free(data_strings *set)
{
    if (set == NULL)
        return;
    free(set->slots);
    free(set->offsets);
    free(set->lengths);
    free(set->hashes);
    free(set->blob);
    free(set);
}

int32_t data_strings_count(const data_strings *set)
{
    return set != NULL ? set->count : 0;
}

const char *data_strings_get(const data_strings *set, int32_t code, size_t *length)
{
    *length = set->lengths[code];
    return set->blob + set->offsets[code];
}

/*
 * Allocates a slot array. A large one goes on transparent huge pages because
 * probes hit random slots, and 4 KiB pages would add a TLB miss to most of them.
 */
static string_slot *allocate_slots(size_t count)
{
    size_t bytes = count * sizeof(string_slot);
    void *memory = NULL;

    if (bytes < HUGE_PAGE_BYTES)
        return malloc(bytes);
    if (posix_memalign(&memory, HUGE_PAGE_BYTES, bytes) != 0)
        return NULL;
    madvise(memory, bytes, MADV_HUGEPAGE);
    return memory;
}

static int grow_slots(data_strings *set)
{
    size_t count = set->slot_count * 2;
    string_slot *slots = allocate_slots(count);

    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < count; i++)
        slots[i].code = -1;
    for (int32_t code = 0; code < set->count; code++) {
        uint64_t hash = set->hashes[code];
        size_t slot = (size_t)hash & (count - 1);
        while (slots[slot].code >= 0)
            slot = (slot + 1) & (count - 1);
        slots[slot].offset_and_tag = set->offsets[code] | (hash & ~OFFSET_MASK);
        slots[slot].length = set->lengths[code];
        slots[slot].code = code;
    }
    free(set->slots);
    set->slots = slots;
    set->slot_count = count;
    return 0;
}

static int reserve(data_strings *set, size_t length)
{
    if ((size_t)set->count == set->codes_cap) {
        size_t cap = set->codes_cap ? set->codes_cap * 2 : 64;
        uint64_t *offsets = realloc(set->offsets, cap * sizeof *offsets);
        if (offsets == NULL)
            return -1;
        set->offsets = offsets;
        uint32_t *lengths = realloc(set->lengths, cap * sizeof *lengths);
        if (lengths == NULL)
            return -1;
        set->lengths = lengths;
        uint64_t *hashes = realloc(set->hashes, cap * sizeof *hashes);
        if (hashes == NULL)
            return -1;
        set->hashes = hashes;
        set->codes_cap = cap;
    }
    if (set->blob_used + length + 1 > set->blob_cap) {
        size_t cap = set->blob_cap ? set->blob_cap * 2 : 4096;
        while (cap < set->blob_used + length + 1)
            cap *= 2;
        char *blob = realloc(set->blob, cap);
        if (blob == NULL)
            return -1;
        set->blob = blob;
        set->blob_cap = cap;
    }
    return 0;
}

uint64_t data_strings_hash(const char *text, size_t length)
{
    return XXH3_64bits(text, length);
}

void data_strings_prefetch(const data_strings *set, uint64_t hash)
{
    __builtin_prefetch(&set->slots[(size_t)hash & (set->slot_count - 1)]);
}

int32_t data_strings_intern(data_strings *set, const char *text, size_t length)
{
    return data_strings_intern_hashed(set, text, length, XXH3_64bits(text, length));
}

int32_t data_strings_intern_hashed(data_strings *set, const char *text, size_t length,
                                   uint64_t hash)
{
    uint64_t tag = hash & ~OFFSET_MASK;
    size_t mask = set->slot_count - 1;
    size_t slot = (size_t)hash & mask;

    for (;; slot = (slot + 1) & mask) {
        const string_slot *probe = &set->slots[slot];
        if (probe->code < 0)
            break;
        if ((probe->offset_and_tag & ~OFFSET_MASK) == tag && probe->length == length &&
            memcmp(set->blob + (probe->offset_and_tag & OFFSET_MASK), text, length) == 0)
            return probe->code;
    }

    if (set->count >= LN_MAX_DICT_SIZE || length > LN_MAX_FIELD_BYTES ||
        set->blob_used + length + 1 > OFFSET_MASK || reserve(set, length) != 0)
        return -1;

    /* A NUL after each string lets callers print it. */
    int32_t code = set->count++;
    memcpy(set->blob + set->blob_used, text, length);
    set->blob[set->blob_used + length] = '\0';
    set->offsets[code] = set->blob_used;
    set->lengths[code] = (uint32_t)length;
    set->hashes[code] = hash;
    set->slots[slot].offset_and_tag = set->blob_used | tag;
    set->slots[slot].length = (uint32_t)length;
    set->slots[slot].code = code;
    set->blob_used += length + 1;

    /* Keep the load factor under one half so probes stay short. */
    if ((size_t)set->count * 2 > set->slot_count && grow_slots(set) != 0) {
        set->count--;
        set->blob_used -= length + 1;
        set->slots[slot].code = -1;
        return -1;
    }
    return code;
}
