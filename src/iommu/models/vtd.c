/*
 * vtd.c - the `vtd` model's core: context resolution, translation (the
 * functional answer and the timed path), notifier ops, replay, and the
 * effect of each invalidation descriptor (see vtd.h).
 *
 * Timed path of a request: a lookup port (reserve mode) for lookup_cycle,
 * then the context cache (cc_latency). A context-cache miss reads the root,
 * context (and in scalable mode PASID-directory and PASID-table) entries
 * through the memory model, one after another, like a walk; requests for
 * the same (requester, PASID) join the fetch in flight. With the context
 * known, the IOTLB (hit_latency); a miss joins the walk in flight for its
 * 4 KiB page (MSHR) or starts one (one- or two-dimensional). The walk's
 * end answers every request that joined from one event (iommu_batch). Walk
 * records and fetch records come from pools sized by the MSHR count:
 * nothing is allocated per request.
 *
 * Folded lookups, as the generic model's (generic.c has the argument): a
 * miss whose lookup ends while the walk for its page is certainly still in
 * flight joins that walk's MSHR when its lookup starts, and its lookup-end
 * event is never scheduled; same completion, same tick, same place in the
 * list. "Certainly": its read in flight ends after the lookup, or it waits
 * for a walker slot while every walk that holds one reads past the lookup's
 * end (the nested walks of configs/vfio_nic.py queue for the two walkers).
 * Provided also that no other request's miss is on its way to the MSHRs (a
 * lookup in progress, a context-cache miss or fetch, a stall). What
 * differs: the IOTLB's `merged` counts it at the lookup's start, and a
 * context entry removed during those nanoseconds does not fault it.
 *
 * The context cache, like the walker's PWCs, models timing only: the
 * answer always comes from the current context entry and tables, so a
 * missed context-cache invalidation could understate a cost but never
 * return a stale translation. The IOTLB does hold answers, and stale ones
 * are exactly the lazy-invalidation window the OS layer measures.
 */
#include "iommu/models/vtd.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#define DEV_OF(m) ((struct vtd_dev *)((char *)(m) - offsetof(struct vtd_dev, mmu)))

/*
 * Simulated addresses of the context structures (host-physical; only the
 * memory model's channel interleaving looks at them). Root table: 256
 * 16-byte entries. Legacy context tables: one 4 KiB table of 256 16-byte
 * entries per bus. Scalable-mode context tables: two 4 KiB halves of 128
 * 32-byte entries per bus (lower and upper devfn). PASID directory: 8-byte
 * entries, one per 64 PASIDs; PASID tables: 64 entries of 64 bytes.
 */
#define VTD_CTX_BASE       (UINT64_C(1) << 50)
#define VTD_PASID_DIR_BASE (VTD_CTX_BASE + (UINT64_C(1) << 30))
#define VTD_PASID_TBL_BASE (VTD_CTX_BASE + (UINT64_C(1) << 43))
/* Domain tables: 4 GiB of simulated addresses each (as the generic model). */
#define VTD_TABLE_BASE     (UINT64_C(1) << 40)
#define VTD_S2_TABLE_BASE  (UINT64_C(1) << 49)
#define VTD_DOM_SPAN       (UINT64_C(1) << 32)

static const char *vpath(const struct vtd *v)
{
    return v->cfg.path ? v->cfg.path : "vtd";
}

static uint32_t req_pasid(const struct vtd *v, const struct iommu_req *req)
{
    /* Requests without a PASID use RID_PASID, which Linux sets to 0. */
    return v->cfg.scalable && req->attrs.has_pasid ? req->attrs.pasid : 0;
}

/* The IOTLB's index tag holds 16 bits: PASIDs alias modulo 2^16, harmless
 * since every PASID of a device translates in the same domain. */
static unsigned pasid_tag(uint32_t pasid)
{
    return pasid & 0xffff;
}

static uint64_t am_mask(unsigned am)
{
    return am >= 52 ? UINT64_MAX : (UINT64_C(4096) << am) - 1;
}

/* --- Functional path ------------------------------------------------------ */

struct iommu_tlb_entry vtd_dom_lookup(struct vtd *v, unsigned did, uint64_t iova)
{
    struct iommu_tlb_entry e = { .iova = iova & ~UINT64_C(0xfff), .addr_mask = 0xfff };
    struct pgtable_result r1, r2;
    uint64_t ipa;

    if (did >= v->cfg.max_domains || !v->dom[did].od.ops ||
        pgtable_lookup(&v->dom[did].pt, iova, &r1) != 0)
        return e;
    if (!v->s2_live) {
        e.iova = iova & ~r1.addr_mask;
        e.translated_addr = r1.translated_addr;
        e.addr_mask = r1.addr_mask;
        e.perm = r1.perm;
        return e;
    }
    /* Nested: the first-level output is guest-physical; stage 2 maps it.
     * The combined page is the smaller of the two (as the walker's). */
    ipa = r1.translated_addr | (iova & r1.addr_mask);
    if (pgtable_lookup(&v->s2, ipa, &r2) != 0)
        return e;
    e.addr_mask = r1.addr_mask < r2.addr_mask ? r1.addr_mask : r2.addr_mask;
    e.iova = iova & ~e.addr_mask;
    e.translated_addr = (r2.translated_addr | (ipa & r2.addr_mask)) & ~e.addr_mask;
    e.perm = r1.perm & r2.perm;
    return e;
}

