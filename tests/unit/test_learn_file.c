/*
 * The model file: round trip, and rejection of truncated, damaged and
 * hostile files (hostile meaning a valid checksum over invalid content).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include <cmocka.h>

#include "lanner/io.h"
#include "lanner/model.h"
#include "learn/learn_internal.h"

#define HEADER_BYTES 32

static ln_table *make_table(size_t n, double **labels_out)
{
    ln_error err = {0};
    ln_table *table = ln_table_new(n);
    ln_column *amount = ln_table_add_column(table, "amount", LN_TYPE_FLOAT, &err);
    ln_column *country = ln_table_add_column(table, "country", LN_TYPE_CATEGORY, &err);
    double *labels = malloc(n * sizeof *labels);
    const char *countries[] = {"fr", "de", "us", "jp"};

    for (size_t i = 0; i < n; i++) {
        amount->values[i] = i % 11 == 0 ? NAN : (double)((i * 37) % 101);
        const char *name = countries[(i * 7) % 4];
        country->codes[i] = ln_dict_intern(country->dict, name, strlen(name));
        labels[i] = (amount->values[i] > 50) ^ ((i * 7) % 4 == 2) ^ (i % 13 == 0);
    }
    *labels_out = labels;
    return table;
}

static ln_model *train_model(const ln_table *table, const double *labels, ln_learner learner, int trees)
{
    ln_train_params params;
    ln_train_params_default(&params);
    params.learner = learner;
    params.trees = trees;
    params.max_leaves = 4;
    params.threads = 1;
    const char *features[] = {"amount", "country"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 2, NULL, NULL, &model, &err), LN_OK);
    return model;
}

static char *temp_path(void)
{
    char *path = strdup("/tmp/lanner-model-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return path;
}

static uint8_t *saved_bytes(const ln_model *model, size_t *size)
{
    char *path = temp_path();
    ln_error err = {0};
    char *data = NULL;
    assert_int_equal(ln_model_save(model, path, &err), LN_OK);
    assert_int_equal(ln_read_file(path, 1 << 30, &data, size, &err), LN_OK);
    unlink(path);
    free(path);
    return (uint8_t *)data;
}

static void round_trip(ln_learner learner)
{
    double *labels;
    ln_table *table = make_table(600, &labels);
    ln_model *model = train_model(table, labels, learner, 30);
    ln_error err = {0};
    assert_int_equal(ln_model_set_metadata(model, "{\"threshold\": 0.25}", &err), LN_OK);

    char *path = temp_path();
    assert_int_equal(ln_model_save(model, path, &err), LN_OK);
    ln_model *loaded = NULL;
    if (ln_model_load(path, &loaded, &err) != LN_OK)
        fail_msg("load failed: %s", err.message);
    unlink(path);
    free(path);

    assert_int_equal(ln_model_learner(loaded), learner);
    assert_int_equal(ln_model_feature_count(loaded), 2);
    assert_string_equal(ln_model_feature_name(loaded, 0), "amount");
    assert_string_equal(ln_model_feature_name(loaded, 1), "country");
    assert_int_equal(ln_model_feature_type(loaded, 0), LN_TYPE_FLOAT);
    assert_int_equal(ln_model_feature_type(loaded, 1), LN_TYPE_CATEGORY);
    assert_int_equal(ln_model_tree_count(loaded), ln_model_tree_count(model));
    assert_string_equal(ln_model_metadata(loaded), "{\"threshold\": 0.25}");

    double *before = malloc(600 * sizeof *before);
    double *after = malloc(600 * sizeof *after);
    assert_int_equal(ln_model_predict(model, table, before, &err), LN_OK);
    assert_int_equal(ln_model_predict(loaded, table, after, &err), LN_OK);
    assert_memory_equal(before, after, 600 * sizeof *before);

    double importance_before[2], importance_after[2];
    ln_model_feature_importance(model, importance_before);
    ln_model_feature_importance(loaded, importance_after);
    assert_memory_equal(importance_before, importance_after, sizeof importance_before);

    /* Saving the loaded model gives the same bytes. */
    size_t size_a, size_b;
    uint8_t *a = saved_bytes(model, &size_a);
    uint8_t *b = saved_bytes(loaded, &size_b);
    assert_int_equal(size_a, size_b);
    assert_memory_equal(a, b, size_a);

    free(a);
    free(b);
    free(before);
    free(after);
    ln_model_free(model);
    ln_model_free(loaded);
    ln_table_free(table);
    free(labels);
}

