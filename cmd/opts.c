/*
 * opts: strict number parsing for command-line options; see opts.h.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netdb.h>

#include "cmd/opts.h"

/* A stderr version's end: the line, or (memory gone) a shorter one. */
static int to_stderr(int rc, jm_buf *line, const char *cmd, const char *opt, const char *arg)
{
	if (rc < 0 && jm_buf_pending(line))
		fprintf(stderr, "%.*s\n", (int)jm_buf_pending(line), (const char *)jm_buf_head(line));
	else if (rc < 0)
		fprintf(stderr, "jmsg %s: bad %s '%s'\n", cmd, opt, arg);
	jm_buf_free(line);
	return rc;
}

int opt_uint_buf(jm_buf *err, const char *cmd, const char *opt, const char *arg, uint64_t min,
		 uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (!isdigit((unsigned char)arg[0]) || *end || errno || v < min || v > max) {
		jm_buf_printf(err, "jmsg %s: %s must be a whole number from %llu to %llu, not '%s'",
			      cmd, opt, (unsigned long long)min, (unsigned long long)max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int opt_uint(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max,
	     uint64_t *out)
{
	jm_buf line = {0};
	return to_stderr(opt_uint_buf(&line, cmd, opt, arg, min, max, out), &line, cmd, opt, arg);
}

int opt_parse_size(const char *arg, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	unsigned shift = 0;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (!isdigit((unsigned char)arg[0]) || *end || errno || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int opt_size_buf(jm_buf *err, const char *cmd, const char *opt, const char *arg, uint64_t *out)
{
	uint64_t v;
	/* Past 2^60 bytes a size is a typing mistake, not a limit anyone means. */
	if (opt_parse_size(arg, &v) || v > (UINT64_MAX >> 4)) {
		jm_buf_printf(err, "jmsg %s: %s must be a byte count such as 65536 or 64k, not '%s'",
			      cmd, opt, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int opt_size(const char *cmd, const char *opt, const char *arg, uint64_t *out)
{
	jm_buf line = {0};
	return to_stderr(opt_size_buf(&line, cmd, opt, arg, out), &line, cmd, opt, arg);
}

/* The unit after a duration's number: its nanoseconds, or 0 if `u` is none.
 * An empty `u` is the option's own unit. */
static uint64_t duration_unit(const char *u, uint64_t bare_ns)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{"ns", 1}, {"us", 1000}, {"ms", OPT_MS}, {"s", OPT_S}, {"m", 60 * OPT_S},
		{"h", 3600 * OPT_S},
	};
	if (!*u)
		return bare_ns;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (!strcmp(u, units[i].name))
			return units[i].ns;
	return 0;
}

int opt_parse_duration(const char *arg, uint64_t bare_ns, uint64_t max_ns, uint64_t *ns)
{
	/* A plain decimal number, an exponent allowed ("1e-3"): no sign, no
	 * space, no hex, inf or nan, which strtold would take. */
	if (!isdigit((unsigned char)arg[0]) && !(arg[0] == '.' && isdigit((unsigned char)arg[1])))
		return -1;
	char *end;
	errno = 0;
	long double v = strtold(arg, &end);
	if (errno || strspn(arg, "0123456789.eE+-") < (size_t)(end - arg))
		return -1;
	uint64_t unit = duration_unit(end, bare_ns);
	if (!unit || !(v >= 0))
		return -1;
	long double x = v * (long double)unit;
	if (!(x < 0x1p64L))
		return -1;
	uint64_t r = (uint64_t)x;
	if (x - (long double)r >= 0.5L && r < UINT64_MAX)
		r++;
	/* more than zero stays more than zero: a timeout of 0 means never */
	*ns = r || v == 0 ? r : 1;
	return *ns <= max_ns ? 0 : -1;
}

int opt_duration_buf(jm_buf *err, const char *cmd, const char *opt, const char *arg,
		     uint64_t bare_ns, uint64_t min_ns, uint64_t max_ns, uint64_t *ns)
{
	uint64_t v;
	if (opt_parse_duration(arg, bare_ns, max_ns, &v) == 0 && v >= min_ns) {
		*ns = v;
		return 0;
	}
	if (cmd)
		jm_buf_printf(err, "jmsg %s: ", cmd);
	jm_buf_printf(err, "%s must be %s from %.15g to %.15g, or a duration such as 500ms, 10s "
		      "or 2m, not '%s'", opt, bare_ns == OPT_MS ? "milliseconds" : "seconds",
		      (double)min_ns / (double)bare_ns, (double)max_ns / (double)bare_ns, arg);
	return -1;
}

int opt_seconds_buf(jm_buf *err, const char *cmd, const char *opt, const char *arg,
		    uint64_t *ms)
{
	uint64_t ns;
	if (opt_duration_buf(err, cmd, opt, arg, OPT_S, 0, 86400 * OPT_S, &ns) < 0)
		return -1;
	/* 0 means "never" to every timeout: a duration given as more than
	 * zero must not round to it. */
	*ms = (ns + OPT_MS / 2) / OPT_MS;
	if (ns && !*ms)
		*ms = 1;
	return 0;
}

int opt_seconds(const char *cmd, const char *opt, const char *arg, uint64_t *ms)
{
	jm_buf line = {0};
	return to_stderr(opt_seconds_buf(&line, cmd, opt, arg, ms), &line, cmd, opt, arg);
}

int opt_parse_port(const char *arg, const char **end, uint16_t *out)
{
	const char *s = arg;
	uint32_t v = 0;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (uint32_t)(*s - '0');
		if (v > 65535)
			return -1;
	}
	if (s == arg || v < 1 || (!end && *s))
		return -1;
	if (end)
		*end = s;
	*out = (uint16_t)v;
	return 0;
}

int opt_port_buf(jm_buf *err, const char *cmd, const char *opt, const char *arg, uint16_t *out)
{
	uint16_t v;
	if (opt_parse_port(arg, NULL, &v) < 0) {
		jm_buf_printf(err, "jmsg %s: %s must be a port from 1 to 65535, not '%s'", cmd, opt,
			      arg);
		return -1;
	}
	if (out)
		*out = v;
	return 0;
}

int opt_port(const char *cmd, const char *opt, const char *arg, uint16_t *out)
{
	jm_buf line = {0};
	return to_stderr(opt_port_buf(&line, cmd, opt, arg, out), &line, cmd, opt, arg);
}

int opt_usage_error(jm_buf *err, int rc)
{
	if (jm_buf_pending(err))
		fprintf(stderr, "%.*s\n", (int)jm_buf_pending(err), (const char *)jm_buf_head(err));
	jm_buf_free(err);
	return rc;
}

/* ---------------------------------------------------------------- filter ports */

#define FILTER_WORDS 256

/* The filter's words: runs of anything but blanks, parentheses and '!'
 * ("!" is a word of its own, as "not" is). */
static size_t filter_words(const char *f, char words[][64], size_t max)
{
	size_t n = 0;
	while (*f && n < max) {
		if (isspace((unsigned char)*f) || *f == '(' || *f == ')') {
			f++;
			continue;
		}
		size_t len = 0;
		if (*f == '!') {
			words[n][len++] = *f++;
		} else {
			while (*f && !isspace((unsigned char)*f) && *f != '(' && *f != ')' && *f != '!') {
				if (len < 63)
					words[n][len++] = *f;
				f++;
			}
		}
		words[n++][len] = 0;
	}
	return n;
}

static bool word_is(const char *w, const char *a, const char *b)
{
	return !strcmp(w, a) || (b && !strcmp(w, b));
}

/* A port number or a TCP service name (as pcap takes them). */
static int filter_port(const char *w, uint16_t *out)
{
	if (isdigit((unsigned char)w[0]))
		return opt_parse_port(w, NULL, out);
	struct servent *se = getservbyname(w, "tcp");
	if (!se)
		return -1;
	*out = ntohs((uint16_t)se->s_port);
	return *out ? 0 : -1;
}

/* Is the primitive whose "port" keyword is words[i] negated?  Its
 * qualifiers (tcp, src, dst, "src or dst"...) are passed over backwards. */
static bool negated(char words[][64], size_t i)
{
	while (i > 0) {
		const char *w = words[i - 1];
		if (word_is(w, "tcp", "udp") || word_is(w, "src", "dst") || word_is(w, "ip", "ip6") ||
		    (word_is(w, "or", "and") && i > 1 && word_is(words[i - 2], "src", "dst")))
			i--;
		else
			return word_is(w, "not", "!");
	}
	return false;
}

size_t opt_filter_ports(const char *filter, uint16_t *ports, size_t max)
{
	static char words[FILTER_WORDS][64];
	size_t n = filter ? filter_words(filter, words, FILTER_WORDS) : 0, got = 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(words[i], "port") || negated(words, i))
			continue;
		/* "port 80", and "port 80 or 8080": a bare port after and/or
		 * keeps the qualifiers, as pcap reads it. */
		for (size_t j = i + 1; j < n; j += 2) {
			uint16_t p;
			if (filter_port(words[j], &p) < 0)
				break;
			bool dup = false;
			for (size_t k = 0; k < got; k++)
				dup |= ports[k] == p;
			if (!dup && got < max)
				ports[got++] = p;
			if (j + 1 >= n || !(word_is(words[j + 1], "or", "||") ||
					    word_is(words[j + 1], "and", "&&")))
				break;
		}
	}
	return got;
}
