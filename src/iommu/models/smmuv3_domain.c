/*
 * smmuv3_domain.c - the OS's view of the SMMUv3 model: domains, as Linux's
 * arm-smmu-v3 driver builds them (drivers/iommu/arm/arm-smmu-v3).
 *
 * A domain is one page table of the model's stage: stage 1 (a CD with
 * ASID = domain id, VMID 0), stage 2 (an STE with VMID = domain id), or
 * nested (stage 1 per domain, ASID = id, over one stage 2 of the VM, VMID 1,
 * that maps guest memory to itself with the largest blocks). Attaching a
 * stream writes its STE (and CD 0).
 *
 * Invalidation, as the driver does it: a strict unmap queues TLBI_NH_VA
 * (stage 1, nested) or TLBI_S2_IPA (stage 2) with the range, one ATC_INV
 * per ATS-capable stream of the domain, then CMD_SYNC, and waits for the
 * sync; flush_all queues TLBI_NH_ASID (or TLBI_S2_IPA of the whole space),
 * the ATC_INVs and a SYNC. Maps send nothing (no caching mode): the
 * driver's map is CPU work only.
 *
 * Granules: a domain's table has the stage's granule (cfg.granule for stage
 * 1 and nested, cfg.s2_granule for stage 2 and the nested identity stage 2),
 * and its pgsize_bitmap is that granule's page and block sizes, as the
 * driver's io-pgtable-arm sets it; so the smallest page the OS may map is
 * the granule (16 KiB or 64 KiB), which iommu_get_min_page_size() reports.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/models/smmuv3.h"

#define DOM_OF(d) ((struct smmuv3_domain *)((char *)(d) - offsetof(struct smmuv3_domain, dom)))
#define SPAN (UINT64_C(1) << SMMUV3_IA_BITS)
#define NESTED_VMID 1

/* The granule of the OS's tables of @stage. */
static uint64_t stage_granule(const struct smmuv3 *s, enum smmuv3_ste_config stage)
{
    return stage == SMMUV3_STE_S2 ? s->cfg.s2_granule : s->cfg.granule;
}

static sim_tick_t max_tick(sim_tick_t a, sim_tick_t b)
{
    return a > b ? a : b;
}

static unsigned dom_index(const struct smmuv3 *s, const struct smmuv3_domain *d)
{
    return (unsigned)(d - s->dom);
}

/* Queue the invalidation of [iova, iova + size) (size 0: all) and a sync. */
static sim_tick_t flush(struct smmuv3 *s, unsigned id, uint64_t iova, uint64_t size,
                        sim_tick_t at)
{
    struct smmuv3_cmd c;
    sim_tick_t done;

    memset(&c, 0, sizeof(c));
    if (s->dom_stage == SMMUV3_STE_S2) {
        c.type = SMMUV3_CMD_TLBI_S2_IPA;
        c.vmid = (uint16_t)id;
        c.addr = size ? iova : 0;
        c.size = size ? size : SPAN;
    } else if (size) {
        c.type = SMMUV3_CMD_TLBI_NH_VA;
        c.vmid = s->dom_stage == SMMUV3_STE_NESTED ? NESTED_VMID : 0;
        c.asid = (uint16_t)id;
        c.addr = iova;
        c.size = size;
    } else {
        c.type = SMMUV3_CMD_TLBI_NH_ASID;
        c.vmid = s->dom_stage == SMMUV3_STE_NESTED ? NESTED_VMID : 0;
        c.asid = (uint16_t)id;
    }
    smmuv3_cmdq_submit(s, &c, 1, at);
    for (unsigned i = 0; i < s->cfg.max_streams; i++) {
        struct smmuv3_ifc *f = s->ifc[i];

        if (!f || f->domain != (int)id ||
            !(f->mmu.notify_flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP))
            continue;
        memset(&c, 0, sizeof(c));
        c.type = SMMUV3_CMD_ATC_INV;
        c.sid = i;
        c.addr = iova;
        c.size = size;
        smmuv3_cmdq_submit(s, &c, 1, at);
    }
    memset(&c, 0, sizeof(c));
    c.type = SMMUV3_CMD_SYNC;
    done = smmuv3_cmdq_submit(s, &c, 1, at);
    return done;
}

