/*
 * test_os_dma.c - the OS mapping layer: the IOVA allocator's order,
 * alignment, LIFO reuse and drain-and-retry; strict's one invalidation per
 * unmap; lazy's ceil(n/256) flushes and its stale window; no IOVA reused
 * before its invalidation completed; passthrough's identity.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/models/generic.h"
#include "iommu/models/generic_domain.h"
#include "os/dma.h"
#include "os/iova.h"

void test_iova_top_down_aligned(void);
void test_iova_lifo_reuse_and_depot(void);
void test_iova_drain_on_exhaustion(void);
void test_os_strict_one_invalidation_per_unmap(void);
void test_os_lazy_flush_count(void);
void test_os_lazy_stale_window_and_domain_flush(void);
void test_os_no_reuse_before_invalidation(void);
void test_os_passthrough_identity(void);

#define NS SIM_TICKS_PER_NS
#define MS SIM_TICKS_PER_MS

void test_iova_top_down_aligned(void)
{
    struct iova_domain d;
    uint64_t pfn, top = (UINT64_C(1) << 20) - 1;        /* 32-bit mask, 4 KiB pages */

    CU_ASSERT_EQUAL_FATAL(iova_domain_init(&d, 1, top, 1), 0);
    /* Single pages come from the top down. */
    for (uint64_t k = 0; k < 5; k++) {
        CU_ASSERT_EQUAL(iova_alloc(&d, 0, 1, &pfn), 0);
        CU_ASSERT_EQUAL(pfn, top - k);
    }
    /* Next free pfn is top - 5 = ...fa. A 3-page request takes a 4-page
     * block aligned to 4: the highest 4-aligned block below ...fb is
     * [...f4, ...f7]. */
    CU_ASSERT_EQUAL(iova_block_pages(3), 4);
    CU_ASSERT_EQUAL(iova_alloc(&d, 0, 3, &pfn), 0);
    CU_ASSERT_EQUAL(pfn, top + 1 - 12);
    /* The gap [...f8, ...fa] left by alignment is used by a later page. */
    CU_ASSERT_EQUAL(iova_alloc(&d, 0, 1, &pfn), 0);
    CU_ASSERT_EQUAL(pfn, top - 5);
    /* An uncached size (40 pages) is not rounded, but aligned to 64. */
    CU_ASSERT_EQUAL(iova_block_pages(40), 40);
    CU_ASSERT_EQUAL(iova_alloc(&d, 0, 40, &pfn), 0);
    CU_ASSERT_EQUAL(pfn % 64, 0);
    CU_ASSERT_TRUE(pfn + 40 <= top + 1 - 12);
    CU_ASSERT_EQUAL(pfn, (top + 1 - 12 - 40) & ~UINT64_C(63));
    CU_ASSERT_TRUE(iova_is_allocated(&d, pfn + 39));
    CU_ASSERT_EQUAL(iova_free(&d, 0, pfn, 40), 0);
    CU_ASSERT_FALSE(iova_is_allocated(&d, pfn));
    CU_ASSERT_EQUAL(iova_free(&d, 0, pfn, 40), SIM_ENOENT);      /* double free */
    iova_domain_destroy(&d);
}

void test_iova_lifo_reuse_and_depot(void)
{
    struct iova_domain d;
    enum { N = 2 * IOVA_MAG_SIZE + 3 * IOVA_MAG_SIZE };
    static uint64_t pfn[N];
    uint64_t p;

    CU_ASSERT_EQUAL_FATAL(iova_domain_init(&d, 1, (UINT64_C(1) << 20) - 1, 1), 0);
    for (unsigned i = 0; i < N; i++)
        CU_ASSERT_EQUAL(iova_alloc(&d, 0, 1, &pfn[i]), 0);
    CU_ASSERT_EQUAL(d.st.tree_allocs, N);
    /* Free in order: two magazines fill (loaded, then prev), then each
     * further full magazine goes to the depot: 3 pushes for 5 magazines. */
    for (unsigned i = 0; i < N; i++)
        CU_ASSERT_EQUAL(iova_free(&d, 0, pfn[i], 1), 0);
    CU_ASSERT_EQUAL(d.st.depot_pushes, 3);
    CU_ASSERT_EQUAL(d.st.tree_frees, 0);        /* cached IOVAs stay in the tree */
    /* LIFO: the last freed comes back first, and every later allocation is
     * a cache hit returning a recently freed pfn. */
    CU_ASSERT_EQUAL(iova_alloc(&d, 0, 1, &p), 0);
    CU_ASSERT_EQUAL(p, pfn[N - 1]);
    for (unsigned i = 1; i < N; i++)
        CU_ASSERT_EQUAL(iova_alloc(&d, 0, 1, &p), 0);
    CU_ASSERT_EQUAL(d.st.cache_hits, N);
    CU_ASSERT_EQUAL(d.st.tree_allocs, N);       /* no new tree allocations */
    CU_ASSERT_EQUAL(iova_alloc(&d, 0, 1, &p), 0);
    CU_ASSERT_EQUAL(d.st.tree_allocs, N + 1);   /* caches empty: the tree again */
    iova_domain_destroy(&d);
}

