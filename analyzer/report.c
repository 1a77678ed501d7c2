/*
 * report: text and JSON-lines output of the analyzer.  See report.h.
 * Each event line is built in the report's outbuf and handed to the FILE
 * with one fwrite; no field goes through printf.
 */
#include <stdio.h>
#include <string.h>

#include "analyzer/report.h"

void report_init(report *r, FILE *out, bool json, bool quiet, tf_clock *clock, size_t max_hex)
{
	memset(r, 0, sizeof *r);
	r->json = json;
	r->quiet = quiet;
	r->clock = clock;
	r->max_hex = max_hex;
	ob_init(&r->ob, out);
}

void report_free(report *r)
{
	ob_drain(&r->ob);
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* As flow_ep_format(), without printf for the usual IPv4 endpoint. */
static void put_ep(ob_writer *o, const flow_ep *e)
{
	if (!memcmp(e->addr, v4mapped, sizeof v4mapped)) {
		ob_ipv4(o, e->addr + 12);
		ob_putc(o, ':');
		ob_u64(o, e->port);
	} else {
		char b[80];
		ob_put(o, b, flow_ep_format(e, b, sizeof b));
	}
}


/* --color: an SGR escape before a span of a text line, and the reset
 * after it; nothing without colour or in JSON. */
#define SGR_REQUEST "36"
#define SGR_RESPONSE "32"
static void sgr(report *r, const char *code)
{
	if (!r->color || r->json)
		return;
	ob_lit(&r->ob, "\033[");
	ob_puts(&r->ob, code);
	ob_putc(&r->ob, 'm');
}

static void sgr_end(report *r)
{
	if (r->color && !r->json)
		ob_lit(&r->ob, "\033[0m");
}

static const char *severity_sgr(const char *severity)
{
	return !strcmp(severity, "error") ? "1;31" : !strcmp(severity, "warning") ? "33" : "1";
}

/* Content bytes in a text line, escaped, at most REPORT_TEXT_CONTENT of
 * them, then "..." when there were more (or `more` says the content was
 * cut before). */
static void text_bytes(ob_writer *o, const uint8_t *p, size_t n, bool more)
{
	if (n > REPORT_TEXT_CONTENT) {
		n = REPORT_TEXT_CONTENT;
		more = true;
	}
	ob_bytes_text(o, p, n);
	if (more)
		ob_lit(o, "...");
}

static const char *dir_name(an_dir d)
{
	return d == AN_C2S ? "request" : "response";
}

/* The JSON keys every per-stream event starts with. */
static void json_head(report *r, const char *event, int64_t ts, const an_stream_id *s)
{
	ob_writer *o = &r->ob;
	ob_lit(o, "{\"event\":\"");
	ob_puts(o, event);
	ob_lit(o, "\",\"ts\":");
	ob_ts(o, ts);
	ob_lit(o, ",\"stream\":");
	ob_u64(o, s->id);
	ob_lit(o, ",\"client\":\"");
	put_ep(o, s->client);
	ob_lit(o, "\",\"server\":\"");
	put_ep(o, s->server);
	ob_lit(o, "\",\"community_id\":\"");
	ob_put(o, an_community_id(s), COMMUNITY_ID_LEN - 1);
	ob_putc(o, '"');
}

static void json_frames(ob_writer *o, uint64_t frame, uint64_t last)
{
	ob_lit(o, ",\"frame\":");
	ob_u64(o, frame);
	ob_lit(o, ",\"frame_last\":");
	ob_u64(o, last);
}

static void text_head(report *r, int64_t ts, const an_stream_id *s, an_dir d, uint64_t frame,
		      uint64_t last)
{
	ob_writer *o = &r->ob;
	char t[TF_MAX];
	ob_put(o, t, tf_format(r->clock, ts, t));
	ob_putc(o, ' ');
	ob_u64_pad(o, s->id, 3);
	ob_putc(o, ' ');
	put_ep(o, s->client);
	ob_lit(o, " -> ");
	put_ep(o, s->server);
	ob_putc(o, ' ');
	sgr(r, d == AN_C2S ? SGR_REQUEST : SGR_RESPONSE);
	if (d == AN_C2S)
		ob_lit(o, "request");
	else
		ob_lit(o, "response");
	sgr_end(r);
	if (d == AN_C2S)
		ob_putc(o, ' ');
	ob_lit(o, " #");
	ob_u64(o, frame);
	if (last != frame) {
		ob_putc(o, '-');
		ob_u64(o, last);
	}
	ob_putc(o, ' ');
}

static void json_message(report *r, const an_message *m, const char *ctype,
			 const char *cenc)
{
	ob_writer *o = &r->ob;
	const jm_header *h = m->header;
	json_head(r, "message", m->ts_first_ns, &m->s);
	json_frames(o, m->frame, m->frame_last);
	ob_lit(o, ",\"dir\":\"");
	ob_puts(o, dir_name(m->dir));
	ob_lit(o, "\",\"offset\":");
	ob_u64(o, m->offset);
	ob_lit(o, ",\"index\":");
	ob_u64(o, m->index);
	ob_lit(o, ",\"header_len\":");
	ob_u64(o, m->header_len);
	ob_lit(o, ",\"header\":");
	ob_json_text(o, h->raw, h->raw_len);
	ob_lit(o, ",\"content_type\":");
	ob_json_str(o, ctype, strlen(ctype));
	ob_lit(o, ",\"content_encoding\":");
	ob_json_str(o, cenc, strlen(cenc));
	ob_lit(o, ",\"content_length\":");
	ob_u64(o, m->content_length);
	if (m->content_is_json && !m->content_cut) {
		ob_lit(o, ",\"content\":");
		ob_json_text(o, (const char *)m->content, m->content_kept);
	} else {
		ob_lit(o, ",\"content_hex\":\"");
		ob_hex(o, m->content, m->content_kept);
		ob_putc(o, '"');
		if (m->content_cut)
			ob_lit(o, ",\"content_hex_truncated\":true");
	}
	if (m->content_error) {
		ob_lit(o, ",\"content_error\":\"");
		ob_puts(o, jm_error_id(m->content_error));
		ob_putc(o, '"');
	}
	if (m->warning) {
		ob_lit(o, ",\"warning\":\"");
		ob_puts(o, jm_error_id(m->warning));
		ob_putc(o, '"');
	}
	ob_lit(o, ",\"ts_last\":");
	ob_ts(o, m->ts_last_ns);
	if (m->has_latency) {
		ob_lit(o, ",\"latency_ms\":");
		ob_fixed(o, m->latency_ms, 3, 0);
	}
	ob_putc(o, '}');
}

static void text_message(report *r, const an_message *m, const char *ctype)
{
	ob_writer *o = &r->ob;
	text_head(r, m->ts_first_ns, &m->s, m->dir, m->frame, m->frame_last);
	ob_lit(o, "hdr=");
	ob_u64(o, m->header_len);
	ob_putc(o, ' ');
	ob_puts(o, ctype);
	ob_putc(o, ' ');
	ob_u64(o, m->content_length);
	ob_putc(o, ' ');
	if (m->content_is_json) {
		if (ob_json_compact_max(o, (const char *)m->content, m->content_kept,
					REPORT_TEXT_CONTENT))
			ob_lit(o, "...");
	} else {
		text_bytes(o, m->content, m->content_kept, m->content_cut);
	}
	if (m->has_latency) {
		ob_lit(o, " latency=");
		ob_fixed(o, m->latency_ms, 3, 0);
		ob_lit(o, "ms");
	}
	if (m->warning || m->content_error) {
		jm_error shown = m->warning ? m->warning : m->content_error;
		ob_putc(o, ' ');
		sgr(r, severity_sgr(jm_error_severity(shown)));
		ob_putc(o, '[');
		ob_puts(o, jm_error_id(shown));
		ob_putc(o, ']');
		sgr_end(r);
	}
}

/* Another framing's message (stream.h, an_message.framing). */
static void json_framed(report *r, const an_message *m)
{
	ob_writer *o = &r->ob;
	json_head(r, "message", m->ts_first_ns, &m->s);
	json_frames(o, m->frame, m->frame_last);
	ob_lit(o, ",\"framing\":");
	ob_json_str(o, m->framing, strlen(m->framing));
	ob_lit(o, ",\"dir\":\"");
	ob_puts(o, dir_name(m->dir));
	ob_lit(o, "\",\"offset\":");
	ob_u64(o, m->offset);
	ob_lit(o, ",\"length\":");
	ob_u64(o, m->wire_length);
	if (m->content_is_text) {
		ob_lit(o, ",\"content\":");
		ob_json_str(o, m->content, m->content_kept);
	} else {
		ob_lit(o, ",\"content_hex\":\"");
		ob_hex(o, m->content, m->content_kept);
		ob_putc(o, '"');
		if (m->content_cut)
			ob_lit(o, ",\"content_hex_truncated\":true");
	}
	ob_putc(o, '}');
}

/* Valid UTF-8 as it is, but for control bytes and backslashes, escaped
 * as ob_bytes_text() does; cut at a character's start. */
static void text_utf8(ob_writer *o, const uint8_t *p, size_t n, size_t max, bool *more)
{
	if (n > max) {
		n = max;
		while (n && (p[n] & 0xc0) == 0x80)
			n--;
		*more = true;
	}
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && (p[j] >= 0x80 || (p[j] >= 0x20 && p[j] < 0x7f && p[j] != '\\')))
			j++;
		ob_put(o, p + i, j - i);
		if (j < n)
			ob_bytes_text(o, p + j++, 1);
		i = j;
	}
}

