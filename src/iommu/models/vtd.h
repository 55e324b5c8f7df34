/*
 * vtd.h - the `vtd` IOMMU model: Intel VT-d (Virtualization Technology for
 * Directed I/O, architecture specification rev. 4.x / 5.0).
 *
 * What it composes:
 *  - Root and context tables (spec 3.4, 9.1-9.4): a requester id
 *    (bus << 8 | devfn) selects a root entry and a context entry; in
 *    scalable mode (3.4.3, 9.4-9.6) the scalable-mode context entry points
 *    to a PASID directory and PASID table, whose entry gives the domain and
 *    the translation type (PGTT: first-level, second-level or nested). A
 *    context cache (6.2.1; in scalable mode it stands for the context and
 *    PASID caches together, 6.2.2) keyed by (requester, PASID) holds
 *    resolved entries; a miss reads the entries through the memory model,
 *    one after another: 2 reads in legacy mode (root, context), 4 in
 *    scalable mode (root, context, PASID directory, PASID table).
 *  - Per-domain radix tables (pgtable): second-level tables in legacy mode
 *    and for PGTT second-level, first-level tables for PGTT first-level; 3,
 *    4 or 5 levels from aw_bits (39, 48, 57). Nested (PGTT nested, 3.8):
 *    the domain's first-level table over one shared second-level table that
 *    identity-maps the guest-physical space [0, s2_bytes), walked in two
 *    dimensions (24 reads cold for 4 over 4 levels).
 *  - An IOTLB (iotlb.h) tagged by domain id, PASID (the iotlb's index tag)
 *    and page, with 4 KiB / 2 MiB / 1 GiB entries; page-walk (paging-
 *    structure) caches per level and stage in the walker (walk.h).
 *  - Invalidation through vtd_qi.h: queued (a descriptor ring, default 256
 *    entries like Linux's QI_LENGTH) or register-based, every descriptor
 *    timed, the driver's wait timed.
 *  - The driver's side (iommu/domain.h, vtd_domain.c): map, unmap and flush
 *    as Linux's intel-iommu driver does them: strict unmap = a page-
 *    selective invalidation (address mask) + wait; flush_all = domain-
 *    selective + wait; under caching mode every map is followed by a page-
 *    selective invalidation (+ wait), whose processing sends MAP events to
 *    the notifier users (B13), as QEMU's intel_iommu does.
 *
 * Each attached requester gets its own struct iommu (its address space and
 * notifier lists), as QEMU gives each device its VTDAddressSpace.
 *
 * Not modelled: interrupt remapping, fault recording registers and
 * reporting, page requests (PRI), the write-buffer flush, per-PASID domains
 * (every PASID of a device translates in the device's domain), PASID-based
 * IOTLB and PASID-cache invalidation descriptors (page- and domain-selective
 * descriptors cover every PASID), access/dirty bits, snoop and memory-type
 * controls.
 */
#ifndef SIM_IOMMU_VTD_H
#define SIM_IOMMU_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/object.h"
#include "engine/resource.h"
#include "iommu/domain.h"
#include "iommu/iommu.h"
#include "iommu/iotlb.h"
#include "iommu/models/vtd_qi.h"
#include "iommu/walk.h"
#include "mem/memory.h"
#include "mem/pgtable.h"

/* PASID-table entry PGTT (spec 9.6): what a scalable-mode domain walks. */
enum vtd_pgtt {
    VTD_PGTT_SECOND = 0,        /* second-level only (also legacy mode) */
    VTD_PGTT_FIRST,             /* first-level only */
    VTD_PGTT_NESTED,            /* first-level over second-level */
};

