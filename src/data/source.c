/* Brings a CSV file into memory: mapped when plain, decompressed when gzip or zstd. */
#include "data/data_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* Largest first output buffer for data whose decompressed size is unknown. */
#define INITIAL_OUTPUT_BYTES ((size_t)256 << 20)

static const unsigned char gzip_magic[] = {0x1f, 0x8b};
static const unsigned char zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};

/* Grows a decompression buffer, doubling up to LN_MAX_DECOMPRESSED_BYTES. */
static ln_status grow_output(char **buffer, size_t *capacity, const char *path, ln_error *err)
{
    size_t limit = (size_t)LN_MAX_DECOMPRESSED_BYTES;

    if (*capacity >= limit)
        return ln_error_set(err, LN_ERR_LIMIT,
                            "%s: decompresses to more than %llu bytes, the maximum held in memory",
                            path, (unsigned long long)LN_MAX_DECOMPRESSED_BYTES);

    size_t new_capacity = *capacity * 2;
    if (new_capacity > limit)
        new_capacity = limit;
    char *grown = realloc(*buffer, new_capacity);
    if (grown == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory decompressing (%zu bytes)", path,
                            new_capacity);
    *buffer = grown;
    *capacity = new_capacity;
    return LN_OK;
}

static ln_status inflate_gzip(const unsigned char *input, size_t size, const char *path,
                              char **out, size_t *out_size, ln_error *err)
{
    z_stream stream = {0};
    /* A first guess of 4x the compressed size; grow_output doubles it as needed. */
    size_t capacity = size < INITIAL_OUTPUT_BYTES / 4 ? size * 4 + 4096 : INITIAL_OUTPUT_BYTES;
    char *buffer = malloc(capacity);
    size_t used = 0;
    size_t offset = 0;
    int ended = 0;
    ln_status status = LN_OK;

    if (buffer == NULL)
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory decompressing", path);
    /* 15 + 32: the largest window, with the gzip or zlib header detected. */
    if (inflateInit2(&stream, 15 + 32) != Z_OK) {
        free(buffer);
        return ln_error_set(err, LN_ERR_NOMEM, "%s: cannot start gzip decompression", path);
    }

    while (!ended) {
        if (used == capacity && (status = grow_output(&buffer, &capacity, path, err)) != LN_OK)
            break;

        /* zlib counts in uInt, so feed at most 1 GiB at a time. */
        uInt in_size = size - offset > (1u << 30) ? (1u << 30) : (uInt)(size - offset);
        uInt out_size_step = capacity - used > (1u << 30) ? (1u << 30) : (uInt)(capacity - used);
        stream.next_in = (Bytef *)(input + offset);
        stream.avail_in = in_size;
        stream.next_out = (Bytef *)(buffer + used);
        stream.avail_out = out_size_step;

        int rc = inflate(&stream, Z_NO_FLUSH);
        used += out_size_step - stream.avail_out;
        offset += in_size - stream.avail_in;

        if (rc == Z_STREAM_END) {
            /* Concatenated gzip members form one file (as gzip -c a b > ab.gz writes). */
            if (size - offset >= 2 && memcmp(input + offset, gzip_magic, 2) == 0 &&
                inflateReset(&stream) == Z_OK)
                continue;
            ended = 1;
        } else if (rc == Z_BUF_ERROR && offset == size) {
            status = ln_error_set(err, LN_ERR_CORRUPT, "%s: gzip data ends early (truncated file)",
                                  path);
            break;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            status = ln_error_set(err, LN_ERR_CORRUPT, "%s: invalid gzip data near byte %zu (%s)",
                                  path, offset, stream.msg ? stream.msg : "zlib error");
            break;
        } else if (rc == Z_OK && offset == size && stream.avail_out != 0) {
            status = ln_error_set(err, LN_ERR_CORRUPT, "%s: gzip data ends early (truncated file)",
                                  path);
            break;
        }
    }
    inflateEnd(&stream);
    if (status != LN_OK) {
        free(buffer);
        return status;
    }
    *out = buffer;
    *out_size = used;
    return LN_OK;
}

