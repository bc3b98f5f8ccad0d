/*
 * Tests of the demo warehouse generator: shape and types of the orders
 * table, fraud and country-mismatch rates, drift, determinism per seed and
 * the atomic replacement of an existing file.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lanner/demo.h"

/* ---- fixture: one default warehouse shared by the read-only tests ---- */

typedef struct fixture {
    char dir[64];
    char default_db[128]; /* 200,000 orders, seed 7 */
    sqlite3 *db;
} fixture;

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup_group(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    ln_error err = {0};

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lanner-demo-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->default_db, sizeof f->default_db, "%s/demo.db", f->dir);

    if (ln_demo_generate(f->default_db, NULL, &err) != LN_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    if (sqlite3_open_v2(f->default_db, &f->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown_group(void **state)
{
    fixture *f = *state;

    sqlite3_close(f->db);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static double query_double(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *statement = NULL;
    double value;

    if (sqlite3_prepare_v2(db, sql, -1, &statement, NULL) != SQLITE_OK) {
        print_error("%s: %s\n", sql, sqlite3_errmsg(db));
        fail();
    }
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    value = sqlite3_column_double(statement, 0);
    sqlite3_finalize(statement);
    return value;
}

static long long query_integer(sqlite3 *db, const char *sql)
{
    return (long long)query_double(db, sql);
}

static void assert_between(double value, double low, double high, const char *quantity)
{
    if (value >= low && value <= high)
        return;
    print_error("%s = %.6f, expected between %.6f and %.6f\n", quantity, value, low, high);
    fail();
}

/* FNV-1a over every value of every row, in order_id order, with separators. */
static uint64_t hash_rows(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;
    uint64_t hash = 0xcbf29ce484222325ull;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM orders ORDER BY order_id", -1, &statement, NULL),
                     SQLITE_OK);
    while (sqlite3_step(statement) == SQLITE_ROW) {
        for (int column = 0; column < sqlite3_column_count(statement); column++) {
            const unsigned char *text = sqlite3_column_text(statement, column);
            for (const unsigned char *c = text; c != NULL && *c != '\0'; c++)
                hash = (hash ^ *c) * 0x100000001b3ull;
            hash = (hash ^ (text == NULL ? 0xfe : 0xff)) * 0x100000001b3ull;
        }
    }
    sqlite3_finalize(statement);
    sqlite3_close(db);
    return hash;
}

static void generate(const char *path, size_t n_orders, uint64_t seed)
{
    ln_demo_options options = {n_orders, seed};
    ln_error err = {0};

    if (ln_demo_generate(path, &options, &err) != LN_OK) {
        print_error("generate %s: %s\n", path, err.message);
        fail();
    }
}

/* ---- shape ---- */

static void default_has_200000_ordered_rows(void **state)
{
    fixture *f = *state;

    assert_int_equal(query_integer(f->db, "SELECT count(*) FROM orders"), 200000);
    assert_int_equal(query_integer(f->db, "SELECT min(order_id) FROM orders"), 1);
    assert_int_equal(query_integer(f->db, "SELECT max(order_id) FROM orders"), 200000);
    /* order_id follows created_at. */
    assert_int_equal(query_integer(f->db,
                                   "SELECT count(*) FROM orders a JOIN orders b"
                                   " ON b.order_id = a.order_id + 1 WHERE b.created_at < a.created_at"),
                     0);
}

static void columns_have_expected_types(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *column;
        const char *types; /* distinct typeof() values, sorted, joined by ',' */
    } expected[] = {
        {"order_id", "integer"},
        {"created_at", "text"},
        {"customer_email", "text"},
        {"amount", "real"},
        {"billing_country", "text"},
        {"shipping_country", "text"},
        {"payment_method", "text"},
        {"account_age_days", "integer,null"},
        {"orders_last_24h", "integer"},
        {"hour", "integer"},
        {"device", "text"},
        {"email_domain_free", "integer"},
        {"is_fraud", "integer"},
    };
    char sql[256];
    sqlite3_stmt *statement = NULL;

    assert_int_equal(query_integer(f->db, "SELECT count(*) FROM pragma_table_info('orders')"),
                     sizeof expected / sizeof expected[0]);

    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT group_concat(t, ',') FROM"
                 " (SELECT DISTINCT typeof(%s) AS t FROM orders ORDER BY t)",
                 expected[i].column);
        assert_int_equal(sqlite3_prepare_v2(f->db, sql, -1, &statement, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
        const char *types = (const char *)sqlite3_column_text(statement, 0);
        if (types == NULL || strcmp(types, expected[i].types) != 0) {
            print_error("column %s has types %s, expected %s\n", expected[i].column,
                        types != NULL ? types : "(none)", expected[i].types);
            sqlite3_finalize(statement);
            fail();
        }
        sqlite3_finalize(statement);
    }
}

static void values_lie_in_their_domains(void **state)
{
    fixture *f = *state;

    assert_int_equal(query_integer(f->db, "SELECT count(*) FROM orders WHERE created_at NOT GLOB"
                                          " '2026-0[1-7]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]'"),
                     0);
    assert_int_equal(query_integer(f->db, "SELECT count(*) FROM orders WHERE created_at < '2026-01-01'"
                                          " OR created_at > '2026-07-31 23:59:59'"),
                     0);
    assert_int_equal(query_integer(f->db, "SELECT count(*) FROM orders WHERE datetime(created_at) IS NULL"
                                          " OR datetime(created_at) != created_at"),
                     0);
    assert_int_equal(query_integer(f->db,
                                   "SELECT count(*) FROM orders WHERE hour != CAST(substr(created_at, 12, 2) AS INTEGER)"),
                     0);
    /* Money: positive, whole cents. */
    assert_int_equal(query_integer(f->db, "SELECT count(*) FROM orders WHERE amount < 1 OR amount > 10000"
                                          " OR abs(amount * 100 - round(amount * 100)) > 1e-6"),
                     0);
    assert_int_equal(query_integer(f->db, "SELECT count(DISTINCT billing_country) FROM orders"), 15);
    assert_int_equal(query_integer(f->db, "SELECT count(*) FROM orders WHERE payment_method NOT IN"
                                          " ('card', 'paypal', 'gift_card', 'bank_transfer', 'bnpl')"),
                     0);
    assert_int_equal(query_integer(f->db, "SELECT count(*) FROM orders WHERE device NOT IN"
                                          " ('mobile', 'desktop', 'tablet')"),
                     0);
    assert_int_equal(query_integer(f->db, "SELECT count(*) FROM orders WHERE email_domain_free NOT IN (0, 1)"
                                          " OR is_fraud NOT IN (0, 1) OR customer_email NOT LIKE '%_@_%._%'"
                                          " OR account_age_days < 0 OR orders_last_24h < 0"),
                     0);
    assert_between(query_double(f->db, "SELECT avg(account_age_days IS NULL) FROM orders"), 0.03, 0.10,
                    "share of guest checkouts");
    assert_between(query_double(f->db, "SELECT count(DISTINCT customer_email) FROM orders"), 60000, 150000,
                    "distinct emails");
}

/* ---- fraud signals ---- */

static void fraud_rate_in_range(void **state)
{
    fixture *f = *state;

    assert_between(query_double(f->db, "SELECT avg(is_fraud) FROM orders"), 0.015, 0.025, "fraud rate");
}

static void country_mismatch_is_weak_signal(void **state)
{
    fixture *f = *state;

    assert_between(query_double(f->db, "SELECT avg(billing_country != shipping_country) FROM orders"
                                        " WHERE is_fraud = 0"),
                    0.06, 0.10, "mismatch rate among good orders");
    assert_between(query_double(f->db, "SELECT avg(billing_country != shipping_country) FROM orders"
                                        " WHERE is_fraud = 1"),
                    0.25, 0.45, "mismatch rate among frauds");
}

static void fraud_signals_point_the_right_way(void **state)
{
    fixture *f = *state;
    static const char *const signals[] = {
        "account_age_days IS NULL OR account_age_days < 3",
        "amount > 200",
        "hour < 6",
        "payment_method = 'gift_card'",
        "orders_last_24h >= 2",
        "device = 'desktop'",
        "email_domain_free = 1",
    };
    char sql[256];

    /* Orders with each signal have at least 1.5 times the fraud rate of orders without it. */
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT avg(CASE WHEN %s THEN is_fraud END) / avg(CASE WHEN NOT (%s) THEN is_fraud END)"
                 " FROM orders",
                 signals[i], signals[i]);
        assert_between(query_double(f->db, sql), 1.5, 100.0, signals[i]);
    }
}

