/* lanner profile: column statistics, an HTML page and an inferred data contract. */
#include <getopt.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lanner/contract.h"
#include "lanner/log.h"

typedef struct profile_args {
    const char *source;
    const char *query;
    const char *target;
    const char *positive;
    const char *html_path;
    const char *contract_path;
    ln_load_options load;
    cli_common common;
} profile_args;

static void print_profile_help(void)
{
    printf("Usage: lanner profile DATA [OPTIONS]\n"
           "\n"
           "Profiles each column of DATA: type, missing values, distinct values, range,\n"
           "mean, standard deviation, quantiles (1, 5, 25, 50, 75, 95, 99%%), a histogram\n"
           "or the top categories, and with --target each column's AUC on its own. Can\n"
           "write an HTML page and a data contract for 'lanner validate'.\n"
           "\n"
           "DATA is a CSV file (.gz and .zst too), or sqlite:FILE or a postgres:// URL with --query.\n"
           "\n"
           "Options:\n"
           "  --query SQL           query for an SQLite source\n"
           "  --target COLUMN       the outcome column: adds the positive rate and each column's AUC\n"
           "  --positive VALUE      the target value that counts as positive (default: 1)\n"
           "  --html FILE           write a self-contained HTML page with a chart per column\n"
           "  --contract-out FILE   write a data contract (YAML) inferred from this data\n"
           "  --delimiter C         CSV delimiter: , ; | or tab (default: detected)\n"
           "  --threads N           loader threads (default: all cores)\n"
           "  --json                print the whole profile as JSON on stdout\n"
           "  --quiet               print only warnings and errors on stderr\n"
           "  --verbose             print timings on stderr\n"
           "  --help                show this help\n");
}

static int parse_profile_args(int argc, char **argv, profile_args *args)
{
    static const struct option options[] = {
        {"query", required_argument, NULL, 's'},     {"target", required_argument, NULL, 'T'},
        {"positive", required_argument, NULL, 'P'},  {"html", required_argument, NULL, 'H'},
        {"contract-out", required_argument, NULL, 'C'}, {"delimiter", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'},   {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},           {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    int option;

    memset(args, 0, sizeof *args);
    ln_load_options_default(&args->load);
    optind = 1;
    while ((option = getopt_long(argc, argv, "hqv", options, NULL)) != -1) {
        switch (option) {
        case 's': args->query = optarg; break;
        case 'T': args->target = optarg; break;
        case 'P': args->positive = optarg; break;
        case 'H': args->html_path = optarg; break;
        case 'C': args->contract_path = optarg; break;
        case 'd':
            if (cli_parse_delimiter("profile", optarg, &args->load.delimiter) != 0)
                return EXIT_USAGE;
            break;
        case 't':
            if (cli_parse_threads("profile", optarg, &args->load.threads) != 0)
                return EXIT_USAGE;
            break;
        case 'j': args->common.json = 1; break;
        case 'q': args->common.quiet = 1; break;
        case 'v': args->common.verbose = 1; break;
        case 'h': print_profile_help(); return -1;
        default: return cli_usage_error("profile", "invalid option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("profile", "expected one data source, found %d arguments", argc - optind);
    if (args->positive != NULL && args->target == NULL)
        return cli_usage_error("profile", "--positive goes with --target COLUMN");
    args->source = argv[optind];
    return 0;
}

static double seconds_now(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

/* Describes the source for the contract's header: the path, and the query for SQLite. */
static void describe_source(const profile_args *args, char *buffer, size_t capacity)
{
    if (args->query != NULL)
        snprintf(buffer, capacity, "%s (query: %s)", args->source, args->query);
    else
        snprintf(buffer, capacity, "%s", args->source);
}

static ln_status write_outputs(const profile_args *args, const ln_profile *profile, ln_error *err)
{
    char source[1024];

    describe_source(args, source, sizeof source);
    if (args->html_path != NULL) {
        ln_status status = ln_profile_write_html(profile, args->html_path, source, err);
        if (status != LN_OK)
            return status;
        ln_log(LN_LOG_INFO, "wrote the HTML profile to %s", args->html_path);
    }
    if (args->contract_path != NULL) {
        ln_contract *contract = NULL;
        if (profile->n_rows == 0)
            ln_log(LN_LOG_WARN, "%s has no rows: the inferred contract checks only column names and types",
                   source);
        ln_status status = ln_contract_infer(profile, &contract, err);
        if (status == LN_OK)
            status = ln_contract_write_yaml(contract, args->contract_path, source, err);
        ln_contract_free(contract);
        if (status != LN_OK)
            return status;
        ln_log(LN_LOG_INFO, "wrote the inferred contract to %s", args->contract_path);
    }
    return LN_OK;
}

int cmd_profile(int argc, char **argv)
{
    profile_args args;
    int parsed = parse_profile_args(argc, argv, &args);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    cli_setup_logging(&args.common);

    ln_error err = {0};
    ln_table *table = NULL;
    double started = seconds_now();
    clock_t started_cpu = clock();
    if (cli_load_table(args.source, args.query, &args.load, &table, &err) != LN_OK)
        return cli_fail(&err);
    double loaded = seconds_now();
    clock_t loaded_cpu = clock();

    ln_profile *profile = NULL;
    if (ln_profile_table(table, args.target, args.positive, &profile, &err) != LN_OK) {
        ln_table_free(table);
        return cli_fail(&err);
    }
    ln_log(LN_LOG_DEBUG, "loaded %zu rows x %zu columns in %.3f s (%.3f s CPU), profiled them in %.3f s (%.3f s CPU)",
           table->n_rows, table->n_cols, loaded - started, (double)(loaded_cpu - started_cpu) / CLOCKS_PER_SEC,
           seconds_now() - loaded, (double)(clock() - loaded_cpu) / CLOCKS_PER_SEC);
    ln_table_free(table);

    int code = EXIT_SUCCESS;
    if (write_outputs(&args, profile, &err) != LN_OK) {
        code = cli_fail(&err);
    } else if (args.common.json) {
        json_t *root = ln_profile_to_json(profile);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        printf("\n");
        json_decref(root);
    } else {
        ln_profile_print(profile, stdout);
    }
    ln_profile_free(profile);
    return code;
}
