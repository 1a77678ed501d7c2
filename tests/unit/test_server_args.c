/* `jmsg server`'s command line, one row per case: every option with good
 * values and bad ones, a missing value, unknown options and words, --help.
 * srv_parse_args prints nothing: a good command line gives the whole
 * srv_config, a bad one exactly the row's line, which server_main then
 * prints on stderr before it exits with the usage status.  --help makes
 * server_main print the help on stdout and exit 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args_check.h"
#include "cmd/commands.h"
#include "io/net.h"
#include "server/args.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* A row's config is DEFAULTS with its own fields after them: a later
 * designated initializer overrides an earlier one, which is the point.
 * Rows leave out what their result does not use (cfg for USAGE, both for
 * HELP). */
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define DEFAULTS                                                                     \
	.host = NET_DEFAULT_HOST, .port = STR(JM_SPEC_DEFAULT_PORT),                 \
	.max_content = SRV_DEFAULT_MAX_CONTENT, .max_table = SRV_DEFAULT_MAX_TABLE, \
	.max_conns = SRV_DEFAULT_MAX_CONNS, .idle_ms = SRV_DEFAULT_IDLE_MS,         \
	.request_ms = SRV_DEFAULT_REQUEST_MS, .verbosity = 1

#define SECONDS_ERR(opt, v) \
	"jmsg server: " opt " must be seconds from 0 to 86400, or a duration such as 500ms, 10s or 2m, not '" v "'"
#define SIZE_ERR(opt, v) \
	"jmsg server: " opt " must be a byte count such as 65536 or 64k, not '" v "'"
#define NEEDS(opt) "jmsg server: option '" opt "' needs a value (see --help)"
#define UNKNOWN(opt) "jmsg server: unknown option '" opt "' (see --help)"

/* What a command line is: a run, a call for help, a usage error. */
enum { RUN, HELP, USAGE };

typedef struct row {
	const char *args[ARGS_MAX]; /* after "server" */
	int want;                   /* RUN, HELP or USAGE */
	const char *err;            /* USAGE: the line, without its newline */
	srv_config cfg;             /* RUN: the whole config */
} row;

