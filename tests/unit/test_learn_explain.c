/*
 * Explanations: TreeSHAP contributions add up to the raw score, match
 * Shapley values computed by brute force over every feature subset, and the
 * linear explanation is weight x standardised value. Also the single-row
 * prediction path, which must agree with batch prediction.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "learn_tables.h"

#include "lanner/model.h"
#include "learn/learn_internal.h"

static uint64_t lcg_state;

static double next_uniform(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg_state >> 11) * 0x1.0p-53;
}

static const char *const feature_names[] = {"a", "b", "c", "city"};
static const char *const cities[] = {"paris", "lyon", "nice", "lille", "brest", "rare1", "rare2"};

/*
 * Four features: three numeric with about 10% missing and one category
 * whose two last values are rare (pooled in training). The label mixes
 * interactions so trees split on every feature, some twice on one path.
 */
static ln_table *random_table(size_t n, double **labels_out, int regression)
{
    ln_table *table = ln_table_new(n);
    ln_column *a = add_column(table, "a", LN_TYPE_FLOAT);
    ln_column *b = add_column(table, "b", LN_TYPE_FLOAT);
    ln_column *c = add_column(table, "c", LN_TYPE_INT);
    ln_column *city = add_column(table, "city", LN_TYPE_CATEGORY);
    double *labels = malloc(n * sizeof *labels);

    for (size_t i = 0; i < n; i++) {
        a->values[i] = next_uniform() < 0.1 ? NAN : next_uniform() * 4 - 2;
        b->values[i] = next_uniform() < 0.1 ? NAN : next_uniform();
        c->values[i] = floor(next_uniform() * 20);
        size_t pick = (size_t)(next_uniform() * 5);
        if (next_uniform() < 0.01)
            pick = 5 + (next_uniform() < 0.5);
        set_category(city, i, next_uniform() < 0.05 ? NULL : cities[pick]);

        double av = isnan(a->values[i]) ? 0.5 : a->values[i];
        double bv = isnan(b->values[i]) ? 0.2 : b->values[i];
        double z = av * bv * 2 + (c->values[i] > 10) - (pick == 1) + (pick == 3) * av + (next_uniform() - 0.5);
        labels[i] = regression ? z : z > 0.3;
    }
    *labels_out = labels;
    return table;
}

static ln_model *train(const ln_table *table, const double *labels, ln_learner learner, ln_objective objective,
                       int n_classes, int trees)
{
    ln_train_params params;
    ln_train_params_default(&params);
    params.learner = learner;
    params.objective = objective;
    params.n_classes = n_classes;
    params.trees = trees;
    params.max_leaves = 12;
    params.min_data_in_leaf = 5;
    params.learning_rate = 0.2;
    params.early_stopping_rounds = 0;
    params.threads = 1;
    ln_model *model = NULL;
    ln_error err = {0};
    if (ln_model_train(&params, table, labels, feature_names, 4, NULL, NULL, &model, &err) != LN_OK)
        fail_msg("training failed: %s", err.message);
    return model;
}

/* A probe table with values training never saw: unseen cities, out-of-range numbers, missing cells. */
static ln_table *probe_table(size_t n)
{
    ln_table *table = ln_table_new(n);
    ln_column *a = add_column(table, "a", LN_TYPE_FLOAT);
    ln_column *b = add_column(table, "b", LN_TYPE_FLOAT);
    ln_column *c = add_column(table, "c", LN_TYPE_INT);
    ln_column *city = add_column(table, "city", LN_TYPE_TEXT);
    const char *values[] = {"nice", "tokyo", NULL, "rare2", "paris", "lyon", "lille", "brest"};

    for (size_t i = 0; i < n; i++) {
        a->values[i] = i % 7 == 0 ? NAN : next_uniform() * 8 - 4;
        b->values[i] = i % 5 == 0 ? NAN : next_uniform() * 1.4 - 0.2;
        c->values[i] = i % 11 == 0 ? INFINITY : floor(next_uniform() * 25);
        set_category(city, i, values[i % 8]);
    }
    return table;
}

