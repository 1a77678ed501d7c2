/*
 * jmsg client: options and help (cli_parse_args, see args.h), then the
 * mode, in oneshot.c, load.c or flood.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "app/chat.h"
#include "client/args.h"
#include "client/client.h"
#include "client/rate.h"
#include "cmd/commands.h"
#include "cmd/opts.h"
#include "cmd/version.h"
#include "app/answer.h"
#include "io/net.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* The seeds' modes, out of usage() to keep it short. */
static const char usage_modes[] =
"echo mode (--echo): the tutorial's multiconn-client.py.  Each of --conns\n"
"connections (default 1 with --echo) sends every MESSAGE (default: the\n"
"tutorial's 'Message 1 from client.' and 'Message 2 from client.'), reads\n"
"until as many bytes came back as it sent, and closes, printing 'Starting\n"
"connection N to ('HOST', PORT)', 'Sending b'...' to connection N',\n"
"'Received b'...' from connection N' and 'Closing connection N'.  Exit 0\n"
"only when every byte came back unchanged; else 5 (bytes differ, or the\n"
"server closed first), 3, or 4 (--timeout S without progress), with one\n"
"line per failed connection.\n"
"  --framing NAME|FILE  frame each MESSAGE: raw (the default: the bytes as\n"
"                    they are), ascii-length (00012Hello, world), fixed (30\n"
"                    bytes, '#'-padded), delimited (ends in #*#), close (one\n"
"                    MESSAGE, then shutdown(SHUT_WR); the server's close\n"
"                    ends the answer), jmsg (the tutorial's messages, as\n"
"                    text/plain, utf-8), or the path of a framing file\n"
"                    (spec/README.md)\n"
"\n"
"interactive mode (--interactive): the tutorialspoint chat's client.\n"
"Prompts 'type message: ', sends each line of standard input without its\n"
"newline and prints 'Received from server: TEXT'; stops at a line 'q' or\n"
"at the end of input.  Piped input works: each line waits up to --timeout\n"
"for the answer before the next is sent.  --framing as for --echo (default\n"
"raw: an answer is what one read returns; with close each line is a new\n"
"connection).\n"
"\n"
"flood mode (--flood): the tutorial's app-client-test.  Send binary\n"
"messages without reading, report when send() would block and how many\n"
"bytes are queued each second, stop after --duration (default 10).\n"
"\n";

static void usage(FILE *f)
{
	fprintf(f,
"usage: jmsg client [--host H] [--port P] [options] ACTION VALUE\n"
"       jmsg client [options] HOST PORT ACTION VALUE   (the tutorial's form)\n"
"       jmsg client --load [--conns C] [--requests N | --duration S] [--rate R]\n"
"                   [--pipeline K] [--keep-alive | --one-shot] [--value V] [--json]\n"
"       jmsg client --flood [--duration S] [ACTION VALUE]\n"
"       jmsg client --echo [--conns N] [--framing NAME|FILE] [MESSAGE...]\n"
"       jmsg client --interactive [--framing NAME|FILE]\n"
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
"  --version         jmsg's version, the spec's, libpcap's and json-c's\n"
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
"  --json            print the report as one JSON line,\n"
"                    {\"event\":\"load_report\",...}\n"
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
"%s"
OPT_DURATION_HELP
"exit status: 0 success; 1 internal error; 2 usage error; 3 connection\n"
"refused, reset or unreachable; 4 timeout; 5 malformed response (--echo:\n"
"the echo differs or stops short); 6 the server answered with an error;\n"
"7 load finished but some requests failed\n",
		NET_DEFAULT_HOST, JM_SPEC_DEFAULT_PORT, (unsigned long long)JM_SPEC_DEFAULT_MAX_CONTENT_LEN,
		RATE_MAX, usage_modes);
}

enum { O_HOST = 256, O_PORT, O_TIMEOUT, O_KEEP, O_ONE, O_MAXC, O_LOAD, O_CONNS, O_REQS,
       O_DUR, O_PIPE, O_VALUE, O_JSON, O_FLOOD, O_RATE, O_VERSION, O_ECHO, O_INTERACTIVE,
       O_FRAMING };

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
	{"echo", no_argument, NULL, O_ECHO},
	{"interactive", no_argument, NULL, O_INTERACTIVE},
	{"framing", required_argument, NULL, O_FRAMING},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, O_VERSION},
	{NULL, 0, NULL, 0},
};

