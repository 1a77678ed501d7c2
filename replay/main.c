/*
 * jmsg replay: help, and the run: parse_args (args.c), then resolve the
 * target, load the capture, replay it and report.  Loading is in
 * conv_load.c, the network in engine.c, comparing and printing in
 * report.c.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/version.h"
#include "replay/args.h"
#include "replay/conv.h"
#include "replay/engine.h"
#include "cmd/opts.h"
#include "replay/report.h"
#include "tcp/stream.h"
#include "io/evloop.h"
#include "io/net.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: jmsg replay FILE.pcap --to HOST:PORT [--port P] [--speed X | --asap]\n"
"                   [--concurrency N] [--streams LIST] [--raw]\n"
"                   [--ignore-header KEY]... [--json] [options]\n"
"\n"
"Re-run every conversation in a capture against a live server and show\n"
"every response that differs from the captured one.  Streams are read by\n"
"the same reassembly and decoder as 'jmsg analyze'.  Each stream gets its\n"
"own connection; its requests are sent in order, keeping the capture's\n"
"spacing and pipelining (a request waits for exactly the responses the\n"
"original client had received before sending it); streams start at their\n"
"original relative times.  FILE.pcap may be a directory: its files, in\n"
"natural order (cap, cap1, ..., cap10), are read as one capture, as\n"
"tcpdump -C or -G wrote them.\n"
"\n"
"  --to HOST:PORT      the server to replay against ([::1]:PORT for IPv6;\n"
"                      a bare PORT means 127.0.0.1)\n"
"  --port P            the server port in the capture (default %d);\n"
"                      repeat or give a comma list for several.  Streams\n"
"                      on other ports are found as 'jmsg analyze' finds\n"
"                      them: their first data is a protoheader and a JSON\n"
"                      header with the required keys\n"
"  --no-heuristic      only the --port ports\n"
"  --speed X           scale all spacing by 1/X (default 1; 10 is ten times\n"
"                      faster)\n"
"  --asap              no spacing at all: each request as soon as the\n"
"                      responses it waited for have come\n"
"  --concurrency N     streams open at once, at most (default %d); streams\n"
"                      due beyond it wait, so a replay never floods a target\n"
"  --streams LIST      replay only these stream numbers (as 'jmsg analyze'\n"
"                      numbers them): 0,3,5-9\n"
"  --raw               send the exact captured request bytes (default:\n"
"                      re-encode each request with this machine's encoder,\n"
"                      keeping content-type, content-encoding, content and\n"
"                      every extra header member)\n"
"  --ignore-header KEY do not compare header member KEY (repeatable); keys\n"
"                      that legitimately differ: byteorder when capture and\n"
"                      server machines differ in byte order; connection\n"
"                      when one server echoes \"keep-alive\" and the other\n"
"                      does not; any per-message member a server adds\n"
"  --json              JSON lines: one per differing, missing, extra or\n"
"                      malformed response and per note, then a summary\n"
"  --timeout S         give up on a connection after S seconds without\n"
"                      progress while the server owes it something\n"
"                      (default %d)\n"
"  --max-content N     largest live response content accepted (default 64m)\n"
"  --memcap N          most memory the capture's messages may take (default\n"
"                      1g; k/m/g suffixes)\n"
"  -v, --verbose       also list identical responses\n"
"  -h, --help          this help\n"
"  --version           jmsg's version, the spec's, libpcap's and json-c's\n"
"\n"
"Compared: every header member (order and spacing aside), and the\n"
"content: as JSON values when both sides are text/json, byte for byte\n"
"otherwise.  A stream whose capture is incomplete (gap, mid-stream start,\n"
"snapshot cut, end of capture inside a message) is replayed as far as it\n"
"is known, and the report says so.\n"
"\n"
"SIGINT or SIGTERM ends the replay early: open streams stop, the summary\n"
"covers what was done.\n"
"\n"
OPT_DURATION_HELP
"exit status: 0 every response matched; 1 some differ, are missing or\n"
"extra, or are malformed; 2 usage error, unreadable capture, the server\n"
"could not be reached, or the replay was interrupted\n",
		JM_SPEC_DEFAULT_PORT, RP_DEFAULT_CONCURRENCY, RP_DEFAULT_TIMEOUT_MS / 1000);
}

static void on_signal(int sig)
{
	rp_engine_interrupt();
}

/* The target's address into ec; -1 after printing why not. */
static int resolve_target(const rp_args *a, rp_engine_config *ec)
{
	char err[512];
	*ec = (rp_engine_config){
		.target = a->target,
		.pace = a->pace,
		.concurrency = a->concurrency,
		.timeout_ms = a->timeout_ms,
		.max_content = a->max_content,
	};
	if (net_resolve(a->host, a->port, &ec->addr, &ec->addrlen, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg replay: %s\n", err);
		return -1;
	}
	return 0;
}

/* Why a capture holds nothing to replay, in one line: the server ports
 * looked at, and the TCP that held no message (st, the loading engine's). */
static void say_no_stream(const rp_args *a, const an_stats *st)
{
	char ports[RP_MAX_PORTS * 7 + 8] = "", other[AN_NOTE_PORTS * 7 + 16] = "";
	if (!a->n_ports)
		snprintf(ports, sizeof ports, "%d", JM_SPEC_DEFAULT_PORT);
	for (size_t i = 0; i < a->n_ports; i++)
		snprintf(ports + strlen(ports), sizeof ports - strlen(ports), "%s%u", i ? "," : "",
			 a->ports[i]);
	for (size_t i = 0; i < st->n_undecoded_ports; i++)
		snprintf(other + strlen(other), sizeof other - strlen(other), "%s%u", i ? ", " : "",
			 st->undecoded_ports[i]);
	if (st->undecoded_port_count > st->n_undecoded_ports)
		snprintf(other + strlen(other), sizeof other - strlen(other), " and %zu more",
			 st->undecoded_port_count - st->n_undecoded_ports);
	const char *s = a->n_ports > 1 ? "s" : "";
	if (!st->undecoded_streams)
		fprintf(stderr, "jmsg replay: '%s' holds no jmsg stream: none on server port%s %s%s "
			"(see --port)\n", a->path, s, ports,
			a->no_heuristic ? "" : ", and no TCP stream on another port");
	else
		fprintf(stderr, "jmsg replay: '%s' holds no jmsg stream: none on server port%s %s, "
			"and %llu TCP stream%s on port%s %s %s; try --port %u\n", a->path, s, ports,
			(unsigned long long)st->undecoded_streams, st->undecoded_streams == 1 ? "" : "s",
			st->n_undecoded_ports == 1 ? "" : "s", other,
			a->no_heuristic ? (st->undecoded_streams == 1 ? "was not decoded (--no-heuristic)"
								: "were not decoded (--no-heuristic)")
					: "held no jmsg messages",
			st->undecoded_ports[0]);
}

/* The capture's streams into cap; -1 after printing why there is nothing
 * to replay (cap is freed then). */
static int load_capture(const rp_args *a, rp_capture *cap)
{
	char err[512];
	an_stats st;
	memset(&st, 0, sizeof st);
	rp_load_config lc = {
		.ports = a->ports,
		.n_ports = a->n_ports,
		.select = &a->select,
		.raw = a->raw,
		.max_content = a->max_content,
		.memcap = a->memcap,
		.no_heuristic = a->no_heuristic,
		.stats = &st,
	};
	if (rp_load_pcap(cap, a->path, &lc, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg replay: %s\n", err);
		rp_capture_free(cap);
		return -1;
	}
	if (cap->n > 0)
		return 0;
	if (a->select.n)
		fprintf(stderr, "jmsg replay: '%s' holds none of the streams --streams chose\n",
			a->path);
	else
		say_no_stream(a, &st);
	rp_capture_free(cap);
	return -1;
}

/* Replay cap against the target and report; the exit status. */
static int replay_capture(rp_args *a, const rp_capture *cap, const rp_engine_config *ec)
{
	rp_ignore ign = {.keys = a->ignore, .n = a->n_ignore};
	rp_report *rep = rp_report_new(cap, &ign, stdout, a->json, a->verbose, a->target,
				       a->timeout_ms);
	if (!rep) {
		fprintf(stderr, "jmsg replay: out of memory\n");
		return JM_EXIT_REPLAY_FAILED;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Ctrl-C ends the replay with a summary of what was done; the engine
	 * lets these signals in only while it sleeps, so it wakes at once. */
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	char err[512];
	int rc;
	rp_events ev = rp_report_events(rep);
	uint64_t t_start = el_now_ns();
	if (rp_engine_run(cap, ec, &ev, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg replay: %s\n", err);
		rc = JM_EXIT_REPLAY_FAILED;
	} else {
		rc = rp_report_finish(rep, (double)(el_now_ns() - t_start) / 1e9,
				      rp_engine_interrupted());
		if (rp_engine_interrupted())
			fprintf(stderr, "jmsg replay: interrupted; %zu stream%s not started\n",
				rp_engine_not_started(), rp_engine_not_started() == 1 ? "" : "s");
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	rp_report_free(rep);
	return rc;
}

static int run(rp_args *a)
{
	rp_engine_config ec;
	rp_capture cap;
	if (resolve_target(a, &ec) < 0 || load_capture(a, &cap) < 0)
		return JM_EXIT_REPLAY_FAILED;
	int rc = replay_capture(a, &cap, &ec);
	rp_capture_free(&cap);
	return rc;
}

int replay_main(int argc, char **argv)
{
	rp_args a;
	char err[4096];
	int rc = rp_parse_args(argc, argv, &a, err, sizeof err);
	if (rc == RP_ARGS_RUN)
		rc = run(&a);
	else if (a.help)
		usage(stdout);
	else if (a.version)
		jm_print_version(stdout);
	else
		fprintf(stderr, "%s\n", err);
	rp_args_free(&a);
	return rc;
}
