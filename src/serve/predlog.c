/*
 * The prediction log: request threads format a JSON line and append a copy
 * to one bounded in-memory batch; one writer thread swaps that batch for an
 * empty one and appends it to <dir>/predictions-<UTC start time>.jsonl with
 * as few write calls as the batch allows, starting a new file after
 * max_file_bytes. A full batch drops the line and counts it, so a slow disk
 * never stalls a request, and nothing on the request path allocates per line
 * or calls fsync.
 *
 * The writer wakes every WRITER_PERIOD_MS, or at once when WRITER_WAKE_BYTES
 * are waiting. Waking it for every line costs a futex wake and a context
 * switch per prediction, and a long period makes each write a burst that
 * delays the requests sharing its core.
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
#define WRITER_PERIOD_MS 10

/* Queued bytes that wake the writer before its period ends. */
#define WRITER_WAKE_BYTES (256u << 10)

/* Lines waiting for the writer: text of whole lines, newlines included. */
typedef struct log_batch {
    char *text;
    size_t length;
    size_t capacity;
    size_t lines;
} log_batch;

struct serve_log {
    char *dir;
    size_t max_file_bytes;
    serve_metrics *metrics;

    pthread_mutex_t lock;
    pthread_cond_t wake;
    log_batch queued;      /* at most LN_SERVE_LOG_QUEUE_ENTRIES lines and LN_SERVE_LOG_QUEUE_BYTES bytes */
    int stopping;
    pthread_t writer;

    /* Used by the writer thread only. */
    log_batch writing;
    int fd;                /* -1 when no file is open */
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
        log->fd = fd;
        log->file_bytes = 0;
        ln_log(LN_LOG_INFO, "writing predictions to %s", log->path);
        return 0;
    }
    ln_log(LN_LOG_ERROR, "cannot create a prediction log file in %s: %s", log->dir, strerror(errno));
    return -1;
}

static void close_file(serve_log *log)
{
    if (log->fd < 0)
        return;
    if (fsync(log->fd) != 0)
        ln_log(LN_LOG_ERROR, "flushing prediction log %s failed: %s", log->path, strerror(errno));
    close(log->fd);
    log->fd = -1;
}

static void count_write_error(serve_log *log, uint64_t lines)
{
    atomic_fetch_add_explicit(&log->metrics->log_dropped, lines, memory_order_relaxed);
    /* One message per 1000 failures, so a full disk does not flood the server's log. */
    if (log->write_errors++ % 1000 == 0)
        ln_log(LN_LOG_ERROR, "writing prediction log %s failed (%llu failures so far): %s", log->path,
               (unsigned long long)log->write_errors, strerror(errno));
}

static size_t count_lines(const char *text, size_t length)
{
    size_t lines = 0;
    for (const char *end = text + length; (text = memchr(text, '\n', (size_t)(end - text))) != NULL; text++)
        lines++;
    return lines;
}

/* Writes all length bytes, resuming after short writes and signals. Returns 0, or -1 with errno set. */
static int write_all(int fd, const char *text, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, text, length);
        if (written < 0 && errno == EINTR)
            continue;
        if (written < 0)
            return -1;
        text += written;
        length -= (size_t)written;
    }
    return 0;
}

/*
 * Returns how many leading bytes of text (whole lines) fit in the current
 * file. A file that is still empty takes at least one line, however long.
 */
static size_t fitting_bytes(const serve_log *log, const char *text, size_t length)
{
    size_t room = log->max_file_bytes > log->file_bytes ? log->max_file_bytes - log->file_bytes : 0;
    if (length <= room)
        return length;

    size_t fit = 0;
    for (const char *end = text; (size_t)(end - text) < length; end++) {
        end = memchr(end, '\n', length - (size_t)(end - text));
        if (end == NULL)
            break;
        size_t through = (size_t)(end - text) + 1;
        if (through > room && (fit > 0 || log->file_bytes > 0))
            break;
        fit = through;
    }
    return fit;
}

