/*
 * generic.c - the `generic` IOMMU model (see generic.h).
 *
 * Timed path of a request: a lookup port (sim_resource, reserve mode) for
 * lookup_cycle, then hit_latency; on a hit the request completes there. On
 * a miss it joins the walk in flight for its 4 KiB page (MSHR) or starts a
 * walk; if every MSHR is busy it waits in a FIFO until one frees. The walk
 * fills the IOTLB and completes every request that joined, from one event
 * for all of them (struct iommu_batch, iommu.h). Walk records and batches come
 * from pools sized by the MSHR count: nothing is allocated per request.
 *
 * Folded lookups. A miss whose lookup will end while a walk for its page is
 * certainly still in flight would, at the lookup's end, only join that
 * walk's MSHR; it joins at once instead, and its lookup-end event (three in
 * four requests of the quick start) is never scheduled. Same completion,
 * same tick, same place in the MSHR's list, provided that:
 *  - the walk's current read ends strictly after the lookup does (the walk
 *    cannot end sooner; a walk still waiting for a walker slot is not used);
 *  - no other miss is between its lookup's start and end, and no request
 *    waits for an MSHR: either could join the list ahead of this one, as
 *    its join would come first. Every later join comes later anyway (the
 *    lookup ports are FIFO, so lookups end in the order they start).
 * What differs: the IOTLB's `merged` counts such a merge when its lookup
 * starts (with the hit and miss it already counted) rather than when it
 * ends, so a statistics dump taken inside those few nanoseconds counts it
 * one dump early; and a device rebound to another domain during such a
 * lookup finishes it in the domain it started in.
 */
#include "iommu/models/generic.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#define DEV_OF(m) ((struct generic_dev *)((char *)(m) - offsetof(struct generic_dev, mmu)))

static struct pgtable *dev_table(struct generic_dev *d)
{
    if (d->domain < 0)
        return NULL;
    return &d->g->dom[d->domain];
}

/* --- Functional path ------------------------------------------------------ */

static struct iommu_tlb_entry generic_translate(struct iommu *mmu, uint64_t iova,
                                                unsigned flag, unsigned idx)
{
    struct generic_dev *d = DEV_OF(mmu);
    struct pgtable *pt = dev_table(d);
    struct iommu_tlb_entry e = { .iova = iova & ~UINT64_C(0xfff), .addr_mask = 0xfff };
    struct pgtable_result r;

    (void)idx;
    if (!pt || pgtable_lookup(pt, iova, &r) != 0)
        return e;
    e.iova = iova & ~r.addr_mask;
    e.translated_addr = r.translated_addr;
    e.addr_mask = r.addr_mask;
    e.perm = r.perm;
    if (flag != IOMMU_NONE && (e.perm & flag) != flag)
        e.perm = IOMMU_NONE;
    return e;
}

/* --- Timed path ----------------------------------------------------------- */

static void start_miss(struct generic_iommu *g, struct iommu_req *req);

static void walk_done(struct walk_req *wr)
{
    struct generic_walk *w = (struct generic_walk *)wr;
    struct generic_iommu *g = wr->ctx;
    struct iotlb_mshr *m = w->m;
    struct iommu_req *req, *next;
    struct iommu_tlb_entry e = { .addr_mask = 0xfff };
    sim_tick_t now = sim_now(g->sim);

    g->walks_ended++;               /* its PWC fills are in (generic_unmap) */
    if (wr->status == 0) {
        e.addr_mask = wr->res.addr_mask;
        e.translated_addr = wr->res.translated_addr;
        e.perm = wr->res.perm;
        iotlb_insert(&g->tlb, m->domain, m->idx, wr->iova, e.translated_addr,
                     e.addr_mask, e.perm);
    }
    iommu_req_complete_list(&g->batches, m->head, e, now);
    iotlb_mshr_free(&g->tlb, m);
    w->next_free = g->free_walks;
    g->free_walks = w;
    /* An MSHR is free: restart the stalled requests in order (each either
     * merges, takes the MSHR, or stalls again at the tail). */
    req = g->stall_head;
    g->stall_head = g->stall_tail = NULL;
    while (req) {
        next = req->next;
        start_miss(g, req);
        req = next;
    }
}

