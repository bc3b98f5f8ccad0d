/*
 * A thin layer over libyaml's document API that reads typed values and
 * reports errors with the file, line and key, shared by the pipeline parser
 * and any other YAML file lanner reads.
 */
#ifndef LANNER_YDOC_H
#define LANNER_YDOC_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "lanner/status.h"

typedef struct ydoc {
    const char *path;        /* for messages */
    yaml_document_t document;
    int loaded;
} ydoc;

/* Parses text (size bytes) as one YAML document. */
ln_status ydoc_load(ydoc *doc, const char *path, const char *text, size_t size, ln_error *err);

void ydoc_free(ydoc *doc);

yaml_node_t *ydoc_root(ydoc *doc);

/* 1-based line of node. */
int ydoc_line(const yaml_node_t *node);


/*
 * Checks that node is a mapping whose keys are all in allowed; an unknown key
 * is LN_ERR_CONFIG naming its line and listing the allowed keys. section
 * names the mapping in messages ("model", or "top level").
 */
ln_status ydoc_check_keys(ydoc *doc, yaml_node_t *node, const char *section,
                              const char *const *allowed, ln_error *err);

/* Returns the value node of key in mapping, or NULL when absent. */
yaml_node_t *ydoc_get(ydoc *doc, yaml_node_t *mapping, const char *key);

/* Typed readers: each names the key and line when the value has the wrong shape. */
ln_status ydoc_string(ydoc *doc, yaml_node_t *node, const char *key, char **out, ln_error *err);
ln_status ydoc_number(ydoc *doc, yaml_node_t *node, const char *key, double minimum,
                          double maximum, double *out, ln_error *err);
ln_status ydoc_integer(ydoc *doc, yaml_node_t *node, const char *key, long long minimum,
                           long long maximum, long long *out, ln_error *err);
ln_status ydoc_boolean(ydoc *doc, yaml_node_t *node, const char *key, int *out, ln_error *err);

/* Reads a sequence of scalars into a new array of strings; the caller frees each and the array. */
ln_status ydoc_string_list(ydoc *doc, yaml_node_t *node, const char *key, char ***out,
                               size_t *count, ln_error *err);

#endif
