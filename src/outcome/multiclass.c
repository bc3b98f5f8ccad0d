/* Regression and multiclass metrics, defined as scikit-learn 1.2 defines them. */
#include <math.h>
#include <stdlib.h>

#include "lanner/metrics.h"

double ln_rmse(const double *predictions, const double *values, size_t n)
{
    double sum = 0;

    if (n == 0)
        return NAN;
    for (size_t i = 0; i < n; i++) {
        double error = predictions[i] - values[i];
        sum += error * error;
    }
    return sqrt(sum / (double)n);
}

double ln_mae(const double *predictions, const double *values, size_t n)
{
    double sum = 0;

    if (n == 0)
        return NAN;
    for (size_t i = 0; i < n; i++)
        sum += fabs(predictions[i] - values[i]);
    return sum / (double)n;
}

double ln_r2(const double *predictions, const double *values, size_t n)
{
    double mean = 0, residual = 0, total = 0;

    if (n == 0)
        return NAN;
    for (size_t i = 0; i < n; i++)
        mean += values[i];
    mean /= (double)n;

    for (size_t i = 0; i < n; i++) {
        double error = values[i] - predictions[i];
        double spread = values[i] - mean;
        residual += error * error;
        total += spread * spread;
    }
    return total > 0 ? 1.0 - residual / total : NAN;
}

/* Returns the label as a class index, or -1 when it is not one. */
static long class_index(double label, size_t n_classes)
{
    if (!(label >= 0) || label >= (double)n_classes || label != floor(label))
        return -1;
    return (long)label;
}

static size_t predicted_class(const double *row, size_t n_classes)
{
    size_t best = 0;

    for (size_t k = 1; k < n_classes; k++) {
        if (row[k] > row[best])
            best = k;
    }
    return best;
}

double ln_multiclass_accuracy(const double *probabilities, size_t n_classes, const double *labels, size_t n)
{
    size_t correct = 0;

    if (n == 0 || n_classes == 0)
        return NAN;
    for (size_t i = 0; i < n; i++) {
        long truth = class_index(labels[i], n_classes);
        if (truth < 0)
            return NAN;
        correct += predicted_class(probabilities + i * n_classes, n_classes) == (size_t)truth;
    }
    return (double)correct / (double)n;
}

double ln_macro_f1(const double *probabilities, size_t n_classes, const double *labels, size_t n)
{
    if (n == 0 || n_classes == 0)
        return NAN;

    /* Per class: true positives, predicted count, actual count. */
    size_t *counts = calloc(3 * n_classes, sizeof *counts);
    if (counts == NULL)
        return NAN;

    double result = 0;
    for (size_t i = 0; i < n; i++) {
        long truth = class_index(labels[i], n_classes);
        if (truth < 0) {
            free(counts);
            return NAN;
        }
        size_t predicted = predicted_class(probabilities + i * n_classes, n_classes);
        counts[3 * predicted + 1]++;
        counts[3 * (size_t)truth + 2]++;
        if (predicted == (size_t)truth)
            counts[3 * predicted]++;
    }

    for (size_t k = 0; k < n_classes; k++) {
        size_t denominator = counts[3 * k + 1] + counts[3 * k + 2];
        result += denominator ? 2.0 * (double)counts[3 * k] / (double)denominator : 0.0;
    }
    free(counts);
    return result / (double)n_classes;
}

double ln_multiclass_log_loss(const double *probabilities, size_t n_classes, const double *labels, size_t n)
{
    const double eps = 1e-15;
    double sum = 0;

    if (n == 0 || n_classes == 0)
        return NAN;
    for (size_t i = 0; i < n; i++) {
        long truth = class_index(labels[i], n_classes);
        if (truth < 0)
            return NAN;

        /* Clip every probability, then renormalise the row, in scikit-learn's order. */
        const double *row = probabilities + i * n_classes;
        double total = 0, p = 0;
        for (size_t k = 0; k < n_classes; k++) {
            double clipped = row[k] < eps ? eps : row[k] > 1 - eps ? 1 - eps : row[k];
            total += clipped;
            if (k == (size_t)truth)
                p = clipped;
        }
        sum -= log(p / total);
    }
    return sum / (double)n;
}
