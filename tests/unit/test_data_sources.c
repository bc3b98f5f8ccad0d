/* Data loaders end to end: compressed files, thread-count invariance, SQLite and the shared data sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <zlib.h>
#include <zstd.h>

#include "data/data_internal.h"
#include "lanner/data.h"

static char temp_dir[64];

static int make_temp_dir(void **state)
{
    (void)state;
    snprintf(temp_dir, sizeof temp_dir, "/tmp/lanner-data-test-XXXXXX");
    return mkdtemp(temp_dir) == NULL ? -1 : 0;
}

static int remove_temp_dir(void **state)
{
    (void)state;
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", temp_dir);
    return system(command) == 0 ? 0 : -1;
}

static void temp_path(char *buffer, size_t capacity, const char *name)
{
    snprintf(buffer, capacity, "%s/%s", temp_dir, name);
}

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, size, file), size);
    assert_int_equal(fclose(file), 0);
}

/* Asserts two tables hold the same columns, types, values (bit for bit) and dictionaries. */
static void assert_tables_equal(const ln_table *a, const ln_table *b)
{
    assert_int_equal(a->n_rows, b->n_rows);
    assert_int_equal(a->n_cols, b->n_cols);
    for (size_t c = 0; c < a->n_cols; c++) {
        const ln_column *x = &a->cols[c];
        const ln_column *y = &b->cols[c];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->type, y->type);
        if (ln_type_is_numeric(x->type)) {
            assert_memory_equal(x->values, y->values, a->n_rows * sizeof(double));
            continue;
        }
        assert_memory_equal(x->codes, y->codes, a->n_rows * sizeof(int32_t));
        assert_int_equal(ln_dict_count(x->dict), ln_dict_count(y->dict));
        for (int32_t code = 0; code < ln_dict_count(x->dict); code++)
            assert_string_equal(ln_dict_string(x->dict, code), ln_dict_string(y->dict, code));
    }
}

static const char small_csv[] = "id,name,amount\n1,ann,2.5\n2,\"bob, jr\",NA\n3,cy,-1\n";

static void check_small_table(const ln_table *table)
{
    assert_int_equal(table->n_rows, 3);
    assert_int_equal(table->cols[0].type, LN_TYPE_INT);
    assert_int_equal(table->cols[1].type, LN_TYPE_CATEGORY);
    assert_string_equal(ln_dict_string(table->cols[1].dict, table->cols[1].codes[1]), "bob, jr");
    assert_true(table->cols[2].values[0] == 2.5);
    assert_true(isnan(table->cols[2].values[1]));
}

static void test_plain_file(void **state)
{
    (void)state;
    char path[128];
    temp_path(path, sizeof path, "small.csv");
    write_file(path, small_csv, strlen(small_csv));

    ln_table *table = NULL;
    ln_error err = {0};
    assert_int_equal(ln_csv_read(path, NULL, &table, &err), LN_OK);
    check_small_table(table);
    ln_table_free(table);
}

static void test_gzip_round_trip(void **state)
{
    (void)state;
    char path[128];
    temp_path(path, sizeof path, "small.csv.gz");
    gzFile file = gzopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(gzwrite(file, small_csv, (unsigned)strlen(small_csv)), (int)strlen(small_csv));
    assert_int_equal(gzclose(file), Z_OK);

    ln_table *table = NULL;
    ln_error err = {0};
    assert_int_equal(ln_csv_read(path, NULL, &table, &err), LN_OK);
    check_small_table(table);
    ln_table_free(table);
}

static void test_gzip_truncated(void **state)
{
    (void)state;
    char path[128];
    temp_path(path, sizeof path, "whole.csv.gz");
    gzFile file = gzopen(path, "wb");
    for (int i = 0; i < 2000; i++)
        gzprintf(file, "%d,%d\n", i, i * 7);
    gzclose(file);

    FILE *whole = fopen(path, "rb");
    char buffer[8192];
    size_t size = fread(buffer, 1, sizeof buffer, whole);
    fclose(whole);
    temp_path(path, sizeof path, "cut.csv.gz");
    write_file(path, buffer, size / 2);

    ln_table *table = NULL;
    ln_error err = {0};
    assert_int_equal(ln_csv_read(path, NULL, &table, &err), LN_ERR_CORRUPT);
    assert_null(table);
    assert_non_null(strstr(err.message, "cut.csv.gz: gzip data ends early"));
}

