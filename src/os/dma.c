/*
 * dma.c - the OS DMA-mapping layer (see dma.h for the policies and what
 * each costs).
 *
 * Two pieces of timed state besides the CPU resource:
 *  - the pending-free FIFO: IOVAs whose invalidation has been issued but not
 *    completed. Their free_at ticks are made non-decreasing (a later entry
 *    never frees before an earlier one), which can only delay a reuse, never
 *    advance it; one event (the reaper) frees them when due.
 *  - lazy mode's flush-queue rings and its one timer.
 */
#include "os/dma.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/iommu.h"

const char *const os_dma_policy_names[] = { "strict", "lazy", "persistent", "passthrough", NULL };

/*
 * The IOVA granule is the domain's smallest page, as Linux's
 * iommu_dma_init_domain() takes 1 << __ffs(pgsize_bitmap): 4 KiB
 * (OS_DMA_GRANULE) for the x86 models, 16 or 64 KiB for an SMMUv3 domain
 * with that translation granule. IOVAs are allocated, mapped and unmapped
 * in units of it.
 */
static inline unsigned page_shift(const struct os_dma *d)
{
    uint64_t b = d->dom->pgsize_bitmap;

    return ((b & (OS_DMA_GRANULE - 1)) || !b) ? 12u : (unsigned)__builtin_ctzll(b);
}

static inline uint64_t page_mask(const struct os_dma *d)
{
    return (UINT64_C(1) << page_shift(d)) - 1;
}

static uint64_t span_pages(const struct os_dma *d, uint64_t addr, uint64_t bytes)
{
    return (((addr & page_mask(d)) + bytes + page_mask(d)) >> page_shift(d));
}

/* --- Pending frees ---------------------------------------------------------- */

static void reaper_fire(struct sim_event *ev, void *arg);

static int pend_push(struct os_dma *d, uint64_t pfn, uint64_t pages, unsigned cpu,
                     sim_tick_t free_at)
{
    struct os_dma_pending *p;

    if (d->pend_n == d->pend_cap) {
        size_t cap = d->pend_cap ? d->pend_cap * 2 : 1024;
        struct os_dma_pending *n = malloc(cap * sizeof(*n));

        if (!n)
            return SIM_ENOMEM;
        for (size_t i = 0; i < d->pend_n; i++)
            n[i] = d->pend[(d->pend_head + i) % d->pend_cap];
        free(d->pend);
        d->pend = n;
        d->pend_head = 0;
        d->pend_cap = cap;
    }
    if (d->pend_n) {
        const struct os_dma_pending *tail =
            &d->pend[(d->pend_head + d->pend_n - 1) % d->pend_cap];

        if (tail->free_at > free_at)
            free_at = tail->free_at;
    }
    p = &d->pend[(d->pend_head + d->pend_n) % d->pend_cap];
    p->pfn = pfn;
    p->pages = pages;
    p->cpu = cpu;
    p->free_at = free_at;
    d->pend_n++;
    if (!sim_event_is_scheduled(&d->reaper))
        sim_event_schedule(d->sim, &d->reaper, free_at);
    return 0;
}

static void reaper_fire(struct sim_event *ev, void *arg)
{
    struct os_dma *d = arg;
    sim_tick_t now = sim_now(d->sim);

    (void)ev;
    while (d->pend_n && d->pend[d->pend_head].free_at <= now) {
        const struct os_dma_pending *p = &d->pend[d->pend_head];

        iova_free(&d->iovad, p->cpu, p->pfn, p->pages);
        d->pend_head = (d->pend_head + 1) % d->pend_cap;
        d->pend_n--;
    }
    if (d->pend_n)
        sim_event_schedule(d->sim, &d->reaper, d->pend[d->pend_head].free_at);
}

static sim_tick_t cpu_charge(struct os_dma *d, sim_tick_t cost)
{
    d->st.cpu_ticks += (double)cost;
    return sim_resource_reserve(&d->cpu, cost, NULL);
}

static void count_stale(struct os_dma *d, sim_tick_t unmapped, sim_tick_t done)
{
    sim_tick_t w = done - unmapped;

    d->st.stale_entries++;
    d->st.stale_sum += (double)w;
    if (w > d->st.stale_max)
        d->st.stale_max = w;
}

/* --- Lazy: the flush queue ------------------------------------------------ */

/*
 * A domain-wide flush whose CPU work (submit, then the wait) ends at @done,
 * the submit part at @done - inval_wait: remove the queued entries from the
 * page tables (their users hear UNMAP now, B11), invalidate the whole domain
 * (live entries too, which is the price of lazy mode), and hand every queued
 * IOVA to the pending FIFO, free once both the CPU's wait and the model's
 * invalidation (and its notifier users) are over. Returns that tick.
 */
