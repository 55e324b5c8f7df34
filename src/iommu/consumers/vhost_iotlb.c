/*
 * vhost_iotlb.c - a vhost backend's device IOTLB (see vhost_iotlb.h) and its
 * `VhostIotlb` config descriptor.
 *
 * A lookup is one IOTLB probe plus, on a hit, one functional translate of
 * the vIOMMU for the stale-use check; a miss is one functional translate
 * and one insert. Nothing allocates after init.
 */
#include "iommu/consumers/vhost_iotlb.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/domain.h"

static struct vhost_iotlb *vh_of(struct iommu_consumer *c)
{
    return (struct vhost_iotlb *)c;
}

/* VHOST_IOTLB_INVALIDATE: drop the range now; the worker's time is booked. */
static void vh_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct vhost_iotlb *v = n->opaque;

    v->st.invalidations++;
    iotlb_inval_range(&v->tlb, 0, ev->entry.iova, ev->entry.addr_mask);
}

/* The vIOMMU's answer now, without counting it as simulated work. */
static struct iommu_tlb_entry vh_truth(struct vhost_iotlb *v, uint64_t iova)
{
    struct iommu *mmu = v->c.mmu;

    return mmu->ops->translate(mmu, iova, IOMMU_NONE, v->cfg.iommu_idx);
}

sim_tick_t vhost_iotlb_translate(struct vhost_iotlb *v, uint64_t iova, unsigned access,
                                 struct iommu_tlb_entry *out)
{
    sim_tick_t now = sim_now(v->sim);
    struct iotlb_hit h;
    struct iommu_tlb_entry e;

    v->st.lookups++;
    if (iotlb_lookup(&v->tlb, 0, v->cfg.iommu_idx, iova, &h) && (h.perm & access) == access) {
        struct iommu_tlb_entry t = vh_truth(v, iova);

        v->st.hits++;
        if ((t.perm & access) != access ||
            (t.translated_addr | (iova & t.addr_mask)) !=
            (h.translated_addr | (iova & h.addr_mask)))
            v->st.stale_uses++;
        out->iova = iova & ~h.addr_mask;
        out->translated_addr = h.translated_addr;
        out->addr_mask = h.addr_mask;
        out->perm = h.perm;
        out->target = NULL;
        return now + v->cfg.hit_latency;
    }
    /* VHOST_IOTLB_MISS: QEMU translates through the vIOMMU and answers. */
    v->st.misses++;
    e = iommu_translate(v->c.mmu, iova, access, v->cfg.iommu_idx);
    if (e.perm == IOMMU_NONE)
        v->st.faults++;
    else
        iotlb_insert(&v->tlb, 0, v->cfg.iommu_idx, iova, e.translated_addr, e.addr_mask,
                     e.perm);
    *out = e;
    return now + v->cfg.miss_latency;
}

static int vh_attach(struct iommu_consumer *c, struct iommu *mmu, char *err, size_t errlen)
{
    struct vhost_iotlb *v = vh_of(c);

    if (v->cfg.iommu_idx >= iommu_num_indexes(mmu))
        return sim_error_format(err, errlen, SIM_EINVAL, c->path,
                                "iommu_idx (got %u, expected < %u)", v->cfg.iommu_idx,
                                iommu_num_indexes(mmu));
    memset(&v->n, 0, sizeof(v->n));
    v->n.notify = vh_notify;
    v->n.flags = IOMMU_NOTIFIER_UNMAP | IOMMU_NOTIFIER_DEVIOTLB_UNMAP;
    v->n.start = 0;
    v->n.end = mmu->size ? mmu->size - 1 : UINT64_MAX;
    v->n.iommu_idx = v->cfg.iommu_idx;
    v->n.latency = v->cfg.inval_latency;
    v->n.serialise = &v->worker;
    v->n.opaque = v;
    /* Nothing to replay: the IOTLB fills on demand (vhost starts empty). */
    return iommu_notifier_register(mmu, &v->n, err, errlen);
}

static void vh_detach(struct iommu_consumer *c)
{
    struct vhost_iotlb *v = vh_of(c);

    iommu_notifier_unregister(c->mmu, &v->n);
    iotlb_inval_global(&v->tlb);
}

static void vh_reset_stats(struct iommu_consumer *c)
{
    struct vhost_iotlb *v = vh_of(c);

    memset(&v->st, 0, sizeof(v->st));
    iotlb_reset_stats(&v->tlb);
    sim_resource_reset_stats(&v->worker);
}

