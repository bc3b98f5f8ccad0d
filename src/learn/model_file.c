/*
 * The model file: a versioned, checksummed, little-endian binary format.
 *
 *   header (32 bytes)
 *     char[8] magic "LNRMODEL"
 *     u32     format version (2; version 1 files are read too)
 *     u32     section count
 *     u64     payload bytes (the rest of the file)
 *     u64     XXH64 (seed 0) of the payload
 *   payload: sections, each
 *     u32 tag (four ASCII letters), u32 zero, u64 body bytes, body
 *
 *   HEAD  u32 learner, u32 zero, u64 features, f64 base score, u64 trees
 *   FEAT  per feature: string name, u32 type, u32 categories, then the
 *         category strings (a string is u32 length and its bytes, no NUL)
 *   TREE  per tree: u32 nodes, u32 category sets, then per node
 *         i32 left, i32 right, i32 feature, u8 default-left, u8 categorical,
 *         u16 zero, u32 category set, f64 threshold, f64 value, f64 gain;
 *         then per set 4 x u64 bit words (bit b = bin b goes left)
 *   LINR  per feature: f64 mean, scale, min, max, u32 weights, f64 each
 *   META  the metadata text
 *
 * Version 2 adds, after FEAT in any order (COVR after TREE):
 *   OBJV  u32 objective, u32 outputs (classes for multiclass, else 1), then
 *         one f64 base score per output (HEAD's base score is the first)
 *   COVR  per tree, per node: f64 cover (training rows that reached it)
 *   CALB  u32 method, u32 zero, f64 a, f64 b, u64 points, then the points'
 *         f64 x values, then their f64 y values
 *   PARM  u32 count, then per parameter: string name, f64 value
 * A version 1 file has none of them: a binary model without calibration,
 * parameters or covers (ln_model_explain rejects it).
 *
 * Doubles are stored as their IEEE 754 bits. The loader checks every count
 * against the bytes left and the limits in limits.h before allocating. It
 * checks every tree's children against their parent: left and right above
 * the parent's index, each node the child of exactly one parent. So a bad
 * file is LN_ERR_CORRUPT, never a crash, a cycle or an out-of-bounds read.
 * Unknown sections are skipped, so a newer writer may add optional sections
 * without a version change; sections that change what a model predicts
 * (like OBJV and CALB) come with a new version, so an older reader rejects
 * the file rather than mispredicting.
 */
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "lanner/io.h"
#include "lanner/limits.h"
#include "learn/learn_internal.h"

#define MODEL_MAGIC "LNRMODEL"
#define MODEL_FORMAT_VERSION 2u
#define MODEL_OLDEST_VERSION 1u
#define HEADER_BYTES 32
#define NODE_BYTES 44
#define SET_BYTES 32

/* Maximum bytes in a feature name or category string read from a file. */
#define MAX_STRING_BYTES 65536

#define TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TAG_HEAD TAG('H', 'E', 'A', 'D')
#define TAG_FEAT TAG('F', 'E', 'A', 'T')
#define TAG_TREE TAG('T', 'R', 'E', 'E')
#define TAG_LINR TAG('L', 'I', 'N', 'R')
#define TAG_META TAG('M', 'E', 'T', 'A')
#define TAG_OBJV TAG('O', 'B', 'J', 'V')
#define TAG_COVR TAG('C', 'O', 'V', 'R')
#define TAG_CALB TAG('C', 'A', 'L', 'B')
#define TAG_PARM TAG('P', 'A', 'R', 'M')

/* ---- writing ---- */

typedef struct writer {
    uint8_t *data;
    size_t size;
    size_t capacity;
    int failed;
} writer;

static void put_bytes(writer *w, const void *bytes, size_t n)
{
    if (w->failed)
        return;
    if (n > LN_MAX_MODEL_BYTES - w->size) {
        w->failed = 1;
        return;
    }
    if (w->size + n > w->capacity) {
        size_t capacity = w->capacity ? w->capacity : 4096;
        while (capacity < w->size + n)
            capacity *= 2;
        uint8_t *data = realloc(w->data, capacity);
        if (data == NULL) {
            w->failed = 1;
            return;
        }
        w->data = data;
        w->capacity = capacity;
    }
    memcpy(w->data + w->size, bytes, n);
    w->size += n;
}

static void put_u64(writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, 8);
}

static void put_u32(writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put_bytes(w, b, 4);
}

static void put_u16(writer *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put_bytes(w, b, 2);
}

static void put_u8(writer *w, uint8_t v)
{
    put_bytes(w, &v, 1);
}

static void put_f64(writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_u64(w, bits);
}

static void put_string(writer *w, const char *text)
{
    size_t length = strlen(text);
    put_u32(w, (uint32_t)length);
    put_bytes(w, text, length);
}

/* Starts a section and returns where its length goes. */
static size_t begin_section(writer *w, uint32_t tag)
{
    put_u32(w, tag);
    put_u32(w, 0);
    size_t at = w->size;
    put_u64(w, 0);
    return at;
}

