/* Loads spec/jmsg.json with json-c and checks it before any back end runs:
 * a spec that names a missing field, repeats an id or gives a limit the
 * framing cannot carry is refused with a line per problem. */
#include "model.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct loader {
	FILE *err;
	int problems;
};

static void complain(struct loader *L, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("jmsg-gen: spec: ", L->err);
	vfprintf(L->err, fmt, ap);
	fputc('\n', L->err);
	va_end(ap);
	L->problems++;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p) {
		perror("jmsg-gen");
		exit(1);
	}
	return p;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p) {
		perror("jmsg-gen");
		exit(1);
	}
	return p;
}

static json_object *get(struct loader *L, json_object *o, const char *key, json_type t,
			const char *where, bool required)
{
	json_object *v = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v)) {
		if (required)
			complain(L, "%s: missing \"%s\"", where, key);
		return NULL;
	}
	if (!json_object_is_type(v, t)) {
		complain(L, "%s: \"%s\" should be a %s", where, key, json_type_to_name(t));
		return NULL;
	}
	return v;
}

static char *get_str(struct loader *L, json_object *o, const char *key, const char *where,
		     bool required)
{
	json_object *v = get(L, o, key, json_type_string, where, required);
	return v ? xstrdup(json_object_get_string(v)) : NULL;
}

static int64_t get_int(struct loader *L, json_object *o, const char *key, const char *where,
		       int64_t dflt, bool required)
{
	json_object *v = get(L, o, key, json_type_int, where, required);
	return v ? json_object_get_int64(v) : dflt;
}

