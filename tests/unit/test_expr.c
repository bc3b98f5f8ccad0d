/*
 * Tests of rule and payoff expressions: parsing, precedence, missing-value
 * semantics, string comparisons across dictionaries, and error messages.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lanner/expr.h"
#include "lanner/table.h"

/* ---- helpers ---- */

static void check_value(double actual, double expected, const char *text)
{
    if (isnan(expected) && isnan(actual))
        return;
    if (actual == expected)
        return;
    print_error("'%s' gave %.17g, expected %.17g\n", text, actual, expected);
    fail();
}

static void set_strings(ln_column *column, const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        column->codes[i] = values[i] == NULL ? LN_MISSING_CODE
                                             : ln_dict_intern(column->dict, values[i], strlen(values[i]));
}

/*
 * Five rows:
 *   amount  account_age_days  billing  shipping  note     is_new  created  log
 *   600     1                 US       US        "a"      1       0        2
 *   100     10                FR       DE        "b"      0       86400    3
 *   NaN     2                 DE       DE        missing  NaN     NaN      4
 *   900     NaN               missing  FR        "c"      1       1        5
 *   0       0                 US       missing   "a"      0       2        6
 * billing and shipping intern their strings in different orders, so equal
 * strings have different codes.
 */
static ln_table *sample_table(void)
{
    ln_error err = {0};
    ln_table *table = ln_table_new(5);
    const double amount[] = {600, 100, NAN, 900, 0};
    const double age[] = {1, 10, 2, NAN, 0};
    const double is_new[] = {1, 0, NAN, 1, 0};
    const double created[] = {0, 86400, NAN, 1, 2};
    const double log_values[] = {2, 3, 4, 5, 6};
    const char *billing[] = {"US", "FR", "DE", NULL, "US"};
    const char *shipping[] = {"US", "DE", "DE", "FR", NULL};
    const char *note[] = {"a", "b", NULL, "c", "a"};

    assert_non_null(table);
    ln_column *column = ln_table_add_column(table, "amount", LN_TYPE_FLOAT, &err);
    memcpy(column->values, amount, sizeof amount);
    column = ln_table_add_column(table, "account_age_days", LN_TYPE_INT, &err);
    memcpy(column->values, age, sizeof age);
    column = ln_table_add_column(table, "is_new", LN_TYPE_BOOL, &err);
    memcpy(column->values, is_new, sizeof is_new);
    column = ln_table_add_column(table, "created", LN_TYPE_TIMESTAMP, &err);
    memcpy(column->values, created, sizeof created);
    column = ln_table_add_column(table, "log", LN_TYPE_FLOAT, &err);
    memcpy(column->values, log_values, sizeof log_values);
    column = ln_table_add_column(table, "order total", LN_TYPE_FLOAT, &err);
    memcpy(column->values, log_values, sizeof log_values);

    column = ln_table_add_column(table, "shipping_country", LN_TYPE_CATEGORY, &err);
    ln_dict_intern(column->dict, "FR", 2); /* codes differ from billing's */
    set_strings(column, shipping, 5);
    column = ln_table_add_column(table, "billing_country", LN_TYPE_CATEGORY, &err);
    set_strings(column, billing, 5);
    column = ln_table_add_column(table, "note", LN_TYPE_TEXT, &err);
    set_strings(column, note, 5);
    assert_int_equal(table->n_cols, 9);
    return table;
}

/* Evaluates text on the sample table and compares all five rows. */
static void expect_rows(const char *text, const double expected[5])
{
    ln_error err = {0};
    ln_expr *expr = NULL;
    ln_table *table = sample_table();
    double out[5];

    if (ln_expr_parse(text, &expr, &err) != LN_OK || ln_expr_eval(expr, table, out, &err) != LN_OK) {
        print_error("'%s': %s\n", text, err.message);
        fail();
    }
    for (int i = 0; i < 5; i++) {
        if (!(isnan(expected[i]) ? isnan(out[i]) : out[i] == expected[i])) {
            print_error("'%s' row %d gave %.17g, expected %.17g\n", text, i, out[i], expected[i]);
            fail();
        }
    }
    ln_expr_free(expr);
    ln_table_free(table);
}

/* Evaluates an expression without columns on a one-row table. */
static double eval_constant(const char *text)
{
    ln_error err = {0};
    ln_expr *expr = NULL;
    ln_table *table = ln_table_new(1);
    double out = -12345;

    if (ln_expr_parse(text, &expr, &err) != LN_OK || ln_expr_eval(expr, table, &out, &err) != LN_OK) {
        print_error("'%s': %s\n", text, err.message);
        fail();
    }
    ln_expr_free(expr);
    ln_table_free(table);
    return out;
}

