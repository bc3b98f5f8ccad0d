#include <math.h>
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

#include "lanner/hash.h"
#include "lanner/io.h"
#include "lanner/sort.h"
#include "lanner/table.h"

static void dict_interns_each_string_once(void **state)
{
    (void)state;
    ln_dict *dict = ln_dict_new();

    assert_int_equal(ln_dict_intern(dict, "US", 2), 0);
    assert_int_equal(ln_dict_intern(dict, "CA", 2), 1);
    assert_int_equal(ln_dict_intern(dict, "US", 2), 0);
    assert_int_equal(ln_dict_intern(dict, "", 0), 2);
    assert_int_equal(ln_dict_count(dict), 3);
    assert_string_equal(ln_dict_string(dict, 1), "CA");
    assert_int_equal(ln_dict_find(dict, "CA", 2), 1);
    assert_int_equal(ln_dict_find(dict, "GB", 2), -1);
    assert_int_equal(ln_dict_find(dict, "USA", 2), 0);
    ln_dict_release(dict);
}

static void dict_survives_growth(void **state)
{
    (void)state;
    ln_dict *dict = ln_dict_new();
    char text[32];

    for (int i = 0; i < 100000; i++) {
        int length = snprintf(text, sizeof text, "value-%d", i);
        assert_int_equal(ln_dict_intern(dict, text, (size_t)length), i);
    }
    for (int i = 0; i < 100000; i += 997) {
        int length = snprintf(text, sizeof text, "value-%d", i);
        assert_int_equal(ln_dict_find(dict, text, (size_t)length), i);
        assert_string_equal(ln_dict_string(dict, i), text);
    }
    ln_dict_release(dict);
}

static ln_table *small_table(void)
{
    ln_error err = {0};
    ln_table *table = ln_table_new(3);
    ln_column *amount = ln_table_add_column(table, "amount", LN_TYPE_FLOAT, &err);
    amount->values[0] = 1.5;
    amount->values[2] = -2;
    ln_column *country = ln_table_add_column(table, "country", LN_TYPE_CATEGORY, &err);
    country->codes[0] = ln_dict_intern(country->dict, "US", 2);
    country->codes[1] = ln_dict_intern(country->dict, "C,A", 3);
    return table;
}

static void table_rejects_duplicate_and_empty_names(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_table *table = small_table();

    assert_null(ln_table_add_column(table, "amount", LN_TYPE_INT, &err));
    assert_int_equal(err.status, LN_ERR_DATA);
    assert_non_null(strstr(err.message, "duplicate column name 'amount'"));
    assert_null(ln_table_add_column(table, "", LN_TYPE_INT, &err));
    assert_non_null(strstr(err.message, "empty name"));
    assert_int_equal(table->n_cols, 2);
    ln_table_free(table);
}

static void table_take_rows_keeps_values(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_table *table = small_table();
    size_t rows[] = {2, 0};

    ln_table *subset = ln_table_take_rows(table, rows, 2, &err);
    assert_non_null(subset);
    assert_int_equal(subset->n_rows, 2);
    assert_true(subset->cols[0].values[0] == -2);
    assert_true(subset->cols[0].values[1] == 1.5);
    assert_true(ln_column_is_missing(&subset->cols[1], 0));
    assert_string_equal(ln_dict_string(subset->cols[1].dict, subset->cols[1].codes[1]), "US");

    /* The subset shares the dictionary and outlives the source. */
    ln_table_free(table);
    assert_string_equal(ln_dict_string(subset->cols[1].dict, subset->cols[1].codes[1]), "US");
    ln_table_free(subset);
}

