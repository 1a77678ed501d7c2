/*
 * rate: the open-loop schedule; see rate.h.
 */
#include "client/rate.h"

#define NS_PER_S 1000000000u

uint64_t rate_due(uint64_t per_sec, uint64_t i)
{
	/* i = q R + r: floor(i 10^9 / R) = q 10^9 + floor(r 10^9 / R), and
	 * r 10^9 < RATE_MAX 10^9 fits in 64 bits */
	uint64_t q = i / per_sec, r = i % per_sec;
	if (q > (UINT64_MAX - NS_PER_S) / NS_PER_S)
		return UINT64_MAX;
	return q * NS_PER_S + r * NS_PER_S / per_sec;
}

uint64_t rate_count(uint64_t per_sec, uint64_t ns)
{
	/* due(i) < ns  <=>  i 10^9 / R < ns (ns is whole)  <=>  i < ns R / 10^9;
	 * with ns = a 10^9 + b that is a R + ceil(b R / 10^9) */
	uint64_t a = ns / NS_PER_S, b = ns % NS_PER_S;
	return a * per_sec + (b * per_sec + NS_PER_S - 1) / NS_PER_S;
}

uint64_t rate_due_by(uint64_t per_sec, uint64_t ns)
{
	/* due(i) <= ns  <=>  due(i) < ns + 1 */
	return rate_count(per_sec, ns < UINT64_MAX ? ns + 1 : ns);
}
