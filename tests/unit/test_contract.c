/*
 * Tests of profiles, inferred contracts, the contract file and validation.
 * Reference statistics for the fixed array were computed with numpy 1.24.2
 * (np.quantile default method, mean, std(ddof=1), np.histogram(bins=20)).
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

#include "lanner/contract.h"
#include "lanner/metrics.h"

#define N_OF(array) (sizeof array / sizeof array[0])

static void check_close(double actual, double expected, double tolerance, const char *label)
{
    if (fabs(actual - expected) <= tolerance * (1.0 + fabs(expected)))
        return;
    print_error("%s gave %.17g, expected %.17g\n", label, actual, expected);
    fail();
}

static ln_column *add_numbers(ln_table *table, const char *name, ln_type type, const double *values)
{
    ln_error err = {0};
    ln_column *column = ln_table_add_column(table, name, type, &err);

    assert_non_null(column);
    memcpy(column->values, values, table->n_rows * sizeof *values);
    return column;
}

/* Adds a string column; a NULL entry is a missing value. */
static ln_column *add_strings(ln_table *table, const char *name, ln_type type, const char *const *values)
{
    ln_error err = {0};
    ln_column *column = ln_table_add_column(table, name, type, &err);

    assert_non_null(column);
    for (size_t r = 0; r < table->n_rows; r++)
        column->codes[r] = values[r] != NULL ? ln_dict_intern(column->dict, values[r], strlen(values[r])) : -1;
    return column;
}

static ln_profile *profile_of(const ln_table *table, const char *target, const char *positive)
{
    ln_profile *profile = NULL;
    ln_error err = {0};

    if (ln_profile_table(table, target, positive, &profile, &err) != LN_OK) {
        print_error("profile failed: %s\n", err.message);
        fail();
    }
    return profile;
}

static ln_validation *validate(const ln_contract *contract, const ln_table *table)
{
    ln_validation *report = NULL;
    ln_error err = {0};

    assert_int_equal(ln_contract_validate(contract, table, &report, &err), LN_OK);
    return report;
}

/* Returns a contract with one column and no rules, for tests to fill in. */
static ln_contract *contract_with_column(const char *name, ln_type type)
{
    ln_contract *contract = calloc(1, sizeof *contract);
    assert_non_null(contract);
    contract->columns = calloc(1, sizeof *contract->columns);
    assert_non_null(contract->columns);
    contract->n_columns = 1;
    contract->columns[0].name = strdup(name);
    contract->columns[0].has_type = 1;
    contract->columns[0].type = type;
    return contract;
}

static const ln_violation *only_violation(const ln_validation *report, ln_rule rule)
{
    if (report->n_violations != 1 || report->violations[0].rule != rule) {
        print_error("expected one %s violation, found %zu\n", ln_rule_name(rule), report->n_violations);
        ln_validation_print(report, stderr);
        fail();
    }
    return &report->violations[0];
}

static void check_example(const ln_violation *violation, size_t index, size_t row, const char *value)
{
    assert_true(index < violation->n_examples);
    assert_int_equal(violation->example_rows[index], row);
    assert_string_equal(violation->example_values[index], value);
}

static const double reference[] = {3.5,  -2.25, 7,    7,  0,  1e3, 12.75, -40.5, 3.5, 8.125, 99,   0.001,
                                   -0.5, 15,    15,   15, 2,  6.5, 31,    -7,    4.4, 18,    250.25};

