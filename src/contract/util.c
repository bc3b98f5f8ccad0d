/*
 * Number and date formatting and a bounded text buffer for the contract
 * module.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contract/contract_internal.h"

void contract_format_number(double value, char *buffer, size_t capacity)
{
    if (isnan(value)) {
        snprintf(buffer, capacity, "nan");
        return;
    }
    if (isinf(value)) {
        snprintf(buffer, capacity, "%s", value > 0 ? "inf" : "-inf");
        return;
    }
    /* Plain decimals read better than exponents in a file people edit, for magnitudes where they stay short. */
    if (value == 0.0 || (fabs(value) >= 1e-5 && fabs(value) < 1e16)) {
        for (int decimals = 0; decimals <= 20; decimals++) {
            snprintf(buffer, capacity, "%.*f", decimals, value);
            if (strtod(buffer, NULL) == value)
                return;
        }
    }
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buffer, capacity, "%.*g", precision, value);
        if (strtod(buffer, NULL) == value)
            return;
    }
}

void contract_format_timestamp(double seconds, char *buffer, size_t capacity)
{
    struct tm parts;
    time_t whole;

    if (!isfinite(seconds) || seconds < -62135596800.0 || seconds > 253402300799.0) {
        contract_format_number(seconds, buffer, capacity);
        return;
    }
    whole = (time_t)floor(seconds);
    gmtime_r(&whole, &parts);
    if (parts.tm_hour == 0 && parts.tm_min == 0 && parts.tm_sec == 0 && seconds == floor(seconds))
        strftime(buffer, capacity, "%Y-%m-%d", &parts);
    else
        strftime(buffer, capacity, "%Y-%m-%dT%H:%M:%SZ", &parts);
}

int contract_parse_timestamp(const char *text, double *seconds)
{
    int year, month, day, hour = 0, minute = 0, second = 0, used = 0;
    struct tm parts;

    if (sscanf(text, "%4d-%2d-%2d%n", &year, &month, &day, &used) != 3 || used != 10)
        return -1;
    text += used;
    if (*text == 'T' || *text == ' ') {
        int more = 0;
        if (sscanf(text + 1, "%2d:%2d%n", &hour, &minute, &more) != 2 || more != 5)
            return -1;
        text += 1 + more;
        if (*text == ':') {
            if (sscanf(text + 1, "%2d%n", &second, &more) != 1 || more != 2)
                return -1;
            text += 3;
        }
    }
    if (*text == 'Z')
        text++;
    if (*text != '\0' || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
        second > 60)
        return -1;

    memset(&parts, 0, sizeof parts);
    parts.tm_year = year - 1900;
    parts.tm_mon = month - 1;
    parts.tm_mday = day;
    parts.tm_hour = hour;
    parts.tm_min = minute;
    parts.tm_sec = second;
    *seconds = (double)timegm(&parts);
    return 0;
}

void contract_format_stat(ln_type type, double value, char *buffer, size_t capacity)
{
    if (isnan(value))
        snprintf(buffer, capacity, "-");
    else if (type == LN_TYPE_TIMESTAMP)
        contract_format_timestamp(value, buffer, capacity);
    else if (fabs(value) >= 1e15 || (value != 0 && fabs(value) < 1e-4))
        snprintf(buffer, capacity, "%.4g", value);
    else if (value == floor(value))
        snprintf(buffer, capacity, "%.0f", value);
    else
        snprintf(buffer, capacity, "%.6g", value);
}

json_t *contract_json_number(double value)
{
    if (isnan(value))
        return json_null();
    if (isinf(value))
        return json_string(value > 0 ? "inf" : "-inf");
    return json_real(value);
}

void contract_text_append(contract_text *text, const char *data, size_t length)
{
    if (text->failed)
        return;
    if (length > text->max_bytes - text->length) {
        text->failed = 1;
        return;
    }
    if (text->length + length + 1 > text->capacity) {
        size_t capacity = text->capacity ? text->capacity : 4096;
        while (capacity < text->length + length + 1)
            capacity *= 2;
        char *grown = realloc(text->data, capacity);
        if (grown == NULL) {
            text->failed = 1;
            return;
        }
        text->data = grown;
        text->capacity = capacity;
    }
    memcpy(text->data + text->length, data, length);
    text->length += length;
    text->data[text->length] = '\0';
}

void contract_text_printf(contract_text *text, const char *format, ...)
{
    char small[512];
    va_list args;

    va_start(args, format);
    int length = vsnprintf(small, sizeof small, format, args);
    va_end(args);
    if (length < 0) {
        text->failed = 1;
        return;
    }
    if ((size_t)length < sizeof small) {
        contract_text_append(text, small, (size_t)length);
        return;
    }

    char *large = malloc((size_t)length + 1);
    if (large == NULL) {
        text->failed = 1;
        return;
    }
    va_start(args, format);
    vsnprintf(large, (size_t)length + 1, format, args);
    va_end(args);
    contract_text_append(text, large, (size_t)length);
    free(large);
}

void contract_text_free(contract_text *text)
{
    free(text->data);
    memset(text, 0, sizeof *text);
}

char *contract_strdup(const char *text)
{
    size_t length = strlen(text);
    char *copy = malloc(length + 1);

    if (copy != NULL)
        memcpy(copy, text, length + 1);
    return copy;
}
