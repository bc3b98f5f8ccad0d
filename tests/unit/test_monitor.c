/*
 * Tests of the monitor. The drift statistics are checked against values
 * computed with numpy 1.24 and scipy 1.10, recorded below to 17 digits.
 * Other tests cover the binning of a reference, injected shifts, the false
 * alarm rate on samples of one distribution, the reference JSON, the
 * prediction log reader, labels, windows, payoffs, the contract and settings.
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

#include "lanner/monitor.h"

static void assert_close(double got, double want, double tolerance)
{
    if (!(fabs(got - want) <= tolerance * fmax(1.0, fabs(want)))) {
        print_error("got %.17g, want %.17g (tolerance %g)\n", got, want, tolerance);
        fail();
    }
}

/* Relative closeness, for p-values far below 1. */
static void assert_relative(double got, double want, double tolerance)
{
    if (!(fabs(got - want) <= tolerance * fabs(want))) {
        print_error("got %.17g, want %.17g (relative tolerance %g)\n", got, want, tolerance);
        fail();
    }
}

static const double reference_counts[8] = {120, 340, 560, 410, 230, 90, 0, 15};
static const double current_counts[8] = {100, 300, 620, 480, 200, 60, 30, 0};

/* numpy: r, c floored shares; sum((c - r) * log(c / r)). */
static void psi_matches_numpy(void **state)
{
    (void)state;
    assert_close(ln_psi(reference_counts, current_counts, 8), 0.14638940346471696, 1e-9);
    assert_close(ln_psi(reference_counts, reference_counts, 8), 0, 1e-15);
}

static void psi_empty_total_is_nan(void **state)
{
    double zeros[3] = {0, 0, 0};
    double some[3] = {1, 2, 3};
    (void)state;
    assert_true(isnan(ln_psi(zeros, some, 3)));
    assert_true(isnan(ln_psi(some, zeros, 3)));
    /* An empty bin on one side is floored, so the index stays finite. */
    double only_first[3] = {5, 0, 0};
    double only_last[3] = {0, 0, 5};
    assert_true(isfinite(ln_psi(only_first, only_last, 3)));
}

/* scipy.special.kolmogorov((sqrt(e) + 0.12 + 0.11 / sqrt(e)) * D) on numpy cumulative shares. */
static void ks_binned_matches_scipy(void **state)
{
    (void)state;
    ln_test_result ks = ln_ks_binned(reference_counts, current_counts, 8);
    assert_close(ks.statistic, 0.037159542310918392, 1e-12);
    assert_close(ks.p_value, 0.16827342992084993, 1e-9);
}

/* scipy.stats.chi2_contingency([r, c] without all-zero columns, correction=False). */
static void chi2_matches_scipy(void **state)
{
    (void)state;
    ln_test_result chi2 = ln_chi2_homogeneity(reference_counts, current_counts, 8);
    assert_close(chi2.statistic, 65.795115616061281, 1e-9);
    assert_int_equal(chi2.dof, 7);
    assert_relative(chi2.p_value, 1.0407152998685265e-11, 1e-9);

    double r[2] = {30, 70}, c[2] = {45, 55};
    chi2 = ln_chi2_homogeneity(r, c, 2);
    assert_close(chi2.statistic, 4.7999999999999998, 1e-12);
    assert_int_equal(chi2.dof, 1);
    assert_close(chi2.p_value, 0.028459736916310638, 1e-9);
}

static void chi2_single_bin_is_one(void **state)
{
    double r[3] = {10, 0, 0}, c[3] = {4, 0, 0};
    (void)state;
    ln_test_result chi2 = ln_chi2_homogeneity(r, c, 3);
    assert_close(chi2.statistic, 0, 0);
    assert_int_equal(chi2.dof, 0);
    assert_close(chi2.p_value, 1, 0);
}

/* scipy.spatial.distance.jensenshannon(r, c, base=2). */
static void js_matches_scipy(void **state)
{
    (void)state;
    assert_close(ln_js_distance(reference_counts, current_counts, 8), 0.13000294417699443, 1e-9);
    assert_close(ln_js_distance(reference_counts, reference_counts, 8), 0, 1e-7);
    double a[2] = {1, 0}, b[2] = {0, 1};
    assert_close(ln_js_distance(a, b, 2), 1, 1e-12);
}

