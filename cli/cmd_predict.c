#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lanner/io.h"
#include "lanner/model.h"

static void print_predict_help(void)
{
    printf("Usage: lanner predict --model MODEL.lnr --data DATA [OPTIONS]\n"
           "\n"
           "Scores every row of DATA and writes a CSV with the id column (when the\n"
           "model has one), score (probability of the positive class) and flag (1 when\n"
           "score >= the threshold chosen at training). A regression model writes\n"
           "prediction; a multiclass model writes class and probability_<k> per class.\n"
           "A model whose pipeline has several actions also writes action: the first\n"
           "action whose threshold the score reaches, or default.\n"
           "\n"
           "Options:\n"
           "  --model PATH       model file written by lanner run\n"
           "  --data SOURCE      CSV file (.gz and .zst too), or sqlite:FILE or a\n"
           "                     postgres:// URL with --query\n"
           "  --query SQL        query for an SQLite source\n"
           "  -o, --output PATH  write the CSV here (default, or -: stdout)\n"
           "  --threshold X      flag at this score instead of the model's threshold\n"
           "  --explain          add contribution_<feature> per feature and bias: the\n"
           "                     row's raw score (log-odds before calibration for a\n"
           "                     binary model) split by feature (TreeSHAP for trees);\n"
           "                     they sum to the raw score (multiclass: one set per\n"
           "                     class, suffixed _<k>)\n"
           "  --json             print a JSON summary on stdout (needs --output)\n"
           "  --quiet            print only warnings and errors on stderr\n"
           "  --help             show this help\n");
}

/* Actions of a multi-action policy that predict names per row; more are listed but not named. */
#define PREDICT_MAX_ACTIONS 8

typedef struct predict_settings {
    const char *id_column;
    double threshold;
    size_t n_actions;                                /* 0 or 1: a plain flag */
    const char *action_names[PREDICT_MAX_ACTIONS];   /* in order: the top scores get the first */
    double action_thresholds[PREDICT_MAX_ACTIONS];   /* score at which each action starts */
} predict_settings;

/* Reads the policy's actions, in the order lanner run stored them (thresholds descending). */
static void read_actions(json_t *metadata, predict_settings *settings)
{
    json_t *actions = json_object_get(json_object_get(metadata, "policy"), "actions");
    size_t n = json_is_array(actions) ? json_array_size(actions) : 0;

    settings->n_actions = 0;
    for (size_t k = 0; k < n && k < PREDICT_MAX_ACTIONS; k++) {
        json_t *action = json_array_get(actions, k);
        json_t *name = json_object_get(action, "name");
        json_t *threshold = json_object_get(action, "threshold");
        settings->action_names[k] = json_is_string(name) ? json_string_value(name) : "action";
        settings->action_thresholds[k] = json_is_number(threshold) ? json_number_value(threshold) : INFINITY;
        settings->n_actions = k + 1;
    }
}

/* Reads the id column and threshold that lanner run stored in the model's metadata. */
static ln_status read_settings(const ln_model *model, json_t **metadata, predict_settings *settings, ln_error *err)
{
    json_error_t json_err;
    const char *text = ln_model_metadata(model);

    settings->id_column = NULL;
    settings->threshold = INFINITY;
    *metadata = NULL;
    if (text[0] == '\0')
        return LN_OK;

    *metadata = json_loads(text, 0, &json_err);
    if (*metadata == NULL || !json_is_object(*metadata))
        return ln_error_set(err, LN_ERR_CORRUPT, "model metadata is not a JSON object: %s", json_err.text);

    json_t *id = json_object_get(*metadata, "id");
    json_t *threshold = json_object_get(*metadata, "threshold");
    if (json_is_string(id))
        settings->id_column = json_string_value(id);
    if (json_is_number(threshold))
        settings->threshold = json_number_value(threshold);
    read_actions(*metadata, settings);
    return LN_OK;
}

/* What one run writes: scores, and for some models probabilities and contributions. */
typedef struct predict_output {
    const ln_model *model;
    const ln_column *id;
    const double *scores;        /* one per row */
    const double *proba;         /* multiclass: n_classes per row, else NULL */
    const double *contributions; /* --explain: outputs x (features + 1) per row, else NULL */
    const double *raw;           /* --explain: the raw score of each output per row, else NULL */
    size_t n_rows;
    double threshold;
    const predict_settings *policy; /* names an action per row when it has more than one */
} predict_output;

