/*
 * Table-driven tests of tcp/stream (the engine) on its edges: memory
 * caps on contents and on the boundary hunt, framing lost and found again,
 * contents kept whole or as a prefix, the encoding warning, snapshot cuts,
 * overlap conflicts, expiry, the stream table cap, captures that start at
 * the SYN-ACK or with the server talking, reused and recently closed
 * four-tuples, and the protocol found on a port that is not configured
 * (the heuristic: held segments, out of order and retransmitted first
 * segments, the server's side, memory caps).
 *
 * Each row is a script of what a client and a server send (messages are
 * encoded with jm_encode; segments carry the sequence and acknowledgement
 * numbers real TCP would), and the log of what the engine reported:
 *
 *   B0 / B0m          stream 0 begins (m: picked up mid-stream)
 *   E0:open q1 r0 106/0 g0/0
 *                     stream 0 ends, open/closed/reset/expired, with its
 *                     requests, responses, bytes and gap bytes per direction
 *   Q0#0:2/2j         a request at offset 0, the first in its direction,
 *                     2 content bytes kept of 2; j: JSON, ~: cut, w: with a
 *                     warning, +10us: paired, with its latency, =abc: the
 *                     bytes kept of a short non-JSON content
 *   R0#0:...          a response, likewise
 *   gap@c106/106      a capture problem, its direction, offset and bytes
 *   content_not_json@c105
 *                     a codec error, its direction and offset
 *
 * Sizes used below: a message with content "{}" is 106 bytes (protoheader
 * 2, header 102, content 2, which starts at offset 104).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/stream.h"

#define CLIENT_PORT 40090

struct step {
	char op;
	an_dir d;
	const char *ctype, *enc, *content;
	uint32_t n, cap;
};

/* The script's vocabulary. */
#define HANDSHAKE {'H', AN_C2S, NULL, NULL, NULL, 0, 0}
#define MSG(d, content) {'m', d, "text/json", "utf-8", content, 0, 0}
#define MSGT(d, ctype, enc, content) {'m', d, ctype, enc, content, 0, 0}
#define RAW(d, bytes) {'r', d, NULL, NULL, bytes, sizeof(bytes) - 1, 0}
#define FILL(d, ch, n) {'z', d, NULL, NULL, ch, n, 0}
#define SEND(d, n) {'s', d, NULL, NULL, NULL, n, 0}       /* n pending bytes, 0: all */
#define SEND_CUT(d, n, cap) {'s', d, NULL, NULL, NULL, n, cap} /* only cap captured */
#define LOSE(d, n) {'l', d, NULL, NULL, NULL, n, 0}       /* sent, not captured */
#define RESEND_ALTERED(d, n) {'x', d, NULL, NULL, NULL, n, 0}
#define FIN(d) {'f', d, NULL, NULL, NULL, 0, 0}
#define RST(d) {'R', d, NULL, NULL, NULL, 0, 0}
#define ACK(d) {'a', d, NULL, NULL, NULL, 0, 0}
#define SYN(d, isn) {'S', d, NULL, NULL, NULL, isn, 0}    /* isn 0: the current one */
#define WAIT(secs) {'t', AN_C2S, NULL, NULL, NULL, secs, 0} /* then an_engine_tick */
#define CLIENT(port) {'p', AN_C2S, NULL, NULL, NULL, port, 0} /* another client port */
#define RESEND_AT(d, off, n) {'y', d, NULL, NULL, NULL, n, off} /* bytes [off, off+n) again */
#define OTHER_PORTS {'o', AN_C2S, NULL, NULL, NULL, 0, 0}
#define FINISH {'F', AN_C2S, NULL, NULL, NULL, 0, 0}
#define END {0, AN_C2S, NULL, NULL, NULL, 0, 0}

struct row {
	const char *name;
	void (*tweak)(an_config *c);
	const struct step *steps;
	const char *want;
	const char *want_stats;   /* NULL: not checked */
	const char *want_detail;  /* NULL: not checked; else in some problem's detail */
};

/* ---------------------------------------------------------------- the rig */

struct rig {
	an_engine *e;
	char log[1 << 17];
	size_t len;
	char details[2048];
	size_t dlen;
	int64_t t;
	uint16_t cport;
	uint32_t isn[2];
	uint32_t sent[2];     /* sequence space used after the ISN */
	jm_buf out[2];        /* every byte each side wrote */
	size_t pos[2];        /* how far into out[] has been sent */
	uint64_t segments_seen;
	int fini_calls;
};

static void logf_(struct rig *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->log + r->len, sizeof r->log - r->len, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof r->log - r->len);
	r->len += (size_t)n;
}

static char dirc(an_dir d) { return d == AN_C2S ? 'c' : 's'; }

static void on_stream(void *user, const an_stream_info *si)
{
	struct rig *r = user;
	if (si->phase == AN_BEGIN) {
		logf_(r, "B%llu%s ", (unsigned long long)si->s.id, si->midstream ? "m" : "");
		assert_int_equal(si->state, AN_OPEN);
		return;
	}
	logf_(r, "E%llu:%s q%llu r%llu %llu/%llu g%llu/%llu ", (unsigned long long)si->s.id,
	      an_state_name(si->state), (unsigned long long)si->requests,
	      (unsigned long long)si->responses, (unsigned long long)si->bytes[0],
	      (unsigned long long)si->bytes[1], (unsigned long long)si->gaps[0],
	      (unsigned long long)si->gaps[1]);
}

