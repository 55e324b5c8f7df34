/*
 * test_smmuv3_granule.c - SMMUv3 walks with the 4 KiB, 16 KiB and 64 KiB
 * translation granules (CD.TG0, STE.S2TG; Arm DDI 0487 VMSAv8-64 lookup
 * levels), what the OS's domains do with them, and gem5's L3 walk caches
 * (walk_S1L3: leaf entries, enabled by bit 3 of wc_s1_levels).
 *
 * Every expected number is derived in the comments. The table geometry at
 * 48-bit inputs: 4K -> 4 levels (L0..L3), 16K -> 4 levels (L0 has 2
 * entries), 64K -> 3 levels (L1..L3). A walk reads one entry per level not
 * skipped by a walk cache; a nested walk translates every stage-1 table
 * address and the final IPA through stage 2 first.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/models/smmuv3.h"
#include "os/dma.h"

void test_smmuv3_granule_s1_cold_walks(void);
void test_smmuv3_granule_nested_cold_walks(void);
void test_smmuv3_granule_64k_block(void);
void test_smmuv3_granule_64k_pwc_sharing(void);
void test_smmuv3_granule_os_domain(void);
void test_smmuv3_granule_bad_config(void);
void test_smmuv3_l3_walk_cache(void);
void test_smmuv3_granule_tlb_reach(void);

#define NS 1000u                    /* ticks are picoseconds */
#define M (100 * NS)                /* one memory read */
#define K64 UINT64_C(0x10000)
#define M512 UINT64_C(0x20000000)

struct fixture {
    struct sim sim;
    struct mem mem;
    struct smmuv3 s;
};

static void cfg_default(struct smmuv3_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->utlb = (struct smmuv3_cache_cfg){ true, 2, 0, IOTLB_LRU, NS, 0 };
    c->tlb = (struct smmuv3_cache_cfg){ true, 4, 0, IOTLB_LRU, 3 * NS, 0 };
    c->cfg_cache = (struct smmuv3_cache_cfg){ true, 4, 0, IOTLB_LRU, 3 * NS, 0 };
    c->wc_enable = true;
    for (unsigned st = 0; st < 2; st++)
        for (unsigned l = 0; l < 3; l++)
            c->wc_entries[st][l] = 4;
    c->wc_levels[0] = c->wc_levels[1] = 7;
    c->wc_policy = IOTLB_LRU;
    c->wc_lat = 4 * NS;
    c->ifc_slots = 16;
    c->xlate_slots = 64;
    c->ptw_slots = 16;
    c->ifc_smmu_lat = c->smmu_ifc_lat = 8 * NS;
    c->max_streams = 8;
    c->ssids_per_stream = 1;
    c->strtab_base = UINT64_C(0x7000000000);
    c->cdtab_base = UINT64_C(0x7100000000);
    c->evtq_entries = 16;
    c->cmdq_entries = 128;
    c->path = "smmu";
}

