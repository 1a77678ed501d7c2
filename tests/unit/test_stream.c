/*
 * Unit tests of tcp/stream (the engine): segments built here go in,
 * the messages and problems that come out are checked.  Cases that a
 * fixture capture cannot show without also testing Wireshark's view of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/stream.h"

#define CLIENT_ISN 999u
#define SERVER_ISN 2999u

/* Every message as it came out, for checking times, latencies and the
 * order of pairing. */
#define MAX_MSGS 32
struct msg_rec {
	an_dir dir;
	uint64_t offset;
	int64_t first_ns, last_ns;
	bool has_latency;
	double latency_ms;
};

struct rig {
	an_engine *e;
	char log[2048];
	size_t len;
	int64_t t;
	struct msg_rec msgs[MAX_MSGS];
	size_t n_msgs;
};

/* The rig's base time: seg_at() times are microseconds after it. */
#define T0 (1700000000LL * 1000000000LL)
#define US 1000LL

static void logf_(struct rig *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->log + r->len, sizeof r->log - r->len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof r->log - r->len)
		r->len += (size_t)n;
}

/* "Q174" a request at offset 174, "R148+" a response paired with a request
 * (it has a latency), "R148" one that is not; "gap@c50" a problem.  Each
 * message is also kept in msgs[]. */
static void on_message(void *user, const an_message *m)
{
	struct rig *r = user;
	logf_(r, "%c%llu%s ", m->dir == AN_C2S ? 'Q' : 'R', (unsigned long long)m->offset,
	      m->has_latency ? "+" : "");
	if (r->n_msgs < MAX_MSGS)
		r->msgs[r->n_msgs++] = (struct msg_rec){m->dir, m->offset, m->ts_first_ns,
							m->ts_last_ns, m->has_latency, m->latency_ms};
}

static void on_problem(void *user, const an_problem *p)
{
	if (p->is_codec)
		return;
	logf_(user, "%s@%c%llu ", jm_problem_specs[p->prob].id, p->dir == AN_C2S ? 'c' : 's',
	      (unsigned long long)p->offset);
}

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof *r);
	an_config c;
	an_config_defaults(&c);
	an_sink sink = {.user = r, .message = on_message, .problem = on_problem};
	r->e = an_engine_new(&c, &sink);
	assert_non_null(r->e);
	r->t = T0;
}

/* The same with caps of the test's own (no overlap history, so that only
 * what the caps are about is counted). */
static void rig_init_caps(struct rig *r, size_t stream_memcap)
{
	memset(r, 0, sizeof *r);
	an_config c;
	an_config_defaults(&c);
	c.stream_memcap = stream_memcap;
	c.overlap_history = 0;
	an_sink sink = {.user = r, .message = on_message, .problem = on_problem};
	r->e = an_engine_new(&c, &sink);
	assert_non_null(r->e);
	r->t = T0;
}

static void rig_free(struct rig *r)
{
	an_engine_free(r->e);
}

/* One segment at capture time r->t; `off` and `ack` are stream offsets (0:
 * the first byte after the SYN) of the sender's and the peer's direction. */
