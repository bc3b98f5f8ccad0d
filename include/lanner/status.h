/*
 * Status codes and the error object that every lanner function fills.
 *
 *     ln_error err = {0};
 *     ln_table *table = NULL;
 *     if (ln_csv_read("orders.csv", NULL, &table, &err) != LN_OK) {
 *         fprintf(stderr, "lanner: %s\n", err.message);
 *         return ln_status_exit_code(err.status);
 *     }
 *
 * A function returns LN_OK (zero) or a status, and on failure writes a message
 * into the caller's ln_error naming the file, line, column, key or field, what
 * was expected and what was found. Reporting an error never allocates.
 */
#ifndef LANNER_STATUS_H
#define LANNER_STATUS_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Codes are only ever appended, so a stored code keeps its meaning. */
typedef enum ln_status {
    LN_OK = 0,
    LN_ERR_IO,           /* a file or stream could not be read or written */
    LN_ERR_NOT_FOUND,    /* a named file, column, model or key does not exist */
    LN_ERR_PARSE,        /* malformed input: CSV, YAML, JSON, expression */
    LN_ERR_CONFIG,       /* invalid configuration or command-line usage */
    LN_ERR_DATA,         /* data that cannot be used: single-class target, too few rows */
    LN_ERR_NOMEM,        /* an allocation failed */
    LN_ERR_CORRUPT,      /* a model or cache file failed its checks */
    LN_ERR_SQL,          /* a database engine reported an error */
    LN_ERR_LIMIT,        /* input exceeds a documented limit (see limits.h) */
    LN_ERR_INTERNAL,     /* a bug in lanner: please report it */
    LN_ERR_CHECK_FAILED, /* a validation rule, gate or alert fired */
} ln_status;

#define LN_ERROR_MESSAGE_MAX 1024

typedef struct ln_error {
    ln_status status;
    char message[LN_ERROR_MESSAGE_MAX];
} ln_error;

/*
 * Fills err (which may be NULL) with status and a printf-style message and
 * returns status, so callers can write `return ln_error_set(err, ...);`.
 * A message longer than LN_ERROR_MESSAGE_MAX - 1 bytes is truncated.
 */
ln_status ln_error_set(ln_error *err, ln_status status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

ln_status ln_error_setv(ln_error *err, ln_status status, const char *format, va_list args);

/*
 * Puts "context: " in front of the message already in err, so a low-level
 * message ("line 4: expected 3 fields") gains the outer place ("orders.csv").
 * Returns err->status.
 */
ln_status ln_error_prefix(ln_error *err, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns a short, static name for status, such as "parse error". */
const char *ln_status_name(ln_status status);

/*
 * Maps a status to the CLI's exit code: 0 ok, 1 failure, 2 bad usage or
 * configuration (including a missing input file, unusable data or input over
 * a limit), 3 a check or alert fired.
 */
int ln_status_exit_code(ln_status status);

#ifdef __cplusplus
}
#endif

#endif
