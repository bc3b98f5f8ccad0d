/*
 * Tests of the data-contract checks on served rows, without HTTP. They cover
 * each per-row rule (type, min, max, missing: never, values), severities and
 * the columns left out. They also cover the violation counters in /metrics,
 * the cap on listed violations, and the text of warnings and 422 messages.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lanner/model.h"
#include "serve/serve_internal.h"

#define TRAIN_ROWS 400

/* Features: amount (float), items (integer), country (category), is_new (boolean), signup (timestamp). */
#define F_AMOUNT 0
#define F_ITEMS 1
#define F_COUNTRY 2
#define F_IS_NEW 3
#define F_SIGNUP 4

/*
 * The contract: label is no feature, so it is left out. signup's
 * max_missing above 0 is an aggregate rule and is not checked per row.
 */
static const char contract_yaml[] =
    "min_rows: 100\n"
    "columns:\n"
    "  amount: {type: float, min: 0, max: 100, missing: never}\n"
    "  items: {type: integer, min: 1, max: 5, severity: {max: warning}}\n"
    "  country: {type: category, values: [DE, FR, GB, US], max_new_share: 0.01}\n"
    "  is_new: {type: boolean}\n"
    "  label: {type: integer, missing: never}\n"
    "  signup: {type: timestamp, max_missing: 0.5}\n";

static ln_model *train_model(const char *metadata)
{
    static const char *const countries[] = {"US", "GB", "DE"};
    ln_error err = {0};
    ln_table *table = ln_table_new(TRAIN_ROWS);
    double *labels = malloc(TRAIN_ROWS * sizeof *labels);
    assert_non_null(table);
    assert_non_null(labels);

    assert_non_null(ln_table_add_column(table, "amount", LN_TYPE_FLOAT, &err));
    assert_non_null(ln_table_add_column(table, "items", LN_TYPE_INT, &err));
    assert_non_null(ln_table_add_column(table, "country", LN_TYPE_CATEGORY, &err));
    assert_non_null(ln_table_add_column(table, "is_new", LN_TYPE_BOOL, &err));
    assert_non_null(ln_table_add_column(table, "signup", LN_TYPE_TIMESTAMP, &err));
    for (int i = 0; i < TRAIN_ROWS; i++) {
        table->cols[0].values[i] = (i * 37) % 100;
        table->cols[1].values[i] = 1 + i % 5;
        /* FR occurs 3 times, too few for its own bin in the model, but the contract lists it. */
        const char *name = i < 3 ? "FR" : countries[i % 3];
        table->cols[2].codes[i] = ln_dict_intern(table->cols[2].dict, name, strlen(name));
        table->cols[3].values[i] = i % 2;
        table->cols[4].values[i] = 1.6e9 + i * 86400.0;
        labels[i] = (table->cols[0].values[i] > 50) ^ (i % 3 == 1 && i % 2 == 0);
    }

    const char *features[] = {"amount", "items", "country", "is_new", "signup"};
    ln_train_params params;
    ln_train_params_default(&params);
    params.trees = 10;
    params.min_data_in_leaf = 5;
    params.threads = 1;
    ln_model *model = NULL;
    assert_int_equal(ln_model_train(&params, table, labels, features, 5, NULL, NULL, &model, &err), LN_OK);
    assert_int_equal(ln_model_set_metadata(model, metadata, &err), LN_OK);
    ln_table_free(table);
    free(labels);
    return model;
}

/* Returns the model's metadata JSON with contract (NULL: "contract": null) as the YAML string. */
static char *metadata_with(const char *contract)
{
    json_t *root = json_object();
    json_object_set_new(root, "threshold", json_real(0.5));
    json_object_set_new(root, "contract", contract != NULL ? json_string(contract) : json_null());
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    assert_non_null(text);
    return text;
}

