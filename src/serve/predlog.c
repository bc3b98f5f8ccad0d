/*
 * The prediction log: request threads format a JSON line and push it onto a
 * bounded queue; one writer thread appends queued lines to
 * <dir>/predictions-<UTC start time>.jsonl and starts a new file after
 * max_file_bytes. A full queue drops the line and counts it, so a slow disk
 * never stalls a request.
 *
 * The writer wakes every WRITER_PERIOD_MS, or at once when WRITER_WAKE_LINES
 * lines are waiting: waking it for every line costs a futex wake and a
 * context switch per prediction, which measured as a fifth of the server's
 * CPU time under load.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lanner/io.h"
#include "lanner/log.h"
#include "serve/serve_internal.h"

/* Milliseconds the writer sleeps between batches when few lines arrive. */
#define WRITER_PERIOD_MS 50

/* Queued lines that wake the writer before its period ends. */
#define WRITER_WAKE_LINES 4096

struct serve_log {
    char *dir;
    size_t max_file_bytes;
    serve_metrics *metrics;

    pthread_mutex_t lock;
    pthread_cond_t wake;
    char **lines;          /* ring of LN_SERVE_LOG_QUEUE_ENTRIES lines */
    size_t *lengths;
    size_t head;           /* oldest queued line */
    size_t count;
    size_t queued_bytes;
    int stopping;
    pthread_t writer;

    /* Used by the writer thread only. */
    char **batch;
    size_t *batch_lengths;
    FILE *file;
    char path[4096];
    size_t file_bytes;
    uint64_t write_errors;
};

