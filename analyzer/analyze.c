/*
 * jmsg analyze: the command line of the analyzer (analyze.h).  Capture
 * (capture.h) -> engine (stream.h) -> report (report.h), or with --workers
 * N, workers.h.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/exit.h"
#include "cmd/opts.h"
#include "analyzer/analyze.h"
#include "analyzer/report.h"
#include "analyzer/workers.h"

static cap_source *volatile running_source;

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
"  --port P              a server port, decoded whatever its first bytes are\n"
"                        (repeatable; default %d).  Ports the filter names\n"
"                        (port N, tcp port N, src/dst port N) count as --port\n"
"  --no-heuristic        decode only those ports; by default a flow on any\n"
"                        other port is decoded when its first data is a\n"
"                        protoheader and a JSON header with the required keys\n"
"                        (the Wireshark dissector's heuristic)\n"
"  --max-content BYTES   largest content decoded (default %llu)\n"
"\n"
"output:\n"
"  --json                JSON lines: message, error, stream events, summary\n"
"  -q                    only problems and the summary\n"
"  -l                    write each event line as soon as it is made (default:\n"
"                        live, after each block of packets, at most 100 ms\n"
"                        apart; files, in 64 KiB blocks)\n"
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
"be opened or read, the plot not written or memory ran out, 2 bad command\n"
"line (one line on stderr).\n",
		CAP_DEFAULT_SNAPLEN, CAP_DEFAULT_BUFFER >> 20, CAP_BLOCK_TIMEOUT_MS, JM_SPEC_DEFAULT_PORT,
		(unsigned long long)JM_SPEC_DEFAULT_MAX_CONTENT_LEN, WK_MAX, stall_cli_usage());
}

/* ---------------------------------------------------------------- command line */

