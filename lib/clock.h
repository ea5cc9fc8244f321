/*
 * clock.h - the monotonic clock, for deadlines and latency figures.
 */
#ifndef HANDOFF_CLOCK_H
#define HANDOFF_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
ho_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline uint64_t
ho_now_ms(void)
{
	return ho_now_us() / 1000u;
}

#endif /* HANDOFF_CLOCK_H */
