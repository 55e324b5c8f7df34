/*
 * test_vtd.c - the `vtd` model: queued-invalidation timing by hand, caching
 * mode's MAP/UNMAP events and descriptors (and the refusal without it, B5),
 * QEMU-style replay (one UNMAP of the range, then a MAP per mapping), the
 * 24-read cold nested walk, and the context cache's miss then hit, each
 * with numbers derived in the comments.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "iommu/models/models.h"
#include "iommu/models/vtd.h"

void test_vtd_qi_timing(void);
void test_vtd_caching_mode_events(void);
void test_vtd_replay(void);
void test_vtd_nested_walk_reads(void);
void test_vtd_context_cache(void);
void test_vtd_device_tlb(void);
void test_vtd_timed_matches_functional(void);
void test_vtd_walk_merges_and_folds(void);

#define NS SIM_TICKS_PER_NS

/* Processing times: distinct primes of ns so that a wrong count shows. */
#define T_CC   (7 * NS)
#define T_GLB  (11 * NS)
#define T_DOM  (13 * NS)
#define T_PAGE (300 * NS)
#define T_DEV  (17 * NS)
#define T_WAIT (50 * NS)

struct venv {
    struct sim sim;
    struct mem mem;
    struct vtd v;
};

/* Memory: 80 ns per read, no bandwidth limit, no LLC: every read costs
 * exactly 80 ns. IOTLB lookup: 1 ns port + 2 ns hit latency; context cache
 * 1 ns. PWCs of 16 entries at depths 1-3, both stages. */
static void venv_cfg(struct vtd_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->aw_bits = 48;
    c->pgsize_bitmap = 0x40201000;
    c->max_am = 18;
    c->qi.length = 256;
    c->qi.time[VTD_DESC_CC] = T_CC;
    c->qi.time[VTD_DESC_IOTLB_GLOBAL] = T_GLB;
    c->qi.time[VTD_DESC_IOTLB_DOMAIN] = T_DOM;
    c->qi.time[VTD_DESC_IOTLB_PAGE] = T_PAGE;
    c->qi.time[VTD_DESC_DEVTLB] = T_DEV;
    c->qi.time[VTD_DESC_WAIT] = T_WAIT;
    c->iotlb.policy = IOTLB_LRU;
    c->iotlb.arr[0] = (struct iotlb_array_cfg){ 64, 4 };
    c->iotlb.mshrs = 4;
    c->walk.walkers = 2;
    c->walk.pwc_entries[1] = c->walk.pwc_entries[2] = c->walk.pwc_entries[3] = 16;
    c->hit_latency = 2 * NS;
    c->lookup_ports = 1;
    c->lookup_cycle = 1 * NS;
    c->cc_entries = 8;
    c->cc_latency = 1 * NS;
    c->max_domains = 4;
    c->max_devices = 8;
    c->path = "sys.vtd";
}

