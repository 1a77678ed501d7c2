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
	char *strs;
	size_t strs_used;
	size_t err_at;
	const char *why;
} jm_header_scan;

jm_scan_result jm_scan_header(jm_header_scan *sc);

/* The member's value as an int64 (it must be a JSON integer); false if it
 * does not fit. */
bool jm_member_int(const jm_member *m, int64_t *out);

#endif
