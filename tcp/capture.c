/*
 * capture: libpcap sources and the link/IP/TCP header parser.  See
 * capture.h.  Every header field is read through the rd_* helpers below,
 * which check the captured length first, as tcpdump's GET_ macros do.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "tcp/capture.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

/* ---------------------------------------------------------------- checked reads */

typedef struct rd {
	const uint8_t *p;
	uint32_t len;   /* bytes captured from p on */
} rd;

static inline __attribute__((always_inline)) bool rd_has(const rd *r, uint32_t off, uint32_t n)
{
	return off <= r->len && n <= r->len - off;
}
static inline __attribute__((always_inline)) bool rd_u8(const rd *r, uint32_t off, uint8_t *v)
{
	if (!rd_has(r, off, 1))
		return false;
	*v = r->p[off];
	return true;
}
static inline __attribute__((always_inline)) bool rd_be16(const rd *r, uint32_t off, uint16_t *v)
{
	if (!rd_has(r, off, 2))
		return false;
	*v = (uint16_t)(r->p[off] << 8 | r->p[off + 1]);
	return true;
}
static inline __attribute__((always_inline)) bool rd_be32(const rd *r, uint32_t off, uint32_t *v)
{
	if (!rd_has(r, off, 4))
		return false;
	*v = (uint32_t)r->p[off] << 24 | (uint32_t)r->p[off + 1] << 16 |
	     (uint32_t)r->p[off + 2] << 8 | r->p[off + 3];
	return true;
}
static inline __attribute__((always_inline)) bool rd_skip(rd *r, uint32_t n)
{
	if (n > r->len)
		return false;
	r->p += n;
	r->len -= n;
	return true;
}

/* ---------------------------------------------------------------- TCP */

static void tcp_options(const rd *o, cap_segment *s)
{
	uint32_t i = 0;
	while (i < o->len) {
		uint8_t kind = o->p[i], len;
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (!rd_u8(o, i + 1, &len) || len < 2 || !rd_has(o, i, len))
			break; /* a malformed option list ends the options, not the segment */
		switch (kind) {
		case 2:
			if (len == 4)
				rd_be16(o, i + 2, &s->mss);
			break;
		case 3:
			if (len == 3) {
				uint8_t ws = 0;
				rd_u8(o, i + 2, &ws);
				s->wscale = ws > 14 ? 14 : ws;
			}
			break;
		case 4:
			s->sack_permitted = true;
			break;
		case 8:
			if (len == 10) {
				s->has_ts = rd_be32(o, i + 2, &s->tsval) && rd_be32(o, i + 6, &s->tsecr);
			}
			break;
		}
		i += len;
	}
}

/* `r` starts at the TCP header; `ip_payload` is the TCP length the IP
 * header claims (0: unknown, take what was captured). */
