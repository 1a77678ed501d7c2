/*
 * Unit tests of stall/stall: synthetic segments straight into the
 * tracker (no pcap), one row per behaviour: a zero window with Linux
 * probes, one-byte probes, a short zero window (no stall), a midstream
 * pickup (scale unknown), a reset ending a stall, and kernel samples
 * joining the wire view in one event; and the exact JSON and text of
 * events built by hand.
 */
#include <math.h>
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

static void on_note(void *u, uint64_t stream, double ts, const char *note)
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

/* Three events by hand, every member of the output set: both views with
 * processes; wire only, open, scale unknown; kernel only, closed. */
static void events_by_hand(stall_event ev[3])
{
	memset(ev, 0, 3 * sizeof *ev);
	flow_ep c = {.port = 40000}, s = {.port = 65432};
	c.addr[10] = c.addr[11] = s.addr[10] = s.addr[11] = 0xff;
	c.addr[12] = s.addr[12] = 10;
	c.addr[15] = 1;
	s.addr[15] = 2;

	stall_event *e = &ev[0];
	e->stream = 7;
	e->dir = AN_C2S;
	e->side = "server";
	e->receiver = s;
	e->sender = c;
	e->t0 = 1700000000.0;
	e->start = 1700000000.25;
	e->end = 1700000001.5;
	e->duration_ms = 1250.0;
	e->ended_by = "window_opened";
	e->wire = true;
	e->wire_start = 1700000000.25;
	e->wire_end = 1700000001.5;
	e->start_frame = 20;
	e->end_frame = 27;
	e->zw_start = 1700000000.3;
	e->zw_end = 1700000001.5;
	e->zw_start_frame = 21;
	e->zw_end_frame = 27;
	e->wscale = 7;
	e->zero_windows = 4;
	e->window_full = 1;
	e->window_updates = 2;
	e->probes = 3;
	e->probe_acks = 2;
	e->max_inflight = 65536;
	e->have_estimate = true;
	e->recvq_estimate = 16384;
	e->kernel = true;
	e->kernel_start = 1700000000.3;
	e->kernel_end = 1700000001.4;
	e->samples = 12;
	e->recvq = (stall_fig){true, 100, 4000, 0};
	e->sendq = (stall_fig){true, 2000, 200000, 10};
	e->notsent = (stall_fig){true, 1, 2, 3};
	e->unacked = (stall_fig){false, 0, 0, 0};
	e->have_snd_wnd = true;
	e->snd_wnd = 0;
	e->have_rcv_wnd = true;
	e->rcv_wnd = 512;
	e->rwnd_limited_ms = 1100;
	e->receiver_proc = (sockdiag_proc){.pid = 4242, .fd = 5, .comm = "jmsg \"srv\""};
	e->sender_proc = (sockdiag_proc){.pid = 4343, .fd = 3, .comm = "python3"};

	e = &ev[1];
	e->stream = 18446744073709551615ULL;
	e->dir = AN_S2C;
	e->side = "client";
	e->receiver = c;
	e->sender = s;
	e->t0 = 1700000000.0;
	e->start = 1700000002.000001;
	e->end = 1700000003.0;
	e->duration_ms = 999.999;
	e->open = true;
	e->ended_by = "capture_end";
	e->wire = true;
	e->wire_start = 1700000002.000001;
	e->wire_end = 1700000003.0;
	e->start_frame = 100;
	e->wscale = -1;
	e->zero_windows = 1;

	e = &ev[2];
	e->stream = 0;
	e->dir = AN_C2S;
	e->side = "server";
	e->receiver = s;
	e->sender = c;
	e->t0 = 1700000000.0;
	e->start = 1700000004.0;
	e->end = 1700000004.5;
	e->duration_ms = 500.0;
	e->ended_by = "drained";
	e->kernel = true;
	e->kernel_start = 1700000004.0;
	e->kernel_end = 1700000004.5;
	e->samples = 5;
	e->recvq = (stall_fig){true, 7, 8, 9};
}

/* The output of an event, exactly: every member, in order, as the analyzer
 * writes it.  Any change to the JSON or the text shows here. */
