/*
 * The incremental decoder.  State machine over one direction of a stream:
 *
 *   PROTOHEADER --2 bytes--> HEADER --N bytes--> CONTENT --L bytes--> (next)
 *                                 \                  \
 *                                  `-- bad, L known --`-> SKIP --L bytes--> (next)
 *                                  `-- bad, L unknown --> FAILED
 *
 * The header is always copied (at most 65535 bytes); content is handed out
 * as a pointer into the caller's buffer when it arrives within one feed and
 * accumulated otherwise, never beyond the caller's limit.  Event positions
 * depend only on stream offsets, never on how the bytes were split.
 */
#include "json_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Memory through the caller's allocator, if it gave one. */
static void *dec_realloc(jm_decoder *d, void *p, size_t size)
{
	return d->cfg.alloc ? d->cfg.alloc(d->cfg.alloc_ctx, p, size) : realloc(p, size);
}

static void dec_free(jm_decoder *d, void *p)
{
	if (!p)
		return;
	if (d->cfg.alloc)
		d->cfg.alloc(d->cfg.alloc_ctx, p, 0);
	else
		free(p);
}

/* The products cannot overflow: a header is at most 65535 bytes, so it has
 * fewer than 16384 members and members_cap never passes 16384. */
static int grow_members(jm_header_scan *sc)
{
	jm_decoder *d = sc->owner;
	size_t cap = d->members_cap ? d->members_cap * 2 : 16;
	jm_member *m = dec_realloc(d, d->members, cap * sizeof *m);
	if (!m)
		return -1;
	d->members = sc->members = m;
	d->members_cap = sc->members_cap = cap;
	return 0;
}

void jm_decoder_init(jm_decoder *d, const jm_decoder_config *cfg, jm_event_cb cb, void *user)
{
	memset(d, 0, sizeof *d);
	if (cfg)
		d->cfg = *cfg;
	if (!d->cfg.max_content)
		d->cfg.max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN;
	d->cb = cb;
	d->user = user;
	jm_decoder_reset(d, 0);
}

void jm_decoder_free(jm_decoder *d)
{
	dec_free(d, d->hbuf);
	dec_free(d, d->buf);
	dec_free(d, d->members);
	dec_free(d, d->strs);
	memset(d, 0, sizeof *d);
}

void jm_decoder_spare_free(jm_decoder_spare *sp)
{
	/* With the allocator the buffers came from. */
	jm_decoder owner = {.cfg = {.alloc = sp->alloc, .alloc_ctx = sp->alloc_ctx}};
	dec_free(&owner, sp->hbuf);
	dec_free(&owner, sp->members);
	dec_free(&owner, sp->strs);
	memset(sp, 0, sizeof *sp);
}

size_t jm_decoder_spare_bytes(const jm_decoder_spare *sp)
{
	return sp->hbuf_cap + sp->members_cap * sizeof(jm_member) + sp->strs_cap;
}

void jm_decoder_free_spare(jm_decoder *d, jm_decoder_spare *sp)
{
	jm_decoder_spare_free(sp);
	sp->hbuf = d->hbuf;
	sp->hbuf_cap = d->hbuf_cap;
	sp->members = d->members;
	sp->members_cap = d->members_cap;
	sp->strs = d->strs;
	sp->strs_cap = d->strs_cap;
	sp->alloc = d->cfg.alloc;
	sp->alloc_ctx = d->cfg.alloc_ctx;
	dec_free(d, d->buf);
	memset(d, 0, sizeof *d);
}

void jm_decoder_init_spare(jm_decoder *d, const jm_decoder_config *cfg, jm_event_cb cb,
			   void *user, jm_decoder_spare *sp)
{
	jm_decoder_init(d, cfg, cb, user);
	if (sp->alloc != d->cfg.alloc || sp->alloc_ctx != d->cfg.alloc_ctx) {
		jm_decoder_spare_free(sp); /* another allocator's: not ours to keep */
		return;
	}
	d->hbuf = sp->hbuf;
	d->hbuf_cap = sp->hbuf_cap;
	d->members = sp->members;
	d->members_cap = sp->members_cap;
	d->strs = sp->strs;
	d->strs_cap = sp->strs_cap;
	memset(sp, 0, sizeof *sp);
}