static serve_model *serve_with(const char *contract, serve_metrics *metrics)
{
    char *metadata = metadata_with(contract);
    ln_error err = {0};
    serve_model *served = NULL;

    if (serve_model_new(train_model(metadata), "fraud", 3, "00ff", metrics, &served, &err) != LN_OK)
        fail_msg("serve_model_new: %s", err.message);
    free(metadata);
    return served;
}

static int setup(void **state)
{
    *state = serve_with(contract_yaml, NULL);
    return 0;
}

static int teardown(void **state)
{
    serve_model_release(*state);
    return 0;
}

/* Converts body through a table and returns the counts, with room for max_listed violations in listed. */
static serve_counts check_body(const serve_model *served, const char *body, serve_violation *listed,
                               size_t max_listed)
{
    serve_request request;
    serve_counts counts = {.listed = listed, .max_listed = max_listed};
    ln_table *table = NULL;
    ln_error err = {0};

    if (serve_request_parse(body, strlen(body), SERVE_API_NATIVE, &request, &err) != LN_OK)
        fail_msg("body %s: %s", body, err.message);
    if (serve_request_table(&served->schema, &request, 0, request.n_rows, &table, &counts, &err) != LN_OK)
        fail_msg("body %s: %s", body, err.message);
    ln_table_free(table);
    serve_request_clear(&request);
    return counts;
}

/*
 * Writes into out a row object that every per-row rule accepts, except that
 * field gets value (JSON text), or is left out when value is NULL.
 */
static const char *row_with(char *out, size_t capacity, const char *field, const char *value)
{
    static const char *const names[] = {"amount", "items", "country", "is_new", "signup"};
    static const char *const clean[] = {"50", "3", "\"GB\"", "true", "1600000000"};
    size_t used = (size_t)snprintf(out, capacity, "{");

    for (size_t i = 0; i < 5; i++) {
        int replaced = field != NULL && strcmp(field, names[i]) == 0;
        if (replaced && value == NULL)
            continue;
        used += (size_t)snprintf(out + used, capacity - used, "%s\"%s\":%s", used > 1 ? "," : "", names[i],
                                 replaced ? value : clean[i]);
    }
    snprintf(out + used, capacity - used, "}");
    return out;
}

/* Checks a one-instance body whose row is row_with(field, value). */
static serve_counts check_one(const serve_model *served, const char *field, const char *value,
                              serve_violation *listed, size_t max_listed)
{
    char row[512], body[600];
    snprintf(body, sizeof body, "{\"instance\":%s}", row_with(row, sizeof row, field, value));
    return check_body(served, body, listed, max_listed);
}

/* Checks a two-row body: row_with(field1, value1) then row_with(field2, value2). */
static serve_counts check_two(const serve_model *served, const char *field1, const char *value1, const char *field2,
                              const char *value2, serve_violation *listed, size_t max_listed)
{
    char row1[512], row2[512], body[1100];
    snprintf(body, sizeof body, "{\"instances\":[%s,%s]}", row_with(row1, sizeof row1, field1, value1),
             row_with(row2, sizeof row2, field2, value2));
    return check_body(served, body, listed, max_listed);
}

static void expect_one(const serve_counts *counts, size_t row, size_t feature, ln_rule rule, ln_severity severity)
{
    assert_int_equal(counts->n_listed, 1);
    assert_int_equal(counts->listed[0].row, row);
    assert_int_equal(counts->listed[0].feature, feature);
    assert_int_equal(counts->listed[0].rule, rule);
    assert_int_equal(counts->listed[0].severity, severity);
}

static void test_contract_columns_resolved(void **state)
{
    serve_model *served = *state;

    assert_non_null(served->schema.contract);
    /* label is in the contract but is no feature. */
    assert_int_equal(served->schema.n_checked, 5);
    assert_string_equal(served->schema.checks[F_AMOUNT].column->name, "amount");
    assert_string_equal(served->schema.checks[F_SIGNUP].column->name, "signup");
    assert_non_null(served->schema.checks[F_COUNTRY].allowed);
    assert_null(served->schema.checks[F_AMOUNT].allowed);
}