static void gbdt_round_trip_predicts_same(void **state)
{
    (void)state;
    round_trip(LN_LEARNER_GBDT);
}

static void linear_round_trip_predicts_same(void **state)
{
    (void)state;
    round_trip(LN_LEARNER_LINEAR);
}

static void metadata_defaults_to_empty(void **state)
{
    (void)state;
    double *labels;
    ln_table *table = make_table(200, &labels);
    ln_model *model = train_model(table, labels, LN_LEARNER_GBDT, 2);
    ln_error err = {0};

    assert_string_equal(ln_model_metadata(model), "");
    assert_int_equal(ln_model_set_metadata(model, "x", &err), LN_OK);
    assert_int_equal(ln_model_set_metadata(model, NULL, &err), LN_OK);
    assert_string_equal(ln_model_metadata(model), "");

    ln_model_free(model);
    ln_table_free(table);
    free(labels);
}

static void expect_corrupt(const uint8_t *data, size_t size)
{
    ln_model *model = (ln_model *)1;
    ln_error err = {0};
    assert_int_equal(ln_model_load_bytes(data, size, &model, &err), LN_ERR_CORRUPT);
    assert_null(model);
    assert_non_null(strstr(err.message, "corrupt model file"));
}

static uint8_t *small_model_bytes(ln_learner learner, size_t *size)
{
    double *labels;
    ln_table *table = make_table(300, &labels);
    ln_model *model = train_model(table, labels, learner, 3);
    ln_error err = {0};
    assert_int_equal(ln_model_set_metadata(model, "meta", &err), LN_OK);
    uint8_t *data = saved_bytes(model, size);
    ln_model_free(model);
    ln_table_free(table);
    free(labels);
    return data;
}

static void every_truncation_is_rejected(void **state)
{
    (void)state;
    for (int learner = 0; learner <= 1; learner++) {
        size_t size;
        uint8_t *data = small_model_bytes((ln_learner)learner, &size);
        for (size_t length = 0; length < size; length++) {
            /* A copy of exactly length bytes, so ASan detects any read past the end. */
            uint8_t *copy = malloc(length ? length : 1);
            memcpy(copy, data, length);
            expect_corrupt(copy, length);
            free(copy);
        }
        free(data);
    }
}

static void every_byte_flip_is_rejected(void **state)
{
    (void)state;
    size_t size;
    uint8_t *data = small_model_bytes(LN_LEARNER_GBDT, &size);
    const uint8_t masks[] = {0x01, 0x80, 0xff, 0x10};

    for (size_t at = 0; at < size; at++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            data[at] ^= masks[m];
            expect_corrupt(data, size);
            data[at] ^= masks[m];
        }
    }
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_load_bytes(data, size, &model, &err), LN_OK);
    ln_model_free(model);
    free(data);
}

static void reseal(uint8_t *data, size_t size)
{
    uint64_t checksum = XXH64(data + HEADER_BYTES, size - HEADER_BYTES, 0);
    for (int i = 0; i < 8; i++)
        data[24 + i] = (uint8_t)(checksum >> (8 * i));
}

