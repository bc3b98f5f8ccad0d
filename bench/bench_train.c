/*
 * bench_train: trains a lanner model from CSV files and reports timings and
 * test metrics as one JSON line, for bench/train.sh and bench/compare.py.
 *
 *   bench_train --train a.csv --test b.csv --label y [--positive bad] [--valid c.csv]
 *               [--learner gbdt|linear] [--trees N] [--leaves N] [--depth N] [--lr X]
 *               [--bins N] [--min-data N] [--min-hessian X] [--l2 X] [--early-stop N] [--threads N]
 *               [--row-subsample X] [--feature-subsample X] [--seed N] [--histograms auto|row|column]
 *               [--objective binary|regression|multiclass] [--classes N]
 *               [--calibration isotonic|sigmoid] [--model out.lnr] [--scores out.txt]
 *               [--min-category-rows N] [--cat-smooth X] [--cat-l2 X] [--min-data-per-category N]
 *               [--load-model in.lnr] [--predict-repeat N] [--explain-rows N]
 *
 * --load-model skips training and scores the test file with a saved model;
 * --predict-repeat scores the test file N times and reports the best time
 * (and the single-row path's rate); --explain-rows times ln_model_explain
 * on the first N test rows. A multiclass label is the class index; the
 * reported AUC and log loss then apply to class 1 against the rest.
 *
 * The CSV reader is minimal (RFC 4180 quotes, no embedded line breaks): a
 * column is numeric when every non-empty field parses as a number, else a
 * category. Every column but the label is a feature.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lanner/model.h"

typedef struct csv {
    size_t n_rows, n_cols;
    char **header;
    char ***fields; /* fields[row][col] */
} csv;

static char *next_field(char **cursor)
{
    char *p = *cursor;
    char *out = p;
    char *start = p;

    if (*p == '"') {
        p++;
        for (;;) {
            if (*p == '"' && p[1] == '"') {
                *out++ = '"';
                p += 2;
            } else if (*p == '"') {
                p++;
                break;
            } else if (*p == '\0') {
                break;
            } else {
                *out++ = *p++;
            }
        }
    } else {
        while (*p != ',' && *p != '\0')
            *out++ = *p++;
    }
    if (*p == ',')
        p++;
    else
        p = p + strlen(p);
    *out = '\0';
    *cursor = p;
    return start;
}

static int read_csv(const char *path, csv *table)
{
    FILE *file = fopen(path, "r");
    if (file == NULL) {
        fprintf(stderr, "bench_train: cannot open %s\n", path);
        return -1;
    }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    size_t rows_cap = 0;
    memset(table, 0, sizeof *table);

    while ((length = getline(&line, &capacity, file)) >= 0) {
        while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
            line[--length] = '\0';
        char *copy = strdup(line);
        size_t n = 1;
        for (char *q = copy; *q; q++)
            n += *q == ',';
        char **fields = malloc(n * sizeof *fields);
        char *cursor = copy;
        size_t count = 0;
        while (count < n) {
            fields[count++] = next_field(&cursor);
            if (*cursor == '\0' && cursor[-1] != ',')
                break;
        }
        if (table->header == NULL) {
            table->header = fields;
            table->n_cols = count;
            continue;
        }
        for (; count < table->n_cols; count++)
            fields[count] = "";
        if (table->n_rows == rows_cap) {
            rows_cap = rows_cap ? rows_cap * 2 : 1024;
            table->fields = realloc(table->fields, rows_cap * sizeof *table->fields);
        }
        table->fields[table->n_rows++] = fields;
    }
    free(line);
    fclose(file);
    return 0;
}

static int is_number(const char *text, double *value)
{
    char *end;
    *value = strtod(text, &end);
    return end != text && *end == '\0';
}

