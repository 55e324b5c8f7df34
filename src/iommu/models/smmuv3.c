/*
 * smmuv3.c - the SMMUv3 model's configuration structures and timed
 * translation path (see smmuv3.h).
 *
 * A transaction moves through events on its own iommu_req (req->ev) while
 * it is at the device interface, and on its SMMU translation slot
 * (struct smmuv3_xlate, one of xlate_slots, preallocated) while it is in
 * the SMMU: config fetch, SMMU TLB, walk. Nothing is allocated per
 * transaction. A TLB hit at the interface costs two hash probes and one
 * event; a miss adds the link, the slot, a config-cache probe, and the
 * walker's reads through the memory model.
 */
#include "iommu/models/smmuv3.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#define PAGE 0x1000u
#define IFC_OF(m) ((struct smmuv3_ifc *)((char *)(m) - offsetof(struct smmuv3_ifc, mmu)))

struct smmuv3_ifc *smmuv3_ifc_of(struct iommu *mmu)
{
    return IFC_OF(mmu);
}

/* --- Configuration --------------------------------------------------------------- */

int smmuv3_ste_set(struct smmuv3 *s, uint32_t sid, const struct smmuv3_ste *ste)
{
    if (sid >= s->cfg.max_streams)
        return SIM_ERANGE;
    if ((ste->config == SMMUV3_STE_S2 || ste->config == SMMUV3_STE_NESTED) && !ste->s2)
        return SIM_EINVAL;
    s->ste[sid] = *ste;
    return 0;
}

int smmuv3_cd_set(struct smmuv3 *s, uint32_t sid, uint32_t ssid, const struct smmuv3_cd *cd)
{
    if (sid >= s->cfg.max_streams || ssid >= s->cfg.ssids_per_stream)
        return SIM_ERANGE;
    if (cd->valid && !cd->tt)
        return SIM_EINVAL;
    s->cd[(size_t)sid * s->cfg.ssids_per_stream + ssid] = *cd;
    return 0;
}

void smmuv3_ctx_resolve(const struct smmuv3 *s, uint32_t sid, uint32_t ssid,
                        struct smmuv3_ctx *c)
{
    const struct smmuv3_ste *ste;

    memset(c, 0, sizeof(*c));
    if (sid >= s->cfg.max_streams) {
        c->fault = SMMUV3_EVT_C_BAD_STE;
        return;
    }
    ste = &s->ste[sid];
    c->config = ste->config;
    c->stall = s->cfg.fault_mode == SMMUV3_FAULT_STALL && !ste->stall_disable;
    switch (ste->config) {
    case SMMUV3_STE_INVALID:
        c->fault = SMMUV3_EVT_C_BAD_STE;
        return;
    case SMMUV3_STE_ABORT:
        c->fault = SMMUV3_EVT_F_STE_ABORT;
        return;
    case SMMUV3_STE_BYPASS:
        return;
    case SMMUV3_STE_S2:
        c->s2 = ste->s2;
        c->tag = smmuv3_tag(SMMUV3_STE_S2, ste->vmid, 0);
        return;
    case SMMUV3_STE_S1:
    case SMMUV3_STE_NESTED: {
        const struct smmuv3_cd *cd;

        if (ssid >= s->cfg.ssids_per_stream) {
            c->fault = SMMUV3_EVT_C_BAD_CD;
            return;
        }
        cd = &s->cd[(size_t)sid * s->cfg.ssids_per_stream + ssid];
        if (!cd->valid) {
            c->fault = SMMUV3_EVT_C_BAD_CD;
            return;
        }
        c->s1 = cd->tt;
        c->s2 = ste->config == SMMUV3_STE_NESTED ? ste->s2 : NULL;
        c->tag = smmuv3_tag(ste->config, ste->vmid, cd->asid);
        return;
    }
    }
}

/*
 * May an answer of a transaction issued at @issued fill a TLB? Not if a
 * TLBI took effect since: the walk may have read the tables before the
 * change the TLBI announced, and a fill after the TLBI (and its SYNC)
 * would hand the old translation to later transactions.
 */
static inline bool may_fill(const struct smmuv3 *s, sim_tick_t issued)
{
    return !s->inval_seen || issued > s->inval_tick;
}

/*
 * A cache lookup of @lat arriving at @at: with @slots lookup slots (gem5's
 * semaphore around the lookup delay) it waits for the earliest free slot,
 * FIFO; 0 slots: no limit. Returns when the lookup's answer is known.
 */
static inline sim_tick_t lookup_done(struct sim_resource *port, unsigned slots, sim_tick_t at,
                                     sim_tick_t lat)
{
    return slots ? sim_resource_reserve_at(port, at, lat, NULL) : at + lat;
}

static inline uint32_t ssid_of(const struct iommu_req *req)
{
    return req->attrs.has_pasid ? req->attrs.pasid : 0;
}

/* --- Functional translation -------------------------------------------------------- */

struct iommu_tlb_entry smmuv3_ctx_lookup(const struct smmuv3_ctx *c, uint64_t iova)
{
    struct iommu_tlb_entry e = { .iova = iova & ~(uint64_t)0xfff, .addr_mask = 0xfff };
    struct pgtable_result r1, r2;

    if (c->fault)
        return e;
    if (c->config == SMMUV3_STE_BYPASS) {
        e.translated_addr = e.iova;
        e.perm = IOMMU_RW;
        return e;
    }
    if (c->s1) {
        if (pgtable_lookup(c->s1, iova, &r1))
            return e;
        if (!c->s2) {
            e.addr_mask = r1.addr_mask;
            e.iova = iova & ~r1.addr_mask;
            e.translated_addr = r1.translated_addr;
            e.perm = r1.perm;
            return e;
        }
        {
            uint64_t ipa = r1.translated_addr | (iova & r1.addr_mask);

            if (pgtable_lookup(c->s2, ipa, &r2))
                return e;
            /* The combined page is the smaller of the two. */
            e.addr_mask = r1.addr_mask < r2.addr_mask ? r1.addr_mask : r2.addr_mask;
            e.iova = iova & ~e.addr_mask;
            e.translated_addr = (r2.translated_addr | (ipa & r2.addr_mask)) & ~e.addr_mask;
            e.perm = r1.perm & r2.perm;
            return e;
        }
    }
    if (pgtable_lookup(c->s2, iova, &r2))
        return e;
    e.addr_mask = r2.addr_mask;
    e.iova = iova & ~r2.addr_mask;
    e.translated_addr = r2.translated_addr;
    e.perm = r2.perm;
    return e;
}

