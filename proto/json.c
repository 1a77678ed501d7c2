/*
 * JSON and UTF-8 for the codec: a strict RFC 8259 validator that builds no
 * tree, the header-object scanner the decoder uses, string unescaping, and
 * the small writers (quote, compact) the tools share.
 *
 * Written here rather than taken from json-c because it is the hot path of
 * every tool (the analyzer checks every header and every JSON content it
 * sees) and because it must report the exact offset of a fault.  json-c is
 * used where a tree is wanted (server requests, spec generator).
 */
#include "json_internal.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---------------------------------------------------------------- UTF-8 */

/* The length of the UTF-8 sequence at s[i] (a byte >= 0x80), or 0 if it
 * is not a valid one: the rules of jm_utf8_valid(). */
static inline size_t utf8_seq(const uint8_t *s, size_t i, size_t len)
{
	uint8_t c = s[i];
	size_t n;
	uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* no overlongs */
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f; /* <= U+10FFFF */
	} else {
		return 0;
	}
	if (n > len - i)
		return 0;
	if (s[i + 1] < lo || s[i + 1] > hi)
		return 0;
	for (size_t k = 2; k < n; k++)
		if ((s[i + k] & 0xc0) != 0x80)
			return 0;
	return n;
}

bool jm_utf8_valid(const uint8_t *s, size_t len, size_t *err_at)
{
	size_t i = 0;
	while (i < len) {
		/* ASCII runs, eight bytes at a time. */
		while (i + 8 <= len) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= len)
			break;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = utf8_seq(s, i, len);
		if (!n)
			goto bad;
		i += n;
	}
	return true;
bad:
	if (err_at)
		*err_at = i;
	return false;
}

/* ---------------------------------------------------------------- parser */

static inline bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline void skip_ws(jm_jp *p)
{
	/* Every whitespace byte is <= ' ': one comparison settles the
	 * usual case, a token right here.  (Locals: a char read may alias
	 * p->pos, which would be reloaded at every byte.) */
	const char *s = p->s;
	size_t i = p->pos, n = p->len;
	while (i < n && (unsigned char)s[i] <= ' ' && is_ws(s[i]))
		i++;
	p->pos = i;
}

static bool fail(jm_jp *p, size_t at, const char *why)
{
	p->err_at = at;
	p->why = why;
	return false;
}

static inline int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* The first byte at or after s[i] that a string cannot simply hold: '"',
 * '\\', a control character, or (when `u`, strings being checked for
 * UTF-8) a byte >= 0x80; len if none. */
static inline size_t str_stop(const char *s, size_t i, size_t len, bool u)
{
#ifdef __SSE2__
	/* Sixteen bytes at a time: one flag per byte to stop at, the first
	 * taken from the mask. */
	{
		const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
		const __m128i ctl = _mm_set1_epi8(0x1f);
		int hmask = u ? 0xffff : 0;
		while (i + 16 <= len) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash));
			m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
			int bits = _mm_movemask_epi8(m) | (_mm_movemask_epi8(v) & hmask);
			if (bits)
				return i + (size_t)__builtin_ctz((unsigned)bits);
			i += 16;
		}
	}
#endif
	/* Eight at a time.  The lowest flag of each test is exact (a false
	 * one can only follow a true one), so the byte is found without
	 * going back over the word byte by byte. */
	uint64_t high = u ? HIGHS : 0;
	while (i + 8 <= len) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
		uint64_t m = (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w) |
			      (w & high)) & HIGHS;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (m)
			return i + ((size_t)__builtin_ctzll(m) >> 3);
#else
		if (m)
			break;
#endif
		i += 8;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\' || c < 0x20 || (c >= 0x80 && u))
			break;
	}
	return i;
}

