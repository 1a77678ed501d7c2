/* The framing codec (framing_codec.h): a streaming decoder per direction and
 * an encoder for the framings of spec/framings/ and raw.
 *
 * The decoder holds one message at most (its wire bytes, up to the
 * framing's max_payload plus the framing), and never more than 4 KiB plus a
 * delimiter while it hunts for one.  Each step consumes what it can of the
 * input without looking past the message it is in, so the events never
 * depend on where the input was split. */
#include "framing_codec.h"
#include "jmsg.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define HUNT_CHUNK 4096

const char *jmf_error_id(jm_framing_error e)
{
	return (unsigned)e < JM_FERR_COUNT ? jm_framing_error_specs[e].id : "unknown";
}

const char *jmf_error_text(jm_framing_error e)
{
	return (unsigned)e < JM_FERR_COUNT ? jm_framing_error_specs[e].text : "unknown error";
}

int jmf_decoder_init(jmf_decoder *d, const jmf_framing *f, jmf_event_cb cb, void *user)
{
	memset(d, 0, sizeof *d);
	d->f = *f;
	d->cb = cb;
	d->user = user;
	if (f->kind == JMF_JMSG) {
		d->state = JMF_S_FAILED;
		return -1;
	}
	d->state = JMF_S_MSG;
	return 0;
}

void jmf_decoder_free(jmf_decoder *d)
{
	free(d->buf);
	d->buf = NULL;
	d->len = d->cap = 0;
}

static void emit(jmf_decoder *d, jmf_event *ev)
{
	if (d->state != JMF_S_STOPPED && d->cb(d->user, ev) == JM_CB_STOP)
		d->state = JMF_S_STOPPED;
}

static void ferror_ev(jmf_decoder *d, jm_framing_error e, uint64_t at, bool cont, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void ferror_ev(jmf_decoder *d, jm_framing_error e, uint64_t at, bool cont, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->detail, sizeof d->detail, fmt, ap);
	va_end(ap);
	if (!cont)
		d->state = JMF_S_FAILED;
	jmf_event ev = {.type = JMF_EV_ERROR, .offset = at, .msg_offset = d->msg_offset,
			.error = e, .detail = d->detail, .can_continue = cont};
	emit(d, &ev);
}

static void message(jmf_decoder *d, const uint8_t *payload, size_t len, uint64_t wire)
{
	jmf_event ev = {.type = JMF_EV_MESSAGE, .offset = d->msg_offset, .length = wire,
			.payload = payload, .payload_len = len};
	d->len = 0;
	emit(d, &ev);
}

static void resync(jmf_decoder *d)
{
	jmf_event ev = {.type = JMF_EV_RESYNC, .offset = d->offset, .length = d->offset - d->lost_at};
	d->state = JMF_S_MSG;
	d->len = 0;
	d->resync = false;
	emit(d, &ev);
}

/* Room for `want` bytes in buf, or ERROR framing_out_of_memory. */
static int grow(jmf_decoder *d, size_t want)
{
	if (want <= d->cap)
		return 0;
	size_t cap = d->cap ? d->cap : 64;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	uint8_t *p = realloc(d->buf, cap);
	if (!p) {
		ferror_ev(d, JM_FERR_FRAMING_OUT_OF_MEMORY, d->offset, false,
		      "no memory for %zu bytes of the message at offset %llu", want,
		      (unsigned long long)d->msg_offset);
		return -1;
	}
	d->buf = p;
	d->cap = cap;
	return 0;
}

static size_t min_sz(uint64_t a, size_t b)
{
	return a < b ? (size_t)a : b;
}

/* Appends up to `k` bytes; returns k, or 0 with the decoder failed. */
static size_t append(jmf_decoder *d, const uint8_t *p, size_t k)
{
	if (grow(d, d->len + k))
		return 0;
	memcpy(d->buf + d->len, p, k);
	d->len += k;
	return k;
}

