/*
 * test_generic.c - the generic model: functional and timed paths agree on
 * random mappings, hit/miss timing by hand, B11 through the real IOTLB, the
 * MAP refusal without map_events (B5), table-walking replay, and the model
 * table.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "iommu/models/generic.h"
#include "iommu/models/models.h"

void test_generic_timed_matches_functional(void);
void test_generic_hit_and_miss_timing(void);
void test_generic_unmap_invalidates_and_notifies(void);
void test_generic_map_events_and_replay(void);
void test_generic_model_table(void);
void test_generic_caching_mode_costs(void);

#define NS SIM_TICKS_PER_NS

struct genv {
    struct sim sim;
    struct mem mem;
    struct generic_iommu g;
};

static void genv_init(struct genv *e, bool map_events, unsigned mshrs)
{
    struct mem_cfg mc;
    struct generic_cfg c;
    char err[200];

    sim_init(&e->sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = 2;
    mc.interleave = 64;
    mc.bandwidth = UINT64_C(25600000000);
    CU_ASSERT_EQUAL_FATAL(mem_init(&e->mem, &e->sim, &mc, err, sizeof(err)), 0);
    memset(&c, 0, sizeof(c));
    c.levels = 4;
    c.pgsize_bitmap = 0x40201000;
    c.iotlb.policy = IOTLB_LRU;
    c.iotlb.arr[0] = (struct iotlb_array_cfg){ 64, 4 };
    c.iotlb.mshrs = mshrs;
    c.walk.walkers = 2;
    c.walk.pwc_entries[1] = c.walk.pwc_entries[2] = c.walk.pwc_entries[3] = 16;
    c.hit_latency = 2 * NS;
    c.lookup_ports = 1;
    c.lookup_cycle = 1 * NS;
    c.max_domains = 4;
    c.max_devices = 8;
    c.map_events = map_events;
    c.path = "sys.iommu";
    CU_ASSERT_EQUAL_FATAL(generic_create(&e->g, &e->sim, &e->mem, &c, err, sizeof(err)), 0);
}

static void genv_free(struct genv *e)
{
    generic_destroy(&e->g);
    mem_destroy(&e->mem);
    sim_destroy(&e->sim);
}

/* --- Timed vs functional on random mappings ------------------------------- */

struct treq {
    struct iommu_req r;
    struct iommu_tlb_entry want;
    struct iommu *mmu;
};

static unsigned n_checked, n_bad;

static void treq_done(struct iommu_req *req)
{
    struct treq *t = (struct treq *)req;
    int want_fault = t->want.perm == IOMMU_NONE;

    n_checked++;
    if (want_fault != (req->status == SIM_EFAULT) ||
        (!want_fault && (req->entry.translated_addr != t->want.translated_addr ||
                         req->entry.addr_mask != t->want.addr_mask)))
        n_bad++;
}

struct issuer {
    struct sim_event ev;
    struct genv *e;
    struct sim_rng rng;
    struct treq *reqs;
    unsigned i, n;
    struct iommu *mmu[2];
    uint64_t hot[64];
};

static void issue_next(struct sim_event *ev, void *arg)
{
    struct issuer *s = arg;
    struct treq *t;
    uint64_t iova;
    unsigned k;

    (void)ev;
    if (s->i >= s->n)
        return;
    /* Bursts of several requests at one tick, to several devices; half of
     * them to a small hot set so that hits, merges and misses all occur. */
    for (k = 0; k < 4 && s->i < s->n; k++) {
        t = &s->reqs[s->i++];
        memset(t, 0, sizeof(*t));
        iova = sim_rng_below(&s->rng, 2) ? s->hot[sim_rng_below(&s->rng, 64)]
                                          : sim_rng_below(&s->rng, UINT64_C(1) << 32);
        t->mmu = s->mmu[sim_rng_below(&s->rng, 2)];
        t->r.iova = iova;
        t->r.access = 1 + (unsigned)sim_rng_below(&s->rng, 2);
        t->r.done = treq_done;
        /* The answer the functional path gives at issue (tables do not
         * change during the run). */
        t->want = iommu_translate(t->mmu, iova, t->r.access, 0);
        CU_ASSERT_EQUAL(iommu_translate_timed(t->mmu, &t->r), 0);
    }
    sim_event_schedule_in(&s->e->sim, &s->ev, sim_rng_below(&s->rng, 40) * NS);
}

