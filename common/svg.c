/* svg.c - see svg.h. Coordinates are in viewBox units; the page's CSS
 * sets the width. */
#include "svg.h"
#include "html.h"

#include <stdio.h>

#define TP_SVG_WIDTH 600.0
#define TP_SVG_HEIGHT 180.0
#define TP_SVG_LEFT 44.0
#define TP_SVG_BOTTOM 22.0
#define TP_SVG_TOP 20.0

static void tp_svg_open(struct tp_buf *b, const char *title, double w, double h,
                        const char *cls)
{
        tp_buf_printf(b,
                      "<svg class=\"%s\" viewBox=\"0 0 %.0f %.0f\" "
                      "role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">"
                      "<title>",
                      cls, w, h);
        tp_html_escape(b, title);
        tp_buf_puts(b, "</title>");
}

static double tp_svg_max(const struct tp_svg_series *series, size_t n_series,
                         size_t n_points)
{
        double max = 0;
        for (size_t s = 0; s < n_series; s++)
                for (size_t i = 0; i < n_points; i++)
                        if (series[s].values[i] > max)
                                max = series[s].values[i];
        return max;
}

/* A "nice" axis top (1, 2, 5 x 10^k) at least max. */
static double tp_svg_nice(double max)
{
        double step = 1;
        if (max <= 0)
                return 1;
        while (step * 10 <= max)
                step *= 10;
        if (step >= max)
                return step;
        if (2 * step >= max)
                return 2 * step;
        if (5 * step >= max)
                return 5 * step;
        return 10 * step;
}

/* The polyline points of values scaled into the box; a gap starts a new
 * path ("M"). */
static void tp_svg_path(struct tp_buf *b, const double *values, size_t n,
                        double x0, double y0, double w, double h, double max)
{
        int pen = 0;
        for (size_t i = 0; i < n; i++) {
                double x =
                        x0 + (n > 1 ? w * (double)i / (double)(n - 1) : w / 2);
                double y;
                if (values[i] < 0) {
                        pen = 0;
                        continue;
                }
                y = y0 + h - h * values[i] / max;
                tp_buf_printf(b, "%s%.1f %.1f ", pen ? "L" : "M", x, y);
                pen = 1;
        }
}

void tp_svg_lines(struct tp_buf *b, const char *title,
                  const struct tp_svg_series *series, size_t n_series,
                  size_t n_points, const char *x_first, const char *x_last)
{
        double top = tp_svg_nice(tp_svg_max(series, n_series, n_points));
        double w = TP_SVG_WIDTH - TP_SVG_LEFT - 8;
        double h = TP_SVG_HEIGHT - TP_SVG_TOP - TP_SVG_BOTTOM;

        tp_svg_open(b, title, TP_SVG_WIDTH, TP_SVG_HEIGHT, "chart");
        /* grid: 0, half, top */
        for (int k = 0; k <= 2; k++) {
                double y = TP_SVG_TOP + h - h * k / 2.0;
                tp_buf_printf(b,
                              "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" "
                              "y2=\"%.1f\" class=\"grid\"/>"
                              "<text x=\"%.0f\" y=\"%.1f\" class=\"ax\" "
                              "text-anchor=\"end\">%g</text>",
                              TP_SVG_LEFT, TP_SVG_LEFT + w, y, y,
                              TP_SVG_LEFT - 4, y + 4, top * k / 2.0);
        }
        tp_buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" class=\"ax\">",
                      TP_SVG_LEFT, TP_SVG_HEIGHT - 6);
        tp_html_escape(b, x_first);
        tp_buf_printf(b,
                      "</text><text x=\"%.0f\" y=\"%.0f\" class=\"ax\" "
                      "text-anchor=\"end\">",
                      TP_SVG_LEFT + w, TP_SVG_HEIGHT - 6);
        tp_html_escape(b, x_last);
        tp_buf_puts(b, "</text>");
        for (size_t s = 0; s < n_series; s++) {
                tp_buf_printf(b,
                              "<path fill=\"none\" stroke=\"%s\" "
                              "stroke-width=\"2\" "
                              "vector-effect=\"non-scaling-stroke\" d=\"",
                              series[s].color);
                tp_svg_path(b, series[s].values, n_points, TP_SVG_LEFT,
                            TP_SVG_TOP, w, h, top);
                tp_buf_puts(b, "\"/>");
                /* legend, left to right along the top */
                tp_buf_printf(b,
                              "<rect x=\"%.0f\" y=\"4\" width=\"10\" "
                              "height=\"10\" fill=\"%s\"/>"
                              "<text x=\"%.0f\" y=\"13\" class=\"ax\">",
                              TP_SVG_LEFT + 160.0 * (double)s, series[s].color,
                              TP_SVG_LEFT + 160.0 * (double)s + 14);
                tp_html_escape(b, series[s].label);
                tp_buf_puts(b, "</text>");
        }
        tp_buf_puts(b, "</svg>");
}

void tp_svg_sparkline(struct tp_buf *b, const char *title, const double *values,
                      size_t n)
{
        struct tp_svg_series s = {NULL, NULL, values};
        double top = tp_svg_max(&s, 1, n);

        tp_svg_open(b, title, 100, 20, "spark");
        tp_buf_puts(b, "<path fill=\"none\" stroke=\"#b45309\" "
                       "stroke-width=\"1.5\" "
                       "vector-effect=\"non-scaling-stroke\" d=\"");
        tp_svg_path(b, values, n, 1, 1, 98, 18, top > 0 ? top : 1);
        tp_buf_puts(b, "\"/></svg>");
}

void tp_svg_hbars(struct tp_buf *b, const char *title,
                  const struct tp_svg_bar *bars, size_t n)
{
        double row = 18, label_w = 120, bar_w = 190;
        double max = 0.25; /* small shares stay small bars */

        for (size_t i = 0; i < n; i++)
                if (bars[i].share > max)
                        max = bars[i].share;
        tp_buf_printf(b,
                      "<svg class=\"bars\" viewBox=\"0 0 400 %.0f\" "
                      "role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">"
                      "<title>",
                      row * (double)n + 4);
        tp_html_escape(b, title);
        tp_buf_puts(b, "</title>");
        for (size_t i = 0; i < n; i++) {
                double y = row * (double)i + 2;
                if (bars[i].href) {
                        tp_buf_puts(b, "<a href=\"");
                        tp_html_escape(b, bars[i].href);
                        tp_buf_puts(b, "\">");
                }
                tp_buf_printf(b,
                              "<text x=\"%.0f\" y=\"%.0f\" class=\"lb\" "
                              "text-anchor=\"end\">",
                              label_w - 6, y + 13);
                tp_html_escape(b, bars[i].label);
                tp_buf_printf(
                        b,
                        "</text><rect x=\"%.0f\" y=\"%.0f\" "
                        "width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>"
                        "<text x=\"%.1f\" y=\"%.0f\" class=\"lb\">",
                        label_w, y + 2, bar_w * bars[i].share / max, row - 5,
                        bars[i].color ? bars[i].color : "#b91c1c",
                        label_w + bar_w * bars[i].share / max + 4, y + 13);
                tp_html_escape(b, bars[i].text);
                tp_buf_puts(b, "</text>");
                if (bars[i].href)
                        tp_buf_puts(b, "</a>");
        }
        tp_buf_puts(b, "</svg>");
}
