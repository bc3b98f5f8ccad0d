/*
 * Data-contract checks on scored rows: the rules of a model's contract that
 * one row can break (type, min, max, `missing: never`, a category outside
 * `values`). Aggregate rules (max_missing above 0, max_new_share, unique,
 * min_rows) describe a batch and are not checked here.
 *
 * The contract columns are resolved to feature indices when the model loads,
 * so a check costs an array access and a few comparisons per value. A
 * category the model has its own bin for is looked up by the code that the
 * request conversion already found. Only a category the model has never
 * seen costs one more hash lookup.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve_internal.h"

static int is_numeric_type(ln_type type)
{
    return type == LN_TYPE_INT || type == LN_TYPE_FLOAT || type == LN_TYPE_BOOL || type == LN_TYPE_TIMESTAMP;
}

static void check_free(serve_check *check)
{
    free(check->allowed);
    if (check->values != NULL)
        ln_dict_release(check->values);
}

/* Marks which of the model's categories the contract lists, and keeps the list for the others. */
static ln_status resolve_values(serve_check *check, const ln_model *model, size_t feature, ln_error *err)
{
    const ln_contract_column *column = check->column;
    int32_t n = ln_model_category_count(model, feature);

    check->values = ln_dict_new();
    check->allowed = calloc(n > 0 ? (size_t)n : 1, 1);
    if (check->values == NULL || check->allowed == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory resolving the values of contract column '%s'",
                            column->name);
    for (size_t i = 0; i < column->n_values; i++)
        if (ln_dict_intern(check->values, column->values[i], strlen(column->values[i])) < 0)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory resolving the values of contract column '%s'",
                                column->name);
    for (int32_t code = 0; code < n; code++) {
        const char *category = ln_model_category(model, feature, code);
        check->allowed[code] = ln_dict_find(check->values, category, strlen(category)) >= 0;
    }
    check->new_value_is_error = column->max_new_share == 0 && column->severity[LN_RULE_VALUES] == LN_SEVERITY_ERROR;
    return LN_OK;
}

ln_status serve_schema_set_contract(serve_schema *schema, const ln_model *model, const char *text, size_t size,
                                    const char *source_name, ln_error *err)
{
    ln_contract *contract = NULL;
    ln_status status = ln_contract_parse(text, size, source_name, &contract, err);
    if (status != LN_OK)
        return status;

    serve_check *checks = calloc(schema->n_features ? schema->n_features : 1, sizeof *checks);
    if (checks == NULL) {
        ln_contract_free(contract);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory resolving %s", source_name);
    }
    schema->contract = contract;
    schema->checks = checks;
    schema->n_checked = 0;

    /* Quadratic in columns, but it runs once per model load and contracts list at most LN_MAX_COLUMNS. */
    for (size_t c = 0; c < contract->n_columns; c++) {
        const ln_contract_column *column = &contract->columns[c];
        for (size_t f = 0; f < schema->n_features; f++) {
            if (strcmp(schema->names[f], column->name) != 0)
                continue;
            checks[f].column = column;
            checks[f].index = schema->n_checked++;
            if (schema->types[f] == LN_TYPE_CATEGORY && column->values != NULL)
                status = resolve_values(&checks[f], model, f, err);
            break;
        }
        if (status != LN_OK)
            return status; /* serve_schema_clear frees what is set */
    }
    return LN_OK;
}

void serve_schema_count_in(serve_schema *schema, serve_metrics *metrics, serve_series *series)
{
    if (schema->checks == NULL || series == NULL || schema->n_checked == 0)
        return;

    const char **names = calloc(schema->n_checked, sizeof *names);
    if (names == NULL)
        return;
    for (size_t f = 0; f < schema->n_features; f++)
        if (schema->checks[f].column != NULL)
            names[schema->checks[f].index] = schema->checks[f].column->name;
    atomic_uint_fast64_t *counters = serve_metrics_violation_counters(metrics, series, names, schema->n_checked);
    free(names);
    if (counters == NULL)
        return;
    for (size_t f = 0; f < schema->n_features; f++)
        if (schema->checks[f].column != NULL)
            schema->checks[f].counters = counters + schema->checks[f].index * LN_RULE_COUNT;
}

