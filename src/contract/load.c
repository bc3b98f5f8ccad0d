/*
 * Reads a contract file with libyaml's document API. Every error names the
 * file, the line and the key, and the value it expected.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "contract/contract_internal.h"
#include "lanner/io.h"
#include "lanner/limits.h"

typedef struct reader {
    const char *path;
    yaml_document_t document;
    ln_error *err;
} reader;

static int node_line(const yaml_node_t *node)
{
    return (int)node->start_mark.line + 1;
}

static const char *scalar_text(const yaml_node_t *node)
{
    return node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static ln_status fail_at(reader *in, const yaml_node_t *node, const char *where, const char *format, const char *found)
{
    return ln_error_set(in->err, LN_ERR_CONFIG, "%s:%d: %s: %s%s", in->path, node_line(node), where, format,
                        found != NULL ? found : "");
}

/* Returns a short description of what a node is, for "found ..." in messages. */
static const char *node_kind(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return scalar_text(node);
    }
}

/* A YAML null: an empty plain scalar, "~" or "null". */
static int is_null(const yaml_node_t *node)
{
    const char *text = scalar_text(node);

    return text != NULL && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (text[0] == '\0' || strcmp(text, "~") == 0 || strcmp(text, "null") == 0);
}

static ln_status read_number(reader *in, const yaml_node_t *node, const char *where, double *out)
{
    const char *text = scalar_text(node);
    char *end;

    if (text == NULL || text[0] == '\0')
        return fail_at(in, node, where, "expected a number, found ", text == NULL ? node_kind(node) : "nothing");
    if (strcmp(text, ".inf") == 0 || strcmp(text, "+.inf") == 0) {
        *out = INFINITY;
        return LN_OK;
    }
    if (strcmp(text, "-.inf") == 0) {
        *out = -INFINITY;
        return LN_OK;
    }
    *out = strtod(text, &end);
    if (end == text || *end != '\0' || isnan(*out))
        return fail_at(in, node, where, "expected a number, found ", text);
    return LN_OK;
}

static ln_status read_share(reader *in, const yaml_node_t *node, const char *where, double *out)
{
    ln_status status = read_number(in, node, where, out);

    if (status == LN_OK && !(*out >= 0.0 && *out <= 1.0))
        return fail_at(in, node, where, "expected a share from 0 to 1, found ", scalar_text(node));
    return status;
}

static ln_status read_bound(reader *in, const yaml_node_t *node, const char *where, ln_type type, double *out)
{
    const char *text = scalar_text(node);

    if (type == LN_TYPE_TIMESTAMP && text != NULL && contract_parse_timestamp(text, out) == 0)
        return LN_OK;
    ln_status status = read_number(in, node, where, out);
    if (status != LN_OK && type == LN_TYPE_TIMESTAMP)
        return fail_at(in, node, where, "expected a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ) or seconds, found ",
                       node_kind(node));
    return status;
}

static ln_status read_boolean(reader *in, const yaml_node_t *node, const char *where, int *out)
{
    const char *text = scalar_text(node);

    if (text != NULL && (strcmp(text, "true") == 0 || strcmp(text, "false") == 0)) {
        *out = text[0] == 't';
        return LN_OK;
    }
    return fail_at(in, node, where, "expected true or false, found ", text != NULL ? text : node_kind(node));
}

static ln_status read_severity_word(reader *in, const yaml_node_t *node, const char *where, ln_severity *out)
{
    const char *text = scalar_text(node);

    if (text != NULL && strcmp(text, "error") == 0) {
        *out = LN_SEVERITY_ERROR;
        return LN_OK;
    }
    if (text != NULL && strcmp(text, "warning") == 0) {
        *out = LN_SEVERITY_WARNING;
        return LN_OK;
    }
    return fail_at(in, node, where, "expected error or warning, found ", text != NULL ? text : node_kind(node));
}

static int rule_from_name(const char *name)
{
    for (int rule = 0; rule < LN_RULE_COUNT; rule++)
        if (strcmp(name, ln_rule_name((ln_rule)rule)) == 0)
            return rule;
    return -1;
}

/*
 * Reads `severity: warning` (every rule) or `severity: {max: warning, ...}`
 * (the named rules) into severities; allow_min_rows is 1 when min_rows is
 * a valid rule name here.
 */
