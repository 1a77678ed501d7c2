/*
 * probe: the protocol on any port, for the stream engine (stream.h).
 *
 * A flow on none of the configured ports is held here, segment by segment
 * (copies, counted against the memory caps), until its first data says
 * whether it speaks the protocol: jm_sniff(), the rule of the Wireshark
 * dissector's heuristic, on the first bytes of a direction.  Yes: the
 * held segments go through the engine in capture order, each at its own
 * capture time, exactly as if the port had been configured, and the flow's
 * later segments follow them.  No: the copies are freed and the flow is
 * kept as a bare record that only counts its bytes (for the summary's note
 * on TCP that held no message) until it ends.
 *
 * Which bytes are tested: a direction whose SYN (or its peer's SYN-ACK)
 * was seen starts at a message boundary, so its first bytes are tested,
 * once.  A direction picked up without them may start inside a message:
 * as Wireshark tries its heuristic on each segment, the test starts again
 * at the next segment that brings data, up to PROBE_TRIES starts.  Bytes
 * are taken in sequence order from the held copies, so retransmitted or
 * reordered first segments are tested as the reassembled stream has them.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/seq.h"
#include "tcp/stream_int.h"

#define PH JM_SPEC_PROTOHEADER_SIZE

/* One held segment: the segment and its payload. */
struct held {
	struct held *next;
	cap_segment seg;
	uint8_t payload[];
};

enum { UNDECIDED = -1, NO = 0, YES = 1 };

/* One direction: [0] sent by the flow key's lower endpoint, [1] the higher. */
struct probe_dir {
	bool start_known;
	bool at_boundary;         /* its SYN was seen: the start is a message start */
	uint32_t start;           /* sequence number of its first byte */
	int tries;                /* starts tested (without a SYN) */
	int verdict;
	size_t held_payload;
	jm_buf pre;               /* its bytes from start, in order, at most AN_PROBE_HOLD */
};

struct probe {
	an_engine *e;
	flow *f;
	bool rejected;
	bool counted;             /* counted in the undecoded streams */
	int server;               /* -1 unknown, else the side (0 lo, 1 hi) from a SYN */
	bool syn_seen;            /* a SYN without ACK, with this sequence number */
	uint32_t syn_seq;
	uint8_t fin;              /* bit per side */
	struct held *head, *tail;
	size_t n_held;
	size_t mem;               /* counted against the memory caps */
	uint64_t bytes;
	struct probe_dir d[2];
};

/* ---------------------------------------------------------------- memory */

static void drop_held(struct probe *pr)
{
	an_engine *e = pr->e;
	struct held *h = pr->head;
	while (h) {
		struct held *n = h->next;
		free(h);
		h = n;
	}
	pr->head = pr->tail = NULL;
	pr->n_held = 0;
	for (int i = 0; i < 2; i++) {
		jm_buf_free(&pr->d[i].pre);
		pr->d[i].held_payload = 0;
	}
	e->mem.used -= pr->mem;
	pr->mem = 0;
}

static void probe_fini(flow *f, void *ext, void *user)
{
	drop_held(ext);
}

static bool account(struct probe *pr, size_t n)
{
	an_engine *e = pr->e;
	if (e->cfg.memcap && e->mem.used + n > e->cfg.memcap)
		return false;
	if (pr->mem + n > 2 * e->cfg.stream_memcap)
		return false;
	pr->mem += n;
	e->mem.used += n;
	if (e->mem.used > e->mem.peak)
		e->mem.peak = e->mem.used;
	return true;
}

/* ---------------------------------------------------------------- undecoded */

/* The port a flow is counted on: its server's, from the SYN, else the
 * lower one. */
static uint16_t tally_port(const struct probe *pr)
{
	const flow_key *k = &pr->f->key;
	if (pr->server >= 0)
		return pr->server ? k->hi.port : k->lo.port;
	return k->lo.port < k->hi.port ? k->lo.port : k->hi.port;
}

