/*
 * lanner models: list, show, promote, roll back and audit the versions in a
 * model registry. `lanner models diff` is in cmd_models_diff.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lanner/table.h"
#include "registry_view.h"

/* Hex digits of the data hash shown in `lanner models list NAME`. */
#define LIST_HASH_PREFIX 12

static void print_models_help(void)
{
    printf("Usage: lanner models COMMAND [ARGS] [OPTIONS]\n"
           "\n"
           "Reads and changes the model registry that lanner run writes to.\n"
           "\n"
           "Commands:\n"
           "  list [NAME]              each model, or each version of NAME\n"
           "  show NAME[@VERSION]      one version: stages, lineage, test metrics, features\n"
           "  promote NAME@VERSION     make VERSION the production version\n"
           "  rollback NAME            return to the production version before the current one\n"
           "  history NAME             the audit log: who changed what, when and why\n"
           "  diff NAME@A NAME@B       compare two versions: metrics, features, lineage\n"
           "\n"
           "Options of every command:\n"
           "  --registry PATH   registry database (default: ./lanner.db)\n"
           "  --json            print one JSON document on stdout\n"
           "  --help            show the command's help\n"
           "\n"
           "NAME without @VERSION means the production version, or the newest one when\n"
           "no version is in production. Exit codes: 0 ok, 1 failure (such as a damaged\n"
           "registry or model file), 2 bad usage or an unknown model or version.\n");
}

static void print_list_help(void)
{
    printf("Usage: lanner models list [NAME] [--registry PATH] [--json]\n"
           "\n"
           "Without NAME: one line per model with its production version, newest version\n"
           "and number of versions. With NAME: one line per version, newest first, with\n"
           "its stage, creation time (UTC), test ROC AUC and payoff, and the first %d hex\n"
           "digits of its data hash.\n",
           LIST_HASH_PREFIX);
}

static void print_show_help(void)
{
    printf("Usage: lanner models show NAME[@VERSION] [--registry PATH] [--json]\n"
           "\n"
           "Shows one version: stage, parent version, run folder, stored model file and\n"
           "its hash, data and pipeline hashes, the lanner version that trained it, test\n"
           "metrics (payoff of the model, the rule in use and flagging nothing, ROC AUC)\n"
           "and the features with their types, read from the stored model file.\n"
           "Without @VERSION: the production version, else the newest. Exits with 1 when\n"
           "the stored model file is missing or damaged.\n");
}

static void print_promote_help(void)
{
    printf("Usage: lanner models promote NAME@VERSION [--reason TEXT] [--force] [--registry PATH] [--json]\n"
           "\n"
           "Makes VERSION the production version of NAME and archives the previous one.\n"
           "The change and TEXT go into the audit log (see lanner models history).\n"
           "When the version's pipeline declares downstream consumers, the version and the\n"
           "production model are replayed on the version's test split (test.csv in its run\n"
           "folder) and each consumer's share of rows, changed decisions and score PSI are\n"
           "printed. A broken consumer contract blocks the promotion with exit code 3\n"
           "unless --force --reason TEXT, which the audit log records.\n"
           "A version whose stored model file is missing, changed or cannot be loaded\n"
           "is rejected with exit code 1 and the registry is left unchanged.\n");
}

static void print_rollback_help(void)
{
    printf("Usage: lanner models rollback NAME [--reason TEXT] [--registry PATH] [--json]\n"
           "\n"
           "Returns NAME to the production version that preceded the current one.\n"
           "Rollbacks undo promotions in reverse order: promote 1, promote 2, promote 3,\n"
           "rollback, rollback leaves version 1 in production. The version restored must\n"
           "have an intact stored model file.\n");
}

static void print_history_help(void)
{
    printf("Usage: lanner models history NAME [--registry PATH] [--json]\n"
           "\n"
           "Prints the audit log of NAME, newest first: time (UTC), user ($USER of the\n"
           "process), action (register, promote or rollback), version and reason.\n");
}

/* Opens the registry named by the options. Returns 0, or an exit code after printing the error. */
static int open_registry(const view_options *options, ln_registry **registry)
{
    ln_error err = {0};

    if (view_open_registry(options->registry_path, registry, &err) != LN_OK)
        return cli_fail(&err);
    return 0;
}

