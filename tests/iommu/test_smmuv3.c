/*
 * test_smmuv3.c - the SMMUv3 model (src/iommu/models/smmuv3.h): the cache
 * hierarchy on a hand-built access sequence, nested walk reads cold and
 * with warm stage-2 walk caches, CMD_SYNC ordering with the effect of each
 * invalidation at its processing end, stall and terminate fault modes, ATC
 * invalidation, and the OS's strict unmap. Every expected number is derived
 * in the comments from the rules in smmuv3.h (latencies add along the path;
 * a walk reads one entry per level not skipped by a walk cache; commands
 * run one at a time in order).
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/models/smmuv3.h"

void test_smmuv3_hierarchy_sequence(void);
void test_smmuv3_nested_walk_reads(void);
void test_smmuv3_nested_nonfinal(void);
void test_smmuv3_sync_ordering(void);
void test_smmuv3_stall_and_terminate(void);
void test_smmuv3_atc_inv(void);
void test_smmuv3_domain_strict_unmap(void);
void test_smmuv3_config_cache(void);
void test_smmuv3_prefetch(void);
void test_smmuv3_prefetch_reserve_last_way(void);
void test_smmuv3_reserve_way_plru(void);
void test_smmuv3_lookup_slots(void);
void test_smmuv3_stream_configs(void);
void test_smmuv3_slots(void);
void test_smmuv3_walk_across_invalidation(void);
void test_smmuv3_ipa_cache(void);

#define NS 1000u                    /* ticks are picoseconds */
#define U (1 * NS)                  /* micro TLB */
#define T (3 * NS)                  /* main TLB */
#define IFC (8 * NS)                /* each way of the link */
#define CFG (3 * NS)                /* config cache */
#define STLB (3 * NS)               /* SMMU TLB */
#define WC (4 * NS)                 /* walk caches */
#define M (100 * NS)                /* one memory read */
#define STALL (5000 * NS)           /* software's stall handling */

struct fixture {
    struct sim sim;
    struct mem mem;
    struct smmuv3 s;
};

static void cfg_default(struct smmuv3_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->utlb = (struct smmuv3_cache_cfg){ true, 2, 0, IOTLB_LRU, U, 0 };
    c->tlb = (struct smmuv3_cache_cfg){ true, 4, 0, IOTLB_LRU, T, 0 };
    c->smmu_tlb = (struct smmuv3_cache_cfg){ true, 8, 0, IOTLB_LRU, STLB, 0 };
    c->cfg_cache = (struct smmuv3_cache_cfg){ true, 4, 0, IOTLB_LRU, CFG, 0 };
    c->wc_enable = true;
    for (unsigned st = 0; st < 2; st++)
        for (unsigned l = 0; l < 3; l++)
            c->wc_entries[st][l] = 4;
    c->wc_levels[0] = c->wc_levels[1] = 7;
    c->wc_ways = 0;
    c->wc_policy = IOTLB_LRU;
    c->wc_lat = WC;
    c->ifc_slots = 16;
    c->xlate_slots = 64;
    c->ptw_slots = 16;
    c->ifc_smmu_lat = IFC;
    c->smmu_ifc_lat = IFC;
    c->max_streams = 8;
    c->ssids_per_stream = 4;
    c->strtab_base = UINT64_C(0x7000000000);
    c->cdtab_base = UINT64_C(0x7100000000);
    c->fault_mode = SMMUV3_FAULT_TERMINATE;
    c->stall_latency = STALL;
    c->evtq_entries = 16;
    c->cmdq_entries = 128;
    c->path = "smmu";
}

static void setup(struct fixture *f, const struct smmuv3_cfg *c)
{
    struct mem_cfg mc;
    char err[256];

    sim_init(&f->sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = M;
    mc.channels = 1;
    mc.interleave = 4096;
    mc.path = "mem";
    CU_ASSERT_EQUAL_FATAL(mem_init(&f->mem, &f->sim, &mc, err, sizeof(err)), 0);
    err[0] = 0;
    CU_ASSERT_EQUAL_FATAL(smmuv3_create(&f->s, &f->sim, &f->mem, c, err, sizeof(err)), 0);
}

static void teardown(struct fixture *f)
{
    smmuv3_destroy(&f->s);
    mem_destroy(&f->mem);
    sim_destroy(&f->sim);
}

static void done_cb(struct iommu_req *r)
{
    (void)r;
}

/* One transaction, run to completion; returns its latency. */
static sim_tick_t xlate(struct fixture *f, struct iommu *mmu, uint64_t iova, unsigned access,
                        struct iommu_req *out)
{
    struct iommu_req r;

    memset(&r, 0, sizeof(r));
    r.iova = iova;
    r.access = access;
    r.done = done_cb;
    CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &r), 0);
    sim_run(&f->sim);
    if (out)
        *out = r;
    return r.completed - r.issued;
}

/* A stage-1 stream: sid 0, ssid 0, ASID 5 over @pt. */
static struct iommu *stage1_stream(struct fixture *f, const struct pgtable *pt)
{
    struct smmuv3_ste ste = { SMMUV3_STE_S1, 0, NULL, false };
    struct smmuv3_cd cd = { true, 5, pt };
    struct iommu *mmu;
    char err[256];

    CU_ASSERT_EQUAL_FATAL(smmuv3_ifc_get(&f->s, 0, &mmu, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(smmuv3_ste_set(&f->s, 0, &ste), 0);
    CU_ASSERT_EQUAL(smmuv3_cd_set(&f->s, 0, 0, &cd), 0);
    return mmu;
}

/*
 * The hierarchy: micro TLB 2 entries, main TLB 4, SMMU TLB 8 (all fully
 * associative LRU), walk caches S1L0..S1L2. Sequence, one at a time:
 *   1 A=0x1000   all miss; config miss (STE + CD: 2 reads); walk cold: 4
 *                reads; walk caches L2, L1, L0 looked up, all miss
 *   2 B=0x2000   uTLB, TLB, SMMU TLB miss; walk: S1L2 hit -> 1 read
 *   3 C=0x3000   same as B; uTLB {B,C} (A evicted)
 *   4 A          uTLB miss, main TLB hit; uTLB {A,C}
 *   5 D=1GiB     miss everywhere; walk: S1L2 miss, S1L1 miss, S1L0 hit ->
 *                3 reads; uTLB {D,A}; main TLB {A,B,C,D} full
 *   6 A          uTLB hit
 *   7 E=0x5000   uTLB, TLB miss (TLB evicts its LRU, B), SMMU TLB miss;
 *                walk: S1L2 hit -> 1 read
 *   8 B          uTLB, TLB miss; SMMU TLB hit: no walk
 * uTLB: 8 lookups, 1 hit. Main TLB: 7 lookups (the uTLB misses), 1 hit.
 * SMMU TLB: 6 lookups (steps 1,2,3,5,7,8), 1 hit. Walks 5, reads
 * 4+1+1+3+1 = 10. S1L2: 5 lookups, 3 hits; S1L1: 2 lookups, 0 hits;
 * S1L0: 2 lookups, 1 hit. Config cache: 2 lookups per SMMU visit (STE,
 * CD): 12, of which 10 hits; one STE and one CD fetch.
 */
void test_smmuv3_hierarchy_sequence(void)
{
    struct fixture f;
    struct smmuv3_cfg c;
    struct pgtable pt;
    struct iommu *mmu;
    struct iommu_req r;
    struct smmuv3_ifc *ifc;
    const uint64_t A = 0x1000, B = 0x2000, C = 0x3000, D = UINT64_C(1) << 30, E = 0x5000;
    sim_tick_t lat;

    cfg_default(&c);
    setup(&f, &c);
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, UINT64_C(0x100000000)), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0, UINT64_C(0x80000000), 0x10000, IOMMU_RW), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, D, UINT64_C(0x90000000), 0x1000, IOMMU_RW), 0);
    mmu = stage1_stream(&f, &pt);
    ifc = smmuv3_ifc_of(mmu);

    /* Step 1's latency: U + T + IFC + CFG + 2M + STLB + WC + 4M + IFC. */
    lat = xlate(&f, mmu, A, IOMMU_RO, &r);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x80001000));
    CU_ASSERT_EQUAL(lat, U + T + IFC + CFG + 2 * M + STLB + WC + 4 * M + IFC);
    lat = xlate(&f, mmu, B, IOMMU_RO, NULL);
    /* Step 2: U + T + IFC + CFG (hit) + STLB + WC + 1M + IFC. */
    CU_ASSERT_EQUAL(lat, U + T + IFC + CFG + STLB + WC + M + IFC);
    xlate(&f, mmu, C, IOMMU_RO, NULL);
    lat = xlate(&f, mmu, A, IOMMU_RO, NULL);
    CU_ASSERT_EQUAL(lat, U + T);                   /* step 4: main TLB hit */
    xlate(&f, mmu, D, IOMMU_RO, &r);
    CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x90000000));
    lat = xlate(&f, mmu, A, IOMMU_RO, NULL);
    CU_ASSERT_EQUAL(lat, U);                       /* step 6: micro TLB hit */
    xlate(&f, mmu, E, IOMMU_RO, NULL);
    lat = xlate(&f, mmu, B, IOMMU_RO, NULL);
    CU_ASSERT_EQUAL(lat, U + T + IFC + CFG + STLB + IFC);   /* step 8: SMMU TLB hit */

    CU_ASSERT_EQUAL(ifc->utlb.st.lookups, 8);
    CU_ASSERT_EQUAL(ifc->utlb.st.hits, 1);
    CU_ASSERT_EQUAL(ifc->tlb.st.lookups, 7);
    CU_ASSERT_EQUAL(ifc->tlb.st.hits, 1);
    CU_ASSERT_EQUAL(f.s.smmu_tlb.st.lookups, 6);
    CU_ASSERT_EQUAL(f.s.smmu_tlb.st.hits, 1);
    CU_ASSERT_EQUAL(f.s.st.walks, 5);
    CU_ASSERT_EQUAL(f.s.st.walk_reads, 10);
    CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[0][3], 5);
    CU_ASSERT_EQUAL(f.s.walker.st.pwc_hits[0][3], 3);
    CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[0][2], 2);
    CU_ASSERT_EQUAL(f.s.walker.st.pwc_hits[0][2], 0);
    CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[0][1], 2);
    CU_ASSERT_EQUAL(f.s.walker.st.pwc_hits[0][1], 1);
    CU_ASSERT_EQUAL(f.s.cfg_cache.st.lookups, 12);
    CU_ASSERT_EQUAL(f.s.cfg_cache.st.hits, 10);
    CU_ASSERT_EQUAL(f.s.st.ste_fetches, 1);
    CU_ASSERT_EQUAL(f.s.st.cd_fetches, 1);
    CU_ASSERT_EQUAL(f.s.st.translations, 8);
    CU_ASSERT_EQUAL(f.s.st.xlate_lat.count, 8);
    CU_ASSERT_EQUAL(f.s.st.walk_lat.count, 5);

    /* Misses to one page merge onto one walk: two concurrent requests to
     * F = 0x6000 (cold in every TLB) make one walk, one merged. */
    {
        struct iommu_req r1, r2;

        memset(&r1, 0, sizeof(r1));
        r1.iova = 0x6000;
        r1.access = IOMMU_RO;
        r1.done = done_cb;
        r2 = r1;
        r2.iova = 0x6008;
        CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &r1), 0);
        CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &r2), 0);
        sim_run(&f.sim);
        CU_ASSERT_EQUAL(f.s.st.walks, 6);
        CU_ASSERT_EQUAL(f.s.st.merged, 1);
        CU_ASSERT_EQUAL(r1.status, 0);
        CU_ASSERT_EQUAL(r2.status, 0);
        CU_ASSERT_EQUAL(r2.entry.translated_addr, UINT64_C(0x80006000));
        CU_ASSERT_EQUAL(r1.completed, r2.completed);
    }
    teardown(&f);
    pgtable_destroy(&pt);
}

