/*
 * Lexer and recursive-descent parser for rule and payoff expressions. The
 * grammar is documented in include/lanner/expr.h. Chains of one binary
 * operator become one node with many children, so only parentheses,
 * function calls and prefix operators deepen the tree (and the C stack).
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr/expr_internal.h"

typedef enum token_kind {
    TOKEN_END,
    TOKEN_NUMBER,
    TOKEN_STRING,
    TOKEN_NAME,
    TOKEN_LPAREN,
    TOKEN_RPAREN,
    TOKEN_COMMA,
    TOKEN_PLUS,
    TOKEN_MINUS,
    TOKEN_STAR,
    TOKEN_SLASH,
    TOKEN_PERCENT,
    TOKEN_EQ,
    TOKEN_NE,
    TOKEN_LT,
    TOKEN_LE,
    TOKEN_GT,
    TOKEN_GE,
    TOKEN_AND,
    TOKEN_OR,
    TOKEN_NOT,
    TOKEN_TRUE,
    TOKEN_FALSE,
} token_kind;

typedef struct token {
    token_kind kind;
    size_t start;  /* byte offset into the text */
    size_t length; /* raw length, quotes included */
    double number;
    int quoted;    /* a backquoted name */
} token;

typedef struct parser {
    const char *text;
    size_t length;
    token current;
    token previous;
    size_t position; /* where the next token starts, blanks included */
    int nesting;
    ln_expr *expr;
    ln_error *err;
    ln_status status;
} parser;

static const struct {
    const char *name;
    expr_function function;
    size_t min_args;
    size_t max_args;
} functions[] = {
    {"if", EXPR_FN_IF, 3, 3},
    {"abs", EXPR_FN_ABS, 1, 1},
    {"min", EXPR_FN_MIN, 2, (size_t)-1},
    {"max", EXPR_FN_MAX, 2, (size_t)-1},
    {"log", EXPR_FN_LOG, 1, 1},
    {"exp", EXPR_FN_EXP, 1, 1},
    {"is_missing", EXPR_FN_IS_MISSING, 1, 1},
};

#define N_FUNCTIONS (sizeof functions / sizeof functions[0])

const char *expr_function_name(int function)
{
    for (size_t i = 0; i < N_FUNCTIONS; i++)
        if ((int)functions[i].function == function)
            return functions[i].name;
    assert(!"unknown function");
    return "?";
}

const char *expr_op_symbol(int op)
{
    switch ((expr_op)op) {
    case EXPR_OP_PLUS: return "+";
    case EXPR_OP_MINUS: return "-";
    case EXPR_OP_TIMES: return "*";
    case EXPR_OP_DIVIDE: return "/";
    case EXPR_OP_MODULO: return "%";
    case EXPR_OP_EQ: return "==";
    case EXPR_OP_NE: return "!=";
    case EXPR_OP_LT: return "<";
    case EXPR_OP_LE: return "<=";
    case EXPR_OP_GT: return ">";
    case EXPR_OP_GE: return ">=";
    case EXPR_OP_NONE: break;
    }
    return "?";
}

void expr_quote_text(const ln_expr *expr, char *buffer, size_t capacity)
{
    const size_t max_shown = 120;
    size_t length = strlen(expr->text);

    if (length <= max_shown)
        snprintf(buffer, capacity, "%s", expr->text);
    else
        snprintf(buffer, capacity, "%.*s...", (int)max_shown, expr->text);
}

/* ---- errors ---- */

