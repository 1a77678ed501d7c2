/*
 * hunt: after a gap, a decoder failure or a mid-stream pickup, the search
 * for the next message boundary (stream.h).  Bytes are held from the first
 * undecided candidate protoheader until a candidate is proven by a whole,
 * valid JSON header; decoding resumes there, with a "resync" problem.
 */
#include <stdio.h>

#include "tcp/stream_int.h"

/* Count the hunt buffer's pending bytes, and the marks kept for them,
 * against the caps (the bytes can reach a whole header's worth while a
 * candidate waits for its last byte).  False if growing to `want` pending
 * bytes would pass a cap. */
bool hunt_account(struct an_half *h, size_t want)
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

void hunt_begin(struct an_half *h, enum hunt_why why, uint64_t off)
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
bool hunt_bytes(struct an_half *h, uint64_t off, const uint8_t *p, size_t n)
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
