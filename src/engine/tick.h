/*
 * tick.h - simulated time.
 *
 * One tick is one picosecond. A uint64_t holds 2^64 ps, about 213 days of
 * simulated time, which no DMA experiment approaches. SIM_TICK_MAX is
 * reserved to mean "never" and cannot be scheduled.
 */
#ifndef SIM_TICK_H
#define SIM_TICK_H

#include <stdint.h>

typedef uint64_t sim_tick_t;

#define SIM_TICK_MAX UINT64_MAX

#define SIM_TICKS_PER_PS  UINT64_C(1)
#define SIM_TICKS_PER_NS  UINT64_C(1000)
#define SIM_TICKS_PER_US  UINT64_C(1000000)
#define SIM_TICKS_PER_MS  UINT64_C(1000000000)
#define SIM_TICKS_PER_S   UINT64_C(1000000000000)

static inline double sim_tick_to_seconds(sim_tick_t t)
{
    return (double)t / (double)SIM_TICKS_PER_S;
}

#endif /* SIM_TICK_H */