static struct iommu_tlb_entry vtd_translate(struct iommu *mmu, uint64_t iova,
                                            unsigned flag, unsigned idx)
{
    struct vtd_dev *d = DEV_OF(mmu);
    struct iommu_tlb_entry e = { .iova = iova & ~UINT64_C(0xfff), .addr_mask = 0xfff };

    (void)idx;
    if (d->did < 0)
        return e;
    e = vtd_dom_lookup(d->v, (unsigned)d->did, iova);
    if (flag != IOMMU_NONE && (e.perm & flag) != flag)
        e.perm = IOMMU_NONE;
    return e;
}

/* --- Timed path: IOTLB and walks ------------------------------------------- */

static void start_miss(struct vtd *v, struct iommu_req *req);

static void walk_done(struct walk_req *wr)
{
    struct vtd_walk *w = (struct vtd_walk *)wr;
    struct vtd *v = wr->ctx;
    struct iotlb_mshr *m = w->m;
    struct iommu_req *req, *next;
    struct iommu_tlb_entry e = { .addr_mask = 0xfff };
    sim_tick_t now = sim_now(v->sim);
    unsigned i;

    if (w->seq != v->inval_seq) {
        /* Overtaken by an invalidation (the tables it read may have
         * changed): answer from the tables now, fill nothing, as hardware
         * drops a fill that races an invalidation. */
        e = vtd_dom_lookup(v, m->domain, wr->iova);
        v->st.walks_overtaken++;
    } else if (wr->status == 0) {
        e.addr_mask = wr->res.addr_mask;
        e.translated_addr = wr->res.translated_addr;
        e.perm = wr->res.perm;
        iotlb_insert(&v->tlb, m->domain, m->idx, wr->iova, e.translated_addr,
                     e.addr_mask, e.perm);
    }
    iommu_req_complete_list(&v->batches, m->head, e, now);
    v->walks_by_page[m->vpn4k & 63]--;
    iotlb_mshr_free(&v->tlb, m);
    for (i = 0; v->walking[i] != w; i++)
        ;                           /* at most mshrs long, once per walk */
    memmove(&v->walking[i], &v->walking[i + 1], (--v->nwalking - i) * sizeof(*v->walking));
    w->next_free = v->free_walks;
    v->free_walks = w;
    /* An MSHR is free: restart the stalled requests in order. */
    req = v->stall_head;
    v->stall_head = v->stall_tail = NULL;
    while (req) {
        next = req->next;
        start_miss(v, req);
        req = next;
    }
}

/*
 * iotlb_mshr_peek(), the last walk's MSHR first. Only start_miss allocates
 * this IOTLB's MSHRs, after finding none busy for the page, so at most one
 * is busy per page: a match on the memo is the one the scan would find.
 */
static struct iotlb_mshr *vtd_mshr_peek(struct vtd *v, uint32_t did, unsigned tag,
                                        uint64_t iova)
{
    const struct iotlb_mshr *m = v->last_mshr;

    if (m && m->busy && m->vpn4k == iova >> 12 && m->domain == did && m->idx == tag)
        return v->last_mshr;
    if (!v->walks_by_page[(iova >> 12) & 63])
        return NULL;                /* no walk for a page like this one */
    return iotlb_mshr_peek(&v->tlb, did, tag, iova);
}

static void start_miss(struct vtd *v, struct iommu_req *req)
{
    struct vtd_dev *d = DEV_OF(req->mmu);
    unsigned tag = pasid_tag(req_pasid(v, req));
    struct iotlb_mshr *m;
    struct vtd_walk *w;
    uint32_t did;

    req->next = NULL;
    if (d->did < 0) {
        /* The context entry went away while the lookup was in flight. */
        struct iommu_tlb_entry e = { .iova = req->iova & ~UINT64_C(0xfff), .addr_mask = 0xfff };

        v->st.ctx_faults++;
        iommu_req_complete(req->mmu, req, &e, sim_now(v->sim));
        return;
    }
    did = (uint32_t)d->did;
    m = vtd_mshr_peek(v, did, tag, req->iova);
    if (m) {
        v->tlb.st.merged++;                     /* as iotlb_mshr_find does */
        m->tail->next = req;
        m->tail = req;
        return;
    }
    m = iotlb_mshr_alloc(&v->tlb, did, tag, req->iova);
    if (!m) {
        v->st.mshr_stalls++;
        if (v->stall_tail)
            v->stall_tail->next = req;
        else
            v->stall_head = req;
        v->stall_tail = req;
        return;
    }
    m->head = m->tail = req;
    v->last_mshr = m;
    v->walks_by_page[m->vpn4k & 63]++;
    w = v->free_walks;              /* pool size == MSHRs: never empty here */
    v->free_walks = w->next_free;
    w->m = m;
    v->walk_of[m - v->tlb.mshr] = w;
    v->walking[v->nwalking++] = w;
    w->seq = v->inval_seq;
    /* The caller's fields only (as smmuv3.c): the walker sets its results
     * and private fields before reading them, and the record's read event
     * is not scheduled (a walk's last read has run when it ends; calloc'd
     * at first), which walks_end_after relies on. Clearing the whole
     * 1.3 KiB record cost more than the rest of a walk's start. */
    memset(&w->wr, 0, offsetof(struct walk_req, status));
    w->wr.s1 = &v->dom[did].pt;
    w->wr.s2 = v->s2_live ? &v->s2 : NULL;
    w->wr.domain = did;
    w->wr.iova = req->iova;
    w->wr.done = walk_done;
    w->wr.ctx = v;
    walk_start(&v->walker, &w->wr);
}

