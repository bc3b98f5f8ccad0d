/*
 * The category training parameters: min_category_rows pools rare
 * categories, cat_smooth orders a node's categories, min_data_per_category
 * decides which of them are ordered, cat_l2 penalises category splits.
 * Each test checks that the parameter changes the result as
 * include/lanner/model.h documents, and that invalid values are rejected.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "learn_tables.h"

#include "lanner/model.h"
#include "learn/learn_internal.h"

/* The default split settings with lambda_l2 1, no hessian minimum and one row per leaf. */
static gbdt_split_params default_split_params(void)
{
    ln_train_params train;
    ln_train_params_default(&train);
    train.min_sum_hessian = 0.0;
    train.min_data_in_leaf = 1;
    return gbdt_split_params_from(&train);
}

/* Returns the bin of the kept category named text in feature 0 of model, or -1. */
static int category_bin(const ln_model *model, const char *text)
{
    for (int32_t i = 0; i < ln_model_category_count(model, 0); i++)
        if (strcmp(ln_model_category(model, 0, i), text) == 0)
            return LEARN_FIRST_CATEGORY_BIN + i;
    return -1;
}

static int node_sends_left(const ln_tree_node *node, int bin)
{
    return (int)((node->category_bins[bin >> 6] >> (bin & 63)) & 1u);
}

/* ---- defaults and parameter plumbing ---- */

static void category_defaults_match_rules(void **state)
{
    (void)state;
    ln_train_params params;
    ln_train_params_default(&params);

    assert_int_equal(params.min_category_rows, 10);
    assert_true(params.cat_smooth == 10.0);
    assert_true(params.cat_l2 == 10.0);
    assert_int_equal(params.min_data_per_category, 10);

    params.cat_smooth = 3.5;
    params.cat_l2 = 7.25;
    params.min_data_per_category = 42;
    gbdt_split_params split = gbdt_split_params_from(&params);
    assert_true(split.cat_smooth == 3.5);
    assert_true(split.cat_l2 == 7.25);
    assert_int_equal(split.min_data_per_category, 42);
    assert_true(split.lambda_l2 == params.lambda_l2);
    assert_int_equal(split.min_data_in_leaf, params.min_data_in_leaf);
}

/* ---- split search on hand-computed histograms ---- */

/*
 * Bins 2, 3 and 4 hold categories A (G -11, H 12), B (G -3, H 3) and
 * C (G -6, H 1). Their ratios G / (H + s) order them C, B, A for s = 0 and
 * A, C, B for s = 100, so C alone can go left only with the first order.
 */
static void cat_smooth_changes_order(void **state)
{
    (void)state;
    gbdt_bin hist[5] = {{0, 0, 0}, {0, 0, 0}, {-11, 12, 20}, {-3, 3, 20}, {-6, 1, 20}};
    gbdt_bin total = {-20, 16, 60};
    gbdt_split_params params = default_split_params();
    params.cat_l2 = 0.0;

    params.cat_smooth = 0.0;
    gbdt_split best = {0};
    gbdt_best_category_split(hist, 5, &total, 0, &params, NULL, &best);
    assert_true(best.categorical);
    assert_true(learn_bin_set_has(&best.left_bins, 4));
    assert_false(learn_bin_set_has(&best.left_bins, 2));
    assert_false(learn_bin_set_has(&best.left_bins, 3));
    /* {C} | {A, B} with lambda 1: 36/2 + 196/16 - 400/17. */
    assert_true(fabs(best.gain - (36.0 / 2 + 196.0 / 16 - 400.0 / 17)) < 1e-12);

    params.cat_smooth = 100.0;
    best = (gbdt_split){0};
    gbdt_best_category_split(hist, 5, &total, 0, &params, NULL, &best);
    assert_true(best.categorical);
    assert_true(learn_bin_set_has(&best.left_bins, 2));
    assert_false(learn_bin_set_has(&best.left_bins, 3));
    assert_false(learn_bin_set_has(&best.left_bins, 4));
    /* {A} | {B, C}: 121/13 + 81/5 - 400/17. */
    assert_true(fabs(best.gain - (121.0 / 13 + 81.0 / 5 - 400.0 / 17)) < 1e-12);
}

