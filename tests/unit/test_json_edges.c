/*
 * Table-driven tests of proto/json.c, proto/encoder.c's byte buffer and
 * proto/spec.c: the strict JSON check (every refusal with its offset and
 * reason), UTF-8 (each kind of bad sequence), the quote and compact
 * writers (quote refusing a length its worst case cannot be computed for),
 * the buffer's compaction and its refusals, and the error table lookups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jmsg.h"
#include "json_internal.h"

static void test_json_valid(void **state)
{
	static const struct {
		const char *text;
		bool ok;
		size_t at;
		const char *why;
	} rows[] = {
		{"{\"a\": [1, -2.5e+3, true, false, null, \"\\u00e9\\uD83D\\uDE00\\uFFFF\\uabcf\"]}", true, 0, NULL},
		{" \t\r\n0 ", true, 0, NULL},
		{"", false, 0, "value expected"},
		{"   ", false, 3, "value expected"},
		{"\"abc", false, 4, "unterminated string"},
		{"\"ab\x01\"", false, 3, "control character in string"},
		{"\"abc\\", false, 5, "unterminated escape"},
		{"\"\\x\"", false, 2, "invalid escape"},
		{"\"\\u12", false, 5, "unterminated \\u escape"},
		{"\"\\u12G4\"", false, 5, "bad hex digit in \\u escape"},
		{"\"\\u00e\"", false, 6, "bad hex digit in \\u escape"},
		{"-", false, 1, "bad number"},
		{"01", false, 1, "extra data after the JSON value"},
		{"1.", false, 2, "bad fraction"},
		{"1.e5", false, 2, "bad fraction"},
		{"1e", false, 2, "bad exponent"},
		{"1E+", false, 3, "bad exponent"},
		{"tru", false, 0, "invalid literal"},
		{"nulL", false, 0, "invalid literal"},
		{"falsey", false, 5, "extra data after the JSON value"},
		{"{1: 2}", false, 1, "object key expected"},
		{"{\"a: 1}", false, 7, "unterminated string"},
		{"{\"a\" 1}", false, 5, "':' expected"},
		{"{\"a\": 1", false, 7, "unterminated object"},
		{"{\"a\": 1 }x", false, 9, "extra data after the JSON value"},
		{"{\"a\": 1 \"b\"}", false, 8, "',' or '}' expected"},
		{"[1, 2", false, 5, "unterminated array"},
		{"[1 2]", false, 3, "',' or ']' expected"},
		{"[1,]", false, 3, "unexpected character"},
		{"'a'", false, 0, "unexpected character"},
		{"NaN", false, 0, "unexpected character"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		size_t at = 999;
		const char *why = NULL;
		bool ok = jm_json_valid(rows[i].text, strlen(rows[i].text), &at, &why);
		if (ok != rows[i].ok || (!ok && (at != rows[i].at || strcmp(why, rows[i].why))))
			fail_msg("'%s': %s at %zu (%s), want %s at %zu (%s)", rows[i].text, ok ? "valid" : "invalid",
				 at, why ? why : "-", rows[i].ok ? "valid" : "invalid", rows[i].at,
				 rows[i].why ? rows[i].why : "-");
		if (ok)
			assert_int_equal(at, 999); /* untouched */
	}
	/* nesting: at the limit valid, one deeper not; the error is where the
	 * first level too many opens */
	char deep[2 * JM_SPEC_MAX_JSON_DEPTH + 4];
	for (int depth = JM_SPEC_MAX_JSON_DEPTH; depth <= JM_SPEC_MAX_JSON_DEPTH + 1; depth++) {
		memset(deep, '[', (size_t)depth);
		memset(deep + depth, ']', (size_t)depth);
		size_t at = 0;
		const char *why = NULL;
		bool ok = jm_json_valid(deep, 2 * (size_t)depth, &at, &why);
		assert_int_equal(ok, depth == JM_SPEC_MAX_JSON_DEPTH);
		if (!ok) {
			assert_int_equal(at, JM_SPEC_MAX_JSON_DEPTH);
			assert_string_equal(why, "nested too deeply");
		}
	}
	/* no out-parameters wanted */
	assert_false(jm_json_valid("[", 1, NULL, NULL));
}

