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
#include <unistd.h>

#include "cmd/commands.h"
#include "cmd/exit.h"
#include "cmd/opts.h"
#include "cmd/version.h"
#include "analyzer/analyze.h"
#include "analyzer/progress.h"
#include "analyzer/report.h"
#include "analyzer/workers.h"
#include "io/privs.h"

static cap_source *volatile running_source;
/* Reading files with stderr on a terminal: the progress line (progress.h),
 * and where the events go (stdout, or through progress_out()). */
static progress prog;
static bool prog_on;
static FILE *out;

static void on_signal(int sig)
{
	if (running_source)
		cap_break(running_source);
}

static const char usage_end[] =
"\n"
"Every message, error and stall names its frames as Wireshark numbers them\n"
"(\"frame\", \"frame_last\"; #F-L in text), counting every packet of the\n"
"file, those the filter passes over too, and its stream's Community ID\n"
"(\"community_id\": v1, seed 0), as Zeek, Suricata and Wireshark give it.\n"
"\n"
"exit status: 0 done (without --fail-on, whatever the traffic held), 1 the\n"
"capture could not be opened or read, -Z's user not found or not become,\n"
"the plot not written or memory ran out, 2 bad command line (one line on\n"
"stderr), 3 the capture held what --fail-on names (after the summary).\n";

static const char usage_limits[] =
"limits:\n"
"  --idle-timeout SECS   end streams idle this long, capture time (default 300; 0 never)\n"
"  --memcap BYTES        held and buffered bytes, all streams (default 1G)\n"
"  --stream-memcap BYTES held and buffered bytes, one stream direction (default 80M)\n"
"  --max-streams N       streams tracked at once (default 1000000)\n"
"  --overlap-window BYTES delivered bytes kept per direction to check\n"
"                        retransmissions against (default 2048)\n"
"\n";

static const char usage_output[] =
"output:\n"
"  --json                JSON lines: message, error, stream events, summary\n"
"  -q                    only problems and the summary\n"
"  -l                    write each event line as soon as it is made (default:\n"
"                        live, after each block of packets, at most 100 ms\n"
"                        apart; files, in 64 KiB blocks), from a pipe too\n"
"                        (tcpdump --immediate-mode -U -w - | jmsg analyze\n"
"                        -r - -l), with --workers as well\n"
"  --max-hex BYTES       non-JSON content bytes shown per message, and header\n"
"                        bytes per header error (default 1024)\n"
"  --time MODE           the text lines' time: relative (default: seconds\n"
"                        since the capture's first packet), absolute (wall\n"
"                        clock), epoch (seconds since 1970) or delta (since\n"
"                        the previous line; needs --workers 1)\n"
"  --fail-on WHAT        exit 3 when the capture held: errors (the protocol's\n"
"                        own, the spec's errors[]: a bad header or content, a\n"
"                        truncated message...), problems (every error event:\n"
"                        errors and capture problems such as gap, reset,\n"
"                        midstream, resync; or packets the kernel dropped),\n"
"                        or never (default)\n"
"  --color WHEN          colour the direction and the problems of text lines:\n"
"                        auto (default: when stdout is a terminal and\n"
"                        NO_COLOR is unset or empty), always, never; JSON is\n"
"                        never coloured\n"
"  --version             jmsg's version, the spec's, libpcap's and json-c's\n"
"\n";