static void test_contract_clean_row_passes(void **state)
{
    serve_violation listed[8];
    serve_counts counts = check_one(*state, NULL, NULL, listed, 8);

    assert_int_equal(counts.n_listed, 0);
    assert_int_equal(counts.errors, 0);
    assert_int_equal(counts.omitted, 0);
}

static void test_contract_max_and_min(void **state)
{
    serve_violation listed[8];
    serve_counts counts = check_one(*state, "amount", "1e9", listed, 8);

    expect_one(&counts, 0, F_AMOUNT, LN_RULE_MAX, LN_SEVERITY_ERROR);
    assert_true(counts.listed[0].has_number);
    assert_true(counts.listed[0].value == 1e9);
    assert_int_equal(counts.errors, 1);
    assert_int_equal(counts.first_error.rule, LN_RULE_MAX);

    counts = check_two(*state, NULL, NULL, "amount", "-0.5", listed, 8);
    expect_one(&counts, 1, F_AMOUNT, LN_RULE_MIN, LN_SEVERITY_ERROR);
    assert_true(counts.listed[0].value == -0.5);

    /* The bounds are inclusive. */
    counts = check_two(*state, "amount", "0", "amount", "100", listed, 8);
    assert_int_equal(counts.n_listed, 0);
}

static void test_contract_infinity_breaks_bounds(void **state)
{
    serve_model *served = *state;
    serve_violation listed[8];
    serve_counts counts = {.listed = listed, .max_listed = 8};

    /* JSON carries no infinity, so the check is called as the conversion would call it. */
    serve_check_number(&served->schema, F_AMOUNT, 0, INFINITY, &counts);
    serve_check_number(&served->schema, F_AMOUNT, 1, -INFINITY, &counts);
    assert_int_equal(counts.n_listed, 2);
    assert_int_equal(counts.listed[0].rule, LN_RULE_MAX);
    assert_int_equal(counts.listed[1].rule, LN_RULE_MIN);
    assert_int_equal(counts.errors, 2);
}

static void test_contract_type_rule(void **state)
{
    serve_violation listed[8];

    /* 9.5 is no integer; the type rule is reported and the max rule skipped, as ln_contract_validate does. */
    serve_counts counts = check_one(*state, "items", "9.5", listed, 8);
    expect_one(&counts, 0, F_ITEMS, LN_RULE_TYPE, LN_SEVERITY_ERROR);

    counts = check_one(*state, "is_new", "2", listed, 8);
    expect_one(&counts, 0, F_IS_NEW, LN_RULE_TYPE, LN_SEVERITY_ERROR);

    counts = check_two(*state, "items", "4.0", "is_new", "0", listed, 8);
    assert_int_equal(counts.n_listed, 0);
}

static void test_contract_missing_never(void **state)
{
    serve_violation listed[8];

    serve_counts counts = check_one(*state, "amount", NULL, listed, 8);
    expect_one(&counts, 0, F_AMOUNT, LN_RULE_MAX_MISSING, LN_SEVERITY_ERROR);
    assert_false(counts.listed[0].has_number);

    counts = check_one(*state, "amount", "null", listed, 8);
    expect_one(&counts, 0, F_AMOUNT, LN_RULE_MAX_MISSING, LN_SEVERITY_ERROR);

    /* signup allows a missing share of 0.5: an aggregate rule, not checked per row. */
    counts = check_two(*state, "signup", "null", "signup", NULL, listed, 8);
    assert_int_equal(counts.n_listed, 0);
}

