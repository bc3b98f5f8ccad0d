/* Cell parsers shared by the CSV and SQLite loaders and by ln_column_convert. */
#include "data/data_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lanner/limits.h"

/* "nan" is how numpy and pandas write a missing float; "NaN" is R's. */
static const char *const default_markers[] = {"", "NA", "N/A", "NaN", "nan", "null", "NULL", "?"};

ln_status data_markers_init(data_markers *markers, const ln_load_options *options, ln_error *err)
{
    const char *const *list = default_markers;
    size_t count = sizeof default_markers / sizeof default_markers[0];

    if (options != NULL && options->missing_markers != NULL) {
        list = options->missing_markers;
        count = options->n_missing_markers;
    }
    if (count > LN_MAX_MISSING_MARKERS)
        return ln_error_set(err, LN_ERR_CONFIG, "%zu missing markers given; the maximum is %d",
                            count, LN_MAX_MISSING_MARKERS);

    memset(markers, 0, sizeof *markers);
    for (size_t i = 0; i < count; i++) {
        if (list[i] == NULL)
            return ln_error_set(err, LN_ERR_CONFIG, "missing marker %zu is NULL", i + 1);
        size_t length = strlen(list[i]);
        if (length > LN_MAX_MARKER_BYTES)
            return ln_error_set(err, LN_ERR_CONFIG,
                                "missing marker %zu is %zu bytes long; the maximum is %d", i + 1,
                                length, LN_MAX_MARKER_BYTES);
        if (length == 0) {
            markers->has_empty = 1;
            continue;
        }
        markers->text[markers->count] = list[i];
        markers->length[markers->count] = length;
        markers->count++;
        markers->first_byte[(unsigned char)list[i][0]] = 1;
    }
    return LN_OK;
}

static void trim_blanks(const char **text, size_t *length)
{
    const char *start = *text;
    const char *end = start + *length;

    while (start < end && (*start == ' ' || *start == '\t'))
        start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *text = start;
    *length = (size_t)(end - start);
}

static int equal_ignoring_case(const char *text, size_t length, const char *word)
{
    size_t word_length = strlen(word);

    if (length != word_length)
        return 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

/* Powers of ten that a double represents exactly. */
static const double exact_powers[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define MAX_EXACT_MANTISSA (1ull << 53)
#define NUMBER_TEXT_MAX 400

/* Parses with strtod, which rounds correctly, on a NUL-terminated copy with '.' as decimal point. */
static int parse_number_slow(const char *text, size_t length, int decimal_comma, double *value)
{
    char copy[NUMBER_TEXT_MAX + 1];

    if (length > NUMBER_TEXT_MAX)
        return 0;
    memcpy(copy, text, length);
    copy[length] = '\0';
    if (decimal_comma) {
        for (size_t i = 0; i < length; i++) {
            if (copy[i] == ',')
                copy[i] = '.';
        }
    }

    char *end = NULL;
    errno = 0;
    *value = strtod(copy, &end);
    return end == copy + length;
}

/*
 * The common case: an optional minus, at most 15 digits and an optional
 * point. The mantissa is below 10^15 < 2^53 and the scale at most 15, so one
 * exact division gives the correctly rounded value, the same double as the
 * general path. Returns 0 for anything else, which the general path handles.
 */
#define SIMPLE_MAX_DIGITS 15

static int parse_simple_decimal(const char *text, size_t length, char point, double *value,
                                int *integer_literal)
{
    const char *p = text;
    const char *end = text + length;
    int negative = p < end && *p == '-';
    uint64_t mantissa = 0;
    int has_point = 0;
    int fraction_digits = 0;
    int digits = 0;

    p += negative;
    for (; p < end; p++) {
        unsigned digit = (unsigned)(unsigned char)*p - '0';
        if (digit < 10) {
            mantissa = mantissa * 10 + digit;
            digits++;
            fraction_digits += has_point;
        } else if (*p == point && !has_point) {
            has_point = 1;
        } else {
            return 0;
        }
    }
    if (digits == 0 || digits > SIMPLE_MAX_DIGITS)
        return 0;

    double result = (double)mantissa / exact_powers[fraction_digits];
    *integer_literal = !has_point;
    /* "-0" is the integer 0, while "-0.0" keeps its sign, as in the general path. */
    if (negative && !(!has_point && mantissa == 0))
        result = -result;
    *value = result;
    return 1;
}

int data_parse_number(const char *text, size_t length, int decimal_comma, double *value,
                      int *integer_literal)
{
    if (parse_simple_decimal(text, length, decimal_comma ? ',' : '.', value, integer_literal))
        return 1;
    trim_blanks(&text, &length);

    const char *p = text;
    const char *end = text + length;
    int negative = 0;

    if (p < end && (*p == '+' || *p == '-')) {
        negative = *p == '-';
        p++;
    }
    if (p < end && (*p == 'i' || *p == 'I')) {
        size_t rest = (size_t)(end - p);
        if (!equal_ignoring_case(p, rest, "inf") && !equal_ignoring_case(p, rest, "infinity"))
            return 0;
        *value = negative ? -INFINITY : INFINITY;
        *integer_literal = 0;
        return 1;
    }

    /* Mantissa digits: up to 19 fit a uint64_t; later ones only count. */
    uint64_t mantissa = 0;
    int significant = 0;
    int dropped = 0;
    int digits = 0;
    int scale = 0;
    int has_point = 0;
    char point = decimal_comma ? ',' : '.';

    for (; p < end; p++) {
        char c = *p;
        if (c >= '0' && c <= '9') {
            digits++;
            if (mantissa == 0 && c == '0') {
                if (has_point)
                    scale--;
                continue;
            }
            if (significant < 19) {
                mantissa = mantissa * 10 + (uint64_t)(c - '0');
                significant++;
                if (has_point)
                    scale--;
            } else {
                dropped++;
                if (!has_point)
                    scale++;
            }
        } else if (c == point && !has_point) {
            has_point = 1;
        } else {
            break;
        }
    }
    if (digits == 0)
        return 0;

    int has_exponent = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        has_exponent = 1;
        p++;
        int exponent_negative = 0;
        if (p < end && (*p == '+' || *p == '-')) {
            exponent_negative = *p == '-';
            p++;
        }
        if (p == end)
            return 0;
        int exponent = 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (exponent < 100000)
                exponent = exponent * 10 + (*p - '0');
        }
        scale += exponent_negative ? -exponent : exponent;
    }
    if (p != end)
        return 0;

    *integer_literal = 0;
    if (!has_point && !has_exponent)
        *integer_literal = dropped == 0 && mantissa <= MAX_EXACT_MANTISSA ? 1 : 2;

    /* One exact product or quotient of exact doubles is correctly rounded. */
    if (dropped == 0 && mantissa <= MAX_EXACT_MANTISSA && scale >= -22 && scale <= 22) {
        double result = (double)mantissa;
        result = scale < 0 ? result / exact_powers[-scale] : result * exact_powers[scale];
        if (negative && !(*integer_literal != 0 && mantissa == 0))
            result = -result;
        *value = result;
        return 1;
    }
    return parse_number_slow(text, length, decimal_comma, value);
}

