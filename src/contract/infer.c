/*
 * A contract inferred from a profile, and its YAML form. The margins are
 * stated in contract.h (ln_contract_infer) and docs/contracts.md.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "contract/contract_internal.h"
#include "lanner/io.h"

/* Share of the observed range added on each side of an inferred min and max. */
#define RANGE_MARGIN 0.10

/* Inferred max_missing = observed share x MISSING_FACTOR + MISSING_SLACK. */
#define MISSING_FACTOR 1.5
#define MISSING_SLACK 0.01

/* Smallest inferred max_new_share, and the factor on the share of rows whose value occurs once. */
#define NEW_SHARE_FLOOR 0.001
#define NEW_SHARE_FACTOR 2.0

/* Repeats that random values from an integer column's range would show before all-distinct values mean `unique`. */
#define UNIQUE_EXPECTED_REPEATS 3.0

/* Bytes of one contract file written; a contract is a few lines per column. */
#define CONTRACT_YAML_MAX_BYTES (64u << 20)

static const char *const rule_names[LN_RULE_COUNT] = {"min_rows", "present", "type", "min",
                                                      "max", "max_missing", "values", "unique"};

const char *ln_rule_name(ln_rule rule)
{
    return rule >= 0 && rule < LN_RULE_COUNT ? rule_names[rule] : "unknown";
}

/*
 * Rounds up to a multiple of 0.001 so a share reads well. Rounding noise
 * below 1e-9 is ignored, so 1.5 x 0.1 + 0.01 gives 0.16 and not 0.161.
 */
static double round_share_up(double share)
{
    double rounded = ceil(share * 1000.0 - 1e-9) / 1000.0;
    return rounded > 1.0 ? 1.0 : rounded;
}

/* The decimal step a margin rounds to: the power of ten at or below it. */
static double margin_step(double margin, int whole)
{
    double step = pow(10.0, floor(log10(margin)));
    return whole && step < 1.0 ? 1.0 : step;
}

/* Rounds value down (direction -1) or up (+1) to a multiple of step, so the bound only loosens. */
static double round_outward(double value, double step, int direction)
{
    double units = value / step;
    double rounded = direction < 0 ? floor(units) : ceil(units);
    double result = step >= 1.0 ? rounded * step : rounded / (1.0 / step);

    if ((direction < 0 && result > value) || (direction > 0 && result < value))
        result = value;
    return isfinite(result) ? result : value;
}

static void infer_range(const ln_column_profile *profile, ln_contract_column *column)
{
    if (profile->finite == 0 || column->type == LN_TYPE_BOOL)
        return;

    double width = profile->max - profile->min;
    double margin = RANGE_MARGIN * width;
    if (!(width > 0) || !isfinite(margin))
        margin = profile->max != 0 ? RANGE_MARGIN * fabs(profile->max) : 1.0;
    int whole = column->type != LN_TYPE_FLOAT;
    if (column->type == LN_TYPE_TIMESTAMP && margin < 86400.0)
        margin = 86400.0;
    double step = column->type == LN_TYPE_TIMESTAMP ? 86400.0 : margin_step(margin, whole);

    double low = round_outward(profile->min - margin, step, -1);
    double high = round_outward(profile->max + margin, step, 1);
    if (profile->min >= 0 && low < 0)
        low = 0;
    if (profile->max <= 0 && high > 0)
        high = 0;

    column->has_min = profile->negative_infinite == 0;
    column->min = low;
    column->has_max = profile->positive_infinite == 0;
    column->max = high;
}

