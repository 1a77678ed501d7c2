/*
 * stream: the analyzer engine, gluing flows, reassembly and the codec.
 * See stream.h for what comes out.  A connection's begin and end are in
 * conn.c, the hunt for a message boundary in hunt.c, request/response
 * pairing in pair.c; stream_int.h is what the four share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/stream_int.h"

/* A decoder whose content buffer grew past this is rebuilt between
 * messages, so one huge message does not pin memory for the stream's life. */
#define DECODER_SHRINK (1u << 20)
#define EXPIRE_EVERY AN_EXPIRE_EVERY

static const reasm_ops half_ops;
static int on_event(void *user, const jm_event *ev);
static void segment_body(an_engine *e, const cap_segment *seg);

void an_config_defaults(an_config *c)
{
	memset(c, 0, sizeof *c);
	c->idle_timeout = 300;
	c->memcap = (size_t)1 << 30;
	c->stream_memcap = ((size_t)80) << 20;
	c->max_streams = 1000000;
	c->max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN;
	c->max_hex = 1024;
	c->overlap_history = 2048;
	jmf_builtin(&c->framing, JMF_JMSG);
}

an_stream_id sid(const struct an_stream *s)
{
	an_stream_id id = {s->f->id, s->client_is_lo ? &s->f->key.lo : &s->f->key.hi,
			   s->client_is_lo ? &s->f->key.hi : &s->f->key.lo,
			   (char *)s->cid}; /* a cache an_community_id() fills */
	return id;
}

const char *an_community_id(const an_stream_id *s)
{
	if (!s->cid[0])
		community_id(s->client, s->server, 6, 0, s->cid);
	return s->cid;
}

/* ---------------------------------------------------------------- reporting */

static void send_problem(struct an_half *h, an_problem *p)
{
	an_engine *e = h->st->e;
	for (int i = 0; i < e->n_sinks; i++)
		if (e->sinks[i].problem)
			e->sinks[i].problem(e->sinks[i].user, p);
}

static an_problem problem_new(struct an_half *h, bool is_codec, int kind, uint64_t off,
			      uint64_t bytes, const char *detail)
{
	an_engine *e = h->st->e;
	an_problem p = {
		.s = sid(h->st), .dir = h->dir, .ts = e->now, .ts_ns = e->now_ns, .offset = off,
		.is_codec = is_codec, .bytes = bytes, .detail = detail,
	};
	p.frame = p.frame_last = frame_now(e, h->st);
	if (is_codec) {
		p.error = (jm_error)kind;
		e->st.errors[kind]++;
	} else {
		p.prob = (jm_problem)kind;
		e->st.problems[kind]++;
	}
	return p;
}

void problem(struct an_half *h, bool is_codec, int kind, uint64_t off, uint64_t bytes,
	     const char *detail)
{
	an_problem p = problem_new(h, is_codec, kind, off, bytes, detail);
	send_problem(h, &p);
}

/* ---------------------------------------------------------------- memory */

static bool reserve(struct an_half *h, size_t n)
{
	an_engine *e = h->st->e;
	if (h->reserved + n + h->r.held_bytes > e->cfg.stream_memcap)
		return false;
	if (e->cfg.memcap && e->mem.used + n > e->cfg.memcap)
		return false;
	h->reserved += n;
	e->mem.used += n;
	if (e->mem.used > e->mem.peak)
		e->mem.peak = e->mem.used;
	return true;
}

static void release(struct an_half *h)
{
	h->st->e->mem.used -= h->reserved;
	h->reserved = 0;
}

/* ---------------------------------------------------------------- arrival times
 *
 * A message's time is that of the chunk (on_data) its first byte came in,
 * but the decoder may see that byte much later: the hunt holds the bytes
 * of every chunk since the first undecided candidate until a whole JSON
 * header is there, and the decoder holds a protoheader's first byte until
 * its second comes.  So each direction keeps marks, oldest first, for the
 * bytes it may still have to time: at most two (the previous chunk's last
 * byte, this chunk) while decoding, held in tm_in; while hunting, one per
 * chunk since the hunt's first pending byte, in a ring that grows on the
 * heap and is counted with the hunt buffer against the caps (a header's
 * worth of one-byte segments would otherwise hold 16 times its size
 * uncounted).  A chunk with its predecessor's time adds no mark. */