int data_parse_bool(const char *text, size_t length, double *value)
{
    trim_blanks(&text, &length);
    if (length == 4 && (memcmp(text, "true", 4) == 0 || memcmp(text, "TRUE", 4) == 0 ||
                        memcmp(text, "True", 4) == 0)) {
        *value = 1.0;
        return 1;
    }
    if (length == 5 && (memcmp(text, "false", 5) == 0 || memcmp(text, "FALSE", 5) == 0 ||
                        memcmp(text, "False", 5) == 0)) {
        *value = 0.0;
        return 1;
    }
    return 0;
}

/* Reads exactly count digits at *p into *number. */
static int read_digits(const char **p, const char *end, int count, int *number)
{
    int result = 0;

    if (end - *p < count)
        return 0;
    for (int i = 0; i < count; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return 0;
        result = result * 10 + (c - '0');
    }
    *p += count;
    *number = result;
    return 1;
}

static int is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

/* Days from 1970-01-01 to the given proleptic Gregorian date, counted in 400-year eras. */
static int64_t days_from_civil(int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;

    return era * 146097 + day_of_era - 719468;
}

/* Parses Z, +HH:MM, +HHMM or +HH into seconds east of UTC. */
static int parse_offset(const char **p, const char *end, int *seconds)
{
    if (*p == end) {
        *seconds = 0;
        return 1;
    }
    if (**p == 'Z') {
        (*p)++;
        *seconds = 0;
        return 1;
    }
    if (**p != '+' && **p != '-')
        return 0;

    int sign = **p == '-' ? -1 : 1;
    int hours;
    int minutes = 0;
    (*p)++;
    if (!read_digits(p, end, 2, &hours) || hours > 23)
        return 0;
    if (*p < end && **p == ':')
        (*p)++;
    if (*p < end && !read_digits(p, end, 2, &minutes))
        return 0;
    if (minutes > 59)
        return 0;
    *seconds = sign * (hours * 3600 + minutes * 60);
    return 1;
}

