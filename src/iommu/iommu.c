/*
 * iommu.c - the model API core: defaults, notifier lists, fan-out, replay.
 *
 * Defaults live here and nowhere else (B2), like QEMU's system/memory.c.
 * Notifier lists are singly linked per iommu_idx: registration is rare and
 * fan-out visits every notifier of an index anyway, so a list costs nothing
 * a fancier structure would save. The flag union is recomputed on every
 * (un)registration: O(notifiers), off the hot path.
 */
#include "iommu/iommu.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

static const char *mmu_path(const struct iommu *mmu)
{
    return mmu->path ? mmu->path : "iommu";
}

int iommu_init(struct iommu *mmu, const struct iommu_ops *ops, struct sim *sim,
               const char *path, uint64_t size, char *err, size_t errlen)
{
    unsigned n;

    memset(mmu, 0, sizeof(*mmu));
    mmu->path = path;
    if (!ops || !ops->translate)
        return sim_error_format(err, errlen, SIM_EINVAL, mmu_path(mmu),
                                "the model has no translate operation, which is mandatory");
    mmu->ops = ops;
    mmu->sim = sim;
    mmu->size = size;
    n = ops->num_indexes ? ops->num_indexes(mmu) : 1;
    if (n == 0)
        return sim_error_format(err, errlen, SIM_EINVAL, mmu_path(mmu),
                                "num_indexes (got 0, expected >= 1)");
    mmu->lists = calloc(n, sizeof(*mmu->lists));
    if (!mmu->lists)
        return sim_error_format(err, errlen, SIM_ENOMEM, mmu_path(mmu), NULL);
    mmu->num_indexes = n;
    return 0;
}

void iommu_destroy(struct iommu *mmu)
{
    free(mmu->lists);
    mmu->lists = NULL;
    mmu->num_indexes = 0;
}

/* --- Defaults ------------------------------------------------------------- */

struct iommu_tlb_entry iommu_translate(struct iommu *mmu, uint64_t iova,
                                       unsigned flag, unsigned iommu_idx)
{
    mmu->st.translations++;
    return mmu->ops->translate(mmu, iova, flag, iommu_idx);
}

uint64_t iommu_get_min_page_size(struct iommu *mmu)
{
    return mmu->ops->get_min_page_size ? mmu->ops->get_min_page_size(mmu) : 4096;
}

int iommu_get_attr(struct iommu *mmu, enum iommu_attr attr, void *data)
{
    return mmu->ops->get_attr ? mmu->ops->get_attr(mmu, attr, data) : SIM_EINVAL;
}

unsigned iommu_attrs_to_index(struct iommu *mmu, const struct iommu_attrs *attrs)
{
    return mmu->ops->attrs_to_index ? mmu->ops->attrs_to_index(mmu, attrs) : 0;
}

/* --- Timed translation ---------------------------------------------------- */

static void req_done_event(struct sim_event *ev, void *arg)
{
    struct iommu_req *req = arg;

    (void)ev;
    req->done(req);
}

void iommu_req_resolve(struct iommu *mmu, struct iommu_req *req,
                       const struct iommu_tlb_entry *entry, sim_tick_t when)
{
    req->entry = *entry;
    if (entry->perm == IOMMU_NONE || (entry->perm & req->access) != req->access) {
        req->status = SIM_EFAULT;
        req->entry.perm = IOMMU_NONE;
        mmu->st.timed_faults++;
    } else {
        req->status = 0;
    }
    mmu->st.timed++;
    req->completed = when;
    mmu->st.timed_ticks += (double)(when - req->issued);
}

void iommu_req_complete(struct iommu *mmu, struct iommu_req *req,
                        const struct iommu_tlb_entry *entry, sim_tick_t when)
{
    iommu_req_resolve(mmu, req, entry, when);
    sim_event_init(&req->ev, req_done_event, req, SIM_PRIO_DEFAULT);
    /* when >= now by contract; an error here is a model bug, surfaced as a
     * completion now rather than a lost request. */
    if (sim_event_schedule(mmu->sim, &req->ev, when) != 0) {
        req->completed = sim_now(mmu->sim);
        sim_event_schedule(mmu->sim, &req->ev, req->completed);
    }
}

