/*
 * iova.h - a Linux-like IOVA allocator, one per DMA domain.
 *
 * What a kernel hands a driver as DMA addresses decides which IOTLB entries
 * recur, so this follows drivers/iommu/iova.c (behaviour only; no code is
 * taken from it), with the facts of shared/spec/linux-dma.md:
 *
 *  - Allocations are in granules (4 KiB pages). A request of n pages takes
 *    a size-aligned block: sizes of the cached orders (n <= 32 pages) are
 *    rounded up to a power of two, as dma-iommu does before it asks the
 *    allocator, and every block is aligned to the next power of two >= n.
 *  - The tree: allocated ranges in address order. A miss in the caches takes
 *    the highest free block at or below the limit (top-down below the DMA
 *    mask) and above start_pfn (pfn 0 is never handed out).
 *  - Per-size caches ("rcaches", after Bonwick and Adams' magazines): for
 *    orders 0..5 (IOVA_RANGE_CACHE_MAX_SIZE 6), each CPU has a loaded and a
 *    previous magazine of IOVA_MAG_SIZE 127 pfns, and the domain a depot of
 *    at most IOVA_MAX_GLOBAL_MAGS 32 full magazines (the older kernels'
 *    MAX_GLOBAL_MAGS). A free goes into the magazines (the IOVA stays
 *    allocated in the tree); an allocation pops the most recently freed pfn
 *    (LIFO), which is why a ring of buffers sees the same IOVAs again and
 *    again. Larger orders always go to the tree.
 *  - When the tree has no room, the caches are drained back to the tree and
 *    the allocation is tried once more (Linux's free_cpu_cached_iovas retry).
 *
 * Costs: a cache hit or insert is O(1) with no allocation (magazines come
 * from a pool sized at init: 2 per CPU plus the depot, per order). A tree
 * allocation is a scan from the top, O(ranges) (the run of abutting ranges
 * under the limit, where top-down allocation packs blocks, is skipped in
 * O(1)), and an insert or removal a
 * memmove in a sorted array; the array grows by doubling, so in steady state
 * it does not allocate. The CPU time these take in a real kernel is a
 * parameter of the mapping layer (dma.h), not measured here.
 */
#ifndef SIM_OS_IOVA_H
#define SIM_OS_IOVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IOVA_MAG_SIZE 127               /* pfns per magazine: 1 KiB with its count */
#define IOVA_RANGE_CACHE_MAX_SIZE 6     /* orders 0..5 are cached (<= 32 pages) */
#define IOVA_MAX_GLOBAL_MAGS 32         /* full magazines in the depot */

struct iova_range {
    uint64_t lo, hi;                    /* pfns, inclusive */
};

struct iova_mag {
    unsigned n;
    struct iova_mag *next_free;         /* the pool's free list */
    uint64_t pfn[IOVA_MAG_SIZE];
};

struct iova_cpu_cache {
    struct iova_mag *loaded, *prev;
};

struct iova_rcache {
    struct iova_mag *depot[IOVA_MAX_GLOBAL_MAGS];
    unsigned ndepot;
    struct iova_cpu_cache *cpu;         /* [ncpus] */
    struct iova_mag *free_mags;         /* empty magazines of the pool */
};

struct iova_stats {
    uint64_t allocs, frees;             /* calls */
    uint64_t cache_hits, cache_misses;  /* allocations of cached orders */
    uint64_t cache_frees;               /* frees kept in a magazine */
    uint64_t tree_allocs, tree_frees;   /* tree operations */
    uint64_t depot_pushes, depot_pops;  /* whole magazines moved */
    uint64_t mag_spills;                /* full magazines returned to the tree */
    uint64_t drains;                    /* caches drained after a tree failure */
    uint64_t failures;                  /* allocations with no room at all */
    uint64_t pages_live;                /* pages allocated and not freed */
};

struct iova_domain {
    uint64_t start_pfn, limit_pfn;      /* usable pfns, inclusive */
    unsigned ncpus;
    struct iova_range *r;               /* allocated ranges, sorted by lo */
    size_t n, cap;
    size_t top_run;                     /* r[n - top_run .. n - 1] abut each other
                                         * and limit_pfn: no gap to scan there */
    struct iova_rcache rcache[IOVA_RANGE_CACHE_MAX_SIZE];
    struct iova_mag *pool;              /* every magazine, one allocation */
    struct iova_stats st;
};

/*
 * start_pfn >= 1 and <= limit_pfn; ncpus >= 1. SIM_EINVAL or SIM_ENOMEM.
 * For a DMA mask of b bits and 4 KiB granules, limit_pfn = 2^(b-12) - 1.
 */
int iova_domain_init(struct iova_domain *d, uint64_t start_pfn, uint64_t limit_pfn,
                     unsigned ncpus);
void iova_domain_destroy(struct iova_domain *d);

/* The block a request of @pages takes (rounding of the cached orders). */
uint64_t iova_block_pages(uint64_t pages);

/*
 * Allocate @pages granules for @cpu (< ncpus; the magazines used). Returns
 * 0 and the first pfn in *pfn, or SIM_ERANGE when no block fits below the
 * limit even after draining the caches, SIM_EINVAL for pages == 0,
 * SIM_ENOMEM if the tree could not grow.
 */
int iova_alloc(struct iova_domain *d, unsigned cpu, uint64_t pages, uint64_t *pfn);

/*
 * Free what iova_alloc(.., pages, ..) returned. Cached orders go to @cpu's
 * magazines; others leave the tree. SIM_ENOENT if no such allocation is in
 * the tree (a double free of an uncached size), else 0.
 */
int iova_free(struct iova_domain *d, unsigned cpu, uint64_t pfn, uint64_t pages);

/* Return every cached pfn to the tree (Linux: free_cpu_cached_iovas etc.). */
void iova_drain_caches(struct iova_domain *d);

/* Is @pfn inside an allocated range of the tree (cached pfns count as
 * allocated, as in Linux)? For tests. */
bool iova_is_allocated(const struct iova_domain *d, uint64_t pfn);

#endif /* SIM_OS_IOVA_H */