static struct iommu_tlb_entry smmuv3_translate(struct iommu *mmu, uint64_t iova,
                                               unsigned flag, unsigned idx)
{
    struct smmuv3_ifc *f = IFC_OF(mmu);
    struct smmuv3_ctx c;
    struct iommu_tlb_entry e;

    (void)idx;
    smmuv3_ctx_resolve(f->s, f->sid, 0, &c);
    e = smmuv3_ctx_lookup(&c, iova);
    if (flag != IOMMU_NONE && (e.perm & flag) != flag)
        e.perm = IOMMU_NONE;
    return e;
}

/* --- Events and faults ----------------------------------------------------------- */

static void evtq_record(struct smmuv3 *s, const struct smmuv3_event *ev)
{
    s->st.events++;
    if (s->evtq_count == s->cfg.evtq_entries) {
        s->st.evtq_overflows++;     /* the queue is full: the record is lost */
        return;
    }
    s->evtq[(s->evtq_head + s->evtq_count) % s->cfg.evtq_entries] = *ev;
    s->evtq_count++;
}

bool smmuv3_evtq_pop(struct smmuv3 *s, struct smmuv3_event *out)
{
    if (!s->evtq_count)
        return false;
    *out = s->evtq[s->evtq_head];
    s->evtq_head = (s->evtq_head + 1) % s->cfg.evtq_entries;
    s->evtq_count--;
    return true;
}

void smmuv3_set_stall_handler(struct smmuv3 *s, smmuv3_stall_fn fn, void *ctx)
{
    s->stall_fn = fn;
    s->stall_ctx = ctx;
}

/* --- The device interface ----------------------------------------------------------- */

static void ifc_begin(struct smmuv3_ifc *f, struct iommu_req *req);

/* The completion event: the interface slot frees, the device hears. */
static void finish_ev(struct sim_event *ev, void *arg)
{
    struct iommu_req *req = arg;
    struct smmuv3_ifc *f = IFC_OF(req->mmu);
    struct smmuv3 *s = f->s;
    sim_tick_t now = sim_now(s->sim);

    (void)ev;
    iommu_req_resolve(req->mmu, req, &req->entry, now);
    s->st.translations++;
    lathist_add(&s->st.xlate_lat, now - req->issued);
    f->slots_busy--;
    if (f->wait_head) {
        struct iommu_req *w = f->wait_head;

        f->wait_head = w->next;
        if (!f->wait_head)
            f->wait_tail = NULL;
        f->slots_busy++;
        ifc_begin(f, w);
    }
    req->done(req);
}

static void finish_at(struct smmuv3 *s, struct iommu_req *req, sim_tick_t when)
{
    sim_event_init(&req->ev, finish_ev, req, SIM_PRIO_DEFAULT);
    sim_event_schedule(s->sim, &req->ev, when);
}

static void smmu_arrive(struct sim_event *ev, void *arg);

static void ifc_begin(struct smmuv3_ifc *f, struct iommu_req *req)
{
    struct smmuv3 *s = f->s;
    sim_tick_t t = sim_now(s->sim);
    struct smmuv3_ctx c;
    struct iotlb_hit h;

    smmuv3_ctx_resolve(s, f->sid, ssid_of(req), &c);
    if (!c.fault && c.config != SMMUV3_STE_BYPASS) {
        if (s->cfg.utlb.enable) {
            t = lookup_done(&f->utlb_port, s->cfg.utlb.slots, t, s->cfg.utlb.lat);
            if (iotlb_lookup(&f->utlb, c.tag, 0, req->iova, &h))
                goto hit;
        }
        if (s->cfg.tlb.enable) {
            t = lookup_done(&f->tlb_port, s->cfg.tlb.slots, t, s->cfg.tlb.lat);
            if (iotlb_lookup(&f->tlb, c.tag, 0, req->iova, &h)) {
                if (s->cfg.utlb.enable)
                    iotlb_insert(&f->utlb, c.tag, 0, req->iova, h.translated_addr,
                                 h.addr_mask, h.perm);
                goto hit;
            }
        }
    }
    sim_event_init(&req->ev, smmu_arrive, req, SIM_PRIO_DEFAULT);
    sim_event_schedule(s->sim, &req->ev, t + s->cfg.ifc_smmu_lat);
    return;
hit:
    req->entry.iova = req->iova & ~h.addr_mask;
    req->entry.translated_addr = h.translated_addr;
    req->entry.addr_mask = h.addr_mask;
    req->entry.perm = h.perm;
    req->entry.target = NULL;
    finish_at(s, req, t);
}

static int smmuv3_translate_timed(struct iommu *mmu, struct iommu_req *req)
{
    struct smmuv3_ifc *f = IFC_OF(mmu);

    if (f->slots_busy < f->s->cfg.ifc_slots) {
        f->slots_busy++;
        ifc_begin(f, req);
        return 0;
    }
    f->slot_waits++;
    req->next = NULL;
    if (f->wait_tail)
        f->wait_tail->next = req;
    else
        f->wait_head = req;
    f->wait_tail = req;
    return 0;
}

/* Do prefetches own the main TLB's last way (gem5: prefetch_enable and
 * prefetch_reserve_last_way; ALLOC_LAST_WAY / ALLOC_ANY_BUT_LAST_WAY)? */
static inline bool reserve_last_way(const struct smmuv3 *s)
{
    return s->cfg.prefetch && s->cfg.prefetch_reserve_last_way;
}

