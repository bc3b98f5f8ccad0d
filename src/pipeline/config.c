/*
 * Reads a pipeline file into an ln_pipeline. Every key is checked here for
 * shape and range; checks against the data (columns exist, the target has two
 * values) happen when the pipeline runs.
 */
#include "lanner/pipeline.h"

#include <float.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/io.h"
#include "lanner/limits.h"
#include "lanner/log.h"
#include "pipeline/config_internal.h"
#include "pipeline/ydoc.h"

static const char *const top_keys[] = {
    "name", "data", "target", "positive", "id", "time", "ignore", "split",
    "baseline", "model", "outcome", "slices", "slice_min_rows", "slice_tolerance", "evaluation",
    "contract", "gate", "downstream", "monitor", NULL,
};
static const char *const evaluation_keys[] = {"bootstrap", "seed", NULL};
static const char *const action_keys[] = {"name", "payoff_if_positive", "payoff_if_negative", "max_rate", NULL};
static const char *const default_keys[] = {"payoff_if_positive", "payoff_if_negative", NULL};
static const char *const data_keys[] = {
    "csv", "sqlite", "postgres", "query", "delimiter", "decimal_comma", "missing", "schema", NULL,
};
static const char *const split_keys[] = {"valid", "test", "seed", NULL};
static const char *const baseline_keys[] = {"rule", NULL};
static const char *const model_keys[] = {
    "type", "trees", "max_leaves", "max_depth", "learning_rate", "min_data_in_leaf",
    "min_sum_hessian", "l1", "l2", "min_gain_to_split", "row_subsample", "feature_subsample",
    "max_bins", "early_stopping_rounds", "seed", "calibration", "scale_pos_weight", "min_category_rows",
    "cat_smooth", "cat_l2", "min_data_per_category", NULL,
};
static const char *const outcome_keys[] = {
    "true_positive", "false_positive", "false_negative", "true_negative", "max_flag_rate", "actions", "default", NULL,
};
static const char *const payoff_keys[4] = {
    "true_positive", "false_positive", "false_negative", "true_negative",
};

/* Reads an optional text value: absent leaves *out unchanged. */
static ln_status read_optional_string(ydoc *doc, yaml_node_t *mapping, const char *key, char **out,
                                      ln_error *err)
{
    yaml_node_t *node = ydoc_get(doc, mapping, key);

    return node == NULL ? LN_OK : ydoc_string(doc, node, key, out, err);
}

static ln_status read_required_string(ydoc *doc, yaml_node_t *mapping, const char *section,
                                      const char *key, char **out, ln_error *err)
{
    yaml_node_t *node = ydoc_get(doc, mapping, key);

    if (node == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: missing required key '%s' in %s", doc->path,
                            ydoc_line(mapping), key, section);
    return ydoc_string(doc, node, key, out, err);
}

static ln_status read_optional_number(ydoc *doc, yaml_node_t *mapping, const char *key,
                                      double minimum, double maximum, double *out, ln_error *err)
{
    yaml_node_t *node = ydoc_get(doc, mapping, key);

    return node == NULL ? LN_OK : ydoc_number(doc, node, key, minimum, maximum, out, err);
}

static ln_status read_optional_int(ydoc *doc, yaml_node_t *mapping, const char *key,
                                   long long minimum, long long maximum, int *out, ln_error *err)
{
    yaml_node_t *node = ydoc_get(doc, mapping, key);
    long long value;

    if (node == NULL)
        return LN_OK;
    ln_status status = ydoc_integer(doc, node, key, minimum, maximum, &value, err);
    if (status == LN_OK)
        *out = (int)value;
    return status;
}

