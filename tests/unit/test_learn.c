/*
 * Gradient-boosted trees: split search, missing and category routing,
 * fitting, early stopping, determinism across thread counts, input errors.
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

#include "learn_tables.h"

#include "lanner/io.h"
#include "lanner/model.h"
#include "learn/learn_internal.h"

static uint64_t lcg_state;

static double next_uniform(void)
{
    lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg_state >> 11) * 0x1.0p-53;
}

static double auc(const double *scores, const double *labels, size_t n)
{
    /* O(n^2) pair count: fine for test sizes. */
    double wins = 0, pairs = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (labels[i] > 0.5 && labels[j] < 0.5) {
                if (scores[i] > scores[j])
                    wins += 1.0;
                else if (scores[i] == scores[j])
                    wins += 0.5;
                pairs++;
            }
    return wins / pairs;
}

static ln_train_params small_params(void)
{
    ln_train_params params;
    ln_train_params_default(&params);
    params.threads = 1;
    params.early_stopping_rounds = 0;
    return params;
}

/* ---- split search on hand-computed histograms ---- */

/* The split settings of the default training parameters, with min_data_in_leaf rows per leaf. */
static gbdt_split_params split_params(int min_data)
{
    ln_train_params train;
    ln_train_params_default(&train);
    train.lambda_l2 = 1.0;
    train.min_sum_hessian = 0.0;
    train.min_data_in_leaf = min_data;
    train.cat_smooth = 10.0;
    train.cat_l2 = 10.0;
    train.min_data_per_category = 10;
    return gbdt_split_params_from(&train);
}

static void numeric_split_exact_gain(void **state)
{
    (void)state;
    /* Bins: missing, then three value bins. */
    gbdt_bin hist[4] = {{0, 0, 0}, {-4, 2, 4}, {-2, 2, 4}, {6, 3, 6}};
    gbdt_bin total = {0, 7, 14};
    gbdt_split_params params = split_params(1);
    gbdt_split best = {0};

    gbdt_best_numeric_split(hist, 4, &total, 3, &params, NULL, &best);

    /* Split after bin 1: 16/3 + 16/6 = 8; after bin 2: 36/5 + 36/4 = 16.2. */
    assert_int_equal(best.feature, 3);
    assert_int_equal(best.split_bin, 2);
    assert_false(best.categorical);
    assert_true(fabs(best.gain - (36.0 / 5 + 36.0 / 4)) < 1e-12);
    assert_int_equal(best.left.n, 8);
    assert_int_equal(best.right.n, 6);
    /* No missing rows in the node: missing values follow the larger child (left, 8 rows). */
    assert_int_equal(best.default_left, 1);
}

static void numeric_split_learns_missing_side(void **state)
{
    (void)state;
    gbdt_bin hist[4] = {{5, 1, 2}, {-4, 2, 4}, {-2, 2, 4}, {6, 3, 6}};
    gbdt_bin total = {5, 8, 16};
    gbdt_split_params params = split_params(1);
    gbdt_split best = {0};

    gbdt_best_numeric_split(hist, 4, &total, 0, &params, NULL, &best);

    /* Best: bins 1-2 left, missing right: 36/5 + 121/5 - 25/9. */
    assert_int_equal(best.split_bin, 2);
    assert_int_equal(best.default_left, 0);
    assert_true(fabs(best.gain - (36.0 / 5 + 121.0 / 5 - 25.0 / 9)) < 1e-12);
    assert_int_equal(best.right.n, 8);
    assert_true(fabs(best.right.g - 11.0) < 1e-12);
}

static void numeric_split_respects_min_data(void **state)
{
    (void)state;
    gbdt_bin hist[4] = {{0, 0, 0}, {-4, 2, 4}, {-2, 2, 4}, {6, 3, 6}};
    gbdt_bin total = {0, 7, 14};
    gbdt_split_params params = split_params(7);
    gbdt_split best = {0};

    gbdt_best_numeric_split(hist, 4, &total, 0, &params, NULL, &best);
    assert_true(best.gain == 0.0);

    params.min_gain_to_split = 16.2;
    params.min_data_in_leaf = 1;
    gbdt_best_numeric_split(hist, 4, &total, 0, &params, NULL, &best);
    assert_true(best.gain == 0.0);
}

