/*
 * The model registry: an SQLite file that records every registered model
 * version, which version of each model is in production, and an audit log of
 * who changed what.
 *
 *     ln_registry *registry = NULL;
 *     ln_error err = {0};
 *     int version = 0;
 *     if (ln_registry_open("lanner.db", &registry, &err) != LN_OK)
 *         return fail(&err);
 *     ln_registration reg = {
 *         .name = "fraud", .model_path = "run/model.lnr", .metrics_json = "{\"auc\":0.91}",
 *         .data_hash = data_hash, .pipeline_hash = pipeline_hash, .run_dir = "run",
 *     };
 *     if (ln_registry_register(registry, &reg, &version, &err) != LN_OK) ...
 *     if (ln_registry_promote(registry, "fraud", version, "beats the rule by 12%", &err) != LN_OK) ...
 *     ln_registry_close(registry);
 *
 * Layout on disk: the database (WAL mode) plus a `models` folder beside it,
 * where each model file is stored once under the XXH3-128 hash of its bytes,
 * `<folder of the database>/models/<32 hex digits>.lnr`. Registering the
 * same file twice stores it once.
 *
 * Each change (register, promote, rollback) is one `BEGIN IMMEDIATE`
 * transaction, so several processes may share a registry. A writer waits up
 * to LN_REGISTRY_BUSY_TIMEOUT_MS for another writer before failing with
 * LN_ERR_SQL.
 *
 * Stages: a new version is a "candidate"; promote makes it "production" and
 * the previous production version "archived". A model has at most one
 * production version. Rollback undoes promotions in reverse order, like
 * popping a stack, so promote 1, promote 2, promote 3, rollback, rollback
 * leaves version 1 in production.
 *
 * A registry handle is not thread-safe: use one handle per thread.
 */
#ifndef LANNER_REGISTRY_H
#define LANNER_REGISTRY_H

#include "lanner/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Milliseconds a change waits for another process's write lock. */
#define LN_REGISTRY_BUSY_TIMEOUT_MS 10000

/* Bytes in a model name; names match [A-Za-z0-9._-]{1,LN_REGISTRY_MAX_NAME}. */
#define LN_REGISTRY_MAX_NAME 128

/* Bytes in the metrics JSON of one version. */
#define LN_REGISTRY_MAX_METRICS_BYTES (16u << 20)

/* Bytes in an audit reason. */
#define LN_REGISTRY_MAX_REASON_BYTES 4096

/* The schema version this build writes; older registries are migrated on open. */
#define LN_REGISTRY_SCHEMA_VERSION 1

typedef struct ln_registry ln_registry;

/*
 * Opens the registry database at path, creating the file and its schema when
 * absent and migrating an older schema. Stores a handle in *out, which the
 * caller closes with ln_registry_close.
 *
 * Errors (each message names the path and SQLite's message):
 *   LN_ERR_IO      the file cannot be created or opened for writing, for
 *                  example in a missing or read-only folder
 *   LN_ERR_CORRUPT the file is not an SQLite database, or is one without the
 *                  registry's tables
 *   LN_ERR_CONFIG  a newer lanner wrote the schema, or path is empty or a folder
 *   LN_ERR_SQL     any other SQLite failure
 *
 * NOTE: opening always needs write access, even to only read, because WAL
 * mode creates -wal and -shm files beside the database. A registry on
 * read-only media cannot be opened.
 */
ln_status ln_registry_open(const char *path, ln_registry **out, ln_error *err);

/* Closes the handle; NULL is ignored. */
void ln_registry_close(ln_registry *registry);

/* Returns the database path given to ln_registry_open; the registry owns it. */
const char *ln_registry_path(const ln_registry *registry);

