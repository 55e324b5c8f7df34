/*
 * fixed_iommu.c - an out-of-tree IOMMU model: FixedLatencyIOMMU.
 *
 * The smallest IOMMU that a DmaDevice and the OS DMA layer can use: one
 * radix page table per domain (iommusim's pgtable), no caches, and every
 * timed translation answered `latency` after it arrives, hit or miss. It is
 * built outside iommusim's tree against the installed headers and library
 * (see Makefile and docs/plugins.md) and loaded with `iommusim --plugin`.
 *
 * What it shows: the two symbols a plugin defines, the iommu_ops a model
 * implements (translate, translate_timed), the OS side (iommu/domain.h:
 * map, unmap with its UNMAP notifications, flush_all, lookup), the model
 * descriptor that makes it a Python class with parameters, and counters
 * registered with the statistics registry by reference.
 *
 * Requesters: attach(rid, d) gives every requester of domain d the
 * domain's one address space (struct iommu). Timing: the table is read
 * when the request arrives and the answer is delivered `latency` later; a
 * translation therefore costs exactly `latency`, which is what makes this
 * model a useful baseline (an IOMMU with a perfect, fixed-cost TLB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/domain.h"
#include "mem/pgtable.h"
#include "plugin/plugin.h"
#include "stats/objstats.h"

enum { FX_P_LATENCY, FX_P_DOMAINS, FX_P_LEVELS };

static const struct sim_param fx_params[] = {
    [FX_P_LATENCY] = {
        .name = "latency", .type = SIM_PT_LATENCY, .def = "50ns", .flags = SIM_PF_NO_CYCLES,
        .doc = "time from a translation request to its answer, hit or fault",
    },
    [FX_P_DOMAINS] = {
        .name = "domains", .type = SIM_PT_INT, .def = "4", .min = "1", .max = "1024",
        .doc = "number of domains (each a page table); domain ids 0 .. domains-1",
    },
    [FX_P_LEVELS] = {
        .name = "levels", .type = SIM_PT_INT, .def = "4", .min = "3", .max = "5",
        .doc = "page-table levels: IOVAs of 39, 48 or 57 bits",
    },
};

enum { FX_R_TRANSLATIONS, FX_R_FAULTS, FX_R_MAPS, FX_R_UNMAPS, FX_R_UNMAP_EVENTS };

static const struct sim_readout fx_readouts[] = {
    [FX_R_TRANSLATIONS] = { "translations", "requests", "timed translations answered" },
    [FX_R_FAULTS] = { "faults", "requests", "timed translations that found no mapping" },
    [FX_R_MAPS] = { "maps", "calls", "domain map calls that succeeded" },
    [FX_R_UNMAPS] = { "unmaps", "calls", "domain unmap calls that succeeded" },
    [FX_R_UNMAP_EVENTS] = { "unmap_events", "events", "UNMAP notifications sent (one "
                            "per page removed)" },
};

struct fx_stats {
    uint64_t translations, faults, maps, unmaps, unmap_events;
};

struct fx_domain {
    struct iommu mmu;               /* what the domain's requesters translate in */
    struct iommu_domain dom;        /* what the OS maps into */
    struct pgtable pt;
    struct fx_iommu *fx;
};

struct fx_iommu {
    sim_tick_t latency;
    unsigned ndomains;
    struct fx_domain *d;
    struct fx_stats st;
};

static struct fx_domain *mmu_dom(struct iommu *mmu)
{
    return (struct fx_domain *)((char *)mmu - offsetof(struct fx_domain, mmu));
}

/* --- The device side: iommu_ops ------------------------------------------ */

static struct iommu_tlb_entry fx_lookup_entry(const struct fx_domain *d, uint64_t iova)
{
    struct iommu_tlb_entry e = { .iova = iova & ~UINT64_C(0xfff), .addr_mask = 0xfff };
    struct pgtable_result r;

    if (pgtable_lookup(&d->pt, iova, &r) == 0) {
        e.iova = iova & ~r.addr_mask;
        e.translated_addr = r.translated_addr;
        e.addr_mask = r.addr_mask;
        e.perm = r.perm;            /* PGTABLE_PERM_R/W are IOMMU_RO/WO */
    }
    return e;
}

static struct iommu_tlb_entry fx_translate(struct iommu *mmu, uint64_t iova, unsigned flag,
                                           unsigned iommu_idx)
{
    struct iommu_tlb_entry e = fx_lookup_entry(mmu_dom(mmu), iova);

    (void)iommu_idx;
    if (flag != IOMMU_NONE && (e.perm & flag) != flag)
        e.perm = IOMMU_NONE;
    return e;
}

