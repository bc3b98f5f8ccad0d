/* PostgreSQL source without a server: URL redaction, message scrubbing, the type table and value parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/data_internal.h"
#include "lanner/data.h"

static void assert_redacted(const char *url, const char *expected)
{
    char buffer[256];

    ln_postgres_redact_url(url, buffer, sizeof buffer);
    assert_string_equal(buffer, expected);
}

static void test_redact_userinfo_password(void **state)
{
    (void)state;
    assert_redacted("postgres://ann:secret@db.example:5432/sales",
                    "postgres://ann:***@db.example:5432/sales");
    assert_redacted("postgresql://ann:p%40ss@127.0.0.1/sales?sslmode=disable",
                    "postgresql://ann:***@127.0.0.1/sales?sslmode=disable");
    assert_redacted("postgres://ann:@host/db", "postgres://ann:***@host/db");
}

static void test_redact_unencoded_separators(void **state)
{
    (void)state;
    /* An @, / or ? typed into a password without percent-encoding is still hidden. */
    assert_redacted("postgres://ann:p@ss@host/db", "postgres://ann:***@host/db");
    assert_redacted("postgres://ann:a/b?c@host/db", "postgres://ann:***@host/db");
}

static void test_redact_password_parameter(void **state)
{
    (void)state;
    assert_redacted("postgres://host/db?user=ann&password=secret&sslmode=require",
                    "postgres://host/db?user=ann&password=***&sslmode=require");
    assert_redacted("postgres://host/db?password=secret", "postgres://host/db?password=***");
    assert_redacted("postgres://ann:one@host/db?password=two",
                    "postgres://ann:***@host/db?password=***");
    /* A parameter whose name only ends in "password=" is not a password. */
    assert_redacted("postgres://host/db?application_name=old_password=x",
                    "postgres://host/db?application_name=old_password=x");
}

static void test_redact_without_password(void **state)
{
    (void)state;
    assert_redacted("postgres://ann@host:5432/db", "postgres://ann@host:5432/db");
    assert_redacted("postgres://host/db", "postgres://host/db");
    assert_redacted("postgres://host:5432/db", "postgres://host:5432/db");
}

static void test_redact_small_buffer(void **state)
{
    char buffer[32];
    char empty[1] = {'x'};

    (void)state;
    ln_postgres_redact_url("postgres://ann:secret@host/db", buffer, 16);
    assert_string_equal(buffer, "postgres://ann:");
    ln_postgres_redact_url("postgres://ann:secret@host/db", buffer, 19);
    assert_string_equal(buffer, "postgres://ann:***");
    ln_postgres_redact_url("postgres://ann:secret@host/db", empty, sizeof empty);
    assert_int_equal(empty[0], '\0');
    ln_postgres_redact_url("postgres://ann:secret@host/db", buffer, 0);
    ln_postgres_redact_url(NULL, buffer, sizeof buffer);
    assert_string_equal(buffer, "");
}

static void test_url_scheme(void **state)
{
    (void)state;
    assert_true(ln_postgres_is_url("postgres://host/db"));
    assert_true(ln_postgres_is_url("postgresql://host/db"));
    assert_false(ln_postgres_is_url("postgres:/host/db"));
    assert_false(ln_postgres_is_url("host=db password=x"));
    assert_false(ln_postgres_is_url("sqlite:w.db"));
    assert_false(ln_postgres_is_url(""));
    assert_false(ln_postgres_is_url(NULL));
}

static void test_scrub_message(void **state)
{
    char message[256];

    (void)state;
    snprintf(message, sizeof message, "invalid port number: \"secret9@host\", again secret9");
    data_pg_scrub_message(message, "postgres://ann:secret9@host/db");
    assert_string_equal(message, "invalid port number: \"***@host\", again ***");

    snprintf(message, sizeof message, "token hunter2x seen");
    data_pg_scrub_message(message, "postgres://host/db?password=hunter2x&sslmode=require");
    assert_string_equal(message, "token *** seen");

    /* Passwords under 4 bytes would match ordinary words, so free text keeps them. */
    snprintf(message, sizeof message, "connection to server failed");
    data_pg_scrub_message(message, "postgres://ann:on@host/db");
    assert_string_equal(message, "connection to server failed");
}

