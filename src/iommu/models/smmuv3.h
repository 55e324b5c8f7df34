/*
 * smmuv3.h - the `smmuv3` model: the Arm System MMU v3 (IHI 0070), with
 * gem5's timed structure (src/dev/arm/smmu_v3*) and what gem5 leaves out.
 *
 * Configuration structures (functional state, what software programs):
 *  - A stream table indexed by StreamID, linear or two-level (an L1
 *    descriptor per 2^st_split streams, then the STE). Its layout only sets
 *    the cost of a fetch: one read (linear) or two (two-level).
 *  - An STE per stream: ABORT, BYPASS, stage 1, stage 2 or nested (stage 1
 *    over stage 2); the VMID and the stage-2 table; a CD table of
 *    ssids_per_stream entries for stage 1.
 *  - A CD per substream: the ASID and the stage-1 table (TTB0). In nested
 *    mode the stage-1 table's addresses are IPAs that stage 2 translates.
 *  Tables are struct pgtable with 48-bit inputs and any of the three
 *  translation granules (CD.TG0 for stage 1, STE.S2TG for stage 2, IHI 0070):
 *  4 KiB (4 levels, leaves 4K/2M/1G), 16 KiB (4 levels, 16K/32M) or 64 KiB
 *  (3 levels, 64K/512M). The granule is the table's own, so a stream's
 *  stages may differ; the OS's domains use cfg.granule (stage 1) and
 *  cfg.s2_granule (stage 2).
 *
 * The timed path of a transaction (gem5's structure, latencies in ticks):
 *  device interface (one per stream here): a translation slot (ifc_slots),
 *  the micro TLB (utlb_lat) then the main TLB (tlb_lat); every cache lookup
 *  (micro, main and SMMU TLB, config, IPA and walk caches) first takes one
 *  of that structure's lookup slots (*.slots, gem5's *_slots semaphores)
 *  for its latency, so S slots serve N simultaneous lookups in
 *  ceil(N / S) x latency; on a miss the
 *  ifc-to-SMMU link (ifc_smmu_lat), an SMMU translation slot (xlate_slots),
 *  the config cache (cfg_lat; a miss reads the STE, and the CD for stage 1,
 *  through the memory model), the SMMU TLB (smmu_tlb_lat, off by default as
 *  in gem5), then a page walk: misses to one 4 KiB page of one context
 *  merge onto the walk in flight (gem5's hazard check), the walk takes a
 *  page-walk slot (ptw_slots, the walker's slots), looks up the walk caches
 *  (wc_lat) and reads the tables through the memory model, nested walks in
 *  two dimensions. The answer crosses the SMMU-to-ifc link (smmu_ifc_lat)
 *  and fills the main and micro TLBs. Next-page prefetch walks the next
 *  4 KiB page after a walk and fills the main TLB; with
 *  prefetch_reserve_last_way (gem5's default) only its last way of the set,
 *  which demand fills never take, so prefetches evict only prefetches.
 *
 * Walk caches (gem5's WalkCache): per stage and Arm level L0..L3, each entry
 * what one descriptor read found, by IOVA prefix; as in gem5 a leaf is
 * cached at its own level too (a page at L3, a block at L2 or L1), so a hit
 * on a leaf skips every read of that stage (walker.cfg.pwc_leaf). L3 holds
 * only leaves; its enable bit (wc_*_levels bit 3) is off by default, as in
 * gem5. In a nested walk the stage-2 walk caches serve only the final IPA
 * unless wc_nonfinal (gem5's wc_nonfinal_enable, false by default): the
 * stage-2 walks of the stage-1 table addresses read every level.
 *
 * Caches: micro/main/SMMU TLBs, the config cache and the walk caches are
 * struct iotlb arrays (entries, ways, lru/plru/fifo/random; gem5's "rr" is
 * fifo). TLB entries are tagged by context: VMID and ASID for stage 1 and
 * nested, VMID alone for stage 2 (smmuv3_tag). The config cache and walk
 * caches model timing only: the answer always comes from the current
 * STE/CD and tables (a stale one could only mis-time, never mistranslate);
 * the TLBs return what they hold until invalidated, as hardware does.
 *
 * Beyond gem5:
 *  - A timed command queue (smmuv3_cmdq.c): CFGI_STE, CFGI_CD, TLBI_NH_VA,
 *    TLBI_NH_ASID, TLBI_S2_IPA, TLBI_NSNH_ALL, ATC_INV, SYNC, with ranges.
 *    One command at a time, in order, each taking its type's time; its
 *    effect on the caches happens when it has been processed (so a
 *    translation between submission and that tick may still hit the old
 *    entry), and a SYNC completes only after every earlier command and
 *    every ATC invalidation they started.
 *  - An event queue recording faults (smmuv3_evtq_pop), and two fault
 *    modes: terminate (the transaction completes with an error) and stall
 *    (it waits stall_latency, the software-handling time, then the fault
 *    handler decides: retry, which re-walks the tables, or terminate; a
 *    retry that faults again is terminated).
 *  - ATS: devices with a device TLB (the ats_tlb consumer) send their
 *    translation requests through translate_timed and get DEVIOTLB_UNMAP
 *    events from CMD_ATC_INV.
 */
