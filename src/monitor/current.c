/*
 * Current rows to monitor: read from the server's prediction log, or taken
 * from a CSV or SQL table and scored with the model, and joined with labels
 * that arrived later.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lanner/limits.h"
#include "lanner/log.h"
#include "lanner/monitor.h"
#include "monitor/monitor_internal.h"

int monitor_parse_time(const char *text, double *seconds)
{
    int year, month, day, hour = 0, minute = 0, second = 0, used = 0;
    double fraction = 0;
    const char *p = text;

    if (sscanf(p, "%4d-%2d-%2d%n", &year, &month, &day, &used) != 3 || used != 10)
        return -1;
    p += used;
    if (*p == 'T' || *p == ' ') {
        if (sscanf(p + 1, "%2d:%2d%n", &hour, &minute, &used) != 2 || used != 5)
            return -1;
        p += 1 + used;
        if (*p == ':') {
            if (sscanf(p + 1, "%2d%n", &second, &used) != 1 || used != 2)
                return -1;
            p += 1 + used;
            if (*p == '.') {
                char *end;
                fraction = strtod(p, &end);
                p = end;
            }
        }
    }

    int offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int offset_hours, offset_minutes;
        if (sscanf(p + 1, "%2d:%2d%n", &offset_hours, &offset_minutes, &used) != 2 || used != 5)
            return -1;
        offset = (offset_hours * 60 + offset_minutes) * 60 * (*p == '-' ? -1 : 1);
        p += 1 + used;
    }
    if (*p != '\0' || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return -1;

    struct tm parts = {0};
    parts.tm_year = year - 1900;
    parts.tm_mon = month - 1;
    parts.tm_mday = day;
    parts.tm_hour = hour;
    parts.tm_min = minute;
    parts.tm_sec = second;
    *seconds = (double)timegm(&parts) - offset + fraction;
    return 0;
}

void monitor_format_time(double seconds, char *out, size_t capacity)
{
    time_t whole = (time_t)floor(seconds);
    struct tm parts;

    if (!isfinite(seconds) || gmtime_r(&whole, &parts) == NULL) {
        snprintf(out, capacity, "-");
        return;
    }
    strftime(out, capacity, "%Y-%m-%dT%H:%M:%SZ", &parts);
}

static ln_monitor_current *current_new(void)
{
    return calloc(1, sizeof(ln_monitor_current));
}

void ln_monitor_current_free(ln_monitor_current *current)
{
    if (current == NULL)
        return;
    ln_table_free(current->table);
    free(current->scores);
    free(current->flags);
    free(current->times);
    free(current->labels);
    free(current);
}

/* ---- The prediction log ---- */

typedef struct log_files {
    char **paths;
    size_t count;
} log_files;

