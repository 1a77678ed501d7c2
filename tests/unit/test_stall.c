/*
 * Unit tests of stall/stall: synthetic segments straight into the
 * tracker (no pcap), one row per behaviour: a zero window with Linux
 * probes, one-byte probes, a short zero window (no stall), a midstream
 * pickup (scale unknown), a reset ending a stall, and kernel samples
 * joining the wire view in one event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stall/stall.h"

struct rec {
	stall_event ev[8];
	int n;
	int notes;
	char note[256];
};

static void on_note(void *u, uint64_t stream, const char *note)
{
	struct rec *r = u;
	r->notes++;
	snprintf(r->note, sizeof r->note, "%s", note);
}

static void on_ev(void *u, const stall_event *ev)
{
	struct rec *r = u;
	if (r->n < 8)
		r->ev[r->n++] = *ev;
}

struct fx {
	flow_table *ft;
	stall_tracker *t;
	struct rec rec;
	flow *f;
	flow_ep c, s;
	uint64_t frame;
};

static void fx_init(struct fx *x)
{
	memset(x, 0, sizeof *x);
	x->ft = flow_table_new(16);
	stall_config cfg = {.stall_ms = 200, .plot_stream = -1};
	x->t = stall_new(&cfg, on_ev, on_note, &x->rec);
	assert_int_equal(stall_attach_table(x->t, x->ft), 0);
	x->c.addr[10] = x->c.addr[11] = 0xff;
	x->c.addr[12] = 10, x->c.addr[15] = 1;
	x->c.port = 40000;
	x->s = x->c;
	x->s.addr[15] = 2;
	x->s.port = 65432;
	flow_key k;
	bool lo;
	flow_key_make(&k, &x->c, &x->s, &lo);
	x->f = flow_table_get(x->ft, &k, true, 0, NULL);
	assert_non_null(x->f);
}

static void fx_free(struct fx *x)
{
	flow_table_free(x->ft);
	stall_free(x->t);
}

/* One segment: dir 0 client->server. */
static void seg(struct fx *x, double ts, an_dir d, uint8_t flags, uint32_t seq, uint32_t ack,
		uint16_t win, uint32_t len, int wscale)
{
	cap_segment s = {0};
	s.ts = ts;
	s.frame = ++x->frame;
	s.src = d == AN_C2S ? x->c : x->s;
	s.dst = d == AN_C2S ? x->s : x->c;
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.window = win;
	s.wscale = (int16_t)wscale;
	s.payload_wire = len;
	stall_segment(x->t, x->f, d, &s);
}

enum { A = CAP_ACK, SYN = CAP_SYN, RST = CAP_RST };

/* Handshake with scale 2 both ways; client ISN 0, server ISN 0. */
static void handshake(struct fx *x)
{
	seg(x, 0.000, AN_C2S, SYN, 0, 0, 65535, 0, 2);
	seg(x, 0.001, AN_S2C, SYN | A, 0, 1, 65535, 0, 2);
	seg(x, 0.002, AN_C2S, A, 1, 1, 1000, 0, -1);
}

