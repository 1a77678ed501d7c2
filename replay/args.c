/*
 * args: jmsg replay's options, checked; see args.h.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/args.h"
#include "replay/engine.h"
#include "replay/report.h"
#include "cmd/exit.h"
#include "cmd/opts.h"

/* Where a message goes: a->... is being filled, err gets the one line. */
typedef struct parser {
	rp_args *a;
	char *err;
	size_t errlen;
} parser;

__attribute__((format(printf, 2, 3)))
static int fail(parser *p, const char *fmt, ...)
{
	int n = snprintf(p->err, p->errlen, "jmsg replay: ");
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return JM_EXIT_USAGE;
}

/* A usage mistake: the message and where to read more. */
__attribute__((format(printf, 2, 0)))
static int usage_fail(parser *p, const char *fmt, const char *arg)
{
	char msg[4096];
	snprintf(msg, sizeof msg, fmt, arg);
	return fail(p, "%s (see jmsg replay --help)", msg);
}

/* The end of a cmd/opts check: its line (already "jmsg replay: ...") into
 * err; 0, or the usage status. */
static int opts_said(parser *p, int rc, jm_buf *line)
{
	if (rc < 0 && p->errlen)
		snprintf(p->err, p->errlen, "%.*s", (int)jm_buf_pending(line),
			 jm_buf_pending(line) ? (const char *)jm_buf_head(line) : "");
	jm_buf_free(line);
	return rc < 0 ? JM_EXIT_USAGE : 0;
}

static int set_uint(parser *p, const char *opt, const char *arg, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	jm_buf line = {0};
	return opts_said(p, opt_uint_buf(&line, "replay", opt, arg, min, max, out), &line);
}

static int set_size(parser *p, const char *opt, const char *arg, uint64_t *out)
{
	jm_buf line = {0};
	return opts_said(p, opt_size_buf(&line, "replay", opt, arg, out), &line);
}

/* --timeout: opt_seconds(), and more than 0 (replay has no "never"). */
static int set_timeout(parser *p, const char *arg)
{
	jm_buf line = {0};
	uint64_t ms;
	if (opts_said(p, opt_seconds_buf(&line, "replay", "--timeout", arg, &ms), &line))
		return JM_EXIT_USAGE;
	if (ms == 0)
		return usage_fail(p, "--timeout must be more than 0 seconds, not '%s'", arg);
	p->a->timeout_ms = ms;
	return 0;
}

static int set_speed(parser *p, const char *arg)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (*end || errno || !isfinite(v) || v <= 0 || v > 1e6 || end == arg)
		return usage_fail(p, "--speed must be a factor above 0 and at most 1000000, such as "
				  "0.5 or 10, not '%s'", arg);
	p->a->pace.speed = v;
	return 0;
}

/* "65432" or "65432,8080" into a->ports (--port may come again): each
 * from 1 to 65535, at most RP_MAX_PORTS in all. */
static int parse_ports(rp_args *a, const char *arg)
{
	const char *s = arg;
	while (*s) {
		uint16_t v;
		if (opt_parse_port(s, &s, &v) < 0 || a->n_ports >= RP_MAX_PORTS)
			return -1;
		a->ports[a->n_ports++] = v;
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			return -1;
	}
	return 0;
}

static int set_memcap(parser *p, const char *arg)
{
	if (set_size(p, "--memcap", arg, &p->a->memcap))
		return JM_EXIT_USAGE;
	if (p->a->memcap < 4096)
		return usage_fail(p, "--memcap must be at least 4k, not '%s'", arg);
	return 0;
}

enum { O_TO = 256, O_PORT, O_SPEED, O_ASAP, O_CONC, O_STREAMS, O_RAW, O_IGNORE, O_JSON,
       O_TIMEOUT, O_MAXC, O_MEMCAP, O_VERSION, O_NOHEUR };

static const struct option longopts[] = {
	{"to", required_argument, NULL, O_TO},
	{"port", required_argument, NULL, O_PORT},
	{"speed", required_argument, NULL, O_SPEED},
	{"asap", no_argument, NULL, O_ASAP},
	{"concurrency", required_argument, NULL, O_CONC},
	{"streams", required_argument, NULL, O_STREAMS},
	{"raw", no_argument, NULL, O_RAW},
	{"ignore-header", required_argument, NULL, O_IGNORE},
	{"json", no_argument, NULL, O_JSON},
	{"timeout", required_argument, NULL, O_TIMEOUT},
	{"max-content", required_argument, NULL, O_MAXC},
	{"memcap", required_argument, NULL, O_MEMCAP},
	{"no-heuristic", no_argument, NULL, O_NOHEUR},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, O_VERSION},
	{NULL, 0, NULL, 0},
};

