/*
 * Tests of the serve module's request handling without HTTP: the request
 * parser (native and MLflow shapes, each malformed request), the conversion
 * of JSON rows into an ln_table, timestamps, the bearer-token check, text
 * buffers and the prediction log line.
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

/* ---- a small model: amount (float), country (category), is_new (boolean), signup (timestamp) ---- */

#define TRAIN_ROWS 400

static ln_model *train_model(void)
{
    static const char *const countries[] = {"US", "GB", "DE"};
    ln_error err = {0};
    ln_table *table = ln_table_new(TRAIN_ROWS);
    double *labels = malloc(TRAIN_ROWS * sizeof *labels);
    assert_non_null(table);
    assert_non_null(labels);

    ln_column *amount = ln_table_add_column(table, "amount", LN_TYPE_FLOAT, &err);
    ln_column *country = ln_table_add_column(table, "country", LN_TYPE_CATEGORY, &err);
    ln_column *is_new = ln_table_add_column(table, "is_new", LN_TYPE_BOOL, &err);
    ln_column *signup = ln_table_add_column(table, "signup", LN_TYPE_TIMESTAMP, &err);
    assert_non_null(signup);
    /* Pointers are taken again: adding a column may move the earlier ones. */
    amount = &table->cols[0];
    country = &table->cols[1];
    is_new = &table->cols[2];

    for (int i = 0; i < TRAIN_ROWS; i++) {
        amount->values[i] = (i * 37) % 100;
        /* "FR" occurs 3 times: below the 10 rows a category needs for its own bin. */
        const char *name = i < 3 ? "FR" : countries[i % 3];
        country->codes[i] = ln_dict_intern(country->dict, name, strlen(name));
        is_new->values[i] = i % 2;
        signup->values[i] = 1.6e9 + i * 86400.0;
        labels[i] = (amount->values[i] > 50) ^ (i % 3 == 1 && i % 2 == 0);
    }

    const char *features[] = {"amount", "country", "is_new", "signup"};
    ln_train_params params;
    ln_train_params_default(&params);
    params.trees = 20;
    params.min_data_in_leaf = 5;
    params.threads = 1;
    ln_model *model = NULL;
    assert_int_equal(ln_model_train(&params, table, labels, features, 4, NULL, NULL, &model, &err), LN_OK);
    assert_int_equal(ln_model_set_metadata(model, "{\"name\":\"fraud\",\"threshold\":0.5,\"id\":\"order_id\"}", &err),
                     LN_OK);
    ln_table_free(table);
    free(labels);
    return model;
}

static int setup(void **state)
{
    ln_error err = {0};
    serve_model *served = NULL;

    if (serve_model_new(train_model(), "fraud", 3, "00ff", NULL, &served, &err) != LN_OK)
        return -1;
    *state = served;
    return 0;
}

static int teardown(void **state)
{
    serve_model_release(*state);
    return 0;
}

/* Parses body and expects status with a message containing expected. */
static void expect_parse_error(serve_api api, const char *body, ln_status status, const char *expected)
{
    serve_request request;
    ln_error err = {0};

    ln_status got = serve_request_parse(body, strlen(body), api, &request, &err);
    if (got != status || strstr(err.message, expected) == NULL)
        fail_msg("body %s: expected status %d with \"%s\", got %d: %s", body, status, expected, got, err.message);
}

static serve_request parse_ok(serve_api api, const char *body)
{
    serve_request request;
    ln_error err = {0};

    if (serve_request_parse(body, strlen(body), api, &request, &err) != LN_OK)
        fail_msg("body %s: %s", body, err.message);
    return request;
}

/* ---- the parser ---- */

static void test_parse_malformed_json_gives_byte_position(void **state)
{
    (void)state;
    expect_parse_error(SERVE_API_NATIVE, "{\"instances\": [1,]}", LN_ERR_PARSE, "invalid JSON at byte 18");
    expect_parse_error(SERVE_API_NATIVE, "{", LN_ERR_PARSE, "invalid JSON at byte 1");
    expect_parse_error(SERVE_API_NATIVE, "", LN_ERR_PARSE, "body is empty");
    expect_parse_error(SERVE_API_NATIVE, "{\"a\":1,\"a\":2}", LN_ERR_PARSE, "duplicate object key");
    expect_parse_error(SERVE_API_NATIVE, "{\"instance\":{\"amount\":1e999}}", LN_ERR_PARSE, "real number overflow");
    expect_parse_error(SERVE_API_NATIVE, "{\"instance\":{\"amount\":NaN}}", LN_ERR_PARSE, "invalid JSON");
}