void serve_schema_clear_checks(serve_schema *schema)
{
    if (schema->checks != NULL)
        for (size_t f = 0; f < schema->n_features; f++)
            check_free(&schema->checks[f]);
    free(schema->checks);
    ln_contract_free(schema->contract);
    schema->checks = NULL;
    schema->contract = NULL;
    schema->n_checked = 0;
}

/* Counts one violation and lists it when there is room. */
static void record(const serve_check *check, size_t feature, size_t row, ln_rule rule, const double *number,
                   const char *text, size_t length, serve_counts *counts)
{
    ln_severity severity = check->column->severity[rule];

    if (rule == LN_RULE_VALUES && !check->new_value_is_error)
        severity = LN_SEVERITY_WARNING;
    if (check->counters != NULL)
        atomic_fetch_add_explicit(&check->counters[rule], 1, memory_order_relaxed);

    serve_violation violation = {.row = row, .feature = feature, .rule = rule, .severity = severity};
    if (number != NULL) {
        violation.has_number = 1;
        violation.value = *number;
    }
    if (text != NULL) {
        size_t kept = length < sizeof violation.category - 1 ? length : sizeof violation.category - 1;
        /* Cut before a UTF-8 continuation byte, so the quoted value stays valid UTF-8 in the JSON response. */
        if (kept < length)
            while (kept > 0 && ((unsigned char)text[kept] & 0xC0) == 0x80)
                kept--;
        memcpy(violation.category, text, kept);
        violation.category[kept] = '\0';
    }

    if (severity == LN_SEVERITY_ERROR && counts->errors++ == 0)
        counts->first_error = violation;
    if (counts->listed == NULL)
        return;
    if (counts->n_listed < counts->max_listed)
        counts->listed[counts->n_listed++] = violation;
    else
        counts->omitted++;
}

/* Returns 1 when a number fits the contract's type; infinities fit integer and leave the bounds to decide. */
static int number_fits_type(ln_type type, double value)
{
    if (type == LN_TYPE_INT)
        return !isfinite(value) || value == floor(value);
    if (type == LN_TYPE_BOOL)
        return value == 0 || value == 1;
    return is_numeric_type(type);
}

void serve_check_number(const serve_schema *schema, size_t f, size_t row, double value, serve_counts *counts)
{
    if (schema->checks == NULL || schema->checks[f].column == NULL)
        return;

    const serve_check *check = &schema->checks[f];
    const ln_contract_column *column = check->column;
    if (column->has_type && !number_fits_type(column->type, value)) {
        record(check, f, row, LN_RULE_TYPE, &value, NULL, 0, counts);
        return;
    }
    if (column->has_min && value < column->min)
        record(check, f, row, LN_RULE_MIN, &value, NULL, 0, counts);
    if (column->has_max && value > column->max)
        record(check, f, row, LN_RULE_MAX, &value, NULL, 0, counts);
}

void serve_check_category(const serve_schema *schema, size_t f, size_t row, int32_t known_code, const char *text,
                          size_t length, serve_counts *counts)
{
    if (schema->checks == NULL || schema->checks[f].column == NULL)
        return;

    const serve_check *check = &schema->checks[f];
    if (check->column->has_type && is_numeric_type(check->column->type)) {
        record(check, f, row, LN_RULE_TYPE, NULL, text, length, counts);
        return;
    }
    if (check->allowed == NULL)
        return;
    int listed = known_code >= 0 ? check->allowed[known_code] : ln_dict_find(check->values, text, length) >= 0;
    if (!listed)
        record(check, f, row, LN_RULE_VALUES, NULL, text, length, counts);
}

