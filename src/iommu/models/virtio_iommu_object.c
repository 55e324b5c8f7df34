/*
 * virtio_iommu_object.c - the `VirtioIOMMU` model descriptor: a
 * virtio-iommu device (virtio_iommu.h) as an object of a config, offering
 * the "IOMMU" interface (iommu/domain.h) so that a DmaDevice can use it:
 * its domains carry IOMMU_DOMAIN_SINGLE_FQ (Linux's one shared flush queue
 * for virtio-iommu) and attaching a device sends PROBE and ATTACH requests.
 *
 * Defaults and their sources are in docs/models/virtio-iommu.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/models/virtio_iommu.h"
#include "os/dma.h"
#include "stats/objstats.h"

#define ABS_TIME(n, d, docs) { .name = n, .type = SIM_PT_LATENCY, .def = d, \
                               .flags = SIM_PF_NO_CYCLES, .min = "0s", .doc = docs }

enum { VI_P_GRANULE, VI_P_AW_BITS, VI_P_BOOT_BYPASS, VI_P_ROUND_TRIP, VI_P_MAP_WORK,
       VI_P_UNMAP_WORK, VI_P_ATTACH_WORK, VI_P_PROBE_WORK, VI_P_XLATE_LATENCY,
       VI_P_MAX_DOMAINS, VI_P_MAX_ENDPOINTS };

static const struct sim_param vi_params[] = {
    [VI_P_GRANULE] = {
        .name = "granule", .type = SIM_PT_SIZE, .def = "4KiB", .min = "4KiB", .max = "1GiB",
        .doc = "smallest page of the device's page_size_mask (a power of two): maps and "
               "unmaps must be aligned to it, replay and translations use it; QEMU's "
               "'granule' property (default: the host page size, 4KiB on x86). A "
               "DmaDevice needs 4KiB (the OS layer maps 4 KiB pages)",
    },
    [VI_P_AW_BITS] = {
        .name = "aw_bits", .type = SIM_PT_INT, .def = "48", .min = "12", .max = "64",
        .doc = "input address width: MAP of an IOVA at or above 2^aw_bits is refused; "
               "QEMU's 'aw-bits' (64 for the bare device, 48 on Arm virt, 39 on q35 "
               "since QEMU 9.0)",
    },
    [VI_P_BOOT_BYPASS] = {
        .name = "boot_bypass", .type = SIM_PT_BOOL, .def = "true",
        .doc = "DMA of an endpoint not attached to a domain bypasses translation "
               "(identity); false: it faults. QEMU's 'boot-bypass' (default true)",
    },
    [VI_P_ROUND_TRIP] = ABS_TIME("round_trip", "5us",
        "per kick of the request queue: the guest's notify write (a VM exit), the "
        "ioeventfd wake-up of the host's device thread, and the guest's busy-wait "
        "seeing the used buffer; requests are served one at a time (Linux holds "
        "request_lock across the kick and the wait)"),
    [VI_P_MAP_WORK] = ABS_TIME("map_work", "1us",
        "host work of one MAP request: pop it, insert into the domain's mapping tree, "
        "fan MAP out (notifier users' own work is added on top)"),
    [VI_P_UNMAP_WORK] = ABS_TIME("unmap_work", "1us",
        "host work of one UNMAP request: fan UNMAP out, remove the mappings (the "
        "invalidation is part of it)"),
    [VI_P_ATTACH_WORK] = ABS_TIME("attach_work", "1us",
        "host work of one ATTACH or DETACH request"),
    [VI_P_PROBE_WORK] = ABS_TIME("probe_work", "1us",
        "host work of one PROBE request (the endpoint's reserved regions)"),
    [VI_P_XLATE_LATENCY] = ABS_TIME("xlate_latency", "100ns",
        "an emulated device's DMA translation: the host's lookup of the endpoint and "
        "of the mapping tree (no IOTLB)"),
    [VI_P_MAX_DOMAINS] = {
        .name = "max_domains", .type = SIM_PT_INT, .def = "64", .min = "1", .max = "65536",
        .doc = "domains numbered 0 .. max_domains - 1",
    },
    [VI_P_MAX_ENDPOINTS] = {
        .name = "max_endpoints", .type = SIM_PT_INT, .def = "256", .min = "1",
        .max = "65536", .doc = "requester ids 0 .. max_endpoints - 1",
    },
};

enum { VI_R_ATTACH, VI_R_DETACH, VI_R_MAP, VI_R_UNMAP, VI_R_PROBE, VI_R_KICKS,
       VI_R_DEFERRED, VI_R_FLUSHES, VI_R_EMPTY_FLUSHES, VI_R_LOCAL_MAPS, VI_R_LOCAL_UNMAPS,
       VI_R_MAP_EVENTS, VI_R_UNMAP_EVENTS, VI_R_NOTIFICATIONS, VI_R_TRANSLATIONS,
       VI_R_BYPASSED, VI_R_FAULTS, VI_R_UNATTACHED_FAULTS, VI_R_REQ_LAT, VI_R_WAIT_MEAN,
       VI_R_WAIT_MAX, VI_R_QUEUE_UTIL, VI_R_MAPPINGS };

static const struct sim_readout vi_readouts[] = {
    [VI_R_ATTACH] = { "attach_requests", "requests", "ATTACH requests" },
    [VI_R_DETACH] = { "detach_requests", "requests", "DETACH requests" },
    [VI_R_MAP] = { "map_requests", "requests", "MAP requests (those replayed at a "
                   "domain's first ATTACH included)" },
    [VI_R_UNMAP] = { "unmap_requests", "requests", "UNMAP requests (strict and deferred)" },
    [VI_R_PROBE] = { "probe_requests", "requests", "PROBE requests" },
    [VI_R_KICKS] = { "kicks", "kicks", "notifications of the request queue, each a "
                     "guest-to-host round trip" },
    [VI_R_DEFERRED] = { "deferred_unmaps", "requests", "lazy UNMAPs queued without a "
                        "kick, sent by the next flush" },
    [VI_R_FLUSHES] = { "flushes", "calls", "flush_all calls (the lazy flush queue's)" },
    [VI_R_EMPTY_FLUSHES] = { "empty_flushes", "calls", "of which found nothing queued "
                             "(no device-side cost)" },
    [VI_R_LOCAL_MAPS] = { "local_maps", "calls", "maps of a domain with no endpoint "
                          "(kept by the driver, sent at ATTACH)" },
    [VI_R_LOCAL_UNMAPS] = { "local_unmaps", "calls", "unmaps of a domain with no endpoint" },
    [VI_R_MAP_EVENTS] = { "map_events", "events", "MAP fan-outs (one per aligned block "
                          "of a mapping)" },
    [VI_R_UNMAP_EVENTS] = { "unmap_events", "events", "UNMAP fan-outs" },
    [VI_R_NOTIFICATIONS] = { "notifications", "events", "notifier callbacks made (every "
                             "endpoint)" },
    [VI_R_TRANSLATIONS] = { "translations", "requests", "timed translations (DMA of "
                            "emulated devices)" },
    [VI_R_BYPASSED] = { "bypassed", "requests", "of which by unattached endpoints, "
                        "bypassed (boot_bypass)" },
    [VI_R_FAULTS] = { "faults", "requests", "of which faulted (no mapping, no permission, "
                      "or unattached without boot_bypass)" },
    [VI_R_UNATTACHED_FAULTS] = { "unattached_faults", "requests", "of the faults, those "
                                 "of unattached endpoints" },
    [VI_R_REQ_LAT] = { "request_latency", "ps", "mean time from a request's issue to "
                       "its completion (queue wait, round trip, host and users' work)" },
    [VI_R_WAIT_MEAN] = { "queue_wait", "ps", "mean time a kick waited for the queue" },
    [VI_R_WAIT_MAX] = { "queue_wait_max", "ps", "longest wait of a kick for the queue" },
    [VI_R_QUEUE_UTIL] = { "queue_util", "ratio", "request-queue service time booked / "
                          "elapsed (booked when issued: above 1 means a backlog)" },
    [VI_R_MAPPINGS] = { "mappings", "mappings", "mappings in every domain's tree now "
                        "(not reset)" },
};

struct vi_object {
    struct virtio_iommu v;
    sim_tick_t since;               /* last stats reset */
};

