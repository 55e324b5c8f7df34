/*
 * dma_engine.c - the DMA engine (see dma_engine.h for a request's path).
 */
#include "dev/dma_engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

/* What a request's event means when it fires. */
enum {
    STAGE_TRANSLATE,    /* untranslated request at the root complex: translate */
    STAGE_DONE,         /* read completion back at the device */
    STAGE_ATS_CPL,      /* ATS: translation completion back at the device */
    STAGE_ACCESS,       /* ATS: translated request at the root complex */
    STAGE_FAULT,        /* device translator: its fault answer is in */
};

static void req_issue(struct dma_engine *e, struct dma_xfer *x, uint64_t iova,
                      uint32_t bytes);
static void req_finish(struct dma_engine_req *r, int status);

/* --- Posted writes (dma_engine.h) --------------------------------------- */

/* (tick, FIFO place) keys: "a runs before b". */
static inline bool key_before(sim_tick_t wa, uint64_t oa, sim_tick_t wb, uint64_t ob)
{
    return wa < wb || (wa == wb && oa < ob);
}

static inline bool posted_before(const struct dma_engine_req *a, const struct dma_engine_req *b)
{
    return key_before(a->done_at, a->done_order, b->done_at, b->done_order);
}

/* The earliest posted write that completes a transfer (a list walk: after
 * that one is released, the next is usually close to the head). */
static struct dma_engine_req *posted_first_last(const struct dma_engine *e)
{
    struct dma_engine_req *t = e->posted;

    while (t && !t->last)
        t = t->next_free;
    return t;
}

/* Write @r completes its transfer. */
static void posted_mark_last(struct dma_engine *e, struct dma_engine_req *r)
{
    r->last = true;
    if (!e->posted_first_last || posted_before(r, e->posted_first_last))
        e->posted_first_last = r;
}

/* A posted write is done (it has left the list): its tag is free again. */
static void posted_release(struct dma_engine *e, struct dma_engine_req *r)
{
    if (r == e->posted_tail)
        e->posted_tail = NULL;      /* the list is empty: r was its last */
    if (r == e->posted_first_last)
        e->posted_first_last = posted_first_last(e);
    if (r->x->last_posted == r)
        r->x->last_posted = NULL;
    /* Counted now, in completion order as with an event per write: every
     * path that counts a request reclaims the writes before it first. */
    e->st.requests[DMA_WRITE]++;
    e->st.bytes[DMA_WRITE] += r->bytes;
    lathist_add(&e->st.req_lat, r->done_at - r->issued);
    r->next_free = e->free_reqs;
    e->free_reqs = r;
    e->busy--;
}

/*
 * Retire the posted writes done before the running event (in key order):
 * what their completion events would have done by now. Cost:
 * one comparison when none is due. None of them completes a transfer: that
 * write has the engine's event at its key, which runs before anything later.
 */
static inline void posted_reclaim(struct dma_engine *e)
{
    sim_tick_t now = sim_now(e->sim);
    uint64_t cur = sim_current_order(e->sim);
    struct dma_engine_req *r;

    while ((r = e->posted) && key_before(r->done_at, r->done_order, now, cur)) {
        e->posted = r->next_free;
        posted_release(e, r);
    }
}

/* The engine's one posted-write event goes to the write someone waits for:
 * the earliest while transfers wait for tags, else the earliest that
 * completes a transfer; none if nobody waits. */
static void posted_rearm(struct dma_engine *e, struct dma_engine_req *t);

/* Inline: called after every posted write and tag wait, and the target
 * rarely changes (a packet's writes but its last leave it as it is). */
static inline void posted_arm(struct dma_engine *e)
{
    struct dma_engine_req *t = e->qhead ? e->posted : e->posted_first_last;

    if (t == e->posted_target && sim_event_is_scheduled(&e->posted_ev))
        return;
    posted_rearm(e, t);
}

static void posted_rearm(struct dma_engine *e, struct dma_engine_req *t)
{
    if (sim_event_is_scheduled(&e->posted_ev))
        sim_event_deschedule(e->sim, &e->posted_ev);
    e->posted_target = t;
    if (t)
        sim_event_schedule_as(e->sim, &e->posted_ev, t->done_at, t->done_order);
}

static void xfer_complete(struct dma_engine *e, struct dma_xfer *x, sim_tick_t now)
{
    x->completed = now;
    e->st.xfers++;
    if (x->status)
        e->st.xfer_errors++;
    if (x->done)
        x->done(x);                 /* may submit more */
}

static void pump(struct dma_engine *e);

