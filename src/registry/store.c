/*
 * The content-addressed model store: each model file is kept once, as
 * models/<XXH3-128 hex>.lnr, written through a temporary file that is synced
 * and then renamed, so a crash never leaves a partial file under a final name.
 */
#include "registry/registry_internal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "lanner/limits.h"

#define COPY_BUFFER_BYTES (256u << 10)

static void hash_to_hex(XXH128_hash_t hash, char hash_hex[33])
{
    XXH128_canonical_t canonical;

    XXH128_canonicalFromHash(&canonical, hash);
    for (int i = 0; i < 16; i++)
        snprintf(hash_hex + 2 * i, 3, "%02x", canonical.digest[i]);
}

/* Opens path for reading, checking that it is a regular file within LN_MAX_MODEL_BYTES. */
static ln_status open_model(const char *path, int *fd_out, ln_error *err)
{
    struct stat info;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return ln_error_set(err, errno == ENOENT ? LN_ERR_NOT_FOUND : LN_ERR_IO,
                            "model file %s: cannot open: %s", path, strerror(errno));

    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        close(fd);
        return ln_error_set(err, LN_ERR_IO, "model file %s: not a regular file", path);
    }
    if ((unsigned long long)info.st_size > LN_MAX_MODEL_BYTES) {
        close(fd);
        return ln_error_set(err, LN_ERR_LIMIT,
                            "model file %s: %lld bytes is over the limit of %llu bytes "
                            "(LN_MAX_MODEL_BYTES)",
                            path, (long long)info.st_size, LN_MAX_MODEL_BYTES);
    }

    *fd_out = fd;
    return LN_OK;
}

/* Reads up to capacity bytes, retrying on EINTR; returns the count or -1. */
static ssize_t read_some(int fd, unsigned char *buffer, size_t capacity)
{
    ssize_t n;

    do {
        n = read(fd, buffer, capacity);
    } while (n < 0 && errno == EINTR);
    return n;
}

static int write_all(int fd, const unsigned char *buffer, size_t length)
{
    while (length > 0) {
        ssize_t n = write(fd, buffer, length);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buffer += n;
        length -= (size_t)n;
    }
    return 0;
}

/*
 * Reads the file open on in_fd to its end, hashing it, and writes each block
 * to out_fd too unless out_fd is -1.
 */
static ln_status stream_file(int in_fd, int out_fd, const char *in_path, const char *out_path,
                             char hash_hex[33], ln_error *err)
{
    unsigned char *buffer = malloc(COPY_BUFFER_BYTES);
    XXH3_state_t *state = XXH3_createState();
    ln_status status = LN_OK;

    if (buffer == NULL || state == NULL) {
        free(buffer);
        XXH3_freeState(state);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory hashing %s", in_path);
    }
    XXH3_128bits_reset(state);

    for (;;) {
        ssize_t n = read_some(in_fd, buffer, COPY_BUFFER_BYTES);
        if (n == 0)
            break;
        if (n < 0) {
            status = ln_error_set(err, LN_ERR_IO, "model file %s: read failed: %s", in_path,
                                  strerror(errno));
            break;
        }
        XXH3_128bits_update(state, buffer, (size_t)n);
        if (out_fd >= 0 && write_all(out_fd, buffer, (size_t)n) != 0) {
            status = ln_error_set(err, LN_ERR_IO, "model store %s: write failed: %s", out_path,
                                  strerror(errno));
            break;
        }
    }

    if (status == LN_OK)
        hash_to_hex(XXH3_128bits_digest(state), hash_hex);
    XXH3_freeState(state);
    free(buffer);
    return status;
}

ln_status registry_hash_file(const char *path, char hash_hex[33], ln_error *err)
{
    int fd = -1;
    ln_status status = open_model(path, &fd, err);

    if (status != LN_OK)
        return status;

    status = stream_file(fd, -1, path, NULL, hash_hex, err);
    close(fd);
    return status;
}

static ln_status sync_directory(const char *dir, ln_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return ln_error_set(err, LN_ERR_IO, "model store %s: cannot open folder: %s", dir,
                            strerror(errno));
    rc = fsync(fd);
    close(fd);
    if (rc != 0)
        return ln_error_set(err, LN_ERR_IO, "model store %s: fsync failed: %s", dir, strerror(errno));
    return LN_OK;
}

