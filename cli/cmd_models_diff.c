/*
 * lanner models diff: two registered versions side by side, so a reviewer
 * can check what a promotion would change: test metrics, features, data and
 * pipeline hashes, and the lanner version that trained each.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lanner/table.h"
#include "registry_view.h"

static void print_diff_help(void)
{
    printf("Usage: lanner models diff NAME@A NAME@B [--registry PATH] [--json]\n"
           "\n"
           "Compares two versions side by side: test ROC AUC, PR AUC, log loss, payoff of\n"
           "the model, the rule in use and flagging nothing, flag rate and threshold, with\n"
           "the change from A to B; features added, removed or of another type in B; whether\n"
           "the data hash and pipeline hash are equal; and the lanner versions. The two\n"
           "versions may belong to different models. Exits with 1 when a stored model file\n"
           "is missing or damaged, after printing what the registry holds.\n");
}

/* One side of the diff. */
typedef struct side {
    char label[LN_REGISTRY_MAX_NAME + 16]; /* NAME@VERSION */
    ln_version_info info;
    view_metrics metrics;
    json_t *metrics_root;
    ln_model *model; /* NULL when the stored file failed to load */
} side;

/* A feature of one model, sortable by name. */
typedef struct feature {
    const char *name;
    ln_type type;
} feature;

/* The features of B compared with those of A, as JSON arrays. */
typedef struct feature_changes {
    json_t *added;        /* names in B only */
    json_t *removed;      /* names in A only */
    json_t *type_changed; /* objects {name, a, b} */
} feature_changes;

typedef struct metric_row {
    const char *label; /* text output */
    const char *key;   /* JSON output */
    const char *format;
    double scale; /* 100 for rates shown as percent */
    size_t offset;
} metric_row;

static const metric_row metric_rows[] = {
    {"test ROC AUC", "auc", "%.4f", 1, offsetof(view_metrics, auc)},
    {"test PR AUC", "pr_auc", "%.4f", 1, offsetof(view_metrics, pr_auc)},
    {"test log loss", "logloss", "%.4f", 1, offsetof(view_metrics, log_loss)},
    {"payoff of the model", "payoff_model", "%.2f", 1, offsetof(view_metrics, payoff_model)},
    {"payoff of rule in use", "payoff_baseline", "%.2f", 1, offsetof(view_metrics, payoff_baseline)},
    {"payoff of flag nothing", "payoff_flag_nothing", "%.2f", 1, offsetof(view_metrics, payoff_nothing)},
    {"flag rate (%)", "flag_rate", "%.2f", 100, offsetof(view_metrics, flag_rate)},
    {"threshold", "threshold", "%.6g", 1, offsetof(view_metrics, threshold)},
};

enum { N_METRIC_ROWS = sizeof metric_rows / sizeof metric_rows[0] };

static double metric_value(const view_metrics *metrics, const metric_row *row)
{
    return *(const double *)((const char *)metrics + row->offset);
}

static int compare_features(const void *a, const void *b)
{
    return strcmp(((const feature *)a)->name, ((const feature *)b)->name);
}

/* Returns the model's features sorted by name, or NULL when out of memory. */
static feature *sorted_features(const ln_model *model)
{
    size_t n = ln_model_feature_count(model);
    feature *features = malloc((n ? n : 1) * sizeof *features);

    if (features == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        features[i].name = ln_model_feature_name(model, i);
        features[i].type = ln_model_feature_type(model, i);
    }
    qsort(features, n, sizeof *features, compare_features);
    return features;
}

/* Merges the two sorted feature lists into changes. Returns LN_ERR_NOMEM or LN_OK. */
static ln_status compare_models(const ln_model *a, const ln_model *b, feature_changes *changes, ln_error *err)
{
    size_t n_a = ln_model_feature_count(a);
    size_t n_b = ln_model_feature_count(b);
    feature *fa = sorted_features(a);
    feature *fb = sorted_features(b);
    size_t i = 0, j = 0;

    if (fa == NULL || fb == NULL) {
        free(fa);
        free(fb);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory comparing %zu and %zu features", n_a, n_b);
    }

    while (i < n_a || j < n_b) {
        int order = i == n_a ? 1 : j == n_b ? -1 : strcmp(fa[i].name, fb[j].name);
        if (order < 0) {
            json_array_append_new(changes->removed, json_string(fa[i++].name));
        } else if (order > 0) {
            json_array_append_new(changes->added, json_string(fb[j++].name));
        } else {
            if (fa[i].type != fb[j].type) {
                json_t *change = json_object();
                json_object_set_new(change, "name", json_string(fa[i].name));
                json_object_set_new(change, "a", json_string(ln_type_name(fa[i].type)));
                json_object_set_new(change, "b", json_string(ln_type_name(fb[j].type)));
                json_array_append_new(changes->type_changed, change);
            }
            i++;
            j++;
        }
    }

    free(fa);
    free(fb);
    return LN_OK;
}

