/*
 * The registry poller: every poll_ms milliseconds (or at once after
 * ln_server_reload) it lists the registry's production versions, loads each
 * new one aside and swaps it into the catalog. A version that fails to load
 * is logged once and not retried until the production version changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lanner/log.h"
#include "serve/serve_internal.h"

/* A production version as listed by the registry. */
typedef struct production {
    char name[LN_REGISTRY_MAX_NAME + 1];
    int version;
    char model_sha[65];
} production;

struct serve_failed_load {
    char name[LN_REGISTRY_MAX_NAME + 1];
    int version;
    char model_sha[65];
};

typedef struct production_list {
    production *items;
    size_t n;
    int over_limit;
} production_list;

static int collect_production(void *context, const ln_version_info *info)
{
    production_list *list = context;

    if (strcmp(info->stage, "production") != 0)
        return 0;
    if (list->n == LN_SERVE_MAX_MODELS) {
        list->over_limit = 1;
        return 1;
    }
    production *p = &list->items[list->n++];
    snprintf(p->name, sizeof p->name, "%s", info->name);
    snprintf(p->model_sha, sizeof p->model_sha, "%s", info->model_sha);
    p->version = info->version;
    return 0;
}

static int failed_before(const ln_server *server, const production *p)
{
    for (size_t i = 0; i < server->n_failed; i++) {
        const struct serve_failed_load *f = &server->failed[i];
        if (f->version == p->version && strcmp(f->name, p->name) == 0 && strcmp(f->model_sha, p->model_sha) == 0)
            return 1;
    }
    return 0;
}

static void remember_failure(ln_server *server, const production *p)
{
    /* One entry per model: a newer failure replaces the older one. */
    for (size_t i = 0; i < server->n_failed; i++) {
        if (strcmp(server->failed[i].name, p->name) == 0) {
            server->failed[i].version = p->version;
            memcpy(server->failed[i].model_sha, p->model_sha, sizeof p->model_sha);
            return;
        }
    }
    if (server->failed == NULL && (server->failed = calloc(LN_SERVE_MAX_MODELS, sizeof *server->failed)) == NULL)
        return;
    if (server->n_failed == LN_SERVE_MAX_MODELS)
        return;
    struct serve_failed_load *f = &server->failed[server->n_failed++];
    memcpy(f->name, p->name, sizeof f->name);
    memcpy(f->model_sha, p->model_sha, sizeof f->model_sha);
    f->version = p->version;
}

/* Loads p and serves it; returns 1 when the catalog changed. */
static int load_production(ln_server *server, const production *p, int initial)
{
    serve_model *current = serve_catalog_acquire(&server->catalog, p->name);
    int current_version = current != NULL ? current->version : 0;
    int unchanged = current != NULL && current->version == p->version && strcmp(current->model_sha, p->model_sha) == 0;

    serve_model_release(current);
    if (unchanged || failed_before(server, p))
        return 0;

    ln_error err = {0};
    ln_version_info info;
    serve_model *model = NULL;
    ln_status status = ln_registry_get(server->registry, p->name, p->version, &info, &err);
    if (status == LN_OK) {
        status = serve_model_load(&info, &server->metrics, &model, &err);
        ln_version_info_clear(&info);
    }
    if (status == LN_OK)
        status = serve_catalog_put(&server->catalog, p->name, model, &err);
    if (status != LN_OK) {
        ln_log(LN_LOG_ERROR, "cannot serve model %s version %d: %s", p->name, p->version, err.message);
        atomic_fetch_add_explicit(&server->metrics.reload_failures, 1, memory_order_relaxed);
        remember_failure(server, p);
        return 0;
    }

    if (!initial)
        atomic_fetch_add_explicit(&server->metrics.reloads, 1, memory_order_relaxed);
    if (current_version != 0)
        ln_log(LN_LOG_INFO, "serving model %s version %d (was version %d)", p->name, p->version, current_version);
    else
        ln_log(LN_LOG_INFO, "serving model %s version %d", p->name, p->version);
    return 1;
}

/* Stops serving models that no longer have a production version. */
static size_t drop_retired(ln_server *server, const production_list *list)
{
    serve_model **served = calloc(LN_SERVE_MAX_MODELS, sizeof *served);
    size_t changes = 0;

    if (served == NULL)
        return 0;
    size_t n = serve_catalog_snapshot(&server->catalog, served, LN_SERVE_MAX_MODELS);
    for (size_t i = 0; i < n && i < LN_SERVE_MAX_MODELS; i++) {
        int listed = 0;
        for (size_t j = 0; j < list->n && !listed; j++)
            listed = strcmp(list->items[j].name, served[i]->name) == 0;
        if (!listed) {
            ln_log(LN_LOG_WARN, "model %s has no production version any more; no longer serving it", served[i]->name);
            serve_catalog_put(&server->catalog, served[i]->name, NULL, NULL);
            changes++;
        }
        serve_model_release(served[i]);
    }
    free(served);
    return changes;
}

size_t serve_poll_registry(ln_server *server, int initial)
{
    production_list list = {0};
    ln_error err = {0};
    size_t changes = 0;

    list.items = calloc(LN_SERVE_MAX_MODELS, sizeof *list.items);
    if (list.items == NULL)
        return 0;
    ln_status status = ln_registry_list(server->registry, NULL, collect_production, &list, &err);
    if (status != LN_OK) {
        /* Logged once per run of failures, so a locked or replaced registry does not flood the log. */
        if (!server->registry_error_logged)
            ln_log(LN_LOG_ERROR, "reading registry %s failed: %s; serving the loaded models meanwhile",
                   server->registry_path, err.message);
        server->registry_error_logged = 1;
        free(list.items);
        return 0;
    }
    server->registry_error_logged = 0;
    if (list.over_limit)
        ln_log(LN_LOG_WARN, "registry %s has more than %d production models; serving the first %d",
               server->registry_path, LN_SERVE_MAX_MODELS, LN_SERVE_MAX_MODELS);

    for (size_t i = 0; i < list.n; i++)
        changes += (size_t)load_production(server, &list.items[i], initial);
    changes += drop_retired(server, &list);
    free(list.items);
    return changes;
}

static void *poller_main(void *arg)
{
    ln_server *server = arg;

    pthread_mutex_lock(&server->poll_lock);
    while (!server->stopping) {
        if (!server->poll_requested) {
            struct timespec deadline;
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_sec += server->poll_ms / 1000;
            deadline.tv_nsec += (long)(server->poll_ms % 1000) * 1000000L;
            if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&server->poll_wake, &server->poll_lock, &deadline);
        }
        if (server->stopping)
            break;
        server->poll_requested = 0;
        pthread_mutex_unlock(&server->poll_lock);

        serve_poll_registry(server, 0);

        pthread_mutex_lock(&server->poll_lock);
    }
    pthread_mutex_unlock(&server->poll_lock);
    return NULL;
}

ln_status serve_poller_start(ln_server *server, ln_error *err)
{
    if (pthread_create(&server->poller, NULL, poller_main, server) != 0)
        return ln_error_set(err, LN_ERR_NOMEM, "cannot start the registry poller thread");
    server->poller_started = 1;
    return LN_OK;
}

void serve_poller_stop(ln_server *server)
{
    if (!server->poller_started)
        return;
    pthread_mutex_lock(&server->poll_lock);
    server->stopping = 1;
    pthread_cond_signal(&server->poll_wake);
    pthread_mutex_unlock(&server->poll_lock);
    pthread_join(server->poller, NULL);
    server->poller_started = 0;
}
