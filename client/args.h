/*
 * args: `jmsg client`'s command line.
 *
 * cli_parse_args() turns argv into a cli_config, its mode chosen and every
 * default filled in, and does nothing else: no socket, no output.  A bad
 * command line comes back as the one line to print, in the words the user
 * sees, so a table of argument vectors tests it
 * (tests/unit/test_client_args.c).  client_main() (main.c) prints that
 * line or the help, or runs the mode.
 */
#ifndef JM_CLIENT_ARGS_H
#define JM_CLIENT_ARGS_H

#include <stdbool.h>

#include "client/client.h"
#include "jmsg.h"

typedef struct cli_args {
	bool help;       /* -h, --help: print the help, nothing else */
	bool version;    /* --version: print the versions, nothing else */
	cli_config cfg;  /* the run: cfg.mode and its settings; strings point
	                    into argv or are constants */
} cli_args;

/* Parse argv (argv[0] is the subcommand's name; getopt_long may reorder
 * it).  Returns JM_EXIT_OK with *a filled, or JM_EXIT_USAGE with one line
 * appended to err ("jmsg client: ...", no newline).  Uses getopt_long,
 * restarted on every call. */
int cli_parse_args(int argc, char **argv, cli_args *a, jm_buf *err);

#endif
