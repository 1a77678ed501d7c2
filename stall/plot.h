/*
 * plot: a hand-written SVG time-series chart, for people to look at in a
 * browser.  Up to two stacked panels sharing one time axis (seconds from
 * t0), each with its own byte axis (B, KiB or MiB picked from the data),
 * a legend, and shaded intervals (the stalls) across both panels.
 *
 * The writer owns no data: series are arrays of (t, v) points, NaN values
 * are gaps.  Everything written is escaped; the output is well-formed XML.
 */
#ifndef JM_STALL_PLOT_H
#define JM_STALL_PLOT_H

#include <stddef.h>
#include <stdio.h>

typedef struct plot_series {
	const char *name;         /* legend */
	const char *color;        /* CSS color */
	int panel;                /* 0: top, 1: bottom */
	const double *t, *v;      /* n points, t ascending */
	size_t n;
	double width;             /* stroke width; 0: 1.5 */
} plot_series;

typedef struct plot_span {
	double t0, t1;            /* shaded interval */
	const char *label;        /* drawn at its top left, or NULL */
} plot_span;

typedef struct plot_spec {
	const char *title;
	const char *subtitle;
	const char *panel_title[2]; /* NULL second title: one panel only */
	const char *note;         /* small text at the bottom, or NULL */
	double t0;                /* time origin (capture time) */
	double t_min, t_max;      /* time range; both 0: from the data */
	const plot_series *series;
	size_t n_series;
	const plot_span *spans;
	size_t n_spans;
} plot_spec;

/* 0, or -1 if writing failed. */
int plot_write_svg(FILE *f, const plot_spec *p);

#endif
