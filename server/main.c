/*
 * jmsg server: options and help (srv_parse_args, see args.h), then
 * srv_run().  The work is in server.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/chat.h"
#include "cmd/commands.h"
#include "cmd/opts.h"
#include "cmd/version.h"
#include "io/net.h"
#include "server/args.h"
#include "server/server.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static void usage(FILE *f)
{
	fprintf(f,
"usage: jmsg server [--host H] [--port P] [--port-file F] [options]\n"
"       jmsg server --echo [--framing NAME|FILE] [options]\n"
"       jmsg server --interactive [--framing NAME|FILE] [options]\n"
"\n"
"The tutorial's application server: answers text/json search requests from\n"
"the search table and binary requests with their first 10 bytes, then closes\n"
"the connection, unless the request header has \"connection\": \"keep-alive\".\n"
"\n"
"  --host H            address to listen on (default %s); '' or 0.0.0.0 for\n"
"                      every IPv4 interface, :: or ::1 for IPv6\n"
"  --port P            port (default %d); 0 picks a free port\n"
"  --port-file F       write the port to F once listening\n"
"  --search-table F    JSON object of value -> result to search (default:\n"
"                      the tutorial's morpheus, ring and puppy table)\n"
"  --max-table N       largest --search-table file in bytes (default %u;\n"
"                      k/m/g suffixes allowed)\n"
"  --max-content N     largest request content in bytes (default %u;\n"
"                      k/m/g suffixes allowed); larger gets an error\n"
"  --max-conns N       connections served at once (default %d); more are\n"
"                      answered {\"error\": \"%s\"} and closed\n"
"  --idle-timeout S    close a connection idle, or stuck inside a message,\n"
"                      for S seconds (default %d; 0 never)\n"
"  --request-timeout S close a connection whose request is not whole S\n"
"                      seconds after its first byte, however steadily it\n"
"                      trickles in (default %d; 0 never)\n"
"  --no-read           accept connections and never read them (the tutorial's\n"
"                      app-server-test: senders' data piles up in Recv-Q)\n"
"  --echo              the tutorial's multiconn-server.py: echo what each\n"
"                      connection sends, on many connections at once; without\n"
"                      --framing (or with raw) bytes go back as they arrive,\n"
"                      with one each whole message goes back framed again.\n"
"                      Logs 'Echoing b'...' to PEER'.  A framing error closes\n"
"                      that connection only, after a 'Framing error from\n"
"                      PEER: ID: DETAIL' line.  --max-conns and\n"
"                      --idle-timeout hold; the framing names its max_payload\n"
"  --interactive       the tutorialspoint chat's server: one connection at a\n"
"                      time; prints 'Connection from: ('HOST', PORT)' and\n"
"                      'from connected user: TEXT', prompts 'type message: '\n"
"                      and answers each message with the next line of\n"
"                      standard input (without its newline); stops when\n"
"                      standard input ends\n"
"  --framing NAME|FILE with --echo or --interactive: how messages are cut\n"
"                      from the stream: raw (the default: what one read\n"
"                      returns), ascii-length (00012Hello, world), fixed (30\n"
"                      bytes, '#'-padded), delimited (ends in #*#), close\n"
"                      (one message each way, ended by closing), jmsg (the\n"
"                      tutorial's messages; an echo keeps each one's\n"
"                      content-type and content-encoding; --max-content\n"
"                      holds), or the path of a framing file (spec/README.md)\n"
"  -q, --quiet         log only 'Listening on' and errors\n"
"  -v, --verbose       log message bytes as the tutorial does\n"
"  -h, --help          this help\n"
"  --version           jmsg's version, the spec's, libpcap's and json-c's\n"
"\n"
"Bad requests get {\"error\": ID, \"detail\": TEXT} as text/json and the\n"
"connection is closed: ID is the codec's error id (header_not_json, ...)\n"
"or %s for JSON the server cannot act on (not an object, no\n"
"\"action\" string, no search \"value\" string).\n"
"SIGINT or SIGTERM stops accepting, finishes responses in flight and exits.\n"
"\n"
OPT_DURATION_HELP
"exit status: 0 stopped by SIGINT/SIGTERM, 1 could not start (address in\n"
"use, bad search table, ...), 2 usage error\n",
		NET_DEFAULT_HOST, JM_SPEC_DEFAULT_PORT, SRV_DEFAULT_MAX_TABLE, SRV_DEFAULT_MAX_CONTENT,
		SRV_DEFAULT_MAX_CONNS, SRV_ERR_BUSY, SRV_DEFAULT_IDLE_MS / 1000, SRV_DEFAULT_REQUEST_MS / 1000,
		APP_ERR_BAD_REQUEST);
}

enum { O_HOST = 256, O_PORT, O_PORT_FILE, O_TABLE, O_MAX_TABLE, O_MAX_CONTENT, O_MAX_CONNS, O_IDLE,
       O_REQUEST, O_NO_READ, O_VERSION, O_ECHO, O_INTERACTIVE, O_FRAMING };

static const struct option longopts[] = {
	{"host", required_argument, NULL, O_HOST},
	{"port", required_argument, NULL, O_PORT},
	{"port-file", required_argument, NULL, O_PORT_FILE},
	{"search-table", required_argument, NULL, O_TABLE},
	{"max-table", required_argument, NULL, O_MAX_TABLE},
	{"max-content", required_argument, NULL, O_MAX_CONTENT},
	{"max-conns", required_argument, NULL, O_MAX_CONNS},
	{"idle-timeout", required_argument, NULL, O_IDLE},
	{"request-timeout", required_argument, NULL, O_REQUEST},
	{"no-read", no_argument, NULL, O_NO_READ},
	{"echo", no_argument, NULL, O_ECHO},
	{"interactive", no_argument, NULL, O_INTERACTIVE},
	{"framing", required_argument, NULL, O_FRAMING},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, O_VERSION},
	{NULL, 0, NULL, 0},
};

static const srv_config defaults = {
	.host = NET_DEFAULT_HOST,
	.port = STR(JM_SPEC_DEFAULT_PORT),
	.max_content = SRV_DEFAULT_MAX_CONTENT,
	.max_table = SRV_DEFAULT_MAX_TABLE,
	.max_conns = SRV_DEFAULT_MAX_CONNS,
	.idle_ms = SRV_DEFAULT_IDLE_MS,
	.request_ms = SRV_DEFAULT_REQUEST_MS,
	.verbosity = 1,
};

/* getopt_long's '?': an option that is not one.  A short one is named by
 * optopt alone, as it may sit inside a group ("-xq", where argv[optind - 1]
 * is the word before the group); for a long one optopt is 0, or the
 * option's own value when it was given a value it does not take
 * ("--quiet=1"): then the word names it. */
