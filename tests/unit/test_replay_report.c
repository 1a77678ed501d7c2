/*
 * Replay's report (report.h): lines per response, notes, the summary and
 * the exit code, and stream order kept whatever order streams finish in.
 * The engine's events are played by hand, so every case is exact.
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
#include "replay/report.h"

/* A text/json message {"result": R}, encoded as the reference server does. */
static void result_msg(jm_buf *b, const char *r)
{
	char content[256];
	snprintf(content, sizeof content, "{\"result\": \"%s\"}", r);
	b->len = b->off = 0;
	assert_int_equal(jm_encode(b, "text/json", "utf-8", NULL, content, strlen(content)), 0);
}

static rp_msg view(const jm_buf *b, bool json)
{
	rp_msg m = {
		.bytes = b->data,
		.len = b->len,
		.header_len = (uint16_t)((b->data[0] << 8) | b->data[1]),
		.content_is_json = json,
	};
	return m;
}

/* Stream `id` with one request and, if `resp`, its captured response. */
static void add_stream(rp_capture *c, uint64_t id, const char *resp, size_t requests)
{
	rp_stream *s = rp_capture_add_stream(c, id, (double)id);
	assert_non_null(s);
	jm_buf b = {0};
	for (size_t k = 0; k < requests; k++) {
		result_msg(&b, "request");
		rp_msg m = view(&b, true);
		assert_int_equal(rp_stream_add(c, s, RP_REQ, m.bytes, m.len, m.header_len, true,
					       (double)id + (double)k, (double)id + (double)k), 0);
	}
	if (resp) {
		result_msg(&b, resp);
		rp_msg m = view(&b, true);
		assert_int_equal(rp_stream_add(c, s, RP_RESP, m.bytes, m.len, m.header_len, true,
					       (double)id + 0.5, (double)id + 0.5), 0);
	}
	jm_buf_free(&b);
}

typedef struct out {
	char *text;
	size_t len;
	FILE *f;
} out;

static void out_open(out *o)
{
	o->text = NULL;
	o->len = 0;
	o->f = open_memstream(&o->text, &o->len);
	assert_non_null(o->f);
}

static void out_close(out *o)
{
	fclose(o->f);
}

static void test_order_and_lines(void **state)
{
	rp_capture c;
	rp_capture_init(&c, 0);
	add_stream(&c, 0, "same", 1);
	add_stream(&c, 1, "old", 1);
	add_stream(&c, 2, "gone", 2);   /* two requests, one captured response */
	add_stream(&c, 3, NULL, 0);     /* nothing to send */
	rp_capture_finish(&c);

	out o;
	out_open(&o);
	rp_report *r = rp_report_new(&c, NULL, o.f, false, false, "127.0.0.1:1", 1000);
	assert_non_null(r);
	rp_events ev = rp_report_events(r);
	jm_buf b = {0};
	rp_stream_result done = {.end = RP_END_DONE, .sent = 1, .answered = 1};

	/* Stream 2 finishes first: the server closed before answering. */
	rp_stream_result closed = {.end = RP_END_CLOSED, .sent = 2, .answered = 0};
	ev.done(ev.user, &c.s[2], &closed);
	assert_int_equal(ftell(o.f), 0);  /* held until streams 0 and 1 are over */

	result_msg(&b, "new");
	rp_msg live = view(&b, true);
	ev.response(ev.user, &c.s[1], 0, &live);
	ev.done(ev.user, &c.s[1], &done);
	fflush(o.f);
	assert_int_equal(o.len, 0);

	result_msg(&b, "same");
	live = view(&b, true);
	ev.response(ev.user, &c.s[0], 0, &live);
	/* ... and a second answer nobody asked for. */
	ev.response(ev.user, &c.s[0], 1, &live);
	ev.done(ev.user, &c.s[0], &done);

	assert_int_equal(rp_report_finish(r, 0.25, false), JM_EXIT_REPLAY_DIFFERS);
	out_close(&o);
	/* content-length is equal (both 3 letters): only the result differs. */
	const char *want =
		"stream 0 response 1: extra response, not in the capture: text/json "
		"\"{\\\"result\\\": \\\"same\\\"}\"\n"
		"stream 1 response 0: content.result: \"old\" -> \"new\"\n"
		"stream 2 response 0: missing: the server closed the connection after 0 responses\n"
		"stream 3: not replayed: no request in the capture\n"
		"replay: 3 streams (0 incomplete, 1 skipped), 4 requests, 2 responses compared: "
		"1 identical, 1 different, 1 missing, 1 extra, 0 errors, 1 not in the capture "
		"(0.25 s)\n";
	assert_string_equal(o.text, want);

	rp_counts n;
	rp_report_counts(r, &n);
	assert_int_equal(n.unchecked, 1);  /* stream 2's second response */
	rp_report_free(r);
	free(o.text);
	jm_buf_free(&b);
	rp_capture_free(&c);
}

