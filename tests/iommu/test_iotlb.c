/*
 * test_iotlb.c - IOTLB geometry, replacement, invalidation, MSHRs, and the
 * validation cases of issue 5 (expected values derived, not measured):
 *  - uniform random references over N pages into C entries (independent
 *    reference model): every demand policy hits C/N in steady state, since
 *    each resident page is equally likely to be referenced next;
 *  - 64-byte sequential accesses over fresh 4 KiB pages: 1 miss per 64
 *    accesses, hit rate 63/64;
 *  - a cyclic scan of C+1 pages through C-entry LRU (or FIFO): each page is
 *    evicted just before it is needed again, hit rate 0.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "iommu/iotlb.h"
#include "testutil.h"

void test_iotlb_uniform_hit_rate_c_over_n(void);
void test_iotlb_sequential_63_of_64(void);
void test_iotlb_cyclic_scan_zero(void);
void test_iotlb_plru_differs_from_lru(void);
void test_iotlb_fifo_ignores_hits(void);
void test_iotlb_page_sizes_split_and_unified(void);
void test_iotlb_invalidation_kinds(void);
void test_iotlb_mshr_merging(void);
void test_iotlb_bad_config(void);

static void mk(struct iotlb *t, enum iotlb_policy pol, unsigned entries, unsigned ways)
{
    struct iotlb_cfg c;
    char err[160];

    memset(&c, 0, sizeof(c));
    c.policy = pol;
    c.arr[0].entries = entries;
    c.arr[0].ways = ways;
    c.mshrs = 4;
    c.seed = 5;
    c.path = "sys.iommu.iotlb";
    CU_ASSERT_EQUAL_FATAL(iotlb_init(t, &c, err, sizeof(err)), 0);
}

/* Look up a 4 KiB page of domain 1; fill on a miss. Returns hit. */
static bool access4k(struct iotlb *t, uint64_t iova)
{
    struct iotlb_hit h;

    if (iotlb_lookup(t, 1, 0, iova, &h))
        return true;
    iotlb_insert(t, 1, 0, iova, (iova & ~UINT64_C(0xfff)) + 0x100000000ull, 0xfff, 3);
    return false;
}

void test_iotlb_uniform_hit_rate_c_over_n(void)
{
    static const struct { enum iotlb_policy p; unsigned ways; } cases[] = {
        { IOTLB_LRU, 512 }, { IOTLB_FIFO, 512 }, { IOTLB_RANDOM, 512 },
        { IOTLB_PLRU, 64 },         /* 8 sets of 64: uniform load per set */
    };
    unsigned k, i;

    for (k = 0; k < 4; k++) {
        struct iotlb t;
        struct sim_rng rng;
        const unsigned C = 512, N = 2048;

        mk(&t, cases[k].p, C, cases[k].ways);
        sim_rng_seed(&rng, 77, "uniform");
        for (i = 0; i < 200000; i++)                /* warm-up */
            access4k(&t, sim_rng_below(&rng, N) << 12);
        iotlb_reset_stats(&t);
        for (i = 0; i < 1000000; i++)
            access4k(&t, sim_rng_below(&rng, N) << 12);
        ASSERT_NEAR(iotlb_hit_rate(&t), (double)C / N, 0.01);
        CU_ASSERT_EQUAL(t.st.occupancy, C);
        CU_ASSERT_EQUAL(t.st.evictions, t.st.misses);   /* full: every fill evicts */
        iotlb_destroy(&t);
    }
}

void test_iotlb_sequential_63_of_64(void)
{
    struct iotlb t;
    uint64_t a;

    mk(&t, IOTLB_LRU, 32, 4);
    for (a = 0; a < 4096 * 1000; a += 64)
        access4k(&t, 0x7000000 + a);
    CU_ASSERT_EQUAL(t.st.misses, 1000);
    CU_ASSERT_EQUAL(t.st.hits, 63000);
    ASSERT_NEAR(iotlb_hit_rate(&t), 63.0 / 64.0, 1e-12);
    iotlb_destroy(&t);
}

