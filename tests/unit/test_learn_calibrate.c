/*
 * Calibration: isotonic and sigmoid fits against scikit-learn 1.2.1 on fixed
 * numbers, application in every prediction path, the model file, and input
 * errors.
 *
 * The reference numbers come from this script (numpy 1.24, scipy 1.10):
 *   rng = np.random.RandomState(3); x = np.round(rng.uniform(-3, 3, 40), 1)
 *   y = (rng.uniform(size=40) < 1 / (1 + np.exp(-(1.7 * x - 0.4)))).astype(float)
 *   IsotonicRegression(out_of_bounds="clip").fit(1 / (1 + np.exp(-x)), y)
 *   sklearn.calibration._sigmoid_calibration(x, y)
 * and, for a tighter check of the sigmoid, scipy.optimize.minimize (BFGS,
 * gtol 1e-14) of the same smoothed-target objective.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lanner/model.h"
#include "learn/learn_internal.h"

static const double fixed_x[40] = {
    0.3,  1.2, -1.3, 0.1,  2.4,  2.4,  -2.2, -1.8, -2.7, -0.4, -2.8, -0.3, 0.9,  -1.3, 1.1, 0.5, -2.9, 0.4,  -1.4, -0.5,
    -1.3, 1.2, -0.4, -2.1, 0.3,  1.7,  -1.2, -1.7, -0.7, 2.6,  2.9,  1.0,  2.4,  2.1,  -0.7, -2.4, 0.9, 0.3, -0.8, -1.6,
};
static const double fixed_y[40] = {
    1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0,
};

/* A linear model whose raw score is exactly the value of column "x", so calibration sees fixed_x itself. */
static ln_model *identity_model(void)
{
    ln_model *model = learn_model_new(LN_LEARNER_LINEAR, 1, 1);
    ln_error err = {0};
    assert_non_null(model);
    model->features[0].name = strdup("x");
    model->features[0].type = LN_TYPE_FLOAT;
    model->linear = calloc(1, sizeof *model->linear);
    model->linear[0] = (learn_linear_feature){0.0, 1.0, -1e300, 1e300, calloc(2, sizeof(double)), 2};
    model->linear[0].weights[0] = 1.0;
    assert_int_equal(learn_model_prepare(model, &err), LN_OK);
    return model;
}

static ln_table *x_table(const double *values, size_t n)
{
    ln_error err = {0};
    ln_table *table = ln_table_new(n);
    ln_column *x = ln_table_add_column(table, "x", LN_TYPE_FLOAT, &err);
    memcpy(x->values, values, n * sizeof *values);
    return table;
}

static const double probe_x[10] = {-5, -2.05, -1.0, -0.33, 0.0, 0.25, 0.9, 1.55, 2.5, 4.0};

static void isotonic_matches_sklearn(void **state)
{
    (void)state;
    static const double expected[10] = {
        0, 0, 0.14285714285714285, 0.6249568524354443, 0.83333333333333337, 0.83333333333333337, 1, 1, 1, 1,
    };
    ln_model *model = identity_model();
    ln_table *valid = x_table(fixed_x, 40);
    ln_table *probe = x_table(probe_x, 10);
    ln_error err = {0};

    assert_int_equal(ln_model_calibrate(model, valid, fixed_y, LN_CALIBRATION_ISOTONIC, &err), LN_OK);
    assert_int_equal(ln_model_calibration(model), LN_CALIBRATION_ISOTONIC);
    /* scikit-learn keeps 8 thresholds after dropping the inner points of flat runs. */
    assert_int_equal(model->calibration.n_points, 8);

    double p[10];
    assert_int_equal(ln_model_predict(model, probe, p, &err), LN_OK);
    for (int i = 0; i < 10; i++)
        assert_true(fabs(p[i] - expected[i]) < 1e-12);

    /* predict_proba and the single-row path apply the same curve. */
    double proba[20];
    assert_int_equal(ln_model_predict_proba(model, probe, proba, &err), LN_OK);
    ln_model_row *row = NULL;
    assert_int_equal(ln_model_row_new(model, &row, &err), LN_OK);
    for (int i = 0; i < 10; i++) {
        assert_true(proba[2 * i + 1] == p[i]);
        assert_true(fabs(proba[2 * i] - (1 - p[i])) < 1e-15);
        double one;
        ln_model_row_set_number(row, 0, probe_x[i], &err);
        assert_int_equal(ln_model_predict_row(model, row, &one, &err), LN_OK);
        assert_true(one == p[i]);
    }

    ln_model_row_free(row);
    ln_model_free(model);
    ln_table_free(valid);
    ln_table_free(probe);
}