/* scipy.stats.chi2.sf and scipy.special.kolmogorov. */
static void survival_functions_match_scipy(void **state)
{
    static const struct { double x, dof, want; } chi2[] = {
        {3.2, 1, 0.073638270120302579},  {50, 10, 2.6690834249044951e-07}, {400, 30, 2.7954938576565057e-66},
        {0.5, 7, 0.99944648139042491},   {12, 12, 0.44567964136461097},
    };
    static const struct { double x, want; } kolmogorov[] = {
        {0.3, 0.99999069419866549}, {0.8, 0.54414241157419807}, {1.0, 0.26999967167735456},
        {1.5, 0.022217962616525127}, {3.0, 3.0459959489425258e-08},
    };
    (void)state;
    for (size_t i = 0; i < sizeof chi2 / sizeof chi2[0]; i++)
        assert_relative(ln_chi2_sf(chi2[i].x, chi2[i].dof), chi2[i].want, 1e-9);
    for (size_t i = 0; i < sizeof kolmogorov / sizeof kolmogorov[0]; i++)
        assert_relative(ln_kolmogorov_sf(kolmogorov[i].x), kolmogorov[i].want, 1e-9);
    assert_close(ln_chi2_sf(0, 3), 1, 0);
    assert_true(isnan(ln_chi2_sf(NAN, 3)));
}

/* ---- Helpers building tables ---- */

static ln_table *numeric_table(const char *name, size_t n, double (*value)(size_t))
{
    ln_error err = {0};
    ln_table *table = ln_table_new(n);
    ln_column *column = ln_table_add_column(table, name, LN_TYPE_FLOAT, &err);
    assert_non_null(column);
    for (size_t i = 0; i < n; i++)
        column->values[i] = value(i);
    return table;
}

static void add_category(ln_table *table, const char *name, const char *(*value)(size_t))
{
    ln_error err = {0};
    ln_column *column = ln_table_add_column(table, name, LN_TYPE_CATEGORY, &err);
    assert_non_null(column);
    for (size_t i = 0; i < table->n_rows; i++) {
        const char *text = value(i);
        column->codes[i] = text ? ln_dict_intern(column->dict, text, strlen(text)) : -1;
    }
}

static double reference_value(size_t i) { return i % 50 == 0 ? NAN : (double)(i * 37 % 101) / 10.0; }
static double current_value(size_t i) { return i % 40 == 0 ? NAN : (double)(i * 53 % 89) / 9.0; }

static const char *reference_category(size_t i)
{
    static const char *const values[7] = {"a", "b", "b", "c", "c", "c", NULL};
    return values[i % 7];
}

static const char *current_category(size_t i)
{
    static const char *const values[9] = {"a", "b", "c", "c", "d", "d", "b", NULL, "a"};
    return values[i % 9];
}

/* A current set over table with scores cycling through the reference's four valid scores, none flagged. */
static ln_monitor_current *current_of(ln_table *table)
{
    ln_monitor_current *current = calloc(1, sizeof *current);
    current->table = table;
    current->scores = calloc(table->n_rows ? table->n_rows : 1, sizeof *current->scores);
    current->flags = calloc(table->n_rows ? table->n_rows : 1, 1);
    static const double scores[4] = {0.1, 0.4, 0.6, 0.9};
    for (size_t i = 0; i < table->n_rows; i++)
        current->scores[i] = scores[i % 4];
    return current;
}

static ln_reference *build_reference(const ln_table *train, const char *const *features, size_t n)
{
    double scores[4] = {0.1, 0.4, 0.6, 0.9};
    double labels[4] = {0, 0, 1, 1};
    ln_reference *reference = NULL;
    ln_error err = {0};
    assert_int_equal(ln_reference_build(train, features, n, scores, labels, 4, 0.5, 8.0, &reference, &err), LN_OK);
    return reference;
}

static const ln_drift *find_drift(const ln_monitor_report *report, const char *name)
{
    for (size_t f = 0; f < report->n_features; f++) {
        if (strcmp(report->features[f].name, name) == 0)
            return &report->features[f];
    }
    fail_msg("no drift for %s", name);
    return NULL;
}

/*
 * numpy: edges = sorted[j * k // 20] without repeats, bins by
 * searchsorted(edges, v, side="right"), a missing bin last; then the PSI and
 * binned KS as above.
 */
