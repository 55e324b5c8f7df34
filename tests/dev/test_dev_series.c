/*
 * test_dev_series.c - the DMA engine's achieved-throughput time series
 * (dma_engine_interval_bps, a DmaDevice's `interval_throughput`) against a
 * source at a known rate.
 *
 * A writer submits one 256-byte transfer every microsecond to a
 * passthrough engine (no IOMMU): 2.048 Gb/s. Nothing queues (the link and
 * memory need well under a microsecond per request), so transfer k
 * completes at k us + L with 0 < L < 1 us, and every period of whole
 * microseconds (a, b] holds exactly b - a completions: the series reads
 * 2.048e9 in every such period, however long, wherever it starts; a reset
 * starts a period; a second call at one tick has an empty period (NaN);
 * with the source stopped the series falls to 0.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "dev/dma_engine.h"
#include "engine/error.h"
#include "testutil.h"

void test_dev_interval_throughput(void);

#define NS SIM_TICKS_PER_NS
#define US SIM_TICKS_PER_US

struct writer {
    struct sim_event ev;
    struct dma_engine *e;
    struct dma_xfer x[4];
    unsigned k;
    sim_tick_t stop;
};

static void writer_tick(struct sim_event *ev, void *arg)
{
    struct writer *w = arg;
    struct dma_xfer *x = &w->x[w->k++ % 4];   /* done long before reuse */

    (void)ev;
    memset(x, 0, sizeof(*x));
    x->iova = UINT64_C(0x100000) + 256 * (w->k % 16);
    x->bytes = 256;
    x->write = true;
    dma_engine_submit(w->e, x);
    if (sim_now(w->e->sim) + US < w->stop)
        sim_event_schedule_in(w->e->sim, &w->ev, US);
}

void test_dev_interval_throughput(void)
{
    struct sim sim;
    struct mem mem;
    struct mem_cfg mc;
    struct dma_engine e;
    struct dma_engine_cfg ec;
    struct pcie_link_cfg lc;
    struct writer w;
    char err[200];
    const double rate = 256.0 * 8.0 / 1e-6;     /* bit/s: 2.048e9 */
    double v;

    sim_init(&sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = 1;
    mc.interleave = 64;
    mc.bandwidth = UINT64_C(25600000000);
    CU_ASSERT_EQUAL_FATAL(mem_init(&mem, &sim, &mc, err, sizeof(err)), 0);
    memset(&ec, 0, sizeof(ec));
    ec.tags = 8;
    ec.max_payload = 256;
    memset(&lc, 0, sizeof(lc));
    lc.gen = 4;
    lc.lanes = 16;
    lc.tlp_overhead = 24;
    lc.latency = 100 * NS;
    CU_ASSERT_EQUAL_FATAL(dma_engine_init(&e, &sim, &ec, &lc, NULL, &mem, "dev", err,
                                          sizeof(err)), 0);
    memset(&w, 0, sizeof(w));
    w.e = &e;
    w.stop = 100 * US;
    sim_event_init(&w.ev, writer_tick, &w, SIM_PRIO_DEFAULT);
    sim_event_schedule(&sim, &w.ev, 0);

    /* Periods of 10, 10 and 7 us: the rate each time. */
    sim_run_until(&sim, 10 * US, 0);
    ASSERT_NEAR(dma_engine_interval_bps(&e), rate, 1e-6 * rate);
    sim_run_until(&sim, 20 * US, 0);
    ASSERT_NEAR(dma_engine_interval_bps(&e), rate, 1e-6 * rate);
    sim_run_until(&sim, 27 * US, 0);
    ASSERT_NEAR(dma_engine_interval_bps(&e), rate, 1e-6 * rate);
    /* The same tick again: an empty period. */
    CU_ASSERT_TRUE(isnan(dma_engine_interval_bps(&e)));
    /* A reset at 30 us starts a period: (30, 33] has 3 completions of the
     * 6 since the last call; the counters restarted too. */
    sim_run_until(&sim, 30 * US, 0);
    dma_engine_reset_stats(&e);
    sim_run_until(&sim, 33 * US, 0);
    ASSERT_NEAR(dma_engine_interval_bps(&e), rate, 1e-6 * rate);
    CU_ASSERT_EQUAL(e.st.bytes[DMA_WRITE], 3 * 256);
    /* The source stops after its last transfer at 99 us (completed well
     * before 100 us): half a period of traffic, then none. */
    sim_run_until(&sim, 50 * US, 0);
    (void)dma_engine_interval_bps(&e);
    sim_run_until(&sim, 150 * US, 0);
    v = dma_engine_interval_bps(&e);
    ASSERT_NEAR(v, rate * 50.0 / 100.0, 1e-6 * rate);
    sim_run_until(&sim, 160 * US, 0);
    CU_ASSERT_EQUAL(dma_engine_interval_bps(&e), 0.0);
    sim_destroy(&sim);
    dma_engine_destroy(&e);
    mem_destroy(&mem);
}
