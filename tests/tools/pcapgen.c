/*
 * pcapgen: write a pcap or pcapng capture of TCP conversations described by
 * a small text script, so every TCP and protocol edge case the analyzer must
 * handle has a fixture whose bytes a reviewer can read.
 *
 *   pcapgen [-l] [-x PREFIX] [-o OUT] SCRIPT
 *
 * The script language is described in full in tests/fixtures/README.md.  In
 * short: header lines choose the link type, file format, addresses and TCP
 * parameters; each "c>" (client to server) or "s>" (server to client) line
 * writes one application send (messages and raw bytes) as one or more TCP
 * segments, with options that control every segment's seq, ack, window,
 * flags and order.  Output is deterministic: the same script always gives the
 * same bytes (no clock, no randomness), which is what lets the fixtures be
 * checked for drift.
 *
 * Message bytes are built here, not by the codec in proto/, on purpose: a
 * fixture must not share a bug with the code it tests.  They follow the
 * tutorial's programs byte for byte: header keys byteorder, content-type,
 * content-encoding, content-length; separators ", " and ": "; non-ASCII kept
 * raw (Python's json.dumps(ensure_ascii=False)).
 *
 * pcap files are written with libpcap (pcap_open_dead + pcap_dump); pcapng
 * by hand (one SHB, one IDB, EPBs), since libpcap cannot write it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include "jmsg_spec.h"

#define MAX_TOKS 256
#define MAX_CONNS 64
#define MAX_SEGS 100000
#define PKT_MAX (65535 + 256)

/* ---------------------------------------------------------------- errors */

static const char *g_script = "-";
static int g_line;
static const char *g_out;   /* removed on error, so no half-written capture is left */

static void discard_output(void)
{
	if (g_out && strcmp(g_out, "-") != 0)
		unlink(g_out);
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pcapgen: %s:%d: ", g_script, g_line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	discard_output();
	exit(2);
}

static void die_io(const char *what, const char *path)
{
	fprintf(stderr, "pcapgen: cannot %s '%s': %s\n", what, path, strerror(errno));
	discard_output();
	exit(1);
}

/* ---------------------------------------------------------------- bytes */

typedef struct bytes {
	uint8_t *p;
	size_t len, cap;
} bytes;

static void b_put(bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (!np) {
			fprintf(stderr, "pcapgen: out of memory\n");
			exit(1);
		}
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void b_str(bytes *b, const char *s) { b_put(b, s, strlen(s)); }
static void b_u8(bytes *b, uint8_t v) { b_put(b, &v, 1); }

static void b_fmt(bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void b_fmt(bytes *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		die("internal: formatted text too long");
	b_put(b, tmp, (size_t)n);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff;
}
static void put32le(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = v >> 24;
}

/* ---------------------------------------------------------------- tokens */

/* A token is a run of non-blank characters; quoted parts inside it may hold
 * blanks.  "double quotes" take C-like escapes, 'single quotes' are literal.
 * `eq` is the offset of the first '=' outside quotes (key=value options). */
typedef struct tok {
	bytes v;
	int eq;
	bool quoted;   /* starts with a quote: a string, never a keyword */
} tok;

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static void put_utf8(bytes *b, uint32_t cp)
{
	uint8_t u[4];
	size_t n;
	if (cp < 0x80) { u[0] = cp; n = 1; }
	else if (cp < 0x800) { u[0] = 0xc0 | (cp >> 6); u[1] = 0x80 | (cp & 0x3f); n = 2; }
	else if (cp < 0x10000) {
		u[0] = 0xe0 | (cp >> 12); u[1] = 0x80 | ((cp >> 6) & 0x3f);
		u[2] = 0x80 | (cp & 0x3f); n = 3;
	} else if (cp <= 0x10ffff) {
		u[0] = 0xf0 | (cp >> 18); u[1] = 0x80 | ((cp >> 12) & 0x3f);
		u[2] = 0x80 | ((cp >> 6) & 0x3f); u[3] = 0x80 | (cp & 0x3f); n = 4;
	} else {
		die("\\u{%" PRIx32 "} is beyond U+10FFFF", cp);
	}
	b_put(b, u, n);
}

static const char *escape(const char *s, bytes *out)
{
	switch (*s) {
	case 'n': b_u8(out, '\n'); return s + 1;
	case 'r': b_u8(out, '\r'); return s + 1;
	case 't': b_u8(out, '\t'); return s + 1;
	case '0': b_u8(out, 0); return s + 1;
	case '\\': case '"': case '\'': b_u8(out, (uint8_t)*s); return s + 1;
	case 'x': {
		int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);
		if (h < 0 || l < 0)
			die("\\x needs two hex digits");
		b_u8(out, (uint8_t)(h << 4 | l));
		return s + 3;
	}
	case 'u': {
		if (s[1] != '{')
			die("write \\u{HEX} for a code point");
		uint32_t cp = 0;
		const char *p = s + 2;
		int n = 0;
		for (; hexval(*p) >= 0 && n < 8; p++, n++)
			cp = cp << 4 | (uint32_t)hexval(*p);
		if (*p != '}' || n == 0)
			die("bad \\u{...} escape");
		put_utf8(out, cp);
		return p + 1;
	}
	default:
		die("unknown escape \\%c", *s ? *s : '?');
	}
}

static int tokenize(const char *line, tok *toks, int max)
{
	int n = 0;
	const char *s = line;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (!*s || *s == '#')
			return n;
		if (n == max)
			die("too many words on one line");
		tok *t = &toks[n++];
		memset(t, 0, sizeof *t);
		t->eq = -1;
		t->quoted = (*s == '"' || *s == '\'');
		while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') {
			if (*s == '"') {
				for (s++; *s != '"'; ) {
					if (!*s || *s == '\n')
						die("unterminated \"string\"");
					if (*s == '\\')
						s = escape(s + 1, &t->v);
					else
						b_u8(&t->v, (uint8_t)*s++);
				}
				s++;
			} else if (*s == '\'') {
				for (s++; *s != '\''; s++) {
					if (!*s || *s == '\n')
						die("unterminated 'string'");
					b_u8(&t->v, (uint8_t)*s);
				}
				s++;
			} else {
				if (*s == '=' && t->eq < 0)
					t->eq = (int)t->v.len;
				b_u8(&t->v, (uint8_t)*s++);
			}
		}
		b_u8(&t->v, 0);   /* NUL-terminate for word comparisons */
		t->v.len--;
		if (t->quoted)
			t->eq = -1;
	}
}

static bool is_word(const tok *t, const char *w)
{
	return !t->quoted && t->eq < 0 && strcmp((const char *)t->v.p, w) == 0;
}

static const char *tstr(const tok *t) { return (const char *)t->v.p; }

/* Value of key=value, or NULL when `t` is not that option. */
static const char *opt_val(const tok *t, const char *key)
{
	size_t kl = strlen(key);
	if (t->eq < 0 || (size_t)t->eq != kl || memcmp(t->v.p, key, kl) != 0)
		return NULL;
	return (const char *)t->v.p + kl + 1;
}

static uint64_t parse_u64(const char *s, uint64_t max, const char *what)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		die("%s: '%s' is not a number", what, s);
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		die("%s: '%s' is not a number from 0 to %" PRIu64, what, s, max);
	return v;
}

/* Seconds with up to nine decimals, to nanoseconds, without floating point
 * (so timestamps are exact and identical on every machine). */
static uint64_t parse_secs(const char *s, const char *what)
{
	uint64_t sec = 0, ns = 0;
	const char *p = s;
	if (!*p)
		die("%s: empty time", what);
	for (; *p >= '0' && *p <= '9'; p++) {
		sec = sec * 10 + (uint64_t)(*p - '0');
		if (sec > 100000000000ULL)
			die("%s: '%s' is too large", what, s);
	}
	if (*p == '.') {
		uint64_t scale = 100000000;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (!scale)
				die("%s: '%s' has more than 9 decimals", what, s);
			ns += (uint64_t)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p)
		die("%s: '%s' is not a time in seconds", what, s);
	return sec * 1000000000ULL + ns;
}

/* ---------------------------------------------------------------- output */

