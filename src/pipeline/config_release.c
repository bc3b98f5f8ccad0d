/*
 * The release sections of a pipeline file: the gate a candidate must pass to
 * be promoted, and the downstream systems that consume the model's output.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lanner/pipeline.h"
#include "pipeline/config_internal.h"

static const char *const gate_keys[] = {
    "beat_baseline", "beat_production", "by_interval", "contract", "max_slice_regression", NULL,
};
static const char *const consumer_keys[] = {"name", "uses", "rate", "threshold", "max_changed", NULL};
static const char *const rate_keys[] = {"min", "max", NULL};

void config_gate_defaults(ln_gate_spec *gate)
{
    gate->beat_baseline = 1;
    gate->beat_production = 1;
    gate->by_interval = 0;
    gate->contract = 1;
    gate->max_slice_regression = NAN;
}

static ln_status read_flag(ydoc *doc, yaml_node_t *mapping, const char *key, int *out, ln_error *err)
{
    yaml_node_t *node = ydoc_get(doc, mapping, key);

    return node == NULL ? LN_OK : ydoc_boolean(doc, node, key, out, err);
}

static ln_status read_share(ydoc *doc, yaml_node_t *mapping, const char *key, double *out, ln_error *err)
{
    yaml_node_t *node = ydoc_get(doc, mapping, key);

    return node == NULL ? LN_OK : ydoc_number(doc, node, key, 0, 1, out, err);
}

ln_status config_read_gate(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err)
{
    yaml_node_t *gate = ydoc_get(doc, root, "gate");
    ln_gate_spec *spec = &pipeline->gate;

    config_gate_defaults(spec);
    if (gate == NULL)
        return LN_OK;

    pipeline->has_gate = 1;
    ln_status status = ydoc_check_keys(doc, gate, "gate", gate_keys, err);
    if (status == LN_OK)
        status = read_flag(doc, gate, "beat_baseline", &spec->beat_baseline, err);
    if (status == LN_OK)
        status = read_flag(doc, gate, "beat_production", &spec->beat_production, err);
    if (status == LN_OK)
        status = read_flag(doc, gate, "by_interval", &spec->by_interval, err);
    if (status == LN_OK)
        status = read_flag(doc, gate, "contract", &spec->contract, err);
    yaml_node_t *slice_limit = ydoc_get(doc, gate, "max_slice_regression");
    /* A share above 1 allows a slice to lose more than the reference earns there, so it is accepted. */
    if (status == LN_OK && slice_limit != NULL)
        status = ydoc_number(doc, slice_limit, "max_slice_regression", 0, 1e9, &spec->max_slice_regression, err);
    return status;
}

static ln_status read_uses(ydoc *doc, yaml_node_t *item, ln_consumer_spec *consumer, ln_error *err)
{
    yaml_node_t *node = ydoc_get(doc, item, "uses");
    char *uses = NULL;

    if (node == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: downstream consumer '%s' needs 'uses: flag' or 'uses: score'",
                            doc->path, ydoc_line(item), consumer->name);
    ln_status status = ydoc_string(doc, node, "uses", &uses, err);
    if (status != LN_OK)
        return status;
    if (strcmp(uses, "flag") == 0)
        consumer->uses_score = 0;
    else if (strcmp(uses, "score") == 0)
        consumer->uses_score = 1;
    else
        status = ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'uses' must be flag or score, found '%s'", doc->path,
                              ydoc_line(node), uses);
    free(uses);
    return status;
}

static ln_status read_rate(ydoc *doc, yaml_node_t *item, ln_consumer_spec *consumer, ln_error *err)
{
    yaml_node_t *rate = ydoc_get(doc, item, "rate");

    if (rate == NULL)
        return LN_OK;
    ln_status status = ydoc_check_keys(doc, rate, "rate", rate_keys, err);
    if (status == LN_OK)
        status = read_share(doc, rate, "min", &consumer->rate_min, err);
    if (status == LN_OK)
        status = read_share(doc, rate, "max", &consumer->rate_max, err);
    if (status == LN_OK && consumer->rate_min > consumer->rate_max)
        status = ln_error_set(err, LN_ERR_CONFIG, "%s:%d: rate min %g is above rate max %g", doc->path,
                              ydoc_line(rate), consumer->rate_min, consumer->rate_max);
    return status;
}

