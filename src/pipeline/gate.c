/*
 * The gate of a run: the rules a candidate must pass before `lanner run
 * --promote` makes it the production model, and the downstream comparison
 * that the gate's consumer rules read.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lanner/log.h"
#include "pipeline/run_internal.h"

static void add_rule(run_context *run, const char *name, int passed, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void add_rule(run_context *run, const char *name, int passed, const char *format, ...)
{
    ln_run_result *result = run->result;
    va_list args;

    if (result->n_gate_rules >= LN_GATE_MAX_RULES)
        return;
    ln_gate_rule *rule = &result->gate_rules[result->n_gate_rules++];
    snprintf(rule->name, sizeof rule->name, "%s", name);
    rule->passed = passed;
    va_start(args, format);
    vsnprintf(rule->detail, sizeof rule->detail, format, args);
    va_end(args);
    if (!passed)
        result->gate_passed = 0;
}

/* Compares the model's payoff with another policy's, by the total or by the interval's lower bound. */
static void beat_rule(run_context *run, const char *name, const char *other, const ln_policy_result *policy,
                      const ln_bootstrap_interval *interval)
{
    double gain = run->result->model.payoff - policy->payoff;

    if (!run->pipeline->gate.by_interval) {
        add_rule(run, name, gain > 0, "model payoff %.2f vs %s %.2f on test: gain %+.2f%s", run->result->model.payoff,
                 other, policy->payoff, gain, gain > 0 ? "" : ", not above 0");
        return;
    }
    if (interval->n_resamples == 0) {
        add_rule(run, name, 0, "no bootstrap interval of the gain over %s was computed", other);
        return;
    }
    add_rule(run, name, interval->lower > 0, "gain over %s %+.2f, 95%% interval [%+.2f, %+.2f]%s", other, gain,
             interval->lower, interval->upper,
             interval->lower > 0 ? "" : ": the lower bound is not above 0");
}

static void production_rule(run_context *run)
{
    if (run->result->production_version > 0) {
        beat_rule(run, "beat_production", "production", &run->result->production, &run->result->gain_over_production);
    } else if (run->production_registered > 0) {
        add_rule(run, "beat_production", 0, "production version %d exists but could not be scored on this data "
                 "(see the warnings)", run->production_registered);
    } else {
        add_rule(run, "beat_production", 1, "no production model to beat");
    }
}

static void contract_rule(run_context *run)
{
    const ln_pipeline *pipeline = run->pipeline;

    if (pipeline->contract == NULL)
        add_rule(run, "contract", 1, "the pipeline names no contract");
    else if (run->contract_errors == 0)
        add_rule(run, "contract", 1, "the data satisfies contract %s", pipeline->contract);
    else
        add_rule(run, "contract", 0, "the data breaks %zu error-level rule%s of contract %s (first: %s)",
                 run->contract_errors, run->contract_errors == 1 ? "" : "s", pipeline->contract,
                 run->contract_first_error);
}

/*
 * A slice fails when a reference (the rule, or production when compared)
 * earns more per 1,000 rows on it than the model by more than
 * max_slice_regression times the absolute value of the reference's payoff
 * per 1,000 rows on that slice. The detail names the worst slice.
 */
static void slice_rule(run_context *run)
{
    double limit = run->pipeline->gate.max_slice_regression;
    const ln_slice_summary *worst = NULL;
    const char *worst_reference = NULL;
    double worst_share = -INFINITY;
    size_t failing = 0;

    if (run->n_slices == 0) {
        add_rule(run, "max_slice_regression", 1, "the pipeline has no slices");
        return;
    }
    for (size_t i = 0; i < run->n_slices; i++) {
        const ln_slice_summary *slice = &run->slices[i];
        double references[2] = {slice->baseline_per_1000, slice->production_per_1000};
        const char *names[2] = {"the rule", "production"};
        int fails = 0;
        for (int r = 0; r < 2; r++) {
            if (!isfinite(references[r]) || !isfinite(slice->model_per_1000))
                continue;
            double shortfall = references[r] - slice->model_per_1000;
            double share = fabs(references[r]) > 0 ? shortfall / fabs(references[r]) : (shortfall > 0 ? INFINITY : 0);
            fails |= shortfall > limit * fabs(references[r]);
            if (share > worst_share) {
                worst_share = share;
                worst = slice;
                worst_reference = names[r];
            }
        }
        failing += fails;
    }
    if (failing == 0) {
        add_rule(run, "max_slice_regression", 1, "no slice loses more than %.1f%% of payoff per 1,000 rows against the "
                 "rule or production", limit * 100);
        return;
    }
    add_rule(run, "max_slice_regression", 0, "%zu slice%s lose more than %.1f%%; worst %s = %s: model %.2f per 1,000 "
             "rows vs %s %.2f", failing, failing == 1 ? "" : "s", limit * 100, worst->column, worst->value,
             worst->model_per_1000, worst_reference,
             strcmp(worst_reference, "the rule") == 0 ? worst->baseline_per_1000 : worst->production_per_1000);
}

void run_evaluate_gate(run_context *run)
{
    const ln_gate_spec *gate = &run->pipeline->gate;
    ln_run_result *result = run->result;
    char name[160];

    result->gate_passed = 1;
    result->n_gate_rules = 0;
    if (gate->beat_baseline)
        beat_rule(run, "beat_baseline", "the rule", &result->baseline, &result->gain_over_baseline);
    if (gate->beat_production)
        production_rule(run);
    if (gate->contract)
        contract_rule(run);
    if (!isnan(gate->max_slice_regression))
        slice_rule(run);
    for (size_t c = 0; c < result->n_consumers; c++) {
        snprintf(name, sizeof name, "downstream:%s", result->consumers[c].name);
        add_rule(run, name, result->consumers[c].passed, "%s", result->consumers[c].detail);
    }

    /* A failed rule is a warning only where the gate matters: a gate section or --promote. */
    int matters = run->pipeline->has_gate || run->options->promote;
    for (size_t i = 0; i < result->n_gate_rules; i++) {
        const ln_gate_rule *rule = &result->gate_rules[i];
        ln_log(rule->passed || !matters ? LN_LOG_INFO : LN_LOG_WARN, "gate rule %s %s: %s", rule->name,
               rule->passed ? "passed" : "failed", rule->detail);
    }
}

void run_compare_downstream(run_context *run)
{
    const ln_pipeline *pipeline = run->pipeline;
    ln_run_result *result = run->result;
    size_t n = run->test.table->n_rows;
    const double *production = result->production_version > 0 ? run->production_scores : NULL;

    result->score_psi = production != NULL ? ln_score_psi(production, n, run->test_scores, n) : NAN;
    result->n_consumers = pipeline->n_consumers;
    ln_downstream_compare(pipeline->consumers, pipeline->n_consumers, run->test_scores,
                          run->thresholds[run->n_actions - 1], production, run->production_threshold, n,
                          result->consumers);
}
