/* svg.h - small charts as inline SVG, drawn by the server: no script, no
 * font or asset from anywhere. Every text is escaped (common/html.h); the
 * charts scale to their container's width (viewBox, width 100%).
 */
#ifndef TP_SVG_H
#define TP_SVG_H

#include <stddef.h>

#include "buf.h"

/* One line of a chart: n values (a negative value is a gap: no data),
 * a label for the legend (escaped), and a CSS colour (ours: written as
 * is, never from a producer). */
struct tp_svg_series {
        const char *label;
        const char *color;
        const double *values;
};

/* A line chart of the series, all of n_points values, over a time axis
 * labelled x_first .. x_last (escaped); title is the SVG's accessible
 * name (escaped). */
void tp_svg_lines(struct tp_buf *b, const char *title,
                  const struct tp_svg_series *series, size_t n_series,
                  size_t n_points, const char *x_first, const char *x_last);

/* A sparkline (no axes) of n values, 100 x 20 units; negative: a gap. */
void tp_svg_sparkline(struct tp_buf *b, const char *title, const double *values,
                      size_t n);

/* One horizontal bar: label (escaped), href (escaped; NULL: none), the
 * share 0..1 drawn, and text written after the bar (escaped). */
struct tp_svg_bar {
        const char *label;
        const char *href;
        double share;
        const char *text;
        const char *color;
};

/* Horizontal bars, one per item, on a scale from 0 to the largest share
 * (at least 0.25, so that small shares stay small bars); 400 units wide:
 * readable at a phone's width. */
void tp_svg_hbars(struct tp_buf *b, const char *title,
                  const struct tp_svg_bar *bars, size_t n);

#endif