static void text_framed(report *r, const an_message *m)
{
	ob_writer *o = &r->ob;
	text_head(r, m->ts_first_ns, &m->s, m->dir, m->frame, m->frame_last);
	ob_puts(o, m->framing);
	ob_lit(o, " len=");
	ob_u64(o, m->wire_length);
	ob_lit(o, " payload=");
	ob_u64(o, m->content_length);
	if (m->content_length)
		ob_putc(o, ' ');
	if (m->content_is_text) {
		bool more = m->content_cut;
		text_utf8(o, m->content, m->content_kept, REPORT_TEXT_CONTENT, &more);
		if (more)
			ob_lit(o, "...");
	} else {
		text_bytes(o, m->content, m->content_kept, m->content_cut);
	}
}

static void on_message(void *user, const an_message *m)
{
	report *r = user;
	if (r->quiet)
		return;
	ob_writer *o = &r->ob;
	if (m->framing) {
		if (r->json)
			json_framed(r, m);
		else
			text_framed(r, m);
		ob_endl(o);
		return;
	}
	const jm_header *h = m->header;
	const char *ctype = jm_header_str(h, JM_FIELD_CONTENT_TYPE);
	const char *cenc = jm_header_str(h, JM_FIELD_CONTENT_ENCODING);
	if (r->json)
		json_message(r, m, ctype, cenc);
	else
		text_message(r, m, ctype);
	ob_endl(o);
}