static const struct sim_readout vh_readouts[] = {
    [VHOST_R_LOOKUPS] = { "lookups", "lookups", "translations the backend asked for" },
    [VHOST_R_HITS] = { "hits", "lookups", "answered by the device IOTLB" },
    [VHOST_R_MISSES] = { "misses", "lookups", "sent to the virtual IOMMU "
                         "(VHOST_IOTLB_MISS round trips)" },
    [VHOST_R_FAULTS] = { "faults", "lookups", "misses the virtual IOMMU could not "
                         "translate" },
    [VHOST_R_INVALIDATIONS] = { "invalidations", "events", "UNMAP / DEVIOTLB_UNMAP events "
                                "(VHOST_IOTLB_INVALIDATE messages)" },
    [VHOST_R_STALE_USES] = { "stale_uses", "lookups", "hits that disagreed with the virtual "
                             "IOMMU's current mapping (must be 0)" },
    [VHOST_R_HIT_RATE] = { "hit_rate", "ratio", "hits / lookups" },
};

/* The hit rate; the rest are vh_counter's counters. */
static double vh_read(const struct iommu_consumer *c, unsigned idx)
{
    const struct vhost_iotlb_stats *s = &((const struct vhost_iotlb *)c)->st;

    if (idx == VHOST_R_HIT_RATE)
        return s->lookups ? (double)s->hits / (double)s->lookups : 0.0;
    return iommu_consumer_read_counter(c, idx);
}

static const uint64_t *vh_counter(const struct iommu_consumer *c, unsigned idx)
{
    const struct vhost_iotlb_stats *s = &((const struct vhost_iotlb *)c)->st;

    switch (idx) {
    case VHOST_R_LOOKUPS:       return &s->lookups;
    case VHOST_R_HITS:          return &s->hits;
    case VHOST_R_MISSES:        return &s->misses;
    case VHOST_R_FAULTS:        return &s->faults;
    case VHOST_R_INVALIDATIONS: return &s->invalidations;
    case VHOST_R_STALE_USES:    return &s->stale_uses;
    default:                    return NULL;
    }
}

static void vh_destroy(struct iommu_consumer *c)
{
    vhost_iotlb_destroy(vh_of(c));
}

const struct iommu_consumer_ops vhost_iotlb_consumer_ops = {
    .name = "vhost_iotlb",
    .doc = "vhost device IOTLB: a backend's translation cache filled by miss round trips "
           "to the virtual IOMMU and invalidated by its UNMAP / DEVIOTLB_UNMAP events",
    .attach = vh_attach,
    .detach = vh_detach,
    .reset_stats = vh_reset_stats,
    .readouts = vh_readouts,
    .nreadouts = sizeof(vh_readouts) / sizeof(vh_readouts[0]),
    .read = vh_read,
    .counter = vh_counter,
    .destroy = vh_destroy,
};

int vhost_iotlb_init(struct vhost_iotlb *v, struct sim *sim, const struct vhost_iotlb_cfg *cfg,
                     char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "vhost_iotlb";
    struct iotlb_cfg tc;
    int r;

    memset(v, 0, sizeof(*v));
    if (!cfg->entries)
        return sim_error_format(err, errlen, SIM_EINVAL, path, "entries (got 0, expected >= 1)");
    iommu_consumer_init(&v->c, &vhost_iotlb_consumer_ops, path);
    v->cfg = *cfg;
    v->cfg.path = path;
    v->sim = sim;
    memset(&tc, 0, sizeof(tc));
    tc.policy = cfg->policy;
    tc.arr[0].entries = cfg->entries;
    tc.arr[0].ways = cfg->ways ? cfg->ways : cfg->entries;
    tc.mshrs = 1;
    tc.seed = cfg->seed;
    tc.path = path;
    r = iotlb_init(&v->tlb, &tc, err, errlen);
    if (r)
        return r;
    r = sim_resource_init(&v->worker, sim, 1);
    if (r) {
        iotlb_destroy(&v->tlb);
        return sim_error_format(err, errlen, r, path, "worker");
    }
    return 0;
}

void vhost_iotlb_destroy(struct vhost_iotlb *v)
{
    iommu_consumer_detach(&v->c);
    sim_resource_destroy(&v->worker);
    iotlb_destroy(&v->tlb);
}

/* --- The VhostIotlb descriptor ------------------------------------------------ */

enum { P_IOMMU, P_REQUESTER_ID, P_DOMAIN, P_ENTRIES, P_WAYS, P_POLICY, P_HIT_LATENCY,
       P_MISS_LATENCY, P_INVAL_LATENCY };

static const char *const policy_names[] = { "lru", "plru", "fifo", "random", NULL };

#define ABS_TIME(n, d, docs) { .name = n, .type = SIM_PT_LATENCY, .def = d, \
                               .flags = SIM_PF_NO_CYCLES, .doc = docs }

