/*
 * jmsg client: options and help; the modes are in oneshot.c, load.c and
 * flood.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client/client.h"
#include "client/rate.h"
#include "cmd/commands.h"
#include "cmd/opts.h"
#include "app/answer.h"
#include "io/net.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: jmsg client [--host H] [--port P] [options] ACTION VALUE\n"
"       jmsg client --load [--conns C] [--requests N | --duration S] [--rate R]\n"
"                   [--pipeline K] [--keep-alive | --one-shot] [--value V] [--json]\n"
"       jmsg client --flood [--duration S] [ACTION VALUE]\n"
"\n"
"The tutorial's application client.  'search VALUE' sends a text/json\n"
"search request; any other ACTION sends a binary request whose content is\n"
"ACTION followed by VALUE.  Prints 'Got result: ...' for a JSON answer,\n"
"'Got response: b'...'' for a binary one.\n"
"\n"
"  --host H          server address (default %s; IPv6 literals work)\n"
"  --port P          server port (default %d)\n"
"  --timeout S       give up after S seconds without an answer (default 10)\n"
"  --keep-alive      send \"connection\": \"keep-alive\" in the request header\n"
"  --max-content N   largest response content accepted (default %llu)\n"
"  -q, --quiet       print only the result line\n"
"  -v, --verbose     print the request bytes, as the tutorial does\n"
"\n"
"load mode (--load): C connections on one event loop send the request\n"
"(default 'search morpheus') N times in all, or for S seconds, and report\n"
"requests/s, bytes/s, errors and latency p50/p90/p99/p99.9/max/min/mean:\n"
"  --conns C         concurrent connections (default 50, at most 100000)\n"
"  --requests N      requests in all (default 100000 unless --duration or\n"
"                    --rate)\n"
"  --duration S      run for S seconds instead\n"
"  --pipeline K      requests in flight per connection (default 1, at most\n"
"                    4096)\n"
"  --keep-alive      reuse connections (the default for --load)\n"
"  --one-shot        a new connection per request, as the tutorial's client;\n"
"                    the rate is then connections per second\n"
"  --value V         search value (or use ACTION VALUE)\n"
"  --json            print the report as one JSON object\n"
"Without --rate the loop is closed: each connection sends its next request\n"
"when an answer comes back.\n"
"  --rate R          open loop: R requests per second in all (1 to %u),\n"
"                    request i due at start + i/R over all connections,\n"
"                    sent when due whether or not answers have come back;\n"
"                    latency runs from when each request was due, so time\n"
"                    spent waiting in the client counts.  Limits: at most K\n"
"                    (--pipeline) requests in flight on each connection,\n"
"                    C x K in all; one-shot, at most C connections open.\n"
"                    A due request with no room waits in the client and is\n"
"                    sent as soon as an answer makes room.  --duration S\n"
"                    (default 10) schedules S x R requests, --requests N\n"
"                    schedules N.  The run lasts its schedule and every\n"
"                    request is sent and awaited, so a server that falls\n"
"                    behind makes the run longer than S\n"
"                    (--timeout S stops it when nothing is answered for S\n"
"                    seconds).  The report adds the schedule and the latency\n"
"                    from each request's actual send (what a closed loop\n"
"                    would see).\n"
"\n"
"flood mode (--flood): the tutorial's app-client-test.  Send binary\n"
"messages without reading, report when send() would block and how many\n"
"bytes are queued each second, stop after --duration (default 10).\n"
"\n"
"exit status: 0 success; 1 internal error; 2 usage error; 3 connection\n"
"refused, reset or unreachable; 4 timeout; 5 malformed response; 6 the\n"
"server answered with an error; 7 load finished but some requests failed\n",
		NET_DEFAULT_HOST, JM_SPEC_DEFAULT_PORT, (unsigned long long)JM_SPEC_DEFAULT_MAX_CONTENT_LEN,
		RATE_MAX);
}

int client_main(int argc, char **argv)
{
	enum { O_HOST = 256, O_PORT, O_TIMEOUT, O_KEEP, O_ONE, O_MAXC, O_LOAD, O_CONNS, O_REQS,
	       O_DUR, O_PIPE, O_VALUE, O_JSON, O_FLOOD, O_RATE };
	static const struct option longopts[] = {
		{"host", required_argument, NULL, O_HOST},
		{"port", required_argument, NULL, O_PORT},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"keep-alive", no_argument, NULL, O_KEEP},
		{"one-shot", no_argument, NULL, O_ONE},
		{"max-content", required_argument, NULL, O_MAXC},
		{"load", no_argument, NULL, O_LOAD},
		{"conns", required_argument, NULL, O_CONNS},
		{"requests", required_argument, NULL, O_REQS},
		{"duration", required_argument, NULL, O_DUR},
		{"pipeline", required_argument, NULL, O_PIPE},
		{"rate", required_argument, NULL, O_RATE},
		{"value", required_argument, NULL, O_VALUE},
		{"json", no_argument, NULL, O_JSON},
		{"flood", no_argument, NULL, O_FLOOD},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static char portbuf[16];
	snprintf(portbuf, sizeof portbuf, "%d", JM_SPEC_DEFAULT_PORT);
	cli_config cfg = {
		.host = NET_DEFAULT_HOST,
		.port = portbuf,
		.timeout_ms = 10000,
		.verbosity = 1,
		.conns = 50,
		.pipeline = 1,
		.max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN,
	};
	bool load = false, flood = false, keep = false, one = false, dur_set = false, req_set = false;
	const char *value_opt = NULL;
	uint64_t v;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qvh", longopts, NULL)) != -1) {
		switch (opt) {
		case O_HOST: cfg.host = optarg; break;
		case O_PORT:
			if (opt_port("client", "--port", optarg, NULL) < 0)
				return JM_EXIT_USAGE;
			cfg.port = optarg;
			break;
		case O_TIMEOUT:
			if (opt_seconds("client", "--timeout", optarg, &cfg.timeout_ms) < 0)
				return JM_EXIT_USAGE;
			if (!cfg.timeout_ms)
				cfg.timeout_ms = 1;
			break;
		case O_KEEP: keep = true; break;
		case O_ONE: one = true; break;
		case O_MAXC:
			if (opt_size("client", "--max-content", optarg, &cfg.max_content) < 0)
				return JM_EXIT_USAGE;
			if (!cfg.max_content) {
				fprintf(stderr, "jmsg client: --max-content must be at least 1\n");
				return JM_EXIT_USAGE;
			}
			break;
		case O_LOAD: load = true; break;
		case O_CONNS:
			if (opt_uint("client", "--conns", optarg, 1, 100000, &v) < 0)
				return JM_EXIT_USAGE;
			cfg.conns = (unsigned)v;
			break;
		case O_REQS:
			if (opt_uint("client", "--requests", optarg, 1, UINT64_MAX >> 1, &cfg.requests) < 0)
				return JM_EXIT_USAGE;
			req_set = true;
			break;
		case O_DUR:
			if (opt_seconds("client", "--duration", optarg, &cfg.duration_ms) < 0)
				return JM_EXIT_USAGE;
			dur_set = true;
			break;
		case O_PIPE:
			if (opt_uint("client", "--pipeline", optarg, 1, 4096, &v) < 0)
				return JM_EXIT_USAGE;
			cfg.pipeline = (unsigned)v;
			break;
		case O_RATE:
			if (opt_uint("client", "--rate", optarg, 1, RATE_MAX, &cfg.rate) < 0)
				return JM_EXIT_USAGE;
			break;
		case O_VALUE: value_opt = optarg; break;
		case O_JSON: cfg.json = true; break;
		case O_FLOOD: flood = true; break;
		case 'q': cfg.verbosity = 0; break;
		case 'v': cfg.verbosity = 2; break;
		case 'h': usage(stdout); return JM_EXIT_OK;
		case ':':
			fprintf(stderr, "jmsg client: option '%s' needs a value (see --help)\n", argv[optind - 1]);
			return JM_EXIT_USAGE;
		default:
			fprintf(stderr, "jmsg client: unknown option '%s' (see --help)\n", argv[optind - 1]);
			return JM_EXIT_USAGE;
		}
	}
	int npos = argc - optind;
	if (load && flood) {
		fprintf(stderr, "jmsg client: --load and --flood do not go together\n");
		return JM_EXIT_USAGE;
	}
	if (keep && one) {
		fprintf(stderr, "jmsg client: --keep-alive and --one-shot do not go together\n");
		return JM_EXIT_USAGE;
	}
	if (cfg.rate && !load) {
		fprintf(stderr, "jmsg client: --rate goes with --load\n");
		return JM_EXIT_USAGE;
	}
	if (req_set && dur_set) {
		fprintf(stderr, "jmsg client: give --requests or --duration, not both\n");
		return JM_EXIT_USAGE;
	}
	if ((load || flood) ? (npos != 0 && npos != 2) : npos != 2) {
		fprintf(stderr, "jmsg client: expected ACTION VALUE (see --help)\n");
		return JM_EXIT_USAGE;
	}
	cfg.action = npos == 2 ? argv[optind] : (flood ? "binary" : APP_SEARCH_ACTION);
	cfg.value = npos == 2 ? argv[optind + 1] : (value_opt ? value_opt : (flood ? "test" : "morpheus"));
	if (value_opt && npos == 2 && !load) {
		fprintf(stderr, "jmsg client: give VALUE or --value, not both\n");
		return JM_EXIT_USAGE;
	}
	size_t bad;
	if (!jm_utf8_valid((const uint8_t *)cfg.action, strlen(cfg.action), &bad) ||
	    !jm_utf8_valid((const uint8_t *)cfg.value, strlen(cfg.value), &bad)) {
		fprintf(stderr, "jmsg client: ACTION and VALUE must be UTF-8 text\n");
		return JM_EXIT_USAGE;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (flood) {
		if (!dur_set)
			cfg.duration_ms = 10000;
		return cli_flood(&cfg);
	}
	if (load) {
		cfg.keep_alive = !one;
		if (!dur_set && !req_set && cfg.rate)
			cfg.duration_ms = 10000;
		else if (!dur_set && !req_set)
			cfg.requests = 100000;
		if (dur_set && !cfg.duration_ms) {
			fprintf(stderr, "jmsg client: --duration must be more than 0\n");
			return JM_EXIT_USAGE;
		}
		return cli_load(&cfg);
	}
	cfg.keep_alive = keep;
	return cli_request(&cfg);
}
