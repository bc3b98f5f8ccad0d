/*
 * The step cache of `lanner run`: each step's inputs are written as a
 * canonical text and hashed (XXH3-128) into the step's key, and the step's
 * result is stored in a content-addressed file named by that key.
 *
 * An entry file is "LNCACHE1", the payload size (u64), the XXH3-64 hash of
 * the payload (u64) and the payload. It is written to a temporary file and
 * renamed, and a reader checks the size and hash, so a reader never uses a
 * half-written or damaged entry: it counts as a miss. Numbers are stored in
 * the machine's byte order, so a cache folder is not portable between
 * machines of different byte order (a foreign entry fails its checks and is
 * recomputed).
 */
#ifndef LANNER_PIPELINE_CACHE_H
#define LANNER_PIPELINE_CACHE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lanner/hash.h"
#include "lanner/status.h"
#include "lanner/table.h"

/* Bytes in one cache entry; a larger step result is not cached. */
#define CACHE_MAX_ENTRY_BYTES ((size_t)8 << 30)

/* Bytes in the canonical text of one key (the pipeline file is at most 4 MiB). */
#define CACHE_MAX_KEY_TEXT ((size_t)64 << 20)

/* A growable byte buffer: the canonical text of a key, or the payload of an entry. */
typedef struct cache_blob {
    unsigned char *data;
    size_t size;
    size_t capacity;
    size_t limit;  /* growth beyond this sets failed */
    int failed;    /* out of memory or over limit: every later put is ignored */
} cache_blob;

/* Starts the key of step: its name and this build's lanner version. */
void cache_key_init(cache_blob *key, const char *step);

/* Adds name = value to a key; value may be NULL (written as absent, unlike ""). */
void cache_key_text(cache_blob *key, const char *name, const char *value);

/* Adds name = value with %.17g, so every double that differs gives another key. */
void cache_key_number(cache_blob *key, const char *name, double value);

/* Hashes the key text into hex and frees it. LN_ERR_NOMEM when building it failed. */
ln_status cache_key_finish(cache_blob *key, char hex[LN_HASH_HEX_SIZE], ln_error *err);

void cache_blob_init(cache_blob *blob, size_t limit);
void cache_blob_free(cache_blob *blob);
void cache_put_u64(cache_blob *blob, uint64_t value);
void cache_put_bytes(cache_blob *blob, const void *data, size_t size);
void cache_put_string(cache_blob *blob, const char *text);

/* Appends a table: its rows, and each column's name, type and values or dictionary and codes. */
void cache_put_table(cache_blob *blob, const ln_table *table);

/* A bounds-checked reader over a payload. */
typedef struct cache_reader {
    const unsigned char *data;
    size_t size;
    size_t at;
    int failed;   /* a read went past the end or found a bad value */
} cache_reader;

uint64_t cache_get_u64(cache_reader *reader);
/* Returns a pointer to size bytes inside the payload, or NULL (and failed) past the end. */
const void *cache_get_bytes(cache_reader *reader, size_t size);
/* Returns a new NUL-terminated copy the caller frees, or NULL (and failed). */
char *cache_get_string(cache_reader *reader);

/* Reads a table written by cache_put_table. LN_ERR_CORRUPT for a payload that does not parse. */
ln_status cache_get_table(cache_reader *reader, ln_table **out, ln_error *err);

/* The cache of one run: disabled by --no-cache. */
typedef struct run_cache {
    int enabled;
    char dir[PATH_MAX];
} run_cache;

/* Sets up the cache of a run; the folder is created by the first cache_write. */
void cache_open(run_cache *cache, const char *dir, int enabled);

/* Writes <dir>/<step>-<key><extension> into out; LN_ERR_LIMIT when it does not fit. */
ln_status cache_entry_path(const run_cache *cache, const char *step, const char *key, const char *extension,
                           char *out, size_t capacity, ln_error *err);

/*
 * Reads the payload of an entry into *payload (the caller frees it).
 * LN_OK on a hit; LN_ERR_NOT_FOUND on a miss; LN_ERR_CORRUPT for an entry
 * that fails its checks, which the caller treats as a miss.
 */
ln_status cache_read(const run_cache *cache, const char *step, const char *key, unsigned char **payload,
                     size_t *size, ln_error *err);

/* Stores blob as the entry of step and key, creating the folder. A failure only logs a warning. */
void cache_write(const run_cache *cache, const char *step, const char *key, const cache_blob *blob);

/* Marks the entry file at path as just used, so that cache_prune removes it last. */
void cache_touch(const char *path);

typedef struct cache_prune_result {
    size_t kept, removed;            /* entries */
    uint64_t kept_bytes, removed_bytes;
} cache_prune_result;

/*
 * Removes the least recently used entries of the cache folder dir (by
 * modification time, which cache_read and cache_touch refresh) until the
 * rest take at most limit bytes. Entries used or written at or after
 * keep_since stay, even over the limit, so a run never drops its own
 * results. Temporary files that interrupted writes left behind are removed
 * once they are an hour old. Only files named as lanner names them
 * (<step>-<32 hex digits>.lce or .lnr, and those names followed by
 * .tmp.XXXXXX) are touched, so other files in a shared folder stay. A
 * folder that does not exist is empty.
 */
ln_status cache_prune(const char *dir, uint64_t limit, const struct timespec *keep_since,
                      cache_prune_result *result, ln_error *err);

/* Returns 1 when path is a regular file. A cache entry that is anything else is treated as missing. */
int cache_entry_is_file(const char *path);

/*
 * Removes whatever is at an entry's path when it is not a regular file, so
 * that writing the entry does not block on a FIFO or write into a device.
 */
ln_status cache_clear_entry_path(const char *path, ln_error *err);

/* Adds name = value, an unsigned 64-bit integer written exactly. */
void cache_key_unsigned(cache_blob *key, const char *name, uint64_t value);

/* Hashes the bytes of the file at path into hex; LN_ERR_NOT_FOUND or LN_ERR_IO when it cannot be read. */
ln_status cache_hash_file(const char *path, char hex[LN_HASH_HEX_SIZE], ln_error *err);

#endif