void test_generic_timed_matches_functional(void)
{
    struct genv e;
    struct issuer s;
    char err[200];
    unsigned m, dom;

    genv_init(&e, false, 4);
    memset(&s, 0, sizeof(s));
    sim_rng_seed(&s.rng, 2024, "generic.agree");
    for (dom = 0; dom < 2; dom++) {
        CU_ASSERT_EQUAL_FATAL(generic_domain_create(&e.g, dom), 0);
        CU_ASSERT_EQUAL_FATAL(generic_attach(&e.g, 3 + dom, dom, &s.mmu[dom], err, sizeof(err)), 0);
        /* Random mappings of 4 KiB .. 8 MiB (so 2 MiB pages occur), random
         * permissions, in the low 4 GiB; collisions are simply refused. */
        for (m = 0; m < 300; m++) {
            uint64_t size = (sim_rng_below(&s.rng, 2048) + 1) << 12;
            uint64_t iova = sim_rng_below(&s.rng, UINT64_C(1) << 20) << 12;
            uint64_t pa = sim_rng_below(&s.rng, UINT64_C(1) << 24) << 12;
            int r;

            if (sim_rng_below(&s.rng, 3) == 0) {        /* 2 MiB aligned pair */
                iova &= ~UINT64_C(0x1fffff);
                pa &= ~UINT64_C(0x1fffff);
            }
            r = generic_map(&e.g, dom, iova, pa, size, 1 + (unsigned)sim_rng_below(&s.rng, 3));
            CU_ASSERT(r == 0 || r == SIM_EEXIST || r == SIM_ERANGE);
            if (r == 0 && m < 64)
                s.hot[m] = iova + sim_rng_below(&s.rng, size);
        }
    }
    s.e = &e;
    s.n = 20000;
    s.reqs = calloc(s.n, sizeof(*s.reqs));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s.reqs);
    n_checked = n_bad = 0;
    sim_event_init(&s.ev, issue_next, &s, 0);
    sim_event_schedule(&e.sim, &s.ev, 0);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(n_checked, s.n);
    CU_ASSERT_EQUAL(n_bad, 0);
    /* The run exercised every path: hits, merged misses, MSHR stalls,
     * walks, faults. */
    CU_ASSERT(e.g.tlb.st.hits > 1000);
    CU_ASSERT(e.g.tlb.st.merged > 0);
    CU_ASSERT(e.g.st.mshr_stalls > 0);
    CU_ASSERT(e.g.walker.st.faults > 0);
    CU_ASSERT_EQUAL(e.g.tlb.st.hits + e.g.tlb.st.misses, s.n);
    free(s.reqs);
    genv_free(&e);
}

/* --- Timing by hand ------------------------------------------------------- */

static void one_done(struct iommu_req *req)
{
    (void)req;
    n_checked++;
}

void test_generic_hit_and_miss_timing(void)
{
    struct genv e;
    struct iommu *mmu;
    struct iommu_req r;
    char err[200];
    sim_tick_t t0;
    /* A PTE read: 8 bytes at 25.6 GB/s = 312.5 ps -> 313 ticks, + 80 ns. */
    const sim_tick_t rd = 313 + 80 * NS;

    genv_init(&e, false, 4);
    CU_ASSERT_EQUAL_FATAL(generic_domain_create(&e.g, 1), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&e.g, 0, 1, &mmu, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(generic_map(&e.g, 1, 0x10000, 0x5551000, 0x2000, 3), 0);
    memset(&r, 0, sizeof(r));
    r.iova = 0x10008;
    r.access = IOMMU_RO;
    r.done = one_done;
    /* Miss: lookup (1 ns port + 2 ns) then a cold 4-read walk. */
    t0 = sim_now(&e.sim);
    CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &r), 0);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(r.entry.translated_addr, 0x5551000);
    CU_ASSERT_EQUAL(r.completed - t0, 3 * NS + 4 * rd);
    /* Hit: lookup only. */
    t0 = sim_now(&e.sim);
    CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &r), 0);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(r.completed - t0, 3 * NS);
    /* Neighbour page, warm PWCs: lookup + 1 read. */
    r.iova = 0x11000;
    t0 = sim_now(&e.sim);
    CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &r), 0);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(r.completed - t0, 3 * NS + rd);
    CU_ASSERT_EQUAL(r.entry.translated_addr, 0x5552000);
    /* A write to a read-only page faults (permission), after its walk. */
    CU_ASSERT_EQUAL(generic_map(&e.g, 1, 0x20000, 0x6000000, 0x1000, IOMMU_RO), 0);
    r.iova = 0x20000;
    r.access = IOMMU_WO;
    CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &r), 0);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(r.status, SIM_EFAULT);
    genv_free(&e);
}

