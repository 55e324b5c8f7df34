/*
 * cpu_tlb.c - the TCG-style software TLB (see cpu_tlb.h) and its `CpuTlb`
 * config descriptor.
 *
 * A flush is iotlb_inval_global: a scan of `entries`, which is what makes
 * TCG's whole flush on every IOMMU event cost more the bigger the TLB.
 */
#include "iommu/consumers/cpu_tlb.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/domain.h"

static struct cpu_tlb *ct_of(struct iommu_consumer *c)
{
    return (struct cpu_tlb *)c;
}

/* tcg_iommu_unmap_notify: whatever changed, the whole TLB goes. */
static void ct_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct cpu_tlb *t = n->opaque;

    (void)ev;
    t->st.events++;
    t->st.flushes++;
    t->st.flushed_entries += t->tlb.st.occupancy;
    iotlb_inval_global(&t->tlb);
}

sim_tick_t cpu_tlb_translate(struct cpu_tlb *t, uint64_t iova, unsigned access, unsigned idx,
                             struct iommu_tlb_entry *out)
{
    sim_tick_t now = sim_now(t->sim);
    struct iotlb_hit h;

    t->st.lookups++;
    if (iotlb_lookup(&t->tlb, 0, idx, iova, &h) && (h.perm & access) == access) {
        t->st.hits++;
        out->iova = iova & ~h.addr_mask;
        out->translated_addr = h.translated_addr;
        out->addr_mask = h.addr_mask;
        out->perm = h.perm;
        out->target = NULL;
        return now + t->cfg.hit_latency;
    }
    t->st.misses++;
    *out = iommu_translate(t->c.mmu, iova, access, idx);
    if (out->perm != IOMMU_NONE)
        iotlb_insert(&t->tlb, 0, idx, iova, out->translated_addr, out->addr_mask, out->perm);
    return now + t->cfg.fill_latency;
}

static int ct_attach(struct iommu_consumer *c, struct iommu *mmu, char *err, size_t errlen)
{
    struct cpu_tlb *t = ct_of(c);
    unsigned n = iommu_num_indexes(mmu), i;
    int r = 0;

    t->n = calloc(n, sizeof(*t->n));
    if (!t->n)
        return sim_error_format(err, errlen, SIM_ENOMEM, c->path, NULL);
    for (i = 0; i < n && !r; i++) {
        struct iommu_notifier *q = &t->n[i];

        q->notify = ct_notify;
        q->flags = IOMMU_NOTIFIER_UNMAP;
        q->start = 0;
        q->end = mmu->size ? mmu->size - 1 : UINT64_MAX;
        q->iommu_idx = i;
        q->latency = t->cfg.flush_latency;
        q->opaque = t;
        r = iommu_notifier_register(mmu, q, err, errlen);
    }
    if (r) {
        while (--i > 0)
            iommu_notifier_unregister(mmu, &t->n[i - 1]);
        free(t->n);
        t->n = NULL;
        return r;
    }
    t->nn = n;
    return 0;
}

static void ct_detach(struct iommu_consumer *c)
{
    struct cpu_tlb *t = ct_of(c);

    for (unsigned i = 0; i < t->nn; i++)
        iommu_notifier_unregister(c->mmu, &t->n[i]);
    free(t->n);
    t->n = NULL;
    t->nn = 0;
    iotlb_inval_global(&t->tlb);
}

static void ct_reset_stats(struct iommu_consumer *c)
{
    struct cpu_tlb *t = ct_of(c);

    memset(&t->st, 0, sizeof(t->st));
    iotlb_reset_stats(&t->tlb);
}

static const struct sim_readout ct_readouts[] = {
    [CPUTLB_R_LOOKUPS] = { "lookups", "accesses", "CPU accesses translated" },
    [CPUTLB_R_HITS] = { "hits", "accesses", "answered by the software TLB" },
    [CPUTLB_R_MISSES] = { "misses", "accesses", "filled from the IOMMU (tlb_fill)" },
    [CPUTLB_R_EVENTS] = { "events", "events", "UNMAP events received (every iommu_idx)" },
    [CPUTLB_R_FLUSHES] = { "flushes", "flushes", "whole-TLB flushes (one per event)" },
    [CPUTLB_R_FLUSHED_ENTRIES] = { "flushed_entries", "entries", "valid entries those "
                                   "flushes dropped" },
};

static const uint64_t *ct_counter(const struct iommu_consumer *c, unsigned idx)
{
    const struct cpu_tlb_stats *s = &((const struct cpu_tlb *)c)->st;

    switch (idx) {
    case CPUTLB_R_LOOKUPS:          return &s->lookups;
    case CPUTLB_R_HITS:             return &s->hits;
    case CPUTLB_R_MISSES:           return &s->misses;
    case CPUTLB_R_EVENTS:           return &s->events;
    case CPUTLB_R_FLUSHES:          return &s->flushes;
    case CPUTLB_R_FLUSHED_ENTRIES:  return &s->flushed_entries;
    default:                        return NULL;
    }
}

static void ct_destroy(struct iommu_consumer *c)
{
    cpu_tlb_destroy(ct_of(c));
}

const struct iommu_consumer_ops cpu_tlb_consumer_ops = {
    .name = "cpu_tlb",
    .doc = "TCG software TLB: an UNMAP notifier per iommu_idx over the whole range; every "
           "event flushes the whole TLB",
    .attach = ct_attach,
    .detach = ct_detach,
    .reset_stats = ct_reset_stats,
    .readouts = ct_readouts,
    .nreadouts = sizeof(ct_readouts) / sizeof(ct_readouts[0]),
    .read = iommu_consumer_read_counter,    /* every value is a counter */
    .counter = ct_counter,
    .destroy = ct_destroy,
};