static cap_result parse_tcp(rd r, uint32_t ip_payload, cap_segment *s)
{
	uint8_t off_flags, flags;
	uint16_t sport, dport;
	/* The fixed fields read below end at byte 16: one check for all. */
	if (!rd_has(&r, 0, 16))
		return CAP_SHORT;
	rd_be16(&r, 0, &sport);
	rd_be16(&r, 2, &dport);
	rd_be32(&r, 4, &s->seq);
	rd_be32(&r, 8, &s->ack);
	rd_u8(&r, 12, &off_flags);
	rd_u8(&r, 13, &flags);
	rd_be16(&r, 14, &s->window);
	uint32_t hlen = (uint32_t)(off_flags >> 4) * 4;
	if (hlen < 20)
		return CAP_SHORT;
	if (ip_payload && ip_payload < hlen)
		return CAP_SHORT;
	if (!rd_has(&r, 0, hlen))
		return CAP_SHORT;
	s->src.port = sport;
	s->dst.port = dport;
	s->flags = flags;
	rd opts = {r.p + 20, hlen - 20};
	tcp_options(&opts, s);
	rd_skip(&r, hlen);
	uint32_t wire = ip_payload ? ip_payload - hlen : r.len;
	s->payload = r.p;
	s->payload_wire = wire;
	/* Link-layer padding after the IP datagram is not payload. */
	s->payload_len = r.len < wire ? r.len : wire;
	return CAP_TCP;
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static cap_result parse_ipv4(rd r, cap_segment *s)
{
	uint8_t vihl, proto;
	uint16_t total, frag;
	if (!rd_has(&r, 0, 10)) /* the fields read here end at byte 10 */
		return CAP_SHORT;
	rd_u8(&r, 0, &vihl);
	rd_be16(&r, 2, &total);
	rd_be16(&r, 6, &frag);
	rd_u8(&r, 9, &proto);
	uint32_t ihl = (uint32_t)(vihl & 0x0f) * 4;
	if ((vihl >> 4) != 4 || ihl < 20 || !rd_has(&r, 0, ihl))
		return CAP_SHORT;
	if (proto != 6)
		return CAP_OTHER;
	if (frag & 0x3fff)
		return CAP_OTHER; /* a fragment: IP reassembly is out of scope */
	if (total && total < ihl)
		return CAP_SHORT;
	s->ip_version = 4;
	memcpy(s->src.addr, v4mapped, 12);
	memcpy(s->dst.addr, v4mapped, 12);
	memcpy(s->src.addr + 12, r.p + 12, 4);
	memcpy(s->dst.addr + 12, r.p + 16, 4);
	/* total == 0: segmentation offload on the capturing host; trust caplen. */
	uint32_t ip_payload = total ? total - ihl : 0;
	rd_skip(&r, ihl);
	if (total && r.len > ip_payload)
		r.len = ip_payload;
	return parse_tcp(r, ip_payload, s);
}

static cap_result parse_ipv6(rd r, cap_segment *s)
{
	uint8_t v, next;
	uint16_t plen;
	if (!rd_u8(&r, 0, &v) || !rd_be16(&r, 4, &plen) || !rd_u8(&r, 6, &next) ||
	    !rd_has(&r, 8, 32))
		return CAP_SHORT;
	if ((v >> 4) != 6)
		return CAP_SHORT;
	s->ip_version = 6;
	memcpy(s->src.addr, r.p + 8, 16);
	memcpy(s->dst.addr, r.p + 24, 16);
	rd_skip(&r, 40);
	uint32_t remain = plen; /* 0: jumbogram or offload; trust caplen */
	if (plen && r.len > plen)
		r.len = plen;
	for (int hops = 0; hops < 16; hops++) {
		uint8_t nh, hl;
		uint32_t n;
		switch (next) {
		case 6:
			return parse_tcp(r, remain, s);
		case 0:   /* hop-by-hop */
		case 43:  /* routing */
		case 60:  /* destination options */
			if (!rd_u8(&r, 0, &nh) || !rd_u8(&r, 1, &hl))
				return CAP_SHORT;
			n = ((uint32_t)hl + 1) * 8;
			break;
		case 51:  /* authentication header */
			if (!rd_u8(&r, 0, &nh) || !rd_u8(&r, 1, &hl))
				return CAP_SHORT;
			n = ((uint32_t)hl + 2) * 4;
			break;
		case 44: { /* fragment */
			uint16_t fo;
			if (!rd_u8(&r, 0, &nh) || !rd_be16(&r, 2, &fo))
				return CAP_SHORT;
			if (fo & 0xfff9)
				return CAP_OTHER;
			n = 8;
			break;
		}
		default:
			return CAP_OTHER;
		}
		if (!rd_skip(&r, n))
			return CAP_SHORT;
		if (remain) {
			if (remain < n)
				return CAP_SHORT;
			remain -= n;
		}
		next = nh;
	}
	return CAP_OTHER;
}

static cap_result parse_ethertype(uint16_t et, rd r, cap_segment *s)
{
	if (et == 0x0800)
		return parse_ipv4(r, s);
	if (et == 0x86dd)
		return parse_ipv6(r, s);
	return CAP_OTHER;
}

static cap_result parse_family(uint32_t af, rd r, cap_segment *s)
{
	if (af == 2)
		return parse_ipv4(r, s);
	if (af == 10 || af == 24 || af == 28 || af == 30) /* Linux, BSDs, macOS */
		return parse_ipv6(r, s);
	return CAP_OTHER;
}

cap_result cap_parse(int dlt, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
		     cap_segment *s)
{
	static const cap_segment blank = {.wscale = -1};
	rd r = {frame, caplen};
	uint16_t et;
	uint8_t b;
	/* (A copy of a constant, not memset: for these hundred bytes the
	 * compiler's memset is a rep stos, slow to start.) */
	memcpy(s, &blank, offsetof(cap_segment, payload));
	s->caplen = caplen;
	s->wirelen = wirelen;

	switch (dlt) {
	case DLT_EN10MB:
		if (!rd_be16(&r, 12, &et))
			return CAP_SHORT;
		rd_skip(&r, 14);
		for (int tags = 0; et == 0x8100 || et == 0x88a8 || et == 0x9100; tags++) {
			if (tags == 4 || !rd_be16(&r, 2, &et))
				return CAP_SHORT;
			rd_skip(&r, 4);
		}
		return parse_ethertype(et, r, s);
	case DLT_LINUX_SLL:
		if (!rd_be16(&r, 14, &et))
			return CAP_SHORT;
		rd_skip(&r, 16);
		return parse_ethertype(et, r, s);
	case DLT_LINUX_SLL2:
		if (!rd_be16(&r, 0, &et) || !rd_has(&r, 0, 20))
			return CAP_SHORT;
		rd_skip(&r, 20);
		return parse_ethertype(et, r, s);
	case DLT_NULL:
	case DLT_LOOP: {
		if (!rd_has(&r, 0, 4))
			return CAP_SHORT;
		uint32_t af;
		if (dlt == DLT_LOOP)
			rd_be32(&r, 0, &af);
		else /* host order of the machine that captured: accept either */
			af = r.p[0] ? r.p[0] : r.p[3];
		rd_skip(&r, 4);
		return parse_family(af, r, s);
	}
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (!rd_u8(&r, 0, &b))
			return CAP_SHORT;
		if ((b >> 4) == 4)
			return parse_ipv4(r, s);
		if ((b >> 4) == 6)
			return parse_ipv6(r, s);
		return CAP_OTHER;
	default:
		return CAP_OTHER;
	}
}

/* ---------------------------------------------------------------- sources */

struct cap_source {
	pcap_t *p;
	pcap_dumper_t *dump;
	bool live;
	bool immediate;
	bool streaming;             /* the file being read is not a regular one */
	volatile sig_atomic_t stop; /* cap_break(), from a signal handler */
	int dlt;
	cap_stats st;
	/* cap_run state */
	uint64_t count;
	cap_segment_fn seg_fn;
	cap_packet_fn pkt_fn;
	void *user;
	cap_batch_fn batch_fn;
	/* files: paths[cur] is being read; open_next() moves on */
	char **paths;
	size_t n_paths, cur;
	int *dlts;                  /* each file's link type (-1: stdin) */
	cap_options opts;
	int dump_dlt;
	uint64_t size_total;        /* of all files; 0: not known (a pipe) */
	uint64_t size_before, size_cur; /* of the files read before, this one */
	/* cap_options.map: the file being read, mapped (see read_mapped) */
	const uint8_t *map;
	size_t map_len, map_off;
	bool map_swapped, map_nsec;
	/* every map made, kept until cap_close (cap_stable) */
	struct cap_map {
		const uint8_t *p;
		size_t len;
	} *maps;
	size_t n_maps;
	/* cap_on_progress */
	cap_tick_fn tick_fn;
	void *tick_arg;
	int64_t tick_next_ms;
	bool has_prog;
	struct bpf_program prog;  /* files: filtered here, so every record is counted */
	/* frame numbers: every record read, filtered out or not */
	uint64_t frames;
	bool have_first;
	int64_t first_ns;
	/* live drop reports */
	cap_drops_fn drops_fn;
	int64_t drops_checked_ms;
	uint64_t drops_reported;
};

static int finish_open(cap_source *c, const cap_options *o, char *err, size_t errlen)
{
	c->dlt = pcap_datalink(c->p);
	if (o && o->filter && *o->filter) {
		struct bpf_program prog;
		if (pcap_compile(c->p, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "bad filter '%s': %s", o->filter, pcap_geterr(c->p));
			return -1;
		}
		/* A file is filtered in on_packet, after its record is
		 * counted, so frame numbers stay Wireshark's; live, the
		 * kernel filters and frames count what is captured. */
		int rc = 0;
		if (c->live) {
			rc = pcap_setfilter(c->p, &prog);
			pcap_freecode(&prog);
		} else {
			c->prog = prog;
			c->has_prog = true;
		}
		if (rc < 0) {
			snprintf(err, errlen, "cannot set filter '%s': %s", o->filter, pcap_geterr(c->p));
			return -1;
		}
	}
	if (o && o->dump_path && !c->dump)
		return cap_open_dump(c, o->dump_path, err, errlen);
	return 0;
}

int cap_check_filter(const char *filter, char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, CAP_DEFAULT_SNAPLEN);
	struct bpf_program prog;
	if (!p) {
		snprintf(err, errlen, "cannot check filter '%s': out of memory", filter);
		return -1;
	}
	int rc = pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN);
	if (rc < 0)
		snprintf(err, errlen, "bad filter '%s': %s", filter, pcap_geterr(p));
	else
		pcap_freecode(&prog);
	pcap_close(p);
	return rc < 0 ? -1 : 0;
}