static void end_section(writer *w, size_t at)
{
    if (w->failed)
        return;
    uint64_t length = w->size - at - 8;
    for (int i = 0; i < 8; i++)
        w->data[at + (size_t)i] = (uint8_t)(length >> (8 * i));
}

static void write_features(writer *w, const ln_model *model)
{
    size_t at = begin_section(w, TAG_FEAT);
    for (size_t f = 0; f < model->n_features; f++) {
        const learn_feature *feature = &model->features[f];
        put_string(w, feature->name);
        put_u32(w, (uint32_t)feature->type);
        put_u32(w, (uint32_t)feature->n_categories);
        for (int32_t c = 0; c < feature->n_categories; c++)
            put_string(w, feature->categories[c]);
    }
    end_section(w, at);
}

static void write_trees(writer *w, const ln_model *model)
{
    size_t at = begin_section(w, TAG_TREE);
    for (int t = 0; t < model->n_trees; t++) {
        const learn_tree *tree = &model->trees[t];
        put_u32(w, (uint32_t)tree->n_nodes);
        put_u32(w, (uint32_t)tree->n_cat_sets);
        for (int32_t i = 0; i < tree->n_nodes; i++) {
            const learn_node *node = &tree->nodes[i];
            put_u32(w, (uint32_t)node->left);
            put_u32(w, (uint32_t)node->right);
            put_u32(w, (uint32_t)node->feature);
            put_u8(w, node->default_left);
            put_u8(w, node->categorical);
            put_u16(w, 0);
            put_u32(w, node->cat_set);
            put_f64(w, node->threshold);
            put_f64(w, node->value);
            put_f64(w, node->gain);
        }
        for (int32_t s = 0; s < tree->n_cat_sets; s++)
            for (int k = 0; k < 4; k++)
                put_u64(w, tree->cat_sets[s].words[k]);
    }
    end_section(w, at);
}

static void write_linear(writer *w, const ln_model *model)
{
    size_t at = begin_section(w, TAG_LINR);
    for (size_t f = 0; f < model->n_features; f++) {
        const learn_linear_feature *lf = &model->linear[f];
        put_f64(w, lf->mean);
        put_f64(w, lf->scale);
        put_f64(w, lf->min);
        put_f64(w, lf->max);
        put_u32(w, (uint32_t)lf->n_weights);
        for (int j = 0; j < lf->n_weights; j++)
            put_f64(w, lf->weights[j]);
    }
    end_section(w, at);
}

static void write_objective(writer *w, const ln_model *model)
{
    size_t at = begin_section(w, TAG_OBJV);
    put_u32(w, (uint32_t)model->objective);
    put_u32(w, (uint32_t)model->n_outputs);
    for (size_t k = 0; k < model->n_outputs; k++)
        put_f64(w, model->base_scores[k]);
    end_section(w, at);
}

static void write_covers(writer *w, const ln_model *model)
{
    size_t at = begin_section(w, TAG_COVR);
    for (int t = 0; t < model->n_trees; t++)
        for (int32_t i = 0; i < model->trees[t].n_nodes; i++)
            put_f64(w, model->trees[t].nodes[i].cover);
    end_section(w, at);
}

static void write_calibration(writer *w, const learn_calibration *calibration)
{
    size_t at = begin_section(w, TAG_CALB);
    put_u32(w, (uint32_t)calibration->method);
    put_u32(w, 0);
    put_f64(w, calibration->a);
    put_f64(w, calibration->b);
    put_u64(w, calibration->n_points);
    for (size_t i = 0; i < calibration->n_points; i++)
        put_f64(w, calibration->x[i]);
    for (size_t i = 0; i < calibration->n_points; i++)
        put_f64(w, calibration->y[i]);
    end_section(w, at);
}

static void write_params(writer *w, const ln_model *model)
{
    size_t at = begin_section(w, TAG_PARM);
    put_u32(w, (uint32_t)model->n_params);
    for (size_t i = 0; i < model->n_params; i++) {
        put_string(w, model->params[i].name);
        put_f64(w, model->params[i].value);
    }
    end_section(w, at);
}

/* Writes the version 2 sections that the model needs. */
static uint32_t write_extensions(writer *w, const ln_model *model)
{
    uint32_t sections = 0;

    write_objective(w, model);
    sections++;
    if (model->learner == LN_LEARNER_GBDT && model->has_covers) {
        write_covers(w, model);
        sections++;
    }
    if (model->calibration.method != LN_CALIBRATION_NONE) {
        write_calibration(w, &model->calibration);
        sections++;
    }
    if (model->n_params > 0) {
        write_params(w, model);
        sections++;
    }
    return sections;
}

