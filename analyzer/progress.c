/*
 * progress: the progress line of jmsg analyze.  See progress.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyzer/progress.h"

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* snprintf at buf + *len, *len moved on (never past n - 1). */
static void add(char *buf, size_t n, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = *len < n ? vsnprintf(buf + *len, n - *len, fmt, ap) : 0;
	va_end(ap);
	if (w > 0)
		*len = *len + (size_t)w < n ? *len + (size_t)w : n - 1;
}

void progress_format(const cap_progress *cp, double rate, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = 0;
	add(buf, n, &len, "jmsg analyze: ");
	if (cp->total) {
		uint64_t pct = cp->done >= cp->total ? 100 : cp->done * 100 / cp->total;
		add(buf, n, &len, "%llu%%", (unsigned long long)pct);
		if (cp->files > 1)
			add(buf, n, &len, " of %zu files (file %zu)", cp->files, cp->file);
		add(buf, n, &len, ", ");
	} else if (cp->files > 1) {
		add(buf, n, &len, "file %zu of %zu, ", cp->file, cp->files);
	}
	add(buf, n, &len, "%llu packets, %.0f packets/s", (unsigned long long)cp->packets, rate);
}

static void erase(progress *p)
{
	if (!p->shown)
		return;
	fputs("\r\033[K", p->term);
	fflush(p->term);
	p->shown = false;
}

/* cap_on_progress: at most every CAP_PROGRESS_MS while reading. */
static void tick(void *arg)
{
	progress *p = arg;
	int64_t now = now_ms();
	cap_progress cp;
	cap_get_progress(p->src, &cp);
	if (now > p->last_ms) {
		double r = (double)(cp.packets - p->last_packets) * 1000.0 / (double)(now - p->last_ms);
		/* smoothed, so the figure can be read */
		p->rate = p->last_packets ? 0.5 * p->rate + 0.5 * r : r;
	}
	p->last_ms = now;
	p->last_packets = cp.packets;
	if (now - p->start_ms < PROGRESS_AFTER_MS || (p->out && !p->line_start))
		return;
	char line[200];
	progress_format(&cp, p->rate, line, sizeof line);
	fprintf(p->term, "\r%s\033[K", line);
	fflush(p->term);
	p->shown = true;
}

void progress_start(progress *p, cap_source *src, FILE *term)
{
	memset(p, 0, sizeof *p);
	p->src = src;
	p->term = term;
	p->start_ms = p->last_ms = now_ms();
	p->line_start = true;
	cap_on_progress(src, tick, p);
}

/* stdout, through progress_out(): the line goes before the bytes do. */
static ssize_t out_write(void *cookie, const char *buf, size_t n)
{
	progress *p = cookie;
	erase(p);
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(STDOUT_FILENO, buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)w;
	}
	if (n)
		p->line_start = buf[n - 1] == '\n';
	return (ssize_t)n;
}

FILE *progress_out(progress *p)
{
	if (!isatty(STDOUT_FILENO))
		return stdout;
	fflush(stdout);
	cookie_io_functions_t io = {.write = out_write};
	p->out = fopencookie(p, "w", io);
	return p->out ? p->out : stdout;
}

void progress_stop(progress *p)
{
	cap_on_progress(p->src, NULL, NULL);
	erase(p);
}

void progress_free(progress *p)
{
	if (p->out)
		fclose(p->out);
	p->out = NULL;
}