static void numeric_drift_matches_numpy(void **state)
{
    (void)state;
    ln_table *train = numeric_table("x", 500, reference_value);
    const char *features[] = {"x"};
    ln_reference *reference = build_reference(train, features, 1);
    assert_int_equal(reference->features[0].n_edges, 19);
    assert_int_equal(reference->features[0].missing, 10);

    ln_monitor_current *current = current_of(numeric_table("x", 400, current_value));
    ln_monitor_options options;
    ln_monitor_options_default(&options);
    ln_monitor_report *report = NULL;
    ln_error err = {0};
    assert_int_equal(ln_monitor_run(reference, current, &options, &report, &err), LN_OK);

    const ln_drift *drift = &report->features[0];
    assert_close(drift->psi, 0.030561284256615012, 1e-9);
    assert_close(drift->ks.statistic, 0.025850340136054473, 1e-12);
    assert_close(drift->ks.p_value, 0.99846763617475087, 1e-9);
    assert_close(drift->reference_missing_share, 10.0 / 500, 1e-15);
    assert_close(drift->current_missing_share, 10.0 / 400, 1e-15);
    assert_true(isnan(drift->chi2.statistic));
    assert_int_equal(report->n_alerts, 0);

    ln_monitor_report_free(report);
    ln_monitor_current_free(current);
    ln_reference_free(reference);
    ln_table_free(train);
}

/* Bins c, b, a (by count), other, new, missing; scipy chi2_contingency and jensenshannon. */
static void category_drift_matches_scipy(void **state)
{
    (void)state;
    ln_table *train = ln_table_new(700);
    add_category(train, "country", reference_category);
    const char *features[] = {"country"};
    ln_reference *reference = build_reference(train, features, 1);
    assert_int_equal(reference->features[0].n_categories, 3);
    assert_string_equal(reference->features[0].categories[0], "c");
    assert_true(reference->features[0].complete);

    ln_table *table = ln_table_new(900);
    add_category(table, "country", current_category);
    ln_monitor_current *current = current_of(table);
    ln_monitor_options options;
    ln_monitor_options_default(&options);
    ln_monitor_report *report = NULL;
    ln_error err = {0};
    assert_int_equal(ln_monitor_run(reference, current, &options, &report, &err), LN_OK);

    const ln_drift *drift = &report->features[0];
    assert_close(drift->psi, 1.9062589920665636, 1e-9);
    assert_close(drift->chi2.statistic, 231.95767195767198, 1e-9);
    assert_int_equal(drift->chi2.dof, 4);
    assert_relative(drift->chi2.p_value, 5.0019438517766904e-49, 1e-9);
    assert_close(drift->js_distance, 0.38170561885350796, 1e-9);
    assert_int_equal(drift->n_new, 1);
    assert_string_equal(drift->new_values[0], "d");
    assert_close(drift->new_value_shares[0], 200.0 / 900, 1e-15);
    assert_close(drift->new_share, 200.0 / 900, 1e-15);
    assert_true(isnan(drift->ks.statistic));
    assert_int_equal(report->n_alerts, 1);
    assert_string_equal(report->alerts[0].kind, "feature_psi");
    assert_string_equal(report->alerts[0].subject, "country");

    ln_monitor_report_free(report);
    ln_monitor_current_free(current);
    ln_reference_free(reference);
    ln_table_free(train);
}