/* ---- list ---- */

typedef struct list_context {
    json_t *rows; /* JSON array, or NULL for text output */
    int n_rows;
} list_context;

static int list_model(void *context, const ln_model_summary *summary)
{
    list_context *list = context;
    char production[16] = "-";

    list->n_rows++;
    if (list->rows != NULL) {
        json_t *row = json_object();
        json_object_set_new(row, "name", json_string(summary->name));
        json_object_set_new(row, "production_version", view_json_version(summary->production_version));
        json_object_set_new(row, "newest_version", json_integer(summary->newest_version));
        json_object_set_new(row, "versions", json_integer(summary->n_versions));
        json_array_append_new(list->rows, row);
        return 0;
    }

    if (list->n_rows == 1)
        printf("%-32s %10s %7s %8s\n", "NAME", "PRODUCTION", "NEWEST", "VERSIONS");
    if (summary->production_version > 0)
        snprintf(production, sizeof production, "%d", summary->production_version);
    printf("%-32s %10s %7d %8d\n", summary->name, production, summary->newest_version, summary->n_versions);
    return 0;
}

static int list_version(void *context, const ln_version_info *info)
{
    list_context *list = context;
    view_metrics metrics;
    json_t *root = view_read_metrics(info, &metrics);
    char auc[32], payoff[32];

    list->n_rows++;
    if (list->rows != NULL) {
        json_t *row = json_object();
        json_object_set_new(row, "version", json_integer(info->version));
        json_object_set_new(row, "stage", json_string(info->stage));
        json_object_set_new(row, "created_at", json_string(info->created_at));
        json_object_set_new(row, "test_auc", view_json_number(metrics.auc));
        json_object_set_new(row, "test_payoff", view_json_number(metrics.payoff_model));
        json_object_set_new(row, "data_hash", json_string(info->data_hash));
        json_array_append_new(list->rows, row);
    } else {
        if (list->n_rows == 1)
            printf("%-7s %-10s %-20s %8s %14s  %s\n", "VERSION", "STAGE", "CREATED", "TEST AUC", "TEST PAYOFF",
                   "DATA HASH");
        printf("%-7d %-10s %-20s %8s %14s  %.*s\n", info->version, info->stage, info->created_at,
               view_format(auc, sizeof auc, "%.4f", metrics.auc),
               view_format(payoff, sizeof payoff, "%.2f", metrics.payoff_model), LIST_HASH_PREFIX,
               info->data_hash);
    }
    json_decref(root);
    return 0;
}

static int models_list(int argc, char **argv)
{
    view_options options;
    int parsed = view_parse_options("models list", argc, argv, 0, print_list_help, &options);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    if (argc - options.first_arg > 1)
        return view_usage_error("models list", "expected at most one model name, found %d arguments",
                                argc - options.first_arg);
    const char *name = options.first_arg < argc ? argv[options.first_arg] : NULL;

    ln_registry *registry = NULL;
    int exit_code = open_registry(&options, &registry);
    if (exit_code != 0)
        return exit_code;

    ln_error err = {0};
    list_context list = {.rows = options.json ? json_array() : NULL};
    ln_status status = name != NULL ? ln_registry_list(registry, name, list_version, &list, &err)
                                    : ln_registry_models(registry, list_model, &list, &err);
    if (status != LN_OK) {
        exit_code = cli_fail(&err);
    } else if (options.json) {
        json_t *root = json_object();
        json_object_set_new(root, "registry", json_string(options.registry_path));
        if (name != NULL)
            json_object_set_new(root, "name", json_string(name));
        json_object_set(root, name != NULL ? "versions" : "models", list.rows);
        view_print_json(root);
    } else if (list.n_rows == 0) {
        printf("No models in registry %s. lanner run registers one.\n", options.registry_path);
    }

    json_decref(list.rows);
    ln_registry_close(registry);
    return exit_code;
}

/* ---- show ---- */

