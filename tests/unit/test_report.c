/*
 * Tests of the HTML run report. The page tests build it from a synthetic run
 * and check its text, escaping, NaN and infinity handling, downsampling and
 * the temporary-file write. The unit tests check the number formatter, the
 * escaper and the curves directly.
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lanner/report.h"
#include "report/report_internal.h"

#define EM_DASH "\xe2\x80\x94"

/* A synthetic run: scores, labels, flags and payoffs for the test and valid splits. */
typedef struct fixture {
    char dir[64];
    char path[128];
    size_t rows;
    double *scores;
    double *labels;
    unsigned char *rule_flags;
    double *gain_tp;
    double *cost_fp;
    double *loss_fn;
    const char *feature_names[25];
    char feature_storage[25][32];
    double importance[25];
    const char *warnings[2];
    ln_report_input input;
} fixture;

static uint64_t lcg_state;

static double next_uniform(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg_state >> 11) / 9007199254740992.0;
}

static void fill_rows(fixture *f, size_t rows)
{
    f->rows = rows;
    f->scores = malloc((rows ? rows : 1) * sizeof *f->scores);
    f->labels = malloc((rows ? rows : 1) * sizeof *f->labels);
    f->rule_flags = malloc(rows ? rows : 1);
    f->gain_tp = malloc((rows ? rows : 1) * sizeof(double));
    f->cost_fp = malloc((rows ? rows : 1) * sizeof(double));
    f->loss_fn = malloc((rows ? rows : 1) * sizeof(double));
    assert_non_null(f->scores);
    assert_non_null(f->loss_fn);

    lcg_state = 42;
    for (size_t i = 0; i < rows; i++) {
        /* One row in ten is positive; positives tend to score higher, so the AUC is well above 0.5. */
        f->labels[i] = i % 10 == 0;
        f->scores[i] = f->labels[i] == 1 ? 0.3 + 0.7 * next_uniform() : 0.7 * next_uniform();
        f->rule_flags[i] = i % 7 == 0;
        f->gain_tp[i] = 100;
        f->cost_fp[i] = -5;
        f->loss_fn[i] = -100;
    }
}

static void fill_summaries(ln_report_input *input, size_t rows)
{
    ln_policy_summary model = {"Model", 0.91, 0.62, 0.2311, 0.137, 21, 21.0 / 300, 18, 20000, 0};
    ln_policy_summary rule = {"Rule in use", 0.55, 0.12, NAN, NAN, 43, 43.0 / 300, 5, 7655, 0};
    ln_policy_summary nothing = {"Flag nothing", NAN, NAN, NAN, INFINITY, 0, 0, 0, -3000, 0};
    model.payoff_per_1000 = model.payoff * 1000.0 / (double)rows;
    rule.payoff_per_1000 = rule.payoff * 1000.0 / (double)rows;
    nothing.payoff_per_1000 = nothing.payoff * 1000.0 / (double)rows;
    input->model = model;
    input->baseline = rule;
    input->nothing = nothing;
}

static void fill_features(fixture *f)
{
    for (int i = 0; i < 25; i++) {
        snprintf(f->feature_storage[i], sizeof f->feature_storage[i], "feature_%02d", i);
        f->feature_names[i] = f->feature_storage[i];
        f->importance[i] = (double)(i * 7 % 25) + 0.5;
    }
    f->feature_names[3] = "<script>alert(1)</script>";
    f->importance[3] = 1000;
}

static void fill_text(ln_report_input *input)
{
    input->pipeline_name = "order-fraud";
    input->target = "is_fraud";
    input->positive_label = "1";
    input->learner = "gbdt";
    input->data_source = "sqlite warehouse.db: SELECT * FROM orders WHERE amount > 0";
    input->data_hash = "xxh64:0123456789abcdef";
    input->baseline_rule = "amount < 100 && country == \"FR\"";
    input->payoff_text[0] = "amount * 0.9";
    input->payoff_text[1] = "-5";
    input->payoff_text[2] = "-amount";
    input->payoff_text[3] = "0";
    input->max_flag_rate = 0.05;
    input->registry_name = "order-fraud";
    input->registry_version = 3;
    input->run_dir = "runs/order-fraud-20261204T101500";
    input->created_at = "2026-12-04T10:15:00Z";
    input->lanner_version = "0.1.0";
    input->split_description = "by created_at: train before 2026-05-02, valid before 2026-06-01, test after";
}

