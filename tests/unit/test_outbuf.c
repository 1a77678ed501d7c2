/* The analyzer's line writer (analyzer/outbuf.h): every formatter against
 * the printf conversion or codec function it replaces, fixed expected
 * bytes for the escapes, and output longer than the buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jmsg.h"
#include "analyzer/outbuf.h"

static ob_writer ob;
static char *mem;
static size_t memlen;
static FILE *memf;

static int setup(void **state)
{
	memf = open_memstream(&mem, &memlen);
	assert_non_null(memf);
	ob_init(&ob, memf);
	return 0;
}

static int teardown(void **state)
{
	fclose(memf);
	free(mem);
	mem = NULL;
	return 0;
}

/* Everything written so far (drained), then start again. */
static const char *taken(size_t *n)
{
	static char *copy;
	ob_drain(&ob);
	fflush(memf);
	free(copy);
	copy = malloc(memlen + 1);
	assert_non_null(copy);
	memcpy(copy, mem, memlen);
	copy[memlen] = 0;
	if (n)
		*n = memlen;
	rewind(memf);
	fflush(memf);
	return copy;
}

static const char *take(void)
{
	return taken(NULL);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_integers(void **state)
{
	char want[64];
	const uint64_t u[] = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 65535, 4294967295u,
			      4294967296u, 1000000000000000000u, 9999999999999999999u, UINT64_MAX};
	for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
		ob_u64(&ob, u[i]);
		snprintf(want, sizeof want, "%llu", (unsigned long long)u[i]);
		assert_string_equal(take(), want);
	}
	const int64_t s[] = {0, 1, -1, 9, -9, 10, -10, 123456789, -123456789,
			     INT64_MAX, INT64_MIN, INT64_MIN + 1};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		ob_i64(&ob, s[i]);
		snprintf(want, sizeof want, "%lld", (long long)s[i]);
		assert_string_equal(take(), want);
	}
	ob_i64(&ob, INT64_MIN);
	assert_string_equal(take(), "-9223372036854775808");
	ob_u64(&ob, UINT64_MAX);
	assert_string_equal(take(), "18446744073709551615");
	for (int k = 0; k < 100000; k++) {
		uint64_t v = next() >> (next() % 64);
		ob_u64(&ob, v);
		snprintf(want, sizeof want, "%llu", (unsigned long long)v);
		assert_string_equal(take(), want);
		ob_i64(&ob, (int64_t)v);
		snprintf(want, sizeof want, "%lld", (long long)(int64_t)v);
		assert_string_equal(take(), want);
	}
}

static void test_padded(void **state)
{
	char want[64];
	const uint64_t u[] = {0, 7, 42, 999, 1000, 12345, UINT64_MAX};
	for (unsigned w = 0; w < 25; w++)
		for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
			ob_u64_pad(&ob, u[i], w);
			snprintf(want, sizeof want, "%*llu", (int)w, (unsigned long long)u[i]);
			assert_string_equal(take(), want);
		}
	ob_u64_pad(&ob, 5, 3);
	assert_string_equal(take(), "  5");
}

static void check_fixed(double v, unsigned prec, unsigned width)
{
	char want[512];
	snprintf(want, sizeof want, "%*.*f", (int)width, (int)prec, v);
	ob_fixed(&ob, v, prec, width);
	const char *got = take();
	if (strcmp(got, want))
		fail_msg("%%%u.%uf of %a: got '%s', printf '%s'", width, prec, v, got, want);
}

