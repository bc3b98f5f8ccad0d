/*
 * Writing the demo warehouse. Rows go into a temporary SQLite file beside the
 * target with journaling and syncing off, because a crash loses only that
 * temporary file. The file is then synced once and renamed over the target.
 */
#include "demo/demo_internal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char schema_sql[] =
    "PRAGMA journal_mode = OFF;"
    "PRAGMA synchronous = OFF;"
    "CREATE TABLE orders ("
    "  order_id INTEGER PRIMARY KEY,"
    "  created_at TEXT NOT NULL,"
    "  customer_email TEXT NOT NULL,"
    "  amount REAL NOT NULL,"
    "  billing_country TEXT NOT NULL,"
    "  shipping_country TEXT NOT NULL,"
    "  payment_method TEXT NOT NULL,"
    "  account_age_days INTEGER,"
    "  orders_last_24h INTEGER NOT NULL,"
    "  hour INTEGER NOT NULL,"
    "  device TEXT NOT NULL,"
    "  email_domain_free INTEGER NOT NULL,"
    "  is_fraud INTEGER NOT NULL);";

static const char insert_sql[] =
    "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

static ln_status sql_error(sqlite3 *db, const char *path, const char *step, ln_error *err)
{
    return ln_error_set(err, LN_ERR_SQL, "demo warehouse %s: %s failed: %s", path, step,
                        db != NULL ? sqlite3_errmsg(db) : "out of memory");
}

static ln_status insert_order(sqlite3_stmt *insert, uint64_t seed, const demo_order *order,
                              int64_t order_id)
{
    char created_at[32];
    char email[128];

    demo_format_time(order->second, created_at);
    demo_format_email(seed, order, email, sizeof email);

    sqlite3_bind_int64(insert, 1, order_id);
    sqlite3_bind_text(insert, 2, created_at, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 3, email, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(insert, 4, order->amount_cents / 100.0);
    sqlite3_bind_text(insert, 5, demo_country_code(order->billing), -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 6, demo_country_code(order->shipping), -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 7, demo_payment_name(order->payment), -1, SQLITE_STATIC);
    if (order->account_age >= 0)
        sqlite3_bind_int(insert, 8, order->account_age);
    else
        sqlite3_bind_null(insert, 8);
    sqlite3_bind_int(insert, 9, order->velocity);
    sqlite3_bind_int(insert, 10, (int)(order->second % 86400 / 3600));
    sqlite3_bind_text(insert, 11, demo_device_name(order->device), -1, SQLITE_STATIC);
    sqlite3_bind_int(insert, 12, order->free_domain);
    sqlite3_bind_int(insert, 13, order->is_fraud);

    int rc = sqlite3_step(insert);
    sqlite3_reset(insert);
    return rc == SQLITE_DONE ? LN_OK : LN_ERR_SQL;
}

/* Creates the table in the empty SQLite file at path and inserts every order in one transaction. */
static ln_status write_orders(const char *path, const demo_orders *orders, uint64_t seed, ln_error *err)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *insert = NULL;
    ln_status status = LN_OK;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        status = sql_error(db, path, "opening", err);
        goto done;
    }
    if (sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        status = sql_error(db, path, "creating the orders table", err);
        goto done;
    }
    if (sqlite3_prepare_v2(db, insert_sql, -1, &insert, NULL) != SQLITE_OK) {
        status = sql_error(db, path, "preparing the insert", err);
        goto done;
    }

    for (size_t i = 0; i < orders->n_orders; i++) {
        if (insert_order(insert, seed, &orders->orders[i], (int64_t)i + 1) != LN_OK) {
            status = sql_error(db, path, "inserting an order", err);
            goto done;
        }
    }

    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        status = sql_error(db, path, "committing", err);

done:
    sqlite3_finalize(insert);
    if (sqlite3_close(db) != SQLITE_OK && status == LN_OK)
        status = sql_error(db, path, "closing", err);
    return status;
}

static ln_status sync_file(const char *path, ln_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return ln_error_set(err, LN_ERR_IO, "demo warehouse %s: cannot reopen to sync: %s", path,
                            strerror(errno));
    rc = fsync(fd);
    close(fd);
    if (rc != 0)
        return ln_error_set(err, LN_ERR_IO, "demo warehouse %s: fsync failed: %s", path,
                            strerror(errno));
    return LN_OK;
}

/* Syncs the folder holding path, so the rename survives a crash. */
static void sync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd;

    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);

    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/*
 * Deletes the old database's side files: SQLite would otherwise replay a
 * leftover write-ahead log or rollback journal into the new file.
 */
static ln_status remove_side_files(const char *db_path, ln_error *err)
{
    static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
    char side[PATH_MAX + 16];

    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", db_path, suffixes[i]);
        if (unlink(side) != 0 && errno != ENOENT)
            return ln_error_set(err, LN_ERR_IO, "demo warehouse: cannot delete the stale %s: %s", side,
                                strerror(errno));
    }
    return LN_OK;
}

static ln_status check_options(const char *db_path, const ln_demo_options *options, ln_error *err)
{
    if (db_path == NULL || db_path[0] == '\0')
        return ln_error_set(err, LN_ERR_CONFIG, "demo warehouse path is empty");
    if (strlen(db_path) + 16 >= PATH_MAX)
        return ln_error_set(err, LN_ERR_CONFIG, "demo warehouse path is longer than %d bytes",
                            PATH_MAX - 17);
    if (options->n_orders == 0 || options->n_orders > LN_DEMO_MAX_ORDERS)
        return ln_error_set(err, LN_ERR_CONFIG,
                            "demo: %zu orders requested; use 1 to %u (LN_DEMO_MAX_ORDERS)",
                            options->n_orders, LN_DEMO_MAX_ORDERS);
    return LN_OK;
}

ln_status ln_demo_generate(const char *db_path, const ln_demo_options *options, ln_error *err)
{
    static const ln_demo_options defaults = LN_DEMO_OPTIONS_DEFAULT;
    char temp_path[PATH_MAX];
    demo_orders orders = {0};
    ln_status status;
    int fd;

    if (options == NULL)
        options = &defaults;
    status = check_options(db_path, options, err);
    if (status != LN_OK)
        return status;

    snprintf(temp_path, sizeof temp_path, "%s.tmp-XXXXXX", db_path);
    fd = mkstemp(temp_path);
    if (fd < 0)
        return ln_error_set(err, LN_ERR_IO,
                            "demo warehouse %s: cannot create a temporary file beside it: %s; check "
                            "that the folder exists and is writable",
                            db_path, strerror(errno));
    /* mkstemp creates the file with mode 0600, but a warehouse is ordinary shared data. */
    fchmod(fd, 0644);
    close(fd);

    status = demo_generate_orders(options, &orders, err);
    if (status == LN_OK)
        status = write_orders(temp_path, &orders, options->seed, err);
    free(orders.orders);

    if (status == LN_OK)
        status = sync_file(temp_path, err);
    if (status == LN_OK)
        status = remove_side_files(db_path, err);
    if (status == LN_OK && rename(temp_path, db_path) != 0)
        status = ln_error_set(err, LN_ERR_IO, "demo warehouse: cannot rename %s to %s: %s", temp_path,
                              db_path, strerror(errno));

    if (status != LN_OK) {
        unlink(temp_path);
        return status;
    }
    sync_parent(db_path);
    return LN_OK;
}