void jm_decoder_reset(jm_decoder *d, uint64_t offset)
{
	d->state = JM_DS_PROTOHEADER;
	d->need = JM_SPEC_PROTOHEADER_SIZE;
	d->offset = d->msg_offset = offset;
	d->header_len = 0;
	d->hbuf_len = d->buf_len = 0;
	d->hdr_valid = false;
	memset(&d->hdr, 0, sizeof d->hdr);
}

/* ---------------------------------------------------------------- events */

static bool emit(jm_decoder *d, jm_event *ev)
{
	ev->msg_offset = d->msg_offset;
	ev->header_len = d->header_len;
	if (d->cb(d->user, ev) != JM_CB_OK) {
		d->state = JM_DS_STOPPED;
		return false;
	}
	return true;
}

static void next_message(jm_decoder *d)
{
	d->state = JM_DS_PROTOHEADER;
	d->need = JM_SPEC_PROTOHEADER_SIZE;
	d->msg_offset = d->offset;
	d->hbuf_len = d->buf_len = 0;
	d->hdr_valid = false;
	d->header_len = 0;
	/* The header belongs to the message that just ended. */
	d->hdr.raw = NULL;
	d->hdr.n_members = 0;
}

/* Reports an error.  `length_known` says whether the message's end is known
 * (content-length was readable), which decides recovery for errors whose
 * spec recovery is "if_length_known". */
static bool __attribute__((format(printf, 7, 8)))
emit_error(jm_decoder *d, jm_error e, uint64_t offset, bool length_known, const uint8_t *data,
	   size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->detail, sizeof d->detail, fmt, ap);
	va_end(ap);
	bool cont;
	switch (jm_error_specs[e].recovery) {
	case JM_RECOVER_CONTINUE: cont = true; break;
	case JM_RECOVER_IF_LENGTH_KNOWN: cont = length_known; break;
	default: cont = false; break;
	}
	jm_event ev = {
		.type = JM_EV_ERROR,
		.offset = offset,
		.header = d->hdr.raw ? &d->hdr : NULL,
		.data = data,
		.len = len,
		.error = e,
		.detail = d->detail,
		.can_continue = cont,
	};
	if (!emit(d, &ev))
		return false;
	if (!cont)
		d->state = JM_DS_FAILED;
	return true;
}

/* ---------------------------------------------------------------- header */

static const jm_member *find_member(const jm_member *m, size_t n, const char *key, size_t klen)
{
	for (size_t i = n; i-- > 0;)
		if (m[i].key_len == klen && !memcmp(m[i].key, key, klen))
			return &m[i];
	return NULL;
}

const jm_member *jm_header_member(const jm_header *h, const char *key)
{
	return find_member(h->members, h->n_members, key, strlen(key));
}

const char *jm_header_str(const jm_header *h, jm_field_id id)
{
	const jm_field *f = &h->field[id];
	return f->present && f->type == JM_JSON_STRING ? f->str : NULL;
}

static bool type_matches(jm_spec_type want, jm_json_type got)
{
	switch (want) {
	case JM_SPEC_T_STRING: return got == JM_JSON_STRING;
	case JM_SPEC_T_INTEGER: return got == JM_JSON_INTEGER;
	case JM_SPEC_T_NUMBER: return got == JM_JSON_INTEGER || got == JM_JSON_NUMBER;
	case JM_SPEC_T_BOOLEAN: return got == JM_JSON_BOOL;
	case JM_SPEC_T_OBJECT: return got == JM_JSON_OBJECT;
	case JM_SPEC_T_ARRAY: return got == JM_JSON_ARRAY;
	case JM_SPEC_T_NULL: return got == JM_JSON_NULL;
	}
	return false;
}

static const char *json_type_name(jm_json_type t)
{
	static const char *const names[] = {"nothing", "null", "a boolean", "an integer",
					    "a number", "a string", "an array", "an object"};
	return names[t];
}

static bool is_json_encoding(const char *enc)
{
	for (size_t i = 0; i < JM_SPEC_N_JSON_ENCODINGS; i++)
		if (!strcasecmp(enc, jm_json_encodings[i]))
			return true;
	return false;
}

/* Fills *f from member m; a string is copied (unescaped) to *strs, which
 * moves past it and its NUL. */
