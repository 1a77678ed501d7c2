/*
 * pair: which response answers which request (stream.h, "Pairing").  Per
 * stream, a queue of the first-byte times of unanswered requests; a
 * response takes the oldest.
 */
#include <stdlib.h>

#include "tcp/stream_int.h"

/* Requests awaiting their response, per stream.  Beyond this the oldest
 * are forgotten, so a client that never hears back cannot grow memory:
 * the engine counts them, and as many responses, the oldest, which answer
 * them, get no latency; every later response still pairs with its own
 * request. */
#define MAX_OUTSTANDING 1024

/* Messages may have been lost in h's direction (a gap, lost framing,
 * bytes dropped while hunting, a direction picked up without its SYN).
 * Which response answers which request is then unknown past the requests
 * already queued: a lost request shifts every later response onto the
 * wrong request, a lost response every later request.  So no more
 * requests are queued on this stream, and after a lost response the
 * queued ones are forgotten too.  A response then gets no latency rather
 * than a wrong one. */
void pairing_loss(struct an_half *h)
{
	struct an_stream *s = h->st;
	s->rq_closed = true;
	if (h->dir == AN_S2C) {
		s->rq_len = 0;
		s->rq_forgot = 0;
	}
}

/* A message of h's direction whose boundaries are known, from its first
 * byte at first_ns to its last at last_ns, whether it is reported or not
 * (a codec error or a memory cap may have rejected it): a request the
 * server may answer, or a response that answers the oldest request.  A
 * request is queued; a response takes the oldest queued request and
 * returns true with *latency_ms, or false when its request is unknown:
 * forgotten, or not queued after a loss. */
bool pairing_seen(struct an_half *h, int64_t first_ns, int64_t last_ns, double *latency_ms)
{
	struct an_stream *s = h->st;
	if (h->dir == AN_C2S) {
		if (s->rq_closed)
			return false;
		if (s->rq_len == MAX_OUTSTANDING) {
			s->rq_head = (s->rq_head + 1) % s->rq_cap;
			s->rq_len--;
			s->rq_forgot++;
		}
		if (s->rq_len == s->rq_cap) {
			size_t cap = s->rq_cap ? s->rq_cap * 2 : 4;
			int64_t *q = malloc(cap * sizeof *q);
			if (!q) {
				/* This request cannot be queued: the ones
				 * before it still pair, nothing after it. */
				s->rq_closed = true;
				return false;
			}
			for (size_t i = 0; i < s->rq_len; i++)
				q[i] = s->rq[(s->rq_head + i) % s->rq_cap];
			free(s->rq);
			s->rq = q;
			s->rq_cap = cap;
			s->rq_head = 0;
		}
		s->rq[(s->rq_head + s->rq_len) % s->rq_cap] = first_ns;
		s->rq_len++;
		return false;
	}
	if (s->rq_forgot) {
		s->rq_forgot--;
		return false;
	}
	if (!s->rq_len)
		return false;
	int64_t t = s->rq[s->rq_head];
	s->rq_head = (s->rq_head + 1) % s->rq_cap;
	s->rq_len--;
	*latency_ms = (double)(last_ns - t) / 1e6;
	return true;
}