static void tally(struct probe *pr, uint64_t bytes)
{
	an_engine *e = pr->e;
	if (!bytes)
		return;
	uint16_t port = tally_port(pr);
	if (!e->port_bytes) {
		if (!(e->port_bytes = calloc(65536, sizeof *e->port_bytes)))
			return;
		e->port_lo = e->port_hi = port;
	}
	if (!pr->counted) {
		pr->counted = true;
		e->st.undecoded_streams++;
	}
	e->st.undecoded_bytes += bytes;
	e->port_bytes[port] += bytes;
	if (port < e->port_lo)
		e->port_lo = port;
	if (port > e->port_hi)
		e->port_hi = port;
}

/* The flow holds no message (or its capture ended first): its bytes so far
 * are counted, its copies freed; it stays as a record that counts. */
static void reject(struct probe *pr)
{
	pr->rejected = true;
	drop_held(pr);
	tally(pr, pr->bytes);
}

static void probe_end(struct probe *pr)
{
	if (!pr->rejected)
		reject(pr);
	flow_table_remove(pr->e->probes, pr->f);
}

/* ---------------------------------------------------------------- the test */

/* Extend d->pre with the held bytes that follow it in sequence order. */
static void gather(struct probe *pr, int side)
{
	struct probe_dir *d = &pr->d[side];
	bool more = true;
	while (more && d->pre.len < AN_PROBE_HOLD) {
		more = false;
		uint32_t next = d->start + (uint32_t)d->pre.len;
		for (struct held *h = pr->head; h; h = h->next) {
			const cap_segment *s = &h->seg;
			bool from_lo = !memcmp(&s->src, &pr->f->key.lo, sizeof s->src);
			if ((from_lo ? 0 : 1) != side || !s->payload_len)
				continue;
			uint32_t seq = s->seq + ((s->flags & CAP_SYN) ? 1 : 0);
			int64_t at = seq_diff(next, seq);
			if (at < 0 || at >= (int64_t)s->payload_len)
				continue;
			size_t n = s->payload_len - (size_t)at;
			if (n > AN_PROBE_HOLD - d->pre.len)
				n = AN_PROBE_HOLD - d->pre.len;
			if (jm_buf_append(&d->pre, s->payload + at, n) < 0)
				return;
			more = true;
			break;
		}
	}
}

/* The tutorial's responses carry this key: a direction whose first message
 * is a JSON object with it is the server's. */
static const char *const RESPONSE_KEY[] = {"result"};

struct first_msg {
	int verdict;              /* YES a response, NO not, UNDECIDED not all here */
	uint64_t need;            /* bytes of the whole message, once known */
};

static int first_msg_event(void *user, const jm_event *ev)
{
	struct first_msg *fm = user;
	bool found = false;
	switch (ev->type) {
	case JM_EV_HEADER:
		fm->need = PH + (uint64_t)ev->header_len + ev->header->content_length;
		return JM_CB_OK;
	case JM_EV_CONTENT:
		fm->verdict = ev->header->content_is_json &&
			      jm_json_object_has((const char *)ev->data, ev->len, RESPONSE_KEY, 1,
						 &found) && found ? YES : NO;
		return JM_CB_STOP;
	case JM_EV_ERROR:
		fm->verdict = NO;
		return JM_CB_STOP;
	default:
		return JM_CB_OK;
	}
}

/* Is the first message in d->pre a response?  UNDECIDED while its end is
 * still to come and the whole message fits in AN_PROBE_HOLD bytes. */
static int first_is_response(struct probe_dir *d)
{
	struct first_msg fm = {UNDECIDED, 0};
	jm_decoder dec;
	jm_decoder_config dc = {.max_content = AN_PROBE_HOLD};
	jm_decoder_init(&dec, &dc, first_msg_event, &fm);
	jm_decoder_feed(&dec, d->pre.data, d->pre.len);
	jm_decoder_free(&dec);
	if (fm.verdict == UNDECIDED && (!fm.need || fm.need > AN_PROBE_HOLD))
		fm.verdict = NO;
	return fm.verdict;
}

