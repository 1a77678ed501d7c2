/* `jmsg client`'s command line, one row per case: every option with good
 * values and bad ones, a missing value, the options that do not go
 * together, ACTION VALUE, each mode's defaults, --help.  A good command
 * line gives the whole cli_config and prints nothing; a bad one prints
 * exactly the row's line on stderr, and client_main exits with the usage
 * status after the same line.  --help makes client_main print the help
 * on stdout and exit 0. */
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
#define FLOOD .mode = CLI_MODE_FLOOD, COMMON, .action = "binary", .value = "test", .duration_ms = 10000

#define WHOLE_ERR(opt, range, v) "jmsg client: " opt " must be a whole number from " range ", not '" v "'\n"
#define PORT_ERR(v) "jmsg client: --port must be a port from 1 to 65535, not '" v "'\n"
#define SECONDS_ERR(opt, v) \
	"jmsg client: " opt " must be seconds from 0 to 86400 (e.g. 2.5), not '" v "'\n"
#define SIZE_ERR(opt, v) \
	"jmsg client: " opt " must be a byte count such as 65536 or 64k, not '" v "'\n"
#define NEEDS(opt) "jmsg client: option '" opt "' needs a value (see --help)\n"
#define UNKNOWN(opt) "jmsg client: unknown option '" opt "' (see --help)\n"
#define EXPECTED "jmsg client: expected ACTION VALUE (see --help)\n"

typedef struct row {
	const char *args[ARGS_MAX]; /* after "client" */
	cli_args_result want;
	const char *err;            /* USAGE: the line on stderr */
	cli_config cfg;             /* RUN: the whole config */
} row;

