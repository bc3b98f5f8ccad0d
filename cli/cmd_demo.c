#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lanner/demo.h"
#include "lanner/io.h"
#include "lanner/pipeline.h"

/*
 * The demo pipeline: the payoffs of an online shop where a shipped fraud costs
 * the order amount plus a chargeback fee, and a shipped good order earns a
 * 10% margin. A cancelled good order loses that margin and costs support time.
 */
static const char demo_pipeline[] =
    "# Order fraud: does a model beat the rule in use today, in money?\n"
    "name: order-fraud\n"
    "data:\n"
    "  sqlite: warehouse.db\n"
    "  query: \"SELECT * FROM orders WHERE created_at < '2026-08-01'\"\n"
    "target: is_fraud\n"
    "positive: 1\n"
    "id: order_id\n"
    "time: created_at\n"
    "ignore: [customer_email]\n"
    "split: {valid: 0.15, test: 0.2, seed: 7}\n"
    "baseline:\n"
    "  rule: \"billing_country != shipping_country\"\n"
    "model:\n"
    "  type: gbdt\n"
    "  trees: 300\n"
    "  max_leaves: 31\n"
    "  learning_rate: 0.05\n"
    "outcome:\n"
    "  true_positive: \"0\"                 # a fraudulent order cancelled\n"
    "  false_positive: \"-2\"               # a good order cancelled: support cost (its margin is lost too)\n"
    "  false_negative: \"-amount - 15\"     # a fraudulent order shipped: chargeback and fee\n"
    "  true_negative: \"0.1 * amount\"      # a good order shipped: the margin\n"
    "  max_flag_rate: 0.05                # the team can review at most 5% of orders\n";

static void print_demo_help(void)
{
    printf("Usage: lanner demo [OPTIONS]\n"
           "\n"
           "Generates a seeded SQLite warehouse of online orders with realistic fraud\n"
           "signals, writes a pipeline that reads it by SQL query, runs the pipeline and\n"
           "says what the model adds over the rule in use (billing country differs from\n"
           "shipping country) in money.\n"
           "\n"
           "Options:\n"
           "  --dir DIR        folder for warehouse.db, pipeline.yaml, runs/ and lanner.db\n"
           "                   (default: lanner-demo)\n"
           "  --orders N       orders to generate (default: 200000)\n"
           "  --seed N         generator seed (default: 7)\n"
           "  --threads N      worker threads (default: all cores)\n"
           "  --json           print the run's metrics as JSON on stdout\n"
           "  --quiet          print only warnings and errors on stderr\n"
           "  --help           show this help\n");
}

static void print_story(const ln_run_result *result)
{
    const ln_policy_result *model = &result->model;
    const ln_policy_result *rule = &result->baseline;
    double gain = model->payoff - rule->payoff;

    printf("\nWhat the model adds, on %zu test orders (the latest %.0f%% by time):\n", result->rows_test,
           100.0 * (double)result->rows_test /
               (double)(result->rows_train + result->rows_valid + result->rows_test));
    printf("  The rule in use flags %.2f%% of orders and catches %zu frauds: payoff %.2f.\n",
           rule->flag_rate * 100, rule->true_positives, rule->payoff);
    printf("  The model flags %.2f%% of orders and catches %zu frauds: payoff %.2f.\n", model->flag_rate * 100,
           model->true_positives, model->payoff);
    printf("  %s %.2f (%.2f per 1,000 orders) %s the rule; flagging nothing would pay %.2f.\n",
           gain >= 0 ? "The model earns" : "The model loses", fabs(gain),
           fabs(model->payoff_per_1000 - rule->payoff_per_1000), gain >= 0 ? "more than" : "against",
           result->nothing.payoff);
    printf("  Open %s to see why.\n", result->report_path);
}

typedef struct demo_args {
    const char *dir;
    ln_demo_options generator;
    int threads;
    cli_common common;
} demo_args;

static int parse_demo_args(int argc, char **argv, demo_args *args)
{
    static const struct option options[] = {
        {"dir", required_argument, NULL, 'd'},  {"orders", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'}, {"threads", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},       {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    int option;
    char *end;

    memset(args, 0, sizeof *args);
    args->dir = "lanner-demo";
    args->generator.n_orders = 200000;
    args->generator.seed = 7;
    optind = 1;
    while ((option = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
        switch (option) {
        case 'd': args->dir = optarg; break;
        case 'n':
            args->generator.n_orders = strtoull(optarg, &end, 10);
            if (end == optarg || *end || args->generator.n_orders < 1000 || args->generator.n_orders > LN_DEMO_MAX_ORDERS)
                return cli_usage_error("demo", "--orders must be a whole number from 1000 to 10000000, found '%s'", optarg);
            break;
        case 's':
            args->generator.seed = strtoull(optarg, &end, 10);
            if (end == optarg || *end)
                return cli_usage_error("demo", "--seed must be a whole number, found '%s'", optarg);
            break;
        case 't':
            if (cli_parse_threads("demo", optarg, &args->threads) != 0)
                return EXIT_USAGE;
            break;
        case 'j': args->common.json = 1; break;
        case 'q': args->common.quiet = 1; break;
        case 'h': print_demo_help(); return -1;
        default: return cli_usage_error("demo", "invalid option");
        }
    }
    if (optind != argc)
        return cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    demo_args args;
    int parsed = parse_demo_args(argc, argv, &args);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    cli_setup_logging(&args.common);

    char warehouse[PATH_MAX], pipeline_path[PATH_MAX];
    ln_error err = {0};
    ln_status status = ln_make_dirs(args.dir, &err);
    if (status == LN_OK)
        status = ln_path_join(args.dir, "warehouse.db", warehouse, sizeof warehouse, &err);
    if (status == LN_OK)
        status = ln_path_join(args.dir, "pipeline.yaml", pipeline_path, sizeof pipeline_path, &err);
    if (status == LN_OK) {
        if (!args.common.quiet)
            fprintf(stderr, "lanner: generating %zu orders into %s\n", args.generator.n_orders, warehouse);
        status = ln_demo_generate(warehouse, &args.generator, &err);
    }
    if (status == LN_OK)
        status = ln_write_file_atomic(pipeline_path, demo_pipeline, sizeof demo_pipeline - 1, &err);
    if (status != LN_OK)
        return cli_fail(&err);

    ln_pipeline *pipeline = NULL;
    ln_run_options run_options;
    ln_run_result result;
    ln_run_options_default(&run_options);
    run_options.threads = args.threads;
    if (ln_pipeline_load(pipeline_path, &pipeline, &err) != LN_OK)
        return cli_fail(&err);
    status = ln_pipeline_run(pipeline, &run_options, &result, &err);
    if (status != LN_OK) {
        ln_pipeline_free(pipeline);
        return cli_fail(&err);
    }

    int exit_code = EXIT_SUCCESS;
    if (args.common.json) {
        exit_code = cli_print_file(result.metrics_path);
    } else {
        cli_print_run_summary(pipeline->name, &result);
        print_story(&result);
    }
    ln_pipeline_free(pipeline);
    return exit_code;
}
