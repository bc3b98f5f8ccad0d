/*
 * lanner model show: what a model file holds, for people (text) or programs
 * (--json): learner, objective, parameters, features with importance,
 * calibration, metadata and, with --trees, every node of every tree.
 */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lanner/model.h"

static void print_model_help(void)
{
    printf("Usage: lanner model show MODEL.lnr [--json] [--trees]\n"
           "\n"
           "Shows a model file: learner, objective, training parameters, trees kept,\n"
           "features with their type, category count and importance (share of split\n"
           "gain, and split count), calibration with its fitted values, logistic\n"
           "regression coefficients, and the metadata lanner run stored\n"
           "(threshold, id column, ...).\n"
           "\n"
           "Options:\n"
           "  --trees   also list every tree node: split feature, threshold or the\n"
           "            categories sent left, where missing values go, gain and cover;\n"
           "            leaves with their value (learning rate applied)\n"
           "  --json    print one JSON document instead of text\n"
           "  --help    show this help\n");
}

static const char *learner_name(ln_learner learner)
{
    return learner == LN_LEARNER_GBDT ? "gbdt" : "linear";
}

/* Appends the categories of a categorical split's left side to a JSON array or a text buffer. */
static void category_names(const ln_model *model, const ln_tree_node *node, json_t *array, char *text, size_t size)
{
    size_t used = 0;
    int32_t n = ln_model_category_count(model, (size_t)node->feature);

    if (text != NULL && size > 0)
        text[0] = '\0';
    for (unsigned bin = 1; bin < 256; bin++) {
        if (!((node->category_bins[bin >> 6] >> (bin & 63)) & 1u))
            continue;
        /* Bin 1 is for the categories too rare to keep in training and for categories never seen. */
        const char *name = bin == 1 ? "(other)" : (int32_t)bin - 2 < n
                                                      ? ln_model_category(model, (size_t)node->feature, (int32_t)bin - 2)
                                                      : "(unknown bin)";
        /* In JSON the pooled bin is a flag of its own, so a category named "(other)" stays distinct. */
        if (array != NULL && bin != 1)
            json_array_append_new(array, json_string(name));
        if (text != NULL && used < size) {
            int written = snprintf(text + used, size - used, "%s\"%s\"", used > 0 ? ", " : "", name);
            used += written > 0 ? (size_t)written : 0;
        }
    }
}

static json_t *node_json(const ln_model *model, int tree, int32_t index)
{
    ln_tree_node node;
    json_t *object = json_object();

    ln_model_tree_node(model, tree, index, &node);
    json_object_set_new(object, "node", json_integer(index));
    if (node.left < 0) {
        json_object_set_new(object, "leaf", json_real(node.value));
    } else {
        json_object_set_new(object, "feature", json_string(ln_model_feature_name(model, (size_t)node.feature)));
        if (node.categorical) {
            json_t *left = json_array();
            category_names(model, &node, left, NULL, 0);
            json_object_set_new(object, "categories_left", left);
            json_object_set_new(object, "other_left", json_boolean((node.category_bins[0] >> 1) & 1u));
        } else {
            json_object_set_new(object, "threshold", json_real(node.threshold));
        }
        json_object_set_new(object, "missing", json_string(node.default_left ? "left" : "right"));
        json_object_set_new(object, "gain", json_real(node.gain));
        json_object_set_new(object, "left", json_integer(node.left));
        json_object_set_new(object, "right", json_integer(node.right));
    }
    json_object_set_new(object, "cover", isnan(node.cover) ? json_null() : json_real(node.cover));
    return object;
}

static json_t *features_json(const ln_model *model, const double *gain, const uint64_t *splits)
{
    json_t *features = json_array();

    for (size_t f = 0; f < ln_model_feature_count(model); f++) {
        json_t *feature = json_object();
        ln_type type = ln_model_feature_type(model, f);
        json_object_set_new(feature, "name", json_string(ln_model_feature_name(model, f)));
        json_object_set_new(feature, "type", json_string(ln_type_name(type)));
        if (type == LN_TYPE_CATEGORY) {
            json_t *categories = json_array();
            for (int32_t i = 0; i < ln_model_category_count(model, f); i++)
                json_array_append_new(categories, json_string(ln_model_category(model, f, i)));
            json_object_set_new(feature, "categories", categories);
        }
        json_object_set_new(feature, "importance_gain", json_real(gain[f]));
        json_object_set_new(feature, "splits", json_integer((json_int_t)splits[f]));
        json_array_append_new(features, feature);
    }
    return features;
}