static void test_zstd_round_trip(void **state)
{
    (void)state;
    char path[128];
    size_t bound = ZSTD_compressBound(sizeof small_csv);
    char *compressed = malloc(bound);
    size_t size = ZSTD_compress(compressed, bound, small_csv, strlen(small_csv), 3);
    assert_false(ZSTD_isError(size));
    temp_path(path, sizeof path, "small.csv.zst");
    write_file(path, compressed, size);
    free(compressed);

    ln_table *table = NULL;
    ln_error err = {0};
    assert_int_equal(ln_csv_read(path, NULL, &table, &err), LN_OK);
    check_small_table(table);
    ln_table_free(table);
}

static void test_missing_file(void **state)
{
    (void)state;
    ln_table *table = NULL;
    ln_error err = {0};
    assert_int_equal(ln_csv_read("/nonexistent/x.csv", NULL, &table, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "/nonexistent/x.csv: cannot open"));
}

/* ---- thread-count invariance ---- */

static uint64_t lcg_state;

static uint32_t next_random(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(lcg_state >> 33);
}

#define GENERATED_ROWS 120000

/*
 * About 4 MB of CSV: integers, floats with missing values, quoted notes that
 * hold line breaks, commas and doubled quotes, categories, timestamps,
 * booleans, a column with two strings among numbers (reread as text), and a
 * blank line every 1000 rows.
 */
static char *generate_csv(size_t *size_out)
{
    size_t capacity = (size_t)GENERATED_ROWS * 160 + 256;
    char *text = malloc(capacity);
    size_t used = (size_t)snprintf(text, capacity, "id,amount,note,kind,when,flag,mixed\r\n");

    lcg_state = 42;
    for (size_t row = 0; row < GENERATED_ROWS; row++) {
        uint32_t r = next_random();
        used += (size_t)snprintf(text + used, capacity - used, "%zu,", row);
        if (r % 17 == 0)
            used += (size_t)snprintf(text + used, capacity - used, ",");
        else
            used += (size_t)snprintf(text + used, capacity - used, "%u.%02u,", r % 100000, r % 100);
        switch (next_random() % 4) {
        case 0:
            used += (size_t)snprintf(text + used, capacity - used, "\"line %u\nnext, \"\"q\"\"\n\",", r % 1000);
            break;
        case 1:
            used += (size_t)snprintf(text + used, capacity - used, "\"a\r\nb\",");
            break;
        case 2:
            used += (size_t)snprintf(text + used, capacity - used, "plain %u,", r % 5000);
            break;
        default:
            used += (size_t)snprintf(text + used, capacity - used, "\"\",");
        }
        used += (size_t)snprintf(text + used, capacity - used, "k%u,2021-%02u-%02uT%02u:00:00Z,%s,",
                                 r % 20, 1 + r % 12, 1 + r % 28, r % 24, r % 3 ? "true" : "false");
        if (row == 15000 || row == 31000)
            used += (size_t)snprintf(text + used, capacity - used, "x%zu", row);
        else
            used += (size_t)snprintf(text + used, capacity - used, "%u", r % 1000);
        used += (size_t)snprintf(text + used, capacity - used, row % 3 ? "\n" : "\r\n");
        if (row % 1000 == 999)
            used += (size_t)snprintf(text + used, capacity - used, "\n");
    }
    *size_out = used;
    return text;
}

static ln_table *parse_generated(const char *text, size_t size, int threads, size_t chunk_bytes)
{
    ln_load_options options;
    ln_load_options_default(&options);
    options.threads = threads;
    ln_table *table = NULL;
    ln_error err = {0};

    if (data_csv_parse(text, size, "gen.csv", &options, chunk_bytes, &table, &err) != LN_OK)
        fail_msg("unexpected error: %s", err.message);
    return table;
}