static void *fail(parser *p, ln_status status, size_t offset, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void *fail(parser *p, ln_status status, size_t offset, const char *format, ...)
{
    char detail[LN_ERROR_MESSAGE_MAX];
    va_list args;

    if (p->status != LN_OK)
        return NULL;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    p->status = ln_error_set(p->err, status, "character %zu: %s", offset + 1, detail);
    return NULL;
}

static void *fail_nomem(parser *p)
{
    if (p->status == LN_OK)
        p->status = ln_error_set(p->err, LN_ERR_NOMEM, "out of memory while parsing an expression");
    return NULL;
}

/* Describes a token for "found ..." in a message. */
static void describe(const parser *p, const token *t, char *buffer, size_t capacity)
{
    const size_t max_shown = 40;

    if (t->kind == TOKEN_END)
        snprintf(buffer, capacity, "end of expression");
    else if (t->length <= max_shown)
        snprintf(buffer, capacity, "'%.*s'", (int)t->length, p->text + t->start);
    else
        snprintf(buffer, capacity, "'%.*s...'", (int)max_shown, p->text + t->start);
}

/* ---- lexer ---- */

static int is_name_start(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(int c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static size_t skip_digits(const char *text, size_t i)
{
    while (is_digit((unsigned char)text[i]))
        i++;
    return i;
}

static int lex_number(parser *p, size_t start, token *t)
{
    const char *text = p->text;
    size_t i = skip_digits(text, start);
    int mantissa_digits = i > start;

    if (text[i] == '.') {
        size_t after = skip_digits(text, i + 1);
        mantissa_digits |= after > i + 1;
        i = after;
    }
    if (!mantissa_digits) {
        fail(p, LN_ERR_PARSE, start, "expected digits in the number, found '.'");
        return -1;
    }
    if (text[i] == 'e' || text[i] == 'E') {
        size_t exponent = i + 1;
        if (text[exponent] == '+' || text[exponent] == '-')
            exponent++;
        if (!is_digit((unsigned char)text[exponent])) {
            fail(p, LN_ERR_PARSE, start, "invalid number '%.*s': expected digits after the exponent",
                 (int)(exponent - start), text + start);
            return -1;
        }
        i = skip_digits(text, exponent);
    }
    if (is_name_char((unsigned char)text[i])) {
        size_t end = i;
        while (is_name_char((unsigned char)text[end]))
            end++;
        fail(p, LN_ERR_PARSE, start, "invalid number '%.*s'; a column name must start with a letter or '_', or be written in backquotes",
             (int)(end < start + 40 ? end - start : 40), text + start);
        return -1;
    }

    /* The token is valid decimal syntax, which strtod reads the same way. */
    char *end = NULL;
    errno = 0;
    t->number = strtod(text + start, &end);
    assert(end == text + i);
    if (errno == ERANGE && isinf(t->number)) {
        fail(p, LN_ERR_PARSE, start, "number '%.*s' is too large for a double", (int)(i - start < 40 ? i - start : 40),
             text + start);
        return -1;
    }
    t->kind = TOKEN_NUMBER;
    t->length = i - start;
    return 0;
}

/* Finds the end of a quoted string or backquoted name starting at start. */
static int lex_quoted(parser *p, size_t start, token *t)
{
    const char *text = p->text;
    char quote = text[start];
    size_t i = start + 1;

    for (;;) {
        char c = text[i];
        if (c == '\0') {
            if (quote == '`')
                fail(p, LN_ERR_PARSE, start, "unterminated backquoted name: expected a closing '`', found end of expression");
            else
                fail(p, LN_ERR_PARSE, start, "unterminated string: expected a closing %c, found end of expression", quote);
            return -1;
        }
        if (c == quote && text[i + 1] == quote) {
            i += 2;
            continue;
        }
        if (c == quote)
            break;
        if (c == '\\' && quote != '`') {
            char next = text[i + 1];
            if (next == '\0') {
                i++;
                continue;
            }
            if (next != '\\' && next != '\'' && next != '"') {
                fail(p, LN_ERR_PARSE, i, "invalid escape '\\%c' in a string: only \\\\, \\' and \\\" are escapes; write a backslash as \\\\",
                     next);
                return -1;
            }
            i += 2;
            continue;
        }
        i++;
    }

    t->length = i + 1 - start;
    if (quote == '`') {
        if (t->length == 2) {
            fail(p, LN_ERR_PARSE, start, "empty column name in backquotes");
            return -1;
        }
        t->kind = TOKEN_NAME;
        t->quoted = 1;
    } else {
        t->kind = TOKEN_STRING;
    }
    return 0;
}

static token_kind keyword(const char *word, size_t length)
{
    static const struct {
        const char *word;
        token_kind kind;
    } keywords[] = {
        {"and", TOKEN_AND}, {"or", TOKEN_OR}, {"not", TOKEN_NOT}, {"true", TOKEN_TRUE}, {"false", TOKEN_FALSE},
    };

    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i].word) == length && strncasecmp(word, keywords[i].word, length) == 0)
            return keywords[i].kind;
    return TOKEN_NAME;
}