static void fixture_init(fixture *f, size_t rows)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/lanner-report-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/report.html", f->dir);

    fill_rows(f, rows);
    fill_features(f);
    f->warnings[0] = "column <notes> is constant & was dropped";
    f->warnings[1] = "target has 's' quotes";

    ln_report_input *input = &f->input;
    fill_text(input);
    fill_summaries(input, rows);
    input->rows_train = rows * 4;
    input->rows_valid = rows;
    input->rows_test = rows;
    input->positive_rate_train = 0.1;
    input->positive_rate_valid = 0.1;
    input->positive_rate_test = 0.1;
    input->test_scores = f->scores;
    input->test_labels = f->labels;
    input->test_baseline_flags = f->rule_flags;
    input->valid_scores = f->scores;
    input->valid_labels = f->labels;
    ln_payoffs payoffs = {f->gain_tp, f->cost_fp, f->loss_fn, NULL};
    input->test_payoffs = payoffs;
    input->valid_payoffs = payoffs;
    input->n_features = 25;
    input->feature_names = f->feature_names;
    input->feature_importance = f->importance;
    input->n_warnings = 2;
    input->warnings = f->warnings;
}

static void fixture_free(fixture *f)
{
    DIR *dir = opendir(f->dir);
    if (dir != NULL) {
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            if (entry->d_name[0] != '.') {
                char path[512];
                snprintf(path, sizeof path, "%s/%s", f->dir, entry->d_name);
                unlink(path);
            }
        }
        closedir(dir);
    }
    rmdir(f->dir);
    free(f->scores);
    free(f->labels);
    free(f->rule_flags);
    free(f->gain_tp);
    free(f->cost_fp);
    free(f->loss_fn);
}

static char *read_text(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = malloc((size_t)length + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)length, file), (size_t)length);
    text[length] = '\0';
    fclose(file);
    if (size != NULL) {
        *size = (size_t)length;
    }
    return text;
}

static char *write_and_read(fixture *f, size_t *size)
{
    ln_error err = {0};
    ln_status status = ln_report_write_html(&f->input, f->path, &err);
    if (status != LN_OK) {
        fail_msg("ln_report_write_html failed: %s", err.message);
    }
    return read_text(f->path, size);
}

static size_t count_occurrences(const char *text, const char *needle)
{
    size_t count = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) {
        count++;
    }
    return count;
}

static int is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Fails when word appears in text as a whole word, ignoring case ("nan" but not "financial"). */
static void assert_no_word(const char *text, const char *word)
{
    size_t length = strlen(word);
    for (const char *p = text; *p != '\0'; p++) {
        if (strncasecmp(p, word, length) == 0 && (p == text || !is_letter(p[-1])) && !is_letter(p[length])) {
            fail_msg("found \"%s\" at: %.60s", word, p > text + 30 ? p - 30 : text);
        }
    }
}

static void assert_contains(const char *text, const char *needle)
{
    if (strstr(text, needle) == NULL) {
        fail_msg("report lacks: %s", needle);
    }
}

static void test_headline_states_gain(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);

    char *html = write_and_read(&f, NULL);
    /* 20,000 - 7,655 = 12,345; per 1,000 rows: 12,345 * 1000 / 300 = 41,150. 20,000 + 3,000 = 23,000. */
    assert_contains(html, "On 300 test rows the model earns 12,345 more than the rule in use (+41,150 per 1,000 rows) "
                          "and 23,000 more than flagging nothing.");
    assert_contains(html, "payoff units");
    assert_null(strstr(html, "$"));

    free(html);
    fixture_free(&f);
}

static void test_headline_states_loss(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);
    f.input.model.payoff = 6421;
    f.input.model.payoff_per_1000 = 6421 * 1000.0 / 300;

    char *html = write_and_read(&f, NULL);
    /* 6,421 - 7,655 = -1,234, per 1,000 rows -4,113.33 rounds to -4,113. */
    assert_contains(html, "the model earns 1,234 less than the rule in use (-4,113 per 1,000 rows) and 9,421 more "
                          "than flagging nothing.");
    assert_contains(html, "class=\"headline loss\"");

    free(html);
    fixture_free(&f);
}

static void test_headline_unknown_payoff(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);
    f.input.baseline.payoff = NAN;
    f.input.baseline.payoff_per_1000 = NAN;

    char *html = write_and_read(&f, NULL);
    assert_contains(html, "On 300 test rows the model cannot be compared with the rule in use and 23,000 more "
                          "than flagging nothing.");
    assert_no_word(html, "nan");

    free(html);
    fixture_free(&f);
}