static void test_utf8(void **state)
{
	static const struct {
		const char *name;
		const char *bytes;
		bool ok;
		size_t at;
	} rows[] = {
		{"ASCII, longer than a word", "abcdefghijklmnop", true, 0},
		{"two-byte", "caf\xc3\xa9", true, 0},
		{"three-byte", "\xe2\x82\xac", true, 0},
		{"four-byte", "\xf0\x9f\x98\x80", true, 0},
		{"the largest code point", "\xf4\x8f\xbf\xbf", true, 0},
		{"after eight ASCII bytes", "abcdefgh\xc3\xa9", true, 0},
		{"a stray continuation byte", "ab\x80", false, 2},
		{"an overlong two-byte lead", "\xc0\xaf", false, 0},
		{"an overlong three-byte form", "x\xe0\x80\xaf", false, 1},
		{"a surrogate", "\xed\xa0\x80", false, 0},
		{"past U+10FFFF", "\xf4\x90\x80\x80", false, 0},
		{"an overlong four-byte form", "\xf0\x8f\xbf\xbf", false, 0},
		{"a lead byte no UTF-8 has", "abc\xf5\x80\x80\x80", false, 3},
		{"cut short at the end", "abc\xe2\x82", false, 3},
		{"a bad third byte", "\xe2\x82\x28", false, 0},
		{"a bad fourth byte", "\xf0\x9f\x98\x28", false, 0},
		{"a bad second byte", "\xc3\x28", false, 0},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		size_t at = 999;
		bool ok = jm_utf8_valid((const uint8_t *)rows[i].bytes, strlen(rows[i].bytes), &at);
		if (ok != rows[i].ok || (!ok && at != rows[i].at))
			fail_msg("%s: %s at %zu", rows[i].name, ok ? "valid" : "invalid", at);
	}
	assert_false(jm_utf8_valid((const uint8_t *)"\xff", 1, NULL));
}

/* The string scan skips eight bytes at a time and finds the byte that
 * stopped it inside the word: every special byte, at every position of a
 * string and every alignment of the text, must be found exactly where a
 * byte-by-byte reading finds it. */
static void test_string_scan_positions(void **state)
{
	static const struct {
		const char *ins;      /* put into the string's body */
		bool ok;              /* jm_json_valid */
		size_t at;            /* else: offset from the inserted byte */
		const char *why;
		bool utf8;            /* valid UTF-8 (jm_check_content) */
	} rows[] = {
		{"\x01", false, 0, "control character in string", true},
		{"\x1f", false, 0, "control character in string", true},
		{"\x20", true, 0, NULL, true},
		{"\\x", false, 1, "invalid escape", true},
		{"\\n", true, 0, NULL, true},
		{"\\u00e9", true, 0, NULL, true},
		{"\xc3\xa9", true, 0, NULL, true},
		{"\xf0\x9f\x98\x80", true, 0, NULL, true},
		{"\x80", true, 0, NULL, false},
		{"\xff", true, 0, NULL, false},
		{"\xc3\x28", true, 0, NULL, false},
		{"\x7f", true, 0, NULL, true},
	};
	char text[128], detail[160];
	jm_header h = {.content_is_json = true};
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		size_t il = strlen(rows[r].ins);
		for (size_t lead = 0; lead < 8; lead++) {
			for (size_t blen = 0; blen < 40; blen++) {
				for (size_t k = 0; k <= blen; k++) {
					size_t n = 0;
					memset(text, ' ', lead);
					n = lead;
					text[n++] = '"';
					for (size_t i = 0; i < k; i++)
						text[n++] = (char)('a' + (i % 26));
					memcpy(text + n, rows[r].ins, il);
					size_t pos = n;
					n += il;
					for (size_t i = k; i < blen; i++)
						text[n++] = (char)('A' + (i % 26));
					text[n++] = '"';
					size_t at = 999;
					const char *why = NULL;
					bool ok = jm_json_valid(text, n, &at, &why);
					if (ok != rows[r].ok ||
					    (!ok && (at != pos + rows[r].at || strcmp(why, rows[r].why))))
						fail_msg("row %zu lead %zu len %zu at %zu: %s at %zu (%s)", r, lead,
							 blen, k, ok ? "valid" : "invalid", at, why ? why : "");
					jm_error e = jm_check_content(&h, (const uint8_t *)text, n, &at, detail,
								      sizeof detail);
					jm_error want = !rows[r].utf8 ? JM_ERR_CONTENT_NOT_UTF8
							: !rows[r].ok ? JM_ERR_CONTENT_NOT_JSON : JM_ERR_NONE;
					if (e != want || (e && at != pos + (rows[r].utf8 ? rows[r].at : 0)))
						fail_msg("content row %zu lead %zu len %zu at %zu: error %d at %zu",
							 r, lead, blen, k, (int)e, at);
				}
			}
		}
	}
}

