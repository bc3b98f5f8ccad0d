/*
 * The monitoring report as text for people and as JSON for schedulers.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lanner/monitor.h"
#include "monitor/monitor_internal.h"

/* Prints a figure with format, or "-" when it is NaN. */
static void print_figure(FILE *out, const char *format, double value, int width)
{
    char text[64];

    if (isnan(value))
        snprintf(text, sizeof text, "-");
    else
        snprintf(text, sizeof text, format, value);
    fprintf(out, "%*s", width, text);
}

static void print_feature(const ln_drift *drift, FILE *out)
{
    fprintf(out, "  %-28.28s %-9s", drift->name, drift->categorical ? "category" : ln_type_name(drift->type));
    print_figure(out, "%.4f", drift->psi, 8);
    if (drift->categorical) {
        print_figure(out, "%.4f", drift->js_distance, 8);
        print_figure(out, "%.3g", drift->chi2.p_value, 11);
    } else {
        print_figure(out, "%.4f", drift->ks.statistic, 8);
        print_figure(out, "%.3g", drift->ks.p_value, 11);
    }
    fprintf(out, "  %6.2f%% -> %6.2f%%", drift->reference_missing_share * 100, drift->current_missing_share * 100);
    if (drift->n_new > 0) {
        fprintf(out, "  new: ");
        for (size_t i = 0; i < drift->n_new_listed && i < 3; i++)
            fprintf(out, "%s'%.40s' %.2f%%", i ? ", " : "", drift->new_values[i], drift->new_value_shares[i] * 100);
        if (drift->n_new > 3)
            fprintf(out, " and %zu more", drift->n_new - 3);
    }
    fputc('\n', out);
}

static void print_windows(const ln_monitor_report *report, FILE *out)
{
    char start[32];

    fprintf(out, "\nper window      %9s %9s %9s %9s", "rows", "score PSI", "mean", "flag rate");
    if (report->has_labels)
        fprintf(out, " %8s %8s %14s", "labeled", "AUC", "payoff/1000");
    fputc('\n', out);
    for (size_t w = 0; w < report->n_windows; w++) {
        const ln_monitor_window *window = &report->windows[w];
        monitor_format_time(window->start, start, sizeof start);
        fprintf(out, "  %-13.16s %9zu", start, window->rows);
        print_figure(out, "%.4f", window->score_psi, 10);
        print_figure(out, "%.4f", window->mean_score, 10);
        print_figure(out, "%.2f%%", window->flag_rate * 100, 10);
        if (report->has_labels) {
            fprintf(out, " %8zu", window->labeled);
            print_figure(out, "%.4f", window->auc, 9);
            print_figure(out, "%.2f", window->payoff_per_1000, 15);
        }
        fputc('\n', out);
    }
}

static void print_outcomes(const ln_monitor_report *report, FILE *out)
{
    const ln_monitor_outcomes *outcomes = &report->outcomes;
    const ln_reference *reference = report->reference;

    fprintf(out, "\nrealised outcomes: %zu labeled rows (%zu without a label yet)\n", outcomes->labeled,
            outcomes->unlabeled);
    fprintf(out, "  %-20s %14s %14s\n", "", "realised", "valid promised");
    fprintf(out, "  %-20s", "ROC AUC");
    print_figure(out, "%.4f", outcomes->auc, 15);
    print_figure(out, "%.4f", reference->valid_auc, 15);
    fprintf(out, "\n  %-20s", "calibration error");
    print_figure(out, "%.4f", outcomes->ece, 15);
    print_figure(out, "%.4f", reference->valid_ece, 15);
    fprintf(out, "\n  %-20s", "flag rate");
    print_figure(out, "%.2f%%", outcomes->flag_rate * 100, 15);
    print_figure(out, "%.2f%%", reference->valid_flag_rate * 100, 15);
    fprintf(out, "\n  %-20s", "positive rate");
    print_figure(out, "%.2f%%", outcomes->positive_rate * 100, 15);
    print_figure(out, "%.2f%%", reference->valid_positive_rate * 100, 15);
    fprintf(out, "\n  %-20s", "payoff per 1,000");
    print_figure(out, "%.2f", outcomes->payoff_per_1000, 15);
    print_figure(out, "%.2f", reference->valid_payoff_per_1000, 15);
    fprintf(out, "\n  %-20s", "total payoff");
    print_figure(out, "%.2f", outcomes->payoff, 15);
    fputc('\n', out);
}

