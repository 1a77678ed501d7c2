/*
 * client: the reference client's three modes behind `jmsg client`.
 *
 *   one request   cli_request()  the tutorial's app-client.py
 *   --load        cli_load()     C connections on one event loop, latency
 *                                histogram, requests/s
 *   --flood       cli_flood()    the tutorial's app-client-test: send
 *                                without reading until send() would block
 *
 * Exit codes are shared by all modes (documented in --help).
 */
#ifndef JMSG_CLIENT_H
#define JMSG_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "jmsg.h"

enum {
	CLI_OK = 0,
	CLI_EXIT_INTERNAL = 1,   /* out of memory, unexpected system error */
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_CONNECT = 3,    /* refused, unreachable, cannot resolve */
	CLI_EXIT_TIMEOUT = 4,
	CLI_EXIT_MALFORMED = 5,  /* the response is not a valid message */
	CLI_EXIT_SERVER_ERROR = 6, /* the server answered {"error": ...} */
	CLI_EXIT_LOAD_ERRORS = 7,  /* --load finished but some requests failed */
};

typedef struct cli_config {
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