static void numeric_split_on_presence(void **state)
{
    (void)state;
    /* One distinct value: the only split separates missing from present. */
    gbdt_bin hist[2] = {{5, 2, 4}, {-5, 2, 4}};
    gbdt_bin total = {0, 4, 8};
    gbdt_split_params params = split_params(1);
    gbdt_split best = {0};

    gbdt_best_numeric_split(hist, 2, &total, 0, &params, NULL, &best);

    assert_int_equal(best.split_bin, 1);
    assert_int_equal(best.default_left, 0);
    assert_true(fabs(best.gain - 50.0 / 3) < 1e-12);
    assert_int_equal(best.left.n, 4);
}

static void category_split_orders_by_ratio(void **state)
{
    (void)state;
    /* Bins: missing, other, then three categories with ratios -0.5, +0.5, -0.4. */
    gbdt_bin hist[5] = {{0, 0, 0}, {0, 0, 0}, {-10, 10, 20}, {10, 10, 20}, {-8, 10, 20}};
    gbdt_bin total = {-8, 30, 60};
    gbdt_split_params params = split_params(1);
    gbdt_split best = {0};

    gbdt_best_category_split(hist, 5, &total, 1, &params, NULL, &best);

    assert_true(best.categorical);
    assert_true(learn_bin_set_has(&best.left_bins, 2));
    assert_true(learn_bin_set_has(&best.left_bins, 4));
    assert_false(learn_bin_set_has(&best.left_bins, 3));
    assert_false(learn_bin_set_has(&best.left_bins, LEARN_OTHER_BIN));
    /* Categorical splits carry 10 more L2: lambda 11. */
    double expected = 18.0 * 18.0 / 31 + 100.0 / 21 - 64.0 / 41;
    assert_true(fabs(best.gain - expected) < 1e-12);
}

static void leaf_weight_applies_l1_and_l2(void **state)
{
    (void)state;
    gbdt_split_params params = split_params(1);
    params.lambda_l1 = 0.5;
    params.lambda_l2 = 2.0;
    assert_true(fabs(gbdt_leaf_weight(-3.0, 4.0, &params) - 2.5 / 6.0) < 1e-15);
    assert_true(fabs(gbdt_leaf_weight(3.0, 4.0, &params) + 2.5 / 6.0) < 1e-15);
    assert_true(gbdt_leaf_weight(0.3, 4.0, &params) == 0.0);
}

/* ---- end-to-end behaviour ---- */

static void missing_values_take_learned_side(void **state)
{
    (void)state;
    size_t n = 1000;
    ln_table *table = ln_table_new(n);
    ln_column *x = add_column(table, "x", LN_TYPE_FLOAT);
    double *labels = malloc(n * sizeof *labels);

    /* Missing rows are positive, like the x >= 5 rows. */
    for (size_t i = 0; i < n; i++) {
        int missing = i % 10 < 3;
        x->values[i] = missing ? NAN : (double)(i % 7) * 1.5;
        labels[i] = missing ? 1.0 : x->values[i] >= 5.0;
    }

    ln_train_params params = small_params();
    params.trees = 20;
    const char *features[] = {"x"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_OK);

    ln_table *probe = ln_table_new(3);
    ln_column *px = add_column(probe, "x", LN_TYPE_FLOAT);
    px->values[0] = NAN;
    px->values[1] = 1.0;
    px->values[2] = 8.0;
    double scores[3];
    assert_int_equal(ln_model_predict(model, probe, scores, &err), LN_OK);
    assert_true(scores[0] > 0.75);
    assert_true(scores[1] < 0.25);
    assert_true(scores[2] > 0.75);

    /* The root sends values >= 5 right, and missing values with them. */
    const learn_node *root = &model->trees[0].nodes[0];
    assert_int_equal(root->feature, 0);
    assert_int_equal(root->default_left, 0);

    ln_model_free(model);
    ln_table_free(probe);
    ln_table_free(table);
    free(labels);
}

