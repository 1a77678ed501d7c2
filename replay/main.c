/*
 * jmsg replay: options and help.  Loading is in conv_load.c, the network in
 * engine.c, comparing and printing in report.c.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "replay/conv.h"
#include "replay/engine.h"
#include "replay/report.h"
#include "io/evloop.h"
#include "io/net.h"
#include "cmd/opts.h"

#define RP_DEFAULT_MEMCAP (1024u * 1024 * 1024)
#define RP_MAX_PORTS 64
#define RP_MAX_IGNORE 64

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
"original relative times.\n"
"\n"
"  --to HOST:PORT      the server to replay against ([::1]:PORT for IPv6;\n"
"                      a bare PORT means 127.0.0.1)\n"
"  --port P            the server port in the capture (default %d);\n"
"                      repeat or give a comma list for several\n"
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
"exit status: 0 every response matched; 1 some differ, are missing or\n"
"extra, or are malformed; 2 usage error, unreadable capture, the server\n"
"could not be reached, or the replay was interrupted\n",
		JM_SPEC_DEFAULT_PORT, RP_DEFAULT_CONCURRENCY, RP_DEFAULT_TIMEOUT_MS / 1000);
}

static void on_signal(int sig)
{
	rp_engine_interrupt();
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs("jmsg replay: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see jmsg replay --help)\n", stderr);
	return RP_EXIT_ERROR;
}

/* "HOST:PORT", "[V6]:PORT" or "PORT". */
static int split_target(char *spec, const char **host, const char **port)
{
	char *colon = strrchr(spec, ':');
	if (!colon) {
		*host = "127.0.0.1";
		*port = spec;
	} else {
		*colon = '\0';
		*port = colon + 1;
		char *h = spec;
		size_t hl = strlen(h);
		if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
			h[hl - 1] = '\0';
			h++;
		} else if (strchr(h, ':')) {
			return -1;  /* an IPv6 literal needs its brackets */
		}
		*host = *h ? h : "127.0.0.1";
	}
	uint64_t v = 0;
	const char *p = *port;
	if (!*p)
		return -1;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > 65535)
			return -1;
	}
	return v >= 1 ? 0 : -1;
}

static int parse_ports(const char *arg, uint16_t *ports, size_t *n)
{
	const char *p = arg;
	while (*p) {
		char *end;
		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (errno || v < 1 || v > 65535 || *n >= RP_MAX_PORTS)
			return -1;
		ports[(*n)++] = (uint16_t)v;
		p = end;
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return -1;
	}
	return 0;
}