struct vtd_cfg {
    bool scalable;              /* scalable mode (PASID tables), else legacy */
    enum vtd_pgtt pgtt;         /* scalable only; legacy is second-level */
    unsigned aw_bits;           /* 39, 48 or 57: 3, 4 or 5 levels */
    uint64_t pgsize_bitmap;
    bool caching_mode;          /* CM=1: a virtual VT-d (QEMU caching-mode=on) */
    bool device_tlb;            /* context entries enable device TLBs (ATS) */
    unsigned max_am;            /* largest page-selective address mask (MAMV) */
    struct vtd_qi_cfg qi;
    struct iotlb_cfg iotlb;     /* mshrs = walks in flight */
    struct walk_cfg walk;
    sim_tick_t hit_latency;     /* IOTLB lookup */
    unsigned lookup_ports;
    sim_tick_t lookup_cycle;
    unsigned cc_entries, cc_ways;   /* context cache; ways 0: fully associative */
    sim_tick_t cc_latency;      /* context-cache lookup */
    uint64_t s2_bytes;          /* nested: guest-physical bytes stage 2 maps */
    uint64_t s2_page_size;      /* nested: stage-2 leaf size */
    uint64_t s1_table_base;     /* nested: GPA of domain 0's first-level tables */
    uint64_t s1_table_span;     /* nested: GPA bytes per domain's tables (0: 4 GiB) */
    unsigned max_domains, max_devices;
    const char *path;
};

struct vtd;

/* One requester: its address space and its context entry. */
struct vtd_dev {
    struct iommu mmu;
    struct vtd *v;
    uint32_t rid;
    int did;                    /* -1: context entry not present */
};

/* One domain: its tables and the driver's view of it. */
struct vtd_dom {
    struct iommu_domain od;     /* ops NULL: not created */
    struct pgtable pt;          /* second- or first-level tables */
};

struct vtd_walk {
    struct walk_req wr;
    struct iotlb_mshr *m;
    uint64_t seq;               /* v->inval_seq when the walk was started */
    struct vtd_walk *next_free;
};

#define VTD_CTX_READS_MAX 4

/* A context-cache miss being resolved through memory; requests for the same
 * (requester, PASID) join it. */
struct vtd_fetch {
    struct mem_req mr;
    struct vtd *v;
    uint32_t rid, pasid;
    unsigned step, n;
    uint64_t addr[VTD_CTX_READS_MAX];
    struct iommu_req *head, *tail;
    bool busy;
    struct vtd_fetch *next_free;
};

struct vtd_stats {
    uint64_t maps, unmaps, map_pages, unmap_pages;
    uint64_t map_invals;        /* caching mode: invalidations issued after maps */
    uint64_t ctx_fetches, ctx_reads;    /* context-cache misses resolved, reads */
    uint64_t ctx_faults;        /* requests without a present context entry */
    uint64_t fetch_stalls, mshr_stalls;
    uint64_t walks_overtaken;   /* walks an invalidation overtook (answered afresh) */
    uint64_t replays, replay_maps;
    uint64_t ev_map, ev_unmap, ev_deviotlb;     /* events the model sent */
    uint64_t notify_ticks;      /* users' work caused by maps, unmaps, flushes */
};