static void start_miss(struct generic_iommu *g, struct iommu_req *req)
{
    struct generic_dev *d = DEV_OF(req->mmu);
    uint32_t dom = (uint32_t)d->domain;
    struct iotlb_mshr *m = iotlb_mshr_find(&g->tlb, dom, req->iommu_idx, req->iova);
    struct generic_walk *w;

    req->next = NULL;
    if (m) {
        m->tail->next = req;
        m->tail = req;
        return;
    }
    m = iotlb_mshr_alloc(&g->tlb, dom, req->iommu_idx, req->iova);
    if (!m) {
        g->st.mshr_stalls++;
        if (g->stall_tail)
            g->stall_tail->next = req;
        else
            g->stall_head = req;
        g->stall_tail = req;
        return;
    }
    m->head = m->tail = req;
    w = g->free_walks;              /* pool size == MSHRs: never empty here */
    g->free_walks = w->next_free;
    w->m = m;
    g->walk_of[m - g->tlb.mshr] = w;
    /* The caller's fields only: the walker sets the rest before reading
     * it (see vtd.c's start_miss; the record is 1.3 KiB). */
    memset(&w->wr, 0, offsetof(struct walk_req, status));
    w->wr.s1 = &g->dom[dom];
    w->wr.domain = dom;
    w->wr.iova = req->iova;
    w->wr.done = walk_done;
    w->wr.ctx = g;
    walk_start(&g->walker, &w->wr);
}

static void lookup_done(struct sim_event *ev, void *arg)
{
    struct iommu_req *req = arg;
    struct generic_dev *d = DEV_OF(req->mmu);

    (void)ev;
    d->g->lookups_pending--;
    start_miss(d->g, req);
}

/*
 * A miss whose lookup ends at @t: join the walk in flight for its page now,
 * if that is what its lookup's end would do (see "Folded lookups" at the
 * top). Returns whether it did. Costs a scan of the MSHRs, which the
 * lookup's end would make anyway.
 */
static bool fold_lookup(struct generic_iommu *g, uint32_t dom, struct iommu_req *req,
                        sim_tick_t t)
{
    struct iotlb_mshr *m;
    const struct sim_event *rd;

    if (g->lookups_pending || g->stall_head)
        return false;
    m = iotlb_mshr_peek(&g->tlb, dom, req->iommu_idx, req->iova);
    if (!m)
        return false;
    rd = &g->walk_of[m - g->tlb.mshr]->wr.mr.ev;   /* the walk's read in flight */
    if (!sim_event_is_scheduled(rd) || sim_event_when(rd) <= t)
        return false;
    g->tlb.st.merged++;                         /* as iotlb_mshr_find does */
    req->next = NULL;
    m->tail->next = req;
    m->tail = req;
    return true;
}

static int generic_translate_timed(struct iommu *mmu, struct iommu_req *req)
{
    struct generic_dev *d = DEV_OF(mmu);
    struct generic_iommu *g = d->g;
    struct iotlb_hit h;
    sim_tick_t t;
    int r;

    t = sim_resource_reserve(&g->ports, g->cfg.lookup_cycle, NULL) + g->cfg.hit_latency;
    if (d->domain < 0) {
        struct iommu_tlb_entry e = { .iova = req->iova & ~UINT64_C(0xfff), .addr_mask = 0xfff };

        iommu_req_complete(mmu, req, &e, t);
        return 0;
    }
    if (iotlb_lookup(&g->tlb, (uint32_t)d->domain, req->iommu_idx, req->iova, &h)) {
        struct iommu_tlb_entry e = { .iova = req->iova & ~h.addr_mask,
                                     .translated_addr = h.translated_addr,
                                     .addr_mask = h.addr_mask, .perm = h.perm };

        iommu_req_complete(mmu, req, &e, t);
        return 0;
    }
    /* Miss: the walk starts when the lookup has finished, unless it joins
     * one in flight now (fold_lookup). */
    if (fold_lookup(g, (uint32_t)d->domain, req, t))
        return 0;
    sim_event_init(&req->ev, lookup_done, req, SIM_PRIO_DEFAULT);
    r = sim_event_schedule(g->sim, &req->ev, t);
    if (r == 0)
        g->lookups_pending++;
    return r;
}