static struct ts_mark *mark_at(struct an_half *h, uint32_t i)
{
	struct ts_mark *t = h->tm_heap ? h->tm_heap : h->tm_in;
	return &t[(h->tm_head + i) & (h->tm_cap - 1)];
}

/* Move the marks to a ring of `cap` (tm_in for MARKS_INLINE). */
static bool marks_move(struct an_half *h, uint32_t cap)
{
	struct ts_mark *t = NULL;
	if (cap > MARKS_INLINE && !(t = malloc(cap * sizeof *t)))
		return false;
	struct ts_mark *to = t ? t : h->tm_in;
	for (uint32_t i = 0; i < h->tm_len; i++)
		to[i] = *mark_at(h, i);
	free(h->tm_heap);
	h->tm_heap = t;
	h->tm_cap = cap;
	h->tm_head = 0;
	return true;
}

static void mark_push(struct an_half *h, uint64_t off, int64_t ts, uint64_t frame)
{
	const struct ts_mark *last = h->tm_len ? mark_at(h, h->tm_len - 1) : NULL;
	if (last && last->ts == ts && last->frame == frame)
		return;
	if (h->tm_len == h->tm_cap && !marks_move(h, h->tm_cap * 2))
		return; /* no memory: these bytes take the previous chunk's time */
	*mark_at(h, h->tm_len++) = (struct ts_mark){off, ts, frame};
}

