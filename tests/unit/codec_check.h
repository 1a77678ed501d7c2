/*
 * Shared by the codec unit tests and the decoder fuzz target: runs a byte
 * stream through a decoder with chosen split points and writes every event
 * into a text log, so two runs can be compared for equality.
 *
 * Streaming-mode CONTENT_CHUNK events are gathered and logged as one line at
 * MESSAGE, so the log does not depend on the split in any mode.  Every
 * pointer an event hands out is read in full, so a sanitizer sees any read
 * past what the decoder may give.
 */
#ifndef JM_TESTS_UNIT_CODEC_CHECK_H
#define JM_TESTS_UNIT_CODEC_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jmsg.h"

struct evlog {
	jm_buf text;
	jm_buf chunks;
	int stop_at;  /* return JM_CB_STOP on this event number (1-based), 0 never */
	int n_events;
	int n_messages;
	int n_errors;
	int n_bugs;    /* invariant violations seen by evlog_run */
};

static void evlog_printf(struct evlog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void evlog_printf(struct evlog *l, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1;
	jm_buf_append(&l->text, line, (size_t)n);
}

static void evlog_hex(struct evlog *l, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	jm_buf_reserve(&l->text, n * 2 + 1);
	for (size_t i = 0; i < n; i++) {
		l->text.data[l->text.len++] = (uint8_t)hx[p[i] >> 4];
		l->text.data[l->text.len++] = (uint8_t)hx[p[i] & 15];
	}
}

static void evlog_header(struct evlog *l, const jm_header *h)
{
	if (!h)
		return;
	evlog_printf(l, " raw=");
	evlog_hex(l, (const uint8_t *)h->raw, h->raw_len);
	for (size_t i = 0; i < h->n_members; i++) {
		const jm_member *m = &h->members[i];
		evlog_printf(l, " m[%zu]=", i);
		evlog_hex(l, (const uint8_t *)m->key, m->key_len);
		evlog_printf(l, ":%d:", m->type);
		evlog_hex(l, (const uint8_t *)m->value, m->value_len);
	}
	for (int f = 0; f < JM_FIELD_COUNT; f++)
		if (h->field[f].present && h->field[f].str)
			evlog_printf(l, " f%d=%s", f, h->field[f].str);
}

static int evlog_cb(void *user, const jm_event *ev)
{
	struct evlog *l = user;
	l->n_events++;
	switch (ev->type) {
	case JM_EV_PROTOHEADER:
		evlog_printf(l, "P msg=%llu hl=%u\n", (unsigned long long)ev->msg_offset, ev->header_len);
		break;
	case JM_EV_HEADER:
		evlog_printf(l, "H @%llu cl=%llu json=%d", (unsigned long long)ev->offset,
			     (unsigned long long)ev->header->content_length, ev->header->content_is_json);
		evlog_header(l, ev->header);
		evlog_printf(l, "\n");
		break;
	case JM_EV_CONTENT_CHUNK:
		jm_buf_append(&l->chunks, ev->data, ev->len);
		break;
	case JM_EV_CONTENT:
		evlog_printf(l, "C @%llu len=%zu ", (unsigned long long)ev->offset, ev->len);
		evlog_hex(l, ev->data, ev->len);
		evlog_printf(l, "\n");
		break;
	case JM_EV_MESSAGE:
		if (l->chunks.len) {
			evlog_printf(l, "C len=%zu ", l->chunks.len);
			evlog_hex(l, l->chunks.data, l->chunks.len);
			evlog_printf(l, "\n");
			l->chunks.len = 0;
		}
		evlog_printf(l, "M @%llu\n", (unsigned long long)ev->offset);
		l->n_messages++;
		break;
	case JM_EV_ERROR:
		l->chunks.len = 0;
		evlog_printf(l, "E %s @%llu cont=%d msg=%llu detail=%s", jm_error_id(ev->error),
			     (unsigned long long)ev->offset, ev->can_continue,
			     (unsigned long long)ev->msg_offset, ev->detail);
		evlog_header(l, ev->header);
		if (ev->data) {
			evlog_printf(l, " data=");
			evlog_hex(l, ev->data, ev->len);
		}
		evlog_printf(l, "\n");
		l->n_errors++;
		break;
	}
	if (l->stop_at && l->n_events == l->stop_at)
		return JM_CB_STOP;
	return JM_CB_OK;
}

/* Decodes `data` fed in pieces ending at each of cuts[0..ncuts-1] (sorted,
 * each <= len), then the rest, then end of stream.  Each piece is copied to
 * its own heap block so a read past it is caught. Returns the log text
 * (NUL-terminated, caller frees) and fills *out. */
static char *evlog_run(const uint8_t *data, size_t len, const size_t *cuts, size_t ncuts,
		       const jm_decoder_config *cfg, struct evlog *out)
{
	struct evlog l;
	memset(&l, 0, sizeof l);
	if (out)
		l.stop_at = out->stop_at;
	jm_decoder d;
	jm_decoder_init(&d, cfg, evlog_cb, &l);
	size_t at = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		if (end < at)
			end = at;
		size_t n = end - at;
		uint8_t *piece = malloc(n ? n : 1);
		memcpy(piece, data + at, n);
		size_t used = jm_decoder_feed(&d, piece, n);
		free(piece);
		if (used < n && !jm_decoder_failed(&d)) {
			evlog_printf(&l, "BUG: consumed %zu of %zu without failing\n", used, n);
			l.n_bugs++;
		}
		at = end;
	}
	bool clean = jm_decoder_finish(&d);
	evlog_printf(&l, "END clean=%d\n", clean);
	jm_decoder_free(&d);
	jm_buf_append(&l.text, "", 1);
	jm_buf_free(&l.chunks);
	if (out)
		*out = l;
	return (char *)l.text.data;
}

#endif
