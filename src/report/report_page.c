/*
 * The report's text sections: page head and style, headline, decision
 * policy, comparison table, data and footer. Every string from the input is
 * escaped; every number goes through the report_format_* functions.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report/report_internal.h"

#define EM_DASH "\xe2\x80\x94"

static const char PAGE_STYLE[] =
    "body{margin:0;background:#f6f7f9;color:#1f2933;font:15px/1.5 system-ui,-apple-system,'Segoe UI',"
    "Roboto,'Helvetica Neue',Arial,sans-serif}"
    "main{max-width:1100px;margin:0 auto;padding:24px 28px 40px}"
    "h1{font-size:26px;margin:8px 0 2px}h2{font-size:20px;margin:32px 0 10px;padding-bottom:4px;"
    "border-bottom:2px solid #d9dee5}h3{font-size:15px;margin:0 0 2px}"
    ".sub{color:#52606d;margin:0 0 12px}"
    ".headline{font-size:19px;line-height:1.45;background:#fff;border-left:6px solid #2563eb;"
    "padding:14px 18px;margin:8px 0 6px;border-radius:4px}"
    ".headline.loss{border-left-color:#dc2626}.note{color:#52606d;font-size:13.5px}"
    "table{border-collapse:collapse;background:#fff;margin:6px 0 10px;font-variant-numeric:tabular-nums}"
    "th,td{border:1px solid #d9dee5;padding:5px 10px;text-align:left;vertical-align:top}"
    "td.num,th.num{text-align:right}thead th{background:#eef1f5}td.best{font-weight:700}"
    "tr.regression td{background:#fde8e8;color:#9b1c1c}ul.intervals{background:#fff;padding:8px 8px 8px 28px;"
    "border-radius:4px}"
    "code{font:13px/1.4 ui-monospace,Menlo,Consolas,monospace;background:#eef1f5;padding:1px 4px;"
    "border-radius:3px;word-break:break-word}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:16px}"
    "figure{margin:0;background:#fff;border:1px solid #d9dee5;border-radius:4px;padding:12px 12px 6px}"
    "figcaption p{margin:0 0 6px;color:#52606d;font-size:13.5px}"
    "svg.chart{width:100%;height:auto;display:block;font-size:11.5px;fill:#3e4c59}"
    "svg .axis-title{font-size:12.5px;fill:#1f2933}svg .legend{font-size:12px}"
    "svg .missing{font-size:14px;fill:#52606d}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0}dt{color:#52606d}"
    "dd{margin:0;word-break:break-word}"
    "footer{margin-top:36px;padding-top:10px;border-top:1px solid #d9dee5;color:#52606d;font-size:13px}";

size_t report_count_positives(const double *labels, size_t rows)
{
    size_t positives = 0;
    for (size_t i = 0; labels != NULL && i < rows; i++) {
        positives += labels[i] == 1;
    }
    return positives;
}

/* Rates under 1% get two decimals so that 0.4% does not print as 0.0%. */
static char *format_rate(char out[REPORT_NUMBER_MAX], double fraction)
{
    int decimals = isfinite(fraction) && fabs(fraction) < 0.01 && fraction != 0 ? 2 : 1;
    return report_format_percent(out, fraction, decimals);
}

static int has_capacity_limit(const ln_report_input *input)
{
    return isfinite(input->max_flag_rate) && input->max_flag_rate >= 0 && input->max_flag_rate < 1;
}

static const char *policy_label(const ln_policy_summary *policy, const char *fallback)
{
    return policy->label != NULL ? policy->label : fallback;
}