/*
 * The nested stream of the nested-walk tests: stream 1, VMID 3, ASID 9;
 * stage 1 maps IOVA 0x1000-0x2fff to IPA 0x80000000 and IOVA 1 GiB to IPA
 * 0x80001000 (4 KiB pages, tables at IPA 0x10000000); stage 2 maps the
 * stage-1 tables' 2 MiB and the data's 16 KiB, with 4 KiB pages. SMMU TLB
 * off; stage-1 walk caches on with @warm_s1; wc_nonfinal_enable @nonfinal.
 */
static struct iommu *nested_setup(struct fixture *f, struct pgtable *s1, struct pgtable *s2,
                                  int warm_s1, bool nonfinal)
{
    struct smmuv3_cfg c;
    struct smmuv3_ste ste = { SMMUV3_STE_NESTED, 3, s2, false };
    struct smmuv3_cd cd = { true, 9, s1 };
    struct iommu *mmu;
    char err[256];

    cfg_default(&c);
    c.smmu_tlb.enable = false;
    c.wc_levels[0] = warm_s1 ? 7 : 0;
    c.wc_nonfinal = nonfinal;
    setup(f, &c);
    CU_ASSERT_EQUAL_FATAL(pgtable_init(s1, 4, 0x1000, UINT64_C(0x10000000)), 0);
    CU_ASSERT_EQUAL_FATAL(pgtable_init(s2, 4, 0x1000, UINT64_C(0x200000000)), 0);
    CU_ASSERT_EQUAL(pgtable_map(s1, 0x1000, UINT64_C(0x80000000), 0x2000, IOMMU_RW), 0);
    CU_ASSERT_EQUAL(pgtable_map(s1, UINT64_C(1) << 30, UINT64_C(0x80001000), 0x1000,
                                IOMMU_RW), 0);
    CU_ASSERT_EQUAL(pgtable_map(s2, UINT64_C(0x10000000), UINT64_C(0x300000000),
                                UINT64_C(0x200000), IOMMU_RW), 0);
    CU_ASSERT_EQUAL(pgtable_map(s2, UINT64_C(0x80000000), UINT64_C(0x400000000),
                                0x4000, IOMMU_RW), 0);
    CU_ASSERT_EQUAL_FATAL(smmuv3_ifc_get(&f->s, 1, &mmu, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(smmuv3_ste_set(&f->s, 1, &ste), 0);
    CU_ASSERT_EQUAL(smmuv3_cd_set(&f->s, 1, 0, &cd), 0);
    return mmu;
}

/* The first access of the nested tests: IOVA 0x1000, cold: 24 reads. */
static void nested_cold(struct fixture *f, struct iommu *mmu)
{
    struct iommu_req r;

    xlate(f, mmu, 0x1000, IOMMU_RO, &r);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x400000000));
    CU_ASSERT_EQUAL(f->s.st.walk_reads, 24);
}

/* The second: IOVA 1 GiB (stage-1 walk caches off) or 0x2000 (on), both
 * at IPA 0x80001000; returns the table reads it took. */
static uint64_t nested_second(struct fixture *f, struct iommu *mmu, int warm_s1)
{
    uint64_t before = f->s.st.walk_reads;
    struct iommu_req r;

    xlate(f, mmu, warm_s1 ? 0x2000 : UINT64_C(1) << 30, IOMMU_RO, &r);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x400001000));
    return f->s.st.walk_reads - before;
}

static void nested_teardown(struct fixture *f, struct pgtable *s1, struct pgtable *s2)
{
    teardown(f);
    pgtable_destroy(s1);
    pgtable_destroy(s2);
}

/*
 * Nested, 4 KiB granules, stage-2 mapped with 4 KiB pages only. Stage-1
 * tables live at IPAs 0x10000000 + 4 KiB x node, all inside one 2 MiB
 * region; the data IPAs are 0x80000000 and 0x80001000 (another 2 MiB
 * region).
 *  - Cold: each of the 4 stage-1 reads needs a 4-read stage-2 walk first,
 *    and the final IPA another: 4 x (4 + 1) + 4 = 24.
 *  - Then, stage-1 walk caches disabled (wc_s1_levels = 0) and stage-2 ones
 *    warm: the second IOVA (1 GiB up, its own stage-1 L2 and L3 tables)
 *    still reads 4 stage-1 entries, but each of the 5 stage-2 walks hits
 *    S2L2 (its IPA's 2 MiB region was walked by the first translation) and
 *    reads 1 entry: 4 + 5 x 1 = 9.
 *  - With stage-1 caches enabled too, a page next to the first (same L3
 *    table): S1L2 hit leaves 1 stage-1 read, whose IPA costs 1 stage-2 read,
 *    and the final IPA 1: 3 reads.
 * The stage-2 walk caches serve the stage-1 table addresses here
 * (wc_nonfinal_enable = true); test_smmuv3_nested_nonfinal has gem5's
 * default, false.
 */
void test_smmuv3_nested_walk_reads(void)
{
    for (int warm_s1 = 0; warm_s1 < 2; warm_s1++) {
        struct fixture f;
        struct pgtable s1, s2;
        struct iommu *mmu = nested_setup(&f, &s1, &s2, warm_s1, true);

        nested_cold(&f, mmu);
        CU_ASSERT_EQUAL(nested_second(&f, mmu, warm_s1), warm_s1 ? 3 : 9);
        if (!warm_s1)
            CU_ASSERT_EQUAL(f.s.walker.st.pwc_hits[1][3], 5);
        nested_teardown(&f, &s1, &s2);
    }
}

