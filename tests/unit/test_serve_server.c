/*
 * Tests of the prediction server in this process: a registry in a temporary
 * folder, a server on a free port of 127.0.0.1, and plain HTTP/1.1 over
 * sockets. Covers the endpoints, authentication, body limits, hot reload
 * after a promotion, several models on /invocations, the prediction log
 * after a graceful stop, and the log's rotation at whole lines.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lanner/model.h"
#include "lanner/registry.h"
#include "lanner/serve.h"
#include "serve/serve_internal.h"

#define TRAIN_ROWS 400

typedef struct fixture {
    char dir[64];
    char db_path[128];
    char log_dir[128];
    ln_registry *registry;
    ln_server *server;
    int port;
} fixture;

/* ---- models and the registry ---- */

/* Metadata stored in the models that train_model makes; a test may swap it for one with a contract. */
static const char *model_metadata = "{\"threshold\":0.5,\"id\":null}";

/* Set by a test to start the server with --enforce-contract. */
static int enforce_contract;

/* Trains a model on amount and country; trees changes the model so that versions differ. */
static ln_model *train_model(int trees)
{
    static const char *const countries[] = {"US", "GB", "DE"};
    ln_error err = {0};
    ln_table *table = ln_table_new(TRAIN_ROWS);
    double labels[TRAIN_ROWS];

    ln_table_add_column(table, "amount", LN_TYPE_FLOAT, &err);
    ln_table_add_column(table, "country", LN_TYPE_CATEGORY, &err);
    for (int i = 0; i < TRAIN_ROWS; i++) {
        table->cols[0].values[i] = (i * 37) % 100;
        table->cols[1].codes[i] = ln_dict_intern(table->cols[1].dict, countries[i % 3], 2);
        labels[i] = (table->cols[0].values[i] > 50) ^ (i % 7 == 0);
    }

    const char *features[] = {"amount", "country"};
    ln_train_params params;
    ln_train_params_default(&params);
    params.trees = trees;
    params.threads = 1;
    ln_model *model = NULL;
    assert_int_equal(ln_model_train(&params, table, labels, features, 2, NULL, NULL, &model, &err), LN_OK);
    assert_int_equal(ln_model_set_metadata(model, model_metadata, &err), LN_OK);
    ln_table_free(table);
    return model;
}

/* Registers a newly trained model under name and promotes it; returns its version. */
static int register_and_promote(fixture *f, const char *name, int trees)
{
    char path[160];
    ln_error err = {0};
    int version = 0;
    ln_model *model = train_model(trees);

    snprintf(path, sizeof path, "%s/%s-%d.lnr", f->dir, name, trees);
    assert_int_equal(ln_model_save(model, path, &err), LN_OK);
    ln_model_free(model);
    ln_registration reg = {
        .name = name, .model_path = path, .metrics_json = "{}", .data_hash = "00", .pipeline_hash = "00",
        .run_dir = f->dir,
    };
    assert_int_equal(ln_registry_register(f->registry, &reg, &version, &err), LN_OK);
    if (ln_registry_promote(f->registry, name, version, "test", &err) != LN_OK)
        fail_msg("promote %s@%d: %s", name, version, err.message);
    return version;
}

static void start_server(fixture *f, const char *token, size_t max_body)
{
    ln_serve_options options;
    ln_error err = {0};

    ln_serve_options_default(&options);
    options.registry_path = f->db_path;
    options.port = 0;
    options.threads = 2;
    options.token = token;
    options.log_dir = f->log_dir;
    options.poll_ms = 20;
    options.enforce_contract = enforce_contract;
    if (max_body > 0)
        options.max_body = max_body;
    if (ln_server_start(&options, &f->server, &err) != LN_OK)
        fail_msg("server start: %s", err.message);
    f->port = ln_server_port(f->server);
    assert_true(f->port > 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    ln_error err = {0};

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lanner-serve-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->db_path, sizeof f->db_path, "%s/lanner.db", f->dir);
    snprintf(f->log_dir, sizeof f->log_dir, "%s/log", f->dir);
    if (ln_registry_open(f->db_path, &f->registry, &err) != LN_OK)
        return -1;
    *state = f;
    return 0;
}

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;

    ln_server_stop(f->server);
    ln_registry_close(f->registry);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- a small HTTP client ---- */