/* jm_check_content checks JSON and UTF-8 in one pass (after a quicker one
 * for a flat object), and looks again only when that fails: its answer
 * (error, offset, detail) must be the two checks' in their order, UTF-8
 * first, for any bytes.  Mangled copies of contents with strings,
 * escapes, numbers, literals and non-ASCII text, flat and nested. */
static void test_check_content_one_pass(void **state)
{
	static const char *const bases[] = {
		("{\"query\": \"caf\xc3\xa9 \\u00e9\\n\", \"n\": [1, -2.5e3, true, null],"
		 " \"\xe2\x82\xac\": {\"x\": \"\xf0\x9f\x98\x80 long enough to span words\"}}"),
		"{\"action\": \"search\", \"value\": \"morpheus\"}",
		"{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}",
		"{\"a\": -0.5e+3, \"b\": true, \"c\": false, \"d\": null, \"e\": 10, \"f\": 0, \"g\": 1E-2}",
		" { } ",
		"{\"\xed\x9f\xbf\": \"\xf4\x8f\xbf\xbf\", \"k\": \"\xe0\xa0\x80\"}",
	};
	static const uint8_t bytes[] = {0x00, 0x01, 0x1f, ' ', '"', '\\', 'u', '{', '}', ',', ':', '.',
					'e', '-', '+', '0', '5', 't', 'n', 0x7f, 0x80, 0xbf, 0xc0, 0xc3,
					0xe2, 0xed, 0xf0, 0xf4, 0xff};
	jm_header h = {.content_is_json = true};
	uint8_t t[256];
	char d1[160], d2[160];
	uint32_t x = 12345;
	for (size_t bi = 0; bi < sizeof bases / sizeof bases[0]; bi++) {
		for (int iter = 0; iter < 10000; iter++) {
			size_t n = strlen(bases[bi]);
			memcpy(t, bases[bi], n);
			int edits = iter == 0 ? 0 : 1 + iter % 3;
			for (int k = 0; k < edits && n > 1; k++) {
				x = x * 1103515245u + 12345u;
				size_t at = (x >> 8) % n;
				uint8_t b = bytes[(x >> 20) % sizeof bytes];
				switch ((x >> 4) % 4) {
				case 0: memmove(t + at, t + at + 1, n - at - 1); n--; break;
				case 1:
					if (n + 1 < sizeof t) {
						memmove(t + at + 1, t + at, n - at);
						t[at] = b;
						n++;
					}
					break;
				default: t[at] = b;
				}
			}
			size_t a1 = 0, a2 = 0;
			jm_error e1 = jm_check_content(&h, t, n, &a1, d1, sizeof d1);
			/* the definition: UTF-8, then JSON */
			jm_error e2 = JM_ERR_NONE;
			const char *why;
			if (!jm_utf8_valid(t, n, &a2)) {
				e2 = JM_ERR_CONTENT_NOT_UTF8;
				snprintf(d2, sizeof d2, "byte 0x%02x at content byte %zu is not valid UTF-8", t[a2],
					 a2);
			} else if (!jm_json_valid((const char *)t, n, &a2, &why)) {
				e2 = JM_ERR_CONTENT_NOT_JSON;
				snprintf(d2, sizeof d2, "%s at content byte %zu", why, a2);
			}
			if (e1 != e2 || (e1 && (a1 != a2 || strcmp(d1, d2))))
				fail_msg("base %zu iteration %d: %d at %zu (%s), want %d at %zu (%s)", bi, iter,
					 (int)e1, a1, e1 ? d1 : "", (int)e2, a2, e2 ? d2 : "");
		}
	}
}