static int setup(struct fixture *f, const struct smmuv3_cfg *c, char *err, size_t errlen)
{
    struct mem_cfg mc;
    int r;

    sim_init(&f->sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = M;
    mc.channels = 1;
    mc.interleave = 4096;
    mc.path = "mem";
    CU_ASSERT_EQUAL_FATAL(mem_init(&f->mem, &f->sim, &mc, err, errlen), 0);
    r = smmuv3_create(&f->s, &f->sim, &f->mem, c, err, errlen);
    if (r) {
        mem_destroy(&f->mem);
        sim_destroy(&f->sim);
    }
    return r;
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

static void xlate(struct fixture *f, struct iommu *mmu, uint64_t iova, struct iommu_req *out)
{
    memset(out, 0, sizeof(*out));
    out->iova = iova;
    out->access = IOMMU_RO;
    out->done = done_cb;
    CU_ASSERT_EQUAL(iommu_translate_timed(mmu, out), 0);
    sim_run(&f->sim);
}

/* A stage-1 stream 1 over @tt (ASID 5). */
static struct iommu *s1_stream(struct fixture *f, const struct pgtable *tt)
{
    struct smmuv3_ste ste = { SMMUV3_STE_S1, 0, NULL, false };
    struct smmuv3_cd cd = { true, 5, tt };
    struct iommu *mmu;
    char err[256];

    CU_ASSERT_EQUAL_FATAL(smmuv3_ifc_get(&f->s, 1, &mmu, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(smmuv3_ste_set(&f->s, 1, &ste), 0);
    CU_ASSERT_EQUAL(smmuv3_cd_set(&f->s, 1, 0, &cd), 0);
    return mmu;
}

/* A stage-1 stream over an empty table of granule @g with page sizes
 * @pgsizes, in a fresh SMMU of the default config. */
static struct iommu *s1_setup(struct fixture *f, struct pgtable *pt, uint64_t g,
                              uint64_t pgsizes)
{
    struct smmuv3_cfg c;
    char err[256];

    cfg_default(&c);
    CU_ASSERT_EQUAL_FATAL(setup(f, &c, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(pgtable_init_granule(pt, g, 48, pgsizes, UINT64_C(0x100000000)), 0);
    return s1_stream(f, pt);
}

/*
 * Cold stage-1 walks at 48-bit inputs, one page of the granule mapped:
 * 4K: ceil(36 / 9) = 4 levels -> 4 reads; 16K: ceil(34 / 11) = 4 -> 4
 * reads; 64K: ceil(32 / 13) = 3 -> 3 reads. The answer is the page of the
 * granule (addr_mask = granule - 1).
 */
void test_smmuv3_granule_s1_cold_walks(void)
{
    static const struct { uint64_t g; unsigned reads; } cases[] = {
        { 4096, 4 }, { 16384, 4 }, { 65536, 3 },
    };

    for (unsigned i = 0; i < 3; i++) {
        struct fixture f;
        struct pgtable pt;
        struct iommu_req r;
        uint64_t g = cases[i].g;
        struct iommu *mmu = s1_setup(&f, &pt, g, g);

        CU_ASSERT_EQUAL(pgtable_map(&pt, 3 * g, UINT64_C(0x50000000), g, IOMMU_RW), 0);
        xlate(&f, mmu, 3 * g + 8, &r);
        CU_ASSERT_EQUAL(r.status, 0);
        CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x50000000));
        CU_ASSERT_EQUAL(r.entry.addr_mask, g - 1);
        CU_ASSERT_EQUAL(f.s.st.walks, 1);
        CU_ASSERT_EQUAL(f.s.st.walk_reads, cases[i].reads);
        teardown(&f);
        pgtable_destroy(&pt);
    }
}

/*
 * Nested, cold caches (walk caches on but empty; no IPA cache): each of the
 * n1 stage-1 reads needs its table's IPA translated by a full stage-2 walk
 * of n2 reads, then is read itself; then the final IPA takes one more
 * stage-2 walk: n1 x n2 + n1 + n2 = (n1 + 1) x n2 + n1 reads.
 *   4K over 4K:   (4 + 1) x 4 + 4 = 24
 *   16K over 16K: (4 + 1) x 4 + 4 = 24
 *   64K over 64K: (3 + 1) x 3 + 3 = 15
 *   4K over 64K:  (4 + 1) x 3 + 4 = 19
 *   64K over 4K:  (3 + 1) x 4 + 3 = 19
 * Stage 2 maps with pages of its granule only (no blocks), so every
 * stage-2 walk is n2 reads deep.
 */
void test_smmuv3_granule_nested_cold_walks(void)
{
    static const struct { uint64_t g1, g2; unsigned reads; } cases[] = {
        { 4096, 4096, 24 }, { 16384, 16384, 24 }, { 65536, 65536, 15 },
        { 4096, 65536, 19 }, { 65536, 4096, 19 },
    };

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fixture f;
        struct smmuv3_cfg c;
        struct pgtable s1, s2;
        struct smmuv3_ste ste = { SMMUV3_STE_NESTED, 3, NULL, false };
        struct smmuv3_cd cd = { true, 9, NULL };
        struct iommu *mmu;
        struct iommu_req r;
        uint64_t g1 = cases[i].g1, g2 = cases[i].g2;
        char err[256];

        cfg_default(&c);
        CU_ASSERT_EQUAL_FATAL(setup(&f, &c, err, sizeof(err)), 0);
        /* Stage-1 tables at IPA 0x10000000 (a 64K-aligned base), at most 3
         * nodes of at most 64 KiB: inside the 2 MiB stage 2 maps there. */
        CU_ASSERT_EQUAL_FATAL(pgtable_init_granule(&s1, g1, 48, g1, UINT64_C(0x10000000)), 0);
        CU_ASSERT_EQUAL_FATAL(pgtable_init_granule(&s2, g2, 48, g2, UINT64_C(0x200000000)), 0);
        CU_ASSERT_EQUAL(pgtable_map(&s1, g1, UINT64_C(0x80000000), g1, IOMMU_RW), 0);
        CU_ASSERT_EQUAL(pgtable_map(&s2, UINT64_C(0x10000000), UINT64_C(0x300000000),
                                    UINT64_C(0x200000), IOMMU_RW), 0);
        CU_ASSERT_EQUAL(pgtable_map(&s2, UINT64_C(0x80000000), UINT64_C(0x400000000),
                                    K64, IOMMU_RW), 0);
        ste.s2 = &s2;
        cd.tt = &s1;
        CU_ASSERT_EQUAL_FATAL(smmuv3_ifc_get(&f.s, 1, &mmu, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL(smmuv3_ste_set(&f.s, 1, &ste), 0);
        CU_ASSERT_EQUAL(smmuv3_cd_set(&f.s, 1, 0, &cd), 0);
        xlate(&f, mmu, g1 + 0x10, &r);
        CU_ASSERT_EQUAL(r.status, 0);
        CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x400000000));
        /* The combined page is the smaller of the two stages' pages. */
        CU_ASSERT_EQUAL(r.entry.addr_mask, (g1 < g2 ? g1 : g2) - 1);
        CU_ASSERT_EQUAL(f.s.st.walk_reads, cases[i].reads);
        teardown(&f);
        pgtable_destroy(&s1);
        pgtable_destroy(&s2);
    }
}

/*
 * A 512 MiB block under the 64K granule is a level-2 leaf (L2 in Arm terms):
 * the walk reads the L1 entry and the L2 block entry, 2 reads. An access
 * 300 MiB further is inside the block: the same output block, offset kept.
 */
void test_smmuv3_granule_64k_block(void)
{
    struct fixture f;
    struct pgtable pt;
    struct iommu_req r;
    struct iommu *mmu = s1_setup(&f, &pt, K64, K64 | M512);
    uint64_t pa;

    CU_ASSERT_EQUAL(pgtable_map(&pt, 2 * M512, 6 * M512, M512, IOMMU_RW), 0);
    xlate(&f, mmu, 2 * M512 + 0x123450, &r);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(r.entry.translated_addr, 6 * M512);
    CU_ASSERT_EQUAL(r.entry.addr_mask, M512 - 1);
    CU_ASSERT_EQUAL(f.s.st.walk_reads, 2);
    xlate(&f, mmu, 2 * M512 + (UINT64_C(300) << 20) + 0x40, &r);
    CU_ASSERT_EQUAL(r.status, 0);
    pa = r.entry.translated_addr | ((2 * M512 + (UINT64_C(300) << 20) + 0x40) & r.entry.addr_mask);
    CU_ASSERT_EQUAL(pa, 6 * M512 + (UINT64_C(300) << 20) + 0x40);
    teardown(&f);
    pgtable_destroy(&pt);
}

/*
 * The walk-cache prefix follows the granule: with 64K, the L2 entry is
 * selected by IOVA bits 29..41 and the L3 entry by bits 16..28, so two
 * IOVAs 64 KiB apart (0x10000 and 0x20000) share the L1 and L2 entries
 * and differ only in the last-level entry. First walk: 3 reads, cold. The
 * second (another page: a TLB miss) hits walk_S1L2 (walker PWC index 3 =
 * L2 + 1) and reads 1 entry. Under the 4K granule the same two IOVAs are
 * 16 pages apart, also in one last-level table: 4 then 1 - the control.
 */
void test_smmuv3_granule_64k_pwc_sharing(void)
{
    static const struct { uint64_t g; unsigned cold; } cases[] = { { 65536, 3 }, { 4096, 4 } };

    for (unsigned i = 0; i < 2; i++) {
        struct fixture f;
        struct pgtable pt;
        struct iommu_req r;
        uint64_t g = cases[i].g;
        struct iommu *mmu = s1_setup(&f, &pt, g, g);

        CU_ASSERT_EQUAL(pgtable_map(&pt, 0x10000, UINT64_C(0x50000000), 0x20000, IOMMU_RW),
                        0);
        xlate(&f, mmu, 0x10000, &r);
        CU_ASSERT_EQUAL(r.status, 0);
        CU_ASSERT_EQUAL(f.s.st.walk_reads, cases[i].cold);
        xlate(&f, mmu, 0x20000, &r);
        CU_ASSERT_EQUAL(r.status, 0);
        CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x50010000));
        CU_ASSERT_EQUAL(f.s.st.walks, 2);
        CU_ASSERT_EQUAL(f.s.st.walk_reads, cases[i].cold + 1);
        CU_ASSERT_EQUAL(f.s.walker.st.pwc_hits[0][3], 1);      /* walk_S1L2 */
        /* The 64K walk never looks up L0: its first read is at L1. */
        if (g == 65536)
            CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[0][1], 0);
        teardown(&f);
        pgtable_destroy(&pt);
    }
}

