/*
 * Tests of the model registry: versions, the content-addressed model store,
 * listing, promotion, rollback, the audit log and errors for bad input and
 * unusable files. Each test works in its own temporary folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <xxhash.h>

#include "lanner/registry.h"

/* ---- fixture ---- */

typedef struct fixture {
    char dir[64];
    char db_path[128];
    char model_a[128]; /* "model A" bytes */
    char model_b[128]; /* "model B" bytes */
    ln_registry *registry;
} fixture;

static const char model_a_bytes[] = "lanner model A\n\x01\x02\x03 trees";
static const char model_b_bytes[] = "lanner model B\n\x04\x05\x06 more trees";

static void write_file(const char *path, const void *bytes, size_t length)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(bytes, 1, length, file), length);
    assert_int_equal(fclose(file), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    ln_error err = {0};

    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lanner-registry-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->db_path, sizeof f->db_path, "%s/lanner.db", f->dir);
    snprintf(f->model_a, sizeof f->model_a, "%s/a.lnr", f->dir);
    snprintf(f->model_b, sizeof f->model_b, "%s/b.lnr", f->dir);
    write_file(f->model_a, model_a_bytes, sizeof model_a_bytes - 1);
    write_file(f->model_b, model_b_bytes, sizeof model_b_bytes - 1);
    setenv("USER", "tester", 1);

    if (ln_registry_open(f->db_path, &f->registry, &err) != LN_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int remove_entry(const char *path, const struct stat *info, int flag, struct FTW *ftw)
{
    (void)info;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;

    ln_registry_close(f->registry);
    chmod(f->dir, 0700);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static ln_registration registration_of(const char *name, const char *model_path)
{
    ln_registration r = {
        .name = name,
        .model_path = model_path,
        .metrics_json = "{\"auc\": 0.91, \"profit\": 1234.5}",
        .data_hash = "00ff00ff00ff00ff",
        .pipeline_hash = "abcdef0123456789",
        .contract_hash = NULL,
        .run_dir = "runs/2026-01-01",
        .lanner_version = "0.1.0-test",
    };
    return r;
}

static int register_model(fixture *f, const char *name, const char *model_path)
{
    ln_registration r = registration_of(name, model_path);
    ln_error err = {0};
    int version = -1;

    if (ln_registry_register(f->registry, &r, &version, &err) != LN_OK) {
        print_error("register %s: %s\n", name, err.message);
        fail();
    }
    return version;
}

static void promote(fixture *f, const char *name, int version)
{
    ln_error err = {0};

    if (ln_registry_promote(f->registry, name, version, "test", &err) != LN_OK) {
        print_error("promote %s %d: %s\n", name, version, err.message);
        fail();
    }
}

/* Hex of XXH3-128 in canonical (big-endian) byte order, computed in one shot. */
static void expected_hash(const void *bytes, size_t length, char hex[33])
{
    XXH128_canonical_t canonical;

    XXH128_canonicalFromHash(&canonical, XXH3_128bits(bytes, length));
    for (int i = 0; i < 16; i++)
        sprintf(hex + 2 * i, "%02x", canonical.digest[i]);
}

static void assert_file_content(const char *path, const char *bytes, size_t length)
{
    char buffer[256];
    FILE *file = fopen(path, "rb");
    size_t n;

    assert_non_null(file);
    n = fread(buffer, 1, sizeof buffer, file);
    fclose(file);
    assert_int_equal(n, length);
    assert_memory_equal(buffer, bytes, length);
}

static int count_stored_models(const fixture *f)
{
    char command[256];
    char models_dir[128];
    int count = 0;
    FILE *pipe;

    snprintf(models_dir, sizeof models_dir, "%s/models", f->dir);
    snprintf(command, sizeof command, "ls -A %s", models_dir);
    pipe = popen(command, "r");
    assert_non_null(pipe);
    while (fgets(command, sizeof command, pipe) != NULL)
        count++;
    pclose(pipe);
    return count;
}

static void assert_stage(fixture *f, const char *name, int version, const char *stage)
{
    ln_version_info info;
    ln_error err = {0};

    assert_int_equal(ln_registry_get(f->registry, name, version, &info, &err), LN_OK);
    assert_string_equal(info.stage, stage);
    ln_version_info_clear(&info);
}

static int production_version(fixture *f, const char *name)
{
    ln_version_info info;
    ln_error err = {0};
    int version;

    if (ln_registry_get(f->registry, name, 0, &info, &err) != LN_OK)
        return 0;
    version = info.version;
    ln_version_info_clear(&info);
    return version;
}

/* Records the (name, version) pairs a list call visits. */
typedef struct visited {
    char names[8][LN_REGISTRY_MAX_NAME + 1];
    int versions[8];
    int count;
    int stop_after;
} visited;

static int record_version(void *context, const ln_version_info *info)
{
    visited *v = context;

    if (v->count < 8) {
        memcpy(v->names[v->count], info->name, sizeof info->name);
        v->versions[v->count] = info->version;
    }
    v->count++;
    return v->stop_after > 0 && v->count >= v->stop_after;
}

typedef struct audit_rows {
    char actions[8][16];
    int versions[8];
    char users[8][257];
    char reasons[8][LN_REGISTRY_MAX_REASON_BYTES + 1];
    int count;
} audit_rows;

static int record_audit(void *context, const ln_audit_entry *entry)
{
    audit_rows *rows = context;

    if (rows->count < 8) {
        memcpy(rows->actions[rows->count], entry->action, sizeof entry->action);
        memcpy(rows->users[rows->count], entry->user, sizeof entry->user);
        memcpy(rows->reasons[rows->count], entry->reason, sizeof entry->reason);
        rows->versions[rows->count] = entry->version;
    }
    rows->count++;
    return 0;
}

/* ---- registration ---- */

static void register_twice_numbers_versions(void **state)
{
    fixture *f = *state;

    assert_int_equal(register_model(f, "fraud", f->model_a), 1);
    assert_int_equal(register_model(f, "fraud", f->model_b), 2);
    assert_int_equal(register_model(f, "churn", f->model_a), 1);
}

static void register_stores_content_addressed_copy(void **state)
{
    fixture *f = *state;
    ln_version_info info;
    ln_error err = {0};
    char hex[33];
    char expected_path[256];

    register_model(f, "fraud", f->model_a);
    expected_hash(model_a_bytes, sizeof model_a_bytes - 1, hex);
    snprintf(expected_path, sizeof expected_path, "%s/models/%s.lnr", f->dir, hex);

    assert_int_equal(ln_registry_get(f->registry, "fraud", 1, &info, &err), LN_OK);
    assert_string_equal(info.model_sha, hex);
    assert_string_equal(info.model_path, expected_path);
    assert_file_content(expected_path, model_a_bytes, sizeof model_a_bytes - 1);
    ln_version_info_clear(&info);
}

static void register_same_file_stored_once(void **state)
{
    fixture *f = *state;
    ln_version_info first;
    ln_version_info second;
    ln_error err = {0};

    register_model(f, "fraud", f->model_a);
    register_model(f, "fraud", f->model_a);
    register_model(f, "other", f->model_a);

    assert_int_equal(count_stored_models(f), 1);
    assert_int_equal(ln_registry_get(f->registry, "fraud", 1, &first, &err), LN_OK);
    assert_int_equal(ln_registry_get(f->registry, "fraud", 2, &second, &err), LN_OK);
    assert_string_equal(first.model_path, second.model_path);
    ln_version_info_clear(&first);
    ln_version_info_clear(&second);

    register_model(f, "fraud", f->model_b);
    assert_int_equal(count_stored_models(f), 2);
}

static void register_repairs_damaged_stored_copy(void **state)
{
    fixture *f = *state;
    ln_version_info info;
    ln_error err = {0};

    register_model(f, "fraud", f->model_a);
    assert_int_equal(ln_registry_get(f->registry, "fraud", 1, &info, &err), LN_OK);
    write_file(info.model_path, "garbage", 7);

    register_model(f, "fraud", f->model_a);
    assert_file_content(info.model_path, model_a_bytes, sizeof model_a_bytes - 1);
    ln_version_info_clear(&info);
}

static void get_returns_registered_fields(void **state)
{
    fixture *f = *state;
    ln_registration r = registration_of("fraud", f->model_a);
    ln_version_info info;
    ln_error err = {0};

    r.contract_hash = "c0ffee";
    assert_int_equal(ln_registry_register(f->registry, &r, NULL, &err), LN_OK);

    assert_int_equal(ln_registry_get(f->registry, "fraud", 1, &info, &err), LN_OK);
    assert_string_equal(info.name, "fraud");
    assert_int_equal(info.version, 1);
    assert_string_equal(info.stage, "candidate");
    assert_string_equal(info.metrics_json, "{\"auc\": 0.91, \"profit\": 1234.5}");
    assert_string_equal(info.data_hash, "00ff00ff00ff00ff");
    assert_string_equal(info.pipeline_hash, "abcdef0123456789");
    assert_string_equal(info.contract_hash, "c0ffee");
    assert_string_equal(info.run_dir, "runs/2026-01-01");
    assert_string_equal(info.lanner_version, "0.1.0-test");
    assert_int_equal(info.parent_version, 0);
    /* "YYYY-MM-DDTHH:MM:SSZ" */
    assert_int_equal(strlen(info.created_at), 20);
    assert_int_equal(info.created_at[10], 'T');
    assert_int_equal(info.created_at[19], 'Z');
    ln_version_info_clear(&info);
}

static void register_sets_parent_to_production(void **state)
{
    fixture *f = *state;
    ln_version_info info;
    ln_error err = {0};

    register_model(f, "fraud", f->model_a);
    promote(f, "fraud", 1);
    register_model(f, "fraud", f->model_b);

    assert_int_equal(ln_registry_get(f->registry, "fraud", 2, &info, &err), LN_OK);
    assert_int_equal(info.parent_version, 1);
    assert_string_equal(info.stage, "candidate");
    ln_version_info_clear(&info);
}

static void get_missing_versions_not_found(void **state)
{
    fixture *f = *state;
    ln_version_info info;
    ln_error err = {0};

    assert_int_equal(ln_registry_get(f->registry, "fraud", 1, &info, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "model 'fraud' is not in registry"));
    assert_null(info.metrics_json);

    register_model(f, "fraud", f->model_a);
    assert_int_equal(ln_registry_get(f->registry, "fraud", 0, &info, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "no production version"));
    assert_int_equal(ln_registry_get(f->registry, "fraud", 2, &info, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "version 2 of model 'fraud' not found"));
    assert_int_equal(ln_registry_get(f->registry, "fraud", -1, &info, &err), LN_ERR_CONFIG);
}

static void list_visits_newest_first(void **state)
{
    fixture *f = *state;
    visited all = {0};
    visited fraud = {0};
    visited first_only = {.stop_after = 1};
    ln_error err = {0};

    register_model(f, "fraud", f->model_a);
    register_model(f, "churn", f->model_a);
    register_model(f, "fraud", f->model_b);

    assert_int_equal(ln_registry_list(f->registry, NULL, record_version, &all, &err), LN_OK);
    assert_int_equal(all.count, 3);
    assert_string_equal(all.names[0], "fraud");
    assert_int_equal(all.versions[0], 2);
    assert_string_equal(all.names[1], "churn");
    assert_int_equal(all.versions[1], 1);
    assert_string_equal(all.names[2], "fraud");
    assert_int_equal(all.versions[2], 1);

    assert_int_equal(ln_registry_list(f->registry, "fraud", record_version, &fraud, &err), LN_OK);
    assert_int_equal(fraud.count, 2);
    assert_int_equal(fraud.versions[0], 2);
    assert_int_equal(fraud.versions[1], 1);

    assert_int_equal(ln_registry_list(f->registry, NULL, record_version, &first_only, &err), LN_OK);
    assert_int_equal(first_only.count, 1);

    assert_int_equal(ln_registry_list(f->registry, "missing", record_version, &fraud, &err),
                     LN_ERR_NOT_FOUND);
}

static void list_empty_registry_visits_nothing(void **state)
{
    fixture *f = *state;
    visited all = {0};
    ln_error err = {0};

    assert_int_equal(ln_registry_list(f->registry, NULL, record_version, &all, &err), LN_OK);
    assert_int_equal(all.count, 0);
}

/* ---- promotion and rollback ---- */

static void promote_archives_previous_production(void **state)
{
    fixture *f = *state;
    audit_rows rows = {0};
    ln_error err = {0};

    register_model(f, "fraud", f->model_a);
    register_model(f, "fraud", f->model_b);
    assert_int_equal(ln_registry_promote(f->registry, "fraud", 1, "first model", &err), LN_OK);
    assert_int_equal(ln_registry_promote(f->registry, "fraud", 2, "beats v1", &err), LN_OK);

    assert_stage(f, "fraud", 1, "archived");
    assert_stage(f, "fraud", 2, "production");
    assert_int_equal(production_version(f, "fraud"), 2);

    assert_int_equal(ln_registry_history(f->registry, "fraud", record_audit, &rows, &err), LN_OK);
    assert_int_equal(rows.count, 4);
    assert_string_equal(rows.actions[0], "promote");
    assert_int_equal(rows.versions[0], 2);
    assert_string_equal(rows.reasons[0], "beats v1");
    assert_string_equal(rows.users[0], "tester");
    assert_string_equal(rows.actions[1], "promote");
    assert_int_equal(rows.versions[1], 1);
    assert_string_equal(rows.reasons[1], "first model");
    assert_string_equal(rows.actions[2], "register");
    assert_int_equal(rows.versions[2], 2);
    assert_string_equal(rows.actions[3], "register");
    assert_int_equal(rows.versions[3], 1);
}

static void audit_names_account_without_user_variable(void **state)
{
    fixture *f = *state;
    audit_rows rows = {0};
    ln_error err = {0};
    char saved[256];
    const char *user = getenv("USER");

    /* Cron jobs run without $USER; the audit used to record "unknown" for them. */
    snprintf(saved, sizeof saved, "%s", user ? user : "");
    unsetenv("USER");
    register_model(f, "fraud", f->model_a);
    assert_int_equal(ln_registry_promote(f->registry, "fraud", 1, "no user variable", &err), LN_OK);
    if (saved[0] != '\0')
        setenv("USER", saved, 1);

    assert_int_equal(ln_registry_history(f->registry, "fraud", record_audit, &rows, &err), LN_OK);
    assert_string_equal(rows.users[0], getpwuid(geteuid())->pw_name);
}

static void promote_rejects_bad_requests(void **state)
{
    fixture *f = *state;
    ln_error err = {0};

    assert_int_equal(ln_registry_promote(f->registry, "fraud", 1, NULL, &err), LN_ERR_NOT_FOUND);
    register_model(f, "fraud", f->model_a);
    assert_int_equal(ln_registry_promote(f->registry, "fraud", 2, NULL, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "latest is 1"));
    assert_int_equal(ln_registry_promote(f->registry, "fraud", 0, NULL, &err), LN_ERR_CONFIG);
    promote(f, "fraud", 1);
    assert_int_equal(ln_registry_promote(f->registry, "fraud", 1, NULL, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "already in production"));
}

static void rollback_restores_in_reverse_order(void **state)
{
    fixture *f = *state;
    audit_rows rows = {0};
    ln_error err = {0};

    for (int i = 0; i < 3; i++)
        register_model(f, "fraud", i % 2 == 0 ? f->model_a : f->model_b);
    promote(f, "fraud", 1);
    promote(f, "fraud", 2);
    promote(f, "fraud", 3);

    assert_int_equal(ln_registry_rollback(f->registry, "fraud", "v3 loses money", &err), LN_OK);
    assert_int_equal(production_version(f, "fraud"), 2);
    assert_stage(f, "fraud", 3, "archived");
    assert_stage(f, "fraud", 1, "archived");

    assert_int_equal(ln_registry_rollback(f->registry, "fraud", NULL, &err), LN_OK);
    assert_int_equal(production_version(f, "fraud"), 1);
    assert_stage(f, "fraud", 2, "archived");

    assert_int_equal(ln_registry_rollback(f->registry, "fraud", NULL, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "no earlier production version"));
    assert_int_equal(production_version(f, "fraud"), 1);

    assert_int_equal(ln_registry_history(f->registry, "fraud", record_audit, &rows, &err), LN_OK);
    assert_string_equal(rows.actions[0], "rollback");
    assert_int_equal(rows.versions[0], 1);
    assert_string_equal(rows.actions[1], "rollback");
    assert_int_equal(rows.versions[1], 2);
    assert_string_equal(rows.reasons[1], "v3 loses money");
}

static void rollback_after_repromotion(void **state)
{
    fixture *f = *state;
    ln_error err = {0};

    register_model(f, "fraud", f->model_a);
    register_model(f, "fraud", f->model_b);
    register_model(f, "fraud", f->model_a);
    promote(f, "fraud", 1);
    promote(f, "fraud", 2);
    promote(f, "fraud", 1);
    promote(f, "fraud", 3);

    /* Stack of promotions: 1, 2, 1, 3. */
    assert_int_equal(ln_registry_rollback(f->registry, "fraud", NULL, &err), LN_OK);
    assert_int_equal(production_version(f, "fraud"), 1);
    assert_int_equal(ln_registry_rollback(f->registry, "fraud", NULL, &err), LN_OK);
    assert_int_equal(production_version(f, "fraud"), 2);

    /* A promotion after rollbacks pushes onto the shortened stack 1, 2. */
    promote(f, "fraud", 3);
    assert_int_equal(ln_registry_rollback(f->registry, "fraud", NULL, &err), LN_OK);
    assert_int_equal(production_version(f, "fraud"), 2);
    assert_int_equal(ln_registry_rollback(f->registry, "fraud", NULL, &err), LN_OK);
    assert_int_equal(production_version(f, "fraud"), 1);
    assert_int_equal(ln_registry_rollback(f->registry, "fraud", NULL, &err), LN_ERR_NOT_FOUND);
}

static void rollback_without_production_not_found(void **state)
{
    fixture *f = *state;
    ln_error err = {0};

    assert_int_equal(ln_registry_rollback(f->registry, "fraud", NULL, &err), LN_ERR_NOT_FOUND);
    register_model(f, "fraud", f->model_a);
    assert_int_equal(ln_registry_rollback(f->registry, "fraud", NULL, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "no production version"));
}

static int count_audit_rows(fixture *f, const char *name)
{
    audit_rows rows = {0};
    ln_error err = {0};

    assert_int_equal(ln_registry_history(f->registry, name, record_audit, &rows, &err), LN_OK);
    return rows.count;
}

static void rollback_target_predicts_rollback(void **state)
{
    fixture *f = *state;
    ln_error err = {0};
    int target = -1;

    for (int i = 0; i < 3; i++)
        register_model(f, "fraud", i % 2 == 0 ? f->model_a : f->model_b);
    promote(f, "fraud", 1);
    promote(f, "fraud", 3);
    promote(f, "fraud", 2);

    /* Stack of promotions: 1, 3, 2. Asking twice changes nothing. */
    assert_int_equal(ln_registry_rollback_target(f->registry, "fraud", &target, &err), LN_OK);
    assert_int_equal(target, 3);
    assert_int_equal(ln_registry_rollback_target(f->registry, "fraud", &target, &err), LN_OK);
    assert_int_equal(target, 3);
    assert_int_equal(production_version(f, "fraud"), 2);
    assert_int_equal(count_audit_rows(f, "fraud"), 6);

    assert_int_equal(ln_registry_rollback(f->registry, "fraud", NULL, &err), LN_OK);
    assert_int_equal(production_version(f, "fraud"), 3);
    assert_int_equal(ln_registry_rollback_target(f->registry, "fraud", &target, &err), LN_OK);
    assert_int_equal(target, 1);
}

static void rollback_target_without_earlier_not_found(void **state)
{
    fixture *f = *state;
    ln_error err = {0};
    int target = -1;

    assert_int_equal(ln_registry_rollback_target(f->registry, "fraud", &target, &err), LN_ERR_NOT_FOUND);
    assert_int_equal(target, 0);
    assert_non_null(strstr(err.message, "not in registry"));

    register_model(f, "fraud", f->model_a);
    assert_int_equal(ln_registry_rollback_target(f->registry, "fraud", &target, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "no production version"));

    promote(f, "fraud", 1);
    target = -1;
    assert_int_equal(ln_registry_rollback_target(f->registry, "fraud", &target, &err), LN_ERR_NOT_FOUND);
    assert_int_equal(target, 0);
    assert_non_null(strstr(err.message, "no earlier production version"));

    assert_int_equal(ln_registry_rollback_target(f->registry, "bad name", &target, &err), LN_ERR_CONFIG);
}

typedef struct model_rows {
    ln_model_summary rows[4];
    int count;
    int stop_after;
} model_rows;

static int record_model(void *context, const ln_model_summary *summary)
{
    model_rows *m = context;

    if (m->count < 4)
        m->rows[m->count] = *summary;
    m->count++;
    return m->stop_after > 0 && m->count >= m->stop_after;
}

static void models_summarise_each_model(void **state)
{
    fixture *f = *state;
    model_rows m = {0};
    ln_error err = {0};

    register_model(f, "zeta", f->model_a);
    register_model(f, "alpha", f->model_a);
    register_model(f, "zeta", f->model_b);
    register_model(f, "zeta", f->model_a);
    promote(f, "zeta", 2);

    assert_int_equal(ln_registry_models(f->registry, record_model, &m, &err), LN_OK);
    assert_int_equal(m.count, 2);
    assert_string_equal(m.rows[0].name, "alpha");
    assert_int_equal(m.rows[0].n_versions, 1);
    assert_int_equal(m.rows[0].newest_version, 1);
    assert_int_equal(m.rows[0].production_version, 0);
    assert_string_equal(m.rows[1].name, "zeta");
    assert_int_equal(m.rows[1].n_versions, 3);
    assert_int_equal(m.rows[1].newest_version, 3);
    assert_int_equal(m.rows[1].production_version, 2);
}

static void models_stop_and_empty(void **state)
{
    fixture *f = *state;
    model_rows m = {0};
    ln_error err = {0};

    assert_int_equal(ln_registry_models(f->registry, record_model, &m, &err), LN_OK);
    assert_int_equal(m.count, 0);

    register_model(f, "a", f->model_a);
    register_model(f, "b", f->model_a);
    m.stop_after = 1;
    assert_int_equal(ln_registry_models(f->registry, record_model, &m, &err), LN_OK);
    assert_int_equal(m.count, 1);
    assert_string_equal(m.rows[0].name, "a");
}

/* ---- stored model files ---- */

static void verify_model_accepts_intact_copy(void **state)
{
    fixture *f = *state;
    ln_version_info info;
    ln_error err = {0};

    register_model(f, "fraud", f->model_a);
    assert_int_equal(ln_registry_get(f->registry, "fraud", 1, &info, &err), LN_OK);
    assert_int_equal(ln_registry_verify_model(&info, &err), LN_OK);
    ln_version_info_clear(&info);
}

static void verify_model_rejects_truncated_copy(void **state)
{
    fixture *f = *state;
    ln_version_info info;
    ln_error err = {0};
    char hex[33];

    register_model(f, "fraud", f->model_a);
    assert_int_equal(ln_registry_get(f->registry, "fraud", 1, &info, &err), LN_OK);
    assert_int_equal(truncate(info.model_path, 5), 0);

    assert_int_equal(ln_registry_verify_model(&info, &err), LN_ERR_CORRUPT);
    assert_non_null(strstr(err.message, info.model_path));
    assert_non_null(strstr(err.message, "damaged"));
    expected_hash(model_a_bytes, 5, hex);
    assert_non_null(strstr(err.message, hex));
    ln_version_info_clear(&info);
}

static void verify_model_rejects_missing_copy(void **state)
{
    fixture *f = *state;
    ln_version_info info;
    ln_error err = {0};

    register_model(f, "fraud", f->model_a);
    assert_int_equal(ln_registry_get(f->registry, "fraud", 1, &info, &err), LN_OK);
    assert_int_equal(unlink(info.model_path), 0);

    assert_int_equal(ln_registry_verify_model(&info, &err), LN_ERR_CORRUPT);
    assert_non_null(strstr(err.message, "missing"));
    assert_non_null(strstr(err.message, info.model_path));
    ln_version_info_clear(&info);
}

/* ---- invalid input ---- */

static void invalid_names_rejected(void **state)
{
    fixture *f = *state;
    const char *bad[] = {"", "has space", "a/b", "../x", "naïve", "semi;colon"};
    char long_name[LN_REGISTRY_MAX_NAME + 2];
    ln_error err = {0};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ln_registration r = registration_of(bad[i], f->model_a);
        if (ln_registry_register(f->registry, &r, NULL, &err) != LN_ERR_CONFIG) {
            print_error("name '%s' was accepted\n", bad[i]);
            fail();
        }
    }
    assert_non_null(strstr(err.message, "model name"));

    memset(long_name, 'x', sizeof long_name);
    long_name[LN_REGISTRY_MAX_NAME + 1] = '\0';
    {
        ln_registration r = registration_of(long_name, f->model_a);
        assert_int_equal(ln_registry_register(f->registry, &r, NULL, &err), LN_ERR_CONFIG);
    }
    long_name[LN_REGISTRY_MAX_NAME] = '\0';
    assert_int_equal(register_model(f, long_name, f->model_a), 1);
    assert_int_equal(register_model(f, "Fraud-v2.final_1", f->model_a), 1);
    assert_int_equal(count_stored_models(f), 1);
}

static void invalid_registration_fields_rejected(void **state)
{
    fixture *f = *state;
    ln_registration r;
    ln_error err = {0};
    char missing_path[160];

    r = registration_of("fraud", f->model_a);
    r.metrics_json = "{\"auc\": ";
    assert_int_equal(ln_registry_register(f->registry, &r, NULL, &err), LN_ERR_PARSE);

    r = registration_of("fraud", f->model_a);
    r.data_hash = "not-hex";
    assert_int_equal(ln_registry_register(f->registry, &r, NULL, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "data_hash"));

    r = registration_of("fraud", f->model_a);
    r.pipeline_hash = NULL;
    assert_int_equal(ln_registry_register(f->registry, &r, NULL, &err), LN_ERR_CONFIG);

    r = registration_of("fraud", f->model_a);
    r.lanner_version = "0.1.0-with-a-very-long-suffix-of-40-bytes";
    assert_int_equal(ln_registry_register(f->registry, &r, NULL, &err), LN_ERR_CONFIG);

    snprintf(missing_path, sizeof missing_path, "%s/missing.lnr", f->dir);
    r = registration_of("fraud", missing_path);
    assert_int_equal(ln_registry_register(f->registry, &r, NULL, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, missing_path));

    r = registration_of("fraud", f->dir);
    assert_int_equal(ln_registry_register(f->registry, &r, NULL, &err), LN_ERR_IO);

    /* Nothing was recorded by the failed attempts. */
    assert_int_equal(register_model(f, "fraud", f->model_a), 1);
}

/* ---- concurrency ---- */

#define N_WRITERS 3
#define VERSIONS_PER_WRITER 8

/* Registers VERSIONS_PER_WRITER versions through its own handle; returns 0 on success. */
static int register_from_process(const char *db_path, const char *model_path)
{
    ln_registry *registry = NULL;
    ln_error err = {0};

    if (ln_registry_open(db_path, &registry, &err) != LN_OK)
        return 1;
    for (int i = 0; i < VERSIONS_PER_WRITER; i++) {
        ln_registration r = registration_of("fraud", model_path);
        if (ln_registry_register(registry, &r, NULL, &err) != LN_OK) {
            fprintf(stderr, "writer %d: %s\n", (int)getpid(), err.message);
            ln_registry_close(registry);
            return 2;
        }
    }
    ln_registry_close(registry);
    return 0;
}

static void concurrent_writers_get_distinct_versions(void **state)
{
    fixture *f = *state;
    pid_t children[N_WRITERS];
    visited all = {0};
    ln_error err = {0};

    /* A child must not use a connection opened before fork(), so close it. */
    ln_registry_close(f->registry);
    f->registry = NULL;

    for (int i = 0; i < N_WRITERS; i++) {
        children[i] = fork();
        assert_true(children[i] >= 0);
        if (children[i] == 0)
            _exit(register_from_process(f->db_path, i % 2 == 0 ? f->model_a : f->model_b));
    }
    for (int i = 0; i < N_WRITERS; i++) {
        int child_status = 0;
        assert_int_equal(waitpid(children[i], &child_status, 0), children[i]);
        assert_true(WIFEXITED(child_status));
        assert_int_equal(WEXITSTATUS(child_status), 0);
    }

    assert_int_equal(ln_registry_open(f->db_path, &f->registry, &err), LN_OK);
    assert_int_equal(ln_registry_list(f->registry, "fraud", record_version, &all, &err), LN_OK);
    assert_int_equal(all.count, N_WRITERS * VERSIONS_PER_WRITER);
    /* Newest first and gap-free, so the first eight are the highest numbers. */
    for (int i = 0; i < 8; i++)
        assert_int_equal(all.versions[i], N_WRITERS * VERSIONS_PER_WRITER - i);
    assert_int_equal(count_stored_models(f), 2);
}

/* ---- files ---- */

static void relative_path_stores_models_beside_database(void **state)
{
    fixture *f = *state;
    ln_registry *relative = NULL;
    ln_version_info info;
    ln_error err = {0};
    char previous_dir[4096];
    char hex[33];
    char expected_path[64];
    ln_registration r = registration_of("fraud", "a.lnr");

    assert_non_null(getcwd(previous_dir, sizeof previous_dir));
    assert_int_equal(chdir(f->dir), 0);

    assert_int_equal(ln_registry_open("relative.db", &relative, &err), LN_OK);
    assert_int_equal(ln_registry_register(relative, &r, NULL, &err), LN_OK);
    assert_int_equal(ln_registry_get(relative, "fraud", 1, &info, &err), LN_OK);
    ln_registry_close(relative);
    assert_int_equal(chdir(previous_dir), 0);

    expected_hash(model_a_bytes, sizeof model_a_bytes - 1, hex);
    snprintf(expected_path, sizeof expected_path, "models/%s.lnr", hex);
    assert_string_equal(info.model_path, expected_path);
    ln_version_info_clear(&info);
}


static void reopen_keeps_versions(void **state)
{
    fixture *f = *state;
    ln_error err = {0};

    register_model(f, "fraud", f->model_a);
    promote(f, "fraud", 1);
    ln_registry_close(f->registry);
    f->registry = NULL;

    assert_int_equal(ln_registry_open(f->db_path, &f->registry, &err), LN_OK);
    assert_int_equal(production_version(f, "fraud"), 1);
    assert_int_equal(register_model(f, "fraud", f->model_b), 2);
}

static void open_uses_wal_and_schema_version(void **state)
{
    fixture *f = *state;
    sqlite3 *db = NULL;
    sqlite3_stmt *statement = NULL;

    assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &statement, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(statement, 0), "wal");
    sqlite3_finalize(statement);

    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1,
                                        &statement, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(statement), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(statement, 0), LN_REGISTRY_SCHEMA_VERSION);
    sqlite3_finalize(statement);
    sqlite3_close(db);
}

