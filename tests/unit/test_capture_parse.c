/*
 * Table-driven tests of tcp/capture's cap_parse on the edges of each
 * layer: TCP options cut or malformed, TCP and IP lengths that disagree,
 * IPv6 extension header chains, link types and their odd cases.  Each row
 * is a frame written in hex and what cap_parse must make of it; every
 * prefix of every frame is parsed again from a buffer of exactly that
 * length, so under ASan a read past the snapshot end is caught.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "tcp/capture.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

/* Building blocks, in hex (spaces are ignored). */
#define MACS "000000000001 000000000002 "
#define ETH(type) MACS type " "
/* IPv4 header, 20 bytes: total length, flags+offset, protocol. */
#define IP4X(vihl, total, frag, proto) vihl " 00 " total " 0001 " frag " 40 " proto " 0000 0a000001 0a000002 "
#define IP4(total, frag, proto) IP4X("45", total, frag, proto)
/* IPv6 header, 40 bytes: payload length, next header. */
#define IP6X(word0, plen, next) word0 " " plen " " next " 40 " \
	"20010db8000000000000000000000001 20010db8000000000000000000000002 "
#define IP6(plen, next) IP6X("60000000", plen, next)
/* TCP 40001 -> 65432, seq 0x11223344, ack 0xaabbccdd, PSH ACK, window 512,
 * with the data offset byte given (0x50: 20 bytes, no options). */
#define TCP(doff) "9c41 ff98 11223344 aabbccdd " doff " 18 0200 0000 0000 "
#define TCP20 TCP("50")
#define PAY "00027b7d " /* 4 payload bytes: protoheader 2, then "{}" */
#define PAD "deadbeef " /* link-layer padding after the datagram */
#define DST_OPT(next) next "00 0000 00000000 " /* IPv6 destination options, 8 bytes */
#define X2(x) x x
#define X4(x) X2(x) X2(x)
#define X8(x) X4(x) X4(x)

struct row {
	const char *name;
	int dlt;
	const char *frame;
	cap_result want;
	/* when want == CAP_TCP: */
	int ipv;
	const char *payload;      /* hex, the payload_len bytes expected */
	uint32_t payload_wire;
	uint16_t mss;
	int16_t wscale;
	bool has_ts, sack;
};

#define NOOPT 0, -1, false, false
/* A row whose frame is not a TCP segment. */
#define NOT_TCP(res) res, 0, "", 0, NOOPT