void report_section_head(report_buf *buf, const ln_report_input *input)
{
    report_buf_puts(buf, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    report_buf_escaped(buf, input->pipeline_name);
    report_buf_puts(buf, " " EM_DASH " lanner run report</title>\n<style>");
    report_buf_puts(buf, PAGE_STYLE);
    report_buf_puts(buf, "</style>\n</head>\n<body>\n<main>\n<h1>Run report: ");
    report_buf_escaped(buf, input->pipeline_name);
    report_buf_puts(buf, "</h1>\n<p class=\"sub\">Predicts <code>");
    report_buf_escaped(buf, input->target);
    report_buf_puts(buf, "</code> = <code>");
    report_buf_escaped(buf, input->positive_label);
    report_buf_puts(buf, "</code> with the ");
    report_buf_escaped(buf, input->learner);
    report_buf_puts(buf, " learner. Created ");
    report_buf_escaped(buf, input->created_at);
    report_buf_puts(buf, ".</p>\n");
}

static int is_zero_text(const char *text)
{
    return text[strspn(text, "0.,")] == '\0';
}

/* Appends "<verb>1,234 more than <against>", or "less", or "the same as". The verb is "earns " or "". */
static void append_gain(report_buf *buf, const char *verb, double gain, const char *against)
{
    char number[REPORT_NUMBER_MAX];
    report_format_payoff(number, fabs(gain));

    if (!isfinite(gain)) {
        report_buf_puts(buf, "cannot be compared with ");
    } else if (is_zero_text(number)) {
        report_buf_printf(buf, "%sthe same as ", verb);
    } else {
        report_buf_printf(buf, "%s%s %s than ", verb, number, gain > 0 ? "more" : "less");
    }
    report_buf_escaped(buf, against);
}

static void append_policy_counts(report_buf *buf, const char *subject, const ln_policy_summary *policy,
                                 size_t positives)
{
    char flagged[REPORT_NUMBER_MAX], rate[REPORT_NUMBER_MAX], found[REPORT_NUMBER_MAX];
    report_format_count(flagged, policy->flagged);
    format_rate(rate, policy->flag_rate);
    report_format_count(found, policy->true_positives);

    report_buf_printf(buf, "%s flags %s rows (%s) and catches %s", subject, flagged, rate, found);
    if (positives > 0) {
        char total[REPORT_NUMBER_MAX];
        report_buf_printf(buf, " of the %s positive rows", report_format_count(total, positives));
    } else {
        report_buf_puts(buf, " positive rows");
    }
}

void report_section_headline(report_buf *buf, const ln_report_input *input)
{
    report_buf_puts(buf, "<section id=\"result\">\n<h2>Result</h2>\n");
    if (input->rows_test == 0) {
        report_buf_puts(buf, "<p class=\"headline loss\">The test split has no rows, so this report cannot compare "
                             "the model with the rule in use.</p>\n</section>\n");
        return;
    }

    double gain_over_rule = input->model.payoff - input->baseline.payoff;
    double gain_per_1000 = input->model.payoff_per_1000 - input->baseline.payoff_per_1000;
    double gain_over_nothing = input->model.payoff - input->nothing.payoff;
    char rows[REPORT_NUMBER_MAX], per_1000[REPORT_NUMBER_MAX];
    report_format_count(rows, input->rows_test);

    report_buf_printf(buf, "<p class=\"headline%s\">On %s test rows the model ", gain_over_rule < 0 ? " loss" : "",
                      rows);
    append_gain(buf, "earns ", gain_over_rule, "the rule in use");
    if (isfinite(gain_per_1000)) {
        int decimals = report_payoff_decimals(gain_per_1000);
        report_buf_printf(buf, " (%s per 1,000 rows)", report_format_signed(per_1000, gain_per_1000, decimals));
    }
    report_buf_puts(buf, " and ");
    append_gain(buf, "", gain_over_nothing, "flagging nothing");
    report_buf_puts(buf, ".</p>\n");

    size_t positives = report_count_positives(input->test_labels, input->rows_test);
    report_buf_puts(buf, "<p>");
    append_policy_counts(buf, "The model", &input->model, positives);
    report_buf_puts(buf, "; ");
    append_policy_counts(buf, "the rule in use", &input->baseline, positives);
    report_buf_puts(buf, ".</p>\n<p class=\"note\">Payoffs are in payoff units: the unit that the payoff "
                         "expressions below compute, such as money or minutes saved.</p>\n</section>\n");
}

static void append_capacity(report_buf *buf, const ln_report_input *input)
{
    char limit[REPORT_NUMBER_MAX];
    if (has_capacity_limit(input)) {
        report_buf_printf(buf, "capacity limit %s", format_rate(limit, input->max_flag_rate));
    } else {
        report_buf_puts(buf, "no capacity limit");
    }
}

static void append_model_policy(report_buf *buf, const ln_report_input *input)
{
    const ln_policy_summary *model = &input->model;
    char threshold[REPORT_NUMBER_MAX], rate[REPORT_NUMBER_MAX];
    format_rate(rate, model->flag_rate);

    report_buf_puts(buf, "<p>");
    if (isnan(model->threshold)) {
        report_buf_printf(buf, "The model's decision threshold is unknown (it flags %s of test rows, ", rate);
    } else if (model->threshold == INFINITY) {
        report_buf_printf(buf, "The model flags no rows: no score reaches its threshold (it flags %s of test "
                               "rows, ", rate);
    } else if (model->threshold == -INFINITY) {
        report_buf_printf(buf, "The model flags every row (%s of test rows, ", rate);
    } else {
        report_format_significant(threshold, model->threshold, 4);
        report_buf_printf(buf, "Flag a row when the model's score is at least <strong>%s</strong> (flags %s of "
                               "test rows, ", threshold, rate);
    }
    append_capacity(buf, input);
    report_buf_puts(buf, "). The threshold was chosen on the valid split, and the test split shows how it "
                         "does on rows it has not seen.</p>\n");
}

static void append_rule(report_buf *buf, const ln_report_input *input)
{
    char rate[REPORT_NUMBER_MAX];
    report_buf_puts(buf, "<p>The rule in use flags a row when <code>");
    report_buf_escaped(buf, input->baseline_rule);
    report_buf_printf(buf, "</code> (flags %s of test rows).</p>\n", format_rate(rate, input->baseline.flag_rate));
}

static void append_payoff_table(report_buf *buf, const ln_report_input *input)
{
    static const char *const outcomes[4][2] = {
        {"True positive", "flagged, and the row is positive"},
        {"False positive", "flagged, but the row is negative"},
        {"False negative", "not flagged, but the row is positive"},
        {"True negative", "not flagged, and the row is negative"},
    };

    report_buf_puts(buf, "<table class=\"payoffs\">\n<thead><tr><th>Outcome</th><th>When</th>"
                         "<th>Payoff per row</th></tr></thead>\n<tbody>\n");
    for (int i = 0; i < 4; i++) {
        report_buf_printf(buf, "<tr><td>%s</td><td>%s</td><td><code>", outcomes[i][0], outcomes[i][1]);
        report_buf_escaped(buf, input->payoff_text[i]);
        report_buf_puts(buf, "</code></td></tr>\n");
    }
    report_buf_puts(buf, "</tbody>\n</table>\n");
}

void report_section_policy(report_buf *buf, const ln_report_input *input)
{
    report_buf_puts(buf, "<section id=\"policy\">\n<h2>Decision policy</h2>\n");
    append_model_policy(buf, input);
    append_rule(buf, input);
    report_buf_puts(buf, "<p>Each row's payoff depends on whether it was flagged and on its true label:</p>\n");
    append_payoff_table(buf, input);
    report_buf_puts(buf, "</section>\n");
}

/* Appends one table row, emphasizing column best unless best is -1. */
static void append_metric_row(report_buf *buf, const char *name, char values[3][REPORT_NUMBER_MAX], int best)
{
    report_buf_printf(buf, "<tr><th>%s</th>", name);
    for (int i = 0; i < 3; i++) {
        report_buf_printf(buf, "<td class=\"num%s\">%s</td>", i == best ? " best" : "", values[i]);
    }
    report_buf_puts(buf, "</tr>\n");
}

/* Returns the index of the largest finite value of three, or -1 when none is finite or two tie for the largest. */
static int index_of_max(const double values[3])
{
    int best = -1;
    for (int i = 0; i < 3; i++) {
        if (isfinite(values[i]) && (best < 0 || values[i] > values[best])) {
            best = i;
        }
    }
    for (int i = 0; best >= 0 && i < 3; i++) {
        if (i != best && values[i] == values[best]) {
            return -1;
        }
    }
    return best;
}

static void append_score_metrics(report_buf *buf, const ln_policy_summary *const policies[3])
{
    char values[3][REPORT_NUMBER_MAX];

    for (int i = 0; i < 3; i++) {
        report_format_fixed(values[i], policies[i]->auc, 3);
    }
    append_metric_row(buf, "ROC AUC", values, -1);

    for (int i = 0; i < 3; i++) {
        report_format_fixed(values[i], policies[i]->pr_auc, 3);
    }
    append_metric_row(buf, "PR AUC (average precision)", values, -1);

    for (int i = 0; i < 3; i++) {
        report_format_fixed(values[i], policies[i]->log_loss, 4);
    }
    append_metric_row(buf, "Log loss", values, -1);
}

static void append_flag_metrics(report_buf *buf, const ln_policy_summary *const policies[3], size_t positives)
{
    char values[3][REPORT_NUMBER_MAX];

    for (int i = 0; i < 3; i++) {
        report_format_count(values[i], policies[i]->flagged);
    }
    append_metric_row(buf, "Rows flagged", values, -1);

    for (int i = 0; i < 3; i++) {
        format_rate(values[i], policies[i]->flag_rate);
    }
    append_metric_row(buf, "Flag rate", values, -1);

    for (int i = 0; i < 3; i++) {
        report_format_count(values[i], policies[i]->true_positives);
    }
    append_metric_row(buf, "True positives", values, -1);

    for (int i = 0; i < 3; i++) {
        double recall = positives > 0 ? (double)policies[i]->true_positives / (double)positives : NAN;
        report_format_percent(values[i], recall, 1);
    }
    append_metric_row(buf, "Recall (true positives / positives)", values, -1);

    for (int i = 0; i < 3; i++) {
        size_t flagged = policies[i]->flagged;
        double precision = flagged > 0 ? (double)policies[i]->true_positives / (double)flagged : NAN;
        report_format_percent(values[i], precision, 1);
    }
    append_metric_row(buf, "Precision (true positives / flagged)", values, -1);
}

static void append_payoff_metrics(report_buf *buf, const ln_policy_summary *const policies[3])
{
    char values[3][REPORT_NUMBER_MAX];
    double totals[3], per_1000[3];
    for (int i = 0; i < 3; i++) {
        totals[i] = policies[i]->payoff;
        per_1000[i] = policies[i]->payoff_per_1000;
    }

    for (int i = 0; i < 3; i++) {
        report_format_payoff(values[i], totals[i]);
    }
    append_metric_row(buf, "Total payoff", values, index_of_max(totals));

    for (int i = 0; i < 3; i++) {
        report_format_payoff(values[i], per_1000[i]);
    }
    append_metric_row(buf, "Payoff per 1,000 rows", values, index_of_max(per_1000));
}

void report_section_comparison(report_buf *buf, const ln_report_input *input)
{
    const ln_policy_summary *const policies[3] = {&input->model, &input->baseline, &input->nothing};
    const char *fallbacks[3] = {"Model", "Rule in use", "Flag nothing"};
    size_t positives = report_count_positives(input->test_labels, input->rows_test);

    report_buf_puts(buf, "<section id=\"comparison\">\n<h2>Model against the rule in use (test split)</h2>\n"
                         "<table class=\"comparison\">\n<thead><tr><th></th>");
    for (int i = 0; i < 3; i++) {
        report_buf_puts(buf, "<th class=\"num\">");
        report_buf_escaped(buf, policy_label(policies[i], fallbacks[i]));
        report_buf_puts(buf, "</th>");
    }
    report_buf_puts(buf, "</tr></thead>\n<tbody>\n");

    append_score_metrics(buf, policies);
    append_flag_metrics(buf, policies, positives);
    append_payoff_metrics(buf, policies);

    report_buf_puts(buf, "</tbody>\n</table>\n<p class=\"note\">" EM_DASH " means the figure does not apply: "
                         "a policy without scores has no log loss, and AUC needs both classes. The rule's AUC "
                         "ranks rows by its 0/1 flags.</p>\n</section>\n");
}

static void append_split_row(report_buf *buf, const char *name, size_t rows, double positive_rate)
{
    char count[REPORT_NUMBER_MAX], rate[REPORT_NUMBER_MAX];
    report_buf_printf(buf, "<tr><th>%s</th><td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n", name,
                      report_format_count(count, rows), format_rate(rate, rows > 0 ? positive_rate : NAN));
}

static void append_definition(report_buf *buf, const char *term, const char *value, int as_code)
{
    report_buf_printf(buf, "<dt>%s</dt><dd>%s", term, as_code && value != NULL ? "<code>" : "");
    report_buf_escaped(buf, value);
    report_buf_printf(buf, "%s</dd>\n", as_code && value != NULL ? "</code>" : "");
}

static void append_warnings(report_buf *buf, const ln_report_input *input)
{
    report_buf_puts(buf, "<h3>Warnings</h3>\n");
    if (input->n_warnings == 0 || input->warnings == NULL) {
        report_buf_puts(buf, "<p>None.</p>\n");
        return;
    }

    size_t shown = input->n_warnings < REPORT_MAX_WARNINGS ? input->n_warnings : REPORT_MAX_WARNINGS;
    report_buf_puts(buf, "<ul class=\"warnings\">\n");
    for (size_t i = 0; i < shown; i++) {
        report_buf_puts(buf, "<li>");
        report_buf_escaped(buf, input->warnings[i]);
        report_buf_puts(buf, "</li>\n");
    }
    if (shown < input->n_warnings) {
        char more[REPORT_NUMBER_MAX];
        report_buf_printf(buf, "<li>and %s more warnings</li>\n", report_format_count(more, input->n_warnings - shown));
    }
    report_buf_puts(buf, "</ul>\n");
}

void report_section_data(report_buf *buf, const ln_report_input *input)
{
    report_buf_puts(buf, "<section id=\"data\">\n<h2>Data</h2>\n<table class=\"splits\">\n<thead><tr><th>Split</th>"
                         "<th class=\"num\">Rows</th><th class=\"num\">Positive rate</th></tr></thead>\n<tbody>\n");
    append_split_row(buf, "Train", input->rows_train, input->positive_rate_train);
    append_split_row(buf, "Valid", input->rows_valid, input->positive_rate_valid);
    append_split_row(buf, "Test", input->rows_test, input->positive_rate_test);
    report_buf_puts(buf, "</tbody>\n</table>\n<dl>\n");

    append_definition(buf, "Split", input->split_description, 0);
    append_definition(buf, "Source", input->data_source, 1);
    append_definition(buf, "Data hash", input->data_hash, 1);
    append_definition(buf, "Target", input->target, 1);
    append_definition(buf, "Positive label", input->positive_label, 1);
    append_definition(buf, "Learner", input->learner, 0);
    report_buf_puts(buf, "</dl>\n");

    append_warnings(buf, input);
    report_buf_puts(buf, "</section>\n");
}

void report_section_footer(report_buf *buf, const ln_report_input *input)
{
    report_buf_puts(buf, "<footer>\nPipeline <strong>");
    report_buf_escaped(buf, input->pipeline_name);
    report_buf_puts(buf, "</strong> &middot; ");
    if (input->registry_name != NULL) {
        report_buf_puts(buf, "registered as <code>");
        report_buf_escaped(buf, input->registry_name);
        report_buf_printf(buf, "@%d</code>", input->registry_version);
    } else {
        report_buf_puts(buf, "not registered");
    }
    report_buf_puts(buf, " &middot; run directory <code>");
    report_buf_escaped(buf, input->run_dir);
    report_buf_puts(buf, "</code> &middot; created ");
    report_buf_escaped(buf, input->created_at);
    report_buf_puts(buf, " &middot; lanner ");
    report_buf_escaped(buf, input->lanner_version);
    report_buf_puts(buf, "\n</footer>\n</main>\n</body>\n</html>\n");
}