void test_iova_drain_on_exhaustion(void)
{
    struct iova_domain d;
    uint64_t pfn[16], p;

    /* 16 usable pfns: [16, 31]. */
    CU_ASSERT_EQUAL_FATAL(iova_domain_init(&d, 16, 31, 1), 0);
    for (unsigned i = 0; i < 16; i++)
        CU_ASSERT_EQUAL(iova_alloc(&d, 0, 1, &pfn[i]), 0);
    CU_ASSERT_EQUAL(iova_alloc(&d, 0, 1, &p), SIM_ERANGE);
    for (unsigned i = 0; i < 16; i++)
        iova_free(&d, 0, pfn[i], 1);
    /* Every pfn sits in a magazine; a 16-page block needs the caches
     * drained back to the tree, then fits exactly at 16. */
    CU_ASSERT_EQUAL(iova_alloc(&d, 0, 16, &p), 0);
    CU_ASSERT_EQUAL(p, 16);
    CU_ASSERT_EQUAL(d.st.drains, 2);            /* the failure above, and this one */
    iova_domain_destroy(&d);
}

/* --- The mapping layer on a generic IOMMU -------------------------------- */

struct env {
    struct sim sim;
    struct mem mem;
    struct generic_iommu g;
    struct generic_domains doms;    /* the OS's view of g's domains */
    struct os_dma d;
};

