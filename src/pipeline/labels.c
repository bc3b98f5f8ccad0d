#include "pipeline/run_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends value to a comma-separated list in buffer, stopping politely when full. */
static void list_append(char *buffer, size_t capacity, const char *value)
{
    size_t used = strlen(buffer);

    if (used + 8 >= capacity)
        return;
    snprintf(buffer + used, capacity - used, "%s'%s'", used ? ", " : "", value);
}

static ln_status labels_from_category(const ln_column *target, size_t n, const char *positive,
                                      double *labels, ln_error *err)
{
    int32_t positive_code = ln_dict_find(target->dict, positive, strlen(positive));
    unsigned char seen[2] = {0, 0};
    int32_t other_code = -1;
    char found[512] = "";

    for (size_t i = 0; i < n; i++) {
        int32_t code = target->codes[i];
        if (code == positive_code) {
            labels[i] = 1;
            seen[1] = 1;
            continue;
        }
        if (other_code < 0) {
            other_code = code;
        } else if (code != other_code) {
            list_append(found, sizeof found, ln_dict_string(target->dict, other_code));
            list_append(found, sizeof found, ln_dict_string(target->dict, code));
            return ln_error_set(err, LN_ERR_DATA,
                                "target '%s' has more than two values (%s, ...); lanner trains binary "
                                "classifiers: map the target to two values in the query or the file",
                                target->name, found);
        }
        labels[i] = 0;
        seen[0] = 1;
    }

    if (!seen[1]) {
        list_append(found, sizeof found, other_code >= 0 ? ln_dict_string(target->dict, other_code) : "");
        return ln_error_set(err, LN_ERR_DATA,
                            "positive value '%s' never occurs in target '%s' (values found: %s); "
                            "set 'positive' to one of them",
                            positive, target->name, found);
    }
    if (!seen[0])
        return ln_error_set(err, LN_ERR_DATA,
                            "target '%s' has a single value ('%s') in every row; a model needs both "
                            "classes", target->name, positive);
    return LN_OK;
}

static ln_status labels_from_number(const ln_column *target, size_t n, const char *positive,
                                    double *labels, ln_error *err)
{
    char *end = NULL;
    errno = 0;
    double positive_value = strtod(positive, &end);
    int positive_is_number = end != positive && *end == '\0' && errno == 0;

    /* Boolean targets also accept "true"/"false" as the positive value. */
    if (!positive_is_number && target->type == LN_TYPE_BOOL) {
        positive_is_number = strcmp(positive, "true") == 0 || strcmp(positive, "false") == 0;
        positive_value = strcmp(positive, "true") == 0;
    }
    if (!positive_is_number)
        return ln_error_set(err, LN_ERR_CONFIG,
                            "target '%s' is %s but 'positive' is '%s'; give the positive value as a number",
                            target->name, ln_type_name(target->type), positive);

    double other = NAN;
    int seen_positive = 0;
    for (size_t i = 0; i < n; i++) {
        double value = target->values[i];
        if (value == positive_value) {
            labels[i] = 1;
            seen_positive = 1;
            continue;
        }
        if (isnan(other)) {
            other = value;
        } else if (value != other) {
            return ln_error_set(err, LN_ERR_DATA,
                                "target '%s' has more than two values (%.17g, %.17g, ...); lanner trains "
                                "binary classifiers", target->name, other, value);
        }
        labels[i] = 0;
    }

    if (!seen_positive)
        return ln_error_set(err, LN_ERR_DATA, "positive value %s never occurs in target '%s'; set 'positive' "
                            "to a value the target takes", positive, target->name);
    if (isnan(other))
        return ln_error_set(err, LN_ERR_DATA,
                            "target '%s' has a single value (%s) in every row; a model needs both classes",
                            target->name, positive);
    return LN_OK;
}

static ln_status check_no_missing_target(const ln_column *target, size_t n, ln_error *err)
{
    size_t missing = 0;
    size_t first = 0;

    for (size_t i = 0; i < n; i++) {
        if (ln_column_is_missing(target, i)) {
            if (missing++ == 0)
                first = i;
        }
    }
    if (missing > 0)
        return ln_error_set(err, LN_ERR_DATA,
                            "target '%s' is missing on %zu rows (first: data row %zu); filter them out "
                            "in the query or the file, since a row without a label cannot train or test",
                            target->name, missing, first + 1);
    return LN_OK;
}

ln_status run_make_labels(const ln_table *table, const char *target_name, const char *positive,
                          double **labels_out, ln_error *err)
{
    int index = ln_table_find(table, target_name);
    if (index < 0)
        return ln_error_set(err, LN_ERR_CONFIG, "target column '%s' is not in the data", target_name);

    const ln_column *target = &table->cols[index];
    ln_status status = check_no_missing_target(target, table->n_rows, err);
    if (status != LN_OK)
        return status;

    double *labels = malloc((table->n_rows ? table->n_rows : 1) * sizeof *labels);
    if (labels == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory for %zu labels", table->n_rows);

    if (ln_type_is_numeric(target->type))
        status = labels_from_number(target, table->n_rows, positive, labels, err);
    else
        status = labels_from_category(target, table->n_rows, positive, labels, err);

    if (status != LN_OK) {
        free(labels);
        return status;
    }
    *labels_out = labels;
    return LN_OK;
}