static int sd_map(struct iommu_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
                  unsigned perm, sim_tick_t at, sim_tick_t *done)
{
    struct smmuv3_domain *d = DOM_OF(dom);
    struct smmuv3 *s = dom->model;
    uint64_t before = d->pt.st.maps;
    int r;

    *done = at;
    if (!size || ((iova | pa | size) & (pgtable_granule(&d->pt) - 1)) || perm == IOMMU_NONE)
        return SIM_EINVAL;
    r = pgtable_map(&d->pt, iova, pa, size, perm);
    if (r)
        return r;
    s->st.maps++;
    s->st.map_pages += d->pt.st.maps - before;
    return 0;
}

struct unmap_ctx {
    struct smmuv3 *s;
    unsigned id;
    sim_tick_t end;
    uint64_t leaves;
};

/* B11: every stream of the domain hears UNMAP before the leaf goes. */
static void unmap_leaf(void *arg, uint64_t iova, const struct pgtable_result *old)
{
    struct unmap_ctx *u = arg;
    struct smmuv3 *s = u->s;
    struct iommu_event ev = { .type = IOMMU_NOTIFIER_UNMAP,
        .entry = { .iova = iova, .translated_addr = old->translated_addr,
                   .addr_mask = old->addr_mask, .perm = IOMMU_NONE } };

    u->leaves++;
    for (unsigned i = 0; i < s->cfg.max_streams; i++)
        if (s->ifc[i] && s->ifc[i]->domain == (int)u->id)
            u->end = max_tick(u->end, iommu_notify(&s->ifc[i]->mmu, 0, &ev));
}

static int sd_unmap(struct iommu_domain *dom, uint64_t iova, uint64_t size, unsigned flags,
                    sim_tick_t at, sim_tick_t *done)
{
    struct smmuv3_domain *d = DOM_OF(dom);
    struct smmuv3 *s = dom->model;
    struct unmap_ctx u = { s, dom_index(s, d), at, 0 };
    uint64_t unmapped = 0;
    int r;

    *done = at;
    if (!size || ((iova | size) & (pgtable_granule(&d->pt) - 1)))
        return SIM_EINVAL;
    r = pgtable_unmap(&d->pt, iova, size, unmap_leaf, &u, &unmapped);
    if (r)
        return r;
    if (!unmapped)
        return SIM_ENOENT;
    s->st.unmaps++;
    s->st.unmap_pages += u.leaves;
    *done = max_tick(u.end, (flags & IOMMU_UNMAP_DEFER_FLUSH) ? at
                                                             : flush(s, u.id, iova, size, at));
    return 0;
}

static sim_tick_t sd_flush_all(struct iommu_domain *dom, sim_tick_t at)
{
    struct smmuv3 *s = dom->model;

    return flush(s, dom_index(s, DOM_OF(dom)), 0, 0, at);
}

static struct iommu_tlb_entry sd_lookup(struct iommu_domain *dom, uint64_t iova)
{
    struct smmuv3_domain *d = DOM_OF(dom);
    struct smmuv3 *s = dom->model;
    struct smmuv3_ctx c;

    memset(&c, 0, sizeof(c));
    c.config = s->dom_stage;
    if (s->dom_stage == SMMUV3_STE_S2) {
        c.s2 = &d->pt;
    } else {
        c.s1 = &d->pt;
        c.s2 = s->dom_stage == SMMUV3_STE_NESTED ? &s->s2_identity : NULL;
    }
    return smmuv3_ctx_lookup(&c, iova);
}

static const struct iommu_domain_ops smmuv3_domain_ops = {
    .map = sd_map,
    .unmap = sd_unmap,
    .flush_all = sd_flush_all,
    .lookup = sd_lookup,
};

int smmuv3_domains_init(struct smmuv3 *s, enum smmuv3_ste_config stage,
                        unsigned max_domains, uint64_t guest_memory, char *err,
                        size_t errlen)
{
    uint64_t s2g = s->cfg.s2_granule;

    if ((stage != SMMUV3_STE_S1 && stage != SMMUV3_STE_S2 && stage != SMMUV3_STE_NESTED) ||
        !max_domains || max_domains > 32768 ||
        (stage == SMMUV3_STE_NESTED && (!guest_memory || (guest_memory & (s2g - 1)) ||
                                        guest_memory > SPAN)))
        return sim_error_format(err, errlen, SIM_EINVAL, s->cfg.path,
                                "domains: stage s1, s2 or nested, 1..32768 domains, nested "
                                "guest memory a multiple of s2_granule (%llu bytes) and <= "
                                "256 TiB (got %llu bytes)", (unsigned long long)s2g,
                                (unsigned long long)guest_memory);
    s->dom = calloc(max_domains, sizeof(*s->dom));
    if (!s->dom)
        return sim_error_format(err, errlen, SIM_ENOMEM, s->cfg.path, NULL);
    s->max_domains = max_domains;
    s->dom_stage = stage;
    s->guest_memory = guest_memory;
    if (stage == SMMUV3_STE_NESTED) {
        int r = pgtable_init_granule(&s->s2_identity, s2g, SMMUV3_IA_BITS, smmuv3_pgsizes(s2g),
                                     UINT64_C(0x7f00000000));

        if (!r) {
            s->s2_identity_live = true;
            r = pgtable_map(&s->s2_identity, 0, 0, guest_memory, IOMMU_RW);
        }
        if (r)
            return sim_error_format(err, errlen, r, s->cfg.path,
                                    "cannot build the nested stage 2");
    }
    return 0;
}

