/*
 * amdvi.c - the AMD-Vi IOMMU model (see amdvi.h).
 *
 * Tables are kept once allocated (Linux's AMD v1 page table frees
 * page-table pages only with the domain), so an unmap clears leaves and a
 * cached page-directory entry never points at a freed table. Per timed
 * request: an IOTLB probe, on a miss a PDC scan (pdc_entries, small) and
 * a walk of at most `levels` entries, one event; nothing is allocated.
 */
#include "iommu/models/amdvi.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#define NPTE 512

struct amdvi_pte {
    struct amdvi_pt *child;         /* a PDE: the table of level NextLevel */
    uint64_t pa;                    /* a PTE (NextLevel 0): the page's address */
    unsigned perm;                  /* a PTE: IOMMU_RO/WO/RW; 0 with no child: not present */
};

struct amdvi_pt {
    unsigned level;
    struct amdvi_pte e[NPTE];
};

#define DEV_OF(m) ((struct amdvi_dev *)((char *)(m) - offsetof(struct amdvi_dev, mmu)))
#define DOM_OF(d) ((struct amdvi_domain *)((char *)(d) - offsetof(struct amdvi_domain, dom)))

static unsigned shift_of(unsigned level)
{
    return 12 + 9 * (level - 1);
}

static unsigned index_of(uint64_t iova, unsigned level)
{
    return (unsigned)((iova >> shift_of(level)) & (NPTE - 1));
}

/* Bytes one entry of a table at @level maps (4 KiB at level 1). */
static uint64_t entry_span(unsigned level)
{
    return shift_of(level) >= 64 ? 0 : UINT64_C(1) << shift_of(level);
}

/* Are the IOVA bits of levels lo..hi zero (what a PDE skipping them needs)? */
static bool skipped_bits_zero(uint64_t iova, unsigned hi, unsigned lo)
{
    unsigned s, w;

    if (hi < lo)
        return true;
    s = shift_of(lo);
    w = 9 * (hi - lo + 1);
    if (s >= 64)
        return true;
    if (s + w >= 64)
        return (iova >> s) == 0;
    return ((iova >> s) & ((UINT64_C(1) << w) - 1)) == 0;
}

static bool in_space(const struct amdvi *v, uint64_t iova)
{
    unsigned bits = 12 + 9 * v->cfg.levels;

    return bits >= 64 || iova < (UINT64_C(1) << bits);
}

static struct amdvi_pt *pt_new(struct amdvi_domain *d, unsigned level)
{
    struct amdvi_pt *pt = calloc(1, sizeof(*pt));

    if (pt) {
        pt->level = level;
        d->tables++;
    }
    return pt;
}

static void pt_free(struct amdvi_pt *pt)
{
    if (!pt)
        return;
    for (unsigned i = 0; i < NPTE; i++)
        pt_free(pt->e[i].child);
    free(pt);
}

/* --- Functional walk ------------------------------------------------------------ */

/*
 * Walk @iova from @pt: *reads gets the entries read (one per table
 * visited). Returns the leaf entry and its level, or NULL (not present, or
 * non-zero bits under a skipping PDE: a fault either way).
 */
static const struct amdvi_pte *walk_from(const struct amdvi_pt *pt, uint64_t iova,
                                         unsigned *reads, unsigned *leaf_level,
                                         const struct amdvi_pt **visited, unsigned *nvisited)
{
    unsigned n = 0;

    while (pt) {
        unsigned l = pt->level;
        const struct amdvi_pte *e = &pt->e[index_of(iova, l)];

        n++;
        if (e->child) {
            unsigned m = e->child->level;

            if (!skipped_bits_zero(iova, l - 1, m + 1))
                break;
            pt = e->child;
            if (visited)
                visited[(*nvisited)++] = pt;
            continue;
        }
        if (!e->perm)
            break;
        *reads = n;
        *leaf_level = l;
        return e;
    }
    *reads = n;
    return NULL;
}

static struct iommu_tlb_entry dom_lookup(const struct amdvi_domain *d, uint64_t iova)
{
    struct iommu_tlb_entry e = { .iova = iova & ~UINT64_C(0xfff), .addr_mask = 0xfff };
    const struct amdvi_pte *pte;
    unsigned reads, level = 1;

