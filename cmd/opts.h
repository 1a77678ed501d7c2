/*
 * opts: command-line values checked the same way by every subcommand.
 * A bad value gets one line naming the command, the option and the value,
 * "jmsg CMD: OPT must be ..., not 'ARG'", and -1; the caller exits with the
 * usage status (cmd/exit.h).  The *_buf versions append that line (no
 * newline) to `err`, for parsers that print nothing themselves; the others
 * print it on stderr.
 */
#ifndef JM_CMD_OPTS_H
#define JM_CMD_OPTS_H

#include <stddef.h>
#include <stdint.h>

#include "jmsg.h"

/* A decimal integer in [min, max]. */
int opt_uint(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max,
	     uint64_t *out);
int opt_uint_buf(jm_buf *err, const char *cmd, const char *opt, const char *arg, uint64_t min,
		 uint64_t max, uint64_t *out);
/* The parsing alone, for callers with their own message: a byte count with
 * an optional k, m or g suffix (powers of 1024), digits only before it.
 * Returns 0, or -1 if `arg` is not one or it does not fit in 64 bits. */
int opt_parse_size(const char *arg, uint64_t *out);
/* A byte count, with an optional k, m or g suffix (powers of 1024). */
int opt_size(const char *cmd, const char *opt, const char *arg, uint64_t *out);
int opt_size_buf(jm_buf *err, const char *cmd, const char *opt, const char *arg, uint64_t *out);
/* Durations.  A decimal number ("2", "2.5", ".5", "1e-3"; no sign)
 * with an optional unit: ns, us, ms, s, m (minutes) or h.  A bare number
 * is in the option's own unit, `bare_ns` nanoseconds (OPT_S for seconds,
 * OPT_MS for milliseconds), so a value that worked before a unit existed
 * still means what it meant.  A value given as more than zero is never
 * zero: it is at least 1 ns.  Returns 0 with *ns, or -1 if `arg` is not
 * one or it is more than max_ns. */
#define OPT_MS 1000000ULL
/* The one paragraph of every --help that takes a duration. */
#define OPT_DURATION_HELP \
	"Durations take a unit: 250us, 500ms, 10s, 2m, 1h.  A bare number is in the\n" \
	"unit the option names (S, SECS: seconds; MS: milliseconds).\n\n"
#define OPT_S 1000000000ULL
int opt_parse_duration(const char *arg, uint64_t bare_ns, uint64_t max_ns, uint64_t *ns);
/* A duration from min_ns to max_ns.  The bad-value line names the range in
 * the bare unit: "jmsg CMD: OPT must be seconds from 0 to 86400, or a
 * duration such as 500ms, 10s or 2m, not 'ARG'"; with cmd NULL it starts
 * at OPT, for a caller that adds its own prefix. */
int opt_duration_buf(jm_buf *err, const char *cmd, const char *opt, const char *arg,
		     uint64_t bare_ns, uint64_t min_ns, uint64_t max_ns, uint64_t *ns);
/* Seconds when bare, as milliseconds; at most a day.  Any positive value
 * is at least 1 ms (0 alone means "never"). */
int opt_seconds(const char *cmd, const char *opt, const char *arg, uint64_t *ms);
int opt_seconds_buf(jm_buf *err, const char *cmd, const char *opt, const char *arg,
		    uint64_t *ms);
/* The parsing alone: a TCP port, 1 to 65535, digits only.  With `end`, it
 * stops at the first byte that is not a digit and points *end there (a
 * list such as "65432,8080"); without, that byte must be the string's end.
 * Returns 0, or -1 if there is no port there. */
int opt_parse_port(const char *arg, const char **end, uint16_t *out);
/* A TCP port, 1 to 65535, digits only; `out` may be NULL (checked only). */
int opt_port(const char *cmd, const char *opt, const char *arg, uint16_t *out);
int opt_port_buf(jm_buf *err, const char *cmd, const char *opt, const char *arg, uint16_t *out);

/* The TCP ports a BPF filter expression names, as tcpdump's users write
 * them: "port N", with any of tcp, src, dst, "src or dst" before it, and
 * "port N or M" (a bare port after and/or keeps the qualifiers), in "and"
 * and "or" expressions, by number or service name.  A negated primitive
 * ("not port 22", "! tcp port 22") names none; nor does "portrange".
 * Fills ports[] (no repeats, at most max) and returns how many. */
size_t opt_filter_ports(const char *filter, uint16_t *ports, size_t max);

/* A parse_args' one-line usage error in err (if any) to stderr, then err
 * freed; returns rc, the parse's exit status, so a subcommand can end with
 * `return opt_usage_error(&err, rc);`. */
int opt_usage_error(jm_buf *err, int rc);

#endif