static void fill_field(jm_field *f, const jm_member *m, char **strs, bool plain)
{
	f->present = true;
	f->type = m->type;
	if (m->type == JM_JSON_STRING) {
		f->str = *strs;
		if (plain) { /* no escapes to undo */
			f->str_len = m->value_len - 2;
			memcpy(*strs, m->value + 1, f->str_len);
			(*strs)[f->str_len] = 0;
		} else {
			f->str_len = jm_json_unescape(m->value + 1, m->value_len - 2, *strs);
		}
		*strs += f->str_len + 1;
	} else if (m->type == JM_JSON_INTEGER) {
		f->num_overflow = !jm_member_int(m, &f->num);
	}
}

/* Checks the filled field id (member m) against its spec: JM_ERR_NONE, or
 * the problem with d->detail written. */
static jm_error field_error(jm_decoder *d, int id, const jm_field_spec *fs, const jm_field *f,
			    const jm_member *m)
{
	if (!type_matches(fs->type, m->type)) {
		snprintf(d->detail, sizeof d->detail, "\"%s\" is %s, not %s %s", fs->key,
			 json_type_name(m->type), fs->type == JM_SPEC_T_INTEGER ? "an" : "a",
			 fs->type == JM_SPEC_T_STRING ? "string" : fs->type == JM_SPEC_T_INTEGER ? "integer" : "value of its type");
		return JM_ERR_HEADER_FIELD_TYPE;
	}
	if (m->type == JM_JSON_INTEGER && !f->num_overflow &&
	    ((fs->has_minimum && f->num < fs->minimum) || (fs->has_maximum && f->num > fs->maximum))) {
		snprintf(d->detail, sizeof d->detail, "\"%s\" is %lld, out of range", fs->key,
			 (long long)f->num);
		return id == JM_FIELD_CONTENT_LENGTH && f->num < 0 ? JM_ERR_CONTENT_LENGTH_NEGATIVE
								   : JM_ERR_HEADER_FIELD_VALUE;
	}
	if (m->type == JM_JSON_INTEGER && f->num_overflow && m->value[0] == '-') {
		snprintf(d->detail, sizeof d->detail, "\"%s\" is a huge negative number", fs->key);
		return id == JM_FIELD_CONTENT_LENGTH ? JM_ERR_CONTENT_LENGTH_NEGATIVE
						    : JM_ERR_HEADER_FIELD_VALUE;
	}
	if (fs->n_enum && m->type == JM_JSON_STRING) {
		bool ok = false;
		for (size_t k = 0; k < fs->n_enum && !ok; k++)
			ok = !strcmp(f->str, fs->enum_values[k]);
		if (!ok) {
			snprintf(d->detail, sizeof d->detail, "\"%s\" is \"%.60s\", not one of the allowed values",
				 fs->key, f->str);
			return JM_ERR_HEADER_FIELD_VALUE;
		}
	}
	return JM_ERR_NONE;
}

/* Fills hdr.field[] from the members and checks them against the spec.
 * Returns JM_ERR_NONE or the first problem in spec field order, with
 * *at the offending member (or NULL) and d->detail written. */
static jm_error check_fields(jm_decoder *d, char *strs, bool plain, const jm_member **at,
			     bool *length_known)
{
	jm_header *h = &d->hdr;
	jm_error err = JM_ERR_NONE;
	*at = NULL;
	for (int id = 0; id < JM_FIELD_COUNT; id++) {
		const jm_field_spec *fs = &jm_field_specs[id];
		jm_field *f = &h->field[id];
		const jm_member *m = find_member(h->members, h->n_members, fs->key, fs->key_len);
		memset(f, 0, sizeof *f);
		if (!m) {
			if (fs->required && !err) {
				err = JM_ERR_HEADER_MISSING_FIELD;
				snprintf(d->detail, sizeof d->detail, "required field \"%s\" is missing",
					 fs->key);
			}
			continue;
		}
		fill_field(f, m, &strs, plain);
		if (err)
			continue;
		err = field_error(d, id, fs, f, m);
		if (err)
			*at = m;
	}
	/* The message's end is known if content-length is a non-negative
	 * integer, even one too large to keep (it is then skipped). */
	const jm_field *cl = &h->field[JM_FIELD_CONTENT_LENGTH];
	const jm_member *clm = find_member(h->members, h->n_members, jm_field_specs[JM_FIELD_CONTENT_LENGTH].key,
					   jm_field_specs[JM_FIELD_CONTENT_LENGTH].key_len);
	*length_known = cl->present && cl->type == JM_JSON_INTEGER &&
			(cl->num_overflow ? clm->value[0] != '-' : cl->num >= 0);
	return err;
}