/* The first action whose threshold the score reaches, or "default". */
static const char *action_for(const predict_settings *policy, double score)
{
    for (size_t k = 0; k < policy->n_actions; k++) {
        if (score >= policy->action_thresholds[k])
            return policy->action_names[k];
    }
    return "default";
}

static int names_actions(const predict_output *o)
{
    return o->policy != NULL && o->policy->n_actions > 1 && ln_model_objective(o->model) == LN_OBJECTIVE_BINARY;
}

/* Returns 1 when name is one of the score, probability, contribution or bias columns the output writes. */
static int is_output_column(const predict_output *o, const char *name)
{
    ln_objective objective = ln_model_objective(o->model);

    if (objective == LN_OBJECTIVE_BINARY &&
        (strcmp(name, "score") == 0 || strcmp(name, "flag") == 0 || (names_actions(o) && strcmp(name, "action") == 0)))
        return 1;
    if (objective == LN_OBJECTIVE_REGRESSION && strcmp(name, "prediction") == 0)
        return 1;
    if (objective == LN_OBJECTIVE_MULTICLASS && strcmp(name, "class") == 0)
        return 1;
    if (o->proba != NULL && strncmp(name, "probability_", 12) == 0)
        return 1;
    return o->contributions != NULL && (strcmp(name, "bias") == 0 || strncmp(name, "bias_", 5) == 0 ||
                                        strncmp(name, "contribution_", 13) == 0 || strncmp(name, "raw_score", 9) == 0);
}

static void write_header(FILE *out, const predict_output *o)
{
    size_t outputs = ln_model_output_count(o->model);
    ln_objective objective = ln_model_objective(o->model);
    char name[1024];

    if (o->id != NULL && is_output_column(o, o->id->name)) {
        /* Two columns of one name would make the file ambiguous to readers such as pandas. */
        snprintf(name, sizeof name, "%s_id", o->id->name);
        fprintf(stderr, "lanner: warning: the id column '%s' is written as '%s', since the output has a column "
                        "named '%s'\n", o->id->name, name, o->id->name);
        ln_csv_write_field(out, name);
        fputc(',', out);
    } else if (o->id != NULL) {
        ln_csv_write_field(out, o->id->name);
        fputc(',', out);
    }
    if (objective == LN_OBJECTIVE_BINARY)
        fputs(names_actions(o) ? "score,flag,action" : "score,flag", out);
    else if (objective == LN_OBJECTIVE_REGRESSION)
        fputs("prediction", out);
    else
        fputs("class", out);
    for (size_t k = 0; o->proba != NULL && k < outputs; k++)
        fprintf(out, ",probability_%zu", k);

    for (size_t k = 0; o->contributions != NULL && k < outputs; k++) {
        for (size_t f = 0; f < ln_model_feature_count(o->model); f++) {
            if (outputs > 1)
                snprintf(name, sizeof name, "contribution_%s_%zu", ln_model_feature_name(o->model, f), k);
            else
                snprintf(name, sizeof name, "contribution_%s", ln_model_feature_name(o->model, f));
            fputc(',', out);
            ln_csv_write_field(out, name);
        }
        if (outputs > 1)
            fprintf(out, ",bias_%zu,raw_score_%zu", k, k);
        else
            fputs(",bias,raw_score", out);
    }
    fputc('\n', out);
}

