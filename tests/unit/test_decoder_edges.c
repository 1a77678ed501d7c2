/*
 * Table-driven tests of proto/decoder.c on its edges: a callback that stops
 * the decoder at each kind of event, headers the scanner rejects at each
 * place, content-length numbers too large for 64 bits, a content held across
 * feeds, where the stream ended (and the whole text saying so), and
 * jm_find_boundary's refusals.
 *
 * Each row is one or more messages (the protoheader is computed from the
 * header's length) and the events the decoder must report, written as
 *
 *   P95        PROTOHEADER, header length 95
 *   H          HEADER
 *   C2 / c3    CONTENT of 2 bytes / a CONTENT_CHUNK of 3 (streaming)
 *   M          MESSAGE
 *   E:id@95+   ERROR, its id, stream offset, and whether decoding goes on (+)
 *   | fed 99   how many bytes jm_decoder_feed consumed in all
 *   F1 / F0    what jm_decoder_finish returned (events it reports come first)
 *
 * A compact header HDR(type, encoding, length) is 80 bytes plus the lengths
 * of its three values, so HDR("text/json", "utf-8", "2") is 95 bytes and its
 * content starts at offset 97.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jmsg.h"

#define HDR(ct, ce, len) \
	"{\"byteorder\":\"little\",\"content-type\":\"" ct "\",\"content-encoding\":\"" ce \
	"\",\"content-length\":" len "}"
#define JSON_HDR(len) HDR("text/json", "utf-8", len)

#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define X1000 X100 X100 X100 X100 X100 X100 X100 X100 X100 X100

struct msg {
	const char *hdr, *content;
};

/* A decoder allocator that gives at most *ctx bytes at a time: each of the
 * decoder's buffers has its own size (rounded up to 16: a 95-byte header:
 * 96; its unescaped strings: 192; its members: 16 of them, 640 on 64 bits;
 * a content held across feeds: as much of it as has come), so a limit
 * picks the one that fails. */
static void *at_most(void *ctx, void *p, size_t size)
{
	if (!size) {
		free(p);
		return NULL;
	}
	return size <= *(const size_t *)ctx ? realloc(p, size) : NULL;
}
static size_t no_bytes = 0, header_only = 100, no_members = 300, no_content = 1000;
#define OOM(limit) {.alloc = at_most, .alloc_ctx = &(limit)}

struct row {
	const char *name;
	struct msg m[3];          /* hdr NULL: no more */
	jm_decoder_config cfg;
	int stop_at;              /* the callback returns STOP at this event (1-based); 0: never */
	size_t split;             /* feed this many bytes first, then the rest; 0: all at once */
	const char *want;
	const char *want_detail;  /* in some ERROR's detail; NULL: not checked */
	size_t cut;               /* feed only this many bytes; 0: all */
};

