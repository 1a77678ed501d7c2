/*
 * jmsg replay's command line (replay/args.h): each mistake gets its exact
 * line and exit status 2, --help exit status 0, and a good command line
 * comes out as the values the run uses.  One table of mistakes, one of
 * good command lines; replay_main() itself prints the same line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "replay/args.h"
#include "replay/engine.h"
#include "replay/report.h"

#define MAX_ARGV 20
#define SEE " (see jmsg replay --help)"

/* argv as main() gets it: "replay", then the row's words (getopt_long
 * reorders the copy, never the table). */
static int make_argv(char **argv, const char *const *words)
{
	int argc = 0;
	argv[argc++] = "replay";
	for (; *words; words++)
		argv[argc++] = (char *)*words;
	argv[argc] = NULL;
	return argc;
}

static int parse(const char *const *words, rp_args *a, char *err, size_t errlen)
{
	char *argv[MAX_ARGV + 2];
	return rp_parse_args(make_argv(argv, words), argv, a, err, errlen);
}

/* ---------------------------------------------------------------- mistakes */

static const struct bad {
	const char *words[MAX_ARGV];
	const char *err;
} bad[] = {
	{{"--to", "1"}, "jmsg replay: no capture file given" SEE},
	{{"f.pcap"}, "jmsg replay: --to HOST:PORT is required: the server to replay against" SEE},
	{{"f.pcap", "g.pcap", "--to", "1"},
	 "jmsg replay: one capture file at a time, not also 'g.pcap'" SEE},
	{{"f.pcap", "--to", "127.0.0.1:99999"},
	 "jmsg replay: --to must be HOST:PORT, [IPV6]:PORT or PORT, not '127.0.0.1:99999'" SEE},
	{{"f.pcap", "--to", "::1:80"},
	 "jmsg replay: --to must be HOST:PORT, [IPV6]:PORT or PORT, not '::1:80'" SEE},
	{{"f.pcap", "--to", "[::1]:0"},
	 "jmsg replay: --to must be HOST:PORT, [IPV6]:PORT or PORT, not '[::1]:0'" SEE},
	{{"f.pcap", "--to", "host:"},
	 "jmsg replay: --to must be HOST:PORT, [IPV6]:PORT or PORT, not 'host:'" SEE},
	{{"f.pcap", "--to", "80x"},
	 "jmsg replay: --to must be HOST:PORT, [IPV6]:PORT or PORT, not '80x'" SEE},
	{{"f.pcap", "--to"}, "jmsg replay: --to needs a value" SEE},
	{{"f.pcap", "--to", "1", "--speed", "0"},
	 "jmsg replay: --speed must be a factor above 0 and at most 1000000, such as 0.5 or 10, "
	 "not '0'" SEE},
	{{"f.pcap", "--to", "1", "--speed", "fast"},
	 "jmsg replay: --speed must be a factor above 0 and at most 1000000, such as 0.5 or 10, "
	 "not 'fast'" SEE},
	{{"f.pcap", "--to", "1", "--speed", "1e7"},
	 "jmsg replay: --speed must be a factor above 0 and at most 1000000, such as 0.5 or 10, "
	 "not '1e7'" SEE},
	{{"f.pcap", "--to", "1", "--speed", ""},
	 "jmsg replay: --speed must be a factor above 0 and at most 1000000, such as 0.5 or 10, "
	 "not ''" SEE},
	{{"f.pcap", "--to", "1", "--speed", "2", "--asap"},
	 "jmsg replay: --speed and --asap do not go together" SEE},
	{{"f.pcap", "--to", "1", "--asap", "--speed", "2"},
	 "jmsg replay: --speed and --asap do not go together" SEE},
	{{"f.pcap", "--to", "1", "--concurrency", "0"},
	 "jmsg replay: --concurrency must be a whole number from 1 to 100000, not '0'"},
	{{"f.pcap", "--to", "1", "--concurrency", "100001"},
	 "jmsg replay: --concurrency must be a whole number from 1 to 100000, not '100001'"},
	{{"f.pcap", "--to", "1", "--concurrency", "-1"},
	 "jmsg replay: --concurrency must be a whole number from 1 to 100000, not '-1'"},
	{{"f.pcap", "--to", "1", "--streams", "3-1"},
	 "jmsg replay: --streams must be stream numbers and ranges such as 0,3,5-9, not '3-1'" SEE},
	{{"f.pcap", "--to", "1", "--port", "0"},
	 "jmsg replay: --port must be ports from 1 to 65535, such as 65432 or 65432,8080, "
	 "not '0'" SEE},
	{{"f.pcap", "--to", "1", "--port", "65536"},
	 "jmsg replay: --port must be ports from 1 to 65535, such as 65432 or 65432,8080, "
	 "not '65536'" SEE},
	{{"f.pcap", "--to", "1", "--port", "1,,2"},
	 "jmsg replay: --port must be ports from 1 to 65535, such as 65432 or 65432,8080, "
	 "not '1,,2'" SEE},
	{{"f.pcap", "--to", "1", "--port", "1,"},
	 "jmsg replay: --port must be ports from 1 to 65535, such as 65432 or 65432,8080, "
	 "not '1,'" SEE},
	{{"f.pcap", "--to", "1", "--timeout", "0"},
	 "jmsg replay: --timeout must be more than 0 seconds, not '0'" SEE},
	{{"f.pcap", "--to", "1", "--timeout", "86401"},
	 "jmsg replay: --timeout must be seconds from 0 to 86400, or a duration such as 500ms, 10s or 2m, not '86401'"},
	{{"f.pcap", "--to", "1", "--timeout", "1sec"},
	 "jmsg replay: --timeout must be seconds from 0 to 86400, or a duration such as 500ms, 10s or 2m, not '1sec'"},
	{{"f.pcap", "--to", "1", "--max-content", "1kk"},
	 "jmsg replay: --max-content must be a byte count such as 65536 or 64k, not '1kk'"},
	{{"f.pcap", "--to", "1", "--memcap", "x"},
	 "jmsg replay: --memcap must be a byte count such as 65536 or 64k, not 'x'"},
	{{"f.pcap", "--to", "1", "--memcap", "4095"},
	 "jmsg replay: --memcap must be at least 4k, not '4095'" SEE},
	{{"f.pcap", "--to", "1", "--bogus"}, "jmsg replay: unknown option '--bogus'" SEE},
	{{"f.pcap", "--to", "1", "-x"}, "jmsg replay: unknown option '-x'" SEE},
	{{"f.pcap", "--to", "1", "--ignore-header"}, "jmsg replay: --ignore-header needs a value" SEE},
	/* the first mistake is the one reported, even before --help */
	{{"--bogus", "--help"}, "jmsg replay: unknown option '--bogus'" SEE},
};

