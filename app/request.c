/*
 * request: the bytes of the tutorial client's request; see request.h.
 */
#include <string.h>

#include "app/answer.h"
#include "app/request.h"

int app_build_request(jm_buf *out, const char *action, const char *value, bool keep_alive)
{
	const char *extra = keep_alive ? app_keep_alive_member() : NULL;
	jm_buf c = {0};
	int rc;
	if (!strcmp(action, APP_SEARCH_ACTION)) {
		/* json.dumps({"action": "search", "value": V}, ensure_ascii=False) */
		rc = jm_buf_append(&c, "{\"action\": ", 11) < 0 ||
		     app_json_str(&c, action, strlen(action)) < 0 ||
		     jm_buf_append(&c, ", \"value\": ", 11) < 0 ||
		     app_json_str(&c, value, strlen(value)) < 0 || jm_buf_append(&c, "}", 1) < 0
			     ? -1
			     : jm_encode(out, JM_SPEC_JSON_CONTENT_TYPE, jm_json_encodings[0], extra,
					 jm_buf_head(&c), jm_buf_pending(&c));
	} else {
		rc = jm_buf_append(&c, action, strlen(action)) < 0 ||
		     jm_buf_append(&c, value, strlen(value)) < 0
			     ? -1
			     : jm_encode(out, APP_BINARY_REQUEST_TYPE, APP_BINARY_ENCODING, extra,
					 jm_buf_head(&c), jm_buf_pending(&c));
	}
	jm_buf_free(&c);
	return rc;
}
