/* Command-line numbers: seconds, sizes, whole numbers and ports are parsed
 * strictly, and a duration the user gave as more than zero never becomes
 * zero, which every timeout option reads as "never".  A bad value gets
 * exactly one line, the same in a buffer as on stderr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/opts.h"

static void test_seconds(void **state)
{
	uint64_t ms = 99;
	assert_int_equal(opt_seconds("t", "--x", "2.5", &ms), 0);
	assert_int_equal(ms, 2500);
	assert_int_equal(opt_seconds("t", "--x", "0", &ms), 0);
	assert_int_equal(ms, 0);
	/* below a millisecond: the shortest timeout there is, not none */
	assert_int_equal(opt_seconds("t", "--x", "0.0001", &ms), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(opt_seconds("t", "--x", "1e-9", &ms), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(opt_seconds("t", "--x", "86400", &ms), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(opt_seconds("t", "--x", "86401", &ms), -1);
	assert_int_equal(opt_seconds("t", "--x", "-1", &ms), -1);
	assert_int_equal(opt_seconds("t", "--x", "nan", &ms), -1);
	/* units: a bare number stays seconds */
	assert_int_equal(opt_seconds("t", "--x", "1s", &ms), 0);
	assert_int_equal(ms, 1000);
	assert_int_equal(opt_seconds("t", "--x", "500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(opt_seconds("t", "--x", "2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(opt_seconds("t", "--x", "24h", &ms), 0);
	assert_int_equal(ms, 86400000);
	assert_int_equal(opt_seconds("t", "--x", "250us", &ms), 0);
	assert_int_equal(ms, 1);   /* below a millisecond, not none */
	assert_int_equal(opt_seconds("t", "--x", "25h", &ms), -1);
	assert_int_equal(opt_seconds("t", "--x", "1sec", &ms), -1);
	assert_int_equal(opt_seconds("t", "--x", "", &ms), -1);
}

static void test_sizes_and_numbers(void **state)
{
	uint64_t v;
	assert_int_equal(opt_size("t", "--x", "64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(opt_size("t", "--x", "1g", &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(opt_size("t", "--x", "99999999999999999999", &v), -1);
	assert_int_equal(opt_size("t", "--x", "-1", &v), -1);
	assert_int_equal(opt_size("t", "--x", "1kk", &v), -1);
	assert_int_equal(opt_uint("t", "--x", "5", 1, 10, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(opt_uint("t", "--x", "11", 1, 10, &v), -1);
	assert_int_equal(opt_uint("t", "--x", " 5", 1, 10, &v), -1);
}

enum kind { UINT, SIZE, SECONDS, PORT };

/* One value through a *_buf parser: the line for a bad one, the value
 * for a good one. */
static const struct row {
	enum kind kind;
	const char *arg;
	uint64_t min, max;           /* UINT */
	int rc;
	uint64_t value;              /* rc 0 */
	const char *line;            /* rc -1: the whole line */
} rows[] = {
	{PORT, "1", .value = 1},
	{PORT, "65535", .value = 65535},
	{PORT, "65432", .value = 65432},
	{PORT, "080", .value = 80},
	{PORT, "0", .rc = -1, .line = "jmsg t: --port must be a port from 1 to 65535, not '0'"},
	{PORT, "65536", .rc = -1, .line = "jmsg t: --port must be a port from 1 to 65535, not '65536'"},
	{PORT, "99999999999999999999", .rc = -1,
	 .line = "jmsg t: --port must be a port from 1 to 65535, not '99999999999999999999'"},
	{PORT, "", .rc = -1, .line = "jmsg t: --port must be a port from 1 to 65535, not ''"},
	{PORT, "80x", .rc = -1, .line = "jmsg t: --port must be a port from 1 to 65535, not '80x'"},
	{PORT, " 80", .rc = -1, .line = "jmsg t: --port must be a port from 1 to 65535, not ' 80'"},
	{PORT, "+80", .rc = -1, .line = "jmsg t: --port must be a port from 1 to 65535, not '+80'"},
	{PORT, "-1", .rc = -1, .line = "jmsg t: --port must be a port from 1 to 65535, not '-1'"},
	{PORT, "80,81", .rc = -1, .line = "jmsg t: --port must be a port from 1 to 65535, not '80,81'"},
	{UINT, "5", 1, 10, .value = 5},
	{UINT, "0", 0, 0, .value = 0},
	{UINT, "11", 1, 10, -1, .line = "jmsg t: --x must be a whole number from 1 to 10, not '11'"},
	{UINT, " 5", 1, 10, -1, .line = "jmsg t: --x must be a whole number from 1 to 10, not ' 5'"},
	{UINT, "-1", 0, 10, -1, .line = "jmsg t: --x must be a whole number from 0 to 10, not '-1'"},
	{UINT, "18446744073709551616", 0, UINT64_MAX, -1,
	 .line = "jmsg t: --x must be a whole number from 0 to 18446744073709551615, "
		 "not '18446744073709551616'"},
	{SIZE, "64k", .value = 65536},
	{SIZE, "3M", .value = 3 << 20},
	{SIZE, "1kk", .rc = -1, .line = "jmsg t: --x must be a byte count such as 65536 or 64k, not '1kk'"},
	{SIZE, "2g0", .rc = -1, .line = "jmsg t: --x must be a byte count such as 65536 or 64k, not '2g0'"},
	{SIZE, "", .rc = -1, .line = "jmsg t: --x must be a byte count such as 65536 or 64k, not ''"},
	{SECONDS, "2.5", .value = 2500},
	{SECONDS, ".5", .value = 500},
	{SECONDS, "0.0001", .value = 1},
	{SECONDS, "1s", .value = 1000},
	{SECONDS, "1S", .rc = -1, .line = "jmsg t: --x must be seconds from 0 to 86400, or a duration such as 500ms, 10s or 2m, not '1S'"},
	{SECONDS, "inf", .rc = -1, .line = "jmsg t: --x must be seconds from 0 to 86400, or a duration such as 500ms, 10s or 2m, not 'inf'"},
};

/* The one duration parser: a bare number in the option's unit, or a unit;
 * strict about everything else; never past max_ns, never rounded to 0. */
static void test_duration(void **state)
{
	static const struct {
		const char *arg;
		uint64_t bare_ns, max_ns;
		int rc;
		uint64_t ns;
	} d[] = {
		{"10", OPT_S, UINT64_MAX, 0, 10 * OPT_S},
		{"10", OPT_MS, UINT64_MAX, 0, 10 * OPT_MS},   /* each option keeps its unit */
		{"10s", OPT_MS, UINT64_MAX, 0, 10 * OPT_S},
		{"500ms", OPT_S, UINT64_MAX, 0, 500 * OPT_MS},
		{"2m", OPT_S, UINT64_MAX, 0, 120 * OPT_S},
		{"1.5h", OPT_S, UINT64_MAX, 0, 5400 * OPT_S},
		{"250us", OPT_S, UINT64_MAX, 0, 250000},
		{"7ns", OPT_S, UINT64_MAX, 0, 7},
		{"0.5", OPT_S, UINT64_MAX, 0, 500 * OPT_MS},
		{".5s", OPT_MS, UINT64_MAX, 0, 500 * OPT_MS},
		{"1e-3", OPT_S, UINT64_MAX, 0, OPT_MS},
		{"1e3ms", OPT_S, UINT64_MAX, 0, OPT_S},
		{"0", OPT_S, UINT64_MAX, 0, 0},
		{"0ms", OPT_S, UINT64_MAX, 0, 0},
		{"0.1ns", OPT_S, UINT64_MAX, 0, 1},           /* more than 0 stays more than 0 */
		{"1e-30", OPT_S, UINT64_MAX, 0, 1},
		{"60s", OPT_S, 60 * OPT_S, 0, 60 * OPT_S},    /* the bound itself */
		{"1m", OPT_S, 60 * OPT_S, 0, 60 * OPT_S},
		/* too large: past max, past 64 bits */
		{"60.001s", OPT_S, 60 * OPT_S, -1, 0},
		{"2m", OPT_S, 60 * OPT_S, -1, 0},
		{"18446744073709551616ns", OPT_S, UINT64_MAX, -1, 0},
		{"99999999999999999999h", OPT_S, UINT64_MAX, -1, 0},
		{"1e400", OPT_S, UINT64_MAX, -1, 0},
		{"1e99999", OPT_S, UINT64_MAX, -1, 0},
		/* negative */
		{"-1", OPT_S, UINT64_MAX, -1, 0},
		{"-0", OPT_S, UINT64_MAX, -1, 0},
		{"-1s", OPT_S, UINT64_MAX, -1, 0},
		{"+1", OPT_S, UINT64_MAX, -1, 0},
		/* junk and empty */
		{"", OPT_S, UINT64_MAX, -1, 0},
		{"s", OPT_S, UINT64_MAX, -1, 0},
		{".", OPT_S, UINT64_MAX, -1, 0},
		{".s", OPT_S, UINT64_MAX, -1, 0},
		{" 1", OPT_S, UINT64_MAX, -1, 0},
		{"1 ", OPT_S, UINT64_MAX, -1, 0},
		{"1 s", OPT_S, UINT64_MAX, -1, 0},
		{"1sec", OPT_S, UINT64_MAX, -1, 0},
		{"1S", OPT_S, UINT64_MAX, -1, 0},
		{"1d", OPT_S, UINT64_MAX, -1, 0},
		{"1ms1", OPT_S, UINT64_MAX, -1, 0},
		{"1.2.3", OPT_S, UINT64_MAX, -1, 0},
		{"1e", OPT_S, UINT64_MAX, -1, 0},
		{"0x10", OPT_S, UINT64_MAX, -1, 0},
		{"inf", OPT_S, UINT64_MAX, -1, 0},
		{"nan", OPT_S, UINT64_MAX, -1, 0},
		{"infs", OPT_S, UINT64_MAX, -1, 0},
	};
	for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
		uint64_t ns = 12345;
		int rc = opt_parse_duration(d[i].arg, d[i].bare_ns, d[i].max_ns, &ns);
		if (rc != d[i].rc || (rc == 0 && ns != d[i].ns)) {
			print_error("'%s': rc %d ns %llu, want rc %d ns %llu\n", d[i].arg, rc,
				    (unsigned long long)ns, d[i].rc, (unsigned long long)d[i].ns);
			fail();
		}
	}
	/* the line: the range in the bare unit, then the units */
	jm_buf err = {0};
	uint64_t ns;
	assert_int_equal(opt_duration_buf(&err, "analyze", "--stall-ms", "0", OPT_MS, OPT_MS,
					  86400 * OPT_S, &ns), -1);
	assert_int_equal(jm_buf_pending(&err), strlen("jmsg analyze: --stall-ms must be milliseconds from 1 to 86400000, or a duration such as 500ms, 10s or 2m, not '0'"));
	assert_memory_equal(jm_buf_head(&err), "jmsg analyze: --stall-ms must be milliseconds from 1 to 86400000, or a duration such as 500ms, 10s or 2m, not '0'", jm_buf_pending(&err));
	jm_buf_free(&err);
	assert_int_equal(opt_duration_buf(&err, NULL, "--watch", "10ms", OPT_S, 50 * OPT_MS,
					  86400 * OPT_S, &ns), -1);
	assert_memory_equal(jm_buf_head(&err), "--watch must be seconds from 0.05 to 86400, or a duration such as 500ms, 10s or 2m, not '10ms'", jm_buf_pending(&err));
	jm_buf_free(&err);
	assert_int_equal(opt_duration_buf(&err, NULL, "--watch", "50ms", OPT_S, 50 * OPT_MS,
					  86400 * OPT_S, &ns), 0);
	assert_int_equal(ns, 50 * OPT_MS);
	assert_int_equal(jm_buf_pending(&err), 0);
}

static int run_buf(const struct row *r, jm_buf *err, uint64_t *v)
{
	uint16_t port = 0;
	int rc;
	switch (r->kind) {
	case UINT: return opt_uint_buf(err, "t", "--x", r->arg, r->min, r->max, v);
	case SIZE: return opt_size_buf(err, "t", "--x", r->arg, v);
	case SECONDS: return opt_seconds_buf(err, "t", "--x", r->arg, v);
	case PORT:
		rc = opt_port_buf(err, "t", "--port", r->arg, &port);
		*v = port;
		return rc;
	}
	return 99;
}

/* The stderr version of the same row, its output read back. */
static int run_stderr(const struct row *r, uint64_t *v, char *got, size_t cap)
{
	char path[] = "/tmp/jmsg-test-opts-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	uint16_t port = 0;
	int rc = 99;
	switch (r->kind) {
	case UINT: rc = opt_uint("t", "--x", r->arg, r->min, r->max, v); break;
	case SIZE: rc = opt_size("t", "--x", r->arg, v); break;
	case SECONDS: rc = opt_seconds("t", "--x", r->arg, v); break;
	case PORT: rc = opt_port("t", "--port", r->arg, &port); *v = port; break;
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, got, cap - 1, 0);
	close(fd);
	got[n > 0 ? n : 0] = '\0';
	return rc;
}

static void test_table(void **state)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		jm_buf err = {0};
		jm_buf_append(&err, "<", 1);  /* the line is appended */
		uint64_t v = 12345;
		int rc = run_buf(r, &err, &v);
		char line[512];
		snprintf(line, sizeof line, "%.*s", (int)jm_buf_pending(&err),
			 (const char *)jm_buf_head(&err));
		jm_buf_free(&err);
		char want[512];
		snprintf(want, sizeof want, "<%s", r->rc ? r->line : "");
		if (rc != r->rc || strcmp(line, want) || (rc == 0 && v != r->value)) {
			print_error("row %zu '%s': rc %d value %llu line '%s'\n"
				    "    want rc %d value %llu line '%s'\n", i, r->arg, rc,
				    (unsigned long long)v, line, r->rc, (unsigned long long)r->value,
				    want);
			fail();
		}
		/* the stderr version: the same outcome, the same line and a newline */
		char got[512];
		v = 12345;
		rc = run_stderr(r, &v, got, sizeof got);
		snprintf(want, sizeof want, "%s%s", r->rc ? r->line : "", r->rc ? "\n" : "");
		if (rc != r->rc || strcmp(got, want) || (rc == 0 && v != r->value)) {
			print_error("row %zu '%s' on stderr: rc %d value %llu '%s'\n", i, r->arg, rc,
				    (unsigned long long)v, got);
			fail();
		}
	}
}

/* The parsing alone, for lists and HOST:PORT. */
static void test_parse_port(void **state)
{
	const char *end = NULL;
	uint16_t v = 0;
	assert_int_equal(opt_parse_port("65432,8080", &end, &v), 0);
	assert_int_equal(v, 65432);
	assert_string_equal(end, ",8080");
	assert_int_equal(opt_parse_port(end + 1, &end, &v), 0);
	assert_int_equal(v, 8080);
	assert_string_equal(end, "");
	assert_int_equal(opt_parse_port(",1", &end, &v), -1);
	assert_int_equal(opt_parse_port("0,1", &end, &v), -1);
	assert_int_equal(opt_parse_port("70000,1", &end, &v), -1);
	assert_int_equal(opt_parse_port("80,", NULL, &v), -1);
	assert_int_equal(opt_parse_port("80", NULL, &v), 0);
	assert_int_equal(v, 80);
	/* opt_port may only check */
	jm_buf err = {0};
	assert_int_equal(opt_port_buf(&err, "t", "--port", "443", NULL), 0);
	assert_int_equal(jm_buf_pending(&err), 0);
	jm_buf_free(&err);
}

/* A value far longer than any line buffer is quoted whole. */
static void test_long_value(void **state)
{
	size_t len = 100000;
	char *arg = malloc(len + 1);
	assert_non_null(arg);
	memset(arg, '7', len);
	arg[len] = '\0';
	jm_buf err = {0};
	uint16_t port;
	assert_int_equal(opt_port_buf(&err, "t", "--port", arg, &port), -1);
	const char *pre = "jmsg t: --port must be a port from 1 to 65535, not '";
	size_t pl = strlen(pre);
	assert_int_equal(jm_buf_pending(&err), pl + len + 1);
	assert_memory_equal(jm_buf_head(&err), pre, pl);
	assert_memory_equal(jm_buf_head(&err) + pl, arg, len);
	jm_buf_free(&err);
	free(arg);
}

/* The TCP ports a BPF filter names (tcpdump's habits), in order, once. */
static void test_filter_ports(void **state)
{
	static const struct {
		const char *filter, *want;
	} fp_rows[] = {
		{"tcp port 41001", "41001"},
		{"port 8080", "8080"},
		{"src port 1 or dst port 2", "1,2"},
		{"tcp src or dst port 7", "7"},
		{"host 127.0.0.1 and tcp port 41001", "41001"},
		{"(tcp port 1) or (tcp port 2)", "1,2"},
		{"tcp port 1 or 2 and 3", "1,2,3"},
		{"port 80 || port 80 && port 81", "80,81"},
		{"port http", "80"},
		{"not port 22", ""},
		{"! tcp port 22 and port 23", "23"},
		{"tcp and not src port 22", ""},
		{"tcp portrange 1000-2000", ""},
		{"tcp", ""},
		{"port 0", ""},
		{"port 70000", ""},
		{"", ""},
		{NULL, ""},
	};
	for (size_t i = 0; i < sizeof fp_rows / sizeof fp_rows[0]; i++) {
		uint16_t p[8];
		size_t n = opt_filter_ports(fp_rows[i].filter, p, 8);
		char got[64] = "";
		for (size_t k = 0; k < n; k++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s%u", k ? "," : "", p[k]);
		if (strcmp(got, fp_rows[i].want))
			fail_msg("'%s': ports '%s', want '%s'", fp_rows[i].filter ? fp_rows[i].filter : "(null)",
				 got, fp_rows[i].want);
	}
	uint16_t one[1];
	assert_int_equal(opt_filter_ports("port 1 or 2", one, 1), 1);  /* at most max */
	assert_int_equal(one[0], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_filter_ports),
		cmocka_unit_test(test_sizes_and_numbers),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_parse_port),
		cmocka_unit_test(test_long_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
