/*
 * Replay's pure parts: the comparator (diff.h), the timing rules
 * (sched.h) and the conversation model (conv.h).  Tables of input and
 * expected output; the network side is tested end to end in tests/e2e/5*.
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
#include "replay/conv.h"
#include "replay/diff.h"
#include "replay/sched.h"

/* A message from a raw header and content, as it would sit on the wire. */
static rp_msg mk(const char *header, const char *content, bool json)
{
	size_t hl = strlen(header), cl = strlen(content);
	rp_msg m = {0};
	m.len = 2 + hl + cl;
	m.bytes = malloc(m.len);
	assert_non_null(m.bytes);
	m.bytes[0] = (uint8_t)(hl >> 8);
	m.bytes[1] = (uint8_t)hl;
	memcpy(m.bytes + 2, header, hl);
	memcpy(m.bytes + 2 + hl, content, cl);
	m.header_len = (uint16_t)hl;
	m.content_is_json = json;
	return m;
}

static char *hdr(const char *bo, const char *ct, const char *ce, size_t len, const char *extra)
{
	static char buf[4][512];
	static int next;
	char *b = buf[next++ % 4];
	snprintf(b, 512,
		 "{\"byteorder\": \"%s\", \"content-type\": \"%s\", \"content-encoding\": \"%s\", "
		 "\"content-length\": %zu%s%s}",
		 bo, ct, ce, len, extra ? ", " : "", extra ? extra : "");
	return b;
}

static char *diff_text(const rp_msg *a, const rp_msg *b, const rp_ignore *ign, int *n)
{
	rp_diff d;
	*n = rp_compare(a, b, ign, &d);
	jm_buf out = {0};
	assert_int_equal(rp_diff_text(&d, &out), 0);
	assert_int_equal(jm_buf_append(&out, "", 1), 0);
	char *s = strdup((const char *)out.data);
	jm_buf_free(&out);
	rp_diff_clear(&d);
	return s;
}

/* ---------------------------------------------------------------- diff */

typedef struct diff_row {
	const char *name;
	const char *ha, *ca;   /* captured header and content */
	bool ja;
	const char *hb, *cb;   /* live */
	bool jb;
	const char *ignore;
	int changes;
	const char *text;
} diff_row;

#define RABBIT "{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}"
#define NOPE "{\"result\": \"Nope\"}"

