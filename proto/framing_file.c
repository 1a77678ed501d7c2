/* Framing files: spec/framings/NAME.json (or a user's own) loaded with json-c
 * and checked key by key.  Every mistake is reported, each as one line
 * naming the file and the key, before the file is refused.  Used by the
 * spec generator and by the program alike. */
#include "framing.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct fload {
	const char *label;
	FILE *err;
	int problems;
};

static void bad(struct fload *L, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct fload *L, const char *key, const char *fmt, ...)
{
	L->problems++;
	if (!L->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(L->err, "%s: %s: ", L->label, key);
	vfprintf(L->err, fmt, ap);
	fputc('\n', L->err);
	va_end(ap);
}

const char *jmf_kind_name(jmf_kind k)
{
	static const char *const names[] = {"jmsg", "raw", "length_prefix", "fixed", "delimited",
					    "close"};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static const char *tname(json_type t)
{
	switch (t) {
	case json_type_int: return "an integer";
	case json_type_double: return "a number";
	case json_type_string: return "a string";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_boolean: return "a boolean";
	default: return "null";
	}
}

/* A member of the wanted type, or NULL (missing is a mistake if required). */
static json_object *member(struct fload *L, json_object *o, const char *key, const char *path,
			   json_type t, bool required)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v)) {
		if (required)
			bad(L, path, "missing (%s)", tname(t));
		return NULL;
	}
	if (!json_object_is_type(v, t)) {
		bad(L, path, "must be %s, not %s", tname(t), tname(json_object_get_type(v)));
		return NULL;
	}
	return v;
}

/* An integer member in [lo, hi], or -1 (reported) when wrong or missing. */
static int64_t int_in(struct fload *L, json_object *o, const char *key, const char *path,
		      int64_t lo, int64_t hi)
{
	json_object *v = member(L, o, key, path, json_type_int, true);
	if (!v)
		return -1;
	errno = 0;
	int64_t x = json_object_get_int64(v);
	if (errno || x < lo || x > hi) {
		bad(L, path, "%s is out of range %lld..%lld", json_object_to_json_string(v),
		    (long long)lo, (long long)hi);
		return -1;
	}
	return x;
}

/* Keys the kind does not use are mistakes (a misspelt "delimeter" too). */
static void check_keys(struct fload *L, json_object *root, const char *const *allowed)
{
	json_object_object_foreach(root, key, val)
	{
		(void)val;
		bool ok = false;
		char list[160] = "";
		size_t at = 0;
		for (const char *const *a = allowed; *a; a++) {
			ok |= !strcmp(*a, key);
			int w = snprintf(list + at, sizeof list - at, "%s%s", a == allowed ? "" : ", ", *a);
			at += w > 0 && (size_t)w < sizeof list - at ? (size_t)w : 0;
		}
		if (!ok)
			bad(L, key, "unknown key for this kind (its keys: %s)", list);
	}
}

static void load_name(struct fload *L, jmf_framing *f, json_object *root)
{
	json_object *v = member(L, root, "name", "name", json_type_string, true);
	if (!v)
		return;
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	bool ok = n >= 1 && n <= JMF_NAME_MAX && s[0] >= 'a' && s[0] <= 'z';
	for (size_t i = 0; ok && i < n; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-';
	if (!ok) {
		bad(L, "name", "\"%s\" must be 1..%d of a-z, 0-9 and '-', starting with a letter", s,
		    JMF_NAME_MAX);
		return;
	}
	if (!strcmp(s, "jmsg") || !strcmp(s, "raw")) {
		bad(L, "name", "\"%s\" is a built-in framing's name", s);
		return;
	}
	memcpy(f->name, s, n + 1);
	snprintf(f->proto, sizeof f->proto, "jmsg_%s", s);
	for (char *p = f->proto; *p; p++)
		if (*p == '-')
			*p = '_';
}

static int load_kind(struct fload *L, jmf_framing *f, json_object *root)
{
	static const jmf_kind kinds[] = {JMF_LENGTH_PREFIX, JMF_FIXED, JMF_DELIMITED, JMF_CLOSE};
	json_object *v = member(L, root, "kind", "kind", json_type_string, true);
	if (!v)
		return -1;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(json_object_get_string(v), jmf_kind_name(kinds[i]))) {
			f->kind = kinds[i];
			return 0;
		}
	bad(L, "kind", "unknown kind \"%s\" (known: length_prefix, fixed, delimited, close)",
	    json_object_get_string(v));
	return -1;
}

