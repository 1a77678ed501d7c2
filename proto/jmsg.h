/*
 * jmsg codec: the length-prefixed JSON message protocol, sans I/O.
 *
 *   +-------------+------------------------+-----------------------+
 *   | protoheader | JSON header            | content               |
 *   | u16 BE = N  | N bytes, UTF-8 object  | content-length bytes  |
 *   +-------------+------------------------+-----------------------+
 *
 * The decoder never touches a socket or a file.  The caller feeds it bytes,
 * split anywhere, and receives events in stream order through one callback.
 * Feeding a stream one byte at a time or all at once gives the same events
 * (except CONTENT_CHUNK boundaries in streaming mode).  Every length read off
 * the wire is checked against the spec's limits and the caller's limit before
 * anything is allocated for it; the decoder holds at most one header
 * (<= 65535 bytes) plus one message's content (<= max_content) at a time.
 *
 * Field names, limits and error kinds come from spec/jmsg.json through the
 * generated jmsg_spec.h; nothing here spells them out again.
 */
#ifndef JM_PROTO_JMSG_H
#define JM_PROTO_JMSG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jmsg_spec.h"

/* ---------------------------------------------------------------- values */

/* JSON value types, as the header schema names them. */
typedef enum jm_json_type {
	JM_JSON_NONE = 0,
	JM_JSON_NULL,
	JM_JSON_BOOL,
	JM_JSON_INTEGER, /* a number with no fraction and no exponent */
	JM_JSON_NUMBER,  /* any other number */
	JM_JSON_STRING,
	JM_JSON_ARRAY,
	JM_JSON_OBJECT,
} jm_json_type;

/* One top-level member of a header object.  Spans point into the raw
 * header; they are valid for as long as the header is (see jm_header). */
typedef struct jm_member {
	const char *key;      /* raw key bytes, without quotes, escapes undone */
	size_t key_len;
	const char *value;    /* raw JSON text of the value */
	size_t value_len;
	jm_json_type type;
} jm_member;

/* A field the spec names (jm_field_id from jmsg_spec.h), as found. */
typedef struct jm_field {
	bool present;
	jm_json_type type;
	const char *str;      /* JSON_STRING: unescaped, NUL-terminated */
	size_t str_len;
	int64_t num;          /* JSON_INTEGER, when it fits */
	bool num_overflow;    /* JSON_INTEGER too large for int64 */
} jm_field;

/* A decoded JSON header.  Owned by the decoder: valid from the HEADER event
 * to the end of the MESSAGE (or ERROR) event of the same message. */
typedef struct jm_header {
	const char *raw;      /* the header bytes exactly as sent */
	size_t raw_len;
	jm_field field[JM_FIELD_COUNT];
	const jm_member *members; /* every top-level member, in order sent */
	size_t n_members;
	uint64_t content_length;  /* valid once the header passed validation */
	bool content_is_json;     /* dispatch: content to be parsed as JSON */
} jm_header;

/* Last member with this key (JSON's "last one wins", as Python does). */
const jm_member *jm_header_member(const jm_header *h, const char *key);
/* The string field by id, or NULL if absent or not a string. */
const char *jm_header_str(const jm_header *h, jm_field_id id);

/* ---------------------------------------------------------------- decoder */

typedef enum jm_event_type {
	JM_EV_PROTOHEADER,   /* .header_len known */
	JM_EV_HEADER,        /* .header parsed and valid */
	JM_EV_CONTENT_CHUNK, /* .data/.len: part of the content (streaming mode) */
	JM_EV_CONTENT,       /* .data/.len: the whole content (buffered mode) */
	JM_EV_MESSAGE,       /* message complete */
	JM_EV_ERROR,         /* .error, .detail, .can_continue */
} jm_event_type;