/* The header bytes of a bad message's header: how many are shown. */
static size_t header_shown(const report *r, const an_problem *p, size_t cap, bool *cut)
{
	size_t n = p->header ? p->header_kept : 0;
	*cut = n > cap;
	return *cut ? cap : n;
}

static void json_bad_header(report *r, const an_problem *p)
{
	ob_writer *o = &r->ob;
	bool cut;
	size_t n = header_shown(r, p, r->max_hex, &cut), bad;
	ob_lit(o, ",\"msg_offset\":");
	ob_u64(o, p->msg_offset);
	ob_lit(o, ",\"protoheader\":");
	ob_u64(o, p->protoheader);
	if (jm_utf8_valid(p->header, p->header_kept, &bad)) {
		/* Cut at a character's start, so the text stays UTF-8. */
		while (cut && n && (p->header[n] & 0xc0) == 0x80)
			n--;
		ob_lit(o, ",\"header_text\":");
		ob_json_str(o, p->header, n);
	} else {
		ob_lit(o, ",\"header_hex\":\"");
		ob_hex(o, p->header, n);
		ob_putc(o, '"');
	}
	if (cut)
		ob_lit(o, ",\"header_truncated\":true");
}

static void text_bad_header(report *r, const an_problem *p)
{
	ob_writer *o = &r->ob;
	bool cut;
	size_t n = header_shown(r, p, REPORT_TEXT_CONTENT, &cut);
	ob_lit(o, "; message at offset ");
	ob_u64(o, p->msg_offset);
	ob_lit(o, ", protoheader ");
	ob_u64(o, p->protoheader);
	ob_lit(o, ", header ");
	ob_bytes_text(o, p->header, n);
	if (cut)
		ob_lit(o, "...");
}