typedef struct reply {
    int status;
    char headers[4096];
    char *body; /* malloc'd */
} reply;

/* Sends one request with Connection: close and reads the whole reply. extra_headers end with \r\n each. */
static reply http(int port, const char *method, const char *path, const char *extra_headers, const char *body)
{
    reply r = {0};
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&address, sizeof address), 0);

    size_t body_length = body != NULL ? strlen(body) : 0;
    size_t capacity = body_length + 1024 + (extra_headers ? strlen(extra_headers) : 0);
    char *request = malloc(capacity);
    int length;
    if (body == NULL)
        length = snprintf(request, capacity, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n",
                          method, path, extra_headers ? extra_headers : "");
    else
        length = snprintf(request, capacity,
                          "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s"
                          "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                          method, path, extra_headers ? extra_headers : "", body_length, body);
    for (int sent = 0; sent < length;) {
        ssize_t n = send(fd, request + sent, (size_t)(length - sent), MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may respond early and close, as with 413 */
        sent += (int)n;
    }
    free(request);

    size_t size = 0, cap = 65536;
    char *text = malloc(cap + 1);
    for (;;) {
        if (size == cap)
            text = realloc(text, (cap *= 2) + 1);
        ssize_t n = recv(fd, text + size, cap - size, 0);
        if (n <= 0)
            break;
        size += (size_t)n;
    }
    text[size] = '\0';
    close(fd);

    sscanf(text, "HTTP/1.1 %d", &r.status);
    char *end = strstr(text, "\r\n\r\n");
    if (end != NULL) {
        size_t header_length = (size_t)(end - text);
        snprintf(r.headers, sizeof r.headers, "%.*s", (int)(header_length < 4095 ? header_length : 4095), text);
        r.body = strdup(end + 4);
    } else {
        r.body = strdup("");
    }
    free(text);
    return r;
}

static void expect_reply(reply r, int status, const char *fragment)
{
    if (r.status != status || strstr(r.body, fragment) == NULL)
        fail_msg("expected %d with '%s', got %d: %s", status, fragment, r.status, r.body);
    free(r.body);
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls GET /v1/models/name until it reports version, for up to 5 s. */
static void wait_for_version(fixture *f, const char *name, int version, const char *headers)
{
    char path[256], expected[64];
    snprintf(path, sizeof path, "/v1/models/%s", name);
    snprintf(expected, sizeof expected, "\"version\":%d,", version);

    for (int i = 0; i < 250; i++) {
        reply r = http(f->port, "GET", path, headers, NULL);
        int found = r.status == 200 && strstr(r.body, expected) != NULL;
        free(r.body);
        if (found)
            return;
        pause_ms(20);
    }
    fail_msg("model %s never reached version %d", name, version);
}

/* ---- tests ---- */

static void test_server_predicts_like_the_model(void **state)
{
    fixture *f = *state;
    ln_error err = {0};

    register_and_promote(f, "fraud", 20);
    start_server(f, NULL, 0);

    reply r = http(f->port, "POST", "/v1/models/fraud:predict", NULL,
                   "{\"instances\":[{\"amount\":80,\"country\":\"GB\"},{\"amount\":10,\"country\":\"US\"}]}");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "X-Request-Id: "));

    /* Expected scores from the same model file scored directly. */
    ln_model *model = train_model(20);
    ln_table *table = ln_table_new(2);
    ln_table_add_column(table, "amount", LN_TYPE_FLOAT, &err);
    ln_table_add_column(table, "country", LN_TYPE_CATEGORY, &err);
    table->cols[0].values[0] = 80;
    table->cols[0].values[1] = 10;
    table->cols[1].codes[0] = ln_dict_intern(table->cols[1].dict, "GB", 2);
    table->cols[1].codes[1] = ln_dict_intern(table->cols[1].dict, "US", 2);
    double scores[2];
    assert_int_equal(ln_model_predict(model, table, scores, &err), LN_OK);
    ln_table_free(table);
    ln_model_free(model);

    double got[2];
    char decision[2][8];
    const char *p = strstr(r.body, "\"predictions\":[");
    assert_non_null(p);
    assert_int_equal(sscanf(p, "\"predictions\":[{\"score\":%lf,\"decision\":\"%4[a-z]\"},{\"score\":%lf,\"decision\":\"%4[a-z]\"}",
                            &got[0], decision[0], &got[1], decision[1]),
                     4);
    assert_true(fabs(got[0] - scores[0]) <= 1e-15 * fabs(scores[0]));
    assert_true(fabs(got[1] - scores[1]) <= 1e-15 * fabs(scores[1]));
    assert_string_equal(decision[0], scores[0] >= 0.5 ? "flag" : "pass");
    assert_string_equal(decision[1], scores[1] >= 0.5 ? "flag" : "pass");
    assert_non_null(strstr(r.body, "{\"model\":\"fraud\",\"version\":1,"));
    free(r.body);

    expect_reply(http(f->port, "POST", "/invocations", NULL,
                      "{\"dataframe_split\":{\"columns\":[\"amount\",\"country\"],\"data\":[[80,\"GB\"]]}}"),
                 200, "{\"predictions\":[0.");
}

