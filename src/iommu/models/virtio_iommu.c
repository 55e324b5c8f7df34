/*
 * virtio_iommu.c - the `virtio_iommu` model (see virtio_iommu.h): its
 * request queue, the requests as the driver's domain ops, and the
 * endpoints' translation, notifiers and replay.
 *
 * The request queue is one FIFO server whose next free tick is
 * queue_free: a kick issued at `at` starts at max(at, queue_free) and
 * holds the server for round_trip plus the work of every request it
 * carries, and then until the notifier users the requests reached are
 * done. Nothing is stored per request (a kick's service time is known
 * when it is issued), so a request costs O(1) besides its tree update and
 * its fan-out, and allocates nothing once the trees have grown.
 */
#include "iommu/models/virtio_iommu.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

const char *const viommu_req_names[VIOMMU_REQ__COUNT] = {
    "attach", "detach", "map", "unmap", "probe",
};

#define EP_OF(m) ((struct viommu_endpoint *)((char *)(m) - offsetof(struct viommu_endpoint, mmu)))
#define VD_OF(d) ((struct viommu_domain *)((char *)(d) - offsetof(struct viommu_domain, dom)))

static const char *vpath(const struct virtio_iommu *v)
{
    return v->cfg.path ? v->cfg.path : "virtio_iommu";
}

/* --- The request queue ---------------------------------------------------- */

/*
 * Kick the queue at @at with one request of host work @work (0: a bare
 * kick, flush_all's): the requests added without a kick go with it, as
 * Linux's __viommu_sync_req kicks once for everything in the virtqueue.
 * @users_done: the tick the notifier users, whose events reached them
 * after the round trip and the host work (users_begin), are done, their
 * lock waits included (0: none). Returns the completion tick. @issued:
 * the kick's own request count.
 */
static sim_tick_t queue_kick(struct virtio_iommu *v, sim_tick_t at, sim_tick_t work,
                             unsigned issued, sim_tick_t users_done)
{
    sim_tick_t start = v->queue_free > at ? v->queue_free : at;
    sim_tick_t service = v->cfg.round_trip + work + v->pending_work;
    sim_tick_t done = start + service;

    /* The users' lock may hold them beyond the request's own time: the
     * later end, not the sum (virtio_iommu.h). */
    if (v->pending_users_done > users_done)
        users_done = v->pending_users_done;
    if (users_done > done) {
        service = users_done - start;
        done = users_done;
    }

    v->queue_free = done;
    v->st.kicks++;
    v->st.wait_ticks += (double)(start - at);
    if (start - at > v->st.wait_max)
        v->st.wait_max = start - at;
    v->st.busy_ticks += (double)service;
    /* Latency of each request: from its own issue to the kick's completion. */
    v->st.req_ticks += (double)issued * (double)(done - at) +
                       (double)v->pending * (double)done - v->pending_issue_sum;
    v->st.completed += issued + v->pending;
    v->pending = 0;
    v->pending_work = 0;
    v->pending_users_done = 0;
    v->pending_issue_sum = 0.0;
    return done;
}

/* --- Fan-out -------------------------------------------------------------- */

/*
 * Announce mapping @m as events of @type to every endpoint attached to
 * domain @d (or only to @only when non-NULL): one event per power-of-two
 * aligned block that tiles the range. Returns the tick at which the last
 * notifier user is done, as iommu_notify() reports it (lock waits
 * included; now without users). Users that must handle events one at a
 * time say so with their own serialise resource, which then makes N
 * events cost N latencies; without one, the core takes them as parallel.
 */