int replay_main(int argc, char **argv)
{
	enum { O_TO = 256, O_PORT, O_SPEED, O_ASAP, O_CONC, O_STREAMS, O_RAW, O_IGNORE, O_JSON,
	       O_TIMEOUT, O_MAXC, O_MEMCAP };
	static const struct option longopts[] = {
		{"to", required_argument, NULL, O_TO},
		{"port", required_argument, NULL, O_PORT},
		{"speed", required_argument, NULL, O_SPEED},
		{"asap", no_argument, NULL, O_ASAP},
		{"concurrency", required_argument, NULL, O_CONC},
		{"streams", required_argument, NULL, O_STREAMS},
		{"raw", no_argument, NULL, O_RAW},
		{"ignore-header", required_argument, NULL, O_IGNORE},
		{"json", no_argument, NULL, O_JSON},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"max-content", required_argument, NULL, O_MAXC},
		{"memcap", required_argument, NULL, O_MEMCAP},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *to = NULL;
	uint16_t ports[RP_MAX_PORTS];
	size_t n_ports = 0;
	const char *ignore[RP_MAX_IGNORE];
	size_t n_ignore = 0;
	rp_pace pace = {.speed = 1.0};
	bool speed_set = false, json = false, verbose = false, raw = false;
	uint64_t conc = RP_DEFAULT_CONCURRENCY, timeout_ms = RP_DEFAULT_TIMEOUT_MS;
	uint64_t max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN, memcap = RP_DEFAULT_MEMCAP;
	rp_select sel = {0};
	int opt, rc = RP_EXIT_ERROR;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		switch (opt) {
		case O_TO:
			free(to);
			to = strdup(optarg);
			if (!to)
				return RP_EXIT_ERROR;
			break;
		case O_PORT:
			if (parse_ports(optarg, ports, &n_ports) < 0) {
				rc = usage_error("--port must be ports from 1 to 65535, such as 65432 or "
						 "65432,8080, not '%s'", optarg);
				goto out;
			}
			break;
		case O_SPEED: {
			char *end;
			errno = 0;
			double v = strtod(optarg, &end);
			if (*end || errno || !isfinite(v) || v <= 0 || v > 1e6 || end == optarg) {
				rc = usage_error("--speed must be a factor above 0 and at most 1000000, "
						 "such as 0.5 or 10, not '%s'", optarg);
				goto out;
			}
			pace.speed = v;
			speed_set = true;
			break;
		}
		case O_ASAP:
			pace.asap = true;
			break;
		case O_CONC:
			if (opt_uint("replay", "--concurrency", optarg, 1, 100000, &conc) < 0)
				goto out;
			break;
		case O_STREAMS:
			rp_select_free(&sel);
			if (rp_select_parse(&sel, optarg) < 0) {
				rc = usage_error("--streams must be stream numbers and ranges such as "
						 "0,3,5-9, not '%s'", optarg);
				goto out;
			}
			break;
		case O_RAW:
			raw = true;
			break;
		case O_IGNORE:
			if (n_ignore == RP_MAX_IGNORE) {
				rc = usage_error("--ignore-header given too often (at most 64): '%s'",
						 optarg);
				goto out;
			}
			ignore[n_ignore++] = optarg;
			break;
		case O_JSON:
			json = true;
			break;
		case O_TIMEOUT:
			if (opt_seconds("replay", "--timeout", optarg, &timeout_ms) < 0)
				goto out;
			if (timeout_ms == 0) {
				rc = usage_error("--timeout must be more than 0 seconds, not '%s'", optarg);
				goto out;
			}
			break;
		case O_MAXC:
			if (opt_size("replay", "--max-content", optarg, &max_content) < 0)
				goto out;
			break;
		case O_MEMCAP:
			if (opt_size("replay", "--memcap", optarg, &memcap) < 0)
				goto out;
			if (memcap < 4096) {
				rc = usage_error("--memcap must be at least 4k, not '%s'", optarg);
				goto out;
			}
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case ':':
			rc = usage_error("%s needs a value", argv[optind - 1]);
			goto out;
		default:
			rc = usage_error("unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (pace.asap && speed_set) {
		rc = usage_error("%s", "--speed and --asap do not go together");
		goto out;
	}
	if (optind >= argc) {
		rc = usage_error("%s", "no capture file given");
		goto out;
	}
	if (optind + 1 < argc) {
		rc = usage_error("one capture file at a time, not also '%s'", argv[optind + 1]);
		goto out;
	}
	if (!to) {
		rc = usage_error("%s", "--to HOST:PORT is required: the server to replay against");
		goto out;
	}
	const char *path = argv[optind];
	char target_shown[300];
	snprintf(target_shown, sizeof target_shown, "%s", to);
	const char *host, *port;
	if (split_target(to, &host, &port) < 0) {
		rc = usage_error("--to must be HOST:PORT, [IPV6]:PORT or PORT, not '%s'", target_shown);
		goto out;
	}

	char err[512];
	rp_engine_config ec = {
		.target = target_shown,
		.pace = pace,
		.concurrency = (unsigned)conc,
		.timeout_ms = timeout_ms,
		.max_content = max_content,
	};
	if (net_resolve(host, port, &ec.addr, &ec.addrlen, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg replay: %s\n", err);
		goto out;
	}

	char ports_shown[RP_MAX_PORTS * 7 + 8] = "";
	if (!n_ports)
		snprintf(ports_shown, sizeof ports_shown, "%d", JM_SPEC_DEFAULT_PORT);
	for (size_t i = 0; i < n_ports; i++)
		snprintf(ports_shown + strlen(ports_shown), sizeof ports_shown - strlen(ports_shown),
			 "%s%u", i ? "," : "", ports[i]);

	rp_capture cap;
	rp_load_config lc = {
		.ports = ports,
		.n_ports = n_ports,
		.select = &sel,
		.raw = raw,
		.max_content = max_content,
		.memcap = memcap,
	};
	if (rp_load_pcap(&cap, path, &lc, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg replay: %s\n", err);
		rp_capture_free(&cap);
		goto out;
	}
	if (cap.n == 0) {
		if (sel.n)
			fprintf(stderr, "jmsg replay: '%s' holds none of the streams --streams chose\n",
				path);
		else
			fprintf(stderr, "jmsg replay: '%s' holds no stream on server port%s %s (see "
				"--port)\n", path, n_ports > 1 ? "s" : "", ports_shown);
		rp_capture_free(&cap);
		goto out;
	}

	signal(SIGPIPE, SIG_IGN);
	/* Ctrl-C ends the replay with a summary of what was done; the engine
	 * lets these signals in only while it sleeps, so it wakes at once. */
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rp_ignore ign = {.keys = ignore, .n = n_ignore};
	rp_report *rep = rp_report_new(&cap, &ign, stdout, json, verbose, target_shown, timeout_ms);
	if (!rep) {
		fprintf(stderr, "jmsg replay: out of memory\n");
		rp_capture_free(&cap);
		goto out;
	}
	rp_events ev = rp_report_events(rep);
	uint64_t t_start = el_now_ns();
	if (rp_engine_run(&cap, &ec, &ev, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg replay: %s\n", err);
		rc = RP_EXIT_ERROR;
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
	rp_capture_free(&cap);
out:
	free(to);
	rp_select_free(&sel);
	return rc;
}