/* limits.max_payload in [lo, hi]. */
static void load_limits(struct fload *L, jmf_framing *f, json_object *root, uint64_t lo,
			uint64_t hi)
{
	static const char *const keys[] = {"max_payload", NULL};
	json_object *l = member(L, root, "limits", "limits", json_type_object, true);
	if (!l)
		return;
	json_object_object_foreach(l, key, val)
	{
		(void)val;
		if (strcmp(key, keys[0]))
			bad(L, "limits", "unknown key \"%s\" (allowed: max_payload)", key);
	}
	int64_t x = int_in(L, l, "max_payload", "limits.max_payload", (int64_t)lo, (int64_t)hi);
	if (x >= 0)
		f->max_payload = (uint64_t)x;
}

static void load_length_prefix(struct fload *L, jmf_framing *f, json_object *root)
{
	static const char *const keys[] = {"framing_version", "name", "kind", "doc", "width",
					   "radix", "limits", NULL};
	check_keys(L, root, keys);
	int64_t w = int_in(L, root, "width", "width", 1, JMF_WIDTH_MAX);
	json_object *r = member(L, root, "radix", "radix", json_type_string, true);
	if (r && strcmp(json_object_get_string(r), "decimal"))
		bad(L, "radix", "\"%s\": only \"decimal\" is supported", json_object_get_string(r));
	uint64_t most = 1;
	for (int64_t i = 0; i < (w > 0 ? w : JMF_WIDTH_MAX); i++)
		most *= 10;
	most -= 1;  /* what w digits can say */
	f->width = w > 0 ? (unsigned)w : 0;
	load_limits(L, f, root, 0, most < JMF_PAYLOAD_MAX ? most : JMF_PAYLOAD_MAX);
}

static void load_fixed(struct fload *L, jmf_framing *f, json_object *root)
{
	static const char *const keys[] = {"framing_version", "name", "kind", "doc", "size",
					   "pad", "limits", NULL};
	check_keys(L, root, keys);
	if (json_object_object_get_ex(root, "limits", NULL))
		bad(L, "limits", "a fixed framing has no limits but its size");
	int64_t s = int_in(L, root, "size", "size", 1, JMF_SIZE_MAX);
	json_object *p = member(L, root, "pad", "pad", json_type_string, true);
	if (p && json_object_get_string_len(p) != 1)
		bad(L, "pad", "\"%s\" must be exactly one byte", json_object_get_string(p));
	else if (p)
		f->pad = (uint8_t)json_object_get_string(p)[0];
	if (s > 0)
		f->size = (uint32_t)s;
	f->max_payload = f->size;
}

static void load_delimited(struct fload *L, jmf_framing *f, json_object *root)
{
	static const char *const keys[] = {"framing_version", "name", "kind", "doc", "delimiter",
					   "limits", NULL};
	check_keys(L, root, keys);
	json_object *d = member(L, root, "delimiter", "delimiter", json_type_string, true);
	size_t n = d ? (size_t)json_object_get_string_len(d) : 0;
	if (d && (n < 1 || n > JMF_DELIM_MAX))
		bad(L, "delimiter", "must be 1..%d bytes, not %zu", JMF_DELIM_MAX, n);
	else if (d) {
		memcpy(f->delim, json_object_get_string(d), n);
		f->delim_len = n;
	}
	load_limits(L, f, root, 1, JMF_PAYLOAD_MAX);
}