/* A walk's batch of completions, at its end tick: done() of each, in order. */
static void batch_event(struct sim_event *ev, void *arg)
{
    struct iommu_batch *b = arg;
    struct iommu_req *req = b->head, *next;

    (void)ev;
    b->head = NULL;
    b->next_free = b->pool->free;
    b->pool->free = b;
    for (; req; req = next) {
        next = req->next;           /* done() may reuse req */
        req->done(req);
    }
}

int iommu_batches_init(struct iommu_batches *bs, struct sim *sim, unsigned n)
{
    bs->sim = sim;
    bs->free = NULL;
    bs->all = calloc(n ? n : 1, sizeof(*bs->all));
    if (!bs->all)
        return SIM_ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        struct iommu_batch *b = &bs->all[i];

        b->pool = bs;
        sim_event_init(&b->ev, batch_event, b, SIM_PRIO_DEFAULT);
        b->next_free = bs->free;
        bs->free = b;
    }
    return 0;
}

void iommu_batches_destroy(struct iommu_batches *bs)
{
    free(bs->all);
    bs->all = bs->free = NULL;
}

void iommu_req_complete_list(struct iommu_batches *bs, struct iommu_req *head,
                             struct iommu_tlb_entry entry, sim_tick_t when)
{
    struct iommu_batch *b = bs->free;
    struct iommu_req *req, *next;

    if (b && head && head->next) {
        bs->free = b->next_free;
        b->head = head;
        for (req = head; req; req = req->next) {
            entry.iova = req->iova & ~entry.addr_mask;
            iommu_req_resolve(req->mmu, req, &entry, when);
        }
        sim_event_schedule(bs->sim, &b->ev, when);
        return;
    }
    for (req = head; req; req = next) {
        next = req->next;
        entry.iova = req->iova & ~entry.addr_mask;
        iommu_req_complete(req->mmu, req, &entry, when);
    }
}

int iommu_translate_timed(struct iommu *mmu, struct iommu_req *req)
{
    req->mmu = mmu;
    req->issued = sim_now(mmu->sim);
    /* iommu_attrs_to_index(), without the call for the usual default. */
    req->iommu_idx = mmu->ops->attrs_to_index ? mmu->ops->attrs_to_index(mmu, &req->attrs) : 0;
    if (req->iommu_idx >= mmu->num_indexes)
        req->iommu_idx = 0;
    if (mmu->ops->translate_timed)
        return mmu->ops->translate_timed(mmu, req);
    {
        struct iommu_tlb_entry e = iommu_translate(mmu, req->iova, req->access,
                                                   req->iommu_idx);

        iommu_req_complete(mmu, req, &e, sim_now(mmu->sim));
    }
    return 0;
}

/* --- Notifier registration (B3-B5) ---------------------------------------- */

static unsigned flags_union(const struct iommu *mmu)
{
    unsigned u = 0, i;
    const struct iommu_notifier *n;

    for (i = 0; i < mmu->num_indexes; i++)
        for (n = mmu->lists[i]; n; n = n->next)
            u |= n->flags;
    return u;
}

static bool is_registered(const struct iommu *mmu, const struct iommu_notifier *n)
{
    const struct iommu_notifier *p;
    unsigned i;

    for (i = 0; i < mmu->num_indexes; i++)
        for (p = mmu->lists[i]; p; p = p->next)
            if (p == n)
                return true;
    return false;
}

static void list_remove(struct iommu *mmu, struct iommu_notifier *n)
{
    struct iommu_notifier **pp = &mmu->lists[n->iommu_idx];

    while (*pp && *pp != n)
        pp = &(*pp)->next;
    if (*pp)
        *pp = n->next;
    n->next = NULL;
    n->owner = NULL;
}

