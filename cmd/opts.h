/*
 * opts: command-line values checked the same way by every subcommand.
 * Each prints one line naming the command, the option and the bad value,
 * and returns -1; the caller exits with the usage status.
 */
#ifndef JMSG_OPTS_H
#define JMSG_OPTS_H

#include <stdint.h>

/* A decimal integer in [min, max]. */
int opt_uint(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max,
	     uint64_t *out);
/* The parsing alone, for callers with their own message: a byte count with
 * an optional k, m or g suffix (powers of 1024), digits only before it.
 * Returns 0, or -1 if `arg` is not one or it does not fit in 64 bits. */
int opt_parse_size(const char *arg, uint64_t *out);
/* A byte count, with an optional k, m or g suffix (powers of 1024). */
int opt_size(const char *cmd, const char *opt, const char *arg, uint64_t *out);
/* Seconds, fractions allowed ("0.5"), as milliseconds; at most a day.  Any
 * positive value is at least 1 ms (0 alone means "never"). */
int opt_seconds(const char *cmd, const char *opt, const char *arg, uint64_t *ms);

#endif
