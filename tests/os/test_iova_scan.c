/*
 * test_iova_scan.c - the IOVA tree's top-down allocation against a naive
 * reference: random allocations and frees of uncached sizes (> 32 pages,
 * so every one goes to the tree) must return exactly the pfn (or the
 * SIM_ERANGE) that scanning every gap from the limit down gives. This is
 * what makes skipping the run of abutting ranges under the limit (iova.c)
 * safe: the same addresses, only fewer steps.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/error.h"
#include "os/iova.h"

void test_iova_scan_matches_reference(void);

struct ref {
    uint64_t lo[4096], hi[4096];
    size_t n;
};

static uint64_t pow2_ceil(uint64_t x)
{
    uint64_t p = 1;

    while (p < x)
        p <<= 1;
    return p;
}

/* The documented rule, the slow way: every gap from the top, highest first. */
static int ref_alloc(struct ref *r, uint64_t start, uint64_t limit, uint64_t size,
                     uint64_t *pfn)
{
    uint64_t align = pow2_ceil(size);

    for (size_t i = r->n + 1; i-- > 0;) {
        uint64_t lo = i ? r->hi[i - 1] + 1 : start;
        uint64_t hi = i < r->n ? r->lo[i] - 1 : limit;

        if (hi < lo || hi - lo + 1 < size)
            continue;
        uint64_t cand = (hi - size + 1) & ~(align - 1);

        if (cand < lo)
            continue;
        for (size_t k = r->n; k > i; k--) {
            r->lo[k] = r->lo[k - 1];
            r->hi[k] = r->hi[k - 1];
        }
        r->lo[i] = cand;
        r->hi[i] = cand + size - 1;
        r->n++;
        *pfn = cand;
        return 0;
    }
    return SIM_ERANGE;
}

static void ref_free(struct ref *r, size_t i)
{
    for (; i + 1 < r->n; i++) {
        r->lo[i] = r->lo[i + 1];
        r->hi[i] = r->hi[i + 1];
    }
    r->n--;
}

void test_iova_scan_matches_reference(void)
{
    static struct ref r;
    struct iova_domain d;
    const uint64_t start = 1, limit = (UINT64_C(1) << 16) - 1;   /* 256 MiB of IOVA */
    uint64_t x = 88172645463325252ull, mismatches = 0, allocs = 0, full = 0;

    r.n = 0;
    CU_ASSERT_EQUAL_FATAL(iova_domain_init(&d, start, limit, 1), 0);
    for (int op = 0; op < 20000; op++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* Mostly allocations, so the space fills and packs under the
         * limit; frees punch holes anywhere, the top run included. */
        if (r.n == 0 || x % 100 < 55) {
            uint64_t size = 33 + (x >> 20) % 480, p1 = 0, p2 = 0;
            int e1 = iova_alloc(&d, 0, size, &p1), e2 = ref_alloc(&r, start, limit, size, &p2);

            allocs++;
            if (e2)
                full++;
            if (e1 != e2 || (!e1 && p1 != p2))
                mismatches++;
            if (e1 != e2)
                break;
        } else {
            size_t i = (size_t)((x >> 24) % r.n);

            CU_ASSERT_EQUAL(iova_free(&d, 0, r.lo[i], r.hi[i] - r.lo[i] + 1), 0);
            ref_free(&r, i);
        }
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT(allocs > 10000);
    CU_ASSERT(full > 0);            /* the space ran out: SIM_ERANGE compared too */
    iova_domain_destroy(&d);
}