static const struct row rows[] = {
	{"content-length a huge negative number: framing lost",
	 {{JSON_HDR("-99999999999999999999"), ""}}, {0}, 0, 0,
	 "P115 E:content_length_negative@95- | fed 117 F0",
	 "\"content-length\" is a huge negative number", 0},
	{"content-length of 40 digits: over the limit, skipped; the stream ends inside it",
	 {{JSON_HDR("1234567890123456789012345678901234567890"), ""}}, {0}, 0, 0,
	 "P134 H E:content_length_too_large@95+ | fed 136 E:truncated@136- F0",
	 "content-length (a huge number) is over the limit", 0},
	{"a bad field value: its content is skipped, the next message decoded",
	 {{"{\"byteorder\":\"middle\",\"content-type\":\"text/json\",\"content-encoding\":\"utf-8\","
	   "\"content-length\":10}", "0123456789"},
	  {JSON_HDR("2"), "{}"}}, {0}, 0, 0,
	 "P96 E:header_field_value@15+ P95 H C2 M | fed 207 F1",
	 "\"byteorder\" is \"middle\", not one of the allowed values", 0},
	{"the stream ends inside the content of a bad message",
	 {{"{\"byteorder\":\"middle\",\"content-type\":\"text/json\",\"content-encoding\":\"utf-8\","
	   "\"content-length\":10}", "01234"}}, {0}, 0, 0,
	 "P96 E:header_field_value@15+ | fed 103 E:truncated@103- F0",
	 "stream ended in the skipped content of the bad message at offset 0, 5 bytes short", 0},
	{"the stream ends inside a header",
	 {{JSON_HDR("2"), "{}"}}, {0}, 0, 0,
	 "P95 | fed 50 E:truncated@50- F0",
	 "stream ended in the JSON header of the message at offset 0, 47 bytes short", 50},
	{"the stream ends inside a protoheader",
	 {{JSON_HDR("2"), "{}"}, {JSON_HDR("2"), "{}"}}, {0}, 0, 0,
	 "P95 H C2 M | fed 100 E:truncated@100- F0",
	 "stream ended in the protoheader of the message at offset 99, 1 byte short", 100},
	{"a field of the wrong type",
	 {{"{\"byteorder\":\"little\",\"content-type\":5,\"content-encoding\":\"utf-8\",\"content-length\":2}",
	   "{}"}}, {0}, 0, 0,
	 "P85 E:header_field_type@39+ | fed 89 F1", "\"content-type\" is an integer, not a string", 0},
	/* ---- the header scanner's refusals */
	{"header: an unfinished array", {{"[1,", ""}}, {0}, 0, 0,
	 "P3 E:header_not_json@5- | fed 5 F0", "value expected at header byte 3", 0},
	{"header: an unfinished key", {{"{\"a", ""}}, {0}, 0, 0,
	 "P3 E:header_not_json@5- | fed 5 F0", "unterminated string at header byte 3", 0},
	{"header: no colon after a key", {{"{\"a\" 1}", ""}}, {0}, 0, 0,
	 "P7 E:header_not_json@7- | fed 9 F0", "':' expected at header byte 5", 0},
	{"header: an unfinished object", {{"{\"a\": 1", ""}}, {0}, 0, 0,
	 "P7 E:header_not_json@9- | fed 9 F0", "unterminated object at header byte 7", 0},
	{"header: no comma between members", {{"{\"a\": 1 \"b\": 2}", ""}}, {0}, 0, 0,
	 "P15 E:header_not_json@10- | fed 17 F0", "',' or '}' expected at header byte 8", 0},
	{"header: a bad value inside", {{"{\"a\": tru}", ""}}, {0}, 0, 0,
	 "P10 E:header_not_json@8- | fed 12 F0", "invalid literal at header byte 6", 0},
	{"header: data after the object", {{"{} {}", ""}}, {0}, 0, 0,
	 "P5 E:header_not_json@5- | fed 7 F0", "extra data after the header object at header byte 3", 0},
	{"header: a string, not an object", {{"\"str\"", ""}}, {0}, 0, 0,
	 "P5 E:header_not_object@2- | fed 7 F0", "header is a JSON value that is not an object", 0},
	/* ---- a callback that stops the decoder, at each kind of event */
	{"stop at the protoheader", {{JSON_HDR("2"), "{}"}}, {0}, 1, 0, "P95 | fed 2 F0", NULL, 0},
	{"stop at the header", {{JSON_HDR("2"), "{}"}}, {0}, 2, 0, "P95 H | fed 97 F0", NULL, 0},
	{"stop at a header error", {{"{\"byteorder\":\"little\",\"content-length\":2}", "{}"}}, {0}, 2, 0,
	 "P41 E:header_missing_field@2+ | fed 43 F0",
	 "required field \"content-type\" is missing", 0},
	{"stop at the encoding warning", {{HDR("text/json", "latin-1", "2"), "{}"}}, {0}, 2, 0,
	 "P97 E:content_encoding_unsupported@70+ | fed 99 F0", NULL, 0},
	{"the encoding warning, not stopped: the content is bytes", {{HDR("text/json", "latin-1", "2"), "{}"}},
	 {0}, 0, 0, "P97 E:content_encoding_unsupported@70+ H C2 M | fed 101 F1", NULL, 0},
	{"stop at the content-length limit", {{JSON_HDR("2"), "{}"}}, {.max_content = 1}, 3, 0,
	 "P95 H E:content_length_too_large@95+ | fed 97 F0", NULL, 0},
	{"stop at the content", {{JSON_HDR("2"), "{}"}}, {0}, 3, 0, "P95 H C2 | fed 99 F0", NULL, 0},
	{"stop at the message", {{JSON_HDR("2"), "{}"}, {JSON_HDR("2"), "{}"}}, {0}, 4, 0,
	 "P95 H C2 M | fed 99 F0", NULL, 0},
	{"stop at a content held across feeds", {{JSON_HDR("2"), "{}"}}, {0}, 3, 98,
	 "P95 H C2 | fed 99 F0", NULL, 0},
	{"stop at a content error", {{JSON_HDR("3"), "{x}"}}, {0}, 3, 0,
	 "P95 H E:content_not_json@98+ | fed 100 F0", NULL, 0},
	{"stop at a streamed chunk", {{HDR("binary/x", "binary", "3"), "abc"}}, {.stream_content = true}, 3,
	 0, "P95 H c3 | fed 100 F0", NULL, 0},
	{"stop at a streamed message", {{HDR("binary/x", "binary", "3"), "abc"}}, {.stream_content = true},
	 4, 0, "P95 H c3 M | fed 100 F0", NULL, 0},
	{"stop at the empty protoheader's error", {{"", ""}}, {0}, 2, 0,
	 "P0 E:header_empty@0- | fed 2 F0", NULL, 0},
	/* ---- contents */
	{"a content over 4 KiB arriving in two feeds", {{JSON_HDR("5000"), "\"" X1000 X1000 X1000 X1000
		X100 X100 X100 X100 X100 X100 X100 X100 X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 "xxxxxxxx\""}},
	 {0}, 0, 100 + 4500, "P98 H C5000 M | fed 5100 F1", NULL, 0},
	{"no content check: invalid JSON content passes", {{JSON_HDR("3"), "{x}"}},
	 {.no_content_check = true}, 0, 0, "P95 H C3 M | fed 100 F1", NULL, 0},
	{"an empty content", {{JSON_HDR("0"), ""}}, {0}, 0, 0, "P95 H E:content_not_json@97+ | fed 97 F1", NULL, 0},
	{"an empty binary content, streamed", {{HDR("binary/x", "binary", "0"), ""}},
	 {.stream_content = true}, 0, 0, "P95 H M | fed 97 F1", NULL, 0},
	/* ---- out of memory: its own error, framing lost, nothing more taken */
	{"no memory for the header", {{JSON_HDR("2"), "{}"}, {JSON_HDR("2"), "{}"}}, OOM(no_bytes), 0, 0,
	 "P95 E:out_of_memory@2- | fed 2 F0", "out of memory for a 95-byte header", 0},
	{"no memory for the header's strings", {{JSON_HDR("2"), "{}"}}, OOM(header_only), 0, 0,
	 "P95 E:out_of_memory@2- | fed 97 F0", "out of memory for a 95-byte header", 0},
	{"no memory for the header's members", {{JSON_HDR("2"), "{}"}}, OOM(no_members), 0, 0,
	 "P95 E:out_of_memory@2- | fed 97 F0", "out of memory for the header's members", 0},
	{"no memory for a content held across feeds", {{JSON_HDR("5000"), "\"" X1000 X1000 X1000 X1000
		X100 X100 X100 X100 X100 X100 X100 X100 X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 "xxxxxxxx\""}},
	 OOM(no_content), 0, 100 + 4500, "P98 H E:out_of_memory@100- | fed 100 F0",
	 "out of memory holding 5000 bytes of content", 0},
	{"a content that comes whole needs no memory", {{JSON_HDR("2"), "{}"}}, OOM(no_content), 0, 0,
	 "P95 H C2 M | fed 99 F1", NULL, 0},
};