static void usage(FILE *f)
{
	fprintf(f,
"usage: jmsg analyze (-i IFACE | -r FILE...) [options] [BPF filter expression]\n"
"\n"
"Decode the length-prefixed JSON message protocol from a live capture or a\n"
"pcap/pcapng file: TCP is reassembled per direction, every message is\n"
"decoded and validated, responses are paired with requests, and every\n"
"problem (gaps, truncation, overlap conflicts, resets, bad headers...) is\n"
"named with the spec's id.\n"
"\n"
"source:\n"
"  -i IFACE              capture live on IFACE (e.g. lo); needs CAP_NET_RAW\n"
"  -r FILE               read a pcap or pcapng file ('-' for stdin, first only);\n"
"                        -r again, or -r DIRECTORY (its files in natural\n"
"                        order: cap, cap1, ..., cap10), reads several files\n"
"                        in order as one capture, as tcpdump -C or -G wrote\n"
"                        them: streams go on from one file into the next\n"
"  FILTER...             a BPF filter, as for tcpdump (e.g. tcp port 65432);\n"
"                        options may come after it; after -- all is filter\n"
"  -c N                  stop after N packets\n"
"  -w FILE               also write the packets read to a pcap file\n"
"  -Z USER               once the capture is open, become USER (its groups,\n"
"                        group and uid), as tcpdump -Z does; -w's FILE and\n"
"                        --plot's are then written as USER\n"
"  -s SNAPLEN            live snapshot length (default %d, also for -s 0)\n"
"  -B KIB                live capture buffer, in KiB as tcpdump's (or a size\n"
"                        with a k, M or G suffix): the kernel ring packets\n"
"                        wait in while the analyzer is busy (default %u MiB,\n"
"                        locked in kernel memory while the capture runs)\n"
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
"  --framing NAME|FILE   how messages are cut: jmsg (default: the protocol\n"
"                        above), raw, ascii-length, fixed, delimited, close,\n"
"                        or the path of a framing file (spec/README.md).\n"
"                        Other than jmsg: only --port's ports and the\n"
"                        filter's are decoded (no heuristic), a message is a\n"
"                        request from the client and a response otherwise,\n"
"                        unpaired; its event has framing, offset, length\n"
"                        (on the wire) and content (UTF-8) or content_hex.\n"
"                        Its limit is the framing's max_payload (and\n"
"                        not the --max-content above)\n"
"\n"
,
		CAP_DEFAULT_SNAPLEN, CAP_DEFAULT_BUFFER >> 20, CAP_BLOCK_TIMEOUT_MS, JM_SPEC_DEFAULT_PORT,
		(unsigned long long)JM_SPEC_DEFAULT_MAX_CONTENT_LEN);
	fputs(usage_output, f);
	fprintf(f,
"threads:\n"
"  --workers N           analyze with N threads, 1 to %d (default 1): one reads,\n"
"                        each stream goes to one of them by its endpoints; the\n"
"                        output is the same but for the stream numbers.  Each\n"
"                        gets 1/N of --memcap and --max-streams; no --plot, and\n"
"                        live, stalls from the wire only\n"
"\n"
"%s"
"%s"
"BYTES take a k, M or G suffix (powers of 1024).  Live capture runs until\n"
"interrupted (Ctrl-C) or -c, then prints the summary with the kernel's drop\n"
"count.  Packets the kernel drops are reported as they happen (a\n"
"capture_drops event, shown with -q too); the streams they belong to show\n"
"gaps, and no message is made up across a gap.  Reading files with\n"
"stderr on a terminal shows one progress line there (percent of the\n"
"files, packets, packets/s), erased at the end.\n"
"\n"
OPT_DURATION_HELP,
		WK_MAX, usage_limits, stall_cli_usage());
	fputs(usage_end, f);
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
	O_MAXHEX, O_OVERLAP, O_STALL, O_IMMEDIATE, O_WORKERS, O_VERSION, O_TIME, O_FAILON, O_COLOR,
	O_NOHEUR, O_FRAMING,
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
	{"time", required_argument, NULL, O_TIME},
	{"fail-on", required_argument, NULL, O_FAILON},
	{"color", required_argument, NULL, O_COLOR},
	{"colour", required_argument, NULL, O_COLOR},
	{"no-heuristic", no_argument, NULL, O_NOHEUR},
	{"framing", required_argument, NULL, O_FRAMING},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, O_VERSION},
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
	{'s', "-s", 0, 262144, "a snapshot length from 96 to 262144 (0: the default)"},
	{'B', "-B", 65536, INT_MAX, "a buffer size in KiB from 64 to 2097151 (or 64k to 2047M)"},
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
	bool ok = !opt_parse_size(arg, &v);
	/* tcpdump's -B counts KiB; a suffix names its unit. */
	if (ok && o->code == 'B' && arg[strspn(arg, "0123456789")] == 0)
		v = v > UINT64_MAX >> 10 ? UINT64_MAX : v << 10;
	/* tcpdump's -s 0: the default snapshot length (co.snaplen 0). */
	if (ok && o->code == 's' && v && v < 96)
		ok = false;
	if (!ok || v < o->min || v > o->max)
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
	uint64_t ns;
	jm_buf why = {0};
	int rc = opt_duration_buf(&why, NULL, "--idle-timeout", arg, OPT_S, 0, 1000000000 * OPT_S,
				  &ns);
	if (rc < 0)
		usage_error(err, "%.*s", (int)jm_buf_pending(&why),
			    (const char *)jm_buf_head(&why));
	jm_buf_free(&why);
	if (rc < 0)
		return JM_EXIT_USAGE;
	a->cfg.idle_timeout = (double)ns / 1e9;
	return JM_EXIT_OK;
}

