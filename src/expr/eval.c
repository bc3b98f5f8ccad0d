/*
 * Vectorised evaluation: each node computes LN_EXPR_BLOCK_ROWS rows at a
 * time into an array, so the tree is walked once per block rather than once
 * per row. A node of height h keeps its intermediate arrays in scratch level
 * h; its children have smaller heights, so they never overwrite them.
 *
 * String comparisons are prepared once per call: a column compared with a
 * literal gets a result per dictionary code, two columns with different
 * dictionaries get a code-to-code map (equality) or shared ranks (ordering),
 * so no row needs a string comparison.
 */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_internal.h"

typedef enum compare_mode {
    COMPARE_NUMBERS,      /* numeric operands */
    COMPARE_CONSTANT,     /* two string literals */
    COMPARE_CODE_TABLE,   /* string column against a literal: result per code */
    COMPARE_SAME_CODES,   /* equality of two columns sharing one dictionary */
    COMPARE_MAPPED_CODES, /* equality of two columns with different dictionaries */
    COMPARE_RANKS,        /* ordering of two string columns */
} compare_mode;

typedef struct string_compare {
    compare_mode mode;
    int op;                     /* after swapping the operands so a column is on the left */
    double constant;
    const int32_t *left_codes;
    const int32_t *right_codes;
    unsigned char *code_result; /* COMPARE_CODE_TABLE: 0 or 1 per left code */
    int32_t *map;               /* COMPARE_MAPPED_CODES: left code to right code, -1 when absent */
    int32_t *left_rank;         /* COMPARE_RANKS */
    int32_t *right_rank;
} string_compare;

typedef struct evaluator {
    const ln_table *table;
    const ln_column **columns;  /* per node id: the column of an EXPR_COLUMN node */
    string_compare *compares;   /* per node id: set for EXPR_COMPARE nodes */
    double *scratch;            /* 2 arrays of LN_EXPR_BLOCK_ROWS per tree height */
    size_t start;               /* first row of the current block */
} evaluator;

#define BLOCK LN_EXPR_BLOCK_ROWS

static double *scratch_array(const evaluator *e, const expr_node *node, int slot)
{
    return e->scratch + ((size_t)node->depth * 2 + (size_t)slot) * BLOCK;
}

static int is_string_node(const evaluator *e, const expr_node *node)
{
    if (node->kind == EXPR_STRING)
        return 1;
    return node->kind == EXPR_COLUMN && !ln_type_is_numeric(e->columns[node->id]->type);
}

/* ---- comparison helpers ---- */

static int compare_bytes(const char *a, size_t a_length, const char *b, size_t b_length)
{
    size_t shorter = a_length < b_length ? a_length : b_length;
    int order = memcmp(a, b, shorter);

    if (order != 0)
        return order < 0 ? -1 : 1;
    if (a_length == b_length)
        return 0;
    return a_length < b_length ? -1 : 1;
}

/* Applies a comparison operator to the sign of a three-way comparison. */
static int apply_op(int op, int order)
{
    switch (op) {
    case EXPR_OP_EQ: return order == 0;
    case EXPR_OP_NE: return order != 0;
    case EXPR_OP_LT: return order < 0;
    case EXPR_OP_LE: return order <= 0;
    case EXPR_OP_GT: return order > 0;
    case EXPR_OP_GE: return order >= 0;
    }
    assert(!"not a comparison");
    return 0;
}

/* Returns the operator that gives the same result with the operands swapped. */
static int mirror_op(int op)
{
    switch (op) {
    case EXPR_OP_LT: return EXPR_OP_GT;
    case EXPR_OP_LE: return EXPR_OP_GE;
    case EXPR_OP_GT: return EXPR_OP_LT;
    case EXPR_OP_GE: return EXPR_OP_LE;
    default: return op;
    }
}

/* ---- preparing string comparisons ---- */

static void *allocate_array(size_t count, size_t size)
{
    /* A dictionary may be empty when every row is missing; never ask malloc for 0 bytes. */
    return malloc((count ? count : 1) * size);
}

