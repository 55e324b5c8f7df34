/*
 * test_iotlb_summaries.c - the IOTLB's lookup shortcuts change no answer.
 *
 * iotlb.c keeps three summaries so that lookups and invalidations skip what
 * is empty: a bit per size class with valid entries (lookups probe only
 * those), a bitmap of valid entries per array (domain, range and global
 * invalidations visit only those), and per array the entry of its last hit
 * or fill (a lookup compares that entry's tag before hashing; iotlb.h's
 * iotlb_lookup_mru does it inline). Each must be
 * kept right across fills, overwrites, evictions and every invalidation, or
 * a lookup would return a removed translation or miss a present one.
 *
 * The reference is an independent model written here from iotlb.h's
 * contract alone: a fully associative LRU cache as a list, most recent
 * first; a lookup finds the smallest page size holding the address (4 KiB
 * before 2 MiB), a fill overwrites its tag or takes a free entry, else
 * evicts the least recently used; invalidations remove what they cover.
 * A seeded random mix of every operation runs on both, and every lookup's
 * answer, and the occupancy, must agree.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "engine/rng.h"
#include "iommu/iotlb.h"
#include "testutil.h"

void test_iotlb_summaries_match_reference(void);
void test_iotlb_summaries_memo_after_removal(void);
void test_iotlb_summaries_mshr_holes(void);

#define REF_MAX 16

struct ref_entry {
    uint32_t domain;
    unsigned idx;
    uint64_t base;                  /* page address (aligned) */
    uint64_t mask;                  /* page size - 1 */
    uint64_t pa;
};

/* Most recently used first. */
struct ref {
    unsigned n, cap;
    struct ref_entry e[REF_MAX];
};

static void ref_to_front(struct ref *r, unsigned i)
{
    struct ref_entry x = r->e[i];

    memmove(&r->e[1], &r->e[0], i * sizeof(x));
    r->e[0] = x;
}

static void ref_remove(struct ref *r, unsigned i)
{
    memmove(&r->e[i], &r->e[i + 1], (r->n - i - 1) * sizeof(r->e[0]));
    r->n--;
}

/* The smallest page holding @iova: 4 KiB entries are probed before 2 MiB. */
static bool ref_lookup(struct ref *r, uint32_t domain, unsigned idx, uint64_t iova,
                       uint64_t *pa, uint64_t *mask)
{
    static const uint64_t sizes[2] = { 0xfff, 0x1fffff };

    for (unsigned s = 0; s < 2; s++)
        for (unsigned i = 0; i < r->n; i++) {
            struct ref_entry *e = &r->e[i];

            if (e->mask == sizes[s] && e->domain == domain && e->idx == idx &&
                e->base == (iova & ~e->mask)) {
                *pa = e->pa;
                *mask = e->mask;
                ref_to_front(r, i);
                return true;
            }
        }
    return false;
}

static void ref_insert(struct ref *r, uint32_t domain, unsigned idx, uint64_t iova,
                       uint64_t pa, uint64_t mask)
{
    for (unsigned i = 0; i < r->n; i++) {
        struct ref_entry *e = &r->e[i];

        if (e->mask == mask && e->domain == domain && e->idx == idx &&
            e->base == (iova & ~mask)) {
            e->pa = pa & ~mask;
            ref_to_front(r, i);
            return;
        }
    }
    if (r->n == r->cap)
        r->n--;                     /* the least recently used goes */
    memmove(&r->e[1], &r->e[0], r->n * sizeof(r->e[0]));
    r->e[0] = (struct ref_entry){ domain, idx, iova & ~mask, mask, pa & ~mask };
    r->n++;
}

/* Remove every entry of @domain (any domain if @all) overlapping [lo, hi]. */
static void ref_inval(struct ref *r, bool all, uint32_t domain, uint64_t lo, uint64_t hi)
{
    for (unsigned i = r->n; i-- > 0;) {
        struct ref_entry *e = &r->e[i];

        if ((all || e->domain == domain) && e->base <= hi && lo <= e->base + e->mask)
            ref_remove(r, i);
    }
}

static void mk_tlb(struct iotlb *t, unsigned entries)
{
    struct iotlb_cfg c;
    char err[160];

    memset(&c, 0, sizeof(c));
    c.policy = IOTLB_LRU;
    c.arr[0].entries = entries;
    c.arr[0].ways = entries;
    c.mshrs = 8;
    c.path = "test.iotlb";
    CU_ASSERT_EQUAL_FATAL(iotlb_init(t, &c, err, sizeof(err)), 0);
}