static const cli_config defaults = {
	.mode = CLI_MODE_REQUEST,
	.host = NET_DEFAULT_HOST,
	.port = STR(JM_SPEC_DEFAULT_PORT),
	.timeout_ms = 10000,
	.verbosity = 1,
	.conns = 50,
	.pipeline = 1,
	.max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN,
};

/* The command line as given, before the rules that tie options together;
 * err takes the line saying what is wrong with it. */
typedef struct given {
	cli_config *cfg;
	jm_buf *err;
	bool load, flood, keep, one, dur_set, req_set, host_set, port_set;
	bool echo, interactive, conns_set;
	const char *value_opt;
} given;

/* "jmsg client: WHY" into g->err; -1. */
static int refuse(const given *g, const char *why)
{
	jm_buf_printf(g->err, "jmsg client: %s", why);
	return -1;
}

/* getopt_long's '?': an option that is not one.  A short one is named by
 * optopt alone, as it may sit inside a group ("-xq", where argv[optind - 1]
 * is the word before the group); for a long one optopt is 0, or the
 * option's own value when it was given a value it does not take
 * ("--verbose=2"): then the word names it. */
static int say_unknown(const given *g, char **argv)
{
	if (optopt > 0 && optopt < 256 && !strchr("qvh", optopt))
		jm_buf_printf(g->err, "jmsg client: unknown option '-%c' (see --help)", optopt);
	else
		jm_buf_printf(g->err, "jmsg client: unknown option '%s' (see --help)", argv[optind - 1]);
	return -1;
}

/* Option `opt` (getopt_long's answer) with its value `arg` into g.
 * Returns 0, or -1 with the line saying what is wrong in g->err. */
static int set_option(given *g, int opt, const char *arg, char **argv)
{
	cli_config *cfg = g->cfg;
	jm_buf *err = g->err;
	uint64_t v;
	switch (opt) {
	case O_HOST: cfg->host = arg; g->host_set = true; return 0;
	case O_PORT:
		if (opt_port_buf(err, "client", "--port", arg, NULL) < 0)
			return -1;
		cfg->port = arg;
		g->port_set = true;
		return 0;
	case O_TIMEOUT:
		if (opt_seconds_buf(err, "client", "--timeout", arg, &cfg->timeout_ms) < 0)
			return -1;
		if (!cfg->timeout_ms)
			cfg->timeout_ms = 1;
		return 0;
	case O_KEEP: g->keep = true; return 0;
	case O_ONE: g->one = true; return 0;
	case O_MAXC:
		if (opt_size_buf(err, "client", "--max-content", arg, &cfg->max_content) < 0)
			return -1;
		return cfg->max_content ? 0 : refuse(g, "--max-content must be at least 1");
	case O_LOAD: g->load = true; return 0;
	case O_CONNS:
		if (opt_uint_buf(err, "client", "--conns", arg, 1, 100000, &v) < 0)
			return -1;
		cfg->conns = (unsigned)v;
		g->conns_set = true;
		return 0;
	case O_REQS:
		g->req_set = true;
		return opt_uint_buf(err, "client", "--requests", arg, 1, UINT64_MAX >> 1, &cfg->requests);
	case O_DUR:
		g->dur_set = true;
		return opt_seconds_buf(err, "client", "--duration", arg, &cfg->duration_ms);
	case O_PIPE:
		if (opt_uint_buf(err, "client", "--pipeline", arg, 1, 4096, &v) < 0)
			return -1;
		cfg->pipeline = (unsigned)v;
		return 0;
	case O_RATE:
		return opt_uint_buf(err, "client", "--rate", arg, 1, RATE_MAX, &cfg->rate);
	case O_VALUE: g->value_opt = arg; return 0;
	case O_JSON: cfg->json = true; return 0;
	case O_FLOOD: g->flood = true; return 0;
	case O_ECHO: g->echo = true; return 0;
	case O_INTERACTIVE: g->interactive = true; return 0;
	case O_FRAMING: cfg->framing = arg; return 0;
	case 'q': cfg->verbosity = 0; return 0;
	case 'v': cfg->verbosity = 2; return 0;
	case ':':
		jm_buf_printf(err, "jmsg client: option '%s' needs a value (see --help)", argv[optind - 1]);
		return -1;
	default:
		return say_unknown(g, argv);
	}
}

