/*
 * outbuf: a buffered line writer with its own number and string
 * formatting, for output written at the rate of the traffic (the
 * analyzer's event lines).  No printf per field, no allocation: a line is
 * built in a fixed buffer and handed to the FILE with one fwrite at
 * ob_endl(), so lines written to the same FILE by other code interleave
 * whole.  A line longer than the buffer is handed over in pieces.
 *
 * Every formatter writes exactly what the printf conversion or the codec
 * function named beside it writes (tests/unit/test_outbuf.c checks them
 * against each other):
 *
 *   ob_u64 / ob_i64        %llu / %lld
 *   ob_u64_pad             %*llu (right-aligned in `width`)
 *   ob_fixed               %*.*f of a double, exactly rounded as glibc
 *                          does (to nearest, ties to even digit), prec <= 9
 *   ob_ts                  seconds since the epoch from nanoseconds:
 *                          "S.uuuuuu", or "S.nnnnnnnnn" if not whole us
 *   ob_hex                 two lower-case hex digits per byte
 *   ob_json_str            jm_json_quote(): a JSON string literal
 *   ob_json_compact        jm_json_compact(): JSON text, whitespace out
 *   ob_json_text           JSON text as is, compacted only if it holds a
 *                          raw line break (so a line stays one line)
 *   ob_bytes_text          printable ASCII as is (but '\'), else \xNN
 *   ob_ipv4                dotted quad, as inet_ntop(AF_INET)
 */
#ifndef JM_ANALYZER_OUTBUF_H
#define JM_ANALYZER_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define OB_CAP (64u * 1024)   /* bytes buffered before they go to the FILE */
#define OB_ROOM 512u          /* most bytes ob_room() may be asked for */

typedef struct ob_writer {
	FILE *f;
	size_t len;
	char buf[OB_CAP];
} ob_writer;

void ob_init(ob_writer *o, FILE *f);
/* Hand the buffered bytes to the FILE (no fflush). */
void ob_drain(ob_writer *o);
/* End the line: '\n', then the whole line goes to the FILE. */
void ob_endl(ob_writer *o);

void ob_put_slow(ob_writer *o, const void *p, size_t n);

/* Room for n <= OB_ROOM bytes at the end of the buffer; the caller writes
 * there and adds what it wrote to o->len. */
static inline char *ob_room(ob_writer *o, size_t n)
{
	if (OB_CAP - o->len < n)
		ob_drain(o);
	return o->buf + o->len;
}

static inline void ob_put(ob_writer *o, const void *p, size_t n)
{
	if (OB_CAP - o->len >= n) {
		memcpy(o->buf + o->len, p, n);
		o->len += n;
	} else {
		ob_put_slow(o, p, n);
	}
}

static inline void ob_putc(ob_writer *o, char c)
{
	*ob_room(o, 1) = c;
	o->len++;
}

static inline void ob_puts(ob_writer *o, const char *s)
{
	ob_put(o, s, strlen(s));
}

/* A string literal, its length known at compile time. */
#define ob_lit(o, s) ob_put((o), "" s, sizeof(s) - 1)

void ob_u64(ob_writer *o, uint64_t v);
void ob_i64(ob_writer *o, int64_t v);
void ob_u64_pad(ob_writer *o, uint64_t v, unsigned width);
void ob_fixed(ob_writer *o, double v, unsigned prec, unsigned width);
void ob_ts(ob_writer *o, int64_t ns);
void ob_hex(ob_writer *o, const uint8_t *p, size_t n);
void ob_json_str(ob_writer *o, const void *s, size_t n);
void ob_json_compact(ob_writer *o, const char *s, size_t n);
void ob_json_text(ob_writer *o, const char *s, size_t n);
/* ob_json_compact() of s, but if that is longer than max (<= OB_ROOM - 2)
 * bytes, only its first max bytes, cut back to a UTF-8 character
 * boundary; returns true if cut. */
bool ob_json_compact_max(ob_writer *o, const char *s, size_t n, size_t max);
void ob_bytes_text(ob_writer *o, const uint8_t *p, size_t n);
void ob_ipv4(ob_writer *o, const uint8_t a[4]);

#endif