static void test_exit_codes(void **state)
{
	rp_capture c;
	rp_capture_init(&c, 0);
	add_stream(&c, 0, "same", 1);
	rp_capture_finish(&c);
	jm_buf b = {0};
	result_msg(&b, "same");
	rp_msg live = view(&b, true);
	rp_stream_result done = {.end = RP_END_DONE, .sent = 1, .answered = 1};
	rp_stream_result refused = {.end = RP_END_CONNECT, .sys_errno = 111};

	static const struct {
		int kind;   /* 0 all same, 1 connect error, 2 interrupted */
		int code;
	} rows[] = {{0, JM_EXIT_OK}, {1, JM_EXIT_REPLAY_FAILED}, {2, JM_EXIT_REPLAY_FAILED}};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		out o;
		out_open(&o);
		rp_report *r = rp_report_new(&c, NULL, o.f, true, false, "127.0.0.1:1", 1000);
		rp_events ev = rp_report_events(r);
		if (rows[i].kind == 1) {
			ev.done(ev.user, &c.s[0], &refused);
		} else {
			ev.response(ev.user, &c.s[0], 0, &live);
			ev.done(ev.user, &c.s[0], &done);
		}
		assert_int_equal(rp_report_finish(r, 0, rows[i].kind == 2), rows[i].code);
		out_close(&o);
		/* Every line is one JSON value; the last is the summary. */
		size_t err_at;
		const char *why;
		for (char *line = o.text, *nl; (nl = strchr(line, '\n')); line = nl + 1)
			if (!jm_json_valid(line, (size_t)(nl - line), &err_at, &why))
				fail_msg("not JSON: %.*s (%s)", (int)(nl - line), line, why);
			else if (strncmp(line, "{\"event\":\"", 10) || strstr(line, "\": ") ||
				 strstr(line, ", \""))
				fail_msg("not {\"event\":...} compact: %.*s", (int)(nl - line), line);
		char tail[64];
		snprintf(tail, sizeof tail, "\"exit\":%d}\n", rows[i].code);
		assert_non_null(strstr(o.text, tail));
		if (rows[i].kind == 1)
			assert_non_null(strstr(o.text, "{\"event\":\"error\",\"stream\":0,\"error\":"
							"\"connect\""));
		rp_report_free(r);
		free(o.text);
	}
	jm_buf_free(&b);
	rp_capture_free(&c);
}

static void test_incomplete_note_comes_first(void **state)
{
	rp_capture c;
	rp_capture_init(&c, 0);
	add_stream(&c, 7, "same", 1);
	rp_stream_cut(&c.s[0], RP_RESP, false, JM_ERR_NONE, JM_PROB_GAP, 148);
	rp_capture_finish(&c);
	out o;
	out_open(&o);
	rp_report *r = rp_report_new(&c, NULL, o.f, false, true, "x", 1000);
	rp_events ev = rp_report_events(r);
	jm_buf b = {0};
	result_msg(&b, "same");
	rp_msg live = view(&b, true);
	ev.response(ev.user, &c.s[0], 0, &live);
	rp_stream_result done = {.end = RP_END_DONE, .sent = 1, .answered = 1};
	ev.done(ev.user, &c.s[0], &done);
	assert_int_equal(rp_report_finish(r, 0, false), JM_EXIT_OK);
	out_close(&o);
	const char *want =
		"stream 7: incomplete capture, replayed as far as it is known: gap in the server's data "
		"at offset 148: only the 1 response before it compared\n"
		"stream 7 response 0: identical\n";
	assert_memory_equal(o.text, want, strlen(want));
	rp_report_free(r);
	free(o.text);
	jm_buf_free(&b);
	rp_capture_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_lines),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_incomplete_note_comes_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