    if (!d->root)
        return e;
    pte = walk_from(d->root, iova, &reads, &level, NULL, NULL);
    if (!pte)
        return e;
    e.addr_mask = entry_span(level) - 1;
    e.iova = iova & ~e.addr_mask;
    e.translated_addr = pte->pa;
    e.perm = pte->perm;
    return e;
}

unsigned amdvi_walk_reads(const struct amdvi *v, unsigned id, uint64_t iova)
{
    unsigned reads, level;

    if (id >= v->cfg.max_domains || !v->dom[id].root)
        return 0;
    return walk_from(v->dom[id].root, iova, &reads, &level, NULL, NULL) ? reads : 0;
}

static struct iommu_tlb_entry amdvi_translate(struct iommu *mmu, uint64_t iova,
                                              unsigned flag, unsigned idx)
{
    struct amdvi_dev *dv = DEV_OF(mmu);
    struct iommu_tlb_entry e = { .iova = iova & ~UINT64_C(0xfff), .addr_mask = 0xfff };

    (void)idx;
    if (dv->domain < 0)
        return e;
    e = dom_lookup(&dv->v->dom[dv->domain], iova);
    if (flag != IOMMU_NONE && (e.perm & flag) != flag)
        e.perm = IOMMU_NONE;
    return e;
}

/* --- Page-directory cache ------------------------------------------------------ */

static struct amdvi_pt *pdc_lookup(struct amdvi *v, unsigned dom, uint64_t iova)
{
    struct amdvi_pdc_entry *best = NULL;

    for (unsigned i = 0; i < v->cfg.pdc_entries; i++) {
        struct amdvi_pdc_entry *p = &v->pdc[i];
        unsigned s = shift_of(p->level + 1);

        if (p->valid && p->domain == dom && (s >= 64 ? 0 : iova >> s) == p->tag &&
            (!best || p->level < best->level))
            best = p;
    }
    if (!best) {
        v->st.pdc_misses++;
        return NULL;
    }
    v->st.pdc_hits++;
    best->lru = ++v->pdc_clock;
    return best->table;
}

static void pdc_insert(struct amdvi *v, unsigned dom, uint64_t iova, struct amdvi_pt *pt)
{
    struct amdvi_pdc_entry *victim = NULL;
    unsigned s = shift_of(pt->level + 1);
    uint64_t tag = s >= 64 ? 0 : iova >> s;

    for (unsigned i = 0; i < v->cfg.pdc_entries; i++) {
        struct amdvi_pdc_entry *p = &v->pdc[i];

        if (p->valid && p->domain == dom && p->level == pt->level && p->tag == tag) {
            victim = p;             /* already cached: refresh */
            break;
        }
        if (!victim || (victim->valid && (!p->valid || p->lru < victim->lru)))
            victim = p;             /* first invalid, else least recently used */
    }
    if (!victim)
        return;
    victim->valid = true;
    victim->domain = dom;
    victim->level = pt->level;
    victim->tag = tag;
    victim->table = pt;
    victim->lru = ++v->pdc_clock;
}

static void pdc_inval_domain(struct amdvi *v, unsigned dom)
{
    for (unsigned i = 0; i < v->cfg.pdc_entries; i++)
        if (v->pdc[i].domain == dom)
            v->pdc[i].valid = false;
}

/* --- Timed path ---------------------------------------------------------------- */

/* The walk's end: answer from the tables as they are now, fill the IOTLB. */
static void walk_end(struct sim_event *ev, void *arg)
{
    struct iommu_req *req = arg;
    struct amdvi_dev *dv = DEV_OF(req->mmu);
    struct amdvi *v = dv->v;
    struct iommu_tlb_entry e = amdvi_translate(req->mmu, req->iova, IOMMU_NONE, 0);

    (void)ev;
    if (e.perm != IOMMU_NONE && dv->domain >= 0)
        iotlb_insert(&v->tlb, (uint32_t)dv->domain, 0, req->iova, e.translated_addr,
                     e.addr_mask, e.perm);
    iommu_req_complete(req->mmu, req, &e, sim_now(v->sim));
}

