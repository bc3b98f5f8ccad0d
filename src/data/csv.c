/*
 * The CSV reader.
 *
 * The input is in memory (mapped or decompressed). After the header, the
 * body is cut into chunks at record boundaries and the chunks are parsed in
 * parallel straight into per-column slot arrays (see data_internal.h).
 *
 * Finding record boundaries without parsing from the start relies on quote
 * parity. The reader rejects a quote inside an unquoted field and text after
 * a closing quote. So in any valid prefix each quote opens a field, closes it
 * or is half of a doubled quote, and a position is inside a quoted field
 * exactly when an odd number of quotes precede it. A parallel scan counts
 * quotes and line breaks per byte range, a serial pass turns the counts into
 * the state at each range start, and each chunk then starts after the first
 * line break that lies outside quotes. When the input is invalid, every
 * chunk before the first error still starts where a serial parse would, so
 * the first error reported is the one a serial parse finds.
 */
#include "data/data_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lanner/limits.h"
#include "lanner/log.h"

/* Smallest chunk worth a thread of its own. */
#define MIN_CHUNK_BYTES (1u << 20)
#define MAX_CHUNKS 4096
#define NO_POSITION SIZE_MAX
/* Lines sampled to detect the delimiter. */
#define SNIFF_LINES 20
#define SNIFF_BYTES (1u << 20)
/* Bytes parsed between two releases of file pages. */
#define RELEASE_STEP_BYTES (8 << 20)

typedef struct csv_chunk {
    size_t begin;              /* byte offsets of the chunk's records */
    size_t end;
    size_t row_begin;          /* index of the chunk's first row in the slot arrays */
    size_t row_capacity;       /* upper bound on the chunk's rows */
    size_t n_rows;
    size_t n_lines;            /* line breaks consumed, including those inside quotes */
    size_t first_line;         /* 1-based line number of begin */
    data_column_stats *stats;  /* one per column */
    char *scratch;             /* unescaped text of fields with doubled quotes */
    size_t scratch_cap;
    struct pending_string *pending; /* string cells of the previous record, then of the current one */
    size_t n_pending;
    size_t n_previous;         /* pending[0 .. n_previous) belong to the previous record */
    size_t pending_cap;
    ln_status status;
    size_t error_line;         /* relative to first_line */
    char error_text[600];      /* the message after "<source> line <n>" */
} csv_chunk;

typedef struct csv_reader {
    const char *data;
    size_t size;
    const char *source;
    char delimiter;
    int decimal_comma;
    data_markers markers;
    unsigned char stop[256];   /* bytes that end the scan of an unquoted field */
    size_t n_cols;
    data_column *columns;
    int *dropped;              /* column under an empty trailing header name */
    size_t body_begin;
    size_t body_first_line;
    csv_chunk *chunks;
    size_t n_chunks;           /* chunks in use, after plan_chunks merged ranges */
    size_t n_allocated_chunks;
    int pass;                  /* 1: parse and infer; 2: reread needs_text columns as text */
    int release_input;         /* data is a read-only file mapping whose parsed pages may be dropped */
    int threads;
    atomic_size_t first_failed_chunk;
} csv_reader;

typedef struct csv_cursor {
    const char *p;
    const char *end;
    size_t line;               /* line breaks consumed since the chunk start */
} csv_cursor;

enum { FIELD_MORE, FIELD_LAST, FIELD_ERROR };

