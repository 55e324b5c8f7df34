/*
 * vfio_shadow.c - the VFIO-style shadow mapper (see vfio_shadow.h) and its
 * `VfioShadow` config descriptor.
 *
 * Per event: one radix-table update of the record, one host domain call
 * per leaf, and no allocation beyond the record's table nodes (which a
 * steady map/unmap stream reuses in shape: a node freed by an unmap is
 * allocated again by the next map of the same region).
 */
#include "iommu/consumers/vfio_shadow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#define PAGE 4096u

static struct vfio_shadow *vs_of(struct iommu_consumer *c)
{
    return (struct vfio_shadow *)c;     /* c is the first member */
}

/* --- Events ----------------------------------------------------------------- */

static void vs_map(struct vfio_shadow *v, const struct iommu_tlb_entry *e, sim_tick_t at)
{
    uint64_t size = e->addr_mask + 1, pages = size / PAGE;
    sim_tick_t start = sim_resource_next_start_at(&v->lock, at);
    sim_tick_t t = start + v->cfg.map_cost + pages * v->cfg.pin_cost, done = t;
    int r;

    v->st.maps++;
    /* Pin first, then map (vfio_pin_map_dma); a refused map unpins again. */
    r = pgtable_map(&v->dma, e->iova, e->translated_addr, size, e->perm);
    if (!r) {
        r = iommu_domain_map(v->cfg.host, e->iova, e->translated_addr + v->cfg.gpa_offset,
                             size, e->perm, t, &done);
        v->st.host_maps++;
        if (r)
            pgtable_unmap(&v->dma, e->iova, size, NULL, NULL, NULL);
    }
    if (r) {
        v->st.errors++;
        done = t + pages * v->cfg.unpin_cost;
    } else {
        v->st.pages_pinned += pages;
        v->pinned += pages;
        if (done < t)
            done = t;
    }
    v->n.latency = done - start;        /* booked on the lock by the core */
    v->st.map_ticks += done - start;
}

struct unmap_ctx {
    struct vfio_shadow *v;
    sim_tick_t t;                   /* when the next host call is issued */
    uint64_t pages;
};

/* One shadowed leaf leaves the host: strict unmap, invalidation waited for. */
static void vs_unmap_leaf(void *arg, uint64_t iova, const struct pgtable_result *old)
{
    struct unmap_ctx *c = arg;
    struct vfio_shadow *v = c->v;
    sim_tick_t done = c->t;

    if (iommu_domain_unmap(v->cfg.host, iova, old->addr_mask + 1, 0, c->t, &done) != 0)
        v->st.errors++;
    v->st.host_unmaps++;
    if (done > c->t)
        c->t = done;
    c->pages += (old->addr_mask + 1) / PAGE;
}

static void vs_unmap(struct vfio_shadow *v, const struct iommu_tlb_entry *e, sim_tick_t at)
{
    uint64_t span = pgtable_span(&v->dma), start_iova = e->iova, size;
    sim_tick_t start = sim_resource_next_start_at(&v->lock, at);
    struct unmap_ctx c = { v, start + v->cfg.unmap_cost, 0 };

    v->st.unmaps++;
    /* A range reaching beyond the record (B10's whole-space UNMAP) is
     * clipped to it: nothing can be shadowed out there. */
    if (start_iova < span) {
        uint64_t last = e->iova + e->addr_mask;

        if (last < e->iova || last >= span)
            last = span - 1;
        size = last - start_iova + 1;
        if (pgtable_unmap(&v->dma, start_iova, size, vs_unmap_leaf, &c, NULL) != 0)
            v->st.errors++;         /* part of a shadowed leaf: type1 refuses too */
    }
    /* Unpinned once the host no longer translates to the pages. */
    c.t += c.pages * v->cfg.unpin_cost;
    v->st.pages_unpinned += c.pages;
    v->pinned -= c.pages;
    v->n.latency = c.t - start;
    v->st.unmap_ticks += c.t - start;
}

static void vs_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct vfio_shadow *v = n->opaque;
    /* The work starts when the event reaches us (a model may deliver it
     * inside queued processing that starts later than now) and the
     * container lock is free: the core books it from the same tick. */
    sim_tick_t at = iommu_notify_tick(n->owner);

    if (ev->type == IOMMU_NOTIFIER_MAP)
        vs_map(v, &ev->entry, at);
    else
        vs_unmap(v, &ev->entry, at);
}

/* --- Ops ------------------------------------------------------------------- */

