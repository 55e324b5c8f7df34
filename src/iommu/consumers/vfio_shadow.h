/*
 * vfio_shadow.h - a VFIO-style shadow mapper: a device assigned to a guest
 * through a virtual IOMMU, whose guest mappings are mirrored into the host
 * IOMMU.
 *
 * What QEMU's VFIO listener does for an assigned device behind a vIOMMU
 * (hw/vfio/common.c: vfio_listener_region_add registers an IOMMU notifier
 * with IOMMU_NOTIFIER_IOTLB_EVENTS and replays; vfio_iommu_map_notify turns
 * each MAP into VFIO_IOMMU_MAP_DMA and each UNMAP into VFIO_IOMMU_UNMAP_DMA
 * on the container), and what Linux's VFIO type1 backend does with those
 * ioctls (drivers/vfio/vfio_iommu_type1.c: pin the pages, iommu_map into the
 * container's domain; unmap, sync the IOTLB, unpin). The guest sees its
 * maps because its virtual IOMMU sends MAP events (VT-d caching mode,
 * virtio-iommu, or the generic model with map_events).
 *
 * Addresses: a MAP event says guest IOVA -> guest-physical (GPA); the host
 * domain gets guest IOVA -> GPA + gpa_offset (host-physical: where the
 * guest's RAM sits in host memory, a linear offset here).
 *
 * Time: each event is one ioctl under the container lock (a sim_resource
 * of one server, the notifier's `serialise`). A MAP costs map_cost plus
 * pin_cost per 4 KiB page, then the host domain's map issued at that tick
 * (whose *done may add the host IOMMU's own work); an UNMAP costs
 * unmap_cost, then a strict host unmap per shadowed leaf (invalidation
 * included, each issued when the previous is done), then unpin_cost per
 * page. The event's latency is from the lock grant to that end, so the
 * guest's map/unmap returns only when the shadow is done (iommu_notify's
 * end), and a burst of maps queues on the lock.
 *
 * The shadow keeps its own record of what it mapped (type1's tree of
 * vfio_dma ranges; a sparse radix table here), so an UNMAP of a huge range
 * (a reset, B10) costs what is mapped, not the range.
 */
#ifndef SIM_IOMMU_VFIO_SHADOW_H
#define SIM_IOMMU_VFIO_SHADOW_H

#include <stddef.h>
#include <stdint.h>

#include "engine/resource.h"
#include "iommu/consumers/consumer.h"
#include "iommu/domain.h"
#include "mem/pgtable.h"

struct vfio_shadow_cfg {
    struct iommu_domain *host;      /* the host domain it maintains (required) */
    uint64_t gpa_offset;            /* host-physical = guest-physical + offset */
    sim_tick_t map_cost;            /* per MAP: the MAP_DMA ioctl's fixed work */
    sim_tick_t unmap_cost;          /* per UNMAP: the UNMAP_DMA ioctl's fixed work */
    sim_tick_t pin_cost;            /* per 4 KiB page pinned */
    sim_tick_t unpin_cost;          /* per 4 KiB page unpinned */
    const char *path;
};

struct vfio_shadow_stats {
    uint64_t maps, unmaps;          /* MAP / UNMAP events handled */
    uint64_t pages_pinned;          /* 4 KiB pages pinned (cumulative) */
    uint64_t pages_unpinned;        /* 4 KiB pages unpinned (cumulative) */
    uint64_t host_maps, host_unmaps;/* host domain calls made */
    uint64_t errors;                /* MAPs the host refused (overlap, range) */
    uint64_t replays;               /* replays on attach */
    uint64_t map_ticks, unmap_ticks;/* summed lock-grant-to-done time of each */
};

/* The readouts (vfio_shadow_consumer_ops.readouts and the descriptor's). */
enum {
    VFIO_R_MAPS, VFIO_R_UNMAPS, VFIO_R_PAGES_PINNED, VFIO_R_PAGES_UNPINNED,
    VFIO_R_PINNED_NOW, VFIO_R_HOST_MAPS, VFIO_R_HOST_UNMAPS, VFIO_R_ERRORS,
    VFIO_R_MAP_TIME, VFIO_R_UNMAP_TIME, VFIO_R_QUEUE_WAIT, VFIO_R_WAIT_MAX,
    VFIO_R_LOCK_UTIL,
};

struct vfio_shadow {
    struct iommu_consumer c;        /* first: the core's part */
    struct vfio_shadow_cfg cfg;
    struct sim *sim;
    struct iommu_notifier n;        /* MAP | UNMAP over the whole space */
    struct sim_resource lock;       /* the container lock, one server */
    struct pgtable dma;             /* what is shadowed: IOVA -> GPA */
    uint64_t pinned;                /* 4 KiB pages pinned now */
    struct vfio_shadow_stats st;
};

extern const struct iommu_consumer_ops vfio_shadow_consumer_ops;

/* cfg->host required. SIM_EINVAL / SIM_ENOMEM with "path: ..." in err. */
int vfio_shadow_init(struct vfio_shadow *v, struct sim *sim, const struct vfio_shadow_cfg *cfg,
                     char *err, size_t errlen);
/* Detaches; the host domain keeps its tables (they die with the host IOMMU). */
void vfio_shadow_destroy(struct vfio_shadow *v);

/* "VfioShadow": the config descriptor (vfio_shadow.c). */
extern const struct sim_model vfio_shadow_model;

#endif /* SIM_IOMMU_VFIO_SHADOW_H */
