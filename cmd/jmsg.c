/*
 * jmsg: the user's door.  One binary, one subcommand per job; each
 * subcommand lives in its own folder and exports NAME_main().
 */
#include <stdio.h>
#include <string.h>

#include "jmsg.h"
#include "cmd/commands.h"
#include "cmd/exit.h"
#include "cmd/version.h"

struct command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"server", server_main, "run the reference server"},
	{"client", client_main, "send a request, generate load, or flood a server"},
	{"analyze", analyze_main, "decode the protocol from a live capture or a pcap"},
	{"sockets", sockets_main, "show this protocol's sockets and their queues"},
	{"replay", replay_main, "replay captured conversations against a server"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: jmsg COMMAND [ARGS...]\n\n"
		   "The length-prefixed JSON message protocol toolkit (spec %s v%d).\n\n"
		   "commands:\n",
		JM_SPEC_ABBREV, JM_SPEC_VERSION);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'jmsg COMMAND --help' describes each one.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return JM_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return JM_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		return jm_print_version(stdout);
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "jmsg: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return JM_EXIT_USAGE;
}
