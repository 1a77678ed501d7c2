/* The server's answers as bytes: the tutorial's responses exactly (header
 * length 103 for text/json, 127 for binary on a little-endian machine),
 * Python json.dumps string escaping, the bad_request cases, the keep-alive
 * member, the tutorial client's request bytes, and Python's bytes repr. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "app/request.h"
#include "client/client.h"
#include "app/answer.h"

static app_table table;
static struct json_tokener *tok;
static jm_buf out;

static int setup(void **state)
{
	tok = json_tokener_new();
	return app_table_default(&table) || !tok;
}

static int teardown(void **state)
{
	app_table_free(&table);
	json_tokener_free(tok);
	jm_buf_free(&out);
	return 0;
}

static bool little(void)
{
	return !strcmp(jm_host_byteorder(), "little");
}

/* Compare out with an expected message, NUL-terminated apart from the
 * protoheader's first byte. */
static void expect_bytes(const char *want, size_t want_len)
{
	if (jm_buf_pending(&out) != want_len || memcmp(jm_buf_head(&out), want, want_len)) {
		print_error("got %zu bytes: %.*s\nwant %zu bytes: %.*s\n", jm_buf_pending(&out),
			    (int)jm_buf_pending(&out) - 2, (const char *)jm_buf_head(&out) + 2, want_len,
			    (int)want_len - 2, want + 2);
		fail();
	}
}

#define HDR_L(n) "{\"byteorder\": \"little\", \"content-type\": \"text/json\", " \
	"\"content-encoding\": \"utf-8\", \"content-length\": " #n "}"

static int answer(const char *req)
{
	out.len = out.off = 0;
	return app_answer_json(&out, &table, tok, (const uint8_t *)req, strlen(req), NULL);
}

static void test_search_table(void **state)
{
	if (!little())
		skip();
	static const char morpheus[] = "\x00\x67" HDR_L(43)
		"{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}";
	static const char puppy[] = "\x00\x67" HDR_L(37)
		"{\"result\": \"\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90\"}";
	assert_int_equal(answer("{\"action\": \"search\", \"value\": \"morpheus\"}"), 0);
	expect_bytes(morpheus, sizeof morpheus - 1);
	assert_int_equal(answer("{\"action\":\"search\",\"value\":\"\xf0\x9f\x90\xb6\"}"), 0);
	expect_bytes(puppy, sizeof puppy - 1);
	/* escapes in the request are undone before the lookup */
	assert_int_equal(answer("{\"action\": \"search\", \"value\": \"\\ud83d\\udc36\"}"), 0);
	expect_bytes(puppy, sizeof puppy - 1);
}

static void test_no_match_and_invalid_action(void **state)
{
	if (!little())
		skip();
	static const char nomatch[] = "\x00\x67" HDR_L(33) "{\"result\": \"No match for 'neo'.\"}";
	static const char invalid[] = "\x00\x67" HDR_L(43)
		"{\"result\": \"Error: invalid action 'find'.\"}";
	assert_int_equal(answer("{\"action\": \"search\", \"value\": \"neo\"}"), 0);
	expect_bytes(nomatch, sizeof nomatch - 1);
	assert_int_equal(answer("{\"value\": \"neo\", \"action\": \"find\"}"), 0);
	expect_bytes(invalid, sizeof invalid - 1);
}

static void test_bad_requests(void **state)
{
	const char *rows[] = {
		"[1, 2]", "\"search\"", "{}", "{\"action\": 1}", "{\"action\": \"search\"}",
		"{\"action\": \"search\", \"value\": null}", "{\"action\": \"search\", \"value\": [\"ring\"]}",
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		assert_int_equal(answer(rows[i]), 1);
		const char *p = memmem(jm_buf_head(&out), jm_buf_pending(&out),
				       "{\"error\": \"" APP_ERR_BAD_REQUEST "\", \"detail\": \"", 33);
		assert_non_null(p);
	}
	/* a NUL inside the value cannot match a key, and is escaped back */
	assert_int_equal(answer("{\"action\": \"search\", \"value\": \"ring\\u0000\"}"), 0);
	assert_non_null(memmem(jm_buf_head(&out), jm_buf_pending(&out), "No match for 'ring\\u0000'.", 26));
}

static void test_json_str_like_python(void **state)
{
	struct { const char *in; size_t n; const char *want; } rows[] = {
		{"plain", 5, "\"plain\""},
		{"q\"b\\s/", 6, "\"q\\\"b\\\\s/\""},
		{"\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\""},
		{"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\""},
		{"\xf0\x9f\x90\xb0", 4, "\"\xf0\x9f\x90\xb0\""},
		{"a\0b", 3, "\"a\\u0000b\""},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		out.len = out.off = 0;
		assert_int_equal(app_json_str(&out, rows[i].in, rows[i].n), 0);
		assert_int_equal(jm_buf_pending(&out), strlen(rows[i].want));
		assert_memory_equal(jm_buf_head(&out), rows[i].want, strlen(rows[i].want));
	}
}