/* Serialises model into a new buffer (*data, *size) the caller frees. */
static ln_status serialize(const ln_model *model, uint8_t **data, size_t *size, ln_error *err)
{
    writer w = {0};
    uint32_t sections = 0;

    put_bytes(&w, MODEL_MAGIC, 8);
    put_u32(&w, MODEL_FORMAT_VERSION);
    put_u32(&w, 0);
    put_u64(&w, 0);
    put_u64(&w, 0);

    size_t at = begin_section(&w, TAG_HEAD);
    put_u32(&w, (uint32_t)model->learner);
    put_u32(&w, 0);
    put_u64(&w, model->n_features);
    put_f64(&w, model->base_scores[0]);
    put_u64(&w, (uint64_t)model->n_trees);
    end_section(&w, at);
    sections++;

    write_features(&w, model);
    sections++;
    if (model->learner == LN_LEARNER_GBDT)
        write_trees(&w, model);
    else
        write_linear(&w, model);
    sections++;
    sections += write_extensions(&w, model);
    if (model->metadata != NULL && model->metadata[0] != '\0') {
        at = begin_section(&w, TAG_META);
        put_bytes(&w, model->metadata, strlen(model->metadata));
        end_section(&w, at);
        sections++;
    }

    if (w.failed) {
        free(w.data);
        return ln_error_set(err, LN_ERR_LIMIT, "model does not fit in %llu bytes (or memory ran out)",
                            (unsigned long long)LN_MAX_MODEL_BYTES);
    }

    uint64_t payload = w.size - HEADER_BYTES;
    uint64_t checksum = XXH64(w.data + HEADER_BYTES, (size_t)payload, 0);
    for (int i = 0; i < 4; i++)
        w.data[12 + i] = (uint8_t)(sections >> (8 * i));
    for (int i = 0; i < 8; i++) {
        w.data[16 + i] = (uint8_t)(payload >> (8 * i));
        w.data[24 + i] = (uint8_t)(checksum >> (8 * i));
    }
    *data = w.data;
    *size = w.size;
    return LN_OK;
}

ln_status ln_model_save(const ln_model *model, const char *path, ln_error *err)
{
    uint8_t *data = NULL;
    size_t size = 0;

    ln_status status = serialize(model, &data, &size, err);
    if (status != LN_OK)
        return status;
    status = ln_write_file_atomic(path, data, size, err);
    free(data);
    return status;
}

/* ---- reading ---- */

typedef struct reader {
    const uint8_t *data;
    size_t size;
    size_t at;
    const char *what; /* what is being read, for messages */
    int failed;
} reader;

static int need(reader *r, size_t n)
{
    if (r->failed || n > r->size - r->at) {
        r->failed = 1;
        return 0;
    }
    return 1;
}

static uint64_t get_u64(reader *r)
{
    if (!need(r, 8))
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->data[r->at + (size_t)i] << (8 * i);
    r->at += 8;
    return v;
}

static uint32_t get_u32(reader *r)
{
    if (!need(r, 4))
        return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)r->data[r->at + (size_t)i] << (8 * i);
    r->at += 4;
    return v;
}

static uint16_t get_u16(reader *r)
{
    if (!need(r, 2))
        return 0;
    uint16_t v = (uint16_t)(r->data[r->at] | r->data[r->at + 1] << 8);
    r->at += 2;
    return v;
}

static uint8_t get_u8(reader *r)
{
    if (!need(r, 1))
        return 0;
    return r->data[r->at++];
}