static size_t step_length_prefix(jmf_decoder *d, const uint8_t *p, size_t n)
{
	unsigned w = d->f.width;
	size_t k = 0;
	if (d->len < w) {
		if (grow(d, w))
			return 0;
		for (; k < n && d->len < w; k++) {
			if (p[k] < '0' || p[k] > '9') {
				d->offset += k;
				ferror_ev(d, JM_FERR_LENGTH_NOT_DIGIT, d->offset, false,
				      "byte 0x%02x at offset %llu, %zu into the %u-digit length prefix "
				      "of the message at offset %llu, is not a digit",
				      p[k], (unsigned long long)d->offset, d->len, w,
				      (unsigned long long)d->msg_offset);
				return k;
			}
			d->buf[d->len++] = p[k];
		}
		d->offset += k;
		if (d->len < w)
			return k;
		d->need = 0;
		for (unsigned i = 0; i < w; i++)
			d->need = d->need * 10 + (uint64_t)(d->buf[i] - '0');
		if (d->need > d->f.max_payload) {
			d->len = 0;
			ferror_ev(d, JM_FERR_LENGTH_OVER_LIMIT, d->msg_offset, true,
			      "length prefix %.*s at offset %llu is over max_payload %llu; "
			      "%llu bytes skipped",
			      (int)w, (const char *)d->buf, (unsigned long long)d->msg_offset,
			      (unsigned long long)d->f.max_payload, (unsigned long long)d->need);
			if (d->state == JMF_S_MSG)
				d->state = d->need ? JMF_S_SKIP : JMF_S_MSG;
			return k;
		}
		if (d->need == 0)
			message(d, d->buf + w, 0, w);
		return k;
	}
	size_t more = append(d, p, min_sz(w + d->need - d->len, n));
	d->offset += more;
	if (d->state == JMF_S_MSG && d->len == w + d->need)
		message(d, d->buf + w, (size_t)d->need, w + d->need);
	return more;
}

static size_t step_fixed(jmf_decoder *d, const uint8_t *p, size_t n)
{
	size_t k = append(d, p, min_sz(d->f.size - d->len, n));
	d->offset += k;
	if (d->state == JMF_S_MSG && d->len == d->f.size) {
		size_t plen = d->len;
		while (plen > 0 && d->buf[plen - 1] == d->f.pad)
			plen--;
		message(d, d->buf, plen, d->f.size);
	}
	return k;
}

/* First delimiter in buf[from..len), as an index into buf, or -1. */
static long find_delim(const jmf_decoder *d, size_t from)
{
	if (d->len < from + d->f.delim_len)
		return -1;
	const uint8_t *q = memmem(d->buf + from, d->len - from, d->f.delim, d->f.delim_len);
	return q ? (long)(q - d->buf) : -1;
}

/* Keeps the last delimiter length - 1 bytes: a delimiter may start there. */
static void keep_tail(jmf_decoder *d)
{
	size_t keep = d->f.delim_len - 1;
	if (d->len > keep) {
		memmove(d->buf, d->buf + d->len - keep, keep);
		d->len = keep;
	}
}

static size_t step_delimited(jmf_decoder *d, const uint8_t *p, size_t n)
{
	size_t dl = d->f.delim_len, old = d->len;
	uint64_t limit = d->f.max_payload + dl;
	size_t k = append(d, p, min_sz(limit - d->len, n));
	if (!k)
		return 0;
	long at = find_delim(d, old >= dl - 1 ? old - (dl - 1) : 0);
	if (at >= 0) {
		size_t end = (size_t)at + dl;
		d->offset += end - old;
		d->len = end;
		message(d, d->buf, (size_t)at, end);
		return end - old;
	}
	d->offset += k;
	if (d->len == limit) {
		d->lost_at = d->msg_offset;
		keep_tail(d);
		d->state = JMF_S_HUNT;
		ferror_ev(d, JM_FERR_DELIMITER_NOT_FOUND, d->offset, true,
		      "no delimiter in the %llu bytes from offset %llu (max_payload %llu)",
		      (unsigned long long)limit, (unsigned long long)d->msg_offset,
		      (unsigned long long)d->f.max_payload);
	}
	return k;
}

static size_t hunt_delimiter(jmf_decoder *d, const uint8_t *p, size_t n)
{
	size_t old = d->len;
	size_t k = append(d, p, n < HUNT_CHUNK ? n : HUNT_CHUNK);
	if (!k)
		return 0;
	long at = find_delim(d, 0);
	if (at >= 0) {
		size_t used = (size_t)at + d->f.delim_len - old;
		d->offset += used;
		resync(d);
		return used;
	}
	d->offset += k;
	keep_tail(d);
	return k;
}

/* close and raw: every byte is payload, up to max_payload. */
static size_t step_run(jmf_decoder *d, const uint8_t *p, size_t n)
{
	if (d->len == d->f.max_payload) {
		bool raw = d->f.kind == JMF_RAW;
		d->lost_at = d->msg_offset;
		d->len = 0;
		if (raw)
			d->state = JMF_S_HUNT;
		ferror_ev(d, JM_FERR_MESSAGE_OVER_LIMIT, d->offset, raw,
		      "the message at offset %llu is longer than max_payload %llu; %s",
		      (unsigned long long)d->msg_offset, (unsigned long long)d->f.max_payload,
		      raw ? "skipped up to the other side's next turn" : "not decoded");
		return 0;
	}
	size_t k = append(d, p, min_sz(d->f.max_payload - d->len, n));
	d->offset += k;
	return k;
}

