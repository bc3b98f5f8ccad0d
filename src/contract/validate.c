/*
 * Validation of a table against a contract: each rule scans its column once,
 * counts the rows that break it and keeps the first few as examples.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "contract/contract_internal.h"

/* Characters of a value quoted in a report; longer values are cut. */
#define EXAMPLE_VALUE_BYTES 80

typedef struct report_builder {
    ln_validation *report;
    size_t capacity;
    ln_status status; /* LN_ERR_NOMEM once an allocation failed */
} report_builder;

static ln_violation *add_violation(report_builder *builder, const char *column, ln_rule rule, ln_severity severity,
                                   size_t considered)
{
    ln_validation *report = builder->report;

    if (builder->status != LN_OK)
        return NULL;
    if (report->n_violations == builder->capacity) {
        size_t capacity = builder->capacity ? 2 * builder->capacity : 16;
        ln_violation *grown = realloc(report->violations, capacity * sizeof *grown);
        if (grown == NULL) {
            builder->status = LN_ERR_NOMEM;
            return NULL;
        }
        report->violations = grown;
        builder->capacity = capacity;
    }
    ln_violation *violation = &report->violations[report->n_violations];
    memset(violation, 0, sizeof *violation);
    violation->column = column != NULL ? contract_strdup(column) : NULL;
    if (column != NULL && violation->column == NULL) {
        builder->status = LN_ERR_NOMEM;
        return NULL;
    }
    report->n_violations++;
    violation->rule = rule;
    violation->severity = severity;
    violation->considered = considered;
    if (severity == LN_SEVERITY_ERROR)
        report->errors++;
    else
        report->warnings++;
    return violation;
}