static int scan_grow(jm_header_scan *sc)
{
	size_t cap = sc->members_cap ? sc->members_cap * 2 : 2;
	jm_member *m = realloc(sc->members, cap * sizeof *m);
	if (!m)
		return -1;
	sc->members = m;
	sc->members_cap = cap;
	return 0;
}

/* The header scan has a quick path for the usual header (plain string
 * keys, plain string or integer values); whatever it accepts must come
 * out exactly as the full scan has it, and whatever else must be left to
 * the full scan: every result, member, offset and reason, for headers
 * of many shapes and mangled copies of them. */
static void test_scan_header_quick_path(void **state)
{
	static const char *const bases[] = {
		("{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\","
		 " \"content-length\": 45, \"connection\": \"keep-alive\"}"),
		"{\"byteorder\":\"big\",\"content-length\":0,\"content-type\":\"binary/x\",\"content-encoding\":\"binary\"}",
		" \t{ \"a\" : -12 , \"b\":\"\" }\r\n",
		"{}",
		"{ }",
		"{\"a\": 1.5, \"b\": 2}",
		"{\"a\": 1e3}",
		"{\"a\": 0, \"b\": -0, \"c\": 10}",
		"{\"a\": 012}",
		"{\"k\\u00e9y\": \"v\\n\", \"b\": 1}",
		"{\"a\": \"caf\xc3\xa9\"}",
		"{\"a\": [1, {\"b\": 2}], \"c\": true, \"d\": null, \"e\": false}",
		"{\"a\": 1,}",
		"{\"a\" 1}",
		"{\"a\": 1} x",
		"[1]",
		"\"x\"",
		"{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}",
	};
	static const char bytes[] = {'"', '\\', ',', ':', '{', '}', '[', ' ', '\n', '0', '1', '-', '.', 'e',
				     'x', 0x01, (char)0x80, (char)0xc3};
	char t[256];
	uint32_t x = 99;
	for (size_t bi = 0; bi < sizeof bases / sizeof bases[0]; bi++) {
		for (int iter = 0; iter < 3000; iter++) {
			size_t n = strlen(bases[bi]);
			memcpy(t, bases[bi], n);
			int edits = iter == 0 ? 0 : 1 + iter % 2;
			for (int k = 0; k < edits && n; k++) {
				x = x * 1103515245u + 12345u;
				size_t at = (x >> 8) % n;
				char b = bytes[(x >> 20) % sizeof bytes];
				switch ((x >> 4) % 3) {
				case 0: t[at] = b; break;
				case 1: memmove(t + at, t + at + 1, n - at - 1); n--; break;
				default:
					if (n + 1 < sizeof t) {
						memmove(t + at + 1, t + at, n - at);
						t[at] = b;
						n++;
					}
				}
			}
			char strs[2][600];
			jm_header_scan sc[2];
			jm_scan_result r[2];
			for (int w = 0; w < 2; w++) {
				memset(&sc[w], 0, sizeof sc[w]);
				sc[w].raw = t;
				sc[w].raw_len = n;
				sc[w].grow = scan_grow;
				sc[w].strs = strs[w];
				sc[w].utf8 = true;
				sc[w].full = w == 1;
				r[w] = jm_scan_header(&sc[w]);
			}
			bool same = r[0] == r[1];
			if (same && r[0] == JM_SCAN_OK) {
				same = sc[0].n_members == sc[1].n_members && sc[0].strs_used == sc[1].strs_used;
				for (size_t m = 0; same && m < sc[0].n_members; m++) {
					const jm_member *a = &sc[0].members[m], *b = &sc[1].members[m];
					same = a->key_len == b->key_len && !memcmp(a->key, b->key, a->key_len) &&
					       a->value == b->value && a->value_len == b->value_len &&
					       a->type == b->type;
				}
			} else if (same) {
				same = sc[0].err_at == sc[1].err_at && !strcmp(sc[0].why, sc[1].why);
			}
			if (!same)
				fail_msg("base %zu iteration %d: '%.*s': quick %d, full %d", bi, iter, (int)n, t,
					 (int)r[0], (int)r[1]);
			free(sc[0].members);
			free(sc[1].members);
		}
	}
}

