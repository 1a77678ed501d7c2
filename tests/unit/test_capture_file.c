/*
 * Unit tests of tcp/capture's sources: pcap files written here with
 * libpcap (nanosecond timestamps) are read back through cap_open_file and
 * cap_run, and what comes out is checked: the segments and their frame
 * numbers and times, the per-packet clock, the counters, a packet count
 * limit, a BPF filter, cap_break, a copy written with dump_path, and every
 * way opening or reading can fail, with its message.  A live capture on lo
 * is tried when the process may capture (root or CAP_NET_RAW), and skipped
 * otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tcp/capture.h"

/* Frames, in hex: Ethernet, IPv4, TCP 40001 -> 65432 (or UDP), payload. */
#define ETH "000000000001 000000000002 0800 "
#define IP4(total, proto) "45 00 " total " 0001 0000 40 " proto " 0000 0a000001 0a000002 "
#define TCP(seq) "9c41 ff98 " seq " 00000000 50 18 0200 0000 0000 "

static const struct pkt {
	const char *hex;
	uint32_t wirelen;     /* 0: the captured length */
	int64_t ts_ns;        /* since the epoch */
	const char *kind;     /* what cap_parse makes of it: "tcp", "other", "short" */
} pkts[] = {
	{ETH IP4("002c", "06") TCP("00000001") "00027b7d", 0, 1700000000000000001LL, "tcp"},
	{ETH IP4("0020", "11") "9c41 ff98 000c 0000 61626364", 0, 1700000000000000002LL, "other"},
	{ETH "4500", 0, 1700000000250000000LL, "short"},
	/* cut by the snapshot length: 4 of 100 payload bytes captured */
	{ETH IP4("008c", "06") TCP("00000005") "00027b7d", 154, 1700000001999999999LL, "tcp"},
	{"ffffffffffff 000000000002 0806 0001080006040001", 0, 1700000002000000000LL, "other"},
};
#define NPKTS (sizeof pkts / sizeof pkts[0])

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (; *s; s++) {
		if (*s == ' ')
			continue;
		int v = *s >= '0' && *s <= '9' ? *s - '0' : *s - 'a' + 10;
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return n;
}

struct dir {
	char path[64];
	char file[128];     /* the capture */
};

/* pkts[from..to) into a pcap file at path (nanosecond times). */
static int write_pcap(const char *path, size_t from, size_t to)
{
	pcap_t *p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *w = p ? pcap_dump_open(p, path) : NULL;
	if (!w)
		return -1;
	for (size_t i = from; i < to; i++) {
		uint8_t b[256];
		size_t n = unhex(pkts[i].hex, b, sizeof b);
		struct pcap_pkthdr h = {.caplen = (bpf_u_int32)n,
					.len = pkts[i].wirelen ? pkts[i].wirelen : (bpf_u_int32)n};
		h.ts.tv_sec = (time_t)(pkts[i].ts_ns / 1000000000);
		h.ts.tv_usec = (suseconds_t)(pkts[i].ts_ns % 1000000000); /* ns: nano precision */
		pcap_dump((u_char *)w, &h, b);
	}
	pcap_dump_close(w);
	pcap_close(p);
	return 0;
}

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof *d);
	snprintf(d->path, sizeof d->path, "/tmp/jmsg-capfile-XXXXXX");
	if (!mkdtemp(d->path))
		return -1;
	snprintf(d->file, sizeof d->file, "%s/in.pcap", d->path);
	if (write_pcap(d->file, 0, NPKTS) < 0)
		return -1;
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
	int rc = system(cmd);
	free(d);
	return rc == 0 ? 0 : -1;
}

/* What a run saw: "tcp#1@1700000000.000000001 seq=1 len=4/4" per segment,
 * and the clock each packet passed on. */
struct seen {
	char log[1024];
	size_t len;
	int64_t clock[16];
	size_t ticks;
	cap_source *src;
	int break_after;   /* cap_break() after this many segments (0: never) */
	int segs;
};

static void on_seg(void *user, const cap_segment *s)
{
	struct seen *w = user;
	int n = snprintf(w->log + w->len, sizeof w->log - w->len,
			 "tcp#%llu@%lld.%09lld seq=%u len=%u/%u ", (unsigned long long)s->frame,
			 (long long)(s->ts_ns / 1000000000), (long long)(s->ts_ns % 1000000000), s->seq,
			 s->payload_len, s->payload_wire);
	assert_true(n > 0 && (size_t)n < sizeof w->log - w->len);
	w->len += (size_t)n;
	/* ts is the same instant as ts_ns, to a double's precision */
	assert_true(s->ts > (double)s->ts_ns / 1e9 - 1e-6 && s->ts < (double)s->ts_ns / 1e9 + 1e-6);
	if (++w->segs == w->break_after)
		cap_break(w->src);
}

