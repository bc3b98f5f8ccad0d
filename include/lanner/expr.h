/*
 * Expressions: the rule a team uses today and the per-row payoffs of each
 * outcome, written as text and evaluated over every row of a table.
 *
 *     ln_expr *rule = NULL;
 *     if (ln_expr_parse("amount > 500 and account_age_days < 3", &rule, &err) != LN_OK ||
 *         ln_expr_check(rule, table, &err) != LN_OK ||
 *         ln_expr_eval(rule, table, flagged, &err) != LN_OK)
 *         ...report err.message...
 *     ln_expr_free(rule);
 *
 * Grammar, loosest binding first:
 *
 *     or          a or b, a || b
 *     and         a and b, a && b
 *     not         not a, !a
 *     comparison  == = != <> < <= > >=   (one per operand pair: write
 *                 'a < b and b < c', because 'a < b < c' is rejected)
 *     additive    + -
 *     multiply    * / %
 *     unary       -a, +a
 *     primary     number, string, name, true, false, (expr), function(args)
 *
 * Binary operators of one level group from the left: a - b - c is (a - b) - c.
 *
 * - Numbers: 12, 1.5, .5, 1., 1e3, 2.5E-4. No sign (that is unary minus),
 *   no hexadecimal, no inf or nan literals.
 * - Strings: 'text' or "text". Inside, the quote character is written twice
 *   ('it''s') or after a backslash ('it\'s'), and a backslash as '\\'. Any
 *   other backslash sequence is an error, so a stray '\n' is never silently
 *   taken as something else.
 * - Names: [A-Za-z_][A-Za-z0-9_.]* name a column. A column whose name has
 *   other characters is written in backquotes: `order total`, with a
 *   backquote inside written twice.
 * - Keywords and, or, not, true, false are case-insensitive (AND works).
 *   A column with one of those names needs backquotes: `not`.
 * - '=' is equality, the same as '==' (there is no assignment), and '<>' is
 *   the same as '!='.
 * - Functions, case-insensitive, recognised only before '(', so a column
 *   called log stays usable:
 *     if(c, a, b)      a where c is true, b where c is false, missing where c is
 *     abs(x)           |x|
 *     min(x, y, ...)   two or more numbers; missing if any is missing
 *     max(x, y, ...)   two or more numbers; missing if any is missing
 *     log(x)           natural logarithm; missing when x <= 0
 *     exp(x)           e^x; +inf when it overflows
 *     is_missing(x)    1 when x is missing, else 0; x may be a string column
 *
 * Values and types:
 * - Every value is a double. Booleans are 1 and 0; a condition is true when
 *   it is non-zero and not missing. Boolean and timestamp columns are
 *   numbers (a timestamp is seconds since 1970-01-01T00:00:00Z).
 * - Category and text columns and string literals are strings. Strings may
 *   only be compared with each other or passed to is_missing(). Comparing a
 *   string with a number, or using one in arithmetic, a function or a
 *   condition, is a type error found by ln_expr_check(). String ordering
 *   compares bytes (strcmp), so 'B' < 'a'.
 * - Missing values are NaN (a missing string is code -1). A missing operand
 *   makes arithmetic, comparisons and functions missing, except is_missing()
 *   and the three-valued 'and' and 'or': false and missing = false,
 *   true or missing = true, any other mix with missing is missing; not missing
 *   is missing. A rule whose result is missing flags nothing for that row.
 * - Division or % by zero is missing, whatever the dividend. % is C's fmod
 *   (the result has the sign of the dividend: -7 % 3 is -1).
 * - Infinities from data or from overflow stay infinite (inf - inf is NaN).
 */
#ifndef LANNER_EXPR_H
#define LANNER_EXPR_H

#include <stddef.h>

#include "lanner/limits.h"
#include "lanner/status.h"
#include "lanner/table.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Maximum nesting of parentheses, function calls and prefix operators (not,
 * unary minus). Deeper input is rejected with LN_ERR_LIMIT so that hostile
 * text cannot exhaust the stack. Chains of one operator (a or b or c ...)
 * do not nest, so a rule listing hundreds of alternatives stays within it.
 */
#define LN_EXPR_MAX_NESTING 256

/* Rows evaluated together: each node works on arrays of this many values. */
#define LN_EXPR_BLOCK_ROWS 1024

typedef struct ln_expr ln_expr;

/*
 * Parses text into *out, which the caller frees with ln_expr_free(). text is
 * copied. On error *out is NULL and err contains LN_ERR_PARSE with the 1-based
 * byte column and what was expected and found, e.g. "column 14: expected an
 * operand after '*', found end of expression". It returns LN_ERR_LIMIT when
 * text is longer than LN_MAX_EXPRESSION_BYTES or nests deeper than
 * LN_EXPR_MAX_NESTING, and LN_ERR_NOMEM when memory runs out.
 */
ln_status ln_expr_parse(const char *text, ln_expr **out, ln_error *err);

/*
 * Checks that every name is a column of table and that operand types fit,
 * and that the whole expression gives a number. Errors, all LN_ERR_CONFIG:
 * "unknown column 'amout' at column 1 of expression '...'; did you mean
 * 'amount'?" (the suggestion when a column name is within a small edit
 * distance), or a type error naming the operator, its column in the
 * expression and the table column involved.
 */
ln_status ln_expr_check(const ln_expr *expr, const ln_table *table, ln_error *err);

/*
 * Evaluates expr on every row of table into out[0 .. table->n_rows - 1]:
 * conditions give 1 or 0, a missing result is NaN. Columns are looked up by
 * name, so the table only needs the columns the expression uses. Runs
 * ln_expr_check() first and returns its errors; LN_ERR_NOMEM when scratch
 * memory (a few blocks of LN_EXPR_BLOCK_ROWS doubles per nesting level, plus
 * per-dictionary tables for string comparisons) cannot be allocated. On
 * error the content of out is unspecified. Thread-safe for one expr shared
 * by several threads.
 */
ln_status ln_expr_eval(const ln_expr *expr, const ln_table *table, double *out, ln_error *err);

/* Returns the text expr was parsed from; expr owns it. */
const char *ln_expr_text(const ln_expr *expr);

/* Returns 1 when the expression reads the column called name, else 0. */
int ln_expr_reads_column(const ln_expr *expr, const char *name);

/* Frees expr; NULL is allowed. */
void ln_expr_free(ln_expr *expr);

#ifdef __cplusplus
}
#endif

#endif