/* Back at the interface: fill the TLBs with a translation, finish. */
static void ifc_response(struct sim_event *ev, void *arg)
{
    struct iommu_req *req = arg;
    struct smmuv3_ifc *f = IFC_OF(req->mmu);
    struct smmuv3 *s = f->s;
    struct smmuv3_ctx c;

    (void)ev;
    smmuv3_ctx_resolve(s, f->sid, ssid_of(req), &c);
    if (req->entry.perm != IOMMU_NONE && !c.fault && c.config != SMMUV3_STE_BYPASS &&
        may_fill(s, req->issued)) {
        if (s->cfg.tlb.enable && reserve_last_way(s))
            /* Every way but the last, kept for prefetches. */
            iotlb_insert_ways(&f->tlb, c.tag, 0, req->iova, req->entry.translated_addr,
                              req->entry.addr_mask, req->entry.perm, 0,
                              f->tlb.arr[0].ways - 1);
        else if (s->cfg.tlb.enable)
            iotlb_insert(&f->tlb, c.tag, 0, req->iova, req->entry.translated_addr,
                         req->entry.addr_mask, req->entry.perm);
        if (s->cfg.utlb.enable)
            iotlb_insert(&f->utlb, c.tag, 0, req->iova, req->entry.translated_addr,
                         req->entry.addr_mask, req->entry.perm);
    }
    finish_ev(&req->ev, req);
}

/* --- SMMU translation slots --------------------------------------------------------- */

static void xl_begin(struct smmuv3_xlate *x, struct iommu_req *req);

/* The slot's transaction answers: the slot frees, the answer crosses the link. */
static void xl_respond(struct smmuv3_xlate *x, const struct iommu_tlb_entry *e)
{
    struct smmuv3 *s = x->s;
    struct iommu_req *req = x->req;

    req->entry = *e;
    sim_event_init(&req->ev, ifc_response, req, SIM_PRIO_DEFAULT);
    sim_event_schedule(s->sim, &req->ev, sim_now(s->sim) + s->cfg.smmu_ifc_lat);
    x->req = NULL;
    x->walking = false;
    x->retried = false;
    if (s->xwait_head) {
        struct iommu_req *w = s->xwait_head;

        s->xwait_head = w->next;
        if (!s->xwait_head)
            s->xwait_tail = NULL;
        xl_begin(x, w);
        return;
    }
    x->next = s->xl_free;
    s->xl_free = x;
}

static void smmu_arrive(struct sim_event *ev, void *arg)
{
    struct iommu_req *req = arg;
    struct smmuv3 *s = IFC_OF(req->mmu)->s;
    struct smmuv3_xlate *x = s->xl_free;

    (void)ev;
    if (x) {
        s->xl_free = x->next;
        xl_begin(x, req);
        return;
    }
    s->st.xlate_slot_waits++;
    req->next = NULL;
    if (s->xwait_tail)
        s->xwait_tail->next = req;
    else
        s->xwait_head = req;
    s->xwait_tail = req;
}

static void xl_fault(struct smmuv3_xlate *x, enum smmuv3_event_type type);
static void xl_after_cfg(struct sim_event *ev, void *arg);

static void cfg_read_done(struct mem_req *mr)
{
    struct smmuv3_xlate *x = mr->ctx;
    struct smmuv3 *s = x->s;

    if (++x->cfg_i < x->cfg_n) {
        x->mr.addr = x->cfg_addr[x->cfg_i];
        mem_access(s->mem, &x->mr);
        return;
    }
    xl_after_cfg(&x->ev, x);
}

static void cfg_fetch(struct sim_event *ev, void *arg)
{
    struct smmuv3_xlate *x = arg;

    (void)ev;
    x->cfg_i = 0;
    x->mr.addr = x->cfg_addr[0];
    x->mr.bytes = SMMUV3_STE_BYTES;
    x->mr.pt = true;
    x->mr.done = cfg_read_done;
    x->mr.ctx = x;
    mem_access(x->s->mem, &x->mr);
}

/*
 * The config cache: STE of stream sid at (sid, 0), CD of substream ssid at
 * (sid, (ssid + 1) << 12). A miss costs the fetch reads: the L1 descriptor
 * (two-level table) and the STE, then the CD for stage 1.
 */
static void xl_begin(struct smmuv3_xlate *x, struct iommu_req *req)
{
    struct smmuv3 *s = x->s;
    struct smmuv3_ifc *f = IFC_OF(req->mmu);
    uint32_t ssid = ssid_of(req);
    sim_tick_t t = sim_now(s->sim);
    struct iotlb_hit h;
    bool need_cd;

    x->req = req;
    x->merged = NULL;
    x->cfg_n = 0;
    smmuv3_ctx_resolve(s, f->sid, ssid, &x->ctx);
    need_cd = s->ste[f->sid].config == SMMUV3_STE_S1 ||
              s->ste[f->sid].config == SMMUV3_STE_NESTED;
    if (s->cfg.cfg_cache.enable) {
        t = lookup_done(&s->cfg_port, s->cfg.cfg_cache.slots, t, s->cfg.cfg_cache.lat);
        if (!iotlb_lookup(&s->cfg_cache, f->sid, 0, 0, &h)) {
            if (s->cfg.st_two_level)
                x->cfg_addr[x->cfg_n++] = s->cfg.strtab_base +
                    (uint64_t)(f->sid >> s->cfg.st_split) * 8;
            x->cfg_addr[x->cfg_n++] = s->cfg.strtab_base + UINT64_C(0x100000) +
                                      (uint64_t)f->sid * SMMUV3_STE_BYTES;
            s->st.ste_fetches++;
            iotlb_insert(&s->cfg_cache, f->sid, 0, 0, 0, 0xfff, IOMMU_RW);
        }
        if (need_cd && ssid < s->cfg.ssids_per_stream &&
            !iotlb_lookup(&s->cfg_cache, f->sid, 0, (uint64_t)(ssid + 1) << 12, &h)) {
            x->cfg_addr[x->cfg_n++] = s->cfg.cdtab_base +
                ((uint64_t)f->sid * s->cfg.ssids_per_stream + ssid) * SMMUV3_CD_BYTES;
            s->st.cd_fetches++;
            iotlb_insert(&s->cfg_cache, f->sid, 0, (uint64_t)(ssid + 1) << 12, 0, 0xfff,
                         IOMMU_RW);
        }
    } else {
        /* No config cache: every transaction fetches its configuration. */
        if (s->cfg.st_two_level)
            x->cfg_addr[x->cfg_n++] = s->cfg.strtab_base +
                                      (uint64_t)(f->sid >> s->cfg.st_split) * 8;
        x->cfg_addr[x->cfg_n++] = s->cfg.strtab_base + UINT64_C(0x100000) +
                                  (uint64_t)f->sid * SMMUV3_STE_BYTES;
        s->st.ste_fetches++;
        if (need_cd) {
            x->cfg_addr[x->cfg_n++] = s->cfg.cdtab_base +
                ((uint64_t)f->sid * s->cfg.ssids_per_stream + ssid) * SMMUV3_CD_BYTES;
            s->st.cd_fetches++;
        }
    }
    s->st.cfg_reads += x->cfg_n;
    sim_event_init(&x->ev, x->cfg_n ? cfg_fetch : xl_after_cfg, x, SIM_PRIO_DEFAULT);
    sim_event_schedule(s->sim, &x->ev, t);
}

