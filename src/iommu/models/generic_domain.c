/*
 * generic_domain.c - the driver's view (iommu/domain.h) of a `generic` IOMMU.
 *
 * The generic model has no invalidation hardware to time: its driver's
 * invalidations complete at once and the OS layer's inval_submit and
 * inval_wait parameters carry their cost. What does take simulated time is
 * the notifier users' work (a VFIO shadow mapper behind caching mode), which
 * generic_unmap() reports and the unmap passes on as its completion.
 *
 * Unmap invalidates the IOTLB range and the walk caches in both modes (that
 * is how generic_unmap() keeps B11); a deferred unmap is only called by the
 * OS layer at the start of a lazy flush, which then invalidates the whole
 * domain with flush_all(), live entries included, as Linux's flush queue
 * does.
 */
#include "iommu/models/generic_domain.h"

#include <stdio.h>
#include <stdlib.h>

#include "engine/error.h"

static struct generic_iommu *dom_g(const struct iommu_domain *dom)
{
    return dom->model;
}

static int gd_map(struct iommu_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
                  unsigned perm, sim_tick_t at, sim_tick_t *done)
{
    sim_tick_t notified = at;
    int r = generic_map_timed(dom_g(dom), dom->id, iova, pa, size, perm, &notified);

    /* map_events: the MAP notifier users' work (a VFIO shadow) is the map's. */
    *done = notified > at ? notified : at;
    return r;
}

static int gd_unmap(struct iommu_domain *dom, uint64_t iova, uint64_t size, unsigned flags,
                    sim_tick_t at, sim_tick_t *done)
{
    sim_tick_t notified = at;
    int r;

    (void)flags;
    r = generic_unmap(dom_g(dom), dom->id, iova, size, &notified);
    *done = notified > at ? notified : at;
    return r;
}

static sim_tick_t gd_flush_all(struct iommu_domain *dom, sim_tick_t at)
{
    iotlb_inval_domain(&dom_g(dom)->tlb, dom->id);
    return at;
}

static struct iommu_tlb_entry gd_lookup(struct iommu_domain *dom, uint64_t iova)
{
    struct pgtable_result pr;
    struct iommu_tlb_entry e = { 0 };

    if (pgtable_lookup(&dom_g(dom)->dom[dom->id], iova, &pr) != 0)
        return e;
    e.iova = iova & ~pr.addr_mask;
    e.translated_addr = pr.translated_addr;
    e.addr_mask = pr.addr_mask;
    e.perm = pr.perm;
    return e;
}

static const struct iommu_domain_ops generic_domain_ops = {
    .map = gd_map,
    .unmap = gd_unmap,
    .flush_all = gd_flush_all,
    .lookup = gd_lookup,
};

int generic_domains_init(struct generic_domains *d, struct generic_iommu *g)
{
    d->g = g;
    d->v = calloc(g->cfg.max_domains, sizeof(*d->v));
    return d->v ? 0 : SIM_ENOMEM;
}

void generic_domains_destroy(struct generic_domains *d)
{
    free(d->v);
    d->v = NULL;
}

int generic_domains_get(struct generic_domains *d, unsigned id, struct iommu_domain **out,
                        char *err, size_t errlen)
{
    struct generic_iommu *g = d->g;
    struct iommu_domain *dom;
    int r;

    if (id >= g->cfg.max_domains) {
        snprintf(err, errlen, "domain: beyond the IOMMU's domains (got %u, expected < "
                 "max_domains = %u of %s)", id, g->cfg.max_domains, g->cfg.path);
        return SIM_ERANGE;
    }
    dom = &d->v[id];
    if (!dom->ops) {
        r = generic_domain_create(g, id);
        if (r && r != SIM_EEXIST) {
            snprintf(err, errlen, "domain: cannot create domain %u of %s (%s)", id,
                     g->cfg.path, sim_strerror(r));
            return r;
        }
        dom->ops = &generic_domain_ops;
        dom->id = id;
        dom->addr_bits = 12 + 9 * g->cfg.levels;
        dom->pgsize_bitmap = g->cfg.pgsize_bitmap;
        dom->model = g;
    }
    *out = dom;
    return 0;
}
