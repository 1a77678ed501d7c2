/*
 * srv_decode: decode a byte stream of messages with the codec and print one
 * line per message, so shell tests can check responses:
 *
 *   text/json {"result": "Follow the white rabbit. 🐰"}
 *   binary/custom-server-binary-type b'First 10 bytes of request: binary\xe2\x98\xba'
 *   ERROR truncated
 *
 * JSON content is printed as sent; other content as Python's bytes repr.
 * A last line "header KEY VALUE" is printed for each header member asked
 * for with -k KEY.  Exit 0 if the stream ended cleanly, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jmsg.h"
#include "app/answer.h"

static const char *want_key;

static int on_event(void *user, const jm_event *ev)
{
	jm_buf *b = user;
	switch (ev->type) {
	case JM_EV_HEADER:
		b->len = b->off = 0;
		if (want_key) {
			const jm_member *m = jm_header_member(ev->header, want_key);
			printf("header %s %.*s\n", want_key, m ? (int)m->value_len : 4, m ? m->value : "none");
		}
		break;
	case JM_EV_CONTENT:
	case JM_EV_CONTENT_CHUNK:
		jm_buf_append(b, ev->data, ev->len);
		break;
	case JM_EV_MESSAGE: {
		const char *ct = jm_header_str(ev->header, JM_FIELD_CONTENT_TYPE);
		if (ev->header->content_is_json) {
			printf("%s %.*s\n", ct, (int)jm_buf_pending(b), (const char *)jm_buf_head(b));
		} else {
			jm_buf r = {0};
			app_bytes_repr(&r, jm_buf_head(b), jm_buf_pending(b));
			printf("%s %.*s\n", ct, (int)jm_buf_pending(&r), (const char *)jm_buf_head(&r));
			jm_buf_free(&r);
		}
		break;
	}
	case JM_EV_ERROR:
		printf("ERROR %s\n", jm_error_id(ev->error));
		break;
	default:
		break;
	}
	return JM_CB_OK;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "-k"))
		want_key = argv[2];
	jm_buf content = {0};
	jm_decoder d;
	jm_decoder_init(&d, NULL, on_event, &content);
	uint8_t buf[65536];
	ssize_t n;
	while ((n = read(0, buf, sizeof buf)) > 0)
		jm_decoder_feed(&d, buf, (size_t)n);
	bool clean = jm_decoder_finish(&d);
	jm_decoder_free(&d);
	jm_buf_free(&content);
	return clean ? 0 : 1;
}
