/*
 * amdvi_object.c - the `AmdViIOMMU` model descriptor: the AMD-Vi model
 * (amdvi.h) as an object of a config, built from its own parameters and
 * the IOTLB object it references (whose geometry, policy and hit latency
 * it takes, and whose readouts then report this IOMMU's IOTLB).
 *
 * It implements "IOMMU": DmaDevice and the OS layer reach the domain ops
 * of amdvi.c through domain() and attach() (attach writes the device's
 * DTE). With npcache, domains are strict-only and maps send MAP events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/models/amdvi.h"
#include "iommu/objects.h"

enum { AV_P_IOTLB, AV_P_LEVELS, AV_P_PAGE_SIZES, AV_P_SKIP_LEVELS, AV_P_NPCACHE,
       AV_P_PDC_ENTRIES, AV_P_READ_LATENCY, AV_P_INV_PAGES_TIME, AV_P_INV_DEVTAB_TIME,
       AV_P_INV_IOTLB_TIME, AV_P_COMPLETION_WAIT_TIME, AV_P_MAX_DOMAINS, AV_P_MAX_DEVICES };

#define ABS_TIME(n, d, docs) { .name = n, .type = SIM_PT_LATENCY, .def = d, \
                               .flags = SIM_PF_NO_CYCLES, .doc = docs }

static const struct sim_param av_params[] = {
    [AV_P_IOTLB] = {
        .name = "iotlb", .type = SIM_PT_REF, .ref_model = "IOTLB",
        .doc = "the IOTLB object whose geometry, policy and hit_latency this IOMMU's "
               "translation cache takes (one IOTLB per IOMMU; its lookup ports and MSHRs "
               "are not used)",
    },
    [AV_P_LEVELS] = {
        .name = "levels", .type = SIM_PT_INT, .def = "4", .min = "3", .max = "6",
        .doc = "the DTE mode of every domain: page-table levels 3..6 (39 to 64-bit IOVAs)",
    },
    [AV_P_PAGE_SIZES] = {
        .name = "page_sizes", .type = SIM_PT_SIZE, .def = "4KiB,2MiB,1GiB",
        .flags = SIM_PF_LIST,
        .doc = "page sizes a map may use: 4KiB (required), 2MiB, 1GiB; map picks the "
               "largest that alignment allows",
    },
    [AV_P_SKIP_LEVELS] = {
        .name = "skip_levels", .type = SIM_PT_BOOL, .def = "false",
        .doc = "map points a new PDE straight at the table holding the leaf when the IOVA "
               "bits in between are zero (NextLevel < level - 1), so walks read fewer "
               "entries; Linux's AMD driver never skips",
    },
    [AV_P_NPCACHE] = {
        .name = "npcache", .type = SIM_PT_BOOL, .def = "false",
        .doc = "the NpCache capability (an emulated AMD-Vi): the driver flushes after every "
               "map and runs strict, and the IOMMU sends MAP events; without it MAP "
               "notifiers are refused",
    },
    [AV_P_PDC_ENTRIES] = {
        .name = "pdc_entries", .type = SIM_PT_INT, .def = "16", .min = "0", .max = "65536",
        .doc = "page-directory cache entries (fully associative, LRU); 0 for none",
    },
    [AV_P_READ_LATENCY] = ABS_TIME("read_latency", "80ns", "one device-table or page-table "
                                   "read (the Memory model's default latency)"),
    [AV_P_INV_PAGES_TIME] = ABS_TIME("inv_pages_time", "100ns", "processing time of an "
                                     "INVALIDATE_IOMMU_PAGES command"),
    [AV_P_INV_DEVTAB_TIME] = ABS_TIME("inv_devtab_time", "100ns", "processing time of an "
                                      "INVALIDATE_DEVTAB_ENTRY command"),
    [AV_P_INV_IOTLB_TIME] = ABS_TIME("inv_iotlb_time", "100ns", "processing time of an "
                                     "INVALIDATE_IOTLB_PAGES command (ATS) at the IOMMU"),
    [AV_P_COMPLETION_WAIT_TIME] = ABS_TIME("completion_wait_time", "200ns", "processing "
                                           "time of a COMPLETION_WAIT, which starts after "
                                           "every earlier command"),
    [AV_P_MAX_DOMAINS] = {
        .name = "max_domains", .type = SIM_PT_INT, .def = "64", .min = "1", .max = "65536",
        .doc = "domain ids 0 .. max_domains - 1",
    },
    [AV_P_MAX_DEVICES] = {
        .name = "max_devices", .type = SIM_PT_INT, .def = "256", .min = "1", .max = "65536",
        .doc = "device ids (requester ids) 0 .. max_devices - 1 in the device table",
    },
};

enum { AV_R_TRANSLATIONS, AV_R_FAULTS, AV_R_MEAN_LATENCY, AV_R_MAPS, AV_R_UNMAPS,
       AV_R_MAP_PAGES, AV_R_UNMAP_PAGES, AV_R_WALKS, AV_R_WALK_READS, AV_R_DTE_READS,
       AV_R_PDC_HITS, AV_R_PDC_MISSES, AV_R_CMD_INV_PAGES, AV_R_CMD_INV_DEVTAB,
       AV_R_CMD_INV_IOTLB, AV_R_CMD_COMPLETION_WAIT, AV_R_MAP_FLUSHES, AV_R_SKIPPED_PDES,
       AV_R_NOTIFICATIONS, AV_R_NOTIFY_TIME };

static const struct sim_readout av_readouts[] = {
    [AV_R_TRANSLATIONS] = { "translations", "requests", "timed translations completed" },
    [AV_R_FAULTS] = { "faults", "requests", "of which faults" },
    [AV_R_MEAN_LATENCY] = { "mean_latency", "ps", "mean time from request to completion" },
    [AV_R_MAPS] = { "maps", "calls", "map calls" },
    [AV_R_UNMAPS] = { "unmaps", "calls", "unmap calls" },
    [AV_R_MAP_PAGES] = { "map_pages", "pages", "leaves placed by maps" },
    [AV_R_UNMAP_PAGES] = { "unmap_pages", "pages", "leaves removed by unmaps" },
    [AV_R_WALKS] = { "walks", "walks", "page-table walks (IOTLB misses)" },
    [AV_R_WALK_READS] = { "walk_reads", "reads", "page-table entries read by walks" },
    [AV_R_DTE_READS] = { "dte_reads", "reads", "device-table entries read (DTE cache misses)" },
    [AV_R_PDC_HITS] = { "pdc_hits", "lookups", "walks that started from a cached table" },
    [AV_R_PDC_MISSES] = { "pdc_misses", "lookups", "walks that started from the root" },
    [AV_R_CMD_INV_PAGES] = { "cmd_inv_pages", "commands", "INVALIDATE_IOMMU_PAGES processed" },
    [AV_R_CMD_INV_DEVTAB] = { "cmd_inv_devtab", "commands", "INVALIDATE_DEVTAB_ENTRY "
                              "processed" },
    [AV_R_CMD_INV_IOTLB] = { "cmd_inv_iotlb", "commands", "INVALIDATE_IOTLB_PAGES processed" },
    [AV_R_CMD_COMPLETION_WAIT] = { "cmd_completion_wait", "commands", "COMPLETION_WAIT "
                                   "processed" },
    [AV_R_MAP_FLUSHES] = { "map_flushes", "commands", "NpCache: flushes the driver issued "
                           "after maps" },
    [AV_R_SKIPPED_PDES] = { "skipped_pdes", "entries", "PDEs that skip levels now (not "
                            "reset)" },
    [AV_R_NOTIFICATIONS] = { "notifications", "events", "notifier callbacks made" },
    [AV_R_NOTIFY_TIME] = { "notify_time", "ps", "sum over map and unmap calls of the time "
                           "until every notifier user was done" },
};

struct amdvi_object {
    struct amdvi v;
    struct iommu_object_parts parts;    /* the IOTLB object; no Walker */
};