static void expect_constant(const char *text, double expected)
{
    check_value(eval_constant(text), expected, text);
}

static void expect_parse_error(const char *text, ln_status status, const char *message)
{
    ln_error err = {0};
    ln_expr *expr = (ln_expr *)1;

    ln_status got = ln_expr_parse(text, &expr, &err);
    assert_null(expr);
    if (got != status || strcmp(err.message, message) != 0) {
        print_error("'%s'\n  gave   [%s] %s\n  wanted [%s] %s\n", text, ln_status_name(got), err.message,
                    ln_status_name(status), message);
        fail();
    }
}

static void expect_check_error(const char *text, const char *message)
{
    ln_error err = {0};
    ln_expr *expr = NULL;
    ln_table *table = sample_table();
    double out[5];

    assert_int_equal(ln_expr_parse(text, &expr, &err), LN_OK);
    ln_status got = ln_expr_check(expr, table, &err);
    if (got != LN_ERR_CONFIG || strcmp(err.message, message) != 0) {
        print_error("'%s'\n  gave   [%s] %s\n  wanted %s\n", text, ln_status_name(got), err.message, message);
        fail();
    }
    /* Evaluation runs the same check and must reject the expression too. */
    assert_int_equal(ln_expr_eval(expr, table, out, &err), LN_ERR_CONFIG);
    ln_expr_free(expr);
    ln_table_free(table);
}

/* ---- parsing and precedence ---- */

static void test_number_forms(void **state)
{
    (void)state;
    expect_constant("12", 12);
    expect_constant("1e3", 1000);
    expect_constant(".5", 0.5);
    expect_constant("1.", 1);
    expect_constant("2.5E-4", 2.5e-4);
    expect_constant("1e+2", 100);
    expect_constant("  7\t\n", 7);
    expect_constant("true", 1);
    expect_constant("FALSE", 0);
}

static void test_precedence(void **state)
{
    (void)state;
    expect_constant("1 + 2 * 3", 7);
    expect_constant("(1 + 2) * 3", 9);
    expect_constant("10 - 4 - 3", 3);
    expect_constant("100 / 10 / 5", 2);
    expect_constant("2 * 3 % 4", 2);
    expect_constant("-2 * 3", -6);
    expect_constant("- - 3", 3);
    expect_constant("+3", 3);
    expect_constant("-2 + 5", 3);
    expect_constant("2 - -2", 4);
    expect_constant("1 + 2 > 2 and 3 < 4", 1);
    expect_constant("1 or 0 and 0", 1);
    expect_constant("(1 or 0) and 0", 0);
    expect_constant("not 1 == 2", 1);
    expect_constant("not 0 or 1", 1);
    expect_constant("not (0 or 1)", 0);
    expect_constant("true and false or true", 1);
    expect_constant("1 && 0 || 1", 1);
    expect_constant("!1", 0);
    expect_constant("1 AND 1 Or 0", 1);
    expect_constant("NOT 1", 0);
}

static void test_comparisons(void **state)
{
    (void)state;
    expect_constant("2 == 2", 1);
    expect_constant("2 = 2", 1);
    expect_constant("2 != 2", 0);
    expect_constant("2 <> 3", 1);
    expect_constant("2 < 3", 1);
    expect_constant("3 <= 3", 1);
    expect_constant("2 > 3", 0);
    expect_constant("3 >= 4", 0);
    expect_constant("-0 == 0", 1);
}

static void test_functions(void **state)
{
    (void)state;
    expect_constant("if(1, 2, 3)", 2);
    expect_constant("if(0, 2, 3)", 3);
    expect_constant("if(0 / 0, 2, 3)", NAN);
    expect_constant("abs(-2.5)", 2.5);
    expect_constant("min(3, 1, 2)", 1);
    expect_constant("max(3, 1, 2)", 3);
    expect_constant("min(3, 0 / 0)", NAN);
    expect_constant("max(0 / 0, 3)", NAN);
    expect_constant("log(1)", 0);
    expect_constant("exp(0)", 1);
    expect_constant("exp(1000)", INFINITY);
    expect_constant("is_missing(0 / 0)", 1);
    expect_constant("is_missing(0)", 0);
    expect_constant("is_missing('text')", 0);
    expect_constant("IF(1, 2, 3)", 2);
    expect_constant("Max ( 1 , 2 )", 2);
}

