/*
 * timefmt: the time column of text output, as tcpdump's -t options give
 * it (`jmsg analyze --time`):
 *
 *   relative  seconds since the capture's first packet (its frame 1, even
 *             when a filter passes over it; live, the first packet
 *             captured), "%11.6f": Wireshark's frame.time_relative
 *   absolute  the wall clock, local time of day, "HH:MM:SS.ffffff"
 *             (tcpdump's default)
 *   epoch     seconds since 1970, "S.ffffff" (tcpdump -tt)
 *   delta     seconds since the previous line written with this clock,
 *             0 for the first (tcpdump -ttt), "%11.6f"
 *
 * Times are nanoseconds and shown to the microsecond, rounded down as
 * tcpdump does (capture times are whole microseconds in most files).  One
 * tf_clock serves every writer of one output, so delta counts from the
 * line before, whoever wrote it.
 */
#ifndef JM_TCP_TIMEFMT_H
#define JM_TCP_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tf_mode { TF_RELATIVE = 0, TF_ABSOLUTE, TF_EPOCH, TF_DELTA } tf_mode;

typedef struct tf_clock {
	tf_mode mode;
	bool have_t0, have_prev;
	int64_t t0;               /* the capture's first packet (ns) */
	int64_t prev;             /* the last time formatted (delta) */
} tf_clock;

/* The longest column tf_format() writes, with its NUL. */
#define TF_MAX 40

/* "relative", "absolute", "epoch" or "delta": 0 with *m set, else -1. */
int tf_parse(const char *s, tf_mode *m);
/* The column for time ns into buf (NUL-terminated); its length.  Before
 * t0 is set, relative counts from ns itself. */
size_t tf_format(tf_clock *c, int64_t ns, char buf[TF_MAX]);

#endif