static void test_profile_numeric_matches_numpy(void **state)
{
    (void)state;
    size_t n = N_OF(reference) + 3;
    ln_table *table = ln_table_new(n);
    double values[N_OF(reference) + 3];
    memcpy(values, reference, sizeof reference);
    values[N_OF(reference)] = NAN;
    values[N_OF(reference) + 1] = INFINITY;
    values[N_OF(reference) + 2] = NAN;
    add_numbers(table, "x", LN_TYPE_FLOAT, values);

    ln_profile *profile = profile_of(table, NULL, NULL);
    const ln_column_profile *x = &profile->columns[0];
    static const double quantiles[] = {-33.13, -6.5249999999999995, 1.0005, 7.0, 15.0, 235.12499999999977,
                                       835.0550000000009};
    static const size_t histogram[] = {14, 6, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    assert_int_equal(x->count, n);
    assert_int_equal(x->missing, 2);
    check_close(x->missing_share, 2.0 / 26.0, 1e-15, "missing share");
    assert_int_equal(x->finite, 23);
    assert_int_equal(x->positive_infinite, 1);
    assert_int_equal(x->distinct, 20); /* 19 distinct finite values and +inf */
    assert_int_equal(x->singletons, 17);
    check_close(x->min, -40.5, 0, "min");
    check_close(x->max, 1000, 0, "max");
    check_close(x->mean, 62.946782608695656, 1e-14, "mean");
    check_close(x->std, 211.63481325450397, 1e-14, "std");
    for (int q = 0; q < LN_PROFILE_N_QUANTILES; q++)
        check_close(x->quantiles[q], quantiles[q], 1e-13, "quantile");
    for (int b = 0; b < LN_PROFILE_HISTOGRAM_BINS; b++)
        assert_int_equal(x->histogram[b], histogram[b]);
    assert_false(x->all_whole);

    ln_profile_free(profile);
    ln_table_free(table);
}

static void test_profile_numeric_edge_cases(void **state)
{
    (void)state;
    ln_table *table = ln_table_new(3);
    static const double empty[] = {NAN, NAN, NAN};
    static const double single[] = {NAN, 4, NAN};
    static const double signed_zero[] = {-0.0, 0.0, -0.0};
    add_numbers(table, "empty", LN_TYPE_FLOAT, empty);
    add_numbers(table, "single", LN_TYPE_INT, single);
    add_numbers(table, "zero", LN_TYPE_FLOAT, signed_zero);

    ln_profile *profile = profile_of(table, NULL, NULL);
    assert_int_equal(profile->columns[0].missing, 3);
    assert_true(isnan(profile->columns[0].mean));
    assert_true(isnan(profile->columns[0].quantiles[3]));
    check_close(profile->columns[1].mean, 4, 0, "mean of one value");
    assert_true(isnan(profile->columns[1].std));
    check_close(profile->columns[1].quantiles[0], 4, 0, "quantile of one value");
    assert_int_equal(profile->columns[1].histogram[0], 1);
    assert_int_equal(profile->columns[2].distinct, 1);
    check_close(profile->columns[2].std, 0, 0, "std of zeros");

    ln_profile_free(profile);
    ln_table_free(table);
}

static void test_profile_category_counts(void **state)
{
    (void)state;
    static const char *const values[] = {"US", "CA", "US", NULL, "GB", "CA", "US", "MX"};
    ln_table *table = ln_table_new(N_OF(values));
    add_strings(table, "country", LN_TYPE_CATEGORY, values);

    ln_profile *profile = profile_of(table, NULL, NULL);
    const ln_column_profile *country = &profile->columns[0];
    assert_int_equal(country->missing, 1);
    assert_int_equal(country->distinct, 4);
    assert_int_equal(country->singletons, 2);
    assert_true(country->categories_complete);
    assert_int_equal(country->n_categories, 4);
    assert_string_equal(country->categories[0].value, "US");
    assert_int_equal(country->categories[0].count, 3);
    check_close(country->categories[0].share, 3.0 / 7.0, 1e-15, "US share");
    assert_string_equal(country->categories[1].value, "CA");
    assert_string_equal(country->categories[2].value, "GB"); /* ties keep first appearance */
    assert_string_equal(country->categories[3].value, "MX");
    assert_true(isnan(country->categories[0].positive_rate));

    ln_profile_free(profile);
    ln_table_free(table);
}

static void test_profile_many_categories_keeps_top(void **state)
{
    (void)state;
    size_t n = 1000;
    ln_table *table = ln_table_new(n);
    ln_error err = {0};
    ln_column *column = ln_table_add_column(table, "id", LN_TYPE_TEXT, &err);
    char text[16];
    for (size_t r = 0; r < n; r++) {
        /* Value 0 appears 10 times, every other value once. */
        snprintf(text, sizeof text, "v%zu", r < 10 ? 0 : r);
        column->codes[r] = ln_dict_intern(column->dict, text, strlen(text));
    }

    ln_profile *profile = profile_of(table, NULL, NULL);
    assert_int_equal(profile->columns[0].distinct, 991);
    assert_false(profile->columns[0].categories_complete);
    assert_int_equal(profile->columns[0].n_categories, LN_PROFILE_TOP_CATEGORIES);
    assert_string_equal(profile->columns[0].categories[0].value, "v0");
    assert_string_equal(profile->columns[0].categories[1].value, "v10");

    ln_profile_free(profile);
    ln_table_free(table);
}

/* Returns the share of (positive, negative) pairs ordered correctly, a tie counting one half. */
static double brute_force_auc(const double *scores, const double *labels, size_t n)
{
    double correct = 0, pairs = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            if (labels[i] != 1 || labels[j] != 0)
                continue;
            pairs++;
            if (scores[i] > scores[j])
                correct += 1.0;
            else if (scores[i] == scores[j])
                correct += 0.5;
        }
    }
    return correct / pairs;
}

static void test_profile_target_auc(void **state)
{
    (void)state;
    static const double score[] = {9, 1, 8, 2, 7, 3, 3, 6, 5, 4};
    static const double label[] = {0, 1, 0, 1, 1, 0, 1, 0, 0, 1};
    static const char *const group[] = {"a", "b", "a", "b", "b", "a", "b", "a", "a", "b"};
    static const char *const outcome[] = {"no", "yes", "no", "yes", "yes", "no", "yes", "no", "no", "yes"};
    ln_table *table = ln_table_new(N_OF(score));
    add_numbers(table, "score", LN_TYPE_FLOAT, score);
    add_strings(table, "group", LN_TYPE_CATEGORY, group);
    add_strings(table, "outcome", LN_TYPE_CATEGORY, outcome);

    ln_profile *profile = profile_of(table, "outcome", "yes");
    double raw = brute_force_auc(score, label, N_OF(score));
    assert_true(raw < 0.5);
    check_close(profile->columns[0].auc, 1.0 - raw, 1e-15, "score AUC");
    assert_int_equal(profile->columns[0].auc_direction, -1);
    /* group b is always positive and a never, in every fold, so out-of-fold rates still separate them. */
    check_close(profile->columns[1].auc, 1.0, 0, "group AUC");
    assert_int_equal(profile->columns[1].auc_direction, 1);
    check_close(profile->columns[1].categories[0].positive_rate, 0.0, 0, "rate of a");
    assert_true(isnan(profile->columns[2].auc));
    assert_int_equal(profile->positives, 5);
    check_close(profile->positive_rate, 0.5, 0, "positive rate");

    ln_profile_free(profile);
    ln_table_free(table);
}

