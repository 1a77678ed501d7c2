/*
 * diff: response comparison; see diff.h.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "replay/diff.h"

/* ---------------------------------------------------------------- changes */

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Cut display text at RP_DIFF_MAX_VALUE bytes on a UTF-8 boundary. */
static char *display(const char *s, size_t n)
{
	if (n <= RP_DIFF_MAX_VALUE)
		return dup_n(s, n);
	size_t cut = RP_DIFF_MAX_VALUE;
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	char *p = malloc(cut + 4);
	if (p) {
		memcpy(p, s, cut);
		memcpy(p + cut, "...", 4);
	}
	return p;
}

static char *json_display(json_object *v)
{
	const char *t = json_object_to_json_string_ext(
		v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	return display(t, strlen(t));
}

static void add_change(rp_diff *d, const char *path, char *captured, char *live,
		       bool cap_absent, bool live_absent)
{
	d->total++;
	if (d->n == RP_DIFF_MAX_CHANGES || d->oom) {
		free(captured);
		free(live);
		return;
	}
	rp_change *c = &d->c[d->n];
	c->path = strdup(path);
	c->captured = captured;
	c->live = live;
	if (!c->path || (!cap_absent && !captured) || (!live_absent && !live)) {
		free(c->path);
		free(captured);
		free(live);
		d->oom = true;
		return;
	}
	d->n++;
}

static void add_json_change(rp_diff *d, const char *path, json_object *a, json_object *b,
			    bool a_absent, bool b_absent)
{
	if (d->n == RP_DIFF_MAX_CHANGES || d->oom) {
		d->total++;  /* counted; its text is not built */
		return;
	}
	add_change(d, path, a_absent ? NULL : json_display(a), b_absent ? NULL : json_display(b),
		   a_absent, b_absent);
}

void rp_diff_clear(rp_diff *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->c[i].path);
		free(d->c[i].captured);
		free(d->c[i].live);
	}
	memset(d, 0, sizeof *d);
}

/* ---------------------------------------------------------------- JSON values */

static bool is_number(json_object *v)
{
	json_type t = json_object_get_type(v);
	return t == json_type_int || t == json_type_double;
}

static bool num_equal(json_object *a, json_object *b)
{
	if (json_object_get_type(a) == json_type_int && json_object_get_type(b) == json_type_int) {
		int64_t x = json_object_get_int64(a), y = json_object_get_int64(b);
		if (x != y)
			return false;
		/* json-c saturates past int64: tell big unsigned values apart. */
		if (x == INT64_MAX)
			return json_object_get_uint64(a) == json_object_get_uint64(b);
		return true;
	}
	return json_object_get_double(a) == json_object_get_double(b);
}

static bool json_equal(json_object *a, json_object *b)
{
	if (is_number(a) && is_number(b))
		return num_equal(a, b);
	json_type t = json_object_get_type(a);
	if (t != json_object_get_type(b))
		return false;
	switch (t) {
	case json_type_null:
		return true;
	case json_type_boolean:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_string:
		return json_object_get_string_len(a) == json_object_get_string_len(b) &&
		       !memcmp(json_object_get_string(a), json_object_get_string(b),
			       (size_t)json_object_get_string_len(a));
	case json_type_array: {
		size_t n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!json_equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
				return false;
		return true;
	}
	case json_type_object: {
		if (json_object_object_length(a) != json_object_object_length(b))
			return false;
		json_object_object_foreach(a, k, va) {
			json_object *vb;
			if (!json_object_object_get_ex(b, k, &vb) || !json_equal(va, vb))
				return false;
		}
		return true;
	}
	default:
		return false;
	}
}