static void chunk_fail(csv_chunk *chunk, ln_status status, size_t line, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Records the chunk's error, keeping the one on the earliest line: string
 * cells are interned one record late (see pending_string), so a dictionary
 * failure can arrive after an error on a later line.
 */
static void chunk_fail(csv_chunk *chunk, ln_status status, size_t line, const char *format, ...)
{
    va_list args;

    if (chunk->status != LN_OK && line >= chunk->error_line)
        return;
    chunk->status = status;
    chunk->error_line = line;
    va_start(args, format);
    vsnprintf(chunk->error_text, sizeof chunk->error_text, format, args);
    va_end(args);
}

static const char *column_label(const csv_reader *reader, size_t column)
{
    if (column < reader->n_cols && reader->columns[column].name != NULL)
        return reader->columns[column].name;
    return "";
}

/* Checks UTF-8 and counts line breaks in the content of a quoted field. */
static int scan_quoted_content(const csv_reader *reader, csv_chunk *chunk, csv_cursor *cursor,
                               const char *begin, const char *end, size_t column)
{
    const unsigned char *p = (const unsigned char *)begin;
    const unsigned char *stop = (const unsigned char *)end;

    while (p < stop) {
        if (*p == '\n') {
            cursor->line++;
            p++;
        } else if (*p < 0x80) {
            p++;
        } else {
            size_t size = data_utf8_sequence(p, stop);
            if (size == 0) {
                chunk_fail(chunk, LN_ERR_PARSE, cursor->line,
                           ", column %zu ('%s'): invalid UTF-8 byte 0x%02x; convert the file to "
                           "UTF-8",
                           column + 1, column_label(reader, column), *p);
                return -1;
            }
            p += size;
        }
    }
    return 0;
}

/* Copies quoted content into the chunk's scratch buffer, turning doubled quotes into one. */
static int unescape_quotes(csv_chunk *chunk, const char *begin, size_t length, size_t *out_length)
{
    if (length > chunk->scratch_cap) {
        size_t capacity = chunk->scratch_cap ? chunk->scratch_cap : 256;
        while (capacity < length)
            capacity *= 2;
        char *grown = realloc(chunk->scratch, capacity);
        if (grown == NULL)
            return -1;
        chunk->scratch = grown;
        chunk->scratch_cap = capacity;
    }

    size_t used = 0;
    for (size_t i = 0; i < length; i++) {
        chunk->scratch[used++] = begin[i];
        if (begin[i] == '"')
            i++;
    }
    *out_length = used;
    return 0;
}

/* Reads the terminator after a field: a delimiter, a line break or the end of the chunk. */
static int finish_field(const csv_reader *reader, csv_cursor *cursor)
{
    const char *p = cursor->p;

    if (p == cursor->end)
        return FIELD_LAST;
    if (*p == reader->delimiter) {
        cursor->p = p + 1;
        return FIELD_MORE;
    }
    if (*p == '\n') {
        cursor->p = p + 1;
        cursor->line++;
        return FIELD_LAST;
    }
    if (*p == '\r' && p + 1 == cursor->end) {
        cursor->p = p + 1;
        return FIELD_LAST;
    }
    if (*p == '\r' && p[1] == '\n') {
        cursor->p = p + 2;
        cursor->line++;
        return FIELD_LAST;
    }
    return FIELD_ERROR;
}

static int read_quoted_field(const csv_reader *reader, csv_chunk *chunk, csv_cursor *cursor,
                             size_t column, const char **text, size_t *length)
{
    size_t open_line = cursor->line;
    const char *begin = cursor->p + 1;
    const char *p = begin;
    int doubled = 0;

    for (;;) {
        const char *quote = memchr(p, '"', (size_t)(cursor->end - p));
        if (quote == NULL) {
            chunk_fail(chunk, LN_ERR_PARSE, open_line,
                       ", column %zu ('%s'): quoted field is never closed; add the closing quote",
                       column + 1, column_label(reader, column));
            return FIELD_ERROR;
        }
        if (scan_quoted_content(reader, chunk, cursor, p, quote, column) != 0)
            return FIELD_ERROR;
        if (quote + 1 < cursor->end && quote[1] == '"') {
            doubled = 1;
            p = quote + 2;
            continue;
        }
        p = quote;
        break;
    }

    size_t raw_length = (size_t)(p - begin);
    if (raw_length > LN_MAX_FIELD_BYTES) {
        chunk_fail(chunk, LN_ERR_LIMIT, open_line,
                   ", column %zu ('%s'): field is longer than %u bytes, the maximum", column + 1,
                   column_label(reader, column), LN_MAX_FIELD_BYTES);
        return FIELD_ERROR;
    }
    *text = begin;
    *length = raw_length;
    if (doubled) {
        if (unescape_quotes(chunk, begin, raw_length, length) != 0) {
            chunk_fail(chunk, LN_ERR_NOMEM, open_line, ", column %zu: out of memory", column + 1);
            return FIELD_ERROR;
        }
        *text = chunk->scratch;
    }

    cursor->p = p + 1;
    int result = finish_field(reader, cursor);
    if (result == FIELD_ERROR)
        chunk_fail(chunk, LN_ERR_PARSE, cursor->line,
                   ", column %zu ('%s'): unexpected text after the closing quote; quote the whole "
                   "field and double any quote inside it",
                   column + 1, column_label(reader, column));
    return result;
}

/* Returns a mask with the high bit set in each byte of word equal to byte; bits above a match may be set too. */
static inline uint64_t bytes_equal(uint64_t word, unsigned char byte)
{
    uint64_t x = word ^ (0x0101010101010101ull * byte);

    return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}

/*
 * Returns the first byte at or after p that ends an unquoted field's plain
 * run (see reader->stop), or end. Eight bytes are tested at a time; the
 * lowest bit of the combined mask is exact because a false match can only
 * appear above a real one.
 */
static inline const char *skip_plain_bytes(const csv_reader *reader, const char *p, const char *end)
{
    unsigned char delimiter = (unsigned char)reader->delimiter;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        uint64_t stops = bytes_equal(word, delimiter) | bytes_equal(word, '\n') |
                         bytes_equal(word, '\r') | bytes_equal(word, '"') |
                         (word & 0x8080808080808080ull);
        if (stops != 0)
            return p + __builtin_ctzll(stops) / 8;
        p += 8;
    }
#else
    (void)delimiter;
#endif
    while (p < end && !reader->stop[(unsigned char)*p])
        p++;
    return p;
}

/*
 * Reads one field at the cursor. Returns FIELD_MORE when a delimiter follows,
 * FIELD_LAST at the end of the record, or FIELD_ERROR with the chunk's error set.
 * text may point into the chunk's scratch buffer until the next call.
 */
static int read_field(const csv_reader *reader, csv_chunk *chunk, csv_cursor *cursor,
                      size_t column, const char **text, size_t *length)
{
    const char *begin = cursor->p;
    const char *p = begin;
    const char *end = cursor->end;

    if (p < end && *p == '"')
        return read_quoted_field(reader, chunk, cursor, column, text, length);

    for (;;) {
        p = skip_plain_bytes(reader, p, end);
        if (p == end || *p == reader->delimiter || *p == '\n')
            break;
        if (*p == '\r') {
            if (p + 1 == end || p[1] == '\n')
                break;
            p++; /* a lone carriage return is data */
            continue;
        }
        if (*p == '"') {
            chunk_fail(chunk, LN_ERR_PARSE, cursor->line,
                       ", column %zu ('%s'): quote inside an unquoted field; quote the whole "
                       "field and double the inner quote",
                       column + 1, column_label(reader, column));
            return FIELD_ERROR;
        }
        size_t size = data_utf8_sequence((const unsigned char *)p, (const unsigned char *)end);
        if (size == 0) {
            chunk_fail(chunk, LN_ERR_PARSE, cursor->line,
                       ", column %zu ('%s'): invalid UTF-8 byte 0x%02x; convert the file to UTF-8",
                       column + 1, column_label(reader, column), (unsigned char)*p);
            return FIELD_ERROR;
        }
        p += size;
    }

    if ((size_t)(p - begin) > LN_MAX_FIELD_BYTES) {
        chunk_fail(chunk, LN_ERR_LIMIT, cursor->line,
                   ", column %zu ('%s'): field is longer than %u bytes, the maximum", column + 1,
                   column_label(reader, column), LN_MAX_FIELD_BYTES);
        return FIELD_ERROR;
    }
    *text = begin;
    *length = (size_t)(p - begin);
    cursor->p = p;
    return finish_field(reader, cursor);
}

static void fail_dictionary(const csv_reader *reader, csv_chunk *chunk, size_t line, size_t column)
{
    if (data_strings_count(chunk->stats[column].strings) >= LN_MAX_DICT_SIZE)
        chunk_fail(chunk, LN_ERR_LIMIT, line,
                   ", column %zu ('%s'): more than %d distinct values, the maximum", column + 1,
                   column_label(reader, column), LN_MAX_DICT_SIZE);
    else
        chunk_fail(chunk, LN_ERR_NOMEM, line, ", column %zu ('%s'): out of memory", column + 1,
                   column_label(reader, column));
}

