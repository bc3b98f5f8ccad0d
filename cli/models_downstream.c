/*
 * The downstream check of `lanner models promote`. The candidate and the
 * production model are replayed on the candidate's saved test split
 * (test.csv in its run folder). Each consumer the pipeline declared gets its
 * share of rows before and after, the share of decisions that change and
 * the score PSI.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lanner/pipeline.h"
#include "registry_view.h"

/* The model's flag threshold; a null threshold (the model flags nothing) is +INFINITY. */
static double flag_threshold(const ln_model *model)
{
    double threshold = view_model_threshold(model);
    return isnan(threshold) ? INFINITY : threshold;
}

/* Reads test.csv of the run folder with the load options of the pipeline copy beside it. */
static ln_status load_test_split(const ln_version_info *info, ln_table **out, ln_error *err)
{
    char test_path[4200], pipeline_path[4200];
    ln_pipeline *pipeline = NULL;
    ln_load_options options;
    ln_error ignored = {0};

    snprintf(test_path, sizeof test_path, "%s/test.csv", info->run_dir);
    snprintf(pipeline_path, sizeof pipeline_path, "%s/pipeline.yaml", info->run_dir);
    ln_load_options_default(&options);
    if (ln_pipeline_load(pipeline_path, &pipeline, &ignored) == LN_OK) {
        options = pipeline->load;
        options.delimiter = ',';
        options.decimal_comma = 0;
    }
    ln_status status = ln_csv_read(test_path, &options, out, err);
    ln_pipeline_free(pipeline);
    if (status != LN_OK)
        return ln_error_prefix(err, "cannot replay %s version %d on its test split", info->name, info->version);
    return LN_OK;
}

static ln_status score(const ln_model *model, const ln_table *data, double **scores, ln_error *err)
{
    *scores = malloc((data->n_rows ? data->n_rows : 1) * sizeof **scores);
    if (*scores == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory scoring %zu rows", data->n_rows);
    return ln_model_predict(model, data, *scores, err);
}

static json_t *report_json(const ln_consumer_spec *consumer, const ln_consumer_report *report)
{
    json_t *object = json_object();

    json_object_set_new(object, "name", json_string(report->name));
    json_object_set_new(object, "uses", json_string(consumer->uses_score ? "score" : "flag"));
    json_object_set_new(object, "rate_before", view_json_number(report->rate_before));
    json_object_set_new(object, "rate_after", view_json_number(report->rate_after));
    json_object_set_new(object, "changed", view_json_number(report->changed));
    json_object_set_new(object, "psi", view_json_number(report->psi));
    json_object_set_new(object, "passed", json_boolean(report->passed));
    json_object_set_new(object, "detail", json_string(report->detail));
    return object;
}

/* Scores the production version on the same rows; a production model that cannot be scored is left out. */
static double *production_scores(ln_registry *registry, const char *name, int candidate, const ln_table *data,
                                 int *version, double *threshold)
{
    ln_version_info info;
    ln_model *model = NULL;
    ln_error local = {0};
    double *scores = NULL;

    *version = 0;
    if (ln_registry_get(registry, name, 0, &info, &local) != LN_OK)
        return NULL;
    if (info.version != candidate && view_load_model(&info, &model, &local) == LN_OK &&
        score(model, data, &scores, &local) == LN_OK) {
        *version = info.version;
        *threshold = flag_threshold(model);
    } else if (info.version != candidate) {
        fprintf(stderr, "lanner models: warning: production version %d is not compared downstream: %s\n",
                info.version, local.message);
        free(scores);
        scores = NULL;
    }
    ln_model_free(model);
    ln_version_info_clear(&info);
    return scores;
}

ln_status view_replay_downstream(ln_registry *registry, const char *name, int version, view_downstream *out,
                                 ln_error *err)
{
    ln_version_info info;
    ln_consumer_spec *consumers = NULL;
    size_t n_consumers = 0;
    ln_model *model = NULL;
    ln_table *data = NULL;
    double *candidate = NULL, *production = NULL;
    ln_consumer_report reports[LN_MAX_CONSUMERS];

    memset(out, 0, sizeof *out);
    out->reports = json_array();
    ln_status status = ln_registry_get(registry, name, version, &info, err);
    if (status != LN_OK)
        return status;
    status = ln_consumers_from_json(info.metrics_json, &consumers, &n_consumers, err);
    if (status == LN_OK && n_consumers == 0) {
        ln_consumers_free(consumers, n_consumers);
        ln_version_info_clear(&info);
        return LN_OK;
    }

    if (status == LN_OK)
        status = view_load_model(&info, &model, err);
    if (status == LN_OK)
        status = load_test_split(&info, &data, err);
    if (status == LN_OK)
        status = score(model, data, &candidate, err);
    if (status == LN_OK) {
        double production_threshold = INFINITY;
        production = production_scores(registry, name, version, data, &out->production_version,
                                       &production_threshold);
        ln_downstream_compare(consumers, n_consumers, candidate, flag_threshold(model), production,
                              production_threshold, data->n_rows, reports);
        out->rows = data->n_rows;
        for (size_t c = 0; c < n_consumers; c++) {
            json_array_append_new(out->reports, report_json(&consumers[c], &reports[c]));
            if (!reports[c].passed) {
                size_t used = strlen(out->broken);
                snprintf(out->broken + used, sizeof out->broken - used, "%s%s: %s", out->n_broken ? "; " : "",
                         reports[c].name, reports[c].detail);
                out->n_broken++;
            }
        }
    }

    free(candidate);
    free(production);
    ln_table_free(data);
    ln_model_free(model);
    ln_consumers_free(consumers, n_consumers);
    ln_version_info_clear(&info);
    return status;
}

void view_print_downstream(const view_downstream *downstream, const char *name, int version)
{
    size_t n = json_array_size(downstream->reports);

    if (n == 0)
        return;
    if (downstream->production_version > 0)
        printf("Downstream on %zu test rows of %s@%d, against production version %d:\n", downstream->rows, name,
               version, downstream->production_version);
    else
        printf("Downstream on %zu test rows of %s@%d (no production model to compare with):\n", downstream->rows,
               name, version);
    for (size_t i = 0; i < n; i++) {
        json_t *report = json_array_get(downstream->reports, i);
        char before[32], after[32], changed[32], psi[32];
        printf("  %-20s %-5s share %s -> %s, changed %s, PSI %s  %s: %s\n",
               json_string_value(json_object_get(report, "name")), json_string_value(json_object_get(report, "uses")),
               view_format(before, sizeof before, "%.2f%%", json_number_value(json_object_get(report, "rate_before")) * 100),
               view_format(after, sizeof after, "%.2f%%", json_number_value(json_object_get(report, "rate_after")) * 100),
               view_format(changed, sizeof changed, "%.2f%%", json_number_value(json_object_get(report, "changed")) * 100),
               view_format(psi, sizeof psi, "%.4f", json_number_value(json_object_get(report, "psi"))),
               json_is_true(json_object_get(report, "passed")) ? "ok" : "BROKEN",
               json_string_value(json_object_get(report, "detail")));
    }
}
