/*
 * analyze: the `jmsg analyze` subcommand, in two steps.  analyze_parse_args
 * reads the command line and opens nothing (the BPF filter is compiled
 * against no capture, to check it), so a table of argument vectors tests
 * it (tests/unit/test_analyze_args.c).  analyze_run opens the capture and
 * analyzes it.  analyze_main (cmd/commands.h) joins them.
 */
#ifndef JM_ANALYZER_ANALYZE_H
#define JM_ANALYZER_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>

#include "jmsg.h"
#include "stall/stall.h"
#include "tcp/capture.h"
#include "tcp/stream.h"
#include "tcp/timefmt.h"

typedef struct analyze_args {
	bool help;                /* --help: print the usage and exit 0 */
	bool version;             /* --version: print the versions and exit 0 */
	const char *iface, *file; /* -i or -r, exactly one (argv's); file is
				   * the first -r */
	const char **files;       /* every -r, in order (argv's) */
	size_t n_files;
	const char *user;         /* -Z: become this user once the capture is
	                             open (argv's), or NULL */
	char *filter;             /* the trailing words, joined by spaces, or NULL */
	cap_options co;           /* -s, -B, -w, --immediate; co.filter is filter */
	an_config cfg;            /* --port, the limits, --max-content, --max-hex */
	stall_cli stall;          /* --stall-ms, --sample-ms, --plot... */
	uint64_t count;           /* -c; 0: no limit */
	unsigned workers;         /* --workers; 1: no threads */
	bool json, quiet, linebuf;
	tf_mode time;             /* --time: the text time column */
	int fail_on;              /* --fail-on: AN_FAIL_* */
	int color;                /* --color: AN_COLOR_AUTO (stdout a
				   * terminal and NO_COLOR unset), ALWAYS, NEVER */
} analyze_args;

enum { AN_COLOR_AUTO, AN_COLOR_ALWAYS, AN_COLOR_NEVER };

/* --fail-on: what makes analyze exit JM_EXIT_FOUND. */
enum { AN_FAIL_NEVER = 0, AN_FAIL_ERRORS, AN_FAIL_PROBLEMS };
/* Whether a capture with these counts fails --fail-on `fail_on`. */
bool analyze_failed(int fail_on, const an_stats *as, const cap_stats *cs);

/* Parse argv (argv[0] is the subcommand's name).  Returns JM_EXIT_OK with
 * *a filled (a->help or a->version: nothing else is), or JM_EXIT_USAGE with one line
 * appended to err (no newline): "jmsg analyze: WHAT (see 'jmsg analyze
 * --help')", or JM_EXIT_RUNTIME with "jmsg analyze: out of memory".  Call
 * analyze_args_free() in every case.  Uses getopt_long, restarted on every
 * call; a->file, a->iface and the --plot path point into argv. */
int analyze_parse_args(int argc, char **argv, analyze_args *a, jm_buf *err);
void analyze_args_free(analyze_args *a);

/* Analyze the capture a names until its end, -c, or SIGINT/SIGTERM, the
 * events and then the summary on stdout.  Returns JM_EXIT_OK, or
 * JM_EXIT_RUNTIME after a line on stderr (the capture could not be opened
 * or read, no memory, the plot could not be written), or JM_EXIT_FOUND
 * when the capture held what --fail-on names. */
int analyze_run(analyze_args *a);

#endif
