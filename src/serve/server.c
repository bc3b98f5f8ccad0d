/*
 * The HTTP layer: libmicrohttpd with an internal thread pool, routing,
 * authentication, bounded request bodies, and start and graceful stop.
 *
 * MHD calls the access handler first with the headers only (the request's
 * serve_call is created then), then once per body chunk, then once more with
 * no data, when the route handler runs. Checks that need no body (route,
 * method, token, Content-Length over the limit) respond on the first call,
 * and MHD then closes the connection without reading the body.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lanner/log.h"
#include "serve/serve_internal.h"

/* Connections open at once; each can hold up to max_body bytes of a request. */
#define SERVE_CONNECTION_LIMIT 1024

/* Seconds an idle or stalled connection stays open. */
#define SERVE_CONNECTION_TIMEOUT 30

double serve_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int serve_respond(ln_server *server, struct MHD_Connection *connection, serve_call *call, int code, char *body,
                  const char *request_id)
{
    static const char out_of_memory[] = "{\"error\":\"out of memory building the response\"}";
    struct MHD_Response *response;

    if (body == NULL) {
        code = MHD_HTTP_INTERNAL_SERVER_ERROR;
        response = MHD_create_response_from_buffer(sizeof out_of_memory - 1, (void *)out_of_memory,
                                                   MHD_RESPMEM_PERSISTENT);
    } else {
        response = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        if (response == NULL)
            free(body);
    }
    if (response == NULL)
        return MHD_NO;

    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (request_id != NULL)
        MHD_add_response_header(response, "X-Request-Id", request_id);
    if (code == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW,
                                call->route == SERVE_ROUTE_PREDICT || call->route == SERVE_ROUTE_INVOCATIONS
                                    ? "POST"
                                    : "GET, HEAD");
    if (atomic_load(&server->draining))
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");

    enum MHD_Result queued = MHD_queue_response(connection, (unsigned)code, response);
    MHD_destroy_response(response);
    call->responded = 1;
    serve_metrics_record_request(&server->metrics, call->route, code, serve_now() - call->start);
    return queued;
}

int serve_respond_error(ln_server *server, struct MHD_Connection *connection, serve_call *call, int code,
                        const char *format, ...)
{
    char message[LN_ERROR_MESSAGE_MAX];
    va_list args;
    serve_buf buf;

    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);

    serve_buf_init(&buf, 2 * LN_ERROR_MESSAGE_MAX + 64);
    serve_buf_puts(&buf, "{\"error\":");
    serve_buf_json_string(&buf, message);
    serve_buf_puts(&buf, "}");
    return serve_respond(server, connection, call, code, serve_buf_take(&buf), NULL);
}

static int valid_model_name(const char *name, size_t length)
{
    if (length == 0 || length > LN_REGISTRY_MAX_NAME)
        return 0;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* Finds the route of url; copies the model name of /v1/models/{name}[:predict] into call. */
static serve_route match_route(const char *url, serve_call *call)
{
    static const char models_prefix[] = "/v1/models/";
    static const char predict_suffix[] = ":predict";
    static const struct {
        const char *path;
        serve_route route;
    } exact[] = {
        {"/v1/models", SERVE_ROUTE_MODELS}, {"/invocations", SERVE_ROUTE_INVOCATIONS},
        {"/healthz", SERVE_ROUTE_HEALTHZ},  {"/readyz", SERVE_ROUTE_READYZ},
        {"/ping", SERVE_ROUTE_PING},        {"/health", SERVE_ROUTE_PING},
        {"/metrics", SERVE_ROUTE_METRICS},
    };

    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(url, exact[i].path) == 0)
            return exact[i].route;
    if (strncmp(url, models_prefix, sizeof models_prefix - 1) != 0)
        return SERVE_ROUTE_OTHER;

    const char *name = url + sizeof models_prefix - 1;
    size_t length = strlen(name);
    serve_route route = SERVE_ROUTE_MODEL;
    size_t suffix = sizeof predict_suffix - 1;
    if (length > suffix && strcmp(name + length - suffix, predict_suffix) == 0) {
        length -= suffix;
        route = SERVE_ROUTE_PREDICT;
    }
    if (!valid_model_name(name, length))
        return SERVE_ROUTE_OTHER;
    memcpy(call->model_name, name, length);
    call->model_name[length] = '\0';
    return route;
}

static int route_takes_body(serve_route route)
{
    return route == SERVE_ROUTE_PREDICT || route == SERVE_ROUTE_INVOCATIONS;
}

