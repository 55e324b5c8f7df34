/*
 * smmuv3_cmdq.c - the SMMUv3 command queue, timed (gem5 applies its
 * invalidations in zero time; here each command costs its type's time).
 *
 * The SMMU consumes commands one at a time, in order: command i ends at
 * e_i = max(submitted, e_{i-1}) + cmd_time[type]. Its effect on the caches
 * happens at e_i, from one event that fires at the head's end tick and
 * applies every command due, so a translation between submission and e_i
 * may still hit the entry it invalidates (as on hardware), and none after
 * the SYNC that follows it. A SYNC also waits for the ATC invalidations of
 * the ATC_INVs before it (the device's Invalidate Completion): their end is
 * predicted at submission from the device-TLB notifiers' latency.
 *
 * Storage: a ring that grows (doubling) when software queues more than it
 * holds; a real queue of cmdq_entries would make the producer wait for
 * space, which changes no completion tick (the consumer is the bottleneck
 * either way), so that wait is only counted (cmdq_full). Submission is not
 * on the translation hot path.
 */
#include "iommu/models/smmuv3.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

const char *const smmuv3_cmd_names[SMMUV3_CMD_NTYPES] = {
    "cfgi_ste", "cfgi_cd", "tlbi_nh_va", "tlbi_nh_asid", "tlbi_s2_ipa", "tlbi_nsnh_all",
    "atc_inv", "sync",
};

static sim_tick_t max_tick(sim_tick_t a, sim_tick_t b)
{
    return a > b ? a : b;
}

/* Every TLB that may hold a translation of the context: SMMU, main, micro. */
static void tlbs_inval(struct smmuv3 *s, uint32_t tag, bool all, bool range, uint64_t addr,
                       uint64_t size)
{
    struct iotlb *t[2];

    for (unsigned i = 0; i <= s->cfg.max_streams; i++) {
        unsigned n = 0;

        if (i == s->cfg.max_streams) {
            t[n++] = &s->smmu_tlb;
        } else {
            if (!s->ifc[i])
                continue;
            t[n++] = &s->ifc[i]->utlb;
            t[n++] = &s->ifc[i]->tlb;
        }
        for (unsigned k = 0; k < n; k++) {
            if (all)
                iotlb_inval_global(t[k]);
            else if (!range)
                iotlb_inval_domain(t[k], tag);
            else if (!size)
                iotlb_inval_page(t[k], tag, addr);
            else if (size <= 16 * 4096 && !((addr | size) & 0xfff))
                /* A few pages: a hash probe each, not a scan of the array
                 * (a strict unmap's one-page TLBI on every 2048-entry TLB). */
                for (uint64_t a = addr; a < addr + size; a += 4096)
                    iotlb_inval_page(t[k], tag, a);
            else
                iotlb_inval_range(t[k], tag, addr, size - 1);
        }
    }
}

void smmuv3_cmd_apply(struct smmuv3 *s, const struct smmuv3_cmd *c)
{
    if (c->type >= SMMUV3_CMD_TLBI_NH_VA && c->type <= SMMUV3_CMD_TLBI_NSNH_ALL) {
        s->inval_seen = true;
        s->inval_tick = s->sim ? sim_now(s->sim) : 0;
    }
    switch (c->type) {
    case SMMUV3_CMD_CFGI_STE:
        /* The STE and the CDs cached under it. */
        iotlb_inval_domain(&s->cfg_cache, c->sid);
        break;
    case SMMUV3_CMD_CFGI_CD:
        iotlb_inval_page(&s->cfg_cache, c->sid, (uint64_t)(c->ssid + 1) << 12);
        break;
    case SMMUV3_CMD_TLBI_NH_VA: {
        uint32_t tag = smmuv3_tag(SMMUV3_STE_S1, c->vmid, c->asid);

        /* Leaf form (Linux's unmap): the walk caches keep the tables. The
         * L3 walk cache holds leaves only: the context's entries go (gem5
         * drops the leaves of the address; here all of the context's L3
         * ones, a few refills more). Blocks cached at L1/L2 stay: timing
         * only, the answer comes from the tables. */
        tlbs_inval(s, tag, false, true, c->addr, c->size);
        if (s->walker.pwc_on[0][4])
            iotlb_inval_domain(&s->walker.pwc[0][4], tag);
        break;
    }
    case SMMUV3_CMD_TLBI_NH_ASID: {
        uint32_t tag = smmuv3_tag(SMMUV3_STE_S1, c->vmid, c->asid);

        tlbs_inval(s, tag, false, false, 0, 0);
        walk_pwc_inval_domain(&s->walker, tag);
        break;
    }
    case SMMUV3_CMD_TLBI_S2_IPA:
        /*
         * Stage-2-only entries of the VMID by IPA. Combined (nested) entries
         * are not indexed by IPA: software follows with TLBI_NH_* (IHI 0070
         * 4.4.3). The leaf form, as Linux's unmap sends it: the walk caches
         * keep their table entries (a stale one only mis-times a walk).
         */
        tlbs_inval(s, smmuv3_tag(SMMUV3_STE_S2, c->vmid, 0), false, true, c->addr, c->size);
        /* The IPA cache holds translations, not just timing: a stale entry
         * would complete a walk with an unmapped IPA. It is tagged by the
         * nested context, not by VMID alone, so all of it goes (costs only
         * refills). */
        if (s->walker.ipa)
            iotlb_inval_global(s->walker.ipa);
        /* Stage-2 leaves in the S2L3 walk cache: tagged by context like the
         * IPA cache, so all of them. */
        if (s->walker.pwc_on[1][4])
            iotlb_inval_global(&s->walker.pwc[1][4]);
        break;
    case SMMUV3_CMD_TLBI_NSNH_ALL:
        tlbs_inval(s, 0, true, false, 0, 0);
        walk_pwc_inval_all(&s->walker);
        break;
    case SMMUV3_CMD_ATC_INV:
        if (c->sid < s->cfg.max_streams && s->ifc[c->sid]) {
            struct iommu_event ev = { .type = IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
                .entry = { .iova = c->size ? c->addr : 0,
                           .translated_addr = c->size ? c->addr : 0,
                           .addr_mask = c->size ? c->size - 1 : UINT64_MAX } };

            if (s->ifc[c->sid]->mmu.notify_flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP)
                s->st.atc_notify++;
            iommu_notify(&s->ifc[c->sid]->mmu, 0, &ev);
        }
        break;
    case SMMUV3_CMD_SYNC:
        if (c->sync_done)
            c->sync_done(c->ctx, sim_now(s->sim));
        break;
    default:
        break;
    }
}

