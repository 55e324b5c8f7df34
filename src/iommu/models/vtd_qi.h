/*
 * vtd_qi.h - VT-d invalidation: the queued-invalidation descriptor ring and
 * register-based invalidation, timed.
 *
 * Queued invalidation (VT-d spec, chapter 6.5.2): the driver writes
 * descriptors into a ring in memory and moves the tail register; the
 * hardware fetches and processes them in order, one after another. The
 * driver learns that its invalidations are done by appending an
 * invalidation-wait descriptor (6.5.2.8), which completes only after every
 * descriptor before it, and spinning on its status. Linux's qi_submit_sync()
 * does exactly that for every flush (descriptors + one wait, then spin), on a
 * ring of QI_LENGTH = 256 descriptors (drivers/iommu/intel/dmar.c), waiting
 * for free slots when the ring is full.
 *
 * Register-based invalidation (6.5.1): one command at a time through the
 * context-command and IOTLB registers, polled until the hardware clears the
 * busy bit; no ring, no wait descriptor, no device-TLB invalidation (that
 * exists only as a queued descriptor).
 *
 * Timing model: one processing unit. A descriptor posted by the driver at
 * tick `at` starts when the unit is free (after every earlier descriptor)
 * and takes its type's processing time. Whatever its processing causes, the
 * notifier users' work (a VFIO shadow mapper's map or unmap ioctl runs
 * inside QEMU's processing of the guest's descriptor), is timed by the
 * users themselves, on their own serialising resource (the container
 * lock). The users run inside the descriptor's processing, after its own
 * part: the events reach them at start + time[type] (the process callback
 * gets that tick and delivers the events from it, iommu_notify_tick), and
 * their lock books their work from then, so U, the tick they are done,
 * is max(start + time, lock free) + their work. The descriptor completes
 *
 *     done = max(start + time[type], U)
 *
 * and never at start + time + (U - now): that would count the users' wait
 * for their lock a second time, so a burst of K maps would complete in
 * O(K^2). desc->users_done carries U for users the submitter notified
 * itself (an unmap's UNMAP events, sent from the tick vtd_qi_start()
 * predicts plus the descriptor's time). So in an idle queue, K descriptors of time T followed by a wait of time W complete at
 * at + K T + W, and K caching-mode maps posted together, each a
 * page-selective descriptor and a wait, into one lock-serialised user of
 * work L complete (T_page + L + T_wait) apart. Completion ticks of the last `length`
 * descriptors are kept (they are non-decreasing, the unit being FIFO), which
 * gives the ring occupancy a descriptor finds and the tick at which a slot
 * frees when the ring is full. Cost per descriptor: O(1) plus a backward
 * scan over the descriptors still pending at its submission (occupancy).
 *
 * The functional effect of a descriptor (which caches it empties, which
 * events it sends) is the owner's process callback, applied when the
 * descriptor is posted: state changes at once, time is accounted.
 */
#ifndef SIM_IOMMU_VTD_QI_H
#define SIM_IOMMU_VTD_QI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/sim.h"

/* Descriptor types (VT-d spec 6.5.2.1 - 6.5.2.8). */
enum vtd_desc_type {
    VTD_DESC_CC = 0,            /* context-cache invalidate */
    VTD_DESC_IOTLB_GLOBAL,      /* IOTLB invalidate, global granularity */
    VTD_DESC_IOTLB_DOMAIN,      /* IOTLB invalidate, domain-selective */
    VTD_DESC_IOTLB_PAGE,        /* IOTLB invalidate, page-selective (address + mask) */
    VTD_DESC_DEVTLB,            /* device-TLB (ATS) invalidate */
    VTD_DESC_WAIT,              /* invalidation wait */
    VTD_DESC_NTYPES
};

/* Context-cache invalidation granularity (6.5.2.1). */
enum vtd_cc_gran { VTD_CC_GLOBAL = 0, VTD_CC_DOMAIN, VTD_CC_DEVICE };