static void test_diff_table(void **state)
{
	char h_rabbit[512], h_nope[512], h_big[512], h_keep[512], h_bin[512], h_bin2[512];
	snprintf(h_rabbit, sizeof h_rabbit, "%s", hdr("little", "text/json", "utf-8", strlen(RABBIT), NULL));
	snprintf(h_nope, sizeof h_nope, "%s", hdr("little", "text/json", "utf-8", strlen(NOPE), NULL));
	snprintf(h_big, sizeof h_big, "%s", hdr("big", "text/json", "utf-8", strlen(RABBIT), NULL));
	snprintf(h_keep, sizeof h_keep, "%s",
		 hdr("little", "text/json", "utf-8", strlen(RABBIT), "\"connection\": \"keep-alive\""));
	snprintf(h_bin, sizeof h_bin, "%s",
		 hdr("little", "binary/custom-server-binary-type", "binary", 36, NULL));
	snprintf(h_bin2, sizeof h_bin2, "%s",
		 hdr("little", "binary/custom-server-binary-type", "binary", 36, NULL));
	/* Same members, other order and spacing. */
	char h_reordered[512];
	snprintf(h_reordered, sizeof h_reordered,
		 "{ \"content-length\":%zu,\"content-encoding\":\"utf-8\",\"content-type\":\"text/json\","
		 "\"byteorder\":\"little\" }", strlen(RABBIT));

	const diff_row rows[] = {
		{"identical", h_rabbit, RABBIT, true, h_rabbit, RABBIT, true, NULL, 0, ""},
		{"header layout and order do not count", h_rabbit, RABBIT, true, h_reordered, RABBIT,
		 true, NULL, 0, ""},
		{"JSON spacing does not count", h_rabbit, RABBIT, true, h_rabbit,
		 "{ \"result\" :\"Follow the white rabbit. \xf0\x9f\x90\xb0\" }", true, NULL, 0, ""},
		{"result and length change", h_rabbit, RABBIT, true, h_nope, NOPE, true, NULL, 2,
		 "header.content-length: 43 -> 18; content.result: \"Follow the white rabbit. "
		 "\xf0\x9f\x90\xb0\" -> \"Nope\""},
		{"byteorder differs", h_rabbit, RABBIT, true, h_big, RABBIT, true, NULL, 1,
		 "header.byteorder: \"little\" -> \"big\""},
		{"byteorder ignored", h_rabbit, RABBIT, true, h_big, RABBIT, true, "byteorder", 0, ""},
		{"a member the live header adds", h_rabbit, RABBIT, true, h_keep, RABBIT, true, NULL, 1,
		 "header.connection: (absent) -> \"keep-alive\""},
		{"a member the live header lacks", h_keep, RABBIT, true, h_rabbit, RABBIT, true, NULL, 1,
		 "header.connection: \"keep-alive\" -> (absent)"},
		{"numbers compare as numbers", hdr("little", "text/json", "utf-8", 8, NULL), "{\"n\": 1}",
		 true, hdr("little", "text/json", "utf-8", 10, NULL), "{\"n\": 1.0}", true,
		 "content-length", 0, ""},
		{"nested paths", hdr("little", "text/json", "utf-8", 0, NULL),
		 "{\"a\": [1, {\"b c\": true}], \"d\": null}", true,
		 hdr("little", "text/json", "utf-8", 0, NULL), "{\"a\": [1, {\"b c\": false}, 3]}", true,
		 NULL, 3,
		 "content.a[1][\"b c\"]: true -> false; content.a[2]: (absent) -> 3; "
		 "content.d: null -> (absent)"},
		{"bytes compared as bytes", h_bin, "First 10 bytes of request: binary\xe2\x98\xba", false,
		 h_bin2, "First 10 bytes of request: binary:-)", false, NULL, 1,
		 "content: \"First 10 bytes of request: binary\xe2\x98\xba\" -> "
		 "\"First 10 bytes of request: binary:-)\""},
		{"JSON against bytes", h_rabbit, RABBIT, true, h_bin, RABBIT, false, "content-length", 2,
		 "header.content-type: \"text/json\" -> \"binary/custom-server-binary-type\"; "
		 "header.content-encoding: \"utf-8\" -> \"binary\""},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const diff_row *r = &rows[i];
		rp_msg a = mk(r->ha, r->ca, r->ja), b = mk(r->hb, r->cb, r->jb);
		const char *keys[1] = {r->ignore};
		rp_ignore ign = {.keys = keys, .n = r->ignore ? 1 : 0};
		int n;
		char *t = diff_text(&a, &b, &ign, &n);
		if (n != r->changes || strcmp(t, r->text) != 0)
			fail_msg("%s: %d changes, '%s'; expected %d, '%s'", r->name, n, t, r->changes,
				 r->text);
		free(t);
		free(a.bytes);
		free(b.bytes);
	}
}

static void test_diff_many_changes_are_counted(void **state)
{
	/* 40 differing array elements: 16 listed, the rest counted. */
	char ca[512] = "[", cb[512] = "[";
	for (int i = 0; i < 40; i++) {
		snprintf(ca + strlen(ca), sizeof ca - strlen(ca), "%s%d", i ? "," : "", i);
		snprintf(cb + strlen(cb), sizeof cb - strlen(cb), "%s%d", i ? "," : "", i + 100);
	}
	strcat(ca, "]");
	strcat(cb, "]");
	const char *h = hdr("little", "text/json", "utf-8", 0, NULL);
	rp_msg a = mk(h, ca, true), b = mk(h, cb, true);
	rp_diff d;
	assert_int_equal(rp_compare(&a, &b, NULL, &d), 40);
	assert_int_equal(d.n, RP_DIFF_MAX_CHANGES);
	jm_buf out = {0};
	assert_int_equal(rp_diff_text(&d, &out), 0);
	assert_int_equal(jm_buf_append(&out, "", 1), 0);
	assert_non_null(strstr((const char *)out.data, "; and 24 more"));
	assert_non_null(strstr((const char *)out.data, "content[0]: 0 -> 100"));
	jm_buf_free(&out);
	out = (jm_buf){0};
	assert_int_equal(rp_diff_json(&d, &out), 0);
	assert_int_equal(jm_buf_append(&out, "", 1), 0);
	size_t err_at;
	const char *why;
	assert_true(jm_json_valid((const char *)out.data, out.len - 1, &err_at, &why));
	/* compact, as every jmsg JSON line */
	assert_non_null(strstr((const char *)out.data, "[{\"path\":\""));
	assert_null(strstr((const char *)out.data, "\": "));
	assert_null(strstr((const char *)out.data, "}, {"));
	jm_buf_free(&out);
	rp_diff_clear(&d);
	free(a.bytes);
	free(b.bytes);
}