/*
 * A string cell waiting to be interned. Interning a string from a
 * high-cardinality column mostly waits on a cache miss in the column's hash
 * table, so the reader prefetches the slot when it meets the cell and interns
 * the cell one record later, after parsing the next record has hidden the
 * miss. Cells are interned in input order within each column, so codes still
 * follow first appearance.
 */
typedef struct pending_string {
    const char *text;  /* points into the input, which outlives the chunk's parse */
    size_t length;
    uint64_t hash;
    double *slot;
    size_t line;
    size_t column;
} pending_string;

/* Interns the first count pending cells, then moves the rest to the front. */
static void flush_strings(const csv_reader *reader, csv_chunk *chunk, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const pending_string *entry = &chunk->pending[i];
        data_column_stats *stats = &chunk->stats[entry->column];
        int32_t code = data_strings_intern_hashed(stats->strings, entry->text, entry->length,
                                                  entry->hash);
        if (code < 0) {
            *entry->slot = data_missing_slot();
            fail_dictionary(reader, chunk, entry->line, entry->column);
            continue;
        }
        *entry->slot = data_stats_count_string(stats, code, entry->line);
    }
    if (chunk->n_pending > count)
        memmove(chunk->pending, chunk->pending + count,
                (chunk->n_pending - count) * sizeof *chunk->pending);
    chunk->n_pending -= count;
    chunk->n_previous = count <= chunk->n_previous ? chunk->n_previous - count : 0;
}

/* Queues a string cell for interning, or interns it at once when its text is in the scratch buffer. */
static int add_string(const csv_reader *reader, csv_chunk *chunk, size_t column, double *slot,
                      const char *text, size_t length, size_t line)
{
    data_column_stats *stats = &chunk->stats[column];
    int failed = 0;

    if (stats->strings == NULL && (stats->strings = data_strings_new()) == NULL) {
        fail_dictionary(reader, chunk, line, column);
        return -1;
    }

    /* The next field with doubled quotes reuses the scratch buffer, so intern now, after the
     * previous record's cells (this record has no other cell of this column). */
    if (text == chunk->scratch) {
        flush_strings(reader, chunk, chunk->n_previous);
        *slot = data_stats_add_string(stats, text, length, line, &failed);
        if (failed) {
            fail_dictionary(reader, chunk, line, column);
            return -1;
        }
        return 0;
    }

    if (chunk->n_pending == chunk->pending_cap) {
        size_t capacity = chunk->pending_cap ? chunk->pending_cap * 2 : 64;
        pending_string *grown = realloc(chunk->pending, capacity * sizeof *grown);
        if (grown == NULL) {
            chunk_fail(chunk, LN_ERR_NOMEM, line, ", column %zu: out of memory", column + 1);
            return -1;
        }
        chunk->pending = grown;
        chunk->pending_cap = capacity;
    }
    uint64_t hash = data_strings_hash(text, length);
    data_strings_prefetch(stats->strings, hash);
    chunk->pending[chunk->n_pending++] = (pending_string){text, length, hash, slot, line, column};
    return 0;
}

/* Stores one cell of the first pass. Returns 0, or -1 with the chunk's error set. */
static int store_cell(const csv_reader *reader, csv_chunk *chunk, size_t column, size_t row,
                      const char *text, size_t length, size_t line)
{
    const data_column *target = &reader->columns[column];
    data_column_stats *stats = &chunk->stats[column];
    double *slot = &target->slots[row];
    int failed = 0;
    double value;

    if (reader->dropped[column]) {
        if (length == 0)
            return 0;
        char shown[80];
        data_quote_value(text, length, shown, sizeof shown);
        chunk_fail(chunk, LN_ERR_PARSE, line,
                   ", column %zu: value '%s' in a column whose header name is empty; name the "
                   "column in the header",
                   column + 1, shown);
        return -1;
    }
    if (data_is_missing(&reader->markers, text, length)) {
        *slot = data_missing_slot();
        stats->counts[DATA_CELL_MISSING]++;
        return 0;
    }

    if (target->forced) {
        if (!ln_type_is_numeric(target->type)) {
            return add_string(reader, chunk, column, slot, text, length, line);
        } else if (data_parse_as(target->type, text, length, reader->decimal_comma, &value)) {
            *slot = value;
            stats->counts[DATA_CELL_FLOAT]++;
        } else {
            char shown[80];
            data_quote_value(text, length, shown, sizeof shown);
            chunk_fail(chunk, LN_ERR_DATA, line,
                       ", column %zu ('%s'): value '%s' is not a valid %s, the type the options "
                       "set for this column",
                       column + 1, target->name, shown, ln_type_name(target->type));
            return -1;
        }
    } else {
        data_cell_class cell = data_classify(text, length, reader->decimal_comma, &value);
        if (cell == DATA_CELL_STRING) {
            return add_string(reader, chunk, column, slot, text, length, line);
        } else {
            *slot = value;
            stats->counts[cell]++;
        }
    }

    if (failed) {
        fail_dictionary(reader, chunk, line, column);
        return -1;
    }
    return 0;
}

/* Stores one cell of the second pass, which rereads needs_text columns as strings. */
static int store_text_cell(const csv_reader *reader, csv_chunk *chunk, size_t column, size_t row,
                           const char *text, size_t length, size_t line)
{
    const data_column *target = &reader->columns[column];
    int failed = 0;

    if (!target->needs_text)
        return 0;
    if (data_is_missing(&reader->markers, text, length)) {
        target->slots[row] = data_missing_slot();
        return 0;
    }
    target->slots[row] = data_stats_add_string(&chunk->stats[column], text, length, line, &failed);
    if (failed) {
        fail_dictionary(reader, chunk, line, column);
        return -1;
    }
    return 0;
}

/* Skips an empty line at the cursor; returns 1 when it did. */
static int skip_blank_line(csv_cursor *cursor)
{
    const char *p = cursor->p;

    if (*p == '\n') {
        cursor->p = p + 1;
        cursor->line++;
        return 1;
    }
    if (*p == '\r' && p + 1 == cursor->end) {
        cursor->p = p + 1;
        return 1;
    }
    if (*p == '\r' && p[1] == '\n') {
        cursor->p = p + 2;
        cursor->line++;
        return 1;
    }
    return 0;
}

/*
 * Drops the pages of a file mapping below up_to that the chunk has parsed,
 * so resident memory is the table and not the whole file too. The kernel
 * reads a dropped page back from the file if a second pass touches it.
 */