static const struct row rows[] = {
	/* ---- TCP options */
	{"EOL ends the options; what follows it is ignored", DLT_RAW,
	 IP4("0030", "4000", "06") TCP("60") "00 030307 " PAY, CAP_TCP, 4, PAY, 4, NOOPT},
	{"options of the wrong length are ignored, window scale 15 becomes 14", DLT_RAW,
	 IP4("0040", "0000", "06") TCP("a0") "02 03 05 01 03 04 07 00 08 06 00000000 03 03 0f 01 01 01 " PAY,
	 CAP_TCP, 4, PAY, 4, 0, 14, false, false},
	{"an option length below 2 ends the options, not the segment", DLT_RAW,
	 IP4("0034", "0000", "06") TCP("70") "04 02 02 01 03 03 07 01 " PAY,
	 CAP_TCP, 4, PAY, 4, 0, -1, false, true},
	{"an option running past the TCP header ends the options", DLT_RAW,
	 IP4("0034", "0000", "06") TCP("70") "01 01 08 0a 00000001 " PAY, CAP_TCP, 4, PAY, 4, NOOPT},
	{"MSS, window scale and timestamps read", DLT_RAW,
	 IP4("0040", "0000", "06") TCP("a0") "02 04 05b4 03 03 02 08 0a 00000007 00000009 01 01 01 " PAY,
	 CAP_TCP, 4, PAY, 4, 1460, 2, true, false},
	/* ---- TCP and IP lengths */
	{"TCP data offset below 20 bytes", DLT_RAW, IP4("0028", "0000", "06") TCP("40") PAY, NOT_TCP(CAP_SHORT)},
	{"TCP header longer than the IP payload", DLT_RAW,
	 IP4("0032", "0000", "06") TCP("a0") "0000000000000000000000000000000000000000", NOT_TCP(CAP_SHORT)},
	{"IPv4 total length below its header length", DLT_RAW, IP4("0010", "0000", "06") TCP20 PAY,
	 NOT_TCP(CAP_SHORT)},
	{"IPv4 total length 0 (segmentation offload): the capture is trusted", DLT_RAW,
	 IP4("0000", "0000", "06") TCP20 PAY PAD, CAP_TCP, 4, PAY PAD, 8, NOOPT},
	{"IPv4 padding after the datagram is not payload", DLT_EN10MB,
	 ETH("0800") IP4("002c", "0000", "06") TCP20 PAY PAD, CAP_TCP, 4, PAY, 4, NOOPT},
	{"IPv4 payload cut by the snapshot length", DLT_RAW,
	 IP4("0030", "0000", "06") TCP20 PAY, CAP_TCP, 4, PAY, 8, NOOPT},
	{"IPv4 don't-fragment is not a fragment", DLT_RAW, IP4("002c", "4000", "06") TCP20 PAY,
	 CAP_TCP, 4, PAY, 4, NOOPT},
	{"IPv4 later fragment", DLT_RAW, IP4("002c", "0010", "06") TCP20 PAY, NOT_TCP(CAP_OTHER)},
	{"IPv4 UDP", DLT_RAW, IP4("002c", "0000", "11") TCP20 PAY, NOT_TCP(CAP_OTHER)},
	{"IPv4 version 5 under ethertype 0x0800", DLT_EN10MB,
	 ETH("0800") IP4X("55", "002c", "0000", "06") TCP20 PAY, NOT_TCP(CAP_SHORT)},
	/* ---- IPv6 */
	{"IPv4 under ethertype 0x86dd", DLT_EN10MB, ETH("86dd") IP4("002c", "0000", "06") TCP20 PAY,
	 NOT_TCP(CAP_SHORT)},
	{"IPv6 padding after the payload length is not payload", DLT_EN10MB,
	 ETH("86dd") IP6("0018", "06") TCP20 PAY PAD, CAP_TCP, 6, PAY, 4, NOOPT},
	{"IPv6 payload length 0 (jumbogram or offload): the capture is trusted", DLT_RAW,
	 IP6("0000", "06") TCP20 PAY PAD, CAP_TCP, 6, PAY PAD, 8, NOOPT},
	{"IPv6 hop-by-hop, then TCP", DLT_RAW,
	 IP6("0020", "00") "06 00 0104 00000000 " TCP20 PAY, CAP_TCP, 6, PAY, 4, NOOPT},
	{"IPv6 routing header, then TCP", DLT_RAW,
	 IP6("0020", "2b") "06 00 0000 00000000 " TCP20 PAY, CAP_TCP, 6, PAY, 4, NOOPT},
	{"IPv6 authentication header (length in 4-byte units), then TCP", DLT_RAW,
	 IP6("0024", "33") "06 01 0000 00000000 00000000 " TCP20 PAY, CAP_TCP, 6, PAY, 4, NOOPT},
	{"IPv6 atomic fragment (offset 0, no more), then TCP", DLT_RAW,
	 IP6("0020", "2c") "06 00 0000 00000001 " TCP20 PAY, CAP_TCP, 6, PAY, 4, NOOPT},
	{"IPv6 first fragment of several", DLT_RAW, IP6("0020", "2c") "06 00 0001 00000001 " TCP20 PAY,
	 NOT_TCP(CAP_OTHER)},
	{"IPv6 later fragment", DLT_RAW, IP6("0020", "2c") "06 00 0008 00000001 " TCP20 PAY, NOT_TCP(CAP_OTHER)},
	{"IPv6 UDP", DLT_RAW, IP6("0018", "11") TCP20 PAY, NOT_TCP(CAP_OTHER)},
	{"IPv6 no next header", DLT_RAW, IP6("0018", "3b") TCP20 PAY, NOT_TCP(CAP_OTHER)},
	{"IPv6 extension header longer than the payload length", DLT_RAW,
	 IP6("0008", "00") "06 01 0000 00000000 0000000000000000 " TCP20 PAY, NOT_TCP(CAP_SHORT)},
	{"IPv6 15 extension headers, then TCP", DLT_RAW,
	 IP6("0090", "3c") X8(DST_OPT("3c")) X4(DST_OPT("3c")) X2(DST_OPT("3c")) DST_OPT("06") TCP20 PAY,
	 CAP_TCP, 6, PAY, 4, NOOPT},
	{"IPv6 16 extension headers are too many", DLT_RAW,
	 IP6("0098", "3c") X8(DST_OPT("3c")) X4(DST_OPT("3c")) X2(DST_OPT("3c")) DST_OPT("3c")
	 DST_OPT("06") TCP20 PAY, NOT_TCP(CAP_OTHER)},
	{"IPv6 version 4 in its header", DLT_RAW, IP6X("40000000", "0018", "06") TCP20 PAY, NOT_TCP(CAP_SHORT)},
	/* ---- link types */
	{"four VLAN tags", DLT_EN10MB,
	 MACS "8100 0001 8100 0002 88a8 0003 9100 0004 0800 " IP4("002c", "0000", "06") TCP20 PAY,
	 CAP_TCP, 4, PAY, 4, NOOPT},
	{"five VLAN tags are too many", DLT_EN10MB,
	 MACS "8100 0001 8100 0002 8100 0003 8100 0004 8100 0005 0800 " IP4("002c", "0000", "06") TCP20 PAY,
	 NOT_TCP(CAP_SHORT)},
	{"Ethernet ARP", DLT_EN10MB, ETH("0806") "0001080006040001", NOT_TCP(CAP_OTHER)},
	{"BSD loopback, AF_INET written big-endian", DLT_NULL,
	 "00000002 " IP4("002c", "0000", "06") TCP20 PAY, CAP_TCP, 4, PAY, 4, NOOPT},
	{"BSD loopback, AF_INET6 of Linux", DLT_NULL, "0a000000 " IP6("0018", "06") TCP20 PAY,
	 CAP_TCP, 6, PAY, 4, NOOPT},
	{"BSD loopback, AF_INET6 of NetBSD and OpenBSD", DLT_NULL, "18000000 " IP6("0018", "06") TCP20 PAY,
	 CAP_TCP, 6, PAY, 4, NOOPT},
	{"BSD loopback, AF_INET6 of FreeBSD", DLT_NULL, "1c000000 " IP6("0018", "06") TCP20 PAY,
	 CAP_TCP, 6, PAY, 4, NOOPT},
	{"BSD loopback, an unknown family", DLT_NULL, "11000000 " IP4("002c", "0000", "06") TCP20 PAY,
	 NOT_TCP(CAP_OTHER)},
	{"OpenBSD loopback (DLT_LOOP), AF_INET", DLT_LOOP, "00000002 " IP4("002c", "0000", "06") TCP20 PAY,
	 CAP_TCP, 4, PAY, 4, NOOPT},
	{"Linux cooked v1, IPv6", DLT_LINUX_SLL, "0000 0304 0006 000000000000 0000 86dd "
	 IP6("0018", "06") TCP20 PAY, CAP_TCP, 6, PAY, 4, NOOPT},
	{"Linux cooked v2, IPv4", DLT_LINUX_SLL2, "0800 0000 00000001 0304 00 06 0000000000000000 "
	 IP4("002c", "0000", "06") TCP20 PAY, CAP_TCP, 4, PAY, 4, NOOPT},
	{"Linux cooked v2, not IP", DLT_LINUX_SLL2, "0806 0000 00000001 0304 00 06 0000000000000000 "
	 "0001080006040001", NOT_TCP(CAP_OTHER)},
	{"raw IP, version 5", DLT_RAW, IP4X("55", "002c", "0000", "06") TCP20 PAY, NOT_TCP(CAP_OTHER)},
	{"DLT_IPV4", 228, IP4("002c", "0000", "06") TCP20 PAY, CAP_TCP, 4, PAY, 4, NOOPT},
	{"DLT_IPV6", 229, IP6("0018", "06") TCP20 PAY, CAP_TCP, 6, PAY, 4, NOOPT},
	{"an unknown link type", 147, IP4("002c", "0000", "06") TCP20 PAY, NOT_TCP(CAP_OTHER)},
};

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (; *s; s++) {
		if (*s == ' ')
			continue;
		int v = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
		assert_true(v >= 0);
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1); /* an even number of digits */
	return n;
}

