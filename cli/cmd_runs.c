/*
 * lanner runs: the run folders of a pipeline, with what each run reused from
 * the step cache, read from the run.json that lanner run writes.
 */
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* Run folders listed at most; older ones beyond this are left out with a note. */
#define RUNS_MAX_LISTED 10000

static void print_runs_help(void)
{
    printf("Usage: lanner runs list [PIPELINE.yaml | RUNS_DIR] [--json]\n"
           "       lanner runs show RUN_DIR [--json]\n"
           "\n"
           "list: one line per run folder, oldest first: start time (UTC), name, registry\n"
           "version, test payoff of the model, and which steps ran and which were reused\n"
           "from the step cache. A pipeline file means the runs/ folder beside it; the\n"
           "default is ./runs. A folder without run.json is a run that did not finish.\n"
           "show: one run's steps with their cache keys and timings, its gate and metrics.\n");
}

static json_t *load_json(const char *dir, const char *file)
{
    char path[PATH_MAX];

    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return NULL;
    return json_load_file(path, 0, NULL);
}

/* Joins the names of the steps whose "reused" flag equals reused, or "-". */
static void step_names(json_t *record, int reused, char *out, size_t capacity)
{
    json_t *steps = json_object_get(record, "steps");
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(steps) && used < capacity; i++) {
        json_t *step = json_array_get(steps, i);
        if (json_is_true(json_object_get(step, "reused")) != reused)
            continue;
        used += (size_t)snprintf(out + used, capacity - used, "%s%s", used ? "," : "",
                                 json_string_value(json_object_get(step, "name")));
    }
    if (out[0] == '\0')
        snprintf(out, capacity, "-");
}

typedef struct run_entry {
    char name[256];
    char created_at[32];
} run_entry;

static int compare_entries(const void *a, const void *b)
{
    const run_entry *x = a, *y = b;
    int by_time = strcmp(x->created_at, y->created_at);
    return by_time != 0 ? by_time : strcmp(x->name, y->name);
}

/* Collects the run folders of base: every folder not starting with '.'. */
static int collect_runs(const char *base, run_entry **out, size_t *n)
{
    DIR *dir = opendir(base);
    struct dirent *item;
    size_t capacity = 64;

    *n = 0;
    *out = NULL;
    if (dir == NULL)
        return -1;
    run_entry *entries = malloc(capacity * sizeof *entries);
    while (entries != NULL && (item = readdir(dir)) != NULL && *n < RUNS_MAX_LISTED) {
        char path[PATH_MAX];
        struct stat info;
        if (item->d_name[0] == '.' || snprintf(path, sizeof path, "%s/%s", base, item->d_name) >= (int)sizeof path ||
            stat(path, &info) != 0 || !S_ISDIR(info.st_mode))
            continue;
        if (*n == capacity) {
            run_entry *grown = realloc(entries, 2 * capacity * sizeof *entries);
            if (grown == NULL)
                break;
            entries = grown;
            capacity *= 2;
        }
        run_entry *entry = &entries[(*n)++];
        snprintf(entry->name, sizeof entry->name, "%s", item->d_name);
        json_t *record = load_json(path, "run.json");
        snprintf(entry->created_at, sizeof entry->created_at, "%s",
                 json_is_string(json_object_get(record, "created_at"))
                     ? json_string_value(json_object_get(record, "created_at")) : "");
        json_decref(record);
    }
    closedir(dir);
    if (entries == NULL)
        return -1;
    qsort(entries, *n, sizeof *entries, compare_entries);
    *out = entries;
    return 0;
}

static json_t *run_row(const char *base, const run_entry *entry)
{
    char path[PATH_MAX];
    char reused[128], ran[128];

    if (snprintf(path, sizeof path, "%s/%s", base, entry->name) >= (int)sizeof path)
        path[0] = '\0';
    json_t *record = path[0] ? load_json(path, "run.json") : NULL;
    json_t *row = json_object();
    json_object_set_new(row, "dir", json_string(path));
    json_object_set_new(row, "complete", json_boolean(record != NULL));
    json_object_set_new(row, "created_at", record ? json_incref(json_object_get(record, "created_at")) : json_null());
    json_object_set_new(row, "name", record ? json_incref(json_object_get(record, "name")) : json_null());
    json_t *registry = json_object_get(record, "registry");
    json_object_set_new(row, "registry_version",
                        json_is_object(registry) ? json_incref(json_object_get(registry, "version")) : json_null());
    json_t *payoff = json_object_get(record, "test_payoff");
    json_object_set_new(row, "test_payoff", payoff ? json_incref(payoff) : json_null());
    step_names(record, 1, reused, sizeof reused);
    step_names(record, 0, ran, sizeof ran);
    json_object_set_new(row, "reused", json_string(record ? reused : "-"));
    json_object_set_new(row, "ran", json_string(record ? ran : "-"));
    json_decref(record);
    return row;
}

