#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lanner/io.h"
#include "lanner/pipeline.h"

static void print_run_help(void)
{
    printf("Usage: lanner run PIPELINE.yaml [OPTIONS]\n"
           "\n"
           "Loads the pipeline's data, splits it into train, valid and test, evaluates the\n"
           "rule in use, trains the model, chooses the decision threshold that maximises\n"
           "total payoff on the valid split, reports model, rule and flag-nothing on the\n"
           "test split, writes runs/<name>-<time>/ and registers the model. A step whose\n"
           "inputs are unchanged since an earlier run is reused from the step cache.\n"
           "\n"
           "Options:\n"
           "  --data PATH        read this CSV file instead of the pipeline's data source\n"
           "  --registry PATH    registry database (default: lanner.db beside the pipeline)\n"
           "  --runs-dir DIR     where run folders go (default: runs/ beside the pipeline)\n"
           "  --threads N        worker threads for training and prediction (default: all cores)\n"
           "  --no-register      do not add the model to the registry\n"
           "  --save-splits      also write train.csv and valid.csv to the run folder (test.csv\n"
           "                     is always written)\n"
           "  --no-cache         run every step; neither read nor write the step cache\n"
           "  --cache-dir DIR    step cache folder (default: .lanner-cache beside the pipeline,\n"
           "                     or inside --runs-dir when given)\n"
           "  --cache-limit MB   after the run, remove the least recently used cache entries of\n"
           "                     earlier runs until the cache takes at most MB megabytes\n"
           "                     (default 4096; 0 = no limit)\n"
           "  --promote          promote the registered model when the pipeline's gate passes;\n"
           "                     exit code 3 when it fails (the model stays a candidate)\n"
           "  --json             print the run's metrics as one JSON object on stdout\n"
           "  --quiet            print only warnings and errors on stderr\n"
           "  --verbose          print debug logs\n"
           "  --help             show this help\n");
}

static const char *money(double value, char *buffer, size_t capacity)
{
    snprintf(buffer, capacity, "%+.2f", value);
    return buffer;
}

static void print_interval(const char *against, const ln_bootstrap_interval *interval)
{
    if (interval->n_resamples == 0)
        return;
    printf("Gain over %s: %+.2f, 95%% interval [%+.2f, %+.2f] (%zu bootstrap resamples of the test rows).\n",
           against, interval->difference, interval->lower, interval->upper, interval->n_resamples);
}

void cli_print_run_summary(const char *name, const ln_run_result *result)
{
    char a[64], b[64], c[64];
    const ln_policy_result *model = &result->model;
    const ln_policy_result *rule = &result->baseline;

    printf("\n%s: %zu train, %zu valid, %zu test rows\n", name, result->rows_train, result->rows_valid,
           result->rows_test);
    printf("%-14s %8s %8s %8s %10s %16s %14s\n", "on test", "ROC AUC", "PR AUC", "log loss", "flag rate",
           "payoff", "per 1,000 rows");
    printf("%-14s %8.4f %8.4f %8.4f %9.2f%% %16.2f %14.2f\n", "model", model->auc, model->pr_auc, model->log_loss,
           model->flag_rate * 100, model->payoff, model->payoff_per_1000);
    printf("%-14s %8.4f %8.4f %8s %9.2f%% %16.2f %14.2f\n", "rule in use", rule->auc, rule->pr_auc, "-",
           rule->flag_rate * 100, rule->payoff, rule->payoff_per_1000);
    if (result->production_version > 0)
        printf("%-14s %8.4f %8.4f %8.4f %9.2f%% %16.2f %14.2f\n", "production", result->production.auc,
               result->production.pr_auc, result->production.log_loss, result->production.flag_rate * 100,
               result->production.payoff, result->production.payoff_per_1000);
    printf("%-14s %8s %8s %8s %9.2f%% %16.2f %14.2f\n", result->n_actions > 1 ? "default for all" : "flag nothing",
           "-", "-", "-", 0.0, result->nothing.payoff, result->nothing.payoff_per_1000);

    if (result->n_actions > 1) {
        printf("\nPolicy (thresholds chosen on the valid split):\n");
        for (size_t k = 0; k < result->n_actions; k++)
            printf("  %-12s score >= %-10.6g %6.2f%% of test rows, payoff %.2f\n", result->actions[k].name,
                   result->actions[k].threshold, result->actions[k].test_rate * 100, result->actions[k].test_payoff);
    } else if (isfinite(model->threshold)) {
        printf("\nThreshold %.6g (chosen on the valid split) flags %.2f%% of test rows.\n", model->threshold,
               model->flag_rate * 100);
    } else {
        printf("\nOn the valid split no threshold beats flagging nothing, so the model flags nothing.\n");
    }
    printf("Model vs rule in use: %s payoff on test (%s per 1,000 rows); vs flagging nothing: %s.\n",
           money(model->payoff - rule->payoff, a, sizeof a),
           money(model->payoff_per_1000 - rule->payoff_per_1000, b, sizeof b),
           money(model->payoff - result->nothing.payoff, c, sizeof c));
    print_interval("rule in use", &result->gain_over_baseline);
    if (result->production_version > 0)
        print_interval("production", &result->gain_over_production);
    if (result->slice_regressions > 0)
        printf("The model does worse than the rule or production on %zu slices (see the report).\n",
               result->slice_regressions);
    printf("Run folder: %s\n", result->run_dir);
    printf("Report:     %s\n", result->report_path);
    if (result->registry_version > 0)
        printf("Registered: %s version %d in %s\n", result->registry_name, result->registry_version,
               result->registry_path);
}

