/*
 * test_amdvi_levels.c - AMD-Vi level skipping in 3- to 6-level tables
 * (issue 10's validation case: "a 2 MiB mapping reached through skipped
 * levels takes the number of reads the table layout implies"), beyond the
 * 4-level case of test_amdvi.c.
 *
 * The layout, from the AMD-Vi format (docs/models/amdvi.md): a table at
 * level k is indexed by IOVA bits 12 + 9(k-1) .. 12 + 9k - 1; a leaf at
 * level 1/2/3 maps 4 KiB/2 MiB/1 GiB. A walk reads one entry per table it
 * visits. Without skipping, a leaf at level t in an L-level table is
 * reached through every level L .. t: L - t + 1 reads. With skip_levels, a
 * fresh table's root PDE points straight at the table that holds the leaf
 * when the IOVA bits of every level in between are zero: 2 reads whatever
 * L, or 1 when the root holds the leaf itself. A cold timed request costs
 * the IOTLB lookup, the DTE read and the walk.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/models/amdvi.h"

void test_amdvi_levels_skip_2m_1g_4k(void);
void test_amdvi_levels_skipped_bits_fault(void);
void test_amdvi_levels_reinsert_one_level_at_a_time(void);

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define HIT 1000u
#define READ 50000u

static void make(struct sim *s, struct amdvi *v, unsigned levels, bool skip)
{
    struct amdvi_cfg c;
    char err[256];

    memset(&c, 0, sizeof(c));
    c.levels = levels;
    c.pgsize_bitmap = 0x1000 | (2 * MiB) | GiB;
    c.skip_levels = skip;
    c.iotlb.arr[0].entries = 64;
    c.iotlb.arr[0].ways = 64;
    c.iotlb.mshrs = 1;
    c.iotlb.path = "amdvi.iotlb";
    c.pdc_entries = 0;              /* every walk from the root */
    c.hit_latency = HIT;
    c.read_latency = READ;
    c.max_domains = 4;
    c.max_devices = 4;
    c.path = "amdvi";
    sim_init(s);
    CU_ASSERT_EQUAL_FATAL(amdvi_create(v, s, &c, err, sizeof(err)), 0);
}

static void done_cb(struct iommu_req *r)
{
    (void)r;
}

/* One cold timed read of @iova; returns its issue-to-completion time. */
static sim_tick_t timed(struct sim *s, struct iommu *as, uint64_t iova, int *status)
{
    struct iommu_req q;

    memset(&q, 0, sizeof(q));
    q.iova = iova;
    q.access = IOMMU_RO;
    q.done = done_cb;
    CU_ASSERT_EQUAL(iommu_translate_timed(as, &q), 0);
    sim_run(s);
    *status = q.status;
    return q.completed - q.issued;
}

/*
 * For L = 3..6, skipping off and on, each in its own domain (so each table
 * is fresh): a 2 MiB page at IOVA 2 MiB (leaf level 2), a 1 GiB page at
 * IOVA 1 GiB (level 3: in a 3-level table the root's own entry) and a 4 KiB page at IOVA 4 KiB (level 1). Every higher
 * level's index is zero for these IOVAs. Reads: L - t + 1 without skipping,
 * min(2, L - t + 1) with it; a skipping PDE exists iff that is fewer
 * (t < L - 1). The first timed request of a device also reads its DTE.
 */
void test_amdvi_levels_skip_2m_1g_4k(void)
{
    static const struct { uint64_t iova, size; unsigned leaf; } pages[] = {
        { 2 * MiB, 2 * MiB, 2 }, { GiB, GiB, 3 }, { 0x1000, 0x1000, 1 },
    };

    for (unsigned levels = 3; levels <= 6; levels++) {
        for (int skip = 0; skip < 2; skip++) {
            struct sim s;
            struct amdvi v;
            uint64_t skipped = 0, reads_sum = 0;

            make(&s, &v, levels, skip);
            for (unsigned p = 0; p < 3; p++) {
                unsigned t = pages[p].leaf;
                unsigned full = levels - t + 1, want = skip && full > 2 ? 2 : full;
                struct iommu_domain *d;
                struct iommu *as;
                char err[256];
                sim_tick_t done, lat;
                int st;

                CU_ASSERT_EQUAL_FATAL(amdvi_domain_get(&v, p, &d, err, sizeof(err)), 0);
                CU_ASSERT_EQUAL_FATAL(amdvi_attach(&v, p, p, &as, err, sizeof(err)), 0);
                CU_ASSERT_EQUAL_FATAL(iommu_domain_map(d, pages[p].iova, 8 * GiB,
                                                       pages[p].size, IOMMU_RW, 0, &done), 0);
                CU_ASSERT_EQUAL(iommu_domain_lookup(d, pages[p].iova).addr_mask,
                                pages[p].size - 1);
                skipped += skip && t < levels - 1;
                CU_ASSERT_EQUAL(v.st.skipped_pdes, skipped);
                lat = timed(&s, as, pages[p].iova + 0x18, &st);
                CU_ASSERT_EQUAL(st, 0);
                CU_ASSERT_EQUAL(lat, HIT + READ + (sim_tick_t)want * READ);
                reads_sum += want;
                CU_ASSERT_EQUAL(v.st.walk_reads, reads_sum);
                CU_ASSERT_EQUAL(amdvi_walk_reads(&v, p, pages[p].iova), want);
                /* Warm: an IOTLB hit, no read. */
                CU_ASSERT_EQUAL(timed(&s, as, pages[p].iova + 0x40, &st), HIT);
                CU_ASSERT_EQUAL(v.st.walk_reads, reads_sum);
            }
            amdvi_destroy(&v);
            sim_destroy(&s);
        }
    }
}