/* ---- Injected shifts and false alarms ---- */

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double rng_uniform(rng *r)
{
    return ((double)(rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

static double rng_normal(rng *r)
{
    return sqrt(-2 * log(rng_uniform(r))) * cos(2 * M_PI * rng_uniform(r));
}

typedef struct shift {
    double amount_factor;
    double us_share;
    double new_share; /* share of rows with the country "XX" */
} shift;

/* amount (log-normal), age (normal), country (US, FR, DE mix) and device (two values, never shifted). */
static ln_table *orders(size_t n, uint64_t seed, shift change)
{
    ln_error err = {0};
    rng r = {seed};
    ln_table *table = ln_table_new(n);
    ln_table_add_column(table, "amount", LN_TYPE_FLOAT, &err);
    ln_table_add_column(table, "age", LN_TYPE_FLOAT, &err);
    ln_table_add_column(table, "country", LN_TYPE_CATEGORY, &err);
    ln_table_add_column(table, "device", LN_TYPE_CATEGORY, &err);
    ln_column *amount = &table->cols[0], *age = &table->cols[1], *country = &table->cols[2], *device = &table->cols[3];

    for (size_t i = 0; i < n; i++) {
        amount->values[i] = exp(4 + 0.8 * rng_normal(&r)) * change.amount_factor;
        age->values[i] = 40 + 12 * rng_normal(&r);
        double u = rng_uniform(&r);
        const char *name = u < change.new_share ? "XX" : u < change.new_share + change.us_share ? "US"
                                                      : u < change.new_share + change.us_share + (1 - change.us_share - change.new_share) / 2
                                                          ? "FR" : "DE";
        country->codes[i] = ln_dict_intern(country->dict, name, strlen(name));
        const char *kind = rng_uniform(&r) < 0.3 ? "mobile" : "desktop";
        device->codes[i] = ln_dict_intern(device->dict, kind, strlen(kind));
    }
    return table;
}

static const char *const order_features[] = {"amount", "age", "country", "device"};

static ln_monitor_report *monitor_orders(const ln_reference *reference, ln_table *table, ln_monitor_current **current)
{
    ln_monitor_options options;
    ln_monitor_report *report = NULL;
    ln_error err = {0};

    ln_monitor_options_default(&options);
    *current = current_of(table);
    assert_int_equal(ln_monitor_run(reference, *current, &options, &report, &err), LN_OK);
    return report;
}

static void injected_shifts_named_first(void **state)
{
    (void)state;
    ln_table *train = orders(5000, 1, (shift){1.0, 0.6, 0});
    ln_reference *reference = build_reference(train, order_features, 4);

    ln_monitor_current *current = NULL;
    ln_monitor_report *report = monitor_orders(reference, orders(5000, 2, (shift){1.5, 0.3, 0.05}), &current);
    int amount_first = strcmp(report->features[0].name, "amount") == 0;
    int country_first = strcmp(report->features[0].name, "country") == 0;
    assert_true(amount_first || country_first);
    assert_string_equal(report->features[1].name, amount_first ? "country" : "amount");
    assert_true(report->features[0].psi > 0.2);
    assert_true(report->features[1].psi > 0.2);
    assert_true(report->features[2].psi < 0.05);
    assert_true(find_drift(report, "amount")->ks.p_value < 1e-10);
    assert_true(find_drift(report, "country")->chi2.p_value < 1e-10);
    const ln_drift *country = find_drift(report, "country");
    assert_int_equal(country->n_new, 1);
    assert_string_equal(country->new_values[0], "XX");
    assert_true(fabs(country->new_share - 0.05) < 0.01);
    assert_int_equal(report->n_alerts, 2);

    ln_monitor_report_free(report);
    ln_monitor_current_free(current);
    ln_reference_free(reference);
    ln_table_free(train);
}

static void unshifted_sample_raises_no_alert(void **state)
{
    (void)state;
    ln_table *train = orders(5000, 1, (shift){1.0, 0.6, 0});
    ln_reference *reference = build_reference(train, order_features, 4);

    ln_monitor_current *current = NULL;
    ln_monitor_report *report = monitor_orders(reference, orders(5000, 3, (shift){1.0, 0.6, 0}), &current);
    assert_int_equal(report->n_alerts, 0);
    for (size_t f = 0; f < report->n_features; f++)
        assert_true(report->features[f].psi < 0.02);
    assert_int_equal(find_drift(report, "country")->n_new, 0);

    ln_monitor_report_free(report);
    ln_monitor_current_free(current);
    ln_reference_free(reference);
    ln_table_free(train);
}

/*
 * 200 trials of two samples of 2000 rows from one distribution. A test at
 * level 0.01 rejects in about 2 trials, and binned KS is conservative. So
 * at most 8 (4%) are allowed for each of KS and chi-square, and no PSI alert.
 */
static void same_distribution_false_alarm_rate(void **state)
{
    (void)state;
    int ks_alarms = 0, chi2_alarms = 0, psi_alarms = 0;

    for (uint64_t trial = 0; trial < 200; trial++) {
        ln_table *train = orders(2000, 1000 + 2 * trial, (shift){1.0, 0.6, 0});
        ln_reference *reference = build_reference(train, order_features, 4);
        ln_monitor_current *current = NULL;
        ln_monitor_report *report = monitor_orders(reference, orders(2000, 1001 + 2 * trial, (shift){1.0, 0.6, 0}),
                                                   &current);
        ks_alarms += find_drift(report, "amount")->ks.p_value < 0.01;
        chi2_alarms += find_drift(report, "country")->chi2.p_value < 0.01;
        psi_alarms += report->n_alerts > 0;
        ln_monitor_report_free(report);
        ln_monitor_current_free(current);
        ln_reference_free(reference);
        ln_table_free(train);
    }
    print_message("false alarms in 200 trials: KS %d, chi-square %d, PSI %d\n", ks_alarms, chi2_alarms, psi_alarms);
    assert_true(ks_alarms <= 8);
    assert_true(chi2_alarms <= 8);
    assert_int_equal(psi_alarms, 0);
}

/* ---- The reference as JSON ---- */

static void reference_json_round_trip(void **state)
{
    (void)state;
    ln_table *train = orders(3000, 5, (shift){1.0, 0.6, 0});
    ln_reference *reference = build_reference(train, order_features, 4);
    json_t *json = ln_reference_to_json(reference);
    char *text = json_dumps(json, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(json);
    assert_true(strlen(text) < 8192);

    json_error_t json_error;
    json_t *parsed = json_loads(text, 0, &json_error);
    ln_reference *copy = NULL;
    ln_error err = {0};
    assert_int_equal(ln_reference_from_json(parsed, &copy, &err), LN_OK);
    assert_int_equal(copy->n_features, 4);
    assert_int_equal(copy->train_rows, 3000);
    assert_int_equal(copy->valid_rows, 4);
    for (size_t f = 0; f < 4; f++) {
        const ln_reference_feature *a = &reference->features[f], *b = &copy->features[f];
        assert_string_equal(a->name, b->name);
        assert_int_equal(a->type, b->type);
        assert_int_equal(a->n_edges, b->n_edges);
        for (size_t i = 0; i < a->n_edges; i++)
            assert_true(a->edges[i] == b->edges[i]);
        assert_int_equal(a->n_categories, b->n_categories);
    }
    assert_true(copy->valid_auc == 1.0);
    assert_true(copy->flag_threshold == 0.5);
    assert_close(copy->valid_flag_rate, 0.5, 0);
    assert_close(copy->valid_payoff_per_1000, 2000, 1e-12);

    /* A damaged reference names the key. */
    json_object_set_new(json_object_get(json_array_get(json_object_get(parsed, "features"), 0), "counts"), "x",
                        json_null());
    json_object_set_new(json_array_get(json_object_get(parsed, "features"), 0), "counts", json_string("no"));
    ln_reference *bad = NULL;
    assert_int_equal(ln_reference_from_json(parsed, &bad, &err), LN_ERR_CORRUPT);
    assert_null(bad);
    assert_non_null(strstr(err.message, "counts"));

    json_decref(parsed);
    free(text);
    ln_reference_free(copy);
    ln_reference_free(reference);
    ln_table_free(train);
}

/* ---- The prediction log, labels, windows and payoffs ---- */

/* A model with features amount (numeric) and country (category), trained on a small table. */
static ln_model *small_model(void)
{
    ln_error err = {0};
    size_t n = 400;
    ln_table *train = ln_table_new(n);
    ln_table_add_column(train, "amount", LN_TYPE_FLOAT, &err);
    ln_table_add_column(train, "country", LN_TYPE_CATEGORY, &err);
    double *labels = malloc(n * sizeof *labels);
    for (size_t i = 0; i < n; i++) {
        train->cols[0].values[i] = (double)(i % 100);
        const char *name = i % 3 ? "US" : "FR";
        train->cols[1].codes[i] = ln_dict_intern(train->cols[1].dict, name, 2);
        labels[i] = i % 100 > 70;
    }
    ln_train_params params;
    ln_train_params_default(&params);
    params.trees = 5;
    params.early_stopping_rounds = 0;
    params.threads = 1;
    const char *features[] = {"amount", "country"};
    ln_model *model = NULL;
    assert_int_equal(ln_model_train(&params, train, labels, features, 2, NULL, NULL, &model, &err), LN_OK);
    free(labels);
    ln_table_free(train);
    return model;
}

static void write_text(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    assert_non_null(file);
    fputs(text, file);
    fclose(file);
}

static const char log_text[] =
    "{\"request_id\":\"r1\",\"index\":0,\"time\":\"2026-12-04T20:46:52.748Z\",\"model\":\"fraud\",\"version\":2,"
    "\"features\":{\"amount\":12.5,\"country\":\"FR\",\"order_id\":101},\"score\":0.25,\"decision\":\"pass\"}\n"
    "{\"request_id\":\"r1\",\"index\":1,\"time\":\"2026-12-04T23:00:00Z\",\"model\":\"fraud\",\"version\":2,"
    "\"features\":{\"amount\":null,\"country\":415,\"order_id\":\"102\"},\"score\":0.75,\"decision\":\"flag\"}\n"
    "not json at all\n"
    "{\"request_id\":\"r2\",\"index\":0,\"time\":\"2026-12-05T01:00:00Z\",\"model\":\"churn\",\"version\":2,"
    "\"features\":{},\"score\":0.5,\"decision\":\"pass\"}\n"
    "{\"request_id\":\"r3\",\"index\":0,\"time\":\"2026-12-05T01:00:00Z\",\"model\":\"fraud\",\"version\":1,"
    "\"features\":{},\"score\":0.5,\"decision\":\"pass\"}\n"
    "\n"
    "{\"request_id\":\"r4\",\"index\":0,\"time\":\"2026-12-06T10:00:00+02:00\",\"model\":\"fraud\",\"version\":2,"
    "\"features\":{\"amount\":\"oops\",\"order_id\":103},\"score\":0.9,\"decision\":\"flag\"}";

static void log_reader_keeps_model_rows(void **state)
{
    (void)state;
    char dir[] = "/tmp/lanner-test-monitor-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/predictions-1.jsonl", dir);
    write_text(path, log_text);
    ln_model *model = small_model();

    ln_monitor_current *current = NULL;
    ln_error err = {0};
    assert_int_equal(ln_monitor_read_log(dir, model, "fraud", 2, "order_id", &current, &err), LN_OK);
    assert_int_equal(current->table->n_rows, 3);
    assert_int_equal(current->log_lines, 6);
    assert_int_equal(current->skipped_lines, 1);
    assert_int_equal(current->other_model_rows, 1);
    assert_int_equal(current->other_version_rows, 1);
    assert_int_equal(current->invalid_values, 1);

    const ln_column *amount = ln_table_column(current->table, "amount");
    const ln_column *country = ln_table_column(current->table, "country");
    const ln_column *id = ln_table_column(current->table, "order_id");
    assert_true(amount->values[0] == 12.5);
    assert_true(isnan(amount->values[1]));
    assert_true(isnan(amount->values[2]));
    assert_string_equal(ln_dict_string(country->dict, country->codes[0]), "FR");
    assert_string_equal(ln_dict_string(country->dict, country->codes[1]), "415");
    assert_int_equal(country->codes[2], -1);
    assert_string_equal(ln_dict_string(id->dict, id->codes[0]), "101");
    assert_string_equal(ln_dict_string(id->dict, id->codes[1]), "102");
    assert_true(current->scores[1] == 0.75);
    assert_int_equal(current->flags[0], 0);
    assert_int_equal(current->flags[1], 1);
    assert_true(current->times[0] == 1796417212.748);
    assert_true(current->times[2] == 1796544000.0);

    ln_monitor_current *none = NULL;
    assert_int_equal(ln_monitor_read_log(path, model, "fraud", 7, NULL, &none, &err), LN_ERR_DATA);
    assert_null(none);
    assert_int_equal(ln_monitor_read_log("/nonexistent/predictions", model, "fraud", 2, NULL, &none, &err),
                     LN_ERR_NOT_FOUND);

    ln_monitor_current_free(current);
    ln_model_free(model);
    unlink(path);
    rmdir(dir);
}

static const char *label_id(size_t i)
{
    static const char *const ids[4] = {"101", "103", "999", "101"};
    return ids[i];
}

static const char *label_value(size_t i)
{
    static const char *const values[4] = {"bad", "good", "bad", "good"};
    return values[i];
}

/*
 * Rows 101 (score 0.25, pass, label bad), 102 (no label) and 103 (score
 * 0.9, flag, label good). With payoffs tp 1, fp -2, fn -amount and tn 3,
 * row 101 pays -12.5 and row 103 pays -2.
 */
static void labels_windows_and_payoffs(void **state)
{
    (void)state;
    char dir[] = "/tmp/lanner-test-monitor-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/predictions-1.jsonl", dir);
    write_text(path, log_text);
    ln_model *model = small_model();
    ln_monitor_current *current = NULL;
    ln_error err = {0};
    assert_int_equal(ln_monitor_read_log(path, model, "fraud", 2, "order_id", &current, &err), LN_OK);

    ln_table *labels = ln_table_new(4);
    add_category(labels, "order_id", label_id);
    add_category(labels, "target", label_value);
    assert_int_equal(ln_monitor_join_labels(current, "order_id", labels, "target", "bad", &err), LN_OK);
    assert_int_equal(current->labeled, 2);
    assert_int_equal(current->duplicate_label_ids, 1);
    assert_true(current->labels[0] == 1);
    assert_true(isnan(current->labels[1]));
    assert_true(current->labels[2] == 0);

    ln_table *train = ln_table_new(6);
    add_category(train, "country", reference_category);
    ln_column *amount = ln_table_add_column(train, "amount", LN_TYPE_FLOAT, &err);
    for (size_t i = 0; i < 6; i++)
        amount->values[i] = (double)i;
    const char *features[] = {"amount", "country"};
    ln_reference *reference = build_reference(train, features, 2);

    ln_monitor_options options;
    ln_monitor_options_default(&options);
    options.n_actions = 1;
    options.payoff_if_positive[0] = "1";
    options.payoff_if_negative[0] = "-2";
    options.payoff_if_positive[1] = "-amount";
    options.payoff_if_negative[1] = "3";
    options.action_thresholds[0] = 0.5;
    options.thresholds.payoff_drop_max = 0.1;
    ln_monitor_report *report = NULL;
    assert_int_equal(ln_monitor_run(reference, current, &options, &report, &err), LN_OK);

    assert_int_equal(report->outcomes.labeled, 2);
    assert_int_equal(report->outcomes.unlabeled, 1);
    assert_close(report->outcomes.payoff, -14.5, 1e-12);
    assert_close(report->outcomes.payoff_per_1000, -7250, 1e-12);
    assert_close(report->outcomes.auc, 0, 0);
    assert_close(report->outcomes.flag_rate, 0.5, 0);
    /* Valid promised 8 over 4 rows: 2000 per 1,000 rows. */
    assert_close(report->outcomes.payoff_drop, (2000 + 7250) / 2000.0, 1e-12);

    /* Daily windows: 2026-12-04 contains rows 101 and 102, 2026-12-05 none, 2026-12-06 row 103 (08:00 UTC). */
    assert_int_equal(report->n_windows, 3);
    assert_int_equal(report->windows[0].rows, 2);
    assert_int_equal(report->windows[1].rows, 0);
    assert_int_equal(report->windows[2].rows, 1);
    assert_int_equal(report->windows[0].labeled, 1);
    assert_close(report->windows[0].payoff, -12.5, 0);
    assert_close(report->windows[2].flag_rate, 1, 0);
    assert_true(isnan(report->windows[1].flag_rate));

    int payoff_alert = 0;
    for (size_t i = 0; i < report->n_alerts; i++)
        payoff_alert += strcmp(report->alerts[i].kind, "payoff_drop") == 0;
    assert_int_equal(payoff_alert, 1);

    json_t *json = ln_monitor_report_to_json(report);
    assert_int_equal(json_array_size(json_object_get(json, "windows")), 3);
    assert_true(json_is_null(json_object_get(json_array_get(json_object_get(json, "windows"), 1), "flag_rate")));
    json_decref(json);

    ln_monitor_report_free(report);
    ln_reference_free(reference);
    ln_table_free(train);
    ln_table_free(labels);
    ln_monitor_current_free(current);
    ln_model_free(model);
    unlink(path);
    rmdir(dir);
}

/* ---- Contract, settings and edge cases ---- */

static void contract_violation_alerts(void **state)
{
    (void)state;
    ln_table *train = numeric_table("x", 500, reference_value);
    const char *features[] = {"x"};
    ln_reference *reference = build_reference(train, features, 1);
    ln_monitor_current *current = current_of(numeric_table("x", 400, current_value));

    ln_monitor_options options;
    ln_monitor_options_default(&options);
    options.contract_text = "min_rows: 100000\ncolumns:\n  x: {type: float, max: 5}\n  target: {type: integer}\n";
    ln_monitor_report *report = NULL;
    ln_error err = {0};
    assert_int_equal(ln_monitor_run(reference, current, &options, &report, &err), LN_OK);
    assert_non_null(report->contract);
    /* Only x's max fails: min_rows and the absent target column are not checked on current data. */
    assert_int_equal(ln_validation_error_count(report->contract), 1);
    assert_int_equal(report->n_alerts, 1);
    assert_string_equal(report->alerts[0].kind, "contract");
    ln_monitor_report_free(report);

    options.contract_text = "columns: [not, a, mapping";
    assert_int_equal(ln_monitor_run(reference, current, &options, &report, &err), LN_ERR_PARSE);
    assert_null(report);

    ln_monitor_current_free(current);
    ln_reference_free(reference);
    ln_table_free(train);
}

static void empty_current_gives_nan(void **state)
{
    (void)state;
    ln_table *train = numeric_table("x", 500, reference_value);
    const char *features[] = {"x"};
    ln_reference *reference = build_reference(train, features, 1);
    ln_monitor_current *current = current_of(numeric_table("x", 0, current_value));

    ln_monitor_options options;
    ln_monitor_options_default(&options);
    ln_monitor_report *report = NULL;
    ln_error err = {0};
    assert_int_equal(ln_monitor_run(reference, current, &options, &report, &err), LN_OK);
    assert_true(isnan(report->features[0].psi));
    assert_true(isnan(report->score.psi));
    assert_int_equal(report->n_alerts, 0);
    ln_monitor_report_free(report);
    ln_monitor_current_free(current);

    /* A feature missing from the current data is an error naming it. */
    current = current_of(numeric_table("y", 10, current_value));
    assert_int_equal(ln_monitor_run(reference, current, &options, &report, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "'x'"));
    ln_monitor_current_free(current);
    ln_reference_free(reference);
    ln_table_free(train);
}

static void thresholds_and_windows_parse(void **state)
{
    (void)state;
    char path[] = "/tmp/lanner-test-monitor-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);

    ln_monitor_options options;
    ln_monitor_options_default(&options);
    ln_error err = {0};
    write_text(path, "name: x\nmonitor: {psi_max: 0.3, auc_min: 0.8}\n");
    assert_int_equal(ln_monitor_read_thresholds(path, &options.thresholds, &err), LN_OK);
    assert_close(options.thresholds.psi_max, 0.3, 0);
    assert_close(options.thresholds.auc_min, 0.8, 0);
    assert_close(options.thresholds.score_psi_max, 0.2, 0);
    assert_true(isnan(options.thresholds.payoff_drop_max));

    write_text(path, "name: x\nmonitor:\n  psi_maxx: 0.3\n");
    assert_int_equal(ln_monitor_read_thresholds(path, &options.thresholds, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, ":3:"));
    write_text(path, "monitor: {psi_max: -1}\n");
    assert_int_equal(ln_monitor_read_thresholds(path, &options.thresholds, &err), LN_ERR_CONFIG);
    write_text(path, "name: x\n");
    assert_int_equal(ln_monitor_read_thresholds(path, &options.thresholds, &err), LN_OK);
    unlink(path);

    double seconds = 0;
    assert_int_equal(ln_monitor_parse_window("6h", &seconds, &err), LN_OK);
    assert_close(seconds, 21600, 0);
    assert_int_equal(ln_monitor_parse_window("7d", &seconds, &err), LN_OK);
    assert_close(seconds, 604800, 0);
    assert_int_equal(ln_monitor_parse_window("0d", &seconds, &err), LN_ERR_CONFIG);
    assert_int_equal(ln_monitor_parse_window("1 d", &seconds, &err), LN_ERR_CONFIG);
    assert_int_equal(ln_monitor_parse_window("d", &seconds, &err), LN_ERR_CONFIG);
    assert_int_equal(ln_monitor_parse_window("3y", &seconds, &err), LN_ERR_CONFIG);
}

static void html_report_escapes_names(void **state)
{
    (void)state;
    ln_table *train = numeric_table("<b>x&y</b>", 500, reference_value);
    const char *features[] = {"<b>x&y</b>"};
    ln_reference *reference = build_reference(train, features, 1);
    ln_monitor_current *current = current_of(numeric_table("<b>x&y</b>", 400, current_value));
    ln_monitor_options options;
    ln_monitor_options_default(&options);
    ln_monitor_report *report = NULL;
    ln_error err = {0};
    assert_int_equal(ln_monitor_run(reference, current, &options, &report, &err), LN_OK);

    char path[] = "/tmp/lanner-test-monitor-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    assert_int_equal(ln_monitor_write_html(report, "model <script>", path, &err), LN_OK);
    FILE *file = fopen(path, "r");
    static char page[1 << 20];
    size_t size = fread(page, 1, sizeof page - 1, file);
    page[size] = '\0';
    fclose(file);
    unlink(path);
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "<b>x"));
    assert_non_null(strstr(page, "&lt;b&gt;x&amp;y&lt;/b&gt;"));
    assert_non_null(strstr(page, "<svg"));

    ln_monitor_report_free(report);
    ln_monitor_current_free(current);
    ln_reference_free(reference);
    ln_table_free(train);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(psi_matches_numpy),
        cmocka_unit_test(psi_empty_total_is_nan),
        cmocka_unit_test(ks_binned_matches_scipy),
        cmocka_unit_test(chi2_matches_scipy),
        cmocka_unit_test(chi2_single_bin_is_one),
        cmocka_unit_test(js_matches_scipy),
        cmocka_unit_test(survival_functions_match_scipy),
        cmocka_unit_test(numeric_drift_matches_numpy),
        cmocka_unit_test(category_drift_matches_scipy),
        cmocka_unit_test(injected_shifts_named_first),
        cmocka_unit_test(unshifted_sample_raises_no_alert),
        cmocka_unit_test(same_distribution_false_alarm_rate),
        cmocka_unit_test(reference_json_round_trip),
        cmocka_unit_test(log_reader_keeps_model_rows),
        cmocka_unit_test(labels_windows_and_payoffs),
        cmocka_unit_test(contract_violation_alerts),
        cmocka_unit_test(empty_current_gives_nan),
        cmocka_unit_test(thresholds_and_windows_parse),
        cmocka_unit_test(html_report_escapes_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