static void later_months_drift(void **state)
{
    fixture *f = *state;
    double early = query_double(f->db, "SELECT avg(is_fraud) FROM orders WHERE created_at < '2026-05-01'");
    double late = query_double(f->db, "SELECT avg(is_fraud) FROM orders WHERE created_at >= '2026-06-15'");

    assert_between(late / early, 1.1, 2.0, "fraud rate of late June-July over January-April");
    assert_int_equal(query_integer(f->db, "SELECT count(*) FROM orders WHERE payment_method = 'bnpl'"
                                          " AND created_at < '2026-05-01'"),
                     0);
    assert_between(query_double(f->db, "SELECT avg(payment_method = 'bnpl') FROM orders"
                                        " WHERE created_at >= '2026-06-01'"),
                    0.05, 0.20, "bnpl share from June");
}

/* ---- determinism and files ---- */

static void same_seed_same_rows(void **state)
{
    fixture *f = *state;
    char first[160];
    char second[160];
    char other_seed[160];

    snprintf(first, sizeof first, "%s/first.db", f->dir);
    snprintf(second, sizeof second, "%s/second.db", f->dir);
    snprintf(other_seed, sizeof other_seed, "%s/other.db", f->dir);
    generate(first, 5000, 42);
    generate(second, 5000, 42);
    generate(other_seed, 5000, 43);

    assert_true(hash_rows(first) == hash_rows(second));
    assert_true(hash_rows(first) != hash_rows(other_seed));
}

