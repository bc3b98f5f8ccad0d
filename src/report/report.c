/*
 * ln_report_write_html: builds the page in memory, section by section, then
 * writes it to a temporary file in the target's folder and renames it over
 * the target, so a reader never sees a half-written report.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lanner/report.h"
#include "report/report_internal.h"

static ln_status build_page(report_buf *buf, const ln_report_input *input, const char *path, ln_error *err)
{
    report_section_head(buf, input);
    report_section_headline(buf, input);
    report_section_uncertainty(buf, input);
    if (input->multi_action) {
        report_section_actions(buf, input);
    } else {
        report_section_policy(buf, input);
    }
    report_section_comparison(buf, input);
    report_section_slices(buf, input);
    ln_status status = report_section_charts(buf, input, err);
    if (status == LN_OK) {
        status = report_section_action_charts(buf, input, err);
    }
    if (status != LN_OK) {
        return ln_error_prefix(err, "%s", path);
    }
    report_section_data(buf, input);
    report_section_footer(buf, input);

    if (buf->status == LN_ERR_LIMIT) {
        return ln_error_set(err, LN_ERR_LIMIT, "%s: the report would exceed %u bytes (REPORT_MAX_BYTES)", path,
                            REPORT_MAX_BYTES);
    }
    if (buf->status != LN_OK) {
        return ln_error_set(err, buf->status, "%s: out of memory building the report", path);
    }
    return LN_OK;
}

static ln_status write_all(int fd, const char *data, size_t length, const char *temp_path, ln_error *err)
{
    while (length > 0) {
        ssize_t written = write(fd, data, length);
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written < 0) {
            return ln_error_set(err, LN_ERR_IO, "%s: write failed: %s", temp_path, strerror(errno));
        }
        data += written;
        length -= (size_t)written;
    }
    return LN_OK;
}

/* Writes data to a new file beside path, then renames it to path. */
static ln_status write_file_atomically(const char *path, const char *data, size_t length, ln_error *err)
{
    size_t temp_size = strlen(path) + sizeof ".tmp.XXXXXX";
    char *temp_path = malloc(temp_size);
    if (temp_path == NULL) {
        return ln_error_set(err, LN_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(temp_path, temp_size, "%s.tmp.XXXXXX", path);

    int fd = mkstemp(temp_path);
    if (fd < 0) {
        ln_status status = ln_error_set(err, LN_ERR_IO, "%s: cannot create a temporary file beside it: %s", path,
                                        strerror(errno));
        free(temp_path);
        return status;
    }

    /* mkstemp creates the file readable by its owner only; a report is meant to be shared. */
    ln_status status = LN_OK;
    if (fchmod(fd, 0644) != 0) {
        status = ln_error_set(err, LN_ERR_IO, "%s: chmod failed: %s", temp_path, strerror(errno));
    }
    if (status == LN_OK) {
        status = write_all(fd, data, length, temp_path, err);
    }
    if (close(fd) != 0 && status == LN_OK) {
        status = ln_error_set(err, LN_ERR_IO, "%s: close failed: %s", temp_path, strerror(errno));
    }
    if (status == LN_OK && rename(temp_path, path) != 0) {
        status = ln_error_set(err, LN_ERR_IO, "%s: cannot rename %s to it: %s", path, temp_path, strerror(errno));
    }
    if (status != LN_OK) {
        unlink(temp_path);
    }
    free(temp_path);
    return status;
}

ln_status ln_report_write_html(const ln_report_input *input, const char *path, ln_error *err)
{
    assert(input != NULL);
    assert(path != NULL);

    report_buf buf;
    report_buf_init(&buf, REPORT_MAX_BYTES);
    ln_status status = build_page(&buf, input, path, err);
    if (status == LN_OK) {
        status = write_file_atomically(path, buf.data, buf.length, err);
    }
    report_buf_free(&buf);
    return status;
}