/* Same categories with C on 12 rows: C is ordered at a minimum of 10 rows and goes right at 15. */
static void min_data_per_category_decides_sorting(void **state)
{
    (void)state;
    gbdt_bin hist[5] = {{0, 0, 0}, {0, 0, 0}, {-11, 12, 20}, {-3, 3, 20}, {-6, 1, 12}};
    gbdt_bin total = {-20, 16, 52};
    gbdt_split_params params = default_split_params();
    params.cat_l2 = 0.0;
    params.cat_smooth = 0.0;

    params.min_data_per_category = 10;
    gbdt_split best = {0};
    gbdt_best_category_split(hist, 5, &total, 0, &params, NULL, &best);
    assert_true(learn_bin_set_has(&best.left_bins, 4));
    assert_false(learn_bin_set_has(&best.left_bins, 2));

    /* Ordered are B (ratio -1) and A (-0.92): the best prefix is {A}, and C goes right. */
    params.min_data_per_category = 15;
    best = (gbdt_split){0};
    gbdt_best_category_split(hist, 5, &total, 0, &params, NULL, &best);
    assert_true(best.categorical);
    assert_true(learn_bin_set_has(&best.left_bins, 2));
    assert_false(learn_bin_set_has(&best.left_bins, 3));
    assert_false(learn_bin_set_has(&best.left_bins, 4));
    assert_int_equal(best.right.n, 32);

    /* No category has 21 rows, so none is ordered and there is no split. */
    params.min_data_per_category = 21;
    best = (gbdt_split){0};
    gbdt_best_category_split(hist, 5, &total, 0, &params, NULL, &best);
    assert_true(best.gain == 0.0);
}

/* The split {bin 2, bin 4} | {bin 3} scores 324 / (20 + L) + 100 / (10 + L) - 64 / (30 + L), L = lambda_l2 + cat_l2. */
static void cat_l2_adds_to_lambda(void **state)
{
    (void)state;
    gbdt_bin hist[5] = {{0, 0, 0}, {0, 0, 0}, {-10, 10, 20}, {10, 10, 20}, {-8, 10, 20}};
    gbdt_bin total = {-8, 30, 60};
    const double cat_l2_values[] = {0.0, 10.0, 25.0};

    for (size_t i = 0; i < sizeof cat_l2_values / sizeof cat_l2_values[0]; i++) {
        gbdt_split_params params = default_split_params();
        params.cat_l2 = cat_l2_values[i];
        gbdt_split best = {0};

        gbdt_best_category_split(hist, 5, &total, 0, &params, NULL, &best);

        double l2 = 1.0 + cat_l2_values[i];
        double expected = 324.0 / (20 + l2) + 100.0 / (10 + l2) - 64.0 / (30 + l2);
        assert_true(learn_bin_set_has(&best.left_bins, 2));
        assert_true(learn_bin_set_has(&best.left_bins, 4));
        assert_false(learn_bin_set_has(&best.left_bins, 3));
        assert_true(fabs(best.gain - expected) < 1e-12);
    }
}

/* ---- training ---- */

/* A column with categories a, b and c on 12, 7 and 3 rows. */
static ln_table *rare_category_table(double *labels)
{
    ln_table *table = ln_table_new(22);
    ln_column *color = add_column(table, "color", LN_TYPE_CATEGORY);
    for (size_t i = 0; i < 22; i++) {
        const char *name = "c";
        if (i < 12)
            name = "a";
        else if (i < 19)
            name = "b";
        set_category(color, i, name);
        labels[i] = i % 2;
    }
    return table;
}