static void test_quote(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} rows[] = {
		{"plain", 5, "\"plain\""},
		{"\"\\\n\r\t", 5, "\"\\\"\\\\\\n\\r\\t\""},
		{"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\""},
		{"a\0b", 3, "\"a\\u0000b\""},
		{"caf\xc3\xa9 \xf0\x9f\x98\x80", 10, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""},
		{"\xff\xc3", 2, "\"\\u00ff\\u00c3\""},        /* invalid, and cut at the end */
		{"\xe2\x28\xa1", 3, "\"\\u00e2(\\u00a1\""},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		jm_buf b = {0};
		assert_int_equal(jm_buf_append(&b, "x", 1), 0);   /* appends after what is there */
		assert_int_equal(jm_json_quote(&b, rows[i].in, rows[i].len), 0);
		size_t n = strlen(rows[i].out);
		if (b.len != n + 1 || memcmp(b.data + 1, rows[i].out, n))
			fail_msg("row %zu: got %.*s, want %s", i, (int)b.len - 1, (const char *)b.data + 1,
				 rows[i].out);
		/* whatever went in, what comes out is valid JSON */
		assert_true(jm_json_valid((const char *)b.data + 1, b.len - 1, NULL, NULL));
		jm_buf_free(&b);
	}
}

/* A length whose worst case (6 bytes a byte, 2 quotes) does not fit in a
 * size_t is refused before anything is reserved or read: `in` is 2 bytes,
 * and most of these lengths wrap len * 6 + 2 round to a few bytes, which a
 * buffer would have room for. */
static void test_quote_too_long(void **state)
{
	static const char in[] = "x";
	const size_t lim = (SIZE_MAX - 2) / 6;  /* the longest len accepted */
	static const size_t past[] = {1, 2, 41, 1000};
	for (size_t i = 0; i < sizeof past / sizeof past[0] + 1; i++) {
		size_t len = i < sizeof past / sizeof past[0] ? lim + past[i] : SIZE_MAX;
		/* an empty buffer: nothing allocated */
		jm_buf e = {0};
		if (jm_json_quote(&e, in, len) != -1)
			fail_msg("len lim+%zu: accepted", len - lim);
		assert_null(e.data);
		assert_int_equal(e.len, 0);
		assert_int_equal(e.cap, 0);
		/* a buffer with room to spare: left as it was */
		jm_buf b = {0};
		assert_int_equal(jm_buf_append(&b, "abc", 3), 0);
		uint8_t *data = b.data;
		size_t cap = b.cap;
		if (jm_json_quote(&b, in, len) != -1)
			fail_msg("len lim+%zu: accepted after 3 bytes", len - lim);
		assert_ptr_equal(b.data, data);
		assert_int_equal(b.cap, cap);
		assert_int_equal(b.len, 3);
		assert_memory_equal(b.data, "abc", 3);
		jm_buf_free(&b);
	}
}