static void test_kind_of_oid(void **state)
{
    static const struct {
        unsigned int oid;
        data_pg_kind kind;
    } cases[] = {
        {21, DATA_PG_INTEGER},    {23, DATA_PG_INTEGER},    {20, DATA_PG_INTEGER},
        {700, DATA_PG_FLOAT},     {701, DATA_PG_FLOAT},     {1700, DATA_PG_FLOAT},
        {16, DATA_PG_BOOL},       {1082, DATA_PG_TIMESTAMP}, {1114, DATA_PG_TIMESTAMP},
        {1184, DATA_PG_TIMESTAMP}, {25, DATA_PG_STRING},    {1043, DATA_PG_STRING},
        {1042, DATA_PG_STRING},   {19, DATA_PG_STRING},     {18, DATA_PG_STRING},
        {2950, DATA_PG_STRING},   {17, DATA_PG_UNSUPPORTED}, {114, DATA_PG_UNSUPPORTED},
        {3802, DATA_PG_UNSUPPORTED}, {1186, DATA_PG_UNSUPPORTED}, {1007, DATA_PG_UNSUPPORTED},
        {0, DATA_PG_UNSUPPORTED}, {4000000000u, DATA_PG_UNSUPPORTED},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (data_pg_kind_of(cases[i].oid) != cases[i].kind)
            fail_msg("OID %u: kind %d, expected %d", cases[i].oid,
                     (int)data_pg_kind_of(cases[i].oid), (int)cases[i].kind);
    }
    assert_string_equal(data_pg_type_name(20), "int8");
    assert_string_equal(data_pg_type_name(1184), "timestamptz");
    assert_null(data_pg_type_name(1007));
}

static void assert_parsed(data_pg_kind kind, const char *text, double expected)
{
    double value = -12345.0;

    if (data_pg_parse(kind, text, strlen(text), &value) != DATA_PG_PARSED)
        fail_msg("'%s' did not parse", text);
    if (memcmp(&value, &expected, sizeof value) != 0)
        fail_msg("'%s' parsed as %.17g, expected %.17g", text, value, expected);
}

static void assert_result(data_pg_kind kind, const char *text, data_pg_parse_result expected)
{
    double value;

    if (data_pg_parse(kind, text, strlen(text), &value) != expected)
        fail_msg("'%s': result %d, expected %d", text,
                 (int)data_pg_parse(kind, text, strlen(text), &value), (int)expected);
}

static void test_parse_integers(void **state)
{
    (void)state;
    assert_parsed(DATA_PG_INTEGER, "-32768", -32768.0);
    assert_parsed(DATA_PG_INTEGER, "2147483647", 2147483647.0);
    assert_parsed(DATA_PG_INTEGER, "9007199254740992", 9007199254740992.0);
    assert_parsed(DATA_PG_INTEGER, "-9007199254740992", -9007199254740992.0);
    assert_result(DATA_PG_INTEGER, "9007199254740993", DATA_PG_BIG_INTEGER);
    assert_result(DATA_PG_INTEGER, "-9223372036854775808", DATA_PG_BIG_INTEGER);
    assert_result(DATA_PG_INTEGER, "1.5", DATA_PG_INVALID);
}

static void test_parse_floats(void **state)
{
    char numeric[600];

    (void)state;
    assert_parsed(DATA_PG_FLOAT, "0.1", 0.1);
    assert_parsed(DATA_PG_FLOAT, "-0.0001", -0.0001);
    assert_parsed(DATA_PG_FLOAT, "1e-05", 1e-05);
    assert_parsed(DATA_PG_FLOAT, "1.7976931348623157e+308", 1.7976931348623157e+308);
    assert_parsed(DATA_PG_FLOAT, "Infinity", INFINITY);
    assert_parsed(DATA_PG_FLOAT, "-Infinity", -INFINITY);
    assert_result(DATA_PG_FLOAT, "NaN", DATA_PG_NAN);

    /* A numeric longer than 400 characters: 123 followed by 300 zeros, a point and 150 zeros. */
    memset(numeric, '0', sizeof numeric);
    memcpy(numeric, "123", 3);
    numeric[303] = '.';
    numeric[454] = '\0';
    assert_parsed(DATA_PG_FLOAT, numeric, 1.23e302);

    /* numeric goes past the double range; 1 followed by 400 zeros is not Infinity. */
    memset(numeric, '0', sizeof numeric);
    numeric[0] = '1';
    numeric[401] = '\0';
    assert_result(DATA_PG_FLOAT, numeric, DATA_PG_INVALID);
    assert_result(DATA_PG_FLOAT, "1e400", DATA_PG_INVALID);
}

