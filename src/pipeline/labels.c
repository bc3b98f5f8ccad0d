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

/*
 * Checks, in the order a user fixes them: a target with one value, a positive
 * value that never occurs, a target with more than two values.
 */
static ln_status check_two_values(const char *target, const char *positive, int positive_seen,
                                  size_t distinct, const char *found, ln_error *err)
{
    if (distinct == 1)
        return ln_error_set(err, LN_ERR_DATA,
                            "target '%s' has a single value (%s) in every row; a model needs both classes",
                            target, found);
    if (!positive_seen)
        return ln_error_set(err, LN_ERR_DATA,
                            "positive value '%s' never occurs in target '%s' (values found: %s); set 'positive' "
                            "to one of them", positive, target, found);
    if (distinct > 2)
        return ln_error_set(err, LN_ERR_DATA,
                            "target '%s' has more than two values (%s); lanner trains binary classifiers: map "
                            "the target to two values in the query or the file", target, found);
    return LN_OK;
}

static ln_status labels_from_category(const ln_column *target, size_t n, const char *positive,
                                      double *labels, ln_error *err)
{
    int32_t positive_code = ln_dict_find(target->dict, positive, strlen(positive));
    int32_t n_codes = ln_dict_count(target->dict);
    unsigned char *used = calloc((size_t)n_codes + 1, 1);
    if (used == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory checking target '%s'", target->name);

    for (size_t i = 0; i < n; i++) {
        int32_t code = target->codes[i];
        labels[i] = code == positive_code;
        if (code >= 0)
            used[code] = 1;
    }

    size_t distinct = 0;
    char found[512] = "";
    for (int32_t code = 0; code < n_codes; code++) {
        if (used[code] && distinct++ < 5)
            list_append(found, sizeof found, ln_dict_string(target->dict, code));
    }
    int positive_seen = positive_code >= 0 && used[positive_code];
    free(used);
    return check_two_values(target->name, positive, positive_seen, distinct, found, err);
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

    /* Up to three distinct values are enough to tell every case apart. */
    double values[3];
    size_t distinct = 0;
    int positive_seen = 0;
    for (size_t i = 0; i < n; i++) {
        double value = target->values[i];
        labels[i] = value == positive_value;
        positive_seen |= value == positive_value;

        size_t k = 0;
        while (k < distinct && values[k] != value)
            k++;
        if (k == distinct && distinct < 3)
            values[distinct++] = value;
    }

    char found[512] = "";
    for (size_t k = 0; k < distinct; k++) {
        char text[32];
        snprintf(text, sizeof text, "%.17g", values[k]);
        list_append(found, sizeof found, text);
    }
    return check_two_values(target->name, positive, positive_seen, distinct, found, err);
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
