/*
 * The PostgreSQL type table: which built-in type OIDs ln_postgres_read loads
 * and how it parses their text output. OIDs are fixed in PostgreSQL's
 * catalog (src/include/catalog/pg_type.dat) and never change between server
 * versions, so they are listed here instead of being looked up per query.
 */
#include "data/data_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

typedef struct pg_type_entry {
    unsigned int oid;
    const char *name;
    data_pg_kind kind;
} pg_type_entry;

static const pg_type_entry pg_types[] = {
    {16, "bool", DATA_PG_BOOL},
    {17, "bytea", DATA_PG_UNSUPPORTED},
    {18, "char", DATA_PG_STRING},
    {19, "name", DATA_PG_STRING},
    {20, "int8", DATA_PG_INTEGER},
    {21, "int2", DATA_PG_INTEGER},
    {23, "int4", DATA_PG_INTEGER},
    {25, "text", DATA_PG_STRING},
    {26, "oid", DATA_PG_UNSUPPORTED},
    {114, "json", DATA_PG_UNSUPPORTED},
    {142, "xml", DATA_PG_UNSUPPORTED},
    {700, "float4", DATA_PG_FLOAT},
    {701, "float8", DATA_PG_FLOAT},
    {790, "money", DATA_PG_UNSUPPORTED},
    {1042, "bpchar", DATA_PG_STRING},
    {1043, "varchar", DATA_PG_STRING},
    {1082, "date", DATA_PG_TIMESTAMP},
    {1083, "time", DATA_PG_UNSUPPORTED},
    {1114, "timestamp", DATA_PG_TIMESTAMP},
    {1184, "timestamptz", DATA_PG_TIMESTAMP},
    {1186, "interval", DATA_PG_UNSUPPORTED},
    {1266, "timetz", DATA_PG_UNSUPPORTED},
    {1700, "numeric", DATA_PG_FLOAT},
    {2950, "uuid", DATA_PG_STRING},
    {3802, "jsonb", DATA_PG_UNSUPPORTED},
};

static const pg_type_entry *find_type(unsigned int oid)
{
    for (size_t i = 0; i < sizeof pg_types / sizeof pg_types[0]; i++) {
        if (pg_types[i].oid == oid)
            return &pg_types[i];
    }
    return NULL;
}

data_pg_kind data_pg_kind_of(unsigned int oid)
{
    const pg_type_entry *entry = find_type(oid);

    return entry != NULL ? entry->kind : DATA_PG_UNSUPPORTED;
}

const char *data_pg_type_name(unsigned int oid)
{
    const pg_type_entry *entry = find_type(oid);

    return entry != NULL ? entry->name : NULL;
}

/* Parses a numeric longer than data_parse_number takes (numeric allows 131072 digits). */
static int parse_long_number(const char *text, size_t length, double *value)
{
    char *copy = malloc(length + 1);
    char *end = NULL;
    int parsed;

    if (copy == NULL)
        return 0;
    memcpy(copy, text, length);
    copy[length] = '\0';
    errno = 0;
    *value = strtod(copy, &end);
    parsed = end == copy + length;
    free(copy);
    return parsed;
}

static data_pg_parse_result parse_float(const char *text, size_t length, double *value)
{
    int integer_literal;

    if (length == 3 && memcmp(text, "NaN", 3) == 0)
        return DATA_PG_NAN;
    if (!data_parse_number(text, length, 0, value, &integer_literal) &&
        !parse_long_number(text, length, value))
        return DATA_PG_INVALID;

    /* Only the spelled-out Infinity may be infinite: a numeric like 1e400 is out of range. */
    if (isinf(*value) && memchr(text, 'I', length) == NULL)
        return DATA_PG_INVALID;
    return DATA_PG_PARSED;
}

data_pg_parse_result data_pg_parse(data_pg_kind kind, const char *text, size_t length,
                                   double *value)
{
    int integer_literal;

    switch (kind) {
    case DATA_PG_INTEGER:
        if (!data_parse_number(text, length, 0, value, &integer_literal) || integer_literal == 0)
            return DATA_PG_INVALID;
        return integer_literal == 1 ? DATA_PG_PARSED : DATA_PG_BIG_INTEGER;
    case DATA_PG_FLOAT:
        return parse_float(text, length, value);
    case DATA_PG_BOOL:
        if (length == 1 && (text[0] == 't' || text[0] == 'f')) {
            *value = text[0] == 't' ? 1.0 : 0.0;
            return DATA_PG_PARSED;
        }
        return DATA_PG_INVALID;
    case DATA_PG_TIMESTAMP:
        return data_parse_timestamp(text, length, value) ? DATA_PG_PARSED : DATA_PG_INVALID;
    case DATA_PG_UNSUPPORTED:
    case DATA_PG_STRING:
        break;
    }
    return DATA_PG_INVALID;
}
