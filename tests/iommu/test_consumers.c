/*
 * test_consumers.c - the notifier users (src/iommu/consumers/).
 *
 * A guest GenericIOMMU with map_events (the virtual IOMMU in caching mode)
 * and a host GenericIOMMU; the guest's driver maps and unmaps through the
 * domain ops. Expected values come from an independent reference model of
 * the guest's mappings kept by the test (an array of pages) and from
 * timings derived by hand in the comments.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "dev/dma_engine.h"
#include "engine/rng.h"
#include "iommu/consumers/consumer.h"
#include "iommu/consumers/cpu_tlb.h"
#include "iommu/consumers/vfio_shadow.h"
#include "iommu/consumers/vhost_iotlb.h"
#include "iommu/models/generic.h"
#include "iommu/models/generic_domain.h"
#include "testutil.h"
#include "vstack_fixture.h"

void test_consumers_table(void);
void test_vfio_shadow_composition_random(void);
void test_vfio_shadow_event_counts_and_replay(void);
void test_vfio_shadow_lock_serialisation(void);
void test_vfio_shadow_refused_without_map_events(void);
void test_vhost_iotlb_hit_rate_and_stale(void);
void test_cpu_tlb_flush_per_event(void);
void test_vhost_iotlb_engine_path(void);

#define NS SIM_TICKS_PER_NS
#define US SIM_TICKS_PER_US
#define PG 4096u
#define RID 3
#define GDOM 1                      /* the guest's domain on the virtual IOMMU */
#define HDOM 0                      /* the container's domain on the host IOMMU */
#define OFF VSTACK_OFF               /* guest RAM base in host memory */

struct cenv {
    struct sim sim;
    struct mem mem;
    struct generic_iommu guest, host;
    struct generic_domains gdoms, hdoms;
    struct iommu_domain *gd, *hd;   /* driver views */
    struct iommu *gas, *has;        /* the device's address spaces */
};

static void mk_iommu(struct cenv *e, struct generic_iommu *g, bool map_events, const char *path)
{
    struct generic_cfg c;
    char err[200];

    memset(&c, 0, sizeof(c));
    c.levels = 4;
    c.pgsize_bitmap = 0x40201000;
    c.iotlb.policy = IOTLB_LRU;
    c.iotlb.arr[0] = (struct iotlb_array_cfg){ 64, 4 };
    c.iotlb.mshrs = 4;
    c.walk.walkers = 2;
    c.hit_latency = 2 * NS;
    c.lookup_ports = 1;
    c.lookup_cycle = 1 * NS;
    c.max_domains = 4;
    c.max_devices = 8;
    c.map_events = map_events;
    c.path = path;
    CU_ASSERT_EQUAL_FATAL(generic_create(g, &e->sim, &e->mem, &c, err, sizeof(err)), 0);
}

