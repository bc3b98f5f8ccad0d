/* CSV reader: dialect quirks, type inference, overrides and error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lanner/data.h"
#include "lanner/limits.h"
#include "lanner/log.h"

static ln_table *load_with(const char *text, const ln_load_options *options)
{
    ln_table *table = NULL;
    ln_error err = {0};

    if (ln_csv_read_buffer(text, strlen(text), "t.csv", options, &table, &err) != LN_OK)
        fail_msg("unexpected error: %s", err.message);
    return table;
}

static ln_table *load(const char *text)
{
    ln_load_options options;

    ln_load_options_default(&options);
    options.threads = 1;
    return load_with(text, &options);
}

/* Loads text expecting a failure; returns the status and leaves the message in err. */
static ln_status load_error(const char *text, const ln_load_options *options, ln_error *err)
{
    ln_table *table = NULL;
    ln_status status = ln_csv_read_buffer(text, strlen(text), "t.csv", options, &table, err);

    assert_null(table);
    return status;
}

static const char *cell(const ln_table *table, const char *name, size_t row)
{
    int index = ln_table_find(table, name);

    assert_true(index >= 0);
    const ln_column *column = &table->cols[index];
    assert_false(ln_type_is_numeric(column->type));
    if (column->codes[row] < 0)
        return NULL;
    return ln_dict_string(column->dict, column->codes[row]);
}

static double value(const ln_table *table, const char *name, size_t row)
{
    int index = ln_table_find(table, name);

    assert_true(index >= 0);
    assert_true(ln_type_is_numeric(table->cols[index].type));
    return table->cols[index].values[row];
}

static ln_type type_of(const ln_table *table, const char *name)
{
    int index = ln_table_find(table, name);

    assert_true(index >= 0);
    return table->cols[index].type;
}

static void test_infers_each_type(void **state)
{
    (void)state;
    ln_table *table = load("i,f,b,t,c,m\n"
                           "1,1.5,true,2020-01-02,x,\n"
                           "-2,-3e2,FALSE,2020-01-02T03:04:05Z,y,\n"
                           "0,inf,True,2020-01-02 03:04,x,NA\n");

    assert_int_equal(table->n_rows, 3);
    assert_int_equal(type_of(table, "i"), LN_TYPE_INT);
    assert_int_equal(type_of(table, "f"), LN_TYPE_FLOAT);
    assert_int_equal(type_of(table, "b"), LN_TYPE_BOOL);
    assert_int_equal(type_of(table, "t"), LN_TYPE_TIMESTAMP);
    assert_int_equal(type_of(table, "c"), LN_TYPE_CATEGORY);
    assert_int_equal(type_of(table, "m"), LN_TYPE_FLOAT);

    assert_true(value(table, "i", 1) == -2.0);
    assert_true(value(table, "f", 0) == 1.5);
    assert_true(value(table, "f", 1) == -300.0);
    assert_true(isinf(value(table, "f", 2)) && value(table, "f", 2) > 0);
    assert_true(value(table, "b", 0) == 1.0);
    assert_true(value(table, "b", 1) == 0.0);
    assert_true(value(table, "b", 2) == 1.0);
    /* 2020-01-02 is day 18263 after 1970-01-01. */
    assert_true(value(table, "t", 0) == 1577923200.0);
    assert_true(value(table, "t", 1) == 1577923200.0 + 3 * 3600 + 4 * 60 + 5);
    assert_true(value(table, "t", 2) == 1577923200.0 + 3 * 3600 + 4 * 60);
    assert_string_equal(cell(table, "c", 0), "x");
    assert_string_equal(cell(table, "c", 1), "y");
    assert_int_equal(table->cols[4].codes[2], table->cols[4].codes[0]);
    for (size_t row = 0; row < 3; row++)
        assert_true(isnan(value(table, "m", row)));
    ln_table_free(table);
}

static void test_zero_one_stays_integer(void **state)
{
    (void)state;
    ln_table *table = load("flag\n0\n1\n1\n");

    assert_int_equal(type_of(table, "flag"), LN_TYPE_INT);
    assert_true(value(table, "flag", 0) == 0.0);
    assert_true(value(table, "flag", 2) == 1.0);
    ln_table_free(table);
}

