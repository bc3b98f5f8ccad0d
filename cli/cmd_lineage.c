/*
 * lanner lineage: where a registered model came from and where it goes, as
 * the chain data -> run -> model -> registry -> consumers.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "registry_view.h"

static void print_lineage_help(void)
{
    printf("Usage: lanner lineage NAME[@VERSION] [--registry PATH] [--json]\n"
           "\n"
           "Prints the lineage of a registered model version, one step per line: the data\n"
           "source and its hash, the pipeline hash, the run folder with the cache key of\n"
           "each step, the stored model file\n"
           "and its hash, the registry version with its stage and parent version, and the\n"
           "consumers of the model. Without @VERSION: the production version, else the\n"
           "newest.\n"
           "\n"
           "Options:\n"
           "  --registry PATH   registry database (default: ./lanner.db)\n"
           "  --json            print one JSON document on stdout\n"
           "  --help            show this help\n");
}

/* The steps of the run with their cache keys, as metrics.json stores them under lineage.steps. */
static json_t *steps_of(json_t *metrics_root)
{
    json_t *steps = json_object_get(json_object_get(metrics_root, "lineage"), "steps");
    return json_is_array(steps) ? steps : NULL;
}

/* The consumers of the version, as the pipeline's downstream section declared them. */
static json_t *consumers_of(json_t *metrics_root)
{
    json_t *consumers = json_object_get(metrics_root, "downstream");
    return json_is_array(consumers) ? consumers : NULL;
}

/* A consumer without the replay figures of its run, for the lineage document. */
static json_t *consumer_declaration(json_t *consumer)
{
    json_t *copy = json_deep_copy(consumer);
    json_object_del(copy, "test");
    return copy;
}

static void print_lineage_json(const ln_version_info *info, const view_metrics *metrics, json_t *metrics_root)
{
    json_t *root = json_object();
    json_t *data = json_object();
    json_t *run = json_object();
    json_t *model = json_object();
    json_t *registry = json_object();

    json_object_set_new(data, "source", metrics->data_source ? json_string(metrics->data_source) : json_null());
    json_object_set_new(data, "hash", json_string(info->data_hash));
    json_object_set_new(run, "dir", json_string(info->run_dir));
    json_object_set_new(run, "pipeline_hash", json_string(info->pipeline_hash));
    json_object_set_new(run, "contract_hash", info->contract_hash[0] ? json_string(info->contract_hash) : json_null());
    json_object_set_new(run, "lanner_version", json_string(info->lanner_version));
    json_object_set_new(run, "created_at", json_string(info->created_at));
    json_t *steps = steps_of(metrics_root);
    json_object_set_new(run, "steps", steps ? json_incref(steps) : json_array());
    json_object_set_new(model, "sha", json_string(info->model_sha));
    json_object_set_new(model, "path", json_string(info->model_path));
    json_object_set_new(registry, "name", json_string(info->name));
    json_object_set_new(registry, "version", json_integer(info->version));
    json_object_set_new(registry, "stage", json_string(info->stage));
    json_object_set_new(registry, "parent_version", view_json_version(info->parent_version));

    json_object_set_new(root, "data", data);
    json_object_set_new(root, "run", run);
    json_object_set_new(root, "model", model);
    json_object_set_new(root, "registry", registry);
    json_t *consumers = json_array();
    json_t *declared = consumers_of(metrics_root);
    for (size_t i = 0; declared != NULL && i < json_array_size(declared); i++)
        json_array_append_new(consumers, consumer_declaration(json_array_get(declared, i)));
    json_object_set_new(root, "consumers", consumers);
    view_print_json(root);
}

static void print_consumer(json_t *consumer)
{
    const char *uses = json_string_value(json_object_get(consumer, "uses"));
    json_t *rate = json_object_get(consumer, "rate");
    json_t *max_changed = json_object_get(consumer, "max_changed");

    printf("%s (%s", json_string_value(json_object_get(consumer, "name")), uses ? uses : "?");
    if (uses != NULL && strcmp(uses, "score") == 0)
        printf(" >= %g", json_number_value(json_object_get(consumer, "threshold")));
    printf(", share of rows %.2f%% to %.2f%%", json_number_value(json_object_get(rate, "min")) * 100,
           json_number_value(json_object_get(rate, "max")) * 100);
    if (json_is_number(max_changed))
        printf(", at most %.2f%% of decisions changed", json_number_value(max_changed) * 100);
    printf(")\n");
}

static void print_lineage_text(const ln_version_info *info, const view_metrics *metrics, json_t *metrics_root)
{
    printf("data       %s\n", metrics->data_source ? metrics->data_source : "(source not recorded)");
    printf("           hash %s\n", info->data_hash);
    printf("run        %s\n", info->run_dir);
    printf("           pipeline hash %s\n", info->pipeline_hash);
    if (info->contract_hash[0] != '\0')
        printf("           contract hash %s\n", info->contract_hash);
    printf("           lanner %s, %s\n", info->lanner_version, info->created_at);
    json_t *steps = steps_of(metrics_root);
    for (size_t i = 0; steps != NULL && i < json_array_size(steps); i++) {
        json_t *step = json_array_get(steps, i);
        printf("           step %-9s key %s%s\n", json_string_value(json_object_get(step, "name")),
               json_string_value(json_object_get(step, "key")),
               json_is_true(json_object_get(step, "reused")) ? " (reused from the cache)" : "");
    }
    printf("model      %s\n", info->model_path);
    printf("           sha %s\n", info->model_sha);
    printf("registry   %s version %d, stage %s", info->name, info->version, info->stage);
    if (info->parent_version > 0)
        printf(", parent version %d\n", info->parent_version);
    else
        printf(", no parent version\n");
    json_t *consumers = consumers_of(metrics_root);
    if (consumers == NULL || json_array_size(consumers) == 0)
        printf("consumers  none declared\n");
    for (size_t i = 0; consumers != NULL && i < json_array_size(consumers); i++) {
        printf(i == 0 ? "consumers  " : "           ");
        print_consumer(json_array_get(consumers, i));
    }
}

int cmd_lineage(int argc, char **argv)
{
    view_options options;
    view_ref ref;
    int parsed = view_parse_options("lineage", argc, argv, 0, print_lineage_help, &options);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    if (view_parse_one_ref("lineage", argc, argv, &options, 0, &ref) != 0)
        return EXIT_USAGE;

    ln_registry *registry = NULL;
    ln_error err = {0};
    if (view_open_registry(options.registry_path, &registry, &err) != LN_OK)
        return cli_fail(&err);

    ln_version_info info;
    if (view_get_version(registry, &ref, &info, &err) != LN_OK) {
        ln_registry_close(registry);
        return cli_fail(&err);
    }

    view_metrics metrics;
    json_t *metrics_root = view_read_metrics(&info, &metrics);
    if (options.json)
        print_lineage_json(&info, &metrics, metrics_root);
    else
        print_lineage_text(&info, &metrics, metrics_root);

    json_decref(metrics_root);
    ln_version_info_clear(&info);
    ln_registry_close(registry);
    return EXIT_SUCCESS;
}