static void sigmoid_matches_platt_fit(void **state)
{
    (void)state;
    ln_model *model = identity_model();
    ln_table *valid = x_table(fixed_x, 40);
    ln_table *probe = x_table(probe_x, 10);
    ln_error err = {0};

    assert_int_equal(ln_model_calibrate(model, valid, fixed_y, LN_CALIBRATION_SIGMOID, &err), LN_OK);
    double a = model->calibration.a, b = model->calibration.b;
    /* scipy's tight fit of the same objective. */
    assert_true(fabs(a - 1.7048167479258152) < 1e-7);
    assert_true(fabs(b - 0.33708548954665374) < 1e-7);
    /* scikit-learn's own fit stops at BFGS's default tolerance: A = -a, B = -b. */
    assert_true(fabs(-a - -1.7048173389277965) < 1e-5);
    assert_true(fabs(-b - -0.33708565626267889) < 1e-5);

    double p[10];
    assert_int_equal(ln_model_predict(model, probe, p, &err), LN_OK);
    for (int i = 0; i < 10; i++)
        assert_true(fabs(p[i] - 1.0 / (1.0 + exp(-(a * probe_x[i] + b)))) < 1e-15);

    /* Removing the calibration gives the plain sigmoid of the raw score back. */
    assert_int_equal(ln_model_calibrate(model, NULL, NULL, LN_CALIBRATION_NONE, &err), LN_OK);
    assert_int_equal(ln_model_predict(model, probe, p, &err), LN_OK);
    assert_true(fabs(p[3] - 1.0 / (1.0 + exp(0.33))) < 1e-15);

    ln_model_free(model);
    ln_table_free(valid);
    ln_table_free(probe);
}

static ln_table *train_table(size_t n, double **labels)
{
    ln_error err = {0};
    ln_table *table = ln_table_new(n);
    ln_column *x = ln_table_add_column(table, "x", LN_TYPE_FLOAT, &err);
    *labels = malloc(n * sizeof **labels);
    for (size_t i = 0; i < n; i++) {
        x->values[i] = (double)((i * 7919) % 1000) / 100.0;
        (*labels)[i] = ((i * 104729) % 997) / 997.0 < x->values[i] / 12.0;
    }
    return table;
}

static void calibration_survives_save_and_load(void **state)
{
    (void)state;
    double *labels;
    ln_table *table = train_table(2000, &labels);
    const char *features[] = {"x"};
    ln_train_params params;
    ln_train_params_default(&params);
    params.trees = 30;
    params.threads = 1;
    ln_error err = {0};

    for (int method = LN_CALIBRATION_ISOTONIC; method <= LN_CALIBRATION_SIGMOID; method++) {
        /* Calibration requested in the parameters needs the validation set. */
        params.calibration = (ln_calibration)method;
        ln_model *model = NULL;
        assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_ERR_CONFIG);
        assert_int_equal(ln_model_train(&params, table, labels, features, 1, table, labels, &model, &err), LN_OK);
        assert_int_equal(ln_model_calibration(model), method);

        char path[] = "/tmp/lanner-calibration-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(ln_model_save(model, path, &err), LN_OK);
        ln_model *loaded = NULL;
        assert_int_equal(ln_model_load(path, &loaded, &err), LN_OK);
        unlink(path);
        assert_int_equal(ln_model_calibration(loaded), method);

        double before[2000], after[2000];
        assert_int_equal(ln_model_predict(model, table, before, &err), LN_OK);
        assert_int_equal(ln_model_predict(loaded, table, after, &err), LN_OK);
        assert_memory_equal(before, after, sizeof before);

        ln_model_free(model);
        ln_model_free(loaded);
    }
    ln_table_free(table);
    free(labels);
}

static void calibration_rejects_bad_input(void **state)
{
    (void)state;
    ln_model *model = identity_model();
    ln_table *valid = x_table(fixed_x, 40);
    ln_error err = {0};
    double labels[40];

    memset(labels, 0, sizeof labels);
    assert_int_equal(ln_model_calibrate(model, valid, labels, LN_CALIBRATION_ISOTONIC, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "both classes"));
    labels[3] = 0.5;
    assert_int_equal(ln_model_calibrate(model, valid, labels, LN_CALIBRATION_SIGMOID, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "row 4"));
    assert_int_equal(ln_model_calibrate(model, valid, fixed_y, (ln_calibration)9, &err), LN_ERR_CONFIG);
    assert_int_equal(ln_model_calibrate(model, NULL, NULL, LN_CALIBRATION_SIGMOID, &err), LN_ERR_CONFIG);
    assert_int_equal(ln_model_calibration(model), LN_CALIBRATION_NONE);

    /* Only binary models take a calibration. */
    model->objective = LN_OBJECTIVE_REGRESSION;
    assert_int_equal(ln_model_calibrate(model, valid, fixed_y, LN_CALIBRATION_SIGMOID, &err), LN_ERR_CONFIG);

    ln_model_free(model);
    ln_table_free(valid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(isotonic_matches_sklearn),
        cmocka_unit_test(sigmoid_matches_platt_fit),
        cmocka_unit_test(calibration_survives_save_and_load),
        cmocka_unit_test(calibration_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