static void test_timestamp_offsets_and_fractions(void **state)
{
    (void)state;
    ln_table *table = load("t\n2020-01-01T00:00:00+01:00\n2020-01-01T00:00:00.250Z\n"
                           "2000-02-29 23:59:59-05:30\n1969-12-31\n");

    assert_int_equal(type_of(table, "t"), LN_TYPE_TIMESTAMP);
    assert_true(value(table, "t", 0) == 1577836800.0 - 3600.0);
    assert_true(value(table, "t", 1) == 1577836800.25);
    /* 2000-02-29 is day 11016; the offset -05:30 adds 5.5 hours to reach UTC. */
    assert_true(value(table, "t", 2) == 11016 * 86400.0 + 86399.0 + 5.5 * 3600.0);
    assert_true(value(table, "t", 3) == -86400.0);
    ln_table_free(table);
}

static void test_invalid_dates_are_strings(void **state)
{
    (void)state;
    ln_table *table = load("t\n2021-02-29\n2020-01-01\n");

    assert_int_equal(type_of(table, "t"), LN_TYPE_CATEGORY);
    assert_string_equal(cell(table, "t", 0), "2021-02-29");
    assert_string_equal(cell(table, "t", 1), "2020-01-01");
    ln_table_free(table);
}

static void test_numbers_round_correctly(void **state)
{
    (void)state;
    ln_table *table = load("x\n0.1\n123456.789\n1e-300\n0.30000000000000004\n"
                           "2.2250738585072011e-308\n12345678901234567890.5\n-0.0\n  7.25 \n");

    assert_int_equal(type_of(table, "x"), LN_TYPE_FLOAT);
    assert_true(value(table, "x", 0) == strtod("0.1", NULL));
    assert_true(value(table, "x", 1) == strtod("123456.789", NULL));
    assert_true(value(table, "x", 2) == strtod("1e-300", NULL));
    assert_true(value(table, "x", 3) == strtod("0.30000000000000004", NULL));
    assert_true(value(table, "x", 4) == strtod("2.2250738585072011e-308", NULL));
    assert_true(value(table, "x", 5) == strtod("12345678901234567890.5", NULL));
    assert_true(value(table, "x", 6) == 0.0 && signbit(value(table, "x", 6)));
    assert_true(value(table, "x", 7) == 7.25);
    ln_table_free(table);
}

static void test_big_integers_are_strings(void **state)
{
    (void)state;
    ln_table *table = load("id,x\n9007199254740993,1\n9007199254740992,2.5\n");

    assert_int_equal(type_of(table, "id"), LN_TYPE_CATEGORY);
    assert_string_equal(cell(table, "id", 0), "9007199254740993");
    assert_string_equal(cell(table, "id", 1), "9007199254740992");
    assert_int_equal(type_of(table, "x"), LN_TYPE_FLOAT);
    ln_table_free(table);
}

static void test_bom_and_mixed_line_ends(void **state)
{
    (void)state;
    ln_table *table = load("\xef\xbb\xbfx,y\r\n1,a\n2,b\r\n3,c");

    assert_int_equal(table->n_rows, 3);
    assert_string_equal(table->cols[0].name, "x");
    assert_true(value(table, "x", 2) == 3.0);
    assert_string_equal(cell(table, "y", 0), "a");
    assert_string_equal(cell(table, "y", 1), "b");
    assert_string_equal(cell(table, "y", 2), "c");
    ln_table_free(table);
}

static void test_quoted_fields(void **state)
{
    (void)state;
    ln_table *table = load("name,note\r\n"
                           "\"a,b\",\"say \"\"hi\"\"\"\r\n"
                           "\"line1\r\nline2\",\"\"\r\n"
                           "\"\"\"\",\"x\ny\"");

    assert_int_equal(table->n_rows, 3);
    assert_string_equal(cell(table, "name", 0), "a,b");
    assert_string_equal(cell(table, "note", 0), "say \"hi\"");
    assert_string_equal(cell(table, "name", 1), "line1\r\nline2");
    assert_null(cell(table, "note", 1));
    assert_string_equal(cell(table, "name", 2), "\"");
    assert_string_equal(cell(table, "note", 2), "x\ny");
    ln_table_free(table);
}

static void test_quoted_numbers_are_numbers(void **state)
{
    (void)state;
    ln_table *table = load("x\n\"1\"\n\"2\"\n");

    assert_int_equal(type_of(table, "x"), LN_TYPE_INT);
    assert_true(value(table, "x", 1) == 2.0);
    ln_table_free(table);
}

