/*
 * The HTTP prediction server behind `lanner serve`: it serves the production
 * version of every model in a registry, reloads a model when its production
 * version changes, and logs each prediction as one JSON line.
 *
 *     ln_serve_options options;
 *     ln_serve_options_default(&options);
 *     options.registry_path = "lanner.db";
 *     options.port = 8080;
 *     ln_server *server = NULL;
 *     if (ln_server_start(&options, &server, &err) != LN_OK)
 *         return fail(&err);
 *     ... wait for a signal; on SIGHUP call ln_server_reload(server) ...
 *     ln_server_stop(server);   (drains requests in flight, flushes the log)
 *
 * The library installs no signal handlers: the caller blocks the signals
 * before ln_server_start (so the server's threads inherit the mask) and waits
 * for them, as `lanner serve` does in cli/cmd_serve.c. docs/serving.md
 * describes the endpoints, request shapes and metrics.
 */
#ifndef LANNER_SERVE_H
#define LANNER_SERVE_H

#include <stddef.h>

#include "lanner/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default bytes in one request body; larger bodies get 413. */
#define LN_SERVE_DEFAULT_MAX_BODY (1u << 20)

/* Largest --max-body accepted. */
#define LN_SERVE_MAX_BODY_LIMIT (256u << 20)

/* Instances (rows) in one request; more get 413. */
#define LN_SERVE_MAX_INSTANCES 10000

/* Prediction log entries waiting for the writer thread; more are dropped and counted. */
#define LN_SERVE_LOG_QUEUE_ENTRIES 65536

/* Bytes of prediction log lines waiting for the writer thread; more are dropped and counted. */
#define LN_SERVE_LOG_QUEUE_BYTES (64u << 20)

/* Bytes in one prediction log file before the writer starts the next file. */
#define LN_SERVE_LOG_FILE_BYTES (64u << 20)

/* Milliseconds between two polls of the registry for a new production version. */
#define LN_SERVE_POLL_MS 500

/* Models served at once. */
#define LN_SERVE_MAX_MODELS 1024

/* Worker threads in the HTTP thread pool. */
#define LN_SERVE_MAX_THREADS 1024

/* Seconds ln_server_stop waits for requests in flight before closing their connections. */
#define LN_SERVE_DRAIN_SECONDS 10

typedef struct ln_serve_options {
    const char *registry_path; /* registry database; it must exist */
    const char *host;          /* numeric IPv4 or IPv6 address to bind, default "127.0.0.1" */
    int port;                  /* TCP port, default 8080; 0 picks a free port (see ln_server_port) */
    int threads;               /* HTTP worker threads, 0 = one per core */
    const char *token;         /* bearer token required on every route but /healthz, /readyz
                                  and /ping; NULL or "" = no authentication */
    size_t max_body;           /* bytes in one request body, default LN_SERVE_DEFAULT_MAX_BODY */
    const char *log_dir;       /* prediction log folder; NULL = "predictions" beside the registry */
    int no_log;                /* 1 = write no prediction log */
    int poll_ms;               /* registry poll interval in milliseconds, default LN_SERVE_POLL_MS */
    int enforce_contract;      /* 1 = a request breaking an error-level rule of the model's data contract
                                  gets 422; 0 (default) = the prediction is made and carries "warnings" */
} ln_serve_options;

/* Fills options with the defaults listed in ln_serve_options. */
void ln_serve_options_default(ln_serve_options *options);

typedef struct ln_server ln_server;

/*
 * Loads the production version of every model in the registry, opens the
 * prediction log and starts listening. The options and the strings they
 * point to are copied. On success *out is a running server that the caller
 * ends with ln_server_stop.
 *
 * Starting with no production model is allowed: /readyz then returns 503
 * until a version is promoted. A production version whose model file fails to
 * load is skipped with a logged error.
 *
 * Errors: LN_ERR_CONFIG for invalid options (host that is not a numeric
 * address, port outside 0..65535, thread count or body limit out of range);
 * LN_ERR_NOT_FOUND when the registry file does not exist; the registry's
 * errors from ln_registry_open; LN_ERR_IO when the log folder cannot be
 * created or the address cannot be bound (in use, or not local);
 * LN_ERR_NOMEM.
 */
ln_status ln_server_start(const ln_serve_options *options, ln_server **out, ln_error *err);

/* Returns the TCP port the server listens on (the chosen one when options.port was 0). */
int ln_server_port(const ln_server *server);

/* Returns the number of models served now. Thread-safe. */
size_t ln_server_model_count(ln_server *server);

/*
 * Asks the registry poller to check for new production versions now rather
 * than at its next poll. Returns at once; thread-safe, but not
 * async-signal-safe: call it from a thread that waited for SIGHUP, not from a
 * signal handler.
 */
void ln_server_reload(ln_server *server);

/*
 * Stops accepting connections, waits up to LN_SERVE_DRAIN_SECONDS for
 * requests in flight to finish, closes the remaining connections, writes
 * every queued prediction log line to disk and frees the server. NULL is
 * ignored.
 */
void ln_server_stop(ln_server *server);

#ifdef __cplusplus
}
#endif

#endif
