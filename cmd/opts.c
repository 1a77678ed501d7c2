/*
 * opts: strict number parsing for command-line options; see opts.h.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/opts.h"

int opt_uint(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max,
	     uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (!isdigit((unsigned char)arg[0]) || *end || errno || v < min || v > max) {
		fprintf(stderr, "jmsg %s: %s must be a whole number from %llu to %llu, not '%s'\n",
			cmd, opt, (unsigned long long)min, (unsigned long long)max, arg);
		return -1;
	}
	*out = v;
	return 0;
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

int opt_size(const char *cmd, const char *opt, const char *arg, uint64_t *out)
{
	uint64_t v;
	/* Past 2^60 bytes a size is a typing mistake, not a limit anyone means. */
	if (opt_parse_size(arg, &v) || v > (UINT64_MAX >> 4)) {
		fprintf(stderr, "jmsg %s: %s must be a byte count such as 65536 or 64k, not '%s'\n",
			cmd, opt, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int opt_seconds(const char *cmd, const char *opt, const char *arg, uint64_t *ms)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (!(isdigit((unsigned char)arg[0]) || arg[0] == '.') || *end || errno || !isfinite(v) ||
	    v < 0 || v > 86400) {
		fprintf(stderr, "jmsg %s: %s must be seconds from 0 to 86400 (e.g. 2.5), not '%s'\n",
			cmd, opt, arg);
		return -1;
	}
	*ms = (uint64_t)llround(v * 1000);
	/* 0 means "never" to every timeout: a duration given as more than
	 * zero must not round to it. */
	if (v > 0 && *ms == 0)
		*ms = 1;
	return 0;
}
