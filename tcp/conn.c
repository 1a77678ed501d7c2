/*
 * conn: a connection's begin and end, for the stream engine (stream.h).
 * Which stream a segment belongs to and which side is the client, when a
 * reset is believed, and the four-tuples of streams that ended with FINs
 * or a reset, whose late segments start no new stream.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/seq.h"
#include "tcp/stream_int.h"

/* Four-tuples of streams that ended with FINs or a reset are remembered
 * this long (capture time; Linux's TIME_WAIT), so that their late segments
 * (the rest of a response in flight when the reset went out, a
 * retransmission after the last ACK) start no phantom mid-stream stream.
 * The table is direct-mapped: a collision only forgets an older tuple. */
#define CLOSED_SLOTS 1024
#define CLOSED_LINGER_NS (60 * 1000000000LL)
/* A late segment is the old stream's only if its sequence number is this
 * close to where that side's bytes ended; one far from it is a new
 * connection whose handshake the capture missed (ISNs are random). */
#define LATE_WINDOW ((int64_t)16 << 20)

struct closed_slot {
	flow_key k;
	int64_t until_ns;         /* 0: empty */
	bool has_end[2];          /* [0]: sent by k.lo, [1]: by k.hi */
	uint32_t end_seq[2];      /* sequence number after that side's last byte */
};

/* A reset is believed when its sequence number is this close to the
 * sender's delivery point: a little behind (nothing legitimate is), or
 * ahead by up to what a sender may have in flight that the capture has
 * not shown yet.  Anything else is a forged reset or another
 * connection's, and must not end this stream (RFC 5961 in spirit). */
#define RST_BEHIND 65536
#define RST_AHEAD ((int64_t)64 << 20)

const char *an_state_name(an_state s)
{
	switch (s) {
	case AN_OPEN: return "open";
	case AN_CLOSED: return "closed";
	case AN_RESET: return "reset";
	case AN_EXPIRED: return "expired";
	}
	return "?";
}

static void stream_info(struct an_stream *s, an_phase ph, an_state state)
{
	an_engine *e = s->e;
	an_stream_info si = {
		.s = sid(s), .phase = ph, .state = state, .ts = e->now, .ts_ns = e->now_ns, .midstream = s->midstream,
		.requests = s->requests, .responses = s->responses,
		.bytes = {s->h[0].bytes, s->h[1].bytes},
		.gaps = {s->h[0].gap_bytes, s->h[1].gap_bytes},
	};
	for (int i = 0; i < e->n_sinks; i++)
		if (e->sinks[i].stream)
			e->sinks[i].stream(e->sinks[i].user, &si);
}

static struct closed_slot *closed_slot(an_engine *e, const flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < sizeof *k; i++)
		h = (h ^ p[i]) * 16777619u;
	return &e->closed[h % CLOSED_SLOTS];
}

static void closed_note(an_engine *e, const struct an_stream *s)
{
	if (!e->closed && !(e->closed = calloc(CLOSED_SLOTS, sizeof *e->closed)))
		return; /* no memory: late segments start streams, as before */
	const flow_key *k = &s->f->key;
	struct closed_slot *c = closed_slot(e, k);
	c->k = *k;
	c->until_ns = e->now_ns + CLOSED_LINGER_NS;
	for (int d = 0; d < 2; d++) {
		const reasm *r = &s->h[d].r;
		int side = (d == AN_C2S) == s->client_is_lo ? 0 : 1;
		c->has_end[side] = r->started;
		c->end_seq[side] = r->base + (uint32_t)r->next;
	}
}

/* Is a segment of 4-tuple k, sent by the lower endpoint or not, with
 * sequence number seq, a late one of a stream that ended recently? */
bool stream_closed_recently(an_engine *e, const flow_key *k, bool src_is_lo, uint32_t seq)
{
	if (!e->closed)
		return false;
	struct closed_slot *c = closed_slot(e, k);
	if (!c->until_ns || e->now_ns >= c->until_ns || memcmp(&c->k, k, sizeof *k))
		return false;
	int side = src_is_lo ? 0 : 1;
	if (!c->has_end[side])
		return true;  /* that side never sent: nothing to tell it by */
	int64_t d = seq_diff(seq, c->end_seq[side]);
	return d >= -LATE_WINDOW && d <= LATE_WINDOW;
}

void stream_end(an_engine *e, struct an_stream *s, an_state state)
{
	for (int i = 0; i < 2; i++) {
		struct an_half *h = &s->h[i];
		if (!h->r.started)
			continue;
		reasm_flush(&h->r);
		if (framed(e))
			frame_finish(h);
		else if (!h->hunting && !h->drop_left)
			jm_decoder_finish(&h->dec);
	}
	stream_info(s, AN_END, state);
	if (state == AN_CLOSED || state == AN_RESET)
		closed_note(e, s);
	flow_table_remove(e->ft, s->f);
}