static void test_mistakes(void **state)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rp_args a;
		char err[512];
		int rc = parse(bad[i].words, &a, err, sizeof err);
		if (rc != JM_EXIT_USAGE || strcmp(err, bad[i].err) != 0) {
			print_error("row %zu: exit %d, '%s'\n    expected exit %d, '%s'\n", i, rc, err,
				    JM_EXIT_USAGE, bad[i].err);
			fail();
		}
		assert_false(a.help);
		rp_args_free(&a);
	}
}

/* --ignore-header 65 times: one too many. */
static void test_too_many_ignored_headers(void **state)
{
	char *argv[2 * RP_MAX_IGNORE + 8];
	int argc = 0;
	argv[argc++] = "replay";
	argv[argc++] = "f.pcap";
	argv[argc++] = "--to=1";
	for (int i = 0; i <= RP_MAX_IGNORE; i++) {
		argv[argc++] = "--ignore-header";
		argv[argc++] = i < RP_MAX_IGNORE ? "k" : "last";
	}
	argv[argc] = NULL;
	rp_args a;
	char err[512];
	assert_int_equal(rp_parse_args(argc, argv, &a, err, sizeof err), JM_EXIT_USAGE);
	assert_string_equal(err, "jmsg replay: --ignore-header given too often (at most 64): 'last'"
			    SEE);
	rp_args_free(&a);
	/* 64 is fine */
	argc -= 2;
	argv[argc] = NULL;
	assert_int_equal(rp_parse_args(argc, argv, &a, err, sizeof err), RP_ARGS_RUN);
	assert_int_equal(a.n_ignore, RP_MAX_IGNORE);
	rp_args_free(&a);
}