void test_iotlb_summaries_match_reference(void)
{
    struct iotlb t;
    struct ref r = { .n = 0, .cap = REF_MAX };
    struct sim_rng rng;
    unsigned agree = 0, hits = 0, lookups = 0;

    mk_tlb(&t, REF_MAX);
    sim_rng_seed(&rng, 11, "test.summaries");
    /*
     * Addresses in a small window (4 MiB: two 2 MiB pages, 1024 4 KiB
     * ones, of which 48 are used) so that hits, overwrites, evictions and
     * overlapping 4 KiB and 2 MiB entries all happen often; two domains and
     * two indexes.
     */
    for (unsigned step = 0; step < 200000; step++) {
        unsigned op = (unsigned)sim_rng_below(&rng, 100);
        uint32_t dom = 1 + (uint32_t)sim_rng_below(&rng, 2);
        unsigned idx = (unsigned)sim_rng_below(&rng, 2);
        uint64_t iova = (sim_rng_below(&rng, 48) << 12) * 21 % (UINT64_C(4) << 20);
        bool huge = sim_rng_below(&rng, 8) == 0;
        uint64_t mask = huge ? 0x1fffff : 0xfff;
        uint64_t pa = (sim_rng_next(&rng) & ~UINT64_C(0x1fffff)) >> 8;

        if (op < 55) {
            struct iotlb_hit h;
            uint64_t rpa = 0, rmask = 0;
            /* Half through the inline memo path, which must agree too. */
            bool got = step & 1 ? iotlb_lookup_mru(&t, dom, idx, iova, &h)
                                : iotlb_lookup(&t, dom, idx, iova, &h);
            bool want = ref_lookup(&r, dom, idx, iova, &rpa, &rmask);

            CU_ASSERT_EQUAL(got, want);
            if (got && want) {
                CU_ASSERT_EQUAL(h.translated_addr, rpa);
                CU_ASSERT_EQUAL(h.addr_mask, rmask);
                hits++;
            }
            agree += got == want;
            lookups++;
        } else if (op < 85) {
            iotlb_insert(&t, dom, idx, iova, pa, mask, 3);
            ref_insert(&r, dom, idx, iova, pa, mask);
        } else if (op < 91) {
            iotlb_inval_page(&t, dom, iova);
            ref_inval(&r, false, dom, iova, iova);
        } else if (op < 96) {
            uint64_t m = (UINT64_C(0x1000) << sim_rng_below(&rng, 4)) - 1;

            iotlb_inval_range(&t, dom, iova, m);
            ref_inval(&r, false, dom, iova & ~m, (iova & ~m) + m);
        } else if (op < 99) {
            iotlb_inval_domain(&t, dom);
            ref_inval(&r, false, dom, 0, UINT64_MAX);
        } else {
            iotlb_inval_global(&t);
            ref_inval(&r, true, 0, 0, UINT64_MAX);
        }
        CU_ASSERT_EQUAL(t.st.occupancy, r.n);
    }
    /* The mix exercised both outcomes a great deal. */
    CU_ASSERT(hits > 10000);
    CU_ASSERT(agree > 100000);
    CU_ASSERT_EQUAL(t.st.hits, hits);
    CU_ASSERT_EQUAL(t.st.lookups, lookups);
    CU_ASSERT_EQUAL(t.st.misses, lookups - hits);
    iotlb_destroy(&t);
}