typedef struct jm_event {
	jm_event_type type;
	uint64_t msg_offset;      /* stream offset of the message's first byte */
	uint64_t offset;          /* stream offset the event is about */
	uint16_t header_len;      /* from PROTOHEADER on */
	const jm_header *header;  /* from HEADER on; NULL before or if invalid */
	const uint8_t *data;      /* CONTENT, CONTENT_CHUNK */
	size_t len;
	jm_error error;           /* ERROR */
	const char *detail;       /* ERROR: one human line, NUL-terminated */
	bool can_continue;        /* ERROR: the next message can still be found */
} jm_event;

/* Return JM_CB_OK to go on, JM_CB_STOP to stop decoding for good (the
 * caller is closing the stream): jm_decoder_feed() returns at once and
 * every later call consumes nothing. */
enum { JM_CB_OK = 0, JM_CB_STOP = 1 };
typedef int (*jm_event_cb)(void *user, const jm_event *ev);

/*
 * Event order for one message:
 *   PROTOHEADER, HEADER, (CONTENT | CONTENT_CHUNK...), MESSAGE
 * An ERROR ends its message: no MESSAGE follows it, except for errors of
 * severity "warning" (content_encoding_unsupported), after which the
 * message goes on with its content treated as bytes.  When .can_continue
 * is true the decoder skips the rest of the bad message and decodes the
 * next one; otherwise framing is lost and the decoder has failed.
 * For content errors, ERROR carries the content in .data/.len.
 * When memory runs out (the header, its members, a content held across
 * feeds), ERROR is JM_ERR_OUT_OF_MEMORY and framing is lost.
 */

/* The decoder's memory: as realloc(p, size) (NULL when there is none to
 * have, p kept), except that size 0 frees p and returns NULL. */
typedef void *(*jm_alloc_fn)(void *ctx, void *p, size_t size);

typedef struct jm_decoder_config {
	uint64_t max_content;     /* 0: JM_SPEC_DEFAULT_MAX_CONTENT_LEN */
	bool stream_content;      /* non-JSON content as CONTENT_CHUNK events,
	                             never buffered; JSON content is always
	                             buffered to be validated */
	bool no_content_check;    /* skip UTF-8/JSON validation of content */
	jm_alloc_fn alloc;        /* NULL: realloc and free; a caller's own
	                             (a memory budget, a test's failures) */
	void *alloc_ctx;          /* its first argument */
} jm_decoder_config;

typedef enum jm_dec_state {
	JM_DS_PROTOHEADER,
	JM_DS_HEADER,
	JM_DS_CONTENT,
	JM_DS_SKIP,      /* rest of a bad message: counted, not kept */
	JM_DS_FAILED,    /* framing lost; only jm_decoder_reset() helps */
	JM_DS_STOPPED,   /* a callback returned JM_CB_STOP */
} jm_dec_state;

/* One decoder per direction of one stream.  No globals; the struct may be
 * embedded anywhere.  Fields are private to proto/. */
typedef struct jm_decoder {
	jm_decoder_config cfg;
	jm_event_cb cb;
	void *user;
	jm_dec_state state;
	uint64_t offset;          /* stream offset of the next byte fed */
	uint64_t msg_offset;
	uint16_t header_len;
	uint64_t need;            /* bytes still wanted in this state */
	uint8_t ph[2];
	uint8_t *hbuf;            /* the header, always copied (<= 65535) */
	size_t hbuf_len, hbuf_cap;
	uint8_t *buf;             /* content spanning several feeds */
	size_t buf_len, buf_cap;
	jm_header hdr;
	bool hdr_valid;
	jm_member *members;
	size_t members_cap;
	char *strs;               /* unescaped field strings */
	size_t strs_cap;
	char detail[160];
	uint64_t messages;        /* completed messages */
} jm_decoder;

void jm_decoder_init(jm_decoder *d, const jm_decoder_config *cfg,
		     jm_event_cb cb, void *user);
void jm_decoder_free(jm_decoder *d);

/* The buffers a decoder keeps from message to message (the header, its
 * member table, its unescaped strings), handed on from a decoder that is
 * done to the next one, so a program that decodes many short streams (the
 * analyzer) does not allocate them for each.  Start it zeroed; the fields
 * are private to proto/, like the decoder's. */
