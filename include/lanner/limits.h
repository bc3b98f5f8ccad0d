/*
 * Upper bounds on everything that grows with input. Each loader, parser and
 * server checks its input against these before allocating, and reports
 * LN_ERR_LIMIT naming the limit when input exceeds one. docs/limits.md lists
 * them for users.
 */
#ifndef LANNER_LIMITS_H
#define LANNER_LIMITS_H

/* Distinct strings in one category or text column. */
#define LN_MAX_DICT_SIZE (1 << 24)

/* Bytes in one CSV field or one category string. */
#define LN_MAX_FIELD_BYTES (16u << 20)

/* Columns in one table. */
#define LN_MAX_COLUMNS 100000

/* Bytes in one expression (rule or payoff). */
#define LN_MAX_EXPRESSION_BYTES 65536

/* Bytes in one pipeline file. */
#define LN_MAX_PIPELINE_BYTES (4u << 20)

/* Trees in one model, and nodes in one tree, accepted from a model file. */
#define LN_MAX_TREES 100000
#define LN_MAX_TREE_NODES (1 << 20)

/* Bytes in one model file. */
#define LN_MAX_MODEL_BYTES (2ull << 30)

#endif