static void seg_now(struct rig *r, an_dir from, uint8_t flags, uint32_t off, uint32_t ack,
		    const uint8_t *p, uint32_t n)
{
	cap_segment s;
	memset(&s, 0, sizeof s);
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

/* The same, 10 us after the previous segment. */
static void seg_in(struct rig *r, an_dir from, uint8_t flags, uint32_t off, uint32_t ack,
		   const uint8_t *p, uint32_t n)
{
	r->t += 10 * US;
	seg_now(r, from, flags, off, ack, p, n);
}

/* The same, at T0 + `us` microseconds (times must not go backwards). */
static void seg_at(struct rig *r, int64_t us, an_dir from, uint32_t off, uint32_t ack,
		   const uint8_t *p, uint32_t n)
{
	assert_true(T0 + us * US >= r->t);
	r->t = T0 + us * US;
	seg_now(r, from, CAP_ACK, off, ack, p, n);
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
	assert_string_equal(r.log, want);
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
	assert_string_equal(r.log, want);
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
	assert_string_equal(r.log, want);
	jm_buf_free(&q);
	jm_buf_free(&a);
	rig_free(&r);
}

/* Listeners: a second one gets every message and segment the first gets,
 * with its own user pointer, and the list has a bound. */
struct counts {
	int messages, segments;
};

static void count_message(void *user, const an_message *m)
{
	((struct counts *)user)->messages++;
}

static void count_segment(void *user, flow *f, an_dir dir, const cap_segment *seg)
{
	((struct counts *)user)->segments++;
}

static void test_listeners(void **state)
{
	struct rig r;
	rig_init(&r);
	struct counts c = {0}, d = {0};
	an_sink more = {.user = &c, .message = count_message, .segment = count_segment};
	an_sink segs = {.user = &d, .segment = count_segment};
	assert_int_equal(an_engine_listen(r.e, &more), 0);
	assert_int_equal(an_engine_listen(r.e, &segs), 0);
	assert_int_equal(an_engine_listen(r.e, &segs), 0);
	assert_int_equal(an_engine_listen(r.e, &segs), -1); /* AN_MAX_SINKS in all */
	jm_buf q = {0}, a = {0};
	size_t qa[3], ra[3];
	three(&q, AN_C2S, qa);
	three(&a, AN_S2C, ra);
	handshake(&r);
	seg_in(&r, AN_C2S, CAP_ACK, 0, 0, q.data, (uint32_t)q.len);
	seg_in(&r, AN_S2C, CAP_ACK, 0, (uint32_t)q.len, a.data, (uint32_t)a.len);
	an_engine_finish(r.e);
	assert_int_equal(r.n_msgs, 6);
	assert_int_equal(c.messages, 6);
	assert_int_equal(c.segments, 5);      /* SYN, SYN-ACK, ACK, two data */
	assert_int_equal(d.segments, 2 * 5);  /* listening twice: called twice */
	assert_int_equal(d.messages, 0);
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
	assert_string_equal(r.log, want);
	seg_in(&r, AN_C2S, CAP_RST | CAP_ACK, (uint32_t)qa[2], (uint32_t)ra[2], NULL, 0);
	snprintf(want, sizeof want, "Q0 R0+ Q%zu R%zu+ reset@c%zu ", qa[1], ra[1], qa[2]);
	assert_string_equal(r.log, want);
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
	assert_string_equal(r.log, "Q0 R0+ ");
	seg_in(&r, AN_C2S, CAP_ACK, 0x40000000u, 0x40000000u, q.data, q1);
	an_engine_finish(r.e);
	assert_string_equal(r.log, "Q0 R0+ midstream@c0 Q0 ");
	jm_buf_free(&q);
	jm_buf_free(&a);
	rig_free(&r);
}

/* ------------------------------------------------- latency and pairing order
 *
 * stream.h: responses are paired with requests in order on each stream
 * (pipelining included), and the latency is from the request's first byte
 * to the response's last (README: "latency_ms (from the request's first
 * byte to the response's last)").  ts_first/ts_last are the capture times
 * of a message's first and last byte.  Every segment below has its own
 * time, and messages straddle segments, so a first byte and a last byte
 * never share a time, and no two requests share one: pairing the newest
 * request instead of the oldest, or timing a response by its first byte,
 * changes a number checked here. */

/* N keep-alive search requests, or N answers, back to back; at[i] is where
 * message i starts, at[n] the end. */
static void msgs_n(jm_buf *b, an_dir dir, size_t n, size_t at[])
{
	static const char *req[] = {
		"{\"action\": \"search\", \"value\": \"morpheus\"}",
		"{\"action\": \"search\", \"value\": \"ring\"}",
		"{\"action\": \"search\", \"value\": \"nothing\"}",
		"{\"action\": \"search\", \"value\": \"\xf0\x9f\x90\xb6\"}",
		"{\"action\": \"search\", \"value\": \"neo\"}",
	};
	static const char *resp[] = {
		"{\"result\": \"Follow the white rabbit.\"}",
		"{\"result\": \"In the caves beneath the Misty Mountains.\"}",
		"{\"result\": \"No match for 'nothing'.\"}",
		"{\"result\": \"Playing ball!\"}",
		"{\"result\": \"No match for 'neo'.\"}",
	};
	assert_true(n <= 5);
	for (size_t i = 0; i < n; i++) {
		const char *c = dir == AN_C2S ? req[i] : resp[i];
		at[i] = b->len;
		assert_int_equal(jm_encode(b, "text/json", "utf-8",
					   dir == AN_C2S ? "\"connection\": \"keep-alive\"" : NULL,
					   c, strlen(c)), 0);
	}
	at[n] = b->len;
}

/* Bytes [from, to) of one direction's buffer at T0 + us. */
static void part(struct rig *r, int64_t us, an_dir from, const jm_buf *b, size_t lo, size_t hi,
		 uint32_t ack)
{
	assert_true(lo < hi && hi <= b->len);
	seg_at(r, us, from, (uint32_t)lo, ack, b->data + lo, (uint32_t)(hi - lo));
}

/* Message i as it came out: direction, offset, first and last byte times
 * (microseconds after T0; -1: not checked) and latency in microseconds
 * (-1: the message must carry none). */
static void want_msg(const struct rig *r, size_t i, an_dir dir, size_t offset, int64_t first_us,
		     int64_t last_us, int64_t latency_us)
{
	if (i >= r->n_msgs)
		fail_msg("message %zu: only %zu messages came out (%s)", i, r->n_msgs, r->log);
	const struct msg_rec *m = &r->msgs[i];
	if (m->dir != dir || m->offset != offset)
		fail_msg("message %zu: %s at %llu, want %s at %zu", i, m->dir == AN_C2S ? "c>" : "s>",
			 (unsigned long long)m->offset, dir == AN_C2S ? "c>" : "s>", offset);
	if (first_us >= 0 && m->first_ns != T0 + first_us * US)
		fail_msg("message %zu (%s %zu): first byte at %lld us, want %lld", i,
			 dir == AN_C2S ? "c>" : "s>", offset, (long long)((m->first_ns - T0) / US),
			 (long long)first_us);
	if (last_us >= 0 && m->last_ns != T0 + last_us * US)
		fail_msg("message %zu (%s %zu): last byte at %lld us, want %lld", i,
			 dir == AN_C2S ? "c>" : "s>", offset, (long long)((m->last_ns - T0) / US),
			 (long long)last_us);
	if (latency_us < 0) {
		if (m->has_latency)
			fail_msg("message %zu (%s %zu): latency %.3f ms, want none", i,
				 dir == AN_C2S ? "c>" : "s>", offset, m->latency_ms);
		return;
	}
	if (!m->has_latency)
		fail_msg("message %zu (%s %zu): no latency, want %lld us", i,
			 dir == AN_C2S ? "c>" : "s>", offset, (long long)latency_us);
	/* latency_ms is a difference of integer nanoseconds over 1e6: exact
	 * to far better than a nanosecond at these sizes */
	long long got_ns = llround(m->latency_ms * 1e6);
	if (got_ns != latency_us * US)
		fail_msg("message %zu (%s %zu): latency %.6f ms, want %.6f ms", i,
			 dir == AN_C2S ? "c>" : "s>", offset, m->latency_ms, (double)latency_us / 1000);
}

static void test_latency_pipelined(void **state)
{
	/* Three pipelined requests, then their answers, then one more
	 * exchange.  Segments cut across messages: q0 [100, 150], q1 [150,
	 * 220], q2 [220, 300] (its protoheader straddles two segments: its
	 * first byte came at 220); r0 [1000, 1100], r1 [1200, 1250], r2 [1250,
	 * 1400]; q3 [2000, 2050], r3 [2500, 2600].  In order, each response
	 * answers the oldest request still waiting. */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[5], ra[5];
	msgs_n(&q, AN_C2S, 4, qa);
	msgs_n(&a, AN_S2C, 4, ra);
	handshake(&r);
	part(&r, 100, AN_C2S, &q, 0, qa[1] - 30, 0);
	part(&r, 150, AN_C2S, &q, qa[1] - 30, qa[1] + 40, 0);
	part(&r, 220, AN_C2S, &q, qa[1] + 40, qa[2] + 1, 0);
	part(&r, 300, AN_C2S, &q, qa[2] + 1, qa[3], 0);
	seg_at(&r, 310, AN_S2C, 0, (uint32_t)qa[3], NULL, 0);
	part(&r, 1000, AN_S2C, &a, 0, 20, (uint32_t)qa[3]);
	part(&r, 1100, AN_S2C, &a, 20, ra[1], (uint32_t)qa[3]);
	part(&r, 1200, AN_S2C, &a, ra[1], ra[2] - 5, (uint32_t)qa[3]);
	part(&r, 1250, AN_S2C, &a, ra[2] - 5, ra[2] + 10, (uint32_t)qa[3]);
	part(&r, 1400, AN_S2C, &a, ra[2] + 10, ra[3], (uint32_t)qa[3]);
	part(&r, 2000, AN_C2S, &q, qa[3], qa[3] + 50, (uint32_t)ra[3]);
	part(&r, 2050, AN_C2S, &q, qa[3] + 50, qa[4], (uint32_t)ra[3]);
	part(&r, 2500, AN_S2C, &a, ra[3], ra[3] + 1, (uint32_t)qa[4]);
	part(&r, 2600, AN_S2C, &a, ra[3] + 1, ra[4], (uint32_t)qa[4]);
	an_engine_finish(r.e);
	assert_int_equal(r.n_msgs, 8);
	want_msg(&r, 0, AN_C2S, qa[0], 100, 150, -1);
	want_msg(&r, 1, AN_C2S, qa[1], 150, 220, -1);
	want_msg(&r, 2, AN_C2S, qa[2], 220, 300, -1);
	want_msg(&r, 3, AN_S2C, ra[0], 1000, 1100, 1100 - 100);
	want_msg(&r, 4, AN_S2C, ra[1], 1200, 1250, 1250 - 150);
	want_msg(&r, 5, AN_S2C, ra[2], 1250, 1400, 1400 - 220);
	want_msg(&r, 6, AN_C2S, qa[3], 2000, 2050, -1);
	want_msg(&r, 7, AN_S2C, ra[3], 2500, 2600, 2600 - 2000);
	jm_buf_free(&q);
	jm_buf_free(&a);
	rig_free(&r);
}

static void test_latency_after_client_gap(void **state)
{
	/* q0 is answered (r0); then q1 and q2 are pipelined whole, and 10
	 * bytes inside q3 are missing from the capture (the server's ACK says
	 * it got them); q4 follows.  Responses r1..r4.  r1 and r2 answer q1
	 * and q2, queued before the gap, in that order; after the gap how
	 * many requests were lost is unknown, so r3 and r4 carry no latency. */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[6], ra[6];
	msgs_n(&q, AN_C2S, 5, qa);
	msgs_n(&a, AN_S2C, 5, ra);
	uint32_t hole = (uint32_t)qa[3] + 20;
	handshake(&r);
	part(&r, 100, AN_C2S, &q, 0, qa[1], 0);
	part(&r, 200, AN_S2C, &a, 0, 30, (uint32_t)qa[1]);
	part(&r, 260, AN_S2C, &a, 30, ra[1], (uint32_t)qa[1]);
	part(&r, 300, AN_C2S, &q, qa[1], qa[2], (uint32_t)ra[1]);
	part(&r, 400, AN_C2S, &q, qa[2], qa[2] + 7, (uint32_t)ra[1]);
	part(&r, 450, AN_C2S, &q, qa[2] + 7, hole, (uint32_t)ra[1]);
	part(&r, 520, AN_C2S, &q, hole + 10, qa[5], (uint32_t)ra[1]);
	seg_at(&r, 600, AN_S2C, (uint32_t)ra[1], (uint32_t)qa[5], NULL, 0);
	part(&r, 700, AN_S2C, &a, ra[1], ra[2], (uint32_t)qa[5]);
	part(&r, 800, AN_S2C, &a, ra[2], ra[2] + 50, (uint32_t)qa[5]);
	part(&r, 850, AN_S2C, &a, ra[2] + 50, ra[3], (uint32_t)qa[5]);
	part(&r, 900, AN_S2C, &a, ra[3], ra[4], (uint32_t)qa[5]);
	part(&r, 1000, AN_S2C, &a, ra[4], ra[5], (uint32_t)qa[5]);
	an_engine_finish(r.e);
	char want[256];
	snprintf(want, sizeof want, "Q0 R0+ Q%zu Q%zu gap@c%u resync@c%zu Q%zu R%zu+ R%zu+ R%zu R%zu ",
		 qa[1], qa[2], hole, qa[4], qa[4], ra[1], ra[2], ra[3], ra[4]);
	assert_string_equal(r.log, want);
	want_msg(&r, 0, AN_C2S, qa[0], 100, 100, -1);
	want_msg(&r, 1, AN_S2C, ra[0], 200, 260, 260 - 100);
	want_msg(&r, 2, AN_C2S, qa[1], 300, 300, -1);
	want_msg(&r, 3, AN_C2S, qa[2], 400, 450, -1);
	want_msg(&r, 4, AN_C2S, qa[4], -1, -1, -1);
	want_msg(&r, 5, AN_S2C, ra[1], 700, 700, 700 - 300);
	want_msg(&r, 6, AN_S2C, ra[2], 800, 850, 850 - 400);
	want_msg(&r, 7, AN_S2C, ra[3], 900, 900, -1);
	want_msg(&r, 8, AN_S2C, ra[4], 1000, 1000, -1);
	jm_buf_free(&q);
	jm_buf_free(&a);
	rig_free(&r);
}

static void test_latency_after_server_gap(void **state)
{
	/* q0, q1, q2 pipelined; r0 arrives whole (in two segments) and
	 * answers q0; 10 bytes inside r1 are missing (the client's ACK says
	 * it got them), so which request r2 answers is unknown: no latency,
	 * and none for the later exchange q3/r3 either. */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[5], ra[5];
	msgs_n(&q, AN_C2S, 4, qa);
	msgs_n(&a, AN_S2C, 4, ra);
	uint32_t hole = (uint32_t)ra[1] + 20;
	handshake(&r);
	part(&r, 100, AN_C2S, &q, 0, qa[1], 0);
	part(&r, 200, AN_C2S, &q, qa[1], qa[2] - 3, 0);
	part(&r, 210, AN_C2S, &q, qa[2] - 3, qa[2], 0);
	part(&r, 300, AN_C2S, &q, qa[2], qa[3], 0);
	part(&r, 400, AN_S2C, &a, 0, 60, (uint32_t)qa[3]);
	part(&r, 450, AN_S2C, &a, 60, ra[1], (uint32_t)qa[3]);
	part(&r, 500, AN_S2C, &a, ra[1], hole, (uint32_t)qa[3]);
	part(&r, 520, AN_S2C, &a, hole + 10, ra[3], (uint32_t)qa[3]);
	seg_at(&r, 600, AN_C2S, (uint32_t)qa[3], (uint32_t)ra[3], NULL, 0);
	part(&r, 700, AN_C2S, &q, qa[3], qa[4], (uint32_t)ra[3]);
	part(&r, 800, AN_S2C, &a, ra[3], ra[4], (uint32_t)qa[4]);
	an_engine_finish(r.e);
	char want[256];
	snprintf(want, sizeof want, "Q0 Q%zu Q%zu R0+ gap@s%u resync@s%zu R%zu Q%zu R%zu ", qa[1],
		 qa[2], hole, ra[2], ra[2], qa[3], ra[3]);
	assert_string_equal(r.log, want);
	want_msg(&r, 0, AN_C2S, qa[0], 100, 100, -1);
	want_msg(&r, 1, AN_C2S, qa[1], 200, 210, -1);
	want_msg(&r, 2, AN_C2S, qa[2], 300, 300, -1);
	want_msg(&r, 3, AN_S2C, ra[0], 400, 450, 450 - 100);
	want_msg(&r, 4, AN_S2C, ra[2], -1, -1, -1);
	want_msg(&r, 5, AN_C2S, qa[3], 700, 700, -1);
	want_msg(&r, 6, AN_S2C, ra[3], 800, 800, -1);
	jm_buf_free(&q);
	jm_buf_free(&a);
	rig_free(&r);
}

static void test_latency_after_midstream(void **state)
{
	/* Picked up mid-connection: no handshake, each direction's first
	 * captured bytes are the tail of a message (q0 from its byte 40, r0
	 * from its byte 50).  Offsets count from the first captured byte.
	 * q1 [200, 230] (its JSON header in three segments, at 200, 210 and
	 * 230: the hunt proves it only at 230, and its first byte came at 200)
	 * and q2 [300] are whole, so are r1 [500, 560] and r2 [560, 640].
	 * How many requests were unanswered when the capture began is
	 * unknown (r1 may answer one sent before q0), so no response carries
	 * a latency. */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[4], ra[4];
	msgs_n(&q, AN_C2S, 3, qa);
	msgs_n(&a, AN_S2C, 3, ra);
	jm_buf qt = {0}, at = {0};   /* what the capture holds */
	assert_int_equal(jm_buf_append(&qt, q.data + 40, q.len - 40), 0);
	assert_int_equal(jm_buf_append(&at, a.data + 50, a.len - 50), 0);
	size_t q1 = qa[1] - 40, q2 = qa[2] - 40, q3 = qa[3] - 40;
	size_t r1 = ra[1] - 50, r2 = ra[2] - 50, r3 = ra[3] - 50;
	part(&r, 100, AN_C2S, &qt, 0, q1, 0);
	part(&r, 200, AN_C2S, &qt, q1, q1 + 45, 0);
	part(&r, 210, AN_C2S, &qt, q1 + 45, q1 + 90, 0);
	part(&r, 230, AN_C2S, &qt, q1 + 90, q2, 0);
	part(&r, 300, AN_C2S, &qt, q2, q3, 0);
	part(&r, 400, AN_S2C, &at, 0, r1, (uint32_t)q3);
	part(&r, 500, AN_S2C, &at, r1, r1 + 2, (uint32_t)q3);
	part(&r, 560, AN_S2C, &at, r1 + 2, r2 + 1, (uint32_t)q3);
	part(&r, 640, AN_S2C, &at, r2 + 1, r3, (uint32_t)q3);
	an_engine_finish(r.e);
	char want[256];
	snprintf(want, sizeof want, "midstream@c0 resync@c%zu Q%zu Q%zu resync@s%zu R%zu R%zu ", q1,
		 q1, q2, r1, r1, r2);
	assert_string_equal(r.log, want);
	want_msg(&r, 0, AN_C2S, q1, 200, 230, -1);
	want_msg(&r, 1, AN_C2S, q2, 300, 300, -1);
	want_msg(&r, 2, AN_S2C, r1, 500, 560, -1);
	want_msg(&r, 3, AN_S2C, r2, 560, 640, -1);
	jm_buf_free(&q);
	jm_buf_free(&a);
	jm_buf_free(&qt);
	jm_buf_free(&at);
	rig_free(&r);
}

static void test_first_byte_after_gap(void **state)
{
	/* After a gap the hunt holds the next message's bytes until its whole
	 * JSON header is there; here that header comes in 7-byte segments, 10
	 * us apart, so the hunt holds many segments before it proves the
	 * message.  Its first byte's time is its first segment's.  q0 [100];
	 * 10 bytes inside q1 are missing (the server's ACK at 250 says so);
	 * q2 from 300 to 300 + 10 * (segments - 1); q3 [900]. */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0};
	size_t qa[5];
	msgs_n(&q, AN_C2S, 4, qa);
	uint32_t hole = (uint32_t)qa[1] + 20;
	handshake(&r);
	part(&r, 100, AN_C2S, &q, 0, qa[1], 0);
	part(&r, 200, AN_C2S, &q, qa[1], hole, 0);
	part(&r, 220, AN_C2S, &q, hole + 10, qa[2], 0);
	seg_at(&r, 250, AN_S2C, 0, (uint32_t)qa[2], NULL, 0);
	int64_t us = 300;
	size_t at = qa[2];
	while (at < qa[3]) {
		size_t end = at + 7 < qa[3] ? at + 7 : qa[3];
		part(&r, us, AN_C2S, &q, at, end, 0);
		at = end;
		us += 10;
	}
	part(&r, 900, AN_C2S, &q, qa[3], qa[4], 0);
	an_engine_finish(r.e);
	char want[256];
	snprintf(want, sizeof want, "Q0 gap@c%u resync@c%zu Q%zu Q%zu ", hole, qa[2], qa[2], qa[3]);
	assert_string_equal(r.log, want);
	want_msg(&r, 0, AN_C2S, qa[0], 100, 100, -1);
	want_msg(&r, 1, AN_C2S, qa[2], 300, us - 10, -1);
	want_msg(&r, 2, AN_C2S, qa[3], 900, 900, -1);
	jm_buf_free(&q);
	rig_free(&r);
}