static int prepare_code_table(string_compare *sc, const ln_column *column, const expr_node *literal)
{
    int32_t count = ln_dict_count(column->dict);

    sc->mode = COMPARE_CODE_TABLE;
    sc->left_codes = column->codes;
    sc->code_result = allocate_array((size_t)count, 1);
    if (sc->code_result == NULL)
        return -1;

    if (sc->op == EXPR_OP_EQ || sc->op == EXPR_OP_NE) {
        int32_t match = ln_dict_find(column->dict, literal->text, literal->text_length);
        memset(sc->code_result, sc->op == EXPR_OP_NE, (size_t)count);
        if (match >= 0)
            sc->code_result[match] = sc->op == EXPR_OP_EQ;
        return 0;
    }
    for (int32_t code = 0; code < count; code++) {
        int order = compare_bytes(ln_dict_string(column->dict, code), ln_dict_string_length(column->dict, code),
                                  literal->text, literal->text_length);
        sc->code_result[code] = (unsigned char)apply_op(sc->op, order);
    }
    return 0;
}

static int prepare_code_map(string_compare *sc, const ln_column *left, const ln_column *right)
{
    int32_t count = ln_dict_count(left->dict);

    sc->mode = COMPARE_MAPPED_CODES;
    sc->map = allocate_array((size_t)count, sizeof *sc->map);
    if (sc->map == NULL)
        return -1;
    for (int32_t code = 0; code < count; code++)
        sc->map[code] = ln_dict_find(right->dict, ln_dict_string(left->dict, code),
                                     ln_dict_string_length(left->dict, code));
    return 0;
}

typedef struct rank_entry {
    const char *text;
    size_t length;
    int32_t code;
    int side; /* 0 left dictionary, 1 right */
} rank_entry;

static int compare_entries(const void *a, const void *b)
{
    const rank_entry *x = a, *y = b;
    return compare_bytes(x->text, x->length, y->text, y->length);
}

/*
 * Gives every string of both dictionaries its rank in the byte order of
 * their union, equal strings sharing a rank, so that comparing two ranks
 * gives the same result as comparing the strings.
 */
static int prepare_ranks(string_compare *sc, const ln_column *left, const ln_column *right)
{
    const ln_dict *dicts[2] = {left->dict, right->dict};
    int32_t counts[2] = {ln_dict_count(left->dict), ln_dict_count(right->dict)};
    int sides = left->dict == right->dict ? 1 : 2;
    size_t total = (size_t)counts[0] + (sides == 2 ? (size_t)counts[1] : 0);

    sc->mode = COMPARE_RANKS;
    sc->left_rank = allocate_array((size_t)counts[0], sizeof *sc->left_rank);
    sc->right_rank = allocate_array((size_t)counts[1], sizeof *sc->right_rank);
    rank_entry *entries = allocate_array(total, sizeof *entries);
    if (sc->left_rank == NULL || sc->right_rank == NULL || entries == NULL) {
        free(entries);
        return -1;
    }

    size_t n = 0;
    for (int side = 0; side < sides; side++)
        for (int32_t code = 0; code < counts[side]; code++)
            entries[n++] = (rank_entry){ln_dict_string(dicts[side], code), ln_dict_string_length(dicts[side], code),
                                        code, side};
    qsort(entries, total, sizeof *entries, compare_entries);

    int32_t rank = 0;
    for (size_t i = 0; i < total; i++) {
        if (i > 0 && compare_entries(&entries[i - 1], &entries[i]) != 0)
            rank++;
        int32_t *ranks = entries[i].side == 0 ? sc->left_rank : sc->right_rank;
        ranks[entries[i].code] = rank;
    }
    if (sides == 1)
        memcpy(sc->right_rank, sc->left_rank, (size_t)counts[0] * sizeof *sc->left_rank);
    free(entries);
    return 0;
}

