/*
 * Replaying the fuzzers' inputs in the unit tests: a test includes one
 * fuzz target's source with LLVMFuzzerTestOneInput renamed, then runs
 * every file of fuzz/regressions/NAME/ (each an input that once crashed
 * that target) through it.  Under the ASan+UBSan tree (make unit-asan)
 * that is the check the fuzzer made.
 */
#ifndef JM_TESTS_FUZZ_REPLAY_H
#define JM_TESTS_FUZZ_REPLAY_H

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef int (*fuzz_entry)(const uint8_t *data, size_t size);

/* The source tree: the first directory above `start` holding
 * fuzz/fuzz_decoder.c. */
static bool replay_find_root(const char *start, char *root, size_t cap)
{
	char p[PATH_MAX], probe[PATH_MAX + 32];
	if (!realpath(start, p))
		return false;
	for (;;) {
		snprintf(probe, sizeof probe, "%s/fuzz/fuzz_decoder.c", p);
		if (access(probe, R_OK) == 0) {
			snprintf(root, cap, "%s", p);
			return true;
		}
		char *slash = strrchr(p, '/');
		if (!slash || slash == p)
			return false;
		*slash = 0;
	}
}

/* $JMSG_SOURCE if set, else found from this file's compile-time path,
 * the working directory or the test binary. */
static bool replay_root(char *root, size_t cap)
{
	const char *env = getenv("JMSG_SOURCE");
	if (env && *env) {
		snprintf(root, cap, "%s", env);
		return true;
	}
	return replay_find_root(__FILE__, root, cap) || replay_find_root(".", root, cap) ||
	       replay_find_root("/proc/self/exe", root, cap);
}

static uint8_t *replay_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0, got;
	uint8_t *b = malloc(cap);
	while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			uint8_t *nb = realloc(b, cap *= 2);
			if (!nb)
				free(b);
			b = nb;
		}
	}
	fclose(f);
	*len = n;
	return b;
}

static bool replay_wanted(const char *name, const char *const *ext)
{
	if (!ext)
		return true;
	size_t n = strlen(name);
	for (; *ext; ext++) {
		size_t e = strlen(*ext);
		if (n > e && !strcmp(name + n - e, *ext))
			return true;
	}
	return false;
}

/* Every regular file in ROOT/sub whose name ends in one of ext (NULL:
 * every file), through entry; returns how many, or -1 (with a line on
 * stderr) when the directory cannot be read. */
static int replay_dir(const char *sub, fuzz_entry entry, const char *const *ext)
{
	char root[PATH_MAX], dir[PATH_MAX + 64];
	if (!replay_root(root, sizeof root)) {
		fprintf(stderr, "source tree not found from %s, the working directory or the test "
				"binary; set JMSG_SOURCE\n", __FILE__);
		return -1;
	}
	snprintf(dir, sizeof dir, "%s/%s", root, sub);
	DIR *dp = opendir(dir);
	if (!dp) {
		fprintf(stderr, "cannot open %s: %s\n", dir, strerror(errno));
		return -1;
	}
	int n = 0;
	struct dirent *de;
	while ((de = readdir(dp))) {
		char path[PATH_MAX + 400];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (de->d_name[0] == '.' || !replay_wanted(de->d_name, ext) || stat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		size_t len = 0;
		uint8_t *data = replay_read(path, &len);
		if (!data) {
			fprintf(stderr, "cannot read %s\n", path);
			closedir(dp);
			return -1;
		}
		entry(data, len);
		free(data);
		n++;
	}
	closedir(dp);
	return n;
}

/* For targets whose first input byte is a configuration: every file of
 * ROOT/sub under each of the 256 configuration bytes. */
static fuzz_entry replay_config_target;

static inline int replay_each_config(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t *in = malloc(size);
	if (!in)
		abort();
	memcpy(in, data, size);
	for (int c = 0; c < 256; c++) {
		in[0] = (uint8_t)c;
		replay_config_target(in, size);
	}
	free(in);
	return 0;
}

static inline int replay_dir_every_config(const char *sub, fuzz_entry entry)
{
	replay_config_target = entry;
	return replay_dir(sub, replay_each_config, NULL);
}

#endif