/* At the opening quote.  Leaves pos after the closing quote. */
bool jm_jp_string(jm_jp *p, bool *escaped)
{
	const char *s = p->s;
	size_t i = p->pos + 1, len = p->len;
	bool esc = false;
	bool u = p->utf8;
	for (;;) {
		i = str_stop(s, i, len, u);
		if (i >= len)
			return fail(p, len, "unterminated string");
		unsigned char c = (unsigned char)s[i];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, i, "control character in string");
		if (c >= 0x80) { /* only when checking UTF-8 */
			size_t n = utf8_seq((const uint8_t *)s, i, len);
			if (!n)
				return fail(p, i, "invalid UTF-8");
			i += n;
			continue;
		}
		/* backslash */
		esc = true;
		if (i + 1 >= len)
			return fail(p, len, "unterminated escape");
		switch (s[i + 1]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			i += 2;
			break;
		case 'u':
			if (i + 6 > len)
				return fail(p, len, "unterminated \\u escape");
			for (int k = 2; k < 6; k++)
				if (hexval(s[i + k]) < 0)
					return fail(p, i + k, "bad hex digit in \\u escape");
			i += 6;
			break;
		default:
			return fail(p, i + 1, "invalid escape");
		}
	}
	p->pos = i + 1;
	if (escaped)
		*escaped = esc;
	return true;
}

static bool jp_number(jm_jp *p, bool *is_int)
{
	const char *s = p->s;
	size_t i = p->pos, len = p->len;
	bool integer = true;
	if (i < len && s[i] == '-')
		i++;
	if (i >= len || s[i] < '0' || s[i] > '9')
		return fail(p, i, "bad number");
	if (s[i] == '0')
		i++;
	else
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	if (i < len && s[i] == '.') {
		integer = false;
		i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return fail(p, i, "bad fraction");
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		integer = false;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return fail(p, i, "bad exponent");
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	p->pos = i;
	*is_int = integer;
	return true;
}

static bool jp_literal(jm_jp *p, const char *word, size_t n)
{
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return fail(p, p->pos, "invalid literal");
	p->pos += n;
	return true;
}

bool jm_jp_value(jm_jp *p, int depth, jm_json_type *type)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, p->len, "value expected");
	char c = p->s[p->pos];
	switch (c) {
	case '"':
		*type = JM_JSON_STRING;
		return jm_jp_string(p, NULL);
	case 't':
		*type = JM_JSON_BOOL;
		return jp_literal(p, "true", 4);
	case 'f':
		*type = JM_JSON_BOOL;
		return jp_literal(p, "false", 5);
	case 'n':
		*type = JM_JSON_NULL;
		return jp_literal(p, "null", 4);
	case '{':
	case '[': {
		char close = c == '{' ? '}' : ']';
		*type = c == '{' ? JM_JSON_OBJECT : JM_JSON_ARRAY;
		if (depth >= JM_SPEC_MAX_JSON_DEPTH)
			return fail(p, p->pos, "nested too deeply");
		p->pos++;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			return true;
		}
		for (;;) {
			jm_json_type t;
			if (c == '{') {
				skip_ws(p);
				if (p->pos >= p->len || p->s[p->pos] != '"')
					return fail(p, p->pos, "object key expected");
				if (!jm_jp_string(p, NULL))
					return false;
				skip_ws(p);
				if (p->pos >= p->len || p->s[p->pos] != ':')
					return fail(p, p->pos, "':' expected");
				p->pos++;
			}
			if (!jm_jp_value(p, depth + 1, &t))
				return false;
			skip_ws(p);
			if (p->pos >= p->len)
				return fail(p, p->len, c == '{' ? "unterminated object" : "unterminated array");
			if (p->s[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->s[p->pos] == close) {
				p->pos++;
				return true;
			}
			return fail(p, p->pos, c == '{' ? "',' or '}' expected" : "',' or ']' expected");
		}
	}
	default:
		if (c == '-' || (c >= '0' && c <= '9')) {
			bool is_int;
			if (!jp_number(p, &is_int))
				return false;
			*type = is_int ? JM_JSON_INTEGER : JM_JSON_NUMBER;
			return true;
		}
		return fail(p, p->pos, "unexpected character");
	}
}