static int av_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    const struct sim_value *ps = &v[AV_P_PAGE_SIZES];
    bool has4k = false;
    char msg[200];
    int n = 0;

    for (uint32_t i = 0; i < ps->list.n; i++) {
        uint64_t sz = ps->list.items[i].u;

        if (sz != 4096 && sz != (UINT64_C(1) << 21) && sz != (UINT64_C(1) << 30)) {
            snprintf(msg, sizeof(msg), "not an AMD-Vi default page size (got %llu bytes, "
                     "expected 4KiB, 2MiB or 1GiB)", (unsigned long long)sz);
            report(ctx, "page_sizes", msg);
            n++;
        }
        has4k |= sz == 4096;
    }
    if (!has4k) {
        report(ctx, "page_sizes", "must include 4KiB");
        n++;
    }
    return n;
}

static int av_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *v = obj->values;
    struct amdvi_object *o;
    struct amdvi_cfg c;
    char e[300];
    int r;

    o = calloc(1, sizeof(*o));
    if (!o)
        return SIM_ENOMEM;
    r = iommu_object_parts_claim(&o->parts, obj->path, &v[AV_P_IOTLB], NULL, err, errlen);
    if (r) {
        free(o);
        return r;
    }
    memset(&c, 0, sizeof(c));
    c.levels = (unsigned)v[AV_P_LEVELS].i;
    for (uint32_t i = 0; i < v[AV_P_PAGE_SIZES].list.n; i++)
        c.pgsize_bitmap |= v[AV_P_PAGE_SIZES].list.items[i].u;
    c.skip_levels = v[AV_P_SKIP_LEVELS].b;
    c.npcache = v[AV_P_NPCACHE].b;
    c.iotlb = o->parts.tlb->cfg;
    c.pdc_entries = (unsigned)v[AV_P_PDC_ENTRIES].i;
    c.hit_latency = o->parts.tlb->hit_latency;
    c.read_latency = v[AV_P_READ_LATENCY].lat.value;
    c.cmd_time[AMDVI_CMD_INV_IOMMU_PAGES] = v[AV_P_INV_PAGES_TIME].lat.value;
    c.cmd_time[AMDVI_CMD_INV_DEVTAB_ENTRY] = v[AV_P_INV_DEVTAB_TIME].lat.value;
    c.cmd_time[AMDVI_CMD_INV_IOTLB_PAGES] = v[AV_P_INV_IOTLB_TIME].lat.value;
    c.cmd_time[AMDVI_CMD_COMPLETION_WAIT] = v[AV_P_COMPLETION_WAIT_TIME].lat.value;
    c.max_domains = (unsigned)v[AV_P_MAX_DOMAINS].i;
    c.max_devices = (unsigned)v[AV_P_MAX_DEVICES].i;
    c.path = obj->path;
    r = amdvi_create(&o->v, &w->sim, &c, e, sizeof(e));
    if (r) {
        /* validate holds every constraint: only memory can run out */
        snprintf(err, errlen, "cannot create the model (%s)", e);
        iommu_object_parts_release(&o->parts);
        free(o);
        return r;
    }
    iommu_object_parts_bind(&o->parts, &o->v.tlb, NULL);
    obj->priv = o;
    return 0;
}

