/*
 * reasm: per-direction TCP reassembly.  See reasm.h for the contract.
 *
 * State is a delivery point `next` (a 64-bit stream offset) and a sorted
 * list of disjoint out-of-order pieces beyond it.  A segment that starts at
 * `next` is handed out straight from the caller's buffer; only data that
 * arrives ahead of a hole is copied.  Where a new segment overlaps bytes
 * already held or already delivered, the first copy wins and the two copies
 * are compared.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/reasm.h"
#include "tcp/seq.h"

struct reasm_seg {
	struct reasm_seg *next;
	uint64_t off;
	uint32_t len;
	uint8_t data[];
};

/* A span [off, end) the snapshot length cut from a segment that arrived
 * ahead of a hole.  Kept exactly, one record per span, because the bytes
 * between two cuts may still arrive whole. */
struct reasm_cut {
	struct reasm_cut *next;
	uint64_t off, end;
};

#define SEG_COST(len) (sizeof(struct reasm_seg) + (size_t)(len))
#define CUT_COST sizeof(struct reasm_cut)
/* An acknowledgement further ahead than this is not believed. */
#define ACK_PLAUSIBLE ((uint64_t)1 << 30)

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

void reasm_init(reasm *r, const reasm_ops *ops, void *user, reasm_mem *mem,
		size_t cap, uint32_t history)
{
	memset(r, 0, sizeof *r);
	r->ops = ops;
	r->user = user;
	r->mem = mem;
	r->cap = cap;
	/* A power of two, so the ring index is a mask. */
	uint32_t h = 0;
	if (history)
		h = history > (1u << 30) ? 1u << 30
		    : history == 1     ? 1
				       : 1u << (32 - __builtin_clz(history - 1));
	r->hist_size = h;
}

static void mem_add(reasm *r, size_t n)
{
	if (!r->mem)
		return;
	r->mem->used += n;
	if (r->mem->used > r->mem->peak)
		r->mem->peak = r->mem->used;
}

static void mem_sub(reasm *r, size_t n)
{
	if (r->mem)
		r->mem->used -= n;
}

/* Bytes of rings kept for reuse; beyond this they go back to malloc. */
#define POOL_BYTES ((size_t)8 << 20)
/* A ring starts this small and doubles as unacknowledged bytes pile up:
 * request/response traffic rarely has more than one message unacked, so
 * most directions never need the full window. */
#define RING_MIN 256

/* The pool class of a ring of `size` bytes (a power of two), or -1. */
static int ring_class(uint32_t size)
{
	if (size < sizeof(void *) || size > (1u << (REASM_POOL_CLASSES - 1)))
		return -1;
	return __builtin_ctz(size);
}

static uint8_t *ring_get(reasm *r, uint32_t size)
{
	reasm_mem *m = r->mem;
	int k = ring_class(size);
	uint8_t *b;
	if (m && k >= 0 && m->pool[k]) {
		b = m->pool[k];
		memcpy(&m->pool[k], b, sizeof(void *));
		m->pooled_bytes -= size;
	} else {
		b = malloc(size);
	}
	if (b)
		mem_add(r, size);
	return b;
}

static void ring_drop(reasm *r, uint8_t *b, uint32_t size)
{
	reasm_mem *m = r->mem;
	int k = ring_class(size);
	mem_sub(r, size);
	if (m && k >= 0 && m->pooled_bytes + size <= POOL_BYTES) {
		memcpy(b, &m->pool[k], sizeof(void *));
		m->pool[k] = b;
		m->pooled_bytes += size;
	} else {
		free(b);
	}
}

static void ring_put(reasm *r)
{
	ring_drop(r, r->hist, r->hist_cap);
	r->hist = NULL;
	r->hist_cap = 0;
	r->hist_fill = 0;
}