void test_iotlb_cyclic_scan_zero(void)
{
    const enum iotlb_policy pols[2] = { IOTLB_LRU, IOTLB_FIFO };
    unsigned k, round, p;

    for (k = 0; k < 2; k++) {
        struct iotlb t;
        const unsigned C = 64;

        mk(&t, pols[k], C, C);
        for (round = 0; round < 50; round++)
            for (p = 0; p <= C; p++)
                access4k(&t, (uint64_t)p << 12);
        CU_ASSERT_EQUAL(t.st.hits, 0);
        CU_ASSERT_EQUAL(t.st.misses, 50 * (C + 1));
        iotlb_destroy(&t);

        /* The same in one set of a set-associative array: ways + 1 pages
         * that share set 0 (page numbers multiple of the set count). */
        mk(&t, pols[k], 64, 4);
        for (round = 0; round < 50; round++)
            for (p = 0; p <= 4; p++)
                access4k(&t, (uint64_t)p * 16 << 12);
        CU_ASSERT_EQUAL(t.st.hits, 0);
        iotlb_destroy(&t);
    }
    /* Control: C pages in C entries hit after the first round. */
    {
        struct iotlb t;

        mk(&t, IOTLB_LRU, 64, 64);
        for (round = 0; round < 50; round++)
            for (p = 0; p < 64; p++)
                access4k(&t, (uint64_t)p << 12);
        CU_ASSERT_EQUAL(t.st.misses, 64);
        iotlb_destroy(&t);
    }
}

void test_iotlb_plru_differs_from_lru(void)
{
    /* One 4-way set. Fill A B C D, touch A, insert E.
     * LRU evicts B (least recently used).
     * Tree PLRU: after the fills (in ways 3, 2, 1, 0) every node points at
     * the right; touching A (way 3) flips the root and its right child to
     * the left, so the victim is the left subtree's right leaf: way 1 = C. */
    const enum iotlb_policy pols[2] = { IOTLB_LRU, IOTLB_PLRU };
    unsigned k;

    for (k = 0; k < 2; k++) {
        struct iotlb t;
        struct iotlb_hit h;

        mk(&t, pols[k], 4, 4);
        access4k(&t, 0xa000);
        access4k(&t, 0xb000);
        access4k(&t, 0xc000);
        access4k(&t, 0xd000);
        CU_ASSERT_TRUE(access4k(&t, 0xa000));
        access4k(&t, 0xe000);
        CU_ASSERT_EQUAL(t.st.evictions, 1);
        if (pols[k] == IOTLB_LRU) {
            CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 0, 0xb000, &h));
            CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0xc000, &h));
        } else {
            CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0xb000, &h));
            CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 0, 0xc000, &h));
        }
        CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0xa000, &h));
        iotlb_destroy(&t);
    }
}

void test_iotlb_fifo_ignores_hits(void)
{
    struct iotlb t;
    struct iotlb_hit h;

    mk(&t, IOTLB_FIFO, 2, 2);
    access4k(&t, 0x1000);
    access4k(&t, 0x2000);
    CU_ASSERT_TRUE(access4k(&t, 0x1000));
    access4k(&t, 0x3000);           /* FIFO evicts the oldest fill: 0x1000 */
    CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 0, 0x1000, &h));
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0x2000, &h));
    iotlb_destroy(&t);
}

