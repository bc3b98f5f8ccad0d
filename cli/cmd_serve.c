#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lanner/io.h"
#include "lanner/serve.h"

static void print_serve_help(void)
{
    printf("Usage: lanner serve [OPTIONS]\n"
           "\n"
           "Serves the production version of every model in the registry over HTTP,\n"
           "reloads a model when another version is promoted (polled every 500 ms,\n"
           "and at once on SIGHUP), and logs every prediction as a JSON line.\n"
           "SIGTERM or SIGINT stops it after the requests in flight finish.\n"
           "\n"
           "Endpoints: POST /v1/models/NAME:predict, POST /invocations (MLflow),\n"
           "GET /v1/models, GET /v1/models/NAME, /healthz, /readyz, /metrics.\n"
           "docs/serving.md describes them.\n"
           "\n"
           "Options:\n"
           "  --registry PATH    registry database (default: lanner.db)\n"
           "  --host ADDRESS     numeric address to listen on (default: 127.0.0.1)\n"
           "  --port N           TCP port (default: 8080; 0 picks a free port)\n"
           "  --port-file PATH   write the port listened on to PATH once listening\n"
           "  --threads N        HTTP worker threads (default: one per core)\n"
           "  --token TOKEN      require 'Authorization: Bearer TOKEN' (except on\n"
           "                     /healthz, /readyz, /ping); prefer the environment\n"
           "                     variable LANNER_SERVE_TOKEN, which ps cannot show\n"
           "  --max-body BYTES   largest request body (default: 1048576)\n"
           "  --log-dir DIR      prediction log folder (default: predictions/ beside\n"
           "                     the registry)\n"
           "  --no-log           write no prediction log\n"
           "  --enforce-contract answer 422 to an instance that breaks an error-level\n"
           "                     rule of the model's data contract (default: make\n"
           "                     the prediction and add \"warnings\" to it)\n"
           "  --quiet            print only warnings and errors on stderr\n"
           "  --help             show this help\n");
}

typedef struct serve_args {
    ln_serve_options options;
    const char *port_file;
    cli_common common;
} serve_args;

static int parse_count(const char *option, const char *text, long long min, long long max, long long *out)
{
    char *end;
    long long value = strtoll(text, &end, 10);

    if (end == text || *end != '\0' || value < min || value > max)
        return cli_usage_error("serve", "%s must be a whole number in %lld..%lld, found '%s'", option, min, max, text);
    *out = value;
    return 0;
}

static int parse_serve_args(int argc, char **argv, serve_args *args)
{
    static const struct option options[] = {
        {"registry", required_argument, NULL, 'r'}, {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},     {"port-file", required_argument, NULL, 'P'},
        {"threads", required_argument, NULL, 't'},  {"token", required_argument, NULL, 'k'},
        {"max-body", required_argument, NULL, 'b'}, {"log-dir", required_argument, NULL, 'l'},
        {"no-log", no_argument, NULL, 'n'}, {"enforce-contract", no_argument, NULL, 'E'},         {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    long long value = 0;
    int option;

    memset(args, 0, sizeof *args);
    ln_serve_options_default(&args->options);
    args->options.token = getenv("LANNER_SERVE_TOKEN");
    optind = 1;
    while ((option = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
        switch (option) {
        case 'r': args->options.registry_path = optarg; break;
        case 'H': args->options.host = optarg; break;
        case 'p':
            if (parse_count("--port", optarg, 0, 65535, &value))
                return EXIT_USAGE;
            args->options.port = (int)value;
            break;
        case 'P': args->port_file = optarg; break;
        case 't':
            if (parse_count("--threads", optarg, 1, LN_SERVE_MAX_THREADS, &value))
                return EXIT_USAGE;
            args->options.threads = (int)value;
            break;
        case 'k': args->options.token = optarg; break;
        case 'b':
            if (parse_count("--max-body", optarg, 2, LN_SERVE_MAX_BODY_LIMIT, &value))
                return EXIT_USAGE;
            args->options.max_body = (size_t)value;
            break;
        case 'l': args->options.log_dir = optarg; break;
        case 'n': args->options.no_log = 1; break;
        case 'E': args->options.enforce_contract = 1; break;
        case 'q': args->common.quiet = 1; break;
        case 'h': print_serve_help(); return -1;
        default: return cli_usage_error("serve", "invalid option");
        }
    }
    if (optind != argc)
        return cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (args->options.log_dir != NULL && args->options.no_log)
        return cli_usage_error("serve", "--log-dir and --no-log contradict each other");
    return 0;
}

static ln_status write_port_file(const char *path, int port, ln_error *err)
{
    char text[16];
    int length = snprintf(text, sizeof text, "%d\n", port);
    return ln_write_file_atomic(path, text, (size_t)length, err);
}

/* Waits for signals on this thread: SIGHUP reloads, SIGTERM and SIGINT stop. */
static void wait_for_stop(ln_server *server, const sigset_t *signals)
{
    for (;;) {
        int signal_number = 0;
        if (sigwait(signals, &signal_number) != 0)
            continue;
        if (signal_number == SIGHUP) {
            ln_server_reload(server);
            continue;
        }
        return;
    }
}

int cmd_serve(int argc, char **argv)
{
    serve_args args;
    int parsed = parse_serve_args(argc, argv, &args);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    cli_setup_logging(&args.common);

    /* Blocked before the server starts, so its threads inherit the mask and only sigwait receives the signals. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    ln_error err = {0};
    ln_server *server = NULL;
    ln_status status = ln_server_start(&args.options, &server, &err);
    if (status == LN_OK && args.port_file != NULL)
        status = write_port_file(args.port_file, ln_server_port(server), &err);
    if (status != LN_OK) {
        ln_server_stop(server);
        return cli_fail(&err);
    }

    wait_for_stop(server, &signals);
    ln_server_stop(server);
    return EXIT_SUCCESS;
}
