/*
 * The monitoring report as one self-contained HTML page: alerts, the trend
 * per window as line charts, and per feature the reference and current
 * distributions as paired bars, sorted by drift. Inline CSS and SVG only.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/io.h"
#include "lanner/monitor.h"
#include "monitor/monitor_internal.h"

/* Bins drawn per feature chart; the rest of a long category list is summarised in a line. */
#define HTML_MAX_BARS 40

#define REFERENCE_COLOR "#9ca3af"
#define CURRENT_COLOR "#2563eb"

static void escaped(FILE *out, const char *text)
{
    for (; *text; text++) {
        switch (*text) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*text, out);
        }
    }
}

static void figure(FILE *out, const char *format, double value)
{
    if (isnan(value))
        fputs("-", out);
    else
        fprintf(out, format, value);
}

static void page_head(FILE *out, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>", out);
    escaped(out, title);
    fputs("</title><style>\n"
          "body{font-family:system-ui,sans-serif;margin:24px;color:#111827;max-width:1200px}\n"
          "h1{font-size:22px}h2{font-size:18px;margin-top:28px}h3{font-size:15px;margin:18px 0 4px}\n"
          "table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #e5e7eb;"
          "text-align:right}th:first-child,td:first-child{text-align:left}\n"
          ".alert{background:#fef2f2;border-left:4px solid #dc2626;padding:6px 10px;margin:4px 0}\n"
          ".ok{background:#f0fdf4;border-left:4px solid #16a34a;padding:6px 10px}\n"
          ".charts{display:flex;flex-wrap:wrap;gap:16px}.muted{color:#6b7280;font-size:13px}\n"
          "svg text{font-size:11px;fill:#374151}\n"
          "</style></head><body>\n<h1>", out);
    escaped(out, title);
    fputs("</h1>\n", out);
}

static void summary(FILE *out, const ln_monitor_report *report)
{
    char first[32], last[32];

    monitor_format_time(report->first_time, first, sizeof first);
    monitor_format_time(report->last_time, last, sizeof last);
    fprintf(out, "<p>%zu current rows", report->rows);
    if (!isnan(report->first_time))
        fprintf(out, " from %s to %s", first, last);
    fprintf(out, ", compared with %zu train rows and %zu valid rows of the model's run. ",
            report->reference->train_rows, report->reference->valid_rows);
    fputs("Score PSI ", out);
    figure(out, "%.4f", report->score.psi);
    fputs(", flag rate ", out);
    figure(out, "%.2f%%", report->current_flag_rate * 100);
    fputs(" (valid: ", out);
    figure(out, "%.2f%%", report->reference_flag_rate * 100);
    fputs(").</p>\n<h2>Alerts</h2>\n", out);

    if (report->n_alerts == 0)
        fputs("<div class=\"ok\">No alert fired.</div>\n", out);
    for (size_t i = 0; i < report->n_alerts; i++) {
        fputs("<div class=\"alert\">", out);
        escaped(out, report->alerts[i].message);
        fputs("</div>\n", out);
    }
    for (size_t i = 0; i < report->n_notes; i++) {
        fputs("<p class=\"muted\">", out);
        escaped(out, report->notes[i]);
        fputs("</p>\n", out);
    }
}

