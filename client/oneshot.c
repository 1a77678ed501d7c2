/*
 * oneshot: one request, one response, as the tutorial's app-client.py.
 *
 * The socket is non-blocking and every wait is a poll() against one
 * deadline (--timeout), so a server that accepts and never answers (or
 * never accepts) cannot hang the client.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "app/request.h"
#include "client/client.h"
#include "app/answer.h"
#include "io/evloop.h"
#include "io/net.h"

typedef struct one {
	const cli_config *cfg;
	const char *where;
	int fd;
	uint64_t deadline;    /* --timeout: for the whole exchange */
	bool done;
	int exit_code;
	bool json;
	jm_buf content;       /* the response content, for binary or JSON */
	jm_buf log;
} one;

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = el_now_ms();
		if (now >= deadline)
			return 0;
		struct pollfd p = {.fd = fd, .events = ev};
		int n = poll(&p, 1, (int)(deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -1 : n;
	}
}

static void show_result(one *o, const uint8_t *p, size_t n)
{
	const cli_config *cfg = o->cfg;
	if (!o->json) {
		o->log.len = o->log.off = 0;
		app_bytes_repr(&o->log, p, n);
		printf("Got response: %.*s\n", (int)jm_buf_pending(&o->log), (const char *)jm_buf_head(&o->log));
		return;
	}
	struct json_tokener *tok = json_tokener_new_ex(JM_SPEC_MAX_JSON_DEPTH + 1);
	struct json_object *r = tok && n <= INT_MAX ? json_tokener_parse_ex(tok, (const char *)p, (int)n) : NULL;
	struct json_object *v;
	if (cfg->verbosity >= 1) {
		o->log.len = o->log.off = 0;
		jm_json_compact(&o->log, (const char *)p, n);
		printf("Received response %.*s from %s\n", (int)jm_buf_pending(&o->log),
		       (const char *)jm_buf_head(&o->log), o->where);
	}
	if (r && json_object_is_type(r, json_type_object) && json_object_object_get_ex(r, "error", &v)) {
		struct json_object *d = NULL;
		json_object_object_get_ex(r, "detail", &d);
		fprintf(stderr, "jmsg client: server error: %s%s%s\n", json_object_get_string(v),
			d ? ": " : "", d ? json_object_get_string(d) : "");
		o->exit_code = JM_EXIT_SERVER_ERROR;
	} else if (r && json_object_is_type(r, json_type_object) &&
		   json_object_object_get_ex(r, "result", &v) && json_object_is_type(v, json_type_string)) {
		printf("Got result: %s\n", json_object_get_string(v));
	} else {
		o->log.len = o->log.off = 0;
		jm_json_compact(&o->log, (const char *)p, n);
		printf("Got response: %.*s\n", (int)jm_buf_pending(&o->log), (const char *)jm_buf_head(&o->log));
	}
	json_object_put(r);
	if (tok)
		json_tokener_free(tok);
}

static int on_event(void *user, const jm_event *ev)
{
	one *o = user;
	switch (ev->type) {
	case JM_EV_HEADER:
		o->json = ev->header->content_is_json;
		break;
	case JM_EV_CONTENT:
	case JM_EV_CONTENT_CHUNK:
		jm_buf_append(&o->content, ev->data, ev->len);
		break;
	case JM_EV_MESSAGE:
		if (!o->json && o->cfg->verbosity >= 1) {
			const char *ct = jm_header_str(ev->header, JM_FIELD_CONTENT_TYPE);
			printf("Received %s response from %s\n", ct ? ct : "binary", o->where);
		}
		show_result(o, jm_buf_head(&o->content), jm_buf_pending(&o->content));
		o->done = true;
		return JM_CB_STOP;
	case JM_EV_ERROR:
		fprintf(stderr, "jmsg client: malformed response from %s: %s (%s)\n", o->where,
			jm_error_id(ev->error), ev->detail ? ev->detail : jm_error_text(ev->error));
		o->exit_code = JM_EXIT_MALFORMED;
		o->done = true;
		return JM_CB_STOP;
	default:
		break;
	}
	return JM_CB_OK;
}

/* Connect, waiting until the deadline.  Returns JM_EXIT_OK, or the exit code
 * after a line on stderr. */
static int connect_to(one *o, const struct sockaddr_storage *ss, socklen_t sl)
{
	const cli_config *cfg = o->cfg;
	if (cfg->verbosity >= 1)
		printf("Starting connection to %s\n", o->where);
	o->fd = net_connect_start(ss, sl);
	if (o->fd < 0) {
		fprintf(stderr, "jmsg client: cannot connect to %s: %s\n", o->where, strerror(errno));
		return JM_EXIT_CONNECT;
	}
	int w = wait_fd(o->fd, POLLOUT, o->deadline);
	int e = w > 0 ? net_connect_result(o->fd) : 0;
	if (w == 0) {
		fprintf(stderr, "jmsg client: timed out connecting to %s after %.1f s\n", o->where,
			cfg->timeout_ms / 1000.0);
		return JM_EXIT_TIMEOUT;
	}
	if (w < 0 || e) {
		fprintf(stderr, "jmsg client: cannot connect to %s: %s\n", o->where,
			strerror(w < 0 ? errno : e));
		return JM_EXIT_CONNECT;
	}
	return JM_EXIT_OK;
}

