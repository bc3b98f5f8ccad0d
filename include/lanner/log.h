/*
 * Logging: the library never prints. It calls the sink that the CLI or the
 * server installs; without one, messages are dropped.
 *
 *     ln_log_set_sink(my_sink, my_context, LN_LOG_INFO);
 *     ln_log(LN_LOG_INFO, "loaded %zu rows from %s", n, path);
 */
#ifndef LANNER_LOG_H
#define LANNER_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ln_log_level {
    LN_LOG_DEBUG = 0,
    LN_LOG_INFO,
    LN_LOG_WARN,
    LN_LOG_ERROR,
} ln_log_level;

typedef void (*ln_log_sink)(void *context, ln_log_level level, const char *message);

/* Installs the sink and the minimum level it receives. Not thread-safe: call at start-up. */
void ln_log_set_sink(ln_log_sink sink, void *context, ln_log_level min_level);

/* Formats and sends a message when level reaches the sink's minimum. Thread-safe if the sink is. */
void ln_log(ln_log_level level, const char *format, ...) __attribute__((format(printf, 2, 3)));

/*
 * Progress of long work: the CLI draws it on a terminal. done and total are
 * in the unit the caller names in label (rows, trees).
 */
typedef void (*ln_progress_sink)(void *context, const char *label, double done, double total);

void ln_progress_set_sink(ln_progress_sink sink, void *context);

void ln_progress(const char *label, double done, double total);

#ifdef __cplusplus
}
#endif

#endif
