/*
 * plot: SVG written by hand.  Layout (pixels):
 *
 *   title, subtitle                       top margin
 *   panel 0: plot area, y axis at left    PANEL_H each
 *   panel 1: same time axis
 *   time axis labels, legend, note        bottom
 *
 * Axis ticks are "nice" numbers (1, 2, 5 x 10^k) so labels read cleanly;
 * byte axes pick B, KiB or MiB from the largest value shown.
 */
#include "stall/plot.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define W 960.0
#define LEFT 86.0
#define RIGHT 24.0
#define TOP 92.0
#define PANEL_H 230.0
#define GAP 56.0

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, f);
		}
	}
}

static double nice_step(double range, int ticks)
{
	if (!(range > 0))
		return 1;
	double raw = range / ticks;
	double p = pow(10, floor(log10(raw)));
	double m = raw / p;
	double k = m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10;
	return k * p;
}

static void byte_unit(double max, double *div, const char **unit)
{
	if (max >= 4.0 * 1024 * 1024) {
		*div = 1024.0 * 1024;
		*unit = "MiB";
	} else if (max >= 4.0 * 1024) {
		*div = 1024.0;
		*unit = "KiB";
	} else {
		*div = 1;
		*unit = "B";
	}
}

static void fmt_num(char *b, size_t n, double v)
{
	if (fabs(v - round(v)) < 1e-9)
		snprintf(b, n, "%.0f", v);
	else if (fabs(v * 10 - round(v * 10)) < 1e-9)
		snprintf(b, n, "%.1f", v);
	else
		snprintf(b, n, "%.2f", v);
}

/* What every panel shares: the time shown (seconds from p->t0) and the
 * plot area's width. */
struct frame {
	double x0, x1;
	double pw;
};

/* One panel: where it sits, and its byte axis (in `unit`, `div` bytes
 * each, gridded every `ystep` up to `ymax`). */
struct panel {
	double top, bot;
	double div;
	const char *unit;
	double ystep, ymax;
};

/* The time range: the spec's, or the data's when both ends are 0. */
static void time_range(const plot_spec *p, double *tmin_out, double *tmax_out)
{
	double tmin = p->t_min, tmax = p->t_max;
	if (tmin == 0 && tmax == 0) {
		tmin = INFINITY;
		tmax = -INFINITY;
		for (size_t i = 0; i < p->n_series; i++)
			for (size_t j = 0; j < p->series[i].n; j++) {
				if (p->series[i].t[j] < tmin)
					tmin = p->series[i].t[j];
				if (p->series[i].t[j] > tmax)
					tmax = p->series[i].t[j];
			}
		if (!isfinite(tmin))
			tmin = tmax = 0;
	}
	if (!(tmax > tmin))
		tmax = tmin + 1;
	*tmin_out = tmin;
	*tmax_out = tmax;
}

static void write_head(FILE *f, const plot_spec *p, double H)
{
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
		W, H, W, H);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", W, H);
	fprintf(f, "<text x=\"%.0f\" y=\"28\" font-size=\"18\" font-weight=\"bold\">", LEFT);
	esc(f, p->title);
	fprintf(f, "</text>\n<text x=\"%.0f\" y=\"50\" font-size=\"13\" fill=\"#444\">", LEFT);
	esc(f, p->subtitle);
	fputs("</text>\n", f);
}

/* Panel pi's place and byte axis, from the largest value it shows. */
static void panel_layout(const plot_spec *p, int pi, struct panel *pn)
{
	pn->top = TOP + pi * (PANEL_H + GAP);
	pn->bot = pn->top + PANEL_H;
	double vmax = 0;
	for (size_t i = 0; i < p->n_series; i++)
		if (p->series[i].panel == pi)
			for (size_t j = 0; j < p->series[i].n; j++)
				if (isfinite(p->series[i].v[j]) && p->series[i].v[j] > vmax)
					vmax = p->series[i].v[j];
	byte_unit(vmax, &pn->div, &pn->unit);
	pn->ystep = nice_step(vmax / pn->div, 5);
	pn->ymax = pn->ystep * ceil((vmax / pn->div) / pn->ystep);
	if (!(pn->ymax > 0))
		pn->ymax = pn->ystep;
}

/* The stall intervals, under the lines; labelled in the top panel. */
static void write_spans(FILE *f, const plot_spec *p, const struct frame *fr, int pi,
			const struct panel *pn)
{
	double x0 = fr->x0, x1 = fr->x1, pw = fr->pw, top = pn->top;
	for (size_t s = 0; s < p->n_spans; s++) {
		double a = p->spans[s].t0 - p->t0, b = p->spans[s].t1 - p->t0;
		if (b < x0 || a > x1)
			continue;
		if (a < x0)
			a = x0;
		if (b > x1)
			b = x1;
		double xa = LEFT + (a - x0) / (x1 - x0) * pw, xb = LEFT + (b - x0) / (x1 - x0) * pw;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
			   "fill=\"#d62728\" fill-opacity=\"0.12\"/>\n", xa, top,
			xb - xa < 1 ? 1 : xb - xa, PANEL_H);
		if (p->spans[s].label && pi == 0)
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#a00\">%s</text>\n",
				xa + 3, top + 13, p->spans[s].label);
	}
}

