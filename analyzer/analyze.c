/*
 * jmsg analyze: the command line of the analyzer.  Capture (capture.h) ->
 * engine (stream.h) -> report (report.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/opts.h"
#include "tcp/capture.h"
#include "analyzer/report.h"
#include "stall/stall.h"
#include "tcp/stream.h"
#include "analyzer/workers.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static cap_source *volatile running_source;
static stall_cli stall;  /* the an_sink has one user pointer: the report's */

static void on_signal(int sig)
{
	if (running_source)
		cap_break(running_source);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: jmsg analyze (-i IFACE | -r FILE) [options] [BPF filter expression]\n"
"\n"
"Decode the length-prefixed JSON message protocol from a live capture or a\n"
"pcap/pcapng file: TCP is reassembled per direction, every message is\n"
"decoded and validated, responses are paired with requests, and every\n"
"problem (gaps, truncation, overlap conflicts, resets, bad headers...) is\n"
"named with the spec's id.\n"
"\n"
"source:\n"
"  -i IFACE              capture live on IFACE (e.g. lo); needs CAP_NET_RAW\n"
"  -r FILE               read a pcap or pcapng file ('-' for stdin)\n"
"  FILTER...             a BPF filter, as for tcpdump (e.g. tcp port 65432)\n"
"  -c N                  stop after N packets\n"
"  -w FILE               also write the packets read to a pcap file\n"
"  -s SNAPLEN            live snapshot length (default %d)\n"
"  -B BYTES              live capture buffer: the kernel ring packets wait in\n"
"                        while the analyzer is busy (default %u MiB, locked in\n"
"                        kernel memory for as long as the capture runs)\n"
"  --immediate           live: wake up for every packet instead of reading the\n"
"                        ring in blocks (handed over full, or %d ms after their\n"
"                        first packet); costs CPU under load\n"
"\n"
"protocol:\n"
"  --port P              a server port (repeatable; default %d)\n"
"  --max-content BYTES   largest content decoded (default %llu)\n"
"\n"
"output:\n"
"  --json                JSON lines: message, error, stream events, summary\n"
"  -q                    only problems and the summary\n"
"  -l                    write each event line as soon as it is made (live\n"
"                        captures always do; default for files: 64 KiB blocks)\n"
"  --max-hex BYTES       non-JSON content bytes shown per message (default 1024)\n"
"\n"
"threads:\n"
"  --workers N           analyze with N threads, 1 to %d (default 1): one reads,\n"
"                        each stream goes to one of them by its endpoints; the\n"
"                        output is the same but for the stream numbers.  Each\n"
"                        gets 1/N of --memcap and --max-streams; no --plot, and\n"
"                        live, stalls from the wire only\n"
"\n"
"limits:\n"
"  --idle-timeout SECS   end streams idle this long, capture time (default 300; 0 never)\n"
"  --memcap BYTES        held and buffered bytes, all streams (default 1G)\n"
"  --stream-memcap BYTES held and buffered bytes, one stream direction (default 80M)\n"
"  --max-streams N       streams tracked at once (default 1000000)\n"
"  --overlap-window BYTES delivered bytes kept per direction to check\n"
"                        retransmissions against (default 2048)\n"
"\n"
"%s"
"BYTES take a k, M or G suffix (powers of 1024).  Live capture runs until\n"
"interrupted (Ctrl-C) or -c, then prints the summary with the kernel's drop\n"
"count.  Packets the kernel drops are reported as they happen (a\n"
"capture_drops event, shown with -q too); the streams they belong to show\n"
"gaps, and no message is made up across a gap.\n"
"\n"
"exit status: 0 done (whatever the traffic held), 1 the capture could not\n"
"be opened or read, 2 bad command line.\n",
		CAP_DEFAULT_SNAPLEN, CAP_DEFAULT_BUFFER >> 20, CAP_BLOCK_TIMEOUT_MS, JM_SPEC_DEFAULT_PORT,
		(unsigned long long)JM_SPEC_DEFAULT_MAX_CONTENT_LEN, WK_MAX, stall_cli_usage());
}