/* Adds the registry fields and key test metrics of a version to object. */
static void add_version_fields(json_t *object, const ln_version_info *info, const view_metrics *metrics)
{
    json_object_set_new(object, "name", json_string(info->name));
    json_object_set_new(object, "version", json_integer(info->version));
    json_object_set_new(object, "stage", json_string(info->stage));
    json_object_set_new(object, "parent_version", view_json_version(info->parent_version));
    json_object_set_new(object, "created_at", json_string(info->created_at));
    json_object_set_new(object, "run_dir", json_string(info->run_dir));
    json_object_set_new(object, "model_path", json_string(info->model_path));
    json_object_set_new(object, "model_sha", json_string(info->model_sha));
    json_object_set_new(object, "data_source", metrics->data_source ? json_string(metrics->data_source) : json_null());
    json_object_set_new(object, "data_hash", json_string(info->data_hash));
    json_object_set_new(object, "pipeline_hash", json_string(info->pipeline_hash));
    json_object_set_new(object, "contract_hash", info->contract_hash[0] ? json_string(info->contract_hash) : json_null());
    json_object_set_new(object, "lanner_version", json_string(info->lanner_version));

    json_t *test = json_object();
    json_object_set_new(test, "auc", view_json_number(metrics->auc));
    json_object_set_new(test, "pr_auc", view_json_number(metrics->pr_auc));
    json_object_set_new(test, "logloss", view_json_number(metrics->log_loss));
    json_object_set_new(test, "flag_rate", view_json_number(metrics->flag_rate));
    json_object_set_new(test, "threshold", view_json_number(metrics->threshold));
    json_object_set_new(test, "payoff_model", view_json_number(metrics->payoff_model));
    json_object_set_new(test, "payoff_baseline", view_json_number(metrics->payoff_baseline));
    json_object_set_new(test, "payoff_flag_nothing", view_json_number(metrics->payoff_nothing));
    json_object_set_new(object, "test", test);
}

static json_t *features_json(const ln_model *model)
{
    json_t *features = json_array();

    for (size_t i = 0; i < ln_model_feature_count(model); i++) {
        json_t *feature = json_object();
        json_object_set_new(feature, "name", json_string(ln_model_feature_name(model, i)));
        json_object_set_new(feature, "type", json_string(ln_type_name(ln_model_feature_type(model, i))));
        json_array_append_new(features, feature);
    }
    return features;
}

static void print_show_json(const ln_version_info *info, const view_metrics *metrics, const ln_model *model,
                            const ln_error *model_err)
{
    json_t *root = json_object();

    add_version_fields(root, info, metrics);
    if (model != NULL) {
        json_object_set_new(root, "learner", json_string(ln_model_learner(model) == LN_LEARNER_GBDT ? "gbdt" : "linear"));
        json_object_set_new(root, "trees", json_integer(ln_model_tree_count(model)));
        json_object_set_new(root, "features", features_json(model));
        json_object_set_new(root, "model_error", json_null());
    } else {
        json_object_set_new(root, "learner", metrics->learner ? json_string(metrics->learner) : json_null());
        json_object_set_new(root, "trees", json_null());
        json_object_set_new(root, "features", json_null());
        json_object_set_new(root, "model_error", json_string(model_err->message));
    }
    view_print_json(root);
}

