/*
 * vtd_domain.c - the driver's view (iommu/domain.h) of a VT-d domain: map,
 * unmap and flush as Linux's intel-iommu driver issues them.
 *
 *  - map: write the PTEs (the OS layer charges that CPU time). Under
 *    caching mode with second-level tables, follow it with a page-selective
 *    invalidation and wait (Linux: __mapping_notify_one ->
 *    iommu_flush_iotlb_psi(..., map = 1)); processing it is where the
 *    virtual IOMMU sees the map and sends MAP events (B13), so the
 *    descriptor and the wait complete no earlier than the users' work.
 *  - strict unmap: clear the PTEs (UNMAP events to the users now: B11),
 *    then one page-selective invalidation covering the range with an
 *    address mask (the smallest naturally aligned power-of-two block, as
 *    Linux's calculate_psi_aligned_address(); domain-selective if the mask
 *    exceeds max_am), a device-TLB invalidation per device when device TLBs
 *    are enabled, and one wait (Linux >= 6.10 batches them: qi_batch).
 *  - lazy unmap (IOMMU_UNMAP_DEFER_FLUSH): clear the PTEs and tell the
 *    users; no descriptor (the flush queue's later flush_all covers it).
 *    Device TLBs are invalidated at that flush, like the IOTLB: until then
 *    they may hold the stale entry, which is the lazy window.
 *  - flush_all: a domain-selective invalidation (+ device-TLB invalidations
 *    of the whole range) and one wait.
 * Every *done is the wait's completion tick for work issued at @at.
 */
#include "iommu/models/vtd.h"

#include <stddef.h>

#include "engine/error.h"

#define VDOM_OF(d) ((struct vtd_dom *)((char *)(d) - offsetof(struct vtd_dom, od)))

/* The invalidation of [iova, iova + size): page-selective with the mask of
 * the smallest aligned block holding it, or domain-selective beyond max_am. */
static void psi_desc(const struct vtd *v, unsigned did, uint64_t iova, uint64_t size,
                     struct vtd_desc *d)
{
    uint64_t first = iova >> 12, last = (iova + size - 1) >> 12;
    unsigned am = 0;

    while ((first >> am) != (last >> am))
        am++;
    *d = (struct vtd_desc){ .type = VTD_DESC_IOTLB_PAGE, .did = (uint16_t)did,
                            .am = (uint8_t)am, .addr = (first >> am) << (am + 12) };
    if (am > v->cfg.max_am) {
        d->type = VTD_DESC_IOTLB_DOMAIN;
        d->am = 0;
        d->addr = 0;
    }
}

/* One device-TLB invalidation per device of the domain, for the range of
 * @inv (the whole space after a domain-selective one). */
static void post_devtlb(struct vtd *v, unsigned did, const struct vtd_desc *inv,
                        sim_tick_t at)
{
    unsigned i;

    for (i = 0; i < v->dev_hi; i++)
        if (v->dev[i].v && v->dev[i].did == (int)did) {
            struct vtd_desc d = { .type = VTD_DESC_DEVTLB, .did = (uint16_t)did,
                                  .rid = v->dev[i].rid };

            if (inv->type == VTD_DESC_IOTLB_PAGE) {
                d.addr = inv->addr;
                d.am = inv->am;
            } else {
                d.am = 52;      /* S = 1 with every address bit set: all */
            }
            vtd_qi_post(&v->qi, &d, at);
        }
}

static int vd_map(struct iommu_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
                  unsigned perm, sim_tick_t at, sim_tick_t *done)
{
    struct vtd *v = dom->model;
    struct pgtable *pt = &VDOM_OF(dom)->pt;
    uint64_t before = pt->st.maps;
    struct vtd_desc d;
    int r;

    *done = at;
    r = pgtable_map(pt, iova, pa, size, perm);
    if (r)
        return r;
    v->st.maps++;
    v->st.map_pages += pt->st.maps - before;
    if (vtd_flush_on_map(v)) {
        psi_desc(v, dom->id, iova, size, &d);
        d.flags = VTD_DESC_F_MAP;
        d.span_lo = iova;
        d.span_len = size;
        v->st.map_invals++;
        *done = vtd_qi_sync(&v->qi, &d, 1, at);
    }
    return 0;
}

struct unmap_ctx {
    struct vtd *v;
    unsigned did;
    sim_tick_t end;
};

static void unmap_leaf(void *arg, uint64_t iova, const struct pgtable_result *old)
{
    struct unmap_ctx *c = arg;
    struct iommu_event ev = { .type = IOMMU_NOTIFIER_UNMAP,
        .entry = { .iova = iova, .translated_addr = old->translated_addr,
                   .addr_mask = old->addr_mask, .perm = IOMMU_NONE } };
    sim_tick_t t = vtd_notify_domain(c->v, c->did, &ev);

    c->v->st.unmap_pages++;
    if (t > c->end)
        c->end = t;
}

static int vd_unmap(struct iommu_domain *dom, uint64_t iova, uint64_t size, unsigned flags,
                    sim_tick_t at, sim_tick_t *done)
{
    struct vtd *v = dom->model;
    sim_tick_t now = sim_now(v->sim);
    struct unmap_ctx c = { v, dom->id, now };
    bool defer = flags & IOMMU_UNMAP_DEFER_FLUSH;
    struct vtd_desc d;
    uint64_t bytes = 0;
    int r;

    *done = at;
    /* The UNMAP events reach the users while the invalidation is processed
     * (QEMU runs the notifiers there), after the descriptor's own time; a
     * deferred unmap's users hear it from @at. The events are sent now,
     * before the PTEs change (B11); only their time is the queue's. */
    psi_desc(v, dom->id, iova, size, &d);
    v->users_at = defer ? at : vtd_qi_start(&v->qi, at) + v->qi.cfg.time[d.type];
    r = pgtable_unmap(&VDOM_OF(dom)->pt, iova, size, unmap_leaf, &c, &bytes);
    v->users_at = 0;
    if (r)
        return r;
    if (!bytes)
        return SIM_ENOENT;
    v->st.unmaps++;
    v->st.notify_ticks += c.end - now;
    if (defer) {
        *done = c.end > at ? c.end : at;
        return 0;
    }
    /* The descriptor is done when its users are (c.end holds their lock
     * waits, counted once: vtd_qi.h). */
    d.users_done = c.end > now ? c.end : 0;
    vtd_qi_post(&v->qi, &d, at);
    if (v->cfg.device_tlb)
        post_devtlb(v, dom->id, &d, at);
    *done = vtd_qi_sync(&v->qi, NULL, 0, at);
    return 0;
}

static sim_tick_t vd_flush_all(struct iommu_domain *dom, sim_tick_t at)
{
    struct vtd *v = dom->model;
    struct vtd_desc d = { .type = VTD_DESC_IOTLB_DOMAIN, .did = (uint16_t)dom->id };

    vtd_qi_post(&v->qi, &d, at);
    if (v->cfg.device_tlb)
        post_devtlb(v, dom->id, &d, at);
    return vtd_qi_sync(&v->qi, NULL, 0, at);
}

static struct iommu_tlb_entry vd_lookup(struct iommu_domain *dom, uint64_t iova)
{
    return vtd_dom_lookup(dom->model, dom->id, iova);
}

const struct iommu_domain_ops vtd_domain_ops = {
    .map = vd_map,
    .unmap = vd_unmap,
    .flush_all = vd_flush_all,
    .lookup = vd_lookup,
};
