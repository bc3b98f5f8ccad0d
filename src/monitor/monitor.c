/*
 * The comparison of current rows with a model's reference: drift of every
 * feature, the score and the decisions, the data contract, realised
 * outcomes, the trend per time window, and the alerts.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lanner/expr.h"
#include "lanner/io.h"
#include "lanner/log.h"
#include "lanner/monitor.h"
#include "monitor/monitor_drift.h"
#include "monitor/monitor_internal.h"

void ln_monitor_options_default(ln_monitor_options *options)
{
    memset(options, 0, sizeof *options);
    options->window_seconds = 86400;
    options->thresholds.psi_max = 0.2;
    options->thresholds.score_psi_max = 0.2;
    options->thresholds.auc_min = NAN;
    options->thresholds.payoff_drop_max = NAN;
}

static void add_note(ln_monitor_report *report, const char *format, ...) __attribute__((format(printf, 2, 3)));

static void add_note(ln_monitor_report *report, const char *format, ...)
{
    char message[512];
    va_list args;

    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    ln_log(LN_LOG_WARN, "%s", message);
    if (report->n_notes < LN_MONITOR_MAX_NOTES) {
        char *copy = strdup(message);
        if (copy != NULL)
            report->notes[report->n_notes++] = copy;
    }
}

/* ---- Drift of the features, the score and the decisions ---- */

static ln_status feature_drift(const ln_reference_feature *feature, const ln_table *table, const size_t *rows,
                               size_t n, ln_drift *drift, ln_error *err)
{
    int index = ln_table_find(table, feature->name);
    if (index < 0)
        return ln_error_set(err, LN_ERR_DATA, "feature '%s' of the reference is not in the current data", feature->name);

    const ln_column *column = &table->cols[index];
    int reference_numeric = feature->type != LN_TYPE_CATEGORY;
    if (reference_numeric != ln_type_is_numeric(column->type))
        return ln_error_set(err, LN_ERR_DATA, "feature '%s' is %s in the reference but %s in the current data",
                            feature->name, ln_type_name(feature->type), ln_type_name(column->type));
    if (reference_numeric)
        return monitor_numeric_drift(feature, column->values, rows, n, drift, err);
    return monitor_category_drift(feature, column, rows, n, drift, err);
}

