/* Regression and multiclass metrics against scikit-learn 1.2.1 on the same arrays. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lanner/metrics.h"

static const double values[] = {3.0, -0.5, 2.0, 7.0, 4.25, 0.0, 1.5};
static const double predictions[] = {2.5, 0.0, 2.0, 8.0, 4.0, -1.0, 2.5};

static void regression_metrics_match_sklearn(void **state)
{
    (void)state;
    assert_float_equal(ln_rmse(predictions, values, 7), 0.7133922984085064, 1e-12);
    assert_float_equal(ln_mae(predictions, values, 7), 0.6071428571428571, 1e-12);
    assert_float_equal(ln_r2(predictions, values, 7), 0.9110566205974142, 1e-12);
}

static void regression_metrics_edge_cases(void **state)
{
    (void)state;
    const double constant[] = {2, 2, 2};

    assert_true(isnan(ln_rmse(predictions, values, 0)));
    assert_true(isnan(ln_r2(predictions, constant, 3)));
    assert_float_equal(ln_rmse(constant, constant, 3), 0.0, 0);
}

/* Ten rows of three classes; the predicted classes are 0 1 2 1 1 0 2 0 0 2. */
static const double labels[] = {0, 1, 2, 2, 1, 0, 2, 1, 0, 2};
static const double probabilities[] = {
    0.7, 0.2, 0.1,   0.1, 0.6, 0.3,   0.2, 0.2, 0.6,   0.3, 0.4, 0.3,    0.25, 0.5, 0.25,
    0.5, 0.5, 0.0,   0.0, 0.1, 0.9,   0.4, 0.35, 0.25, 0.34, 0.33, 0.33, 0.1, 0.1, 0.8,
};

static void multiclass_metrics_match_sklearn(void **state)
{
    (void)state;
    assert_float_equal(ln_multiclass_accuracy(probabilities, 3, labels, 10), 0.8, 1e-12);
    assert_float_equal(ln_macro_f1(probabilities, 3, labels, 10), 0.7936507936507936, 1e-12);
    assert_float_equal(ln_multiclass_log_loss(probabilities, 3, labels, 10), 0.6425729209759186, 1e-12);
}

static void macro_f1_counts_absent_class_as_zero(void **state)
{
    (void)state;
    /* True classes 0 0 1 1, predicted 0 0 0 2: sklearn's f1_score(labels=[0,1,2], zero_division=0). */
    const double truth[] = {0, 0, 1, 1};
    const double rows[] = {1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1};

    assert_float_equal(ln_macro_f1(rows, 3, truth, 4), 0.26666666666666666, 1e-12);
}

static void multiclass_rejects_bad_labels(void **state)
{
    (void)state;
    const double bad[] = {0, 3};
    const double fractional[] = {0, 0.5};
    const double rows[] = {0.5, 0.5, 0, 0.2, 0.3, 0.5};

    assert_true(isnan(ln_multiclass_accuracy(rows, 3, bad, 2)));
    assert_true(isnan(ln_macro_f1(rows, 3, fractional, 2)));
    assert_true(isnan(ln_multiclass_log_loss(rows, 3, bad, 2)));
    assert_true(isnan(ln_multiclass_accuracy(rows, 3, bad, 0)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(regression_metrics_match_sklearn),
        cmocka_unit_test(regression_metrics_edge_cases),
        cmocka_unit_test(multiclass_metrics_match_sklearn),
        cmocka_unit_test(macro_f1_counts_absent_class_as_zero),
        cmocka_unit_test(multiclass_rejects_bad_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