typedef struct jm_decoder_spare {
	uint8_t *hbuf;
	size_t hbuf_cap;
	jm_member *members;
	size_t members_cap;
	char *strs;
	size_t strs_cap;
	jm_alloc_fn alloc;        /* the allocator they came from */
	void *alloc_ctx;
} jm_decoder_spare;

/* jm_decoder_free(), except that the header buffers go to *sp, whose own
 * are freed first. */
void jm_decoder_free_spare(jm_decoder *d, jm_decoder_spare *sp);
/* jm_decoder_init(), then the decoder takes the buffers of *sp (which is
 * left empty); buffers of another allocator than cfg's are freed instead. */
void jm_decoder_init_spare(jm_decoder *d, const jm_decoder_config *cfg, jm_event_cb cb,
			   void *user, jm_decoder_spare *sp);
/* Bytes the spare holds. */
size_t jm_decoder_spare_bytes(const jm_decoder_spare *sp);
void jm_decoder_spare_free(jm_decoder_spare *sp);

/* Forget any partial message and expect a message to start at stream
 * offset `offset` (after a gap, or to resynchronise). */
void jm_decoder_reset(jm_decoder *d, uint64_t offset);

/* Feed bytes.  Returns the number consumed: `len`, unless framing was lost
 * or a callback stopped the decoder, in which case it returns how far it
 * got, and 0 on every later call. */
size_t jm_decoder_feed(jm_decoder *d, const uint8_t *buf, size_t len);

/* End of stream.  Reports JM_ERR_TRUNCATED if it ends inside a message.
 * Returns true if the stream ended cleanly at a message boundary. */
bool jm_decoder_finish(jm_decoder *d);

static inline bool jm_decoder_failed(const jm_decoder *d)
{
	return d->state == JM_DS_FAILED || d->state == JM_DS_STOPPED;
}
/* True between messages (nothing partial held). */
static inline bool jm_decoder_idle(const jm_decoder *d)
{
	return d->state == JM_DS_PROTOHEADER && d->need == 2;
}

/* The decoder's content check, for callers that decode with
 * no_content_check and check only some content themselves (a server that
 * caches answers): JSON content must be UTF-8 and JSON.  Returns
 * JM_ERR_NONE, or the error with *err_at (offset in the content) and a
 * one-line detail in detail[n], exactly as the decoder would report it. */
jm_error jm_check_content(const jm_header *h, const uint8_t *data, size_t len, size_t *err_at,
			  char *detail, size_t n);

/* Where a message might start in `buf`: the first position p with a
 * plausible protoheader (2..65535) followed by '{' and then '"' or
 * whitespace, whose header is a JSON object (or, if `buf` ends inside it,
 * the start of one), so a stream picked up in the middle or after a gap
 * can be resynchronised.  Returns len if there is none. */
size_t jm_find_boundary(const uint8_t *buf, size_t len);

/* Does a byte stream start with a message of this protocol?  The rule
 * the Wireshark dissector's heuristic applies (dissector/jmsg.lua.in,
 * looks_like): a protoheader giving a header length of at least the
 * spec's minimum, then that many bytes that are a UTF-8 JSON object,
 * starting with '{', with every key the spec marks required (their
 * values are not checked: a bad one is the decoder's to report).
 * Returns 1 yes (*header_len set, if not NULL), 0 no, -1 cannot tell
 * yet: more bytes are needed.  A prefix is refuted as soon as it can be:
 * a first header byte that is not '{', or a control byte JSON cannot
 * hold, says no before the whole header has come. */
int jm_sniff(const uint8_t *p, size_t len, uint16_t *header_len);

/* Is `s` a JSON object (strings checked for UTF-8)?  Then found[i] says
 * whether keys[i] is one of its top-level keys (escapes in keys undone
 * for keys up to 63 bytes). */
bool jm_json_object_has(const char *s, size_t len, const char *const *keys, size_t n,
			bool *found);

/* ---------------------------------------------------------------- encoder */

