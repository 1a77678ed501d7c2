/* `jmsg client`'s command line, one row per case: every option with good
 * values and bad ones, a missing value, the options that do not go
 * together, ACTION VALUE, each mode's defaults, --help.  cli_parse_args
 * prints nothing: a good command line gives the whole cli_config, a bad
 * one exactly the row's line, which client_main then prints on stderr
 * before it exits with the usage status.  --help makes client_main print
 * the help on stdout and exit 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args_check.h"
#include "client/args.h"
#include "client/rate.h"
#include "cmd/commands.h"
#include "io/net.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* A row's config is one of the mode defaults below with its own fields
 * after them: a later designated initializer overrides an earlier one,
 * which is the point.  Rows leave out what their result does not use (cfg
 * for USAGE, both for HELP). */
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define COMMON                                                                                 \
	.host = NET_DEFAULT_HOST, .port = STR(JM_SPEC_DEFAULT_PORT), .timeout_ms = 10000,     \
	.verbosity = 1, .conns = 50, .pipeline = 1, .max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN
/* one request: ACTION VALUE are given */
#define REQUEST(a, v) .mode = CLI_MODE_REQUEST, COMMON, .action = a, .value = v
/* --load: search morpheus, keep-alive, 100000 requests */
#define LOAD                                                                              \
	.mode = CLI_MODE_LOAD, COMMON, .action = "search", .value = "morpheus", .keep_alive = true, \
	.requests = 100000
/* --flood: binary "test" for 10 s */
/* --echo: one connection, the tutorial's two messages */
#define ECHO .mode = CLI_MODE_ECHO, COMMON, .conns = 1, .nmessages = 2, .messages = tutorial_msgs
#define INTERACTIVE .mode = CLI_MODE_INTERACTIVE, COMMON, .conns = 1, .nmessages = 2, \
	.messages = tutorial_msgs
static char *tutorial_msgs[] = {"Message 1 from client.", "Message 2 from client."};
static char *hello_msgs[] = {"hello", "wörld"};
#define FLOOD .mode = CLI_MODE_FLOOD, COMMON, .action = "binary", .value = "test", .duration_ms = 10000

#define WHOLE_ERR(opt, range, v) "jmsg client: " opt " must be a whole number from " range ", not '" v "'"
#define PORT_ERR(v) "jmsg client: --port must be a port from 1 to 65535, not '" v "'"
#define SECONDS_ERR(opt, v) \
	"jmsg client: " opt " must be seconds from 0 to 86400, or a duration such as 500ms, 10s or 2m, not '" v "'"
#define SIZE_ERR(opt, v) \
	"jmsg client: " opt " must be a byte count such as 65536 or 64k, not '" v "'"
#define NEEDS(opt) "jmsg client: option '" opt "' needs a value (see --help)"
#define UNKNOWN(opt) "jmsg client: unknown option '" opt "' (see --help)"
#define EXPECTED "jmsg client: expected ACTION VALUE or HOST PORT ACTION VALUE (see --help)"

/* What a command line is: a run, a call for help, a usage error. */
enum { RUN, HELP, USAGE };

typedef struct row {
	const char *args[ARGS_MAX]; /* after "client" */
	int want;                   /* RUN, HELP or USAGE */
	const char *err;            /* USAGE: the line, without its newline */
	cli_config cfg;             /* RUN: the whole config */
} row;