enum link { L_ETHERNET, L_VLAN, L_NULL, L_LOOP, L_SLL, L_SLL2, L_RAW };
static const struct { const char *name; int dlt; uint32_t linktype; } links[] = {
	[L_ETHERNET] = {"ethernet", DLT_EN10MB, 1},
	[L_VLAN] = {"vlan", DLT_EN10MB, 1},
	[L_NULL] = {"null", DLT_NULL, 0},
	[L_LOOP] = {"loop", DLT_LOOP, 108},
	[L_SLL] = {"sll", DLT_LINUX_SLL, 113},
	[L_SLL2] = {"sll2", DLT_LINUX_SLL2, 276},
	[L_RAW] = {"raw", DLT_RAW, 101},
};

static struct {
	enum link link;
	uint16_t vlan[4];
	int n_vlan;
	bool pcapng;
	bool nsec;
	uint32_t snaplen;
	uint64_t start_ns, now_ns, tick_ns;
	uint64_t last_ns;       /* time of the last packet written */
	const char *byteorder;
	uint8_t ip6ext[4];    /* next-header numbers of extension headers, in order */
	int n_ip6ext;
	/* writers */
	const char *out_path;
	pcap_t *pd;
	pcap_dumper_t *dumper;
	FILE *ng;
	bool started;
	uint64_t packets;
	bool list;
	const char *stream_prefix;   /* -x PREFIX */
	FILE *packets_to;            /* -t FILE */
} G = {
	.link = L_ETHERNET,
	.snaplen = 262144,
	.start_ns = 1700000000ULL * 1000000000ULL,
	.tick_ns = 10000,
	.byteorder = "little",
};

static void ng_block(uint32_t type, const bytes *body)
{
	uint8_t h[8], t[4];
	uint32_t total = 12 + (uint32_t)((body->len + 3) & ~(size_t)3);
	static const uint8_t pad[4];
	put32le(h, type);
	put32le(h + 4, total);
	put32le(t, total);
	if (fwrite(h, 1, 8, G.ng) != 8 || fwrite(body->p, 1, body->len, G.ng) != body->len ||
	    fwrite(pad, 1, (4 - body->len % 4) % 4, G.ng) != (4 - body->len % 4) % 4 ||
	    fwrite(t, 1, 4, G.ng) != 4)
		die_io("write", G.out_path);
}

static void ng_option(bytes *b, uint16_t code, const void *v, uint16_t len)
{
	uint8_t h[4] = {code & 0xff, code >> 8, len & 0xff, len >> 8};
	static const uint8_t pad[4];
	b_put(b, h, 4);
	b_put(b, v, len);
	b_put(b, pad, (4 - len % 4) % 4);
}