/* A growable byte buffer (output queues, encoded messages). */
typedef struct jm_buf {
	uint8_t *data;
	size_t len, cap;
	size_t off;               /* bytes already consumed from the front */
} jm_buf;

int jm_buf_reserve(jm_buf *b, size_t extra);              /* 0 or -1 */
int jm_buf_append(jm_buf *b, const void *p, size_t n);    /* 0 or -1 */
void jm_buf_consume(jm_buf *b, size_t n);
/* Append printf-formatted text (no NUL): all of it, however long (the
 * buffer grows to fit), or nothing.  Returns 0, or -1 with `b` holding what
 * it held if the format fails (vsnprintf < 0, e.g. a %ls that is not valid
 * in the locale) or memory runs out.  No argument may point into `b`: it
 * may move. */
int jm_buf_printf(jm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int jm_buf_vprintf(jm_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static inline size_t jm_buf_pending(const jm_buf *b) { return b->len - b->off; }
/* An empty buffer that never held anything has no data: NULL, not
 * NULL + 0 (undefined behaviour, which UBSan reports). */
static inline const uint8_t *jm_buf_head(const jm_buf *b)
{
	return b->data ? b->data + b->off : b->data;
}
void jm_buf_free(jm_buf *b);

/* The machine's byte order as the header names it ("little" or "big"). */
const char *jm_host_byteorder(void);

/* Append one complete message to `out`: protoheader, a header with the four
 * required fields in the tutorial's order and separators
 *   {"byteorder": "little", "content-type": T, "content-encoding": E,
 *    "content-length": N}
 * followed by `extra` members (raw JSON text such as
 * "\"connection\": \"keep-alive\"", or NULL), then the content.
 * Returns 0, or -1 if the header would exceed 65535 bytes or memory ran out
 * (out is left as it was). */
int jm_encode(jm_buf *out, const char *content_type,
	      const char *content_encoding, const char *extra,
	      const void *content, size_t content_len);

/* ---------------------------------------------------------------- JSON */

/* Strict RFC 8259 check of one JSON text (whitespace around allowed),
 * nesting at most JM_SPEC_MAX_JSON_DEPTH.  Returns true if valid; otherwise
 * *err_at is the offset of the offending byte and *why says what is wrong. */
bool jm_json_valid(const char *s, size_t len, size_t *err_at, const char **why);

/* UTF-8 check (no overlongs, no surrogates, <= U+10FFFF).  Returns true if
 * valid; otherwise *err_at is the offset of the first bad byte. */
bool jm_utf8_valid(const uint8_t *s, size_t len, size_t *err_at);

/* Append `s` as a JSON string literal (quotes included) to `out`. Non-ASCII
 * UTF-8 is kept raw; control characters and invalid bytes are escaped
 * (\u00XX) so the result is always valid JSON.  Returns 0, or -1 with nothing
 * appended when out of memory or when len > (SIZE_MAX - 2) / 6 (room for the
 * worst case, 6 bytes a byte, cannot be computed: then nothing is reserved
 * and `s` is not read). */
int jm_json_quote(jm_buf *out, const void *s, size_t len);
/* The inside of that literal, for writers with a buffer of their own:
 * escapes s[0..len) into dst while at least 6 bytes of room are left (one
 * \u00XX), returns the bytes written and sets *used to the bytes of s
 * consumed (len when all of it fit).  6 bytes of room a byte always fit. */
size_t jm_json_escape(char *dst, size_t room, const void *s, size_t len, size_t *used);

/* Append the JSON text `s` (assumed valid) with insignificant whitespace
 * removed. */
int jm_json_compact(jm_buf *out, const char *s, size_t len);

/* ---------------------------------------------------------------- spec */

const char *jm_error_id(jm_error e);        /* "header_not_json" */
const char *jm_error_text(jm_error e);      /* the spec's one-line text */
const char *jm_error_severity(jm_error e);  /* "error", "warning", "note" */
jm_error jm_error_from_id(const char *id);  /* JM_ERR_NONE if unknown */

#endif