/* A classic pcap file (version 2.4, micro- or nanosecond times, either
 * byte order) in a regular file is mapped; anything else is read by
 * libpcap alone. */
static void map_file(cap_source *c, FILE *f)
{
	struct stat st;
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size < 24)
		return;
	struct cap_map *maps = realloc(c->maps, (c->n_maps + 1) * sizeof *maps);
	if (!maps)
		return;
	c->maps = maps;
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fileno(f), 0);
	if (m == MAP_FAILED)
		return;
	const uint8_t *h = m;
	uint32_t magic = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
	bool ok = true;
	switch (magic) {
	case 0xa1b2c3d4: break;
	case 0xd4c3b2a1: c->map_swapped = true; break;
	case 0xa1b23c4d: c->map_nsec = true; break;
	case 0x4d3cb2a1: c->map_swapped = c->map_nsec = true; break;
	default: ok = false;
	}
	uint16_t major = c->map_swapped ? (uint16_t)(h[4] << 8 | h[5]) : (uint16_t)(h[5] << 8 | h[4]);
	uint16_t minor = c->map_swapped ? (uint16_t)(h[6] << 8 | h[7]) : (uint16_t)(h[7] << 8 | h[6]);
	if (!ok || major != 2 || minor != 4) {
		munmap(m, (size_t)st.st_size);
		return;
	}
	madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	c->map = m;
	c->map_len = (size_t)st.st_size;
	c->maps[c->n_maps++] = (struct cap_map){c->map, c->map_len};
}