/* --- Optional ops --------------------------------------------------------- */

static int generic_flag_changed(struct iommu *mmu, unsigned old, unsigned nf,
                                char *err, size_t errlen)
{
    struct generic_dev *d = DEV_OF(mmu);

    (void)old;
    if ((nf & IOMMU_NOTIFIER_MAP) && !d->g->cfg.map_events)
        return sim_error_format(err, errlen, SIM_EREFUSED, mmu->path,
                                "MAP notifiers need map_events (caching mode)");
    return 0;
}

struct replay_ctx {
    struct iommu_notifier *n;
    sim_tick_t end;
    uint64_t count;
};

static void replay_leaf(void *arg, uint64_t iova, const struct pgtable_result *r)
{
    struct replay_ctx *c = arg;
    struct iommu_event ev = { .type = IOMMU_NOTIFIER_MAP,
        .entry = { .iova = iova, .translated_addr = r->translated_addr,
                   .addr_mask = r->addr_mask, .perm = r->perm } };
    sim_tick_t t = iommu_notify_one(c->n, &ev);

    c->count++;
    if (t > c->end)
        c->end = t;
}

/* Walk the tables, not 2^36 granules: cost proportional to what is mapped. */
static sim_tick_t generic_replay(struct iommu *mmu, struct iommu_notifier *n)
{
    struct generic_dev *d = DEV_OF(mmu);
    struct pgtable *pt = dev_table(d);
    struct replay_ctx c = { n, sim_now(mmu->sim), 0 };

    if (pt)
        pgtable_for_each(pt, n->start, n->end, replay_leaf, &c);
    mmu->st.replay_notifications += c.count;
    return c.end;
}

static int generic_get_attr(struct iommu *mmu, enum iommu_attr attr, void *data)
{
    struct generic_iommu *g = DEV_OF(mmu)->g;

    switch (attr) {
    case IOMMU_ATTR_ADDR_WIDTH:
        *(unsigned *)data = 12 + 9 * g->cfg.levels;
        return 0;
    case IOMMU_ATTR_PGSIZE_BITMAP:
        *(uint64_t *)data = g->cfg.pgsize_bitmap;
        return 0;
    case IOMMU_ATTR_CACHING_MODE:
        *(bool *)data = g->cfg.map_events;
        return 0;
    }
    return SIM_EINVAL;
}

const struct iommu_ops generic_iommu_ops = {
    .translate = generic_translate,
    .translate_timed = generic_translate_timed,
    .notify_flag_changed = generic_flag_changed,
    .replay = generic_replay,
    .get_attr = generic_get_attr,
};

/* --- Set-up, domains, devices --------------------------------------------- */

