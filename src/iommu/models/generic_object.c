/*
 * generic_object.c - the `GenericIOMMU` model descriptor: the generic IOMMU
 * (generic.h) as an object of a config, built from its own parameters and
 * the IOTLB, Walker and Memory objects it references.
 *
 * The IOTLB and Walker objects carry settings; this object builds the live
 * IOTLB and walker inside its struct generic_iommu and binds them back to
 * those objects, so `system.iotlb.read("hit_rate")` reads the cache this
 * IOMMU uses. Page tables, domains and device bindings are made by whoever
 * drives the IOMMU (a device, the OS layer, a TranslationProbe) through
 * generic_domain_create / generic_attach / generic_map.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/models/generic.h"
#include "iommu/models/generic_domain.h"
#include "iommu/objects.h"
#include "mem/mem_object.h"
#include "stats/objstats.h"

enum { GI_P_IOTLB, GI_P_WALKER, GI_P_MEMORY, GI_P_LEVELS, GI_P_PAGE_SIZES,
       GI_P_MAP_EVENTS, GI_P_MAX_DOMAINS, GI_P_MAX_DEVICES };

static const struct sim_param gi_params[] = {
    [GI_P_IOTLB] = {
        .name = "iotlb", .type = SIM_PT_REF, .ref_model = "IOTLB",
        .doc = "the IOTLB object whose settings this IOMMU's translation cache takes "
               "(one IOTLB per IOMMU)",
    },
    [GI_P_WALKER] = {
        .name = "walker", .type = SIM_PT_REF, .ref_model = "Walker",
        .doc = "the Walker object whose settings this IOMMU's page-table walker takes "
               "(one Walker per IOMMU)",
    },
    [GI_P_MEMORY] = {
        .name = "memory", .type = SIM_PT_REF, .ref_model = "Memory",
        .doc = "the Memory the walker reads page tables from (may be shared with devices)",
    },
    [GI_P_LEVELS] = {
        .name = "levels", .type = SIM_PT_INT, .def = "4", .min = "3", .max = "5",
        .doc = "page-table levels of every domain: 3, 4 or 5 (39, 48 or 57-bit IOVAs)",
    },
    [GI_P_PAGE_SIZES] = {
        .name = "page_sizes", .type = SIM_PT_SIZE, .def = "4KiB,2MiB,1GiB",
        .flags = SIM_PF_LIST,
        .doc = "page sizes a mapping may use (4KiB and leaves of higher levels: 2MiB, "
               "1GiB, 512GiB, 256TiB up to the level count); map picks the largest that "
               "alignment allows",
    },
    [GI_P_MAP_EVENTS] = {
        .name = "map_events", .type = SIM_PT_BOOL, .def = "false",
        .doc = "send MAP events to notifiers on map (what VT-d calls caching mode); "
               "without it MAP notifiers are refused",
    },
    [GI_P_MAX_DOMAINS] = {
        .name = "max_domains", .type = SIM_PT_INT, .def = "64", .min = "1", .max = "65536",
        .doc = "domains (page-table sets) numbered 0 .. max_domains - 1",
    },
    [GI_P_MAX_DEVICES] = {
        .name = "max_devices", .type = SIM_PT_INT, .def = "256", .min = "1", .max = "65536",
        .doc = "requester ids 0 .. max_devices - 1 that can be bound to a domain",
    },
};

enum { GI_R_TRANSLATIONS, GI_R_FAULTS, GI_R_MEAN_LATENCY, GI_R_MAPS, GI_R_UNMAPS,
       GI_R_MAP_PAGES, GI_R_UNMAP_PAGES, GI_R_MSHR_STALLS, GI_R_NOTIFICATIONS,
       GI_R_TABLE_BYTES, GI_R_MAP_INVALS, GI_R_NOTIFY_TIME };

static const struct sim_readout gi_readouts[] = {
    [GI_R_TRANSLATIONS] = { "translations", "requests", "timed translations completed "
                            "since the last reset (every device)" },
    [GI_R_FAULTS] = { "faults", "requests", "of which faults (no mapping or no permission)" },
    [GI_R_MEAN_LATENCY] = { "mean_latency", "ps", "mean time from request to completion "
                            "of those translations (0 without any)" },
    [GI_R_MAPS] = { "maps", "calls", "map calls" },
    [GI_R_UNMAPS] = { "unmaps", "calls", "unmap calls" },
    [GI_R_MAP_PAGES] = { "map_pages", "pages", "leaves announced by MAP events (map_events only)" },
    [GI_R_UNMAP_PAGES] = { "unmap_pages", "pages", "leaves removed by unmaps" },
    [GI_R_MSHR_STALLS] = { "mshr_stalls", "requests", "misses that waited for a free MSHR" },
    [GI_R_NOTIFICATIONS] = { "notifications", "events", "notifier callbacks made" },
    [GI_R_TABLE_BYTES] = { "table_bytes", "B", "host memory of every domain's page "
                           "tables now (not reset)" },
    [GI_R_MAP_INVALS] = { "map_invalidations", "commands", "invalidations the guest "
                          "issues on map under caching mode (map_events only)" },
    [GI_R_NOTIFY_TIME] = { "notify_time", "ps", "sum over map and unmap calls of the "
                           "time until every notifier user was done with them" },
};

/* The instance: the model first, so the accessor is a cast-free member. */
struct generic_object {
    struct generic_iommu g;
    struct iommu_object_parts parts;    /* the IOTLB and Walker objects */
    struct generic_domains doms;    /* the OS's view of each domain */
};