static void on_pkt(void *user, double ts)
{
	struct seen *w = user;
	if (w->ticks < 16)
		w->clock[w->ticks] = (int64_t)(ts * 1000.0 + 0.5); /* ms */
	w->ticks++;
}

static cap_source *open_ok(const char *path, const cap_options *o)
{
	char err[256] = "";
	cap_source *c = cap_open_file(path, o, err, sizeof err);
	if (!c)
		fail_msg("cap_open_file(%s): %s", path, err);
	return c;
}

static void run_ok(cap_source *c, uint64_t count, struct seen *w)
{
	char err[256] = "";
	w->src = c;
	if (cap_run(c, count, on_seg, on_pkt, w, err, sizeof err) != 0)
		fail_msg("cap_run: %s", err);
}

#define ALL_SEGS "tcp#1@1700000000.000000001 seq=1 len=4/4 tcp#4@1700000001.999999999 seq=5 len=4/100 "

static void test_read_all(void **state)
{
	struct dir *d = *state;
	cap_source *c = open_ok(d->file, NULL);
	assert_int_equal(cap_datalink(c), DLT_EN10MB);
	assert_string_equal(cap_datalink_name(c), "EN10MB");
	struct seen w = {.len = 0};
	run_ok(c, 0, &w);
	assert_string_equal(w.log, ALL_SEGS);
	/* every packet passes its time on first, TCP or not */
	assert_int_equal(w.ticks, NPKTS);
	static const int64_t ms[] = {1700000000000, 1700000000000, 1700000000250, 1700000002000,
				     1700000002000};
	for (size_t i = 0; i < NPKTS; i++)
		assert_int_equal(w.clock[i], ms[i]);
	cap_stats st;
	cap_get_stats(c, &st);
	assert_int_equal(st.packets, 5);
	assert_int_equal(st.tcp, 2);
	assert_int_equal(st.other, 2);
	assert_int_equal(st.short_frames, 1);
	assert_int_equal(st.bytes, 58 + 46 + 16 + 154 + 22);   /* wire lengths */
	assert_false(st.live);
	assert_false(st.have_kernel);
	cap_close(c);
}

static void test_count_limit(void **state)
{
	struct dir *d = *state;
	cap_source *c = open_ok(d->file, NULL);
	struct seen w = {.len = 0};
	run_ok(c, 3, &w);
	assert_string_equal(w.log, "tcp#1@1700000000.000000001 seq=1 len=4/4 ");
	cap_stats st;
	cap_get_stats(c, &st);
	assert_int_equal(st.packets, 3);
	assert_int_equal(st.short_frames, 1);
	cap_close(c);
}

static void test_break(void **state)
{
	/* cap_break() from inside the run (as a signal handler would) stops
	 * it after the current packet, and is not an error. */
	struct dir *d = *state;
	cap_source *c = open_ok(d->file, NULL);
	struct seen w = {.break_after = 1};
	run_ok(c, 0, &w);
	assert_string_equal(w.log, "tcp#1@1700000000.000000001 seq=1 len=4/4 ");
	cap_stats st;
	cap_get_stats(c, &st);
	assert_int_equal(st.packets, 1);
	cap_close(c);
}

static void test_filter(void **state)
{
	struct dir *d = *state;
	static const struct {
		const char *filter;
		uint64_t packets, tcp, other;
	} rows[] = {
		{"udp", 1, 0, 1},
		{"tcp port 65432", 2, 2, 0},
		{"arp or tcp", 3, 2, 1},
		{"", 5, 2, 2},     /* empty: no filter */
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		cap_options o = {.filter = rows[i].filter};
		cap_source *c = open_ok(d->file, &o);
		struct seen w = {.len = 0};
		run_ok(c, 0, &w);
		cap_stats st;
		cap_get_stats(c, &st);
		if (st.packets != rows[i].packets || st.tcp != rows[i].tcp || st.other != rows[i].other)
			fail_msg("filter '%s': %llu packets, %llu tcp, %llu other", rows[i].filter,
				 (unsigned long long)st.packets, (unsigned long long)st.tcp,
				 (unsigned long long)st.other);
		cap_close(c);
	}
}

