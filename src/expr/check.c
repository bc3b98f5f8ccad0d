/*
 * Type checking against a table: every name must be a column, strings may
 * only meet strings in comparisons, and the result must be a number.
 */
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "expr/expr_internal.h"

typedef enum value_type { TYPE_NUMBER, TYPE_STRING, TYPE_ERROR } value_type;

/* Names longer than this get no "did you mean" suggestion. */
#define SUGGEST_MAX_NAME 128

/* Levenshtein distance ignoring ASCII case, or SIZE_MAX when a name is too long to compare. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[SUGGEST_MAX_NAME + 1];

    if (la > SUGGEST_MAX_NAME || lb > SUGGEST_MAX_NAME)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = diagonal + cost;
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

/* Returns the closest column name to name, or NULL when none is close enough to be a likely typo. */
static const char *closest_column(const ln_table *table, const char *name)
{
    size_t length = strlen(name);
    size_t allowed = 1 + length / 4;
    const char *best = NULL;
    size_t best_distance = (size_t)-1;

    if (allowed > 3)
        allowed = 3;
    for (size_t c = 0; c < table->n_cols; c++) {
        size_t distance = edit_distance(name, table->cols[c].name);
        if (distance <= allowed && distance < best_distance) {
            best = table->cols[c].name;
            best_distance = distance;
        }
    }
    return best;
}

/* Describes a string operand for a message: "category column 'country'" or "the string 'US'". */
static void describe_string(const expr_node *node, const ln_table *table, char *buffer, size_t capacity)
{
    if (node->kind == EXPR_COLUMN) {
        int c = ln_table_find(table, node->text);
        assert(c >= 0);
        snprintf(buffer, capacity, "%s column '%.200s'", ln_type_name(table->cols[c].type), node->text);
    } else {
        snprintf(buffer, capacity, "the string '%.200s'", node->text);
    }
}

typedef struct checker {
    const ln_expr *expr;
    const ln_table *table;
    ln_error *err;
} checker;

__attribute__((noinline)) static value_type type_error(checker *c, const expr_node *at, const char *needs, const expr_node *string_operand)
{
    char quoted[160];
    char operand[300];
    char operator_name[32];

    expr_quote_text(c->expr, quoted, sizeof quoted);
    describe_string(string_operand, c->table, operand, sizeof operand);
    switch (at->kind) {
    case EXPR_NEGATE: snprintf(operator_name, sizeof operator_name, "unary '%s'", expr_op_symbol(at->op)); break;
    case EXPR_NOT: snprintf(operator_name, sizeof operator_name, "'not'"); break;
    case EXPR_AND: snprintf(operator_name, sizeof operator_name, "'and'"); break;
    case EXPR_OR: snprintf(operator_name, sizeof operator_name, "'or'"); break;
    case EXPR_CALL: snprintf(operator_name, sizeof operator_name, "%s()", expr_function_name(at->op)); break;
    default: snprintf(operator_name, sizeof operator_name, "arithmetic"); break;
    }
    ln_error_set(c->err, LN_ERR_CONFIG,
                 "type error at character %zu of expression '%s': %s needs %s, but %s is a string%s", at->offset + 1,
                 quoted, operator_name, needs, operand,
                 strcmp(needs, "conditions") == 0 ? "; compare it with a value, e.g. country == 'US'" : "");
    return TYPE_ERROR;
}

static value_type check_node(checker *c, const expr_node *node);

/* Checks that every child of node is a number. */
static value_type check_numeric_children(checker *c, const expr_node *node, const char *needs)
{
    for (size_t i = 0; i < node->n_children; i++) {
        value_type type = check_node(c, node->children[i]);
        if (type == TYPE_ERROR)
            return TYPE_ERROR;
        if (type == TYPE_STRING)
            return type_error(c, node, needs, node->children[i]);
    }
    return TYPE_NUMBER;
}

/* Kept out of check_compare() so that its message buffers are not on the stack of every nested comparison. */
__attribute__((noinline)) static value_type compare_type_error(checker *c, const expr_node *node,
                                                               const expr_node *string_side)
{
    char quoted[160];
    char operand[300];

    expr_quote_text(c->expr, quoted, sizeof quoted);
    describe_string(string_side, c->table, operand, sizeof operand);
    ln_error_set(c->err, LN_ERR_CONFIG,
                 "type error at character %zu of expression '%s': '%s' compares %s with a number; put the number in quotes "
                 "to compare strings, e.g. '12'",
                 node->offset + 1, quoted, expr_op_symbol(node->op), operand);
    return TYPE_ERROR;
}

static value_type check_compare(checker *c, const expr_node *node)
{
    value_type left = check_node(c, node->children[0]);
    if (left == TYPE_ERROR)
        return TYPE_ERROR;
    value_type right = check_node(c, node->children[1]);
    if (right == TYPE_ERROR)
        return TYPE_ERROR;
    if (left == right)
        return TYPE_NUMBER;

    const expr_node *string_side = left == TYPE_STRING ? node->children[0] : node->children[1];
    return compare_type_error(c, node, string_side);
}

static value_type check_column(checker *c, const expr_node *node)
{
    int index = ln_table_find(c->table, node->text);

    if (index >= 0)
        return ln_type_is_numeric(c->table->cols[index].type) ? TYPE_NUMBER : TYPE_STRING;

    char quoted[160];
    char suggestion[300] = "";
    const char *closest = closest_column(c->table, node->text);
    expr_quote_text(c->expr, quoted, sizeof quoted);
    if (closest != NULL)
        snprintf(suggestion, sizeof suggestion, "; did you mean '%.200s'?", closest);
    ln_error_set(c->err, LN_ERR_CONFIG, "unknown column '%.200s' at character %zu of expression '%s'%s", node->text,
                 node->offset + 1, quoted, suggestion);
    return TYPE_ERROR;
}

static value_type check_node(checker *c, const expr_node *node)
{
    switch (node->kind) {
    case EXPR_NUMBER:
        return TYPE_NUMBER;
    case EXPR_STRING:
        return TYPE_STRING;
    case EXPR_COLUMN:
        return check_column(c, node);
    case EXPR_NEGATE:
    case EXPR_ADD:
    case EXPR_MULTIPLY:
        return check_numeric_children(c, node, "numbers");
    case EXPR_NOT:
    case EXPR_AND:
    case EXPR_OR:
        return check_numeric_children(c, node, "conditions");
    case EXPR_COMPARE:
        return check_compare(c, node);
    case EXPR_CALL:
        if (node->op == EXPR_FN_IS_MISSING)
            return check_node(c, node->children[0]) == TYPE_ERROR ? TYPE_ERROR : TYPE_NUMBER;
        return check_numeric_children(c, node, "numbers");
    }
    assert(!"unknown node kind");
    return TYPE_ERROR;
}

ln_status ln_expr_check(const ln_expr *expr, const ln_table *table, ln_error *err)
{
    assert(expr != NULL);
    assert(table != NULL);
    checker c = {.expr = expr, .table = table, .err = err};

    value_type type = check_node(&c, expr->root);
    if (type == TYPE_ERROR)
        return LN_ERR_CONFIG;
    if (type == TYPE_STRING) {
        char quoted[160];
        char operand[300];
        expr_quote_text(expr, quoted, sizeof quoted);
        describe_string(expr->root, table, operand, sizeof operand);
        return ln_error_set(err, LN_ERR_CONFIG,
                            "expression '%s' gives %s, but a rule or payoff must give a number; compare it with a "
                            "value, e.g. country == 'US'",
                            quoted, operand);
    }
    return LN_OK;
}
