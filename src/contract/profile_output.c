/*
 * A profile as aligned text, JSON and a self-contained HTML page.
 */
#include <math.h>
#include <string.h>

#include "contract/contract_internal.h"
#include "lanner/io.h"

/* Bytes of one HTML profile page; a page is a few kilobytes per column. */
#define PROFILE_HTML_MAX_BYTES (256u << 20)

static size_t other_count(const ln_column_profile *column, size_t shown)
{
    size_t listed = 0;

    for (size_t i = 0; i < shown; i++)
        listed += column->categories[i].count;
    return column->count - column->missing - listed;
}

static size_t shown_categories(const ln_column_profile *column)
{
    return column->n_categories < LN_PROFILE_TOP_CATEGORIES ? column->n_categories : LN_PROFILE_TOP_CATEGORIES;
}

void ln_profile_print(const ln_profile *profile, FILE *out)
{
    size_t width = 6;

    for (size_t c = 0; c < profile->n_cols; c++) {
        size_t length = strlen(profile->columns[c].name);
        if (length > width)
            width = length < 40 ? length : 40;
    }

    fprintf(out, "%zu rows x %zu columns", profile->n_rows, profile->n_cols);
    if (profile->target != NULL)
        fprintf(out, "; target %s = %s: %zu positives of %zu (%.2f%%)", profile->target, profile->positive,
                profile->positives, profile->target_rows, 100.0 * profile->positive_rate);
    fprintf(out, "\n%-*s %-9s %8s %9s %12s %12s %12s %12s %12s", (int)width, "column", "type", "missing",
            "distinct", "min", "median", "max", "mean", "std");
    if (profile->target != NULL)
        fprintf(out, " %6s", "AUC");
    fprintf(out, "  top value\n");

    for (size_t c = 0; c < profile->n_cols; c++) {
        const ln_column_profile *column = &profile->columns[c];
        char min[32], median[32], max[32], mean[32], std[32], missing[16];

        contract_format_stat(column->type, column->min, min, sizeof min);
        contract_format_stat(column->type, column->quantiles[3], median, sizeof median);
        contract_format_stat(column->type, column->max, max, sizeof max);
        contract_format_stat(LN_TYPE_FLOAT, column->type == LN_TYPE_TIMESTAMP ? NAN : column->mean, mean,
                             sizeof mean);
        contract_format_stat(LN_TYPE_FLOAT, column->type == LN_TYPE_TIMESTAMP ? NAN : column->std, std, sizeof std);
        snprintf(missing, sizeof missing, "%.1f%%", 100.0 * column->missing_share);

        fprintf(out, "%-*s %-9s %8s %9zu %12s %12s %12s %12s %12s", (int)width, column->name,
                ln_type_name(column->type), missing, column->distinct, min, median, max, mean, std);
        if (profile->target != NULL) {
            if (isnan(column->auc))
                fprintf(out, " %6s", "-");
            else
                fprintf(out, " %5.3f%s", column->auc, column->auc_direction > 0 ? "+" : "-");
        }
        if (column->n_categories > 0)
            fprintf(out, "  %s (%.1f%%)", column->categories[0].value, 100.0 * column->categories[0].share);
        if (column->positive_infinite + column->negative_infinite > 0)
            fprintf(out, "  %zu infinite", column->positive_infinite + column->negative_infinite);
        fprintf(out, "\n");
    }
}

static json_t *numeric_json(const ln_column_profile *column)
{
    json_t *object = json_object();
    json_t *quantiles = json_object();
    json_t *bins = json_array();
    char label[16];

    json_object_set_new(object, "finite", json_integer((json_int_t)column->finite));
    json_object_set_new(object, "positive_infinite", json_integer((json_int_t)column->positive_infinite));
    json_object_set_new(object, "negative_infinite", json_integer((json_int_t)column->negative_infinite));
    json_object_set_new(object, "min", contract_json_number(column->min));
    json_object_set_new(object, "max", contract_json_number(column->max));
    json_object_set_new(object, "mean", contract_json_number(column->mean));
    json_object_set_new(object, "std", contract_json_number(column->std));
    for (int q = 0; q < LN_PROFILE_N_QUANTILES; q++) {
        snprintf(label, sizeof label, "p%g", 100.0 * ln_profile_quantile_levels[q]);
        json_object_set_new(quantiles, label, contract_json_number(column->quantiles[q]));
    }
    json_object_set_new(object, "quantiles", quantiles);
    for (int b = 0; b < LN_PROFILE_HISTOGRAM_BINS && column->finite > 0; b++)
        json_array_append_new(bins, json_integer((json_int_t)column->histogram[b]));
    json_object_set_new(object, "histogram", bins);
    return object;
}

