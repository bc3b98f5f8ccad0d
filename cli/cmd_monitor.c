/*
 * lanner monitor: compare current data (the server's prediction log, a CSV
 * file or an SQL query) with the reference stored in a registered model.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "lanner/log.h"
#include "lanner/monitor.h"
#include "lanner/pipeline.h"
#include "lanner/registry.h"

static void print_monitor_help(void)
{
    printf("Usage: lanner monitor NAME --current SOURCE [OPTIONS]\n"
           "\n"
           "Compares current data with the reference stored with a registered model: drift of\n"
           "every feature, of the score and of the flag rate; the model's data contract; and,\n"
           "with labels, the realised ROC AUC, calibration and payoff against what validation\n"
           "promised. Figures are given overall and per time window. See docs/monitoring.md.\n"
           "\n"
           "Options:\n"
           "  --current SOURCE     the server's prediction log (a .jsonl file or a folder of them),\n"
           "                       a CSV file, sqlite:FILE or postgres://... (with --query)\n"
           "  --query SQL          the query for an SQL --current source\n"
           "  --labels SOURCE      outcomes that arrived later: the model's id column and its target\n"
           "  --labels-query SQL   the query for an SQL --labels source\n"
           "  --registry PATH      registry database (default: lanner.db)\n"
           "  --version N          the version to monitor (default: production, else the newest)\n"
           "  --pipeline PATH      pipeline file for payoffs, the time column and `monitor:` thresholds\n"
           "                       (default: pipeline.yaml in the version's run folder)\n"
           "  --time COLUMN        time column of a CSV or SQL source (default: the pipeline's `time`)\n"
           "  --window LENGTH      trend window: a number and s, m, h, d or w (default: 1d)\n"
           "  --psi-max X          alert when a feature's PSI is above X (default 0.2)\n"
           "  --score-psi-max X    alert when the score's PSI is above X (default 0.2)\n"
           "  --auc-min X          alert when the realised ROC AUC is below X (default: off)\n"
           "  --payoff-drop-max X  alert when realised payoff per 1,000 rows is more than the share X\n"
           "                       below what validation promised (default: off)\n"
           "  --html PATH          write a self-contained HTML report\n"
           "  --json               print the report as one JSON object on stdout\n"
           "  --quiet              print only warnings and errors on stderr\n"
           "  --verbose            print debug logs\n"
           "  --help               show this help\n"
           "\n"
           "Flags override the pipeline's `monitor:` section. Exit codes: 0 no alert, 1 failure,\n"
           "2 bad usage or data, 3 an alert fired.\n");
}

typedef struct monitor_args {
    const char *name;
    const char *registry_path;
    int version;
    const char *current;
    const char *query;
    const char *labels;
    const char *labels_query;
    const char *pipeline_path;
    const char *time_column;
    const char *window;
    const char *html;
    double threshold_flags[4]; /* psi_max, score_psi_max, auc_min, payoff_drop_max; NaN when not given */
    cli_common common;
} monitor_args;

static int parse_number(const char *text, double *out)
{
    char *end = NULL;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(value) || value < 0)
        return -1;
    *out = value;
    return 0;
}