/* The file at path ("-": stdin) opened by libpcap, or NULL with err set;
 * *fp is the FILE it reads. */
static pcap_t *open_pcap(const char *path, FILE **fp, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p) {
		/* libpcap's own words say what is wrong with the file. */
		snprintf(err, errlen, "cannot read '%s': %s", path, perr);
		if (f != stdin)
			fclose(f);
	}
	*fp = f;
	return p;
}

/* -w writes one pcap file, which holds one link type: the first file's. */
static int link_differs(const cap_source *c, int dlt, int want, const char *path, char *err,
			size_t errlen)
{
	if (dlt < 0 || dlt == want)
		return 0;
	snprintf(err, errlen, "'%s' has link type %s, '%s' %s: -w writes one pcap file, which "
		 "holds one", path, pcap_datalink_val_to_name(dlt), c->paths[0],
		 pcap_datalink_val_to_name(want));
	return -1;
}

/* path becomes the file being read: opened, mapped, filtered. */
static int open_path(cap_source *c, const char *path, char *err, size_t errlen)
{
	FILE *f;
	if (!(c->p = open_pcap(path, &f, err, errlen)))
		return -1;
	struct stat st;
	bool regular = !fstat(fileno(f), &st) && S_ISREG(st.st_mode);
	c->size_cur = f != stdin && regular ? (uint64_t)st.st_size : 0;
	c->streaming = !regular;
	c->map_off = 0;
	c->map_swapped = c->map_nsec = false;
	if (c->opts.map && f != stdin)
		map_file(c, f);
	if (c->dump && link_differs(c, pcap_datalink(c->p), c->dump_dlt, path, err, errlen) < 0)
		return -1;
	return finish_open(c, &c->opts, err, errlen);
}

/* The one place reading moves from a file to the next: the file read so
 * far is closed (its map stays, see cap_stable), paths[cur + 1] opened. */