static uint64_t content_length_of(const jm_header *h)
{
	const jm_field *cl = &h->field[JM_FIELD_CONTENT_LENGTH];
	return cl->num_overflow ? UINT64_MAX : (uint64_t)cl->num;
}

/* The header did not scan: the error to report, a UTF-8 fault anywhere
 * first.  Returns what on_header() returns. */
static bool scan_failed(jm_decoder *d, jm_scan_result scan, const jm_header_scan *sc, uint64_t hstart)
{
	size_t bad;
	if (!jm_utf8_valid(d->hbuf, d->header_len, &bad))
		return emit_error(d, JM_ERR_HEADER_NOT_UTF8, hstart + bad, false, NULL, 0,
				  "byte 0x%02x at header byte %zu is not valid UTF-8", d->hbuf[bad], bad);
	switch (scan) {
	case JM_SCAN_OK:
		break;
	case JM_SCAN_NOT_OBJECT:
		return emit_error(d, JM_ERR_HEADER_NOT_OBJECT, hstart + sc->err_at, false, NULL, 0,
				  "header is %s", sc->why);
	case JM_SCAN_NOT_JSON:
		return emit_error(d, JM_ERR_HEADER_NOT_JSON, hstart + sc->err_at, false, NULL, 0,
				  "%s at header byte %zu", sc->why, sc->err_at);
	case JM_SCAN_NOMEM:
		return emit_error(d, JM_ERR_OUT_OF_MEMORY, hstart, false, NULL, 0,
				  "out of memory for the header's members");
	}
	return true;
}

/* The header broke the spec (err, at the member at or NULL): reported,
 * then the content, if its length is known, is skipped. */
static bool header_rejected(jm_decoder *d, jm_error err, const jm_member *at, bool length_known,
			    uint64_t clen, uint64_t hstart)
{
	const jm_header *h = &d->hdr;
	uint64_t off = at ? hstart + (uint64_t)(at->value - h->raw) : hstart;
	char detail[sizeof d->detail];
	memcpy(detail, d->detail, sizeof detail);
	if (!emit_error(d, err, off, length_known, NULL, 0, "%s", detail))
		return false;
	if (d->state == JM_DS_FAILED)
		return false;
	d->state = JM_DS_SKIP;
	d->need = clen;
	return true;
}

/* content-length clen is over the limit: reported, and the content is
 * skipped. */
static bool content_too_large(jm_decoder *d, uint64_t clen, uint64_t hstart)
{
	const jm_header *h = &d->hdr;
	const jm_member *m = jm_header_member(h, jm_field_specs[JM_FIELD_CONTENT_LENGTH].key);
	uint64_t off = hstart + (uint64_t)(m->value - h->raw);
	if (!emit_error(d, JM_ERR_CONTENT_LENGTH_TOO_LARGE, off, true, NULL, 0,
			"content-length %.*s is over the limit of %llu bytes",
			m->value_len > 30 ? 15 : (int)m->value_len,
			m->value_len > 30 ? "(a huge number)" : m->value,
			(unsigned long long)d->cfg.max_content))
		return false;
	d->state = JM_DS_SKIP;
	d->need = clen;
	return true;
}

/* strs holds need bytes or more; false if out of memory.  (Rounded up to
 * malloc's own granule: a header a byte longer than the last, as a longer
 * content-length makes it, costs no realloc, and no memory.) */
static bool reserve_strs(jm_decoder *d, size_t need)
{
	if (d->strs_cap < need) {
		size_t cap = (need + 15) & ~(size_t)15;
		char *s = dec_realloc(d, d->strs, cap);
		if (!s)
			return false;
		d->strs = s;
		d->strs_cap = cap;
	}
	return true;
}

/* The header is complete in hbuf: check it, report it, and set up for the
 * content.  Returns false if the decoder stopped or failed. */