static void test_parse_rejects_wrong_shapes(void **state)
{
    (void)state;
    expect_parse_error(SERVE_API_NATIVE, "[]", LN_ERR_PARSE, "must be a JSON object, found an array");
    expect_parse_error(SERVE_API_NATIVE, "{}", LN_ERR_PARSE, "expected \"instances\"");
    expect_parse_error(SERVE_API_NATIVE, "{\"instances\":[{}],\"instance\":{}}", LN_ERR_PARSE, "not both");
    expect_parse_error(SERVE_API_NATIVE, "{\"instances\":{}}", LN_ERR_PARSE, "\"instances\" must be an array, found an object");
    expect_parse_error(SERVE_API_NATIVE, "{\"instances\":[]}", LN_ERR_DATA, "\"instances\" is empty");
    expect_parse_error(SERVE_API_NATIVE, "{\"instances\":[{},3]}", LN_ERR_PARSE, "instances[1] must be an object");
    expect_parse_error(SERVE_API_NATIVE, "{\"instance\":[1]}", LN_ERR_PARSE, "\"instance\" must be an object");
    expect_parse_error(SERVE_API_NATIVE, "{\"instance\":{},\"explain\":1}", LN_ERR_PARSE, "\"explain\" must be true or false");
}

static void test_parse_limits_instances(void **state)
{
    (void)state;
    size_t n = LN_SERVE_MAX_INSTANCES + 1;
    char *body = malloc(n * 3 + 64);
    assert_non_null(body);

    strcpy(body, "{\"instances\":[");
    size_t length = strlen(body);
    for (size_t i = 0; i < n; i++) {
        memcpy(body + length, i ? ",{}" : "{}", i ? 3 : 2);
        length += i ? 3 : 2;
    }
    memcpy(body + length, "]}", 3);
    expect_parse_error(SERVE_API_NATIVE, body, LN_ERR_LIMIT, "has 10001 rows; the limit is 10000");
    assert_int_equal(serve_http_status(LN_ERR_LIMIT), 413);

    /* One fewer is accepted. */
    memcpy(body + length - 3, "]}", 3);
    serve_request request = parse_ok(SERVE_API_NATIVE, body);
    assert_int_equal(request.n_rows, LN_SERVE_MAX_INSTANCES);
    serve_request_clear(&request);
    free(body);
}

static void test_parse_native_shapes(void **state)
{
    (void)state;
    serve_request request = parse_ok(SERVE_API_NATIVE, "{\"instances\":[{\"amount\":1},{\"amount\":2}]}");
    assert_int_equal(request.n_rows, 2);
    assert_string_equal(request.rows_key, "instances");
    assert_int_equal(request.explain, 0);
    serve_request_clear(&request);

    request = parse_ok(SERVE_API_NATIVE, "{\"instance\":{\"amount\":1},\"explain\":true}");
    assert_int_equal(request.n_rows, 1);
    assert_non_null(request.single);
    assert_int_equal(request.explain, 1);
    serve_request_clear(&request);
}

static void test_parse_mlflow_shapes(void **state)
{
    (void)state;
    serve_request request = parse_ok(SERVE_API_MLFLOW,
                                     "{\"dataframe_split\":{\"index\":[0,1],\"columns\":[\"amount\",\"country\"],"
                                     "\"data\":[[1,\"US\"],[2,\"GB\"]]}}");
    assert_int_equal(request.n_rows, 2);
    assert_non_null(request.columns);
    serve_request_clear(&request);

    request = parse_ok(SERVE_API_MLFLOW, "{\"dataframe_records\":[{\"amount\":1}]}");
    assert_int_equal(request.n_rows, 1);
    assert_string_equal(request.rows_key, "dataframe_records");
    serve_request_clear(&request);

    request = parse_ok(SERVE_API_MLFLOW, "{\"instances\":[{\"amount\":1},{},{}],\"params\":{}}");
    assert_int_equal(request.n_rows, 3);
    serve_request_clear(&request);
}

