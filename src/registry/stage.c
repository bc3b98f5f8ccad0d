/*
 * Changes to a registry: registering a version, promoting it to production
 * and rolling back. Each change is one write transaction that also appends
 * an audit row.
 */
#include "registry/registry_internal.h"

#include <assert.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LANNER_VERSION
#define LANNER_VERSION "unknown"
#endif

/* Bytes of $USER kept in an audit row. */
#define MAX_USER_BYTES 256

ln_status registry_check_name(const char *name, ln_error *err)
{
    size_t length;

    if (name == NULL || name[0] == '\0')
        return ln_error_set(err, LN_ERR_CONFIG, "model name is empty; use 1 to %d of A-Z a-z 0-9 . _ -",
                            LN_REGISTRY_MAX_NAME);

    length = strnlen(name, LN_REGISTRY_MAX_NAME + 1);
    if (length > LN_REGISTRY_MAX_NAME)
        return ln_error_set(err, LN_ERR_CONFIG, "model name '%.32s...' is longer than %d bytes", name,
                            LN_REGISTRY_MAX_NAME);

    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)name[i];
        int valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
        if (!valid)
            return ln_error_set(err, LN_ERR_CONFIG,
                                "model name '%s' contains the invalid byte 0x%02x at position %zu; "
                                "use only A-Z a-z 0-9 . _ -",
                                name, c, i + 1);
    }
    return LN_OK;
}

/* Checks that text is set and shorter than capacity bytes. */
static ln_status check_text(const char *field, const char *text, size_t capacity, ln_error *err)
{
    if (text == NULL || text[0] == '\0')
        return ln_error_set(err, LN_ERR_CONFIG, "registration: %s is missing", field);
    if (strnlen(text, capacity) >= capacity)
        return ln_error_set(err, LN_ERR_CONFIG, "registration: %s is longer than %zu bytes", field,
                            capacity - 1);
    return LN_OK;
}

/* Checks that hash is 1 to 64 hex digits. */
static ln_status check_hash(const char *field, const char *hash, ln_error *err)
{
    ln_status status = check_text(field, hash, 65, err);

    if (status != LN_OK)
        return status;

    for (const char *c = hash; *c != '\0'; c++) {
        int hex = (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F');
        if (!hex)
            return ln_error_set(err, LN_ERR_CONFIG,
                                "registration: %s '%s' is not hex (invalid character '%c')", field,
                                hash, *c);
    }
    return LN_OK;
}

static ln_status check_reason(const char *reason, ln_error *err)
{
    if (reason != NULL && strnlen(reason, LN_REGISTRY_MAX_REASON_BYTES + 1) > LN_REGISTRY_MAX_REASON_BYTES)
        return ln_error_set(err, LN_ERR_CONFIG, "reason is longer than %d bytes",
                            LN_REGISTRY_MAX_REASON_BYTES);
    return LN_OK;
}

static ln_status check_metrics(ln_registry *registry, const char *metrics_json, ln_error *err)
{
    sqlite3_stmt *statement = NULL;
    ln_status status;

    if (metrics_json == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "registration: metrics_json is missing");
    if (strnlen(metrics_json, LN_REGISTRY_MAX_METRICS_BYTES + 1) > LN_REGISTRY_MAX_METRICS_BYTES)
        return ln_error_set(err, LN_ERR_LIMIT, "registration: metrics_json is longer than %u bytes",
                            LN_REGISTRY_MAX_METRICS_BYTES);

    status = registry_prepare(registry, "SELECT json_valid(?1)", &statement, err);
    if (status != LN_OK)
        return status;

    sqlite3_bind_text(statement, 1, metrics_json, -1, SQLITE_STATIC);
    if (sqlite3_step(statement) != SQLITE_ROW)
        status = registry_sql_error(registry, LN_ERR_SQL, "checking metrics_json", err);
    else if (sqlite3_column_int(statement, 0) != 1)
        status = ln_error_set(err, LN_ERR_PARSE, "registration: metrics_json is not valid JSON: %.200s",
                              metrics_json);

    sqlite3_finalize(statement);
    return status;
}

static ln_status check_registration(ln_registry *registry, const ln_registration *registration,
                                    ln_error *err)
{
    ln_status status = registry_check_name(registration->name, err);

    if (status == LN_OK)
        status = check_text("model_path", registration->model_path, PATH_MAX, err);
    if (status == LN_OK)
        status = check_hash("data_hash", registration->data_hash, err);
    if (status == LN_OK)
        status = check_hash("pipeline_hash", registration->pipeline_hash, err);
    if (status == LN_OK && registration->contract_hash != NULL && registration->contract_hash[0] != '\0')
        status = check_hash("contract_hash", registration->contract_hash, err);
    if (status == LN_OK)
        status = check_text("run_dir", registration->run_dir, 4096, err);
    if (status == LN_OK && registration->lanner_version != NULL)
        status = check_text("lanner_version", registration->lanner_version, 32, err);
    if (status == LN_OK)
        status = check_metrics(registry, registration->metrics_json, err);
    return status;
}

/*
 * Runs a query whose first column of its first row is an integer, binding
 * name to ?1 and number to ?2. Sets *found to 0 when no row or a NULL came
 * back.
 */
static ln_status query_int(ln_registry *registry, const char *sql, const char *name, int number,
                           int *value, int *found, ln_error *err)
{
    sqlite3_stmt *statement = NULL;
    ln_status status = registry_prepare(registry, sql, &statement, err);
    int rc;

    if (status != LN_OK)
        return status;

    sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(statement) >= 2)
        sqlite3_bind_int(statement, 2, number);

    *found = 0;
    rc = sqlite3_step(statement);
    if (rc == SQLITE_ROW && sqlite3_column_type(statement, 0) != SQLITE_NULL) {
        *value = sqlite3_column_int(statement, 0);
        *found = 1;
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        status = registry_sql_error(registry, LN_ERR_SQL, "reading versions", err);
    }

    sqlite3_finalize(statement);
    return status;
}