static void test_arithmetic_edge_cases(void **state)
{
    (void)state;
    expect_constant("1 / 0", NAN);
    expect_constant("0 / 0", NAN);
    expect_constant("-1 / 0", NAN);
    expect_constant("5 % 0", NAN);
    expect_constant("-7 % 3", -1);
    expect_constant("7.5 % 2", 1.5);
    expect_constant("log(0)", NAN);
    expect_constant("log(-1)", NAN);
    expect_constant("exp(1000) - exp(1000)", NAN);
    expect_constant("1e308 * 10", INFINITY);
}

static void test_string_literals(void **state)
{
    (void)state;
    expect_constant("'it''s' == \"it's\"", 1);
    expect_constant("'it\\'s' == \"it's\"", 1);
    expect_constant("\"say \"\"hi\"\"\" == 'say \"hi\"'", 1);
    expect_constant("\"a\\\"b\" == 'a\"b'", 1);
    expect_constant("'a\\\\b' == \"a\\\\b\"", 1);
    expect_constant("'' == \"\"", 1);
    expect_constant("'B' < 'a'", 1);
    expect_constant("'ab' < 'abc'", 1);
    expect_constant("'b' >= 'abc'", 1);
    expect_constant("'x' != 'x'", 0);
}

/* ---- columns ---- */

static void test_rule_on_columns(void **state)
{
    (void)state;
    const double flagged[] = {1, 0, NAN, NAN, 0};
    expect_rows("amount > 500 and account_age_days < 3", flagged);

    const double payoff[] = {-615, -115, NAN, -915, -15};
    expect_rows("-amount - 15", payoff);

    const double share[] = {60, 10, NAN, 90, 0};
    expect_rows("0.1 * amount", share);
}

static void test_boolean_and_timestamp_columns(void **state)
{
    (void)state;
    const double is_new[] = {1, 0, NAN, 1, 0};
    expect_rows("is_new", is_new);
    const double young_new[] = {1, 0, NAN, NAN, 0};
    expect_rows("is_new and account_age_days < 5", young_new);
    const double after_first_day[] = {0, 1, NAN, 0, 0};
    expect_rows("created >= 86400", after_first_day);
}

static void test_quoted_and_function_named_columns(void **state)
{
    (void)state;
    const double plus_one[] = {3, 4, 5, 6, 7};
    expect_rows("`order total` + 1", plus_one);
    /* A name is a function only before '(', so a column called log stays usable. */
    expect_rows("log + 1", plus_one);
    const double logged[] = {log(2), log(3), log(4), log(5), log(6)};
    expect_rows("log(log)", logged);
    expect_rows("`log` + 1", plus_one);
}

static void test_missing_propagation(void **state)
{
    (void)state;
    const double sum[] = {601, 110, NAN, NAN, 0};
    expect_rows("amount + account_age_days", sum);
    const double compare[] = {1, 0, NAN, 1, 0};
    expect_rows("amount > 200", compare);
    const double negated[] = {0, 1, NAN, 0, 1};
    expect_rows("not amount > 200", negated);
    const double missing[] = {0, 0, 1, 0, 0};
    expect_rows("is_missing(amount)", missing);
    const double fallback[] = {600, 100, 0, 900, 0};
    expect_rows("if(is_missing(amount), 0, amount)", fallback);
    const double missing_string[] = {0, 0, 0, 1, 0};
    expect_rows("is_missing(billing_country)", missing_string);
    const double missing_text[] = {0, 0, 1, 0, 0};
    expect_rows("is_missing(note)", missing_text);
}

/* Every pair of {false, true, missing} through and/or, against the truth tables of SQL's three-valued logic. */
static void test_three_valued_logic(void **state)
{
    (void)state;
    const char *values[3] = {"0", "1", "(0/0)"};
    const double truth[3] = {0, 1, NAN};

    for (int a = 0; a < 3; a++) {
        for (int b = 0; b < 3; b++) {
            char text[64];
            double expected_and = (truth[a] == 0 || truth[b] == 0) ? 0 : (isnan(truth[a]) || isnan(truth[b])) ? NAN : 1;
            double expected_or = (truth[a] == 1 || truth[b] == 1) ? 1 : (isnan(truth[a]) || isnan(truth[b])) ? NAN : 0;
            snprintf(text, sizeof text, "%s and %s", values[a], values[b]);
            expect_constant(text, expected_and);
            snprintf(text, sizeof text, "%s or %s", values[a], values[b]);
            expect_constant(text, expected_or);
        }
    }
    expect_constant("not (0/0)", NAN);
    expect_constant("0 and 1 and (0/0)", 0);
    expect_constant("(0/0) or 0 or 1", 1);
    expect_constant("(0/0) or 0 or 0", NAN);
    /* A non-zero number is true, so 'and' gives 1, not the number. */
    expect_constant("5 and 7", 1);
}