static bool on_header(jm_decoder *d)
{
	jm_header *h = &d->hdr;
	uint64_t hstart = d->msg_offset + JM_SPEC_PROTOHEADER_SIZE;
	size_t n = d->header_len, bad;
	memset(h, 0, sizeof *h);

	/* Unescaped strings never outgrow their escaped form; one NUL each. */
	if (!reserve_strs(d, 2 * n + 2)) {
		if (!jm_utf8_valid(d->hbuf, n, &bad))
			return emit_error(d, JM_ERR_HEADER_NOT_UTF8, hstart + bad, false, NULL, 0,
					  "byte 0x%02x at header byte %zu is not valid UTF-8",
					  d->hbuf[bad], bad);
		return emit_error(d, JM_ERR_OUT_OF_MEMORY, hstart, false, NULL, 0,
				  "out of memory for a %zu-byte header", n);
	}
	jm_header_scan sc = {
		.raw = (const char *)d->hbuf,
		.raw_len = n,
		.members = d->members,
		.members_cap = d->members_cap,
		.grow = grow_members,
		.owner = d,
		.strs = d->strs,
		.utf8 = true,
	};
	/* One pass checks the JSON and the UTF-8 (see jm_jp.utf8).  Should it
	 * fail, a UTF-8 fault anywhere is the error to report. */
	jm_scan_result scan = jm_scan_header(&sc);
	if (scan != JM_SCAN_OK)
		return scan_failed(d, scan, &sc, hstart);
	h->raw = (const char *)d->hbuf;
	h->raw_len = n;
	h->members = d->members;
	h->n_members = sc.n_members;

	const jm_member *at;
	bool length_known;
	jm_error err = check_fields(d, d->strs + sc.strs_used, sc.plain, &at, &length_known);
	uint64_t clen = length_known ? content_length_of(h) : 0;
	if (err)
		return header_rejected(d, err, at, length_known, clen, hstart);

	h->content_length = clen;
	const char *ctype = h->field[JM_FIELD_CONTENT_TYPE].str;
	const char *cenc = h->field[JM_FIELD_CONTENT_ENCODING].str;
	h->content_is_json = !strcmp(ctype, JM_SPEC_JSON_CONTENT_TYPE);
	d->hdr_valid = true;
	d->state = JM_DS_CONTENT;
	d->need = clen;
	d->buf_len = 0;

	if (h->content_is_json && !is_json_encoding(cenc)) {
		const jm_member *m = jm_header_member(h, jm_field_specs[JM_FIELD_CONTENT_ENCODING].key);
		h->content_is_json = false;
		if (!emit_error(d, JM_ERR_CONTENT_ENCODING_UNSUPPORTED,
				hstart + (uint64_t)(m->value - h->raw), true, NULL, 0,
				"content-encoding \"%.60s\" for %s; content kept as bytes", cenc, ctype))
			return false;
		/* A warning: the message goes on. */
		d->state = JM_DS_CONTENT;
	}

	jm_event ev = {.type = JM_EV_HEADER, .offset = hstart, .header = h};
	if (!emit(d, &ev))
		return false;

	if (clen > d->cfg.max_content)
		return content_too_large(d, clen, hstart);
	return true;
}

/* ---------------------------------------------------------------- content */

static bool streaming(const jm_decoder *d)
{
	return d->cfg.stream_content && !d->hdr.content_is_json;
}

jm_error jm_check_content(const jm_header *h, const uint8_t *data, size_t len, size_t *err_at,
			  char *detail, size_t n)
{
	const char *why;
	if (!h->content_is_json)
		return JM_ERR_NONE;
	/* The usual case, valid content, in one pass; a fault is then looked
	 * for as before: UTF-8 first. */
	if (jm_json_valid_utf8((const char *)data, len))
		return JM_ERR_NONE;
	if (!jm_utf8_valid(data, len, err_at)) {
		snprintf(detail, n, "byte 0x%02x at content byte %zu is not valid UTF-8", data[*err_at],
			 *err_at);
		return JM_ERR_CONTENT_NOT_UTF8;
	}
	if (!jm_json_valid((const char *)data, len, err_at, &why)) {
		snprintf(detail, n, "%s at content byte %zu", why, *err_at);
		return JM_ERR_CONTENT_NOT_JSON;
	}
	return JM_ERR_NONE;
}

/* The whole content is at data/len.  Validate and report it; the message
 * ends here either way. */