static struct an_stream *stream_new(an_engine *e, const flow_key *k, const cap_segment *seg,
				    bool src_is_lo)
{
	if (e->cfg.max_streams && flow_table_count(e->ft) >= e->cfg.max_streams) {
		flow *old = flow_table_oldest(e->ft);
		if (old) {
			struct an_stream *os = stream_of(e, old);
			snprintf(e->detail, sizeof e->detail,
				 "stream table full (%zu streams): the least recently active stream ends",
				 e->cfg.max_streams);
			problem(&os->h[0], false, JM_PROB_MEMCAP, os->h[0].r.next, 0, e->detail);
			stream_end(e, os, AN_EXPIRED);
		}
	}
	bool created;
	flow *f = flow_table_get(e->ft, k, true, seg->ts, &created);
	if (!f)
		return NULL;
	struct an_stream *s = stream_of(e, f);
	s->e = e;
	s->f = f;
	bool src_is_client;
	if ((seg->flags & (CAP_SYN | CAP_ACK)) == CAP_SYN)
		src_is_client = true;
	else if (seg->flags & CAP_SYN)
		src_is_client = false;  /* SYN-ACK: sent by the server */
	else if (e->role_set)
		src_is_client = e->role_client_is_lo == src_is_lo;
	else if (port_tracked(e, seg->dst.port))
		src_is_client = true;
	else
		src_is_client = !port_tracked(e, seg->src.port);
	s->client_is_lo = src_is_client == src_is_lo;
	s->midstream = !(seg->flags & CAP_SYN);
	s->cid[0] = 0;
	half_init(e, s, AN_C2S);
	half_init(e, s, AN_S2C);
	e->st.streams++;
	stream_info(s, AN_BEGIN, AN_OPEN);
	return s;
}

/* The stream a segment belongs to: its 4-tuple's, or a new one if the
 * segment starts one (a SYN on a used 4-tuple with another ISN ends the
 * old stream first).  NULL if it belongs to none. */
struct an_stream *segment_stream(an_engine *e, const flow_key *k, const cap_segment *seg,
				 bool src_is_lo)
{
	flow *f = flow_table_get(e->ft, k, false, seg->ts, NULL);
	struct an_stream *s;
	bool syn_only = (seg->flags & (CAP_SYN | CAP_ACK)) == CAP_SYN;
	if (f) {
		s = stream_of(e, f);
		an_dir d = (src_is_lo == s->client_is_lo) ? AN_C2S : AN_S2C;
		/* A new SYN on a used 4-tuple with another ISN: a new connection. */
		if (syn_only && (d != AN_C2S || (s->h[AN_C2S].r.started &&
						  s->h[AN_C2S].r.base != seg->seq + 1))) {
			stream_end(e, s, AN_CLOSED);
			f = NULL;
		}
	}
	if (!f) {
		/* Only a SYN or data starts a stream: a stray ACK, FIN or RST of a
		 * stream already over must not start another. */
		if ((seg->flags & CAP_RST) || (!(seg->flags & CAP_SYN) && !seg->payload_wire))
			return NULL;
		/* Nor does a late segment of a stream that just ended: only a
		 * new SYN reopens its four-tuple. */
		if (!(seg->flags & CAP_SYN) && stream_closed_recently(e, k, src_is_lo, seg->seq)) {
			e->st.after_end++;
			return NULL;
		}
		s = stream_new(e, k, seg, src_is_lo);
		if (!s)
			return NULL;
		if (s->midstream) {
			an_dir d = (src_is_lo == s->client_is_lo) ? AN_C2S : AN_S2C;
			snprintf(e->detail, sizeof e->detail,
				 "stream picked up without its handshake; decoding starts at the first message boundary");
			problem(&s->h[d], false, JM_PROB_MIDSTREAM, 0, 0, e->detail);
		}
	}
	return s;
}

/* A reset sent in direction d with sequence number seq: it ends the
 * stream if its number is near the sender's (see RST_BEHIND). */
void stream_reset(an_engine *e, struct an_stream *s, an_dir d, uint32_t seq)
{
	struct an_half *h = &s->h[d];
	if (h->r.started) {
		int64_t so = reasm_seq_offset(&h->r, seq), nx = (int64_t)h->r.next;
		if (so < nx - RST_BEHIND || so > nx + RST_AHEAD) {
			e->st.bad_resets++;
			return;
		}
	}
	snprintf(e->detail, sizeof e->detail, "the %s sent a reset",
		 d == AN_C2S ? "client" : "server");
	problem(h, false, JM_PROB_RESET, h->r.next, 0, e->detail);
	stream_end(e, s, AN_RESET);
}