struct vtd {
    struct sim *sim;
    struct mem *mem;
    struct vtd_cfg cfg;
    unsigned levels;
    struct iotlb tlb;
    struct iotlb cc;            /* context cache: tag (rid, PASID) */
    struct walker walker;
    struct sim_resource ports;
    struct vtd_qi qi;
    struct pgtable s2;          /* nested: the shared stage-2 table */
    bool s2_live;
    struct vtd_dom *dom;        /* [max_domains] */
    struct vtd_dev *dev;        /* [max_devices] */
    unsigned dev_hi;
    struct vtd_walk *walks, *free_walks;
    struct vtd_walk **walk_of;  /* [mshrs]: the walk of each busy MSHR */
    /* The walks in flight, oldest first (the order the walker grants
     * slots in): walks_end_after visits these instead of every MSHR, and
     * stops once it has seen as many reading as there are walkers.
     * nwalking == tlb.mshr_busy. */
    struct vtd_walk **walking;
    unsigned nwalking;
    /* The MSHR the last walk took: a device's requests to one page miss
     * one after another, and each looks for that walk (vtd_mshr_peek). */
    struct iotlb_mshr *last_mshr;
    /* Walks in flight per 4 KiB page number mod 64: a page whose count is
     * 0 has no walk, and its miss need not scan the MSHRs for one. */
    uint32_t walks_by_page[64];
    struct iommu_batches batches;   /* a walk's completions, one event (iommu.h) */
    /* Requests whose IOTLB miss is not yet known to the MSHRs: misses
     * between lookup start and end, context-cache misses before and during
     * their fetch. A miss folds into a walk only when these are zero. */
    unsigned lookups_pending, ctx_pending, fetches_busy;
    struct vtd_fetch *fetches, *free_fetches;
    unsigned nfetches;
    struct iommu_req *stall_head, *stall_tail;          /* waiting for an MSHR */
    struct iommu_req *fstall_head, *fstall_tail;        /* waiting for a fetch */
    /* When the events being sent reach their users (0: now): inside a
     * descriptor's processing, its start + its own time (vtd_qi.h). */
    sim_tick_t users_at;
    /* IOTLB invalidations processed so far. A walk reads the tables when
     * it starts; one that an invalidation overtook answers from the tables
     * as they are when it ends and fills nothing (B11: no request issued
     * after an unmap, merged into that walk or hitting its fill, may get
     * the old translation). */
    uint64_t inval_seq;
    struct vtd_stats st;
};

extern const struct iommu_ops vtd_iommu_ops;
extern const struct iommu_domain_ops vtd_domain_ops;

/* Levels of a table for an address width: (aw_bits - 12) / 9. */
static inline unsigned vtd_levels(unsigned aw_bits)
{
    return (aw_bits - 12) / 9;
}

/* Validate @cfg and build; "path: what (got, expected)" in err. */
int vtd_create(struct vtd *v, struct sim *sim, struct mem *mem, const struct vtd_cfg *cfg,
               char *err, size_t errlen);
void vtd_destroy(struct vtd *v);

/* The driver's view of domain @id, created (tables empty) on first use. */
int vtd_domain_get(struct vtd *v, unsigned id, struct iommu_domain **out,
                   char *err, size_t errlen);

/*
 * Make requester @rid's context entry point at domain @id (created if
 * needed) and return its address space. Rebinding unmaps what its users
 * hold (B10); under caching mode (or when rebinding) the driver then flushes
 * the context cache (device-selective) and the domain's IOTLB entries, as
 * Linux's domain_context_mapping() does, through the queue at the current
 * tick.
 */
int vtd_attach(struct vtd *v, uint32_t rid, unsigned id, struct iommu **out,
               char *err, size_t errlen);

/* The functional translation of domain @did's tables (composed through
 * stage 2 when nested), as translate(IOMMU_NONE) answers it. */
struct iommu_tlb_entry vtd_dom_lookup(struct vtd *v, unsigned did, uint64_t iova);

/* Send @ev to every address space attached to domain @did, reaching the
 * users at v->users_at (0: now); returns the tick at which every user is
 * done (now if none), lock waits included. */
sim_tick_t vtd_notify_domain(struct vtd *v, unsigned did, const struct iommu_event *ev);

/* Does the guest flush after each map? Caching mode with second-level
 * tables (Linux skips the flush for first-level domains). */
static inline bool vtd_flush_on_map(const struct vtd *v)
{
    return v->cfg.caching_mode && (!v->cfg.scalable || v->cfg.pgtt == VTD_PGTT_SECOND);
}

/* The requester's device, or NULL if never attached. */
static inline struct vtd_dev *vtd_dev_of(struct vtd *v, uint32_t rid)
{
    return rid < v->cfg.max_devices && v->dev[rid].v ? &v->dev[rid] : NULL;
}

/* --- As an object of a config (vtd_object.c) ------------------------------ */

extern const struct sim_model vtd_model_object;            /* "VTdIOMMU" */

/* The model behind a created VTdIOMMU object; NULL otherwise. */
struct vtd *vtd_from_object(const struct sim_object *obj);

#endif /* SIM_IOMMU_VTD_H */