/*
 * gem5's default wc_nonfinal_enable = false: in a nested walk the stage-2
 * walk caches serve only the final IPA; each stage-1 table address takes a
 * full 4-read stage-2 walk that neither looks them up nor fills them. The
 * tables and IOVAs of test_smmuv3_nested_walk_reads:
 *  - Cold: 4 x (4 + 1) + 4 = 24 as before (fills happen at a walk's end).
 *    The only stage-2 fills are the final IPA 0x80000000's: S2L0, S2L1,
 *    S2L2 (L3 is off), after 3 lookups that miss (L2, L1, L0).
 *  - Stage-1 walk caches off, IOVA 1 GiB: 4 stage-1 reads, each after a
 *    4-read stage-2 walk (no lookup), and the final IPA 0x80001000, in the
 *    2 MiB region of 0x80000000, hits S2L2 and reads 1: 4 x (4 + 1) + 1 =
 *    21 (not 9). S2L2 lookups 2 (one per walk), hits 1; S2L1, S2L0 one
 *    lookup each (the cold walk's).
 *  - Stage-1 walk caches on, IOVA 0x2000: S1L2 hit leaves 1 stage-1 read,
 *    its table address costs a full stage-2 walk (4), the final IPA hits
 *    S2L2 (1): 1 + 4 + 1 = 6 (not 3).
 */
void test_smmuv3_nested_nonfinal(void)
{
    for (int warm_s1 = 0; warm_s1 < 2; warm_s1++) {
        struct fixture f;
        struct pgtable s1, s2;
        struct iommu *mmu = nested_setup(&f, &s1, &s2, warm_s1, false);

        nested_cold(&f, mmu);
        CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[1][3], 1);
        CU_ASSERT_EQUAL(f.s.walker.st.pwc_hits[1][3], 0);
        CU_ASSERT_EQUAL(nested_second(&f, mmu, warm_s1), warm_s1 ? 6 : 21);
        if (!warm_s1) {
            CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[1][3], 2);
            CU_ASSERT_EQUAL(f.s.walker.st.pwc_hits[1][3], 1);
            CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[1][2], 1);
            CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[1][1], 1);
        } else {
            CU_ASSERT_EQUAL(f.s.walker.st.pwc_hits[1][3], 1);
        }
        nested_teardown(&f, &s1, &s2);
    }
}

struct sync_rec {
    sim_tick_t when;
    int calls;
};

static void on_sync(void *ctx, sim_tick_t when)
{
    struct sync_rec *s = ctx;

    s->when = when;
    s->calls++;
}

struct probe {
    struct fixture *f;
    struct iommu *mmu;
    struct iommu_req r;
    struct sim_event ev;
};

static void probe_fire(struct sim_event *ev, void *arg)
{
    struct probe *p = arg;

    (void)ev;
    iommu_translate_timed(p->mmu, &p->r);
}

static void probe_at(struct probe *p, struct fixture *f, struct iommu *mmu, uint64_t iova,
                     sim_tick_t when)
{
    memset(p, 0, sizeof(*p));
    p->f = f;
    p->mmu = mmu;
    p->r.iova = iova;
    p->r.access = IOMMU_RO;
    p->r.done = done_cb;
    sim_event_init(&p->ev, probe_fire, p, SIM_PRIO_DEFAULT);
    sim_event_schedule(&f->sim, &p->ev, when);
}

/*
 * K = 3 TLBI_NH_VA (50 ns each) and a SYNC (20 ns), submitted together at
 * t0 after the three pages were unmapped. The SYNC completes at t0 + 3 x 50
 * + 20 = t0 + 170 ns, never before the third invalidation (t0 + 150 ns).
 * Each invalidation takes effect at its own end (t0 + 50, 100, 150): a
 * translation of page 3 at t0 + 120 ns still hits the micro TLB (stale,
 * U later), one of page 1 at t0 + 120 ns misses it and faults. After the
 * sync, none of the three pages hits anything.
 */
void test_smmuv3_sync_ordering(void)
{
    struct fixture f;
    struct smmuv3_cfg c;
    struct pgtable pt;
    struct iommu *mmu;
    struct smmuv3_ifc *ifc;
    struct smmuv3_cmd cmds[4];
    struct sync_rec rec = { 0, 0 };
    struct probe p3, p1;
    sim_tick_t t0, done;
    uint64_t utlb_hits, tlb_hits, stlb_hits;

    cfg_default(&c);
    c.utlb.entries = 4;
    c.cmd_time[SMMUV3_CMD_TLBI_NH_VA] = 50 * NS;
    c.cmd_time[SMMUV3_CMD_SYNC] = 20 * NS;
    setup(&f, &c);
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, UINT64_C(0x100000000)), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0x1000, UINT64_C(0x80001000), 0x3000, IOMMU_RW), 0);
    mmu = stage1_stream(&f, &pt);
    ifc = smmuv3_ifc_of(mmu);
    for (uint64_t p = 1; p <= 3; p++) {
        struct iommu_req r;

        xlate(&f, mmu, p << 12, IOMMU_RO, &r);
        CU_ASSERT_EQUAL(r.status, 0);
    }
    CU_ASSERT_EQUAL(pgtable_unmap(&pt, 0x1000, 0x3000, NULL, NULL, NULL), 0);
    t0 = sim_now(&f.sim);
    memset(cmds, 0, sizeof(cmds));
    for (unsigned i = 0; i < 3; i++) {
        cmds[i].type = SMMUV3_CMD_TLBI_NH_VA;
        cmds[i].asid = 5;
        cmds[i].addr = (uint64_t)(i + 1) << 12;
    }
    cmds[3].type = SMMUV3_CMD_SYNC;
    cmds[3].sync_done = on_sync;
    cmds[3].ctx = &rec;
    done = smmuv3_cmdq_submit(&f.s, cmds, 4, t0);
    CU_ASSERT_EQUAL(done, t0 + 170 * NS);
    probe_at(&p3, &f, mmu, 0x3000, t0 + 120 * NS);
    probe_at(&p1, &f, mmu, 0x1000, t0 + 120 * NS);
    sim_run(&f.sim);
    CU_ASSERT_EQUAL(rec.calls, 1);
    CU_ASSERT_EQUAL(rec.when, t0 + 170 * NS);
    CU_ASSERT(rec.when >= t0 + 150 * NS);
    CU_ASSERT_EQUAL(p3.r.status, 0);                /* stale hit before its TLBI */
    CU_ASSERT_EQUAL(p3.r.completed, t0 + 120 * NS + U);
    CU_ASSERT_EQUAL(p1.r.status, SIM_EFAULT);       /* invalidated at t0 + 50 */
    CU_ASSERT_EQUAL(f.s.st.cmds[SMMUV3_CMD_TLBI_NH_VA], 3);
    CU_ASSERT_EQUAL(f.s.st.cmds[SMMUV3_CMD_SYNC], 1);

    utlb_hits = ifc->utlb.st.hits;
    tlb_hits = ifc->tlb.st.hits;
    stlb_hits = f.s.smmu_tlb.st.hits;
    for (uint64_t p = 1; p <= 3; p++) {
        struct iommu_req r;

        xlate(&f, mmu, p << 12, IOMMU_RO, &r);
        CU_ASSERT_EQUAL(r.status, SIM_EFAULT);
    }
    CU_ASSERT_EQUAL(ifc->utlb.st.hits, utlb_hits);
    CU_ASSERT_EQUAL(ifc->tlb.st.hits, tlb_hits);
    CU_ASSERT_EQUAL(f.s.smmu_tlb.st.hits, stlb_hits);
    /* Terminate mode: every fault (p1's and the three) terminated. */
    CU_ASSERT_EQUAL(f.s.st.terminated, 4);
    CU_ASSERT_EQUAL(f.s.st.stalled, 0);
    teardown(&f);
    pgtable_destroy(&pt);
}

struct stall_ctx {
    struct pgtable *pt;
    bool retry;
    int calls;
    sim_tick_t when;
    struct fixture *f;
};

/* The OS's fault handler: map the page (demand paging), then resume. */
static bool on_stall(void *ctx, const struct smmuv3_event *ev)
{
    struct stall_ctx *s = ctx;

    s->calls++;
    s->when = sim_now(&s->f->sim);
    if (s->retry)
        pgtable_map(s->pt, ev->iova & ~(uint64_t)0xfff, UINT64_C(0xa0000000), 0x1000,
                    IOMMU_RW);
    return s->retry;
}

