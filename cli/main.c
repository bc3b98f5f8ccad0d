/*
 * lanner: from a hand-written decision rule to a trusted model in production.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", cmd_run, "run a pipeline: load, split, train, choose the threshold, report, register"},
    {"predict", cmd_predict, "score a data file with a model and write score and flag per row"},
    {"evaluate", cmd_evaluate, "evaluate a saved model on new data against the rule, with payoffs and slices"},
    {"demo", cmd_demo, "generate the order-fraud warehouse and run its pipeline end to end"},
    {"head", cmd_head, "show the first rows of a data source"},
    {"schema", cmd_schema, "show the inferred type of each column of a data source"},
    {"models", cmd_models, "list, show, promote, roll back, audit and compare registered models"},
    {"model", cmd_model, "show a model file: parameters, features, importance, calibration, trees"},
    {"runs", cmd_runs, "list a pipeline's runs and show which steps each reused from the cache"},
    {"lineage", cmd_lineage, "show where a registered model came from: data, run, model, registry"},
    {"profile", cmd_profile, "profile each column and infer a data contract (--contract-out)"},
    {"validate", cmd_validate, "check a data source against a data contract"},
    {"serve", cmd_serve, "serve the production models over HTTP, with hot reload and a prediction log"},
    {"monitor", cmd_monitor, "compare current data and outcomes with a registered model's training reference"},
};

static void print_help(FILE *out)
{
    fprintf(out,
            "Usage: lanner COMMAND [OPTIONS]\n"
            "\n"
            "Takes a decision made today by a hand-written rule to a trusted model:\n"
            "train, compare with the rule in money terms, register, predict.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Every command takes --help. Exit codes: 0 ok, 1 failure, 2 bad usage or\n"
            "configuration, 3 a check or alert fired.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return EXIT_SUCCESS;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("lanner %s\n", LANNER_VERSION);
        return EXIT_SUCCESS;
    }

    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "lanner: error: unknown command '%s'\nTry 'lanner --help'.\n", argv[1]);
    return EXIT_USAGE;
}