static int vi_validate(const struct sim_value *val, sim_report_fn report, void *ctx)
{
    uint64_t g = val[VI_P_GRANULE].u;
    int64_t aw = val[VI_P_AW_BITS].i;
    char msg[200];
    int n = 0;

    if (g & (g - 1)) {
        snprintf(msg, sizeof(msg), "must be a power of two (got %llu bytes)",
                 (unsigned long long)g);
        report(ctx, "granule", msg);
        n++;
    } else if (aw < 64 && (UINT64_C(1) << aw) <= g) {
        snprintf(msg, sizeof(msg), "leaves no page: 2^%lld bytes is not above the granule "
                 "(%llu bytes)", (long long)aw, (unsigned long long)g);
        report(ctx, "aw_bits", msg);
        n++;
    }
    return n;
}

static int vi_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *val = obj->values;
    struct virtio_iommu_cfg c;
    struct vi_object *o;
    char e[300];
    int r;

    memset(&c, 0, sizeof(c));
    c.granule = val[VI_P_GRANULE].u;
    c.aw_bits = (unsigned)val[VI_P_AW_BITS].i;
    c.boot_bypass = val[VI_P_BOOT_BYPASS].b;
    c.round_trip = val[VI_P_ROUND_TRIP].lat.value;
    c.work[VIOMMU_REQ_MAP] = val[VI_P_MAP_WORK].lat.value;
    c.work[VIOMMU_REQ_UNMAP] = val[VI_P_UNMAP_WORK].lat.value;
    c.work[VIOMMU_REQ_ATTACH] = c.work[VIOMMU_REQ_DETACH] = val[VI_P_ATTACH_WORK].lat.value;
    c.work[VIOMMU_REQ_PROBE] = val[VI_P_PROBE_WORK].lat.value;
    c.xlate_latency = val[VI_P_XLATE_LATENCY].lat.value;
    c.max_domains = (unsigned)val[VI_P_MAX_DOMAINS].i;
    c.max_endpoints = (unsigned)val[VI_P_MAX_ENDPOINTS].i;
    c.path = obj->path;
    o = calloc(1, sizeof(*o));
    if (!o)
        return SIM_ENOMEM;
    r = virtio_iommu_create(&o->v, &w->sim, &c, e, sizeof(e));
    if (r) {
        /* The parameter checks hold every constraint: only memory can run out. */
        snprintf(err, errlen, "cannot create the model (%s)", e);
        free(o);
        return r;
    }
    o->since = sim_now(&w->sim);
    obj->priv = o;
    return 0;
}