/* The rank-sum AUC of the profile matches ln_roc_auc with ties, infinities, missing values and missing targets. */
static void test_profile_auc_matches_metrics(void **state)
{
    (void)state;
    enum { N = 600 };
    double value[N], label[N], kept_values[N], kept_labels[N], kept_scores[N], kept_category_labels[N];
    const char *group[N];
    static const char *const names[] = {"a", "b", "c", "d", "e", "f", "g"};
    ln_table *table = ln_table_new(N);
    uint64_t seed = 12345;
    for (size_t r = 0; r < N; r++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        unsigned draw = (unsigned)(seed >> 33);
        value[r] = (double)(draw % 21);
        if (draw % 17 == 0)
            value[r] = NAN;
        else if (draw % 23 == 0)
            value[r] = INFINITY;
        else if (draw % 29 == 0)
            value[r] = -INFINITY;
        label[r] = (draw >> 8) % 13 == 0 ? NAN : (double)(((draw >> 4) % 3 == 0) || value[r] > 14);
        group[r] = (draw >> 12) % 9 == 0 ? NULL : names[(draw >> 16) % 7];
    }
    add_numbers(table, "outcome", LN_TYPE_INT, label);
    add_numbers(table, "value", LN_TYPE_FLOAT, value);
    add_strings(table, "group", LN_TYPE_CATEGORY, group);

    ln_profile *profile = profile_of(table, "outcome", NULL);

    size_t n = 0;
    for (size_t r = 0; r < N; r++) {
        if (isnan(value[r]) || isnan(label[r]))
            continue;
        kept_values[n] = value[r];
        kept_labels[n++] = label[r];
    }
    double expected = ln_roc_auc(kept_values, kept_labels, n);
    check_close(profile->columns[1].auc, expected >= 0.5 ? expected : 1 - expected, 1e-15, "numeric AUC");

    /* Out-of-fold rates recomputed here row by row: fold = row % 5, other folds' rate, else their overall rate. */
    n = 0;
    for (size_t r = 0; r < N; r++) {
        if (group[r] == NULL || isnan(label[r]))
            continue;
        double rows = 0, positives = 0, prior_rows = 0, prior_positives = 0;
        for (size_t o = 0; o < N; o++) {
            if (o % 5 == r % 5 || group[o] == NULL || isnan(label[o]))
                continue;
            prior_rows++;
            prior_positives += label[o];
            if (strcmp(group[o], group[r]) == 0) {
                rows++;
                positives += label[o];
            }
        }
        kept_scores[n] = rows > 0 ? positives / rows : prior_positives / prior_rows;
        kept_category_labels[n++] = label[r];
    }
    expected = ln_roc_auc(kept_scores, kept_category_labels, n);
    check_close(profile->columns[2].auc, expected >= 0.5 ? expected : 1 - expected, 1e-15, "category AUC");

    ln_profile_free(profile);
    ln_table_free(table);
}

static void test_profile_target_errors(void **state)
{
    (void)state;
    static const char *const outcome[] = {"no", "yes", "no"};
    static const double same[] = {1, 1, 1};
    ln_table *table = ln_table_new(3);
    add_strings(table, "outcome", LN_TYPE_CATEGORY, outcome);
    add_numbers(table, "flag", LN_TYPE_INT, same);
    ln_profile *profile = NULL;
    ln_error err = {0};

    assert_int_equal(ln_profile_table(table, "missing", NULL, &profile, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "missing"));
    assert_int_equal(ln_profile_table(table, "outcome", NULL, &profile, &err), LN_ERR_CONFIG);
    assert_int_equal(ln_profile_table(table, "outcome", "maybe", &profile, &err), LN_ERR_DATA);
    assert_int_equal(ln_profile_table(table, "flag", NULL, &profile, &err), LN_ERR_DATA);
    assert_int_equal(ln_profile_table(table, "flag", "high", &profile, &err), LN_ERR_CONFIG);
    assert_null(profile);
    ln_table_free(table);
}