static void release_parsed_pages(const csv_reader *reader, const char **released, const char *up_to)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t from = ((uintptr_t)*released + page - 1) & ~(page - 1);
    uintptr_t to = (uintptr_t)up_to & ~(page - 1);

    if (!reader->release_input || to <= from)
        return;
    madvise((void *)from, to - from, MADV_DONTNEED);
    *released = (const char *)to;
}

static void parse_chunk(csv_reader *reader, csv_chunk *chunk)
{
    csv_cursor cursor = {reader->data + chunk->begin, reader->data + chunk->end, 0};
    size_t row = chunk->row_begin;
    size_t row_limit = chunk->row_begin + chunk->row_capacity;
    const char *released = cursor.p;
    const char *previous_record = cursor.p;

    while (cursor.p < cursor.end) {
        size_t record_line = cursor.line;
        size_t column = 0;
        int result;

        /* The previous record's pages stay mapped: its string cells are still queued. */
        if (previous_record - released >= RELEASE_STEP_BYTES)
            release_parsed_pages(reader, &released, previous_record);
        previous_record = cursor.p;

        if (skip_blank_line(&cursor))
            continue;
        if (row == row_limit) {
            chunk_fail(chunk, LN_ERR_INTERNAL, record_line, ": more records than the chunk scan "
                                                            "counted (a bug in lanner)");
            break;
        }

        do {
            const char *text;
            size_t length;
            size_t cell_line = cursor.line;
            result = read_field(reader, chunk, &cursor, column, &text, &length);
            if (result == FIELD_ERROR)
                break;
            if (column < reader->n_cols) {
                int stored = reader->pass == 1
                                 ? store_cell(reader, chunk, column, row, text, length, cell_line)
                                 : store_text_cell(reader, chunk, column, row, text, length,
                                                   cell_line);
                if (stored != 0) {
                    result = FIELD_ERROR;
                    break;
                }
            }
            column++;
        } while (result == FIELD_MORE);

        if (result == FIELD_ERROR)
            break;
        if (column != reader->n_cols) {
            chunk_fail(chunk, LN_ERR_PARSE, record_line, ": expected %zu fields, found %zu",
                       reader->n_cols, column);
            break;
        }
        row++;

        flush_strings(reader, chunk, chunk->n_previous);
        chunk->n_previous = chunk->n_pending;
        if (chunk->status != LN_OK)
            break;
    }
    flush_strings(reader, chunk, chunk->n_pending);
    chunk->n_rows = row - chunk->row_begin;
    chunk->n_lines = cursor.line;
    if (chunk->status == LN_OK)
        release_parsed_pages(reader, &released, cursor.end);
}

static void parse_chunk_task(void *context, size_t index)
{
    csv_reader *reader = context;
    csv_chunk *chunk = &reader->chunks[index];

    /* A chunk after a failed one cannot change the result. */
    if (index > atomic_load(&reader->first_failed_chunk))
        return;
    parse_chunk(reader, chunk);
    if (chunk->status == LN_OK)
        return;

    size_t seen = atomic_load(&reader->first_failed_chunk);
    while (index < seen && !atomic_compare_exchange_weak(&reader->first_failed_chunk, &seen, index))
        ;
}

/* ---- chunking ---- */

typedef struct scan_range {
    size_t begin;
    size_t end;
    int parity;              /* quotes in the range, modulo 2 */
    size_t newlines[2];      /* line breaks after an even / odd number of quotes in the range */
    size_t first[2];         /* offset just after the first such line break, or NO_POSITION */
} scan_range;

typedef struct scan_job {
    const char *data;
    scan_range *ranges;
} scan_job;

