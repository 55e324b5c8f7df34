/*
 * vhost_iotlb.h - a vhost backend's device IOTLB behind a virtual IOMMU.
 *
 * What vhost does when its device sits behind a vIOMMU (Linux
 * drivers/vhost/vhost.c with VHOST_F_IOTLB / VIRTIO_F_ACCESS_PLATFORM, QEMU
 * hw/virtio/vhost.c): the kernel worker translates every guest IOVA it
 * touches through its own IOTLB; a miss sends VHOST_IOTLB_MISS to QEMU,
 * which translates through the vIOMMU (address_space_get_iotlb_entry) and
 * answers VHOST_IOTLB_UPDATE; QEMU's IOMMU notifier (DEVIOTLB_UNMAP when the
 * device has a device IOTLB, else UNMAP) turns each invalidation into
 * VHOST_IOTLB_INVALIDATE.
 *
 * Here: an IOTLB structure (iotlb.h: entries, ways, replacement policy)
 * tagged by page; a lookup that hits answers after hit_latency; a miss
 * costs miss_latency (the round trip through QEMU) and fills the entry from
 * the vIOMMU's functional translate. Every UNMAP or DEVIOTLB_UNMAP event
 * drops the range at once (B11) and costs inval_latency of the backend's
 * worker (a sim_resource of one server: the vhost worker thread).
 *
 * Stale uses: every hit is checked against the vIOMMU's current answer (a
 * functional lookup that costs no simulated time and is not counted as a
 * translation); a hit that disagrees would be a DMA to a page the guest no
 * longer maps there. With correct invalidation it stays zero, and a test
 * makes sure of it.
 */
#ifndef SIM_IOMMU_VHOST_IOTLB_H
#define SIM_IOMMU_VHOST_IOTLB_H

#include <stddef.h>
#include <stdint.h>

#include "engine/resource.h"
#include "iommu/consumers/consumer.h"
#include "iommu/iotlb.h"

struct vhost_iotlb_cfg {
    unsigned entries;               /* >= 1 */
    unsigned ways;                  /* 0: fully associative */
    enum iotlb_policy policy;
    uint64_t seed;                  /* random policy */
    sim_tick_t hit_latency;         /* lookup in the backend's IOTLB */
    sim_tick_t miss_latency;        /* MISS -> QEMU translate -> UPDATE round trip */
    sim_tick_t inval_latency;       /* per invalidation event, on the worker */
    unsigned iommu_idx;             /* index of the address space it caches */
    const char *path;
};

struct vhost_iotlb_stats {
    uint64_t lookups, hits, misses;
    uint64_t faults;                /* misses the vIOMMU could not translate */
    uint64_t invalidations;         /* UNMAP / DEVIOTLB_UNMAP events received */
    uint64_t stale_uses;            /* hits disagreeing with the vIOMMU: must be 0 */
};

enum {
    VHOST_R_LOOKUPS, VHOST_R_HITS, VHOST_R_MISSES, VHOST_R_FAULTS, VHOST_R_INVALIDATIONS,
    VHOST_R_STALE_USES, VHOST_R_HIT_RATE,
};

struct vhost_iotlb {
    struct iommu_consumer c;        /* first */
    struct vhost_iotlb_cfg cfg;
    struct sim *sim;
    struct iotlb tlb;
    struct iommu_notifier n;
    struct sim_resource worker;     /* serialises invalidation work */
    struct vhost_iotlb_stats st;
};

extern const struct iommu_consumer_ops vhost_iotlb_consumer_ops;

int vhost_iotlb_init(struct vhost_iotlb *v, struct sim *sim, const struct vhost_iotlb_cfg *cfg,
                     char *err, size_t errlen);
void vhost_iotlb_destroy(struct vhost_iotlb *v);

/*
 * Translate @iova for an access of @access (IOMMU_RO/WO/RW) now: fills *out
 * (perm IOMMU_NONE: the vIOMMU faults it) and returns the tick the answer is
 * available. Must be attached. Allocation-free.
 */
sim_tick_t vhost_iotlb_translate(struct vhost_iotlb *v, uint64_t iova, unsigned access,
                                 struct iommu_tlb_entry *out);

/* "VhostIotlb": the config descriptor (vhost_iotlb.c). */
extern const struct sim_model vhost_iotlb_model;

/* The instance of a created VhostIotlb object; NULL for any other object. */
struct vhost_iotlb *vhost_iotlb_from_object(const struct sim_object *obj);

#endif /* SIM_IOMMU_VHOST_IOTLB_H */