static void test_infer_rules(void **state)
{
    (void)state;
    enum { N = 200 };
    double amount[N], id[N], rate[N], offset[N];
    const char *country[N];
    ln_table *table = ln_table_new(N);
    for (size_t r = 0; r < N; r++) {
        amount[r] = 1000.0 + 195.0 * (double)r; /* 1000 .. 39805 */
        id[r] = 5000.0 + (double)r;
        rate[r] = r % 10 == 0 ? NAN : 0.5 + 0.01 * (double)r; /* 10% missing */
        offset[r] = -50.0 + 0.25 * (double)r;                 /* -50 .. -0.25 */
        country[r] = r % 2 ? "US" : "CA";
        if (r == 7)
            country[r] = "MX";
    }
    add_numbers(table, "amount", LN_TYPE_INT, amount);
    add_numbers(table, "id", LN_TYPE_INT, id);
    add_numbers(table, "rate", LN_TYPE_FLOAT, rate);
    add_numbers(table, "offset", LN_TYPE_FLOAT, offset);
    add_strings(table, "country", LN_TYPE_CATEGORY, country);

    ln_profile *profile = profile_of(table, NULL, NULL);
    ln_contract *contract = NULL;
    ln_error err = {0};
    assert_int_equal(ln_contract_infer(profile, &contract, &err), LN_OK);

    assert_true(contract->has_min_rows);
    assert_int_equal(contract->min_rows, 100);
    const ln_contract_column *c = contract->columns;
    /* Range 38805, margin 3880.5 rounded outward to 1000s: 1000 - 3880.5 -> 0 (clamped), 43685.5 -> 44000. */
    check_close(c[0].min, 0, 0, "amount min");
    check_close(c[0].max, 44000, 0, "amount max");
    assert_true(c[0].has_max_missing);
    check_close(c[0].max_missing, 0, 0, "amount never missing");
    assert_false(c[0].unique); /* 200^2 / (2 * 38806) is about 0.5 expected repeats: distinct by chance */
    assert_true(c[1].unique);  /* 200^2 / (2 * 200) = 100 expected repeats */
    /* Rate 0.51 .. 2.49: margin 0.198 rounds to 0.1s: 0.312 -> 0.3 and 2.688 -> 2.7; missing 0.1 -> 0.16. */
    check_close(c[2].min, 0.3, 1e-15, "rate min");
    check_close(c[2].max, 2.7, 1e-15, "rate max");
    check_close(c[2].max_missing, 0.16, 1e-15, "rate max_missing");
    /* Offset -50 .. -0.25: all values <= 0 keep max at 0. */
    check_close(c[3].min, -55, 0, "offset min");
    check_close(c[3].max, 0, 0, "offset max");
    assert_int_equal(c[4].n_values, 3);
    assert_string_equal(c[4].values[0], "CA");
    assert_string_equal(c[4].values[2], "US");
    /* One singleton of 200 rows: 2 x 0.005 = 0.01. */
    check_close(c[4].max_new_share, 0.01, 1e-15, "country max_new_share");
    for (int rule = 0; rule < LN_RULE_COUNT; rule++)
        assert_int_equal(c[0].severity[rule], LN_SEVERITY_ERROR);

    ln_validation *report = validate(contract, table);
    assert_int_equal(report->n_violations, 0);
    assert_int_equal(ln_validation_error_count(report), 0);
    ln_validation_free(report);
    ln_contract_free(contract);
    ln_profile_free(profile);
    ln_table_free(table);
}

static void test_validate_range_rules(void **state)
{
    (void)state;
    static const double amount[] = {5, -1, 12, NAN, INFINITY, 3, -INFINITY, 10};
    ln_table *table = ln_table_new(N_OF(amount));
    add_numbers(table, "amount", LN_TYPE_FLOAT, amount);
    ln_contract *contract = contract_with_column("amount", LN_TYPE_FLOAT);
    contract->columns[0].has_min = 1;
    contract->columns[0].min = 0;
    contract->columns[0].has_max = 1;
    contract->columns[0].max = 10;

    ln_validation *report = validate(contract, table);
    assert_int_equal(report->n_violations, 2);
    assert_int_equal(report->errors, 2);
    const ln_violation *below = &report->violations[0];
    assert_int_equal(below->rule, LN_RULE_MIN);
    assert_int_equal(below->count, 2);
    assert_int_equal(below->considered, 7);
    check_example(below, 0, 2, "-1");
    check_example(below, 1, 7, "-inf");
    const ln_violation *above = &report->violations[1];
    assert_int_equal(above->rule, LN_RULE_MAX);
    assert_int_equal(above->count, 2);
    check_example(above, 0, 3, "12");
    check_example(above, 1, 5, "inf");
    ln_validation_free(report);

    /* The same data inside the bounds is quiet. */
    contract->columns[0].min = -INFINITY;
    contract->columns[0].max = INFINITY;
    report = validate(contract, table);
    assert_int_equal(report->n_violations, 0);
    ln_validation_free(report);
    ln_contract_free(contract);
    ln_table_free(table);
}

static void test_validate_missing_rules(void **state)
{
    (void)state;
    static const double income[] = {1, NAN, 3, 4, NAN, 6, 7, 8, 9, NAN};
    ln_table *table = ln_table_new(N_OF(income));
    add_numbers(table, "income", LN_TYPE_FLOAT, income);
    ln_contract *contract = contract_with_column("income", LN_TYPE_FLOAT);
    contract->columns[0].has_max_missing = 1;

    contract->columns[0].max_missing = 0; /* missing: never */
    ln_validation *report = validate(contract, table);
    const ln_violation *violation = only_violation(report, LN_RULE_MAX_MISSING);
    assert_int_equal(violation->count, 3);
    assert_int_equal(violation->n_examples, 3);
    check_example(violation, 0, 2, "");
    check_example(violation, 2, 10, "");
    assert_non_null(strstr(violation->message, "never"));
    ln_validation_free(report);

    contract->columns[0].max_missing = 0.25;
    report = validate(contract, table);
    assert_int_equal(only_violation(report, LN_RULE_MAX_MISSING)->count, 3);
    ln_validation_free(report);

    contract->columns[0].max_missing = 0.3; /* exactly the observed share passes */
    report = validate(contract, table);
    assert_int_equal(report->n_violations, 0);
    ln_validation_free(report);
    ln_contract_free(contract);
    ln_table_free(table);
}

