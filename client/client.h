/*
 * client: the reference client's three modes behind `jmsg client`.
 *
 *   one request   cli_request()  the tutorial's app-client.py
 *   --load        cli_load()     C connections on one event loop, latency
 *                                histogram, requests/s
 *   --flood       cli_flood()    the tutorial's app-client-test: send
 *                                without reading until send() would block
 *
 * Exit codes are shared by all modes: cmd/exit.h (documented in --help).
 */
#ifndef JM_CLIENT_CLIENT_H
#define JM_CLIENT_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/exit.h"
#include "jmsg.h"

typedef enum cli_mode {
	CLI_MODE_REQUEST,        /* one request: cli_request() */
	CLI_MODE_LOAD,           /* --load: cli_load() */
	CLI_MODE_FLOOD,          /* --flood: cli_flood() */
	CLI_MODE_ECHO,           /* --echo: cli_echo() */
	CLI_MODE_INTERACTIVE,    /* --interactive: cli_chat() */
} cli_mode;

typedef struct cli_config {
	cli_mode mode;
	const char *host;
	const char *port;
	const char *action;
	const char *value;
	uint64_t timeout_ms;
	int verbosity;           /* 0 quiet, 1 normal, 2 bytes */
	bool keep_alive;
	/* --load */
	unsigned conns;
	uint64_t requests;       /* 0: run for duration_ms */
	uint64_t duration_ms;
	unsigned pipeline;       /* with rate: the in-flight limit per connection */
	uint64_t rate;           /* requests per second, open loop; 0: closed loop */
	bool json;
	uint64_t max_content;
	/* --echo, --interactive */
	const char *framing;     /* --framing NAME|FILE as given; NULL: raw */
	char **messages;         /* --echo's MESSAGE words (into argv) */
	int nmessages;
} cli_config;

/* The tutorial's multiconn-client.py messages, sent when --echo is given none. */
#define CLI_ECHO_MESSAGE_1 "Message 1 from client."
#define CLI_ECHO_MESSAGE_2 "Message 2 from client."


int cli_request(const cli_config *cfg);
int cli_load(const cli_config *cfg);
int cli_flood(const cli_config *cfg);
struct jmf_framing;
/* --echo (echo.c) and --interactive (chat.c), in framing f (not jmsg). */
int cli_echo(const cli_config *cfg, const struct jmf_framing *f);
int cli_chat(const cli_config *cfg, const struct jmf_framing *f);

#endif