static inline int word_has_byte(uint64_t word, unsigned char byte)
{
    uint64_t x = word ^ (0x0101010101010101ull * byte);

    return ((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull) != 0;
}

static void scan_range_task(void *context, size_t index)
{
    scan_job *job = context;
    scan_range *range = &job->ranges[index];
    const char *data = job->data;
    size_t i = range->begin;
    int parity = 0;

    range->newlines[0] = range->newlines[1] = 0;
    range->first[0] = range->first[1] = NO_POSITION;
    while (i < range->end) {
        /* Skip eight bytes at a time while they hold no quote and no line break. */
        if (i + 8 <= range->end) {
            uint64_t word;
            memcpy(&word, data + i, 8);
            if (!word_has_byte(word, '"') && !word_has_byte(word, '\n')) {
                i += 8;
                continue;
            }
        }
        char c = data[i++];
        if (c == '"') {
            parity ^= 1;
        } else if (c == '\n') {
            if (range->first[parity] == NO_POSITION)
                range->first[parity] = i;
            range->newlines[parity]++;
        }
    }
    range->parity = parity;
}

/*
 * Cuts the body into chunks that start at record boundaries and gives each
 * an upper bound on its rows (line breaks outside quotes, plus one for a last
 * record without a line break). Returns the total row bound.
 */
static size_t plan_chunks(csv_reader *reader, scan_range *ranges, size_t n_ranges)
{
    size_t body = reader->size - reader->body_begin;
    scan_job job = {reader->data, ranges};

    for (size_t i = 0; i < n_ranges; i++) {
        ranges[i].begin = reader->body_begin + body / n_ranges * i;
        ranges[i].end = i + 1 == n_ranges ? reader->size : reader->body_begin + body / n_ranges * (i + 1);
    }
    data_parallel_for(n_ranges, reader->threads, scan_range_task, &job);

    /* records: line breaks outside quotes before the current range start. */
    size_t records = 0;
    int state = 0;
    size_t n_chunks = 0;
    size_t chunk_records = 0;
    for (size_t i = 0; i < n_ranges; i++) {
        size_t start = i == 0 ? reader->body_begin : ranges[i].first[state];
        if (start != NO_POSITION) {
            size_t start_records = i == 0 ? 0 : records + 1;
            if (n_chunks > 0) {
                reader->chunks[n_chunks - 1].end = start;
                reader->chunks[n_chunks - 1].row_capacity = start_records - chunk_records;
            }
            reader->chunks[n_chunks].begin = start;
            reader->chunks[n_chunks].row_begin = start_records;
            chunk_records = start_records;
            n_chunks++;
        }
        records += ranges[i].newlines[state];
        state ^= ranges[i].parity;
    }
    reader->chunks[n_chunks - 1].end = reader->size;
    reader->chunks[n_chunks - 1].row_capacity = records + 1 - chunk_records;
    reader->n_chunks = n_chunks;
    return records + 1;
}

static size_t choose_range_count(const csv_reader *reader, size_t chunk_bytes)
{
    size_t body = reader->size - reader->body_begin;
    size_t count;

    if (chunk_bytes > 0)
        count = body / chunk_bytes + 1;
    else if (reader->threads <= 1)
        count = 1;
    else
        count = body / MIN_CHUNK_BYTES < (size_t)reader->threads ? body / MIN_CHUNK_BYTES + 1
                                                                 : (size_t)reader->threads;
    if (count > MAX_CHUNKS)
        count = MAX_CHUNKS;
    if (count > body)
        count = body > 0 ? body : 1;
    return count;
}

/* ---- header ---- */

/* Picks the candidate delimiter found the same number of times on each sampled line, most often first. */
static char detect_delimiter(const char *p, const char *end, int decimal_comma)
{
    static const char candidates[] = {',', ';', '\t', '|'};
    size_t counts[4][SNIFF_LINES] = {{0}};
    size_t lines = 0;
    int in_quotes = 0;
    const char *limit = end - p > SNIFF_BYTES ? p + SNIFF_BYTES : end;

    for (; p < limit && lines < SNIFF_LINES; p++) {
        if (*p == '"') {
            in_quotes = !in_quotes;
        } else if (!in_quotes && *p == '\n') {
            lines++;
        } else if (!in_quotes) {
            for (int c = 0; c < 4; c++) {
                if (*p == candidates[c])
                    counts[c][lines]++;
            }
        }
    }
    /* A last line cut by the sample limit does not take part in the comparison. */
    size_t complete = p == end && lines < SNIFF_LINES ? lines + 1 : lines;
    if (complete == 0)
        complete = 1;

    char best = ',';
    int best_consistent = -1;
    size_t best_count = 0;
    for (int c = 0; c < 4; c++) {
        if (decimal_comma && candidates[c] == ',')
            continue;
        size_t header = counts[c][0];
        if (header == 0)
            continue;
        int consistent = 1;
        for (size_t line = 1; line < complete && line < SNIFF_LINES; line++) {
            if (counts[c][line] != header && counts[c][line] != 0)
                consistent = 0;
        }
        if (consistent > best_consistent || (consistent == best_consistent && header > best_count)) {
            best = candidates[c];
            best_consistent = consistent;
            best_count = header;
        }
    }
    if (best_consistent < 0 && decimal_comma)
        return 0;
    return best;
}

typedef struct header_names {
    char **names;
    size_t count;
    size_t capacity;
} header_names;

static void free_names(header_names *names)
{
    for (size_t i = 0; i < names->count; i++)
        free(names->names[i]);
    free(names->names);
}

/* Reads the header record into names; the error goes into chunk. */
static int read_header(const csv_reader *reader, csv_chunk *chunk, csv_cursor *cursor,
                       header_names *names)
{
    int result;

    do {
        const char *text;
        size_t length;

        if (names->count >= LN_MAX_COLUMNS) {
            chunk_fail(chunk, LN_ERR_LIMIT, 0, ": more than %d columns, the maximum",
                       LN_MAX_COLUMNS);
            return -1;
        }
        result = read_field(reader, chunk, cursor, names->count, &text, &length);
        if (result == FIELD_ERROR)
            return -1;
        if (names->count == names->capacity) {
            size_t capacity = names->capacity ? names->capacity * 2 : 32;
            char **grown = realloc(names->names, capacity * sizeof *grown);
            if (grown == NULL) {
                chunk_fail(chunk, LN_ERR_NOMEM, 0, ": out of memory reading the header");
                return -1;
            }
            names->names = grown;
            names->capacity = capacity;
        }
        names->names[names->count] = strndup(text, length);
        if (names->names[names->count] == NULL) {
            chunk_fail(chunk, LN_ERR_NOMEM, 0, ": out of memory reading the header");
            return -1;
        }
        names->count++;
    } while (result == FIELD_MORE);
    return 0;
}

/* Checks names: empty ones only at the end (their columns are dropped), no duplicates. */
static int check_header_names(csv_reader *reader, csv_chunk *chunk, const header_names *names)
{
    size_t named = names->count;
    ln_dict *seen = ln_dict_new();

    while (named > 0 && names->names[named - 1][0] == '\0')
        named--;
    if (named == 0) {
        chunk_fail(chunk, LN_ERR_PARSE, 0, ": the header row has no column names");
        ln_dict_release(seen);
        return -1;
    }
    if (seen == NULL) {
        chunk_fail(chunk, LN_ERR_NOMEM, 0, ": out of memory reading the header");
        return -1;
    }

    for (size_t i = 0; i < named; i++) {
        const char *name = names->names[i];
        size_t length = strlen(name);
        if (length == 0) {
            chunk_fail(chunk, LN_ERR_PARSE, 0,
                       ", column %zu: empty column name in the header; name every column", i + 1);
            break;
        }
        int32_t before = ln_dict_find(seen, name, length);
        if (before >= 0) {
            chunk_fail(chunk, LN_ERR_PARSE, 0,
                       ", column %zu: duplicate column name '%s' (also column %d); rename one", i + 1,
                       name, before + 1);
            break;
        }
        if (ln_dict_intern(seen, name, length) < 0) {
            chunk_fail(chunk, LN_ERR_NOMEM, 0, ": out of memory reading the header");
            break;
        }
    }
    ln_dict_release(seen);
    if (chunk->status != LN_OK)
        return -1;
    for (size_t i = named; i < names->count; i++)
        reader->dropped[i] = 1;
    return 0;
}

static ln_status apply_overrides(csv_reader *reader, const ln_load_options *options, ln_error *err)
{
    if (options == NULL || options->n_overrides == 0)
        return LN_OK;
    if (options->override_names == NULL || options->override_types == NULL)
        return ln_error_set(err, LN_ERR_CONFIG, "type overrides are given without names or types");

    for (size_t i = 0; i < options->n_overrides; i++) {
        const char *name = options->override_names[i];
        ln_type type = options->override_types[i];
        size_t column = 0;

        if ((int)type < LN_TYPE_INT || type > LN_TYPE_TEXT)
            return ln_error_set(err, LN_ERR_CONFIG, "type override %zu has an invalid type (%d)",
                                i + 1, (int)type);
        while (column < reader->n_cols &&
               (reader->dropped[column] || strcmp(reader->columns[column].name, name) != 0))
            column++;
        if (column == reader->n_cols && options->overrides_optional)
            continue;
        if (column == reader->n_cols)
            return ln_error_set(err, LN_ERR_NOT_FOUND,
                                "%s: type override names column '%s', which is not in the header",
                                reader->source, name);
        if (reader->columns[column].forced && reader->columns[column].type != type)
            return ln_error_set(err, LN_ERR_CONFIG, "column '%s' has two different type overrides",
                                name);
        reader->columns[column].forced = 1;
        reader->columns[column].type = type;
    }
    return LN_OK;
}

static ln_status report_chunk_error(const csv_reader *reader, const csv_chunk *chunk, ln_error *err)
{
    return ln_error_set(err, chunk->status, "%s line %zu%s", reader->source,
                        chunk->first_line + chunk->error_line, chunk->error_text);
}

/* Reads the header and sets up the columns; the cursor ends at the first body byte. */
static ln_status setup_columns(csv_reader *reader, const ln_load_options *options, ln_error *err)
{
    csv_chunk header_chunk = {0};
    header_names names = {0};
    const char *p = reader->data;
    const char *end = reader->data + reader->size;
    size_t line = 1;

    if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;
    csv_cursor cursor = {p, end, 0};
    while (cursor.p < end && skip_blank_line(&cursor))
        ;
    if (cursor.p == end)
        return ln_error_set(err, LN_ERR_PARSE, "%s: empty file (no header row)", reader->source);
    line += cursor.line;
    cursor.line = 0;

    if (reader->delimiter == 0)
        reader->delimiter = detect_delimiter(cursor.p, end, reader->decimal_comma);
    if (reader->delimiter == 0) {
        /* Only a decimal comma leaves no candidate. Then the file has one column, unless the header contains commas. */
        const char *line_end = memchr(cursor.p, '\n', (size_t)(end - cursor.p));
        if (memchr(cursor.p, ',', (size_t)((line_end ? line_end : end) - cursor.p)) != NULL)
            return ln_error_set(err, LN_ERR_CONFIG,
                                "%s: a decimal comma needs a delimiter other than a comma, and the header line "
                                "has no ';', tab or '|'; set the delimiter or drop the decimal comma option",
                                reader->source);
        reader->delimiter = ';';
    }
    memset(reader->stop, 0, sizeof reader->stop);
    reader->stop[(unsigned char)reader->delimiter] = 1;
    reader->stop['\n'] = reader->stop['\r'] = reader->stop['"'] = 1;
    for (int byte = 0x80; byte < 256; byte++)
        reader->stop[byte] = 1;

    header_chunk.first_line = line;
    ln_status status = LN_OK;
    if (read_header(reader, &header_chunk, &cursor, &names) != 0) {
        status = report_chunk_error(reader, &header_chunk, err);
        goto done;
    }

    reader->n_cols = names.count;
    reader->columns = calloc(names.count, sizeof *reader->columns);
    reader->dropped = calloc(names.count, sizeof *reader->dropped);
    if (reader->columns == NULL || reader->dropped == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->source);
        goto done;
    }
    if (check_header_names(reader, &header_chunk, &names) != 0) {
        status = report_chunk_error(reader, &header_chunk, err);
        goto done;
    }
    for (size_t i = 0; i < names.count; i++) {
        reader->columns[i].name = names.names[i];
        names.names[i] = NULL;
    }
    reader->body_begin = (size_t)(cursor.p - reader->data);
    reader->body_first_line = line + cursor.line;
    status = apply_overrides(reader, options, err);

done:
    free_names(&names);
    free(header_chunk.scratch);
    return status;
}