static void event_output_exact(void **state)
{
	static const char *const want[3][2] = {
		{
			"{\"event\":\"stall\",\"ts\":1700000000.250000,\"stream\":7,\"side\":\"server\","
			"\"receiver\":\"10.0.0.2:65432\",\"sender\":\"10.0.0.1:40000\","
			"\"community_id\":\"1:L8XRrEJBk7ZreWMOB8SanMtkKdQ=\",\"frame\":20,\"frame_last\":27,"
			"\"start\":1700000000.250000,\"end\":1700000001.500000,\"open\":false,"
			"\"duration_ms\":1250.000,\"ended_by\":\"window_opened\","
			"\"wire\":{\"start\":1700000000.250000,\"end\":1700000001.500000,"
			"\"start_frame\":20,\"end_frame\":27,\"zero_window_start\":1700000000.300000,"
			"\"zero_window_start_frame\":21,\"zero_window_end\":1700000001.500000,"
			"\"zero_window_end_frame\":27,\"window_scale\":7,\"zero_windows\":4,"
			"\"window_full\":1,\"window_updates\":2,\"zero_window_probes\":3,"
			"\"probe_acks\":2,\"max_bytes_in_flight\":65536,\"recvq_estimate\":16384,"
			"\"recvq_estimate_from\":\"window shrinkage\"},"
			"\"kernel\":{\"start\":1700000000.300000,\"end\":1700000001.400000,"
			"\"samples\":12,\"recvq\":{\"start\":100,\"peak\":4000,\"end\":0},"
			"\"sendq\":{\"start\":2000,\"peak\":200000,\"end\":10},\"notsent\":{\"start\":1,"
			"\"peak\":2,\"end\":3},\"unacked\":null,\"snd_wnd\":0,\"rcv_wnd\":512,"
			"\"rwnd_limited_ms\":1100,\"receiver_process\":{\"pid\":4242,\"fd\":5,"
			"\"comm\":\"jmsg \\\"srv\\\"\"},\"sender_process\":{\"pid\":4343,\"fd\":3,"
			"\"comm\":\"python3\"}}}",
			"   0.250000 stall stream 7: server 10.0.0.2:65432 stopped reading "
			"10.0.0.1:40000 for 1250.0 ms (window_opened); wire: frames 20-27, 4 zero "
			"windows, 1 window full, 3 zero-window probes (2 acked), max 65536 bytes in "
			"flight, Recv-Q ~16384 (estimate); kernel: Recv-Q 100/4000/0 Send-Q "
			"2000/200000/10 (start/peak/end), rwnd_limited 1100 ms, server process jmsg "
			"\"srv\"[4242]"},
		{
			"{\"event\":\"stall\",\"ts\":1700000002.000001,\"stream\":18446744073709551615,\"side\":\"client\","
			"\"receiver\":\"10.0.0.1:40000\",\"sender\":\"10.0.0.2:65432\","
			"\"community_id\":\"1:L8XRrEJBk7ZreWMOB8SanMtkKdQ=\",\"frame\":100,\"frame_last\":105,"
			"\"start\":1700000002.000001,\"end\":null,\"open\":true,\"duration_ms\":999.999,"
			"\"ended_by\":\"capture_end\",\"wire\":{\"start\":1700000002.000001,\"end\":null,"
			"\"start_frame\":100,\"end_frame\":null,\"zero_window_start\":null,"
			"\"zero_window_start_frame\":null,\"zero_window_end\":null,"
			"\"zero_window_end_frame\":null,\"window_scale\":\"unknown\",\"zero_windows\":1,"
			"\"window_full\":0,\"window_updates\":0,\"zero_window_probes\":0,"
			"\"probe_acks\":0,\"max_bytes_in_flight\":0,\"recvq_estimate\":null},"
			"\"kernel\":null}",
			"   2.000001 stall stream 18446744073709551615: client 10.0.0.1:40000 stopped "
			"reading 10.0.0.2:65432 for 1000.0 ms, still stalled at the end of the capture "
			"(capture_end); wire: frames 100-end, 1 zero windows, 0 window full, 0 "
			"zero-window probes (0 acked), max 0 bytes in flight, window scale unknown"},
		{
			"{\"event\":\"stall\",\"ts\":1700000004.000000,\"stream\":0,\"side\":\"server\","
			"\"receiver\":\"10.0.0.2:65432\",\"sender\":\"10.0.0.1:40000\","
			"\"community_id\":\"1:L8XRrEJBk7ZreWMOB8SanMtkKdQ=\",\"frame\":null,\"frame_last\":null,"
			"\"start\":1700000004.000000,\"end\":1700000004.500000,\"open\":false,"
			"\"duration_ms\":500.000,\"ended_by\":\"drained\",\"wire\":null,"
			"\"kernel\":{\"start\":1700000004.000000,\"end\":1700000004.500000,\"samples\":5,"
			"\"recvq\":{\"start\":7,\"peak\":8,\"end\":9},\"sendq\":null,\"notsent\":null,"
			"\"unacked\":null,\"snd_wnd\":null,\"rcv_wnd\":null,\"rwnd_limited_ms\":0,"
			"\"receiver_process\":null,\"sender_process\":null}}",
			"   4.000000 stall stream 0: server 10.0.0.2:65432 stopped reading "
			"10.0.0.1:40000 for 500.0 ms (drained); kernel: Recv-Q 7/8/9 (start/peak/end), "
			"rwnd_limited 0 ms"},
	};
	stall_event ev[3];
	events_by_hand(ev);
	tf_clock clk = {.mode = TF_RELATIVE, .have_t0 = true, .t0 = (int64_t)llround(ev[0].t0 * 1e9)};
	ev[0].frame = 20;
	ev[0].frame_last = 27;
	ev[1].frame = 100;
	ev[1].frame_last = 105; /* open: the stream's latest frame */
	for (int i = 0; i < 3; i++) {
		jm_buf b = {0};
		assert_int_equal(stall_event_json(&b, &ev[i]), 0);
		assert_int_equal(jm_buf_append(&b, "", 1), 0);
		assert_string_equal((const char *)jm_buf_head(&b), want[i][0]);
		b.len = b.off = 0;
		assert_int_equal(stall_event_text(&b, &ev[i], &clk), 0);
		assert_int_equal(jm_buf_append(&b, "", 1), 0);
		assert_string_equal((const char *)jm_buf_head(&b), want[i][1]);
		jm_buf_free(&b);
	}
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
		cmocka_unit_test(event_output_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