static void av_destroy(struct sim_object *obj)
{
    struct amdvi_object *o = obj->priv;

    if (!o)
        return;
    iommu_object_parts_release(&o->parts);
    amdvi_destroy(&o->v);
    free(o);
    obj->priv = NULL;
}

static void av_reset_stats(struct sim_object *obj)
{
    struct amdvi_object *o = obj->priv;
    struct amdvi *a = &o->v;
    uint64_t skipped = a->st.skipped_pdes;  /* a state, not a count */

    memset(&a->st, 0, sizeof(a->st));
    a->st.skipped_pdes = skipped;
    for (unsigned i = 0; i < a->dev_hi; i++)
        if (a->dev[i].v)
            memset(&a->dev[i].mmu.st, 0, sizeof(a->dev[i].mmu.st));
}

static double av_read(const struct sim_object *obj, unsigned idx)
{
    const struct amdvi_object *o = obj->priv;
    const struct amdvi *a = &o->v;
    const struct amdvi_stats *s = &a->st;
    uint64_t sum = 0;
    double lat = 0.0;

    switch (idx) {
    case AV_R_MAPS:            return (double)s->maps;
    case AV_R_UNMAPS:          return (double)s->unmaps;
    case AV_R_MAP_PAGES:       return (double)s->map_pages;
    case AV_R_UNMAP_PAGES:     return (double)s->unmap_pages;
    case AV_R_WALKS:           return (double)s->walks;
    case AV_R_WALK_READS:      return (double)s->walk_reads;
    case AV_R_DTE_READS:       return (double)s->dte_reads;
    case AV_R_PDC_HITS:        return (double)s->pdc_hits;
    case AV_R_PDC_MISSES:      return (double)s->pdc_misses;
    case AV_R_CMD_INV_PAGES:   return (double)s->cmds[AMDVI_CMD_INV_IOMMU_PAGES];
    case AV_R_CMD_INV_DEVTAB:  return (double)s->cmds[AMDVI_CMD_INV_DEVTAB_ENTRY];
    case AV_R_CMD_INV_IOTLB:   return (double)s->cmds[AMDVI_CMD_INV_IOTLB_PAGES];
    case AV_R_CMD_COMPLETION_WAIT: return (double)s->cmds[AMDVI_CMD_COMPLETION_WAIT];
    case AV_R_MAP_FLUSHES:     return (double)s->map_flushes;
    case AV_R_SKIPPED_PDES:    return (double)s->skipped_pdes;
    case AV_R_NOTIFY_TIME:     return (double)s->notify_ticks;
    default:
        break;
    }
    for (unsigned i = 0; i < a->dev_hi; i++) {
        const struct iommu_stats *st = &a->dev[i].mmu.st;

        if (!a->dev[i].v)
            continue;
        switch (idx) {
        case AV_R_TRANSLATIONS:  sum += st->timed; break;
        case AV_R_FAULTS:        sum += st->timed_faults; break;
        case AV_R_NOTIFICATIONS: sum += st->deliveries; break;
        case AV_R_MEAN_LATENCY:  sum += st->timed; lat += st->timed_ticks; break;
        default: break;
        }
    }
    if (idx == AV_R_MEAN_LATENCY)
        return sum ? lat / (double)sum : 0.0;
    return (double)sum;
}