static void test_parse_bools_and_timestamps(void **state)
{
    (void)state;
    assert_parsed(DATA_PG_BOOL, "t", 1.0);
    assert_parsed(DATA_PG_BOOL, "f", 0.0);
    assert_result(DATA_PG_BOOL, "true", DATA_PG_INVALID);

    /* 2024-02-29 is day 19782 after 1970-01-01: 19782 * 86400 = 1709164800. */
    assert_parsed(DATA_PG_TIMESTAMP, "2024-02-29", 1709164800.0);
    assert_parsed(DATA_PG_TIMESTAMP, "2024-02-29 13:45:30.5", 1709214330.5);
    assert_parsed(DATA_PG_TIMESTAMP, "2024-02-29 13:45:30+02", 1709207130.0);
    assert_parsed(DATA_PG_TIMESTAMP, "2024-02-29 13:45:30.25-05:30", 1709234130.25);
    assert_parsed(DATA_PG_TIMESTAMP, "1969-12-31 23:59:59+00", -1.0);
    assert_result(DATA_PG_TIMESTAMP, "infinity", DATA_PG_INVALID);
    assert_result(DATA_PG_TIMESTAMP, "-infinity", DATA_PG_INVALID);
    assert_result(DATA_PG_TIMESTAMP, "0044-03-15 BC", DATA_PG_INVALID);
    assert_result(DATA_PG_TIMESTAMP, "10000-01-01", DATA_PG_INVALID);
}

static void test_read_rejects_bad_arguments(void **state)
{
    ln_table *table = (ln_table *)&table;
    ln_error err = {0};

    (void)state;
    assert_int_equal(ln_postgres_read("mysql://ann:secret@host/db", "SELECT 1", NULL, &table, &err),
                     LN_ERR_CONFIG);
    assert_null(table);
    assert_null(strstr(err.message, "secret"));
    assert_int_equal(ln_postgres_read("postgres://ann:secret@host/db", " ; ", NULL, &table, &err),
                     LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "needs a query"));
}

static void test_read_connection_refused_hides_password(void **state)
{
    ln_table *table = NULL;
    ln_error err = {0};

    (void)state;
    /* Port 1 on the loopback address refuses connections at once. */
    ln_status status = ln_postgres_read("postgres://ann:Secret-77@127.0.0.1:1/db?connect_timeout=2",
                                        "SELECT 1", NULL, &table, &err);
    assert_int_equal(status, LN_ERR_IO);
    assert_null(table);
    assert_non_null(strstr(err.message, "postgres://ann:***@127.0.0.1:1/db"));
    assert_non_null(strstr(err.message, "cannot connect"));
    assert_null(strstr(err.message, "Secret-77"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redact_userinfo_password),
        cmocka_unit_test(test_redact_unencoded_separators),
        cmocka_unit_test(test_redact_password_parameter),
        cmocka_unit_test(test_redact_without_password),
        cmocka_unit_test(test_redact_small_buffer),
        cmocka_unit_test(test_url_scheme),
        cmocka_unit_test(test_scrub_message),
        cmocka_unit_test(test_kind_of_oid),
        cmocka_unit_test(test_parse_integers),
        cmocka_unit_test(test_parse_floats),
        cmocka_unit_test(test_parse_bools_and_timestamps),
        cmocka_unit_test(test_read_rejects_bad_arguments),
        cmocka_unit_test(test_read_connection_refused_hides_password),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