static void test_diff_long_bytes_excerpt(void **state)
{
	/* 1000 bytes differing at 900: the excerpt starts shortly before. */
	char *x = malloc(1001), *y = malloc(1001);
	memset(x, 'a', 1000);
	memset(y, 'a', 1000);
	x[1000] = y[1000] = '\0';
	y[900] = 'B';
	const char *h = hdr("little", "binary/x", "binary", 1000, NULL);
	rp_msg a = mk(h, x, false), b = mk(h, y, false);
	int n;
	char *t = diff_text(&a, &b, NULL, &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(t, "content: ...\"aaaaaaaaaaaaaaaa"));
	assert_non_null(strstr(t, "-> ...\"aaaaaaaaaaaaaaaaB"));
	assert_true(strlen(t) < 200);
	free(t);
	free(x);
	free(y);
	free(a.bytes);
	free(b.bytes);
}

/* ---------------------------------------------------------------- model */

static void add(rp_capture *c, rp_stream *s, int dir, double t0, double t1)
{
	const char *h = hdr("little", "text/json", "utf-8", 2, NULL);
	rp_msg m = mk(h, "{}", true);
	assert_int_equal(rp_stream_add(c, s, dir, m.bytes, m.len, m.header_len, true, t0, t1), 0);
	free(m.bytes);
}

static void test_after_responses(void **state)
{
	/* Pipelined: requests 0-2 before any answer, request 3 after all
	 * three, request 4 after the fourth. */
	rp_capture c;
	rp_capture_init(&c, 0);
	rp_stream *s = rp_capture_add_stream(&c, 7, 100.0);
	assert_non_null(s);
	add(&c, s, RP_REQ, 100.1, 100.1);
	add(&c, s, RP_REQ, 100.2, 100.2);
	add(&c, s, RP_REQ, 100.3, 100.3);
	add(&c, s, RP_RESP, 100.4, 100.41);
	add(&c, s, RP_RESP, 100.5, 100.51);
	add(&c, s, RP_RESP, 100.6, 100.61);
	add(&c, s, RP_REQ, 101.0, 101.0);
	add(&c, s, RP_RESP, 101.1, 101.11);
	add(&c, s, RP_REQ, 102.0, 102.0);
	add(&c, s, RP_RESP, 102.1, 102.11);
	rp_capture_finish(&c);
	const uint32_t want[] = {0, 0, 0, 3, 4};
	for (size_t k = 0; k < 5; k++)
		assert_int_equal(s->msg[RP_REQ][k].after_responses, want[k]);
	assert_true(c.t0 == 100.0);
	assert_int_equal(rp_stream_requests(s), 5);
	assert_int_equal(rp_stream_known_responses(s), 5);
	assert_false(rp_stream_incomplete(s));
	rp_capture_free(&c);
}

static void test_server_first_message_does_not_stall(void **state)
{
	/* A response before any request (a server greeting or a busy error)
	 * must not make request 0 wait for it. */
	rp_capture c;
	rp_capture_init(&c, 0);
	rp_stream *s = rp_capture_add_stream(&c, 0, 1.0);
	add(&c, s, RP_RESP, 1.1, 1.1);
	add(&c, s, RP_REQ, 1.2, 1.2);
	rp_capture_finish(&c);
	assert_int_equal(s->msg[RP_REQ][0].after_responses, 0);
	rp_capture_free(&c);
}