static void vi_destroy(struct sim_object *obj)
{
    struct vi_object *o = obj->priv;

    if (!o)
        return;
    virtio_iommu_destroy(&o->v);
    free(o);
    obj->priv = NULL;
}

static void vi_reset_stats(struct sim_object *obj)
{
    struct vi_object *o = obj->priv;
    struct virtio_iommu *v = &o->v;

    memset(&v->st, 0, sizeof(v->st));
    for (unsigned i = 0; i < v->ep_hi; i++)
        if (v->ep[i].v)
            memset(&v->ep[i].mmu.st, 0, sizeof(v->ep[i].mmu.st));
    o->since = sim_now(v->sim);
}

static double vi_read(const struct sim_object *obj, unsigned idx)
{
    const struct vi_object *o = obj->priv;
    const struct virtio_iommu *v = &o->v;
    const struct viommu_stats *s = &v->st;
    uint64_t sum = 0;
    sim_tick_t span;
    unsigned i;

    switch (idx) {
    case VI_R_ATTACH:       return (double)s->requests[VIOMMU_REQ_ATTACH];
    case VI_R_DETACH:       return (double)s->requests[VIOMMU_REQ_DETACH];
    case VI_R_MAP:          return (double)s->requests[VIOMMU_REQ_MAP];
    case VI_R_UNMAP:        return (double)s->requests[VIOMMU_REQ_UNMAP];
    case VI_R_PROBE:        return (double)s->requests[VIOMMU_REQ_PROBE];
    case VI_R_KICKS:        return (double)s->kicks;
    case VI_R_DEFERRED:     return (double)s->deferred_unmaps;
    case VI_R_FLUSHES:      return (double)s->flushes;
    case VI_R_EMPTY_FLUSHES: return (double)s->empty_flushes;
    case VI_R_LOCAL_MAPS:   return (double)s->local_maps;
    case VI_R_LOCAL_UNMAPS: return (double)s->local_unmaps;
    case VI_R_MAP_EVENTS:   return (double)s->map_events;
    case VI_R_UNMAP_EVENTS: return (double)s->unmap_events;
    case VI_R_TRANSLATIONS: return (double)s->translations;
    case VI_R_BYPASSED:     return (double)s->bypassed;
    case VI_R_FAULTS:       return (double)s->faults;
    case VI_R_UNATTACHED_FAULTS: return (double)s->unattached_faults;
    case VI_R_REQ_LAT:      return s->completed ? s->req_ticks / (double)s->completed : 0.0;
    case VI_R_WAIT_MEAN:    return s->kicks ? s->wait_ticks / (double)s->kicks : 0.0;
    case VI_R_WAIT_MAX:     return (double)s->wait_max;
    case VI_R_QUEUE_UTIL:
        span = sim_now(v->sim) - o->since;
        return span ? s->busy_ticks / (double)span : 0.0;
    case VI_R_NOTIFICATIONS:
        for (i = 0; i < v->ep_hi; i++)
            if (v->ep[i].v)
                sum += v->ep[i].mmu.st.deliveries;
        return (double)sum;
    case VI_R_MAPPINGS:
        for (i = 0; i < v->cfg.max_domains; i++)
            if (v->dom[i].dom.ops)
                sum += v->dom[i].tree.count;
        return (double)sum;
    default:
        return 0.0;
    }
}

