#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "lanner/io.h"
#include "lanner/pipeline.h"
#include "lanner/registry.h"

static void print_evaluate_help(void)
{
    printf("Usage: lanner evaluate --model MODEL --data DATA [OPTIONS]\n"
           "\n"
           "Scores DATA with a saved model and compares it with the pipeline's rule in use\n"
           "and with flagging nothing (the default for every row), using the pipeline's\n"
           "payoffs and slices and the thresholds stored in the model. Nothing is written.\n"
           "\n"
           "Options:\n"
           "  --model MODEL      a model file, or NAME@VERSION from the registry\n"
           "  --data DATA        a CSV file, or an SQLite database with --query\n"
           "  --query SQL        the query to run with an SQLite --data\n"
           "  --pipeline PATH    the pipeline file (default: the pipeline.yaml of the run that made the model)\n"
           "  --registry PATH    registry database for NAME@VERSION (default: lanner.db)\n"
           "  --json             print the metrics as one JSON object on stdout\n"
           "  --quiet            print only warnings and errors on stderr\n"
           "  --verbose          print debug logs\n"
           "  --help             show this help\n"
           "\n"
           "Exit codes: 0 ok, 1 failure, 2 bad usage, including data without a column the\n"
           "model, the rule or a payoff expression needs.\n");
}

static int file_exists(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0;
}

/* pipeline.yaml in the model file's folder, where lanner run leaves it. */
static void default_pipeline(const char *model_path, char *out, size_t capacity)
{
    const char *slash = strrchr(model_path, '/');
    if (slash == NULL)
        snprintf(out, capacity, "pipeline.yaml");
    else
        snprintf(out, capacity, "%.*s/pipeline.yaml", (int)(slash - model_path), model_path);
}

/*
 * Resolves MODEL: an existing file as given, else NAME@VERSION in the
 * registry. Also names the pipeline that produced it: the one in the model
 * file's folder, or in the registered version's run folder.
 */
static ln_status resolve_model(const char *reference, const char *registry_path, char *path, size_t capacity,
                               char *pipeline, size_t pipeline_capacity, ln_error *err)
{
    const char *at = strrchr(reference, '@');
    if (file_exists(reference) || at == NULL) {
        snprintf(path, capacity, "%s", reference);
        default_pipeline(path, pipeline, pipeline_capacity);
        return LN_OK;
    }

    char name[LN_REGISTRY_MAX_NAME + 1];
    char *end = NULL;
    long version = strtol(at + 1, &end, 10);
    if ((size_t)(at - reference) > LN_REGISTRY_MAX_NAME || end == at + 1 || *end != '\0' || version < 1 ||
        version > INT_MAX)
        return ln_error_set(err, LN_ERR_CONFIG, "--model '%s' is neither a file nor NAME@VERSION", reference);
    snprintf(name, sizeof name, "%.*s", (int)(at - reference), reference);

    ln_registry *registry = NULL;
    ln_version_info info;
    ln_status status = ln_registry_open(registry_path, &registry, err);
    if (status == LN_OK)
        status = ln_registry_get(registry, name, (int)version, &info, err);
    ln_registry_close(registry);
    if (status != LN_OK)
        return status;
    snprintf(path, capacity, "%s", info.model_path);
    snprintf(pipeline, pipeline_capacity, "%.4000s/pipeline.yaml", info.run_dir);
    ln_version_info_clear(&info);
    return LN_OK;
}

static void print_row(const char *name, const ln_policy_result *policy, int scored)
{
    if (scored)
        printf("%-16s %8.4f %8.4f %9.2f%% %16.2f %14.2f\n", name, policy->auc, policy->pr_auc,
               policy->flag_rate * 100, policy->payoff, policy->payoff_per_1000);
    else
        printf("%-16s %8s %8s %9.2f%% %16.2f %14.2f\n", name, "-", "-", policy->flag_rate * 100, policy->payoff,
               policy->payoff_per_1000);
}