static void out_start(void)
{
	if (G.started)
		return;
	G.started = true;
	g_out = G.out_path;
	if (!G.pcapng) {
		G.pd = pcap_open_dead_with_tstamp_precision(links[G.link].dlt, (int)G.snaplen,
			G.nsec ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
		if (!G.pd)
			die("libpcap cannot open a %s capture", links[G.link].name);
		G.dumper = pcap_dump_open(G.pd, G.out_path);
		if (!G.dumper) {
			fprintf(stderr, "pcapgen: cannot write '%s': %s\n", G.out_path, pcap_geterr(G.pd));
			exit(1);
		}
		return;
	}
	G.ng = strcmp(G.out_path, "-") ? fopen(G.out_path, "wb") : stdout;
	if (!G.ng)
		die_io("write", G.out_path);
	bytes b = {0};
	uint8_t shb[16];
	put32le(shb, 0x1A2B3C4D);           /* byte-order magic */
	shb[4] = 1; shb[5] = 0; shb[6] = 0; shb[7] = 0; /* version 1.0 */
	memset(shb + 8, 0xff, 8);           /* section length unknown */
	b_put(&b, shb, 16);
	ng_option(&b, 4, "jmsg pcapgen", 12);   /* shb_userappl */
	ng_option(&b, 0, NULL, 0);
	ng_block(0x0A0D0D0A, &b);
	b.len = 0;
	uint8_t idb[8];
	put32le(idb, links[G.link].linktype);   /* linktype (16) + reserved (16) */
	put32le(idb + 4, G.snaplen);
	b_put(&b, idb, 8);
	ng_option(&b, 2, "lo", 2);              /* if_name */
	if (G.nsec) {
		uint8_t r = 9;
		ng_option(&b, 9, &r, 1);        /* if_tsresol: 10^-9 */
	}
	ng_option(&b, 0, NULL, 0);
	ng_block(0x00000001, &b);
	free(b.p);
}

static void out_packet(const uint8_t *p, size_t len)
{
	uint32_t caplen = len > G.snaplen ? G.snaplen : (uint32_t)len;
	uint64_t t = G.now_ns;
	out_start();
	G.packets++;
	if (!G.pcapng) {
		struct pcap_pkthdr h;
		h.ts.tv_sec = (time_t)(t / 1000000000ULL);
		h.ts.tv_usec = (suseconds_t)(G.nsec ? t % 1000000000ULL : (t % 1000000000ULL) / 1000);
		h.caplen = caplen;
		h.len = (uint32_t)len;
		pcap_dump((u_char *)G.dumper, &h, p);
	} else {
		uint64_t ts = G.nsec ? t : t / 1000;
		bytes b = {0};
		uint8_t e[20];
		put32le(e, 0);                  /* interface 0 */
		put32le(e + 4, (uint32_t)(ts >> 32));
		put32le(e + 8, (uint32_t)ts);
		put32le(e + 12, caplen);
		put32le(e + 16, (uint32_t)len);
		b_put(&b, e, 20);
		b_put(&b, p, caplen);
		while (b.len % 4)
			b_u8(&b, 0);
		ng_block(0x00000006, &b);
		free(b.p);
	}
	G.last_ns = t;
	G.now_ns = t + G.tick_ns;
}

static void out_finish(void)
{
	out_start();   /* an empty script still makes a valid, empty capture */
	if (G.dumper) {
		if (pcap_dump_flush(G.dumper) != 0)
			die_io("write", G.out_path);
		pcap_dump_close(G.dumper);
		pcap_close(G.pd);
	}
	if (G.ng && G.ng != stdout && fclose(G.ng) != 0)
		die_io("write", G.out_path);
}

/* ---------------------------------------------------------------- TCP */

enum { F_FIN = 1, F_SYN = 2, F_RST = 4, F_PSH = 8, F_ACK = 16, F_URG = 32, F_ECE = 64, F_CWR = 128 };

typedef struct dir {
	uint32_t isn;
	int64_t next;       /* stream offset of the next new byte (SYN = -1, FIN counts) */
	int64_t una;        /* highest offset the peer has acknowledged */
	bool any_ack_seen;
	uint16_t win;       /* window field in non-SYN segments */
	uint16_t syn_win;
	int wscale;         /* -1: no window-scale option */
	uint16_t mss;
	uint16_t ipid;
	uint32_t tsval_last;
} dir;

typedef struct conn {
	char name[32];
	bool v6;
	uint8_t addr[2][16];
	uint16_t port[2];
	dir d[2];           /* 0: client to server, 1: server to client */
	bool ts, sack;
	bool used;
	bytes app[2];       /* -x: each direction's stream as the sender wrote it */
	bytes have[2];      /* 1 where app[] holds a byte */
	int order;          /* 1 + rank of its first packet in the capture; 0: none yet */
} conn;

static int n_conns_seen;

static conn conns[MAX_CONNS];
static int n_conns;
static conn *cur;

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

typedef struct seg {
	uint8_t flags;
	int64_t seq_off;     /* stream offset (SYN: -1) */
	bool ack_raw_set;
	uint32_t ack_raw;
	uint16_t win;
	bool syn_opts;
	const uint8_t *data;
	size_t len;
} seg;

static uint32_t raw_seq(const dir *d, int64_t off)
{
	return (uint32_t)((uint64_t)d->isn + 1 + (uint64_t)off);
}

/* -t: one line per packet written, for tests that work out from the
 * script alone when each byte reached the capture:
 *   N TIME_NS CONN DIR SEQ LEN CAPLEN FLAGS
 * N counts packets from 1, TIME_NS is the timestamp as the file holds it
 * (microseconds unless tsresol nsec), in nanoseconds since 1970, CONN numbers
 * connections by first packet from 0 (as -x and tshark do), DIR is c or
 * s, SEQ the stream offset of the first payload byte (-1 for a SYN), LEN
 * the payload bytes sent, CAPLEN those the snapshot length kept, FLAGS
 * the TCP flags as letters (FSRPAUEC) or '.' for none. */
static void list_packet(const conn *c, int di, const seg *s, size_t hdrs)
{
	static const char letters[] = "FSRPAUEC";
	char fl[9];
	int n = 0;
	for (int i = 0; i < 8; i++)
		if (s->flags & (1 << i))
			fl[n++] = letters[i];
	if (!n)
		fl[n++] = '.';
	fl[n] = 0;
	size_t caplen = hdrs + s->len > G.snaplen ? G.snaplen : hdrs + s->len;
	size_t cap_payload = caplen > hdrs ? caplen - hdrs : 0;
	fprintf(G.packets_to, "%" PRIu64 " %" PRIu64 " %d %c %" PRId64 " %zu %zu %s\n",
		G.packets + 1, G.nsec ? G.now_ns : G.now_ns / 1000 * 1000, c->order - 1, di ? 's' : 'c', s->seq_off, s->len,
		cap_payload, fl);
}

static void emit(conn *c, int di, const seg *s)
{
	static uint8_t pkt[PKT_MAX];
	dir *d = &c->d[di], *peer = &c->d[1 - di];
	uint8_t tcp[60];
	size_t tl = 20;

	/* TCP options */
	if (s->syn_opts) {
		tcp[tl++] = 2; tcp[tl++] = 4; put16(tcp + tl, d->mss); tl += 2;
		if (c->sack && c->ts) { tcp[tl++] = 4; tcp[tl++] = 2; }
		else if (c->ts || c->sack) { tcp[tl++] = 1; tcp[tl++] = 1; }
		if (c->sack && !c->ts) { tcp[tl++] = 4; tcp[tl++] = 2; }
	} else if (c->ts) {
		tcp[tl++] = 1; tcp[tl++] = 1;
	}
	if (c->ts) {
		uint32_t tsval = (uint32_t)((G.now_ns - G.start_ns) / 1000000ULL + (di ? 7000000 : 1000000));
		tcp[tl++] = 8; tcp[tl++] = 10;
		put32(tcp + tl, tsval);
		put32(tcp + tl + 4, (s->flags & F_SYN) && !(s->flags & F_ACK) ? 0 : peer->tsval_last);
		tl += 8;
		d->tsval_last = tsval;
	}
	if (s->syn_opts && d->wscale >= 0) {
		tcp[tl++] = 1; tcp[tl++] = 3; tcp[tl++] = 3; tcp[tl++] = (uint8_t)d->wscale;
	}

	uint32_t ack = s->ack_raw_set ? s->ack_raw : raw_seq(peer, peer->next);
	put16(tcp, c->port[di]);
	put16(tcp + 2, c->port[1 - di]);
	put32(tcp + 4, (uint32_t)((uint64_t)d->isn + 1 + (uint64_t)s->seq_off));
	put32(tcp + 8, (s->flags & F_ACK) ? ack : 0);
	tcp[12] = (uint8_t)((tl / 4) << 4);
	tcp[13] = s->flags;
	put16(tcp + 14, s->win);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);

	/* what the peer learns from this ACK (for probes and listings) */
	if (s->flags & F_ACK) {
		int64_t off = (int64_t)(int32_t)(ack - raw_seq(peer, 0));
		if (!peer->any_ack_seen || off > peer->una)
			peer->una = off;
		peer->any_ack_seen = true;
	}

	/* network layer */
	uint8_t ip[40 + 4 * 24];
	size_t il;
	size_t seglen = tl + s->len;
	uint32_t sum;
	if (!c->v6) {
		if (20 + seglen > 65535)
			die("a segment of %zu bytes does not fit in one IPv4 packet; use split= or mss", s->len);
		il = 20;
		ip[0] = 0x45; ip[1] = 0;
		put16(ip + 2, (uint16_t)(20 + seglen));
		put16(ip + 4, d->ipid++);
		put16(ip + 6, 0x4000);           /* DF, as Linux sends TCP */
		ip[8] = 64; ip[9] = 6;
		put16(ip + 10, 0);
		memcpy(ip + 12, c->addr[di], 4);
		memcpy(ip + 16, c->addr[1 - di], 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		uint8_t ph[12];
		memcpy(ph, c->addr[di], 4);
		memcpy(ph + 4, c->addr[1 - di], 4);
		ph[8] = 0; ph[9] = 6; put16(ph + 10, (uint16_t)seglen);
		sum = csum_add(0, ph, 12);
	} else {
		size_t extlen = 0;
		for (int i = 0; i < G.n_ip6ext; i++)
			extlen += G.ip6ext[i] == 43 ? 24 : 8;
		if (extlen + seglen > 65535)
			die("a segment of %zu bytes does not fit in one IPv6 packet; use split= or mss", s->len);
		il = 40 + extlen;
		put32(ip, 0x60000000);
		put16(ip + 4, (uint16_t)(extlen + seglen));
		ip[6] = G.n_ip6ext ? G.ip6ext[0] : 6;
		ip[7] = 64;
		memcpy(ip + 8, c->addr[di], 16);
		memcpy(ip + 24, c->addr[1 - di], 16);
		uint8_t *e = ip + 40;
		for (int i = 0; i < G.n_ip6ext; i++) {
			size_t el = G.ip6ext[i] == 43 ? 24 : 8;
			memset(e, 0, el);
			e[0] = i + 1 < G.n_ip6ext ? G.ip6ext[i + 1] : 6;
			if (G.ip6ext[i] == 44) {
				/* atomic fragment: offset 0, M=0, an identification */
				put32(e + 4, 0x6a6d7367);
			} else if (G.ip6ext[i] == 43) {
				/* segment routing header at its last segment: one entry,
				 * the destination itself, nothing left to visit */
				e[1] = 2; e[2] = 4; e[3] = 0; e[4] = 0;
				memcpy(e + 8, c->addr[1 - di], 16);
			} else {
				/* hop-by-hop or destination options: one PadN of 4 */
				e[1] = 0; e[2] = 1; e[3] = 4;
			}
			e += el;
		}
		uint8_t ph[40];
		memcpy(ph, c->addr[di], 16);
		memcpy(ph + 16, c->addr[1 - di], 16);
		put32(ph + 32, (uint32_t)seglen);
		ph[36] = ph[37] = ph[38] = 0; ph[39] = 6;
		sum = csum_add(0, ph, 40);
	}
	sum = csum_add(sum, tcp, tl);
	sum = csum_add(sum, s->data, s->len);
	put16(tcp + 16, csum_fold(sum));

	/* link layer */
	size_t ll = 0;
	uint16_t etype = c->v6 ? 0x86dd : 0x0800;
	uint8_t mac_src[6] = {0x02, 0, 0, 0, 0, (uint8_t)(di + 1)};
	uint8_t mac_dst[6] = {0x02, 0, 0, 0, 0, (uint8_t)(2 - di)};
	switch (G.link) {
	case L_ETHERNET:
	case L_VLAN:
		memcpy(pkt, mac_dst, 6);
		memcpy(pkt + 6, mac_src, 6);
		ll = 12;
		for (int i = 0; i < G.n_vlan; i++) {
			/* 802.1ad outer tag when stacked, 802.1Q for the innermost */
			put16(pkt + ll, (G.n_vlan > 1 && i + 1 < G.n_vlan) ? 0x88a8 : 0x8100);
			put16(pkt + ll + 2, G.vlan[i]);
			ll += 4;
		}
		put16(pkt + ll, etype);
		ll += 2;
		break;
	case L_NULL:   /* host byte order of the capturing machine: little endian */
		put32le(pkt, c->v6 ? 30 : 2);
		ll = 4;
		break;
	case L_LOOP:   /* network byte order, OpenBSD's AF_INET6 */
		put32(pkt, c->v6 ? 24 : 2);
		ll = 4;
		break;
	case L_SLL:
		put16(pkt, di == 0 ? 4 : 0);   /* outgoing from the client / to us */
		put16(pkt + 2, 1);             /* ARPHRD_ETHER */
		put16(pkt + 4, 6);
		memcpy(pkt + 6, mac_src, 6);
		pkt[12] = pkt[13] = 0;
		put16(pkt + 14, etype);
		ll = 16;
		break;
	case L_SLL2:
		put16(pkt, etype);
		put16(pkt + 2, 0);
		put32(pkt + 4, 2);             /* interface index */
		put16(pkt + 8, 1);             /* ARPHRD_ETHER */
		pkt[10] = di == 0 ? 4 : 0;
		pkt[11] = 6;
		memcpy(pkt + 12, mac_src, 6);
		pkt[18] = pkt[19] = 0;
		ll = 20;
		break;
	case L_RAW:
		break;
	}
	memcpy(pkt + ll, ip, il);
	memcpy(pkt + ll + il, tcp, tl);
	if (s->len)
		memcpy(pkt + ll + il + tl, s->data, s->len);
	if (!c->order)
		c->order = ++n_conns_seen;
	if (G.packets_to)
		list_packet(c, di, s, ll + il + tl);
	out_packet(pkt, ll + il + tl + s->len);
}

/* ---------------------------------------------------------------- messages */

/* A JSON string as Python's json.dumps(ensure_ascii=False) writes it. */
static void json_string(bytes *b, const uint8_t *s, size_t n)
{
	b_u8(b, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		switch (c) {
		case '"': b_str(b, "\\\""); break;
		case '\\': b_str(b, "\\\\"); break;
		case '\n': b_str(b, "\\n"); break;
		case '\r': b_str(b, "\\r"); break;
		case '\t': b_str(b, "\\t"); break;
		case '\b': b_str(b, "\\b"); break;
		case '\f': b_str(b, "\\f"); break;
		default:
			if (c < 0x20)
				b_fmt(b, "\\u%04x", c);
			else
				b_u8(b, c);
		}
	}
	b_u8(b, '"');
}

typedef struct msgopts {
	const char *byteorder;
	const bytes *extra;     /* raw members appended after content-length */
	const bytes *clen;      /* raw JSON text replacing the content-length value */
	long hlen;              /* pad the header to exactly this size; 0: no */
} msgopts;

typedef struct listing {
	int64_t off;            /* where the next byte of this line lands */
} listing;

static void list_msg(int64_t at, size_t hl, size_t cl, const char *what)
{
	if (G.list)
		printf("    message at offset %" PRId64 ": header %zu, content %zu, %s, ends at %" PRId64 "\n",
		       at, hl, cl, what, at + 2 + (int64_t)hl + (int64_t)cl);
}

/* protoheader + header in the tutorial's key order + content. */
static void tutorial_message(bytes *out, const msgopts *mo, const char *type, const char *enc,
			     const uint8_t *content, size_t clen, int64_t base, const char *what)
{
	bytes h = {0};
	b_fmt(&h, "{\"byteorder\": \"%s\", \"content-type\": ", mo->byteorder ? mo->byteorder : G.byteorder);
	json_string(&h, (const uint8_t *)type, strlen(type));
	b_str(&h, ", \"content-encoding\": ");
	json_string(&h, (const uint8_t *)enc, strlen(enc));
	b_str(&h, ", \"content-length\": ");
	if (mo->clen)
		b_put(&h, mo->clen->p, mo->clen->len);
	else
		b_fmt(&h, "%zu", clen);
	if (mo->extra) {
		b_str(&h, ", ");
		b_put(&h, mo->extra->p, mo->extra->len);
	}
	if (mo->hlen) {
		/* , "padding": "xxx...x" */
		long need = mo->hlen - (long)h.len - 1 - 15;
		if (need < 0)
			die("hlen=%ld is smaller than the header without padding (%zu)", mo->hlen, h.len + 1);
		b_str(&h, ", \"padding\": \"");
		for (long i = 0; i < need; i++)
			b_u8(&h, 'x');
		b_u8(&h, '"');
	}
	b_u8(&h, '}');
	if (h.len > JM_SPEC_MAX_HEADER_LEN)
		die("header of %zu bytes exceeds %d; use 'frame' with 'protoheader' to write one anyway",
		    h.len, JM_SPEC_MAX_HEADER_LEN);
	uint8_t ph[2];
	put16(ph, (uint16_t)h.len);
	list_msg(base + (int64_t)out->len, h.len, clen, what);
	b_put(out, ph, 2);
	b_put(out, h.p, h.len);
	b_put(out, content, clen);
	free(h.p);
}

static const char *search_answer(const uint8_t *v, size_t n, bytes *tmp)
{
	static const struct { const char *q, *a; } table[] = {
		{"morpheus", "Follow the white rabbit. \xf0\x9f\x90\xb0"},
		{"ring", "In the caves beneath the Misty Mountains. \xf0\x9f\x92\x8d"},
		{"\xf0\x9f\x90\xb6", "\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90"},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (strlen(table[i].q) == n && memcmp(table[i].q, v, n) == 0)
			return table[i].a;
	b_str(tmp, "No match for '");
	b_put(tmp, v, n);
	b_str(tmp, "'.");
	b_u8(tmp, 0);
	return (const char *)tmp->p;
}

/* A content or raw-bytes word: "string", 'string', hex:..., pattern:N,
 * fill:N:HH.  Returns false if `t` is none of these. */
static bool data_word(const tok *t, bytes *out)
{
	const char *s = tstr(t);
	if (t->quoted) {
		b_put(out, t->v.p, t->v.len);
		return true;
	}
	if (strncmp(s, "hex:", 4) == 0) {
		const char *p = s + 4;
		while (*p) {
			if (*p == '_' || *p == ':') { p++; continue; }
			int h = hexval(p[0]), l = h < 0 ? -1 : hexval(p[1]);
			if (h < 0 || l < 0)
				die("hex: wants pairs of hex digits, got '%s'", s + 4);
			b_u8(out, (uint8_t)(h << 4 | l));
			p += 2;
		}
		return true;
	}
	if (strncmp(s, "pattern:", 8) == 0) {
		/* printable and position-revealing: a misplaced byte shows in a hex dump */
		uint64_t n = parse_u64(s + 8, 1ULL << 30, "pattern:N");
		static const char pat[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
		for (uint64_t i = 0; i < n; i++)
			b_u8(out, (uint8_t)pat[i % (sizeof pat - 1)]);
		return true;
	}
	if (strncmp(s, "fill:", 5) == 0) {
		char *colon = strchr(s + 5, ':');
		if (!colon)
			die("write fill:N:HH");
		*colon = 0;
		uint64_t n = parse_u64(s + 5, 1ULL << 30, "fill:N");
		uint64_t v = parse_u64(colon + 1, 255, "fill byte");
		*colon = ':';
		for (uint64_t i = 0; i < n; i++)
			b_u8(out, (uint8_t)v);
		return true;
	}
	return false;
}

static void need_args(int i, int n, int want, const char *kw, const char *usage)
{
	if (i + want >= n)
		die("%s needs %s", kw, usage);
}

/* Parse the payload words of a direction line into `out`; collect the
 * key=value and control words into the caller's arrays.  Returns the index of
 * the first word that is not payload. */
static void payload_word(tok *toks, int n, int *ip, bytes *out, const msgopts *mo, int64_t base)
{
	int i = *ip;
	const tok *t = &toks[i];
	const char *w = tstr(t);
	bytes tmp = {0};
	if (!t->quoted && strcmp(w, "request") == 0) {
		need_args(i, n, 2, "request", "ACTION VALUE");
		const tok *a = &toks[i + 1], *v = &toks[i + 2];
		if (strcmp(tstr(a), "search") == 0) {
			bytes c = {0};
			b_str(&c, "{\"action\": ");
			json_string(&c, a->v.p, a->v.len);
			b_str(&c, ", \"value\": ");
			json_string(&c, v->v.p, v->v.len);
			b_u8(&c, '}');
			tutorial_message(out, mo, "text/json", "utf-8", c.p, c.len, base, "search request");
			free(c.p);
		} else {
			b_put(&tmp, a->v.p, a->v.len);
			b_put(&tmp, v->v.p, v->v.len);
			tutorial_message(out, mo, "binary/custom-client-binary-type", "binary", tmp.p, tmp.len,
					 base, "binary request");
		}
		*ip = i + 3;
	} else if (!t->quoted && strcmp(w, "response") == 0) {
		need_args(i, n, 2, "response", "ACTION VALUE");
		const tok *a = &toks[i + 1], *v = &toks[i + 2];
		bytes c = {0};
		if (strcmp(tstr(a), "search") == 0) {
			const char *ans = search_answer(v->v.p, v->v.len, &tmp);
			b_str(&c, "{\"result\": ");
			json_string(&c, (const uint8_t *)ans, strlen(ans));
			b_u8(&c, '}');
			tutorial_message(out, mo, "text/json", "utf-8", c.p, c.len, base, "search response");
		} else {
			b_put(&tmp, a->v.p, a->v.len);
			b_put(&tmp, v->v.p, v->v.len);
			b_str(&c, "First 10 bytes of request: ");
			b_put(&c, tmp.p, tmp.len < 10 ? tmp.len : 10);
			tutorial_message(out, mo, "binary/custom-server-binary-type", "binary", c.p, c.len,
					 base, "binary response");
		}
		free(c.p);
		*ip = i + 3;
	} else if (!t->quoted && strcmp(w, "result") == 0) {
		need_args(i, n, 1, "result", "TEXT");
		bytes c = {0};
		b_str(&c, "{\"result\": ");
		json_string(&c, toks[i + 1].v.p, toks[i + 1].v.len);
		b_u8(&c, '}');
		tutorial_message(out, mo, "text/json", "utf-8", c.p, c.len, base, "result");
		free(c.p);
		*ip = i + 2;
	} else if (!t->quoted && strcmp(w, "message") == 0) {
		need_args(i, n, 3, "message", "TYPE ENCODING CONTENT");
		bytes c = {0};
		if (!data_word(&toks[i + 3], &c))
			die("message: CONTENT must be \"text\", 'text', hex:..., pattern:N or fill:N:HH");
		tutorial_message(out, mo, tstr(&toks[i + 1]), tstr(&toks[i + 2]), c.p, c.len, base, "message");
		free(c.p);
		*ip = i + 4;
	} else if (!t->quoted && strcmp(w, "frame") == 0) {
		/* A message with a header written verbatim: for malformed headers. */
		need_args(i, n, 2, "frame", "HEADER CONTENT");
		bytes h = {0}, c = {0};
		if (!data_word(&toks[i + 1], &h) || !data_word(&toks[i + 2], &c))
			die("frame: HEADER and CONTENT must be strings, hex:, pattern:N or fill:N:HH");
		if (h.len > 65535)
			die("frame: header of %zu bytes does not fit a protoheader", h.len);
		uint8_t ph[2];
		put16(ph, (uint16_t)h.len);
		list_msg(base + (int64_t)out->len, h.len, c.len, "frame");
		b_put(out, ph, 2);
		b_put(out, h.p, h.len);
		b_put(out, c.p, c.len);
		free(h.p);
		free(c.p);
		*ip = i + 3;
	} else if (!t->quoted && strcmp(w, "protoheader") == 0) {
		need_args(i, n, 1, "protoheader", "N");
		uint8_t ph[2];
		put16(ph, (uint16_t)parse_u64(tstr(&toks[i + 1]), 65535, "protoheader"));
		b_put(out, ph, 2);
		*ip = i + 2;
	} else if (data_word(t, out)) {
		*ip = i + 1;
	} else {
		die("'%s' is not a payload word (request, response, result, message, frame, "
		    "protoheader, \"string\", 'string', hex:, pattern:N, fill:N:HH)", w);
	}
	free(tmp.p);
}

/* ---------------------------------------------------------------- lines */

static int parse_flags(const char *s)
{
	int f = 0;
	if (strcmp(s, "none") == 0)
		return 0;
	for (; *s; s++) {
		const char *p = strchr("FSRPAUEC", *s);
		if (!p)
			die("flags= takes letters from FSRPAUEC (or none), got '%c'", *s);
		f |= 1 << (p - "FSRPAUEC");
	}
	return f;
}

static int *parse_index_list(const char *s, int *n, const char *what)
{
	int *v = NULL, cap = 0;
	*n = 0;
	char *copy = strdup(s), *save = NULL;
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			v = realloc(v, sizeof *v * (size_t)cap);
		}
		v[(*n)++] = (int)parse_u64(p, MAX_SEGS, what);
	}
	free(copy);
	return v;
}

/* seq=N (stream offset), seq=+N / seq=-N (relative to the next new byte). */
static int64_t parse_rel(const char *s, int64_t base, const char *what)
{
	if (*s == '+')
		return base + (int64_t)parse_u64(s + 1, 1ULL << 40, what);
	if (*s == '-')
		return base - (int64_t)parse_u64(s + 1, 1ULL << 40, what);
	return (int64_t)parse_u64(s, 1ULL << 40, what);
}

static bool in_list(const int *v, int n, int x)
{
	for (int i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

/* The bytes the application wrote at each offset: the first copy, as the
 * receiving TCP keeps it; dropped segments count (the sender wrote them). */
static void record_app(conn *c, int di, int64_t off, const uint8_t *p, size_t n)
{
	if (off < 0 || n == 0)
		return;
	bytes *a = &c->app[di], *h = &c->have[di];
	size_t end = (size_t)off + n;
	if (end > (1u << 30))
		die("-x: stream offset %zu is too large to record", end);
	static const uint8_t zero[4096];
	while (a->len < end) {
		size_t k = end - a->len < sizeof zero ? end - a->len : sizeof zero;
		b_put(a, zero, k);
		b_put(h, zero, k);
	}
	for (size_t i = 0; i < n; i++)
		if (!h->p[(size_t)off + i]) {
			h->p[(size_t)off + i] = 1;
			a->p[(size_t)off + i] = p[i];
		}
}

static void write_app_streams(void)
{
	for (int i = 0; i < n_conns; i++) {
		conn *c = &conns[i];
		if (!c->order)
			continue;
		for (int di = 0; di < 2; di++) {
			/* numbered as tshark numbers streams: by first packet */
			char path[4096];
			snprintf(path, sizeof path, "%s.%d.%u.%c", G.stream_prefix, c->order - 1,
				 c->port[0], di ? 's' : 'c');
			FILE *f = fopen(path, "wb");
			if (!f || fwrite(c->app[di].p, 1, c->app[di].len, f) != c->app[di].len || fclose(f) != 0)
				die_io("write", path);
			free(c->app[di].p);
			free(c->have[di].p);
		}
	}
}

static void direction_line(int di, tok *toks, int n)
{
	if (!cur)
		die("no connection yet: write 'client ADDR:PORT' and 'server ADDR:PORT' (or 'conn') first");
	conn *c = cur;
	dir *d = &c->d[di], *peer = &c->d[1 - di];

	/* First pass: options, so message words see them. */
	msgopts mo = {0};
	const char *seq_s = NULL, *ack_s = NULL, *win_s = NULL, *flags_s = NULL, *split_s = NULL;
	const char *order_s = NULL, *drop_s = NULL, *dup_s = NULL, *rawack_s = NULL, *rawseq_s = NULL;
	const char *range_s = NULL;
	bytes extra = {0}, clen = {0};
	bool set_mode = n > 0 && is_word(&toks[0], "set");
	for (int i = 0; i < n; i++) {
		const tok *t = &toks[i];
		const char *v;
		if (t->eq < 0)
			continue;
		if ((v = opt_val(t, "seq"))) seq_s = v;
		else if ((v = opt_val(t, "rawseq"))) rawseq_s = v;
		else if ((v = opt_val(t, "ack"))) ack_s = v;
		else if ((v = opt_val(t, "rawack"))) rawack_s = v;
		else if ((v = opt_val(t, "win"))) win_s = v;
		else if ((v = opt_val(t, "flags"))) flags_s = v;
		else if ((v = opt_val(t, "split"))) split_s = v;
		else if ((v = opt_val(t, "order"))) order_s = v;
		else if ((v = opt_val(t, "drop"))) drop_s = v;
		else if ((v = opt_val(t, "dup"))) dup_s = v;
		else if ((v = opt_val(t, "range"))) range_s = v;
		else if ((v = opt_val(t, "byteorder"))) mo.byteorder = v;
		else if ((v = opt_val(t, "extra"))) { b_str(&extra, v); mo.extra = &extra; }
		else if ((v = opt_val(t, "clen"))) { b_str(&clen, v); mo.clen = &clen; }
		else if ((v = opt_val(t, "hlen"))) mo.hlen = (long)parse_u64(v, 65535, "hlen");
		else if ((v = opt_val(t, "conn"))) {
			b_str(&extra, "\"connection\": ");
			json_string(&extra, (const uint8_t *)v, strlen(v));
			mo.extra = &extra;
		} else if (set_mode && (v = opt_val(t, "mss"))) {
			d->mss = (uint16_t)parse_u64(v, 65535, "mss");
		} else
			die("unknown option '%s'", tstr(t));
	}
	if (set_mode) {
		/* c> set win=N: a new default for this direction's later segments */
		if (win_s)
			d->win = (uint16_t)parse_u64(win_s, 65535, "win");
		for (int i = 1; i < n; i++)
			if (toks[i].eq < 0)
				die("set takes only win=N and mss=N");
		free(extra.p);
		free(clen.p);
		return;
	}
	c->used = true;

	/* Second pass: payload words and control words. */
	bytes pay = {0};
	int ctl_flags = 0;
	bool probe = false, any_payload = false;
	int64_t start = seq_s ? parse_rel(seq_s, d->next, "seq") : d->next;
	/* range=A:B sends only bytes [A, B) of what the line builds (B omitted:
	 * to the end), so one message can be spread over several lines. */
	uint64_t r_from = 0, r_to = UINT64_MAX;
	if (range_s) {
		char a[64], *colon;
		snprintf(a, sizeof a, "%s", range_s);
		colon = strchr(a, ':');
		if (!colon)
			die("write range=FROM:TO or range=FROM:");
		*colon = 0;
		r_from = parse_u64(a, 1ULL << 40, "range");
		if (colon[1])
			r_to = parse_u64(colon + 1, 1ULL << 40, "range");
		if (r_to < r_from)
			die("range=%s ends before it starts", range_s);
	}
	for (int i = 0; i < n; ) {
		const tok *t = &toks[i];
		if (t->eq >= 0) { i++; continue; }
		if (is_word(t, "ack")) { ctl_flags |= F_ACK; i++; continue; }
		if (is_word(t, "fin")) { ctl_flags |= F_FIN | F_ACK; i++; continue; }
		if (is_word(t, "rst")) { ctl_flags |= F_RST | F_ACK; i++; continue; }
		if (is_word(t, "probe")) { probe = true; i++; continue; }
		if (is_word(t, "segment")) { i++; continue; }
		any_payload = true;
		payload_word(toks, n, &i, &pay, &mo, start - (int64_t)r_from);
	}
	if (range_s) {
		if (r_to == UINT64_MAX)
			r_to = pay.len;
		if (r_to > pay.len)
			die("range=%s goes past the %zu bytes this line builds", range_s, pay.len);
		if (r_to > r_from)
			memmove(pay.p, pay.p + r_from, (size_t)(r_to - r_from));
		pay.len = (size_t)(r_to - r_from);
	}
	if (probe) {
		if (any_payload || seq_s)
			die("probe is an empty segment one byte behind the acknowledged point; it takes no payload or seq=");
		/* Linux's zero-window probe: seq = snd_una - 1, no data */
		start = d->una - 1;
	}

	/* Segment sizes: split=N, split=a,b,c (the rest by MSS), else MSS. */
	size_t *sizes = NULL;
	int nseg = 0, cap = 0;
	{
		int nsplit = 0;
		int *split = split_s ? parse_index_list(split_s, &nsplit, "split") : NULL;
		size_t left = pay.len;
		int k = 0;
		do {
			size_t sz;
			if (nsplit == 1)
				sz = (size_t)split[0];
			else if (k < nsplit)
				sz = (size_t)split[k];
			else
				sz = d->mss;
			if (sz == 0)
				die("split sizes must be at least 1");
			if (sz > left)
				sz = left;
			if (nseg == cap) {
				cap = cap ? cap * 2 : 16;
				sizes = realloc(sizes, sizeof *sizes * (size_t)cap);
			}
			if (nseg >= MAX_SEGS)
				die("more than %d segments on one line", MAX_SEGS);
			sizes[nseg++] = sz;
			left -= sz;
			k++;
		} while (left > 0);
		free(split);
	}

	int norder = 0, ndrop = 0, ndup = 0;
	int *order = order_s ? parse_index_list(order_s, &norder, "order") : NULL;
	int *drop = drop_s ? parse_index_list(drop_s, &ndrop, "drop") : NULL;
	int *dup = dup_s ? parse_index_list(dup_s, &ndup, "dup") : NULL;
	if (order) {
		if (norder != nseg)
			die("order= lists %d segments but the line makes %d", norder, nseg);
		for (int i = 1; i <= nseg; i++)
			if (!in_list(order, norder, i))
				die("order= must list each segment 1..%d once", nseg);
	}
	for (int i = 0; i < ndrop; i++)
		if (drop[i] < 1 || drop[i] > nseg)
			die("drop=%d: the line makes segments 1..%d", drop[i], nseg);
	for (int i = 0; i < ndup; i++)
		if (dup[i] < 1 || dup[i] > nseg)
			die("dup=%d: the line makes segments 1..%d", dup[i], nseg);

	uint16_t win = win_s ? (uint16_t)parse_u64(win_s, 65535, "win") : d->win;
	int fl_all = -1;
	if (flags_s)
		fl_all = parse_flags(flags_s);
	bool ack_set = false;
	uint32_t ack_raw = 0;
	if (rawack_s) {
		ack_set = true;
		ack_raw = (uint32_t)parse_u64(rawack_s, UINT32_MAX, "rawack");
	} else if (ack_s) {
		ack_set = true;
		ack_raw = raw_seq(peer, parse_rel(ack_s, peer->next, "ack"));
	}
	if (rawseq_s) {
		uint32_t rs = (uint32_t)parse_u64(rawseq_s, UINT32_MAX, "rawseq");
		start = (int64_t)(int32_t)(rs - raw_seq(d, 0));
	}

	size_t *offs = malloc(sizeof *offs * (size_t)nseg);
	for (int k = 0, o = 0; k < nseg; k++) {
		offs[k] = (size_t)o;
		o += (int)sizes[k];
	}
	if (G.list && pay.len)
		printf("  line %d: %s bytes %" PRId64 "..%" PRId64 " in %d segment%s\n", g_line,
		       di ? "s>" : "c>", start, start + (int64_t)pay.len, nseg, nseg == 1 ? "" : "s");
	else if (G.list)
		printf("  line %d: %s empty segment at %" PRId64 "\n", g_line, di ? "s>" : "c>", start);
	for (int j = 0; j < nseg; j++) {
		int k = order ? order[j] - 1 : j;
		bool last = (k == nseg - 1);
		seg s = {0};
		s.data = pay.p ? pay.p + offs[k] : NULL;
		s.len = sizes[k];
		s.seq_off = start + (int64_t)offs[k];
		s.win = win;
		if (fl_all >= 0)
			s.flags = (uint8_t)fl_all;
		else {
			s.flags = F_ACK;
			if (s.len && last)
				s.flags |= F_PSH;
			if (last)
				s.flags |= (uint8_t)ctl_flags;
		}
		s.ack_raw_set = ack_set;
		s.ack_raw = ack_raw;
		int times = in_list(drop, ndrop, k + 1) ? 0 : in_list(dup, ndup, k + 1) ? 2 : 1;
		if (G.stream_prefix)
			record_app(c, di, s.seq_off, s.data, s.len);
		for (int r = 0; r < times; r++)
			emit(c, di, &s);
		if (times == 0 && G.list)
			printf("    segment %d (bytes %" PRId64 "..%" PRId64 ") dropped\n", k + 1,
			       s.seq_off, s.seq_off + (int64_t)s.len);
		int64_t end = s.seq_off + (int64_t)s.len + ((s.flags & (F_FIN | F_SYN)) ? 1 : 0);
		if (end > d->next)
			d->next = end;
	}
	free(offs);
	free(sizes);
	free(order);
	free(drop);
	free(dup);
	free(pay.p);
	free(extra.p);
	free(clen.p);
}

/* ---------------------------------------------------------------- header lines */

static void parse_endpoint(const char *s, bool *v6, uint8_t addr[16], uint16_t *port)
{
	char host[128];
	const char *colon;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof host)
			die("write an IPv6 endpoint as [ADDR]:PORT, got '%s'", s);
		memcpy(host, s + 1, (size_t)(rb - s - 1));
		host[rb - s - 1] = 0;
		colon = rb + 1;
		*v6 = true;
		if (inet_pton(AF_INET6, host, addr) != 1)
			die("'%s' is not an IPv6 address", host);
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof host)
			die("write an endpoint as ADDR:PORT, got '%s'", s);
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = 0;
		*v6 = false;
		if (inet_pton(AF_INET, host, addr) != 1)
			die("'%s' is not an IPv4 address", host);
	}
	*port = (uint16_t)parse_u64(colon + 1, 65535, "port");
}