static void on_problem(void *user, const an_problem *p)
{
	report *r = user;
	ob_writer *o = &r->ob;
	const char *id = p->is_codec ? jm_error_id(p->error) : jm_problem_specs[p->prob].id;
	const char *sev = p->is_codec ? jm_error_severity(p->error)
				      : jm_problem_specs[p->prob].severity;
	if (p->is_framing) {
		id = jmf_error_id(p->ferror);
		sev = jm_framing_error_specs[p->ferror].severity;
	}
	const char *d = p->detail ? p->detail : "";
	if (r->json) {
		json_head(r, "error", p->ts_ns, &p->s);
		json_frames(o, p->frame, p->frame_last);
		ob_lit(o, ",\"dir\":\"");
		ob_puts(o, dir_name(p->dir));
		ob_lit(o, "\",\"offset\":");
		ob_u64(o, p->offset);
		ob_lit(o, ",\"kind\":\"");
		ob_puts(o, id);
		ob_lit(o, "\",\"severity\":\"");
		ob_puts(o, sev);
		ob_lit(o, "\",\"detail\":");
		ob_json_str(o, d, strlen(d));
		if (!p->is_codec && (p->prob == JM_PROB_GAP || p->prob == JM_PROB_TRUNCATED_CAPTURE ||
				     p->prob == JM_PROB_MEMCAP || p->prob == JM_PROB_RESYNC ||
				     p->prob == JM_PROB_OVERLAP_CONFLICT)) {
			ob_lit(o, ",\"bytes\":");
			ob_u64(o, p->bytes);
		}
		if (p->has_header)
			json_bad_header(r, p);
		ob_putc(o, '}');
	} else {
		text_head(r, p->ts_ns, &p->s, p->dir, p->frame, p->frame_last);
		sgr(r, severity_sgr(sev));
		ob_lit(o, "! ");
		ob_puts(o, sev);
		ob_putc(o, ' ');
		ob_puts(o, id);
		sgr_end(r);
		ob_lit(o, " at offset ");
		ob_u64(o, p->offset);
		ob_lit(o, ": ");
		ob_puts(o, d);
		if (p->has_header)
			text_bad_header(r, p);
	}
	ob_endl(o);
}

static void on_stream(void *user, const an_stream_info *si)
{
	report *r = user;
	if (!r->json || r->quiet)
		return;
	ob_writer *o = &r->ob;
	json_head(r, "stream", si->ts_ns, &si->s);
	ob_lit(o, ",\"phase\":\"");
	ob_puts(o, si->phase == AN_BEGIN ? "begin" : "end");
	ob_lit(o, "\",\"state\":\"");
	ob_puts(o, an_state_name(si->state));
	ob_lit(o, "\",\"midstream\":");
	ob_puts(o, si->midstream ? "true" : "false");
	ob_lit(o, ",\"requests\":");
	ob_u64(o, si->requests);
	ob_lit(o, ",\"responses\":");
	ob_u64(o, si->responses);
	ob_lit(o, ",\"bytes_c2s\":");
	ob_u64(o, si->bytes[0]);
	ob_lit(o, ",\"bytes_s2c\":");
	ob_u64(o, si->bytes[1]);
	ob_lit(o, ",\"gap_bytes\":");
	ob_u64(o, si->gaps[0] + si->gaps[1]);
	ob_putc(o, '}');
	ob_endl(o);
}

void report_sink(report *r, an_sink *sink)
{
	memset(sink, 0, sizeof *sink);
	sink->user = r;
	sink->message = on_message;
	sink->problem = on_problem;
	sink->stream = on_stream;
}