static void test_parse_mlflow_errors(void **state)
{
    (void)state;
    expect_parse_error(SERVE_API_MLFLOW, "{}", LN_ERR_PARSE, "expected exactly one of");
    expect_parse_error(SERVE_API_MLFLOW, "{\"dataframe_records\":[{}],\"instances\":[{}]}", LN_ERR_PARSE, "found 2");
    expect_parse_error(SERVE_API_MLFLOW, "{\"inputs\":[[1]]}", LN_ERR_PARSE, "tensor \"inputs\" are not supported");
    expect_parse_error(SERVE_API_MLFLOW, "{\"dataframe_split\":[]}", LN_ERR_PARSE, "must be an object with \"columns\"");
    expect_parse_error(SERVE_API_MLFLOW, "{\"dataframe_split\":{\"data\":[[1]]}}", LN_ERR_PARSE,
                       "columns\" must be an array");
    expect_parse_error(SERVE_API_MLFLOW, "{\"dataframe_split\":{\"columns\":[\"a\"]}}", LN_ERR_PARSE, "no \"data\"");
    expect_parse_error(SERVE_API_MLFLOW, "{\"dataframe_split\":{\"columns\":[\"a\",1],\"data\":[[1,2]]}}", LN_ERR_PARSE,
                       "columns[1] must be a string");
    expect_parse_error(SERVE_API_MLFLOW, "{\"dataframe_split\":{\"columns\":[\"a\",\"a\"],\"data\":[[1,2]]}}",
                       LN_ERR_PARSE, "repeats the column \"a\"");
    expect_parse_error(SERVE_API_MLFLOW, "{\"dataframe_split\":{\"columns\":[\"a\",\"b\"],\"data\":[[1,2],[3]]}}",
                       LN_ERR_PARSE, "data[1] has 1 values but \"columns\" names 2");
    expect_parse_error(SERVE_API_MLFLOW, "{\"dataframe_split\":{\"columns\":[\"a\"],\"data\":[5]}}", LN_ERR_PARSE,
                       "data[0] must be an array");
    expect_parse_error(SERVE_API_MLFLOW, "{\"dataframe_split\":{\"columns\":[\"a\"],\"data\":[]}}", LN_ERR_DATA,
                       "is empty");
    expect_parse_error(SERVE_API_MLFLOW, "{\"dataframe_records\":[[1]]}", LN_ERR_PARSE,
                       "dataframe_records[0] must be an object");
}

static void test_http_status_mapping(void **state)
{
    (void)state;
    assert_int_equal(serve_http_status(LN_ERR_PARSE), 400);
    assert_int_equal(serve_http_status(LN_ERR_DATA), 400);
    assert_int_equal(serve_http_status(LN_ERR_NOT_FOUND), 404);
    assert_int_equal(serve_http_status(LN_ERR_NOMEM), 500);
}

/* ---- JSON to table ---- */

static ln_table *table_of(const serve_model *served, serve_api api, const char *body, serve_counts *counts)
{
    serve_request request = parse_ok(api, body);
    ln_table *table = NULL;
    ln_error err = {0};

    if (serve_request_table(&served->schema, &request, 0, request.n_rows, &table, counts, &err) != LN_OK)
        fail_msg("body %s: %s", body, err.message);
    serve_request_clear(&request);
    return table;
}

static void test_table_reads_each_type(void **state)
{
    serve_model *served = *state;
    serve_counts counts = {0};
    ln_table *table = table_of(served, SERVE_API_NATIVE,
                               "{\"instances\":[{\"amount\":12.5,\"country\":\"GB\",\"is_new\":true,"
                               "\"signup\":\"2021-03-04T05:06:07Z\"},"
                               "{\"amount\":7,\"is_new\":0,\"signup\":1600000000}]}",
                               &counts);

    assert_int_equal(table->n_rows, 2);
    assert_int_equal(table->n_cols, 4);
    assert_true(table->cols[0].values[0] == 12.5);
    assert_true(table->cols[0].values[1] == 7.0);
    assert_string_equal(ln_dict_string(table->cols[1].dict, table->cols[1].codes[0]), "GB");
    assert_int_equal(table->cols[1].codes[1], LN_MISSING_CODE);
    assert_true(table->cols[2].values[0] == 1.0);
    assert_true(table->cols[2].values[1] == 0.0);
    /* 2021-03-04T05:06:07Z is 1614834367 seconds after the epoch (date -u -d ... +%s). */
    assert_true(table->cols[3].values[0] == 1614834367.0);
    assert_true(table->cols[3].values[1] == 1600000000.0);
    assert_int_equal(counts.unseen_categories, 0);
    assert_int_equal(counts.extra_fields, 0);
    ln_table_free(table);
}

