/*
 * rate: the schedule of `jmsg client --load --rate R`, as pure arithmetic.
 * No clock is read here, so tests check the rules with plain numbers.
 *
 * One schedule for the whole run, whatever the number of connections:
 * request i (counting from 0) is due at
 *
 *     start + floor(i * 10^9 / R) ns
 *
 * so every second of the run holds exactly R due times and the total is R
 * per second however the requests are spread over connections.  The load
 * generator sends a request once it is due, whether or not earlier answers
 * have come back (open loop), and measures its latency from this due time,
 * not from when it was written: a request that had to wait in the client
 * because the server stalled still counts the wait (wrk2's correction for
 * coordinated omission).
 *
 * Times are nanoseconds from the start of the run.  R is 1 .. RATE_MAX;
 * the arithmetic is exact (integers, no rounding drift over long runs) and
 * saturates instead of wrapping.
 */
#ifndef JM_CLIENT_RATE_H
#define JM_CLIENT_RATE_H

#include <stdint.h>

/* Requests per second at most: a due time every 100 ns.  Far above what
 * one event loop sends, and it keeps every product below 2^64. */
#define RATE_MAX 10000000u

/* When request i is due, in ns from the start; UINT64_MAX past 584 years. */
uint64_t rate_due(uint64_t per_sec, uint64_t i);

/* How many requests are due strictly before `ns`: those a run of `ns`
 * nanoseconds holds (--duration), ceil(ns * R / 10^9). */
uint64_t rate_count(uint64_t per_sec, uint64_t ns);

/* How many requests are due at or before `ns`: the index of the first one
 * still in the future. */
uint64_t rate_due_by(uint64_t per_sec, uint64_t ns);

#endif