struct rec {
	char log[1024];
	size_t len;
	char details[1024];
	size_t dlen;
	int events;
	int stop_at;
};

static void logf_(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->log + r->len, sizeof r->log - r->len, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof r->log - r->len);
	r->len += (size_t)n;
}

static int on_event(void *user, const jm_event *ev)
{
	struct rec *r = user;
	switch (ev->type) {
	case JM_EV_PROTOHEADER: logf_(r, "P%u ", ev->header_len); break;
	case JM_EV_HEADER: logf_(r, "H "); break;
	case JM_EV_CONTENT: logf_(r, "C%zu ", ev->len); break;
	case JM_EV_CONTENT_CHUNK: logf_(r, "c%zu ", ev->len); break;
	case JM_EV_MESSAGE: logf_(r, "M "); break;
	case JM_EV_ERROR:
		logf_(r, "E:%s@%llu%s ", jm_error_id(ev->error), (unsigned long long)ev->offset,
		      ev->can_continue ? "+" : "-");
		int n = snprintf(r->details + r->dlen, sizeof r->details - r->dlen, "%s|", ev->detail);
		if (n > 0 && (size_t)n < sizeof r->details - r->dlen)
			r->dlen += (size_t)n;
		break;
	}
	return ++r->events == r->stop_at ? JM_CB_STOP : JM_CB_OK;
}

