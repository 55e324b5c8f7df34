/*
 * amdvi.h - the `amdvi` model: AMD I/O Virtualization Technology (AMD-Vi),
 * after the AMD IOMMU specification (pub. 48882) and Linux
 * drivers/iommu/amd.
 *
 * What is modelled:
 *  - The device table: one entry (DTE) per device id, naming the domain
 *    (DomainID), the root of its I/O page table and its mode (the number of
 *    levels, 3..6 here). The IOMMU caches DTEs; a device whose DTE is not
 *    cached costs one read before its translation (INVALIDATE_DEVTAB_ENTRY
 *    drops it).
 *  - I/O page tables of 512 entries per level, 9 IOVA bits per level above
 *    the 4 KiB offset. A page directory entry (PDE) carries NextLevel, the
 *    level of the table it points to, which may be lower than the PDE's
 *    level minus one: the levels in between are *skipped* (spec: the IOVA
 *    bits of skipped levels must be zero, else the access faults). A PTE
 *    (NextLevel 0) at level 2 maps 2 MiB, at level 3 1 GiB. With
 *    `skip_levels`, map() points a new PDE straight at the table that holds
 *    the leaf whenever the IOVA bits in between are zero, so a 2 MiB page
 *    in a 4-level table is reached with 2 reads instead of 3; a later map
 *    that needs a skipped level re-inserts it.
 *  - An IOTLB (iotlb.h, tagged by domain) and a page-directory cache (PDC):
 *    fully associative LRU, each entry the table a PDE pointed to, keyed by
 *    (domain, level, the IOVA bits above that table); a walk starts from the
 *    deepest cached table covering its IOVA.
 *  - The command buffer: INVALIDATE_IOMMU_PAGES (a range, or the whole
 *    domain), INVALIDATE_DEVTAB_ENTRY, INVALIDATE_IOTLB_PAGES (a device's
 *    ATS TLB: sent to the domain's DEVIOTLB_UNMAP notifiers) and
 *    COMPLETION_WAIT. The IOMMU processes commands one at a time in order,
 *    each taking its type's processing time; COMPLETION_WAIT completes
 *    after every earlier command (so K invalidations and a wait submitted
 *    together at t complete at t + K x inval time + wait time).
 *  - NpCache (the capability that says the IOMMU caches non-present
 *    entries, set by hypervisors emulating AMD-Vi): Linux then flushes the
 *    range after every map (amd_iommu_np_cache), and runs strict; the model
 *    sees the maps and sends MAP events (B13). Without it MAP notifiers are
 *    refused (B5).
 *
 * Time: a walk's table reads each cost read_latency, one after the other
 * (no memory model, no walker limit, no MSHR merging: each miss walks on
 * its own). Invalidations take effect on the caches when submitted; their
 * processing time is what the driver waits for.
 */
#ifndef SIM_IOMMU_AMDVI_H
#define SIM_IOMMU_AMDVI_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/object.h"
#include "iommu/domain.h"
#include "iommu/iommu.h"
#include "iommu/iotlb.h"

#define AMDVI_MAX_LEVELS 6

enum amdvi_cmd_type {
    AMDVI_CMD_COMPLETION_WAIT = 0,
    AMDVI_CMD_INV_DEVTAB_ENTRY,
    AMDVI_CMD_INV_IOMMU_PAGES,
    AMDVI_CMD_INV_IOTLB_PAGES,
    AMDVI_CMD_NTYPES
};

struct amdvi_cmd {
    enum amdvi_cmd_type type;
    uint32_t devid;                 /* DEVTAB_ENTRY, IOTLB_PAGES */
    unsigned domain;                /* IOMMU_PAGES */
    uint64_t addr, size;            /* IOMMU_PAGES, IOTLB_PAGES; size 0: all */
};

