/*
 * Loads one CSV file and prints its shape, column types and load time:
 *     bench_load FILE [THREADS]
 * bench/load.sh runs it against pandas.read_csv.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lanner/data.h"
#include "lanner/log.h"

static void print_log(void *context, ln_log_level level, const char *message)
{
    (void)context;
    fprintf(stderr, "%s: %s\n", level >= LN_LOG_WARN ? "warning" : "info", message);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_load FILE [THREADS]\n");
        return 2;
    }

    ln_load_options options;
    ln_load_options_default(&options);
    options.threads = argc > 2 ? atoi(argv[2]) : 0;
    ln_log_set_sink(print_log, NULL, LN_LOG_WARN);

    struct timespec start, end;
    ln_table *table = NULL;
    ln_error err = {0};
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (ln_csv_read(argv[1], &options, &table, &err) != LN_OK) {
        fprintf(stderr, "bench_load: %s\n", err.message);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);

    double seconds = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("rows %zu columns %zu seconds %.3f\n", table->n_rows, table->n_cols, seconds);
    for (size_t c = 0; c < table->n_cols; c++)
        printf("%s:%s%s", table->cols[c].name, ln_type_name(table->cols[c].type),
               c + 1 < table->n_cols ? " " : "\n");
    ln_table_free(table);
    return 0;
}
