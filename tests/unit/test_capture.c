/*
 * Unit tests of tcp/capture's cap_parse: every link type down to the
 * TCP payload, the TCP options, and every truncation of a frame (each one
 * copied into a buffer of exactly its captured length, so under ASan a read
 * past the snapshot end is caught).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcap/pcap.h>

#include "tcp/capture.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

struct frame {
	uint8_t b[512];
	size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put8(struct frame *f, uint8_t v) { put(f, &v, 1); }
static void put16(struct frame *f, uint16_t v) { put8(f, (uint8_t)(v >> 8)); put8(f, (uint8_t)v); }
static void put32(struct frame *f, uint32_t v) { put16(f, (uint16_t)(v >> 16)); put16(f, (uint16_t)v); }

static const char payload[] = "\x00\x02{}hello";
#define PAYLOAD_LEN (sizeof payload - 1)

/* TCP header with MSS, SACK-permitted, timestamps, window scale (40 bytes). */
static void put_tcp(struct frame *f)
{
	put16(f, 40001);
	put16(f, 65432);
	put32(f, 0x11223344);
	put32(f, 0xaabbccdd);
	put8(f, (40 / 4) << 4);
	put8(f, 0x18); /* PSH ACK */
	put16(f, 512);
	put16(f, 0);    /* checksum: never checked */
	put16(f, 0);
	put8(f, 2); put8(f, 4); put16(f, 1460);           /* MSS */
	put8(f, 4); put8(f, 2);                           /* SACK permitted */
	put8(f, 8); put8(f, 10); put32(f, 7); put32(f, 9); /* timestamps */
	put8(f, 1);                                       /* NOP */
	put8(f, 3); put8(f, 3); put8(f, 7);               /* window scale */
	put(f, payload, PAYLOAD_LEN);
}

static void put_ipv4(struct frame *f, uint16_t frag)
{
	put8(f, 0x45);
	put8(f, 0);
	put16(f, (uint16_t)(20 + 40 + PAYLOAD_LEN));
	put16(f, 1);
	put16(f, frag);
	put8(f, 64);
	put8(f, 6);
	put16(f, 0);
	put32(f, 0x0a000001);
	put32(f, 0x0a000002);
	put_tcp(f);
}

static void put_ipv6(struct frame *f, bool ext)
{
	put32(f, 0x60000000);
	put16(f, (uint16_t)((ext ? 16 : 0) + 40 + PAYLOAD_LEN));
	put8(f, ext ? 0 : 6);
	put8(f, 64);
	uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8}, b[16] = {0x20, 0x01, 0x0d, 0xb8};
	a[15] = 1;
	b[15] = 2;
	put(f, a, 16);
	put(f, b, 16);
	if (ext) {
		/* hop-by-hop (8 bytes) then destination options (8 bytes) */
		put8(f, 60); put8(f, 0); put16(f, 0x0104); put32(f, 0);
		put8(f, 6); put8(f, 0); put16(f, 0x0104); put32(f, 0);
	}
	put_tcp(f);
}