static void test_validate_new_values(void **state)
{
    (void)state;
    static const char *const country[] = {"US", "ZZ", "CA", "US", NULL, "QQ", "ZZ", "US", "CA", "ZZ", "US"};
    static char *listed[] = {"CA", "US"};
    ln_table *table = ln_table_new(N_OF(country));
    add_strings(table, "country", LN_TYPE_CATEGORY, country);
    ln_contract *contract = contract_with_column("country", LN_TYPE_CATEGORY);
    contract->columns[0].values = listed;
    contract->columns[0].n_values = 2;
    contract->columns[0].max_new_share = 0.3;

    ln_validation *report = validate(contract, table);
    const ln_violation *violation = only_violation(report, LN_RULE_VALUES);
    assert_int_equal(violation->count, 4);
    assert_int_equal(violation->considered, 10);
    assert_int_equal(violation->n_new_values, 2);
    assert_string_equal(violation->new_values[0].value, "ZZ");
    assert_int_equal(violation->new_values[0].count, 3);
    check_close(violation->new_values[0].share, 0.3, 1e-15, "ZZ share");
    assert_string_equal(violation->new_values[1].value, "QQ");
    check_example(violation, 0, 2, "ZZ");
    check_example(violation, 1, 6, "QQ");
    check_example(violation, 3, 10, "ZZ");
    ln_validation_free(report);

    contract->columns[0].max_new_share = 0.4;
    report = validate(contract, table);
    assert_int_equal(report->n_violations, 0);
    ln_validation_free(report);

    contract->columns[0].values = NULL; /* the test owns the list */
    contract->columns[0].n_values = 0;
    ln_contract_free(contract);
    ln_table_free(table);
}

static void test_validate_unique(void **state)
{
    (void)state;
    static const double id[] = {10, 11, 10, NAN, 12, NAN, 11, -0.0, 0.0, 10};
    static const char *const code[] = {"a", "b", NULL, "a", NULL, "c", "d", "e", "f", "g"};
    ln_table *table = ln_table_new(N_OF(id));
    add_numbers(table, "id", LN_TYPE_INT, id);
    add_strings(table, "code", LN_TYPE_TEXT, code);
    ln_contract *contract = contract_with_column("id", LN_TYPE_INT);
    contract->columns[0].unique = 1;

    ln_validation *report = validate(contract, table);
    const ln_violation *violation = only_violation(report, LN_RULE_UNIQUE);
    assert_int_equal(violation->count, 4); /* rows 3, 7, 9 and 10, because missing values never repeat */
    check_example(violation, 0, 3, "10");
    check_example(violation, 1, 7, "11");
    check_example(violation, 2, 9, "0");
    check_example(violation, 3, 10, "10");
    ln_validation_free(report);

    free(contract->columns[0].name);
    contract->columns[0].name = strdup("code");
    contract->columns[0].type = LN_TYPE_TEXT;
    report = validate(contract, table);
    violation = only_violation(report, LN_RULE_UNIQUE);
    assert_int_equal(violation->count, 1);
    check_example(violation, 0, 4, "a");
    ln_validation_free(report);
    ln_contract_free(contract);
    ln_table_free(table);
}

static void test_validate_type_rules(void **state)
{
    (void)state;
    static const double whole[] = {1, 2, NAN, 4};
    static const double fractional[] = {1, 2.5, NAN, INFINITY};
    static const char *const text[] = {"x", "y", NULL, "z"};
    /* A number column with one stray cell loads as strings; only that cell breaks the rule. */
    static const char *const stray[] = {"1.5", "oops", NULL, " 4 "};
    ln_table *table = ln_table_new(4);
    add_numbers(table, "count", LN_TYPE_INT, whole);
    add_numbers(table, "whole_float", LN_TYPE_FLOAT, whole);
    add_numbers(table, "fraction", LN_TYPE_FLOAT, fractional);
    add_strings(table, "label", LN_TYPE_TEXT, text);
    add_strings(table, "stray", LN_TYPE_CATEGORY, stray);

    static const struct {
        const char *column;
        ln_type type;
        size_t broken;     /* rows breaking the type rule; 0 for compatible */
        size_t first_row;
    } cases[] = {
        {"count", LN_TYPE_FLOAT, 0, 0},         {"whole_float", LN_TYPE_INT, 0, 0},
        {"fraction", LN_TYPE_INT, 2, 2},        {"label", LN_TYPE_CATEGORY, 0, 0},
        {"label", LN_TYPE_FLOAT, 3, 1},         {"count", LN_TYPE_CATEGORY, 3, 1},
        {"count", LN_TYPE_TIMESTAMP, 3, 1},     {"whole_float", LN_TYPE_BOOL, 2, 2},
        {"stray", LN_TYPE_FLOAT, 1, 2},         {"stray", LN_TYPE_INT, 2, 1},
    };
    for (size_t i = 0; i < N_OF(cases); i++) {
        ln_contract *contract = contract_with_column(cases[i].column, cases[i].type);
        ln_validation *report = validate(contract, table);
        if (cases[i].broken == 0) {
            assert_int_equal(report->n_violations, 0);
        } else {
            const ln_violation *violation = only_violation(report, LN_RULE_TYPE);
            assert_int_equal(violation->count, cases[i].broken);
            assert_int_equal(violation->example_rows[0], cases[i].first_row);
        }
        ln_validation_free(report);
        ln_contract_free(contract);
    }
    ln_table_free(table);
}

