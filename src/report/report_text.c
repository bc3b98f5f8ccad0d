/*
 * The report's text layer: a bounded buffer, HTML escaping and number
 * formatting that never depends on the C library's locale.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"

#define EM_DASH "\xe2\x80\x94"

void report_buf_init(report_buf *buf, size_t max_bytes)
{
    memset(buf, 0, sizeof *buf);
    buf->max_bytes = max_bytes;
    buf->status = LN_OK;
}

void report_buf_free(report_buf *buf)
{
    free(buf->data);
    memset(buf, 0, sizeof *buf);
}

static int reserve(report_buf *buf, size_t extra)
{
    if (buf->status != LN_OK) {
        return 0;
    }
    if (extra > buf->max_bytes || buf->length > buf->max_bytes - extra) {
        buf->status = LN_ERR_LIMIT;
        return 0;
    }

    size_t needed = buf->length + extra + 1;
    if (needed <= buf->capacity) {
        return 1;
    }
    size_t capacity = buf->capacity ? buf->capacity : 4096;
    while (capacity < needed) {
        capacity *= 2;
    }
    char *data = realloc(buf->data, capacity);
    if (data == NULL) {
        buf->status = LN_ERR_NOMEM;
        return 0;
    }
    buf->data = data;
    buf->capacity = capacity;
    return 1;
}

void report_buf_append(report_buf *buf, const char *text, size_t length)
{
    if (!reserve(buf, length)) {
        return;
    }
    memcpy(buf->data + buf->length, text, length);
    buf->length += length;
    buf->data[buf->length] = '\0';
}

void report_buf_puts(report_buf *buf, const char *text)
{
    report_buf_append(buf, text, strlen(text));
}

void report_buf_printf(report_buf *buf, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    va_list copy;
    va_copy(copy, args);
    int length = vsnprintf(NULL, 0, format, copy);
    va_end(copy);

    if (length < 0) {
        buf->status = buf->status == LN_OK ? LN_ERR_INTERNAL : buf->status;
    } else if (reserve(buf, (size_t)length)) {
        vsnprintf(buf->data + buf->length, (size_t)length + 1, format, args);
        buf->length += (size_t)length;
    }
    va_end(args);
}

static const char *entity_for(unsigned char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        break;
    }
    /* C0 control characters other than tab and line breaks are not allowed in HTML text. */
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return "\xef\xbf\xbd";
    }
    return NULL;
}

static void append_escaped(report_buf *buf, const char *text, size_t length)
{
    size_t run_start = 0;
    for (size_t i = 0; i < length; i++) {
        const char *entity = entity_for((unsigned char)text[i]);
        if (entity == NULL) {
            continue;
        }
        report_buf_append(buf, text + run_start, i - run_start);
        report_buf_puts(buf, entity);
        run_start = i + 1;
    }
    report_buf_append(buf, text + run_start, length - run_start);
}

void report_buf_escaped(report_buf *buf, const char *text)
{
    if (text == NULL) {
        report_buf_puts(buf, EM_DASH);
        return;
    }
    append_escaped(buf, text, strlen(text));
}

void report_buf_escaped_prefix(report_buf *buf, const char *text, size_t max_bytes)
{
    if (text == NULL) {
        report_buf_puts(buf, EM_DASH);
        return;
    }

    size_t length = strlen(text);
    if (length <= max_bytes) {
        append_escaped(buf, text, length);
        return;
    }

    /* Back off over UTF-8 continuation bytes so the cut never splits a character. */
    size_t cut = max_bytes;
    while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80) {
        cut--;
    }
    append_escaped(buf, text, cut);
    report_buf_puts(buf, "...");
}

/* Writes digits of whole (< 1e15) with a comma every three digits; returns the bytes written. */
static size_t write_grouped(char *out, unsigned long long whole)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + whole % 10);
        whole /= 10;
    } while (whole > 0);

    size_t length = 0;
    for (int i = n - 1; i >= 0; i--) {
        out[length++] = digits[i];
        if (i > 0 && i % 3 == 0) {
            out[length++] = ',';
        }
    }
    return length;
}

/* snprintf's %e uses the locale's decimal point; this puts '.' back. */
static void force_decimal_point(char *text)
{
    for (char *p = text; *p != '\0'; p++) {
        if (*p != '-' && *p != '+' && *p != 'e' && (*p < '0' || *p > '9')) {
            *p = '.';
        }
    }
}

static int clamp_int(int value, int lo, int hi)
{
    if (value < lo) {
        return lo;
    }
    return value > hi ? hi : value;
}