static void set_message(report_builder *builder, ln_violation *violation, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void set_message(report_builder *builder, ln_violation *violation, const char *format, ...)
{
    char message[1024];
    va_list args;

    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    violation->message = contract_strdup(message);
    if (violation->message == NULL)
        builder->status = LN_ERR_NOMEM;
}

static void add_example(report_builder *builder, ln_violation *violation, const ln_column *column, size_t row)
{
    char value[EXAMPLE_VALUE_BYTES];

    if (violation->n_examples == LN_VALIDATION_EXAMPLES)
        return;
    ln_column_format(column, row, value, sizeof value);
    violation->example_values[violation->n_examples] = contract_strdup(value);
    if (violation->example_values[violation->n_examples] == NULL) {
        builder->status = LN_ERR_NOMEM;
        return;
    }
    violation->example_rows[violation->n_examples++] = row + 1;
}

/* A row predicate: 1 when the row breaks the rule. */
typedef int (*row_check)(const ln_column *column, size_t row, double bound);

/*
 * Counts the rows of column that break check and, when any do, adds a
 * violation with the first examples; returns the count.
 */
static size_t scan_rows(report_builder *builder, const ln_column *column, size_t n_rows, row_check check,
                        double bound, ln_rule rule, ln_severity severity, size_t considered, ln_violation **out)
{
    size_t count = 0;
    size_t first[LN_VALIDATION_EXAMPLES];

    *out = NULL;
    for (size_t r = 0; r < n_rows; r++) {
        if (!check(column, r, bound))
            continue;
        if (count < LN_VALIDATION_EXAMPLES)
            first[count] = r;
        count++;
    }
    if (count == 0)
        return 0;

    ln_violation *violation = add_violation(builder, column->name, rule, severity, considered);
    if (violation == NULL)
        return count;
    violation->count = count;
    for (size_t i = 0; i < count && i < LN_VALIDATION_EXAMPLES; i++)
        add_example(builder, violation, column, first[i]);
    *out = violation;
    return count;
}

static int is_missing_row(const ln_column *column, size_t row, double unused)
{
    (void)unused;
    return ln_column_is_missing(column, row);
}

static int below_min(const ln_column *column, size_t row, double bound)
{
    return column->values[row] < bound;
}

static int above_max(const ln_column *column, size_t row, double bound)
{
    return column->values[row] > bound;
}

static int not_whole(const ln_column *column, size_t row, double unused)
{
    double value = column->values[row];

    (void)unused;
    return !isnan(value) && (isinf(value) || value != floor(value));
}

static int not_zero_or_one(const ln_column *column, size_t row, double unused)
{
    double value = column->values[row];

    (void)unused;
    return !isnan(value) && value != 0.0 && value != 1.0;
}

static size_t count_present(const ln_column *column, size_t n_rows)
{
    size_t present = 0;

    for (size_t r = 0; r < n_rows; r++)
        present += !ln_column_is_missing(column, r);
    return present;
}

static void format_share(double share, char *buffer, size_t capacity)
{
    snprintf(buffer, capacity, "%.2f%%", 100.0 * share);
}

static void check_missing(report_builder *builder, const ln_contract_column *rule, const ln_column *column,
                          size_t n_rows)
{
    ln_violation *violation;
    size_t missing = 0;
    char share[32], limit[32];

    if (!rule->has_max_missing)
        return;
    for (size_t r = 0; r < n_rows; r++)
        missing += ln_column_is_missing(column, r);
    double observed = n_rows > 0 ? (double)missing / (double)n_rows : 0.0;
    if (missing == 0 || observed <= rule->max_missing)
        return;

    scan_rows(builder, column, n_rows, is_missing_row, 0, LN_RULE_MAX_MISSING,
              rule->severity[LN_RULE_MAX_MISSING], n_rows, &violation);
    if (violation == NULL)
        return;
    format_share(observed, share, sizeof share);
    if (rule->max_missing == 0) {
        set_message(builder, violation, "%zu of %zu rows (%s) are missing; the contract says missing: never",
                    missing, n_rows, share);
        return;
    }
    format_share(rule->max_missing, limit, sizeof limit);
    set_message(builder, violation, "%zu of %zu rows (%s) are missing, above max_missing %s", missing, n_rows,
                share, limit);
}

/* 1 when a string cell does not read as a number (a whole one when whole is 1). */
static int not_a_number(const ln_column *column, size_t row, double whole)
{
    if (ln_column_is_missing(column, row))
        return 0;

    const char *text = ln_dict_string(column->dict, column->codes[row]);
    char *end = NULL;
    double value = strtod(text, &end);
    while (end != text && (*end == ' ' || *end == '\t'))
        end++;
    if (end == text || *end != '\0' || isnan(value))
        return 1;
    return whole != 0 && value != floor(value);
}

/* Returns 1 when column satisfies the contract's type, adding a type violation when it does not. */
static int check_type(report_builder *builder, const ln_contract_column *rule, const ln_column *column,
                      size_t n_rows)
{
    ln_violation *violation = NULL;
    ln_severity severity = rule->severity[LN_RULE_TYPE];
    size_t present = count_present(column, n_rows);
    ln_type found = column->type;
    int numeric = found == LN_TYPE_INT || found == LN_TYPE_FLOAT;
    int strings = found == LN_TYPE_CATEGORY || found == LN_TYPE_TEXT;
    const char *expected = ln_type_name(rule->type);

    if (!rule->has_type || found == rule->type)
        return 1;

    /*
     * A number column that loaded as strings usually has a few stray cells:
     * name those cells, not every row.
     */
    if (strings && (rule->type == LN_TYPE_FLOAT || rule->type == LN_TYPE_INT)) {
        int whole = rule->type == LN_TYPE_INT;
        size_t count = scan_rows(builder, column, n_rows, not_a_number, whole, LN_RULE_TYPE, severity, present,
                                 &violation);
        if (violation != NULL)
            set_message(builder, violation, "%zu of %zu values are not %s; expected %s", count, present,
                        whole ? "whole numbers" : "numbers", expected);
        return 0;
    }

    switch (rule->type) {
    case LN_TYPE_FLOAT:
        if (found == LN_TYPE_INT)
            return 1;
        break;
    case LN_TYPE_INT:
        if (found == LN_TYPE_FLOAT) {
            size_t count = scan_rows(builder, column, n_rows, not_whole, 0, LN_RULE_TYPE, severity, present, &violation);
            if (violation != NULL)
                set_message(builder, violation, "%zu of %zu values are not whole numbers; expected integer", count,
                            present);
            return count == 0;
        }
        break;
    case LN_TYPE_BOOL:
        if (numeric) {
            size_t count =
                scan_rows(builder, column, n_rows, not_zero_or_one, 0, LN_RULE_TYPE, severity, present, &violation);
            if (violation != NULL)
                set_message(builder, violation, "%zu of %zu values are neither 0 nor 1; expected boolean", count,
                            present);
            return count == 0;
        }
        break;
    case LN_TYPE_CATEGORY:
    case LN_TYPE_TEXT:
        if (strings)
            return 1;
        break;
    case LN_TYPE_TIMESTAMP:
        break;
    }

    violation = add_violation(builder, column->name, LN_RULE_TYPE, severity, present);
    if (violation == NULL)
        return 0;
    violation->count = present;
    for (size_t r = 0; r < n_rows && violation->n_examples < LN_VALIDATION_EXAMPLES; r++)
        if (!ln_column_is_missing(column, r))
            add_example(builder, violation, column, r);
    set_message(builder, violation, "the column is %s; expected %s", ln_type_name(found), expected);
    return 0;
}

static void check_range(report_builder *builder, const ln_contract_column *rule, const ln_column *column,
                        size_t n_rows)
{
    ln_violation *violation;
    char bound[40];
    size_t present;

    if (!rule->has_min && !rule->has_max)
        return;
    present = count_present(column, n_rows);
    if (!ln_type_is_numeric(column->type)) {
        violation = add_violation(builder, column->name, rule->has_min ? LN_RULE_MIN : LN_RULE_MAX,
                                  rule->severity[rule->has_min ? LN_RULE_MIN : LN_RULE_MAX], present);
        if (violation != NULL) {
            violation->count = present;
            set_message(builder, violation, "min and max need a numeric column; the column is %s",
                        ln_type_name(column->type));
        }
        return;
    }

    if (rule->has_min) {
        size_t count = scan_rows(builder, column, n_rows, below_min, rule->min, LN_RULE_MIN,
                                 rule->severity[LN_RULE_MIN], present, &violation);
        if (column->type == LN_TYPE_TIMESTAMP)
            contract_format_timestamp(rule->min, bound, sizeof bound);
        else
            contract_format_number(rule->min, bound, sizeof bound);
        if (violation != NULL)
            set_message(builder, violation, "%zu of %zu values are below min %s", count, present, bound);
    }
    if (rule->has_max) {
        size_t count = scan_rows(builder, column, n_rows, above_max, rule->max, LN_RULE_MAX,
                                 rule->severity[LN_RULE_MAX], present, &violation);
        if (column->type == LN_TYPE_TIMESTAMP)
            contract_format_timestamp(rule->max, bound, sizeof bound);
        else
            contract_format_number(rule->max, bound, sizeof bound);
        if (violation != NULL)
            set_message(builder, violation, "%zu of %zu values are above max %s", count, present, bound);
    }
}

static int compare_string_pointers(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_listed(const ln_contract_column *rule, const char *value)
{
    return bsearch(&value, rule->values, rule->n_values, sizeof *rule->values, compare_string_pointers) != NULL;
}

/* Fills the violation's new_values with the most frequent codes marked new, by descending count. */
static void list_new_values(report_builder *builder, ln_violation *violation, const ln_column *column,
                            const size_t *counts, const unsigned char *is_new, size_t n_codes, size_t present)
{
    violation->new_values = calloc(LN_VALIDATION_MAX_NEW_VALUES, sizeof *violation->new_values);
    if (violation->new_values == NULL) {
        builder->status = LN_ERR_NOMEM;
        return;
    }
    for (size_t code = 0; code < n_codes; code++) {
        if (!is_new[code])
            continue;
        size_t n = violation->n_new_values;
        if (n == LN_VALIDATION_MAX_NEW_VALUES && counts[code] <= violation->new_values[n - 1].count)
            continue;
        if (n == LN_VALIDATION_MAX_NEW_VALUES) {
            free(violation->new_values[n - 1].value);
            n--;
        }
        size_t at = n;
        while (at > 0 && counts[code] > violation->new_values[at - 1].count) {
            violation->new_values[at] = violation->new_values[at - 1];
            at--;
        }
        violation->new_values[at].value = contract_strdup(ln_dict_string(column->dict, (int32_t)code));
        violation->new_values[at].count = counts[code];
        violation->new_values[at].share = (double)counts[code] / (double)present;
        violation->new_values[at].positive_rate = NAN;
        violation->n_new_values = n + 1;
        if (violation->new_values[at].value == NULL)
            builder->status = LN_ERR_NOMEM;
    }
}

static void check_values(report_builder *builder, const ln_contract_column *rule, const ln_column *column,
                         size_t n_rows)
{
    size_t n_codes = (size_t)ln_dict_count(column->dict);
    size_t *counts = calloc(n_codes + 1, sizeof *counts);
    unsigned char *is_new = calloc(n_codes + 1, 1);
    size_t present = 0, new_rows = 0;
    char share[32], limit[32];

    if (counts == NULL || is_new == NULL) {
        builder->status = LN_ERR_NOMEM;
        goto done;
    }
    for (size_t r = 0; r < n_rows; r++) {
        if (column->codes[r] >= 0) {
            counts[column->codes[r]]++;
            present++;
        }
    }
    for (size_t code = 0; code < n_codes; code++) {
        if (counts[code] > 0 && !is_listed(rule, ln_dict_string(column->dict, (int32_t)code))) {
            is_new[code] = 1;
            new_rows += counts[code];
        }
    }
    double observed = present > 0 ? (double)new_rows / (double)present : 0.0;
    if (new_rows == 0 || observed <= rule->max_new_share)
        goto done;

    ln_violation *violation = add_violation(builder, column->name, LN_RULE_VALUES, rule->severity[LN_RULE_VALUES],
                                            present);
    if (violation == NULL)
        goto done;
    violation->count = new_rows;
    for (size_t r = 0; r < n_rows && violation->n_examples < LN_VALIDATION_EXAMPLES; r++)
        if (column->codes[r] >= 0 && is_new[column->codes[r]])
            add_example(builder, violation, column, r);
    list_new_values(builder, violation, column, counts, is_new, n_codes, present);
    format_share(observed, share, sizeof share);
    format_share(rule->max_new_share, limit, sizeof limit);
    set_message(builder, violation, "%zu of %zu values (%s) are not in the values list, above max_new_share %s",
                new_rows, present, share, limit);

done:
    free(counts);
    free(is_new);
}

/* An open-addressing set of doubles, sized at twice the values so probes stay short. */
typedef struct double_set {
    uint64_t *keys;
    unsigned char *used;
    size_t mask;
} double_set;

static uint64_t hash_double(double value, uint64_t *bits)
{
    if (value == 0.0)
        value = 0.0; /* -0.0 equals 0.0 */
    memcpy(bits, &value, sizeof *bits);
    uint64_t hash = *bits * UINT64_C(0x9E3779B97F4A7C15);
    return hash ^ (hash >> 29);
}

/* Returns 1 when value was already in the set, else adds it and returns 0. */
static int set_insert(double_set *set, double value)
{
    uint64_t bits;
    size_t slot = (size_t)hash_double(value, &bits) & set->mask;

    while (set->used[slot]) {
        if (set->keys[slot] == bits)
            return 1;
        slot = (slot + 1) & set->mask;
    }
    set->used[slot] = 1;
    set->keys[slot] = bits;
    return 0;
}

/* Marks each row whose value appeared in an earlier row; returns the count, or SIZE_MAX when out of memory. */
static size_t mark_repeats(const ln_column *column, size_t n_rows, unsigned char *repeat)
{
    size_t count = 0;

    if (!ln_type_is_numeric(column->type)) {
        size_t n_codes = (size_t)ln_dict_count(column->dict);
        unsigned char *seen = calloc(n_codes + 1, 1);
        if (seen == NULL)
            return SIZE_MAX;
        for (size_t r = 0; r < n_rows; r++) {
            int32_t code = column->codes[r];
            if (code < 0)
                continue;
            repeat[r] = seen[code];
            count += seen[code];
            seen[code] = 1;
        }
        free(seen);
        return count;
    }

    size_t capacity = 16;
    while (capacity < 2 * n_rows)
        capacity *= 2;
    double_set set = {malloc(capacity * sizeof(uint64_t)), calloc(capacity, 1), capacity - 1};
    if (set.keys == NULL || set.used == NULL) {
        free(set.keys);
        free(set.used);
        return SIZE_MAX;
    }
    for (size_t r = 0; r < n_rows; r++) {
        if (isnan(column->values[r]))
            continue;
        repeat[r] = (unsigned char)set_insert(&set, column->values[r]);
        count += repeat[r];
    }
    free(set.keys);
    free(set.used);
    return count;
}

static void check_unique(report_builder *builder, const ln_contract_column *rule, const ln_column *column,
                         size_t n_rows)
{
    unsigned char *repeat = calloc(n_rows + 1, 1);

    if (!rule->unique)
        goto done;
    if (repeat == NULL) {
        builder->status = LN_ERR_NOMEM;
        goto done;
    }
    size_t count = mark_repeats(column, n_rows, repeat);
    if (count == SIZE_MAX) {
        builder->status = LN_ERR_NOMEM;
        goto done;
    }
    if (count == 0)
        goto done;

    size_t present = count_present(column, n_rows);
    ln_violation *violation = add_violation(builder, column->name, LN_RULE_UNIQUE, rule->severity[LN_RULE_UNIQUE],
                                            present);
    if (violation == NULL)
        goto done;
    violation->count = count;
    for (size_t r = 0; r < n_rows && violation->n_examples < LN_VALIDATION_EXAMPLES; r++)
        if (repeat[r])
            add_example(builder, violation, column, r);
    set_message(builder, violation, "%zu of %zu values repeat a value of an earlier row; expected unique values",
                count, present);

done:
    free(repeat);
}

static void check_column(report_builder *builder, const ln_contract_column *rule, const ln_table *table)
{
    int index = ln_table_find(table, rule->name);

    if (index < 0) {
        ln_violation *violation =
            add_violation(builder, rule->name, LN_RULE_PRESENT, rule->severity[LN_RULE_PRESENT], table->n_rows);
        if (violation != NULL) {
            violation->count = table->n_rows;
            set_message(builder, violation, "the column is not in the data");
        }
        return;
    }

    const ln_column *column = &table->cols[index];
    check_missing(builder, rule, column, table->n_rows);
    if (!check_type(builder, rule, column, table->n_rows))
        return;
    check_range(builder, rule, column, table->n_rows);
    if (rule->values != NULL) {
        if (ln_type_is_numeric(column->type)) {
            ln_violation *violation = add_violation(builder, column->name, LN_RULE_VALUES,
                                                    rule->severity[LN_RULE_VALUES], table->n_rows);
            if (violation != NULL)
                set_message(builder, violation, "a values list needs a category or text column; the column is %s",
                            ln_type_name(column->type));
        } else {
            check_values(builder, rule, column, table->n_rows);
        }
    }
    check_unique(builder, rule, column, table->n_rows);
}

ln_status ln_contract_validate(const ln_contract *contract, const ln_table *table, ln_validation **out,
                               ln_error *err)
{
    report_builder builder = {0};

    *out = NULL;
    builder.report = calloc(1, sizeof *builder.report);
    if (builder.report == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory while validating");
    builder.report->n_rows = table->n_rows;

    if (contract->has_min_rows && table->n_rows < contract->min_rows) {
        ln_violation *violation =
            add_violation(&builder, NULL, LN_RULE_MIN_ROWS, contract->min_rows_severity, table->n_rows);
        if (violation != NULL) {
            violation->count = contract->min_rows - table->n_rows;
            set_message(&builder, violation, "the data has %zu rows; expected at least min_rows %zu", table->n_rows,
                        contract->min_rows);
        }
    }
    for (size_t c = 0; c < contract->n_columns && builder.status == LN_OK; c++)
        check_column(&builder, &contract->columns[c], table);

    if (builder.status != LN_OK) {
        ln_validation_free(builder.report);
        return ln_error_set(err, builder.status, "out of memory while validating %zu rows", table->n_rows);
    }
    *out = builder.report;
    return LN_OK;
}

size_t ln_validation_error_count(const ln_validation *validation)
{
    return validation->errors;
}

size_t ln_validation_warning_count(const ln_validation *validation)
{
    return validation->warnings;
}

static const char *severity_name(ln_severity severity)
{
    return severity == LN_SEVERITY_WARNING ? "warning" : "error";
}

void ln_validation_print(const ln_validation *validation, FILE *out)
{
    for (size_t i = 0; i < validation->n_violations; i++) {
        const ln_violation *violation = &validation->violations[i];

        fprintf(out, "%s: ", severity_name(violation->severity));
        if (violation->column != NULL)
            fprintf(out, "%s: ", violation->column);
        fprintf(out, "%s: %s", ln_rule_name(violation->rule), violation->message != NULL ? violation->message : "");
        for (size_t v = 0; v < violation->n_new_values; v++)
            fprintf(out, "%s%s (%zu rows, %.2f%%)", v == 0 ? "; new values " : ", ", violation->new_values[v].value,
                    violation->new_values[v].count, 100.0 * violation->new_values[v].share);
        for (size_t e = 0; e < violation->n_examples; e++)
            fprintf(out, "%s%zu (%s)", e == 0 ? "; rows " : ", ", violation->example_rows[e],
                    violation->example_values[e][0] ? violation->example_values[e] : "missing");
        fprintf(out, "\n");
    }
}

static json_t *violation_json(const ln_violation *violation)
{
    json_t *object = json_object();
    json_t *examples = json_array();

    json_object_set_new(object, "column", violation->column != NULL ? json_string(violation->column) : json_null());
    json_object_set_new(object, "rule", json_string(ln_rule_name(violation->rule)));
    json_object_set_new(object, "severity", json_string(severity_name(violation->severity)));
    json_object_set_new(object, "count", json_integer((json_int_t)violation->count));
    json_object_set_new(object, "considered", json_integer((json_int_t)violation->considered));
    json_object_set_new(object, "message", json_string(violation->message != NULL ? violation->message : ""));
    for (size_t e = 0; e < violation->n_examples; e++) {
        json_t *example = json_object();
        json_object_set_new(example, "row", json_integer((json_int_t)violation->example_rows[e]));
        json_object_set_new(example, "value", violation->example_values[e][0] ? json_string(violation->example_values[e])
                                                                              : json_null());
        json_array_append_new(examples, example);
    }
    json_object_set_new(object, "examples", examples);
    if (violation->rule == LN_RULE_VALUES) {
        json_t *values = json_array();
        for (size_t v = 0; v < violation->n_new_values; v++) {
            json_t *entry = json_object();
            json_object_set_new(entry, "value", json_string(violation->new_values[v].value));
            json_object_set_new(entry, "count", json_integer((json_int_t)violation->new_values[v].count));
            json_object_set_new(entry, "share", json_real(violation->new_values[v].share));
            json_array_append_new(values, entry);
        }
        json_object_set_new(object, "new_values", values);
    }
    return object;
}

json_t *ln_validation_to_json(const ln_validation *validation)
{
    json_t *root = json_object();
    json_t *violations = json_array();

    if (root == NULL || violations == NULL) {
        json_decref(root);
        json_decref(violations);
        return NULL;
    }
    json_object_set_new(root, "rows", json_integer((json_int_t)validation->n_rows));
    json_object_set_new(root, "errors", json_integer((json_int_t)validation->errors));
    json_object_set_new(root, "warnings", json_integer((json_int_t)validation->warnings));
    json_object_set_new(root, "passed", json_boolean(validation->errors == 0));
    for (size_t i = 0; i < validation->n_violations; i++)
        json_array_append_new(violations, violation_json(&validation->violations[i]));
    json_object_set_new(root, "violations", violations);
    return root;
}

void ln_validation_free(ln_validation *validation)
{
    if (validation == NULL)
        return;
    for (size_t i = 0; i < validation->n_violations; i++) {
        ln_violation *violation = &validation->violations[i];
        free(violation->column);
        free(violation->message);
        for (size_t e = 0; e < violation->n_examples; e++)
            free(violation->example_values[e]);
        for (size_t v = 0; v < violation->n_new_values; v++)
            free(violation->new_values[v].value);
        free(violation->new_values);
    }
    free(validation->violations);
    free(validation);
}
