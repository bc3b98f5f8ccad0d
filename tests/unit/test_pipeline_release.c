/*
 * The release side of a pipeline: the gate and downstream sections of the
 * pipeline file, the downstream comparison and score PSI on hand-computed
 * cases, and the step cache's keys, table entries and damaged entries.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lanner/hash.h"
#include "lanner/io.h"
#include "lanner/pipeline.h"
#include "pipeline/cache.h"

/* cmocka 1.1 has no assert_double_equal. */
#define assert_near(actual, expected, tolerance) assert_true(fabs((actual) - (expected)) <= (tolerance))

static char scratch_dir[64];

static int make_scratch(void **state)
{
    (void)state;
    snprintf(scratch_dir, sizeof scratch_dir, "/tmp/lanner-release-XXXXXX");
    return mkdtemp(scratch_dir) == NULL ? -1 : 0;
}

static int remove_scratch(void **state)
{
    char command[128];

    (void)state;
    snprintf(command, sizeof command, "rm -rf '%s'", scratch_dir);
    return system(command) == 0 ? 0 : -1;
}

static const char base_pipeline[] =
    "name: fraud\n"
    "data: {csv: orders.csv}\n"
    "target: is_fraud\n"
    "positive: 1\n"
    "baseline: {rule: \"amount > 100\"}\n"
    "outcome: {true_positive: 0, false_positive: \"-2\", false_negative: \"-amount\", true_negative: 0}\n";

static ln_status load_with(const char *extra, ln_pipeline **pipeline, ln_error *err)
{
    char path[128];
    char text[4096];

    snprintf(path, sizeof path, "%s/p.yaml", scratch_dir);
    snprintf(text, sizeof text, "%s%s", base_pipeline, extra);
    assert_int_equal(ln_write_file_atomic(path, text, strlen(text), err), LN_OK);
    return ln_pipeline_load(path, pipeline, err);
}

/* ---- the pipeline file ---- */

static void gate_defaults_without_section(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_pipeline *pipeline = NULL;

    assert_int_equal(load_with("", &pipeline, &err), LN_OK);
    assert_int_equal(pipeline->has_gate, 0);
    assert_int_equal(pipeline->gate.beat_baseline, 1);
    assert_int_equal(pipeline->gate.beat_production, 1);
    assert_int_equal(pipeline->gate.by_interval, 0);
    assert_int_equal(pipeline->gate.contract, 1);
    assert_true(isnan(pipeline->gate.max_slice_regression));
    assert_int_equal(pipeline->n_consumers, 0);
    ln_pipeline_free(pipeline);
}

static void gate_reads_every_rule(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_pipeline *pipeline = NULL;

    assert_int_equal(load_with("gate:\n  beat_baseline: false\n  beat_production: false\n  by_interval: true\n"
                               "  contract: false\n  max_slice_regression: 0.05\n", &pipeline, &err), LN_OK);
    assert_int_equal(pipeline->has_gate, 1);
    assert_int_equal(pipeline->gate.beat_baseline, 0);
    assert_int_equal(pipeline->gate.beat_production, 0);
    assert_int_equal(pipeline->gate.by_interval, 1);
    assert_int_equal(pipeline->gate.contract, 0);
    assert_true(pipeline->gate.max_slice_regression == 0.05);
    ln_pipeline_free(pipeline);
}

static void gate_rejects_unknown_key(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_pipeline *pipeline = NULL;

    assert_int_equal(load_with("gate:\n  beat_rule: true\n", &pipeline, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "beat_rule"));
    assert_non_null(strstr(err.message, "p.yaml:8"));
    assert_null(pipeline);
}

