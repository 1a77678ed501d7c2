/*
 * outbuf: buffered line writer and its formatters.  See outbuf.h.
 */
#include <stdio.h>
#include <string.h>

#include "jmsg.h"
#include "analyzer/outbuf.h"

__extension__ typedef unsigned __int128 u128;

static const char hexd[] = "0123456789abcdef";

static const char pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Each byte's two hex digits, so a byte is one load and one store. */
static const char hex2[513] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static const uint64_t pow10[10] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
};

void ob_init(ob_writer *o, FILE *f)
{
	o->f = f;
	o->len = 0;
}

void ob_drain(ob_writer *o)
{
	if (o->len)
		fwrite(o->buf, 1, o->len, o->f);
	o->len = 0;
}

void ob_endl(ob_writer *o)
{
	ob_putc(o, '\n');
	ob_drain(o);
}

void ob_put_slow(ob_writer *o, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		if (o->len == OB_CAP)
			ob_drain(o);
		size_t k = OB_CAP - o->len;
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

/* The decimal digits of v, written backwards ending at `end`; returns the
 * first digit. */
static char *digits(char *end, uint64_t v)
{
	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;
		v /= 100;
		*--end = pairs[d + 1];
		*--end = pairs[d];
	}
	if (v >= 10) {
		*--end = pairs[v * 2 + 1];
		*--end = pairs[v * 2];
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

/* Exactly `n` digits of v (v < 10^n), zeros in front. */
static char *digits_n(char *end, uint64_t v, unsigned n)
{
	char *p = digits(end, v);
	while (end - p < (ptrdiff_t)n)
		*--p = '0';
	return p;
}

void ob_u64(ob_writer *o, uint64_t v)
{
	char tmp[24], *end = tmp + sizeof tmp, *p = digits(end, v);
	ob_put(o, p, (size_t)(end - p));
}

void ob_i64(ob_writer *o, int64_t v)
{
	char tmp[24], *end = tmp + sizeof tmp;
	char *p = digits(end, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	ob_put(o, p, (size_t)(end - p));
}

void ob_u64_pad(ob_writer *o, uint64_t v, unsigned width)
{
	char tmp[24], *end = tmp + sizeof tmp, *p = digits(end, v);
	size_t n = (size_t)(end - p);
	if (width > OB_ROOM)
		width = OB_ROOM;
	if (n < width) {
		char *d = ob_room(o, width);
		memset(d, ' ', width - n);
		o->len += width - n;
	}
	ob_put(o, p, n);
}

/*
 * %*.*f without printf.  A finite double is m * 2^e exactly; the digits
 * printf shows are m * 10^prec * 2^e rounded to an integer, to nearest
 * with ties to even (glibc rounds the exact binary value in the current
 * rounding mode, which this program never changes).  With |v| < 2^63 and
 * prec <= 9 that product fits in 128 bits.
 */
void ob_fixed(ob_writer *o, double v, unsigned prec, unsigned width)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	bool neg = bits >> 63;
	unsigned ex = (unsigned)(bits >> 52) & 0x7ff;
	uint64_t m = bits & ((1ull << 52) - 1);
	if (prec > 9 || ex >= 1023 + 63 || width > OB_ROOM - 64) {
		/* Huge, infinite, NaN, or a format this writer does not need. */
		char tmp[400];
		int n = snprintf(tmp, sizeof tmp, "%*.*f", (int)width, (int)prec, v);
		if (n > 0)
			ob_put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
		return;
	}
	int e;
	if (ex) {
		m |= 1ull << 52;
		e = (int)ex - 1075;
	} else {
		e = -1074;
	}
	u128 q = (u128)m * pow10[prec];
	if (e >= 0) {
		q <<= e;
	} else if (-e >= 128) {
		q = 0;   /* below 2^-75 * 10^9: rounds to zero */
	} else {
		unsigned s = (unsigned)-e;
		u128 rem = q & (((u128)1 << s) - 1), half = (u128)1 << (s - 1);
		q >>= s;
		if (rem > half || (rem == half && (q & 1)))
			q++;
	}
	uint64_t ip = (uint64_t)(q / pow10[prec]), fp = (uint64_t)(q % pow10[prec]);

	char tmp[48], *end = tmp + sizeof tmp, *p = end;
	if (prec) {
		p = digits_n(end, fp, prec);
		*--p = '.';
	}
	p = digits(p, ip);
	if (neg)
		*--p = '-';
	size_t n = (size_t)(end - p);
	if (n < width) {
		char *d = ob_room(o, width);
		memset(d, ' ', width - n);
		o->len += width - n;
	}
	ob_put(o, p, n);
}

void ob_ts(ob_writer *o, int64_t ns)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	if (frac < 0) {
		sec--;
		frac += 1000000000;
	}
	ob_i64(o, sec);
	char tmp[12], *end = tmp + sizeof tmp, *p;
	if (frac % 1000)
		p = digits_n(end, (uint64_t)frac, 9);
	else
		p = digits_n(end, (uint64_t)frac / 1000, 6);
	*--p = '.';
	ob_put(o, p, (size_t)(end - p));
}

void ob_hex(ob_writer *o, const uint8_t *p, size_t n)
{
	while (n) {
		size_t k = (OB_CAP - o->len) / 2;
		if (!k) {
			ob_drain(o);
			k = OB_CAP / 2;
		}
		if (k > n)
			k = n;
		char *d = o->buf + o->len;
		for (size_t i = 0; i < k; i++)
			memcpy(d + 2 * i, hex2 + 2 * p[i], 2);
		o->len += 2 * k;
		p += k;
		n -= k;
	}
}

void ob_json_str(ob_writer *o, const void *src, size_t len)
{
	const uint8_t *s = src;
	ob_putc(o, '"');
	while (len) {
		if (OB_CAP - o->len < 8)
			ob_drain(o);
		size_t used;
		o->len += jm_json_escape(o->buf + o->len, OB_CAP - o->len, s, len, &used);
		s += used;
		len -= used;
	}
	ob_putc(o, '"');
}

static inline bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The compactor's state between pieces of one text. */
typedef struct compact {
	bool in_str, esc;
} compact;

/* Compacts up to n bytes of s into d; returns the bytes written (<= n). */
static size_t compact_run(compact *st, char *d, const char *s, size_t n)
{
	char *d0 = d;
	bool in_str = st->in_str, esc = st->esc;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			*d++ = c;
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
		} else if (!is_ws(c)) {
			*d++ = c;
			in_str = c == '"';
		}
	}
	st->in_str = in_str;
	st->esc = esc;
	return (size_t)(d - d0);
}