int generic_create(struct generic_iommu *g, struct sim *sim, struct mem *mem,
                   const struct generic_cfg *cfg, char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "iommu";
    unsigned i;
    int r;

    memset(g, 0, sizeof(*g));
    g->sim = sim;
    g->mem = mem;
    g->cfg = *cfg;
    if (cfg->iotlb.mshrs == 0 || cfg->lookup_ports == 0 || !cfg->max_domains ||
        !cfg->max_devices)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "iotlb.mshrs, lookup_ports, max_domains and max_devices must be >= 1");
    if (cfg->levels < 3 || cfg->levels > PGTABLE_MAX_LEVELS)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "levels (got %u, expected 3..5)", cfg->levels);
    r = iotlb_init(&g->tlb, &cfg->iotlb, err, errlen);
    if (r)
        return r;
    r = walker_init(&g->walker, sim, mem, &cfg->walk, err, errlen);
    if (r)
        goto err_tlb;
    r = sim_resource_init(&g->ports, sim, cfg->lookup_ports);
    if (r)
        goto err_walker;
    g->dom = calloc(cfg->max_domains, sizeof(*g->dom));
    g->dev = calloc(cfg->max_devices, sizeof(*g->dev));
    g->walks = calloc(cfg->iotlb.mshrs, sizeof(*g->walks));
    g->walk_of = calloc(cfg->iotlb.mshrs, sizeof(*g->walk_of));
    if (!g->dom || !g->dev || !g->walks || !g->walk_of ||
        iommu_batches_init(&g->batches, sim, cfg->iotlb.mshrs)) {
        r = sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
        goto err_free;
    }
    for (i = 0; i < cfg->iotlb.mshrs; i++) {
        g->walks[i].next_free = g->free_walks;
        g->free_walks = &g->walks[i];
    }
    for (i = 0; i < cfg->max_devices; i++)
        g->dev[i].domain = -1;
    g->pwc_clean_dom = -1;
    return 0;

err_free:
    free(g->dom);
    free(g->dev);
    free(g->walks);
    iommu_batches_destroy(&g->batches);
    free(g->walk_of);
    sim_resource_destroy(&g->ports);
err_walker:
    walker_destroy(&g->walker);
err_tlb:
    iotlb_destroy(&g->tlb);
    return r;
}

void generic_destroy(struct generic_iommu *g)
{
    unsigned i;

    for (i = 0; i < g->cfg.max_devices; i++)
        if (g->dev[i].g)
            iommu_destroy(&g->dev[i].mmu);
    for (i = 0; i < g->cfg.max_domains; i++)
        if (g->dom[i].root)
            pgtable_destroy(&g->dom[i]);
    free(g->dom);
    free(g->dev);
    free(g->walks);
    iommu_batches_destroy(&g->batches);
    free(g->walk_of);
    sim_resource_destroy(&g->ports);
    walker_destroy(&g->walker);
    iotlb_destroy(&g->tlb);
}

int generic_domain_create(struct generic_iommu *g, unsigned domain)
{
    if (domain >= g->cfg.max_domains)
        return SIM_ERANGE;
    if (g->dom[domain].root)
        return SIM_EEXIST;
    /* Each domain's tables get their own 4 GiB of simulated addresses. */
    return pgtable_init(&g->dom[domain], g->cfg.levels, g->cfg.pgsize_bitmap,
                        (UINT64_C(1) << 40) + ((uint64_t)domain << 32));
}

int generic_attach(struct generic_iommu *g, uint32_t rid, unsigned domain,
                   struct iommu **out, char *err, size_t errlen)
{
    struct generic_dev *d;
    const char *path = g->cfg.path ? g->cfg.path : "iommu";
    int r;

    if (rid >= g->cfg.max_devices)
        return sim_error_format(err, errlen, SIM_ERANGE, path,
                                "requester id (got %u, expected < %u)", rid, g->cfg.max_devices);
    if (domain >= g->cfg.max_domains || !g->dom[domain].root)
        return sim_error_format(err, errlen, SIM_ENOENT, path, "domain %u does not exist", domain);
    d = &g->dev[rid];
    if (!d->g) {
        r = iommu_init(&d->mmu, &generic_iommu_ops, g->sim, path,
                       pgtable_span(&g->dom[domain]), err, errlen);
        if (r)
            return r;
        d->g = g;
        d->rid = rid;
        if (rid + 1 > g->dev_hi)
            g->dev_hi = rid + 1;
    } else if (d->domain >= 0 && (unsigned)d->domain != domain) {
        /* Rebinding: whatever the device may hold is gone. */
        iommu_unmap_all(&d->mmu);
    }
    d->domain = (int)domain;
    if (out)
        *out = &d->mmu;
    return 0;
}

struct map_ctx {
    struct generic_iommu *g;
    unsigned domain;
    unsigned type;
    sim_tick_t end;
};

