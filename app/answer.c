/*
 * answer: the server's responses as bytes; see answer.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "app/answer.h"

/* The tutorial's search table.  This is its only copy: the server uses it
 * unless --search-table names another. */
static const char *const default_table[][2] = {
	{"morpheus", "Follow the white rabbit. \xf0\x9f\x90\xb0"},
	{"ring", "In the caves beneath the Misty Mountains. \xf0\x9f\x92\x8d"},
	{"\xf0\x9f\x90\xb6", "\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90"},
};

int app_table_default(app_table *t)
{
	t->obj = json_object_new_object();
	if (!t->obj)
		return -1;
	for (size_t i = 0; i < sizeof default_table / sizeof default_table[0]; i++)
		json_object_object_add(t->obj, default_table[i][0],
				       json_object_new_string(default_table[i][1]));
	return 0;
}

/* In a JSON object whose values are all strings, does a key hold the
 * escape \u0000?  Keys are the strings after '{' or ','. */
static bool key_has_nul(const char *s, size_t n)
{
	char last = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '"') {
			if (s[i] == '{' || s[i] == ',' || s[i] == ':')
				last = s[i];
			continue;
		}
		bool key = last == '{' || last == ',', nul = false;
		for (i++; i < n && s[i] != '"'; i++) {
			if (s[i] != '\\')
				continue;
			if (i + 5 < n && s[i + 1] == 'u' && !memcmp(s + i + 2, "0000", 4))
				nul = true;
			i++; /* the escaped character; a \u escape's hex digits need no skipping */
		}
		if (key && nul)
			return true;
		last = '"';
	}
	return false;
}

/* A key for an error line: quoted, control characters escaped, cut. */
static void shown_key(char *buf, size_t len, const char *key)
{
	jm_buf q = {0};
	if (jm_json_quote(&q, key, strlen(key)) < 0) {
		snprintf(buf, len, "?");
		return;
	}
	int n = (int)jm_buf_pending(&q);
	snprintf(buf, len, "%.*s%s", n > 60 ? 60 : n, (const char *)jm_buf_head(&q), n > 60 ? "..." : "");
	jm_buf_free(&q);
}

int app_table_load(app_table *t, const char *path, uint64_t max_bytes, char *err, size_t errlen)
{
	t->obj = NULL;
	if (max_bytes > INT_MAX) /* json-c takes an int length */
		max_bytes = INT_MAX;
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open search table '%s': %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	bool too_big = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
		       (uint64_t)st.st_size > max_bytes;
	jm_buf b = {0};
	char chunk[8192];
	size_t n;
	bool oom = false;
	while (!too_big && !oom && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		/* not a regular file (a pipe, /dev/zero): count as it comes */
		if (n > max_bytes - jm_buf_pending(&b))
			too_big = true;
		else if (jm_buf_append(&b, chunk, n) < 0)
			oom = true;
	}
	int rd_err = !too_big && !oom && ferror(f);
	fclose(f);
	if (too_big || oom || rd_err) {
		jm_buf_free(&b);
		if (too_big)
			snprintf(err, errlen, "search table '%s' is larger than %llu bytes (see --max-table)",
				 path, (unsigned long long)max_bytes);
		else
			snprintf(err, errlen, "cannot read search table '%s': %s", path,
				 oom ? "out of memory" : "read error");
		return -1;
	}
	size_t at = 0;
	const char *why = NULL;
	if (!jm_json_valid((const char *)jm_buf_head(&b), jm_buf_pending(&b), &at, &why)) {
		snprintf(err, errlen, "search table '%s' is not valid JSON (byte %zu: %s)", path, at,
			 why ? why : "invalid");
		jm_buf_free(&b);
		return -1;
	}
	struct json_tokener *tok = json_tokener_new_ex(JM_SPEC_MAX_JSON_DEPTH + 1);
	struct json_object *o = tok ? json_tokener_parse_ex(tok, (const char *)jm_buf_head(&b),
							    (int)jm_buf_pending(&b)) : NULL;
	if (tok)
		json_tokener_free(tok);
	int rc = -1;
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "search table '%s' must be a JSON object of value -> result", path);
		goto out;
	}
	json_object_object_foreach(o, key, val) {
		if (!json_object_is_type(val, json_type_string)) {
			char k[80];
			shown_key(k, sizeof k, key);
			snprintf(err, errlen, "search table '%s': the result for %s is not a string", path, k);
			goto out;
		}
	}
	if (key_has_nul((const char *)jm_buf_head(&b), jm_buf_pending(&b))) {
		snprintf(err, errlen, "search table '%s': a value to search for holds NUL (\\u0000)", path);
		goto out;
	}
	t->obj = o;
	o = NULL;
	rc = 0;