static int amdvi_translate_timed(struct iommu *mmu, struct iommu_req *req)
{
    struct amdvi_dev *dv = DEV_OF(mmu);
    struct amdvi *v = dv->v;
    sim_tick_t t = sim_now(v->sim) + v->cfg.hit_latency;
    const struct amdvi_pt *visited[AMDVI_MAX_LEVELS + 1];
    unsigned nvisited = 0, reads, level;
    struct amdvi_domain *d;
    struct amdvi_pt *start;
    struct iotlb_hit h;

    if (dv->domain < 0) {
        struct iommu_tlb_entry e = { .iova = req->iova & ~UINT64_C(0xfff), .addr_mask = 0xfff };

        iommu_req_complete(mmu, req, &e, t);
        return 0;
    }
    if (!dv->dte_cached) {
        /* The DTE is read once, then cached until INVALIDATE_DEVTAB_ENTRY. */
        t += v->cfg.read_latency;
        dv->dte_cached = true;
        v->st.dte_reads++;
    }
    if (iotlb_lookup(&v->tlb, (uint32_t)dv->domain, 0, req->iova, &h)) {
        struct iommu_tlb_entry e = { .iova = req->iova & ~h.addr_mask,
                                     .translated_addr = h.translated_addr,
                                     .addr_mask = h.addr_mask, .perm = h.perm };

        iommu_req_complete(mmu, req, &e, t);
        return 0;
    }
    d = &v->dom[dv->domain];
    start = pdc_lookup(v, (unsigned)dv->domain, req->iova);
    if (!start)
        start = d->root;
    walk_from(start, req->iova, &reads, &level, visited, &nvisited);
    for (unsigned i = 0; i < nvisited; i++)
        pdc_insert(v, (unsigned)dv->domain, req->iova, (struct amdvi_pt *)visited[i]);
    v->st.walks++;
    v->st.walk_reads += reads;
    sim_event_init(&req->ev, walk_end, req, SIM_PRIO_DEFAULT);
    return sim_event_schedule(v->sim, &req->ev, t + (sim_tick_t)reads * v->cfg.read_latency);
}

/* --- Table visits (unmap, events, replay) -------------------------------------- */

typedef void (*leaf_fn)(void *arg, struct amdvi_pte *e, uint64_t iova, unsigned level);

/* Every leaf of @pt (whose first IOVA is @base) overlapping [lo, hi]. */
static void visit(struct amdvi_pt *pt, uint64_t base, uint64_t lo, uint64_t hi, leaf_fn fn,
                  void *arg)
{
    uint64_t span = entry_span(pt->level);
    uint64_t first = lo > base ? (lo - base) / span : 0;
    uint64_t last = hi >= base ? (hi - base) / span : 0;

    if (hi < base || first >= NPTE)
        return;
    if (last > NPTE - 1)
        last = NPTE - 1;
    for (unsigned i = (unsigned)first; i <= last; i++) {
        struct amdvi_pte *e = &pt->e[i];
        uint64_t a = base + (uint64_t)i * span;

        if (e->child)
            visit(e->child, a, lo, hi, fn, arg);
        else if (e->perm)
            fn(arg, e, a, pt->level);
    }
}

static void dom_visit(struct amdvi_domain *d, uint64_t lo, uint64_t hi, leaf_fn fn, void *arg)
{
    if (d->root && lo <= hi)
        visit(d->root, 0, lo, hi, fn, arg);
}

/* --- Commands ------------------------------------------------------------------ */

static sim_tick_t max_tick(sim_tick_t a, sim_tick_t b)
{
    return a > b ? a : b;
}

sim_tick_t amdvi_cmd_submit(struct amdvi *v, const struct amdvi_cmd *cmds, unsigned n,
                            sim_tick_t at, sim_tick_t *done_users)
{
    sim_tick_t users = at;

    for (unsigned i = 0; i < n; i++) {
        const struct amdvi_cmd *c = &cmds[i];

        v->cmd_busy_until = max_tick(at, v->cmd_busy_until) + v->cfg.cmd_time[c->type];
        v->st.cmds[c->type]++;
        switch (c->type) {
        case AMDVI_CMD_INV_IOMMU_PAGES:
            if (c->size == 0) {
                iotlb_inval_domain(&v->tlb, c->domain);
            } else {
                iotlb_inval_range(&v->tlb, c->domain, c->addr, c->size - 1);
            }
            /* The PDE bit: cached directory entries of the domain go too. */
            pdc_inval_domain(v, c->domain);
            break;
        case AMDVI_CMD_INV_DEVTAB_ENTRY:
            if (c->devid < v->cfg.max_devices)
                v->dev[c->devid].dte_cached = false;
            break;
        case AMDVI_CMD_INV_IOTLB_PAGES:
            if (c->devid < v->cfg.max_devices && v->dev[c->devid].v) {
                struct iommu_event ev = { .type = IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
                    .entry = { .iova = c->size ? c->addr : 0,
                               .translated_addr = c->size ? c->addr : 0,
                               .addr_mask = c->size ? c->size - 1 : UINT64_MAX } };

                users = max_tick(users, iommu_notify(&v->dev[c->devid].mmu, 0, &ev));
            }
            break;
        default:
            break;
        }
    }
    if (done_users)
        *done_users = users;
    return max_tick(at, v->cmd_busy_until);
}