/* --- B11 through the real IOTLB -------------------------------------------- */

struct devtlb {
    struct iommu_notifier n;
    int valid;
    struct iommu_tlb_entry e;
    unsigned unmaps;
};

static void devtlb_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct devtlb *d = (struct devtlb *)n;

    d->unmaps++;
    if (d->valid && ev->entry.iova <= d->e.iova + d->e.addr_mask &&
        d->e.iova <= ev->entry.iova + ev->entry.addr_mask)
        d->valid = 0;
}

void test_generic_unmap_invalidates_and_notifies(void)
{
    struct genv e;
    struct iommu *a, *b, *other;
    struct iommu_req r;
    struct devtlb dt;
    char err[200];
    sim_tick_t done_at;

    genv_init(&e, false, 4);
    CU_ASSERT_EQUAL_FATAL(generic_domain_create(&e.g, 1), 0);
    CU_ASSERT_EQUAL_FATAL(generic_domain_create(&e.g, 2), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&e.g, 0, 1, &a, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&e.g, 1, 1, &b, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&e.g, 2, 2, &other, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(generic_map(&e.g, 1, 0x40000, 0x900000, 0x1000, 3), 0);
    memset(&dt, 0, sizeof(dt));
    dt.n.notify = devtlb_notify;
    dt.n.flags = IOMMU_NOTIFIER_UNMAP;
    dt.n.end = UINT64_MAX;
    dt.n.latency = 1 * SIM_TICKS_PER_US;
    CU_ASSERT_EQUAL(iommu_notifier_register(b, &dt.n, err, sizeof(err)), 0);
    /* Warm the IOTLB through device a and the device TLB of b. */
    memset(&r, 0, sizeof(r));
    r.iova = 0x40000;
    r.access = IOMMU_RO;
    r.done = one_done;
    CU_ASSERT_EQUAL(iommu_translate_timed(a, &r), 0);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(r.status, 0);
    dt.e = iommu_translate(b, 0x40000, IOMMU_RO, 0);
    dt.valid = 1;
    /* Remap the page elsewhere: unmap (UNMAP to the domain's devices,
     * IOTLB range invalidated), then map. */
    CU_ASSERT_EQUAL(generic_unmap(&e.g, 1, 0x40000, 0x1000, &done_at), 0);
    CU_ASSERT_EQUAL(done_at, sim_now(&e.sim) + 1 * SIM_TICKS_PER_US);
    CU_ASSERT_EQUAL(dt.unmaps, 1);
    CU_ASSERT_EQUAL(dt.valid, 0);
    CU_ASSERT_EQUAL(e.g.tlb.st.inval_range, 1);
    CU_ASSERT_EQUAL(generic_map(&e.g, 1, 0x40000, 0xa00000, 0x1000, 3), 0);
    /* The timed path must not use the stale IOTLB entry. */
    CU_ASSERT_EQUAL(iommu_translate_timed(a, &r), 0);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(r.entry.translated_addr, 0xa00000);
    /* Another domain's device heard nothing and translates nothing there. */
    CU_ASSERT_EQUAL(iommu_translate(other, 0x40000, IOMMU_NONE, 0).perm, IOMMU_NONE);
    genv_free(&e);
}

/* --- MAP events, replay ------------------------------------------------------ */

struct maprec {
    struct iommu_notifier n;
    unsigned maps;
    uint64_t bytes;
};

static void maprec_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct maprec *m = (struct maprec *)n;

    if (ev->type == IOMMU_NOTIFIER_MAP) {
        m->maps++;
        m->bytes += ev->entry.addr_mask + 1;
    }
}

