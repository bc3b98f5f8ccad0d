/*
 * Reading a registry: one version, every version, and the audit log.
 */
#include "registry/registry_internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_COLUMNS                                                                            \
    "name, version, stage, model_sha, model_path, metrics_json, data_hash, pipeline_hash,"         \
    " contract_hash, lanner_version, run_dir, parent_version, created_at"

void ln_version_info_clear(ln_version_info *info)
{
    if (info == NULL)
        return;

    free(info->metrics_json);
    memset(info, 0, sizeof *info);
}

/* Copies a text column into a fixed field; a NULL becomes "". */
static ln_status copy_text(ln_registry *registry, sqlite3_stmt *statement, int column, char *field,
                           size_t capacity, ln_error *err)
{
    const char *text = (const char *)sqlite3_column_text(statement, column);
    size_t length = (size_t)sqlite3_column_bytes(statement, column);

    if (text == NULL) {
        field[0] = '\0';
        return LN_OK;
    }
    if (length >= capacity)
        return ln_error_set(err, LN_ERR_CORRUPT,
                            "registry %s: column %s holds %zu bytes, more than the %zu allowed",
                            registry->path, sqlite3_column_name(statement, column), length,
                            capacity - 1);

    memcpy(field, text, length + 1);
    return LN_OK;
}

/* Joins the database's folder and a stored model path relative to it. */
static ln_status resolve_model_path(ln_registry *registry, ln_version_info *info, ln_error *err)
{
    char stored[sizeof info->model_path];
    const char *slash = strrchr(registry->path, '/');
    int prefix_length = slash == NULL ? 0 : (int)(slash - registry->path + 1);
    int length;

    if (info->model_path[0] == '/' || prefix_length == 0)
        return LN_OK;

    memcpy(stored, info->model_path, sizeof stored);
    length = snprintf(info->model_path, sizeof info->model_path, "%.*s%s", prefix_length,
                      registry->path, stored);
    if (length < 0 || (size_t)length >= sizeof info->model_path)
        return ln_error_set(err, LN_ERR_LIMIT, "registry %s: the model path %s%s is too long",
                            registry->path, registry->path, stored);
    return LN_OK;
}

/* Fills info from a row of VERSION_COLUMNS. */
static ln_status read_version(ln_registry *registry, sqlite3_stmt *statement, ln_version_info *info,
                              ln_error *err)
{
    const char *metrics = (const char *)sqlite3_column_text(statement, 5);
    ln_status status;

    memset(info, 0, sizeof *info);
    info->version = sqlite3_column_int(statement, 1);
    info->parent_version = sqlite3_column_int(statement, 11);

    status = copy_text(registry, statement, 0, info->name, sizeof info->name, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 2, info->stage, sizeof info->stage, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 3, info->model_sha, sizeof info->model_sha, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 4, info->model_path, sizeof info->model_path, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 6, info->data_hash, sizeof info->data_hash, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 7, info->pipeline_hash, sizeof info->pipeline_hash, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 8, info->contract_hash, sizeof info->contract_hash, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 9, info->lanner_version, sizeof info->lanner_version,
                           err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 10, info->run_dir, sizeof info->run_dir, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 12, info->created_at, sizeof info->created_at, err);
    if (status == LN_OK)
        status = resolve_model_path(registry, info, err);
    if (status != LN_OK)
        return status;

    info->metrics_json = strdup(metrics != NULL ? metrics : "{}");
    if (info->metrics_json == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading registry %s", registry->path);
    return LN_OK;
}

/* Returns whether name has a row in models, or -1 on error. */
static int model_exists(ln_registry *registry, const char *name, ln_error *err)
{
    sqlite3_stmt *statement = NULL;
    int exists = -1;

    if (registry_prepare(registry, "SELECT 1 FROM models WHERE name = ?1", &statement, err) != LN_OK)
        return -1;

    sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);
    switch (sqlite3_step(statement)) {
    case SQLITE_ROW: exists = 1; break;
    case SQLITE_DONE: exists = 0; break;
    default: registry_sql_error(registry, LN_ERR_SQL, "reading models", err); break;
    }

    sqlite3_finalize(statement);
    return exists;
}

static ln_status not_found(ln_registry *registry, const char *name, int version, ln_error *err)
{
    int exists = model_exists(registry, name, err);

    if (exists < 0)
        return LN_ERR_SQL;
    if (exists == 0)
        return ln_error_set(err, LN_ERR_NOT_FOUND, "model '%s' is not in registry %s", name,
                            registry->path);
    if (version == 0)
        return ln_error_set(err, LN_ERR_NOT_FOUND,
                            "model '%s' has no production version in registry %s; promote one first",
                            name, registry->path);
    return ln_error_set(err, LN_ERR_NOT_FOUND, "version %d of model '%s' not found in registry %s",
                        version, name, registry->path);
}

ln_status ln_registry_get(ln_registry *registry, const char *name, int version,
                          ln_version_info *out, ln_error *err)
{
    sqlite3_stmt *statement = NULL;
    ln_status status;
    int rc;

    assert(registry != NULL);
    assert(out != NULL);
    memset(out, 0, sizeof *out);

    status = registry_check_name(name, err);
    if (status != LN_OK)
        return status;
    if (version < 0)
        return ln_error_set(err, LN_ERR_CONFIG,
                            "version %d of model '%s' is invalid; use 0 for the production version",
                            version, name);

    status = registry_prepare(registry,
                              version == 0
                                  ? "SELECT " VERSION_COLUMNS
                                    " FROM versions WHERE name = ?1 AND stage = 'production'"
                                  : "SELECT " VERSION_COLUMNS
                                    " FROM versions WHERE name = ?1 AND version = ?2",
                              &statement, err);
    if (status != LN_OK)
        return status;

    sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);
    if (version > 0)
        sqlite3_bind_int(statement, 2, version);

    rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW)
        status = read_version(registry, statement, out, err);
    else if (rc == SQLITE_DONE)
        status = LN_ERR_NOT_FOUND;
    else
        status = registry_sql_error(registry, LN_ERR_SQL, "reading a version", err);
    sqlite3_finalize(statement);

    if (status == LN_ERR_NOT_FOUND && rc == SQLITE_DONE)
        status = not_found(registry, name, version, err);
    if (status != LN_OK)
        ln_version_info_clear(out);
    return status;
}