static void test_cut_and_describe(void **state)
{
	rp_capture c;
	rp_capture_init(&c, 0);
	rp_stream *s = rp_capture_add_stream(&c, 3, 1.0);
	add(&c, s, RP_REQ, 1.1, 1.1);
	add(&c, s, RP_RESP, 1.2, 1.2);
	rp_stream_cut(s, RP_REQ, false, JM_ERR_NONE, JM_PROB_GAP, 224);
	add(&c, s, RP_REQ, 1.3, 1.3);  /* after the cut: not kept */
	add(&c, s, RP_RESP, 1.4, 1.4);
	assert_int_equal(s->n[RP_REQ], 1);
	assert_int_equal(s->n[RP_RESP], 2);
	assert_true(rp_stream_incomplete(s));
	assert_int_equal(rp_stream_known_responses(s), 1);
	char buf[256];
	rp_stream_describe_cut(s, buf, sizeof buf);
	assert_string_equal(buf, "gap in the client's data at offset 224: only the 1 request before "
				 "it replayed");
	rp_capture_free(&c);
}

static void test_memcap(void **state)
{
	rp_capture c;
	rp_capture_init(&c, 16384);
	rp_stream *s = rp_capture_add_stream(&c, 0, 1.0);
	assert_non_null(s);
	uint8_t big[20000] = {0, 1, 0x7b};
	assert_int_equal(rp_stream_add(&c, s, RP_REQ, big, sizeof big, 1, false, 1, 1), -1);
	assert_true(c.over_memcap);
	assert_true(c.mem <= 16384);
	rp_capture_free(&c);
}

static void test_streams_out_of_order_refused(void **state)
{
	rp_capture c;
	rp_capture_init(&c, 0);
	assert_non_null(rp_capture_add_stream(&c, 5, 1.0));
	assert_null(rp_capture_add_stream(&c, 5, 1.0));
	assert_null(rp_capture_add_stream(&c, 2, 1.0));
	assert_non_null(rp_capture_add_stream(&c, 9, 1.0));
	assert_non_null(rp_capture_find(&c, 9));
	assert_null(rp_capture_find(&c, 6));
	rp_capture_free(&c);
}

static void test_select(void **state)
{
	static const struct {
		const char *list;
		int rc;
		uint64_t in, out;
	} rows[] = {
		{"0,3,5-9", 0, 7, 4}, {"3", 0, 3, 0}, {"5-9", 0, 9, 10}, {"", -1, 0, 0},
		{"1,", -1, 0, 0},     {"9-5", -1, 0, 0}, {"a", -1, 0, 0}, {"1-", -1, 0, 0},
		{"-3", -1, 0, 0},     {"1;2", -1, 0, 0},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		rp_select sel;
		int rc = rp_select_parse(&sel, rows[i].list);
		if (rc != rows[i].rc)
			fail_msg("'%s': rc %d", rows[i].list, rc);
		if (rc == 0) {
			assert_true(rp_select_has(&sel, rows[i].in));
			assert_false(rp_select_has(&sel, rows[i].out));
		}
		rp_select_free(&sel);
	}
	assert_true(rp_select_has(NULL, 42));
}

typedef struct reenc_ctx {
	jm_buf out;
	bool seen;
} reenc_ctx;

static int reenc_cb(void *user, const jm_event *ev)
{
	reenc_ctx *x = user;
	if (ev->type == JM_EV_HEADER && !x->seen) {
		x->seen = true;
		assert_int_equal(rp_reencode(&x->out, ev->header, "{}", 2), 0);
	}
	return JM_CB_OK;
}

static void test_reencode_keeps_extra_members(void **state)
{
	/* A big-endian request with an extra member and the key order of
	 * another client: re-encoding keeps type, encoding, content and the
	 * extras, and writes the rest as this machine's encoder does. */
	const char *h = "{\"content-length\": 2, \"connection\": \"keep-alive\", \"byteorder\": \"big\", "
			"\"content-encoding\": \"utf-8\", \"x\": [1, 2], \"content-type\": \"text/json\"}";
	rp_msg m = mk(h, "{}", true);
	reenc_ctx x = {0};
	jm_decoder d;
	jm_decoder_init(&d, NULL, reenc_cb, &x);
	assert_int_equal(jm_decoder_feed(&d, m.bytes, m.len), m.len);
	jm_decoder_free(&d);
	assert_true(x.seen);
	char want[512];
	snprintf(want, sizeof want,
		 "{\"byteorder\": \"%s\", \"content-type\": \"text/json\", \"content-encoding\": "
		 "\"utf-8\", \"content-length\": 2, \"connection\": \"keep-alive\", \"x\": [1, 2]}{}",
		 jm_host_byteorder());
	assert_int_equal(x.out.len - 2, strlen(want));
	assert_memory_equal(x.out.data + 2, want, strlen(want));
	assert_int_equal((x.out.data[0] << 8) | x.out.data[1], strlen(want) - 2);
	jm_buf_free(&x.out);
	free(m.bytes);
}