/* Options that do not go together, and the count of ACTION VALUE words.
 * Returns 0, or -1 with the line in g->err. */
static int check_combination(const given *g, int npos)
{
	if (g->load && g->flood)
		return refuse(g, "--load and --flood do not go together");
	if (g->keep && g->one)
		return refuse(g, "--keep-alive and --one-shot do not go together");
	if (g->cfg->rate && !g->load)
		return refuse(g, "--rate goes with --load");
	if (g->cfg->json && !g->load)
		return refuse(g, "--json goes with --load");
	if (g->req_set && g->dur_set)
		return refuse(g, "give --requests or --duration, not both");
	if ((g->load || g->flood) ? (npos != 0 && npos != 2) : npos != 2)
		return refuse(g, "expected ACTION VALUE or HOST PORT ACTION VALUE (see --help)");
	return 0;
}

/* ACTION and VALUE: the words `pos` if given (npos is 0 or 2), else the
 * mode's defaults.  Returns 0, or -1 with the line in g->err. */
static int set_request(const given *g, int npos, char **pos)
{
	cli_config *cfg = g->cfg;
	size_t bad;
	cfg->action = npos == 2 ? pos[0] : (g->flood ? "binary" : APP_SEARCH_ACTION);
	cfg->value = npos == 2 ? pos[1] : (g->value_opt ? g->value_opt : (g->flood ? "test" : "morpheus"));
	if (g->value_opt && npos == 2 && !g->load)
		return refuse(g, "give VALUE or --value, not both");
	if (!jm_utf8_valid((const uint8_t *)cfg->action, strlen(cfg->action), &bad) ||
	    !jm_utf8_valid((const uint8_t *)cfg->value, strlen(cfg->value), &bad))
		return refuse(g, "ACTION and VALUE must be UTF-8 text");
	return 0;
}

/* The mode, and what it does when not told: --flood runs 10 s; --load
 * keeps connections alive unless --one-shot, and runs 10 s with --rate or
 * else 100000 requests.  Returns 0, or -1 with the line in g->err. */
static int set_mode(const given *g)
{
	cli_config *cfg = g->cfg;
	if (g->flood) {
		cfg->mode = CLI_MODE_FLOOD;
		if (!g->dur_set)
			cfg->duration_ms = 10000;
		return 0;
	}
	if (!g->load) {
		cfg->mode = CLI_MODE_REQUEST;
		cfg->keep_alive = g->keep;
		return 0;
	}
	cfg->mode = CLI_MODE_LOAD;
	cfg->keep_alive = !g->one;
	if (!g->dur_set && !g->req_set && cfg->rate)
		cfg->duration_ms = 10000;
	else if (!g->dur_set && !g->req_set)
		cfg->requests = 100000;
	if (g->dur_set && !cfg->duration_ms)
		return refuse(g, "--duration must be more than 0");
	return 0;
}

/* The tutorial's form, `app-client.py HOST PORT ACTION VALUE`: with four
 * words, the first two are the server.  *npos and *pos then count and
 * point past them.  Returns 0, or -1 with the line in g->err. */
static int take_server_words(given *g, int *npos, char ***pos)
{
	if (*npos != 4)
		return 0;
	const char *host = (*pos)[0], *port = (*pos)[1];
	if (g->host_set || g->port_set)
		return refuse(g, "give the server as HOST PORT words or as --host/--port, not both");
	uint16_t v;
	if (opt_parse_port(port, NULL, &v) < 0) {
		jm_buf_printf(g->err, "jmsg client: in HOST PORT ACTION VALUE, PORT must be a port "
			      "from 1 to 65535, not '%s'", port);
		return -1;
	}
	g->cfg->host = host;
	g->cfg->port = port;
	*npos -= 2;
	*pos += 2;
	return 0;
}