/* Builds an ln_table from the CSV, typing columns as in the header comment. */
static ln_table *to_table(const csv *data, const char *label, const char *positive, double **labels)
{
    ln_error err = {0};
    ln_table *table = ln_table_new(data->n_rows);
    *labels = malloc(data->n_rows * sizeof **labels);

    for (size_t c = 0; c < data->n_cols; c++) {
        double v;
        int numeric = 1;
        for (size_t r = 0; r < data->n_rows && numeric; r++)
            if (data->fields[r][c][0] != '\0' && !is_number(data->fields[r][c], &v))
                numeric = 0;

        if (strcmp(data->header[c], label) == 0) {
            for (size_t r = 0; r < data->n_rows; r++)
                (*labels)[r] = positive != NULL ? strcmp(data->fields[r][c], positive) == 0
                                                : strtod(data->fields[r][c], NULL);
            continue;
        }
        ln_column *column = ln_table_add_column(table, data->header[c], numeric ? LN_TYPE_FLOAT : LN_TYPE_CATEGORY,
                                                &err);
        for (size_t r = 0; r < data->n_rows; r++) {
            const char *text = data->fields[r][c];
            if (numeric)
                column->values[r] = text[0] == '\0' ? NAN : strtod(text, NULL);
            else
                column->codes[r] = text[0] == '\0' ? -1 : ln_dict_intern(column->dict, text, strlen(text));
        }
    }
    return table;
}

typedef struct scored {
    double score;
    double label;
} scored;

static int compare_scored(const void *a, const void *b)
{
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x > y) - (x < y);
}

/* Area under the ROC curve with tied scores sharing their average rank. */
static double auc(const double *scores, const double *labels, size_t n)
{
    scored *items = malloc(n * sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = (scored){scores[i], labels[i]};
    qsort(items, n, sizeof *items, compare_scored);

    double rank_sum = 0, positives = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && items[j].score == items[i].score)
            j++;
        double rank = (double)(i + j + 1) / 2.0;
        for (size_t k = i; k < j; k++)
            if (items[k].label > 0.5) {
                rank_sum += rank;
                positives++;
            }
        i = j;
    }
    free(items);
    double negatives = (double)n - positives;
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives);
}

static double log_loss(const double *p, const double *labels, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double q = fmax(1e-15, fmin(p[i], 1 - 1e-15));
        sum -= labels[i] > 0.5 ? log(q) : log(1 - q);
    }
    return sum / (double)n;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* CPU seconds used by the whole process, which other jobs on a shared machine disturb less than wall time. */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Scores up to 100000 test rows one at a time through ln_model_row and returns rows per second. */
static double single_row_rate(const ln_model *model, const ln_table *test)
{
    size_t n_features = ln_model_feature_count(model);
    size_t n = test->n_rows < 100000 ? test->n_rows : 100000;
    int *column_of = malloc(n_features * sizeof *column_of);
    ln_model_row *row = NULL;
    ln_error err = {0};
    double out[256], checksum = 0;

    for (size_t f = 0; f < n_features; f++)
        column_of[f] = ln_table_find(test, ln_model_feature_name(model, f));
    if (ln_model_row_new(model, &row, &err) != LN_OK)
        return 0;

    double start = now();
    for (size_t r = 0; r < n; r++) {
        ln_model_row_clear(row);
        for (size_t f = 0; f < n_features; f++) {
            const ln_column *column = &test->cols[column_of[f]];
            if (ln_model_feature_type(model, f) != LN_TYPE_CATEGORY) {
                ln_model_row_set_number(row, f, column->values[r], &err);
            } else if (column->codes[r] >= 0) {
                const char *text = ln_dict_string(column->dict, column->codes[r]);
                ln_model_row_set_category(row, f, text, strlen(text), &err);
            }
        }
        ln_model_predict_row(model, row, out, &err);
        checksum += out[0];
    }
    double seconds = now() - start;
    ln_model_row_free(row);
    free(column_of);
    return checksum == checksum ? (double)n / seconds : 0.0;
}

/* Explains the first n test rows and returns rows per second. */
static double explain_rate_of(const ln_model *model, const ln_table *test, size_t n)
{
    ln_error err = {0};
    size_t count = n < test->n_rows ? n : test->n_rows;
    size_t *rows = malloc((count ? count : 1) * sizeof *rows);
    for (size_t r = 0; r < count; r++)
        rows[r] = r;
    ln_table *head = ln_table_take_rows(test, rows, count, &err);
    free(rows);
    if (head == NULL)
        return 0.0;
    size_t width = ln_model_output_count(model) * (ln_model_feature_count(model) + 1);
    double *contributions = malloc((head->n_rows ? head->n_rows : 1) * width * sizeof *contributions);

    double start = now();
    ln_status status = ln_model_explain(model, head, contributions, &err);
    double seconds = now() - start;
    if (status != LN_OK)
        fprintf(stderr, "bench_train: %s\n", err.message);
    double rate = (double)head->n_rows / seconds;
    free(contributions);
    ln_table_free(head);
    return status == LN_OK ? rate : 0.0;
}

