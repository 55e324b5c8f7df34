/*
 * vtd_object.c - the `VTdIOMMU` model descriptor: Intel VT-d (vtd.h) as an
 * object of a config, built from its own parameters and the IOTLB, Walker
 * and Memory objects it references, and offered to devices through the
 * "IOMMU" interface (iommu/domain.h: domains and attach).
 *
 * Parameter defaults cite where they come from (docs/models/vtd.md has the
 * full table): the VT-d specification for structure and formats, Linux's
 * intel-iommu driver for the queue length and what the driver issues, QEMU's
 * intel_iommu for caching mode and the address-mask limit. Descriptor
 * processing times are not published for any part: the defaults are
 * order-of-magnitude assumptions, to be set from a measurement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/models/vtd.h"
#include "iommu/objects.h"
#include "mem/mem_object.h"
#include "stats/objstats.h"

enum { VP_IOTLB, VP_WALKER, VP_MEMORY, VP_SCALABLE, VP_PGTT, VP_AW_BITS, VP_PAGE_SIZES,
       VP_CACHING_MODE, VP_DEVICE_TLB, VP_INVALIDATION, VP_QI_LENGTH, VP_MAX_AM,
       VP_CC_TIME, VP_IOTLB_GLOBAL_TIME, VP_IOTLB_DOMAIN_TIME, VP_IOTLB_PAGE_TIME,
       VP_DEVTLB_TIME, VP_WAIT_TIME, VP_CC_ENTRIES, VP_CC_WAYS, VP_CC_LATENCY,
       VP_S2_BYTES, VP_S2_PAGE_SIZE, VP_S1_TABLE_BASE, VP_MAX_DOMAINS, VP_MAX_DEVICES };

static const char *const pgtt_names[] = { "second", "first", "nested", NULL };
static const char *const inval_names[] = { "queued", "register", NULL };

static const struct sim_param vp_params[] = {
    [VP_IOTLB] = {
        .name = "iotlb", .type = SIM_PT_REF, .ref_model = "IOTLB",
        .doc = "the IOTLB object whose settings this IOMMU's IOTLB takes (tags: domain id, "
               "PASID, page; one IOTLB per IOMMU)",
    },
    [VP_WALKER] = {
        .name = "walker", .type = SIM_PT_REF, .ref_model = "Walker",
        .doc = "the Walker object whose settings the page walker and its paging-structure "
               "caches take (one Walker per IOMMU)",
    },
    [VP_MEMORY] = {
        .name = "memory", .type = SIM_PT_REF, .ref_model = "Memory",
        .doc = "the Memory that root, context, PASID and page-table entries are read from",
    },
    [VP_SCALABLE] = {
        .name = "scalable", .type = SIM_PT_BOOL, .def = "false",
        .doc = "scalable mode (VT-d spec 3.4.3, 9.4-9.6: scalable-mode context entries, "
               "PASID directory and PASID tables; 4 reads per context-cache miss) instead "
               "of legacy mode (3.4.2: root and context entry, 2 reads)",
    },
    [VP_PGTT] = {
        .name = "pgtt", .type = SIM_PT_ENUM, .def = "second", .choices = pgtt_names,
        .doc = "scalable mode's PASID-entry translation type (spec 9.6 PGTT): second "
               "(second-level tables), first (first-level tables) or nested (first-level "
               "over second-level, the 2-D walk of spec 3.8); legacy mode is second",
    },
    [VP_AW_BITS] = {
        .name = "aw_bits", .type = SIM_PT_INT, .def = "48", .min = "39", .max = "57",
        .doc = "input address width: 39, 48 or 57 bits, i.e. 3, 4 or 5-level tables "
               "(spec 3.6, 3.7: SAGAW / 4- and 5-level paging; QEMU's aw-bits)",
    },
    [VP_PAGE_SIZES] = {
        .name = "page_sizes", .type = SIM_PT_SIZE, .def = "4KiB,2MiB,1GiB",
        .flags = SIM_PF_LIST,
        .doc = "page sizes a mapping may use (spec 3.6: super-page support SLLPS / FL1GP); "
               "map picks the largest that alignment allows",
    },
    [VP_CACHING_MODE] = {
        .name = "caching_mode", .type = SIM_PT_BOOL, .def = "false",
        .doc = "CM=1 (spec 6.1, a virtual IOMMU: QEMU's caching-mode=on): the guest "
               "invalidates after every map and runs strict (Linux), so maps are seen and "
               "sent as MAP events; off: MAP notifiers are refused",
    },
    [VP_DEVICE_TLB] = {
        .name = "device_tlb", .type = SIM_PT_BOOL, .def = "false",
        .doc = "context entries enable device TLBs (ATS, spec 4.1): every strict unmap and "
               "flush also queues a device-TLB invalidation per device of the domain, "
               "whose processing sends DEVIOTLB_UNMAP",
    },
    [VP_INVALIDATION] = {
        .name = "invalidation", .type = SIM_PT_ENUM, .def = "queued", .choices = inval_names,
        .doc = "queued (spec 6.5.2: a descriptor ring, each flush ends with a wait "
               "descriptor) or register (6.5.1: one command at a time, polled)",
    },
    [VP_QI_LENGTH] = {
        .name = "qi_length", .type = SIM_PT_INT, .def = "256", .min = "2", .max = "32768",
        .doc = "descriptors in the invalidation queue (Linux QI_LENGTH = 256, "
               "drivers/iommu/intel/iommu.h); a full ring makes the driver wait",
    },
    [VP_MAX_AM] = {
        .name = "max_am", .type = SIM_PT_INT, .def = "18", .min = "0", .max = "52",
        .doc = "largest address mask of a page-selective invalidation (capability MAMV, "
               "spec 11.4.2; QEMU's VTD_MAMV = 18); wider ranges use a domain-selective one",
    },
    [VP_CC_TIME] = {
        .name = "cc_desc_time", .type = SIM_PT_LATENCY, .def = "200ns",
        .flags = SIM_PF_NO_CYCLES,
        .doc = "processing time of a context-cache invalidation descriptor (an assumption: "
               "no part publishes it)",
    },
    [VP_IOTLB_GLOBAL_TIME] = {
        .name = "iotlb_global_time", .type = SIM_PT_LATENCY, .def = "200ns",
        .flags = SIM_PF_NO_CYCLES,
        .doc = "processing time of a global IOTLB invalidation descriptor (an assumption)",
    },
    [VP_IOTLB_DOMAIN_TIME] = {
        .name = "iotlb_domain_time", .type = SIM_PT_LATENCY, .def = "200ns",
        .flags = SIM_PF_NO_CYCLES,
        .doc = "processing time of a domain-selective IOTLB invalidation descriptor "
               "(an assumption)",
    },
    [VP_IOTLB_PAGE_TIME] = {
        .name = "iotlb_page_time", .type = SIM_PT_LATENCY, .def = "200ns",
        .flags = SIM_PF_NO_CYCLES,
        .doc = "processing time of a page-selective IOTLB invalidation descriptor, "
               "before any notifier users' work it causes (an assumption)",
    },
    [VP_DEVTLB_TIME] = {
        .name = "devtlb_time", .type = SIM_PT_LATENCY, .def = "1us",
        .flags = SIM_PF_NO_CYCLES,
        .doc = "processing time of a device-TLB invalidation descriptor: the ATS "
               "invalidate request and its completion over PCIe (an assumption)",
    },
    [VP_WAIT_TIME] = {
        .name = "wait_time", .type = SIM_PT_LATENCY, .def = "100ns",
        .flags = SIM_PF_NO_CYCLES,
        .doc = "processing time of an invalidation-wait descriptor (its status write) "
               "once every earlier descriptor is done (an assumption)",
    },
    [VP_CC_ENTRIES] = {
        .name = "cc_entries", .type = SIM_PT_INT, .def = "64", .min = "1", .max = "65536",
        .doc = "context-cache entries, keyed by (requester, PASID); in scalable mode it "
               "stands for the context and PASID caches (spec 6.2.1, 6.2.2); the size "
               "is an assumption (QEMU's is unbounded)",
    },
    [VP_CC_WAYS] = {
        .name = "cc_ways", .type = SIM_PT_INT, .def = "0", .min = "0", .max = "65536",
        .doc = "context-cache associativity: divides cc_entries into a power-of-two "
               "number of sets; 0 for fully associative (LRU)",
    },
    [VP_CC_LATENCY] = {
        .name = "cc_latency", .type = SIM_PT_LATENCY, .def = "1ns", .flags = SIM_PF_NO_CYCLES,
        .doc = "context-cache lookup time, before the IOTLB lookup (an assumption)",
    },
    [VP_S2_BYTES] = {
        .name = "s2_bytes", .type = SIM_PT_SIZE, .def = "1TiB",
        .doc = "pgtt nested: guest-physical memory the second-level table identity-maps "
               "(DMA buffers and first-level tables must lie in it)",
    },
    [VP_S2_PAGE_SIZE] = {
        .name = "s2_page_size", .type = SIM_PT_SIZE, .def = "1GiB",
        .doc = "pgtt nested: the second-level leaf size (4KiB, 2MiB or 1GiB; a host "
               "backing its guest with 1 GiB pages by default); 4KiB gives the 24-read "
               "cold 4x4 walk",
    },
    [VP_S1_TABLE_BASE] = {
        .name = "s1_table_base", .type = SIM_PT_SIZE, .def = "512GiB",
        .doc = "pgtt nested: guest-physical address of domain 0's first-level tables; "
               "domain d's start 4GiB x d above; all must lie below s2_bytes",
    },
    [VP_MAX_DOMAINS] = {
        .name = "max_domains", .type = SIM_PT_INT, .def = "64", .min = "1", .max = "65536",
        .doc = "domain ids 0 .. max_domains - 1 (16-bit DIDs at most, spec 9.3)",
    },
    [VP_MAX_DEVICES] = {
        .name = "max_devices", .type = SIM_PT_INT, .def = "256", .min = "1", .max = "65536",
        .doc = "requester ids (bus << 8 | devfn) 0 .. max_devices - 1 that can be attached",
    },
};

enum { VR_TRANSLATIONS, VR_FAULTS, VR_MEAN_LATENCY, VR_MAPS, VR_UNMAPS, VR_MAP_PAGES,
       VR_UNMAP_PAGES, VR_MAP_INVALS, VR_CC_LOOKUPS, VR_CC_HITS, VR_CC_MISSES,
       VR_CC_HIT_RATE, VR_CTX_FETCHES, VR_CTX_READS, VR_CTX_FAULTS, VR_DESC_CC,
       VR_DESC_IOTLB_GLOBAL, VR_DESC_IOTLB_DOMAIN, VR_DESC_IOTLB_PAGE, VR_DESC_DEVTLB,
       VR_DESC_WAIT, VR_QI_WAITS, VR_QI_WAIT_MEAN, VR_QI_WAIT_MAX, VR_QI_OCC_MEAN,
       VR_QI_OCC_MAX, VR_QI_FULL_STALLS, VR_QI_BUSY, VR_EV_MAP, VR_EV_UNMAP,
       VR_EV_DEVIOTLB, VR_NOTIFICATIONS, VR_NOTIFY_TIME, VR_REPLAYS, VR_REPLAY_MAPS,
       VR_MSHR_STALLS };

static const struct sim_readout vp_readouts[] = {
    [VR_TRANSLATIONS] = { "translations", "requests", "timed translations completed "
                          "since the last reset (every device)" },
    [VR_FAULTS] = { "faults", "requests", "of which faults (no context entry, no "
                    "mapping or no permission)" },
    [VR_MEAN_LATENCY] = { "mean_latency", "ps", "mean time from request to completion "
                          "of those translations (0 without any)" },
    [VR_MAPS] = { "maps", "calls", "domain map calls" },
    [VR_UNMAPS] = { "unmaps", "calls", "domain unmap calls that removed something" },
    [VR_MAP_PAGES] = { "map_pages", "pages", "leaves placed by maps" },
    [VR_UNMAP_PAGES] = { "unmap_pages", "pages", "leaves removed by unmaps" },
    [VR_MAP_INVALS] = { "map_invalidations", "commands", "invalidations the guest issues "
                        "after maps under caching mode" },
    [VR_CC_LOOKUPS] = { "cc_lookups", "lookups", "context-cache lookups" },
    [VR_CC_HITS] = { "cc_hits", "lookups", "context-cache hits" },
    [VR_CC_MISSES] = { "cc_misses", "lookups", "context-cache misses (requests that "
                       "joined a fetch in flight included)" },
    [VR_CC_HIT_RATE] = { "cc_hit_rate", "ratio", "context-cache hits / lookups (0 "
                         "without lookups)" },
    [VR_CTX_FETCHES] = { "ctx_fetches", "fetches", "context (and PASID) entry fetches "
                         "through memory" },
    [VR_CTX_READS] = { "ctx_reads", "reads", "root, context, PASID-directory and "
                       "PASID-table entry reads" },
    [VR_CTX_FAULTS] = { "ctx_faults", "requests", "requests whose requester has no "
                        "present context entry" },
    [VR_DESC_CC] = { "desc_context", "descriptors", "context-cache invalidations processed" },
    [VR_DESC_IOTLB_GLOBAL] = { "desc_iotlb_global", "descriptors", "global IOTLB "
                               "invalidations processed" },
    [VR_DESC_IOTLB_DOMAIN] = { "desc_iotlb_domain", "descriptors", "domain-selective IOTLB "
                               "invalidations processed" },
    [VR_DESC_IOTLB_PAGE] = { "desc_iotlb_page", "descriptors", "page-selective IOTLB "
                             "invalidations processed" },
    [VR_DESC_DEVTLB] = { "desc_devtlb", "descriptors", "device-TLB invalidations processed" },
    [VR_DESC_WAIT] = { "desc_wait", "descriptors", "invalidation-wait descriptors processed" },
    [VR_QI_WAITS] = { "qi_waits", "waits", "driver waits for invalidation completion" },
    [VR_QI_WAIT_MEAN] = { "qi_wait_mean", "ps", "mean time from submission to the "
                          "completion the driver waits for" },
    [VR_QI_WAIT_MAX] = { "qi_wait_max", "ps", "longest such wait" },
    [VR_QI_OCC_MEAN] = { "qi_occupancy_mean", "descriptors", "mean descriptors pending "
                         "when one is posted" },
    [VR_QI_OCC_MAX] = { "qi_occupancy_max", "descriptors", "most descriptors pending "
                        "when one is posted" },
    [VR_QI_FULL_STALLS] = { "qi_full_stalls", "descriptors", "posts that found the ring "
                            "full and waited for a slot" },
    [VR_QI_BUSY] = { "qi_busy_time", "ps", "time the invalidation hardware spent "
                     "processing descriptors (users' work included)" },
    [VR_EV_MAP] = { "events_map", "events", "MAP events sent (caching mode)" },
    [VR_EV_UNMAP] = { "events_unmap", "events", "UNMAP events sent by unmaps" },
    [VR_EV_DEVIOTLB] = { "events_deviotlb", "events", "DEVIOTLB_UNMAP events sent by "
                         "device-TLB invalidations" },
    [VR_NOTIFICATIONS] = { "notifications", "events", "notifier callbacks made (every "
                           "device, replays included)" },
    [VR_NOTIFY_TIME] = { "notify_time", "ps", "notifier users' work caused by maps, "
                         "unmaps and invalidations" },
    [VR_REPLAYS] = { "replays", "calls", "replays (each: one UNMAP of the notifier's "
                     "range, then a table walk)" },
    [VR_REPLAY_MAPS] = { "replay_maps", "events", "MAP events sent by replays" },
    [VR_MSHR_STALLS] = { "mshr_stalls", "requests", "misses that waited for a free MSHR" },
};

static const uint64_t *vp_counter(struct vtd *v, unsigned idx);

struct vtd_object {
    struct vtd v;               /* first: vtd_from_object is a cast-free member */
    struct iommu_object_parts parts;    /* the IOTLB and Walker objects */
};