static void lookup_done(struct sim_event *ev, void *arg)
{
    struct iommu_req *req = arg;
    struct vtd *v = DEV_OF(req->mmu)->v;

    (void)ev;
    v->lookups_pending--;
    start_miss(v, req);
}

/*
 * Whether every walk under way ends after @t: each is reading, and its read
 * ends after @t. Then a walk still waiting for a walker slot also ends after
 * @t (it starts when one of them has ended). Costs a visit of each walk in
 * flight (v->walking).
 */
static bool walks_end_after(const struct vtd *v, sim_tick_t t)
{
    unsigned i, reading = 0;

    for (i = 0; i < v->nwalking; i++) {
        const struct sim_event *rd = &v->walking[i]->wr.mr.ev;

        /* A reading walk holds a walker slot: once every slot's walk has
         * been seen, the rest wait (oldest first, the order slots are
         * granted in, so that is after a few). */
        if (reading == v->walker.cfg.walkers)
            break;
        if (!sim_event_is_scheduled(rd))
            continue;                           /* waiting for a slot */
        if (sim_event_when(rd) <= t)
            return false;
        reading++;
    }
    return reading > 0;
}

/*
 * A miss whose lookup ends at @t: join the walk in flight for its page now,
 * if that is what its lookup's end would do (see "Folded lookups" at the
 * top). Returns whether it did. Costs a look for the walk (vtd_mshr_peek:
 * usually the last one started, else a scan of the MSHRs), which the
 * lookup's end would make anyway.
 */
static bool fold_lookup(struct vtd *v, uint32_t did, unsigned tag, struct iommu_req *req,
                        sim_tick_t t)
{
    struct iotlb_mshr *m;
    const struct sim_event *rd;

    if (v->lookups_pending || v->ctx_pending || v->fetches_busy || v->stall_head ||
        v->fstall_head)
        return false;
    m = vtd_mshr_peek(v, did, tag, req->iova);
    if (!m)
        return false;
    rd = &v->walk_of[m - v->tlb.mshr]->wr.mr.ev;   /* the walk's read in flight */
    if (sim_event_is_scheduled(rd) ? sim_event_when(rd) <= t : !walks_end_after(v, t))
        return false;
    v->tlb.st.merged++;                         /* as iotlb_mshr_find does */
    req->next = NULL;
    m->tail->next = req;
    m->tail = req;
    return true;
}

/* The context is known at @t: fault, IOTLB hit, or a walk after the lookup. */
static int after_context(struct vtd *v, struct iommu_req *req, sim_tick_t t)
{
    struct vtd_dev *d = DEV_OF(req->mmu);
    unsigned tag = pasid_tag(req_pasid(v, req));
    struct iotlb_hit h;

    if (d->did < 0) {
        struct iommu_tlb_entry e = { .iova = req->iova & ~UINT64_C(0xfff), .addr_mask = 0xfff };

        v->st.ctx_faults++;
        iommu_req_complete(req->mmu, req, &e, t);
        return 0;
    }
    t += v->cfg.hit_latency;
    if (iotlb_lookup_mru(&v->tlb, (uint32_t)d->did, tag, req->iova, &h)) {
        struct iommu_tlb_entry e = { .iova = req->iova & ~h.addr_mask,
                                     .translated_addr = h.translated_addr,
                                     .addr_mask = h.addr_mask, .perm = h.perm };

        iommu_req_complete(req->mmu, req, &e, t);
        return 0;
    }
    /* Miss: the walk starts when the lookup has finished, unless it joins
     * one in flight now (fold_lookup). */
    if (fold_lookup(v, (uint32_t)d->did, tag, req, t))
        return 0;
    sim_event_init(&req->ev, lookup_done, req, SIM_PRIO_DEFAULT);
    if (sim_event_schedule(v->sim, &req->ev, t) != 0)
        return SIM_ENOMEM;
    v->lookups_pending++;
    return 0;
}

/* --- Timed path: context-cache misses -------------------------------------- */