static void downstream_reads_consumers(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_pipeline *pipeline = NULL;

    assert_int_equal(load_with("downstream:\n"
                               "  - name: review-queue\n    uses: flag\n    rate: {max: 0.03}\n"
                               "  - name: checkout-hold\n    uses: score\n    threshold: 0.9\n    max_changed: 0.01\n",
                               &pipeline, &err), LN_OK);
    assert_int_equal(pipeline->n_consumers, 2);
    assert_string_equal(pipeline->consumers[0].name, "review-queue");
    assert_int_equal(pipeline->consumers[0].uses_score, 0);
    assert_true(pipeline->consumers[0].rate_min == 0);
    assert_true(pipeline->consumers[0].rate_max == 0.03);
    assert_true(isnan(pipeline->consumers[0].max_changed));
    assert_string_equal(pipeline->consumers[1].name, "checkout-hold");
    assert_int_equal(pipeline->consumers[1].uses_score, 1);
    assert_true(pipeline->consumers[1].threshold == 0.9);
    assert_true(pipeline->consumers[1].rate_max == 1);
    assert_true(pipeline->consumers[1].max_changed == 0.01);
    ln_pipeline_free(pipeline);
}

static void downstream_rejects_bad_consumers(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"downstream:\n  - {name: a, uses: score}\n", "needs a 'threshold'"},
        {"downstream:\n  - {name: a, uses: flag, threshold: 0.5}\n", "does not apply"},
        {"downstream:\n  - {name: a, uses: both}\n", "must be flag or score"},
        {"downstream:\n  - {name: a}\n", "needs 'uses: flag'"},
        {"downstream:\n  - {name: a, uses: flag}\n  - {name: a, uses: flag}\n", "named twice"},
        {"downstream:\n  - {name: a, uses: flag, rate: {min: 0.5, max: 0.1}}\n", "above rate max"},
        {"downstream:\n  - {name: a, uses: flag, rate: {max: 1.5}}\n", "'max' must be between"},
        {"downstream:\n  - {name: 'a b', uses: flag}\n", "consumer name must be"},
        {"downstream: {name: a}\n", "must be a list"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ln_error err = {0};
        ln_pipeline *pipeline = NULL;
        assert_int_equal(load_with(cases[i].text, &pipeline, &err), LN_ERR_CONFIG);
        if (strstr(err.message, cases[i].message) == NULL)
            fail_msg("case %zu: expected '%s' in: %s", i, cases[i].message, err.message);
    }
}

/* ---- downstream numbers, computed by hand ---- */

/*
 * Ten rows. The candidate flags at 0.7 (rows 0, 1, 2); production flags at
 * 0.75 (rows 0, 2, 9), so rows 1 and 9 change. A score consumer at 0.9 gets
 * row 0 from the candidate and rows 0 and 9 from production.
 */
static const double candidate[10] = {0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.15, 0.05};
static const double production[10] = {0.92, 0.60, 0.80, 0.70, 0.50, 0.40, 0.30, 0.20, 0.10, 0.91};

static void downstream_compare_ten_rows(void **state)
{
    (void)state;
    ln_consumer_spec consumers[3] = {
        {.name = "queue", .uses_score = 0, .threshold = NAN, .rate_min = 0, .rate_max = 0.25, .max_changed = NAN},
        {.name = "hold", .uses_score = 1, .threshold = 0.9, .rate_min = 0, .rate_max = 1, .max_changed = 0.05},
        {.name = "hold-loose", .uses_score = 1, .threshold = 0.9, .rate_min = 0, .rate_max = 1, .max_changed = 0.1},
    };
    ln_consumer_report reports[3];

    ln_downstream_compare(consumers, 3, candidate, 0.7, production, 0.75, 10, reports);

    assert_string_equal(reports[0].name, "queue");
    assert_true(reports[0].rate_after == 0.3);
    assert_true(reports[0].rate_before == 0.3);
    assert_true(reports[0].changed == 0.2);
    assert_int_equal(reports[0].passed, 0);
    assert_string_equal(reports[0].detail, "would receive 30.00% of rows, above its maximum 25.00%");

    assert_true(reports[1].rate_after == 0.1);
    assert_true(reports[1].rate_before == 0.2);
    assert_true(reports[1].changed == 0.1);
    assert_int_equal(reports[1].passed, 0);
    assert_string_equal(reports[1].detail, "1 of 10 decisions (10.00%) would change, above its maximum 5.00%");

    /* A share equal to the limit passes. */
    assert_int_equal(reports[2].passed, 1);
    assert_string_equal(reports[2].detail, "would receive 10.00% of rows (production 20.00%); 10.00% of decisions change");
}

