/*
 * sockets: the `jmsg sockets` subcommand, in two steps.  sockets_parse_args
 * reads the command line and nothing else: no output, no socket, so a table
 * of argument vectors tests it (tests/unit/test_sockets.c).  sockets_run
 * lists the sockets.  sockets_main (cmd/commands.h) joins them.
 */
#ifndef JM_STALL_SOCKETS_H
#define JM_STALL_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/exit.h"
#include "jmsg.h"

#define SOCKETS_MAX_PORTS 64
/* What --watch writes before each table on a terminal: cursor home, screen
 * cleared (the escapes watch(1) and clear(1) use). */
#define SOCKETS_REDRAW "\033[H\033[2J"

typedef struct sockets_args {
	bool help;                /* --help: print the usage and exit 0 */
	bool version;             /* --version: print the versions and exit 0 */
	uint16_t ports[SOCKETS_MAX_PORTS]; /* --port; JM_SPEC_DEFAULT_PORT if none */
	size_t nports;
	bool watch;               /* --watch: again every `every` seconds */
	double every;
	long count;               /* --count: tables before stopping; 0: no end */
	bool info, json;
} sockets_args;

/* Parse argv (argv[0] is the subcommand's name).  Returns JM_EXIT_OK
 * with *a filled, or JM_EXIT_USAGE with one line appended to err (no
 * newline): "jmsg sockets: WHAT 'ARG' (see 'jmsg sockets --help')".  Uses
 * getopt_long, restarted on every call. */
int sockets_parse_args(int argc, char **argv, sockets_args *a, jm_buf *err);

/* List the sockets once, or with a->watch until interrupted (SIGINT,
 * SIGTERM) or a->count tables.  Returns JM_EXIT_OK, or
 * JM_EXIT_RUNTIME after one line on stderr if the kernel could not be
 * asked. */
int sockets_run(const sockets_args *a);

#endif