int main(int argc, char **argv)
{
    const char *train_path = NULL, *test_path = NULL, *valid_path = NULL, *label = NULL, *positive = NULL;
    const char *model_path = NULL, *scores_path = NULL, *load_path = NULL;
    int predict_repeat = 1, explain_rows = 0;
    ln_train_params params;
    ln_train_params_default(&params);

    for (int i = 1; i + 1 < argc; i += 2) {
        const char *key = argv[i], *value = argv[i + 1];
        if (!strcmp(key, "--train")) train_path = value;
        else if (!strcmp(key, "--test")) test_path = value;
        else if (!strcmp(key, "--valid")) valid_path = value;
        else if (!strcmp(key, "--label")) label = value;
        else if (!strcmp(key, "--positive")) positive = value;
        else if (!strcmp(key, "--model")) model_path = value;
        else if (!strcmp(key, "--scores")) scores_path = value;
        else if (!strcmp(key, "--learner")) params.learner = !strcmp(value, "linear") ? LN_LEARNER_LINEAR : LN_LEARNER_GBDT;
        else if (!strcmp(key, "--trees")) params.trees = atoi(value);
        else if (!strcmp(key, "--leaves")) params.max_leaves = atoi(value);
        else if (!strcmp(key, "--depth")) params.max_depth = atoi(value);
        else if (!strcmp(key, "--lr")) params.learning_rate = atof(value);
        else if (!strcmp(key, "--bins")) params.max_bins = atoi(value);
        else if (!strcmp(key, "--min-data")) params.min_data_in_leaf = atoi(value);
        else if (!strcmp(key, "--min-hessian")) params.min_sum_hessian = atof(value);
        else if (!strcmp(key, "--l2")) params.lambda_l2 = params.linear_l2 = atof(value);
        else if (!strcmp(key, "--early-stop")) params.early_stopping_rounds = atoi(value);
        else if (!strcmp(key, "--min-category-rows")) params.min_category_rows = atoi(value);
        else if (!strcmp(key, "--cat-smooth")) params.cat_smooth = atof(value);
        else if (!strcmp(key, "--cat-l2")) params.cat_l2 = atof(value);
        else if (!strcmp(key, "--min-data-per-category")) params.min_data_per_category = atoi(value);
        else if (!strcmp(key, "--threads")) params.threads = atoi(value);
        else if (!strcmp(key, "--histograms"))
            params.histograms = !strcmp(value, "row") ? LN_HISTOGRAMS_ROW_WISE
                                : !strcmp(value, "column") ? LN_HISTOGRAMS_COLUMN_WISE : LN_HISTOGRAMS_AUTO;
        else if (!strcmp(key, "--row-subsample")) params.row_subsample = atof(value);
        else if (!strcmp(key, "--feature-subsample")) params.feature_subsample = atof(value);
        else if (!strcmp(key, "--seed")) params.seed = strtoull(value, NULL, 10);
        else if (!strcmp(key, "--objective"))
            params.objective = !strcmp(value, "regression") ? LN_OBJECTIVE_REGRESSION
                               : !strcmp(value, "multiclass") ? LN_OBJECTIVE_MULTICLASS
                                                              : LN_OBJECTIVE_BINARY;
        else if (!strcmp(key, "--classes")) params.n_classes = atoi(value);
        else if (!strcmp(key, "--calibration"))
            params.calibration = !strcmp(value, "isotonic") ? LN_CALIBRATION_ISOTONIC : LN_CALIBRATION_SIGMOID;
        else if (!strcmp(key, "--load-model")) load_path = value;
        else if (!strcmp(key, "--predict-repeat")) predict_repeat = atoi(value);
        else if (!strcmp(key, "--explain-rows")) explain_rows = atoi(value);
        else {
            fprintf(stderr, "bench_train: unknown option %s\n", key);
            return 2;
        }
    }
    if (train_path == NULL || test_path == NULL || label == NULL) {
        fprintf(stderr, "usage: bench_train --train a.csv --test b.csv --label y [options]\n");
        return 2;
    }

    csv train_csv, test_csv, valid_csv;
    double load_start = now();
    if (read_csv(train_path, &train_csv) || read_csv(test_path, &test_csv) ||
        (valid_path && read_csv(valid_path, &valid_csv)))
        return 1;
    double *train_labels, *test_labels, *valid_labels = NULL;
    ln_table *train = to_table(&train_csv, label, positive, &train_labels);
    ln_table *test = to_table(&test_csv, label, positive, &test_labels);
    ln_table *valid = valid_path ? to_table(&valid_csv, label, positive, &valid_labels) : NULL;
    double load_seconds = now() - load_start;

    const char **features = malloc(train->n_cols * sizeof *features);
    for (size_t c = 0; c < train->n_cols; c++)
        features[c] = train->cols[c].name;

    ln_error err = {0};
    ln_model *model = NULL;
    double train_start = now(), train_cpu_start = cpu_now();
    if (load_path != NULL ? ln_model_load(load_path, &model, &err)
                          : ln_model_train(&params, train, train_labels, features, train->n_cols, valid,
                                           valid_labels, &model, &err)) {
        fprintf(stderr, "bench_train: %s\n", err.message);
        return 1;
    }
    double train_seconds = load_path != NULL ? 0.0 : now() - train_start;
    double train_cpu_seconds = load_path != NULL ? 0.0 : cpu_now() - train_cpu_start;

    size_t outputs = ln_model_output_count(model);
    double *scores = malloc(test->n_rows * sizeof *scores);
    double *proba = malloc(test->n_rows * outputs * sizeof *proba);
    double predict_seconds = INFINITY, predict_cpu_seconds = INFINITY;
    for (int repeat = 0; repeat < predict_repeat; repeat++) {
        double predict_start = now(), cpu_start = cpu_now();
        if (ln_model_predict(model, test, scores, &err)) {
            fprintf(stderr, "bench_train: %s\n", err.message);
            return 1;
        }
        predict_seconds = fmin(predict_seconds, now() - predict_start);
        predict_cpu_seconds = fmin(predict_cpu_seconds, cpu_now() - cpu_start);
    }
    double row_rate = predict_repeat > 1 ? single_row_rate(model, test) : 0.0;
    double explain_rate = explain_rows > 0 ? explain_rate_of(model, test, (size_t)explain_rows) : 0.0;

    /* Metrics below need P(class 1): the score itself for binary, a column of the probabilities otherwise. */
    if (ln_model_objective(model) == LN_OBJECTIVE_MULTICLASS) {
        ln_model_predict_proba(model, test, proba, &err);
        for (size_t i = 0; i < test->n_rows; i++) {
            scores[i] = proba[i * outputs + 1];
            test_labels[i] = test_labels[i] == 1.0;
        }
    }

    if (model_path && ln_model_save(model, model_path, &err)) {
        fprintf(stderr, "bench_train: %s\n", err.message);
        return 1;
    }
    if (scores_path) {
        FILE *out = fopen(scores_path, "w");
        for (size_t i = 0; i < test->n_rows; i++)
            fprintf(out, "%.17g\n", scores[i]);
        fclose(out);
    }

    /* A regression model has no AUC or log loss: JSON gets null, since it has no NaN. */
    int regression = ln_model_objective(model) == LN_OBJECTIVE_REGRESSION;
    char test_auc[32] = "null", test_logloss[32] = "null";
    if (!regression) {
        snprintf(test_auc, sizeof test_auc, "%.6f", auc(scores, test_labels, test->n_rows));
        snprintf(test_logloss, sizeof test_logloss, "%.6f", log_loss(scores, test_labels, test->n_rows));
    }
    printf("{\"load_s\": %.3f, \"train_s\": %.3f, \"train_cpu_s\": %.3f, \"predict_s\": %.4f, \"predict_rows_per_s\": %.0f, "
           "\"predict_rows_per_cpu_s\": %.0f, \"single_row_per_s\": %.0f, \"explain_rows_per_s\": %.0f, "
           "\"trees\": %d, \"test_auc\": %s, \"test_logloss\": %s}\n",
           load_seconds, train_seconds, train_cpu_seconds, predict_seconds, (double)test->n_rows / predict_seconds,
           (double)test->n_rows / predict_cpu_seconds, row_rate,
           explain_rate, ln_model_tree_count(model), test_auc, test_logloss);
    return 0;
}
