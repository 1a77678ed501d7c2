/*
 * report: text and JSON-lines output of the analyzer.  See report.h.
 * Each event is built in one buffer and written with one fwrite.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analyzer/report.h"

static const char hexd[] = "0123456789abcdef";

void report_init(report *r, FILE *out, bool json, bool quiet)
{
	memset(r, 0, sizeof *r);
	r->out = out;
	r->json = json;
	r->quiet = quiet;
}

void report_free(report *r)
{
	jm_buf_free(&r->line);
}

static void put(report *r, const char *s, size_t n)
{
	jm_buf_append(&r->line, s, n);
}

static void puts_(report *r, const char *s)
{
	put(r, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) putf(report *r, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(r, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void put_u64(report *r, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof tmp;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(r, tmp + i, sizeof tmp - i);
}

static void put_ep(report *r, const flow_ep *e)
{
	char b[80];
	size_t n = flow_ep_format(e, b, sizeof b);
	put(r, b, n);
}

static void flush_line(report *r)
{
	put(r, "\n", 1);
	fwrite(jm_buf_head(&r->line), 1, jm_buf_pending(&r->line), r->out);
	r->line.len = r->line.off = 0;
}

/* JSON text with raw line breaks: those are insignificant whitespace (a
 * JSON string cannot hold them raw), so compacting keeps the meaning. */
static void put_json_raw(report *r, const char *s, size_t n)
{
	if (memchr(s, '\n', n) || memchr(s, '\r', n))
		jm_json_compact(&r->line, s, n);
	else
		put(r, s, n);
}

static double rel(report *r, int64_t ts)
{
	if (!r->have_t0) {
		r->have_t0 = true;
		r->t0 = ts;
	}
	return (double)(ts - r->t0) / 1e9;
}

/* Seconds with microseconds, or nanoseconds when the capture has them. */
static void put_ts(report *r, int64_t ns)
{
	int64_t sec = ns / 1000000000, frac = ns % 1000000000;
	if (frac < 0) {
		sec--;
		frac += 1000000000;
	}
	if (frac % 1000)
		putf(r, "%lld.%09lld", (long long)sec, (long long)frac);
	else
		putf(r, "%lld.%06lld", (long long)sec, (long long)(frac / 1000));
}

static const char *dir_name(an_dir d)
{
	return d == AN_C2S ? "request" : "response";
}

/* The JSON keys every per-stream event starts with. */
static void json_head(report *r, const char *event, int64_t ts, const an_stream_id *s)
{
	puts_(r, "{\"event\":\"");
	puts_(r, event);
	puts_(r, "\",\"ts\":");
	put_ts(r, ts);
	puts_(r, ",\"stream\":");
	put_u64(r, s->id);
	puts_(r, ",\"client\":\"");
	put_ep(r, s->client);
	puts_(r, "\",\"server\":\"");
	put_ep(r, s->server);
	puts_(r, "\"");
}

static void text_head(report *r, int64_t ts, const an_stream_id *s, an_dir d)
{
	putf(r, "%11.6f %3llu ", rel(r, ts), (unsigned long long)s->id);
	put_ep(r, s->client);
	puts_(r, " -> ");
	put_ep(r, s->server);
	puts_(r, d == AN_C2S ? " request  " : " response ");
}

/* Bytes as text: printable ASCII kept, the rest as \xNN. */
static void put_escaped(report *r, const uint8_t *p, size_t n)
{
	char b[4] = {'\\', 'x', 0, 0};
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			put(r, (const char *)p + i, 1);
		} else {
			b[2] = hexd[p[i] >> 4];
			b[3] = hexd[p[i] & 15];
			put(r, b, 4);
		}
	}
}

