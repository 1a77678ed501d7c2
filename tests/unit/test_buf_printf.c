/*
 * jm_buf_printf: printf into a growable buffer, never cut.  Every output
 * length from 0 to past the buffer's free space is appended exactly (the
 * bytes snprintf writes into a big enough array, no NUL counted), after
 * content already held and after content consumed from the front; outputs
 * longer than 511 bytes and than 64 KiB come out whole; a format that fails
 * appends nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <cmocka.h>

#include "jmsg.h"

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void assert_holds(const jm_buf *b, const void *want, size_t n)
{
	assert_int_equal(jm_buf_pending(b), n);
	assert_memory_equal(jm_buf_head(b), want, n);
}

static void test_short(void **state)
{
	jm_buf b = {0};
	assert_int_equal(jm_buf_printf(&b, "%s=%d;", "a", 42), 0);
	assert_int_equal(jm_buf_printf(&b, "%.3f|%llu", 1.5, 18446744073709551615ULL), 0);
	assert_holds(&b, "a=42;1.500|18446744073709551615", 31);
	assert_int_equal(jm_buf_printf(&b, "%s", ""), 0);   /* nothing to add */
	assert_holds(&b, "a=42;1.500|18446744073709551615", 31);
	jm_buf_free(&b);
}

/* Each length 0..700 after each of a few amounts already held, so the
 * output ends just before, at and just past the free space. */
static void test_every_length(void **state)
{
	char *x = repeat('x', 700);
	static const size_t held[] = {0, 1, 100, 191, 192, 193, 255, 256, 257, 511};
	for (size_t h = 0; h < sizeof held / sizeof held[0]; h++) {
		for (size_t n = 0; n <= 700; n++) {
			jm_buf b = {0};
			char *pre = repeat('p', held[h]);
			assert_int_equal(jm_buf_append(&b, pre, held[h]), 0);
			assert_int_equal(jm_buf_printf(&b, "<%.*s>", (int)n, x), 0);
			char *want = malloc(held[h] + n + 3);
			assert_non_null(want);
			memcpy(want, pre, held[h]);
			want[held[h]] = '<';
			memcpy(want + held[h] + 1, x, n);
			want[held[h] + n + 1] = '>';
			assert_holds(&b, want, held[h] + n + 2);
			free(want);
			free(pre);
			jm_buf_free(&b);
		}
	}
	free(x);
}

/* Over 511 bytes in one call: the whole text, byte for byte. */
static void test_over_511(void **state)
{
	jm_buf b = {0};
	char *s = repeat('a', 600);
	assert_int_equal(jm_buf_printf(&b, "[%s|%05d]", s, 7), 0);
	char want[600 + 9];
	want[0] = '[';
	memcpy(want + 1, s, 600);
	memcpy(want + 601, "|00007]", 7);
	assert_holds(&b, want, 608);
	free(s);
	jm_buf_free(&b);
}

/* Over 64 KiB in one call, after bytes consumed from the front: the buffer
 * compacts and grows, and holds exactly the rest plus the whole text. */
static void test_over_64k(void **state)
{
	const size_t big = 70000;
	jm_buf b = {0};
	assert_int_equal(jm_buf_append(&b, "0123456789", 10), 0);
	jm_buf_consume(&b, 4);
	char *s = repeat('z', big);
	s[0] = 'A';
	s[big - 1] = 'Z';
	assert_int_equal(jm_buf_printf(&b, "%s%c%s", s, '-', s), 0);
	size_t n = 6 + 2 * big + 1;
	char *want = malloc(n);
	assert_non_null(want);
	memcpy(want, "456789", 6);
	memcpy(want + 6, s, big);
	want[6 + big] = '-';
	memcpy(want + 7 + big, s, big);
	assert_holds(&b, want, n);
	assert_true(n > 64 * 1024);
	free(want);
	free(s);
	jm_buf_free(&b);
}

/* A conversion that fails (a wide character the C locale cannot write):
 * -1, and the buffer holds what it held. */
static void test_failure_appends_nothing(void **state)
{
	jm_buf b = {0};
	assert_int_equal(jm_buf_append(&b, "kept", 4), 0);
	static const wchar_t bad[] = {L'a', 0xe9, 0};
	assert_int_equal(jm_buf_printf(&b, "%s%ls", "lost", bad), -1);
	assert_holds(&b, "kept", 4);
	char *s = repeat('y', 1000);   /* however much comes before it */
	assert_int_equal(jm_buf_printf(&b, "%s%ls", s, bad), -1);
	assert_holds(&b, "kept", 4);
	free(s);
	jm_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_every_length),
		cmocka_unit_test(test_over_511),
		cmocka_unit_test(test_over_64k),
		cmocka_unit_test(test_failure_appends_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
