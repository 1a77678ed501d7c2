/*
 * chat: one message at a time over a blocking socket, in any framing but
 * jmsg (framing.h): what the chat programs (`jmsg client --interactive`,
 * `jmsg server --interactive`) send and wait for.
 *
 * A raw message is what one recv() returns, as the tutorialspoint chat's
 * recv(1024) sees it (up to APP_CHAT_RAW_READ bytes).  A framed one is what
 * the framing's decoder reports; close's one message ends at the peer's FIN.
 * Errors are values: a kind and one line in `err`, in a user's words.
 */
#ifndef JM_APP_CHAT_H
#define JM_APP_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/framer.h"
#include "framing_codec.h"
#include "jmsg.h"

#define APP_CHAT_RAW_READ 65536

typedef enum app_chat_status {
	APP_CHAT_MESSAGE = 1,  /* a message in msg */
	APP_CHAT_CLOSED = 0,   /* the peer closed between messages */
	APP_CHAT_TIMEOUT = -1, /* nothing whole within the timeout */
	APP_CHAT_RESET = -2,   /* reset, or another socket error */
	APP_CHAT_FRAMING = -3, /* the bytes are not a message in the framing,
	                          or the peer closed inside one */
	APP_CHAT_NOMEM = -4,
} app_chat_status;

typedef struct app_chat {
	int fd;
	jmf_framing f;
	app_framer dec;       /* not raw */
	jm_buf queue;         /* decoded messages not yet returned: u32 length, bytes */
	jm_buf msg;           /* the message app_chat_recv returned */
	bool eof;             /* the peer's FIN was read */
	bool failed;          /* a framing error: nothing more is read */
	bool nomem;
	char err[320];
} app_chat;

void app_chat_init(app_chat *c, int fd, const jmf_framing *f);
void app_chat_free(app_chat *c);

/* The next message, waiting up to timeout_ms (0: for ever).  Returns an
 * app_chat_status; below 0, err says what happened. */
int app_chat_recv(app_chat *c, uint64_t timeout_ms);

/* Frame `len` bytes and send them all.  Returns 0; -1 with err when the
 * framing cannot carry the payload (nothing sent: the caller may ask for
 * another); -2 with err when sending failed (the connection is gone). */
int app_chat_send(app_chat *c, const void *p, size_t len);

/* --framing NAME|FILE for the echo and chat modes (NULL: raw) into *f.
 * Returns 0, or -1 after lines on stderr that start "jmsg CMD: --framing":
 * an unknown name, or a framing file with mistakes. */
int app_chat_framing(jmf_framing *f, const char *cmd, const char *arg);

/* Python's repr() of the peer's address, ('127.0.0.1', 51234), as the
 * tutorials print it. */
void app_chat_peer_tuple(const char *host_port, char *out, size_t n);

#endif