static void test_fixed(void **state)
{
	/* As printed today: latency %.3f, relative time %11.6f. */
	ob_fixed(&ob, 1.2345, 3, 0);
	assert_string_equal(take(), "1.234");   /* 1.2345 is below the tie in binary */
	ob_fixed(&ob, 0.0625, 3, 0);
	assert_string_equal(take(), "0.062");   /* an exact tie: to the even digit */
	ob_fixed(&ob, 0.1875, 3, 0);
	assert_string_equal(take(), "0.188");
	ob_fixed(&ob, -0.0001, 3, 0);
	assert_string_equal(take(), "-0.000");
	ob_fixed(&ob, 12.5, 6, 11);
	assert_string_equal(take(), "  12.500000");
	ob_fixed(&ob, 2.5, 0, 0);
	assert_string_equal(take(), "2");

	const double vals[] = {
		0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.375, 0.0005, 0.0015, 0.9995, 0.9999995,
		1e-320, 5e-324, -5e-324, DBL_MIN, 1e-7, 4.9999999e-7, 5e-7, 1.0 / 3, 2.0 / 3,
		123456.789, 999999.9999995, 1e15, 1e17 + 8, 9007199254740993.0,
		9.2e18, 9.3e18, 1e19, 1e300, DBL_MAX, -DBL_MAX, INFINITY, -INFINITY, NAN,
		0.001, 0.0005000000000000001, 1e-3 / 2, 86400.123456, 1700000000.123456,
	};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		for (unsigned prec = 0; prec <= 9; prec++) {
			check_fixed(vals[i], prec, 0);
			check_fixed(vals[i], prec, 11);
		}
	/* Exact ties k / 2^n at every precision, and random doubles at every
	 * magnitude a latency or a relative time can have, and some it cannot. */
	for (int k = 0; k < 200000; k++) {
		unsigned prec = (unsigned)(next() % 10);
		double v;
		switch (k % 4) {
		case 0: v = (double)(next() % 100000) / (double)(1u << (next() % 20)); break;
		case 1: v = ldexp((double)(next() >> 11), (int)(next() % 80) - 70); break;
		case 2: {
			uint64_t b = next();
			memcpy(&v, &b, sizeof v);
			break;
		}
		default: v = (double)(int64_t)(next() % 4000000000000ull) / 1e9; break;
		}
		check_fixed(v, prec, k & 1 ? 11 : 0);
	}
}

/* put_ts() as it was written with printf. */
static void ts_printf(char *b, size_t n, int64_t ns)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	if (frac < 0) {
		sec--;
		frac += 1000000000;
	}
	if (frac % 1000)
		snprintf(b, n, "%lld.%09lld", (long long)sec, (long long)frac);
	else
		snprintf(b, n, "%lld.%06lld", (long long)sec, (long long)(frac / 1000));
}

static void test_timestamps(void **state)
{
	ob_ts(&ob, 1700000000123456000);
	assert_string_equal(take(), "1700000000.123456");
	ob_ts(&ob, 1700000000123456789);
	assert_string_equal(take(), "1700000000.123456789");
	ob_ts(&ob, 5000);
	assert_string_equal(take(), "0.000005");
	ob_ts(&ob, -1);
	assert_string_equal(take(), "-1.999999999");
	char want[64];
	const int64_t v[] = {0, 1, 999, 1000, 1001, 999999999, 1000000000, -1000, -1000000000,
			     INT64_MAX, INT64_MIN, INT64_MIN + 1};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		ob_ts(&ob, v[i]);
		ts_printf(want, sizeof want, v[i]);
		assert_string_equal(take(), want);
	}
	for (int k = 0; k < 100000; k++) {
		int64_t t = (int64_t)next();
		if (k & 1)
			t -= t % 1000;
		ob_ts(&ob, t);
		ts_printf(want, sizeof want, t);
		assert_string_equal(take(), want);
	}
}

static void test_hex(void **state)
{
	uint8_t all[256];
	char want[513];
	for (int i = 0; i < 256; i++) {
		all[i] = (uint8_t)i;
		snprintf(want + 2 * i, 3, "%02x", i);
	}
	ob_hex(&ob, all, sizeof all);
	assert_string_equal(take(), want);
	ob_hex(&ob, (const uint8_t *)"\x00\xff\x10\xab", 4);
	assert_string_equal(take(), "00ff10ab");
	ob_hex(&ob, all, 0);
	assert_string_equal(take(), "");
}

static void check_quote(const void *s, size_t n)
{
	jm_buf b = {0};
	assert_int_equal(jm_json_quote(&b, s, n), 0);
	ob_json_str(&ob, s, n);
	size_t got_n;
	const char *got = taken(&got_n);
	assert_int_equal(got_n, b.len);
	assert_memory_equal(got, b.data, b.len);
	jm_buf_free(&b);
}

