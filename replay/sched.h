/*
 * sched: when replay does each thing, as pure arithmetic on capture times
 * and the live times of what already happened.  No clock is read here, so
 * tests check the rules with numbers.
 *
 * Times are nanoseconds on the caller's monotonic clock; capture times are
 * seconds.  A capture interval dt becomes dt / speed nanoseconds, or 0 with
 * --asap; negative intervals (clock steps in the capture) become 0.
 *
 *   stream start   replay start + (stream's first segment - first selected
 *                  stream's first segment) / speed.  A stream waits beyond
 *                  that while --concurrency streams are already open.
 *   request k      only once the live server has completed as many
 *                  responses on this connection as the capture shows
 *                  complete before the client began request k
 *                  (after_responses), so pipelining is the capture's; and
 *                  then no sooner than the capture's spacing after both the
 *                  previous request and that last awaited response.  The
 *                  first request keeps its spacing from the connection's
 *                  first segment.
 */
#ifndef JM_REPLAY_SCHED_H
#define JM_REPLAY_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay/conv.h"

#define RP_NEVER UINT64_MAX

typedef struct rp_pace {
	double speed;   /* > 0; ignored with asap */
	bool asap;
} rp_pace;

/* A capture interval in seconds as live nanoseconds. */
uint64_t rp_sched_scale(const rp_pace *p, double dt);

/* When stream `s` should connect. */
uint64_t rp_sched_stream_start(const rp_pace *p, uint64_t replay_start, double t0,
			       const rp_stream *s);

/* What a connection has done so far, in live time. */
typedef struct rp_progress {
	uint64_t started;          /* connect() began */
	size_t sent;               /* requests whose sending began */
	uint64_t last_sent;        /* when the latest of them began */
	size_t answered;           /* responses completed */
	const uint64_t *answered_at; /* [answered]: when each completed */
} rp_progress;

/* When request `k` (== pr->sent) may begin: a time, or RP_NEVER while
 * it still waits for a response. */
uint64_t rp_sched_request_due(const rp_pace *p, const rp_stream *s, size_t k,
			      const rp_progress *pr);

#endif