void serve_format_time_ms(int64_t time_ms, char *out, size_t capacity)
{
    time_t seconds = (time_t)(time_ms / 1000);
    struct tm tm;

    gmtime_r(&seconds, &tm);
    /* The year is clamped to four digits, so the text always has the same 24 characters. */
    int year = tm.tm_year + 1900;
    year = year < 0 ? 0 : year > 9999 ? 9999 : year;
    snprintf(out, capacity, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
             tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, (int)(time_ms % 1000));
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void serve_log_format(serve_buf *buf, const char *request_id, size_t index, int64_t time_ms, const char *model,
                      int version, const serve_request *request, double score, int flagged)
{
    char time_text[32];

    serve_format_time_ms(time_ms, time_text, sizeof time_text);
    serve_buf_puts(buf, "{\"request_id\":");
    serve_buf_json_string(buf, request_id);
    serve_buf_printf(buf, ",\"index\":%zu,\"time\":\"%s\",\"model\":", index, time_text);
    serve_buf_json_string(buf, model);
    serve_buf_printf(buf, ",\"version\":%d,\"features\":", version);
    serve_request_row_json(request, index, buf);
    serve_buf_puts(buf, ",\"score\":");
    serve_buf_json_number(buf, score);
    serve_buf_printf(buf, ",\"decision\":\"%s\"}\n", flagged ? "flag" : "pass");
}

/* Opens a new file named after the current time; adds -1, -2 ... when that name exists. */
static int open_next_file(serve_log *log)
{
    int64_t time_ms = now_ms();
    time_t seconds = (time_t)(time_ms / 1000);
    struct tm tm;
    char stamp[64];

    gmtime_r(&seconds, &tm);
    snprintf(stamp, sizeof stamp, "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(time_ms % 1000));
    for (int attempt = 0; attempt < 1000; attempt++) {
        if (attempt == 0)
            snprintf(log->path, sizeof log->path, "%s/predictions-%s.jsonl", log->dir, stamp);
        else
            snprintf(log->path, sizeof log->path, "%s/predictions-%s-%d.jsonl", log->dir, stamp, attempt);
        int fd = open(log->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0)
            break;
        log->file = fdopen(fd, "a");
        if (log->file == NULL) {
            close(fd);
            break;
        }
        log->file_bytes = 0;
        ln_log(LN_LOG_INFO, "writing predictions to %s", log->path);
        return 0;
    }
    ln_log(LN_LOG_ERROR, "cannot create a prediction log file in %s: %s", log->dir, strerror(errno));
    return -1;
}

static void close_file(serve_log *log)
{
    if (log->file == NULL)
        return;
    if (fflush(log->file) != 0 || fsync(fileno(log->file)) != 0)
        ln_log(LN_LOG_ERROR, "flushing prediction log %s failed: %s", log->path, strerror(errno));
    fclose(log->file);
    log->file = NULL;
}

static void count_write_error(serve_log *log, uint64_t lines)
{
    atomic_fetch_add_explicit(&log->metrics->log_dropped, lines, memory_order_relaxed);
    /* One message per 1000 failures, so a full disk does not flood the server's log. */
    if (log->write_errors++ % 1000 == 0)
        ln_log(LN_LOG_ERROR, "writing prediction log %s failed (%llu failures so far): %s", log->path,
               (unsigned long long)log->write_errors, strerror(errno));
}

static void write_line(serve_log *log, const char *line, size_t length)
{
    if (log->file != NULL && log->file_bytes > 0 && log->file_bytes + length > log->max_file_bytes)
        close_file(log);
    if (log->file == NULL && open_next_file(log) != 0) {
        count_write_error(log, 1);
        return;
    }
    if (fwrite(line, 1, length, log->file) != length) {
        count_write_error(log, 1);
        return;
    }
    log->file_bytes += length;
    atomic_fetch_add_explicit(&log->metrics->log_written, 1, memory_order_relaxed);
}

static void *writer_main(void *arg)
{
    serve_log *log = arg;

    for (;;) {
        pthread_mutex_lock(&log->lock);
        if (log->count < WRITER_WAKE_LINES && !log->stopping) {
            struct timespec deadline;
            clock_gettime(CLOCK_REALTIME, &deadline);
            deadline.tv_nsec += WRITER_PERIOD_MS * 1000000L;
            if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&log->wake, &log->lock, &deadline);
        }
        if (log->count == 0) {
            int stopping = log->stopping;
            pthread_mutex_unlock(&log->lock);
            if (stopping)
                break;
            continue;
        }
        size_t n = log->count;
        for (size_t i = 0; i < n; i++) {
            size_t slot = (log->head + i) % LN_SERVE_LOG_QUEUE_ENTRIES;
            log->batch[i] = log->lines[slot];
            log->batch_lengths[i] = log->lengths[slot];
        }
        log->head = (log->head + n) % LN_SERVE_LOG_QUEUE_ENTRIES;
        log->count = 0;
        log->queued_bytes = 0;
        pthread_mutex_unlock(&log->lock);

        for (size_t i = 0; i < n; i++) {
            write_line(log, log->batch[i], log->batch_lengths[i]);
            free(log->batch[i]);
        }
        if (log->file != NULL && fflush(log->file) != 0)
            count_write_error(log, 0);
    }
    close_file(log);
    return NULL;
}

static void log_free(serve_log *log)
{
    free(log->dir);
    free(log->lines);
    free(log->lengths);
    free(log->batch);
    free(log->batch_lengths);
    free(log);
}

ln_status serve_log_open(const char *dir, size_t max_file_bytes, serve_metrics *metrics, serve_log **out,
                         ln_error *err)
{
    ln_status status = ln_make_dirs(dir, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "prediction log folder");
    if (access(dir, W_OK) != 0)
        return ln_error_set(err, LN_ERR_IO, "prediction log folder %s is not writable: %s", dir, strerror(errno));

    serve_log *log = calloc(1, sizeof *log);
    if (log == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory starting the prediction log");
    log->dir = strdup(dir);
    log->max_file_bytes = max_file_bytes;
    log->metrics = metrics;
    log->lines = calloc(LN_SERVE_LOG_QUEUE_ENTRIES, sizeof *log->lines);
    log->lengths = calloc(LN_SERVE_LOG_QUEUE_ENTRIES, sizeof *log->lengths);
    log->batch = calloc(LN_SERVE_LOG_QUEUE_ENTRIES, sizeof *log->batch);
    log->batch_lengths = calloc(LN_SERVE_LOG_QUEUE_ENTRIES, sizeof *log->batch_lengths);
    if (log->dir == NULL || log->lines == NULL || log->lengths == NULL || log->batch == NULL ||
        log->batch_lengths == NULL) {
        log_free(log);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory starting the prediction log");
    }
    pthread_mutex_init(&log->lock, NULL);
    pthread_cond_init(&log->wake, NULL);
    if (pthread_create(&log->writer, NULL, writer_main, log) != 0) {
        pthread_mutex_destroy(&log->lock);
        pthread_cond_destroy(&log->wake);
        log_free(log);
        return ln_error_set(err, LN_ERR_NOMEM, "cannot start the prediction log thread");
    }
    *out = log;
    return LN_OK;
}

void serve_log_push(serve_log *log, char *line, size_t length)
{
    if (log == NULL) {
        free(line);
        return;
    }

    pthread_mutex_lock(&log->lock);
    int full = log->count == LN_SERVE_LOG_QUEUE_ENTRIES || log->queued_bytes + length > LN_SERVE_LOG_QUEUE_BYTES ||
               log->stopping;
    if (!full) {
        size_t slot = (log->head + log->count) % LN_SERVE_LOG_QUEUE_ENTRIES;
        log->lines[slot] = line;
        log->lengths[slot] = length;
        log->count++;
        log->queued_bytes += length;
        if (log->count == WRITER_WAKE_LINES)
            pthread_cond_signal(&log->wake);
    }
    pthread_mutex_unlock(&log->lock);

    if (full) {
        atomic_fetch_add_explicit(&log->metrics->log_dropped, 1, memory_order_relaxed);
        free(line);
    }
}

void serve_log_close(serve_log *log)
{
    if (log == NULL)
        return;

    pthread_mutex_lock(&log->lock);
    log->stopping = 1;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->writer, NULL);

    pthread_mutex_destroy(&log->lock);
    pthread_cond_destroy(&log->wake);
    log_free(log);
}