static void say_unknown(jm_buf *err, char **argv)
{
	if (optopt > 0 && optopt < 256 && !strchr("qvh", optopt))
		jm_buf_printf(err, "jmsg server: unknown option '-%c' (see --help)", optopt);
	else
		jm_buf_printf(err, "jmsg server: unknown option '%s' (see --help)", argv[optind - 1]);
}

/* Option `opt` (getopt_long's answer) with its value `arg` into cfg.
 * Returns 0, or -1 with the line saying what is wrong in err. */
static int set_option(srv_config *cfg, int opt, const char *arg, char **argv, jm_buf *err)
{
	uint64_t v;
	switch (opt) {
	case O_HOST: cfg->host = arg; return 0;
	case O_PORT:
		if (opt_uint_buf(err, "server", "--port", arg, 0, 65535, &v) < 0)
			return -1;
		cfg->port = arg;
		return 0;
	case O_PORT_FILE: cfg->port_file = arg; return 0;
	case O_TABLE: cfg->table_file = arg; return 0;
	case O_MAX_TABLE:
		return opt_size_buf(err, "server", "--max-table", arg, &cfg->max_table);
	case O_MAX_CONTENT:
		if (opt_size_buf(err, "server", "--max-content", arg, &cfg->max_content) < 0)
			return -1;
		if (!cfg->max_content) {
			/* the codec would read 0 as "its default" */
			jm_buf_printf(err, "jmsg server: --max-content must be at least 1");
			return -1;
		}
		return 0;
	case O_MAX_CONNS:
		if (opt_uint_buf(err, "server", "--max-conns", arg, 1, 1000000, &v) < 0)
			return -1;
		cfg->max_conns = (unsigned)v;
		return 0;
	case O_IDLE:
		return opt_seconds_buf(err, "server", "--idle-timeout", arg, &cfg->idle_ms);
	case O_REQUEST:
		return opt_seconds_buf(err, "server", "--request-timeout", arg, &cfg->request_ms);
	case O_NO_READ: cfg->no_read = true; return 0;
	case O_ECHO:
	case O_INTERACTIVE: {
		srv_mode m = opt == O_ECHO ? SRV_MODE_ECHO : SRV_MODE_INTERACTIVE;
		if (cfg->mode != SRV_MODE_APP && cfg->mode != m) {
			jm_buf_printf(err, "jmsg server: --echo and --interactive do not go together");
			return -1;
		}
		cfg->mode = m;
		return 0;
	}
	case O_FRAMING: cfg->framing = arg; return 0;
	case 'q': cfg->verbosity = 0; return 0;
	case 'v': cfg->verbosity = 2; return 0;
	case ':':
		jm_buf_printf(err, "jmsg server: option '%s' needs a value (see --help)", argv[optind - 1]);
		return -1;
	default:
		say_unknown(err, argv);
		return -1;
	}
}

int srv_parse_args(int argc, char **argv, srv_args *a, jm_buf *err)
{
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
		if (set_option(&a->cfg, opt, optarg, argv, err) < 0)
			return JM_EXIT_USAGE;
	}
	if (optind < argc) {
		jm_buf_printf(err, "jmsg server: unexpected argument '%s' (see --help)", argv[optind]);
		return JM_EXIT_USAGE;
	}
	const srv_config *c = &a->cfg;
	if (c->framing && c->mode == SRV_MODE_APP) {
		jm_buf_printf(err, "jmsg server: --framing goes with --echo or --interactive");
		return JM_EXIT_USAGE;
	}
	if (c->mode != SRV_MODE_APP && (c->no_read || c->table_file)) {
		jm_buf_printf(err, "jmsg server: %s goes with the application server, not %s",
			      c->no_read ? "--no-read" : "--search-table",
			      c->mode == SRV_MODE_ECHO ? "--echo" : "--interactive");
		return JM_EXIT_USAGE;
	}
	return JM_EXIT_OK;
}

int server_main(int argc, char **argv)
{
	srv_args a;
	jm_buf err = {0};
	int rc = srv_parse_args(argc, argv, &a, &err);

	if (rc != JM_EXIT_OK)
		return opt_usage_error(&err, rc);
	if (a.help) {
		usage(stdout);
		return JM_EXIT_OK;
	}
	if (a.version)
		return jm_print_version(stdout);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (a.cfg.mode == SRV_MODE_APP)
		return srv_run(&a.cfg);
	jmf_framing f;
	if (app_chat_framing(&f, "server", a.cfg.framing) < 0)
		return JM_EXIT_USAGE;
	return a.cfg.mode == SRV_MODE_ECHO ? srv_run_echo(&a.cfg, &f) : srv_run_chat(&a.cfg, &f);
}