/* The entries a context-cache miss reads, root first; their sizes in *bytes. */
static unsigned ctx_plan(const struct vtd *v, uint32_t rid, uint32_t pasid, bool present,
                         uint64_t *a, uint32_t *bytes)
{
    unsigned bus = (rid >> 8) & 0xff, devfn = rid & 0xff, n = 0;

    a[n] = VTD_CTX_BASE + bus * 16;
    bytes[n++] = 16;
    if (!v->cfg.scalable) {
        a[n] = VTD_CTX_BASE + 4096 * (UINT64_C(1) + bus) + devfn * 16;
        bytes[n++] = 16;
        return n;
    }
    a[n] = VTD_CTX_BASE + 4096 * (UINT64_C(257) + 2 * bus + (devfn >> 7)) + (devfn & 127) * 32;
    bytes[n++] = 32;
    if (!present)
        return n;               /* a non-present context entry ends the fetch */
    a[n] = VTD_PASID_DIR_BASE + (uint64_t)rid * 4096 + (pasid >> 6) * 8;
    bytes[n++] = 8;
    a[n] = VTD_PASID_TBL_BASE + ((uint64_t)rid << 26) + ((uint64_t)(pasid >> 6) << 12) +
           (pasid & 63) * 64;
    bytes[n++] = 64;
    return n;
}

static void fetch_start(struct vtd *v, struct iommu_req *req);

static void fetch_issue(struct vtd_fetch *f);

static void fetch_done(struct vtd_fetch *f)
{
    struct vtd *v = f->v;
    struct vtd_dev *d = vtd_dev_of(v, f->rid);
    struct iommu_req *req = f->head, *next;
    sim_tick_t now = sim_now(v->sim);

    v->st.ctx_fetches++;
    v->st.ctx_reads += f->n;
    if (d && d->did >= 0)
        iotlb_insert(&v->cc, f->rid, 0, (uint64_t)f->pasid << 12, 0, 0xfff, IOMMU_RW);
    f->busy = false;
    v->fetches_busy--;
    f->head = f->tail = NULL;
    f->next_free = v->free_fetches;
    v->free_fetches = f;
    for (; req; req = next) {
        next = req->next;
        after_context(v, req, now);
    }
    req = v->fstall_head;
    v->fstall_head = v->fstall_tail = NULL;
    while (req) {
        next = req->next;
        fetch_start(v, req);
        req = next;
    }
}

static void fetch_read_done(struct mem_req *mr)
{
    struct vtd_fetch *f = mr->ctx;

    if (++f->step < f->n)
        fetch_issue(f);
    else
        fetch_done(f);
}

static void fetch_issue(struct vtd_fetch *f)
{
    uint32_t bytes[VTD_CTX_READS_MAX] = { 0 };
    uint64_t a[VTD_CTX_READS_MAX] = { 0 };
    struct vtd_dev *d = vtd_dev_of(f->v, f->rid);

    /* Planned per read: the entries are what they are when each is read. */
    f->n = ctx_plan(f->v, f->rid, f->pasid, d && d->did >= 0, a, bytes);
    memcpy(f->addr, a, sizeof(a));
    f->mr.addr = a[f->step];
    f->mr.bytes = bytes[f->step];
    f->mr.pt = true;
    f->mr.done = fetch_read_done;
    f->mr.ctx = f;
    mem_access(f->v->mem, &f->mr);
}

static void fetch_start(struct vtd *v, struct iommu_req *req)
{
    struct vtd_dev *d = DEV_OF(req->mmu);
    uint32_t pasid = req_pasid(v, req);
    struct vtd_fetch *f;
    unsigned i;

    req->next = NULL;
    /* Join a fetch in flight for the same entry (a short linear scan: the
     * pool is the MSHR count). */
    for (i = 0; i < v->nfetches; i++) {
        f = &v->fetches[i];
        if (f->busy && f->rid == d->rid && f->pasid == pasid) {
            f->tail->next = req;
            f->tail = req;
            return;
        }
    }
    f = v->free_fetches;
    if (!f) {
        v->st.fetch_stalls++;
        if (v->fstall_tail)
            v->fstall_tail->next = req;
        else
            v->fstall_head = req;
        v->fstall_tail = req;
        return;
    }
    v->free_fetches = f->next_free;
    f->busy = true;
    v->fetches_busy++;
    f->rid = d->rid;
    f->pasid = pasid;
    f->step = 0;
    f->head = f->tail = req;
    fetch_issue(f);
}

static void ctx_miss_event(struct sim_event *ev, void *arg)
{
    struct iommu_req *req = arg;
    struct vtd *v = DEV_OF(req->mmu)->v;

    (void)ev;
    v->ctx_pending--;
    fetch_start(v, req);
}

static int vtd_translate_timed(struct iommu *mmu, struct iommu_req *req)
{
    struct vtd_dev *d = DEV_OF(mmu);
    struct vtd *v = d->v;
    struct iotlb_hit h;
    sim_tick_t t;

    t = sim_resource_reserve(&v->ports, v->cfg.lookup_cycle, NULL) + v->cfg.cc_latency;
    if (iotlb_lookup_mru(&v->cc, d->rid, 0, (uint64_t)req_pasid(v, req) << 12, &h))
        return after_context(v, req, t);
    sim_event_init(&req->ev, ctx_miss_event, req, SIM_PRIO_DEFAULT);
    if (sim_event_schedule(v->sim, &req->ev, t) != 0)
        return SIM_ENOMEM;
    v->ctx_pending++;
    return 0;
}

