/*
 * timefmt: text output's time column.  See timefmt.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tcp/timefmt.h"

int tf_parse(const char *s, tf_mode *m)
{
	static const char *const names[] = {"relative", "absolute", "epoch", "delta"};
	for (int i = 0; i < 4; i++) {
		if (!strcmp(s, names[i])) {
			*m = (tf_mode)i;
			return 0;
		}
	}
	return -1;
}

/* d nanoseconds as seconds with six decimals, right-aligned in width
 * (at most TF_MAX - 1 bytes).  Written by hand: one line of text output
 * each, where two snprintf calls cost more than the rest of the line. */
static size_t seconds(int64_t d, int width, char *buf)
{
	uint64_t a = d < 0 ? (uint64_t)-(d + 1) + 1 : (uint64_t)d;
	uint64_t sec = a / 1000000000, usec = a % 1000000000 / 1000;
	char tmp[TF_MAX];
	size_t n = sizeof tmp;
	for (int i = 0; i < 6; i++, usec /= 10)
		tmp[--n] = (char)('0' + usec % 10);
	tmp[--n] = '.';
	do {
		tmp[--n] = (char)('0' + sec % 10);
		sec /= 10;
	} while (sec);
	if (d < 0)
		tmp[--n] = '-';
	size_t len = sizeof tmp - n, pad = width > 0 && (size_t)width > len ? (size_t)width - len : 0;
	memset(buf, ' ', pad);
	memcpy(buf + pad, tmp + n, len);
	buf[pad + len] = '\0';
	return pad + len;
}

size_t tf_format(tf_clock *c, int64_t ns, char buf[TF_MAX])
{
	switch (c->mode) {
	case TF_ABSOLUTE: {
		time_t s = (time_t)(ns >= 0 ? ns / 1000000000 : (ns - 999999999) / 1000000000);
		int64_t frac = ns - (int64_t)s * 1000000000;
		struct tm tm;
		if (!localtime_r(&s, &tm))
			memset(&tm, 0, sizeof tm);
		return (size_t)snprintf(buf, TF_MAX, "%02d:%02d:%02d.%06lld", tm.tm_hour, tm.tm_min,
					tm.tm_sec, (long long)(frac / 1000));
	}
	case TF_EPOCH:
		return seconds(ns, 0, buf);
	case TF_DELTA: {
		int64_t d = c->have_prev ? ns - c->prev : 0;
		c->prev = ns;
		c->have_prev = true;
		return seconds(d, 11, buf);
	}
	case TF_RELATIVE:
	default:
		if (!c->have_t0) {
			c->have_t0 = true;
			c->t0 = ns;
		}
		return seconds(ns - c->t0, 11, buf);
	}
}