/* The messages m[0..2] (hdr NULL: no more), each with its protoheader. */
static void build(const struct msg *m, jm_buf *in)
{
	for (int i = 0; i < 3 && m[i].hdr; i++) {
		size_t hl = strlen(m[i].hdr);
		uint8_t ph[2] = {(uint8_t)(hl >> 8), (uint8_t)hl};
		assert_int_equal(jm_buf_append(in, ph, 2), 0);
		assert_int_equal(jm_buf_append(in, m[i].hdr, hl), 0);
		if (m[i].content)
			assert_int_equal(jm_buf_append(in, m[i].content, strlen(m[i].content)), 0);
	}
}

static void test_row(void **state)
{
	const struct row *row = *state;
	jm_buf in = {0};
	build(row->m, &in);
	struct rec r = {.stop_at = row->stop_at};
	jm_decoder d;
	jm_decoder_init(&d, &row->cfg, on_event, &r);
	if (row->cut)
		in.len = row->cut;
	size_t first = row->split && row->split < in.len ? row->split : in.len, fed;
	fed = jm_decoder_feed(&d, in.data, first);
	if (first < in.len)
		fed += jm_decoder_feed(&d, in.data + first, in.len - first);
	if (row->stop_at && fed < in.len) /* stopped: nothing more is taken */
		assert_int_equal(jm_decoder_feed(&d, in.data + fed, in.len - fed), 0);
	logf_(&r, "| fed %zu ", fed);
	bool ok = jm_decoder_finish(&d);
	logf_(&r, "F%d", ok);
	if (strcmp(r.log, row->want))
		fail_msg("%s\n got: %s\nwant: %s", row->name, r.log, row->want);
	if (row->want_detail && !strstr(r.details, row->want_detail))
		fail_msg("%s: no error said \"%s\"; they said: %s", row->name, row->want_detail, r.details);
	jm_decoder_free(&d);
	jm_buf_free(&in);
}

/* ---------------------------------------------------------------- truncated */

/* The whole detail of the truncated error jm_decoder_finish reports, for
 * each place the stream can end in (protoheader, JSON header, content) and
 * whether the message was bad (had an error, its content being skipped).
 * A message is known to be bad only once its header is read, so there is
 * no bad protoheader or JSON header to end in. */
