/*
 * sniff: does a byte stream start with this protocol?  The rule the
 * Wireshark dissector's heuristic applies (dissector/jmsg.lua.in,
 * looks_like), with the spec's numbers: see jm_sniff() in jmsg.h.
 */
#include <string.h>

#include "jmsg.h"

#define PH JM_SPEC_PROTOHEADER_SIZE

/* A JSON header holds no raw control byte but whitespace, and its first
 * byte is '{': most other protocols fail one of these in their first few
 * bytes, long before a claimed header length has arrived. */
static bool prefix_possible(const uint8_t *p, size_t have)
{
	if (have && p[0] != '{')
		return false;
	for (size_t i = 0; i < have; i++)
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return false;
	return true;
}

int jm_sniff(const uint8_t *p, size_t len, uint16_t *header_len)
{
	if (len < PH)
		return -1;
	size_t hl = (size_t)p[0] << 8 | p[1];
	if (hl < JM_SPEC_MIN_HEADER_LEN)
		return 0;
	size_t have = len - PH < hl ? len - PH : hl;
	if (!prefix_possible(p + PH, have))
		return 0;
	if (have < hl)
		return -1;
	const char *keys[JM_FIELD_COUNT];
	bool found[JM_FIELD_COUNT];
	size_t n = 0;
	for (int i = 0; i < JM_FIELD_COUNT; i++)
		if (jm_field_specs[i].required)
			keys[n++] = jm_field_specs[i].key;
	if (!jm_json_object_has((const char *)p + PH, hl, keys, n, found))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!found[i])
			return 0;
	if (header_len)
		*header_len = (uint16_t)hl;
	return 1;
}