static const row rows[] = {
	/* --echo [--conns N] [--framing F] [MESSAGE...]; --interactive */
	{{"--echo"}, RUN, NULL, {ECHO}},
	{{"--echo", "--conns", "3", "--framing", "fixed", "hello", "wörld"}, RUN, NULL,
	 {ECHO, .conns = 3, .framing = "fixed", .nmessages = 2, .messages = hello_msgs}},
	{{"--echo", "hello", "--framing=close"}, RUN, NULL,
	 {ECHO, .framing = "close", .nmessages = 1, .messages = hello_msgs}},
	{{"--interactive", "--timeout", "2", "--port", "12345"}, RUN, NULL,
	 {INTERACTIVE, .timeout_ms = 2000, .port = "12345"}},
	{{"--interactive", "--framing", "ascii-length"}, RUN, NULL,
	 {INTERACTIVE, .framing = "ascii-length"}},
	{{"--echo", "--interactive"}, USAGE, "jmsg client: --echo and --interactive do not go together"},
	{{"--echo", "--load"}, USAGE, "jmsg client: --echo and --load do not go together"},
	{{"--interactive", "--flood"}, USAGE, "jmsg client: --interactive and --flood do not go together"},
	{{"--echo", "--keep-alive"}, USAGE,
	 "jmsg client: --echo takes --conns, --framing, --host, --port and --timeout, "
	 "not the request and load options"},
	{{"--interactive", "--rate", "5"}, USAGE,
	 "jmsg client: --interactive takes --framing, --host, --port and --timeout, "
	 "not the request and load options"},
	{{"--interactive", "hello"}, USAGE,
	 "jmsg client: --interactive reads its messages from standard input, not from the command line"},
	{{"--interactive", "--conns", "2"}, USAGE, "jmsg client: --conns goes with --echo or --load"},
	{{"--framing", "raw", "search", "x"}, USAGE, "jmsg client: --framing goes with --echo or --interactive"},
	{{"--framing"}, USAGE, NEEDS("--framing")},
	/* one request: ACTION VALUE, exactly two words */
	{{"search", "x"}, RUN, NULL, {REQUEST("search", "x")}},
	{{"echo", "hello world"}, RUN, NULL, {REQUEST("echo", "hello world")}},
	{{"search", ""}, RUN, NULL, {REQUEST("search", "")}},
	{{NULL}, USAGE, EXPECTED},
	{{"search"}, USAGE, EXPECTED},
	{{"a", "b", "c"}, USAGE, EXPECTED},
	{{"search", "\xff"}, USAGE, "jmsg client: ACTION and VALUE must be UTF-8 text"},
	{{"\xc0\xaf", "x"}, USAGE, "jmsg client: ACTION and VALUE must be UTF-8 text"},
	{{"search", "caf\xc3\xa9"}, RUN, NULL, {REQUEST("search", "caf\xc3\xa9")}},
	{{"--value", "v", "search", "x"}, USAGE, "jmsg client: give VALUE or --value, not both"},
	{{"--value", "v"}, USAGE, EXPECTED},
	/* the tutorial's form: HOST PORT ACTION VALUE */
	{{"127.0.0.1", "65432", "search", "morpheus"}, RUN, NULL,
	 {REQUEST("search", "morpheus"), .host = "127.0.0.1", .port = "65432"}},
	{{"::1", "8080", "binary", "\xe2\x98\xba"}, RUN, NULL,
	 {REQUEST("binary", "\xe2\x98\xba"), .host = "::1", .port = "8080"}},
	{{"-q", "localhost", "1", "search", "x", }, RUN, NULL,
	 {REQUEST("search", "x"), .host = "localhost", .port = "1", .verbosity = 0}},
	{{"h", "search", "morpheus", "x"}, USAGE,
	 "jmsg client: in HOST PORT ACTION VALUE, PORT must be a port from 1 to 65535, not 'search'"},
	{{"h", "0", "search", "x"}, USAGE,
	 "jmsg client: in HOST PORT ACTION VALUE, PORT must be a port from 1 to 65535, not '0'"},
	{{"--port", "1", "h", "2", "search", "x"}, USAGE,
	 "jmsg client: give the server as HOST PORT words or as --host/--port, not both"},
	{{"--host", "h", "h", "2", "search", "x"}, USAGE,
	 "jmsg client: give the server as HOST PORT words or as --host/--port, not both"},
	{{"h", "2", "search", "x", "y"}, USAGE, EXPECTED},
	{{"--value", "v", "h", "2", "search", "x"}, USAGE, "jmsg client: give VALUE or --value, not both"},
	{{"--load", "h", "2", "search", "x"}, RUN, NULL, {LOAD, .host = "h", .port = "2", .value = "x"}},
	/* --host, --port */
	{{"--host", "::1", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .host = "::1"}},
	{{"--host"}, USAGE, NEEDS("--host")},
	{{"--port", "1", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .port = "1"}},
	{{"--port=65535", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .port = "65535"}},
	{{"--port", "0", "search", "x"}, USAGE, PORT_ERR("0")},
	{{"--port", "65536", "search", "x"}, USAGE, PORT_ERR("65536")},
	{{"--port", "x1"}, USAGE, PORT_ERR("x1")},
	{{"--port"}, USAGE, NEEDS("--port")},
	/* --timeout: seconds; 0 is the shortest wait, not none */
	{{"--timeout", "2.5", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .timeout_ms = 2500}},
	{{"--timeout", "250ms", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .timeout_ms = 250}},
	{{"--timeout", "1m", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .timeout_ms = 60000}},
	{{"--timeout", "10x", "search", "x"}, USAGE, SECONDS_ERR("--timeout", "10x")},
	{{"--timeout", "0", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .timeout_ms = 1}},
	{{"--timeout", "abc", "search", "x"}, USAGE, SECONDS_ERR("--timeout", "abc")},
	{{"--timeout", "86401", "search", "x"}, USAGE, SECONDS_ERR("--timeout", "86401")},
	{{"--timeout"}, USAGE, NEEDS("--timeout")},
	/* --keep-alive, --one-shot */
	{{"--keep-alive", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .keep_alive = true}},
	{{"--one-shot", "search", "x"}, RUN, NULL, {REQUEST("search", "x")}},
	{{"--keep-alive", "--one-shot", "search", "x"}, USAGE,
	 "jmsg client: --keep-alive and --one-shot do not go together"},
	/* --max-content */
	{{"--max-content", "1k", "search", "x"}, RUN, NULL,
	 {REQUEST("search", "x"), .max_content = 1024}},
	{{"--max-content", "1", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .max_content = 1}},
	{{"--max-content", "0", "search", "x"}, USAGE, "jmsg client: --max-content must be at least 1"},
	{{"--max-content", "1x", "search", "x"}, USAGE, SIZE_ERR("--max-content", "1x")},
	{{"--max-content"}, USAGE, NEEDS("--max-content")},
	/* -q, -v */
	{{"-q", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .verbosity = 0}},
	{{"--quiet", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .verbosity = 0}},
	{{"-v", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .verbosity = 2}},
	{{"--verbose", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .verbosity = 2}},
	{{"-vq", "search", "x"}, RUN, NULL, {REQUEST("search", "x"), .verbosity = 0}},

	/* --load and its defaults */
	{{"--load"}, RUN, NULL, {LOAD}},
	{{"--load", "search", "ring"}, RUN, NULL, {LOAD, .value = "ring"}},
	{{"--load", "--value", "ring"}, RUN, NULL, {LOAD, .value = "ring"}},
	{{"--load", "--value", "v", "search", "w"}, RUN, NULL, {LOAD, .value = "w"}},
	{{"--load", "a"}, USAGE, EXPECTED},
	{{"--load", "a", "b", "c"}, USAGE, EXPECTED},
	{{"--load", "--one-shot"}, RUN, NULL, {LOAD, .keep_alive = false}},
	{{"--load", "--keep-alive"}, RUN, NULL, {LOAD}},
	{{"--load", "--json"}, RUN, NULL, {LOAD, .json = true}},
	{{"--json"}, USAGE, "jmsg client: --json goes with --load"},
	{{"--json", "search", "x"}, USAGE, "jmsg client: --json goes with --load"},
	{{"--flood", "--json"}, USAGE, "jmsg client: --json goes with --load"},
	{{"--json=1", "--load"}, USAGE, UNKNOWN("--json=1")},
	/* --conns */
	{{"--load", "--conns", "1"}, RUN, NULL, {LOAD, .conns = 1}},
	{{"--load", "--conns", "100000"}, RUN, NULL, {LOAD, .conns = 100000}},
	{{"--load", "--conns", "0"}, USAGE, WHOLE_ERR("--conns", "1 to 100000", "0")},
	{{"--load", "--conns", "100001"}, USAGE, WHOLE_ERR("--conns", "1 to 100000", "100001")},
	{{"--conns"}, USAGE, NEEDS("--conns")},
	/* --requests, --duration: one or the other */
	{{"--load", "--requests", "5"}, RUN, NULL, {LOAD, .requests = 5}},
	{{"--load", "--requests", "0"}, USAGE,
	 WHOLE_ERR("--requests", "1 to 9223372036854775807", "0")},
	{{"--requests"}, USAGE, NEEDS("--requests")},
	{{"--load", "--duration", "2"}, RUN, NULL, {LOAD, .requests = 0, .duration_ms = 2000}},
	{{"--load", "--duration", "0"}, USAGE, "jmsg client: --duration must be more than 0"},
	{{"--load", "--duration", "x"}, USAGE, SECONDS_ERR("--duration", "x")},
	{{"--duration"}, USAGE, NEEDS("--duration")},
	{{"--load", "--requests", "5", "--duration", "1"}, USAGE,
	 "jmsg client: give --requests or --duration, not both"},
	/* --pipeline */
	{{"--load", "--pipeline", "4096"}, RUN, NULL, {LOAD, .pipeline = 4096}},
	{{"--load", "--pipeline", "0"}, USAGE, WHOLE_ERR("--pipeline", "1 to 4096", "0")},
	{{"--load", "--pipeline", "4097"}, USAGE, WHOLE_ERR("--pipeline", "1 to 4096", "4097")},
	{{"--pipeline"}, USAGE, NEEDS("--pipeline")},
	/* --rate: with --load only; runs 10 s unless told */
	{{"--load", "--rate", "100"}, RUN, NULL,
	 {LOAD, .rate = 100, .requests = 0, .duration_ms = 10000}},
	{{"--load", "--rate", "10000000", "--requests", "7"}, RUN, NULL,
	 {LOAD, .rate = RATE_MAX, .requests = 7}},
	{{"--load", "--rate", "1", "--duration", "3"}, RUN, NULL,
	 {LOAD, .rate = 1, .requests = 0, .duration_ms = 3000}},
	{{"--load", "--rate", "0"}, USAGE, WHOLE_ERR("--rate", "1 to 10000000", "0")},
	{{"--load", "--rate", "10000001"}, USAGE, WHOLE_ERR("--rate", "1 to 10000000", "10000001")},
	{{"--rate", "5", "search", "x"}, USAGE, "jmsg client: --rate goes with --load"},
	{{"--rate"}, USAGE, NEEDS("--rate")},
	{{"--value"}, USAGE, NEEDS("--value")},

	/* --flood and its defaults */
	{{"--flood"}, RUN, NULL, {FLOOD}},
	{{"--flood", "a", "b"}, RUN, NULL, {FLOOD, .action = "a", .value = "b"}},
	{{"--flood", "--value", "v"}, RUN, NULL, {FLOOD, .value = "v"}},
	{{"--flood", "--duration", "0"}, RUN, NULL, {FLOOD, .duration_ms = 0}},
	{{"--flood", "--keep-alive"}, RUN, NULL, {FLOOD}},
	{{"--flood", "a"}, USAGE, EXPECTED},
	{{"--flood", "--value", "\xff"}, USAGE, "jmsg client: ACTION and VALUE must be UTF-8 text"},
	{{"--load", "--flood"}, USAGE, "jmsg client: --load and --flood do not go together"},

	/* everything at once */
	{{"--host", "h", "--port", "2", "--timeout", "3", "--one-shot", "--max-content", "4k", "--load",
	  "--conns", "5", "--requests", "6", "--pipeline", "7", "--rate", "8", "--value", "v", "--json",
	  "-q"},
	 RUN, NULL,
	 {.mode = CLI_MODE_LOAD, .host = "h", .port = "2", .action = "search", .value = "v",
	  .timeout_ms = 3000, .verbosity = 0, .keep_alive = false, .conns = 5, .requests = 6,
	  .duration_ms = 0, .pipeline = 7, .rate = 8, .json = true, .max_content = 4096}},
	/* --help wins over what follows, not over an error before it */
	{{"-h"}, HELP},
	{{"--help", "--bogus"}, HELP},
	{{"--load", "--flood", "-h"}, HELP}, /* combinations are checked after the options */
	{{"--port", "0", "-h"}, USAGE, PORT_ERR("0")},
	/* what is not an option */
	{{"--bogus", "search", "x"}, USAGE, UNKNOWN("--bogus")},
	{{"-x"}, USAGE, UNKNOWN("-x")},
	/* stopped inside a group: named by the letter, and the next parse
	 * (the next row) starts afresh rather than at the 'q' left over */
	{{"-vxq", "search", "x"}, USAGE, UNKNOWN("-x")},
	{{"search", "y"}, RUN, NULL, {REQUEST("search", "y")}},
	{{"--verbose=2", "search", "x"}, USAGE, UNKNOWN("--verbose=2")},
	{{"--one", "search", "x"}, RUN, NULL, {REQUEST("search", "x")}}, /* a unique prefix */
	/* the first mistake is the one reported, options before combinations */
	{{"--load", "--flood", "--keep-alive", "--one-shot", "--rate", "0"}, USAGE,
	 WHOLE_ERR("--rate", "1 to 10000000", "0")},
	{{"--load", "--flood", "--keep-alive", "--one-shot"}, USAGE,
	 "jmsg client: --load and --flood do not go together"},
	{{"--keep-alive", "--one-shot", "--rate", "5", "a"}, USAGE,
	 "jmsg client: --keep-alive and --one-shot do not go together"},
	{{"--rate", "5", "--requests", "1", "--duration", "1"}, USAGE,
	 "jmsg client: --rate goes with --load"},
	{{"--requests", "1", "--duration", "1", "a"}, USAGE,
	 "jmsg client: give --requests or --duration, not both"},
	{{"--value", "v", "search", "\xff"}, USAGE, "jmsg client: give VALUE or --value, not both"},
	{{"--load", "--duration", "0", "search", "\xff"}, USAGE,
	 "jmsg client: ACTION and VALUE must be UTF-8 text"},
};

