/*
 * Route handlers: predictions (native and MLflow shapes), model listings,
 * readiness and metrics. Each handler queues exactly one response.
 */
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/serve_internal.h"

/* Models named in one error message; the rest are summarised as "...". */
#define NAMES_IN_MESSAGE 16

/* Writes "a, b, c" (the served model names) into out. */
static void served_names(ln_server *server, char *out, size_t capacity)
{
    serve_model *models[NAMES_IN_MESSAGE];
    size_t n = serve_catalog_snapshot(&server->catalog, models, NAMES_IN_MESSAGE);
    size_t listed = n < NAMES_IN_MESSAGE ? n : NAMES_IN_MESSAGE;
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < listed; i++) {
        int written = snprintf(out + used, capacity - used, "%s%s", i ? ", " : "", models[i]->name);
        if (written > 0 && (size_t)written < capacity - used)
            used += (size_t)written;
        serve_model_release(models[i]);
    }
    if (n > listed && used + 6 < capacity)
        snprintf(out + used, capacity - used, ", ...");
    if (n == 0)
        snprintf(out, capacity, "none");
}

/* Finds the model a prediction request is for; responds and returns NULL when there is none. */
static serve_model *pick_model(ln_server *server, struct MHD_Connection *connection, serve_call *call, serve_api api,
                               int *response)
{
    char names[1024];
    const char *name = call->model_name;

    if (api == SERVE_API_MLFLOW) {
        name = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "X-Model");
        if (name == NULL) {
            serve_model *models[2];
            size_t n = serve_catalog_snapshot(&server->catalog, models, 2);
            if (n == 1)
                return models[0];
            for (size_t i = 0; i < n && i < 2; i++)
                serve_model_release(models[i]);
            served_names(server, names, sizeof names);
            if (n == 0)
                *response = serve_respond_error(server, connection, call, MHD_HTTP_SERVICE_UNAVAILABLE,
                                                "no model is served: promote a version in registry %s",
                                                server->registry_path);
            else
                *response = serve_respond_error(server, connection, call, MHD_HTTP_BAD_REQUEST,
                                                "%zu models are served (%s): name one in the X-Model header", n, names);
            return NULL;
        }
    }

    serve_model *model = serve_catalog_acquire(&server->catalog, name);
    if (model == NULL) {
        served_names(server, names, sizeof names);
        *response = serve_respond_error(server, connection, call, MHD_HTTP_NOT_FOUND,
                                        "model '%.128s' is not served (served: %s)", name, names);
    }
    return model;
}

/* Uses the client's X-Request-Id when it is short and plain, else makes one. */
static void request_id(ln_server *server, struct MHD_Connection *connection, char *out, size_t capacity)
{
    const char *given = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "X-Request-Id");
    size_t length = given != NULL ? strlen(given) : 0;
    int plain = length > 0 && length <= SERVE_MAX_REQUEST_ID;

    for (size_t i = 0; plain && i < length; i++) {
        char c = given[i];
        plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                c == '.' || c == ':';
    }
    if (plain) {
        snprintf(out, capacity, "%s", given);
        return;
    }
    unsigned long long n = atomic_fetch_add_explicit(&server->next_request, 1, memory_order_relaxed);
    snprintf(out, capacity, "%08x-%llu", server->boot_id, n + 1);
}

