/*
 * virtio_iommu.h - the `virtio_iommu` model: a paravirtual IOMMU driven by
 * requests on a virtqueue (virtio spec, "IOMMU device"; Linux
 * drivers/iommu/virtio-iommu.c; QEMU hw/virtio/virtio-iommu.c).
 *
 * What a guest driver sees: endpoints (requester ids) are attached to
 * domains with ATTACH and DETACH requests, asked for their properties with
 * PROBE, and a domain's mappings are made and removed with MAP and UNMAP
 * requests, each a range [virt_start, virt_end] -> phys_start. There is no
 * page table in guest memory and no invalidation command: the host applies
 * each request to its own per-domain mapping tree (virtio_iommu_tree.h),
 * and invalidates whatever it caches as part of UNMAP.
 *
 * Timing. Linux's driver adds a request to the request virtqueue, kicks it
 * (a write to the notify register: a VM exit, and an ioeventfd that wakes
 * the host's device thread), and busy-waits for the used buffer with its
 * request_lock held (__viommu_sync_req). Requests are therefore served one
 * after another, guest round trip included: the request queue here is one
 * server whose service time is
 *
 *     round_trip + host work of each request in the kick + notifier users' work
 *
 * where the users' work starts once the host has handled the request
 * (their events reach them at start + round_trip + host work) and, for a
 * user with a serialising resource (a VFIO container lock), once that is
 * free: the kick completes at max(start + round_trip + host work, U), U
 * the tick the users are done. Never start + service + (U - now), which
 * would count again the wait for a lock busy with the previous requests'
 * users, already in the queue (a burst of K maps would then complete in
 * O(K^2)).
 *
 * The host calls its notifier users (a VFIO shadow mapper, a vhost IOTLB)
 * synchronously while handling MAP and UNMAP (QEMU's virtio_iommu_map and
 * virtio_iommu_unmap), so their work is inside the request and the queue.
 * Lazy unmaps (IOMMU_UNMAP_DEFER_FLUSH) are added to the queue without a
 * kick, as Linux does when the flush queue defers iotlb_sync; the next
 * kick (flush_all, or any synchronous request) takes them all: one round
 * trip for the batch.
 *
 * Notifiers: MAP and UNMAP requests fan out directly as MAP and UNMAP
 * events to the domain's endpoints; MAP notifiers are always accepted (no
 * caching mode is needed: the device sees every map by construction).
 * UNMAP events are sent before a mapping leaves the tree (B11). A mapping
 * whose range is not a power-of-two aligned block is announced as the
 * aligned blocks that tile it (an entry's addr_mask is a power of two
 * minus one), as QEMU does.
 *
 * The device's DMA (an emulated device translating through the host) is a
 * lookup in that tree: translate_timed answers after xlate_latency.
 */
#ifndef SIM_IOMMU_VIRTIO_IOMMU_H
#define SIM_IOMMU_VIRTIO_IOMMU_H

#include <stdbool.h>

#include "engine/object.h"
#include "iommu/domain.h"
#include "iommu/iommu.h"
#include "iommu/models/virtio_iommu_tree.h"

/* Request types (the virtio spec's VIRTIO_IOMMU_T_*, in its order). */
enum viommu_req_type {
    VIOMMU_REQ_ATTACH, VIOMMU_REQ_DETACH, VIOMMU_REQ_MAP, VIOMMU_REQ_UNMAP,
    VIOMMU_REQ_PROBE, VIOMMU_REQ__COUNT
};

struct virtio_iommu_cfg {
    uint64_t granule;               /* smallest page of page_size_mask; power of 2 >= 4 KiB */
    unsigned aw_bits;               /* input address width: IOVAs < 2^aw_bits (12..64) */
    bool boot_bypass;               /* unattached endpoints bypass (else fault) */
    sim_tick_t round_trip;          /* kick: VM exit, host wake-up, completion seen */
    sim_tick_t work[VIOMMU_REQ__COUNT];     /* host work per request of each type */
    sim_tick_t xlate_latency;       /* an emulated device's DMA: one tree lookup */
    unsigned max_domains, max_endpoints;
    const char *path;
};

struct virtio_iommu;

struct viommu_endpoint {
    struct iommu mmu;               /* the endpoint's address space and notifiers */
    struct virtio_iommu *v;         /* NULL: not created yet */
    uint32_t rid;
    int domain;                     /* -1: not attached */
    bool probed;
};