static sim_tick_t announce(struct virtio_iommu *v, unsigned d, unsigned type,
                           const struct viommu_mapping *m, struct viommu_endpoint *only)
{
    sim_tick_t end = sim_now(v->sim);
    uint64_t s = m->start;

    for (;;) {
        /* The largest block aligned at s that ends by m->end. s + mask
         * cannot wrap: s is a multiple of mask + 1. */
        uint64_t mask = s ? (s & -s) - 1 : UINT64_MAX;
        struct iommu_event ev;

        while (s + mask > m->end)
            mask >>= 1;
        ev.type = type;
        ev.entry.target = NULL;
        ev.entry.iova = s;
        ev.entry.translated_addr = m->pa + (s - m->start);
        ev.entry.addr_mask = mask;
        ev.entry.perm = type == IOMMU_NOTIFIER_UNMAP ? IOMMU_NONE : m->perm;
        if (type == IOMMU_NOTIFIER_UNMAP)
            v->st.unmap_events++;
        else
            v->st.map_events++;
        for (unsigned i = 0; i < v->ep_hi; i++) {
            struct viommu_endpoint *ep = &v->ep[i];
            sim_tick_t t;

            if (!ep->v || ep->domain != (int)d || (only && ep != only))
                continue;
            ep->mmu.notify_at = v->users_at;
            t = iommu_notify(&ep->mmu, 0, &ev);
            ep->mmu.notify_at = 0;
            if (t > end)
                end = t;
        }
        if (s + mask == m->end)
            break;
        s += mask + 1;
    }
    return end;
}

/* Before a request's fan-out: its events reach the users once a kick at
 * @at has done the round trip, the work queued before it and @work. */
static void users_begin(struct virtio_iommu *v, sim_tick_t at, sim_tick_t work)
{
    sim_tick_t start = v->queue_free > at ? v->queue_free : at;

    v->users_at = start + v->cfg.round_trip + v->pending_work + work;
}

/* --- Domain ops: the requests of the driver's map and unmap --------------- */

static bool aligned(const struct virtio_iommu *v, uint64_t x)
{
    return (x & (v->cfg.granule - 1)) == 0;
}

static int vd_map(struct iommu_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
                  unsigned perm, sim_tick_t at, sim_tick_t *done)
{
    struct virtio_iommu *v = dom->model;
    struct viommu_domain *vd = VD_OF(dom);
    const struct viommu_mapping *m;
    sim_tick_t users;
    int r;

    *done = at;
    if (!size || !perm || perm > IOMMU_RW || !aligned(v, iova) || !aligned(v, pa) ||
        !aligned(v, size))
        return SIM_EINVAL;
    /* The device refuses IOVAs beyond its input range (VIRTIO_IOMMU_S_RANGE). */
    if (iova > v->in_max || size - 1 > v->in_max - iova)
        return SIM_ERANGE;
    r = viommu_tree_insert(&vd->tree, iova, iova + size - 1, pa, perm);
    if (r)
        return r;
    if (!vd->endpoints) {
        /* Linux keeps it in its own tree and sends it on the first ATTACH. */
        v->st.local_maps++;
        return 0;
    }
    m = viommu_tree_find(&vd->tree, iova);
    users_begin(v, at, v->cfg.work[VIOMMU_REQ_MAP]);
    users = announce(v, dom->id, IOMMU_NOTIFIER_MAP, m, NULL);
    v->users_at = 0;
    v->st.requests[VIOMMU_REQ_MAP]++;
    *done = queue_kick(v, at, v->cfg.work[VIOMMU_REQ_MAP], 1, users);
    return 0;
}