static ln_status read_schema(ydoc *doc, yaml_node_t *node, ln_pipeline *pipeline, ln_error *err)
{
    if (node->type != YAML_MAPPING_NODE)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'schema' must map column names to types",
                            doc->path, ydoc_line(node));

    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    pipeline->schema_names = calloc(n ? n : 1, sizeof *pipeline->schema_names);
    pipeline->schema_types = calloc(n ? n : 1, sizeof *pipeline->schema_types);
    if (pipeline->schema_names == NULL || pipeline->schema_types == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory reading 'schema'", doc->path);
    pipeline->n_schema = n;

    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *pair = &node->data.mapping.pairs.start[i];
        yaml_node_t *key = yaml_document_get_node(&doc->document, pair->key);
        yaml_node_t *value = yaml_document_get_node(&doc->document, pair->value);
        char *type_name = NULL;

        ln_status status = ydoc_string(doc, key, "schema", &pipeline->schema_names[i], err);
        if (status == LN_OK)
            status = ydoc_string(doc, value, pipeline->schema_names[i], &type_name, err);
        if (status != LN_OK)
            return status;

        int type = ln_type_from_name(type_name);
        free(type_name);
        if (type < 0)
            return ln_error_set(err, LN_ERR_CONFIG,
                                "%s:%d: unknown type for column '%s' in schema; expected one of: "
                                "integer, float, boolean, timestamp, category, text",
                                doc->path, ydoc_line(value), pipeline->schema_names[i]);
        pipeline->schema_types[i] = (ln_type)type;
    }
    return LN_OK;
}

static ln_status read_delimiter(ydoc *doc, yaml_node_t *data, ln_pipeline *pipeline, ln_error *err)
{
    char *text = NULL;
    ln_status status = read_optional_string(doc, data, "delimiter", &text, err);

    if (status != LN_OK || text == NULL)
        return status;
    if (strcmp(text, "\\t") == 0 || strcmp(text, "tab") == 0)
        pipeline->load.delimiter = '\t';
    else if (strlen(text) == 1 && strchr(",;|\t", text[0]) != NULL)
        pipeline->load.delimiter = text[0];
    else
        status = ln_error_set(err, LN_ERR_CONFIG,
                              "%s:%d: 'delimiter' must be one of , ; | or tab, found '%s'", doc->path,
                              ydoc_line(ydoc_get(doc, data, "delimiter")), text);
    free(text);
    return status;
}

static ln_status read_data(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err)
{
    yaml_node_t *data = ydoc_get(doc, root, "data");
    if (data == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "%s: missing required key 'data' (csv: FILE or sqlite: FILE with query:)",
                            doc->path);

    ln_status status = ydoc_check_keys(doc, data, "data", data_keys, err);
    if (status == LN_OK)
        status = read_optional_string(doc, data, "csv", &pipeline->data_csv, err);
    if (status == LN_OK)
        status = read_optional_string(doc, data, "sqlite", &pipeline->data_database, err);
    if (status == LN_OK && pipeline->data_database == NULL)
        status = read_optional_string(doc, data, "postgres", &pipeline->data_database, err);
    if (status == LN_OK && ydoc_get(doc, data, "postgres") != NULL && !ln_postgres_is_url(pipeline->data_database))
        status = ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'postgres' needs a postgres://user@host:port/database URL, and "
                              "goes without 'sqlite'", doc->path, ydoc_line(ydoc_get(doc, data, "postgres")));
    if (status == LN_OK)
        status = read_optional_string(doc, data, "query", &pipeline->data_query, err);
    if (status == LN_OK)
        status = read_delimiter(doc, data, pipeline, err);
    if (status != LN_OK)
        return status;

    yaml_node_t *node = ydoc_get(doc, data, "decimal_comma");
    if (node != NULL && (status = ydoc_boolean(doc, node, "decimal_comma", &pipeline->load.decimal_comma, err)) != LN_OK)
        return status;
    node = ydoc_get(doc, data, "missing");
    if (node != NULL && (status = ydoc_string_list(doc, node, "missing", &pipeline->missing_markers,
                                                   &pipeline->n_missing_markers, err)) != LN_OK)
        return status;
    node = ydoc_get(doc, data, "schema");
    if (node != NULL && (status = read_schema(doc, node, pipeline, err)) != LN_OK)
        return status;

    int line = ydoc_line(data);
    if ((pipeline->data_csv != NULL) == (pipeline->data_database != NULL))
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'data' needs exactly one of 'csv', 'sqlite' or 'postgres'",
                            doc->path, line);
    if (pipeline->data_database != NULL && pipeline->data_query == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'data' with 'sqlite' or 'postgres' needs a 'query'", doc->path, line);
    if (pipeline->data_csv != NULL && pipeline->data_query != NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'query' goes with 'sqlite' or 'postgres', not with 'csv'",
                            doc->path, line);
    return LN_OK;
}