out:
	json_object_put(o);
	jm_buf_free(&b);
	return rc;
}

void app_table_free(app_table *t)
{
	json_object_put(t->obj);
	t->obj = NULL;
}

const char *app_table_lookup(const app_table *t, const char *value, size_t len, size_t *res_len)
{
	struct json_object *r;
	/* A value with an embedded NUL cannot be a table key. */
	if (!t->obj || strlen(value) != len || !json_object_object_get_ex(t->obj, value, &r))
		return NULL;
	*res_len = (size_t)json_object_get_string_len(r);
	return json_object_get_string(r);
}

const char *app_keep_alive_member(void)
{
	static char member[64];
	if (!member[0])
		snprintf(member, sizeof member, "\"%s\": \"%s\"",
			 jm_field_specs[JM_FIELD_CONNECTION].key, APP_KEEP_ALIVE);
	return member;
}

int app_json_str(jm_buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	if (jm_buf_reserve(out, len + 2) < 0 || jm_buf_append(out, "\"", 1) < 0)
		return -1;
	size_t run = 0; /* bytes copied in one go between escapes */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t el = 2;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			if (c >= 0x20)
				continue;
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			el = 6;
		}
		if (jm_buf_append(out, s + run, i - run) < 0 || jm_buf_append(out, esc, el) < 0)
			return -1;
		run = i + 1;
	}
	if (jm_buf_append(out, s + run, len - run) < 0 || jm_buf_append(out, "\"", 1) < 0)
		return -1;
	return 0;
}

/* Build the content in `tmp`, then the whole message in `out`. */
static int emit_json(jm_buf *out, jm_buf *content, const char *extra)
{
	int rc = jm_encode(out, JM_SPEC_JSON_CONTENT_TYPE, jm_json_encodings[0], extra,
			   jm_buf_head(content), jm_buf_pending(content));
	return rc;
}

static jm_buf scratch; /* response content; reused, never shrinks */
static jm_buf text;    /* the result string before quoting */

void app_answer_cleanup(void)
{
	jm_buf_free(&scratch);
	jm_buf_free(&text);
}

static int result_response(jm_buf *out, const char *pre, const char *mid, size_t mid_len,
			   const char *post, const char *extra)
{
	/* {"result": "<pre><mid><post>"}, quoted as one string */
	jm_buf *c = &scratch;
	c->len = c->off = 0;
	text.len = text.off = 0;
	if (jm_buf_append(&text, pre, strlen(pre)) < 0 || jm_buf_append(&text, mid, mid_len) < 0 ||
	    jm_buf_append(&text, post, strlen(post)) < 0)
		return -1;
	if (jm_buf_append(c, "{\"result\": ", 11) < 0 ||
	    app_json_str(c, (const char *)jm_buf_head(&text), jm_buf_pending(&text)) < 0 ||
	    jm_buf_append(c, "}", 1) < 0)
		return -1;
	return emit_json(out, c, extra);
}