static void test_validate_missing_column_and_rows(void **state)
{
    (void)state;
    static const double x[] = {1, 2, 3};
    ln_table *table = ln_table_new(3);
    add_numbers(table, "x", LN_TYPE_FLOAT, x);
    ln_contract *contract = contract_with_column("int_rate", LN_TYPE_FLOAT);
    contract->has_min_rows = 1;
    contract->min_rows = 5;

    ln_validation *report = validate(contract, table);
    assert_int_equal(report->n_violations, 2);
    assert_int_equal(report->violations[0].rule, LN_RULE_MIN_ROWS);
    assert_null(report->violations[0].column);
    assert_int_equal(report->violations[0].count, 2);
    assert_int_equal(report->violations[1].rule, LN_RULE_PRESENT);
    assert_string_equal(report->violations[1].column, "int_rate");
    ln_validation_free(report);

    contract->min_rows = 3;
    contract->columns[0].severity[LN_RULE_PRESENT] = LN_SEVERITY_WARNING;
    report = validate(contract, table);
    assert_int_equal(report->n_violations, 1);
    assert_int_equal(ln_validation_error_count(report), 0);
    assert_int_equal(ln_validation_warning_count(report), 1);
    ln_validation_free(report);
    ln_contract_free(contract);
    ln_table_free(table);
}

/* Temporary folder for the files of every test, removed by main. */
static char folder[64];

/* Writes text (unless NULL) to a new file under the temporary folder and returns its path in path (capacity 256). */
static void write_temp(const char *name, const char *text, char *path)
{
    if (folder[0] == '\0') {
        snprintf(folder, sizeof folder, "/tmp/lanner-contract-XXXXXX");
        assert_non_null(mkdtemp(folder));
    }
    snprintf(path, 256, "%s/%s", folder, name);
    if (text != NULL) {
        FILE *file = fopen(path, "w");
        assert_non_null(file);
        fputs(text, file);
        fclose(file);
    }
}

static void test_contract_yaml_round_trip(void **state)
{
    (void)state;
    enum { N = 120 };
    double amount[N], id[N], when[N], flag[N];
    const char *country[N], *note[N];
    ln_table *table = ln_table_new(N);
    for (size_t r = 0; r < N; r++) {
        amount[r] = r % 7 == 0 ? NAN : 0.37 * (double)r - 3.1;
        id[r] = (double)r;
        when[r] = 1700000000.0 + 3600.0 * (double)r;
        flag[r] = (double)(r % 2);
        static const char *const awkward[] = {"no", "a \"quoted\" value: yes", "1.5"};
        country[r] = awkward[r % 3];
        note[r] = r % 5 == 0 ? NULL : "null";
    }
    add_numbers(table, "amount", LN_TYPE_FLOAT, amount);
    add_numbers(table, "id", LN_TYPE_INT, id);
    add_numbers(table, "when", LN_TYPE_TIMESTAMP, when);
    add_numbers(table, "flag", LN_TYPE_BOOL, flag);
    add_strings(table, "country: name", LN_TYPE_CATEGORY, country);
    add_strings(table, "note", LN_TYPE_TEXT, note);

    ln_profile *profile = profile_of(table, NULL, NULL);
    ln_contract *inferred = NULL, *loaded = NULL;
    ln_error err = {0};
    char path[256];
    write_temp("round_trip.yaml", NULL, path);
    assert_int_equal(ln_contract_infer(profile, &inferred, &err), LN_OK);
    inferred->columns[0].severity[LN_RULE_MAX] = LN_SEVERITY_WARNING;
    assert_int_equal(ln_contract_write_yaml(inferred, path, "test table\nwith a line break", &err), LN_OK);
    if (ln_contract_load(path, &loaded, &err) != LN_OK) {
        print_error("%s\n", err.message);
        fail();
    }

    assert_int_equal(loaded->n_columns, inferred->n_columns);
    assert_int_equal(loaded->min_rows, inferred->min_rows);
    for (size_t c = 0; c < loaded->n_columns; c++) {
        const ln_contract_column *a = &inferred->columns[c], *b = &loaded->columns[c];
        assert_string_equal(a->name, b->name);
        assert_int_equal(a->type, b->type);
        assert_int_equal(a->has_min, b->has_min);
        assert_int_equal(a->has_max, b->has_max);
        if (a->has_min)
            check_close(b->min, a->min, 0, "min read back");
        if (a->has_max)
            check_close(b->max, a->max, 0, "max read back");
        check_close(b->max_missing, a->max_missing, 0, "max_missing read back");
        assert_int_equal(a->unique, b->unique);
        assert_int_equal(a->n_values, b->n_values);
        for (size_t v = 0; v < a->n_values; v++)
            assert_string_equal(a->values[v], b->values[v]);
        check_close(b->max_new_share, a->max_new_share, 0, "max_new_share read back");
        assert_memory_equal(a->severity, b->severity, sizeof a->severity);
        assert_true(b->line > 0);
    }
    assert_int_equal(loaded->columns[0].severity[LN_RULE_MAX], LN_SEVERITY_WARNING);
    assert_true(loaded->columns[1].unique);

    ln_validation *report = validate(loaded, table);
    assert_int_equal(report->n_violations, 0);
    ln_validation_free(report);
    ln_contract_free(inferred);
    ln_contract_free(loaded);
    ln_profile_free(profile);
    ln_table_free(table);
    unlink(path);
}