static const struct sim_model_ops av_ops = {
    .validate = av_validate,
    .create = av_create,
    .destroy = av_destroy,
    .reset_stats = av_reset_stats,
    .read = av_read,
};

static int av_domain(const struct sim_object *obj, unsigned id, struct iommu_domain **out,
                     char *err, size_t errlen)
{
    struct amdvi_object *o = obj->priv;

    return amdvi_domain_get(&o->v, id, out, err, errlen);
}

static int av_attach(const struct sim_object *obj, uint32_t rid, unsigned id,
                     struct iommu **out, char *err, size_t errlen)
{
    struct amdvi_object *o = obj->priv;

    return amdvi_attach(&o->v, rid, id, out, err, errlen);
}

static const struct iommu_object_ops av_iface = {
    .domain = av_domain,
    .attach = av_attach,
};

const struct sim_model amdvi_model_object = {
    .name = "AmdViIOMMU",
    .doc = "The AMD-Vi IOMMU (AMD I/O Virtualization Technology): a device table whose "
           "entries name each device's domain and table mode, I/O page tables whose "
           "directory entries may skip levels (skip_levels), an IOTLB and a page-directory "
           "cache, and a command buffer whose INVALIDATE_IOMMU_PAGES, "
           "INVALIDATE_DEVTAB_ENTRY, INVALIDATE_IOTLB_PAGES and COMPLETION_WAIT commands "
           "take time, one after the other. With npcache the driver flushes after every "
           "map (strict only) and maps send MAP events.",
    .params = av_params, .nparams = sizeof(av_params) / sizeof(av_params[0]),
    .readouts = av_readouts, .nreadouts = sizeof(av_readouts) / sizeof(av_readouts[0]),
    .ops = &av_ops,
    .implements = IOMMU_OBJECT_IFACE,
    .iface = &av_iface,
};
