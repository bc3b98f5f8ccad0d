/*
 * Opening and closing a registry: connection settings, error reporting and
 * the schema with its append-only migrations.
 */
#include "registry/registry_internal.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/*
 * Migration i takes the schema from version i to version i + 1. Migrations
 * are only ever appended, so every registry can reach the newest schema from
 * whatever version it has.
 */
static const char *const migrations[] = {
    /* 0 -> 1: models, their versions and the audit log. */
    "CREATE TABLE models ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE versions ("
    "  name TEXT NOT NULL REFERENCES models(name),"
    "  version INTEGER NOT NULL CHECK (version >= 1),"
    "  stage TEXT NOT NULL CHECK (stage IN ('candidate', 'production', 'archived')),"
    "  model_sha TEXT NOT NULL,"
    "  model_path TEXT NOT NULL,"
    "  metrics_json TEXT NOT NULL,"
    "  data_hash TEXT NOT NULL,"
    "  pipeline_hash TEXT NOT NULL,"
    "  contract_hash TEXT,"
    "  lanner_version TEXT NOT NULL,"
    "  run_dir TEXT NOT NULL,"
    "  parent_version INTEGER,"
    "  created_at TEXT NOT NULL,"
    "  PRIMARY KEY (name, version));"
    "CREATE UNIQUE INDEX versions_one_production ON versions(name) WHERE stage = 'production';"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time TEXT NOT NULL,"
    "  user TEXT NOT NULL,"
    "  action TEXT NOT NULL CHECK (action IN ('register', 'promote', 'rollback')),"
    "  name TEXT NOT NULL,"
    "  version INTEGER,"
    "  reason TEXT);"
    "CREATE INDEX audit_by_name ON audit(name, id);",
};

#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

_Static_assert(N_MIGRATIONS == LN_REGISTRY_SCHEMA_VERSION,
               "LN_REGISTRY_SCHEMA_VERSION must equal the number of migrations");

ln_status registry_sql_error(ln_registry *registry, ln_status status, const char *step, ln_error *err)
{
    return ln_error_set(err, status, "registry %s: %s failed: %s", registry->path, step,
                        sqlite3_errmsg(registry->db));
}

ln_status registry_exec(ln_registry *registry, const char *sql, ln_error *err)
{
    char *message = NULL;
    int rc = sqlite3_exec(registry->db, sql, NULL, NULL, &message);

    if (rc == SQLITE_OK)
        return LN_OK;

    ln_error_set(err, LN_ERR_SQL, "registry %s: %s", registry->path,
                 message != NULL ? message : sqlite3_errstr(rc));
    sqlite3_free(message);
    return LN_ERR_SQL;
}

ln_status registry_prepare(ln_registry *registry, const char *sql, sqlite3_stmt **statement,
                           ln_error *err)
{
    if (sqlite3_prepare_v2(registry->db, sql, -1, statement, NULL) != SQLITE_OK)
        return registry_sql_error(registry, LN_ERR_SQL, "preparing a query", err);
    return LN_OK;
}

