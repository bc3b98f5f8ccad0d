/*
 * The syntax tree shared by the parser (parse.c), the type checker
 * (check.c) and the evaluator (eval.c).
 */
#ifndef LANNER_EXPR_INTERNAL_H
#define LANNER_EXPR_INTERNAL_H

#include <stddef.h>

#include "lanner/expr.h"

typedef enum expr_kind {
    EXPR_NUMBER,  /* number, true, false */
    EXPR_STRING,  /* string literal */
    EXPR_COLUMN,  /* column reference */
    EXPR_NEGATE,  /* -child */
    EXPR_NOT,     /* not child */
    EXPR_ADD,     /* children joined by '+' or '-' (ops[i] for children[i], i >= 1) */
    EXPR_MULTIPLY,/* children joined by '*', '/' or '%' */
    EXPR_AND,     /* children joined by 'and' */
    EXPR_OR,      /* children joined by 'or' */
    EXPR_COMPARE, /* children[0] op children[1] */
    EXPR_CALL,    /* function op applied to children */
} expr_kind;

typedef enum expr_op {
    EXPR_OP_NONE = 0,
    EXPR_OP_PLUS,
    EXPR_OP_MINUS,
    EXPR_OP_TIMES,
    EXPR_OP_DIVIDE,
    EXPR_OP_MODULO,
    EXPR_OP_EQ,
    EXPR_OP_NE,
    EXPR_OP_LT,
    EXPR_OP_LE,
    EXPR_OP_GT,
    EXPR_OP_GE,
} expr_op;

typedef enum expr_function {
    EXPR_FN_IF,
    EXPR_FN_ABS,
    EXPR_FN_MIN,
    EXPR_FN_MAX,
    EXPR_FN_LOG,
    EXPR_FN_EXP,
    EXPR_FN_IS_MISSING,
} expr_function;

typedef struct expr_node {
    expr_kind kind;
    int op;                      /* expr_op for COMPARE, expr_function for CALL */
    size_t offset;               /* byte offset of the token that names the node */
    size_t id;                   /* index into ln_expr.nodes */
    int depth;                   /* height of the subtree: a leaf is 1 */
    double number;               /* EXPR_NUMBER */
    char *text;                  /* decoded string literal or column name, NUL-terminated */
    size_t text_length;
    struct expr_node **children;
    unsigned char *ops;          /* ADD and MULTIPLY: expr_op joining children[i] to the left */
    size_t n_children;
} expr_node;

struct ln_expr {
    char *text;
    expr_node *root;
    expr_node **nodes;           /* every node, for freeing and for per-node scratch */
    size_t n_nodes;
    size_t cap_nodes;
};

/* Returns the operator's spelling for messages, e.g. "<=". */
const char *expr_op_symbol(int op);

/* Returns the function's name, e.g. "is_missing". */
const char *expr_function_name(int function);

/* Formats the expression text for a message, shortened with "..." when long. */
void expr_quote_text(const ln_expr *expr, char *buffer, size_t capacity);

#endif