static void min_category_rows_pools_rare(void **state)
{
    (void)state;
    const struct {
        int min_category_rows;
        int32_t kept;
    } cases[] = {{1, 3}, {3, 3}, {4, 2}, {7, 2}, {8, 1}, {12, 1}, {13, 0}};
    const ln_learner learners[] = {LN_LEARNER_GBDT, LN_LEARNER_LINEAR};
    double labels[22];
    ln_table *table = rare_category_table(labels);
    const char *features[] = {"color"};

    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            ln_train_params params;
            ln_train_params_default(&params);
            params.learner = learners[l];
            params.trees = 2;
            params.min_data_in_leaf = 1;
            params.threads = 1;
            params.min_category_rows = cases[i].min_category_rows;
            ln_model *model = NULL;
            ln_error err = {0};

            assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_OK);
            if (ln_model_category_count(model, 0) != cases[i].kept)
                fail_msg("learner %zu, min_category_rows %d: kept %d categories, expected %d", l,
                         cases[i].min_category_rows, (int)ln_model_category_count(model, 0), (int)cases[i].kept);
            /* The most frequent categories are kept. */
            if (cases[i].kept >= 1)
                assert_string_equal(ln_model_category(model, 0, 0), "a");
            if (cases[i].kept >= 2)
                assert_string_equal(ln_model_category(model, 0, 1), "b");
            ln_model_free(model);
        }
    }
    ln_table_free(table);
}

/*
 * Categories low and high (100 rows each, 15% and 20% positive) and rare
 * (15 rows, all positive). The one split of a one-tree model isolates rare
 * when rare has enough rows to be ordered; otherwise rare goes right.
 */
static ln_model *train_one_split(int min_data_per_category, double cat_l2)
{
    size_t n = 215;
    ln_table *table = ln_table_new(n);
    ln_column *group = add_column(table, "group", LN_TYPE_CATEGORY);
    double *labels = malloc(n * sizeof *labels);
    assert_non_null(labels);
    for (size_t i = 0; i < n; i++) {
        if (i < 100) {
            set_category(group, i, "low");
            labels[i] = i % 20 < 3;
        } else if (i < 200) {
            set_category(group, i, "high");
            labels[i] = i % 10 < 2;
        } else {
            set_category(group, i, "rare");
            labels[i] = 1.0;
        }
    }

    ln_train_params params;
    ln_train_params_default(&params);
    params.trees = 1;
    params.max_leaves = 2;
    params.min_data_in_leaf = 1;
    params.threads = 1;
    params.min_data_per_category = min_data_per_category;
    params.cat_l2 = cat_l2;
    const char *features[] = {"group"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_OK);

    free(labels);
    ln_table_free(table);
    return model;
}

static void min_data_per_category_in_training(void **state)
{
    (void)state;
    ln_model *model = train_one_split(10, 10.0);
    ln_tree_node root;
    assert_int_equal(ln_model_tree_node_count(model, 0), 3);
    assert_int_equal(ln_model_tree_node(model, 0, 0, &root), 0);
    assert_true(root.categorical);
    int rare = category_bin(model, "rare");
    assert_true(rare >= LEARN_FIRST_CATEGORY_BIN);
    int rare_left = node_sends_left(&root, rare);
    assert_true(node_sends_left(&root, category_bin(model, "low")) != rare_left);
    assert_true(node_sends_left(&root, category_bin(model, "high")) != rare_left);
    ln_model_free(model);

    model = train_one_split(20, 10.0);
    assert_int_equal(ln_model_tree_node_count(model, 0), 3);
    assert_int_equal(ln_model_tree_node(model, 0, 0, &root), 0);
    assert_true(root.categorical);
    /* rare is still a kept category (15 training rows), but it is never ordered. */
    rare = category_bin(model, "rare");
    assert_true(rare >= LEARN_FIRST_CATEGORY_BIN);
    assert_false(node_sends_left(&root, rare));
    assert_true(node_sends_left(&root, category_bin(model, "low")) !=
                node_sends_left(&root, category_bin(model, "high")));
    ln_model_free(model);
}

static void cat_l2_lowers_split_gain(void **state)
{
    (void)state;
    double gains[3];
    const double cat_l2_values[3] = {0.0, 10.0, 100.0};

    for (int i = 0; i < 3; i++) {
        ln_model *model = train_one_split(10, cat_l2_values[i]);
        ln_tree_node root;
        assert_int_equal(ln_model_tree_node(model, 0, 0, &root), 0);
        assert_true(root.categorical);
        gains[i] = root.gain;
        ln_model_free(model);
    }
    assert_true(gains[0] > gains[1]);
    assert_true(gains[1] > gains[2]);
    assert_true(gains[2] > 0.0);
}