static size_t step(jmf_decoder *d, const uint8_t *p, size_t n)
{
	if (d->state == JMF_S_SKIP) {
		size_t k = min_sz(d->need, n);
		d->need -= k;
		d->offset += k;
		if (!d->need) {
			if (d->resync)
				resync(d);
			else
				d->state = JMF_S_MSG;
		}
		return k;
	}
	if (d->state == JMF_S_HUNT) {
		if (d->f.kind == JMF_DELIMITED)
			return hunt_delimiter(d, p, n);
		d->offset += n;  /* raw: until the other side sends */
		return n;
	}
	if (d->len == 0)
		d->msg_offset = d->offset;
	switch (d->f.kind) {
	case JMF_LENGTH_PREFIX: return step_length_prefix(d, p, n);
	case JMF_FIXED: return step_fixed(d, p, n);
	case JMF_DELIMITED: return step_delimited(d, p, n);
	default: return step_run(d, p, n);
	}
}

size_t jmf_decoder_feed(jmf_decoder *d, const uint8_t *p, size_t len)
{
	size_t used = 0;
	while (used < len && !jmf_decoder_failed(d))
		used += step(d, p + used, len - used);
	return used;
}

/* length_prefix: where the message the gap fell in ends, if known. */
static bool known_end(const jmf_decoder *d, uint64_t before, uint64_t *end)
{
	if (d->state == JMF_S_SKIP && !d->resync) {
		*end = before + d->need;
		return true;
	}
	if (d->state == JMF_S_MSG && d->len >= d->f.width && d->len > 0) {
		*end = d->msg_offset + d->f.width + d->need;
		return true;
	}
	return false;
}

void jmf_decoder_gap(jmf_decoder *d, uint64_t n)
{
	uint64_t before = d->offset, end = 0;
	d->offset += n;
	if (jmf_decoder_failed(d))
		return;
	bool known = d->f.kind == JMF_LENGTH_PREFIX && known_end(d, before, &end);
	if (d->state == JMF_S_MSG && d->len == 0)
		d->msg_offset = before;  /* between messages: the next one was there */
	d->len = 0;
	d->lost_at = d->offset;
	if (d->f.kind == JMF_FIXED || (known && d->offset <= end)) {
		uint64_t next = d->f.kind == JMF_FIXED
				    ? (d->offset + d->f.size - 1) / d->f.size * d->f.size
				    : end;
		d->need = next - d->offset;
		d->resync = true;
		d->state = JMF_S_SKIP;
		if (!d->need)
			resync(d);
	} else if (d->f.kind == JMF_DELIMITED || d->f.kind == JMF_RAW) {
		d->state = JMF_S_HUNT;
	} else {
		ferror_ev(d, JM_FERR_NO_RESYNC, before, false,
		      "%llu bytes missing at offset %llu; a %s framing cannot find the next message",
		      (unsigned long long)n, (unsigned long long)before, jmf_kind_name(d->f.kind));
	}
}

void jmf_decoder_boundary(jmf_decoder *d)
{
	if (d->f.kind != JMF_RAW || jmf_decoder_failed(d))
		return;
	if (d->state == JMF_S_HUNT)
		resync(d);
	else if (d->len)
		message(d, d->buf, d->len, d->len);
}

static void truncated(jmf_decoder *d)
{
	unsigned long long at = d->offset, m = d->msg_offset;
	switch (d->f.kind) {
	case JMF_LENGTH_PREFIX:
		if (d->len < d->f.width)
			ferror_ev(d, JM_FERR_TRUNCATED_PREFIX, at, false,
			      "direction ended %zu digits into the %u-digit length prefix at offset %llu",
			      d->len, d->f.width, m);
		else
			ferror_ev(d, JM_FERR_TRUNCATED_PAYLOAD, at, false,
			      "direction ended %zu of %llu payload bytes into the message at offset %llu",
			      d->len - d->f.width, (unsigned long long)d->need, m);
		break;
	case JMF_FIXED:
		ferror_ev(d, JM_FERR_TRUNCATED_FIXED, at, false,
		      "direction ended %zu bytes into the %u-byte message at offset %llu", d->len,
		      d->f.size, m);
		break;
	default:
		ferror_ev(d, JM_FERR_TRUNCATED_DELIMITED, at, false,
		      "direction ended after %zu bytes from offset %llu with no delimiter", d->len, m);
		break;
	}
}

