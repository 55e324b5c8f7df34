/*
 * clock.h - clock domains: cycles <-> ticks.
 *
 * A clock domain is a frequency in Hz. Conversions are exact rational
 * arithmetic on (cycles * 10^12 / hz), done in 128 bits, so a 3 GHz clock does
 * not drift the way a period rounded to 333 ps would (0.1% per cycle).
 *
 * Rounding, stated once:
 *  - sim_clock_cycles_to_ticks() rounds to the nearest tick, halves up. Cycle
 *    edge k is at tick round(k * 10^12 / hz); edges are not always equally
 *    spaced when the period is not a whole number of picoseconds, but edge k is
 *    never more than half a tick from its exact time.
 *  - sim_clock_ticks_to_cycles() counts the edges at or before the tick: the
 *    largest k with edge(k) <= t.
 *  - sim_clock_next_edge() is the first edge at or after a tick.
 * Frequencies above 1 THz (a period under one tick) are rejected.
 */
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdint.h>

#include "engine/tick.h"

struct sim_clock {
    uint64_t hz;            /* frequency, 1 .. 10^12 */
};

/* 0, or SIM_ERANGE when hz is 0 or above 10^12. */
int sim_clock_init(struct sim_clock *clk, uint64_t hz);

/*
 * Parse a frequency: a non-negative decimal number and a unit Hz, kHz, MHz,
 * GHz or THz ("2GHz", "1.6 GHz", "800MHz"), at most one space between. The
 * value must come to a whole number of Hz. Returns 0, SIM_EPARSE (not a
 * number), SIM_EUNIT (missing or unknown unit) or SIM_ERANGE.
 */
int sim_clock_parse_hz(const char *text, uint64_t *hz);

sim_tick_t sim_clock_cycles_to_ticks(const struct sim_clock *clk, uint64_t cycles);
uint64_t   sim_clock_ticks_to_cycles(const struct sim_clock *clk, sim_tick_t t);
sim_tick_t sim_clock_next_edge(const struct sim_clock *clk, sim_tick_t t);

/* The nominal period rounded to the nearest tick (for display only). */
sim_tick_t sim_clock_period(const struct sim_clock *clk);

#endif /* SIM_CLOCK_H */