static void downstream_without_production(void **state)
{
    (void)state;
    ln_consumer_spec consumer = {.name = "queue", .threshold = NAN, .rate_min = 0.2, .rate_max = 0.5,
                                 .max_changed = 0.01};
    ln_consumer_report report;

    ln_downstream_compare(&consumer, 1, candidate, 0.7, NULL, INFINITY, 10, &report);
    assert_true(report.rate_after == 0.3);
    assert_true(isnan(report.rate_before));
    assert_true(isnan(report.changed));
    assert_true(isnan(report.psi));
    assert_int_equal(report.passed, 1);

    /* A model that flags nothing (threshold +infinity) falls below the consumer's minimum. */
    ln_downstream_compare(&consumer, 1, candidate, INFINITY, NULL, INFINITY, 10, &report);
    assert_true(report.rate_after == 0);
    assert_int_equal(report.passed, 0);
    assert_string_equal(report.detail, "would receive 0.00% of rows, below its minimum 20.00%");
}

/*
 * Production's deciles put one of its scores in each bin. The candidate puts
 * two in the lowest bin and none in bin 8 (0.91 to 0.92), which counts as
 * the floor 1e-4: PSI = 0.1 ln 2 + (1e-4 - 0.1) ln(1e-4 / 0.1).
 */
static void psi_ten_rows(void **state)
{
    (void)state;
    double expected = 0.1 * log(2.0) + (1e-4 - 0.1) * log(1e-3);

    assert_near(ln_score_psi(production, 10, candidate, 10), expected, 1e-12);
    assert_near(ln_score_psi(production, 10, production, 10), 0.0, 0.0);
}

static void psi_skips_missing_scores(void **state)
{
    (void)state;
    double with_nan[11];
    double all_nan[3] = {NAN, NAN, NAN};

    memcpy(with_nan, candidate, sizeof candidate);
    with_nan[10] = NAN;
    assert_near(ln_score_psi(production, 10, with_nan, 11), ln_score_psi(production, 10, candidate, 10), 0.0);
    assert_true(isnan(ln_score_psi(all_nan, 3, candidate, 10)));
    assert_true(isnan(ln_score_psi(production, 10, all_nan, 3)));
    assert_true(isnan(ln_score_psi(production, 0, candidate, 10)));
}

static void consumers_from_metrics_json(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_consumer_spec *consumers = NULL;
    size_t n = 0;

    assert_int_equal(ln_consumers_from_json("{\"downstream\": [{\"name\": \"q\", \"uses\": \"flag\", \"threshold\": null,"
                                            " \"rate\": {\"min\": 0, \"max\": 0.03}, \"max_changed\": null},"
                                            " {\"name\": \"h\", \"uses\": \"score\", \"threshold\": 0.9,"
                                            " \"rate\": {\"min\": 0, \"max\": 1}, \"max_changed\": 0.01}]}",
                                            &consumers, &n, &err), LN_OK);
    assert_int_equal(n, 2);
    assert_string_equal(consumers[0].name, "q");
    assert_int_equal(consumers[0].uses_score, 0);
    assert_true(consumers[0].rate_max == 0.03);
    assert_true(isnan(consumers[0].max_changed));
    assert_int_equal(consumers[1].uses_score, 1);
    assert_true(consumers[1].threshold == 0.9);
    assert_true(consumers[1].max_changed == 0.01);
    ln_consumers_free(consumers, n);

    assert_int_equal(ln_consumers_from_json("{\"test\": {}}", &consumers, &n, &err), LN_OK);
    assert_int_equal(n, 0);
    ln_consumers_free(consumers, n);
    assert_int_equal(ln_consumers_from_json("{\"downstream\": [{\"name\": \"h\", \"uses\": \"score\"}]}", &consumers,
                                            &n, &err), LN_ERR_PARSE);
    assert_int_equal(ln_consumers_from_json("not json", &consumers, &n, &err), LN_ERR_PARSE);
}

