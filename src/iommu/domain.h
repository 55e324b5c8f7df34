/*
 * domain.h - the driver's side of an IOMMU: domains, and the objects that
 * hand them out.
 *
 * iommu.h is what a *device* sees (translate, notifiers). This is what the
 * *OS* sees: a domain, one set of I/O page tables that the kernel's IOMMU
 * driver maps into and invalidates, like Linux's struct iommu_domain and its
 * iommu_domain_ops (map_pages, unmap_pages, iotlb_sync, flush_iotlb_all).
 * The OS DMA-mapping layer (src/os/dma.c) is written against these ops only,
 * so the same strict/lazy/persistent policies drive every model: the
 * `generic` model, VT-d (whose invalidations go through a timed queue and,
 * with caching mode, also follow each map), virtio-iommu (whose map and
 * unmap are requests to the host), and so on.
 *
 * Time. Each op changes the functional state at once (so B11 holds: the
 * model sends UNMAP to its notifier users before a mapping changes) and
 * returns, in *done, the tick at which the model's side of the work is
 * over, for work issued by the driver at tick @at (>= now): the hardware
 * processing an invalidation queue, a guest-to-host round trip, the
 * notifier users (a VFIO shadow mapper) finishing their part. The CPU time
 * the driver itself spends (building PTEs, writing descriptors, spinning
 * on a wait) is the OS layer's, from its own cost parameters; a request
 * that needs the operation waits for the later of the two.
 */
#ifndef SIM_IOMMU_DOMAIN_H
#define SIM_IOMMU_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

#include "engine/object.h"
#include "engine/sim.h"
#include "iommu/iommu.h"

struct iommu_domain;

/* unmap flags */
enum {
    /*
     * Lazy (flush-queue) mode: remove the mapping and notify the model's
     * users, but leave the IOTLB invalidation to a later flush_all(): the
     * device may keep hitting a stale IOTLB entry until then, which is the
     * window lazy mode trades for fewer invalidations. Without the flag the
     * unmap is strict: the range is invalidated and waited for.
     */
    IOMMU_UNMAP_DEFER_FLUSH = 1,
};

struct iommu_domain_ops {
    /*
     * map (mandatory): map [iova, iova + size) to [pa, pa + size) with
     * @perm (IOMMU_RO/WO/RW). iova, pa and size are aligned to the
     * domain's granule (4 KiB). The model picks the page sizes. Whatever
     * the model's driver must do after a map happens here and is timed
     * into *done: VT-d with caching mode invalidates (and so fans MAP out to
     * its users), virtio-iommu sends a MAP request. SIM_EEXIST if part of
     * the range is mapped, SIM_ERANGE outside the input address space.
     */
    int (*map)(struct iommu_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
               unsigned perm, sim_tick_t at, sim_tick_t *done);

    /*
     * unmap (mandatory): remove the mapping of [iova, iova + size). Strict
     * (flags 0): also invalidate the range in the IOMMU's caches and wait
     * for it; *done is when that completed and every notifier user is done.
     * With IOMMU_UNMAP_DEFER_FLUSH see above. SIM_ENOENT if nothing of the
     * range was mapped.
     */
    int (*unmap)(struct iommu_domain *dom, uint64_t iova, uint64_t size, unsigned flags,
                 sim_tick_t at, sim_tick_t *done);

    /*
     * flush_all (mandatory): invalidate everything the IOMMU caches for
     * this domain (a domain-selective invalidation) and wait; returns the
     * completion tick of a flush issued at @at.
     */
    sim_tick_t (*flush_all)(struct iommu_domain *dom, sim_tick_t at);

    /*
     * lookup (mandatory): what the domain's page tables map at @iova now,
     * as translate(IOMMU_NONE) would answer it (perm NONE: not mapped); no
     * timing, no cache effects. For checks: which page size a map used, or
     * that a shadow's tables equal the composition it shadows.
     */
    struct iommu_tlb_entry (*lookup)(struct iommu_domain *dom, uint64_t iova);
};