/* Appends whole lines of the batch to the current file, starting a new file whenever one is full. */
static void write_batch(serve_log *log, const char *text, size_t length, size_t lines)
{
    while (length > 0) {
        if (log->fd < 0 && open_next_file(log) != 0) {
            count_write_error(log, count_lines(text, length));
            return;
        }
        size_t part = fitting_bytes(log, text, length);
        if (part == 0) {
            close_file(log);
            continue;
        }
        size_t part_lines = part == length ? lines : count_lines(text, part);
        if (write_all(log->fd, text, part) != 0) {
            count_write_error(log, part_lines);
        } else {
            log->file_bytes += part;
            atomic_fetch_add_explicit(&log->metrics->log_written, part_lines, memory_order_relaxed);
        }
        text += part;
        length -= part;
        lines -= part_lines;
    }
}

/* Waits up to WRITER_PERIOD_MS for lines. The caller holds log->lock, which the wait releases and takes back. */
static void wait_for_lines(serve_log *log)
{
    if (log->queued.length >= WRITER_WAKE_BYTES || log->stopping)
        return;

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += WRITER_PERIOD_MS * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&log->wake, &log->lock, &deadline);
}

static void *writer_main(void *arg)
{
    serve_log *log = arg;

    for (;;) {
        pthread_mutex_lock(&log->lock);
        wait_for_lines(log);
        if (log->queued.length == 0) {
            int stopping = log->stopping;
            pthread_mutex_unlock(&log->lock);
            if (stopping)
                break;
            continue;
        }
        /* Swapping buffers holds the lock for a few stores only, and the emptied buffer keeps its capacity. */
        log_batch full = log->queued;
        log->queued = log->writing;
        log->writing = full;
        pthread_mutex_unlock(&log->lock);

        write_batch(log, log->writing.text, log->writing.length, log->writing.lines);
        log->writing.length = 0;
        log->writing.lines = 0;
    }
    close_file(log);
    return NULL;
}

static void log_free(serve_log *log)
{
    free(log->dir);
    free(log->queued.text);
    free(log->writing.text);
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
    log->fd = -1;
    if (log->dir == NULL) {
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

/* Makes room in batch for extra more bytes, growing it up to LN_SERVE_LOG_QUEUE_BYTES. Returns 0 when it cannot. */
static int reserve_batch(log_batch *batch, size_t extra)
{
    if (extra > LN_SERVE_LOG_QUEUE_BYTES - batch->length)
        return 0;
    size_t need = batch->length + extra;
    if (need <= batch->capacity)
        return 1;

    size_t capacity = batch->capacity ? batch->capacity : WRITER_WAKE_BYTES;
    while (capacity < need)
        capacity *= 2;
    if (capacity > LN_SERVE_LOG_QUEUE_BYTES)
        capacity = LN_SERVE_LOG_QUEUE_BYTES;
    char *text = realloc(batch->text, capacity);
    if (text == NULL)
        return 0;
    batch->text = text;
    batch->capacity = capacity;
    return 1;
}

void serve_log_push(serve_log *log, const char *line, size_t length)
{
    if (log == NULL)
        return;

    pthread_mutex_lock(&log->lock);
    log_batch *batch = &log->queued;
    int stored = !log->stopping && batch->lines < LN_SERVE_LOG_QUEUE_ENTRIES && reserve_batch(batch, length);
    if (stored) {
        int was_below = batch->length < WRITER_WAKE_BYTES;
        memcpy(batch->text + batch->length, line, length);
        batch->length += length;
        batch->lines++;
        if (was_below && batch->length >= WRITER_WAKE_BYTES)
            pthread_cond_signal(&log->wake);
    }
    pthread_mutex_unlock(&log->lock);

    if (!stored)
        atomic_fetch_add_explicit(&log->metrics->log_dropped, 1, memory_order_relaxed);
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