/* One count of by_kind(): SEP ID MID COUNT (the first SEP is *s). */
static void kind_count(ob_writer *o, const char **s, const char *sep, const char *quote,
		       const char *mid, const char *id, uint64_t n)
{
	if (!n)
		return;
	ob_puts(o, *s);
	ob_puts(o, quote);
	ob_puts(o, id);
	ob_puts(o, quote);
	ob_puts(o, mid);
	ob_u64(o, n);
	*s = sep;
}

/* The problem counts by id: capture problems, codec errors, then another
 * framing's errors. */
static void by_kind(ob_writer *o, const an_stats *as, const char *first, const char *sep,
		    const char *quote, const char *mid)
{
	const char *s = first;
	for (int i = 0; i < JM_PROB_COUNT; i++)
		kind_count(o, &s, sep, quote, mid, jm_problem_specs[i].id, as->problems[i]);
	for (int i = 1; i < JM_ERR_COUNT; i++) /* 0: JM_ERR_NONE */
		kind_count(o, &s, sep, quote, mid, jm_error_id((jm_error)i), as->errors[i]);
	for (int i = 1; i < JM_FERR_COUNT; i++)
		kind_count(o, &s, sep, quote, mid, jmf_error_id((jm_framing_error)i),
			   as->ferrors[i]);
}

/* TCP that held no message (stream.h, other ports), in the JSON summary. */
static void undecoded_json(ob_writer *o, const an_stats *as)
{
	if (!as->undecoded_streams)
		return;
	ob_lit(o, ",\"undecoded_streams\":");
	ob_u64(o, as->undecoded_streams);
	ob_lit(o, ",\"undecoded_bytes\":");
	ob_u64(o, as->undecoded_bytes);
	ob_lit(o, ",\"undecoded_ports\":[");
	for (size_t i = 0; i < as->n_undecoded_ports; i++) {
		if (i)
			ob_putc(o, ',');
		ob_u64(o, as->undecoded_ports[i]);
	}
	ob_putc(o, ']');
}

/* The same as one line of text, naming the busiest ports. */
static void undecoded_note(ob_writer *o, const an_stats *as)
{
	if (!as->undecoded_streams)
		return;
	ob_lit(o, "note: ");
	ob_u64(o, as->undecoded_streams);
	ob_puts(o, as->undecoded_streams == 1 ? " TCP stream (" : " TCP streams (");
	ob_u64(o, as->undecoded_bytes);
	ob_puts(o, as->n_undecoded_ports == 1 ? " bytes) on port " : " bytes) on ports ");
	for (size_t i = 0; i < as->n_undecoded_ports; i++) {
		if (i)
			ob_lit(o, ", ");
		ob_u64(o, as->undecoded_ports[i]);
	}
	if (as->undecoded_port_count > as->n_undecoded_ports) {
		ob_lit(o, " and ");
		ob_u64(o, as->undecoded_port_count - as->n_undecoded_ports);
		ob_lit(o, " more");
	}
	if (as->framed)
		ob_puts(o, as->undecoded_streams == 1 ? " was not decoded (--framing: --port only)"
						      : " were not decoded (--framing: --port only)");
	else if (as->no_heuristic)
		ob_puts(o, as->undecoded_streams == 1 ? " was not decoded (--no-heuristic)"
						      : " were not decoded (--no-heuristic)");
	else
		ob_lit(o, " held no jmsg messages");
	ob_lit(o, "; try --port ");
	ob_u64(o, as->n_undecoded_ports ? as->undecoded_ports[0] : 0);
	ob_endl(o);
}

/* Every error event: capture problems, codec errors, framing errors. */
static uint64_t problem_total(const an_stats *as)
{
	uint64_t n = 0;
	for (int i = 0; i < JM_PROB_COUNT; i++)
		n += as->problems[i];
	for (int i = 1; i < JM_ERR_COUNT; i++)
		n += as->errors[i];
	for (int i = 1; i < JM_FERR_COUNT; i++)
		n += as->ferrors[i];
	return n;
}