struct viommu_domain {
    struct iommu_domain dom;        /* the driver's view; ops NULL: not created */
    struct viommu_tree tree;        /* the host's mappings */
    unsigned endpoints;             /* attached endpoints (0: the device has no
                                     * such domain, Linux keeps the mappings) */
};

struct viommu_stats {
    uint64_t requests[VIOMMU_REQ__COUNT];   /* by type */
    uint64_t kicks;                 /* notifications of the queue (round trips) */
    uint64_t deferred_unmaps;       /* lazy UNMAPs queued without a kick */
    uint64_t flushes, empty_flushes;/* flush_all calls; of which had nothing queued */
    uint64_t local_maps, local_unmaps;      /* on a domain without endpoints: no request */
    uint64_t map_events, unmap_events;      /* fan-outs (blocks announced) */
    uint64_t completed;             /* requests whose kick has been issued */
    double req_ticks;               /* sum over those of issue-to-completion */
    double wait_ticks;              /* sum over kicks of queueing before service */
    sim_tick_t wait_max;
    double busy_ticks;              /* queue service time booked */
    uint64_t translations, bypassed, faults, unattached_faults;
};

struct virtio_iommu {
    struct sim *sim;
    struct virtio_iommu_cfg cfg;
    uint64_t in_max;                /* 2^aw_bits - 1 */
    struct viommu_domain *dom;      /* [max_domains] */
    struct viommu_endpoint *ep;     /* [max_endpoints] */
    unsigned ep_hi;                 /* 1 + the highest endpoint created */
    sim_tick_t queue_free;          /* when the host finishes the queued work */
    /* lazy UNMAPs added but not kicked */
    unsigned pending;
    sim_tick_t pending_work;        /* their host and notifier work */
    sim_tick_t pending_users_done;  /* when their users' lock had them done */
    double pending_issue_sum;       /* the sum of their issue ticks */
    /* When the events of the request being handled reach their users (0:
     * now): after the kick's round trip and host work (see above). */
    sim_tick_t users_at;
    struct viommu_stats st;
};

extern const struct iommu_ops virtio_iommu_ops;
extern const char *const viommu_req_names[VIOMMU_REQ__COUNT];

/* SIM_EINVAL (bad cfg, "path: what" in err), SIM_ENOMEM. */
int virtio_iommu_create(struct virtio_iommu *v, struct sim *sim,
                        const struct virtio_iommu_cfg *cfg, char *err, size_t errlen);
void virtio_iommu_destroy(struct virtio_iommu *v);

/*
 * The endpoint of requester @rid: its address space, created on first use
 * (unattached: boot_bypass decides what its DMA sees). SIM_ERANGE.
 */
int virtio_iommu_endpoint(struct virtio_iommu *v, uint32_t rid, struct iommu **out,
                          char *err, size_t errlen);

/* The driver's view of domain @id (created empty on first use). SIM_ERANGE. */
int virtio_iommu_domain(struct virtio_iommu *v, unsigned id, struct iommu_domain **out,
                        char *err, size_t errlen);

/*
 * Requests the guest driver sends outside the domain ops, issued at @at
 * (>= now); *done gets the completion tick. PROBE once per endpoint;
 * ATTACH (the domain's existing mappings are replayed to the device with
 * it, one MAP each in the same kick, as Linux's viommu_replay_mappings
 * does on a domain's first attach; an endpoint attached elsewhere moves,
 * and its notifiers hear one UNMAP of their range, B10); DETACH (back to
 * boot_bypass; B10 as well). SIM_ERANGE, SIM_ENOENT (detach of an
 * unattached endpoint).
 */
int virtio_iommu_probe(struct virtio_iommu *v, uint32_t rid, sim_tick_t at, sim_tick_t *done);
int virtio_iommu_attach(struct virtio_iommu *v, uint32_t rid, unsigned domain,
                        sim_tick_t at, sim_tick_t *done);
int virtio_iommu_detach(struct virtio_iommu *v, uint32_t rid, sim_tick_t at,
                        sim_tick_t *done);

/* --- As an object of a config (virtio_iommu_object.c) --------------------- */

extern const struct sim_model virtio_iommu_model_object;      /* "VirtioIOMMU" */

/* The model behind a created VirtioIOMMU object; NULL otherwise. */
struct virtio_iommu *virtio_iommu_from_object(const struct sim_object *obj);

#endif /* SIM_IOMMU_VIRTIO_IOMMU_H */