static void test_first_byte_after_bad_header(void **state)
{
	/* Picked up mid-stream at a frame whose JSON header parses but lacks
	 * content-length: the hunt proves it, the decoder loses framing on
	 * it, and the hunt goes on from the bytes after it.  The next
	 * request's header starts in that same first segment (at 100) and
	 * ends two segments later (110, 120): its first byte came at 100. */
	struct rig r;
	rig_init(&r);
	jm_buf b = {0};
	static const char bad[] = "{\"byteorder\": \"little\"}";
	uint8_t ph[2] = {0, (uint8_t)(sizeof bad - 1)};
	assert_int_equal(jm_buf_append(&b, ph, 2), 0);
	assert_int_equal(jm_buf_append(&b, bad, sizeof bad - 1), 0);
	size_t m = b.len, qa[2];
	jm_buf q = {0};
	msgs_n(&q, AN_C2S, 1, qa);
	assert_int_equal(jm_buf_append(&b, q.data, q.len), 0);
	part(&r, 100, AN_C2S, &b, 0, m + 40, 0);
	part(&r, 110, AN_C2S, &b, m + 40, m + 80, 0);
	part(&r, 120, AN_C2S, &b, m + 80, b.len, 0);
	an_engine_finish(r.e);
	char want[256];
	snprintf(want, sizeof want, "midstream@c0 resync@c%zu Q%zu ", m, m);
	assert_string_equal(r.log, want);
	want_msg(&r, 0, AN_C2S, m, 100, 120, -1);
	jm_buf_free(&b);
	jm_buf_free(&q);
	rig_free(&r);
}