static void test_contract_load_hand_written(void **state)
{
    (void)state;
    char path[256];
    write_temp("hand.yaml",
               "severity: {min_rows: warning}\n"
               "min_rows: 10\n"
               "columns:\n"
               "  amount: {type: float, min: -.inf, max: 100, max_missing: 0.5, severity: warning}\n"
               "  placed:\n"
               "    type: timestamp\n"
               "    min: 2024-01-01\n"
               "    max: \"2024-12-31T12:00:00Z\"\n"
               "  country: {type: category, values: [US, CA], severity: {values: warning}}\n"
               "  anything:\n",
               path);
    ln_contract *contract = NULL;
    ln_error err = {0};
    if (ln_contract_load(path, &contract, &err) != LN_OK) {
        print_error("%s\n", err.message);
        fail();
    }
    assert_int_equal(contract->min_rows, 10);
    assert_int_equal(contract->min_rows_severity, LN_SEVERITY_WARNING);
    assert_int_equal(contract->n_columns, 4);
    assert_true(isinf(contract->columns[0].min) && contract->columns[0].min < 0);
    assert_int_equal(contract->columns[0].severity[LN_RULE_TYPE], LN_SEVERITY_WARNING);
    check_close(contract->columns[1].min, 1704067200, 0, "2024-01-01 in seconds");
    check_close(contract->columns[1].max, 1735646400, 0, "2024-12-31T12:00:00Z in seconds");
    assert_int_equal(contract->columns[1].line, 5);
    assert_string_equal(contract->columns[2].values[0], "CA");
    check_close(contract->columns[2].max_new_share, 0, 0, "default max_new_share");
    assert_int_equal(contract->columns[2].severity[LN_RULE_VALUES], LN_SEVERITY_WARNING);
    assert_int_equal(contract->columns[2].severity[LN_RULE_TYPE], LN_SEVERITY_ERROR);
    assert_false(contract->columns[3].has_type);
    ln_contract_free(contract);
    unlink(path);
}

static void test_contract_load_rejects_bad_files(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        ln_status status;
        const char *message; /* expected inside err.message, after the path */
    } cases[] = {
        {"min_rows: 3\ncolumns:\n  a: {type: float, maxx: 3}\n", LN_ERR_CONFIG, ":3: column 'a': unknown key 'maxx'"},
        {"min_rowz: 3\ncolumns: {}\n", LN_ERR_CONFIG, ":1: unknown top-level key 'min_rowz'"},
        {"columns:\n  a: {type: float, min: low}\n", LN_ERR_CONFIG, ":2: column 'a': expected a number, found low"},
        {"columns:\n  a: {type: decimal}\n", LN_ERR_CONFIG, ":2: column 'a': type must be"},
        {"columns:\n  a: {type: float, min: 5, max: 1}\n", LN_ERR_CONFIG, "min is above max"},
        {"columns:\n  a: {max_missing: 1.5}\n", LN_ERR_CONFIG, "expected a share from 0 to 1, found 1.5"},
        {"columns:\n  a: {missing: sometimes}\n", LN_ERR_CONFIG, "missing must be never"},
        {"columns:\n  a: {unique: yes}\n", LN_ERR_CONFIG, "expected true or false, found yes"},
        {"columns:\n  a: {values: US}\n", LN_ERR_CONFIG, "values must be a list"},
        {"columns:\n  a: {values: [US, US]}\n", LN_ERR_CONFIG, "values lists this value twice: US"},
        {"columns:\n  a: {max_new_share: 0.1}\n", LN_ERR_CONFIG, "max_new_share needs a values list"},
        {"columns:\n  a: {severity: fatal}\n", LN_ERR_CONFIG, "expected error or warning, found fatal"},
        {"columns:\n  a: {severity: {min_rows: warning}}\n", LN_ERR_CONFIG, "unknown rule 'min_rows'"},
        {"columns:\n  a: {type: float}\n  a: {type: float}\n", LN_ERR_CONFIG, "column 'a' is listed twice"},
        {"columns:\n  a: {type: float, type: integer}\n", LN_ERR_CONFIG, ":2: column 'a': this key appears twice"},
        {"min_rows: -4\ncolumns: {}\n", LN_ERR_CONFIG, ":1: min_rows: expected a whole number"},
        {"min_rows: 3\n", LN_ERR_CONFIG, "no columns key"},
        {"- a\n- b\n", LN_ERR_CONFIG, "top level: expected a map"},
        {"", LN_ERR_CONFIG, "the contract is empty"},
        {"columns:\n  a: [1\n", LN_ERR_PARSE, ":3:1: invalid YAML"},
    };
    char path[256];

    for (size_t i = 0; i < N_OF(cases); i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.yaml", i);
        write_temp(name, cases[i].text, path);
        ln_contract *contract = NULL;
        ln_error err = {0};
        ln_status status = ln_contract_load(path, &contract, &err);
        if (status != cases[i].status || strstr(err.message, cases[i].message) == NULL ||
            strstr(err.message, name) == NULL) {
            print_error("case %zu: status %d, message '%s'; expected status %d with '%s'\n", i, status, err.message,
                        cases[i].status, cases[i].message);
            fail();
        }
        assert_null(contract);
        unlink(path);
    }

    ln_contract *contract = NULL;
    ln_error err = {0};
    write_temp("absent.yaml", NULL, path);
    assert_int_equal(ln_contract_load(path, &contract, &err), LN_ERR_NOT_FOUND);
}

