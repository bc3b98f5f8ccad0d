/*
 * Internals shared by the serve module's files: the request parser and the
 * JSON-to-table conversion (request.c), served models and their
 * reference-counted handles (catalog.c), metrics (metrics.c), the
 * prediction log (predlog.c), text buffers (buffer.c) and the HTTP layer
 * (server.c, routes.c).
 */
#ifndef LANNER_SERVE_INTERNAL_H
#define LANNER_SERVE_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lanner/contract.h"
#include "lanner/model.h"
#include "lanner/registry.h"
#include "lanner/serve.h"
#include "lanner/table.h"

/* Cells (rows x features) in one table handed to ln_model_predict; a request is scored in chunks. */
#define SERVE_CHUNK_CELLS (1u << 20)

/* Rows in one chunk; ln_model_predict scores up to 1024 rows on the calling thread. */
#define SERVE_CHUNK_ROWS 1024

/* Idle rows kept per model for single-instance requests; more requests at once allocate and free their own. */
#define SERVE_ROW_POOL 64

/* Model versions with their own prediction metrics; later versions share no series and go uncounted. */
#define SERVE_MAX_SERIES 4096

/* Contributions (rows x (features + 1)) in one "explain" request; more get 413. */
#define SERVE_MAX_EXPLAIN_CELLS (1u << 20)

/* Bytes in one response body (10,000 predictions need about 1 MB). */
#define SERVE_MAX_RESPONSE_BYTES (64u << 20)

/* Bytes in a client-supplied X-Request-Id; longer or unusual ids are replaced by a generated one. */
#define SERVE_MAX_REQUEST_ID 64

/* Contract violations listed in one response; more are counted in /metrics and in "warnings_omitted". */
#define SERVE_MAX_LISTED_VIOLATIONS 64

/* Bytes of a category value quoted in a contract violation, NUL included; longer values are cut. */
#define SERVE_VIOLATION_TEXT 48

/* ---- text buffers (buffer.c) ---- */

/* A growable text buffer that refuses to grow past max bytes; failed stays set after a refused append. */
typedef struct serve_buf {
    char *data;
    size_t length;
    size_t capacity;
    size_t max;
    int failed;
} serve_buf;