static void category_params_are_recorded(void **state)
{
    (void)state;
    double labels[22];
    ln_table *table = rare_category_table(labels);
    const char *features[] = {"color"};
    const char *names[] = {"min_category_rows", "cat_smooth", "cat_l2", "min_data_per_category"};
    const double values[] = {4, 2.5, 30, 12};
    const ln_learner learners[] = {LN_LEARNER_GBDT, LN_LEARNER_LINEAR};

    for (size_t l = 0; l < 2; l++) {
        ln_train_params params;
        ln_train_params_default(&params);
        params.learner = learners[l];
        params.trees = 2;
        params.min_data_in_leaf = 1;
        params.threads = 1;
        params.min_category_rows = (int)values[0];
        params.cat_smooth = values[1];
        params.cat_l2 = values[2];
        params.min_data_per_category = (int)values[3];
        ln_model *model = NULL;
        ln_error err = {0};
        assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_OK);

        for (size_t k = 0; k < 4; k++) {
            int found = 0;
            for (size_t i = 0; i < ln_model_param_count(model); i++) {
                double value;
                const char *name = ln_model_param(model, i, &value);
                if (strcmp(name, names[k]) == 0) {
                    found = 1;
                    assert_true(value == values[k]);
                }
            }
            /* Logistic regression records only the parameter it uses. */
            int expected = learners[l] == LN_LEARNER_GBDT || k == 0;
            if (found != expected)
                fail_msg("learner %zu: parameter %s recorded %d, expected %d", l, names[k], found, expected);
        }
        ln_model_free(model);
    }
    ln_table_free(table);
}

static void bad_category_params_rejected(void **state)
{
    (void)state;
    double labels[22];
    ln_table *table = rare_category_table(labels);
    const char *features[] = {"color"};
    const struct {
        const char *name;
        int min_category_rows;
        double cat_smooth;
        double cat_l2;
        int min_data_per_category;
    } cases[] = {
        {"min_category_rows", 0, 10, 10, 10},
        {"min_category_rows", -5, 10, 10, 10},
        {"cat_smooth", 10, -1, 10, 10},
        {"cat_smooth", 10, NAN, 10, 10},
        {"cat_smooth", 10, INFINITY, 10, 10},
        {"cat_l2", 10, 10, -0.5, 10},
        {"cat_l2", 10, 10, NAN, 10},
        {"cat_l2", 10, 10, INFINITY, 10},
        {"min_data_per_category", 10, 10, 10, 0},
        {"min_data_per_category", 10, 10, 10, -1},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ln_train_params params;
        ln_train_params_default(&params);
        params.min_category_rows = cases[i].min_category_rows;
        params.cat_smooth = cases[i].cat_smooth;
        params.cat_l2 = cases[i].cat_l2;
        params.min_data_per_category = cases[i].min_data_per_category;
        ln_model *model = NULL;
        ln_error err = {0};

        ln_status status = ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err);
        if (status != LN_ERR_CONFIG || strstr(err.message, cases[i].name) == NULL)
            fail_msg("case %zu: expected LN_ERR_CONFIG naming %s, got status %d: %s", i, cases[i].name, status,
                     err.message);
        assert_null(model);
    }

    /* Zero smoothing and zero extra penalty are valid. */
    ln_train_params params;
    ln_train_params_default(&params);
    params.cat_smooth = 0.0;
    params.cat_l2 = 0.0;
    params.min_category_rows = 1;
    params.min_data_per_category = 1;
    params.threads = 1;
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_OK);
    ln_model_free(model);
    ln_table_free(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(category_defaults_match_rules),
        cmocka_unit_test(cat_smooth_changes_order),
        cmocka_unit_test(min_data_per_category_decides_sorting),
        cmocka_unit_test(cat_l2_adds_to_lambda),
        cmocka_unit_test(min_category_rows_pools_rare),
        cmocka_unit_test(min_data_per_category_in_training),
        cmocka_unit_test(cat_l2_lowers_split_gain),
        cmocka_unit_test(category_params_are_recorded),
        cmocka_unit_test(bad_category_params_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