/* A posted write's completion key is now: its own completion event's work. */
static void posted_event(struct sim_event *ev, void *arg)
{
    struct dma_engine *e = arg;
    struct dma_engine_req *r;
    struct dma_xfer *x = NULL;

    (void)ev;
    posted_reclaim(e);              /* the writes before this one */
    r = e->posted;
    e->posted_target = NULL;
    if (r && r->done_at == sim_now(e->sim) && r->done_order == sim_current_order(e->sim)) {
        e->posted = r->next_free;
        if (r->last)
            x = r->x;
        posted_release(e, r);
        if (x)
            xfer_complete(e, x, sim_now(e->sim));
    }
    pump(e);
    posted_arm(e);
}

/* A write's memory access: booked now, complete at a fixed tick. */
static void post_write(struct dma_engine_req *r)
{
    struct dma_engine *e = r->e;
    struct dma_xfer *x = r->x;
    struct dma_engine_req **pp;

    r->done_at = mem_access_book(e->mem, &r->mr);
    /* The FIFO place its completion event would have had. */
    r->done_order = sim_event_order_take(e->sim, SIM_PRIO_DEFAULT);
    r->last = false;
    if (!x->last_posted || posted_before(x->last_posted, r))
        x->last_posted = r;
    x->inflight--;
    /* Sorted by key. Writes book in nearly completion order, so the new
     * one usually goes last (O(1)); else search from the head (the list is
     * at most `tags` long). */
    if (!e->posted_tail || !posted_before(r, e->posted_tail)) {
        r->next_free = NULL;
        if (e->posted_tail)
            e->posted_tail->next_free = r;
        else
            e->posted = r;
        e->posted_tail = r;
    } else {
        for (pp = &e->posted; !posted_before(r, *pp); pp = &(*pp)->next_free)
            ;                       /* stops before the tail at the latest */
        r->next_free = *pp;
        *pp = r;
    }
    if (x->off == x->bytes && x->inflight == 0)
        posted_mark_last(e, x->last_posted);
    posted_arm(e);
}

unsigned dma_engine_busy(struct dma_engine *e)
{
    posted_reclaim(e);
    return e->busy;
}

void dma_engine_sync(struct dma_engine *e)
{
    sim_tick_t now = sim_now(e->sim);
    struct dma_engine_req *r;

    /* A write that completes a transfer is never due here: its event, at
     * default priority, has run by now. */
    while ((r = e->posted) && r->done_at <= now && !r->last) {
        e->posted = r->next_free;
        posted_release(e, r);
    }
}

/* --- Issue and completion ----------------------------------------------- */

static void pump(struct dma_engine *e)
{
    if (e->posted)
        posted_reclaim(e);
    while (e->qhead && e->free_reqs) {
        struct dma_xfer *x = e->qhead;
        uint64_t iova = x->iova + x->off;
        uint32_t left = x->bytes - x->off;
        uint64_t to_page = 4096 - (iova & 4095);
        uint32_t n = left < e->cfg.max_payload ? left : e->cfg.max_payload;

        if (n > to_page)
            n = (uint32_t)to_page;
        x->off += n;
        x->inflight++;
        if (x->off == x->bytes) {
            e->qhead = x->next;
            if (!e->qhead)
                e->qtail = NULL;
        }
        req_issue(e, x, iova, n);
    }
    if (e->qhead) {
        e->st.tag_waits++;
        if (e->posted)
            posted_arm(e);          /* a tag frees with the earliest write */
    }
}

void dma_engine_submit(struct dma_engine *e, struct dma_xfer *x)
{
    x->off = 0;
    x->inflight = 0;
    x->status = 0;
    x->submitted = sim_now(e->sim);
    x->next = NULL;
    x->last_posted = NULL;
    if (e->qtail)
        e->qtail->next = x;
    else
        e->qhead = x;
    e->qtail = x;
    pump(e);
}

/* A read's memory access is done (writes are posted: post_write). */
static void mem_done(struct mem_req *mr)
{
    struct dma_engine_req *r = mr->ctx;
    struct dma_engine *e = r->e;

    /* The completion with data returns downstream. */
    r->stage = STAGE_DONE;
    sim_event_schedule(e->sim, &r->ev, pcie_link_send(&e->link, PCIE_DOWN, r->bytes));
}

static void start_access(struct dma_engine_req *r, uint64_t pa)
{
    /* mr.pt, done and ctx never change: set once at init. */
    r->mr.addr = pa;
    r->mr.bytes = r->bytes;
    if (r->write)
        post_write(r);
    else
        mem_access(r->e->mem, &r->mr);
}