static conn *conn_new(const char *name)
{
	if (n_conns == MAX_CONNS)
		die("at most %d connections per script", MAX_CONNS);
	conn *c = &conns[n_conns++];
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	for (int i = 0; i < 2; i++) {
		/* distinct, fixed ISNs per connection so streams never look alike */
		c->d[i].isn = (uint32_t)(1000000u * (i ? 3 : 1) + 100000u * (uint32_t)(n_conns - 1));
		c->d[i].win = 65535;
		c->d[i].syn_win = 65535;
		c->d[i].wscale = -1;
		c->d[i].mss = 1460;
		c->d[i].ipid = (uint16_t)(i ? 0x5000 : 0x1000);
	}
	return c;
}

static conn *conn_find(const char *name)
{
	for (int i = 0; i < n_conns; i++)
		if (strcmp(conns[i].name, name) == 0)
			return &conns[i];
	return NULL;
}

static void set_endpoint(conn *c, int side, const char *s)
{
	bool v6;
	if (c->used)
		die("connection '%s' already carries segments; start another with 'conn NAME ...'", c->name);
	parse_endpoint(s, &v6, c->addr[side], &c->port[side]);
	if (c->port[1 - side] && v6 != c->v6)
		die("client and server must both be IPv4 or both IPv6");
	c->v6 = v6;
}

