/*
 * args: `jmsg server`'s command line.
 *
 * srv_parse_args() turns argv into a srv_config and does nothing else: no
 * socket, no file, no output but the one line on stderr that says what is
 * wrong with a bad command line.  server_main() (main.c) is
 * srv_parse_args() and then srv_run(); tests call srv_parse_args() alone.
 */
#ifndef JMSG_SERVER_ARGS_H
#define JMSG_SERVER_ARGS_H

#include "server/server.h"

typedef enum srv_args_result {
	SRV_ARGS_RUN,    /* *cfg is complete: run the server */
	SRV_ARGS_HELP,   /* -h or --help: print the help, exit JM_EXIT_OK */
	SRV_ARGS_USAGE,  /* a bad command line, said on stderr: exit JM_EXIT_USAGE */
} srv_args_result;

/* argv[0] is the subcommand's name.  The strings in *cfg point into argv
 * or are constants.  Uses getopt_long (optind, optarg): not reentrant. */
srv_args_result srv_parse_args(int argc, char **argv, srv_config *cfg);

#endif