static void xlate_done(struct iommu_req *ir)
{
    struct dma_engine_req *r = ir->ctx;
    struct dma_engine *e = r->e;
    sim_tick_t t = ir->completed - ir->issued;

    lathist_add(&e->st.xlate_lat, t);
    e->st.xlate_ticks += (double)t;
    if (ir->status) {
        e->st.faults++;
        req_finish(r, ir->status);
        return;
    }
    r->pa = ir->entry.translated_addr | (r->iova & ir->entry.addr_mask);
    if (!e->ats) {
        start_access(r, r->pa);
        return;
    }
    /* ATS: the completion carries the translation (8 bytes) back down. */
    iotlb_insert(&e->atc.tlb, 0, 0, r->iova, ir->entry.translated_addr, ir->entry.addr_mask,
                 ir->entry.perm);
    r->stage = STAGE_ATS_CPL;
    sim_event_schedule(e->sim, &r->ev, pcie_link_send(&e->link, PCIE_DOWN, 8));
}

static void req_event(struct sim_event *ev, void *arg)
{
    struct dma_engine_req *r = arg;
    struct dma_engine *e = r->e;

    (void)ev;
    switch (r->stage) {
    case STAGE_DONE:
        req_finish(r, 0);
        return;
    case STAGE_ATS_CPL:             /* now send the translated request */
        r->stage = STAGE_ACCESS;
        sim_event_schedule(e->sim, &r->ev,
                           pcie_link_send(&e->link, PCIE_UP, r->write ? r->bytes : 0));
        return;
    case STAGE_ACCESS:
        start_access(r, r->pa);
        return;
    case STAGE_FAULT:
        e->st.faults++;
        req_finish(r, SIM_EFAULT);
        return;
    default:
        break;
    }
    if (e->xlate) {                 /* a device IOTLB answers (vhost) */
        struct iommu_tlb_entry te;
        unsigned need = r->write ? IOMMU_WO : IOMMU_RO;
        sim_tick_t now = sim_now(e->sim), t = e->xlate(e->xlate_ctx, r->iova, need, &te);

        lathist_add(&e->st.xlate_lat, t - now);
        e->st.xlate_ticks += (double)(t - now);
        if ((te.perm & need) != need) {
            r->stage = STAGE_FAULT;
        } else {
            r->pa = te.translated_addr | (r->iova & te.addr_mask);
            r->stage = STAGE_ACCESS;
        }
        sim_event_schedule(e->sim, &r->ev, t);
        return;
    }
    /* The request TLP reached the root complex: translate. */
    if (!e->mmu) {
        start_access(r, r->iova);
        return;
    }
    r->ir.iova = r->iova;           /* ir.done and ctx: set at init */
    r->ir.access = r->write ? IOMMU_WO : IOMMU_RO;
    r->ir.attrs.is_write = r->write;
    if (iommu_translate_timed(e->mmu, &r->ir) != 0) {
        e->st.faults++;
        req_finish(r, SIM_EFAULT);
    }
}

static void req_issue(struct dma_engine *e, struct dma_xfer *x, uint64_t iova, uint32_t bytes)
{
    struct dma_engine_req *r = e->free_reqs;

    e->free_reqs = r->next_free;
    e->busy++;
    r->x = x;
    r->iova = iova;
    r->bytes = bytes;
    r->write = x->write;
    r->issued = sim_now(e->sim);
    r->stage = STAGE_TRANSLATE;
    if (e->ats) {
        struct iotlb_hit h;
        unsigned need = r->write ? IOMMU_WO : IOMMU_RO;
        sim_tick_t at = r->issued + e->cfg.ats_hit_latency;

        if (iotlb_lookup(&e->atc.tlb, 0, 0, iova, &h) && (h.perm & need) == need) {
            e->st.ats_hits++;
            lathist_add(&e->st.xlate_lat, e->cfg.ats_hit_latency);
            e->st.xlate_ticks += (double)e->cfg.ats_hit_latency;
            r->pa = h.translated_addr | (iova & h.addr_mask);
            r->stage = STAGE_ACCESS;
        } else {
            e->st.ats_misses++;
            bytes = 0;              /* a translation request is header only */
        }
        /* The link is taken now; the lookup latency delays the arrival. */
        sim_event_schedule(e->sim, &r->ev,
                           pcie_link_send(&e->link, PCIE_UP, r->write ? bytes : 0) +
                           (at - r->issued));
        return;
    }
    sim_event_schedule(e->sim, &r->ev,
                       pcie_link_send(&e->link, PCIE_UP, r->write ? bytes : 0));
}