static ln_status decompress_zstd(const unsigned char *input, size_t size, const char *path,
                                 char **out, size_t *out_size, ln_error *err)
{
    ZSTD_DStream *stream = ZSTD_createDStream();
    unsigned long long hint = ZSTD_getFrameContentSize(input, size);
    size_t capacity = size < INITIAL_OUTPUT_BYTES / 4 ? size * 4 + 4096 : INITIAL_OUTPUT_BYTES;
    size_t used = 0;
    size_t last = 1;
    ln_status status = LN_OK;

    if (hint != ZSTD_CONTENTSIZE_UNKNOWN && hint != ZSTD_CONTENTSIZE_ERROR &&
        hint < LN_MAX_DECOMPRESSED_BYTES)
        capacity = (size_t)hint + 1;
    char *buffer = malloc(capacity);
    if (stream == NULL || buffer == NULL) {
        ZSTD_freeDStream(stream);
        free(buffer);
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory decompressing", path);
    }
    ZSTD_initDStream(stream);

    ZSTD_inBuffer in = {input, size, 0};
    while (in.pos < in.size || last != 0) {
        if (used == capacity && (status = grow_output(&buffer, &capacity, path, err)) != LN_OK)
            break;
        ZSTD_outBuffer outbuf = {buffer + used, capacity - used, 0};
        size_t before = in.pos;
        last = ZSTD_decompressStream(stream, &outbuf, &in);
        used += outbuf.pos;
        if (ZSTD_isError(last)) {
            status = ln_error_set(err, LN_ERR_CORRUPT, "%s: invalid zstd data (%s)", path,
                                  ZSTD_getErrorName(last));
            break;
        }
        if (in.pos == in.size && last != 0 && outbuf.pos == 0 && before == in.pos) {
            status = ln_error_set(err, LN_ERR_CORRUPT, "%s: zstd data ends early (truncated file)",
                                  path);
            break;
        }
    }
    ZSTD_freeDStream(stream);
    if (status != LN_OK) {
        free(buffer);
        return status;
    }
    *out = buffer;
    *out_size = used;
    return LN_OK;
}

ln_status data_input_open(data_input *input, const char *path, ln_error *err)
{
    memset(input, 0, sizeof *input);

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ln_error_set(err, errno == ENOENT ? LN_ERR_NOT_FOUND : LN_ERR_IO,
                            "%s: cannot open: %s", path, strerror(errno));

    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        close(fd);
        return ln_error_set(err, LN_ERR_IO, "%s: not a regular file", path);
    }
    if (info.st_size == 0) {
        close(fd);
        input->data = "";
        return LN_OK;
    }

    size_t size = (size_t)info.st_size;
    void *mapping = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (mapping == MAP_FAILED)
        return ln_error_set(err, LN_ERR_IO, "%s: cannot map file: %s", path, strerror(errno));
    madvise(mapping, size, MADV_SEQUENTIAL);

    const unsigned char *bytes = mapping;
    ln_status status = LN_OK;
    if (size >= 2 && memcmp(bytes, gzip_magic, 2) == 0)
        status = inflate_gzip(bytes, size, path, &input->heap, &input->size, err);
    else if (size >= 4 && memcmp(bytes, zstd_magic, 4) == 0)
        status = decompress_zstd(bytes, size, path, &input->heap, &input->size, err);
    else {
        input->mapping = mapping;
        input->mapping_size = size;
        input->data = mapping;
        input->size = size;
        return LN_OK;
    }

    munmap(mapping, size);
    if (status == LN_OK)
        input->data = input->heap;
    return status;
}

void data_input_close(data_input *input)
{
    if (input->mapping != NULL)
        munmap(input->mapping, input->mapping_size);
    free(input->heap);
    memset(input, 0, sizeof *input);
}
