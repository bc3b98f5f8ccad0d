/*
 * Objectives and constraints: regression, multiclass, sample weights,
 * scale_pos_weight, monotone constraints, and their input errors.
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

static uint64_t lcg_state;

static double next_uniform(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg_state >> 11) * 0x1.0p-53;
}

static ln_train_params base_params(void)
{
    ln_train_params params;
    ln_train_params_default(&params);
    params.threads = 1;
    params.early_stopping_rounds = 0;
    return params;
}

static ln_model *must_train(const ln_train_params *params, const ln_table *table, const double *labels,
                            const double *weights, const char *const *features, size_t n_features)
{
    ln_model *model = NULL;
    ln_error err = {0};
    if (ln_model_train_weighted(params, table, labels, weights, features, n_features, NULL, NULL, &model, &err) !=
        LN_OK)
        fail_msg("training failed: %s", err.message);
    return model;
}

/* Three numeric features: x0 and x1 drive the label, x2 is noise. */
static ln_table *numeric_table(size_t n)
{
    ln_table *table = ln_table_new(n);
    const char *names[] = {"x0", "x1", "x2"};
    for (int f = 0; f < 3; f++) {
        ln_column *column = add_column(table, names[f], LN_TYPE_FLOAT);
        for (size_t i = 0; i < n; i++)
            column->values[i] = next_uniform() * 10;
    }
    return table;
}

static const char *const numeric_features[] = {"x0", "x1", "x2"};

static void regression_fits_and_predicts_mean(void **state)
{
    (void)state;
    lcg_state = 1;
    size_t n = 3000;
    ln_table *table = numeric_table(n);
    double *labels = malloc(n * sizeof *labels);
    for (size_t i = 0; i < n; i++)
        labels[i] = 3 * table->cols[0].values[i] - 2 * (table->cols[1].values[i] > 5) + next_uniform() - 0.5;

    ln_train_params params = base_params();
    params.objective = LN_OBJECTIVE_REGRESSION;
    params.trees = 200;
    params.learning_rate = 0.1;
    ln_model *model = must_train(&params, table, labels, NULL, numeric_features, 3);
    assert_int_equal(ln_model_objective(model), LN_OBJECTIVE_REGRESSION);

    double *prediction = malloc(n * sizeof *prediction);
    ln_error err = {0};
    assert_int_equal(ln_model_predict(model, table, prediction, &err), LN_OK);
    double squared = 0;
    for (size_t i = 0; i < n; i++)
        squared += (prediction[i] - labels[i]) * (prediction[i] - labels[i]);
    /* The noise alone has variance 1/12 = 0.083; the labels' variance is about 76. */
    assert_true(squared / (double)n < 0.2);
    assert_int_equal(ln_model_predict_proba(model, table, prediction, &err), LN_ERR_CONFIG);

    /* A feature that never splits: the prediction is the weighted mean of the labels. */
    ln_table *flat = ln_table_new(4);
    ln_column *x = add_column(flat, "x0", LN_TYPE_FLOAT);
    double flat_labels[4] = {1, 2, 3, 10};
    double weights[4] = {1, 1, 2, 0};
    for (int i = 0; i < 4; i++)
        x->values[i] = 7;
    ln_model_free(model);
    model = must_train(&params, flat, flat_labels, weights, numeric_features, 1);
    assert_int_equal(ln_model_tree_count(model), 0);
    double p[4];
    assert_int_equal(ln_model_predict(model, flat, p, &err), LN_OK);
    assert_true(p[0] == 9.0 / 4.0);

    ln_table_free(flat);
    free(prediction);
    free(labels);
    ln_model_free(model);
    ln_table_free(table);
}