/*
 * Flush [iova, iova + size) of a domain (size 0: all of it) and wait, as
 * Linux's domain_flush_pages() + domain_flush_complete() do: one
 * INVALIDATE_IOMMU_PAGES, one INVALIDATE_IOTLB_PAGES per device of the
 * domain with an ATS TLB (a DEVIOTLB_UNMAP notifier on its address space),
 * then COMPLETION_WAIT. Done when the wait is and the ATS TLBs are.
 */
static sim_tick_t flush_range(struct amdvi *v, unsigned dom, uint64_t iova, uint64_t size,
                              sim_tick_t at)
{
    struct amdvi_cmd c = { .type = AMDVI_CMD_INV_IOMMU_PAGES, .domain = dom, .addr = iova,
                           .size = size };
    sim_tick_t users, done = amdvi_cmd_submit(v, &c, 1, at, NULL);

    for (unsigned i = 0; i < v->dev_hi; i++) {
        struct amdvi_dev *dv = &v->dev[i];

        if (!dv->v || dv->domain != (int)dom ||
            !(dv->mmu.notify_flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP))
            continue;
        c.type = AMDVI_CMD_INV_IOTLB_PAGES;
        c.devid = i;
        amdvi_cmd_submit(v, &c, 1, at, &users);
        done = max_tick(done, users);
    }
    c.type = AMDVI_CMD_COMPLETION_WAIT;
    return max_tick(done, amdvi_cmd_submit(v, &c, 1, at, NULL));
}

/* --- Domain ops ---------------------------------------------------------------- */

struct ev_ctx {
    struct amdvi *v;
    unsigned dom;
    unsigned type;
    sim_tick_t end;
    uint64_t leaves;
    uint64_t lo, hi;
    bool straddle;
};

/* One event for a leaf to every device whose DTE names the domain. */
static void leaf_event(void *arg, struct amdvi_pte *pte, uint64_t iova, unsigned level)
{
    struct ev_ctx *c = arg;
    struct amdvi *v = c->v;
    struct iommu_event ev = { .type = c->type,
        .entry = { .iova = iova, .translated_addr = pte->pa,
                   .addr_mask = entry_span(level) - 1,
                   .perm = c->type == IOMMU_NOTIFIER_UNMAP ? IOMMU_NONE : pte->perm } };

    c->leaves++;
    for (unsigned i = 0; i < v->dev_hi; i++)
        if (v->dev[i].v && v->dev[i].domain == (int)c->dom)
            c->end = max_tick(c->end, iommu_notify(&v->dev[i].mmu, 0, &ev));
    if (c->type == IOMMU_NOTIFIER_UNMAP) {
        pte->perm = 0;
        pte->pa = 0;
    }
}

static void leaf_check(void *arg, struct amdvi_pte *pte, uint64_t iova, unsigned level)
{
    struct ev_ctx *c = arg;

    (void)pte;
    c->leaves++;
    if (iova < c->lo || iova + (entry_span(level) - 1) > c->hi)
        c->straddle = true;
}