static void write_y_grid(FILE *f, const struct frame *fr, const struct panel *pn)
{
	double pw = fr->pw, top = pn->top, bot = pn->bot, ystep = pn->ystep, ymax = pn->ymax;
	for (double y = 0; y <= ymax + ystep / 2; y += ystep) {
		double py = bot - y / ymax * PANEL_H;
		char b[32];
		fmt_num(b, sizeof b, y);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
			LEFT, py, LEFT + pw, py);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>\n",
			LEFT - 6, py + 4, b);
	}
	fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" font-size=\"12\" "
		   "text-anchor=\"middle\">bytes (%s)</text>\n", 20.0, top + PANEL_H / 2, pn->unit);
}

static void write_x_grid(FILE *f, const struct frame *fr, const struct panel *pn, double tstep)
{
	double x0 = fr->x0, x1 = fr->x1, pw = fr->pw, top = pn->top, bot = pn->bot;
	for (double x = ceil(x0 / tstep) * tstep; x <= x1 + tstep * 1e-6; x += tstep) {
		double px = LEFT + (x - x0) / (x1 - x0) * pw;
		char b[32];
		fmt_num(b, sizeof b, x);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n",
			px, top, px, bot);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n",
			px, bot + 15, b);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">"
		   "time (s) from the stream's first packet</text>\n", LEFT + pw / 2, bot + 32);
}

/* The series of panel pi: steps, since a window or a queue holds its value
 * until the next packet or sample changes it. */
static void write_series(FILE *f, const plot_spec *p, const struct frame *fr, int pi,
			 const struct panel *pn)
{
	double x0 = fr->x0, x1 = fr->x1, pw = fr->pw, bot = pn->bot;
	for (size_t i = 0; i < p->n_series; i++) {
		const plot_series *s = &p->series[i];
		if (s->panel != pi || !s->n)
			continue;
		bool pen = false;
		fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" "
			   "stroke-linejoin=\"round\" d=\"", s->color, s->width > 0 ? s->width : 1.5);
		for (size_t j = 0; j < s->n; j++) {
			double v = s->v[j];
			if (!isfinite(v)) {
				pen = false;
				continue;
			}
			double px = LEFT + (s->t[j] - p->t0 - x0) / (x1 - x0) * pw;
			double py = bot - (v / pn->div) / pn->ymax * PANEL_H;
			if (px < LEFT)
				px = LEFT;
			if (px > LEFT + pw)
				px = LEFT + pw;
			if (!pen)
				fprintf(f, "M%.1f %.1f", px, py);
			else
				fprintf(f, "H%.1fV%.1f", px, py);
			pen = true;
		}
		fputs("\"/>\n", f);
	}
}

static void write_panel(FILE *f, const plot_spec *p, const struct frame *fr, int pi, double tstep)
{
	struct panel pn;
	panel_layout(p, pi, &pn);
	fprintf(f, "<g>\n<text x=\"%.0f\" y=\"%.0f\" font-size=\"13\" font-weight=\"bold\">", LEFT,
		pn.top - 8);
	esc(f, p->panel_title[pi]);
	fputs("</text>\n", f);
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fafafa\" "
		   "stroke=\"#999\"/>\n", LEFT, pn.top, fr->pw, PANEL_H);
	write_spans(f, p, fr, pi, &pn);
	write_y_grid(f, fr, &pn);
	write_x_grid(f, fr, &pn, tstep);
	write_series(f, p, fr, pi, &pn);
	fputs("</g>\n", f);
}

static void write_legend(FILE *f, const plot_spec *p, const struct frame *fr, double legend_y)
{
	double pw = fr->pw;
	for (size_t i = 0; i < p->n_series; i++) {
		double lx = LEFT + (i % 2) * (pw / 2), ly = legend_y + 24.0 * (double)(i / 2) + 10;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			   "stroke-width=\"3\"/>\n", lx, ly - 4, lx + 26, ly - 4, p->series[i].color);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", lx + 32, ly);
		esc(f, p->series[i].name);
		fputs("</text>\n", f);
	}
}

static void write_note(FILE *f, const plot_spec *p, double H)
{
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"#d62728\" "
		   "fill-opacity=\"0.12\" stroke=\"#d62728\" stroke-opacity=\"0.3\"/>\n",
		LEFT, H - 20);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#444\">", LEFT + 20, H - 11);
	esc(f, p->note);
	fputs("</text>\n", f);
}

int plot_write_svg(FILE *f, const plot_spec *p)
{
	int panels = p->panel_title[1] ? 2 : 1;
	double tmin, tmax;
	time_range(p, &tmin, &tmax);
	struct frame fr = {tmin - p->t0, tmax - p->t0, W - LEFT - RIGHT};
	double legend_y = TOP + panels * (PANEL_H + GAP) + 6;
	double H = legend_y + 24.0 * ((p->n_series + 1) / 2) + (p->note ? 28 : 8);

	write_head(f, p, H);
	double tstep = nice_step(fr.x1 - fr.x0, 10);
	for (int pi = 0; pi < panels; pi++)
		write_panel(f, p, &fr, pi, tstep);
	write_legend(f, p, &fr, legend_y);
	if (p->note)
		write_note(f, p, H);
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}