/* --- Notifier ops ---------------------------------------------------------- */

static int vtd_flag_changed(struct iommu *mmu, unsigned old, unsigned nf,
                            char *err, size_t errlen)
{
    struct vtd *v = DEV_OF(mmu)->v;

    (void)old;
    if (!(nf & IOMMU_NOTIFIER_MAP))
        return 0;
    if (!v->cfg.caching_mode)
        return sim_error_format(err, errlen, SIM_EREFUSED, mmu->path,
                                "MAP notifiers need caching_mode (VT-d CM=1): without it "
                                "the guest does not invalidate after a map, so maps are "
                                "never seen");
    if (!vtd_flush_on_map(v))
        return sim_error_format(err, errlen, SIM_EREFUSED, mmu->path,
                                "MAP notifiers need second-level translation (pgtt "
                                "second): the guest does not invalidate after maps to "
                                "first-level tables");
    return 0;
}

struct replay_ctx {
    struct vtd *v;
    struct iommu_notifier *n;
    sim_tick_t end;
    uint64_t count;
};

static void replay_leaf(void *arg, uint64_t iova, const struct pgtable_result *r)
{
    struct replay_ctx *c = arg;
    uint64_t size = r->addr_mask + 1, off = 0;

    /* Nested: announce the composed translation, split where stage 2 maps
     * the leaf with smaller pages. */
    while (off < size) {
        struct iommu_event ev = { .type = IOMMU_NOTIFIER_MAP };
        sim_tick_t t;

        if (c->v->s2_live) {
            ev.entry = vtd_dom_lookup(c->v, DEV_OF(c->n->owner)->did < 0 ? 0 :
                                      (unsigned)DEV_OF(c->n->owner)->did, iova + off);
            if (ev.entry.perm == IOMMU_NONE) {
                off += ev.entry.addr_mask + 1;
                continue;
            }
        } else {
            ev.entry = (struct iommu_tlb_entry){ .iova = iova,
                .translated_addr = r->translated_addr, .addr_mask = r->addr_mask,
                .perm = r->perm };
        }
        t = iommu_notify_one(c->n, &ev);
        c->count++;
        if (t > c->end)
            c->end = t;
        off += ev.entry.addr_mask + 1;
    }
}

/*
 * QEMU's vtd_iommu_replay: first unmap the whole notifier range (the user
 * may hold anything from before), then walk the domain's tables and send
 * MAP for each present leaf: cost proportional to what is mapped.
 */
static sim_tick_t vtd_replay(struct iommu *mmu, struct iommu_notifier *n)
{
    struct vtd_dev *d = DEV_OF(mmu);
    struct vtd *v = d->v;
    struct replay_ctx c = { v, n, sim_now(mmu->sim), 0 };
    sim_tick_t t = iommu_unmap_notifier_range(n);

    if (t > c.end)
        c.end = t;
    v->st.replays++;
    if (d->did >= 0)
        pgtable_for_each(&v->dom[d->did].pt, n->start, n->end, replay_leaf, &c);
    v->st.replay_maps += c.count;
    mmu->st.replay_notifications += c.count;
    return c.end;
}

static int vtd_get_attr(struct iommu *mmu, enum iommu_attr attr, void *data)
{
    struct vtd *v = DEV_OF(mmu)->v;

    switch (attr) {
    case IOMMU_ATTR_ADDR_WIDTH:
        *(unsigned *)data = v->cfg.aw_bits;
        return 0;
    case IOMMU_ATTR_PGSIZE_BITMAP:
        *(uint64_t *)data = v->cfg.pgsize_bitmap;
        return 0;
    case IOMMU_ATTR_CACHING_MODE:
        *(bool *)data = v->cfg.caching_mode;
        return 0;
    }
    return SIM_EINVAL;
}

const struct iommu_ops vtd_iommu_ops = {
    .translate = vtd_translate,
    .translate_timed = vtd_translate_timed,
    .notify_flag_changed = vtd_flag_changed,
    .replay = vtd_replay,
    .get_attr = vtd_get_attr,
};

/* --- Notification and the effect of descriptors ----------------------------- */

sim_tick_t vtd_notify_domain(struct vtd *v, unsigned did, const struct iommu_event *ev)
{
    sim_tick_t end = sim_now(v->sim);
    unsigned i;

    switch (ev->type) {
    case IOMMU_NOTIFIER_MAP:   v->st.ev_map++; break;
    case IOMMU_NOTIFIER_UNMAP: v->st.ev_unmap++; break;
    default:                   v->st.ev_deviotlb++; break;
    }
    for (i = 0; i < v->dev_hi; i++)
        if (v->dev[i].v && v->dev[i].did == (int)did) {
            struct iommu *mmu = &v->dev[i].mmu;
            sim_tick_t t;

            mmu->notify_at = v->users_at;
            t = iommu_notify(mmu, 0, ev);
            mmu->notify_at = 0;
            if (t > end)
                end = t;
        }
    return end;
}