static json_t *calibration_json(const ln_model *model)
{
    ln_calibration_info info;
    json_t *object = json_object();

    ln_model_calibration_info(model, &info);
    json_object_set_new(object, "method", json_string(ln_calibration_name(info.method)));
    if (info.method == LN_CALIBRATION_SIGMOID) {
        json_object_set_new(object, "a", json_real(info.a));
        json_object_set_new(object, "b", json_real(info.b));
    } else if (info.method == LN_CALIBRATION_ISOTONIC) {
        json_t *points = json_array();
        for (size_t i = 0; i < info.n_points; i++)
            json_array_append_new(points, json_pack("[f, f]", info.x[i], info.y[i]));
        json_object_set_new(object, "points", points);
    }
    return object;
}

/* Returns the name of bin b of a linear model's category feature f (see ln_linear_feature_info). */
static const char *linear_bin_name(const ln_model *model, size_t f, int b)
{
    if (b == 0)
        return "(missing)";
    if (b == 1)
        return "(other)";
    return b - 2 < ln_model_category_count(model, f) ? ln_model_category(model, f, b - 2) : "(unknown bin)";
}

static json_t *linear_json(const ln_model *model)
{
    json_t *object = json_object();
    json_t *features = json_array();

    json_object_set_new(object, "intercept", json_real(ln_model_base_score(model, 0)));
    for (size_t f = 0; f < ln_model_feature_count(model); f++) {
        ln_linear_feature_info info;
        json_t *feature = json_object();
        if (ln_model_linear_feature(model, f, &info) != 0)
            continue;
        json_object_set_new(feature, "name", json_string(ln_model_feature_name(model, f)));
        if (ln_model_feature_type(model, f) == LN_TYPE_CATEGORY) {
            /* Missing and pooled categories get fields of their own, so no category name can clash with them. */
            json_t *weights = json_object();
            for (int b = 2; b < info.n_weights; b++)
                json_object_set_new(weights, linear_bin_name(model, f, b), json_real(info.weights[b]));
            json_object_set_new(feature, "missing_weight", json_real(info.n_weights > 0 ? info.weights[0] : 0.0));
            json_object_set_new(feature, "other_weight", json_real(info.n_weights > 1 ? info.weights[1] : 0.0));
            json_object_set_new(feature, "weights", weights);
        } else {
            json_object_set_new(feature, "weight", json_real(info.weights[0]));
            json_object_set_new(feature, "weight_per_unit", json_real(info.weights[0] / info.scale));
            json_object_set_new(feature, "missing_weight", json_real(info.weights[1]));
            json_object_set_new(feature, "mean", json_real(info.mean));
            json_object_set_new(feature, "scale", json_real(info.scale));
            json_object_set_new(feature, "min", json_real(info.min));
            json_object_set_new(feature, "max", json_real(info.max));
        }
        json_array_append_new(features, feature);
    }
    json_object_set_new(object, "features", features);
    return object;
}

static json_t *model_json(const ln_model *model, const char *path, int with_trees, const double *gain,
                          const uint64_t *splits)
{
    json_t *root = json_object();
    json_object_set_new(root, "path", json_string(path));
    json_object_set_new(root, "learner", json_string(learner_name(ln_model_learner(model))));
    json_object_set_new(root, "objective", json_string(ln_objective_name(ln_model_objective(model))));
    if (ln_model_objective(model) == LN_OBJECTIVE_MULTICLASS)
        json_object_set_new(root, "classes", json_integer((json_int_t)ln_model_output_count(model)));
    json_object_set_new(root, "trees", json_integer(ln_model_tree_count(model)));
    json_t *base_scores = json_array();
    for (size_t k = 0; k < ln_model_output_count(model); k++)
        json_array_append_new(base_scores, json_real(ln_model_base_score(model, k)));
    json_object_set_new(root, "base_scores", base_scores);
    json_object_set_new(root, "calibration", json_string(ln_calibration_name(ln_model_calibration(model))));
    json_object_set_new(root, "calibration_fit", calibration_json(model));
    if (ln_model_learner(model) == LN_LEARNER_LINEAR)
        json_object_set_new(root, "linear", linear_json(model));

    json_t *params = json_object();
    for (size_t i = 0; i < ln_model_param_count(model); i++) {
        double value;
        const char *name = ln_model_param(model, i, &value);
        json_object_set_new(params, name, value == floor(value) && fabs(value) < 1e15
                                              ? json_integer((json_int_t)value) : json_real(value));
    }
    json_object_set_new(root, "parameters", params);
    json_object_set_new(root, "features", features_json(model, gain, splits));

    json_error_t error;
    const char *metadata = ln_model_metadata(model);
    json_t *parsed = metadata[0] != '\0' ? json_loads(metadata, 0, &error) : json_object();
    json_object_set_new(root, "metadata", parsed != NULL ? parsed : json_string(metadata));

    if (with_trees) {
        json_t *trees = json_array();
        for (int t = 0; t < ln_model_tree_count(model); t++) {
            json_t *nodes = json_array();
            for (int32_t i = 0; i < ln_model_tree_node_count(model, t); i++)
                json_array_append_new(nodes, node_json(model, t, i));
            json_array_append_new(trees, nodes);
        }
        json_object_set_new(root, "tree_nodes", trees);
    }
    return root;
}