/* Returns the operator token at i (one or two bytes), or -1 when there is none. */
static int lex_operator(const char *text, size_t i, token *t)
{
    static const struct {
        const char *symbol;
        token_kind kind;
    } operators[] = {
        /* Two-byte symbols come first so that '<=' is not read as '<'. */
        {"==", TOKEN_EQ}, {"!=", TOKEN_NE}, {"<>", TOKEN_NE}, {"<=", TOKEN_LE}, {">=", TOKEN_GE},
        {"&&", TOKEN_AND}, {"||", TOKEN_OR},
        {"=", TOKEN_EQ}, {"<", TOKEN_LT}, {">", TOKEN_GT}, {"!", TOKEN_NOT}, {"+", TOKEN_PLUS},
        {"-", TOKEN_MINUS}, {"*", TOKEN_STAR}, {"/", TOKEN_SLASH}, {"%", TOKEN_PERCENT},
        {"(", TOKEN_LPAREN}, {")", TOKEN_RPAREN}, {",", TOKEN_COMMA},
    };

    for (size_t k = 0; k < sizeof operators / sizeof operators[0]; k++) {
        size_t length = strlen(operators[k].symbol);
        if (strncmp(text + i, operators[k].symbol, length) == 0) {
            t->kind = operators[k].kind;
            t->length = length;
            return 0;
        }
    }
    return -1;
}

