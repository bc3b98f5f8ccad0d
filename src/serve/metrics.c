/*
 * Counters and histograms for /metrics, in the Prometheus text exposition
 * format. Request threads only do relaxed atomic adds. Rendering reads the
 * counters without stopping them, so one page may mix counts taken a few
 * microseconds apart, which Prometheus tolerates.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve_internal.h"

static const int codes[SERVE_CODE_COUNT - 1] = {200, 400, 401, 404, 405, 413, 415, 422, 500, 501, 503};

static const double latency_bounds[SERVE_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
};

static const char *const route_names[SERVE_ROUTE_COUNT] = {
    "predict", "invocations", "models", "model", "healthz", "readyz", "ping", "metrics", "other",
};

const char *serve_route_name(serve_route route)
{
    return route_names[route];
}

void serve_metrics_init(serve_metrics *metrics)
{
    memset(metrics, 0, sizeof *metrics);
    pthread_mutex_init(&metrics->series_lock, NULL);
}

static void series_free(serve_series *series)
{
    for (size_t c = 0; c < series->n_checked; c++)
        free(series->checked_columns[c]);
    free(series->checked_columns);
    free(series->violations);
    free(series);
}

void serve_metrics_clear(serve_metrics *metrics)
{
    for (size_t i = 0; i < metrics->n_series; i++)
        series_free(metrics->series[i]);
    metrics->n_series = 0;
    pthread_mutex_destroy(&metrics->series_lock);
}

static size_t code_index(int code)
{
    for (size_t i = 0; i < SERVE_CODE_COUNT - 1; i++)
        if (codes[i] == code)
            return i;
    return SERVE_CODE_COUNT - 1;
}

static void add(atomic_uint_fast64_t *counter, uint64_t amount)
{
    atomic_fetch_add_explicit(counter, amount, memory_order_relaxed);
}

static uint64_t get(atomic_uint_fast64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

void serve_metrics_record_request(serve_metrics *metrics, serve_route route, int code, double seconds)
{
    size_t bucket = 0;

    while (bucket < SERVE_LATENCY_BUCKETS && seconds > latency_bounds[bucket])
        bucket++;
    add(&metrics->requests[route][code_index(code)], 1);
    add(&metrics->latency[route][bucket], 1);
    add(&metrics->latency_sum_ns[route], seconds > 0 ? (uint64_t)(seconds * 1e9) : 0);
}

serve_series *serve_metrics_series(serve_metrics *metrics, const char *name, int version)
{
    serve_series *series = NULL;

    pthread_mutex_lock(&metrics->series_lock);
    for (size_t i = 0; i < metrics->n_series && series == NULL; i++)
        if (metrics->series[i]->version == version && strcmp(metrics->series[i]->name, name) == 0)
            series = metrics->series[i];
    if (series == NULL && metrics->n_series < SERVE_MAX_SERIES && (series = calloc(1, sizeof *series)) != NULL) {
        snprintf(series->name, sizeof series->name, "%s", name);
        series->version = version;
        metrics->series[metrics->n_series++] = series;
    }
    pthread_mutex_unlock(&metrics->series_lock);
    return series;
}

/* Copies names and makes zeroed counters; returns 0, or -1 when memory runs out (nothing is kept). */
static int add_violation_counters(serve_series *series, const char *const *columns, size_t n)
{
    char **names = calloc(n, sizeof *names);
    atomic_uint_fast64_t *counters = calloc(n * LN_RULE_COUNT, sizeof *counters);
    int failed = names == NULL || counters == NULL;

    for (size_t c = 0; !failed && c < n; c++)
        failed = (names[c] = strdup(columns[c])) == NULL;
    if (failed) {
        for (size_t c = 0; names != NULL && c < n; c++)
            free(names[c]);
        free(names);
        free(counters);
        return -1;
    }
    for (size_t i = 0; i < n * LN_RULE_COUNT; i++)
        atomic_init(&counters[i], 0);
    series->checked_columns = names;
    series->violations = counters;
    series->n_checked = n;
    return 0;
}

atomic_uint_fast64_t *serve_metrics_violation_counters(serve_metrics *metrics, serve_series *series,
                                                       const char *const *columns, size_t n)
{
    atomic_uint_fast64_t *counters = NULL;

    pthread_mutex_lock(&metrics->series_lock);
    if (series->violations != NULL && series->n_checked == n)
        counters = series->violations;
    else if (series->violations == NULL && add_violation_counters(series, columns, n) == 0)
        counters = series->violations;
    pthread_mutex_unlock(&metrics->series_lock);
    return counters;
}