/* Returns the largest |sum of contributions - raw score| over rows and outputs. */
static double additivity_error(const ln_model *model, const ln_table *data)
{
    size_t n = data->n_rows;
    size_t k_count = ln_model_output_count(model);
    size_t width = ln_model_feature_count(model) + 1;
    double *raw = malloc(n * k_count * sizeof *raw);
    double *phi = malloc(n * k_count * width * sizeof *phi);
    ln_error err = {0};

    assert_int_equal(ln_model_predict_raw(model, data, raw, &err), LN_OK);
    if (ln_model_explain(model, data, phi, &err) != LN_OK)
        fail_msg("explain failed: %s", err.message);

    double worst = 0;
    for (size_t r = 0; r < n * k_count; r++) {
        double sum = 0;
        for (size_t j = 0; j < width; j++)
            sum += phi[r * width + j];
        worst = fmax(worst, fabs(sum - raw[r]));
    }
    free(raw);
    free(phi);
    return worst;
}

static void tree_contributions_add_to_raw_score(void **state)
{
    (void)state;
    double worst = 0;

    for (uint64_t seed = 1; seed <= 4; seed++) {
        lcg_state = seed;
        double *labels;
        ln_table *table = random_table(1500, &labels, 0);
        ln_model *model = train(table, labels, LN_LEARNER_GBDT, LN_OBJECTIVE_BINARY, 0, 40);
        ln_table *probe = probe_table(300);

        worst = fmax(worst, additivity_error(model, table));
        worst = fmax(worst, additivity_error(model, probe));

        ln_model_free(model);
        ln_table_free(probe);
        ln_table_free(table);
        free(labels);
    }
    print_message("TreeSHAP additivity: max |sum - raw score| = %.3g\n", worst);
    assert_true(worst < 1e-9);
}

static void regression_and_multiclass_add_up(void **state)
{
    (void)state;
    lcg_state = 21;
    double *labels;
    ln_table *table = random_table(1200, &labels, 1);
    ln_model *regression = train(table, labels, LN_LEARNER_GBDT, LN_OBJECTIVE_REGRESSION, 0, 30);
    assert_true(additivity_error(regression, table) < 1e-9);

    for (size_t i = 0; i < table->n_rows; i++)
        labels[i] = labels[i] < -0.3 ? 0 : labels[i] < 0.6 ? 1 : 2;
    ln_model *multiclass = train(table, labels, LN_LEARNER_GBDT, LN_OBJECTIVE_MULTICLASS, 3, 20);
    assert_int_equal(ln_model_output_count(multiclass), 3);
    assert_true(additivity_error(multiclass, table) < 1e-9);

    ln_model_free(regression);
    ln_model_free(multiclass);
    ln_table_free(table);
    free(labels);
}

/* ---- brute-force Shapley values of the path-dependent expectation ---- */

typedef struct probe_row {
    double values[3];   /* a, b, c */
    int city_bin;       /* 0 missing, 1 pooled or unseen, 2 + i kept category i */
} probe_row;

static int node_goes_left(const ln_tree_node *node, const probe_row *row)
{
    if (node->categorical) {
        unsigned bin = (unsigned)row->city_bin;
        if (bin == 0)
            return node->default_left;
        return (int)((node->category_bins[bin >> 6] >> (bin & 63)) & 1u);
    }
    double v = row->values[node->feature];
    if (isnan(v))
        return node->default_left;
    return v <= node->threshold;
}

/* E[tree | the features in mask are known]: unknown features split by cover, as TreeSHAP defines it. */
static double conditional_value(const ln_model *model, int tree, int32_t index, const probe_row *row, unsigned mask)
{
    ln_tree_node node;
    assert_int_equal(ln_model_tree_node(model, tree, index, &node), 0);
    if (node.left < 0)
        return node.value;
    if (mask & (1u << node.feature))
        return conditional_value(model, tree, node_goes_left(&node, row) ? node.left : node.right, row, mask);

    ln_tree_node left, right;
    ln_model_tree_node(model, tree, node.left, &left);
    ln_model_tree_node(model, tree, node.right, &right);
    return (left.cover * conditional_value(model, tree, node.left, row, mask) +
            right.cover * conditional_value(model, tree, node.right, row, mask)) /
           node.cover;
}