#ifndef SIM_IOMMU_SMMUV3_H
#define SIM_IOMMU_SMMUV3_H

#include <stdbool.h>
#include <stdint.h>

#include "dev/lathist.h"
#include "engine/object.h"
#include "engine/resource.h"
#include "iommu/domain.h"
#include "iommu/iommu.h"
#include "iommu/iotlb.h"
#include "iommu/walk.h"
#include "mem/memory.h"
#include "mem/pgtable.h"

#define SMMUV3_LEVELS 4             /* 4 KiB granule, 48-bit input */
#define SMMUV3_IA_BITS 48           /* input size of every table (T0SZ = S2T0SZ = 16) */

/* The page sizes a table of @granule bytes holds: the granule and its
 * level-2 block (4K: also the 1 GiB level-3 block); 0 for a bad granule. */
static inline uint64_t smmuv3_pgsizes(uint64_t granule)
{
    switch (granule) {
    case 4096: return UINT64_C(0x1000) | (UINT64_C(1) << 21) | (UINT64_C(1) << 30);
    case 16384: return UINT64_C(0x4000) | (UINT64_C(1) << 25);
    case 65536: return UINT64_C(0x10000) | (UINT64_C(1) << 29);
    default: return 0;
    }
}
#define SMMUV3_STE_BYTES 64
#define SMMUV3_CD_BYTES 64

enum smmuv3_ste_config {
    SMMUV3_STE_INVALID = 0,         /* V = 0: C_BAD_STE */
    SMMUV3_STE_ABORT,
    SMMUV3_STE_BYPASS,
    SMMUV3_STE_S1,
    SMMUV3_STE_S2,
    SMMUV3_STE_NESTED,
};

enum smmuv3_fault_mode { SMMUV3_FAULT_TERMINATE = 0, SMMUV3_FAULT_STALL };

enum smmuv3_cmd_type {
    SMMUV3_CMD_CFGI_STE = 0,
    SMMUV3_CMD_CFGI_CD,
    SMMUV3_CMD_TLBI_NH_VA,
    SMMUV3_CMD_TLBI_NH_ASID,
    SMMUV3_CMD_TLBI_S2_IPA,
    SMMUV3_CMD_TLBI_NSNH_ALL,
    SMMUV3_CMD_ATC_INV,
    SMMUV3_CMD_SYNC,
    SMMUV3_CMD_NTYPES
};

extern const char *const smmuv3_cmd_names[SMMUV3_CMD_NTYPES];

typedef void (*smmuv3_sync_fn)(void *ctx, sim_tick_t when);

/*
 * A command. Ranges: TLBI_NH_VA and TLBI_S2_IPA invalidate [addr, addr +
 * size) (size 0: the one 4 KiB page at addr, the non-range form); ATC_INV
 * [addr, addr + size) of stream sid's device TLB (size 0: all of it).
 */
struct smmuv3_cmd {
    enum smmuv3_cmd_type type;
    uint32_t sid, ssid;             /* CFGI_*, ATC_INV */
    uint16_t vmid, asid;            /* TLBI_* */
    uint64_t addr, size;
    smmuv3_sync_fn sync_done;       /* SYNC: called at its completion tick (may be NULL) */
    void *ctx;
};