/* ---- finishing ---- */

/* Logs the stray cells of a column that would have had family's type without them. */
static void warn_stray_cells(const csv_reader *reader, size_t column, int family,
                             size_t strays, size_t non_missing)
{
    char examples[400] = "";
    size_t used = 0;
    int shown = 0;

    for (size_t k = 0; k < reader->n_chunks && shown < DATA_STRAY_EXAMPLES; k++) {
        const data_column_stats *stats = &reader->chunks[k].stats[column];
        for (int e = 0; e < stats->n_examples && shown < DATA_STRAY_EXAMPLES; e++) {
            char value[80];
            size_t length;
            const char *text = data_strings_get(stats->strings, stats->examples[e].code, &length);
            data_quote_value(text, length, value, sizeof value);
            int written = snprintf(examples + used, sizeof examples - used, "%sline %zu '%s'",
                                   shown ? ", " : "",
                                   reader->chunks[k].first_line + stats->examples[e].line, value);
            if (written > 0 && (size_t)written < sizeof examples - used)
                used += (size_t)written;
            shown++;
        }
    }
    ln_log(LN_LOG_WARN,
           "%s: column '%s' would be %s but %zu of its %zu values are not, so it is loaded as a "
           "category (%s); add those values to the missing markers or override the column type",
           reader->source, reader->columns[column].name, ln_type_name((ln_type)family), strays,
           non_missing, examples);
}

/* Sums the chunks' counts, decides each non-forced column's type and logs stray cells. */
static int decide_types(csv_reader *reader, size_t *non_missing)
{
    int any_needs_text = 0;

    for (size_t c = 0; c < reader->n_cols; c++) {
        data_column *column = &reader->columns[c];
        size_t counts[DATA_CELL_CLASS_COUNT] = {0};

        if (reader->dropped[c])
            continue;
        for (size_t k = 0; k < reader->n_chunks; k++) {
            for (int cell = 0; cell < DATA_CELL_CLASS_COUNT; cell++)
                counts[cell] += reader->chunks[k].stats[c].counts[cell];
        }
        non_missing[c] = 0;
        for (int cell = DATA_CELL_MISSING + 1; cell < DATA_CELL_CLASS_COUNT; cell++)
            non_missing[c] += counts[cell];
        if (column->forced)
            continue;

        int stray_family;
        column->type = data_infer_type(counts, &column->needs_text, &stray_family);
        if (stray_family >= 0)
            warn_stray_cells(reader, c, stray_family, counts[DATA_CELL_STRING], non_missing[c]);
        if (column->needs_text) {
            any_needs_text = 1;
            for (size_t k = 0; k < reader->n_chunks; k++) {
                data_column_stats *stats = &reader->chunks[k].stats[c];
                data_strings_free(stats->strings);
                memset(stats, 0, sizeof *stats);
            }
        }
    }
    return any_needs_text;
}