static json_t *categories_json(const ln_column_profile *column)
{
    json_t *top = json_array();
    size_t shown = shown_categories(column);
    size_t present = column->count - column->missing;

    for (size_t i = 0; i < shown; i++) {
        const ln_category_count *category = &column->categories[i];
        json_t *entry = json_object();
        json_object_set_new(entry, "value", json_string(category->value));
        json_object_set_new(entry, "count", json_integer((json_int_t)category->count));
        json_object_set_new(entry, "share", json_real(category->share));
        if (!isnan(category->positive_rate))
            json_object_set_new(entry, "positive_rate", json_real(category->positive_rate));
        json_array_append_new(top, entry);
    }
    size_t other = other_count(column, shown);
    if (other > 0) {
        json_t *entry = json_object();
        json_object_set_new(entry, "other", json_true());
        json_object_set_new(entry, "count", json_integer((json_int_t)other));
        json_object_set_new(entry, "share", json_real((double)other / (double)present));
        json_array_append_new(top, entry);
    }
    return top;
}

static json_t *column_json(const ln_column_profile *column, int has_target)
{
    json_t *object = json_object();

    json_object_set_new(object, "name", json_string(column->name));
    json_object_set_new(object, "type", json_string(ln_type_name(column->type)));
    json_object_set_new(object, "count", json_integer((json_int_t)column->count));
    json_object_set_new(object, "missing", json_integer((json_int_t)column->missing));
    json_object_set_new(object, "missing_share", json_real(column->missing_share));
    json_object_set_new(object, "distinct", json_integer((json_int_t)column->distinct));
    if (ln_type_is_numeric(column->type))
        json_object_update_new(object, numeric_json(column));
    else
        json_object_set_new(object, "top", categories_json(column));
    if (has_target) {
        json_object_set_new(object, "auc", contract_json_number(column->auc));
        json_object_set_new(object, "auc_direction",
                            column->auc_direction == 0 ? json_null()
                                                       : json_string(column->auc_direction > 0 ? "higher" : "lower"));
    }
    return object;
}

json_t *ln_profile_to_json(const ln_profile *profile)
{
    json_t *root = json_object();
    json_t *columns = json_array();

    if (root == NULL || columns == NULL) {
        json_decref(root);
        json_decref(columns);
        return NULL;
    }
    json_object_set_new(root, "rows", json_integer((json_int_t)profile->n_rows));
    if (profile->target != NULL) {
        json_t *target = json_object();
        json_object_set_new(target, "column", json_string(profile->target));
        json_object_set_new(target, "positive", json_string(profile->positive));
        json_object_set_new(target, "rows", json_integer((json_int_t)profile->target_rows));
        json_object_set_new(target, "positives", json_integer((json_int_t)profile->positives));
        json_object_set_new(target, "positive_rate", contract_json_number(profile->positive_rate));
        json_object_set_new(target, "category_auc", json_string("out-of-fold, 5 folds by row number modulo 5"));
        json_object_set_new(root, "target", target);
    }
    for (size_t c = 0; c < profile->n_cols; c++)
        json_array_append_new(columns, column_json(&profile->columns[c], profile->target != NULL));
    json_object_set_new(root, "columns", columns);
    return root;
}