static int infer_unique(const ln_column_profile *profile)
{
    size_t present = profile->count - profile->missing;

    if (profile->type != LN_TYPE_INT || present < 2 || profile->distinct != present || profile->finite != present)
        return 0;
    double range = profile->max - profile->min + 1.0;
    return (double)present * (double)present / (2.0 * range) >= UNIQUE_EXPECTED_REPEATS;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static ln_status infer_values(const ln_column_profile *profile, ln_contract_column *column)
{
    size_t present = profile->count - profile->missing;

    if (ln_type_is_numeric(profile->type) || !profile->categories_complete || present == 0)
        return LN_OK;

    column->values = calloc(profile->n_categories + 1, sizeof *column->values);
    if (column->values == NULL)
        return LN_ERR_NOMEM;
    for (size_t i = 0; i < profile->n_categories; i++) {
        column->values[i] = contract_strdup(profile->categories[i].value);
        if (column->values[i] == NULL)
            return LN_ERR_NOMEM;
        column->n_values++;
    }
    qsort(column->values, column->n_values, sizeof *column->values, compare_strings);

    /* Rows whose value occurs once estimate the share of values a new sample has not seen (Good-Turing). */
    double unseen = (double)profile->singletons / (double)present;
    double share = NEW_SHARE_FACTOR * unseen;
    column->max_new_share = round_share_up(share > NEW_SHARE_FLOOR ? share : NEW_SHARE_FLOOR);
    return LN_OK;
}

static ln_status infer_column(const ln_column_profile *profile, ln_contract_column *column)
{
    column->name = contract_strdup(profile->name);
    if (column->name == NULL)
        return LN_ERR_NOMEM;
    column->has_type = 1;
    column->type = profile->type;

    infer_range(profile, column);
    column->has_max_missing = 1;
    column->max_missing =
        profile->missing == 0 ? 0.0 : round_share_up(MISSING_FACTOR * profile->missing_share + MISSING_SLACK);
    column->unique = infer_unique(profile);
    return infer_values(profile, column);
}

ln_status ln_contract_infer(const ln_profile *profile, ln_contract **out, ln_error *err)
{
    *out = NULL;
    ln_contract *contract = calloc(1, sizeof *contract);
    if (contract == NULL || (contract->columns = calloc(profile->n_cols + 1, sizeof *contract->columns)) == NULL) {
        free(contract);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory while inferring a contract");
    }

    contract->inferred_rows = profile->n_rows;
    contract->has_min_rows = profile->n_rows >= 2;
    contract->min_rows = profile->n_rows / 2;
    for (size_t c = 0; c < profile->n_cols; c++) {
        ln_status status = infer_column(&profile->columns[c], &contract->columns[c]);
        contract->n_columns++;
        if (status != LN_OK) {
            ln_contract_free(contract);
            return ln_error_set(err, status, "out of memory while inferring a contract");
        }
    }
    *out = contract;
    return LN_OK;
}

void ln_contract_free(ln_contract *contract)
{
    if (contract == NULL)
        return;
    for (size_t c = 0; c < contract->n_columns; c++) {
        ln_contract_column *column = &contract->columns[c];
        free(column->name);
        for (size_t i = 0; i < column->n_values; i++)
            free(column->values[i]);
        free(column->values);
    }
    free(contract->columns);
    free(contract);
}

/* Plain YAML scalars that other YAML readers would take as a boolean or null. */
static int is_yaml_keyword(const char *text)
{
    static const char *const keywords[] = {"y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"};

    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcasecmp(text, keywords[i]) == 0)
            return 1;
    return 0;
}