struct map_ctx {
    struct vtd *v;
    unsigned did;
    sim_tick_t end;
};

static void map_leaf(void *arg, uint64_t iova, const struct pgtable_result *r)
{
    struct map_ctx *c = arg;
    struct iommu_event ev = { .type = IOMMU_NOTIFIER_MAP,
        .entry = { .iova = iova, .translated_addr = r->translated_addr,
                   .addr_mask = r->addr_mask, .perm = r->perm } };
    sim_tick_t t = vtd_notify_domain(c->v, c->did, &ev);

    if (t > c->end)
        c->end = t;
}

/* Invalidate the context cache for every requester of domain @did. */
static void cc_inval_domain(struct vtd *v, unsigned did)
{
    unsigned i;

    for (i = 0; i < v->dev_hi; i++)
        if (v->dev[i].v && v->dev[i].did == (int)did)
            iotlb_inval_domain(&v->cc, v->dev[i].rid);
}

/*
 * The hardware's processing of one descriptor (vtd_qi's process callback):
 * what it empties, and the events it sends, which reach their users at
 * @users_at; returns the tick at which those users are done (0: no
 * users' work).
 * A page-selective IOTLB invalidation also drops the domain's paging-
 * structure cache entries (IH = 0, spec 6.5.2.3); the walker's PWCs only
 * invalidate per domain, which over-invalidates (timing only).
 */
static sim_tick_t vtd_process(void *owner, const struct vtd_desc *d, sim_tick_t users_at)
{
    struct vtd *v = owner;
    sim_tick_t now = sim_now(v->sim), end = now;

    v->users_at = users_at;
    switch (d->type) {
    case VTD_DESC_CC:
        if (d->gran == VTD_CC_GLOBAL)
            iotlb_inval_global(&v->cc);
        else if (d->gran == VTD_CC_DOMAIN)
            cc_inval_domain(v, d->did);
        else
            iotlb_inval_domain(&v->cc, d->rid);
        break;
    case VTD_DESC_IOTLB_GLOBAL:
        v->inval_seq++;
        iotlb_inval_global(&v->tlb);
        walk_pwc_inval_all(&v->walker);
        break;
    case VTD_DESC_IOTLB_DOMAIN:
        v->inval_seq++;
        iotlb_inval_domain(&v->tlb, d->did);
        walk_pwc_inval_domain(&v->walker, d->did);
        break;
    case VTD_DESC_IOTLB_PAGE:
        v->inval_seq++;
        iotlb_inval_range(&v->tlb, d->did, d->addr, am_mask(d->am));
        walk_pwc_inval_domain(&v->walker, d->did);
        break;
    case VTD_DESC_DEVTLB: {
        /* QEMU sends DEVIOTLB_UNMAP while processing the device-TLB
         * invalidation (vtd_process_device_iotlb_desc). */
        struct vtd_dev *dv = vtd_dev_of(v, d->rid);
        struct iommu_event ev = { .type = IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
            .entry = { .iova = d->addr, .addr_mask = am_mask(d->am), .perm = IOMMU_NONE } };

        if (dv) {
            v->st.ev_deviotlb++;
            dv->mmu.notify_at = users_at;
            end = iommu_notify(&dv->mmu, 0, &ev);
            dv->mmu.notify_at = 0;
        }
        break;
    }
    default:
        break;
    }
    if ((d->flags & VTD_DESC_F_MAP) && d->span_len && d->did < v->cfg.max_domains &&
        v->dom[d->did].od.ops) {
        struct map_ctx c = { v, d->did, end };

        pgtable_for_each(&v->dom[d->did].pt, d->span_lo, d->span_lo + d->span_len - 1,
                         map_leaf, &c);
        end = c.end;
    }
    v->users_at = 0;
    v->st.notify_ticks += end - now;
    return end > now ? end : 0;     /* absolute: vtd_qi.h composes the two */
}

/* --- Set-up, domains, requesters ------------------------------------------- */

static uint64_t s1_span(const struct vtd_cfg *c)
{
    return c->s1_table_span ? c->s1_table_span : VTD_DOM_SPAN;
}

