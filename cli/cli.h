/*
 * Shared pieces of the lanner command-line tool: each command is a function
 * taking its own argv (argv[0] is the command name) and returning an exit code.
 */
#ifndef LANNER_CLI_H
#define LANNER_CLI_H

#include <stdio.h>
#include <stdlib.h>

#include "lanner/data.h"
#include "lanner/model.h"
#include "lanner/status.h"

/* Exit codes beside stdlib's EXIT_SUCCESS (0) and EXIT_FAILURE (1), the same for every command. */
enum { EXIT_USAGE = 2, EXIT_CHECK = 3 };

/* Options every command accepts. */
typedef struct cli_common {
    int quiet;   /* --quiet: no progress or informational logs */
    int verbose; /* --verbose: debug logs */
    int json;    /* --json: one JSON document on stdout */
} cli_common;

/* Routes library logs and progress to stderr: progress only on a terminal, logs unless quiet. */
void cli_setup_logging(const cli_common *common);

/* Prints "lanner: <message>" on stderr and returns the exit code for the error's status. */
int cli_fail(const ln_error *err);

/* Parses a --threads value, a whole number from 1 to 1024; returns 0, or prints a usage error and returns EXIT_USAGE. */
int cli_parse_threads(const char *command, const char *text, int *out);

/* Parses a --delimiter value: , ; | or tab; returns 0, or prints a usage error and returns EXIT_USAGE. */
int cli_parse_delimiter(const char *command, const char *text, char *out);

/* Prints a usage error naming the command, and returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *format, ...) __attribute__((format(printf, 2, 3)));

/*
 * Loads a table from a CSV path, or from an SQLite database when the path
 * starts with "sqlite:" or ends with .db, .sqlite or .sqlite3 (query needed).
 */
/*
 * Load options for data that a model scores: base's (NULL for the
 * defaults), plus a category type for each of the model's category
 * features that base does not override. A batch whose values of such a
 * feature all look like numbers then still loads them as the categories
 * the model was trained on. Overrides of columns the data lacks are
 * skipped, so the model itself reports a missing feature.
 */
typedef struct cli_model_load {
    ln_load_options options;
    const char **names;
    ln_type *types;
} cli_model_load;

ln_status cli_model_load_options(const ln_model *model, const ln_load_options *base, cli_model_load *out,
                                 ln_error *err);

/*
 * Warns about each category feature of the model whose values in table are
 * all categories the model did not keep. That is a sign of a column read
 * with another type or encoding (0123 read as 123, say), and the model
 * scores every such row as an unseen category.
 */
void cli_warn_unseen_categories(const ln_model *model, const ln_table *table, const char *source);
void cli_model_load_free(cli_model_load *load);

ln_status cli_load_table(const char *source, const char *query, const ln_load_options *options,
                         ln_table **out, ln_error *err);

/* Prints a run's test results for people: a table of model, rule and flag-nothing, and where the outputs went. */
struct ln_run_result;
void cli_print_run_summary(const char *name, const struct ln_run_result *result);

/* Copies a file to stdout; returns the exit code. */
int cli_print_file(const char *path);

int cmd_run(int argc, char **argv);
int cmd_evaluate(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_head(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_lineage(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_monitor(int argc, char **argv);

#endif