void ln_monitor_report_print(const ln_monitor_report *report, const char *model_label, FILE *out)
{
    char first[32], last[32];

    monitor_format_time(report->first_time, first, sizeof first);
    monitor_format_time(report->last_time, last, sizeof last);
    fprintf(out, "%s: %zu current rows", model_label, report->rows);
    if (!isnan(report->first_time))
        fprintf(out, " from %s to %s", first, last);
    fprintf(out, " against %zu train and %zu valid rows\n\n", report->reference->train_rows,
            report->reference->valid_rows);

    fprintf(out, "  %-28s %-9s %8s %8s %11s  %s\n", "feature (by drift)", "type", "PSI", "KS/JS", "p-value",
            "missing (train -> now)");
    for (size_t f = 0; f < report->n_features; f++)
        print_feature(&report->features[f], out);
    fprintf(out, "  ---\n");
    print_feature(&report->score, out);
    fprintf(out, "  flag rate: %.2f%% on valid, %.2f%% now (PSI %.4f, chi-square p %.3g)\n",
            report->reference_flag_rate * 100, report->current_flag_rate * 100, report->decision.psi,
            report->decision.chi2.p_value);
    fprintf(out, "  (KS is computed on the reference's %d quantile bins; p-values of category features are "
                 "chi-square)\n", LN_MONITOR_BINS);

    if (report->contract != NULL) {
        fprintf(out, "\ndata contract: %zu errors, %zu warnings\n", ln_validation_error_count(report->contract),
                ln_validation_warning_count(report->contract));
        ln_validation_print(report->contract, out);
    }
    if (report->has_labels)
        print_outcomes(report, out);
    if (report->n_windows > 0)
        print_windows(report, out);
    for (size_t i = 0; i < report->n_notes; i++)
        fprintf(out, "\nnote: %s", report->notes[i]);
    if (report->n_notes > 0)
        fputc('\n', out);

    fprintf(out, "\n%zu alert%s\n", report->n_alerts, report->n_alerts == 1 ? "" : "s");
    for (size_t i = 0; i < report->n_alerts; i++)
        fprintf(out, "  ALERT %s: %s\n", report->alerts[i].kind, report->alerts[i].message);
}

/* ---- JSON ---- */

static json_t *number_or_null(double value)
{
    return isfinite(value) ? json_real(value) : json_null();
}

static json_t *test_json(const ln_test_result *test, int with_dof)
{
    if (isnan(test->statistic))
        return json_null();
    json_t *object = json_object();
    json_object_set_new(object, "statistic", number_or_null(test->statistic));
    if (with_dof)
        json_object_set_new(object, "dof", json_integer(test->dof));
    json_object_set_new(object, "p_value", number_or_null(test->p_value));
    return object;
}

static json_t *drift_json(const ln_drift *drift)
{
    json_t *object = json_object();

    json_object_set_new(object, "name", json_string(drift->name));
    json_object_set_new(object, "type", json_string(ln_type_name(drift->type)));
    json_object_set_new(object, "rows", json_integer((json_int_t)drift->current_rows));
    json_object_set_new(object, "psi", number_or_null(drift->psi));
    json_object_set_new(object, "ks", test_json(&drift->ks, 0));
    json_object_set_new(object, "chi2", test_json(&drift->chi2, 1));
    json_object_set_new(object, "js_distance", number_or_null(drift->js_distance));

    json_t *missing = json_object();
    json_object_set_new(missing, "reference", number_or_null(drift->reference_missing_share));
    json_object_set_new(missing, "current", number_or_null(drift->current_missing_share));
    json_object_set_new(missing, "change", number_or_null(drift->current_missing_share - drift->reference_missing_share));
    json_object_set_new(object, "missing_share", missing);

    json_t *bins = json_array();
    for (size_t b = 0; b < drift->n_bins; b++) {
        json_t *bin = json_object();
        json_object_set_new(bin, "label", json_string(drift->bin_labels[b]));
        json_object_set_new(bin, "reference", number_or_null(drift->reference_share[b]));
        json_object_set_new(bin, "current", number_or_null(drift->current_share[b]));
        json_array_append_new(bins, bin);
    }
    json_object_set_new(object, "bins", bins);

    if (drift->categorical) {
        json_t *values = json_array();
        for (size_t i = 0; i < drift->n_new_listed; i++) {
            json_t *value = json_object();
            json_object_set_new(value, "value", json_string(drift->new_values[i]));
            json_object_set_new(value, "share", number_or_null(drift->new_value_shares[i]));
            json_array_append_new(values, value);
        }
        json_object_set_new(object, "new_categories", values);
        json_object_set_new(object, "new_category_count", json_integer((json_int_t)drift->n_new));
        json_object_set_new(object, "new_share", number_or_null(drift->new_share));
    }
    return object;
}

static json_t *outcomes_json(const ln_monitor_report *report)
{
    const ln_monitor_outcomes *outcomes = &report->outcomes;
    const ln_reference *reference = report->reference;
    json_t *object = json_object();

    json_object_set_new(object, "labeled", json_integer((json_int_t)outcomes->labeled));
    json_object_set_new(object, "unlabeled", json_integer((json_int_t)outcomes->unlabeled));
    json_object_set_new(object, "positive_rate", number_or_null(outcomes->positive_rate));
    json_object_set_new(object, "auc", number_or_null(outcomes->auc));
    json_object_set_new(object, "ece", number_or_null(outcomes->ece));
    json_object_set_new(object, "flag_rate", number_or_null(outcomes->flag_rate));
    json_object_set_new(object, "payoff", number_or_null(outcomes->payoff));
    json_object_set_new(object, "payoff_per_1000", number_or_null(outcomes->payoff_per_1000));
    json_object_set_new(object, "payoff_drop", number_or_null(outcomes->payoff_drop));
    json_object_set_new(object, "payoff_skipped_rows", json_integer((json_int_t)outcomes->payoff_skipped));

    json_t *promised = json_object();
    json_object_set_new(promised, "auc", number_or_null(reference->valid_auc));
    json_object_set_new(promised, "ece", number_or_null(reference->valid_ece));
    json_object_set_new(promised, "flag_rate", number_or_null(reference->valid_flag_rate));
    json_object_set_new(promised, "positive_rate", number_or_null(reference->valid_positive_rate));
    json_object_set_new(promised, "payoff_per_1000", number_or_null(reference->valid_payoff_per_1000));
    json_object_set_new(object, "promised", promised);
    return object;
}