static void venv_init(struct venv *e, const struct vtd_cfg *c)
{
    struct mem_cfg mc;
    char err[300];

    sim_init(&e->sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = 1;
    mc.interleave = 64;
    CU_ASSERT_EQUAL_FATAL(mem_init(&e->mem, &e->sim, &mc, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_create(&e->v, &e->sim, &e->mem, c, err, sizeof(err)), 0);
}

static void venv_free(struct venv *e)
{
    vtd_destroy(&e->v);
    mem_destroy(&e->mem);
    sim_destroy(&e->sim);
}

/* --- (1) Queued invalidation timing -------------------------------------- */

void test_vtd_qi_timing(void)
{
    struct venv e;
    struct vtd_cfg c;
    struct vtd_desc d[5];
    struct iommu_domain *dom;
    struct iommu *as;
    char err[300];
    sim_tick_t at = 1000 * NS, done, t;
    unsigned k, K = 5;

    venv_cfg(&c);
    venv_init(&e, &c);
    /* K page-selective descriptors and a wait into an idle queue: the unit
     * processes them back to back, the wait after the last:
     * at + K x T_PAGE + T_WAIT = 1000 + 1500 + 50 = 2550 ns. */
    for (k = 0; k < K; k++)
        d[k] = (struct vtd_desc){ .type = VTD_DESC_IOTLB_PAGE, .did = 0,
                                  .addr = (uint64_t)k << 12 };
    done = vtd_qi_sync(&e.v.qi, d, K, at);
    CU_ASSERT_EQUAL(done, at + K * T_PAGE + T_WAIT);
    CU_ASSERT_EQUAL(done, 2550 * NS);
    CU_ASSERT_EQUAL(e.v.qi.st.desc[VTD_DESC_IOTLB_PAGE], K);
    CU_ASSERT_EQUAL(e.v.qi.st.desc[VTD_DESC_WAIT], 1);
    /* A second flush submitted before the first finished queues behind it:
     * one domain-selective + wait posted at 2000 ns starts at 2550 ns. */
    d[0] = (struct vtd_desc){ .type = VTD_DESC_IOTLB_DOMAIN };
    t = vtd_qi_sync(&e.v.qi, d, 1, 2000 * NS);
    CU_ASSERT_EQUAL(t, done + T_DOM + T_WAIT);
    /* Ring occupancy each post found: the first batch, all posted at 1000
     * ns before any completes, 0, 1, 2, 3, 4 and 5 (the wait); at 2000 ns
     * the last two page-selective descriptors (done at 2200 and 2500) and
     * the wait (2550) are pending: 3 for the domain-selective, 4 for its
     * wait. Sum 15 + 7 = 22, maximum 5. */
    CU_ASSERT_EQUAL(e.v.qi.st.occ_sum, 22);
    CU_ASSERT_EQUAL(e.v.qi.st.occ_max, 5);

    /* Through the driver's ops: a strict unmap of one page issued at a
     * quiet tick is one page-selective descriptor (mask 0) and a wait. */
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e.v, 1, &dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, 2, 1, &as, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x10000, 0x500000, 4096, IOMMU_RW, 0, &t), 0);
    CU_ASSERT_EQUAL(t, 0);                     /* no caching mode: no flush on map */
    CU_ASSERT_EQUAL(iommu_domain_unmap(dom, 0x10000, 4096, 0, 10000 * NS, &t), 0);
    CU_ASSERT_EQUAL(t, 10000 * NS + T_PAGE + T_WAIT);
    CU_ASSERT_EQUAL(iommu_domain_unmap(dom, 0x10000, 4096, 0, 20000 * NS, &t), SIM_ENOENT);
    /* 16 pages from 0x40000: a mask of 4 (aligned 64 KiB), one descriptor. */
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x40000, 0x600000, 16 * 4096, IOMMU_RW, 0, &t), 0);
    CU_ASSERT_EQUAL(iommu_domain_unmap(dom, 0x40000, 16 * 4096, 0, 30000 * NS, &t), 0);
    CU_ASSERT_EQUAL(t, 30000 * NS + T_PAGE + T_WAIT);
    CU_ASSERT_EQUAL(e.v.qi.st.desc[VTD_DESC_IOTLB_PAGE], K + 2);
    /* flush_all: domain-selective + wait. */
    CU_ASSERT_EQUAL(iommu_domain_flush_all(dom, 40000 * NS), 40000 * NS + T_DOM + T_WAIT);
    venv_free(&e);

    /* Register-based: no wait descriptor; K commands one after another. */
    venv_cfg(&c);
    c.qi.registers = true;
    venv_init(&e, &c);
    for (k = 0; k < K; k++)
        d[k] = (struct vtd_desc){ .type = VTD_DESC_IOTLB_PAGE, .addr = (uint64_t)k << 12 };
    CU_ASSERT_EQUAL(vtd_qi_sync(&e.v.qi, d, K, at), at + K * T_PAGE);
    CU_ASSERT_EQUAL(e.v.qi.st.desc[VTD_DESC_WAIT], 0);
    venv_free(&e);

    /* A 4-entry ring: 6 page-selective descriptors and a wait at tick 0.
     * The 5th finds the ring full (slot 0 holds the 1st, done at 300 ns):
     * the driver waits until then, but the unit is busy until 1200 ns
     * anyway, so completion is still 6 x 300 + 50 = 1850 ns; 3 posts
     * stalled (the 5th, the 6th and the wait). */
    venv_cfg(&c);
    c.qi.length = 4;
    venv_init(&e, &c);
    for (k = 0; k < 5; k++)
        d[k] = (struct vtd_desc){ .type = VTD_DESC_IOTLB_PAGE, .addr = (uint64_t)k << 12 };
    vtd_qi_post(&e.v.qi, &d[0], 0);
    CU_ASSERT_EQUAL(vtd_qi_sync(&e.v.qi, d, 5, 0), 6 * T_PAGE + T_WAIT);
    CU_ASSERT_EQUAL(e.v.qi.st.full_stalls, 3);
    venv_free(&e);
}

/* --- (2) Caching mode: MAP and UNMAP events, descriptors, refusal ---------- */

struct rec {
    struct iommu_notifier n;
    unsigned maps, unmaps;
    struct iommu_event ev[64];
    unsigned nev;
};

static void rec_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct rec *r = (struct rec *)n;

    if (ev->type == IOMMU_NOTIFIER_MAP)
        r->maps++;
    if (ev->type == IOMMU_NOTIFIER_UNMAP)
        r->unmaps++;
    if (r->nev < 64)
        r->ev[r->nev++] = *ev;
}

static void rec_init(struct rec *r, unsigned flags, sim_tick_t latency)
{
    memset(r, 0, sizeof(*r));
    r->n.notify = rec_notify;
    r->n.flags = flags;
    r->n.start = 0;
    r->n.end = (UINT64_C(1) << 48) - 1;
    r->n.latency = latency;
}

