/* The encoder and the byte buffer it writes into.  Messages come out as the
 * tutorial's programs write them: the four required fields in their order,
 * Python's default separators, non-ASCII text raw. */
#include "jmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jm_buf_reserve(jm_buf *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return 0;
	if (b->off) {
		/* Reclaim what has been consumed before growing. */
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= extra)
			return 0;
	}
	if (extra > SIZE_MAX / 2 - b->len)
		return -1;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int jm_buf_append(jm_buf *b, const void *p, size_t n)
{
	if (jm_buf_reserve(b, n))
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int jm_buf_vprintf(jm_buf *b, const char *fmt, va_list ap)
{
	/* Format straight into the free space; if it does not fit, vsnprintf
	 * has said how much it needs: grow to that and format again. */
	va_list again;
	int rc = -1;
	va_copy(again, ap);
	if (jm_buf_reserve(b, 64) == 0) {
		size_t room = b->cap - b->len;
		int n = vsnprintf((char *)b->data + b->len, room, fmt, ap);
		if (n >= 0 && (size_t)n < room) {
			b->len += (size_t)n;
			rc = 0;
		} else if (n >= 0 && jm_buf_reserve(b, (size_t)n + 1) == 0 &&
			   vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, again) == n) {
			b->len += (size_t)n;
			rc = 0;
		}
	}
	va_end(again);
	return rc;
}

int jm_buf_printf(jm_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = jm_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void jm_buf_consume(jm_buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void jm_buf_free(jm_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

const char *jm_host_byteorder(void)
{
	const uint16_t one = 1;
	uint8_t first;
	memcpy(&first, &one, 1);
	return first ? "little" : "big";
}

static int append_str(jm_buf *b, const char *s)
{
	return jm_buf_append(b, s, strlen(s));
}

static int append_key(jm_buf *b, jm_field_id id)
{
	return append_str(b, "\"") || append_str(b, jm_field_specs[id].key) || append_str(b, "\": ");
}

int jm_encode(jm_buf *out, const char *content_type, const char *content_encoding,
	      const char *extra, const void *content, size_t content_len)
{
	/* Where the message begins, counted from the head of what is
	 * pending: any append below may first move the pending bytes to the
	 * front of the buffer (jm_buf_reserve reclaims what was consumed),
	 * which changes out->len but not this. */
	size_t at = jm_buf_pending(out);
	char num[24];
	snprintf(num, sizeof num, "%zu", content_len);
	const char *bo = jm_host_byteorder();
	int bad = jm_buf_append(out, "\0\0{", 3) || append_key(out, JM_FIELD_BYTEORDER) ||
		  jm_json_quote(out, bo, strlen(bo)) || append_str(out, ", ") ||
		  append_key(out, JM_FIELD_CONTENT_TYPE) ||
		  jm_json_quote(out, content_type, strlen(content_type)) || append_str(out, ", ") ||
		  append_key(out, JM_FIELD_CONTENT_ENCODING) ||
		  jm_json_quote(out, content_encoding, strlen(content_encoding)) ||
		  append_str(out, ", ") || append_key(out, JM_FIELD_CONTENT_LENGTH) ||
		  append_str(out, num);
	if (!bad && extra && *extra)
		bad = append_str(out, ", ") || append_str(out, extra);
	if (!bad)
		bad = append_str(out, "}");
	size_t hlen = jm_buf_pending(out) - at - JM_SPEC_PROTOHEADER_SIZE;
	if (!bad && hlen > JM_SPEC_MAX_HEADER_LEN)
		bad = 1;
	if (!bad)
		bad = jm_buf_append(out, content, content_len);
	if (bad) {
		out->len = out->off + at;
		return -1;
	}
	out->data[out->off + at] = (uint8_t)(hlen >> 8);
	out->data[out->off + at + 1] = (uint8_t)hlen;
	return 0;
}
