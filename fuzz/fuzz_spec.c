/*
 * libFuzzer target: the loaders of files users write, on arbitrary bytes
 * (JSON or not), each one every input:
 *   - the generator's spec loader (spec/gen/model.c spec_load, jmsg-gen's
 *     reading of spec/jmsg.json),
 *   - the server's --search-table loader (app_table_load), then a lookup
 *     of a few keys in what it loaded,
 *   - the framing file loader (jmf_load_text, the files in spec/framings/ and
 *     --framing-file).
 * Checks: no crash, no undefined behaviour, no leak; a loader that fails
 * says why (its error text is not empty).
 *
 * Seeds: spec/jmsg.json, the framings in spec/framings/, a search table and the
 * fixtures' framing files, gathered by the Makefile into
 * $(BUILD)/fuzz/seeds-spec.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "app/answer.h"
#include "framing.h"
#include "spec/gen/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int spec_fd = -1;
static char spec_path[64];
static FILE *sink;

static void setup(void)
{
	spec_fd = memfd_create("fuzz_spec", 0);
	sink = fopen("/dev/null", "w");
	if (spec_fd < 0 || !sink)
		abort();
	snprintf(spec_path, sizeof spec_path, "/proc/self/fd/%d", spec_fd);
}

static void search_table(void)
{
	app_table t;
	char err[512] = "";
	if (app_table_load(&t, spec_path, 1 << 20, err, sizeof err) < 0) {
		if (!err[0])
			abort(); /* a refusal names its reason */
		return;
	}
	static const char *const keys[] = {"morpheus", "", "ring", "\xc3\xa9"};
	size_t n;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		app_table_lookup(&t, keys[i], strlen(keys[i]), &n);
	app_table_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (spec_fd < 0)
		setup();
	if (ftruncate(spec_fd, 0) < 0 || pwrite(spec_fd, data, size, 0) != (ssize_t)size)
		abort();

	struct spec s;
	if (spec_load(&s, spec_path, sink) == 0)
		spec_free(&s);

	search_table();

	jmf_framing f;
	if (jmf_load_text(&f, (const char *)data, size, "fuzz", sink) == 0)
		(void)f.kind; /* plain data, nothing to free */
	return 0;
}