void test_vtd_caching_mode_events(void)
{
    struct venv e;
    struct vtd_cfg c;
    struct iommu_domain *dom;
    struct iommu *as;
    struct rec r;
    char err[300];
    sim_tick_t t, L = 1000 * NS;
    unsigned i, N = 20;
    uint64_t page0;

    venv_cfg(&c);
    c.caching_mode = true;
    venv_init(&e, &c);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e.v, 0, &dom, err, sizeof(err)), 0);
    CU_ASSERT(dom->flags & IOMMU_DOMAIN_STRICT_ONLY);   /* the guest runs strict */
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, 1, 0, &as, err, sizeof(err)), 0);
    rec_init(&r, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0);
    CU_ASSERT_EQUAL_FATAL(iommu_notifier_register(as, &r.n, err, sizeof(err)), 0);
    /* Attach under CM flushed the context cache and the domain: no PSI. */
    page0 = e.v.qi.st.desc[VTD_DESC_IOTLB_PAGE];
    CU_ASSERT_EQUAL(page0, 0);
    for (i = 0; i < N; i++) {
        uint64_t iova = 0x100000 + (uint64_t)i * 4096;

        CU_ASSERT_EQUAL(iommu_domain_map(dom, iova, 0x800000 + (uint64_t)i * 4096, 4096,
                                         IOMMU_RW, 0, &t), 0);
        CU_ASSERT_EQUAL(iommu_domain_unmap(dom, iova, 4096, 0, 0, &t), 0);
    }
    /* N packets, each mapped and unmapped once: N MAP, N UNMAP, and one
     * page-selective invalidation per map and per unmap. */
    CU_ASSERT_EQUAL(r.maps, N);
    CU_ASSERT_EQUAL(r.unmaps, N);
    CU_ASSERT_EQUAL(e.v.qi.st.desc[VTD_DESC_IOTLB_PAGE], 2 * N);
    CU_ASSERT_EQUAL(e.v.st.map_invals, N);

    /* The cost of caching mode on one map, with a user that takes L per
     * event, into a queue that has long drained (at = 1 ms): the PSI takes
     * T_PAGE plus the user's L, then the wait: at + T_PAGE + L + T_WAIT. */
    iommu_notifier_unregister(as, &r.n);
    rec_init(&r, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, L);
    CU_ASSERT_EQUAL_FATAL(iommu_notifier_register(as, &r.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x200000, 0x900000, 4096, IOMMU_RW,
                                     1000000 * NS, &t), 0);
    CU_ASSERT_EQUAL(t, 1000000 * NS + T_PAGE + L + T_WAIT);
    /* And the unmap: the UNMAP's user work lengthens its PSI the same way. */
    CU_ASSERT_EQUAL(iommu_domain_unmap(dom, 0x200000, 4096, 0, 2000000 * NS, &t), 0);
    CU_ASSERT_EQUAL(t, 2000000 * NS + T_PAGE + L + T_WAIT);
    CU_ASSERT_EQUAL(r.maps, 1);
    CU_ASSERT_EQUAL(r.unmaps, 1);
    iommu_notifier_unregister(as, &r.n);
    venv_free(&e);

    /* Caching mode off: the MAP notifier is refused and nothing stays
     * registered (B5); an UNMAP-only one is fine; maps send nothing. */
    venv_cfg(&c);
    venv_init(&e, &c);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e.v, 0, &dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(dom->flags & IOMMU_DOMAIN_STRICT_ONLY, 0);
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, 1, 0, &as, err, sizeof(err)), 0);
    rec_init(&r, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0);
    err[0] = 0;
    CU_ASSERT_EQUAL(iommu_notifier_register(as, &r.n, err, sizeof(err)), SIM_EREFUSED);
    CU_ASSERT(strstr(err, "caching_mode") != NULL);
    CU_ASSERT(strchr(err, '\n') == NULL);
    CU_ASSERT_PTR_NULL(as->lists[0]);
    CU_ASSERT_EQUAL(as->notify_flags, 0);
    CU_ASSERT_EQUAL(as->st.registers, 0);
    rec_init(&r, IOMMU_NOTIFIER_UNMAP, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(as, &r.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x100000, 0x800000, 4096, IOMMU_RW, 0, &t), 0);
    CU_ASSERT_EQUAL(iommu_domain_unmap(dom, 0x100000, 4096, 0, 0, &t), 0);
    CU_ASSERT_EQUAL(r.unmaps, 1);
    CU_ASSERT_EQUAL(e.v.qi.st.desc[VTD_DESC_IOTLB_PAGE], 1);   /* the unmap's only */
    CU_ASSERT_EQUAL(e.v.st.ev_map, 0);
    iommu_notifier_unregister(as, &r.n);
    venv_free(&e);
}