static void test_hunt_times_counted(void **state)
{
	/* Picked up mid-stream at a request whose bytes come one per segment,
	 * 1 us apart: the hunt holds them until the JSON header is whole, and
	 * keeps a time for each (16 bytes), which count against the caps with
	 * the bytes.  With the default caps the request is decoded, its first
	 * byte's time its first segment's; under a 1 KiB stream cap the same
	 * request in one segment is decoded, but a byte per segment passes
	 * the cap (memcap) before its header is whole. */
	jm_buf q = {0};
	size_t qa[2];
	msgs_n(&q, AN_C2S, 1, qa);
	for (int run = 0; run < 3; run++) {
		bool bytewise = run != 1;
		struct rig r;
		if (run == 0)
			rig_init(&r);
		else
			rig_init_caps(&r, 1024);
		if (bytewise)
			for (size_t i = 0; i < q.len; i++)
				part(&r, 100 + (int64_t)i, AN_C2S, &q, i, i + 1, 0);
		else
			part(&r, 100, AN_C2S, &q, 0, q.len, 0);
		an_engine_finish(r.e);
		if (run < 2) {
			assert_string_equal(r.log, "midstream@c0 Q0 ");
			want_msg(&r, 0, AN_C2S, 0, 100, bytewise ? 100 + (int64_t)q.len - 1 : 100, -1);
		} else {
			assert_non_null(strstr(r.log, "memcap@c"));
			assert_int_equal(r.n_msgs, 0);
		}
		rig_free(&r);
	}
	jm_buf_free(&q);
}