static json_t *side_json(const side *s)
{
    json_t *object = json_object();

    json_object_set_new(object, "name", json_string(s->info.name));
    json_object_set_new(object, "version", json_integer(s->info.version));
    json_object_set_new(object, "stage", json_string(s->info.stage));
    json_object_set_new(object, "created_at", json_string(s->info.created_at));
    json_object_set_new(object, "data_hash", json_string(s->info.data_hash));
    json_object_set_new(object, "pipeline_hash", json_string(s->info.pipeline_hash));
    json_object_set_new(object, "lanner_version", json_string(s->info.lanner_version));
    json_object_set_new(object, "features", s->model ? json_integer((json_int_t)ln_model_feature_count(s->model))
                                                     : json_null());
    return object;
}

static void print_diff_json(const side *a, const side *b, const feature_changes *changes)
{
    json_t *root = json_object();
    json_t *metrics = json_object();

    json_object_set_new(root, "a", side_json(a));
    json_object_set_new(root, "b", side_json(b));
    for (int r = 0; r < N_METRIC_ROWS; r++) {
        const metric_row *row = &metric_rows[r];
        double value_a = metric_value(&a->metrics, row);
        double value_b = metric_value(&b->metrics, row);
        json_t *metric = json_object();
        json_object_set_new(metric, "a", view_json_number(value_a));
        json_object_set_new(metric, "b", view_json_number(value_b));
        json_object_set_new(metric, "change", view_json_number(value_b - value_a));
        json_object_set_new(metrics, row->key, metric);
    }
    json_object_set_new(root, "metrics", metrics);
    json_object_set_new(root, "data_hash_equal", json_boolean(strcmp(a->info.data_hash, b->info.data_hash) == 0));
    json_object_set_new(root, "pipeline_hash_equal",
                        json_boolean(strcmp(a->info.pipeline_hash, b->info.pipeline_hash) == 0));
    json_object_set_new(root, "lanner_version_equal",
                        json_boolean(strcmp(a->info.lanner_version, b->info.lanner_version) == 0));
    json_object_set(root, "features_added", changes->added ? changes->added : json_null());
    json_object_set(root, "features_removed", changes->removed ? changes->removed : json_null());
    json_object_set(root, "features_type_changed", changes->type_changed ? changes->type_changed : json_null());
    view_print_json(root);
}

static void print_hash_line(const char *label, const char *hash_a, const char *hash_b)
{
    if (strcmp(hash_a, hash_b) == 0)
        printf("%-24s same: %s\n", label, hash_a);
    else
        printf("%-24s differ: %s vs %s\n", label, hash_a, hash_b);
}

static void print_name_list(const char *label, const json_t *names)
{
    size_t i;
    json_t *name;

    printf("%-24s", label);
    if (json_array_size(names) == 0)
        printf(" none");
    json_array_foreach(names, i, name) printf("%s%s", i == 0 ? " " : ", ", json_string_value(name));
    printf("\n");
}

