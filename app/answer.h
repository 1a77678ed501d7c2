/*
 * answer: what the reference server says to one request, as bytes.
 *
 * This is the tutorial's libserver.py reduced to pure functions: a request
 * goes in (its decoded JSON content, or the first bytes of binary content),
 * a complete response message is appended to an output buffer.  No sockets,
 * so unit tests hold the bytes against the tutorial's.
 *
 *   text/json {"action": "search", "value": V}
 *       -> text/json {"result": R}, R from the search table, or
 *          "No match for 'V'." when V is not in it
 *   text/json {"action": A, ...} with A != "search"
 *       -> text/json {"result": "Error: invalid action 'A'."}
 *   any other content-type
 *       -> binary/custom-server-binary-type, encoding binary,
 *          "First 10 bytes of request: " + the first 10 content bytes
 *
 * JSON text is written the way Python's json.dumps(..., ensure_ascii=False)
 * writes it (", " and ": " separators, non-ASCII raw), so a response is
 * byte for byte what the tutorial's server sends.
 *
 * Requests the codec accepts but the server cannot act on (JSON content that
 * is not an object, "action" missing or not a string, a search "value" that
 * is not a string) are answered with the error response
 *   {"error": "bad_request", "detail": "..."}
 * and the connection is closed, exactly as for a request the codec rejects
 * (there the error is the spec's error id).
 */
#ifndef JM_APP_ANSWER_H
#define JM_APP_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jmsg.h"

struct json_object;
struct json_tokener;

/* The tutorial's wire constants for binary messages, and the value of the
 * keep-alive header member (its key is JM_FIELD_CONNECTION's). */
#define APP_BINARY_REQUEST_TYPE "binary/custom-client-binary-type"
#define APP_BINARY_RESPONSE_TYPE "binary/custom-server-binary-type"
#define APP_BINARY_ENCODING "binary"
#define APP_BINARY_PREFIX "First 10 bytes of request: "
#define APP_BINARY_ECHO 10
#define APP_KEEP_ALIVE "keep-alive"
#define APP_SEARCH_ACTION "search"
/* The server's own error id, beside the spec's codec error ids. */
#define APP_ERR_BAD_REQUEST "bad_request"

/* value -> result. */
typedef struct app_table {
	struct json_object *obj;
} app_table;

/* The tutorial's table (morpheus, ring, the puppy). */
int app_table_default(app_table *t);
/* A JSON object of string -> string from a file of at most `max_bytes`
 * (more is refused without being read: a search table is held parsed, so
 * a huge or endless file must not be read into memory).  Keys must not
 * hold NUL (\u0000): json-c would cut them short.  -1 with `err` filled. */
int app_table_load(app_table *t, const char *path, uint64_t max_bytes, char *err, size_t errlen);
void app_table_free(app_table *t);
/* The result for `value`, or NULL. */
const char *app_table_lookup(const app_table *t, const char *value, size_t len, size_t *res_len);

/* `"connection": "keep-alive"` as a header member for jm_encode's extra. */
const char *app_keep_alive_member(void);

/* Append the response to a text/json request whose content is `content`.
 * `tok` is a reusable json-c tokener.  Returns 0 for an answer, 1 for a
 * bad_request error response (the caller closes), -1 if out of memory.
 * `extra` is passed to jm_encode (NULL or the keep-alive member). */
int app_answer_json(jm_buf *out, const app_table *t, struct json_tokener *tok,
		    const uint8_t *content, size_t len, const char *extra);

/* Append the binary response for a request whose content starts with
 * `first` (at most APP_BINARY_ECHO bytes are used). */
int app_answer_binary(jm_buf *out, const uint8_t *first, size_t n, const char *extra);

/* Append {"error": kind, "detail": detail} as text/json. */
int app_answer_error(jm_buf *out, const char *kind, const char *detail);

/* Append `s` as a JSON string the way Python's json.dumps with
 * ensure_ascii=False does: \" \\ \n \r \t \b \f, other controls as \u00XX,
 * everything else raw. */
int app_json_str(jm_buf *out, const char *s, size_t len);

/* Free the scratch buffers the answer functions keep between calls. */
void app_answer_cleanup(void);

/* Append Python's repr() of a bytes object (b'...') for -v logging. */
int app_bytes_repr(jm_buf *out, const uint8_t *p, size_t n);

#endif