static void cenv_init(struct cenv *e, bool map_events)
{
    char err[200];

    memset(e, 0, sizeof(*e));
    sim_init(&e->sim);
    vstack_mem_init(&e->mem, &e->sim, 2, UINT64_C(25600000000));
    mk_iommu(e, &e->guest, map_events, "sys.viommu");
    mk_iommu(e, &e->host, false, "sys.host");
    CU_ASSERT_EQUAL_FATAL(generic_domains_init(&e->gdoms, &e->guest), 0);
    CU_ASSERT_EQUAL_FATAL(generic_domains_init(&e->hdoms, &e->host), 0);
    CU_ASSERT_EQUAL_FATAL(generic_domains_get(&e->gdoms, GDOM, &e->gd, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(generic_domains_get(&e->hdoms, HDOM, &e->hd, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&e->guest, RID, GDOM, &e->gas, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&e->host, RID, HDOM, &e->has, err, sizeof(err)), 0);
}

static void cenv_free(struct cenv *e)
{
    generic_domains_destroy(&e->gdoms);
    generic_domains_destroy(&e->hdoms);
    generic_destroy(&e->guest);
    generic_destroy(&e->host);
    mem_destroy(&e->mem);
    sim_destroy(&e->sim);
}

static void shadow_init(struct cenv *e, struct vfio_shadow *v, sim_tick_t map_cost,
                        sim_tick_t pin_cost)
{
    vstack_shadow_init(v, &e->sim, e->hd, map_cost, pin_cost);
}

/* --- The table -------------------------------------------------------------- */

void test_consumers_table(void)
{
    const char *want[] = { "vfio_shadow", "vhost_iotlb", "cpu_tlb", "ats_tlb" };
    unsigned n = 0;

    for (unsigned i = 0; iommu_consumer_table[i]; i++, n++) {
        const struct iommu_consumer_ops *o = iommu_consumer_table[i];

        CU_ASSERT_PTR_NOT_NULL(o->name);
        CU_ASSERT_PTR_NOT_NULL(o->doc);
        CU_ASSERT_PTR_NOT_NULL(o->attach);
        CU_ASSERT_PTR_NOT_NULL(o->detach);
        CU_ASSERT(o->nreadouts == 0 || o->read);
        CU_ASSERT_PTR_EQUAL(iommu_consumer_find(o->name), o);
        for (unsigned j = 0; j < o->nreadouts; j++)
            CU_ASSERT(o->readouts[j].name && o->readouts[j].unit && o->readouts[j].doc);
    }
    CU_ASSERT_EQUAL(n, 4);
    for (unsigned i = 0; i < 4; i++)
        CU_ASSERT_PTR_NOT_NULL(iommu_consumer_find(want[i]));
    CU_ASSERT_PTR_NULL(iommu_consumer_find("nope"));
}

/* --- vfio_shadow: the host table is the composition --------------------------- */

#define NPAGES 1024                  /* guest IOVA window [0, 4 MiB) */

/* The reference model and the DMA probes: vstack_fixture.c. */
void test_vfio_shadow_composition_random(void)
{
    struct cenv e;
    struct vfio_shadow v;
    struct vstack_random run;
    char err[200];

    cenv_init(&e, true);
    shadow_init(&e, &v, 1 * US, 100 * NS);
    CU_ASSERT_EQUAL_FATAL(iommu_consumer_attach(&v.c, e.gas, err, sizeof(err)), 0);
    /* The reference changes after each unmap call. */
    run = (struct vstack_random){ .sim = &e.sim, .gd = e.gd, .hd = e.hd, .has = e.has,
                                  .rid = RID, .npages = NPAGES, .steps = 3000, .seed = 42,
                                  .rng_path = "test.consumers.random" };
    vstack_random_run(&run);
    /* No stale DMA, > 2500 DMAs, > 300 maps and unmaps, pinned = mapped. */
    vstack_random_expect_shadow(&run, &v);
    iommu_consumer_detach(&v.c);
    vfio_shadow_destroy(&v);
    cenv_free(&e);
}

/* --- vfio_shadow: counts, replay, B10 ---------------------------------------- */

void test_vfio_shadow_event_counts_and_replay(void)
{
    struct cenv e;
    struct vfio_shadow v;
    char err[200];
    sim_tick_t d;
    const unsigned N = 50, M = 7;

    cenv_init(&e, true);
    shadow_init(&e, &v, 1 * US, 100 * NS);
    /* M single pages mapped before the device is assigned: the replay on
     * attach must deliver exactly those M. */
    for (unsigned i = 0; i < M; i++)
        CU_ASSERT_EQUAL(iommu_domain_map(e.gd, UINT64_C(0x100000) + i * PG,
                                         UINT64_C(0x5000000) + i * PG, PG, IOMMU_RW, 0, &d), 0);
    CU_ASSERT_EQUAL_FATAL(iommu_consumer_attach(&v.c, e.gas, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(v.st.maps, M);
    CU_ASSERT_EQUAL(v.st.replays, 1);
    for (unsigned i = 0; i < M; i++) {
        struct iommu_tlb_entry h = iommu_domain_lookup(e.hd, UINT64_C(0x100000) + i * PG);

        CU_ASSERT_EQUAL(h.translated_addr, UINT64_C(0x5000000) + i * PG + OFF);
    }
    iommu_consumer_reset_stats(&v.c);

    /* N packets: map then unmap one page each: exactly N MAP and N UNMAP. */
    for (unsigned i = 0; i < N; i++) {
        sim_tick_t now = sim_now(&e.sim);

        CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x40000000, 0x9000000 + i * PG, PG, IOMMU_WO,
                                         now, &d), 0);
        sim_run_until(&e.sim, d, 0);
        CU_ASSERT_EQUAL(iommu_domain_unmap(e.gd, 0x40000000, PG, 0, sim_now(&e.sim), &d), 0);
        sim_run_until(&e.sim, d, 0);
    }
    CU_ASSERT_EQUAL(v.st.maps, N);
    CU_ASSERT_EQUAL(v.st.unmaps, N);
    CU_ASSERT_EQUAL(v.st.host_maps, N);
    CU_ASSERT_EQUAL(v.st.host_unmaps, N);
    CU_ASSERT_EQUAL(v.st.pages_pinned, N);
    CU_ASSERT_EQUAL(v.st.pages_unpinned, N);
    CU_ASSERT_EQUAL(v.n.delivered, M + 2 * N);
    CU_ASSERT_EQUAL(v.pinned, M);

    /* B10: a reset's whole-range UNMAP empties the host domain and unpins
     * the M pages, costing unmap_cost + M x unpin_cost (the generic host's
     * unmaps complete at once). */
    {
        sim_tick_t now = sim_now(&e.sim);
        sim_tick_t end = iommu_unmap_notifier_range(&v.n);

        CU_ASSERT_EQUAL(v.pinned, 0);
        CU_ASSERT_EQUAL(v.st.host_unmaps, N + M);
        CU_ASSERT_EQUAL(end, now + 500 * NS + M * 50 * NS);
        for (unsigned i = 0; i < M; i++)
            CU_ASSERT_EQUAL(iommu_domain_lookup(e.hd, UINT64_C(0x100000) + i * PG).perm,
                            IOMMU_NONE);
    }
    iommu_consumer_detach(&v.c);
    CU_ASSERT_PTR_NULL(v.c.mmu);
    CU_ASSERT_EQUAL(e.gas->notify_flags, 0);
    vfio_shadow_destroy(&v);
    cenv_free(&e);
}

/*
 * Container lock. map_cost 1 us, pin_cost 100 ns; three guest maps issued
 * at tick 0 (the host's generic domain maps complete at once):
 *   A: one 4 KiB page            -> one MAP of 1 page:     1.1 us
 *   B: one 2 MiB page (aligned)  -> one MAP of 512 pages:  1 + 51.2 = 52.2 us
 *   C: three 4 KiB pages         -> three MAPs of 1 page:  1.1 us each
 * served in that order on one server:
 *   A ends 1.1 us; B ends 53.3 us; C's events end 54.4, 55.5, 56.6 us,
 *   so the guest's map calls return 1.1, 53.3 and 56.6 us;
 *   waits: A 0, B 1.1, C 53.3 + 54.4 + 55.5 => total 164.3 us, max 55.5 us.
 * Then an unmap of B at 60 us (lock free): 500 ns + 512 x 50 ns = 26.1 us.
 */
void test_vfio_shadow_lock_serialisation(void)
{
    struct cenv e;
    struct vfio_shadow v;
    char err[200];
    sim_tick_t da, db, dc, du;

    cenv_init(&e, true);
    shadow_init(&e, &v, 1 * US, 100 * NS);
    CU_ASSERT_EQUAL_FATAL(iommu_consumer_attach(&v.c, e.gas, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x1000, 0x7000000, PG, IOMMU_RW, 0, &da), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x200000, 0x8000000, 0x200000, IOMMU_RW, 0, &db), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x10000, 0x9000000, 3 * PG, IOMMU_RW, 0, &dc), 0);
    CU_ASSERT_EQUAL(da, 1100 * NS);
    CU_ASSERT_EQUAL(db, 53300 * NS);
    CU_ASSERT_EQUAL(dc, 56600 * NS);
    CU_ASSERT_EQUAL(v.st.maps, 5);
    CU_ASSERT_EQUAL(v.st.pages_pinned, 1 + 512 + 3);
    ASSERT_NEAR(v.lock.st.wait_sum, 164300.0 * NS, 0.5);
    CU_ASSERT_EQUAL(v.lock.st.wait_max, 55500 * NS);
    CU_ASSERT_EQUAL(v.st.map_ticks, (1100 + 52200 + 3 * 1100) * NS);
    /* The host holds B as one 2 MiB page (1 GiB offset keeps it aligned). */
    CU_ASSERT_EQUAL(iommu_domain_lookup(e.hd, 0x200000).addr_mask, 0x1fffff);
    sim_run_until(&e.sim, 60 * US, 0);
    CU_ASSERT_EQUAL(iommu_domain_unmap(e.gd, 0x200000, 0x200000, 0, 60 * US, &du), 0);
    CU_ASSERT_EQUAL(du, 60 * US + 26100 * NS);
    CU_ASSERT_EQUAL(v.st.pages_unpinned, 512);
    iommu_consumer_detach(&v.c);
    vfio_shadow_destroy(&v);
    cenv_free(&e);
}

