/*
 * test_pgtable.c - sparse radix page tables.
 *
 * Expected page sizes, node counts and walk lengths are worked out by hand
 * from the radix geometry (9 bits per level above a 12-bit offset); the
 * randomized test checks every lookup against an independent interval list.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "mem/pgtable.h"

void test_pgtable_map_lookup_walk(void);
void test_pgtable_pgsize_choice(void);
void test_pgtable_overlap_rolls_back(void);
void test_pgtable_unmap_frees_and_reports(void);
void test_pgtable_bad_input(void);
void test_pgtable_random_vs_interval_list(void);
void test_pgtable_memory_proportional(void);

#define K4 UINT64_C(0x1000)
#define M2 UINT64_C(0x200000)
#define G1 UINT64_C(0x40000000)
#define ALL_SIZES (K4 | M2 | G1)

void test_pgtable_map_lookup_walk(void)
{
    struct pgtable pt;
    struct pgtable_result r;
    struct pgtable_path p;

    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, ALL_SIZES, 0x100000000ull), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0x7000, 0xabc000, K4, PGTABLE_PERM_R), 0);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0x7123, &r), 0);
    CU_ASSERT_EQUAL(r.translated_addr, 0xabc000);
    CU_ASSERT_EQUAL(r.addr_mask, 0xfff);
    CU_ASSERT_EQUAL(r.perm, PGTABLE_PERM_R);
    CU_ASSERT_EQUAL(r.level, 1);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0x8000, &r), SIM_EFAULT);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0x6fff, &r), SIM_EFAULT);

    /* A 4-level walk to a 4 KiB leaf reads 4 PTEs, root first: the root is
     * node 0 and the index of IOVA 0x7000 at level 1 is 7. */
    CU_ASSERT_EQUAL(pgtable_walk(&pt, 0x7123, &p, &r), 0);
    CU_ASSERT_EQUAL(p.n, 4);
    CU_ASSERT_EQUAL(p.level[0], 4);
    CU_ASSERT_EQUAL(p.level[3], 1);
    CU_ASSERT_EQUAL(p.pte_addr[0], 0x100000000ull);
    CU_ASSERT_EQUAL(p.pte_addr[3] & 0xfff, 7 * 8);
    /* A fault in an empty level-3 slot reads two PTEs (root and level 3). */
    CU_ASSERT_EQUAL(pgtable_walk(&pt, 0x40000000, &p, &r), SIM_EFAULT);
    CU_ASSERT_EQUAL(p.n, 2);

    /* A 1 GiB leaf sits at level 3: a walk of two reads. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, G1 * 3, G1 * 5, G1, PGTABLE_PERM_R | PGTABLE_PERM_W), 0);
    CU_ASSERT_EQUAL(pgtable_walk(&pt, G1 * 3 + 0x12345, &p, &r), 0);
    CU_ASSERT_EQUAL(p.n, 2);
    CU_ASSERT_EQUAL(r.level, 3);
    CU_ASSERT_EQUAL(r.addr_mask, G1 - 1);
    CU_ASSERT_EQUAL(r.translated_addr, G1 * 5);
    CU_ASSERT_EQUAL(r.perm, 3);
    pgtable_destroy(&pt);
}

void test_pgtable_pgsize_choice(void)
{
    struct pgtable pt;
    struct pgtable_result r;

    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, ALL_SIZES, 0), 0);
    /* [0x1ff000, 0x401000): 4 KiB up to the 2 MiB boundary, one 2 MiB page,
     * then 4 KiB: 3 leaves. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0x1ff000, 0x11ff000, M2 + 2 * K4, 1), 0);
    CU_ASSERT_EQUAL(pt.st.leaves, 3);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0x1ff000, &r), 0);
    CU_ASSERT_EQUAL(r.level, 1);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0x300000, &r), 0);
    CU_ASSERT_EQUAL(r.level, 2);
    CU_ASSERT_EQUAL(r.translated_addr, 0x1200000);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0x400000, &r), 0);
    CU_ASSERT_EQUAL(r.level, 1);
    CU_ASSERT_EQUAL(r.translated_addr, 0x1400000);
    pgtable_destroy(&pt);

    /* The same range with pa misaligned for 2 MiB: 514 pages of 4 KiB. */
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, ALL_SIZES, 0), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0x1ff000, 0x1200000, M2 + 2 * K4, 1), 0);
    CU_ASSERT_EQUAL(pt.st.leaves, 514);
    pgtable_destroy(&pt);

    /* Without 2 MiB in the bitmap: 4 KiB pages only, even when aligned. */
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 3, K4 | G1, 0), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, M2, M2, M2, 1), 0);
    CU_ASSERT_EQUAL(pt.st.leaves, 512);
    pgtable_destroy(&pt);
}

