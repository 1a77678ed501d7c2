/*
 * report: comparing, counting and printing; see report.h.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "replay/report.h"

typedef struct slot {
	jm_buf out;               /* this stream's lines, until it is its turn */
	bool done;
} slot;

struct rp_report {
	const rp_capture *c;
	const rp_ignore *ign;
	FILE *f;
	bool json, verbose;
	const char *target;
	uint64_t timeout_ms;
	slot *slots;              /* one per stream of c, same order */
	size_t flushed;           /* slots before this one are printed */
	rp_counts n;
	bool oom;
};

static size_t index_of(const rp_report *r, const rp_stream *s)
{
	return (size_t)(s - r->c->s);
}

static void put(rp_report *r, jm_buf *b, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(rp_report *r, jm_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (jm_buf_vprintf(b, fmt, ap) < 0)
		r->oom = true;
	va_end(ap);
}

static void put_quoted(rp_report *r, jm_buf *b, const char *s)
{
	if (jm_json_quote(b, s, strlen(s)) < 0)
		r->oom = true;
}

/* The start of a line about response `i` of stream `s`. */
static void line_start(rp_report *r, jm_buf *b, const rp_stream *s, const char *type, size_t i)
{
	if (r->json)
		put(r, b, "{\"event\":\"%s\",\"stream\":%" PRIu64 ",\"response\":%zu", type, s->id, i);
	else
		put(r, b, "stream %" PRIu64 " response %zu: ", s->id, i);
}

static void flush(rp_report *r)
{
	while (r->flushed < r->c->n && r->slots[r->flushed].done) {
		slot *sl = &r->slots[r->flushed];
		if (jm_buf_pending(&sl->out))
			fwrite(jm_buf_head(&sl->out), 1, jm_buf_pending(&sl->out), r->f);
		jm_buf_free(&sl->out);
		r->flushed++;
	}
	fflush(r->f);
}

/* ---------------------------------------------------------------- events */

/* One line summing up a message: its content-type and a content excerpt. */
static void put_msg_summary(rp_report *r, jm_buf *b, const rp_msg *m)
{
	/* The header was validated by the decoder; parse it for the type. */
	char ct[128] = "?";
	json_tokener *tok = json_tokener_new();
	json_object *h = tok ? json_tokener_parse_ex(tok, rp_msg_header(m), m->header_len) : NULL;
	json_object *v;
	if (h && json_object_object_get_ex(h, jm_field_specs[JM_FIELD_CONTENT_TYPE].key, &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(ct, sizeof ct, "%s", json_object_get_string(v));
	json_object_put(h);
	if (tok)
		json_tokener_free(tok);
	size_t n = rp_msg_content_len(m);
	if (r->json) {
		put(r, b, ",\"content_type\":");
		put_quoted(r, b, ct);
		put(r, b, ",\"content_length\":%zu,\"content\":", n);
		if (jm_json_quote(b, rp_msg_content(m), n < 60 ? n : 60) < 0)
			r->oom = true;
	} else {
		put(r, b, "%s ", ct);
		if (rp_quote_excerpt(b, rp_msg_content(m), n, 0, 60) < 0)
			r->oom = true;
	}
}

static void on_response(void *user, const rp_stream *s, size_t i, const rp_msg *live)
{
	rp_report *r = user;
	slot *sl = &r->slots[index_of(r, s)];
	size_t known = rp_stream_known_responses(s);
	if (i >= s->n[RP_REQ]) {
		r->n.extra++;
		line_start(r, &sl->out, s, "extra", i);
		if (!r->json)
			put(r, &sl->out, "extra response, not in the capture: ");
		put_msg_summary(r, &sl->out, live);
		put(r, &sl->out, r->json ? "}\n" : "\n");
		return;
	}
	if (i >= known) {
		r->n.unchecked++;
		if (r->verbose) {
			line_start(r, &sl->out, s, "unchecked", i);
			put(r, &sl->out, r->json ? "}\n" : "not in the capture, not compared\n");
		}
		return;
	}
	r->n.responses++;
	rp_diff d;
	int nd = rp_compare(&s->msg[RP_RESP][i], live, r->ign, &d);
	if (nd < 0) {
		r->oom = true;
	} else if (nd == 0) {
		r->n.identical++;
		if (r->verbose) {
			line_start(r, &sl->out, s, "identical", i);
			put(r, &sl->out, r->json ? "}\n" : "identical\n");
		}
	} else {
		r->n.different++;
		line_start(r, &sl->out, s, "diff", i);
		if (r->json) {
			put(r, &sl->out, ",\"changes\":");
			if (rp_diff_json(&d, &sl->out) < 0)
				r->oom = true;
			put(r, &sl->out, ",\"more\":%zu}\n", d.total - d.n);
		} else {
			if (rp_diff_text(&d, &sl->out) < 0)
				r->oom = true;
			put(r, &sl->out, "\n");
		}
	}
	rp_diff_clear(&d);
}

static void on_bad_response(void *user, const rp_stream *s, size_t i, jm_error e,
			    const char *detail)
{
	rp_report *r = user;
	slot *sl = &r->slots[index_of(r, s)];
	r->n.errors++;
	line_start(r, &sl->out, s, "malformed", i);
	if (r->json) {
		put(r, &sl->out, ",\"error\":\"%s\",\"detail\":", jm_error_id(e));
		put_quoted(r, &sl->out, detail ? detail : jm_error_text(e));
		put(r, &sl->out, "}\n");
	} else {
		put(r, &sl->out, "malformed: %s: %s\n", jm_error_id(e),
		    detail ? detail : jm_error_text(e));
	}
}

static void why_missing(rp_report *r, const rp_stream *s, const rp_stream_result *res, char *buf,
			size_t len)
{
	switch (res->end) {
	case RP_END_CLOSED:
		snprintf(buf, len, "the server closed the connection after %zu response%s",
			 res->answered, res->answered == 1 ? "" : "s");
		break;
	case RP_END_RESET:
		snprintf(buf, len, "connection broken: %s", strerror(res->sys_errno));
		break;
	case RP_END_TIMEOUT:
		/* Say how far sending got: a target that stops reading shows as
		 * requests not all written. */
		if (res->sent < s->n[RP_REQ])
			snprintf(buf, len, "no progress for %.3g s, with %zu of %zu requests written",
				 (double)r->timeout_ms / 1000, res->sent, s->n[RP_REQ]);
		else
			snprintf(buf, len, "no progress for %.3g s", (double)r->timeout_ms / 1000);
		break;
	case RP_END_MALFORMED:
		snprintf(buf, len, "stopped at a malformed response");
		break;
	case RP_END_INTERRUPTED:
		snprintf(buf, len, "replay interrupted");
		break;
	default:
		snprintf(buf, len, "not sent");
		break;
	}
}

static void note_incomplete(rp_report *r, const rp_stream *s, jm_buf *b)
{
	char what[512];
	rp_stream_describe_cut(s, what, sizeof what);
	if (!what[0])
		return;
	r->n.incomplete++;
	if (r->json) {
		put(r, b, "{\"event\":\"incomplete\",\"stream\":%" PRIu64 ",\"detail\":", s->id);
		put_quoted(r, b, what);
		put(r, b, ",\"requests\":%zu}\n", s->n[RP_REQ]);
	} else {
		put(r, b, "stream %" PRIu64 ": incomplete capture, replayed as far as it is known: %s\n",
		    s->id, what);
	}
}

static void on_done(void *user, const rp_stream *s, const rp_stream_result *res)
{
	rp_report *r = user;
	slot *sl = &r->slots[index_of(r, s)];
	/* The note goes first, so a reader meets it before the differences. */
	jm_buf lines = sl->out;
	memset(&sl->out, 0, sizeof sl->out);
	note_incomplete(r, s, &sl->out);
	r->n.streams++;
	r->n.requests += res->sent;
	if (res->end == RP_END_CONNECT) {
		r->n.errors++;
		r->n.connect_errors++;
		if (r->json) {
			put(r, &sl->out, "{\"event\":\"error\",\"stream\":%" PRIu64
				  ",\"error\":\"connect\",\"detail\":", s->id);
			put_quoted(r, &sl->out, strerror(res->sys_errno));
			put(r, &sl->out, "}\n");
		} else {
			put(r, &sl->out, "stream %" PRIu64 ": cannot connect to %s: %s\n", s->id,
			    r->target, strerror(res->sys_errno));
		}
	}
	if (jm_buf_pending(&lines) && jm_buf_append(&sl->out, jm_buf_head(&lines),
						    jm_buf_pending(&lines)) < 0)
		r->oom = true;
	jm_buf_free(&lines);
	if (res->end != RP_END_CONNECT) {
		char why[160];
		why_missing(r, s, res, why, sizeof why);
		size_t known = rp_stream_known_responses(s);
		for (size_t i = res->answered; i < s->n[RP_REQ]; i++) {
			if (i >= known) {
				r->n.unchecked++;
				continue;
			}
			r->n.missing++;
			line_start(r, &sl->out, s, "missing", i);
			if (r->json) {
				put(r, &sl->out, ",\"reason\":\"%s\",\"detail\":", rp_end_name(res->end));
				put_quoted(r, &sl->out, why);
				put(r, &sl->out, "}\n");
			} else {
				put(r, &sl->out, "missing: %s\n", why);
			}
		}
	}
	sl->done = true;
	flush(r);
}

rp_events rp_report_events(rp_report *r)
{
	rp_events ev = {
		.user = r,
		.response = on_response,
		.bad_response = on_bad_response,
		.done = on_done,
	};
	return ev;
}

/* ---------------------------------------------------------------- life */

rp_report *rp_report_new(const rp_capture *c, const rp_ignore *ign, FILE *out, bool json,
			 bool verbose, const char *target, uint64_t timeout_ms)
{
	rp_report *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->slots = calloc(c->n ? c->n : 1, sizeof *r->slots);
	if (!r->slots) {
		free(r);
		return NULL;
	}
	r->c = c;
	r->ign = ign;
	r->f = out;
	r->json = json;
	r->verbose = verbose;
	r->target = target;
	r->timeout_ms = timeout_ms;
	/* Streams the engine will not run are settled now. */
	for (size_t i = 0; i < c->n; i++) {
		const rp_stream *s = &c->s[i];
		if (!s->selected) {
			r->slots[i].done = true;
		} else if (s->n[RP_REQ] == 0) {
			slot *sl = &r->slots[i];
			char what[512];
			rp_stream_describe_cut(s, what, sizeof what);
			const char *why = what[0] ? what : "no request in the capture";
			r->n.skipped++;
			if (json) {
				put(r, &sl->out, "{\"event\":\"skipped\",\"stream\":%" PRIu64 ",\"detail\":",
				    s->id);
				put_quoted(r, &sl->out, why);
				put(r, &sl->out, "}\n");
			} else {
				put(r, &sl->out, "stream %" PRIu64 ": not replayed: %s\n", s->id, why);
			}
			sl->done = true;
		}
	}
	return r;
}

void rp_report_free(rp_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->c->n; i++)
		jm_buf_free(&r->slots[i].out);
	free(r->slots);
	free(r);
}

void rp_report_counts(const rp_report *r, rp_counts *out)
{
	*out = r->n;
}

int rp_report_finish(rp_report *r, double seconds, bool interrupted)
{
	/* Anything still held (a stream the engine never finished) goes out
	 * as it is. */
	for (size_t i = r->flushed; i < r->c->n; i++)
		r->slots[i].done = true;
	flush(r);
	const rp_counts *n = &r->n;
	int code = JM_EXIT_OK;
	if (n->connect_errors || interrupted)
		code = JM_EXIT_REPLAY_FAILED;
	else if (n->different || n->missing || n->extra || n->errors)
		code = JM_EXIT_REPLAY_DIFFERS;
	if (r->json) {
		fprintf(r->f,
			"{\"event\":\"summary\",\"streams\":%" PRIu64 ",\"skipped\":%" PRIu64
			",\"incomplete\":%" PRIu64 ",\"requests\":%" PRIu64 ",\"responses\":%" PRIu64
			",\"identical\":%" PRIu64 ",\"different\":%" PRIu64 ",\"missing\":%" PRIu64
			",\"extra\":%" PRIu64 ",\"unchecked\":%" PRIu64 ",\"errors\":%" PRIu64
			",\"seconds\":%.3f,\"interrupted\":%s,\"exit\":%d}\n",
			n->streams, n->skipped, n->incomplete, n->requests, n->responses, n->identical,
			n->different, n->missing, n->extra, n->unchecked, n->errors, seconds,
			interrupted ? "true" : "false", code);
	} else {
		fprintf(r->f,
			"replay: %" PRIu64 " stream%s (%" PRIu64 " incomplete, %" PRIu64 " skipped), %" PRIu64
			" requests, %" PRIu64 " responses compared: %" PRIu64 " identical, %" PRIu64
			" different, %" PRIu64 " missing, %" PRIu64 " extra, %" PRIu64 " errors",
			n->streams, n->streams == 1 ? "" : "s", n->incomplete, n->skipped, n->requests,
			n->responses, n->identical, n->different, n->missing, n->extra, n->errors);
		if (n->unchecked)
			fprintf(r->f, ", %" PRIu64 " not in the capture", n->unchecked);
		fprintf(r->f, " (%.2f s)\n", seconds);
	}
	fflush(r->f);
	if (r->oom) {
		fprintf(stderr, "jmsg replay: out of memory while reporting; lines may be missing\n");
		if (code == JM_EXIT_OK)
			code = JM_EXIT_REPLAY_FAILED;
	}
	return code;
}
