/*
 * Logistic regression against scikit-learn, and its input handling.
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

#define N 60

/*
 * Reference data and expected probabilities, from scikit-learn 1.2.1 (Debian python3-sklearn):
 * x1 standardised, x2 standardised with missing values at the mean plus a
 * missing indicator, cat one-hot over u/v/w, then
 * LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-15).
 * A direct BFGS fit of the same objective in scipy agrees to 3e-9.
 */
static const double X1[N] = {
    4.683, 2.655, 2.145, -0.795, 1.584, 1.468, 1.876, 1.059, 1.934, 1.284, 0.029, 3.327, 3.322, 4.564, 2.075,
    1.393, 1.182, -0.32, 3.474, 0.348, 0.222, 1.692, 4.229, 2.355, 0.464, 0.931, 2.938, 1.759, 0.847, 1.655,
    3.118, 4.964, 0.134, 1.06, 0.794, -1.629, 0.614, 0.464, 3.686, 1.802, -0.435, 2.97, 1.466, -0.615, 1.105,
    1.117, 0.689, 2.045, -1.372, 1.598, 3.52, 3.279, 3.662, 3.679, 4.231, 0.323, 3.269, -0.791, 1.096, -0.872};
static const double X2[N] = {
    -0.266, NAN, -1.138, 0.242, -1.472, -0.895, -0.893, -1.745, -0.693, 0.357, -1.717, -0.37, -1.108, 0.239,
    -0.661, -0.527, -0.55, -0.826, -1.977, NAN, -1.959, -0.833, -0.57, -1.587, -0.898, -0.182, -1.017, NAN,
    -3.041, -1.68, -1.414, -1.361, -1.672, -0.736, -1.402, -1.077, -0.525, -1.599, NAN, NAN, -0.388, -1.905,
    -1.056, -0.605, -0.137, -0.896, -1.371, NAN, -0.548, NAN, -1.362, -1.132, NAN, NAN, -1.483, NAN, -0.404,
    -0.66, -1.584, -0.059};
static const char *const CAT[N] = {
    "u", "u", "u", "w", "v", "u", "v", "w", "w", "w", "v", "u", "u", "w", "v", "u", "u", "v", "u", "v",
    "w", "v", "w", "w", "u", "v", "w", "v", "v", "u", "v", "v", "v", "u", "w", "w", "w", "w", "u", "w",
    "u", "w", "v", "v", "v", "v", "v", "w", "v", "w", "w", "v", "u", "u", "w", "u", "u", "u", "w", "u"};
static const double Y[N] = {1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 1,
                            0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0};

static ln_table *reference_table(void)
{
    ln_table *table = ln_table_new(N);
    ln_column *x1 = add_column(table, "x1", LN_TYPE_FLOAT);
    ln_column *x2 = add_column(table, "x2", LN_TYPE_FLOAT);
    ln_column *cat = add_column(table, "cat", LN_TYPE_CATEGORY);
    for (size_t i = 0; i < N; i++) {
        x1->values[i] = X1[i];
        x2->values[i] = X2[i];
        cat->codes[i] = ln_dict_intern(cat->dict, CAT[i], 1);
    }
    return table;
}

static ln_model *train_linear(const ln_table *table, const double *labels, double l2, int threads)
{
    ln_train_params params;
    ln_train_params_default(&params);
    params.learner = LN_LEARNER_LINEAR;
    params.linear_l2 = l2;
    params.threads = threads;
    const char *features[] = {"x1", "x2", "cat"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 3, NULL, NULL, &model, &err), LN_OK);
    return model;
}

static void matches_sklearn_probabilities(void **state)
{
    (void)state;
    ln_table *table = reference_table();
    ln_model *model = train_linear(table, Y, 1.0, 1);
    assert_int_equal(ln_model_learner(model), LN_LEARNER_LINEAR);
    assert_int_equal(ln_model_tree_count(model), 0);

    ln_table *probe = ln_table_new(4);
    ln_column *x1 = add_column(probe, "x1", LN_TYPE_FLOAT);
    ln_column *x2 = add_column(probe, "x2", LN_TYPE_FLOAT);
    ln_column *cat = add_column(probe, "cat", LN_TYPE_CATEGORY);
    const double q1[4] = {1.0, 3.5, 2.0, 0.0};
    const double q2[4] = {-1.5, NAN, 0.2, -2.0};
    const char *qc[4] = {"u", "v", "w", "v"};
    for (size_t i = 0; i < 4; i++) {
        x1->values[i] = q1[i];
        x2->values[i] = q2[i];
        cat->codes[i] = ln_dict_intern(cat->dict, qc[i], 1);
    }

    const double expected[4] = {0.63852000912950257, 0.73422951301214689, 0.083758928969569588,
                                0.28685114866569073};
    double scores[4];
    ln_error err = {0};
    assert_int_equal(ln_model_predict(model, probe, scores, &err), LN_OK);
    for (size_t i = 0; i < 4; i++)
        assert_true(fabs(scores[i] - expected[i]) < 1e-7);

    ln_model_free(model);
    ln_table_free(probe);
    ln_table_free(table);
}