static void test_table_null_and_absent_are_missing(void **state)
{
    serve_model *served = *state;
    serve_counts counts = {0};
    ln_table *table = table_of(served, SERVE_API_NATIVE,
                               "{\"instance\":{\"amount\":null,\"country\":null,\"is_new\":null}}", &counts);

    assert_true(isnan(table->cols[0].values[0]));
    assert_int_equal(table->cols[1].codes[0], LN_MISSING_CODE);
    assert_true(isnan(table->cols[2].values[0]));
    assert_true(isnan(table->cols[3].values[0]));
    ln_table_free(table);
}

static void test_table_counts_unseen_and_extra(void **state)
{
    serve_model *served = *state;
    serve_counts counts = {0};
    ln_table *table = table_of(served, SERVE_API_NATIVE,
                               "{\"instances\":[{\"country\":\"FR\",\"note\":\"x\",\"other\":1},"
                               "{\"country\":\"ZZ\"},{\"country\":\"US\"}]}",
                               &counts);

    /* FR was in training but too rare for its own bin, so it is routed like an unseen category. */
    assert_int_equal(counts.unseen_categories, 2);
    assert_int_equal(counts.extra_fields, 2);
    assert_string_equal(ln_dict_string(table->cols[1].dict, table->cols[1].codes[1]), "ZZ");
    ln_table_free(table);

    counts = (serve_counts){0};
    table = table_of(served, SERVE_API_MLFLOW,
                     "{\"dataframe_split\":{\"columns\":[\"country\",\"extra\",\"amount\"],"
                     "\"data\":[[\"US\",1,5],[\"XX\",2,6],[\"GB\",3,7]]}}",
                     &counts);
    assert_int_equal(counts.unseen_categories, 1);
    assert_int_equal(counts.extra_fields, 3);
    assert_true(table->cols[0].values[2] == 7.0);
    assert_string_equal(ln_dict_string(table->cols[1].dict, table->cols[1].codes[2]), "GB");
    ln_table_free(table);
}

static void expect_table_error(const serve_model *served, serve_api api, const char *body, const char *expected)
{
    serve_request request = parse_ok(api, body);
    serve_counts counts = {0};
    ln_table *table = NULL;
    ln_error err = {0};

    ln_status status = serve_request_table(&served->schema, &request, 0, request.n_rows, &table, &counts, &err);
    serve_request_clear(&request);
    if (status != LN_ERR_DATA || strstr(err.message, expected) == NULL)
        fail_msg("body %s: expected a data error with \"%s\", got %d: %s", body, expected, status, err.message);
    assert_null(table);
    assert_int_equal(serve_http_status(status), 400);
}

static void test_table_rejects_wrong_types(void **state)
{
    serve_model *served = *state;

    expect_table_error(served, SERVE_API_NATIVE, "{\"instances\":[{},{\"amount\":\"12\"}]}",
                       "instances[1] field \"amount\" must be a number (feature type float), found a string");
    expect_table_error(served, SERVE_API_NATIVE, "{\"instance\":{\"amount\":true}}",
                       "instance field \"amount\" must be a number (feature type float), found a boolean");
    expect_table_error(served, SERVE_API_NATIVE, "{\"instance\":{\"amount\":[1]}}", "found an array");
    expect_table_error(served, SERVE_API_NATIVE, "{\"instance\":{\"country\":{}}}",
                       "field \"country\" must be a string (feature type category), found an object");
    expect_table_error(served, SERVE_API_NATIVE, "{\"instance\":{\"is_new\":\"yes\"}}",
                       "must be true, false or a number (feature type boolean)");
    expect_table_error(served, SERVE_API_NATIVE, "{\"instance\":{\"signup\":\"2021-02-30\"}}",
                       "must be seconds since 1970 or an ISO 8601 date-time (feature type timestamp)");
    expect_table_error(served, SERVE_API_MLFLOW, "{\"dataframe_split\":{\"columns\":[\"amount\"],\"data\":[[1],[\"x\"]]}}",
                       "dataframe_split.data[1] field \"amount\" must be a number");
}