/* $USER names who acted; cron jobs and containers often leave it unset, so the account name stands in. */
static void current_user(char user[MAX_USER_BYTES + 1])
{
    const char *value = getenv("USER");
    struct passwd *account = NULL;

    if (value == NULL || value[0] == '\0')
        account = getpwuid(geteuid());
    if (account != NULL)
        value = account->pw_name;
    if (value == NULL || value[0] == '\0')
        value = "unknown";
    snprintf(user, MAX_USER_BYTES + 1, "%s", value);
}

/* Appends an audit row; version 0 is stored as NULL. */
static ln_status append_audit(ln_registry *registry, const char *action, const char *name, int version,
                              const char *reason, ln_error *err)
{
    char now[32];
    char user[MAX_USER_BYTES + 1];
    sqlite3_stmt *statement = NULL;
    ln_status status = registry_prepare(
        registry,
        "INSERT INTO audit(time, user, action, name, version, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &statement, err);

    if (status != LN_OK)
        return status;

    registry_now_utc(now, sizeof now);
    current_user(user);
    sqlite3_bind_text(statement, 1, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, user, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 4, name, -1, SQLITE_STATIC);
    if (version > 0)
        sqlite3_bind_int(statement, 5, version);
    if (reason != NULL)
        sqlite3_bind_text(statement, 6, reason, -1, SQLITE_STATIC);

    if (sqlite3_step(statement) != SQLITE_DONE)
        status = registry_sql_error(registry, LN_ERR_SQL, "writing the audit log", err);
    sqlite3_finalize(statement);
    return status;
}

/* Runs an UPDATE or INSERT binding name to ?1 and number to ?2. */
static ln_status change(ln_registry *registry, const char *sql, const char *name, int number,
                        ln_error *err)
{
    sqlite3_stmt *statement = NULL;
    ln_status status = registry_prepare(registry, sql, &statement, err);

    if (status != LN_OK)
        return status;

    sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_bind_parameter_count(statement) >= 2)
        sqlite3_bind_int(statement, 2, number);
    if (sqlite3_step(statement) != SQLITE_DONE)
        status = registry_sql_error(registry, LN_ERR_SQL, "updating stages", err);
    sqlite3_finalize(statement);
    return status;
}