static int advance(parser *p)
{
    const char *text = p->text;
    size_t i = p->position;
    token t = {0};

    p->previous = p->current;
    while (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')
        i++;
    t.start = i;

    unsigned char c = (unsigned char)text[i];
    if (c == '\0') {
        t.kind = TOKEN_END;
    } else if (is_digit(c) || (c == '.' && is_digit((unsigned char)text[i + 1]))) {
        if (lex_number(p, i, &t) != 0)
            return -1;
    } else if (c == '\'' || c == '"' || c == '`') {
        if (lex_quoted(p, i, &t) != 0)
            return -1;
    } else if (is_name_start(c)) {
        size_t end = i;
        while (is_name_char((unsigned char)text[end]))
            end++;
        t.length = end - i;
        t.kind = keyword(text + i, t.length);
    } else if (lex_operator(text, i, &t) != 0) {
        if (c == '&' || c == '|')
            fail(p, LN_ERR_PARSE, i, "unexpected character '%c'; write '%c%c' or '%s'", c, c, c,
                 c == '&' ? "and" : "or");
        else if (c >= 0x21 && c < 0x7f)
            fail(p, LN_ERR_PARSE, i, "unexpected character '%c'", c);
        else
            fail(p, LN_ERR_PARSE, i,
                 "unexpected byte 0x%02X; write a column name with other characters in backquotes, e.g. `prix total`",
                 c);
        return -1;
    }
    p->current = t;
    p->position = t.start + t.length;
    return 0;
}

/* ---- nodes ---- */

static expr_node *new_node(parser *p, expr_kind kind, size_t offset)
{
    ln_expr *expr = p->expr;

    if (expr->n_nodes == expr->cap_nodes) {
        size_t cap = expr->cap_nodes ? expr->cap_nodes * 2 : 16;
        expr_node **nodes = realloc(expr->nodes, cap * sizeof *nodes);
        if (nodes == NULL)
            return fail_nomem(p);
        expr->nodes = nodes;
        expr->cap_nodes = cap;
    }

    expr_node *node = calloc(1, sizeof *node);
    if (node == NULL)
        return fail_nomem(p);
    node->kind = kind;
    node->offset = offset;
    node->id = expr->n_nodes;
    node->depth = 1;
    expr->nodes[expr->n_nodes++] = node;
    return node;
}

static int set_children(parser *p, expr_node *node, expr_node **children, unsigned char *ops, size_t n)
{
    node->children = malloc(n * sizeof *children);
    if (node->children == NULL) {
        fail_nomem(p);
        return -1;
    }
    memcpy(node->children, children, n * sizeof *children);
    node->n_children = n;
    if (ops != NULL) {
        node->ops = malloc(n);
        if (node->ops == NULL) {
            fail_nomem(p);
            return -1;
        }
        memcpy(node->ops, ops, n);
    }
    for (size_t i = 0; i < n; i++)
        if (children[i]->depth + 1 > node->depth)
            node->depth = children[i]->depth + 1;
    return 0;
}

/*
 * Decodes a quoted token's body into node->text: a doubled quote or a
 * backslash escape stands for the character it protects.
 */
static int decode_text(parser *p, expr_node *node, const token *t)
{
    const char *body = p->text + t->start + 1;
    size_t body_length = t->length - 2;
    char quote = p->text[t->start];
    char *text = malloc(body_length + 1);
    size_t n = 0;

    if (text == NULL) {
        fail_nomem(p);
        return -1;
    }
    for (size_t i = 0; i < body_length; i++) {
        if (body[i] == quote || (body[i] == '\\' && quote != '`'))
            i++;
        text[n++] = body[i];
    }
    text[n] = '\0';
    node->text = text;
    node->text_length = n;
    return 0;
}

static int copy_name(parser *p, expr_node *node, const token *t)
{
    if (t->quoted)
        return decode_text(p, node, t);
    node->text = malloc(t->length + 1);
    if (node->text == NULL) {
        fail_nomem(p);
        return -1;
    }
    memcpy(node->text, p->text + t->start, t->length);
    node->text[t->length] = '\0';
    node->text_length = t->length;
    return 0;
}

/* A growable list of children for one chain or call; at most one per token. */
typedef struct child_list {
    expr_node **items;
    unsigned char *ops;
    size_t count;
    size_t cap;
} child_list;

static int child_list_push(parser *p, child_list *list, expr_node *child, int op)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        expr_node **items = realloc(list->items, cap * sizeof *items);
        if (items == NULL) {
            fail_nomem(p);
            return -1;
        }
        list->items = items;
        unsigned char *ops = realloc(list->ops, cap);
        if (ops == NULL) {
            fail_nomem(p);
            return -1;
        }
        list->ops = ops;
        list->cap = cap;
    }
    list->items[list->count] = child;
    list->ops[list->count] = (unsigned char)op;
    list->count++;
    return 0;
}

static void child_list_free(child_list *list)
{
    free(list->items);
    free(list->ops);
}

/* ---- grammar ---- */

static expr_node *parse_or(parser *p);

static int enter(parser *p)
{
    if (++p->nesting > LN_EXPR_MAX_NESTING) {
        fail(p, LN_ERR_LIMIT, p->current.start,
             "expression nests deeper than %d levels of parentheses, calls and prefix operators",
             LN_EXPR_MAX_NESTING);
        return -1;
    }
    return 0;
}

static int is_operator_token(token_kind kind)
{
    return kind != TOKEN_END && kind != TOKEN_NUMBER && kind != TOKEN_STRING && kind != TOKEN_NAME &&
           kind != TOKEN_TRUE && kind != TOKEN_FALSE && kind != TOKEN_RPAREN;
}

static expr_node *expected_operand(parser *p)
{
    char found[80];
    char after[80] = "";

    describe(p, &p->current, found, sizeof found);
    if (p->current.kind == TOKEN_END && p->previous.kind == TOKEN_END)
        return fail(p, LN_ERR_PARSE, p->current.start, "the expression is empty");
    if (is_operator_token(p->previous.kind) && p->previous.length > 0)
        snprintf(after, sizeof after, " after '%.*s'", (int)p->previous.length, p->text + p->previous.start);
    return fail(p, LN_ERR_PARSE, p->current.start, "expected an operand%s, found %s", after, found);
}