static bool is_ident(const char *s)
{
	if (!s || !*s || !islower((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static bool one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

static int parse_type(const char *t, enum spec_type *out)
{
	static const char *const names[] = {"string", "integer", "number", "boolean",
					    "object", "array", "null"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (t && !strcmp(t, names[i])) {
			*out = (enum spec_type)i;
			return 0;
		}
	return -1;
}

const char *spec_type_name(enum spec_type t)
{
	static const char *const names[] = {"string", "integer", "number", "boolean",
					    "object", "array", "null"};
	return names[t];
}

const char *spec_upper_ident(const char *s, char *buf, size_t cap)
{
	size_t i = 0;
	for (; s[i] && i + 1 < cap; i++)
		buf[i] = isalnum((unsigned char)s[i]) ? (char)toupper((unsigned char)s[i]) : '_';
	buf[i] = 0;
	return buf;
}

static void load_protocol(struct loader *L, struct spec *s, json_object *root)
{
	json_object *p = get(L, root, "protocol", json_type_object, "top level", true);
	s->version = (int)get_int(L, root, "spec_version", "top level", 0, true);
	s->name = get_str(L, p, "name", "protocol", true);
	s->abbrev = get_str(L, p, "abbrev", "protocol", true);
	s->transport = get_str(L, p, "transport", "protocol", true);
	s->doc = get_str(L, p, "doc", "protocol", false);
	s->default_port = (int)get_int(L, p, "default_port", "protocol", 0, true);
	if (s->abbrev && !is_ident(s->abbrev))
		complain(L, "protocol.abbrev \"%s\" must be a lower-case identifier", s->abbrev);
	if (s->default_port < 1 || s->default_port > 65535)
		complain(L, "protocol.default_port %d is not a TCP port", s->default_port);
	if (s->transport && strcmp(s->transport, "tcp"))
		complain(L, "protocol.transport \"%s\": only tcp is supported", s->transport);
}

static void load_header(struct loader *L, struct spec *s, json_object *root)
{
	json_object *h = get(L, root, "header", json_type_object, "top level", true);
	json_object *props = get(L, h, "properties", json_type_object, "header", true);
	json_object *req = get(L, h, "required", json_type_array, "header", true);
	if (!props)
		return;
	s->n_fields = (size_t)json_object_object_length(props);
	s->fields = xcalloc(s->n_fields, sizeof *s->fields);
	size_t i = 0;
	json_object_object_foreach(props, key, val)
	{
		struct spec_field *f = &s->fields[i++];
		char where[128];
		snprintf(where, sizeof where, "header.properties.%s", key);
		f->key = xstrdup(key);
		if (!json_object_is_type(val, json_type_object)) {
			complain(L, "%s should be an object", where);
			continue;
		}
		f->ident = get_str(L, val, "field", where, true);
		f->doc = get_str(L, val, "doc", where, false);
		char *t = get_str(L, val, "type", where, true);
		if (t && parse_type(t, &f->type))
			complain(L, "%s: unknown type \"%s\"", where, t);
		free(t);
		if (f->ident && !is_ident(f->ident))
			complain(L, "%s: field \"%s\" must be a lower-case identifier", where, f->ident);
		json_object *v;
		if ((v = get(L, val, "minimum", json_type_int, where, false))) {
			f->has_min = true;
			f->min = json_object_get_int64(v);
		}
		if ((v = get(L, val, "maximum", json_type_int, where, false))) {
			f->has_max = true;
			f->max = json_object_get_int64(v);
		}
		if ((f->has_min || f->has_max) && f->type != ST_INTEGER && f->type != ST_NUMBER)
			complain(L, "%s: minimum/maximum on a non-numeric field", where);
		if ((v = get(L, val, "enum", json_type_array, where, false))) {
			f->n_enums = json_object_array_length(v);
			f->enums = xcalloc(f->n_enums, sizeof *f->enums);
			for (size_t k = 0; k < f->n_enums; k++) {
				json_object *e = json_object_array_get_idx(v, k);
				if (!json_object_is_type(e, json_type_string) || f->type != ST_STRING)
					complain(L, "%s: enum values must be strings of a string field", where);
				f->enums[k] = xstrdup(json_object_get_string(e));
			}
		}
		for (size_t k = 0; k + 1 < i; k++)
			if (f->ident && s->fields[k].ident && !strcmp(f->ident, s->fields[k].ident))
				complain(L, "%s: field name \"%s\" used twice", where, f->ident);
	}
	for (size_t k = 0; req && k < json_object_array_length(req); k++) {
		const char *name = json_object_get_string(json_object_array_get_idx(req, k));
		bool found = false;
		for (size_t j = 0; j < s->n_fields; j++)
			if (name && !strcmp(name, s->fields[j].key)) {
				s->fields[j].required = found = true;
			}
		if (!found)
			complain(L, "header.required names \"%s\", which has no property", name ? name : "?");
	}
}

static struct spec_field *field_by_key(struct spec *s, const char *key)
{
	for (size_t i = 0; i < s->n_fields; i++)
		if (!strcmp(s->fields[i].key, key))
			return &s->fields[i];
	return NULL;
}

static void load_framing(struct loader *L, struct spec *s, json_object *root)
{
	json_object *fr = get(L, root, "framing", json_type_object, "top level", true);
	json_object *seq = get(L, fr, "seq", json_type_array, "framing", true);
	if (!seq)
		return;
	s->n_frame = json_object_array_length(seq);
	s->frame = xcalloc(s->n_frame, sizeof *s->frame);
	for (size_t i = 0; i < s->n_frame; i++) {
		json_object *o = json_object_array_get_idx(seq, i);
		struct spec_frame_field *f = &s->frame[i];
		char where[64];
		snprintf(where, sizeof where, "framing.seq[%zu]", i);
		f->id = get_str(L, o, "id", where, true);
		f->type = get_str(L, o, "type", where, true);
		f->size = (int)get_int(L, o, "size", where, 0, false);
		f->size_from = get_str(L, o, "size_from", where, false);
		f->min_size = get_int(L, o, "min_size", where, 0, false);
		f->max_size = get_int(L, o, "max_size", where, 0, false);
		if (!f->size == !f->size_from)
			complain(L, "%s: give exactly one of size and size_from", where);
		if (f->size_from) {
			bool ok = false;
			if (!strncmp(f->size_from, "header.", 7))
				ok = field_by_key(s, f->size_from + 7) != NULL;
			for (size_t k = 0; k < i; k++)
				if (s->frame[k].id && !strcmp(s->frame[k].id, f->size_from))
					ok = true;
			if (!ok)
				complain(L, "%s: size_from \"%s\" names no earlier field", where, f->size_from);
		}
	}
	/* The codec is written for this framing; say so if the spec drifts. */
	static const char *const want[] = {"protoheader", "header", "content"};
	if (s->n_frame != 3)
		complain(L, "framing.seq must be protoheader, header, content");
	for (size_t i = 0; i < s->n_frame && i < 3; i++)
		if (!s->frame[i].id || strcmp(s->frame[i].id, want[i]))
			complain(L, "framing.seq[%zu] must be \"%s\"", i, want[i]);
	if (s->n_frame >= 2 && s->frame[0].type && !strcmp(s->frame[0].type, "u2be") &&
	    s->frame[1].max_size > 65535)
		complain(L, "framing: header max_size %lld cannot be carried by a u2be protoheader",
			 (long long)s->frame[1].max_size);
}

static void load_content(struct loader *L, struct spec *s, json_object *root)
{
	json_object *c = get(L, root, "content", json_type_object, "top level", true);
	json_object *cases = get(L, c, "cases", json_type_object, "content", true);
	s->content_type_key = get_str(L, c, "dispatch_on", "content", true);
	if (s->content_type_key && !field_by_key(s, s->content_type_key))
		complain(L, "content.dispatch_on \"%s\" is not a header property", s->content_type_key);
	/* Optional: which members of a JSON content object a one-line view
	 * (Wireshark's Info column) shows. */
	json_object *sum = get(L, c, "summary", json_type_object, "content", false);
	if (sum) {
		s->summary_verb = get_str(L, sum, "verb", "content.summary", false);
		json_object *q = get(L, sum, "quoted", json_type_array, "content.summary", false);
		s->n_summary_quoted = q ? json_object_array_length(q) : 0;
		s->summary_quoted = xcalloc(s->n_summary_quoted, sizeof(char *));
		for (size_t k = 0; k < s->n_summary_quoted; k++)
			s->summary_quoted[k] =
			    xstrdup(json_object_get_string(json_object_array_get_idx(q, k)));
	}
	if (!cases)
		return;
	json_object_object_foreach(cases, ctype, val)
	{
		char *t = get_str(L, val, "type", "content.cases", true);
		if (t && !strcmp(t, "json")) {
			if (s->json_content_type)
				complain(L, "content.cases: only one content-type may be json");
			s->json_content_type = xstrdup(ctype);
			s->content_encoding_key = get_str(L, val, "encoding_from", "content.cases", true);
			if (s->content_encoding_key && !field_by_key(s, s->content_encoding_key))
				complain(L, "content.cases.%s: encoding_from \"%s\" is not a header property",
					 ctype, s->content_encoding_key);
			json_object *enc = get(L, val, "encodings", json_type_array, "content.cases", true);
			s->n_json_encodings = enc ? json_object_array_length(enc) : 0;
			s->json_encodings = xcalloc(s->n_json_encodings, sizeof(char *));
			for (size_t k = 0; k < s->n_json_encodings; k++)
				s->json_encodings[k] =
				    xstrdup(json_object_get_string(json_object_array_get_idx(enc, k)));
		} else if (t && strcmp(t, "bytes")) {
			complain(L, "content.cases.%s: type must be json or bytes", ctype);
		}
		free(t);
	}
	if (!s->json_content_type)
		complain(L, "content.cases: no json content-type");
}

static void load_limits(struct loader *L, struct spec *s, json_object *root)
{
	json_object *l = get(L, root, "limits", json_type_object, "top level", true);
	s->max_header_len = get_int(L, l, "max_header_len", "limits", 0, true);
	s->default_max_content_len = get_int(L, l, "default_max_content_len", "limits", 0, true);
	s->max_json_depth = get_int(L, l, "max_json_depth", "limits", 0, true);
	if (s->max_header_len < 1 || s->max_header_len > 65535)
		complain(L, "limits.max_header_len must be 1..65535 (a u2be protoheader)");
	if (s->default_max_content_len < 0)
		complain(L, "limits.default_max_content_len must not be negative");
	if (s->max_json_depth < 2 || s->max_json_depth > 10000)
		complain(L, "limits.max_json_depth must be 2..10000");
	if (s->n_frame >= 2 && s->frame[1].max_size && s->frame[1].max_size != s->max_header_len)
		complain(L, "limits.max_header_len differs from framing header max_size");
}

static void load_errors(struct loader *L, struct spec *s, json_object *root)
{
	static const char *const sev[] = {"error", "warning", "note", NULL};
	static const char *const rec[] = {"lost_framing", "if_length_known", "continue", NULL};
	json_object *e = get(L, root, "errors", json_type_array, "top level", true);
	json_object *p = get(L, root, "stream_problems", json_type_array, "top level", true);
	s->n_errors = e ? json_object_array_length(e) : 0;
	s->errors = xcalloc(s->n_errors, sizeof *s->errors);
	for (size_t i = 0; i < s->n_errors; i++) {
		json_object *o = json_object_array_get_idx(e, i);
		struct spec_error *x = &s->errors[i];
		x->id = get_str(L, o, "id", "errors[]", true);
		x->severity = get_str(L, o, "severity", "errors[]", true);
		x->recovery = get_str(L, o, "recovery", "errors[]", true);
		x->text = get_str(L, o, "text", "errors[]", true);
		json_object *w = get(L, o, "wire", json_type_boolean, "errors[]", false);
		x->wire = !w || json_object_get_boolean(w);
		if (x->id && !is_ident(x->id))
			complain(L, "errors: id \"%s\" must be a lower-case identifier", x->id);
		if (x->severity && !one_of(x->severity, sev))
			complain(L, "errors.%s: severity \"%s\" is not error/warning/note", x->id, x->severity);
		if (x->recovery && !one_of(x->recovery, rec))
			complain(L, "errors.%s: unknown recovery \"%s\"", x->id, x->recovery);
		if (x->text && strchr(x->text, '\n'))
			complain(L, "errors.%s: text must be one line", x->id);
	}
	s->n_problems = p ? json_object_array_length(p) : 0;
	s->problems = xcalloc(s->n_problems, sizeof *s->problems);
	for (size_t i = 0; i < s->n_problems; i++) {
		json_object *o = json_object_array_get_idx(p, i);
		struct spec_problem *x = &s->problems[i];
		x->id = get_str(L, o, "id", "stream_problems[]", true);
		x->severity = get_str(L, o, "severity", "stream_problems[]", true);
		x->text = get_str(L, o, "text", "stream_problems[]", true);
		if (x->id && !is_ident(x->id))
			complain(L, "stream_problems: id \"%s\" must be a lower-case identifier", x->id);
		if (x->severity && !one_of(x->severity, sev))
			complain(L, "stream_problems.%s: bad severity", x->id);
	}
}

static void load_framing_errors(struct loader *L, struct spec *s, json_object *root)
{
	static const char *const sev[] = {"error", "warning", "note", NULL};
	static const char *const rec[] = {"lost_framing", "continue", "resync", NULL};
	json_object *e = get(L, root, "framing_errors", json_type_array, "top level", true);
	s->n_framing_errors = e ? json_object_array_length(e) : 0;
	s->framing_errors = xcalloc(s->n_framing_errors, sizeof *s->framing_errors);
	for (size_t i = 0; i < s->n_framing_errors; i++) {
		json_object *o = json_object_array_get_idx(e, i);
		struct spec_error *x = &s->framing_errors[i];
		char where[64];
		snprintf(where, sizeof where, "framing_errors[%zu]", i);
		x->id = get_str(L, o, "id", where, true);
		x->severity = get_str(L, o, "severity", where, true);
		x->recovery = get_str(L, o, "recovery", where, true);
		x->text = get_str(L, o, "text", where, true);
		json_object *w = get(L, o, "wire", json_type_boolean, where, false);
		x->wire = !w || json_object_get_boolean(w);
		if (x->id && !is_ident(x->id))
			complain(L, "%s: id \"%s\" must be a lower-case identifier", where, x->id);
		if (x->severity && !one_of(x->severity, sev))
			complain(L, "%s: severity \"%s\" is not error/warning/note", where, x->severity);
		if (x->recovery && !one_of(x->recovery, rec))
			complain(L, "%s: recovery \"%s\" is not lost_framing/continue/resync", where,
				 x->recovery);
		if (x->text && strchr(x->text, '\n'))
			complain(L, "%s: text must be one line", where);
	}
}

static const char *any_id(const struct spec *s, size_t i)
{
	if (i < s->n_errors)
		return s->errors[i].id;
	i -= s->n_errors;
	if (i < s->n_problems)
		return s->problems[i].id;
	return s->framing_errors[i - s->n_problems].id;
}

/* One id, one meaning: codec errors, stream problems and framing errors share
 * a namespace in the analyzer's output and in Wireshark's expert infos. */
static void check_ids(struct loader *L, const struct spec *s)
{
	size_t n = s->n_errors + s->n_problems + s->n_framing_errors;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			const char *a = any_id(s, i), *b = any_id(s, j);
			if (a && b && !strcmp(a, b))
				complain(L, "id \"%s\" is used twice", a);
		}
}

int spec_load(struct spec *s, const char *path, FILE *err)
{
	struct loader L = {err, 0};
	memset(s, 0, sizeof *s);
	json_object *root = json_object_from_file(path);
	if (!root) {
		fprintf(err, "jmsg-gen: %s: %s\n", path, json_util_get_last_err());
		return -1;
	}
	if (!json_object_is_type(root, json_type_object)) {
		fprintf(err, "jmsg-gen: %s: the spec must be a JSON object\n", path);
		json_object_put(root);
		return -1;
	}
	load_protocol(&L, s, root);
	load_header(&L, s, root);
	load_framing(&L, s, root);
	load_content(&L, s, root);
	load_limits(&L, s, root);
	load_errors(&L, s, root);
	load_framing_errors(&L, s, root);
	check_ids(&L, s);
	struct spec_field *cl = field_by_key(s, "content-length");
	if (!cl || cl->type != ST_INTEGER || !cl->required)
		complain(&L, "header: content-length must be a required integer (it frames the content)");
	json_object_put(root);
	if (L.problems) {
		fprintf(err, "jmsg-gen: %s: %d problem(s)\n", path, L.problems);
		spec_free(s); /* what the sections loaded before their problems */
		return -1;
	}
	return 0;
}

void spec_free(struct spec *s)
{
	for (size_t i = 0; i < s->n_fields; i++) {
		free(s->fields[i].key);
		free(s->fields[i].ident);
		free(s->fields[i].doc);
		for (size_t k = 0; k < s->fields[i].n_enums; k++)
			free(s->fields[i].enums[k]);
		free(s->fields[i].enums);
	}
	for (size_t i = 0; i < s->n_frame; i++) {
		free(s->frame[i].id);
		free(s->frame[i].type);
		free(s->frame[i].size_from);
	}
	for (size_t i = 0; i < s->n_errors; i++) {
		free(s->errors[i].id);
		free(s->errors[i].severity);
		free(s->errors[i].recovery);
		free(s->errors[i].text);
	}
	for (size_t i = 0; i < s->n_problems; i++) {
		free(s->problems[i].id);
		free(s->problems[i].severity);
		free(s->problems[i].text);
	}
	for (size_t i = 0; i < s->n_framing_errors; i++) {
		free(s->framing_errors[i].id);
		free(s->framing_errors[i].severity);
		free(s->framing_errors[i].recovery);
		free(s->framing_errors[i].text);
	}
	free(s->framing_errors);
	for (size_t i = 0; i < s->n_json_encodings; i++)
		free(s->json_encodings[i]);
	free(s->json_encodings);
	free(s->json_content_type);
	free(s->content_type_key);
	free(s->content_encoding_key);
	for (size_t i = 0; i < s->n_summary_quoted; i++)
		free(s->summary_quoted[i]);
	free(s->summary_quoted);
	free(s->summary_verb);
	free(s->fields);
	free(s->frame);
	free(s->errors);
	free(s->problems);
	free(s->name);
	free(s->abbrev);
	free(s->transport);
	free(s->doc);
	memset(s, 0, sizeof *s);
}