/* --port: 64 ports at most, however they are given. */
static void test_too_many_ports(void **state)
{
	char list[RP_MAX_PORTS * 6 + 8] = "", err[1024], want[1024];
	for (int i = 1; i <= RP_MAX_PORTS; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i > 1 ? "," : "", i);
	const char *words[] = {"f.pcap", "--to", "1", "--port", list, "--port", "99", NULL};
	rp_args a;
	assert_int_equal(parse(words, &a, err, sizeof err), JM_EXIT_USAGE);
	assert_string_equal(err, "jmsg replay: --port must be ports from 1 to 65535, such as 65432 "
			    "or 65432,8080, not '99'" SEE);
	rp_args_free(&a);
	words[5] = NULL;  /* 64 alone are fine */
	assert_int_equal(parse(words, &a, err, sizeof err), RP_ARGS_RUN);
	assert_int_equal(a.n_ports, RP_MAX_PORTS);
	assert_int_equal(a.ports[RP_MAX_PORTS - 1], RP_MAX_PORTS);
	rp_args_free(&a);
	strcat(list, ",65");  /* and 65 in one list are not */
	words[5] = NULL;
	assert_int_equal(parse(words, &a, err, sizeof err), JM_EXIT_USAGE);
	snprintf(want, sizeof want, "jmsg replay: --port must be ports from 1 to 65535, such as "
		 "65432 or 65432,8080, not '%s'" SEE, list);
	assert_string_equal(err, want);
	rp_args_free(&a);
}

/* ---------------------------------------------------------------- good ones */

static const struct good {
	const char *words[MAX_ARGV];
	int exit;                 /* RP_ARGS_RUN, or 0 for --help */
	const char *host, *port, *target;
	double speed;
	bool asap, raw, json, verbose;
	unsigned concurrency;
	uint64_t timeout_ms, max_content, memcap;
	size_t n_ports;
	uint16_t ports[4];
	size_t n_ignore, n_select;
} good[] = {
	/* defaults; a bare port is on 127.0.0.1 */
	{.words = {"f.pcap", "--to", "65432"}, .exit = RP_ARGS_RUN, .host = "127.0.0.1",
	 .port = "65432", .target = "65432", .speed = 1.0, .concurrency = RP_DEFAULT_CONCURRENCY,
	 .timeout_ms = RP_DEFAULT_TIMEOUT_MS, .max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN,
	 .memcap = RP_DEFAULT_MEMCAP},
	/* every option, options after the file, --to given twice: the last;
	 * a timeout under a millisecond is one, not none */
	{.words = {"--to", "x:1", "f.pcap", "--to=[::1]:8080", "--speed", "2.5", "--raw", "--json",
		   "-v", "--concurrency", "7", "--timeout", "0.0001", "--max-content", "64k",
		   "--memcap", "4k"},
	 .exit = RP_ARGS_RUN, .host = "::1", .port = "8080", .target = "[::1]:8080", .speed = 2.5,
	 .raw = true, .json = true, .verbose = true, .concurrency = 7, .timeout_ms = 1,
	 .max_content = 65536, .memcap = 4096},
	/* --port adds up; --streams, the last one */
	{.words = {"f.pcap", "--to", "example.org:99", "--asap", "--port", "7", "--port", "8,9",
		   "--ignore-header", "byteorder", "--ignore-header", "connection", "--streams",
		   "9", "--streams", "0,3,5-9"},
	 .exit = RP_ARGS_RUN, .host = "example.org", .port = "99", .target = "example.org:99",
	 .speed = 1.0, .asap = true, .concurrency = RP_DEFAULT_CONCURRENCY,
	 .timeout_ms = RP_DEFAULT_TIMEOUT_MS, .max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN,
	 .memcap = RP_DEFAULT_MEMCAP, .n_ports = 3, .ports = {7, 8, 9}, .n_ignore = 2,
	 .n_select = 3},
	/* an empty host is 127.0.0.1 too; the largest values */
	{.words = {"f.pcap", "--to", ":1", "--concurrency", "100000", "--timeout", "86400"},
	 .exit = RP_ARGS_RUN, .host = "127.0.0.1", .port = "1", .target = ":1", .speed = 1.0,
	 .concurrency = 100000, .timeout_ms = 86400000,
	 .max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN, .memcap = RP_DEFAULT_MEMCAP},
	/* a duration with a unit */
	{.words = {"f.pcap", "--to", ":1", "--timeout", "250ms"},
	 .exit = RP_ARGS_RUN, .host = "127.0.0.1", .port = "1", .target = ":1", .speed = 1.0,
	 .concurrency = RP_DEFAULT_CONCURRENCY, .timeout_ms = 250,
	 .max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN, .memcap = RP_DEFAULT_MEMCAP},
	/* --help ends the parsing where it stands, whatever follows */
	{.words = {"-h"}, .exit = 0},
	{.words = {"f.pcap", "--help", "--bogus"}, .exit = 0},
	{.words = {"-vh"}, .exit = 0},
	/* a parse that stopped inside "-hv" leaves nothing to the next one */
	{.words = {"-hv"}, .exit = 0},
	{.words = {"f.pcap", "--to", "2"}, .exit = RP_ARGS_RUN, .host = "127.0.0.1", .port = "2",
	 .target = "2", .speed = 1.0, .concurrency = RP_DEFAULT_CONCURRENCY,
	 .timeout_ms = RP_DEFAULT_TIMEOUT_MS, .max_content = JM_SPEC_DEFAULT_MAX_CONTENT_LEN,
	 .memcap = RP_DEFAULT_MEMCAP},
};