/* Tell the model if the union changed. 0, or its refusal. */
static int update_flags(struct iommu *mmu, char *err, size_t errlen)
{
    unsigned nf = flags_union(mmu);
    int r = 0;

    if (nf == mmu->notify_flags)
        return 0;
    if (mmu->ops->notify_flag_changed) {
        mmu->st.flag_changes++;
        r = mmu->ops->notify_flag_changed(mmu, mmu->notify_flags, nf, err, errlen);
    }
    if (r == 0)
        mmu->notify_flags = nf;
    return r;
}

int iommu_notifier_register(struct iommu *mmu, struct iommu_notifier *n,
                            char *err, size_t errlen)
{
    int r;

    if (!n->notify)
        return sim_error_format(err, errlen, SIM_EINVAL, mmu_path(mmu),
                                "notifier has no callback");
    if (n->flags == IOMMU_NOTIFIER_NONE || (n->flags & ~(unsigned)IOMMU_NOTIFIER_ALL))
        return sim_error_format(err, errlen, SIM_EINVAL, mmu_path(mmu),
                                "notifier flags (got 0x%x, expected a non-empty subset of 0x%x)",
                                n->flags, (unsigned)IOMMU_NOTIFIER_ALL);
    if (n->start > n->end)
        return sim_error_format(err, errlen, SIM_EINVAL, mmu_path(mmu),
                                "notifier range (got start 0x%llx > end 0x%llx)",
                                (unsigned long long)n->start, (unsigned long long)n->end);
    if (n->iommu_idx >= mmu->num_indexes)
        return sim_error_format(err, errlen, SIM_EINVAL, mmu_path(mmu),
                                "notifier iommu_idx (got %u, expected < %u)",
                                n->iommu_idx, mmu->num_indexes);
    if (n->owner || is_registered(mmu, n))
        return sim_error_format(err, errlen, SIM_EINVAL, mmu_path(mmu),
                                "notifier is already registered");
    n->owner = mmu;
    n->next = mmu->lists[n->iommu_idx];
    mmu->lists[n->iommu_idx] = n;
    r = update_flags(mmu, err, errlen);
    if (r) {
        list_remove(mmu, n);        /* B5: as if never registered */
        mmu->st.refusals++;
        return r;
    }
    mmu->st.registers++;
    return 0;
}

int iommu_notifier_unregister(struct iommu *mmu, struct iommu_notifier *n)
{
    if (n->owner != mmu || !is_registered(mmu, n))
        return SIM_ENOENT;
    list_remove(mmu, n);
    mmu->st.unregisters++;
    /* Shrinking is never refused in practice; like QEMU, a refusal leaves
     * the old (larger) union in place. */
    update_flags(mmu, NULL, 0);
    return 0;
}

/* --- Fan-out (B6-B8) ------------------------------------------------------ */

static unsigned type_slot(unsigned type)
{
    return type == IOMMU_NOTIFIER_UNMAP ? 0 : type == IOMMU_NOTIFIER_MAP ? 1 : 2;
}

sim_tick_t iommu_notify_one(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct iommu *mmu = n->owner;
    struct iommu_event tmp = *ev;
    uint64_t entry_end = ev->entry.iova + ev->entry.addr_mask;
    sim_tick_t now = sim_now(mmu->sim), done, at;

    if (n->start > entry_end || n->end < ev->entry.iova) {
        mmu->st.skipped_range++;
        return now;
    }
    if (!(ev->type & n->flags)) {
        mmu->st.skipped_flags++;
        return now;
    }
    if (ev->type == IOMMU_NOTIFIER_DEVIOTLB_UNMAP) {
        /* B8: crop to the notifier's range. */
        if (tmp.entry.iova < n->start)
            tmp.entry.iova = n->start;
        tmp.entry.addr_mask = (entry_end < n->end ? entry_end : n->end) - tmp.entry.iova;
    }
    n->delivered++;
    mmu->st.deliveries++;
    n->notify(n, &tmp);
    /* The user's work begins when the event reaches it (iommu_notify_tick):
     * now, or later when the model handles it inside queued processing. */
    at = iommu_notify_tick(mmu);
    if (n->serialise)
        done = sim_resource_reserve_at(n->serialise, at, n->latency, NULL);
    else
        done = at + n->latency;
    mmu->st.consumer_ticks += (double)n->latency;
    return done;
}