/* Where a stream found by the test has its server: the side that did not
 * send the SYN; picked up without it, the side whose first message is a
 * response, else the lower port.  -2 while a first message that may tell
 * is still coming in. */
static int server_side(struct probe *pr, int side)
{
	if (pr->server >= 0)
		return pr->server;
	int r = first_is_response(&pr->d[side]);
	if (r == UNDECIDED)
		return -2;
	if (r == YES)
		return side;
	struct probe_dir *o = &pr->d[!side];
	if (o->verdict == YES && first_is_response(o) == YES)
		return !side;
	const flow_key *k = &pr->f->key;
	return k->lo.port <= k->hi.port ? 0 : 1;
}

/* Test direction `side` on what it holds: its verdict. */
static int test(struct probe *pr, int side)
{
	struct probe_dir *d = &pr->d[side];
	gather(pr, side);
	int r = jm_sniff(d->pre.data, d->pre.len, NULL);
	if (r > 0)
		return YES;
	if (r < 0)
		return UNDECIDED;
	if (d->at_boundary || ++d->tries >= AN_PROBE_TRIES)
		return NO;
	/* Picked up mid-way: try again at the next segment with data. */
	d->start_known = false;
	d->pre.len = 0;
	return UNDECIDED;
}

/* ---------------------------------------------------------------- accept */

/* The flow speaks the protocol: its held segments go through the engine,
 * each at its capture time, then the flow is the engine's. */
static void accept(an_engine *e, struct probe *pr, int server)
{
	struct held *list = pr->head;
	pr->head = pr->tail = NULL;
	e->st.skipped -= pr->n_held;  /* counted again as the stream's */
	e->mem.used -= pr->mem;
	pr->mem = 0;
	flow_table_remove(e->probes, pr->f);

	double now = e->now;
	int64_t now_ns = e->now_ns;
	e->role_set = true;
	e->role_client_is_lo = server == 1;
	while (list) {
		struct held *n = list->next;
		e->now = list->seg.ts;
		e->now_ns = list->seg.ts_ns;
		list->seg.payload = list->payload;
		stream_segment(e, &list->seg);
		free(list);
		list = n;
	}
	e->role_set = false;
	e->now = now;
	e->now_ns = now_ns;
}

/* ---------------------------------------------------------------- segments */

static struct probe *probe_new(an_engine *e, const flow_key *k, const cap_segment *seg,
			       bool src_is_lo)
{
	if (!e->probes) {
		e->probes = flow_table_new(1024);
		if (!e->probes)
			return NULL;
		int id = flow_table_add_ext(e->probes, sizeof(struct probe), probe_fini, e);
		if (id < 0)
			return NULL;
		e->probe_off = flow_table_ext_offset(e->probes, id);
	}
	if (e->cfg.max_streams && flow_table_count(e->probes) >= e->cfg.max_streams) {
		flow *old = flow_table_oldest(e->probes);
		if (old)
			probe_end(flow_ext_at(old, e->probe_off));
	}
	flow *f = flow_table_get(e->probes, k, true, seg->ts, NULL);
	if (!f)
		return NULL;
	struct probe *pr = flow_ext_at(f, e->probe_off);
	pr->e = e;
	pr->f = f;
	pr->server = -1;
	pr->d[0].verdict = pr->d[1].verdict = UNDECIDED;
	pr->rejected = e->cfg.no_heuristic;
	return pr;
}

static bool hold(struct probe *pr, const cap_segment *seg, int side)
{
	struct probe_dir *d = &pr->d[side];
	/* A direction past AN_PROBE_HOLD has had every byte a decision can
	 * need; the segment that passes it is still held (one segment may
	 * bring a whole message, however long). */
	if (pr->n_held >= AN_PROBE_SEGMENTS || d->held_payload >= AN_PROBE_HOLD)
		return false;
	size_t sz = sizeof(struct held) + seg->payload_len;
	struct held *h;
	if (!account(pr, sz) || !(h = malloc(sz)))
		return false;
	h->next = NULL;
	h->seg = *seg;
	if (seg->payload_len)
		memcpy(h->payload, seg->payload, seg->payload_len);
	h->seg.payload = h->payload;
	if (pr->tail)
		pr->tail->next = h;
	else
		pr->head = h;
	pr->tail = h;
	pr->n_held++;
	d->held_payload += seg->payload_len;
	return true;
}