static void reparse_chunk_task(void *context, size_t index)
{
    csv_reader *reader = context;

    parse_chunk(reader, &reader->chunks[index]);
}

/* Moves each chunk's rows down so the rows of all chunks are contiguous (blank lines leave gaps). */
static size_t compact_rows(csv_reader *reader)
{
    size_t next = 0;

    for (size_t k = 0; k < reader->n_chunks; k++) {
        csv_chunk *chunk = &reader->chunks[k];
        if (chunk->row_begin != next && chunk->n_rows > 0) {
            for (size_t c = 0; c < reader->n_cols; c++) {
                if (!reader->dropped[c])
                    memmove(reader->columns[c].slots + next,
                            reader->columns[c].slots + chunk->row_begin,
                            chunk->n_rows * sizeof(double));
            }
        }
        chunk->row_begin = next;
        next += chunk->n_rows;
    }
    return next;
}

typedef struct finish_job {
    csv_reader *reader;
    size_t n_rows;
    const size_t *non_missing;
    int32_t **codes;
    ln_dict **dicts;
    ln_error *errors;
} finish_job;

/* Merges a string column's chunk dictionaries and turns its slots into codes. */
static void finish_column_task(void *context, size_t c)
{
    finish_job *job = context;
    csv_reader *reader = job->reader;
    data_column *column = &reader->columns[c];
    size_t n_chunks = reader->n_chunks;

    if (reader->dropped[c] || ln_type_is_numeric(column->type))
        return;

    data_strings **part_strings = malloc(n_chunks * sizeof *part_strings);
    size_t *part_begin = malloc(n_chunks * sizeof *part_begin);
    size_t *part_rows = malloc(n_chunks * sizeof *part_rows);
    if (part_strings == NULL || part_begin == NULL || part_rows == NULL) {
        ln_error_set(&job->errors[c], LN_ERR_NOMEM, "out of memory");
    } else {
        for (size_t k = 0; k < n_chunks; k++) {
            part_strings[k] = reader->chunks[k].stats[c].strings;
            part_begin[k] = reader->chunks[k].row_begin;
            part_rows[k] = reader->chunks[k].n_rows;
        }
        job->codes[c] = data_merge_strings(column->name, column->slots, job->n_rows, part_strings,
                                           part_begin, part_rows, n_chunks, &job->dicts[c],
                                           &job->errors[c]);
    }
    free(part_strings);
    free(part_begin);
    free(part_rows);
    if (job->codes[c] == NULL)
        return;

    free(column->slots);
    column->slots = NULL;
    if (!column->forced)
        column->type = data_string_type((size_t)ln_dict_count(job->dicts[c]), job->non_missing[c]);
}

/* Hands the kept columns (all but dropped ones) to a new table; what it takes is set to NULL. */
static ln_status build_table(csv_reader *reader, int32_t **codes, ln_dict **dicts, size_t n_rows,
                             ln_table **out, ln_error *err)
{
    size_t n_cols = reader->n_cols;
    data_column *kept = calloc(n_cols, sizeof *kept);
    int32_t **kept_codes = calloc(n_cols, sizeof *kept_codes);
    ln_dict **kept_dicts = calloc(n_cols, sizeof *kept_dicts);
    size_t *origin = calloc(n_cols, sizeof *origin);
    size_t n_kept = 0;
    ln_status status = LN_OK;

    if (kept == NULL || kept_codes == NULL || kept_dicts == NULL || origin == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->source);
        goto done;
    }
    for (size_t c = 0; c < n_cols; c++) {
        if (reader->dropped[c])
            continue;
        kept[n_kept] = reader->columns[c];
        kept_codes[n_kept] = codes[c];
        kept_dicts[n_kept] = dicts[c];
        origin[n_kept] = c;
        n_kept++;
    }

    *out = data_build_table(kept, n_kept, kept_codes, kept_dicts, n_rows, err);
    if (*out == NULL)
        status = err != NULL ? err->status : LN_ERR_NOMEM;
    for (size_t i = 0; i < n_kept; i++) {
        reader->columns[origin[i]].slots = kept[i].slots;
        codes[origin[i]] = kept_codes[i];
        dicts[origin[i]] = kept_dicts[i];
    }

done:
    free(kept);
    free(kept_codes);
    free(kept_dicts);
    free(origin);
    return status;
}

static ln_status finish_table(csv_reader *reader, ln_table **out, ln_error *err)
{
    size_t n_cols = reader->n_cols;
    size_t *non_missing = calloc(n_cols, sizeof *non_missing);
    int32_t **codes = calloc(n_cols, sizeof *codes);
    ln_dict **dicts = calloc(n_cols, sizeof *dicts);
    ln_error *errors = calloc(n_cols, sizeof *errors);
    ln_status status = LN_OK;

    if (non_missing == NULL || codes == NULL || dicts == NULL || errors == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->source);
        goto done;
    }

    if (decide_types(reader, non_missing)) {
        reader->pass = 2;
        data_parallel_for(reader->n_chunks, reader->threads, reparse_chunk_task, reader);
        for (size_t k = 0; k < reader->n_chunks; k++) {
            if (reader->chunks[k].status != LN_OK) {
                status = report_chunk_error(reader, &reader->chunks[k], err);
                goto done;
            }
        }
    }

    size_t n_rows = compact_rows(reader);
    finish_job job = {reader, n_rows, non_missing, codes, dicts, errors};
    data_parallel_for(n_cols, reader->threads, finish_column_task, &job);
    for (size_t c = 0; c < n_cols; c++) {
        if (errors[c].status != LN_OK) {
            status = ln_error_set(err, errors[c].status, "%s: %s", reader->source,
                                  errors[c].message);
            goto done;
        }
    }

    status = build_table(reader, codes, dicts, n_rows, out, err);

done:
    if (codes != NULL && dicts != NULL) {
        for (size_t c = 0; c < n_cols; c++) {
            free(codes[c]);
            ln_dict_release(dicts[c]);
        }
    }
    free(non_missing);
    free(codes);
    free(dicts);
    free(errors);
    return status;
}