void serve_series_record(serve_series *series, double score, int flagged)
{
    if (series == NULL)
        return;

    add(flagged ? &series->flagged : &series->passed, 1);
    if (isnan(score))
        return;
    int bucket = (int)ceil(score * SERVE_SCORE_BUCKETS) - 1;
    if (bucket < 0)
        bucket = 0;
    if (bucket >= SERVE_SCORE_BUCKETS)
        bucket = SERVE_SCORE_BUCKETS - 1;
    add(&series->score_buckets[bucket], 1);
    add(&series->score_sum_nano, (uint64_t)(score * 1e9 + 0.5));
}

static void render_requests(serve_metrics *metrics, serve_buf *buf)
{
    serve_buf_puts(buf, "# HELP lanner_http_requests_total HTTP requests answered, by route and status code.\n"
                        "# TYPE lanner_http_requests_total counter\n");
    for (int r = 0; r < SERVE_ROUTE_COUNT; r++)
        for (int c = 0; c < SERVE_CODE_COUNT; c++) {
            uint64_t n = get(&metrics->requests[r][c]);
            if (n == 0)
                continue;
            char code[8] = "other";
            if (c < SERVE_CODE_COUNT - 1)
                snprintf(code, sizeof code, "%d", codes[c]);
            serve_buf_printf(buf, "lanner_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n", route_names[r], code,
                             (unsigned long long)n);
        }

    serve_buf_puts(buf, "# HELP lanner_http_request_errors_total HTTP requests answered with a 4xx or 5xx status.\n"
                        "# TYPE lanner_http_request_errors_total counter\n");
    for (int r = 0; r < SERVE_ROUTE_COUNT; r++)
        for (int c = 1; c < SERVE_CODE_COUNT; c++) {
            uint64_t n = get(&metrics->requests[r][c]);
            if (n == 0)
                continue;
            char code[8] = "other";
            if (c < SERVE_CODE_COUNT - 1)
                snprintf(code, sizeof code, "%d", codes[c]);
            serve_buf_printf(buf, "lanner_http_request_errors_total{route=\"%s\",code=\"%s\"} %llu\n", route_names[r],
                             code, (unsigned long long)n);
        }
}