static void test_string_column_comparisons(void **state)
{
    (void)state;
    const double with_literal[] = {1, 0, 0, NAN, 1};
    expect_rows("billing_country == 'US'", with_literal);
    expect_rows("'US' == billing_country", with_literal);
    expect_rows("billing_country = \"US\"", with_literal);

    const double not_literal[] = {0, 1, 1, NAN, 0};
    expect_rows("billing_country != 'US'", not_literal);

    const double absent_literal[] = {0, 0, 0, NAN, 0};
    expect_rows("billing_country == 'JP'", absent_literal);

    const double ordered[] = {0, 1, 1, NAN, 0};
    expect_rows("billing_country < 'GB'", ordered);
    expect_rows("'GB' > billing_country", ordered);
    const double ordered_or_equal[] = {1, 0, 0, NAN, 1};
    expect_rows("billing_country >= 'US'", ordered_or_equal);

    /* Different dictionaries: FR has code 0 in shipping_country but 1 in billing_country. */
    const double differ[] = {0, 1, 0, NAN, NAN};
    expect_rows("billing_country != shipping_country", differ);
    const double same[] = {1, 0, 1, NAN, NAN};
    expect_rows("billing_country == shipping_country", same);
    const double less[] = {0, 0, 0, NAN, NAN};
    expect_rows("billing_country < shipping_country", less);
    const double greater[] = {0, 1, 0, NAN, NAN};
    expect_rows("billing_country > shipping_country", greater);
    const double at_most[] = {1, 0, 1, NAN, NAN};
    expect_rows("billing_country <= shipping_country", at_most);

    /* One column against itself shares a dictionary. */
    const double itself[] = {1, 1, 1, NAN, 1};
    expect_rows("billing_country == billing_country", itself);
    expect_rows("billing_country >= billing_country", itself);

    const double text_column[] = {1, 0, NAN, 0, 1};
    expect_rows("note == 'a'", text_column);
    const double rule[] = {1, 0, NAN, 0, 0};
    expect_rows("note == 'a' and amount > 10", rule);
}

/* Two columns sharing one dictionary, as row subsets of a table do. */
static void test_shared_dictionary_comparison(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_table *table = ln_table_new(4);
    ln_column *left = ln_table_add_column(table, "left", LN_TYPE_CATEGORY, &err);
    const char *left_values[] = {"x", "y", "z", NULL};
    set_strings(left, left_values, 4);
    ln_column *right = ln_table_add_column(table, "right", LN_TYPE_CATEGORY, &err);
    ln_dict_release(right->dict);
    right->dict = ln_dict_retain(table->cols[0].dict);
    left = &table->cols[0];
    const int32_t right_codes[] = {left->codes[0], left->codes[0], left->codes[2], left->codes[1]};
    memcpy(right->codes, right_codes, sizeof right_codes);

    ln_expr *expr = NULL;
    double out[4];
    assert_int_equal(ln_expr_parse("left == right", &expr, &err), LN_OK);
    assert_int_equal(ln_expr_eval(expr, table, out, &err), LN_OK);
    check_value(out[0], 1, "x == x");
    check_value(out[1], 0, "y == x");
    check_value(out[2], 1, "z == z");
    check_value(out[3], NAN, "missing == y");
    ln_expr_free(expr);

    assert_int_equal(ln_expr_parse("left > right", &expr, &err), LN_OK);
    assert_int_equal(ln_expr_eval(expr, table, out, &err), LN_OK);
    check_value(out[0], 0, "x > x");
    check_value(out[1], 1, "y > x");
    check_value(out[2], 0, "z > z");
    check_value(out[3], NAN, "missing > y");
    ln_expr_free(expr);
    ln_table_free(table);
}