static int open_next(cap_source *c, char *err, size_t errlen)
{
	pcap_t *p = c->p;
	c->p = NULL; /* before it goes: cap_break() may come from a signal */
	pcap_close(p);
	if (c->has_prog)
		pcap_freecode(&c->prog);
	c->has_prog = false;
	c->map = NULL;
	c->map_len = 0;
	c->size_before += c->size_cur;
	return open_path(c, c->paths[++c->cur], err, errlen);
}

/* Every file opened and closed again before the first is opened to be
 * read: it can be read, the filter compiles for its link type (dlts[],
 * for cap_open_dump).  The sizes add up to size_total, unless one is not
 * a regular file. */
static int check_files(cap_source *c, char *err, size_t errlen)
{
	struct stat st;
	bool known = true;
	if (!(c->dlts = calloc(c->n_paths, sizeof *c->dlts))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < c->n_paths; i++) {
		const char *path = c->paths[i];
		c->dlts[i] = -1;
		if (!strcmp(path, "-") || stat(path, &st) || !S_ISREG(st.st_mode))
			known = false;
		else
			c->size_total += (uint64_t)st.st_size;
		if (!strcmp(path, "-") && i) {
			snprintf(err, errlen, "'-' (stdin) can only be the first file");
			return -1;
		}
		if (!strcmp(path, "-"))
			continue; /* read once, for real */
		FILE *f;
		cap_source probe = {.p = open_pcap(path, &f, err, errlen)};
		if (!probe.p)
			return -1;
		cap_options o = c->opts;
		o.dump_path = NULL;
		int rc = finish_open(&probe, &o, err, errlen);
		c->dlts[i] = probe.dlt;
		if (probe.has_prog)
			pcap_freecode(&probe.prog);
		pcap_close(probe.p);
		if (rc < 0)
			return -1;
	}
	if (!known)
		c->size_total = 0;
	return 0;
}

int cap_open_dump(cap_source *c, const char *path, char *err, size_t errlen)
{
	/* Writing into a file that is also read would truncate it first. */
	struct stat d, st;
	for (size_t i = 0; i < c->n_paths && !stat(path, &d); i++)
		if (!stat(c->paths[i], &st) && st.st_dev == d.st_dev && st.st_ino == d.st_ino) {
			snprintf(err, errlen, "-w '%s' is also read (as '%s')", path, c->paths[i]);
			return -1;
		}
	for (size_t i = 1; c->dlts && i < c->n_paths; i++)
		if (link_differs(c, c->dlts[i], c->dlt, c->paths[i], err, errlen) < 0)
			return -1;
	errno = 0;
	c->dump = pcap_dump_open(c->p, path);
	if (!c->dump) {
		/* libpcap's message repeats the path; the errno says it all. */
		snprintf(err, errlen, "cannot write '%s': %s", path,
			 errno ? strerror(errno) : pcap_geterr(c->p));
		return -1;
	}
	c->dump_dlt = c->dlt;
	return 0;
}

cap_source *cap_open_files(const char *const *paths, size_t n, const cap_options *o, char *err,
			   size_t errlen)
{
	cap_source *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (o)
		c->opts = *o;
	if (cap_expand_paths(paths, n, &c->paths, &c->n_paths, err, errlen) < 0 ||
	    check_files(c, err, errlen) < 0 || open_path(c, c->paths[0], err, errlen) < 0) {
		cap_close(c);
		return NULL;
	}
	return c;
}

cap_source *cap_open_file(const char *path, const cap_options *o, char *err, size_t errlen)
{
	return cap_open_files(&path, 1, o, err, errlen);
}

bool cap_stable(const cap_source *c, const void *p)
{
	const uint8_t *b = p;
	if (c->map && b >= c->map && b < c->map + c->map_len)
		return true;
	for (size_t i = 0; i < c->n_maps; i++)
		if (b >= c->maps[i].p && b < c->maps[i].p + c->maps[i].len)
			return true;
	return false;
}