static void test_thread_count_invariance(void **state)
{
    (void)state;
    size_t size;
    char *text = generate_csv(&size);
    ln_table *reference = parse_generated(text, size, 1, 0);

    assert_int_equal(reference->n_rows, GENERATED_ROWS);
    assert_int_equal(reference->cols[0].type, LN_TYPE_INT);
    assert_int_equal(reference->cols[1].type, LN_TYPE_FLOAT);
    /* About 6000 distinct notes in 40000 rows pass both category limits. */
    assert_int_equal(reference->cols[2].type, LN_TYPE_TEXT);
    assert_int_equal(reference->cols[3].type, LN_TYPE_CATEGORY);
    assert_int_equal(reference->cols[4].type, LN_TYPE_TIMESTAMP);
    assert_int_equal(reference->cols[5].type, LN_TYPE_BOOL);
    assert_int_equal(reference->cols[6].type, LN_TYPE_CATEGORY);
    assert_true(reference->cols[0].values[GENERATED_ROWS - 1] == GENERATED_ROWS - 1);
    const ln_column *mixed = &reference->cols[6];
    assert_string_equal(ln_dict_string(mixed->dict, mixed->codes[15000]), "x15000");
    assert_string_equal(ln_dict_string(mixed->dict, mixed->codes[31000]), "x31000");

    /* Small chunks put many chunk borders inside the quoted notes' line breaks. */
    const struct { int threads; size_t chunk_bytes; } runs[] = {
        {2, 0}, {2, 4096}, {3, 10007}, {4, 65536}, {1, 777},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        ln_table *table = parse_generated(text, size, runs[i].threads, runs[i].chunk_bytes);
        assert_tables_equal(reference, table);
        ln_table_free(table);
    }

    /* From a file, parsed pages are dropped and the mixed column's second pass reads them back. */
    char path[128];
    temp_path(path, sizeof path, "generated.csv");
    write_file(path, text, size);
    ln_load_options options;
    ln_load_options_default(&options);
    options.threads = 2;
    ln_table *table = NULL;
    ln_error err = {0};
    assert_int_equal(ln_csv_read(path, &options, &table, &err), LN_OK);
    assert_tables_equal(reference, table);
    ln_table_free(table);

    ln_table_free(reference);
    free(text);
}

static void test_error_same_for_any_thread_count(void **state)
{
    (void)state;
    size_t size;
    char *text = generate_csv(&size);
    ln_load_options options;
    ln_load_options_default(&options);
    char first[LN_ERROR_MESSAGE_MAX] = "";

    /* Break one record in the last quarter: drop the delimiter before the last field. */
    char *record = text + size * 3 / 4;
    record = strstr(record, "Z,true,");
    assert_non_null(record);
    record[1] = ' ';

    const size_t chunk_sizes[] = {0, 4096, 100000};
    for (size_t i = 0; i < 3; i++) {
        ln_table *table = NULL;
        ln_error err = {0};
        options.threads = i == 0 ? 1 : 3;
        assert_int_equal(data_csv_parse(text, size, "gen.csv", &options, chunk_sizes[i], &table, &err),
                         LN_ERR_PARSE);
        assert_non_null(strstr(err.message, "expected 7 fields, found 6"));
        if (i == 0)
            snprintf(first, sizeof first, "%s", err.message);
        else
            assert_string_equal(err.message, first);
    }
    free(text);
}

/* Applies one random edit that may break the CSV: a quote, a delimiter, a line break or a deletion. */
static void mutate(char *text, size_t *size)
{
    static const char inserts[] = {'"', ',', '\n', '\r', 'x'};
    size_t at = next_random() % (*size + 1);
    uint32_t kind = next_random() % 6;

    if (kind == 5) {
        if (at < *size) {
            memmove(text + at, text + at + 1, *size - at - 1);
            (*size)--;
        }
        return;
    }
    memmove(text + at + 1, text + at, *size - at);
    text[at] = inserts[kind];
    (*size)++;
}

static void test_chunked_parse_matches_serial_on_damaged_input(void **state)
{
    (void)state;
    const char base[] = "a,b,c\n1,\"x\ny\",2\n\"q\"\"r\",,3\n4,\"s,t\",5\n6,u,\"\n\"\n7,v,8\n";
    ln_load_options serial;
    ln_load_options_default(&serial);
    serial.threads = 1;
    ln_load_options chunked = serial;
    chunked.threads = 3;
    char text[256];

    /* Every damaged input gives the same table or the same first error with tiny chunks. */
    lcg_state = 7;
    for (int trial = 0; trial < 3000; trial++) {
        size_t size = sizeof base - 1;
        memcpy(text, base, size);
        for (uint32_t edits = 1 + next_random() % 3; edits > 0; edits--)
            mutate(text, &size);

        ln_table *expected = NULL;
        ln_table *actual = NULL;
        ln_error expected_err = {0};
        ln_error actual_err = {0};
        ln_status expected_status =
            data_csv_parse(text, size, "m.csv", &serial, 0, &expected, &expected_err);
        size_t chunk_bytes = 1 + next_random() % 8;
        ln_status actual_status =
            data_csv_parse(text, size, "m.csv", &chunked, chunk_bytes, &actual, &actual_err);

        assert_int_equal(actual_status, expected_status);
        if (expected_status == LN_OK)
            assert_tables_equal(expected, actual);
        else
            assert_string_equal(actual_err.message, expected_err.message);
        ln_table_free(expected);
        ln_table_free(actual);
    }
}

