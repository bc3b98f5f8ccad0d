/*
 * libFuzzer target for the prediction server's request handling: parses the
 * input as a request body (the first byte picks the native or the MLflow
 * shape), converts its rows into tables, scores them and formats the
 * prediction log lines, as POST /v1/models/{name}:predict does. A one-row
 * records request is also scored through a pooled ln_model_row, which must
 * give the table's score or its error, and the "instance" text copied into
 * the log must parse back to the object jansson read.
 *
 *   cmake -S . -B build-fuzz -DLANNER_FUZZ=ON -DLANNER_SANITIZE=ON -DCMAKE_C_COMPILER=clang \
 *         -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link
 *   cmake --build build-fuzz --target fuzz_request
 *
 * LANNER_SANITIZE and fuzzer-no-link put ASan and coverage into the
 * libraries too, not only into this file.
 *   build-fuzz/src/serve/fuzz_request -max_len=65536 -max_total_time=600 CORPUS_DIR
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve_internal.h"

static serve_model *served;

/* A model over one feature of each type, trained on 300 synthetic rows. */
static serve_model *make_model(void)
{
    static const char *const countries[] = {"US", "GB", "DE", "415"};
    ln_error err = {0};
    ln_table *table = ln_table_new(300);
    double labels[300];

    ln_table_add_column(table, "amount", LN_TYPE_FLOAT, &err);
    ln_table_add_column(table, "country", LN_TYPE_CATEGORY, &err);
    ln_table_add_column(table, "is_new", LN_TYPE_BOOL, &err);
    ln_table_add_column(table, "signup", LN_TYPE_TIMESTAMP, &err);
    for (int i = 0; i < 300; i++) {
        table->cols[0].values[i] = (i * 37) % 100;
        table->cols[1].codes[i] = ln_dict_intern(table->cols[1].dict, countries[i % 4], strlen(countries[i % 4]));
        table->cols[2].values[i] = i % 2;
        table->cols[3].values[i] = 1.6e9 + i * 3600.0;
        labels[i] = (table->cols[0].values[i] > 50) ^ (i % 4 == 1);
    }

    const char *features[] = {"amount", "country", "is_new", "signup"};
    ln_train_params params;
    ln_train_params_default(&params);
    params.trees = 10;
    params.threads = 1;
    ln_model *model = NULL;
    serve_model *result = NULL;
    if (ln_model_train(&params, table, labels, features, 4, NULL, NULL, &model, &err) != LN_OK ||
        ln_model_set_metadata(model, "{\"threshold\":0.5}", &err) != LN_OK ||
        serve_model_new(model, "fuzz", 1, "", NULL, &result, &err) != LN_OK)
        abort();
    ln_table_free(table);
    return result;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    served = make_model();
    return 0;
}

/* Scores the request's one row through a pooled row; aborts when it disagrees with the table path. */
static void check_row_path(const serve_request *request, ln_status table_status, double table_score)
{
    serve_counts counts = {0};
    ln_error err = {0};
    double score = -1;
    ln_model_row *row = serve_model_take_row(served);

    ln_status status = serve_request_model_row(&served->schema, request, row, &counts, &err);
    if (status == LN_OK && ln_model_predict_row(served->model, row, &score, &err) != LN_OK)
        abort();
    serve_model_return_row(served, row);
    if (status != table_status || (status == LN_OK && score != table_score))
        abort();
}

/* Aborts unless the features text the log writes for an "instance" is one line that parses back to the object. */
static void check_instance_text(const serve_request *request)
{
    if (request->single_text == NULL)
        return;

    serve_buf text;
    serve_buf_init(&text, 2 * request->single_length + 64);
    serve_request_row_json(request, 0, &text);
    if (text.failed || memchr(text.data, '\n', text.length) != NULL)
        abort();
    json_t *copy = json_loadb(text.data, text.length, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, NULL);
    if (copy == NULL || !json_equal(copy, request->single))
        abort();
    json_decref(copy);
    serve_buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;

    serve_api api = data[0] & 1 ? SERVE_API_MLFLOW : SERVE_API_NATIVE;
    serve_request request;
    ln_error err = {0};
    if (serve_request_parse((const char *)data + 1, size - 1, api, &request, &err) != LN_OK)
        return 0;

    double *scores = calloc(request.n_rows, sizeof *scores);
    serve_counts counts = {0};
    size_t chunk = serve_chunk_rows(served->schema.n_features);
    ln_status status = LN_OK;
    for (size_t begin = 0; begin < request.n_rows && status == LN_OK; begin += chunk) {
        size_t end = begin + chunk < request.n_rows ? begin + chunk : request.n_rows;
        ln_table *table = NULL;
        status = serve_request_table(&served->schema, &request, begin, end, &table, &counts, &err);
        if (status == LN_OK && ln_model_predict(served->model, table, scores + begin, &err) != LN_OK)
            abort(); /* a table the converter accepted must always score */
        ln_table_free(table);
    }

    if (request.n_rows == 1 && request.columns == NULL)
        check_row_path(&request, status, scores[0]);
    if (status == LN_OK)
        check_instance_text(&request);

    for (size_t i = 0; status == LN_OK && i < request.n_rows; i++) {
        if (!(scores[i] >= 0 && scores[i] <= 1))
            abort();
        serve_buf line;
        serve_buf_init(&line, 8 * size + 512);
        serve_log_format(&line, "fuzz", i, 0, served->name, served->version, &request, scores[i],
                         scores[i] >= served->threshold);
        serve_buf_free(&line);
    }
    free(scores);
    serve_request_clear(&request);
    return 0;
}
