/*
 * The framing codec: a streaming decoder per direction and an encoder for
 * the framings of framing.h.  Error kinds and their ids come from
 * spec/jmsg.json's "framing_errors" through the generated jmsg_spec.h.
 */
#ifndef JM_PROTO_FRAMING_CODEC_H
#define JM_PROTO_FRAMING_CODEC_H

#include "framing.h"
#include "jmsg_spec.h"

/* ---------------------------------------------------------------- decoder */

typedef enum jmf_event_type {
	JMF_EV_MESSAGE, /* .offset, .length (on the wire), .payload/.payload_len */
	JMF_EV_ERROR,   /* .error, .offset, .msg_offset, .detail, .can_continue */
	JMF_EV_RESYNC,  /* decoding resumes at .offset; .length bytes were skipped
	                   since the gap or the error that lost the framing */
} jmf_event_type;

typedef struct jmf_event {
	jmf_event_type type;
	uint64_t offset;          /* direction offset the event is about */
	uint64_t msg_offset;      /* ERROR: the first byte of the message it ends */
	uint64_t length;
	const uint8_t *payload;   /* MESSAGE: valid during the callback only */
	size_t payload_len;
	jm_framing_error error;
	const char *detail;       /* ERROR: one human line */
	bool can_continue;        /* ERROR: later messages will still be found */
} jmf_event;

/* Return JM_CB_OK (0) to go on, JM_CB_STOP (1) to stop for good. */
typedef int (*jmf_event_cb)(void *user, const jmf_event *ev);

typedef enum jmf_state {
	JMF_S_MSG,      /* collecting a message in buf */
	JMF_S_SKIP,     /* skipping `need` bytes, then a message starts */
	JMF_S_HUNT,     /* looking for the next boundary (delimiter, other side) */
	JMF_S_FAILED,   /* framing lost for the rest of the direction */
	JMF_S_STOPPED,  /* a callback returned JM_CB_STOP */
} jmf_state;

/* One decoder per direction.  Fields are private to proto/. */
typedef struct jmf_decoder {
	jmf_framing f;
	jmf_event_cb cb;
	void *user;
	jmf_state state;
	uint64_t offset;          /* offset of the next byte fed */
	uint64_t msg_offset;      /* first byte of the message in buf */
	uint64_t need;            /* SKIP: bytes left; length_prefix: payload length */
	uint64_t lost_at;         /* where skipping or hunting began */
	bool resync;              /* SKIP: report RESYNC when it ends */
	uint8_t *buf;
	size_t len, cap;
	char detail[200];
} jmf_decoder;

/* Starts a direction at offset 0.  A framing of kind jmsg is not decoded
 * here (returns -1: use jm_decoder); 0 otherwise. */
int jmf_decoder_init(jmf_decoder *d, const jmf_framing *f, jmf_event_cb cb, void *user);
void jmf_decoder_free(jmf_decoder *d);

/* Feed bytes, split anywhere: the events do not depend on the split.
 * Returns the number consumed: len, unless the framing was lost or a
 * callback stopped the decoder. */
size_t jmf_decoder_feed(jmf_decoder *d, const uint8_t *p, size_t len);

/* `n` bytes at the current offset are missing (n = 0: the bytes before are
 * unknown, a direction picked up midstream).  A partial message is dropped
 * silently (the caller reports the gap).  Then:
 *   fixed      skips to the next multiple of size counted from offset 0,
 *              then RESYNC;
 *   delimited  skips past the next delimiter, then RESYNC;
 *   raw        skips to the other side's next turn, then RESYNC;
 *   length_prefix, close: ERROR no_resync; the direction is not decoded
 *              further (a length prefix cannot be told from payload digits,
 *              and close's one message has a hole).
 */
void jmf_decoder_gap(jmf_decoder *d, uint64_t n);

/* The other side sent: for raw, the message so far ends here (or hunting
 * ends); nothing for the other kinds. */
void jmf_decoder_boundary(jmf_decoder *d);

/* The direction ended (FIN, reset or end of capture).  close and raw emit
 * their last message; the others report a message cut short
 * (truncated_prefix, truncated_payload, truncated_fixed,
 * truncated_delimited).  Returns true if the direction ended cleanly
 * between messages. */
bool jmf_decoder_finish(jmf_decoder *d);

static inline bool jmf_decoder_failed(const jmf_decoder *d)
{
	return d->state == JMF_S_FAILED || d->state == JMF_S_STOPPED;
}

const char *jmf_error_id(jm_framing_error e);    /* "length_not_digit" */
const char *jmf_error_text(jm_framing_error e);

/* ---------------------------------------------------------------- encoder */

typedef enum jmf_enc_result {
	JMF_ENC_OK = 0,
	JMF_ENC_TOO_LONG,      /* over size, max_payload or what the width can say */
	JMF_ENC_HAS_DELIMITER, /* the delimiter would end the message early */
	JMF_ENC_ENDS_WITH_PAD, /* fixed: the receiver would strip it */
	JMF_ENC_EMPTY,         /* close, raw: no bytes is no message */
	JMF_ENC_NOT_FRAMING,   /* jmsg: use jm_encode */
	JMF_ENC_NO_MEMORY,
} jmf_enc_result;

struct jm_buf;
/* Appends one framed message carrying `payload` to `out` (unchanged on
 * failure, with a one-line reason in why[n] when `why` is not NULL).  For
 * close and raw the message is the payload itself; ending it (shutdown, or
 * waiting for the other side) is the caller's. */
jmf_enc_result jmf_encode(const jmf_framing *f, struct jm_buf *out, const void *payload,
			  size_t len, char *why, size_t n);

#endif
