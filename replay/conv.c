/*
 * conv: the conversation model; see conv.h.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/conv.h"

void rp_capture_init(rp_capture *c, size_t memcap)
{
	memset(c, 0, sizeof *c);
	c->memcap = memcap;
}

void rp_capture_free(rp_capture *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (int d = 0; d < 2; d++) {
			for (size_t k = 0; k < c->s[i].n[d]; k++)
				free(c->s[i].msg[d][k].bytes);
			free(c->s[i].msg[d]);
		}
	}
	free(c->s);
	memset(c, 0, sizeof *c);
}

/* Count `n` more bytes against the cap. */
static int charge(rp_capture *c, size_t n)
{
	if (c->memcap && (n > c->memcap || c->mem > c->memcap - n)) {
		c->over_memcap = true;
		return -1;
	}
	c->mem += n;
	return 0;
}

rp_stream *rp_capture_add_stream(rp_capture *c, uint64_t id, double ts_begin)
{
	/* Stream numbers come in increasing order; keeping them sorted makes
	 * lookups a binary search and the report order the capture's. */
	if (c->n && c->s[c->n - 1].id >= id)
		return NULL;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		if (charge(c, (cap - c->cap) * sizeof *c->s) < 0)
			return NULL;
		rp_stream *s = realloc(c->s, cap * sizeof *s);
		if (!s)
			return NULL;
		c->s = s;
		c->cap = cap;
	}
	rp_stream *s = &c->s[c->n++];
	memset(s, 0, sizeof *s);
	s->id = id;
	s->ts_begin = ts_begin;
	s->selected = true;
	return s;
}

rp_stream *rp_capture_find(rp_capture *c, uint64_t id)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->s[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && c->s[lo].id == id ? &c->s[lo] : NULL;
}

int rp_stream_add(rp_capture *c, rp_stream *s, int dir, const void *bytes, size_t len,
		  uint16_t header_len, bool content_is_json, double ts_first, double ts_last)
{
	if (s->cut[dir].cut)
		return 0;
	if (len < (size_t)JM_SPEC_PROTOHEADER_SIZE + header_len)
		return -1;
	if (s->n[dir] == s->cap[dir]) {
		size_t cap = s->cap[dir] ? s->cap[dir] * 2 : 4;
		if (charge(c, (cap - s->cap[dir]) * sizeof(rp_msg)) < 0)
			return -1;
		rp_msg *m = realloc(s->msg[dir], cap * sizeof *m);
		if (!m)
			return -1;
		s->msg[dir] = m;
		s->cap[dir] = cap;
	}
	if (charge(c, len) < 0)
		return -1;
	rp_msg *m = &s->msg[dir][s->n[dir]];
	m->bytes = malloc(len ? len : 1);
	if (!m->bytes)
		return -1;
	memcpy(m->bytes, bytes, len);
	m->len = len;
	m->header_len = header_len;
	m->content_is_json = content_is_json;
	m->ts_first = ts_first;
	m->ts_last = ts_last;
	m->after_responses = 0;
	s->n[dir]++;
	return 0;
}

void rp_stream_cut(rp_stream *s, int dir, bool is_codec, jm_error e, jm_problem p,
		   uint64_t offset)
{
	rp_cut *k = &s->cut[dir];
	if (k->cut)
		return;
	k->cut = true;
	k->is_codec = is_codec;
	k->error = e;
	k->prob = p;
	k->offset = offset;
	k->kept = s->n[dir];
}

void rp_capture_finish(rp_capture *c)
{
	bool have_t0 = false;
	for (size_t i = 0; i < c->n; i++) {
		rp_stream *s = &c->s[i];
		/* Responses are complete in capture order, so one pass pairs each
		 * request with the count of responses finished before it began. */
		size_t r = 0;
		for (size_t k = 0; k < s->n[RP_REQ]; k++) {
			rp_msg *q = &s->msg[RP_REQ][k];
			while (r < s->n[RP_RESP] && s->msg[RP_RESP][r].ts_last <= q->ts_first)
				r++;
			/* A request never waits for more answers than there were
			 * requests before it: a response the server sent on its own
			 * must not stall the replay. */
			q->after_responses = (uint32_t)(r < k ? r : k);
		}
		if (s->selected && (!have_t0 || s->ts_begin < c->t0)) {
			c->t0 = s->ts_begin;
			have_t0 = true;
		}
	}
}

size_t rp_stream_requests(const rp_stream *s)
{
	return s->n[RP_REQ];
}

size_t rp_stream_known_responses(const rp_stream *s)
{
	return s->n[RP_RESP] < s->n[RP_REQ] ? s->n[RP_RESP] : s->n[RP_REQ];
}

bool rp_stream_incomplete(const rp_stream *s)
{
	return s->cut[RP_REQ].cut || s->cut[RP_RESP].cut || s->midstream ||
	       s->trailing_partial[RP_REQ] || s->trailing_partial[RP_RESP];
}

static const char *side_name(int dir)
{
	return dir == RP_REQ ? "client's" : "server's";
}