void test_pgtable_overlap_rolls_back(void)
{
    struct pgtable pt;
    struct pgtable_result r;

    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, ALL_SIZES, 0), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0x10000, 0x10000, 3 * K4, 1), 0);
    /* Overlaps at 0x10000 after placing 0xe000 and 0xf000: both undone. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0xe000, 0x50000, 4 * K4, 1), SIM_EEXIST);
    CU_ASSERT_EQUAL(pt.st.leaves, 3);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0xe000, &r), SIM_EFAULT);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0x10000, &r), 0);
    CU_ASSERT_EQUAL(r.translated_addr, 0x10000);
    /* A 2 MiB leaf over a table holding 4 KiB leaves is an overlap too. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0, 0, M2, 1), SIM_EEXIST);
    /* And a 4 KiB page under a 2 MiB leaf. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, M2, M2, M2, 1), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, M2 + K4, 0, K4, 1), SIM_EEXIST);
    CU_ASSERT_EQUAL(pt.st.leaves, 4);
    pgtable_destroy(&pt);
}

struct unmap_log {
    unsigned n;
    uint64_t iova[8], mask[8];
};

static void log_unmap(void *arg, uint64_t iova, const struct pgtable_result *old)
{
    struct unmap_log *l = arg;

    if (l->n < 8) {
        l->iova[l->n] = iova;
        l->mask[l->n] = old->addr_mask;
    }
    l->n++;
}

void test_pgtable_unmap_frees_and_reports(void)
{
    struct pgtable pt;
    struct unmap_log log = {0};
    uint64_t bytes;

    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, ALL_SIZES, 0), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0x1ff000, 0x1ff000, M2 + 2 * K4, 1), 0);
    /* Root, one level-3 and one level-2 table, two level-1 tables. */
    CU_ASSERT_EQUAL(pt.st.nodes, 5);
    /* Cutting the 2 MiB leaf in half is refused and changes nothing. */
    CU_ASSERT_EQUAL(pgtable_unmap(&pt, 0x200000, 0x100000, NULL, NULL, &bytes), SIM_EINVAL);
    CU_ASSERT_EQUAL(pt.st.leaves, 3);
    /* Unmapping a superset with holes removes the three leaves in order. */
    CU_ASSERT_EQUAL(pgtable_unmap(&pt, 0, 0x800000, log_unmap, &log, &bytes), 0);
    CU_ASSERT_EQUAL(bytes, M2 + 2 * K4);
    CU_ASSERT_EQUAL(log.n, 3);
    CU_ASSERT_EQUAL(log.iova[0], 0x1ff000);
    CU_ASSERT_EQUAL(log.mask[0], 0xfff);
    CU_ASSERT_EQUAL(log.iova[1], 0x200000);
    CU_ASSERT_EQUAL(log.mask[1], M2 - 1);
    CU_ASSERT_EQUAL(log.iova[2], 0x400000);
    CU_ASSERT_EQUAL(pt.st.leaves, 0);
    /* Emptied tables are freed: only the root is left. */
    CU_ASSERT_EQUAL(pt.st.nodes, 1);
    pgtable_destroy(&pt);
}