/* Returns the offset of the first node of the first tree. */
static size_t first_node(const uint8_t *data, size_t size)
{
    for (size_t at = HEADER_BYTES; at + 4 <= size; at++)
        if (memcmp(data + at, "TREE", 4) == 0)
            return at + 16 + 8;
    fail_msg("no TREE section");
    return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void hostile_file_is_rejected(long field_offset, uint32_t value)
{
    size_t size;
    uint8_t *data = small_model_bytes(LN_LEARNER_GBDT, &size);
    size_t node = first_node(data, size);
    put32(data + (long)node + field_offset, value);
    reseal(data, size);
    expect_corrupt(data, size);
    free(data);
}

static void hostile_trees_are_rejected(void **state)
{
    (void)state;
    hostile_file_is_rejected(0, 0);            /* root's left child is itself: a cycle */
    hostile_file_is_rejected(4, 0);            /* right child is the root */
    hostile_file_is_rejected(0, 0x7fffffff);   /* child far beyond the tree */
    hostile_file_is_rejected(0, 0xfffffffe);   /* negative child that is not -1 */
    hostile_file_is_rejected(8, 1000);         /* feature index out of range */
    hostile_file_is_rejected(-8, 0xffffffff);  /* node count 4 billion */
    hostile_file_is_rejected(-4, 0x00ffffff);  /* category sets beyond the section */
}

static void hostile_counts_are_rejected(void **state)
{
    (void)state;
    size_t size;
    uint8_t *data = small_model_bytes(LN_LEARNER_GBDT, &size);

    /* HEAD body: learner, zero, features (u64), base score, trees (u64). */
    size_t head = HEADER_BYTES + 16;
    uint8_t *copy = malloc(size);
    const struct {
        long offset;
        uint32_t value;
    } cases[] = {
        {0, 7},            /* unknown learner */
        {4, 1},            /* reserved field not zero */
        {8, 0},            /* no features */
        {12, 1},           /* 2^32 + 2 features */
        {20, 0x7ff00000u}, /* base score infinite or NaN */
        {24, 0xffffffffu}, /* 4 billion trees */
        {28, 1},           /* 2^32 + 3 trees */
        {-8, 0},           /* HEAD section length zero */
        {-8, 0x7fffffffu}, /* HEAD section longer than the file */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(copy, data, size);
        put32(copy + (long)head + cases[i].offset, cases[i].value);
        reseal(copy, size);
        expect_corrupt(copy, size);
    }

    /* Section count larger than the sections present. */
    memcpy(copy, data, size);
    put32(copy + 12, 9);
    expect_corrupt(copy, size);

    /* Versions this lanner does not read: 0 and the one after the current 2. */
    memcpy(copy, data, size);
    put32(copy + 8, 3);
    expect_corrupt(copy, size);
    put32(copy + 8, 0);
    expect_corrupt(copy, size);

    free(copy);
    free(data);
}

/* Any resealed single-byte change either loads or is LN_ERR_CORRUPT; ASan checks the rest. */
static void resealed_flips_never_crash(void **state)
{
    (void)state;
    for (int learner = 0; learner <= 1; learner++) {
        size_t size;
        uint8_t *data = small_model_bytes((ln_learner)learner, &size);
        uint8_t *copy = malloc(size);
        for (size_t at = HEADER_BYTES; at < size; at++) {
            for (int mask = 1; mask < 256; mask <<= 2) {
                memcpy(copy, data, size);
                copy[at] ^= (uint8_t)mask;
                reseal(copy, size);
                ln_model *model = NULL;
                ln_error err = {0};
                ln_status status = ln_model_load_bytes(copy, size, &model, &err);
                assert_true(status == LN_OK || status == LN_ERR_CORRUPT);
                ln_model_free(model);
            }
        }
        free(copy);
        free(data);
    }
}

/* Copies the sections of a saved file except those with a tag in drop, as format version. */
static uint8_t *rewrite_sections(const uint8_t *data, size_t size, const char *const *drop, uint32_t version,
                                 size_t *out_size)
{
    uint8_t *out = malloc(size);
    size_t at = HEADER_BYTES, written = HEADER_BYTES;
    uint32_t kept = 0;

    memcpy(out, data, HEADER_BYTES);
    while (at < size) {
        uint64_t length = 0;
        for (int i = 0; i < 8; i++)
            length |= (uint64_t)data[at + 8 + (size_t)i] << (8 * i);
        int skip = 0;
        for (size_t d = 0; drop[d] != NULL; d++)
            skip |= memcmp(data + at, drop[d], 4) == 0;
        if (!skip) {
            memcpy(out + written, data + at, 16 + (size_t)length);
            written += 16 + (size_t)length;
            kept++;
        }
        at += 16 + (size_t)length;
    }
    put32(out + 8, version);
    put32(out + 12, kept);
    uint64_t payload = written - HEADER_BYTES;
    for (int i = 0; i < 8; i++)
        out[16 + i] = (uint8_t)(payload >> (8 * i));
    reseal(out, written);
    *out_size = written;
    return out;
}

static void version_1_file_still_loads(void **state)
{
    (void)state;
    double *labels;
    ln_table *table = make_table(400, &labels);
    ln_model *model = train_model(table, labels, LN_LEARNER_GBDT, 10);
    size_t size, old_size;
    uint8_t *data = saved_bytes(model, &size);
    const char *const v2_sections[] = {"OBJV", "COVR", "PARM", "CALB", NULL};
    uint8_t *old = rewrite_sections(data, size, v2_sections, 1, &old_size);
    assert_true(old_size < size);

    ln_model *loaded = NULL;
    ln_error err = {0};
    if (ln_model_load_bytes(old, old_size, &loaded, &err) != LN_OK)
        fail_msg("version 1 load failed: %s", err.message);
    assert_int_equal(ln_model_objective(loaded), LN_OBJECTIVE_BINARY);
    assert_int_equal(ln_model_param_count(loaded), 0);

    double before[400], after[400];
    assert_int_equal(ln_model_predict(model, table, before, &err), LN_OK);
    assert_int_equal(ln_model_predict(loaded, table, after, &err), LN_OK);
    assert_memory_equal(before, after, sizeof before);

    /* Covers are unknown, so explanations are refused with the reason. */
    ln_tree_node node;
    assert_int_equal(ln_model_tree_node(loaded, 0, 0, &node), 0);
    assert_true(isnan(node.cover));
    double *phi = malloc(400 * 3 * sizeof *phi);
    assert_int_equal(ln_model_explain(loaded, table, phi, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "format 1"));

    /* A version 1 file with a version 2 section: the section is ignored, as an unknown one would be. */
    const char *const none[] = {NULL};
    uint8_t *mixed = rewrite_sections(data, size, none, 1, &old_size);
    ln_model_free(loaded);
    assert_int_equal(ln_model_load_bytes(mixed, old_size, &loaded, &err), LN_OK);
    assert_int_equal(ln_model_explain(loaded, table, phi, &err), LN_ERR_CONFIG);

    free(phi);
    free(mixed);
    free(old);
    free(data);
    ln_model_free(loaded);
    ln_model_free(model);
    ln_table_free(table);
    free(labels);
}

static ln_model *multiclass_model(ln_table *table, size_t n, double *labels)
{
    for (size_t i = 0; i < n; i++)
        labels[i] += i % 5 == 0; /* classes 0, 1 and 2 */
    ln_train_params params;
    ln_train_params_default(&params);
    params.objective = LN_OBJECTIVE_MULTICLASS;
    params.n_classes = 3;
    params.trees = 6;
    params.max_leaves = 4;
    params.threads = 1;
    const char *features[] = {"amount", "country"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 2, NULL, NULL, &model, &err), LN_OK);
    return model;
}