static void test_trailing_empty_columns_dropped(void **state)
{
    (void)state;
    ln_table *table = load("a,b,,\n1,x,,\n2,y,,\n");

    assert_int_equal(table->n_cols, 2);
    assert_int_equal(table->n_rows, 2);
    assert_true(value(table, "a", 1) == 2.0);
    assert_string_equal(cell(table, "b", 1), "y");
    ln_table_free(table);
}

static void test_header_only_gives_zero_rows(void **state)
{
    (void)state;
    ln_table *table = load("a,b\n");

    assert_int_equal(table->n_rows, 0);
    assert_int_equal(table->n_cols, 2);
    assert_int_equal(type_of(table, "a"), LN_TYPE_FLOAT);
    ln_table_free(table);

    table = load("a,b");
    assert_int_equal(table->n_rows, 0);
    assert_int_equal(table->n_cols, 2);
    ln_table_free(table);
}

static void test_blank_lines_skipped(void **state)
{
    (void)state;
    ln_table *table = load("\na\n1\n\n2\r\n\r\n\n");

    assert_int_equal(table->n_rows, 2);
    assert_true(value(table, "a", 0) == 1.0);
    assert_true(value(table, "a", 1) == 2.0);
    ln_table_free(table);
}

static void test_detects_delimiters(void **state)
{
    (void)state;
    const char *inputs[] = {"a;b\n1;x,y\n2;z\n", "a\tb\n1\tx,y\n2\tz\n", "a|b\n1|x,y\n2|z\n"};

    for (size_t i = 0; i < 3; i++) {
        ln_table *table = load(inputs[i]);
        assert_int_equal(table->n_cols, 2);
        assert_true(value(table, "a", 1) == 2.0);
        assert_string_equal(cell(table, "b", 0), "x,y");
        ln_table_free(table);
    }
}

static void test_decimal_comma(void **state)
{
    (void)state;
    ln_load_options options;
    ln_load_options_default(&options);
    options.decimal_comma = 1;

    ln_table *table = load_with("a;b\n3,5;x\n-1,25;y\n", &options);
    assert_int_equal(type_of(table, "a"), LN_TYPE_FLOAT);
    assert_true(value(table, "a", 0) == 3.5);
    assert_true(value(table, "a", 1) == -1.25);
    ln_table_free(table);

    ln_error err = {0};
    options.delimiter = ',';
    assert_int_equal(load_error("a\n1\n", &options, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "decimal comma"));
}

static void test_default_missing_markers(void **state)
{
    (void)state;
    ln_table *table = load("a,b\nNA,x\nN/A,x\nNaN,x\nnull,x\nNULL,x\n?,x\n,x\n1.5,NA\n");

    assert_int_equal(table->n_rows, 8);
    assert_int_equal(type_of(table, "a"), LN_TYPE_FLOAT);
    for (size_t row = 0; row < 7; row++)
        assert_true(isnan(value(table, "a", row)));
    assert_true(value(table, "a", 7) == 1.5);
    assert_null(cell(table, "b", 7));
    ln_table_free(table);
}

static void test_custom_missing_markers(void **state)
{
    (void)state;
    const char *markers[] = {"-", "missing"};
    ln_load_options options;
    ln_load_options_default(&options);
    options.missing_markers = markers;
    options.n_missing_markers = 2;

    ln_table *table = load_with("a,b\n-,NA\n2,missing\n", &options);
    assert_int_equal(type_of(table, "a"), LN_TYPE_INT);
    assert_true(isnan(value(table, "a", 0)));
    assert_true(value(table, "a", 1) == 2.0);
    assert_int_equal(type_of(table, "b"), LN_TYPE_CATEGORY);
    assert_string_equal(cell(table, "b", 0), "NA");
    assert_null(cell(table, "b", 1));
    ln_table_free(table);
}

static char *repeat_rows(size_t rows, const char *header, const char *format)
{
    size_t capacity = strlen(header) + rows * 64 + 1;
    char *text = malloc(capacity);
    size_t used = (size_t)snprintf(text, capacity, "%s", header);

    for (size_t i = 0; i < rows; i++)
        used += (size_t)snprintf(text + used, capacity - used, format, i, i);
    return text;
}

