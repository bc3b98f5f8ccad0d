#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lanner/log.h"

static int progress_on_terminal;
static double progress_last_drawn;

static void log_to_stderr(void *context, ln_log_level level, const char *message)
{
    static const char *const prefixes[] = {"debug: ", "", "warning: ", "error: "};

    (void)context;
    if (progress_on_terminal)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "lanner: %s%s\n", prefixes[level], message);
}

static double seconds_now(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

/* Redraws one status line at most ten times a second, and clears it when the work is done. */
static void progress_to_terminal(void *context, const char *label, double done, double total)
{
    double now = seconds_now();

    (void)context;
    if (done < total && now - progress_last_drawn < 0.1)
        return;
    progress_last_drawn = now;

    if (done >= total) {
        fputs("\r\033[K", stderr);
        return;
    }
    fprintf(stderr, "\r\033[K%s %.0f/%.0f (%.0f%%)", label, done, total, total > 0 ? 100.0 * done / total : 0.0);
    fflush(stderr);
}

void cli_setup_logging(const cli_common *common)
{
    ln_log_level level = common->verbose ? LN_LOG_DEBUG : common->quiet ? LN_LOG_WARN : LN_LOG_INFO;

    ln_log_set_sink(log_to_stderr, NULL, level);
    progress_on_terminal = !common->quiet && isatty(STDERR_FILENO);
    if (progress_on_terminal)
        ln_progress_set_sink(progress_to_terminal, NULL);
}

int cli_fail(const ln_error *err)
{
    fprintf(stderr, "lanner: error: %s\n", err->message[0] ? err->message : ln_status_name(err->status));
    return ln_status_exit_code(err->status);
}

int cli_usage_error(const char *command, const char *format, ...)
{
    va_list args;

    fprintf(stderr, "lanner %s: error: ", command);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fprintf(stderr, "\nTry 'lanner %s --help'.\n", command);
    return EXIT_USAGE;
}

int cli_parse_threads(const char *command, const char *text, int *out)
{
    char *end = NULL;
    long value = strtol(text, &end, 10);

    if (end == text || *end != '\0' || value < 1 || value > 1024)
        return cli_usage_error(command, "--threads must be a whole number from 1 to 1024, found '%s'", text);
    *out = (int)value;
    return 0;
}

int cli_parse_delimiter(const char *command, const char *text, char *out)
{
    if (strcmp(text, "tab") == 0 || strcmp(text, "\\t") == 0) {
        *out = '\t';
        return 0;
    }
    if (strlen(text) == 1 && strchr(",;|\t", text[0]) != NULL) {
        *out = text[0];
        return 0;
    }
    return cli_usage_error(command, "--delimiter must be one of , ; | or tab, found '%s'", text);
}

static int ends_with(const char *text, const char *suffix)
{
    size_t length = strlen(text);
    size_t suffix_length = strlen(suffix);

    return length >= suffix_length && strcmp(text + length - suffix_length, suffix) == 0;
}

ln_status cli_load_table(const char *source, const char *query, const ln_load_options *options,
                         ln_table **out, ln_error *err)
{
    const char *database = NULL;

    if (ln_postgres_is_url(source)) {
        if (query == NULL)
            return ln_error_set(err, LN_ERR_CONFIG, "a postgres:// source needs --query \"SELECT ...\"");
        return ln_postgres_read(source, query, options, out, err);
    }
    if (strncmp(source, "sqlite:", 7) == 0)
        database = source + 7;
    else if (ends_with(source, ".db") || ends_with(source, ".sqlite") || ends_with(source, ".sqlite3"))
        database = source;

    if (database == NULL) {
        if (query != NULL)
            return ln_error_set(err, LN_ERR_CONFIG, "--query goes with an SQLite (sqlite:FILE) or PostgreSQL (postgres://...) source, not with %s",
                                source);
        return ln_csv_read(source, options, out, err);
    }
    if (query == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "%s is an SQLite database: give --query \"SELECT ...\"", database);
    return ln_sqlite_read(database, query, options, out, err);
}

ln_status cli_model_load_options(const ln_model *model, const ln_load_options *base, cli_model_load *out,
                                 ln_error *err)
{
    size_t n_features = ln_model_feature_count(model);
    size_t n_base = base != NULL ? base->n_overrides : 0;

    memset(out, 0, sizeof *out);
    if (base != NULL)
        out->options = *base;
    else
        ln_load_options_default(&out->options);
    out->names = malloc((n_base + n_features + 1) * sizeof *out->names);
    out->types = malloc((n_base + n_features + 1) * sizeof *out->types);
    if (out->names == NULL || out->types == NULL) {
        cli_model_load_free(out);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory preparing the load options");
    }

    size_t n = 0;
    for (size_t i = 0; i < n_base; i++) {
        out->names[n] = base->override_names[i];
        out->types[n++] = base->override_types[i];
    }
    for (size_t f = 0; f < n_features; f++) {
        const char *name = ln_model_feature_name(model, f);
        if (ln_model_feature_type(model, f) != LN_TYPE_CATEGORY)
            continue;
        int overridden = 0;
        for (size_t i = 0; i < n_base && !overridden; i++)
            overridden = strcmp(base->override_names[i], name) == 0;
        if (overridden)
            continue;
        out->names[n] = name;
        out->types[n++] = LN_TYPE_CATEGORY;
    }

    out->options.override_names = out->names;
    out->options.override_types = out->types;
    out->options.n_overrides = n;
    out->options.overrides_optional = 1;
    return LN_OK;
}

void cli_model_load_free(cli_model_load *load)
{
    free(load->names);
    free(load->types);
    memset(load, 0, sizeof *load);
}

/* Returns 1 when the model kept text among feature f's categories. */
static int model_has_category(const ln_model *model, size_t f, const char *text)
{
    for (int32_t i = 0; i < ln_model_category_count(model, f); i++)
        if (strcmp(ln_model_category(model, f, i), text) == 0)
            return 1;
    return 0;
}

void cli_warn_unseen_categories(const ln_model *model, const ln_table *table, const char *source)
{
    for (size_t f = 0; f < ln_model_feature_count(model); f++) {
        int index = ln_table_find(table, ln_model_feature_name(model, f));
        if (ln_model_feature_type(model, f) != LN_TYPE_CATEGORY || index < 0 || ln_model_category_count(model, f) == 0)
            continue;
        const ln_column *column = &table->cols[index];
        if (column->dict == NULL)
            continue;

        /* A dictionary contains each distinct value once, so this compares far fewer strings than rows. */
        int32_t n_values = ln_dict_count(column->dict);
        int any_known = 0;
        for (int32_t code = 0; code < n_values && !any_known; code++)
            any_known = model_has_category(model, f, ln_dict_string(column->dict, code));
        if (n_values > 0 && !any_known)
            fprintf(stderr, "lanner: warning: no value of category feature '%s' in %s is a category the model "
                            "knows (such as '%s'); every row is scored as an unseen category. Check the "
                            "column's type and encoding\n",
                    ln_model_feature_name(model, f), source, ln_model_category(model, f, 0));
    }
}
