/*
 * args: `jmsg server`'s command line.
 *
 * srv_parse_args() turns argv into the server's settings and does nothing
 * else: no socket, no file, no output.  A bad command line comes back as
 * the one line to print, in the words the user sees, so a table of
 * argument vectors tests it (tests/unit/test_server_args.c).
 * server_main() (main.c) prints that line or the help, or calls srv_run().
 */
#ifndef JM_SERVER_ARGS_H
#define JM_SERVER_ARGS_H

#include <stdbool.h>

#include "jmsg.h"
#include "server/server.h"

typedef struct srv_args {
	bool help;       /* -h, --help: print the help, nothing else */
	bool version;    /* --version: print the versions, nothing else */
	srv_config cfg;  /* the run's settings; strings point into argv or
	                    are constants */
} srv_args;

/* Parse argv (argv[0] is the subcommand's name; getopt_long may reorder
 * it).  Returns JM_EXIT_OK with *a filled, or JM_EXIT_USAGE with one line
 * appended to err ("jmsg server: ...", no newline).  Uses getopt_long,
 * restarted on every call. */
int srv_parse_args(int argc, char **argv, srv_args *a, jm_buf *err);

#endif