static void test_server_read_endpoints(void **state)
{
    fixture *f = *state;

    start_server(f, NULL, 0);
    expect_reply(http(f->port, "GET", "/healthz", NULL, NULL), 200, "ok");
    expect_reply(http(f->port, "GET", "/readyz", NULL, NULL), 503, "no production model");
    expect_reply(http(f->port, "GET", "/v1/models", NULL, NULL), 200, "{\"models\":[]}");
    expect_reply(http(f->port, "POST", "/invocations", NULL, "{\"instances\":[{}]}"), 503, "no model is served");

    register_and_promote(f, "fraud", 20);
    wait_for_version(f, "fraud", 1, NULL);
    expect_reply(http(f->port, "GET", "/readyz", NULL, NULL), 200, "\"models\":1");
    expect_reply(http(f->port, "GET", "/v1/models", NULL, NULL), 200,
                 "{\"models\":[{\"name\":\"fraud\",\"version\":1,\"threshold\":0.5}]}");
    expect_reply(http(f->port, "GET", "/v1/models/fraud", NULL, NULL), 200,
                 "\"features\":[{\"name\":\"amount\",\"type\":\"float\"},{\"name\":\"country\",\"type\":\"category\"}]");
    expect_reply(http(f->port, "GET", "/v1/models/nope", NULL, NULL), 404, "model 'nope' is not served (served: fraud)");
    expect_reply(http(f->port, "GET", "/v1/models/fraud:predict", NULL, NULL), 405, "GET is not allowed");
    expect_reply(http(f->port, "POST", "/v1/models", NULL, "{}"), 405, "POST is not allowed");
    expect_reply(http(f->port, "GET", "/nothing", NULL, NULL), 404, "no route for GET /nothing");
    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", NULL, "{\"instance\":{\"amount\":\"x\"}}"), 400,
                 "instance field \\\"amount\\\" must be a number");
    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", "Content-Type: text/csv\r\n", NULL), 415,
                 "Content-Type must be application/json");

    reply metrics = http(f->port, "GET", "/metrics", NULL, NULL);
    assert_int_equal(metrics.status, 200);
    assert_non_null(strstr(metrics.body, "lanner_http_requests_total{route=\"readyz\",code=\"503\"} 1\n"));
    assert_non_null(strstr(metrics.body, "lanner_http_requests_total{route=\"predict\",code=\"400\"} 1\n"));
    assert_non_null(strstr(metrics.body, "lanner_models_loaded 1\n"));
    assert_non_null(strstr(metrics.body, "lanner_model_reloads_total 1\n"));
    assert_non_null(strstr(metrics.body, "lanner_http_request_duration_seconds_bucket{route=\"healthz\",le=\"+Inf\"} 1\n"));
    free(metrics.body);
}