void report_summary(report *r, const cap_stats *cs, const an_stats *as)
{
	ob_writer *o = &r->ob;
	uint64_t nprob = problem_total(as);
	if (r->json) {
		ob_lit(o, "{\"event\":\"summary\",\"packets\":");
		ob_u64(o, cs->packets);
		ob_lit(o, ",\"bytes\":");
		ob_u64(o, cs->bytes);
		ob_lit(o, ",\"tcp_segments\":");
		ob_u64(o, cs->tcp);
		ob_lit(o, ",\"segments_tracked\":");
		ob_u64(o, as->segments);
		ob_lit(o, ",\"streams\":");
		ob_u64(o, as->streams);
		ob_lit(o, ",\"peak_streams\":");
		ob_u64(o, as->peak_streams);
		ob_lit(o, ",\"messages\":");
		ob_u64(o, as->requests + as->responses);
		ob_lit(o, ",\"requests\":");
		ob_u64(o, as->requests);
		ob_lit(o, ",\"responses\":");
		ob_u64(o, as->responses);
		ob_lit(o, ",\"problems\":");
		ob_u64(o, nprob);
		ob_lit(o, ",\"by_kind\":{");
		by_kind(o, as, "", ",", "\"", ":");
		ob_putc(o, '}');
		undecoded_json(o, as);
		if (cs->have_kernel) {
			ob_lit(o, ",\"kernel_received\":");
			ob_u64(o, cs->kernel_received);
			ob_lit(o, ",\"kernel_dropped\":");
			ob_u64(o, cs->kernel_dropped);
			ob_lit(o, ",\"if_dropped\":");
			ob_u64(o, cs->if_dropped);
		}
		ob_putc(o, '}');
		ob_endl(o);
		return;
	}
	ob_lit(o, "summary: ");
	ob_u64(o, cs->packets);
	ob_lit(o, " packets (");
	ob_u64(o, cs->bytes);
	ob_lit(o, " bytes), ");
	ob_u64(o, cs->tcp);
	ob_lit(o, " TCP segments, ");
	ob_u64(o, as->segments);
	ob_lit(o, " tracked; ");
	ob_u64(o, as->streams);
	ob_lit(o, " streams; ");
	ob_u64(o, as->requests + as->responses);
	ob_lit(o, " messages (");
	ob_u64(o, as->requests);
	ob_lit(o, " requests, ");
	ob_u64(o, as->responses);
	ob_lit(o, " responses); ");
	if (nprob)
		sgr(r, "1;31");
	ob_u64(o, nprob);
	ob_lit(o, " problems");
	by_kind(o, as, ": ", ", ", "", " ");
	if (nprob)
		sgr_end(r);
	ob_endl(o);
	undecoded_note(o, as);
	if (cs->have_kernel) {
		ob_lit(o, "kernel: ");
		ob_u64(o, cs->kernel_received);
		ob_lit(o, " packets received by the filter, ");
		ob_u64(o, cs->kernel_dropped);
		ob_lit(o, " dropped by the kernel, ");
		ob_u64(o, cs->if_dropped);
		ob_lit(o, " dropped by the interface");
		ob_endl(o);
	}
}

void report_capture_drops(report *r, int64_t now_ns, const cap_stats *cs)
{
	ob_writer *o = &r->ob;
	if (r->json) {
		ob_lit(o, "{\"event\":\"capture_drops\",\"ts\":");
		ob_ts(o, now_ns);
		ob_lit(o, ",\"kernel_received\":");
		ob_u64(o, cs->kernel_received);
		ob_lit(o, ",\"kernel_dropped\":");
		ob_u64(o, cs->kernel_dropped);
		ob_lit(o, ",\"if_dropped\":");
		ob_u64(o, cs->if_dropped);
		ob_putc(o, '}');
	} else {
		ob_lit(o, "capture: ");
		ob_u64(o, cs->kernel_dropped);
		ob_lit(o, " packets dropped by the kernel, ");
		ob_u64(o, cs->if_dropped);
		ob_lit(o, " by the interface, of ");
		ob_u64(o, cs->kernel_received);
		ob_lit(o, " received so far; the streams they belong to have gaps");
	}
	ob_endl(o);
	fflush(o->f);
}