/* Formats v with the fewest digits (up to 17) that read back as the same double. */
static void format_double(double v, char *text, size_t size)
{
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(text, size, "%.*g", digits, v);
        if (strtod(text, NULL) == v)
            return;
    }
}

static void print_node(const ln_model *model, int tree, int32_t index, int depth)
{
    ln_tree_node node;
    char categories[2048];
    int indent = depth < 40 ? depth * 2 : 80;

    ln_model_tree_node(model, tree, index, &node);
    printf("    %*s%d: ", indent, "", (int)index);
    if (node.left < 0) {
        printf("leaf %.6g", node.value);
    } else {
        const char *name = ln_model_feature_name(model, (size_t)node.feature);
        if (node.categorical) {
            category_names(model, &node, NULL, categories, sizeof categories);
            printf("%s in {%s}", name, categories);
        } else {
            char threshold[32];
            format_double(node.threshold, threshold, sizeof threshold);
            printf("%s <= %s", name, threshold);
        }
        printf(" (missing %s) gain %.6g -> %d, %d", node.default_left ? "left" : "right", node.gain, (int)node.left,
               (int)node.right);
    }
    if (!isnan(node.cover))
        printf("  cover %.0f", node.cover);
    putchar('\n');
}

/* Prints a tree depth-first with an explicit stack, since a loaded tree may be very deep. */
static void print_tree(const ln_model *model, int tree)
{
    int32_t n = ln_model_tree_node_count(model, tree);
    int32_t *stack = malloc((size_t)(n + 1) * 2 * sizeof *stack);
    int32_t top = 0;

    if (stack == NULL)
        return;
    stack[top++] = 0;
    stack[top++] = 0;
    while (top > 0) {
        int32_t depth = stack[--top];
        int32_t index = stack[--top];
        ln_tree_node node;
        print_node(model, tree, index, depth);
        ln_model_tree_node(model, tree, index, &node);
        if (node.left >= 0) {
            stack[top++] = node.right;
            stack[top++] = depth + 1;
            stack[top++] = node.left;
            stack[top++] = depth + 1;
        }
    }
    free(stack);
}

static void print_calibration(const ln_model *model)
{
    ln_calibration_info info;

    ln_model_calibration_info(model, &info);
    printf("  calibration  %s", ln_calibration_name(info.method));
    if (info.method == LN_CALIBRATION_SIGMOID)
        printf(" (P = 1 / (1 + exp(-(%.6g * log-odds + %.6g))))", info.a, info.b);
    else if (info.method == LN_CALIBRATION_ISOTONIC)
        printf(" (%zu points; --json lists them)", info.n_points);
    putchar('\n');
}

/* Prints a logistic regression's intercept and weights: numeric ones per standard deviation and per unit. */
static void print_linear(const ln_model *model)
{
    printf("\nCoefficients (log-odds)\n  %-28s %12.6g\n", "intercept", ln_model_base_score(model, 0));
    printf("  %-28s %12s %12s %12s %12s %12s\n", "numeric feature", "per sd", "per unit", "if missing", "mean", "sd");
    for (size_t f = 0; f < ln_model_feature_count(model); f++) {
        ln_linear_feature_info info;
        if (ln_model_feature_type(model, f) == LN_TYPE_CATEGORY || ln_model_linear_feature(model, f, &info) != 0)
            continue;
        printf("  %-28s %12.6g %12.6g %12.6g %12.6g %12.6g\n", ln_model_feature_name(model, f), info.weights[0],
               info.weights[0] / info.scale, info.weights[1], info.mean, info.scale);
    }
    for (size_t f = 0; f < ln_model_feature_count(model); f++) {
        ln_linear_feature_info info;
        if (ln_model_feature_type(model, f) != LN_TYPE_CATEGORY || ln_model_linear_feature(model, f, &info) != 0)
            continue;
        printf("  %s (category)\n", ln_model_feature_name(model, f));
        for (int b = 0; b < info.n_weights; b++)
            printf("    %-26s %12.6g\n", linear_bin_name(model, f, b), info.weights[b]);
    }
}

