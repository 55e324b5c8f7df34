/*
 * test_dev.c - devices and traffic: the latency histogram's percentiles,
 * PCIe lane rates and TLP timing by hand, the DMA engine's page and payload
 * split and tag limit, faults completing with an error and no memory
 * access, link-bound closed-loop throughput, open-loop arrivals, and the
 * address patterns' offsets (Zipf against its closed form).
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dev/dma_engine.h"
#include "dev/lathist.h"
#include "dev/link.h"
#include "dev/traffic/traffic.h"
#include "engine/error.h"
#include "iommu/models/generic.h"
#include "iommu/models/generic_domain.h"
#include "os/dma.h"
#include "testutil.h"

void test_dev_lathist_percentiles(void);
void test_dev_link_rates_and_timing(void);
void test_dev_engine_split_and_tags(void);
void test_dev_engine_fault(void);
void test_dev_link_bound_throughput(void);
void test_dev_open_loop_arrivals(void);
void test_dev_pattern_offsets(void);
void test_dev_ats_device_tlb(void);
void test_dev_posted_writes_tags_and_counts(void);

#define NS SIM_TICKS_PER_NS
#define US SIM_TICKS_PER_US

void test_dev_lathist_percentiles(void)
{
    struct lathist h;

    lathist_reset(&h);
    for (uint64_t v = 0; v < 16; v++)
        lathist_add(&h, v);
    /* 16 exact samples 0..15: the median is the 8th, 7. */
    CU_ASSERT_EQUAL(lathist_percentile(&h, 0.5), 7.0);
    CU_ASSERT_EQUAL(lathist_percentile(&h, 1.0), 15.0);
    lathist_reset(&h);
    for (uint64_t v = 1; v <= 100000; v++)
        lathist_add(&h, v);
    /* Within 1/16 of the true quantiles 50000 and 99000. */
    ASSERT_NEAR(lathist_percentile(&h, 0.5), 50000, 50000 / 16.0);
    ASSERT_NEAR(lathist_percentile(&h, 0.99), 99000, 99000 / 16.0);
    ASSERT_NEAR(lathist_mean(&h), 50000.5, 1e-6);
    CU_ASSERT_EQUAL(h.max, 100000);
    CU_ASSERT_TRUE(lathist_percentile(&h, 1.0) <= 100000);
    /* Bin edges: every value lies in [lo, lo + width) of its bin. */
    for (uint64_t v = 1; v < (UINT64_C(1) << 40); v = v * 3 + 1) {
        uint64_t w, lo = lathist_bin_lo(lathist_bin(v), &w);

        CU_ASSERT_TRUE(lo <= v && v < lo + w);
    }
}

void test_dev_link_rates_and_timing(void)
{
    struct sim sim;
    struct pcie_link l;
    struct pcie_link_cfg c = { .gen = 4, .lanes = 16, .tlp_overhead = 24, .latency = 100 * NS };
    double per_byte_ps;
    sim_tick_t a1, a2;

    ASSERT_NEAR(pcie_lane_rate(1), 2e9, 1);
    ASSERT_NEAR(pcie_lane_rate(3), 8e9 * 128 / 130, 1);
    ASSERT_NEAR(pcie_lane_rate(5), 32e9 * 128 / 130, 1);
    sim_init(&sim);
    CU_ASSERT_EQUAL(pcie_link_init(&l, &sim, &(struct pcie_link_cfg){ .gen = 7, .lanes = 4 }),
                    SIM_EINVAL);
    CU_ASSERT_EQUAL(pcie_link_init(&l, &sim, &(struct pcie_link_cfg){ .gen = 3, .lanes = 3 }),
                    SIM_EINVAL);
    CU_ASSERT_EQUAL_FATAL(pcie_link_init(&l, &sim, &c), 0);
    /* gen4 x16: 16 * 16e9 * 128/130 bit/s; a 256-byte TLP is 280 bytes. */
    per_byte_ps = 8.0 * 1e12 / (16 * 16e9 * 128.0 / 130.0);
    a1 = pcie_link_send(&l, PCIE_UP, 256);
    a2 = pcie_link_send(&l, PCIE_UP, 256);
    ASSERT_NEAR(a1, 280 * per_byte_ps + 100e3, 1);
    ASSERT_NEAR(a2, 2 * 280 * per_byte_ps + 100e3, 2);         /* queued behind */
    /* The other direction is independent (full duplex). */
    ASSERT_NEAR(pcie_link_send(&l, PCIE_DOWN, 0), 24 * per_byte_ps + 100e3, 1);
    CU_ASSERT_EQUAL(l.st.tlps[PCIE_UP], 2);
    CU_ASSERT_EQUAL(l.st.wire_bytes[PCIE_UP], 560);
    sim_destroy(&sim);
    pcie_link_destroy(&l);
}