static void multiclass_round_trip_keeps_explanations(void **state)
{
    (void)state;
    double *labels;
    ln_table *table = make_table(300, &labels);
    ln_model *model = multiclass_model(table, 300, labels);
    size_t size;
    uint8_t *data = saved_bytes(model, &size);
    ln_model *loaded = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_load_bytes(data, size, &loaded, &err), LN_OK);
    assert_int_equal(ln_model_output_count(loaded), 3);
    assert_int_equal(ln_model_tree_count(loaded), ln_model_tree_count(model));

    double *a = malloc(300 * 9 * sizeof *a), *b = malloc(300 * 9 * sizeof *b);
    assert_int_equal(ln_model_predict_proba(model, table, a, &err), LN_OK);
    assert_int_equal(ln_model_predict_proba(loaded, table, b, &err), LN_OK);
    assert_memory_equal(a, b, 300 * 3 * sizeof *a);
    assert_int_equal(ln_model_explain(model, table, a, &err), LN_OK);
    assert_int_equal(ln_model_explain(loaded, table, b, &err), LN_OK);
    assert_memory_equal(a, b, 300 * 9 * sizeof *a);

    /* Trees that do not divide among the classes: drop the OBJV section's class count to 4. */
    for (size_t at = HEADER_BYTES; at + 4 <= size; at++)
        if (memcmp(data + at, "OBJV", 4) == 0) {
            put32(data + at + 16 + 4, 4);
            break;
        }
    reseal(data, size);
    expect_corrupt(data, size);

    free(a);
    free(b);
    free(data);
    ln_model_free(loaded);
    ln_model_free(model);
    ln_table_free(table);
    free(labels);
}