/* Results must not depend on where the 1024-row blocks end. */
static void test_rows_across_blocks(void **state)
{
    (void)state;
    const size_t n = 2 * LN_EXPR_BLOCK_ROWS + 37;
    ln_error err = {0};
    ln_table *table = ln_table_new(n);
    ln_column *x = ln_table_add_column(table, "x", LN_TYPE_FLOAT, &err);
    for (size_t i = 0; i < n; i++)
        x->values[i] = i % 7 == 0 ? NAN : (double)i;
    ln_column *c = ln_table_add_column(table, "c", LN_TYPE_CATEGORY, &err);
    for (size_t i = 0; i < n; i++)
        c->codes[i] = ln_dict_intern(c->dict, i % 2 ? "odd" : "even", i % 2 ? 3 : 4);

    ln_expr *expr = NULL;
    double *out = malloc(n * sizeof *out);
    assert_int_equal(ln_expr_parse("if(c == 'odd', x * 2, -x) + (x > 1000)", &expr, &err), LN_OK);
    assert_int_equal(ln_expr_eval(expr, table, out, &err), LN_OK);
    for (size_t i = 0; i < n; i++) {
        double expected = i % 7 == 0 ? NAN : (i % 2 ? 2.0 * (double)i : -(double)i) + (i > 1000);
        check_value(out[i], expected, "row across blocks");
    }
    free(out);
    ln_expr_free(expr);
    ln_table_free(table);
}

static void test_empty_table(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_table *table = ln_table_new(0);
    ln_table_add_column(table, "x", LN_TYPE_FLOAT, &err);
    ln_expr *expr = NULL;
    double out[1] = {42};

    assert_int_equal(ln_expr_parse("x + 1", &expr, &err), LN_OK);
    assert_int_equal(ln_expr_eval(expr, table, out, &err), LN_OK);
    assert_true(out[0] == 42);
    ln_expr_free(expr);
    ln_table_free(table);
}

static void test_text_is_kept(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_expr *expr = NULL;

    assert_int_equal(ln_expr_parse(" amount >  500 ", &expr, &err), LN_OK);
    assert_string_equal(ln_expr_text(expr), " amount >  500 ");
    ln_expr_free(expr);
    ln_expr_free(NULL);
}

/* ---- errors ---- */

static void test_parse_error_messages(void **state)
{
    (void)state;
    expect_parse_error("amount * ", LN_ERR_PARSE, "character 10: expected an operand after '*', found end of expression");
    expect_parse_error("price * amount *", LN_ERR_PARSE,
                       "character 17: expected an operand after '*', found end of expression");
    expect_parse_error("", LN_ERR_PARSE, "character 1: the expression is empty");
    expect_parse_error("   ", LN_ERR_PARSE, "character 4: the expression is empty");
    expect_parse_error("(a + b", LN_ERR_PARSE, "character 7: expected ')' to close '(' at character 1, found end of expression");
    expect_parse_error("a + )", LN_ERR_PARSE, "character 5: expected an operand after '+', found ')'");
    expect_parse_error("a)", LN_ERR_PARSE, "character 2: found ')' without a matching '('");
    expect_parse_error("a b", LN_ERR_PARSE, "character 3: expected an operator or end of expression, found 'b'");
    expect_parse_error("a == == b", LN_ERR_PARSE, "character 6: expected an operand after '==', found '=='");
    expect_parse_error("a < b < c", LN_ERR_PARSE,
                       "character 7: comparisons cannot be chained; join them with 'and', e.g. 'a < b and b < c'");
    expect_parse_error("country == 'US", LN_ERR_PARSE,
                       "character 12: unterminated string: expected a closing ', found end of expression");
    expect_parse_error("\"abc", LN_ERR_PARSE,
                       "character 1: unterminated string: expected a closing \", found end of expression");
    expect_parse_error("'abc\\", LN_ERR_PARSE,
                       "character 1: unterminated string: expected a closing ', found end of expression");
    expect_parse_error("`order total + 1", LN_ERR_PARSE,
                       "character 1: unterminated backquoted name: expected a closing '`', found end of expression");
    expect_parse_error("`` + 1", LN_ERR_PARSE, "character 1: empty column name in backquotes");
    expect_parse_error("'a\\nb'", LN_ERR_PARSE,
                       "character 3: invalid escape '\\n' in a string: only \\\\, \\' and \\\" are escapes; write a "
                       "backslash as \\\\");
    expect_parse_error("1e + 2", LN_ERR_PARSE, "character 1: invalid number '1e': expected digits after the exponent");
    expect_parse_error("x + 3abc", LN_ERR_PARSE,
                       "character 5: invalid number '3abc'; a column name must start with a letter or '_', or be "
                       "written in backquotes");
    expect_parse_error("1e999", LN_ERR_PARSE, "character 1: number '1e999' is too large for a double");
    expect_parse_error("a $ b", LN_ERR_PARSE, "character 3: unexpected character '$'");
    expect_parse_error("a & b", LN_ERR_PARSE, "character 3: unexpected character '&'; write '&&' or 'and'");
    expect_parse_error("a | b", LN_ERR_PARSE, "character 3: unexpected character '|'; write '||' or 'or'");
    expect_parse_error("prix\xc3\xa9 > 1", LN_ERR_PARSE,
                       "character 5: unexpected byte 0xC3; write a column name with other characters in backquotes, "
                       "e.g. `prix total`");
    expect_parse_error("foo(1)", LN_ERR_PARSE,
                       "character 1: unknown function 'foo'; the functions are if, abs, min, max, log, exp and "
                       "is_missing");
    expect_parse_error("if(1, 2)", LN_ERR_PARSE, "character 1: if() takes 3 arguments, found 2");
    expect_parse_error("abs()", LN_ERR_PARSE, "character 1: abs() takes 1 argument, found 0");
    expect_parse_error("1 + min(1)", LN_ERR_PARSE, "character 5: min() takes 2 or more arguments, found 1");
    expect_parse_error("max(1, 2", LN_ERR_PARSE,
                       "character 9: expected ',' or ')' in the arguments of max() opened at character 4, found end of "
                       "expression");
    expect_parse_error("max(1, )", LN_ERR_PARSE, "character 8: expected an operand after ',', found ')'");
    expect_parse_error("abs(1 2)", LN_ERR_PARSE,
                       "character 7: expected ',' or ')' in the arguments of abs() opened at character 4, found '2'");
}