static void print_show_text(const ln_version_info *info, const view_metrics *metrics, const ln_model *model)
{
    char a[32], b[32], c[32], d[32], e[32], f[32], g[32], h[32];

    printf("%s version %d (%s)\n", info->name, info->version, info->stage);
    printf("  created at      %s\n", info->created_at);
    if (info->parent_version > 0)
        printf("  parent version  %d (in production when this version was registered)\n", info->parent_version);
    else
        printf("  parent version  none\n");
    printf("  run folder      %s\n", info->run_dir);
    printf("  model file      %s\n", info->model_path);
    printf("  model sha       %s\n", info->model_sha);
    printf("  data source     %s\n", metrics->data_source ? metrics->data_source : "-");
    printf("  data hash       %s\n", info->data_hash);
    printf("  pipeline hash   %s\n", info->pipeline_hash);
    printf("  contract hash   %s\n", info->contract_hash[0] ? info->contract_hash : "none");
    printf("  lanner version  %s\n", info->lanner_version);

    printf("\nOn the test split\n");
    printf("  payoff of the model     %14s\n", view_format(a, sizeof a, "%.2f", metrics->payoff_model));
    printf("  payoff of rule in use   %14s\n", view_format(b, sizeof b, "%.2f", metrics->payoff_baseline));
    printf("  payoff of flag nothing  %14s\n", view_format(c, sizeof c, "%.2f", metrics->payoff_nothing));
    printf("  ROC AUC                 %14s\n", view_format(d, sizeof d, "%.4f", metrics->auc));
    printf("  PR AUC                  %14s\n", view_format(e, sizeof e, "%.4f", metrics->pr_auc));
    printf("  log loss                %14s\n", view_format(f, sizeof f, "%.4f", metrics->log_loss));
    printf("  flag rate               %13s%%\n", view_format(g, sizeof g, "%.2f", metrics->flag_rate * 100));
    printf("  threshold               %14s\n", view_format(h, sizeof h, "%.6g", metrics->threshold));

    if (model == NULL) {
        printf("\nFeatures: not available because the stored model file cannot be loaded\n");
        return;
    }
    printf("\nFeatures (%zu, %s", ln_model_feature_count(model),
           ln_model_learner(model) == LN_LEARNER_GBDT ? "gradient-boosted trees" : "logistic regression");
    if (ln_model_learner(model) == LN_LEARNER_GBDT)
        printf(", %d trees", ln_model_tree_count(model));
    printf(")\n");
    for (size_t i = 0; i < ln_model_feature_count(model); i++)
        printf("  %-40s %s\n", ln_model_feature_name(model, i), ln_type_name(ln_model_feature_type(model, i)));
}

static int models_show(int argc, char **argv)
{
    view_options options;
    view_ref ref;
    int parsed = view_parse_options("models show", argc, argv, 0, print_show_help, &options);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    if (view_parse_one_ref("models show", argc, argv, &options, 0, &ref) != 0)
        return EXIT_USAGE;

    ln_registry *registry = NULL;
    int exit_code = open_registry(&options, &registry);
    if (exit_code != 0)
        return exit_code;

    ln_error err = {0};
    ln_version_info info;
    if (view_get_version(registry, &ref, &info, &err) != LN_OK) {
        ln_registry_close(registry);
        return cli_fail(&err);
    }

    /* The registry record is printed even when the model file is damaged, then the command fails. */
    view_metrics metrics;
    json_t *metrics_root = view_read_metrics(&info, &metrics);
    ln_model *model = NULL;
    ln_error model_err = {0};
    if (view_load_model(&info, &model, &model_err) == LN_OK && isfinite(view_model_threshold(model)))
        metrics.threshold = view_model_threshold(model);

    if (options.json)
        print_show_json(&info, &metrics, model, &model_err);
    else
        print_show_text(&info, &metrics, model);
    if (model == NULL)
        exit_code = cli_fail(&model_err);

    ln_model_free(model);
    json_decref(metrics_root);
    ln_version_info_clear(&info);
    ln_registry_close(registry);
    return exit_code;
}

/* ---- promote and rollback ---- */

static int keep_production(void *context, const ln_version_info *info)
{
    if (strcmp(info->stage, "production") != 0)
        return 0;
    *(int *)context = info->version;
    return 1;
}

/* Stores the production version of name (0 for none) in *version. Returns 0 or an exit code. */
static int production_version(ln_registry *registry, const char *name, int *version)
{
    ln_error err = {0};

    *version = 0;
    if (ln_registry_list(registry, name, keep_production, version, &err) != LN_OK)
        return cli_fail(&err);
    return 0;
}

/*
 * Checks that version of name exists and that its stored model file is intact
 * and loads, before any change is made. verb names the change in the message.
 */
static ln_status check_promotable(ln_registry *registry, const char *name, int version, const char *verb,
                                  ln_error *err)
{
    ln_version_info info;
    ln_model *model = NULL;
    ln_status status = ln_registry_get(registry, name, version, &info, err);

    if (status != LN_OK)
        return status;

    status = view_load_model(&info, &model, err);
    if (status != LN_OK)
        ln_error_prefix(err, "cannot %s %s version %d; the registry is unchanged", verb, name, version);
    ln_model_free(model);
    ln_version_info_clear(&info);
    return status;
}

