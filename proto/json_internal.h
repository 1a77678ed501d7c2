/* Private to proto/: the JSON parser's state and the header scanner. */
#ifndef JM_PROTO_JSON_INTERNAL_H
#define JM_PROTO_JSON_INTERNAL_H

#include "jmsg.h"

typedef struct jm_jp {
	const char *s;
	size_t len;
	size_t pos;
	size_t err_at;
	const char *why;
	/* Also check that strings are UTF-8 (a failure then says
	 * "invalid UTF-8").  JSON puts every non-ASCII byte in a string, so
	 * a text that passes is all UTF-8: one pass instead of two.  A text
	 * that fails may have failed for either reason; callers that must
	 * tell which run jm_utf8_valid() first on that rare path. */
	bool utf8;
} jm_jp;

/* One JSON value at p->pos (after whitespace); pos ends after it. */
bool jm_jp_value(jm_jp *p, int depth, jm_json_type *type);
/* A string at p->pos (the opening quote). */
bool jm_jp_string(jm_jp *p, bool *escaped);

/* Undo the escapes of a validated string body; writes at most len bytes
 * plus a NUL.  Returns the length written (without the NUL). */
size_t jm_json_unescape(const char *s, size_t len, char *out);

typedef enum jm_scan_result {
	JM_SCAN_OK,
	JM_SCAN_NOT_JSON,
	JM_SCAN_NOT_OBJECT,
	JM_SCAN_NOMEM,
} jm_scan_result;

/* Scans a header object into its top-level members in one pass, checking
 * the whole text as it goes.  Keys with escapes are unescaped into `strs`
 * (an unescaped string is never longer than its escaped form, plus one NUL
 * each); the decoder sizes it at 2 * raw_len + 2, room for the keys and the
 * field values it unescapes after them. */
typedef struct jm_header_scan {
	const char *raw;
	size_t raw_len;
	jm_member *members;
	size_t n_members, members_cap;
	int (*grow)(struct jm_header_scan *sc); /* makes members_cap larger */
	void *owner;
	bool utf8;        /* check strings are UTF-8 too, as jm_jp.utf8 */
	bool full;        /* no quick path for the usual header (tests) */
	bool plain;       /* out: no string in it has an escape */
	char *strs;
	size_t strs_used;
	size_t err_at;
	const char *why;
} jm_header_scan;

jm_scan_result jm_scan_header(jm_header_scan *sc);

/* jm_json_valid() with jm_jp.utf8 set: true if `s` is valid JSON and
 * valid UTF-8; when false, neither why nor where is told. */
bool jm_json_valid_utf8(const char *s, size_t len);

/* The member's value as an int64 (it must be a JSON integer); false if it
 * does not fit. */
bool jm_member_int(const jm_member *m, int64_t *out);

#endif