/* One option with a value; 0, or the exit status with err filled. */
static int take_value(parser *p, int opt, const char *arg)
{
	rp_args *a = p->a;
	uint64_t conc = 0;
	switch (opt) {
	case O_TO:
		free(a->to);
		a->to = strdup(arg);
		if (!a->to) {
			fail(p, "out of memory");
			return JM_EXIT_REPLAY_FAILED;
		}
		return 0;
	case O_PORT:
		if (parse_ports(a, arg) < 0)
			return usage_fail(p, "--port must be ports from 1 to 65535, such as 65432 or "
					  "65432,8080, not '%s'", arg);
		return 0;
	case O_SPEED:
		return set_speed(p, arg);
	case O_CONC:
		if (set_uint(p, "--concurrency", arg, 1, 100000, &conc))
			return JM_EXIT_USAGE;
		a->concurrency = (unsigned)conc;
		return 0;
	case O_STREAMS:
		rp_select_free(&a->select);
		if (rp_select_parse(&a->select, arg) < 0)
			return usage_fail(p, "--streams must be stream numbers and ranges such as "
					  "0,3,5-9, not '%s'", arg);
		return 0;
	case O_IGNORE:
		if (a->n_ignore == RP_MAX_IGNORE)
			return usage_fail(p, "--ignore-header given too often (at most 64): '%s'", arg);
		a->ignore[a->n_ignore++] = arg;
		return 0;
	case O_TIMEOUT:
		return set_timeout(p, arg);
	case O_MAXC:
		return set_size(p, "--max-content", arg, &a->max_content);
	case O_MEMCAP:
		return set_memcap(p, arg);
	}
	return 0;
}

/* "HOST:PORT", "[V6]:PORT" or "PORT": a->to split in place. */
static int split_target(rp_args *a)
{
	char *colon = strrchr(a->to, ':');
	if (!colon) {
		a->host = "127.0.0.1";
		a->port = a->to;
	} else {
		*colon = '\0';
		a->port = colon + 1;
		char *h = a->to;
		size_t hl = strlen(h);
		if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
			h[hl - 1] = '\0';
			h++;
		} else if (strchr(h, ':')) {
			return -1;  /* an IPv6 literal needs its brackets */
		}
		a->host = *h ? h : "127.0.0.1";
	}
	uint16_t v;
	return opt_parse_port(a->port, NULL, &v);
}

/* What only the whole command line shows: one file, a target, options
 * that go together. */
static int check_whole(parser *p, int argc, char **argv, bool speed_set)
{
	rp_args *a = p->a;
	if (a->pace.asap && speed_set)
		return usage_fail(p, "%s", "--speed and --asap do not go together");
	if (optind >= argc)
		return usage_fail(p, "%s", "no capture file given");
	if (optind + 1 < argc)
		return usage_fail(p, "one capture file at a time, not also '%s'", argv[optind + 1]);
	if (!a->to)
		return usage_fail(p, "%s", "--to HOST:PORT is required: the server to replay against");
	a->path = argv[optind];
	snprintf(a->target, sizeof a->target, "%s", a->to);
	if (split_target(a) < 0)
		return usage_fail(p, "--to must be HOST:PORT, [IPV6]:PORT or PORT, not '%s'",
				  a->target);
	return RP_ARGS_RUN;
}

int rp_parse_args(int argc, char **argv, rp_args *a, char *err, size_t errlen)
{
	*a = (rp_args){
		.pace = {.speed = 1.0},
		.concurrency = RP_DEFAULT_CONCURRENCY,
		.timeout_ms = RP_DEFAULT_TIMEOUT_MS,
		.max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN,
		.memcap = RP_DEFAULT_MEMCAP,
	};
	parser p = {.a = a, .err = err, .errlen = errlen};
	bool speed_set = false;
	int opt, rc;
	if (errlen)
		err[0] = '\0';
	optind = 0;  /* a fresh scan, even after one that stopped inside "-vh" */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		switch (opt) {
		case O_ASAP: a->pace.asap = true; break;
		case O_RAW: a->raw = true; break;
		case O_NOHEUR: a->no_heuristic = true; break;
		case O_JSON: a->json = true; break;
		case 'v': a->verbose = true; break;
		case 'h': a->help = true; return 0;
		case O_VERSION: a->version = true; return 0;
		case ':': return usage_fail(&p, "%s needs a value", argv[optind - 1]);
		case '?': return usage_fail(&p, "unknown option '%s'", argv[optind - 1]);
		default:
			speed_set |= opt == O_SPEED;
			if ((rc = take_value(&p, opt, optarg)) != 0)
				return rc;
		}
	}
	return check_whole(&p, argc, argv, speed_set);
}

void rp_args_free(rp_args *a)
{
	free(a->to);
	a->to = NULL;
	rp_select_free(&a->select);
}