static void on_message(void *user, const an_message *m)
{
	report *r = user;
	if (r->quiet)
		return;
	const jm_header *h = m->header;
	const char *ctype = jm_header_str(h, JM_FIELD_CONTENT_TYPE);
	const char *cenc = jm_header_str(h, JM_FIELD_CONTENT_ENCODING);
	if (r->json) {
		json_head(r, "message", m->ts_first_ns, &m->s);
		puts_(r, ",\"dir\":\"");
		puts_(r, dir_name(m->dir));
		puts_(r, "\",\"offset\":");
		put_u64(r, m->offset);
		puts_(r, ",\"index\":");
		put_u64(r, m->index);
		puts_(r, ",\"header_len\":");
		put_u64(r, m->header_len);
		puts_(r, ",\"header\":");
		put_json_raw(r, h->raw, h->raw_len);
		puts_(r, ",\"content_type\":");
		jm_json_quote(&r->line, ctype, strlen(ctype));
		puts_(r, ",\"content_encoding\":");
		jm_json_quote(&r->line, cenc, strlen(cenc));
		puts_(r, ",\"content_length\":");
		put_u64(r, m->content_length);
		if (m->content_is_json && !m->content_cut) {
			puts_(r, ",\"content\":");
			put_json_raw(r, (const char *)m->content, m->content_kept);
		} else {
			puts_(r, ",\"content_hex\":\"");
			for (size_t i = 0; i < m->content_kept; i++) {
				char b[2] = {hexd[m->content[i] >> 4], hexd[m->content[i] & 15]};
				put(r, b, 2);
			}
			puts_(r, "\"");
			if (m->content_cut)
				puts_(r, ",\"content_hex_truncated\":true");
		}
		if (m->warning) {
			puts_(r, ",\"warning\":\"");
			puts_(r, jm_error_id(m->warning));
			puts_(r, "\"");
		}
		puts_(r, ",\"ts_last\":");
		put_ts(r, m->ts_last_ns);
		if (m->has_latency)
			putf(r, ",\"latency_ms\":%.3f", m->latency_ms);
		puts_(r, "}");
	} else {
		text_head(r, m->ts_first_ns, &m->s, m->dir);
		putf(r, "hdr=%u %s %llu ", m->header_len, ctype,
		     (unsigned long long)m->content_length);
		size_t n = m->content_kept;
		bool more = m->content_cut;
		if (n > REPORT_TEXT_CONTENT) {
			n = REPORT_TEXT_CONTENT;
			more = true;
		}
		if (m->content_is_json) {
			size_t start = r->line.len;
			jm_json_compact(&r->line, (const char *)m->content, m->content_kept);
			if (r->line.len - start > REPORT_TEXT_CONTENT) {
				/* Cut at a UTF-8 character boundary. */
				size_t cut = start + REPORT_TEXT_CONTENT;
				while (cut > start && (r->line.data[cut] & 0xc0) == 0x80)
					cut--;
				r->line.len = cut;
				puts_(r, "...");
			}
		} else {
			put_escaped(r, m->content, n);
			if (more)
				puts_(r, "...");
		}
		if (m->has_latency)
			putf(r, " latency=%.3fms", m->latency_ms);
		if (m->warning)
			putf(r, " [%s]", jm_error_id(m->warning));
	}
	flush_line(r);
}

static void on_problem(void *user, const an_problem *p)
{
	report *r = user;
	const char *id = p->is_codec ? jm_error_id(p->error) : jm_problem_specs[p->prob].id;
	const char *sev = p->is_codec ? jm_error_severity(p->error)
				      : jm_problem_specs[p->prob].severity;
	if (r->json) {
		json_head(r, "error", p->ts_ns, &p->s);
		puts_(r, ",\"dir\":\"");
		puts_(r, dir_name(p->dir));
		puts_(r, "\",\"offset\":");
		put_u64(r, p->offset);
		puts_(r, ",\"kind\":\"");
		puts_(r, id);
		puts_(r, "\",\"severity\":\"");
		puts_(r, sev);
		puts_(r, "\",\"detail\":");
		const char *d = p->detail ? p->detail : "";
		jm_json_quote(&r->line, d, strlen(d));
		if (!p->is_codec && (p->prob == JM_PROB_GAP || p->prob == JM_PROB_TRUNCATED_CAPTURE ||
				     p->prob == JM_PROB_MEMCAP || p->prob == JM_PROB_RESYNC ||
				     p->prob == JM_PROB_OVERLAP_CONFLICT)) {
			puts_(r, ",\"bytes\":");
			put_u64(r, p->bytes);
		}
		puts_(r, "}");
	} else {
		text_head(r, p->ts_ns, &p->s, p->dir);
		putf(r, "! %s %s at offset %llu: ", sev, id, (unsigned long long)p->offset);
		puts_(r, p->detail ? p->detail : "");
	}
	flush_line(r);
}

static void on_stream(void *user, const an_stream_info *si)
{
	report *r = user;
	if (!r->json || r->quiet)
		return;
	json_head(r, "stream", si->ts_ns, &si->s);
	puts_(r, ",\"phase\":\"");
	puts_(r, si->phase == AN_BEGIN ? "begin" : "end");
	puts_(r, "\",\"state\":\"");
	puts_(r, an_state_name(si->state));
	puts_(r, "\",\"midstream\":");
	puts_(r, si->midstream ? "true" : "false");
	puts_(r, ",\"requests\":");
	put_u64(r, si->requests);
	puts_(r, ",\"responses\":");
	put_u64(r, si->responses);
	puts_(r, ",\"bytes_c2s\":");
	put_u64(r, si->bytes[0]);
	puts_(r, ",\"bytes_s2c\":");
	put_u64(r, si->bytes[1]);
	puts_(r, ",\"gap_bytes\":");
	put_u64(r, si->gaps[0] + si->gaps[1]);
	puts_(r, "}");
	flush_line(r);
}

