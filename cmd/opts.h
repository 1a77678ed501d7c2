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
/* Seconds, fractions allowed ("0.5"), as milliseconds; at most a day.  Any
 * positive value is at least 1 ms (0 alone means "never"). */
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
