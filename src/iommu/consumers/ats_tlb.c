/*
 * ats_tlb.c - the ATS device TLB as a row of the consumer table (see
 * ats_tlb.h). Its lookups and fills are the device's (dma_engine.c); this
 * file is its notifier side and statistics.
 */
#include "iommu/consumers/ats_tlb.h"

#include <string.h>

#include "engine/error.h"

static struct ats_tlb *ats_of(struct iommu_consumer *c)
{
    return (struct ats_tlb *)c;
}

/* The IOMMU changed a mapping: drop what the device TLB holds of it. */
static void ats_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct ats_tlb *a = n->opaque;

    a->st.invalidations++;
    iotlb_inval_range(&a->tlb, 0, ev->entry.iova, ev->entry.addr_mask);
}

static int ats_attach(struct iommu_consumer *c, struct iommu *mmu, char *err, size_t errlen)
{
    struct ats_tlb *a = ats_of(c);

    memset(&a->n, 0, sizeof(a->n));
    a->n.notify = ats_notify;
    a->n.flags = IOMMU_NOTIFIER_UNMAP | IOMMU_NOTIFIER_DEVIOTLB_UNMAP;
    a->n.start = 0;
    a->n.end = UINT64_MAX;
    a->n.latency = a->inval_latency;
    a->n.opaque = a;
    return iommu_notifier_register(mmu, &a->n, err, errlen);
}

static void ats_detach(struct iommu_consumer *c)
{
    struct ats_tlb *a = ats_of(c);

    iommu_notifier_unregister(c->mmu, &a->n);
    iotlb_inval_global(&a->tlb);
}

static void ats_reset_stats(struct iommu_consumer *c)
{
    memset(&ats_of(c)->st, 0, sizeof(ats_of(c)->st));
}

static const struct sim_readout ats_readouts[] = {
    [ATS_R_INVALIDATIONS] = { "ats_invalidations", "events", "invalidations the device TLB "
                              "received" },
};

static const uint64_t *ats_counter(const struct iommu_consumer *c, unsigned idx)
{
    return idx == ATS_R_INVALIDATIONS ? &((const struct ats_tlb *)c)->st.invalidations : NULL;
}

const struct iommu_consumer_ops ats_tlb_consumer_ops = {
    .name = "ats_tlb",
    .doc = "PCIe ATS device TLB: UNMAP / DEVIOTLB_UNMAP notifier dropping the range; its "
           "owner device looks it up and fills it",
    .attach = ats_attach,
    .detach = ats_detach,
    .reset_stats = ats_reset_stats,
    .readouts = ats_readouts,
    .nreadouts = sizeof(ats_readouts) / sizeof(ats_readouts[0]),
    .read = iommu_consumer_read_counter,    /* its one value is a counter */
    .counter = ats_counter,
};

int ats_tlb_init(struct ats_tlb *a, const struct ats_tlb_cfg *cfg, char *err, size_t errlen)
{
    struct iotlb_cfg tc;

    memset(a, 0, sizeof(*a));
    iommu_consumer_init(&a->c, &ats_tlb_consumer_ops, cfg->path);
    a->inval_latency = cfg->inval_latency;
    memset(&tc, 0, sizeof(tc));
    tc.policy = IOTLB_LRU;
    tc.arr[0].entries = cfg->entries;
    tc.arr[0].ways = cfg->ways ? cfg->ways : cfg->entries;
    tc.mshrs = 1;
    tc.path = cfg->path;
    return iotlb_init(&a->tlb, &tc, err, errlen);
}

void ats_tlb_destroy(struct ats_tlb *a)
{
    iommu_consumer_detach(&a->c);
    iotlb_destroy(&a->tlb);
}
