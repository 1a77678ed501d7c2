/*
 * gen_capture: write a large, realistic capture for benchmarking the
 * analyzer: about a million packets over tens of thousands of TCP streams of
 * the tutorial's protocol, interleaved in time order as a real capture is.
 *
 *   gen_capture [-o OUT] [--packets N] [--streams N] [--seed S] ...
 *   gen_capture --concurrent [--streams N] ...
 *
 * Each stream: handshake (MSS 1460, window scale 7, SACK), then bursts of
 * pipelined keep-alive requests (1 to 4 in flight), mostly small text/json
 * searches and some binary requests of 1 to 60 KB split into MSS-sized
 * segments with an ACK every second segment, each answered in order; the
 * last request omits keep-alive, so the server answers and closes first.
 * Streams start at random (exponential) intervals and run for tens of
 * milliseconds, so about a thousand are open at once.
 *
 * --concurrent lays the streams out for a peak-memory measurement instead:
 * every handshake first, then every stream sends the first part of a
 * request, then the rest and the answer, then every close; at the middle of
 * the capture all streams are open and each holds a partial message.
 *
 * The output depends only on the flags (seeded PRNG, fixed epoch), so runs
 * are comparable.  It goes under the build directory and is never committed.
 * Streams are built one at a time as the timeline reaches them and freed
 * when done; memory is bounded by the streams open at once.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "jmsg_spec.h"

#define MSS 1460
#define EPOCH_NS (1700000000ULL * 1000000000ULL)

/* ---------------------------------------------------------------- PRNG */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* splitmix64: tiny, fast, and the same on every machine */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [lo, hi] */
static uint64_t rng_range(uint64_t lo, uint64_t hi)
{
	return lo + rng_next() % (hi - lo + 1);
}

/* A bursty interval with the given mean: a geometric number of steps plus a
 * uniform remainder.  Integer arithmetic only, so every machine draws the
 * same values (a true exponential would need log()). */
static uint64_t rng_interval(uint64_t mean)
{
	uint64_t step = mean * 2 / 3, v = 0;
	while (rng_next() & 1)
		v += step;
	return v + rng_range(0, step);
}

/* ---------------------------------------------------------------- buffers */

typedef struct buf {
	uint8_t *p;
	size_t len, cap;
} buf;

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "gen_capture: out of memory\n");
		exit(1);
	}
	return q;
}

static void buf_put(buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->len + n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void buf_str(buf *b, const char *s) { buf_put(b, s, strlen(s)); }

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff;
}

/* ---------------------------------------------------------------- messages */

/* The tutorial's framing and key order; values here never need escaping. */
static void message(buf *b, const char *type, const char *enc, const uint8_t *content,
		    size_t clen, bool keep_alive)
{
	char h[256];
	int n = snprintf(h, sizeof h,
			 "{\"byteorder\": \"little\", \"content-type\": \"%s\", "
			 "\"content-encoding\": \"%s\", \"content-length\": %zu%s}",
			 type, enc, clen, keep_alive ? ", \"connection\": \"keep-alive\"" : "");
	uint8_t ph[2];
	put16(ph, (uint16_t)n);
	buf_put(b, ph, 2);
	buf_put(b, h, (size_t)n);
	buf_put(b, content, clen);
}

static const char *const words[] = {
	"morpheus", "ring", "\xf0\x9f\x90\xb6", "neo", "trinity", "oracle", "zion",
	"nebuchadnezzar", "smith", "keymaker", "frodo", "gandalf",
};

static const char *answer(const char *v, char *tmp, size_t n)
{
	if (!strcmp(v, "morpheus")) return "Follow the white rabbit. \xf0\x9f\x90\xb0";
	if (!strcmp(v, "ring")) return "In the caves beneath the Misty Mountains. \xf0\x9f\x92\x8d";
	if (!strcmp(v, "\xf0\x9f\x90\xb6")) return "\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90";
	snprintf(tmp, n, "No match for '%s'.", v);
	return tmp;
}

/* ---------------------------------------------------------------- streams */

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16 };

typedef struct pkt {
	uint64_t t;          /* ns since the stream's start */
	uint32_t off;        /* stream offset of the first byte (SYN: -1 as 0xffffffff) */
	uint32_t ack;        /* peer's stream offset acknowledged */
	uint32_t len;
	uint16_t win;
	uint8_t dir, flags;
	bool syn_opts;
} pkt;