static bool level_size(uint64_t sz, unsigned levels)
{
    for (unsigned l = 1; l <= levels; l++)
        if (sz == pgtable_level_size(l))
            return true;
    return false;
}

static int vp_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    const struct sim_value *ps = &v[VP_PAGE_SIZES];
    int64_t aw = v[VP_AW_BITS].i;
    unsigned levels = aw == 39 || aw == 48 || aw == 57 ? vtd_levels((unsigned)aw) : 4;
    bool has4k = false, nested = v[VP_PGTT].e == VTD_PGTT_NESTED;
    char msg[300];
    int n = 0;

    if (aw != 39 && aw != 48 && aw != 57) {
        snprintf(msg, sizeof(msg), "not a VT-d address width (got %lld, expected 39, 48 "
                 "or 57)", (long long)aw);
        report(ctx, "aw_bits", msg);
        n++;
    }
    for (uint32_t i = 0; i < ps->list.n; i++) {
        uint64_t sz = ps->list.items[i].u;

        if (!level_size(sz, levels) || sz > (UINT64_C(1) << 30)) {
            snprintf(msg, sizeof(msg), "not a VT-d page size (got %llu bytes, expected "
                     "4KiB, 2MiB or 1GiB)", (unsigned long long)sz);
            report(ctx, "page_sizes", msg);
            n++;
        }
        has4k |= sz == 4096;
    }
    if (!has4k) {
        report(ctx, "page_sizes", "must include 4KiB (the granule every table maps)");
        n++;
    }
    if (!v[VP_SCALABLE].b && v[VP_PGTT].e != VTD_PGTT_SECOND) {
        report(ctx, "pgtt", "first and nested need scalable=True (legacy mode translates "
               "with second-level tables only)");
        n++;
    }
    if (v[VP_INVALIDATION].e == 1 && v[VP_DEVICE_TLB].b) {
        report(ctx, "device_tlb", "needs invalidation='queued' (device-TLB invalidation "
               "exists only as a queued descriptor)");
        n++;
    }
    if (v[VP_CC_WAYS].i) {
        int64_t e = v[VP_CC_ENTRIES].i, w = v[VP_CC_WAYS].i, sets = e / w;

        if (e % w || (sets & (sets - 1))) {
            snprintf(msg, sizeof(msg), "must divide cc_entries into a power-of-two number "
                     "of sets (got %lld ways for %lld entries)", (long long)w, (long long)e);
            report(ctx, "cc_ways", msg);
            n++;
        }
    }
    if (nested) {
        uint64_t s2 = v[VP_S2_BYTES].u, pg = v[VP_S2_PAGE_SIZE].u, base = v[VP_S1_TABLE_BASE].u;
        uint64_t need = base + (uint64_t)v[VP_MAX_DOMAINS].i * (UINT64_C(1) << 32);

        if (pg != 4096 && pg != (UINT64_C(1) << 21) && pg != (UINT64_C(1) << 30)) {
            report(ctx, "s2_page_size", "expected 4KiB, 2MiB or 1GiB");
            n++;
        } else if (!s2 || s2 % pg || (levels < 5 && s2 > (UINT64_C(1) << (12 + 9 * levels)))) {
            snprintf(msg, sizeof(msg), "expected a non-zero multiple of s2_page_size within "
                     "2^aw_bits (got %llu bytes)", (unsigned long long)s2);
            report(ctx, "s2_bytes", msg);
            n++;
        }
        if (base % 4096 || need > s2) {
            snprintf(msg, sizeof(msg), "first-level tables must lie in guest memory (got "
                     "s1_table_base 0x%llx + max_domains x 4GiB = 0x%llx, expected 4KiB-"
                     "aligned and <= s2_bytes 0x%llx)", (unsigned long long)base,
                     (unsigned long long)need, (unsigned long long)s2);
            report(ctx, "s1_table_base", msg);
            n++;
        }
    }
    return n;
}