static void test_table_number_for_category_needs_known_text(void **state)
{
    serve_model *served = *state;

    /* No country reads as 415, so a number is a type error... */
    expect_table_error(served, SERVE_API_NATIVE, "{\"instance\":{\"country\":415}}",
                       "field \"country\" must be a string (feature type category), found a number");

    /* ...unless a known category has the number's text. */
    ln_dict *known = served->schema.known[1];
    ln_dict_intern(known, "415", 3);
    serve_counts counts = {0};
    ln_table *table = table_of(served, SERVE_API_NATIVE, "{\"instance\":{\"country\":415}}", &counts);
    assert_string_equal(ln_dict_string(table->cols[1].dict, table->cols[1].codes[0]), "415");
    assert_int_equal(counts.unseen_categories, 0);
    ln_table_free(table);
}

static void test_table_scores_match_direct_prediction(void **state)
{
    serve_model *served = *state;
    serve_counts counts = {0};
    ln_error err = {0};
    ln_table *table = table_of(served, SERVE_API_NATIVE,
                               "{\"instances\":[{\"amount\":80,\"country\":\"GB\",\"is_new\":1,\"signup\":1600000000},"
                               "{\"amount\":10,\"country\":\"US\",\"is_new\":0,\"signup\":1600086400}]}",
                               &counts);

    /* The same rows built by hand, with a dictionary in another order. */
    ln_table *direct = ln_table_new(2);
    ln_table_add_column(direct, "signup", LN_TYPE_TIMESTAMP, &err);
    ln_table_add_column(direct, "is_new", LN_TYPE_BOOL, &err);
    ln_table_add_column(direct, "country", LN_TYPE_CATEGORY, &err);
    ln_table_add_column(direct, "amount", LN_TYPE_FLOAT, &err);
    ln_column *cols = direct->cols;
    cols[0].values[0] = 1600000000;
    cols[0].values[1] = 1600086400;
    cols[1].values[0] = 1;
    cols[1].values[1] = 0;
    cols[2].codes[1] = ln_dict_intern(cols[2].dict, "US", 2);
    cols[2].codes[0] = ln_dict_intern(cols[2].dict, "GB", 2);
    cols[3].values[0] = 80;
    cols[3].values[1] = 10;

    double served_scores[2], direct_scores[2];
    assert_int_equal(ln_model_predict(served->model, table, served_scores, &err), LN_OK);
    assert_int_equal(ln_model_predict(served->model, direct, direct_scores, &err), LN_OK);
    assert_true(served_scores[0] == direct_scores[0]);
    assert_true(served_scores[1] == direct_scores[1]);
    assert_true(served_scores[0] != served_scores[1]);
    ln_table_free(table);
    ln_table_free(direct);
}

static void test_table_chunks_cover_all_rows(void **state)
{
    serve_model *served = *state;
    serve_counts counts = {0};
    ln_error err = {0};
    ln_table *table = NULL;
    serve_request request = parse_ok(SERVE_API_NATIVE, "{\"instances\":[{\"amount\":1},{\"amount\":2},{\"amount\":3}]}");

    assert_int_equal(serve_request_table(&served->schema, &request, 1, 3, &table, &counts, &err), LN_OK);
    assert_int_equal(table->n_rows, 2);
    assert_true(table->cols[0].values[0] == 2.0);
    assert_true(table->cols[0].values[1] == 3.0);
    ln_table_free(table);
    serve_request_clear(&request);

    assert_int_equal(serve_chunk_rows(4), SERVE_CHUNK_ROWS);
    assert_int_equal(serve_chunk_rows(100000), SERVE_CHUNK_CELLS / 100000);
    assert_int_equal(serve_chunk_rows(SERVE_CHUNK_CELLS * 2), 1);
}

