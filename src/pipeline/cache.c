/*
 * Step keys and cache entries of `lanner run` (see cache.h for the format).
 */
#include "pipeline/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "lanner/io.h"
#include "lanner/limits.h"
#include "lanner/log.h"

static const char cache_magic[8] = {'L', 'N', 'C', 'A', 'C', 'H', 'E', '1'};

#define HEADER_BYTES 24

void cache_blob_init(cache_blob *blob, size_t limit)
{
    memset(blob, 0, sizeof *blob);
    blob->limit = limit;
}

void cache_blob_free(cache_blob *blob)
{
    free(blob->data);
    memset(blob, 0, sizeof *blob);
}

void cache_put_bytes(cache_blob *blob, const void *data, size_t size)
{
    if (blob->failed)
        return;
    if (size > blob->limit - blob->size) {
        blob->failed = 1;
        return;
    }
    if (blob->size + size > blob->capacity) {
        size_t capacity = blob->capacity ? blob->capacity : 4096;
        while (capacity < blob->size + size)
            capacity = capacity > blob->limit / 2 ? blob->limit : capacity * 2;
        unsigned char *grown = realloc(blob->data, capacity);
        if (grown == NULL) {
            blob->failed = 1;
            return;
        }
        blob->data = grown;
        blob->capacity = capacity;
    }
    if (size > 0)
        memcpy(blob->data + blob->size, data, size);
    blob->size += size;
}

void cache_put_u64(cache_blob *blob, uint64_t value)
{
    cache_put_bytes(blob, &value, sizeof value);
}

void cache_put_string(cache_blob *blob, const char *text)
{
    size_t length = strlen(text);

    cache_put_u64(blob, length);
    cache_put_bytes(blob, text, length);
}

void cache_key_init(cache_blob *key, const char *step)
{
    cache_blob_init(key, CACHE_MAX_KEY_TEXT);
    cache_key_text(key, "step", step);
    cache_key_text(key, "lanner", LANNER_VERSION);
}

/* Each value is length-prefixed, so no value can imitate the next name. */
void cache_key_text(cache_blob *key, const char *name, const char *value)
{
    char prefix[64];
    int length;

    if (value == NULL)
        length = snprintf(prefix, sizeof prefix, "%s=(absent)\n", name);
    else
        length = snprintf(prefix, sizeof prefix, "%s=%zu:", name, strlen(value));
    cache_put_bytes(key, prefix, (size_t)length < sizeof prefix ? (size_t)length : sizeof prefix - 1);
    if (value != NULL) {
        cache_put_bytes(key, value, strlen(value));
        cache_put_bytes(key, "\n", 1);
    }
}

void cache_key_number(cache_blob *key, const char *name, double value)
{
    char text[64];

    snprintf(text, sizeof text, "%.17g", value);
    cache_key_text(key, name, text);
}

ln_status cache_key_finish(cache_blob *key, char hex[LN_HASH_HEX_SIZE], ln_error *err)
{
    int failed = key->failed;

    if (!failed)
        ln_hash_bytes(key->data, key->size, hex);
    cache_blob_free(key);
    if (failed)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory building a cache key");
    return LN_OK;
}

void cache_put_table(cache_blob *blob, const ln_table *table)
{
    cache_put_u64(blob, table->n_rows);
    cache_put_u64(blob, table->n_cols);
    for (size_t c = 0; c < table->n_cols; c++) {
        const ln_column *column = &table->cols[c];
        cache_put_string(blob, column->name);
        cache_put_u64(blob, (uint64_t)column->type);
        if (ln_type_is_numeric(column->type)) {
            cache_put_bytes(blob, column->values, table->n_rows * sizeof *column->values);
            continue;
        }
        int32_t count = ln_dict_count(column->dict);
        cache_put_u64(blob, (uint64_t)count);
        for (int32_t code = 0; code < count; code++)
            cache_put_string(blob, ln_dict_string(column->dict, code));
        cache_put_bytes(blob, column->codes, table->n_rows * sizeof *column->codes);
    }
}

uint64_t cache_get_u64(cache_reader *reader)
{
    uint64_t value = 0;
    const void *bytes = cache_get_bytes(reader, sizeof value);

    if (bytes != NULL)
        memcpy(&value, bytes, sizeof value);
    return value;
}

const void *cache_get_bytes(cache_reader *reader, size_t size)
{
    if (reader->failed || size > reader->size - reader->at) {
        reader->failed = 1;
        return NULL;
    }
    const void *bytes = reader->data + reader->at;
    reader->at += size;
    return bytes;
}