static int time_option(analyze_args *a, const char *arg, jm_buf *err)
{
	if (tf_parse(arg, &a->time))
		return usage_error(err, "--time wants relative, absolute, epoch or delta, not '%s'",
				   arg);
	return JM_EXIT_OK;
}

static int fail_on_option(analyze_args *a, const char *arg, jm_buf *err)
{
	if (!strcmp(arg, "never"))
		a->fail_on = AN_FAIL_NEVER;
	else if (!strcmp(arg, "errors"))
		a->fail_on = AN_FAIL_ERRORS;
	else if (!strcmp(arg, "problems"))
		a->fail_on = AN_FAIL_PROBLEMS;
	else
		return usage_error(err, "--fail-on wants problems, errors or never, not '%s'", arg);
	return JM_EXIT_OK;
}

bool analyze_failed(int fail_on, const an_stats *as, const cap_stats *cs)
{
	if (fail_on == AN_FAIL_NEVER)
		return false;
	for (int i = 1; i < JM_ERR_COUNT; i++)
		if (as->errors[i])
			return true;
	for (int i = 1; i < JM_FERR_COUNT; i++)
		if (as->ferrors[i])
			return true;
	if (fail_on == AN_FAIL_ERRORS)
		return false;
	for (int i = 0; i < JM_PROB_COUNT; i++)
		if (as->problems[i])
			return true;
	return cs->have_kernel && cs->kernel_dropped + cs->if_dropped > 0;
}

static int color_option(analyze_args *a, const char *arg, jm_buf *err)
{
	static const char *const names[] = {"auto", "always", "never"};
	for (int i = 0; i < 3; i++)
		if (!strcmp(arg, names[i])) {
			a->color = i; /* the AN_COLOR_ order */
			return JM_EXIT_OK;
		}
	return usage_error(err, "--color wants auto, always or never, not '%s'", arg);
}

/* --framing NAME|FILE: jmf_resolve()'s reason, its lines joined by "; ". */
static int framing_option(analyze_args *a, const char *arg, jm_buf *err)
{
	char *why = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&why, &len);
	if (!f) {
		jm_buf_printf(err, "jmsg analyze: out of memory");
		return JM_EXIT_RUNTIME;
	}
	int rc = jmf_resolve(&a->cfg.framing, arg, f);
	fclose(f);
	while (len && why[len - 1] == '\n')
		why[--len] = 0;
	if (rc < 0) {
		jm_buf_printf(err, "jmsg analyze: --framing: ");
		for (char *p = why, *nl; p && *p; p = nl + 1) {
			nl = strchr(p, '\n');
			jm_buf_printf(err, "%.*s%s", (int)(nl ? nl - p : (long)strlen(p)), p,
				      nl ? "; " : "");
			if (!nl)
				break;
		}
		jm_buf_printf(err, " (see 'jmsg analyze --help')");
	}
	free(why);
	return rc < 0 ? JM_EXIT_USAGE : JM_EXIT_OK;
}

/* Another -r: the files are read in order, as one capture. */
static int file_option(analyze_args *a, const char *arg, jm_buf *err)
{
	const char **v = realloc(a->files, (a->n_files + 1) * sizeof *v);
	if (!v) {
		jm_buf_printf(err, "jmsg analyze: out of memory");
		return JM_EXIT_RUNTIME;
	}
	a->files = v;
	a->files[a->n_files++] = arg;
	if (!a->file)
		a->file = arg;
	return JM_EXIT_OK;
}