static ln_status read_split(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err)
{
    yaml_node_t *split = ydoc_get(doc, root, "split");
    if (split == NULL)
        return LN_OK;

    ln_status status = ydoc_check_keys(doc, split, "split", split_keys, err);
    if (status == LN_OK)
        status = read_optional_number(doc, split, "valid", 0.01, 0.9, &pipeline->valid_share, err);
    if (status == LN_OK)
        status = read_optional_number(doc, split, "test", 0.01, 0.9, &pipeline->test_share, err);
    if (status != LN_OK)
        return status;

    yaml_node_t *seed = ydoc_get(doc, split, "seed");
    if (seed != NULL) {
        long long value;
        status = ydoc_integer(doc, seed, "seed", 0, LLONG_MAX, &value, err);
        if (status != LN_OK)
            return status;
        pipeline->split_seed = (uint64_t)value;
    }
    if (pipeline->valid_share + pipeline->test_share > 0.9)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: split valid + test must leave at least 10%% for training, found %g",
                            doc->path, ydoc_line(split), pipeline->valid_share + pipeline->test_share);
    return LN_OK;
}

static ln_status read_model_type(ydoc *doc, yaml_node_t *model, ln_pipeline *pipeline, ln_error *err)
{
    char *type = NULL;
    ln_status status = read_optional_string(doc, model, "type", &type, err);

    if (status != LN_OK || type == NULL)
        return status;
    if (strcmp(type, "gbdt") == 0)
        pipeline->train.learner = LN_LEARNER_GBDT;
    else if (strcmp(type, "linear") == 0)
        pipeline->train.learner = LN_LEARNER_LINEAR;
    else
        status = ln_error_set(err, LN_ERR_CONFIG, "%s:%d: model 'type' must be gbdt or linear, found '%s'",
                              doc->path, ydoc_line(ydoc_get(doc, model, "type")), type);
    free(type);
    return status;
}

/*
 * Reads model: {calibration: isotonic|sigmoid}. ln_model_train fits it on
 * the validation split after training, so a pipeline with calibration needs
 * a validation share above 0.
 */
static ln_status read_model_calibration(ydoc *doc, yaml_node_t *model, ln_train_params *train, ln_error *err)
{
    char *method = NULL;
    ln_status status = read_optional_string(doc, model, "calibration", &method, err);

    if (status != LN_OK || method == NULL)
        return status;
    if (strcmp(method, "isotonic") == 0)
        train->calibration = LN_CALIBRATION_ISOTONIC;
    else if (strcmp(method, "sigmoid") == 0)
        train->calibration = LN_CALIBRATION_SIGMOID;
    else if (strcmp(method, "none") == 0)
        train->calibration = LN_CALIBRATION_NONE;
    else
        status = ln_error_set(err, LN_ERR_CONFIG,
                              "%s:%d: model 'calibration' must be isotonic, sigmoid or none, found '%s'", doc->path,
                              ydoc_line(ydoc_get(doc, model, "calibration")), method);
    free(method);
    return status;
}

