/*
 * Table builders shared by the learner tests. Include after <cmocka.h>,
 * since they assert.
 */
#ifndef LANNER_TESTS_LEARN_TABLES_H
#define LANNER_TESTS_LEARN_TABLES_H

#include <string.h>

#include "lanner/table.h"

/* Adds a column to table, failing the test when it cannot. */
static inline ln_column *add_column(ln_table *table, const char *name, ln_type type)
{
    ln_error err = {0};
    ln_column *column = ln_table_add_column(table, name, type, &err);
    assert_non_null(column);
    return column;
}

/* Sets a category column's row to text, or to missing when text is NULL. */
static inline void set_category(ln_column *column, size_t row, const char *text)
{
    column->codes[row] = text == NULL ? -1 : ln_dict_intern(column->dict, text, strlen(text));
}

#endif
