/*
 * Bounded text buffers for responses, metrics pages and log lines.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve_internal.h"

void serve_buf_init(serve_buf *buf, size_t max)
{
    memset(buf, 0, sizeof *buf);
    buf->max = max;
}

void serve_buf_free(serve_buf *buf)
{
    free(buf->data);
    memset(buf, 0, sizeof *buf);
}

/* Makes room for extra more bytes plus a NUL; sets failed when that would pass max. */
static int reserve(serve_buf *buf, size_t extra)
{
    if (buf->failed)
        return 0;
    if (extra > buf->max || buf->length + extra > buf->max) {
        buf->failed = 1;
        return 0;
    }
    size_t need = buf->length + extra + 1;
    if (need <= buf->capacity)
        return 1;

    size_t capacity = buf->capacity ? buf->capacity : 256;
    while (capacity < need)
        capacity *= 2;
    char *data = realloc(buf->data, capacity);
    if (data == NULL) {
        buf->failed = 1;
        return 0;
    }
    buf->data = data;
    buf->capacity = capacity;
    return 1;
}

void serve_buf_append(serve_buf *buf, const char *text, size_t length)
{
    if (!reserve(buf, length))
        return;
    memcpy(buf->data + buf->length, text, length);
    buf->length += length;
    buf->data[buf->length] = '\0';
}

void serve_buf_puts(serve_buf *buf, const char *text)
{
    serve_buf_append(buf, text, strlen(text));
}

void serve_buf_printf(serve_buf *buf, const char *format, ...)
{
    char small[256];
    va_list args;

    va_start(args, format);
    int n = vsnprintf(small, sizeof small, format, args);
    va_end(args);
    if (n < 0) {
        buf->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        serve_buf_append(buf, small, (size_t)n);
        return;
    }

    if (!reserve(buf, (size_t)n))
        return;
    va_start(args, format);
    vsnprintf(buf->data + buf->length, (size_t)n + 1, format, args);
    va_end(args);
    buf->length += (size_t)n;
}

void serve_buf_json_string(serve_buf *buf, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = text;

    serve_buf_append(buf, "\"", 1);
    for (const char *c = text; *c; c++) {
        unsigned char byte = (unsigned char)*c;
        if (byte >= 0x20 && byte != '"' && byte != '\\')
            continue;
        serve_buf_append(buf, run, (size_t)(c - run));
        run = c + 1;
        switch (byte) {
        case '"': serve_buf_append(buf, "\\\"", 2); break;
        case '\\': serve_buf_append(buf, "\\\\", 2); break;
        case '\n': serve_buf_append(buf, "\\n", 2); break;
        case '\r': serve_buf_append(buf, "\\r", 2); break;
        case '\t': serve_buf_append(buf, "\\t", 2); break;
        default: {
            char escape[6] = {'\\', 'u', '0', '0', hex[byte >> 4], hex[byte & 15]};
            serve_buf_append(buf, escape, sizeof escape);
        }
        }
    }
    serve_buf_puts(buf, run);
    serve_buf_append(buf, "\"", 1);
}

/* Writes an integer below 2^53 in magnitude without printf, which is the slow part of a log line. */
static void format_integer(double value, char *text)
{
    char digits[24];
    int n = 0;
    uint64_t magnitude = (uint64_t)fabs(value);

    do {
        digits[n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude > 0);
    if (signbit(value))
        *text++ = '-';
    while (n > 0)
        *text++ = digits[--n];
    *text = '\0';
}

void serve_format_double(double value, char *text, size_t capacity)
{
    /* Integers below 2^53 print without an exponent or fraction; other values try 15, 16, 17 digits. */
    if (value == floor(value) && fabs(value) < 9007199254740992.0) {
        format_integer(value, text);
        return;
    }
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(text, capacity, "%.*g", precision, value);
        if (strtod(text, NULL) == value)
            return;
    }
}

void serve_buf_json_number(serve_buf *buf, double value)
{
    char text[40];

    if (!isfinite(value)) {
        serve_buf_puts(buf, "null");
        return;
    }
    serve_format_double(value, text, sizeof text);
    serve_buf_puts(buf, text);
}

void serve_buf_json_value(serve_buf *buf, const json_t *value)
{
    const char *key;
    json_t *item;
    size_t index;
    int first = 1;

    switch (json_typeof(value)) {
    case JSON_OBJECT:
        serve_buf_puts(buf, "{");
        json_object_foreach((json_t *)value, key, item) {
            serve_buf_puts(buf, first ? "" : ",");
            first = 0;
            serve_buf_json_string(buf, key);
            serve_buf_puts(buf, ":");
            serve_buf_json_value(buf, item);
        }
        serve_buf_puts(buf, "}");
        break;
    case JSON_ARRAY:
        serve_buf_puts(buf, "[");
        json_array_foreach((json_t *)value, index, item) {
            serve_buf_puts(buf, index ? "," : "");
            serve_buf_json_value(buf, item);
        }
        serve_buf_puts(buf, "]");
        break;
    case JSON_STRING: serve_buf_json_string(buf, json_string_value(value)); break;
    case JSON_INTEGER:
    case JSON_REAL: serve_buf_json_number(buf, json_number_value(value)); break;
    case JSON_TRUE: serve_buf_puts(buf, "true"); break;
    case JSON_FALSE: serve_buf_puts(buf, "false"); break;
    case JSON_NULL: serve_buf_puts(buf, "null"); break;
    }
}

char *serve_buf_take(serve_buf *buf)
{
    if (buf->failed || !reserve(buf, 0)) {
        serve_buf_free(buf);
        return NULL;
    }
    char *text = buf->data;
    text[buf->length] = '\0';
    buf->data = NULL;
    buf->length = buf->capacity = 0;
    return text;
}