typedef struct stream {
	uint32_t id;
	uint64_t start;      /* ns since the capture's start */
	uint32_t isn[2];
	uint8_t addr[2][4];
	uint16_t port[2];
	buf data[2];         /* every byte each side sends */
	uint32_t next[2];    /* offset of the next new byte, FIN included */
	pkt *p;
	size_t n, cap, cur;
	uint16_t ipid[2];
	uint64_t t;          /* stream clock while building */
} stream;

static void add(stream *s, int dir, uint8_t flags, uint32_t off, uint32_t len, uint64_t dt)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->p = xrealloc(s->p, s->cap * sizeof *s->p);
	}
	s->t += dt;
	pkt *p = &s->p[s->n++];
	p->t = s->t;
	p->dir = (uint8_t)dir;
	p->flags = flags;
	p->off = off;
	p->len = len;
	p->ack = s->next[1 - dir];
	p->win = dir ? 502 : 512;   /* 64 KiB at scale 7, a little less on the server */
	p->syn_opts = (flags & F_SYN) != 0;
	uint32_t end = off + len + ((flags & (F_SYN | F_FIN)) ? 1 : 0);
	if (!(flags & F_SYN) && end > s->next[dir])
		s->next[dir] = end;
}

/* Send `len` bytes already appended to data[dir] as MSS segments; the peer
 * ACKs every second one.  `gap` is the time between segments. */
static void send_bytes(stream *s, int dir, uint32_t len, uint64_t gap, uint64_t rtt)
{
	uint32_t off = s->next[dir], end = off + len;
	int k = 0;
	while (off < end) {
		uint32_t n = end - off > MSS ? MSS : end - off;
		add(s, dir, F_ACK | (off + n == end ? F_PSH : 0), off, n, gap);
		off += n;
		if (++k % 2 == 0 && off < end)
			add(s, 1 - dir, F_ACK, s->next[1 - dir], 0, rtt / 2);
	}
}

typedef struct cfg {
	uint32_t streams;
	uint64_t packets;
	uint64_t seed;
	unsigned binary_pct;
	uint32_t max_binary;
	uint64_t rate;          /* new streams per second */
	bool concurrent;
} cfg;

static void stream_init(stream *s, uint32_t id)
{
	memset(s, 0, sizeof *s);
	s->id = id;
	uint32_t host = 0x0a010000u + id + 1;           /* 10.1.0.1 and up */
	put32(s->addr[0], host);
	put32(s->addr[1], 0xc0a80001u + (id % 4));      /* four servers 192.168.0.1-4 */
	/* Linux's ephemeral range, so no client port looks like a known service */
	s->port[0] = (uint16_t)(32768 + (id * 7919u) % 28232);
	s->port[1] = JM_SPEC_DEFAULT_PORT;
	s->isn[0] = (uint32_t)rng_next();
	s->isn[1] = (uint32_t)rng_next();
	s->ipid[0] = (uint16_t)rng_next();
	s->ipid[1] = (uint16_t)rng_next();
}

static void handshake(stream *s, uint64_t rtt)
{
	add(s, 0, F_SYN, 0xffffffffu, 0, 0);
	add(s, 1, F_SYN | F_ACK, 0xffffffffu, 0, rtt / 2);
	s->next[0] = s->next[1] = 0;
	add(s, 0, F_ACK, 0, 0, rtt / 2);
}

/* One request and its answer's bytes appended to data[0] and data[1];
 * returns the request's length (the answer's in *resp_len). */
static uint32_t exchange_bytes(stream *s, const cfg *c, bool keep_alive, uint32_t *resp_len)
{
	size_t r0 = s->data[0].len, a0 = s->data[1].len;
	char tmp[128];
	if (rng_range(1, 100) <= c->binary_pct) {
		uint32_t n = (uint32_t)rng_range(1000, c->max_binary);
		uint8_t *content = xrealloc(NULL, n);
		for (uint32_t i = 0; i < n; i++)
			content[i] = (uint8_t)("binary" "0123456789abcdef"[i % 22]);
		message(&s->data[0], "binary/custom-client-binary-type", "binary", content, n, keep_alive);
		char ans[64];
		int an = snprintf(ans, sizeof ans, "First 10 bytes of request: %.10s", (const char *)content);
		message(&s->data[1], "binary/custom-server-binary-type", "binary", (const uint8_t *)ans,
			(size_t)an, false);
		free(content);
	} else {
		const char *v = words[rng_range(0, sizeof words / sizeof words[0] - 1)];
		buf req = {0}, resp = {0};
		buf_str(&req, "{\"action\": \"search\", \"value\": \"");
		buf_str(&req, v);
		buf_str(&req, "\"}");
		buf_str(&resp, "{\"result\": \"");
		buf_str(&resp, answer(v, tmp, sizeof tmp));
		buf_str(&resp, "\"}");
		message(&s->data[0], "text/json", "utf-8", req.p, req.len, keep_alive);
		message(&s->data[1], "text/json", "utf-8", resp.p, resp.len, false);
		free(req.p);
		free(resp.p);
	}
	*resp_len = (uint32_t)(s->data[1].len - a0);
	return (uint32_t)(s->data[0].len - r0);
}

