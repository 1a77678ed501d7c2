/*
 * community_id: the Community ID flow hash, version 1
 * (https://github.com/corelight/community-id-spec), as Zeek, Suricata and
 * Wireshark compute it, so jmsg's events join with their logs.
 *
 * "1:" and the base64 of SHA-1 over: the seed (2 bytes, network order),
 * the lower endpoint's address, the other's, the IP protocol, one zero
 * byte, then the two ports in the same order (network order).  The lower
 * endpoint is the one with the lower address (bytewise), or with equal
 * addresses the lower port.  IPv4 addresses (IPv4-mapped in flow_ep) are
 * hashed as their 4 bytes; an IPv6 address of the form ::ffff:a.b.c.d is
 * taken for IPv4 (flow_ep cannot tell them apart).
 */
#ifndef JM_TCP_COMMUNITY_ID_H
#define JM_TCP_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

#include "tcp/flow.h"

/* "1:" + 28 base64 characters + NUL */
#define COMMUNITY_ID_LEN 31

/* Writes the NUL-terminated ID into out; returns its length (30). */
size_t community_id(const flow_ep *a, const flow_ep *b, uint8_t proto, uint16_t seed,
		    char out[COMMUNITY_ID_LEN]);

#endif