/* Steps of json_flat_valid_utf8() and flat_value(), on s, len and i. */
#define WS() while (i < len && (unsigned char)s[i] <= ' ' && is_ws(s[i])) i++
#define DIGITS() while (i < len && s[i] >= '0' && s[i] <= '9') i++
/* A string at s[i] == '"' with no escape; i ends after it. */
#define STRING()                                                                     \
	for (i++;;) {                                                                \
		i = str_stop(s, i, len, true);                                       \
		if (i >= len)                                                        \
			return false;                                                \
		if (s[i] == '"')                                                     \
			break;                                                       \
		size_t n_ = (unsigned char)s[i] >= 0x80 ? utf8_seq((const uint8_t *)s, i, len) : 0; \
		if (!n_)                                                             \
			return false;                                                \
		i += n_;                                                             \
	}                                                                            \
	i++

/* A string, number or literal at s[*ip]; *ip ends after it.  False: not
 * one (of the plain kinds). */
static inline bool flat_value(const char *s, size_t len, size_t *ip)
{
	size_t i = *ip;
	char c = s[i];
	if (c == '"') {
		STRING();
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		if (c == '-')
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		if (s[i] == '0')
			i++;
		else
			DIGITS();
		if (i < len && s[i] == '.') {
			i++;
			if (i >= len || s[i] < '0' || s[i] > '9')
				return false;
			DIGITS();
		}
		if (i < len && (s[i] == 'e' || s[i] == 'E')) {
			i++;
			if (i < len && (s[i] == '+' || s[i] == '-'))
				i++;
			if (i >= len || s[i] < '0' || s[i] > '9')
				return false;
			DIGITS();
		}
	} else if (c == 't' && len - i >= 4 && !memcmp(s + i, "true", 4)) {
		i += 4;
	} else if (c == 'f' && len - i >= 5 && !memcmp(s + i, "false", 5)) {
		i += 5;
	} else if (c == 'n' && len - i >= 4 && !memcmp(s + i, "null", 4)) {
		i += 4;
	} else {
		return false;
	}
	*ip = i;
	return true;
}

/* The usual JSON content, quickly: one object of members whose values are
 * strings without escapes, numbers or literals.  True only if the text is
 * valid JSON and valid UTF-8; false decides nothing (the full check
 * follows). */
static bool json_flat_valid_utf8(const char *s, size_t len)
{
	size_t i = 0;
	_Static_assert(JM_SPEC_MAX_JSON_DEPTH >= 1, "an object is one level deep");
	WS();
	if (i >= len || s[i] != '{')
		return false;
	i++;
	WS();
	if (i < len && s[i] == '}') {
		i++;
	} else {
		for (;;) {
			if (i >= len || s[i] != '"')
				return false;
			STRING();
			WS();
			if (i >= len || s[i] != ':')
				return false;
			i++;
			WS();
			if (i >= len)
				return false;
			if (!flat_value(s, len, &i))
				return false;
			WS();
			if (i >= len)
				return false;
			if (s[i] == ',') {
				i++;
				WS();
				continue;
			}
			if (s[i] != '}')
				return false;
			i++;
			break;
		}
	}
	WS();
#undef WS
#undef DIGITS
#undef STRING
	return i == len;
}

bool jm_json_valid_utf8(const char *s, size_t len)
{
	if (json_flat_valid_utf8(s, len))
		return true;
	jm_jp p = {s, len, 0, 0, NULL, true};
	jm_json_type t;
	if (!jm_jp_value(&p, 0, &t))
		return false;
	skip_ws(&p);
	return p.pos == len;
}

bool jm_json_valid(const char *s, size_t len, size_t *err_at, const char **why)
{
	jm_jp p = {s, len, 0, 0, NULL, false};
	jm_json_type t;
	bool ok = jm_jp_value(&p, 0, &t);
	if (ok) {
		skip_ws(&p);
		if (p.pos != len)
			ok = fail(&p, p.pos, "extra data after the JSON value");
	}
	if (!ok) {
		if (err_at)
			*err_at = p.err_at;
		if (why)
			*why = p.why;
	}
	return ok;
}