static int check_cfg(const struct vtd_cfg *c, const char *path, char *err, size_t errlen)
{
    unsigned levels = vtd_levels(c->aw_bits);
    uint64_t span;

    if (c->aw_bits != 39 && c->aw_bits != 48 && c->aw_bits != 57)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "aw_bits (got %u, expected 39, 48 or 57)", c->aw_bits);
    if (!c->scalable && c->pgtt != VTD_PGTT_SECOND)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "pgtt first or nested needs scalable mode (legacy mode "
                                "translates with second-level tables only)");
    if (c->qi.registers && c->device_tlb)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "device_tlb needs queued invalidation (device-TLB "
                                "invalidation exists only as a queued descriptor)");
    if (!c->iotlb.mshrs || !c->lookup_ports || !c->max_domains || !c->max_devices ||
        !c->cc_entries)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "iotlb.mshrs, lookup_ports, cc_entries, max_domains and "
                                "max_devices must be >= 1");
    if (c->max_domains > 65536)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "max_domains (got %u, expected <= 65536: 16-bit domain ids)",
                                c->max_domains);
    if (c->scalable && c->pgtt == VTD_PGTT_NESTED) {
        span = UINT64_C(1) << (12 + 9 * levels);
        if (c->s2_page_size != 4096 && c->s2_page_size != (UINT64_C(1) << 21) &&
            c->s2_page_size != (UINT64_C(1) << 30))
            return sim_error_format(err, errlen, SIM_EINVAL, path,
                                    "s2_page_size (got %llu, expected 4KiB, 2MiB or 1GiB)",
                                    (unsigned long long)c->s2_page_size);
        if (!c->s2_bytes || c->s2_bytes % c->s2_page_size || c->s2_bytes > span)
            return sim_error_format(err, errlen, SIM_EINVAL, path,
                                    "s2_bytes (got %llu, expected a non-zero multiple of "
                                    "s2_page_size up to 2^aw_bits)",
                                    (unsigned long long)c->s2_bytes);
        if (c->s1_table_base % 4096 ||
            c->s1_table_base + (uint64_t)c->max_domains * s1_span(c) > c->s2_bytes)
            return sim_error_format(err, errlen, SIM_EINVAL, path,
                                    "s1_table_base + max_domains x 0x%llx (got 0x%llx + %u x "
                                    "0x%llx, expected 4KiB-aligned and within s2_bytes = "
                                    "0x%llx): first-level tables live in guest memory",
                                    (unsigned long long)s1_span(c),
                                    (unsigned long long)c->s1_table_base, c->max_domains,
                                    (unsigned long long)s1_span(c),
                                    (unsigned long long)c->s2_bytes);
    }
    return 0;
}

int vtd_create(struct vtd *v, struct sim *sim, struct mem *mem, const struct vtd_cfg *cfg,
               char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "vtd";
    struct iotlb_cfg cc;
    unsigned i;
    int r;

    memset(v, 0, sizeof(*v));
    r = check_cfg(cfg, path, err, errlen);
    if (r)
        return r;
    v->sim = sim;
    v->mem = mem;
    v->cfg = *cfg;
    v->levels = vtd_levels(cfg->aw_bits);
    r = iotlb_init(&v->tlb, &cfg->iotlb, err, errlen);
    if (r)
        return r;
    memset(&cc, 0, sizeof(cc));
    cc.policy = IOTLB_LRU;
    cc.arr[0].entries = cfg->cc_entries;
    cc.arr[0].ways = cfg->cc_ways ? cfg->cc_ways : cfg->cc_entries;
    cc.path = path;
    r = iotlb_init(&v->cc, &cc, err, errlen);
    if (r)
        goto err_tlb;
    r = walker_init(&v->walker, sim, mem, &cfg->walk, err, errlen);
    if (r)
        goto err_cc;
    r = sim_resource_init(&v->ports, sim, cfg->lookup_ports);
    if (r) {
        sim_error_format(err, errlen, r, path, NULL);
        goto err_walker;
    }
    r = vtd_qi_init(&v->qi, sim, &cfg->qi, vtd_process, v, path, err, errlen);
    if (r)
        goto err_ports;
    v->nfetches = cfg->iotlb.mshrs;
    v->dom = calloc(cfg->max_domains, sizeof(*v->dom));
    v->dev = calloc(cfg->max_devices, sizeof(*v->dev));
    v->walks = calloc(cfg->iotlb.mshrs, sizeof(*v->walks));
    v->walk_of = calloc(cfg->iotlb.mshrs, sizeof(*v->walk_of));
    v->walking = calloc(cfg->iotlb.mshrs, sizeof(*v->walking));
    v->fetches = calloc(v->nfetches, sizeof(*v->fetches));
    if (!v->dom || !v->dev || !v->walks || !v->walk_of || !v->walking || !v->fetches ||
        iommu_batches_init(&v->batches, sim, cfg->iotlb.mshrs)) {
        r = sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
        goto err_free;
    }
    for (i = 0; i < cfg->iotlb.mshrs; i++) {
        v->walks[i].next_free = v->free_walks;
        v->free_walks = &v->walks[i];
    }
    for (i = v->nfetches; i-- > 0;) {
        v->fetches[i].v = v;
        v->fetches[i].next_free = v->free_fetches;
        v->free_fetches = &v->fetches[i];
    }
    if (cfg->scalable && cfg->pgtt == VTD_PGTT_NESTED) {
        /* Stage 2: the guest-physical space [0, s2_bytes) identity-mapped
         * (host-physical = guest-physical) with s2_page_size leaves. */
        r = pgtable_init(&v->s2, v->levels, 4096 | cfg->s2_page_size, VTD_S2_TABLE_BASE);
        if (!r)
            r = pgtable_map(&v->s2, 0, 0, cfg->s2_bytes, IOMMU_RW);
        if (r) {
            if (v->s2.root)
                pgtable_destroy(&v->s2);
            sim_error_format(err, errlen, r, path, "cannot build the stage-2 table");
            goto err_free;
        }
        v->s2_live = true;
    }
    return 0;

err_free:
    free(v->dom);
    free(v->dev);
    free(v->walks);
    free(v->walk_of);
    free(v->walking);
    iommu_batches_destroy(&v->batches);
    free(v->fetches);
    vtd_qi_destroy(&v->qi);
err_ports:
    sim_resource_destroy(&v->ports);
err_walker:
    walker_destroy(&v->walker);
err_cc:
    iotlb_destroy(&v->cc);
err_tlb:
    iotlb_destroy(&v->tlb);
    return r;
}