static void check_cfg(const char *desc, const cli_config *got, const cli_config *want)
{
	check_num(desc, "mode", got->mode, want->mode);
	check_str(desc, "host", got->host, want->host);
	check_str(desc, "port", got->port, want->port);
	check_str(desc, "action", got->action, want->action);
	check_str(desc, "value", got->value, want->value);
	check_num(desc, "timeout_ms", got->timeout_ms, want->timeout_ms);
	check_num(desc, "verbosity", got->verbosity, want->verbosity);
	check_num(desc, "keep_alive", got->keep_alive, want->keep_alive);
	check_num(desc, "conns", got->conns, want->conns);
	check_num(desc, "requests", got->requests, want->requests);
	check_num(desc, "duration_ms", got->duration_ms, want->duration_ms);
	check_num(desc, "pipeline", got->pipeline, want->pipeline);
	check_num(desc, "rate", got->rate, want->rate);
	check_num(desc, "json", got->json, want->json);
	check_num(desc, "max_content", got->max_content, want->max_content);
	check_str(desc, "framing", got->framing, want->framing);
	check_num(desc, "nmessages", got->nmessages, want->nmessages);
	for (int i = 0; i < got->nmessages && i < want->nmessages; i++)
		check_str(desc, "a MESSAGE", got->messages[i], want->messages[i]);
}