cap_source *cap_open_live(const char *iface, const cap_options *o, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	cap_source *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->live = true;
	c->p = pcap_create(iface, perr);
	if (!c->p) {
		snprintf(err, errlen, "cannot capture on '%s': %s", iface, perr);
		free(c);
		return NULL;
	}
	int snap = o && o->snaplen > 0 ? o->snaplen : CAP_DEFAULT_SNAPLEN;
	int buf = o && o->buffer_size > 0 ? o->buffer_size : (int)CAP_DEFAULT_BUFFER;
	pcap_set_snaplen(c->p, snap);
	pcap_set_buffer_size(c->p, buf);
	/* Immediate mode is libpcap's per-packet ring (TPACKET_V2 on Linux):
	 * one wakeup per packet.  Without it, Linux gives TPACKET_V3, whose
	 * blocks are handed over full or after the timeout, as tcpdump -w and
	 * tshark read them. */
	c->immediate = o && o->immediate;
	pcap_set_immediate_mode(c->p, c->immediate);
	pcap_set_timeout(c->p, CAP_BLOCK_TIMEOUT_MS);
	pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO);
	int rc = pcap_activate(c->p);
	if (rc < 0) {
		switch (rc) {
		case PCAP_ERROR_NO_SUCH_DEVICE:
			snprintf(err, errlen, "no such interface '%s'", iface);
			break;
		case PCAP_ERROR_PERM_DENIED:
			snprintf(err, errlen,
				 "capturing on '%s' needs the CAP_NET_RAW capability (run as root, "
				 "or: setcap cap_net_raw+ep jmsg): %s", iface, pcap_geterr(c->p));
			break;
		case PCAP_ERROR_IFACE_NOT_UP:
			snprintf(err, errlen, "interface '%s' is down", iface);
			break;
		default:
			snprintf(err, errlen, "cannot capture on '%s': %s", iface, pcap_geterr(c->p));
			break;
		}
		cap_close(c);
		return NULL;
	}
	if (finish_open(c, o, err, errlen) < 0) {
		cap_close(c);
		return NULL;
	}
	return c;
}

void cap_close(cap_source *c)
{
	if (!c)
		return;
	if (c->dump) {
		pcap_dump_flush(c->dump);
		pcap_dump_close(c->dump);
	}
	if (c->p)
		pcap_close(c->p);
	if (c->has_prog)
		pcap_freecode(&c->prog);
	for (size_t i = 0; i < c->n_maps; i++)
		munmap((void *)c->maps[i].p, c->maps[i].len);
	free(c->maps);
	free(c->dlts);
	cap_free_paths(c->paths, c->n_paths);
	free(c);
}

static int64_t mono_ms(void);

/* cap_on_progress: the coarse clock costs nanoseconds, so every packet
 * looks at it, and a slow pipe's packets are counted as they come. */
static void tick(cap_source *c)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
	int64_t ms = (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
	if (ms < c->tick_next_ms)
		return;
	c->tick_next_ms = ms + CAP_PROGRESS_MS;
	c->tick_fn(c->tick_arg);
}

/* Latest packet time taken as it is, in seconds: 2^62 ns, in 2116.  A
 * later one (a pcapng whose time resolution or units are wrong) is held
 * there, and an earlier than 1970 at 0, so that times and the differences
 * between any two fit in int64_t nanoseconds. */
#define CAP_MAX_SEC ((int64_t)(((uint64_t)1 << 62) / 1000000000))

static void on_packet(u_char *u, const struct pcap_pkthdr *h, const u_char *bytes)
{
	cap_source *c = (cap_source *)u;
	/* Sources are opened with nanosecond precision: tv_usec holds ns. */
	int64_t sec = h->ts.tv_sec < 0 ? 0 : h->ts.tv_sec > CAP_MAX_SEC ? CAP_MAX_SEC : h->ts.tv_sec;
	int64_t ns = sec * 1000000000 + h->ts.tv_usec;
	uint64_t frame = ++c->frames;
	if (!c->have_first) {
		c->have_first = true;
		c->first_ns = ns;
	}
	if (c->has_prog && !pcap_offline_filter(&c->prog, h, bytes))
		return;
	double ts = (double)ns / 1e9;
	c->st.packets++;
	c->st.bytes += h->len;
	if (c->dump)
		pcap_dump((u_char *)c->dump, h, bytes);
	if (c->pkt_fn)
		c->pkt_fn(c->user, ts);
	cap_segment s;
	cap_result r = cap_parse(c->dlt, bytes, h->caplen, h->len, &s);
	if (r == CAP_TCP) {
		c->st.tcp++;
		s.ts = ts;
		s.ts_ns = ns;
		s.frame = frame;
		c->seg_fn(c->user, &s);
	} else if (r == CAP_OTHER) {
		c->st.other++;
	} else {
		c->st.short_frames++;
	}
	if (c->count && c->st.packets >= c->count)
		pcap_breakloop(c->p);
	if (c->tick_fn)
		tick(c);
	if (c->streaming && c->batch_fn)
		c->batch_fn(c->user);
}