static void test_row(void **state)
{
	const struct row *r = *state;
	uint8_t frame[512], pay[64];
	size_t n = unhex(r->frame, frame, sizeof frame);
	cap_segment s;
	cap_result got = cap_parse(r->dlt, frame, (uint32_t)n, (uint32_t)n, &s);
	if (got != r->want)
		fail_msg("%s: cap_parse gave %d, want %d", r->name, got, r->want);
	assert_int_equal(s.caplen, n);
	assert_int_equal(s.wirelen, n);
	if (r->want == CAP_TCP) {
		size_t pn = unhex(r->payload, pay, sizeof pay);
		assert_int_equal(s.ip_version, r->ipv);
		assert_int_equal(s.src.port, 40001);
		assert_int_equal(s.dst.port, 65432);
		assert_int_equal(s.seq, 0x11223344);
		assert_int_equal(s.ack, 0xaabbccdd);
		assert_int_equal(s.flags, CAP_PSH | CAP_ACK);
		assert_int_equal(s.window, 512);
		assert_int_equal(s.payload_len, pn);
		assert_memory_equal(s.payload, pay, pn);
		assert_int_equal(s.payload_wire, r->payload_wire);
		assert_int_equal(s.mss, r->mss);
		assert_int_equal(s.wscale, r->wscale);
		assert_int_equal(s.has_ts, r->has_ts);
		if (r->has_ts) {
			assert_int_equal(s.tsval, 7);
			assert_int_equal(s.tsecr, 9);
		}
		assert_int_equal(s.sack_permitted, r->sack);
		static const uint8_t v4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
		static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
		assert_memory_equal(s.src.addr, r->ipv == 4 ? v4 : v6, 16);
		assert_int_equal(s.dst.addr[15], 2);
	}
	/* Every prefix, from a buffer exactly that long: a clean failure, or
	 * a payload inside the prefix. */
	for (size_t k = 0; k < n; k++) {
		uint8_t *p = malloc(k ? k : 1);
		assert_non_null(p);
		memcpy(p, frame, k);
		cap_result pr = cap_parse(r->dlt, p, (uint32_t)k, (uint32_t)n, &s);
		if (pr == CAP_TCP) {
			assert_true(s.payload >= p && s.payload + s.payload_len <= p + k);
			assert_true(s.payload_len <= s.payload_wire);
		}
		free(p);
	}
}

/* One cmocka test per row, named after it. */
int main(void)
{
	enum { N = sizeof rows / sizeof rows[0] };
	struct CMUnitTest tests[N];
	for (size_t i = 0; i < N; i++)
		tests[i] = (struct CMUnitTest){.name = rows[i].name, .test_func = test_row,
					       .initial_state = (void *)&rows[i]};
	return cmocka_run_group_tests_name("cap_parse edges", tests, NULL, NULL);
}