/* One line in err, "jmsg analyze: WHAT (see ...)"; the usage status. */
static int usage_error(jm_buf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(jm_buf *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jm_buf_printf(err, "jmsg analyze: ");
	jm_buf_vprintf(err, fmt, ap);
	jm_buf_printf(err, " (see 'jmsg analyze --help')");
	va_end(ap);
	return JM_EXIT_USAGE;
}

enum {
	O_PORT = 256, O_JSON, O_IDLE, O_MEMCAP, O_SMEMCAP, O_MAXSTREAMS, O_MAXCONTENT,
	O_MAXHEX, O_OVERLAP, O_STALL, O_IMMEDIATE, O_WORKERS, O_NOHEUR,
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
	{"no-heuristic", no_argument, NULL, O_NOHEUR},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The numeric options: counts and byte sizes, each with an optional k, M
 * or G suffix (opt_parse_size), in [min, max]. */
static const struct number_option {
	int code;
	const char *name;
	uint64_t min, max;
	const char *wants;        /* "NAME wants WANTS, not 'ARG'" */
} numbers[] = {
	{'c', "-c", 1, UINT64_MAX, "a positive packet count"},
	{'s', "-s", 96, 262144, "a snapshot length from 96 to 262144"},
	{'B', "-B", 65536, INT_MAX, "a buffer size from 64k to 2G"},
	{O_MEMCAP, "--memcap", 1u << 20, SIZE_MAX / 2, "a size of at least 1M"},
	{O_SMEMCAP, "--stream-memcap", 64u << 10, SIZE_MAX / 4, "a size of at least 64k"},
	{O_MAXSTREAMS, "--max-streams", 1, 100000000, "a positive count"},
	{O_MAXCONTENT, "--max-content", 1, 1ull << 40, "a positive size"},
	{O_MAXHEX, "--max-hex", 0, 64u << 20, "a size up to 64M"},
	{O_OVERLAP, "--overlap-window", 0, 1u << 30, "a size up to 1G"},
	{O_WORKERS, "--workers", 1, WK_MAX, "a count from 1 to 64"},
};
_Static_assert(WK_MAX == 64, "--workers' message names WK_MAX");

static int number_option(analyze_args *a, const struct number_option *o, const char *arg,
			 jm_buf *err)
{
	uint64_t v;
	if (opt_parse_size(arg, &v) || v < o->min || v > o->max)
		return usage_error(err, "%s wants %s, not '%s'", o->name, o->wants, arg);
	switch (o->code) {
	case 'c': a->count = v; break;
	case 's': a->co.snaplen = (int)v; break;
	case 'B': a->co.buffer_size = (int)v; break;
	case O_MEMCAP: a->cfg.memcap = (size_t)v; break;
	case O_SMEMCAP: a->cfg.stream_memcap = (size_t)v; break;
	case O_MAXSTREAMS: a->cfg.max_streams = (size_t)v; break;
	case O_MAXCONTENT: a->cfg.max_content = v; break;
	case O_MAXHEX: a->cfg.max_hex = (size_t)v; break;
	case O_OVERLAP: a->cfg.overlap_history = (uint32_t)v; break;
	case O_WORKERS: a->workers = (unsigned)v; break;
	}
	return JM_EXIT_OK;
}

static int port_option(analyze_args *a, const char *arg, jm_buf *err)
{
	uint16_t port;
	if (opt_port_buf(err, "analyze", "--port", arg, &port) < 0) {
		jm_buf_printf(err, " (see 'jmsg analyze --help')");
		return JM_EXIT_USAGE;
	}
	if (a->cfg.n_ports == AN_MAX_PORTS)
		return usage_error(err, "at most %d ports", AN_MAX_PORTS);
	a->cfg.ports[a->cfg.n_ports++] = port;
	return JM_EXIT_OK;
}

static int idle_option(analyze_args *a, const char *arg, jm_buf *err)
{
	char *end;
	errno = 0;
	double d = strtod(arg, &end);
	if (errno || end == arg || *end || !(d >= 0) || d > 1e9)
		return usage_error(err, "--idle-timeout wants seconds (0 for never), not '%s'", arg);
	a->cfg.idle_timeout = d;
	return JM_EXIT_OK;
}

/* getopt_long's '?': an unknown option, or one without its value. */
static int option_error(char **argv, jm_buf *err)
{
	const char *word = argv[optind - 1];
	if (optopt && optopt < 256 && strchr("irwcsB", optopt))
		return usage_error(err, "option -%c needs a value", optopt);
	/* A long option's code with no "=": its value is missing ("--json=x"
	 * gives the code too, an unknown option). */
	if (optopt >= 256 && !strchr(word, '='))
		return usage_error(err, "option %s needs a value", word);
	return usage_error(err, "unknown option '%s'", word);
}

/* One option from getopt_long (c, and longopts[li] for a long one). */
static int one_option(analyze_args *a, int c, int li, char **argv, jm_buf *err)
{
	char serr[200];
	for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
		if (numbers[i].code == c)
			return number_option(a, &numbers[i], optarg, err);
	switch (c) {
	case 'i': a->iface = optarg; break;
	case 'r': a->file = optarg; break;
	case 'w': a->co.dump_path = optarg; break;
	case 'q': a->quiet = true; break;
	case 'l': a->linebuf = true; break;
	case O_JSON: a->json = true; break;
	case O_IMMEDIATE: a->co.immediate = true; break;
	case O_NOHEUR: a->cfg.no_heuristic = true; break;
	case O_PORT: return port_option(a, optarg, err);
	case O_IDLE: return idle_option(a, optarg, err);
	case O_STALL:
		if (stall_cli_option(&a->stall, longopts[li].name, optarg ? optarg : "", serr,
				     sizeof serr))
			return usage_error(err, "%s", serr);
		break;
	default: return option_error(argv, err);
	}
	return JM_EXIT_OK;
}

/* The trailing words are one BPF expression, as tcpdump takes it: joined,
 * and compiled to check it. */
static int join_filter(analyze_args *a, int first, int argc, char **argv, jm_buf *err)
{
	size_t n = 0;
	for (int i = first; i < argc; i++)
		n += strlen(argv[i]) + 1;
	if (!n)
		return JM_EXIT_OK;
	char *p = a->filter = malloc(n);
	if (!p) {
		jm_buf_printf(err, "jmsg analyze: out of memory");
		return JM_EXIT_RUNTIME;
	}
	for (int i = first; i < argc; i++) {
		size_t len = strlen(argv[i]);
		memcpy(p, argv[i], len);
		p += len;
		*p++ = ' ';
	}
	p[-1] = 0;
	a->co.filter = a->filter;
	char why[512];
	if (cap_check_filter(a->filter, why, sizeof why))
		return usage_error(err, "%s", why);
	/* The filter's ports are decoded as --port's are. */
	uint16_t fp[AN_MAX_PORTS];
	size_t n_fp = opt_filter_ports(a->filter, fp, AN_MAX_PORTS);
	for (size_t i = 0; i < n_fp && a->cfg.n_ports < AN_MAX_PORTS; i++) {
		bool dup = false;
		for (size_t j = 0; j < a->cfg.n_ports; j++)
			dup |= a->cfg.ports[j] == fp[i];
		if (!dup)
			a->cfg.ports[a->cfg.n_ports++] = fp[i];
	}
	return JM_EXIT_OK;
}

int analyze_parse_args(int argc, char **argv, analyze_args *a, jm_buf *err)
{
	memset(a, 0, sizeof *a);
	an_config_defaults(&a->cfg);
	stall_cli_init(&a->stall);
	a->workers = 1;
	int c, li = 0, rc;
	optind = 0;   /* glibc: start afresh, even after a parse left mid-argument */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+i:r:w:c:qls:B:h", longopts, &li)) != -1) {
		if (c == 'h') {
			a->help = true;
			return JM_EXIT_OK;
		}
		if ((rc = one_option(a, c, li, argv, err)) != JM_EXIT_OK)
			return rc;
	}
	if (!!a->iface == !!a->file)
		return usage_error(err, "give exactly one of -i IFACE or -r FILE");
	if (a->workers > 1 && (a->stall.plot_path || a->stall.cfg.plot_stream >= 0))
		return usage_error(err, "--plot and --plot-stream need --workers 1");
	a->co.map = a->workers > 1; /* workers.h: the payloads are not copied */
	return join_filter(a, optind, argc, argv, err);
}

void analyze_args_free(analyze_args *a)
{
	free(a->filter);
	a->filter = NULL;
	a->co.filter = NULL;
	stall_cli_free(&a->stall);
}

/* ---------------------------------------------------------------- run */

struct run {
	an_engine *e;
	report *rep;
	stall_cli *stall;
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
	stall_cli_tick(r->stall, ts);
}

static void drops_cb(void *user, int64_t now_ns, const cap_stats *cs)
{
	struct run *r = user;
	report_capture_drops(r->rep, now_ns, cs);
}

static void batch_cb(void *user)
{
	fflush(stdout);
}

static void stall_seg_cb(void *user, flow *f, an_dir dir, const cap_segment *seg)
{
	stall_cli_segment(user, f, dir, seg);
}

/* SIGINT and SIGTERM end the capture of src, with the summary.  The
 * handler stays after the capture: a second SIGINT (timeout(1) and shells
 * send one to the child and another to its process group) must not kill
 * the summary; with no source it does nothing. */
static void catch_signals(cap_source *src)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	running_source = src;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* As tcpdump does: capture is on and Ctrl-C is handled. */
static void say_listening(const analyze_args *a, cap_source *src)
{
	fprintf(stderr, "jmsg analyze: listening on %s, link-type %s, snapshot length %d bytes\n",
		a->iface, cap_datalink_name(src), a->co.snaplen ? a->co.snaplen : CAP_DEFAULT_SNAPLEN);
}

/* workers.h: one reader, N analysis threads. */
static int run_workers(const analyze_args *a, cap_source *src)
{
	wk_options wo = {
		.workers = a->workers, .cfg = &a->cfg, .stall = &a->stall.cfg, .json = a->json,
		.quiet = a->quiet, .live = a->iface != NULL, .count = a->count, .out = stdout,
	};
	char err[512];
	catch_signals(src);
	if (a->iface) {
		say_listening(a, src);
		if (!a->stall.no_kernel)
			fprintf(stderr, "jmsg analyze: kernel view off with --workers; stalls from the wire only\n");
	}
	int rc = wk_run(src, &wo, err, sizeof err);
	running_source = NULL;
	if (rc == -1)
		fprintf(stderr, "jmsg analyze: reading %s: %s\n", a->file ? a->file : a->iface, err);
	else if (rc)
		fprintf(stderr, "jmsg analyze: %s\n", err);
	return rc ? JM_EXIT_RUNTIME : JM_EXIT_OK;
}

/* One thread: the capture into the engine e (stall tracking started),
 * then the summary. */
static int capture(analyze_args *a, cap_source *src, an_engine *e, report *rep)
{
	char err[512], serr[200];
	catch_signals(src);
	if (a->iface)
		say_listening(a, src);
	stall_cli *stall = &a->stall;
	struct run run = {e, rep, stall};
	cap_on_drops(src, drops_cb);
	cap_on_batch(src, batch_cb);
	int rc = cap_run(src, a->count, seg_cb, pkt_cb, &run, err, sizeof err);
	running_source = NULL;

	stall_cli_flush(stall);
	an_engine_finish(e);
	int plot_rc = stall_cli_finish(stall, serr, sizeof serr);
	cap_stats cs;
	an_stats as;
	cap_get_stats(src, &cs);
	an_engine_stats(e, &as);
	report_summary(rep, &cs, &as);
	fflush(stdout);
	if (rc < 0)
		fprintf(stderr, "jmsg analyze: reading %s: %s\n", a->file ? a->file : a->iface, err);
	if (plot_rc)
		fprintf(stderr, "jmsg analyze: %s\n", serr);
	return rc < 0 || plot_rc ? JM_EXIT_RUNTIME : JM_EXIT_OK;
}

/* One engine, its report and its stall tracker, freed on every path. */
static int run_one(analyze_args *a, cap_source *src)
{
	char err[200];
	report rep;
	report_init(&rep, stdout, a->json, a->quiet);
	an_sink sink, stall_sink = {.user = &a->stall, .segment = stall_seg_cb};
	report_sink(&rep, &sink);
	stall_cli *stall = &a->stall;
	int rc = JM_EXIT_RUNTIME;
	an_engine *e = an_engine_new(&a->cfg, &sink);
	if (!e || an_engine_listen(e, &stall_sink) < 0)
		fprintf(stderr, "jmsg analyze: out of memory\n");
	else if (stall_cli_start(stall, e, a->iface != NULL, &a->cfg, a->json, stdout, err,
				 sizeof err))
		fprintf(stderr, "jmsg analyze: %s\n", err);
	else
		rc = capture(a, src, e, &rep);
	an_engine_free(e);
	stall_cli_free(stall);
	report_free(&rep);
	return rc;
}

int analyze_run(analyze_args *a)
{
	char err[512];
	cap_source *src = a->file ? cap_open_file(a->file, &a->co, err, sizeof err)
				  : cap_open_live(a->iface, &a->co, err, sizeof err);
	if (!src) {
		fprintf(stderr, "jmsg analyze: %s\n", err);
		return JM_EXIT_RUNTIME;
	}
	static char outbuf[1 << 16];
	/* Live, the output is flushed after each batch the kernel hands over
	 * (at most CAP_BLOCK_TIMEOUT_MS apart), not after each line: a write
	 * per event costs the load being watched.  -l flushes every line. */
	if (a->linebuf)
		setvbuf(stdout, NULL, _IOLBF, 0);
	else
		setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	int rc = a->workers > 1 ? run_workers(a, src) : run_one(a, src);
	cap_close(src);
	return rc;
}

int analyze_main(int argc, char **argv)
{
	analyze_args a;
	jm_buf err = {0};
	int rc = analyze_parse_args(argc, argv, &a, &err);
	if (rc != JM_EXIT_OK && jm_buf_pending(&err))
		fprintf(stderr, "%.*s\n", (int)jm_buf_pending(&err), (const char *)jm_buf_head(&err));
	else if (rc == JM_EXIT_OK && a.help)
		usage(stdout);
	else if (rc == JM_EXIT_OK)
		rc = analyze_run(&a);
	jm_buf_free(&err);
	analyze_args_free(&a);
	return rc;
}