static void print_stage_change(const view_options *options, const char *action, const char *name, int before,
                               int after, const char *reason, json_t *downstream)
{
    if (options->json) {
        json_t *root = json_object();
        if (downstream != NULL)
            json_object_set(root, "downstream", downstream);
        json_object_set_new(root, "action", json_string(action));
        json_object_set_new(root, "name", json_string(name));
        json_object_set_new(root, "previous_production", view_json_version(before));
        json_object_set_new(root, "production", json_integer(after));
        json_object_set_new(root, "reason", reason ? json_string(reason) : json_null());
        view_print_json(root);
        return;
    }
    if (before > 0)
        printf("%s: production %d -> %d\n", name, before, after);
    else
        printf("%s: production none -> %d\n", name, after);
}

/*
 * Replays the candidate and production on the candidate's test split for the
 * downstream consumers it declares. A broken consumer contract, or a replay
 * that fails, blocks the promotion (LN_ERR_CHECK_FAILED, exit code 3) unless
 * --force, whose reason then names what was overridden. Writes the audit
 * reason into reason.
 */
static ln_status check_downstream(ln_registry *registry, const view_ref *ref, const view_options *options,
                                  view_downstream *downstream, char *reason, size_t capacity, ln_error *err)
{
    ln_error replay_err = {0};

    snprintf(reason, capacity, "%s", options->reason ? options->reason : "");
    ln_status status = view_replay_downstream(registry, ref->name, ref->version, downstream, &replay_err);
    if (status != LN_OK && !options->force) {
        *err = replay_err;
        return ln_error_prefix(err, "the downstream check failed, so %s version %d is not promoted (--force --reason "
                               "TEXT promotes anyway)", ref->name, ref->version);
    }
    if (status != LN_OK) {
        snprintf(reason, capacity, "forced without the downstream check (%.1000s): %.2000s", replay_err.message,
                 options->reason);
        return LN_OK;
    }
    if (!options->json)
        view_print_downstream(downstream, ref->name, ref->version);
    if (downstream->n_broken == 0)
        return LN_OK;
    if (!options->force)
        return ln_error_set(err, LN_ERR_CHECK_FAILED, "promotion of %s version %d blocked by %zu downstream consumer "
                            "contract%s (%.1500s); the registry is unchanged; --force --reason TEXT promotes anyway",
                            ref->name, ref->version, downstream->n_broken, downstream->n_broken == 1 ? "" : "s",
                            downstream->broken);
    snprintf(reason, capacity, "forced past %zu broken downstream contract%s (%.1500s): %.2000s", downstream->n_broken,
             downstream->n_broken == 1 ? "" : "s", downstream->broken, options->reason);
    return LN_OK;
}

static int models_promote(int argc, char **argv)
{
    view_options options;
    view_ref ref;
    int parsed = view_parse_options("models promote", argc, argv, 1, print_promote_help, &options);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    if (view_parse_one_ref("models promote", argc, argv, &options, 1, &ref) != 0)
        return EXIT_USAGE;
    if (options.force && options.reason == NULL)
        return view_usage_error("models promote", "--force needs --reason TEXT, which goes into the audit log");

    ln_registry *registry = NULL;
    int exit_code = open_registry(&options, &registry);
    if (exit_code != 0)
        return exit_code;

    ln_error err = {0};
    int before = 0;
    exit_code = production_version(registry, ref.name, &before);
    if (exit_code != 0) {
        ln_registry_close(registry);
        return exit_code;
    }

    ln_status status = check_promotable(registry, ref.name, ref.version, "promote", &err);
    view_downstream downstream = {0};
    char reason[LN_REGISTRY_MAX_REASON_BYTES + 1];
    if (status == LN_OK)
        status = check_downstream(registry, &ref, &options, &downstream, reason, sizeof reason, &err);
    if (status == LN_OK)
        status = ln_registry_promote(registry, ref.name, ref.version, reason[0] ? reason : NULL, &err);

    /* NOTE: before is read outside the promotion's transaction, so a concurrent change can make it stale. */
    if (status == LN_OK)
        print_stage_change(&options, "promote", ref.name, before, ref.version, reason[0] ? reason : NULL,
                           downstream.reports);
    else
        exit_code = cli_fail(&err);
    json_decref(downstream.reports);
    ln_registry_close(registry);
    return exit_code;
}

