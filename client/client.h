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
} cli_config;


int cli_request(const cli_config *cfg);
int cli_load(const cli_config *cfg);
int cli_flood(const cli_config *cfg);

#endif