/* handshake/tcp options: isn= isn2= win= win2= wscale=A[/B] mss=A[/B] sack ts */
static void tcp_options(conn *c, tok *toks, int n, int from)
{
	for (int i = from; i < n; i++) {
		const tok *t = &toks[i];
		const char *v;
		if (is_word(t, "sack")) c->sack = true;
		else if (is_word(t, "ts")) c->ts = true;
		else if ((v = opt_val(t, "isn"))) c->d[0].isn = (uint32_t)parse_u64(v, UINT32_MAX, "isn");
		else if ((v = opt_val(t, "isn2"))) c->d[1].isn = (uint32_t)parse_u64(v, UINT32_MAX, "isn2");
		else if ((v = opt_val(t, "win")) || (v = opt_val(t, "win2"))) {
			int side = opt_val(t, "win2") ? 1 : 0;
			uint16_t w = (uint16_t)parse_u64(v, 65535, "win");
			c->d[side].win = c->d[side].syn_win = w;
		} else if ((v = opt_val(t, "wscale")) || (v = opt_val(t, "mss"))) {
			bool ws = opt_val(t, "wscale") != NULL;
			char a[32], *slash;
			snprintf(a, sizeof a, "%s", v);
			slash = strchr(a, '/');
			if (slash)
				*slash++ = 0;
			for (int side = 0; side < 2; side++) {
				const char *x = side && slash ? slash : a;
				if (ws)
					c->d[side].wscale = (int)parse_u64(x, 14, "wscale");
				else
					c->d[side].mss = (uint16_t)parse_u64(x, 65535, "mss");
			}
		} else
			die("unknown TCP option '%s' (isn= isn2= win= win2= wscale=A/B mss=A/B sack ts)", tstr(t));
	}
}

