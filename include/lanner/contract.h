/*
 * Data trust: a profile of each column, a data contract inferred from the
 * profile, and validation of new data against a contract.
 *
 *     ln_profile *profile = NULL;
 *     ln_contract *contract = NULL;
 *     ln_validation *report = NULL;
 *     ln_error err = {0};
 *     if (ln_profile_table(train, "Class", "bad", &profile, &err) != LN_OK ||
 *         ln_contract_infer(profile, &contract, &err) != LN_OK ||
 *         ln_contract_write_yaml(contract, "contract.yaml", "train.csv", &err) != LN_OK)
 *         ...report err.message...
 *     ...later, on a new batch...
 *     if (ln_contract_load("contract.yaml", &contract, &err) != LN_OK ||
 *         ln_contract_validate(contract, batch, &report, &err) != LN_OK)
 *         ...report err.message...
 *     if (ln_validation_error_count(report) > 0)
 *         ln_validation_print(report, stderr);
 *
 * Profiles, contracts and validation reports are public structs so callers
 * can read them; treat them as read-only and free them with their _free
 * function. docs/contracts.md describes the contract file for users.
 */
#ifndef LANNER_CONTRACT_H
#define LANNER_CONTRACT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "lanner/status.h"
#include "lanner/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Quantiles in every numeric profile, as fractions: 1, 5, 25, 50, 75, 95 and 99%. */
#define LN_PROFILE_N_QUANTILES 7
extern const double ln_profile_quantile_levels[LN_PROFILE_N_QUANTILES];

/* Equal-width histogram bins over [min, max] of a numeric column's finite values. */
#define LN_PROFILE_HISTOGRAM_BINS 20

/* Most frequent categories shown in text, JSON and HTML; the rest are summed as "other". */
#define LN_PROFILE_TOP_CATEGORIES 20

/* A string column with at most this many distinct values lists all of them in the profile and the contract. */
#define LN_CONTRACT_MAX_INFERRED_VALUES 200

/* Values accepted in one contract `values` list, and bytes in one contract file. */
#define LN_CONTRACT_MAX_VALUES 100000
#define LN_CONTRACT_MAX_FILE_BYTES (16u << 20)

/* Failing rows quoted per violation. */
#define LN_VALIDATION_EXAMPLES 5

/* New category values itemised per `values` violation (the count covers all of them). */
#define LN_VALIDATION_MAX_NEW_VALUES 20

/* One category value and how often it occurs. */
typedef struct ln_category_count {
    char *value;          /* owned by the profile */
    size_t count;         /* rows holding the value */
    double share;         /* count / non-missing rows */
    double positive_rate; /* share of positives among its rows with a target; NaN without a target */
} ln_category_count;

typedef struct ln_column_profile {
    char *name;
    ln_type type;
    size_t count;         /* rows in the table */
    size_t missing;       /* rows with a missing value (NaN or code -1) */
    double missing_share; /* missing / count; 0 for an empty table */
    size_t distinct;      /* distinct non-missing values (+inf and -inf count as values) */
    size_t singletons;    /* distinct values that occur in exactly one row */

    /*
     * Numeric columns (integer, float, boolean, timestamp). min, max, mean,
     * std, quantiles and the histogram cover the finite values only, and are
     * NaN when there is none; infinities are counted apart. std is the
     * sample standard deviation (divisor n - 1), NaN below two values.
     * Quantiles interpolate linearly between order statistics, as
     * numpy.quantile does by default.
     */
    size_t finite;        /* non-missing finite values */
    size_t positive_infinite;
    size_t negative_infinite;
    double min, max, mean, std;
    double quantiles[LN_PROFILE_N_QUANTILES];
    size_t histogram[LN_PROFILE_HISTOGRAM_BINS]; /* bin i covers [min + i*w, min + (i+1)*w), the last one closed */
    int all_whole;        /* 1 when every finite value is a whole number */

    /*
     * Category and text columns: values by descending count, ties in order
     * of first appearance. All distinct values when there are at most
     * LN_CONTRACT_MAX_INFERRED_VALUES (categories_complete = 1), else the
     * top LN_PROFILE_TOP_CATEGORIES.
     */
    ln_category_count *categories;
    size_t n_categories;
    int categories_complete;

    /*
     * With a target: the area under the ROC curve of this column alone, over
     * rows where both the column and the target are present, reported as
     * max(AUC, 1 - AUC). auc_direction is +1 when higher values (or higher
     * category positive rates) go with positives, -1 when lower ones do.
     * Category columns score each row by its category's positive rate
     * computed out of fold (5 folds by row number modulo 5), so a column of
     * identifiers does not look predictive. NaN (direction 0) for the
     * target itself, text columns, or when fewer than two classes remain.
     */
    double auc;
    int auc_direction;
} ln_column_profile;