static void print_text(const ln_model *model, const char *path, int with_trees, const double *gain,
                       const uint64_t *splits)
{
    ln_objective objective = ln_model_objective(model);

    printf("Model %s\n", path);
    printf("  learner      %s\n", ln_model_learner(model) == LN_LEARNER_GBDT ? "gbdt (gradient-boosted trees)"
                                                                               : "linear (logistic regression)");
    printf("  objective    %s", ln_objective_name(objective));
    if (objective == LN_OBJECTIVE_MULTICLASS)
        printf(" (%zu classes, one tree per class per round)", ln_model_output_count(model));
    printf("\n  trees        %d\n", ln_model_tree_count(model));
    printf("  base score   %.17g", ln_model_base_score(model, 0));
    if (ln_model_output_count(model) > 1)
        printf(" (class 0; --json lists every class)");
    putchar('\n');
    print_calibration(model);

    printf("\nParameters%s\n", ln_model_param_count(model) == 0 ? " (not stored: format 1 file)" : "");
    for (size_t i = 0; i < ln_model_param_count(model); i++) {
        double value;
        const char *name = ln_model_param(model, i, &value);
        printf("  %-22s %.10g\n", name, value);
    }

    /* For logistic regression the share is of absolute standardised weights, not of split gain. */
    int trees = ln_model_learner(model) == LN_LEARNER_GBDT;
    printf("\nFeatures (%zu)\n  %-28s %-10s %10s %10s %8s\n", ln_model_feature_count(model), "name", "type",
           "categories", trees ? "gain" : "weight", "splits");
    for (size_t f = 0; f < ln_model_feature_count(model); f++) {
        ln_type type = ln_model_feature_type(model, f);
        char count[16] = "-";
        if (type == LN_TYPE_CATEGORY)
            snprintf(count, sizeof count, "%d", (int)ln_model_category_count(model, f));
        printf("  %-28s %-10s %10s %9.2f%% %8llu\n", ln_model_feature_name(model, f), ln_type_name(type), count,
               gain[f] * 100, (unsigned long long)splits[f]);
    }

    if (!trees)
        print_linear(model);

    const char *metadata = ln_model_metadata(model);
    printf("\nMetadata\n  %s\n", metadata[0] != '\0' ? metadata : "(none)");

    if (!with_trees)
        return;
    for (int t = 0; t < ln_model_tree_count(model); t++) {
        if (objective == LN_OBJECTIVE_MULTICLASS)
            printf("\nTree %d (class %d)\n", t, t % (int)ln_model_output_count(model));
        else
            printf("\nTree %d\n", t);
        print_tree(model, t);
    }
}

static int model_show(int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"trees", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, with_trees = 0, option;

    optind = 1;
    while ((option = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (option) {
        case 'j': json = 1; break;
        case 't': with_trees = 1; break;
        case 'h': print_model_help(); return EXIT_SUCCESS;
        default: return cli_usage_error("model show", "invalid option");
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("model show", "expected one model file, found %d arguments", argc - optind);

    const char *path = argv[optind];
    ln_model *model = NULL;
    ln_error err = {0};
    if (ln_model_load(path, &model, &err) != LN_OK)
        return cli_fail(&err);

    size_t n = ln_model_feature_count(model);
    double *gain = calloc(n, sizeof *gain);
    uint64_t *splits = calloc(n, sizeof *splits);
    if (gain == NULL || splits == NULL) {
        free(gain);
        free(splits);
        ln_model_free(model);
        ln_error_set(&err, LN_ERR_NOMEM, "out of memory describing %zu features", n);
        return cli_fail(&err);
    }
    ln_model_feature_importance(model, gain);
    ln_model_feature_split_counts(model, splits);

    if (json) {
        json_t *root = model_json(model, path, with_trees, gain, splits);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', stdout);
        json_decref(root);
    } else {
        print_text(model, path, with_trees, gain, splits);
    }

    free(gain);
    free(splits);
    ln_model_free(model);
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int cmd_model(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_model_help();
        return argc < 2 ? EXIT_USAGE : EXIT_SUCCESS;
    }
    if (strcmp(argv[1], "show") == 0)
        return model_show(argc - 1, argv + 1);
    return cli_usage_error("model", "unknown subcommand '%s' (expected show)", argv[1]);
}