/* When, and in which frame, the byte at `off` arrived. */
static struct ts_mark mark_find(struct an_half *h, uint64_t off)
{
	an_engine *e = h->st->e;
	if (!h->tm_len)
		return (struct ts_mark){off, e->now_ns, frame_now(e, h->st)};
	uint32_t lo = 0, hi = h->tm_len; /* the last mark at or before off */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (mark_at(h, mid)->off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return *mark_at(h, lo);
}

/* Bytes before `from` will not be timed again: drop their marks. */
static void marks_trim(struct an_half *h, uint64_t from)
{
	while (h->tm_len > 1 && mark_at(h, 1)->off <= from) {
		h->tm_head = (h->tm_head + 1) & (h->tm_cap - 1);
		h->tm_len--;
	}
	if (h->tm_heap && (uint64_t)h->tm_len * 4 <= h->tm_cap) {
		uint32_t cap = h->tm_cap / 2;
		while (cap > MARKS_INLINE && (uint64_t)h->tm_len * 4 <= cap)
			cap /= 2;
		marks_move(h, cap); /* no memory: keep the larger ring */
	}
}

/* ---------------------------------------------------------------- decoding */

static void maybe_shrink(struct an_half *h)
{
	jm_decoder *d = &h->dec;
	if (d->buf_cap > DECODER_SHRINK && jm_decoder_idle(d)) {
		uint64_t off = d->offset;
		jm_decoder_config cfg = d->cfg;
		jm_decoder_free(d);
		jm_decoder_init(d, &cfg, on_event, h);
		jm_decoder_reset(d, off);
	}
}

/* In-order bytes of one direction: into the decoder, or through the hunt
 * for a message boundary. */
static void half_bytes(struct an_half *h, uint64_t off, const uint8_t *p, size_t n)
{
	while (n) {
		if (h->drop_left) {
			size_t k = h->drop_left < n ? (size_t)h->drop_left : n;
			h->drop_left -= k;
			p += k;
			n -= k;
			off += k;
			if (!h->drop_left)
				jm_decoder_reset(&h->dec, off);
			continue;
		}
		if (!h->hunting) {
			size_t c = jm_decoder_feed(&h->dec, p, n);
			if (!jm_decoder_failed(&h->dec)) {
				maybe_shrink(h);
				return;
			}
			p += c;
			n -= c;
			off += c;
			if (h->drop_left)
				continue; /* a cap refused this content: skip exactly it */
			/* Framing is lost: how many messages the hunt passes over
			 * is unknown.  (A bad message of known length is skipped
			 * by the decoder and counts as seen, not lost.) */
			pairing_loss(h);
			hunt_begin(h, HUNT_ERROR, off);
			continue;
		}
		if (!hunt_bytes(h, off, p, n))
			return;
		/* Found: decode from the boundary, out of the hunt's buffer. */
		off = h->hunt_off;
		p = jm_buf_head(&h->feed);
		n = jm_buf_pending(&h->feed);
	}
}

static void on_data(void *user, uint64_t off, const uint8_t *p, size_t n)
{
	struct an_half *h = user;
	if (!n)
		return;
	an_engine *e = h->st->e;
	h->bytes += n;
	if (framed(e)) {
		frame_data(h, off, p, n);
		return;
	}
	mark_push(h, off, e->now_ns, frame_now(e, h->st));
	half_bytes(h, off, p, n);
	/* What may still need a time: the hunt's pending bytes, or a
	 * protoheader's first byte. */
	marks_trim(h, h->hunting ? h->hunt_off : off + n - 1);
	if (h->hunting)
		hunt_account(h, jm_buf_pending(&h->hunt)); /* no more than before */
}

static void on_gap(void *user, uint64_t off, uint64_t n, reasm_gap_why why)
{
	struct an_half *h = user;
	an_engine *e = h->st->e;
	int kind = why == REASM_GAP_LOST ? JM_PROB_GAP
		   : why == REASM_GAP_TRUNCATED ? JM_PROB_TRUNCATED_CAPTURE : JM_PROB_MEMCAP;
	const char *what = why == REASM_GAP_LOST ? "missing from the capture"
			   : why == REASM_GAP_TRUNCATED ? "cut by the snapshot length"
							 : "dropped to respect a memory cap";
	bool mid = !h->hunting && !h->drop_left && !jm_decoder_idle(&h->dec) &&
		   !jm_decoder_failed(&h->dec);
	uint64_t lost = h->dec.msg_offset;
	if (framed(e)) {
		mid = h->fdec && h->fdec->state == JMF_S_MSG && h->fdec->len;
		lost = mid ? h->fdec->msg_offset : 0;
	}
	if (mid)
		snprintf(e->detail, sizeof e->detail, "%llu bytes at offset %llu %s; the message at offset %llu is lost",
			 (unsigned long long)n, (unsigned long long)off, what,
			 (unsigned long long)lost);
	else
		snprintf(e->detail, sizeof e->detail, "%llu bytes at offset %llu %s",
			 (unsigned long long)n, (unsigned long long)off, what);
	h->gap_bytes += n;
	pairing_loss(h);
	problem(h, false, kind, off, n, e->detail);
	release(h);
	h->drop_left = 0;
	if (framed(e))
		frame_gap(h, n);
	else
		hunt_begin(h, HUNT_GAP, off + n);
}

static void on_conflict(void *user, uint64_t off, size_t n)
{
	struct an_half *h = user;
	an_engine *e = h->st->e;
	snprintf(e->detail, sizeof e->detail,
		 "%zu retransmitted bytes at offset %llu differ from the first copy, which is kept",
		 n, (unsigned long long)off);
	problem(h, false, JM_PROB_OVERLAP_CONFLICT, off, n, e->detail);
}

static const reasm_ops half_ops = {on_data, on_gap, on_conflict};

/* A message is complete: its content is what on_event kept, or with
 * content_error set, the bad content in ev (shown as bytes, cut to
 * max_hex). */
static void emit_message(struct an_half *h, const jm_event *ev, jm_error content_error)
{
	struct an_stream *s = h->st;
	an_engine *e = s->e;
	const jm_header *hd = ev->header;
	an_message m = {
		.s = sid(s), .dir = h->dir, .index = h->index++, .offset = ev->msg_offset,
		.ts_first = (double)h->msg_ts / 1e9, .ts_last = e->now,
		.ts_first_ns = h->msg_ts, .ts_last_ns = e->now_ns, .header_len = ev->header_len,
		.frame = h->msg_frame, .frame_last = frame_now(e, s),
		.header = hd, .content_is_json = hd->content_is_json && !content_error,
		.content_length = hd->content_length, .warning = h->warn,
		.content_error = content_error,
	};
	if (content_error) {
		m.content = ev->data;
		m.content_kept = ev->len < e->cfg.max_hex ? ev->len : e->cfg.max_hex;
	} else if (h->content) {
		m.content = h->content;
		m.content_kept = h->content_len;
	} else {
		m.content = h->prefix;
		m.content_kept = h->prefix_len;
	}
	m.content_cut = m.content_kept < m.content_length;
	m.has_latency = pairing_seen(h, m.ts_first_ns, m.ts_last_ns, &m.latency_ms);
	message_emit(s, h->dir, &m);
}

void message_emit(struct an_stream *s, an_dir d, const an_message *m)
{
	an_engine *e = s->e;
	if (d == AN_C2S) {
		e->st.requests++;
		s->requests++;
	} else {
		e->st.responses++;
		s->responses++;
	}
	for (int i = 0; i < e->n_sinks; i++)
		if (e->sinks[i].message)
			e->sinks[i].message(e->sinks[i].user, m);
}

/* A message's header.  A content the engine buffers whole (JSON, or any
 * with full_content) must fit the caps; one that does not is skipped. */
static int on_header(struct an_half *h, const jm_event *ev)
{
	an_engine *e = h->st->e;
	const jm_header *hd = ev->header;
	bool buffered = hd->content_is_json || e->cfg.full_content;
	if (buffered && hd->content_length <= h->dec.cfg.max_content &&
	    !reserve(h, (size_t)hd->content_length)) {
		snprintf(e->detail, sizeof e->detail,
			 "the %llu-byte content of the message at offset %llu is over a memory cap; skipped",
			 (unsigned long long)hd->content_length, (unsigned long long)ev->msg_offset);
		problem(h, false, JM_PROB_MEMCAP, ev->msg_offset, hd->content_length, e->detail);
		/* Its end is known: it still counts in pairing. */
		double unused;
		pairing_seen(h, h->msg_ts, h->msg_ts, &unused);
		h->drop_left = hd->content_length;
		return JM_CB_STOP;
	}
	return JM_CB_OK;
}

static uint8_t *prefix_new(an_engine *e)
{
	if (e->n_prefix_spare)
		return e->prefix_spare[--e->n_prefix_spare];
	return malloc(e->cfg.max_hex);
}

/* A piece of a streamed content: its first max_hex bytes are kept. */
static void keep_chunk(struct an_half *h, const jm_event *ev)
{
	an_engine *e = h->st->e;
	if (h->prefix_len < e->cfg.max_hex) {
		if (!h->prefix)
			h->prefix = prefix_new(e);
		if (h->prefix) {
			size_t k = e->cfg.max_hex - h->prefix_len;
			if (k > ev->len)
				k = ev->len;
			memcpy(h->prefix + h->prefix_len, ev->data, k);
			h->prefix_len += k;
		}
	}
}

/* A whole content: kept whole when buffered, else its first max_hex bytes. */
static void keep_content(struct an_half *h, const jm_event *ev)
{
	an_engine *e = h->st->e;
	if (ev->header->content_is_json || e->cfg.full_content) {
		h->content = ev->data;
		h->content_len = ev->len;
	} else {
		size_t k = ev->len < e->cfg.max_hex ? ev->len : e->cfg.max_hex;
		if (!h->prefix && e->cfg.max_hex)
			h->prefix = prefix_new(e);
		if (h->prefix) {
			memcpy(h->prefix, ev->data, k);
			h->prefix_len = k;
		}
	}
}

static bool content_error(jm_error e)
{
	return e == JM_ERR_CONTENT_NOT_JSON || e == JM_ERR_CONTENT_NOT_UTF8;
}

/* A codec error as a problem: the bad message's first frame, and for an
 * error of its header, its start, protoheader and the header bytes read. */
static void codec_problem(struct an_half *h, const jm_event *ev)
{
	an_problem p = problem_new(h, true, ev->error, ev->offset, 0, ev->detail);
	bool begun = h->msg_off == ev->msg_offset; /* its protoheader was read */
	if (begun)
		p.frame = h->msg_frame;
	if (begun && !content_error(ev->error) && ev->error != JM_ERR_CONTENT_ENCODING_UNSUPPORTED &&
	    ev->error != JM_ERR_OUT_OF_MEMORY) {
		p.has_header = true;
		p.msg_offset = ev->msg_offset;
		p.protoheader = ev->header_len;
		p.header = h->dec.hbuf_len ? h->dec.hbuf : NULL;
		p.header_kept = h->dec.hbuf_len;
	}
	send_problem(h, &p);
}

static void on_error(struct an_half *h, const jm_event *ev)
{
	/* A content error comes after the framing held: the message is
	 * still shown, with its content as bytes, and the error beside it. */
	bool shown = content_error(ev->error) && ev->header && ev->data;
	if (shown)
		emit_message(h, ev, ev->error);
	codec_problem(h, ev);
	if (ev->error == JM_ERR_CONTENT_ENCODING_UNSUPPORTED) {
		h->warn = ev->error;   /* a warning: the message goes on */
		return;
	}
	release(h);
	if (ev->can_continue && !shown) {
		/* A bad message whose end is known (the decoder skips
		 * it) is still a request the server may answer, or a
		 * response answering the oldest request: it counts in
		 * pairing, unreported.  (jmsg's server answers a bad
		 * request with an error and closes; the tutorial's
		 * answers it or closes.)  Lost framing is a loss: see
		 * half_bytes. */
		double unused;
		pairing_seen(h, h->msg_ts, h->msg_ts, &unused);
	}
}

static int on_event(void *user, const jm_event *ev)
{
	struct an_half *h = user;
	int rc = JM_CB_OK;
	switch (ev->type) {
	case JM_EV_PROTOHEADER: {
		struct ts_mark m = mark_find(h, ev->msg_offset);
		h->msg_ts = m.ts;
		h->msg_frame = m.frame;
		h->msg_off = ev->msg_offset;
		h->warn = JM_ERR_NONE;
		h->content = NULL;
		h->content_len = 0;
		h->prefix_len = 0;
		break;
	}
	case JM_EV_HEADER:
		rc = on_header(h, ev);
		break;
	case JM_EV_CONTENT_CHUNK:
		keep_chunk(h, ev);
		break;
	case JM_EV_CONTENT:
		keep_content(h, ev);
		break;
	case JM_EV_MESSAGE:
		emit_message(h, ev, JM_ERR_NONE);
		release(h);
		break;
	case JM_EV_ERROR:
		on_error(h, ev);
		break;
	}
	return rc;
}

/* ---------------------------------------------------------------- streams */

static void stream_fini(flow *f, void *ext, void *user)
{
	struct an_stream *s = ext;
	an_engine *e = user;
	for (int i = 0; i < 2; i++) {
		struct an_half *h = &s->h[i];
		release(h);
		hunt_account(h, 0);
		frame_half_free(h);
		reasm_free(&h->r);
		if (e->n_dec_spare < SPARES) {
			jm_decoder_spare *sp = &e->dec_spare[e->n_dec_spare];
			jm_decoder_free_spare(&h->dec, sp);
			if (jm_decoder_spare_bytes(sp) <= SPARE_MAX)
				e->n_dec_spare++;
			else
				jm_decoder_spare_free(sp);
		} else {
			jm_decoder_free(&h->dec);
		}
		jm_buf_free(&h->hunt);
		jm_buf_free(&h->feed);
		if (h->prefix && e->n_prefix_spare < SPARES && e->cfg.max_hex <= SPARE_PREFIX_MAX)
			e->prefix_spare[e->n_prefix_spare++] = h->prefix;
		else
			free(h->prefix);
		free(h->tm_heap);
	}
	free(s->rq);
}

void half_init(an_engine *e, struct an_stream *s, an_dir d)
{
	struct an_half *h = &s->h[d];
	h->st = s;
	h->dir = d;
	h->tm_cap = MARKS_INLINE;
	h->msg_off = UINT64_MAX;
	size_t cap = e->cfg.stream_memcap;
	reasm_init(&h->r, &half_ops, h, &e->mem, cap, e->cfg.overlap_history);
	jm_decoder_config dc = {
		.max_content = e->cfg.max_content,
		.stream_content = !e->cfg.full_content,
		.no_content_check = false,
	};
	if (e->n_dec_spare)
		jm_decoder_init_spare(&h->dec, &dc, on_event, h, &e->dec_spare[--e->n_dec_spare]);
	else
		jm_decoder_init(&h->dec, &dc, on_event, h);
	h->fdec = NULL;
	if (framed(e))
		frame_half_init(h); /* no memory: that direction is not decoded */
}

int an_engine_listen(an_engine *e, const an_sink *sink)
{
	if (e->n_sinks == AN_MAX_SINKS)
		return -1;
	e->sinks[e->n_sinks++] = *sink;
	return 0;
}

an_engine *an_engine_new(const an_config *cfg, const an_sink *sink)
{
	an_engine *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->cfg = *cfg;
	if (sink)
		e->sinks[e->n_sinks++] = *sink;
	if (!e->cfg.n_ports) {
		e->cfg.ports[0] = JM_SPEC_DEFAULT_PORT;
		e->cfg.n_ports = 1;
	}
	if (framed(e))
		e->cfg.no_heuristic = true; /* another framing: its ports only */
	for (size_t i = 0; i < e->cfg.n_ports; i++)
		e->portmap[e->cfg.ports[i] >> 3] |= (uint8_t)(1u << (e->cfg.ports[i] & 7));
	if (!e->cfg.stream_memcap)
		e->cfg.stream_memcap = SIZE_MAX / 4;
	e->mem.cap = e->cfg.memcap;
	e->ft = flow_table_new(4096);
	if (!e->ft) {
		free(e);
		return NULL;
	}
	e->ext = flow_table_add_ext(e->ft, sizeof(struct an_stream), stream_fini, e);
	e->ext_off = e->ext >= 0 ? flow_table_ext_offset(e->ft, e->ext) : 0;
	e->last_expire = -1;
	return e;
}

void an_engine_free(an_engine *e)
{
	if (!e)
		return;
	flow_table_free(e->ft);
	if (e->probes)
		flow_table_free(e->probes);
	free(e->port_bytes);
	reasm_mem_release(&e->mem);
	while (e->n_dec_spare)
		jm_decoder_spare_free(&e->dec_spare[--e->n_dec_spare]);
	while (e->n_prefix_spare)
		free(e->prefix_spare[--e->n_prefix_spare]);
	free(e->closed);
	free(e);
}

int an_engine_add_ext(an_engine *e, size_t size, flow_fini_fn fini, void *user)
{
	return flow_table_add_ext(e->ft, size, fini, user);
}

flow_table *an_engine_flows(an_engine *e)
{
	return e->ft;
}

struct an_stream *stream_of(an_engine *e, flow *f)
{
	return flow_ext_at(f, e->ext_off);
}

void an_engine_clock(an_engine *e, double now, int64_t now_ns)
{
	e->now = now;
	e->now_ns = now_ns;
}

void an_engine_tick(an_engine *e, double now)
{
	if (now > e->now)
		e->now = now;
	if (e->cfg.idle_timeout <= 0 || e->now - e->last_expire < EXPIRE_EVERY)
		return;
	e->last_expire = e->now;
	flow *f;
	while ((f = flow_table_oldest(e->ft)) && f->last_ts < e->now - e->cfg.idle_timeout)
		stream_end(e, stream_of(e, f), AN_EXPIRED);
	probe_expire(e, e->now - e->cfg.idle_timeout);
}

void an_engine_segment(an_engine *e, const cap_segment *seg)
{
	if (seg->ts_ns > e->now_ns) {
		e->now_ns = seg->ts_ns;
		e->now = seg->ts;
	}
	if (port_tracked(e, seg->src.port) || port_tracked(e, seg->dst.port)) {
		stream_segment(e, seg);
		return;
	}
	/* Another port: the engine's already, or the probe's (probe.c). */
	flow_key k;
	bool src_is_lo;
	flow_key_make(&k, &seg->src, &seg->dst, &src_is_lo);
	if (flow_table_get(e->ft, &k, false, seg->ts, NULL) ||
	    (!(seg->flags & CAP_SYN) && stream_closed_recently(e, &k, src_is_lo, seg->seq))) {
		stream_segment(e, seg);
		return;
	}
	e->st.skipped++;
	probe_segment(e, &k, seg, src_is_lo);
}

/* A segment of a stream the engine decodes (or one that starts it). */
void stream_segment(an_engine *e, const cap_segment *seg)
{
	e->st.segments++;
	e->now_frame = seg->frame;
	segment_body(e, seg);
	e->now_frame = 0;
}

static void segment_body(an_engine *e, const cap_segment *seg)
{
	flow_key k;
	bool src_is_lo;
	flow_key_make(&k, &seg->src, &seg->dst, &src_is_lo);
	struct an_stream *s = segment_stream(e, &k, seg, src_is_lo);
	if (!s)
		return;
	s->last_frame = seg->frame;
	flow *f = s->f;
	an_dir d = (src_is_lo == s->client_is_lo) ? AN_C2S : AN_S2C;
	struct an_half *h = &s->h[d], *peer = &s->h[!d];
	flow_touch(e->ft, f, seg->ts);
	for (int i = 0; i < e->n_sinks; i++)
		if (e->sinks[i].segment)
			e->sinks[i].segment(e->sinks[i].user, f, d, seg);

	uint32_t seq = seg->seq;
	if (seg->flags & CAP_SYN) {
		if (!h->r.started)
			reasm_start(&h->r, seg->seq + 1);
		if ((seg->flags & CAP_ACK) && !peer->r.started)
			reasm_start(&peer->r, seg->ack);
		seq++;
	}
	if (seg->flags & CAP_RST) {
		stream_reset(e, s, d, seq);
		return;
	}
	if (seg->payload_wire || (seg->flags & CAP_FIN)) {
		if (!h->r.started) {
			/* Picked up without its SYN: what this side sent
			 * before the capture began is unknown, so it may
			 * have lost messages (see stream.h, pairing). */
			if (framed(e))
				frame_gap(h, 0);
			else
				hunt_begin(h, HUNT_MIDSTREAM, 0);
			pairing_loss(h);
		}
		h->seen = true;
		reasm_push(&h->r, seq, seg->payload, seg->payload_len, seg->payload_wire,
			   (seg->flags & CAP_FIN) != 0);
	}
	if (seg->flags & CAP_ACK)
		reasm_ack(&peer->r, seg->ack);
	if (framed(e)) /* a direction's FIN ends its message: close's, raw's */
		for (int i = 0; i < 2; i++)
			if (reasm_done(&s->h[i].r))
				frame_finish(&s->h[i]);
	if (s->h[0].r.fin && s->h[1].r.fin && reasm_done(&s->h[0].r) && reasm_done(&s->h[1].r))
		stream_end(e, s, AN_CLOSED);
}

void an_engine_finish(an_engine *e)
{
	flow *f;
	e->finishing = true;
	while ((f = flow_table_oldest(e->ft)))
		stream_end(e, stream_of(e, f), AN_OPEN);
	probe_finish(e);
}

void an_engine_stats(const an_engine *e, an_stats *st)
{
	*st = e->st;
	st->peak_streams = flow_table_peak(e->ft);
	st->mem_peak = e->mem.peak;
	st->table_mem = flow_table_mem(e->ft);
	st->no_heuristic = e->cfg.no_heuristic;
	st->framed = framed(e);
	an_engines_busiest_ports(&e, 1, st);
}

void an_engines_busiest_ports(const an_engine *const *es, size_t n, an_stats *st)
{
	st->n_undecoded_ports = st->undecoded_port_count = 0;
	uint64_t top[AN_NOTE_PORTS];
	uint32_t lo = 65535, hi = 0;   /* only the ports some engine counted */
	for (size_t i = 0; i < n; i++)
		if (es[i]->port_bytes) {
			lo = es[i]->port_lo < lo ? es[i]->port_lo : lo;
			hi = es[i]->port_hi > hi ? es[i]->port_hi : hi;
		}
	for (uint32_t p = lo; p <= hi; p++) {
		uint64_t b = 0;
		for (size_t i = 0; i < n; i++)
			if (es[i]->port_bytes)
				b += es[i]->port_bytes[p];
		if (!b)
			continue;
		st->undecoded_port_count++;
		/* Insert, busiest first; on a tie the lower port first. */
		size_t j = st->n_undecoded_ports;
		if (j == AN_NOTE_PORTS && b <= top[j - 1])
			continue;
		if (j == AN_NOTE_PORTS)
			j--;
		else
			st->n_undecoded_ports++;
		while (j && top[j - 1] < b) {
			top[j] = top[j - 1];
			st->undecoded_ports[j] = st->undecoded_ports[j - 1];
			j--;
		}
		top[j] = b;
		st->undecoded_ports[j] = (uint16_t)p;
	}
}