static void handshake(conn *c)
{
	seg s = {0};
	c->used = true;
	s.flags = F_SYN;
	s.seq_off = -1;
	s.win = c->d[0].syn_win;
	s.syn_opts = true;
	emit(c, 0, &s);
	c->d[0].next = 0;
	s.flags = F_SYN | F_ACK;
	s.win = c->d[1].syn_win;
	emit(c, 1, &s);
	c->d[1].next = 0;
	/* With scaling in effect on both sides, later window fields count in
	 * units of 2^wscale: keep the same window in bytes, as Linux does. */
	if (c->d[0].wscale >= 0 && c->d[1].wscale >= 0)
		for (int i = 0; i < 2; i++) {
			uint16_t w = (uint16_t)(c->d[i].syn_win >> c->d[i].wscale);
			c->d[i].win = w ? w : 1;
		}
	s.flags = F_ACK;
	s.seq_off = 0;
	s.syn_opts = false;
	s.win = c->d[0].win;
	emit(c, 0, &s);
}

static void need_conn(void)
{
	if (!cur)
		cur = conn_new("1");
}

static void header_line(tok *toks, int n)
{
	const char *kw = tstr(&toks[0]);
	if (strcmp(kw, "link") == 0) {
		if (G.started)
			die("link must come before the first packet");
		if (n < 2)
			die("link needs a type: ethernet, vlan, null, loop, sll, sll2, raw");
		int i;
		for (i = 0; i < (int)(sizeof links / sizeof links[0]); i++)
			if (strcmp(tstr(&toks[1]), links[i].name) == 0)
				break;
		if (i == (int)(sizeof links / sizeof links[0]))
			die("unknown link type '%s' (ethernet, vlan, null, loop, sll, sll2, raw)", tstr(&toks[1]));
		G.link = (enum link)i;
		G.n_vlan = 0;
		if (G.link == L_VLAN) {
			int nv = 0;
			int *v = n > 2 ? parse_index_list(tstr(&toks[2]), &nv, "vlan id") : NULL;
			if (!v) {
				G.vlan[G.n_vlan++] = 100;
			}
			for (int k = 0; k < nv; k++) {
				if (k == 4 || v[k] > 4095)
					die("vlan takes up to 4 ids of 0..4095, comma-separated");
				G.vlan[G.n_vlan++] = (uint16_t)v[k];
			}
			free(v);
		} else if (n > 2)
			die("link %s takes no argument", links[G.link].name);
	} else if (strcmp(kw, "format") == 0) {
		if (G.started)
			die("format must come before the first packet");
		if (n < 2 || (strcmp(tstr(&toks[1]), "pcap") && strcmp(tstr(&toks[1]), "pcapng")))
			die("format is pcap or pcapng");
		G.pcapng = strcmp(tstr(&toks[1]), "pcapng") == 0;
	} else if (strcmp(kw, "tsresol") == 0) {
		if (G.started)
			die("tsresol must come before the first packet");
		if (n < 2 || (strcmp(tstr(&toks[1]), "usec") && strcmp(tstr(&toks[1]), "nsec")))
			die("tsresol is usec or nsec");
		G.nsec = strcmp(tstr(&toks[1]), "nsec") == 0;
	} else if (strcmp(kw, "snaplen") == 0) {
		if (G.started)
			die("snaplen must come before the first packet");
		if (n < 2)
			die("snaplen needs a number");
		G.snaplen = (uint32_t)parse_u64(tstr(&toks[1]), 262144, "snaplen");
		if (G.snaplen < 14)
			die("snaplen must be at least 14");
	} else if (strcmp(kw, "time") == 0) {
		if (G.started)
			die("time must come before the first packet");
		if (n < 2)
			die("time needs seconds since 1970");
		G.start_ns = parse_secs(tstr(&toks[1]), "time");
		G.now_ns = G.start_ns;
	} else if (strcmp(kw, "tick") == 0) {
		if (n < 2)
			die("tick needs seconds, e.g. tick 0.000010");
		G.tick_ns = parse_secs(tstr(&toks[1]), "tick");
		if (G.packets)
			G.now_ns = G.last_ns + G.tick_ns;
	} else if (strcmp(kw, "byteorder") == 0) {
		if (n < 2)
			die("byteorder needs a value (little, big)");
		G.byteorder = strdup(tstr(&toks[1]));
	} else if (strcmp(kw, "ip6ext") == 0) {
		if (G.started)
			die("ip6ext must come before the first packet");
		G.n_ip6ext = 0;
		for (int i = 1; i < n; i++) {
			static const struct { const char *n; uint8_t nh; } ext[] = {
				{"hop", 0}, {"dest", 60}, {"routing", 43}, {"fragment", 44},
			};
			size_t k;
			for (k = 0; k < sizeof ext / sizeof ext[0]; k++)
				if (strcmp(tstr(&toks[i]), ext[k].n) == 0)
					break;
			if (k == sizeof ext / sizeof ext[0] || G.n_ip6ext == 4)
				die("ip6ext takes up to 4 of: hop dest routing fragment");
			if (ext[k].nh == 0 && G.n_ip6ext)
				die("hop-by-hop options must come first");
			G.ip6ext[G.n_ip6ext++] = ext[k].nh;
		}
	} else if (strcmp(kw, "client") == 0 || strcmp(kw, "server") == 0) {
		if (n != 2)
			die("%s needs ADDR:PORT", kw);
		need_conn();
		set_endpoint(cur, kw[0] == 's', tstr(&toks[1]));
	} else if (strcmp(kw, "conn") == 0) {
		if (n == 2) {
			cur = conn_find(tstr(&toks[1]));
			if (!cur)
				die("no connection named '%s'", tstr(&toks[1]));
		} else if (n == 4) {
			if (conn_find(tstr(&toks[1])))
				die("connection '%s' exists; write 'conn %s' to switch to it",
				    tstr(&toks[1]), tstr(&toks[1]));
			cur = conn_new(tstr(&toks[1]));
			set_endpoint(cur, 0, tstr(&toks[2]));
			set_endpoint(cur, 1, tstr(&toks[3]));
		} else
			die("conn NAME CLIENT-ADDR:PORT SERVER-ADDR:PORT, or conn NAME to switch");
	} else if (strcmp(kw, "tcp") == 0 || strcmp(kw, "handshake") == 0) {
		need_conn();
		if (!cur->port[0] || !cur->port[1])
			die("%s: give the client and server addresses first", kw);
		tcp_options(cur, toks, n, 1);
		if (kw[0] == 'h') {
			if (cur->used)
				die("handshake must be the connection's first packets");
			handshake(cur);
		}
	} else if (strcmp(kw, "close") == 0) {
		/* the tutorial's usual ending: one side's FIN, the other's, last ACK */
		need_conn();
		int first = (n > 1 && strcmp(tstr(&toks[1]), "server") == 0) ? 1 : 0;
		tok f[1], a[1];
		memset(f, 0, sizeof f);
		memset(a, 0, sizeof a);
		f[0].eq = a[0].eq = -1;
		b_str(&f[0].v, "fin"); b_u8(&f[0].v, 0); f[0].v.len--;
		b_str(&a[0].v, "ack"); b_u8(&a[0].v, 0); a[0].v.len--;
		direction_line(first, f, 1);
		direction_line(1 - first, f, 1);
		direction_line(first, a, 1);
		free(f[0].v.p);
		free(a[0].v.p);
	} else {
		die("unknown line '%s'", kw);
	}
}