void vtd_destroy(struct vtd *v)
{
    unsigned i;

    for (i = 0; i < v->cfg.max_devices; i++)
        if (v->dev[i].v)
            iommu_destroy(&v->dev[i].mmu);
    for (i = 0; i < v->cfg.max_domains; i++)
        if (v->dom[i].od.ops)
            pgtable_destroy(&v->dom[i].pt);
    if (v->s2_live)
        pgtable_destroy(&v->s2);
    free(v->dom);
    free(v->dev);
    free(v->walks);
    free(v->walk_of);
    free(v->walking);
    iommu_batches_destroy(&v->batches);
    free(v->fetches);
    vtd_qi_destroy(&v->qi);
    sim_resource_destroy(&v->ports);
    walker_destroy(&v->walker);
    iotlb_destroy(&v->cc);
    iotlb_destroy(&v->tlb);
}

int vtd_domain_get(struct vtd *v, unsigned id, struct iommu_domain **out,
                   char *err, size_t errlen)
{
    struct vtd_dom *d;
    uint64_t base;
    int r;

    if (id >= v->cfg.max_domains)
        return sim_error_format(err, errlen, SIM_ERANGE, vpath(v),
                                "domain id (got %u, expected < max_domains = %u)", id,
                                v->cfg.max_domains);
    d = &v->dom[id];
    if (!d->od.ops) {
        /* Nested: first-level tables are guest memory, under stage 2. */
        base = v->s2_live ? v->cfg.s1_table_base + (uint64_t)id * s1_span(&v->cfg)
                          : VTD_TABLE_BASE + (uint64_t)id * VTD_DOM_SPAN;
        r = pgtable_init(&d->pt, v->levels, v->cfg.pgsize_bitmap, base);
        if (r)
            return sim_error_format(err, errlen, r, vpath(v),
                                    "cannot create domain %u's tables", id);
        d->od.ops = &vtd_domain_ops;
        d->od.id = id;
        d->od.addr_bits = v->cfg.aw_bits;
        d->od.pgsize_bitmap = v->cfg.pgsize_bitmap;
        /* Linux: "IOMMU batching disallowed due to virtualization". */
        d->od.flags = v->cfg.caching_mode ? IOMMU_DOMAIN_STRICT_ONLY : 0;
        d->od.model = v;
    }
    if (out)
        *out = &d->od;
    return 0;
}

int vtd_attach(struct vtd *v, uint32_t rid, unsigned id, struct iommu **out,
               char *err, size_t errlen)
{
    struct vtd_dev *d;
    bool rebind = false;
    int old, r;

    if (rid >= v->cfg.max_devices)
        return sim_error_format(err, errlen, SIM_ERANGE, vpath(v),
                                "requester id (got %u, expected < max_devices = %u)", rid,
                                v->cfg.max_devices);
    r = vtd_domain_get(v, id, NULL, err, errlen);
    if (r)
        return r;
    d = &v->dev[rid];
    if (!d->v) {
        r = iommu_init(&d->mmu, &vtd_iommu_ops, v->sim, vpath(v),
                       UINT64_C(1) << v->cfg.aw_bits, err, errlen);
        if (r)
            return r;
        d->v = v;
        d->rid = rid;
        d->did = -1;
        if (rid + 1 > v->dev_hi)
            v->dev_hi = rid + 1;
    } else if (d->did >= 0 && d->did != (int)id) {
        /* Rebinding: whatever the device's users hold is gone (B10). */
        iommu_unmap_all(&d->mmu);
        rebind = true;
    }
    old = d->did;
    d->did = (int)id;
    if (v->cfg.caching_mode || rebind) {
        /* Linux domain_context_mapping(): a present entry changed, or the
         * IOMMU may cache not-present entries (CM): flush the device's
         * context-cache entry and the domain's IOTLB entries, each its own
         * qi_submit_sync. */
        struct vtd_desc cc = { .type = VTD_DESC_CC, .gran = VTD_CC_DEVICE, .rid = rid,
                               .did = (uint16_t)id };
        struct vtd_desc io = { .type = VTD_DESC_IOTLB_DOMAIN,
                               .did = (uint16_t)(rebind ? old : (int)id) };

        vtd_qi_sync(&v->qi, &cc, 1, sim_now(v->sim));
        vtd_qi_sync(&v->qi, &io, 1, sim_now(v->sim));
    } else {
        /* Not-present entries are not cached without CM: nothing to flush. */
        iotlb_inval_domain(&v->cc, rid);
    }
    if (out)
        *out = &d->mmu;
    return 0;
}
