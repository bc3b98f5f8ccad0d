#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lanner/io.h"
#include "lanner/pipeline.h"
#include "pipeline/cache.h"
#include "pipeline/split.h"

static char scratch_dir[64];

static int make_scratch(void **state)
{
    (void)state;
    snprintf(scratch_dir, sizeof scratch_dir, "/tmp/lanner-pipeline-XXXXXX");
    return mkdtemp(scratch_dir) == NULL ? -1 : 0;
}

static int remove_scratch(void **state)
{
    char command[128];

    (void)state;
    snprintf(command, sizeof command, "rm -rf '%s'", scratch_dir);
    return system(command) == 0 ? 0 : -1;
}

static const char minimal[] =
    "name: fraud\n"
    "data:\n"
    "  sqlite: warehouse.db\n"
    "  query: SELECT * FROM orders\n"
    "target: is_fraud\n"
    "positive: 1\n"
    "baseline:\n"
    "  rule: \"billing_country != shipping_country\"\n"
    "outcome:\n"
    "  true_positive: 0\n"
    "  false_positive: \"-2\"\n"
    "  false_negative: \"-amount - 15\"\n"
    "  true_negative: \"0.1 * amount\"\n";

/* Writes text as a pipeline file in the scratch folder and loads it. */
static ln_status load_text(const char *text, ln_pipeline **pipeline, ln_error *err)
{
    char path[128];

    snprintf(path, sizeof path, "%s/p.yaml", scratch_dir);
    assert_int_equal(ln_write_file_atomic(path, text, strlen(text), err), LN_OK);
    return ln_pipeline_load(path, pipeline, err);
}

static void config_reads_minimal_pipeline(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_pipeline *pipeline = NULL;

    assert_int_equal(load_text(minimal, &pipeline, &err), LN_OK);
    assert_string_equal(pipeline->name, "fraud");
    assert_string_equal(pipeline->data_database, "warehouse.db");
    assert_string_equal(pipeline->data_query, "SELECT * FROM orders");
    assert_string_equal(pipeline->target, "is_fraud");
    assert_string_equal(pipeline->positive, "1");
    assert_string_equal(pipeline->payoff[0], "0");
    assert_string_equal(pipeline->payoff[2], "-amount - 15");
    assert_string_equal(pipeline->dir, scratch_dir);
    assert_null(pipeline->time);
    assert_true(pipeline->valid_share == 0.15);
    assert_true(pipeline->test_share == 0.2);
    assert_true(pipeline->max_flag_rate == 1.0);
    assert_int_equal(pipeline->train.learner, LN_LEARNER_GBDT);
    ln_pipeline_free(pipeline);
}

static void config_reads_every_section(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_pipeline *pipeline = NULL;
    char text[2048];

    snprintf(text, sizeof text,
             "%s"
             "id: order_id\ntime: created_at\nignore: [email, ip]\n"
             "split: {valid: 0.1, test: 0.3, seed: 11}\n"
             "model: {type: linear, l2: 0.5, trees: 50, max_leaves: 7, learning_rate: 0.2}\n",
             minimal);
    assert_int_equal(load_text(text, &pipeline, &err), LN_OK);
    assert_string_equal(pipeline->id, "order_id");
    assert_string_equal(pipeline->time, "created_at");
    assert_int_equal(pipeline->n_ignore, 2);
    assert_string_equal(pipeline->ignore[1], "ip");
    assert_true(pipeline->valid_share == 0.1);
    assert_true(pipeline->test_share == 0.3);
    assert_int_equal(pipeline->split_seed, 11);
    assert_int_equal(pipeline->train.learner, LN_LEARNER_LINEAR);
    assert_true(pipeline->train.linear_l2 == 0.5);
    assert_true(pipeline->train.lambda_l2 == 0.5);
    assert_int_equal(pipeline->train.trees, 50);
    assert_int_equal(pipeline->train.max_leaves, 7);
    ln_pipeline_free(pipeline);
}

