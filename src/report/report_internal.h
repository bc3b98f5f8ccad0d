/*
 * Internals shared by the report writer's files: a bounded text buffer,
 * locale-independent number formatting, HTML escaping and a small SVG chart
 * layer. The page is built in memory and written to disk in one step.
 */
#ifndef LANNER_REPORT_INTERNAL_H
#define LANNER_REPORT_INTERNAL_H

#include <stddef.h>

#include "lanner/report.h"

/* Maximum size of one report page. Charts are downsampled, so a page with 1M test rows is far smaller. */
#define REPORT_MAX_BYTES (64u << 20)

/* Maximum points drawn per curve; longer curves are downsampled to about this many. */
#define REPORT_MAX_CURVE_POINTS 500

/* Features shown in the importance chart, and warnings listed before "and N more". */
#define REPORT_TOP_FEATURES 20
#define REPORT_MAX_WARNINGS 200

/* Bytes of a feature name shown in a chart label; longer names are cut and end in "...". */
#define REPORT_MAX_LABEL_BYTES 28

/*
 * A growable text buffer with a maximum. Appends after a failure do nothing,
 * so a section can append freely and the writer checks status once at the end.
 */
typedef struct report_buf {
    char *data;       /* NUL-terminated; owned, freed by report_buf_free */
    size_t length;
    size_t capacity;
    size_t max_bytes; /* REPORT_MAX_BYTES unless a test sets a smaller one */
    ln_status status; /* LN_OK, LN_ERR_NOMEM or LN_ERR_LIMIT after the first failed append */
} report_buf;

