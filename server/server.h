/*
 * server: the reference server's connection handling (`jmsg server`).
 *
 * One epoll loop (evloop.h), non-blocking sockets, one struct per
 * connection holding its decoder, its unprocessed input and its output
 * queue.  A request is answered by answer.h as soon as the decoder reports
 * it; responses to pipelined requests are queued in order and written in
 * one send() where they fit.  Reading pauses while a connection's output
 * queue is over SRV_OUT_HIGH, so a client that pipelines without reading
 * costs bounded memory.
 *
 * Closing follows the tutorial: after the response the server closes,
 * unless the request carried "connection": "keep-alive".  When the peer
 * may still be sending (an error response, unread pipelined bytes), the
 * server half-closes and drains for a short linger time first, so the
 * response is not destroyed by a TCP reset.
 */
#ifndef JM_SERVER_SERVER_H
#define JM_SERVER_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "app/answer.h"
#include "cmd/exit.h"

#define SRV_DEFAULT_MAX_CONTENT (1u << 20)
#define SRV_DEFAULT_MAX_CONNS 1024
/* Largest --search-table file: it is held parsed, several times its size. */
#define SRV_DEFAULT_MAX_TABLE (64u << 20)
#define SRV_DEFAULT_IDLE_MS 30000
/* A request must be whole this long after its first byte, however steadily
 * its bytes trickle in: the idle timeout alone lets a client that sends one
 * byte a second hold a connection and 64 KiB for most of a day. */
#define SRV_DEFAULT_REQUEST_MS 60000
/* Output queued beyond this pauses reading from that connection. */
#define SRV_OUT_HIGH (256u * 1024)
/* How long a closing connection is drained before it is closed anyway. */
#define SRV_LINGER_MS 2000
/* How long SIGINT/SIGTERM waits for in-flight responses to be written. */
#define SRV_STOP_GRACE_MS 5000
/* Error id sent to connections beyond --max-conns. */
#define SRV_ERR_BUSY "server_busy"

typedef enum srv_mode {
	SRV_MODE_APP,          /* the tutorial's application server */
	SRV_MODE_ECHO,         /* --echo: echo.c */
	SRV_MODE_INTERACTIVE,  /* --interactive: chat.c */
} srv_mode;

typedef struct srv_config {
	srv_mode mode;
	const char *framing;   /* --framing NAME|FILE as given; NULL: raw */
	const char *host;
	const char *port;
	const char *port_file;
	const char *table_file;
	uint64_t max_content;
	uint64_t max_table;
	unsigned max_conns;
	uint64_t idle_ms;   /* 0: never */
	uint64_t request_ms; /* whole-request deadline; 0: never */
	bool no_read;
	int verbosity;      /* 0 quiet, 1 normal, 2 bytes */
} srv_config;

/* Run the server until SIGINT or SIGTERM.  Returns the process exit code:
 * JM_EXIT_OK after a clean stop, JM_EXIT_RUNTIME if it could not start. */
int srv_run(const srv_config *cfg);

struct jmf_framing;
/* --echo (echo.c): echo.c's header comment says what it does.  Same exit
 * codes as srv_run. */
int srv_run_echo(const srv_config *cfg, const struct jmf_framing *f);
/* --interactive (chat.c): one connection at a time, each message answered
 * with a line of standard input.  0 when standard input ends, 1 if it
 * could not start. */
int srv_run_chat(const srv_config *cfg, const struct jmf_framing *f);
/* The listening socket of every mode: cfg's host and port, its address
 * in where[n], --port-file written (atomically, a temporary file
 * renamed).  The socket, or -1 after a line on stderr. */
int srv_listen(const srv_config *cfg, int backlog, char *where, size_t n);

#endif
