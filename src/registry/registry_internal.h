/*
 * Internals shared by the registry's files: the handle, SQL helpers and the
 * content-addressed model store.
 */
#ifndef LANNER_REGISTRY_INTERNAL_H
#define LANNER_REGISTRY_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <sqlite3.h>

#include "lanner/registry.h"

struct ln_registry {
    sqlite3 *db;
    char path[PATH_MAX];       /* as given to ln_registry_open */
    char models_dir[PATH_MAX]; /* <folder of path>/models */
};

/* Fills err with status, the registry path, the failed step and SQLite's current message. */
ln_status registry_sql_error(ln_registry *registry, ln_status status, const char *step, ln_error *err);

/* Runs SQL without results (several statements allowed). */
ln_status registry_exec(ln_registry *registry, const char *sql, ln_error *err);

/* Prepares one statement. */
ln_status registry_prepare(ln_registry *registry, const char *sql, sqlite3_stmt **statement,
                           ln_error *err);

/* Starts a write transaction, taking the write lock at once (BEGIN IMMEDIATE). */
ln_status registry_begin(ln_registry *registry, ln_error *err);

/* Commits, or rolls back when status is not LN_OK; returns status or the commit's error. */
ln_status registry_finish(ln_registry *registry, ln_status status, ln_error *err);

/* Creates the schema or migrates it to LN_REGISTRY_SCHEMA_VERSION. */
ln_status registry_migrate(ln_registry *registry, ln_error *err);

/*
 * Stores the file at source as <models_dir>/<hash>.lnr unless a file with
 * that name and the same content is already there. Writes the 32 hex digits
 * of the XXH3-128 hash into hash_hex (33 bytes).
 */
ln_status registry_store_model(ln_registry *registry, const char *source, char hash_hex[33],
                               ln_error *err);

/* Computes the XXH3-128 hash of the file at path as 32 hex digits (canonical, big-endian). */
ln_status registry_hash_file(const char *path, char hash_hex[33], ln_error *err);

/* Checks a model name against [A-Za-z0-9._-]{1,LN_REGISTRY_MAX_NAME}; LN_ERR_CONFIG otherwise. */
ln_status registry_check_name(const char *name, ln_error *err);

/* Writes the current UTC time as "YYYY-MM-DDTHH:MM:SSZ" (at least 21 bytes). */
void registry_now_utc(char *buffer, size_t capacity);

#endif