int app_answer_error(jm_buf *out, const char *kind, const char *detail)
{
	jm_buf *c = &scratch;
	c->len = c->off = 0;
	if (jm_buf_append(c, "{\"error\": ", 10) < 0 || app_json_str(c, kind, strlen(kind)) < 0 ||
	    jm_buf_append(c, ", \"detail\": ", 12) < 0 ||
	    app_json_str(c, detail, strlen(detail)) < 0 || jm_buf_append(c, "}", 1) < 0)
		return -1;
	return emit_json(out, c, NULL);
}

static int bad_request(jm_buf *out, const char *detail)
{
	return app_answer_error(out, APP_ERR_BAD_REQUEST, detail) < 0 ? -1 : 1;
}

int app_answer_json(jm_buf *out, const app_table *t, struct json_tokener *tok,
		    const uint8_t *content, size_t len, const char *extra)
{
	if (len > INT_MAX) /* json-c takes an int length */
		return bad_request(out, "request content is too large to parse");
	json_tokener_reset(tok);
	struct json_object *req = json_tokener_parse_ex(tok, (const char *)content, (int)len);
	if (!req || json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(req);
		return bad_request(out, "request content could not be parsed as JSON");
	}
	int rc;
	struct json_object *action, *value;
	if (!json_object_is_type(req, json_type_object)) {
		rc = bad_request(out, "request content is not a JSON object");
	} else if (!json_object_object_get_ex(req, "action", &action) ||
		   !json_object_is_type(action, json_type_string)) {
		rc = bad_request(out, "request has no \"action\" string");
	} else if (strcmp(json_object_get_string(action), APP_SEARCH_ACTION) != 0 ||
		   (size_t)json_object_get_string_len(action) != strlen(APP_SEARCH_ACTION)) {
		rc = result_response(out, "Error: invalid action '", json_object_get_string(action),
				     (size_t)json_object_get_string_len(action), "'.", extra);
	} else if (!json_object_object_get_ex(req, "value", &value) ||
		   !json_object_is_type(value, json_type_string)) {
		rc = bad_request(out, "search request has no \"value\" string");
	} else {
		const char *v = json_object_get_string(value);
		size_t vl = (size_t)json_object_get_string_len(value), rl = 0;
		const char *r = app_table_lookup(t, v, vl, &rl);
		rc = r ? result_response(out, "", r, rl, "", extra)
		       : result_response(out, "No match for '", v, vl, "'.", extra);
	}
	json_object_put(req);
	return rc;
}

int app_answer_binary(jm_buf *out, const uint8_t *first, size_t n, const char *extra)
{
	uint8_t c[sizeof APP_BINARY_PREFIX - 1 + APP_BINARY_ECHO];
	size_t pl = sizeof APP_BINARY_PREFIX - 1;
	if (n > APP_BINARY_ECHO)
		n = APP_BINARY_ECHO;
	memcpy(c, APP_BINARY_PREFIX, pl);
	memcpy(c + pl, first, n);
	return jm_encode(out, APP_BINARY_RESPONSE_TYPE, APP_BINARY_ENCODING, extra, c, pl + n);
}

int app_bytes_repr(jm_buf *out, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	/* Python picks " only when the bytes hold ' and no ".  (No bytes
	 * may come with p NULL, which memchr must not be given.) */
	char q = (n && memchr(p, '\'', n) && !memchr(p, '"', n)) ? '"' : '\'';
	char pre[2] = {'b', q};
	if (jm_buf_append(out, pre, 2) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		char e[4];
		size_t el = 2;
		e[0] = '\\';
		if (c == '\\' || c == (uint8_t)q) {
			e[1] = (char)c;
		} else if (c == '\t') {
			e[1] = 't';
		} else if (c == '\n') {
			e[1] = 'n';
		} else if (c == '\r') {
			e[1] = 'r';
		} else if (c < 0x20 || c >= 0x7f) {
			e[1] = 'x';
			e[2] = hex[c >> 4];
			e[3] = hex[c & 15];
			el = 4;
		} else {
			e[0] = (char)c;
			el = 1;
		}
		if (jm_buf_append(out, e, el) < 0)
			return -1;
	}
	return jm_buf_append(out, &q, 1);
}