static void test_compact(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {
		{" { \"a\" : [ 1 , 2 ] ,\n\t\"b\" : { } } ", "{\"a\":[1,2],\"b\":{}}"},
		{"\"keep  these  spaces\"", "\"keep  these  spaces\""},
		{"[\"esc \\\" quote \", \"back\\\\\" , 3]", "[\"esc \\\" quote \",\"back\\\\\",3]"},
		{"\"cut at the end\\", "\"cut at the end\\"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		jm_buf b = {0};
		assert_int_equal(jm_json_compact(&b, rows[i].in, strlen(rows[i].in)), 0);
		size_t n = strlen(rows[i].out);
		if (b.len != n || memcmp(b.data, rows[i].out, n))
			fail_msg("row %zu: got %.*s, want %s", i, (int)b.len, (const char *)b.data, rows[i].out);
		jm_buf_free(&b);
	}
}

static void test_buf(void **state)
{
	jm_buf b = {0};
	char data[300];
	for (int i = 0; i < 300; i++)
		data[i] = (char)('a' + i % 26);
	/* first growth: 256 bytes, doubled as needed */
	assert_int_equal(jm_buf_append(&b, data, 200), 0);
	assert_int_equal(b.cap, 256);
	jm_buf_consume(&b, 150);
	assert_int_equal(jm_buf_pending(&b), 50);
	/* room made by moving the 50 pending bytes to the front, no growth */
	assert_int_equal(jm_buf_reserve(&b, 150), 0);
	assert_int_equal(b.cap, 256);
	assert_int_equal(b.off, 0);
	assert_int_equal(b.len, 50);
	assert_memory_equal(jm_buf_head(&b), data + 150, 50);
	/* compaction not enough: grows, keeping the bytes */
	jm_buf_consume(&b, 10);
	assert_int_equal(jm_buf_append(&b, data, 250), 0);
	assert_int_equal(b.cap, 512);
	assert_int_equal(jm_buf_pending(&b), 290);
	assert_memory_equal(jm_buf_head(&b), data + 160, 40);
	assert_memory_equal(jm_buf_head(&b) + 40, data, 250);
	/* consuming everything resets the buffer */
	jm_buf_consume(&b, 290);
	assert_int_equal(b.off, 0);
	assert_int_equal(b.len, 0);
	/* impossible sizes are refused, the buffer untouched */
	assert_int_equal(jm_buf_append(&b, data, 10), 0);
	assert_int_equal(jm_buf_reserve(&b, SIZE_MAX), -1);
	assert_int_equal(jm_buf_append(&b, data, SIZE_MAX / 2), -1);
	assert_int_equal(b.len, 10);
	assert_int_equal(jm_json_quote(&b, "x", SIZE_MAX / 8), -1);      /* never read */
	assert_int_equal(jm_json_compact(&b, "x", SIZE_MAX / 2 + 1), -1);
	assert_int_equal(jm_buf_append(&b, NULL, 0), 0);
	assert_int_equal(b.len, 10);
	jm_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.cap, 0);
}

static void test_encode_refusals(void **state)
{
	/* A header over 65535 bytes is refused and the buffer left as it was,
	 * also when the buffer had consumed bytes to move first. */
	jm_buf b = {0};
	assert_int_equal(jm_encode(&b, "text/json", "utf-8", NULL, "{}", 2), 0);
	size_t one = b.len;
	jm_buf_consume(&b, 10);
	size_t n = 70000;
	char *extra = malloc(n + 16);
	assert_non_null(extra);
	memcpy(extra, "\"pad\": \"", 8);
	memset(extra + 8, 'p', n);
	memcpy(extra + 8 + n, "\"", 2);
	assert_int_equal(jm_encode(&b, "text/json", "utf-8", extra, "{}", 2), -1);
	assert_int_equal(jm_buf_pending(&b), one - 10);
	/* the largest header that fits: 65535 bytes */
	size_t base = one - 2 - 2;           /* the header without extra members */
	size_t pad = 65535 - base - 11;      /* ", \"pad\": \"" and the closing quote */
	memset(extra + 8, 'p', pad);
	memcpy(extra + 8 + pad, "\"", 2);
	jm_buf c = {0};
	assert_int_equal(jm_encode(&c, "text/json", "utf-8", extra, "{}", 2), 0);
	assert_int_equal(c.data[0], 0xff);
	assert_int_equal(c.data[1], 0xff);
	assert_int_equal(c.len, 2 + 65535 + 2);
	free(extra);
	jm_buf_free(&b);
	jm_buf_free(&c);
}

