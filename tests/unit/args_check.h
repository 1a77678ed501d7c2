/* Helpers for the command-line tests (test_server_args.c,
 * test_client_args.c): an argv built from a table row, stdout or stderr
 * caught in a buffer around one call, and checks that name the row when
 * they fail.  Include after cmocka.h. */
#ifndef JM_TESTS_UNIT_ARGS_CHECK_H
#define JM_TESTS_UNIT_ARGS_CHECK_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Words after the subcommand's name in one row, NULL-terminated. */
#define ARGS_MAX 24

typedef struct args_vec {
	int argc;
	char *argv[ARGS_MAX + 2];
} args_vec;

/* argv = name, then args up to the first NULL; desc = them as one line.
 * A fresh vector for every call: getopt_long reorders it. */
static inline void args_make(args_vec *v, const char *name, const char *const args[ARGS_MAX],
			     char *desc, size_t desclen)
{
	size_t used = (size_t)snprintf(desc, desclen, "%s", name);
	v->argc = 0;
	v->argv[v->argc++] = (char *)name;
	for (size_t i = 0; i < ARGS_MAX && args[i]; i++) {
		v->argv[v->argc++] = (char *)args[i];
		if (used < desclen)
			used += (size_t)snprintf(desc + used, desclen - used, " '%s'", args[i]);
	}
	v->argv[v->argc] = NULL;
}

/* What is written to fd 1 or 2 between capture_begin and capture_end.
 * Nothing between them may fail a check: that would leave the fd caught. */
typedef struct capture {
	int fd, saved;
	FILE *tmp;
} capture;

static inline void capture_begin(capture *c, int fd)
{
	c->fd = fd;
	c->tmp = tmpfile();
	assert_non_null(c->tmp);
	fflush(stdout);
	fflush(stderr);
	c->saved = dup(fd);
	assert_true(c->saved >= 0);
	assert_true(dup2(fileno(c->tmp), fd) >= 0);
}

static inline void capture_end(capture *c, char *buf, size_t len)
{
	fflush(stdout);
	fflush(stderr);
	dup2(c->saved, c->fd);
	close(c->saved);
	rewind(c->tmp);
	size_t n = fread(buf, 1, len - 1, c->tmp);
	buf[n] = '\0';
	fclose(c->tmp);
}

static inline void check_str(const char *desc, const char *what, const char *got, const char *want)
{
	if (got == want || (got && want && !strcmp(got, want)))
		return;
	fail_msg("%s: %s is %s%s%s, want %s%s%s", desc, what, got ? "\"" : "", got ? got : "NULL",
		 got ? "\"" : "", want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
}

static inline void check_num(const char *desc, const char *what, unsigned long long got,
			     unsigned long long want)
{
	if (got != want)
		fail_msg("%s: %s is %llu, want %llu", desc, what, got, want);
}

static inline void check_prefix(const char *desc, const char *what, const char *got, const char *want)
{
	if (strncmp(got, want, strlen(want)))
		fail_msg("%s: %s does not start with \"%s\":\n%s", desc, what, want, got);
}

#endif