static ln_status compare_features(const ln_reference *reference, const ln_monitor_current *current,
                                  ln_monitor_report *report, ln_error *err)
{
    size_t n = current->table->n_rows;

    report->features = calloc(reference->n_features ? reference->n_features : 1, sizeof *report->features);
    if (report->features == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory comparing features");

    for (size_t f = 0; f < reference->n_features; f++) {
        report->n_features++;
        ln_status status = feature_drift(&reference->features[f], current->table, NULL, n, &report->features[f], err);
        if (status != LN_OK)
            return status;
    }
    qsort(report->features, report->n_features, sizeof *report->features, monitor_compare_drift);

    ln_status status = monitor_numeric_drift(&reference->score, current->scores, NULL, n, &report->score, err);
    if (status == LN_OK)
        status = monitor_decision_drift(reference, current->flags, n, &report->decision, err);
    if (status == LN_OK) {
        report->reference_flag_rate = reference->valid_flag_rate;
        report->current_flag_rate = report->decision.current_share[0];
    }
    return status;
}

/* ---- The data contract ---- */

/*
 * The contract keeps the columns the current data has and the model's
 * features: the target and other training columns never reach the server,
 * so their `present` rule would always fail. min_rows is dropped too, since
 * it was sized for the training table, not for a day of predictions.
 */
static ln_status check_contract(const char *text, const ln_reference *reference, const ln_table *table,
                                ln_monitor_report *report, ln_error *err)
{
    char path[] = "/tmp/lanner-monitor-contract-XXXXXX";
    ln_contract *contract = NULL;

    int fd = mkstemp(path);
    if (fd < 0)
        return ln_error_set(err, LN_ERR_IO, "cannot create a temporary file for the model's contract in /tmp");
    size_t length = strlen(text);
    int written = write(fd, text, length) == (ssize_t)length;
    close(fd);
    ln_status status = written ? ln_contract_load(path, &contract, err)
                               : ln_error_set(err, LN_ERR_IO, "cannot write the model's contract to %s", path);
    unlink(path);
    if (status != LN_OK)
        return ln_error_prefix(err, "the contract stored in the model");

    ln_contract kept = *contract;
    kept.has_min_rows = 0;
    kept.columns = calloc(contract->n_columns ? contract->n_columns : 1, sizeof *kept.columns);
    if (kept.columns == NULL) {
        ln_contract_free(contract);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory checking the contract");
    }
    kept.n_columns = 0;
    for (size_t c = 0; c < contract->n_columns; c++) {
        const char *name = contract->columns[c].name;
        int is_feature = 0;
        for (size_t f = 0; f < reference->n_features && !is_feature; f++)
            is_feature = strcmp(reference->features[f].name, name) == 0;
        if (is_feature || ln_table_find(table, name) >= 0)
            kept.columns[kept.n_columns++] = contract->columns[c];
    }

    status = ln_contract_validate(&kept, table, &report->contract, err);
    free(kept.columns);
    ln_contract_free(contract);
    return status;
}

/* ---- Realised outcomes ---- */

/* Per-row payoffs of each option (the actions, then the default) by label, evaluated on the current table. */
typedef struct payoff_table {
    size_t n_options;
    double *values[LN_MAX_ACTIONS + 1][2];
    unsigned char *decisions;
} payoff_table;

static void payoff_table_free(payoff_table *payoffs)
{
    for (size_t k = 0; k < LN_MAX_ACTIONS + 1; k++) {
        free(payoffs->values[k][0]);
        free(payoffs->values[k][1]);
    }
    free(payoffs->decisions);
}

static ln_status evaluate_payoff(const char *text, const ln_table *table, double **out, int *usable,
                                 ln_monitor_report *report, ln_error *err)
{
    ln_expr *expr = NULL;
    size_t n = table->n_rows;

    ln_status status = ln_expr_parse(text, &expr, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "payoff \"%s\"", text);
    if (ln_expr_check(expr, table, err) != LN_OK) {
        add_note(report, "payoff figures are left out: payoff \"%s\" cannot be computed on the current data: %s",
                 text, err->message);
        memset(err, 0, sizeof *err);
        ln_expr_free(expr);
        *usable = 0;
        return LN_OK;
    }
    *out = malloc((n ? n : 1) * sizeof **out);
    status = *out ? ln_expr_eval(expr, table, *out, err)
                  : ln_error_set(err, LN_ERR_NOMEM, "out of memory evaluating payoffs");
    ln_expr_free(expr);
    return status;
}

static ln_status evaluate_payoffs(const ln_monitor_options *options, const ln_monitor_current *current,
                                  payoff_table *payoffs, int *usable, ln_monitor_report *report, ln_error *err)
{
    size_t n = current->table->n_rows;

    *usable = options->n_actions > 0 && options->payoff_if_positive[0] != NULL;
    if (!*usable)
        return LN_OK;
    payoffs->n_options = options->n_actions + 1;
    for (size_t k = 0; k < payoffs->n_options && *usable; k++) {
        ln_status status = evaluate_payoff(options->payoff_if_positive[k], current->table, &payoffs->values[k][0],
                                           usable, report, err);
        if (status == LN_OK && *usable)
            status = evaluate_payoff(options->payoff_if_negative[k], current->table, &payoffs->values[k][1],
                                     usable, report, err);
        if (status != LN_OK)
            return status;
    }
    if (!*usable)
        return LN_OK;

    payoffs->decisions = malloc(n ? n : 1);
    if (payoffs->decisions == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory assigning actions");
    ln_policy_assign(current->scores, n, options->action_thresholds, options->n_actions, payoffs->decisions);
    return LN_OK;
}

/* Outcome figures of the labeled rows among rows[0 .. n-1] (all rows when rows is NULL). */
typedef struct outcome_figures {
    size_t labeled;
    double positive_rate, auc, ece, flag_rate, payoff, payoff_per_1000;
    size_t payoff_skipped;
} outcome_figures;

static ln_status outcome_figures_of(const ln_monitor_current *current, const payoff_table *payoffs, int usable,
                                    const size_t *rows, size_t n, outcome_figures *out, ln_error *err)
{
    double *scores = malloc((n ? n : 1) * sizeof *scores);
    double *labels = malloc((n ? n : 1) * sizeof *labels);
    if (scores == NULL || labels == NULL) {
        free(scores);
        free(labels);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory computing outcomes");
    }

    size_t m = 0, flagged = 0, positives = 0, paid = 0;
    double payoff = 0;
    out->payoff_skipped = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = rows != NULL ? rows[k] : k;
        if (isnan(current->labels[i]))
            continue;
        scores[m] = current->scores[i];
        labels[m] = current->labels[i];
        flagged += current->flags[i] != 0;
        positives += labels[m] == 1;
        m++;
        if (!usable)
            continue;
        double value = payoffs->values[payoffs->decisions[i]][labels[m - 1] == 1 ? 0 : 1][i];
        if (!isfinite(value)) {
            out->payoff_skipped++;
            continue;
        }
        payoff += value;
        paid++;
    }

    ln_calibration_bin bins[LN_CALIBRATION_BINS];
    out->labeled = m;
    out->positive_rate = m ? (double)positives / (double)m : NAN;
    out->flag_rate = m ? (double)flagged / (double)m : NAN;
    out->auc = ln_roc_auc(scores, labels, m);
    out->ece = m ? ln_calibration_curve(scores, labels, m, bins) : NAN;
    out->payoff = usable && paid ? payoff : NAN;
    out->payoff_per_1000 = usable && paid ? payoff / (double)paid * 1000 : NAN;
    free(scores);
    free(labels);
    return LN_OK;
}

static ln_status compute_outcomes(const ln_reference *reference, const ln_monitor_current *current,
                                  const payoff_table *payoffs, int usable, ln_monitor_report *report, ln_error *err)
{
    outcome_figures figures;
    ln_monitor_outcomes *outcomes = &report->outcomes;

    ln_status status = outcome_figures_of(current, payoffs, usable, NULL, current->table->n_rows, &figures, err);
    if (status != LN_OK)
        return status;
    outcomes->labeled = figures.labeled;
    outcomes->unlabeled = current->table->n_rows - figures.labeled;
    outcomes->positive_rate = figures.positive_rate;
    outcomes->auc = figures.auc;
    outcomes->ece = figures.ece;
    outcomes->flag_rate = figures.flag_rate;
    outcomes->payoff = figures.payoff;
    outcomes->payoff_per_1000 = figures.payoff_per_1000;
    outcomes->payoff_skipped = figures.payoff_skipped;
    double promised = reference->valid_payoff_per_1000;
    outcomes->payoff_drop = isfinite(promised) && promised != 0 && isfinite(figures.payoff_per_1000)
                                ? (promised - figures.payoff_per_1000) / fabs(promised) : NAN;
    if (figures.payoff_skipped > 0)
        add_note(report, "%zu labeled rows are left out of the payoff: a payoff expression is missing or infinite "
                         "on them", figures.payoff_skipped);
    return LN_OK;
}

/* ---- Windows ---- */

static ln_status window_figures(const ln_reference *reference, const ln_monitor_current *current,
                                const payoff_table *payoffs, int usable, const size_t *rows, size_t n,
                                ln_monitor_window *window, ln_error *err)
{
    ln_drift score = {0};
    double score_sum = 0;
    size_t flagged = 0;

    ln_status status = monitor_numeric_drift(&reference->score, current->scores, rows, n, &score, err);
    window->score_psi = score.psi;
    monitor_drift_clear(&score);
    if (status != LN_OK)
        return status;

    for (size_t k = 0; k < n; k++) {
        score_sum += current->scores[rows[k]];
        flagged += current->flags[rows[k]] != 0;
    }
    window->rows = n;
    window->mean_score = n ? score_sum / (double)n : NAN;
    window->flag_rate = n ? (double)flagged / (double)n : NAN;
    window->labeled = 0;
    window->positive_rate = window->auc = window->ece = window->payoff = window->payoff_per_1000 = NAN;
    if (current->labels == NULL)
        return LN_OK;

    outcome_figures figures;
    status = outcome_figures_of(current, payoffs, usable, rows, n, &figures, err);
    if (status != LN_OK)
        return status;
    window->labeled = figures.labeled;
    window->positive_rate = figures.positive_rate;
    window->auc = figures.auc;
    window->ece = figures.ece;
    window->payoff = figures.payoff;
    window->payoff_per_1000 = figures.payoff_per_1000;
    return LN_OK;
}

/* Groups rows by window with a counting sort, then fills each window's figures. */
static ln_status compute_windows(const ln_reference *reference, const ln_monitor_current *current,
                                 const ln_monitor_options *options, const payoff_table *payoffs, int usable,
                                 ln_monitor_report *report, ln_error *err)
{
    size_t n = current->table->n_rows;
    double width = options->window_seconds;
    double first = INFINITY, last = -INFINITY;

    for (size_t i = 0; i < n; i++) {
        double t = current->times[i];
        if (!isfinite(t)) {
            report->rows_without_time++;
            continue;
        }
        first = fmin(first, t);
        last = fmax(last, t);
    }
    if (!isfinite(first))
        return LN_OK;
    report->first_time = first;
    report->last_time = last;

    double origin = floor(first / width);
    double count = floor(last / width) - origin + 1;
    if (count > LN_MONITOR_MAX_WINDOWS)
        return ln_error_set(err, LN_ERR_LIMIT, "the data spans %.0f windows of %.0f s, more than the %d allowed; "
                            "choose a longer --window", count, width, LN_MONITOR_MAX_WINDOWS);

    size_t n_windows = (size_t)count;
    size_t *starts = calloc(n_windows + 1, sizeof *starts);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    report->windows = calloc(n_windows, sizeof *report->windows);
    if (starts == NULL || order == NULL || report->windows == NULL) {
        free(starts);
        free(order);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory grouping rows by window");
    }

    for (size_t i = 0; i < n; i++) {
        if (isfinite(current->times[i]))
            starts[(size_t)(floor(current->times[i] / width) - origin) + 1]++;
    }
    for (size_t w = 0; w < n_windows; w++)
        starts[w + 1] += starts[w];
    size_t *next = malloc((n_windows ? n_windows : 1) * sizeof *next);
    if (next == NULL) {
        free(starts);
        free(order);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory grouping rows by window");
    }
    memcpy(next, starts, n_windows * sizeof *next);
    for (size_t i = 0; i < n; i++) {
        if (isfinite(current->times[i]))
            order[next[(size_t)(floor(current->times[i] / width) - origin)]++] = i;
    }

    ln_status status = LN_OK;
    for (size_t w = 0; w < n_windows && status == LN_OK; w++) {
        ln_monitor_window *window = &report->windows[w];
        window->start = (origin + (double)w) * width;
        window->end = window->start + width;
        report->n_windows++;
        status = window_figures(reference, current, payoffs, usable, order + starts[w], starts[w + 1] - starts[w],
                                window, err);
    }
    free(next);
    free(starts);
    free(order);
    return status;
}

/* ---- Alerts ---- */

static ln_status add_alert(ln_monitor_report *report, size_t capacity, const char *kind, const char *subject,
                           double figure, double threshold, const char *message, ln_error *err)
{
    if (report->n_alerts >= capacity)
        return ln_error_set(err, LN_ERR_INTERNAL, "more alerts than the %zu expected", capacity);
    ln_monitor_alert *alert = &report->alerts[report->n_alerts++];
    snprintf(alert->kind, sizeof alert->kind, "%s", kind);
    snprintf(alert->subject, sizeof alert->subject, "%s", subject);
    alert->figure = figure;
    alert->threshold = threshold;
    snprintf(alert->message, sizeof alert->message, "%s", message);
    return LN_OK;
}

static ln_status raise_alerts(const ln_reference *reference, ln_monitor_report *report, ln_error *err)
{
    const ln_monitor_thresholds *limits = &report->thresholds;
    size_t capacity = report->n_features + 4;
    char message[320];
    ln_status status = LN_OK;

    report->alerts = calloc(capacity, sizeof *report->alerts);
    if (report->alerts == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory raising alerts");

    for (size_t f = 0; f < report->n_features && status == LN_OK; f++) {
        const ln_drift *drift = &report->features[f];
        if (!(drift->psi > limits->psi_max))
            continue;
        snprintf(message, sizeof message, "feature '%.150s' drifted: PSI %.4f above %.4g", drift->name, drift->psi,
                 limits->psi_max);
        status = add_alert(report, capacity, "feature_psi", drift->name, drift->psi, limits->psi_max, message, err);
    }
    if (status == LN_OK && report->score.psi > limits->score_psi_max) {
        snprintf(message, sizeof message, "score distribution drifted: PSI %.4f above %.4g", report->score.psi,
                 limits->score_psi_max);
        status = add_alert(report, capacity, "score_psi", "score", report->score.psi, limits->score_psi_max, message,
                           err);
    }
    if (status == LN_OK && report->outcomes.auc < limits->auc_min) {
        snprintf(message, sizeof message, "realised ROC AUC %.4f below %.4g (validation promised %.4f)",
                 report->outcomes.auc, limits->auc_min, reference->valid_auc);
        status = add_alert(report, capacity, "auc", "", report->outcomes.auc, limits->auc_min, message, err);
    }
    if (status == LN_OK && report->outcomes.payoff_drop > limits->payoff_drop_max) {
        snprintf(message, sizeof message,
                 "realised payoff per 1,000 rows %.2f is %.1f%% below the %.2f promised (at most %.1f%% allowed)",
                 report->outcomes.payoff_per_1000, report->outcomes.payoff_drop * 100,
                 reference->valid_payoff_per_1000, limits->payoff_drop_max * 100);
        status = add_alert(report, capacity, "payoff_drop", "", report->outcomes.payoff_drop, limits->payoff_drop_max,
                           message, err);
    }
    if (status == LN_OK && report->contract != NULL && ln_validation_error_count(report->contract) > 0) {
        snprintf(message, sizeof message, "%zu rules of the model's data contract failed",
                 ln_validation_error_count(report->contract));
        status = add_alert(report, capacity, "contract", "", (double)ln_validation_error_count(report->contract), 0,
                           message, err);
    }
    return status;
}

/* ---- The whole comparison ---- */

static ln_status check_options(const ln_monitor_options *options, const ln_monitor_current *current,
                               ln_error *err)
{
    if (!(options->window_seconds > 0) || !isfinite(options->window_seconds))
        return ln_error_set(err, LN_ERR_CONFIG, "the window length must be a positive number of seconds, found %g",
                            options->window_seconds);
    if (options->n_actions > LN_MAX_ACTIONS)
        return ln_error_set(err, LN_ERR_CONFIG, "%zu actions, more than the %d allowed", options->n_actions,
                            LN_MAX_ACTIONS);
    if (current->table == NULL || current->scores == NULL || current->flags == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "the current data has no table or no scores");
    return LN_OK;
}

ln_status ln_monitor_run(const ln_reference *reference, const ln_monitor_current *current,
                         const ln_monitor_options *options, ln_monitor_report **out, ln_error *err)
{
    payoff_table payoffs = {0};
    int usable = 0;

    *out = NULL;
    ln_status status = check_options(options, current, err);
    if (status != LN_OK)
        return status;
    ln_monitor_report *report = calloc(1, sizeof *report);
    if (report == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory building the monitoring report");
    report->reference = reference;
    report->rows = current->table->n_rows;
    report->thresholds = options->thresholds;
    report->first_time = report->last_time = NAN;
    report->has_labels = current->labels != NULL;
    report->outcomes = (ln_monitor_outcomes){0, 0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, 0};

    status = compare_features(reference, current, report, err);
    if (status == LN_OK && options->contract_text != NULL)
        status = check_contract(options->contract_text, reference, current->table, report, err);
    if (status == LN_OK && current->labels != NULL)
        status = evaluate_payoffs(options, current, &payoffs, &usable, report, err);
    if (status == LN_OK && current->labels != NULL)
        status = compute_outcomes(reference, current, &payoffs, usable, report, err);
    if (status == LN_OK && current->times != NULL)
        status = compute_windows(reference, current, options, &payoffs, usable, report, err);
    if (status == LN_OK)
        status = raise_alerts(reference, report, err);

    payoff_table_free(&payoffs);
    if (status != LN_OK) {
        ln_monitor_report_free(report);
        return status;
    }
    *out = report;
    return LN_OK;
}

void ln_monitor_report_free(ln_monitor_report *report)
{
    if (report == NULL)
        return;
    for (size_t f = 0; f < report->n_features; f++)
        monitor_drift_clear(&report->features[f]);
    free(report->features);
    monitor_drift_clear(&report->score);
    monitor_drift_clear(&report->decision);
    ln_validation_free(report->contract);
    free(report->windows);
    free(report->alerts);
    for (size_t i = 0; i < report->n_notes; i++)
        free(report->notes[i]);
    free(report);
}
