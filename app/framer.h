/*
 * framer: any framing's messages, jmsg included, behind one decoder and one
 * encoder, for the echo and chat programs.
 *
 * jmsg is decoded by jm_decoder (jmsg.h), the others by jmf_decoder
 * (framing_codec.h); either way the caller sees each whole message's
 * payload, and for jmsg the header's content-type and content-encoding, so
 * that an echo can frame it again as it came.  raw is not decoded here: a
 * raw message is what one read returns, the caller's own business.
 */
#ifndef JM_APP_FRAMER_H
#define JM_APP_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "framing_codec.h"
#include "jmsg.h"

/* What a jmsg message a person types is sent as. */
#define APP_FRAME_CONTENT_TYPE "text/plain"
#define APP_FRAME_CONTENT_ENCODING "utf-8"

typedef struct app_frame_msg {
	const uint8_t *payload;       /* valid during the callback only */
	size_t len;
	const char *content_type;     /* jmsg: the header's; else NULL */
	const char *content_encoding;
} app_frame_msg;

/* Return JM_CB_OK to go on, JM_CB_STOP to stop decoding for good. */
typedef int (*app_framer_msg_cb)(void *user, const app_frame_msg *m);
/* An error: `id` the spec's ("length_not_digit", "header_not_json"),
 * `detail` one line.  Decoding stops after it. */
typedef void (*app_framer_err_cb)(void *user, const char *id, const char *detail);

typedef struct app_framer {
	jmf_framing f;
	bool jm;                  /* f is jmsg: jd, else fd */
	jmf_decoder fd;
	jm_decoder jd;
	bool failed;
	app_framer_msg_cb on_msg;
	app_framer_err_cb on_err;
	void *user;
} app_framer;

/* f must not be raw.  max_content bounds a jmsg message's content (0: the
 * spec's default); the other framings' files name their own limit. */
void app_framer_init(app_framer *fr, const jmf_framing *f, uint64_t max_content,
		     app_framer_msg_cb on_msg, app_framer_err_cb on_err, void *user);
void app_framer_free(app_framer *fr);
void app_framer_feed(app_framer *fr, const uint8_t *p, size_t n);
/* The peer's FIN: close's message, or an error for a message cut short. */
void app_framer_finish(app_framer *fr);
/* Nothing of a message is held. */
bool app_framer_idle(const app_framer *fr);

/* Append `payload` framed by f to out.  For jmsg the header names
 * content_type and content_encoding (NULL: APP_FRAME_CONTENT_TYPE and
 * APP_FRAME_CONTENT_ENCODING).  Returns 0; -1 when f cannot carry it (out
 * unchanged, the reason in why[n]); -2 out of memory. */
int app_frame_encode(const jmf_framing *f, jm_buf *out, const void *payload, size_t len,
		     const char *content_type, const char *content_encoding, char *why, size_t n);

#endif