static void close_server_first(stream *s, uint64_t rtt)
{
	add(s, 1, F_FIN | F_ACK, s->next[1], 0, 20000);
	add(s, 0, F_FIN | F_ACK, s->next[0], 0, rtt / 2);
	add(s, 1, F_ACK, s->next[1], 0, rtt / 2);
}

/* A normal stream with roughly `budget` packets. */
static void build_stream(stream *s, const cfg *c, uint64_t budget)
{
	uint64_t rtt = rng_range(20000, 2000000);   /* 20 us (loopback) to 2 ms (LAN) */
	handshake(s, rtt);
	bool last = false;
	while (!last) {
		unsigned depth = (unsigned)rng_range(1, 4);
		uint32_t req[4], resp[4];
		for (unsigned i = 0; i < depth; i++) {
			/* stop before the budget runs out: a burst adds ~4 packets per request */
			last = s->n + 4 * (i + 1) + 3 >= budget;
			req[i] = exchange_bytes(s, c, !last, &resp[i]);
			send_bytes(s, 0, req[i], i ? 5000 : rng_range(1000000, 20000000), rtt);
			if (last) {
				depth = i + 1;
				break;
			}
		}
		add(s, 1, F_ACK, s->next[1], 0, rtt / 2);
		for (unsigned i = 0; i < depth; i++) {
			send_bytes(s, 1, resp[i], i ? 5000 : rng_range(50000, 500000), rtt);
			add(s, 0, F_ACK, s->next[0], 0, rtt / 2);
		}
	}
	close_server_first(s, rtt);
}

/* --concurrent: phases at fixed times so every stream is open mid-capture,
 * each holding a partial request. */
static void build_concurrent(stream *s, const cfg *c, uint64_t phase)
{
	uint64_t rtt = 40000;
	uint32_t resp_len;
	s->t = 0;
	handshake(s, rtt);
	uint32_t len = exchange_bytes(s, c, false, &resp_len);
	uint32_t part = len > 60 ? 60 : len / 2;
	/* Times are relative to the stream's start, and streams start `slot`
	 * apart, so each phase is a sweep over all streams in the same order. */
	uint64_t t1 = phase;                   /* first part of the request */
	uint64_t t2 = 2 * phase;               /* the rest and the answer */
	uint64_t t3 = 3 * phase;               /* the close */
	add(s, 0, F_ACK, 0, part, t1 - s->t);
	add(s, 1, F_ACK, s->next[1], 0, rtt / 2);
	s->t = t2 > s->t ? t2 : s->t;
	uint32_t off = part;
	while (off < len) {
		uint32_t n = len - off > MSS ? MSS : len - off;
		add(s, 0, F_ACK | (off + n == len ? F_PSH : 0), off, n, 5000);
		off += n;
	}
	send_bytes(s, 1, resp_len, 100000, rtt);
	add(s, 0, F_ACK, s->next[0], 0, rtt / 2);
	s->t = t3 > s->t ? t3 : s->t;
	close_server_first(s, rtt);
}

static void stream_free(stream *s)
{
	free(s->data[0].p);
	free(s->data[1].p);
	free(s->p);
	free(s);
}

/* ---------------------------------------------------------------- output */

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint64_t bytes_out;