static int vs_attach(struct iommu_consumer *c, struct iommu *mmu, char *err, size_t errlen)
{
    struct vfio_shadow *v = vs_of(c);
    int r;

    memset(&v->n, 0, sizeof(v->n));
    v->n.notify = vs_notify;
    v->n.flags = IOMMU_NOTIFIER_IOTLB_EVENTS;
    v->n.start = 0;
    v->n.end = mmu->size ? mmu->size - 1 : UINT64_MAX;
    v->n.serialise = &v->lock;
    v->n.opaque = v;
    r = iommu_notifier_register(mmu, &v->n, err, errlen);
    if (r)
        return r;
    /* What the guest mapped before the device was assigned (vfio's
     * memory_region_iommu_replay on region_add). */
    v->st.replays++;
    iommu_replay(mmu, &v->n);
    return 0;
}

static void vs_detach(struct iommu_consumer *c)
{
    struct vfio_shadow *v = vs_of(c);

    iommu_notifier_unregister(c->mmu, &v->n);
}

static void vs_reset_stats(struct iommu_consumer *c)
{
    struct vfio_shadow *v = vs_of(c);

    memset(&v->st, 0, sizeof(v->st));
    sim_resource_reset_stats(&v->lock);
}

static const struct sim_readout vs_readouts[] = {
    [VFIO_R_MAPS] = { "maps", "events", "MAP events handled (VFIO_IOMMU_MAP_DMA calls)" },
    [VFIO_R_UNMAPS] = { "unmaps", "events", "UNMAP events handled (VFIO_IOMMU_UNMAP_DMA "
                        "calls)" },
    [VFIO_R_PAGES_PINNED] = { "pages_pinned", "pages", "4 KiB pages pinned" },
    [VFIO_R_PAGES_UNPINNED] = { "pages_unpinned", "pages", "4 KiB pages unpinned" },
    [VFIO_R_PINNED_NOW] = { "pinned_now", "pages", "4 KiB pages pinned now (not reset)" },
    [VFIO_R_HOST_MAPS] = { "host_maps", "calls", "maps into the host IOMMU's domain" },
    [VFIO_R_HOST_UNMAPS] = { "host_unmaps", "calls", "strict unmaps (with invalidation) "
                             "of the host domain, one per shadowed leaf" },
    [VFIO_R_ERRORS] = { "errors", "events", "events the host refused (a map over a "
                        "mapping, outside its address space; an unmap splitting a leaf)" },
    [VFIO_R_MAP_TIME] = { "map_time", "ps", "summed time of MAP work, lock grant to done "
                          "(fixed cost, pinning, host map)" },
    [VFIO_R_UNMAP_TIME] = { "unmap_time", "ps", "summed time of UNMAP work, lock grant to "
                            "done (fixed cost, host unmap and invalidation, unpinning)" },
    [VFIO_R_QUEUE_WAIT] = { "queue_wait", "ps", "summed time events waited for the "
                            "container lock" },
    [VFIO_R_WAIT_MAX] = { "wait_max", "ps", "longest wait for the container lock" },
    [VFIO_R_LOCK_UTIL] = { "lock_util", "ratio", "fraction of time the container lock "
                           "was held" },
};

/* The values no counter stands behind; the rest are vs_counter's counters. */
static double vs_read(const struct iommu_consumer *c, unsigned idx)
{
    struct vfio_shadow *v = (struct vfio_shadow *)c;

    switch (idx) {
    case VFIO_R_PINNED_NOW:     return (double)v->pinned;
    case VFIO_R_QUEUE_WAIT:     return v->lock.st.wait_sum;
    case VFIO_R_WAIT_MAX:       return (double)v->lock.st.wait_max;
    case VFIO_R_LOCK_UTIL:      return sim_resource_utilisation(&v->lock);
    default:                    return iommu_consumer_read_counter(c, idx);
    }
}

static const uint64_t *vs_counter(const struct iommu_consumer *c, unsigned idx)
{
    const struct vfio_shadow_stats *s = &((const struct vfio_shadow *)c)->st;

    switch (idx) {
    case VFIO_R_MAPS:           return &s->maps;
    case VFIO_R_UNMAPS:         return &s->unmaps;
    case VFIO_R_PAGES_PINNED:   return &s->pages_pinned;
    case VFIO_R_PAGES_UNPINNED: return &s->pages_unpinned;
    case VFIO_R_HOST_MAPS:      return &s->host_maps;
    case VFIO_R_HOST_UNMAPS:    return &s->host_unmaps;
    case VFIO_R_ERRORS:         return &s->errors;
    case VFIO_R_MAP_TIME:       return &s->map_ticks;
    case VFIO_R_UNMAP_TIME:     return &s->unmap_ticks;
    default:                    return NULL;
    }
}