static void test_model_threshold_from_metadata(void **state)
{
    serve_model *served = *state;
    ln_error err = {0};

    assert_true(served->threshold == 0.5);
    assert_non_null(strstr(served->info_json, "\"id_column\":\"order_id\""));
    assert_non_null(strstr(served->info_json, "{\"name\":\"country\",\"type\":\"category\"}"));
    assert_non_null(strstr(served->summary_json, "\"version\":3"));

    /* Without a threshold in the metadata nothing is ever flagged. */
    ln_model *model = train_model();
    assert_int_equal(ln_model_set_metadata(model, "{\"threshold\":null}", &err), LN_OK);
    serve_model *never = NULL;
    assert_int_equal(serve_model_new(model, "never", 1, "", NULL, &never, &err), LN_OK);
    assert_true(isinf(never->threshold) && never->threshold > 0);
    assert_non_null(strstr(never->summary_json, "\"threshold\":null"));
    serve_model_release(never);

    model = train_model();
    assert_int_equal(ln_model_set_metadata(model, "not json", &err), LN_OK);
    assert_int_equal(serve_model_new(model, "bad", 1, "", NULL, &never, &err), LN_ERR_CORRUPT);
    assert_non_null(strstr(err.message, "metadata of model bad version 1 is not a JSON object"));
}

/* ---- timestamps ---- */

