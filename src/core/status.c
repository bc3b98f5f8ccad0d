#include "lanner/status.h"

#include <stdio.h>
#include <string.h>

ln_status ln_error_setv(ln_error *err, ln_status status, const char *format, va_list args)
{
    if (err == NULL)
        return status;

    err->status = status;
    vsnprintf(err->message, sizeof err->message, format, args);
    return status;
}

ln_status ln_error_set(ln_error *err, ln_status status, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    ln_error_setv(err, status, format, args);
    va_end(args);
    return status;
}

ln_status ln_error_prefix(ln_error *err, const char *format, ...)
{
    char prefix[LN_ERROR_MESSAGE_MAX];
    char joined[LN_ERROR_MESSAGE_MAX];
    va_list args;

    if (err == NULL)
        return LN_ERR_INTERNAL;

    va_start(args, format);
    vsnprintf(prefix, sizeof prefix, format, args);
    va_end(args);

    /* Truncation keeps the start of the prefixed message, which names the place. */
    int written = snprintf(joined, sizeof joined, "%s: ", prefix);
    if (written >= 0 && (size_t)written < sizeof joined) {
        size_t room = sizeof joined - (size_t)written - 1;
        size_t length = strnlen(err->message, room);
        memcpy(joined + written, err->message, length);
        joined[(size_t)written + length] = '\0';
    }
    memcpy(err->message, joined, sizeof joined);
    return err->status;
}

const char *ln_status_name(ln_status status)
{
    switch (status) {
    case LN_OK: return "ok";
    case LN_ERR_IO: return "input/output error";
    case LN_ERR_NOT_FOUND: return "not found";
    case LN_ERR_PARSE: return "parse error";
    case LN_ERR_CONFIG: return "invalid configuration";
    case LN_ERR_DATA: return "unusable data";
    case LN_ERR_NOMEM: return "out of memory";
    case LN_ERR_CORRUPT: return "corrupt file";
    case LN_ERR_SQL: return "database error";
    case LN_ERR_LIMIT: return "limit exceeded";
    case LN_ERR_INTERNAL: return "internal error";
    case LN_ERR_CHECK_FAILED: return "check failed";
    }
    return "unknown status";
}

int ln_status_exit_code(ln_status status)
{
    switch (status) {
    case LN_OK:
        return 0;
    case LN_ERR_NOT_FOUND:
    case LN_ERR_PARSE:
    case LN_ERR_CONFIG:
    case LN_ERR_DATA:
    case LN_ERR_LIMIT:
        return 2;
    case LN_ERR_CHECK_FAILED:
        return 3;
    default:
        return 1;
    }
}