static void test_json_string(void **state)
{
	/* Quotes, backslash, the three short escapes, other controls as
	 * \u00XX, DEL and '/' raw, valid UTF-8 raw, invalid bytes escaped. */
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} rows[] = {
		{"", 0, "\"\""},
		{"text/json", 9, "\"text/json\""},
		{"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
		{"\n\r\t", 3, "\"\\n\\r\\t\""},
		{"\x00\x01\x08\x0c\x1f", 5, "\"\\u0000\\u0001\\u0008\\u000c\\u001f\""},
		{"\x7f/", 2, "\"\x7f/\""},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
		{"\x80", 1, "\"\\u0080\""},                          /* lone continuation */
		{"\xc3", 1, "\"\\u00c3\""},                          /* cut short */
		{"\xf0\x9f\x98", 3, "\"\\u00f0\\u009f\\u0098\""},      /* cut short */
		{"\xc0\x80", 2, "\"\\u00c0\\u0080\""},               /* overlong */
		{"\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\""},   /* surrogate */
		{"\xf5\x80\x80\x80", 4, "\"\\u00f5\\u0080\\u0080\\u0080\""},
		{"\xff", 1, "\"\\u00ff\""},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		ob_json_str(&ob, rows[i].in, rows[i].n);
		assert_string_equal(take(), rows[i].out);
		check_quote(rows[i].in, rows[i].n);
	}
	/* Random bytes, mostly ASCII with some of everything else. */
	uint8_t b[300];
	for (int k = 0; k < 20000; k++) {
		size_t n = next() % sizeof b;
		for (size_t i = 0; i < n; i++) {
			uint64_t r = next();
			b[i] = (uint8_t)(r % 4 ? 0x20 + (r >> 8) % 0x60 : r >> 16);
		}
		check_quote(b, n);
	}
}

static void check_compact(const char *s)
{
	jm_buf b = {0};
	assert_int_equal(jm_json_compact(&b, s, strlen(s)), 0);
	ob_json_compact(&ob, s, strlen(s));
	size_t got_n;
	const char *got = taken(&got_n);
	assert_int_equal(got_n, b.len);
	assert_memory_equal(got, b.data, b.len);
	jm_buf_free(&b);
}

static void test_json_compact(void **state)
{
	const char *in = "{ \"a b\" :\t[1, 2,\r\n 3],\n \"q\\\" x\": \"\\\\\", \"u\": \"\\u0020 \" }";
	ob_json_compact(&ob, in, strlen(in));
	assert_string_equal(take(), "{\"a b\":[1,2,3],\"q\\\" x\":\"\\\\\",\"u\":\"\\u0020 \"}");
	check_compact(in);
	check_compact("  ");
	check_compact("\"\\");
	check_compact("[ \"\\\"\" , \"\\\\\" , 1 ]");

	/* Raw only when there is no line break to squeeze out. */
	ob_json_text(&ob, "{ \"a\": 1 }", 10);
	assert_string_equal(take(), "{ \"a\": 1 }");
	ob_json_text(&ob, "{ \"a\":\n1 }", 10);
	assert_string_equal(take(), "{\"a\":1}");
	ob_json_text(&ob, "{ \"a\":\r1 }", 10);
	assert_string_equal(take(), "{\"a\":1}");
}

static void test_json_compact_max(void **state)
{
	char s[600];
	/* 256 bytes once compacted: not cut. */
	memset(s, 'x', sizeof s);
	s[0] = '"';
	s[255] = '"';
	memset(s + 256, ' ', 100);
	assert_false(ob_json_compact_max(&ob, s, 356, 256));
	assert_int_equal(strlen(take()), 256);
	/* 257: cut to 256. */
	s[255] = 'x';
	s[256] = '"';
	assert_true(ob_json_compact_max(&ob, s, 257, 256));
	size_t n;
	const char *got = taken(&n);
	assert_int_equal(n, 256);
	assert_memory_equal(got, s, 256);
	/* A two-byte character across the cut goes whole. */
	s[255] = '\xc3';
	s[256] = '\xa9';
	s[257] = '"';
	assert_true(ob_json_compact_max(&ob, s, 258, 256));
	got = taken(&n);
	assert_int_equal(n, 255);
	/* A three-byte character ending at the cut stays. */
	s[253] = '\xe2';
	s[254] = '\x82';
	s[255] = '\xac';
	s[256] = 'y';
	assert_true(ob_json_compact_max(&ob, s, 258, 256));
	got = taken(&n);
	assert_int_equal(n, 256);
	/* Whitespace outside strings does not count. */
	const char *sp = "[1,                 2]";
	assert_false(ob_json_compact_max(&ob, sp, strlen(sp), 5));
	assert_string_equal(take(), "[1,2]");
	assert_true(ob_json_compact_max(&ob, sp, strlen(sp), 4));
	assert_string_equal(take(), "[1,2");
}

static void test_bytes_text(void **state)
{
	ob_bytes_text(&ob, (const uint8_t *)"ab \\~\x7f\x00\x1f\xff\"", 10);
	assert_string_equal(take(), "ab \\x5c~\\x7f\\x00\\x1f\\xff\"");
}