static int prepare_compare(evaluator *e, const expr_node *node)
{
    string_compare *sc = &e->compares[node->id];
    const expr_node *left = node->children[0];
    const expr_node *right = node->children[1];

    sc->op = node->op;
    if (!is_string_node(e, left)) {
        sc->mode = COMPARE_NUMBERS;
        return 0;
    }
    if (left->kind == EXPR_STRING && right->kind == EXPR_STRING) {
        sc->mode = COMPARE_CONSTANT;
        sc->constant = apply_op(sc->op, compare_bytes(left->text, left->text_length, right->text, right->text_length));
        return 0;
    }
    if (left->kind == EXPR_STRING) {
        const expr_node *swap = left;
        left = right;
        right = swap;
        sc->op = mirror_op(sc->op);
    }

    const ln_column *left_column = e->columns[left->id];
    if (right->kind == EXPR_STRING)
        return prepare_code_table(sc, left_column, right);

    const ln_column *right_column = e->columns[right->id];
    sc->left_codes = left_column->codes;
    sc->right_codes = right_column->codes;
    if (sc->op == EXPR_OP_EQ || sc->op == EXPR_OP_NE) {
        if (left_column->dict == right_column->dict) {
            sc->mode = COMPARE_SAME_CODES;
            return 0;
        }
        return prepare_code_map(sc, left_column, right_column);
    }
    return prepare_ranks(sc, left_column, right_column);
}

/* ---- evaluating one block ---- */

static void eval_node(const evaluator *e, const expr_node *node, size_t count, double *out);

static void eval_arithmetic(const evaluator *e, const expr_node *node, size_t count, double *out)
{
    double *operand = scratch_array(e, node, 0);

    eval_node(e, node->children[0], count, out);
    for (size_t c = 1; c < node->n_children; c++) {
        eval_node(e, node->children[c], count, operand);
        switch ((expr_op)node->ops[c]) {
        case EXPR_OP_PLUS:
            for (size_t i = 0; i < count; i++)
                out[i] += operand[i];
            break;
        case EXPR_OP_MINUS:
            for (size_t i = 0; i < count; i++)
                out[i] -= operand[i];
            break;
        case EXPR_OP_TIMES:
            for (size_t i = 0; i < count; i++)
                out[i] *= operand[i];
            break;
        case EXPR_OP_DIVIDE:
            for (size_t i = 0; i < count; i++)
                out[i] = operand[i] == 0.0 ? NAN : out[i] / operand[i];
            break;
        case EXPR_OP_MODULO:
            for (size_t i = 0; i < count; i++)
                out[i] = operand[i] == 0.0 ? NAN : fmod(out[i], operand[i]);
            break;
        default:
            assert(!"not an arithmetic operator");
        }
    }
}

/*
 * Three-valued 'and' / 'or'. Ordering false < missing < true makes 'and' the
 * minimum and 'or' the maximum, which loops compute without branches; the
 * order is encoded as 0, 1, 2 and decoded at the end.
 */
static void encode_truth(double *values, size_t count)
{
    /* Arithmetic on comparison results, not branches: NaN != 0 holds, so NaN gives 2 - 1. */
    for (size_t i = 0; i < count; i++)
        values[i] = 2.0 * (double)(values[i] != 0.0) - (double)(values[i] != values[i]);
}

static void eval_logic(const evaluator *e, const expr_node *node, size_t count, double *out)
{
    double *operand = scratch_array(e, node, 0);

    eval_node(e, node->children[0], count, out);
    encode_truth(out, count);
    for (size_t c = 1; c < node->n_children; c++) {
        eval_node(e, node->children[c], count, operand);
        encode_truth(operand, count);
        if (node->kind == EXPR_AND)
            for (size_t i = 0; i < count; i++)
                out[i] = operand[i] < out[i] ? operand[i] : out[i];
        else
            for (size_t i = 0; i < count; i++)
                out[i] = operand[i] > out[i] ? operand[i] : out[i];
    }
    static const double decoded[3] = {0.0, NAN, 1.0};
    for (size_t i = 0; i < count; i++)
        out[i] = decoded[(int)out[i]];
}

/* One loop per operator, so the operator is not re-dispatched for every row. */
#define COMPARE_LOOP(operator)                                                              \
    for (size_t i = 0; i < count; i++)                                                      \
        out[i] = isnan(left[i]) || isnan(out[i]) ? NAN : (double)(left[i] operator out[i]); \
    break