static void thread_count_gives_same_fit(void **state)
{
    (void)state;
    ln_table *table = reference_table();
    ln_model *one = train_linear(table, Y, 0.5, 1);
    ln_model *four = train_linear(table, Y, 0.5, 4);
    double a[N], b[N];
    ln_error err = {0};
    assert_int_equal(ln_model_predict(one, table, a, &err), LN_OK);
    assert_int_equal(ln_model_predict(four, table, b, &err), LN_OK);
    assert_memory_equal(a, b, sizeof a);
    ln_model_free(one);
    ln_model_free(four);
    ln_table_free(table);
}

static void infinities_clamp_to_training_range(void **state)
{
    (void)state;
    ln_table *table = reference_table();
    table->cols[0].values[3] = -INFINITY; /* x1 */
    ln_model *model = train_linear(table, Y, 1.0, 1);

    ln_table *probe = ln_table_new(2);
    ln_column *x1 = add_column(probe, "x1", LN_TYPE_FLOAT);
    ln_column *x2 = add_column(probe, "x2", LN_TYPE_FLOAT);
    ln_column *cat = add_column(probe, "cat", LN_TYPE_CATEGORY);
    /* The largest finite x1 in training is 4.964. */
    x1->values[0] = INFINITY;
    x1->values[1] = 4.964;
    x2->values[0] = x2->values[1] = -1.0;
    cat->codes[0] = cat->codes[1] = ln_dict_intern(cat->dict, "u", 1);

    double scores[2];
    ln_error err = {0};
    assert_int_equal(ln_model_predict(model, probe, scores, &err), LN_OK);
    assert_true(isfinite(scores[0]));
    assert_true(scores[0] == scores[1]);

    ln_model_free(model);
    ln_table_free(probe);
    ln_table_free(table);
}

/*
 * Standardising makes a fit independent of a feature's units: x1 times 1e180,
 * whose squares overflow a double, gives the probabilities of x1 itself.
 */
static void huge_values_fit_like_scaled_ones(void **state)
{
    (void)state;
    ln_table *plain = reference_table();
    ln_table *huge = reference_table();
    for (size_t i = 0; i < N; i++)
        huge->cols[0].values[i] = X1[i] * 1e180;
    ln_model *plain_model = train_linear(plain, Y, 1.0, 1);
    ln_model *huge_model = train_linear(huge, Y, 1.0, 1);

    double plain_scores[N], huge_scores[N];
    ln_error err = {0};
    assert_int_equal(ln_model_predict(plain_model, plain, plain_scores, &err), LN_OK);
    assert_int_equal(ln_model_predict(huge_model, huge, huge_scores, &err), LN_OK);
    for (size_t i = 0; i < N; i++)
        assert_true(fabs(plain_scores[i] - huge_scores[i]) < 1e-9);

    ln_model_free(plain_model);
    ln_model_free(huge_model);
    ln_table_free(plain);
    ln_table_free(huge);
}

static void unseen_category_uses_pooled_weight(void **state)
{
    (void)state;
    ln_table *table = reference_table();
    ln_model *model = train_linear(table, Y, 1.0, 1);

    ln_table *probe = ln_table_new(3);
    ln_column *x1 = add_column(probe, "x1", LN_TYPE_FLOAT);
    ln_column *x2 = add_column(probe, "x2", LN_TYPE_FLOAT);
    ln_column *cat = add_column(probe, "cat", LN_TYPE_CATEGORY);
    x1->values[0] = x1->values[1] = x1->values[2] = 1.0;
    x2->values[0] = x2->values[1] = x2->values[2] = -1.0;
    cat->codes[0] = ln_dict_intern(cat->dict, "never", 5);
    cat->codes[1] = ln_dict_intern(cat->dict, "seen", 4);
    cat->codes[2] = -1;

    double scores[3];
    ln_error err = {0};
    assert_int_equal(ln_model_predict(model, probe, scores, &err), LN_OK);
    /* Pooled and missing weights had no training rows, so L2 keeps them at 0: both give the same score. */
    assert_true(scores[0] == scores[1]);
    assert_true(fabs(scores[0] - scores[2]) < 1e-12);

    ln_model_free(model);
    ln_table_free(probe);
    ln_table_free(table);
}

static void separable_data_converge_with_l2(void **state)
{
    (void)state;
    ln_table *table = reference_table();
    double labels[N];
    for (size_t i = 0; i < N; i++)
        labels[i] = X1[i] > 1.5;
    ln_model *model = train_linear(table, labels, 1e-3, 1);
    double scores[N];
    ln_error err = {0};
    assert_int_equal(ln_model_predict(model, table, scores, &err), LN_OK);
    for (size_t i = 0; i < N; i++)
        assert_true(labels[i] > 0.5 ? scores[i] > 0.5 : scores[i] < 0.5);
    ln_model_free(model);
    ln_table_free(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_sklearn_probabilities),
        cmocka_unit_test(thread_count_gives_same_fit),
        cmocka_unit_test(infinities_clamp_to_training_range),
        cmocka_unit_test(huge_values_fit_like_scaled_ones),
        cmocka_unit_test(unseen_category_uses_pooled_weight),
        cmocka_unit_test(separable_data_converge_with_l2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
