/*
 * version: what `jmsg --version` and every `jmsg COMMAND --version` print,
 * as `tcpdump --version` does: jmsg's version (the VERSION file, and `git
 * describe` when built from a git work tree), the spec's version, and the
 * libpcap and json-c versions the binary runs with.
 */
#ifndef JM_CMD_VERSION_H
#define JM_CMD_VERSION_H

#include <stdio.h>

/* The four lines on f; returns the exit status, JM_EXIT_OK. */
int jm_print_version(FILE *f);

#endif
