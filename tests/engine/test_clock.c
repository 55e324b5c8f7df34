/*
 * test_clock.c - frequency parsing and cycle/tick conversion with the
 * rounding rules of clock.h. Expected values are exact fractions of 10^12.
 */
#include "engine/clock.h"
#include "engine/error.h"
#include "testutil.h"

void test_clock_parse_accepts(void);
void test_clock_parse_rejects(void);
void test_clock_whole_period(void);
void test_clock_fractional_period_rounding(void);
void test_clock_no_drift(void);
void test_clock_round_trip(void);

void test_clock_parse_accepts(void)
{
    static const struct { const char *text; uint64_t hz; } ok[] = {
        { "2GHz", 2000000000 }, { "2 GHz", 2000000000 },
        { "1.6GHz", 1600000000 }, { "800MHz", 800000000 },
        { "33.333MHz", 33333000 }, { "1Hz", 1 }, { "100kHz", 100000 },
        { "1THz", UINT64_C(1000000000000) }, { "0.5GHz", 500000000 },
    };

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint64_t hz = 0;

        CU_ASSERT_EQUAL(sim_clock_parse_hz(ok[i].text, &hz), 0);
        CU_ASSERT_EQUAL(hz, ok[i].hz);
    }
}

void test_clock_parse_rejects(void)
{
    uint64_t hz = 0;

    CU_ASSERT_EQUAL(sim_clock_parse_hz("", &hz), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_clock_parse_hz("GHz", &hz), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_clock_parse_hz("2", &hz), SIM_EUNIT);       /* unit required */
    CU_ASSERT_EQUAL(sim_clock_parse_hz("2ghz", &hz), SIM_EUNIT);    /* case matters */
    CU_ASSERT_EQUAL(sim_clock_parse_hz("2  GHz", &hz), SIM_EUNIT);
    CU_ASSERT_EQUAL(sim_clock_parse_hz("80ns", &hz), SIM_EUNIT);
    CU_ASSERT_EQUAL(sim_clock_parse_hz("-2GHz", &hz), SIM_EPARSE);
    CU_ASSERT_EQUAL(sim_clock_parse_hz("0GHz", &hz), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_clock_parse_hz("2THz", &hz), SIM_ERANGE);   /* period < 1 ps */
    CU_ASSERT_EQUAL(sim_clock_parse_hz("1.5Hz", &hz), SIM_ERANGE);  /* not whole Hz */
    CU_ASSERT_EQUAL(sim_clock_parse_hz("99999999999999999999999GHz", &hz), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_clock_parse_hz(NULL, &hz), SIM_EPARSE);
}

void test_clock_whole_period(void)
{
    struct sim_clock c;

    CU_ASSERT_EQUAL(sim_clock_init(&c, 2000000000), 0);     /* 500 ps */
    CU_ASSERT_EQUAL(sim_clock_period(&c), 500);
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 0), 0);
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 12), 6000);
    CU_ASSERT_EQUAL(sim_clock_ticks_to_cycles(&c, 499), 0);
    CU_ASSERT_EQUAL(sim_clock_ticks_to_cycles(&c, 500), 1);
    CU_ASSERT_EQUAL(sim_clock_ticks_to_cycles(&c, 6000), 12);
    CU_ASSERT_EQUAL(sim_clock_next_edge(&c, 0), 0);
    CU_ASSERT_EQUAL(sim_clock_next_edge(&c, 1), 500);
    CU_ASSERT_EQUAL(sim_clock_next_edge(&c, 500), 500);
    CU_ASSERT_EQUAL(sim_clock_next_edge(&c, 501), 1000);
    CU_ASSERT_EQUAL(sim_clock_init(&c, 0), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_clock_init(&c, UINT64_C(1000000000001)), SIM_ERANGE);
}

void test_clock_fractional_period_rounding(void)
{
    struct sim_clock c;

    /* 3 GHz: edge k at k * 333.33... ps, rounded to nearest, halves up. */
    sim_clock_init(&c, 3000000000);
    CU_ASSERT_EQUAL(sim_clock_period(&c), 333);
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 1), 333);     /* 333.33 */
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 2), 667);     /* 666.67 */
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 3), 1000);
    CU_ASSERT_EQUAL(sim_clock_ticks_to_cycles(&c, 666), 1);
    CU_ASSERT_EQUAL(sim_clock_ticks_to_cycles(&c, 667), 2);
    CU_ASSERT_EQUAL(sim_clock_next_edge(&c, 334), 667);
    /* 1.6 GHz: 625 ps exactly; 400 MHz * 4 = 1.6 GHz edges coincide. */
    sim_clock_init(&c, 1600000000);
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 4), 2500);
    /* 2.4 GHz: 416.666..: edge 1 -> 417 (416.67), edge 2 -> 833 (833.33) */
    sim_clock_init(&c, 2400000000);
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 1), 417);
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 2), 833);
    /* 400 GHz: a 2.5 ps period puts every odd edge on an exact half. */
    sim_clock_init(&c, 400000000000);
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 1), 3);       /* 2.5 -> 3 */
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 2), 5);
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 3), 8);       /* 7.5 -> 8 */
}

void test_clock_no_drift(void)
{
    struct sim_clock c;

    /* A period rounded to 333 ps would be 1 ms off after 3e9 cycles. */
    sim_clock_init(&c, 3000000000);
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, 3000000000ULL), 1000000000000ULL);
    CU_ASSERT_EQUAL(sim_clock_ticks_to_cycles(&c, 1000000000000ULL), 3000000000ULL);
    sim_clock_init(&c, 1);
    CU_ASSERT_EQUAL(sim_clock_cycles_to_ticks(&c, UINT64_MAX), SIM_TICK_MAX); /* saturates */
}

void test_clock_round_trip(void)
{
    static const uint64_t freqs[] = { 1, 7, 3000000000ULL, 2400000000ULL,
                                      999999937ULL, 400000000000ULL };

    for (size_t f = 0; f < sizeof(freqs) / sizeof(freqs[0]); f++) {
        struct sim_clock c;

        sim_clock_init(&c, freqs[f]);
        for (uint64_t k = 0; k < 20000; k++) {
            sim_tick_t t = sim_clock_cycles_to_ticks(&c, k);

            if (sim_clock_ticks_to_cycles(&c, t) != k ||
                sim_clock_next_edge(&c, t) != t ||
                (k > 0 && sim_clock_ticks_to_cycles(&c, t - 1) != k - 1)) {
                CU_FAIL("cycle/tick round trip");
                return;
            }
            if (k && sim_clock_next_edge(&c, sim_clock_cycles_to_ticks(&c, k - 1) + 1) != t) {
                CU_FAIL("next edge skips or repeats an edge");
                return;
            }
        }
    }
    CU_PASS("round trips hold");
}