static void categories_route_by_string(void **state)
{
    (void)state;
    const char *names[] = {"a", "b", "c", "d"};
    size_t n = 403;
    ln_table *table = ln_table_new(n);
    ln_column *c = add_column(table, "c", LN_TYPE_CATEGORY);
    double *labels = malloc(n * sizeof *labels);

    /* a and c positive, b and d negative; 3 rows of the rare "r" share the pooled bin. */
    for (size_t i = 0; i < 400; i++) {
        set_category(c, i, names[i % 4]);
        labels[i] = i % 2 == 0;
    }
    for (size_t i = 400; i < n; i++) {
        set_category(c, i, "r");
        labels[i] = 1;
    }

    ln_train_params params = small_params();
    params.trees = 30;
    params.min_data_in_leaf = 5;
    const char *features[] = {"c"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_OK);
    assert_int_equal(ln_model_feature_type(model, 0), LN_TYPE_CATEGORY);

    /* A probe table whose dictionary has another code order and an unseen category. */
    const char *probe_values[] = {"d", "c", "b", "a", "zz", "r", NULL};
    ln_table *probe = ln_table_new(7);
    ln_column *pc = add_column(probe, "c", LN_TYPE_CATEGORY);
    for (size_t i = 0; i < 7; i++)
        set_category(pc, i, probe_values[i]);
    double scores[7];
    assert_int_equal(ln_model_predict(model, probe, scores, &err), LN_OK);

    /* The same strings in a text column score the same. */
    double text_scores[7];
    probe->cols[0].type = LN_TYPE_TEXT;
    assert_int_equal(ln_model_predict(model, probe, text_scores, &err), LN_OK);
    assert_memory_equal(scores, text_scores, sizeof scores);

    /* A numeric column for a category feature is an error naming the column. */
    ln_table *numeric = ln_table_new(1);
    add_column(numeric, "c", LN_TYPE_FLOAT);
    assert_int_equal(ln_model_predict(model, numeric, text_scores, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "'c'"));
    ln_table_free(numeric);

    assert_true(scores[0] < 0.3); /* d */
    assert_true(scores[1] > 0.7); /* c */
    assert_true(scores[2] < 0.3); /* b */
    assert_true(scores[3] > 0.7); /* a */
    /* An unseen category goes where the pooled rare categories go. */
    assert_true(scores[4] == scores[5]);
    assert_true(scores[4] > 0.0 && scores[4] < 1.0);

    ln_model_free(model);
    ln_table_free(probe);
    ln_table_free(table);
    free(labels);
}

static ln_table *xor_table(size_t n, double **labels_out)
{
    ln_table *table = ln_table_new(n);
    ln_column *x1 = add_column(table, "x1", LN_TYPE_FLOAT);
    ln_column *x2 = add_column(table, "x2", LN_TYPE_FLOAT);
    ln_column *noise = add_column(table, "noise", LN_TYPE_INT);
    ln_column *group = add_column(table, "group", LN_TYPE_CATEGORY);
    double *labels = malloc(n * sizeof *labels);
    const char *groups[] = {"north", "south", "east", "west", "rare"};

    for (size_t i = 0; i < n; i++) {
        x1->values[i] = next_uniform();
        x2->values[i] = next_uniform() < 0.05 ? NAN : next_uniform();
        noise->values[i] = floor(next_uniform() * 50);
        size_t g = (size_t)(next_uniform() * 4.02);
        set_category(group, i, groups[g > 4 ? 4 : g]);
        double x2v = isnan(x2->values[i]) ? 0.7 : x2->values[i];
        labels[i] = (x1->values[i] > 0.5) != (x2v > 0.5);
    }
    *labels_out = labels;
    return table;
}