static void test_payoff_chart_marks_choice(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);
    f.input.model.threshold = 0.99;

    char *html = write_and_read(&f, NULL);
    assert_contains(html, "<h3>Payoff against flag rate (valid split)</h3>");
    assert_contains(html, ">capacity limit</text>");
    assert_contains(html, ">Chosen threshold</text>");
    /* Few rows score 0.99 or more, so the x axis spans 2.5 times the 5% limit, rounded up to ticks of 2%. */
    assert_contains(html, ">14%</text>");
    assert_null(strstr(html, ">16%</text>"));

    free(html);
    fixture_free(&f);
}

static void test_sections_present(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);

    char *html = write_and_read(&f, NULL);
    assert_contains(html, "<h2>Result</h2>");
    assert_contains(html, "<h2>Decision policy</h2>");
    assert_contains(html, "<h2>Model against the rule in use (test split)</h2>");
    assert_contains(html, "<h2>Charts</h2>");
    assert_contains(html, "<h2>Data</h2>");
    assert_contains(html, "<footer>");
    assert_contains(html, "Flag a row when the model's score is at least <strong>0.137</strong> (flags 7.0% of "
                          "test rows, capacity limit 5.0%)");
    assert_contains(html, "registered as <code>order-fraud@3</code>");
    assert_contains(html, "run directory <code>runs/order-fraud-20261204T101500</code>");
    assert_int_equal(count_occurrences(html, "<svg"), 6);
    assert_int_equal(count_occurrences(html, "</svg>"), 6);

    free(html);
    fixture_free(&f);
}

static void test_comparison_table_values(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);

    char *html = write_and_read(&f, NULL);
    /* 30 positives among 300 rows: model recall 18/30, precision 18/21; rule recall 5/30, precision 5/43. */
    assert_contains(html, "<th>Recall (true positives / positives)</th><td class=\"num\">60.0%</td>"
                          "<td class=\"num\">16.7%</td><td class=\"num\">0.0%</td>");
    assert_contains(html, "<th>Precision (true positives / flagged)</th><td class=\"num\">85.7%</td>"
                          "<td class=\"num\">11.6%</td><td class=\"num\">" EM_DASH "</td>");
    assert_contains(html, "<th>ROC AUC</th><td class=\"num\">0.910</td><td class=\"num\">0.550</td>"
                          "<td class=\"num\">" EM_DASH "</td>");
    assert_contains(html, "<th>Log loss</th><td class=\"num\">0.2311</td><td class=\"num\">" EM_DASH "</td>");
    assert_contains(html, "<th>Total payoff</th><td class=\"num best\">20,000</td><td class=\"num\">7,655</td>"
                          "<td class=\"num\">-3,000</td>");

    free(html);
    fixture_free(&f);
}

static void test_input_text_escaped(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);

    char *html = write_and_read(&f, NULL);
    assert_contains(html, "<code>amount &lt; 100 &amp;&amp; country == &quot;FR&quot;</code>");
    assert_null(strstr(html, "amount < 100"));
    assert_contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_null(strstr(html, "<script"));
    assert_contains(html, "<li>column &lt;notes&gt; is constant &amp; was dropped</li>");
    assert_contains(html, "<li>target has &#39;s&#39; quotes</li>");

    free(html);
    fixture_free(&f);
}

static void test_no_nan_inf_or_urls(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);
    f.input.model.auc = NAN;
    f.input.model.pr_auc = NAN;
    f.input.baseline.payoff_per_1000 = NAN;
    f.input.nothing.log_loss = -INFINITY;

    char *html = write_and_read(&f, NULL);
    assert_no_word(html, "nan");
    assert_no_word(html, "inf");
    assert_no_word(html, "infinity");
    assert_no_word(html, "undefined");

    /* The page makes no requests: the only URL allowed is the SVG namespace. */
    size_t urls = count_occurrences(html, "http");
    size_t namespaces = count_occurrences(html, "xmlns=\"http://www.w3.org/2000/svg\"");
    assert_int_equal(urls, namespaces);
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "<link"));

    free(html);
    fixture_free(&f);
}