/* Returns 1 when path exists and its content hashes to hash_hex. */
static int stored_copy_matches(const char *path, const char hash_hex[33])
{
    char stored_hex[33];

    if (access(path, F_OK) != 0)
        return 0;
    if (registry_hash_file(path, stored_hex, NULL) != LN_OK)
        return 0;
    return strcmp(stored_hex, hash_hex) == 0;
}

/*
 * Copies source to a temporary file in the store, checks that the copy hashes
 * to hash_hex (the source may have changed since it was hashed), syncs it and
 * renames it to destination.
 */
static ln_status copy_into_store(ln_registry *registry, const char *source, const char *destination,
                                 const char hash_hex[33], ln_error *err)
{
    char temp_path[PATH_MAX];
    char copied_hex[33];
    int in_fd = -1;
    int out_fd = -1;
    ln_status status;

    if (snprintf(temp_path, sizeof temp_path, "%s/.%s.lnr.tmp-XXXXXX", registry->models_dir,
                 hash_hex) >= (int)sizeof temp_path)
        return ln_error_set(err, LN_ERR_CONFIG, "model store path is too long: %s",
                            registry->models_dir);

    status = open_model(source, &in_fd, err);
    if (status != LN_OK)
        return status;

    out_fd = mkstemp(temp_path);
    if (out_fd < 0) {
        close(in_fd);
        return ln_error_set(err, LN_ERR_IO, "model store %s: cannot create a temporary file: %s",
                            registry->models_dir, strerror(errno));
    }

    status = stream_file(in_fd, out_fd, source, temp_path, copied_hex, err);
    if (status == LN_OK && strcmp(copied_hex, hash_hex) != 0)
        status = ln_error_set(err, LN_ERR_IO,
                              "model file %s changed while it was being copied; register it again "
                              "once it is complete",
                              source);
    if (status == LN_OK && (fchmod(out_fd, 0644) != 0 || fsync(out_fd) != 0))
        status = ln_error_set(err, LN_ERR_IO, "model store %s: fsync failed: %s", temp_path,
                              strerror(errno));

    close(in_fd);
    if (close(out_fd) != 0 && status == LN_OK)
        status = ln_error_set(err, LN_ERR_IO, "model store %s: close failed: %s", temp_path,
                              strerror(errno));

    if (status == LN_OK && rename(temp_path, destination) != 0)
        status = ln_error_set(err, LN_ERR_IO, "model store: cannot rename %s to %s: %s", temp_path,
                              destination, strerror(errno));
    if (status != LN_OK) {
        unlink(temp_path);
        return status;
    }

    return sync_directory(registry->models_dir, err);
}

ln_status registry_store_model(ln_registry *registry, const char *source, char hash_hex[33],
                               ln_error *err)
{
    char destination[PATH_MAX];
    ln_status status = registry_hash_file(source, hash_hex, err);

    if (status != LN_OK)
        return status;

    if (mkdir(registry->models_dir, 0755) != 0 && errno != EEXIST)
        return ln_error_set(err, LN_ERR_IO, "model store %s: cannot create the folder: %s",
                            registry->models_dir, strerror(errno));

    if (snprintf(destination, sizeof destination, "%s/%s.lnr", registry->models_dir, hash_hex) >=
        (int)sizeof destination)
        return ln_error_set(err, LN_ERR_CONFIG, "model store path is too long: %s",
                            registry->models_dir);

    /* A file with this name and content is already stored; a file with this
     * name but other content was damaged, and is replaced. */
    if (stored_copy_matches(destination, hash_hex))
        return LN_OK;

    return copy_into_store(registry, source, destination, hash_hex, err);
}

ln_status ln_registry_verify_model(const ln_version_info *info, ln_error *err)
{
    char hash_hex[33];
    ln_status status;

    assert(info != NULL);

    status = registry_hash_file(info->model_path, hash_hex, err);
    if (status == LN_ERR_NOT_FOUND)
        return ln_error_set(err, LN_ERR_CORRUPT,
                            "stored model file %s of model '%s' version %d is missing; the "
                            "registry's models folder was changed outside lanner",
                            info->model_path, info->name, info->version);
    if (status != LN_OK)
        return status;

    if (strcmp(hash_hex, info->model_sha) != 0)
        return ln_error_set(err, LN_ERR_CORRUPT,
                            "stored model file %s of model '%s' version %d is damaged: its XXH3-128 "
                            "hash is %s, registered as %s",
                            info->model_path, info->name, info->version, hash_hex, info->model_sha);
    return LN_OK;
}