void test_pgtable_bad_input(void)
{
    struct pgtable pt;

    CU_ASSERT_EQUAL(pgtable_init(&pt, 2, K4, 0), SIM_EINVAL);
    CU_ASSERT_EQUAL(pgtable_init(&pt, 6, K4, 0), SIM_EINVAL);
    CU_ASSERT_EQUAL(pgtable_init(&pt, 4, M2, 0), SIM_EINVAL);        /* no 4 KiB */
    CU_ASSERT_EQUAL(pgtable_init(&pt, 3, K4 | (G1 << 9), 0), SIM_EINVAL); /* 512 GiB in 3 levels */
    CU_ASSERT_EQUAL(pgtable_init(&pt, 4, K4 | 0x10000, 0), SIM_EINVAL);   /* 64 KiB */
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 3, ALL_SIZES, 0), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0x800, 0, K4, 1), SIM_EINVAL);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0, 0, 0, 1), SIM_EINVAL);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0, 0, K4, 0), SIM_EINVAL);
    CU_ASSERT_EQUAL(pgtable_map(&pt, UINT64_C(1) << 39, 0, K4, 1), SIM_ERANGE);
    CU_ASSERT_EQUAL(pgtable_map(&pt, (UINT64_C(1) << 39) - K4, 0, 2 * K4, 1), SIM_ERANGE);
    CU_ASSERT_EQUAL(pgtable_unmap(&pt, 0, 0x1800, NULL, NULL, NULL), SIM_EINVAL);
    CU_ASSERT_EQUAL(pt.st.leaves, 0);
    pgtable_destroy(&pt);
}

/* --- Randomized: maps and unmaps against an interval list ---------------- */

struct ival {
    uint64_t iova, size, pa;
    unsigned perm;
    int live;
};

static int ref_find(const struct ival *v, unsigned n, uint64_t a)
{
    unsigned i;

    for (i = 0; i < n; i++)
        if (v[i].live && a >= v[i].iova && a - v[i].iova < v[i].size)
            return (int)i;
    return -1;
}

static int ref_overlaps(const struct ival *v, unsigned n, uint64_t a, uint64_t s)
{
    unsigned i;

    for (i = 0; i < n; i++)
        if (v[i].live && a < v[i].iova + v[i].size && v[i].iova < a + s)
            return 1;
    return 0;
}