static void walk_phase(struct sim_event *ev, void *arg);

static void xl_after_cfg(struct sim_event *ev, void *arg)
{
    struct smmuv3_xlate *x = arg;
    struct smmuv3 *s = x->s;
    struct iommu_req *req = x->req;
    sim_tick_t t = sim_now(s->sim);
    struct iotlb_hit h;

    (void)ev;
    /* The configuration as fetched now. */
    smmuv3_ctx_resolve(s, IFC_OF(req->mmu)->sid, ssid_of(req), &x->ctx);
    if (x->ctx.fault) {
        if (x->ctx.fault == SMMUV3_EVT_F_STE_ABORT)
            s->st.aborts++;
        xl_fault(x, (enum smmuv3_event_type)x->ctx.fault);
        return;
    }
    if (x->ctx.config == SMMUV3_STE_BYPASS) {
        struct iommu_tlb_entry e = smmuv3_ctx_lookup(&x->ctx, req->iova);

        s->st.bypass++;
        xl_respond(x, &e);
        return;
    }
    if (s->cfg.smmu_tlb.enable) {
        t = lookup_done(&s->stlb_port, s->cfg.smmu_tlb.slots, t, s->cfg.smmu_tlb.lat);
        if (iotlb_lookup(&s->smmu_tlb, x->ctx.tag, 0, req->iova, &h)) {
            req->entry.iova = req->iova & ~h.addr_mask;
            req->entry.translated_addr = h.translated_addr;
            req->entry.addr_mask = h.addr_mask;
            req->entry.perm = h.perm;
            req->entry.target = NULL;
            /* Answer at t: through the slot's event. */
            x->walking = false;
            sim_event_init(&x->ev, walk_phase, x, SIM_PRIO_DEFAULT);
            x->vpn = UINT64_MAX;    /* marks "answer in req->entry" for walk_phase */
            sim_event_schedule(s->sim, &x->ev, t);
            return;
        }
    }
    x->vpn = req->iova >> 12;
    sim_event_init(&x->ev, walk_phase, x, SIM_PRIO_DEFAULT);
    sim_event_schedule(s->sim, &x->ev, t);
}

static void walk_done(struct walk_req *wr);

static void walk_go(struct sim_event *ev, void *arg)
{
    struct smmuv3_xlate *x = arg;

    (void)ev;
    walk_start(&x->s->walker, &x->wr);
}

static void walk_phase(struct sim_event *ev, void *arg)
{
    struct smmuv3_xlate *x = arg;
    struct smmuv3 *s = x->s;
    struct iommu_req *req = x->req;

    (void)ev;
    if (x->vpn == UINT64_MAX) {     /* an SMMU TLB hit */
        struct iommu_tlb_entry e = req->entry;

        xl_respond(x, &e);
        return;
    }
    /* gem5's hazard check: a miss to a page of this context being walked waits for it. */
    for (unsigned i = 0; i < s->cfg.xlate_slots; i++) {
        struct smmuv3_xlate *o = &s->xl[i];

        if (o != x && o->walking && o->vpn == x->vpn && o->ctx.tag == x->ctx.tag &&
            o->ctx.s1 == x->ctx.s1 && o->ctx.s2 == x->ctx.s2) {
            s->st.merged++;
            x->next = o->merged;
            o->merged = x;
            return;
        }
    }
    x->walking = true;
    memset(&x->wr, 0, offsetof(struct walk_req, status));
    x->wr.s1 = x->ctx.s1 ? x->ctx.s1 : x->ctx.s2;
    x->wr.s2 = x->ctx.s1 ? x->ctx.s2 : NULL;
    x->wr.s1_is_s2 = !x->ctx.s1;
    x->wr.domain = x->ctx.tag;
    x->wr.iova = req->iova;
    x->wr.done = walk_done;
    x->wr.ctx = x;
    {
        /* Walk caches first, then (nested walks) the IPA cache: each
         * lookup latency is paid once before the walk starts. */
        sim_tick_t now = sim_now(s->sim), t = now;

        if (s->cfg.wc_enable)
            t = lookup_done(&s->wc_port, s->cfg.wc_slots, t, s->cfg.wc_lat);
        if (x->wr.s2 && s->walker.ipa)
            t = lookup_done(&s->ipa_port, s->cfg.ipa_cache.slots, t, s->cfg.ipa_cache.lat);
        if (t > now) {
            sim_event_init(&x->ev, walk_go, x, SIM_PRIO_DEFAULT);
            sim_event_schedule(s->sim, &x->ev, t);
            return;
        }
    }
    walk_start(&s->walker, &x->wr);
}