/* A path step: ".key" for plain keys, ["key"] for anything else. */
static void path_key(char *out, size_t len, const char *base, const char *key)
{
	bool plain = *key != '\0';
	for (const char *p = key; *p && plain; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '_' || *p == '-';
	if (plain) {
		snprintf(out, len, "%s.%s", base, key);
		return;
	}
	jm_buf q = {0};
	if (jm_json_quote(&q, key, strlen(key)) == 0 && jm_buf_append(&q, "", 1) == 0)
		snprintf(out, len, "%s[%s]", base, (const char *)q.data);
	else
		snprintf(out, len, "%s[?]", base);
	jm_buf_free(&q);
}

#define PATH_MAX_LEN 256

static void diff_values(rp_diff *d, const char *path, json_object *a, json_object *b)
{
	if (json_equal(a, b))
		return;
	char sub[PATH_MAX_LEN];
	json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
	if (ta == json_type_object && tb == json_type_object) {
		json_object_object_foreach(a, k, va) {
			json_object *vb;
			path_key(sub, sizeof sub, path, k);
			if (!json_object_object_get_ex(b, k, &vb))
				add_json_change(d, sub, va, NULL, false, true);
			else
				diff_values(d, sub, va, vb);
		}
		json_object_object_foreach(b, k2, vb2) {
			if (!json_object_object_get_ex(a, k2, NULL)) {
				path_key(sub, sizeof sub, path, k2);
				add_json_change(d, sub, NULL, vb2, true, false);
			}
		}
		return;
	}
	if (ta == json_type_array && tb == json_type_array) {
		size_t na = json_object_array_length(a), nb = json_object_array_length(b);
		for (size_t i = 0; i < na || i < nb; i++) {
			snprintf(sub, sizeof sub, "%s[%zu]", path, i);
			if (i >= nb)
				add_json_change(d, sub, json_object_array_get_idx(a, i), NULL, false, true);
			else if (i >= na)
				add_json_change(d, sub, NULL, json_object_array_get_idx(b, i), true, false);
			else
				diff_values(d, sub, json_object_array_get_idx(a, i),
					    json_object_array_get_idx(b, i));
		}
		return;
	}
	add_json_change(d, path, a, b, false, false);
}

static json_object *parse(const char *s, size_t len)
{
	if (len > INT_MAX)
		return NULL;  /* json-c takes an int; such content is compared as bytes */
	json_tokener *tok = json_tokener_new_ex(JM_SPEC_MAX_JSON_DEPTH + 1);
	if (!tok)
		return NULL;
	json_object *v = json_tokener_parse_ex(tok, s, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) < len) {
		/* Only trailing whitespace may follow the value. */
		size_t end = json_tokener_get_parse_end(tok);
		bool ok = json_tokener_get_error(tok) == json_tokener_success;
		for (size_t i = end; ok && i < len; i++)
			ok = s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r';
		if (!ok) {
			json_object_put(v);
			v = NULL;
		}
	}
	json_tokener_free(tok);
	return v;
}

/* ---------------------------------------------------------------- bytes */

int rp_quote_excerpt(jm_buf *out, const uint8_t *p, size_t len, size_t from, size_t max)
{
	if (from > len)
		from = len;
	size_t n = len - from < max ? len - from : max;
	int rc = 0;
	if (from)
		rc |= jm_buf_append(out, "...", 3);
	rc |= jm_json_quote(out, p + from, n);
	if (from + n < len)
		rc |= jm_buf_append(out, "...", 3);
	return rc ? -1 : 0;
}

static char *bytes_display(const uint8_t *p, size_t len, size_t from)
{
	jm_buf b = {0};
	char *s = NULL;
	if (rp_quote_excerpt(&b, p, len, from, RP_DIFF_MAX_VALUE / 2) == 0)
		s = dup_n((const char *)jm_buf_head(&b), jm_buf_pending(&b));
	jm_buf_free(&b);
	return s;
}

static void diff_bytes(rp_diff *d, const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	if (na == nb && !memcmp(a, b, na))
		return;
	size_t i = 0;
	while (i < na && i < nb && a[i] == b[i])
		i++;
	/* Show the bytes around the first difference, with a little lead-in so
	 * a reader sees where it is. */
	size_t from = i > 16 ? i - 16 : 0;
	if (na <= RP_DIFF_MAX_VALUE / 2 && nb <= RP_DIFF_MAX_VALUE / 2)
		from = 0;
	add_change(d, "content", bytes_display(a, na, from), bytes_display(b, nb, from), false,
		   false);
}

/* ---------------------------------------------------------------- messages */

static bool ignored(const rp_ignore *ign, const char *key)
{
	for (size_t i = 0; ign && i < ign->n; i++)
		if (!strcmp(ign->keys[i], key))
			return true;
	return false;
}