static void xor_is_fitted(void **state)
{
    (void)state;
    lcg_state = 11;
    double *labels;
    ln_table *table = xor_table(2000, &labels);

    ln_train_params params = small_params();
    params.trees = 100;
    params.learning_rate = 0.2;
    const char *features[] = {"x1", "x2", "noise", "group"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 4, NULL, NULL, &model, &err), LN_OK);
    assert_int_equal(ln_model_tree_count(model), 100);

    double *scores = malloc(table->n_rows * sizeof *scores);
    assert_int_equal(ln_model_predict(model, table, scores, &err), LN_OK);
    assert_true(auc(scores, labels, table->n_rows) > 0.99);

    double importance[4];
    ln_model_feature_importance(model, importance);
    assert_true(fabs(importance[0] + importance[1] + importance[2] + importance[3] - 1.0) < 1e-12);
    assert_true(importance[0] > importance[2] && importance[1] > importance[3]);

    free(scores);
    ln_model_free(model);
    ln_table_free(table);
    free(labels);
}

static double loss_with_trees(ln_model *model, int n_trees, const ln_table *table, const double *labels)
{
    int kept = model->n_trees;
    double *p = malloc(table->n_rows * sizeof *p);
    ln_error err = {0};

    model->n_trees = n_trees;
    assert_int_equal(ln_model_predict(model, table, p, &err), LN_OK);
    model->n_trees = kept;

    double sum = 0;
    for (size_t i = 0; i < table->n_rows; i++)
        sum -= labels[i] > 0.5 ? log(p[i]) : log(1 - p[i]);
    free(p);
    return sum / (double)table->n_rows;
}

static void early_stopping_keeps_best_iteration(void **state)
{
    (void)state;
    lcg_state = 5;
    double *labels, *valid_labels;
    ln_table *train = xor_table(1500, &labels);
    ln_table *valid = xor_table(800, &valid_labels);
    /* Label noise makes the validation loss turn upward after a while. */
    for (size_t i = 0; i < 1500; i++)
        if (next_uniform() < 0.3)
            labels[i] = 1 - labels[i];

    ln_train_params params = small_params();
    params.trees = 400;
    params.learning_rate = 0.3;
    params.min_data_in_leaf = 2;
    params.early_stopping_rounds = 10;
    const char *features[] = {"x1", "x2", "noise", "group"};
    ln_model *stopped = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, train, labels, features, 4, valid, valid_labels, &stopped, &err),
                     LN_OK);
    int best = ln_model_tree_count(stopped);
    assert_true(best > 1 && best < 390);

    /* The same run without early stopping has the same trees; none beats the kept count. */
    params.early_stopping_rounds = 0;
    params.trees = best + 10;
    ln_model *full = NULL;
    assert_int_equal(ln_model_train(&params, train, labels, features, 4, valid, valid_labels, &full, &err), LN_OK);
    assert_int_equal(ln_model_tree_count(full), best + 10);
    double best_loss = loss_with_trees(full, best, valid, valid_labels);
    assert_true(fabs(best_loss - loss_with_trees(stopped, best, valid, valid_labels)) < 1e-12);
    for (int k = 1; k <= best + 10; k++) {
        if (k < best)
            assert_true(loss_with_trees(full, k, valid, valid_labels) >= best_loss - 1e-12);
        else if (k > best)
            assert_true(loss_with_trees(full, k, valid, valid_labels) > best_loss - 1e-12);
    }

    ln_model_free(stopped);
    ln_model_free(full);
    ln_table_free(train);
    ln_table_free(valid);
    free(labels);
    free(valid_labels);
}

static char *train_and_save(const ln_table *table, const double *labels, int threads, ln_histograms histograms,
                            size_t *size)
{
    ln_train_params params = small_params();
    params.threads = threads;
    params.histograms = histograms;
    params.trees = 25;
    params.row_subsample = 0.8;
    params.feature_subsample = 0.75;
    const char *features[] = {"x1", "x2", "noise", "group"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 4, NULL, NULL, &model, &err), LN_OK);

    char path[] = "/tmp/lanner-learn-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(ln_model_save(model, path, &err), LN_OK);
    char *data = NULL;
    assert_int_equal(ln_read_file(path, 1 << 30, &data, size, &err), LN_OK);
    unlink(path);
    ln_model_free(model);
    return data;
}

