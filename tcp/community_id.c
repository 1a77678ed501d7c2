/*
 * community_id: Community ID v1.  See community_id.h.
 */
#include <nettle/base64.h>
#include <stdbool.h>
#include <nettle/sha1.h>
#include <string.h>

#include "tcp/community_id.h"

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

size_t community_id(const flow_ep *a, const flow_ep *b, uint8_t proto, uint16_t seed,
		    char out[COMMUNITY_ID_LEN])
{
	bool v4 = !memcmp(a->addr, v4mapped, 12) && !memcmp(b->addr, v4mapped, 12);
	size_t alen = v4 ? 4 : 16, skip = v4 ? 12 : 0;
	int c = memcmp(a->addr + skip, b->addr + skip, alen);
	if (c > 0 || (c == 0 && a->port > b->port)) {
		const flow_ep *t = a;
		a = b;
		b = t;
	}
	uint8_t buf[2 + 16 + 16 + 2 + 4], *p = buf;
	*p++ = (uint8_t)(seed >> 8);
	*p++ = (uint8_t)seed;
	memcpy(p, a->addr + skip, alen);
	p += alen;
	memcpy(p, b->addr + skip, alen);
	p += alen;
	*p++ = proto;
	*p++ = 0;
	*p++ = (uint8_t)(a->port >> 8);
	*p++ = (uint8_t)a->port;
	*p++ = (uint8_t)(b->port >> 8);
	*p++ = (uint8_t)b->port;
	struct sha1_ctx ctx;
	uint8_t digest[SHA1_DIGEST_SIZE];
	sha1_init(&ctx);
	sha1_update(&ctx, (size_t)(p - buf), buf);
	sha1_digest(&ctx, sizeof digest, digest);
	out[0] = '1';
	out[1] = ':';
	base64_encode_raw(out + 2, sizeof digest, digest);
	out[2 + BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = 0;
	return 2 + BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE);
}