static void on_message(void *user, const an_message *m)
{
	struct rig *r = user;
	logf_(r, "%c%llu#%llu:%zu/%llu%s%s%s", m->dir == AN_C2S ? 'Q' : 'R',
	      (unsigned long long)m->offset, (unsigned long long)m->index, m->content_kept,
	      (unsigned long long)m->content_length, m->content_cut ? "~" : "",
	      m->content_is_json ? "j" : "", m->warning ? "w" : "");
	if (m->has_latency)
		logf_(r, "+%.0fus", m->latency_ms * 1000.0);
	if (!m->content_is_json && m->content_kept <= 16)
		logf_(r, "=%.*s", (int)m->content_kept, (const char *)m->content);
	logf_(r, " ");
	/* The client is the side that opened the connection, or the one the
	 * script names (CLIENT). */
	assert_int_equal(m->s.client->port, r->cport);
	assert_int_equal(m->s.server->port, JM_SPEC_DEFAULT_PORT);
}

static void on_problem(void *user, const an_problem *p)
{
	struct rig *r = user;
	if (p->is_codec)
		logf_(r, "%s@%c%llu ", jm_error_id(p->error), dirc(p->dir), (unsigned long long)p->offset);
	else
		logf_(r, "%s@%c%llu/%llu ", jm_problem_specs[p->prob].id, dirc(p->dir),
		      (unsigned long long)p->offset, (unsigned long long)p->bytes);
	int n = snprintf(r->details + r->dlen, sizeof r->details - r->dlen, "%s|",
			 p->detail ? p->detail : "");
	if (n > 0 && (size_t)n < sizeof r->details - r->dlen)
		r->dlen += (size_t)n;
}

static void on_segment(void *user, flow *f, an_dir dir, const cap_segment *seg)
{
	struct rig *r = user;
	r->segments_seen++;
	assert_non_null(f);
}

static void rig_init(struct rig *r, void (*tweak)(an_config *c))
{
	memset(r, 0, sizeof *r);
	an_config c;
	an_config_defaults(&c);
	if (tweak)
		tweak(&c);
	an_sink sink = {.user = r, .segment = on_segment, .stream = on_stream,
			.message = on_message, .problem = on_problem};
	r->e = an_engine_new(&c, &sink);
	assert_non_null(r->e);
	r->t = 1700000000LL * 1000000000LL;
	r->cport = CLIENT_PORT;
	r->isn[AN_C2S] = 999;
	r->isn[AN_S2C] = 2999;
}

static void rig_free(struct rig *r)
{
	an_engine_free(r->e);
	jm_buf_free(&r->out[0]);
	jm_buf_free(&r->out[1]);
}

static void seg_raw(struct rig *r, an_dir from, uint16_t sport, uint16_t dport, uint8_t flags,
		    uint32_t seq, uint32_t ack, const uint8_t *p, uint32_t len, uint32_t wire)
{
	cap_segment s;
	memset(&s, 0, sizeof s);
	r->t += 10000;
	s.ts_ns = r->t;
	s.ts = (double)r->t / 1e9;
	flow_ep c = {.addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}, .port = sport};
	flow_ep sv = {.addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2}, .port = dport};
	s.src = from == AN_C2S ? c : sv;
	s.dst = from == AN_C2S ? sv : c;
	if (from == AN_S2C) {
		s.src.port = sport;
		s.dst.port = dport;
	}
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.wscale = -1;
	s.payload = p;
	s.payload_len = len;
	s.payload_wire = wire;
	an_engine_segment(r->e, &s);
}

/* One segment of this connection from `d`, at its current sequence number. */
static void seg(struct rig *r, an_dir d, uint8_t flags, const uint8_t *p, uint32_t len, uint32_t wire)
{
	uint16_t sp = d == AN_C2S ? r->cport : JM_SPEC_DEFAULT_PORT;
	uint16_t dp = d == AN_C2S ? JM_SPEC_DEFAULT_PORT : r->cport;
	seg_raw(r, d, sp, dp, flags | ((flags & CAP_SYN) && d == AN_C2S ? 0 : CAP_ACK),
		r->isn[d] + 1 + r->sent[d], r->isn[!d] + 1 + r->sent[!d], p, len, wire);
}

