/*
 * Helpers shared by the registry commands (`lanner models ...` and
 * `lanner lineage`): option parsing, NAME@VERSION references, opening a
 * registry without creating one, reading the metrics JSON that `lanner run`
 * stores with each version, and loading a version's stored model.
 */
#ifndef LANNER_CLI_REGISTRY_VIEW_H
#define LANNER_CLI_REGISTRY_VIEW_H

#include <jansson.h>

#include "lanner/model.h"
#include "lanner/registry.h"
#include "lanner/status.h"

/* Registry used when --registry is not given, relative to the working folder. */
#define VIEW_DEFAULT_REGISTRY "lanner.db"

/* Options of the registry commands. The positional arguments are argv[first_arg..argc-1]. */
typedef struct view_options {
    const char *registry_path; /* --registry, VIEW_DEFAULT_REGISTRY when absent */
    const char *reason;        /* --reason, NULL when absent */
    int force;                 /* --force: promote past a broken downstream consumer contract */
    int json;                  /* --json */
    int quiet;                 /* --quiet */
    int first_arg;
} view_options;

/*
 * Parses the options of command ("models promote", "lineage"). --reason is
 * accepted only when allow_reason is set. Returns -1 after printing the help
 * text with help() for --help, EXIT_USAGE after printing a usage error, and 0
 * otherwise.
 */
int view_parse_options(const char *command, int argc, char **argv, int allow_reason, void (*help)(void),
                       view_options *out);

/*
 * Prints "lanner <first word of command>: error: <message>" and a hint to run
 * `lanner <command> --help` on stderr, and returns EXIT_USAGE.
 */
int view_usage_error(const char *command, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* A model reference from the command line: NAME or NAME@VERSION. */
typedef struct view_ref {
    char name[LN_REGISTRY_MAX_NAME + 1];
    int version; /* 0 when no @VERSION was given */
} view_ref;

/*
 * Parses text as NAME or NAME@VERSION, VERSION a whole number from 1. When
 * need_version is set, a missing @VERSION is an error. Returns 0, or
 * EXIT_USAGE after printing a usage error for command.
 */
int view_parse_ref(const char *command, const char *text, int need_version, view_ref *ref);

/*
 * Parses the one argument left after the options, as view_parse_ref does.
 * More or fewer arguments are a usage error. Returns 0 or EXIT_USAGE.
 */
int view_parse_one_ref(const char *command, int argc, char **argv, const view_options *options, int need_version,
                       view_ref *ref);

/*
 * Opens the registry database at path. Unlike ln_registry_open, a missing
 * file is LN_ERR_NOT_FOUND instead of a new empty registry, so a mistyped
 * --registry does not leave a stray database behind.
 */
ln_status view_open_registry(const char *path, ln_registry **out, ln_error *err);

/*
 * Fills *info with ref's version: the given version, else the production
 * version, else the newest registered one. Errors as ln_registry_get, plus
 * LN_ERR_NOT_FOUND for an unknown model.
 */
ln_status view_get_version(ln_registry *registry, const view_ref *ref, ln_version_info *info, ln_error *err);

/* Figures from a version's metrics JSON, NaN or NULL when absent. */
typedef struct view_metrics {
    double auc;              /* test.model.auc */
    double pr_auc;           /* test.model.pr_auc */
    double log_loss;         /* test.model.logloss */
    double flag_rate;        /* test.model.flag_rate, a fraction */
    double threshold;        /* the model metadata's threshold when loaded, else test.model.threshold */
    double payoff_model;     /* test.model.payoff */
    double payoff_baseline;  /* test.baseline.payoff: the rule in use */
    double payoff_nothing;   /* test.flag_nothing.payoff */
    const char *data_source; /* lineage.data_source, owned by the parsed JSON */
    const char *learner;     /* model.type: "gbdt" or "linear" */
} view_metrics;

/*
 * Parses info->metrics_json and fills *metrics from it. Returns the parsed
 * JSON, which the caller frees with json_decref and which owns the strings
 * in *metrics. Returns NULL, with every figure NaN, when the text is not a
 * JSON object, which a registry written by another tool may contain.
 */
json_t *view_read_metrics(const ln_version_info *info, view_metrics *metrics);

/*
 * Loads a version's stored model after checking that the file still hashes
 * to the registered model_sha. On success *out is a model the caller frees
 * with ln_model_free. Errors: LN_ERR_CORRUPT for a missing, changed or
 * unreadable model file (the message names the model, version and path),
 * LN_ERR_IO and LN_ERR_NOMEM.
 */
ln_status view_load_model(const ln_version_info *info, ln_model **out, ln_error *err);

/* Returns the threshold that `lanner run` stored in the model's metadata, or NaN when there is none. */
double view_model_threshold(const ln_model *model);

/* Returns a JSON number, or null for NaN and infinities, which JSON cannot hold. */
json_t *view_json_number(double value);

/* Returns a JSON integer, or null when value is 0 (no version). */
json_t *view_json_version(int value);

/* The downstream check of a promotion, filled by view_replay_downstream. */
typedef struct view_downstream {
    json_t *reports;          /* JSON array, one object per consumer; the caller decrefs */
    size_t rows;              /* test rows replayed */
    int production_version;   /* compared production version, 0 for none */
    size_t n_broken;          /* consumers whose limits fail */
    char broken[2048];        /* "name: detail; ..." of the broken consumers */
} view_downstream;

/*
 * Replays version of name and the production version on the candidate's
 * saved test split (test.csv in its run folder, read with the load options
 * of the pipeline.yaml copy there) and compares what each consumer declared
 * in the version's downstream section receives. A version without consumers
 * leaves out->reports empty. Errors: those of ln_registry_get and
 * view_load_model, LN_ERR_NOT_FOUND for a missing test.csv, and the
 * loader's and the model's errors for a test split that cannot be scored.
 */
ln_status view_replay_downstream(ln_registry *registry, const char *name, int version, view_downstream *out,
                                 ln_error *err);

/* Prints the downstream check as one line per consumer; nothing without consumers. */
void view_print_downstream(const view_downstream *downstream, const char *name, int version);

/* Runs `lanner models diff` with argv[0] "diff", and returns the exit code. */
int cmd_models_diff(int argc, char **argv);

/* Prints root as indented JSON on stdout and frees it. */
void view_print_json(json_t *root);

/* Formats value with format into buffer, or writes "-" for NaN and infinities. Returns buffer. */
const char *view_format(char *buffer, size_t capacity, const char *format, double value);

#endif