static int vp_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *v = obj->values;
    struct vtd_object *o;
    struct vtd_cfg c;
    struct mem *mem = mem_object_mem(v[VP_MEMORY].ref.obj);
    unsigned levels = vtd_levels((unsigned)v[VP_AW_BITS].i);
    char e[300];
    int r;

    if (!mem) {
        snprintf(err, errlen, "memory: not a created Memory object");
        return SIM_EINVAL;
    }
    o = calloc(1, sizeof(*o));
    if (!o)
        return SIM_ENOMEM;
    r = iommu_object_parts_claim(&o->parts, obj->path, &v[VP_IOTLB], &v[VP_WALKER],
                                 err, errlen);
    if (r)
        goto err_free;
    if (o->parts.walker->npwc > levels - 1) {
        snprintf(err, errlen, "walker: %s has paging-structure caches for %u depths but "
                 "%lld-bit tables have %u levels (expected at most %u pwc_entries items)",
                 v[VP_WALKER].ref.obj->path, o->parts.walker->npwc, (long long)v[VP_AW_BITS].i,
                 levels, levels - 1);
        r = SIM_EINVAL;
        goto err_parts;
    }

    memset(&c, 0, sizeof(c));
    c.scalable = v[VP_SCALABLE].b;
    c.pgtt = (enum vtd_pgtt)v[VP_PGTT].e;
    c.aw_bits = (unsigned)v[VP_AW_BITS].i;
    for (uint32_t i = 0; i < v[VP_PAGE_SIZES].list.n; i++)
        c.pgsize_bitmap |= v[VP_PAGE_SIZES].list.items[i].u;
    c.caching_mode = v[VP_CACHING_MODE].b;
    c.device_tlb = v[VP_DEVICE_TLB].b;
    c.max_am = (unsigned)v[VP_MAX_AM].i;
    c.qi.registers = v[VP_INVALIDATION].e == 1;
    c.qi.length = (unsigned)v[VP_QI_LENGTH].i;
    c.qi.time[VTD_DESC_CC] = v[VP_CC_TIME].lat.value;
    c.qi.time[VTD_DESC_IOTLB_GLOBAL] = v[VP_IOTLB_GLOBAL_TIME].lat.value;
    c.qi.time[VTD_DESC_IOTLB_DOMAIN] = v[VP_IOTLB_DOMAIN_TIME].lat.value;
    c.qi.time[VTD_DESC_IOTLB_PAGE] = v[VP_IOTLB_PAGE_TIME].lat.value;
    c.qi.time[VTD_DESC_DEVTLB] = v[VP_DEVTLB_TIME].lat.value;
    c.qi.time[VTD_DESC_WAIT] = v[VP_WAIT_TIME].lat.value;
    c.iotlb = o->parts.tlb->cfg;
    c.walk = o->parts.walker->cfg;
    c.hit_latency = o->parts.tlb->hit_latency;
    c.lookup_ports = o->parts.tlb->lookup_ports;
    c.lookup_cycle = o->parts.tlb->lookup_cycle;
    c.cc_entries = (unsigned)v[VP_CC_ENTRIES].i;
    c.cc_ways = (unsigned)v[VP_CC_WAYS].i;
    c.cc_latency = v[VP_CC_LATENCY].lat.value;
    c.s2_bytes = v[VP_S2_BYTES].u;
    c.s2_page_size = v[VP_S2_PAGE_SIZE].u;
    c.s1_table_base = v[VP_S1_TABLE_BASE].u;
    c.max_domains = (unsigned)v[VP_MAX_DOMAINS].i;
    c.max_devices = (unsigned)v[VP_MAX_DEVICES].i;
    c.path = obj->path;
    r = vtd_create(&o->v, &w->sim, mem, &c, e, sizeof(e));
    if (r) {
        snprintf(err, errlen, "cannot create the model (%s)", e);
        goto err_parts;
    }
    iommu_object_parts_bind(&o->parts, &o->v.tlb, &o->v.walker);
    obj->priv = o;
    return 0;