/* --- (3) Replay ------------------------------------------------------------ */

void test_vtd_replay(void)
{
    static const struct { uint64_t iova, pa, size; } m[] = {
        { 0x1000, 0x100000, 4096 },
        { 0x5000, 0x105000, 4096 },
        { 0x200000, 0x400000, 0x200000 },       /* one 2 MiB leaf */
        { 0x40000000, 0x80000000, 0x40000000 }, /* one 1 GiB leaf */
        { 0x90000000, 0x10000, 4096 },
    };
    const unsigned M = sizeof(m) / sizeof(m[0]);
    struct venv e;
    struct vtd_cfg c;
    struct iommu_domain *dom;
    struct iommu *as;
    struct rec r;
    char err[300];
    sim_tick_t t;
    unsigned i;

    venv_cfg(&c);
    c.caching_mode = true;
    venv_init(&e, &c);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e.v, 3, &dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, 5, 3, &as, err, sizeof(err)), 0);
    for (i = 0; i < M; i++)
        CU_ASSERT_EQUAL(iommu_domain_map(dom, m[i].iova, m[i].pa, m[i].size, IOMMU_RW, 0,
                                         &t), 0);
    /* Registered after the maps: it has heard nothing; replay tells it. */
    rec_init(&r, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0);
    r.n.end = UINT64_C(0xffffffff);
    CU_ASSERT_EQUAL_FATAL(iommu_notifier_register(as, &r.n, err, sizeof(err)), 0);
    iommu_replay(as, &r.n);
    /* Exactly one UNMAP of [start, end], then M MAPs in IOVA order. */
    CU_ASSERT_EQUAL_FATAL(r.nev, 1 + M);
    CU_ASSERT_EQUAL(r.ev[0].type, IOMMU_NOTIFIER_UNMAP);
    CU_ASSERT_EQUAL(r.ev[0].entry.iova, 0);
    CU_ASSERT_EQUAL(r.ev[0].entry.addr_mask, UINT64_C(0xffffffff));
    CU_ASSERT_EQUAL(r.ev[0].entry.perm, IOMMU_NONE);
    for (i = 0; i < M; i++) {
        CU_ASSERT_EQUAL(r.ev[1 + i].type, IOMMU_NOTIFIER_MAP);
        CU_ASSERT_EQUAL(r.ev[1 + i].entry.iova, m[i].iova);
        CU_ASSERT_EQUAL(r.ev[1 + i].entry.translated_addr, m[i].pa);
        CU_ASSERT_EQUAL(r.ev[1 + i].entry.addr_mask, m[i].size - 1);
        CU_ASSERT_EQUAL(r.ev[1 + i].entry.perm, IOMMU_RW);
    }
    CU_ASSERT_EQUAL(r.maps, M);
    CU_ASSERT_EQUAL(r.unmaps, 1);
    CU_ASSERT_EQUAL(e.v.st.replay_maps, M);
    /* No translate calls: the tables were walked, not 2^20 granules. */
    CU_ASSERT_EQUAL(as->st.replay_translates, 0);
    iommu_notifier_unregister(as, &r.n);
    venv_free(&e);
}

/* --- Timed requests --------------------------------------------------------- */

struct treq {
    struct iommu_req r;
    int done;
};

static void treq_done(struct iommu_req *req)
{
    ((struct treq *)req)->done = 1;
}

static void issue(struct venv *e, struct iommu *as, struct treq *q, uint64_t iova)
{
    memset(q, 0, sizeof(*q));
    q->r.iova = iova;
    q->r.access = IOMMU_RO;
    q->r.done = treq_done;
    CU_ASSERT_EQUAL_FATAL(iommu_translate_timed(as, &q->r), 0);
    sim_run(&e->sim);
    CU_ASSERT_FATAL(q->done);
}

/* --- (4) Nested 4-level over 4-level, cold: 24 reads ----------------------- */

