/*
 * A small inline-SVG chart layer: axes with ticks, lines, markers, bars and
 * a legend. Data coordinates map linearly (or log10(1 + y) for counts) onto
 * the plot area inside the chart's margins.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "report/report_internal.h"

#define AXIS_COLOR "#6b7280"
#define GRID_COLOR "#e5e7eb"

/* Pixel coordinates are clamped so that a point far outside the ranges still prints as a finite number. */
#define MAX_PIXEL 1e5

void report_chart_init(report_chart *chart, double x_min, double x_max, double y_min, double y_max)
{
    memset(chart, 0, sizeof *chart);
    chart->width = 520;
    chart->height = 330;
    chart->left = 64;
    chart->right = 16;
    chart->top = 16;
    chart->bottom = 46;

    /* A zero or invalid range would divide by zero; widen it around its value. */
    if (!(x_max > x_min)) {
        x_min = isfinite(x_min) ? x_min - 1 : 0;
        x_max = x_min + 2;
    }
    if (!(y_max > y_min)) {
        y_min = isfinite(y_min) ? y_min - 1 : 0;
        y_max = y_min + 2;
    }
    chart->x_min = x_min;
    chart->x_max = x_max;
    chart->y_min = y_min;
    chart->y_max = y_max;
}

static double clamp_pixel(double value)
{
    if (!(value > -MAX_PIXEL)) {
        return -MAX_PIXEL;
    }
    return value < MAX_PIXEL ? value : MAX_PIXEL;
}

static double y_scale(const report_chart *chart, double y)
{
    if (!chart->y_log) {
        return y;
    }
    return log10(1.0 + fmax(y, 0));
}

double report_chart_px(const report_chart *chart, double x)
{
    double plot_width = chart->width - chart->left - chart->right;
    return clamp_pixel(chart->left + (x - chart->x_min) / (chart->x_max - chart->x_min) * plot_width);
}

double report_chart_py(const report_chart *chart, double y)
{
    double plot_height = chart->height - chart->top - chart->bottom;
    double lo = y_scale(chart, chart->y_min);
    double hi = y_scale(chart, chart->y_max);
    if (!(hi > lo)) {
        hi = lo + 1;
    }
    return clamp_pixel(chart->top + plot_height - (y_scale(chart, y) - lo) / (hi - lo) * plot_height);
}

double report_tick_step(double lo, double hi, int target)
{
    double span = hi - lo;
    if (!(span > 0) || !isfinite(span) || target < 1) {
        return 1;
    }

    double raw = span / target;
    double power = pow(10, floor(log10(raw)));
    double fraction = raw / power;
    double nice = 10;
    if (fraction < 1.5) {
        nice = 1;
    } else if (fraction < 3.5) {
        nice = 2;
    } else if (fraction < 7.5) {
        nice = 5;
    }
    return nice * power;
}

/* Decimals needed to print multiples of step exactly. */
static int step_decimals(double step)
{
    int decimals = (int)-floor(log10(step) + 1e-9);
    if (decimals < 0) {
        return 0;
    }
    return decimals > 9 ? 9 : decimals;
}

void report_chart_label(report_buf *buf, double px, double py, const char *anchor, const char *text)
{
    report_buf_puts(buf, "<text x=\"");
    report_buf_coord(buf, px);
    report_buf_puts(buf, "\" y=\"");
    report_buf_coord(buf, py);
    report_buf_printf(buf, "\" text-anchor=\"%s\">", anchor);
    report_buf_escaped(buf, text);
    report_buf_puts(buf, "</text>");
}

static void line(report_buf *buf, double x1, double y1, double x2, double y2, const char *color, const char *extra)
{
    report_buf_puts(buf, "<line x1=\"");
    report_buf_coord(buf, x1);
    report_buf_puts(buf, "\" y1=\"");
    report_buf_coord(buf, y1);
    report_buf_puts(buf, "\" x2=\"");
    report_buf_coord(buf, x2);
    report_buf_puts(buf, "\" y2=\"");
    report_buf_coord(buf, y2);
    report_buf_printf(buf, "\" stroke=\"%s\"%s/>", color, extra);
}