/* One line chart of a per-window figure; NaN points break the line. */
static void trend_chart(FILE *out, const ln_monitor_report *report, const char *title, size_t offset, double scale)
{
    const double width = 370, height = 200, left = 62, right = 12, top = 24, bottom = 40;
    double low = INFINITY, high = -INFINITY;

    for (size_t w = 0; w < report->n_windows; w++) {
        double value = *(const double *)((const char *)&report->windows[w] + offset) * scale;
        if (isfinite(value)) {
            low = fmin(low, value);
            high = fmax(high, value);
        }
    }
    fprintf(out, "<svg width=\"%.0f\" height=\"%.0f\" role=\"img\"><title>", width, height);
    escaped(out, title);
    fprintf(out, "</title><text x=\"%.0f\" y=\"14\" font-weight=\"bold\">", left);
    escaped(out, title);
    fputs("</text>", out);
    if (!isfinite(low)) {
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\">no data</text></svg>\n", left, height / 2);
        return;
    }
    if (!(high > low)) {
        low -= fabs(low) * 0.1 + 0.01;
        high += fabs(high) * 0.1 + 0.01;
    }
    double plot_width = width - left - right, plot_height = height - top - bottom;
    size_t n = report->n_windows;
    fprintf(out, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#d1d5db\"/>",
            left, top, plot_width, plot_height);
    fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>", left - 4, top + 4, high);
    fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>", left - 4, top + plot_height, low);

    char day[32];
    for (int end = 0; end < 2; end++) {
        size_t w = end ? n - 1 : 0;
        monitor_format_time(report->windows[w].start, day, sizeof day);
        fprintf(out, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"%s\">%.16s</text>",
                left + (n > 1 ? plot_width * (double)w / (double)(n - 1) : plot_width / 2), height - bottom + 16,
                end ? "end" : "start", day);
    }

    int open = 0;
    for (size_t w = 0; w < n; w++) {
        double value = *(const double *)((const char *)&report->windows[w] + offset) * scale;
        double x = left + (n > 1 ? plot_width * (double)w / (double)(n - 1) : plot_width / 2);
        if (!isfinite(value)) {
            if (open)
                fputs("\"/>", out);
            open = 0;
            continue;
        }
        double y = top + plot_height - (value - low) / (high - low) * plot_height;
        if (!open)
            fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", CURRENT_COLOR);
        fprintf(out, "%.1f,%.1f ", x, y);
        open = 1;
    }
    if (open)
        fputs("\"/>", out);
    for (size_t w = 0; w < n; w++) {
        double value = *(const double *)((const char *)&report->windows[w] + offset) * scale;
        if (!isfinite(value))
            continue;
        double x = left + (n > 1 ? plot_width * (double)w / (double)(n - 1) : plot_width / 2);
        double y = top + plot_height - (value - low) / (high - low) * plot_height;
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", x, y, CURRENT_COLOR);
    }
    fputs("</svg>\n", out);
}

static void trend(FILE *out, const ln_monitor_report *report)
{
    if (report->n_windows == 0)
        return;
    fputs("<h2>Trend per window</h2>\n<div class=\"charts\">\n", out);
    trend_chart(out, report, "Score PSI", offsetof(ln_monitor_window, score_psi), 1);
    trend_chart(out, report, "Flag rate (%)", offsetof(ln_monitor_window, flag_rate), 100);
    trend_chart(out, report, "Mean score", offsetof(ln_monitor_window, mean_score), 1);
    if (report->has_labels) {
        trend_chart(out, report, "Realised ROC AUC", offsetof(ln_monitor_window, auc), 1);
        trend_chart(out, report, "Payoff per 1,000 rows", offsetof(ln_monitor_window, payoff_per_1000), 1);
    }
    fputs("</div>\n", out);
}

static void outcomes(FILE *out, const ln_monitor_report *report)
{
    const ln_monitor_outcomes *o = &report->outcomes;
    const ln_reference *reference = report->reference;

    if (!report->has_labels)
        return;
    fprintf(out, "<h2>Realised outcomes</h2>\n<p>%zu labeled rows; %zu without a label yet are left out.</p>\n",
            o->labeled, o->unlabeled);
    fputs("<table><tr><th></th><th>realised</th><th>valid promised</th></tr>\n<tr><td>ROC AUC</td><td>", out);
    figure(out, "%.4f", o->auc);
    fputs("</td><td>", out);
    figure(out, "%.4f", reference->valid_auc);
    fputs("</td></tr>\n<tr><td>Calibration error</td><td>", out);
    figure(out, "%.4f", o->ece);
    fputs("</td><td>", out);
    figure(out, "%.4f", reference->valid_ece);
    fputs("</td></tr>\n<tr><td>Flag rate</td><td>", out);
    figure(out, "%.2f%%", o->flag_rate * 100);
    fputs("</td><td>", out);
    figure(out, "%.2f%%", reference->valid_flag_rate * 100);
    fputs("</td></tr>\n<tr><td>Payoff per 1,000 rows</td><td>", out);
    figure(out, "%.2f", o->payoff_per_1000);
    fputs("</td><td>", out);
    figure(out, "%.2f", reference->valid_payoff_per_1000);
    fputs("</td></tr>\n</table>\n", out);
}