/* Plain counters by reference; means, sums over endpoints and the tree
 * sizes through read at each dump. */
static int vi_register_stats(struct sim_object *obj, void *reg)
{
    struct vi_object *o = obj->priv;
    struct viommu_stats *s = &o->v.st;
    const struct { unsigned idx; const uint64_t *src; } refs[] = {
        { VI_R_ATTACH, &s->requests[VIOMMU_REQ_ATTACH] },
        { VI_R_DETACH, &s->requests[VIOMMU_REQ_DETACH] },
        { VI_R_MAP, &s->requests[VIOMMU_REQ_MAP] },
        { VI_R_UNMAP, &s->requests[VIOMMU_REQ_UNMAP] },
        { VI_R_PROBE, &s->requests[VIOMMU_REQ_PROBE] },
        { VI_R_KICKS, &s->kicks },
        { VI_R_DEFERRED, &s->deferred_unmaps },
        { VI_R_FLUSHES, &s->flushes },
        { VI_R_EMPTY_FLUSHES, &s->empty_flushes },
        { VI_R_LOCAL_MAPS, &s->local_maps },
        { VI_R_LOCAL_UNMAPS, &s->local_unmaps },
        { VI_R_MAP_EVENTS, &s->map_events },
        { VI_R_UNMAP_EVENTS, &s->unmap_events },
        { VI_R_TRANSLATIONS, &s->translations },
        { VI_R_BYPASSED, &s->bypassed },
        { VI_R_FAULTS, &s->faults },
        { VI_R_UNATTACHED_FAULTS, &s->unattached_faults },
    };
    uint64_t done = 0;
    int rc = 0;

    for (size_t i = 0; !rc && i < sizeof(refs) / sizeof(refs[0]); i++)
        rc = stats_object_readout_counter(reg, obj, refs[i].idx, refs[i].src, &done);
    return rc ? rc : stats_object_readouts(reg, obj, done);
}