static void env_init(struct env *e, enum os_dma_policy pol, unsigned cpus)
{
    struct mem_cfg mc;
    struct generic_cfg c;
    struct os_dma_cfg oc;
    char err[200];
    struct iommu_domain *idom;

    sim_init(&e->sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = 1;
    mc.interleave = 64;
    CU_ASSERT_EQUAL_FATAL(mem_init(&e->mem, &e->sim, &mc, err, sizeof(err)), 0);
    memset(&c, 0, sizeof(c));
    c.levels = 4;
    c.pgsize_bitmap = 0x40201000;
    c.iotlb.arr[0] = (struct iotlb_array_cfg){ 64, 4 };
    c.iotlb.mshrs = 4;
    c.walk.walkers = 1;
    c.lookup_ports = 1;
    c.lookup_cycle = 1 * NS;
    c.max_domains = 4;
    c.max_devices = 4;
    CU_ASSERT_EQUAL_FATAL(generic_create(&e->g, &e->sim, &e->mem, &c, err, sizeof(err)), 0);
    memset(&oc, 0, sizeof(oc));
    oc.policy = pol;
    oc.cpus = cpus;
    oc.dma_bits = 32;
    oc.map_cost = 100 * NS;
    oc.unmap_cost = 50 * NS;
    oc.inval_submit = 20 * NS;
    oc.inval_wait = 1000 * NS;
    oc.fq_size = 256;
    oc.fq_timeout = 10 * MS;
    oc.path = "sys.dev.dma";
    CU_ASSERT_EQUAL_FATAL(generic_domains_init(&e->doms, &e->g), 0);
    CU_ASSERT_EQUAL_FATAL(generic_domains_get(&e->doms, 1, &idom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(os_dma_init(&e->d, &e->sim, idom, &oc, err, sizeof(err)), 0);
}

static void env_destroy(struct env *e)
{
    sim_destroy(&e->sim);           /* first: the models' events die with it */
    os_dma_destroy(&e->d);
    generic_domains_destroy(&e->doms);
    generic_destroy(&e->g);
    mem_destroy(&e->mem);
}

void test_os_strict_one_invalidation_per_unmap(void)
{
    struct env e;
    uint64_t iova[10];
    sim_tick_t done;
    char err[200];
    struct os_dma other;
    struct os_dma_cfg oc;

    env_init(&e, OS_DMA_STRICT, 1);
    for (unsigned i = 0; i < 10; i++) {
        CU_ASSERT_EQUAL(os_dma_map(&e.d, 0, 0x100000 + i * 0x1000, 2048, IOMMU_WO,
                                   &iova[i], &done), 0);
        /* One CPU, all at tick 0: the i-th map finishes after i+1 maps. */
        CU_ASSERT_EQUAL(done, (i + 1) * 100 * NS);
    }
    CU_ASSERT_EQUAL(e.g.dom[1].st.leaves, 10);
    sim_run_until(&e.sim, 10 * 100 * NS, 0);
    for (unsigned i = 0; i < 10; i++) {
        sim_tick_t now = sim_now(&e.sim);

        CU_ASSERT_EQUAL(os_dma_unmap(&e.d, 0, iova[i], 2048, &done), 0);
        /* The CPU is busy with the earlier unmaps: each takes 50+20+1000 ns. */
        CU_ASSERT_EQUAL(done, now + (i + 1) * 1070 * NS);
    }
    CU_ASSERT_EQUAL(e.d.st.invalidations, 10);
    CU_ASSERT_EQUAL(e.d.st.waits, 10);
    CU_ASSERT_EQUAL(e.g.tlb.st.inval_domain, 0);
    CU_ASSERT_EQUAL(e.g.st.unmaps, 10);
    /* A second layer on the same domain is refused. */
    oc = e.d.cfg;
    CU_ASSERT_EQUAL(os_dma_init(&other, &e.sim, e.d.dom, &oc, err, sizeof(err)), SIM_EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "sys.dev.dma: already exists (domain 1"));
    env_destroy(&e);
}

void test_os_lazy_flush_count(void)
{
    struct env e;
    enum { N = 1000 };
    static uint64_t iova[N];
    sim_tick_t done;

    env_init(&e, OS_DMA_LAZY, 1);
    for (unsigned i = 0; i < N; i++)
        CU_ASSERT_EQUAL(os_dma_map(&e.d, 0, (uint64_t)i << 12, 4096, IOMMU_RW, &iova[i], &done), 0);
    for (unsigned i = 0; i < N; i++)
        CU_ASSERT_EQUAL(os_dma_unmap(&e.d, 0, iova[i], 4096, &done), 0);
    /* A ring of 256 forces a flush on the 257th, 513th and 769th unmap:
     * floor((N - 1) / 256) = 3; 1000 - 768 = 232 wait for the timer. */
    CU_ASSERT_EQUAL(e.d.st.flushes_full, 3);
    CU_ASSERT_EQUAL(os_dma_fq_pending(&e.d), N - 3 * 256);
    CU_ASSERT_EQUAL(e.d.st.flushes_timeout, 0);
    sim_run_until(&e.sim, 20 * MS, 0);
    CU_ASSERT_EQUAL(e.d.st.flushes_timeout, 1);
    CU_ASSERT_EQUAL(e.d.st.invalidations, (N + 255) / 256);     /* ceil(N / 256) */
    CU_ASSERT_EQUAL(e.g.tlb.st.inval_domain, (N + 255) / 256);
    CU_ASSERT_EQUAL(os_dma_fq_pending(&e.d), 0);
    CU_ASSERT_EQUAL(e.d.st.stale_entries, N);
    /* Every page table entry is gone once flushed. */
    CU_ASSERT_EQUAL(e.g.dom[1].st.leaves, 0);
    CU_ASSERT_EQUAL(e.d.iovad.st.pages_live, 0);
    env_destroy(&e);
}

void test_os_lazy_stale_window_and_domain_flush(void)
{
    struct env e;
    uint64_t a, b;
    sim_tick_t done;
    struct iotlb_hit h;

    env_init(&e, OS_DMA_LAZY, 1);
    CU_ASSERT_EQUAL(os_dma_map(&e.d, 0, 0x200000, 4096, IOMMU_RW, &a, &done), 0);
    CU_ASSERT_EQUAL(os_dma_map(&e.d, 0, 0x300000, 4096, IOMMU_RW, &b, &done), 0);
    /* Both cached in the IOTLB; b stays mapped (a live entry). */
    iotlb_insert(&e.g.tlb, 1, 0, a, 0x200000, 0xfff, IOMMU_RW);
    iotlb_insert(&e.g.tlb, 1, 0, b, 0x300000, 0xfff, IOMMU_RW);
    sim_run_until(&e.sim, 1000 * NS, 0);
    CU_ASSERT_EQUAL(os_dma_unmap(&e.d, 0, a, 4096, &done), 0);
    CU_ASSERT_EQUAL(done, 1050 * NS);               /* only the unmap cost */
    /* In the stale window the old buffer is still reachable. */
    CU_ASSERT_TRUE(iotlb_lookup(&e.g.tlb, 1, 0, a, &h));
    sim_run_until(&e.sim, 1000 * NS + 10 * MS - 1, 0);
    CU_ASSERT_EQUAL(e.d.st.flushes_timeout, 0);
    sim_run_until(&e.sim, 1000 * NS + 10 * MS, 0);
    CU_ASSERT_EQUAL(e.d.st.flushes_timeout, 1);
    /* The domain-wide flush took the live entry b too. */
    CU_ASSERT_FALSE(iotlb_lookup(&e.g.tlb, 1, 0, a, &h));
    CU_ASSERT_FALSE(iotlb_lookup(&e.g.tlb, 1, 0, b, &h));
    {
        struct pgtable_result r;

        CU_ASSERT_NOT_EQUAL(pgtable_lookup(&e.g.dom[1], a, &r), 0);    /* cleared */
        CU_ASSERT_EQUAL(pgtable_lookup(&e.g.dom[1], b, &r), 0);        /* still mapped */
    }
    /* Stale window: unmapped at 1 us, flush issued at 1 us + 10 ms,
     * complete 20 + 1000 ns later. */
    CU_ASSERT_EQUAL(e.d.st.stale_entries, 1);
    CU_ASSERT_EQUAL(e.d.st.stale_max, 10 * MS + 1020 * NS);
    env_destroy(&e);
}

void test_os_no_reuse_before_invalidation(void)
{
    for (int pol = OS_DMA_STRICT; pol <= OS_DMA_LAZY; pol++) {
        struct env e;
        uint64_t a, x;
        sim_tick_t done, free_at;

        env_init(&e, (enum os_dma_policy)pol, 1);
        CU_ASSERT_EQUAL(os_dma_map(&e.d, 0, 0x200000, 4096, IOMMU_RW, &a, &done), 0);
        sim_run_until(&e.sim, done, 0);
        CU_ASSERT_EQUAL(os_dma_unmap(&e.d, 0, a, 4096, &done), 0);
        /* strict: free once the wait is over; lazy: once the timer flush
         * (issued 10 ms after the unmap) completes. */
        free_at = pol == OS_DMA_STRICT ? done
                                       : sim_now(&e.sim) + 10 * MS + 1020 * NS;
        /* Map and unmap other buffers just before that: never a. */
        sim_run_until(&e.sim, free_at - 1, 0);
        for (int k = 0; k < 3; k++) {
            CU_ASSERT_EQUAL(os_dma_map(&e.d, 0, 0x400000, 4096, IOMMU_RW, &x, &done), 0);
            CU_ASSERT_NOT_EQUAL(x, a);
        }
        sim_run_until(&e.sim, free_at + 5 * MS, 0);
        /* Freed now, a recurs: the last IOVA freed is the first reused. */
        CU_ASSERT_EQUAL(os_dma_map(&e.d, 0, 0x500000, 4096, IOMMU_RW, &x, &done), 0);
        CU_ASSERT_EQUAL(x, a);
        env_destroy(&e);
    }
}

void test_os_passthrough_identity(void)
{
    struct env e;
    uint64_t a;
    sim_tick_t done;

    env_init(&e, OS_DMA_PASSTHROUGH, 1);
    CU_ASSERT_FALSE(os_dma_translates(&e.d));
    CU_ASSERT_EQUAL(os_dma_map(&e.d, 0, 0x123456, 100, IOMMU_RW, &a, &done), 0);
    CU_ASSERT_EQUAL(a, 0x123456);
    CU_ASSERT_EQUAL(done, 0);
    CU_ASSERT_EQUAL(e.g.dom[1].st.leaves, 0);
    CU_ASSERT_EQUAL(os_dma_unmap(&e.d, 0, a, 100, &done), 0);
    CU_ASSERT_EQUAL(e.d.st.invalidations, 0);
    env_destroy(&e);
}