ln_status ln_registry_list(ln_registry *registry, const char *name,
                           int (*visit)(void *context, const ln_version_info *info),
                           void *context, ln_error *err)
{
    sqlite3_stmt *statement = NULL;
    ln_version_info info;
    size_t n_visited = 0;
    ln_status status;
    int rc;

    assert(registry != NULL);
    assert(visit != NULL);

    if (name != NULL) {
        status = registry_check_name(name, err);
        if (status != LN_OK)
            return status;
    }

    /* rowid grows with each insert, so it orders registrations across models. */
    status = registry_prepare(registry,
                              name != NULL ? "SELECT " VERSION_COLUMNS
                                             " FROM versions WHERE name = ?1 ORDER BY rowid DESC"
                                           : "SELECT " VERSION_COLUMNS
                                             " FROM versions ORDER BY rowid DESC",
                              &statement, err);
    if (status != LN_OK)
        return status;
    if (name != NULL)
        sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);

    while (status == LN_OK && (rc = sqlite3_step(statement)) == SQLITE_ROW) {
        status = read_version(registry, statement, &info, err);
        if (status == LN_OK) {
            n_visited++;
            int stop = visit(context, &info);
            ln_version_info_clear(&info);
            if (stop)
                break;
        } else {
            ln_version_info_clear(&info);
        }
    }
    if (status == LN_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        status = registry_sql_error(registry, LN_ERR_SQL, "listing versions", err);
    sqlite3_finalize(statement);

    if (status == LN_OK && name != NULL && n_visited == 0)
        status = not_found(registry, name, -1, err);
    return status;
}

static ln_status read_audit(ln_registry *registry, sqlite3_stmt *statement, ln_audit_entry *entry,
                            ln_error *err)
{
    ln_status status;

    entry->id = sqlite3_column_int64(statement, 0);
    entry->version = sqlite3_column_int(statement, 5);

    status = copy_text(registry, statement, 1, entry->time, sizeof entry->time, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 2, entry->user, sizeof entry->user, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 3, entry->action, sizeof entry->action, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 4, entry->name, sizeof entry->name, err);
    if (status == LN_OK)
        status = copy_text(registry, statement, 6, entry->reason, sizeof entry->reason, err);
    return status;
}

ln_status ln_registry_history(ln_registry *registry, const char *name,
                              int (*visit)(void *context, const ln_audit_entry *entry),
                              void *context, ln_error *err)
{
    sqlite3_stmt *statement = NULL;
    ln_audit_entry *entry;
    ln_status status;
    int rc;

    assert(registry != NULL);
    assert(visit != NULL);

    if (name != NULL) {
        int exists;
        status = registry_check_name(name, err);
        if (status != LN_OK)
            return status;
        exists = model_exists(registry, name, err);
        if (exists < 0)
            return LN_ERR_SQL;
        if (exists == 0)
            return not_found(registry, name, -1, err);
    }

    /* An entry is about 4.6 KB, most of it the reason, so it lives on the heap. */
    entry = calloc(1, sizeof *entry);
    if (entry == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading registry %s", registry->path);

    status = registry_prepare(
        registry,
        name != NULL
            ? "SELECT id, time, user, action, name, version, reason FROM audit WHERE name = ?1"
              " ORDER BY id DESC"
            : "SELECT id, time, user, action, name, version, reason FROM audit ORDER BY id DESC",
        &statement, err);
    if (status == LN_OK && name != NULL)
        sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);

    while (status == LN_OK && (rc = sqlite3_step(statement)) == SQLITE_ROW) {
        status = read_audit(registry, statement, entry, err);
        if (status == LN_OK && visit(context, entry))
            break;
    }
    if (status == LN_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        status = registry_sql_error(registry, LN_ERR_SQL, "reading the audit log", err);

    sqlite3_finalize(statement);
    free(entry);
    return status;
}

ln_status ln_registry_models(ln_registry *registry,
                             int (*visit)(void *context, const ln_model_summary *summary),
                             void *context, ln_error *err)
{
    sqlite3_stmt *statement = NULL;
    ln_model_summary summary;
    ln_status status;
    int rc;

    assert(registry != NULL);
    assert(visit != NULL);

    /* The partial unique index allows at most one production row per name, so max() picks it. */
    status = registry_prepare(registry,
                              "SELECT name, count(*), max(version),"
                              " max(CASE WHEN stage = 'production' THEN version END)"
                              " FROM versions GROUP BY name ORDER BY name",
                              &statement, err);
    if (status != LN_OK)
        return status;

    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        memset(&summary, 0, sizeof summary);
        status = copy_text(registry, statement, 0, summary.name, sizeof summary.name, err);
        if (status != LN_OK)
            break;
        summary.n_versions = sqlite3_column_int(statement, 1);
        summary.newest_version = sqlite3_column_int(statement, 2);
        summary.production_version = sqlite3_column_int(statement, 3);
        if (visit(context, &summary))
            break;
    }
    if (status == LN_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        status = registry_sql_error(registry, LN_ERR_SQL, "listing models", err);

    sqlite3_finalize(statement);
    return status;
}