static void run_step(struct rig *r, const struct step *s)
{
	an_dir d = s->d;
	jm_buf *o = &r->out[d];
	size_t left = o->len - r->pos[d];
	uint32_t n = s->n ? s->n : (uint32_t)left;
	switch (s->op) {
	case 'H':
		seg_raw(r, AN_C2S, r->cport, JM_SPEC_DEFAULT_PORT, CAP_SYN, r->isn[0], 0, NULL, 0, 0);
		seg_raw(r, AN_S2C, JM_SPEC_DEFAULT_PORT, r->cport, CAP_SYN | CAP_ACK, r->isn[1],
			r->isn[0] + 1, NULL, 0, 0);
		seg(r, AN_C2S, 0, NULL, 0, 0);
		break;
	case 'S':
		if (s->n) {
			r->isn[d] = s->n;
			r->sent[d] = 0;
		}
		if (d == AN_C2S)
			seg_raw(r, d, r->cport, JM_SPEC_DEFAULT_PORT, CAP_SYN, r->isn[d], 0, NULL, 0, 0);
		else
			seg_raw(r, d, JM_SPEC_DEFAULT_PORT, r->cport, CAP_SYN | CAP_ACK, r->isn[d],
				r->isn[0] + 1 + r->sent[0], NULL, 0, 0);
		break;
	case 'm':
		assert_int_equal(jm_encode(o, s->ctype, s->enc, NULL, s->content, strlen(s->content)), 0);
		break;
	case 'r':
		assert_int_equal(jm_buf_append(o, s->content, s->n), 0);
		break;
	case 'z':
		for (uint32_t i = 0; i < s->n; i++)
			assert_int_equal(jm_buf_append(o, s->content, 1), 0);
		break;
	case 's':
	case 'l':
		assert_true(n <= left);
		if (s->op == 's')
			seg(r, d, CAP_PSH, o->data + r->pos[d], s->cap ? s->cap : n, n);
		r->pos[d] += n;
		r->sent[d] += n;
		break;
	case 'x': {
		assert_true(n <= r->pos[d]);
		uint8_t alt[256];
		assert_true(n <= sizeof alt);
		for (uint32_t i = 0; i < n; i++)
			alt[i] = o->data[r->pos[d] - n + i] ^ 0x20;
		r->sent[d] -= n;
		seg(r, d, CAP_PSH, alt, n, n);
		r->sent[d] += n;
		break;
	}
	case 'y': {
		assert_true(s->cap + n <= r->pos[d]);
		uint32_t keep = r->sent[d];
		r->sent[d] = s->cap;
		seg(r, d, CAP_PSH, o->data + s->cap, n, n);
		r->sent[d] = keep;
		break;
	}
	case 'f':
		seg(r, d, CAP_FIN, NULL, 0, 0);
		r->sent[d]++;
		break;
	case 'R':
		seg(r, d, CAP_RST, NULL, 0, 0);
		break;
	case 'a':
		seg(r, d, 0, NULL, 0, 0);
		break;
	case 't':
		r->t += (int64_t)s->n * 1000000000LL;
		an_engine_tick(r->e, (double)r->t / 1e9);
		break;
	case 'p':
		r->cport = (uint16_t)s->n;
		break;
	case 'o':
		seg_raw(r, AN_C2S, 5000, 6000, CAP_PSH | CAP_ACK, 1, 1, (const uint8_t *)"x", 1, 1);
		break;
	case 'F':
		an_engine_finish(r->e);
		break;
	default:
		fail_msg("unknown step '%c'", s->op);
	}
}

static void test_row(void **state)
{
	const struct row *row = *state;
	struct rig r;
	rig_init(&r, row->tweak);
	for (const struct step *s = row->steps; s->op; s++)
		run_step(&r, s);
	if (strcmp(r.log, row->want))
		fail_msg("%s\n got: %s\nwant: %s", row->name, r.log, row->want);
	an_stats st;
	an_engine_stats(r.e, &st);
	if (row->want_stats) {
		char got[256];
		snprintf(got, sizeof got, "segments=%llu skipped=%llu after_end=%llu streams=%llu",
			 (unsigned long long)st.segments, (unsigned long long)st.skipped,
			 (unsigned long long)st.after_end, (unsigned long long)st.streams);
		if (strcmp(got, row->want_stats))
			fail_msg("%s\n got: %s\nwant: %s", row->name, got, row->want_stats);
	}
	if (row->want_detail && !strstr(r.details, row->want_detail))
		fail_msg("%s: no problem said \"%s\"; they said: %s", row->name, row->want_detail, r.details);
	rig_free(&r);
}

/* ---------------------------------------------------------------- rows */

static void max_hex_4(an_config *c) { c->max_hex = 4; }
static void full_content(an_config *c) { c->full_content = true; c->max_hex = 4; }
static void stream_cap_128(an_config *c) { c->stream_memcap = 128; }
static void global_cap_128(an_config *c) { c->memcap = 128; c->overlap_history = 0; }
static void idle_10(an_config *c) { c->idle_timeout = 10; }
static void idle_never(an_config *c) { c->idle_timeout = 0; }
static void one_stream(an_config *c) { c->max_streams = 1; }
/* The rig's server port, 65432, is then not a configured port: the
 * heuristic must find the protocol there (tcp/stream.h, "Other ports"). */
static void other_port(an_config *c) { c->ports[0] = 1; c->n_ports = 1; }
static void other_port_noheur(an_config *c) { other_port(c); c->no_heuristic = true; }
static void other_port_cap(an_config *c) { other_port(c); c->memcap = 200; }
/* A 112-byte header for 70000 bytes of binary content. */
#define BIG_HDR \
	"\x00\x70{\"byteorder\":\"little\",\"content-type\":\"binary/x\",\"content-encoding\":\"binary\"," \
	"\"content-length\":70000,\"pad\":\"abcd\"}"
#define HTTP_GET "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
/* A header with every required key but content-encoding: 76 bytes. */
#define NO_ENCODING \
	"\x00\x4c{\"byteorder\":\"little\",\"content-type\":\"text/json\",\"content-length\":2," \
	"\"x\":\"y\"}{}"

/* A JSON content of 200 bytes, {"k":"x...x"}: a message of 306 bytes. */
#define X16 "xxxxxxxxxxxxxxxx"
#define X64 X16 X16 X16 X16
#define BIG "{\"k\":\"" X64 X64 X64 "\"}"
/* A 99-byte message whose byteorder is not one of the spec's (its value
 * at offset 15), every other field good: its length is known. */
#define BAD_BYTEORDER                                                                      \
	"\x00\x5f{\"byteorder\":\"middle\",\"content-type\":\"text/json\","                    \
	"\"content-encoding\":\"utf-8\",\"content-length\":2}{}"

