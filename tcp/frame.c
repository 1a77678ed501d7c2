/*
 * frame: the engine with another framing than jmsg (an_config.framing).
 * Each direction's in-order bytes, gaps and end go to a jmf_decoder
 * (proto/framing_codec.h) instead of the jmsg codec; its messages, errors
 * and resyncs come out through the same sinks.  See "Other framings" in
 * stream.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/stream_int.h"

/* The decoder's buffer, counted against stream_memcap (with the
 * direction's held out-of-order bytes) and memcap.  A refusal sets
 * fcapped: the decoder then reports framing_out_of_memory, shown as a
 * memcap problem. */
static void *frame_alloc(void *ctx, void *p, size_t size)
{
	struct an_half *h = ctx;
	an_engine *e = h->st->e;
	size_t old = h->fheld;
	if (!size) {
		free(p);
		e->mem.used -= old;
		h->fheld = 0;
		return NULL;
	}
	if (size > old) {
		size_t add = size - old;
		if (h->fheld + add + h->r.held_bytes > e->cfg.stream_memcap ||
		    (e->cfg.memcap && e->mem.used + add > e->cfg.memcap)) {
			h->fcapped = true;
			return NULL;
		}
	}
	void *q = realloc(p, size);
	if (!q)
		return NULL;
	e->mem.used = e->mem.used - old + size;
	if (e->mem.used > e->mem.peak)
		e->mem.peak = e->mem.used;
	h->fheld = size;
	return q;
}

static void frame_message(struct an_half *h, const jmf_event *ev)
{
	struct an_stream *s = h->st;
	an_engine *e = s->e;
	/* Its first byte came in the latest chunk, or it began earlier.  It
	 * ends now: in this chunk, or for close at its FIN; but raw's ends at
	 * its last byte, before the other side's data or its FIN told so. */
	struct ts_mark first = ev->offset >= h->flast.off ? h->flast : h->fstart;
	size_t bad;
	bool text = jm_utf8_valid(ev->payload, ev->payload_len, &bad);
	an_message m = {
		.s = sid(s), .dir = h->dir, .index = h->index++, .offset = ev->offset,
		.ts_first = (double)first.ts / 1e9, .ts_first_ns = first.ts, .frame = first.frame,
		.ts_last = e->now, .ts_last_ns = e->now_ns, .frame_last = frame_now(e, s),
		.content_length = ev->payload_len,
		.content = ev->payload, .framing = e->cfg.framing.name,
		.wire_length = ev->length, .content_is_text = text,
	};
	if (e->cfg.framing.kind == JMF_RAW) {
		m.ts_last = (double)h->flast.ts / 1e9;
		m.ts_last_ns = h->flast.ts;
		m.frame_last = h->flast.frame;
	}
	m.content_kept = text || ev->payload_len < e->cfg.max_hex ? ev->payload_len
								     : e->cfg.max_hex;
	m.content_cut = m.content_kept < m.content_length;
	message_emit(s, h->dir, &m);
}

static void frame_error(struct an_half *h, const jmf_event *ev)
{
	struct an_stream *s = h->st;
	an_engine *e = s->e;
	if (ev->error == JM_FERR_FRAMING_OUT_OF_MEMORY && h->fcapped) {
		snprintf(e->detail, sizeof e->detail,
			 "the message at offset %llu needs more than the memory caps allow "
			 "(--stream-memcap, --memcap); the rest of the direction is not decoded",
			 (unsigned long long)ev->msg_offset);
		problem(h, false, JM_PROB_MEMCAP, ev->msg_offset, ev->offset - ev->msg_offset,
			e->detail);
		return;
	}
	an_problem p = {
		.s = sid(s), .dir = h->dir, .ts = e->now, .ts_ns = e->now_ns,
		.offset = ev->offset, .is_codec = true, .is_framing = true, .ferror = ev->error,
		.detail = ev->detail,
	};
	p.frame = p.frame_last = frame_now(e, s);
	e->st.ferrors[ev->error]++;
	for (int i = 0; i < e->n_sinks; i++)
		if (e->sinks[i].problem)
			e->sinks[i].problem(e->sinks[i].user, &p);
}

static int on_fevent(void *user, const jmf_event *ev)
{
	struct an_half *h = user;
	an_engine *e = h->st->e;
	switch (ev->type) {
	case JMF_EV_MESSAGE:
		frame_message(h, ev);
		break;
	case JMF_EV_ERROR:
		frame_error(h, ev);
		break;
	case JMF_EV_RESYNC:
		snprintf(e->detail, sizeof e->detail,
			 "decoding resumes at offset %llu, %llu bytes after the framing was lost",
			 (unsigned long long)ev->offset, (unsigned long long)ev->length);
		problem(h, false, JM_PROB_RESYNC, ev->offset, ev->length, e->detail);
		break;
	}
	return JM_CB_OK;
}

bool frame_half_init(struct an_half *h)
{
	an_engine *e = h->st->e;
	h->fheld = 0;
	h->fcapped = false;
	h->fstart = h->flast = (struct ts_mark){0, e->now_ns, frame_now(e, h->st)};
	h->fdec = malloc(sizeof *h->fdec);
	if (!h->fdec)
		return false;
	jmf_decoder_init(h->fdec, &e->cfg.framing, on_fevent, h);
	jmf_decoder_set_alloc(h->fdec, frame_alloc, h);
	return true;
}

void frame_half_free(struct an_half *h)
{
	if (!h->fdec)
		return;
	jmf_decoder_free(h->fdec);
	free(h->fdec);
	h->fdec = NULL;
}

/* In-order bytes at stream offset `off`.  For raw, this side sending ends
 * the other side's message. */
void frame_data(struct an_half *h, uint64_t off, const uint8_t *p, size_t n)
{
	an_engine *e = h->st->e;
	struct an_half *peer = &h->st->h[!h->dir];
	if (!h->fdec)
		return;
	if (peer->fdec)
		jmf_decoder_boundary(peer->fdec);
	h->flast = (struct ts_mark){off, e->now_ns, frame_now(e, h->st)};
	jmf_decoder_feed(h->fdec, p, n);
	/* A message still open that began in this chunk: its time. */
	if (h->fdec->msg_offset >= off)
		h->fstart = h->flast;
}

void frame_gap(struct an_half *h, uint64_t n)
{
	if (h->fdec)
		jmf_decoder_gap(h->fdec, n);
}

/* The direction ended: at its FIN (once every byte before it is in), or
 * with the stream.  Once only: the decoder has failed after it. */
void frame_finish(struct an_half *h)
{
	if (h->fdec && !jmf_decoder_failed(h->fdec))
		jmf_decoder_finish(h->fdec);
}