struct amdvi_cfg {
    unsigned levels;                /* mode of every domain: 3..6 */
    uint64_t pgsize_bitmap;         /* 4 KiB | 2 MiB | 1 GiB subsets */
    bool skip_levels;               /* map() skips levels when it can */
    bool npcache;                   /* NpCache: flush on map, MAP events */
    struct iotlb_cfg iotlb;
    unsigned pdc_entries;           /* page-directory cache entries; 0: none */
    sim_tick_t hit_latency;         /* IOTLB lookup */
    sim_tick_t read_latency;        /* one DTE or page-table read */
    sim_tick_t cmd_time[AMDVI_CMD_NTYPES];  /* processing time per command */
    unsigned max_domains, max_devices;
    const char *path;
};

struct amdvi_pt;                    /* one table (amdvi.c) */

struct amdvi_domain {
    struct iommu_domain dom;        /* the OS's view (domain.h) */
    struct amdvi_pt *root;          /* NULL: not created */
    uint64_t tables;                /* tables allocated now */
};

struct amdvi_dev {
    struct iommu mmu;               /* the device's address space */
    struct amdvi *v;
    uint32_t devid;
    int domain;                     /* DTE.DomainID; -1: DTE not valid */
    bool dte_cached;
};

struct amdvi_pdc_entry {
    bool valid;
    unsigned domain, level;         /* level of the cached table */
    uint64_t tag;                   /* iova >> (12 + 9 x level) */
    uint64_t lru;
    struct amdvi_pt *table;
};

struct amdvi_stats {
    uint64_t maps, unmaps, map_pages, unmap_pages;
    uint64_t walks, walk_reads, dte_reads;
    uint64_t pdc_hits, pdc_misses;
    uint64_t cmds[AMDVI_CMD_NTYPES];
    uint64_t map_flushes;           /* NpCache: INVALIDATE_IOMMU_PAGES after a map */
    uint64_t skipped_pdes;          /* PDEs that skip levels, now */
    sim_tick_t notify_ticks;
};

struct amdvi {
    struct sim *sim;
    struct amdvi_cfg cfg;
    struct iotlb tlb;
    struct amdvi_domain *dom;       /* [max_domains] */
    struct amdvi_dev *dev;          /* [max_devices] */
    unsigned dev_hi;                /* 1 + highest device id attached */
    struct amdvi_pdc_entry *pdc;    /* [pdc_entries] */
    uint64_t pdc_clock;
    sim_tick_t cmd_busy_until;      /* the command processor's next free tick */
    struct amdvi_stats st;
};

extern const struct iommu_ops amdvi_iommu_ops;

int amdvi_create(struct amdvi *v, struct sim *sim, const struct amdvi_cfg *cfg,
                 char *err, size_t errlen);
void amdvi_destroy(struct amdvi *v);

/* The OS's view of domain @id (its tables created on first use). */
int amdvi_domain_get(struct amdvi *v, unsigned id, struct iommu_domain **out,
                     char *err, size_t errlen);
/* Write device @devid's DTE to point at domain @id; its address space. */
int amdvi_attach(struct amdvi *v, uint32_t devid, unsigned id, struct iommu **out,
                 char *err, size_t errlen);

/*
 * Queue @n commands at tick @at (>= now). Their cache effects happen now;
 * the return value is the tick at which the last one has been processed
 * (for a trailing COMPLETION_WAIT: when the driver sees its completion).
 * *done_users (may be NULL) gets the tick at which the notifier users the
 * commands reached (DEVIOTLB_UNMAP for IOTLB_PAGES) have finished.
 */
sim_tick_t amdvi_cmd_submit(struct amdvi *v, const struct amdvi_cmd *cmds, unsigned n,
                            sim_tick_t at, sim_tick_t *done_users);

/*
 * The table reads a walk of @iova in domain @id makes from the root with
 * cold caches (the DTE read not included): the levels the table layout
 * visits. 0 if nothing maps it. For tests and docs.
 */
unsigned amdvi_walk_reads(const struct amdvi *v, unsigned id, uint64_t iova);

/* --- As an object of a config (amdvi_object.c) ---------------------------- */
extern const struct sim_model amdvi_model_object;          /* "AmdViIOMMU" */

#endif /* SIM_IOMMU_AMDVI_H */