static int parse_args(int argc, char **argv, monitor_args *args)
{
    static const struct option options[] = {
        {"current", required_argument, NULL, 'c'},   {"query", required_argument, NULL, 'Q'},
        {"labels", required_argument, NULL, 'l'},    {"labels-query", required_argument, NULL, 'L'},
        {"registry", required_argument, NULL, 'r'},  {"version", required_argument, NULL, 'V'},
        {"pipeline", required_argument, NULL, 'p'},  {"time", required_argument, NULL, 't'},
        {"window", required_argument, NULL, 'w'},    {"html", required_argument, NULL, 'H'},
        {"psi-max", required_argument, NULL, '1'},   {"score-psi-max", required_argument, NULL, '2'},
        {"auc-min", required_argument, NULL, '3'},   {"payoff-drop-max", required_argument, NULL, '4'},
        {"json", no_argument, NULL, 'j'},            {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;
    char *end;

    for (int i = 0; i < 4; i++)
        args->threshold_flags[i] = NAN;
    args->registry_path = "lanner.db";
    args->window = "1d";
    optind = 1;
    while ((option = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
        switch (option) {
        case 'c': args->current = optarg; break;
        case 'Q': args->query = optarg; break;
        case 'l': args->labels = optarg; break;
        case 'L': args->labels_query = optarg; break;
        case 'r': args->registry_path = optarg; break;
        case 'p': args->pipeline_path = optarg; break;
        case 't': args->time_column = optarg; break;
        case 'w': args->window = optarg; break;
        case 'H': args->html = optarg; break;
        case 'j': args->common.json = 1; break;
        case 'q': args->common.quiet = 1; break;
        case 'v': args->common.verbose = 1; break;
        case 'h': print_monitor_help(); return EXIT_SUCCESS;
        case 'V':
            args->version = (int)strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || args->version < 1)
                return cli_usage_error("monitor", "--version must be a version number from 1, found '%s'", optarg);
            break;
        case '1': case '2': case '3': case '4':
            if (parse_number(optarg, &args->threshold_flags[option - '1']) != 0)
                return cli_usage_error("monitor", "--%s must be a number >= 0, found '%s'",
                                       options[10 + option - '1'].name, optarg);
            break;
        default: return cli_usage_error("monitor", "invalid option");
        }
    }
    if (optind == argc)
        return cli_usage_error("monitor", "the model NAME is required");
    if (optind + 1 != argc)
        return cli_usage_error("monitor", "unexpected argument '%s'", argv[optind + 1]);
    args->name = argv[optind];
    if (args->current == NULL)
        return cli_usage_error("monitor", "--current SOURCE is required");
    if (args->labels_query != NULL && args->labels == NULL)
        return cli_usage_error("monitor", "--labels-query goes with --labels");
    return -1;
}

static int first_version(void *context, const ln_version_info *info)
{
    *(int *)context = info->version;
    return 1;
}

/* The requested version; else production; else the newest. */
static ln_status find_version(const monitor_args *args, ln_version_info *info, ln_error *err)
{
    ln_registry *registry = NULL;
    int newest = 0;

    ln_status status = ln_registry_open(args->registry_path, &registry, err);
    if (status == LN_OK && args->version > 0)
        status = ln_registry_get(registry, args->name, args->version, info, err);
    else if (status == LN_OK)
        status = ln_registry_list(registry, args->name, first_version, &newest, err);
    if (status == LN_OK && args->version == 0 && ln_registry_get(registry, args->name, 0, info, err) != LN_OK) {
        memset(err, 0, sizeof *err);
        status = ln_registry_get(registry, args->name, newest, info, err);
    }
    ln_registry_close(registry);
    return status;
}

static double seconds_now(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

static int path_exists(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0;
}

static int is_log_source(const char *source)
{
    struct stat info;
    size_t length = strlen(source);

    if (stat(source, &info) == 0 && S_ISDIR(info.st_mode))
        return 1;
    return length > 6 && strcmp(source + length - 6, ".jsonl") == 0;
}

/* What the model's metadata holds for monitoring: the reference, policy, id, target and contract. */
typedef struct model_facts {
    json_t *metadata;
    ln_reference *reference;
    const char *id;
    const char *target;
    const char *positive;
    const char *contract;
    size_t n_actions;
    double thresholds[LN_MAX_ACTIONS];
} model_facts;

static ln_status read_facts(const ln_model *model, const ln_version_info *info, model_facts *facts, ln_error *err)
{
    json_error_t json_error;

    facts->metadata = json_loads(ln_model_metadata(model), 0, &json_error);
    if (!json_is_object(facts->metadata))
        return ln_error_set(err, LN_ERR_CORRUPT, "%s: the model's metadata is not a JSON object", info->model_path);
    const json_t *reference = json_object_get(facts->metadata, "reference");
    if (reference == NULL)
        return ln_error_set(err, LN_ERR_DATA,
                            "%s version %d has no monitoring reference (it was trained before lanner stored one); "
                            "run its pipeline again to register a version that has one", info->name, info->version);
    ln_status status = ln_reference_from_json(reference, &facts->reference, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s version %d", info->name, info->version);

    facts->id = json_string_value(json_object_get(facts->metadata, "id"));
    facts->target = json_string_value(json_object_get(facts->metadata, "target"));
    facts->positive = json_string_value(json_object_get(facts->metadata, "positive"));
    facts->contract = json_string_value(json_object_get(facts->metadata, "contract"));
    const json_t *actions = json_object_get(json_object_get(facts->metadata, "policy"), "actions");
    facts->n_actions = json_is_array(actions) && json_array_size(actions) <= LN_MAX_ACTIONS ? json_array_size(actions)
                                                                                               : 0;
    for (size_t k = 0; k < facts->n_actions; k++) {
        const json_t *threshold = json_object_get(json_array_get(actions, k), "threshold");
        facts->thresholds[k] = json_is_number(threshold) ? json_number_value(threshold) : INFINITY;
    }
    return LN_OK;
}

static void facts_free(model_facts *facts)
{
    ln_reference_free(facts->reference);
    json_decref(facts->metadata);
}

/* The pipeline: --pipeline, else pipeline.yaml in the run folder when it is still there. */
static ln_status load_pipeline(const monitor_args *args, const ln_version_info *info, ln_pipeline **pipeline,
                               char *path, size_t capacity, ln_error *err)
{
    int written = args->pipeline_path != NULL ? snprintf(path, capacity, "%s", args->pipeline_path)
                                              : snprintf(path, capacity, "%.4000s/pipeline.yaml", info->run_dir);
    if (written < 0 || (size_t)written >= capacity)
        return ln_error_set(err, LN_ERR_LIMIT, "the pipeline path is longer than %zu bytes", capacity - 1);
    if (args->pipeline_path == NULL && !path_exists(path)) {
        ln_log(LN_LOG_WARN, "%s is gone and no --pipeline was given: no payoff figures, no time column and the "
                            "default alert thresholds", path);
        path[0] = '\0';
        return LN_OK;
    }
    return ln_pipeline_load(path, pipeline, err);
}

static ln_status load_current(const monitor_args *args, const ln_version_info *info, const ln_model *model,
                              const model_facts *facts, const ln_pipeline *pipeline, ln_monitor_current **current,
                              ln_error *err)
{
    if (is_log_source(args->current)) {
        if (args->query != NULL)
            return ln_error_set(err, LN_ERR_CONFIG, "--query goes with an SQL source, not with the prediction log %s",
                                args->current);
        return ln_monitor_read_log(args->current, model, info->name, info->version, facts->id, current, err);
    }

    ln_table *table = NULL;
    cli_model_load load;
    ln_status status = cli_model_load_options(model, pipeline ? &pipeline->load : NULL, &load, err);
    if (status == LN_OK)
        status = cli_load_table(args->current, args->query, &load.options, &table, err);
    cli_model_load_free(&load);
    if (status != LN_OK)
        return status;
    const char *time_column = args->time_column;
    if (time_column == NULL && pipeline != NULL && pipeline->time != NULL) {
        if (ln_table_find(table, pipeline->time) >= 0)
            time_column = pipeline->time;
        else
            ln_log(LN_LOG_WARN, "the current data has no column '%s' (the pipeline's time): no windows", pipeline->time);
    }
    return ln_monitor_score_table(table, model, facts->reference->flag_threshold, time_column, current, err);
}

static ln_status join_labels(const monitor_args *args, const model_facts *facts, const ln_pipeline *pipeline,
                             ln_monitor_current *current, ln_error *err)
{
    ln_table *labels = NULL;

    if (facts->id == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "the model has no id column (the pipeline's `id:`), so --labels "
                            "cannot be joined to its rows");
    if (facts->target == NULL || facts->positive == NULL)
        return ln_error_set(err, LN_ERR_CORRUPT, "the model's metadata lacks its target or positive class");
    ln_status status = cli_load_table(args->labels, args->labels_query, pipeline ? &pipeline->load : NULL, &labels,
                                      err);
    if (status == LN_OK)
        status = ln_monitor_join_labels(current, facts->id, labels, facts->target, facts->positive, err);
    ln_table_free(labels);
    if (status != LN_OK)
        return ln_error_prefix(err, "labels %s", args->labels);
    ln_log(LN_LOG_INFO, "labels: %zu of %zu current rows have one (%zu label rows)", current->labeled,
           current->table->n_rows, current->label_rows);
    return LN_OK;
}

static ln_status fill_options(const monitor_args *args, const model_facts *facts, const ln_pipeline *pipeline,
                              const char *pipeline_path, ln_monitor_options *options, ln_error *err)
{
    ln_monitor_options_default(options);
    ln_status status = ln_monitor_parse_window(args->window, &options->window_seconds, err);
    if (status == LN_OK && pipeline_path[0] != '\0')
        status = ln_monitor_read_thresholds(pipeline_path, &options->thresholds, err);
    if (status != LN_OK)
        return status;

    double *fields[4] = {&options->thresholds.psi_max, &options->thresholds.score_psi_max,
                         &options->thresholds.auc_min, &options->thresholds.payoff_drop_max};
    for (int i = 0; i < 4; i++) {
        if (!isnan(args->threshold_flags[i]))
            *fields[i] = args->threshold_flags[i];
    }
    options->contract_text = facts->contract;

    if (pipeline == NULL)
        return LN_OK;
    if (pipeline->n_actions != facts->n_actions) {
        ln_log(LN_LOG_WARN, "the pipeline has %zu actions but the model's policy %zu: no payoff figures",
               pipeline->n_actions, facts->n_actions);
        return LN_OK;
    }
    options->n_actions = pipeline->n_actions;
    for (size_t k = 0; k <= pipeline->n_actions; k++) {
        const ln_action_spec *spec = k < pipeline->n_actions ? &pipeline->actions[k] : &pipeline->fallback;
        options->payoff_if_positive[k] = spec->payoff_if_positive;
        options->payoff_if_negative[k] = spec->payoff_if_negative;
    }
    memcpy(options->action_thresholds, facts->thresholds, sizeof options->action_thresholds);
    return LN_OK;
}

static int print_report(const monitor_args *args, const ln_version_info *info, const ln_monitor_report *report,
                        ln_error *err)
{
    char label[256];

    snprintf(label, sizeof label, "%s version %d (%s)", info->name, info->version, info->stage);
    if (args->html != NULL && ln_monitor_write_html(report, label, args->html, err) != LN_OK)
        return cli_fail(err);

    if (args->common.json) {
        json_t *root = ln_monitor_report_to_json(report);
        json_object_set_new(root, "name", json_string(info->name));
        json_object_set_new(root, "version", json_integer(info->version));
        json_object_set_new(root, "stage", json_string(info->stage));
        json_object_set_new(root, "current_source", json_string(args->current));
        json_object_set_new(root, "html_path", args->html ? json_string(args->html) : json_null());
        char *text = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
        json_decref(root);
        if (text == NULL) {
            ln_error_set(err, LN_ERR_NOMEM, "out of memory writing JSON");
            return cli_fail(err);
        }
        printf("%s\n", text);
        free(text);
    } else {
        ln_monitor_report_print(report, label, stdout);
        if (args->html != NULL)
            printf("\nHTML report: %s\n", args->html);
    }
    if (report->n_alerts == 0)
        return EXIT_SUCCESS;

    fprintf(stderr, "lanner: error: %zu monitoring alert%s fired:", report->n_alerts, report->n_alerts == 1 ? "" : "s");
    for (size_t i = 0; i < report->n_alerts && i < 10; i++)
        fprintf(stderr, "%s %s%s%s", i ? "," : "", report->alerts[i].kind, report->alerts[i].subject[0] ? " " : "",
                report->alerts[i].subject);
    fprintf(stderr, "%s\n", report->n_alerts > 10 ? ", ..." : "");
    return EXIT_CHECK;
}

int cmd_monitor(int argc, char **argv)
{
    monitor_args args = {0};
    int parsed = parse_args(argc, argv, &args);
    if (parsed >= 0)
        return parsed;
    cli_setup_logging(&args.common);

    ln_error err = {0};
    ln_version_info info = {0};
    model_facts facts = {0};
    ln_model *model = NULL;
    ln_pipeline *pipeline = NULL;
    ln_monitor_current *current = NULL;
    ln_monitor_report *report = NULL;
    ln_monitor_options options;
    char pipeline_path[PATH_MAX] = "";

    ln_status status = find_version(&args, &info, &err);
    if (status == LN_OK)
        status = ln_model_load(info.model_path, &model, &err);
    if (status == LN_OK)
        status = read_facts(model, &info, &facts, &err);
    if (status == LN_OK)
        status = load_pipeline(&args, &info, &pipeline, pipeline_path, sizeof pipeline_path, &err);
    if (status == LN_OK)
        status = fill_options(&args, &facts, pipeline, pipeline_path, &options, &err);
    double started = seconds_now();
    if (status == LN_OK)
        status = load_current(&args, &info, model, &facts, pipeline, &current, &err);
    if (status == LN_OK && args.labels != NULL)
        status = join_labels(&args, &facts, pipeline, current, &err);
    double loaded = seconds_now();
    if (status == LN_OK)
        status = ln_monitor_run(facts.reference, current, &options, &report, &err);
    if (status == LN_OK)
        ln_log(LN_LOG_DEBUG, "current data loaded and scored in %.3f s; compared in %.3f s", loaded - started,
               seconds_now() - loaded);

    int exit_code = status == LN_OK ? print_report(&args, &info, report, &err) : cli_fail(&err);
    ln_monitor_report_free(report);
    ln_monitor_current_free(current);
    ln_pipeline_free(pipeline);
    facts_free(&facts);
    ln_model_free(model);
    ln_version_info_clear(&info);
    return exit_code;
}
