/*
 * hist: a latency histogram in the manner of HdrHistogram.
 *
 * Log-linear buckets: values below 2^HIST_SUB_BITS are counted exactly;
 * above, every power of two is split into 2^HIST_SUB_BITS equal buckets, so
 * a value is known to within 1/128 (0.8%) whatever its size.  Recording is
 * O(1) with no allocation and the memory is fixed (about 41 KiB), however
 * many samples, which a sorted array of every sample is not.
 *
 * Values are unsigned integers in any unit (the client records
 * nanoseconds); values at or above 2^HIST_MAX_BITS land in the top bucket
 * but the exact maximum is kept beside the buckets.
 */
#ifndef JM_CLIENT_HIST_H
#define JM_CLIENT_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
/* 2^47 ns is 39 hours: beyond the longest wait the client allows (its
 * --timeout is at most a day), so every latency it can measure keeps its
 * 1/128 resolution. */
#define HIST_MAX_BITS 47
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_BITS - HIST_SUB_BITS) * HIST_SUB)

typedef struct hist {
	uint64_t count;
	uint64_t min, max;
	uint64_t sum;
	uint64_t b[HIST_BUCKETS];
} hist;

void hist_init(hist *h);
void hist_record(hist *h, uint64_t v);
/* Add `from`'s samples to `to`. */
void hist_merge(hist *to, const hist *from);
/* The value at percentile p (0 < p <= 100): the highest value of the bucket
 * holding the sample of that rank, never above the recorded maximum.
 * 0 when empty. */
uint64_t hist_percentile(const hist *h, double p);
/* The smallest value recorded and the exact mean (from the running sum,
 * not the buckets); both 0 when empty. */
uint64_t hist_min(const hist *h);
double hist_mean(const hist *h);
/* Bucket index of a value, and the range of values a bucket holds. */
unsigned hist_index(uint64_t v);
uint64_t hist_bucket_low(unsigned i);
uint64_t hist_bucket_high(unsigned i);

#endif