/* One version to register. Every field except contract_hash must be set. */
typedef struct ln_registration {
    const char *name;           /* model name, [A-Za-z0-9._-]{1,128} */
    const char *model_path;     /* model file to store; copied, never moved */
    const char *metrics_json;   /* valid JSON text, stored as given */
    const char *data_hash;      /* hex digits, at most 64 */
    const char *pipeline_hash;  /* hex digits, at most 64 */
    const char *contract_hash;  /* hex digits, at most 64; NULL or "" for none */
    const char *run_dir;        /* the run's output folder, at most 4095 bytes */
    const char *lanner_version; /* at most 31 bytes; NULL means this build's version */
} ln_registration;

/*
 * Copies the model file into the registry's models folder and records a new
 * version of registration->name: the next integer from 1, stage "candidate",
 * parent the current production version (if any), plus a "register" audit
 * row. Stores the new version number in *version_out (which may be NULL).
 *
 * The model file is stored before the database transaction. When the
 * transaction fails, the stored file stays behind, unreferenced but harmless
 * because its name is its content hash.
 *
 * Errors:
 *   LN_ERR_CONFIG    an invalid name, a missing field, a hash that is not
 *                    hex, or a field over its length
 *   LN_ERR_PARSE     metrics_json is not valid JSON
 *   LN_ERR_NOT_FOUND model_path does not exist
 *   LN_ERR_LIMIT     the model file is over LN_MAX_MODEL_BYTES, or
 *                    metrics_json over LN_REGISTRY_MAX_METRICS_BYTES
 *   LN_ERR_IO        reading the model file or writing its copy failed
 *   LN_ERR_SQL       the database write failed (also after waiting
 *                    LN_REGISTRY_BUSY_TIMEOUT_MS for another writer)
 */
ln_status ln_registry_register(ln_registry *registry, const ln_registration *registration,
                               int *version_out, ln_error *err);

/* One registered version, filled by ln_registry_get and ln_registry_list. */
typedef struct ln_version_info {
    char name[129];
    int version;
    char stage[16];          /* "candidate", "production" or "archived" */
    char model_sha[65];      /* XXH3-128 of the model file, 32 hex digits */
    char model_path[4096];   /* the stored copy: <folder of the database>/models/<model_sha>.lnr */
    char data_hash[65];
    char pipeline_hash[65];
    char contract_hash[65];  /* empty when none was given */
    char lanner_version[32];
    char run_dir[4096];
    int parent_version;      /* production version when this one was registered; 0 = none */
    char created_at[32];     /* UTC, "YYYY-MM-DDTHH:MM:SSZ" */
    char *metrics_json;      /* malloc'd; free with ln_version_info_clear */
} ln_version_info;

/* Frees info->metrics_json and zeroes info. NULL is ignored. */
void ln_version_info_clear(ln_version_info *info);

/*
 * Fills *out with the given version of name; version 0 means the production
 * version. The caller frees out's contents with ln_version_info_clear; on
 * error *out is zeroed and needs no clearing.
 *
 * Errors: LN_ERR_NOT_FOUND when the model, the version or (for version 0) a
 * production version does not exist; LN_ERR_CONFIG for a negative version;
 * LN_ERR_SQL for database failures.
 */
ln_status ln_registry_get(ln_registry *registry, const char *name, int version,
                          ln_version_info *out, ln_error *err);

/*
 * Calls visit for each version of name (of every model when name is NULL),
 * newest registration first. info is valid only during the call. A nonzero
 * return from visit stops the walk early and is not an error. visit must not
 * change the registry.
 *
 * Errors: LN_ERR_NOT_FOUND when name is given and has no versions;
 * LN_ERR_CORRUPT when a stored field is longer than its ln_version_info
 * field; LN_ERR_SQL for database failures.
 */
ln_status ln_registry_list(ln_registry *registry, const char *name,
                           int (*visit)(void *context, const ln_version_info *info),
                           void *context, ln_error *err);

/* One model's summary, filled by ln_registry_models. */
typedef struct ln_model_summary {
    char name[129];
    int n_versions;         /* registered versions */
    int newest_version;     /* highest version number */
    int production_version; /* 0 when no version is in production */
} ln_model_summary;