bool jmf_decoder_finish(jmf_decoder *d)
{
	bool clean = false;
	if (jmf_decoder_failed(d))
		return false;
	if (d->state == JMF_S_SKIP && !d->resync) {
		/* a payload over the limit, being skipped: cut short */
		ferror_ev(d, JM_FERR_TRUNCATED_PAYLOAD, d->offset, false,
		      "direction ended %llu bytes before the end of the skipped message at offset %llu",
		      (unsigned long long)d->need, (unsigned long long)d->msg_offset);
	} else if (d->state == JMF_S_MSG && d->len == 0) {
		clean = true;
	} else if (d->state == JMF_S_MSG && (d->f.kind == JMF_CLOSE || d->f.kind == JMF_RAW)) {
		message(d, d->buf, d->len, d->len);
		clean = true;
	} else if (d->state == JMF_S_MSG) {
		truncated(d);
	}
	if (d->state != JMF_S_STOPPED)
		d->state = JMF_S_FAILED;
	return clean;
}

/* ---------------------------------------------------------------- encoder */

static jmf_enc_result refuse(jmf_enc_result r, char *why, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static jmf_enc_result refuse(jmf_enc_result r, char *why, size_t n, const char *fmt, ...)
{
	if (why && n) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, n, fmt, ap);
		va_end(ap);
	}
	return r;
}

static jmf_enc_result enc_delimited(const jmf_framing *f, jm_buf *out, const void *payload,
				    size_t len, char *why, size_t n)
{
	size_t old = out->len;
	if (jm_buf_append(out, payload, len) || jm_buf_append(out, f->delim, f->delim_len)) {
		out->len = old;
		return refuse(JMF_ENC_NO_MEMORY, why, n, "out of memory");
	}
	/* The receiver ends the message at the first delimiter: it must be ours. */
	const uint8_t *q = memmem(out->data + old, len + f->delim_len, f->delim, f->delim_len);
	if (q != out->data + old + len) {
		size_t at = (size_t)(q - (out->data + old));
		out->len = old;
		return refuse(JMF_ENC_HAS_DELIMITER, why, n,
			      "the payload holds the delimiter at byte %zu: the message would end there",
			      at);
	}
	return JMF_ENC_OK;
}

jmf_enc_result jmf_encode(const jmf_framing *f, jm_buf *out, const void *payload, size_t len,
			  char *why, size_t n)
{
	const uint8_t *p = payload;
	size_t old = out->len;
	if (f->kind == JMF_JMSG)
		return refuse(JMF_ENC_NOT_FRAMING, why, n, "the jmsg framing is encoded by jm_encode");
	if (f->kind != JMF_FIXED && len > f->max_payload)
		return refuse(JMF_ENC_TOO_LONG, why, n, "a payload of %zu bytes is over max_payload %llu",
			      len, (unsigned long long)f->max_payload);
	switch (f->kind) {
	case JMF_LENGTH_PREFIX: {
		char pre[JMF_WIDTH_MAX + 1];
		snprintf(pre, sizeof pre, "%0*zu", (int)f->width, len);
		if (jm_buf_append(out, pre, f->width) || jm_buf_append(out, p, len))
			break;
		return JMF_ENC_OK;
	}
	case JMF_FIXED:
		if (len > f->size)
			return refuse(JMF_ENC_TOO_LONG, why, n,
				      "a payload of %zu bytes does not fit a %u-byte message", len,
				      f->size);
		if (len && p[len - 1] == f->pad)
			return refuse(JMF_ENC_ENDS_WITH_PAD, why, n,
				      "the payload ends with the pad byte '%c': the receiver would strip it",
				      f->pad);
		if (jm_buf_append(out, p, len) || jm_buf_reserve(out, f->size - len))
			break;
		memset(out->data + out->len, f->pad, f->size - len);
		out->len += f->size - len;
		return JMF_ENC_OK;
	case JMF_DELIMITED:
		return enc_delimited(f, out, p, len, why, n);
	default:
		if (!len)
			return refuse(JMF_ENC_EMPTY, why, n,
				      "an empty payload cannot be told from no message in %s framing",
				      f->name);
		if (jm_buf_append(out, p, len))
			break;
		return JMF_ENC_OK;
	}
	out->len = old;
	return refuse(JMF_ENC_NO_MEMORY, why, n, "out of memory");
}