int data_parse_timestamp(const char *text, size_t length, double *value)
{
    trim_blanks(&text, &length);

    const char *p = text;
    const char *end = text + length;
    int year, month, day;

    if (length < 10 || text[4] != '-' || text[7] != '-')
        return 0;
    if (!read_digits(&p, end, 4, &year) || *p++ != '-' || !read_digits(&p, end, 2, &month) ||
        *p++ != '-' || !read_digits(&p, end, 2, &day))
        return 0;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return 0;

    double seconds = (double)days_from_civil(year, month, day) * 86400.0;
    if (p == end) {
        *value = seconds;
        return 1;
    }

    int hour, minute, second = 0;
    double fraction = 0.0;
    if (*p != 'T' && *p != ' ')
        return 0;
    p++;
    if (!read_digits(&p, end, 2, &hour) || p == end || *p++ != ':' ||
        !read_digits(&p, end, 2, &minute))
        return 0;
    if (p < end && *p == ':') {
        p++;
        if (!read_digits(&p, end, 2, &second))
            return 0;
        if (p < end && (*p == '.' || *p == ',')) {
            double place = 0.1;
            p++;
            if (p == end || *p < '0' || *p > '9')
                return 0;
            for (; p < end && *p >= '0' && *p <= '9'; p++) {
                fraction += (*p - '0') * place;
                place /= 10;
            }
        }
    }
    if (hour > 23 || minute > 59 || second > 59)
        return 0;

    int offset;
    if (!parse_offset(&p, end, &offset) || p != end)
        return 0;
    *value = seconds + hour * 3600.0 + minute * 60.0 + second + fraction - offset;
    return 1;
}

data_cell_class data_classify(const char *text, size_t length, int decimal_comma, double *value)
{
    unsigned char first = (unsigned char)text[0];
    int integer_literal;

    if ((first >= '0' && first <= '9') || first == '-' || first == '+' || first == '.' ||
        first == ',' || first == 'i' || first == 'I' || first == ' ' || first == '\t') {
        if (data_parse_number(text, length, decimal_comma, value, &integer_literal)) {
            if (integer_literal == 0)
                return DATA_CELL_FLOAT;
            return integer_literal == 1 ? DATA_CELL_INT : DATA_CELL_BIG_INT;
        }
        if (data_parse_timestamp(text, length, value))
            return DATA_CELL_TIMESTAMP;
    }
    if (first == 't' || first == 'T' || first == 'f' || first == 'F' || first == ' ' ||
        first == '\t') {
        if (data_parse_bool(text, length, value))
            return DATA_CELL_BOOL;
    }
    return DATA_CELL_STRING;
}

int data_parse_as(ln_type type, const char *text, size_t length, int decimal_comma, double *value)
{
    int integer_literal;

    switch (type) {
    case LN_TYPE_INT:
        return data_parse_number(text, length, decimal_comma, value, &integer_literal) &&
               *value == floor(*value) && fabs(*value) <= (double)MAX_EXACT_MANTISSA;
    case LN_TYPE_FLOAT:
        return data_parse_number(text, length, decimal_comma, value, &integer_literal);
    case LN_TYPE_BOOL:
        if (data_parse_bool(text, length, value))
            return 1;
        return data_parse_number(text, length, decimal_comma, value, &integer_literal) &&
               (*value == 0.0 || *value == 1.0);
    case LN_TYPE_TIMESTAMP:
        return data_parse_timestamp(text, length, value);
    case LN_TYPE_CATEGORY:
    case LN_TYPE_TEXT:
        break;
    }
    return 0;
}

size_t data_utf8_sequence(const unsigned char *text, const unsigned char *end)
{
    unsigned char lead = text[0];
    size_t size;
    uint32_t minimum;
    uint32_t code;

    if (lead >= 0xc2 && lead <= 0xdf) {
        size = 2;
        minimum = 0x80;
        code = lead & 0x1f;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        size = 3;
        minimum = 0x800;
        code = lead & 0x0f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        size = 4;
        minimum = 0x10000;
        code = lead & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - text) < size)
        return 0;
    for (size_t i = 1; i < size; i++) {
        if ((text[i] & 0xc0) != 0x80)
            return 0;
        code = (code << 6) | (text[i] & 0x3f);
    }
    /* Reject overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
    if (code < minimum || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
        return 0;
    return size;
}

int data_utf8_valid(const char *text, size_t length)
{
    const unsigned char *p = (const unsigned char *)text;
    const unsigned char *end = p + length;

    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t size = data_utf8_sequence(p, end);
        if (size == 0)
            return 0;
        p += size;
    }
    return 1;
}

void data_quote_value(const char *text, size_t length, char *buffer, size_t capacity)
{
    size_t shown = length > 60 ? 60 : length;

    snprintf(buffer, capacity, "%.*s%s", (int)shown, text, length > shown ? "..." : "");
}