void ob_json_compact(ob_writer *o, const char *s, size_t n)
{
	compact st = {false, false};
	while (n) {
		if (o->len == OB_CAP)
			ob_drain(o);
		size_t k = OB_CAP - o->len;
		if (k > n)
			k = n;
		o->len += compact_run(&st, o->buf + o->len, s, k);
		s += k;
		n -= k;
	}
}

void ob_json_text(ob_writer *o, const char *s, size_t n)
{
	if (memchr(s, '\n', n) || memchr(s, '\r', n))
		ob_json_compact(o, s, n);
	else
		ob_put(o, s, n);
}

bool ob_json_compact_max(ob_writer *o, const char *s, size_t n, size_t max)
{
	if (max > OB_ROOM - 2)
		max = OB_ROOM - 2;
	/* Compact until more than max bytes are out (one more is enough to
	 * know, and tells whether the byte at the cut continues a character). */
	char *d = ob_room(o, max + 2);
	compact st = {false, false};
	size_t out = 0, i = 0;
	while (i < n && out <= max) {
		size_t k = max + 1 - out;   /* input bytes that cannot overflow */
		if (k > n - i)
			k = n - i;
		out += compact_run(&st, d + out, s + i, k);
		i += k;
	}
	if (out <= max) {
		o->len += out;
		return false;
	}
	size_t cut = max;
	while (cut > 0 && ((uint8_t)d[cut] & 0xc0) == 0x80)
		cut--;
	o->len += cut;
	return true;
}

void ob_bytes_text(ob_writer *o, const uint8_t *p, size_t n)
{
	while (n) {
		size_t k = (OB_CAP - o->len) / 4;
		if (!k) {
			ob_drain(o);
			k = OB_CAP / 4;
		}
		if (k > n)
			k = n;
		char *d = o->buf + o->len, *d0 = d;
		for (size_t i = 0; i < k; i++) {
			uint8_t c = p[i];
			if (c >= 0x20 && c < 0x7f && c != '\\') {
				*d++ = (char)c;
			} else {
				*d++ = '\\';
				*d++ = 'x';
				*d++ = hexd[c >> 4];
				*d++ = hexd[c & 15];
			}
		}
		o->len += (size_t)(d - d0);
		p += k;
		n -= k;
	}
}

void ob_ipv4(ob_writer *o, const uint8_t a[4])
{
	char *d = ob_room(o, 15), *d0 = d;
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (i)
			*d++ = '.';
		if (v >= 100) {
			*d++ = (char)('0' + v / 100);
			v %= 100;
			*d++ = pairs[v * 2];
			*d++ = pairs[v * 2 + 1];
		} else if (v >= 10) {
			*d++ = pairs[v * 2];
			*d++ = pairs[v * 2 + 1];
		} else {
			*d++ = (char)('0' + v);
		}
	}
	o->len += (size_t)(d - d0);
}