static void test_contract_new_category_warns(void **state)
{
    serve_violation listed[8];

    serve_counts counts = check_one(*state, "country", "\"ZZ\"", listed, 8);
    expect_one(&counts, 0, F_COUNTRY, LN_RULE_VALUES, LN_SEVERITY_WARNING);
    assert_string_equal(counts.listed[0].category, "ZZ");
    assert_int_equal(counts.errors, 0);
    assert_int_equal(counts.unseen_categories, 1);

    /* FR has no bin in the model but the contract lists it; DE has both. */
    counts = check_two(*state, "country", "\"FR\"", "country", "\"DE\"", listed, 8);
    assert_int_equal(counts.n_listed, 0);
    assert_int_equal(counts.unseen_categories, 1);

    /* 30 two-byte characters: the quoted value is cut to 46 bytes, not inside a character at 47. */
    char value[128] = "\"";
    for (int i = 0; i < 30; i++)
        strcat(value, "\xc3\xa9");
    strcat(value, "\"");
    counts = check_one(*state, "country", value, listed, 8);
    assert_int_equal(counts.n_listed, 1);
    assert_int_equal(strlen(counts.listed[0].category), 46);
    assert_memory_equal(counts.listed[0].category, value + 1, 46);
}

static void test_contract_new_category_error_without_share(void **state)
{
    (void)state;
    serve_model *strict = serve_with("columns:\n  country: {values: [DE, GB, US], max_new_share: 0}\n", NULL);
    serve_violation listed[8];

    serve_counts counts = check_one(strict, "country", "\"FR\"", listed, 8);
    expect_one(&counts, 0, F_COUNTRY, LN_RULE_VALUES, LN_SEVERITY_ERROR);
    assert_int_equal(counts.errors, 1);
    serve_model_release(strict);
}

static void test_contract_severity_warning(void **state)
{
    serve_violation listed[8];

    /* items' max is a warning, its min an error. */
    serve_counts counts = check_one(*state, "items", "7", listed, 8);
    expect_one(&counts, 0, F_ITEMS, LN_RULE_MAX, LN_SEVERITY_WARNING);
    assert_int_equal(counts.errors, 0);

    counts = check_one(*state, "items", "0", listed, 8);
    expect_one(&counts, 0, F_ITEMS, LN_RULE_MIN, LN_SEVERITY_ERROR);
    assert_int_equal(counts.errors, 1);
}

static void test_contract_model_row_checks_too(void **state)
{
    serve_model *served = *state;
    const char *body = "{\"instance\":{\"amount\":500,\"country\":\"ZZ\"}}";
    serve_violation listed[8];
    serve_counts counts = {.listed = listed, .max_listed = 8};
    serve_request request;
    ln_error err = {0};

    assert_int_equal(serve_request_parse(body, strlen(body), SERVE_API_NATIVE, &request, &err), LN_OK);
    ln_model_row *row = serve_model_take_row(served);
    assert_non_null(row);
    assert_int_equal(serve_request_model_row(&served->schema, &request, row, &counts, &err), LN_OK);
    serve_model_return_row(served, row);
    serve_request_clear(&request);

    /* In feature order: amount above max, then the new country. */
    assert_int_equal(counts.n_listed, 2);
    assert_int_equal(counts.listed[0].rule, LN_RULE_MAX);
    assert_int_equal(counts.listed[1].rule, LN_RULE_VALUES);
    assert_int_equal(counts.errors, 1);
}

static void test_contract_listing_cap(void **state)
{
    serve_violation listed[SERVE_MAX_LISTED_VIOLATIONS];
    char *body = malloc(100000);
    size_t used = (size_t)sprintf(body, "{\"instances\":[");
    size_t rows = SERVE_MAX_LISTED_VIOLATIONS + 6;

    assert_non_null(body);
    for (size_t i = 0; i < rows; i++) {
        char row[512], amount[32];
        snprintf(amount, sizeof amount, "%zu", 200 + i);
        used += (size_t)sprintf(body + used, "%s%s", i ? "," : "", row_with(row, sizeof row, "amount", amount));
    }
    sprintf(body + used, "]}");

    serve_counts counts = check_body(*state, body, listed, SERVE_MAX_LISTED_VIOLATIONS);
    assert_int_equal(counts.n_listed, SERVE_MAX_LISTED_VIOLATIONS);
    assert_int_equal(counts.omitted, 6);
    assert_int_equal(counts.errors, rows);
    assert_int_equal(counts.listed[SERVE_MAX_LISTED_VIOLATIONS - 1].row, SERVE_MAX_LISTED_VIOLATIONS - 1);
    assert_int_equal(counts.first_error.row, 0);
    free(body);
}