/* A string needs quotes unless it is a plain word that no YAML reader would take as a number or keyword. */
static int needs_quotes(const char *text)
{
    if (text[0] == '\0' || is_yaml_keyword(text) || !(isalpha((unsigned char)text[0]) || text[0] == '_'))
        return 1;
    for (const char *p = text; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.' && *p != '/')
            return 1;
    return 0;
}

static void yaml_string(contract_text *yaml, const char *text)
{
    if (!needs_quotes(text)) {
        contract_text_append(yaml, text, strlen(text));
        return;
    }
    APPEND_LITERAL(yaml, "\"");
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            contract_text_printf(yaml, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            contract_text_printf(yaml, "\\x%02x", *p);
        else
            contract_text_append(yaml, (const char *)p, 1);
    }
    APPEND_LITERAL(yaml, "\"");
}

static void yaml_bound(contract_text *yaml, const char *key, ln_type type, double value)
{
    char number[40];

    if (type == LN_TYPE_TIMESTAMP) {
        contract_format_timestamp(value, number, sizeof number);
        contract_text_printf(yaml, ", %s: \"%s\"", key, number);
        return;
    }
    contract_format_number(value, number, sizeof number);
    if (isinf(value))
        snprintf(number, sizeof number, "%s", value > 0 ? ".inf" : "-.inf");
    contract_text_printf(yaml, ", %s: %s", key, number);
}

static void yaml_severity(contract_text *yaml, const ln_contract_column *column)
{
    size_t warnings = 0;

    for (int rule = LN_RULE_PRESENT; rule < LN_RULE_COUNT; rule++)
        warnings += column->severity[rule] == LN_SEVERITY_WARNING;
    if (warnings == 0)
        return;
    if (warnings == LN_RULE_COUNT - LN_RULE_PRESENT) {
        APPEND_LITERAL(yaml, ", severity: warning");
        return;
    }
    APPEND_LITERAL(yaml, ", severity: {");
    const char *separator = "";
    for (int rule = LN_RULE_PRESENT; rule < LN_RULE_COUNT; rule++) {
        if (column->severity[rule] != LN_SEVERITY_WARNING)
            continue;
        contract_text_printf(yaml, "%s%s: warning", separator, ln_rule_name((ln_rule)rule));
        separator = ", ";
    }
    APPEND_LITERAL(yaml, "}");
}

/* Writes the values list as a flow sequence, wrapped so no line runs far past 100 characters. */
static void yaml_values(contract_text *yaml, const ln_contract_column *column)
{
    size_t line_start = yaml->length;

    while (line_start > 0 && yaml->data[line_start - 1] != '\n')
        line_start--;

    APPEND_LITERAL(yaml, ", values: [");
    for (size_t i = 0; i < column->n_values; i++) {
        if (i > 0)
            APPEND_LITERAL(yaml, ",");
        if (yaml->length - line_start > 96) {
            APPEND_LITERAL(yaml, "\n     ");
            line_start = yaml->length;
        } else if (i > 0) {
            APPEND_LITERAL(yaml, " ");
        }
        yaml_string(yaml, column->values[i]);
    }
    APPEND_LITERAL(yaml, "]");
}

static void yaml_column(contract_text *yaml, const ln_contract_column *column)
{
    char number[40];

    APPEND_LITERAL(yaml, "  ");
    yaml_string(yaml, column->name);
    APPEND_LITERAL(yaml, ": {");
    if (column->has_type)
        contract_text_printf(yaml, "type: %s", ln_type_name(column->type));
    else
        APPEND_LITERAL(yaml, "type: any");
    if (column->has_min)
        yaml_bound(yaml, "min", column->type, column->min);
    if (column->has_max)
        yaml_bound(yaml, "max", column->type, column->max);
    if (column->has_max_missing && column->max_missing == 0) {
        APPEND_LITERAL(yaml, ", missing: never");
    } else if (column->has_max_missing) {
        contract_format_number(column->max_missing, number, sizeof number);
        contract_text_printf(yaml, ", max_missing: %s", number);
    }
    if (column->unique)
        APPEND_LITERAL(yaml, ", unique: true");
    yaml_severity(yaml, column);
    if (column->values != NULL) {
        contract_format_number(column->max_new_share, number, sizeof number);
        contract_text_printf(yaml, ", max_new_share: %s", number);
        yaml_values(yaml, column);
    }
    APPEND_LITERAL(yaml, "}\n");
}

/* Writes source as one comment line: line breaks and other control characters become spaces. */
static void yaml_comment_text(contract_text *yaml, const char *source)
{
    for (const unsigned char *p = (const unsigned char *)source; *p; p++)
        contract_text_append(yaml, *p < 0x20 || *p == 0x7f ? " " : (const char *)p, 1);
}

ln_status ln_contract_write_yaml(const ln_contract *contract, const char *path, const char *source_description,
                                 ln_error *err)
{
    contract_text yaml = {.max_bytes = CONTRACT_YAML_MAX_BYTES};
    char date[16];
    time_t now = time(NULL);
    struct tm parts;

    gmtime_r(&now, &parts);
    strftime(date, sizeof date, "%Y-%m-%d", &parts);

    APPEND_LITERAL(&yaml, "# Inferred by lanner profile from ");
    yaml_comment_text(&yaml, source_description != NULL ? source_description : "a table");
    contract_text_printf(&yaml, " (%zu rows) on %s.\n", contract->inferred_rows, date);
    APPEND_LITERAL(&yaml, "# Loosen any bound by hand. Every rule is an error; add `severity: warning` to a\n"
                          "# column (or `severity: {max: warning}` for one rule) to only warn.\n");
    if (contract->has_min_rows)
        contract_text_printf(&yaml, "min_rows: %zu\n", contract->min_rows);
    if (contract->has_min_rows && contract->min_rows_severity == LN_SEVERITY_WARNING)
        APPEND_LITERAL(&yaml, "severity: {min_rows: warning}\n");
    APPEND_LITERAL(&yaml, "columns:\n");
    for (size_t c = 0; c < contract->n_columns; c++)
        yaml_column(&yaml, &contract->columns[c]);

    if (yaml.failed) {
        contract_text_free(&yaml);
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory while writing the contract", path);
    }
    ln_status status = ln_write_file_atomic(path, yaml.data, yaml.length, err);
    contract_text_free(&yaml);
    return status;
}