/* One cache level's settings (gem5: *_entries, *_assoc, *_policy, *_enable, *_lat). */
struct smmuv3_cache_cfg {
    bool enable;
    unsigned entries, ways;         /* ways 0: fully associative */
    enum iotlb_policy policy;
    sim_tick_t lat;
    unsigned slots;                 /* lookups in progress at once, each holding a slot
                                     * for lat (gem5 *_slots); 0: no limit */
};

struct smmuv3_cfg {
    struct smmuv3_cache_cfg utlb, tlb;      /* per device interface */
    struct smmuv3_cache_cfg smmu_tlb, cfg_cache;
    struct smmuv3_cache_cfg ipa_cache;      /* gem5 ipa_cache_*: stage-2 results of nested
                                             * walks; its lat is paid once per nested walk */
    bool wc_enable;
    unsigned wc_entries[2][4];              /* [stage-1][level L0..L3] */
    unsigned wc_levels[2];                  /* enable masks, bit L = level L (gem5: 7,
                                             * L3 off) */
    unsigned wc_ways;                       /* 0: fully associative */
    enum iotlb_policy wc_policy;
    sim_tick_t wc_lat;
    unsigned wc_slots;                      /* walk-cache lookups at once; 0: no limit */
    bool wc_nonfinal;                       /* nested: the stage-2 walk caches serve the
                                             * stage-1 table addresses too (gem5
                                             * wc_nonfinal_enable; false: only the final
                                             * IPA, as gem5's default) */
    unsigned ifc_slots, xlate_slots, ptw_slots;
    sim_tick_t ifc_smmu_lat, smmu_ifc_lat;
    bool prefetch;                          /* next-4 KiB-page prefetch into the main TLB */
    bool prefetch_reserve_last_way;         /* with prefetch: prefetches fill only the
                                             * main TLB's last way of a set, demand
                                             * fills the others (gem5; needs >= 2 ways) */
    unsigned max_streams, ssids_per_stream;
    bool st_two_level;
    unsigned st_split;                      /* two-level: streams per L1 entry = 2^split */
    uint64_t strtab_base, cdtab_base;       /* simulated addresses of the tables */
    uint64_t granule, s2_granule;           /* the OS domains' granules, bytes (4096,
                                             * 16384, 65536; 0: 4096) */
    enum smmuv3_fault_mode fault_mode;
    sim_tick_t stall_latency;               /* software's handling of a stall */
    unsigned evtq_entries;
    sim_tick_t cmd_time[SMMUV3_CMD_NTYPES];
    unsigned cmdq_entries;                  /* the queue's size, for the full counter */
    uint64_t seed;
    const char *path;
};

struct smmuv3_cd {
    bool valid;
    uint16_t asid;
    const struct pgtable *tt;               /* stage-1 table (TTB0) */
};

struct smmuv3_ste {
    enum smmuv3_ste_config config;
    uint16_t vmid;
    const struct pgtable *s2;               /* S2 and NESTED */
    bool stall_disable;                     /* S1STALLD: never stall this stream */
};

/* A resolved context: what the STE and CD say for (sid, ssid) now. */
struct smmuv3_ctx {
    enum smmuv3_ste_config config;
    uint32_t tag;                           /* smmuv3_tag() */
    const struct pgtable *s1, *s2;
    bool stall;
    int fault;                              /* 0, or an SMMUV3_EVT_* when unusable */
};

/* Event record types (the event queue). */
enum smmuv3_event_type {
    SMMUV3_EVT_NONE = 0,
    SMMUV3_EVT_C_BAD_STE,
    SMMUV3_EVT_C_BAD_CD,
    SMMUV3_EVT_F_STE_ABORT,                 /* not architected: the STE says abort */
    SMMUV3_EVT_F_TRANSLATION,
    SMMUV3_EVT_F_PERMISSION,
};

struct smmuv3_event {
    enum smmuv3_event_type type;
    uint32_t sid, ssid;
    uint64_t iova;
    bool is_write, stalled;
    sim_tick_t when;
};

/* The fault handler of stall mode: true to retry, false to terminate. */
typedef bool (*smmuv3_stall_fn)(void *ctx, const struct smmuv3_event *ev);

struct smmuv3;
struct smmuv3_xlate;