static int route_is_public(serve_route route)
{
    return route == SERVE_ROUTE_HEALTHZ || route == SERVE_ROUTE_READYZ || route == SERVE_ROUTE_PING;
}

static int handle_get(ln_server *server, struct MHD_Connection *connection, serve_call *call)
{
    static const char ok[] = "{\"status\":\"ok\"}";

    switch (call->route) {
    case SERVE_ROUTE_MODELS: return serve_handle_models(server, connection, call);
    case SERVE_ROUTE_MODEL: return serve_handle_model(server, connection, call);
    case SERVE_ROUTE_READYZ: return serve_handle_readyz(server, connection, call);
    case SERVE_ROUTE_METRICS: return serve_handle_metrics(server, connection, call);
    default: return serve_respond(server, connection, call, MHD_HTTP_OK, strdup(ok), NULL);
    }
}

/* Responds to what can be decided from the headers alone; returns -1 when the request goes on. */
static int check_headers(ln_server *server, struct MHD_Connection *connection, serve_call *call, const char *method,
                         const char *url)
{
    int is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

    if (call->route == SERVE_ROUTE_OTHER)
        return serve_respond_error(server, connection, call, MHD_HTTP_NOT_FOUND,
                                   "no route for %s %.200s; see GET /v1/models, POST /v1/models/{name}:predict, "
                                   "POST /invocations",
                                   method, url);
    if (server->token != NULL && !route_is_public(call->route)) {
        const char *authorization =
            MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!serve_token_matches(server->token, authorization))
            return serve_respond_error(server, connection, call, MHD_HTTP_UNAUTHORIZED,
                                       "missing or invalid bearer token: send 'Authorization: Bearer <token>'");
    }
    if (route_takes_body(call->route) ? !is_post : !is_get)
        return serve_respond_error(server, connection, call, MHD_HTTP_METHOD_NOT_ALLOWED, "%s is not allowed on %.200s",
                                   method, url);
    if (!is_post)
        return handle_get(server, connection, call);

    const char *type = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (type != NULL && strncasecmp(type, "application/json", 16) != 0)
        return serve_respond_error(server, connection, call, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                                   "Content-Type must be application/json, found '%.100s'", type);

    const char *length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length != NULL && strtoull(length, NULL, 10) > server->max_body)
        return serve_respond_error(server, connection, call, MHD_HTTP_CONTENT_TOO_LARGE,
                                   "request body of %.30s bytes is over the limit of %zu bytes (see --max-body)", length,
                                   server->max_body);
    return -1;
}