static sim_tick_t fq_flush(struct os_dma *d, sim_tick_t done)
{
    unsigned size = d->cfg.fq_size;
    sim_tick_t at = done - d->cfg.inval_wait, end = done, t;

    for (unsigned c = 0; c < d->nrings; c++) {
        const struct os_fq_entry *ring = &d->fq[(size_t)c * size];

        for (unsigned i = 0; i < d->fq_count[c]; i++) {
            const struct os_fq_entry *e = &ring[(d->fq_head[c] + i) % size];

            if (iommu_domain_unmap(d->dom, e->pfn << page_shift(d), e->pages << page_shift(d),
                                   IOMMU_UNMAP_DEFER_FLUSH, at, &t) == 0 && t > end)
                end = t;
        }
    }
    t = iommu_domain_flush_all(d->dom, at);
    if (t > end)
        end = t;
    for (unsigned c = 0; c < d->nrings; c++) {
        const struct os_fq_entry *ring = &d->fq[(size_t)c * size];

        while (d->fq_count[c]) {
            const struct os_fq_entry *e = &ring[d->fq_head[c]];

            count_stale(d, e->unmapped, end);
            pend_push(d, e->pfn, e->pages, e->cpu, end);
            d->fq_head[c] = (d->fq_head[c] + 1) % size;
            d->fq_count[c]--;
        }
    }
    d->fq_total = 0;
    d->st.invalidations++;
    d->st.waits++;
    return end;
}

static void fq_timer_fire(struct sim_event *ev, void *arg)
{
    struct os_dma *d = arg;

    (void)ev;
    if (!d->fq_total)
        return;
    d->st.flushes_timeout++;
    fq_flush(d, cpu_charge(d, d->cfg.inval_submit + d->cfg.inval_wait));
}

/* --- Set-up ----------------------------------------------------------------- */

int os_dma_init(struct os_dma *d, struct sim *sim, struct iommu_domain *dom,
                const struct os_dma_cfg *cfg, char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "dma";
    unsigned bits = cfg->dma_bits;
    unsigned width = dom->addr_bits;
    int r;

    memset(d, 0, sizeof(*d));
    d->sim = sim;
    d->cfg = *cfg;
    d->dom = dom;
    if (cfg->cpus < 1)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "cpus must be >= 1 (got %u)", cfg->cpus);
    /* What the model's driver imposes (linux-dma.md): strict under caching
       mode, one shared flush queue for virtio-iommu. */
    if (d->cfg.policy == OS_DMA_LAZY && (dom->flags & IOMMU_DOMAIN_STRICT_ONLY)) {
        d->cfg.policy = OS_DMA_STRICT;
        d->forced_strict = true;
    }
    d->nrings = (dom->flags & IOMMU_DOMAIN_SINGLE_FQ) ? 1 : cfg->cpus;
    if (!d->cfg.fq_size)
        d->cfg.fq_size = (dom->flags & IOMMU_DOMAIN_SINGLE_FQ) ? OS_DMA_SHARED_FQ_SIZE
                                                               : IOVA_DEFAULT_FQ_SIZE;
    if (!d->cfg.fq_timeout)
        d->cfg.fq_timeout = (dom->flags & IOMMU_DOMAIN_SINGLE_FQ) ? OS_DMA_SHARED_FQ_TIMEOUT
                                                                  : IOVA_DEFAULT_FQ_TIMEOUT;
    if (bits < 13 || bits > 64)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "dma_bits (got %u, expected 13..64)", bits);
    if (bits > width)
        bits = width;               /* the mask cannot exceed what the tables translate */
    if (dom->os_owner)
        return sim_error_format(err, errlen, SIM_EEXIST, path,
                                "domain %u is taken by another device; one IOVA allocator per domain",
                                dom->id);
    r = iova_domain_init(&d->iovad, 1,
                         (bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1) >> page_shift(d),
                         cfg->cpus);
    if (r)
        return sim_error_format(err, errlen, r, path, "IOVA allocator");
    r = sim_resource_init(&d->cpu, sim, cfg->cpus);
    if (r) {
        iova_domain_destroy(&d->iovad);
        return sim_error_format(err, errlen, r, path, NULL);
    }
    d->fq = calloc((size_t)d->nrings * d->cfg.fq_size, sizeof(*d->fq));
    d->fq_head = calloc(d->nrings, sizeof(*d->fq_head));
    d->fq_count = calloc(d->nrings, sizeof(*d->fq_count));
    if (!d->fq || !d->fq_head || !d->fq_count) {
        os_dma_destroy(d);
        return sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
    }
    sim_event_init(&d->timer, fq_timer_fire, d, SIM_PRIO_DEFAULT);
    sim_event_init(&d->reaper, reaper_fire, d, SIM_PRIO_DEFAULT);
    dom->os_owner = d;
    return 0;
}