/* Without caching mode (map_events) the MAP notifier is refused (B5):
 * nothing stays registered and the consumer stays detached. */
void test_vfio_shadow_refused_without_map_events(void)
{
    struct cenv e;
    struct vfio_shadow v;
    char err[200] = "";

    cenv_init(&e, false);
    shadow_init(&e, &v, 1 * US, 100 * NS);
    CU_ASSERT_EQUAL(iommu_consumer_attach(&v.c, e.gas, err, sizeof(err)), SIM_EREFUSED);
    CU_ASSERT(strstr(err, "map_events") != NULL);
    CU_ASSERT_PTR_NULL(v.c.mmu);
    CU_ASSERT_PTR_NULL(e.gas->lists[0]);
    CU_ASSERT_EQUAL(e.gas->notify_flags, 0);
    CU_ASSERT_EQUAL(v.st.maps, 0);
    vfio_shadow_destroy(&v);
    cenv_free(&e);
}

/*
 * vhost device IOTLB: C = 64 entries (fully associative, fifo) over a
 * uniform footprint of N = 256 mapped pages. With independent uniform
 * references any replacement policy that keeps C distinct pages hits with
 * probability C/N = 0.25. Every 500 lookups the guest remaps one page to a
 * new GPA (an UNMAP event and a MAP), which drops at most one entry: the
 * rate stays within 1% of C/N, and a missing invalidation would show as a
 * stale use (a hit answering the old GPA) and as a wrong translation
 * against the test's own reference.
 */