static void test_dump(void **state)
{
	/* dump_path gets a copy of every packet read (after the filter),
	 * timestamps included; reading the copy gives the same segments. */
	struct dir *d = *state;
	char out[160];
	snprintf(out, sizeof out, "%s/copy.pcap", d->path);
	cap_options o = {.dump_path = out};
	cap_source *c = open_ok(d->file, &o);
	struct seen w = {.len = 0};
	run_ok(c, 0, &w);
	cap_close(c);
	c = open_ok(out, NULL);
	struct seen w2 = {.len = 0};
	run_ok(c, 0, &w2);
	assert_string_equal(w2.log, ALL_SEGS);
	cap_stats st;
	cap_get_stats(c, &st);
	assert_int_equal(st.packets, 5);
	cap_close(c);

	o.filter = "tcp";
	c = open_ok(d->file, &o);
	run_ok(c, 0, &w);
	cap_close(c);
	c = open_ok(out, NULL);
	run_ok(c, 0, &w2);
	cap_get_stats(c, &st);
	assert_int_equal(st.packets, 2);
	assert_int_equal(st.tcp, 2);
	cap_close(c);
}

static void test_stdin(void **state)
{
	struct dir *d = *state;
	assert_non_null(freopen(d->file, "rb", stdin));
	cap_source *c = open_ok("-", NULL);
	struct seen w = {.len = 0};
	run_ok(c, 0, &w);
	assert_string_equal(w.log, ALL_SEGS);
	cap_close(c);  /* closes stdin */
}

static void test_open_errors(void **state)
{
	struct dir *d = *state;
	char junk[160], cut[160], want[512], err[256];
	snprintf(junk, sizeof junk, "%s/junk.pcap", d->path);
	FILE *f = fopen(junk, "wb");
	assert_non_null(f);
	fputs("this is not a capture file at all\n", f);
	fclose(f);

	cap_options bad = {.filter = "tcp port"};
	cap_options nodir = {.dump_path = "/nonexistent-dir/copy.pcap"};
	const struct {
		const char *path;
		const cap_options *o;
		const char *want_prefix;
	} rows[] = {
		{"/nonexistent-dir/in.pcap", NULL,
		 "cannot open '/nonexistent-dir/in.pcap': No such file or directory"},
		{junk, NULL, "cannot read '"},
		{d->file, &bad, "bad filter 'tcp port': "},
		{d->file, &nodir, "cannot write '/nonexistent-dir/copy.pcap': No such file or directory"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		snprintf(err, sizeof err, "(untouched)");
		assert_null(cap_open_file(rows[i].path, rows[i].o, err, sizeof err));
		if (strncmp(err, rows[i].want_prefix, strlen(rows[i].want_prefix)))
			fail_msg("%s: got \"%s\", want \"%s...\"", rows[i].path, err, rows[i].want_prefix);
	}
	snprintf(want, sizeof want, "cannot read '%s': ", junk);
	assert_null(cap_open_file(junk, NULL, err, sizeof err));
	assert_memory_equal(err, want, strlen(want));
	assert_true(strlen(err) > strlen(want)); /* libpcap's reason follows */

	/* A file cut inside its last packet: reading fails with libpcap's words. */
	snprintf(cut, sizeof cut, "%s/cut.pcap", d->path);
	struct stat sb;
	assert_int_equal(stat(d->file, &sb), 0);
	snprintf(want, sizeof want, "head -c %lld '%s' > '%s'", (long long)sb.st_size - 3, d->file, cut);
	assert_int_equal(system(want), 0);
	cap_source *c = open_ok(cut, NULL);
	struct seen w = {.len = 0};
	w.src = c;
	assert_int_equal(cap_run(c, 0, on_seg, NULL, &w, err, sizeof err), -1);
	assert_non_null(strstr(err, "truncated"));
	assert_string_equal(w.log, ALL_SEGS); /* the cut packet is ARP: all TCP came before it */
	cap_close(c);
	cap_close(NULL);
}

static void test_check_filter(void **state)
{
	static const struct {
		const char *filter;
		int rc;
	} rows[] = {
		{"tcp port 65432", 0},
		{"ip6 and tcp", 0},
		{"vlan and tcp", 0},
		{"tcp port", -1},
		{"port 99999999", -1},
		{"tcp and and", -1},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char err[256] = "";
		int rc = cap_check_filter(rows[i].filter, err, sizeof err);
		if (rc != rows[i].rc)
			fail_msg("'%s': %d (%s), want %d", rows[i].filter, rc, err, rows[i].rc);
		if (rc) {
			char want[128];
			snprintf(want, sizeof want, "bad filter '%s': ", rows[i].filter);
			assert_memory_equal(err, want, strlen(want));
		}
	}
}

static void test_live_errors(void **state)
{
	char err[256];
	assert_null(cap_open_live("nonexistent-if0", NULL, err, sizeof err));
	/* Without the capability, libpcap may say so before it looks for the
	 * interface. */
	if (strcmp(err, "no such interface 'nonexistent-if0'") &&
	    strncmp(err, "capturing on 'nonexistent-if0' needs the CAP_NET_RAW capability", 63))
		fail_msg("got \"%s\"", err);
}

/* ---- live, on lo, when allowed */

struct live {
	struct seen w;
	cap_source *c;
	double start;
	int udp_seen;
};

static void live_pkt(void *user, double ts)
{
	struct live *l = user;
	if (ts - l->start > 5)
		cap_break(l->c);  /* never hang the test */
}

static void test_live_lo(void **state)
{
	char err[256];
	uint16_t port = (uint16_t)(40000 + getpid() % 20000);
	char filter[64];
	snprintf(filter, sizeof filter, "udp and dst port %u", port);
	cap_options o = {.filter = filter, .snaplen = 128, .buffer_size = 1 << 20};
	cap_source *c = cap_open_live("lo", &o, err, sizeof err);
	if (!c) {
		print_message("skipped: cannot capture on lo here: %s\n", err);
		skip();
	}
	assert_string_equal(cap_datalink_name(c), "EN10MB");
	cap_options bad = {.filter = "tcp port"};
	assert_null(cap_open_live("lo", &bad, err, sizeof err));
	assert_memory_equal(err, "bad filter 'tcp port': ", 23);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 2; i++)
		assert_int_equal(sendto(fd, "ping", 4, 0, (struct sockaddr *)&a, sizeof a), 4);
	close(fd);

	struct live l = {.c = c};
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	l.start = (double)now.tv_sec;
	/* count 2: both datagrams, then cap_run returns by itself */
	assert_int_equal(cap_run(c, 2, on_seg, live_pkt, &l, err, sizeof err), 0);
	cap_stats st;
	cap_get_stats(c, &st);
	assert_true(st.live);
	assert_int_equal(st.packets, 2);
	assert_int_equal(st.other, 2);
	assert_int_equal(st.tcp, 0);
	assert_int_equal(st.bytes, 2 * (14 + 20 + 8 + 4));
	assert_true(st.have_kernel);
	assert_true(st.kernel_received >= 2);

	/* Nothing more comes: the clock still ticks (every 100 ms), and a
	 * cap_break() from the tick ends the run. */
	l.start -= 5;
	assert_int_equal(cap_run(c, 0, on_seg, live_pkt, &l, err, sizeof err), 0);
	cap_get_stats(c, &st);
	assert_int_equal(st.packets, 2);
	cap_close(c);
}