static enum MHD_Result access_handler(void *context, struct MHD_Connection *connection, const char *url,
                                      const char *method, const char *version, const char *upload_data,
                                      size_t *upload_data_size, void **request_context)
{
    ln_server *server = context;
    serve_call *call = *request_context;
    (void)version;

    if (call == NULL) {
        call = calloc(1, sizeof *call);
        if (call == NULL)
            return MHD_NO;
        call->start = serve_now();
        serve_buf_init(&call->body, server->max_body);
        *request_context = call;
        atomic_fetch_add(&server->in_flight, 1);

        call->route = match_route(url, call);
        int answered = check_headers(server, connection, call, method, url);
        return answered >= 0 ? (enum MHD_Result)answered : MHD_YES;
    }
    if (call->responded) {
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (*upload_data_size > 0) {
        /* A chunked body has no Content-Length, so storing stops at the limit and 413 is sent at its end. */
        if (!call->body_too_large) {
            serve_buf_append(&call->body, upload_data, *upload_data_size);
            if (call->body.failed) {
                call->body_too_large = 1;
                serve_buf_free(&call->body);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (call->body_too_large)
        return (enum MHD_Result)serve_respond_error(server, connection, call, MHD_HTTP_CONTENT_TOO_LARGE,
                                                    "request body is over the limit of %zu bytes (see --max-body)",
                                                    server->max_body);
    serve_api api = call->route == SERVE_ROUTE_PREDICT ? SERVE_API_NATIVE : SERVE_API_MLFLOW;
    return (enum MHD_Result)serve_handle_predict(server, connection, call, api);
}

static void request_completed(void *context, struct MHD_Connection *connection, void **request_context,
                              enum MHD_RequestTerminationCode code)
{
    ln_server *server = context;
    serve_call *call = *request_context;
    (void)connection;
    (void)code;

    if (call == NULL)
        return;
    serve_buf_free(&call->body);
    free(call);
    *request_context = NULL;
    atomic_fetch_sub(&server->in_flight, 1);
}

static void mhd_logger(void *context, const char *format, va_list args)
{
    char message[512];
    (void)context;

    vsnprintf(message, sizeof message, format, args);
    size_t length = strlen(message);
    while (length > 0 && message[length - 1] == '\n')
        message[--length] = '\0';
    ln_log(LN_LOG_WARN, "http: %s", message);
}

/* ---- start and stop ---- */

void ln_serve_options_default(ln_serve_options *options)
{
    memset(options, 0, sizeof *options);
    options->registry_path = "lanner.db";
    options->host = "127.0.0.1";
    options->port = 8080;
    options->max_body = LN_SERVE_DEFAULT_MAX_BODY;
    options->poll_ms = LN_SERVE_POLL_MS;
}

static ln_status check_options(const ln_serve_options *options, ln_error *err)
{
    if (options->registry_path == NULL || options->registry_path[0] == '\0')
        return ln_error_set(err, LN_ERR_CONFIG, "no registry given (--registry)");
    if (options->port < 0 || options->port > 65535)
        return ln_error_set(err, LN_ERR_CONFIG, "port %d is outside 0..65535", options->port);
    if (options->threads < 0 || options->threads > LN_SERVE_MAX_THREADS)
        return ln_error_set(err, LN_ERR_CONFIG, "--threads %d is outside 0..%d", options->threads,
                            LN_SERVE_MAX_THREADS);
    if (options->max_body < 2 || options->max_body > LN_SERVE_MAX_BODY_LIMIT)
        return ln_error_set(err, LN_ERR_CONFIG, "--max-body %zu is outside 2..%u bytes", options->max_body,
                            LN_SERVE_MAX_BODY_LIMIT);
    if (options->poll_ms < 10 || options->poll_ms > 3600000)
        return ln_error_set(err, LN_ERR_CONFIG, "the poll interval %d ms is outside 10..3600000", options->poll_ms);
    if (access(options->registry_path, F_OK) != 0)
        return ln_error_set(err, LN_ERR_NOT_FOUND, "registry %s not found: register a model with lanner run first",
                            options->registry_path);
    return LN_OK;
}

/* The default log folder: "predictions" beside the registry file. */
static char *default_log_dir(const char *registry_path)
{
    const char *slash = strrchr(registry_path, '/');
    size_t dir_length = slash != NULL ? (size_t)(slash - registry_path) : 0;
    size_t size = dir_length + sizeof "/predictions" + 1;
    char *dir = malloc(size);

    if (dir == NULL)
        return NULL;
    if (slash == NULL)
        snprintf(dir, size, "predictions");
    else if (dir_length == 0)
        snprintf(dir, size, "/predictions");
    else
        snprintf(dir, size, "%.*s/predictions", (int)dir_length, registry_path);
    return dir;
}

static ln_status copy_options(ln_server *server, const ln_serve_options *options, ln_error *err)
{
    server->registry_path = strdup(options->registry_path);
    server->host = strdup(options->host != NULL ? options->host : "127.0.0.1");
    server->token = options->token != NULL && options->token[0] != '\0' ? strdup(options->token) : NULL;
    if (!options->no_log)
        server->log_dir = options->log_dir != NULL ? strdup(options->log_dir) : default_log_dir(options->registry_path);
    server->max_body = options->max_body;
    server->poll_ms = options->poll_ms;
    server->enforce_contract = options->enforce_contract != 0;
    server->threads = options->threads;
    if (server->threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        if (cores > LN_SERVE_MAX_THREADS)
            cores = LN_SERVE_MAX_THREADS;
        server->threads = cores > 0 ? (int)cores : 1;
    }

    if (server->registry_path == NULL || server->host == NULL ||
        (options->token != NULL && options->token[0] != '\0' && server->token == NULL) ||
        (!options->no_log && server->log_dir == NULL))
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory starting the server");
    return LN_OK;
}

static ln_status start_daemon(ln_server *server, int port, ln_error *err)
{
    struct sockaddr_in v4 = {0};
    struct sockaddr_in6 v6 = {0};
    struct sockaddr *address;
    /* TURBO tries reads and writes before polling; it is valid with a thread pool. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO;
    const char *host = strcmp(server->host, "localhost") == 0 ? "127.0.0.1" : server->host;

    if (inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t)port);
        address = (struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, host, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t)port);
        address = (struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        return ln_error_set(err, LN_ERR_CONFIG, "--host '%s' is not a numeric IPv4 or IPv6 address", server->host);
    }

    server->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, access_handler, server, MHD_OPTION_SOCK_ADDR, address,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)server->threads, MHD_OPTION_NOTIFY_COMPLETED, request_completed,
        server, MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVE_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)SERVE_CONNECTION_TIMEOUT, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, server, MHD_OPTION_END);
    if (server->daemon == NULL)
        return ln_error_set(err, LN_ERR_IO, "cannot listen on %s port %d (in use, or not an address of this machine)",
                            server->host, port);

    const union MHD_DaemonInfo *info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
    server->port = info != NULL ? info->port : port;
    return LN_OK;
}

static void server_free(ln_server *server)
{
    serve_log_close(server->log);
    ln_registry_close(server->registry);
    serve_catalog_clear(&server->catalog);
    serve_metrics_clear(&server->metrics);
    pthread_mutex_destroy(&server->poll_lock);
    pthread_cond_destroy(&server->poll_wake);
    free(server->failed);
    free(server->registry_path);
    free(server->host);
    free(server->token);
    free(server->log_dir);
    free(server);
}

ln_status ln_server_start(const ln_serve_options *options, ln_server **out, ln_error *err)
{
    ln_status status = check_options(options, err);
    if (status != LN_OK)
        return status;

    ln_server *server = calloc(1, sizeof *server);
    if (server == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory starting the server");
    serve_catalog_init(&server->catalog);
    serve_metrics_init(&server->metrics);
    pthread_mutex_init(&server->poll_lock, NULL);
    pthread_cond_init(&server->poll_wake, NULL);
    if (getrandom(&server->boot_id, sizeof server->boot_id, 0) != (ssize_t)sizeof server->boot_id)
        server->boot_id = (unsigned)time(NULL) ^ (unsigned)getpid();

    status = copy_options(server, options, err);
    if (status == LN_OK)
        status = ln_registry_open(server->registry_path, &server->registry, err);
    if (status == LN_OK && server->log_dir != NULL)
        status = serve_log_open(server->log_dir, LN_SERVE_LOG_FILE_BYTES, &server->metrics, &server->log, err);
    if (status == LN_OK) {
        serve_poll_registry(server, 1);
        status = start_daemon(server, options->port, err);
    }
    if (status == LN_OK)
        status = serve_poller_start(server, err);
    if (status != LN_OK) {
        if (server->daemon != NULL)
            MHD_stop_daemon(server->daemon);
        server_free(server);
        return status;
    }

    ln_log(LN_LOG_INFO, "serving %zu model%s from %s on http://%s:%d with %d threads", serve_catalog_count(&server->catalog),
           serve_catalog_count(&server->catalog) == 1 ? "" : "s", server->registry_path, server->host, server->port,
           server->threads);
    *out = server;
    return LN_OK;
}

int ln_server_port(const ln_server *server)
{
    return server->port;
}

size_t ln_server_model_count(ln_server *server)
{
    return serve_catalog_count(&server->catalog);
}

void ln_server_reload(ln_server *server)
{
    pthread_mutex_lock(&server->poll_lock);
    server->poll_requested = 1;
    pthread_cond_signal(&server->poll_wake);
    pthread_mutex_unlock(&server->poll_lock);
}

void ln_server_stop(ln_server *server)
{
    if (server == NULL)
        return;

    ln_log(LN_LOG_INFO, "stopping: draining %d request%s in flight", atomic_load(&server->in_flight),
           atomic_load(&server->in_flight) == 1 ? "" : "s");
    atomic_store(&server->draining, 1);
    MHD_socket listener = MHD_quiesce_daemon(server->daemon);

    double deadline = serve_now() + LN_SERVE_DRAIN_SECONDS;
    while (atomic_load(&server->in_flight) > 0 && serve_now() < deadline) {
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (atomic_load(&server->in_flight) > 0)
        ln_log(LN_LOG_WARN, "closing %d request%s still in flight after %d s", atomic_load(&server->in_flight),
               atomic_load(&server->in_flight) == 1 ? "" : "s", LN_SERVE_DRAIN_SECONDS);
    MHD_stop_daemon(server->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);

    serve_poller_stop(server);
    serve_log_close(server->log);
    server->log = NULL;
    ln_log(LN_LOG_INFO, "stopped; prediction log lines written: %llu, dropped: %llu",
           (unsigned long long)atomic_load(&server->metrics.log_written),
           (unsigned long long)atomic_load(&server->metrics.log_dropped));
    server_free(server);
}
