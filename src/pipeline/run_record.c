/*
 * run.json, the record of how a run went: each step with its cache key,
 * whether it was reused and how long it took, plus the gate and the
 * downstream comparison that metrics.json also holds.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/io.h"
#include "pipeline/run_internal.h"

json_t *run_steps_json(const run_context *run)
{
    const ln_run_result *result = run->result;
    json_t *steps = json_array();

    for (size_t i = 0; i < result->n_steps; i++) {
        const ln_step_record *step = &result->steps[i];
        json_t *object = json_object();
        json_object_set_new(object, "name", json_string(step->name));
        json_object_set_new(object, "key", json_string(step->key));
        json_object_set_new(object, "reused", json_boolean(step->reused));
        json_object_set_new(object, "seconds", run_json_number(step->seconds));
        json_array_append_new(steps, object);
    }
    return steps;
}

json_t *run_gate_json(const run_context *run)
{
    const ln_run_result *result = run->result;
    json_t *gate = json_object();
    json_t *rules = json_array();

    for (size_t i = 0; i < result->n_gate_rules; i++) {
        const ln_gate_rule *rule = &result->gate_rules[i];
        json_t *object = json_object();
        json_object_set_new(object, "name", json_string(rule->name));
        json_object_set_new(object, "passed", json_boolean(rule->passed));
        json_object_set_new(object, "detail", json_string(rule->detail));
        json_array_append_new(rules, object);
    }
    json_object_set_new(gate, "passed", json_boolean(result->gate_passed));
    json_object_set_new(gate, "configured", json_boolean(run->pipeline->has_gate));
    json_object_set_new(gate, "rules", rules);
    return gate;
}

/* The consumer as the pipeline declares it, which `lanner models promote` reads back (ln_consumers_from_json). */
static json_t *consumer_spec_json(const ln_consumer_spec *consumer)
{
    json_t *object = json_object();
    json_t *rate = json_object();

    json_object_set_new(object, "name", json_string(consumer->name));
    json_object_set_new(object, "uses", json_string(consumer->uses_score ? "score" : "flag"));
    json_object_set_new(object, "threshold", run_json_number(consumer->threshold));
    json_object_set_new(rate, "min", json_real(consumer->rate_min));
    json_object_set_new(rate, "max", json_real(consumer->rate_max));
    json_object_set_new(object, "rate", rate);
    json_object_set_new(object, "max_changed", run_json_number(consumer->max_changed));
    return object;
}

json_t *run_downstream_json(const run_context *run)
{
    const ln_run_result *result = run->result;
    json_t *consumers = json_array();

    for (size_t c = 0; c < run->pipeline->n_consumers; c++) {
        json_t *object = consumer_spec_json(&run->pipeline->consumers[c]);
        if (c < result->n_consumers) {
            const ln_consumer_report *report = &result->consumers[c];
            json_t *test = json_object();
            json_object_set_new(test, "rate_before", run_json_number(report->rate_before));
            json_object_set_new(test, "rate_after", run_json_number(report->rate_after));
            json_object_set_new(test, "changed", run_json_number(report->changed));
            json_object_set_new(test, "psi", run_json_number(report->psi));
            json_object_set_new(test, "passed", json_boolean(report->passed));
            json_object_set_new(test, "detail", json_string(report->detail));
            json_object_set_new(object, "test", test);
        }
        json_array_append_new(consumers, object);
    }
    return consumers;
}

ln_status run_write_record(run_context *run, ln_error *err)
{
    const ln_run_result *result = run->result;
    char path[PATH_MAX];
    json_t *root = json_object();

    json_object_set_new(root, "name", json_string(run->pipeline->name));
    json_object_set_new(root, "created_at", json_string(run->created_at));
    json_object_set_new(root, "lanner_version", json_string(LANNER_VERSION));
    json_object_set_new(root, "run_dir", json_string(result->run_dir));
    json_object_set_new(root, "pipeline_hash", json_string(result->pipeline_hash));
    json_object_set_new(root, "data_hash", json_string(result->data_hash));
    json_object_set_new(root, "cache", run->cache.enabled ? json_string(run->cache.dir) : json_null());
    json_object_set_new(root, "steps", run_steps_json(run));
    json_object_set_new(root, "seconds_total", run_json_number(result->seconds_total));
    json_t *registry = json_null();
    if (result->registry_version > 0) {
        registry = json_object();
        json_object_set_new(registry, "path", json_string(result->registry_path));
        json_object_set_new(registry, "name", json_string(result->registry_name));
        json_object_set_new(registry, "version", json_integer(result->registry_version));
    }
    json_object_set_new(root, "registry", registry);
    json_object_set_new(root, "promoted", json_boolean(result->promoted));
    json_object_set_new(root, "test_payoff", run_json_number(result->model.payoff));
    json_object_set_new(root, "gate", run_gate_json(run));

    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (text == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory writing run.json");

    ln_status status = ln_path_join(result->run_dir, "run.json", path, sizeof path, err);
    if (status == LN_OK)
        status = ln_write_file_atomic(path, text, strlen(text), err);
    if (status == LN_OK)
        snprintf(run->result->run_json_path, sizeof run->result->run_json_path, "%s", path);
    free(text);
    return status;
}
