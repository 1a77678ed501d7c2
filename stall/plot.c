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

int plot_write_svg(FILE *f, const plot_spec *p)
{
	int panels = p->panel_title[1] ? 2 : 1;
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
	double x0 = tmin - p->t0, x1 = tmax - p->t0;
	double pw = W - LEFT - RIGHT;
	double legend_y = TOP + panels * (PANEL_H + GAP) + 6;
	double H = legend_y + 24.0 * ((p->n_series + 1) / 2) + (p->note ? 28 : 8);

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

	double tstep = nice_step(x1 - x0, 10);
	for (int pi = 0; pi < panels; pi++) {
		double top = TOP + pi * (PANEL_H + GAP), bot = top + PANEL_H;
		double vmax = 0;
		for (size_t i = 0; i < p->n_series; i++)
			if (p->series[i].panel == pi)
				for (size_t j = 0; j < p->series[i].n; j++)
					if (isfinite(p->series[i].v[j]) && p->series[i].v[j] > vmax)
						vmax = p->series[i].v[j];
		double div;
		const char *unit;
		byte_unit(vmax, &div, &unit);
		double ystep = nice_step(vmax / div, 5);
		double ymax = ystep * ceil((vmax / div) / ystep);
		if (!(ymax > 0))
			ymax = ystep;
		fprintf(f, "<g>\n<text x=\"%.0f\" y=\"%.0f\" font-size=\"13\" font-weight=\"bold\">", LEFT,
			top - 8);
		esc(f, p->panel_title[pi]);
		fputs("</text>\n", f);
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fafafa\" "
			   "stroke=\"#999\"/>\n", LEFT, top, pw, PANEL_H);
		/* stall intervals under the lines */
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
		/* y grid and labels */
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
			   "text-anchor=\"middle\">bytes (%s)</text>\n", 20.0, top + PANEL_H / 2, unit);
		/* x grid and labels */
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
		/* the series: steps, since a window or a queue holds its value
		 * until the next packet or sample changes it */
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
				double py = bot - (v / div) / ymax * PANEL_H;
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
		fputs("</g>\n", f);
	}
	/* legend */
	for (size_t i = 0; i < p->n_series; i++) {
		double lx = LEFT + (i % 2) * (pw / 2), ly = legend_y + 24.0 * (double)(i / 2) + 10;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			   "stroke-width=\"3\"/>\n", lx, ly - 4, lx + 26, ly - 4, p->series[i].color);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">", lx + 32, ly);
		esc(f, p->series[i].name);
		fputs("</text>\n", f);
	}
	if (p->note) {
		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"#d62728\" "
			   "fill-opacity=\"0.12\" stroke=\"#d62728\" stroke-opacity=\"0.3\"/>\n",
			LEFT, H - 20);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#444\">", LEFT + 20, H - 11);
		esc(f, p->note);
		fputs("</text>\n", f);
	}
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}