static void test_midstream_unanswered_request(void **state)
{
	/* The capture begins after the client sent a request (morpheus) and
	 * before the server answered it; the client pipelined another (ring),
	 * which the capture holds whole, and the server, which had both, sent
	 * both answers after it (its ACK covers ring).  The first answer
	 * answers the request the capture missed: pairing it with ring would
	 * give a wrong latency, so neither answer carries one. */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[3], ra[3];
	msgs_n(&q, AN_C2S, 2, qa);
	msgs_n(&a, AN_S2C, 2, ra);
	/* the capture holds request 1 (ring) from client offset 0, and both
	 * answers from server offset 0 */
	jm_buf qt = {0};
	assert_int_equal(jm_buf_append(&qt, q.data + qa[1], qa[2] - qa[1]), 0);
	part(&r, 100, AN_C2S, &qt, 0, qt.len, 0);
	part(&r, 1100, AN_S2C, &a, 0, ra[1], (uint32_t)qt.len);
	part(&r, 1200, AN_S2C, &a, ra[1], ra[2], (uint32_t)qt.len);
	an_engine_finish(r.e);
	char want[256];
	snprintf(want, sizeof want, "midstream@c0 Q0 R0 R%zu ", ra[1]);
	assert_string_equal(r.log, want);
	jm_buf_free(&q);
	jm_buf_free(&a);
	jm_buf_free(&qt);
	rig_free(&r);
}