/*
 * A write to an unmapped page of an empty stage-1 table. The fault walk
 * reads the root entry only (not present): the fault is known at
 *   tf = U + T + IFC + CFG + 2M (STE, CD) + STLB + WC + 1M.
 * Terminate: the error arrives at tf + IFC. Stall: the handler runs at
 * tf + STALL, maps the page and resumes; the retry walks again (no walk
 * cache was filled by the faulting walk: WC + 4M) and answers at
 * tf + STALL + WC + 4M + IFC, successfully. A stall handler that refuses
 * terminates at tf + STALL + IFC.
 */
void test_smmuv3_stall_and_terminate(void)
{
    const sim_tick_t tf = U + T + IFC + CFG + 2 * M + STLB + WC + M;

    for (int mode = 0; mode < 3; mode++) {
        struct fixture f;
        struct smmuv3_cfg c;
        struct pgtable pt;
        struct iommu *mmu;
        struct iommu_req r;
        struct smmuv3_event ev;
        struct stall_ctx sc;
        sim_tick_t lat;

        cfg_default(&c);
        c.fault_mode = mode ? SMMUV3_FAULT_STALL : SMMUV3_FAULT_TERMINATE;
        setup(&f, &c);
        CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, UINT64_C(0x100000000)), 0);
        mmu = stage1_stream(&f, &pt);
        sc = (struct stall_ctx){ &pt, mode == 1, 0, 0, &f };
        smmuv3_set_stall_handler(&f.s, on_stall, &sc);
        lat = xlate(&f, mmu, 0x7000, IOMMU_WO, &r);
        CU_ASSERT_TRUE(smmuv3_evtq_pop(&f.s, &ev));
        CU_ASSERT_EQUAL(ev.type, SMMUV3_EVT_F_TRANSLATION);
        CU_ASSERT_EQUAL(ev.iova, 0x7000);
        CU_ASSERT_TRUE(ev.is_write);
        CU_ASSERT_EQUAL(ev.when, tf);
        CU_ASSERT_FALSE(smmuv3_evtq_pop(&f.s, &ev));
        CU_ASSERT_EQUAL(f.s.st.faults, 1);
        if (mode == 0) {
            CU_ASSERT_EQUAL(r.status, SIM_EFAULT);
            CU_ASSERT_EQUAL(lat, tf + IFC);
            CU_ASSERT_EQUAL(f.s.st.terminated, 1);
            CU_ASSERT_EQUAL(f.s.st.stalled, 0);
            CU_ASSERT_EQUAL(sc.calls, 0);
        } else if (mode == 1) {
            CU_ASSERT_EQUAL(r.status, 0);
            CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0xa0000000));
            CU_ASSERT_EQUAL(sc.when, tf + STALL);
            CU_ASSERT_EQUAL(lat, tf + STALL + WC + 4 * M + IFC);
            CU_ASSERT_EQUAL(f.s.st.stalled, 1);
            CU_ASSERT_EQUAL(f.s.st.stall_resumed, 1);
            CU_ASSERT_EQUAL(f.s.st.terminated, 0);
            CU_ASSERT_TRUE(ev.stalled);
        } else {
            CU_ASSERT_EQUAL(r.status, SIM_EFAULT);
            CU_ASSERT_EQUAL(lat, tf + STALL + IFC);
            CU_ASSERT_EQUAL(f.s.st.stalled, 1);
            CU_ASSERT_EQUAL(f.s.st.stall_terminated, 1);
        }
        CU_ASSERT_EQUAL(mmu->st.timed_faults, mode == 1 ? 0 : 1);
        teardown(&f);
        pgtable_destroy(&pt);
    }
}

struct atc_rec {
    int events;
    sim_tick_t when;
    uint64_t iova, mask;
};

static void on_devtlb(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct atc_rec *a = n->opaque;
    struct smmuv3_ifc *ifc = smmuv3_ifc_of(n->owner);

    a->events++;
    a->when = sim_now(ifc->s->sim);
    a->iova = ev->entry.iova;
    a->mask = ev->entry.addr_mask;
    CU_ASSERT_EQUAL(ev->type, IOMMU_NOTIFIER_DEVIOTLB_UNMAP);
}

/*
 * ATC_INV (30 ns at the SMMU) of [0x4000, 0x6000) to a device whose TLB
 * takes 500 ns to complete an invalidation, then SYNC (20 ns): the device
 * hears DEVIOTLB_UNMAP at t0 + 30 ns, and the sync waits for its completion:
 * max(t0 + 30 + 20, t0 + 30 + 500) = t0 + 530 ns.
 */
void test_smmuv3_atc_inv(void)
{
    struct fixture f;
    struct smmuv3_cfg c;
    struct pgtable pt;
    struct iommu *mmu;
    struct iommu_notifier n;
    struct atc_rec a = { 0, 0, 0, 0 };
    struct sync_rec rec = { 0, 0 };
    struct smmuv3_cmd cmds[2];
    char err[256];
    sim_tick_t done;

    cfg_default(&c);
    c.cmd_time[SMMUV3_CMD_ATC_INV] = 30 * NS;
    c.cmd_time[SMMUV3_CMD_SYNC] = 20 * NS;
    setup(&f, &c);
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, UINT64_C(0x100000000)), 0);
    mmu = stage1_stream(&f, &pt);
    memset(&n, 0, sizeof(n));
    n.notify = on_devtlb;
    n.flags = IOMMU_NOTIFIER_DEVIOTLB_UNMAP;
    n.start = 0;
    n.end = UINT64_MAX;
    n.latency = 500 * NS;
    n.opaque = &a;
    CU_ASSERT_EQUAL_FATAL(iommu_notifier_register(mmu, &n, err, sizeof(err)), 0);
    memset(cmds, 0, sizeof(cmds));
    cmds[0].type = SMMUV3_CMD_ATC_INV;
    cmds[0].sid = 0;
    cmds[0].addr = 0x4000;
    cmds[0].size = 0x2000;
    cmds[1].type = SMMUV3_CMD_SYNC;
    cmds[1].sync_done = on_sync;
    cmds[1].ctx = &rec;
    done = smmuv3_cmdq_submit(&f.s, cmds, 2, 0);
    CU_ASSERT_EQUAL(done, 530 * NS);
    sim_run(&f.sim);
    CU_ASSERT_EQUAL(a.events, 1);
    CU_ASSERT_EQUAL(a.when, 30 * NS);
    CU_ASSERT_EQUAL(a.iova, 0x4000);
    CU_ASSERT_EQUAL(a.mask, 0x1fff);
    CU_ASSERT_EQUAL(rec.when, 530 * NS);
    CU_ASSERT_EQUAL(f.s.st.atc_notify, 1);
    CU_ASSERT_EQUAL(f.s.st.cmds[SMMUV3_CMD_ATC_INV], 1);
    iommu_notifier_unregister(mmu, &n);
    teardown(&f);
    pgtable_destroy(&pt);
}

/*
 * The OS's view, stage 1: map 16 KiB, translate, strict unmap of one page
 * at t: TLBI_NH_VA (50 ns) + SYNC (20 ns) -> done at t + 70 ns; lazy unmap
 * queues nothing (done at t). After the strict unmap's sync the page
 * faults; flush_all is TLBI_NH_ASID (40 ns) + SYNC: t' + 60 ns.
 */