typedef struct ln_profile {
    size_t n_rows;
    size_t n_cols;
    ln_column_profile *columns;
    char *target;         /* NULL without a target */
    char *positive;       /* the positive label as text; NULL without a target */
    size_t target_rows;   /* rows with a target value */
    size_t positives;
    double positive_rate; /* positives / target_rows; NaN without a target */
} ln_profile;

/*
 * Profiles every column of table. target (may be NULL) names a column whose
 * rows equal to positive count as positives, for the positive rate and each
 * column's AUC. positive is compared with the formatted value (as
 * ln_column_format writes it: "1", "true", "bad"); NULL means "1" for an
 * integer, float or boolean target and is an error for other types. On
 * success *out is a new profile the caller frees with ln_profile_free. The
 * table is not changed and may be freed afterwards.
 *
 * Errors: LN_ERR_NOT_FOUND (no column named target), LN_ERR_CONFIG (no
 * positive given for a string target), LN_ERR_DATA (no row of the target
 * equals positive, or every row does), LN_ERR_NOMEM.
 */
ln_status ln_profile_table(const ln_table *table, const char *target, const char *positive, ln_profile **out,
                           ln_error *err);

void ln_profile_free(ln_profile *profile);

/* Prints one aligned line per column (type, missing, distinct, range, mean, top value, AUC) to out. */
void ln_profile_print(const ln_profile *profile, FILE *out);

/*
 * Returns the whole profile as a new JSON object the caller releases with
 * json_decref, or NULL when out of memory. NaN is null and infinities are
 * the strings "inf" and "-inf".
 */
json_t *ln_profile_to_json(const ln_profile *profile);

/*
 * Writes the profile as one self-contained HTML page (inline CSS and SVG, no
 * script, no network) to path through a temporary file and rename: a table
 * of statistics and one chart per column. title is shown as the heading and
 * is escaped like every other string.
 */
ln_status ln_profile_write_html(const ln_profile *profile, const char *path, const char *title, ln_error *err);

/* Severity of a rule: an error fails validation, a warning is only reported. */
typedef enum ln_severity {
    LN_SEVERITY_ERROR = 0,
    LN_SEVERITY_WARNING,
} ln_severity;

/*
 * Rules a contract can hold; ln_rule_name gives the name used in the
 * contract's severity maps and in reports.
 */
typedef enum ln_rule {
    LN_RULE_MIN_ROWS = 0, /* "min_rows": the table has at least min_rows rows */
    LN_RULE_PRESENT,      /* "present": the column exists */
    LN_RULE_TYPE,         /* "type": the column's type is compatible */
    LN_RULE_MIN,          /* "min": no value below min */
    LN_RULE_MAX,          /* "max": no value above max */
    LN_RULE_MAX_MISSING,  /* "max_missing": missing share at most max_missing, or none with `missing: never` */
    LN_RULE_VALUES,       /* "values": values outside the list are at most max_new_share of non-missing rows */
    LN_RULE_UNIQUE,       /* "unique": no non-missing value occurs twice */
    LN_RULE_COUNT
} ln_rule;

const char *ln_rule_name(ln_rule rule);

typedef struct ln_contract_column {
    char *name;
    int has_type;             /* 0: any type; the column need only exist */
    ln_type type;
    int has_min, has_max;
    double min, max;          /* inclusive bounds; timestamps in seconds since 1970 UTC */
    int has_max_missing;
    double max_missing;       /* share of rows in [0, 1]; 0 is written as `missing: never` */
    char **values;            /* sorted by strcmp; NULL when any value is allowed */
    size_t n_values;
    double max_new_share;     /* share of non-missing rows allowed outside values */
    int unique;
    ln_severity severity[LN_RULE_COUNT];
    int line;                 /* 1-based line in the contract file; 0 when inferred */
} ln_contract_column;

typedef struct ln_contract {
    int has_min_rows;
    size_t min_rows;
    ln_severity min_rows_severity;
    ln_contract_column *columns;
    size_t n_columns;
    size_t inferred_rows;     /* rows of the profiled table; 0 when loaded from a file */
} ln_contract;