static void prefetch_done(struct walk_req *wr)
{
    struct smmuv3_ifc *f = wr->ctx;

    f->pf_busy = false;
    if (wr->status == 0 && f->s->cfg.tlb.enable && may_fill(f->s, wr->issued)) {
        if (reserve_last_way(f->s))
            iotlb_insert_ways(&f->tlb, wr->domain, 0, wr->iova, wr->res.translated_addr,
                              wr->res.addr_mask, wr->res.perm, f->tlb.arr[0].ways - 1,
                              f->tlb.arr[0].ways);
        else
            iotlb_insert(&f->tlb, wr->domain, 0, wr->iova, wr->res.translated_addr,
                         wr->res.addr_mask, wr->res.perm);
        f->pf_fills++;
    }
}

/* Next-page prefetch: walk the 4 KiB page after @iova into the main TLB. */
static void prefetch(struct smmuv3 *s, struct smmuv3_ifc *f, const struct smmuv3_xlate *x,
                     uint64_t iova)
{
    struct iotlb_hit h;
    uint64_t next = (iova & ~(uint64_t)0xfff) + PAGE;

    if (f->pf_busy) {
        f->pf_dropped++;
        return;
    }
    /* Already cached: no walk. The probe is not a device lookup: its
     * counts are taken back so that the main TLB's statistics stay the
     * device's (it does refresh the entry's recency). */
    {
        struct iotlb_stats saved = f->tlb.st;
        bool cached = iotlb_lookup(&f->tlb, x->ctx.tag, 0, next, &h);

        f->tlb.st = saved;
        if (cached)
            return;
    }
    memset(&f->pf, 0, offsetof(struct walk_req, status));
    f->pf.s1 = x->wr.s1;
    f->pf.s2 = x->wr.s2;
    f->pf.s1_is_s2 = x->wr.s1_is_s2;
    f->pf.domain = x->ctx.tag;
    f->pf.iova = next;
    f->pf.done = prefetch_done;
    f->pf.ctx = f;
    f->pf_busy = true;
    f->pf_walks++;
    walk_start(&s->walker, &f->pf);
}

static void walk_done(struct walk_req *wr)
{
    struct smmuv3_xlate *x = wr->ctx;
    struct smmuv3 *s = x->s;
    struct iommu_req *req = x->req;
    struct smmuv3_xlate *m, *mn;
    struct iommu_tlb_entry e = { .iova = req->iova & ~(uint64_t)0xfff, .addr_mask = 0xfff };

    s->st.walks++;
    s->st.walk_reads += wr->nreads;
    lathist_add(&s->st.walk_lat, wr->completed - wr->issued);
    if (wr->status == 0) {
        e.addr_mask = wr->res.addr_mask;
        e.iova = req->iova & ~e.addr_mask;
        e.translated_addr = wr->res.translated_addr;
        e.perm = wr->res.perm;
        if (s->cfg.smmu_tlb.enable && may_fill(s, req->issued))
            iotlb_insert(&s->smmu_tlb, x->ctx.tag, 0, req->iova, e.translated_addr,
                         e.addr_mask, e.perm);
        if (s->cfg.prefetch && s->cfg.tlb.enable)
            prefetch(s, IFC_OF(req->mmu), x, req->iova);
    }
    m = x->merged;
    x->merged = NULL;
    x->walking = false;
    /* The walk's own transaction, then those that merged onto it. */
    if (e.perm == IOMMU_NONE || (e.perm & req->access) != req->access)
        xl_fault(x, e.perm == IOMMU_NONE ? SMMUV3_EVT_F_TRANSLATION : SMMUV3_EVT_F_PERMISSION);
    else
        xl_respond(x, &e);
    for (; m; m = mn) {
        struct iommu_req *r = m->req;
        struct iommu_tlb_entry me = e;

        mn = m->next;
        me.iova = r->iova & ~me.addr_mask;
        if (me.perm == IOMMU_NONE || (me.perm & r->access) != r->access)
            xl_fault(m, me.perm == IOMMU_NONE ? SMMUV3_EVT_F_TRANSLATION
                                              : SMMUV3_EVT_F_PERMISSION);
        else
            xl_respond(m, &me);
    }
}

/* Stall mode: software has handled the event; retry or terminate. */
static void stall_resume(struct sim_event *ev, void *arg)
{
    struct smmuv3_xlate *x = arg;
    struct smmuv3 *s = x->s;
    bool retry = s->stall_fn ? s->stall_fn(s->stall_ctx, &x->fev) : true;

    (void)ev;
    if (!retry) {
        struct iommu_tlb_entry e = { .iova = x->req->iova & ~(uint64_t)0xfff,
                                     .addr_mask = 0xfff };

        s->st.stall_terminated++;
        xl_respond(x, &e);
        return;
    }
    s->st.stall_resumed++;
    x->retried = true;
    /* The retry re-reads the tables (CMD_RESUME with retry). */
    smmuv3_ctx_resolve(s, IFC_OF(x->req->mmu)->sid, ssid_of(x->req), &x->ctx);
    if (x->ctx.fault) {
        xl_fault(x, (enum smmuv3_event_type)x->ctx.fault);
        return;
    }
    x->vpn = x->req->iova >> 12;
    walk_phase(&x->ev, x);
}

/*
 * A fault: an event record; then terminate (answer an error now), or stall
 * (translation and permission faults of a stream that may stall: resume
 * after stall_latency). Configuration faults always terminate, and so does
 * a retried transaction that faults again.
 */
static void xl_fault(struct smmuv3_xlate *x, enum smmuv3_event_type type)
{
    struct smmuv3 *s = x->s;
    struct iommu_req *req = x->req;
    struct smmuv3_event ev = { .type = type, .sid = IFC_OF(req->mmu)->sid,
                               .ssid = ssid_of(req), .iova = req->iova,
                               .is_write = (req->access & IOMMU_WO) != 0,
                               .when = sim_now(s->sim) };
    bool can_stall = x->ctx.stall && !x->retried &&
                     (type == SMMUV3_EVT_F_TRANSLATION || type == SMMUV3_EVT_F_PERMISSION);

    s->st.faults++;
    ev.stalled = can_stall;
    evtq_record(s, &ev);
    if (can_stall) {
        s->st.stalled++;
        x->fev = ev;
        sim_event_init(&x->ev, stall_resume, x, SIM_PRIO_DEFAULT);
        sim_event_schedule(s->sim, &x->ev, sim_now(s->sim) + s->cfg.stall_latency);
        return;
    }
    s->st.terminated++;
    {
        struct iommu_tlb_entry e = { .iova = req->iova & ~(uint64_t)0xfff, .addr_mask = 0xfff };

        xl_respond(x, &e);
    }
}