/* Place one leaf of @level at @iova, creating (or re-inserting) tables. */
static int place(struct amdvi *v, struct amdvi_domain *d, uint64_t iova, uint64_t pa,
                 unsigned target, unsigned perm)
{
    struct amdvi_pt *pt = d->root;

    for (;;) {
        unsigned l = pt->level;
        struct amdvi_pte *e = &pt->e[index_of(iova, l)];

        if (l == target) {
            if (e->child || e->perm)
                return SIM_EEXIST;
            e->pa = pa;
            e->perm = perm;
            return 0;
        }
        if (!e->child) {
            unsigned m = l - 1;

            if (e->perm)
                return SIM_EEXIST;      /* a larger page covers it */
            if (v->cfg.skip_levels && target < l - 1 &&
                skipped_bits_zero(iova, l - 1, target + 1))
                m = target;
            e->child = pt_new(d, m);
            if (!e->child)
                return SIM_ENOMEM;
            if (m < l - 1)
                v->st.skipped_pdes++;
        } else if (e->child->level < l - 1) {
            unsigned m = e->child->level;

            if (target > m || !skipped_bits_zero(iova, l - 1, m + 1)) {
                /*
                 * This map needs a level the PDE skips: put level l - 1
                 * back. The old table held only IOVAs whose bits at the
                 * skipped levels are zero, so it hangs off entry 0.
                 */
                struct amdvi_pt *mid = pt_new(d, l - 1);

                if (!mid)
                    return SIM_ENOMEM;
                mid->e[0].child = e->child;
                e->child = mid;
                if (m == l - 2)
                    v->st.skipped_pdes--;   /* mid's entry 0 skips nothing */
            }
        }
        pt = e->child;
    }
}

/* Linux's iommu_pgsize(): the largest allowed page that fits and aligns. */
static unsigned pick_level(const struct amdvi *v, uint64_t iova, uint64_t pa, uint64_t left)
{
    for (unsigned l = 3; l > 1; l--) {
        uint64_t sz = entry_span(l);

        if ((v->cfg.pgsize_bitmap & sz) && !((iova | pa) & (sz - 1)) && left >= sz)
            return l;
    }
    return 1;
}

static int dom_unmap_leaves(struct amdvi *v, struct amdvi_domain *d, uint64_t iova,
                            uint64_t size, sim_tick_t *users);

static int ad_map(struct iommu_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
                  unsigned perm, sim_tick_t at, sim_tick_t *done)
{
    struct amdvi_domain *d = DOM_OF(dom);
    struct amdvi *v = dom->model;
    uint64_t off;
    int r = 0;

    *done = at;
    if (!size || ((iova | pa | size) & 0xfff) || perm == IOMMU_NONE)
        return SIM_EINVAL;
    if (!in_space(v, iova) || !in_space(v, iova + size - 1) || iova + size < iova)
        return SIM_ERANGE;
    for (off = 0; off < size;) {
        unsigned l = pick_level(v, iova + off, pa + off, size - off);

        r = place(v, d, iova + off, pa + off, l, perm);
        if (r)
            break;
        off += entry_span(l);
        v->st.map_pages++;
    }
    if (r) {
        if (off)
            dom_unmap_leaves(v, d, iova, off, NULL);    /* as __iommu_map does */
        return r;
    }
    v->st.maps++;
    if (v->cfg.npcache) {
        /*
         * NpCache: the IOMMU may cache not-present entries, so the driver
         * flushes the range after the map and waits; that flush is what
         * shows the map to the model, which announces it (B13).
         */
        struct ev_ctx c = { v, dom->id, IOMMU_NOTIFIER_MAP, at, 0, 0, 0, false };
        sim_tick_t t = flush_range(v, dom->id, iova, size, at);

        v->st.map_flushes++;
        dom_visit(d, iova, iova + size - 1, leaf_event, &c);
        v->st.notify_ticks += c.end - at;
        *done = max_tick(t, c.end);
    }
    return 0;
}

/* Clear the leaves of [iova, iova + size) with UNMAP events; SIM_EINVAL if
 * a leaf straddles an end (nothing removed), SIM_ENOENT if none. */
static int dom_unmap_leaves(struct amdvi *v, struct amdvi_domain *d, uint64_t iova,
                            uint64_t size, sim_tick_t *users)
{
    struct ev_ctx c = { v, d->dom.id, IOMMU_NOTIFIER_UNMAP, sim_now(v->sim), 0, iova,
                        iova + size - 1, false };

    dom_visit(d, c.lo, c.hi, leaf_check, &c);
    if (c.straddle)
        return SIM_EINVAL;
    if (!c.leaves)
        return SIM_ENOENT;
    c.leaves = 0;
    dom_visit(d, c.lo, c.hi, leaf_event, &c);
    v->st.unmap_pages += c.leaves;
    if (users)
        *users = c.end;
    return 0;
}

