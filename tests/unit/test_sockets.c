/*
 * `jmsg sockets` command lines, through sockets_parse_args alone: one row
 * per command line, with the exit status it leads to and, for a bad one,
 * the exact line the user reads; for a good one, what it asks for.  Rows
 * run one after another in one process, so getopt's restart is tested too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stall/sockets.h"

#define MAXARGS 8

struct row {
	const char *args[MAXARGS];   /* after "sockets", NULL-terminated */
	int status;
	const char *error;           /* the whole line, bad rows only */
	/* good rows: what was asked for */
	bool help, watch, info, json;
	double every;
	long count;
	uint16_t ports[3];           /* 0-terminated; none: the default port */
};

#define HINT " (see 'jmsg sockets --help')"

#define ARGS(...) .args = {__VA_ARGS__}
#define BAD(line) .status = 2, .error = "jmsg sockets: " line HINT

static const struct row rows[] = {
	/* good */
	{ARGS(NULL), .every = 1.0},
	{ARGS("--port", "1", "--port", "65535"), .every = 1.0, .ports = {1, 65535}},
	{ARGS("--port=8080", "--info", "--json"), .info = true, .json = true, .every = 1.0,
	 .ports = {8080}},
	{ARGS("--po", "5"), .every = 1.0, .ports = {5}},   /* getopt: a unique prefix */
	{ARGS("--watch"), .watch = true, .every = 1.0},
	{ARGS("--watch", "2"), .watch = true, .every = 2.0},
	{ARGS("--watch=0.05"), .watch = true, .every = 0.05},
	{ARGS("--watch", "500ms"), .watch = true, .every = 0.5},
	{ARGS("--watch=2m"), .watch = true, .every = 120},
	{ARGS("--watch", "86400", "--count", "3"), .watch = true, .every = 86400, .count = 3},
	{ARGS("--watch", "--count", "5"), .watch = true, .every = 1.0, .count = 5},
	{ARGS("--help"), .help = true},
	{ARGS("-h"), .help = true},
	{ARGS("-hx"), .help = true},   /* getopt left inside "-hx": every parse restarts it */
	{ARGS("--help", "--bogus"), .help = true},   /* help comes first */
	/* bad: one line, exit 2 */
	{ARGS("--port", "0"), BAD("--port must be a port from 1 to 65535, not '0'")},
	{ARGS("--port", "65536"), BAD("--port must be a port from 1 to 65535, not '65536'")},
	{ARGS("--port", "x"), BAD("--port must be a port from 1 to 65535, not 'x'")},
	{ARGS("--port", ""), BAD("--port must be a port from 1 to 65535, not ''")},
	{ARGS("--port", "80x"), BAD("--port must be a port from 1 to 65535, not '80x'")},
	{ARGS("--port"), BAD("option needs a value: '--port'")},
	{ARGS("--watch", "0"), BAD("--watch must be seconds from 0.05 to 86400, or a duration such as 500ms, 10s or 2m, not '0'")},
	{ARGS("--watch", "0.01"), BAD("--watch must be seconds from 0.05 to 86400, or a duration such as 500ms, 10s or 2m, not '0.01'")},
	{ARGS("--watch", "86401"), BAD("--watch must be seconds from 0.05 to 86400, or a duration such as 500ms, 10s or 2m, not '86401'")},
	{ARGS("--watch", "5x"), BAD("--watch must be seconds from 0.05 to 86400, or a duration such as 500ms, 10s or 2m, not '5x'")},
	{ARGS("--watch=x"), BAD("--watch must be seconds from 0.05 to 86400, or a duration such as 500ms, 10s or 2m, not 'x'")},
	{ARGS("--watch=nan"), BAD("--watch must be seconds from 0.05 to 86400, or a duration such as 500ms, 10s or 2m, not 'nan'")},
	{ARGS("--count", "0"), BAD("--count wants a positive number, not '0'")},
	{ARGS("--count", "-1"), BAD("--count wants a positive number, not '-1'")},
	{ARGS("--count", "99999999999999999999"),
	 BAD("--count wants a positive number, not '99999999999999999999'")},
	{ARGS("--count"), BAD("option needs a value: '--count'")},
	{ARGS("--bogus"), BAD("unknown option '--bogus'")},
	{ARGS("-x"), BAD("unknown option '-x'")},
	{ARGS("extra"), BAD("unexpected argument 'extra'")},
	{ARGS("--json", "--", "--info"), BAD("unexpected argument '--info'")},
	{ARGS("--port", "1", "--port", "0", "--bogus"),   /* the first fault */
	 BAD("--port must be a port from 1 to 65535, not '0'")},
};