static const struct row rows[] = {
	/* ---- other ports (tcp/probe.c) */
	{"another port: the first data speaks the protocol, decoded as on a configured port", other_port,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), MSG(AN_S2C, "{}"),
			       SEND(AN_S2C, 0), FIN(AN_C2S), FIN(AN_S2C), FINISH, END},
	 "B0 Q0#0:2/2j R0#0:2/2j+10us E0:closed q1 r1 106/106 g0/0 ", "segments=7 skipped=0 after_end=0 streams=1", NULL},
	{"another port: HTTP is not decoded", other_port,
	 (const struct step[]){HANDSHAKE, RAW(AN_C2S, HTTP_GET), SEND(AN_C2S, 0), MSG(AN_S2C, "{}"),
			       SEND(AN_S2C, 0), FIN(AN_C2S), FIN(AN_S2C), FINISH, END},
	 "", "segments=0 skipped=7 after_end=0 streams=0", NULL},
	{"another port: a header without a required key is not decoded", other_port,
	 (const struct step[]){HANDSHAKE, RAW(AN_C2S, NO_ENCODING), SEND(AN_C2S, 0), FINISH, END},
	 "", "segments=0 skipped=4 after_end=0 streams=0", NULL},
	{"a configured port: the same header is decoded, and its error reported", NULL,
	 (const struct step[]){HANDSHAKE, RAW(AN_C2S, NO_ENCODING), SEND(AN_C2S, 0), FINISH, END},
	 "B0 header_missing_field@c2 E0:open q0 r0 80/0 g0/0 ", NULL, NULL},
	{"another port with no_heuristic: not decoded", other_port_noheur,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), FINISH, END},
	 "", "segments=0 skipped=4 after_end=0 streams=0", NULL},
	{"another port: the header split, its first segment after the second", other_port,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), LOSE(AN_C2S, 50), SEND(AN_C2S, 0),
			       RESEND_AT(AN_C2S, 0, 50), FINISH, END},
	 "B0 Q0#0:2/2j E0:open q1 r0 106/0 g0/0 ", "segments=5 skipped=0 after_end=0 streams=1", NULL},
	{"another port: the first segment retransmitted", other_port,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 50), RESEND_AT(AN_C2S, 0, 50),
			       SEND(AN_C2S, 0), FINISH, END},
	 "B0 Q0#0:2/2j E0:open q1 r0 106/0 g0/0 ", "segments=6 skipped=0 after_end=0 streams=1", NULL},
	{"another port: the client sends nothing, the server speaks first", other_port,
	 (const struct step[]){HANDSHAKE, MSG(AN_S2C, "{}"), SEND(AN_S2C, 0), FINISH, END},
	 "B0 R0#0:2/2j E0:open q0 r1 0/106 g0/0 ", "segments=4 skipped=0 after_end=0 streams=1", NULL},
	{"another port, mid-stream: the side whose first message is a response is the server", other_port,
	 (const struct step[]){MSG(AN_S2C, "{\"result\":1}"), SEND(AN_S2C, 0), MSG(AN_C2S, "{}"),
			       SEND(AN_C2S, 0), FINISH, END},
	 "B0m midstream@s0/0 R0#0:12/12j Q0#0:2/2j E0:open q1 r1 106/117 g0/0 ", "segments=2 skipped=0 after_end=0 streams=1", NULL},
	{"another port, mid-stream, no response first: the lower port is the server", other_port,
	 (const struct step[]){CLIENT(65500), MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), MSG(AN_S2C, "{}"),
			       SEND(AN_S2C, 0), FINISH, END},
	 "B0m midstream@c0/0 Q0#0:2/2j R0#0:2/2j E0:open q1 r1 106/106 g0/0 ", "segments=2 skipped=0 after_end=0 streams=1", NULL},
	{"another port, mid-stream inside a message: tested again at the next segment", other_port,
	 (const struct step[]){CLIENT(65500), MSG(AN_C2S, "{}"), LOSE(AN_C2S, 30), SEND(AN_C2S, 0),
			       MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), FINISH, END},
	 "B0m midstream@c0/0 resync@c76/76 Q76#0:2/2j E0:open q1 r0 182/0 g0/0 ", "segments=2 skipped=0 after_end=0 streams=1", NULL},
	{"another port: a new connection on the four-tuple of one that was not the protocol", other_port,
	 (const struct step[]){HANDSHAKE, RAW(AN_C2S, HTTP_GET), SEND(AN_C2S, 0), SYN(AN_C2S, 5000),
			       SYN(AN_S2C, 7000), ACK(AN_C2S), MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), FINISH, END},
	 "B0 Q0#0:2/2j E0:open q1 r0 106/0 g0/0 ", NULL, NULL},
	{"another port: a first segment longer than the hold limit, a whole message", other_port,
	 (const struct step[]){HANDSHAKE, RAW(AN_C2S, BIG_HDR), FILL(AN_C2S, "x", 70000), SEND(AN_C2S, 0),
			       FINISH, END},
	 "B0 Q0#0:1024/70000~ E0:open q1 r0 70114/0 g0/0 ", NULL, NULL},
	{"another port: held segments over the memory cap, not decoded", other_port_cap,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), FINISH, END},
	 "", "segments=0 skipped=4 after_end=0 streams=0", NULL},
	{"invalid JSON content: the message, as bytes, then the error; the next is decoded; the first answer is the bad one's",
	 NULL,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{x}"), SEND(AN_C2S, 0), MSG(AN_C2S, "{}"),
			       SEND(AN_C2S, 0), MSG(AN_S2C, "{}"), SEND(AN_S2C, 0), MSG(AN_S2C, "{}"),
			       SEND(AN_S2C, 0), FINISH, END},
	 /* the framing held: the bad request is reported, its content as bytes */
	 "B0 Q0#0:3/3={x} content_not_json@c105 Q107#1:2/2j R0#0:2/2j+20us R106#1:2/2j+20us "
	 "E0:open q2 r2 213/212 g0/0 ", NULL, NULL},
	{"a header with a bad value but a known length is a request: its answer pairs with it", NULL,
	 (const struct step[]){HANDSHAKE, RAW(AN_C2S, BAD_BYTEORDER), SEND(AN_C2S, 0), MSG(AN_C2S, "{}"),
			       SEND(AN_C2S, 0), MSG(AN_S2C, "{}"), SEND(AN_S2C, 0), FINISH, END},
	 "B0 header_field_value@c15 Q99#0:2/2j R0#0:2/2j+20us E0:open q1 r1 205/106 g0/0 ", NULL, NULL},
	{"a response with bad content is reported and answers the oldest request", NULL,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), MSG(AN_C2S, "{}"),
			       SEND(AN_C2S, 0), MSG(AN_S2C, "{x}"), SEND(AN_S2C, 0), MSG(AN_S2C, "{}"),
			       SEND(AN_S2C, 0), FINISH, END},
	 "B0 Q0#0:2/2j Q106#1:2/2j R0#0:3/3+20us={x} content_not_json@s105 R107#1:2/2j+20us "
	 "E0:open q2 r2 212/213 g0/0 ",
	 NULL, NULL},
	{"text/json in utf-16: a warning, and the content is kept as bytes", NULL,
	 (const struct step[]){HANDSHAKE, MSGT(AN_C2S, "text/json", "utf-16", "{}"), SEND(AN_C2S, 0),
			       FINISH, END},
	 "B0 content_encoding_unsupported@c75 Q0#0:2/2w={} E0:open q1 r0 107/0 g0/0 ", NULL, NULL},
	{"binary content: the first max_hex bytes are kept, across segments", max_hex_4,
	 (const struct step[]){HANDSHAKE, MSGT(AN_C2S, "binary/x", "binary", "abcdefgh"),
			       SEND(AN_C2S, 106), SEND(AN_C2S, 0), MSGT(AN_C2S, "binary/x", "binary", "xyz"),
			       SEND(AN_C2S, 0), FINISH, END},
	 "B0 Q0#0:4/8~=abcd Q112#1:3/3=xyz E0:open q2 r0 219/0 g0/0 ", NULL, NULL},
	{"full_content keeps a binary content whole", full_content,
	 (const struct step[]){HANDSHAKE, MSGT(AN_C2S, "binary/x", "binary", "abcdefgh"),
			       SEND(AN_C2S, 106), SEND(AN_C2S, 0), FINISH, END},
	 "B0 Q0#0:8/8=abcdefgh E0:open q1 r0 112/0 g0/0 ", NULL, NULL},
	{"a JSON content over the stream's memory cap is skipped, exactly", stream_cap_128,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, BIG), MSG(AN_C2S, "{}"), SEND(AN_C2S, 150),
			       SEND(AN_C2S, 0), MSG(AN_S2C, "{}"), SEND(AN_S2C, 0), FINISH, END},
	 /* the response answers the first request: its content was dropped,
	  * but its end is known, so it is a request all the same */
	 "B0 memcap@c0/200 Q306#0:2/2j R0#0:2/2j+20us E0:open q1 r1 412/106 g0/0 ", NULL,
	 "the 200-byte content of the message at offset 0 is over a memory cap; skipped"},
	{"a JSON content over the global memory cap is skipped", global_cap_128,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, BIG), MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), FINISH,
			       END},
	 "B0 memcap@c0/200 Q306#0:2/2j E0:open q1 r0 412/0 g0/0 ", NULL, NULL},
	{"the boundary hunt holds no more than the stream's cap", stream_cap_128,
	 (const struct step[]){RAW(AN_C2S, "zz\x00\xc8{\"a\": \""), SEND(AN_C2S, 0), FILL(AN_C2S, "a", 120),
			       SEND(AN_C2S, 0), MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), FINISH, END},
	 "B0m midstream@c0/0 memcap@c2/129 resync@c131/131 Q131#0:2/2j E0:open q1 r0 237/0 g0/0 ", NULL,
	 "129 bytes held while looking for a message boundary are over a memory cap; dropped"},
	{"bytes with no message start are passed over, keeping 3", NULL,
	 (const struct step[]){RAW(AN_C2S, "garbage-bytes-here"), SEND(AN_C2S, 0), MSG(AN_C2S, "{}"),
			       SEND(AN_C2S, 0), FINISH, END},
	 "B0m midstream@c0/0 resync@c18/18 Q18#0:2/2j E0:open q1 r0 124/0 g0/0 ", NULL, NULL},
	{"a candidate cut right after its '{' waits for its header", NULL,
	 (const struct step[]){RAW(AN_C2S, "zz"), MSG(AN_C2S, "{}"), SEND(AN_C2S, 5), SEND(AN_C2S, 0),
			       FINISH, END},
	 "B0m midstream@c0/0 resync@c2/2 Q2#0:2/2j E0:open q1 r0 108/0 g0/0 ", NULL, NULL},
	{"framing lost (protoheader 0): decoding resumes at the next message", NULL,
	 (const struct step[]){HANDSHAKE, RAW(AN_C2S, "\x00\x00"), MSG(AN_C2S, "{}"), SEND(AN_C2S, 0),
			       FINISH, END},
	 "B0 header_empty@c0 resync@c2/0 Q2#0:2/2j E0:open q1 r0 108/0 g0/0 ", NULL, NULL},
	{"a request whose framing is lost is where the loss begins: no answer after it is paired", NULL,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), RAW(AN_C2S, "\x00\x00"),
			       MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), MSG(AN_S2C, "{}"), SEND(AN_S2C, 0),
			       MSG(AN_S2C, "{}"), SEND(AN_S2C, 0), MSG(AN_S2C, "{}"), SEND(AN_S2C, 0), FINISH,
			       END},
	 /* how many requests the resync passed over is unknown */
	 "B0 Q0#0:2/2j header_empty@c106 resync@c108/0 Q108#1:2/2j R0#0:2/2j+20us R106#1:2/2j "
	 "R212#2:2/2j E0:open q2 r3 214/318 g0/0 ", NULL, NULL},
	{"a retransmission that differs: overlap conflict, the first copy kept", NULL,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), RESEND_ALTERED(AN_C2S, 4),
			       FINISH, END},
	 "B0 Q0#0:2/2j overlap_conflict@c102/4 E0:open q1 r0 106/0 g0/0 ", NULL,
	 "4 retransmitted bytes at offset 102 differ from the first copy, which is kept"},
	{"bytes cut by the snapshot length", NULL,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), MSG(AN_C2S, "{}"), SEND_CUT(AN_C2S, 212, 150),
			       FINISH, END},
	 "B0 Q0#0:2/2j truncated_capture@c150/62 E0:open q1 r0 150/0 g62/0 ", NULL,
	 "62 bytes at offset 150 cut by the snapshot length; the message at offset 106 is lost"},
	{"a lost message between two: a gap, no message cut", NULL,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), MSG(AN_C2S, "{}"), MSG(AN_C2S, "{}"),
			       SEND(AN_C2S, 106), LOSE(AN_C2S, 106), SEND(AN_C2S, 0), ACK(AN_S2C), FINISH,
			       END},
	 "B0 Q0#0:2/2j gap@c106/106 resync@c212/0 Q212#1:2/2j E0:open q2 r0 212/0 g106/0 ", NULL,
	 "106 bytes at offset 106 missing from the capture|"},
	{"a lost piece inside a message: the message is lost", NULL,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), MSG(AN_C2S, "{}"), SEND(AN_C2S, 150),
			       LOSE(AN_C2S, 30), SEND(AN_C2S, 0), ACK(AN_S2C), FINISH, END},
	 "B0 Q0#0:2/2j gap@c150/30 E0:open q1 r0 182/0 g30/0 ", NULL,
	 "30 bytes at offset 150 missing from the capture; the message at offset 106 is lost"},
	{"an idle stream expires", idle_10,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), WAIT(5), WAIT(6), FINISH,
			       END},
	 "B0 Q0#0:2/2j E0:expired q1 r0 106/0 g0/0 ", NULL, NULL},
	{"with idle_timeout 0 nothing expires", idle_never,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), WAIT(100000), FINISH, END},
	 "B0 Q0#0:2/2j E0:open q1 r0 106/0 g0/0 ", NULL, NULL},
	{"a full stream table ends the least recently active stream", one_stream,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), CLIENT(CLIENT_PORT + 1),
			       HANDSHAKE, FINISH, END},
	 "B0 Q0#0:2/2j memcap@c106/0 E0:expired q1 r0 106/0 g0/0 B1 E1:open q0 r0 0/0 g0/0 ", NULL,
	 "stream table full (1 streams): the least recently active stream ends"},
	{"a capture that starts at the SYN-ACK knows the client", NULL,
	 (const struct step[]){SYN(AN_S2C, 0), ACK(AN_C2S), MSG(AN_C2S, "{}"), SEND(AN_C2S, 0),
			       MSG(AN_S2C, "{}"), SEND(AN_S2C, 0), FINISH, END},
	 "B0 Q0#0:2/2j R0#0:2/2j+10us E0:open q1 r1 106/106 g0/0 ", NULL, NULL},
	{"the server talking first, without a handshake: its port says it is the server", NULL,
	 (const struct step[]){MSG(AN_S2C, "{}"), SEND(AN_S2C, 0), FINISH, END},
	 "B0m midstream@s0/0 R0#0:2/2j E0:open q0 r1 0/106 g0/0 ", NULL, NULL},
	{"segments between other ports are passed over", NULL,
	 (const struct step[]){OTHER_PORTS, FINISH, END}, "",
	 "segments=0 skipped=1 after_end=0 streams=0", NULL},
	{"a retransmitted SYN starts nothing; a SYN with another ISN a new connection", NULL,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), SYN(AN_C2S, 0),
			       SYN(AN_C2S, 5000), FINISH, END},
	 "B0 Q0#0:2/2j E0:closed q1 r0 106/0 g0/0 B1 E1:open q0 r0 0/0 g0/0 ",
	 "segments=6 skipped=0 after_end=0 streams=2", NULL},
	{"after a reset, a side that never sent starts no stream", NULL,
	 (const struct step[]){MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), RST(AN_C2S), MSG(AN_S2C, "{}"),
			       SEND(AN_S2C, 0), FINISH, END},
	 "B0m midstream@c0/0 Q0#0:2/2j reset@c106/0 E0:reset q1 r0 106/0 g0/0 ",
	 "segments=3 skipped=0 after_end=1 streams=1", NULL},
	{"60 s after a close, the same four-tuple starts a new stream", NULL,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), FIN(AN_C2S), FIN(AN_S2C),
			       MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), WAIT(61), MSG(AN_C2S, "{}"),
			       SEND(AN_C2S, 0), FINISH, END},
	 /* data right after the FINs is late (a stray retransmission): nothing */
	 "B0 Q0#0:2/2j E0:closed q1 r0 106/0 g0/0 B1m midstream@c0/0 Q0#0:2/2j E1:open q1 r0 106/0 g0/0 ",
	 "segments=8 skipped=0 after_end=1 streams=2", NULL},
	{"five requests outstanding are paired in order", NULL,
	 (const struct step[]){HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), MSG(AN_C2S, "{}"),
			       SEND(AN_C2S, 0), MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), MSG(AN_C2S, "{}"),
			       SEND(AN_C2S, 0), MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), MSG(AN_S2C, "{}"),
			       SEND(AN_S2C, 0), MSG(AN_S2C, "{}"), SEND(AN_S2C, 0), MSG(AN_S2C, "{\"a\":1}"),
			       MSG(AN_S2C, "{}"), MSG(AN_S2C, "{}"), SEND(AN_S2C, 0), FINISH, END},
	 "B0 Q0#0:2/2j Q106#1:2/2j Q212#2:2/2j Q318#3:2/2j Q424#4:2/2j R0#0:2/2j+50us "
	 "R106#1:2/2j+50us R212#2:7/7j+50us R323#3:2/2j+40us R429#4:2/2j+30us "
	 "E0:open q5 r5 530/535 g0/0 ", NULL, NULL},
};

