/*
 * Whole-file reads and crash-safe writes.
 */
#ifndef LANNER_IO_H
#define LANNER_IO_H

#include <stddef.h>

#include "lanner/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Reads the whole file at path into a new NUL-terminated buffer the caller
 * frees. A file larger than max_bytes is LN_ERR_LIMIT; a missing file is
 * LN_ERR_NOT_FOUND.
 */
ln_status ln_read_file(const char *path, size_t max_bytes, char **data, size_t *size, ln_error *err);

/*
 * Writes size bytes to path through a temporary file in the same folder,
 * flushed to disk and renamed over path, so readers see the old file or the
 * new one, never a part.
 */
ln_status ln_write_file_atomic(const char *path, const void *data, size_t size, ln_error *err);

/* Creates dir and its missing parents (like mkdir -p). */
ln_status ln_make_dirs(const char *dir, ln_error *err);

/*
 * Joins base_dir and path into out (capacity bytes) unless path is absolute.
 * Returns LN_ERR_LIMIT when the result does not fit.
 */
ln_status ln_path_join(const char *base_dir, const char *path, char *out, size_t capacity, ln_error *err);

#ifdef __cplusplus
}
#endif

#endif