/* --- Optional ops -------------------------------------------------------------------- */

/*
 * The page sizes of a stream: its OS domain's table when it has one, else
 * what the OS's domains would use (stage 2: s2_granule, else granule).
 */
static uint64_t ifc_pgsizes(const struct smmuv3_ifc *f)
{
    const struct smmuv3 *s = f->s;

    if (f->domain >= 0 && s->dom && s->dom[f->domain].live)
        return s->dom[f->domain].pt.pgsize_bitmap;
    return smmuv3_pgsizes(s->dom_stage == SMMUV3_STE_S2 ? s->cfg.s2_granule : s->cfg.granule);
}

/* The granule: what a 16 KiB or 64 KiB domain maps at least (B-spec). */
static uint64_t smmuv3_min_page_size(struct iommu *mmu)
{
    uint64_t b = ifc_pgsizes(IFC_OF(mmu));

    return b & -b;
}

static int smmuv3_get_attr(struct iommu *mmu, enum iommu_attr attr, void *data)
{
    switch (attr) {
    case IOMMU_ATTR_ADDR_WIDTH:
        *(unsigned *)data = SMMUV3_IA_BITS;
        return 0;
    case IOMMU_ATTR_PGSIZE_BITMAP:
        *(uint64_t *)data = ifc_pgsizes(IFC_OF(mmu));
        return 0;
    case IOMMU_ATTR_CACHING_MODE:
        *(bool *)data = false;
        return 0;
    }
    return SIM_EINVAL;
}

static int smmuv3_flag_changed(struct iommu *mmu, unsigned old, unsigned nf, char *err,
                               size_t errlen)
{
    (void)old;
    /* Nothing tells the SMMU about a map (no caching mode): MAP is refused (B5). */
    if (nf & IOMMU_NOTIFIER_MAP)
        return sim_error_format(err, errlen, SIM_EREFUSED, mmu->path,
                                "MAP notifiers: an SMMUv3 driver sends no command on map");
    return 0;
}

struct replay_ctx {
    struct iommu_notifier *n;
    const struct smmuv3_ctx *c;
    sim_tick_t end;
    uint64_t count;
};

static void replay_leaf(void *arg, uint64_t iova, const struct pgtable_result *r)
{
    struct replay_ctx *rc = arg;
    struct iommu_event ev = { .type = IOMMU_NOTIFIER_MAP };
    uint64_t a;

    (void)r;
    /* The composed translation at each page of the leaf (nested may split it). */
    for (a = iova; a <= iova + r->addr_mask && a >= iova;) {
        ev.entry = smmuv3_ctx_lookup(rc->c, a);
        if (ev.entry.perm != IOMMU_NONE) {
            sim_tick_t t = iommu_notify_one(rc->n, &ev);

            rc->end = rc->end > t ? rc->end : t;
            rc->count++;
        }
        a = ev.entry.iova + ev.entry.addr_mask + 1;
        if (!a)
            break;
    }
}

/* Replay walks the stream's stage-1 (or stage-2) tables: cost ∝ what is mapped. */
static sim_tick_t smmuv3_replay(struct iommu *mmu, struct iommu_notifier *n)
{
    struct smmuv3_ifc *f = IFC_OF(mmu);
    struct smmuv3_ctx c;
    struct replay_ctx rc = { n, &c, sim_now(mmu->sim), 0 };

    smmuv3_ctx_resolve(f->s, f->sid, 0, &c);
    if (c.fault || c.config == SMMUV3_STE_BYPASS)
        return iommu_replay_granules(mmu, n);
    pgtable_for_each(c.s1 ? c.s1 : c.s2, n->start, n->end, replay_leaf, &rc);
    mmu->st.replay_notifications += rc.count;
    return rc.end;
}

const struct iommu_ops smmuv3_iommu_ops = {
    .translate = smmuv3_translate,
    .translate_timed = smmuv3_translate_timed,
    .notify_flag_changed = smmuv3_flag_changed,
    .replay = smmuv3_replay,
    .get_attr = smmuv3_get_attr,
    .get_min_page_size = smmuv3_min_page_size,
};

/* --- Set-up --------------------------------------------------------------------------- */

static int cache_init(struct iotlb *t, const struct smmuv3_cache_cfg *c, uint64_t seed,
                      const char *path, char *err, size_t errlen)
{
    struct iotlb_cfg ic;

    memset(&ic, 0, sizeof(ic));
    ic.policy = c->policy;
    ic.arr[0].entries = c->entries ? c->entries : 1;
    ic.arr[0].ways = c->ways ? c->ways : ic.arr[0].entries;
    ic.seed = seed;
    ic.path = path;
    return iotlb_init(t, &ic, err, errlen);
}