static void zero_window_linux_probes(void **state)
{
	struct fx x;
	fx_init(&x);
	handshake(&x);
	seg(&x, 0.010, AN_S2C, A, 1, 1, 1000, 0, -1);      /* window 4000 */
	seg(&x, 0.020, AN_C2S, A, 1, 1, 1000, 4000, -1);   /* fills it: frame 5 */
	seg(&x, 0.021, AN_S2C, A, 1, 4001, 0, 0, -1);      /* zero window */
	seg(&x, 0.300, AN_C2S, A, 4000, 1, 1000, 0, -1);   /* probe, seq = ack - 1 */
	seg(&x, 0.300, AN_S2C, A, 1, 4001, 0, 0, -1);      /* answered */
	seg(&x, 0.700, AN_C2S, A, 4000, 1, 1000, 0, -1);   /* probe, not answered */
	seg(&x, 1.021, AN_S2C, A, 1, 4001, 1000, 0, -1);   /* window update: frame 10 */
	assert_int_equal(x.rec.n, 1);
	stall_event *e = &x.rec.ev[0];
	assert_string_equal(e->side, "server");
	assert_int_equal(e->start_frame, 5);
	assert_int_equal(e->end_frame, 10);
	assert_int_equal(e->zw_start_frame, 6);
	assert_true(e->duration_ms > 1000.9 && e->duration_ms < 1001.1);
	assert_int_equal(e->probes, 2);
	assert_int_equal(e->probe_acks, 1);
	assert_int_equal(e->window_full, 1);
	assert_int_equal(e->window_updates, 1);
	assert_int_equal(e->wscale, 2);
	assert_true(e->have_estimate);
	assert_int_equal(e->recvq_estimate, 4000);
	assert_false(e->open);
	assert_string_equal(e->ended_by, "window_opened");
	fx_free(&x);
}

static void client_stops_reading(void **state)
{
	struct fx x;
	fx_init(&x);
	handshake(&x);
	seg(&x, 0.010, AN_C2S, A, 1, 1, 500, 0, -1);       /* client window 2000 */
	seg(&x, 0.020, AN_S2C, A, 1, 1, 1000, 2000, -1);   /* server fills it */
	seg(&x, 0.021, AN_C2S, A, 1, 2001, 0, 0, -1);      /* client: zero window */
	seg(&x, 0.500, AN_S2C, A, 2000, 1, 1000, 0, -1);   /* server probes */
	seg(&x, 0.900, AN_C2S, A, 1, 2001, 500, 0, -1);
	assert_int_equal(x.rec.n, 1);
	stall_event *e = &x.rec.ev[0];
	assert_string_equal(e->side, "client");
	assert_int_equal(e->dir, AN_S2C);
	assert_int_equal(e->receiver.port, 40000);
	assert_int_equal(e->sender.port, 65432);
	assert_int_equal(e->probes, 1);
	assert_int_equal(e->start_frame, 5);
	assert_int_equal(e->end_frame, 8);
	fx_free(&x);
}

static void one_byte_probes(void **state)
{
	struct fx x;
	fx_init(&x);
	handshake(&x);
	seg(&x, 0.010, AN_S2C, A, 1, 1, 1000, 0, -1);
	seg(&x, 0.020, AN_C2S, A, 1, 1, 1000, 4000, -1);
	seg(&x, 0.021, AN_S2C, A, 1, 4001, 0, 0, -1);
	seg(&x, 0.300, AN_C2S, A, 4001, 1, 1000, 1, -1);   /* one byte at the ack */
	seg(&x, 0.300, AN_S2C, A, 1, 4001, 0, 0, -1);
	seg(&x, 0.900, AN_C2S, A, 4001, 1, 1000, 1, -1);
	seg(&x, 0.900, AN_S2C, A, 1, 4001, 0, 0, -1);
	seg(&x, 1.000, AN_S2C, A, 1, 4001, 1000, 0, -1);
	assert_int_equal(x.rec.n, 1);
	assert_int_equal(x.rec.ev[0].probes, 2);
	assert_int_equal(x.rec.ev[0].probe_acks, 2);
	fx_free(&x);
}

static void short_zero_window_is_no_stall(void **state)
{
	struct fx x;
	fx_init(&x);
	handshake(&x);
	seg(&x, 0.010, AN_S2C, A, 1, 1, 1000, 0, -1);
	seg(&x, 0.020, AN_C2S, A, 1, 1, 1000, 4000, -1);
	seg(&x, 0.021, AN_S2C, A, 1, 4001, 0, 0, -1);
	seg(&x, 0.150, AN_S2C, A, 1, 4001, 1000, 0, -1);   /* 130 ms < 200 */
	stall_flush(x.t, 0.2);
	assert_int_equal(x.rec.n, 0);
	fx_free(&x);
}