static void req_finish(struct dma_engine_req *r, int status)
{
    struct dma_engine *e = r->e;
    struct dma_xfer *x = r->x;
    sim_tick_t now = sim_now(e->sim);

    if (e->posted)
        posted_reclaim(e);          /* x's posted writes done by now */
    if (!status) {
        e->st.requests[r->write]++;
        e->st.bytes[r->write] += r->bytes;
        lathist_add(&e->st.req_lat, now - r->issued);
    } else if (!x->status) {
        x->status = status;
    }
    r->next_free = e->free_reqs;
    e->free_reqs = r;
    e->busy--;
    x->inflight--;
    if (x->off == x->bytes && x->inflight == 0) {
        if (x->last_posted) {       /* a posted write of x ends later */
            posted_mark_last(e, x->last_posted);
            posted_arm(e);
        } else {
            xfer_complete(e, x, now);
        }
    }
    pump(e);
}

int dma_engine_init(struct dma_engine *e, struct sim *sim, const struct dma_engine_cfg *cfg,
                    const struct pcie_link_cfg *link, struct iommu *mmu, struct mem *mem,
                    const char *path, char *err, size_t errlen)
{
    int r;

    memset(e, 0, sizeof(*e));
    if (!cfg->tags || !cfg->max_payload || !mem)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "tags and max_payload must be >= 1 and memory is required");
    r = pcie_link_init(&e->link, sim, link);
    if (r)
        return sim_error_format(err, errlen, r, path,
                                "PCIe link (got gen %u x%u, expected gen 1..6, lanes 1..32, "
                                "a power of two)", link->gen, link->lanes);
    e->pool = calloc(cfg->tags, sizeof(*e->pool));
    if (!e->pool) {
        pcie_link_destroy(&e->link);
        return sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
    }
    e->sim = sim;
    e->cfg = *cfg;
    e->mmu = mmu;
    e->mem = mem;
    for (unsigned i = cfg->tags; i-- > 0;) {
        struct dma_engine_req *q = &e->pool[i];

        q->e = e;
        q->mr.pt = false;
        q->mr.done = mem_done;
        q->mr.ctx = q;
        q->ir.done = xlate_done;
        q->ir.ctx = q;
        sim_event_init(&q->ev, req_event, q, SIM_PRIO_DEFAULT);
        q->ir.attrs.requester_id = cfg->requester_id;
        q->ir.attrs.has_pasid = cfg->has_pasid;
        q->ir.attrs.pasid = cfg->pasid;
        q->ir.attrs.secure = cfg->secure;
        q->next_free = e->free_reqs;
        e->free_reqs = q;
    }
    sim_event_init(&e->posted_ev, posted_event, e, SIM_PRIO_DEFAULT);
    e->st.since = sim_now(sim);
    e->ival_start = sim_now(sim);
    if (cfg->ats_entries && mmu) {
        struct ats_tlb_cfg ac = { cfg->ats_entries, cfg->ats_ways, cfg->ats_inval_latency,
                                  path };

        r = ats_tlb_init(&e->atc, &ac, err, errlen);
        if (r) {
            dma_engine_destroy(e);
            return r;
        }
        e->ats = true;
        r = iommu_consumer_attach(&e->atc.c, mmu, err, errlen);
        if (r) {
            dma_engine_destroy(e);
            return r;
        }
    }
    return 0;
}

void dma_engine_destroy(struct dma_engine *e)
{
    /* Requests in flight hold events inside the pool: the simulation is
     * destroyed first, as for every model. */
    free(e->pool);
    e->pool = NULL;
    if (e->ats) {
        ats_tlb_destroy(&e->atc);
        e->ats = false;
    }
    pcie_link_destroy(&e->link);
}

double dma_engine_throughput(struct dma_engine *e)
{
    sim_tick_t span = sim_now(e->sim) - e->st.since;

    dma_engine_sync(e);

    if (!span)
        return 0.0;
    return (double)(e->st.bytes[0] + e->st.bytes[1]) * (double)SIM_TICKS_PER_S / (double)span;
}

double dma_engine_interval_bps(struct dma_engine *e)
{
    sim_tick_t now = sim_now(e->sim), span = now - e->ival_start;
    uint64_t bytes, moved;

    dma_engine_sync(e);             /* (a dump has done it already) */
    bytes = e->st.bytes[0] + e->st.bytes[1];
    moved = bytes - e->ival_bytes;

    e->ival_bytes = bytes;
    e->ival_start = now;
    if (!span)
        return NAN;
    return (double)moved * 8.0 * (double)SIM_TICKS_PER_S / (double)span;
}

void dma_engine_reset_stats(struct dma_engine *e)
{
    dma_engine_sync(e);             /* writes done before the reset stay out */
    memset(&e->st, 0, sizeof(e->st));
    e->st.since = sim_now(e->sim);
    e->ival_bytes = 0;
    e->ival_start = sim_now(e->sim);
    pcie_link_reset_stats(&e->link);
    if (e->ats)
        iommu_consumer_reset_stats(&e->atc.c);
}