static bool on_content(jm_decoder *d, const uint8_t *data, size_t len)
{
	const jm_header *h = &d->hdr;
	uint64_t cstart = d->msg_offset + JM_SPEC_PROTOHEADER_SIZE + d->header_len;
	if (!d->cfg.no_content_check) {
		size_t at;
		char detail[sizeof d->detail];
		jm_error e = jm_check_content(h, data, len, &at, detail, sizeof detail);
		if (e) {
			if (!emit_error(d, e, cstart + at, true, data, len, "%s", detail))
				return false;
			next_message(d);
			return true;
		}
	}
	jm_event ev = {.type = JM_EV_CONTENT, .offset = cstart, .header = h,
		       .data = data ? data : (const uint8_t *)"", .len = len};
	if (!emit(d, &ev))
		return false;
	jm_event done = {.type = JM_EV_MESSAGE, .offset = d->offset, .header = h};
	if (!emit(d, &done))
		return false;
	d->messages++;
	next_message(d);
	return true;
}

static int buf_hold(jm_decoder *d, const uint8_t *p, size_t n)
{
	size_t want = d->buf_len + n;
	if (want > d->buf_cap) {
		/* Grow geometrically but never past this message's content. */
		size_t total = d->buf_len + (size_t)d->need;
		size_t cap = d->buf_cap ? d->buf_cap * 2 : 4096;
		if (cap < want)
			cap = want;
		if (cap > total)
			cap = total;
		uint8_t *b = dec_realloc(d, d->buf, cap);
		if (!b)
			return -1;
		d->buf = b;
		d->buf_cap = cap;
	}
	memcpy(d->buf + d->buf_len, p, n);
	d->buf_len += n;
	return 0;
}

/* ---------------------------------------------------------------- feed */

size_t jm_decoder_feed(jm_decoder *d, const uint8_t *buf, size_t len)
{
	size_t pos = 0;
	for (;;) {
		size_t avail = len - pos, take;
		switch (d->state) {
		case JM_DS_FAILED:
		case JM_DS_STOPPED:
			return pos;

		case JM_DS_PROTOHEADER:
			if (!avail)
				return pos;
			take = avail < d->need ? avail : (size_t)d->need;
			memcpy(d->ph + (JM_SPEC_PROTOHEADER_SIZE - d->need), buf + pos, take);
			pos += take;
			d->offset += take;
			d->need -= take;
			if (d->need)
				return pos;
			d->header_len = (uint16_t)(d->ph[0] << 8 | d->ph[1]);
			{
				jm_event ev = {.type = JM_EV_PROTOHEADER, .offset = d->msg_offset};
				if (!emit(d, &ev))
					return pos;
			}
			if (d->header_len < JM_SPEC_MIN_HEADER_LEN) {
				emit_error(d, JM_ERR_HEADER_EMPTY, d->msg_offset, false, NULL, 0,
					   "protoheader is 0x%02x%02x", d->ph[0], d->ph[1]);
				return pos;
			}
			if (d->hbuf_cap < d->header_len) {
				/* Rounded up, as strs in reserve_strs(). */
				size_t cap = ((size_t)d->header_len + 15) & ~(size_t)15;
				uint8_t *b = dec_realloc(d, d->hbuf, cap);
				if (!b) {
					emit_error(d, JM_ERR_OUT_OF_MEMORY, d->offset, false, NULL, 0,
						   "out of memory for a %u-byte header", d->header_len);
					return pos;
				}
				d->hbuf = b;
				d->hbuf_cap = cap;
			}
			d->state = JM_DS_HEADER;
			d->need = d->header_len;
			d->hbuf_len = 0;
			break;

		case JM_DS_HEADER:
			if (!avail)
				return pos;
			take = avail < d->need ? avail : (size_t)d->need;
			memcpy(d->hbuf + d->hbuf_len, buf + pos, take);
			d->hbuf_len += take;
			pos += take;
			d->offset += take;
			d->need -= take;
			if (d->need)
				return pos;
			if (!on_header(d))
				return pos;
			break;

		case JM_DS_CONTENT:
			if (streaming(d)) {
				if (d->need && !avail)
					return pos;
				take = avail < d->need ? avail : (size_t)d->need;
				if (take) {
					jm_event ev = {.type = JM_EV_CONTENT_CHUNK, .offset = d->offset,
						       .header = &d->hdr, .data = buf + pos, .len = take};
					pos += take;
					d->offset += take;
					d->need -= take;
					if (!emit(d, &ev))
						return pos;
				}
				if (!d->need) {
					jm_event done = {.type = JM_EV_MESSAGE, .offset = d->offset,
							 .header = &d->hdr};
					if (!emit(d, &done))
						return pos;
					d->messages++;
					next_message(d);
				}
				break;
			}
			if (d->buf_len == 0 && avail >= d->need) {
				/* All of it is here: hand out the caller's bytes. */
				const uint8_t *p = buf + pos;
				size_t n = (size_t)d->need;
				pos += n;
				d->offset += n;
				d->need = 0;
				if (!on_content(d, p, n))
					return pos;
				break;
			}
			if (!avail)
				return pos;
			take = avail < d->need ? avail : (size_t)d->need;
			if (buf_hold(d, buf + pos, take)) {
				emit_error(d, JM_ERR_OUT_OF_MEMORY, d->offset, false, NULL, 0,
					   "out of memory holding %llu bytes of content",
					   (unsigned long long)(d->buf_len + d->need));
				return pos;
			}
			pos += take;
			d->offset += take;
			d->need -= take;
			if (d->need)
				return pos;
			if (!on_content(d, d->buf, d->buf_len))
				return pos;
			break;

		case JM_DS_SKIP:
			if (d->need && !avail)
				return pos;
			take = avail < d->need ? avail : (size_t)d->need;
			pos += take;
			d->offset += take;
			d->need -= take;
			if (!d->need)
				next_message(d);
			break;
		}
	}
}

