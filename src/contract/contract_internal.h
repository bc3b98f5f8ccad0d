/*
 * Helpers shared by the profile, contract and validation code.
 */
#ifndef LANNER_CONTRACT_INTERNAL_H
#define LANNER_CONTRACT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lanner/contract.h"
#include "lanner/sort.h"

/* Writes the shortest decimal form of value that reads back to the same double ("inf", "-inf", "nan" otherwise). */
void contract_format_number(double value, char *buffer, size_t capacity);

/* Writes a timestamp (seconds since 1970 UTC) as YYYY-MM-DD at midnight, else YYYY-MM-DDTHH:MM:SSZ. */
void contract_format_timestamp(double seconds, char *buffer, size_t capacity);

/* Parses YYYY-MM-DD with an optional THH:MM[:SS] and optional Z; returns 0 and the seconds, or -1. */
int contract_parse_timestamp(const char *text, double *seconds);

/* Formats a statistic of a column for people: timestamps as dates, numbers in short form. */
void contract_format_stat(ln_type type, double value, char *buffer, size_t capacity);

/* Returns a JSON number, null for NaN, or "inf"/"-inf". */
json_t *contract_json_number(double value);

/* A growable text buffer with a maximum size. */
typedef struct contract_text {
    char *data;
    size_t length;
    size_t capacity;
    size_t max_bytes;
    int failed; /* set when memory ran out or max_bytes was reached; later appends do nothing */
} contract_text;

void contract_text_append(contract_text *text, const char *data, size_t length);
/* Appends a string literal without counting its bytes by hand. */
#define APPEND_LITERAL(text, literal) contract_text_append((text), (literal), sizeof(literal) - 1)

void contract_text_printf(contract_text *text, const char *format, ...) __attribute__((format(printf, 2, 3)));
void contract_text_free(contract_text *text);

char *contract_strdup(const char *text);

#endif