static void draw_x_ticks(report_buf *buf, const report_chart *chart)
{
    double step = report_tick_step(chart->x_min, chart->x_max, 5);
    double label_step = chart->x_percent ? step * 100 : step;
    int decimals = step_decimals(label_step);
    double plot_top = chart->top;
    double plot_bottom = chart->height - chart->bottom;

    for (double tick = ceil(chart->x_min / step - 1e-9) * step; tick <= chart->x_max + step * 1e-9; tick += step) {
        double px = report_chart_px(chart, tick);
        line(buf, px, plot_top, px, plot_bottom, GRID_COLOR, "");

        char text[REPORT_NUMBER_MAX];
        if (chart->x_percent) {
            report_format_percent(text, tick, decimals);
        } else {
            report_format_fixed(text, tick, decimals);
        }
        report_chart_label(buf, px, plot_bottom + 16, "middle", text);
    }
}

static void draw_y_tick(report_buf *buf, const report_chart *chart, double tick, int decimals)
{
    double py = report_chart_py(chart, tick);
    line(buf, chart->left, py, chart->width - chart->right, py, GRID_COLOR, "");

    char text[REPORT_NUMBER_MAX];
    report_format_fixed(text, tick, decimals);
    report_chart_label(buf, chart->left - 6, py + 4, "end", text);
}

static void draw_y_ticks(report_buf *buf, const report_chart *chart)
{
    if (chart->y_categorical) {
        return;
    }

    if (chart->y_log) {
        for (double tick = 1; tick <= chart->y_max * 1.0001; tick *= 10) {
            draw_y_tick(buf, chart, tick, 0);
        }
        return;
    }

    double step = report_tick_step(chart->y_min, chart->y_max, 5);
    int decimals = step_decimals(step);
    for (double tick = ceil(chart->y_min / step - 1e-9) * step; tick <= chart->y_max + step * 1e-9; tick += step) {
        draw_y_tick(buf, chart, tick, decimals);
    }
}

static void draw_axis_titles(report_buf *buf, const report_chart *chart, const char *x_title, const char *y_title)
{
    double plot_center_x = (chart->left + chart->width - chart->right) / 2;
    double plot_center_y = (chart->top + chart->height - chart->bottom) / 2;

    report_buf_puts(buf, "<g class=\"axis-title\">");
    report_chart_label(buf, plot_center_x, chart->height - 8, "middle", x_title);
    if (y_title != NULL) {
        report_buf_puts(buf, "<g transform=\"translate(14 ");
        report_buf_coord(buf, plot_center_y);
        report_buf_puts(buf, ") rotate(-90)\">");
        report_chart_label(buf, 0, 0, "middle", y_title);
        report_buf_puts(buf, "</g>");
    }
    report_buf_puts(buf, "</g>");
}

void report_chart_begin(report_buf *buf, const report_chart *chart, const char *title, const char *x_title,
                        const char *y_title)
{
    report_buf_puts(buf, "<svg class=\"chart\" viewBox=\"0 0 ");
    report_buf_coord(buf, chart->width);
    report_buf_puts(buf, " ");
    report_buf_coord(buf, chart->height);
    report_buf_puts(buf, "\" role=\"img\" aria-label=\"");
    report_buf_escaped(buf, title);
    report_buf_puts(buf, "\">");

    report_buf_puts(buf, "<g class=\"ticks\">");
    draw_x_ticks(buf, chart);
    draw_y_ticks(buf, chart);
    report_buf_puts(buf, "</g>");

    double plot_bottom = chart->height - chart->bottom;
    line(buf, chart->left, plot_bottom, chart->width - chart->right, plot_bottom, AXIS_COLOR, "");
    line(buf, chart->left, chart->top, chart->left, plot_bottom, AXIS_COLOR, "");
    draw_axis_titles(buf, chart, x_title, y_title);
}

void report_chart_series(report_buf *buf, const report_chart *chart, const report_series *series)
{
    if (series->markers) {
        for (size_t i = 0; i < series->n; i++) {
            if (isfinite(series->x[i]) && isfinite(series->y[i])) {
                report_chart_marker(buf, chart, series->x[i], series->y[i], series->color);
            }
        }
        return;
    }

    report_buf_printf(buf, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", series->color,
                      series->dashed ? " stroke-dasharray=\"5 4\"" : "");
    const char *separator = "";
    for (size_t i = 0; i < series->n; i++) {
        if (!isfinite(series->x[i]) || !isfinite(series->y[i])) {
            continue;
        }
        report_buf_puts(buf, separator);
        report_buf_coord(buf, report_chart_px(chart, series->x[i]));
        report_buf_puts(buf, ",");
        report_buf_coord(buf, report_chart_py(chart, series->y[i]));
        separator = " ";
    }
    report_buf_puts(buf, "\"/>");
}

