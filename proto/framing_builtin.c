/* Framings by name: the built-in ones (jmsg, raw, and the files of
 * spec/framings/ compiled in as text) or a framing file's path. */
#include "framing.h"

#include <errno.h>
#include <string.h>

const char *jmf_builtin_name(size_t i)
{
	if (i < 2)
		return i ? "raw" : "jmsg";
	return i - 2 < jmf_n_builtin_files ? jmf_builtin_files[i - 2].name : NULL;
}

static void list_names(FILE *err)
{
	const char *s;
	for (size_t i = 0; (s = jmf_builtin_name(i)); i++)
		fprintf(err, "%s%s", i ? ", " : "", s);
}

int jmf_resolve(jmf_framing *f, const char *s, FILE *err)
{
	if (!strcmp(s, "jmsg") || !strcmp(s, "raw")) {
		jmf_builtin(f, strcmp(s, "raw") ? JMF_JMSG : JMF_RAW);
		return 0;
	}
	for (size_t i = 0; i < jmf_n_builtin_files; i++)
		if (!strcmp(s, jmf_builtin_files[i].name)) {
			char label[JMF_NAME_MAX + 40];
			snprintf(label, sizeof label, "spec/framings/%s.json (built in)", s);
			return jmf_load_text(f, jmf_builtin_files[i].text, jmf_builtin_files[i].len,
					     label, err);
		}
	FILE *in = fopen(s, "rb");
	if (!in && errno == ENOENT && !strchr(s, '/')) {
		if (err) {
			fprintf(err, "unknown framing \"%s\": give one of ", s);
			list_names(err);
			fprintf(err, ", or the path of a framing file\n");
		}
		return -1;
	}
	if (in)
		fclose(in);
	return jmf_load_file(f, s, err);
}