/*
 * The OS's domains follow the granule: a 64 KiB stage-1 domain holds 64K
 * and 512M pages, its stream's smallest page is 64 KiB, and the OS DMA
 * layer allocates and maps IOVAs in 64 KiB units: a 0x20-byte buffer at
 * PA 0x1234fff0 crosses a 64K boundary (offset 0xfff0 + 0x20 > 0x10000),
 * so it takes 2 granules (128 KiB), at the same offset in the granule.
 */
void test_smmuv3_granule_os_domain(void)
{
    struct fixture f;
    struct smmuv3_cfg c;
    struct iommu_domain *dom;
    struct iommu *mmu;
    struct iommu_tlb_entry e;
    struct os_dma d;
    struct os_dma_cfg dc;
    uint64_t bm = 0, iova;
    sim_tick_t done;
    char err[256];

    cfg_default(&c);
    c.granule = 65536;
    CU_ASSERT_EQUAL_FATAL(setup(&f, &c, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(smmuv3_domains_init(&f.s, SMMUV3_STE_S1, 4, 0, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(smmuv3_domain_get(&f.s, 1, &dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(dom->pgsize_bitmap, K64 | M512);
    CU_ASSERT_EQUAL(dom->addr_bits, 48);
    CU_ASSERT_EQUAL_FATAL(smmuv3_attach(&f.s, 2, 1, &mmu, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_get_min_page_size(mmu), K64);
    CU_ASSERT_EQUAL(iommu_get_attr(mmu, IOMMU_ATTR_PGSIZE_BITMAP, &bm), 0);
    CU_ASSERT_EQUAL(bm, K64 | M512);
    /* A 4 KiB map is refused by a 64 KiB domain. */
    CU_ASSERT_EQUAL(iommu_domain_map(dom, 0x1000, 0x1000, 0x1000, IOMMU_RW, 0, &done),
                    SIM_EINVAL);

    memset(&dc, 0, sizeof(dc));
    dc.policy = OS_DMA_STRICT;
    dc.cpus = 1;
    dc.dma_bits = 48;
    dc.path = "dma";
    CU_ASSERT_EQUAL_FATAL(os_dma_init(&d, &f.sim, dom, &dc, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(os_dma_map(&d, 0, UINT64_C(0x1234fff0), 0x20, IOMMU_RW, &iova, &done), 0);
    CU_ASSERT_EQUAL(iova & 0xffff, 0xfff0);
    CU_ASSERT_EQUAL(f.s.st.map_pages, 2);               /* two 64 KiB leaves */
    e = iommu_domain_lookup(dom, iova);
    CU_ASSERT_EQUAL(e.translated_addr, UINT64_C(0x12340000));
    CU_ASSERT_EQUAL(e.addr_mask, K64 - 1);
    e = iommu_domain_lookup(dom, iova + 0x20);
    CU_ASSERT_EQUAL(e.translated_addr, UINT64_C(0x12350000));
    CU_ASSERT_EQUAL(os_dma_unmap(&d, 0, iova, 0x20, &done), 0);
    CU_ASSERT_EQUAL(f.s.st.unmap_pages, 2);
    e = iommu_domain_lookup(dom, iova);
    CU_ASSERT_EQUAL(e.perm, IOMMU_NONE);
    sim_run(&f.sim);                /* no event of the layer left pending */
    os_dma_destroy(&d);
    teardown(&f);
}

/* Granules the architecture lacks are refused with their value named. */
void test_smmuv3_granule_bad_config(void)
{
    struct fixture f;
    struct smmuv3_cfg c;
    char err[256];

    cfg_default(&c);
    c.granule = 8192;
    err[0] = 0;
    CU_ASSERT_EQUAL(setup(&f, &c, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "granule: 8192 bytes is not a translation granule"));
    cfg_default(&c);
    c.s2_granule = 32768;
    err[0] = 0;
    CU_ASSERT_EQUAL(setup(&f, &c, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "s2_granule: 32768 bytes"));
    /* Nested guest memory must be whole stage-2 granules. */
    cfg_default(&c);
    c.s2_granule = 65536;
    CU_ASSERT_EQUAL_FATAL(setup(&f, &c, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(smmuv3_domains_init(&f.s, SMMUV3_STE_NESTED, 4, UINT64_C(0x100001000),
                                        err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "got 4294971392 bytes"));
    teardown(&f);
}

static void tlbi_va_sync(struct fixture *f, uint64_t iova)
{
    struct smmuv3_cmd cmds[2];

    memset(cmds, 0, sizeof(cmds));
    cmds[0].type = SMMUV3_CMD_TLBI_NH_VA;
    cmds[0].asid = 5;
    cmds[0].addr = iova;
    cmds[1].type = SMMUV3_CMD_SYNC;
    smmuv3_cmdq_submit(&f->s, cmds, 2, sim_now(&f->sim));
    sim_run(&f->sim);
}

/*
 * L3 walk cache (gem5 walk_S1L3, wc_s1_levels bit 3): the L3 entry is the
 * page's leaf, so a hit there reads nothing. The TLBs are off so that every
 * access walks; walk caches are 4-entry, fully associative, LRU; 4 KiB
 * pages P0..P4 at 0x10000 + k x 4 KiB share one L3 table. The sequence
 * P0 P0 P1 P2 P3 P4 P0 P4, looking up L3 first, then L2, L1, L0:
 *   P0  cold: misses everywhere, 4 reads; fills L0, L1, L2, L3 = {P0}
 *   P0  L3 hit: 0 reads
 *   P1..P4  L3 miss, L2 hit: 1 read each; L3 fills P1, P2, P3, then P4
 *       evicts the least recently used, P0: L3 = {P1, P2, P3, P4}
 *   P0  L3 miss, L2 hit: 1 read; evicts P1: L3 = {P2, P3, P4, P0}
 *   P4  L3 hit: 0 reads
 * Reads 4 + 0 + 4 x 1 + 1 + 0 = 9; L3 lookups 8, hits 2; L2 lookups 6 (not
 * after an L3 hit), hits 5. With L3 off (gem5's 7): 4 + 7 x 1 = 11 reads and
 * no L3 lookup. Then a TLBI_NH_VA of P4 (and a SYNC) empties the context's
 * L3 entries: P4 reads 1 (L2 hit), P2 too, where both were L3 hits.
 */
void test_smmuv3_l3_walk_cache(void)
{
    static const unsigned seq[] = { 0, 0, 1, 2, 3, 4, 0, 4 };

    for (int l3 = 0; l3 < 2; l3++) {
        struct fixture f;
        struct smmuv3_cfg c;
        struct pgtable pt;
        struct iommu_req r;
        struct iommu *mmu;
        char err[256];
        uint64_t reads;

        cfg_default(&c);
        c.utlb.enable = c.tlb.enable = false;
        for (unsigned st = 0; st < 2; st++)
            c.wc_entries[st][3] = 4;
        c.wc_levels[0] = l3 ? 15 : 7;
        CU_ASSERT_EQUAL_FATAL(setup(&f, &c, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, UINT64_C(0x100000000)), 0);
        CU_ASSERT_EQUAL(pgtable_map(&pt, 0x10000, UINT64_C(0x50000000), 5 * 0x1000, IOMMU_RW),
                        0);
        mmu = s1_stream(&f, &pt);
        for (unsigned i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
            xlate(&f, mmu, 0x10000 + seq[i] * 0x1000, &r);
            CU_ASSERT_EQUAL(r.status, 0);
            CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x50000000) + seq[i] * 0x1000);
        }
        CU_ASSERT_EQUAL(f.s.st.walks, 8);
        CU_ASSERT_EQUAL(f.s.st.walk_reads, l3 ? 9 : 11);
        CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[0][4], l3 ? 8 : 0);
        CU_ASSERT_EQUAL(f.s.walker.st.pwc_hits[0][4], l3 ? 2 : 0);
        CU_ASSERT_EQUAL(f.s.walker.st.pwc_lookups[0][3], l3 ? 6 : 8);
        CU_ASSERT_EQUAL(f.s.walker.st.pwc_hits[0][3], l3 ? 5 : 7);
        if (l3) {
            tlbi_va_sync(&f, 0x10000 + 4 * 0x1000);
            reads = f.s.st.walk_reads;
            xlate(&f, mmu, 0x10000 + 4 * 0x1000, &r);
            xlate(&f, mmu, 0x10000 + 2 * 0x1000, &r);
            CU_ASSERT_EQUAL(f.s.st.walk_reads - reads, 2);
            CU_ASSERT_EQUAL(f.s.walker.st.pwc_hits[0][4], 2);
        }
        teardown(&f);
        pgtable_destroy(&pt);
    }
}

/*
 * TLB reach follows the granule: one TLB entry covers a whole page or block
 * of it. One page of granule g mapped; touching each of its g / 4 KiB
 * pieces in turn walks once (the first) and hits the TLBs for the other
 * g / 4096 - 1, each hit answering with the whole page (addr_mask g - 1).
 * Then a 512 MiB block of the 64 KiB granule: one walk, and an access
 * 256 MiB into it hits. (Cached as 4 KiB pieces, a 64 KiB page would take
 * 16 walks and the block 2.)
 */
void test_smmuv3_granule_tlb_reach(void)
{
    static const uint64_t gs[] = { 4096, 16384, 65536 };

    for (unsigned i = 0; i < 3; i++) {
        struct fixture f;
        struct pgtable pt;
        struct iommu_req r;
        uint64_t g = gs[i];
        struct iommu *mmu = s1_setup(&f, &pt, g, g == K64 ? g | M512 : g);

        CU_ASSERT_EQUAL(pgtable_map(&pt, 5 * g, UINT64_C(0x50000000), g, IOMMU_RW), 0);
        for (uint64_t off = 0; off < g; off += 4096) {
            xlate(&f, mmu, 5 * g + off + 8, &r);
            CU_ASSERT_EQUAL(r.status, 0);
            CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x50000000));
            CU_ASSERT_EQUAL(r.entry.addr_mask, g - 1);
        }
        CU_ASSERT_EQUAL(f.s.st.walks, 1);
        if (g == 65536) {
            CU_ASSERT_EQUAL(pgtable_map(&pt, 2 * M512, UINT64_C(0x80000000), M512, IOMMU_RW), 0);
            xlate(&f, mmu, 2 * M512 + 0x123, &r);
            xlate(&f, mmu, 2 * M512 + M512 / 2 + 0x456, &r);
            CU_ASSERT_EQUAL(r.status, 0);
            CU_ASSERT_EQUAL(r.entry.translated_addr, UINT64_C(0x80000000));
            CU_ASSERT_EQUAL(r.entry.addr_mask, M512 - 1);
            CU_ASSERT_EQUAL(f.s.st.walks, 2);
        }
        teardown(&f);
        pgtable_destroy(&pt);
    }
}