void test_smmuv3_domain_strict_unmap(void)
{
    struct fixture f;
    struct smmuv3_cfg c;
    struct iommu_domain *dom;
    struct iommu *mmu;
    struct iommu_req r;
    struct iommu_tlb_entry e;
    char err[256];
    sim_tick_t t, done;

    cfg_default(&c);
    c.cmd_time[SMMUV3_CMD_TLBI_NH_VA] = 50 * NS;
    c.cmd_time[SMMUV3_CMD_TLBI_NH_ASID] = 40 * NS;
    c.cmd_time[SMMUV3_CMD_SYNC] = 20 * NS;
    setup(&f, &c);
    CU_ASSERT_EQUAL_FATAL(smmuv3_domains_init(&f.s, SMMUV3_STE_S1, 4, 0, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(smmuv3_domain_get(&f.s, 2, &dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(smmuv3_attach(&f.s, 3, 2, &mmu, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x10000, UINT64_C(0x50000000), 0x4000, IOMMU_RW,
                                     0, &done), 0);
    e = iommu_domain_lookup(dom, 0x11000);
    CU_ASSERT_EQUAL(e.translated_addr, UINT64_C(0x50001000));
    xlate(&f, mmu, 0x11000, IOMMU_WO, &r);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x50001000));
    t = sim_now(&f.sim);
    CU_ASSERT_EQUAL(iommu_domain_unmap(dom, 0x11000, 0x1000, 0, t, &done), 0);
    CU_ASSERT_EQUAL(done, t + 70 * NS);
    CU_ASSERT_EQUAL(iommu_domain_unmap(dom, 0x12000, 0x1000, IOMMU_UNMAP_DEFER_FLUSH,
                                       t, &done), 0);
    CU_ASSERT_EQUAL(done, t);
    sim_run(&f.sim);
    xlate(&f, mmu, 0x11000, IOMMU_RO, &r);
    CU_ASSERT_EQUAL(r.status, SIM_EFAULT);
    t = sim_now(&f.sim);
    CU_ASSERT_EQUAL(iommu_domain_flush_all(dom, t), t + 60 * NS);
    CU_ASSERT_EQUAL(f.s.st.cmds[SMMUV3_CMD_TLBI_NH_VA], 1);
    CU_ASSERT_EQUAL(f.s.st.cmds[SMMUV3_CMD_TLBI_NH_ASID], 1);
    CU_ASSERT_EQUAL(f.s.st.cmds[SMMUV3_CMD_SYNC], 2);
    CU_ASSERT_EQUAL(iommu_domain_unmap(dom, 0x11000, 0x1000, 0, t, &done), SIM_ENOENT);
    sim_run(&f.sim);
    teardown(&f);
}

/*
 * Configuration: a two-level stream table costs one more read per STE
 * fetch (the L1 descriptor): the cold latency of test_smmuv3_hierarchy's
 * step 1 plus M. CMD_CFGI_STE (10 ns) drops the STE and its CDs: the next
 * miss at the SMMU fetches both again (2 reads + L1 = 3 config reads), so
 * a miss that would cost CFG + STLB + WC + 1M (walk caches warm) costs
 * 3M more. CMD_CFGI_CD drops only the CD: 1 read more.
 */
void test_smmuv3_config_cache(void)
{
    struct fixture f;
    struct smmuv3_cfg c;
    struct pgtable pt;
    struct iommu *mmu;
    struct smmuv3_cmd cmd;
    sim_tick_t lat;

    cfg_default(&c);
    c.st_two_level = true;
    c.st_split = 8;
    c.cmd_time[SMMUV3_CMD_CFGI_STE] = 10 * NS;
    c.cmd_time[SMMUV3_CMD_CFGI_CD] = 10 * NS;
    setup(&f, &c);
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, UINT64_C(0x100000000)), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0, UINT64_C(0x80000000), 0x10000, IOMMU_RW), 0);
    mmu = stage1_stream(&f, &pt);
    lat = xlate(&f, mmu, 0x1000, IOMMU_RO, NULL);
    CU_ASSERT_EQUAL(lat, U + T + IFC + CFG + 3 * M + STLB + WC + 4 * M + IFC);
    CU_ASSERT_EQUAL(f.s.st.cfg_reads, 3);
    memset(&cmd, 0, sizeof(cmd));
    cmd.type = SMMUV3_CMD_CFGI_STE;
    cmd.sid = 0;
    smmuv3_cmdq_submit(&f.s, &cmd, 1, sim_now(&f.sim));
    sim_run(&f.sim);
    lat = xlate(&f, mmu, 0x2000, IOMMU_RO, NULL);
    CU_ASSERT_EQUAL(lat, U + T + IFC + CFG + 3 * M + STLB + WC + M + IFC);
    CU_ASSERT_EQUAL(f.s.st.ste_fetches, 2);
    CU_ASSERT_EQUAL(f.s.st.cd_fetches, 2);
    cmd.type = SMMUV3_CMD_CFGI_CD;
    cmd.ssid = 0;
    smmuv3_cmdq_submit(&f.s, &cmd, 1, sim_now(&f.sim));
    sim_run(&f.sim);
    lat = xlate(&f, mmu, 0x3000, IOMMU_RO, NULL);
    CU_ASSERT_EQUAL(lat, U + T + IFC + CFG + M + STLB + WC + M + IFC);
    CU_ASSERT_EQUAL(f.s.st.ste_fetches, 2);
    CU_ASSERT_EQUAL(f.s.st.cd_fetches, 3);
    CU_ASSERT_EQUAL(f.s.st.cmds[SMMUV3_CMD_CFGI_STE], 1);
    CU_ASSERT_EQUAL(f.s.st.cmds[SMMUV3_CMD_CFGI_CD], 1);
    teardown(&f);
    pgtable_destroy(&pt);
}

/*
 * Next-page prefetch: a walk of page 1 is followed by a walk of page 2 (its
 * 4 KiB neighbour) into the main TLB, so page 2 then hits the main TLB
 * (U + T) with no walk of its own; the prefetch walk hits S1L2 (1 read).
 */
void test_smmuv3_prefetch(void)
{
    struct fixture f;
    struct smmuv3_cfg c;
    struct pgtable pt;
    struct iommu *mmu;
    struct smmuv3_ifc *ifc;
    sim_tick_t lat;

    cfg_default(&c);
    c.prefetch = true;
    setup(&f, &c);
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, UINT64_C(0x100000000)), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0, UINT64_C(0x80000000), 0x10000, IOMMU_RW), 0);
    mmu = stage1_stream(&f, &pt);
    ifc = smmuv3_ifc_of(mmu);
    xlate(&f, mmu, 0x1000, IOMMU_RO, NULL);
    CU_ASSERT_EQUAL(ifc->pf_walks, 1);
    CU_ASSERT_EQUAL(ifc->pf_fills, 1);
    CU_ASSERT_EQUAL(f.s.walker.st.walks, 2);
    CU_ASSERT_EQUAL(f.s.walker.st.reads, 4 + 1);
    lat = xlate(&f, mmu, 0x2000, IOMMU_RO, NULL);
    CU_ASSERT_EQUAL(lat, U + T);
    CU_ASSERT_EQUAL(f.s.st.walks, 1);
    /* The prefetcher's probe of the main TLB is not a device lookup: the
     * main TLB saw the two device misses at the micro TLB, one hit. */
    CU_ASSERT_EQUAL(ifc->tlb.st.lookups, 2);
    CU_ASSERT_EQUAL(ifc->tlb.st.hits, 1);
    teardown(&f);
    pgtable_destroy(&pt);
}

/*
 * prefetch_reserve_last_way (gem5's ALLOC_LAST_WAY / ALLOC_ANY_BUT_LAST_WAY):
 * a 4-entry fully associative LRU main TLB, no micro or SMMU TLB, pages
 * pN = N x 4 KiB. Demand fills take ways 0-2, the prefetch of pN+1 way 3.
 *   1 p1  miss: p1 -> w0; prefetch p2 -> w3
 *   2 p2  hit (the prefetched way)
 *   3 p5  miss: p5 -> w1; prefetch p6 evicts p2 from w3
 *   4 p2  miss (a plain 4-entry TLB would still hold p1 p2 p5 p6: hit):
 *         p2 -> w2; prefetch p3 evicts p6
 *   5 p9  miss: ways 0-2 full, LRU of {p1@1, p5@3, p2@4} is p1 -> p9;
 *         prefetch p10 evicts p3
 *   6 p5  hit;  7 p10 hit (w3)
 *   8 p12 miss: LRU of {p9@5, p5@6, p2@4} is p2 -> p12; prefetch p13
 *         evicts p10
 *   9 p9  hit
 *  10 p2  miss: LRU of {p12@8, p9@9, p5@6} is p5; prefetch p3 evicts p13
 * Hits 4 of 10 lookups; 6 walks, 6 prefetch walks and fills; evictions
 * 1 + 1 + 2 + 2 + 2 = 8. Every prefetch probe (p2 p6 p3 p10 p13 p3) misses.
 * With the reservation off the first four are miss hit miss hit. A
 * direct-mapped main TLB (1 way) cannot reserve one: a config error.
 */