static const struct trunc {
	const char *name;
	struct msg m[3];
	jm_decoder_config cfg;
	size_t cut;               /* feed only this many bytes; 0: all */
	const char *want;         /* the whole detail */
} truncs[] = {
	{"protoheader, its first byte only", {{JSON_HDR("2"), "{}"}}, {0}, 1,
	 "stream ended in the protoheader of the message at offset 0, 1 byte short"},
	{"protoheader of the second message", {{JSON_HDR("2"), "{}"}, {JSON_HDR("2"), "{}"}}, {0}, 100,
	 "stream ended in the protoheader of the message at offset 99, 1 byte short"},
	{"JSON header, none of it", {{JSON_HDR("2"), "{}"}}, {0}, 2,
	 "stream ended in the JSON header of the message at offset 0, 95 bytes short"},
	{"JSON header, its last byte missing", {{JSON_HDR("2"), "{}"}}, {0}, 96,
	 "stream ended in the JSON header of the message at offset 0, 1 byte short"},
	{"JSON header of the second message", {{JSON_HDR("2"), "{}"}, {JSON_HDR("2"), "{}"}}, {0}, 150,
	 "stream ended in the JSON header of the message at offset 99, 46 bytes short"},
	{"content, held", {{JSON_HDR("5"), "{}"}}, {0}, 0,
	 "stream ended in the content of the message at offset 0, 3 bytes short"},
	{"content, one byte missing", {{JSON_HDR("3"), "{}"}}, {0}, 0,
	 "stream ended in the content of the message at offset 0, 1 byte short"},
	{"content, streamed", {{HDR("binary/x", "binary", "10"), "abc"}}, {.stream_content = true}, 0,
	 "stream ended in the content of the message at offset 0, 7 bytes short"},
	{"content after the encoding warning (not bad)", {{HDR("text/json", "latin-1", "4"), "{}"}}, {0}, 0,
	 "stream ended in the content of the message at offset 0, 2 bytes short"},
	{"content of the second message", {{JSON_HDR("2"), "{}"}, {JSON_HDR("5"), "{}"}}, {0}, 0,
	 "stream ended in the content of the message at offset 99, 3 bytes short"},
	{"bad: a bad field value",
	 {{"{\"byteorder\":\"middle\",\"content-type\":\"text/json\",\"content-encoding\":\"utf-8\","
	   "\"content-length\":10}", "01234"}}, {0}, 0,
	 "stream ended in the skipped content of the bad message at offset 0, 5 bytes short"},
	{"bad: a bad field value, one byte missing",
	 {{"{\"byteorder\":\"middle\",\"content-type\":\"text/json\",\"content-encoding\":\"utf-8\","
	   "\"content-length\":10}", "012345678"}}, {0}, 0,
	 "stream ended in the skipped content of the bad message at offset 0, 1 byte short"},
	{"bad: content-length over the limit", {{JSON_HDR("5"), "{}"}}, {.max_content = 1}, 0,
	 "stream ended in the skipped content of the bad message at offset 0, 3 bytes short"},
	{"bad: the second message", {{JSON_HDR("2"), "{}"}, {JSON_HDR("5"), "{}"}}, {.max_content = 4}, 0,
	 "stream ended in the skipped content of the bad message at offset 99, 3 bytes short"},
};

struct last_error {
	jm_error error;
	char detail[256];
	int truncated;            /* how many truncated errors */
};

static int keep_error(void *user, const jm_event *ev)
{
	struct last_error *l = user;
	if (ev->type == JM_EV_ERROR) {
		l->error = ev->error;
		snprintf(l->detail, sizeof l->detail, "%s", ev->detail);
		l->truncated += ev->error == JM_ERR_TRUNCATED;
	}
	return JM_CB_OK;
}

static void test_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof truncs / sizeof truncs[0]; i++) {
		const struct trunc *t = &truncs[i];
		jm_buf in = {0};
		build(t->m, &in);
		if (t->cut)
			in.len = t->cut;
		struct last_error l = {.truncated = 0};
		jm_decoder d;
		jm_decoder_init(&d, &t->cfg, keep_error, &l);
		assert_int_equal(jm_decoder_feed(&d, in.data, in.len), in.len);
		if (l.truncated)
			fail_msg("%s: truncated before the end", t->name);
		if (jm_decoder_finish(&d))
			fail_msg("%s: finish returned true", t->name);
		if (l.truncated != 1 || l.error != JM_ERR_TRUNCATED)
			fail_msg("%s: the last error is %s, %d truncated", t->name, jm_error_id(l.error),
				 l.truncated);
		if (strcmp(l.detail, t->want))
			fail_msg("%s\n got: %s\nwant: %s", t->name, l.detail, t->want);
		jm_decoder_free(&d);
		jm_buf_free(&in);
	}
}

/* ---------------------------------------------------------------- fields */

struct fields {
	char ctype[64];
	size_t ctype_len;
	char conn[16];
	int headers;
};