void serve_buf_init(serve_buf *buf, size_t max);
void serve_buf_free(serve_buf *buf);
void serve_buf_append(serve_buf *buf, const char *text, size_t length);
void serve_buf_puts(serve_buf *buf, const char *text);
void serve_buf_printf(serve_buf *buf, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Appends text as a JSON string literal, quotes included. */
void serve_buf_json_string(serve_buf *buf, const char *text);

/*
 * Writes value in the shortest form that reads back to the same double:
 * 415, 0.1, 1e+300. capacity must be at least 32.
 */
void serve_format_double(double value, char *text, size_t capacity);

/* Appends a number as serve_format_double writes it, or null when it is not finite (JSON has neither). */
void serve_buf_json_number(serve_buf *buf, double value);

/* Appends value as compact JSON, numbers as serve_buf_json_number writes them. Nesting is bounded by jansson's parser. */
void serve_buf_json_value(serve_buf *buf, const json_t *value);

/* Hands the text over to the caller (NUL-terminated, malloc'd) and empties buf; NULL after a failure. */
char *serve_buf_take(serve_buf *buf);

/* ---- metrics (metrics.c) ---- */

typedef enum serve_route {
    SERVE_ROUTE_PREDICT = 0,
    SERVE_ROUTE_INVOCATIONS,
    SERVE_ROUTE_MODELS,
    SERVE_ROUTE_MODEL,
    SERVE_ROUTE_HEALTHZ,
    SERVE_ROUTE_READYZ,
    SERVE_ROUTE_PING,
    SERVE_ROUTE_METRICS,
    SERVE_ROUTE_OTHER,
    SERVE_ROUTE_COUNT,
} serve_route;

/* Returns the route's label in metrics, such as "predict". */
const char *serve_route_name(serve_route route);

/* HTTP status codes the server sends; anything else is counted as "other". */
#define SERVE_CODE_COUNT 12

/* Upper bounds of the latency histogram in seconds (+Inf is implied). */
#define SERVE_LATENCY_BUCKETS 14

/* Score histogram buckets: le 0.1, 0.2, ..., 1.0. */
#define SERVE_SCORE_BUCKETS 10

/* Prediction counters of one model version; lives until the server stops. */
typedef struct serve_series {
    char name[LN_REGISTRY_MAX_NAME + 1];
    int version;
    atomic_uint_fast64_t flagged;
    atomic_uint_fast64_t passed;
    atomic_uint_fast64_t score_buckets[SERVE_SCORE_BUCKETS]; /* per bucket, not cumulative */
    atomic_uint_fast64_t score_sum_nano;                      /* sum of scores times 1e9 */
    atomic_uint_fast64_t unseen_categories;
    atomic_uint_fast64_t extra_fields;

    /* Contract violations, set by the first load of this version with a contract (under series_lock). */
    size_t n_checked;                 /* contract columns checked per row */
    char **checked_columns;           /* their names, owned */
    atomic_uint_fast64_t *violations; /* n_checked x LN_RULE_COUNT counters */
} serve_series;

typedef struct serve_metrics {
    atomic_uint_fast64_t requests[SERVE_ROUTE_COUNT][SERVE_CODE_COUNT];
    atomic_uint_fast64_t latency[SERVE_ROUTE_COUNT][SERVE_LATENCY_BUCKETS + 1]; /* per bucket, last +Inf */
    atomic_uint_fast64_t latency_sum_ns[SERVE_ROUTE_COUNT];
    atomic_uint_fast64_t log_written;
    atomic_uint_fast64_t log_dropped;
    atomic_uint_fast64_t reloads;
    atomic_uint_fast64_t reload_failures;
    pthread_mutex_t series_lock;
    serve_series *series[SERVE_MAX_SERIES];
    size_t n_series;
} serve_metrics;

void serve_metrics_init(serve_metrics *metrics);
void serve_metrics_clear(serve_metrics *metrics);

/* Counts one request with its final status code and its latency in seconds. */
void serve_metrics_record_request(serve_metrics *metrics, serve_route route, int code, double seconds);

/* Returns the series of name and version, creating it; NULL when SERVE_MAX_SERIES are in use or memory runs out. */
serve_series *serve_metrics_series(serve_metrics *metrics, const char *name, int version);

/*
 * Gives series one counter per rule for each of the n columns (names are
 * copied) and returns the counters, n x LN_RULE_COUNT of them, or NULL when
 * memory runs out. A series that already has counters for n columns keeps
 * and returns them; one with another count returns NULL (not counted).
 */
atomic_uint_fast64_t *serve_metrics_violation_counters(serve_metrics *metrics, serve_series *series,
                                                       const char *const *columns, size_t n);

/* Counts one prediction; series may be NULL. */
void serve_series_record(serve_series *series, double score, int flagged);

/* Appends the Prometheus text exposition (format 0.0.4) of every metric to buf. */
void serve_metrics_render(serve_metrics *metrics, size_t models_loaded, serve_buf *buf);

/* ---- served models (catalog.c) ---- */

/* The per-row rules of one contract column, resolved to a model feature at load time (contract.c). */
typedef struct serve_check {
    const ln_contract_column *column; /* owned by the schema's contract; NULL when the feature has no rules */
    size_t index;                     /* position among the checked columns, for the metrics */
    uint8_t *allowed;                 /* category with values: 1 per model category code listed in values */
    ln_dict *values;                  /* category with values: the listed values, for categories outside the model */
    int new_value_is_error;           /* max_new_share is 0 and values is at error severity */
    atomic_uint_fast64_t *counters;   /* LN_RULE_COUNT counters in the model's series, or NULL */
} serve_check;

/* What a request needs to know about a model's features. */
typedef struct serve_schema {
    size_t n_features;
    const char **names;  /* owned by the model */
    ln_type *types;
    ln_dict **known;     /* category features: the categories with their own bin in the model; NULL otherwise */
    ln_contract *contract; /* owned; NULL when the model has no contract */
    serve_check *checks;   /* n_features entries when contract is set, else NULL */
    size_t n_checked;      /* features with rules */
} serve_schema;

/*
 * Fills schema from model. Each category feature gets the dictionary of the
 * categories that have their own bin in the model. A category outside it is
 * routed like a rare one and counted as unseen. Free with serve_schema_clear.
 */
ln_status serve_schema_init(serve_schema *schema, const ln_model *model, ln_error *err);
void serve_schema_clear(serve_schema *schema);

/*
 * Parses contract YAML (size bytes; source_name names it in errors) and
 * resolves its columns to schema's features, so requests check the rules
 * that apply to one row. Contract columns that are not features (the
 * target, an id) are left out. Errors: those of ln_contract_parse,
 * LN_ERR_NOMEM.
 */
ln_status serve_schema_set_contract(serve_schema *schema, const ln_model *model, const char *text, size_t size,
                                    const char *source_name, ln_error *err);

/* Frees the contract and its checks (serve_schema_clear calls it). */
void serve_schema_clear_checks(serve_schema *schema);

/* Links each check to its counters in series (NULL leaves them uncounted). */
void serve_schema_count_in(serve_schema *schema, serve_metrics *metrics, serve_series *series);


/* One loaded model version; requests hold a reference while they use it. */
typedef struct serve_model {
    atomic_int refs;
    char name[LN_REGISTRY_MAX_NAME + 1];
    int version;
    char model_sha[65];
    ln_model *model;
    serve_schema schema;
    double threshold;        /* flag when score >= threshold; +inf when the model has none */
    char *info_json;         /* body of GET /v1/models/{name} */
    char *summary_json;      /* this model's entry in GET /v1/models */
    serve_series *series;    /* may be NULL */

    /* Rows for single-instance scoring, reused across requests so scoring one row allocates nothing. */
    pthread_mutex_t rows_lock;
    ln_model_row *free_rows[SERVE_ROW_POOL];
    size_t n_free_rows;
} serve_model;

/* Takes a cleared row for model from its pool, or makes one; NULL when memory runs out. */
ln_model_row *serve_model_take_row(serve_model *model);

/* Clears row and puts it back in model's pool (or frees it when the pool is full). NULL is ignored. */
void serve_model_return_row(serve_model *model, ln_model_row *row);

/*
 * Makes a served model from a loaded ln_model (taking ownership of it, also
 * on error) with reference count 1. Reads the threshold and the id column
 * from the metadata that lanner run stores in the model.
 */
ln_status serve_model_new(ln_model *model, const char *name, int version, const char *model_sha,
                          serve_metrics *metrics, serve_model **out, ln_error *err);

/* Loads the model file of a registered version and calls serve_model_new. */
ln_status serve_model_load(const ln_version_info *info, serve_metrics *metrics, serve_model **out, ln_error *err);

serve_model *serve_model_retain(serve_model *model);

/* Drops one reference; the last one frees the model. NULL is ignored. */
void serve_model_release(serve_model *model);

/* The served models by name. Readers take a reference under a read lock, so a swap never frees a model in use. */
typedef struct serve_catalog {
    pthread_rwlock_t lock;
    serve_model *models[LN_SERVE_MAX_MODELS]; /* sorted by name */
    size_t n_models;
} serve_catalog;

void serve_catalog_init(serve_catalog *catalog);
void serve_catalog_clear(serve_catalog *catalog);

/* Returns a new reference to the model served under name, or NULL. */
serve_model *serve_catalog_acquire(serve_catalog *catalog, const char *name);

/*
 * Fills models with new references to up to capacity served models in name
 * order and returns how many models are served (which may exceed capacity).
 */
size_t serve_catalog_snapshot(serve_catalog *catalog, serve_model **models, size_t capacity);

/*
 * Serves model under its name in place of the current one (model NULL stops
 * serving name). Takes over the caller's reference; drops the catalog's
 * reference to the replaced model. LN_ERR_LIMIT when LN_SERVE_MAX_MODELS are
 * served.
 */
ln_status serve_catalog_put(serve_catalog *catalog, const char *name, serve_model *model, ln_error *err);

size_t serve_catalog_count(serve_catalog *catalog);

/* ---- requests (request.c) ---- */

typedef enum serve_api {
    SERVE_API_NATIVE = 0, /* POST /v1/models/{name}:predict */
    SERVE_API_MLFLOW,     /* POST /invocations */
} serve_api;

/* A parsed request body: rows as JSON objects, or as arrays with a column list (dataframe_split). */
typedef struct serve_request {
    json_t *root;         /* owned */
    json_t *rows;         /* borrowed from root: an array of objects, or of arrays when columns is set */
    json_t *single;       /* borrowed: the object of a native "instance" request, else NULL */
    const char *single_text; /* borrowed from the body: the "instance" object's text as received, or NULL */
    size_t single_length;
    json_t *columns;      /* borrowed: dataframe_split's column names, else NULL */
    ln_dict *column_dict; /* column names to their index, when columns is set */
    const char *rows_key; /* the key the rows came from, for messages: "instances", "dataframe_split.data" ... */
    size_t n_rows;
    int explain;          /* the request asked for explanations */
} serve_request;

/*
 * Parses a request body of size bytes. Error statuses map to HTTP codes via
 * serve_http_status: LN_ERR_PARSE (malformed JSON, with the byte position,
 * or a wrong request shape) and LN_ERR_DATA (no rows) are 400, LN_ERR_LIMIT
 * (over LN_SERVE_MAX_INSTANCES rows) is 413. On success the caller frees out
 * with serve_request_clear; on error out needs no clearing. out->single_text
 * points into body, so body must outlive out.
 */
ln_status serve_request_parse(const char *body, size_t size, serve_api api, serve_request *out, ln_error *err);
void serve_request_clear(serve_request *request);

/* One broken per-row contract rule. */
typedef struct serve_violation {
    size_t row;                          /* request row */
    size_t feature;
    ln_rule rule;
    ln_severity severity;                /* as reported: values is a warning unless new_value_is_error */
    int has_number;                      /* value holds the number received */
    double value;
    char category[SERVE_VIOLATION_TEXT]; /* the category received, cut to fit; "" for a number or missing */
} serve_violation;

/*
 * Counters gathered while converting rows; added to the model's series.
 * listed is NULL (record no violation) or has room for max_listed; the
 * conversion lists violations in row order and counts the rest in omitted.
 */
typedef struct serve_counts {
    uint64_t unseen_categories;
    uint64_t extra_fields;
    serve_violation *listed;
    size_t max_listed;
    size_t n_listed;
    uint64_t omitted;
    uint64_t errors;              /* violations at error severity */
    serve_violation first_error;  /* the first of them, when errors > 0 */
} serve_counts;

/* Checks a received number, a category or a missing value of feature f in row against its contract rules. */
void serve_check_number(const serve_schema *schema, size_t f, size_t row, double value, serve_counts *counts);
void serve_check_category(const serve_schema *schema, size_t f, size_t row, int32_t known_code, const char *text,
                          size_t length, serve_counts *counts);
void serve_check_missing(const serve_schema *schema, size_t f, size_t row, serve_counts *counts);

/* Appends one violation as a JSON object {"column","rule","severity","value"[,"bound"]}. */
void serve_violation_json(const serve_schema *schema, const serve_violation *violation, serve_buf *buf);

/* Writes one sentence naming the column, the rule, the value and the bound. */
void serve_violation_message(const serve_schema *schema, const serve_violation *violation, char *out,
                             size_t capacity);

/* Returns how many rows go into one table for a model with n_features features. */
size_t serve_chunk_rows(size_t n_features);

/*
 * Builds a table of rows [begin, end) of request with one column per
 * feature of schema, ready for ln_model_predict. Absent fields and JSON null
 * are missing values. A value of the wrong type is LN_ERR_DATA naming the
 * row, the field and the expected type. Adds to counts. The caller frees
 * *out.
 */
ln_status serve_request_table(const serve_schema *schema, const serve_request *request, size_t begin, size_t end,
                              ln_table **out, serve_counts *counts, ln_error *err);

/*
 * Fills row (cleared, made for the model of schema) from the one row of a
 * records request (n_rows 1, no columns), with the checks, errors and counts
 * of serve_request_table.
 */
ln_status serve_request_model_row(const serve_schema *schema, const serve_request *request, ln_model_row *row,
                                  serve_counts *counts, ln_error *err);

/* Appends row's fields as received, as one JSON object (dataframe_split rows become {column: value}). */
void serve_request_row_json(const serve_request *request, size_t row, serve_buf *buf);

/* Maps a status to the HTTP status code of its error response. */
int serve_http_status(ln_status status);

/*
 * Parses an ISO 8601 date or UTC date-time (YYYY-MM-DD, optionally followed
 * by T or a space, HH:MM[:SS[.fraction]] and Z or +HH:MM) into seconds since
 * 1970. Returns 0 on success, -1 when text is not such a timestamp.
 */
int serve_parse_timestamp(const char *text, size_t length, double *seconds);

/* ---- authentication (auth.c) ---- */

/*
 * Returns 1 when authorization (the Authorization header, may be NULL) is
 * "Bearer <token>" with exactly token. The comparison takes the same time
 * wherever the first difference is.
 */
int serve_token_matches(const char *token, const char *authorization);

/* ---- prediction log (predlog.c) ---- */

typedef struct serve_log serve_log;

/*
 * Creates dir when missing and starts the writer thread, which writes
 * JSON Lines to dir/predictions-<UTC start time>.jsonl and starts a new file
 * after max_file_bytes. Counts written and dropped lines in metrics.
 */
ln_status serve_log_open(const char *dir, size_t max_file_bytes, serve_metrics *metrics, serve_log **out,
                         ln_error *err);

/*
 * Queues a copy of one line (newline included) without blocking on disk.
 * When the queue is full the line is counted as dropped. log may be NULL
 * (logging off). The caller keeps line.
 */
void serve_log_push(serve_log *log, const char *line, size_t length);

/* Writes every queued line, closes the file and frees log. NULL is ignored. */
void serve_log_close(serve_log *log);

/*
 * Appends one prediction log line to buf:
 * {"request_id":..,"index":..,"time":..,"model":..,"version":..,"features":{..},"score":..,"decision":..}\n
 * where features are row index of request as received: the "instance"
 * object's own text without whitespace between tokens when the request
 * kept it, else the parsed row written back compactly. time_ms is
 * milliseconds since 1970 UTC, written as ISO 8601 with milliseconds.
 */
void serve_log_format(serve_buf *buf, const char *request_id, size_t index, int64_t time_ms, const char *model,
                      int version, const serve_request *request, double score, int flagged);

/* Writes time_ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (at least 25 bytes). */
void serve_format_time_ms(int64_t time_ms, char *out, size_t capacity);

/* ---- the server (server.c, routes.c, poller.c) ---- */

struct MHD_Connection;
struct MHD_Daemon;

struct ln_server {
    char *registry_path;
    char *host;
    char *token;             /* NULL when authentication is off */
    char *log_dir;           /* NULL when the prediction log is off */
    size_t max_body;
    int threads;
    int poll_ms;
    int port;
    int enforce_contract;    /* error-level contract violations get 422 */

    struct MHD_Daemon *daemon;
    serve_catalog catalog;
    serve_metrics metrics;
    serve_log *log;

    /* Registry poller; the registry handle is used by the poller thread only once it runs. */
    ln_registry *registry;
    pthread_t poller;
    int poller_started;
    pthread_mutex_t poll_lock;
    pthread_cond_t poll_wake;
    int poll_requested;
    int stopping;
    struct serve_failed_load *failed; /* versions that failed to load, not retried until they change */
    size_t n_failed;
    int registry_error_logged; /* the last poll failed and said so; cleared by a good poll */

    atomic_int in_flight;    /* requests between their headers and their completion */
    atomic_int draining;     /* set by ln_server_stop: responses close their connection */
    atomic_uint_fast64_t next_request;
    unsigned boot_id;        /* random, makes generated request ids unique across restarts */
};

/* One HTTP request from its headers to its completion. */
typedef struct serve_call {
    serve_route route;
    char model_name[LN_REGISTRY_MAX_NAME + 1];
    double start;            /* monotonic seconds */
    serve_buf body;
    int body_too_large;
    int responded;
} serve_call;

/* Returns monotonic time in seconds. */
double serve_now(void);

/*
 * Queues a response with a malloc'd JSON body (ownership passes; NULL sends
 * a 500) and counts the request in the metrics. Returns MHD_YES or MHD_NO.
 */
int serve_respond(ln_server *server, struct MHD_Connection *connection, serve_call *call, int code, char *body,
                  const char *request_id);

/* Responds {"error": message} with code. */
int serve_respond_error(ln_server *server, struct MHD_Connection *connection, serve_call *call, int code,
                        const char *format, ...) __attribute__((format(printf, 5, 6)));

/* Route handlers (routes.c); each queues exactly one response. */
int serve_handle_predict(ln_server *server, struct MHD_Connection *connection, serve_call *call, serve_api api);
int serve_handle_models(ln_server *server, struct MHD_Connection *connection, serve_call *call);
int serve_handle_model(ln_server *server, struct MHD_Connection *connection, serve_call *call);
int serve_handle_readyz(ln_server *server, struct MHD_Connection *connection, serve_call *call);
int serve_handle_metrics(ln_server *server, struct MHD_Connection *connection, serve_call *call);

/* Loads new production versions and drops models without one (poller.c). Returns the number of changes. */
size_t serve_poll_registry(ln_server *server, int initial);
ln_status serve_poller_start(ln_server *server, ln_error *err);
void serve_poller_stop(ln_server *server);

#endif
