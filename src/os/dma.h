/*
 * dma.h - the OS DMA-mapping layer: what a kernel's DMA API does for a
 * driver, because it decides the IOTLB's fate.
 *
 * One struct os_dma is one device's DMA domain on an IOMMU of any model,
 * driven through the domain ops of iommu/domain.h: an IOVA allocator (iova.h), the driver's CPUs (a sim_resource of `cpus`
 * servers on which every map, unmap and invalidation costs time) and one of
 * the Linux policies (shared/spec/linux-dma.md, docs/os.md):
 *
 *  - strict: every unmap clears the page tables, invalidates the IOTLB for
 *    the range and waits for completion (CPU time unmap_cost + inval_submit
 *    + inval_wait). One invalidation per unmap. The IOVA returns to the
 *    allocator when the wait is over.
 *  - lazy ("DMA_FQ", the x86 default): an unmap costs unmap_cost and puts
 *    the IOVA on its CPU's flush-queue ring (fq_size entries, default
 *    IOVA_DEFAULT_FQ_SIZE 256). A full ring first forces a domain-wide
 *    flush (the unmapping CPU also pays inval_submit + inval_wait); else a
 *    timer (fq_timeout, default IOVA_DEFAULT_FQ_TIMEOUT 10 ms, one per
 *    domain, armed when not pending) flushes. A flush covers every queued
 *    entry of every ring. IOVAs are not reused before the flush covering
 *    them completed; until then the device can still reach the old buffer,
 *    and that stale window (unmap to flush completion) is counted.
 *    In the simulation the page-table entries of a queued IOVA are cleared
 *    when its flush starts rather than at unmap: a well-behaved device never
 *    touches them in between, so timing is the same, and the notifier
 *    contract (B11) holds because consumers hear the UNMAP before the
 *    mapping changes. The flush then invalidates the whole domain in the
 *    IOTLB, live entries included, which is the cost lazy mode trades for
 *    fewer invalidations.
 *  - persistent: buffers are mapped once at start and never unmapped
 *    (os_dma_per_io() is false, so traffic patterns map their pool up
 *    front); map/unmap, if called, behave as strict.
 *  - passthrough: the identity (iommu.passthrough=1): map returns the
 *    physical address at no cost and devices skip translation.
 *
 * Completion ticks: every call changes the functional state at once and
 * returns, in *done, the tick at which the CPU work (and any wait) is over;
 * the caller must not let the device use a mapping before that tick. When
 * the CPUs are busy the work queues (FIFO); an unmap's stale window is
 * measured from the moment its CPU work starts, not from the call.
 *
 * Hot path: nothing allocates in steady state (the frees waiting on an
 * invalidation sit in a ring that grows by doubling only past its peak).
 */
#ifndef SIM_OS_DMA_H
#define SIM_OS_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/resource.h"
#include "engine/sim.h"
#include "iommu/domain.h"
#include "os/iova.h"

#define OS_DMA_GRANULE 4096u

/* Linux's flush-queue defaults (drivers/iommu/dma-iommu.c, linux-dma.md):
   per-CPU rings, and the single shared queue of virtio-iommu and s390. */
#define IOVA_DEFAULT_FQ_SIZE 256u
#define IOVA_DEFAULT_FQ_TIMEOUT (10 * SIM_TICKS_PER_MS)
#define OS_DMA_SHARED_FQ_SIZE 32768u
#define OS_DMA_SHARED_FQ_TIMEOUT (1000 * SIM_TICKS_PER_MS)

enum os_dma_policy { OS_DMA_STRICT = 0, OS_DMA_LAZY, OS_DMA_PERSISTENT, OS_DMA_PASSTHROUGH };

/* "strict", "lazy", "persistent", "passthrough"; NULL-terminated. */
extern const char *const os_dma_policy_names[];

struct os_dma_cfg {
    enum os_dma_policy policy;
    unsigned cpus;                  /* driver CPUs: servers and per-CPU caches/rings */
    unsigned dma_bits;              /* DMA mask: IOVAs below 2^dma_bits */
    sim_tick_t map_cost;            /* CPU time of one map (alloc + PTE writes) */
    sim_tick_t unmap_cost;          /* CPU time of one unmap (PTE clears, queueing) */
    sim_tick_t inval_submit;        /* CPU time to submit an invalidation */
    sim_tick_t inval_wait;          /* time until the IOMMU reports it complete */
    unsigned fq_size;               /* lazy: entries per ring; 0: Linux's default for
                                     * the domain (256 per CPU, 32768 shared) */
    sim_tick_t fq_timeout;          /* lazy: flush timer; 0: Linux's default
                                     * (10 ms per-CPU rings, 1000 ms shared) */
    const char *path;
};