/* ---------------------------------------------------------------- other cases */

static void test_state_names(void **state)
{
	static const struct {
		an_state s;
		const char *name;
	} names[] = {
		{AN_OPEN, "open"}, {AN_CLOSED, "closed"}, {AN_RESET, "reset"}, {AN_EXPIRED, "expired"},
		{(an_state)99, "?"},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		assert_string_equal(an_state_name(names[i].s), names[i].name);
}

static void count_fini(flow *f, void *ext, void *user)
{
	struct rig *r = user;
	uint32_t *mine = ext;
	assert_int_equal(*mine, 0xfeedu); /* the state kept for this stream */
	r->fini_calls++;
}

static void test_extension_and_defaults(void **state)
{
	/* an_config with no ports tracks the spec's port; stream_memcap 0
	 * means no per-stream cap; a module's per-stream state lives and
	 * dies with the stream. */
	struct rig r;
	memset(&r, 0, sizeof r);
	an_config c;
	memset(&c, 0, sizeof c);
	an_sink sink = {.user = &r, .segment = on_segment, .stream = on_stream, .message = on_message};
	r.e = an_engine_new(&c, &sink);
	assert_non_null(r.e);
	r.t = 1700000000LL * 1000000000LL;
	r.cport = CLIENT_PORT;
	r.isn[0] = 1;
	r.isn[1] = 2;
	int id = an_engine_add_ext(r.e, sizeof(uint32_t), count_fini, &r);
	assert_true(id >= 0);
	static const struct step steps[] = {HANDSHAKE, MSG(AN_C2S, BIG), SEND(AN_C2S, 0), END};
	for (const struct step *s = steps; s->op; s++)
		run_step(&r, s);
	flow_table *ft = an_engine_flows(r.e);
	assert_int_equal(flow_table_count(ft), 1);
	flow *f = flow_table_oldest(ft);
	assert_non_null(f);
	*(uint32_t *)flow_ext(ft, f, id) = 0xfeed;
	assert_int_equal(r.segments_seen, 4);
	an_engine_finish(r.e);
	assert_int_equal(flow_table_count(ft), 0);
	assert_int_equal(r.fini_calls, 1);
	assert_string_equal(r.log, "B0 Q0#0:200/200j E0:open q1 r0 306/0 g0/0 ");
	an_stats st;
	an_engine_stats(r.e, &st);
	assert_int_equal(st.streams, 1);
	assert_int_equal(st.requests, 1);
	assert_true(st.mem_peak >= 200);
	assert_true(st.table_mem > 0);
	rig_free(&r);
	an_engine_free(NULL);
}

static void test_requests_outstanding_bounded(void **state)
{
	/* A client that sends far more requests than it hears answers: the
	 * engine remembers at most 1024 of them, so memory stays bounded.
	 * With 1100 outstanding the oldest 76 are forgotten, and their
	 * answers, the first 76 responses, carry no latency; every later
	 * response still answers its own request.  Each message is a
	 * segment of its own, 10 us after the one before, so request i is
	 * sent at (i + 1) * 10 us and response j ends at (N + j + 1) * 10 us
	 * after the handshake: paired with request i, response j has latency
	 * (N + j - i) * 10 us, which is N * 10 us only if i == j. */
	struct rig r;
	rig_init(&r, NULL);
	enum { N = 1100, KEPT = 1024 };
	static const struct step hs[] = {HANDSHAKE, END};
	run_step(&r, &hs[0]);
	struct step req = SEND(AN_C2S, 106), resp = SEND(AN_S2C, 106);
	for (int i = 0; i < N; i++) {
		assert_int_equal(jm_encode(&r.out[AN_C2S], "text/json", "utf-8", NULL, "{}", 2), 0);
		run_step(&r, &req);
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(jm_encode(&r.out[AN_S2C], "text/json", "utf-8", NULL, "{}", 2), 0);
		run_step(&r, &resp);
	}
	an_engine_finish(r.e);
	/* The responses in the log, in order: "R<offset>#<index>:2/2j[+<us>us] " */
	int j = 0;
	for (const char *p = r.log; (p = strstr(p, " R")); j++) {
		unsigned long long off, idx;
		int n = 0;
		assert_int_equal(sscanf(p, " R%llu#%llu:2/2j%n", &off, &idx, &n), 2);
		assert_true(n > 0);
		assert_int_equal(idx, j);
		assert_int_equal(off, (unsigned long long)j * 106);
		p += n;
		if (j < N - KEPT) {
			if (*p != ' ')
				fail_msg("response %d answers a forgotten request, yet is paired: %.20s", j, p);
			continue;
		}
		long us = -1;
		if (sscanf(p, "+%ldus", &us) != 1)
			fail_msg("response %d answers request %d, which was kept, yet is not paired", j, j);
		if (us != (long)N * 10)
			fail_msg("response %d: latency %ld us, not %ld (paired with request %ld)", j, us,
				 (long)N * 10, j - (us / 10 - N));
	}
	assert_int_equal(j, N);
	an_stats st;
	an_engine_stats(r.e, &st);
	assert_int_equal(st.requests, N);
	assert_int_equal(st.responses, N);
	rig_free(&r);
}

static void test_huge_content_then_more(void **state)
{
	/* A JSON content of more than a MiB, arriving over many segments, is
	 * kept whole; the decoder that grew for it is rebuilt afterwards, and
	 * the messages after it still decode at the right offsets. */
	struct rig r;
	rig_init(&r, NULL);
	size_t n = (1u << 20) + 100000;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'x', n);
	big[0] = big[n - 1] = '"';
	big[n] = 0;
	struct step steps[] = {HANDSHAKE, MSG(AN_C2S, big), MSG(AN_C2S, "{}"), MSG(AN_C2S, "{}"), END};
	for (const struct step *s = steps; s->op; s++)
		run_step(&r, s);
	/* header 108 bytes (content-length has 7 digits) */
	size_t m1 = 2 + 108 + n;
	assert_int_equal(r.out[AN_C2S].len, m1 + 2 * 106);
	for (size_t sent = 0; sent < m1;) {
		uint32_t k = m1 - sent < 65000 ? (uint32_t)(m1 - sent) : 65000;
		struct step send = SEND(AN_C2S, k);
		run_step(&r, &send);
		sent += k;
	}
	/* the next messages in segments of their own, after the rebuild */
	struct step next = SEND(AN_C2S, 106);
	run_step(&r, &next);
	run_step(&r, &next);
	an_engine_finish(r.e);
	char want[256];
	snprintf(want, sizeof want, "B0 Q0#0:%zu/%zuj Q%zu#1:2/2j Q%zu#2:2/2j E0:open q3 r0 %zu/0 g0/0 ", n,
		 n, m1, m1 + 106, m1 + 212);
	assert_string_equal(r.log, want);
	free(big);
	rig_free(&r);
}