static void test_midstream_pipelined(void **state)
{
	/* A client that keeps two requests in flight, picked up while the
	 * server sends the tail of answer A, with request B (pipelined behind
	 * A) already sent.  Request C is captured whole after that tail; the
	 * server's answer to B, sent after C arrived (its ACK covers C) and
	 * captured after C, would pass every test of acknowledgment numbers
	 * and capture order, and still answers B, not C.  No latency. */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[4], ra[4];
	msgs_n(&q, AN_C2S, 3, qa);
	msgs_n(&a, AN_S2C, 3, ra);
	jm_buf qt = {0}, at = {0};
	assert_int_equal(jm_buf_append(&qt, q.data + qa[2], qa[3] - qa[2]), 0);
	assert_int_equal(jm_buf_append(&at, a.data + 60, a.len - 60), 0);
	size_t rb = ra[1] - 60, rc = ra[2] - 60, re = ra[3] - 60;
	part(&r, 100, AN_S2C, &at, 0, rb, 0);
	part(&r, 200, AN_C2S, &qt, 0, qt.len, (uint32_t)rb);
	part(&r, 300, AN_S2C, &at, rb, rc, (uint32_t)qt.len);
	part(&r, 400, AN_S2C, &at, rc, re, (uint32_t)qt.len);
	an_engine_finish(r.e);
	char want[256];
	snprintf(want, sizeof want, "midstream@s0 Q0 resync@s%zu R%zu R%zu ", rb, rb, rc);
	assert_string_equal(r.log, want);
	jm_buf_free(&q);
	jm_buf_free(&a);
	jm_buf_free(&qt);
	jm_buf_free(&at);
	rig_free(&r);
}