static void compare_numbers(const evaluator *e, const expr_node *node, size_t count, double *out)
{
    double *left = scratch_array(e, node, 0);

    eval_node(e, node->children[0], count, left);
    eval_node(e, node->children[1], count, out);
    switch ((expr_op)node->op) {
    case EXPR_OP_EQ: COMPARE_LOOP(==);
    case EXPR_OP_NE: COMPARE_LOOP(!=);
    case EXPR_OP_LT: COMPARE_LOOP(<);
    case EXPR_OP_LE: COMPARE_LOOP(<=);
    case EXPR_OP_GT: COMPARE_LOOP(>);
    case EXPR_OP_GE: COMPARE_LOOP(>=);
    default: assert(!"not a comparison");
    }
}

static void eval_compare(const evaluator *e, const expr_node *node, size_t count, double *out)
{
    const string_compare *sc = &e->compares[node->id];
    const int32_t *left = sc->left_codes ? sc->left_codes + e->start : NULL;
    const int32_t *right = sc->right_codes ? sc->right_codes + e->start : NULL;

    switch (sc->mode) {
    case COMPARE_NUMBERS:
        compare_numbers(e, node, count, out);
        break;
    case COMPARE_CONSTANT:
        for (size_t i = 0; i < count; i++)
            out[i] = sc->constant;
        break;
    case COMPARE_CODE_TABLE:
        for (size_t i = 0; i < count; i++)
            out[i] = left[i] < 0 ? NAN : sc->code_result[left[i]];
        break;
    case COMPARE_SAME_CODES:
    case COMPARE_MAPPED_CODES:
        for (size_t i = 0; i < count; i++) {
            if (left[i] < 0 || right[i] < 0) {
                out[i] = NAN;
                continue;
            }
            int32_t mapped = sc->mode == COMPARE_SAME_CODES ? left[i] : sc->map[left[i]];
            out[i] = (mapped == right[i]) == (sc->op == EXPR_OP_EQ);
        }
        break;
    case COMPARE_RANKS:
        for (size_t i = 0; i < count; i++) {
            if (left[i] < 0 || right[i] < 0) {
                out[i] = NAN;
                continue;
            }
            int32_t difference = sc->left_rank[left[i]] - sc->right_rank[right[i]];
            out[i] = apply_op(sc->op, difference);
        }
        break;
    }
}

static void eval_is_missing(const evaluator *e, const expr_node *node, size_t count, double *out)
{
    const expr_node *child = node->children[0];

    if (child->kind == EXPR_STRING) {
        for (size_t i = 0; i < count; i++)
            out[i] = 0.0;
    } else if (is_string_node(e, child)) {
        const int32_t *codes = e->columns[child->id]->codes + e->start;
        for (size_t i = 0; i < count; i++)
            out[i] = codes[i] < 0;
    } else {
        eval_node(e, child, count, out);
        for (size_t i = 0; i < count; i++)
            out[i] = isnan(out[i]);
    }
}

static void eval_call(const evaluator *e, const expr_node *node, size_t count, double *out)
{
    double *first = scratch_array(e, node, 0);
    double *second = scratch_array(e, node, 1);

    switch ((expr_function)node->op) {
    case EXPR_FN_IF:
        eval_node(e, node->children[0], count, first);
        eval_node(e, node->children[1], count, second);
        eval_node(e, node->children[2], count, out);
        for (size_t i = 0; i < count; i++) {
            if (isnan(first[i]))
                out[i] = NAN;
            else if (first[i] != 0.0)
                out[i] = second[i];
        }
        break;
    case EXPR_FN_ABS:
        eval_node(e, node->children[0], count, out);
        for (size_t i = 0; i < count; i++)
            out[i] = fabs(out[i]);
        break;
    case EXPR_FN_MIN:
    case EXPR_FN_MAX: {
        int is_min = node->op == EXPR_FN_MIN;
        eval_node(e, node->children[0], count, out);
        for (size_t c = 1; c < node->n_children; c++) {
            eval_node(e, node->children[c], count, first);
            /* fmin/fmax would skip a missing operand; here it makes the result missing. */
            for (size_t i = 0; i < count; i++) {
                if (isnan(out[i]) || isnan(first[i]))
                    out[i] = NAN;
                else if (is_min ? first[i] < out[i] : first[i] > out[i])
                    out[i] = first[i];
            }
        }
        break;
    }
    case EXPR_FN_LOG:
        eval_node(e, node->children[0], count, out);
        for (size_t i = 0; i < count; i++)
            out[i] = out[i] > 0.0 ? log(out[i]) : NAN;
        break;
    case EXPR_FN_EXP:
        eval_node(e, node->children[0], count, out);
        for (size_t i = 0; i < count; i++)
            out[i] = exp(out[i]);
        break;
    case EXPR_FN_IS_MISSING:
        eval_is_missing(e, node, count, out);
        break;
    }
}