void test_smmuv3_prefetch_reserve_last_way(void)
{
    static const uint64_t seq[10] = { 1, 2, 5, 2, 9, 5, 10, 12, 9, 2 };
    static const int hit_on[10] = { 0, 1, 0, 0, 0, 1, 1, 0, 1, 0 };
    static const int hit_off[4] = { 0, 1, 0, 1 };

    for (int on = 0; on < 2; on++) {
        struct fixture f;
        struct smmuv3_cfg c;
        struct pgtable pt;
        struct iommu *mmu;
        struct smmuv3_ifc *ifc;
        unsigned i, n = on ? 10 : 4;

        cfg_default(&c);
        c.utlb.enable = false;
        c.smmu_tlb.enable = false;
        c.prefetch = true;
        c.prefetch_reserve_last_way = on != 0;
        setup(&f, &c);
        CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, UINT64_C(0x100000000)), 0);
        CU_ASSERT_EQUAL(pgtable_map(&pt, 0, UINT64_C(0x80000000), 0x10000, IOMMU_RW), 0);
        mmu = stage1_stream(&f, &pt);
        ifc = smmuv3_ifc_of(mmu);
        for (i = 0; i < n; i++) {
            uint64_t hits = ifc->tlb.st.hits;
            struct iommu_req r;

            xlate(&f, mmu, seq[i] << 12, IOMMU_RO, &r);
            CU_ASSERT_EQUAL(r.status, 0);
            CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x80000000) + (seq[i] << 12));
            CU_ASSERT_EQUAL(ifc->tlb.st.hits - hits, (uint64_t)(on ? hit_on[i] : hit_off[i]));
        }
        if (on) {
            CU_ASSERT_EQUAL(ifc->tlb.st.lookups, 10);
            CU_ASSERT_EQUAL(ifc->tlb.st.hits, 4);
            CU_ASSERT_EQUAL(f.s.st.walks, 6);
            CU_ASSERT_EQUAL(ifc->pf_walks, 6);
            CU_ASSERT_EQUAL(ifc->pf_fills, 6);
            CU_ASSERT_EQUAL(ifc->tlb.st.evictions, 8);
        }
        teardown(&f);
        pgtable_destroy(&pt);
    }
    {
        struct smmuv3_cfg c;
        struct sim sim;
        struct mem mem;
        struct mem_cfg mc;
        struct smmuv3 s;
        char err[256];

        cfg_default(&c);
        c.prefetch = true;
        c.prefetch_reserve_last_way = true;
        c.tlb = (struct smmuv3_cache_cfg){ true, 4, 1, IOTLB_LRU, T, 0 };
        sim_init(&sim);
        memset(&mc, 0, sizeof(mc));
        mc.latency = M;
        mc.channels = 1;
        mc.interleave = 4096;
        mc.path = "mem";
        CU_ASSERT_EQUAL_FATAL(mem_init(&mem, &sim, &mc, err, sizeof(err)), 0);
        err[0] = 0;
        CU_ASSERT_EQUAL(smmuv3_create(&s, &sim, &mem, &c, err, sizeof(err)), SIM_EINVAL);
        CU_ASSERT_EQUAL(strncmp(err, "smmu: ", 6), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "prefetch_reserve_last_way"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "got 1"));
        CU_ASSERT_PTR_NULL(strchr(err, '\n'));
        /* Without prefetch there is nothing to reserve: accepted. */
        c.prefetch = false;
        CU_ASSERT_EQUAL(smmuv3_create(&s, &sim, &mem, &c, err, sizeof(err)), 0);
        smmuv3_destroy(&s);
        mem_destroy(&mem);
        sim_destroy(&sim);
    }
}

/*
 * The way-restricted fill under tree PLRU (tlb_policy plru with the
 * reservation): one set of 4 ways. A, B, C fill ways 0-2 (an empty set's
 * invalid ways are taken from the list's tail: A w2, B w1, C w0, checked
 * below), D (a prefetch) way 3. Hits on A (w2: root -> left, node 3 -> w3),
 * B (w1: root -> right, node 2 -> w0), C (w0: node 2 -> w1) leave the plain
 * victim at root right, node 3: w3, D. A demand fill E (ways 0-2) turns at
 * node 3 away from w3 and takes w2, evicting A; D stays. The plain fill
 * evicts D.
 */
void test_smmuv3_reserve_way_plru(void)
{
    for (int restricted = 0; restricted < 2; restricted++) {
        struct iotlb t;
        struct iotlb_cfg ic;
        struct iotlb_hit h;
        char err[256];
        uint64_t pg[5] = { 0x1000, 0x2000, 0x3000, 0x4000, 0x5000 }; /* A B C D E */

        memset(&ic, 0, sizeof(ic));
        ic.policy = IOTLB_PLRU;
        ic.arr[0].entries = 4;
        ic.arr[0].ways = 4;
        ic.path = "t";
        CU_ASSERT_EQUAL_FATAL(iotlb_init(&t, &ic, err, sizeof(err)), 0);
        for (int i = 0; i < 3; i++)
            iotlb_insert_ways(&t, 1, 0, pg[i], pg[i], 0xfff, IOMMU_RW, 0, 3);
        iotlb_insert_ways(&t, 1, 0, pg[3], pg[3], 0xfff, IOMMU_RW, 3, 4);
        for (int w = 0; w < 4; w++)
            CU_ASSERT_EQUAL(t.arr[0].e[w].vpn, (uint64_t)(w == 3 ? 4 : 3 - w));
        for (int i = 0; i < 3; i++)
            CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, pg[i], &h));
        if (restricted)
            iotlb_insert_ways(&t, 1, 0, pg[4], pg[4], 0xfff, IOMMU_RW, 0, 3);
        else
            iotlb_insert(&t, 1, 0, pg[4], pg[4], 0xfff, IOMMU_RW);
        CU_ASSERT_EQUAL(t.st.evictions, 1);
        CU_ASSERT_EQUAL(iotlb_lookup(&t, 1, 0, pg[0], &h), !restricted);
        CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, pg[1], &h));
        CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, pg[2], &h));
        CU_ASSERT_EQUAL(iotlb_lookup(&t, 1, 0, pg[3], &h), restricted != 0);
        CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, pg[4], &h));
        iotlb_destroy(&t);
    }
}

/*
 * Lookup slots (gem5's *_slots semaphores): N lookups of one structure
 * arriving at once, S slots, each lookup holding one for the structure's
 * latency L: the k-th (k = 0..N-1) answers after (floor(k / S) + 1) x L,
 * the last after ceil(N / S) x L. Each case issues N transactions at one
 * tick after a warm-up, so every other stage is a hit or fixed:
 *  utlb      S 1, N 3 (micro-TLB hits):         U, 2U, 3U
 *  tlb       S 2, N 5 (micro TLB off, hits):    T, T, 2T, 2T, 3T
 *  smmu_tlb  S 3, N 4 (ifc TLBs off; config and SMMU TLB hits):
 *            IFC + CFG + {1,1,1,2} x STLB + IFC
 *  cfg       S 1, N 3 (ifc TLBs off; config and SMMU TLB hits):
 *            IFC + {1,2,3} x CFG + STLB + IFC
 *  walk      S 2, N 3 (all TLBs off; three pages of one warm L3 table, each
 *            walk an S1L2 hit and 1 read, memory without contention):
 *            IFC + CFG + {1,1,2} x WC + M + IFC
 */
void test_smmuv3_lookup_slots(void)
{
    enum { C_UTLB, C_TLB, C_STLB, C_CFG, C_WALK, C_N };
    static const unsigned n_of[C_N] = { 3, 5, 4, 3, 3 }, s_of[C_N] = { 1, 2, 3, 1, 2 };

    for (int k = 0; k < C_N; k++) {
        struct fixture f;
        struct smmuv3_cfg c;
        struct pgtable pt;
        struct iommu *mmu;
        struct iommu_req r[5];
        unsigned n = n_of[k], i;

        cfg_default(&c);
        switch (k) {
        case C_UTLB:
            c.utlb.slots = s_of[k];
            break;
        case C_TLB:
            c.utlb.enable = false;
            c.tlb.slots = s_of[k];
            break;
        case C_STLB:
        case C_CFG:
            c.utlb.enable = c.tlb.enable = false;
            if (k == C_STLB)
                c.smmu_tlb.slots = s_of[k];
            else
                c.cfg_cache.slots = s_of[k];
            break;
        default:
            c.utlb.enable = c.tlb.enable = c.smmu_tlb.enable = false;
            c.wc_slots = s_of[k];
            break;
        }
        setup(&f, &c);
        CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, UINT64_C(0x100000000)), 0);
        CU_ASSERT_EQUAL(pgtable_map(&pt, 0, UINT64_C(0x80000000), 0x10000, IOMMU_RW), 0);
        mmu = stage1_stream(&f, &pt);
        /* Warm-up: config cache, SMMU TLB, main and micro TLBs for page 1;
         * the walk case walks page 4 instead, warming the walk caches for
         * the L3 table of pages 1-3. */
        xlate(&f, mmu, k == C_WALK ? 0x4000 : 0x1000, IOMMU_RO, NULL);
        memset(r, 0, sizeof(r));
        for (i = 0; i < n; i++) {
            r[i].iova = k == C_WALK ? (uint64_t)(i + 1) << 12 : 0x1000;
            r[i].access = IOMMU_RO;
            r[i].done = done_cb;
            CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &r[i]), 0);
        }
        sim_run(&f.sim);
        for (i = 0; i < n; i++) {
            sim_tick_t q = (sim_tick_t)(i / s_of[k] + 1), want;

            switch (k) {
            case C_UTLB: want = q * U; break;
            case C_TLB: want = q * T; break;
            case C_STLB: want = IFC + CFG + q * STLB + IFC; break;
            case C_CFG: want = IFC + q * CFG + STLB + IFC; break;
            default: want = IFC + CFG + q * WC + M + IFC; break;
            }
            CU_ASSERT_EQUAL(r[i].status, 0);
            CU_ASSERT_EQUAL(r[i].completed - r[i].issued, want);
        }
        teardown(&f);
        pgtable_destroy(&pt);
    }
}