static void test_contract_violations_counted(void **state)
{
    (void)state;
    serve_metrics metrics;
    serve_metrics_init(&metrics);
    serve_model *served = serve_with(contract_yaml, &metrics);
    serve_violation listed[8];
    serve_buf buf;

    check_two(served, "amount", "1e9", "amount", "101", listed, 8);
    /* Counting does not depend on listing: no room to list here. */
    check_one(served, "country", "\"ZZ\"", NULL, 0);

    serve_buf_init(&buf, 1 << 20);
    serve_metrics_render(&metrics, 1, &buf);
    char *text = serve_buf_take(&buf);
    assert_non_null(text);
    assert_non_null(strstr(text, "\nlanner_contract_violations_total{model=\"fraud\",version=\"3\",column=\"amount\","
                                 "rule=\"max\"} 2\n"));
    assert_non_null(strstr(text, "\nlanner_contract_violations_total{model=\"fraud\",version=\"3\",column=\"country\","
                                 "rule=\"values\"} 1\n"));
    /* Rules never broken are not listed. */
    assert_null(strstr(text, "rule=\"min\""));
    free(text);

    serve_model_release(served);
    serve_metrics_clear(&metrics);
}

static void test_contract_warning_and_message_text(void **state)
{
    serve_model *served = *state;
    serve_violation listed[8];
    serve_buf buf;
    char message[512];

    serve_counts counts =
        check_body(served, "{\"instance\":{\"amount\":1e9,\"items\":3,\"country\":\"ZZ\",\"is_new\":true}}", listed, 8);
    assert_int_equal(counts.n_listed, 2);

    serve_buf_init(&buf, 4096);
    serve_violation_json(&served->schema, &counts.listed[0], &buf);
    serve_buf_puts(&buf, ",");
    serve_violation_json(&served->schema, &counts.listed[1], &buf);
    char *json = serve_buf_take(&buf);
    assert_string_equal(json, "{\"column\":\"amount\",\"rule\":\"max\",\"severity\":\"error\",\"value\":1000000000,"
                              "\"bound\":100},"
                              "{\"column\":\"country\",\"rule\":\"values\",\"severity\":\"warning\",\"value\":\"ZZ\"}");
    free(json);

    serve_violation_message(&served->schema, &counts.listed[0], message, sizeof message);
    assert_string_equal(message,
                        "column \"amount\" breaks contract rule max: value 1000000000 is above the maximum 100");
    serve_violation_message(&served->schema, &counts.listed[1], message, sizeof message);
    assert_string_equal(message, "column \"country\" breaks contract rule values: category \"ZZ\" is not one of its 4 "
                                 "values");
}

static void test_contract_absent_or_invalid(void **state)
{
    (void)state;
    serve_model *plain = serve_with(NULL, NULL);
    serve_violation listed[8];

    assert_null(plain->schema.checks);
    serve_counts counts = check_body(plain, "{\"instance\":{\"amount\":1e9}}", listed, 8);
    assert_int_equal(counts.n_listed, 0);
    serve_model_release(plain);

    char *metadata = metadata_with("columns: [unclosed\n");
    ln_error err = {0};
    serve_model *served = NULL;
    assert_int_equal(serve_model_new(train_model(metadata), "fraud", 3, "00ff", NULL, &served, &err), LN_ERR_PARSE);
    assert_non_null(strstr(err.message, "the contract of model fraud version 3:"));
    assert_null(served);
    free(metadata);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_contract_columns_resolved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_clean_row_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_max_and_min, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_infinity_breaks_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_type_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_missing_never, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_new_category_warns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_new_category_error_without_share, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_severity_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_model_row_checks_too, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_listing_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_violations_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_warning_and_message_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_absent_or_invalid, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