static int ad_unmap(struct iommu_domain *dom, uint64_t iova, uint64_t size, unsigned flags,
                    sim_tick_t at, sim_tick_t *done)
{
    struct amdvi_domain *d = DOM_OF(dom);
    struct amdvi *v = dom->model;
    sim_tick_t users = at;
    int r;

    *done = at;
    if (!size || ((iova | size) & 0xfff))
        return SIM_EINVAL;
    r = dom_unmap_leaves(v, d, iova, size, &users);
    if (r)
        return r;
    v->st.unmaps++;
    v->st.notify_ticks += users > at ? users - at : 0;
    /* Lazy: the flush queue's flush_all() invalidates later. */
    *done = max_tick(users, (flags & IOMMU_UNMAP_DEFER_FLUSH) ? at
                                                             : flush_range(v, dom->id, iova,
                                                                           size, at));
    return 0;
}

static sim_tick_t ad_flush_all(struct iommu_domain *dom, sim_tick_t at)
{
    return flush_range(dom->model, dom->id, 0, 0, at);
}

static struct iommu_tlb_entry ad_lookup(struct iommu_domain *dom, uint64_t iova)
{
    return dom_lookup(DOM_OF(dom), iova);
}

static const struct iommu_domain_ops amdvi_domain_ops = {
    .map = ad_map,
    .unmap = ad_unmap,
    .flush_all = ad_flush_all,
    .lookup = ad_lookup,
};

/* --- Optional ops -------------------------------------------------------------- */

static int amdvi_flag_changed(struct iommu *mmu, unsigned old, unsigned nf, char *err,
                              size_t errlen)
{
    (void)old;
    if ((nf & IOMMU_NOTIFIER_MAP) && !DEV_OF(mmu)->v->cfg.npcache)
        return sim_error_format(err, errlen, SIM_EREFUSED, mmu->path,
                                "MAP notifiers need npcache (the guest flushes on map)");
    return 0;
}

struct replay_ctx {
    struct iommu_notifier *n;
    sim_tick_t end;
    uint64_t count;
};

static void replay_leaf(void *arg, struct amdvi_pte *pte, uint64_t iova, unsigned level)
{
    struct replay_ctx *c = arg;
    struct iommu_event ev = { .type = IOMMU_NOTIFIER_MAP,
        .entry = { .iova = iova, .translated_addr = pte->pa,
                   .addr_mask = entry_span(level) - 1, .perm = pte->perm } };

    c->end = max_tick(c->end, iommu_notify_one(c->n, &ev));
    c->count++;
}

/* Walk the tables: cost proportional to what is mapped. */
static sim_tick_t amdvi_replay(struct iommu *mmu, struct iommu_notifier *n)
{
    struct amdvi_dev *dv = DEV_OF(mmu);
    struct replay_ctx c = { n, sim_now(mmu->sim), 0 };

    if (dv->domain >= 0)
        dom_visit(&dv->v->dom[dv->domain], n->start, n->end, replay_leaf, &c);
    mmu->st.replay_notifications += c.count;
    return c.end;
}

static int amdvi_get_attr(struct iommu *mmu, enum iommu_attr attr, void *data)
{
    struct amdvi *v = DEV_OF(mmu)->v;
    unsigned bits = 12 + 9 * v->cfg.levels;

    switch (attr) {
    case IOMMU_ATTR_ADDR_WIDTH:
        *(unsigned *)data = bits > 64 ? 64 : bits;
        return 0;
    case IOMMU_ATTR_PGSIZE_BITMAP:
        *(uint64_t *)data = v->cfg.pgsize_bitmap;
        return 0;
    case IOMMU_ATTR_CACHING_MODE:
        *(bool *)data = v->cfg.npcache;
        return 0;
    }
    return SIM_EINVAL;
}

const struct iommu_ops amdvi_iommu_ops = {
    .translate = amdvi_translate,
    .translate_timed = amdvi_translate_timed,
    .notify_flag_changed = amdvi_flag_changed,
    .replay = amdvi_replay,
    .get_attr = amdvi_get_attr,
};

/* --- Set-up -------------------------------------------------------------------- */