/* Reads the keys that shape category features (see ln_train_params). */
static ln_status read_model_categories(ydoc *doc, yaml_node_t *model, ln_train_params *train, ln_error *err)
{
    ln_status status = read_optional_int(doc, model, "min_category_rows", 1, INT_MAX, &train->min_category_rows, err);
    if (status == LN_OK)
        status = read_optional_number(doc, model, "cat_smooth", 0, DBL_MAX, &train->cat_smooth, err);
    if (status == LN_OK)
        status = read_optional_number(doc, model, "cat_l2", 0, DBL_MAX, &train->cat_l2, err);
    if (status == LN_OK)
        status = read_optional_int(doc, model, "min_data_per_category", 1, INT_MAX, &train->min_data_per_category,
                                   err);
    return status;
}

/* Keys of model: that only the tree learner reads. */
static const char *const tree_only_keys[] = {
    "trees", "max_leaves", "max_depth", "learning_rate", "min_data_in_leaf", "min_sum_hessian", "l1",
    "min_gain_to_split", "row_subsample", "feature_subsample", "max_bins", "early_stopping_rounds", "seed",
    "cat_smooth", "cat_l2", "min_data_per_category", NULL,
};

/* Warns about tree-only keys in the model section of a logistic regression, which ignores them. */
static void warn_tree_keys(ydoc *doc, yaml_node_t *model)
{
    for (size_t i = 0; tree_only_keys[i] != NULL; i++) {
        yaml_node_t *node = ydoc_get(doc, model, tree_only_keys[i]);
        if (node != NULL)
            ln_log(LN_LOG_WARN, "%s:%d: model '%s' applies to type gbdt only; type linear ignores it", doc->path,
                   ydoc_line(node), tree_only_keys[i]);
    }
}

static ln_status read_model(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err)
{
    yaml_node_t *model = ydoc_get(doc, root, "model");
    ln_train_params *train = &pipeline->train;
    double l2 = -1;

    if (model == NULL)
        return LN_OK;

    ln_status status = ydoc_check_keys(doc, model, "model", model_keys, err);
    if (status == LN_OK)
        status = read_model_type(doc, model, pipeline, err);
    if (status == LN_OK)
        status = read_optional_int(doc, model, "trees", 1, 100000, &train->trees, err);
    if (status == LN_OK)
        status = read_optional_int(doc, model, "max_leaves", 2, 65536, &train->max_leaves, err);
    if (status == LN_OK)
        status = read_optional_int(doc, model, "max_depth", 0, 64, &train->max_depth, err);
    if (status == LN_OK)
        status = read_optional_number(doc, model, "learning_rate", 1e-6, 1, &train->learning_rate, err);
    if (status == LN_OK)
        status = read_optional_int(doc, model, "min_data_in_leaf", 1, INT_MAX, &train->min_data_in_leaf, err);
    if (status == LN_OK)
        status = read_optional_number(doc, model, "min_sum_hessian", 0, DBL_MAX, &train->min_sum_hessian, err);
    if (status == LN_OK)
        status = read_optional_number(doc, model, "l1", 0, DBL_MAX, &train->lambda_l1, err);
    if (status == LN_OK)
        status = read_optional_number(doc, model, "l2", 0, DBL_MAX, &l2, err);
    if (status == LN_OK)
        status = read_optional_number(doc, model, "min_gain_to_split", 0, DBL_MAX, &train->min_gain_to_split, err);
    if (status == LN_OK)
        status = read_optional_number(doc, model, "row_subsample", 1e-3, 1, &train->row_subsample, err);
    if (status == LN_OK)
        status = read_optional_number(doc, model, "feature_subsample", 1e-3, 1, &train->feature_subsample, err);
    if (status == LN_OK)
        status = read_optional_int(doc, model, "max_bins", 2, 255, &train->max_bins, err);
    if (status == LN_OK)
        status = read_optional_int(doc, model, "early_stopping_rounds", 0, 100000, &train->early_stopping_rounds, err);
    if (status == LN_OK)
        status = read_model_categories(doc, model, train, err);
    if (status != LN_OK)
        return status;

    yaml_node_t *seed = ydoc_get(doc, model, "seed");
    if (seed != NULL) {
        long long value;
        if ((status = ydoc_integer(doc, seed, "seed", 0, LLONG_MAX, &value, err)) != LN_OK)
            return status;
        train->seed = (uint64_t)value;
    }

    /* One key, l2, sets the penalty of whichever learner the pipeline uses. */
    if (l2 >= 0) {
        train->lambda_l2 = l2;
        train->linear_l2 = l2;
    }
    status = read_optional_number(doc, model, "scale_pos_weight", 1e-6, 1e6, &train->scale_pos_weight, err);
    if (status == LN_OK)
        status = read_model_calibration(doc, model, train, err);
    if (status == LN_OK && pipeline->train.learner == LN_LEARNER_LINEAR)
        warn_tree_keys(doc, model);
    return status;
}