/* What an_engine_stats() counts of TCP that held no message (tcp/probe.c):
 * streams, payload bytes and ports, busiest first; none for a stream the
 * heuristic found. */
static void test_undecoded_counts(void **state)
{
	static const struct step http[] = {HANDSHAKE, RAW(AN_C2S, HTTP_GET), SEND(AN_C2S, 0),
					   CLIENT(CLIENT_PORT + 1), SYN(AN_C2S, 5000), SYN(AN_S2C, 7000),
					   ACK(AN_C2S), RAW(AN_C2S, HTTP_GET), SEND(AN_C2S, 0), FINISH, END};
	static const struct step good[] = {HANDSHAKE, MSG(AN_C2S, "{}"), SEND(AN_C2S, 0), FINISH, END};
	const size_t get = sizeof HTTP_GET - 1;
	struct rig r;
	an_stats st;
	rig_init(&r, other_port);
	for (const struct step *s = http; s->op; s++)
		run_step(&r, s);
	an_engine_stats(r.e, &st);
	assert_int_equal(st.undecoded_streams, 2);
	assert_int_equal(st.undecoded_bytes, 2 * get);
	assert_int_equal(st.n_undecoded_ports, 1);
	assert_int_equal(st.undecoded_port_count, 1);
	assert_int_equal(st.undecoded_ports[0], JM_SPEC_DEFAULT_PORT);
	rig_free(&r);

	rig_init(&r, other_port);
	for (const struct step *s = good; s->op; s++)
		run_step(&r, s);
	an_engine_stats(r.e, &st);
	assert_int_equal(st.streams, 1);
	assert_int_equal(st.undecoded_streams, 0);
	assert_int_equal(st.undecoded_bytes, 0);
	assert_int_equal(st.n_undecoded_ports, 0);
	rig_free(&r);
}

/* ---------------------------------------------------------------- main */

int main(void)
{
	enum { N = sizeof rows / sizeof rows[0] };
	struct CMUnitTest tests[N + 5];
	for (size_t i = 0; i < N; i++)
		tests[i] = (struct CMUnitTest){.name = rows[i].name, .test_func = test_row,
					       .initial_state = (void *)&rows[i]};
	tests[N] = (struct CMUnitTest)cmocka_unit_test(test_state_names);
	tests[N + 1] = (struct CMUnitTest)cmocka_unit_test(test_extension_and_defaults);
	tests[N + 2] = (struct CMUnitTest)cmocka_unit_test(test_requests_outstanding_bounded);
	tests[N + 3] = (struct CMUnitTest)cmocka_unit_test(test_huge_content_then_more);
	tests[N + 4] = (struct CMUnitTest)cmocka_unit_test(test_undecoded_counts);
	return cmocka_run_group_tests_name("stream engine edges", tests, NULL, NULL);
}