static void check_segment(const cap_segment *s, int ipv)
{
	assert_int_equal(s->ip_version, ipv);
	assert_int_equal(s->src.port, 40001);
	assert_int_equal(s->dst.port, 65432);
	assert_int_equal(s->seq, 0x11223344);
	assert_int_equal(s->ack, 0xaabbccdd);
	assert_int_equal(s->flags, CAP_PSH | CAP_ACK);
	assert_int_equal(s->window, 512);
	assert_int_equal(s->mss, 1460);
	assert_int_equal(s->wscale, 7);
	assert_true(s->sack_permitted);
	assert_true(s->has_ts);
	assert_int_equal(s->tsval, 7);
	assert_int_equal(s->tsecr, 9);
	assert_int_equal(s->payload_len, PAYLOAD_LEN);
	assert_int_equal(s->payload_wire, PAYLOAD_LEN);
	assert_memory_equal(s->payload, payload, PAYLOAD_LEN);
	if (ipv == 4) {
		static const uint8_t a[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
		assert_memory_equal(s->src.addr, a, 16);
	}
}

/* Parse the whole frame, then every prefix of it from a buffer exactly
 * that long: a prefix either fails cleanly or yields a segment whose
 * payload lies inside the prefix and is no longer than sent. */
static void parse_all_prefixes(int dlt, const struct frame *f, int ipv)
{
	cap_segment s;
	assert_int_equal(cap_parse(dlt, f->b, (uint32_t)f->n, (uint32_t)f->n, &s), CAP_TCP);
	check_segment(&s, ipv);
	for (size_t n = 0; n < f->n; n++) {
		uint8_t *p = malloc(n ? n : 1);
		memcpy(p, f->b, n);
		cap_result r = cap_parse(dlt, p, (uint32_t)n, (uint32_t)f->n, &s);
		if (r == CAP_TCP) {
			assert_true(s.payload >= p && s.payload + s.payload_len <= p + n);
			assert_int_equal(s.payload_wire, PAYLOAD_LEN);
			assert_int_equal(s.payload_len, PAYLOAD_LEN - (f->n - n));
		} else {
			assert_int_equal(r, CAP_SHORT);
		}
		free(p);
	}
}

static void test_ethernet(void **state)
{
	struct frame f = {.n = 0};
	uint8_t mac[12] = {0};
	put(&f, mac, 12);
	put16(&f, 0x0800);
	put_ipv4(&f, 0x4000);
	parse_all_prefixes(DLT_EN10MB, &f, 4);
}

static void test_ethernet_padding(void **state)
{
	/* Frames padded after the IP datagram: padding is not payload. */
	struct frame f = {.n = 0};
	uint8_t mac[12] = {0};
	put(&f, mac, 12);
	put16(&f, 0x0800);
	put_ipv4(&f, 0);
	put32(&f, 0xdeadbeef);
	cap_segment s;
	assert_int_equal(cap_parse(DLT_EN10MB, f.b, (uint32_t)f.n, (uint32_t)f.n, &s), CAP_TCP);
	assert_int_equal(s.payload_len, PAYLOAD_LEN);
}

static void test_vlan_and_qinq(void **state)
{
	for (int tags = 1; tags <= 2; tags++) {
		struct frame f = {.n = 0};
		uint8_t mac[12] = {0};
		put(&f, mac, 12);
		if (tags == 2) {
			put16(&f, 0x88a8);
			put16(&f, 100);
		}
		put16(&f, 0x8100);
		put16(&f, 42);
		put16(&f, 0x86dd);
		put_ipv6(&f, false);
		parse_all_prefixes(DLT_EN10MB, &f, 6);
	}
}

static void test_linux_cooked(void **state)
{
	struct frame f = {.n = 0};
	uint8_t hdr[14] = {0, 0, 0, 1, 0, 6};
	put(&f, hdr, 14);
	put16(&f, 0x0800);
	put_ipv4(&f, 0);
	parse_all_prefixes(DLT_LINUX_SLL, &f, 4);

	struct frame g = {.n = 0};
	put16(&g, 0x86dd);
	put16(&g, 0);
	put32(&g, 1);               /* interface index */
	put16(&g, 1);               /* ARPHRD */
	put8(&g, 0);
	put8(&g, 6);
	uint8_t addr[8] = {0};
	put(&g, addr, 8);
	put_ipv6(&g, true);
	parse_all_prefixes(DLT_LINUX_SLL2, &g, 6);
}

static void test_bsd_loopback(void **state)
{
	struct frame f = {.n = 0};
	put8(&f, 2); put8(&f, 0); put8(&f, 0); put8(&f, 0);  /* AF_INET, little-endian */
	put_ipv4(&f, 0);
	parse_all_prefixes(DLT_NULL, &f, 4);

	struct frame g = {.n = 0};
	put32(&g, 30);              /* AF_INET6 (macOS), DLT_LOOP is big-endian */
	put_ipv6(&g, false);
	parse_all_prefixes(DLT_LOOP, &g, 6);
}

static void test_raw_ip(void **state)
{
	struct frame f = {.n = 0};
	put_ipv4(&f, 0);
	parse_all_prefixes(DLT_RAW, &f, 4);
	struct frame g = {.n = 0};
	put_ipv6(&g, true);
	parse_all_prefixes(DLT_RAW, &g, 6);
}

static void test_not_tcp(void **state)
{
	cap_segment s;
	struct frame f = {.n = 0};
	put_ipv4(&f, 0x2000); /* more fragments: IP reassembly is out of scope */
	assert_int_equal(cap_parse(DLT_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n, &s), CAP_OTHER);
	f.b[9] = 17;          /* UDP */
	f.b[6] = f.b[7] = 0;
	assert_int_equal(cap_parse(DLT_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n, &s), CAP_OTHER);
	struct frame g = {.n = 0};
	uint8_t mac[12] = {0};
	put(&g, mac, 12);
	put16(&g, 0x0806);    /* ARP */
	put32(&g, 0);
	assert_int_equal(cap_parse(DLT_EN10MB, g.b, (uint32_t)g.n, (uint32_t)g.n, &s), CAP_OTHER);
	assert_int_equal(cap_parse(9999, g.b, (uint32_t)g.n, (uint32_t)g.n, &s), CAP_OTHER);
}

static void test_malformed_lengths(void **state)
{
	cap_segment s;
	struct frame f = {.n = 0};
	put_ipv4(&f, 0);
	f.b[0] = 0x44;                      /* IHL 16 bytes: too short */
	assert_int_equal(cap_parse(DLT_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n, &s), CAP_SHORT);
	f.b[0] = 0x45;
	f.b[2] = 0;
	f.b[3] = 30;                        /* total length shorter than IP + TCP */
	assert_int_equal(cap_parse(DLT_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n, &s), CAP_SHORT);
	f.b[3] = (uint8_t)(20 + 40 + PAYLOAD_LEN);
	f.b[20 + 12] = 0x40;                /* TCP data offset 16 bytes */
	assert_int_equal(cap_parse(DLT_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n, &s), CAP_SHORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet),
		cmocka_unit_test(test_ethernet_padding),
		cmocka_unit_test(test_vlan_and_qinq),
		cmocka_unit_test(test_linux_cooked),
		cmocka_unit_test(test_bsd_loopback),
		cmocka_unit_test(test_raw_ip),
		cmocka_unit_test(test_not_tcp),
		cmocka_unit_test(test_malformed_lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