static void test_category_or_text_by_cardinality(void **state)
{
    (void)state;
    /* 1000 distinct values: category; 1001 distinct in 1001 rows: text. */
    char *text = repeat_rows(1000, "s\n", "v%zu\n");
    ln_table *table = load(text);
    assert_int_equal(type_of(table, "s"), LN_TYPE_CATEGORY);
    assert_int_equal(ln_dict_count(table->cols[0].dict), 1000);
    assert_string_equal(cell(table, "s", 999), "v999");
    ln_table_free(table);
    free(text);

    text = repeat_rows(1001, "s\n", "v%zu\n");
    table = load(text);
    assert_int_equal(type_of(table, "s"), LN_TYPE_TEXT);
    assert_string_equal(cell(table, "s", 1000), "v1000");
    ln_table_free(table);
    free(text);

    /* 2000 distinct values in 40000 rows is 5%: category. */
    size_t capacity = 40000 * 8 + 4;
    text = malloc(capacity);
    size_t used = (size_t)snprintf(text, capacity, "s\n");
    for (size_t i = 0; i < 40000; i++)
        used += (size_t)snprintf(text + used, capacity - used, "v%04zu\n", i % 2000);
    table = load(text);
    assert_int_equal(type_of(table, "s"), LN_TYPE_CATEGORY);
    assert_int_equal(ln_dict_count(table->cols[0].dict), 2000);
    ln_table_free(table);
    free(text);
}

static char warnings[4096];

static void capture_log(void *context, ln_log_level level, const char *message)
{
    (void)context;
    if (level == LN_LOG_WARN)
        snprintf(warnings + strlen(warnings), sizeof warnings - strlen(warnings), "%s\n", message);
}

static void test_stray_cells_warn(void **state)
{
    (void)state;
    char *text = repeat_rows(300, "amount,id\n", "%zu.5,%zu\n");
    /* Line 5 contains row 4 (the header is line 1). */
    char *row = strstr(text, "\n3.5,3\n") + 1;
    memcpy(row, "oop", 3);

    warnings[0] = '\0';
    ln_log_set_sink(capture_log, NULL, LN_LOG_WARN);
    ln_table *table = load(text);
    ln_log_set_sink(NULL, NULL, LN_LOG_INFO);

    assert_int_equal(type_of(table, "amount"), LN_TYPE_CATEGORY);
    assert_string_equal(cell(table, "amount", 3), "oop");
    assert_string_equal(cell(table, "amount", 4), "4.5");
    assert_non_null(strstr(warnings, "column 'amount' would be float"));
    assert_non_null(strstr(warnings, "1 of its 300 values"));
    assert_non_null(strstr(warnings, "line 5 'oop'"));
    assert_null(strstr(warnings, "'id'"));
    ln_table_free(table);
    free(text);
}

static void test_mixed_column_is_category_without_warning(void **state)
{
    (void)state;
    warnings[0] = '\0';
    ln_log_set_sink(capture_log, NULL, LN_LOG_WARN);
    ln_table *table = load("x\n1\nabc\n2\n");
    ln_log_set_sink(NULL, NULL, LN_LOG_INFO);

    assert_int_equal(type_of(table, "x"), LN_TYPE_CATEGORY);
    assert_string_equal(cell(table, "x", 0), "1");
    assert_string_equal(cell(table, "x", 1), "abc");
    assert_string_equal(cell(table, "x", 2), "2");
    /* Codes follow first appearance: "1", "abc", "2". */
    assert_int_equal(table->cols[0].codes[2], 2);
    assert_string_equal(warnings, "");
    ln_table_free(table);
}

static void test_override_types(void **state)
{
    (void)state;
    const char *names[] = {"zip", "score", "flag"};
    const ln_type types[] = {LN_TYPE_CATEGORY, LN_TYPE_FLOAT, LN_TYPE_BOOL};
    ln_load_options options;
    ln_load_options_default(&options);
    options.override_names = names;
    options.override_types = types;
    options.n_overrides = 3;

    ln_table *table = load_with("zip,score,flag\n02134,1,0\n10001,NA,1\n", &options);
    assert_int_equal(type_of(table, "zip"), LN_TYPE_CATEGORY);
    assert_string_equal(cell(table, "zip", 0), "02134");
    assert_int_equal(type_of(table, "score"), LN_TYPE_FLOAT);
    assert_true(value(table, "score", 0) == 1.0);
    assert_true(isnan(value(table, "score", 1)));
    assert_int_equal(type_of(table, "flag"), LN_TYPE_BOOL);
    assert_true(value(table, "flag", 1) == 1.0);
    ln_table_free(table);
}