/* ---------------------------------------------------------------- strings */

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static uint32_t hex4(const char *s)
{
	return (uint32_t)(hexval(s[0]) << 12 | hexval(s[1]) << 8 | hexval(s[2]) << 4 | hexval(s[3]));
}

size_t jm_json_unescape(const char *s, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		if (s[i] != '\\') {
			/* Copy up to the next escape in one go. */
			const char *bs = memchr(s + i, '\\', len - i);
			size_t n = bs ? (size_t)(bs - (s + i)) : len - i;
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
			continue;
		}
		char e = s[i + 1];
		i += 2;
		switch (e) {
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u': {
			uint32_t cp = hex4(s + i);
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && i + 6 <= len && s[i] == '\\' &&
			    s[i + 1] == 'u') {
				uint32_t lo = hex4(s + i + 2);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				}
			}
			/* A lone surrogate has no UTF-8 form: U+FFFD stands in. */
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			o += put_utf8(out + o, cp);
			break;
		}
		default: out[o++] = e; break; /* " \ / */
		}
	}
	out[o] = 0;
	return o;
}

size_t jm_json_escape(char *dst, size_t room, const void *src, size_t len, size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = src;
	char *d = dst, *end = dst + room;
	size_t i = 0;
	while (i < len && end - d >= 6) {
		uint8_t c = s[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*d++ = (char)c;
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t bad;
			/* Copy a valid multi-byte sequence as is. */
			size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			if (i + n <= len && jm_utf8_valid(s + i, n, &bad)) {
				memcpy(d, s + i, n);
				d += n;
				i += n;
				continue;
			}
		}
		*d++ = '\\';
		switch (c) {
		case '"': *d++ = '"'; break;
		case '\\': *d++ = '\\'; break;
		case '\n': *d++ = 'n'; break;
		case '\r': *d++ = 'r'; break;
		case '\t': *d++ = 't'; break;
		default:
			*d++ = 'u';
			*d++ = '0';
			*d++ = '0';
			*d++ = hex[c >> 4];
			*d++ = hex[c & 15];
		}
		i++;
	}
	*used = i;
	return (size_t)(d - dst);
}

int jm_json_quote(jm_buf *out, const void *src, size_t len)
{
	/* Worst case every byte becomes \u00XX.  A len past what that can be
	 * computed for is refused before anything is reserved or read. */
	if (len > (SIZE_MAX - 2) / 6 || jm_buf_reserve(out, len * 6 + 2))
		return -1;
	char *o = (char *)out->data + out->len;
	size_t used;
	*o++ = '"';
	o += jm_json_escape(o, len * 6, src, len, &used);
	*o++ = '"';
	out->len = (size_t)((uint8_t *)o - out->data);
	return 0;
}

int jm_json_compact(jm_buf *out, const char *s, size_t len)
{
	if (jm_buf_reserve(out, len))
		return -1;
	uint8_t *o = out->data + out->len;
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_str) {
			*o++ = (uint8_t)c;
			if (c == '\\' && i + 1 < len)
				*o++ = (uint8_t)s[++i];
			else if (c == '"')
				in_str = false;
		} else if (!is_ws(c)) {
			*o++ = (uint8_t)c;
			in_str = c == '"';
		}
	}
	out->len = (size_t)(o - out->data);
	return 0;
}

/* ---------------------------------------------------------------- header */