void serve_check_missing(const serve_schema *schema, size_t f, size_t row, serve_counts *counts)
{
    if (schema->checks == NULL || schema->checks[f].column == NULL)
        return;

    const serve_check *check = &schema->checks[f];
    if (check->column->has_max_missing && check->column->max_missing == 0)
        record(check, f, row, LN_RULE_MAX_MISSING, NULL, NULL, 0, counts);
}

/* The bound a violation broke, or NULL when its rule has none. */
static const double *violated_bound(const ln_contract_column *column, ln_rule rule)
{
    if (rule == LN_RULE_MIN)
        return &column->min;
    if (rule == LN_RULE_MAX)
        return &column->max;
    return NULL;
}

void serve_violation_json(const serve_schema *schema, const serve_violation *violation, serve_buf *buf)
{
    const ln_contract_column *column = schema->checks[violation->feature].column;
    const double *bound = violated_bound(column, violation->rule);
    char number[32];

    serve_buf_puts(buf, "{\"column\":");
    serve_buf_json_string(buf, column->name);
    serve_buf_printf(buf, ",\"rule\":\"%s\",\"severity\":\"%s\",\"value\":", ln_rule_name(violation->rule),
                     violation->severity == LN_SEVERITY_ERROR ? "error" : "warning");
    if (violation->has_number) {
        /* JSON has no infinity, so an infinite value is written as the text "inf" or "-inf". */
        if (isinf(violation->value)) {
            serve_buf_puts(buf, violation->value > 0 ? "\"inf\"" : "\"-inf\"");
        } else {
            serve_format_double(violation->value, number, sizeof number);
            serve_buf_puts(buf, number);
        }
    } else if (violation->rule == LN_RULE_MAX_MISSING) {
        serve_buf_puts(buf, "null");
    } else {
        serve_buf_json_string(buf, violation->category);
    }
    if (bound != NULL) {
        serve_buf_puts(buf, ",\"bound\":");
        serve_buf_json_number(buf, *bound);
    }
    if (violation->rule == LN_RULE_TYPE) {
        serve_buf_puts(buf, ",\"expected\":");
        serve_buf_json_string(buf, ln_type_name(column->type));
    }
    serve_buf_puts(buf, "}");
}

void serve_violation_message(const serve_schema *schema, const serve_violation *violation, char *out,
                             size_t capacity)
{
    const ln_contract_column *column = schema->checks[violation->feature].column;
    char value[SERVE_VIOLATION_TEXT + 8];
    char bound[32] = "";

    if (violation->has_number)
        serve_format_double(violation->value, value, sizeof value);
    else
        snprintf(value, sizeof value, "\"%s\"", violation->category);
    if (violated_bound(column, violation->rule) != NULL)
        serve_format_double(*violated_bound(column, violation->rule), bound, sizeof bound);

    const char *name = column->name;
    switch (violation->rule) {
    case LN_RULE_MIN:
        snprintf(out, capacity, "column \"%s\" breaks contract rule min: value %s is below the minimum %s", name,
                 value, bound);
        break;
    case LN_RULE_MAX:
        snprintf(out, capacity, "column \"%s\" breaks contract rule max: value %s is above the maximum %s", name,
                 value, bound);
        break;
    case LN_RULE_TYPE:
        snprintf(out, capacity, "column \"%s\" breaks contract rule type: value %s is not of type %s", name, value,
                 ln_type_name(column->type));
        break;
    case LN_RULE_MAX_MISSING:
        snprintf(out, capacity,
                 "column \"%s\" breaks contract rule max_missing: the value is missing and the contract says "
                 "missing: never",
                 name);
        break;
    case LN_RULE_VALUES:
        snprintf(out, capacity, "column \"%s\" breaks contract rule values: category %s is not one of its %zu values",
                 name, value, column->n_values);
        break;
    default:
        snprintf(out, capacity, "column \"%s\" breaks contract rule %s", name, ln_rule_name(violation->rule));
        break;
    }
}