bool jm_decoder_finish(jm_decoder *d)
{
	if (d->state == JM_DS_FAILED || d->state == JM_DS_STOPPED)
		return false;
	if (jm_decoder_idle(d))
		return true;
	/* Where the stream ended, and whether the message already had an
	 * error (then its content was being skipped; a message is known to
	 * be bad only once its header is read, so a bad one always ends in
	 * its content):
	 *   stream ended in the protoheader of the message at offset 0, 1 byte short
	 *   stream ended in the JSON header of the message at offset 0, 47 bytes short
	 *   stream ended in the content of the message at offset 0, 5 bytes short
	 *   stream ended in the skipped content of the bad message at offset 0, 5 bytes short */
	bool bad = d->state == JM_DS_SKIP;
	const char *where = d->state == JM_DS_PROTOHEADER ? "protoheader"
			    : d->state == JM_DS_HEADER    ? "JSON header"
			    : bad                         ? "skipped content"
							  : "content";
	emit_error(d, JM_ERR_TRUNCATED, d->offset, false, NULL, 0,
		   "stream ended in the %s of the %smessage at offset %llu, %llu byte%s short", where,
		   bad ? "bad " : "", (unsigned long long)d->msg_offset, (unsigned long long)d->need,
		   d->need == 1 ? "" : "s");
	d->state = JM_DS_FAILED;
	return false;
}

size_t jm_find_boundary(const uint8_t *buf, size_t len)
{
	for (size_t p = 0; p + 3 <= len; p++) {
		const uint8_t *q = memchr(buf + p + 2, '{', len - p - 2);
		if (!q)
			break;
		p = (size_t)(q - buf) - 2;
		size_t hl = (size_t)buf[p] << 8 | buf[p + 1];
		if (hl < 2)
			continue;
		if (p + 3 < len) {
			uint8_t c = buf[p + 3];
			if (c != '"' && c != ' ' && c != '\n' && c != '\r' && c != '\t')
				continue;
		}
		/* When the whole header is here, it must be a JSON object; when
		 * only part of it is, that part must be the start of one (so the
		 * boundary between a JSON header and JSON content, "}{", is not
		 * taken for a protoheader). */
		size_t avail = len - p - 2, at;
		if (avail >= hl) {
			if (buf[p + 2 + hl - 1] != '}' ||
			    !jm_json_valid((const char *)buf + p + 2, hl, NULL, NULL))
				continue;
		} else if (!jm_json_valid((const char *)buf + p + 2, avail, &at, NULL) && at < avail) {
			continue;
		}
		return p;
	}
	return len;
}