/*
 * Under a skipping PDE the IOVA bits of the skipped levels must be zero
 * (the format's rule), else the access faults: in a 6-level table whose
 * root points straight at the level-2 table (levels 5, 4 and 3 skipped),
 * IOVA 2 MiB translates, but 2 MiB plus one bit of level 5, 4 or 3 (which
 * the level-2 table would otherwise index as the same page) faults, in
 * translate() and on the timed path alike.
 */
void test_amdvi_levels_skipped_bits_fault(void)
{
    static const unsigned bits[] = { 48, 39, 30 };     /* lowest bit of level 5, 4, 3 */
    struct sim s;
    struct amdvi v;
    struct iommu_domain *d;
    struct iommu *as;
    char err[256];
    sim_tick_t done;
    int st;

    make(&s, &v, 6, true);
    CU_ASSERT_EQUAL_FATAL(amdvi_domain_get(&v, 0, &d, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(amdvi_attach(&v, 0, 0, &as, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(iommu_domain_map(d, 2 * MiB, 8 * GiB, 2 * MiB, IOMMU_RW, 0, &done),
                          0);
    CU_ASSERT_EQUAL(v.st.skipped_pdes, 1);
    CU_ASSERT_EQUAL(iommu_translate(as, 2 * MiB + 7, IOMMU_RO, 0).translated_addr, 8 * GiB);
    for (unsigned i = 0; i < 3; i++) {
        uint64_t iova = 2 * MiB + (UINT64_C(1) << bits[i]);

        CU_ASSERT_EQUAL(iommu_translate(as, iova, IOMMU_RO, 0).perm, IOMMU_NONE);
        timed(&s, as, iova, &st);
        CU_ASSERT_EQUAL(st, SIM_EFAULT);
    }
    amdvi_destroy(&v);
    sim_destroy(&s);
}

/*
 * A map that needs a level a PDE skips puts back the level just below that
 * PDE (its entry 0 takes the old table, whose IOVAs have zero bits there),
 * then goes on down: one level at a time, until its path leaves the old
 * table's (docs/models/amdvi.md). 6 levels, skipping: a 2 MiB page at
 * IOVA 2 MiB gives L6[0] -> L2 (one skipping PDE, 2 reads). A 4 KiB page
 * at IOVA 2^39 (level-4 index 1, level-5 and level-3 indexes 0) needs
 * level 4: L5 is put back under L6[0] (L5[0] -> L2 still skips), then L4
 * under L5[0] (L4[0] -> L2 skips L3); the path leaves at L4[1], a new PDE
 * that skips L3 and L2 to a level-1 table. Both pages are then 4 reads
 * (L6, L5, L4 and the leaf's table) with 2 skipping PDEs; without skipping
 * 5 and 6 reads, none skipping.
 */
void test_amdvi_levels_reinsert_one_level_at_a_time(void)
{
    for (int skip = 0; skip < 2; skip++) {
        struct sim s;
        struct amdvi v;
        struct iommu_domain *d;
        struct iommu *as;
        char err[256];
        sim_tick_t done;
        const uint64_t far = UINT64_C(1) << 39;

        make(&s, &v, 6, skip);
        CU_ASSERT_EQUAL_FATAL(amdvi_domain_get(&v, 0, &d, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL_FATAL(amdvi_attach(&v, 0, 0, &as, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL_FATAL(iommu_domain_map(d, 2 * MiB, 8 * GiB, 2 * MiB, IOMMU_RW, 0,
                                               &done), 0);
        CU_ASSERT_EQUAL(amdvi_walk_reads(&v, 0, 2 * MiB), skip ? 2 : 5);
        CU_ASSERT_EQUAL_FATAL(iommu_domain_map(d, far, 16 * GiB, 0x1000, IOMMU_RW, 0, &done),
                              0);
        CU_ASSERT_EQUAL(amdvi_walk_reads(&v, 0, 2 * MiB), skip ? 4 : 5);
        CU_ASSERT_EQUAL(amdvi_walk_reads(&v, 0, far), skip ? 4 : 6);
        CU_ASSERT_EQUAL(v.st.skipped_pdes, skip ? 2 : 0);
        CU_ASSERT_EQUAL(iommu_translate(as, 2 * MiB + 3, IOMMU_RO, 0).translated_addr,
                        8 * GiB);
        CU_ASSERT_EQUAL(iommu_translate(as, far + 5, IOMMU_RO, 0).translated_addr, 16 * GiB);
        amdvi_destroy(&v);
        sim_destroy(&s);
    }
}