static int vd_unmap(struct iommu_domain *dom, uint64_t iova, uint64_t size, unsigned flags,
                    sim_tick_t at, sim_tick_t *done)
{
    struct virtio_iommu *v = dom->model;
    struct viommu_domain *vd = VD_OF(dom);
    const struct viommu_mapping *m;
    uint64_t end;
    sim_tick_t users = 0;

    *done = at;
    if (!size)
        return SIM_EINVAL;
    end = size - 1 > UINT64_MAX - iova ? UINT64_MAX : iova + size - 1;
    /* A mapping only partly inside the range is not split: the device
     * answers VIRTIO_IOMMU_S_RANGE and removes nothing. */
    m = viommu_tree_floor(&vd->tree, iova);
    if (m && m->start < iova && m->end >= iova)
        return SIM_EINVAL;
    m = viommu_tree_floor(&vd->tree, end);
    if (m && m->end > end && m->start <= end)
        return SIM_EINVAL;
    m = viommu_tree_ceil(&vd->tree, iova);
    if (!m || m->start > end)
        return SIM_ENOENT;
    /* A deferred UNMAP's users hear it from @at (it waits in the virtqueue
     * for the next kick; its events are sent now, B11). */
    if (flags & IOMMU_UNMAP_DEFER_FLUSH)
        v->users_at = at;
    else
        users_begin(v, at, v->cfg.work[VIOMMU_REQ_UNMAP]);
    while (m && m->start <= end) {
        uint64_t next = m->end + 1;
        bool last = m->end == UINT64_MAX;

        /* B11: users hear UNMAP while the mapping still exists. */
        if (vd->endpoints) {
            sim_tick_t t = announce(v, dom->id, IOMMU_NOTIFIER_UNMAP, m, NULL);

            if (t > users)
                users = t;
        }
        viommu_tree_remove(&vd->tree, m->start);
        m = last ? NULL : viommu_tree_ceil(&vd->tree, next);
    }
    v->users_at = 0;
    if (!vd->endpoints) {
        v->st.local_unmaps++;     /* Linux: the device removed them at DETACH */
        return 0;
    }
    v->st.requests[VIOMMU_REQ_UNMAP]++;
    if (flags & IOMMU_UNMAP_DEFER_FLUSH) {
        /* Added to the virtqueue, not kicked: iotlb_sync is deferred to
         * the flush queue's flush_iotlb_all. */
        v->st.deferred_unmaps++;
        v->pending++;
        v->pending_work += v->cfg.work[VIOMMU_REQ_UNMAP];
        if (users > v->pending_users_done)
            v->pending_users_done = users;
        v->pending_issue_sum += (double)at;
        return 0;
    }
    /* Strict: the UNMAP is synchronous and the host invalidates as part of
     * it; there is no separate invalidation to wait for. */
    *done = queue_kick(v, at, v->cfg.work[VIOMMU_REQ_UNMAP], 1, users);
    return 0;
}

/*
 * Linux's viommu_flush_iotlb_all() is viommu_sync_req(): kick and wait for
 * what is queued. With nothing queued the kick finds nothing new in the
 * ring and does not notify the device (virtqueue_kick_prepare), so the
 * device side costs nothing; the guest's own cost of the call is the OS
 * layer's inval_submit/inval_wait.
 */
static sim_tick_t vd_flush_all(struct iommu_domain *dom, sim_tick_t at)
{
    struct virtio_iommu *v = dom->model;

    v->st.flushes++;
    if (!v->pending) {
        v->st.empty_flushes++;
        return at;
    }
    return queue_kick(v, at, 0, 0, 0);
}

static struct iommu_tlb_entry entry_of(const struct virtio_iommu *v,
                                       const struct viommu_mapping *m, uint64_t iova)
{
    uint64_t mask = v->cfg.granule - 1;
    struct iommu_tlb_entry e = { .iova = iova & ~mask, .addr_mask = mask };

    if (m) {
        e.translated_addr = m->pa + (e.iova - m->start);
        e.perm = m->perm;
    }
    return e;
}

static struct iommu_tlb_entry vd_lookup(struct iommu_domain *dom, uint64_t iova)
{
    struct virtio_iommu *v = dom->model;

    return entry_of(v, viommu_tree_find(&VD_OF(dom)->tree, iova), iova);
}

static const struct iommu_domain_ops viommu_domain_ops = {
    .map = vd_map,
    .unmap = vd_unmap,
    .flush_all = vd_flush_all,
    .lookup = vd_lookup,
};

/* --- Endpoints: translation, notifiers, replay ----------------------------- */

static struct iommu_tlb_entry viommu_translate(struct iommu *mmu, uint64_t iova,
                                               unsigned flag, unsigned idx)
{
    struct viommu_endpoint *ep = EP_OF(mmu);
    struct virtio_iommu *v = ep->v;
    struct iommu_tlb_entry e;

    (void)idx;
    if (ep->domain < 0) {
        /* Not attached: bypass (identity) or fault, as boot_bypass says. */
        e = entry_of(v, NULL, iova);
        if (v->cfg.boot_bypass) {
            e.translated_addr = e.iova;
            e.perm = IOMMU_RW;
        }
    } else {
        e = entry_of(v, viommu_tree_find(&v->dom[ep->domain].tree, iova), iova);
    }
    if (flag != IOMMU_NONE && (e.perm & flag) != flag)
        e.perm = IOMMU_NONE;
    return e;
}

