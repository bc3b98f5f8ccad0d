/* lanner head and lanner schema: a first look at a data source. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct data_args {
    const char *source;
    const char *query;
    long rows;
    ln_load_options load;
    cli_common common;
} data_args;

static void print_data_help(const char *command)
{
    int is_head = strcmp(command, "head") == 0;

    printf("Usage: lanner %s DATA [OPTIONS]\n\n", command);
    if (is_head)
        printf("Shows the first rows of DATA with every value as lanner parsed it.\n");
    else
        printf("Shows each column of DATA with its inferred type, missing count and\n"
               "distinct values, as every lanner command will read it.\n");
    printf("\nDATA is a CSV file (.gz and .zst too), or sqlite:FILE or a postgres:// URL\n"
           "with --query.\n"
           "\nOptions:\n");
    if (is_head)
        printf("  -n N               rows to show (default: 10)\n");
    printf("  --query SQL        query for an SQLite source\n"
           "  --delimiter C      CSV delimiter: , ; | or tab (default: detected)\n"
           "  --threads N        loader threads (default: all cores)\n"
           "  --json             print JSON on stdout\n"
           "  --quiet            print only warnings and errors on stderr\n"
           "  --help             show this help\n");
}

static int parse_data_args(const char *command, int argc, char **argv, data_args *args)
{
    static const struct option options[] = {
        {"query", required_argument, NULL, 's'}, {"delimiter", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;
    char *end;

    memset(args, 0, sizeof *args);
    args->rows = 10;
    ln_load_options_default(&args->load);
    optind = 1;
    while ((option = getopt_long(argc, argv, "hn:q", options, NULL)) != -1) {
        switch (option) {
        case 'n':
            args->rows = strtol(optarg, &end, 10);
            if (end == optarg || *end || args->rows < 0)
                return cli_usage_error(command, "-n must be a whole number of rows, found '%s'", optarg);
            break;
        case 's': args->query = optarg; break;
        case 'd':
            if (cli_parse_delimiter(command, optarg, &args->load.delimiter) != 0)
                return EXIT_USAGE;
            break;
        case 't':
            if (cli_parse_threads(command, optarg, &args->load.threads) != 0)
                return EXIT_USAGE;
            break;
        case 'j': args->common.json = 1; break;
        case 'q': args->common.quiet = 1; break;
        case 'h': print_data_help(command); return -1;
        default: return cli_usage_error(command, "invalid option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(command, "expected one data source, found %d arguments", argc - optind);
    args->source = argv[optind];
    return 0;
}

static json_t *cell_json(const ln_column *column, size_t row)
{
    char text[4096];

    if (ln_column_is_missing(column, row))
        return json_null();
    if (ln_type_is_numeric(column->type) && column->type != LN_TYPE_TIMESTAMP) {
        double value = column->values[row];
        if (!isfinite(value))
            return json_string(value > 0 ? "inf" : "-inf");
        if (column->type == LN_TYPE_BOOL)
            return json_boolean(value != 0);
        if (column->type == LN_TYPE_INT)
            return json_integer((json_int_t)value);
        return json_real(value);
    }
    ln_column_format(column, row, text, sizeof text);
    return json_string(text);
}

static void print_head_text(const ln_table *table, size_t rows)
{
    char text[64];

    for (size_t c = 0; c < table->n_cols; c++)
        printf("%s%s", c ? "\t" : "", table->cols[c].name);
    printf("\n");
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < table->n_cols; c++) {
            ln_column_format(&table->cols[c], r, text, sizeof text);
            printf("%s%s", c ? "\t" : "", ln_column_is_missing(&table->cols[c], r) ? "NA" : text);
        }
        printf("\n");
    }
}

static void print_head_json(const ln_table *table, size_t rows)
{
    json_t *array = json_array();

    for (size_t r = 0; r < rows; r++) {
        json_t *object = json_object();
        for (size_t c = 0; c < table->n_cols; c++)
            json_object_set_new(object, table->cols[c].name, cell_json(&table->cols[c], r));
        json_array_append_new(array, object);
    }
    json_dumpf(array, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    printf("\n");
    json_decref(array);
}

static size_t count_missing(const ln_column *column, size_t n_rows)
{
    size_t missing = 0;

    for (size_t r = 0; r < n_rows; r++)
        missing += (size_t)ln_column_is_missing(column, r);
    return missing;
}

static void print_schema(const ln_table *table, int as_json)
{
    json_t *columns = json_array();
    char example[64];

    if (!as_json)
        printf("%zu rows x %zu columns\n%-32s %-10s %10s %10s  %s\n", table->n_rows, table->n_cols, "column",
               "type", "missing", "distinct", "first value");
    for (size_t c = 0; c < table->n_cols; c++) {
        const ln_column *column = &table->cols[c];
        size_t missing = count_missing(column, table->n_rows);
        long distinct = column->dict ? (long)ln_dict_count(column->dict) : -1;

        example[0] = '\0';
        for (size_t r = 0; r < table->n_rows && example[0] == '\0'; r++)
            ln_column_format(column, r, example, sizeof example);

        if (as_json) {
            json_t *object = json_object();
            json_object_set_new(object, "name", json_string(column->name));
            json_object_set_new(object, "type", json_string(ln_type_name(column->type)));
            json_object_set_new(object, "missing", json_integer((json_int_t)missing));
            json_object_set_new(object, "distinct", distinct >= 0 ? json_integer(distinct) : json_null());
            json_array_append_new(columns, object);
            continue;
        }
        char distinct_text[24] = "-";
        if (distinct >= 0)
            snprintf(distinct_text, sizeof distinct_text, "%ld", distinct);
        printf("%-32s %-10s %10zu %10s  %s\n", column->name, ln_type_name(column->type), missing, distinct_text,
               example);
    }
    if (as_json) {
        json_t *root = json_object();
        json_object_set_new(root, "rows", json_integer((json_int_t)table->n_rows));
        json_object_set_new(root, "columns", columns);
        json_dumpf(root, stdout, JSON_INDENT(2));
        printf("\n");
        json_decref(root);
    } else {
        json_decref(columns);
    }
}

static int run_data_command(const char *command, int argc, char **argv, int is_head)
{
    data_args args;
    int parsed = parse_data_args(command, argc, argv, &args);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    cli_setup_logging(&args.common);

    ln_error err = {0};
    ln_table *table = NULL;
    if (cli_load_table(args.source, args.query, &args.load, &table, &err) != LN_OK)
        return cli_fail(&err);

    if (is_head) {
        size_t rows = (size_t)args.rows < table->n_rows ? (size_t)args.rows : table->n_rows;
        if (args.common.json)
            print_head_json(table, rows);
        else
            print_head_text(table, rows);
    } else {
        print_schema(table, args.common.json);
    }
    ln_table_free(table);
    return EXIT_SUCCESS;
}

int cmd_head(int argc, char **argv)
{
    return run_data_command("head", argc, argv, 1);
}

int cmd_schema(int argc, char **argv)
{
    return run_data_command("schema", argc, argv, 0);
}