struct os_dma_stats {
    uint64_t maps, unmaps, map_bytes;
    uint64_t map_failures;          /* no IOVA space or a mapping error */
    uint64_t invalidations;         /* commands: strict per unmap, lazy per flush */
    uint64_t waits;                 /* waits for an invalidation to complete */
    uint64_t flushes_full, flushes_timeout;   /* lazy flushes by cause */
    uint64_t fq_queued;             /* lazy: unmaps put on a ring */
    uint64_t stale_entries;         /* unmapped IOVAs whose invalidation completed */
    double stale_sum;               /* ticks from unmap to invalidation complete */
    sim_tick_t stale_max;
    double cpu_ticks;               /* CPU time charged */
};

struct os_fq_entry {
    uint64_t pfn, pages;
    sim_tick_t unmapped;
    unsigned cpu;                   /* whose IOVA cache gets it back */
};

struct os_dma_pending {
    uint64_t pfn, pages;
    sim_tick_t free_at;
    unsigned cpu;
};

struct os_dma {
    struct sim *sim;
    struct os_dma_cfg cfg;
    struct iommu_domain *dom;
    struct iova_domain iovad;
    struct sim_resource cpu;
    /* lazy: nrings rings of fq_size entries: one per CPU, or one shared
       (IOMMU_DOMAIN_SINGLE_FQ) */
    unsigned nrings;
    bool forced_strict;             /* lazy asked, the domain is strict-only */
    struct os_fq_entry *fq;
    unsigned *fq_head, *fq_count;
    unsigned fq_total;              /* entries in every ring */
    struct sim_event timer;
    /* IOVAs waiting for their invalidation to complete, FIFO by free_at */
    struct os_dma_pending *pend;
    size_t pend_head, pend_n, pend_cap;
    struct sim_event reaper;
    struct os_dma_stats st;
};

/*
 * The layer for @dom (no other layer may own it: one IOVA allocator per
 * domain). SIM_EINVAL/SIM_EEXIST/SIM_ENOMEM with "path: what (got,
 * expected)" in err.
 */
int os_dma_init(struct os_dma *d, struct sim *sim, struct iommu_domain *dom,
                const struct os_dma_cfg *cfg, char *err, size_t errlen);
/* After sim_destroy() (its events are not descheduled, as for every model). */
void os_dma_destroy(struct os_dma *d);

/* Does a device of this domain translate (everything but passthrough)? */
static inline bool os_dma_translates(const struct os_dma *d)
{
    return d->cfg.policy != OS_DMA_PASSTHROUGH;
}

/* Are buffers mapped per I/O (strict, lazy) rather than once (persistent,
 * passthrough)? */
static inline bool os_dma_per_io(const struct os_dma *d)
{
    return d->cfg.policy == OS_DMA_STRICT || d->cfg.policy == OS_DMA_LAZY;
}

/*
 * dma_map_single: map [pa, pa + bytes) for @perm (IOMMU_RO/WO/RW) on CPU
 * @cpu (taken modulo cpus). *iova gets the device address (same offset in
 * the page as pa), *done the tick the mapping may be used from. SIM_ERANGE
 * when the IOVA space below the mask is full, or the table's error.
 */
int os_dma_map(struct os_dma *d, unsigned cpu, uint64_t pa, uint64_t bytes,
               unsigned perm, uint64_t *iova, sim_tick_t *done);

/* dma_unmap_single of what os_dma_map returned; *done: the CPU is free. */
int os_dma_unmap(struct os_dma *d, unsigned cpu, uint64_t iova, uint64_t bytes,
                 sim_tick_t *done);

/* Lazy: entries waiting in the flush-queue rings. */
static inline unsigned os_dma_fq_pending(const struct os_dma *d)
{
    return d->fq_total;
}

void os_dma_reset_stats(struct os_dma *d);

#endif /* SIM_OS_DMA_H */