int smmuv3_ifc_get(struct smmuv3 *s, uint32_t sid, struct iommu **out, char *err,
                   size_t errlen)
{
    struct smmuv3_ifc *f;
    int r;

    if (sid >= s->cfg.max_streams)
        return sim_error_format(err, errlen, SIM_ERANGE, s->cfg.path,
                                "stream id (got %u, expected < max_streams = %u)", sid,
                                s->cfg.max_streams);
    f = s->ifc[sid];
    if (!f) {
        f = calloc(1, sizeof(*f));
        if (!f)
            return sim_error_format(err, errlen, SIM_ENOMEM, s->cfg.path, NULL);
        r = cache_init(&f->utlb, &s->cfg.utlb, s->cfg.seed + 2 * sid, s->cfg.path, err,
                       errlen);
        if (r) {
            free(f);
            return r;
        }
        r = cache_init(&f->tlb, &s->cfg.tlb, s->cfg.seed + 2 * sid + 1, s->cfg.path, err,
                       errlen);
        if (r) {
            iotlb_destroy(&f->utlb);
            free(f);
            return r;
        }
        r = iommu_init(&f->mmu, &smmuv3_iommu_ops, s->sim, s->cfg.path,
                       UINT64_C(1) << SMMUV3_IA_BITS, err, errlen);
        if (r) {
            iotlb_destroy(&f->utlb);
            iotlb_destroy(&f->tlb);
            free(f);
            return r;
        }
        /* Lookup slots (only fails for memory: slots > 0 here). */
        if ((s->cfg.utlb.slots &&
             sim_resource_init(&f->utlb_port, s->sim, s->cfg.utlb.slots)) ||
            (s->cfg.tlb.slots && sim_resource_init(&f->tlb_port, s->sim, s->cfg.tlb.slots))) {
            sim_resource_destroy(&f->utlb_port);
            iommu_destroy(&f->mmu);
            iotlb_destroy(&f->utlb);
            iotlb_destroy(&f->tlb);
            free(f);
            return sim_error_format(err, errlen, SIM_ENOMEM, s->cfg.path, NULL);
        }
        f->s = s;
        f->sid = sid;
        f->domain = -1;
        s->ifc[sid] = f;
    }
    if (out)
        *out = &f->mmu;
    return 0;
}

static bool pow2(unsigned v)
{
    return v && !(v & (v - 1));
}

static int check_cache(const struct smmuv3_cache_cfg *c, const char *name, const char *path,
                       char *err, size_t errlen)
{
    unsigned ways = c->ways ? c->ways : c->entries;

    if (!c->enable)
        return 0;
    if (!c->entries || c->entries % ways || !pow2(c->entries / ways))
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "%s: entries must be >= 1, a multiple of the ways, with a "
                                "power-of-two number of sets (got %u entries, %u ways)",
                                name, c->entries, ways);
    return 0;
}

int smmuv3_create(struct smmuv3 *s, struct sim *sim, struct mem *mem,
                  const struct smmuv3_cfg *cfg, char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "smmuv3";
    struct walk_cfg wc;
    unsigned st, l;
    int r;

    memset(s, 0, sizeof(*s));
    if (!cfg->max_streams || !cfg->ssids_per_stream || !cfg->ifc_slots ||
        !cfg->xlate_slots || !cfg->ptw_slots || !cfg->evtq_entries || !cfg->cmdq_entries ||
        cfg->st_split > 24)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "max_streams, ssids_per_stream, ifc_slots, xlate_slots, "
                                "ptw_slots, evtq_entries and cmdq_entries must be >= 1, "
                                "st_split <= 24");
    if ((cfg->granule && !smmuv3_pgsizes(cfg->granule)) ||
        (cfg->s2_granule && !smmuv3_pgsizes(cfg->s2_granule)))
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "%s: %llu bytes is not a translation granule (expected "
                                "4KiB, 16KiB or 64KiB)",
                                cfg->granule && !smmuv3_pgsizes(cfg->granule) ? "granule"
                                                                              : "s2_granule",
                                (unsigned long long)(cfg->granule &&
                                                     !smmuv3_pgsizes(cfg->granule)
                                                     ? cfg->granule : cfg->s2_granule));
    if (cfg->prefetch && cfg->prefetch_reserve_last_way && cfg->tlb.enable &&
        (cfg->tlb.ways ? cfg->tlb.ways : cfg->tlb.entries) < 2)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "prefetch_reserve_last_way: the main TLB needs at least 2 "
                                "ways, one for prefetches (got %u; set tlb_assoc or "
                                "prefetch_reserve_last_way=False)",
                                cfg->tlb.ways ? cfg->tlb.ways : cfg->tlb.entries);
    if ((r = check_cache(&cfg->utlb, "utlb", path, err, errlen)) ||
        (r = check_cache(&cfg->tlb, "tlb", path, err, errlen)) ||
        (r = check_cache(&cfg->smmu_tlb, "smmu_tlb", path, err, errlen)) ||
        (r = check_cache(&cfg->cfg_cache, "cfg", path, err, errlen)) ||
        (r = check_cache(&cfg->ipa_cache, "ipa_cache", path, err, errlen)))
        return r;
    s->sim = sim;
    s->mem = mem;
    s->cfg = *cfg;
    s->cfg.path = path;
    if (!s->cfg.granule)
        s->cfg.granule = 4096;
    if (!s->cfg.s2_granule)
        s->cfg.s2_granule = 4096;
    memset(&wc, 0, sizeof(wc));
    wc.walkers = cfg->ptw_slots;
    wc.pte_bytes = 8;
    /* Walk caches by Arm level, whatever the granule: a 3-level 64 KiB
     * table's first read is an L1 entry (walk_S1L1), not an L0 one. Leaves
     * are cached at their level, as gem5's walkCacheUpdate(leaf = true). */
    wc.pwc_by_level = true;
    wc.pwc_leaf = true;
    /* gem5's translateStage2(final_tr = false) skips the walk caches. */
    wc.s2_pwc_final_only = !cfg->wc_nonfinal;
    wc.path = path;
    r = walker_init(&s->walker, sim, mem, &wc, err, errlen);
    if (r)
        return r;
    /*
     * Walk caches: the walker's PWC at index L + 1 holds what the level-L
     * entry pointed to (pwc_by_level), so with 4 KiB tables (L0..L3) a hit
     * at S1L2 skips three reads, with 64 KiB tables (L1..L3) two. Each stage
     * and level gets its own geometry (gem5's walk_S1L0..walk_S2L3); L3,
     * index 4, holds leaves only.
     */
    if (cfg->wc_enable)
        for (st = 0; st < 2; st++)
            for (l = 0; l < 4; l++) {
                struct smmuv3_cache_cfg c = { true, cfg->wc_entries[st][l], cfg->wc_ways,
                                              cfg->wc_policy, 0, 0 };
                unsigned ways = c.ways && c.ways <= c.entries ? c.ways : c.entries;

                if (!(cfg->wc_levels[st] & (1u << l)) || !c.entries)
                    continue;
                /* A geometry without power-of-two sets (gem5's 348 x 4) is
                 * fully associative here (docs/models/smmuv3.md). */
                if (c.entries % ways || !pow2(c.entries / ways))
                    ways = c.entries;
                c.ways = ways;
                r = cache_init(&s->walker.pwc[st][l + 1], &c, cfg->seed + 100 + st * 4 + l,
                               path, err, errlen);
                if (r) {
                    smmuv3_destroy(s);
                    return r;
                }
                s->walker.pwc_on[st][l + 1] = true;
            }
    s->ste = calloc(cfg->max_streams, sizeof(*s->ste));
    s->cd = calloc((size_t)cfg->max_streams * cfg->ssids_per_stream, sizeof(*s->cd));
    s->ifc = calloc(cfg->max_streams, sizeof(*s->ifc));
    s->xl = calloc(cfg->xlate_slots, sizeof(*s->xl));
    s->evtq = calloc(cfg->evtq_entries, sizeof(*s->evtq));
    if (!s->ste || !s->cd || !s->ifc || !s->xl || !s->evtq) {
        smmuv3_destroy(s);
        return sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
    }
    for (unsigned i = cfg->xlate_slots; i-- > 0;) {
        s->xl[i].s = s;
        s->xl[i].next = s->xl_free;
        s->xl_free = &s->xl[i];
    }
    {
        struct smmuv3_cache_cfg t = cfg->smmu_tlb, c = cfg->cfg_cache;

        r = cache_init(&s->smmu_tlb, &t, cfg->seed + 7, path, err, errlen);
        if (!r)
            r = cache_init(&s->cfg_cache, &c, cfg->seed + 8, path, err, errlen);
        /* The walker consults the IPA cache for every stage-2 translation
         * of a nested walk (table addresses and the final IPA). */
        if (!r && cfg->ipa_cache.enable) {
            struct smmuv3_cache_cfg ic = cfg->ipa_cache;

            r = cache_init(&s->ipa_cache, &ic, cfg->seed + 9, path, err, errlen);
            if (!r)
                s->walker.ipa = &s->ipa_cache;
        }
        if (r) {
            smmuv3_destroy(s);
            return r;
        }
    }
    r = smmuv3_cmdq_init(s);
    /* The lookup slots: a resource per structure that has a limit. */
    if (!r && cfg->smmu_tlb.slots)
        r = sim_resource_init(&s->stlb_port, sim, cfg->smmu_tlb.slots);
    if (!r && cfg->cfg_cache.slots)
        r = sim_resource_init(&s->cfg_port, sim, cfg->cfg_cache.slots);
    if (!r && cfg->ipa_cache.slots)
        r = sim_resource_init(&s->ipa_port, sim, cfg->ipa_cache.slots);
    if (!r && cfg->wc_slots)
        r = sim_resource_init(&s->wc_port, sim, cfg->wc_slots);
    if (r) {
        smmuv3_destroy(s);
        return sim_error_format(err, errlen, r, path, NULL);
    }
    return 0;
}

