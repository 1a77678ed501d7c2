/*
 * Unit tests of analyzer/stream (the engine): segments built here go in,
 * the messages and problems that come out are checked.  Cases that a
 * fixture capture cannot show without also testing Wireshark's view of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyzer/stream.h"

#define CLIENT_ISN 999u
#define SERVER_ISN 2999u

struct seen {
	char log[2048];
	size_t len;
};

static void logf_(struct seen *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->log + s->len, sizeof s->log - s->len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof s->log - s->len)
		s->len += (size_t)n;
}

/* "Q174" a request at offset 174, "R148+" a response paired with a request
 * (it has a latency), "R148" one that is not; "gap@c50" a problem. */
static void on_message(void *user, const an_message *m)
{
	logf_(user, "%c%llu%s ", m->dir == AN_C2S ? 'Q' : 'R', (unsigned long long)m->offset,
	      m->has_latency ? "+" : "");
}

static void on_problem(void *user, const an_problem *p)
{
	if (p->is_codec)
		return;
	logf_(user, "%s@%c%llu ", jm_problem_specs[p->prob].id, p->dir == AN_C2S ? 'c' : 's',
	      (unsigned long long)p->offset);
}

struct rig {
	an_engine *e;
	struct seen seen;
	int64_t t;
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof *r);
	an_config c;
	an_config_defaults(&c);
	an_sink sink = {.user = &r->seen, .message = on_message, .problem = on_problem};
	r->e = an_engine_new(&c, &sink);
	assert_non_null(r->e);
	r->t = 1700000000LL * 1000000000LL;
}

static void rig_free(struct rig *r)
{
	an_engine_free(r->e);
}

/* One segment; `off` and `ack` are stream offsets (0: the first byte after
 * the SYN) of the sender's and the peer's direction. */
static void seg_in(struct rig *r, an_dir from, uint8_t flags, uint32_t off, uint32_t ack,
		 const uint8_t *p, uint32_t n)
{
	cap_segment s;
	memset(&s, 0, sizeof s);
	r->t += 10000;
	s.ts_ns = r->t;
	s.ts = (double)r->t / 1e9;
	flow_ep c = {.addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}, .port = 40090};
	flow_ep sv = {.addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2},
		      .port = JM_SPEC_DEFAULT_PORT};
	s.src = from == AN_C2S ? c : sv;
	s.dst = from == AN_C2S ? sv : c;
	uint32_t isn = from == AN_C2S ? CLIENT_ISN : SERVER_ISN;
	uint32_t peer_isn = from == AN_C2S ? SERVER_ISN : CLIENT_ISN;
	s.seq = flags & CAP_SYN ? isn : isn + 1 + off;
	s.ack = peer_isn + 1 + ack;
	s.flags = flags;
	s.wscale = -1;
	s.payload = p;
	s.payload_len = s.payload_wire = n;
	an_engine_segment(r->e, &s);
}

static void handshake(struct rig *r)
{
	seg_in(r, AN_C2S, CAP_SYN, 0, 0, NULL, 0);
	seg_in(r, AN_S2C, CAP_SYN | CAP_ACK, 0, 0, NULL, 0);
	seg_in(r, AN_C2S, CAP_ACK, 0, 0, NULL, 0);
}

/* Three keep-alive search requests, or three answers, back to back; the
 * offsets where each message starts go to at[]. */
static void three(jm_buf *b, an_dir dir, size_t at[3])
{
	static const char *req[3] = {
		"{\"action\": \"search\", \"value\": \"morpheus\"}",
		"{\"action\": \"search\", \"value\": \"ring\"}",
		"{\"action\": \"search\", \"value\": \"nothing\"}",
	};
	static const char *resp[3] = {
		"{\"result\": \"Follow the white rabbit.\"}",
		"{\"result\": \"In the caves beneath the Misty Mountains.\"}",
		"{\"result\": \"No match for 'nothing'.\"}",
	};
	for (int i = 0; i < 3; i++) {
		const char *c = dir == AN_C2S ? req[i] : resp[i];
		at[i] = b->len;
		assert_int_equal(jm_encode(b, "text/json", "utf-8",
					   dir == AN_C2S ? "\"connection\": \"keep-alive\"" : NULL,
					   c, strlen(c)), 0);
	}
}

static void test_pairing_after_lost_request(void **state)
{
	/* Pipelined requests; bytes inside request 2 are missing, and the
	 * server's ACK says it got them.  Request 3 is decoded after the gap.
	 * Response 2 answers request 2, not request 3: only response 1 may be
	 * paired. */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[3], ra[3];
	three(&q, AN_C2S, qa);
	three(&a, AN_S2C, ra);
	uint32_t ql = (uint32_t)q.len, al = (uint32_t)a.len;
	uint32_t hole = (uint32_t)qa[1] + 20;
	handshake(&r);
	seg_in(&r, AN_C2S, CAP_ACK, 0, 0, q.data, hole);
	seg_in(&r, AN_C2S, CAP_ACK, hole + 10, 0, q.data + hole + 10, ql - hole - 10);
	seg_in(&r, AN_S2C, CAP_ACK, 0, ql, NULL, 0);
	seg_in(&r, AN_S2C, CAP_ACK, 0, ql, a.data, al);
	seg_in(&r, AN_C2S, CAP_ACK, ql, al, NULL, 0);
	an_engine_finish(r.e);
	char want[256];
	snprintf(want, sizeof want, "Q0 gap@c%u resync@c%zu Q%zu R0+ R%zu R%zu ", hole, qa[2], qa[2],
		 ra[1], ra[2]);
	assert_string_equal(r.seen.log, want);
	jm_buf_free(&q);
	jm_buf_free(&a);
	rig_free(&r);
}