static ln_status read_severity(reader *in, yaml_node_t *node, const char *where, int allow_min_rows,
                               ln_severity severities[LN_RULE_COUNT])
{
    if (node->type == YAML_SCALAR_NODE) {
        ln_severity severity = LN_SEVERITY_ERROR;
        ln_status status = read_severity_word(in, node, where, &severity);
        for (int rule = 0; rule < LN_RULE_COUNT && status == LN_OK; rule++)
            severities[rule] = severity;
        return status;
    }
    if (node->type != YAML_MAPPING_NODE)
        return fail_at(in, node, where, "severity must be error, warning or a map from rule to severity, found ",
                       node_kind(node));

    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(&in->document, pair->key);
        yaml_node_t *value = yaml_document_get_node(&in->document, pair->value);
        const char *name = scalar_text(key);
        int rule = name != NULL ? rule_from_name(name) : -1;
        if (rule < 0 || (rule == LN_RULE_MIN_ROWS && !allow_min_rows))
            return ln_error_set(in->err, LN_ERR_CONFIG,
                                "%s:%d: %s: unknown rule '%s' under severity; expected one of %spresent, type, "
                                "min, max, max_missing, values, unique",
                                in->path, node_line(key), where, name != NULL ? name : node_kind(key),
                                allow_min_rows ? "min_rows, " : "");
        ln_status status = read_severity_word(in, value, where, &severities[rule]);
        if (status != LN_OK)
            return status;
    }
    return LN_OK;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static ln_status read_values(reader *in, yaml_node_t *node, const char *where, ln_contract_column *column)
{
    if (node->type != YAML_SEQUENCE_NODE)
        return fail_at(in, node, where, "values must be a list such as [CA, US], found ", node_kind(node));

    size_t count = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (count > LN_CONTRACT_MAX_VALUES)
        return ln_error_set(in->err, LN_ERR_LIMIT, "%s:%d: %s: values lists %zu values, above the limit of %d",
                            in->path, node_line(node), where, count, LN_CONTRACT_MAX_VALUES);
    column->values = calloc(count + 1, sizeof *column->values);
    if (column->values == NULL)
        return ln_error_set(in->err, LN_ERR_NOMEM, "%s: out of memory", in->path);

    for (yaml_node_item_t *item = node->data.sequence.items.start; item < node->data.sequence.items.top; item++) {
        yaml_node_t *value = yaml_document_get_node(&in->document, *item);
        const char *text = scalar_text(value);
        if (text == NULL)
            return fail_at(in, value, where, "each entry of values must be a single value, found ", node_kind(value));
        column->values[column->n_values] = contract_strdup(text);
        if (column->values[column->n_values] == NULL)
            return ln_error_set(in->err, LN_ERR_NOMEM, "%s: out of memory", in->path);
        column->n_values++;
    }
    qsort(column->values, column->n_values, sizeof *column->values, compare_strings);
    for (size_t i = 1; i < column->n_values; i++)
        if (strcmp(column->values[i - 1], column->values[i]) == 0)
            return fail_at(in, node, where, "values lists this value twice: ", column->values[i]);
    return LN_OK;
}

static const char column_keys[] = "type, min, max, max_missing, missing, values, max_new_share, unique, severity";

static ln_status read_type(reader *in, yaml_node_t *node, const char *where, ln_contract_column *column)
{
    const char *text = scalar_text(node);
    int type = text != NULL ? ln_type_from_name(text) : -1;

    if (text != NULL && strcmp(text, "any") == 0)
        return LN_OK;
    if (type < 0)
        return fail_at(in, node, where,
                       "type must be integer, float, boolean, timestamp, category, text or any, found ",
                       text != NULL ? text : node_kind(node));
    column->has_type = 1;
    column->type = (ln_type)type;
    return LN_OK;
}

/* Reads one key of a column's map; type has been read already, because bounds depend on it. */
static ln_status read_column_key(reader *in, const char *key, yaml_node_t *value, const char *where,
                                 ln_contract_column *column, int *has_new_share)
{
    ln_type bound_type = column->has_type ? column->type : LN_TYPE_FLOAT;

    if (strcmp(key, "type") == 0)
        return LN_OK;
    if (strcmp(key, "min") == 0) {
        column->has_min = 1;
        return read_bound(in, value, where, bound_type, &column->min);
    }
    if (strcmp(key, "max") == 0) {
        column->has_max = 1;
        return read_bound(in, value, where, bound_type, &column->max);
    }
    if (strcmp(key, "max_missing") == 0) {
        column->has_max_missing = 1;
        return read_share(in, value, where, &column->max_missing);
    }
    if (strcmp(key, "missing") == 0) {
        const char *text = scalar_text(value);
        if (text == NULL || strcmp(text, "never") != 0)
            return fail_at(in, value, where, "missing must be never (or use max_missing: SHARE), found ",
                           text != NULL ? text : node_kind(value));
        column->has_max_missing = 1;
        column->max_missing = 0.0;
        return LN_OK;
    }
    if (strcmp(key, "values") == 0)
        return read_values(in, value, where, column);
    if (strcmp(key, "max_new_share") == 0) {
        *has_new_share = 1;
        return read_share(in, value, where, &column->max_new_share);
    }
    if (strcmp(key, "unique") == 0)
        return read_boolean(in, value, where, &column->unique);
    if (strcmp(key, "severity") == 0)
        return read_severity(in, value, where, 0, column->severity);
    return ln_error_set(in->err, LN_ERR_CONFIG, "%s:%d: %s: unknown key '%s'; expected one of %s", in->path,
                        node_line(value), where, key, column_keys);
}