/* ---- the step cache ---- */

static void key_of(const char *name, const char *value, char hex[LN_HASH_HEX_SIZE])
{
    cache_blob key;
    ln_error err = {0};

    cache_key_init(&key, "test");
    cache_key_text(&key, name, value);
    assert_int_equal(cache_key_finish(&key, hex, &err), LN_OK);
}

static void cache_keys_differ_by_input(void **state)
{
    (void)state;
    char a[LN_HASH_HEX_SIZE], b[LN_HASH_HEX_SIZE], c[LN_HASH_HEX_SIZE], d[LN_HASH_HEX_SIZE];

    key_of("rule", "amount > 1", a);
    key_of("rule", "amount > 1", b);
    assert_string_equal(a, b);
    key_of("rule", "amount > 2", c);
    assert_string_not_equal(a, c);
    key_of("rule", "", c);
    key_of("rule", NULL, d);
    assert_string_not_equal(c, d);
    /* The value's length comes first, so a value cannot pass for a following name. */
    key_of("rule", "x\nrule=1:y", c);
    cache_blob key;
    ln_error err = {0};
    cache_key_init(&key, "test");
    cache_key_text(&key, "rule", "x");
    cache_key_text(&key, "rule", "y");
    assert_int_equal(cache_key_finish(&key, d, &err), LN_OK);
    assert_string_not_equal(c, d);
}

static ln_table *sample_table(void)
{
    ln_error err = {0};
    ln_table *table = ln_table_new(4);
    ln_column *amount = ln_table_add_column(table, "amount", LN_TYPE_FLOAT, &err);
    amount->values[0] = 1.5;
    amount->values[1] = NAN;
    amount->values[2] = -INFINITY;
    amount->values[3] = 1e300;
    ln_column *country = ln_table_add_column(table, "country", LN_TYPE_CATEGORY, &err);
    country->codes[0] = ln_dict_intern(country->dict, "FR", 2);
    country->codes[1] = ln_dict_intern(country->dict, "US", 2);
    country->codes[2] = -1;
    country->codes[3] = ln_dict_intern(country->dict, "FR", 2);
    return table;
}

static void cache_table_round_trip(void **state)
{
    (void)state;
    ln_error err = {0};
    run_cache cache;
    cache_blob blob;
    ln_table *table = sample_table();
    ln_table *back = NULL;
    unsigned char *payload = NULL;
    size_t size = 0;
    char dir[128], before[LN_HASH_HEX_SIZE], after[LN_HASH_HEX_SIZE];

    snprintf(dir, sizeof dir, "%s/cache", scratch_dir);
    cache_open(&cache, dir, 1);
    assert_int_equal(cache.enabled, 1);
    cache_blob_init(&blob, CACHE_MAX_ENTRY_BYTES);
    cache_put_table(&blob, table);
    cache_write(&cache, "load", "0123", &blob);
    cache_blob_free(&blob);

    assert_int_equal(cache_read(&cache, "load", "0123", &payload, &size, &err), LN_OK);
    cache_reader reader = {payload, size, 0, 0};
    assert_int_equal(cache_get_table(&reader, &back, &err), LN_OK);
    assert_int_equal(reader.at, size);
    assert_int_equal(back->n_rows, 4);
    assert_int_equal(back->n_cols, 2);
    assert_true(back->cols[0].values[0] == 1.5);
    assert_true(isnan(back->cols[0].values[1]));
    assert_true(back->cols[0].values[2] == -INFINITY);
    assert_int_equal(back->cols[1].type, LN_TYPE_CATEGORY);
    assert_string_equal(ln_dict_string(back->cols[1].dict, back->cols[1].codes[1]), "US");
    assert_int_equal(back->cols[1].codes[2], -1);
    ln_hash_table(table, before);
    ln_hash_table(back, after);
    assert_string_equal(before, after);

    free(payload);
    ln_table_free(back);
    ln_table_free(table);
}