void reasm_mem_release(reasm_mem *m)
{
	for (int k = 0; k < REASM_POOL_CLASSES; k++) {
		while (m->pool[k]) {
			void *b = m->pool[k];
			memcpy(&m->pool[k], b, sizeof(void *));
			free(b);
		}
	}
	m->pooled_bytes = 0;
}

static void seg_free(reasm *r, struct reasm_seg *s)
{
	r->held_bytes -= s->len;
	mem_sub(r, SEG_COST(s->len));
	free(s);
}

static void cut_free(reasm *r, struct reasm_cut *c)
{
	r->n_cuts--;
	mem_sub(r, CUT_COST);
	free(c);
}

void reasm_free(reasm *r)
{
	struct reasm_seg *s = r->held, *n;
	for (; s; s = n) {
		n = s->next;
		seg_free(r, s);
	}
	r->held = NULL;
	struct reasm_cut *c = r->cuts, *cn;
	for (; c; c = cn) {
		cn = c->next;
		cut_free(r, c);
	}
	r->cuts = NULL;
	if (r->hist)
		ring_put(r);
}

void reasm_start(reasm *r, uint32_t seq)
{
	r->started = true;
	r->base = seq;
}

/* The stream offset of sequence number `seq`: the one nearest the delivery
 * point, which is what makes wrap-around past 2^32 invisible. */
static int64_t seq_off(const reasm *r, uint32_t seq)
{
	uint32_t rel = seq - r->base;
	int32_t d = seq_diff(rel, (uint32_t)r->next);
	return (int64_t)r->next + d;
}

int64_t reasm_seq_offset(const reasm *r, uint32_t seq)
{
	return seq_off(r, seq);
}

/* ---------------------------------------------------------------- history */

/* A ring of at least `need` bytes (a power of two, at most hist_size),
 * keeping the valid history.  False if memory ran out. */
static bool ring_fit(reasm *r, uint64_t need)
{
	if (need > r->hist_size)
		need = r->hist_size;
	if (r->hist && r->hist_cap >= need)
		return true;
	uint32_t cap = RING_MIN < r->hist_size ? RING_MIN : r->hist_size;
	while (cap < need)
		cap <<= 1;
	uint8_t *b = ring_get(r, cap);
	if (!b)
		return false;
	if (r->hist) {
		/* The valid history, in runs that wrap in neither ring. */
		uint32_t om = r->hist_cap - 1, nm = cap - 1;
		for (uint64_t o = r->next - r->hist_fill; o < r->next;) {
			size_t from = (size_t)(o & om), to = (size_t)(o & nm);
			size_t n = (size_t)(r->next - o);
			if (n > r->hist_cap - from)
				n = r->hist_cap - from;
			if (n > cap - to)
				n = cap - to;
			memcpy(b + to, r->hist + from, n);
			o += n;
		}
		ring_drop(r, r->hist, r->hist_cap);
	}
	r->hist = b;
	r->hist_cap = cap;
	return true;
}

static void hist_record(reasm *r, const uint8_t *p, size_t n)
{
	if (!r->hist_size)
		return;
	if (!ring_fit(r, r->hist_fill + n)) {
		r->hist_size = 0; /* no memory: stop checking, keep working */
		if (r->hist)
			ring_put(r);
		return;
	}
	uint64_t end = r->next + n; /* offsets [next, end) are being delivered */
	if (n > r->hist_cap) {
		p += n - r->hist_cap;
		n = r->hist_cap;
	}
	uint64_t o = end - n;
	uint32_t mask = r->hist_cap - 1;
	size_t at = (size_t)(o & mask);
	size_t first = r->hist_cap - at < n ? r->hist_cap - at : n;
	memcpy(r->hist + at, p, first);
	memcpy(r->hist, p + first, n - first);
	r->hist_fill = min_u64(r->hist_fill + n, r->hist_cap);
}