/*
 * Infers a contract from a profile, with margins so that data like the
 * profiled table passes (docs/contracts.md states each rule):
 *   - min_rows: half the profiled rows (none for fewer than 2 rows);
 *   - type: the profiled type;
 *   - min and max for integer, float and timestamp columns: the finite range
 *     widened by 10% of its width on each side (10% of the value, or 1, for
 *     a constant column), rounded outward to the margin's leading decimal
 *     digit, not below 0 when every value is >= 0 and not above 0 when
 *     every value is <= 0; a side with an infinity gets no bound;
 *   - missing: never when no value is missing, else max_missing =
 *     1.5 x the observed share + 0.01 (at most 1), rounded up to 0.001;
 *   - values: every value of a category or text column with at most
 *     LN_CONTRACT_MAX_INFERRED_VALUES distinct values, with max_new_share =
 *     max(0.001, 2 x the share of rows whose value occurs once), rounded up
 *     to 0.001;
 *   - unique: an integer column whose values are all distinct where random
 *     values from the same range would give at least 3 repeats
 *     (n^2 / (2 (max - min + 1)) >= 3);
 *   - every rule at error severity.
 * *out is a new contract the caller frees with ln_contract_free.
 * Errors: LN_ERR_NOMEM.
 */
ln_status ln_contract_infer(const ln_profile *profile, ln_contract **out, ln_error *err);

/*
 * Writes the contract as YAML to path through a temporary file and rename.
 * source_description (may be NULL) names the profiled data in the header
 * comment; line breaks in it are written as spaces. Errors: LN_ERR_IO,
 * LN_ERR_NOMEM.
 */
ln_status ln_contract_write_yaml(const ln_contract *contract, const char *path, const char *source_description,
                                 ln_error *err);

/*
 * Reads a contract file written by ln_contract_write_yaml or by hand. On
 * success *out is a new contract the caller frees. Errors name the file,
 * line and key: LN_ERR_NOT_FOUND (no such file), LN_ERR_IO, LN_ERR_LIMIT
 * (file above LN_CONTRACT_MAX_FILE_BYTES, list above LN_CONTRACT_MAX_VALUES),
 * LN_ERR_PARSE (invalid YAML), LN_ERR_CONFIG (unknown key, duplicate key or
 * column, value of the wrong type or out of range, min above max),
 * LN_ERR_NOMEM.
 */
ln_status ln_contract_load(const char *path, ln_contract **out, ln_error *err);

/*
 * Parses contract YAML held in memory (size bytes of text, which need not end
 * in a NUL), as ln_contract_load does for a file. source_name (not NULL)
 * stands for the file name in error messages, such as "model 3 contract".
 * The text is not kept. On success *out is a new contract the caller frees.
 * Errors as ln_contract_load, without LN_ERR_NOT_FOUND and LN_ERR_IO.
 */
ln_status ln_contract_parse(const char *text, size_t size, const char *source_name, ln_contract **out,
                            ln_error *err);

void ln_contract_free(ln_contract *contract);

/* One broken rule. */
typedef struct ln_violation {
    char *column;                /* NULL for min_rows */
    ln_rule rule;
    ln_severity severity;
    size_t count;                /* rows that break the rule (for min_rows: rows short of the minimum) */
    size_t considered;           /* rows the rule looked at: all rows, or the non-missing ones */
    char *message;               /* one sentence, without the column and rule */
    size_t n_examples;
    size_t example_rows[LN_VALIDATION_EXAMPLES];  /* 1-based data rows, in row order */
    char *example_values[LN_VALIDATION_EXAMPLES]; /* formatted values; "" for a missing value */
    ln_category_count *new_values; /* values rule: new values by descending count (share of non-missing rows) */
    size_t n_new_values;
} ln_violation;

typedef struct ln_validation {
    size_t n_rows;
    size_t n_violations;
    ln_violation *violations;    /* in contract order: min_rows, then each column's rules */
    size_t errors;
    size_t warnings;
} ln_validation;

/*
 * Checks table against every rule of contract and fills a new report that
 * the caller frees with ln_validation_free. Returns LN_OK when the checks
 * ran, whether or not rules failed: read ln_validation_error_count. Type
 * compatibility: an integer column satisfies `float`; a float column whose
 * finite values are all whole satisfies `integer` (other values break the
 * type rule); category and text satisfy each other; an integer or float
 * column holding only 0 and 1 satisfies `boolean`. A column of the wrong
 * type skips its min, max, values and unique rules. NaN is missing; an
 * infinity is a value and breaks a finite min or max.
 * Errors: LN_ERR_NOMEM.
 */
ln_status ln_contract_validate(const ln_contract *contract, const ln_table *table, ln_validation **out,
                               ln_error *err);

size_t ln_validation_error_count(const ln_validation *validation);
size_t ln_validation_warning_count(const ln_validation *validation);

/*
 * Prints one line per violation: "error: amount: max: 3 of 100 rows above
 * 25000; rows 4 (30000), 17 (41000), 90 (1e+06)". Prints nothing for a clean
 * report.
 */
void ln_validation_print(const ln_validation *validation, FILE *out);

/* Returns the report as a new JSON object the caller releases, or NULL when out of memory. */
json_t *ln_validation_to_json(const ln_validation *validation);

void ln_validation_free(ln_validation *validation);

#ifdef __cplusplus
}
#endif

#endif