void test_vtd_nested_walk_reads(void)
{
    struct venv e;
    struct vtd_cfg c;
    struct iommu_domain *dom;
    struct iommu *as;
    struct iommu_tlb_entry f;
    struct treq q;
    char err[300];
    sim_tick_t t;

    venv_cfg(&c);
    c.scalable = true;
    c.pgtt = VTD_PGTT_NESTED;
    c.pgsize_bitmap = 0x1000;
    /* Stage 2 maps 16 MiB of guest memory with 4 KiB pages; domain d's
     * first-level tables at 8 MiB + d MiB. */
    c.s2_bytes = 16 << 20;
    c.s2_page_size = 4096;
    c.s1_table_base = 8 << 20;
    c.s1_table_span = 1 << 20;
    venv_init(&e, &c);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e.v, 0, &dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, 1, 0, &as, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x40000000, 0x100000, 8192, IOMMU_RW, 0, &t), 0);
    f = iommu_translate(as, 0x40000123, IOMMU_RO, 0);
    CU_ASSERT_EQUAL(f.translated_addr, 0x100000);      /* stage 2 is the identity */

    /* Cold: each of the 4 first-level reads needs its table's guest-physical
     * address through a 4-level stage-2 walk (4 reads) then the read itself
     * (5 each), and the output needs one more stage-2 walk: 4 x 5 + 4 = 24.
     * PWCs are only filled when a walk completes, so none helps within it. */
    issue(&e, as, &q, 0x40000123);
    CU_ASSERT_EQUAL(q.r.status, 0);
    CU_ASSERT_EQUAL(q.r.entry.translated_addr, 0x100000);
    CU_ASSERT_EQUAL(e.v.walker.st.walks, 1);
    CU_ASSERT_EQUAL(e.v.walker.st.reads, 24);
    /* Scalable mode: the context-cache miss read root, context, PASID
     * directory and PASID-table entries: 4. */
    CU_ASSERT_EQUAL(e.v.st.ctx_reads, 4);

    /* The next page, warm: the first-level PWC of depth 3 leaves the last
     * level's read, whose table address is a stage-2 PWC hit (1 read: the
     * 8 MiB region's tables were walked), then the output's stage-2 walk
     * also hits depth 3 (the 0-2 MiB region: 1 read): 1 + 1 + 1 = 3. */
    issue(&e, as, &q, 0x40001000);
    CU_ASSERT_EQUAL(q.r.entry.translated_addr, 0x101000);
    CU_ASSERT_EQUAL(e.v.walker.st.reads, 24 + 3);
    venv_free(&e);
}

/* --- (5) Context cache ------------------------------------------------------ */

void test_vtd_context_cache(void)
{
    struct venv e;
    struct vtd_cfg c;
    struct iommu_domain *dom;
    struct iommu *as, *as2;
    struct treq q;
    char err[300];
    sim_tick_t t;

    venv_cfg(&c);
    venv_init(&e, &c);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e.v, 0, &dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, 3, 0, &as, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x10000, 0x700000, 4096, IOMMU_RW, 0, &t), 0);

    /* First request at 0: port 1 ns + context cache 1 ns (miss) = 2 ns;
     * legacy mode reads root and context entries, 2 x 80 ns = 162 ns; IOTLB
     * lookup 2 ns (miss) = 164 ns; cold 4-level walk 4 x 80 ns = 484 ns. */
    issue(&e, as, &q, 0x10000);
    CU_ASSERT_EQUAL(q.r.status, 0);
    CU_ASSERT_EQUAL(q.r.completed, 484 * NS);
    CU_ASSERT_EQUAL(e.v.cc.st.lookups, 1);
    CU_ASSERT_EQUAL(e.v.cc.st.misses, 1);
    CU_ASSERT_EQUAL(e.v.st.ctx_reads, 2);

    /* Second request from the same devfn: a context-cache hit and an IOTLB
     * hit: 1 + 1 + 2 = 4 ns after it is issued. */
    t = sim_now(&e.sim);
    issue(&e, as, &q, 0x10008);
    CU_ASSERT_EQUAL(q.r.completed - t, 4 * NS);
    CU_ASSERT_EQUAL(e.v.cc.st.hits, 1);
    CU_ASSERT_EQUAL(e.v.st.ctx_reads, 2);

    /* Another devfn in the same domain misses the context cache (its own
     * entry) but hits the IOTLB (tagged by domain): 2 + 160 + 2 = 164 ns. */
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, 4, 0, &as2, err, sizeof(err)), 0);
    t = sim_now(&e.sim);
    issue(&e, as2, &q, 0x10010);
    CU_ASSERT_EQUAL(q.r.completed - t, 164 * NS);
    CU_ASSERT_EQUAL(e.v.cc.st.misses, 2);

    /* A device-selective context-cache invalidation: the next request from
     * that devfn misses again and reads its two entries once more. */
    {
        struct vtd_desc cc = { .type = VTD_DESC_CC, .gran = VTD_CC_DEVICE, .rid = 3 };

        vtd_qi_sync(&e.v.qi, &cc, 1, sim_now(&e.sim));
        issue(&e, as, &q, 0x10000);
        CU_ASSERT_EQUAL(e.v.cc.st.misses, 3);
        CU_ASSERT_EQUAL(e.v.st.ctx_reads, 6);
    }
    venv_free(&e);
}

/* --- Device TLBs: DEVIOTLB_UNMAP from device-TLB descriptors ---------------- */