/* ---------------------------------------------------------------- sched */

static void test_scale(void **state)
{
	rp_pace one = {.speed = 1}, ten = {.speed = 10}, asap = {.speed = 1, .asap = true};
	assert_int_equal(rp_sched_scale(&one, 0.5), 500000000u);
	assert_int_equal(rp_sched_scale(&ten, 0.5), 50000000u);
	assert_int_equal(rp_sched_scale(&asap, 0.5), 0);
	assert_int_equal(rp_sched_scale(&one, -3), 0);  /* a clock step back */
	assert_int_equal(rp_sched_scale(&one, 1e12), 86400000000000u);
}

static void test_stream_start(void **state)
{
	rp_pace one = {.speed = 1}, half = {.speed = 0.5};
	rp_stream s = {.ts_begin = 12.25};
	assert_int_equal(rp_sched_stream_start(&one, 1000, 10.0, &s), 1000 + 2250000000u);
	assert_int_equal(rp_sched_stream_start(&half, 1000, 10.0, &s), 1000 + 4500000000u);
}

static void test_request_due(void **state)
{
	/* Keep-alive, not pipelined: request 1 was sent 0.2 s after response
	 * 0 completed, and 0.5 s after request 0. */
	rp_capture c;
	rp_capture_init(&c, 0);
	rp_stream *s = rp_capture_add_stream(&c, 0, 10.0);
	add(&c, s, RP_REQ, 10.1, 10.1);
	add(&c, s, RP_RESP, 10.3, 10.4);
	add(&c, s, RP_REQ, 10.6, 10.6);
	add(&c, s, RP_RESP, 10.7, 10.7);
	rp_capture_finish(&c);
	rp_pace one = {.speed = 1}, asap = {.asap = true, .speed = 1};
	uint64_t at[2] = {0, 0};
	const uint64_t S = 1000000000u;
	rp_progress pr = {.started = 5 * S, .answered_at = at};
	/* Request 0: 0.1 s after the connection began. */
	assert_int_equal(rp_sched_request_due(&one, s, 0, &pr), 5 * S + S / 10);
	assert_int_equal(rp_sched_request_due(&asap, s, 0, &pr), 5 * S);
	/* Request 1 waits for response 0 ... */
	pr.sent = 1;
	pr.last_sent = 5 * S + S / 10;
	assert_int_equal(rp_sched_request_due(&one, s, 1, &pr), RP_NEVER);
	assert_int_equal(rp_sched_request_due(&asap, s, 1, &pr), RP_NEVER);
	/* ... which came late (at 7 s): then 0.2 s after it. */
	pr.answered = 1;
	at[0] = 7 * S;
	assert_int_equal(rp_sched_request_due(&one, s, 1, &pr), 7 * S + S / 5);
	assert_int_equal(rp_sched_request_due(&asap, s, 1, &pr), 7 * S);
	/* Had it come early, the 0.5 s after request 0 would rule. */
	at[0] = 5 * S + S / 5;
	assert_int_equal(rp_sched_request_due(&one, s, 1, &pr), 5 * S + S / 10 + S / 2);
	/* No request 2. */
	assert_int_equal(rp_sched_request_due(&one, s, 2, &pr), RP_NEVER);
	rp_capture_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_table),
		cmocka_unit_test(test_diff_many_changes_are_counted),
		cmocka_unit_test(test_diff_long_bytes_excerpt),
		cmocka_unit_test(test_after_responses),
		cmocka_unit_test(test_server_first_message_does_not_stall),
		cmocka_unit_test(test_cut_and_describe),
		cmocka_unit_test(test_memcap),
		cmocka_unit_test(test_streams_out_of_order_refused),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_reencode_keeps_extra_members),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_stream_start),
		cmocka_unit_test(test_request_due),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