/* ---- driver ---- */

static ln_status check_options(const ln_load_options *options, ln_error *err)
{
    if (options == NULL)
        return LN_OK;

    unsigned char delimiter = (unsigned char)options->delimiter;
    if (delimiter == '"' || delimiter == '\n' || delimiter == '\r' || delimiter >= 0x80)
        return ln_error_set(err, LN_ERR_CONFIG,
                            "invalid delimiter 0x%02x; use an ASCII character other than a quote "
                            "or a line break",
                            delimiter);
    if (options->decimal_comma && options->delimiter == ',')
        return ln_error_set(err, LN_ERR_CONFIG,
                            "a decimal comma needs a delimiter other than a comma (such as ';')");
    return LN_OK;
}

static ln_status allocate_chunks(csv_reader *reader, size_t n_ranges, ln_error *err)
{
    reader->chunks = calloc(n_ranges, sizeof *reader->chunks);
    if (reader->chunks == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->source);
    reader->n_allocated_chunks = n_ranges;
    for (size_t k = 0; k < n_ranges; k++) {
        reader->chunks[k].stats = calloc(reader->n_cols, sizeof(data_column_stats));
        if (reader->chunks[k].stats == NULL)
            return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader->source);
    }
    return LN_OK;
}

static ln_status allocate_slots(csv_reader *reader, size_t row_bound, ln_error *err)
{
    for (size_t c = 0; c < reader->n_cols; c++) {
        if (reader->dropped[c])
            continue;
        if (row_bound > SIZE_MAX / sizeof(double))
            return ln_error_set(err, LN_ERR_NOMEM, "%s: too many rows", reader->source);
        reader->columns[c].slots = malloc(row_bound * sizeof(double));
        if (reader->columns[c].slots == NULL)
            return ln_error_set(err, LN_ERR_NOMEM,
                                "%s: out of memory allocating %zu rows for column '%s'",
                                reader->source, row_bound, reader->columns[c].name);
    }
    return LN_OK;
}

static void free_reader(csv_reader *reader)
{
    if (reader->chunks != NULL) {
        for (size_t k = 0; k < reader->n_allocated_chunks; k++) {
            csv_chunk *chunk = &reader->chunks[k];
            if (chunk->stats != NULL) {
                for (size_t c = 0; c < reader->n_cols; c++)
                    data_strings_free(chunk->stats[c].strings);
            }
            free(chunk->stats);
            free(chunk->scratch);
            free(chunk->pending);
        }
    }
    free(reader->chunks);
    if (reader->columns != NULL) {
        for (size_t c = 0; c < reader->n_cols; c++) {
            free(reader->columns[c].name);
            free(reader->columns[c].slots);
        }
    }
    free(reader->columns);
    free(reader->dropped);
}

/* Parses every chunk, then reports the first error in input order. */
static ln_status parse_body(csv_reader *reader, ln_error *err)
{
    atomic_init(&reader->first_failed_chunk, SIZE_MAX);
    reader->pass = 1;
    data_parallel_for(reader->n_chunks, reader->threads, parse_chunk_task, reader);

    for (size_t k = 0; k < reader->n_chunks; k++) {
        csv_chunk *chunk = &reader->chunks[k];
        chunk->first_line = k == 0 ? reader->body_first_line
                                   : reader->chunks[k - 1].first_line + reader->chunks[k - 1].n_lines;
        if (chunk->status != LN_OK)
            return report_chunk_error(reader, chunk, err);
    }
    return LN_OK;
}

/* Parses a buffer; release_input marks a file mapping whose parsed pages may be dropped. */
static ln_status parse_csv(const char *data, size_t size, const char *source_name,
                           const ln_load_options *options, size_t chunk_bytes, int release_input,
                           ln_table **out, ln_error *err)
{
    csv_reader reader = {0};
    scan_range *ranges = NULL;
    ln_status status;

    *out = NULL;
    if ((status = check_options(options, err)) != LN_OK)
        return status;

    reader.data = data;
    reader.size = size;
    reader.release_input = release_input;
    reader.source = source_name != NULL ? source_name : "<buffer>";
    reader.delimiter = options != NULL ? options->delimiter : 0;
    reader.decimal_comma = options != NULL && options->decimal_comma;
    reader.threads = data_thread_count(options);
    if ((status = data_markers_init(&reader.markers, options, err)) != LN_OK)
        return status;

    if ((status = setup_columns(&reader, options, err)) != LN_OK)
        goto done;

    size_t n_ranges = choose_range_count(&reader, chunk_bytes);
    ranges = calloc(n_ranges, sizeof *ranges);
    if (ranges == NULL) {
        status = ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", reader.source);
        goto done;
    }
    if ((status = allocate_chunks(&reader, n_ranges, err)) != LN_OK)
        goto done;
    size_t row_bound = plan_chunks(&reader, ranges, n_ranges);
    if ((status = allocate_slots(&reader, row_bound, err)) != LN_OK)
        goto done;
    status = parse_body(&reader, err);
    if (status == LN_OK)
        status = finish_table(&reader, out, err);

done:
    free(ranges);
    free_reader(&reader);
    return status;
}

ln_status data_csv_parse(const char *data, size_t size, const char *source_name,
                         const ln_load_options *options, size_t chunk_bytes, ln_table **out,
                         ln_error *err)
{
    return parse_csv(data, size, source_name, options, chunk_bytes, 0, out, err);
}

void ln_load_options_default(ln_load_options *options)
{
    memset(options, 0, sizeof *options);
}

ln_status ln_csv_read_buffer(const char *data, size_t size, const char *source_name,
                             const ln_load_options *options, ln_table **out, ln_error *err)
{
    return data_csv_parse(data, size, source_name, options, 0, out, err);
}

ln_status ln_csv_read(const char *path, const ln_load_options *options, ln_table **out,
                      ln_error *err)
{
    data_input input;
    ln_status status = data_input_open(&input, path, err);

    *out = NULL;
    if (status != LN_OK)
        return status;
    status = parse_csv(input.data, input.size, path, options, 0, input.mapping != NULL, out, err);
    data_input_close(&input);
    if (status == LN_OK)
        ln_log(LN_LOG_INFO, "loaded %zu rows and %zu columns from %s", (*out)->n_rows,
               (*out)->n_cols, path);
    return status;
}