static ln_status copy_text(const char *text, char **out, ln_error *err)
{
    *out = strdup(text);
    return *out != NULL ? LN_OK : ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the pipeline");
}

/* The binary form as a policy of one action, so that a run treats both forms alike. */
static ln_status binary_policy(ln_pipeline *pipeline, ln_error *err)
{
    ln_action_spec *flag = &pipeline->actions[0];

    pipeline->n_actions = 1;
    flag->max_rate = 1.0;
    ln_status status = copy_text("flag", &flag->name, err);
    if (status == LN_OK)
        status = copy_text(pipeline->payoff[0], &flag->payoff_if_positive, err);
    if (status == LN_OK)
        status = copy_text(pipeline->payoff[1], &flag->payoff_if_negative, err);
    if (status == LN_OK)
        status = copy_text("default", &pipeline->fallback.name, err);
    if (status == LN_OK)
        status = copy_text(pipeline->payoff[2], &pipeline->fallback.payoff_if_positive, err);
    if (status == LN_OK)
        status = copy_text(pipeline->payoff[3], &pipeline->fallback.payoff_if_negative, err);
    pipeline->fallback.max_rate = 1.0;
    return status;
}


static ln_status read_action(ydoc *doc, yaml_node_t *node, size_t index, ln_pipeline *pipeline, ln_error *err)
{
    ln_action_spec *action = &pipeline->actions[index];
    char section[64];

    snprintf(section, sizeof section, "outcome.actions[%zu]", index + 1);
    action->max_rate = 1.0;
    ln_status status = ydoc_check_keys(doc, node, section, action_keys, err);
    if (status == LN_OK)
        status = read_required_string(doc, node, section, "name", &action->name, err);
    if (status == LN_OK)
        status = read_required_string(doc, node, section, "payoff_if_positive", &action->payoff_if_positive, err);
    if (status == LN_OK)
        status = read_required_string(doc, node, section, "payoff_if_negative", &action->payoff_if_negative, err);
    if (status == LN_OK)
        status = read_optional_number(doc, node, "max_rate", 0, 1, &action->max_rate, err);
    if (status != LN_OK)
        return status;

    if (!config_name_is_valid(action->name) || strcmp(action->name, "default") == 0)
        return ln_error_set(err, LN_ERR_CONFIG,
                            "%s:%d: action name must be 1 to 128 letters, digits, '-', '_' or '.', and not "
                            "'default'; found '%s'", doc->path, ydoc_line(node), action->name);
    for (size_t k = 0; k < index; k++) {
        if (strcmp(pipeline->actions[k].name, action->name) == 0)
            return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: action '%s' is named twice in outcome.actions",
                                doc->path, ydoc_line(node), action->name);
    }
    return LN_OK;
}

