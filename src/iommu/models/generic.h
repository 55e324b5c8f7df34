/*
 * generic.h - the `generic` IOMMU model: radix page tables + IOTLB + walker.
 *
 * The reference composition of the core's parts, and the model the
 * quick-start uses: per-domain sparse radix tables, devices bound to
 * domains by requester id, an IOTLB with lookup ports, hit latency and
 * MSHR merging, and a walker with page-walk caches reading tables through
 * the memory model. Each bound device gets its own struct iommu (its
 * translated address space and notifier lists), as QEMU gives each device
 * its own IOMMU memory region.
 *
 * Map and unmap change the tables at once (a driver's view with immediate,
 * strict invalidation): unmap invalidates the IOTLB range and the PWCs and
 * sends UNMAP to the domain's devices (B11). MAP events are sent only with
 * `map_events` (what VT-d calls caching mode); without it, MAP notifiers
 * are refused (B5).
 */
#ifndef SIM_IOMMU_GENERIC_H
#define SIM_IOMMU_GENERIC_H

#include "engine/object.h"
#include "iommu/iommu.h"
#include "iommu/iotlb.h"
#include "iommu/walk.h"
#include "mem/memory.h"
#include "mem/pgtable.h"

struct generic_cfg {
    unsigned levels;                /* 3, 4, 5 */
    uint64_t pgsize_bitmap;         /* e.g. 4 KiB | 2 MiB | 1 GiB */
    struct iotlb_cfg iotlb;         /* mshrs = walks in flight */
    struct walk_cfg walk;
    sim_tick_t hit_latency;         /* IOTLB lookup latency */
    unsigned lookup_ports;          /* lookups started per lookup_cycle */
    sim_tick_t lookup_cycle;
    unsigned max_domains, max_devices;
    bool map_events;
    const char *path;
};

struct generic_iommu;

struct generic_dev {
    struct iommu mmu;               /* the device's address space */
    struct generic_iommu *g;
    uint32_t rid;
    int domain;                     /* -1: not bound */
};

struct generic_walk {
    struct walk_req wr;
    struct iotlb_mshr *m;
    struct generic_walk *next_free;
};

struct generic_stats {
    uint64_t maps, unmaps, map_pages, unmap_pages;
    uint64_t mshr_stalls;           /* requests that waited for an MSHR */
    uint64_t map_invals;            /* caching mode: the guest's flush on map */
    sim_tick_t notify_ticks;        /* sum over map/unmap calls of the time
                                     * until every notifier user was done */
};

struct generic_iommu {
    struct sim *sim;
    struct mem *mem;
    struct generic_cfg cfg;
    struct iotlb tlb;
    struct walker walker;
    struct sim_resource ports;
    struct pgtable *dom;            /* [max_domains]; root NULL: unused */
    struct generic_dev *dev;        /* [max_devices] */
    unsigned dev_hi;                /* 1 + the highest attached requester id */
    struct generic_walk *walks, *free_walks;
    struct iommu_batches batches;   /* a walk's completions, one event (iommu.h) */
    struct generic_walk **walk_of;  /* [mshrs]: the walk of each busy MSHR */
    unsigned lookups_pending;       /* misses between lookup start and end */
    uint64_t walks_ended;           /* walks finished (each may fill PWCs) */
    int pwc_clean_dom;              /* domain whose PWC entries were last dropped */
    uint64_t pwc_clean_walks;       /* walks_ended at that moment */
    struct iommu_req *stall_head, *stall_tail;
    struct generic_stats st;
};

extern const struct iommu_ops generic_iommu_ops;

int generic_create(struct generic_iommu *g, struct sim *sim, struct mem *mem,
                   const struct generic_cfg *cfg, char *err, size_t errlen);
void generic_destroy(struct generic_iommu *g);

int generic_domain_create(struct generic_iommu *g, unsigned domain);
/* Bind requester @rid to @domain; returns its address space in *out. */
int generic_attach(struct generic_iommu *g, uint32_t rid, unsigned domain,
                   struct iommu **out, char *err, size_t errlen);

int generic_map(struct generic_iommu *g, unsigned domain, uint64_t iova,
                uint64_t pa, uint64_t size, unsigned perm);
/* generic_map, and *done_at (may be NULL) gets the tick at which the
 * notified consumers (map_events: a VFIO shadow's MAP work) have finished. */
int generic_map_timed(struct generic_iommu *g, unsigned domain, uint64_t iova,
                      uint64_t pa, uint64_t size, unsigned perm, sim_tick_t *done_at);
/* Returns 0 or an error; *done_at (may be NULL) gets the tick at which
 * the notified consumers have finished. */
int generic_unmap(struct generic_iommu *g, unsigned domain, uint64_t iova,
                  uint64_t size, sim_tick_t *done_at);

/* --- As an object of a config (generic_object.c) ---------------------------
 *
 * The `GenericIOMMU` descriptor builds a struct generic_iommu from its
 * parameters and its references to an IOTLB, a Walker and a Memory object.
 * A device model that takes an IOMMU reference (ref_model "GenericIOMMU")
 * gets the model with generic_iommu_from_object() in its create or connect
 * op (the IOMMU is created first, being referenced), then uses the API above:
 *
 *     struct generic_iommu *g = generic_iommu_from_object(v[P_IOMMU].ref.obj);
 *     struct iommu *as;
 *     generic_domain_create(g, dom);              (SIM_EEXIST if it exists)
 *     generic_attach(g, rid, dom, &as, err, n);   (its address space)
 *     generic_map(g, dom, iova, pa, size, IOMMU_RW);
 *     iommu_translate_timed(as, &req);            (per DMA request)
 *
 * The generic_iommu and every struct iommu it hands out live until the
 * IOMMU object is destroyed, which is after every object referencing it.
 */
extern const struct sim_model generic_model_object;        /* "GenericIOMMU" */

/* The model behind a created GenericIOMMU object; NULL for NULL or any other
 * model. */
struct generic_iommu *generic_iommu_from_object(const struct sim_object *obj);

/*
 * For an object that references a GenericIOMMU and names one of its domains:
 * the model in *out, or an error with "iommu: ..." or "domain: ..." in err.
 */
int generic_iommu_domain_from_object(const struct sim_object *obj, unsigned domain,
                                     struct generic_iommu **out, char *err, size_t errlen);

#endif /* SIM_IOMMU_GENERIC_H */