/* The host's lookup: xlate_latency, no cache, no queue (see the doc). */
static int viommu_translate_timed(struct iommu *mmu, struct iommu_req *req)
{
    struct viommu_endpoint *ep = EP_OF(mmu);
    struct virtio_iommu *v = ep->v;
    struct iommu_tlb_entry e = viommu_translate(mmu, req->iova, IOMMU_NONE, 0);
    bool fault = (e.perm & req->access) != req->access;

    v->st.translations++;
    if (ep->domain < 0) {
        if (v->cfg.boot_bypass)
            v->st.bypassed++;
        else
            v->st.unattached_faults++;
    }
    if (fault)
        v->st.faults++;
    iommu_req_complete(mmu, req, &e, sim_now(v->sim) + v->cfg.xlate_latency);
    return 0;
}

static uint64_t viommu_min_page(struct iommu *mmu)
{
    return EP_OF(mmu)->v->cfg.granule;
}

struct replay_ctx {
    struct iommu_notifier *n;
    struct virtio_iommu *v;
    sim_tick_t end;
    uint64_t count;
};

static void replay_one(void *arg, const struct viommu_mapping *m)
{
    struct replay_ctx *c = arg;
    uint64_t s = m->start;

    for (;;) {
        uint64_t mask = s ? (s & -s) - 1 : UINT64_MAX;
        struct iommu_event ev;
        sim_tick_t t;

        while (s + mask > m->end)
            mask >>= 1;
        ev.type = IOMMU_NOTIFIER_MAP;
        ev.entry.target = NULL;
        ev.entry.iova = s;
        ev.entry.translated_addr = m->pa + (s - m->start);
        ev.entry.addr_mask = mask;
        ev.entry.perm = m->perm;
        /* Blocks outside the notifier's range are filtered by the core. */
        if (s <= c->n->end && s + mask >= c->n->start) {
            t = iommu_notify_one(c->n, &ev);
            c->count++;
            if (t > c->end)
                c->end = t;
        }
        if (s + mask == m->end)
            break;
        s += mask + 1;
    }
}

/*
 * Walk the domain's tree: one MAP per block of every mapping in the
 * notifier's range, to that notifier only; the cost follows what is mapped
 * (B9 would translate every granule of up to 2^64 bytes). An unattached
 * endpoint has nothing to replay, bypass included.
 */
static sim_tick_t viommu_replay(struct iommu *mmu, struct iommu_notifier *n)
{
    struct viommu_endpoint *ep = EP_OF(mmu);
    struct replay_ctx c = { n, ep->v, sim_now(mmu->sim), 0 };

    if (ep->domain >= 0)
        viommu_tree_for_each(&ep->v->dom[ep->domain].tree, n->start, n->end, replay_one, &c);
    mmu->st.replay_notifications += c.count;
    return c.end;
}

static int viommu_get_attr(struct iommu *mmu, enum iommu_attr attr, void *data)
{
    struct virtio_iommu *v = EP_OF(mmu)->v;

    switch (attr) {
    case IOMMU_ATTR_ADDR_WIDTH:
        *(unsigned *)data = v->cfg.aw_bits;
        return 0;
    case IOMMU_ATTR_PGSIZE_BITMAP:
        *(uint64_t *)data = ~(v->cfg.granule - 1) & v->in_max;
        return 0;
    case IOMMU_ATTR_CACHING_MODE:
        break;                      /* a VT-d notion: not this device's */
    }
    return SIM_EINVAL;
}

/* notify_flag_changed is absent on purpose: every change is accepted,
 * MAP included, since MAP requests are seen by construction. */
const struct iommu_ops virtio_iommu_ops = {
    .translate = viommu_translate,
    .translate_timed = viommu_translate_timed,
    .get_min_page_size = viommu_min_page,
    .replay = viommu_replay,
    .get_attr = viommu_get_attr,
};

/* --- Set-up ---------------------------------------------------------------- */