static int fx_translate_timed(struct iommu *mmu, struct iommu_req *req)
{
    struct fx_domain *d = mmu_dom(mmu);
    struct iommu_tlb_entry e = fx_translate(mmu, req->iova, req->access, req->iommu_idx);

    d->fx->st.translations++;
    d->fx->st.faults += e.perm == IOMMU_NONE;
    iommu_req_complete(mmu, req, &e, sim_now(mmu->sim) + d->fx->latency);
    return 0;
}

static const struct iommu_ops fx_iommu_ops = {
    .translate = fx_translate,
    .translate_timed = fx_translate_timed,
};

/* --- The OS side: iommu_domain_ops ---------------------------------------- */

static int fxd_map(struct iommu_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
                   unsigned perm, sim_tick_t at, sim_tick_t *done)
{
    struct fx_domain *d = dom->model;
    int r = pgtable_map(&d->pt, iova, pa, size, perm);

    *done = at;                     /* nothing cached: nothing to invalidate */
    d->fx->st.maps += r == 0;
    return r;
}

struct fx_unmap_ctx {
    struct fx_domain *d;
    sim_tick_t done;
};

/* B11: each removed page is announced to the notifier users (a device
 * TLB, a VFIO shadow), whose work ends at the returned tick. */
static void fx_unmapped(void *arg, uint64_t iova, const struct pgtable_result *old)
{
    struct fx_unmap_ctx *c = arg;
    struct iommu_event ev = { .type = IOMMU_NOTIFIER_UNMAP, .entry = {
        .iova = iova, .translated_addr = old->translated_addr, .addr_mask = old->addr_mask,
        .perm = IOMMU_NONE } };
    sim_tick_t t = iommu_notify(&c->d->mmu, 0, &ev);

    c->d->fx->st.unmap_events++;
    if (t > c->done)
        c->done = t;
}

static int fxd_unmap(struct iommu_domain *dom, uint64_t iova, uint64_t size, unsigned flags,
                     sim_tick_t at, sim_tick_t *done)
{
    struct fx_domain *d = dom->model;
    struct fx_unmap_ctx c = { .d = d, .done = at };
    uint64_t bytes = 0;
    int r;

    (void)flags;                    /* no IOTLB: strict and lazy are the same */
    r = pgtable_unmap(&d->pt, iova, size, fx_unmapped, &c, &bytes);
    if (!r && !bytes)
        r = SIM_ENOENT;
    d->fx->st.unmaps += r == 0;
    *done = c.done;
    return r;
}

static sim_tick_t fxd_flush_all(struct iommu_domain *dom, sim_tick_t at)
{
    (void)dom;
    return at;
}

static struct iommu_tlb_entry fxd_lookup(struct iommu_domain *dom, uint64_t iova)
{
    return fx_lookup_entry(dom->model, iova);
}

static const struct iommu_domain_ops fx_domain_ops = {
    .map = fxd_map,
    .unmap = fxd_unmap,
    .flush_all = fxd_flush_all,
    .lookup = fxd_lookup,
};

/* --- What devices and the OS layer call: iommu_object_ops ----------------- */

static int fx_domain(const struct sim_object *obj, unsigned id, struct iommu_domain **out,
                     char *err, size_t errlen)
{
    struct fx_iommu *fx = obj->priv;

    if (id >= fx->ndomains) {
        snprintf(err, errlen, "domain: beyond the IOMMU's domains (got %u, expected < "
                 "domains = %u of %s)", id, fx->ndomains, obj->path);
        return SIM_ERANGE;
    }
    *out = &fx->d[id].dom;
    return 0;
}

static int fx_attach(const struct sim_object *obj, uint32_t rid, unsigned id,
                     struct iommu **out, char *err, size_t errlen)
{
    struct iommu_domain *dom;
    int r = fx_domain(obj, id, &dom, err, errlen);

    (void)rid;                      /* every requester of a domain shares its tables */
    if (!r)
        *out = &((struct fx_domain *)dom->model)->mmu;
    return r;
}

static const struct iommu_object_ops fx_iface = {
    .domain = fx_domain,
    .attach = fx_attach,
};

/* --- Lifecycle and statistics --------------------------------------------- */

static void fx_destroy(struct sim_object *obj)
{
    struct fx_iommu *fx = obj->priv;

    if (!fx)
        return;
    for (unsigned i = 0; i < fx->ndomains; i++) {
        if (fx->d[i].fx) {
            iommu_destroy(&fx->d[i].mmu);
            pgtable_destroy(&fx->d[i].pt);
        }
    }
    free(fx->d);
    free(fx);
    obj->priv = NULL;
}