static const row rows[] = {
	{{NULL}, RUN, NULL, {DEFAULTS}},
	/* --echo, --interactive, --framing (a name or path, looked up when the
	 * server starts) */
	{{"--echo"}, RUN, NULL, {DEFAULTS, .mode = SRV_MODE_ECHO}},
	{{"--echo", "--framing", "delimited"}, RUN, NULL,
	 {DEFAULTS, .mode = SRV_MODE_ECHO, .framing = "delimited"}},
	{{"--framing=my.json", "--interactive", "--idle-timeout", "1"}, RUN, NULL,
	 {DEFAULTS, .mode = SRV_MODE_INTERACTIVE, .framing = "my.json", .idle_ms = 1000}},
	{{"--echo", "--echo"}, RUN, NULL, {DEFAULTS, .mode = SRV_MODE_ECHO}},
	{{"--echo", "--interactive"}, USAGE, "jmsg server: --echo and --interactive do not go together"},
	{{"--interactive", "--echo"}, USAGE, "jmsg server: --echo and --interactive do not go together"},
	{{"--framing", "raw"}, USAGE, "jmsg server: --framing goes with --echo or --interactive"},
	{{"--framing"}, USAGE, NEEDS("--framing")},
	{{"--echo", "--no-read"}, USAGE, "jmsg server: --no-read goes with the application server, not --echo"},
	{{"--interactive", "--search-table", "t.json"}, USAGE,
	 "jmsg server: --search-table goes with the application server, not --interactive"},
	/* --host: any text, resolved only when the server starts */
	{{"--host", "::1"}, RUN, NULL, {DEFAULTS, .host = "::1"}},
	{{"--host", ""}, RUN, NULL, {DEFAULTS, .host = ""}},
	{{"--host"}, USAGE, NEEDS("--host")},
	/* --port: 0 to 65535, 0 picking a free port */
	{{"--port", "0"}, RUN, NULL, {DEFAULTS, .port = "0"}},
	{{"--port", "65535"}, RUN, NULL, {DEFAULTS, .port = "65535"}},
	{{"--port=8080"}, RUN, NULL, {DEFAULTS, .port = "8080"}},
	{{"--port", "65536"}, USAGE,
	 "jmsg server: --port must be a whole number from 0 to 65535, not '65536'"},
	{{"--port", "-1"}, USAGE,
	 "jmsg server: --port must be a whole number from 0 to 65535, not '-1'"},
	{{"--port", "http"}, USAGE,
	 "jmsg server: --port must be a whole number from 0 to 65535, not 'http'"},
	{{"--port"}, USAGE, NEEDS("--port")},
	/* files: names only, opened when the server starts */
	{{"--port-file", "p"}, RUN, NULL, {DEFAULTS, .port_file = "p"}},
	{{"--port-file"}, USAGE, NEEDS("--port-file")},
	{{"--search-table", "t.json"}, RUN, NULL, {DEFAULTS, .table_file = "t.json"}},
	{{"--search-table"}, USAGE, NEEDS("--search-table")},
	/* sizes */
	{{"--max-table", "1k"}, RUN, NULL, {DEFAULTS, .max_table = 1024}},
	{{"--max-table", "0"}, RUN, NULL, {DEFAULTS, .max_table = 0}},
	{{"--max-table", "1q"}, USAGE, SIZE_ERR("--max-table", "1q")},
	{{"--max-table"}, USAGE, NEEDS("--max-table")},
	{{"--max-content", "1"}, RUN, NULL, {DEFAULTS, .max_content = 1}},
	{{"--max-content", "2m"}, RUN, NULL, {DEFAULTS, .max_content = 2u << 20}},
	{{"--max-content", "0"}, USAGE, "jmsg server: --max-content must be at least 1"},
	{{"--max-content", "abc"}, USAGE, SIZE_ERR("--max-content", "abc")},
	{{"--max-content", "-5"}, USAGE, SIZE_ERR("--max-content", "-5")},
	{{"--max-content"}, USAGE, NEEDS("--max-content")},
	/* --max-conns: 1 to 1000000 */
	{{"--max-conns", "1"}, RUN, NULL, {DEFAULTS, .max_conns = 1}},
	{{"--max-conns", "1000000"}, RUN, NULL, {DEFAULTS, .max_conns = 1000000}},
	{{"--max-conns", "0"}, USAGE,
	 "jmsg server: --max-conns must be a whole number from 1 to 1000000, not '0'"},
	{{"--max-conns", "1000001"}, USAGE,
	 "jmsg server: --max-conns must be a whole number from 1 to 1000000, not '1000001'"},
	{{"--max-conns"}, USAGE, NEEDS("--max-conns")},
	/* timeouts: seconds, 0 never, a positive value at least 1 ms */
	{{"--idle-timeout", "0"}, RUN, NULL, {DEFAULTS, .idle_ms = 0}},
	{{"--idle-timeout", "2.5"}, RUN, NULL, {DEFAULTS, .idle_ms = 2500}},
	{{"--idle-timeout", "0.0001"}, RUN, NULL, {DEFAULTS, .idle_ms = 1}},
	{{"--idle-timeout", "86400"}, RUN, NULL, {DEFAULTS, .idle_ms = 86400000}},
	/* a unit, or a bare number in seconds */
	{{"--idle-timeout", "2m"}, RUN, NULL, {DEFAULTS, .idle_ms = 120000}},
	{{"--idle-timeout", "500ms", "--request-timeout", "1.5s"}, RUN, NULL,
	 {DEFAULTS, .idle_ms = 500, .request_ms = 1500}},
	{{"--idle-timeout", "25h"}, USAGE, SECONDS_ERR("--idle-timeout", "25h")},
	{{"--request-timeout", "-1s"}, USAGE, SECONDS_ERR("--request-timeout", "-1s")},
	{{"--idle-timeout", "86401"}, USAGE, SECONDS_ERR("--idle-timeout", "86401")},
	{{"--idle-timeout", "x"}, USAGE, SECONDS_ERR("--idle-timeout", "x")},
	{{"--idle-timeout"}, USAGE, NEEDS("--idle-timeout")},
	{{"--idle", "5"}, RUN, NULL, {DEFAULTS, .idle_ms = 5000}}, /* a unique prefix */
	{{"--request-timeout", "10"}, RUN, NULL, {DEFAULTS, .request_ms = 10000}},
	{{"--request-timeout", "0"}, RUN, NULL, {DEFAULTS, .request_ms = 0}},
	{{"--request-timeout", "-1"}, USAGE, SECONDS_ERR("--request-timeout", "-1")},
	{{"--request-timeout"}, USAGE, NEEDS("--request-timeout")},
	/* flags */
	{{"--no-read"}, RUN, NULL, {DEFAULTS, .no_read = true}},
	{{"--no-read=1"}, USAGE, UNKNOWN("--no-read=1")},
	{{"-q"}, RUN, NULL, {DEFAULTS, .verbosity = 0}},
	{{"--quiet"}, RUN, NULL, {DEFAULTS, .verbosity = 0}},
	{{"-v"}, RUN, NULL, {DEFAULTS, .verbosity = 2}},
	{{"--verbose"}, RUN, NULL, {DEFAULTS, .verbosity = 2}},
	{{"-qv"}, RUN, NULL, {DEFAULTS, .verbosity = 2}}, /* the last one counts */
	{{"-v", "-q"}, RUN, NULL, {DEFAULTS, .verbosity = 0}},
	/* everything at once */
	{{"--host", "0.0.0.0", "--port", "1", "--port-file", "p", "--search-table", "t", "--max-table",
	  "2k", "--max-content", "3k", "--max-conns", "4", "--idle-timeout", "5", "--request-timeout",
	  "6", "--no-read", "-v"},
	 RUN, NULL,
	 {.host = "0.0.0.0", .port = "1", .port_file = "p", .table_file = "t", .max_table = 2048,
	  .max_content = 3072, .max_conns = 4, .idle_ms = 5000, .request_ms = 6000, .no_read = true,
	  .verbosity = 2}},
	/* --help wins over what follows, not over an error before it */
	{{"-h"}, HELP},
	{{"--help"}, HELP},
	{{"--port", "1", "-h", "--bogus"}, HELP},
	{{"--port", "x", "-h"}, USAGE,
	 "jmsg server: --port must be a whole number from 0 to 65535, not 'x'"},
	/* what is not an option */
	{{"--bogus"}, USAGE, UNKNOWN("--bogus")},
	{{"--max-co", "5"}, USAGE, UNKNOWN("--max-co")}, /* max-content or max-conns */
	{{"-x"}, USAGE, UNKNOWN("-x")},
	{{"-qx"}, USAGE, UNKNOWN("-x")},
	/* stopped inside a group: named by the letter, and the next parse
	 * (the next row) starts afresh rather than at the 'q' left over */
	{{"-xq"}, USAGE, UNKNOWN("-x")},
	{{"--port", "7"}, RUN, NULL, {DEFAULTS, .port = "7"}},
	{{"--quiet=1"}, USAGE, UNKNOWN("--quiet=1")},
	{{"-:"}, USAGE, UNKNOWN("-:")},
	{{"extra"}, USAGE, "jmsg server: unexpected argument 'extra' (see --help)"},
	{{"-q", "a", "b"}, USAGE, "jmsg server: unexpected argument 'a' (see --help)"},
	/* the first mistake is the one reported */
	{{"--max-conns", "0", "--port", "x"}, USAGE,
	 "jmsg server: --max-conns must be a whole number from 1 to 1000000, not '0'"},
};