static int bad(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "jmsg analyze: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, " (see 'jmsg analyze --help')\n");
	return EXIT_USAGE;
}

/* A non-negative size with an optional k/M/G suffix, at most max. */
static int parse_size(const char *s, unsigned long long max, unsigned long long *out)
{
	uint64_t v;
	if (opt_parse_size(s, &v) || v > max)
		return -1;
	*out = v;
	return 0;
}

struct run {
	an_engine *e;
	report *rep;
};

static void seg_cb(void *user, const cap_segment *seg)
{
	struct run *r = user;
	an_engine_segment(r->e, seg);
}

static void pkt_cb(void *user, double ts)
{
	struct run *r = user;
	an_engine_tick(r->e, ts);
	stall_cli_tick(&stall, ts);
}

static void drops_cb(void *user, int64_t now_ns, const cap_stats *cs)
{
	struct run *r = user;
	report_capture_drops(r->rep, now_ns, cs);
}

static void stall_seg_cb(void *user, flow *f, an_dir dir, const cap_segment *seg)
{
	stall_cli_segment(&stall, f, dir, seg);
}

int analyze_main(int argc, char **argv)
{
	enum {
		O_PORT = 256, O_JSON, O_IDLE, O_MEMCAP, O_SMEMCAP, O_MAXSTREAMS, O_MAXCONTENT,
		O_MAXHEX, O_OVERLAP, O_STALL, O_IMMEDIATE, O_WORKERS,
	};
	static const struct option longopts[] = {
		{"port", required_argument, NULL, O_PORT},
		{"json", no_argument, NULL, O_JSON},
		{"idle-timeout", required_argument, NULL, O_IDLE},
		{"memcap", required_argument, NULL, O_MEMCAP},
		{"stream-memcap", required_argument, NULL, O_SMEMCAP},
		{"max-streams", required_argument, NULL, O_MAXSTREAMS},
		{"max-content", required_argument, NULL, O_MAXCONTENT},
		{"max-hex", required_argument, NULL, O_MAXHEX},
		{"overlap-window", required_argument, NULL, O_OVERLAP},
		{"stall-ms", required_argument, NULL, O_STALL},
		{"sample-ms", required_argument, NULL, O_STALL},
		{"plot", required_argument, NULL, O_STALL},
		{"plot-stream", required_argument, NULL, O_STALL},
		{"no-kernel", no_argument, NULL, O_STALL},
		{"immediate", no_argument, NULL, O_IMMEDIATE},
		{"workers", required_argument, NULL, O_WORKERS},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	an_config cfg;
	an_config_defaults(&cfg);
	cap_options co = {0};
	const char *iface = NULL, *file = NULL;
	bool json = false, quiet = false, linebuf = false;
	unsigned long long count = 0, v, workers = 1;
	int c, li = 0;
	char serr[200];
	stall_cli_init(&stall);

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+i:r:w:c:qls:B:h", longopts, &li)) != -1) {
		switch (c) {
		case 'i': iface = optarg; break;
		case 'r': file = optarg; break;
		case 'w': co.dump_path = optarg; break;
		case 'q': quiet = true; break;
		case 'l': linebuf = true; break;
		case O_JSON: json = true; break;
		case O_IMMEDIATE: co.immediate = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'c':
			if (parse_size(optarg, ULLONG_MAX, &count) || !count)
				return bad("-c wants a positive packet count, not '%s'%s", optarg, "");
			break;
		case 's':
			if (parse_size(optarg, 262144, &v) || v < 96)
				return bad("-s wants a snapshot length from 96 to 262144, not '%s'%s", optarg, "");
			co.snaplen = (int)v;
			break;
		case 'B':
			if (parse_size(optarg, INT_MAX, &v) || v < 65536)
				return bad("-B wants a buffer size from 64k to 2G, not '%s'%s", optarg, "");
			co.buffer_size = (int)v;
			break;
		case O_PORT:
			if (parse_size(optarg, 65535, &v) || !v || strpbrk(optarg, "kKmMgG"))
				return bad("--port wants a port from 1 to 65535, not '%s'%s", optarg, "");
			if (cfg.n_ports == AN_MAX_PORTS)
				return bad("at most %s ports%s", "64", "");
			cfg.ports[cfg.n_ports++] = (uint16_t)v;
			break;
		case O_IDLE: {
			char *end;
			errno = 0;
			double d = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(d >= 0) || d > 1e9)
				return bad("--idle-timeout wants seconds (0 for never), not '%s'%s", optarg, "");
			cfg.idle_timeout = d;
			break;
		}
		case O_MEMCAP:
			if (parse_size(optarg, SIZE_MAX / 2, &v) || v < (1u << 20))
				return bad("--memcap wants a size of at least 1M, not '%s'%s", optarg, "");
			cfg.memcap = (size_t)v;
			break;
		case O_SMEMCAP:
			if (parse_size(optarg, SIZE_MAX / 4, &v) || v < (64u << 10))
				return bad("--stream-memcap wants a size of at least 64k, not '%s'%s", optarg, "");
			cfg.stream_memcap = (size_t)v;
			break;
		case O_MAXSTREAMS:
			if (parse_size(optarg, 100000000, &v) || !v)
				return bad("--max-streams wants a positive count, not '%s'%s", optarg, "");
			cfg.max_streams = (size_t)v;
			break;
		case O_MAXCONTENT:
			if (parse_size(optarg, (1ull << 40), &v) || !v)
				return bad("--max-content wants a positive size, not '%s'%s", optarg, "");
			cfg.max_content = v;
			break;
		case O_MAXHEX:
			if (parse_size(optarg, 64u << 20, &v))
				return bad("--max-hex wants a size up to 64M, not '%s'%s", optarg, "");
			cfg.max_hex = (size_t)v;
			break;
		case O_OVERLAP:
			if (parse_size(optarg, 1u << 30, &v))
				return bad("--overlap-window wants a size up to 1G, not '%s'%s", optarg, "");
			cfg.overlap_history = (uint32_t)v;
			break;
		case O_WORKERS:
			if (parse_size(optarg, WK_MAX, &workers) || !workers || strpbrk(optarg, "kKmMgG"))
				return bad("--workers wants a count from 1 to %s, not '%s'", "64", optarg);
			break;
		case O_STALL:
			if (stall_cli_option(&stall, longopts[li].name, optarg ? optarg : "", serr, sizeof serr))
				return bad("%s%s", serr, "");
			break;
		case '?':
		default:
			if (optopt && optopt < 256 && strchr("irwcsB", optopt))
				return bad("option -%s needs a value%s", (char[]){(char)optopt, 0}, "");
			return bad("unknown option '%s'%s", argv[optind - 1], "");
		}
	}
	if (!!iface == !!file)
		return bad("give exactly one of -i IFACE or -r FILE%s%s", "", "");
	if (workers > 1 && (stall.plot_path || stall.cfg.plot_stream >= 0))
		return bad("--plot and --plot-stream need --workers 1%s%s", "", "");

	/* The trailing words are one BPF expression, as tcpdump takes it. */
	char *filter = NULL;
	if (optind < argc) {
		size_t n = 0;
		for (int i = optind; i < argc; i++)
			n += strlen(argv[i]) + 1;
		filter = malloc(n);
		if (!filter)
			return EXIT_RUNTIME;
		filter[0] = 0;
		for (int i = optind; i < argc; i++) {
			if (i > optind)
				strcat(filter, " ");
			strcat(filter, argv[i]);
		}
		co.filter = filter;
	}

	char err[512];
	if (filter && cap_check_filter(filter, err, sizeof err)) {
		free(filter);
		return bad("%s%s", err, "");
	}
	co.map = workers > 1; /* workers.h: the payloads are not copied */
	cap_source *src = file ? cap_open_file(file, &co, err, sizeof err)
			       : cap_open_live(iface, &co, err, sizeof err);
	if (!src) {
		fprintf(stderr, "jmsg analyze: %s\n", err);
		free(filter);
		return EXIT_RUNTIME;
	}

	static char outbuf[1 << 16];
	if (iface || linebuf)
		setvbuf(stdout, NULL, _IOLBF, 0); /* a person is watching */
	else
		setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

	if (workers > 1) { /* workers.h: one reader, N analysis threads */
		wk_options wo = {
			.workers = (unsigned)workers, .cfg = &cfg, .stall = &stall.cfg, .json = json,
			.quiet = quiet, .live = iface != NULL, .count = count, .out = stdout,
		};
		struct sigaction wsa;
		memset(&wsa, 0, sizeof wsa);
		wsa.sa_handler = on_signal;
		sigemptyset(&wsa.sa_mask);
		running_source = src;
		sigaction(SIGINT, &wsa, NULL);
		sigaction(SIGTERM, &wsa, NULL);
		if (iface) {
			fprintf(stderr, "jmsg analyze: listening on %s, link-type %s, snapshot length %d bytes\n",
				iface, cap_datalink_name(src), co.snaplen ? co.snaplen : CAP_DEFAULT_SNAPLEN);
			if (!stall.no_kernel)
				fprintf(stderr, "jmsg analyze: kernel view off with --workers; stalls from the wire only\n");
		}
		int wrc = wk_run(src, &wo, err, sizeof err);
		running_source = NULL;
		if (wrc == -1)
			fprintf(stderr, "jmsg analyze: reading %s: %s\n", file ? file : iface, err);
		else if (wrc)
			fprintf(stderr, "jmsg analyze: %s\n", err);
		stall_cli_free(&stall);
		cap_close(src);
		free(filter);
		return wrc ? EXIT_RUNTIME : EXIT_OK;
	}

	report rep;
	report_init(&rep, stdout, json, quiet);
	an_sink sink;
	report_sink(&rep, &sink);
	sink.segment = stall_seg_cb;
	an_engine *e = an_engine_new(&cfg, &sink);
	if (!e) {
		fprintf(stderr, "jmsg analyze: out of memory\n");
		cap_close(src);
		free(filter);
		return EXIT_RUNTIME;
	}
	if (stall_cli_start(&stall, e, iface != NULL, &cfg, json, stdout, serr, sizeof serr)) {
		fprintf(stderr, "jmsg analyze: %s\n", serr);
		an_engine_free(e);
		stall_cli_free(&stall);
		cap_close(src);
		free(filter);
		return EXIT_RUNTIME;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	running_source = src;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (iface) /* as tcpdump does: capture is on and Ctrl-C is handled */
		fprintf(stderr, "jmsg analyze: listening on %s, link-type %s, snapshot length %d bytes\n",
			iface, cap_datalink_name(src), co.snaplen ? co.snaplen : CAP_DEFAULT_SNAPLEN);

	struct run run = {e, &rep};
	cap_on_drops(src, drops_cb);
	int rc = cap_run(src, count, seg_cb, pkt_cb, &run, err, sizeof err);
	/* The handler stays: a second SIGINT (timeout(1) and shells send one
	 * to the child and another to its process group) must not kill the
	 * summary; with no source it does nothing. */
	running_source = NULL;

	stall_cli_flush(&stall);
	an_engine_finish(e);
	int plot_rc = stall_cli_finish(&stall, serr, sizeof serr);
	cap_stats cs;
	an_stats as;
	cap_get_stats(src, &cs);
	an_engine_stats(e, &as);
	report_summary(&rep, &cs, &as);
	fflush(stdout);
	if (rc < 0)
		fprintf(stderr, "jmsg analyze: reading %s: %s\n", file ? file : iface, err);

	if (plot_rc)
		fprintf(stderr, "jmsg analyze: %s\n", serr);
	an_engine_free(e);
	stall_cli_free(&stall);
	report_free(&rep);
	cap_close(src);
	free(filter);
	return rc < 0 || plot_rc ? EXIT_RUNTIME : EXIT_OK;
}