/* getopt_long's '?': an unknown option, or one without its value. */
static int option_error(char **argv, jm_buf *err)
{
	const char *word = argv[optind - 1];
	if (optopt && optopt < 256 && strchr("irwcsBZ", optopt))
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
	case 'r': return file_option(a, optarg, err);
	case 'w': a->co.dump_path = optarg; break;
	case 'Z': a->user = optarg; break;
	case 'q': a->quiet = true; break;
	case 'l': a->linebuf = true; break;
	case O_JSON: a->json = true; break;
	case O_IMMEDIATE: a->co.immediate = true; break;
	case O_NOHEUR: a->cfg.no_heuristic = true; break;
	case O_PORT: return port_option(a, optarg, err);
	case O_FRAMING: return framing_option(a, optarg, err);
	case O_IDLE: return idle_option(a, optarg, err);
	case O_TIME: return time_option(a, optarg, err);
	case O_FAILON: return fail_on_option(a, optarg, err);
	case O_COLOR: return color_option(a, optarg, err);
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
	/* No '+': as tcpdump, options may follow the filter's words (getopt
	 * moves them to the end); after "--" every word is the filter's. */
	while ((c = getopt_long(argc, argv, "i:r:w:c:qls:B:Z:h", longopts, &li)) != -1) {
		if (c == 'h' || c == O_VERSION) {
			a->help = c == 'h';
			a->version = c == O_VERSION;
			return JM_EXIT_OK;
		}
		if ((rc = one_option(a, c, li, argv, err)) != JM_EXIT_OK)
			return rc;
	}
	if (!!a->iface == !!a->file)
		return usage_error(err, "give exactly one of -i IFACE or -r FILE");
	for (size_t i = 1; i < a->n_files; i++)
		if (!strcmp(a->files[i], "-"))
			return usage_error(err, "'-r -' (stdin) can only be the first -r");
	if (a->workers > 1 && (a->stall.plot_path || a->stall.cfg.plot_stream >= 0))
		return usage_error(err, "--plot and --plot-stream need --workers 1");
	if (a->workers > 1 && a->time == TF_DELTA)
		return usage_error(err, "--time delta needs --workers 1");
	a->co.map = a->workers > 1; /* workers.h: the payloads are not copied */
	return join_filter(a, optind, argc, argv, err);
}

void analyze_args_free(analyze_args *a)
{
	free(a->files);
	a->files = NULL;
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
	cap_source *src;
};

static void seg_cb(void *user, const cap_segment *seg)
{
	struct run *r = user;
	an_engine_segment(r->e, seg);
}

