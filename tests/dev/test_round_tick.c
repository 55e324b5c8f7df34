/*
 * test_round_tick.c - traffic_round_tick() is llround() for tick values.
 *
 * Arrival patterns keep their next arrival in double ticks and schedule it
 * at the rounded tick; traffic_round_tick() replaces the libm call below
 * 2^52 with a truncation. Any difference would move arrivals and change
 * every statistic, so it is checked against libm's llround (the reference)
 * on the cases where rounding is delicate: exact halves, the doubles just
 * below and above a half, integers, values near 2^52 on both sides, and a
 * seeded spread of magnitudes from 2^-60 to 2^62.
 */
#include <CUnit/CUnit.h>
#include <math.h>

#include "dev/traffic/traffic.h"
#include "engine/rng.h"
#include "testutil.h"

void test_round_tick_matches_llround(void);

static unsigned check(double x)
{
    unsigned bad = traffic_round_tick(x) != (sim_tick_t)llround(x);

    CU_ASSERT_FALSE(bad);
    return bad;
}

void test_round_tick_matches_llround(void)
{
    struct sim_rng rng;
    unsigned bad = 0;
    double p52 = 4503599627370496.0;

    sim_rng_seed(&rng, 3, "test.round_tick");
    bad += check(0.0);
    bad += check(0.5);
    bad += check(nextafter(0.5, 0.0));          /* 0.49999999999999994: 0 */
    bad += check(p52 - 0.5);
    bad += check(p52 - 1.0);
    bad += check(p52);
    bad += check(p52 + 2.0);
    bad += check(ldexp(1.0, 62));
    for (unsigned k = 0; k < 200000; k++) {
        double i = (double)(sim_rng_next(&rng) >> 20);      /* integers < 2^44 */
        double x = ldexp((double)(sim_rng_next(&rng) >> 11), (int)sim_rng_below(&rng, 115) - 113);

        bad += check(i);
        bad += check(i + 0.5);
        bad += check(nextafter(i + 0.5, 0.0));
        bad += check(nextafter(i + 0.5, INFINITY));
        bad += check(x);
    }
    CU_ASSERT_EQUAL(bad, 0);
}