static void render_latency(serve_metrics *metrics, serve_buf *buf)
{
    serve_buf_puts(buf, "# HELP lanner_http_request_duration_seconds Time from the request's headers to its queued "
                        "response.\n"
                        "# TYPE lanner_http_request_duration_seconds histogram\n");
    for (int r = 0; r < SERVE_ROUTE_COUNT; r++) {
        uint64_t cumulative = 0;
        for (int b = 0; b < SERVE_LATENCY_BUCKETS; b++) {
            cumulative += get(&metrics->latency[r][b]);
            serve_buf_printf(buf, "lanner_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                             route_names[r], latency_bounds[b], (unsigned long long)cumulative);
        }
        cumulative += get(&metrics->latency[r][SERVE_LATENCY_BUCKETS]);
        serve_buf_printf(buf, "lanner_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                         route_names[r], (unsigned long long)cumulative);
        serve_buf_printf(buf, "lanner_http_request_duration_seconds_sum{route=\"%s\"} %.9f\n", route_names[r],
                         (double)get(&metrics->latency_sum_ns[r]) / 1e9);
        serve_buf_printf(buf, "lanner_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_names[r],
                         (unsigned long long)cumulative);
    }
}

/* Model names match [A-Za-z0-9._-], so they need no escaping inside label values. */
static void render_series(const serve_series *const *series, size_t n, serve_buf *buf)
{
    serve_buf_puts(buf, "# HELP lanner_predictions_total Predictions made, by model version and decision.\n"
                        "# TYPE lanner_predictions_total counter\n");
    for (size_t i = 0; i < n; i++) {
        serve_series *s = (serve_series *)series[i];
        serve_buf_printf(buf, "lanner_predictions_total{model=\"%s\",version=\"%d\",decision=\"flag\"} %llu\n", s->name,
                         s->version, (unsigned long long)get(&s->flagged));
        serve_buf_printf(buf, "lanner_predictions_total{model=\"%s\",version=\"%d\",decision=\"pass\"} %llu\n", s->name,
                         s->version, (unsigned long long)get(&s->passed));
    }

    serve_buf_puts(buf, "# HELP lanner_prediction_score Scores (probability of the positive class) returned.\n"
                        "# TYPE lanner_prediction_score histogram\n");
    for (size_t i = 0; i < n; i++) {
        serve_series *s = (serve_series *)series[i];
        uint64_t cumulative = 0;
        for (int b = 0; b < SERVE_SCORE_BUCKETS; b++) {
            cumulative += get(&s->score_buckets[b]);
            serve_buf_printf(buf, "lanner_prediction_score_bucket{model=\"%s\",version=\"%d\",le=\"%g\"} %llu\n",
                             s->name, s->version, (b + 1) / (double)SERVE_SCORE_BUCKETS, (unsigned long long)cumulative);
        }
        serve_buf_printf(buf, "lanner_prediction_score_bucket{model=\"%s\",version=\"%d\",le=\"+Inf\"} %llu\n", s->name,
                         s->version, (unsigned long long)cumulative);
        serve_buf_printf(buf, "lanner_prediction_score_sum{model=\"%s\",version=\"%d\"} %.9f\n", s->name, s->version,
                         (double)get(&s->score_sum_nano) / 1e9);
        serve_buf_printf(buf, "lanner_prediction_score_count{model=\"%s\",version=\"%d\"} %llu\n", s->name, s->version,
                         (unsigned long long)cumulative);
    }

    serve_buf_puts(buf, "# HELP lanner_unseen_categories_total Category values the model has no own branch for "
                        "(routed like rare categories).\n"
                        "# TYPE lanner_unseen_categories_total counter\n");
    for (size_t i = 0; i < n; i++)
        serve_buf_printf(buf, "lanner_unseen_categories_total{model=\"%s\",version=\"%d\"} %llu\n", series[i]->name,
                         series[i]->version, (unsigned long long)get((atomic_uint_fast64_t *)&series[i]->unseen_categories));

    serve_buf_puts(buf, "# HELP lanner_extra_fields_total Received fields that are not model features (ignored).\n"
                        "# TYPE lanner_extra_fields_total counter\n");
    for (size_t i = 0; i < n; i++)
        serve_buf_printf(buf, "lanner_extra_fields_total{model=\"%s\",version=\"%d\"} %llu\n", series[i]->name,
                         series[i]->version, (unsigned long long)get((atomic_uint_fast64_t *)&series[i]->extra_fields));
}

/* Appends text as a Prometheus label value, escaping backslash, quote and newline. */
static void append_label_value(serve_buf *buf, const char *text)
{
    serve_buf_puts(buf, "\"");
    for (const char *c = text; *c != '\0'; c++) {
        if (*c == '\\')
            serve_buf_puts(buf, "\\\\");
        else if (*c == '"')
            serve_buf_puts(buf, "\\\"");
        else if (*c == '\n')
            serve_buf_puts(buf, "\\n");
        else
            serve_buf_append(buf, c, 1);
    }
    serve_buf_puts(buf, "\"");
}

/* Only rules broken at least once are listed, so a wide contract adds no lines until data drifts. */
static void render_violations(const serve_series *const *series, size_t n, serve_buf *buf)
{
    serve_buf_puts(buf, "# HELP lanner_contract_violations_total Scored rows that broke a per-row rule of the "
                        "model's data contract, by column and rule.\n"
                        "# TYPE lanner_contract_violations_total counter\n");
    for (size_t i = 0; i < n; i++) {
        serve_series *s = (serve_series *)series[i];
        for (size_t c = 0; c < s->n_checked; c++)
            for (int rule = 0; rule < LN_RULE_COUNT; rule++) {
                uint64_t count = get(&s->violations[c * LN_RULE_COUNT + (size_t)rule]);
                if (count == 0)
                    continue;
                serve_buf_printf(buf, "lanner_contract_violations_total{model=\"%s\",version=\"%d\",column=",
                                 s->name, s->version);
                append_label_value(buf, s->checked_columns[c]);
                serve_buf_printf(buf, ",rule=\"%s\"} %llu\n", ln_rule_name((ln_rule)rule),
                                 (unsigned long long)count);
            }
    }
}

static void render_counter(serve_buf *buf, const char *name, const char *help, uint64_t value)
{
    serve_buf_printf(buf, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
                     (unsigned long long)value);
}

void serve_metrics_render(serve_metrics *metrics, size_t models_loaded, serve_buf *buf)
{
    render_requests(metrics, buf);
    render_latency(metrics, buf);

    pthread_mutex_lock(&metrics->series_lock);
    render_series((const serve_series *const *)metrics->series, metrics->n_series, buf);
    render_violations((const serve_series *const *)metrics->series, metrics->n_series, buf);
    pthread_mutex_unlock(&metrics->series_lock);

    render_counter(buf, "lanner_prediction_log_written_total", "Prediction log lines written to disk.",
                   get(&metrics->log_written));
    render_counter(buf, "lanner_prediction_log_dropped_total",
                   "Prediction log lines dropped because the queue was full or a write failed.",
                   get(&metrics->log_dropped));
    render_counter(buf, "lanner_model_reloads_total", "Model versions loaded after start-up.", get(&metrics->reloads));
    render_counter(buf, "lanner_model_reload_failures_total", "Production versions that failed to load.",
                   get(&metrics->reload_failures));
    serve_buf_printf(buf, "# HELP lanner_models_loaded Models served now.\n# TYPE lanner_models_loaded gauge\n"
                          "lanner_models_loaded %zu\n",
                     models_loaded);
}