static void print_diff_text(const side *a, const side *b, const feature_changes *changes)
{
    char va[32], vb[32], change[32];

    printf("%-24s %16s %16s %14s\n", "", a->label, b->label, "change");
    for (int r = 0; r < N_METRIC_ROWS; r++) {
        const metric_row *row = &metric_rows[r];
        double value_a = metric_value(&a->metrics, row) * row->scale;
        double value_b = metric_value(&b->metrics, row) * row->scale;
        char signed_format[16];
        snprintf(signed_format, sizeof signed_format, "%%+%s", row->format + 1);
        printf("%-24s %16s %16s %14s\n", row->label, view_format(va, sizeof va, row->format, value_a),
               view_format(vb, sizeof vb, row->format, value_b),
               view_format(change, sizeof change, signed_format, value_b - value_a));
    }
    printf("%-24s %16s %16s\n", "stage", a->info.stage, b->info.stage);
    printf("%-24s %16s %16s\n", "lanner version", a->info.lanner_version, b->info.lanner_version);
    printf("\n");
    print_hash_line("data hash", a->info.data_hash, b->info.data_hash);
    print_hash_line("pipeline hash", a->info.pipeline_hash, b->info.pipeline_hash);

    if (a->model == NULL || b->model == NULL) {
        printf("\nFeatures: not compared because a stored model file cannot be loaded\n");
        return;
    }
    printf("\nFeatures: %zu in %s, %zu in %s\n", ln_model_feature_count(a->model), a->label,
           ln_model_feature_count(b->model), b->label);
    print_name_list("  added in B", changes->added);
    print_name_list("  removed in B", changes->removed);

    size_t i;
    json_t *item;
    if (json_array_size(changes->type_changed) == 0)
        printf("%-24s none\n", "  type changed");
    json_array_foreach(changes->type_changed, i, item)
    {
        printf("%-24s %s: %s -> %s\n", i == 0 ? "  type changed" : "",
               json_string_value(json_object_get(item, "name")), json_string_value(json_object_get(item, "a")),
               json_string_value(json_object_get(item, "b")));
    }
}

/* Reads one side. A model file that fails to load goes into *model_err, and the side still counts as read. */
static ln_status read_side(ln_registry *registry, const view_ref *ref, side *s, ln_error *model_err, ln_error *err)
{
    ln_status status = ln_registry_get(registry, ref->name, ref->version, &s->info, err);

    if (status != LN_OK)
        return status;

    snprintf(s->label, sizeof s->label, "%s@%d", ref->name, ref->version);
    s->metrics_root = view_read_metrics(&s->info, &s->metrics);
    if (model_err->status == LN_OK && view_load_model(&s->info, &s->model, model_err) == LN_OK &&
        isfinite(view_model_threshold(s->model)))
        s->metrics.threshold = view_model_threshold(s->model);
    return LN_OK;
}

static void clear_side(side *s)
{
    ln_model_free(s->model);
    json_decref(s->metrics_root);
    ln_version_info_clear(&s->info);
}

int cmd_models_diff(int argc, char **argv)
{
    view_options options;
    view_ref refs[2];
    int parsed = view_parse_options("models diff", argc, argv, 0, print_diff_help, &options);
    if (parsed != 0)
        return parsed < 0 ? EXIT_SUCCESS : parsed;
    if (argc - options.first_arg != 2)
        return view_usage_error("models diff", "expected NAME@A NAME@B, found %d arguments",
                                argc - options.first_arg);
    for (int i = 0; i < 2; i++) {
        if (view_parse_ref("models diff", argv[options.first_arg + i], 1, &refs[i]) != 0)
            return EXIT_USAGE;
    }

    ln_registry *registry = NULL;
    ln_error err = {0};
    if (view_open_registry(options.registry_path, &registry, &err) != LN_OK)
        return cli_fail(&err);

    side sides[2];
    memset(sides, 0, sizeof sides);
    ln_error model_err = {0};
    feature_changes changes = {0};
    ln_status status = read_side(registry, &refs[0], &sides[0], &model_err, &err);
    if (status == LN_OK)
        status = read_side(registry, &refs[1], &sides[1], &model_err, &err);

    if (status == LN_OK && model_err.status == LN_OK) {
        changes.added = json_array();
        changes.removed = json_array();
        changes.type_changed = json_array();
        status = compare_models(sides[0].model, sides[1].model, &changes, &err);
    }

    int exit_code = EXIT_SUCCESS;
    if (status != LN_OK) {
        exit_code = cli_fail(&err);
    } else {
        /* The registry's record is printed even when a model file is damaged, then the command fails. */
        if (options.json)
            print_diff_json(&sides[0], &sides[1], &changes);
        else
            print_diff_text(&sides[0], &sides[1], &changes);
        if (model_err.status != LN_OK)
            exit_code = cli_fail(&model_err);
    }

    json_decref(changes.added);
    json_decref(changes.removed);
    json_decref(changes.type_changed);
    clear_side(&sides[0]);
    clear_side(&sides[1]);
    ln_registry_close(registry);
    return exit_code;
}