void report_chart_marker(report_buf *buf, const report_chart *chart, double x, double y, const char *color)
{
    assert(isfinite(x));
    assert(isfinite(y));

    report_buf_puts(buf, "<circle cx=\"");
    report_buf_coord(buf, report_chart_px(chart, x));
    report_buf_puts(buf, "\" cy=\"");
    report_buf_coord(buf, report_chart_py(chart, y));
    report_buf_printf(buf, "\" r=\"4.5\" fill=\"%s\" stroke=\"#fff\" stroke-width=\"1.5\"/>", color);
}

void report_chart_vline(report_buf *buf, const report_chart *chart, double x, const char *color, const char *label)
{
    if (!isfinite(x) || x < chart->x_min || x > chart->x_max) {
        return;
    }

    double px = report_chart_px(chart, x);
    line(buf, px, chart->top, px, chart->height - chart->bottom, color, " stroke-width=\"1.5\" stroke-dasharray=\"3 3\"");
    if (label != NULL) {
        report_buf_printf(buf, "<g class=\"note\" fill=\"%s\">", color);
        report_chart_label(buf, px + 4, chart->top + 12, "start", label);
        report_buf_puts(buf, "</g>");
    }
}

void report_chart_rect(report_buf *buf, const report_chart *chart, double x0, double y0, double x1, double y1,
                       const char *color)
{
    double px0 = report_chart_px(chart, x0);
    double px1 = report_chart_px(chart, x1);
    double py0 = report_chart_py(chart, y0);
    double py1 = report_chart_py(chart, y1);

    report_buf_puts(buf, "<rect x=\"");
    report_buf_coord(buf, fmin(px0, px1));
    report_buf_puts(buf, "\" y=\"");
    report_buf_coord(buf, fmin(py0, py1));
    report_buf_puts(buf, "\" width=\"");
    report_buf_coord(buf, fabs(px1 - px0));
    report_buf_puts(buf, "\" height=\"");
    report_buf_coord(buf, fabs(py1 - py0));
    report_buf_printf(buf, "\" fill=\"%s\"/>", color);
}

void report_chart_legend(report_buf *buf, const report_chart *chart, const report_series *series, size_t n)
{
    const double row_height = 18;
    double x = chart->width - chart->right - 168;
    double y = chart->legend_at_bottom ? chart->height - chart->bottom - 10 - row_height * (double)n + row_height
                                       : chart->top + 14;

    /* A translucent backing keeps the legend readable where a curve passes under it. */
    report_buf_puts(buf, "<g class=\"legend\"><rect x=\"");
    report_buf_coord(buf, x - 6);
    report_buf_puts(buf, "\" y=\"");
    report_buf_coord(buf, y - 15);
    report_buf_puts(buf, "\" width=\"170\" height=\"");
    report_buf_coord(buf, row_height * (double)n + 6);
    report_buf_puts(buf, "\" fill=\"#fff\" fill-opacity=\"0.85\"/>");
    for (size_t i = 0; i < n; i++) {
        double row_y = y + row_height * (double)i;
        if (series[i].markers) {
            report_buf_puts(buf, "<circle cx=\"");
            report_buf_coord(buf, x + 10);
            report_buf_puts(buf, "\" cy=\"");
            report_buf_coord(buf, row_y - 4);
            report_buf_printf(buf, "\" r=\"4.5\" fill=\"%s\"/>", series[i].color);
        } else {
            line(buf, x, row_y - 4, x + 20, row_y - 4, series[i].color,
                 series[i].dashed ? " stroke-width=\"2\" stroke-dasharray=\"5 4\"" : " stroke-width=\"2\"");
        }
        report_chart_label(buf, x + 26, row_y, "start", series[i].label);
    }
    report_buf_puts(buf, "</g>");
}

void report_chart_end(report_buf *buf)
{
    report_buf_puts(buf, "</svg>\n");
}