void cap_on_drops(cap_source *c, cap_drops_fn fn)
{
	c->drops_fn = fn;
}

void cap_on_batch(cap_source *c, cap_batch_fn fn)
{
	c->batch_fn = fn;
}

/* Reading the counters is a system call, so at most every
 * CAP_DROP_CHECK_MS; the kernel keeps counting in between. */
static void check_drops(cap_source *c, int64_t now_ns)
{
	if (!c->drops_fn)
		return;
	int64_t ms = now_ns / 1000000;
	if (ms - c->drops_checked_ms < CAP_DROP_CHECK_MS)
		return;
	c->drops_checked_ms = ms;
	cap_stats s;
	cap_get_stats(c, &s);
	if (!s.have_kernel || s.kernel_dropped + s.if_dropped <= c->drops_reported)
		return;
	c->drops_reported = s.kernel_dropped + s.if_dropped;
	c->drops_fn(c->user, now_ns, &s);
}

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Interrupted: what the kernel already captured is still read.  In block
 * mode the last block is handed over at most CAP_BLOCK_TIMEOUT_MS after
 * its first packet, so reading goes on that long (and a little more), then
 * stops even if traffic goes on. */
static void drain(cap_source *c)
{
	int fd = pcap_get_selectable_fd(c->p);
	int64_t end = mono_ms() + (c->immediate ? 0 : CAP_BLOCK_TIMEOUT_MS + 50);
	for (;;) {
		int rc = pcap_dispatch(c->p, -1, on_packet, (u_char *)c);
		if (rc == -2) /* the break that stopped the loop, once */
			rc = pcap_dispatch(c->p, -1, on_packet, (u_char *)c);
		if (rc < 0 || (c->count && c->st.packets >= c->count))
			return;
		int64_t left = end - mono_ms();
		if (left <= 0)
			return;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return;
	}
}

static uint32_t map_u32(const cap_source *c, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return c->map_swapped ? __builtin_bswap32(v) : v;
}

/* The mapped file's packets, as pcap_loop() would give them, straight from
 * the map.  At a record libpcap may treat specially (cut short by the end
 * of the map, longer than the snapshot length, a time past 2038 or with a
 * fraction of a second out of range) the rest goes to libpcap, from that
 * record on, so those cases read exactly as without the map; so does
 * whatever was appended to the file since it was mapped.  Returns what
 * pcap_loop() would. */
static int read_mapped(cap_source *c)
{
	size_t off = 24;
	uint32_t snap = (uint32_t)pcap_snapshot(c->p);
	while (!c->stop && !(c->count && c->st.packets >= c->count)) {
		if (c->map_len - off < 16)
			break;
		const uint8_t *h = c->map + off;
		uint32_t sec = map_u32(c, h), frac = map_u32(c, h + 4), caplen = map_u32(c, h + 8);
		if (caplen > snap || c->map_len - off - 16 < caplen || sec > INT32_MAX ||
		    frac >= (c->map_nsec ? 1000000000u : 1000000u))
			break;
		struct pcap_pkthdr ph;
		ph.ts.tv_sec = (time_t)sec;
		ph.ts.tv_usec = (suseconds_t)frac * (c->map_nsec ? 1 : 1000);
		ph.caplen = caplen;
		ph.len = map_u32(c, h + 12);
		off += 16 + (size_t)caplen;
		c->map_off = off;
		on_packet((u_char *)c, &ph, h + 16);
	}
	if (c->stop || (c->count && c->st.packets >= c->count))
		return -2;
	if (fseek(pcap_file(c->p), (long)off, SEEK_SET) < 0)
		return -1;
	return pcap_loop(c->p, -1, on_packet, (u_char *)c);
}

/* The files, one after another, until the last ends, or a break or the
 * count stops them.  Returns what pcap_loop() would; -1 leaves the error
 * in c->p's (or err already set: -3). */
static int read_files(cap_source *c, char *err, size_t errlen)
{
	for (;;) {
		int rc = c->map ? read_mapped(c) : pcap_loop(c->p, -1, on_packet, (u_char *)c);
		if (rc < 0 || c->stop || c->cur + 1 == c->n_paths)
			return rc;
		if (open_next(c, err, errlen) < 0)
			return -3;
	}
}