char *cache_get_string(cache_reader *reader)
{
    uint64_t length = cache_get_u64(reader);
    const char *bytes = length < LN_MAX_FIELD_BYTES ? cache_get_bytes(reader, (size_t)length) : NULL;

    if (bytes == NULL || memchr(bytes, '\0', (size_t)length) != NULL) {
        reader->failed = 1;
        return NULL;
    }
    char *copy = malloc((size_t)length + 1);
    if (copy == NULL) {
        reader->failed = 1;
        return NULL;
    }
    memcpy(copy, bytes, (size_t)length);
    copy[length] = '\0';
    return copy;
}

/* Reads the dictionary and codes of a string column; returns 0 when the payload is malformed. */
static int read_codes(cache_reader *reader, ln_column *column, size_t n_rows)
{
    uint64_t count = cache_get_u64(reader);
    if (reader->failed || count > LN_MAX_DICT_SIZE)
        return 0;

    for (uint64_t code = 0; code < count; code++) {
        char *text = cache_get_string(reader);
        /* A fresh dictionary gives the next code to each new string, so codes come back unchanged. */
        int32_t got = text != NULL ? ln_dict_intern(column->dict, text, strlen(text)) : -1;
        free(text);
        if (got != (int32_t)code)
            return 0;
    }

    const void *codes = n_rows <= SIZE_MAX / sizeof *column->codes
                            ? cache_get_bytes(reader, n_rows * sizeof *column->codes) : NULL;
    if (codes == NULL)
        return 0;
    memcpy(column->codes, codes, n_rows * sizeof *column->codes);
    for (size_t row = 0; row < n_rows; row++) {
        if (column->codes[row] < -1 || column->codes[row] >= (int32_t)count)
            return 0;
    }
    return 1;
}

static int read_column(cache_reader *reader, ln_table *table, ln_error *err)
{
    char *name = cache_get_string(reader);
    uint64_t type = cache_get_u64(reader);
    if (name == NULL || reader->failed || type > LN_TYPE_TEXT) {
        free(name);
        return 0;
    }

    ln_column *column = ln_table_add_column(table, name, (ln_type)type, err);
    free(name);
    if (column == NULL)
        return 0;
    if (!ln_type_is_numeric(column->type))
        return read_codes(reader, column, table->n_rows);

    size_t n = table->n_rows;
    const void *values = n <= SIZE_MAX / sizeof *column->values ? cache_get_bytes(reader, n * sizeof *column->values)
                                                                : NULL;
    if (values == NULL)
        return 0;
    memcpy(column->values, values, n * sizeof *column->values);
    return 1;
}

ln_status cache_get_table(cache_reader *reader, ln_table **out, ln_error *err)
{
    uint64_t n_rows = cache_get_u64(reader);
    uint64_t n_cols = cache_get_u64(reader);

    *out = NULL;
    /* Each row takes at least 4 bytes per column, so a row count beyond the payload is damage. */
    if (reader->failed || n_cols > LN_MAX_COLUMNS || n_rows > reader->size)
        return ln_error_set(err, LN_ERR_CORRUPT, "cached table header is damaged");

    ln_table *table = ln_table_new((size_t)n_rows);
    if (table == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading a cached table of %llu rows",
                            (unsigned long long)n_rows);
    for (uint64_t c = 0; c < n_cols; c++) {
        ln_error local = {0};
        if (!read_column(reader, table, &local)) {
            ln_table_free(table);
            return ln_error_set(err, LN_ERR_CORRUPT, "cached table column %llu is damaged%s%s",
                                (unsigned long long)c + 1, local.message[0] ? ": " : "", local.message);
        }
    }
    *out = table;
    return LN_OK;
}

void cache_open(run_cache *cache, const char *dir, int enabled)
{

    memset(cache, 0, sizeof *cache);
    if (!enabled)
        return;
    if (snprintf(cache->dir, sizeof cache->dir, "%s", dir) >= (int)sizeof cache->dir) {
        ln_log(LN_LOG_WARN, "cache folder path is too long; running without the cache: %s", dir);
        return;
    }
    /* The folder is created by the first write, so a run that fails early leaves nothing behind. */
    cache->enabled = 1;
}

ln_status cache_entry_path(const run_cache *cache, const char *step, const char *key, const char *extension,
                           char *out, size_t capacity, ln_error *err)
{
    int length = snprintf(out, capacity, "%s/%s-%s%s", cache->dir, step, key, extension);

    if (length < 0 || (size_t)length >= capacity)
        return ln_error_set(err, LN_ERR_LIMIT, "cache path is too long under %s", cache->dir);
    return LN_OK;
}