static void vs_destroy(struct iommu_consumer *c)
{
    vfio_shadow_destroy(vs_of(c));
}

const struct iommu_consumer_ops vfio_shadow_consumer_ops = {
    .name = "vfio_shadow",
    .doc = "VFIO shadow mapper: MAP/UNMAP notifier on an assigned device's address space "
           "behind a virtual IOMMU; pins pages and mirrors each guest mapping into a host "
           "IOMMU domain under the container lock",
    .attach = vs_attach,
    .detach = vs_detach,
    .reset_stats = vs_reset_stats,
    .readouts = vs_readouts,
    .nreadouts = sizeof(vs_readouts) / sizeof(vs_readouts[0]),
    .read = vs_read,
    .counter = vs_counter,
    .destroy = vs_destroy,
};

int vfio_shadow_init(struct vfio_shadow *v, struct sim *sim, const struct vfio_shadow_cfg *cfg,
                     char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "vfio_shadow";
    int r;

    memset(v, 0, sizeof(*v));
    if (!cfg->host)
        return sim_error_format(err, errlen, SIM_EINVAL, path, "no host IOMMU domain");
    if (cfg->gpa_offset % PAGE)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "guest RAM offset not 4 KiB-aligned (got 0x%llx)",
                                (unsigned long long)cfg->gpa_offset);
    iommu_consumer_init(&v->c, &vfio_shadow_consumer_ops, path);
    v->cfg = *cfg;
    v->cfg.path = path;
    v->sim = sim;
    r = sim_resource_init(&v->lock, sim, 1);
    if (r)
        return sim_error_format(err, errlen, r, path, "container lock");
    /* The record spans the widest (5-level, 57-bit) guest address space;
     * its table addresses are never walked. */
    r = pgtable_init(&v->dma, 5, UINT64_C(0x40201000), 0);
    if (r) {
        sim_resource_destroy(&v->lock);
        return sim_error_format(err, errlen, r, path, "mapping record");
    }
    return 0;
}

void vfio_shadow_destroy(struct vfio_shadow *v)
{
    iommu_consumer_detach(&v->c);
    pgtable_destroy(&v->dma);
    sim_resource_destroy(&v->lock);
}

/* --- The VfioShadow descriptor ------------------------------------------------ */

enum { P_IOMMU, P_REQUESTER_ID, P_DOMAIN, P_HOST_IOMMU, P_HOST_DOMAIN, P_RAM_BASE,
       P_MAP_COST, P_UNMAP_COST, P_PIN_COST, P_UNPIN_COST };

#define ABS_TIME(n, d, docs) { .name = n, .type = SIM_PT_LATENCY, .def = d, \
                               .flags = SIM_PF_NO_CYCLES, .doc = docs }

static const struct sim_param vs_params[] = {
    [P_IOMMU] = { .name = "iommu", .type = SIM_PT_REF, .ref_model = IOMMU_OBJECT_IFACE,
                  .doc = "the guest's virtual IOMMU: its MAP events are shadowed (it must "
                         "send them: VT-d caching mode, virtio-iommu, GenericIOMMU "
                         "map_events)" },
    [P_REQUESTER_ID] = { .name = "requester_id", .type = SIM_PT_INT, .def = "0", .min = "0",
                         .max = "65535", .doc = "the assigned device's requester id on the "
                         "virtual IOMMU (the DmaDevice's requester_id)" },
    [P_DOMAIN] = { .name = "domain", .type = SIM_PT_INT, .def = "-1", .min = "-1",
                   .max = "65535", .doc = "the guest domain the device is attached to (the "
                   "DmaDevice's domain); -1 for the requester id" },
    [P_HOST_IOMMU] = { .name = "host_iommu", .type = SIM_PT_REF,
                       .ref_model = IOMMU_OBJECT_IFACE,
                       .doc = "the host IOMMU (any model, another object than iommu) whose "
                              "domain the shadow maintains; the DmaDevice's host_iommu" },
    [P_HOST_DOMAIN] = { .name = "host_domain", .type = SIM_PT_INT, .def = "0", .min = "0",
                        .max = "65535", .doc = "the container's domain on the host IOMMU (the "
                        "DmaDevice's host_domain)" },
    [P_RAM_BASE] = { .name = "guest_ram_base", .type = SIM_PT_SIZE, .def = "1GiB",
                     .doc = "host-physical address of guest-physical 0: host = guest + this "
                            "(4 KiB-aligned; 2 MiB/1 GiB alignment keeps huge pages huge)" },
    [P_MAP_COST] = ABS_TIME("map_cost", "2us", "fixed time of one MAP: the QEMU notifier, "
                            "the VFIO_IOMMU_MAP_DMA ioctl and its vfio_dma bookkeeping"),
    [P_UNMAP_COST] = ABS_TIME("unmap_cost", "2us", "fixed time of one UNMAP: the QEMU "
                              "notifier and the VFIO_IOMMU_UNMAP_DMA ioctl"),
    [P_PIN_COST] = ABS_TIME("pin_cost", "250ns", "per 4 KiB page pinned (pin_user_pages, "
                            "locked-memory accounting)"),
    [P_UNPIN_COST] = ABS_TIME("unpin_cost", "100ns", "per 4 KiB page unpinned"),
};