void report_sink(report *r, an_sink *sink)
{
	memset(sink, 0, sizeof *sink);
	sink->user = r;
	sink->message = on_message;
	sink->problem = on_problem;
	sink->stream = on_stream;
}

void report_summary(report *r, const cap_stats *cs, const an_stats *as)
{
	uint64_t nprob = 0;
	for (int i = 0; i < JM_PROB_COUNT; i++)
		nprob += as->problems[i];
	for (int i = 1; i < JM_ERR_COUNT; i++)
		nprob += as->errors[i];
	if (r->json) {
		puts_(r, "{\"event\":\"summary\",\"packets\":");
		put_u64(r, cs->packets);
		puts_(r, ",\"bytes\":");
		put_u64(r, cs->bytes);
		puts_(r, ",\"tcp_segments\":");
		put_u64(r, cs->tcp);
		puts_(r, ",\"segments_tracked\":");
		put_u64(r, as->segments);
		puts_(r, ",\"streams\":");
		put_u64(r, as->streams);
		puts_(r, ",\"peak_streams\":");
		put_u64(r, as->peak_streams);
		puts_(r, ",\"messages\":");
		put_u64(r, as->requests + as->responses);
		puts_(r, ",\"requests\":");
		put_u64(r, as->requests);
		puts_(r, ",\"responses\":");
		put_u64(r, as->responses);
		puts_(r, ",\"problems\":");
		put_u64(r, nprob);
		puts_(r, ",\"by_kind\":{");
		bool first = true;
		for (int i = 0; i < JM_PROB_COUNT; i++) {
			if (!as->problems[i])
				continue;
			putf(r, "%s\"%s\":", first ? "" : ",", jm_problem_specs[i].id);
			put_u64(r, as->problems[i]);
			first = false;
		}
		for (int i = 1; i < JM_ERR_COUNT; i++) {
			if (!as->errors[i])
				continue;
			putf(r, "%s\"%s\":", first ? "" : ",", jm_error_id((jm_error)i));
			put_u64(r, as->errors[i]);
			first = false;
		}
		puts_(r, "}");
		if (cs->have_kernel) {
			puts_(r, ",\"kernel_received\":");
			put_u64(r, cs->kernel_received);
			puts_(r, ",\"kernel_dropped\":");
			put_u64(r, cs->kernel_dropped);
			puts_(r, ",\"if_dropped\":");
			put_u64(r, cs->if_dropped);
		}
		puts_(r, "}");
		flush_line(r);
		return;
	}
	putf(r, "summary: %llu packets (%llu bytes), %llu TCP segments, %llu tracked; "
		"%llu streams; %llu messages (%llu requests, %llu responses); %llu problems",
	     (unsigned long long)cs->packets, (unsigned long long)cs->bytes,
	     (unsigned long long)cs->tcp, (unsigned long long)as->segments,
	     (unsigned long long)as->streams,
	     (unsigned long long)(as->requests + as->responses),
	     (unsigned long long)as->requests, (unsigned long long)as->responses,
	     (unsigned long long)nprob);
	if (nprob) {
		const char *sep = ": ";
		for (int i = 0; i < JM_PROB_COUNT; i++) {
			if (!as->problems[i])
				continue;
			putf(r, "%s%s %llu", sep, jm_problem_specs[i].id,
			     (unsigned long long)as->problems[i]);
			sep = ", ";
		}
		for (int i = 1; i < JM_ERR_COUNT; i++) {
			if (!as->errors[i])
				continue;
			putf(r, "%s%s %llu", sep, jm_error_id((jm_error)i),
			     (unsigned long long)as->errors[i]);
			sep = ", ";
		}
	}
	flush_line(r);
	if (cs->have_kernel) {
		putf(r, "kernel: %llu packets received by the filter, %llu dropped by the kernel, "
			"%llu dropped by the interface",
		     (unsigned long long)cs->kernel_received, (unsigned long long)cs->kernel_dropped,
		     (unsigned long long)cs->if_dropped);
		flush_line(r);
	}
}

void report_capture_drops(report *r, int64_t now_ns, const cap_stats *cs)
{
	if (r->json) {
		puts_(r, "{\"event\":\"capture_drops\",\"ts\":");
		put_ts(r, now_ns);
		puts_(r, ",\"kernel_received\":");
		put_u64(r, cs->kernel_received);
		puts_(r, ",\"kernel_dropped\":");
		put_u64(r, cs->kernel_dropped);
		puts_(r, ",\"if_dropped\":");
		put_u64(r, cs->if_dropped);
		puts_(r, "}");
	} else {
		putf(r, "capture: %llu packets dropped by the kernel, %llu by the interface, "
			"of %llu received so far; the streams they belong to have gaps",
		     (unsigned long long)cs->kernel_dropped, (unsigned long long)cs->if_dropped,
		     (unsigned long long)cs->kernel_received);
	}
	flush_line(r);
	fflush(r->out);
}