/* --- A device on a generic IOMMU ----------------------------------------- */

struct denv {
    struct sim sim;
    struct mem mem;
    struct generic_iommu g;
    struct generic_domains doms;    /* the OS's view of g's domains */
    struct os_dma os;
    struct dma_engine eng;
    struct iommu *mmu;
    unsigned max_busy;
};

static void denv_init(struct denv *e, enum os_dma_policy pol, unsigned tags,
                      uint32_t max_payload, unsigned gen, unsigned lanes)
{
    struct mem_cfg mc;
    struct generic_cfg c;
    struct os_dma_cfg oc;
    struct dma_engine_cfg ec = { .tags = tags, .max_payload = max_payload, .requester_id = 3 };
    struct pcie_link_cfg lc = { .gen = gen, .lanes = lanes, .tlp_overhead = 24,
                                .latency = 100 * NS };
    char err[200];
    struct iommu_domain *idom;

    memset(e, 0, sizeof(*e));
    sim_init(&e->sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = 1;
    mc.interleave = 64;
    CU_ASSERT_EQUAL_FATAL(mem_init(&e->mem, &e->sim, &mc, err, sizeof(err)), 0);
    memset(&c, 0, sizeof(c));
    c.levels = 4;
    c.pgsize_bitmap = 0x1000;
    c.iotlb.arr[0] = (struct iotlb_array_cfg){ 1024, 0 };
    c.iotlb.arr[0].ways = 1024;
    c.iotlb.mshrs = 8;
    c.walk.walkers = 2;
    c.hit_latency = 2 * NS;
    c.lookup_ports = 4;
    c.lookup_cycle = 1 * NS;
    c.max_domains = 8;
    c.max_devices = 8;
    CU_ASSERT_EQUAL_FATAL(generic_create(&e->g, &e->sim, &e->mem, &c, err, sizeof(err)), 0);
    memset(&oc, 0, sizeof(oc));
    oc.policy = pol;
    oc.cpus = 1;
    oc.dma_bits = 32;
    oc.fq_size = 256;
    oc.fq_timeout = 10 * SIM_TICKS_PER_MS;
    CU_ASSERT_EQUAL_FATAL(generic_domains_init(&e->doms, &e->g), 0);
    CU_ASSERT_EQUAL_FATAL(generic_domains_get(&e->doms, 3, &idom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(os_dma_init(&e->os, &e->sim, idom, &oc, err, sizeof(err)), 0);
    if (pol != OS_DMA_PASSTHROUGH)
        CU_ASSERT_EQUAL_FATAL(generic_attach(&e->g, 3, 3, &e->mmu, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(dma_engine_init(&e->eng, &e->sim, &ec, &lc, e->mmu, &e->mem,
                                          "dev", err, sizeof(err)), 0);
}

static void denv_destroy(struct denv *e)
{
    sim_destroy(&e->sim);
    dma_engine_destroy(&e->eng);
    os_dma_destroy(&e->os);
    generic_domains_destroy(&e->doms);
    generic_destroy(&e->g);
    mem_destroy(&e->mem);
}

static void note_done(struct dma_xfer *x)
{
    int *n = x->ctx;

    (*n)++;
}

void test_dev_engine_split_and_tags(void)
{
    struct denv e;
    struct dma_xfer x;
    uint64_t iova;
    sim_tick_t done;
    int ndone = 0;

    denv_init(&e, OS_DMA_PERSISTENT, 4, 256, 4, 16);
    CU_ASSERT_EQUAL_FATAL(os_dma_map(&e.os, 0, 0x10000000, 64 * 1024, IOMMU_RW, &iova, &done), 0);
    memset(&x, 0, sizeof(x));
    x.iova = iova + 100;
    x.bytes = 10000;
    x.write = true;
    x.done = note_done;
    x.ctx = &ndone;
    dma_engine_submit(&e.eng, &x);
    CU_ASSERT_EQUAL(dma_engine_busy(&e.eng), 4);    /* the tag limit */
    while (sim_events_pending(&e.sim)) {
        sim_run_until(&e.sim, sim_now(&e.sim) + NS, 0);
        CU_ASSERT_TRUE(dma_engine_busy(&e.eng) <= 4);
    }
    /* Pages hold 3996, 4096 and 1908 bytes of it: ceil(/256) = 16 + 16 + 8. */
    CU_ASSERT_EQUAL(ndone, 1);
    CU_ASSERT_EQUAL(x.status, 0);
    CU_ASSERT_EQUAL(e.eng.st.requests[DMA_WRITE], 40);
    CU_ASSERT_EQUAL(e.eng.st.bytes[DMA_WRITE], 10000);
    CU_ASSERT_EQUAL(e.eng.st.requests[DMA_READ], 0);
    CU_ASSERT_EQUAL(e.eng.st.xlate_lat.count, 40);
    CU_ASSERT_EQUAL(e.mem.st.requests - e.mem.st.pt_reads, 40);
    CU_ASSERT_EQUAL(e.mem.st.bytes - e.mem.st.pt_reads * 8, 10000);
    CU_ASSERT_EQUAL(dma_engine_busy(&e.eng), 0);
    CU_ASSERT_EQUAL(e.g.tlb.st.lookups, 40);
    denv_destroy(&e);
}

void test_dev_engine_fault(void)
{
    struct denv e;
    struct dma_xfer x;
    int ndone = 0;

    denv_init(&e, OS_DMA_STRICT, 8, 128, 4, 16);
    memset(&x, 0, sizeof(x));
    x.iova = 0x7000000;             /* never mapped */
    x.bytes = 1024;
    x.done = note_done;
    x.ctx = &ndone;
    dma_engine_submit(&e.eng, &x);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(ndone, 1);
    CU_ASSERT_EQUAL(x.status, SIM_EFAULT);
    CU_ASSERT_EQUAL(e.eng.st.faults, 8);            /* 1024 / 128 requests */
    CU_ASSERT_EQUAL(e.eng.st.xfer_errors, 1);
    CU_ASSERT_EQUAL(e.eng.st.requests[DMA_READ], 0);
    CU_ASSERT_EQUAL(e.mem.st.requests, e.mem.st.pt_reads);   /* no data access */
    denv_destroy(&e);
}

static struct traffic_cfg stream_cfg(void)
{
    struct traffic_cfg tc;

    memset(&tc, 0, sizeof(tc));
    tc.size = 4096;
    tc.footprint = 1 << 20;
    tc.slots = 16;
    tc.buf_pa = UINT64_C(1) << 32;
    tc.write_ratio = 1.0;
    tc.seed = 1;
    tc.path = "sys.dev";
    return tc;
}

void test_dev_link_bound_throughput(void)
{
    struct denv e;
    struct traffic t;
    struct traffic_cfg tc = stream_cfg();
    char err[200];
    double bound;

    /* gen1 x1: 2 Gb/s; 256-byte payloads with 24 bytes of overhead carry at
     * most 2e9 * 256 / 280 bit/s of data, and with 64 tags in flight the
     * link, not latency, is the limit. */
    denv_init(&e, OS_DMA_PERSISTENT, 64, 256, 1, 1);
    CU_ASSERT_EQUAL_FATAL(traffic_create(&t, &traffic_sequential, &tc, &e.sim, &e.eng, &e.os,
                                         err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(traffic_start(&t, err, sizeof(err)), 0);
    sim_run_until(&e.sim, SIM_TICKS_PER_MS, 0);
    bound = 2e9 * 256.0 / 280.0;
    CU_ASSERT_TRUE(traffic_throughput_bps(&t) <= bound);
    CU_ASSERT_TRUE(traffic_throughput_bps(&t) >= 0.97 * bound);
    /* Reserve mode books work at arrival: at least busy, maybe ahead. */
    CU_ASSERT_TRUE(pcie_link_utilisation(&e.eng.link, PCIE_UP) >= 0.97);
    denv_destroy(&e);               /* the simulation first, then the models */
    traffic_destroy(&t);
}

void test_dev_open_loop_arrivals(void)
{
    struct denv e;
    struct traffic t;
    struct traffic_cfg tc = stream_cfg();
    char err[200];

    /* 1 GB/s of 4 KiB reads: one every 4.096 us, so floor(1000 / 4.096) + 1
     * = 245 arrivals in [0, 1 ms]; a gen4 x16 link carries them easily. */
    denv_init(&e, OS_DMA_PERSISTENT, 64, 256, 4, 16);
    tc.issue = TRAFFIC_OPEN;
    tc.rate = 1000000000;
    tc.write_ratio = 0.0;
    CU_ASSERT_EQUAL_FATAL(traffic_create(&t, &traffic_uniform, &tc, &e.sim, &e.eng, &e.os,
                                         err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(traffic_start(&t, err, sizeof(err)), 0);
    sim_run_until(&e.sim, SIM_TICKS_PER_MS, 0);
    CU_ASSERT_EQUAL(t.st.offered, 245);
    CU_ASSERT_EQUAL(t.st.dropped, 0);
    CU_ASSERT_TRUE(t.st.completed >= 244);          /* the last may be in flight */
    CU_ASSERT_EQUAL(e.eng.st.bytes[DMA_WRITE], 0);
    CU_ASSERT_EQUAL(e.eng.st.requests[DMA_READ], t.st.completed * 16);
    denv_destroy(&e);
    traffic_destroy(&t);
}

void test_dev_pattern_offsets(void)
{
    struct traffic t;
    struct traffic_cfg tc = stream_cfg();
    char err[200];
    static unsigned hits[100];
    unsigned seen = 0;
    double h = 0;

    /* sequential: 0, s, 2s, then wrap (footprint 3 sizes). */
    tc.footprint = 3 * 4096;
    CU_ASSERT_EQUAL_FATAL(traffic_create(&t, &traffic_sequential, &tc, NULL, NULL, NULL,
                                         err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(t.ops->next_offset(&t), 0);
    CU_ASSERT_EQUAL(t.ops->next_offset(&t), 4096);
    CU_ASSERT_EQUAL(t.ops->next_offset(&t), 8192);
    CU_ASSERT_EQUAL(t.ops->next_offset(&t), 0);
    traffic_destroy(&t);
    /* strided: stride 3 pages over 8 pages visits every page once. */
    tc.footprint = 8 * 4096;
    tc.stride = 3 * 4096;
    CU_ASSERT_EQUAL_FATAL(traffic_create(&t, &traffic_strided, &tc, NULL, NULL, NULL,
                                         err, sizeof(err)), 0);
    for (unsigned k = 0; k < 8; k++) {
        uint64_t off = t.ops->next_offset(&t);

        CU_ASSERT_EQUAL(off, (k * 3 % 8) * 4096);
        seen |= 1u << (off / 4096);
    }
    CU_ASSERT_EQUAL(seen, 0xff);
    traffic_destroy(&t);
    /* zipf, s = 1 over 100 blocks: the hottest block has probability
     * 1 / H(100) = 1 / 5.18738; 200000 draws, 5 sigma is about 0.0044. */
    tc.footprint = 100 * 4096;
    tc.zipf_s = 1.0;
    CU_ASSERT_EQUAL_FATAL(traffic_create(&t, &traffic_zipf, &tc, NULL, NULL, NULL,
                                         err, sizeof(err)), 0);
    for (unsigned i = 0; i < 200000; i++) {
        uint64_t off = t.ops->next_offset(&t);

        CU_ASSERT_EQUAL_FATAL(off % 4096, 0);
        CU_ASSERT_FATAL(off < tc.footprint);
        hits[off / 4096]++;
    }
    for (unsigned k = 1; k <= 100; k++)
        h += 1.0 / k;
    {
        unsigned top = 0;

        for (unsigned b = 0; b < 100; b++)
            if (hits[b] > top)
                top = hits[b];
        ASSERT_NEAR(top / 200000.0, 1.0 / h, 0.0045);
    }
    traffic_destroy(&t);
    /* Bad settings are reported, not crashed on. */
    tc.footprint = 100;
    CU_ASSERT_EQUAL(traffic_create(&t, &traffic_uniform, &tc, NULL, NULL, NULL,
                                   err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "sys.dev: invalid argument (size, slots >= 1"));
}

/*
 * ATS (spec B11): a device TLB that hears the UNMAP never uses the stale
 * entry. A second transfer to the same page hits in the device TLB and
 * never reaches the IOMMU; after a strict unmap (which waits for the
 * invalidation round trip) the same IOVA faults instead of reaching the old
 * buffer.
 */
void test_dev_ats_device_tlb(void)
{
    struct denv e;
    struct dma_xfer x;
    struct dma_engine_cfg ec = { .tags = 8, .max_payload = 256, .requester_id = 3,
                                 .ats_entries = 16, .ats_hit_latency = 2 * NS,
                                 .ats_inval_latency = 500 * NS };
    struct pcie_link_cfg lc = { .gen = 4, .lanes = 16, .tlp_overhead = 24, .latency = 100 * NS };
    uint64_t iova;
    sim_tick_t done, t0;
    char err[200];
    int ndone = 0;

    denv_init(&e, OS_DMA_STRICT, 8, 256, 4, 16);
    dma_engine_destroy(&e.eng);
    CU_ASSERT_EQUAL_FATAL(dma_engine_init(&e.eng, &e.sim, &ec, &lc, e.mmu, &e.mem, "dev",
                                          err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(os_dma_map(&e.os, 0, 0x20000000, 4096, IOMMU_RW, &iova, &done), 0);
    memset(&x, 0, sizeof(x));
    x.iova = iova;
    x.bytes = 256;
    x.write = true;
    x.done = note_done;
    x.ctx = &ndone;
    sim_run_until(&e.sim, done, 0);
    dma_engine_submit(&e.eng, &x);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(e.eng.st.ats_misses, 1);
    CU_ASSERT_EQUAL(e.mmu->st.timed, 1);
    dma_engine_submit(&e.eng, &x);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(x.status, 0);
    CU_ASSERT_EQUAL(e.eng.st.ats_hits, 1);
    CU_ASSERT_EQUAL(e.mmu->st.timed, 1);            /* the IOMMU never saw it */
    /* Strict unmap: the wait covers the device's invalidation round trip. */
    t0 = sim_now(&e.sim);
    CU_ASSERT_EQUAL(os_dma_unmap(&e.os, 0, iova, 4096, &done), 0);
    CU_ASSERT_EQUAL(e.eng.atc.st.invalidations, 1);
    CU_ASSERT_TRUE(done >= t0 + 500 * NS);
    dma_engine_submit(&e.eng, &x);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(x.status, SIM_EFAULT);          /* not the stale entry */
    CU_ASSERT_EQUAL(e.eng.st.ats_hits, 1);
    CU_ASSERT_EQUAL(e.eng.st.ats_misses, 2);
    CU_ASSERT_EQUAL(ndone, 3);
    /* Data reached memory twice (the faulting transfer made no access). */
    CU_ASSERT_EQUAL(e.mem.st.requests - e.mem.st.pt_reads, 2);
    denv_destroy(&e);
}

/*
 * Posted writes (dma_engine.h): no completion event each, yet the tag frees,
 * the transfer completes and the write is counted exactly at its memory
 * completion tick. The expected ticks come from the model's recurrence
 * written out here: a TLP issued at s goes through the FIFO link (service
 * = (256 + 24) bytes at 16 lanes of gen 4, rounded to the picosecond, then
 * 100 ns of latency) and, without an IOMMU, straight to memory (one
 * channel, unlimited bandwidth: 80 ns); with T tags, TLP i >= T issues when
 * TLP i - T completes.
 */
static sim_tick_t posted_expect(unsigned tags, unsigned n, sim_tick_t *d)
{
    sim_tick_t lat_max = 0;

    double ps_per_byte = 8.0 * (double)SIM_TICKS_PER_S / (pcie_lane_rate(4) * 16);
    sim_tick_t svc = (sim_tick_t)llround(280.0 * ps_per_byte), link_free = 0;

    for (unsigned i = 0; i < n; i++) {
        sim_tick_t s = i < tags ? 0 : d[i - tags];
        sim_tick_t start = s > link_free ? s : link_free;

        link_free = start + svc;
        d[i] = link_free + 100 * NS + 80 * NS;
        if (d[i] - s > lat_max)
            lat_max = d[i] - s;
    }
    return lat_max;     /* the largest issue-to-completion latency */
}

/* A device with @tags tags and no IOMMU; submit a 2 KiB write to it. */
static void posted_submit(struct denv *e, unsigned tags, struct dma_xfer *x, int *ndone)
{
    denv_init(e, OS_DMA_PASSTHROUGH, tags, 256, 4, 16);
    memset(x, 0, sizeof(*x));
    x->iova = 0x10000000;
    x->bytes = 2048;
    x->write = true;
    x->done = note_done;
    x->ctx = ndone;
    dma_engine_submit(&e->eng, x);
}

void test_dev_posted_writes_tags_and_counts(void)
{
    struct denv e;
    struct dma_xfer x;
    sim_tick_t d[8], lat_max;
    int ndone = 0;

    /* Two tags for eight 256-byte writes: six wait for a write to finish. */
    lat_max = posted_expect(2, 8, d);
    posted_submit(&e, 2, &x, &ndone);
    /* Counted when done, not when booked: one tick before d[3], three. */
    sim_run_until(&e.sim, d[3] - 1, 0);
    dma_engine_sync(&e.eng);
    CU_ASSERT_EQUAL(e.eng.st.requests[DMA_WRITE], 3);
    CU_ASSERT_EQUAL(dma_engine_busy(&e.eng), 2);
    sim_run_until(&e.sim, d[3], 0);
    dma_engine_sync(&e.eng);
    CU_ASSERT_EQUAL(e.eng.st.requests[DMA_WRITE], 4);
    CU_ASSERT_EQUAL(e.eng.st.bytes[DMA_WRITE], 4 * 256);
    CU_ASSERT_EQUAL(ndone, 0);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(ndone, 1);
    CU_ASSERT_EQUAL(x.completed, d[7]);     /* the last write's tick */
    CU_ASSERT_EQUAL(e.eng.st.requests[DMA_WRITE], 8);
    CU_ASSERT_EQUAL(e.eng.st.req_lat.max, lat_max);
    CU_ASSERT_EQUAL(e.eng.st.req_lat.count, 8);
    CU_ASSERT_EQUAL(dma_engine_busy(&e.eng), 0);
    denv_destroy(&e);

    /* Enough tags: all eight issue at once; one event per write (its
     * arrival at the root complex) and one for the transfer's end. */
    (void)posted_expect(64, 8, d);
    ndone = 0;
    posted_submit(&e, 64, &x, &ndone);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(ndone, 1);
    CU_ASSERT_EQUAL(x.completed, d[7]);
    CU_ASSERT_EQUAL(sim_events_processed(&e.sim), 8 + 1);
    CU_ASSERT_EQUAL(e.eng.st.requests[DMA_WRITE], 8);
    denv_destroy(&e);
}