static void test_rows(void **state)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const row *r = &rows[i];
		args_vec v;
		char desc[512], out[4096], err[4096], line[1024];
		capture co, ce;
		/* twice: a parse does not depend on the one before it */
		for (int k = 0; k < 2; k++) {
			args_make(&v, "client", r->args, desc, sizeof desc);
			cli_args a;
			jm_buf msg = {0};
			capture_begin(&co, 1);
			capture_begin(&ce, 2);
			int rc = cli_parse_args(v.argc, v.argv, &a, &msg);
			capture_end(&ce, err, sizeof err);
			capture_end(&co, out, sizeof out);
			line[0] = '\0';
			if (jm_buf_pending(&msg)) /* an empty jm_buf's head is NULL */
				snprintf(line, sizeof line, "%.*s", (int)jm_buf_pending(&msg),
					 (const char *)jm_buf_head(&msg));
			jm_buf_free(&msg);
			check_num(desc, k ? "a second cli_parse_args" : "cli_parse_args", rc,
				  r->want == USAGE ? JM_EXIT_USAGE : JM_EXIT_OK);
			check_num(desc, "help", rc == JM_EXIT_OK && a.help, r->want == HELP);
			check_str(desc, "the line", line, r->want == USAGE ? r->err : "");
			check_str(desc, "what it printed", out, "");
			check_str(desc, "what it printed on stderr", err, "");
			if (r->want == RUN)
				check_cfg(desc, &a.cfg, &r->cfg);
		}
		if (r->want != USAGE)
			continue;

		/* client_main prints the line and exits with the usage status */
		args_make(&v, "client", r->args, desc, sizeof desc);
		capture_begin(&ce, 2);
		int status = client_main(v.argc, v.argv);
		capture_end(&ce, err, sizeof err);
		snprintf(line, sizeof line, "%s\n", r->err);
		check_num(desc, "client_main's exit status", status, 2);
		check_str(desc, "client_main's stderr", err, line);
	}
}

static void test_help(void **state)
{
	static const char *const helps[][ARGS_MAX] = {{"-h"}, {"--help"}, {"--load", "--flood", "-h"}};
	for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
		args_vec v;
		char desc[512], out[16384], err[4096];
		args_make(&v, "client", helps[i], desc, sizeof desc);
		capture c, ce;
		capture_begin(&c, 1);
		capture_begin(&ce, 2);
		int status = client_main(v.argc, v.argv);
		capture_end(&ce, err, sizeof err);
		capture_end(&c, out, sizeof out);
		check_num(desc, "client_main's exit status", status, 0);
		check_str(desc, "stderr", err, "");
		check_prefix(desc, "stdout", out, "usage: jmsg client [--host H]");
		if (!strstr(out, "exit status: 0 success; 1 internal error; 2 usage error;"))
			fail_msg("%s: the help does not list the exit statuses:\n%s", desc, out);
	}
	assert_int_equal(JM_EXIT_OK, 0);
	assert_int_equal(JM_EXIT_USAGE, 2);
}

int main(void)
{
	/* A command line parsed wrongly as good would run the load or request: stop
	 * rather than wait for it. */
	alarm(60);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