/* Paired bars: the reference share in grey, the current share in blue, per bin. */
static void bar_chart(FILE *out, const ln_drift *drift)
{
    size_t shown[HTML_MAX_BARS];
    size_t n = 0, hidden = 0;
    double top_share = 0;

    for (size_t b = 0; b < drift->n_bins; b++) {
        double r = isnan(drift->reference_share[b]) ? 0 : drift->reference_share[b];
        double c = isnan(drift->current_share[b]) ? 0 : drift->current_share[b];
        if (r <= 0 && c <= 0)
            continue;
        if (n == HTML_MAX_BARS) {
            hidden++;
            continue;
        }
        shown[n++] = b;
        top_share = fmax(top_share, fmax(r, c));
    }
    if (n == 0 || !(top_share > 0)) {
        fputs("<p class=\"muted\">No values.</p>\n", out);
        return;
    }

    const double group = 26, left = 80, top = 10, plot_height = 150, label_space = 110;
    double width = left + group * (double)n + 10;
    fprintf(out, "<svg width=\"%.0f\" height=\"%.0f\" role=\"img\"><title>", width, top + plot_height + label_space);
    escaped(out, drift->name);
    fputs(": reference and current shares per bin</title>", out);
    fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0f%%</text>", left - 4, top + 8, top_share * 100);
    fprintf(out, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#6b7280\"/>", left,
            top + plot_height, width - 10, top + plot_height);
    for (size_t i = 0; i < n; i++) {
        size_t b = shown[i];
        double x = left + group * (double)i;
        double shares[2] = {drift->reference_share[b], drift->current_share[b]};
        for (int side = 0; side < 2; side++) {
            double share = isnan(shares[side]) ? 0 : shares[side];
            double h = share / top_share * plot_height;
            fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"%.1f\" fill=\"%s\"><title>", x + 2 + 11 * side,
                    top + plot_height - h, h, side ? CURRENT_COLOR : REFERENCE_COLOR);
            escaped(out, drift->bin_labels[b]);
            fprintf(out, ": %s %.2f%%</title></rect>", side ? "current" : "reference", share * 100);
        }
        fprintf(out, "<text transform=\"translate(%.1f,%.1f) rotate(-60)\" text-anchor=\"end\">", x + 13,
                top + plot_height + 12);
        char label[40];
        snprintf(label, sizeof label, "%.24s", drift->bin_labels[b]);
        escaped(out, label);
        fputs("</text>", out);
    }
    fputs("</svg>\n", out);
    if (hidden > 0)
        fprintf(out, "<p class=\"muted\">%zu more bins are not drawn.</p>\n", hidden);
}

static void feature_section(FILE *out, const ln_drift *drift)
{
    fputs("<h3>", out);
    escaped(out, drift->name);
    fputs("</h3>\n<p class=\"muted\">PSI ", out);
    figure(out, "%.4f", drift->psi);
    if (drift->categorical) {
        fputs(", Jensen-Shannon distance ", out);
        figure(out, "%.4f", drift->js_distance);
        fputs(", chi-square p-value ", out);
        figure(out, "%.3g", drift->chi2.p_value);
    } else {
        fputs(", KS statistic (binned) ", out);
        figure(out, "%.4f", drift->ks.statistic);
        fputs(", p-value ", out);
        figure(out, "%.3g", drift->ks.p_value);
    }
    fprintf(out, ", missing %.2f%% in training, %.2f%% now", drift->reference_missing_share * 100,
            drift->current_missing_share * 100);
    if (drift->n_new > 0) {
        fprintf(out, ", %zu values never seen in training (%.2f%% of rows): ", drift->n_new, drift->new_share * 100);
        for (size_t i = 0; i < drift->n_new_listed && i < 5; i++) {
            fputs(i ? ", " : "", out);
            escaped(out, drift->new_values[i]);
        }
    }
    fputs(".</p>\n", out);
    bar_chart(out, drift);
}

static void features(FILE *out, const ln_monitor_report *report)
{
    fprintf(out, "<h2>Distributions, by drift</h2>\n<p class=\"muted\"><span style=\"color:%s\">&#9632;</span> "
                 "train split (valid split for the score) &nbsp; <span style=\"color:%s\">&#9632;</span> current</p>\n",
            REFERENCE_COLOR, CURRENT_COLOR);
    feature_section(out, &report->score);
    for (size_t f = 0; f < report->n_features; f++)
        feature_section(out, &report->features[f]);
}

ln_status ln_monitor_write_html(const ln_monitor_report *report, const char *title, const char *path,
                                ln_error *err)
{
    char *data = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&data, &size);

    if (out == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory writing %s", path);
    page_head(out, title);
    summary(out, report);
    trend(out, report);
    outcomes(out, report);
    features(out, report);
    fputs("</body></html>\n", out);
    int failed = ferror(out);
    fclose(out);

    ln_status status = failed ? ln_error_set(err, LN_ERR_NOMEM, "out of memory writing %s", path)
                              : ln_write_file_atomic(path, data, size, err);
    free(data);
    return status;
}