static void test_threshold_flags_nothing(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);
    f.input.model.threshold = INFINITY;
    f.input.model.flagged = 0;
    f.input.model.flag_rate = 0;
    f.input.model.true_positives = 0;
    f.input.max_flag_rate = 1;

    char *html = write_and_read(&f, NULL);
    assert_contains(html, "The model flags no rows: no score reaches its threshold (it flags 0.0% of test rows, "
                          "no capacity limit)");
    assert_contains(html, "<th>Precision (true positives / flagged)</th><td class=\"num\">" EM_DASH "</td>");
    assert_no_word(html, "inf");
    assert_no_word(html, "nan");

    free(html);
    fixture_free(&f);
}

static void test_single_class_split(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);
    for (size_t i = 0; i < f.rows; i++) {
        f.labels[i] = 0;
    }
    f.input.model.auc = NAN;
    f.input.positive_rate_test = 0;

    char *html = write_and_read(&f, NULL);
    assert_contains(html, "Needs both classes in the test split");
    assert_contains(html, "Needs positive rows in the test split");
    assert_int_equal(count_occurrences(html, "<svg"), 6);
    assert_no_word(html, "nan");
    assert_no_word(html, "inf");

    free(html);
    fixture_free(&f);
}

static void test_zero_test_rows(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 0);
    f.input.rows_train = 0;
    f.input.n_features = 0;
    f.input.n_warnings = 0;
    f.input.registry_name = NULL;
    ln_policy_summary empty = {"Model", NAN, NAN, NAN, INFINITY, 0, NAN, 0, 0, NAN};
    f.input.model = empty;
    f.input.baseline = empty;
    f.input.nothing = empty;

    char *html = write_and_read(&f, NULL);
    assert_contains(html, "The test split has no rows");
    assert_contains(html, "No test rows");
    assert_contains(html, "No feature importance available");
    assert_contains(html, "<h3>Warnings</h3>\n<p>None.</p>");
    assert_contains(html, "not registered");
    assert_int_equal(count_occurrences(html, "<svg"), 6);
    assert_no_word(html, "nan");
    assert_no_word(html, "inf");

    free(html);
    fixture_free(&f);
}

static void test_null_strings_render_dash(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);
    ln_report_input *input = &f.input;
    input->pipeline_name = NULL;
    input->baseline_rule = NULL;
    input->data_hash = NULL;
    input->payoff_text[3] = NULL;
    input->feature_names = NULL;
    input->model.label = NULL;

    char *html = write_and_read(&f, NULL);
    assert_contains(html, "<h1>Run report: " EM_DASH "</h1>");
    assert_contains(html, "<dt>Data hash</dt><dd>" EM_DASH "</dd>");
    assert_contains(html, "<th class=\"num\">Model</th>");
    assert_no_word(html, "null");

    free(html);
    fixture_free(&f);
}

static void test_large_input_downsampled(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 200000);

    size_t size = 0;
    char *html = write_and_read(&f, &size);
    /* Without downsampling the ROC curve alone would hold 200k points, several megabytes. */
    assert_true(size < 200 * 1024);
    assert_int_equal(count_occurrences(html, "<svg"), 6);
    assert_contains(html, "On 200,000 test rows");

    free(html);
    fixture_free(&f);
}

static void test_temp_file_removed(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);

    /* Writing twice replaces the report in place and leaves nothing else in the folder. */
    free(write_and_read(&f, NULL));
    free(write_and_read(&f, NULL));

    DIR *dir = opendir(f.dir);
    assert_non_null(dir);
    size_t entries = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] != '.') {
            assert_string_equal(entry->d_name, "report.html");
            entries++;
        }
    }
    closedir(dir);
    assert_int_equal(entries, 1);

    struct stat info;
    assert_int_equal(stat(f.path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0644);
    fixture_free(&f);
}

static void test_missing_folder_fails(void **state)
{
    (void)state;
    fixture f;
    fixture_init(&f, 300);
    char path[256];
    snprintf(path, sizeof path, "%s/no-such-folder/report.html", f.dir);

    ln_error err = {0};
    assert_int_equal(ln_report_write_html(&f.input, path, &err), LN_ERR_IO);
    assert_int_equal(err.status, LN_ERR_IO);
    assert_non_null(strstr(err.message, path));

    fixture_free(&f);
}