/* Formats value's magnitude and sets *is_zero when it rounded to zero. */
static char *format_magnitude(char out[REPORT_NUMBER_MAX], double magnitude, int decimals, int *is_zero)
{
    if (magnitude >= 1e15) {
        snprintf(out, REPORT_NUMBER_MAX, "%.2e", magnitude);
        force_decimal_point(out);
        *is_zero = 0;
        return out;
    }

    unsigned long long scale = 1;
    for (int i = 0; i < decimals; i++) {
        scale *= 10;
    }
    double whole_part = floor(magnitude);
    unsigned long long whole = (unsigned long long)whole_part;
    unsigned long long fraction = (unsigned long long)llround((magnitude - whole_part) * (double)scale);
    if (fraction >= scale) {
        whole += 1;
        fraction -= scale;
    }

    size_t length = write_grouped(out, whole);
    if (decimals > 0) {
        out[length++] = '.';
        for (int i = decimals - 1; i >= 0; i--) {
            out[length + (size_t)i] = (char)('0' + fraction % 10);
            fraction /= 10;
        }
        length += (size_t)decimals;
    }
    out[length] = '\0';

    *is_zero = whole == 0 && strspn(out, "0.") == length;
    return out;
}

static char *format_with_sign(char out[REPORT_NUMBER_MAX], double value, int decimals, int plus)
{
    if (!isfinite(value)) {
        snprintf(out, REPORT_NUMBER_MAX, "%s", EM_DASH);
        return out;
    }

    char magnitude[REPORT_NUMBER_MAX];
    int is_zero = 0;
    format_magnitude(magnitude, fabs(value), clamp_int(decimals, 0, 9), &is_zero);

    const char *sign = "";
    if (!is_zero && value < 0) {
        sign = "-";
    } else if (!is_zero && plus) {
        sign = "+";
    }
    snprintf(out, REPORT_NUMBER_MAX, "%s%.*s", sign, REPORT_NUMBER_MAX - 2, magnitude);
    return out;
}

char *report_format_fixed(char out[REPORT_NUMBER_MAX], double value, int decimals)
{
    return format_with_sign(out, value, decimals, 0);
}

char *report_format_signed(char out[REPORT_NUMBER_MAX], double value, int decimals)
{
    return format_with_sign(out, value, decimals, 1);
}

char *report_format_significant(char out[REPORT_NUMBER_MAX], double value, int digits)
{
    digits = clamp_int(digits, 1, 9);
    if (!isfinite(value) || value == 0) {
        return report_format_fixed(out, value, 0);
    }

    double magnitude = fabs(value);
    if (magnitude < 1e-4) {
        snprintf(out, REPORT_NUMBER_MAX, "%.*e", digits - 1, value);
        force_decimal_point(out);
        return out;
    }
    int exponent = (int)floor(log10(magnitude));
    report_format_fixed(out, value, clamp_int(digits - 1 - exponent, 0, 9));

    /* Trailing zeros after the point add nothing here: 0.62 reads better than 0.6200. */
    if (strchr(out, '.') != NULL) {
        size_t length = strlen(out);
        while (out[length - 1] == '0') {
            out[--length] = '\0';
        }
        if (out[length - 1] == '.') {
            out[--length] = '\0';
        }
    }
    return out;
}

char *report_format_percent(char out[REPORT_NUMBER_MAX], double fraction, int decimals)
{
    report_format_fixed(out, fraction * 100.0, decimals);
    if (isfinite(fraction)) {
        strcat(out, "%");
    }
    return out;
}

char *report_format_payoff(char out[REPORT_NUMBER_MAX], double value)
{
    return report_format_fixed(out, value, report_payoff_decimals(value));
}

int report_payoff_decimals(double value)
{
    double magnitude = fabs(value);
    if (magnitude >= 100) {
        return 0;
    }
    return magnitude >= 10 ? 1 : 2;
}

char *report_format_count(char out[REPORT_NUMBER_MAX], size_t count)
{
    size_t length = write_grouped(out, (unsigned long long)count);
    out[length] = '\0';
    return out;
}

void report_buf_coord(report_buf *buf, double value)
{
    assert(isfinite(value));

    /* One decimal is sub-pixel precision; integer arithmetic keeps '.' as the decimal point. */
    long long tenths = llround(value * 10.0);
    const char *sign = tenths < 0 ? "-" : "";
    unsigned long long magnitude = (unsigned long long)(tenths < 0 ? -tenths : tenths);
    report_buf_printf(buf, "%s%llu.%llu", sign, magnitude / 10, magnitude % 10);
}
