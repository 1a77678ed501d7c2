/*
 * version: jmsg's version lines (version.h).  JMSG_VERSION and JMSG_GIT come
 * from the generated jmsg_version.h (the Makefile writes it from VERSION and
 * `git describe`); the library versions are asked of the libraries loaded.
 */
#include <json-c/json_c_version.h>
#include <pcap/pcap.h>

#include "jmsg.h"
#include "jmsg_version.h"
#include "cmd/exit.h"
#include "cmd/version.h"

int jm_print_version(FILE *f)
{
	if (JMSG_GIT[0])
		fprintf(f, "jmsg version %s (git %s)\n", JMSG_VERSION, JMSG_GIT);
	else
		fprintf(f, "jmsg version %s\n", JMSG_VERSION);
	fprintf(f, "spec %s version %d (%s)\n", JM_SPEC_ABBREV, JM_SPEC_VERSION, JM_SPEC_NAME);
	fprintf(f, "%s\n", pcap_lib_version());
	fprintf(f, "json-c version %s\n", json_c_version());
	return JM_EXIT_OK;
}