void rp_stream_describe_cut(const rp_stream *s, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
#define PUT(...)                                                                 \
	do {                                                                     \
		if (o < len) {                                                   \
			int w_ = snprintf(buf + o, len - o, __VA_ARGS__);        \
			o += w_ > 0 ? (size_t)w_ : 0;                            \
		}                                                                \
	} while (0)
	if (s->midstream)
		PUT("%spicked up mid-stream", o ? "; " : "");
	for (int d = 0; d < 2; d++) {
		const rp_cut *k = &s->cut[d];
		if (k->cut) {
			const char *what = k->is_codec ? jm_error_specs[k->error].id
						       : jm_problem_specs[k->prob].id;
			PUT("%s%s in the %s data at offset %" PRIu64 ": only the %" PRIu64 " %s%s before it %s",
			    o ? "; " : "", what, side_name(d), k->offset, k->kept,
			    d == RP_REQ ? "request" : "response", k->kept == 1 ? "" : "s",
			    d == RP_REQ ? "replayed" : "compared");
		} else if (s->trailing_partial[d]) {
			PUT("%scapture ends inside %s %zu", o ? "; " : "",
			    d == RP_REQ ? "request" : "response", s->n[d]);
		}
	}
	if (o && s->n[RP_RESP] + 1 == s->n[RP_REQ])
		PUT("; response %zu not in the capture, not compared", s->n[RP_RESP]);
	else if (o && s->n[RP_RESP] < s->n[RP_REQ])
		PUT("; responses %zu to %zu not in the capture, not compared", s->n[RP_RESP],
		    s->n[RP_REQ] - 1);
#undef PUT
}

/* ---------------------------------------------------------------- select */

int rp_select_parse(rp_select *sel, const char *list)
{
	memset(sel, 0, sizeof *sel);
	const char *p = list;
	if (!*p)
		return -1;
	while (*p) {
		char *end;
		if (!isdigit((unsigned char)*p))
			goto bad;
		errno = 0;
		uint64_t lo = strtoull(p, &end, 10), hi = lo;
		if (errno)
			goto bad;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto bad;
			hi = strtoull(p, &end, 10);
			if (errno || hi < lo)
				goto bad;
			p = end;
		}
		if (*p == ',') {
			p++;
			if (!*p)
				goto bad;
		} else if (*p) {
			goto bad;
		}
		void *r = realloc(sel->r, (sel->n + 1) * sizeof *sel->r);
		if (!r)
			goto bad;
		sel->r = r;
		sel->r[sel->n].lo = lo;
		sel->r[sel->n].hi = hi;
		sel->n++;
	}
	return 0;
bad:
	rp_select_free(sel);
	return -1;
}

bool rp_select_has(const rp_select *sel, uint64_t id)
{
	if (!sel || !sel->n)
		return true;
	for (size_t i = 0; i < sel->n; i++)
		if (id >= sel->r[i].lo && id <= sel->r[i].hi)
			return true;
	return false;
}

void rp_select_free(rp_select *sel)
{
	free(sel->r);
	sel->r = NULL;
	sel->n = 0;
}

/* ---------------------------------------------------------------- re-encode */

static bool is_required(const jm_member *m)
{
	for (int f = 0; f < JM_FIELD_COUNT; f++) {
		const jm_field_spec *fs = &jm_field_specs[f];
		if (fs->required && fs->key_len == m->key_len && !memcmp(fs->key, m->key, m->key_len))
			return true;
	}
	return false;
}

int rp_reencode(jm_buf *out, const jm_header *h, const void *content, size_t content_len)
{
	const char *ct = jm_header_str(h, JM_FIELD_CONTENT_TYPE);
	const char *ce = jm_header_str(h, JM_FIELD_CONTENT_ENCODING);
	if (!ct || !ce)
		return -1;
	/* Extra members keep their raw value text; only the key is quoted
	 * again, since the decoder hands it out unescaped.  A key seen twice is
	 * written once, with the value that counted (the last). */
	jm_buf extra = {0};
	int rc = 0;
	for (size_t i = 0; i < h->n_members && rc == 0; i++) {
		const jm_member *m = &h->members[i];
		if (is_required(m))
			continue;
		bool later = false;
		for (size_t j = i + 1; j < h->n_members && !later; j++)
			later = h->members[j].key_len == m->key_len &&
				!memcmp(h->members[j].key, m->key, m->key_len);
		if (later)
			continue;
		if (extra.len)
			rc |= jm_buf_append(&extra, ", ", 2);
		rc |= jm_json_quote(&extra, m->key, m->key_len);
		rc |= jm_buf_append(&extra, ": ", 2);
		rc |= jm_buf_append(&extra, m->value, m->value_len);
	}
	if (rc == 0 && extra.len)
		rc = jm_buf_append(&extra, "", 1);
	if (rc == 0)
		rc = jm_encode(out, ct, ce, extra.len ? (const char *)extra.data : NULL, content,
			       content_len);
	jm_buf_free(&extra);
	return rc;
}