void test_vhost_iotlb_hit_rate_and_stale(void)
{
    enum { C = 64, N = 256, LOOKUPS = 200000, WARM = 20000 };
    static uint64_t gpa[N];
    struct cenv e;
    struct vhost_iotlb v;
    struct vhost_iotlb_cfg vc = { .entries = C, .policy = IOTLB_FIFO,
                                  .hit_latency = 50 * NS, .miss_latency = 10 * US,
                                  .inval_latency = 5 * US, .path = "sys.vhost" };
    struct sim_rng rng;
    char err[200];
    sim_tick_t d;
    unsigned wrong = 0, remaps = 0;
    const uint64_t base = 0x80000000;

    cenv_init(&e, false);
    CU_ASSERT_EQUAL_FATAL(vhost_iotlb_init(&v, &e.sim, &vc, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(iommu_consumer_attach(&v.c, e.gas, err, sizeof(err)), 0);
    for (unsigned i = 0; i < N; i++) {
        gpa[i] = UINT64_C(0x10000000) + (uint64_t)i * PG;
        CU_ASSERT_EQUAL(iommu_domain_map(e.gd, base + (uint64_t)i * PG, gpa[i], PG, IOMMU_RW,
                                         0, &d), 0);
    }
    sim_rng_seed(&rng, 7, "test.consumers.vhost");
    for (unsigned k = 0; k < LOOKUPS + WARM; k++) {
        unsigned p = (unsigned)sim_rng_below(&rng, N);
        struct iommu_tlb_entry out;
        sim_tick_t t;

        if (k == WARM)
            iommu_consumer_reset_stats(&v.c);
        if (k % 500 == 499) {               /* remap one page elsewhere */
            unsigned q = (unsigned)sim_rng_below(&rng, N);

            CU_ASSERT_EQUAL(iommu_domain_unmap(e.gd, base + (uint64_t)q * PG, PG, 0, 0, &d), 0);
            gpa[q] += UINT64_C(0x1000000);
            CU_ASSERT_EQUAL(iommu_domain_map(e.gd, base + (uint64_t)q * PG, gpa[q], PG,
                                             IOMMU_RW, 0, &d), 0);
            remaps++;
        }
        t = vhost_iotlb_translate(&v, base + (uint64_t)p * PG + 8, IOMMU_RO, &out);
        wrong += out.perm == IOMMU_NONE || out.translated_addr != gpa[p];
        CU_ASSERT(t == sim_now(&e.sim) + 50 * NS || t == sim_now(&e.sim) + 10 * US);
    }
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(v.st.stale_uses, 0);
    CU_ASSERT_EQUAL(v.st.lookups, LOOKUPS);
    CU_ASSERT_EQUAL(v.st.hits + v.st.misses, LOOKUPS);
    CU_ASSERT_EQUAL(v.st.faults, 0);
    ASSERT_NEAR((double)v.st.hits / LOOKUPS, (double)C / N, 0.01);
    /* One UNMAP event per remap after the warm-up (remaps at k = 499 + 500 j). */
    CU_ASSERT_EQUAL(v.st.invalidations, (LOOKUPS + WARM) / 500 - WARM / 500);
    iommu_consumer_detach(&v.c);
    vhost_iotlb_destroy(&v);
    cenv_free(&e);
}

/*
 * cpu_tlb: one UNMAP notifier per index; every event flushes the whole
 * TLB. 10 single pages and one 3-page mapping, each unmapped: 13 leaves,
 * so 13 UNMAP events and 13 flushes (MAP events are not asked for and do
 * not flush). After a flush, an access that hit before misses once.
 */
void test_cpu_tlb_flush_per_event(void)
{
    struct cenv e;
    struct cpu_tlb t;
    struct cpu_tlb_cfg tc = { .entries = 256, .hit_latency = 1 * NS, .fill_latency = 200 * NS,
                              .flush_latency = 1 * US, .path = "sys.cpu_tlb" };
    struct iommu_tlb_entry out;
    char err[200];
    sim_tick_t d;

    cenv_init(&e, true);
    CU_ASSERT_EQUAL_FATAL(cpu_tlb_init(&t, &e.sim, &tc, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(iommu_consumer_attach(&t.c, e.gas, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(t.nn, iommu_num_indexes(e.gas));
    CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x900000, 0x3000000, PG, IOMMU_RW, 0, &d), 0);
    CU_ASSERT_EQUAL(cpu_tlb_translate(&t, 0x900010, IOMMU_RO, 0, &out), 200 * NS);
    CU_ASSERT_EQUAL(out.translated_addr, 0x3000000);
    CU_ASSERT_EQUAL(cpu_tlb_translate(&t, 0x900020, IOMMU_RO, 0, &out), 1 * NS);
    for (unsigned i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(iommu_domain_map(e.gd, i * PG, 0x1000000 + i * PG, PG, IOMMU_RW, 0,
                                         &d), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x100000, 0x2000000, 3 * PG, IOMMU_RW, 0, &d), 0);
    CU_ASSERT_EQUAL(t.st.flushes, 0);
    for (unsigned i = 0; i < 10; i++) {
        CU_ASSERT_EQUAL(iommu_domain_unmap(e.gd, i * PG, PG, 0, 0, &d), 0);
        CU_ASSERT_EQUAL(d, 1 * US);     /* one flush of 1 us, no lock */
    }
    CU_ASSERT_EQUAL(iommu_domain_unmap(e.gd, 0x100000, 3 * PG, 0, 0, &d), 0);
    CU_ASSERT_EQUAL(t.st.events, 13);
    CU_ASSERT_EQUAL(t.st.flushes, 13);
    /* The first flush dropped the one cached entry; the rest found none. */
    CU_ASSERT_EQUAL(t.st.flushed_entries, 1);
    CU_ASSERT_EQUAL(cpu_tlb_translate(&t, 0x900010, IOMMU_RO, 0, &out), 200 * NS);
    CU_ASSERT_EQUAL(t.st.hits, 1);
    CU_ASSERT_EQUAL(t.st.misses, 2);
    iommu_consumer_detach(&t.c);
    CU_ASSERT_EQUAL(e.gas->notify_flags, 0);
    cpu_tlb_destroy(&t);
    cenv_free(&e);
}

/*
 * The backend's data path: a DMA engine whose translator is the vhost
 * IOTLB (DmaDevice's devtlb). One 64-byte write to a mapped page misses
 * (miss_latency 10 us of translation), the next one hits (hit_latency
 * 50 ns); after the guest unmaps the page the invalidation has dropped the
 * entry, so the third misses again and the vIOMMU's answer is a fault.
 */
static sim_tick_t vhost_xlate(void *ctx, uint64_t iova, unsigned access,
                              struct iommu_tlb_entry *out)
{
    return vhost_iotlb_translate(ctx, iova, access, out);
}

static void xfer_count(struct dma_xfer *x)
{
    (*(int *)x->ctx)++;
}

void test_vhost_iotlb_engine_path(void)
{
    struct cenv e;
    struct vhost_iotlb v;
    struct vhost_iotlb_cfg vc = { .entries = 16, .policy = IOTLB_FIFO, .hit_latency = 50 * NS,
                                  .miss_latency = 10 * US, .inval_latency = 5 * US,
                                  .path = "sys.vhost" };
    struct dma_engine eng;
    struct dma_engine_cfg ec = { .tags = 4, .max_payload = 256, .requester_id = RID };
    struct pcie_link_cfg lc = { .gen = 4, .lanes = 16, .tlp_overhead = 24, .latency = 100 * NS };
    struct dma_xfer x[3];
    char err[200];
    sim_tick_t d;
    int ndone = 0;

    cenv_init(&e, false);
    CU_ASSERT_EQUAL_FATAL(vhost_iotlb_init(&v, &e.sim, &vc, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(iommu_consumer_attach(&v.c, e.gas, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(dma_engine_init(&eng, &e.sim, &ec, &lc, e.gas, &e.mem, "sys.dev",
                                          err, sizeof(err)), 0);
    dma_engine_set_translator(&eng, vhost_xlate, &v);
    CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x40000000, 0x5000000, PG, IOMMU_RW, 0, &d), 0);
    memset(x, 0, sizeof(x));
    for (int i = 0; i < 3; i++) {
        x[i] = (struct dma_xfer){ .iova = 0x40000000 + 64 * (uint64_t)i, .bytes = 64,
                                  .write = true, .done = xfer_count, .ctx = &ndone };
        if (i == 2) {
            CU_ASSERT_EQUAL(iommu_domain_unmap(e.gd, 0x40000000, PG, 0, sim_now(&e.sim), &d),
                            0);
            CU_ASSERT_EQUAL(v.st.invalidations, 1);
            /* The unmap waits for the backend's invalidation: 5 us. */
            CU_ASSERT_EQUAL(d, sim_now(&e.sim) + 5 * US);
        }
        dma_engine_submit(&eng, &x[i]);
        sim_run(&e.sim);
        CU_ASSERT_EQUAL(ndone, i + 1);
    }
    CU_ASSERT_EQUAL(x[0].status, 0);
    CU_ASSERT_EQUAL(x[1].status, 0);
    CU_ASSERT_EQUAL(x[2].status, SIM_EFAULT);
    CU_ASSERT_EQUAL(eng.st.faults, 1);
    CU_ASSERT_EQUAL(v.st.misses, 2);
    CU_ASSERT_EQUAL(v.st.hits, 1);
    CU_ASSERT_EQUAL(v.st.faults, 1);
    CU_ASSERT_EQUAL(v.st.stale_uses, 0);
    ASSERT_NEAR(eng.st.xlate_ticks, (double)(2 * 10 * US + 50 * NS), 0.5);
    /* The engine never asked the vIOMMU's timed path. */
    CU_ASSERT_EQUAL(e.gas->st.timed, 0);
    sim_destroy(&e.sim);
    dma_engine_destroy(&eng);
    iommu_consumer_detach(&v.c);
    vhost_iotlb_destroy(&v);
    sim_init(&e.sim);
    cenv_free(&e);
}