/* desc->flags */
enum {
    /*
     * Caching mode: the flush a guest issues after a map. Processing it
     * finds the leaves of [span_lo, span_lo + span_len) newly present and
     * announces them as MAP events (QEMU: vtd_sync_shadow_page_table_range,
     * whose IOVA-tree diff finds exactly the leaves the map placed).
     */
    VTD_DESC_F_MAP = 1,
};

struct vtd_desc {
    uint8_t type;               /* enum vtd_desc_type */
    uint8_t gran;               /* VTD_DESC_CC: enum vtd_cc_gran */
    uint8_t am;                 /* IOTLB_PAGE / DEVTLB: 2^am pages from addr */
    uint8_t flags;
    uint16_t did;               /* domain id */
    uint32_t rid;               /* requester id (CC device, DEVTLB) */
    uint64_t addr;              /* page-aligned, aligned to 2^am pages */
    uint64_t span_lo, span_len; /* VTD_DESC_F_MAP: the range the map placed */
    sim_tick_t users_done;      /* tick the work the submitter already caused
                                 * (notifier users) is done; 0: none */
};

struct vtd_qi_cfg {
    bool registers;             /* register-based: no ring, no wait descriptor */
    unsigned length;            /* ring entries (queued mode), >= 2 */
    sim_tick_t time[VTD_DESC_NTYPES];   /* processing time per type */
};

/* The owner's effect of descriptor @d, whose events reach their users at
 * @users_at (its processing start + its own time); returns the tick at
 * which the work it caused (notifier users, their lock waits included) is
 * done, or 0 if none. */
typedef sim_tick_t (*vtd_qi_process_fn)(void *owner, const struct vtd_desc *d,
                                        sim_tick_t users_at);

struct vtd_qi_stats {
    uint64_t desc[VTD_DESC_NTYPES];     /* descriptors processed, by type */
    uint64_t syncs;                     /* driver waits (qi_submit_sync calls) */
    double wait_sum;                    /* ticks from submission to completion */
    sim_tick_t wait_max;
    double occ_sum;                     /* pending descriptors found on posting */
    uint64_t occ_max;
    uint64_t full_stalls;               /* posts that waited for a free slot */
    double busy;                        /* ticks the unit spent processing
                                         * (with the users' work inside) */
};

struct vtd_qi {
    struct vtd_qi_cfg cfg;
    struct sim *sim;
    vtd_qi_process_fn process;
    void *owner;
    sim_tick_t *done_at;        /* [length]: completion of the descriptor in each slot */
    unsigned tail;              /* next slot */
    uint64_t posted;            /* descriptors ever posted */
    sim_tick_t free_at;         /* the unit is idle from this tick */
    struct vtd_qi_stats st;
};

/* SIM_EINVAL (length < 2 in queued mode), SIM_ENOMEM; "path: what" in err. */
int vtd_qi_init(struct vtd_qi *q, struct sim *sim, const struct vtd_qi_cfg *cfg,
                vtd_qi_process_fn process, void *owner, const char *path,
                char *err, size_t errlen);
void vtd_qi_destroy(struct vtd_qi *q);

/*
 * Post one descriptor written by the driver at @at (>= now): applies its
 * effect now and returns the tick at which the hardware has processed it.
 */
sim_tick_t vtd_qi_post(struct vtd_qi *q, const struct vtd_desc *d, sim_tick_t at);

/* The tick a descriptor posted at @at would start processing (after a
 * full ring's wait and every earlier descriptor). Changes nothing. */
sim_tick_t vtd_qi_start(const struct vtd_qi *q, sim_tick_t at);

/*
 * qi_submit_sync(): post @n descriptors (may be 0) at @at, then (queued
 * mode) an invalidation-wait descriptor, and return the tick at which the
 * driver sees the wait complete: after every descriptor posted so far.
 * Register mode: the descriptors one by one, each polled to completion.
 */
sim_tick_t vtd_qi_sync(struct vtd_qi *q, const struct vtd_desc *d, unsigned n,
                       sim_tick_t at);

/* Pending descriptors at tick @t (posted, not yet processed). */
unsigned vtd_qi_pending(const struct vtd_qi *q, sim_tick_t t);

void vtd_qi_reset_stats(struct vtd_qi *q);

#endif /* SIM_IOMMU_VTD_QI_H */