/* Checks that every key of mapping is a scalar and appears once. */
static ln_status check_keys(reader *in, yaml_node_t *mapping, const char *where)
{
    for (yaml_node_pair_t *pair = mapping->data.mapping.pairs.start; pair < mapping->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(&in->document, pair->key);
        if (scalar_text(key) == NULL)
            return fail_at(in, key, where, "expected a plain key, found ", node_kind(key));
        for (yaml_node_pair_t *other = mapping->data.mapping.pairs.start; other < pair; other++) {
            yaml_node_t *earlier = yaml_document_get_node(&in->document, other->key);
            if (strcmp(scalar_text(earlier), scalar_text(key)) == 0)
                return fail_at(in, key, where, "this key appears twice: ", scalar_text(key));
        }
    }
    return LN_OK;
}

static ln_status read_column(reader *in, yaml_node_t *name_node, yaml_node_t *node, const ln_severity *defaults,
                             ln_contract_column *column)
{
    char where[256];
    int has_new_share = 0;

    column->name = contract_strdup(scalar_text(name_node));
    if (column->name == NULL)
        return ln_error_set(in->err, LN_ERR_NOMEM, "%s: out of memory", in->path);
    column->line = node_line(name_node);
    memcpy(column->severity, defaults, sizeof column->severity);
    snprintf(where, sizeof where, "column '%s'", column->name);

    if (is_null(node))
        return LN_OK;
    if (node->type != YAML_MAPPING_NODE)
        return fail_at(in, node, where, "expected a map of rules such as {type: float, min: 0}, found ",
                       node_kind(node));
    ln_status status = check_keys(in, node, where);

    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         status == LN_OK && pair < node->data.mapping.pairs.top; pair++) {
        if (strcmp(scalar_text(yaml_document_get_node(&in->document, pair->key)), "type") == 0)
            status = read_type(in, yaml_document_get_node(&in->document, pair->value), where, column);
    }
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         status == LN_OK && pair < node->data.mapping.pairs.top; pair++) {
        const char *key = scalar_text(yaml_document_get_node(&in->document, pair->key));
        status = read_column_key(in, key, yaml_document_get_node(&in->document, pair->value), where, column,
                                 &has_new_share);
    }
    if (status != LN_OK)
        return status;

    if (column->has_min && column->has_max && column->min > column->max)
        return fail_at(in, node, where, "min is above max", NULL);
    if (has_new_share && column->values == NULL)
        return fail_at(in, node, where, "max_new_share needs a values list", NULL);
    return LN_OK;
}

static ln_status read_columns(reader *in, yaml_node_t *node, const ln_severity *defaults, ln_contract *contract)
{
    if (is_null(node))
        return LN_OK;
    if (node->type != YAML_MAPPING_NODE)
        return fail_at(in, node, "columns", "expected a map from column name to rules, found ", node_kind(node));

    size_t count = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (count > LN_MAX_COLUMNS)
        return ln_error_set(in->err, LN_ERR_LIMIT, "%s:%d: columns lists %zu columns, above the limit of %d",
                            in->path, node_line(node), count, LN_MAX_COLUMNS);
    contract->columns = calloc(count + 1, sizeof *contract->columns);
    if (contract->columns == NULL)
        return ln_error_set(in->err, LN_ERR_NOMEM, "%s: out of memory", in->path);

    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(&in->document, pair->key);
        if (scalar_text(key) == NULL)
            return fail_at(in, key, "columns", "expected a column name, found ", node_kind(key));
        ln_contract_column *column = &contract->columns[contract->n_columns++];
        ln_status status =
            read_column(in, key, yaml_document_get_node(&in->document, pair->value), defaults, column);
        if (status != LN_OK)
            return status;
    }

    /* Duplicate names: sort a copy of the pointers, so a wide contract is not checked in quadratic time. */
    const char **names = malloc((contract->n_columns + 1) * sizeof *names);
    if (names == NULL)
        return ln_error_set(in->err, LN_ERR_NOMEM, "%s: out of memory", in->path);
    for (size_t c = 0; c < contract->n_columns; c++)
        names[c] = contract->columns[c].name;
    qsort(names, contract->n_columns, sizeof *names, compare_strings);
    for (size_t c = 1; c < contract->n_columns; c++) {
        if (strcmp(names[c - 1], names[c]) == 0) {
            ln_status status = ln_error_set(in->err, LN_ERR_CONFIG, "%s: column '%s' is listed twice under columns",
                                            in->path, names[c]);
            free(names);
            return status;
        }
    }
    free(names);
    return LN_OK;
}