int amdvi_create(struct amdvi *v, struct sim *sim, const struct amdvi_cfg *cfg,
                 char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "amdvi";
    int r;

    memset(v, 0, sizeof(*v));
    if (cfg->levels < 3 || cfg->levels > AMDVI_MAX_LEVELS || !cfg->max_domains ||
        !cfg->max_devices || !(cfg->pgsize_bitmap & 0x1000) ||
        (cfg->pgsize_bitmap & ~(UINT64_C(0x1000) | (UINT64_C(1) << 21) | (UINT64_C(1) << 30))))
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "levels 3..6, page sizes among 4KiB (required), 2MiB, 1GiB, "
                                "max_domains and max_devices >= 1");
    v->sim = sim;
    v->cfg = *cfg;
    v->cfg.path = path;
    r = iotlb_init(&v->tlb, &cfg->iotlb, err, errlen);
    if (r)
        return r;
    v->dom = calloc(cfg->max_domains, sizeof(*v->dom));
    v->dev = calloc(cfg->max_devices, sizeof(*v->dev));
    v->pdc = cfg->pdc_entries ? calloc(cfg->pdc_entries, sizeof(*v->pdc)) : NULL;
    if (!v->dom || !v->dev || (cfg->pdc_entries && !v->pdc)) {
        amdvi_destroy(v);
        return sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
    }
    for (unsigned i = 0; i < cfg->max_devices; i++)
        v->dev[i].domain = -1;
    return 0;
}

void amdvi_destroy(struct amdvi *v)
{
    if (v->dev)
        for (unsigned i = 0; i < v->cfg.max_devices; i++)
            if (v->dev[i].v)
                iommu_destroy(&v->dev[i].mmu);
    if (v->dom)
        for (unsigned i = 0; i < v->cfg.max_domains; i++)
            pt_free(v->dom[i].root);
    free(v->dom);
    free(v->dev);
    free(v->pdc);
    v->dom = NULL;
    v->dev = NULL;
    v->pdc = NULL;
    iotlb_destroy(&v->tlb);
}

int amdvi_domain_get(struct amdvi *v, unsigned id, struct iommu_domain **out, char *err,
                     size_t errlen)
{
    struct amdvi_domain *d;
    unsigned bits = 12 + 9 * v->cfg.levels;

    if (id >= v->cfg.max_domains)
        return sim_error_format(err, errlen, SIM_ERANGE, v->cfg.path,
                                "domain: beyond the IOMMU's domains (got %u, expected < "
                                "max_domains = %u)", id, v->cfg.max_domains);
    d = &v->dom[id];
    if (!d->root) {
        d->root = pt_new(d, v->cfg.levels);
        if (!d->root)
            return sim_error_format(err, errlen, SIM_ENOMEM, v->cfg.path, NULL);
        d->dom.ops = &amdvi_domain_ops;
        d->dom.id = id;
        d->dom.addr_bits = bits > 64 ? 64 : bits;
        d->dom.pgsize_bitmap = v->cfg.pgsize_bitmap;
        d->dom.flags = v->cfg.npcache ? IOMMU_DOMAIN_STRICT_ONLY : 0;
        d->dom.model = v;
    }
    *out = &d->dom;
    return 0;
}

int amdvi_attach(struct amdvi *v, uint32_t devid, unsigned id, struct iommu **out,
                 char *err, size_t errlen)
{
    struct iommu_domain *dom;
    struct amdvi_dev *dv;
    unsigned bits = 12 + 9 * v->cfg.levels;
    int r;

    if (devid >= v->cfg.max_devices)
        return sim_error_format(err, errlen, SIM_ERANGE, v->cfg.path,
                                "device id (got %u, expected < max_devices = %u)", devid,
                                v->cfg.max_devices);
    r = amdvi_domain_get(v, id, &dom, err, errlen);
    if (r)
        return r;
    dv = &v->dev[devid];
    if (!dv->v) {
        r = iommu_init(&dv->mmu, &amdvi_iommu_ops, v->sim, v->cfg.path,
                       bits >= 64 ? 0 : UINT64_C(1) << bits, err, errlen);
        if (r)
            return r;
        dv->v = v;
        dv->devid = devid;
        if (devid + 1 > v->dev_hi)
            v->dev_hi = devid + 1;
    } else if (dv->domain >= 0 && (unsigned)dv->domain != id) {
        iommu_unmap_all(&dv->mmu);  /* a new DTE: whatever the users held is gone */
    }
    /* Writing the DTE: the driver then invalidates it (INVALIDATE_DEVTAB_ENTRY). */
    dv->domain = (int)id;
    dv->dte_cached = false;
    if (out)
        *out = &dv->mmu;
    return 0;
}