static void idle_zero_window_without_data_is_no_stall(void **state)
{
	struct fx x;
	fx_init(&x);
	handshake(&x);
	seg(&x, 0.010, AN_S2C, A, 1, 1, 0, 0, -1);         /* zero, sender idle */
	seg(&x, 2.000, AN_S2C, A, 1, 1, 1000, 0, -1);
	assert_int_equal(x.rec.n, 0);
	fx_free(&x);
}

static void midstream_scale_unknown(void **state)
{
	struct fx x;
	fx_init(&x);
	seg(&x, 0.000, AN_C2S, A, 1000, 1, 1000, 500, -1);
	seg(&x, 0.001, AN_S2C, A, 1, 1500, 0, 0, -1);
	seg(&x, 0.300, AN_C2S, A, 1499, 1, 1000, 0, -1);   /* probe */
	stall_flush(x.t, 0.5);
	assert_int_equal(x.rec.n, 1);
	stall_event *e = &x.rec.ev[0];
	assert_int_equal(e->wscale, -1);
	assert_false(e->have_estimate);
	assert_true(e->open);
	assert_string_equal(e->ended_by, "capture_end");
	assert_int_equal(e->end_frame, 0);
	fx_free(&x);
}

static void reset_ends_stall(void **state)
{
	struct fx x;
	fx_init(&x);
	handshake(&x);
	seg(&x, 0.010, AN_S2C, A, 1, 1, 1000, 0, -1);
	seg(&x, 0.020, AN_C2S, A, 1, 1, 1000, 4000, -1);
	seg(&x, 0.021, AN_S2C, A, 1, 4001, 0, 0, -1);
	seg(&x, 0.500, AN_S2C, RST | A, 1, 4001, 0, 0, -1);
	assert_int_equal(x.rec.n, 1);
	assert_string_equal(x.rec.ev[0].ended_by, "reset");
	assert_int_equal(x.rec.ev[0].end_frame, 7);
	fx_free(&x);
}

static sockdiag_sock sock(const flow_ep *l, const flow_ep *r, uint32_t rq, uint32_t wq,
			  uint64_t br, uint32_t snd_wnd)
{
	sockdiag_sock s;
	memset(&s, 0, sizeof s);
	s.family = 2;
	s.state = 1;
	s.local = *l;
	s.remote = *r;
	s.rqueue = rq;
	s.wqueue = wq;
	s.info_len = sizeof s.info;
	s.info.tcpi_bytes_received = br;
	s.info.tcpi_snd_wnd = snd_wnd;
	s.info.tcpi_notsent_bytes = wq;
	return s;
}

static void kernel_joins_wire(void **state)
{
	struct fx x;
	fx_init(&x);
	handshake(&x);
	seg(&x, 0.010, AN_S2C, A, 1, 1, 1000, 0, -1);
	/* t=0.05: Recv-Q 100, read nothing since; t=0.15: the same */
	sockdiag_sock a[2];
	sockdiag_batch b = {.socks = a, .n = 2};
	a[0] = sock(&x.s, &x.c, 100, 0, 100, 65536);
	a[1] = sock(&x.c, &x.s, 0, 5000, 0, 1000);
	b.ts = 0.05;
	stall_kernel(x.t, &b);
	a[0] = sock(&x.s, &x.c, 4000, 0, 4000, 65536);
	a[1] = sock(&x.c, &x.s, 0, 90000, 0, 0);
	b.ts = 0.15;
	stall_kernel(x.t, &b);
	seg(&x, 0.020, AN_C2S, A, 1, 1, 1000, 4000, -1);
	seg(&x, 0.021, AN_S2C, A, 1, 4001, 0, 0, -1);
	a[0] = sock(&x.s, &x.c, 4000, 0, 4000, 65536);
	a[1] = sock(&x.c, &x.s, 0, 200000, 0, 0);
	b.ts = 0.60;
	stall_kernel(x.t, &b);
	seg(&x, 0.700, AN_S2C, A, 1, 4001, 1000, 0, -1);   /* wire reopens */
	assert_int_equal(x.rec.n, 0);                      /* kernel still stuck */
	a[0] = sock(&x.s, &x.c, 0, 0, 4000, 65536);        /* read it all */
	a[1] = sock(&x.c, &x.s, 0, 0, 0, 1000);
	b.ts = 0.80;
	stall_kernel(x.t, &b);
	assert_int_equal(x.rec.n, 1);
	stall_event *e = &x.rec.ev[0];
	assert_true(e->wire && e->kernel);
	assert_true(e->kernel_start == 0.05);
	assert_true(e->kernel_end == 0.80);
	assert_int_equal(e->recvq.start, 100);
	assert_int_equal(e->recvq.peak, 4000);
	assert_int_equal(e->recvq.end, 0);
	assert_int_equal(e->sendq.peak, 200000);
	assert_string_equal(e->ended_by, "drained");
	fx_free(&x);
}