void test_generic_map_events_and_replay(void)
{
    struct genv e;
    struct iommu *mmu;
    struct maprec m;
    char err[200];
    bool cm = true;

    /* Without map_events MAP notifiers are refused (B5). */
    genv_init(&e, false, 2);
    CU_ASSERT_EQUAL_FATAL(generic_domain_create(&e.g, 0), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&e.g, 0, 0, &mmu, err, sizeof(err)), 0);
    memset(&m, 0, sizeof(m));
    m.n.notify = maprec_notify;
    m.n.flags = IOMMU_NOTIFIER_IOTLB_EVENTS;
    m.n.end = UINT64_MAX;
    CU_ASSERT_EQUAL(iommu_notifier_register(mmu, &m.n, err, sizeof(err)), SIM_EREFUSED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "map_events"));
    CU_ASSERT_EQUAL(iommu_get_attr(mmu, IOMMU_ATTR_CACHING_MODE, &cm), 0);
    CU_ASSERT_FALSE(cm);
    genv_free(&e);

    genv_init(&e, true, 2);
    CU_ASSERT_EQUAL_FATAL(generic_domain_create(&e.g, 0), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&e.g, 0, 0, &mmu, err, sizeof(err)), 0);
    /* Mapped before the notifier exists: 2 MiB + 4 KiB = 2 leaves. */
    CU_ASSERT_EQUAL(generic_map(&e.g, 0, 0x200000, 0x400000, 0x201000, 3), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(mmu, &m.n, err, sizeof(err)), 0);
    /* Replay walks the tables: 2 leaves, no granule translate calls. */
    iommu_replay(mmu, &m.n);
    CU_ASSERT_EQUAL(m.maps, 2);
    CU_ASSERT_EQUAL(m.bytes, 0x201000);
    CU_ASSERT_EQUAL(mmu->st.replay_translates, 0);
    /* With map_events, a new map is announced leaf by leaf. */
    CU_ASSERT_EQUAL(generic_map(&e.g, 0, 0x1000000, 0x1000000, 0x3000, 1), 0);
    CU_ASSERT_EQUAL(m.maps, 5);
    genv_free(&e);
}

void test_generic_model_table(void)
{
    const struct iommu_model_info *mi = iommu_model_find("generic");

    CU_ASSERT_PTR_NOT_NULL_FATAL(mi);
    CU_ASSERT_PTR_EQUAL(mi->ops, &generic_iommu_ops);
    CU_ASSERT_PTR_NOT_NULL(mi->ops->translate);
    CU_ASSERT_PTR_NULL(iommu_model_find("no-such-model"));
}

/*
 * B13: with caching mode (map_events) every map is followed by the guest's
 * invalidation, which the model counts, and its MAP events cost the
 * notifier user time that shows in notify_ticks. A VFIO-like user holding one
 * lock (serialised, latency L) handles K single-page maps made at tick 0 one
 * after another: map k is done at (k+1)L, so the maps add
 * L(1 + 2 + ... + K) = L K (K+1) / 2. An unmap of all K pages then queues K
 * UNMAP events behind them, the last done at 2KL: it adds 2KL. Without
 * caching mode the same maps make no MAP event, no invalidation, no cost.
 */
void test_generic_caching_mode_costs(void)
{
    enum { K = 10 };
    const sim_tick_t L = 2 * SIM_TICKS_PER_US;
    struct genv e;
    struct sim_resource lock;
    struct iommu *mmu;
    struct maprec m;
    char err[200];

    for (int cm = 1; cm >= 0; cm--) {
        genv_init(&e, cm, 2);
        CU_ASSERT_EQUAL_FATAL(sim_resource_init(&lock, &e.sim, 1), 0);
        CU_ASSERT_EQUAL_FATAL(generic_domain_create(&e.g, 0), 0);
        CU_ASSERT_EQUAL_FATAL(generic_attach(&e.g, 0, 0, &mmu, err, sizeof(err)), 0);
        memset(&m, 0, sizeof(m));
        m.n.notify = maprec_notify;
        m.n.flags = cm ? IOMMU_NOTIFIER_IOTLB_EVENTS : IOMMU_NOTIFIER_UNMAP;
        m.n.end = UINT64_MAX;
        m.n.latency = L;
        m.n.serialise = &lock;
        CU_ASSERT_EQUAL_FATAL(iommu_notifier_register(mmu, &m.n, err, sizeof(err)), 0);
        for (uint64_t k = 0; k < K; k++)
            CU_ASSERT_EQUAL(generic_map(&e.g, 0, 0x100000 + k * 0x1000,
                                        0x800000 + k * 0x1000, 0x1000, 3), 0);
        CU_ASSERT_EQUAL(e.g.st.maps, K);
        CU_ASSERT_EQUAL(m.maps, cm ? K : 0);
        CU_ASSERT_EQUAL(e.g.st.map_invals, cm ? K : 0);
        CU_ASSERT_EQUAL(e.g.st.notify_ticks, cm ? L * K * (K + 1) / 2 : 0);
        CU_ASSERT_EQUAL(generic_unmap(&e.g, 0, 0x100000, K * 0x1000, NULL), 0);
        CU_ASSERT_EQUAL(m.n.delivered, cm ? 2 * K : K);
        CU_ASSERT_EQUAL(e.g.st.notify_ticks,
                        cm ? L * K * (K + 1) / 2 + 2 * K * L : K * L);
        iommu_notifier_unregister(mmu, &m.n);
        sim_resource_destroy(&lock);
        genv_free(&e);
    }
}