/* ---- SQLite ---- */

static void create_database(const char *path)
{
    sqlite3 *db = NULL;
    char *message = NULL;
    const char *script =
        "CREATE TABLE t (id INTEGER, amount REAL, name TEXT, day TEXT, flag TEXT, mixed, empty, "
        "picture BLOB, big INTEGER);"
        "INSERT INTO t VALUES (1, 2.5, 'ann', '2020-01-02', 'true', 1, NULL, x'00ff', 9007199254740993);"
        "INSERT INTO t VALUES (2, 3, 'bob', '2020-01-03 10:00', 'false', 'abc', NULL, NULL, 5);"
        "INSERT INTO t VALUES (3, NULL, 'ann', NULL, 'NA', 2.5, NULL, NULL, 6);";

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, script, NULL, NULL, &message) != SQLITE_OK)
        fail_msg("sqlite: %s", message);
    sqlite3_close(db);
}

static void test_sqlite_types(void **state)
{
    (void)state;
    char path[128];
    temp_path(path, sizeof path, "db.sqlite");
    create_database(path);

    ln_table *table = NULL;
    ln_error err = {0};
    assert_int_equal(ln_sqlite_read(path, "SELECT id, amount, name, day, flag, mixed, empty, big "
                                          "FROM t ORDER BY id",
                                    NULL, &table, &err),
                     LN_OK);
    assert_int_equal(table->n_rows, 3);
    assert_int_equal(table->cols[0].type, LN_TYPE_INT);
    assert_true(table->cols[0].values[2] == 3.0);
    assert_int_equal(table->cols[1].type, LN_TYPE_FLOAT);
    assert_true(table->cols[1].values[1] == 3.0);
    assert_true(isnan(table->cols[1].values[2]));
    assert_int_equal(table->cols[2].type, LN_TYPE_CATEGORY);
    assert_string_equal(ln_dict_string(table->cols[2].dict, table->cols[2].codes[2]), "ann");
    assert_int_equal(table->cols[2].codes[2], 0);
    assert_int_equal(table->cols[3].type, LN_TYPE_TIMESTAMP);
    assert_true(table->cols[3].values[0] == 1577923200.0);
    assert_true(table->cols[3].values[1] == 1577923200.0 + 86400.0 + 36000.0);
    assert_true(isnan(table->cols[3].values[2]));
    assert_int_equal(table->cols[4].type, LN_TYPE_BOOL);
    assert_true(table->cols[4].values[0] == 1.0);
    assert_true(isnan(table->cols[4].values[2]));
    assert_int_equal(table->cols[5].type, LN_TYPE_CATEGORY);
    assert_string_equal(ln_dict_string(table->cols[5].dict, table->cols[5].codes[0]), "1");
    assert_string_equal(ln_dict_string(table->cols[5].dict, table->cols[5].codes[1]), "abc");
    assert_string_equal(ln_dict_string(table->cols[5].dict, table->cols[5].codes[2]), "2.5");
    assert_int_equal(table->cols[6].type, LN_TYPE_FLOAT);
    assert_int_equal(table->cols[7].type, LN_TYPE_CATEGORY);
    assert_string_equal(ln_dict_string(table->cols[7].dict, table->cols[7].codes[0]),
                        "9007199254740993");
    ln_table_free(table);
}

static void test_sqlite_override_and_empty_result(void **state)
{
    (void)state;
    char path[128];
    temp_path(path, sizeof path, "db2.sqlite");
    create_database(path);
    const char *names[] = {"id"};
    const ln_type types[] = {LN_TYPE_CATEGORY};
    ln_load_options options;
    ln_load_options_default(&options);
    options.override_names = names;
    options.override_types = types;
    options.n_overrides = 1;

    ln_table *table = NULL;
    ln_error err = {0};
    assert_int_equal(ln_sqlite_read(path, "SELECT id FROM t ORDER BY id", &options, &table, &err),
                     LN_OK);
    assert_int_equal(table->cols[0].type, LN_TYPE_CATEGORY);
    assert_string_equal(ln_dict_string(table->cols[0].dict, table->cols[0].codes[1]), "2");
    ln_table_free(table);

    assert_int_equal(ln_sqlite_read(path, "SELECT id FROM t WHERE id > 10", NULL, &table, &err),
                     LN_OK);
    assert_int_equal(table->n_rows, 0);
    assert_int_equal(table->n_cols, 1);
    ln_table_free(table);
}