static ln_status read_actions(ydoc *doc, yaml_node_t *outcome, ln_pipeline *pipeline, ln_error *err)
{
    yaml_node_t *list = ydoc_get(doc, outcome, "actions");
    yaml_node_t *fallback = ydoc_get(doc, outcome, "default");

    if (list->type != YAML_SEQUENCE_NODE)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'actions' must be a list of actions, each with name, "
                            "payoff_if_positive and payoff_if_negative", doc->path, ydoc_line(list));
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n == 0 || n > LN_MAX_ACTIONS)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'actions' lists %zu actions; expected 1 to %d",
                            doc->path, ydoc_line(list), n, LN_MAX_ACTIONS);
    if (fallback == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: outcome with 'actions' needs a 'default' with "
                            "payoff_if_positive and payoff_if_negative for the rows no action takes",
                            doc->path, ydoc_line(outcome));

    pipeline->multi_action = 1;
    pipeline->n_actions = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(&doc->document, list->data.sequence.items.start[i]);
        ln_status status = read_action(doc, item, i, pipeline, err);
        if (status != LN_OK)
            return status;
    }

    pipeline->fallback.max_rate = 1.0;
    ln_status status = ydoc_check_keys(doc, fallback, "outcome.default", default_keys, err);
    if (status == LN_OK)
        status = copy_text("default", &pipeline->fallback.name, err);
    if (status == LN_OK)
        status = read_required_string(doc, fallback, "outcome.default", "payoff_if_positive",
                                      &pipeline->fallback.payoff_if_positive, err);
    if (status == LN_OK)
        status = read_required_string(doc, fallback, "outcome.default", "payoff_if_negative",
                                      &pipeline->fallback.payoff_if_negative, err);
    return status;
}

static ln_status read_outcome(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err)
{
    yaml_node_t *outcome = ydoc_get(doc, root, "outcome");
    if (outcome == NULL)
        return ln_error_set(err, LN_ERR_CONFIG,
                            "%s: missing required key 'outcome' (the payoff of true_positive, false_positive, "
                            "false_negative and true_negative, or a list of actions)", doc->path);

    ln_status status = ydoc_check_keys(doc, outcome, "outcome", outcome_keys, err);
    if (status == LN_OK)
        status = read_optional_number(doc, outcome, "max_flag_rate", 1e-6, 1, &pipeline->max_flag_rate, err);
    if (status != LN_OK)
        return status;

    if (ydoc_get(doc, outcome, "actions") != NULL) {
        for (int i = 0; i < 4; i++) {
            yaml_node_t *node = ydoc_get(doc, outcome, payoff_keys[i]);
            if (node != NULL)
                return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: outcome has both 'actions' and '%s'; use "
                                    "either the four outcome payoffs or actions with a default",
                                    doc->path, ydoc_line(node), payoff_keys[i]);
        }
        return read_actions(doc, outcome, pipeline, err);
    }
    if (ydoc_get(doc, outcome, "default") != NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: outcome 'default' goes with 'actions'", doc->path,
                            ydoc_line(ydoc_get(doc, outcome, "default")));

    for (int i = 0; i < 4 && status == LN_OK; i++)
        status = read_required_string(doc, outcome, "outcome", payoff_keys[i], &pipeline->payoff[i], err);
    if (status == LN_OK)
        status = binary_policy(pipeline, err);
    return status;
}

static ln_status read_evaluation(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err)
{
    yaml_node_t *evaluation = ydoc_get(doc, root, "evaluation");
    long long value;

    if (evaluation == NULL)
        return LN_OK;
    ln_status status = ydoc_check_keys(doc, evaluation, "evaluation", evaluation_keys, err);
    if (status != LN_OK)
        return status;

    yaml_node_t *node = ydoc_get(doc, evaluation, "bootstrap");
    if (node != NULL) {
        status = ydoc_integer(doc, node, "bootstrap", 10, LN_BOOTSTRAP_MAX_RESAMPLES, &value, err);
        if (status != LN_OK)
            return status;
        pipeline->bootstrap_resamples = (size_t)value;
    }
    node = ydoc_get(doc, evaluation, "seed");
    if (node != NULL) {
        status = ydoc_integer(doc, node, "seed", 0, LLONG_MAX, &value, err);
        if (status != LN_OK)
            return status;
        pipeline->bootstrap_seed = (uint64_t)value;
    }
    return LN_OK;
}