static int vs_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    int n = 0;

    if (v[P_RAM_BASE].u % PAGE) {
        report(ctx, "guest_ram_base", "must be 4 KiB-aligned");
        n++;
    }
    if (v[P_IOMMU].ref.path && v[P_HOST_IOMMU].ref.path &&
        strcmp(v[P_IOMMU].ref.path, v[P_HOST_IOMMU].ref.path) == 0) {
        report(ctx, "host_iommu", "must be another IOMMU than iommu (the guest's virtual "
               "IOMMU cannot be its own host)");
        n++;
    }
    return n;
}

static int vs_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *p = obj->values;
    const struct sim_object *virt = p[P_IOMMU].ref.obj, *host = p[P_HOST_IOMMU].ref.obj;
    struct vfio_shadow_cfg c;
    struct vfio_shadow *v;
    struct iommu *as;
    char e[400];
    int r;

    if (!iommu_object_ops_of(virt) || !iommu_object_ops_of(host)) {
        snprintf(err, errlen, "%s: not a created IOMMU object",
                 iommu_object_ops_of(virt) ? "host_iommu" : "iommu");
        return SIM_EINVAL;
    }
    memset(&c, 0, sizeof(c));
    r = iommu_object_domain(host, (unsigned)p[P_HOST_DOMAIN].i, &c.host, e, sizeof(e));
    if (r) {
        snprintf(err, errlen, "host_iommu: %s", e);
        return r;
    }
    r = iommu_consumer_object_device(virt, p[P_REQUESTER_ID].i, p[P_DOMAIN].i, &as, err,
                                     errlen);
    if (r)
        return r;
    c.gpa_offset = p[P_RAM_BASE].u;
    c.map_cost = p[P_MAP_COST].lat.value;
    c.unmap_cost = p[P_UNMAP_COST].lat.value;
    c.pin_cost = p[P_PIN_COST].lat.value;
    c.unpin_cost = p[P_UNPIN_COST].lat.value;
    c.path = obj->path;
    v = calloc(1, sizeof(*v));
    if (!v)
        return SIM_ENOMEM;
    r = vfio_shadow_init(v, &w->sim, &c, err, errlen);
    if (r) {
        free(v);
        return r;
    }
    obj->priv = v;
    return iommu_consumer_object_attach(obj, as, err, errlen);
}

static const struct sim_model_ops vs_ops = {
    .validate = vs_validate,
    .create = vs_create,
    .destroy = iommu_consumer_object_destroy,
    .reset_stats = iommu_consumer_object_reset_stats,
    .read = iommu_consumer_object_read,
    .register_stats = iommu_consumer_object_register_stats,
};

const struct sim_model vfio_shadow_model = {
    .name = "VfioShadow",
    .doc = "A VFIO-assigned device's shadow mapper (QEMU's VFIO listener over Linux VFIO "
           "type1): registers MAP and UNMAP notifiers on the device's address space behind "
           "the guest's virtual IOMMU (iommu) and replays what is mapped; each MAP pins the "
           "pages and maps guest IOVA -> guest_ram_base + guest-physical into a domain of "
           "the host IOMMU; each UNMAP unmaps (strict, invalidated) and unpins. One "
           "container lock serialises the work, whose time the guest's map and unmap wait "
           "for. Give the DmaDevice host_iommu and host_domain so its DMA is translated "
           "by the host domain this shadow maintains.",
    .params = vs_params, .nparams = sizeof(vs_params) / sizeof(vs_params[0]),
    .readouts = vs_readouts, .nreadouts = sizeof(vs_readouts) / sizeof(vs_readouts[0]),
    .ops = &vs_ops,
};