static void load_close(struct fload *L, jmf_framing *f, json_object *root)
{
	static const char *const keys[] = {"framing_version", "name", "kind", "doc", "limits", NULL};
	check_keys(L, root, keys);
	load_limits(L, f, root, 1, JMF_PAYLOAD_MAX);
}

static void load_root(struct fload *L, jmf_framing *f, json_object *root)
{
	json_object *v = member(L, root, "framing_version", "framing_version", json_type_int, true);
	if (v && json_object_get_int64(v) != 1)
		bad(L, "framing_version", "%lld: only version 1 is known",
		    (long long)json_object_get_int64(v));
	member(L, root, "doc", "doc", json_type_string, false);
	load_name(L, f, root);
	if (load_kind(L, f, root))
		return;
	switch (f->kind) {
	case JMF_LENGTH_PREFIX: load_length_prefix(L, f, root); break;
	case JMF_FIXED: load_fixed(L, f, root); break;
	case JMF_DELIMITED: load_delimited(L, f, root); break;
	default: load_close(L, f, root); break;
	}
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n", p[i]) || !p[i])
			return false;
	return true;
}

int jmf_load_text(jmf_framing *f, const char *text, size_t len, const char *label, FILE *err)
{
	struct fload L = {label, err, 0};
	memset(f, 0, sizeof *f);
	json_tokener *tok = json_tokener_new();
	if (!tok) {
		if (err)
			fprintf(err, "%s: out of memory\n", label);
		return -1;
	}
	json_object *root = len <= JMF_FILE_MAX ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
	enum json_tokener_error e = json_tokener_get_error(tok);
	if (len > JMF_FILE_MAX)
		bad(&L, "(file)", "longer than %d bytes", JMF_FILE_MAX);
	else if (!root || e != json_tokener_success)
		bad(&L, "(file)", "not JSON: %s at byte %zu",
		    e == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(e),
		    json_tokener_get_parse_end(tok));
	else if (!blank(text + json_tokener_get_parse_end(tok), len - json_tokener_get_parse_end(tok)))
		bad(&L, "(file)", "text after the JSON object at byte %zu",
		    json_tokener_get_parse_end(tok));
	else if (!json_object_is_type(root, json_type_object))
		bad(&L, "(file)", "must be a JSON object");
	else
		load_root(&L, f, root);
	json_object_put(root);
	json_tokener_free(tok);
	if (L.problems && err)
		fprintf(err, "%s: %d mistake(s); framing file refused\n", label, L.problems);
	return L.problems ? -1 : 0;
}

int jmf_load_file(jmf_framing *f, const char *path, FILE *err)
{
	memset(f, 0, sizeof *f);
	FILE *in = fopen(path, "rb");
	if (!in) {
		if (err)
			fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	char *text = malloc(JMF_FILE_MAX + 1);
	size_t n = text ? fread(text, 1, JMF_FILE_MAX + 1, in) : 0;
	int rd = !text || ferror(in);
	fclose(in);
	if (rd) {
		if (err)
			fprintf(err, "%s: cannot read: %s\n", path, text ? "I/O error" : "out of memory");
		free(text);
		return -1;
	}
	int rc = jmf_load_text(f, text, n, path, err);
	free(text);
	return rc;
}

void jmf_builtin(jmf_framing *f, jmf_kind kind)
{
	memset(f, 0, sizeof *f);
	f->kind = kind == JMF_RAW ? JMF_RAW : JMF_JMSG;
	snprintf(f->name, sizeof f->name, "%s", jmf_kind_name(f->kind));
	snprintf(f->proto, sizeof f->proto, "jmsg%s", f->kind == JMF_RAW ? "_raw" : "");
	f->max_payload = f->kind == JMF_RAW ? JMF_RAW_MAX_PAYLOAD : 0;
}