static ln_status read_slices(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err)
{
    yaml_node_t *node = ydoc_get(doc, root, "slices");
    long long value;
    ln_status status = LN_OK;

    if (node != NULL) {
        status = ydoc_string_list(doc, node, "slices", &pipeline->slices, &pipeline->n_slices, err);
        if (status == LN_OK && pipeline->n_slices > LN_MAX_SLICES)
            return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'slices' names %zu columns; the maximum is %d",
                                doc->path, ydoc_line(node), pipeline->n_slices, LN_MAX_SLICES);
    }
    node = ydoc_get(doc, root, "slice_min_rows");
    if (status == LN_OK && node != NULL) {
        status = ydoc_integer(doc, node, "slice_min_rows", 1, LLONG_MAX, &value, err);
        if (status == LN_OK)
            pipeline->slice_min_rows = (size_t)value;
    }
    if (status == LN_OK)
        status = read_optional_number(doc, root, "slice_tolerance", 0, DBL_MAX, &pipeline->slice_tolerance, err);
    return status;
}

static ln_status read_baseline(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err)
{
    yaml_node_t *baseline = ydoc_get(doc, root, "baseline");
    if (baseline == NULL)
        return ln_error_set(err, LN_ERR_CONFIG,
                            "%s: missing required key 'baseline' with the rule in use today, "
                            "e.g. baseline: {rule: \"amount > 500\"}", doc->path);

    ln_status status = ydoc_check_keys(doc, baseline, "baseline", baseline_keys, err);
    if (status == LN_OK)
        status = read_required_string(doc, baseline, "baseline", "rule", &pipeline->baseline_rule, err);
    return status;
}

int config_name_is_valid(const char *name)
{
    size_t length = strlen(name);

    if (length == 0 || length > 128)
        return 0;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '.';
        if (!ok)
            return 0;
    }
    return 1;
}

static ln_status read_top_level(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err)
{
    ln_status status = ydoc_check_keys(doc, root, "the top level", top_keys, err);
    if (status == LN_OK)
        status = read_required_string(doc, root, "the top level", "name", &pipeline->name, err);
    if (status == LN_OK && !config_name_is_valid(pipeline->name))
        return ln_error_set(err, LN_ERR_CONFIG,
                            "%s:%d: 'name' must be 1 to 128 letters, digits, '-', '_' or '.', found '%s'",
                            doc->path, ydoc_line(ydoc_get(doc, root, "name")), pipeline->name);
    if (status == LN_OK)
        status = read_required_string(doc, root, "the top level", "target", &pipeline->target, err);
    if (status == LN_OK)
        status = read_required_string(doc, root, "the top level", "positive", &pipeline->positive, err);
    if (status == LN_OK)
        status = read_optional_string(doc, root, "id", &pipeline->id, err);
    if (status == LN_OK)
        status = read_optional_string(doc, root, "time", &pipeline->time, err);
    if (status == LN_OK)
        status = read_optional_string(doc, root, "contract", &pipeline->contract, err);
    if (status != LN_OK)
        return status;

    yaml_node_t *ignore = ydoc_get(doc, root, "ignore");
    if (ignore != NULL)
        status = ydoc_string_list(doc, ignore, "ignore", &pipeline->ignore, &pipeline->n_ignore, err);
    if (status == LN_OK)
        status = read_data(doc, root, pipeline, err);
    if (status == LN_OK)
        status = read_split(doc, root, pipeline, err);
    if (status == LN_OK)
        status = read_baseline(doc, root, pipeline, err);
    if (status == LN_OK)
        status = read_model(doc, root, pipeline, err);
    if (status == LN_OK)
        status = read_outcome(doc, root, pipeline, err);
    if (status == LN_OK)
        status = read_evaluation(doc, root, pipeline, err);
    if (status == LN_OK)
        status = read_slices(doc, root, pipeline, err);
    if (status == LN_OK)
        status = config_read_gate(doc, root, pipeline, err);
    if (status == LN_OK)
        status = config_read_downstream(doc, root, pipeline, err);
    return status;
}