int virtio_iommu_create(struct virtio_iommu *v, struct sim *sim,
                        const struct virtio_iommu_cfg *cfg, char *err, size_t errlen)
{
    memset(v, 0, sizeof(*v));
    v->sim = sim;
    v->cfg = *cfg;
    if (cfg->granule < 4096 || (cfg->granule & (cfg->granule - 1)))
        return sim_error_format(err, errlen, SIM_EINVAL, vpath(v),
                                "granule must be a power of two >= 4KiB (got %llu)",
                                (unsigned long long)cfg->granule);
    if (cfg->aw_bits < 12 || cfg->aw_bits > 64 ||
        (cfg->aw_bits < 64 && (UINT64_C(1) << cfg->aw_bits) <= cfg->granule))
        return sim_error_format(err, errlen, SIM_EINVAL, vpath(v),
                                "aw_bits (got %u, expected 12..64 and 2^aw_bits above "
                                "the granule)", cfg->aw_bits);
    if (!cfg->max_domains || !cfg->max_endpoints)
        return sim_error_format(err, errlen, SIM_EINVAL, vpath(v),
                                "max_domains and max_endpoints must be >= 1");
    v->in_max = cfg->aw_bits == 64 ? UINT64_MAX : (UINT64_C(1) << cfg->aw_bits) - 1;
    v->dom = calloc(cfg->max_domains, sizeof(*v->dom));
    v->ep = calloc(cfg->max_endpoints, sizeof(*v->ep));
    if (!v->dom || !v->ep) {
        free(v->dom);
        free(v->ep);
        return sim_error_format(err, errlen, SIM_ENOMEM, vpath(v), NULL);
    }
    return 0;
}

void virtio_iommu_destroy(struct virtio_iommu *v)
{
    unsigned i;

    for (i = 0; i < v->ep_hi; i++)
        if (v->ep[i].v)
            iommu_destroy(&v->ep[i].mmu);
    for (i = 0; i < v->cfg.max_domains; i++)
        if (v->dom[i].dom.ops)
            viommu_tree_destroy(&v->dom[i].tree);
    free(v->dom);
    free(v->ep);
    v->dom = NULL;
    v->ep = NULL;
}

int virtio_iommu_endpoint(struct virtio_iommu *v, uint32_t rid, struct iommu **out,
                          char *err, size_t errlen)
{
    struct viommu_endpoint *ep;
    int r;

    if (rid >= v->cfg.max_endpoints)
        return sim_error_format(err, errlen, SIM_ERANGE, vpath(v),
                                "requester id beyond the endpoints (got %u, expected < "
                                "max_endpoints = %u)", rid, v->cfg.max_endpoints);
    ep = &v->ep[rid];
    if (!ep->v) {
        r = iommu_init(&ep->mmu, &virtio_iommu_ops, v->sim, vpath(v),
                       v->cfg.aw_bits == 64 ? 0 : UINT64_C(1) << v->cfg.aw_bits,
                       err, errlen);
        if (r)
            return r;
        ep->v = v;
        ep->rid = rid;
        ep->domain = -1;
        if (rid + 1 > v->ep_hi)
            v->ep_hi = rid + 1;
    }
    if (out)
        *out = &ep->mmu;
    return 0;
}

int virtio_iommu_domain(struct virtio_iommu *v, unsigned id, struct iommu_domain **out,
                        char *err, size_t errlen)
{
    struct viommu_domain *vd;

    if (id >= v->cfg.max_domains)
        return sim_error_format(err, errlen, SIM_ERANGE, vpath(v),
                                "domain beyond the IOMMU's domains (got %u, expected < "
                                "max_domains = %u)", id, v->cfg.max_domains);
    vd = &v->dom[id];
    if (!vd->dom.ops) {
        viommu_tree_init(&vd->tree);
        vd->dom.ops = &viommu_domain_ops;
        vd->dom.id = id;
        vd->dom.addr_bits = v->cfg.aw_bits;
        vd->dom.pgsize_bitmap = ~(v->cfg.granule - 1) & v->in_max;
        /* Linux gives virtio-iommu domains one shared flush queue. */
        vd->dom.flags = IOMMU_DOMAIN_SINGLE_FQ;
        vd->dom.model = v;
    }
    if (out)
        *out = &vd->dom;
    return 0;
}