/* Parses a signed JSON integer literal; false on int64 overflow. */
static bool parse_int64(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	bool neg = len && s[0] == '-';
	if (neg)
		i++;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (lim - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* A plain string or an integer's digits at s[*ip], i < len: its type in
 * *t, *ip after it.  False: not one. */
static inline bool plain_value(const char *s, size_t len, size_t *ip, jm_json_type *t)
{
	size_t i = *ip;
	if (s[i] == '"') {
		i = str_stop(s, i + 1, len, true);
		if (i >= len || s[i] != '"')
			return false;
		i++;
		*t = JM_JSON_STRING;
	} else {
		if (s[i] == '-')
			i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		if (s[i] == '0')
			i++;
		else
			while (i < len && s[i] >= '0' && s[i] <= '9')
				i++;
		/* A fraction or an exponent is not a ',' or a '}':
		 * left to the full scan below. */
		*t = JM_JSON_INTEGER;
	}
	*ip = i;
	return true;
}

/* The usual header, quickly: an object whose keys are plain strings and
 * whose values are plain strings or integers (no escapes, no non-ASCII
 * bytes, nothing nested).  Fills the members exactly as the full scan
 * below would; returns false, having decided nothing, on anything else
 * (the full scan then starts again from the first byte). */
static bool scan_header_plain(jm_header_scan *sc)
{
	const char *s = sc->raw;
	size_t len = sc->raw_len, i = 0, n = 0;
#define WS() while (i < len && (unsigned char)s[i] <= ' ' && is_ws(s[i])) i++
	WS();
	if (i >= len || s[i] != '{')
		return false;
	i++;
	WS();
	if (i < len && s[i] == '}') {
		i++;
	} else {
		for (;;) {
			if (i >= len || s[i] != '"')
				return false;
			size_t kstart = ++i;
			i = str_stop(s, i, len, true);
			if (i >= len || s[i] != '"')
				return false;
			size_t kend = i++;
			WS();
			if (i >= len || s[i] != ':')
				return false;
			i++;
			WS();
			if (i >= len)
				return false;
			size_t vstart = i;
			jm_json_type t;
			if (!plain_value(s, len, &i, &t))
				return false;
			if (n == sc->members_cap && sc->grow(sc))
				return false;
			jm_member *m = &sc->members[n++];
			m->key = s + kstart;
			m->key_len = kend - kstart;
			m->value = s + vstart;
			m->value_len = i - vstart;
			m->type = t;
			WS();
			if (i >= len)
				return false;
			if (s[i] == ',') {
				i++;
				WS();
				continue;
			}
			if (s[i] != '}')
				return false;
			i++;
			break;
		}
	}
	WS();
#undef WS
	if (i != len)
		return false;
	sc->n_members = n;
	sc->strs_used = 0;
	sc->plain = true;
	return true;
}

/* The header, from pos on, is no object: is it JSON at all? */
static jm_scan_result scan_not_object(jm_header_scan *sc, size_t pos)
{
	size_t at;
	const char *why;
	sc->err_at = pos;
	if (jm_json_valid(sc->raw, sc->raw_len, &at, &why)) {
		sc->why = "a JSON value that is not an object";
		return JM_SCAN_NOT_OBJECT;
	}
	sc->err_at = at;
	sc->why = why;
	return JM_SCAN_NOT_JSON;
}

/* Member m: key raw[kstart, kend) (unescaped into strs if kesc), value
 * raw[vstart, vend) of type t. */
static inline void store_member(jm_header_scan *sc, jm_member *m, size_t kstart, size_t kend, bool kesc,
				size_t vstart, size_t vend, jm_json_type t, size_t *strs_used)
{
	if (kesc) {
		m->key = sc->strs + *strs_used;
		m->key_len = jm_json_unescape(sc->raw + kstart, kend - kstart, sc->strs + *strs_used);
		*strs_used += m->key_len + 1;
	} else {
		m->key = sc->raw + kstart;
		m->key_len = kend - kstart;
	}
	m->value = sc->raw + vstart;
	m->value_len = vend - vstart;
	m->type = t;
}

jm_scan_result jm_scan_header(jm_header_scan *sc)
{
	sc->plain = false;
	if (!sc->full && scan_header_plain(sc))
		return JM_SCAN_OK;
	jm_jp p = {sc->raw, sc->raw_len, 0, 0, NULL, sc->utf8};
	size_t strs_used = 0;
	sc->n_members = 0;
	skip_ws(&p);
	if (p.pos >= p.len || p.s[p.pos] != '{')
		return scan_not_object(sc, p.pos);
	p.pos++;
	skip_ws(&p);
	bool empty = p.pos < p.len && p.s[p.pos] == '}';
	if (empty)
		p.pos++;
	while (!empty) {
		skip_ws(&p);
		if (p.pos >= p.len || p.s[p.pos] != '"') {
			fail(&p, p.pos, "object key expected");
			goto not_json;
		}
		size_t kstart = p.pos + 1;
		bool kesc;
		if (!jm_jp_string(&p, &kesc))
			goto not_json;
		size_t kend = p.pos - 1;
		skip_ws(&p);
		if (p.pos >= p.len || p.s[p.pos] != ':') {
			fail(&p, p.pos, "':' expected");
			goto not_json;
		}
		p.pos++;
		skip_ws(&p);
		size_t vstart = p.pos;
		jm_json_type t;
		if (!jm_jp_value(&p, 1, &t))
			goto not_json;
		if (sc->n_members == sc->members_cap && sc->grow(sc))
			return JM_SCAN_NOMEM;
		store_member(sc, &sc->members[sc->n_members++], kstart, kend, kesc, vstart, p.pos, t,
			     &strs_used);
		skip_ws(&p);
		if (p.pos >= p.len) {
			fail(&p, p.len, "unterminated object");
			goto not_json;
		}
		if (p.s[p.pos] == ',') {
			p.pos++;
			continue;
		}
		if (p.s[p.pos] == '}') {
			p.pos++;
			break;
		}
		fail(&p, p.pos, "',' or '}' expected");
		goto not_json;
	}
	skip_ws(&p);
	if (p.pos != p.len) {
		fail(&p, p.pos, "extra data after the header object");
		goto not_json;
	}
	sc->strs_used = strs_used;
	return JM_SCAN_OK;
not_json:
	sc->err_at = p.err_at;
	sc->why = p.why;
	return JM_SCAN_NOT_JSON;
}

bool jm_member_int(const jm_member *m, int64_t *out)
{
	return parse_int64(m->value, m->value_len, out);
}

/* ---------------------------------------------------------------- members */

bool jm_json_object_has(const char *s, size_t len, const char *const *keys, size_t n,
			bool *found)
{
	for (size_t i = 0; i < n; i++)
		found[i] = false;
	jm_jp p = {s, len, 0, 0, NULL, true};
	skip_ws(&p);
	if (p.pos >= len || s[p.pos] != '{')
		return false;
	p.pos++;
	skip_ws(&p);
	bool first = true;
	while (!(p.pos < len && s[p.pos] == '}' && first)) {
		if (p.pos >= len || s[p.pos] != '"')
			return false;
		size_t k0 = p.pos + 1;
		bool esc;
		if (!jm_jp_string(&p, &esc))
			return false;
		const char *key = s + k0;
		size_t klen = p.pos - 1 - k0;
		char kbuf[64];
		if (esc && klen < sizeof kbuf) {
			klen = jm_json_unescape(key, klen, kbuf);
			key = kbuf;
		}
		for (size_t i = 0; i < n; i++)
			if (!(esc && key != kbuf) && strlen(keys[i]) == klen &&
			    !memcmp(keys[i], key, klen))
				found[i] = true;
		skip_ws(&p);
		if (p.pos >= len || s[p.pos] != ':')
			return false;
		p.pos++;
		jm_json_type t;
		if (!jm_jp_value(&p, 1, &t))
			return false;
		skip_ws(&p);
		if (p.pos < len && s[p.pos] == ',') {
			p.pos++;
			skip_ws(&p);
			first = false;
			continue;
		}
		if (p.pos >= len || s[p.pos] != '}')
			return false;
		break;
	}
	p.pos++;
	skip_ws(&p);
	return p.pos == len;
}