static void multiclass_learns_three_regions(void **state)
{
    (void)state;
    lcg_state = 2;
    size_t n = 3000;
    ln_table *table = numeric_table(n);
    double *labels = malloc(n * sizeof *labels);
    for (size_t i = 0; i < n; i++) {
        double x0 = table->cols[0].values[i], x1 = table->cols[1].values[i];
        labels[i] = x0 < 3 ? 0 : x1 < 5 ? 1 : 2;
    }

    ln_train_params params = base_params();
    params.objective = LN_OBJECTIVE_MULTICLASS;
    params.n_classes = 3;
    params.trees = 40;
    params.learning_rate = 0.2;
    ln_model *model = must_train(&params, table, labels, NULL, numeric_features, 3);
    assert_int_equal(ln_model_output_count(model), 3);
    assert_int_equal(ln_model_tree_count(model) % 3, 0);

    double *proba = malloc(n * 3 * sizeof *proba);
    double *classes = malloc(n * sizeof *classes);
    ln_error err = {0};
    assert_int_equal(ln_model_predict_proba(model, table, proba, &err), LN_OK);
    assert_int_equal(ln_model_predict(model, table, classes, &err), LN_OK);
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        const double *p = proba + 3 * i;
        assert_true(fabs(p[0] + p[1] + p[2] - 1.0) < 1e-12);
        size_t best = p[1] > p[0] ? 1 : 0;
        best = p[2] > p[best] ? 2 : best;
        assert_true(classes[i] == (double)best);
        correct += classes[i] == labels[i];
    }
    assert_true(correct > n * 97 / 100);

    /* Labels outside 0 .. n_classes - 1 and a class count below 3 are errors. */
    labels[5] = 3;
    ln_model *bad = NULL;
    assert_int_equal(ln_model_train(&params, table, labels, numeric_features, 3, NULL, NULL, &bad, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "row 6"));
    labels[5] = 1.5;
    assert_int_equal(ln_model_train(&params, table, labels, numeric_features, 3, NULL, NULL, &bad, &err), LN_ERR_DATA);
    labels[5] = 1;
    params.n_classes = 2;
    assert_int_equal(ln_model_train(&params, table, labels, numeric_features, 3, NULL, NULL, &bad, &err),
                     LN_ERR_CONFIG);
    assert_null(bad);

    free(proba);
    free(classes);
    free(labels);
    ln_model_free(model);
    ln_table_free(table);
}

/* A table of 50 distinct values per feature, so the duplicated table gets the same bins. */
static ln_table *grid_table(size_t n, double *labels)
{
    ln_table *table = ln_table_new(n);
    ln_column *x0 = add_column(table, "x0", LN_TYPE_FLOAT);
    ln_column *x1 = add_column(table, "x1", LN_TYPE_FLOAT);
    for (size_t i = 0; i < n; i++) {
        x0->values[i] = (double)((i * 17) % 50);
        x1->values[i] = (double)((i * 31 + 7) % 50);
        labels[i] = (x0->values[i] + x1->values[i] + ((i * 13) % 29)) > 60;
    }
    return table;
}

static void integer_weights_equal_duplicated_rows(void **state)
{
    (void)state;
    size_t n = 600;
    double labels[600], weights[600];
    ln_table *table = grid_table(n, labels);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        weights[i] = (double)(1 + (i * 7) % 3);
        total += (size_t)weights[i];
    }

    /* The same rows, row i repeated weights[i] times. */
    ln_table *copies = ln_table_new(total);
    ln_column *c0 = add_column(copies, "x0", LN_TYPE_FLOAT);
    ln_column *c1 = add_column(copies, "x1", LN_TYPE_FLOAT);
    double *copy_labels = malloc(total * sizeof *copy_labels);
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < (int)weights[i]; k++, at++) {
            c0->values[at] = table->cols[0].values[i];
            c1->values[at] = table->cols[1].values[i];
            copy_labels[at] = labels[i];
        }

    ln_train_params params = base_params();
    params.trees = 20;
    params.min_data_in_leaf = 1;
    params.min_sum_hessian = 0;
    ln_model *weighted = must_train(&params, table, labels, weights, numeric_features, 2);
    ln_model *copied = must_train(&params, copies, copy_labels, NULL, numeric_features, 2);

    double a[600], b[600];
    ln_error err = {0};
    assert_int_equal(ln_model_predict(weighted, table, a, &err), LN_OK);
    assert_int_equal(ln_model_predict(copied, table, b, &err), LN_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(a[i] - b[i]) < 1e-9);

    /* Invalid weights. */
    ln_model *bad = NULL;
    weights[9] = -1;
    assert_int_equal(ln_model_train_weighted(&params, table, labels, weights, numeric_features, 2, NULL, NULL, &bad,
                                             &err),
                     LN_ERR_DATA);
    assert_non_null(strstr(err.message, "row 10"));
    weights[9] = NAN;
    assert_int_equal(ln_model_train_weighted(&params, table, labels, weights, numeric_features, 2, NULL, NULL, &bad,
                                             &err),
                     LN_ERR_DATA);
    for (size_t i = 0; i < n; i++)
        weights[i] = labels[i] == 1.0 ? 0.0 : 1.0;
    assert_int_equal(ln_model_train_weighted(&params, table, labels, weights, numeric_features, 2, NULL, NULL, &bad,
                                             &err),
                     LN_ERR_DATA);
    assert_null(bad);

    free(copy_labels);
    ln_model_free(weighted);
    ln_model_free(copied);
    ln_table_free(copies);
    ln_table_free(table);
}