int cap_run(cap_source *c, uint64_t count, cap_segment_fn seg_fn, cap_packet_fn pkt_fn,
	    void *user, char *err, size_t errlen)
{
	c->count = count;
	c->seg_fn = seg_fn;
	c->pkt_fn = pkt_fn;
	c->user = user;
	int rc;
	if (!c->live) {
		rc = read_files(c, err, errlen);
	} else {
		/* Live: wait for packets ourselves, at most 100 ms at a time, and
		 * pass the clock on after every wait, so idle streams expire on
		 * a quiet link (libpcap's own blocking read in immediate mode
		 * does not come back without a packet). */
		char perr[PCAP_ERRBUF_SIZE];
		int fd = pcap_get_selectable_fd(c->p);
		if (fd < 0 || pcap_setnonblock(c->p, 1, perr) < 0) {
			snprintf(err, errlen, "cannot poll the capture: %s", fd < 0 ? "no descriptor" : perr);
			return -1;
		}
		for (;;) {
			if (c->stop) {
				drain(c);
				rc = -2;
				break;
			}
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			if (poll(&pfd, 1, CAP_BLOCK_TIMEOUT_MS) < 0 && errno != EINTR) {
				snprintf(err, errlen, "poll: %s", strerror(errno));
				return -1;
			}
			rc = pcap_dispatch(c->p, -1, on_packet, (u_char *)c);
			if (rc < 0 || (c->count && c->st.packets >= c->count))
				break;
			if (c->batch_fn)
				c->batch_fn(user);
			struct timespec now;
			clock_gettime(CLOCK_REALTIME, &now);
			if (pkt_fn)
				pkt_fn(user, (double)now.tv_sec + (double)now.tv_nsec / 1e9);
			check_drops(c, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
		}
	}
	if (c->dump)
		pcap_dump_flush(c->dump);
	if (rc == -1)
		snprintf(err, errlen, "%s", pcap_geterr(c->p));
	return rc == -1 || rc == -3 ? -1 : 0;
}

void cap_break(cap_source *c)
{
	c->stop = 1;
	pcap_t *p = c->p;
	if (p)
		pcap_breakloop(p);
}

const char *cap_path(const cap_source *c)
{
	return c->n_paths ? c->paths[c->cur] : "";
}

void cap_on_progress(cap_source *c, cap_tick_fn fn, void *arg)
{
	c->tick_fn = fn;
	c->tick_arg = arg;
}

void cap_get_progress(cap_source *c, cap_progress *p)
{
	p->packets = c->st.packets;
	p->file = c->cur + 1;
	p->files = c->n_paths;
	p->total = c->size_total;
	/* In the mapped part of a file, map_off; past it (libpcap reads from
	 * there on), the FILE's own position. */
	long at = c->p && pcap_file(c->p) ? ftell(pcap_file(c->p)) : -1;
	uint64_t pos = at > 0 && (uint64_t)at > c->map_off ? (uint64_t)at : c->map_off;
	p->done = c->size_before + (pos < c->size_cur ? pos : c->size_cur);
}

void cap_get_stats(cap_source *c, cap_stats *s)
{
	*s = c->st;
	s->live = c->live;
	if (c->live) {
		struct pcap_stat ps;
		if (pcap_stats(c->p, &ps) == 0) {
			s->have_kernel = true;
			s->kernel_received = ps.ps_recv;
			s->kernel_dropped = ps.ps_drop;
			s->if_dropped = ps.ps_ifdrop;
		}
	}
}

void cap_set_frames(cap_source *c, uint64_t frames, bool have_first, int64_t first_ns)
{
	c->frames = frames;
	c->have_first = have_first;
	c->first_ns = first_ns;
}

uint64_t cap_frames(const cap_source *c)
{
	return c->frames;
}

bool cap_first_time(const cap_source *c, int64_t *ns)
{
	*ns = c->first_ns;
	return c->have_first;
}

int cap_datalink(const cap_source *c)
{
	return c->dlt;
}

const char *cap_datalink_name(const cap_source *c)
{
	const char *n = pcap_datalink_val_to_name(c->dlt);
	return n ? n : "unknown";
}