void test_iotlb_summaries_memo_after_removal(void)
{
    struct iotlb t;
    struct iotlb_hit h;

    mk_tlb(&t, 4);
    /* A hit makes the entry the array's memo; each removal must end it. */
    iotlb_insert(&t, 1, 0, 0x5000, 0xa000, 0xfff, 3);
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0x5000, &h));
    iotlb_inval_page(&t, 1, 0x5000);
    CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 0, 0x5000, &h));

    iotlb_insert(&t, 1, 0, 0x5000, 0xa000, 0xfff, 3);
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0x5000, &h));
    iotlb_inval_domain(&t, 1);
    CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 0, 0x5000, &h));
    CU_ASSERT_EQUAL(t.st.occupancy, 0);

    /* The freed entry is reused for another tag: the old one still misses,
     * and the new one hits with its own translation. */
    iotlb_insert(&t, 1, 0, 0x5000, 0xa000, 0xfff, 3);
    CU_ASSERT_TRUE(iotlb_lookup(&t, 1, 0, 0x5000, &h));
    iotlb_inval_range(&t, 1, 0x5000, 0xfff);
    iotlb_insert(&t, 2, 0, 0x5000, 0xb000, 0xfff, 3);
    CU_ASSERT_FALSE(iotlb_lookup(&t, 1, 0, 0x5000, &h));
    CU_ASSERT_TRUE(iotlb_lookup(&t, 2, 0, 0x5000, &h));
    CU_ASSERT_EQUAL(h.translated_addr, 0xb000);

    /* A 4 KiB entry inside a cached 2 MiB page answers first, memo or not:
     * the 2 MiB entry is the memo after its hit, then the 4 KiB fill. */
    iotlb_insert(&t, 3, 0, 0x200000, 0x40000000, 0x1fffff, 3);
    CU_ASSERT_TRUE(iotlb_lookup(&t, 3, 0, 0x201000, &h));
    CU_ASSERT_EQUAL(h.addr_mask, 0x1fffff);
    iotlb_insert(&t, 3, 0, 0x201000, 0x7000, 0xfff, 3);
    CU_ASSERT_TRUE(iotlb_lookup(&t, 3, 0, 0x201000, &h));
    CU_ASSERT_EQUAL(h.addr_mask, 0xfff);
    CU_ASSERT_EQUAL(h.translated_addr, 0x7000);
    /* A range covering the 4 KiB page overlaps the 2 MiB one too: both go,
     * and the class bits with them (the next lookup probes nothing). */
    iotlb_inval_range(&t, 3, 0x201000, 0xfff);
    CU_ASSERT_FALSE(iotlb_lookup(&t, 3, 0, 0x201000, &h));
    CU_ASSERT_FALSE(iotlb_lookup(&t, 3, 0, 0x3ff000, &h));
    CU_ASSERT_EQUAL(t.st.occupancy, 1);
    iotlb_inval_global(&t);
    CU_ASSERT_FALSE(iotlb_lookup(&t, 3, 0, 0x201000, &h));
    CU_ASSERT_FALSE(iotlb_lookup(&t, 2, 0, 0x5000, &h));
    CU_ASSERT_EQUAL(t.st.occupancy, 0);
    iotlb_destroy(&t);
}

void test_iotlb_summaries_mshr_holes(void)
{
    struct iotlb t;
    struct iotlb_mshr *m[4];

    mk_tlb(&t, 4);
    /* Busy MSHRs behind free ones are still found (the scan stops after
     * the last busy one, not at the first free one). */
    for (unsigned i = 0; i < 4; i++)
        m[i] = iotlb_mshr_alloc(&t, 1, 0, (uint64_t)(i + 1) << 12);
    iotlb_mshr_free(&t, m[0]);
    iotlb_mshr_free(&t, m[2]);
    CU_ASSERT_PTR_EQUAL(iotlb_mshr_peek(&t, 1, 0, 4 << 12), m[3]);
    CU_ASSERT_PTR_EQUAL(iotlb_mshr_peek(&t, 1, 0, 2 << 12), m[1]);
    CU_ASSERT_PTR_NULL(iotlb_mshr_peek(&t, 1, 0, 1 << 12));
    CU_ASSERT_PTR_NULL(iotlb_mshr_peek(&t, 1, 0, 3 << 12));
    CU_ASSERT_PTR_NULL(iotlb_mshr_peek(&t, 2, 0, 4 << 12));
    /* A new allocation takes the lowest free one and is found. */
    CU_ASSERT_PTR_EQUAL(iotlb_mshr_alloc(&t, 1, 0, 9 << 12), m[0]);
    CU_ASSERT_PTR_EQUAL(iotlb_mshr_find(&t, 1, 0, 9 << 12), m[0]);
    iotlb_mshr_free(&t, m[0]);
    iotlb_mshr_free(&t, m[1]);
    iotlb_mshr_free(&t, m[3]);
    CU_ASSERT_PTR_NULL(iotlb_mshr_peek(&t, 1, 0, 4 << 12));
    iotlb_destroy(&t);
}
