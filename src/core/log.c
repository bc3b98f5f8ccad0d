#include "lanner/log.h"

#include <stdarg.h>
#include <stdio.h>

static ln_log_sink log_sink;
static void *log_context;
static ln_log_level log_min_level = LN_LOG_INFO;

static ln_progress_sink progress_sink;
static void *progress_context;

void ln_log_set_sink(ln_log_sink sink, void *context, ln_log_level min_level)
{
    log_sink = sink;
    log_context = context;
    log_min_level = min_level;
}

void ln_log(ln_log_level level, const char *format, ...)
{
    char message[1024];
    va_list args;

    if (log_sink == NULL || level < log_min_level)
        return;

    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    log_sink(log_context, level, message);
}

void ln_progress_set_sink(ln_progress_sink sink, void *context)
{
    progress_sink = sink;
    progress_context = context;
}

void ln_progress(const char *label, double done, double total)
{
    if (progress_sink != NULL)
        progress_sink(progress_context, label, done, total);
}