static int gi_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    const struct sim_value *ps = &v[GI_P_PAGE_SIZES];
    unsigned levels = (unsigned)v[GI_P_LEVELS].i;
    bool has4k = false;
    char msg[240];
    int n = 0;

    for (uint32_t i = 0; i < ps->list.n; i++) {
        uint64_t sz = ps->list.items[i].u;
        unsigned l;

        for (l = 1; l <= PGTABLE_MAX_LEVELS; l++)
            if (sz == pgtable_level_size(l))
                break;
        if (l > PGTABLE_MAX_LEVELS || l > levels) {
            snprintf(msg, sizeof(msg), "not a page size of a %u-level table (got %llu bytes, "
                     "expected 4KiB, 2MiB%s%s%s)", levels, (unsigned long long)sz,
                     levels >= 3 ? ", 1GiB" : "", levels >= 4 ? ", 512GiB" : "",
                     levels >= 5 ? ", 256TiB" : "");
            report(ctx, "page_sizes", msg);
            n++;
        }
        has4k |= sz == 4096;
    }
    if (!has4k) {
        report(ctx, "page_sizes", "must include 4KiB (the granule every table maps)");
        n++;
    }
    return n;
}

static int gi_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *v = obj->values;
    struct generic_object *o;
    struct generic_cfg c;
    struct mem *mem = mem_object_mem(v[GI_P_MEMORY].ref.obj);
    char e[300];
    int r;

    if (!mem) {
        snprintf(err, errlen, "memory: not a created Memory object");
        return SIM_EINVAL;
    }
    o = calloc(1, sizeof(*o));
    if (!o)
        return SIM_ENOMEM;
    r = iommu_object_parts_claim(&o->parts, obj->path, &v[GI_P_IOTLB], &v[GI_P_WALKER],
                                 err, errlen);
    if (r)
        goto err_free;
    if (o->parts.walker->npwc > (unsigned)v[GI_P_LEVELS].i - 1) {
        snprintf(err, errlen, "walker: %s has page-walk caches for %u depths but a "
                 "%lld-level table has depths 1..%lld (expected at most %lld "
                 "pwc_entries items)", v[GI_P_WALKER].ref.obj->path, o->parts.walker->npwc,
                 (long long)v[GI_P_LEVELS].i, (long long)v[GI_P_LEVELS].i - 1,
                 (long long)v[GI_P_LEVELS].i - 1);
        r = SIM_EINVAL;
        goto err_parts;
    }

    memset(&c, 0, sizeof(c));
    c.levels = (unsigned)v[GI_P_LEVELS].i;
    for (uint32_t i = 0; i < v[GI_P_PAGE_SIZES].list.n; i++)
        c.pgsize_bitmap |= v[GI_P_PAGE_SIZES].list.items[i].u;
    c.iotlb = o->parts.tlb->cfg;
    c.walk = o->parts.walker->cfg;
    c.hit_latency = o->parts.tlb->hit_latency;
    c.lookup_ports = o->parts.tlb->lookup_ports;
    c.lookup_cycle = o->parts.tlb->lookup_cycle;
    c.max_domains = (unsigned)v[GI_P_MAX_DOMAINS].i;
    c.max_devices = (unsigned)v[GI_P_MAX_DEVICES].i;
    c.map_events = v[GI_P_MAP_EVENTS].b;
    c.path = obj->path;
    r = generic_create(&o->g, &w->sim, mem, &c, e, sizeof(e));
    if (r) {
        /* The validate hooks hold every constraint: only memory can run out. */
        snprintf(err, errlen, "cannot create the model (%s)", e);
        goto err_parts;
    }
    r = generic_domains_init(&o->doms, &o->g);
    if (r) {
        generic_destroy(&o->g);
        goto err_parts;
    }
    iommu_object_parts_bind(&o->parts, &o->g.tlb, &o->g.walker);
    obj->priv = o;
    return 0;