static void log_files_free(log_files *files)
{
    for (size_t i = 0; i < files->count; i++)
        free(files->paths[i]);
    free(files->paths);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_jsonl_suffix(const char *name)
{
    size_t length = strlen(name);
    return length > 6 && strcmp(name + length - 6, ".jsonl") == 0;
}

/* Lists path itself, or the *.jsonl files of the folder path in name order. */
static ln_status list_log_files(const char *path, log_files *files, ln_error *err)
{
    struct stat info;

    if (stat(path, &info) != 0)
        return ln_error_set(err, errno == ENOENT ? LN_ERR_NOT_FOUND : LN_ERR_IO, "%s: cannot read: %s", path,
                            strerror(errno));
    if (!S_ISDIR(info.st_mode)) {
        files->paths = malloc(sizeof *files->paths);
        if (files->paths == NULL || (files->paths[0] = strdup(path)) == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "out of memory listing %s", path);
        files->count = 1;
        return LN_OK;
    }

    DIR *dir = opendir(path);
    if (dir == NULL)
        return ln_error_set(err, LN_ERR_IO, "%s: cannot open the folder: %s", path, strerror(errno));
    size_t capacity = 0;
    ln_status status = LN_OK;
    struct dirent *entry;
    while (status == LN_OK && (entry = readdir(dir)) != NULL) {
        if (!has_jsonl_suffix(entry->d_name))
            continue;
        if (files->count == LN_MONITOR_MAX_LOG_FILES) {
            status = ln_error_set(err, LN_ERR_LIMIT, "%s holds more than %d .jsonl files; monitor a narrower folder",
                                  path, LN_MONITOR_MAX_LOG_FILES);
            break;
        }
        if (files->count == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            char **grown = realloc(files->paths, capacity * sizeof *grown);
            if (grown == NULL) {
                status = ln_error_set(err, LN_ERR_NOMEM, "out of memory listing %s", path);
                break;
            }
            files->paths = grown;
        }
        size_t length = strlen(path) + strlen(entry->d_name) + 2;
        files->paths[files->count] = malloc(length);
        if (files->paths[files->count] == NULL) {
            status = ln_error_set(err, LN_ERR_NOMEM, "out of memory listing %s", path);
            break;
        }
        snprintf(files->paths[files->count++], length, "%s/%s", path, entry->d_name);
    }
    closedir(dir);
    if (status == LN_OK && files->count == 0)
        status = ln_error_set(err, LN_ERR_NOT_FOUND, "%s holds no .jsonl prediction log file", path);
    if (status == LN_OK)
        qsort(files->paths, files->count, sizeof *files->paths, compare_strings);
    return status;
}

/* Counts lines of every file, an upper bound on the rows to allocate. */
static ln_status count_lines(const log_files *files, size_t *lines, ln_error *err)
{
    char buffer[1 << 16];

    *lines = 0;
    for (size_t i = 0; i < files->count; i++) {
        FILE *file = fopen(files->paths[i], "rb");
        if (file == NULL)
            return ln_error_set(err, errno == ENOENT ? LN_ERR_NOT_FOUND : LN_ERR_IO, "%s: cannot open: %s",
                                files->paths[i], strerror(errno));
        size_t got;
        int last = '\n';
        while ((got = fread(buffer, 1, sizeof buffer, file)) > 0) {
            for (size_t k = 0; k < got; k++)
                *lines += buffer[k] == '\n';
            last = buffer[got - 1];
        }
        int failed = ferror(file);
        fclose(file);
        if (failed)
            return ln_error_set(err, LN_ERR_IO, "%s: read failed", files->paths[i]);
        *lines += last != '\n';
    }
    return LN_OK;
}

typedef struct log_reader {
    const ln_model *model;
    const char *model_name;
    int version;
    ln_monitor_current *current;
    ln_column **features;       /* the table's column of each model feature */
    ln_column *id;              /* NULL without an id column */
    const char *id_name;
    size_t row;
} log_reader;

static void note_skipped(log_reader *reader, const char *path, size_t line)
{
    if (reader->current->skipped_lines++ == 0)
        snprintf(reader->current->first_skipped, sizeof reader->current->first_skipped, "%.200s:%zu", path, line);
}

/* Formats a JSON scalar as the text a CSV cell would hold; returns -1 for other values. */
static int scalar_text(const json_t *value, char *out, size_t capacity)
{
    if (json_is_string(value)) {
        snprintf(out, capacity, "%s", json_string_value(value));
        return 0;
    }
    if (json_is_integer(value)) {
        snprintf(out, capacity, "%lld", (long long)json_integer_value(value));
        return 0;
    }
    if (json_is_real(value)) {
        snprintf(out, capacity, "%.17g", json_real_value(value));
        /* The shortest text that reads back the same, as ln_column_format writes numbers. */
        for (int precision = 1; precision <= 17; precision++) {
            char shorter[64];
            snprintf(shorter, sizeof shorter, "%.*g", precision, json_real_value(value));
            if (strtod(shorter, NULL) == json_real_value(value)) {
                snprintf(out, capacity, "%s", shorter);
                break;
            }
        }
        return 0;
    }
    if (json_is_boolean(value)) {
        snprintf(out, capacity, "%s", json_is_true(value) ? "true" : "false");
        return 0;
    }
    return -1;
}

static ln_status store_feature(log_reader *reader, ln_column *column, const json_t *value, ln_error *err)
{
    size_t row = reader->row;

    if (value == NULL || json_is_null(value))
        return LN_OK;
    if (ln_type_is_numeric(column->type)) {
        if (json_is_number(value))
            column->values[row] = json_number_value(value);
        else if (json_is_boolean(value))
            column->values[row] = json_is_true(value);
        else
            reader->current->invalid_values++;
        return LN_OK;
    }

    char text[4096];
    if (scalar_text(value, text, sizeof text) != 0) {
        reader->current->invalid_values++;
        return LN_OK;
    }
    int32_t code = ln_dict_intern(column->dict, text, strlen(text));
    if (code < 0)
        return ln_error_set(err, LN_ERR_LIMIT, "column '%s' has more than %d distinct values, or memory ran out",
                            column->name, LN_MAX_DICT_SIZE);
    column->codes[row] = code;
    return LN_OK;
}

/* Reads one log line into the next row, or counts it as skipped or as another model's. */
static ln_status read_line(log_reader *reader, const char *text, size_t length, const char *path, size_t line,
                           ln_error *err)
{
    json_error_t json_error;
    json_t *root = json_loadb(text, length, JSON_REJECT_DUPLICATES, &json_error);
    const json_t *features = json_object_get(root, "features");
    const char *model = json_string_value(json_object_get(root, "model"));
    const json_t *version = json_object_get(root, "version");
    const json_t *score = json_object_get(root, "score");
    const char *time_text = json_string_value(json_object_get(root, "time"));
    double seconds;

    reader->current->log_lines++;
    if (!json_is_object(root) || !json_is_object(features) || model == NULL || !json_is_integer(version) ||
        !json_is_number(score) || time_text == NULL || monitor_parse_time(time_text, &seconds) != 0) {
        note_skipped(reader, path, line);
        json_decref(root);
        return LN_OK;
    }
    if (strcmp(model, reader->model_name) != 0) {
        reader->current->other_model_rows++;
        json_decref(root);
        return LN_OK;
    }
    if (json_integer_value(version) != reader->version) {
        reader->current->other_version_rows++;
        json_decref(root);
        return LN_OK;
    }

    ln_status status = LN_OK;
    size_t n_features = ln_model_feature_count(reader->model);
    for (size_t f = 0; f < n_features && status == LN_OK; f++)
        status = store_feature(reader, reader->features[f],
                               json_object_get(features, ln_model_feature_name(reader->model, f)), err);
    if (status == LN_OK && reader->id != NULL)
        status = store_feature(reader, reader->id, json_object_get(features, reader->id_name), err);

    const char *decision = json_string_value(json_object_get(root, "decision"));
    reader->current->scores[reader->row] = json_number_value(score);
    reader->current->flags[reader->row] = decision != NULL && strcmp(decision, "pass") != 0;
    reader->current->times[reader->row] = seconds;
    reader->row++;
    json_decref(root);
    return status;
}

static ln_status read_log_file(log_reader *reader, const char *path, ln_error *err)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL)
        return ln_error_set(err, LN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));

    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    size_t number = 0;
    ln_status status = LN_OK;
    while (status == LN_OK && (length = getline(&line, &capacity, file)) >= 0) {
        number++;
        if ((size_t)length > LN_MONITOR_MAX_LINE_BYTES) {
            status = ln_error_set(err, LN_ERR_LIMIT, "%s:%zu: a line of %zd bytes, more than the %u allowed", path,
                                  number, length, LN_MONITOR_MAX_LINE_BYTES);
            break;
        }
        while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
            length--;
        if (length == 0)
            continue;
        status = read_line(reader, line, (size_t)length, path, number, err);
    }
    if (status == LN_OK && ferror(file))
        status = ln_error_set(err, LN_ERR_IO, "%s: read failed", path);
    free(line);
    fclose(file);
    return status;
}

