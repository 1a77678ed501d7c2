/*
 * Unit tests of tcp/community_id: the Community ID spec's own examples
 * (its README, and every implementation's test vectors), both directions.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tcp/community_id.h"

static flow_ep ep(const char *addr, uint16_t port)
{
	flow_ep e;
	memset(&e, 0, sizeof e);
	if (strchr(addr, ':')) {
		assert_int_equal(inet_pton(AF_INET6, addr, e.addr), 1);
	} else {
		e.addr[10] = e.addr[11] = 0xff;
		assert_int_equal(inet_pton(AF_INET, addr, e.addr + 12), 1);
	}
	e.port = port;
	return e;
}

static void check(const char *a, uint16_t ap, const char *b, uint16_t bp, uint8_t proto,
		  const char *want)
{
	flow_ep x = ep(a, ap), y = ep(b, bp);
	char id[COMMUNITY_ID_LEN];
	assert_int_equal(community_id(&x, &y, proto, 0, id), strlen(want));
	assert_string_equal(id, want);
	assert_int_equal(community_id(&y, &x, proto, 0, id), strlen(want));
	assert_string_equal(id, want);
}

static void test_spec_vectors(void **state)
{
	check("128.232.110.120", 34855, "66.35.250.204", 80, 6, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	check("192.168.1.52", 54585, "8.8.8.8", 53, 17, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
	check("2001:470:e5bf:dead:4957:2174:e82c:4887", 63943, "2607:f8b0:400c:c03::1a", 25, 6,
	      "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
}

/* Same address both ends: the ports order the endpoints. */
static void test_same_address(void **state)
{
	flow_ep x = ep("127.0.0.1", 40000), y = ep("127.0.0.1", 65432);
	char a[COMMUNITY_ID_LEN], b[COMMUNITY_ID_LEN];
	community_id(&x, &y, 6, 0, a);
	community_id(&y, &x, 6, 0, b);
	assert_string_equal(a, b);
	community_id(&x, &y, 6, 1, b);
	assert_string_not_equal(a, b); /* the seed counts */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_vectors),
		cmocka_unit_test(test_same_address),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