static void scale_pos_weight_equals_positive_weights(void **state)
{
    (void)state;
    size_t n = 600;
    double labels[600], weights[600];
    ln_table *table = grid_table(n, labels);
    for (size_t i = 0; i < n; i++)
        weights[i] = labels[i] == 1.0 ? 3.5 : 1.0;

    for (int learner = LN_LEARNER_GBDT; learner <= LN_LEARNER_LINEAR; learner++) {
        ln_train_params params = base_params();
        params.learner = (ln_learner)learner;
        params.trees = 15;
        ln_model *weighted = must_train(&params, table, labels, weights, numeric_features, 2);
        params.scale_pos_weight = 3.5;
        ln_model *scaled = must_train(&params, table, labels, NULL, numeric_features, 2);

        double a[600], b[600];
        ln_error err = {0};
        assert_int_equal(ln_model_predict(weighted, table, a, &err), LN_OK);
        assert_int_equal(ln_model_predict(scaled, table, b, &err), LN_OK);
        assert_memory_equal(a, b, sizeof a);

        /* Positives weigh more, so the mean score rises above the unweighted model's. */
        params.scale_pos_weight = 1.0;
        ln_model *plain = must_train(&params, table, labels, NULL, numeric_features, 2);
        assert_int_equal(ln_model_predict(plain, table, b, &err), LN_OK);
        double mean_scaled = 0, mean_plain = 0;
        for (size_t i = 0; i < n; i++) {
            mean_scaled += a[i];
            mean_plain += b[i];
        }
        assert_true(mean_scaled > mean_plain + 0.05 * (double)n);

        ln_model_free(weighted);
        ln_model_free(scaled);
        ln_model_free(plain);
    }
    ln_table_free(table);
}

/*
 * Scores a grid of x0 values for many random settings of the other
 * features and returns the number of steps where the score moves against
 * direction.
 */
static int monotonicity_violations(const ln_model *model, int direction)
{
    size_t grid = 200;
    ln_table *probe = ln_table_new(grid);
    ln_column *x0 = add_column(probe, "x0", LN_TYPE_FLOAT);
    ln_column *x1 = add_column(probe, "x1", LN_TYPE_FLOAT);
    ln_column *x2 = add_column(probe, "x2", LN_TYPE_FLOAT);
    double scores[200];
    ln_error err = {0};
    int violations = 0;

    for (int trial = 0; trial < 50; trial++) {
        double v1 = next_uniform() * 12 - 1, v2 = next_uniform() * 12 - 1;
        for (size_t i = 0; i < grid; i++) {
            x0->values[i] = -1 + 12.0 * (double)i / (double)grid;
            x1->values[i] = trial % 10 == 0 ? NAN : v1;
            x2->values[i] = v2;
        }
        assert_int_equal(ln_model_predict(model, probe, scores, &err), LN_OK);
        for (size_t i = 1; i < grid; i++)
            if ((direction > 0 && scores[i] < scores[i - 1]) || (direction < 0 && scores[i] > scores[i - 1]))
                violations++;
    }
    ln_table_free(probe);
    return violations;
}

static void monotone_constraint_holds(void **state)
{
    (void)state;
    lcg_state = 4;
    size_t n = 4000;
    ln_table *table = numeric_table(n);
    double *labels = malloc(n * sizeof *labels);
    double *target = malloc(n * sizeof *target);
    /* The label rises with x0 overall but dips in the middle, and x1 interacts with x0. */
    for (size_t i = 0; i < n; i++) {
        double x0 = table->cols[0].values[i], x1 = table->cols[1].values[i];
        double z = 0.5 * x0 - 2.5 * sin(x0) * (x1 > 4) - 2.5 + (next_uniform() - 0.5);
        labels[i] = next_uniform() < 1 / (1 + exp(-z));
        target[i] = z;
    }

    ln_train_params params = base_params();
    params.trees = 80;
    params.learning_rate = 0.2;
    params.min_data_in_leaf = 5;

    /* Without the constraint the dip is learned, so the check below can fail. */
    ln_model *free_model = must_train(&params, table, labels, NULL, numeric_features, 3);
    assert_true(monotonicity_violations(free_model, +1) > 0);

    int up[3] = {+1, 0, 0};
    params.monotone = up;
    ln_model *rising = must_train(&params, table, labels, NULL, numeric_features, 3);
    assert_int_equal(monotonicity_violations(rising, +1), 0);

    /* Decreasing, for a regression on the negated target. */
    for (size_t i = 0; i < n; i++)
        target[i] = -target[i];
    int down[3] = {-1, 0, 0};
    params.monotone = down;
    params.objective = LN_OBJECTIVE_REGRESSION;
    ln_model *falling = must_train(&params, table, target, NULL, numeric_features, 3);
    assert_int_equal(monotonicity_violations(falling, -1), 0);

    ln_model_free(free_model);
    ln_model_free(rising);
    ln_model_free(falling);
    free(labels);
    free(target);
    ln_table_free(table);
}