/* Compare bytes [o, o+n), all before `next`, with what was delivered. */
static void hist_check(reasm *r, uint64_t o, const uint8_t *p, size_t n)
{
	r->dup_bytes += n;
	if (!r->hist || !r->hist_fill)
		return;
	uint64_t lo = r->next - r->hist_fill;
	if (o + n <= lo)
		return;
	if (o < lo) {
		p += lo - o;
		n -= (size_t)(lo - o);
		o = lo;
	}
	uint32_t mask = r->hist_cap - 1;
	size_t first_bad = n, last_bad = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] != r->hist[(o + i) & mask]) {
			if (first_bad == n)
				first_bad = i;
			last_bad = i;
		}
	}
	if (first_bad < n) {
		r->conflicts++;
		r->ops->conflict(r->user, o + first_bad, last_bad - first_bad + 1);
	}
}

/* ---------------------------------------------------------------- delivery */

static void deliver(reasm *r, const uint8_t *p, size_t n)
{
	if (!n)
		return;
	hist_record(r, p, n);
	uint64_t at = r->next;
	r->next += n;
	r->ops->data(r->user, at, p, n);
}

static void lose(reasm *r, uint64_t n, reasm_gap_why why)
{
	if (!n)
		return;
	uint64_t at = r->next;
	r->next += n;
	r->hist_fill = 0; /* history must be contiguous up to next */
	r->ops->gap(r->user, at, n, why);
}

/* Hand out held pieces that start at or before `next`. */
static void drain_data(reasm *r)
{
	struct reasm_seg *h;
	while ((h = r->held) && h->off <= r->next) {
		r->held = h->next;
		uint64_t end = h->off + h->len;
		if (end > r->next) {
			size_t skip = (size_t)(r->next - h->off);
			deliver(r, h->data + skip, h->len - skip);
		}
		seg_free(r, h);
	}
}

/* drain_data, then report bytes the snapshot length cut as they come up. */
static void drain(reasm *r)
{
	for (;;) {
		drain_data(r);
		struct reasm_cut *c;
		while ((c = r->cuts) && c->off <= r->next) {
			r->trunc_to = max_u64(r->trunc_to, c->end);
			r->cuts = c->next;
			cut_free(r, c);
		}
		if (r->trunc_to <= r->next)
			return;
		uint64_t lim = r->trunc_to;
		if (r->held && r->held->off < lim)
			lim = r->held->off;
		lose(r, lim - r->next, REASM_GAP_TRUNCATED);
	}
}

/* Give up on everything before `target`: holes become gaps, held data is
 * delivered. */
static void skip_to(reasm *r, uint64_t target, reasm_gap_why why)
{
	while (r->next < target) {
		struct reasm_seg *h = r->held;
		uint64_t lim = (h && h->off < target) ? max_u64(h->off, r->next) : target;
		/* Stop at a span the snapshot length cut: drain reports it as
		 * that, and the hole before it as `why`. */
		if (r->cuts && r->cuts->off > r->next && r->cuts->off < lim)
			lim = r->cuts->off;
		if (lim > r->next)
			lose(r, lim - r->next, why);
		drain(r);
	}
}

/* ---------------------------------------------------------------- push */

static int over_cap(const reasm *r, size_t need)
{
	if (r->held_bytes + r->n_cuts * CUT_COST + need > r->cap)
		return 1;
	if (r->mem && r->mem->cap && r->mem->used + SEG_COST(need) > r->mem->cap)
		return 1;
	return 0;
}

static struct reasm_seg *seg_new(reasm *r, uint64_t off, const uint8_t *p, size_t n)
{
	struct reasm_seg *s = malloc(SEG_COST(n));
	if (!s)
		return NULL;
	s->next = NULL;
	s->off = off;
	s->len = (uint32_t)n;
	memcpy(s->data, p, n);
	r->held_bytes += n;
	mem_add(r, SEG_COST(n));
	return s;
}

/* Copy [o, e) into the held list, keeping bytes already held (first copy
 * wins) and comparing the overlaps. */