static double model_value(const ln_model *model, const probe_row *row, unsigned mask, double base)
{
    double sum = base;
    for (int t = 0; t < ln_model_tree_count(model); t++)
        sum += conditional_value(model, t, 0, row, mask);
    return sum;
}

static double factorial(int n)
{
    return n <= 1 ? 1.0 : n * factorial(n - 1);
}

static void contributions_match_brute_force(void **state)
{
    (void)state;
    lcg_state = 77;
    double *labels;
    ln_table *table = random_table(1000, &labels, 0);
    ln_model *model = train(table, labels, LN_LEARNER_GBDT, LN_OBJECTIVE_BINARY, 0, 15);
    ln_table *probe = probe_table(24);
    double phi[24 * 5];
    ln_error err = {0};
    assert_int_equal(ln_model_explain(model, probe, phi, &err), LN_OK);

    /* The base score is the raw score of a model with every tree's value at 0: the bias minus tree means. */
    double base = phi[4];
    for (int t = 0; t < ln_model_tree_count(model); t++)
        base -= conditional_value(model, t, 0, &(probe_row){{0, 0, 0}, 0}, 0);

    int n = 4;
    for (size_t r = 0; r < probe->n_rows; r++) {
        probe_row row;
        for (int f = 0; f < 3; f++)
            row.values[f] = probe->cols[f].values[r];
        int32_t code = probe->cols[3].codes[r];
        row.city_bin = 0;
        if (code >= 0) {
            const char *text = ln_dict_string(probe->cols[3].dict, code);
            row.city_bin = 1;
            for (int32_t i = 0; i < ln_model_category_count(model, 3); i++)
                if (strcmp(ln_model_category(model, 3, i), text) == 0)
                    row.city_bin = 2 + i;
        }

        for (int f = 0; f < n; f++) {
            double expected = 0;
            for (unsigned mask = 0; mask < (1u << n); mask++) {
                if (mask & (1u << f))
                    continue;
                int size = __builtin_popcount(mask);
                double weight = factorial(size) * factorial(n - size - 1) / factorial(n);
                expected += weight * (model_value(model, &row, mask | (1u << f), base) -
                                      model_value(model, &row, mask, base));
            }
            assert_true(fabs(phi[r * 5 + (size_t)f] - expected) < 1e-10);
        }
        assert_true(fabs(phi[r * 5 + 4] - model_value(model, &row, 0, base)) < 1e-10);
    }

    ln_model_free(model);
    ln_table_free(probe);
    ln_table_free(table);
    free(labels);
}

static void linear_contributions_are_standardised_terms(void **state)
{
    (void)state;
    lcg_state = 5;
    double *labels;
    ln_table *table = random_table(800, &labels, 0);
    ln_model *model = train(table, labels, LN_LEARNER_LINEAR, LN_OBJECTIVE_BINARY, 0, 1);
    ln_table *probe = probe_table(40);
    assert_true(additivity_error(model, probe) < 1e-12);

    /* Two rows differing only in a: contributions differ only in a, by the weight times the change. */
    ln_table *pair = ln_table_new(2);
    ln_column *a = add_column(pair, "a", LN_TYPE_FLOAT);
    ln_column *b = add_column(pair, "b", LN_TYPE_FLOAT);
    ln_column *c = add_column(pair, "c", LN_TYPE_FLOAT);
    ln_column *city = add_column(pair, "city", LN_TYPE_CATEGORY);
    for (size_t i = 0; i < 2; i++) {
        a->values[i] = i == 0 ? -1.0 : 1.0;
        b->values[i] = 0.5;
        c->values[i] = 3;
        set_category(city, i, "paris");
    }
    double phi[10];
    ln_error err = {0};
    assert_int_equal(ln_model_explain(model, pair, phi, &err), LN_OK);
    for (int j = 1; j < 5; j++)
        assert_true(phi[j] == phi[5 + j]);
    assert_true(phi[0] != phi[5]);

    double raw[2];
    assert_int_equal(ln_model_predict_raw(model, pair, raw, &err), LN_OK);
    assert_true(fabs((raw[1] - raw[0]) - (phi[5] - phi[0])) < 1e-12);

    ln_table_free(pair);
    ln_model_free(model);
    ln_table_free(probe);
    ln_table_free(table);
    free(labels);
}