static void check_good(const struct good *g, const rp_args *a)
{
	assert_string_equal(a->path, "f.pcap");
	assert_string_equal(a->host, g->host);
	assert_string_equal(a->port, g->port);
	assert_string_equal(a->target, g->target);
	assert_true(a->pace.speed == g->speed);
	assert_int_equal(a->pace.asap, g->asap);
	assert_int_equal(a->raw, g->raw);
	assert_int_equal(a->json, g->json);
	assert_int_equal(a->verbose, g->verbose);
	assert_int_equal(a->concurrency, g->concurrency);
	assert_int_equal(a->timeout_ms, g->timeout_ms);
	assert_int_equal(a->max_content, g->max_content);
	assert_int_equal(a->memcap, g->memcap);
	assert_int_equal(a->n_ports, g->n_ports);
	for (size_t k = 0; k < g->n_ports; k++)
		assert_int_equal(a->ports[k], g->ports[k]);
	assert_int_equal(a->n_ignore, g->n_ignore);
	assert_int_equal(a->select.n, g->n_select);
}

static void test_good(void **state)
{
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		rp_args a;
		char err[512];
		int rc = parse(good[i].words, &a, err, sizeof err);
		if (rc != good[i].exit) {
			print_error("row %zu: exit %d ('%s'), expected %d\n", i, rc, err, good[i].exit);
			fail();
		}
		assert_int_equal(a.help, rc == 0);
		if (rc == RP_ARGS_RUN) {
			assert_string_equal(err, "");
			check_good(&good[i], &a);
		}
		rp_args_free(&a);
	}
}

static void test_streams_and_ignored_keys_kept(void **state)
{
	const char *words[] = {"f.pcap", "--to", "1", "--streams", "2,4-5", "--ignore-header",
			       "connection", NULL};
	rp_args a;
	char err[512];
	assert_int_equal(parse(words, &a, err, sizeof err), RP_ARGS_RUN);
	assert_false(rp_select_has(&a.select, 1));
	assert_true(rp_select_has(&a.select, 2));
	assert_true(rp_select_has(&a.select, 5));
	assert_false(rp_select_has(&a.select, 6));
	assert_string_equal(a.ignore[0], "connection");
	rp_args_free(&a);
}

/* ---------------------------------------------------------------- replay_main */

/* replay_main() on a mistake: its exit status, and the parser's line,
 * alone, on stderr. */
static void test_main_prints_the_line(void **state)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char path[] = "/tmp/jmsg-test-replay-args-XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		unlink(path);
		fflush(stderr);
		int saved = dup(2);
		assert_true(saved >= 0);
		assert_int_equal(dup2(fd, 2), 2);
		char *argv[MAX_ARGV + 2];
		int rc = replay_main(make_argv(argv, bad[i].words), argv);
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		char got[1024] = "";
		ssize_t n = pread(fd, got, sizeof got - 1, 0);
		close(fd);
		assert_true(n > 0);
		got[n] = '\0';
		char want[1024];
		snprintf(want, sizeof want, "%s\n", bad[i].err);
		assert_int_equal(rc, JM_EXIT_USAGE);
		assert_string_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mistakes),
		cmocka_unit_test(test_too_many_ignored_headers),
		cmocka_unit_test(test_too_many_ports),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_streams_and_ignored_keys_kept),
		cmocka_unit_test(test_main_prints_the_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