ln_status cache_read(const run_cache *cache, const char *step, const char *key, unsigned char **payload,
                     size_t *size, ln_error *err)
{
    char path[PATH_MAX];
    char *data = NULL;
    size_t data_size = 0;

    *payload = NULL;
    *size = 0;
    ln_status status = cache_entry_path(cache, step, key, ".lce", path, sizeof path, err);
    /* A FIFO or device at the entry's path would block or never end, so only a regular file is read. */
    if (status == LN_OK && access(path, F_OK) == 0 && !cache_entry_is_file(path))
        return ln_error_set(err, LN_ERR_CORRUPT, "cache entry %s is not a regular file", path);
    if (status == LN_OK)
        status = ln_read_file(path, CACHE_MAX_ENTRY_BYTES, &data, &data_size, err);
    if (status == LN_ERR_NOT_FOUND)
        return LN_ERR_NOT_FOUND;
    if (status != LN_OK) {
        err->status = LN_ERR_CORRUPT;
        return LN_ERR_CORRUPT;
    }

    uint64_t stored_size = 0, stored_hash = 0;
    if (data_size >= HEADER_BYTES) {
        memcpy(&stored_size, data + 8, 8);
        memcpy(&stored_hash, data + 16, 8);
    }
    if (data_size < HEADER_BYTES || memcmp(data, cache_magic, 8) != 0 || stored_size != data_size - HEADER_BYTES ||
        stored_hash != XXH3_64bits(data + HEADER_BYTES, data_size - HEADER_BYTES)) {
        free(data);
        return ln_error_set(err, LN_ERR_CORRUPT, "cache entry %s is damaged (size or checksum does not match)", path);
    }
    cache_touch(path);

    memmove(data, data + HEADER_BYTES, data_size - HEADER_BYTES);
    *payload = (unsigned char *)data;
    *size = data_size - HEADER_BYTES;
    return LN_OK;
}

void cache_write(const run_cache *cache, const char *step, const char *key, const cache_blob *blob)
{
    char path[PATH_MAX];
    ln_error err = {0};

    if (!cache->enabled)
        return;
    if (blob->failed) {
        ln_log(LN_LOG_WARN, "the %s step's result is not cached: out of memory or over %zu bytes", step,
               (size_t)CACHE_MAX_ENTRY_BYTES);
        return;
    }

    unsigned char *file = malloc(HEADER_BYTES + blob->size);
    if (file == NULL) {
        ln_log(LN_LOG_WARN, "the %s step's result is not cached: out of memory", step);
        return;
    }
    uint64_t size = blob->size;
    uint64_t hash = XXH3_64bits(blob->data, blob->size);
    memcpy(file, cache_magic, 8);
    memcpy(file + 8, &size, 8);
    memcpy(file + 16, &hash, 8);
    if (blob->size > 0)
        memcpy(file + HEADER_BYTES, blob->data, blob->size);

    ln_status status = ln_make_dirs(cache->dir, &err);
    if (status == LN_OK)
        status = cache_entry_path(cache, step, key, ".lce", path, sizeof path, &err);
    if (status == LN_OK)
        status = cache_clear_entry_path(path, &err);
    if (status == LN_OK)
        status = ln_write_file_atomic(path, file, HEADER_BYTES + blob->size, &err);
    if (status != LN_OK)
        ln_log(LN_LOG_WARN, "the %s step's result is not cached: %s", step, err.message);
    free(file);
}

ln_status cache_hash_file(const char *path, char hex[LN_HASH_HEX_SIZE], ln_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ln_error_set(err, errno == ENOENT ? LN_ERR_NOT_FOUND : LN_ERR_IO, "%s: cannot open: %s", path,
                            strerror(errno));

    XXH3_state_t *state = XXH3_createState();
    unsigned char *buffer = malloc(1 << 20);
    ln_status status = LN_OK;
    if (state == NULL || buffer == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "out of memory hashing %s", path);
    } else {
        XXH3_128bits_reset(state);
        for (;;) {
            ssize_t got = read(fd, buffer, 1 << 20);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                status = ln_error_set(err, LN_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
                break;
            }
            if (got == 0)
                break;
            XXH3_128bits_update(state, buffer, (size_t)got);
        }
    }
    if (status == LN_OK) {
        XXH128_hash_t hash = XXH3_128bits_digest(state);
        snprintf(hex, LN_HASH_HEX_SIZE, "%016llx%016llx", (unsigned long long)hash.high64,
                 (unsigned long long)hash.low64);
    }
    free(buffer);
    XXH3_freeState(state);
    close(fd);
    return status;
}

void cache_touch(const char *path)
{
    /* A failure only makes the entry an earlier candidate for removal. */
    (void)utimensat(AT_FDCWD, path, NULL, 0);
}