static void explain_rejects_missing_column(void **state)
{
    (void)state;
    lcg_state = 3;
    double *labels;
    ln_table *table = random_table(300, &labels, 0);
    ln_model *model = train(table, labels, LN_LEARNER_GBDT, LN_OBJECTIVE_BINARY, 0, 3);
    ln_table *other = ln_table_new(1);
    add_column(other, "a", LN_TYPE_FLOAT);
    double phi[5];
    ln_error err = {0};
    assert_int_equal(ln_model_explain(model, other, phi, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "'b'"));

    ln_table_free(other);
    ln_model_free(model);
    ln_table_free(table);
    free(labels);
}

/*
 * A chain tree: node 2i splits x <= i, its left child 2i + 1 is a leaf of
 * value i, its right child 2i + 2 the next split. depth splits in all.
 */
static ln_model *chain_model(int depth)
{
    ln_model *model = learn_model_new(LN_LEARNER_GBDT, 1, 1);
    ln_error err = {0};
    model->features[0].name = strdup("x");
    model->features[0].type = LN_TYPE_FLOAT;
    model->trees = calloc(1, sizeof *model->trees);
    model->n_trees = 1;
    learn_tree *tree = &model->trees[0];
    tree->n_nodes = 2 * depth + 1;
    tree->nodes = calloc((size_t)tree->n_nodes, sizeof *tree->nodes);
    for (int32_t i = 0; i < tree->n_nodes; i++) {
        learn_node *node = &tree->nodes[i];
        node->cover = (double)(tree->n_nodes - i);
        node->left = node->right = node->feature = -1;
        if (i % 2 == 0 && i < 2 * depth) {
            node->left = i + 1;
            node->right = i + 2;
            node->feature = 0;
            node->threshold = i / 2;
        } else {
            node->value = i / 2;
        }
    }
    /* Covers must add up for the expected value: a leaf has 1 row, a split its two children's. */
    for (int32_t i = tree->n_nodes - 1; i >= 0; i--) {
        learn_node *node = &tree->nodes[i];
        node->cover = node->left < 0 ? 1.0 : tree->nodes[node->left].cover + tree->nodes[node->right].cover;
    }
    assert_int_equal(learn_model_prepare(model, &err), LN_OK);
    return model;
}

static void explain_rejects_too_deep_tree(void **state)
{
    (void)state;
    ln_table *table = ln_table_new(1);
    ln_column *x = add_column(table, "x", LN_TYPE_FLOAT);
    x->values[0] = 700.5;
    double phi[2], score;
    ln_error err = {0};

    /* At the limit the explanation works and adds up; one level more is LN_ERR_LIMIT. */
    ln_model *at_limit = chain_model(LN_LEARN_MAX_EXPLAIN_DEPTH);
    assert_int_equal(ln_model_explain(at_limit, table, phi, &err), LN_OK);
    assert_int_equal(ln_model_predict_raw(at_limit, table, &score, &err), LN_OK);
    assert_true(score == 701.0);
    assert_true(fabs(phi[0] + phi[1] - score) < 1e-9);

    ln_model *deeper = chain_model(LN_LEARN_MAX_EXPLAIN_DEPTH + 1);
    assert_int_equal(ln_model_explain(deeper, table, phi, &err), LN_ERR_LIMIT);
    assert_non_null(strstr(err.message, "levels deep"));
    /* Prediction has no depth limit. */
    assert_int_equal(ln_model_predict_raw(deeper, table, &score, &err), LN_OK);
    assert_true(score == 701.0);

    ln_model_free(at_limit);
    ln_model_free(deeper);
    ln_table_free(table);
}

