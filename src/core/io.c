#include "lanner/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ln_status ln_read_file(const char *path, size_t max_bytes, char **data, size_t *size, ln_error *err)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        ln_status status = errno == ENOENT ? LN_ERR_NOT_FOUND : LN_ERR_IO;
        return ln_error_set(err, status, "%s: cannot open: %s", path, strerror(errno));
    }

    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        close(fd);
        return ln_error_set(err, LN_ERR_IO, "%s: not a regular file", path);
    }
    if ((unsigned long long)info.st_size > max_bytes) {
        close(fd);
        return ln_error_set(err, LN_ERR_LIMIT, "%s: file is %lld bytes, more than the limit of %zu",
                            path, (long long)info.st_size, max_bytes);
    }

    size_t length = (size_t)info.st_size;
    char *buffer = malloc(length + 1);
    if (buffer == NULL) {
        close(fd);
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, length);
    }

    size_t done = 0;
    while (done < length) {
        ssize_t got = read(fd, buffer + done, length - done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            free(buffer);
            close(fd);
            return ln_error_set(err, LN_ERR_IO, "%s: read failed: %s", path,
                                got < 0 ? strerror(errno) : "file shrank while reading");
        }
        done += (size_t)got;
    }
    close(fd);

    buffer[length] = '\0';
    *data = buffer;
    *size = length;
    return LN_OK;
}

static ln_status write_all(int fd, const char *path, const void *data, size_t size, ln_error *err)
{
    const char *bytes = data;
    size_t done = 0;

    while (done < size) {
        ssize_t written = write(fd, bytes + done, size - done);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return ln_error_set(err, LN_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        done += (size_t)written;
    }
    return LN_OK;
}

/*
 * Writes straight into a device or FIFO (/dev/null, /dev/stdout, a pipe):
 * renaming a temporary file over one would replace the device itself.
 */
static ln_status write_special_file(const char *path, const void *data, size_t size, ln_error *err)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return ln_error_set(err, LN_ERR_IO, "%s: cannot open for writing: %s", path, strerror(errno));

    ln_status status = write_all(fd, path, data, size, err);
    if (close(fd) != 0 && status == LN_OK)
        status = ln_error_set(err, LN_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    return status;
}

ln_status ln_write_file_atomic(const char *path, const void *data, size_t size, ln_error *err)
{
    char temp_path[PATH_MAX];
    struct stat info;

    if (stat(path, &info) == 0 && S_ISDIR(info.st_mode))
        return ln_error_set(err, LN_ERR_IO, "%s: is a folder, expected a file path", path);
    if (stat(path, &info) == 0 && !S_ISREG(info.st_mode))
        return write_special_file(path, data, size, err);
    if (snprintf(temp_path, sizeof temp_path, "%s.tmp.XXXXXX", path) >= (int)sizeof temp_path)
        return ln_error_set(err, LN_ERR_LIMIT, "%s: path too long", path);

    int fd = mkstemp(temp_path);
    if (fd < 0)
        return ln_error_set(err, LN_ERR_IO, "%s: cannot create a temporary file: %s", path,
                            strerror(errno));

    ln_status status = write_all(fd, path, data, size, err);
    if (status == LN_OK && fsync(fd) != 0)
        status = ln_error_set(err, LN_ERR_IO, "%s: flush to disk failed: %s", path, strerror(errno));
    fchmod(fd, 0644);
    if (close(fd) != 0 && status == LN_OK)
        status = ln_error_set(err, LN_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (status == LN_OK && rename(temp_path, path) != 0)
        status = ln_error_set(err, LN_ERR_IO, "%s: rename failed: %s", path, strerror(errno));

    if (status != LN_OK)
        unlink(temp_path);
    return status;
}

ln_status ln_make_dirs(const char *dir, ln_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return ln_error_set(err, LN_ERR_LIMIT, "%s: path too long", dir);

    for (char *slash = path + 1; ; slash++) {
        int at_end = *slash == '\0';
        if (*slash != '/' && !at_end)
            continue;
        *slash = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return ln_error_set(err, LN_ERR_IO, "%s: cannot create folder: %s", path, strerror(errno));
        if (at_end)
            break;
        *slash = '/';
    }
    return LN_OK;
}

ln_status ln_path_join(const char *base_dir, const char *path, char *out, size_t capacity, ln_error *err)
{
    int written;

    if (path[0] == '/' || base_dir == NULL || base_dir[0] == '\0')
        written = snprintf(out, capacity, "%s", path);
    else
        written = snprintf(out, capacity, "%s/%s", base_dir, path);
    if (written < 0 || (size_t)written >= capacity)
        return ln_error_set(err, LN_ERR_LIMIT, "path too long: %s/%s", base_dir, path);
    return LN_OK;
}