void report_buf_init(report_buf *buf, size_t max_bytes);
void report_buf_free(report_buf *buf);
void report_buf_append(report_buf *buf, const char *text, size_t length);
void report_buf_puts(report_buf *buf, const char *text);
void report_buf_printf(report_buf *buf, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Appends text with & < > " ' replaced by entities; NULL appends an em dash. */
void report_buf_escaped(report_buf *buf, const char *text);

/* Appends at most max_bytes of text, escaped, cut at a UTF-8 character boundary and ending in "..." when cut. */
void report_buf_escaped_prefix(report_buf *buf, const char *text, size_t max_bytes);

/* Size of a buffer that fits any string the report_format_* functions write. */
#define REPORT_NUMBER_MAX 64

/*
 * Formats value with a fixed number of decimals (0 to 9) and comma thousands
 * separators, as "12,345.68" or "-0.5", without the C library's locale. NaN
 * and infinities become an em dash. Magnitudes of 1e15 and above use
 * scientific notation ("1.23e+18"). Returns out.
 */
char *report_format_fixed(char out[REPORT_NUMBER_MAX], double value, int decimals);

/* Like report_format_fixed, with a "+" before positive values and a minus sign before negative ones. */
char *report_format_signed(char out[REPORT_NUMBER_MAX], double value, int decimals);

/* Formats value with about `digits` significant digits (1 to 9), as "0.137" or "1,250". */
char *report_format_significant(char out[REPORT_NUMBER_MAX], double value, int digits);

/* Formats a fraction as a percentage, as "2.1%" for 0.021 with one decimal. */
char *report_format_percent(char out[REPORT_NUMBER_MAX], double fraction, int decimals);

/* Formats a payoff with report_payoff_decimals(value) decimals. */
char *report_format_payoff(char out[REPORT_NUMBER_MAX], double value);

/* Returns the decimals a payoff is shown with: none from 100 up, one from 10 up, two below. */
int report_payoff_decimals(double value);

/* Formats a count with thousands separators, as "1,000,000". */
char *report_format_count(char out[REPORT_NUMBER_MAX], size_t count);

/*
 * A chart: an SVG of width x height pixels whose plot area maps data ranges
 * [x_min, x_max] and [y_min, y_max]; y_log draws y on a log10(1 + y) scale.
 */
typedef struct report_chart {
    double width, height;
    double left, right, top, bottom; /* margins in pixels around the plot area */
    double x_min, x_max, y_min, y_max;
    int y_log;          /* y drawn on a log10(1 + y) scale, for counts */
    int x_percent;      /* x tick labels as percentages of 1 */
    int y_categorical;  /* no y ticks or grid: bar charts label their own rows */
    int legend_at_bottom; /* legend in the lower right corner of the plot, else the upper right */
} report_chart;

/* One point series: n points, drawn as a line or as markers. */
typedef struct report_series {
    const double *x;
    const double *y;
    size_t n;
    const char *color;  /* CSS color */
    const char *label;  /* legend text, escaped when written */
    int dashed;
    int markers;        /* draw circles in place of a line */
} report_series;

void report_chart_init(report_chart *chart, double x_min, double x_max, double y_min, double y_max);
double report_chart_px(const report_chart *chart, double x);
double report_chart_py(const report_chart *chart, double y);

/* Opens the <svg> and draws the frame, grid, ticks, axis titles and the aria label. */
void report_chart_begin(report_buf *buf, const report_chart *chart, const char *title, const char *x_title,
                        const char *y_title);
void report_chart_series(report_buf *buf, const report_chart *chart, const report_series *series);
void report_chart_vline(report_buf *buf, const report_chart *chart, double x, const char *color, const char *label);
void report_chart_marker(report_buf *buf, const report_chart *chart, double x, double y, const char *color);
void report_chart_rect(report_buf *buf, const report_chart *chart, double x0, double y0, double x1, double y1,
                       const char *color);
void report_chart_label(report_buf *buf, double px, double py, const char *anchor, const char *text);
void report_chart_legend(report_buf *buf, const report_chart *chart, const report_series *series, size_t n);
void report_chart_end(report_buf *buf);

/* Appends a number as an SVG coordinate with one decimal. */
void report_buf_coord(report_buf *buf, double value);

/* Tick positions for [lo, hi]: a step of 1, 2 or 5 times a power of ten giving about `target` ticks. */
double report_tick_step(double lo, double hi, int target);

/*
 * A curve computed from scores and 0/1 labels, downsampled. x and y are
 * owned and freed by report_curve_free.
 */
typedef struct report_curve {
    double *x;
    double *y;
    size_t n;
} report_curve;

void report_curve_free(report_curve *curve);

/* One test or valid row for the curves. */
typedef struct report_scored {
    double score;
    double label;  /* 0 or 1 */
    double gain;   /* payoff if flagged minus payoff if not flagged; 0 when not computed */
} report_scored;

/*
 * Copies the rows with a finite score and a 0/1 label into *rows, sorted by
 * score, highest first; *n is their count. gains may be NULL. The caller
 * frees *rows. Returns LN_OK with *rows NULL when no row qualifies, or
 * LN_ERR_NOMEM.
 */
ln_status report_sort_by_score(const double *scores, const double *labels, const double *gains, size_t count,
                               report_scored **rows, size_t *n, ln_error *err);

/*
 * ROC curve (x false positive rate, y true positive rate) and
 * precision-recall curve (x recall, y precision) of sorted rows, one point
 * per distinct score, downsampled to about REPORT_MAX_CURVE_POINTS points.
 * Both leave curve empty when the rows lack a class the curve divides by.
 */
ln_status report_roc_curve(const report_scored *rows, size_t n, report_curve *curve, ln_error *err);
ln_status report_pr_curve(const report_scored *rows, size_t n, report_curve *curve, ln_error *err);

/* Sections of the page, each appended to buf in page order. */
void report_section_head(report_buf *buf, const ln_report_input *input);
void report_section_headline(report_buf *buf, const ln_report_input *input);
void report_section_policy(report_buf *buf, const ln_report_input *input);
void report_section_comparison(report_buf *buf, const ln_report_input *input);
ln_status report_section_charts(report_buf *buf, const ln_report_input *input, ln_error *err);
void report_section_data(report_buf *buf, const ln_report_input *input);
void report_section_footer(report_buf *buf, const ln_report_input *input);

/* Outcome sections (report_outcomes.c): intervals and production, a multi-action policy, its charts, slices. */
void report_section_uncertainty(report_buf *buf, const ln_report_input *input);
void report_section_actions(report_buf *buf, const ln_report_input *input);
ln_status report_section_action_charts(report_buf *buf, const ln_report_input *input, ln_error *err);
void report_section_slices(report_buf *buf, const ln_report_input *input);

/* Counts the rows whose label is 1. */
size_t report_count_positives(const double *labels, size_t rows);

#endif
