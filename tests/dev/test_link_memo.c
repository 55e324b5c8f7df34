/*
 * test_link_memo.c - the PCIe link's memo of service times per payload size
 * never changes a TLP's timing: over sizes that share memo slots (16 and
 * 220 bytes hash alike, as do 8 and 16) in an order that evicts and
 * refills, each TLP, sent on an idle link, arrives exactly
 * llround((payload + overhead) * 8 / rate) + latency after it was sent.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "dev/link.h"
#include "engine/rng.h"

void test_dev_link_memo_exact(void);

void test_dev_link_memo_exact(void)
{
    static const uint32_t sizes[] = { 16, 220, 8, 0, 256, 16, 220, 4096, 1, 24, 512, 220,
                                      16, 8, 3, 100, 1500, 220, 16 };
    struct sim sim;
    struct pcie_link l;
    struct pcie_link_cfg c = { .gen = 4, .lanes = 8, .tlp_overhead = 24,
                               .latency = 50 * SIM_TICKS_PER_NS };
    struct sim_rng rng;
    double ps_per_byte;

    sim_init(&sim);
    CU_ASSERT_EQUAL_FATAL(pcie_link_init(&l, &sim, &c), 0);
    ps_per_byte = 8.0 * (double)SIM_TICKS_PER_S / (pcie_lane_rate(4) * 8);
    sim_rng_seed(&rng, 7, "link.memo");
    for (unsigned i = 0; i < 2000; i++) {
        /* The fixed sequence first, then random picks from it. */
        uint32_t p = i < sizeof(sizes) / sizeof(sizes[0]) ? sizes[i]
                     : sizes[sim_rng_below(&rng, sizeof(sizes) / sizeof(sizes[0]))];
        enum pcie_dir d = i % 3 ? PCIE_UP : PCIE_DOWN;
        sim_tick_t now = sim_now(&sim);
        sim_tick_t want = (sim_tick_t)llround((double)(p + c.tlp_overhead) * ps_per_byte);

        CU_ASSERT_EQUAL(pcie_link_send(&l, d, p) - now - c.latency, want);
        /* Idle again before the next TLP. */
        sim_run_until(&sim, now + SIM_TICKS_PER_US, 0);
    }
    pcie_link_destroy(&l);
    sim_destroy(&sim);
}