static expr_node *parse_call(parser *p, token name)
{
    size_t f = 0;
    while (f < N_FUNCTIONS && !(strlen(functions[f].name) == name.length &&
                                strncasecmp(functions[f].name, p->text + name.start, name.length) == 0))
        f++;
    if (f == N_FUNCTIONS)
        return fail(p, LN_ERR_PARSE, name.start,
                    "unknown function '%.*s'; the functions are if, abs, min, max, log, exp and is_missing",
                    (int)(name.length < 40 ? name.length : 40), p->text + name.start);

    size_t open = p->current.start;
    if (enter(p) != 0 || advance(p) != 0)
        return NULL;

    child_list args = {0};
    expr_node *node = NULL;
    if (p->current.kind != TOKEN_RPAREN) {
        for (;;) {
            expr_node *arg = parse_or(p);
            if (arg == NULL || child_list_push(p, &args, arg, 0) != 0)
                goto done;
            if (p->current.kind != TOKEN_COMMA)
                break;
            if (advance(p) != 0)
                goto done;
        }
    }
    if (p->current.kind != TOKEN_RPAREN) {
        char found[80];
        describe(p, &p->current, found, sizeof found);
        fail(p, LN_ERR_PARSE, p->current.start,
             "expected ',' or ')' in the arguments of %s() opened at character %zu, found %s", functions[f].name,
             open + 1, found);
        goto done;
    }
    if (args.count < functions[f].min_args || args.count > functions[f].max_args) {
        if (functions[f].min_args == functions[f].max_args)
            fail(p, LN_ERR_PARSE, name.start, "%s() takes %zu argument%s, found %zu", functions[f].name,
                 functions[f].min_args, functions[f].min_args == 1 ? "" : "s", args.count);
        else
            fail(p, LN_ERR_PARSE, name.start, "%s() takes %zu or more arguments, found %zu", functions[f].name,
                 functions[f].min_args, args.count);
        goto done;
    }
    if (advance(p) != 0)
        goto done;
    p->nesting--;

    node = new_node(p, EXPR_CALL, name.start);
    if (node == NULL)
        goto done;
    node->op = (int)functions[f].function;
    if (set_children(p, node, args.items, NULL, args.count) != 0)
        node = NULL;

done:
    child_list_free(&args);
    return p->status == LN_OK ? node : NULL;
}

/* Whether the next non-blank byte after token t is '(' (a function call). */
static int followed_by_paren(const parser *p, const token *t)
{
    size_t i = t->start + t->length;
    while (p->text[i] == ' ' || p->text[i] == '\t' || p->text[i] == '\n' || p->text[i] == '\r')
        i++;
    return p->text[i] == '(';
}

static expr_node *parse_primary(parser *p)
{
    token t = p->current;
    expr_node *node = NULL;

    switch (t.kind) {
    case TOKEN_NUMBER:
    case TOKEN_TRUE:
    case TOKEN_FALSE:
        node = new_node(p, EXPR_NUMBER, t.start);
        if (node == NULL)
            return NULL;
        if (t.kind == TOKEN_NUMBER)
            node->number = t.number;
        else
            node->number = t.kind == TOKEN_TRUE;
        return advance(p) == 0 ? node : NULL;

    case TOKEN_STRING:
        node = new_node(p, EXPR_STRING, t.start);
        if (node == NULL || decode_text(p, node, &t) != 0)
            return NULL;
        return advance(p) == 0 ? node : NULL;

    case TOKEN_NAME:
        if (!t.quoted && followed_by_paren(p, &t)) {
            if (advance(p) != 0)
                return NULL;
            return parse_call(p, t);
        }
        node = new_node(p, EXPR_COLUMN, t.start);
        if (node == NULL || copy_name(p, node, &t) != 0)
            return NULL;
        return advance(p) == 0 ? node : NULL;

    case TOKEN_LPAREN:
        if (enter(p) != 0 || advance(p) != 0)
            return NULL;
        node = parse_or(p);
        if (node == NULL)
            return NULL;
        if (p->current.kind != TOKEN_RPAREN) {
            char found[80];
            describe(p, &p->current, found, sizeof found);
            return fail(p, LN_ERR_PARSE, p->current.start, "expected ')' to close '(' at character %zu, found %s",
                        t.start + 1, found);
        }
        p->nesting--;
        return advance(p) == 0 ? node : NULL;

    default:
        return expected_operand(p);
    }
}