static void test_lone_operators_rejected(void **state)
{
    (void)state;
    expect_parse_error("*", LN_ERR_PARSE, "character 1: expected an operand, found '*'");
    expect_parse_error("+", LN_ERR_PARSE, "character 2: expected an operand after '+', found end of expression");
    expect_parse_error("==", LN_ERR_PARSE, "character 1: expected an operand, found '=='");
    expect_parse_error("and", LN_ERR_PARSE, "character 1: expected an operand, found 'and'");
    expect_parse_error("not", LN_ERR_PARSE, "character 4: expected an operand after 'not', found end of expression");
    expect_parse_error("(", LN_ERR_PARSE, "character 2: expected an operand after '(', found end of expression");
    expect_parse_error(")", LN_ERR_PARSE, "character 1: expected an operand, found ')'");
    expect_parse_error(",", LN_ERR_PARSE, "character 1: expected an operand, found ','");
    expect_parse_error("()", LN_ERR_PARSE, "character 2: expected an operand after '(', found ')'");
    expect_parse_error(".", LN_ERR_PARSE, "character 1: unexpected character '.'");
}

static void test_unknown_column_suggestion(void **state)
{
    (void)state;
    expect_check_error("amout > 5",
                       "unknown column 'amout' at character 1 of expression 'amout > 5'; did you mean 'amount'?");
    expect_check_error("amount > 5 and Account_Age_Day < 3",
                       "unknown column 'Account_Age_Day' at character 16 of expression 'amount > 5 and "
                       "Account_Age_Day < 3'; did you mean 'account_age_days'?");
    expect_check_error("velocity > 5", "unknown column 'velocity' at character 1 of expression 'velocity > 5'");
}

static void test_type_errors(void **state)
{
    (void)state;
    expect_check_error("billing_country + 1",
                       "type error at character 17 of expression 'billing_country + 1': arithmetic needs numbers, but "
                       "category column 'billing_country' is a string");
    expect_check_error("billing_country == 1",
                       "type error at character 17 of expression 'billing_country == 1': '==' compares category column "
                       "'billing_country' with a number; put the number in quotes to compare strings, e.g. '12'");
    expect_check_error("amount > '500'",
                       "type error at character 8 of expression 'amount > '500'': '>' compares the string '500' with a "
                       "number; put the number in quotes to compare strings, e.g. '12'");
    expect_check_error("note and amount > 1",
                       "type error at character 6 of expression 'note and amount > 1': 'and' needs conditions, but text "
                       "column 'note' is a string; compare it with a value, e.g. country == 'US'");
    expect_check_error("not billing_country",
                       "type error at character 1 of expression 'not billing_country': 'not' needs conditions, but "
                       "category column 'billing_country' is a string; compare it with a value, e.g. country == 'US'");
    expect_check_error("-billing_country",
                       "type error at character 1 of expression '-billing_country': unary '-' needs numbers, but "
                       "category column 'billing_country' is a string");
    expect_check_error("abs(note)",
                       "type error at character 1 of expression 'abs(note)': abs() needs numbers, but text column 'note' "
                       "is a string");
    expect_check_error("if(amount > 1, 'yes', 0)",
                       "type error at character 1 of expression 'if(amount > 1, 'yes', 0)': if() needs numbers, but the "
                       "string 'yes' is a string");
    expect_check_error("billing_country",
                       "expression 'billing_country' gives category column 'billing_country', but a rule or payoff "
                       "must give a number; compare it with a value, e.g. country == 'US'");
}