/* A device interface (here one per stream): its TLBs and slots. */
struct smmuv3_ifc {
    struct iommu mmu;                       /* the stream's address space */
    struct smmuv3 *s;
    uint32_t sid;
    int domain;                             /* the OS's domain, -1: none */
    struct iotlb utlb, tlb;
    struct sim_resource utlb_port, tlb_port;    /* lookup slots (reserve mode), live
                                                 * when utlb.slots / tlb.slots */
    unsigned slots_busy;
    struct iommu_req *wait_head, *wait_tail;
    struct walk_req pf;                     /* the prefetch walk */
    bool pf_busy;
    uint64_t pf_walks, pf_fills, pf_dropped;
    uint64_t slot_waits;
};

/* An SMMU translation slot and the state of the transaction holding it. */
struct smmuv3_xlate {
    struct smmuv3 *s;
    struct iommu_req *req;
    struct smmuv3_ctx ctx;
    struct walk_req wr;
    struct mem_req mr;
    uint64_t cfg_addr[3];
    unsigned cfg_n, cfg_i;
    bool walking, retried;
    uint64_t vpn;                           /* 4 KiB page being walked */
    struct smmuv3_xlate *merged;            /* slots waiting on this walk */
    struct smmuv3_xlate *next;              /* free list / merge list */
    struct smmuv3_event fev;                /* a stalled fault */
    struct sim_event ev;
};

struct smmuv3_cmdq {
    struct smmuv3_cmd *ring;
    sim_tick_t *end;                        /* processing end per queued command */
    unsigned cap, head, count;
    sim_tick_t busy_until;                  /* the processor's next free tick */
    sim_tick_t atc_pred;                    /* predicted end of ATC invalidations */
    struct sim_event ev;
};

struct smmuv3_stats {
    uint64_t translations, bypass, aborts;
    uint64_t ste_fetches, cd_fetches, cfg_reads;
    uint64_t walks, walk_reads, merged;
    uint64_t faults, terminated, stalled, stall_resumed, stall_terminated;
    uint64_t events, evtq_overflows;
    uint64_t cmds[SMMUV3_CMD_NTYPES];
    uint64_t cmdq_full;                     /* submissions beyond cmdq_entries pending */
    uint64_t atc_notify;                    /* DEVIOTLB_UNMAP events sent */
    uint64_t xlate_slot_waits;
    uint64_t maps, unmaps, map_pages, unmap_pages;
    struct lathist xlate_lat;               /* issue to completion, every transaction */
    struct lathist walk_lat;                /* walk issue to completion */
};

struct smmuv3_domain {
    struct iommu_domain dom;
    struct pgtable pt;
    bool live;
};

struct smmuv3 {
    struct sim *sim;
    struct mem *mem;
    struct smmuv3_cfg cfg;
    struct smmuv3_ste *ste;                 /* [max_streams] */
    struct smmuv3_cd *cd;                   /* [max_streams x ssids_per_stream] */
    struct smmuv3_ifc **ifc;                /* [max_streams], created on demand */
    struct iotlb smmu_tlb, cfg_cache;
    struct iotlb ipa_cache;                 /* live when cfg.ipa_cache.enable */
    /* Lookup slots (gem5's semaphores: a lookup holds one for its latency),
     * sim_resources in reserve mode, each live when its slots > 0. */
    struct sim_resource stlb_port, cfg_port, ipa_port, wc_port;
    struct walker walker;
    struct smmuv3_xlate *xl;                /* [xlate_slots] */
    struct smmuv3_xlate *xl_free;
    struct iommu_req *xwait_head, *xwait_tail;  /* waiting for an SMMU slot */
    struct smmuv3_cmdq q;
    /* The last TLBI's effect: an answer whose transaction was issued
     * before it may come from the old tables, so it fills no TLB. */
    bool inval_seen;
    sim_tick_t inval_tick;
    struct smmuv3_event *evtq;              /* ring of evtq_entries */
    unsigned evtq_head, evtq_count;
    smmuv3_stall_fn stall_fn;
    void *stall_ctx;
    /* The OS's view (smmuv3_domain.c). */
    enum smmuv3_ste_config dom_stage;       /* S1, S2 or NESTED */
    struct smmuv3_domain *dom;              /* [max_domains] */
    unsigned max_domains;
    struct pgtable s2_identity;             /* nested: the VM's stage 2 */
    bool s2_identity_live;
    uint64_t guest_memory;
    struct smmuv3_stats st;
};

