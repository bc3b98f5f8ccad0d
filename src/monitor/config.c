/*
 * Monitoring settings: the `monitor:` section of a pipeline file and window
 * lengths such as "6h". The pipeline parser only accepts the key; its values
 * are read here, so the monitor's settings live with the monitor.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lanner/io.h"
#include "lanner/limits.h"
#include "lanner/monitor.h"

static const char *const threshold_keys[] = {"psi_max", "score_psi_max", "auc_min", "payoff_drop_max"};

static double *threshold_field(ln_monitor_thresholds *thresholds, size_t key)
{
    double *fields[] = {&thresholds->psi_max, &thresholds->score_psi_max, &thresholds->auc_min,
                        &thresholds->payoff_drop_max};
    return fields[key];
}

static const char *scalar_of(const yaml_node_t *node)
{
    return node != NULL && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static ln_status read_threshold(const char *path, const yaml_node_t *key_node, const yaml_node_t *value_node,
                                ln_monitor_thresholds *thresholds, ln_error *err)
{
    const char *key = scalar_of(key_node);
    const char *text = scalar_of(value_node);
    int line = (int)key_node->start_mark.line + 1;

    for (size_t k = 0; k < sizeof threshold_keys / sizeof threshold_keys[0]; k++) {
        if (key == NULL || strcmp(key, threshold_keys[k]) != 0)
            continue;
        char *end = NULL;
        errno = 0;
        double value = text != NULL ? strtod(text, &end) : NAN;
        if (text == NULL || end == text || *end != '\0' || errno != 0 || !isfinite(value) || value < 0)
            return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: monitor.%s must be a number >= 0, found '%s'", path, line,
                                key, text ? text : "a list or mapping");
        *threshold_field(thresholds, k) = value;
        return LN_OK;
    }
    return ln_error_set(err, LN_ERR_CONFIG,
                        "%s:%d: unknown key 'monitor.%s'; expected psi_max, score_psi_max, auc_min or payoff_drop_max",
                        path, line, key ? key : "?");
}

static ln_status read_section(const char *path, yaml_document_t *document, ln_monitor_thresholds *thresholds,
                              ln_error *err)
{
    yaml_node_t *root = yaml_document_get_root_node(document);

    if (root == NULL || root->type != YAML_MAPPING_NODE)
        return LN_OK;
    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
        const char *key = scalar_of(yaml_document_get_node(document, pair->key));
        if (key == NULL || strcmp(key, "monitor") != 0)
            continue;
        yaml_node_t *section = yaml_document_get_node(document, pair->value);
        if (section->type != YAML_MAPPING_NODE)
            return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: 'monitor' must be a mapping such as {psi_max: 0.2}", path,
                                (int)section->start_mark.line + 1);
        for (yaml_node_pair_t *item = section->data.mapping.pairs.start; item < section->data.mapping.pairs.top;
             item++) {
            ln_status status = read_threshold(path, yaml_document_get_node(document, item->key),
                                              yaml_document_get_node(document, item->value), thresholds, err);
            if (status != LN_OK)
                return status;
        }
    }
    return LN_OK;
}

ln_status ln_monitor_read_thresholds(const char *pipeline_path, ln_monitor_thresholds *thresholds, ln_error *err)
{
    char *text = NULL;
    size_t size = 0;
    yaml_parser_t parser;
    yaml_document_t document;

    ln_status status = ln_read_file(pipeline_path, LN_MAX_PIPELINE_BYTES, &text, &size, err);
    if (status != LN_OK)
        return status;
    if (!yaml_parser_initialize(&parser)) {
        free(text);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading %s", pipeline_path);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
    if (!yaml_parser_load(&parser, &document)) {
        status = ln_error_set(err, LN_ERR_PARSE, "%s:%zu: invalid YAML: %s", pipeline_path,
                              parser.problem_mark.line + 1, parser.problem ? parser.problem : "unknown error");
        yaml_parser_delete(&parser);
        free(text);
        return status;
    }

    status = read_section(pipeline_path, &document, thresholds, err);
    yaml_document_delete(&document);
    yaml_parser_delete(&parser);
    free(text);
    return status;
}

ln_status ln_monitor_parse_window(const char *text, double *seconds, ln_error *err)
{
    static const char units[] = "smhdw";
    static const double unit_seconds[] = {1, 60, 3600, 86400, 604800};
    char *end = NULL;

    errno = 0;
    long long count = text[0] >= '0' && text[0] <= '9' ? strtoll(text, &end, 10) : 0;
    const char *unit = end != NULL && *end != '\0' && end[1] == '\0' ? strchr(units, *end) : NULL;
    if (count <= 0 || errno != 0 || unit == NULL || count > 1000000000)
        return ln_error_set(err, LN_ERR_CONFIG,
                            "invalid window '%s': expected a positive whole number and a unit s, m, h, d or w, "
                            "such as 6h, 1d or 7d", text);
    *seconds = (double)count * unit_seconds[unit - units];
    return LN_OK;
}