int cpu_tlb_init(struct cpu_tlb *t, struct sim *sim, const struct cpu_tlb_cfg *cfg,
                 char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "cpu_tlb";
    struct iotlb_cfg tc;

    memset(t, 0, sizeof(*t));
    if (!cfg->entries)
        return sim_error_format(err, errlen, SIM_EINVAL, path, "entries (got 0, expected >= 1)");
    iommu_consumer_init(&t->c, &cpu_tlb_consumer_ops, path);
    t->cfg = *cfg;
    t->cfg.path = path;
    t->sim = sim;
    memset(&tc, 0, sizeof(tc));
    tc.policy = IOTLB_LRU;
    tc.arr[0].entries = cfg->entries;
    tc.arr[0].ways = cfg->ways ? cfg->ways : 1;
    tc.mshrs = 1;
    tc.path = path;
    return iotlb_init(&t->tlb, &tc, err, errlen);
}

void cpu_tlb_destroy(struct cpu_tlb *t)
{
    iommu_consumer_detach(&t->c);
    iotlb_destroy(&t->tlb);
}

/* --- The CpuTlb descriptor ---------------------------------------------------- */

enum { P_IOMMU, P_REQUESTER_ID, P_DOMAIN, P_ENTRIES, P_WAYS, P_HIT_LATENCY,
       P_FILL_LATENCY, P_FLUSH_LATENCY };

#define ABS_TIME(n, d, docs) { .name = n, .type = SIM_PT_LATENCY, .def = d, \
                               .flags = SIM_PF_NO_CYCLES, .doc = docs }

static const struct sim_param ct_params[] = {
    [P_IOMMU] = { .name = "iommu", .type = SIM_PT_REF, .ref_model = IOMMU_OBJECT_IFACE,
                  .doc = "the IOMMU the CPU's accesses go through" },
    [P_REQUESTER_ID] = { .name = "requester_id", .type = SIM_PT_INT, .def = "0", .min = "0",
                         .max = "65535", .doc = "the requester id the CPU's accesses carry" },
    [P_DOMAIN] = { .name = "domain", .type = SIM_PT_INT, .def = "-1", .min = "-1",
                   .max = "65535", .doc = "the domain it is attached to; -1 for the "
                   "requester id" },
    [P_ENTRIES] = { .name = "entries", .type = SIM_PT_INT, .def = "256", .min = "1",
                    .max = "1048576", .doc = "TLB entries (TCG's dynamic TLB starts at 256 "
                    "per MMU index, CPU_TLB_DYN_MIN_BITS = 6..8)" },
    [P_WAYS] = { .name = "ways", .type = SIM_PT_INT, .def = "1", .min = "1",
                 .max = "1048576", .doc = "ways: 1 is TCG's direct-mapped fast path" },
    [P_HIT_LATENCY] = ABS_TIME("hit_latency", "1ns", "a fast-path hit"),
    [P_FILL_LATENCY] = ABS_TIME("fill_latency", "200ns", "a miss: tlb_fill through the "
                                "IOMMU's translate"),
    [P_FLUSH_LATENCY] = ABS_TIME("flush_latency", "1us", "one whole-TLB flush (tlb_flush "
                                 "of the vCPU), which the IOMMU's event waits for"),
};

static int ct_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    int64_t e = v[P_ENTRIES].i, w = v[P_WAYS].i;

    if (e % w || ((e / w) & (e / w - 1))) {
        report(ctx, "ways", "must divide entries into a power-of-two number of sets");
        return 1;
    }
    return 0;
}

static int ct_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *p = obj->values;
    struct cpu_tlb_cfg c;
    struct cpu_tlb *t;
    struct iommu *as;
    int r;

    r = iommu_consumer_object_device(p[P_IOMMU].ref.obj, p[P_REQUESTER_ID].i, p[P_DOMAIN].i,
                                     &as, err, errlen);
    if (r)
        return r;
    memset(&c, 0, sizeof(c));
    c.entries = (unsigned)p[P_ENTRIES].i;
    c.ways = (unsigned)p[P_WAYS].i;
    c.hit_latency = p[P_HIT_LATENCY].lat.value;
    c.fill_latency = p[P_FILL_LATENCY].lat.value;
    c.flush_latency = p[P_FLUSH_LATENCY].lat.value;
    c.path = obj->path;
    t = calloc(1, sizeof(*t));
    if (!t)
        return SIM_ENOMEM;
    r = cpu_tlb_init(t, &w->sim, &c, err, errlen);
    if (r) {
        free(t);
        return r;
    }
    obj->priv = t;
    return iommu_consumer_object_attach(obj, as, err, errlen);
}

static const struct sim_model_ops ct_ops = {
    .validate = ct_validate,
    .create = ct_create,
    .destroy = iommu_consumer_object_destroy,
    .reset_stats = iommu_consumer_object_reset_stats,
    .read = iommu_consumer_object_read,
    .register_stats = iommu_consumer_object_register_stats,
};

const struct sim_model cpu_tlb_model = {
    .name = "CpuTlb",
    .doc = "A TCG-style software TLB for CPU accesses through an IOMMU: an UNMAP notifier "
           "per iommu_idx over the whole address space; every event flushes the whole TLB "
           "(flush_latency), as QEMU's tcg_iommu_unmap_notify does.",
    .params = ct_params, .nparams = sizeof(ct_params) / sizeof(ct_params[0]),
    .readouts = ct_readouts, .nreadouts = sizeof(ct_readouts) / sizeof(ct_readouts[0]),
    .ops = &ct_ops,
};
