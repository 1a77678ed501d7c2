/*
 * stream: the analyzer engine, gluing flows, reassembly and the codec.
 * See stream.h for what comes out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/reasm.h"
#include "tcp/seq.h"
#include "tcp/stream.h"

/* Requests awaiting their response, per stream.  Beyond this the oldest
 * are forgotten, so a client that never hears back cannot grow memory:
 * the engine counts them, and as many responses, the oldest, which answer
 * them, get no latency; every later response still pairs with its own
 * request. */
#define MAX_OUTSTANDING 1024
/* A decoder whose content buffer grew past this is rebuilt between
 * messages, so one huge message does not pin memory for the stream's life. */
#define DECODER_SHRINK (1u << 20)
/* Expiry runs at most this often (capture time, seconds). */
#define EXPIRE_EVERY 1.0
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

enum hunt_why { HUNT_MIDSTREAM, HUNT_GAP, HUNT_ERROR };

/* When bytes arrived: from stream offset `off` on, at capture time `ts`
 * (ns), until the next mark.  See "arrival times" below. */
struct ts_mark {
	uint64_t off;
	int64_t ts;
};
#define MARKS_INLINE 2

struct an_stream;

/* Fields in the order a segment touches them: what every segment reads
 * first, the decoder (large, mostly cold) last, so a segment of a stream
 * that is not in cache costs as few cache misses as possible. */
struct an_half {
	struct an_stream *st;
	an_dir dir;
	bool seen;                /* any segment from this side */
	bool hunting;             /* looking for a message boundary */
	jm_error warn;
	uint64_t drop_left;       /* content bytes being dropped (memcap) */
	struct ts_mark *tm_heap;  /* arrival times: this ring, or tm_in if NULL */
	uint32_t tm_head, tm_len, tm_cap; /* tm_cap a power of two */
	struct ts_mark tm_in[MARKS_INLINE];
	int64_t msg_ts;           /* first byte of the current message (ns) */
	const uint8_t *content;
	size_t content_len;
	size_t prefix_len;
	size_t reserved;          /* JSON content bytes counted against the caps */
	size_t hunt_held;         /* hunt buffer bytes counted against the caps */
	uint64_t index, bytes;
	reasm r;
	enum hunt_why why;
	uint64_t hunt_off;        /* stream offset of hunt's first pending byte */
	uint64_t skipped;         /* bytes passed over while hunting */
	uint64_t gap_bytes;
	jm_buf hunt;              /* bytes from the earliest possible boundary */
	jm_buf feed;              /* verified bytes being fed to the decoder */
	uint8_t *prefix;          /* first max_hex bytes of streamed content */
	jm_decoder dec;
};

struct an_stream {
	an_engine *e;
	flow *f;
	bool client_is_lo;
	bool midstream;
	int64_t *rq;              /* first-byte times (ns) of unanswered requests */
	size_t rq_head, rq_len, rq_cap;
	uint64_t rq_forgot;       /* unanswered requests older than rq[], forgotten */
	bool rq_closed;           /* messages were lost: queue no more requests */
	uint64_t requests, responses;
	struct an_half h[2];
};

struct an_engine {
	an_config cfg;
	an_sink sink;
	flow_table *ft;
	int ext;
	reasm_mem mem;
	an_stats st;
	double now, last_expire;
	int64_t now_ns;
	uint8_t portmap[65536 / 8];
	char detail[256];
	bool finishing;
	struct closed_slot *closed; /* CLOSED_SLOTS, allocated at the first close */
};

static const reasm_ops half_ops;
static int on_event(void *user, const jm_event *ev);

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
}

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

static bool port_tracked(const an_engine *e, uint16_t p)
{
	return e->portmap[p >> 3] & (1u << (p & 7));
}

static an_stream_id sid(const struct an_stream *s)
{
	an_stream_id id = {s->f->id, s->client_is_lo ? &s->f->key.lo : &s->f->key.hi,
			   s->client_is_lo ? &s->f->key.hi : &s->f->key.lo};
	return id;
}

/* ---------------------------------------------------------------- reporting */