static const char *percent_or_dash(char *buffer, size_t capacity, double share)
{
    if (isnan(share))
        snprintf(buffer, capacity, "-");
    else
        snprintf(buffer, capacity, "%.2f%%", share * 100);
    return buffer;
}

/* "reused: load, split, train; ran: evaluate" */
static void print_steps(const ln_run_result *result)
{
    for (int reused = 1; reused >= 0; reused--) {
        int first = 1;
        for (size_t i = 0; i < result->n_steps; i++) {
            if (result->steps[i].reused != reused)
                continue;
            const char *lead = reused ? "Steps reused: " : "ran: ";
            printf("%s%s", first ? lead : ", ", result->steps[i].name);
            first = 0;
        }
        if (first)
            printf("%s", reused ? "Steps reused: none" : "ran: none");
        printf("%s", reused ? "; " : "\n");
    }
}

static void print_gate(const ln_run_result *result, int promote_requested)
{
    printf("Gate %s", result->gate_passed ? "passed" : "failed");
    if (result->promoted)
        printf(": promoted %s version %d to production\n", result->registry_name, result->registry_version);
    else if (promote_requested && result->registry_version > 0)
        printf(result->gate_passed ? "\n" : ": %s version %d stays a candidate\n", result->registry_name,
               result->registry_version);
    else
        printf("%s\n", result->gate_passed ? " (run with --promote to promote)" : "");
    for (size_t i = 0; i < result->n_gate_rules; i++)
        printf("  %-6s %s: %s\n", result->gate_rules[i].passed ? "pass" : "FAIL", result->gate_rules[i].name,
               result->gate_rules[i].detail);
    for (size_t c = 0; c < result->n_consumers; c++) {
        const ln_consumer_report *report = &result->consumers[c];
        char before[32], changed[32], psi[32];
        printf("  downstream %s: share of rows %s -> %.2f%%, decisions changed %s, score PSI %s\n", report->name,
               percent_or_dash(before, sizeof before, report->rate_before), report->rate_after * 100,
               percent_or_dash(changed, sizeof changed, report->changed),
               isnan(report->psi) ? "-" : (snprintf(psi, sizeof psi, "%.4f", report->psi), psi));
    }
}

int cli_print_file(const char *path)
{
    char *text = NULL;
    size_t size = 0;
    ln_error err = {0};

    if (ln_read_file(path, 1u << 30, &text, &size, &err) != LN_OK)
        return cli_fail(&err);
    fwrite(text, 1, size, stdout);
    fputc('\n', stdout);
    free(text);
    return EXIT_SUCCESS;
}