static void test_nesting_limit(void **state)
{
    (void)state;
    const int limit = LN_EXPR_MAX_NESTING;
    char *text = malloc(4 * (size_t)limit + 16);
    ln_error err = {0};
    ln_expr *expr = NULL;

    /* Exactly at the limit parses and evaluates. */
    size_t n = 0;
    for (int i = 0; i < limit; i++)
        text[n++] = '(';
    text[n++] = '1';
    for (int i = 0; i < limit; i++)
        text[n++] = ')';
    text[n] = '\0';
    assert_int_equal(ln_expr_parse(text, &expr, &err), LN_OK);
    ln_expr_free(expr);
    expect_constant(text, 1);

    /* One more level is rejected before the parser recurses further. */
    n = 0;
    for (int i = 0; i <= limit; i++)
        text[n++] = '(';
    text[n++] = '1';
    text[n] = '\0';
    assert_int_equal(ln_expr_parse(text, &expr, &err), LN_ERR_LIMIT);
    assert_string_equal(err.message,
                        "character 257: expression nests deeper than 256 levels of parentheses, calls and prefix "
                        "operators");

    n = 0;
    for (int i = 0; i <= limit; i++) {
        memcpy(text + n, "not ", 4);
        n += 4;
    }
    text[n++] = '1';
    text[n] = '\0';
    assert_int_equal(ln_expr_parse(text, &expr, &err), LN_ERR_LIMIT);

    n = 0;
    for (int i = 0; i <= limit; i++)
        text[n++] = '-';
    text[n++] = '1';
    text[n] = '\0';
    assert_int_equal(ln_expr_parse(text, &expr, &err), LN_ERR_LIMIT);

    n = 0;
    for (int i = 0; i <= limit; i++) {
        memcpy(text + n, "abs(", 4);
        n += 4;
    }
    text[n++] = '1';
    text[n] = '\0';
    assert_int_equal(ln_expr_parse(text, &expr, &err), LN_ERR_LIMIT);
    free(text);
}

/* A deep hostile input far beyond the limit must fail cleanly, not overflow the stack. */
static void test_very_deep_input_rejected(void **state)
{
    (void)state;
    size_t n = LN_MAX_EXPRESSION_BYTES;
    char *text = malloc(n + 1);
    ln_error err = {0};
    ln_expr *expr = NULL;

    memset(text, '(', n);
    text[n] = '\0';
    assert_int_equal(ln_expr_parse(text, &expr, &err), LN_ERR_LIMIT);
    assert_null(expr);
    free(text);
}

static void test_length_limit(void **state)
{
    (void)state;
    size_t n = LN_MAX_EXPRESSION_BYTES + 1;
    char *text = malloc(n + 1);
    ln_error err = {0};
    ln_expr *expr = NULL;

    memset(text, '1', n);
    text[n] = '\0';
    assert_int_equal(ln_expr_parse(text, &expr, &err), LN_ERR_LIMIT);
    assert_string_equal(err.message,
                        "expression is 65537 bytes, over the limit of 65536 bytes (LN_MAX_EXPRESSION_BYTES)");
    free(text);
}