static void test_ipv4(void **state)
{
	char want[INET_ADDRSTRLEN];
	for (int k = 0; k < 20000; k++) {
		uint8_t a[4];
		uint64_t r = next();
		for (int i = 0; i < 4; i++) {
			a[i] = (uint8_t)(r >> (8 * i));
			if ((r >> (32 + i)) & 1)   /* short octets too */
				a[i] %= (r >> (40 + i)) & 1 ? 10 : 100;
		}
		inet_ntop(AF_INET, a, want, sizeof want);
		ob_ipv4(&ob, a);
		assert_string_equal(take(), want);
	}
	ob_ipv4(&ob, (const uint8_t[]){127, 0, 0, 1});
	assert_string_equal(take(), "127.0.0.1");
}

/* Lines longer than the buffer, and every formatter starting a few bytes
 * before the buffer is full: nothing lost, nothing repeated. */
static void test_long_lines(void **state)
{
	size_t big = 3 * OB_CAP + 17;
	uint8_t *b = malloc(big);
	jm_buf want = {0};
	assert_non_null(b);
	for (size_t i = 0; i < big; i++)
		b[i] = (uint8_t)(i * 7 + (i >> 9));

	ob_hex(&ob, b, big);
	size_t n;
	const char *got = taken(&n);
	assert_int_equal(n, 2 * big);
	for (size_t i = 0; i < big; i += 4099) {
		char h[3];
		snprintf(h, sizeof h, "%02x", b[i]);
		assert_memory_equal(got + 2 * i, h, 2);
	}

	jm_json_quote(&want, b, big);
	ob_json_str(&ob, b, big);
	got = taken(&n);
	assert_int_equal(n, want.len);
	assert_memory_equal(got, want.data, n);

	/* Whole, and in pieces around the buffer's size from a part-full buffer. */
	const size_t sizes[] = {big, OB_CAP, OB_CAP - 1, OB_CAP + 1, 1, 0};
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		ob_lit(&ob, "<");
		ob_put(&ob, b, sizes[k]);
		ob_put(&ob, b, sizes[k]);
		got = taken(&n);
		assert_int_equal(n, 1 + 2 * sizes[k]);
		assert_memory_equal(got + 1, b, sizes[k]);
		assert_memory_equal(got + 1 + sizes[k], b, sizes[k]);
	}

	for (size_t fill = OB_CAP - 40; fill <= OB_CAP; fill++) {
		memset(ob.buf, '.', fill);
		ob.len = fill;
		ob_u64(&ob, UINT64_MAX);
		ob_fixed(&ob, -123.456, 6, 11);
		ob_u64_pad(&ob, 7, 30);
		ob_ts(&ob, 1700000000123456789);
		ob_ipv4(&ob, (const uint8_t[]){255, 255, 255, 255});
		ob_json_str(&ob, "\x01\xe2\x82\xac\"", 5);
		ob_hex(&ob, (const uint8_t *)"\xab\xcd", 2);
		ob_bytes_text(&ob, (const uint8_t *)"\x01z", 2);
		ob_json_compact(&ob, "{ \"a\" : 1 }", 11);
		ob_json_compact_max(&ob, "[ 1, 2, 3 ]", 11, 4);
		ob_lit(&ob, "end");
		ob_endl(&ob);
		assert_int_equal(ob.len, 0);
		got = taken(&n);
		char tail[256];
		snprintf(tail, sizeof tail, "%llu%11.6f%30u%s%s%s%s%s%s%s%s\n",
			 (unsigned long long)UINT64_MAX, -123.456, 7u, "1700000000.123456789",
			 "255.255.255.255", "\"\\u0001\xe2\x82\xac\\\"\"", "abcd", "\\x01z",
			 "{\"a\":1}", "[1,2", "end");
		assert_int_equal(n, fill + strlen(tail));
		assert_memory_equal(got + fill, tail, strlen(tail));
	}
	jm_buf_free(&want);
	free(b);
}

/* ob_endl() hands the line to the FILE at once. */
static void test_endl_writes_the_line(void **state)
{
	ob_lit(&ob, "one");
	fflush(memf);
	assert_int_equal(memlen, 0);
	ob_endl(&ob);
	fflush(memf);
	assert_int_equal(memlen, 4);
	assert_memory_equal(mem, "one\n", 4);
	take();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_integers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_padded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_string, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_compact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_compact_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytes_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endl_writes_the_line, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