static void test_server_explains_scores(void **state)
{
    fixture *f = *state;

    register_and_promote(f, "fraud", 20);
    start_server(f, NULL, 0);
    reply r = http(f->port, "POST", "/v1/models/fraud:predict", NULL,
                   "{\"instance\":{\"amount\":80,\"country\":\"GB\"},\"explain\":true}");
    assert_int_equal(r.status, 200);

    double score, amount, country, bias;
    char decision[8];
    const char *p = strstr(r.body, "\"predictions\":[");
    assert_non_null(p);
    int parsed = sscanf(p, "\"predictions\":[{\"score\":%lf,\"decision\":\"%4[a-z]\",\"contributions\":{\"amount\":%lf,"
                           "\"country\":%lf},\"bias\":%lf}]",
                        &score, decision, &amount, &country, &bias);
    if (parsed != 5)
        fail_msg("unexpected explanation: %s", r.body);
    /* Contributions are in log-odds: they and the bias add up to the score's logit. */
    assert_true(fabs(amount + country + bias - log(score / (1 - score))) < 1e-9);
    assert_true(amount != 0);
    free(r.body);
}

static void test_server_token_required(void **state)
{
    fixture *f = *state;

    register_and_promote(f, "fraud", 20);
    start_server(f, "s3cret", 0);
    const char *body = "{\"instance\":{\"amount\":1}}";
    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", NULL, body), 401, "bearer token");
    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", "Authorization: Bearer wrong\r\n", body), 401,
                 "bearer token");
    expect_reply(http(f->port, "GET", "/v1/models", NULL, NULL), 401, "bearer token");
    expect_reply(http(f->port, "GET", "/metrics", "Authorization: Bearer s3cre\r\n", NULL), 401, "bearer token");
    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", "Authorization: Bearer s3cret\r\n", body), 200,
                 "\"predictions\"");
    expect_reply(http(f->port, "GET", "/healthz", NULL, NULL), 200, "ok");
    expect_reply(http(f->port, "GET", "/readyz", NULL, NULL), 200, "ready");
}

static void test_server_body_limit(void **state)
{
    fixture *f = *state;

    register_and_promote(f, "fraud", 20);
    start_server(f, NULL, 64);
    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", NULL, "{\"instance\":{\"amount\":1}}"), 200,
                 "\"predictions\"");
    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", NULL,
                      "{\"instance\":{\"amount\":1,\"padding\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}"),
                 413, "over the limit of 64 bytes");
}

static void test_server_reloads_promoted_version(void **state)
{
    fixture *f = *state;

    register_and_promote(f, "fraud", 10);
    start_server(f, NULL, 0);
    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", NULL, "{\"instance\":{\"amount\":60}}"), 200,
                 "\"version\":1,");

    int version = register_and_promote(f, "fraud", 30);
    assert_int_equal(version, 2);
    wait_for_version(f, "fraud", 2, NULL);
    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", NULL, "{\"instance\":{\"amount\":60}}"), 200,
                 "\"version\":2,");

    /* Rolling back is a change of production version too. */
    ln_error err = {0};
    assert_int_equal(ln_registry_rollback(f->registry, "fraud", "test", &err), LN_OK);
    wait_for_version(f, "fraud", 1, NULL);
    ln_server_reload(f->server);
    expect_reply(http(f->port, "GET", "/metrics", NULL, NULL), 200, "lanner_model_reloads_total 2\n");
}