void test_iotlb_page_sizes_split_and_unified(void)
{
    struct iotlb t;
    struct iotlb_cfg c;
    struct iotlb_hit h;
    char err[160];

    /* Split: 4 KiB and 2 MiB arrays, no 1 GiB array. */
    memset(&c, 0, sizeof(c));
    c.split = true;
    c.arr[IOTLB_4K] = (struct iotlb_array_cfg){ 8, 2 };
    c.arr[IOTLB_2M] = (struct iotlb_array_cfg){ 4, 4 };
    CU_ASSERT_EQUAL_FATAL(iotlb_init(&t, &c, err, sizeof(err)), 0);
    iotlb_insert(&t, 1, 0, 0x40123000, 0x80000000, 0x1fffff, 1);
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0x401fffff, &h));
    CU_ASSERT_EQUAL(h.addr_mask, 0x1fffff);
    CU_ASSERT_EQUAL(h.translated_addr, 0x80000000);
    CU_ASSERT_EQUAL(h.perm, 1);
    CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 0, 0x40200000, &h));
    CU_ASSERT_EQUAL(t.arr[IOTLB_2M].count[IOTLB_C2M], 1);
    CU_ASSERT_EQUAL(t.arr[IOTLB_4K].count[IOTLB_C4K], 0);
    /* A 1 GiB page is cached as the 2 MiB piece that holds the address. */
    iotlb_insert(&t, 1, 0, 0x80654321ull, 0x1c0000000ull, 0x3fffffff, 3);
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0x80600000ull, &h));
    CU_ASSERT_EQUAL(h.addr_mask, 0x1fffff);
    CU_ASSERT_EQUAL(h.translated_addr, 0x1c0600000ull);
    CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 0, 0x80800000ull, &h));
    iotlb_destroy(&t);

    /* Unified: one 4-entry array holds both sizes side by side. */
    memset(&c, 0, sizeof(c));
    c.arr[0] = (struct iotlb_array_cfg){ 4, 4 };
    CU_ASSERT_EQUAL_FATAL(iotlb_init(&t, &c, err, sizeof(err)), 0);
    iotlb_insert(&t, 1, 0, 0x200000, 0x600000, 0x1fffff, 3);
    iotlb_insert(&t, 1, 0, 0x5000, 0x9000, 0xfff, 3);
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0x3abcde, &h));
    CU_ASSERT_EQUAL(h.translated_addr, 0x600000);
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0x5fff, &h));
    CU_ASSERT_EQUAL(h.addr_mask, 0xfff);
    CU_ASSERT_EQUAL(t.st.occupancy, 2);
    /* Re-inserting the same tag updates in place. */
    iotlb_insert(&t, 1, 0, 0x5000, 0xa000, 0xfff, 1);
    CU_ASSERT_EQUAL(t.st.occupancy, 2);
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0x5000, &h));
    CU_ASSERT_EQUAL(h.translated_addr, 0xa000);
    iotlb_destroy(&t);
}