static void seed_zero_is_valid(void **state)
{
    fixture *f = *state;
    char path[160];
    sqlite3 *db = NULL;

    snprintf(path, sizeof path, "%s/zero.db", f->dir);
    generate(path, 1, 0);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_integer(db, "SELECT count(*) FROM orders"), 1);
    sqlite3_close(db);
}

static void replaces_existing_file_and_stale_log(void **state)
{
    fixture *f = *state;
    char path[160];
    char wal[176];
    FILE *file;
    sqlite3 *db = NULL;

    snprintf(path, sizeof path, "%s/replace.db", f->dir);
    snprintf(wal, sizeof wal, "%s-wal", path);
    file = fopen(path, "w");
    assert_non_null(file);
    fputs("an old file that is not a database", file);
    fclose(file);
    file = fopen(wal, "w");
    assert_non_null(file);
    fputs("a stale write-ahead log", file);
    fclose(file);

    generate(path, 100, 1);
    assert_int_equal(access(wal, F_OK), -1);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(query_integer(db, "SELECT count(*) FROM orders"), 100);
    sqlite3_close(db);
}

static void bad_options_rejected(void **state)
{
    fixture *f = *state;
    ln_demo_options none = {0, 7};
    ln_demo_options too_many = {LN_DEMO_MAX_ORDERS + 1, 7};
    char path[160];
    char missing[160];
    ln_error err = {0};

    snprintf(path, sizeof path, "%s/bad.db", f->dir);
    assert_int_equal(ln_demo_generate(path, &none, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "0 orders"));
    assert_int_equal(ln_demo_generate(path, &too_many, &err), LN_ERR_CONFIG);
    assert_int_equal(ln_demo_generate("", NULL, &err), LN_ERR_CONFIG);
    assert_int_equal(access(path, F_OK), -1);

    snprintf(missing, sizeof missing, "%s/no/such/folder/demo.db", f->dir);
    assert_int_equal(ln_demo_generate(missing, NULL, &err), LN_ERR_IO);
    assert_non_null(strstr(err.message, missing));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_has_200000_ordered_rows),
        cmocka_unit_test(columns_have_expected_types),
        cmocka_unit_test(values_lie_in_their_domains),
        cmocka_unit_test(fraud_rate_in_range),
        cmocka_unit_test(country_mismatch_is_weak_signal),
        cmocka_unit_test(fraud_signals_point_the_right_way),
        cmocka_unit_test(later_months_drift),
        cmocka_unit_test(same_seed_same_rows),
        cmocka_unit_test(seed_zero_is_valid),
        cmocka_unit_test(replaces_existing_file_and_stale_log),
        cmocka_unit_test(bad_options_rejected),
    };

    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