static void print_row(json_t *row, int first)
{
    char version[16] = "-", payoff[32] = "-";
    json_t *value = json_object_get(row, "registry_version");

    if (first)
        printf("%-20s %-20s %7s %14s  %-34s %-34s %s\n", "CREATED", "NAME", "VERSION", "TEST PAYOFF", "RAN",
               "REUSED", "FOLDER");
    if (json_is_integer(value))
        snprintf(version, sizeof version, "%lld", (long long)json_integer_value(value));
    value = json_object_get(row, "test_payoff");
    if (json_is_number(value))
        snprintf(payoff, sizeof payoff, "%.2f", json_number_value(value));
    const char *created = json_string_value(json_object_get(row, "created_at"));
    const char *name = json_string_value(json_object_get(row, "name"));
    printf("%-20s %-20s %7s %14s  %-34s %-34s %s\n", created ? created : "(incomplete)", name ? name : "-", version,
           payoff, json_string_value(json_object_get(row, "ran")), json_string_value(json_object_get(row, "reused")),
           json_string_value(json_object_get(row, "dir")));
}

/* The runs folder named by the argument: a pipeline file's runs/ folder, or the folder itself. */
static int runs_base(const char *argument, char *out, size_t capacity)
{
    struct stat info;
    size_t length = strlen(argument);
    int is_yaml = (length > 5 && strcmp(argument + length - 5, ".yaml") == 0) ||
                  (length > 4 && strcmp(argument + length - 4, ".yml") == 0);

    if (is_yaml) {
        const char *slash = strrchr(argument, '/');
        int written = slash ? snprintf(out, capacity, "%.*s/runs", (int)(slash - argument), argument)
                            : snprintf(out, capacity, "runs");
        return written > 0 && (size_t)written < capacity ? 0 : -1;
    }
    if (stat(argument, &info) != 0 || !S_ISDIR(info.st_mode))
        return -1;
    return snprintf(out, capacity, "%s", argument) < (int)capacity ? 0 : -1;
}

static int runs_list(int argc, char **argv, int json)
{
    char base[PATH_MAX];
    const char *argument = argc > 0 ? argv[0] : "runs";
    run_entry *entries = NULL;
    size_t n = 0;

    if (runs_base(argument, base, sizeof base) != 0 || collect_runs(base, &entries, &n) != 0) {
        fprintf(stderr, "lanner runs: error: no runs folder at %s; give a pipeline file or the folder of its runs "
                        "(lanner run writes runs/ beside the pipeline unless --runs-dir says otherwise)\n", argument);
        return EXIT_USAGE;
    }

    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *row = run_row(base, &entries[i]);
        if (!json)
            print_row(row, i == 0);
        json_array_append_new(rows, row);
    }
    if (json) {
        json_t *root = json_object();
        json_object_set_new(root, "runs_dir", json_string(base));
        json_object_set_new(root, "runs", rows);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', stdout);
        json_decref(root);
    } else {
        if (n == 0)
            printf("No runs in %s.\n", base);
        json_decref(rows);
    }
    free(entries);
    return EXIT_SUCCESS;
}

static double number_at(json_t *object, const char *a, const char *b, const char *c)
{
    json_t *node = json_object_get(json_object_get(json_object_get(object, a), b), c);
    return json_is_number(node) ? json_number_value(node) : NAN;
}