void test_vtd_device_tlb(void)
{
    struct venv e;
    struct vtd_cfg c;
    struct iommu_domain *dom;
    struct iommu *as;
    struct rec r;
    char err[300];
    sim_tick_t t;

    venv_cfg(&c);
    c.device_tlb = true;
    venv_init(&e, &c);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e.v, 0, &dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, 1, 0, &as, err, sizeof(err)), 0);
    rec_init(&r, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0);
    r.n.start = 0x100000;
    r.n.end = 0x1fffff;
    CU_ASSERT_EQUAL_FATAL(iommu_notifier_register(as, &r.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x100000, 0x800000, 4096, IOMMU_RW, 0, &t), 0);

    /* Strict unmap of one page: page-selective, one device-TLB descriptor
     * for the one device, then the wait: at + T_PAGE + T_DEV + T_WAIT; its
     * processing sends one DEVIOTLB_UNMAP of that page. */
    CU_ASSERT_EQUAL(iommu_domain_unmap(dom, 0x100000, 4096, 0, 5000 * NS, &t), 0);
    CU_ASSERT_EQUAL(t, 5000 * NS + T_PAGE + T_DEV + T_WAIT);
    CU_ASSERT_EQUAL_FATAL(r.nev, 1);
    CU_ASSERT_EQUAL(r.ev[0].type, IOMMU_NOTIFIER_DEVIOTLB_UNMAP);
    CU_ASSERT_EQUAL(r.ev[0].entry.iova, 0x100000);
    CU_ASSERT_EQUAL(r.ev[0].entry.addr_mask, 0xfff);
    CU_ASSERT_EQUAL(e.v.qi.st.desc[VTD_DESC_DEVTLB], 1);

    /* Lazy unmap: no descriptor at all; the device TLB keeps the entry
     * until the flush, whose device-TLB invalidation covers everything
     * (cropped to the notifier's range on delivery, B8):
     * flush = at + T_DOM + T_DEV + T_WAIT. */
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x101000, 0x801000, 4096, IOMMU_RW, 0, &t), 0);
    CU_ASSERT_EQUAL(iommu_domain_unmap(dom, 0x101000, 4096, IOMMU_UNMAP_DEFER_FLUSH,
                                       6000 * NS, &t), 0);
    CU_ASSERT_EQUAL(t, 6000 * NS);
    CU_ASSERT_EQUAL(r.nev, 1);
    CU_ASSERT_EQUAL(iommu_domain_flush_all(dom, 7000 * NS), 7000 * NS + T_DOM + T_DEV + T_WAIT);
    CU_ASSERT_EQUAL_FATAL(r.nev, 2);
    CU_ASSERT_EQUAL(r.ev[1].entry.iova, 0x100000);
    CU_ASSERT_EQUAL(r.ev[1].entry.addr_mask, 0xfffff);
    CU_ASSERT_EQUAL(e.v.qi.st.desc[VTD_DESC_DEVTLB], 2);
    iommu_notifier_unregister(as, &r.n);
    venv_free(&e);
}

/* --- Timed and functional paths agree (legacy, first-level, nested) -------- */

struct areq {
    struct iommu_req r;
    struct iommu_tlb_entry want;
};

static unsigned a_checked, a_bad;

static void areq_done(struct iommu_req *req)
{
    struct areq *a = (struct areq *)req;
    int want_fault = a->want.perm == IOMMU_NONE;

    a_checked++;
    if (want_fault != (req->status == SIM_EFAULT) ||
        (!want_fault && (req->entry.translated_addr != a->want.translated_addr ||
                         req->entry.addr_mask != a->want.addr_mask)))
        a_bad++;
}

struct aissuer {
    struct sim_event ev;
    struct sim *sim;
    struct sim_rng rng;
    struct areq *reqs;
    unsigned i, n;
    struct iommu *as[4];
    uint64_t hot[64];
    unsigned nhot;
};

static void aissue(struct sim_event *ev, void *arg)
{
    struct aissuer *s = arg;
    unsigned k;

    (void)ev;
    /* Bursts of requests at one tick from several requesters and PASIDs:
     * context misses, fetch joins, IOTLB hits, merged misses and faults. */
    for (k = 0; k < 4 && s->i < s->n; k++) {
        struct areq *a = &s->reqs[s->i++];
        struct iommu *as = s->as[sim_rng_below(&s->rng, 4)];
        uint64_t iova = s->nhot && sim_rng_below(&s->rng, 2) ?
                        s->hot[sim_rng_below(&s->rng, s->nhot)] :
                        sim_rng_below(&s->rng, UINT64_C(1) << 32);

        memset(a, 0, sizeof(*a));
        a->r.iova = iova;
        a->r.access = 1 + (unsigned)sim_rng_below(&s->rng, 2);
        a->r.attrs.has_pasid = sim_rng_below(&s->rng, 2);
        a->r.attrs.pasid = (uint32_t)sim_rng_below(&s->rng, 3);
        a->r.done = areq_done;
        a->want = iommu_translate(as, iova, a->r.access, 0);
        CU_ASSERT_EQUAL(iommu_translate_timed(as, &a->r), 0);
    }
    if (s->i < s->n)
        sim_event_schedule_in(s->sim, &s->ev, sim_rng_below(&s->rng, 200) * NS);
}