static void print_summary(const char *name, const ln_run_result *result)
{
    const ln_bootstrap_interval *gain = &result->gain_over_baseline;

    printf("\n%s: %zu rows evaluated\n", name, result->rows_test);
    printf("%-16s %8s %8s %10s %16s %14s\n", "", "ROC AUC", "PR AUC", "flag rate", "payoff", "per 1,000 rows");
    print_row("model", &result->model, 1);
    print_row("rule in use", &result->baseline, 1);
    print_row(result->n_actions > 1 ? "default for all" : "flag nothing", &result->nothing, 0);
    for (size_t k = 0; k < result->n_actions; k++)
        printf("Action %s: score >= %.6g, %.2f%% of rows\n", result->actions[k].name, result->actions[k].threshold,
               result->actions[k].test_rate * 100);
    printf("Gain over the rule in use: %+.2f, 95%% interval [%+.2f, %+.2f]\n", gain->difference, gain->lower,
           gain->upper);
    if (result->slice_regressions > 0)
        printf("The model does worse than the rule on %zu slices (see --json).\n", result->slice_regressions);
}

int cmd_evaluate(int argc, char **argv)
{
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'},    {"data", required_argument, NULL, 'd'},
        {"query", required_argument, NULL, 'Q'},    {"pipeline", required_argument, NULL, 'p'},
        {"registry", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},          {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *model_reference = NULL, *data_path = NULL, *query = NULL, *pipeline_path = NULL;
    const char *registry_path = "lanner.db";
    cli_common common = {0};
    int option;

    optind = 1;
    while ((option = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
        switch (option) {
        case 'm': model_reference = optarg; break;
        case 'd': data_path = optarg; break;
        case 'Q': query = optarg; break;
        case 'p': pipeline_path = optarg; break;
        case 'r': registry_path = optarg; break;
        case 'j': common.json = 1; break;
        case 'q': common.quiet = 1; break;
        case 'v': common.verbose = 1; break;
        case 'h': print_evaluate_help(); return EXIT_SUCCESS;
        default: return cli_usage_error("evaluate", "invalid option");
        }
    }
    if (model_reference == NULL || data_path == NULL)
        return cli_usage_error("evaluate", "--model and --data are required");
    if (optind != argc)
        return cli_usage_error("evaluate", "unexpected argument '%s'", argv[optind]);
    cli_setup_logging(&common);

    ln_error err = {0};
    char model_path[PATH_MAX], pipeline_default[PATH_MAX];
    if (resolve_model(model_reference, registry_path, model_path, sizeof model_path, pipeline_default,
                      sizeof pipeline_default, &err) != LN_OK)
        return cli_fail(&err);
    if (pipeline_path == NULL)
        pipeline_path = pipeline_default;

    ln_pipeline *pipeline = NULL;
    ln_model *model = NULL;
    ln_table *data = NULL;
    char *json = NULL;
    ln_run_result result;
    ln_status status = ln_pipeline_load(pipeline_path, &pipeline, &err);
    if (status == LN_OK)
        status = ln_model_load(model_path, &model, &err);
    cli_model_load load = {0};
    if (status == LN_OK)
        status = cli_model_load_options(model, &pipeline->load, &load, &err);
    if (status == LN_OK)
        status = cli_load_table(data_path, query, &load.options, &data, &err);
    cli_model_load_free(&load);
    if (status == LN_OK)
        cli_warn_unseen_categories(model, data, data_path);
    if (status == LN_OK)
        status = ln_pipeline_evaluate(pipeline, model, data, model_reference, data_path, &result, &json, &err);

    int exit_code = status == LN_OK ? EXIT_SUCCESS : cli_fail(&err);
    if (status == LN_OK && common.json)
        printf("%s\n", json);
    else if (status == LN_OK)
        print_summary(pipeline->name, &result);
    free(json);
    ln_table_free(data);
    ln_model_free(model);
    ln_pipeline_free(pipeline);
    return exit_code;
}