static void problem(struct an_half *h, bool is_codec, int kind, uint64_t off, uint64_t bytes,
		    const char *detail)
{
	an_engine *e = h->st->e;
	an_problem p = {
		.s = sid(h->st), .dir = h->dir, .ts = e->now, .ts_ns = e->now_ns, .offset = off,
		.is_codec = is_codec, .bytes = bytes, .detail = detail,
	};
	if (is_codec) {
		p.error = (jm_error)kind;
		e->st.errors[kind]++;
	} else {
		p.prob = (jm_problem)kind;
		e->st.problems[kind]++;
	}
	if (e->sink.problem)
		e->sink.problem(e->sink.user, &p);
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

static void mark_push(struct an_half *h, uint64_t off, int64_t ts)
{
	if (h->tm_len && mark_at(h, h->tm_len - 1)->ts == ts)
		return;
	if (h->tm_len == h->tm_cap && !marks_move(h, h->tm_cap * 2))
		return; /* no memory: these bytes take the previous chunk's time */
	*mark_at(h, h->tm_len++) = (struct ts_mark){off, ts};
}

/* When the byte at `off` arrived. */
static int64_t mark_ts(struct an_half *h, uint64_t off)
{
	if (!h->tm_len)
		return h->st->e->now_ns;
	uint32_t lo = 0, hi = h->tm_len; /* the last mark at or before off */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (mark_at(h, mid)->off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return mark_at(h, lo)->ts;
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

/* Count the hunt buffer's pending bytes, and the marks kept for them,
 * against the caps (the bytes can reach a whole header's worth while a
 * candidate waits for its last byte).  False if growing to `want` pending
 * bytes would pass a cap. */
static bool hunt_account(struct an_half *h, size_t want)
{
	an_engine *e = h->st->e;
	if (want && h->tm_heap)
		want += (size_t)h->tm_cap * sizeof *h->tm_heap;
	if (want > h->hunt_held) {
		size_t more = want - h->hunt_held;
		if (h->reserved + want + h->r.held_bytes > e->cfg.stream_memcap ||
		    (e->cfg.memcap && e->mem.used + more > e->cfg.memcap))
			return false;
		e->mem.used += more;
		if (e->mem.used > e->mem.peak)
			e->mem.peak = e->mem.used;
	} else {
		e->mem.used -= h->hunt_held - want;
	}
	h->hunt_held = want;
	return true;
}

static void hunt_begin(struct an_half *h, enum hunt_why why, uint64_t off)
{
	hunt_account(h, 0);
	h->hunting = true;
	h->why = why;
	h->hunt.len = h->hunt.off = 0;
	h->hunt_off = off;
	h->skipped = 0;
}

/* Is there a message at the front of p?  1: yes, its whole JSON header is
 * here and parses; 0: no; -1: cannot tell yet.  A header cannot hold raw
 * control bytes (JSON allows only whitespace ones), which refutes most
 * false candidates long before their claimed length has arrived: the next
 * real protoheader usually starts with a zero byte. */
static int candidate(const uint8_t *p, size_t len)
{
	if (len < 4)
		return -1;
	size_t hl = (size_t)p[0] << 8 | p[1];
	size_t have = len - 2 < hl ? len - 2 : hl;
	for (size_t i = 0; i < have; i++) {
		uint8_t c = p[2 + i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			return 0;
	}
	if (have < hl)
		return -1;
	if (p[2 + hl - 1] != '}')
		return 0;
	size_t at;
	const char *why;
	return jm_json_valid((const char *)p + 2, hl, &at, &why) ? 1 : 0;
}

/* Where the hunt can resume in b: the first candidate that is a message,
 * skipping undecided ones when a later one is already proven (a proven
 * header inside a real header's bytes would be a wild coincidence).
 * Returns the position, or len with *undecided set to the first candidate
 * still waiting for bytes (len if none). */
static size_t find_message(const uint8_t *b, size_t len, size_t *undecided)
{
	size_t j = 0;
	*undecided = len;
	while (j < len) {
		size_t k = jm_find_boundary(b + j, len - j);
		if (k == len - j)
			break;
		j += k;
		int c = candidate(b + j, len - j);
		if (c == 1)
			return j;
		if (c < 0 && *undecided == len)
			*undecided = j;
		j++;
	}
	return len;
}

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

/* Messages may have been lost in h's direction (a gap, lost framing,
 * bytes dropped while hunting, a direction picked up without its SYN).
 * Which response answers which request is then unknown past the requests
 * already queued: a lost request shifts every later response onto the
 * wrong request, a lost response every later request.  So no more
 * requests are queued on this stream, and after a lost response the
 * queued ones are forgotten too.  A response then gets no latency rather
 * than a wrong one. */
static void pairing_loss(struct an_half *h)
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
static bool pairing_seen(struct an_half *h, int64_t first_ns, int64_t last_ns, double *latency_ms)
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

/* A message starts at hunt_off: report what the hunt passed over and hand
 * its buffered bytes, from there on, to the decoder (in h->feed). */
static void hunt_resume(struct an_half *h)
{
	an_engine *e = h->st->e;
	h->hunting = false;
	if (h->skipped || h->why != HUNT_MIDSTREAM) {
		snprintf(e->detail, sizeof e->detail,
			 "decoding resumed at offset %llu after passing over %llu bytes",
			 (unsigned long long)h->hunt_off, (unsigned long long)h->skipped);
		problem(h, false, JM_PROB_RESYNC, h->hunt_off, h->skipped, e->detail);
	}
	jm_decoder_reset(&h->dec, h->hunt_off);
	jm_buf tmp = h->feed;
	h->feed = h->hunt;
	h->hunt = tmp;
	h->hunt.len = h->hunt.off = 0;
	hunt_account(h, 0);
}

/* In-order bytes [off, off+n) of a direction hunting for a message
 * boundary.  True when one is found: decoding resumes at hunt_off, with
 * the bytes from there in h->feed.  False when all were held or passed
 * over. */
static bool hunt_bytes(struct an_half *h, uint64_t off, const uint8_t *p, size_t n)
{
	an_engine *e = h->st->e;
	/* Nothing pending: skip straight to a candidate without copying
	 * (keep 3 bytes, a boundary may straddle). */
	if (h->hunt.len == h->hunt.off) {
		size_t q = jm_find_boundary(p, n);
		if (q == n)
			q = n > 3 ? n - 3 : 0;
		h->skipped += q;
		p += q;
		n -= q;
		off += q;
		h->hunt.len = h->hunt.off = 0;
		h->hunt_off = off;
	}
	size_t pending = jm_buf_pending(&h->hunt);
	if (!hunt_account(h, pending + n) || jm_buf_append(&h->hunt, p, n) < 0) {
		snprintf(e->detail, sizeof e->detail,
			 "%zu bytes held while looking for a message boundary are over a memory cap; dropped",
			 pending + n);
		problem(h, false, JM_PROB_MEMCAP, h->hunt_off, pending + n, e->detail);
		pairing_loss(h);
		h->skipped += pending + n;
		h->hunt_off = off + n;
		h->hunt.len = h->hunt.off = 0;
		hunt_account(h, 0);
		return false;
	}
	const uint8_t *b = jm_buf_head(&h->hunt);
	size_t len = jm_buf_pending(&h->hunt);
	size_t undecided;
	size_t q = find_message(b, len, &undecided);
	if (q == len) {
		/* Nothing proven: keep from the first undecided candidate,
		 * or the last 3 bytes. */
		size_t keep_from = undecided < len ? undecided
				   : (len > 3 ? len - 3 : 0);
		jm_buf_consume(&h->hunt, keep_from);
		h->skipped += keep_from;
		h->hunt_off += keep_from;
		hunt_account(h, jm_buf_pending(&h->hunt));
		return false;
	}
	jm_buf_consume(&h->hunt, q);
	h->skipped += q;
	h->hunt_off += q;
	hunt_resume(h);
	return true;
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
	mark_push(h, off, h->st->e->now_ns);
	h->bytes += n;
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
	if (mid)
		snprintf(e->detail, sizeof e->detail, "%llu bytes at offset %llu %s; the message at offset %llu is lost",
			 (unsigned long long)n, (unsigned long long)off, what,
			 (unsigned long long)h->dec.msg_offset);
	else
		snprintf(e->detail, sizeof e->detail, "%llu bytes at offset %llu %s",
			 (unsigned long long)n, (unsigned long long)off, what);
	h->gap_bytes += n;
	pairing_loss(h);
	problem(h, false, kind, off, n, e->detail);
	release(h);
	h->drop_left = 0;
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

static void emit_message(struct an_half *h, const jm_event *ev)
{
	struct an_stream *s = h->st;
	an_engine *e = s->e;
	const jm_header *hd = ev->header;
	an_message m = {
		.s = sid(s), .dir = h->dir, .index = h->index++, .offset = ev->msg_offset,
		.ts_first = (double)h->msg_ts / 1e9, .ts_last = e->now,
		.ts_first_ns = h->msg_ts, .ts_last_ns = e->now_ns, .header_len = ev->header_len,
		.header = hd, .content_is_json = hd->content_is_json,
		.content_length = hd->content_length, .warning = h->warn,
	};
	if (h->content) {
		m.content = h->content;
		m.content_kept = h->content_len;
	} else {
		m.content = h->prefix;
		m.content_kept = h->prefix_len;
	}
	m.content_cut = m.content_kept < m.content_length;
	if (h->dir == AN_C2S) {
		e->st.requests++;
		s->requests++;
	} else {
		e->st.responses++;
		s->responses++;
	}
	m.has_latency = pairing_seen(h, m.ts_first_ns, m.ts_last_ns, &m.latency_ms);
	if (e->sink.message)
		e->sink.message(e->sink.user, &m);
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

/* A piece of a streamed content: its first max_hex bytes are kept. */
static void keep_chunk(struct an_half *h, const jm_event *ev)
{
	an_engine *e = h->st->e;
	if (h->prefix_len < e->cfg.max_hex) {
		if (!h->prefix)
			h->prefix = malloc(e->cfg.max_hex);
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
			h->prefix = malloc(e->cfg.max_hex);
		if (h->prefix) {
			memcpy(h->prefix, ev->data, k);
			h->prefix_len = k;
		}
	}
}

static void on_error(struct an_half *h, const jm_event *ev)
{
	problem(h, true, ev->error, ev->offset, 0, ev->detail);
	if (ev->error == JM_ERR_CONTENT_ENCODING_UNSUPPORTED) {
		h->warn = ev->error;   /* a warning: the message goes on */
		return;
	}
	release(h);
	if (ev->can_continue) {
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
	case JM_EV_PROTOHEADER:
		h->msg_ts = mark_ts(h, ev->msg_offset);
		h->warn = JM_ERR_NONE;
		h->content = NULL;
		h->content_len = 0;
		h->prefix_len = 0;
		break;
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
		emit_message(h, ev);
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
	for (int i = 0; i < 2; i++) {
		struct an_half *h = &s->h[i];
		release(h);
		hunt_account(h, 0);
		reasm_free(&h->r);
		jm_decoder_free(&h->dec);
		jm_buf_free(&h->hunt);
		jm_buf_free(&h->feed);
		free(h->prefix);
		free(h->tm_heap);
	}
	free(s->rq);
}

static void stream_info(struct an_stream *s, an_phase ph, an_state state)
{
	an_engine *e = s->e;
	if (!e->sink.stream)
		return;
	an_stream_info si = {
		.s = sid(s), .phase = ph, .state = state, .ts = e->now, .ts_ns = e->now_ns, .midstream = s->midstream,
		.requests = s->requests, .responses = s->responses,
		.bytes = {s->h[0].bytes, s->h[1].bytes},
		.gaps = {s->h[0].gap_bytes, s->h[1].gap_bytes},
	};
	e->sink.stream(e->sink.user, &si);
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
static bool closed_recently(an_engine *e, const flow_key *k, bool src_is_lo, uint32_t seq)
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

static void stream_end(an_engine *e, struct an_stream *s, an_state state)
{
	for (int i = 0; i < 2; i++) {
		struct an_half *h = &s->h[i];
		if (!h->r.started)
			continue;
		reasm_flush(&h->r);
		if (!h->hunting && !h->drop_left)
			jm_decoder_finish(&h->dec);
	}
	stream_info(s, AN_END, state);
	if (state == AN_CLOSED || state == AN_RESET)
		closed_note(e, s);
	flow_table_remove(e->ft, s->f);
}

static void half_init(an_engine *e, struct an_stream *s, an_dir d)
{
	struct an_half *h = &s->h[d];
	h->st = s;
	h->dir = d;
	h->tm_cap = MARKS_INLINE;
	size_t cap = e->cfg.stream_memcap;
	reasm_init(&h->r, &half_ops, h, &e->mem, cap, e->cfg.overlap_history);
	jm_decoder_config dc = {
		.max_content = e->cfg.max_content,
		.stream_content = !e->cfg.full_content,
		.no_content_check = false,
	};
	jm_decoder_init(&h->dec, &dc, on_event, h);
}

an_engine *an_engine_new(const an_config *cfg, const an_sink *sink)
{
	an_engine *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->cfg = *cfg;
	if (sink)
		e->sink = *sink;
	if (!e->cfg.n_ports) {
		e->cfg.ports[0] = JM_SPEC_DEFAULT_PORT;
		e->cfg.n_ports = 1;
	}
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
	e->last_expire = -1;
	return e;
}

void an_engine_free(an_engine *e)
{
	if (!e)
		return;
	flow_table_free(e->ft);
	reasm_mem_release(&e->mem);
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

static struct an_stream *stream_of(an_engine *e, flow *f)
{
	return flow_ext(e->ft, f, e->ext);
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
	else if (port_tracked(e, seg->dst.port))
		src_is_client = true;
	else
		src_is_client = !port_tracked(e, seg->src.port);
	s->client_is_lo = src_is_client == src_is_lo;
	s->midstream = !(seg->flags & CAP_SYN);
	half_init(e, s, AN_C2S);
	half_init(e, s, AN_S2C);
	e->st.streams++;
	stream_info(s, AN_BEGIN, AN_OPEN);
	return s;
}

/* The stream a segment belongs to: its 4-tuple's, or a new one if the
 * segment starts one (a SYN on a used 4-tuple with another ISN ends the
 * old stream first).  NULL if it belongs to none. */
static struct an_stream *segment_stream(an_engine *e, const flow_key *k, const cap_segment *seg,
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
		if (!(seg->flags & CAP_SYN) && closed_recently(e, k, src_is_lo, seg->seq)) {
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
static void stream_reset(an_engine *e, struct an_stream *s, an_dir d, uint32_t seq)
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

void an_engine_segment(an_engine *e, const cap_segment *seg)
{
	if (!port_tracked(e, seg->src.port) && !port_tracked(e, seg->dst.port)) {
		e->st.skipped++;
		return;
	}
	e->st.segments++;
	if (seg->ts_ns > e->now_ns) {
		e->now_ns = seg->ts_ns;
		e->now = seg->ts;
	}

	flow_key k;
	bool src_is_lo;
	flow_key_make(&k, &seg->src, &seg->dst, &src_is_lo);
	struct an_stream *s = segment_stream(e, &k, seg, src_is_lo);
	if (!s)
		return;
	flow *f = s->f;
	an_dir d = (src_is_lo == s->client_is_lo) ? AN_C2S : AN_S2C;
	struct an_half *h = &s->h[d], *peer = &s->h[!d];
	flow_touch(e->ft, f, seg->ts);
	if (e->sink.segment)
		e->sink.segment(e->sink.user, f, d, seg);

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
			hunt_begin(h, HUNT_MIDSTREAM, 0);
			pairing_loss(h);
		}
		h->seen = true;
		reasm_push(&h->r, seq, seg->payload, seg->payload_len, seg->payload_wire,
			   (seg->flags & CAP_FIN) != 0);
	}
	if (seg->flags & CAP_ACK)
		reasm_ack(&peer->r, seg->ack);
	if (s->h[0].r.fin && s->h[1].r.fin && reasm_done(&s->h[0].r) && reasm_done(&s->h[1].r))
		stream_end(e, s, AN_CLOSED);
}

void an_engine_finish(an_engine *e)
{
	flow *f;
	e->finishing = true;
	while ((f = flow_table_oldest(e->ft)))
		stream_end(e, stream_of(e, f), AN_OPEN);
}

void an_engine_stats(const an_engine *e, an_stats *st)
{
	*st = e->st;
	st->peak_streams = flow_table_peak(e->ft);
	st->mem_peak = e->mem.peak;
	st->table_mem = flow_table_mem(e->ft);
}