/* Scores the one row of a records request through a pooled ln_model_row: no table, no allocation. */
static ln_status score_one_row(serve_model *model, const serve_request *request, double *score, serve_counts *counts,
                               ln_error *err)
{
    ln_model_row *row = serve_model_take_row(model);
    if (row == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory scoring one row");

    ln_status status = serve_request_model_row(&model->schema, request, row, counts, err);
    if (status == LN_OK)
        status = ln_model_predict_row(model->model, row, score, err);
    serve_model_return_row(model, row);
    return status;
}

/*
 * Scores every row in chunks of serve_chunk_rows rows, so a table never
 * exceeds SERVE_CHUNK_CELLS cells. contributions is NULL, or receives
 * ln_model_explain's n_features + 1 values per row.
 */
static ln_status score_rows(serve_model *model, const serve_request *request, double *scores,
                            double *contributions, serve_counts *counts, ln_error *err)
{
    if (request->n_rows == 1 && request->columns == NULL && contributions == NULL)
        return score_one_row(model, request, scores, counts, err);

    size_t width = model->schema.n_features + 1;
    size_t chunk = serve_chunk_rows(model->schema.n_features);

    for (size_t begin = 0; begin < request->n_rows; begin += chunk) {
        size_t end = begin + chunk < request->n_rows ? begin + chunk : request->n_rows;
        ln_table *table = NULL;
        ln_status status = serve_request_table(&model->schema, request, begin, end, &table, counts, err);
        if (status == LN_OK)
            status = ln_model_predict(model->model, table, scores + begin, err);
        if (status == LN_OK && contributions != NULL)
            status = ln_model_explain(model->model, table, contributions + begin * width, err);
        ln_table_free(table);
        if (status != LN_OK)
            return status;
    }
    return LN_OK;
}

/* Appends ,"contributions":{feature: value, ...},"bias":value for one row. */
static void append_contributions(serve_buf *buf, const serve_model *model, const double *row)
{
    size_t n = model->schema.n_features;

    serve_buf_puts(buf, ",\"contributions\":{");
    for (size_t f = 0; f < n; f++) {
        serve_buf_puts(buf, f ? "," : "");
        serve_buf_json_string(buf, model->schema.names[f]);
        serve_buf_puts(buf, ":");
        serve_buf_json_number(buf, row[f]);
    }
    serve_buf_puts(buf, "},\"bias\":");
    serve_buf_json_number(buf, row[n]);
}

/* Appends ,"warnings":[...] with the listed violations of row, from *next on (they are in row order). */
static void append_warnings(serve_buf *buf, const serve_model *model, const serve_counts *counts, size_t row,
                            size_t *next)
{
    if (*next >= counts->n_listed || counts->listed[*next].row != row)
        return;

    serve_buf_puts(buf, ",\"warnings\":[");
    for (size_t first = *next; *next < counts->n_listed && counts->listed[*next].row == row; (*next)++) {
        serve_buf_puts(buf, *next > first ? "," : "");
        serve_violation_json(&model->schema, &counts->listed[*next], buf);
    }
    serve_buf_puts(buf, "]");
}

static char *prediction_body(const serve_model *model, const double *scores, const double *contributions,
                             size_t n, serve_api api, const serve_counts *counts)
{
    serve_buf buf;
    size_t next_warning = 0;

    serve_buf_init(&buf, SERVE_MAX_RESPONSE_BYTES);
    if (api == SERVE_API_NATIVE) {
        serve_buf_puts(&buf, "{\"model\":");
        serve_buf_json_string(&buf, model->name);
        serve_buf_printf(&buf, ",\"version\":%d,\"predictions\":[", model->version);
    } else {
        serve_buf_puts(&buf, "{\"predictions\":[");
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            serve_buf_puts(&buf, ",");
        if (api == SERVE_API_MLFLOW) {
            serve_buf_json_number(&buf, scores[i]);
            continue;
        }
        serve_buf_puts(&buf, "{\"score\":");
        serve_buf_json_number(&buf, scores[i]);
        serve_buf_puts(&buf, scores[i] >= model->threshold ? ",\"decision\":\"flag\"" : ",\"decision\":\"pass\"");
        if (contributions != NULL)
            append_contributions(&buf, model, contributions + i * (model->schema.n_features + 1));
        append_warnings(&buf, model, counts, i, &next_warning);
        serve_buf_puts(&buf, "}");
    }
    serve_buf_puts(&buf, "]");
    if (counts->omitted > 0)
        serve_buf_printf(&buf, ",\"warnings_omitted\":%llu", (unsigned long long)counts->omitted);
    serve_buf_puts(&buf, "}");
    return serve_buf_take(&buf);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Counts each prediction and queues its log line. A request's log lines may
 * take at most 8 bytes per body byte plus 512 per row. dataframe_split
 * repeats every column name in every line, so a body with long names and
 * many rows would otherwise multiply into gigabytes of log. Lines past the
 * budget are dropped and counted.
 */
static void record_predictions(ln_server *server, const serve_model *model, const serve_request *request,
                               const double *scores, const char *id, size_t body_length)
{
    int64_t time_ms = wall_ms();
    size_t budget = 8 * body_length + 512 * request->n_rows;
    serve_buf line;

    /* One buffer, reused for each line, because serve_log_push copies the line. */
    serve_buf_init(&line, budget);
    for (size_t i = 0; i < request->n_rows; i++) {
        int flagged = scores[i] >= model->threshold;
        serve_series_record(model->series, scores[i], flagged);
        if (server->log == NULL)
            continue;

        line.length = 0;
        line.max = budget;
        serve_log_format(&line, id, i, time_ms, model->name, model->version, request, scores[i], flagged);
        if (line.failed) {
            atomic_fetch_add_explicit(&server->metrics.log_dropped, 1, memory_order_relaxed);
            continue;
        }
        budget -= line.length;
        serve_log_push(server->log, line.data, line.length);
    }
    serve_buf_free(&line);
}

/*
 * Responds 422 for the first error-level contract violation:
 * {"error": sentence, "row": n, "violation": {...}, "errors": count}.
 */
static int reject_violation(ln_server *server, struct MHD_Connection *connection, serve_call *call,
                            const serve_model *model, const serve_request *request, const serve_counts *counts)
{
    const serve_violation *violation = &counts->first_error;
    char message[512];
    char text[640];
    serve_buf buf;

    serve_violation_message(&model->schema, violation, message, sizeof message);
    if (request->single != NULL)
        snprintf(text, sizeof text, "%s: %s", request->rows_key, message);
    else
        snprintf(text, sizeof text, "%s[%zu]: %s", request->rows_key, violation->row, message);

    serve_buf_init(&buf, 4096);
    serve_buf_puts(&buf, "{\"error\":");
    serve_buf_json_string(&buf, text);
    serve_buf_printf(&buf, ",\"row\":%zu,\"violation\":", violation->row);
    serve_violation_json(&model->schema, violation, &buf);
    serve_buf_printf(&buf, ",\"errors\":%llu}", (unsigned long long)counts->errors);
    return serve_respond(server, connection, call, MHD_HTTP_UNPROCESSABLE_CONTENT, serve_buf_take(&buf), NULL);
}

static int predict_with(ln_server *server, struct MHD_Connection *connection, serve_call *call, serve_api api,
                        serve_model *model)
{
    serve_request request;
    serve_violation listed[SERVE_MAX_LISTED_VIOLATIONS];
    serve_counts counts = {0};
    ln_error err = {0};
    char id[SERVE_MAX_REQUEST_ID + 1];

    /* The MLflow response is a bare list of scores, so it has nowhere to put warnings. */
    if (api == SERVE_API_NATIVE && model->schema.checks != NULL) {
        counts.listed = listed;
        counts.max_listed = SERVE_MAX_LISTED_VIOLATIONS;
    }

    ln_status status = serve_request_parse(call->body.data != NULL ? call->body.data : "", call->body.length, api,
                                           &request, &err);
    if (status != LN_OK)
        return serve_respond_error(server, connection, call, serve_http_status(status), "%s", err.message);
    size_t width = model->schema.n_features + 1;
    if (request.explain && request.n_rows > SERVE_MAX_EXPLAIN_CELLS / width) {
        serve_request_clear(&request);
        return serve_respond_error(server, connection, call, MHD_HTTP_CONTENT_TOO_LARGE,
                                   "explaining %zu rows of %zu features is over the limit of %u contributions per "
                                   "request; send fewer rows",
                                   request.n_rows, width - 1, SERVE_MAX_EXPLAIN_CELLS);
    }

    double *scores = malloc(request.n_rows * sizeof *scores);
    double *contributions = request.explain ? malloc(request.n_rows * width * sizeof *contributions) : NULL;
    if (scores == NULL || (request.explain && contributions == NULL))
        status = ln_error_set(&err, LN_ERR_NOMEM, "out of memory scoring %zu rows", request.n_rows);
    if (status == LN_OK)
        status = score_rows(model, &request, scores, contributions, &counts, &err);
    if (status != LN_OK) {
        /* ln_model_explain rejects models it cannot explain (such as trees from a format-1 file) as a config error. */
        int code = request.explain && status == LN_ERR_CONFIG ? MHD_HTTP_NOT_IMPLEMENTED : serve_http_status(status);
        free(scores);
        free(contributions);
        serve_request_clear(&request);
        return serve_respond_error(server, connection, call, code, "%s", err.message);
    }

    if (model->series != NULL) {
        atomic_fetch_add_explicit(&model->series->unseen_categories, counts.unseen_categories, memory_order_relaxed);
        atomic_fetch_add_explicit(&model->series->extra_fields, counts.extra_fields, memory_order_relaxed);
    }
    if (server->enforce_contract && counts.errors > 0) {
        int response = reject_violation(server, connection, call, model, &request, &counts);
        free(scores);
        free(contributions);
        serve_request_clear(&request);
        return response;
    }
    request_id(server, connection, id, sizeof id);
    int response = serve_respond(server, connection, call, MHD_HTTP_OK,
                                 prediction_body(model, scores, contributions, request.n_rows, api, &counts), id);
    record_predictions(server, model, &request, scores, id, call->body.length);
    free(scores);
    free(contributions);
    serve_request_clear(&request);
    return response;
}

int serve_handle_predict(ln_server *server, struct MHD_Connection *connection, serve_call *call, serve_api api)
{
    int response = MHD_NO;
    serve_model *model = pick_model(server, connection, call, api, &response);

    if (model == NULL)
        return response;
    response = predict_with(server, connection, call, api, model);
    serve_model_release(model);
    return response;
}

int serve_handle_models(ln_server *server, struct MHD_Connection *connection, serve_call *call)
{
    serve_model **models = calloc(LN_SERVE_MAX_MODELS, sizeof *models);
    serve_buf buf;

    if (models == NULL)
        return serve_respond(server, connection, call, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);
    size_t n = serve_catalog_snapshot(&server->catalog, models, LN_SERVE_MAX_MODELS);
    serve_buf_init(&buf, SERVE_MAX_RESPONSE_BYTES);
    serve_buf_puts(&buf, "{\"models\":[");
    for (size_t i = 0; i < n; i++) {
        serve_buf_puts(&buf, i ? "," : "");
        serve_buf_puts(&buf, models[i]->summary_json);
        serve_model_release(models[i]);
    }
    serve_buf_puts(&buf, "]}");
    free(models);
    return serve_respond(server, connection, call, MHD_HTTP_OK, serve_buf_take(&buf), NULL);
}

int serve_handle_model(ln_server *server, struct MHD_Connection *connection, serve_call *call)
{
    serve_model *model = serve_catalog_acquire(&server->catalog, call->model_name);
    char names[1024];

    if (model == NULL) {
        served_names(server, names, sizeof names);
        return serve_respond_error(server, connection, call, MHD_HTTP_NOT_FOUND,
                                   "model '%s' is not served (served: %s)", call->model_name, names);
    }
    char *body = strdup(model->info_json);
    serve_model_release(model);
    return serve_respond(server, connection, call, MHD_HTTP_OK, body, NULL);
}

int serve_handle_readyz(ln_server *server, struct MHD_Connection *connection, serve_call *call)
{
    size_t n = serve_catalog_count(&server->catalog);
    serve_buf buf;

    if (n == 0)
        return serve_respond_error(server, connection, call, MHD_HTTP_SERVICE_UNAVAILABLE,
                                   "not ready: no production model in registry %s", server->registry_path);
    serve_buf_init(&buf, 256);
    serve_buf_printf(&buf, "{\"status\":\"ready\",\"models\":%zu}", n);
    return serve_respond(server, connection, call, MHD_HTTP_OK, serve_buf_take(&buf), NULL);
}

int serve_handle_metrics(ln_server *server, struct MHD_Connection *connection, serve_call *call)
{
    serve_buf buf;

    serve_buf_init(&buf, SERVE_MAX_RESPONSE_BYTES);
    serve_metrics_render(&server->metrics, serve_catalog_count(&server->catalog), &buf);
    char *text = serve_buf_take(&buf);
    if (text == NULL)
        return serve_respond(server, connection, call, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL);

    struct MHD_Response *response = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (response == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result queued = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    call->responded = 1;
    serve_metrics_record_request(&server->metrics, call->route, MHD_HTTP_OK, serve_now() - call->start);
    return queued;
}