static void hold(reasm *r, uint64_t o, const uint8_t *data, uint64_t e)
{
	struct reasm_seg **pp = &r->held, *h;
	uint64_t c = o;
	uint64_t bad_lo = UINT64_MAX, bad_hi = 0;
	while ((h = *pp) && c < e) {
		uint64_t hend = h->off + h->len;
		if (hend <= c) {
			pp = &h->next;
			continue;
		}
		if (h->off >= e)
			break;
		if (h->off > c) {
			struct reasm_seg *s = seg_new(r, c, data + (c - o), (size_t)(h->off - c));
			if (!s)
				return;
			s->next = h;
			*pp = s;
			pp = &s->next;
			c = h->off;
		}
		uint64_t ov_end = min_u64(e, hend);
		for (uint64_t i = c; i < ov_end; i++) {
			if (data[i - o] != h->data[i - h->off]) {
				if (bad_lo == UINT64_MAX)
					bad_lo = i;
				bad_hi = i + 1;
			}
		}
		r->dup_bytes += ov_end - c;
		c = ov_end;
		pp = &h->next;
	}
	if (c < e) {
		struct reasm_seg *s = seg_new(r, c, data + (c - o), (size_t)(e - c));
		if (s) {
			s->next = *pp;
			*pp = s;
		}
	}
	if (bad_lo != UINT64_MAX) {
		r->conflicts++;
		r->ops->conflict(r->user, bad_lo, (size_t)(bad_hi - bad_lo));
	}
}

/* Record [lo, hi) as cut by the snapshot length, merging it with the
 * spans it overlaps or touches. */
static void cut_add(reasm *r, uint64_t lo, uint64_t hi)
{
	struct reasm_cut **pp = &r->cuts, *c;
	while ((c = *pp) && c->end < lo)
		pp = &c->next;
	if (c && c->off <= hi) {
		c->off = min_u64(c->off, lo);
		c->end = max_u64(c->end, hi);
		struct reasm_cut *n;
		while ((n = c->next) && n->off <= c->end) {
			c->end = max_u64(c->end, n->end);
			c->next = n->next;
			cut_free(r, n);
		}
		return;
	}
	c = malloc(sizeof *c);
	if (!c)
		return; /* the span will be reported lost instead of cut */
	c->off = lo;
	c->end = hi;
	c->next = *pp;
	*pp = c;
	r->n_cuts++;
	mem_add(r, CUT_COST);
}

static void push_at(reasm *r, uint64_t o, const uint8_t *data, size_t caplen,
		    uint64_t we)
{
	/* Bytes before the delivery point were delivered or given up. */
	if (o < r->next) {
		uint64_t old = r->next - o;
		size_t c = old < caplen ? (size_t)old : caplen;
		hist_check(r, o, data, c);
		data += c;
		caplen -= c;
		o = r->next;
		if (we <= o)
			return;
	}
	uint64_t e = o + caplen;

	if (o > r->next) {
		/* What holding this costs: its bytes, and a record of the span
		 * the snapshot length cut, if any. */
		size_t need = caplen + (we > e ? CUT_COST : 0);
		while (need && over_cap(r, need) && (r->held || r->cuts)) {
			/* Declare the first hole lost and release what follows
			 * it; that is the cheapest way back under the cap. */
			uint64_t first = r->held ? r->held->off : UINT64_MAX;
			if (r->cuts && r->cuts->off < first)
				first = r->cuts->off;
			skip_to(r, first, REASM_GAP_MEMCAP);
		}
		if (need && over_cap(r, need)) {
			skip_to(r, o, REASM_GAP_MEMCAP);
		} else if (o > r->next) {
			if (caplen)
				hold(r, o, data, e);
			if (we > e)
				cut_add(r, e, we);
			return;
		}
		/* Skipping may have moved the delivery point into or past
		 * this segment: start again from the top. */
		push_at(r, o, data, caplen, we);
		return;
	}

	/* In order: deliver from the caller's buffer, yielding to held
	 * pieces (the first copy) where they overlap. */
	while (o < e) {
		struct reasm_seg *h = r->held;
		if (h && h->off <= o) {
			uint64_t ov_end = min_u64(e, h->off + h->len);
			size_t n = (size_t)(ov_end - o);
			if (memcmp(data, h->data + (o - h->off), n) != 0) {
				size_t a = 0, b = n;
				while (data[a] == h->data[o - h->off + a])
					a++;
				while (data[b - 1] == h->data[o - h->off + b - 1])
					b--;
				r->conflicts++;
				r->ops->conflict(r->user, o + a, b - a);
			}
			r->dup_bytes += n;
			drain_data(r);
			if (r->next >= e)
				break;
			data += r->next - o;
			o = r->next;
			continue;
		}
		uint64_t lim = (h && h->off < e) ? h->off : e;
		size_t n = (size_t)(lim - o);
		deliver(r, data, n);
		data += n;
		o = lim;
	}
	if (we > r->next && we > e)
		r->trunc_to = max_u64(r->trunc_to, we);
	drain(r);
}

