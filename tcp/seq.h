/*
 * seq: comparing TCP sequence numbers, which wrap around past 2^32.
 *
 * 0x00000010 comes after 0xfffffff0: on the wire a sequence number is a
 * position on a circle, not on a line.  Two of them are compared by their
 * signed 32-bit difference (serial number arithmetic, RFC 1982): b is after
 * a when b - a, taken modulo 2^32 and read as an int32_t, is positive, that
 * is when b lies less than 2^31 ahead of a.  The answer is right for numbers
 * less than 2^31 apart, which any two a TCP connection compares are (a
 * window is at most 2^30).  Exactly 2^31 apart, each is before the other.
 *
 * The conversion of a uint32_t above INT32_MAX to int32_t is defined by the
 * implementation in C11; GCC and Clang define it modulo 2^32, as used here.
 *
 * Every comparison of sequence or acknowledgement numbers goes through
 * these, so the wrap is handled in one place (as Suricata's SEQ_GT, SEQ_LT,
 * SEQ_GEQ, SEQ_LEQ).  Equality needs none: a == b is right across the wrap.
 */
#ifndef JM_TCP_SEQ_H
#define JM_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

/* How far a is after b: negative when a is before b. */
static inline int32_t seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

static inline bool seq_lt(uint32_t a, uint32_t b) { return seq_diff(a, b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return seq_diff(a, b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return seq_diff(a, b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return seq_diff(a, b) >= 0; }

#endif