static const struct sim_param vh_params[] = {
    [P_IOMMU] = { .name = "iommu", .type = SIM_PT_REF, .ref_model = IOMMU_OBJECT_IFACE,
                  .doc = "the guest's virtual IOMMU the backend's device sits behind" },
    [P_REQUESTER_ID] = { .name = "requester_id", .type = SIM_PT_INT, .def = "0", .min = "0",
                         .max = "65535", .doc = "the virtio device's requester id" },
    [P_DOMAIN] = { .name = "domain", .type = SIM_PT_INT, .def = "-1", .min = "-1",
                   .max = "65535", .doc = "the guest domain the device is attached to; -1 "
                   "for the requester id" },
    [P_ENTRIES] = { .name = "entries", .type = SIM_PT_INT, .def = "2048", .min = "1",
                    .max = "1048576", .doc = "device IOTLB entries (Linux vhost caps its "
                    "IOTLB at 2048, max_iotlb_entries)" },
    [P_WAYS] = { .name = "ways", .type = SIM_PT_INT, .def = "0", .min = "0",
                 .max = "1048576", .doc = "ways; 0 for fully associative (vhost's interval "
                 "tree is)" },
    [P_POLICY] = { .name = "policy", .type = SIM_PT_ENUM, .def = "fifo",
                   .choices = policy_names, .doc = "replacement: vhost evicts the oldest "
                   "entry (fifo); lru, plru, random for comparison" },
    [P_HIT_LATENCY] = ABS_TIME("hit_latency", "50ns", "a lookup that hits (the interval "
                               "tree search under the IOTLB lock)"),
    [P_MISS_LATENCY] = ABS_TIME("miss_latency", "10us", "a miss: VHOST_IOTLB_MISS to QEMU, "
                                "its vIOMMU translate and VHOST_IOTLB_UPDATE back"),
    [P_INVAL_LATENCY] = ABS_TIME("inval_latency", "5us", "one invalidation: QEMU's notifier "
                                 "writing VHOST_IOTLB_INVALIDATE and the backend applying "
                                 "it, which the guest's unmap waits for"),
};

static int vh_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    int64_t e = v[P_ENTRIES].i, w = v[P_WAYS].i;

    if (w && (e % w || ((e / w) & (e / w - 1)))) {
        report(ctx, "ways", "must divide entries into a power-of-two number of sets");
        return 1;
    }
    return 0;
}

static int vh_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *p = obj->values;
    struct vhost_iotlb_cfg c;
    struct vhost_iotlb *v;
    struct iommu *as;
    int r;

    r = iommu_consumer_object_device(p[P_IOMMU].ref.obj, p[P_REQUESTER_ID].i, p[P_DOMAIN].i,
                                     &as, err, errlen);
    if (r)
        return r;
    memset(&c, 0, sizeof(c));
    c.entries = (unsigned)p[P_ENTRIES].i;
    c.ways = (unsigned)p[P_WAYS].i;
    c.policy = (enum iotlb_policy)p[P_POLICY].e;
    c.seed = w->seed;
    c.hit_latency = p[P_HIT_LATENCY].lat.value;
    c.miss_latency = p[P_MISS_LATENCY].lat.value;
    c.inval_latency = p[P_INVAL_LATENCY].lat.value;
    c.path = obj->path;
    v = calloc(1, sizeof(*v));
    if (!v)
        return SIM_ENOMEM;
    r = vhost_iotlb_init(v, &w->sim, &c, err, errlen);
    if (r) {
        free(v);
        return r;
    }
    obj->priv = v;
    return iommu_consumer_object_attach(obj, as, err, errlen);
}

static const struct sim_model_ops vh_ops = {
    .validate = vh_validate,
    .create = vh_create,
    .destroy = iommu_consumer_object_destroy,
    .reset_stats = iommu_consumer_object_reset_stats,
    .read = iommu_consumer_object_read,
    .register_stats = iommu_consumer_object_register_stats,
};

const struct sim_model vhost_iotlb_model = {
    .name = "VhostIotlb",
    .doc = "A vhost backend's device IOTLB behind the guest's virtual IOMMU: lookups hit "
           "(hit_latency) or miss to the vIOMMU (miss_latency round trip through QEMU); "
           "UNMAP / DEVIOTLB_UNMAP events invalidate at once and cost inval_latency on the "
           "backend's worker, which the guest's unmap waits for. Every hit is checked "
           "against the vIOMMU (stale_uses must stay 0). A DmaDevice whose devtlb is this "
           "object translates its requests here (the backend's data path).",
    .params = vh_params, .nparams = sizeof(vh_params) / sizeof(vh_params[0]),
    .readouts = vh_readouts, .nreadouts = sizeof(vh_readouts) / sizeof(vh_readouts[0]),
    .ops = &vh_ops,
};

struct vhost_iotlb *vhost_iotlb_from_object(const struct sim_object *obj)
{
    return obj && obj->model == &vhost_iotlb_model ? obj->priv : NULL;
}