static void thread_count_gives_identical_file(void **state)
{
    (void)state;
    lcg_state = 99;
    double *labels;
    /* More rows than one partition block (16384) and enough for partial histograms, so parallel sums are exercised. */
    ln_table *table = xor_table(40000, &labels);
    ln_histograms layouts[] = {LN_HISTOGRAMS_ROW_WISE, LN_HISTOGRAMS_COLUMN_WISE};

    for (size_t i = 0; i < 2; i++) {
        size_t size1, size2, size4;
        char *one = train_and_save(table, labels, 1, layouts[i], &size1);
        char *two = train_and_save(table, labels, 2, layouts[i], &size2);
        char *four = train_and_save(table, labels, 4, layouts[i], &size4);
        assert_int_equal(size1, size2);
        assert_int_equal(size1, size4);
        assert_memory_equal(one, two, size1);
        assert_memory_equal(one, four, size1);
        free(one);
        free(two);
        free(four);
    }

    ln_table_free(table);
    free(labels);
}

/* Trains 30 trees with one histogram layout and returns the training rows' scores. */
static double *layout_scores(const ln_table *table, const double *labels, ln_histograms histograms,
                             double row_subsample, double feature_subsample, int *n_trees)
{
    ln_train_params params = small_params();
    params.trees = 30;
    params.threads = 2;
    params.histograms = histograms;
    params.row_subsample = row_subsample;
    params.feature_subsample = feature_subsample;
    const char *features[] = {"x1", "x2", "noise", "group", "spike"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 5, NULL, NULL, &model, &err), LN_OK);

    double *scores = malloc(table->n_rows * sizeof *scores);
    assert_int_equal(ln_model_predict(model, table, scores, &err), LN_OK);
    *n_trees = ln_model_tree_count(model);
    ln_model_free(model);
    return scores;
}

/*
 * Row-wise histograms leave out each feature's most frequent bin and derive
 * it from the leaf's sums; column-wise ones add every row. Both must give the
 * same trees, so the scores agree up to the rounding of the sums.
 */
static void histogram_layouts_agree(void **state)
{
    (void)state;
    lcg_state = 5;
    double *labels;
    ln_table *table = xor_table(30000, &labels);
    ln_column *spike = add_column(table, "spike", LN_TYPE_FLOAT);
    for (size_t i = 0; i < table->n_rows; i++) {
        spike->values[i] = next_uniform() < 0.9 ? 0.0 : next_uniform();
        if (spike->values[i] > 0.5)
            labels[i] = 1.0 - labels[i];
    }
    double fractions[][2] = {{1.0, 1.0}, {0.8, 0.75}};

    for (size_t k = 0; k < 2; k++) {
        int row_trees, column_trees;
        double *row = layout_scores(table, labels, LN_HISTOGRAMS_ROW_WISE, fractions[k][0], fractions[k][1],
                                    &row_trees);
        double *column = layout_scores(table, labels, LN_HISTOGRAMS_COLUMN_WISE, fractions[k][0], fractions[k][1],
                                       &column_trees);
        assert_int_equal(row_trees, 30);
        assert_int_equal(column_trees, 30);
        double largest = 0;
        for (size_t i = 0; i < table->n_rows; i++)
            largest = fmax(largest, fabs(row[i] - column[i]));
        assert_true(largest < 1e-9);
        free(row);
        free(column);
    }

    ln_table_free(table);
    free(labels);
}