static void agree_run(bool scalable, enum vtd_pgtt pgtt)
{
    struct venv e;
    struct vtd_cfg c;
    struct aissuer s;
    struct iommu_domain *dom[2];
    char err[300];
    unsigned m, d;

    venv_cfg(&c);
    c.scalable = scalable;
    c.pgtt = pgtt;
    c.cc_entries = 2;               /* evictions: context misses keep coming */
    if (pgtt == VTD_PGTT_NESTED) {
        c.s2_bytes = UINT64_C(64) << 30;
        c.s2_page_size = UINT64_C(1) << 30;
        c.s1_table_base = UINT64_C(32) << 30;
        c.s1_table_span = UINT64_C(1) << 30;
    }
    venv_init(&e, &c);
    memset(&s, 0, sizeof(s));
    sim_rng_seed(&s.rng, 2026, "vtd.agree");
    for (d = 0; d < 2; d++)
        CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e.v, d, &dom[d], err, sizeof(err)), 0);
    /* Four requesters, two per domain. */
    for (m = 0; m < 4; m++)
        CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, m + 1, m / 2, &s.as[m], err, sizeof(err)), 0);
    for (d = 0; d < 2; d++)
        for (m = 0; m < 300; m++) {
            uint64_t size = (sim_rng_below(&s.rng, 2048) + 1) << 12;
            uint64_t iova = sim_rng_below(&s.rng, UINT64_C(1) << 20) << 12;
            uint64_t pa = sim_rng_below(&s.rng, UINT64_C(1) << 22) << 12;   /* < 16 GiB */
            sim_tick_t t;
            int r;

            if (sim_rng_below(&s.rng, 3) == 0) {
                iova &= ~UINT64_C(0x1fffff);
                pa &= ~UINT64_C(0x1fffff);
            }
            r = iommu_domain_map(dom[d], iova, pa, size, 1 + (unsigned)sim_rng_below(&s.rng, 3),
                                 0, &t);
            CU_ASSERT(r == 0 || r == SIM_EEXIST);
            if (r == 0 && s.nhot < 64)
                s.hot[s.nhot++] = iova + sim_rng_below(&s.rng, size);
        }
    s.n = 6000;
    s.reqs = calloc(s.n, sizeof(*s.reqs));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s.reqs);
    a_checked = a_bad = 0;
    s.sim = &e.sim;
    sim_event_init(&s.ev, aissue, &s, 0);
    sim_event_schedule(&e.sim, &s.ev, 0);
    sim_run(&e.sim);
    CU_ASSERT_EQUAL(a_checked, s.n);
    CU_ASSERT_EQUAL(a_bad, 0);
    /* Every path was taken. */
    CU_ASSERT(e.v.tlb.st.hits > 100);
    CU_ASSERT(e.v.tlb.st.merged > 0);
    CU_ASSERT(e.v.cc.st.misses > 100);
    CU_ASSERT(e.v.st.ctx_fetches < e.v.cc.st.misses);   /* some joined a fetch */
    CU_ASSERT(e.v.walker.st.faults > 0);
    free(s.reqs);
    venv_free(&e);
}

void test_vtd_timed_matches_functional(void)
{
    agree_run(false, VTD_PGTT_SECOND);
    agree_run(true, VTD_PGTT_FIRST);
    agree_run(true, VTD_PGTT_NESTED);
}

/* --- Misses that join a walk: folded lookups, one completion event -------- */

struct oreq {
    struct iommu_req r;
    char id;
};

static char order_log[8];
static unsigned order_n;

static void oreq_done(struct iommu_req *req)
{
    order_log[order_n++] = ((struct oreq *)req)->id;
}

static void oissue(struct iommu *as, struct oreq *q, uint64_t iova, char id)
{
    memset(q, 0, sizeof(*q));
    q->r.iova = iova;
    q->r.access = IOMMU_RO;
    q->r.done = oreq_done;
    q->id = id;
    CU_ASSERT_EQUAL_FATAL(iommu_translate_timed(as, &q->r), 0);
}

/*
 * Legacy mode, warm context cache, page B next to a page A already walked
 * (the depth-3 PWC holds B's last-level table: B's walk is 1 read of 80 ns).
 * From T (all relative): r0 at 0 looks up in 1 ns (port) + 1 ns (context
 * cache) + 2 ns (IOTLB) = 4 ns, misses, walks, done at 84 ns. r1 and r2 at
 * 10 ns end their lookups at 14 and 15 ns (one port, FIFO), while r0's walk
 * is surely still reading: they join its MSHR at once (no lookup-end
 * event) and all three are answered at 84 ns, in that order, from one
 * event. r3 at 82 ns ends its lookup at 86 ns, after the walk: it must not
 * join (its lookup started before the fill: a miss, a walk of its own,
 * 1 read, done at 166 ns). Events from T: r0's lookup end, read and
 * completion, r3's the same: 6 (10 with an event per lookup end and per
 * completion).
 */
