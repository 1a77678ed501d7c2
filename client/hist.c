/*
 * hist: log-linear latency buckets; see hist.h.
 */
#include <math.h>
#include <string.h>

#include "client/hist.h"

void hist_init(hist *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

unsigned hist_index(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	if (msb >= HIST_MAX_BITS)
		return HIST_BUCKETS - 1;
	unsigned shift = msb - HIST_SUB_BITS;
	/* the HIST_SUB_BITS bits after the leading one pick the sub-bucket */
	unsigned sub = (unsigned)(v >> shift) - HIST_SUB;
	return HIST_SUB + shift * HIST_SUB + sub;
}

uint64_t hist_bucket_low(unsigned i)
{
	if (i < HIST_SUB)
		return i;
	unsigned shift = (i - HIST_SUB) / HIST_SUB;
	unsigned sub = (i - HIST_SUB) % HIST_SUB;
	return (uint64_t)(HIST_SUB + sub) << shift;
}

uint64_t hist_bucket_high(unsigned i)
{
	if (i + 1 >= HIST_BUCKETS)
		return UINT64_MAX;
	return hist_bucket_low(i + 1) - 1;
}

void hist_record(hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void hist_merge(hist *to, const hist *from)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		to->b[i] += from->b[i];
	to->count += from->count;
	to->sum += from->sum;
	if (from->min < to->min)
		to->min = from->min;
	if (from->max > to->max)
		to->max = from->max;
}

uint64_t hist_min(const hist *h)
{
	return h->count ? h->min : 0;
}

double hist_mean(const hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0;
}

uint64_t hist_percentile(const hist *h, double p)
{
	if (!h->count)
		return 0;
	if (p >= 100)
		return h->max;
	/* The rank is ceil(p% of count), in integers: in floating point
	 * 99.9 / 100 * 1000 is 999.0000000000001 and would round up to the
	 * next sample.  p is taken to a millionth of a percent. */
	if (!(p > 0))
		p = 0;
	uint64_t ppm = (uint64_t)llround(p * 1e6); /* parts per 10^8 */
	const uint64_t whole = 100000000u;
	uint64_t q = h->count / whole, r = h->count % whole;
	/* count * ppm / whole, rounded up, without overflowing 64 bits */
	uint64_t rank = q * ppm + (r * ppm + whole - 1) / whole;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t hi = hist_bucket_high(i);
			return hi < h->max ? hi : h->max;
		}
	}
	return h->max;
}