static void test_sqlite_errors(void **state)
{
    (void)state;
    char path[128];
    temp_path(path, sizeof path, "db3.sqlite");
    create_database(path);
    ln_table *table = NULL;
    ln_error err = {0};

    assert_int_equal(ln_sqlite_read(path, "SELECT * FROM t", NULL, &table, &err), LN_ERR_DATA);
    assert_null(table);
    assert_non_null(strstr(err.message, "row 1, column 'picture' holds a blob"));

    assert_int_equal(ln_sqlite_read(path, "SELECT nope FROM t", NULL, &table, &err), LN_ERR_SQL);
    assert_non_null(strstr(err.message, "no such column: nope"));
    assert_non_null(strstr(err.message, "(query: SELECT nope FROM t)"));

    assert_int_equal(ln_sqlite_read(path, "DELETE FROM t", NULL, &table, &err), LN_ERR_SQL);
    assert_non_null(strstr(err.message, "the query returns no columns"));
    assert_int_equal(ln_sqlite_read(path, "DELETE FROM t RETURNING id", NULL, &table, &err),
                     LN_ERR_SQL);
    assert_non_null(strstr(err.message, "readonly"));

    assert_int_equal(ln_sqlite_read(path, "SELECT id, id FROM t", NULL, &table, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "two columns named 'id'"));

    assert_int_equal(ln_sqlite_read("/nonexistent/db.sqlite", "SELECT 1", NULL, &table, &err),
                     LN_ERR_NOT_FOUND);
}

/* ---- real data sets ---- */

typedef struct data_set {
    const char *file;
    size_t rows;
    size_t cols;
    const char *categories; /* space-separated; every other column is numeric */
} data_set;

static const data_set data_sets[] = {
    {"lending_club.csv", 9857, 23, "term sub_grade addr_state verification_status emp_length Class"},
    {"mlc_churn.csv", 5000, 20, "state area_code international_plan voice_mail_plan churn"},
    {"spam.csv", 4601, 58, "type"},
    {"ames.csv", 2930, 74,
     "MS_SubClass MS_Zoning Street Alley Lot_Shape Land_Contour Utilities Lot_Config Land_Slope "
     "Neighborhood Condition_1 Condition_2 Bldg_Type House_Style Overall_Cond Roof_Style Roof_Matl "
     "Exterior_1st Exterior_2nd Mas_Vnr_Type Exter_Cond Foundation Bsmt_Cond Bsmt_Exposure "
     "BsmtFin_Type_1 BsmtFin_Type_2 Heating Heating_QC Central_Air Electrical Functional "
     "Garage_Type Garage_Finish Garage_Cond Paved_Drive Pool_QC Fence Misc_Feature Sale_Type "
     "Sale_Condition"},
    {"PimaIndiansDiabetes2.csv", 768, 9, "diabetes"},
};

static int is_listed(const char *list, const char *name)
{
    size_t length = strlen(name);

    for (const char *p = strstr(list, name); p != NULL; p = strstr(p + 1, name)) {
        if ((p == list || p[-1] == ' ') && (p[length] == ' ' || p[length] == '\0'))
            return 1;
    }
    return 0;
}

static ln_table *load_data_set(const char *dir, const data_set *set)
{
    char path[512];
    ln_table *table = NULL;
    ln_error err = {0};

    snprintf(path, sizeof path, "%s/%s", dir, set->file);
    if (ln_csv_read(path, NULL, &table, &err) != LN_OK)
        fail_msg("%s", err.message);
    assert_int_equal(table->n_rows, set->rows);
    assert_int_equal(table->n_cols, set->cols);
    for (size_t c = 0; c < table->n_cols; c++) {
        const ln_column *column = &table->cols[c];
        if (is_listed(set->categories, column->name)) {
            if (column->type != LN_TYPE_CATEGORY)
                fail_msg("%s: column %s is %s, expected category", set->file, column->name,
                         ln_type_name(column->type));
        } else if (column->type != LN_TYPE_INT && column->type != LN_TYPE_FLOAT) {
            fail_msg("%s: column %s is %s, expected a number", set->file, column->name,
                     ln_type_name(column->type));
        }
    }
    return table;
}

