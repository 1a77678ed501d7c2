/*
 * libFuzzer target: a whole capture file, pcap or pcapng, through
 * `jmsg analyze` itself (analyze_parse_args + analyze_run, stdout on
 * /dev/null), twice: once read by libpcap into one engine with a text
 * report, once mapped and read by jmsg's own pcap reader (the --workers
 * path: tcp/capture.c read_mapped) into two worker threads with JSON
 * output; and a third time with --framing (tcp/frame.c), the framing
 * chosen by the input's size (so a mutation that changes the size tries
 * another), on jmsg's port and the framing fixtures' 7342.  Small limits
 * (--memcap, --stream-memcap, --max-streams, --max-hex), so dropping and
 * eviction run too.  The file is a memfd, named by its /proc/self/fd path.
 *
 * Seeds: $(BUILD)/fuzz/seeds-pcap, the fixtures' capture files and those
 * pcapgen makes from the framing fixtures' scripts.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analyzer/analyze.h"
#include "cmd/exit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int pcap_fd = -1;
static char pcap_path[64];

static int null_fd = -1, saved_stdout = -1;

static void setup(void)
{
	pcap_fd = memfd_create("fuzz_pcap", 0);
	null_fd = open("/dev/null", O_WRONLY);
	if (pcap_fd < 0 || null_fd < 0)
		abort();
	snprintf(pcap_path, sizeof pcap_path, "/proc/self/fd/%d", pcap_fd);
}

static void run(const char *const *extra, int n_extra)
{
	char *argv[32];
	int argc = 0;
	const char *base[] = {"analyze", "-r", pcap_path, "--memcap", "1M", "--stream-memcap", "64k",
			      "--max-streams", "8", "--max-hex", "32", "--stall-ms", "50"};
	for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
		argv[argc++] = (char *)base[i];
	for (int i = 0; i < n_extra; i++)
		argv[argc++] = (char *)extra[i];
	argv[argc] = NULL;
	analyze_args a;
	jm_buf err = {0};
	if (analyze_parse_args(argc, argv, &a, &err) != JM_EXIT_OK) {
		/* the arguments above are the harness's own */
		fprintf(stderr, "%.*s\n", (int)jm_buf_pending(&err), (const char *)jm_buf_head(&err));
		abort();
	}
	/* analyze_run writes to stdout: /dev/null while it runs, and back
	 * after (the unit tests that replay this target print there). */
	fflush(stdout);
	saved_stdout = dup(STDOUT_FILENO);
	if (saved_stdout < 0 || dup2(null_fd, STDOUT_FILENO) < 0)
		abort();
	analyze_run(&a);
	fflush(stdout);
	if (dup2(saved_stdout, STDOUT_FILENO) < 0)
		abort();
	close(saved_stdout);
	jm_buf_free(&err);
	analyze_args_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (pcap_fd < 0)
		setup();
	if (ftruncate(pcap_fd, 0) < 0 || pwrite(pcap_fd, data, size, 0) != (ssize_t)size)
		abort();
	static const char *const text[] = {"--time", "delta"};
	static const char *const json[] = {"--json", "--workers", "2"};
	static const char *const framings[] = {"ascii-length", "fixed", "delimited", "close", "raw"};
	const char *framed[] = {"--json", "--port", "65432", "--port", "7342", "--framing",
				framings[size % (sizeof framings / sizeof framings[0])]};
	run(text, 2);
	run(json, 3);
	run(framed, 7);
	return 0;
}