static void test_server_invocations_with_several_models(void **state)
{
    fixture *f = *state;
    const char *body = "{\"dataframe_records\":[{\"amount\":60}]}";

    register_and_promote(f, "fraud", 10);
    register_and_promote(f, "churn", 10);
    start_server(f, NULL, 0);
    assert_int_equal(ln_server_model_count(f->server), 2);
    expect_reply(http(f->port, "POST", "/invocations", NULL, body), 400,
                 "2 models are served (churn, fraud): name one in the X-Model header");
    expect_reply(http(f->port, "POST", "/invocations", "X-Model: churn\r\n", body), 200, "{\"predictions\":[");
    expect_reply(http(f->port, "POST", "/invocations", "X-Model: other\r\n", body), 404, "model 'other' is not served");
}

/* Counts the lines of every file in dir. */
static size_t count_log_lines(const char *dir)
{
    DIR *folder = opendir(dir);
    struct dirent *entry;
    size_t lines = 0;
    char path[512];

    assert_non_null(folder);
    while ((entry = readdir(folder)) != NULL) {
        if (strncmp(entry->d_name, "predictions-", 12) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        FILE *file = fopen(path, "r");
        assert_non_null(file);
        for (int c; (c = fgetc(file)) != EOF;)
            lines += c == '\n';
        fclose(file);
    }
    closedir(folder);
    return lines;
}

static void test_server_stop_flushes_log(void **state)
{
    fixture *f = *state;

    register_and_promote(f, "fraud", 10);
    start_server(f, NULL, 0);
    for (int i = 0; i < 20; i++)
        expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", NULL,
                          "{\"instances\":[{\"amount\":1},{\"amount\":90,\"country\":\"DE\"},{}]}"),
                     200, "\"predictions\"");
    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", NULL, "{\"instances\":[{\"amount\":\"bad\"}]}"), 400,
                 "must be a number");

    ln_server_stop(f->server);
    f->server = NULL;
    assert_int_equal(count_log_lines(f->log_dir), 60);
}