void reasm_push(reasm *r, uint32_t seq, const uint8_t *data, uint32_t caplen,
		uint32_t wirelen, bool fin)
{
	if (caplen > wirelen)
		caplen = wirelen;
	if (!r->started)
		reasm_start(r, seq);
	int64_t so = seq_off(r, seq);
	if (so < 0) {
		/* Starts before offset 0: only a mid-stream pickup sees this. */
		uint64_t cut = (uint64_t)-so;
		if (cut >= wirelen)
			return;
		uint32_t c = cut < caplen ? (uint32_t)cut : caplen;
		data += c;
		caplen -= c;
		wirelen -= (uint32_t)cut;
		so = 0;
	}
	uint64_t o = (uint64_t)so, we = o + wirelen;
	/* Nothing is sent after a FIN, so one behind bytes already delivered
	 * is stale (another connection's, or mangled), and one implausibly
	 * far ahead is not believed either: marking either as the end would
	 * end the stream early or report a wild gap at its end. */
	if (fin && !r->fin && we >= r->next && we - r->next <= ACK_PLAUSIBLE) {
		r->fin = true;
		r->fin_off = we;
	}
	if (wirelen)
		push_at(r, o, data, caplen, we);
}

void reasm_ack(reasm *r, uint32_t ack)
{
	if (!r->started)
		return;
	int64_t a = seq_off(r, ack);
	if (a <= (int64_t)r->next) {
		/* The receiver has these bytes: a retransmission of them can no
		 * longer change what it got, so their history may go. */
		uint64_t unacked = a < 0 ? r->next : r->next - (uint64_t)a;
		if (unacked < r->hist_fill)
			r->hist_fill = unacked;
		if (!r->hist_fill && r->hist)
			ring_put(r);
		return;
	}
	uint64_t target = (uint64_t)a;
	if (r->fin && target > r->fin_off)
		target = r->fin_off;      /* the FIN takes a sequence number */
	if (target <= r->next || target - r->next > ACK_PLAUSIBLE)
		return;
	/* One past everything seen, with no FIN seen: most likely the ACK of
	 * a FIN the capture missed, which is no byte.  Should data follow it
	 * after all, the byte is reported as lost then.  (A lone lost last
	 * byte of a stream goes unreported: the rarer case.) */
	if (!r->fin && target == r->next + 1 && !r->held && !r->cuts && r->trunc_to <= r->next)
		return;
	skip_to(r, target, REASM_GAP_LOST);
}

void reasm_flush(reasm *r)
{
	uint64_t end = r->next;
	for (struct reasm_seg *s = r->held; s; s = s->next)
		end = max_u64(end, s->off + s->len);
	for (struct reasm_cut *c = r->cuts; c; c = c->next)
		end = max_u64(end, c->end);
	skip_to(r, end, REASM_GAP_LOST);
	drain(r);
	if (r->fin && r->fin_off > r->next)
		skip_to(r, r->fin_off, REASM_GAP_LOST);
}