static void write_scores(FILE *out, const predict_output *o)
{
    size_t outputs = ln_model_output_count(o->model);
    size_t width = outputs * (ln_model_feature_count(o->model) + 1);
    char buffer[4096];

    write_header(out, o);
    for (size_t i = 0; i < o->n_rows; i++) {
        if (o->id != NULL) {
            ln_column_format(o->id, i, buffer, sizeof buffer);
            ln_csv_write_field(out, buffer);
            fputc(',', out);
        }
        if (ln_model_objective(o->model) == LN_OBJECTIVE_BINARY)
            fprintf(out, "%.17g,%d", o->scores[i], o->scores[i] >= o->threshold);
        else if (ln_model_objective(o->model) == LN_OBJECTIVE_REGRESSION)
            fprintf(out, "%.17g", o->scores[i]);
        else
            fprintf(out, "%d", (int)o->scores[i]);
        if (names_actions(o)) {
            fputc(',', out);
            ln_csv_write_field(out, action_for(o->policy, o->scores[i]));
        }
        for (size_t k = 0; o->proba != NULL && k < outputs; k++)
            fprintf(out, ",%.17g", o->proba[i * outputs + k]);
        /* Each output's contributions and bias, then its raw score, which they add up to. */
        for (size_t k = 0; o->contributions != NULL && k < outputs; k++) {
            for (size_t j = 0; j < width / outputs; j++)
                fprintf(out, ",%.17g", o->contributions[i * width + k * (width / outputs) + j]);
            fprintf(out, ",%.17g", o->raw[i * outputs + k]);
        }
        fputc('\n', out);
    }
}