/* Parses a count of megabytes (10^6 bytes) into bytes. Returns -1 when it is not a whole number or too large. */
static int parse_cache_limit(const char *text, uint64_t *bytes)
{
    char *end = NULL;
    errno = 0;
    unsigned long long megabytes = strtoull(text, &end, 10);
    if (errno != 0 || text[0] < '0' || text[0] > '9' || *end != '\0' || megabytes > UINT64_MAX / 1000000)
        return -1;
    *bytes = (uint64_t)megabytes * 1000000;
    return 0;
}

int cmd_run(int argc, char **argv)
{
    static const struct option options[] = {
        {"data", required_argument, NULL, 'd'},      {"registry", required_argument, NULL, 'r'},
        {"runs-dir", required_argument, NULL, 'o'},  {"threads", required_argument, NULL, 't'},
        {"no-register", no_argument, NULL, 'n'},     {"json", no_argument, NULL, 'j'},
        {"save-splits", no_argument, NULL, 's'},     {"no-cache", no_argument, NULL, 'c'},
        {"cache-dir", required_argument, NULL, 'C'}, {"promote", no_argument, NULL, 'P'},
        {"cache-limit", required_argument, NULL, 'L'},
        {"quiet", no_argument, NULL, 'q'},           {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    cli_common common = {0};
    ln_run_options run_options;
    int option;

    ln_run_options_default(&run_options);
    optind = 1;
    while ((option = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
        switch (option) {
        case 'd': run_options.data_override_csv = optarg; break;
        case 'r': run_options.registry_path = optarg; break;
        case 'o': run_options.runs_dir = optarg; break;
        case 't':
            if (cli_parse_threads("run", optarg, &run_options.threads) != 0)
                return EXIT_USAGE;
            break;
        case 'n': run_options.register_model = 0; break;
        case 's': run_options.save_splits = 1; break;
        case 'c': run_options.use_cache = 0; break;
        case 'C': run_options.cache_dir = optarg; break;
        case 'L':
            if (parse_cache_limit(optarg, &run_options.cache_limit_bytes) != 0)
                return cli_usage_error("run", "--cache-limit is '%s'; expected a whole number of megabytes, 0 or more",
                                       optarg);
            break;
        case 'P': run_options.promote = 1; break;
        case 'j': common.json = 1; break;
        case 'q': common.quiet = 1; break;
        case 'v': common.verbose = 1; break;
        case 'h': print_run_help(); return EXIT_SUCCESS;
        default: return cli_usage_error("run", "invalid option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("run", "expected one pipeline file, found %d arguments", argc - optind);
    if (run_options.promote && !run_options.register_model)
        return cli_usage_error("run", "--promote needs the registry; drop --no-register");
    cli_setup_logging(&common);

    ln_error err = {0};
    ln_pipeline *pipeline = NULL;
    ln_run_result result;
    if (ln_pipeline_load(argv[optind], &pipeline, &err) != LN_OK)
        return cli_fail(&err);

    ln_status status = ln_pipeline_run(pipeline, &run_options, &result, &err);
    if (status != LN_OK) {
        ln_pipeline_free(pipeline);
        return cli_fail(&err);
    }

    int exit_code = EXIT_SUCCESS;
    if (common.json) {
        exit_code = cli_print_file(result.metrics_path);
    } else {
        cli_print_run_summary(pipeline->name, &result);
        print_gate(&result, run_options.promote);
        print_steps(&result);
        printf("Finished in %.2f s.\n", result.seconds_total);
    }
    if (exit_code == EXIT_SUCCESS && run_options.promote && !result.gate_passed) {
        char failed[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < result.n_gate_rules && used < sizeof failed; i++) {
            if (!result.gate_rules[i].passed)
                used += (size_t)snprintf(failed + used, sizeof failed - used, "%s%s", used ? ", " : "",
                                         result.gate_rules[i].name);
        }
        fprintf(stderr, "lanner: error: the gate failed (%s); %s version %d is registered as a candidate and not "
                        "promoted\n", failed, result.registry_name, result.registry_version);
        exit_code = EXIT_CHECK;
    }
    ln_pipeline_free(pipeline);
    return exit_code;
}