/* A directory as tcpdump -C leaves it: cap, cap1, cap2, cap10 (natural
 * order, not strcmp's: cap10 sorts before cap2 there), plus what is not
 * read: a hidden file and a subdirectory. */
static void make_rotated(const struct dir *d, char *rot, size_t n)
{
	static const struct {
		const char *name;
		size_t from, to;
	} parts[] = {{"cap", 0, 2}, {"cap1", 2, 3}, {"cap2", 3, 4}, {"cap10", 4, 5}, {".x", 0, 5}};
	char path[256];
	snprintf(rot, n, "%s/rot", d->path);
	mkdir(rot, 0700);
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", rot, parts[i].name);
		assert_int_equal(write_pcap(path, parts[i].from, parts[i].to), 0);
	}
	snprintf(path, sizeof path, "%s/sub", rot);
	mkdir(path, 0700);
}

static void test_files(void **state)
{
	struct dir *d = *state;
	char rot[160], err[256] = "";
	make_rotated(d, rot, sizeof rot);
	const char *one[] = {rot};
	char **v;
	size_t n;
	assert_int_equal(cap_expand_paths(one, 1, &v, &n, err, sizeof err), 0);
	assert_int_equal(n, 4);
	static const char *const want[] = {"cap", "cap1", "cap2", "cap10"};
	for (size_t i = 0; i < n; i++)
		assert_string_equal(strrchr(v[i], '/') + 1, want[i]);
	cap_free_paths(v, n);
	/* read as one capture, from a map or not: the frames count on */
	for (int map = 0; map < 2; map++) {
		cap_options o = {.map = map};
		cap_source *c = cap_open_files(one, 1, &o, err, sizeof err);
		if (!c)
			fail_msg("cap_open_files: %s", err);
		cap_progress p;
		cap_get_progress(c, &p);
		assert_int_equal(p.files, 4);
		assert_int_equal(p.file, 1);
		assert_true(p.done <= 24);   /* the header, read at the opening */
		struct seen w = {.len = 0};
		run_ok(c, 0, &w);
		assert_string_equal(w.log, ALL_SEGS);
		assert_int_equal(w.ticks, NPKTS);
		cap_get_progress(c, &p);
		assert_int_equal(p.file, 4);
		assert_int_equal(p.packets, NPKTS);
		assert_true(p.total > 4 * 24);
		assert_int_equal(p.done, p.total);
		assert_string_equal(strrchr(cap_path(c), '/') + 1, "cap10");
		cap_close(c);
	}
	/* the files one by one, and a count that ends in the third */
	char f[4][200];
	const char *fs[4];
	for (int i = 0; i < 4; i++) {
		snprintf(f[i], sizeof f[i], "%s/%s", rot, want[i]);
		fs[i] = f[i];
	}
	cap_source *c = cap_open_files(fs, 4, NULL, err, sizeof err);
	assert_non_null(c);
	struct seen w = {.len = 0};
	run_ok(c, 4, &w);
	assert_string_equal(w.log, "tcp#1@1700000000.000000001 seq=1 len=4/4 tcp#4@1700000001.999999999 seq=5 len=4/100 ");
	assert_string_equal(strrchr(cap_path(c), '/') + 1, "cap2");
	cap_close(c);
}