static ln_status insert_version(ln_registry *registry, const ln_registration *registration,
                                int version, int parent, const char hash_hex[33], ln_error *err)
{
    char now[32];
    char stored_path[64];
    const char *contract = registration->contract_hash;
    sqlite3_stmt *statement = NULL;
    ln_status status = registry_prepare(
        registry,
        "INSERT INTO versions(name, version, stage, model_sha, model_path, metrics_json, data_hash,"
        " pipeline_hash, contract_hash, lanner_version, run_dir, parent_version, created_at)"
        " VALUES (?1, ?2, 'candidate', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        &statement, err);

    if (status != LN_OK)
        return status;

    registry_now_utc(now, sizeof now);
    /* Stored relative to the database's folder, so the registry can move. */
    snprintf(stored_path, sizeof stored_path, "models/%s.lnr", hash_hex);

    sqlite3_bind_text(statement, 1, registration->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(statement, 2, version);
    sqlite3_bind_text(statement, 3, hash_hex, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 4, stored_path, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 5, registration->metrics_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 6, registration->data_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 7, registration->pipeline_hash, -1, SQLITE_STATIC);
    if (contract != NULL && contract[0] != '\0')
        sqlite3_bind_text(statement, 8, contract, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 9,
                      registration->lanner_version != NULL ? registration->lanner_version : LANNER_VERSION,
                      -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 10, registration->run_dir, -1, SQLITE_STATIC);
    if (parent > 0)
        sqlite3_bind_int(statement, 11, parent);
    sqlite3_bind_text(statement, 12, now, -1, SQLITE_STATIC);

    if (sqlite3_step(statement) != SQLITE_DONE)
        status = registry_sql_error(registry, LN_ERR_SQL, "inserting the version", err);
    sqlite3_finalize(statement);
    return status;
}

static ln_status insert_model(ln_registry *registry, const char *name, ln_error *err)
{
    char now[32];
    sqlite3_stmt *statement = NULL;
    ln_status status = registry_prepare(
        registry, "INSERT OR IGNORE INTO models(name, created_at) VALUES (?1, ?2)", &statement, err);

    if (status != LN_OK)
        return status;

    registry_now_utc(now, sizeof now);
    sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(statement, 2, now, -1, SQLITE_STATIC);
    if (sqlite3_step(statement) != SQLITE_DONE)
        status = registry_sql_error(registry, LN_ERR_SQL, "inserting the model", err);
    sqlite3_finalize(statement);
    return status;
}

/* The steps of a registration inside its transaction. */
static ln_status record_version(ln_registry *registry, const ln_registration *registration,
                                const char hash_hex[33], int *version_out, ln_error *err)
{
    const char *name = registration->name;
    int next = 0;
    int parent = 0;
    int found = 0;
    ln_status status;

    status = insert_model(registry, name, err);
    if (status != LN_OK)
        return status;

    status = query_int(registry, "SELECT coalesce(max(version), 0) + 1 FROM versions WHERE name = ?1",
                       name, 0, &next, &found, err);
    if (status != LN_OK)
        return status;

    status = query_int(registry, "SELECT version FROM versions WHERE name = ?1 AND stage = 'production'",
                       name, 0, &parent, &found, err);
    if (status != LN_OK)
        return status;
    if (!found)
        parent = 0;

    status = insert_version(registry, registration, next, parent, hash_hex, err);
    if (status != LN_OK)
        return status;

    status = append_audit(registry, "register", name, next, NULL, err);
    if (status == LN_OK && version_out != NULL)
        *version_out = next;
    return status;
}

ln_status ln_registry_register(ln_registry *registry, const ln_registration *registration,
                               int *version_out, ln_error *err)
{
    char hash_hex[33];
    ln_status status;

    assert(registry != NULL);
    assert(registration != NULL);

    status = check_registration(registry, registration, err);
    if (status != LN_OK)
        return status;

    status = registry_store_model(registry, registration->model_path, hash_hex, err);
    if (status != LN_OK)
        return status;

    status = registry_begin(registry, err);
    if (status != LN_OK)
        return status;

    status = record_version(registry, registration, hash_hex, version_out, err);
    return registry_finish(registry, status, err);
}

static ln_status require_model(ln_registry *registry, const char *name, ln_error *err)
{
    int count = 0;
    int found = 0;
    ln_status status = query_int(registry, "SELECT count(*) FROM models WHERE name = ?1", name, 0,
                                 &count, &found, err);

    if (status != LN_OK)
        return status;
    if (count == 0)
        return ln_error_set(err, LN_ERR_NOT_FOUND, "model '%s' is not in registry %s", name,
                            registry->path);
    return LN_OK;
}

static ln_status promote_steps(ln_registry *registry, const char *name, int version,
                               const char *reason, ln_error *err)
{
    int exists = 0;
    int latest = 0;
    int current = 0;
    int found = 0;
    ln_status status = require_model(registry, name, err);

    if (status != LN_OK)
        return status;

    status = query_int(registry, "SELECT count(*) FROM versions WHERE name = ?1 AND version = ?2", name,
                       version, &exists, &found, err);
    if (status == LN_OK)
        status = query_int(registry, "SELECT coalesce(max(version), 0) FROM versions WHERE name = ?1",
                           name, 0, &latest, &found, err);
    if (status != LN_OK)
        return status;
    if (exists == 0)
        return ln_error_set(err, LN_ERR_NOT_FOUND,
                            "version %d of model '%s' not found in registry %s (latest is %d)",
                            version, name, registry->path, latest);

    status = query_int(registry, "SELECT version FROM versions WHERE name = ?1 AND stage = 'production'",
                       name, 0, &current, &found, err);
    if (status != LN_OK)
        return status;
    if (found && current == version)
        return ln_error_set(err, LN_ERR_CONFIG, "version %d of model '%s' is already in production",
                            version, name);

    status = change(registry,
                    "UPDATE versions SET stage = 'archived' WHERE name = ?1 AND stage = 'production'",
                    name, 0, err);
    if (status == LN_OK)
        status = change(registry,
                        "UPDATE versions SET stage = 'production' WHERE name = ?1 AND version = ?2",
                        name, version, err);
    if (status == LN_OK)
        status = append_audit(registry, "promote", name, version, reason, err);
    return status;
}

ln_status ln_registry_promote(ln_registry *registry, const char *name, int version,
                              const char *reason, ln_error *err)
{
    ln_status status;

    assert(registry != NULL);

    status = registry_check_name(name, err);
    if (status != LN_OK)
        return status;
    if (version < 1)
        return ln_error_set(err, LN_ERR_CONFIG, "cannot promote version %d of model '%s': versions start at 1",
                            version, name);
    status = check_reason(reason, err);
    if (status != LN_OK)
        return status;

    status = registry_begin(registry, err);
    if (status != LN_OK)
        return status;

    status = promote_steps(registry, name, version, reason, err);
    return registry_finish(registry, status, err);
}

/*
 * Finds the production versions recorded by the audit log as a stack:
 * promote pushes a version and rollback pops one. Walking the log newest
 * first, each rollback cancels the next older promote that is not already
 * cancelled. The promotes left over are the stack from the top down. Stores
 * the top in *top and the entry below it in *below (0 when absent).
 */
static ln_status production_stack(ln_registry *registry, const char *name, int *top, int *below,
                                  ln_error *err)
{
    sqlite3_stmt *statement = NULL;
    long long pending_pops = 0;
    int n_live = 0;
    int rc;
    ln_status status = registry_prepare(
        registry,
        "SELECT action, version FROM audit WHERE name = ?1 AND action IN ('promote', 'rollback')"
        " ORDER BY id DESC",
        &statement, err);

    if (status != LN_OK)
        return status;

    *top = 0;
    *below = 0;
    sqlite3_bind_text(statement, 1, name, -1, SQLITE_STATIC);

    while (n_live < 2 && (rc = sqlite3_step(statement)) == SQLITE_ROW) {
        const char *action = (const char *)sqlite3_column_text(statement, 0);
        if (action != NULL && strcmp(action, "rollback") == 0) {
            pending_pops++;
        } else if (pending_pops > 0) {
            pending_pops--;
        } else {
            *(n_live == 0 ? top : below) = sqlite3_column_int(statement, 1);
            n_live++;
        }
    }
    if (n_live < 2 && rc != SQLITE_DONE)
        status = registry_sql_error(registry, LN_ERR_SQL, "reading the audit log", err);

    sqlite3_finalize(statement);
    return status;
}

/* Finds the version a rollback of name restores now and the production version it replaces. */
static ln_status find_rollback(ln_registry *registry, const char *name, int *current_out,
                               int *target_out, ln_error *err)
{
    int current = 0;
    int found = 0;
    int top = 0;
    int below = 0;
    ln_status status = require_model(registry, name, err);

    if (status != LN_OK)
        return status;

    status = query_int(registry, "SELECT version FROM versions WHERE name = ?1 AND stage = 'production'",
                       name, 0, &current, &found, err);
    if (status != LN_OK)
        return status;
    if (!found)
        return ln_error_set(err, LN_ERR_NOT_FOUND,
                            "model '%s' has no production version to roll back from", name);

    status = production_stack(registry, name, &top, &below, err);
    if (status != LN_OK)
        return status;
    if (top != current)
        return ln_error_set(err, LN_ERR_CORRUPT,
                            "registry %s: the audit log names version %d of model '%s' as the latest "
                            "production version, but version %d is in production",
                            registry->path, top, name, current);
    if (below == 0)
        return ln_error_set(err, LN_ERR_NOT_FOUND,
                            "model '%s' has no earlier production version to roll back to (version %d "
                            "was the first promoted)",
                            name, current);

    *current_out = current;
    *target_out = below;
    return LN_OK;
}

static ln_status rollback_steps(ln_registry *registry, const char *name, const char *reason,
                                ln_error *err)
{
    int current = 0;
    int below = 0;
    ln_status status = find_rollback(registry, name, &current, &below, err);

    if (status != LN_OK)
        return status;

    status = change(registry, "UPDATE versions SET stage = 'archived' WHERE name = ?1 AND version = ?2",
                    name, current, err);
    if (status == LN_OK)
        status = change(registry,
                        "UPDATE versions SET stage = 'production' WHERE name = ?1 AND version = ?2",
                        name, below, err);
    if (status == LN_OK)
        status = append_audit(registry, "rollback", name, below, reason, err);
    return status;
}

ln_status ln_registry_rollback(ln_registry *registry, const char *name, const char *reason,
                               ln_error *err)
{
    ln_status status;

    assert(registry != NULL);

    status = registry_check_name(name, err);
    if (status == LN_OK)
        status = check_reason(reason, err);
    if (status != LN_OK)
        return status;

    status = registry_begin(registry, err);
    if (status != LN_OK)
        return status;

    status = rollback_steps(registry, name, reason, err);
    return registry_finish(registry, status, err);
}

ln_status ln_registry_rollback_target(ln_registry *registry, const char *name, int *version_out,
                                      ln_error *err)
{
    int current = 0;
    ln_status status;

    assert(registry != NULL);
    assert(version_out != NULL);

    *version_out = 0;
    status = registry_check_name(name, err);
    if (status != LN_OK)
        return status;

    /* Without a transaction each query reads its own snapshot, so a read transaction groups them. */
    status = registry_exec(registry, "BEGIN", err);
    if (status != LN_OK)
        return status;

    status = find_rollback(registry, name, &current, version_out, err);
    registry_exec(registry, "COMMIT", NULL);
    return status;
}