static int keep_fields(void *user, const jm_event *ev)
{
	struct fields *f = user;
	if (ev->type == JM_EV_HEADER) {
		const char *s = jm_header_str(ev->header, JM_FIELD_CONTENT_TYPE);
		assert_non_null(s);
		f->ctype_len = ev->header->field[JM_FIELD_CONTENT_TYPE].str_len;
		assert_true(f->ctype_len < sizeof f->ctype);
		memcpy(f->ctype, s, f->ctype_len);
		const char *c = jm_header_str(ev->header, JM_FIELD_CONNECTION);
		snprintf(f->conn, sizeof f->conn, "%s", c ? c : "(none)");
		/* an integer field is no string */
		assert_null(jm_header_str(ev->header, JM_FIELD_CONTENT_LENGTH));
		f->headers++;
	}
	return JM_CB_OK;
}

static void test_escaped_fields(void **state)
{
	/* Keys and values with escapes are unescaped: an escaped key names
	 * its field, \u escapes become UTF-8 (a surrogate pair one character,
	 * a lone surrogate U+FFFD), the short escapes their bytes. */
	static const char hdr[] =
		"{\"byteorder\":\"little\",\"content\\u002dtype\":"
		"\"bin\\/x\\u00e9\\ud83d\\ude00\\ud800\\u0041\\b\\f\\n\\r\\t\\\"\\\\\\uFFFF\\ud83d\","
		"\"content-encoding\":\"binary\",\"content-length\":1,\"connection\":\"keep-alive\"}";
	static const char want[] = "bin/x\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd" "A\b\f\n\r\t\"\\\xef\xbf\xbf\xef\xbf\xbd";
	jm_buf in = {0};
	size_t hl = sizeof hdr - 1;
	uint8_t ph[2] = {(uint8_t)(hl >> 8), (uint8_t)hl};
	assert_int_equal(jm_buf_append(&in, ph, 2), 0);
	assert_int_equal(jm_buf_append(&in, hdr, hl), 0);
	assert_int_equal(jm_buf_append(&in, "z", 1), 0);
	struct fields f = {.headers = 0};
	jm_decoder d;
	jm_decoder_init(&d, NULL, keep_fields, &f);
	assert_int_equal(jm_decoder_feed(&d, in.data, in.len), in.len);
	assert_true(jm_decoder_finish(&d));
	assert_int_equal(f.headers, 1);
	assert_int_equal(f.ctype_len, sizeof want - 1);
	assert_memory_equal(f.ctype, want, sizeof want - 1);
	assert_string_equal(f.conn, "keep-alive");
	jm_decoder_free(&d);
	jm_buf_free(&in);
}

/* ---------------------------------------------------------------- boundaries */

static void test_find_boundary(void **state)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len, want;
	} cases[] = {
		{"no brace at all", "abcdefgh", 8, 8},
		{"too short to hold a protoheader and a brace", "\x00\x05", 2, 2},
		{"a brace followed by neither a quote nor whitespace", "\x00\x05{x\"a\"}", 8, 8},
		{"a length below 2", "\x00\x01{\"", 4, 4},
		{"a whole header that is not an object", "\x00\x04{\"a}", 6, 6},
		{"a partial header that cannot be JSON", "\x00\x40{\"a\" x", 8, 8},
		{"a partial header, still plausible", "zz\x00\x40{\"a\": ", 10, 2},
		{"an empty object is not taken for a header", "zz\x00\x02{}", 6, 6},
		{"a whole header", "zz\x00\x08{\"a\": 1}", 12, 2},
		{"a brace at the very end", "zz\x00\x40{", 5, 2},
		{"whitespace after the brace", "\x00\x03{ }", 5, 0},
		{"the second of two candidates", "\x00\x03{x}\x00\x08{\"a\": 1}", 15, 5},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t got = jm_find_boundary((const uint8_t *)cases[i].bytes, cases[i].len);
		if (got != cases[i].want)
			fail_msg("%s: %zu, want %zu", cases[i].name, got, cases[i].want);
	}
}

static int frees;

static void *counting(void *ctx, void *p, size_t size)
{
	if (!size && p)
		frees++;
	return at_most(ctx, p, size);
}

/* A decoder done with its stream hands its header buffers on
 * (jm_decoder_free_spare) to the next (jm_decoder_init_spare), which
 * decodes exactly as a new one would, in the same buffers, growing them
 * when its headers are longer. */