static void test_format_fixed(void **state)
{
    (void)state;
    char out[REPORT_NUMBER_MAX];

    assert_string_equal(report_format_fixed(out, 12345.678, 0), "12,346");
    assert_string_equal(report_format_fixed(out, 1234567.891, 2), "1,234,567.89");
    assert_string_equal(report_format_fixed(out, 999.5, 0), "1,000");
    assert_string_equal(report_format_fixed(out, 0.9999, 2), "1.00");
    assert_string_equal(report_format_fixed(out, 0.05, 3), "0.050");
    assert_string_equal(report_format_fixed(out, -1234.5, 1), "-1,234.5");
    assert_string_equal(report_format_fixed(out, -0.004, 2), "0.00");
    assert_string_equal(report_format_fixed(out, -0.0, 0), "0");
    assert_string_equal(report_format_fixed(out, 100, 0), "100");
    assert_string_equal(report_format_fixed(out, 1e16, 0), "1.00e+16");
    assert_string_equal(report_format_fixed(out, -2.5e20, 2), "-2.50e+20");
    assert_string_equal(report_format_fixed(out, NAN, 2), EM_DASH);
    assert_string_equal(report_format_fixed(out, INFINITY, 2), EM_DASH);
    assert_string_equal(report_format_fixed(out, -INFINITY, 0), EM_DASH);
}

static void test_format_variants(void **state)
{
    (void)state;
    char out[REPORT_NUMBER_MAX];

    assert_string_equal(report_format_signed(out, 411, 0), "+411");
    assert_string_equal(report_format_signed(out, -411.4, 0), "-411");
    assert_string_equal(report_format_signed(out, 0.001, 0), "0");
    assert_string_equal(report_format_percent(out, 0.021, 1), "2.1%");
    assert_string_equal(report_format_percent(out, 1, 0), "100%");
    assert_string_equal(report_format_percent(out, NAN, 1), EM_DASH);
    assert_string_equal(report_format_significant(out, 0.13712, 3), "0.137");
    assert_string_equal(report_format_significant(out, 1250.4, 3), "1,250");
    assert_string_equal(report_format_significant(out, 0.000012345, 3), "1.23e-05");
    assert_string_equal(report_format_significant(out, 0, 3), "0");
    assert_string_equal(report_format_significant(out, 0.62, 4), "0.62");
    assert_string_equal(report_format_significant(out, 0.5, 4), "0.5");
    assert_string_equal(report_format_significant(out, 2000, 4), "2,000");
    assert_string_equal(report_format_payoff(out, 12.345), "12.3");
    assert_string_equal(report_format_payoff(out, 5.678), "5.68");
    assert_string_equal(report_format_payoff(out, -123456.7), "-123,457");
    assert_string_equal(report_format_count(out, 0), "0");
    assert_string_equal(report_format_count(out, 1000000), "1,000,000");
    assert_string_equal(report_format_count(out, 999), "999");
}

static void test_escape_html(void **state)
{
    (void)state;
    report_buf buf;
    report_buf_init(&buf, 1024);

    report_buf_escaped(&buf, "a<b & \"c\" 'd'> \x01 caf\xc3\xa9");
    assert_string_equal(buf.data, "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt; \xef\xbf\xbd caf\xc3\xa9");

    buf.length = 0;
    report_buf_escaped(&buf, NULL);
    assert_string_equal(buf.data, EM_DASH);

    /* A cut at byte 3 would split the second two-byte character, so it moves back to byte 2. */
    buf.length = 0;
    report_buf_escaped_prefix(&buf, "\xc3\xa9\xc3\xa9\xc3\xa9", 3);
    assert_string_equal(buf.data, "\xc3\xa9...");

    buf.length = 0;
    report_buf_escaped_prefix(&buf, "a&b", 3);
    assert_string_equal(buf.data, "a&amp;b");
    assert_int_equal(buf.status, LN_OK);
    report_buf_free(&buf);
}

static void test_buffer_limit(void **state)
{
    (void)state;
    report_buf buf;
    report_buf_init(&buf, 10);

    report_buf_puts(&buf, "0123456789");
    assert_int_equal(buf.status, LN_OK);
    report_buf_puts(&buf, "x");
    assert_int_equal(buf.status, LN_ERR_LIMIT);
    assert_int_equal(buf.length, 10);
    assert_string_equal(buf.data, "0123456789");
    report_buf_free(&buf);
}

static void test_coordinates_use_point(void **state)
{
    (void)state;
    report_buf buf;
    report_buf_init(&buf, 1024);

    report_buf_coord(&buf, 12.34);
    report_buf_puts(&buf, " ");
    report_buf_coord(&buf, -0.26);
    report_buf_puts(&buf, " ");
    report_buf_coord(&buf, 300);
    assert_string_equal(buf.data, "12.3 -0.3 300.0");
    report_buf_free(&buf);
}