static size_t count_value(const ln_table *table, const char *column_name, const char *text)
{
    int index = ln_table_find(table, column_name);
    assert_true(index >= 0);
    const ln_column *column = &table->cols[index];
    int32_t code = ln_dict_find(column->dict, text, strlen(text));
    size_t count = 0;

    for (size_t row = 0; row < table->n_rows; row++)
        count += column->codes[row] == code;
    return count;
}

static void test_bundled_data_sets(void **state)
{
    (void)state;
    ln_table *table = load_data_set(LANNER_TEST_DATA, &data_sets[0]);
    assert_int_equal(count_value(table, "Class", "bad"), 517);
    assert_int_equal(count_value(table, "emp_length", "emp_unk"), 645);
    assert_true(table->cols[0].values[0] == 16100.0);
    assert_true(table->cols[2].values[0] == 13.99);
    ln_table_free(table);

    table = load_data_set(LANNER_TEST_DATA, &data_sets[1]);
    assert_int_equal(count_value(table, "churn", "yes"), 707);
    assert_int_equal(ln_dict_count(ln_table_column(table, "state")->dict), 51);
    ln_table_free(table);
}

static void test_shared_data_sets(void **state)
{
    (void)state;
    struct stat info;

    if (stat(LANNER_SHARED_DATA, &info) != 0) {
        print_message("shared data directory %s is absent; skipping\n", LANNER_SHARED_DATA);
        skip();
    }
    for (size_t i = 0; i < sizeof data_sets / sizeof data_sets[0]; i++) {
        ln_table *table = load_data_set(LANNER_SHARED_DATA, &data_sets[i]);
        if (strcmp(data_sets[i].file, "PimaIndiansDiabetes2.csv") == 0) {
            const char *names[] = {"glucose", "pressure", "triceps", "insulin", "mass"};
            const size_t missing[] = {5, 35, 227, 374, 11};
            for (size_t k = 0; k < 5; k++) {
                const ln_column *column = ln_table_column(table, names[k]);
                size_t count = 0;
                for (size_t row = 0; row < table->n_rows; row++)
                    count += isnan(column->values[row]);
                assert_int_equal(count, missing[k]);
            }
        }
        ln_table_free(table);
    }
}

/* The short-decimal fast path must give the general path's double: a leading blank forces the general path. */
static void test_number_fast_path_matches_general(void **state)
{
    static const char *const fixed[] = {"0", "-0", "-0.0", "1.", ".5", "-.5", "0.001", "123456789012345",
                                        "-999999999999999", "0.1", "1000.123", "99999.99999", "3.14159265358979"};
    char text[40];
    char blank[41];

    (void)state;
    lcg_state = 99;
    for (size_t i = 0; i < 200000 + sizeof fixed / sizeof fixed[0]; i++) {
        if (i < sizeof fixed / sizeof fixed[0]) {
            snprintf(text, sizeof text, "%s", fixed[i]);
        } else {
            int digits = 1 + (int)(next_random() % 15);
            int point = (int)(next_random() % (unsigned)(digits + 1));
            size_t used = 0;
            if (next_random() % 2)
                text[used++] = '-';
            for (int d = 0; d < digits; d++) {
                if (d == point && d > 0)
                    text[used++] = '.';
                text[used++] = (char)('0' + next_random() % 10);
            }
            text[used] = '\0';
        }
        snprintf(blank, sizeof blank, " %s", text);

        double fast, general;
        int fast_integer, general_integer;
        assert_true(data_parse_number(text, strlen(text), 0, &fast, &fast_integer));
        assert_true(data_parse_number(blank, strlen(blank), 0, &general, &general_integer));
        if (memcmp(&fast, &general, sizeof fast) != 0 || fast_integer != general_integer)
            fail_msg("'%s': fast %.17g (%d), general %.17g (%d)", text, fast, fast_integer, general,
                     general_integer);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_file),
        cmocka_unit_test(test_gzip_round_trip),
        cmocka_unit_test(test_gzip_truncated),
        cmocka_unit_test(test_zstd_round_trip),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_thread_count_invariance),
        cmocka_unit_test(test_error_same_for_any_thread_count),
        cmocka_unit_test(test_chunked_parse_matches_serial_on_damaged_input),
        cmocka_unit_test(test_number_fast_path_matches_general),
        cmocka_unit_test(test_sqlite_types),
        cmocka_unit_test(test_sqlite_override_and_empty_result),
        cmocka_unit_test(test_sqlite_errors),
        cmocka_unit_test(test_bundled_data_sets),
        cmocka_unit_test(test_shared_data_sets),
    };
    return cmocka_run_group_tests(tests, make_temp_dir, remove_temp_dir);
}