/* Lists the sizes of dir's prediction files in ascending order; returns how many there are. */
static size_t log_file_sizes(const char *dir, long *sizes, size_t capacity)
{
    DIR *folder = opendir(dir);
    struct dirent *entry;
    size_t n = 0;
    char path[512];
    struct stat info;

    assert_non_null(folder);
    while ((entry = readdir(folder)) != NULL) {
        if (strncmp(entry->d_name, "predictions-", 12) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        assert_int_equal(stat(path, &info), 0);
        assert_true(n < capacity);
        size_t i = n++;
        for (; i > 0 && sizes[i - 1] > (long)info.st_size; i--)
            sizes[i] = sizes[i - 1];
        sizes[i] = (long)info.st_size;
    }
    closedir(folder);
    return n;
}

static void test_log_rotates_at_whole_lines(void **state)
{
    fixture *f = *state;
    serve_metrics metrics;
    serve_log *log = NULL;
    ln_error err = {0};
    char line[300];

    serve_metrics_init(&metrics);
    assert_int_equal(serve_log_open(f->log_dir, 100, &metrics, &log, &err), LN_OK);
    /* Five 30-byte lines, one 250-byte line (longer than a file), two more 30-byte lines. */
    for (int i = 0; i < 8; i++) {
        size_t length = i == 5 ? 250 : 30;
        memset(line, 'a' + i, length - 1);
        line[length - 1] = '\n';
        serve_log_push(log, line, length);
    }
    serve_log_close(log);

    /* Files fill greedily with whole lines: 3 + 2 short lines, the long line alone, then 2 short lines. */
    long sizes[8];
    assert_int_equal(log_file_sizes(f->log_dir, sizes, 8), 4);
    assert_int_equal(sizes[0], 60);
    assert_int_equal(sizes[1], 60);
    assert_int_equal(sizes[2], 90);
    assert_int_equal(sizes[3], 250);
    assert_int_equal(count_log_lines(f->log_dir), 8);
    assert_int_equal(atomic_load(&metrics.log_written), 8);
    assert_int_equal(atomic_load(&metrics.log_dropped), 0);
    serve_metrics_clear(&metrics);
}

/* amount's max is an error and country's values a warning (max_new_share above 0). */
static const char contract_metadata[] =
    "{\"threshold\":0.5,\"id\":null,\"contract\":\"columns:\\n  amount: {type: float, min: 0, max: 100}\\n"
    "  country: {type: category, values: [DE, GB, US], max_new_share: 0.01}\\n\"}";

static void test_server_contract_warnings(void **state)
{
    fixture *f = *state;

    model_metadata = contract_metadata;
    register_and_promote(f, "fraud", 10);
    model_metadata = "{\"threshold\":0.5,\"id\":null}";
    start_server(f, NULL, 0);

    reply r = http(f->port, "POST", "/v1/models/fraud:predict", NULL,
                   "{\"instances\":[{\"amount\":80,\"country\":\"GB\"},{\"amount\":1e9,\"country\":\"ZZ\"}]}");
    assert_int_equal(r.status, 200);
    /* The clean row has no warnings key; the other names both broken rules. */
    const char *second = strstr(r.body, "},{\"score\":");
    const char *warnings = strstr(r.body, "\"warnings\"");
    assert_non_null(second);
    assert_non_null(warnings);
    assert_true(warnings > second);
    assert_non_null(strstr(r.body, "\"warnings\":[{\"column\":\"amount\",\"rule\":\"max\",\"severity\":\"error\","
                                   "\"value\":1000000000,\"bound\":100},{\"column\":\"country\",\"rule\":\"values\","
                                   "\"severity\":\"warning\",\"value\":\"ZZ\"}]}]}"));
    free(r.body);

    r = http(f->port, "GET", "/metrics", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "lanner_contract_violations_total{model=\"fraud\",version=\"1\",column=\"amount\","
                                   "rule=\"max\"} 1\n"));
    assert_non_null(strstr(r.body, "lanner_contract_violations_total{model=\"fraud\",version=\"1\",column=\"country\","
                                   "rule=\"values\"} 1\n"));
    free(r.body);
}

static void test_server_enforced_contract_rejects(void **state)
{
    fixture *f = *state;

    model_metadata = contract_metadata;
    register_and_promote(f, "fraud", 10);
    model_metadata = "{\"threshold\":0.5,\"id\":null}";
    enforce_contract = 1;
    start_server(f, NULL, 0);
    enforce_contract = 0;

    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", NULL,
                      "{\"instances\":[{\"amount\":80},{\"amount\":1e9,\"country\":\"GB\"}]}"),
                 422,
                 "{\"error\":\"instances[1]: column \\\"amount\\\" breaks contract rule max: value 1000000000 is above "
                 "the maximum 100\",\"row\":1,\"violation\":{\"column\":\"amount\",\"rule\":\"max\","
                 "\"severity\":\"error\",\"value\":1000000000,\"bound\":100},\"errors\":1}");
    /* A warning-level rule still lets the prediction through, with its warning. */
    expect_reply(http(f->port, "POST", "/v1/models/fraud:predict", NULL, "{\"instance\":{\"amount\":5,\"country\":\"ZZ\"}}"),
                 200, "\"warnings\":[{\"column\":\"country\",\"rule\":\"values\"");
    /* The MLflow route is rejected the same way. */
    expect_reply(http(f->port, "POST", "/invocations", NULL, "{\"instances\":[{\"amount\":-3}]}"), 422,
                 "breaks contract rule min: value -3 is below the minimum 0");
    expect_reply(http(f->port, "GET", "/metrics", NULL, NULL), 200,
                 "lanner_http_requests_total{route=\"predict\",code=\"422\"} 1\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_server_predicts_like_the_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_read_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_explains_scores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_token_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_body_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_reloads_promoted_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_invocations_with_several_models, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_stop_flushes_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_rotates_at_whole_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_contract_warnings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_enforced_contract_rejects, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
