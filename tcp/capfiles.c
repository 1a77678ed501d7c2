/*
 * capfiles: the list of files a capture reads, with each directory
 * replaced by the files in it (capture.h, cap_expand_paths).
 */
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tcp/capture.h"

typedef struct names {
	char **v;
	size_t n, cap;
} names;

static int push(names *l, char *s)
{
	if (!s)
		return -1;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			free(s);
			return -1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return 0;
}

static int by_version(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	bool slash = dl && dir[dl - 1] == '/';
	char *s = malloc(dl + !slash + nl + 1);
	if (s)
		sprintf(s, "%s%s%s", dir, slash ? "" : "/", name);
	return s;
}

/* Every regular file in dir (symbolic links followed) whose name does not
 * start with '.', in natural order, appended to l. */
static int expand_dir(const char *dir, names *l, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "cannot open '%s': %s", dir, strerror(errno));
		return -1;
	}
	size_t first = l->n;
	struct dirent *e;
	int rc = 0;
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *path = join(dir, e->d_name);
		struct stat st;
		if (path && (stat(path, &st) || !S_ISREG(st.st_mode))) {
			free(path);
			continue;
		}
		rc = push(l, path);
	}
	closedir(d);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (l->n == first) {
		snprintf(err, errlen, "'%s' is a directory with no files to read in it", dir);
		return -1;
	}
	qsort(l->v + first, l->n - first, sizeof *l->v, by_version);
	return 0;
}

int cap_expand_paths(const char *const *paths, size_t n, char ***out, size_t *nout, char *err,
		     size_t errlen)
{
	names l = {0};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct stat st;
		if (strcmp(paths[i], "-") && stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			rc = expand_dir(paths[i], &l, err, errlen);
		} else if (push(&l, strdup(paths[i])) < 0) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
	}
	if (rc < 0) {
		cap_free_paths(l.v, l.n);
		return -1;
	}
	*out = l.v;
	*nout = l.n;
	return 0;
}

void cap_free_paths(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