/* Apply every command whose processing has ended; wait for the next. */
static void cmdq_event(struct sim_event *ev, void *arg)
{
    struct smmuv3 *s = arg;
    struct smmuv3_cmdq *q = &s->q;
    sim_tick_t now = sim_now(s->sim);

    (void)ev;
    while (q->count && q->end[q->head] <= now) {
        struct smmuv3_cmd c = q->ring[q->head];

        q->head = (q->head + 1) % q->cap;
        q->count--;
        smmuv3_cmd_apply(s, &c);
    }
    if (q->count)
        sim_event_schedule(s->sim, &q->ev, q->end[q->head]);
}

static int cmdq_grow(struct smmuv3_cmdq *q)
{
    unsigned cap = q->cap ? 2 * q->cap : 64;
    struct smmuv3_cmd *ring = malloc(cap * sizeof(*ring));
    sim_tick_t *end = malloc(cap * sizeof(*end));

    if (!ring || !end) {
        free(ring);
        free(end);
        return SIM_ENOMEM;
    }
    for (unsigned i = 0; i < q->count; i++) {
        ring[i] = q->ring[(q->head + i) % q->cap];
        end[i] = q->end[(q->head + i) % q->cap];
    }
    free(q->ring);
    free(q->end);
    q->ring = ring;
    q->end = end;
    q->cap = cap;
    q->head = 0;
    return 0;
}

int smmuv3_cmdq_init(struct smmuv3 *s)
{
    memset(&s->q, 0, sizeof(s->q));
    sim_event_init(&s->q.ev, cmdq_event, s, SIM_PRIO_DEFAULT);
    return cmdq_grow(&s->q);
}

void smmuv3_cmdq_destroy(struct smmuv3 *s)
{
    /* A pending effect event dies with the simulation (the world destroys
     * its objects once the event set is no longer run). */
    free(s->q.ring);
    free(s->q.end);
    s->q.ring = NULL;
    s->q.end = NULL;
    s->q.cap = s->q.count = 0;
}

/* When the ATC invalidation an ATC_INV of stream @sid starts at @t completes. */
static sim_tick_t atc_predict(struct smmuv3 *s, uint32_t sid, sim_tick_t t)
{
    struct iommu *mmu;
    sim_tick_t lat = 0;

    if (sid >= s->cfg.max_streams || !s->ifc[sid])
        return t;
    mmu = &s->ifc[sid]->mmu;
    for (unsigned i = 0; i < mmu->num_indexes; i++)
        for (struct iommu_notifier *n = mmu->lists[i]; n; n = n->next)
            if ((n->flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) && n->latency > lat)
                lat = n->latency;
    return t + lat;
}

sim_tick_t smmuv3_cmdq_submit(struct smmuv3 *s, const struct smmuv3_cmd *cmds, unsigned n,
                              sim_tick_t at)
{
    struct smmuv3_cmdq *q = &s->q;
    sim_tick_t now = sim_now(s->sim), end = max_tick(at, now);

    at = end;
    for (unsigned i = 0; i < n; i++) {
        const struct smmuv3_cmd *c = &cmds[i];
        unsigned slot;

        if (q->count >= s->cfg.cmdq_entries)
            s->st.cmdq_full++;
        if (q->count == q->cap && cmdq_grow(q)) {
            /* Out of memory: apply at once rather than lose the command. */
            smmuv3_cmd_apply(s, c);
            continue;
        }
        end = max_tick(at, q->busy_until) + s->cfg.cmd_time[c->type];
        if (c->type == SMMUV3_CMD_ATC_INV)
            q->atc_pred = max_tick(q->atc_pred, atc_predict(s, c->sid, end));
        if (c->type == SMMUV3_CMD_SYNC)
            end = max_tick(end, q->atc_pred);
        q->busy_until = end;
        s->st.cmds[c->type]++;
        slot = (q->head + q->count) % q->cap;
        q->ring[slot] = *c;
        q->end[slot] = end;
        q->count++;
    }
    if (q->count && !sim_event_is_scheduled(&q->ev))
        sim_event_schedule(s->sim, &q->ev, q->end[q->head]);
    return n ? end : at;
}