static void test_pairing_after_lost_response(void **state)
{
	/* Three requests answered in one write; bytes inside response 1 are
	 * missing.  Responses 2 and 3 answer requests 2 and 3, not 1 and 2:
	 * neither may be paired. */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[3], ra[3];
	three(&q, AN_C2S, qa);
	three(&a, AN_S2C, ra);
	uint32_t ql = (uint32_t)q.len, al = (uint32_t)a.len;
	handshake(&r);
	seg_in(&r, AN_C2S, CAP_ACK, 0, 0, q.data, ql);
	seg_in(&r, AN_S2C, CAP_ACK, 0, ql, a.data, 50);
	seg_in(&r, AN_S2C, CAP_ACK, 60, ql, a.data + 60, al - 60);
	seg_in(&r, AN_C2S, CAP_ACK, ql, al, NULL, 0);
	an_engine_finish(r.e);
	char want[256];
	snprintf(want, sizeof want, "Q0 Q%zu Q%zu gap@s50 resync@s%zu R%zu R%zu ", qa[1], qa[2],
		 ra[1], ra[1], ra[2]);
	assert_string_equal(r.seen.log, want);
	jm_buf_free(&q);
	jm_buf_free(&a);
	rig_free(&r);
}

static void test_pairing_without_loss(void **state)
{
	/* The same exchange with nothing missing: three pairs. */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[3], ra[3];
	three(&q, AN_C2S, qa);
	three(&a, AN_S2C, ra);
	handshake(&r);
	seg_in(&r, AN_C2S, CAP_ACK, 0, 0, q.data, (uint32_t)q.len);
	seg_in(&r, AN_S2C, CAP_ACK, 0, (uint32_t)q.len, a.data, (uint32_t)a.len);
	an_engine_finish(r.e);
	char want[256];
	snprintf(want, sizeof want, "Q0 Q%zu Q%zu R0+ R%zu+ R%zu+ ", qa[1], qa[2], ra[1], ra[2]);
	assert_string_equal(r.seen.log, want);
	jm_buf_free(&q);
	jm_buf_free(&a);
	rig_free(&r);
}

static void test_rst_out_of_window(void **state)
{
	/* A reset whose sequence number is nowhere near the sender's (forged,
	 * or of another connection) does not end the stream: the request sent
	 * after it is decoded and answered.  A reset at the sender's next
	 * sequence number does end it. */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[3], ra[3];
	three(&q, AN_C2S, qa);
	three(&a, AN_S2C, ra);
	uint32_t q1 = (uint32_t)qa[1], r1 = (uint32_t)ra[1];
	handshake(&r);
	seg_in(&r, AN_C2S, CAP_ACK, 0, 0, q.data, q1);
	seg_in(&r, AN_S2C, CAP_ACK, 0, q1, a.data, r1);
	seg_in(&r, AN_C2S, CAP_RST | CAP_ACK, 0x80000000u, r1, NULL, 0);
	seg_in(&r, AN_C2S, CAP_ACK, q1, r1, q.data + q1, (uint32_t)(qa[2] - qa[1]));
	seg_in(&r, AN_S2C, CAP_ACK, r1, (uint32_t)qa[2], a.data + r1, (uint32_t)(ra[2] - ra[1]));
	char want[256];
	snprintf(want, sizeof want, "Q0 R0+ Q%zu R%zu+ ", qa[1], ra[1]);
	assert_string_equal(r.seen.log, want);
	seg_in(&r, AN_C2S, CAP_RST | CAP_ACK, (uint32_t)qa[2], (uint32_t)ra[2], NULL, 0);
	snprintf(want, sizeof want, "Q0 R0+ Q%zu R%zu+ reset@c%zu ", qa[1], ra[1], qa[2]);
	assert_string_equal(r.seen.log, want);
	an_engine_finish(r.e);
	jm_buf_free(&q);
	jm_buf_free(&a);
	rig_free(&r);
}

static void test_after_close(void **state)
{
	/* After a stream closes, a retransmission of its request starts no
	 * stream; data with sequence numbers nowhere near the old ones is a
	 * new connection whose handshake the capture missed, and is decoded
	 * (mid-stream pickup). */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[3], ra[3];
	three(&q, AN_C2S, qa);
	three(&a, AN_S2C, ra);
	uint32_t q1 = (uint32_t)qa[1], r1 = (uint32_t)ra[1];
	handshake(&r);
	seg_in(&r, AN_C2S, CAP_ACK, 0, 0, q.data, q1);
	seg_in(&r, AN_S2C, CAP_ACK | CAP_FIN, 0, q1, a.data, r1);
	seg_in(&r, AN_C2S, CAP_ACK | CAP_FIN, q1, r1 + 1, NULL, 0);
	seg_in(&r, AN_S2C, CAP_ACK, r1 + 1, q1 + 1, NULL, 0);
	seg_in(&r, AN_C2S, CAP_ACK, 0, r1 + 1, q.data, q1);
	assert_string_equal(r.seen.log, "Q0 R0+ ");
	seg_in(&r, AN_C2S, CAP_ACK, 0x40000000u, 0x40000000u, q.data, q1);
	an_engine_finish(r.e);
	assert_string_equal(r.seen.log, "Q0 R0+ midstream@c0 Q0 ");
	jm_buf_free(&q);
	jm_buf_free(&a);
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairing_without_loss),
		cmocka_unit_test(test_pairing_after_lost_request),
		cmocka_unit_test(test_pairing_after_lost_response),
		cmocka_unit_test(test_rst_out_of_window),
		cmocka_unit_test(test_after_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