/* Row-wise histograms store 16-bit positions, so a model of more than 65,536 bins is summed column-wise. */
static void wide_model_falls_back_to_columns(void **state)
{
    (void)state;
    size_t n_rows = 2000, n_features = 300;
    ln_table *table = ln_table_new(n_rows);
    double *labels = malloc(n_rows * sizeof *labels);
    const char **features = malloc(n_features * sizeof *features);
    char (*names)[16] = malloc(n_features * sizeof *names);
    lcg_state = 17;
    for (size_t f = 0; f < n_features; f++) {
        snprintf(names[f], sizeof names[f], "x%zu", f);
        features[f] = names[f];
        ln_column *column = add_column(table, names[f], LN_TYPE_FLOAT);
        for (size_t r = 0; r < n_rows; r++)
            column->values[r] = next_uniform();
    }
    for (size_t r = 0; r < n_rows; r++)
        labels[r] = table->cols[0].values[r] + 0.3 * next_uniform() > 0.6;

    size_t size[2];
    char *files[2];
    ln_histograms layouts[] = {LN_HISTOGRAMS_ROW_WISE, LN_HISTOGRAMS_COLUMN_WISE};
    for (int i = 0; i < 2; i++) {
        ln_train_params params = small_params();
        params.trees = 5;
        params.histograms = layouts[i];
        ln_model *model = NULL;
        ln_error err = {0};
        assert_int_equal(ln_model_train(&params, table, labels, features, n_features, NULL, NULL, &model, &err),
                         LN_OK);
        char path[] = "/tmp/lanner-wide-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(ln_model_save(model, path, &err), LN_OK);
        assert_int_equal(ln_read_file(path, 1 << 30, &files[i], &size[i], &err), LN_OK);
        unlink(path);
        ln_model_free(model);
    }
    assert_int_equal(size[0], size[1]);
    assert_memory_equal(files[0], files[1], size[0]);

    free(files[0]);
    free(files[1]);
    free(names);
    free(features);
    free(labels);
    ln_table_free(table);
}

static void bad_input_is_rejected(void **state)
{
    (void)state;
    size_t n = 50;
    ln_table *table = ln_table_new(n);
    ln_column *x = add_column(table, "x", LN_TYPE_FLOAT);
    ln_column *text = add_column(table, "note", LN_TYPE_TEXT);
    double labels[50];
    for (size_t i = 0; i < n; i++) {
        x->values[i] = i % 3 == 0 ? INFINITY : (double)i;
        set_category(text, i, "free text");
        labels[i] = i % 2;
    }
    ln_train_params params = small_params();
    params.trees = 3;
    ln_model *model = NULL;
    ln_error err = {0};

    const char *text_feature[] = {"note"};
    assert_int_equal(ln_model_train(&params, table, labels, text_feature, 1, NULL, NULL, &model, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "note"));

    const char *absent[] = {"nope"};
    assert_int_equal(ln_model_train(&params, table, labels, absent, 1, NULL, NULL, &model, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "nope"));

    const char *features[] = {"x"};
    double one_class[50] = {0};
    assert_int_equal(ln_model_train(&params, table, one_class, features, 1, NULL, NULL, &model, &err), LN_ERR_DATA);
    labels[7] = 2;
    assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_ERR_DATA);
    assert_non_null(strstr(err.message, "row 8"));
    labels[7] = NAN;
    assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_ERR_DATA);
    labels[7] = 1;

    params.max_bins = 300;
    assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_ERR_CONFIG);
    params.max_bins = 255;
    params.learning_rate = NAN;
    assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_ERR_CONFIG);
    params.learning_rate = 0.1;
    params.histograms = (ln_histograms)7;
    assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_ERR_CONFIG);
    assert_non_null(strstr(err.message, "histograms"));
    params.histograms = LN_HISTOGRAMS_AUTO;
    assert_null(model);

    /* Infinite values are ordinary extreme values for trees. */
    assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_OK);

    /* Prediction: a missing column, and a numeric feature given as text. */
    ln_table *other = ln_table_new(2);
    add_column(other, "y", LN_TYPE_FLOAT);
    double scores[2];
    assert_int_equal(ln_model_predict(model, other, scores, &err), LN_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "'x'"));
    ln_table_free(other);
    other = ln_table_new(2);
    add_column(other, "x", LN_TYPE_CATEGORY);
    assert_int_equal(ln_model_predict(model, other, scores, &err), LN_ERR_DATA);
    ln_table_free(other);

    /* An empty table predicts nothing and succeeds. */
    other = ln_table_new(0);
    add_column(other, "x", LN_TYPE_FLOAT);
    assert_int_equal(ln_model_predict(model, other, scores, &err), LN_OK);
    ln_table_free(other);

    ln_model_free(model);
    ln_table_free(table);
}