static const row rows[] = {
	/* one request: ACTION VALUE, exactly two words */
	{{"search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x")}},
	{{"echo", "hello world"}, CLI_ARGS_RUN, NULL, {REQUEST("echo", "hello world")}},
	{{"search", ""}, CLI_ARGS_RUN, NULL, {REQUEST("search", "")}},
	{{NULL}, CLI_ARGS_USAGE, EXPECTED},
	{{"search"}, CLI_ARGS_USAGE, EXPECTED},
	{{"a", "b", "c"}, CLI_ARGS_USAGE, EXPECTED},
	{{"search", "\xff"}, CLI_ARGS_USAGE, "jmsg client: ACTION and VALUE must be UTF-8 text\n"},
	{{"\xc0\xaf", "x"}, CLI_ARGS_USAGE, "jmsg client: ACTION and VALUE must be UTF-8 text\n"},
	{{"search", "caf\xc3\xa9"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "caf\xc3\xa9")}},
	{{"--value", "v", "search", "x"}, CLI_ARGS_USAGE, "jmsg client: give VALUE or --value, not both\n"},
	{{"--value", "v"}, CLI_ARGS_USAGE, EXPECTED},
	/* --host, --port */
	{{"--host", "::1", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .host = "::1"}},
	{{"--host"}, CLI_ARGS_USAGE, NEEDS("--host")},
	{{"--port", "1", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .port = "1"}},
	{{"--port=65535", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .port = "65535"}},
	{{"--port", "0", "search", "x"}, CLI_ARGS_USAGE, PORT_ERR("0")},
	{{"--port", "65536", "search", "x"}, CLI_ARGS_USAGE, PORT_ERR("65536")},
	{{"--port", "x1"}, CLI_ARGS_USAGE, PORT_ERR("x1")},
	{{"--port"}, CLI_ARGS_USAGE, NEEDS("--port")},
	/* --timeout: seconds; 0 is the shortest wait, not none */
	{{"--timeout", "2.5", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .timeout_ms = 2500}},
	{{"--timeout", "0", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .timeout_ms = 1}},
	{{"--timeout", "abc", "search", "x"}, CLI_ARGS_USAGE, SECONDS_ERR("--timeout", "abc")},
	{{"--timeout", "86401", "search", "x"}, CLI_ARGS_USAGE, SECONDS_ERR("--timeout", "86401")},
	{{"--timeout"}, CLI_ARGS_USAGE, NEEDS("--timeout")},
	/* --keep-alive, --one-shot */
	{{"--keep-alive", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .keep_alive = true}},
	{{"--one-shot", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x")}},
	{{"--keep-alive", "--one-shot", "search", "x"}, CLI_ARGS_USAGE,
	 "jmsg client: --keep-alive and --one-shot do not go together\n"},
	/* --max-content */
	{{"--max-content", "1k", "search", "x"}, CLI_ARGS_RUN, NULL,
	 {REQUEST("search", "x"), .max_content = 1024}},
	{{"--max-content", "1", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .max_content = 1}},
	{{"--max-content", "0", "search", "x"}, CLI_ARGS_USAGE, "jmsg client: --max-content must be at least 1\n"},
	{{"--max-content", "1x", "search", "x"}, CLI_ARGS_USAGE, SIZE_ERR("--max-content", "1x")},
	{{"--max-content"}, CLI_ARGS_USAGE, NEEDS("--max-content")},
	/* -q, -v */
	{{"-q", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .verbosity = 0}},
	{{"--quiet", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .verbosity = 0}},
	{{"-v", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .verbosity = 2}},
	{{"--verbose", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .verbosity = 2}},
	{{"-vq", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x"), .verbosity = 0}},

	/* --load and its defaults */
	{{"--load"}, CLI_ARGS_RUN, NULL, {LOAD}},
	{{"--load", "search", "ring"}, CLI_ARGS_RUN, NULL, {LOAD, .value = "ring"}},
	{{"--load", "--value", "ring"}, CLI_ARGS_RUN, NULL, {LOAD, .value = "ring"}},
	{{"--load", "--value", "v", "search", "w"}, CLI_ARGS_RUN, NULL, {LOAD, .value = "w"}},
	{{"--load", "a"}, CLI_ARGS_USAGE, EXPECTED},
	{{"--load", "a", "b", "c"}, CLI_ARGS_USAGE, EXPECTED},
	{{"--load", "--one-shot"}, CLI_ARGS_RUN, NULL, {LOAD, .keep_alive = false}},
	{{"--load", "--keep-alive"}, CLI_ARGS_RUN, NULL, {LOAD}},
	{{"--load", "--json"}, CLI_ARGS_RUN, NULL, {LOAD, .json = true}},
	{{"--json"}, CLI_ARGS_USAGE, EXPECTED},
	{{"--json=1", "--load"}, CLI_ARGS_USAGE, UNKNOWN("--json=1")},
	/* --conns */
	{{"--load", "--conns", "1"}, CLI_ARGS_RUN, NULL, {LOAD, .conns = 1}},
	{{"--load", "--conns", "100000"}, CLI_ARGS_RUN, NULL, {LOAD, .conns = 100000}},
	{{"--load", "--conns", "0"}, CLI_ARGS_USAGE, WHOLE_ERR("--conns", "1 to 100000", "0")},
	{{"--load", "--conns", "100001"}, CLI_ARGS_USAGE, WHOLE_ERR("--conns", "1 to 100000", "100001")},
	{{"--conns"}, CLI_ARGS_USAGE, NEEDS("--conns")},
	/* --requests, --duration: one or the other */
	{{"--load", "--requests", "5"}, CLI_ARGS_RUN, NULL, {LOAD, .requests = 5}},
	{{"--load", "--requests", "0"}, CLI_ARGS_USAGE,
	 WHOLE_ERR("--requests", "1 to 9223372036854775807", "0")},
	{{"--requests"}, CLI_ARGS_USAGE, NEEDS("--requests")},
	{{"--load", "--duration", "2"}, CLI_ARGS_RUN, NULL, {LOAD, .requests = 0, .duration_ms = 2000}},
	{{"--load", "--duration", "0"}, CLI_ARGS_USAGE, "jmsg client: --duration must be more than 0\n"},
	{{"--load", "--duration", "x"}, CLI_ARGS_USAGE, SECONDS_ERR("--duration", "x")},
	{{"--duration"}, CLI_ARGS_USAGE, NEEDS("--duration")},
	{{"--load", "--requests", "5", "--duration", "1"}, CLI_ARGS_USAGE,
	 "jmsg client: give --requests or --duration, not both\n"},
	/* --pipeline */
	{{"--load", "--pipeline", "4096"}, CLI_ARGS_RUN, NULL, {LOAD, .pipeline = 4096}},
	{{"--load", "--pipeline", "0"}, CLI_ARGS_USAGE, WHOLE_ERR("--pipeline", "1 to 4096", "0")},
	{{"--load", "--pipeline", "4097"}, CLI_ARGS_USAGE, WHOLE_ERR("--pipeline", "1 to 4096", "4097")},
	{{"--pipeline"}, CLI_ARGS_USAGE, NEEDS("--pipeline")},
	/* --rate: with --load only; runs 10 s unless told */
	{{"--load", "--rate", "100"}, CLI_ARGS_RUN, NULL,
	 {LOAD, .rate = 100, .requests = 0, .duration_ms = 10000}},
	{{"--load", "--rate", "10000000", "--requests", "7"}, CLI_ARGS_RUN, NULL,
	 {LOAD, .rate = RATE_MAX, .requests = 7}},
	{{"--load", "--rate", "1", "--duration", "3"}, CLI_ARGS_RUN, NULL,
	 {LOAD, .rate = 1, .requests = 0, .duration_ms = 3000}},
	{{"--load", "--rate", "0"}, CLI_ARGS_USAGE, WHOLE_ERR("--rate", "1 to 10000000", "0")},
	{{"--load", "--rate", "10000001"}, CLI_ARGS_USAGE, WHOLE_ERR("--rate", "1 to 10000000", "10000001")},
	{{"--rate", "5", "search", "x"}, CLI_ARGS_USAGE, "jmsg client: --rate goes with --load\n"},
	{{"--rate"}, CLI_ARGS_USAGE, NEEDS("--rate")},
	{{"--value"}, CLI_ARGS_USAGE, NEEDS("--value")},

	/* --flood and its defaults */
	{{"--flood"}, CLI_ARGS_RUN, NULL, {FLOOD}},
	{{"--flood", "a", "b"}, CLI_ARGS_RUN, NULL, {FLOOD, .action = "a", .value = "b"}},
	{{"--flood", "--value", "v"}, CLI_ARGS_RUN, NULL, {FLOOD, .value = "v"}},
	{{"--flood", "--duration", "0"}, CLI_ARGS_RUN, NULL, {FLOOD, .duration_ms = 0}},
	{{"--flood", "--keep-alive"}, CLI_ARGS_RUN, NULL, {FLOOD}},
	{{"--flood", "a"}, CLI_ARGS_USAGE, EXPECTED},
	{{"--flood", "--value", "\xff"}, CLI_ARGS_USAGE, "jmsg client: ACTION and VALUE must be UTF-8 text\n"},
	{{"--load", "--flood"}, CLI_ARGS_USAGE, "jmsg client: --load and --flood do not go together\n"},

	/* everything at once */
	{{"--host", "h", "--port", "2", "--timeout", "3", "--one-shot", "--max-content", "4k", "--load",
	  "--conns", "5", "--requests", "6", "--pipeline", "7", "--rate", "8", "--value", "v", "--json",
	  "-q"},
	 CLI_ARGS_RUN, NULL,
	 {.mode = CLI_MODE_LOAD, .host = "h", .port = "2", .action = "search", .value = "v",
	  .timeout_ms = 3000, .verbosity = 0, .keep_alive = false, .conns = 5, .requests = 6,
	  .duration_ms = 0, .pipeline = 7, .rate = 8, .json = true, .max_content = 4096}},
	/* --help wins over what follows, not over an error before it */
	{{"-h"}, CLI_ARGS_HELP},
	{{"--help", "--bogus"}, CLI_ARGS_HELP},
	{{"--load", "--flood", "-h"}, CLI_ARGS_HELP}, /* combinations are checked after the options */
	{{"--port", "0", "-h"}, CLI_ARGS_USAGE, PORT_ERR("0")},
	/* what is not an option */
	{{"--bogus", "search", "x"}, CLI_ARGS_USAGE, UNKNOWN("--bogus")},
	{{"-x"}, CLI_ARGS_USAGE, UNKNOWN("-x")},
	/* stopped inside a group: named by the letter, and the next parse
	 * (the next row) starts afresh rather than at the 'q' left over */
	{{"-vxq", "search", "x"}, CLI_ARGS_USAGE, UNKNOWN("-x")},
	{{"search", "y"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "y")}},
	{{"--verbose=2", "search", "x"}, CLI_ARGS_USAGE, UNKNOWN("--verbose=2")},
	{{"--one", "search", "x"}, CLI_ARGS_RUN, NULL, {REQUEST("search", "x")}}, /* a unique prefix */
	/* the first mistake is the one reported, options before combinations */
	{{"--load", "--flood", "--keep-alive", "--one-shot", "--rate", "0"}, CLI_ARGS_USAGE,
	 WHOLE_ERR("--rate", "1 to 10000000", "0")},
	{{"--load", "--flood", "--keep-alive", "--one-shot"}, CLI_ARGS_USAGE,
	 "jmsg client: --load and --flood do not go together\n"},
	{{"--keep-alive", "--one-shot", "--rate", "5", "a"}, CLI_ARGS_USAGE,
	 "jmsg client: --keep-alive and --one-shot do not go together\n"},
	{{"--rate", "5", "--requests", "1", "--duration", "1"}, CLI_ARGS_USAGE,
	 "jmsg client: --rate goes with --load\n"},
	{{"--requests", "1", "--duration", "1", "a"}, CLI_ARGS_USAGE,
	 "jmsg client: give --requests or --duration, not both\n"},
	{{"--value", "v", "search", "\xff"}, CLI_ARGS_USAGE, "jmsg client: give VALUE or --value, not both\n"},
	{{"--load", "--duration", "0", "search", "\xff"}, CLI_ARGS_USAGE,
	 "jmsg client: ACTION and VALUE must be UTF-8 text\n"},
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
}

static void test_rows(void **state)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const row *r = &rows[i];
		args_vec v;
		char desc[512], err[4096];
		capture c;
		/* twice: a parse does not depend on the one before it */
		for (int k = 0; k < 2; k++) {
			args_make(&v, "client", r->args, desc, sizeof desc);
			capture_begin(&c, 2);
			cli_config cfg;
			cli_args_result got = cli_parse_args(v.argc, v.argv, &cfg);
			capture_end(&c, err, sizeof err);
			check_num(desc, k ? "a second cli_parse_args" : "cli_parse_args", got, r->want);
			check_str(desc, "stderr", err, r->want == CLI_ARGS_USAGE ? r->err : "");
			if (r->want == CLI_ARGS_RUN)
				check_cfg(desc, &cfg, &r->cfg);
		}
		if (r->want != CLI_ARGS_USAGE)
			continue;

		/* client_main stops at the same line, with the usage status */
		args_make(&v, "client", r->args, desc, sizeof desc);
		capture_begin(&c, 2);
		int status = client_main(v.argc, v.argv);
		capture_end(&c, err, sizeof err);
		check_num(desc, "client_main's exit status", status, 2);
		check_str(desc, "client_main's stderr", err, r->err);
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
