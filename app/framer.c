/*
 * framer: any framing's messages behind one decoder and encoder (framer.h).
 */
#include "app/framer.h"

#include <stdio.h>
#include <string.h>

static int on_jmf(void *user, const jmf_event *ev)
{
	app_framer *fr = user;
	if (ev->type == JMF_EV_MESSAGE) {
		app_frame_msg m = {.payload = ev->payload, .len = ev->payload_len};
		return fr->on_msg(fr->user, &m);
	}
	if (ev->type == JMF_EV_ERROR) {
		fr->failed = true;
		fr->on_err(fr->user, jmf_error_id(ev->error), ev->detail);
		return JM_CB_STOP;
	}
	return JM_CB_OK;
}

static int jm_message(app_framer *fr, const jm_event *ev, const uint8_t *p, size_t n)
{
	app_frame_msg m = {.payload = p, .len = n,
			   .content_type = jm_header_str(ev->header, JM_FIELD_CONTENT_TYPE),
			   .content_encoding = jm_header_str(ev->header, JM_FIELD_CONTENT_ENCODING)};
	return fr->on_msg(fr->user, &m);
}

static int on_jm(void *user, const jm_event *ev)
{
	app_framer *fr = user;
	switch (ev->type) {
	case JM_EV_CONTENT: /* the whole content (not streamed), empty too */
		return jm_message(fr, ev, ev->data, ev->len);
	case JM_EV_ERROR:
		fr->failed = true;
		fr->on_err(fr->user, jm_error_id(ev->error), ev->detail);
		return JM_CB_STOP;
	default:
		return JM_CB_OK;
	}
}

void app_framer_init(app_framer *fr, const jmf_framing *f, uint64_t max_content,
		     app_framer_msg_cb on_msg, app_framer_err_cb on_err, void *user)
{
	memset(fr, 0, sizeof *fr);
	fr->f = *f;
	fr->jm = f->kind == JMF_JMSG;
	fr->on_msg = on_msg;
	fr->on_err = on_err;
	fr->user = user;
	if (fr->jm) {
		jm_decoder_config dc = {.max_content = max_content};
		jm_decoder_init(&fr->jd, &dc, on_jm, fr);
	} else {
		jmf_decoder_init(&fr->fd, f, on_jmf, fr);
	}
}

void app_framer_free(app_framer *fr)
{
	if (fr->jm)
		jm_decoder_free(&fr->jd);
	else
		jmf_decoder_free(&fr->fd);
}

void app_framer_feed(app_framer *fr, const uint8_t *p, size_t n)
{
	if (fr->failed)
		return;
	if (fr->jm)
		jm_decoder_feed(&fr->jd, p, n);
	else
		jmf_decoder_feed(&fr->fd, p, n);
}

void app_framer_finish(app_framer *fr)
{
	if (fr->failed)
		return;
	if (fr->jm ? !jm_decoder_failed(&fr->jd) : !jmf_decoder_failed(&fr->fd)) {
		if (fr->jm)
			jm_decoder_finish(&fr->jd);
		else
			jmf_decoder_finish(&fr->fd);
	}
}

bool app_framer_idle(const app_framer *fr)
{
	return fr->jm ? jm_decoder_idle(&fr->jd) : fr->fd.len == 0 && fr->fd.state == JMF_S_MSG;
}

int app_frame_encode(const jmf_framing *f, jm_buf *out, const void *payload, size_t len,
		     const char *content_type, const char *content_encoding, char *why, size_t n)
{
	if (f->kind == JMF_JMSG) {
		if (len > JM_SPEC_DEFAULT_MAX_CONTENT_LEN) {
			snprintf(why, n, "a payload of %zu bytes is over the jmsg content limit %llu",
				 len, (unsigned long long)JM_SPEC_DEFAULT_MAX_CONTENT_LEN);
			return -1;
		}
		int rc = jm_encode(out, content_type ? content_type : APP_FRAME_CONTENT_TYPE,
				   content_encoding ? content_encoding : APP_FRAME_CONTENT_ENCODING, NULL,
				   payload, len);
		if (rc < 0)
			snprintf(why, n, "the header would be over 65535 bytes, or out of memory");
		return rc < 0 ? -2 : 0;
	}
	jmf_enc_result r = jmf_encode(f, out, payload, len, why, n);
	return r == JMF_ENC_OK ? 0 : r == JMF_ENC_NO_MEMORY ? -2 : -1;
}