err_parts:
    iommu_object_parts_release(&o->parts);
err_free:
    free(o);
    return r;
}

static void vp_destroy(struct sim_object *obj)
{
    struct vtd_object *o = obj->priv;

    if (!o)
        return;
    iommu_object_parts_release(&o->parts);
    vtd_destroy(&o->v);
    free(o);
    obj->priv = NULL;
}

static void vp_reset_stats(struct sim_object *obj)
{
    struct vtd_object *o = obj->priv;
    struct vtd *v = &o->v;

    memset(&v->st, 0, sizeof(v->st));
    vtd_qi_reset_stats(&v->qi);
    iotlb_reset_stats(&v->cc);
    for (unsigned i = 0; i < v->cfg.max_devices; i++)
        if (v->dev[i].v)
            memset(&v->dev[i].mmu.st, 0, sizeof(v->dev[i].mmu.st));
}

static double vp_read(const struct sim_object *obj, unsigned idx)
{
    const struct vtd_object *o = obj->priv;
    const struct vtd *v = &o->v;
    const struct vtd_qi_stats *q = &v->qi.st;
    uint64_t sum = 0;
    double lat = 0.0;
    const uint64_t *c = vp_counter((struct vtd *)v, idx);
    unsigned i;

    if (c)
        return (double)*c;
    switch (idx) {
    case VR_CC_LOOKUPS:     return (double)v->cc.st.lookups;
    case VR_CC_HITS:        return (double)v->cc.st.hits;
    case VR_CC_MISSES:      return (double)v->cc.st.misses;
    case VR_CC_HIT_RATE:    return iotlb_hit_rate(&v->cc);
    case VR_QI_WAIT_MEAN:   return q->syncs ? q->wait_sum / (double)q->syncs : 0.0;
    case VR_QI_WAIT_MAX:    return (double)q->wait_max;
    case VR_QI_OCC_MEAN: {
        uint64_t posted = 0;

        for (i = 0; i < VTD_DESC_NTYPES; i++)
            posted += q->desc[i];
        return posted ? q->occ_sum / (double)posted : 0.0;
    }
    case VR_QI_BUSY:        return q->busy;
    default:
        break;
    }
    for (i = 0; i < v->cfg.max_devices; i++) {
        const struct iommu_stats *s = &v->dev[i].mmu.st;

        if (!v->dev[i].v)
            continue;
        switch (idx) {
        case VR_TRANSLATIONS:  sum += s->timed; break;
        case VR_FAULTS:        sum += s->timed_faults; break;
        case VR_NOTIFICATIONS: sum += s->deliveries; break;
        case VR_MEAN_LATENCY:  sum += s->timed; lat += s->timed_ticks; break;
        default: break;
        }
    }
    if (idx == VR_MEAN_LATENCY)
        return sum ? lat / (double)sum : 0.0;
    return (double)sum;
}