static void diff_headers(rp_diff *d, const rp_msg *a, const rp_msg *b, const rp_ignore *ign)
{
	json_object *ha = parse(rp_msg_header(a), a->header_len);
	json_object *hb = parse(rp_msg_header(b), b->header_len);
	char sub[PATH_MAX_LEN];
	if (!ha || !hb || !json_object_is_type(ha, json_type_object) ||
	    !json_object_is_type(hb, json_type_object)) {
		/* The codec validated both; this is only a fallback. */
		if (a->header_len != b->header_len ||
		    memcmp(rp_msg_header(a), rp_msg_header(b), a->header_len))
			add_change(d, "header", display(rp_msg_header(a), a->header_len),
				   display(rp_msg_header(b), b->header_len), false, false);
		goto out;
	}
	json_object_object_foreach(ha, k, va) {
		if (ignored(ign, k))
			continue;
		json_object *vb;
		path_key(sub, sizeof sub, "header", k);
		if (!json_object_object_get_ex(hb, k, &vb))
			add_json_change(d, sub, va, NULL, false, true);
		else
			diff_values(d, sub, va, vb);
	}
	json_object_object_foreach(hb, k2, vb2) {
		if (ignored(ign, k2) || json_object_object_get_ex(ha, k2, NULL))
			continue;
		path_key(sub, sizeof sub, "header", k2);
		add_json_change(d, sub, NULL, vb2, true, false);
	}
out:
	json_object_put(ha);
	json_object_put(hb);
}

int rp_compare(const rp_msg *captured, const rp_msg *live, const rp_ignore *ign, rp_diff *d)
{
	memset(d, 0, sizeof *d);
	diff_headers(d, captured, live, ign);
	const uint8_t *ca = rp_msg_content(captured), *cb = rp_msg_content(live);
	size_t na = rp_msg_content_len(captured), nb = rp_msg_content_len(live);
	json_object *ja = NULL, *jb = NULL;
	if (captured->content_is_json && live->content_is_json) {
		ja = parse((const char *)ca, na);
		jb = parse((const char *)cb, nb);
	}
	if (ja && jb)
		diff_values(d, "content", ja, jb);
	else
		diff_bytes(d, ca, na, cb, nb);
	json_object_put(ja);
	json_object_put(jb);
	if (d->oom)
		return -1;
	return (int)(d->total > INT32_MAX ? INT32_MAX : d->total);
}

/* ---------------------------------------------------------------- output */

int rp_diff_text(const rp_diff *d, jm_buf *out)
{
	int rc = 0;
	for (size_t i = 0; i < d->n; i++) {
		const rp_change *c = &d->c[i];
		if (i)
			rc |= jm_buf_append(out, "; ", 2);
		rc |= jm_buf_append(out, c->path, strlen(c->path));
		rc |= jm_buf_append(out, ": ", 2);
		const char *a = c->captured ? c->captured : "(absent)";
		const char *b = c->live ? c->live : "(absent)";
		rc |= jm_buf_append(out, a, strlen(a));
		rc |= jm_buf_append(out, " -> ", 4);
		rc |= jm_buf_append(out, b, strlen(b));
	}
	if (d->total > d->n) {
		char more[64];
		int n = snprintf(more, sizeof more, "; and %zu more", d->total - d->n);
		rc |= jm_buf_append(out, more, (size_t)n);
	}
	return rc ? -1 : 0;
}

int rp_diff_json(const rp_diff *d, jm_buf *out)
{
	int rc = jm_buf_append(out, "[", 1);
	for (size_t i = 0; i < d->n; i++) {
		const rp_change *c = &d->c[i];
		if (i)
			rc |= jm_buf_append(out, ",", 1);
		rc |= jm_buf_append(out, "{\"path\":", 8);
		rc |= jm_json_quote(out, c->path, strlen(c->path));
		rc |= jm_buf_append(out, ",\"captured\":", 12);
		if (c->captured)
			rc |= jm_json_quote(out, c->captured, strlen(c->captured));
		else
			rc |= jm_buf_append(out, "null", 4);
		rc |= jm_buf_append(out, ",\"live\":", 8);
		if (c->live)
			rc |= jm_json_quote(out, c->live, strlen(c->live));
		else
			rc |= jm_buf_append(out, "null", 4);
		rc |= jm_buf_append(out, "}", 1);
	}
	rc |= jm_buf_append(out, "]", 1);
	return rc ? -1 : 0;
}
