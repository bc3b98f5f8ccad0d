/* lanner validate: checks a data source against a data contract. */
#include <getopt.h>
#include <jansson.h>
#include <string.h>

#include "cli.h"
#include "lanner/contract.h"

typedef struct validate_args {
    const char *source;
    const char *query;
    const char *contract_path;
    ln_load_options load;
    cli_common common;
} validate_args;

static void print_validate_help(void)
{
    printf("Usage: lanner validate --contract FILE DATA [OPTIONS]\n"
           "\n"
           "Checks DATA against a data contract (as 'lanner profile --contract-out' writes\n"
           "it) and lists each broken rule with the column, the number of rows and the\n"
           "first rows that break it.\n"
           "\n"
           "DATA is a CSV file (.gz and .zst too), or sqlite:FILE or a postgres:// URL with --query.\n"
           "Exit codes: 0 no error-level rule failed (warnings are printed), 2 invalid\n"
           "contract or data source, 3 an error-level rule failed.\n"
           "\n"
           "Options:\n"
           "  --contract FILE   the contract (YAML)\n"
           "  --query SQL       query for an SQLite source\n"
           "  --delimiter C     CSV delimiter: , ; | or tab (default: detected)\n"
           "  --threads N       loader threads (default: all cores)\n"
           "  --json            print the report as JSON on stdout\n"
           "  --quiet           print only warnings and errors on stderr\n"
           "  --help            show this help\n");
}

static int parse_validate_args(int argc, char **argv, validate_args *args)
{
    static const struct option options[] = {
        {"contract", required_argument, NULL, 'c'}, {"query", required_argument, NULL, 's'},
        {"delimiter", required_argument, NULL, 'd'}, {"threads", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},          {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int option;

    memset(args, 0, sizeof *args);
    ln_load_options_default(&args->load);
    optind = 1;
    while ((option = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
        switch (option) {
        case 'c': args->contract_path = optarg; break;
        case 's': args->query = optarg; break;
        case 'd':
            if (cli_parse_delimiter("validate", optarg, &args->load.delimiter) != 0)
                return EXIT_USAGE;
            break;
        case 't':
            if (cli_parse_threads("validate", optarg, &args->load.threads) != 0)
                return EXIT_USAGE;
            break;
        case 'j': args->common.json = 1; break;
        case 'q': args->common.quiet = 1; break;
        case 'h': print_validate_help(); return -1;
        default: return cli_usage_error("validate", "invalid option");
        }
    }
    if (args->contract_path == NULL)
        return cli_usage_error("validate", "--contract FILE is required");
    if (optind != argc - 1)
        return cli_usage_error("validate", "expected one data source, found %d arguments", argc - optind);
    args->source = argv[optind];
    return 0;
}

/* A contract or data source that cannot be used is bad input (exit 2), except when memory runs out. */
static int fail_input(const ln_error *err)
{
    int code = cli_fail(err);
    return err->status == LN_ERR_NOMEM || err->status == LN_ERR_INTERNAL ? code : EXIT_USAGE;
}

/* Prints one stderr line naming the columns and rules that failed at error level. */
static void print_failure_summary(const ln_validation *report)
{
    size_t listed = 0;

    fprintf(stderr, "lanner: error: validation failed: %zu error-level rule%s broken:", report->errors,
            report->errors == 1 ? "" : "s");
    for (size_t i = 0; i < report->n_violations && listed < 10; i++) {
        const ln_violation *violation = &report->violations[i];
        if (violation->severity != LN_SEVERITY_ERROR)
            continue;
        fprintf(stderr, "%s %s%s%s", listed ? "," : "", violation->column != NULL ? violation->column : "",
                violation->column != NULL ? " " : "", ln_rule_name(violation->rule));
        listed++;
    }
    fprintf(stderr, "%s\n", report->errors > listed ? ", ..." : "");
}

int cmd_validate(int argc, char **argv)
{
    validate_args args;
    int parsed = parse_validate_args(argc, argv, &args);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    cli_setup_logging(&args.common);

    ln_error err = {0};
    ln_contract *contract = NULL;
    if (ln_contract_load(args.contract_path, &contract, &err) != LN_OK)
        return fail_input(&err);

    ln_table *table = NULL;
    if (cli_load_table(args.source, args.query, &args.load, &table, &err) != LN_OK) {
        ln_contract_free(contract);
        return fail_input(&err);
    }

    ln_validation *report = NULL;
    ln_status status = ln_contract_validate(contract, table, &report, &err);
    ln_table_free(table);
    ln_contract_free(contract);
    if (status != LN_OK)
        return cli_fail(&err);

    if (args.common.json) {
        json_t *root = ln_validation_to_json(report);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        printf("\n");
        json_decref(root);
    } else {
        ln_validation_print(report, stdout);
        if (report->n_violations == 0)
            printf("%s: all rules pass on %zu rows\n", args.source, report->n_rows);
    }

    int code = EXIT_SUCCESS;
    if (report->errors > 0) {
        print_failure_summary(report);
        code = EXIT_CHECK;
    }
    ln_validation_free(report);
    return code;
}