/* The plain counters: registered by reference, and what read returns. */
static const uint64_t *vp_counter(struct vtd *v, unsigned idx)
{
    switch (idx) {
    case VR_MAPS:              return &v->st.maps;
    case VR_UNMAPS:            return &v->st.unmaps;
    case VR_MAP_PAGES:         return &v->st.map_pages;
    case VR_UNMAP_PAGES:       return &v->st.unmap_pages;
    case VR_MAP_INVALS:        return &v->st.map_invals;
    case VR_CTX_FETCHES:       return &v->st.ctx_fetches;
    case VR_CTX_READS:         return &v->st.ctx_reads;
    case VR_CTX_FAULTS:        return &v->st.ctx_faults;
    case VR_DESC_CC:           return &v->qi.st.desc[VTD_DESC_CC];
    case VR_DESC_IOTLB_GLOBAL: return &v->qi.st.desc[VTD_DESC_IOTLB_GLOBAL];
    case VR_DESC_IOTLB_DOMAIN: return &v->qi.st.desc[VTD_DESC_IOTLB_DOMAIN];
    case VR_DESC_IOTLB_PAGE:   return &v->qi.st.desc[VTD_DESC_IOTLB_PAGE];
    case VR_DESC_DEVTLB:       return &v->qi.st.desc[VTD_DESC_DEVTLB];
    case VR_DESC_WAIT:         return &v->qi.st.desc[VTD_DESC_WAIT];
    case VR_QI_WAITS:          return &v->qi.st.syncs;
    case VR_QI_OCC_MAX:        return &v->qi.st.occ_max;
    case VR_QI_FULL_STALLS:    return &v->qi.st.full_stalls;
    case VR_EV_MAP:            return &v->st.ev_map;
    case VR_EV_UNMAP:          return &v->st.ev_unmap;
    case VR_EV_DEVIOTLB:       return &v->st.ev_deviotlb;
    case VR_NOTIFY_TIME:       return &v->st.notify_ticks;
    case VR_REPLAYS:           return &v->st.replays;
    case VR_REPLAY_MAPS:       return &v->st.replay_maps;
    case VR_MSHR_STALLS:       return &v->st.mshr_stalls;
    default:                   return NULL;
    }
}