/* Domain flags: what the model's driver imposes on the OS layer. */
enum {
    /*
     * The driver runs strict whatever the policy asks: VT-d with caching
     * mode ("IOMMU batching disallowed due to virtualization"), AMD-Vi with
     * NpCache. A lazy policy on such a domain becomes strict.
     */
    IOMMU_DOMAIN_STRICT_ONLY = 1,
    /*
     * Lazy mode uses one flush queue shared by every CPU, with Linux's
     * defaults for it (32768 entries, 1000 ms), as for virtio-iommu and
     * s390, instead of a 256-entry ring per CPU flushed after 10 ms.
     */
    IOMMU_DOMAIN_SINGLE_FQ = 2,
    /*
     * The model does not translate, it only checks (a TrustZone MPC):
     * devices address memory physically, so the OS maps nothing (the
     * passthrough policy is the only one that fits), yet every request
     * still goes through the model's address space.
     */
    IOMMU_DOMAIN_IDENTITY = 4,
};

/*
 * A domain as the OS sees it. The model embeds it in its own domain
 * struct (container_of), fills ops and the limits, and owns its storage.
 */
struct iommu_domain {
    const struct iommu_domain_ops *ops;
    unsigned id;                    /* the model's domain id */
    unsigned addr_bits;             /* IOVAs the tables translate: < 2^addr_bits */
    uint64_t pgsize_bitmap;         /* page sizes the tables can hold */
    unsigned flags;                 /* IOMMU_DOMAIN_* */
    void *model;                    /* the model instance, for its ops */
    void *os_owner;                 /* the OS DMA layer allocating its IOVAs (one
                                     * per domain); NULL: none yet */
};

/*
 * What every IOMMU config object offers the objects that reference it
 * (devices, probes, trace replays). A model descriptor that implements
 * "IOMMU" (sim_model.implements) points sim_model.iface at one of these.
 */
struct iommu_object_ops {
    /*
     * The driver's view of domain @id: created on first use (its page
     * tables empty), the same struct afterwards. err: one line.
     */
    int (*domain)(const struct sim_object *obj, unsigned id, struct iommu_domain **out,
                  char *err, size_t errlen);

    /*
     * Bind requester @rid to domain @id and return the address space its
     * DMA is translated in (with its notifier lists). err: one line.
     */
    int (*attach)(const struct sim_object *obj, uint32_t rid, unsigned id,
                  struct iommu **out, char *err, size_t errlen);
};

/* The interface name IOMMU model descriptors implement, and a ref_model may name. */
#define IOMMU_OBJECT_IFACE "IOMMU"

/* The iommu_object_ops of a created object that implements "IOMMU"; NULL otherwise. */
const struct iommu_object_ops *iommu_object_ops_of(const struct sim_object *obj);

/* Wrappers that check the object and name it in err. */
int iommu_object_domain(const struct sim_object *obj, unsigned id, struct iommu_domain **out,
                        char *err, size_t errlen);
int iommu_object_attach(const struct sim_object *obj, uint32_t rid, unsigned id,
                        struct iommu **out, char *err, size_t errlen);

static inline int iommu_domain_map(struct iommu_domain *dom, uint64_t iova, uint64_t pa,
                                   uint64_t size, unsigned perm, sim_tick_t at,
                                   sim_tick_t *done)
{
    return dom->ops->map(dom, iova, pa, size, perm, at, done);
}

static inline int iommu_domain_unmap(struct iommu_domain *dom, uint64_t iova, uint64_t size,
                                     unsigned flags, sim_tick_t at, sim_tick_t *done)
{
    return dom->ops->unmap(dom, iova, size, flags, at, done);
}

static inline struct iommu_tlb_entry iommu_domain_lookup(struct iommu_domain *dom,
                                                         uint64_t iova)
{
    return dom->ops->lookup(dom, iova);
}

static inline sim_tick_t iommu_domain_flush_all(struct iommu_domain *dom, sim_tick_t at)
{
    return dom->ops->flush_all(dom, at);
}

#endif /* SIM_IOMMU_DOMAIN_H */