void smmuv3_destroy(struct smmuv3 *s)
{
    if (s->ifc)
        for (unsigned i = 0; i < s->cfg.max_streams; i++) {
            struct smmuv3_ifc *f = s->ifc[i];

            if (!f)
                continue;
            iommu_destroy(&f->mmu);
            iotlb_destroy(&f->utlb);
            iotlb_destroy(&f->tlb);
            sim_resource_destroy(&f->utlb_port);
            sim_resource_destroy(&f->tlb_port);
            free(f);
        }
    if (s->dom) {
        for (unsigned i = 0; i < s->max_domains; i++)
            if (s->dom[i].live)
                pgtable_destroy(&s->dom[i].pt);
        free(s->dom);
    }
    if (s->s2_identity_live)
        pgtable_destroy(&s->s2_identity);
    smmuv3_cmdq_destroy(s);
    walker_destroy(&s->walker);
    iotlb_destroy(&s->smmu_tlb);
    if (s->walker.ipa) {
        iotlb_destroy(&s->ipa_cache);
        s->walker.ipa = NULL;
    }
    iotlb_destroy(&s->cfg_cache);
    /* Zeroed until initialised: destroying an uninitialised one frees NULL. */
    sim_resource_destroy(&s->stlb_port);
    sim_resource_destroy(&s->cfg_port);
    sim_resource_destroy(&s->ipa_port);
    sim_resource_destroy(&s->wc_port);
    free(s->ste);
    free(s->cd);
    free(s->ifc);
    free(s->xl);
    free(s->evtq);
    s->ste = NULL;
    s->cd = NULL;
    s->ifc = NULL;
    s->xl = NULL;
    s->evtq = NULL;
    s->dom = NULL;
}

void smmuv3_reset_stats(struct smmuv3 *s)
{
    memset(&s->st, 0, sizeof(s->st));
    lathist_reset(&s->st.xlate_lat);
    lathist_reset(&s->st.walk_lat);
    iotlb_reset_stats(&s->smmu_tlb);
    iotlb_reset_stats(&s->cfg_cache);
    if (s->walker.ipa)
        iotlb_reset_stats(&s->ipa_cache);
    walker_reset_stats(&s->walker);
    for (unsigned st = 0; st < 2; st++)
        for (unsigned d = 0; d < PGTABLE_MAX_LEVELS; d++)
            if (s->walker.pwc_on[st][d])
                iotlb_reset_stats(&s->walker.pwc[st][d]);
    for (unsigned i = 0; i < s->cfg.max_streams; i++) {
        struct smmuv3_ifc *f = s->ifc[i];

        if (!f)
            continue;
        iotlb_reset_stats(&f->utlb);
        iotlb_reset_stats(&f->tlb);
        f->pf_walks = f->pf_fills = f->pf_dropped = f->slot_waits = 0;
        memset(&f->mmu.st, 0, sizeof(f->mmu.st));
    }
}