static void test_spare_buffers(void **state)
{
	jm_buf in = {0}, big = {0};
	struct msg m[3] = {{JSON_HDR("2"), "{}"}, {HDR("binary/x", "binary", "3"), "abc"}, {NULL, NULL}};
	build(m, &in);
	struct msg mb[3] = {{"{\"byteorder\":\"little\",\"content-type\":\"text/json\",\"content-encoding\":"
			     "\"utf-8\",\"content-length\":2,\"x\":\"" X100 X100 "\"}", "[]"},
			    {NULL, NULL}};
	build(mb, &big);
	jm_decoder_config cfg = {.stream_content = true};
	struct rec r1 = {0}, r2 = {0}, r3 = {0};
	jm_decoder a, b, c;
	jm_decoder_spare sp = {0};
	jm_decoder_init(&a, &cfg, on_event, &r1);
	assert_int_equal(jm_decoder_feed(&a, in.data, in.len), in.len);
	const void *hbuf = a.hbuf, *members = a.members, *strs = a.strs;
	assert_non_null(hbuf);
	jm_decoder_free_spare(&a, &sp);
	assert_true(jm_decoder_spare_bytes(&sp) >= a.hbuf_cap + 100); /* a is zeroed; sp has them */
	assert_ptr_equal(sp.hbuf, hbuf);
	jm_decoder_init_spare(&b, &cfg, on_event, &r2, &sp);
	assert_null(sp.hbuf);
	assert_null(sp.members);
	assert_null(sp.strs);
	assert_int_equal(jm_decoder_spare_bytes(&sp), 0);
	assert_ptr_equal(b.hbuf, hbuf);
	assert_ptr_equal(b.members, members);
	assert_ptr_equal(b.strs, strs);
	assert_int_equal(jm_decoder_feed(&b, in.data, in.len), in.len);
	assert_string_equal(r1.log, r2.log);
	assert_string_equal(r2.log, "P95 H C2 M P95 H c3 M ");
	/* A longer header than the buffers held: they grow. */
	assert_int_equal(jm_decoder_feed(&b, big.data, big.len), big.len);
	jm_decoder_free_spare(&b, &sp);
	jm_decoder_init_spare(&c, &cfg, on_event, &r3, &sp);
	assert_int_equal(jm_decoder_feed(&c, big.data, big.len), big.len);
	assert_true(jm_decoder_finish(&c));
	assert_string_equal(r3.log, "P302 H C2 M ");
	jm_decoder_free(&c);
	jm_decoder_spare_free(&sp);
	/* A spare from a decoder with another allocator is freed with its
	 * own, not taken. */
	size_t limit = 1 << 20;
	jm_decoder_config own = {.stream_content = true, .alloc = counting, .alloc_ctx = &limit};
	struct rec r4 = {0}, r5 = {0};
	frees = 0;
	jm_decoder_init(&a, &own, on_event, &r4);
	assert_int_equal(jm_decoder_feed(&a, in.data, in.len), in.len);
	jm_decoder_free_spare(&a, &sp);
	assert_non_null(sp.hbuf);
	jm_decoder_init_spare(&b, &cfg, on_event, &r5, &sp);
	assert_int_equal(frees, 3); /* header, members, strings */
	assert_null(b.hbuf);
	assert_null(b.members);
	assert_null(b.strs);
	assert_null(sp.hbuf);
	assert_int_equal(jm_decoder_feed(&b, in.data, in.len), in.len);
	assert_string_equal(r5.log, r1.log);
	jm_decoder_free(&b);
	jm_buf_free(&in);
	jm_buf_free(&big);
}

int main(void)
{
	enum { N = sizeof rows / sizeof rows[0] };
	struct CMUnitTest tests[N + 4];
	for (size_t i = 0; i < N; i++)
		tests[i] = (struct CMUnitTest){.name = rows[i].name, .test_func = test_row,
					       .initial_state = (void *)&rows[i]};
	tests[N] = (struct CMUnitTest)cmocka_unit_test(test_escaped_fields);
	tests[N + 1] = (struct CMUnitTest)cmocka_unit_test(test_find_boundary);
	tests[N + 2] = (struct CMUnitTest)cmocka_unit_test(test_truncated);
	tests[N + 3] = (struct CMUnitTest)cmocka_unit_test(test_spare_buffers);
	return cmocka_run_group_tests_name("decoder edges", tests, NULL, NULL);
}