static void test_override_bad_value(void **state)
{
    (void)state;
    const char *names[] = {"n"};
    const ln_type types[] = {LN_TYPE_INT};
    ln_load_options options;
    ln_load_options_default(&options);
    options.override_names = names;
    options.override_types = types;
    options.n_overrides = 1;
    ln_error err = {0};

    assert_int_equal(load_error("a,n\nx,1\ny,1.5\n", &options, &err), LN_ERR_DATA);
    assert_string_equal(err.message, "t.csv line 3, column 2 ('n'): value '1.5' is not a valid "
                                     "integer, the type the options set for this column");
}

static void test_override_unknown_column(void **state)
{
    (void)state;
    const char *names[] = {"nope"};
    const ln_type types[] = {LN_TYPE_INT};
    ln_load_options options;
    ln_load_options_default(&options);
    options.override_names = names;
    options.override_types = types;
    options.n_overrides = 1;
    ln_error err = {0};

    assert_int_equal(load_error("a\n1\n", &options, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "'nope'"));
}

static void expect_parse_error(const char *text, ln_status status, const char *message)
{
    ln_error err = {0};

    assert_int_equal(load_error(text, NULL, &err), status);
    assert_string_equal(err.message, message);
}

static void test_ragged_row_error(void **state)
{
    (void)state;
    expect_parse_error("a,b,c\n1,2,3\n1,2\n", LN_ERR_PARSE, "t.csv line 3: expected 3 fields, found 2");
    expect_parse_error("a,b\n1,2\n1,2,3\n", LN_ERR_PARSE, "t.csv line 3: expected 2 fields, found 3");
    /* Line numbers count the line breaks inside quoted fields. */
    expect_parse_error("a,b\n\"x\ny\",1\n1,2,3\n", LN_ERR_PARSE,
                       "t.csv line 4: expected 2 fields, found 3");
}

static void test_quote_errors(void **state)
{
    (void)state;
    expect_parse_error("a,b\n1,\"abc\n2,3\n", LN_ERR_PARSE,
                       "t.csv line 2, column 2 ('b'): quoted field is never closed; add the "
                       "closing quote");
    expect_parse_error("a\nab\"c\n", LN_ERR_PARSE,
                       "t.csv line 2, column 1 ('a'): quote inside an unquoted field; quote the "
                       "whole field and double the inner quote");
    expect_parse_error("a,b\n\"x\"y,1\n", LN_ERR_PARSE,
                       "t.csv line 2, column 1 ('a'): unexpected text after the closing quote; "
                       "quote the whole field and double any quote inside it");
}

static void test_invalid_utf8_error(void **state)
{
    (void)state;
    expect_parse_error("a,b\n1,x\xff\n", LN_ERR_PARSE,
                       "t.csv line 2, column 2 ('b'): invalid UTF-8 byte 0xff; convert the file "
                       "to UTF-8");
    /* An overlong encoding inside a quoted field. */
    expect_parse_error("a,b\n1,\"x\n\xc0\xaf\"\n", LN_ERR_PARSE,
                       "t.csv line 3, column 2 ('b'): invalid UTF-8 byte 0xc0; convert the file "
                       "to UTF-8");
    ln_table *table = load("a\n\"h\xc3\xa9llo \xe2\x82\xac\"\n");
    assert_string_equal(cell(table, "a", 0), "h\xc3\xa9llo \xe2\x82\xac");
    ln_table_free(table);
}

static void test_header_errors(void **state)
{
    (void)state;
    expect_parse_error("a,b,a\n1,2,3\n", LN_ERR_PARSE,
                       "t.csv line 1, column 3: duplicate column name 'a' (also column 1); "
                       "rename one");
    expect_parse_error("a,,b\n1,2,3\n", LN_ERR_PARSE,
                       "t.csv line 1, column 2: empty column name in the header; name every "
                       "column");
    expect_parse_error("", LN_ERR_PARSE, "t.csv: empty file (no header row)");
    expect_parse_error("\xef\xbb\xbf\r\n\n", LN_ERR_PARSE, "t.csv: empty file (no header row)");
    expect_parse_error("a,b,\n1,2,3\n", LN_ERR_PARSE,
                       "t.csv line 2, column 3: value '3' in a column whose header name is "
                       "empty; name the column in the header");
}

static void test_field_size_limit(void **state)
{
    (void)state;
    size_t size = LN_MAX_FIELD_BYTES + 16;
    char *text = malloc(size + 1);
    memcpy(text, "a\n", 2);
    memset(text + 2, 'x', size - 2);
    text[size] = '\0';
    ln_error err = {0};

    assert_int_equal(load_error(text, NULL, &err), LN_ERR_LIMIT);
    assert_non_null(strstr(err.message, "line 2, column 1 ('a'): field is longer than"));
    free(text);
}