sim_tick_t iommu_notify(struct iommu *mmu, unsigned iommu_idx,
                        const struct iommu_event *ev)
{
    struct iommu_notifier *n, *next;
    sim_tick_t end = sim_now(mmu->sim);

    if (iommu_idx >= mmu->num_indexes)
        return end;
    mmu->st.events[type_slot(ev->type)]++;
    /* A callback may unregister its own notifier: read next first. */
    for (n = mmu->lists[iommu_idx]; n; n = next) {
        sim_tick_t t;

        next = n->next;
        t = iommu_notify_one(n, ev);
        if (t > end)
            end = t;
    }
    return end;
}

sim_tick_t iommu_notify_change(struct iommu *mmu, unsigned iommu_idx,
                               const struct iommu_tlb_entry *old,
                               const struct iommu_tlb_entry *new_entry)
{
    struct iommu_event ev = { .type = IOMMU_NOTIFIER_UNMAP, .entry = *old };
    sim_tick_t a, b;

    ev.entry.perm = IOMMU_NONE;
    a = iommu_notify(mmu, iommu_idx, &ev);
    ev.type = IOMMU_NOTIFIER_MAP;
    ev.entry = *new_entry;
    b = iommu_notify(mmu, iommu_idx, &ev);
    return a > b ? a : b;
}

/* --- Replay (B9) and reset (B10) ------------------------------------------ */

sim_tick_t iommu_replay_granules(struct iommu *mmu, struct iommu_notifier *n)
{
    uint64_t gran = iommu_get_min_page_size(mmu), addr;
    sim_tick_t now = sim_now(mmu->sim), end = now;
    uint64_t calls = 0;

    if (gran == 0)
        return end;
    for (addr = 0; mmu->size == 0 || addr < mmu->size; addr += gran) {
        struct iommu_tlb_entry e = iommu_translate(mmu, addr, IOMMU_NONE, n->iommu_idx);

        calls++;
        if (e.perm != IOMMU_NONE) {
            struct iommu_event ev = { .type = IOMMU_NOTIFIER_MAP, .entry = e };
            sim_tick_t t = iommu_notify_one(n, &ev);

            mmu->st.replay_notifications++;
            if (t > end)
                end = t;
        }
        /* A region reaching 2^64 (or a granule near it) would wrap. */
        if (addr + gran < addr)
            break;
    }
    mmu->st.replay_translates += calls;
    if (now + calls * mmu->replay_translate_cost > end)
        end = now + calls * mmu->replay_translate_cost;
    return end;
}

sim_tick_t iommu_replay(struct iommu *mmu, struct iommu_notifier *n)
{
    sim_tick_t end;

    mmu->st.replays++;
    if (mmu->ops->replay)
        end = mmu->ops->replay(mmu, n);
    else
        end = iommu_replay_granules(mmu, n);
    mmu->st.replay_ticks += (double)(end - sim_now(mmu->sim));
    return end;
}

sim_tick_t iommu_unmap_notifier_range(struct iommu_notifier *n)
{
    struct iommu_event ev = {
        .type = IOMMU_NOTIFIER_UNMAP,
        .entry = { .iova = n->start, .addr_mask = n->end - n->start,
                   .perm = IOMMU_NONE },
    };

    if (!n->owner)
        return 0;
    n->owner->st.events[0]++;
    return iommu_notify_one(n, &ev);
}

sim_tick_t iommu_unmap_all(struct iommu *mmu)
{
    struct iommu_notifier *n, *next;
    sim_tick_t end = sim_now(mmu->sim);
    unsigned i;

    for (i = 0; i < mmu->num_indexes; i++)
        for (n = mmu->lists[i]; n; n = next) {
            sim_tick_t t;

            next = n->next;
            t = iommu_unmap_notifier_range(n);
            if (t > end)
                end = t;
        }
    return end;
}