static void other_hosts_said_once(void **state)
{
	struct fx x;
	fx_init(&x);
	handshake(&x);
	seg(&x, 0.010, AN_S2C, A, 1, 1, 1000, 0, -1);
	seg(&x, 0.020, AN_C2S, A, 1, 1, 1000, 4000, -1);
	seg(&x, 0.021, AN_S2C, A, 1, 4001, 0, 0, -1);
	/* sockets of this host, none of them this stream's */
	flow_ep o = x.c;
	o.port = 1;
	sockdiag_sock a[1];
	a[0] = sock(&o, &x.s, 5, 0, 5, 0);
	sockdiag_batch b = {.socks = a, .n = 1};
	for (int i = 0; i < 3; i++) {
		b.ts = 0.1 + i * 0.1;
		stall_kernel(x.t, &b);
	}
	assert_int_equal(x.rec.notes, 1);
	assert_non_null(strstr(x.rec.note, "out of reach"));
	stall_flush(x.t, 1.0);
	assert_int_equal(x.rec.n, 1);
	assert_true(x.rec.ev[0].wire && !x.rec.ev[0].kernel);
	fx_free(&x);
}

static void json_is_one_line(void **state)
{
	struct fx x;
	fx_init(&x);
	handshake(&x);
	seg(&x, 0.010, AN_S2C, A, 1, 1, 1000, 0, -1);
	seg(&x, 0.020, AN_C2S, A, 1, 1, 1000, 4000, -1);
	seg(&x, 0.021, AN_S2C, A, 1, 4001, 0, 0, -1);
	stall_flush(x.t, 1.0);
	assert_int_equal(x.rec.n, 1);
	jm_buf b = {0};
	assert_int_equal(stall_event_json(&b, &x.rec.ev[0]), 0);
	assert_int_equal(jm_buf_append(&b, "", 1), 0);
	const char *s = (const char *)jm_buf_head(&b);
	assert_null(strchr(s, '\n'));
	size_t at;
	const char *why;
	assert_true(jm_json_valid(s, strlen(s), &at, &why));
	assert_non_null(strstr(s, "\"end\":null,\"open\":true"));
	jm_buf_free(&b);
	fx_free(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zero_window_linux_probes),
		cmocka_unit_test(client_stops_reading),
		cmocka_unit_test(one_byte_probes),
		cmocka_unit_test(short_zero_window_is_no_stall),
		cmocka_unit_test(idle_zero_window_without_data_is_no_stall),
		cmocka_unit_test(midstream_scale_unknown),
		cmocka_unit_test(reset_ends_stall),
		cmocka_unit_test(kernel_joins_wire),
		cmocka_unit_test(other_hosts_said_once),
		cmocka_unit_test(json_is_one_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