static void open_newer_schema_rejected(void **state)
{
    fixture *f = *state;
    ln_registry *other = NULL;
    ln_error err = {0};
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(ln_registry_open(f->db_path, &other, &err), LN_ERR_CONFIG);
    assert_null(other);
    assert_non_null(strstr(err.message, "newer lanner"));
}

static void open_non_sqlite_file_is_corrupt(void **state)
{
    fixture *f = *state;
    char path[160];
    char garbage[4096];
    ln_registry *other = NULL;
    ln_error err = {0};

    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)("not a database "[i % 15]);
    snprintf(path, sizeof path, "%s/orders.csv", f->dir);
    write_file(path, garbage, sizeof garbage);

    assert_int_equal(ln_registry_open(path, &other, &err), LN_ERR_CORRUPT);
    assert_null(other);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "not a valid SQLite database"));
    assert_non_null(strstr(err.message, "file is not a database"));
}

static void open_other_sqlite_database_is_corrupt(void **state)
{
    fixture *f = *state;
    char path[160];
    ln_registry *other = NULL;
    ln_error err = {0};
    sqlite3 *db = NULL;

    snprintf(path, sizeof path, "%s/warehouse.db", f->dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE orders (id INTEGER)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(ln_registry_open(path, &other, &err), LN_ERR_CORRUPT);
    assert_non_null(strstr(err.message, "not a lanner registry"));
}

static void open_missing_folder_is_io_error(void **state)
{
    fixture *f = *state;
    char path[160];
    ln_registry *other = NULL;
    ln_error err = {0};

    snprintf(path, sizeof path, "%s/no/such/folder/lanner.db", f->dir);
    assert_int_equal(ln_registry_open(path, &other, &err), LN_ERR_IO);
    assert_null(other);
    assert_non_null(strstr(err.message, path));

    assert_int_equal(ln_registry_open(f->dir, &other, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "is a folder"));
}

/*
 * Runs the read-only checks; returns 0 when all pass, else the number of the
 * failed check. Used directly, or in a child process that gave up root
 * (root may write to read-only folders).
 */
static int check_read_only_folder(const char *dir)
{
    char fresh[160];
    char existing[160];
    ln_registry *registry = NULL;
    ln_error err = {0};

    snprintf(fresh, sizeof fresh, "%s/new.db", dir);
    if (ln_registry_open(fresh, &registry, &err) != LN_ERR_IO)
        return 1;
    if (strstr(err.message, fresh) == NULL || strstr(err.message, "unable to open") == NULL)
        return 2;

    snprintf(existing, sizeof existing, "%s/lanner.db", dir);
    if (ln_registry_open(existing, &registry, &err) == LN_OK) {
        ln_registry_close(registry);
        return 3;
    }
    if (strstr(err.message, existing) == NULL)
        return 4;
    if (getenv("LANNER_TEST_VERBOSE") != NULL)
        fprintf(stderr, "read-only folder: %s\n", err.message);
    return 0;
}

static void open_read_only_folder_is_io_error(void **state)
{
    fixture *f = *state;
    pid_t child;
    int child_status = 0;

    /* A closed registry leaves no -wal or -shm file, so reopening needs to create them. */
    ln_registry_close(f->registry);
    f->registry = NULL;
    assert_int_equal(chmod(f->dir, 0555), 0);

    if (geteuid() != 0) {
        assert_int_equal(check_read_only_folder(f->dir), 0);
        return;
    }

    /* The file itself stays writable for the child, so only the folder is read-only. */
    assert_int_equal(chown(f->db_path, 65534, 65534), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(100);
        _exit(check_read_only_folder(f->dir));
    }
    assert_int_equal(waitpid(child, &child_status, 0), child);
    assert_true(WIFEXITED(child_status));
    assert_int_equal(WEXITSTATUS(child_status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(register_twice_numbers_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(register_stores_content_addressed_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(register_same_file_stored_once, setup, teardown),
        cmocka_unit_test_setup_teardown(register_repairs_damaged_stored_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(get_returns_registered_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(register_sets_parent_to_production, setup, teardown),
        cmocka_unit_test_setup_teardown(get_missing_versions_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(list_visits_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(list_empty_registry_visits_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(promote_archives_previous_production, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_names_account_without_user_variable, setup, teardown),
        cmocka_unit_test_setup_teardown(promote_rejects_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(rollback_restores_in_reverse_order, setup, teardown),
        cmocka_unit_test_setup_teardown(rollback_after_repromotion, setup, teardown),
        cmocka_unit_test_setup_teardown(rollback_without_production_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(rollback_target_predicts_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(rollback_target_without_earlier_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(models_summarise_each_model, setup, teardown),
        cmocka_unit_test_setup_teardown(models_stop_and_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_model_accepts_intact_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_model_rejects_truncated_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_model_rejects_missing_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_names_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_registration_fields_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_writers_get_distinct_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(relative_path_stores_models_beside_database, setup, teardown),
        cmocka_unit_test_setup_teardown(reopen_keeps_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(open_uses_wal_and_schema_version, setup, teardown),
        cmocka_unit_test_setup_teardown(open_newer_schema_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(open_non_sqlite_file_is_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(open_other_sqlite_database_is_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(open_missing_folder_is_io_error, setup, teardown),
        cmocka_unit_test_setup_teardown(open_read_only_folder_is_io_error, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