static void test_timestamp_formats(void **state)
{
    (void)state;
    double t = 0;
    static const struct {
        const char *text;
        double seconds;
    } cases[] = {
        {"1970-01-01", 0},
        {"2000-02-29", 951782400},
        {"2021-03-04T05:06:07Z", 1614834367},
        {"2021-03-04 05:06:07", 1614834367},
        {"2021-03-04T05:06", 1614834360},
        {"2021-03-04T05:06:07.25Z", 1614834367.25},
        {"2021-03-04T07:06:07+02:00", 1614834367},
        {"1969-12-31T23:59:59Z", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(serve_parse_timestamp(cases[i].text, strlen(cases[i].text), &t), 0);
        if (t != cases[i].seconds)
            fail_msg("%s: expected %.17g, got %.17g", cases[i].text, cases[i].seconds, t);
    }

    static const char *const bad[] = {"", "2021", "2021-13-01", "2021-02-29", "2021-03-04T25:00", "2021-03-04T05:06:07X",
                                      "2021-03-04T05:06:07.", "21-03-04", "2021-03-04T05"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (serve_parse_timestamp(bad[i], strlen(bad[i]), &t) == 0)
            fail_msg("'%s' parsed as %.17g", bad[i], t);
}

/* ---- authentication ---- */

static void test_token_check(void **state)
{
    (void)state;
    assert_true(serve_token_matches("s3cret", "Bearer s3cret"));
    assert_true(serve_token_matches("s3cret", "bearer s3cret"));
    assert_false(serve_token_matches("s3cret", NULL));
    assert_false(serve_token_matches("s3cret", ""));
    assert_false(serve_token_matches("s3cret", "Bearer "));
    assert_false(serve_token_matches("s3cret", "Bearer s3cre"));
    assert_false(serve_token_matches("s3cret", "Bearer s3crett"));
    assert_false(serve_token_matches("s3cret", "Bearer S3cret"));
    assert_false(serve_token_matches("s3cret", "Basic s3cret"));
    assert_false(serve_token_matches("s3cret", "s3cret"));
}

/* ---- buffers and the log line ---- */

static void test_buffer_refuses_past_max(void **state)
{
    (void)state;
    serve_buf buf;

    serve_buf_init(&buf, 8);
    serve_buf_puts(&buf, "1234");
    serve_buf_puts(&buf, "5678");
    assert_false(buf.failed);
    serve_buf_puts(&buf, "9");
    assert_true(buf.failed);
    assert_null(serve_buf_take(&buf));

    serve_buf_init(&buf, 1024);
    serve_buf_json_string(&buf, "a\"b\\c\n\x01");
    serve_buf_puts(&buf, " ");
    serve_buf_json_number(&buf, 0.1);
    serve_buf_puts(&buf, " ");
    serve_buf_json_number(&buf, 415);
    serve_buf_puts(&buf, " ");
    serve_buf_json_number(&buf, NAN);
    serve_buf_puts(&buf, " ");
    serve_buf_json_number(&buf, 1.0 / 3);
    char *text = serve_buf_take(&buf);
    assert_string_equal(text, "\"a\\\"b\\\\c\\n\\u0001\" 0.1 415 null 0.3333333333333333");
    free(text);
}

static void test_log_line_format(void **state)
{
    (void)state;
    serve_buf buf;
    serve_request request = parse_ok(SERVE_API_NATIVE, "{\"instances\":[{\"amount\":12.5,\"country\":\"GB\",\"x\":[1,null]}]}");

    serve_buf_init(&buf, 4096);
    /* 1614834367123 ms is 2021-03-04T05:06:07.123Z. */
    serve_log_format(&buf, "req-1", 0, 1614834367123LL, "fraud", 3, &request, 0.25, 0);
    char *line = serve_buf_take(&buf);
    assert_string_equal(line, "{\"request_id\":\"req-1\",\"index\":0,\"time\":\"2021-03-04T05:06:07.123Z\",\"model\":\"fraud\","
                              "\"version\":3,\"features\":{\"amount\":12.5,\"country\":\"GB\",\"x\":[1,null]},"
                              "\"score\":0.25,\"decision\":\"pass\"}\n");
    free(line);
    serve_request_clear(&request);

    request = parse_ok(SERVE_API_MLFLOW, "{\"dataframe_split\":{\"columns\":[\"a\",\"b\"],\"data\":[[1,\"x\"],[2,null]]}}");
    serve_buf_init(&buf, 4096);
    serve_log_format(&buf, "r", 1, 0, "m", 1, &request, 1, 1);
    line = serve_buf_take(&buf);
    assert_string_equal(line, "{\"request_id\":\"r\",\"index\":1,\"time\":\"1970-01-01T00:00:00.000Z\",\"model\":\"m\","
                              "\"version\":1,\"features\":{\"a\":2,\"b\":null},\"score\":1,\"decision\":\"flag\"}\n");
    free(line);
    serve_request_clear(&request);
}


/* Scores the one row of body through serve_request_model_row and through a table; both must agree. */
static double score_both_ways(serve_model *served, const char *body, serve_counts *row_counts)
{
    serve_request request = parse_ok(SERVE_API_NATIVE, body);
    serve_counts table_counts = {0};
    ln_table *table = NULL;
    ln_error err = {0};
    double by_row = -1, by_table = -2;
    serve_counts before = *row_counts;

    ln_model_row *row = serve_model_take_row(served);
    assert_non_null(row);
    assert_int_equal(serve_request_model_row(&served->schema, &request, row, row_counts, &err), LN_OK);
    assert_int_equal(ln_model_predict_row(served->model, row, &by_row, &err), LN_OK);
    serve_model_return_row(served, row);

    assert_int_equal(serve_request_table(&served->schema, &request, 0, 1, &table, &table_counts, &err), LN_OK);
    assert_int_equal(ln_model_predict(served->model, table, &by_table, &err), LN_OK);
    ln_table_free(table);
    serve_request_clear(&request);

    if (by_row != by_table)
        fail_msg("body %s: row score %.17g, table score %.17g", body, by_row, by_table);
    assert_int_equal(row_counts->unseen_categories - before.unseen_categories, table_counts.unseen_categories);
    assert_int_equal(row_counts->extra_fields - before.extra_fields, table_counts.extra_fields);
    return by_row;
}

static void test_model_row_matches_table(void **state)
{
    serve_model *served = *state;
    serve_counts counts = {0};

    double high = score_both_ways(served,
                                  "{\"instance\":{\"amount\":80,\"country\":\"GB\",\"is_new\":true,"
                                  "\"signup\":\"2020-09-13T12:26:40Z\"}}",
                                  &counts);
    double low = score_both_ways(served, "{\"instance\":{\"amount\":10,\"country\":\"US\",\"is_new\":0}}", &counts);
    assert_true(high != low);

    /* A pooled row comes back cleared: absent and null features are missing again. */
    score_both_ways(served, "{\"instance\":{}}", &counts);
    score_both_ways(served, "{\"instance\":{\"amount\":null,\"country\":null}}", &counts);
    assert_int_equal(counts.unseen_categories, 0);

    /* FR is too rare for its own bin and ZZ was never seen: both are routed like rare categories and counted. */
    counts = (serve_counts){0};
    double rare = score_both_ways(served, "{\"instance\":{\"amount\":10,\"country\":\"FR\",\"note\":1}}", &counts);
    double unseen = score_both_ways(served, "{\"instance\":{\"amount\":10,\"country\":\"ZZ\"}}", &counts);
    assert_true(rare == unseen);
    assert_int_equal(counts.unseen_categories, 2);
    assert_int_equal(counts.extra_fields, 1);
}

static void expect_row_error(serve_model *served, const char *body, const char *expected)
{
    serve_request request = parse_ok(SERVE_API_NATIVE, body);
    serve_counts counts = {0};
    ln_error err = {0};
    ln_model_row *row = serve_model_take_row(served);

    ln_status status = serve_request_model_row(&served->schema, &request, row, &counts, &err);
    serve_model_return_row(served, row);
    serve_request_clear(&request);
    if (status != LN_ERR_DATA || strstr(err.message, expected) == NULL)
        fail_msg("body %s: expected a data error with \"%s\", got %d: %s", body, expected, status, err.message);
}

static void test_model_row_rejects_wrong_types(void **state)
{
    serve_model *served = *state;

    expect_row_error(served, "{\"instance\":{\"amount\":true}}",
                     "instance field \"amount\" must be a number (feature type float), found a boolean");
    expect_row_error(served, "{\"instances\":[{\"country\":{}}]}",
                     "instances[0] field \"country\" must be a string (feature type category), found an object");
    expect_row_error(served, "{\"instance\":{\"country\":415}}", "found a number");
    expect_row_error(served, "{\"instance\":{\"is_new\":\"yes\"}}", "must be true, false or a number");
    expect_row_error(served, "{\"instance\":{\"signup\":\"2021-02-30\"}}", "or an ISO 8601 date-time");
}

static void test_model_row_pool_reuses_rows(void **state)
{
    serve_model *served = *state;

    ln_model_row *first = serve_model_take_row(served);
    ln_model_row *second = serve_model_take_row(served);
    assert_non_null(first);
    assert_non_null(second);
    assert_ptr_not_equal(first, second);
    serve_model_return_row(served, second);
    assert_ptr_equal(serve_model_take_row(served), second);
    serve_model_return_row(served, first);
    serve_model_return_row(served, second);
    serve_model_return_row(served, NULL);
}

static void test_log_line_keeps_instance_text(void **state)
{
    (void)state;
    serve_buf buf;
    /* Whitespace between tokens is dropped, whitespace and escapes inside strings are kept, numbers keep their text. */
    serve_request request = parse_ok(SERVE_API_NATIVE, "{ \"explain\" : false,\n\t\"instance\" : { \"amount\" : 128.0 ,"
                                                       " \"note\" : \"a }, \\\" b\" , \"x\" : [ 1 , { \"k\" : null } ] } }");

    serve_buf_init(&buf, 4096);
    serve_log_format(&buf, "r", 0, 0, "m", 1, &request, 0.5, 1);
    char *line = serve_buf_take(&buf);
    assert_string_equal(line, "{\"request_id\":\"r\",\"index\":0,\"time\":\"1970-01-01T00:00:00.000Z\",\"model\":\"m\","
                              "\"version\":1,\"features\":{\"amount\":128.0,\"note\":\"a }, \\\" b\",\"x\":[1,{\"k\":null}]},"
                              "\"score\":0.5,\"decision\":\"flag\"}\n");
    free(line);
    serve_request_clear(&request);

    /* A key spelled with an escape is not matched as text, so the parsed object is written back instead. */
    request = parse_ok(SERVE_API_NATIVE, "{\"\\u0069nstance\": {\"amount\": 1.50}}");
    assert_null(request.single_text);
    serve_buf_init(&buf, 4096);
    serve_request_row_json(&request, 0, &buf);
    line = serve_buf_take(&buf);
    assert_string_equal(line, "{\"amount\":1.5}");
    free(line);
    serve_request_clear(&request);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_malformed_json_gives_byte_position),
        cmocka_unit_test(test_parse_rejects_wrong_shapes),
        cmocka_unit_test(test_parse_limits_instances),
        cmocka_unit_test(test_parse_native_shapes),
        cmocka_unit_test(test_parse_mlflow_shapes),
        cmocka_unit_test(test_parse_mlflow_errors),
        cmocka_unit_test(test_http_status_mapping),
        cmocka_unit_test_setup_teardown(test_table_reads_each_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_null_and_absent_are_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_counts_unseen_and_extra, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_rejects_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_number_for_category_needs_known_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_scores_match_direct_prediction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_chunks_cover_all_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_threshold_from_metadata, setup, teardown),
        cmocka_unit_test(test_timestamp_formats),
        cmocka_unit_test(test_token_check),
        cmocka_unit_test(test_buffer_refuses_past_max),
        cmocka_unit_test(test_log_line_format),
        cmocka_unit_test(test_log_line_keeps_instance_text),
        cmocka_unit_test_setup_teardown(test_model_row_matches_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_row_rejects_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_row_pool_reuses_rows, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