static ln_status read_consumer(ydoc *doc, yaml_node_t *item, ln_pipeline *pipeline, size_t index, ln_error *err)
{
    ln_consumer_spec *consumer = &pipeline->consumers[index];
    char section[64];

    snprintf(section, sizeof section, "downstream[%zu]", index + 1);
    consumer->rate_min = 0;
    consumer->rate_max = 1;
    consumer->threshold = NAN;
    consumer->max_changed = NAN;

    ln_status status = ydoc_check_keys(doc, item, section, consumer_keys, err);
    if (status == LN_OK && ydoc_get(doc, item, "name") == NULL)
        status = ln_error_set(err, LN_ERR_CONFIG, "%s:%d: missing required key 'name' in %s", doc->path,
                              ydoc_line(item), section);
    if (status == LN_OK)
        status = ydoc_string(doc, ydoc_get(doc, item, "name"), "name", &consumer->name, err);
    if (status == LN_OK && !config_name_is_valid(consumer->name))
        status = ln_error_set(err, LN_ERR_CONFIG, "%s:%d: consumer name must be 1 to 128 letters, digits, '-', '_' "
                              "or '.', found '%s'", doc->path, ydoc_line(item), consumer->name);
    if (status == LN_OK)
        status = read_uses(doc, item, consumer, err);
    if (status == LN_OK)
        status = read_rate(doc, item, consumer, err);
    if (status == LN_OK)
        status = read_share(doc, item, "max_changed", &consumer->max_changed, err);
    if (status != LN_OK)
        return status;

    yaml_node_t *threshold = ydoc_get(doc, item, "threshold");
    if (consumer->uses_score && threshold == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: consumer '%s' uses the score and needs a 'threshold'",
                            doc->path, ydoc_line(item), consumer->name);
    if (!consumer->uses_score && threshold != NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: consumer '%s' uses the model's flag, so 'threshold' does "
                            "not apply; use 'uses: score' to set its own", doc->path, ydoc_line(threshold),
                            consumer->name);
    if (threshold != NULL)
        status = ydoc_number(doc, threshold, "threshold", 0, 1, &consumer->threshold, err);

    for (size_t k = 0; k < index && status == LN_OK; k++) {
        if (strcmp(pipeline->consumers[k].name, consumer->name) == 0)
            status = ln_error_set(err, LN_ERR_CONFIG, "%s:%d: consumer '%s' is named twice in downstream", doc->path,
                                  ydoc_line(item), consumer->name);
    }
    return status;
}

ln_status config_read_downstream(ydoc *doc, yaml_node_t *root, ln_pipeline *pipeline, ln_error *err)
{
    yaml_node_t *list = ydoc_get(doc, root, "downstream");

    if (list == NULL)
        return LN_OK;
    if (list->type != YAML_SEQUENCE_NODE)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'downstream' must be a list of consumers, each with name "
                            "and uses", doc->path, ydoc_line(list));

    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n > LN_MAX_CONSUMERS)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'downstream' lists %zu consumers; the maximum is %d",
                            doc->path, ydoc_line(list), n, LN_MAX_CONSUMERS);
    pipeline->consumers = calloc(n ? n : 1, sizeof *pipeline->consumers);
    if (pipeline->consumers == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory reading 'downstream'", doc->path);
    pipeline->n_consumers = n;

    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(&doc->document, list->data.sequence.items.start[i]);
        ln_status status = read_consumer(doc, item, pipeline, i, err);
        if (status != LN_OK)
            return status;
    }
    return LN_OK;
}

void ln_consumers_free(ln_consumer_spec *consumers, size_t n)
{
    if (consumers == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(consumers[i].name);
    free(consumers);
}