static expr_node *parse_unary(parser *p)
{
    token t = p->current;

    if (t.kind != TOKEN_MINUS && t.kind != TOKEN_PLUS)
        return parse_primary(p);
    if (enter(p) != 0 || advance(p) != 0)
        return NULL;

    expr_node *child = parse_unary(p);
    if (child == NULL)
        return NULL;
    p->nesting--;

    /* The node stays even for '+', so that +'text' is still a type error. */
    expr_node *node = new_node(p, EXPR_NEGATE, t.start);
    if (node == NULL || set_children(p, node, &child, NULL, 1) != 0)
        return NULL;
    node->op = t.kind == TOKEN_MINUS ? EXPR_OP_MINUS : EXPR_OP_PLUS;
    return node;
}

/* Maps an operator token of a chain level to its expr_op, or EXPR_OP_NONE. */
typedef int (*op_of_token)(token_kind kind);

static int additive_op(token_kind kind)
{
    return kind == TOKEN_PLUS ? EXPR_OP_PLUS : kind == TOKEN_MINUS ? EXPR_OP_MINUS : EXPR_OP_NONE;
}

static int multiplicative_op(token_kind kind)
{
    switch (kind) {
    case TOKEN_STAR: return EXPR_OP_TIMES;
    case TOKEN_SLASH: return EXPR_OP_DIVIDE;
    case TOKEN_PERCENT: return EXPR_OP_MODULO;
    default: return EXPR_OP_NONE;
    }
}

static int and_op(token_kind kind)
{
    return kind == TOKEN_AND;
}

static int or_op(token_kind kind)
{
    return kind == TOKEN_OR;
}

/*
 * Parses operands joined by the operators of one level into a single node
 * of that kind, looping rather than recursing so long chains use no stack.
 */
static expr_node *parse_chain(parser *p, expr_kind kind, op_of_token op_of, expr_node *(*operand)(parser *))
{
    expr_node *first = operand(p);
    if (first == NULL || op_of(p->current.kind) == EXPR_OP_NONE)
        return first;

    child_list list = {0};
    expr_node *node = NULL;
    size_t offset = p->current.start;
    if (child_list_push(p, &list, first, EXPR_OP_NONE) != 0)
        goto done;
    while (op_of(p->current.kind) != EXPR_OP_NONE) {
        int op = op_of(p->current.kind);
        if (advance(p) != 0)
            goto done;
        expr_node *next = operand(p);
        if (next == NULL || child_list_push(p, &list, next, op) != 0)
            goto done;
    }

    node = new_node(p, kind, offset);
    if (node != NULL && set_children(p, node, list.items, list.ops, list.count) != 0)
        node = NULL;

done:
    child_list_free(&list);
    return p->status == LN_OK ? node : NULL;
}

static expr_node *parse_multiplicative(parser *p)
{
    return parse_chain(p, EXPR_MULTIPLY, multiplicative_op, parse_unary);
}

static expr_node *parse_additive(parser *p)
{
    return parse_chain(p, EXPR_ADD, additive_op, parse_multiplicative);
}

static int comparison_op(token_kind kind)
{
    switch (kind) {
    case TOKEN_EQ: return EXPR_OP_EQ;
    case TOKEN_NE: return EXPR_OP_NE;
    case TOKEN_LT: return EXPR_OP_LT;
    case TOKEN_LE: return EXPR_OP_LE;
    case TOKEN_GT: return EXPR_OP_GT;
    case TOKEN_GE: return EXPR_OP_GE;
    default: return EXPR_OP_NONE;
    }
}

