/*
 * Calibration curve, expected calibration error and confusion counts.
 */
#include <math.h>

#include "outcome/outcome_internal.h"

/*
 * Returns the bin of a score in [0, 1]: the number of inner edges strictly
 * below it, so a score on an edge falls in the lower bin. The edges are
 * i * (1 / bins), the values numpy.linspace(0, 1, bins + 1) computes.
 */
static size_t bin_of(double score)
{
    size_t bin = 0;
    while (bin + 1 < LN_CALIBRATION_BINS && (double)(bin + 1) * (1.0 / LN_CALIBRATION_BINS) < score)
        bin++;
    return bin;
}

double ln_calibration_curve(const double *scores, const double *labels, size_t n,
                            ln_calibration_bin bins[LN_CALIBRATION_BINS])
{
    outcome_sum score_sums[LN_CALIBRATION_BINS] = {{0}};
    size_t positives[LN_CALIBRATION_BINS] = {0};

    for (size_t b = 0; b < LN_CALIBRATION_BINS; b++) {
        bins[b].lower = (double)b * (1.0 / LN_CALIBRATION_BINS);
        bins[b].upper = b + 1 == LN_CALIBRATION_BINS ? 1.0 : (double)(b + 1) * (1.0 / LN_CALIBRATION_BINS);
        bins[b].mean_score = NAN;
        bins[b].positive_rate = NAN;
        bins[b].count = 0;
    }

    for (size_t i = 0; i < n; i++) {
        if (!(scores[i] >= 0.0 && scores[i] <= 1.0) || (labels[i] != 0.0 && labels[i] != 1.0))
            return NAN;
    }
    if (n == 0)
        return NAN;

    for (size_t i = 0; i < n; i++) {
        size_t b = bin_of(scores[i]);
        outcome_sum_add(&score_sums[b], scores[i]);
        positives[b] += labels[i] == 1.0;
        bins[b].count++;
    }

    outcome_sum error = {0};
    for (size_t b = 0; b < LN_CALIBRATION_BINS; b++) {
        if (bins[b].count == 0)
            continue;
        double count = (double)bins[b].count;
        bins[b].mean_score = outcome_sum_value(&score_sums[b]) / count;
        bins[b].positive_rate = (double)positives[b] / count;
        outcome_sum_add(&error, count / (double)n * fabs(bins[b].mean_score - bins[b].positive_rate));
    }
    return outcome_sum_value(&error);
}

ln_confusion ln_confusion_counts(const unsigned char *flags, const double *labels, size_t n)
{
    ln_confusion counts = {0, 0, 0, 0};

    for (size_t i = 0; i < n; i++) {
        if (labels[i] == 1.0) {
            if (flags[i])
                counts.true_positives++;
            else
                counts.false_negatives++;
        } else if (labels[i] == 0.0) {
            if (flags[i])
                counts.false_positives++;
            else
                counts.true_negatives++;
        }
    }
    return counts;
}