static ln_status read_top_level(reader *in, yaml_node_t *root, ln_contract *contract)
{
    ln_severity defaults[LN_RULE_COUNT] = {LN_SEVERITY_ERROR};
    yaml_node_t *columns = NULL;

    if (root == NULL || is_null(root))
        return ln_error_set(in->err, LN_ERR_CONFIG, "%s: the contract is empty; expected min_rows and columns",
                            in->path);
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(in, root, "top level", "expected a map with min_rows, severity and columns, found ",
                       node_kind(root));
    ln_status status = check_keys(in, root, "top level");

    for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
         status == LN_OK && pair < root->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(&in->document, pair->key);
        yaml_node_t *value = yaml_document_get_node(&in->document, pair->value);
        const char *name = scalar_text(key);
        double rows;

        if (strcmp(name, "min_rows") == 0) {
            status = read_number(in, value, "min_rows", &rows);
            if (status == LN_OK && !(rows >= 0 && rows == floor(rows) && rows < 9e15))
                status = fail_at(in, value, "min_rows", "expected a whole number of rows, found ", scalar_text(value));
            contract->has_min_rows = 1;
            contract->min_rows = status == LN_OK ? (size_t)rows : 0;
        } else if (strcmp(name, "severity") == 0) {
            status = read_severity(in, value, "severity", 1, defaults);
        } else if (strcmp(name, "columns") == 0) {
            columns = value;
        } else {
            status = ln_error_set(in->err, LN_ERR_CONFIG,
                                  "%s:%d: unknown top-level key '%s'; expected one of min_rows, severity, columns",
                                  in->path, node_line(key), name);
        }
    }
    if (status != LN_OK)
        return status;

    contract->min_rows_severity = defaults[LN_RULE_MIN_ROWS];
    if (columns == NULL)
        return fail_at(in, root, "top level", "the contract has no columns key", NULL);
    return read_columns(in, columns, defaults, contract);
}

static ln_status parse_document(reader *in, const char *text, size_t size)
{
    yaml_parser_t parser;

    if (!yaml_parser_initialize(&parser))
        return ln_error_set(in->err, LN_ERR_NOMEM, "%s: out of memory", in->path);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
    int loaded = yaml_parser_load(&parser, &in->document);
    ln_status status = LN_OK;
    if (!loaded)
        status = ln_error_set(in->err, LN_ERR_PARSE, "%s:%zu:%zu: invalid YAML: %s", in->path,
                              parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                              parser.problem != NULL ? parser.problem : "unknown problem");
    yaml_parser_delete(&parser);
    return status;
}

ln_status ln_contract_parse(const char *text, size_t size, const char *source_name, ln_contract **out,
                            ln_error *err)
{
    reader in = {.path = source_name, .err = err};

    *out = NULL;
    if (size > LN_CONTRACT_MAX_FILE_BYTES)
        return ln_error_set(err, LN_ERR_LIMIT, "%s: the contract has %zu bytes, above the limit of %u", source_name,
                            size, LN_CONTRACT_MAX_FILE_BYTES);
    ln_status status = parse_document(&in, text, size);
    if (status != LN_OK)
        return status;

    ln_contract *contract = calloc(1, sizeof *contract);
    if (contract == NULL) {
        yaml_document_delete(&in.document);
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", source_name);
    }
    status = read_top_level(&in, yaml_document_get_root_node(&in.document), contract);
    yaml_document_delete(&in.document);
    if (status != LN_OK) {
        ln_contract_free(contract);
        return status;
    }
    *out = contract;
    return LN_OK;
}

ln_status ln_contract_load(const char *path, ln_contract **out, ln_error *err)
{
    char *text = NULL;
    size_t size = 0;

    *out = NULL;
    ln_status status = ln_read_file(path, LN_CONTRACT_MAX_FILE_BYTES, &text, &size, err);
    if (status != LN_OK)
        return status;
    status = ln_contract_parse(text, size, path, out, err);
    free(text);
    return status;
}