static void config_reads_category_keys(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_pipeline *pipeline = NULL;
    char text[2048];

    assert_int_equal(load_text(minimal, &pipeline, &err), LN_OK);
    assert_int_equal(pipeline->train.min_category_rows, 10);
    assert_true(pipeline->train.cat_smooth == 10.0);
    assert_true(pipeline->train.cat_l2 == 10.0);
    assert_int_equal(pipeline->train.min_data_per_category, 10);
    ln_pipeline_free(pipeline);

    snprintf(text, sizeof text,
             "%s"
             "model: {min_category_rows: 3, cat_smooth: 25.5, cat_l2: 0, min_data_per_category: 40}\n",
             minimal);
    assert_int_equal(load_text(text, &pipeline, &err), LN_OK);
    assert_int_equal(pipeline->train.min_category_rows, 3);
    assert_true(pipeline->train.cat_smooth == 25.5);
    assert_true(pipeline->train.cat_l2 == 0.0);
    assert_int_equal(pipeline->train.min_data_per_category, 40);
    ln_pipeline_free(pipeline);
}

typedef struct bad_case {
    const char *append;      /* text added after the minimal pipeline */
    const char *replace_from;
    const char *replace_to;
    const char *message;     /* a piece the error message must contain */
} bad_case;

static void config_rejects_bad_files_with_place(void **state)
{
    (void)state;
    const bad_case cases[] = {
        {"lerning_rate: 1\n", NULL, NULL, "p.yaml:14: unknown key 'lerning_rate' in the top level"},
        {"model: {type: forest}\n", NULL, NULL, "p.yaml:14: model 'type' must be gbdt or linear, found 'forest'"},
        {"model: {trees: many}\n", NULL, NULL, "p.yaml:14: 'trees' must be a whole number, found 'many'"},
        {"model: {seed: 99999999999999999999}\n", NULL, NULL,
         "p.yaml:14: 'seed' must be between 0 and 9223372036854775807, found 99999999999999999999"},
        {"model: {learning_rate: 2}\n", NULL, NULL, "'learning_rate' must be between"},
        {"model: {min_category_rows: 0}\n", NULL, NULL, "p.yaml:14: 'min_category_rows' must be between 1 and"},
        {"model: {cat_smooth: -1}\n", NULL, NULL, "p.yaml:14: 'cat_smooth' must be between 0 and"},
        {"model: {cat_l2: .nan}\n", NULL, NULL, "'cat_l2'"},
        {"model: {min_data_per_category: 0}\n", NULL, NULL, "'min_data_per_category' must be between 1 and"},
        {"model: {min_data_per_category: 2.5}\n", NULL, NULL, "'min_data_per_category' must be a whole number"},
        {"split: {valid: 0.5, test: 0.5}\n", NULL, NULL, "at least 10% for training"},
        {"ignore: email\n", NULL, NULL, "'ignore' must be a list"},
        {"target: again\n", NULL, NULL, "key 'target' appears twice"},
        {"", "  query: SELECT * FROM orders\n", "", "needs a 'query'"},
        {"", "name: fraud\n", "name: fr aud\n", "'name' must be 1 to 128 letters"},
        {"", "positive: 1\n", "", "missing required key 'positive'"},
        {"", "  true_negative: \"0.1 * amount\"\n", "", "missing required key 'true_negative' in outcome"},
        {"", "  sqlite: warehouse.db\n", "  sqlite: warehouse.db\n  csv: a.csv\n", "'data' needs exactly one of 'csv', 'sqlite' or 'postgres'"},
        {"", "target: is_fraud\n", "target: [is_fraud\n", "invalid YAML"},
        {"", "  sqlite: warehouse.db\n  query: SELECT * FROM orders\n", "", "'data' must be a mapping"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        ln_error err = {0};
        ln_pipeline *pipeline = NULL;

        snprintf(text, sizeof text, "%s%s", minimal, cases[i].append);
        if (cases[i].replace_from != NULL) {
            char *at = strstr(text, cases[i].replace_from);
            assert_non_null(at);
            char rest[2048];
            snprintf(rest, sizeof rest, "%s", at + strlen(cases[i].replace_from));
            snprintf(at, sizeof text - (size_t)(at - text), "%s%s", cases[i].replace_to, rest);
        }
        ln_status status = load_text(text, &pipeline, &err);
        if (status == LN_OK || strstr(err.message, cases[i].message) == NULL)
            fail_msg("case %zu: expected an error containing \"%s\", got status %d: %s", i, cases[i].message,
                     status, err.message);
        assert_int_equal(status, LN_ERR_CONFIG);
        assert_null(pipeline);
    }
}

static void config_missing_file_is_not_found(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_pipeline *pipeline = NULL;

    assert_int_equal(ln_pipeline_load("/nonexistent/p.yaml", &pipeline, &err), LN_ERR_NOT_FOUND);
    assert_string_equal(err.message, "pipeline file not found: /nonexistent/p.yaml");
}

static void split_stratified_keeps_rates_and_covers_rows(void **state)
{
    (void)state;
    enum { N = 1000 };
    double labels[N];
    split_rows split;
    ln_error err = {0};
    int seen[N] = {0};

    for (int i = 0; i < N; i++)
        labels[i] = i % 10 == 0;
    assert_int_equal(split_stratified(labels, N, 0.2, 0.3, 7, &split, &err), LN_OK);
    assert_int_equal(split.n_train, 500);
    assert_int_equal(split.n_valid, 200);
    assert_int_equal(split.n_test, 300);

    size_t positives_test = 0;
    for (size_t i = 0; i < split.n_test; i++)
        positives_test += labels[split.test[i]] == 1;
    assert_int_equal(positives_test, 30);

    size_t *parts[3] = {split.train, split.valid, split.test};
    size_t counts[3] = {split.n_train, split.n_valid, split.n_test};
    for (int p = 0; p < 3; p++) {
        for (size_t i = 0; i < counts[p]; i++)
            seen[parts[p][i]]++;
        for (size_t i = 1; i < counts[p]; i++)
            assert_true(parts[p][i - 1] < parts[p][i]);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);

    /* Same seed, same split; another seed, another split. */
    split_rows again, other;
    assert_int_equal(split_stratified(labels, N, 0.2, 0.3, 7, &again, &err), LN_OK);
    assert_memory_equal(split.test, again.test, split.n_test * sizeof *split.test);
    assert_int_equal(split_stratified(labels, N, 0.2, 0.3, 8, &other, &err), LN_OK);
    assert_memory_not_equal(split.test, other.test, split.n_test * sizeof *split.test);
    split_rows_free(&split);
    split_rows_free(&again);
    split_rows_free(&other);
}

static void split_by_time_puts_future_in_test(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_table *table = ln_table_new(10);
    ln_column *time = ln_table_add_column(table, "t", LN_TYPE_TIMESTAMP, &err);
    split_rows split;

    /* Times in reverse row order: row 9 is the earliest. */
    for (int i = 0; i < 10; i++)
        time->values[i] = 1000.0 - i;
    assert_int_equal(split_by_time(time, 10, 0.2, 0.3, &split, &err), LN_OK);
    assert_int_equal(split.n_train, 5);
    assert_int_equal(split.n_test, 3);
    assert_int_equal(split.test[0], 2);
    assert_int_equal(split.test[2], 0);
    assert_int_equal(split.train[0], 9);
    split_rows_free(&split);

    time->values[4] = NAN;
    assert_int_equal(split_by_time(time, 10, 0.2, 0.3, &split, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "missing on data row 5"));
    ln_table_free(table);
}

static const char multi_action[] =
    "name: fraud\n"
    "data: {csv: orders.csv}\n"
    "target: is_fraud\n"
    "positive: 1\n"
    "baseline: {rule: \"amount > 500\"}\n"
    "outcome:\n"
    "  actions:\n"
    "    - name: cancel\n"
    "      payoff_if_positive: \"amount\"\n"
    "      payoff_if_negative: \"-amount * 0.3 - 5\"\n"
    "    - name: review\n"
    "      payoff_if_positive: \"amount * 0.9 - 4\"\n"
    "      payoff_if_negative: \"-4\"\n"
    "      max_rate: 0.02\n"
    "  default:\n"
    "    payoff_if_positive: \"-amount\"\n"
    "    payoff_if_negative: \"amount * 0.05\"\n"
    "  max_flag_rate: 0.1\n"
    "slices: [country, payment_method]\n"
    "slice_min_rows: 50\n"
    "slice_tolerance: 2.5\n"
    "evaluation: {bootstrap: 200, seed: 11}\n";

static void config_reads_multi_action_policy(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_pipeline *pipeline = NULL;

    assert_int_equal(load_text(multi_action, &pipeline, &err), LN_OK);
    assert_int_equal(pipeline->multi_action, 1);
    assert_int_equal(pipeline->n_actions, 2);
    assert_string_equal(pipeline->actions[0].name, "cancel");
    assert_string_equal(pipeline->actions[0].payoff_if_negative, "-amount * 0.3 - 5");
    assert_true(pipeline->actions[0].max_rate == 1.0);
    assert_string_equal(pipeline->actions[1].name, "review");
    assert_true(pipeline->actions[1].max_rate == 0.02);
    assert_string_equal(pipeline->fallback.payoff_if_positive, "-amount");
    assert_string_equal(pipeline->fallback.payoff_if_negative, "amount * 0.05");
    assert_true(pipeline->max_flag_rate == 0.1);
    assert_null(pipeline->payoff[0]);
    assert_int_equal(pipeline->n_slices, 2);
    assert_string_equal(pipeline->slices[1], "payment_method");
    assert_int_equal(pipeline->slice_min_rows, 50);
    assert_true(pipeline->slice_tolerance == 2.5);
    assert_int_equal(pipeline->bootstrap_resamples, 200);
    assert_int_equal(pipeline->bootstrap_seed, 11);
    ln_pipeline_free(pipeline);
}

static void config_binary_form_is_one_action(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_pipeline *pipeline = NULL;

    assert_int_equal(load_text(minimal, &pipeline, &err), LN_OK);
    assert_int_equal(pipeline->multi_action, 0);
    assert_int_equal(pipeline->n_actions, 1);
    assert_string_equal(pipeline->actions[0].name, "flag");
    assert_string_equal(pipeline->actions[0].payoff_if_positive, "0");
    assert_string_equal(pipeline->actions[0].payoff_if_negative, "-2");
    assert_string_equal(pipeline->fallback.payoff_if_positive, "-amount - 15");
    assert_string_equal(pipeline->fallback.payoff_if_negative, "0.1 * amount");
    assert_int_equal(pipeline->slice_min_rows, LN_DEFAULT_SLICE_MIN_ROWS);
    assert_int_equal(pipeline->bootstrap_resamples, LN_BOOTSTRAP_DEFAULT_RESAMPLES);
    ln_pipeline_free(pipeline);
}

static void config_rejects_bad_actions(void **state)
{
    (void)state;
    const char *cases[][3] = {
        {"      max_rate: 0.02\n", "      max_rate: 2\n", "'max_rate' must be between"},
        {"    - name: review\n", "    - name: cancel\n", "action 'cancel' is named twice"},
        {"    - name: review\n", "    - name: default\n", "and not 'default'"},
        {"  default:\n    payoff_if_positive: \"-amount\"\n    payoff_if_negative: \"amount * 0.05\"\n", "",
         "needs a 'default'"},
        {"  max_flag_rate: 0.1\n", "  true_positive: \"1\"\n", "both 'actions' and 'true_positive'"},
        {"      payoff_if_negative: \"-4\"\n", "", "missing required key 'payoff_if_negative' in outcome.actions[2]"},
        {"slice_min_rows: 50\n", "slice_min_rows: 0\n", "'slice_min_rows'"},
        {"evaluation: {bootstrap: 200, seed: 11}\n", "evaluation: {bootstrap: 200, sead: 11}\n", "unknown key 'sead'"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[4096];
        ln_error err = {0};
        ln_pipeline *pipeline = NULL;
        snprintf(text, sizeof text, "%s", multi_action);
        char *at = strstr(text, cases[i][0]);
        assert_non_null(at);
        char rest[4096];
        snprintf(rest, sizeof rest, "%s", at + strlen(cases[i][0]));
        snprintf(at, sizeof text - (size_t)(at - text), "%s%s", cases[i][1], rest);

        ln_status status = load_text(text, &pipeline, &err);
        if (status == LN_OK || strstr(err.message, cases[i][2]) == NULL)
            fail_msg("case %zu: expected an error containing \"%s\", got status %d: %s", i, cases[i][2], status,
                     err.message);
        assert_null(pipeline);
    }
}

/* Writes size bytes to dir/name and sets its modification time to seconds_ago before now. */
static void write_aged_file(const char *dir, const char *name, size_t size, time_t seconds_ago)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    for (size_t i = 0; i < size; i++)
        fputc('x', file);
    fclose(file);
    struct timespec times[2] = {{time(NULL) - seconds_ago, 0}, {time(NULL) - seconds_ago, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
}

static int file_exists(const char *dir, const char *name)
{
    char path[512];
    struct stat info;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &info) == 0;
}

/* The moment seconds_ago seconds before now. */
static struct timespec seconds_before_now(time_t seconds_ago)
{
    struct timespec moment;
    clock_gettime(CLOCK_REALTIME, &moment);
    moment.tv_sec -= seconds_ago;
    return moment;
}

#define KEY_A "0123456789abcdef0123456789abcdef"
#define KEY_B "fedcba9876543210fedcba9876543210"

static void cache_prune_drops_least_recent(void **state)
{
    (void)state;
    char dir[] = "/tmp/lanner-cache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_aged_file(dir, "load-" KEY_A ".lce", 100, 300);
    write_aged_file(dir, "train-" KEY_A ".lnr", 200, 200);
    write_aged_file(dir, "split-" KEY_A ".lce", 300, 100);
    write_aged_file(dir, "load-" KEY_B ".lce.tmp.abc123", 50, 7200);
    write_aged_file(dir, "split-" KEY_B ".lce.tmp.def456", 50, 10);

    /* Files that lanner did not name stay, however old: the folder may be shared. */
    write_aged_file(dir, "notes.txt", 1000, 400);
    write_aged_file(dir, "production-model.lnr", 1000, 400);
    write_aged_file(dir, "report.tmp.docx", 1000, 7200);
    write_aged_file(dir, "load-" KEY_A "0.lce", 1000, 400);

    cache_prune_result result;
    ln_error err = {0};
    struct timespec keep_since = seconds_before_now(150);
    assert_int_equal(cache_prune(dir, 450, &keep_since, &result, &err), LN_OK);
    assert_int_equal(result.removed, 2);
    assert_int_equal(result.removed_bytes, 300);
    assert_int_equal(result.kept, 1);
    assert_int_equal(result.kept_bytes, 300);
    assert_false(file_exists(dir, "load-" KEY_A ".lce"));
    assert_false(file_exists(dir, "train-" KEY_A ".lnr"));
    assert_true(file_exists(dir, "split-" KEY_A ".lce"));
    assert_false(file_exists(dir, "load-" KEY_B ".lce.tmp.abc123"));
    assert_true(file_exists(dir, "split-" KEY_B ".lce.tmp.def456"));
    assert_true(file_exists(dir, "notes.txt"));
    assert_true(file_exists(dir, "production-model.lnr"));
    assert_true(file_exists(dir, "report.tmp.docx"));
    assert_true(file_exists(dir, "load-" KEY_A "0.lce"));

    /* Entries used since keep_since stay even over the limit, to the nanosecond. */
    write_aged_file(dir, "load-" KEY_B ".lce", 500, 0);
    keep_since = seconds_before_now(50);
    assert_int_equal(cache_prune(dir, 100, &keep_since, &result, &err), LN_OK);
    assert_int_equal(result.removed, 1);
    assert_false(file_exists(dir, "split-" KEY_A ".lce"));
    assert_true(file_exists(dir, "load-" KEY_B ".lce"));
    assert_int_equal(result.kept_bytes, 500);

    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    assert_int_equal(system(command), 0);

    /* A cache folder that was never created is empty. */
    keep_since = seconds_before_now(0);
    assert_int_equal(cache_prune(dir, 100, &keep_since, &result, &err), LN_OK);
    assert_int_equal(result.kept + result.removed, 0);
}

/* An entry written in the same second as the run started, but before it, is not the run's own. */
static void cache_prune_compares_nanoseconds(void **state)
{
    (void)state;
    char dir[] = "/tmp/lanner-cache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/load-" KEY_A ".lce", dir);
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    fputs("entry", file);
    fclose(file);

    struct timespec written;
    clock_gettime(CLOCK_REALTIME, &written);
    struct timespec times[2] = {written, written};
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    struct timespec keep_since = written;
    keep_since.tv_nsec += 1;
    if (keep_since.tv_nsec == 1000000000) {
        keep_since.tv_sec++;
        keep_since.tv_nsec = 0;
    }

    cache_prune_result result;
    ln_error err = {0};
    assert_int_equal(cache_prune(dir, 1, &keep_since, &result, &err), LN_OK);
    assert_int_equal(result.removed, 1);
    assert_false(file_exists(dir, "load-" KEY_A ".lce"));

    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    assert_int_equal(system(command), 0);
}

static void cache_read_marks_entry_used(void **state)
{
    (void)state;
    char dir[] = "/tmp/lanner-cache-XXXXXX";
    assert_non_null(mkdtemp(dir));
    run_cache cache;
    cache_open(&cache, dir, 1);
    cache_blob blob;
    cache_blob_init(&blob, 1 << 20);
    cache_put_string(&blob, "payload");
    cache_write(&cache, "load", "0123", &blob);
    cache_blob_free(&blob);

    char path[512];
    snprintf(path, sizeof path, "%s/load-0123.lce", dir);
    struct timespec old[2] = {{time(NULL) - 1000, 0}, {time(NULL) - 1000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);

    unsigned char *payload = NULL;
    size_t size = 0;
    ln_error err = {0};
    assert_int_equal(cache_read(&cache, "load", "0123", &payload, &size, &err), LN_OK);
    free(payload);
    struct stat info;
    assert_int_equal(stat(path, &info), 0);
    assert_true(info.st_mtime >= time(NULL) - 60);

    char command[600];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    assert_int_equal(system(command), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_reads_minimal_pipeline),
        cmocka_unit_test(config_reads_every_section),
        cmocka_unit_test(config_reads_category_keys),
        cmocka_unit_test(config_rejects_bad_files_with_place),
        cmocka_unit_test(config_missing_file_is_not_found),
        cmocka_unit_test(split_stratified_keeps_rates_and_covers_rows),
        cmocka_unit_test(split_by_time_puts_future_in_test),
        cmocka_unit_test(config_reads_multi_action_policy),
        cmocka_unit_test(config_binary_form_is_one_action),
        cmocka_unit_test(config_rejects_bad_actions),
        cmocka_unit_test(cache_prune_drops_least_recent),
        cmocka_unit_test(cache_prune_compares_nanoseconds),
        cmocka_unit_test(cache_read_marks_entry_used),
    };
    return cmocka_run_group_tests(tests, make_scratch, remove_scratch);
}
