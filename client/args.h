/*
 * args: `jmsg client`'s command line.
 *
 * cli_parse_args() turns argv into a cli_config, its mode chosen and every
 * default filled in, and does nothing else: no socket, no output but the
 * one line on stderr that says what is wrong with a bad command line.
 * client_main() (main.c) is cli_parse_args() and then the mode's function;
 * tests call cli_parse_args() alone.
 */
#ifndef JMSG_CLIENT_ARGS_H
#define JMSG_CLIENT_ARGS_H

#include "client/client.h"

typedef enum cli_args_result {
	CLI_ARGS_RUN,    /* *cfg is complete: run cfg->mode */
	CLI_ARGS_HELP,   /* -h or --help: print the help, exit JM_EXIT_OK */
	CLI_ARGS_USAGE,  /* a bad command line, said on stderr: exit JM_EXIT_USAGE */
} cli_args_result;

/* argv[0] is the subcommand's name.  The strings in *cfg point into argv
 * or are constants.  Uses getopt_long (optind, optarg): not reentrant. */
cli_args_result cli_parse_args(int argc, char **argv, cli_config *cfg);

#endif