static void test_curves_exact_small_case(void **state)
{
    (void)state;
    const double scores[5] = {0.9, 0.8, 0.8, 0.1, NAN};
    const double labels[5] = {1, 0, 1, 0, 1};
    report_scored *rows = NULL;
    size_t n = 0;
    ln_error err = {0};

    assert_int_equal(report_sort_by_score(scores, labels, NULL, 5, &rows, &n, &err), LN_OK);
    assert_int_equal(n, 4);

    /* The tied 0.8 rows enter together: one step from (0, 0.5) to (0.5, 1). */
    report_curve roc;
    assert_int_equal(report_roc_curve(rows, n, &roc, &err), LN_OK);
    assert_int_equal(roc.n, 4);
    const double roc_x[4] = {0, 0, 0.5, 1}, roc_y[4] = {0, 0.5, 1, 1};
    for (size_t i = 0; i < 4; i++) {
        assert_float_equal(roc.x[i], roc_x[i], 1e-12);
        assert_float_equal(roc.y[i], roc_y[i], 1e-12);
    }

    report_curve pr;
    assert_int_equal(report_pr_curve(rows, n, &pr, &err), LN_OK);
    assert_int_equal(pr.n, 3);
    const double pr_x[3] = {0.5, 1, 1}, pr_y[3] = {1, 2.0 / 3, 0.5};
    for (size_t i = 0; i < 3; i++) {
        assert_float_equal(pr.x[i], pr_x[i], 1e-12);
        assert_float_equal(pr.y[i], pr_y[i], 1e-12);
    }

    report_curve_free(&roc);
    report_curve_free(&pr);
    free(rows);
}

static void test_curves_downsampled(void **state)
{
    (void)state;
    const size_t count = 100000;
    double *scores = malloc(count * sizeof *scores);
    double *labels = malloc(count * sizeof *labels);
    assert_non_null(scores);
    assert_non_null(labels);
    lcg_state = 7;
    for (size_t i = 0; i < count; i++) {
        labels[i] = i % 3 == 0;
        scores[i] = next_uniform() + 0.3 * labels[i];
    }

    report_scored *rows = NULL;
    size_t n = 0;
    ln_error err = {0};
    assert_int_equal(report_sort_by_score(scores, labels, NULL, count, &rows, &n, &err), LN_OK);

    report_curve roc, pr;
    assert_int_equal(report_roc_curve(rows, n, &roc, &err), LN_OK);
    assert_int_equal(report_pr_curve(rows, n, &pr, &err), LN_OK);
    assert_true(roc.n > 100 && roc.n <= REPORT_MAX_CURVE_POINTS + 4);
    assert_true(pr.n > 100 && pr.n <= REPORT_MAX_CURVE_POINTS + 4);
    assert_float_equal(roc.x[roc.n - 1], 1, 1e-12);
    assert_float_equal(roc.y[roc.n - 1], 1, 1e-12);
    assert_float_equal(pr.x[pr.n - 1], 1, 1e-12);
    assert_float_equal(pr.y[pr.n - 1], 1.0 / 3, 1e-4);

    report_curve_free(&roc);
    report_curve_free(&pr);
    free(rows);
    free(scores);
    free(labels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headline_states_gain),
        cmocka_unit_test(test_headline_states_loss),
        cmocka_unit_test(test_headline_unknown_payoff),
        cmocka_unit_test(test_payoff_chart_marks_choice),
        cmocka_unit_test(test_sections_present),
        cmocka_unit_test(test_comparison_table_values),
        cmocka_unit_test(test_input_text_escaped),
        cmocka_unit_test(test_no_nan_inf_or_urls),
        cmocka_unit_test(test_threshold_flags_nothing),
        cmocka_unit_test(test_single_class_split),
        cmocka_unit_test(test_zero_test_rows),
        cmocka_unit_test(test_null_strings_render_dash),
        cmocka_unit_test(test_large_input_downsampled),
        cmocka_unit_test(test_temp_file_removed),
        cmocka_unit_test(test_missing_folder_fails),
        cmocka_unit_test(test_format_fixed),
        cmocka_unit_test(test_format_variants),
        cmocka_unit_test(test_escape_html),
        cmocka_unit_test(test_buffer_limit),
        cmocka_unit_test(test_coordinates_use_point),
        cmocka_unit_test(test_curves_exact_small_case),
        cmocka_unit_test(test_curves_downsampled),
    };
    return cmocka_run_group_tests(tests, 0, NULL);
}
