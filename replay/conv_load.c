/*
 * conv_load: a capture file into the conversation model, through the analyzer
 * engine (capture -> flow -> reasm -> decoder), so replay sees exactly the
 * streams and messages `jmsg analyze` reports.  See conv.h.
 */
#include <stdio.h>
#include <string.h>

#include "tcp/capture.h"
#include "tcp/stream.h"
#include "replay/conv.h"

typedef struct loader {
	rp_capture *c;
	const rp_load_config *cfg;
	an_engine *engine;
	cap_source *src;
	jm_buf enc;
	bool failed;               /* out of memory or over the cap */
} loader;

static void fail(loader *L)
{
	if (!L->failed && L->src)
		cap_break(L->src);
	L->failed = true;
}

static void on_stream(void *user, const an_stream_info *si)
{
	loader *L = user;
	if (L->failed)
		return;
	if (si->phase == AN_BEGIN) {
		if (!rp_select_has(L->cfg->select, si->s.id))
			return;
		rp_stream *s = rp_capture_add_stream(L->c, si->s.id, si->ts);
		if (!s) {
			fail(L);
			return;
		}
		flow_ep_format(si->s.client, s->client, sizeof s->client);
		flow_ep_format(si->s.server, s->server, sizeof s->server);
		s->midstream = si->midstream;
		return;
	}
	rp_stream *s = rp_capture_find(L->c, si->s.id);
	if (!s)
		return;
	s->ended = si->state == AN_CLOSED || si->state == AN_RESET;
	s->reset = si->state == AN_RESET;
}

static void on_message(void *user, const an_message *m)
{
	loader *L = user;
	if (L->failed)
		return;
	rp_stream *s = rp_capture_find(L->c, m->s.id);
	if (!s)
		return;
	int dir = m->dir == AN_C2S ? RP_REQ : RP_RESP;
	/* Bad content: the error event that follows says what to do. */
	if (s->cut[dir].cut || m->content_error)
		return;
	if (m->content_cut || m->content_kept != m->content_length) {
		/* Not the whole content: the engine ran out of room for it. */
		rp_stream_cut(s, dir, false, JM_ERR_NONE, JM_PROB_MEMCAP, m->offset);
		return;
	}
	/* Picked up mid-stream: an answer that came before any request the
	 * capture holds answers a request the replay will never send. */
	if (dir == RP_RESP && s->midstream && !m->has_latency && s->n[RP_REQ] == 0) {
		s->dropped_unpaired++;
		return;
	}
	const jm_header *h = m->header;
	int rc;
	if (dir == RP_REQ && !L->cfg->raw) {
		L->enc.len = L->enc.off = 0;
		if (rp_reencode(&L->enc, h, m->content, m->content_kept) < 0) {
			fail(L);
			return;
		}
		uint16_t hl = (uint16_t)((L->enc.data[0] << 8) | L->enc.data[1]);
		rc = rp_stream_add(L->c, s, dir, L->enc.data, L->enc.len, hl, m->content_is_json,
				   m->ts_first, m->ts_last);
	} else {
		L->enc.len = L->enc.off = 0;
		uint8_t ph[2] = {(uint8_t)(h->raw_len >> 8), (uint8_t)h->raw_len};
		if (jm_buf_append(&L->enc, ph, 2) < 0 ||
		    jm_buf_append(&L->enc, h->raw, h->raw_len) < 0 ||
		    jm_buf_append(&L->enc, m->content, m->content_kept) < 0) {
			fail(L);
			return;
		}
		rc = rp_stream_add(L->c, s, dir, L->enc.data, L->enc.len, (uint16_t)h->raw_len,
				   m->content_is_json, m->ts_first, m->ts_last);
	}
	if (rc < 0)
		fail(L);
}

static void on_problem(void *user, const an_problem *p)
{
	loader *L = user;
	if (L->failed)
		return;
	rp_stream *s = rp_capture_find(L->c, p->s.id);
	if (!s)
		return;
	int dir = p->dir == AN_C2S ? RP_REQ : RP_RESP;
	if (p->is_codec) {
		if (p->error == JM_ERR_TRUNCATED && !s->cut[dir].cut) {
			s->trailing_partial[dir] = true;
			return;
		}
		if (strcmp(jm_error_severity(p->error), "error") != 0)
			return;  /* a warning: the message itself still follows */
		rp_stream_cut(s, dir, true, p->error, JM_PROB_GAP, p->offset);
		return;
	}
	switch (p->prob) {
	case JM_PROB_MIDSTREAM:
		s->midstream = true;
		return;
	case JM_PROB_RESET:
		s->reset = true;
		return;
	default:
		break;
	}
	/* Before its first message a mid-stream direction is expected to
	 * skip the tail of a message it joined too late for. */
	if (s->midstream && s->n[dir] == 0 && p->prob == JM_PROB_RESYNC)
		return;
	rp_stream_cut(s, dir, false, JM_ERR_NONE, p->prob, p->offset);
}

static void on_segment(void *user, const cap_segment *seg)
{
	loader *L = user;
	an_engine_segment(L->engine, seg);
}

static void on_packet(void *user, double ts)
{
	loader *L = user;
	an_engine_tick(L->engine, ts);
}

int rp_load_pcap(rp_capture *c, const char *path, const rp_load_config *cfg, char *err,
		 size_t errlen)
{
	rp_capture_init(c, cfg->memcap);
	loader L = {.c = c, .cfg = cfg};

	an_config ac;
	an_config_defaults(&ac);
	for (size_t i = 0; i < cfg->n_ports && i < AN_MAX_PORTS; i++)
		ac.ports[ac.n_ports++] = cfg->ports[i];
	ac.full_content = true;
	ac.no_heuristic = cfg->no_heuristic;
	if (cfg->max_content)
		ac.max_content = cfg->max_content;
	/* A replay wants every stream to the end of the capture; the model's
	 * own cap bounds memory. */
	ac.idle_timeout = 0;
	ac.max_streams = 0;

	an_sink sink = {
		.user = &L,
		.stream = on_stream,
		.message = on_message,
		.problem = on_problem,
	};
	cap_options co = {0};
	char cerr[256] = "";
	L.src = cap_open_file(path, &co, cerr, sizeof cerr);
	if (!L.src) {
		snprintf(err, errlen, "%s", cerr);
		return -1;
	}
	L.engine = an_engine_new(&ac, &sink);
	if (!L.engine) {
		cap_close(L.src);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = cap_run(L.src, 0, on_segment, on_packet, &L, cerr, sizeof cerr);
	if (rc == 0 && !L.failed)
		an_engine_finish(L.engine);
	if (cfg->stats)
		an_engine_stats(L.engine, cfg->stats);
	an_engine_free(L.engine);
	cap_close(L.src);
	jm_buf_free(&L.enc);
	if (rc < 0 && !L.failed) {
		snprintf(err, errlen, "%s", cerr);
		return -1;
	}
	if (L.failed) {
		if (c->over_memcap)
			snprintf(err, errlen,
				 "'%s' holds more than %zu bytes of messages; raise --memcap or "
				 "pick fewer --streams", path, c->memcap);
		else
			snprintf(err, errlen, "out of memory reading '%s'", path);
		return -1;
	}
	rp_capture_finish(c);
	return 0;
}