int smmuv3_domain_get(struct smmuv3 *s, unsigned id, struct iommu_domain **out, char *err,
                      size_t errlen)
{
    struct smmuv3_domain *d;

    if (!s->dom)
        return sim_error_format(err, errlen, SIM_ESTATE, s->cfg.path, "no domains set up");
    if (id >= s->max_domains)
        return sim_error_format(err, errlen, SIM_ERANGE, s->cfg.path,
                                "domain: beyond the SMMU's domains (got %u, expected < "
                                "max_domains = %u)", id, s->max_domains);
    d = &s->dom[id];
    if (!d->live) {
        /*
         * Where the tables live: physical for stage 1 and stage 2; in nested
         * mode IPAs inside the upper half of guest memory, so that stage 2
         * maps them (one 64 MiB window per domain, wrapping: the addresses
         * only place the reads).
         */
        uint64_t base = UINT64_C(0x4000000000) + (uint64_t)id * (UINT64_C(1) << 26);
        uint64_t gran = stage_granule(s, s->dom_stage);
        int r;

        if (s->dom_stage == SMMUV3_STE_NESTED) {
            uint64_t half = (s->guest_memory / 2) & ~(gran - 1);
            uint64_t win = UINT64_C(1) << 26;

            base = half + ((uint64_t)id * win) % (half > win ? half - win + 1 : 1);
            base &= ~(gran - 1);
        }
        r = pgtable_init_granule(&d->pt, gran, SMMUV3_IA_BITS, smmuv3_pgsizes(gran), base);
        if (r)
            return sim_error_format(err, errlen, r, s->cfg.path, "cannot create domain %u",
                                    id);
        d->live = true;
        d->dom.ops = &smmuv3_domain_ops;
        d->dom.id = id;
        d->dom.addr_bits = SMMUV3_IA_BITS;
        d->dom.pgsize_bitmap = smmuv3_pgsizes(gran);
        d->dom.flags = 0;
        d->dom.model = s;
    }
    *out = &d->dom;
    return 0;
}

int smmuv3_attach(struct smmuv3 *s, uint32_t sid, unsigned id, struct iommu **out,
                  char *err, size_t errlen)
{
    struct iommu_domain *dom;
    struct smmuv3_domain *d;
    struct smmuv3_ifc *f;
    struct smmuv3_ste ste;
    int r;

    r = smmuv3_domain_get(s, id, &dom, err, errlen);
    if (r)
        return r;
    r = smmuv3_ifc_get(s, sid, out, err, errlen);
    if (r)
        return r;
    d = DOM_OF(dom);
    f = s->ifc[sid];
    if (f->domain >= 0 && (unsigned)f->domain != id)
        iommu_unmap_all(&f->mmu);   /* a new STE: what the users held is gone */
    memset(&ste, 0, sizeof(ste));
    ste.config = s->dom_stage;
    if (s->dom_stage == SMMUV3_STE_S2) {
        ste.vmid = (uint16_t)id;
        ste.s2 = &d->pt;
    } else {
        struct smmuv3_cd cd = { true, (uint16_t)id, &d->pt };

        if (s->dom_stage == SMMUV3_STE_NESTED) {
            ste.vmid = NESTED_VMID;
            ste.s2 = &s->s2_identity;
        }
        smmuv3_cd_set(s, sid, 0, &cd);
    }
    smmuv3_ste_set(s, sid, &ste);
    f->domain = (int)id;
    /* The driver's CFGI_STE after writing the STE (attach is not timed). */
    iotlb_inval_domain(&s->cfg_cache, sid);
    return 0;
}