int virtio_iommu_probe(struct virtio_iommu *v, uint32_t rid, sim_tick_t at, sim_tick_t *done)
{
    char err[160];
    int r = virtio_iommu_endpoint(v, rid, NULL, err, sizeof(err));

    *done = at;
    if (r)
        return r;
    v->ep[rid].probed = true;
    v->st.requests[VIOMMU_REQ_PROBE]++;
    *done = queue_kick(v, at, v->cfg.work[VIOMMU_REQ_PROBE], 1, 0);
    return 0;
}

struct attach_ctx {
    struct virtio_iommu *v;
    unsigned d;
    struct viommu_endpoint *ep;
    sim_tick_t users;
};

static void attach_map(void *arg, const struct viommu_mapping *m)
{
    struct attach_ctx *c = arg;

    sim_tick_t t = announce(c->v, c->d, IOMMU_NOTIFIER_MAP, m, c->ep);

    if (t > c->users)
        c->users = t;
}

/* Unattach @ep from its domain: B10 for its notifiers. Returns the tick
 * their users are done (waits included). */
static sim_tick_t leave_domain(struct virtio_iommu *v, struct viommu_endpoint *ep)
{
    sim_tick_t t;

    ep->mmu.notify_at = v->users_at;
    t = iommu_unmap_all(&ep->mmu);
    ep->mmu.notify_at = 0;

    v->dom[ep->domain].endpoints--;
    ep->domain = -1;
    return t;
}

int virtio_iommu_attach(struct virtio_iommu *v, uint32_t rid, unsigned domain,
                        sim_tick_t at, sim_tick_t *done)
{
    char err[160];
    struct viommu_endpoint *ep;
    struct viommu_domain *vd;
    sim_tick_t work = v->cfg.work[VIOMMU_REQ_ATTACH], users = 0;
    unsigned replayed = 0;
    int r;

    *done = at;
    r = virtio_iommu_endpoint(v, rid, NULL, err, sizeof(err));
    if (!r)
        r = virtio_iommu_domain(v, domain, NULL, err, sizeof(err));
    if (r)
        return r;
    ep = &v->ep[rid];
    vd = &v->dom[domain];
    if (ep->domain == (int)domain)
        return 0;                   /* the driver does not send it again */
    if (vd->endpoints == 0 && vd->tree.count)
        work += (sim_tick_t)vd->tree.count * v->cfg.work[VIOMMU_REQ_MAP];
    users_begin(v, at, work);   /* its users: the UNMAP of B10, the replay */
    if (ep->domain >= 0)
        users = leave_domain(v, ep);            /* ATTACH moves the endpoint */
    ep->domain = (int)domain;
    if (vd->endpoints++ == 0 && vd->tree.count) {
        /* The domain becomes live on the device: Linux sends the mappings
         * it kept (viommu_replay_mappings), one MAP each, same kick. */
        struct attach_ctx c = { v, domain, ep, users };

        viommu_tree_for_each(&vd->tree, 0, UINT64_MAX, attach_map, &c);
        replayed = (unsigned)vd->tree.count;
        users = c.users;
        v->st.requests[VIOMMU_REQ_MAP] += replayed;
    }
    v->st.requests[VIOMMU_REQ_ATTACH]++;
    v->users_at = 0;
    *done = queue_kick(v, at, work, 1 + replayed, users);
    return 0;
}

int virtio_iommu_detach(struct virtio_iommu *v, uint32_t rid, sim_tick_t at,
                        sim_tick_t *done)
{
    sim_tick_t users;

    *done = at;
    if (rid >= v->cfg.max_endpoints)
        return SIM_ERANGE;
    if (!v->ep[rid].v || v->ep[rid].domain < 0)
        return SIM_ENOENT;
    users_begin(v, at, v->cfg.work[VIOMMU_REQ_DETACH]);
    users = leave_domain(v, &v->ep[rid]);
    v->users_at = 0;
    v->st.requests[VIOMMU_REQ_DETACH]++;
    *done = queue_kick(v, at, v->cfg.work[VIOMMU_REQ_DETACH], 1, users);
    return 0;
}