void test_iotlb_invalidation_kinds(void)
{
    struct iotlb t;
    struct iotlb_hit h;

    mk(&t, IOTLB_LRU, 64, 8);
    /* Domains 1 and 2, indexes 0 and 1, same addresses. */
    iotlb_insert(&t, 1, 0, 0x1000, 0xa000, 0xfff, 3);
    iotlb_insert(&t, 1, 1, 0x1000, 0xb000, 0xfff, 3);
    iotlb_insert(&t, 2, 0, 0x1000, 0xc000, 0xfff, 3);
    iotlb_insert(&t, 1, 0, 0x2000, 0xd000, 0xfff, 3);
    iotlb_insert(&t, 1, 0, 0x400000, 0xe00000, 0x1fffff, 3);
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 1, 0x1000, &h));
    CU_ASSERT_EQUAL(h.translated_addr, 0xb000);     /* tags include the index */
    CU_ASSERT_TRUE(iotlb_lookup(&t, 2, 0, 0x1000, &h));
    CU_ASSERT_EQUAL(h.translated_addr, 0xc000);     /* and the domain */

    /* Page: both indexes of domain 1 at 0x1000, nothing else. */
    iotlb_inval_page(&t, 1, 0x1234);
    CU_ASSERT_EQUAL(t.st.inval_page, 1);
    CU_ASSERT_EQUAL(t.st.inval_entries, 2);
    CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 0, 0x1000, &h));
    CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 1, 0x1000, &h));
    CU_ASSERT_TRUE(iotlb_lookup(&t, 2, 0, 0x1000, &h));
    /* Page inside a 2 MiB entry removes it. */
    iotlb_inval_page(&t, 1, 0x5ff000);
    CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 0, 0x400000, &h));
    CU_ASSERT_EQUAL(t.st.inval_entries, 3);
    /* Range: [0, 0x3fff] of domain 1 takes 0x2000 only. */
    iotlb_insert(&t, 1, 0, 0x8000, 0xf000, 0xfff, 3);
    iotlb_inval_range(&t, 1, 0x0, 0x3fff);
    CU_ASSERT_EQUAL(t.st.inval_range, 1);
    CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 0, 0x2000, &h));
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0x8000, &h));
    /* Domain: domain 2 only. */
    iotlb_inval_domain(&t, 2);
    CU_ASSERT_EQUAL(t.st.inval_domain, 1);
    CU_ASSERT_FALSE(iotlb_lookup(&t, 2, 0, 0x1000, &h));
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0x8000, &h));
    CU_ASSERT_EQUAL(t.st.occupancy, 1);
    /* Global. */
    iotlb_inval_global(&t);
    CU_ASSERT_EQUAL(t.st.inval_global, 1);
    CU_ASSERT_EQUAL(t.st.occupancy, 0);
    CU_ASSERT_EQUAL(t.st.inval_entries, 6);
    /* Invalidated ways are reused before anything valid is evicted. */
    access4k(&t, 0x10000);
    CU_ASSERT_EQUAL(t.st.evictions, 0);
    iotlb_destroy(&t);
}

void test_iotlb_mshr_merging(void)
{
    struct iotlb t;
    struct iotlb_mshr *m[5];
    unsigned i;

    mk(&t, IOTLB_LRU, 16, 4);       /* 4 MSHRs */
    CU_ASSERT_PTR_NULL(iotlb_mshr_find(&t, 1, 0, 0x1000));
    m[0] = iotlb_mshr_alloc(&t, 1, 0, 0x1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m[0]);
    /* Another miss in the same 4 KiB page merges; another page does not. */
    CU_ASSERT_PTR_EQUAL(iotlb_mshr_find(&t, 1, 0, 0x1ff8), m[0]);
    CU_ASSERT_PTR_NULL(iotlb_mshr_find(&t, 1, 0, 0x2000));
    CU_ASSERT_PTR_NULL(iotlb_mshr_find(&t, 2, 0, 0x1000));
    CU_ASSERT_EQUAL(t.st.merged, 1);
    for (i = 1; i < 4; i++)
        CU_ASSERT_PTR_NOT_NULL(m[i] = iotlb_mshr_alloc(&t, 1, 0, 0x10000 * i));
    CU_ASSERT_PTR_NULL(iotlb_mshr_alloc(&t, 1, 0, 0x99000));
    CU_ASSERT_EQUAL(t.st.mshr_full, 1);
    iotlb_mshr_free(&t, m[0]);
    CU_ASSERT_PTR_NULL(iotlb_mshr_find(&t, 1, 0, 0x1000));
    CU_ASSERT_PTR_NOT_NULL(iotlb_mshr_alloc(&t, 1, 0, 0x99000));
    iotlb_destroy(&t);
}

void test_iotlb_bad_config(void)
{
    struct iotlb t;
    struct iotlb_cfg c;
    char err[160];

    memset(&c, 0, sizeof(c));
    c.path = "sys.iotlb";
    CU_ASSERT_EQUAL(iotlb_init(&t, &c, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "sys.iotlb: "));
    c.arr[0] = (struct iotlb_array_cfg){ 10, 4 };
    CU_ASSERT_EQUAL(iotlb_init(&t, &c, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a multiple of ways"));
    c.arr[0] = (struct iotlb_array_cfg){ 12, 6 };
    c.policy = IOTLB_PLRU;
    CU_ASSERT_EQUAL(iotlb_init(&t, &c, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "power of two"));
}
