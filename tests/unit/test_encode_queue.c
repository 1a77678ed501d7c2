/* jm_encode appending to an output queue that send() has partly consumed,
 * as the server's is: any append may first move the pending bytes to the
 * front of the buffer (jm_buf_reserve), during the header or during the
 * content.  Whatever the fill, the queue must end as what was pending
 * followed by the message exactly as jm_encode writes it into an empty
 * buffer; and a refused message must leave the pending bytes as they
 * were. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "jmsg.h"

/* A queue of `filled` bytes of which the first `consumed` are sent. */
static void make_queue(jm_buf *q, size_t filled, size_t consumed)
{
	memset(q, 0, sizeof *q);
	for (size_t i = 0; i < filled; i++) {
		uint8_t c = (uint8_t)('a' + i % 26);
		assert_int_equal(jm_buf_append(q, &c, 1), 0);
	}
	if (consumed)
		jm_buf_consume(q, consumed);
}

static void test_every_fill(void **state)
{
	static const size_t contents[] = {0, 1, 100, 300, 1000, 5000};
	uint8_t *content = malloc(5000);
	assert_non_null(content);
	for (size_t i = 0; i < 5000; i++)
		content[i] = (uint8_t)('A' + i % 26);
	for (size_t k = 0; k < sizeof contents / sizeof contents[0]; k++) {
		size_t n = contents[k];
		jm_buf alone = {0};
		assert_int_equal(jm_encode(&alone, "text/json", "utf-8", NULL, content, n), 0);
		for (size_t filled = 1; filled <= 1100; filled += 13) {
			for (size_t consumed = 0; consumed < filled; consumed += 7) {
				jm_buf q;
				make_queue(&q, filled, consumed);
				size_t pending = jm_buf_pending(&q);
				jm_buf want = {0};
				assert_int_equal(jm_buf_append(&want, jm_buf_head(&q), pending), 0);
				assert_int_equal(jm_buf_append(&want, jm_buf_head(&alone), jm_buf_pending(&alone)), 0);

				assert_int_equal(jm_encode(&q, "text/json", "utf-8", NULL, content, n), 0);
				if (jm_buf_pending(&q) != jm_buf_pending(&want) ||
				    memcmp(jm_buf_head(&q), jm_buf_head(&want), jm_buf_pending(&want)))
					fail_msg("%zu-byte content after %zu bytes, %zu of them sent: the queue is "
						 "not the pending bytes and then the message (header length %02x %02x)",
						 n, filled, consumed, jm_buf_head(&q)[pending], jm_buf_head(&q)[pending + 1]);
				jm_buf_free(&q);
				jm_buf_free(&want);
			}
		}
		jm_buf_free(&alone);
	}
	free(content);
}

static void test_refused_leaves_queue(void **state)
{
	/* a header over 65535 bytes is refused; its appends moved the queue */
	size_t big = 70000;
	char *extra = malloc(big + 1);
	assert_non_null(extra);
	memcpy(extra, "\"x\": \"", 6);
	memset(extra + 6, 'x', big - 7);
	extra[big - 1] = '"';
	extra[big] = '\0';
	for (size_t consumed = 0; consumed < 1000; consumed += 99) {
		jm_buf q;
		make_queue(&q, 1000, consumed);
		jm_buf before = {0};
		assert_int_equal(jm_buf_append(&before, jm_buf_head(&q), jm_buf_pending(&q)), 0);
		assert_int_equal(jm_encode(&q, "text/json", "utf-8", extra, "{}", 2), -1);
		assert_int_equal(jm_buf_pending(&q), jm_buf_pending(&before));
		assert_memory_equal(jm_buf_head(&q), jm_buf_head(&before), jm_buf_pending(&before));
		jm_buf_free(&q);
		jm_buf_free(&before);
	}
	free(extra);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_fill),
		cmocka_unit_test(test_refused_leaves_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
