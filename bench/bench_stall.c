/*
 * bench_stall: what stall analysis costs.
 *   1. the wire tracker: ns per segment over a long synthetic bulk
 *      transfer with periodic zero-window stalls (no pcap, no engine);
 *   2. one NETLINK_SOCK_DIAG dump (with tcp_info) of N loopback
 *      connections on one port, as `jmsg sockets` and the live sampler
 *      beyond STALL_SAMPLE_TARGETS streams take it;
 *   3. exact lookups of one stream's two sockets, as the live sampler
 *      takes them for up to STALL_SAMPLE_TARGETS streams every 100 ms.
 * Usage: bench_stall [SEGMENTS] [CONNECTIONS]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "stall/stall.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t stalls;
static void on_ev(void *u, const stall_event *ev) { stalls++; }
static void on_sock(void *u, const sockdiag_sock *s) { (*(int *)u)++; }

int main(int argc, char **argv)
{
	long nseg = argc > 1 ? atol(argv[1]) : 10000000;
	int nconn = argc > 2 ? atoi(argv[2]) : 1000;

	flow_table *ft = flow_table_new(16);
	stall_config cfg = {.stall_ms = 200, .plot_stream = -1};
	stall_tracker *t = stall_new(&cfg, on_ev, NULL, NULL);
	stall_attach_table(t, ft);
	flow_ep c = {.port = 40000}, s = {.port = 65432};
	c.addr[10] = c.addr[11] = s.addr[10] = s.addr[11] = 0xff;
	c.addr[15] = 1, s.addr[15] = 2;
	flow_key k;
	bool lo;
	flow_key_make(&k, &c, &s, &lo);
	flow *f = flow_table_get(ft, &k, true, 0, NULL);
	cap_segment g = {0};
	g.wscale = -1;
	/* handshake, scale 7 */
	g.src = c, g.dst = s, g.flags = CAP_SYN, g.wscale = 7, g.window = 65535;
	stall_segment(t, f, AN_C2S, &g);
	g.src = s, g.dst = c, g.flags = CAP_SYN | CAP_ACK, g.ack = 1;
	stall_segment(t, f, AN_S2C, &g);
	g.wscale = -1;
	uint32_t seq = 1;
	double ts = 0;
	double t0 = now();
	for (long i = 0; i < nseg; i += 2) {
		ts += 0.0001;
		bool stalled = (i / 2) % 10000 > 7000;   /* 10% of the time: zero window */
		g.frame = (uint64_t)i;
		g.ts = ts;
		g.src = c, g.dst = s, g.flags = CAP_ACK, g.seq = seq, g.ack = 1, g.window = 512;
		g.payload_wire = stalled ? 0 : 1000;
		if (stalled)
			g.seq = seq - 1;                 /* Linux probe */
		stall_segment(t, f, AN_C2S, &g);
		seq += g.payload_wire;
		g.src = s, g.dst = c, g.seq = 1, g.ack = seq, g.payload_wire = 0;
		g.window = stalled ? 0 : 512;
		g.ts = ts + 0.00001;
		stall_segment(t, f, AN_S2C, &g);
	}
	double el = now() - t0;
	stall_flush(t, ts);
	printf("wire tracker: %ld segments in %.3f s: %.1f ns/segment, %llu stalls\n", nseg, el,
	       el * 1e9 / (double)nseg, (unsigned long long)stalls);
	flow_table_free(ft);
	stall_free(t);

	struct rlimit rl = {(rlim_t)nconn * 2 + 64, (rlim_t)nconn * 2 + 64};
	setrlimit(RLIMIT_NOFILE, &rl);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4096) ||
	    getsockname(l, (struct sockaddr *)&a, &al)) {
		perror("listen");
		return 1;
	}
	int made = 0;
	for (int i = 0; i < nconn; i++) {
		int cf = socket(AF_INET, SOCK_STREAM, 0);
		if (cf < 0 || connect(cf, (struct sockaddr *)&a, sizeof a))
			break;
		if (accept(l, NULL, NULL) < 0)
			break;
		made++;
	}
	uint16_t port = ntohs(a.sin_port);
	char err[200];
	sockdiag *sd = sockdiag_open(err, sizeof err);
	if (!sd) {
		fprintf(stderr, "bench_stall: %s\n", err);
		return 1;
	}
	int n = 0, rounds = 200;
	t0 = now();
	for (int r = 0; r < rounds; r++)
		sockdiag_query(sd, &port, 1, true, on_sock, &n, err, sizeof err);
	el = now() - t0;
	printf("sock_diag: %d connections (%d sockets listed per sample): %.3f ms per sample "
	       "with tcp_info, %.2f%% of one core at --sample-ms 100\n",
	       made, n / rounds, el * 1e3 / rounds, el / rounds / 0.1 * 100);
	/* exact lookups: one stream = its two sockets */
	{
		struct sockaddr_in ca = {0};
		socklen_t cl = sizeof ca;
		int cf = socket(AF_INET, SOCK_STREAM, 0);
		connect(cf, (struct sockaddr *)&a, sizeof a);
		getsockname(cf, (struct sockaddr *)&ca, &cl);
		flow_ep le = {.port = port}, re = {.port = ntohs(ca.sin_port)};
		le.addr[10] = le.addr[11] = re.addr[10] = re.addr[11] = 0xff;
		le.addr[12] = re.addr[12] = 127, le.addr[15] = re.addr[15] = 1;
		sockdiag_sock so;
		int found = 0, R = 20000;
		double b0 = now();
		for (int r = 0; r < R; r++) {
			found += sockdiag_get(sd, &le, &re, true, &so, err, sizeof err);
			found += sockdiag_get(sd, &re, &le, true, &so, err, sizeof err);
		}
		double e = (now() - b0) / R;
		printf("sock_diag exact lookups: %.1f us per stream (2 sockets, %d found per round); "
		       "256 streams: %.2f ms per sample\n", e * 1e6, found / R, e * 256 * 1e3);
	}
	sockdiag_close(sd);
	return 0;
}