static void pkt_cb(void *user, double ts)
{
	struct run *r = user;
	tf_clock *clk = r->rep->clock;
	if (!clk->have_t0)
		clk->have_t0 = cap_first_time(r->src, &clk->t0);
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
	fflush(out);
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

/* --color auto: stdout is a terminal, and NO_COLOR (no-color.org) is
 * unset or empty.  JSON is never coloured. */
static bool use_color(const analyze_args *a)
{
	const char *no = getenv("NO_COLOR");
	if (a->json || a->color == AN_COLOR_NEVER)
		return false;
	return a->color == AN_COLOR_ALWAYS || (isatty(STDOUT_FILENO) && !(no && *no));
}

/* workers.h: one reader, N analysis threads. */
static int run_workers(const analyze_args *a, cap_source *src)
{
	wk_options wo = {
		.workers = a->workers, .cfg = &a->cfg, .stall = &a->stall.cfg, .json = a->json,
		.quiet = a->quiet, .live = a->iface != NULL, .count = a->count, .out = out,
		.time = a->time, .fail_on = a->fail_on, .color = use_color(a), .linebuf = a->linebuf,
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
	if (prog_on)
		progress_stop(&prog);
	if (rc == -1)
		fprintf(stderr, "jmsg analyze: reading %s: %s\n", a->file ? cap_path(src) : a->iface, err);
	else if (rc < 0)
		fprintf(stderr, "jmsg analyze: %s\n", err);
	return rc < 0 ? JM_EXIT_RUNTIME : rc ? JM_EXIT_FOUND : JM_EXIT_OK;
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
	struct run run = {e, rep, stall, src};
	cap_on_drops(src, drops_cb);
	if (a->iface) /* files: the stdio buffering (-l or not) decides */
		cap_on_batch(src, batch_cb);
	int rc = cap_run(src, a->count, seg_cb, pkt_cb, &run, err, sizeof err);
	running_source = NULL;
	if (prog_on)
		progress_stop(&prog);

	stall_cli_flush(stall);
	an_engine_finish(e);
	int plot_rc = stall_cli_finish(stall, serr, sizeof serr);
	cap_stats cs;
	an_stats as;
	cap_get_stats(src, &cs);
	an_engine_stats(e, &as);
	report_summary(rep, &cs, &as);
	fflush(out);
	if (rc < 0)
		fprintf(stderr, "jmsg analyze: reading %s: %s\n", a->file ? cap_path(src) : a->iface, err);
	if (plot_rc)
		fprintf(stderr, "jmsg analyze: %s\n", serr);
	if (rc < 0 || plot_rc)
		return JM_EXIT_RUNTIME;
	return analyze_failed(a->fail_on, &as, &cs) ? JM_EXIT_FOUND : JM_EXIT_OK;
}

/* One engine, its report and its stall tracker, freed on every path. */
static int run_one(analyze_args *a, cap_source *src)
{
	char err[200];
	report rep;
	tf_clock clock = {.mode = a->time};
	report_init(&rep, out, a->json, a->quiet, &clock, a->cfg.max_hex);
	rep.color = use_color(a);
	an_sink sink, stall_sink = {.user = &a->stall, .segment = stall_seg_cb};
	report_sink(&rep, &sink);
	stall_cli *stall = &a->stall;
	int rc = JM_EXIT_RUNTIME;
	an_engine *e = an_engine_new(&a->cfg, &sink);
	if (!e || an_engine_listen(e, &stall_sink) < 0)
		fprintf(stderr, "jmsg analyze: out of memory\n");
	else if (stall_cli_start(stall, e, a->iface != NULL, &a->cfg, a->json, out, &clock, err,
				 sizeof err))
		fprintf(stderr, "jmsg analyze: %s\n", err);
	else
		rc = capture(a, src, e, &rep);
	an_engine_free(e);
	stall_cli_free(stall);
	report_free(&rep);
	return rc;
}

/* The capture a names, opened.  With -Z, as tcpdump -Z: the user is looked
 * up first (a wrong name opens nothing), become once the capture is open,
 * and -w's file is created after, as that user. */
static cap_source *open_capture(const analyze_args *a, char *err, size_t errlen)
{
	io_user u;
	cap_options co = a->co;
	char why[300];
	if (a->user) {
		if (io_user_lookup(a->user, &u, why, sizeof why) < 0) {
			snprintf(err, errlen, "-Z: %s", why);
			return NULL;
		}
		co.dump_path = NULL;
	}
	cap_source *src = a->file ? cap_open_files(a->files, a->n_files, &co, err, errlen)
				  : cap_open_live(a->iface, &co, err, errlen);
	if (!src || !a->user)
		return src;
	if (io_drop_privileges(&u, why, sizeof why) < 0)
		snprintf(err, errlen, "-Z: %s", why);
	else if (a->co.dump_path && cap_open_dump(src, a->co.dump_path, why, sizeof why) < 0)
		snprintf(err, errlen, "%s (as user '%s', -Z)", why, a->user);
	else
		return src;
	cap_close(src);
	return NULL;
}

int analyze_run(analyze_args *a)
{
	char err[512];
	cap_source *src = open_capture(a, err, sizeof err);
	if (!src) {
		fprintf(stderr, "jmsg analyze: %s\n", err);
		return JM_EXIT_RUNTIME;
	}
	static char outbuf[1 << 16];
	out = stdout;
	prog_on = a->file && isatty(STDERR_FILENO);
	if (prog_on) {
		progress_start(&prog, src, stderr);
		out = progress_out(&prog);
	}
	/* Live, the output is flushed after each batch the kernel hands over
	 * (at most CAP_BLOCK_TIMEOUT_MS apart), not after each line: a write
	 * per event costs the load being watched.  -l flushes every line, and
	 * so does a terminal that shows the progress line too. */
	if (a->linebuf || out != stdout)
		setvbuf(out, NULL, _IOLBF, 0);
	else
		setvbuf(out, outbuf, _IOFBF, sizeof outbuf);
	int rc = a->workers > 1 ? run_workers(a, src) : run_one(a, src);
	if (prog_on)
		progress_free(&prog);
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
	else if (rc == JM_EXIT_OK && a.version)
		jm_print_version(stdout);
	else if (rc == JM_EXIT_OK)
		rc = analyze_run(&a);
	jm_buf_free(&err);
	analyze_args_free(&a);
	return rc;
}