/* --echo and --interactive: the options that go with them, and MESSAGE
 * words (--echo only).  Returns 0, or -1 with the line in g->err. */
static int set_chat_mode(given *g, int npos, char **pos)
{
	cli_config *cfg = g->cfg;
	static char *tutorial[] = {CLI_ECHO_MESSAGE_1, CLI_ECHO_MESSAGE_2};
	const char *mode = g->echo ? "--echo" : "--interactive";
	if (g->echo && g->interactive)
		return refuse(g, "--echo and --interactive do not go together");
	if (g->load || g->flood) {
		jm_buf_printf(g->err, "jmsg client: %s and %s do not go together", mode,
			      g->load ? "--load" : "--flood");
		return -1;
	}
	if (g->keep || g->one || g->dur_set || g->req_set || g->value_opt || cfg->json ||
	    cfg->rate || cfg->pipeline != 1) {
		jm_buf_printf(g->err, "jmsg client: %s takes %s--framing, --host, --port and "
			      "--timeout, not the request and load options", mode,
			      g->echo ? "--conns, " : "");
		return -1;
	}
	if (g->interactive && (npos || g->conns_set))
		return refuse(g, npos ? "--interactive reads its messages from standard input, not "
				        "from the command line"
				      : "--conns goes with --echo or --load");
	cfg->mode = g->echo ? CLI_MODE_ECHO : CLI_MODE_INTERACTIVE;
	cfg->messages = npos ? pos : tutorial;
	cfg->nmessages = npos ? npos : 2;
	if (!g->conns_set)
		cfg->conns = 1;
	return 0;
}

int cli_parse_args(int argc, char **argv, cli_args *a, jm_buf *err)
{
	given g = {.cfg = &a->cfg, .err = err};
	int opt;

	a->help = a->version = false;
	a->cfg = defaults;
	/* 0, not 1: glibc's getopt then forgets the previous parse, even one
	 * that stopped inside a group of short options ("-xq"). */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":qvh", longopts, NULL)) != -1) {
		if (opt == 'h' || opt == O_VERSION) {
			a->help = opt == 'h';
			a->version = opt == O_VERSION;
			return JM_EXIT_OK;
		}
		if (set_option(&g, opt, optarg, argv) < 0)
			return JM_EXIT_USAGE;
	}
	int npos = argc - optind;
	char **pos = argv + optind;
	if (g.echo || g.interactive)
		return set_chat_mode(&g, npos, pos) < 0 ? JM_EXIT_USAGE : JM_EXIT_OK;
	if (a->cfg.framing)
		return refuse(&g, "--framing goes with --echo or --interactive"), JM_EXIT_USAGE;
	if (take_server_words(&g, &npos, &pos) < 0 || check_combination(&g, npos) < 0 ||
	    set_request(&g, npos, pos) < 0 ||
	    set_mode(&g) < 0)
		return JM_EXIT_USAGE;
	return JM_EXIT_OK;
}

int client_main(int argc, char **argv)
{
	cli_args a;
	jm_buf err = {0};
	int rc = cli_parse_args(argc, argv, &a, &err);

	if (rc != JM_EXIT_OK)
		return opt_usage_error(&err, rc);
	if (a.help) {
		usage(stdout);
		return JM_EXIT_OK;
	}
	if (a.version)
		return jm_print_version(stdout);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (a.cfg.mode == CLI_MODE_ECHO || a.cfg.mode == CLI_MODE_INTERACTIVE) {
		jmf_framing f;
		if (app_chat_framing(&f, "client", a.cfg.framing) < 0)
			return JM_EXIT_USAGE;
		return a.cfg.mode == CLI_MODE_ECHO ? cli_echo(&a.cfg, &f) : cli_chat(&a.cfg, &f);
	}
	if (a.cfg.mode == CLI_MODE_FLOOD)
		return cli_flood(&a.cfg);
	if (a.cfg.mode == CLI_MODE_LOAD)
		return cli_load(&a.cfg);
	return cli_request(&a.cfg);
}