/* Long chains of one operator do not nest, so they stay within the nesting limit. */
static void test_long_chains(void **state)
{
    (void)state;
    const size_t terms = 30000;
    char *text = malloc(2 * terms + 1);
    size_t n = 0;

    for (size_t i = 0; i < terms; i++) {
        text[n++] = i ? '+' : ' ';
        text[n++] = 'x';
    }
    text[n] = '\0';

    ln_error err = {0};
    ln_table *table = ln_table_new(2);
    ln_column *x = ln_table_add_column(table, "x", LN_TYPE_FLOAT, &err);
    x->values[0] = 1;
    x->values[1] = NAN;
    ln_expr *expr = NULL;
    double out[2];
    assert_int_equal(ln_expr_parse(text, &expr, &err), LN_OK);
    assert_int_equal(ln_expr_eval(expr, table, out, &err), LN_OK);
    check_value(out[0], (double)terms, "x+x+...");
    check_value(out[1], NAN, "x+x+... with x missing");
    ln_expr_free(expr);
    free(text);

    /* A rule listing hundreds of alternatives. */
    const size_t alternatives = 2000;
    text = malloc(alternatives * 16 + 1);
    n = 0;
    for (size_t i = 0; i < alternatives; i++)
        n += (size_t)sprintf(text + n, "%sx == %zu", i ? " or " : "", i + 5);
    assert_int_equal(ln_expr_parse(text, &expr, &err), LN_OK);
    assert_int_equal(ln_expr_eval(expr, table, out, &err), LN_OK);
    check_value(out[0], 0, "x == 5 or ... with x = 1");
    check_value(out[1], NAN, "x == 5 or ... with x missing");
    ln_expr_free(expr);
    free(text);
    ln_table_free(table);
}

/* Random byte strings from the grammar's alphabet: every one parses or fails with a status, never crashes. */
static void test_random_inputs_fail_cleanly(void **state)
{
    (void)state;
    const char alphabet[] = "ab1.e()+-*/%<>=!&|,'\"`\\ nototrue";
    uint64_t seed = 12345;
    ln_error err = {0};
    ln_table *table = ln_table_new(3);
    ln_table_add_column(table, "a", LN_TYPE_FLOAT, &err);
    ln_table_add_column(table, "b", LN_TYPE_CATEGORY, &err);
    double out[3];
    size_t parsed = 0;

    for (int trial = 0; trial < 20000; trial++) {
        char text[24];
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t length = (size_t)(seed >> 60) + 1;
        for (size_t i = 0; i < length; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            text[i] = alphabet[(seed >> 33) % (sizeof alphabet - 1)];
        }
        text[length] = '\0';

        ln_expr *expr = NULL;
        ln_status status = ln_expr_parse(text, &expr, &err);
        if (status != LN_OK) {
            assert_int_equal(status, LN_ERR_PARSE);
            assert_true(strncmp(err.message, "character ", 10) == 0);
            continue;
        }
        parsed++;
        status = ln_expr_eval(expr, table, out, &err);
        assert_true(status == LN_OK || status == LN_ERR_CONFIG);
        ln_expr_free(expr);
    }
    /* The alphabet is rich enough that some inputs are valid. */
    assert_true(parsed > 100);
    ln_table_free(table);
}

static void expr_reads_column_names(void **state)
{
    (void)state;
    ln_error err = {0};
    ln_expr *expr = NULL;

    assert_int_equal(ln_expr_parse("if(is_missing(amount), 0, `order total`) > 5 and country == 'amount'", &expr, &err),
                     LN_OK);
    assert_true(ln_expr_reads_column(expr, "amount"));
    assert_true(ln_expr_reads_column(expr, "order total"));
    assert_true(ln_expr_reads_column(expr, "country"));
    assert_false(ln_expr_reads_column(expr, "amoun"));
    assert_false(ln_expr_reads_column(expr, "total"));
    ln_expr_free(expr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expr_reads_column_names),
        cmocka_unit_test(test_number_forms),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_arithmetic_edge_cases),
        cmocka_unit_test(test_string_literals),
        cmocka_unit_test(test_rule_on_columns),
        cmocka_unit_test(test_boolean_and_timestamp_columns),
        cmocka_unit_test(test_quoted_and_function_named_columns),
        cmocka_unit_test(test_missing_propagation),
        cmocka_unit_test(test_three_valued_logic),
        cmocka_unit_test(test_string_column_comparisons),
        cmocka_unit_test(test_shared_dictionary_comparison),
        cmocka_unit_test(test_rows_across_blocks),
        cmocka_unit_test(test_empty_table),
        cmocka_unit_test(test_text_is_kept),
        cmocka_unit_test(test_parse_error_messages),
        cmocka_unit_test(test_lone_operators_rejected),
        cmocka_unit_test(test_unknown_column_suggestion),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_very_deep_input_rejected),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_long_chains),
        cmocka_unit_test(test_random_inputs_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