/*
 * Calls visit for each model in the registry, in byte order of name. summary
 * is valid only during the call; a nonzero return from visit stops the walk.
 * visit must not change the registry. An empty registry visits nothing and
 * is not an error.
 *
 * Errors: LN_ERR_CORRUPT when a stored name is longer than
 * LN_REGISTRY_MAX_NAME; LN_ERR_SQL for database failures.
 */
ln_status ln_registry_models(ln_registry *registry,
                             int (*visit)(void *context, const ln_model_summary *summary),
                             void *context, ln_error *err);

/*
 * Makes version of name the production version; the previous production
 * version becomes "archived". Writes a "promote" audit row with reason
 * (which may be NULL).
 *
 * Errors: LN_ERR_NOT_FOUND for an unknown model or version; LN_ERR_CONFIG when
 * the version already is in production or reason is over
 * LN_REGISTRY_MAX_REASON_BYTES; LN_ERR_SQL for database failures.
 */
ln_status ln_registry_promote(ln_registry *registry, const char *name, int version,
                              const char *reason, ln_error *err);

/*
 * Restores the production version that preceded the current one, as recorded
 * by the audit log, and archives the current one. Writes a "rollback" audit
 * row with reason (which may be NULL).
 *
 * Errors: LN_ERR_NOT_FOUND for an unknown model, or when the model has no
 * production version or no earlier one to return to; LN_ERR_SQL for
 * database failures.
 */
ln_status ln_registry_rollback(ln_registry *registry, const char *name, const char *reason,
                               ln_error *err);

/*
 * Stores in *version_out the version that ln_registry_rollback would restore
 * for name right now, without changing anything, so a caller can check that
 * version's model file first. Another process may change the registry before
 * the rollback itself runs, in which case the rollback restores what is then
 * below the top of the stack.
 *
 * Errors: the same as ln_registry_rollback (LN_ERR_NOT_FOUND when there is no
 * production version or nothing to return to, LN_ERR_CORRUPT when the audit
 * log and the stages disagree, LN_ERR_SQL).
 */
ln_status ln_registry_rollback_target(ln_registry *registry, const char *name, int *version_out,
                                      ln_error *err);

/*
 * Checks that the stored model file of a version, info->model_path as filled
 * by ln_registry_get or ln_registry_list, exists and that its XXH3-128 hash
 * still equals info->model_sha. It does not parse the model; load it with
 * ln_model_load for that.
 *
 * Errors: LN_ERR_CORRUPT when the file is missing, is not a regular file or
 * its content changed since registration (the message names the path and
 * both hashes); LN_ERR_IO when reading it failed.
 */
ln_status ln_registry_verify_model(const ln_version_info *info, ln_error *err);

/* One audit row, filled by ln_registry_history. */
typedef struct ln_audit_entry {
    long long id;            /* increases with each change */
    char time[32];           /* UTC, "YYYY-MM-DDTHH:MM:SSZ" */
    char user[257];          /* $USER of the process that made the change, or "unknown" */
    char action[16];         /* "register", "promote" or "rollback" */
    char name[129];
    int version;             /* registered, promoted or restored version */
    char reason[LN_REGISTRY_MAX_REASON_BYTES + 1]; /* empty when none was given */
} ln_audit_entry;

/*
 * Calls visit for each audit row of name (of every model when name is NULL),
 * newest first. entry is valid only during the call; a nonzero return from
 * visit stops the walk. visit must not change the registry.
 *
 * Errors: LN_ERR_NOT_FOUND when name is given and is not in the registry;
 * LN_ERR_CORRUPT when a stored field is longer than its ln_audit_entry field;
 * LN_ERR_SQL for database failures.
 */
ln_status ln_registry_history(ln_registry *registry, const char *name,
                              int (*visit)(void *context, const ln_audit_entry *entry),
                              void *context, ln_error *err);

#ifdef __cplusplus
}
#endif

#endif