static double get_f64(reader *r)
{
    uint64_t bits = get_u64(r);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* Reads a string into a new NUL-terminated buffer, or NULL on a bad length or embedded NUL. */
static char *get_string(reader *r)
{
    uint32_t length = get_u32(r);
    if (length > MAX_STRING_BYTES || !need(r, length))
        return NULL;
    if (memchr(r->data + r->at, '\0', length) != NULL) {
        r->failed = 1;
        return NULL;
    }
    char *text = malloc((size_t)length + 1);
    if (text == NULL) {
        r->failed = 1;
        return NULL;
    }
    memcpy(text, r->data + r->at, length);
    text[length] = '\0';
    r->at += length;
    return text;
}

static ln_status corrupt(ln_error *err, const char *format, ...) __attribute__((format(printf, 2, 3)));

static ln_status corrupt(ln_error *err, const char *format, ...)
{
    char message[512];
    va_list args;

    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    return ln_error_set(err, LN_ERR_CORRUPT, "corrupt model file: %s", message);
}

static ln_status read_head(reader *r, ln_model **out, uint64_t *n_trees, ln_error *err)
{
    uint32_t learner = get_u32(r);
    uint32_t zero = get_u32(r);
    uint64_t n_features = get_u64(r);
    double base_score = get_f64(r);
    *n_trees = get_u64(r);

    if (r->failed || r->at != r->size)
        return corrupt(err, "HEAD: section has %zu bytes, expected 32", r->size);
    if (learner > LN_LEARNER_LINEAR || zero != 0)
        return corrupt(err, "HEAD: unknown learner %u", learner);
    if (n_features == 0 || n_features > (long long)LN_LEARN_MAX_FEATURES)
        return corrupt(err, "HEAD: %lld features (expected 1 to %lld)", (long long)n_features, (long long)LN_LEARN_MAX_FEATURES);
    if (*n_trees > LN_MAX_TREES || (learner == LN_LEARNER_LINEAR && *n_trees != 0))
        return corrupt(err, "HEAD: %lld trees (the limit is %lld)", (long long)*n_trees, (long long)LN_MAX_TREES);
    if (!isfinite(base_score))
        return corrupt(err, "HEAD: base score is not finite");

    *out = learn_model_new((ln_learner)learner, (size_t)n_features, 1);
    if (*out == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory loading a model of %llu features",
                            (unsigned long long)n_features);
    (*out)->base_scores[0] = base_score;
    return LN_OK;
}

static ln_status read_feature(reader *r, learn_feature *feature, size_t index, ln_error *err)
{
    feature->name = get_string(r);
    uint32_t type = get_u32(r);
    uint32_t n_categories = get_u32(r);

    if (r->failed || feature->name == NULL)
        return corrupt(err, "FEAT: feature %zu: truncated or invalid name", index);
    if (type > LN_TYPE_TEXT || type == LN_TYPE_TEXT)
        return corrupt(err, "FEAT: feature %lld has invalid type %lld", (long long)index, (long long)type);
    feature->type = (ln_type)type;

    if (type != LN_TYPE_CATEGORY) {
        if (n_categories != 0)
            return corrupt(err, "FEAT: numeric feature %lld lists %lld categories", (long long)index, (long long)n_categories);
        feature->n_bins = LN_LEARN_MAX_BINS + 1;
        return LN_OK;
    }

    /* Each category takes at least its 4-byte length. */
    if (n_categories > LN_LEARN_MAX_TREE_CATEGORIES || (size_t)n_categories * 4 > r->size - r->at)
        return corrupt(err, "FEAT: feature %lld lists %lld categories", (long long)index, (long long)n_categories);
    char **categories = calloc((size_t)n_categories + 1, sizeof *categories);
    if (categories == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory loading a model");
    for (uint32_t c = 0; c < n_categories; c++) {
        categories[c] = get_string(r);
        if (categories[c] == NULL) {
            for (uint32_t k = 0; k < c; k++)
                free(categories[k]);
            free(categories);
            return corrupt(err, "FEAT: feature %lld: category %lld is truncated or invalid", (long long)index, (long long)c);
        }
    }
    feature->n_bins = LEARN_FIRST_CATEGORY_BIN + (int)n_categories;
    ln_status status = learn_feature_set_categories(feature, categories, (int32_t)n_categories, err);
    if (status == LN_ERR_CORRUPT)
        return ln_error_prefix(err, "corrupt model file: FEAT");
    return status;
}

static ln_status read_features(reader *r, ln_model *model, ln_error *err)
{
    for (size_t f = 0; f < model->n_features; f++) {
        ln_status status = read_feature(r, &model->features[f], f, err);
        if (status != LN_OK)
            return status;
        for (size_t g = 0; g < f; g++)
            if (strcmp(model->features[g].name, model->features[f].name) == 0)
                return corrupt(err, "FEAT: features %lld and %lld have the same name", (long long)g, (long long)f);
    }
    if (r->at != r->size)
        return corrupt(err, "FEAT: %zu bytes left after the features", r->size - r->at);
    return LN_OK;
}

/* Checks one node's fields and records its children's parent. */
static ln_status check_node(const ln_model *model, const learn_tree *tree, int32_t i, uint8_t *has_parent,
                            int t, ln_error *err)
{
    const learn_node *node = &tree->nodes[i];
    char where[64];
    snprintf(where, sizeof where, "TREE %d node %d", t, (int)i);

    if (node->left < 0 || node->right < 0) {
        if (node->left != -1 || node->right != -1 || node->feature != -1)
            return corrupt(err, "%s: leaf has children %d and %d", where, (int)node->left, (int)node->right);
        if (!isfinite(node->value))
            return corrupt(err, "%s: leaf value is not finite", where);
        return LN_OK;
    }

    if (node->left <= i || node->right <= i || node->left >= tree->n_nodes || node->right >= tree->n_nodes ||
        node->left == node->right)
        return corrupt(err, "%s: children %d and %d are not valid later nodes", where, (int)node->left, (int)node->right);
    if (has_parent[node->left] || has_parent[node->right])
        return corrupt(err, "%s: child %d or %d already has a parent", where, (int)node->left, (int)node->right);
    has_parent[node->left] = has_parent[node->right] = 1;

    if (node->feature < 0 || (size_t)node->feature >= model->n_features)
        return corrupt(err, "%s: feature index %d out of range (%zu features)", where, (int)node->feature, model->n_features);
    int is_category = model->features[node->feature].type == LN_TYPE_CATEGORY;
    if (node->categorical > 1 || node->default_left > 1 || node->categorical != is_category)
        return corrupt(err, "%s: split kind %u does not match the feature's type", where, (unsigned)node->categorical);
    if (node->categorical && node->cat_set >= (uint32_t)tree->n_cat_sets)
        return corrupt(err, "%s: category set %u out of range (%d sets)", where, (unsigned)node->cat_set, (int)tree->n_cat_sets);
    if (!node->categorical && isnan(node->threshold))
        return corrupt(err, "%s: threshold is NaN", where);
    if (!isfinite(node->gain))
        return corrupt(err, "%s: gain is not finite", where);
    return LN_OK;
}

static ln_status read_tree(reader *r, const ln_model *model, learn_tree *tree, int t, ln_error *err)
{
    uint32_t n_nodes = get_u32(r);
    uint32_t n_sets = get_u32(r);

    if (r->failed || n_nodes == 0 || n_nodes > LN_MAX_TREE_NODES || n_sets > n_nodes ||
        ((uint64_t)n_nodes * NODE_BYTES + (uint64_t)n_sets * SET_BYTES) > r->size - r->at)
        return corrupt(err, "TREE: %lld nodes and %lld category sets do not fit the section", (long long)n_nodes, (long long)n_sets);

    tree->nodes = calloc(n_nodes, sizeof *tree->nodes);
    tree->cat_sets = calloc(n_sets ? n_sets : 1, sizeof *tree->cat_sets);
    uint8_t *has_parent = calloc(n_nodes, 1);
    if (tree->nodes == NULL || tree->cat_sets == NULL || has_parent == NULL) {
        free(has_parent);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory loading a tree of %u nodes", n_nodes);
    }
    tree->n_nodes = (int32_t)n_nodes;
    tree->n_cat_sets = (int32_t)n_sets;

    for (uint32_t i = 0; i < n_nodes; i++) {
        learn_node *node = &tree->nodes[i];
        node->left = (int32_t)get_u32(r);
        node->right = (int32_t)get_u32(r);
        node->feature = (int32_t)get_u32(r);
        node->default_left = get_u8(r);
        node->categorical = get_u8(r);
        uint16_t zero = get_u16(r);
        node->cat_set = get_u32(r);
        node->threshold = get_f64(r);
        node->value = get_f64(r);
        node->gain = get_f64(r);
        if (zero != 0) {
            free(has_parent);
            return corrupt(err, "TREE: tree %d node %u has non-zero padding", t, i);
        }
    }
    for (uint32_t s = 0; s < n_sets; s++)
        for (int k = 0; k < 4; k++)
            tree->cat_sets[s].words[k] = get_u64(r);

    ln_status status = LN_OK;
    for (int32_t i = 0; i < tree->n_nodes && status == LN_OK; i++)
        status = check_node(model, tree, i, has_parent, t, err);
    for (int32_t i = 1; i < tree->n_nodes && status == LN_OK; i++)
        if (!has_parent[i])
            status = corrupt(err, "TREE: tree %d node %d is unreachable", t, (int)i);
    free(has_parent);
    return status;
}

static ln_status read_trees(reader *r, ln_model *model, uint64_t n_trees, ln_error *err)
{
    /* Each tree takes at least 8 bytes of counts and one node. */
    if (n_trees * (8 + NODE_BYTES) > r->size)
        return corrupt(err, "TREE: %lld trees do not fit in %lld bytes", (long long)n_trees, (long long)r->size);
    model->trees = calloc(n_trees ? n_trees : 1, sizeof *model->trees);
    if (model->trees == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory loading %llu trees", (unsigned long long)n_trees);

    for (uint64_t t = 0; t < n_trees; t++) {
        model->n_trees = (int)t + 1;
        ln_status status = read_tree(r, model, &model->trees[t], (int)t, err);
        if (status != LN_OK)
            return status;
    }
    if (r->at != r->size)
        return corrupt(err, "TREE: %lld bytes left after %lld trees", (long long)(r->size - r->at), (long long)n_trees);
    return LN_OK;
}

static ln_status read_linear(reader *r, ln_model *model, ln_error *err)
{
    model->linear = calloc(model->n_features, sizeof *model->linear);
    if (model->linear == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory loading a model");

    for (size_t f = 0; f < model->n_features; f++) {
        learn_linear_feature *lf = &model->linear[f];
        const learn_feature *feature = &model->features[f];
        lf->mean = get_f64(r);
        lf->scale = get_f64(r);
        lf->min = get_f64(r);
        lf->max = get_f64(r);
        uint32_t n_weights = get_u32(r);

        uint32_t expected = feature->type == LN_TYPE_CATEGORY ? (uint32_t)feature->n_bins : 2;
        if (r->failed || n_weights != expected)
            return corrupt(err, "LINR: feature %lld has %lld weights", (long long)f, (long long)n_weights);
        if (!isfinite(lf->mean) || !isfinite(lf->scale) || !(lf->scale > 0) || !isfinite(lf->min) ||
            !isfinite(lf->max) || lf->min > lf->max)
            return corrupt(err, "LINR: feature %zu has an invalid scaling", f);

        lf->weights = malloc(n_weights * sizeof *lf->weights);
        if (lf->weights == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory loading a model");
        lf->n_weights = (int)n_weights;
        for (uint32_t j = 0; j < n_weights; j++) {
            lf->weights[j] = get_f64(r);
            if (!isfinite(lf->weights[j]))
                return corrupt(err, "LINR: feature %lld weight %lld is not finite", (long long)f, (long long)j);
        }
        if (r->failed)
            return corrupt(err, "LINR: feature %zu is truncated", f);
    }
    if (r->at != r->size)
        return corrupt(err, "LINR: %zu bytes left after the weights", r->size - r->at);
    return LN_OK;
}

static ln_status read_metadata(reader *r, ln_model *model, ln_error *err)
{
    size_t length = r->size;
    if (length > LN_LEARN_MAX_METADATA_BYTES || memchr(r->data, '\0', length) != NULL)
        return corrupt(err, "META: metadata of %zu bytes is too long or contains NUL", length);
    model->metadata = malloc(length + 1);
    if (model->metadata == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory loading model metadata");
    memcpy(model->metadata, r->data, length);
    model->metadata[length] = '\0';
    return LN_OK;
}

static ln_status read_objective(reader *r, ln_model *model, ln_error *err)
{
    uint32_t objective = get_u32(r);
    uint32_t n_outputs = get_u32(r);

    if (r->failed || objective > LN_OBJECTIVE_MULTICLASS)
        return corrupt(err, "OBJV: unknown objective %u", objective);
    int multiclass = objective == LN_OBJECTIVE_MULTICLASS;
    if ((multiclass && (n_outputs < 3 || n_outputs > LN_LEARN_MAX_CLASSES)) || (!multiclass && n_outputs != 1))
        return corrupt(err, "OBJV: %u outputs for the %s objective", n_outputs,
                       ln_objective_name((ln_objective)objective));
    if ((uint64_t)n_outputs * 8 != r->size - r->at)
        return corrupt(err, "OBJV: section has %zu bytes for %u base scores", r->size, n_outputs);

    double *base_scores = malloc(n_outputs * sizeof *base_scores);
    if (base_scores == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory loading a model");
    for (uint32_t k = 0; k < n_outputs; k++) {
        base_scores[k] = get_f64(r);
        if (!isfinite(base_scores[k])) {
            free(base_scores);
            return corrupt(err, "OBJV: base score %u is not finite", k);
        }
    }
    free(model->base_scores);
    model->base_scores = base_scores;
    model->objective = (ln_objective)objective;
    model->n_outputs = n_outputs;
    return LN_OK;
}

static ln_status read_covers(reader *r, ln_model *model, ln_error *err)
{
    for (int t = 0; t < model->n_trees; t++) {
        learn_tree *tree = &model->trees[t];
        for (int32_t i = 0; i < tree->n_nodes; i++) {
            double cover = get_f64(r);
            if (r->failed)
                return corrupt(err, "COVR: truncated at tree %d node %d", t, (int)i);
            if (!(cover > 0 && isfinite(cover)))
                return corrupt(err, "COVR: tree %d node %d has cover %g; expected a positive number", t, (int)i,
                               cover);
            tree->nodes[i].cover = cover;
        }
    }
    if (r->at != r->size)
        return corrupt(err, "COVR: %zu bytes left after the covers of %d trees", r->size - r->at, model->n_trees);
    model->has_covers = 1;
    return LN_OK;
}

static ln_status read_isotonic_points(reader *r, learn_calibration *calibration, uint64_t n_points, ln_error *err)
{
    if (n_points == 0 || n_points > LN_LEARN_MAX_CALIBRATION_POINTS || n_points * 16 != r->size - r->at)
        return corrupt(err, "CALB: %llu isotonic points do not fit the section", (unsigned long long)n_points);

    calibration->x = malloc((size_t)n_points * sizeof *calibration->x);
    calibration->y = malloc((size_t)n_points * sizeof *calibration->y);
    if (calibration->x == NULL || calibration->y == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory loading a calibration");
    calibration->n_points = (size_t)n_points;
    for (size_t i = 0; i < calibration->n_points; i++)
        calibration->x[i] = get_f64(r);
    for (size_t i = 0; i < calibration->n_points; i++)
        calibration->y[i] = get_f64(r);

    for (size_t i = 0; i < calibration->n_points; i++) {
        double x = calibration->x[i], y = calibration->y[i];
        if (!isfinite(x) || !(y >= 0 && y <= 1) || (i > 0 && !(x > calibration->x[i - 1])) ||
            (i > 0 && y < calibration->y[i - 1]))
            return corrupt(err, "CALB: isotonic point %zu (%g, %g) is not finite, ordered and in [0, 1]", i, x, y);
    }
    return LN_OK;
}

static ln_status read_calibration(reader *r, ln_model *model, ln_error *err)
{
    learn_calibration *calibration = &model->calibration;
    uint32_t method = get_u32(r);
    uint32_t zero = get_u32(r);
    calibration->a = get_f64(r);
    calibration->b = get_f64(r);
    uint64_t n_points = get_u64(r);

    if (r->failed || zero != 0 || (method != LN_CALIBRATION_ISOTONIC && method != LN_CALIBRATION_SIGMOID))
        return corrupt(err, "CALB: unknown calibration method %u", method);
    calibration->method = (ln_calibration)method;
    if (method == LN_CALIBRATION_ISOTONIC)
        return read_isotonic_points(r, calibration, n_points, err);

    if (n_points != 0 || r->at != r->size || !isfinite(calibration->a) || !isfinite(calibration->b))
        return corrupt(err, "CALB: sigmoid calibration has invalid coefficients or extra bytes");
    return LN_OK;
}

static ln_status read_params(reader *r, ln_model *model, ln_error *err)
{
    uint32_t count = get_u32(r);

    if (r->failed || count > LEARN_MAX_PARAMS)
        return corrupt(err, "PARM: %u parameters (the limit is %d)", count, LEARN_MAX_PARAMS);
    for (uint32_t i = 0; i < count; i++) {
        char *name = get_string(r);
        double value = get_f64(r);
        if (name == NULL || r->failed || strlen(name) >= sizeof model->params[0].name) {
            free(name);
            return corrupt(err, "PARM: parameter %u is truncated or its name is too long", i);
        }
        snprintf(model->params[i].name, sizeof model->params[i].name, "%s", name);
        model->params[i].value = value;
        free(name);
    }
    model->n_params = count;
    if (r->at != r->size)
        return corrupt(err, "PARM: %zu bytes left after %u parameters", r->size - r->at, count);
    return LN_OK;
}

/* Checks what single sections cannot: that the sections agree with each other. */
static ln_status check_consistency(const ln_model *model, ln_error *err)
{
    if (model->objective != LN_OBJECTIVE_BINARY && model->learner != LN_LEARNER_GBDT)
        return corrupt(err, "OBJV: the %s objective with a linear model", ln_objective_name(model->objective));
    if (model->n_trees % (int)model->n_outputs != 0)
        return corrupt(err, "TREE: %d trees do not divide among %zu classes", model->n_trees, model->n_outputs);
    if (model->calibration.method != LN_CALIBRATION_NONE && model->objective != LN_OBJECTIVE_BINARY)
        return corrupt(err, "CALB: calibration of a %s model", ln_objective_name(model->objective));
    return LN_OK;
}

static ln_status check_header(const uint8_t *data, size_t size, uint32_t *sections, uint32_t *version_out,
                              ln_error *err)
{
    if (size < HEADER_BYTES || memcmp(data, MODEL_MAGIC, 8) != 0)
        return corrupt(err, "not a lanner model (no LNRMODEL header in %zu bytes)", size);

    reader r = {data, size, 8, "header", 0};
    uint32_t version = get_u32(&r);
    *sections = get_u32(&r);
    uint64_t payload = get_u64(&r);
    uint64_t checksum = get_u64(&r);

    if (version < MODEL_OLDEST_VERSION || version > MODEL_FORMAT_VERSION)
        return corrupt(err, "format version %u, but this lanner reads versions %u to %u (a newer lanner wrote it?)",
                       version, MODEL_OLDEST_VERSION, MODEL_FORMAT_VERSION);
    if (payload != size - HEADER_BYTES)
        return corrupt(err, "header gives %llu payload bytes but the file has %llu (truncated?)",
                       (unsigned long long)payload, (unsigned long long)(size - HEADER_BYTES));
    if (XXH64(data + HEADER_BYTES, (size_t)payload, 0) != checksum)
        return corrupt(err, "checksum mismatch: the file was altered or damaged");
    *version_out = version;
    return LN_OK;
}

/* Sections seen so far, as bits, so that each appears at most once. */
enum {
    SEEN_BODY = 1,
    SEEN_META = 2,
    SEEN_OBJV = 4,
    SEEN_COVR = 8,
    SEEN_CALB = 16,
    SEEN_PARM = 32,
};

/* Reads one section after HEAD and FEAT; unknown tags are skipped. */
static ln_status read_section(reader *body, uint32_t tag, uint32_t version, ln_model *model, uint64_t n_trees,
                              int *seen, ln_error *err)
{
    int extension = tag == TAG_OBJV || tag == TAG_COVR || tag == TAG_CALB || tag == TAG_PARM;
    int bit = tag == TAG_TREE || tag == TAG_LINR ? SEEN_BODY
              : tag == TAG_META                  ? SEEN_META
              : tag == TAG_OBJV                  ? SEEN_OBJV
              : tag == TAG_COVR                  ? SEEN_COVR
              : tag == TAG_CALB                  ? SEEN_CALB
              : tag == TAG_PARM                  ? SEEN_PARM
                                                 : 0;
    if (bit == 0 || (extension && version < 2))
        return LN_OK;
    if (*seen & bit)
        return corrupt(err, "a section appears twice (tag %.4s)", (const char *)&tag);
    *seen |= bit;

    if (tag == TAG_TREE && model->learner == LN_LEARNER_GBDT)
        return read_trees(body, model, n_trees, err);
    if (tag == TAG_LINR && model->learner == LN_LEARNER_LINEAR)
        return read_linear(body, model, err);
    if (tag == TAG_TREE || tag == TAG_LINR)
        return corrupt(err, "section %s does not match the learner %d", tag == TAG_TREE ? "TREE" : "LINR",
                       (int)model->learner);
    if (tag == TAG_META)
        return read_metadata(body, model, err);
    if (tag == TAG_OBJV)
        return read_objective(body, model, err);
    if (tag == TAG_CALB)
        return read_calibration(body, model, err);
    if (tag == TAG_PARM)
        return read_params(body, model, err);
    if (!(*seen & SEEN_BODY) || model->learner != LN_LEARNER_GBDT)
        return corrupt(err, "COVR comes before TREE or belongs to a linear model");
    return read_covers(body, model, err);
}

/* Reads the sections: HEAD, FEAT, then the others (see the file comment). */
static ln_status read_sections(reader *r, uint32_t n_sections, uint32_t version, ln_model **out, ln_error *err)
{
    ln_model *model = NULL;
    uint64_t n_trees = 0;
    int seen = 0;
    ln_status status = LN_OK;

    for (uint32_t s = 0; s < n_sections && status == LN_OK; s++) {
        uint32_t tag = get_u32(r);
        uint32_t zero = get_u32(r);
        uint64_t length = get_u64(r);
        if (r->failed || zero != 0 || length > r->size - r->at) {
            status = corrupt(err, "section %lld of %lld is truncated", (long long)s, (long long)n_sections);
            break;
        }
        reader body = {r->data + r->at, (size_t)length, 0, "section", 0};
        r->at += (size_t)length;

        if (s == 0 && tag != TAG_HEAD)
            status = corrupt(err, "first section is not HEAD");
        else if (s == 0)
            status = read_head(&body, &model, &n_trees, err);
        else if (s == 1 && tag != TAG_FEAT)
            status = corrupt(err, "second section is not FEAT");
        else if (s == 1)
            status = read_features(&body, model, err);
        else
            status = read_section(&body, tag, version, model, n_trees, &seen, err);
    }

    if (status == LN_OK && (!(seen & SEEN_BODY) || r->at != r->size))
        status = corrupt(err, "missing TREE or LINR section, or %zu trailing bytes", r->size - r->at);
    if (status == LN_OK) {
        /* Without a COVR section (a version 1 file), covers are unknown. */
        if (!(seen & SEEN_COVR) && model->learner == LN_LEARNER_GBDT) {
            model->has_covers = 0;
            for (int t = 0; t < model->n_trees; t++)
                for (int32_t i = 0; i < model->trees[t].n_nodes; i++)
                    model->trees[t].nodes[i].cover = NAN;
        }
        status = check_consistency(model, err);
    }
    if (status == LN_OK)
        status = learn_model_prepare(model, err);
    if (status != LN_OK) {
        ln_model_free(model);
        return status;
    }
    *out = model;
    return LN_OK;
}

ln_status ln_model_load_bytes(const void *data, size_t size, ln_model **out, ln_error *err)
{
    uint32_t n_sections = 0, version = 0;

    *out = NULL;
    ln_status status = check_header(data, size, &n_sections, &version, err);
    if (status != LN_OK)
        return status;

    reader r = {(const uint8_t *)data + HEADER_BYTES, size - HEADER_BYTES, 0, "payload", 0};
    return read_sections(&r, n_sections, version, out, err);
}

/*
 * Checks the header of the file at path before the whole file is read, so
 * a large file that is no model, or whose size disagrees with its header,
 * is rejected without reading it into memory. A file that cannot be opened
 * passes, and ln_read_file then reports why.
 */
static ln_status check_file_header(const char *path, ln_error *err)
{
    uint8_t header[HEADER_BYTES];
    struct stat info;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return LN_OK;

    ssize_t got = 0;
    if (fstat(fd, &info) == 0 && S_ISREG(info.st_mode))
        got = read(fd, header, sizeof header);
    close(fd);
    if (!S_ISREG(info.st_mode) || got < 0)
        return LN_OK;

    if ((size_t)got < HEADER_BYTES || memcmp(header, MODEL_MAGIC, 8) != 0)
        return corrupt(err, "not a lanner model (no LNRMODEL header in %lld bytes)", (long long)info.st_size);
    reader r = {header, HEADER_BYTES, 16, "header", 0};
    uint64_t payload = get_u64(&r);
    if (payload != (uint64_t)info.st_size - HEADER_BYTES)
        return corrupt(err, "header gives %llu payload bytes but the file has %llu (truncated?)",
                       (unsigned long long)payload, (unsigned long long)info.st_size - HEADER_BYTES);
    return LN_OK;
}

ln_status ln_model_load(const char *path, ln_model **out, ln_error *err)
{
    char *data = NULL;
    size_t size = 0;

    *out = NULL;
    ln_status status = check_file_header(path, err);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s", path);
    status = ln_read_file(path, LN_MAX_MODEL_BYTES, &data, &size, err);
    if (status != LN_OK)
        return status;
    status = ln_model_load_bytes(data, size, out, err);
    free(data);
    if (status != LN_OK)
        return ln_error_prefix(err, "%s", path);
    return LN_OK;
}