static void html_escaped(contract_text *html, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '&': APPEND_LITERAL(html, "&amp;"); break;
        case '<': APPEND_LITERAL(html, "&lt;"); break;
        case '>': APPEND_LITERAL(html, "&gt;"); break;
        case '"': APPEND_LITERAL(html, "&quot;"); break;
        case '\'': APPEND_LITERAL(html, "&#39;"); break;
        default: contract_text_append(html, p, 1); break;
        }
    }
}

#define CHART_WIDTH 360
#define CHART_HEIGHT 120

static void html_histogram(contract_text *html, const ln_column_profile *column)
{
    char low[32], high[32];
    size_t peak = 1;

    contract_text_printf(html, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">", CHART_WIDTH,
                         CHART_HEIGHT + 16, CHART_WIDTH, CHART_HEIGHT + 16);
    for (int b = 0; b < LN_PROFILE_HISTOGRAM_BINS; b++)
        peak = column->histogram[b] > peak ? column->histogram[b] : peak;
    double bar = (double)CHART_WIDTH / LN_PROFILE_HISTOGRAM_BINS;
    for (int b = 0; b < LN_PROFILE_HISTOGRAM_BINS && column->finite > 0; b++) {
        double height = (double)CHART_HEIGHT * (double)column->histogram[b] / (double)peak;
        contract_text_printf(html,
                             "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%zu</title></rect>",
                             b * bar + 1, CHART_HEIGHT - height, bar - 2, height, column->histogram[b]);
    }
    contract_format_stat(column->type, column->min, low, sizeof low);
    contract_format_stat(column->type, column->max, high, sizeof high);
    contract_text_printf(html, "<text x=\"0\" y=\"%d\">", CHART_HEIGHT + 13);
    html_escaped(html, low);
    contract_text_printf(html, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", CHART_WIDTH, CHART_HEIGHT + 13);
    html_escaped(html, high);
    APPEND_LITERAL(html, "</text></svg>");
}

static void html_bars(contract_text *html, const ln_column_profile *column)
{
    size_t shown = shown_categories(column);
    size_t other = other_count(column, shown);
    size_t rows = shown + (other > 0);
    int row_height = 16;
    size_t present = column->count - column->missing;

    contract_text_printf(html, "<svg width=\"%d\" height=\"%zu\" viewBox=\"0 0 %d %zu\" role=\"img\">", CHART_WIDTH,
                         rows * (size_t)row_height + 4, CHART_WIDTH, rows * (size_t)row_height + 4);
    for (size_t i = 0; i < rows; i++) {
        int is_other = i == shown;
        double share = is_other ? (double)other / (double)present : column->categories[i].share;
        double y = (double)i * row_height;
        contract_text_printf(html, "<rect x=\"150\" y=\"%.0f\" width=\"%.1f\" height=\"%d\"%s></rect>", y + 2,
                             share * (CHART_WIDTH - 200), row_height - 3, is_other ? " class=\"other\"" : "");
        contract_text_printf(html, "<text x=\"145\" y=\"%.0f\" text-anchor=\"end\">", y + 13);
        if (is_other) {
            APPEND_LITERAL(html, "(other)");
        } else {
            /* Long values are cut for the label; the full value is in the tooltip. */
            char label[24];
            snprintf(label, sizeof label, "%s", column->categories[i].value);
            html_escaped(html, label);
        }
        contract_text_printf(html, "</text><text x=\"%.1f\" y=\"%.0f\">%.1f%%</text>",
                             150 + share * (CHART_WIDTH - 200) + 4, y + 13, 100.0 * share);
    }
    APPEND_LITERAL(html, "</svg>");
}

static void html_stat(contract_text *html, const char *name, const char *value)
{
    contract_text_printf(html, "<tr><th>%s</th><td>", name);
    html_escaped(html, value);
    APPEND_LITERAL(html, "</td></tr>");
}

static void html_column(contract_text *html, const ln_column_profile *column, int has_target)
{
    char value[64];

    APPEND_LITERAL(html, "<section><h2>");
    html_escaped(html, column->name);
    contract_text_printf(html, " <small>%s</small></h2><div class=\"row\"><table>", ln_type_name(column->type));
    snprintf(value, sizeof value, "%zu (%.2f%%)", column->missing, 100.0 * column->missing_share);
    html_stat(html, "missing", value);
    snprintf(value, sizeof value, "%zu", column->distinct);
    html_stat(html, "distinct", value);

    if (ln_type_is_numeric(column->type)) {
        static const char *const names[] = {"min", "p1", "p5", "p25", "median", "p75", "p95", "p99", "max"};
        double stats[] = {column->min,          column->quantiles[0], column->quantiles[1],
                          column->quantiles[2], column->quantiles[3], column->quantiles[4],
                          column->quantiles[5], column->quantiles[6], column->max};
        for (size_t i = 0; i < sizeof stats / sizeof stats[0]; i++) {
            contract_format_stat(column->type, stats[i], value, sizeof value);
            html_stat(html, names[i], value);
        }
        if (column->type != LN_TYPE_TIMESTAMP) {
            contract_format_stat(LN_TYPE_FLOAT, column->mean, value, sizeof value);
            html_stat(html, "mean", value);
            contract_format_stat(LN_TYPE_FLOAT, column->std, value, sizeof value);
            html_stat(html, "std", value);
        }
        if (column->positive_infinite + column->negative_infinite > 0) {
            snprintf(value, sizeof value, "%zu", column->positive_infinite + column->negative_infinite);
            html_stat(html, "infinite", value);
        }
    }
    if (has_target) {
        if (isnan(column->auc))
            snprintf(value, sizeof value, "-");
        else
            snprintf(value, sizeof value, "%.3f (%s)", column->auc, column->auc_direction > 0 ? "higher" : "lower");
        html_stat(html, "AUC", value);
    }
    APPEND_LITERAL(html, "</table>");
    if (ln_type_is_numeric(column->type))
        html_histogram(html, column);
    else
        html_bars(html, column);
    APPEND_LITERAL(html, "</div></section>\n");
}

static const char html_style[] =
    "<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
    "h1{font-size:1.4em}h2{font-size:1.1em;margin:0 0 .4em}small{color:#777;font-weight:normal}"
    "section{border-top:1px solid #ddd;padding:1em 0}.row{display:flex;gap:2em;align-items:flex-start}"
    "table{border-collapse:collapse;min-width:16em}th{text-align:left;color:#555;font-weight:normal;"
    "padding-right:1em}td{text-align:right;font-variant-numeric:tabular-nums}"
    "rect{fill:#4a78b5}rect.other{fill:#aaa}text{font-size:11px;fill:#444}</style>";

ln_status ln_profile_write_html(const ln_profile *profile, const char *path, const char *title, ln_error *err)
{
    contract_text html = {.max_bytes = PROFILE_HTML_MAX_BYTES};

    APPEND_LITERAL(&html, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    html_escaped(&html, title != NULL ? title : "profile");
    contract_text_printf(&html, "</title>%s</head><body><h1>", html_style);
    html_escaped(&html, title != NULL ? title : "profile");
    contract_text_printf(&html, "</h1><p>%zu rows, %zu columns", profile->n_rows, profile->n_cols);
    if (profile->target != NULL) {
        APPEND_LITERAL(&html, "; target ");
        html_escaped(&html, profile->target);
        APPEND_LITERAL(&html, " = ");
        html_escaped(&html, profile->positive);
        contract_text_printf(&html, ": positive rate %.2f%% (%zu of %zu)", 100.0 * profile->positive_rate,
                             profile->positives, profile->target_rows);
    }
    APPEND_LITERAL(&html, "</p>\n");
    for (size_t c = 0; c < profile->n_cols; c++)
        html_column(&html, &profile->columns[c], profile->target != NULL);
    APPEND_LITERAL(&html, "</body></html>\n");

    if (html.failed) {
        contract_text_free(&html);
        return ln_error_set(err, LN_ERR_LIMIT, "%s: the HTML profile would exceed %u MiB (out of memory or too many columns)",
                            path, PROFILE_HTML_MAX_BYTES >> 20);
    }
    ln_status status = ln_write_file_atomic(path, html.data, html.length, err);
    contract_text_free(&html);
    return status;
}
