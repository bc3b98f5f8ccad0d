#include "pipeline/ydoc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

ln_status ydoc_load(ydoc *doc, const char *path, const char *text, size_t size, ln_error *err)
{
    yaml_parser_t parser;

    memset(doc, 0, sizeof *doc);
    doc->path = path;
    if (!yaml_parser_initialize(&parser))
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory starting the YAML parser", path);

    yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
    if (!yaml_parser_load(&parser, &doc->document)) {
        ln_error_set(err, LN_ERR_CONFIG, "%s:%zu:%zu: invalid YAML: %s", path,
                     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "unknown problem");
        yaml_parser_delete(&parser);
        return LN_ERR_CONFIG;
    }
    yaml_parser_delete(&parser);
    doc->loaded = 1;

    if (yaml_document_get_root_node(&doc->document) == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "%s: the file is empty", path);
    return LN_OK;
}

void ydoc_free(ydoc *doc)
{
    if (doc->loaded)
        yaml_document_delete(&doc->document);
    doc->loaded = 0;
}

yaml_node_t *ydoc_root(ydoc *doc)
{
    return yaml_document_get_root_node(&doc->document);
}

int ydoc_line(const yaml_node_t *node)
{
    return (int)node->start_mark.line + 1;
}

static const char *scalar_text(const yaml_node_t *node)
{
    return (const char *)node->data.scalar.value;
}

static int key_is_allowed(const char *key, const char *const *allowed)
{
    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (strcmp(key, allowed[i]) == 0)
            return 1;
    }
    return 0;
}

static void join_keys(const char *const *allowed, char *buffer, size_t capacity)
{
    size_t used = 0;

    buffer[0] = '\0';
    for (size_t i = 0; allowed[i] != NULL && used < capacity; i++) {
        int written = snprintf(buffer + used, capacity - used, "%s%s", i ? ", " : "", allowed[i]);
        if (written < 0)
            break;
        used += (size_t)written;
    }
}

ln_status ydoc_check_keys(ydoc *doc, yaml_node_t *node, const char *section,
                          const char *const *allowed, ln_error *err)
{
    if (node->type != YAML_MAPPING_NODE)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: '%s' must be a mapping of keys to values",
                            doc->path, ydoc_line(node), section);

    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
        yaml_node_t *key = yaml_document_get_node(&doc->document, pair->key);
        if (key->type != YAML_SCALAR_NODE)
            return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: a key in '%s' is not a plain name",
                                doc->path, ydoc_line(key), section);

        if (!key_is_allowed(scalar_text(key), allowed)) {
            char names[512];
            join_keys(allowed, names, sizeof names);
            return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: unknown key '%s' in %s; expected one of: %s",
                                doc->path, ydoc_line(key), scalar_text(key), section, names);
        }

        for (yaml_node_pair_t *later = pair + 1; later < node->data.mapping.pairs.top; later++) {
            yaml_node_t *other = yaml_document_get_node(&doc->document, later->key);
            if (other->type == YAML_SCALAR_NODE && strcmp(scalar_text(other), scalar_text(key)) == 0)
                return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: key '%s' appears twice in %s (first on line %d)",
                                    doc->path, ydoc_line(other), scalar_text(key), section, ydoc_line(key));
        }
    }
    return LN_OK;
}

yaml_node_t *ydoc_get(ydoc *doc, yaml_node_t *mapping, const char *key)
{
    if (mapping == NULL || mapping->type != YAML_MAPPING_NODE)
        return NULL;

    for (yaml_node_pair_t *pair = mapping->data.mapping.pairs.start;
         pair < mapping->data.mapping.pairs.top; pair++) {
        yaml_node_t *name = yaml_document_get_node(&doc->document, pair->key);
        if (name->type == YAML_SCALAR_NODE && strcmp(scalar_text(name), key) == 0)
            return yaml_document_get_node(&doc->document, pair->value);
    }
    return NULL;
}

static ln_status expect_scalar(ydoc *doc, yaml_node_t *node, const char *key, const char *what,
                               ln_error *err)
{
    if (node->type != YAML_SCALAR_NODE)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: '%s' must be %s, found a %s", doc->path,
                            ydoc_line(node), key, what,
                            node->type == YAML_MAPPING_NODE ? "mapping" : "list");
    return LN_OK;
}

ln_status ydoc_string(ydoc *doc, yaml_node_t *node, const char *key, char **out, ln_error *err)
{
    ln_status status = expect_scalar(doc, node, key, "a text value", err);
    if (status != LN_OK)
        return status;

    char *copy = strdup(scalar_text(node));
    if (copy == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory reading '%s'", doc->path, key);
    free(*out);
    *out = copy;
    return LN_OK;
}

ln_status ydoc_number(ydoc *doc, yaml_node_t *node, const char *key, double minimum,
                      double maximum, double *out, ln_error *err)
{
    ln_status status = expect_scalar(doc, node, key, "a number", err);
    if (status != LN_OK)
        return status;

    const char *text = scalar_text(node);
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(value))
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: '%s' must be a number, found '%s'", doc->path,
                            ydoc_line(node), key, text);
    if (value < minimum || value > maximum)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: '%s' must be between %g and %g, found %s",
                            doc->path, ydoc_line(node), key, minimum, maximum, text);
    *out = value;
    return LN_OK;
}

ln_status ydoc_integer(ydoc *doc, yaml_node_t *node, const char *key, long long minimum,
                       long long maximum, long long *out, ln_error *err)
{
    ln_status status = expect_scalar(doc, node, key, "a whole number", err);
    if (status != LN_OK)
        return status;

    const char *text = scalar_text(node);
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (end == text || *end != '\0')
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: '%s' must be a whole number, found '%s'",
                            doc->path, ydoc_line(node), key, text);
    if (errno == ERANGE || value < minimum || value > maximum)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: '%s' must be between %lld and %lld, found %s",
                            doc->path, ydoc_line(node), key, minimum, maximum, text);
    *out = value;
    return LN_OK;
}

ln_status ydoc_boolean(ydoc *doc, yaml_node_t *node, const char *key, int *out, ln_error *err)
{
    ln_status status = expect_scalar(doc, node, key, "true or false", err);
    if (status != LN_OK)
        return status;

    const char *text = scalar_text(node);
    if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0)
        *out = 1;
    else if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0)
        *out = 0;
    else
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: '%s' must be true or false, found '%s'",
                            doc->path, ydoc_line(node), key, text);
    return LN_OK;
}

static void free_strings(char **strings, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(strings[i]);
    free(strings);
}

ln_status ydoc_string_list(ydoc *doc, yaml_node_t *node, const char *key, char ***out,
                           size_t *count, ln_error *err)
{
    if (node->type != YAML_SEQUENCE_NODE)
        return ln_error_set(err, LN_ERR_CONFIG, "%s:%d: '%s' must be a list such as [a, b]", doc->path,
                            ydoc_line(node), key);

    size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    char **strings = calloc(n ? n : 1, sizeof *strings);
    if (strings == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory reading '%s'", doc->path, key);

    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(&doc->document, node->data.sequence.items.start[i]);
        ln_status status = ydoc_string(doc, item, key, &strings[i], err);
        if (status != LN_OK) {
            free_strings(strings, n);
            return status;
        }
    }
    free_strings(*out, *count);
    *out = strings;
    *count = n;
    return LN_OK;
}