static void test_files_errors(void **state)
{
	struct dir *d = *state;
	char rot[160], empty[160], nope[160], err[256] = "", want[600];
	make_rotated(d, rot, sizeof rot);
	snprintf(empty, sizeof empty, "%s/rot/sub", d->path);
	snprintf(nope, sizeof nope, "%s/nope", d->path);
	const char *a[] = {rot, "-"};
	assert_null(cap_open_files(a, 2, NULL, err, sizeof err));
	assert_string_equal(err, "'-' (stdin) can only be the first file");
	const char *b[] = {d->file, empty};
	assert_null(cap_open_files(b, 2, NULL, err, sizeof err));
	snprintf(want, sizeof want, "'%s' is a directory with no files to read in it", empty);
	assert_string_equal(err, want);
	const char *c[] = {d->file, rot, nope};
	assert_null(cap_open_files(c, 3, NULL, err, sizeof err));
	snprintf(want, sizeof want, "cannot open '%s': No such file or directory", nope);
	assert_string_equal(err, want);
	/* a filter that does not compile for a later file's link type */
	char raw[200];
	snprintf(raw, sizeof raw, "%s/raw.pcap", d->path);
	pcap_t *p = pcap_open_dead(DLT_RAW, 65535);
	pcap_dumper_t *w = pcap_dump_open(p, raw);
	assert_non_null(w);
	pcap_dump_close(w);
	pcap_close(p);
	cap_options o = {.filter = "ether host 1:2:3:4:5:6"};
	const char *e[] = {d->file, raw};
	assert_null(cap_open_files(e, 2, &o, err, sizeof err));
	assert_non_null(strstr(err, "bad filter 'ether host 1:2:3:4:5:6'"));
	/* -w: one link type */
	char out[200];
	snprintf(out, sizeof out, "%s/w.pcap", d->path);
	cap_options ow = {.dump_path = out};
	assert_null(cap_open_files(e, 2, &ow, err, sizeof err));
	snprintf(want, sizeof want, "'%s' has link type RAW, '%s' EN10MB: -w writes one pcap file, "
		 "which holds one", raw, d->file);
	assert_string_equal(err, want);
	/* -w into a file that is read: refused before it is truncated */
	char cap1[200];
	snprintf(cap1, sizeof cap1, "%s/cap1", rot);
	cap_options o1 = {.dump_path = cap1};
	const char *r[] = {rot};
	struct stat before, after;
	assert_int_equal(stat(cap1, &before), 0);
	assert_null(cap_open_files(r, 1, &o1, err, sizeof err));
	snprintf(want, sizeof want, "-w '%s' is also read (as '%s')", cap1, cap1);
	assert_string_equal(err, want);
	assert_int_equal(stat(cap1, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_all),
		cmocka_unit_test(test_count_limit),
		cmocka_unit_test(test_break),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_files_errors),
		cmocka_unit_test(test_check_filter),
		cmocka_unit_test(test_live_errors),
		cmocka_unit_test(test_live_lo),
	};
	return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