/* Plain counters by reference; sums over devices, means and cache rates
 * through read at each dump. */
static int vp_register_stats(struct sim_object *obj, void *reg)
{
    struct vtd_object *o = obj->priv;
    uint64_t done = 0;
    int rc = 0;

    for (unsigned i = 0; !rc && i < sizeof(vp_readouts) / sizeof(vp_readouts[0]); i++) {
        const uint64_t *src = vp_counter(&o->v, i);

        if (src)
            rc = stats_object_readout_counter(reg, obj, i, src, &done);
    }
    return rc ? rc : stats_object_readouts(reg, obj, done);
}

static const struct sim_model_ops vp_ops = {
    .validate = vp_validate,
    .create = vp_create,
    .destroy = vp_destroy,
    .reset_stats = vp_reset_stats,
    .read = vp_read,
    .register_stats = vp_register_stats,
};

static int vp_domain(const struct sim_object *obj, unsigned id, struct iommu_domain **out,
                     char *err, size_t errlen)
{
    struct vtd_object *o = obj->priv;
    int r = vtd_domain_get(&o->v, id, out, err, errlen);

    if (r == SIM_ERANGE)
        snprintf(err, errlen, "domain: beyond the IOMMU's domains (got %u, expected < "
                 "max_domains = %u of %s)", id, o->v.cfg.max_domains, obj->path);
    return r;
}