static void column_format_each_type(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_table *table = ln_table_new(1);
    char text[64];

    ln_column *f = ln_table_add_column(table, "f", LN_TYPE_FLOAT, &err);
    f->values[0] = 0.1;
    ln_column_format(f, 0, text, sizeof text);
    assert_string_equal(text, "0.1");
    f->values[0] = -INFINITY;
    ln_column_format(f, 0, text, sizeof text);
    assert_string_equal(text, "-inf");

    ln_column *i = ln_table_add_column(table, "i", LN_TYPE_INT, &err);
    i->values[0] = 9007199254740992.0;
    ln_column_format(i, 0, text, sizeof text);
    assert_string_equal(text, "9007199254740992");

    ln_column *t = ln_table_add_column(table, "t", LN_TYPE_TIMESTAMP, &err);
    t->values[0] = 1767225600; /* 2026-01-01T00:00:00Z */
    ln_column_format(t, 0, text, sizeof text);
    assert_string_equal(text, "2026-01-01");
    t->values[0] = 1767225600 + 3661;
    ln_column_format(t, 0, text, sizeof text);
    assert_string_equal(text, "2026-01-01T01:01:01Z");

    ln_column *b = ln_table_add_column(table, "b", LN_TYPE_BOOL, &err);
    ln_column_format(b, 0, text, sizeof text);
    assert_string_equal(text, "");
    ln_table_free(table);
}

static void table_hash_ignores_dictionary_order(void **state)
{
    (void)state;
    ln_error err = {0};
    char first[LN_HASH_HEX_SIZE], second[LN_HASH_HEX_SIZE];
    ln_table *a = ln_table_new(2);
    ln_table *b = ln_table_new(2);
    ln_column *ca = ln_table_add_column(a, "c", LN_TYPE_CATEGORY, &err);
    ln_column *cb = ln_table_add_column(b, "c", LN_TYPE_CATEGORY, &err);

    /* Same values, dictionaries filled in opposite orders. */
    ln_dict_intern(cb->dict, "y", 1);
    ca->codes[0] = ln_dict_intern(ca->dict, "x", 1);
    ca->codes[1] = ln_dict_intern(ca->dict, "y", 1);
    cb->codes[0] = ln_dict_intern(cb->dict, "x", 1);
    cb->codes[1] = ln_dict_intern(cb->dict, "y", 1);
    ln_hash_table(a, first);
    ln_hash_table(b, second);
    assert_string_equal(first, second);
    assert_int_equal(strlen(first), 32);

    cb->codes[1] = LN_MISSING_CODE;
    ln_hash_table(b, second);
    assert_string_not_equal(first, second);
    ln_table_free(a);
    ln_table_free(b);
}

static void write_csv_round_trips_quotes(void **state)
{
    (void)state;
    ln_error err = {0};
    char dir[] = "/tmp/lanner-core-XXXXXX";
    char path[256];
    char *text = NULL;
    size_t size = 0;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.csv", dir);
    ln_table *table = small_table();
    assert_int_equal(ln_table_write_csv(table, path, &err), LN_OK);
    assert_int_equal(ln_read_file(path, 1 << 20, &text, &size, &err), LN_OK);
    assert_string_equal(text, "amount,country\n1.5,US\n,\"C,A\"\n-2,\n");
    free(text);
    ln_table_free(table);
    unlink(path);
    rmdir(dir);
}

static void read_file_reports_missing_and_limit(void **state)
{
    (void)state;
    ln_error err = {0};
    char *text = NULL;
    size_t size = 0;
    char dir[] = "/tmp/lanner-core-XXXXXX";
    char path[256];

    assert_int_equal(ln_read_file("/nonexistent/file.yaml", 100, &text, &size, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "/nonexistent/file.yaml"));

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/a.txt", dir);
    assert_int_equal(ln_write_file_atomic(path, "0123456789", 10, &err), LN_OK);
    assert_int_equal(ln_read_file(path, 5, &text, &size, &err), LN_ERR_LIMIT);
    assert_int_equal(ln_read_file(path, 10, &text, &size, &err), LN_OK);
    assert_int_equal(size, 10);
    assert_string_equal(text, "0123456789");
    free(text);
    unlink(path);
    rmdir(dir);
}