/*
 * Stream configurations: bypass answers identity after the config fetch
 * (1 STE read, no CD): U + T are skipped (nothing is cached for bypass), so
 * IFC + CFG + M + IFC. Abort and an invalid STE terminate (counted, an
 * event each, C_BAD_STE for the invalid one). A stage-2-only stream (VMID
 * 7) translates through its table, its walk served by the stage-2 walk
 * caches; TLBI_S2_IPA of its page drops it from the micro TLB: the next
 * access misses it.
 */
void test_smmuv3_stream_configs(void)
{
    struct fixture f;
    struct smmuv3_cfg c;
    struct pgtable s2;
    struct iommu *byp, *abt, *inv, *st2;
    struct smmuv3_ste ste;
    struct smmuv3_event ev;
    struct smmuv3_cmd cmd;
    struct iommu_req r;
    char err[256];
    sim_tick_t lat;

    cfg_default(&c);
    setup(&f, &c);
    CU_ASSERT_EQUAL_FATAL(smmuv3_ifc_get(&f.s, 1, &byp, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(smmuv3_ifc_get(&f.s, 2, &abt, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(smmuv3_ifc_get(&f.s, 3, &inv, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(smmuv3_ifc_get(&f.s, 4, &st2, err, sizeof(err)), 0);
    memset(&ste, 0, sizeof(ste));
    ste.config = SMMUV3_STE_BYPASS;
    CU_ASSERT_EQUAL(smmuv3_ste_set(&f.s, 1, &ste), 0);
    ste.config = SMMUV3_STE_ABORT;
    CU_ASSERT_EQUAL(smmuv3_ste_set(&f.s, 2, &ste), 0);
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&s2, 4, 0x1000, UINT64_C(0x100000000)), 0);
    CU_ASSERT_EQUAL(pgtable_map(&s2, 0x40000, UINT64_C(0x90000000), 0x1000, IOMMU_RW), 0);
    ste.config = SMMUV3_STE_S2;
    ste.vmid = 7;
    ste.s2 = &s2;
    CU_ASSERT_EQUAL(smmuv3_ste_set(&f.s, 4, &ste), 0);

    lat = xlate(&f, byp, 0x123456000, IOMMU_WO, &r);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x123456000));
    CU_ASSERT_EQUAL(lat, IFC + CFG + M + IFC);
    CU_ASSERT_EQUAL(f.s.st.bypass, 1);
    xlate(&f, abt, 0x1000, IOMMU_RO, &r);
    CU_ASSERT_EQUAL(r.status, SIM_EFAULT);
    CU_ASSERT_EQUAL(f.s.st.aborts, 1);
    xlate(&f, inv, 0x1000, IOMMU_RO, &r);
    CU_ASSERT_EQUAL(r.status, SIM_EFAULT);
    CU_ASSERT_TRUE(smmuv3_evtq_pop(&f.s, &ev));
    CU_ASSERT_EQUAL(ev.type, SMMUV3_EVT_F_STE_ABORT);
    CU_ASSERT_TRUE(smmuv3_evtq_pop(&f.s, &ev));
    CU_ASSERT_EQUAL(ev.type, SMMUV3_EVT_C_BAD_STE);
    CU_ASSERT_EQUAL(ev.sid, 3);
    CU_ASSERT_EQUAL(f.s.st.terminated, 2);

    xlate(&f, st2, 0x40000, IOMMU_RO, &r);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x90000000));
    /* A stage-2-only walk looks up the stage-2 walk caches (S2L2, S2L1,
     * S2L0: 3 lookups, cold), none of the stage-1 ones. */
    CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[1][3], 1);
    CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[1][1], 1);
    CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[0][3], 0);
    lat = xlate(&f, st2, 0x40000, IOMMU_RO, NULL);
    CU_ASSERT_EQUAL(lat, U);
    memset(&cmd, 0, sizeof(cmd));
    cmd.type = SMMUV3_CMD_TLBI_S2_IPA;
    cmd.vmid = 7;
    cmd.addr = 0x40000;
    smmuv3_cmdq_submit(&f.s, &cmd, 1, sim_now(&f.sim));
    sim_run(&f.sim);
    lat = xlate(&f, st2, 0x40000, IOMMU_RO, NULL);
    CU_ASSERT(lat > U + T);
    teardown(&f);
    pgtable_destroy(&s2);
}

/*
 * Slots: one SMMU translation slot, two concurrent misses (A = 0x1000,
 * B = 0x2000, issued together). Both reach the SMMU at U + T + IFC; A takes
 * the slot and answers (frees it) at
 *   tA = U + T + IFC + CFG + 2M + STLB + WC + 4M,
 * completing at tA + IFC. B waits (one slot wait), then runs with the
 * config cached and S1L2 filled by A's walk: tA + CFG + STLB + WC + M,
 * completing IFC later. With one page-walk slot instead (and 64 SMMU
 * slots), B finds the config A's lookups just filled, so B reaches its walk
 * first, at s = U + T + IFC + CFG + STLB + WC, and walks cold (4 reads) to
 * s + 4M; A asks for the walker at s + 2M (after its 2 config reads),
 * waits, starts at s + 4M with S1L2 filled by B's walk: 1 read, s + 5M.
 */
void test_smmuv3_slots(void)
{
    for (int ptw = 0; ptw < 2; ptw++) {
        struct fixture f;
        struct smmuv3_cfg c;
        struct pgtable pt;
        struct iommu *mmu;
        struct iommu_req a, b;
        const sim_tick_t tA = U + T + IFC + CFG + 2 * M + STLB + WC + 4 * M;

        cfg_default(&c);
        if (ptw)
            c.ptw_slots = 1;
        else
            c.xlate_slots = 1;
        setup(&f, &c);
        CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, UINT64_C(0x100000000)), 0);
        CU_ASSERT_EQUAL(pgtable_map(&pt, 0, UINT64_C(0x80000000), 0x10000, IOMMU_RW), 0);
        mmu = stage1_stream(&f, &pt);
        memset(&a, 0, sizeof(a));
        a.iova = 0x1000;
        a.access = IOMMU_RO;
        a.done = done_cb;
        b = a;
        b.iova = 0x2000;
        CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &a), 0);
        CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &b), 0);
        sim_run(&f.sim);
        CU_ASSERT_EQUAL(a.status, 0);
        CU_ASSERT_EQUAL(b.status, 0);
        if (!ptw) {
            CU_ASSERT_EQUAL(a.completed, tA + IFC);
            CU_ASSERT_EQUAL(b.completed, tA + CFG + STLB + WC + M + IFC);
            CU_ASSERT_EQUAL(f.s.st.xlate_slot_waits, 1);
        } else {
            const sim_tick_t s0 = U + T + IFC + CFG + STLB + WC;

            CU_ASSERT_EQUAL(b.completed, s0 + 4 * M + IFC);
            CU_ASSERT_EQUAL(a.completed - a.issued, s0 + 5 * M + IFC);
            CU_ASSERT_EQUAL(f.s.st.xlate_slot_waits, 0);
            CU_ASSERT_EQUAL(f.s.walker.slots.st.requests, 2);
            CU_ASSERT_EQUAL(f.s.walker.slots.st.immediate, 1);
        }
        CU_ASSERT_EQUAL(f.s.st.walk_reads, 5);
        teardown(&f);
        pgtable_destroy(&pt);
    }
}

struct race {
    struct fixture *f;
    struct pgtable *pt;
    struct sim_event ev;
    sim_tick_t sync_done;
};

/* Software, while the walk is in flight: unmap, TLBI_NH_VA, SYNC. */
static void race_unmap(struct sim_event *ev, void *arg)
{
    struct race *r = arg;
    struct smmuv3_cmd cmds[2];

    (void)ev;
    CU_ASSERT_EQUAL(pgtable_unmap(r->pt, 0x1000, 0x1000, NULL, NULL, NULL), 0);
    memset(cmds, 0, sizeof(cmds));
    cmds[0].type = SMMUV3_CMD_TLBI_NH_VA;
    cmds[0].asid = 5;
    cmds[0].addr = 0x1000;
    cmds[1].type = SMMUV3_CMD_SYNC;
    r->sync_done = smmuv3_cmdq_submit(&r->f->s, cmds, 2, sim_now(&r->f->sim));
}