/* Returns the offset of the body of the first section tagged tag. */
static size_t section_body(const uint8_t *data, size_t size, const char *tag)
{
    size_t at = HEADER_BYTES;
    while (at + 16 <= size) {
        uint64_t length = 0;
        for (int i = 0; i < 8; i++)
            length |= (uint64_t)data[at + 8 + (size_t)i] << (8 * i);
        if (memcmp(data + at, tag, 4) == 0)
            return at + 16;
        at += 16 + (size_t)length;
    }
    fail_msg("no %s section", tag);
    return 0;
}

static void hostile_v2_sections_are_rejected(void **state)
{
    (void)state;
    double *labels;
    ln_table *table = make_table(600, &labels);
    ln_train_params params;
    ln_train_params_default(&params);
    params.trees = 5;
    params.threads = 1;
    params.calibration = LN_CALIBRATION_ISOTONIC;
    const char *features[] = {"amount", "country"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 2, table, labels, &model, &err), LN_OK);
    size_t size;
    uint8_t *data = saved_bytes(model, &size);
    uint8_t *copy = malloc(size);
    size_t covr = section_body(data, size, "COVR");
    size_t calb = section_body(data, size, "CALB");
    size_t objv = section_body(data, size, "OBJV");

    const struct {
        size_t offset;
        uint32_t value;
    } cases[] = {
        {covr + 4, 0xbff00000u},   /* first cover -1 */
        {covr + 4, 0x7ff80000u},   /* first cover NaN */
        {calb, 7},                 /* unknown calibration method */
        {calb + 24, 0xffffffffu},  /* isotonic point count beyond the section */
        {calb + 36, 0x7ff00000u},  /* first x infinite */
        {objv, 2},                 /* multiclass with one output */
        {objv + 4, 0},             /* no outputs */
        {objv + 12, 0x7ff00000u},  /* base score infinite */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(copy, data, size);
        put32(copy + cases[i].offset, cases[i].value);
        reseal(copy, size);
        expect_corrupt(copy, size);
    }

    free(copy);
    free(data);
    ln_model_free(model);
    ln_table_free(table);
    free(labels);
}

static void missing_file_is_not_found(void **state)
{
    (void)state;
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_load("/nonexistent/lanner/model.lnr", &model, &err), LN_ERR_NOT_FOUND);
    assert_null(model);
}

/* A large file is judged by its header before it is read: a sparse 1 GB file loads nothing. */
static void large_file_is_rejected_by_header(void **state)
{
    (void)state;
    char path[] = "/tmp/lanner-large-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)1 << 30), 0);
    close(fd);

    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_load(path, &model, &err), LN_ERR_CORRUPT);
    assert_non_null(strstr(err.message, "no LNRMODEL header in 1073741824 bytes"));
    assert_non_null(strstr(err.message, path));

    /* A real header whose payload size disagrees with the file's size. */
    uint8_t header[32] = {'L', 'N', 'R', 'M', 'O', 'D', 'E', 'L', 2, 0, 0, 0, 1, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(ln_write_file_atomic(path, header, sizeof header, &err), LN_OK);
    assert_int_equal(ln_model_load(path, &model, &err), LN_ERR_CORRUPT);
    assert_non_null(strstr(err.message, "header gives 100 payload bytes but the file has 0 (truncated?)"));
    assert_null(model);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gbdt_round_trip_predicts_same),
        cmocka_unit_test(linear_round_trip_predicts_same),
        cmocka_unit_test(metadata_defaults_to_empty),
        cmocka_unit_test(every_truncation_is_rejected),
        cmocka_unit_test(every_byte_flip_is_rejected),
        cmocka_unit_test(hostile_trees_are_rejected),
        cmocka_unit_test(hostile_counts_are_rejected),
        cmocka_unit_test(resealed_flips_never_crash),
        cmocka_unit_test(missing_file_is_not_found),
        cmocka_unit_test(large_file_is_rejected_by_header),
        cmocka_unit_test(version_1_file_still_loads),
        cmocka_unit_test(multiclass_round_trip_keeps_explanations),
        cmocka_unit_test(hostile_v2_sections_are_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