void os_dma_destroy(struct os_dma *d)
{
    /* Its events died with the simulation (sim_destroy() first). */
    free(d->fq);
    free(d->fq_head);
    free(d->fq_count);
    free(d->pend);
    d->fq = NULL;
    d->fq_head = d->fq_count = NULL;
    d->pend = NULL;
    sim_resource_destroy(&d->cpu);
    iova_domain_destroy(&d->iovad);
    if (d->dom && d->dom->os_owner == d)
        d->dom->os_owner = NULL;
}

/* --- Map and unmap ---------------------------------------------------------- */

int os_dma_map(struct os_dma *d, unsigned cpu, uint64_t pa, uint64_t bytes,
               unsigned perm, uint64_t *iova, sim_tick_t *done)
{
    uint64_t pages, pfn;
    sim_tick_t t, mdone;
    int r;

    cpu %= d->cfg.cpus;
    if (bytes == 0)
        return SIM_EINVAL;
    if (d->cfg.policy == OS_DMA_PASSTHROUGH) {
        *iova = pa;
        *done = sim_now(d->sim);
        d->st.maps++;
        d->st.map_bytes += bytes;
        return 0;
    }
    pages = span_pages(d, pa, bytes);
    r = iova_alloc(&d->iovad, cpu, pages, &pfn);
    if (r) {
        d->st.map_failures++;
        return r;
    }
    /* The driver writes the PTEs (map_cost of CPU), then the model does
       what follows a map on it (a caching-mode flush, a request to the
       host) from that tick on. A failed map has cost the CPU all the same. */
    t = cpu_charge(d, d->cfg.map_cost);
    r = iommu_domain_map(d->dom, pfn << page_shift(d), pa & ~page_mask(d), pages << page_shift(d),
                         perm, t, &mdone);
    if (r) {
        iova_free(&d->iovad, cpu, pfn, pages);
        d->st.map_failures++;
        return r;
    }
    *iova = (pfn << page_shift(d)) | (pa & page_mask(d));
    *done = mdone > t ? mdone : t;
    d->st.maps++;
    d->st.map_bytes += bytes;
    return 0;
}

int os_dma_unmap(struct os_dma *d, unsigned cpu, uint64_t iova, uint64_t bytes,
                 sim_tick_t *done)
{
    uint64_t pages = span_pages(d, iova, bytes), pfn = iova >> page_shift(d);
    sim_tick_t now = sim_now(d->sim), t, start, mdone;
    int r;

    cpu %= d->cfg.cpus;
    if (bytes == 0)
        return SIM_EINVAL;
    d->st.unmaps++;
    if (d->cfg.policy == OS_DMA_PASSTHROUGH) {
        *done = now;
        return 0;
    }
    if (d->cfg.policy == OS_DMA_LAZY) {
        unsigned size = d->cfg.fq_size;
        unsigned ring = d->nrings == 1 ? 0 : cpu;
        bool full = d->fq_count[ring] == size;
        sim_tick_t cost = d->cfg.unmap_cost +
                          (full ? d->cfg.inval_submit + d->cfg.inval_wait : 0);

        t = cpu_charge(d, cost);
        start = t - cost;
        if (full) {
            d->st.flushes_full++;
            t = fq_flush(d, t);
        }
        d->fq[(size_t)ring * size + (d->fq_head[ring] + d->fq_count[ring]) % size] =
            (struct os_fq_entry){ pfn, pages, start, cpu };
        d->fq_count[ring]++;
        d->fq_total++;
        d->st.fq_queued++;
        if (!sim_event_is_scheduled(&d->timer))
            sim_event_schedule_in(d->sim, &d->timer, d->cfg.fq_timeout);
        *done = t;
        return 0;
    }
    /* strict (and persistent's rare unmap): clear, invalidate, wait. The
       model's invalidation starts when the CPU has submitted it; the wait
       lasts until the later of the CPU's inval_wait and the model's
       completion (its queue, its notified consumers). */
    t = cpu_charge(d, d->cfg.unmap_cost + d->cfg.inval_submit + d->cfg.inval_wait);
    start = t - (d->cfg.unmap_cost + d->cfg.inval_submit + d->cfg.inval_wait);
    r = iommu_domain_unmap(d->dom, pfn << page_shift(d), pages << page_shift(d), 0,
                           start + d->cfg.unmap_cost + d->cfg.inval_submit, &mdone);
    if (r)
        return r;
    if (mdone > t)
        t = mdone;
    d->st.invalidations++;
    d->st.waits++;
    count_stale(d, start, t);
    *done = t;
    return pend_push(d, pfn, pages, cpu, t);
}

void os_dma_reset_stats(struct os_dma *d)
{
    memset(&d->st, 0, sizeof(d->st));
    sim_resource_reset_stats(&d->cpu);
}
