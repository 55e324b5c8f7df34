/*
 * ats_tlb.h - a PCIe ATS device TLB (Address Translation Cache) as a
 * notifier user.
 *
 * The cache of a device that translates ahead with ATS (src/dev/
 * dma_engine.c owns one and does the lookups, translation requests and
 * fills on its request path). As a consumer it holds one UNMAP |
 * DEVIOTLB_UNMAP notifier over the whole address space and drops the range
 * of each event at once (B11: the device never uses an entry after the
 * UNMAP); the notifier's latency is the invalidation's round trip
 * (Invalidate Request to Invalidate Completion message), which a strict
 * unmap waits for. Nothing to replay: the cache fills on demand.
 */
#ifndef SIM_IOMMU_ATS_TLB_H
#define SIM_IOMMU_ATS_TLB_H

#include <stddef.h>
#include <stdint.h>

#include "iommu/consumers/consumer.h"
#include "iommu/iotlb.h"

struct ats_tlb_cfg {
    unsigned entries;               /* >= 1 */
    unsigned ways;                  /* 0: fully associative */
    sim_tick_t inval_latency;       /* invalidation request to completion */
    const char *path;
};

struct ats_tlb_stats {
    uint64_t invalidations;         /* UNMAP / DEVIOTLB_UNMAP events received */
};

enum { ATS_R_INVALIDATIONS };

struct ats_tlb {
    struct iommu_consumer c;        /* first */
    struct iotlb tlb;               /* looked up and filled by the device */
    struct iommu_notifier n;
    sim_tick_t inval_latency;
    struct ats_tlb_stats st;
};

extern const struct iommu_consumer_ops ats_tlb_consumer_ops;

/* An LRU cache of cfg->entries. SIM_EINVAL / SIM_ENOMEM, "path: ..." in err. */
int ats_tlb_init(struct ats_tlb *a, const struct ats_tlb_cfg *cfg, char *err, size_t errlen);
/* Detaches first. */
void ats_tlb_destroy(struct ats_tlb *a);

#endif /* SIM_IOMMU_ATS_TLB_H */
