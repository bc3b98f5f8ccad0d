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

#include "lanner/io.h"
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

ln_status ln_report_write_html(const ln_report_input *input, const char *path, ln_error *err)
{
    assert(input != NULL);
    assert(path != NULL);

    report_buf buf;
    report_buf_init(&buf, REPORT_MAX_BYTES);
    ln_status status = build_page(&buf, input, path, err);
    if (status == LN_OK) {
        status = ln_write_file_atomic(path, buf.data, buf.length, err);
    }
    report_buf_free(&buf);
    return status;
}
