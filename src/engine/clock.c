/*
 * clock.c - clock domains. See clock.h for the rounding rules.
 */
#include "engine/clock.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "engine/error.h"

typedef unsigned __int128 u128;

int sim_clock_init(struct sim_clock *clk, uint64_t hz)
{
    if (hz == 0 || hz > SIM_TICKS_PER_S)
        return SIM_ERANGE;
    clk->hz = hz;
    return 0;
}

sim_tick_t sim_clock_cycles_to_ticks(const struct sim_clock *clk, uint64_t cycles)
{
    u128 num = (u128)cycles * SIM_TICKS_PER_S + clk->hz / 2;
    u128 t = num / clk->hz;

    return t > SIM_TICK_MAX ? SIM_TICK_MAX : (sim_tick_t)t;
}

uint64_t sim_clock_ticks_to_cycles(const struct sim_clock *clk, sim_tick_t t)
{
    /*
     * edge(k) = floor((k * 10^12 + hz/2) / hz) <= t
     *     <=>  k * 10^12 + hz/2 < (t + 1) * hz
     *     <=>  k < ((t + 1) * hz - hz/2) / 10^12, so k = ceil(that) - 1.
     */
    u128 lim = ((u128)t + 1) * clk->hz - clk->hz / 2;

    return (uint64_t)((lim + SIM_TICKS_PER_S - 1) / SIM_TICKS_PER_S - 1);
}

sim_tick_t sim_clock_next_edge(const struct sim_clock *clk, sim_tick_t t)
{
    uint64_t k;

    if (t == 0)
        return 0;
    k = sim_clock_ticks_to_cycles(clk, t - 1);   /* edges at or before t-1 */
    return sim_clock_cycles_to_ticks(clk, k + 1);
}

sim_tick_t sim_clock_period(const struct sim_clock *clk)
{
    return (SIM_TICKS_PER_S + clk->hz / 2) / clk->hz;
}

int sim_clock_parse_hz(const char *text, uint64_t *hz)
{
    static const struct { const char *name; uint64_t mult; } units[] = {
        { "Hz", 1 }, { "kHz", 1000 }, { "MHz", 1000000 },
        { "GHz", 1000000000 }, { "THz", UINT64_C(1000000000000) },
    };
    const char *p = text;
    uint64_t whole = 0, frac = 0, frac_div = 1;
    int digits = 0;

    if (!text)
        return SIM_EPARSE;
    while (isdigit((unsigned char)*p)) {
        if (whole > (UINT64_MAX - 9) / 10)
            return SIM_ERANGE;
        whole = whole * 10 + (uint64_t)(*p++ - '0');
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (frac_div >= UINT64_C(1000000000000))
                return SIM_ERANGE;         /* finer than 1 Hz at THz scale */
            frac = frac * 10 + (uint64_t)(*p++ - '0');
            frac_div *= 10;
            digits++;
        }
    }
    if (digits == 0)
        return SIM_EPARSE;
    if (*p == ' ')
        p++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(p, units[i].name) == 0) {
            u128 v = (u128)whole * units[i].mult;
            u128 f = (u128)frac * units[i].mult;

            if (f % frac_div)
                return SIM_ERANGE;     /* not a whole number of Hz */
            v += f / frac_div;
            if (v == 0 || v > SIM_TICKS_PER_S)
                return SIM_ERANGE;
            *hz = (uint64_t)v;
            return 0;
        }
    }
    return SIM_EUNIT;
}