/* Writes to a temporary file beside path and renames it, so a failed run leaves no half-written CSV. */
static ln_status write_output(const char *path, const predict_output *o, ln_error *err)
{
    if (path == NULL) {
        write_scores(stdout, o);
        return fflush(stdout) == 0 ? LN_OK : ln_error_set(err, LN_ERR_IO, "writing to stdout failed");
    }

    char *buffer = NULL;
    size_t size = 0;
    FILE *memory = open_memstream(&buffer, &size);
    if (memory == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory writing %s", path);
    write_scores(memory, o);
    fclose(memory);

    ln_status status = ln_write_file_atomic(path, buffer, size, err);
    free(buffer);
    return status;
}

static void print_summary_json(const char *output, size_t n, const double *scores, double threshold)
{
    size_t flagged = 0;
    double sum = 0;

    for (size_t i = 0; i < n; i++) {
        flagged += scores[i] >= threshold;
        sum += scores[i];
    }
    json_t *root = json_object();
    json_object_set_new(root, "rows", json_integer((json_int_t)n));
    json_object_set_new(root, "flagged", json_integer((json_int_t)flagged));
    json_object_set_new(root, "flag_rate", n ? json_real((double)flagged / (double)n) : json_null());
    json_object_set_new(root, "mean_score", n ? json_real(sum / (double)n) : json_null());
    json_object_set_new(root, "threshold", isfinite(threshold) ? json_real(threshold) : json_null());
    json_object_set_new(root, "output", json_string(output));
    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    fputc('\n', stdout);
    json_decref(root);
}

/* Computes multiclass probabilities and, with --explain, contributions; the caller frees both. */
static ln_status predict_extras(const ln_model *model, const ln_table *data, int explain, double **proba,
                                double **contributions, double **raw, ln_error *err)
{
    size_t rows = data->n_rows ? data->n_rows : 1;
    size_t outputs = ln_model_output_count(model);
    ln_status status = LN_OK;

    if (ln_model_objective(model) == LN_OBJECTIVE_MULTICLASS) {
        *proba = malloc(rows * outputs * sizeof **proba);
        if (*proba == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory scoring %zu rows", data->n_rows);
        status = ln_model_predict_proba(model, data, *proba, err);
    }
    if (status != LN_OK || !explain)
        return status;

    size_t width = outputs * (ln_model_feature_count(model) + 1);
    *contributions = malloc(rows * width * sizeof **contributions);
    *raw = malloc(rows * outputs * sizeof **raw);
    if (*contributions == NULL || *raw == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory explaining %zu rows", data->n_rows);
    status = ln_model_explain(model, data, *contributions, err);
    if (status == LN_OK)
        status = ln_model_predict_raw(model, data, *raw, err);
    return status;
}

typedef struct predict_args {
    const char *model_path, *data, *query, *output;
    double threshold_override;
    int has_threshold;
    int explain;
    cli_common common;
} predict_args;

static int parse_predict_args(int argc, char **argv, predict_args *args)
{
    static const struct option options[] = {
        {"model", required_argument, NULL, 'm'}, {"data", required_argument, NULL, 'd'},
        {"query", required_argument, NULL, 's'}, {"output", required_argument, NULL, 'o'},
        {"threshold", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
        {"explain", no_argument, NULL, 'e'},
        {"quiet", no_argument, NULL, 'q'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int option;
    char *end;

    memset(args, 0, sizeof *args);
    optind = 1;
    while ((option = getopt_long(argc, argv, "ho:q", options, NULL)) != -1) {
        switch (option) {
        case 'm': args->model_path = optarg; break;
        case 'd': args->data = optarg; break;
        case 's': args->query = optarg; break;
        case 'o': args->output = strcmp(optarg, "-") == 0 ? NULL : optarg; break;
        case 't':
            args->threshold_override = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || isnan(args->threshold_override))
                return cli_usage_error("predict", "--threshold must be a number, found '%s'", optarg);
            args->has_threshold = 1;
            break;
        case 'j': args->common.json = 1; break;
        case 'e': args->explain = 1; break;
        case 'q': args->common.quiet = 1; break;
        case 'h': print_predict_help(); return -1;
        default: return cli_usage_error("predict", "invalid option");
        }
    }
    if (args->model_path == NULL || args->data == NULL)
        return cli_usage_error("predict", "--model and --data are required");
    if (optind != argc)
        return cli_usage_error("predict", "unexpected argument '%s'", argv[optind]);
    if (args->common.json && args->output == NULL)
        return cli_usage_error("predict", "--json needs --output, since the scores would share stdout");
    return 0;
}

int cmd_predict(int argc, char **argv)
{
    predict_args args;
    int parsed = parse_predict_args(argc, argv, &args);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    cli_setup_logging(&args.common);

    ln_error err = {0};
    ln_model *model = NULL;
    ln_table *data = NULL;
    json_t *metadata = NULL;
    double *scores = NULL, *proba = NULL, *contributions = NULL, *raw = NULL;
    predict_settings settings;
    cli_model_load load = {0};

    ln_status status = ln_model_load(args.model_path, &model, &err);
    if (status == LN_OK && (status = read_settings(model, &metadata, &settings, &err)) != LN_OK)
        ln_error_prefix(&err, "%s", args.model_path);
    if (status == LN_OK)
        status = cli_model_load_options(model, NULL, &load, &err);
    if (status == LN_OK)
        status = cli_load_table(args.data, args.query, &load.options, &data, &err);
    cli_model_load_free(&load);
    if (status == LN_OK && (scores = malloc((data->n_rows ? data->n_rows : 1) * sizeof *scores)) == NULL)
        status = ln_error_set(&err, LN_ERR_NOMEM, "out of memory scoring %zu rows", data->n_rows);
    /* A file with a header and no rows has nothing to score; its columns' types cannot be inferred either. */
    int has_rows = status == LN_OK && data->n_rows > 0;
    if (has_rows)
        cli_warn_unseen_categories(model, data, args.data);
    if (has_rows)
        status = ln_model_predict(model, data, scores, &err);
    if (has_rows && status == LN_OK)
        status = predict_extras(model, data, args.explain, &proba, &contributions, &raw, &err);

    const ln_column *id = NULL;
    if (status == LN_OK && settings.id_column != NULL) {
        int index = ln_table_find(data, settings.id_column);
        if (index >= 0)
            id = &data->cols[index];
        else
            fprintf(stderr, "lanner: warning: id column '%s' is not in %s; writing scores without ids\n",
                    settings.id_column, args.data);
    }
    double threshold = args.has_threshold ? args.threshold_override : settings.threshold;
    if (status == LN_OK) {
        predict_output output = {model, id, scores, proba, contributions, raw, data->n_rows, threshold, &settings};
        status = write_output(args.output, &output, &err);
    }
    if (status == LN_OK && args.common.json)
        print_summary_json(args.output, data->n_rows, scores, threshold);

    int exit_code = status == LN_OK ? EXIT_SUCCESS : cli_fail(&err);
    free(scores);
    free(proba);
    free(contributions);
    free(raw);
    ln_table_free(data);
    json_decref(metadata);
    ln_model_free(model);
    return exit_code;
}