static int models_rollback(int argc, char **argv)
{
    view_options options;
    int parsed = view_parse_options("models rollback", argc, argv, 1, print_rollback_help, &options);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    if (argc - options.first_arg != 1)
        return view_usage_error("models rollback", "expected one model NAME, found %d arguments",
                                argc - options.first_arg);
    const char *name = argv[options.first_arg];
    if (options.force)
        return view_usage_error("models rollback", "--force goes with promote only");
    if (strchr(name, '@') != NULL)
        return view_usage_error("models rollback",
                                "'%s': rollback takes a model NAME without @VERSION; to choose a version, "
                                "use lanner models promote",
                                name);

    ln_registry *registry = NULL;
    int exit_code = open_registry(&options, &registry);
    if (exit_code != 0)
        return exit_code;

    ln_error err = {0};
    int before = 0;
    int target = 0;
    exit_code = production_version(registry, name, &before);
    if (exit_code != 0) {
        ln_registry_close(registry);
        return exit_code;
    }

    ln_status status = ln_registry_rollback_target(registry, name, &target, &err);
    if (status == LN_OK)
        status = check_promotable(registry, name, target, "roll back to", &err);
    if (status == LN_OK)
        status = ln_registry_rollback(registry, name, options.reason, &err);

    int after = 0;
    if (status != LN_OK)
        exit_code = cli_fail(&err);
    else
        exit_code = production_version(registry, name, &after);
    if (exit_code == 0)
        print_stage_change(&options, "rollback", name, before, after, options.reason, NULL);
    ln_registry_close(registry);
    return exit_code;
}

/* ---- history ---- */

typedef struct history_context {
    json_t *rows;
    int n_rows;
} history_context;

static int history_entry(void *context, const ln_audit_entry *entry)
{
    history_context *history = context;

    history->n_rows++;
    if (history->rows != NULL) {
        json_t *row = json_object();
        json_object_set_new(row, "id", json_integer(entry->id));
        json_object_set_new(row, "time", json_string(entry->time));
        json_object_set_new(row, "user", json_string(entry->user));
        json_object_set_new(row, "action", json_string(entry->action));
        json_object_set_new(row, "version", view_json_version(entry->version));
        json_object_set_new(row, "reason", entry->reason[0] ? json_string(entry->reason) : json_null());
        json_array_append_new(history->rows, row);
        return 0;
    }

    if (history->n_rows == 1)
        printf("%-20s %-16s %-8s %7s  %s\n", "TIME", "USER", "ACTION", "VERSION", "REASON");
    printf("%-20s %-16s %-8s %7d  %s\n", entry->time, entry->user, entry->action, entry->version,
           entry->reason[0] ? entry->reason : "-");
    return 0;
}

static int models_history(int argc, char **argv)
{
    view_options options;
    int parsed = view_parse_options("models history", argc, argv, 0, print_history_help, &options);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    if (argc - options.first_arg != 1)
        return view_usage_error("models history", "expected one model NAME, found %d arguments",
                                argc - options.first_arg);
    const char *name = argv[options.first_arg];

    ln_registry *registry = NULL;
    int exit_code = open_registry(&options, &registry);
    if (exit_code != 0)
        return exit_code;

    ln_error err = {0};
    history_context history = {.rows = options.json ? json_array() : NULL};
    if (ln_registry_history(registry, name, history_entry, &history, &err) != LN_OK) {
        exit_code = cli_fail(&err);
    } else if (options.json) {
        json_t *root = json_object();
        json_object_set_new(root, "name", json_string(name));
        json_object_set(root, "entries", history.rows);
        view_print_json(root);
    }

    json_decref(history.rows);
    ln_registry_close(registry);
    return exit_code;
}

/* ---- dispatch ---- */

typedef struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
} subcommand;

static const subcommand subcommands[] = {
    {"list", models_list},         {"show", models_show},       {"promote", models_promote},
    {"rollback", models_rollback}, {"history", models_history}, {"diff", cmd_models_diff},
};

int cmd_models(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "lanner models: error: missing command (list, show, promote, rollback, history or diff)\n"
                        "Try 'lanner models --help'.\n");
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_models_help();
        return EXIT_SUCCESS;
    }

    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr,
            "lanner models: error: unknown command '%s'; expected list, show, promote, rollback, history or diff\n"
            "Try 'lanner models --help'.\n",
            argv[1]);
    return EXIT_USAGE;
}