static void test_no_synack(void **state)
{
	/* The client's SYN is captured, the server's SYN-ACK is not: the
	 * server's direction starts at its first captured byte, and what it
	 * sent before is unknown, so its answers are not paired.  (The
	 * client's direction is whole from its SYN.) */
	struct rig r;
	rig_init(&r);
	jm_buf q = {0}, a = {0};
	size_t qa[2], ra[2];
	msgs_n(&q, AN_C2S, 1, qa);
	msgs_n(&a, AN_S2C, 1, ra);
	seg_in(&r, AN_C2S, CAP_SYN, 0, 0, NULL, 0);
	seg_in(&r, AN_C2S, CAP_ACK, 0, 0, NULL, 0);
	part(&r, 100, AN_C2S, &q, 0, q.len, 0);
	part(&r, 200, AN_S2C, &a, 0, a.len, (uint32_t)q.len);
	an_engine_finish(r.e);
	assert_string_equal(r.log, "Q0 R0 ");
	jm_buf_free(&q);
	jm_buf_free(&a);
	rig_free(&r);
}

/* Another framing: the decoder's buffer counts against memcap and is given
 * back when its stream ends.  40 streams, one after another, each leave
 * 40000 bytes with no delimiter (a 64 KiB buffer) and are reset: under a
 * 1 MiB memcap, a buffer not given back would refuse the 17th.  Then a
 * message still decodes. */