/* The TLB tag of a context: VMID and ASID (stage 1, nested) or VMID (stage 2). */
static inline uint32_t smmuv3_tag(enum smmuv3_ste_config c, uint16_t vmid, uint16_t asid)
{
    if (c == SMMUV3_STE_S2)
        return UINT32_C(0x80000000) | (uint32_t)(vmid & 0x7fff) << 16;
    return (uint32_t)(vmid & 0x7fff) << 16 | asid;
}

extern const struct iommu_ops smmuv3_iommu_ops;

/* Validate cfg (one line in err: SIM_EINVAL) and allocate (SIM_ENOMEM). */
int smmuv3_create(struct smmuv3 *s, struct sim *sim, struct mem *mem,
                  const struct smmuv3_cfg *cfg, char *err, size_t errlen);
void smmuv3_destroy(struct smmuv3 *s);

/* Program stream @sid's STE / CD (functional; send CFGI_* for the caches). */
int smmuv3_ste_set(struct smmuv3 *s, uint32_t sid, const struct smmuv3_ste *ste);
int smmuv3_cd_set(struct smmuv3 *s, uint32_t sid, uint32_t ssid, const struct smmuv3_cd *cd);

/* The address space of stream @sid (its device interface, created once). */
int smmuv3_ifc_get(struct smmuv3 *s, uint32_t sid, struct iommu **out, char *err,
                   size_t errlen);

/* What (sid, ssid) resolves to now. */
void smmuv3_ctx_resolve(const struct smmuv3 *s, uint32_t sid, uint32_t ssid,
                        struct smmuv3_ctx *c);

/* The functional translation of @iova in a resolved context (perm NONE: none). */
struct iommu_tlb_entry smmuv3_ctx_lookup(const struct smmuv3_ctx *c, uint64_t iova);

void smmuv3_set_stall_handler(struct smmuv3 *s, smmuv3_stall_fn fn, void *ctx);

/* Oldest fault record, removed: true, or false when the queue is empty. */
bool smmuv3_evtq_pop(struct smmuv3 *s, struct smmuv3_event *out);

/* The address space's stream and its interface. */
struct smmuv3_ifc *smmuv3_ifc_of(struct iommu *mmu);

void smmuv3_reset_stats(struct smmuv3 *s);

/* --- Command queue (smmuv3_cmdq.c) ---------------------------------------- */

int smmuv3_cmdq_init(struct smmuv3 *s);
void smmuv3_cmdq_destroy(struct smmuv3 *s);

/*
 * Queue @n commands at tick @at (>= now). Returns the tick at which the last
 * one completes (a trailing SYNC: when software sees the sync; it includes
 * the ATC invalidations of earlier ATC_INVs, predicted from the device TLB
 * notifiers' latency). Effects happen at each command's processing end.
 */
sim_tick_t smmuv3_cmdq_submit(struct smmuv3 *s, const struct smmuv3_cmd *cmds, unsigned n,
                              sim_tick_t at);

/* Apply one command's effect now (the queue calls it at the processing end). */
void smmuv3_cmd_apply(struct smmuv3 *s, const struct smmuv3_cmd *c);

/* --- The OS's view: domains (smmuv3_domain.c) ------------------------------ */

/*
 * Domains of @stage (S1: a CD with ASID = id; S2: an STE with VMID = id;
 * NESTED: stage 1 per domain over one identity stage 2 of @guest_memory
 * bytes, VMID 1). Call once after smmuv3_create.
 */
int smmuv3_domains_init(struct smmuv3 *s, enum smmuv3_ste_config stage,
                        unsigned max_domains, uint64_t guest_memory, char *err,
                        size_t errlen);
int smmuv3_domain_get(struct smmuv3 *s, unsigned id, struct iommu_domain **out, char *err,
                      size_t errlen);
int smmuv3_attach(struct smmuv3 *s, uint32_t sid, unsigned id, struct iommu **out,
                  char *err, size_t errlen);

/* --- As an object of a config (smmuv3_object.c) --------------------------- */
extern const struct sim_model smmuv3_model_object;     /* "SMMUv3" */

#endif /* SIM_IOMMU_SMMUV3_H */