static void validation_categories_match_by_string(void **state)
{
    (void)state;
    size_t n = 400;
    ln_table *train = ln_table_new(n);
    ln_table *valid = ln_table_new(n);
    ln_column *c = add_column(train, "c", LN_TYPE_CATEGORY);
    ln_column *vc = add_column(valid, "c", LN_TYPE_CATEGORY);
    double *labels = malloc(n * sizeof *labels);

    /* The validation dictionary lists the strings in reverse order. */
    set_category(vc, 0, "y");
    set_category(vc, 1, "x");
    for (size_t i = 0; i < n; i++) {
        set_category(c, i, i % 2 ? "x" : "y");
        set_category(vc, i, i % 2 ? "x" : "y");
        labels[i] = i % 2 ? (i % 10 != 1) : (i % 10 == 0);
    }

    ln_train_params params = small_params();
    params.trees = 200;
    params.early_stopping_rounds = 5;
    const char *features[] = {"c"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, train, labels, features, 1, valid, labels, &model, &err), LN_OK);
    /* With matched strings the validation loss keeps falling for many trees. */
    assert_true(ln_model_tree_count(model) > 50);

    ln_model_free(model);
    ln_table_free(train);
    ln_table_free(valid);
    free(labels);
}

static void constant_feature_predicts_base_rate(void **state)
{
    (void)state;
    size_t n = 100;
    ln_table *table = ln_table_new(n);
    ln_column *x = add_column(table, "x", LN_TYPE_FLOAT);
    double labels[100];
    for (size_t i = 0; i < n; i++) {
        x->values[i] = i % 2 ? 3.0 : NAN;
        labels[i] = i % 4 < 2;
    }
    /* Label rate 1/2 whether x is 3 or missing: no split gains, so no trees. */
    ln_train_params params = small_params();
    const char *features[] = {"x"};
    ln_model *model = NULL;
    ln_error err = {0};
    assert_int_equal(ln_model_train(&params, table, labels, features, 1, NULL, NULL, &model, &err), LN_OK);
    assert_int_equal(ln_model_tree_count(model), 0);

    double scores[100];
    assert_int_equal(ln_model_predict(model, table, scores, &err), LN_OK);
    assert_true(fabs(scores[0] - 0.5) < 1e-15);
    assert_true(fabs(scores[1] - 0.5) < 1e-15);

    double importance[1];
    ln_model_feature_importance(model, importance);
    assert_true(importance[0] == 0.0);

    ln_model_free(model);
    ln_table_free(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numeric_split_exact_gain),
        cmocka_unit_test(numeric_split_learns_missing_side),
        cmocka_unit_test(numeric_split_respects_min_data),
        cmocka_unit_test(numeric_split_on_presence),
        cmocka_unit_test(category_split_orders_by_ratio),
        cmocka_unit_test(leaf_weight_applies_l1_and_l2),
        cmocka_unit_test(missing_values_take_learned_side),
        cmocka_unit_test(categories_route_by_string),
        cmocka_unit_test(xor_is_fitted),
        cmocka_unit_test(early_stopping_keeps_best_iteration),
        cmocka_unit_test(thread_count_gives_identical_file),
        cmocka_unit_test(histogram_layouts_agree),
        cmocka_unit_test(wide_model_falls_back_to_columns),
        cmocka_unit_test(bad_input_is_rejected),
        cmocka_unit_test(validation_categories_match_by_string),
        cmocka_unit_test(constant_feature_predicts_base_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