static void test_framing_memory_given_back(void **state)
{
	struct rig r;
	memset(&r, 0, sizeof r);
	an_config c;
	an_config_defaults(&c);
	c.memcap = 1u << 20;
	assert_int_equal(jmf_resolve(&c.framing, "delimited", NULL), 0);
	an_sink sink = {.user = &r, .message = on_message, .problem = on_problem};
	r.e = an_engine_new(&c, &sink);
	assert_non_null(r.e);
	r.t = T0;
	static uint8_t big[40000];
	memset(big, 'x', sizeof big);
	char want[2048] = "";
	for (int i = 0; i < 40; i++) {
		handshake(&r);
		seg_in(&r, AN_C2S, CAP_ACK, 0, 0, big, sizeof big);
		seg_in(&r, AN_C2S, CAP_RST | CAP_ACK, sizeof big, 0, NULL, 0);
		strcat(want, "reset@c40000 ");
	}
	handshake(&r);
	seg_in(&r, AN_C2S, CAP_ACK, 0, 0, (const uint8_t *)"hello#*#", 8);
	an_engine_finish(r.e);
	strcat(want, "Q0 ");
	assert_string_equal(r.log, want);
	an_stats st;
	an_engine_stats(r.e, &st);
	assert_true(st.mem_peak >= 65536 && st.mem_peak < 2 * 65536 + 65536);
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairing_without_loss),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_pairing_after_lost_request),
		cmocka_unit_test(test_pairing_after_lost_response),
		cmocka_unit_test(test_rst_out_of_window),
		cmocka_unit_test(test_after_close),
		cmocka_unit_test(test_latency_pipelined),
		cmocka_unit_test(test_latency_after_client_gap),
		cmocka_unit_test(test_latency_after_server_gap),
		cmocka_unit_test(test_latency_after_midstream),
		cmocka_unit_test(test_first_byte_after_gap),
		cmocka_unit_test(test_first_byte_after_bad_header),
		cmocka_unit_test(test_hunt_times_counted),
		cmocka_unit_test(test_midstream_unanswered_request),
		cmocka_unit_test(test_midstream_pipelined),
		cmocka_unit_test(test_no_synack),
		cmocka_unit_test(test_framing_memory_given_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