/* Send one event for a leaf to every device of the domain. */
static void leaf_event(void *arg, uint64_t iova, const struct pgtable_result *r)
{
    struct map_ctx *c = arg;
    struct generic_iommu *g = c->g;
    struct iommu_event ev = { .type = c->type,
        .entry = { .iova = iova, .translated_addr = r->translated_addr,
                   .addr_mask = r->addr_mask,
                   .perm = c->type == IOMMU_NOTIFIER_UNMAP ? IOMMU_NONE : r->perm } };
    unsigned i;

    if (c->type == IOMMU_NOTIFIER_UNMAP) {
        iotlb_inval_range(&g->tlb, c->domain, iova, r->addr_mask);
        g->st.unmap_pages++;
    } else {
        /* Caching mode's flush on map reaches the IOTLB too (there is
         * normally nothing cached for a page that was not mapped). */
        iotlb_inval_range(&g->tlb, c->domain, iova, r->addr_mask);
        g->st.map_pages++;
    }
    /* Per page unmapped: scan only the requester ids ever attached, not
     * all max_devices slots (256 by default). */
    for (i = 0; i < g->dev_hi; i++)
        if (g->dev[i].g && g->dev[i].domain == (int)c->domain) {
            sim_tick_t t = iommu_notify(&g->dev[i].mmu, 0, &ev);

            if (t > c->end)
                c->end = t;
        }
}

int generic_map(struct generic_iommu *g, unsigned domain, uint64_t iova,
                uint64_t pa, uint64_t size, unsigned perm)
{
    return generic_map_timed(g, domain, iova, pa, size, perm, NULL);
}

int generic_map_timed(struct generic_iommu *g, unsigned domain, uint64_t iova,
                      uint64_t pa, uint64_t size, unsigned perm, sim_tick_t *done_at)
{
    struct map_ctx c = { g, domain, IOMMU_NOTIFIER_MAP, sim_now(g->sim) };
    int r;

    if (domain >= g->cfg.max_domains || !g->dom[domain].root)
        return SIM_ENOENT;
    r = pgtable_map(&g->dom[domain], iova, pa, size, perm);
    if (r)
        return r;
    g->st.maps++;
    if (g->cfg.map_events) {
        /*
         * Caching mode (VT-d CM=1, spec B13): the guest driver follows every
         * map with a page-selective invalidation, because the IOMMU may cache
         * not-present entries. That invalidation is what lets the IOMMU see
         * the map and announce it as MAP events; both costs are counted.
         */
        c.end = sim_now(g->sim);
        g->st.map_invals++;
        pgtable_for_each(&g->dom[domain], iova, iova + size - 1, leaf_event, &c);
        g->st.notify_ticks += c.end - sim_now(g->sim);
    }
    if (done_at)
        *done_at = c.end;
    return 0;
}

int generic_unmap(struct generic_iommu *g, unsigned domain, uint64_t iova,
                  uint64_t size, sim_tick_t *done_at)
{
    struct map_ctx c = { g, domain, IOMMU_NOTIFIER_UNMAP, sim_now(g->sim) };
    int r;

    if (domain >= g->cfg.max_domains || !g->dom[domain].root)
        return SIM_ENOENT;
    r = pgtable_unmap(&g->dom[domain], iova, size, leaf_event, &c, NULL);
    if (r)
        return r;
    g->st.unmaps++;
    g->st.notify_ticks += c.end - sim_now(g->sim);
    /* Tables may have been freed: cached walk prefixes must go too. Only
     * a walk fills PWCs, so if none has ended since this domain's last
     * invalidation there is nothing to drop: a lazy flush unmapping a
     * thousand pages in one go scans the PWCs once, not per page (same
     * contents either way). */
    if (g->pwc_clean_dom != (int)domain || g->pwc_clean_walks != g->walks_ended) {
        walk_pwc_inval_domain(&g->walker, domain);
        g->pwc_clean_dom = (int)domain;
        g->pwc_clean_walks = g->walks_ended;
    }
    if (done_at)
        *done_at = c.end;
    return 0;
}