static void cache_rejects_damaged_entries(void **state)
{
    (void)state;
    ln_error err = {0};
    run_cache cache;
    cache_blob blob;
    unsigned char *payload = NULL;
    size_t size = 0;
    char dir[128], path[256];
    char *bytes = NULL;
    size_t n_bytes = 0;

    snprintf(dir, sizeof dir, "%s/damaged", scratch_dir);
    cache_open(&cache, dir, 1);
    assert_int_equal(cache_read(&cache, "split", "ab", &payload, &size, &err), LN_ERR_NOT_FOUND);

    cache_blob_init(&blob, CACHE_MAX_ENTRY_BYTES);
    cache_put_string(&blob, "the rows of a split");
    cache_write(&cache, "split", "ab", &blob);
    cache_blob_free(&blob);
    assert_int_equal(cache_entry_path(&cache, "split", "ab", ".lce", path, sizeof path, &err), LN_OK);
    assert_int_equal(ln_read_file(path, 1 << 20, &bytes, &n_bytes, &err), LN_OK);

    /* One flipped payload byte fails the checksum. */
    bytes[n_bytes - 1] ^= 1;
    assert_int_equal(ln_write_file_atomic(path, bytes, n_bytes, &err), LN_OK);
    assert_int_equal(cache_read(&cache, "split", "ab", &payload, &size, &err), LN_ERR_CORRUPT);
    assert_null(payload);

    /* A truncated entry (a write cut short) fails the size check. */
    bytes[n_bytes - 1] ^= 1;
    assert_int_equal(ln_write_file_atomic(path, bytes, n_bytes - 3, &err), LN_OK);
    assert_int_equal(cache_read(&cache, "split", "ab", &payload, &size, &err), LN_ERR_CORRUPT);
    assert_int_equal(ln_write_file_atomic(path, bytes, 5, &err), LN_OK);
    assert_int_equal(cache_read(&cache, "split", "ab", &payload, &size, &err), LN_ERR_CORRUPT);

    /* The intact entry reads back. */
    assert_int_equal(ln_write_file_atomic(path, bytes, n_bytes, &err), LN_OK);
    assert_int_equal(cache_read(&cache, "split", "ab", &payload, &size, &err), LN_OK);
    cache_reader reader = {payload, size, 0, 0};
    char *text = cache_get_string(&reader);
    assert_string_equal(text, "the rows of a split");
    free(text);
    free(payload);
    free(bytes);
}

static void cache_table_rejects_bad_payload(void **state)
{
    (void)state;
    ln_error err = {0};
    cache_blob blob;
    ln_table *table = sample_table();
    ln_table *back = NULL;

    cache_blob_init(&blob, CACHE_MAX_ENTRY_BYTES);
    cache_put_table(&blob, table);
    for (size_t cut = 0; cut < blob.size; cut += 7) {
        cache_reader reader = {blob.data, cut, 0, 0};
        assert_int_equal(cache_get_table(&reader, &back, &err), LN_ERR_CORRUPT);
        assert_null(back);
    }
    cache_blob_free(&blob);
    ln_table_free(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gate_defaults_without_section),
        cmocka_unit_test(gate_reads_every_rule),
        cmocka_unit_test(gate_rejects_unknown_key),
        cmocka_unit_test(downstream_reads_consumers),
        cmocka_unit_test(downstream_rejects_bad_consumers),
        cmocka_unit_test(downstream_compare_ten_rows),
        cmocka_unit_test(downstream_without_production),
        cmocka_unit_test(psi_ten_rows),
        cmocka_unit_test(psi_skips_missing_scores),
        cmocka_unit_test(consumers_from_metrics_json),
        cmocka_unit_test(cache_keys_differ_by_input),
        cmocka_unit_test(cache_table_round_trip),
        cmocka_unit_test(cache_rejects_damaged_entries),
        cmocka_unit_test(cache_table_rejects_bad_payload),
    };
    return cmocka_run_group_tests(tests, make_scratch, remove_scratch);
}