/* Where each direction starts, from a SYN or from its first data. */
static void note_starts(struct probe *pr, const cap_segment *seg, int side)
{
	if (seg->flags & CAP_SYN) {
		struct probe_dir *d = &pr->d[side];
		d->start_known = d->at_boundary = true;
		d->start = seg->seq + 1;
		d->pre.len = 0;
		if (seg->flags & CAP_ACK) {
			struct probe_dir *o = &pr->d[!side];
			if (!o->start_known || !o->at_boundary) {
				o->start_known = o->at_boundary = true;
				o->start = seg->ack;
				o->pre.len = 0;
			}
			if (pr->server < 0)
				pr->server = side;
		} else {
			pr->server = !side;
		}
	}
	struct probe_dir *d = &pr->d[side];
	if (seg->payload_len && !d->start_known) {
		d->start_known = true;
		d->start = seg->seq;
	}
}

/* A segment of an undecided flow, held; then the test. */
static void probe_undecided(an_engine *e, struct probe *pr, const cap_segment *seg, int side)
{
	if (!hold(pr, seg, side)) {
		reject(pr);
		return;
	}
	note_starts(pr, seg, side);
	struct probe_dir *d = &pr->d[side];
	if (d->verdict == UNDECIDED && d->start_known && seg->payload_len)
		d->verdict = test(pr, side);
	if (d->verdict == NO) {
		reject(pr);
		return;
	}
	int yes = d->verdict == YES ? side : pr->d[!side].verdict == YES ? !side : -1;
	if (yes < 0)
		return;
	int server = server_side(pr, yes);
	if (server != -2)
		accept(e, pr, server);
}

void probe_segment(an_engine *e, const flow_key *k, const cap_segment *seg, bool src_is_lo)
{
	flow *f = e->probes ? flow_table_get(e->probes, k, false, seg->ts, NULL) : NULL;
	struct probe *pr = f ? flow_ext_at(f, e->probe_off) : NULL;
	bool syn_only = (seg->flags & (CAP_SYN | CAP_ACK)) == CAP_SYN;
	if (pr && syn_only && pr->syn_seen && pr->syn_seq != seg->seq) {
		probe_end(pr);  /* the four-tuple is used again: a new connection */
		pr = NULL;
	}
	if (!pr) {
		if ((seg->flags & CAP_RST) || (!(seg->flags & CAP_SYN) && !seg->payload_wire))
			return;
		if (!(pr = probe_new(e, k, seg, src_is_lo)))
			return;
	}
	flow_touch(e->probes, pr->f, seg->ts);
	if (syn_only) {
		pr->syn_seen = true;
		pr->syn_seq = seg->seq;
	}
	int side = src_is_lo ? 0 : 1;
	pr->bytes += seg->payload_len;
	if (pr->rejected) {
		if (seg->flags & CAP_SYN && pr->server < 0)
			pr->server = (seg->flags & CAP_ACK) ? side : !side;
		tally(pr, seg->payload_len);
	} else {
		probe_undecided(e, pr, seg, side);
		if (!flow_table_get(e->probes, k, false, seg->ts, NULL))
			return;  /* accepted */
	}
	if (seg->flags & CAP_FIN)
		pr->fin |= (uint8_t)(1u << side);
	if ((seg->flags & CAP_RST) || pr->fin == 3)
		probe_end(pr);
}

void probe_expire(an_engine *e, double before)
{
	flow *f;
	while (e->probes && (f = flow_table_oldest(e->probes)) && f->last_ts < before)
		probe_end(flow_ext_at(f, e->probe_off));
}

void probe_finish(an_engine *e)
{
	probe_expire(e, 1e300);
}