err_parts:
    iommu_object_parts_release(&o->parts);
err_free:
    free(o);
    return r;
}

static void gi_destroy(struct sim_object *obj)
{
    struct generic_object *o = obj->priv;

    if (!o)
        return;
    iommu_object_parts_release(&o->parts);
    generic_domains_destroy(&o->doms);
    generic_destroy(&o->g);
    free(o);
    obj->priv = NULL;
}

static void gi_reset_stats(struct sim_object *obj)
{
    struct generic_object *o = obj->priv;
    struct generic_iommu *g = &o->g;

    memset(&g->st, 0, sizeof(g->st));
    for (unsigned i = 0; i < g->cfg.max_devices; i++)
        if (g->dev[i].g)
            memset(&g->dev[i].mmu.st, 0, sizeof(g->dev[i].mmu.st));
}

static double gi_read(const struct sim_object *obj, unsigned idx)
{
    const struct generic_object *o = obj->priv;
    const struct generic_iommu *g = &o->g;
    uint64_t sum = 0;
    double lat = 0.0;
    unsigned i;

    switch (idx) {
    case GI_R_MAPS:         return (double)g->st.maps;
    case GI_R_UNMAPS:       return (double)g->st.unmaps;
    case GI_R_MAP_PAGES:    return (double)g->st.map_pages;
    case GI_R_UNMAP_PAGES:  return (double)g->st.unmap_pages;
    case GI_R_MSHR_STALLS:  return (double)g->st.mshr_stalls;
    case GI_R_MAP_INVALS:   return (double)g->st.map_invals;
    case GI_R_NOTIFY_TIME:  return (double)g->st.notify_ticks;
    case GI_R_TABLE_BYTES:
        for (i = 0; i < g->cfg.max_domains; i++)
            if (g->dom[i].root)
                sum += pgtable_mem_bytes(&g->dom[i]);
        return (double)sum;
    default:
        break;
    }
    for (i = 0; i < g->cfg.max_devices; i++) {
        const struct iommu_stats *s = &g->dev[i].mmu.st;

        if (!g->dev[i].g)
            continue;
        switch (idx) {
        case GI_R_TRANSLATIONS:  sum += s->timed; break;
        case GI_R_FAULTS:        sum += s->timed_faults; break;
        case GI_R_NOTIFICATIONS: sum += s->deliveries; break;
        case GI_R_MEAN_LATENCY:  sum += s->timed; lat += s->timed_ticks; break;
        default: break;
        }
    }
    if (idx == GI_R_MEAN_LATENCY)
        return sum ? lat / (double)sum : 0.0;
    return (double)sum;
}

