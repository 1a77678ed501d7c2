/*
 * diff: is a live response the captured one?  If not, what changed.
 *
 * Header: every member of both headers is compared by key (order and
 * layout do not matter; a key sent twice counts with its last value, as
 * JSON parsers do), except the keys the user ignores (--ignore-header,
 * e.g. byteorder when the capture came from a machine of the other byte
 * order).  Content: JSON content (as the decoder dispatched it) is
 * compared as JSON values, so spacing, key order and number spelling
 * (1, 1.0, 1e0) do not count; anything else is compared byte for byte.
 *
 * Each difference is a change: a path ("header.content-length",
 * "content.result", "content.items[2].name", "content" for bytes), the
 * captured and the live value as display text (JSON text, or a quoted
 * excerpt around the first differing byte), NULL where a member is
 * absent.  Changes are listed in order: header members in the captured
 * order, then the live header's new members, then content.
 */
#ifndef JM_REPLAY_DIFF_H
#define JM_REPLAY_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "jmsg.h"
#include "replay/conv.h"

/* Changes kept per response; more are counted, not kept. */
#define RP_DIFF_MAX_CHANGES 16
/* Longest display of one value, in bytes, before it is cut with "...". */
#define RP_DIFF_MAX_VALUE 120

typedef struct rp_ignore {
	const char **keys;
	size_t n;
} rp_ignore;

typedef struct rp_change {
	char *path;
	char *captured;   /* NULL: absent in the capture */
	char *live;       /* NULL: absent in the live response */
} rp_change;

typedef struct rp_diff {
	rp_change c[RP_DIFF_MAX_CHANGES];
	size_t n;         /* kept */
	size_t total;     /* found */
	bool oom;
} rp_diff;

/* Compare; returns the number of changes found (0: identical), or -1 if
 * memory ran out.  `d` must be rp_diff_clear()ed after use. */
int rp_compare(const rp_msg *captured, const rp_msg *live, const rp_ignore *ign, rp_diff *d);
void rp_diff_clear(rp_diff *d);

/* "content.result: "a" -> "b"; header.content-length: 41 -> 18" */
int rp_diff_text(const rp_diff *d, jm_buf *out);
/* [{"path": P, "captured": TEXT, "live": TEXT}, ...] (absent: null) */
int rp_diff_json(const rp_diff *d, jm_buf *out);

/* Quote up to `max` bytes of `p` for display (JSON string syntax); "..."
 * marks a cut. */
int rp_quote_excerpt(jm_buf *out, const uint8_t *p, size_t len, size_t from, size_t max);

#endif
