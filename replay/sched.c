/*
 * sched: replay timing rules; see sched.h.
 */
#include <math.h>

#include "replay/sched.h"

uint64_t rp_sched_scale(const rp_pace *p, double dt)
{
	if (p->asap || !(dt > 0) || !(p->speed > 0))
		return 0;
	double ns = dt / p->speed * 1e9;
	/* A day is far beyond any capture a test replays; clamp, never wrap. */
	if (!(ns < 86400e9))
		ns = 86400e9;
	return (uint64_t)llround(ns);
}

uint64_t rp_sched_stream_start(const rp_pace *p, uint64_t replay_start, double t0,
			       const rp_stream *s)
{
	return replay_start + rp_sched_scale(p, s->ts_begin - t0);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

uint64_t rp_sched_request_due(const rp_pace *p, const rp_stream *s, size_t k,
			      const rp_progress *pr)
{
	if (k >= s->n[RP_REQ])
		return RP_NEVER;
	const rp_msg *q = &s->msg[RP_REQ][k];
	size_t wait_for = q->after_responses;
	if (pr->answered < wait_for)
		return RP_NEVER;
	uint64_t due;
	if (k == 0)
		due = pr->started + rp_sched_scale(p, q->ts_first - s->ts_begin);
	else
		due = pr->last_sent + rp_sched_scale(p, q->ts_first - s->msg[RP_REQ][k - 1].ts_first);
	if (wait_for > 0 && wait_for <= s->n[RP_RESP]) {
		const rp_msg *r = &s->msg[RP_RESP][wait_for - 1];
		due = max_u64(due, pr->answered_at[wait_for - 1] +
					   rp_sched_scale(p, q->ts_first - r->ts_last));
	}
	return due;
}