static int vp_attach(const struct sim_object *obj, uint32_t rid, unsigned id,
                     struct iommu **out, char *err, size_t errlen)
{
    struct vtd_object *o = obj->priv;

    return vtd_attach(&o->v, rid, id, out, err, errlen);
}

static const struct iommu_object_ops vp_iface = {
    .domain = vp_domain,
    .attach = vp_attach,
};

const struct sim_model vtd_model_object = {
    .name = "VTdIOMMU",
    .doc = "Intel VT-d (docs/models/vtd.md): root and context tables with a context "
           "cache, legacy mode (second-level tables) or scalable mode (PASID tables; "
           "first-level, second-level or nested 2-D translation), an IOTLB tagged by "
           "domain id and PASID, paging-structure caches in the Walker, and timed "
           "register-based or queued invalidation (a 256-descriptor ring by default, "
           "each flush ending with a wait descriptor). With caching_mode (a virtual "
           "VT-d) the guest invalidates after every map and runs strict, and the model "
           "sends MAP events; without it MAP notifiers are refused. Its replay walks the "
           "domain's tables after unmapping the notifier's range, as QEMU's does.",
    .params = vp_params, .nparams = sizeof(vp_params) / sizeof(vp_params[0]),
    .readouts = vp_readouts, .nreadouts = sizeof(vp_readouts) / sizeof(vp_readouts[0]),
    .ops = &vp_ops,
    .implements = IOMMU_OBJECT_IFACE,
    .iface = &vp_iface,
};

struct vtd *vtd_from_object(const struct sim_object *obj)
{
    struct vtd_object *o;

    if (!obj || obj->model != &vtd_model_object || !obj->priv)
        return NULL;
    o = obj->priv;
    return &o->v;
}