static void print_show_text(json_t *record, json_t *metrics)
{
    json_t *registry = json_object_get(record, "registry");
    json_t *steps = json_object_get(record, "steps");
    json_t *gate = json_object_get(record, "gate");

    printf("%s run of %s\n", json_string_value(json_object_get(record, "name")),
           json_string_value(json_object_get(record, "created_at")));
    printf("  folder          %s\n", json_string_value(json_object_get(record, "run_dir")));
    printf("  lanner version  %s\n", json_string_value(json_object_get(record, "lanner_version")));
    printf("  data hash       %s\n", json_string_value(json_object_get(record, "data_hash")));
    printf("  pipeline hash   %s\n", json_string_value(json_object_get(record, "pipeline_hash")));
    if (json_is_object(registry))
        printf("  registered      %s version %lld%s\n", json_string_value(json_object_get(registry, "name")),
               (long long)json_integer_value(json_object_get(registry, "version")),
               json_is_true(json_object_get(record, "promoted")) ? ", promoted" : "");
    else
        printf("  registered      no\n");
    printf("  total           %.3f s\n", json_number_value(json_object_get(record, "seconds_total")));

    printf("\nSteps\n");
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *step = json_array_get(steps, i);
        printf("  %-9s %-7s %8.3f s  key %s\n", json_string_value(json_object_get(step, "name")),
               json_is_true(json_object_get(step, "reused")) ? "reused" : "ran",
               json_number_value(json_object_get(step, "seconds")), json_string_value(json_object_get(step, "key")));
    }

    printf("\nGate %s\n", json_is_true(json_object_get(gate, "passed")) ? "passed" : "failed");
    json_t *rules = json_object_get(gate, "rules");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        json_t *rule = json_array_get(rules, i);
        printf("  %-6s %s: %s\n", json_is_true(json_object_get(rule, "passed")) ? "pass" : "FAIL",
               json_string_value(json_object_get(rule, "name")), json_string_value(json_object_get(rule, "detail")));
    }

    if (metrics == NULL) {
        printf("\nMetrics: metrics.json is missing\n");
        return;
    }
    printf("\nOn the test split\n");
    printf("  payoff of the model     %14.2f\n", number_at(metrics, "test", "model", "payoff"));
    printf("  payoff of rule in use   %14.2f\n", number_at(metrics, "test", "baseline", "payoff"));
    printf("  ROC AUC                 %14.4f\n", number_at(metrics, "test", "model", "auc"));
    printf("  flag rate               %13.2f%%\n", number_at(metrics, "test", "model", "flag_rate") * 100);
}

static int runs_show(int argc, char **argv, int json)
{
    if (argc != 1) {
        fprintf(stderr, "lanner runs: error: show expects one RUN_DIR, found %d arguments\n"
                        "Try 'lanner runs --help'.\n", argc);
        return EXIT_USAGE;
    }
    json_t *record = load_json(argv[0], "run.json");
    if (record == NULL) {
        fprintf(stderr, "lanner runs: error: %s/run.json not found or invalid; give a run folder written by lanner "
                        "run (a run killed before its end has none)\n", argv[0]);
        return EXIT_USAGE;
    }
    json_t *metrics = load_json(argv[0], "metrics.json");
    if (json) {
        json_object_set_new(record, "metrics", metrics ? metrics : json_null());
        json_dumpf(record, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', stdout);
    } else {
        print_show_text(record, metrics);
        json_decref(metrics);
    }
    json_decref(record);
    return EXIT_SUCCESS;
}

int cmd_runs(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int json = 0;
    int option;

    if (argc < 2) {
        fprintf(stderr, "lanner runs: error: missing command (list or show)\nTry 'lanner runs --help'.\n");
        return EXIT_USAGE;
    }
    /* The subcommand plays argv[0] for getopt, which moves the positional arguments to the end. */
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    optind = 1;
    opterr = 0;
    while ((option = getopt_long(sub_argc, sub_argv, "h", options, NULL)) != -1) {
        switch (option) {
        case 'j': json = 1; break;
        case 'h': print_runs_help(); return EXIT_SUCCESS;
        default: return cli_usage_error("runs", "unknown option '%s'", sub_argv[optind - 1]);
        }
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_runs_help();
        return EXIT_SUCCESS;
    }
    if (strcmp(argv[1], "list") == 0)
        return runs_list(sub_argc - optind, sub_argv + optind, json);
    if (strcmp(argv[1], "show") == 0)
        return runs_show(sub_argc - optind, sub_argv + optind, json);
    return cli_usage_error("runs", "unknown command '%s'; expected list or show", argv[1]);
}