static expr_node *parse_comparison(parser *p)
{
    expr_node *left = parse_additive(p);
    if (left == NULL)
        return NULL;

    int op = comparison_op(p->current.kind);
    if (op == EXPR_OP_NONE)
        return left;
    size_t offset = p->current.start;
    if (advance(p) != 0)
        return NULL;

    expr_node *right = parse_additive(p);
    if (right == NULL)
        return NULL;
    if (comparison_op(p->current.kind) != EXPR_OP_NONE)
        return fail(p, LN_ERR_PARSE, p->current.start,
                    "comparisons cannot be chained; join them with 'and', e.g. 'a < b and b < c'");

    expr_node *children[2] = {left, right};
    expr_node *node = new_node(p, EXPR_COMPARE, offset);
    if (node == NULL || set_children(p, node, children, NULL, 2) != 0)
        return NULL;
    node->op = op;
    return node;
}

static expr_node *parse_not(parser *p)
{
    token t = p->current;

    if (t.kind != TOKEN_NOT)
        return parse_comparison(p);
    if (enter(p) != 0 || advance(p) != 0)
        return NULL;

    expr_node *child = parse_not(p);
    if (child == NULL)
        return NULL;
    p->nesting--;

    expr_node *node = new_node(p, EXPR_NOT, t.start);
    if (node == NULL || set_children(p, node, &child, NULL, 1) != 0)
        return NULL;
    return node;
}

static expr_node *parse_and(parser *p)
{
    return parse_chain(p, EXPR_AND, and_op, parse_not);
}

static expr_node *parse_or(parser *p)
{
    return parse_chain(p, EXPR_OR, or_op, parse_and);
}

/* ---- public ---- */

ln_status ln_expr_parse(const char *text, ln_expr **out, ln_error *err)
{
    assert(text != NULL);
    assert(out != NULL);
    *out = NULL;

    size_t length = strlen(text);
    if (length > LN_MAX_EXPRESSION_BYTES)
        return ln_error_set(err, LN_ERR_LIMIT,
                            "expression is %zu bytes, over the limit of %d bytes (LN_MAX_EXPRESSION_BYTES)", length,
                            LN_MAX_EXPRESSION_BYTES);

    ln_expr *expr = calloc(1, sizeof *expr);
    if (expr == NULL || (expr->text = strdup(text)) == NULL) {
        free(expr);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory while parsing an expression");
    }

    parser p = {.text = expr->text, .length = length, .expr = expr, .err = err, .status = LN_OK};
    if (advance(&p) == 0) {
        expr->root = parse_or(&p);
        if (expr->root != NULL && p.current.kind != TOKEN_END) {
            char found[80];
            describe(&p, &p.current, found, sizeof found);
            if (p.current.kind == TOKEN_RPAREN)
                fail(&p, LN_ERR_PARSE, p.current.start, "found ')' without a matching '('");
            else
                fail(&p, LN_ERR_PARSE, p.current.start, "expected an operator or end of expression, found %s",
                     found);
        }
    }
    if (p.status != LN_OK) {
        ln_expr_free(expr);
        return p.status;
    }
    assert(expr->root != NULL);
    *out = expr;
    return LN_OK;
}

const char *ln_expr_text(const ln_expr *expr)
{
    return expr->text;
}

int ln_expr_reads_column(const ln_expr *expr, const char *name)
{
    for (size_t i = 0; i < expr->n_nodes; i++) {
        const expr_node *node = expr->nodes[i];
        if (node->kind == EXPR_COLUMN && strcmp(node->text, name) == 0)
            return 1;
    }
    return 0;
}

void ln_expr_free(ln_expr *expr)
{
    if (expr == NULL)
        return;
    for (size_t i = 0; i < expr->n_nodes; i++) {
        free(expr->nodes[i]->text);
        free(expr->nodes[i]->children);
        free(expr->nodes[i]->ops);
        free(expr->nodes[i]);
    }
    free(expr->nodes);
    free(expr->text);
    free(expr);
}