static void run_script(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	static tok toks[MAX_TOKS];
	G.now_ns = G.start_ns;
	while (getline(&line, &cap, f) > 0) {
		g_line++;
		int n = tokenize(line, toks, MAX_TOKS);
		int i = 0;
		if (n >= 2 && is_word(&toks[0], "t")) {
			const char *v = tstr(&toks[1]);
			if (*v == '+')
				G.now_ns = (G.packets ? G.last_ns : G.start_ns) + parse_secs(v + 1, "t +");
			else if (*v == '=')
				G.now_ns = G.start_ns + parse_secs(v + 1, "t =");
			else
				die("t wants +SECONDS (after the previous packet) or =SECONDS (since the start)");
			i = 2;
		}
		if (i < n) {
			if (is_word(&toks[i], "c>") || is_word(&toks[i], "s>"))
				direction_line(tstr(&toks[i])[0] == 's', toks + i + 1, n - i - 1);
			else if (toks[i].quoted)
				die("a line starts with a keyword, c> or s>");
			else
				header_line(toks + i, n - i);
		}
		for (int k = 0; k < n; k++)
			free(toks[k].v.p);
	}
	free(line);
	if (ferror(f))
		die_io("read", g_script);
}

static void usage(FILE *to)
{
	fprintf(to,
		"usage: pcapgen [-l] [-t FILE] [-x PREFIX] [-o OUT] SCRIPT\n"
		"Writes the TCP conversation SCRIPT describes as a pcap or pcapng file.\n"
		"  -o OUT  output file ('-' for stdout); default: SCRIPT with .script replaced\n"
		"          by .pcap or .pcapng (stdout when SCRIPT is '-', standard input)\n"
		"  -l      list each line's stream offsets and messages on stdout\n"
		"  -t FILE list every packet written to FILE, one line each:\n"
		"          N TIME_NS CONN DIR SEQ LEN CAPLEN FLAGS (see the source)\n"
		"  -x PREFIX  also write each direction's bytes as the sender wrote them\n"
		"          (first copy of each offset, dropped segments included) to\n"
		"          PREFIX.N.CLIENTPORT.c and .s, N counting connections from 0\n"
		"          in the order of their first packet\n"
		"The script language is described in tests/fixtures/README.md.\n"
		"Exit status: 0 written, 1 I/O error, 2 error in the script or the usage.\n");
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int opt;
	const char *packets_path = NULL;
	while ((opt = getopt(argc, argv, "lo:t:x:h")) != -1) {
		switch (opt) {
		case 'l': G.list = true; break;
		case 't': packets_path = optarg; break;
		case 'x': G.stream_prefix = optarg; break;
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	g_script = argv[optind];
	FILE *f = strcmp(g_script, "-") ? fopen(g_script, "r") : stdin;
	if (!f)
		die_io("open", g_script);

	/* The format line decides the extension, so read the header first. */
	char *path = NULL;
	if (!out && f == stdin)
		out = "-";   /* a script on stdin writes to stdout */
	if (!out) {
		char *line = NULL;
		size_t cap = 0;
		bool ng = false;
		while (getline(&line, &cap, f) > 0)
			if (strncmp(line, "format", 6) == 0 && strstr(line, "pcapng"))
				ng = true;
		free(line);
		rewind(f);
		size_t l = strlen(g_script);
		const char *ext = ng ? ".pcapng" : ".pcap";
		path = malloc(l + 8);
		memcpy(path, g_script, l + 1);
		if (l > 7 && strcmp(path + l - 7, ".script") == 0)
			path[l - 7] = 0;
		strcat(path, ext);
		out = path;
	}
	G.out_path = out;
	if (packets_path && !(G.packets_to = fopen(packets_path, "w")))
		die_io("open", packets_path);
	if (G.list)
		printf("%s -> %s\n", g_script, out);
	run_script(f);
	if (f != stdin)
		fclose(f);
	out_finish();
	if (G.stream_prefix)
		write_app_streams();
	if (G.packets_to && fclose(G.packets_to) != 0)
		die_io("write", packets_path);
	if (G.list)
		printf("%" PRIu64 " packets\n", G.packets);
	free(path);
	return 0;
}