ln_status registry_begin(ln_registry *registry, ln_error *err)
{
    /* IMMEDIATE takes the write lock now, so two writers never both read
     * the same "next version" and then collide at commit. */
    if (sqlite3_exec(registry->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return registry_sql_error(registry, LN_ERR_SQL,
                                  "starting a write transaction (another process may hold the lock)",
                                  err);
    return LN_OK;
}

ln_status registry_finish(ln_registry *registry, ln_status status, ln_error *err)
{
    if (status != LN_OK) {
        sqlite3_exec(registry->db, "ROLLBACK", NULL, NULL, NULL);
        return status;
    }

    if (sqlite3_exec(registry->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        status = registry_sql_error(registry, LN_ERR_SQL, "committing", err);
        sqlite3_exec(registry->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return status;
}

void registry_now_utc(char *buffer, size_t capacity)
{
    time_t now = time(NULL);
    struct tm utc;

    assert(capacity >= 21);
    gmtime_r(&now, &utc);
    strftime(buffer, capacity, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

/* Runs the single-row query sql and stores the integer in its first column in *value. */
static ln_status query_integer(ln_registry *registry, const char *sql, long long *value,
                               ln_error *err)
{
    sqlite3_stmt *statement = NULL;
    ln_status status = registry_prepare(registry, sql, &statement, err);

    if (status != LN_OK)
        return status;

    if (sqlite3_step(statement) == SQLITE_ROW)
        *value = sqlite3_column_int64(statement, 0);
    else
        status = registry_sql_error(registry, LN_ERR_SQL, "reading the schema", err);

    sqlite3_finalize(statement);
    return status;
}

/*
 * Reads the schema version into *version: 0 for an empty database. A database
 * with tables but no meta table is someone else's database.
 */
static ln_status read_schema_version(ln_registry *registry, int *version, ln_error *err)
{
    long long has_meta = 0;
    long long n_tables = 0;
    long long value = 0;
    ln_status status;

    status = query_integer(
        registry, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
        &has_meta, err);
    if (status != LN_OK)
        return status;

    if (has_meta == 0) {
        status = query_integer(
            registry, "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
            &n_tables, err);
        if (status != LN_OK)
            return status;
        if (n_tables > 0)
            return ln_error_set(err, LN_ERR_CORRUPT,
                                "registry %s: the file is an SQLite database but not a lanner "
                                "registry (it has %lld tables and no meta table); give the path "
                                "of a registry, or a new file name to create one",
                                registry->path, n_tables);
        *version = 0;
        return LN_OK;
    }

    status = query_integer(registry,
                           "SELECT coalesce((SELECT CAST(value AS INTEGER) FROM meta "
                           "WHERE key = 'schema_version'), 0)",
                           &value, err);
    if (status != LN_OK)
        return status;
    if (value <= 0)
        return ln_error_set(err, LN_ERR_CORRUPT,
                            "registry %s: the meta table has no valid schema_version row",
                            registry->path);
    *version = (int)(value > INT_MAX ? INT_MAX : value);
    return LN_OK;
}

static ln_status apply_migrations(ln_registry *registry, int from, ln_error *err)
{
    char sql[128];

    if (from == 0) {
        ln_status status = registry_exec(
            registry, "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
            err);
        if (status != LN_OK)
            return status;
    }

    for (int i = from; i < N_MIGRATIONS; i++) {
        ln_status status = registry_exec(registry, migrations[i], err);
        if (status != LN_OK) {
            if (err != NULL)
                ln_error_prefix(err, "migrating the schema from version %d to %d", i, i + 1);
            return status;
        }
    }

    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', '%d')",
             N_MIGRATIONS);
    return registry_exec(registry, sql, err);
}

ln_status registry_migrate(ln_registry *registry, ln_error *err)
{
    int version = 0;
    ln_status status = read_schema_version(registry, &version, err);

    if (status != LN_OK)
        return status;
    if (version == N_MIGRATIONS)
        return LN_OK;

    /* Read again under the write lock: another process may have migrated
     * the schema between the first read and now. */
    status = registry_begin(registry, err);
    if (status != LN_OK)
        return status;

    status = read_schema_version(registry, &version, err);
    if (status == LN_OK && version > N_MIGRATIONS)
        status = ln_error_set(err, LN_ERR_CONFIG,
                              "registry %s: schema version %d was written by a newer lanner; this "
                              "build reads up to version %d, so upgrade lanner",
                              registry->path, version, N_MIGRATIONS);
    if (status == LN_OK && version < N_MIGRATIONS)
        status = apply_migrations(registry, version, err);

    return registry_finish(registry, status, err);
}

/* Sets registry->models_dir to <folder of path>/models. */
static ln_status set_models_dir(ln_registry *registry, ln_error *err)
{
    const char *slash = strrchr(registry->path, '/');
    int length;

    if (slash == NULL)
        length = snprintf(registry->models_dir, sizeof registry->models_dir, "models");
    else
        length = snprintf(registry->models_dir, sizeof registry->models_dir, "%.*s/models",
                          (int)(slash - registry->path), registry->path);

    if (length < 0 || (size_t)length >= sizeof registry->models_dir)
        return ln_error_set(err, LN_ERR_CONFIG, "registry path is too long: %s", registry->path);
    return LN_OK;
}

/* Maps the result of the first statement that reads the file to a status. */
static ln_status open_error(ln_registry *registry, int rc, ln_error *err)
{
    switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return ln_error_set(err, LN_ERR_CORRUPT,
                            "registry %s: the file is not a valid SQLite database (SQLite: %s); "
                            "give the path of a lanner registry, or a new file name to create one",
                            registry->path, sqlite3_errmsg(registry->db));
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_PERM:
        return ln_error_set(err, LN_ERR_IO,
                            "registry %s: cannot open for writing (SQLite: %s); check that the "
                            "folder exists and that you may write to it and to the file",
                            registry->path, sqlite3_errmsg(registry->db));
    default:
        return registry_sql_error(registry, LN_ERR_SQL, "opening", err);
    }
}

/* Switches to WAL mode; this is the first statement that reads the file. */
static ln_status enable_wal(ln_registry *registry, ln_error *err)
{
    sqlite3_stmt *statement = NULL;
    ln_status status = LN_OK;
    int rc;

    rc = sqlite3_prepare_v2(registry->db, "PRAGMA journal_mode = WAL", -1, &statement, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(statement);

    if (rc != SQLITE_ROW) {
        status = open_error(registry, rc, err);
    } else {
        const char *mode = (const char *)sqlite3_column_text(statement, 0);
        if (mode == NULL || strcmp(mode, "wal") != 0)
            status = ln_error_set(err, LN_ERR_IO,
                                  "registry %s: cannot switch to WAL mode (journal mode is %s); "
                                  "the file system may not support shared memory",
                                  registry->path, mode != NULL ? mode : "unknown");
    }

    sqlite3_finalize(statement);
    return status;
}

static ln_status connect(ln_registry *registry, ln_error *err)
{
    struct stat info;
    int rc;

    if (stat(registry->path, &info) == 0 && S_ISDIR(info.st_mode))
        return ln_error_set(err, LN_ERR_CONFIG,
                            "registry %s is a folder; give a database file such as %s/lanner.db",
                            registry->path, registry->path);

    rc = sqlite3_open_v2(registry->path, &registry->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                         NULL);
    if (registry->db == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "registry %s: out of memory opening SQLite",
                            registry->path);
    if (rc != SQLITE_OK)
        return open_error(registry, rc, err);

    /* SQLite silently falls back to read-only for a file it may not write.
     * Opening needs to write (WAL mode, migrations), so report it here. */
    if (sqlite3_db_readonly(registry->db, "main") == 1)
        return ln_error_set(err, LN_ERR_IO,
                            "registry %s: the file is read-only; check its permissions",
                            registry->path);

    sqlite3_extended_result_codes(registry->db, 1);
    sqlite3_busy_timeout(registry->db, LN_REGISTRY_BUSY_TIMEOUT_MS);

    ln_status status = enable_wal(registry, err);
    if (status != LN_OK)
        return status;

    return registry_exec(registry, "PRAGMA foreign_keys = ON", err);
}

ln_status ln_registry_open(const char *path, ln_registry **out, ln_error *err)
{
    ln_registry *registry;
    ln_status status;

    assert(out != NULL);
    *out = NULL;

    if (path == NULL || path[0] == '\0')
        return ln_error_set(err, LN_ERR_CONFIG, "registry path is empty");
    if (strlen(path) >= PATH_MAX)
        return ln_error_set(err, LN_ERR_CONFIG, "registry path is longer than %d bytes", PATH_MAX - 1);

    registry = calloc(1, sizeof *registry);
    if (registry == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory opening registry %s", path);
    memcpy(registry->path, path, strlen(path) + 1);

    status = set_models_dir(registry, err);
    if (status == LN_OK)
        status = connect(registry, err);
    if (status == LN_OK)
        status = registry_migrate(registry, err);

    if (status != LN_OK) {
        ln_registry_close(registry);
        return status;
    }

    *out = registry;
    return LN_OK;
}

void ln_registry_close(ln_registry *registry)
{
    if (registry == NULL)
        return;

    sqlite3_close_v2(registry->db);
    free(registry);
}

const char *ln_registry_path(const ln_registry *registry)
{
    return registry->path;
}