static void eval_node(const evaluator *e, const expr_node *node, size_t count, double *out)
{
    switch (node->kind) {
    case EXPR_NUMBER:
        for (size_t i = 0; i < count; i++)
            out[i] = node->number;
        break;
    case EXPR_COLUMN:
        memcpy(out, e->columns[node->id]->values + e->start, count * sizeof *out);
        break;
    case EXPR_NEGATE:
        eval_node(e, node->children[0], count, out);
        if (node->op == EXPR_OP_MINUS)
            for (size_t i = 0; i < count; i++)
                out[i] = -out[i];
        break;
    case EXPR_NOT:
        eval_node(e, node->children[0], count, out);
        for (size_t i = 0; i < count; i++)
            out[i] = isnan(out[i]) ? NAN : out[i] == 0.0;
        break;
    case EXPR_ADD:
    case EXPR_MULTIPLY:
        eval_arithmetic(e, node, count, out);
        break;
    case EXPR_AND:
    case EXPR_OR:
        eval_logic(e, node, count, out);
        break;
    case EXPR_COMPARE:
        eval_compare(e, node, count, out);
        break;
    case EXPR_CALL:
        eval_call(e, node, count, out);
        break;
    case EXPR_STRING:
        assert(!"a string reached numeric evaluation: ln_expr_check should have rejected it");
        break;
    }
}

/* ---- public ---- */

static void evaluator_free(evaluator *e, size_t n_nodes)
{
    if (e->compares != NULL) {
        for (size_t i = 0; i < n_nodes; i++) {
            free(e->compares[i].code_result);
            free(e->compares[i].map);
            free(e->compares[i].left_rank);
            free(e->compares[i].right_rank);
        }
    }
    free(e->compares);
    free(e->columns);
    free(e->scratch);
}

static ln_status evaluator_init(evaluator *e, const ln_expr *expr, const ln_table *table, ln_error *err)
{
    e->table = table;
    e->columns = calloc(expr->n_nodes, sizeof *e->columns);
    e->compares = calloc(expr->n_nodes, sizeof *e->compares);
    e->scratch = malloc(((size_t)expr->root->depth + 1) * 2 * BLOCK * sizeof *e->scratch);
    if (e->columns == NULL || e->compares == NULL || e->scratch == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory while evaluating expression");

    /* ln_expr_check() has run, so every name resolves. */
    for (size_t i = 0; i < expr->n_nodes; i++) {
        const expr_node *node = expr->nodes[i];
        if (node->kind == EXPR_COLUMN) {
            int c = ln_table_find(table, node->text);
            assert(c >= 0);
            e->columns[i] = &table->cols[c];
        }
    }

    /* String comparisons read only their operands' columns, resolved above. */
    for (size_t i = 0; i < expr->n_nodes; i++)
        if (expr->nodes[i]->kind == EXPR_COMPARE && prepare_compare(e, expr->nodes[i]) != 0)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory while preparing string comparisons");
    return LN_OK;
}

ln_status ln_expr_eval(const ln_expr *expr, const ln_table *table, double *out, ln_error *err)
{
    assert(expr != NULL);
    assert(table != NULL);
    assert(out != NULL || table->n_rows == 0);

    ln_status status = ln_expr_check(expr, table, err);
    if (status != LN_OK || table->n_rows == 0)
        return status;

    evaluator e = {0};
    status = evaluator_init(&e, expr, table, err);
    if (status == LN_OK) {
        for (size_t start = 0; start < table->n_rows; start += BLOCK) {
            size_t count = table->n_rows - start < BLOCK ? table->n_rows - start : BLOCK;
            e.start = start;
            eval_node(&e, expr->root, count, out + start);
        }
    }
    evaluator_free(&e, expr->n_nodes);
    return status;
}