void test_pgtable_random_vs_interval_list(void)
{
    static const uint64_t bitmaps[3] = { K4, K4 | M2, ALL_SIZES };
    unsigned levels, b;

    for (levels = 3; levels <= 5; levels++)
        for (b = 0; b < 3; b++) {
            struct pgtable pt;
            struct sim_rng rng;
            struct ival v[200];
            unsigned n = 0, i, k;
            /* Small space (8 GiB) so that ranges collide and huge pages fit. */
            uint64_t space = 8 * G1;

            sim_rng_seed(&rng, 1000 + levels * 10 + b, "pgtable.random");
            CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, levels, bitmaps[b], 0), 0);
            for (k = 0; k < 600; k++) {
                uint64_t act = sim_rng_below(&rng, 3);

                if (act < 2 && n < 200) {
                    /* Sizes from one page to ~1.5 GiB; addresses aligned to a
                     * random power of two so that every page size occurs. */
                    unsigned al = 12 + (unsigned)sim_rng_below(&rng, 20);
                    uint64_t size = (sim_rng_below(&rng, (k % 7 == 0) ? 400000 : 700) + 1) * K4;
                    uint64_t iova = sim_rng_below(&rng, space >> al) << al;
                    uint64_t pa = (sim_rng_below(&rng, UINT64_C(1) << (40 - al)) << al)
                                  + (sim_rng_below(&rng, 4) == 0 ? K4 : 0);
                    unsigned perm = 1 + (unsigned)sim_rng_below(&rng, 3);
                    int want = iova + size > pgtable_span(&pt) ? SIM_ERANGE
                             : ref_overlaps(v, n, iova, size) ? SIM_EEXIST : 0;
                    int got = pgtable_map(&pt, iova, pa, size, perm);

                    CU_ASSERT_EQUAL(got, want);
                    if (got == 0)
                        v[n++] = (struct ival){ iova, size, pa, perm, 1 };
                } else if (n) {
                    unsigned j = (unsigned)sim_rng_below(&rng, n);
                    uint64_t bytes;

                    if (v[j].live) {
                        CU_ASSERT_EQUAL(pgtable_unmap(&pt, v[j].iova, v[j].size,
                                                      NULL, NULL, &bytes), 0);
                        CU_ASSERT_EQUAL(bytes, v[j].size);
                        v[j].live = 0;
                    }
                }
                /* Probe: inside live mappings and at random addresses. */
                for (i = 0; i < 20; i++) {
                    uint64_t a;
                    struct pgtable_result r;
                    int j, got;

                    if (i < 10 && n) {
                        unsigned m = (unsigned)sim_rng_below(&rng, n);
                        a = v[m].iova + sim_rng_below(&rng, v[m].size);
                    } else {
                        a = sim_rng_below(&rng, space);
                    }
                    j = ref_find(v, n, a);
                    got = pgtable_lookup(&pt, a, &r);
                    if (j < 0) {
                        CU_ASSERT_EQUAL(got, SIM_EFAULT);
                        continue;
                    }
                    CU_ASSERT_EQUAL_FATAL(got, 0);
                    CU_ASSERT_EQUAL(r.translated_addr + (a & r.addr_mask),
                                    v[j].pa + (a - v[j].iova));
                    CU_ASSERT_EQUAL(r.perm, v[j].perm);
                    /* The leaf lies inside the mapping and is a legal size. */
                    CU_ASSERT(((r.addr_mask + 1) & bitmaps[b]) != 0);
                    CU_ASSERT((a & ~r.addr_mask) >= v[j].iova);
                    CU_ASSERT((a & ~r.addr_mask) + r.addr_mask < v[j].iova + v[j].size);
                    CU_ASSERT_EQUAL(r.translated_addr & r.addr_mask, 0);
                }
            }
            /* Leaves counted equal leaves reachable by iteration. */
            pgtable_destroy(&pt);
            CU_ASSERT_EQUAL(pt.st.nodes, 0);
        }
}

static void count_leaf(void *arg, uint64_t iova, const struct pgtable_result *r)
{
    uint64_t *c = arg;

    (void)r;
    CU_ASSERT(iova >= c[1]);        /* IOVA order */
    c[1] = iova + 1;
    c[0]++;
}

void test_pgtable_memory_proportional(void)
{
    struct pgtable pt;
    uint64_t c[2] = {0, 0};
    size_t bytes;

    /* 64 Ki contiguous 4 KiB pages (256 MiB) on 4 levels: 128 level-1
     * tables, 1 level-2, 1 level-3 and the root = 131 nodes. */
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, K4, 0), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0, 0x100000000ull, 65536 * K4, 3), 0);
    CU_ASSERT_EQUAL(pt.st.nodes, 131);
    bytes = pgtable_mem_bytes(&pt);
    /* About 4 KiB per table, never more than 4.2 KiB (header included). */
    CU_ASSERT(bytes >= 131 * 4096 && bytes <= 131 * 4300 + sizeof(pt));
    pgtable_for_each(&pt, 0, UINT64_MAX, count_leaf, c);
    CU_ASSERT_EQUAL(c[0], 65536);
    /* A bounded window visits just its pages. */
    c[0] = c[1] = 0;
    pgtable_for_each(&pt, 10 * K4, 20 * K4 - 1, count_leaf, c);
    CU_ASSERT_EQUAL(c[0], 10);
    pgtable_destroy(&pt);
}