static void atomic_write_keeps_devices(void **state)
{
    (void)state;
    ln_error err = {0};
    struct stat info;
    char dir[] = "/tmp/lanner-core-XXXXXX";

    /* Renaming a temporary file over /dev/null would replace the device for the whole machine. */
    assert_int_equal(ln_write_file_atomic("/dev/null", "x", 1, &err), LN_OK);
    assert_int_equal(stat("/dev/null", &info), 0);
    assert_true(S_ISCHR(info.st_mode));

    assert_non_null(mkdtemp(dir));
    assert_int_equal(ln_write_file_atomic(dir, "x", 1, &err), LN_ERR_IO);
    assert_non_null(strstr(err.message, "is a folder"));
    rmdir(dir);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static void sort_doubles_orders_and_moves_labels(void **state)
{
    (void)state;
    double values[] = {3.5, -INFINITY, 0.0, -2.0, INFINITY, -0.0, 3.5, 1e-300, -1e300, 2.0};
    unsigned char labels[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    double scratch[10];
    unsigned char label_scratch[10];

    ln_sort_doubles(values, scratch, labels, label_scratch, 10);

    double expected[] = {-INFINITY, -1e300, -2.0, -0.0, 0.0, 1e-300, 2.0, 3.5, 3.5, INFINITY};
    unsigned char expected_labels[] = {1, 8, 3, 5, 2, 7, 9, 0, 6, 4};
    for (int i = 0; i < 10; i++) {
        assert_true(values[i] == expected[i]);
        assert_int_equal(labels[i], expected_labels[i]);
    }
    assert_true(signbit(values[3]));
    assert_false(signbit(values[4]));
}

static void sort_doubles_matches_qsort(void **state)
{
    (void)state;
    size_t n = 5000;
    double *values = malloc(n * sizeof *values);
    double *copy = malloc(n * sizeof *copy);
    double *scratch = malloc(n * sizeof *scratch);
    uint64_t x = 12345;

    /* Values of every magnitude and sign, with repeats, from a fixed linear congruential sequence. */
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double mantissa = (double)(x >> 11) * 0x1.0p-53;
        int exponent = (int)((x >> 3) % 80) - 40;
        values[i] = ((x & 1) ? -1 : 1) * ldexp(mantissa, exponent);
        if (i % 7 == 0)
            values[i] = values[i / 2];
        copy[i] = values[i];
    }

    ln_sort_doubles(values, scratch, NULL, NULL, n);
    qsort(copy, n, sizeof *copy, compare_doubles);
    for (size_t i = 0; i < n; i++)
        assert_true(values[i] == copy[i]);

    free(values);
    free(copy);
    free(scratch);
}

static void status_maps_to_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(ln_status_exit_code(LN_OK), 0);
    assert_int_equal(ln_status_exit_code(LN_ERR_IO), 1);
    assert_int_equal(ln_status_exit_code(LN_ERR_CORRUPT), 1);
    assert_int_equal(ln_status_exit_code(LN_ERR_CONFIG), 2);
    assert_int_equal(ln_status_exit_code(LN_ERR_NOT_FOUND), 2);
    assert_int_equal(ln_status_exit_code(LN_ERR_LIMIT), 2);
    assert_int_equal(ln_status_exit_code(LN_ERR_CHECK_FAILED), 3);
}

static void error_prefix_keeps_status(void **state)
{
    (void)state;
    ln_error err = {0};

    ln_error_set(&err, LN_ERR_PARSE, "line %d: bad", 4);
    assert_int_equal(ln_error_prefix(&err, "%s", "orders.csv"), LN_ERR_PARSE);
    assert_string_equal(err.message, "orders.csv: line 4: bad");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dict_interns_each_string_once),
        cmocka_unit_test(dict_survives_growth),
        cmocka_unit_test(table_rejects_duplicate_and_empty_names),
        cmocka_unit_test(table_take_rows_keeps_values),
        cmocka_unit_test(column_format_each_type),
        cmocka_unit_test(table_hash_ignores_dictionary_order),
        cmocka_unit_test(write_csv_round_trips_quotes),
        cmocka_unit_test(read_file_reports_missing_and_limit),
        cmocka_unit_test(atomic_write_keeps_devices),
        cmocka_unit_test(sort_doubles_orders_and_moves_labels),
        cmocka_unit_test(sort_doubles_matches_qsort),
        cmocka_unit_test(status_maps_to_exit_codes),
        cmocka_unit_test(error_prefix_keeps_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
