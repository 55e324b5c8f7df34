/*
 * test_vtd_mshr.c - vtd finds the walk a miss joins through two shortcuts,
 * and neither may lose one.
 *
 * vtd.c looks for the walk in flight for a page first at the MSHR of the
 * last walk started, then asks a count of walks per page number mod 64
 * whether any walk could be for this page, and only then scans the MSHRs.
 * A stale memo would send a miss to another page's walk (a wrong
 * translation); a count too low would start a second walk for a page
 * already being walked (an extra walk, a merge missing). The requests
 * below make each path decide, including a page that shares its count
 * with a page being walked, and repeat after the walks have ended.
 *
 * Expected values (legacy mode, 4 MSHRs, 2 walkers, the context cache
 * warm): a request joins a walk exactly when a walk for its page is in
 * flight when its lookup ends; every request is answered with its page's
 * mapping.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "iommu/iommu.h"
#include "iommu/models/vtd.h"
#include "mem/memory.h"
#include "testutil.h"

void test_vtd_mshr_memo_and_page_counts(void);

#define NS SIM_TICKS_PER_NS

struct menv {
    struct sim sim;
    struct mem mem;
    struct vtd v;
};

struct mreq {
    struct iommu_req r;
    int done;
};

static void mreq_done(struct iommu_req *req)
{
    ((struct mreq *)req)->done = 1;
}

static void mreq_issue(struct iommu *as, struct mreq *q, uint64_t iova)
{
    memset(q, 0, sizeof(*q));
    q->r.iova = iova;
    q->r.access = IOMMU_RO;
    q->r.done = mreq_done;
    CU_ASSERT_EQUAL_FATAL(iommu_translate_timed(as, &q->r), 0);
}

/* Page p of the test's IOVA window maps to PA 0x4000000 + p pages. */
#define PAGE(p) (UINT64_C(0x100000) + (uint64_t)(p) * 4096)
#define PA(p)   (UINT64_C(0x4000000) + (uint64_t)(p) * 4096)

static void check(const struct mreq *q, unsigned page)
{
    CU_ASSERT_EQUAL(q->done, 1);
    CU_ASSERT_EQUAL(q->r.status, 0);
    CU_ASSERT_EQUAL(q->r.entry.translated_addr, PA(page));
}

void test_vtd_mshr_memo_and_page_counts(void)
{
    struct menv e;
    struct vtd_cfg c;
    struct mem_cfg mc;
    struct iommu_domain *dom;
    struct iommu *as;
    struct mreq q[8];
    char err[300];
    sim_tick_t t;
    uint64_t merged0, walks0;

    memset(&c, 0, sizeof(c));
    c.aw_bits = 48;
    c.pgsize_bitmap = 0x1000;           /* 4 KiB pages only */
    c.max_am = 18;
    c.qi.length = 256;
    c.iotlb.policy = IOTLB_LRU;
    c.iotlb.arr[0] = (struct iotlb_array_cfg){ 64, 4 };
    c.iotlb.mshrs = 4;
    c.walk.walkers = 2;
    c.hit_latency = 2 * NS;
    c.lookup_ports = 1;
    c.lookup_cycle = 1 * NS;
    c.cc_entries = 8;
    c.cc_latency = 1 * NS;
    c.max_domains = 2;
    c.max_devices = 8;
    c.path = "sys.vtd";
    sim_init(&e.sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = 1;
    mc.interleave = 64;
    CU_ASSERT_EQUAL_FATAL(mem_init(&e.mem, &e.sim, &mc, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_create(&e.v, &e.sim, &e.mem, &c, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e.v, 0, &dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e.v, 3, 0, &as, err, sizeof(err)), 0);
    /* Pages 0 .. 129: pages 0, 64 and 128 share a count (mod 64). */
    CU_ASSERT_EQUAL_FATAL(iommu_domain_map(dom, PAGE(0), PA(0), 130 * 4096, IOMMU_RW, 0, &t),
                          0);
    mreq_issue(as, &q[0], PAGE(100));   /* the context cache warm */
    sim_run(&e.sim);
    check(&q[0], 100);

    /*
     * Round 1, all at one tick; lookups end 1 ns apart (one port), each
     * ending before any walk does (a walk reads 80 ns at least):
     *   q0 page 0: no walk: walks.            q1 page 1: no walk: walks.
     *   q2 page 0: the last walk is page 1's; page 0's count is 1: the
     *              scan finds page 0's walk: joins.
     *   q3 page 64: the last walk is page 1's; the count of 64 mod 64 is
     *              page 0's, 1: the scan finds no walk for 64: walks.
     *   q4 page 64: the last walk is its own: joins.
     * 3 walks, 2 merged.
     */
    merged0 = e.v.tlb.st.merged;
    walks0 = e.v.walker.st.walks;
    mreq_issue(as, &q[0], PAGE(0) + 8);
    mreq_issue(as, &q[1], PAGE(1));
    mreq_issue(as, &q[2], PAGE(0) + 16);
    mreq_issue(as, &q[3], PAGE(64));
    mreq_issue(as, &q[4], PAGE(64) + 24);
    sim_run(&e.sim);
    check(&q[0], 0);
    check(&q[1], 1);
    check(&q[2], 0);
    check(&q[3], 64);
    check(&q[4], 64);
    CU_ASSERT_EQUAL(e.v.walker.st.walks - walks0, 3);
    CU_ASSERT_EQUAL(e.v.tlb.st.merged - merged0, 2);

    /*
     * Round 2, after every walk has ended (the counts back to 0; the memo
     * still names page 64's MSHR, now free) and with the IOTLB emptied:
     *   q0 page 64: the memo's walk is over, and no walk counts for 0 mod
     *              64: walks.
     *   q1 page 2: walks.
     *   q2 page 128: the last walk is page 2's; the count of 0 mod 64 is
     *              page 64's: the scan finds no walk for 128: walks.
     *   q3 page 64: the last walk is page 128's; the scan finds page 64's
     *              walk: joins.
     *   q4 page 128: the last walk is its own: joins.
     * 3 walks, 2 merged, again; no walk left in flight.
     */
    iotlb_inval_global(&e.v.tlb);
    merged0 = e.v.tlb.st.merged;
    walks0 = e.v.walker.st.walks;
    mreq_issue(as, &q[0], PAGE(64));
    mreq_issue(as, &q[1], PAGE(2));
    mreq_issue(as, &q[2], PAGE(128));
    mreq_issue(as, &q[3], PAGE(64) + 8);
    mreq_issue(as, &q[4], PAGE(128) + 8);
    sim_run(&e.sim);
    check(&q[0], 64);
    check(&q[1], 2);
    check(&q[2], 128);
    check(&q[3], 64);
    check(&q[4], 128);
    CU_ASSERT_EQUAL(e.v.walker.st.walks - walks0, 3);
    CU_ASSERT_EQUAL(e.v.tlb.st.merged - merged0, 2);
    CU_ASSERT_EQUAL(e.v.nwalking, 0);

    vtd_destroy(&e.v);
    mem_destroy(&e.mem);
    sim_destroy(&e.sim);
}