static int fx_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *v = obj->values;
    unsigned levels = (unsigned)v[FX_P_LEVELS].i;
    struct fx_iommu *fx = calloc(1, sizeof(*fx));
    int r = 0;

    if (!fx)
        return SIM_ENOMEM;
    obj->priv = fx;
    fx->latency = v[FX_P_LATENCY].lat.value;
    fx->ndomains = (unsigned)v[FX_P_DOMAINS].i;
    fx->d = calloc(fx->ndomains, sizeof(*fx->d));
    if (!fx->d) {
        fx_destroy(obj);
        return SIM_ENOMEM;
    }
    for (unsigned i = 0; i < fx->ndomains && !r; i++) {
        struct fx_domain *d = &fx->d[i];
        /* 4 KiB, 2 MiB and 1 GiB pages; tables at distinct simulated addresses */
        uint64_t pgsizes = (UINT64_C(1) << 12) | (UINT64_C(1) << 21) | (UINT64_C(1) << 30);

        r = pgtable_init(&d->pt, levels, pgsizes, (uint64_t)i << 40);
        if (r) {
            snprintf(err, errlen, "cannot create domain %u (%s)", i, sim_strerror(r));
            break;
        }
        r = iommu_init(&d->mmu, &fx_iommu_ops, &w->sim, obj->path, pgtable_span(&d->pt),
                       err, errlen);
        if (r) {
            pgtable_destroy(&d->pt);
            break;
        }
        d->fx = fx;
        d->dom.ops = &fx_domain_ops;
        d->dom.id = i;
        d->dom.addr_bits = 12 + 9 * levels;
        d->dom.pgsize_bitmap = pgsizes;
        d->dom.model = d;
    }
    if (r)
        fx_destroy(obj);
    return r;
}

static void fx_reset_stats(struct sim_object *obj)
{
    struct fx_iommu *fx = obj->priv;

    memset(&fx->st, 0, sizeof(fx->st));
}

static double fx_read(const struct sim_object *obj, unsigned idx)
{
    const struct fx_iommu *fx = obj->priv;
    const uint64_t *v[] = {
        [FX_R_TRANSLATIONS] = &fx->st.translations, [FX_R_FAULTS] = &fx->st.faults,
        [FX_R_MAPS] = &fx->st.maps, [FX_R_UNMAPS] = &fx->st.unmaps,
        [FX_R_UNMAP_EVENTS] = &fx->st.unmap_events,
    };

    return idx < sizeof(v) / sizeof(v[0]) ? (double)*v[idx] : 0.0;
}

/* Every readout is a counter: the registry reads the model's own uint64s at
 * each dump, so the translation path only increments them. */
static int fx_register_stats(struct sim_object *obj, void *reg)
{
    struct fx_iommu *fx = obj->priv;
    const uint64_t *src[] = {
        &fx->st.translations, &fx->st.faults, &fx->st.maps, &fx->st.unmaps,
        &fx->st.unmap_events,
    };
    uint64_t done = 0;
    int r = 0;

    for (unsigned i = 0; i < sizeof(src) / sizeof(src[0]) && !r; i++)
        r = stats_object_readout_counter(reg, obj, i, src[i], &done);
    return r;
}

static const struct sim_model_ops fx_model_ops = {
    .create = fx_create,
    .destroy = fx_destroy,
    .register_stats = fx_register_stats,
    .reset_stats = fx_reset_stats,
    .read = fx_read,
};

static const struct sim_model fx_model = {
    .name = "FixedLatencyIOMMU",
    .doc = "An IOMMU whose every translation takes `latency` (an example plugin, "
           "examples/plugin/). One page table per domain and no caches: a request is "
           "answered from the table `latency` after it arrives, mapped or faulting; "
           "unmaps send UNMAP per page. Counts translations, faults, maps and unmaps.",
    .params = fx_params, .nparams = sizeof(fx_params) / sizeof(fx_params[0]),
    .readouts = fx_readouts, .nreadouts = sizeof(fx_readouts) / sizeof(fx_readouts[0]),
    .ops = &fx_model_ops,
    .implements = IOMMU_OBJECT_IFACE,
    .iface = &fx_iface,
};

static const struct iommu_model_info fx_info = {
    "fixed_latency", "fixed-latency translation from per-domain page tables (plugin)",
    &fx_iommu_ops,
};

/* --- The plugin's two symbols --------------------------------------------- */

IOMMUSIM_PLUGIN_API_VERSION_DEFINE;

int iommusim_plugin_init(struct iommusim_plugin *p)
{
    return iommusim_plugin_add_iommu(p, &fx_info, &fx_model);
}