static json_t *windows_json(const ln_monitor_report *report)
{
    json_t *windows = json_array();
    char text[32];

    for (size_t w = 0; w < report->n_windows; w++) {
        const ln_monitor_window *window = &report->windows[w];
        json_t *object = json_object();
        monitor_format_time(window->start, text, sizeof text);
        json_object_set_new(object, "start", json_string(text));
        monitor_format_time(window->end, text, sizeof text);
        json_object_set_new(object, "end", json_string(text));
        json_object_set_new(object, "rows", json_integer((json_int_t)window->rows));
        json_object_set_new(object, "score_psi", number_or_null(window->score_psi));
        json_object_set_new(object, "mean_score", number_or_null(window->mean_score));
        json_object_set_new(object, "flag_rate", number_or_null(window->flag_rate));
        json_object_set_new(object, "labeled", json_integer((json_int_t)window->labeled));
        json_object_set_new(object, "positive_rate", number_or_null(window->positive_rate));
        json_object_set_new(object, "auc", number_or_null(window->auc));
        json_object_set_new(object, "ece", number_or_null(window->ece));
        json_object_set_new(object, "payoff", number_or_null(window->payoff));
        json_object_set_new(object, "payoff_per_1000", number_or_null(window->payoff_per_1000));
        json_array_append_new(windows, object);
    }
    return windows;
}

static json_t *alerts_json(const ln_monitor_report *report)
{
    json_t *alerts = json_array();

    for (size_t i = 0; i < report->n_alerts; i++) {
        const ln_monitor_alert *alert = &report->alerts[i];
        json_t *object = json_object();
        json_object_set_new(object, "kind", json_string(alert->kind));
        json_object_set_new(object, "subject", alert->subject[0] ? json_string(alert->subject) : json_null());
        json_object_set_new(object, "figure", number_or_null(alert->figure));
        json_object_set_new(object, "threshold", number_or_null(alert->threshold));
        json_object_set_new(object, "message", json_string(alert->message));
        json_array_append_new(alerts, object);
    }
    return alerts;
}

static json_t *thresholds_json(const ln_monitor_thresholds *thresholds)
{
    json_t *object = json_object();

    json_object_set_new(object, "psi_max", number_or_null(thresholds->psi_max));
    json_object_set_new(object, "score_psi_max", number_or_null(thresholds->score_psi_max));
    json_object_set_new(object, "auc_min", number_or_null(thresholds->auc_min));
    json_object_set_new(object, "payoff_drop_max", number_or_null(thresholds->payoff_drop_max));
    return object;
}

json_t *ln_monitor_report_to_json(const ln_monitor_report *report)
{
    json_t *root = json_object();
    char text[32];

    json_object_set_new(root, "rows", json_integer((json_int_t)report->rows));
    monitor_format_time(report->first_time, text, sizeof text);
    json_object_set_new(root, "from", isnan(report->first_time) ? json_null() : json_string(text));
    monitor_format_time(report->last_time, text, sizeof text);
    json_object_set_new(root, "to", isnan(report->last_time) ? json_null() : json_string(text));
    json_object_set_new(root, "rows_without_time", json_integer((json_int_t)report->rows_without_time));
    json_object_set_new(root, "reference_rows", json_integer((json_int_t)report->reference->train_rows));

    json_t *features = json_array();
    for (size_t f = 0; f < report->n_features; f++)
        json_array_append_new(features, drift_json(&report->features[f]));
    json_object_set_new(root, "features", features);
    json_object_set_new(root, "score", drift_json(&report->score));
    json_t *decision = drift_json(&report->decision);
    json_object_set_new(decision, "reference_flag_rate", number_or_null(report->reference_flag_rate));
    json_object_set_new(decision, "current_flag_rate", number_or_null(report->current_flag_rate));
    json_object_set_new(root, "decision", decision);

    json_object_set_new(root, "contract", report->contract ? ln_validation_to_json(report->contract) : json_null());
    json_object_set_new(root, "outcomes", report->has_labels ? outcomes_json(report) : json_null());
    json_object_set_new(root, "windows", windows_json(report));
    json_object_set_new(root, "thresholds", thresholds_json(&report->thresholds));
    json_object_set_new(root, "alerts", alerts_json(report));

    json_t *notes = json_array();
    for (size_t i = 0; i < report->n_notes; i++)
        json_array_append_new(notes, json_string(report->notes[i]));
    json_object_set_new(root, "notes", notes);
    return root;
}