static const struct sim_model_ops vi_ops = {
    .validate = vi_validate,
    .create = vi_create,
    .destroy = vi_destroy,
    .reset_stats = vi_reset_stats,
    .read = vi_read,
    .register_stats = vi_register_stats,
};

/* The OS DMA layer maps 4 KiB pages (OS_DMA_GRANULE): a coarser granule
 * would refuse every map it makes, so say so when the domain is taken. */
static int vi_domain(const struct sim_object *obj, unsigned id, struct iommu_domain **out,
                     char *err, size_t errlen)
{
    struct vi_object *o = obj->priv;

    if (o->v.cfg.granule != OS_DMA_GRANULE) {
        snprintf(err, errlen, "granule: the OS DMA layer maps 4 KiB pages (got granule "
                 "%llu bytes of %s, expected 4KiB for a device's domain)",
                 (unsigned long long)o->v.cfg.granule, obj->path);
        return SIM_EINVAL;
    }
    return virtio_iommu_domain(&o->v, id, out, err, errlen);
}

/* A device joining at configuration time: PROBE (first time) then ATTACH,
 * issued now, as Linux's probe_device and attach_dev do at boot. */
static int vi_attach(const struct sim_object *obj, uint32_t rid, unsigned id,
                     struct iommu **out, char *err, size_t errlen)
{
    struct vi_object *o = obj->priv;
    struct virtio_iommu *v = &o->v;
    sim_tick_t now = sim_now(v->sim), done;
    int r;

    r = virtio_iommu_endpoint(v, rid, out, err, errlen);
    if (!r)
        r = virtio_iommu_domain(v, id, NULL, err, errlen);
    if (r)
        return r;
    if (!v->ep[rid].probed)
        virtio_iommu_probe(v, rid, now, &done);
    return virtio_iommu_attach(v, rid, id, now, &done);
}

static const struct iommu_object_ops vi_iface = {
    .domain = vi_domain,
    .attach = vi_attach,
};

const struct sim_model virtio_iommu_model_object = {
    .name = "VirtioIOMMU",
    .doc = "A virtio-iommu device (virtio spec 'IOMMU device', QEMU's virtio-iommu) as "
           "its guest driver uses it: ATTACH, DETACH, MAP, UNMAP and PROBE requests on "
           "one request queue, each kick costing a guest-to-host round trip plus the "
           "host's work per request, served one at a time; a per-domain tree of "
           "mapped ranges on the host; MAP and UNMAP fanned out to notifiers directly "
           "(MAP notifiers always accepted: no caching mode needed). Strict unmaps are "
           "one synchronous UNMAP each; lazy unmaps are queued unkicked and sent in "
           "one kick by the shared flush queue's flush. Devices not attached bypass "
           "(boot_bypass) or fault. See docs/models/virtio-iommu.md.",
    .params = vi_params, .nparams = sizeof(vi_params) / sizeof(vi_params[0]),
    .readouts = vi_readouts, .nreadouts = sizeof(vi_readouts) / sizeof(vi_readouts[0]),
    .ops = &vi_ops,
    .implements = IOMMU_OBJECT_IFACE,
    .iface = &vi_iface,
};

struct virtio_iommu *virtio_iommu_from_object(const struct sim_object *obj)
{
    struct vi_object *o;

    if (!obj || obj->model != &virtio_iommu_model_object || !obj->priv)
        return NULL;
    o = obj->priv;
    return &o->v;
}
