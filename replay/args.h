/*
 * args: jmsg replay's command line, parsed and checked without touching a
 * file, a socket or a stream: what comes out is either a complete rp_args
 * for the run, or the exit status and the one line to print.  The words of
 * every message are the ones the user sees (main.c prints them as they
 * are), so the unit tests hold them exactly.
 */
#ifndef JM_REPLAY_ARGS_H
#define JM_REPLAY_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay/conv.h"
#include "replay/sched.h"

#define RP_DEFAULT_MEMCAP (1024u * 1024 * 1024)
#define RP_MAX_PORTS 64
#define RP_MAX_IGNORE 64
/* rp_parse_args(): go on and run the replay. */
#define RP_ARGS_RUN (-1)

typedef struct rp_args {
	const char *path;           /* the capture file (argv's) */
	char *to;                   /* --to, split in place: host and port
	                               point into it (or at "127.0.0.1") */
	const char *host, *port;
	char target[300];           /* --to as given, for messages */
	uint16_t ports[RP_MAX_PORTS]; /* --port; none: the spec's default */
	size_t n_ports;
	const char *ignore[RP_MAX_IGNORE]; /* --ignore-header keys (argv's) */
	size_t n_ignore;
	rp_pace pace;
	unsigned concurrency;
	uint64_t timeout_ms, max_content, memcap;
	rp_select select;           /* --streams; empty: all */
	bool raw, json, verbose;
	bool no_heuristic;          /* --no-heuristic */
	bool help;                  /* -h: print the usage, nothing else */
	bool version;               /* --version: print the versions, nothing else */
} rp_args;

/*
 * Parse argv (argv[0] is the subcommand's name; getopt_long may reorder
 * argv, and --ignore-header and the path point into it).  Returns
 * RP_ARGS_RUN with `a` complete, or the exit status to end with now: 0
 * for --help (a->help) and --version (a->version), JM_EXIT_USAGE with one line in err ("jmsg replay:
 * ..."), no newline.  Call rp_args_free() in every case.
 */
int rp_parse_args(int argc, char **argv, rp_args *a, char *err, size_t errlen);
void rp_args_free(rp_args *a);

#endif