static void emit(pcap_dumper_t *d, stream *s, const pkt *p)
{
	static uint8_t frame[14 + 20 + 40 + MSS + 64];
	int di = p->dir;
	uint8_t *eth = frame, *ip = frame + 14, *tcp = ip + 20;
	size_t tl = p->syn_opts ? 32 : 20;
	/* Ethernet */
	static const uint8_t mac[2][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
	memcpy(eth, mac[1 - di], 6);
	memcpy(eth + 6, mac[di], 6);
	put16(eth + 12, 0x0800);
	/* TCP */
	uint32_t seq = s->isn[di] + 1 + p->off;
	put16(tcp, s->port[di]);
	put16(tcp + 2, s->port[1 - di]);
	put32(tcp + 4, seq);
	put32(tcp + 8, (p->flags & F_ACK) ? s->isn[1 - di] + 1 + p->ack : 0);
	tcp[12] = (uint8_t)((tl / 4) << 4);
	tcp[13] = p->flags;
	put16(tcp + 14, p->syn_opts ? 64240 : p->win);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	if (p->syn_opts) {
		static const uint8_t o[12] = {2, 4, MSS >> 8, MSS & 0xff, 1, 1, 4, 2, 1, 3, 3, 7};
		memcpy(tcp + 20, o, 12);
	}
	if (p->len)
		memcpy(tcp + tl, s->data[di].p + p->off, p->len);
	/* IPv4 */
	size_t total = 20 + tl + p->len;
	ip[0] = 0x45; ip[1] = 0;
	put16(ip + 2, (uint16_t)total);
	put16(ip + 4, s->ipid[di]++);
	put16(ip + 6, 0x4000);
	ip[8] = 64; ip[9] = 6;
	put16(ip + 10, 0);
	memcpy(ip + 12, s->addr[di], 4);
	memcpy(ip + 16, s->addr[1 - di], 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	uint8_t ph[12];
	memcpy(ph, s->addr[di], 4);
	memcpy(ph + 4, s->addr[1 - di], 4);
	ph[8] = 0; ph[9] = 6;
	put16(ph + 10, (uint16_t)(tl + p->len));
	put16(tcp + 16, csum_fold(csum_add(csum_add(0, ph, 12), tcp, tl + p->len)));

	struct pcap_pkthdr h;
	uint64_t t = EPOCH_NS + s->start + p->t;
	h.ts.tv_sec = (time_t)(t / 1000000000ULL);
	h.ts.tv_usec = (suseconds_t)((t % 1000000000ULL) / 1000);
	h.caplen = h.len = (uint32_t)(14 + total);
	pcap_dump((u_char *)d, &h, frame);
	bytes_out += 16 + h.caplen;
}

/* ---------------------------------------------------------------- timeline */

/* Min-heap of open streams keyed by the time of their next packet. */
static stream **heap;
static size_t heap_n, heap_cap;

static uint64_t next_time(const stream *s) { return s->start + s->p[s->cur].t; }

static void heap_push(stream *s)
{
	if (heap_n == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 1024;
		heap = xrealloc(heap, heap_cap * sizeof *heap);
	}
	size_t i = heap_n++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (next_time(heap[up]) < next_time(s) ||
		    (next_time(heap[up]) == next_time(s) && heap[up]->id < s->id))
			break;
		heap[i] = heap[up];
		i = up;
	}
	heap[i] = s;
}

static bool before(const stream *a, const stream *b)
{
	uint64_t ta = next_time(a), tb = next_time(b);
	return ta < tb || (ta == tb && a->id < b->id);
}

static stream *heap_pop(void)
{
	stream *top = heap[0], *last = heap[--heap_n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		stream *mv = last;
		if (l < heap_n && before(heap[l], mv)) { m = l; mv = heap[l]; }
		if (r < heap_n && before(heap[r], mv)) { m = r; mv = heap[r]; }
		if (m == i)
			break;
		heap[i] = heap[m];
		i = m;
	}
	if (heap_n)
		heap[i] = last;
	return top;
}

static uint64_t parse_num(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K') { v *= 1000; end++; }
	else if (*end == 'm' || *end == 'M') { v *= 1000000; end++; }
	if (errno || *end || *s == '-' || v < min || v > max) {
		fprintf(stderr, "gen_capture: %s wants a number from %" PRIu64 " to %" PRIu64 ", got '%s'\n",
			opt, min, max, s);
		exit(2);
	}
	return v;
}

static void usage(FILE *to)
{
	fprintf(to,
		"usage: gen_capture [-o OUT] [--packets N] [--streams N] [--seed S]\n"
		"                   [--binary-pct P] [--max-binary BYTES] [--rate R]\n"
		"       gen_capture --concurrent [--streams N] [-o OUT] [--seed S]\n"
		"Writes a large pcap of jmsg traffic for benchmarks (never a test fixture).\n"
		"  -o OUT            output (default: capture.pcap, or concurrent.pcap with\n"
		"                    --concurrent, next to this program, i.e. in $BUILD/bench)\n"
		"  --packets N       about how many packets (default 1000000; k/m suffixes)\n"
		"  --streams N       TCP streams (default 50000; 100000 with --concurrent)\n"
		"  --seed S          PRNG seed; same flags and seed, same bytes (default 1)\n"
		"  --binary-pct P    percent of requests that are binary (default 10;\n"
		"                    0 with --concurrent)\n"
		"  --max-binary B    largest binary request content (default 60000, min 1000)\n"
		"  --rate R          new streams per second (default 50000)\n"
		"  --concurrent      all streams open at once mid-capture, each holding a\n"
		"                    partial request (~11 packets per stream): peak memory\n"
		"Exit status: 0 written, 1 I/O or memory error, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	int binary_pct = -1;
	cfg c = {.streams = 0, .packets = 1000000, .seed = 1, .binary_pct = 10,
		 .max_binary = 60000, .rate = 50000};
	const char *out = NULL;
	static const struct option lo[] = {
		{"packets", required_argument, NULL, 'p'},
		{"streams", required_argument, NULL, 's'},
		{"seed", required_argument, NULL, 'S'},
		{"binary-pct", required_argument, NULL, 'b'},
		{"max-binary", required_argument, NULL, 'm'},
		{"rate", required_argument, NULL, 'r'},
		{"concurrent", no_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
		switch (o) {
		case 'o': out = optarg; break;
		case 'p': c.packets = parse_num("--packets", optarg, 1, 1000000000); break;
		case 's': c.streams = (uint32_t)parse_num("--streams", optarg, 1, 10000000); break;
		case 'S': c.seed = parse_num("--seed", optarg, 0, UINT64_MAX); break;
		case 'b': binary_pct = (int)parse_num("--binary-pct", optarg, 0, 100); break;
		case 'm': c.max_binary = (uint32_t)parse_num("--max-binary", optarg, 1000, 10000000); break;
		case 'r': c.rate = parse_num("--rate", optarg, 1, 100000000); break;
		case 'c': c.concurrent = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!c.streams)
		c.streams = c.concurrent ? 100000 : 50000;
	/* concurrent: small searches unless asked, so the peak is flow state */
	c.binary_pct = binary_pct >= 0 ? (unsigned)binary_pct : c.concurrent ? 0 : 10;
	if (!c.concurrent && c.packets < (uint64_t)c.streams * 10) {
		fprintf(stderr, "gen_capture: --packets %" PRIu64 " is too few for %" PRIu32
			" streams (at least 10 per stream)\n", c.packets, c.streams);
		return 2;
	}
	char *path = NULL;
	if (!out) {
		char *self = strdup(argv[0]);
		const char *dir = dirname(self);
		const char *name = c.concurrent ? "concurrent.pcap" : "capture.pcap";
		path = xrealloc(NULL, strlen(dir) + strlen(name) + 2);
		sprintf(path, "%s/%s", dir, name);
		free(self);
		out = path;
	}
	rng_state = c.seed;

	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 262144);
	pcap_dumper_t *d = pd ? pcap_dump_open(pd, out) : NULL;
	if (!d) {
		fprintf(stderr, "gen_capture: cannot write '%s': %s\n", out, pd ? pcap_geterr(pd) : "libpcap");
		return 1;
	}
	static char iobuf[1 << 20];
	setvbuf(pcap_dump_file(d), iobuf, _IOFBF, sizeof iobuf);

	uint64_t packets = 0, peak = 0;
	uint64_t next_start = 0, left = c.packets;
	uint64_t slot = c.concurrent ? 5000 : 0;                    /* 5 us between streams */
	uint64_t phase = slot * c.streams + 100000000;              /* after the last handshake */
	uint32_t made = 0;
	while (made < c.streams || heap_n) {
		/* admit every stream whose first packet comes before the next one due */
		while (made < c.streams && (!heap_n || next_start <= next_time(heap[0]))) {
			stream *s = xrealloc(NULL, sizeof *s);
			stream_init(s, made);
			s->start = next_start;
			if (c.concurrent) {
				build_concurrent(s, &c, phase);
				next_start += slot;
			} else {
				uint64_t budget = left / (c.streams - made);
				build_stream(s, &c, budget);
				left = left > s->n ? left - s->n : 0;
				next_start += rng_interval(1000000000ULL / c.rate);
			}
			made++;
			heap_push(s);
			if (heap_n > peak)
				peak = heap_n;
		}
		stream *s = heap_pop();
		emit(d, s, &s->p[s->cur]);
		packets++;
		if (++s->cur < s->n)
			heap_push(s);
		else
			stream_free(s);
	}
	if (pcap_dump_flush(d) != 0) {
		fprintf(stderr, "gen_capture: cannot write '%s': %s\n", out, strerror(errno));
		return 1;
	}
	pcap_dump_close(d);
	pcap_close(pd);
	fprintf(stderr, "gen_capture: %s: %" PRIu64 " packets, %" PRIu32 " streams, %.1f MB, "
		"at most %" PRIu64 " streams open at once\n",
		out, packets, c.streams, (double)(bytes_out + 24) / 1e6, peak);
	free(path);
	free(heap);
	return 0;
}