/* ---- single-row prediction ---- */

static void check_rows_match_batch(const ln_model *model, const ln_table *probe)
{
    size_t k_count = ln_model_output_count(model);
    ln_objective objective = ln_model_objective(model);
    size_t width = objective == LN_OBJECTIVE_MULTICLASS ? k_count : 1;
    double *batch = malloc(probe->n_rows * (width + 1) * sizeof *batch);
    ln_error err = {0};

    if (objective == LN_OBJECTIVE_MULTICLASS)
        assert_int_equal(ln_model_predict_proba(model, probe, batch, &err), LN_OK);
    else
        assert_int_equal(ln_model_predict(model, probe, batch, &err), LN_OK);

    ln_model_row *row = NULL;
    assert_int_equal(ln_model_row_new(model, &row, &err), LN_OK);
    for (size_t r = 0; r < probe->n_rows; r++) {
        ln_model_row_clear(row);
        for (size_t f = 0; f < 3; f++)
            if (!isnan(probe->cols[f].values[r]) || r % 2 == 0)
                assert_int_equal(ln_model_row_set_number(row, f, probe->cols[f].values[r], &err), LN_OK);
        int32_t code = probe->cols[3].codes[r];
        if (code >= 0) {
            const char *text = ln_dict_string(probe->cols[3].dict, code);
            assert_int_equal(ln_model_row_set_category(row, 3, text, strlen(text), &err), LN_OK);
        }
        double out[8];
        assert_int_equal(ln_model_predict_row(model, row, out, &err), LN_OK);
        assert_memory_equal(out, batch + r * width, width * sizeof *out);
    }
    ln_model_row_free(row);
    free(batch);
}

static void single_row_matches_batch(void **state)
{
    (void)state;
    lcg_state = 8;
    double *labels;
    ln_table *table = random_table(1000, &labels, 0);
    ln_table *probe = probe_table(64);
    ln_model *gbdt = train(table, labels, LN_LEARNER_GBDT, LN_OBJECTIVE_BINARY, 0, 20);
    ln_model *linear = train(table, labels, LN_LEARNER_LINEAR, LN_OBJECTIVE_BINARY, 0, 1);
    check_rows_match_batch(gbdt, probe);
    check_rows_match_batch(linear, probe);

    for (size_t i = 0; i < table->n_rows; i++)
        labels[i] = (double)(i % 3 == 0 ? 2 : labels[i]);
    ln_model *multiclass = train(table, labels, LN_LEARNER_GBDT, LN_OBJECTIVE_MULTICLASS, 3, 10);
    check_rows_match_batch(multiclass, probe);

    /* Type and range errors name the feature. */
    ln_model_row *row = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_row_new(gbdt, &row, &err), LN_OK);
    assert_int_equal(ln_model_row_set_number(row, 3, 1.0, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "city"));
    assert_int_equal(ln_model_row_set_category(row, 0, "x", 1, &err), LN_ERR_DATA);
    assert_int_equal(ln_model_row_set_number(row, 4, 1.0, &err), LN_ERR_CONFIG);
    double out[3];
    assert_int_equal(ln_model_predict_row(linear, row, out, &err), LN_ERR_CONFIG);
    ln_model_row_free(row);

    ln_model_free(gbdt);
    ln_model_free(linear);
    ln_model_free(multiclass);
    ln_table_free(probe);
    ln_table_free(table);
    free(labels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tree_contributions_add_to_raw_score),
        cmocka_unit_test(regression_and_multiclass_add_up),
        cmocka_unit_test(contributions_match_brute_force),
        cmocka_unit_test(linear_contributions_are_standardised_terms),
        cmocka_unit_test(explain_rejects_missing_column),
        cmocka_unit_test(explain_rejects_too_deep_tree),
        cmocka_unit_test(single_row_matches_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