/* A table with a column per model feature (in its type) and the id column as text. */
static ln_status log_table(log_reader *reader, size_t rows, const char *id_column, ln_error *err)
{
    size_t n_features = ln_model_feature_count(reader->model);
    ln_monitor_current *current = reader->current;

    current->table = ln_table_new(rows);
    current->scores = malloc((rows ? rows : 1) * sizeof *current->scores);
    current->flags = malloc(rows ? rows : 1);
    current->times = malloc((rows ? rows : 1) * sizeof *current->times);
    reader->features = calloc(n_features ? n_features : 1, sizeof *reader->features);
    if (current->table == NULL || current->scores == NULL || current->flags == NULL || current->times == NULL ||
        reader->features == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading the prediction log (%zu lines)", rows);

    for (size_t f = 0; f < n_features; f++) {
        ln_type type = ln_model_feature_type(reader->model, f);
        if (ln_table_add_column(current->table, ln_model_feature_name(reader->model, f),
                                ln_type_is_numeric(type) ? type : LN_TYPE_CATEGORY, err) == NULL)
            return err->status;
    }
    if (id_column != NULL && ln_table_find(current->table, id_column) < 0 &&
        ln_table_add_column(current->table, id_column, LN_TYPE_TEXT, err) == NULL)
        return err->status;

    /* Column pointers are taken after the last add, which may move the column array. */
    for (size_t f = 0; f < n_features; f++)
        reader->features[f] = &current->table->cols[f];
    if (id_column != NULL) {
        reader->id = ln_table_column(current->table, id_column);
        reader->id_name = id_column;
    }
    return LN_OK;
}

ln_status ln_monitor_read_log(const char *path, const ln_model *model, const char *model_name, int version,
                              const char *id_column, ln_monitor_current **out, ln_error *err)
{
    log_files files = {0};
    log_reader reader = {.model = model, .model_name = model_name, .version = version};
    size_t lines = 0;

    *out = NULL;
    reader.current = current_new();
    if (reader.current == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading %s", path);

    ln_status status = list_log_files(path, &files, err);
    if (status == LN_OK)
        status = count_lines(&files, &lines, err);
    if (status == LN_OK)
        status = log_table(&reader, lines, id_column, err);
    for (size_t i = 0; i < files.count && status == LN_OK; i++)
        status = read_log_file(&reader, files.paths[i], err);
    if (status == LN_OK && reader.row == 0)
        status = ln_error_set(err, LN_ERR_DATA,
                              "%s: no prediction of %s version %d among %zu lines (%zu of other models, %zu of other "
                              "versions, %zu not valid records); choose the version with --version",
                              path, model_name, version, reader.current->log_lines, reader.current->other_model_rows,
                              reader.current->other_version_rows, reader.current->skipped_lines);

    log_files_free(&files);
    free(reader.features);
    if (status != LN_OK) {
        ln_monitor_current_free(reader.current);
        return status;
    }

    /* The arrays keep their allocated length; only the first rows are used. */
    reader.current->table->n_rows = reader.row;
    if (reader.current->skipped_lines > 0)
        ln_log(LN_LOG_WARN, "skipped %zu prediction log lines that are not valid prediction records (first at %s)",
               reader.current->skipped_lines, reader.current->first_skipped);
    if (reader.current->other_version_rows > 0)
        ln_log(LN_LOG_WARN, "left out %zu predictions of other versions of %s", reader.current->other_version_rows,
               model_name);
    *out = reader.current;
    return LN_OK;
}

/* ---- CSV and SQL tables ---- */

/* Converts a column to the model's type in place; a numeric type only needs a numeric column. */
static ln_status conform_column(ln_column *column, ln_type type, size_t n_rows, ln_error *err)
{
    if (type == LN_TYPE_CATEGORY) {
        if (column->type == LN_TYPE_CATEGORY)
            return LN_OK;
        return ln_column_convert(column, LN_TYPE_CATEGORY, n_rows, err);
    }
    if (ln_type_is_numeric(column->type))
        return LN_OK;
    return ln_column_convert(column, type, n_rows, err);
}

static ln_status conform_features(ln_table *table, const ln_model *model, ln_error *err)
{
    size_t n_features = ln_model_feature_count(model);

    for (size_t f = 0; f < n_features; f++) {
        const char *name = ln_model_feature_name(model, f);
        ln_type type = ln_model_feature_type(model, f);
        ln_column *column = ln_table_column(table, name);
        if (column == NULL) {
            ln_log(LN_LOG_WARN, "feature '%s' is not in the current data; it counts as missing on every row", name);
            if (ln_table_add_column(table, name, ln_type_is_numeric(type) ? type : LN_TYPE_CATEGORY, err) == NULL)
                return err->status;
            continue;
        }
        ln_status status = conform_column(column, type, table->n_rows, err);
        if (status != LN_OK)
            return ln_error_prefix(err, "feature '%s' cannot take the model's type %s", name, ln_type_name(type));
    }
    return LN_OK;
}

static ln_status read_times(ln_monitor_current *current, const char *time_column, ln_error *err)
{
    ln_column *column = ln_table_column(current->table, time_column);
    size_t n = current->table->n_rows;

    if (column == NULL)
        return ln_error_set(err, LN_ERR_NOT_FOUND, "time column '%s' is not in the current data", time_column);
    current->times = malloc((n ? n : 1) * sizeof *current->times);
    if (current->times == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory reading times");

    if (ln_type_is_numeric(column->type)) {
        memcpy(current->times, column->values, n * sizeof *current->times);
        return LN_OK;
    }
    for (size_t i = 0; i < n; i++) {
        int32_t code = column->codes[i];
        current->times[i] = NAN;
        if (code >= 0 && monitor_parse_time(ln_dict_string(column->dict, code), &current->times[i]) != 0)
            return ln_error_set(err, LN_ERR_DATA, "time column '%s', row %zu: '%s' is not an ISO 8601 time",
                                time_column, i + 1, ln_dict_string(column->dict, code));
    }
    return LN_OK;
}

ln_status ln_monitor_score_table(ln_table *table, const ln_model *model, double flag_threshold,
                                 const char *time_column, ln_monitor_current **out, ln_error *err)
{
    *out = NULL;
    ln_monitor_current *current = current_new();
    if (current == NULL) {
        ln_table_free(table);
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory scoring the current data");
    }
    current->table = table;
    size_t n = table->n_rows;

    ln_status status = conform_features(table, model, err);
    if (status == LN_OK) {
        current->scores = malloc((n ? n : 1) * sizeof *current->scores);
        current->flags = malloc(n ? n : 1);
        if (current->scores == NULL || current->flags == NULL)
            status = ln_error_set(err, LN_ERR_NOMEM, "out of memory scoring %zu rows", n);
    }
    if (status == LN_OK)
        status = ln_model_predict(model, table, current->scores, err);
    if (status == LN_OK && time_column != NULL)
        status = read_times(current, time_column, err);
    if (status != LN_OK) {
        ln_monitor_current_free(current);
        return status;
    }

    for (size_t i = 0; i < n; i++)
        current->flags[i] = current->scores[i] >= flag_threshold;
    *out = current;
    return LN_OK;
}

/* ---- Labels ---- */

/* An open-addressing map from id text to the label source's row. */
typedef struct id_map {
    size_t capacity;   /* a power of two */
    int64_t *rows;     /* -1 for an empty slot */
    const ln_column *column;
} id_map;

static uint64_t hash_text(const char *text)
{
    uint64_t hash = 1469598103934665603ull;
    for (; *text; text++)
        hash = (hash ^ (unsigned char)*text) * 1099511628211ull;
    return hash;
}

static int64_t id_map_find(const id_map *map, const char *key, char *scratch, size_t scratch_size)
{
    size_t slot = hash_text(key) & (map->capacity - 1);

    while (map->rows[slot] >= 0) {
        ln_column_format(map->column, (size_t)map->rows[slot], scratch, scratch_size);
        if (strcmp(scratch, key) == 0)
            return map->rows[slot];
        slot = (slot + 1) & (map->capacity - 1);
    }
    return -1;
}

static ln_status id_map_build(id_map *map, const ln_column *column, size_t n, size_t *duplicates, ln_error *err)
{
    char key[4096], scratch[4096];

    map->column = column;
    map->capacity = 16;
    while (map->capacity < n * 2)
        map->capacity *= 2;
    map->rows = malloc(map->capacity * sizeof *map->rows);
    if (map->rows == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory indexing %zu label rows", n);
    memset(map->rows, 0xff, map->capacity * sizeof *map->rows);

    for (size_t i = 0; i < n; i++) {
        if (ln_column_is_missing(column, i))
            continue;
        ln_column_format(column, i, key, sizeof key);
        if (id_map_find(map, key, scratch, sizeof scratch) >= 0) {
            (*duplicates)++;
            continue;
        }
        size_t slot = hash_text(key) & (map->capacity - 1);
        while (map->rows[slot] >= 0)
            slot = (slot + 1) & (map->capacity - 1);
        map->rows[slot] = (int64_t)i;
    }
    return LN_OK;
}

ln_status ln_monitor_join_labels(ln_monitor_current *current, const char *id_column, const ln_table *labels,
                                 const char *target, const char *positive, ln_error *err)
{
    const ln_column *label_ids = labels->n_cols ? ln_table_column((ln_table *)labels, id_column) : NULL;
    const ln_column *label_target = labels->n_cols ? ln_table_column((ln_table *)labels, target) : NULL;
    const ln_column *current_ids = ln_table_column(current->table, id_column);

    if (label_ids == NULL || label_target == NULL)
        return ln_error_set(err, LN_ERR_NOT_FOUND, "the labels need columns '%s' (the model's id) and '%s' (its target)",
                            id_column, target);
    if (current_ids == NULL)
        return ln_error_set(err, LN_ERR_NOT_FOUND, "the current data has no id column '%s' to join labels on",
                            id_column);

    size_t n = current->table->n_rows;
    id_map map = {0};
    current->label_rows = labels->n_rows;
    current->labels = malloc((n ? n : 1) * sizeof *current->labels);
    if (current->labels == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "out of memory joining labels");
    ln_status status = id_map_build(&map, label_ids, labels->n_rows, &current->duplicate_label_ids, err);
    if (status != LN_OK)
        return status;

    char key[4096], scratch[4096], value[4096];
    current->labeled = 0;
    for (size_t i = 0; i < n; i++) {
        current->labels[i] = NAN;
        if (ln_column_is_missing(current_ids, i))
            continue;
        ln_column_format(current_ids, i, key, sizeof key);
        int64_t row = id_map_find(&map, key, scratch, sizeof scratch);
        if (row < 0 || ln_column_is_missing(label_target, (size_t)row))
            continue;
        ln_column_format(label_target, (size_t)row, value, sizeof value);
        current->labels[i] = strcmp(value, positive) == 0;
        current->labeled++;
    }
    free(map.rows);

    if (current->duplicate_label_ids > 0)
        ln_log(LN_LOG_WARN, "%zu ids appear more than once in the labels; the first label of each counts",
               current->duplicate_label_ids);
    return LN_OK;
}