void test_vtd_walk_merges_and_folds(void)
{
    struct venv e;
    struct vtd_cfg c;
    struct iommu_domain *dom;
    struct iommu *as;
    struct treq q;
    struct oreq r[4];
    char err[300];
    sim_tick_t t, T;
    uint64_t ev0, merged0, walks0;

    venv_cfg(&c);
    venv_init(&e, &c);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e.v, 0, &dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, 3, 0, &as, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x10000, 0x700000, 2 * 4096, IOMMU_RW, 0, &t), 0);
    issue(&e, as, &q, 0x10000);                 /* page A: context and PWCs warm */
    CU_ASSERT_EQUAL_FATAL(q.r.status, 0);

    T = sim_now(&e.sim) + 1000 * NS;
    sim_run_until(&e.sim, T, 0);
    ev0 = sim_events_processed(&e.sim);
    merged0 = e.v.tlb.st.merged;
    walks0 = e.v.walker.st.walks;
    order_n = 0;
    oissue(as, &r[0], 0x11000, '0');
    sim_run_until(&e.sim, T + 10 * NS, 0);
    oissue(as, &r[1], 0x11008, '1');
    oissue(as, &r[2], 0x11010, '2');
    sim_run_until(&e.sim, T + 82 * NS, 0);
    CU_ASSERT_EQUAL(order_n, 0);
    oissue(as, &r[3], 0x11018, '3');
    sim_run(&e.sim);

    CU_ASSERT_EQUAL_FATAL(order_n, 4);
    CU_ASSERT_NSTRING_EQUAL(order_log, "0123", 4);
    for (unsigned i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(r[i].r.status, 0);
        CU_ASSERT_EQUAL(r[i].r.completed, T + 84 * NS);
        CU_ASSERT_EQUAL(r[i].r.entry.translated_addr, 0x701000);
    }
    CU_ASSERT_EQUAL(r[3].r.completed, T + 166 * NS);
    CU_ASSERT_EQUAL(r[3].r.entry.translated_addr, 0x701000);
    CU_ASSERT_EQUAL(e.v.tlb.st.merged - merged0, 2);
    CU_ASSERT_EQUAL(e.v.walker.st.walks - walks0, 2);
    CU_ASSERT_EQUAL(sim_events_processed(&e.sim) - ev0, 6);
    venv_free(&e);

    /*
     * One walker. From T: r0 (page B) at 0 walks 0.004-0.084 us; r1 (page
     * C, same 2 MiB) at 5 ns ends its lookup at 9 ns and its walk waits for
     * the walker, then reads 84-164 ns; r2 (page C) at 20 ns ends its
     * lookup at 24 ns while C's walk waits and B's read ends at 84 ns: C's
     * walk surely ends after 24 ns, so r2 joins it at once. r1 and r2 are
     * answered at 164 ns from one event. Events: r0's lookup end, read and
     * completion, r1's the same: 6 (7 if r2's lookup end were an event).
     */
    c.walk.walkers = 1;
    venv_init(&e, &c);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e.v, 0, &dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, 3, 0, &as, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x10000, 0x700000, 3 * 4096, IOMMU_RW, 0, &t), 0);
    issue(&e, as, &q, 0x10000);
    T = sim_now(&e.sim) + 1000 * NS;
    sim_run_until(&e.sim, T, 0);
    ev0 = sim_events_processed(&e.sim);
    merged0 = e.v.tlb.st.merged;
    order_n = 0;
    oissue(as, &r[0], 0x11000, '0');
    sim_run_until(&e.sim, T + 5 * NS, 0);
    oissue(as, &r[1], 0x12000, '1');
    sim_run_until(&e.sim, T + 20 * NS, 0);
    oissue(as, &r[2], 0x12008, '2');
    sim_run(&e.sim);
    CU_ASSERT_EQUAL_FATAL(order_n, 3);
    CU_ASSERT_NSTRING_EQUAL(order_log, "012", 3);
    CU_ASSERT_EQUAL(r[0].r.completed, T + 84 * NS);
    CU_ASSERT_EQUAL(r[1].r.completed, T + 164 * NS);
    CU_ASSERT_EQUAL(r[2].r.completed, T + 164 * NS);
    CU_ASSERT_EQUAL(r[2].r.entry.translated_addr, 0x702000);
    CU_ASSERT_EQUAL(e.v.tlb.st.merged - merged0, 1);
    CU_ASSERT_EQUAL(sim_events_processed(&e.sim) - ev0, 6);
    venv_free(&e);
}