/*
 * A walk in flight across an invalidation: the walk of page 1 reads the
 * tables when it starts, at tw = U + T + IFC + CFG + 2M + STLB + WC, and
 * ends 4M later. At tw + 50 ns software unmaps the page and queues
 * TLBI_NH_VA (10 ns) + SYNC (10 ns): the sync completes at tw + 70 ns,
 * before the walk ends. The transaction itself was issued before the
 * invalidation and may use the old translation (it completes OK); but its
 * answer must not land in any TLB, or the next access, after the sync,
 * would hit it: that access walks and faults.
 */
void test_smmuv3_walk_across_invalidation(void)
{
    struct fixture f;
    struct smmuv3_cfg c;
    struct pgtable pt;
    struct iommu *mmu;
    struct iommu_req r;
    struct race rc;
    const sim_tick_t tw = U + T + IFC + CFG + 2 * M + STLB + WC;

    cfg_default(&c);
    c.cmd_time[SMMUV3_CMD_TLBI_NH_VA] = 10 * NS;
    c.cmd_time[SMMUV3_CMD_SYNC] = 10 * NS;
    setup(&f, &c);
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, UINT64_C(0x100000000)), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0x1000, UINT64_C(0x80001000), 0x1000, IOMMU_RW), 0);
    mmu = stage1_stream(&f, &pt);
    rc.f = &f;
    rc.pt = &pt;
    rc.sync_done = 0;
    sim_event_init(&rc.ev, race_unmap, &rc, SIM_PRIO_DEFAULT);
    sim_event_schedule(&f.sim, &rc.ev, tw + 50 * NS);
    xlate(&f, mmu, 0x1000, IOMMU_RO, &r);
    CU_ASSERT_EQUAL(rc.sync_done, tw + 70 * NS);
    CU_ASSERT_EQUAL(r.status, 0);                   /* in flight: old translation */
    CU_ASSERT_EQUAL(r.completed, tw + 4 * M + IFC);
    CU_ASSERT(r.completed > rc.sync_done);
    xlate(&f, mmu, 0x1000, IOMMU_RO, &r);
    CU_ASSERT_EQUAL(r.status, SIM_EFAULT);
    CU_ASSERT_EQUAL(smmuv3_ifc_of(mmu)->utlb.st.hits, 0);
    CU_ASSERT_EQUAL(smmuv3_ifc_of(mmu)->tlb.st.hits, 0);
    CU_ASSERT_EQUAL(f.s.smmu_tlb.st.hits, 0);
    teardown(&f);
    pgtable_destroy(&pt);
}

/*
 * The IPA cache (gem5's ipa_cache_*): stage-2 results of nested walks. Walk
 * caches and the SMMU TLB off, so every count below follows from the tables.
 * Stage 1: tables T0 (root), T1, T2, T3 in 4 distinct 4 KiB IPA pages (stage
 * 2 maps them with 4 KiB pages), 0x1000..0x3fff -> IPA 0x80000000.., 1 GiB ->
 * IPA 0x80001000 (same T0 and T1, new T2', T3'). Stage 2: 4 levels. A
 * stage-2 sub-walk is 4 reads; an IPA cache hit replaces it by none. IPA
 * cache: 8 entries, fully associative LRU (never full here).
 *   1 0x1000  T0..T3 miss (4 x (4 + 1)), final IPA 0x80000000 miss (4): 24
 *             reads, 5 lookups, 0 hits
 *   2 0x2000  T0..T3 hit (4 x 1), IPA 0x80001000 miss (4): 8; 5 lookups, 4 hits
 *   3 1 GiB   T0, T1 hit (2 x 1), T2', T3' miss (2 x 5), IPA 0x80001000 hit: 12;
 *             5 lookups, 3 hits
 *   4 TLBI_S2_IPA (clears the IPA cache), then 0x3000: cold again, 24 reads,
 *             5 lookups, 0 hits
 * With the cache: 68 reads, 20 lookups, 7 hits. Without: 4 x 24 = 96, so 28
 * reads saved. The lookup latency is paid once per nested walk: step 1
 * (same reads either way) is exactly IPA_LAT slower with the cache, step 2
 * IPA_LAT - 16 reads faster.
 */
void test_smmuv3_ipa_cache(void)
{
    const sim_tick_t IPA_LAT = 3 * NS;
    sim_tick_t lat[2][4];
    uint64_t reads[2];

    for (int on = 0; on < 2; on++) {
        static const uint64_t iova[4] = { 0x1000, 0x2000, UINT64_C(1) << 30, 0x3000 };
        static const uint64_t pa[4] = { UINT64_C(0x400000000), UINT64_C(0x400001000),
                                        UINT64_C(0x400001000), UINT64_C(0x400002000) };
        struct fixture f;
        struct smmuv3_cfg c;
        struct pgtable s1, s2;
        struct smmuv3_ste ste = { SMMUV3_STE_NESTED, 3, NULL, false };
        struct smmuv3_cd cd = { true, 9, NULL };
        struct smmuv3_cmd cmd;
        struct iommu *mmu;
        struct iommu_req r;
        char err[256];

        cfg_default(&c);
        c.smmu_tlb.enable = false;
        c.wc_enable = false;
        c.ipa_cache = (struct smmuv3_cache_cfg){ on != 0, 8, 0, IOTLB_LRU, IPA_LAT, 0 };
        setup(&f, &c);
        CU_ASSERT_EQUAL_FATAL(pgtable_init(&s1, 4, 0x1000, UINT64_C(0x10000000)), 0);
        CU_ASSERT_EQUAL_FATAL(pgtable_init(&s2, 4, 0x1000, UINT64_C(0x200000000)), 0);
        CU_ASSERT_EQUAL(pgtable_map(&s1, 0x1000, UINT64_C(0x80000000), 0x3000, IOMMU_RW), 0);
        CU_ASSERT_EQUAL(pgtable_map(&s1, UINT64_C(1) << 30, UINT64_C(0x80001000), 0x1000,
                                    IOMMU_RW), 0);
        CU_ASSERT_EQUAL(pgtable_map(&s2, UINT64_C(0x10000000), UINT64_C(0x300000000),
                                    UINT64_C(0x200000), IOMMU_RW), 0);
        CU_ASSERT_EQUAL(pgtable_map(&s2, UINT64_C(0x80000000), UINT64_C(0x400000000),
                                    0x4000, IOMMU_RW), 0);
        ste.s2 = &s2;
        cd.tt = &s1;
        CU_ASSERT_EQUAL_FATAL(smmuv3_ifc_get(&f.s, 1, &mmu, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL(smmuv3_ste_set(&f.s, 1, &ste), 0);
        CU_ASSERT_EQUAL(smmuv3_cd_set(&f.s, 1, 0, &cd), 0);
        for (int i = 0; i < 4; i++) {
            uint64_t before = f.s.st.walk_reads;
            static const uint64_t want_on[4] = { 24, 8, 12, 24 };

            if (i == 3) {
                memset(&cmd, 0, sizeof(cmd));
                cmd.type = SMMUV3_CMD_TLBI_S2_IPA;
                cmd.vmid = 3;
                cmd.addr = UINT64_C(0x80000000);
                cmd.size = 0x4000;
                smmuv3_cmdq_submit(&f.s, &cmd, 1, sim_now(&f.sim));
                sim_run(&f.sim);
            }
            lat[on][i] = xlate(&f, mmu, iova[i], IOMMU_RO, &r);
            CU_ASSERT_EQUAL(r.status, 0);
            CU_ASSERT_EQUAL(r.entry.translated_addr, pa[i]);
            CU_ASSERT_EQUAL(f.s.st.walk_reads - before, on ? want_on[i] : 24);
        }
        CU_ASSERT_EQUAL(f.s.st.walks, 4);
        CU_ASSERT_EQUAL(f.s.walker.st.ipa_lookups, on ? 20 : 0);
        CU_ASSERT_EQUAL(f.s.walker.st.ipa_hits, on ? 7 : 0);
        reads[on] = f.s.st.walk_reads;
        teardown(&f);
        pgtable_destroy(&s1);
        pgtable_destroy(&s2);
    }
    CU_ASSERT_EQUAL(reads[0], 96);
    CU_ASSERT_EQUAL(reads[1], 68);
    CU_ASSERT_EQUAL(reads[0] - reads[1], 28);
    CU_ASSERT_EQUAL(lat[1][0], lat[0][0] + IPA_LAT);
    CU_ASSERT_EQUAL(lat[1][1] + 16 * M, lat[0][1] + IPA_LAT);
}