static void test_convert_column(void **state)
{
    (void)state;
    ln_table *table = load("a,b,c\n1,x,1.5\n2,y,2\nNA,z,3\n");
    ln_error err = {0};

    ln_column *a = ln_table_column(table, "a");
    assert_int_equal(ln_column_convert(a, LN_TYPE_CATEGORY, table->n_rows, &err), LN_OK);
    assert_string_equal(cell(table, "a", 1), "2");
    assert_null(cell(table, "a", 2));
    assert_int_equal(ln_column_convert(a, LN_TYPE_INT, table->n_rows, &err), LN_OK);
    assert_true(value(table, "a", 1) == 2.0);
    assert_true(isnan(value(table, "a", 2)));

    ln_column *b = ln_table_column(table, "b");
    assert_int_equal(ln_column_convert(b, LN_TYPE_FLOAT, table->n_rows, &err), LN_ERR_DATA);
    assert_string_equal(err.message, "column 'b', row 1: value 'x' is not a valid float");
    assert_int_equal(b->type, LN_TYPE_CATEGORY);
    assert_int_equal(ln_column_convert(b, LN_TYPE_TEXT, table->n_rows, &err), LN_OK);
    assert_string_equal(cell(table, "b", 2), "z");

    ln_column *c = ln_table_column(table, "c");
    assert_int_equal(ln_column_convert(c, LN_TYPE_INT, table->n_rows, &err), LN_ERR_DATA);
    assert_string_equal(err.message, "column 'c', row 1: value 1.5 is not a valid integer");
    ln_table_free(table);
}

static void csv_lowercase_nan_is_missing(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_table *table = NULL;
    const char text[] = "x\n1.5\nnan\n2\n";

    /* numpy and pandas write a missing float as "nan"; it used to turn the column into a category. */
    assert_int_equal(ln_csv_read_buffer(text, sizeof text - 1, "nan.csv", NULL, &table, &err), LN_OK);
    assert_int_equal(table->cols[0].type, LN_TYPE_FLOAT);
    assert_true(isnan(table->cols[0].values[1]));
    assert_true(table->cols[0].values[2] == 2.0);
    ln_table_free(table);
}

static void csv_decimal_comma_needs_other_delimiter(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_table *table = NULL;
    ln_load_options options;
    const char text[] = "a,b\n1,2\n";

    ln_load_options_default(&options);
    options.decimal_comma = 1;
    assert_int_equal(ln_csv_read_buffer(text, sizeof text - 1, "comma.csv", &options, &table, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "comma.csv: a decimal comma needs a delimiter other than a comma"));
    assert_null(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv_lowercase_nan_is_missing),
        cmocka_unit_test(csv_decimal_comma_needs_other_delimiter),
        cmocka_unit_test(test_infers_each_type),
        cmocka_unit_test(test_zero_one_stays_integer),
        cmocka_unit_test(test_timestamp_offsets_and_fractions),
        cmocka_unit_test(test_invalid_dates_are_strings),
        cmocka_unit_test(test_numbers_round_correctly),
        cmocka_unit_test(test_big_integers_are_strings),
        cmocka_unit_test(test_bom_and_mixed_line_ends),
        cmocka_unit_test(test_quoted_fields),
        cmocka_unit_test(test_quoted_numbers_are_numbers),
        cmocka_unit_test(test_trailing_empty_columns_dropped),
        cmocka_unit_test(test_header_only_gives_zero_rows),
        cmocka_unit_test(test_blank_lines_skipped),
        cmocka_unit_test(test_detects_delimiters),
        cmocka_unit_test(test_decimal_comma),
        cmocka_unit_test(test_default_missing_markers),
        cmocka_unit_test(test_custom_missing_markers),
        cmocka_unit_test(test_category_or_text_by_cardinality),
        cmocka_unit_test(test_stray_cells_warn),
        cmocka_unit_test(test_mixed_column_is_category_without_warning),
        cmocka_unit_test(test_override_types),
        cmocka_unit_test(test_override_bad_value),
        cmocka_unit_test(test_override_unknown_column),
        cmocka_unit_test(test_ragged_row_error),
        cmocka_unit_test(test_quote_errors),
        cmocka_unit_test(test_invalid_utf8_error),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_field_size_limit),
        cmocka_unit_test(test_convert_column),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