static void bad_objective_params_are_rejected(void **state)
{
    (void)state;
    size_t n = 100;
    double labels[100];
    ln_table *table = grid_table(n, labels);
    ln_column *city = add_column(table, "city", LN_TYPE_CATEGORY);
    for (size_t i = 0; i < n; i++)
        city->codes[i] = ln_dict_intern(city->dict, i % 2 ? "a" : "b", 1);
    const char *features[] = {"x0", "x1", "city"};
    ln_model *model = NULL;
    ln_error err = {0};

    ln_train_params params = base_params();
    int on_category[3] = {0, 0, 1};
    params.monotone = on_category;
    assert_int_equal(ln_model_train(&params, table, labels, features, 3, NULL, NULL, &model, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "city"));
    int out_of_range[3] = {2, 0, 0};
    params.monotone = out_of_range;
    assert_int_equal(ln_model_train(&params, table, labels, features, 3, NULL, NULL, &model, &err), LN_ERR_CONFIG);
    int fine[3] = {1, 0, 0};
    params.monotone = fine;
    params.learner = LN_LEARNER_LINEAR;
    assert_int_equal(ln_model_train(&params, table, labels, features, 3, NULL, NULL, &model, &err), LN_ERR_CONFIG);

    params = base_params();
    params.learner = LN_LEARNER_LINEAR;
    params.objective = LN_OBJECTIVE_REGRESSION;
    assert_int_equal(ln_model_train(&params, table, labels, features, 3, NULL, NULL, &model, &err), LN_ERR_CONFIG);
    params = base_params();
    params.objective = LN_OBJECTIVE_REGRESSION;
    labels[0] = INFINITY;
    assert_int_equal(ln_model_train(&params, table, labels, features, 3, NULL, NULL, &model, &err), LN_ERR_DATA);
    labels[0] = 1;
    params.scale_pos_weight = 2;
    assert_int_equal(ln_model_train(&params, table, labels, features, 3, NULL, NULL, &model, &err), LN_ERR_CONFIG);
    params = base_params();
    params.scale_pos_weight = 0;
    assert_int_equal(ln_model_train(&params, table, labels, features, 3, NULL, NULL, &model, &err), LN_ERR_CONFIG);
    params.scale_pos_weight = 1;
    params.objective = (ln_objective)7;
    assert_int_equal(ln_model_train(&params, table, labels, features, 3, NULL, NULL, &model, &err), LN_ERR_CONFIG);
    assert_null(model);

    ln_table_free(table);
}

static void split_counts_and_params_are_reported(void **state)
{
    (void)state;
    size_t n = 600;
    double labels[600];
    ln_table *table = grid_table(n, labels);
    ln_train_params params = base_params();
    params.trees = 10;
    params.max_leaves = 4;
    ln_model *model = must_train(&params, table, labels, NULL, numeric_features, 2);

    uint64_t counts[2];
    ln_model_feature_split_counts(model, counts);
    uint64_t splits = 0;
    for (int t = 0; t < ln_model_tree_count(model); t++)
        splits += (uint64_t)(ln_model_tree_node_count(model, t) - 1) / 2;
    assert_int_equal(counts[0] + counts[1], splits);
    assert_true(counts[0] > 0 && counts[1] > 0);

    int found = 0;
    for (size_t i = 0; i < ln_model_param_count(model); i++) {
        double value;
        const char *name = ln_model_param(model, i, &value);
        if (strcmp(name, "max_leaves") == 0 && value == 4.0)
            found = 1;
    }
    assert_true(found);
    double value;
    assert_null(ln_model_param(model, ln_model_param_count(model), &value));

    ln_model_free(model);
    ln_table_free(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(regression_fits_and_predicts_mean),
        cmocka_unit_test(multiclass_learns_three_regions),
        cmocka_unit_test(integer_weights_equal_duplicated_rows),
        cmocka_unit_test(scale_pos_weight_equals_positive_weights),
        cmocka_unit_test(monotone_constraint_holds),
        cmocka_unit_test(bad_objective_params_are_rejected),
        cmocka_unit_test(split_counts_and_params_are_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