static void test_spec_lookups(void **state)
{
	static const struct {
		jm_error e;
		const char *id, *severity;
	} rows[] = {
		{JM_ERR_HEADER_EMPTY, "header_empty", "error"},
		{JM_ERR_CONTENT_NOT_JSON, "content_not_json", "error"},
		{JM_ERR_CONTENT_ENCODING_UNSUPPORTED, "content_encoding_unsupported", "warning"},
		{JM_ERR_TRUNCATED, "truncated", "error"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		assert_string_equal(jm_error_id(rows[i].e), rows[i].id);
		assert_string_equal(jm_error_severity(rows[i].e), rows[i].severity);
		assert_int_equal(jm_error_from_id(rows[i].id), rows[i].e);
		assert_true(strlen(jm_error_text(rows[i].e)) > 0);
	}
	/* every id finds its error again */
	for (int e = 1; e < JM_ERR_COUNT; e++)
		assert_int_equal(jm_error_from_id(jm_error_id((jm_error)e)), e);
	assert_int_equal(jm_error_from_id("no_such_error"), JM_ERR_NONE);
	assert_string_equal(jm_error_id(JM_ERR_COUNT), "unknown");
	assert_string_equal(jm_error_text((jm_error)-1), "unknown error");
	assert_string_equal(jm_error_severity(JM_ERR_COUNT), "error");
}

/* jm_sniff: the heuristic's rule (the dissector's looks_like), with the
 * spec's required keys; a prefix is decided as soon as it can be. */
static void test_sniff(void **state)
{
#define R(lit, want) {lit, sizeof(lit) - 1, want}
#define HDR "{\"byteorder\": \"little\", \"content-type\": \"text/json\", " \
	    "\"content-encoding\": \"utf-8\", \"content-length\": 2}"
	static const struct {
		const char *bytes;
		size_t len;
		int want;
	} rows[] = {
		R("\x00\x66" HDR "{}", 1),                          /* the tutorial's header */
		R("\x00\x66" HDR, 1),                               /* the content may come later */
		R("\x00\x66{\"byteorder\": \"lit", -1),           /* not all there yet */
		R("\x00", -1),
		R("", -1),
		R("GET / HTTP/1.1\r\n", 0),                         /* 'GE', then ' ' is not '{' */
		R("\x00\x00{}", 0),                                  /* header length 0 */
		R("\x00\x02[]", 0),                                  /* not an object */
		R("\x00\x66 {\"byteorder\"", 0),                  /* '{' first, as Wireshark wants */
		R("\x00\x40{\"a\":\x01", 0),                      /* a raw control byte: refuted early */
		R("\x00\x49{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-length\": 2}",
		  0),                                                  /* no content-encoding */
		R("\x00\x67" HDR " ", 1),                          /* whitespace after it, as JSON allows */
		R("\x00\x67" HDR "x", 0),                          /* anything else */
		R("\x00\x11{\"a\":\"\xff\xfe\", \"b\":1}", 0),       /* not UTF-8 */
		/* Values are not checked, keys with escapes count. */
		R("\x00\x56{\"byteorder\": 7, \"content-type\": 1, \"content-encoding\": 2, \"content-\\u006cength\": \"x\"}", 1),
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *b = rows[i].bytes;
		size_t len = rows[i].len;
		uint16_t hl = 0;
		int got = jm_sniff((const uint8_t *)b, len, &hl);
		if (got != rows[i].want)
			fail_msg("row %zu: jm_sniff %d, want %d", i, got, rows[i].want);
		if (got == 1)
			assert_int_equal(hl, (uint8_t)b[1]);
	}
	/* jm_json_object_has, alone */
	const char *keys[] = {"a", "b"};
	bool found[2];
	assert_true(jm_json_object_has("{\"a\":{\"b\":1}}", 13, keys, 2, found));
	assert_true(found[0] && !found[1]);  /* top-level keys only */
	assert_true(jm_json_object_has(" { } ", 5, keys, 2, found));
	assert_false(found[0] || found[1]);
	assert_false(jm_json_object_has("{\"a\":1,}", 8, keys, 2, found));
	assert_false(jm_json_object_has("{\"a\":1} x", 10, keys, 2, found));
	assert_false(jm_json_object_has("[1]", 3, keys, 2, found));
#undef HDR
#undef R
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_valid),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_string_scan_positions),
		cmocka_unit_test(test_check_content_one_pass),
		cmocka_unit_test(test_scan_header_quick_path),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_quote_too_long),
		cmocka_unit_test(test_compact),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_spec_lookups),
		cmocka_unit_test(test_sniff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