static void check_cfg(const char *desc, const srv_config *got, const srv_config *want)
{
	check_str(desc, "host", got->host, want->host);
	check_str(desc, "port", got->port, want->port);
	check_str(desc, "port_file", got->port_file, want->port_file);
	check_str(desc, "table_file", got->table_file, want->table_file);
	check_num(desc, "max_content", got->max_content, want->max_content);
	check_num(desc, "max_table", got->max_table, want->max_table);
	check_num(desc, "max_conns", got->max_conns, want->max_conns);
	check_num(desc, "idle_ms", got->idle_ms, want->idle_ms);
	check_num(desc, "request_ms", got->request_ms, want->request_ms);
	check_num(desc, "no_read", got->no_read, want->no_read);
	check_num(desc, "verbosity", got->verbosity, want->verbosity);
	check_num(desc, "mode", got->mode, want->mode);
	check_str(desc, "framing", got->framing, want->framing);
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
			args_make(&v, "server", r->args, desc, sizeof desc);
			srv_args a;
			jm_buf msg = {0};
			capture_begin(&co, 1);
			capture_begin(&ce, 2);
			int rc = srv_parse_args(v.argc, v.argv, &a, &msg);
			capture_end(&ce, err, sizeof err);
			capture_end(&co, out, sizeof out);
			line[0] = '\0';
			if (jm_buf_pending(&msg)) /* an empty jm_buf's head is NULL */
				snprintf(line, sizeof line, "%.*s", (int)jm_buf_pending(&msg),
					 (const char *)jm_buf_head(&msg));
			jm_buf_free(&msg);
			check_num(desc, k ? "a second srv_parse_args" : "srv_parse_args", rc,
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

		/* server_main prints the line and exits with the usage status */
		args_make(&v, "server", r->args, desc, sizeof desc);
		capture_begin(&ce, 2);
		int status = server_main(v.argc, v.argv);
		capture_end(&ce, err, sizeof err);
		snprintf(line, sizeof line, "%s\n", r->err);
		check_num(desc, "server_main's exit status", status, 2);
		check_str(desc, "server_main's stderr", err, line);
	}
}

static void test_help(void **state)
{
	static const char *const helps[][ARGS_MAX] = {{"-h"}, {"--help"}, {"--port", "1", "-h"}};
	for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
		args_vec v;
		char desc[512], out[8192], err[4096];
		args_make(&v, "server", helps[i], desc, sizeof desc);
		capture c, ce;
		capture_begin(&c, 1);
		capture_begin(&ce, 2);
		int status = server_main(v.argc, v.argv);
		capture_end(&ce, err, sizeof err);
		capture_end(&c, out, sizeof out);
		check_num(desc, "server_main's exit status", status, 0);
		check_str(desc, "stderr", err, "");
		check_prefix(desc, "stdout", out, "usage: jmsg server [--host H]");
		/* the statuses the help promises are the ones returned */
		if (!strstr(out, "exit status: 0 stopped by SIGINT/SIGTERM, 1 could not start") ||
		    !strstr(out, "2 usage error"))
			fail_msg("%s: the help does not list the exit statuses:\n%s", desc, out);
	}
	assert_int_equal(JM_EXIT_OK, 0);
	assert_int_equal(JM_EXIT_RUNTIME, 1);
	assert_int_equal(JM_EXIT_USAGE, 2);
}

int main(void)
{
	/* A command line parsed wrongly as good would run the server: stop
	 * rather than wait for it. */
	alarm(60);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