/* The request's bytes with -v, as the tutorial prints them; else a summary. */
static void log_request(one *o, const jm_buf *req)
{
	const cli_config *cfg = o->cfg;
	if (cfg->verbosity >= 2) {
		o->log.len = o->log.off = 0;
		app_bytes_repr(&o->log, jm_buf_head(req), jm_buf_pending(req));
		printf("Sending %.*s to %s\n", (int)jm_buf_pending(&o->log), (const char *)jm_buf_head(&o->log),
		       o->where);
	} else if (cfg->verbosity >= 1) {
		printf("Sending %zu-byte %s request to %s\n", jm_buf_pending(req),
		       strcmp(cfg->action, APP_SEARCH_ACTION) ? APP_BINARY_REQUEST_TYPE : JM_SPEC_JSON_CONTENT_TYPE,
		       o->where);
	}
}

/* Write all of `req` before the deadline.  Returns JM_EXIT_OK, or the exit
 * code after a line on stderr. */
static int send_request(one *o, jm_buf *req)
{
	while (jm_buf_pending(req)) {
		ssize_t n = send(o->fd, jm_buf_head(req), jm_buf_pending(req), MSG_NOSIGNAL);
		if (n > 0) {
			jm_buf_consume(req, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(o->fd, POLLOUT, o->deadline) == 0) {
				fprintf(stderr, "jmsg client: timed out sending to %s after %.1f s\n", o->where,
					o->cfg->timeout_ms / 1000.0);
				return JM_EXIT_TIMEOUT;
			}
			continue;
		}
		fprintf(stderr, "jmsg client: cannot send to %s: %s\n", o->where, strerror(errno));
		return JM_EXIT_CONNECT;
	}
	return JM_EXIT_OK;
}

/* The server closed: before any response, or in the middle of one (the
 * decoder then reports it truncated). */
static void peer_closed(one *o, jm_decoder *dec)
{
	if (jm_decoder_idle(dec) && !jm_decoder_failed(dec)) {
		fprintf(stderr, "jmsg client: %s closed the connection without a response\n", o->where);
		o->exit_code = JM_EXIT_MALFORMED;
	} else {
		jm_decoder_finish(dec);
	}
	o->done = true;
}

/* Read and decode until the response is whole, bad or cut short (then
 * JM_EXIT_OK: o->exit_code says which), or until the deadline or a failed
 * connection (then that exit code, after a line on stderr). */
static int read_response(one *o, jm_decoder *dec)
{
	uint8_t buf[65536];
	while (!o->done) {
		ssize_t n = recv(o->fd, buf, sizeof buf, 0);
		if (n > 0) {
			jm_decoder_feed(dec, buf, (size_t)n);
			continue;
		}
		if (n == 0) {
			peer_closed(o, dec);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(o->fd, POLLIN, o->deadline) == 0) {
				fprintf(stderr, "jmsg client: timed out waiting for a response from %s after %.1f s\n",
					o->where, o->cfg->timeout_ms / 1000.0);
				return JM_EXIT_TIMEOUT;
			}
			continue;
		}
		fprintf(stderr, "jmsg client: connection to %s failed: %s\n", o->where, strerror(errno));
		return JM_EXIT_CONNECT;
	}
	return JM_EXIT_OK;
}

int cli_request(const cli_config *cfg)
{
	char err[256], where[NET_ADDR_STRLEN];
	struct sockaddr_storage ss;
	socklen_t sl;
	if (net_resolve(cfg->host, cfg->port, &ss, &sl, err, sizeof err) < 0) {
		fprintf(stderr, "jmsg client: %s\n", err);
		return JM_EXIT_CONNECT;
	}
	net_addr_str((struct sockaddr *)&ss, where, sizeof where);
	one o = {.cfg = cfg, .where = where, .fd = -1};
	jm_buf req = {0};
	if (app_build_request(&req, cfg->action, cfg->value, cfg->keep_alive) < 0) {
		fprintf(stderr, "jmsg client: request too large for a message header\n");
		return JM_EXIT_USAGE;
	}
	o.deadline = el_now_ms() + cfg->timeout_ms;
	jm_decoder dec;
	jm_decoder_config dc = {.max_content = cfg->max_content};
	jm_decoder_init(&dec, &dc, on_event, &o);

	int rc = connect_to(&o, &ss, sl);
	if (rc == JM_EXIT_OK) {
		log_request(&o, &req);
		rc = send_request(&o, &req);
	}
	if (rc == JM_EXIT_OK)
		rc = read_response(&o, &dec);
	if (rc == JM_EXIT_OK) {
		rc = o.exit_code;
		if (cfg->verbosity >= 1)
			printf("Closing connection to %s\n", where);
	}
	if (o.fd >= 0)
		close(o.fd);
	jm_decoder_free(&dec);
	jm_buf_free(&req);
	jm_buf_free(&o.content);
	jm_buf_free(&o.log);
	return rc;
}