static void test_json_and_html_outputs(void **state)
{
    (void)state;
    static const double x[] = {1, 2, NAN, INFINITY};
    static const char *const name[] = {"<b>&\"x\"", "y", "y", NULL};
    ln_table *table = ln_table_new(4);
    add_numbers(table, "x", LN_TYPE_FLOAT, x);
    add_strings(table, "<script>", LN_TYPE_CATEGORY, name);
    ln_profile *profile = profile_of(table, NULL, NULL);

    json_t *root = ln_profile_to_json(profile);
    assert_non_null(root);
    json_t *columns = json_object_get(root, "columns");
    assert_int_equal(json_array_size(columns), 2);
    json_t *first = json_array_get(columns, 0);
    assert_int_equal(json_integer_value(json_object_get(first, "positive_infinite")), 1);
    assert_true(json_is_real(json_object_get(json_object_get(first, "quantiles"), "p50")));
    json_t *top = json_object_get(json_array_get(columns, 1), "top");
    assert_string_equal(json_string_value(json_object_get(json_array_get(top, 0), "value")), "y");
    json_decref(root);

    char path[256];
    ln_error err = {0};
    write_temp("profile.html", NULL, path);
    assert_int_equal(ln_profile_write_html(profile, path, "a <title>", &err), LN_OK);
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    static char html[1 << 16];
    size_t size = fread(html, 1, sizeof html - 1, file);
    fclose(file);
    html[size] = '\0';
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<b>"));
    assert_non_null(strstr(html, "&lt;b&gt;&amp;&quot;x&quot;"));
    assert_non_null(strstr(html, "a &lt;title&gt;"));
    size_t charts = 0;
    for (const char *p = html; (p = strstr(p, "<svg")) != NULL; p++)
        charts++;
    assert_int_equal(charts, 2);
    unlink(path);

    ln_contract *contract = contract_with_column("x", LN_TYPE_FLOAT);
    contract->columns[0].has_max = 1;
    contract->columns[0].max = 1.5;
    ln_validation *report = validate(contract, table);
    root = ln_validation_to_json(report);
    assert_int_equal(json_integer_value(json_object_get(root, "errors")), 1);
    json_t *violation = json_array_get(json_object_get(root, "violations"), 0);
    assert_string_equal(json_string_value(json_object_get(violation, "rule")), "max");
    assert_int_equal(json_integer_value(json_object_get(violation, "count")), 2);
    json_t *example = json_array_get(json_object_get(violation, "examples"), 1);
    assert_int_equal(json_integer_value(json_object_get(example, "row")), 4);
    assert_string_equal(json_string_value(json_object_get(example, "value")), "inf");
    json_decref(root);
    ln_validation_free(report);
    ln_contract_free(contract);
    ln_profile_free(profile);
    ln_table_free(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_numeric_matches_numpy),
        cmocka_unit_test(test_profile_numeric_edge_cases),
        cmocka_unit_test(test_profile_category_counts),
        cmocka_unit_test(test_profile_many_categories_keeps_top),
        cmocka_unit_test(test_profile_target_auc),
        cmocka_unit_test(test_profile_auc_matches_metrics),
        cmocka_unit_test(test_profile_target_errors),
        cmocka_unit_test(test_infer_rules),
        cmocka_unit_test(test_validate_range_rules),
        cmocka_unit_test(test_validate_missing_rules),
        cmocka_unit_test(test_validate_new_values),
        cmocka_unit_test(test_validate_unique),
        cmocka_unit_test(test_validate_type_rules),
        cmocka_unit_test(test_validate_missing_column_and_rows),
        cmocka_unit_test(test_contract_yaml_round_trip),
        cmocka_unit_test(test_contract_load_hand_written),
        cmocka_unit_test(test_contract_load_rejects_bad_files),
        cmocka_unit_test(test_json_and_html_outputs),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (folder[0] != '\0')
        rmdir(folder);
    return failed;
}