static void test_binary_answer(void **state)
{
	if (!little())
		skip();
	static const char want[] = "\x00\x7f"
		"{\"byteorder\": \"little\", \"content-type\": \"binary/custom-server-binary-type\", "
		"\"content-encoding\": \"binary\", \"content-length\": 36}"
		"First 10 bytes of request: binary\xe2\x98\xba";
	out.len = out.off = 0;
	assert_int_equal(app_answer_binary(&out, (const uint8_t *)"binary\xe2\x98\xba", 9, NULL), 0);
	expect_bytes(want, sizeof want - 1);
	/* only ten bytes are echoed, however many are given */
	out.len = out.off = 0;
	assert_int_equal(app_answer_binary(&out, (const uint8_t *)"0123456789abcdef", 16, NULL), 0);
	assert_non_null(memmem(jm_buf_head(&out), jm_buf_pending(&out), "\"content-length\": 37}", 21));
	assert_memory_equal(jm_buf_head(&out) + jm_buf_pending(&out) - 10, "0123456789", 10);
}

static void test_keep_alive_member(void **state)
{
	out.len = out.off = 0;
	assert_int_equal(app_answer_binary(&out, (const uint8_t *)"x", 1, app_keep_alive_member()), 0);
	assert_non_null(memmem(jm_buf_head(&out), jm_buf_pending(&out), ", \"connection\": \"keep-alive\"}", 29));
}

static void test_client_requests(void **state)
{
	if (!little())
		skip();
	/* the tutorial client's requests, as captured from app-client.py */
	static const char search[] = "\x00\x67" HDR_L(41) "{\"action\": \"search\", \"value\": \"morpheus\"}";
	static const char binary[] = "\x00\x7e"
		"{\"byteorder\": \"little\", \"content-type\": \"binary/custom-client-binary-type\", "
		"\"content-encoding\": \"binary\", \"content-length\": 9}binary\xe2\x98\xba";
	out.len = out.off = 0;
	assert_int_equal(app_build_request(&out, "search", "morpheus", false), 0);
	expect_bytes(search, sizeof search - 1);
	out.len = out.off = 0;
	assert_int_equal(app_build_request(&out, "binary", "\xe2\x98\xba", false), 0);
	expect_bytes(binary, sizeof binary - 1);
}

static void test_bytes_repr(void **state)
{
	struct { const char *in; size_t n; const char *want; } rows[] = {
		{"abc", 3, "b'abc'"},
		{"\x00g{", 3, "b'\\x00g{'"},
		{"it's", 4, "b\"it's\""},
		{"'\"", 2, "b'\\'\"'"},
		{"\t\n\r\\\x7f\xf0", 6, "b'\\t\\n\\r\\\\\\x7f\\xf0'"},
		{NULL, 0, "b''"}, /* an empty content: no bytes, no buffer */
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		out.len = out.off = 0;
		assert_int_equal(app_bytes_repr(&out, (const uint8_t *)rows[i].in, rows[i].n), 0);
		assert_int_equal(jm_buf_pending(&out), strlen(rows[i].want));
		assert_memory_equal(jm_buf_head(&out), rows[i].want, strlen(rows[i].want));
	}
}

/* Load a table written to a temporary file; returns app_table_load's
 * result, the error line in err. */
static int load_text(app_table *t, const char *text, size_t len, uint64_t max, char *err,
		     size_t errlen)
{
	char path[] = "/tmp/jmsg-table-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	int rc = app_table_load(t, path, max, err, errlen);
	unlink(path);
	return rc;
}

static void test_table_files(void **state)
{
	app_table t;
	char err[256];
	size_t rl;
	/* a good one */
	const char good[] = "{\"a\": \"1\", \"b\\n\": \"x\\u0000y\"}";
	assert_int_equal(load_text(&t, good, sizeof good - 1, 1 << 20, err, sizeof err), 0);
	const char *r = app_table_lookup(&t, "b\n", 2, &rl);
	assert_non_null(r);
	assert_int_equal(rl, 3); /* a NUL inside a result is kept */
	assert_memory_equal(r, "x\0y", 3);
	app_table_free(&t);
	/* A key holding NUL would be cut short by json-c ("a\u0000b" would
	 * answer a search for "a"): refused. */
	const char nulkey[] = "{\"c\": \"ok\", \"a\\u0000b\": \"SECRET\"}";
	assert_int_equal(load_text(&t, nulkey, sizeof nulkey - 1, 1 << 20, err, sizeof err), -1);
	assert_non_null(strstr(err, "NUL"));
	/* not an object, a result not a string: refused, one line */
	assert_int_equal(load_text(&t, "[1]", 3, 1 << 20, err, sizeof err), -1);
	assert_non_null(strstr(err, "must be a JSON object"));
	const char num[] = "{\"line\\nbreak\": 1}";
	assert_int_equal(load_text(&t, num, sizeof num - 1, 1 << 20, err, sizeof err), -1);
	assert_non_null(strstr(err, "is not a string"));
	assert_null(strchr(err, '\n'));
	/* over the size limit: refused before it is parsed */
	assert_int_equal(load_text(&t, good, sizeof good - 1, 8, err, sizeof err), -1);
	assert_non_null(strstr(err, "larger than"));
	/* an endless file is read only up to the limit */
	assert_int_equal(app_table_load(&t, "/dev/zero", 1 << 16, err, sizeof err), -1);
	assert_non_null(strstr(err, "larger than"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_table),
		cmocka_unit_test(test_no_match_and_invalid_action),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_json_str_like_python),
		cmocka_unit_test(test_binary_answer),
		cmocka_unit_test(test_keep_alive_member),
		cmocka_unit_test(test_client_requests),
		cmocka_unit_test(test_bytes_repr),
		cmocka_unit_test(test_table_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