typedef struct cache_file {
    char name[NAME_MAX + 1];
    uint64_t bytes;
    struct timespec used; /* modification time */
} cache_file;

/*
 * Classifies a file name of the cache folder. It returns 1 for an entry,
 * named <step>-<32 hex digits>.lce or .lnr, and 2 for a temporary file of
 * one, named like the entry then .tmp. and six characters. Any other name
 * gives 0.
 */
static int entry_name_kind(const char *name)
{
    size_t i = 0;
    while (name[i] >= 'a' && name[i] <= 'z')
        i++;
    if (i == 0 || name[i++] != '-')
        return 0;
    for (size_t digit = 0; digit < LN_HASH_HEX_SIZE - 1; digit++, i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return 0;
    if (strncmp(name + i, ".lce", 4) != 0 && strncmp(name + i, ".lnr", 4) != 0)
        return 0;
    i += 4;
    if (name[i] == '\0')
        return 1;
    return strncmp(name + i, ".tmp.", 5) == 0 && strlen(name + i + 5) == 6 ? 2 : 0;
}

static int compare_least_recent(const void *a, const void *b)
{
    const cache_file *x = a;
    const cache_file *y = b;
    if (x->used.tv_sec != y->used.tv_sec)
        return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    if (x->used.tv_nsec != y->used.tv_nsec)
        return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Lists the entry files of dir, and removes temporary files an hour old or older on the way. */
static ln_status list_entries(const char *dir, DIR *folder, cache_file **out, size_t *count, ln_error *err)
{
    cache_file *files = NULL;
    size_t n = 0, capacity = 0;
    time_t hour_ago = time(NULL) - 3600;
    struct dirent *entry;

    while ((entry = readdir(folder)) != NULL) {
        struct stat info;
        int kind = entry_name_kind(entry->d_name);
        int is_temporary = kind == 2;
        if (kind == 0 || fstatat(dirfd(folder), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(info.st_mode))
            continue;
        if (is_temporary) {
            if (info.st_mtime < hour_ago)
                (void)unlinkat(dirfd(folder), entry->d_name, 0);
            continue;
        }

        if (n == capacity) {
            capacity = capacity ? capacity * 2 : 64;
            cache_file *grown = realloc(files, capacity * sizeof *files);
            if (grown == NULL) {
                free(files);
                return ln_error_set(err, LN_ERR_NOMEM, "out of memory listing the step cache %s", dir);
            }
            files = grown;
        }
        snprintf(files[n].name, sizeof files[n].name, "%s", entry->d_name);
        files[n].bytes = (uint64_t)info.st_size;
        files[n].used = info.st_mtim;
        n++;
    }
    *out = files;
    *count = n;
    return LN_OK;
}

/* Returns 1 when a is earlier than b. */
static int earlier(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec != b->tv_sec ? a->tv_sec < b->tv_sec : a->tv_nsec < b->tv_nsec;
}

ln_status cache_prune(const char *dir, uint64_t limit, const struct timespec *keep_since,
                      cache_prune_result *result, ln_error *err)
{
    memset(result, 0, sizeof *result);
    DIR *folder = opendir(dir);
    if (folder == NULL) {
        if (errno == ENOENT)
            return LN_OK;
        return ln_error_set(err, LN_ERR_IO, "cannot open the step cache %s: %s", dir, strerror(errno));
    }

    cache_file *files = NULL;
    size_t n = 0;
    ln_status status = list_entries(dir, folder, &files, &n, err);
    if (status != LN_OK) {
        closedir(folder);
        return status;
    }
    qsort(files, n, sizeof *files, compare_least_recent);

    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += files[i].bytes;
    for (size_t i = 0; i < n; i++) {
        int removable = total > limit && earlier(&files[i].used, keep_since);
        if (removable && unlinkat(dirfd(folder), files[i].name, 0) == 0) {
            total -= files[i].bytes;
            result->removed++;
            result->removed_bytes += files[i].bytes;
        } else {
            result->kept++;
            result->kept_bytes += files[i].bytes;
        }
    }

    free(files);
    closedir(folder);
    return LN_OK;
}

ln_status cache_clear_entry_path(const char *path, ln_error *err)
{
    if (access(path, F_OK) != 0 || cache_entry_is_file(path))
        return LN_OK;
    if (unlink(path) != 0)
        return ln_error_set(err, LN_ERR_IO, "%s is not a regular file and cannot be removed: %s", path,
                            strerror(errno));
    return LN_OK;
}

int cache_entry_is_file(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0 && S_ISREG(info.st_mode);
}

void cache_key_unsigned(cache_blob *key, const char *name, uint64_t value)
{
    char text[32];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    cache_key_text(key, name, text);
}
