/* Milliseconds on CLOCK_MONOTONIC, for every process's timers and ticks. */
#ifndef DAEMON_MONOTIME_H
#define DAEMON_MONOTIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
monotime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