static int parse(const char *const *args, size_t n, sockets_args *a, jm_buf *err)
{
	char **av = calloc(n + 2, sizeof *av);
	assert_non_null(av);
	av[0] = strdup("sockets");
	for (size_t i = 0; i < n; i++)
		av[i + 1] = strdup(args[i]);
	int rc = sockets_parse_args((int)n + 1, av, a, err);
	for (size_t i = 0; i <= n; i++)
		free(av[i]);
	free(av);
	return rc;
}

/* What differs between the parse and the row, or NULL. */
static const char *mismatch(const struct row *w, int rc, const sockets_args *a, jm_buf *err)
{
	static char why[512];
	if (rc != w->status) {
		snprintf(why, sizeof why, "exit status %d, want %d", rc, w->status);
		return why;
	}
	if (jm_buf_append(err, "", 1))
		return "out of memory";
	const char *got = (const char *)jm_buf_head(err);
	if (w->status)
		return strcmp(got, w->error) ? (snprintf(why, sizeof why, "error line\n  %s\nwant\n  %s",
							 got, w->error), why) : NULL;
	if (*got)
		return "an error line for a good command line";
	if (a->help != w->help)
		return "help";
	if (w->help)
		return NULL;
	if (a->watch != w->watch || a->info != w->info || a->json != w->json)
		return "watch, info or json";
	if (a->every != w->every || a->count != w->count)
		return "every or count";
	size_t np = 0;
	while (np < 3 && w->ports[np])
		np++;
	if (!np)
		return a->nports == 1 && a->ports[0] == 65432 ? NULL : "not the default port alone";
	if (a->nports != np || memcmp(a->ports, w->ports, np * sizeof *w->ports))
		return "ports";
	return NULL;
}

static void test_table(void **state)
{
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		const struct row *w = &rows[r];
		size_t n = 0;
		while (n < MAXARGS && w->args[n])
			n++;
		sockets_args a;
		jm_buf err = {0};
		int rc = parse(w->args, n, &a, &err);
		const char *why = mismatch(w, rc, &a, &err);
		jm_buf_free(&err);
		if (why)
			fail_msg("row %zu (sockets%s%s%s%s ...): %s", r, n ? " " : "", n ? w->args[0] : "",
				 n > 1 ? " " : "", n > 1 ? w->args[1] : "", why);
	}
}

/* 64 ports are taken; the 65th is refused by name. */
static void test_port_limit(void **state)
{
	char *args[65];
	for (int i = 0; i < 65; i++) {
		args[i] = malloc(24);
		assert_non_null(args[i]);
		snprintf(args[i], 24, "--port=%d", i + 1);
	}
	sockets_args a;
	jm_buf err = {0};
	assert_int_equal(parse((const char *const *)args, 64, &a, &err), 0);
	assert_int_equal(a.nports, 64);
	assert_int_equal(a.ports[63], 64);
	assert_int_equal(parse((const char *const *)args, 65, &a, &err), 2);
	assert_int_equal(jm_buf_append(&err, "", 1), 0);
	assert_string_equal((const char *)jm_buf_head(&err),
			    "jmsg sockets: at most 64 ports; one too many: '65'" HINT);
	jm_buf_free(&err);
	for (int i = 0; i < 65; i++)
		free(args[i]);
}

/* A value far longer than any fixed line buffer is quoted whole. */
static void test_long_value_whole(void **state)
{
	size_t len = 100000;
	char *v = malloc(len + 1);
	assert_non_null(v);
	memset(v, '9', len);
	v[len] = '\0';
	const char *args[] = {"--port", v};
	sockets_args a;
	jm_buf err = {0};
	assert_int_equal(parse(args, 2, &a, &err), 2);
	const char *pre = "jmsg sockets: --port must be a port from 1 to 65535, not '";
	size_t pl = strlen(pre), hl = strlen("'" HINT);
	assert_int_equal(jm_buf_pending(&err), pl + len + hl);
	assert_memory_equal(jm_buf_head(&err), pre, pl);
	assert_memory_equal(jm_buf_head(&err) + pl, v, len);
	assert_memory_equal(jm_buf_head(&err) + pl + len, "'" HINT, hl);
	jm_buf_free(&err);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_port_limit),
		cmocka_unit_test(test_long_value_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