static ln_pipeline *pipeline_new(const char *path)
{
    ln_pipeline *pipeline = calloc(1, sizeof *pipeline);
    if (pipeline == NULL)
        return NULL;

    char *copy = strdup(path);
    pipeline->path = strdup(path);
    pipeline->dir = copy ? strdup(dirname(copy)) : NULL;
    free(copy);
    if (pipeline->path == NULL || pipeline->dir == NULL) {
        ln_pipeline_free(pipeline);
        return NULL;
    }

    ln_load_options_default(&pipeline->load);
    ln_train_params_default(&pipeline->train);
    pipeline->valid_share = 0.15;
    pipeline->test_share = 0.2;
    pipeline->split_seed = 7;
    pipeline->max_flag_rate = 1.0;
    pipeline->slice_min_rows = LN_DEFAULT_SLICE_MIN_ROWS;
    pipeline->bootstrap_resamples = LN_BOOTSTRAP_DEFAULT_RESAMPLES;
    pipeline->bootstrap_seed = 7;
    config_gate_defaults(&pipeline->gate);
    return pipeline;
}

/* Points the load options at the strings the pipeline owns. */
static void link_load_options(ln_pipeline *pipeline)
{
    pipeline->load.override_names = (const char *const *)pipeline->schema_names;
    pipeline->load.override_types = pipeline->schema_types;
    pipeline->load.n_overrides = pipeline->n_schema;
    if (pipeline->missing_markers != NULL) {
        pipeline->load.missing_markers = (const char *const *)pipeline->missing_markers;
        pipeline->load.n_missing_markers = pipeline->n_missing_markers;
    }
}

ln_status ln_pipeline_load(const char *path, ln_pipeline **out, ln_error *err)
{
    ln_pipeline *pipeline = pipeline_new(path);
    size_t size = 0;
    ydoc doc;

    *out = NULL;
    if (pipeline == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", path);

    ln_status status = ln_read_file(path, LN_MAX_PIPELINE_BYTES, &pipeline->text, &size, err);
    if (status != LN_OK) {
        ln_pipeline_free(pipeline);
        return status == LN_ERR_NOT_FOUND ? ln_error_set(err, LN_ERR_NOT_FOUND, "pipeline file not found: %s", path)
                                          : status;
    }

    status = ydoc_load(&doc, path, pipeline->text, size, err);
    if (status == LN_OK)
        status = read_top_level(&doc, ydoc_root(&doc), pipeline, err);
    ydoc_free(&doc);

    if (status != LN_OK) {
        ln_pipeline_free(pipeline);
        return status;
    }
    link_load_options(pipeline);
    *out = pipeline;
    return LN_OK;
}

static void free_string_array(char **strings, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

void ln_pipeline_free(ln_pipeline *pipeline)
{
    if (pipeline == NULL)
        return;
    free(pipeline->path);
    free(pipeline->dir);
    free(pipeline->text);
    free(pipeline->name);
    free(pipeline->data_csv);
    free(pipeline->data_database);
    free(pipeline->data_query);
    free_string_array(pipeline->schema_names, pipeline->n_schema);
    free(pipeline->schema_types);
    free_string_array(pipeline->missing_markers, pipeline->n_missing_markers);
    free(pipeline->target);
    free(pipeline->positive);
    free(pipeline->id);
    free(pipeline->time);
    free(pipeline->contract);
    free_string_array(pipeline->ignore, pipeline->n_ignore);
    free(pipeline->baseline_rule);
    for (int i = 0; i < 4; i++)
        free(pipeline->payoff[i]);
    for (size_t k = 0; k <= LN_MAX_ACTIONS; k++) {
        ln_action_spec *action = k < LN_MAX_ACTIONS ? &pipeline->actions[k] : &pipeline->fallback;
        free(action->name);
        free(action->payoff_if_positive);
        free(action->payoff_if_negative);
    }
    free_string_array(pipeline->slices, pipeline->n_slices);
    ln_consumers_free(pipeline->consumers, pipeline->n_consumers);
    free(pipeline);
}