/* The map/unmap counters by reference; the per-device sums (translations,
 * faults, notifications), the mean latency and the table size through read. */
static int gi_register_stats(struct sim_object *obj, void *reg)
{
    struct generic_object *o = obj->priv;
    struct generic_stats *s = &o->g.st;
    uint64_t done = 0;
    int rc;

    rc = stats_object_readout_counter(reg, obj, GI_R_MAPS, &s->maps, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, GI_R_UNMAPS, &s->unmaps, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, GI_R_MAP_PAGES, &s->map_pages, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, GI_R_UNMAP_PAGES, &s->unmap_pages, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, GI_R_MSHR_STALLS, &s->mshr_stalls, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, GI_R_MAP_INVALS, &s->map_invals, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, GI_R_NOTIFY_TIME, &s->notify_ticks, &done);
    return rc ? rc : stats_object_readouts(reg, obj, done);
}

static const struct sim_model_ops gi_ops = {
    .validate = gi_validate,
    .create = gi_create,
    .destroy = gi_destroy,
    .reset_stats = gi_reset_stats,
    .read = gi_read,
    .register_stats = gi_register_stats,
};

static int gi_domain(const struct sim_object *obj, unsigned id, struct iommu_domain **out,
                     char *err, size_t errlen)
{
    struct generic_object *o = obj->priv;

    return generic_domains_get(&o->doms, id, out, err, errlen);
}

static int gi_attach(const struct sim_object *obj, uint32_t rid, unsigned id,
                     struct iommu **out, char *err, size_t errlen)
{
    struct generic_object *o = obj->priv;
    struct iommu_domain *dom;
    int r = generic_domains_get(&o->doms, id, &dom, err, errlen);

    return r ? r : generic_attach(&o->g, rid, id, out, err, errlen);
}

static const struct iommu_object_ops gi_iface = {
    .domain = gi_domain,
    .attach = gi_attach,
};

const struct sim_model generic_model_object = {
    .name = "GenericIOMMU",
    .doc = "The generic IOMMU model: per-domain sparse radix page tables, devices bound "
           "to domains by requester id, an IOTLB (lookup ports, hit latency, MSHR merging) "
           "and a walker with page-walk caches reading the tables through a Memory. "
           "Unmap invalidates and sends UNMAP to the domain's devices; MAP events only "
           "with map_events. The reference for the other IOMMU models.",
    .params = gi_params, .nparams = sizeof(gi_params) / sizeof(gi_params[0]),
    .readouts = gi_readouts, .nreadouts = sizeof(gi_readouts) / sizeof(gi_readouts[0]),
    .ops = &gi_ops,
    .implements = IOMMU_OBJECT_IFACE,
    .iface = &gi_iface,
};

struct generic_iommu *generic_iommu_from_object(const struct sim_object *obj)
{
    struct generic_object *o;

    if (!obj || obj->model != &generic_model_object || !obj->priv)
        return NULL;
    o = obj->priv;
    return &o->g;
}

int generic_iommu_domain_from_object(const struct sim_object *obj, unsigned domain,
                                     struct generic_iommu **out, char *err, size_t errlen)
{
    struct generic_iommu *g = generic_iommu_from_object(obj);

    if (!g) {
        snprintf(err, errlen, "iommu: not a created GenericIOMMU");
        return SIM_EINVAL;
    }
    if (domain >= g->cfg.max_domains) {
        snprintf(err, errlen, "domain: beyond the IOMMU's domains (got %u, expected < "
                 "max_domains = %u of %s)", domain, g->cfg.max_domains, g->cfg.path);
        return SIM_ERANGE;
    }
    *out = g;
    return 0;
}
