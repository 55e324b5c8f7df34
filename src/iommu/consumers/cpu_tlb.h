/*
 * cpu_tlb.h - a TCG-style software TLB in front of an IOMMU.
 *
 * What QEMU's TCG does when a CPU's accesses go through an IOMMU memory
 * region (accel/tcg/cputlb.c: tlb_set_page for an IOMMU section registers a
 * TCGIOMMUNotifier, UNMAP only, over the whole region, one per iommu_idx;
 * tcg_iommu_unmap_notify then flushes the CPU's whole TLB, because TCG
 * keeps no reverse map from an IOMMU page to its TLB entries). Any event
 * thus costs a full flush and every translation afterwards misses once.
 *
 * Here: one UNMAP notifier per iommu_idx of the address space; a TLB of
 * `entries` (direct-mapped by default, like TCG's fast path) filled by
 * cpu_tlb_translate() from the IOMMU's functional translate; each event
 * flushes the whole TLB (iotlb_inval_global) and costs flush_latency.
 */
#ifndef SIM_IOMMU_CPU_TLB_H
#define SIM_IOMMU_CPU_TLB_H

#include <stddef.h>
#include <stdint.h>

#include "iommu/consumers/consumer.h"
#include "iommu/iotlb.h"

struct cpu_tlb_cfg {
    unsigned entries;               /* >= 1, power of two with ways 1 */
    unsigned ways;                  /* 0: 1 (direct-mapped) */
    sim_tick_t hit_latency;         /* a fast-path hit */
    sim_tick_t fill_latency;        /* a miss: tlb_fill through the IOMMU's translate */
    sim_tick_t flush_latency;       /* one whole flush (per event) */
    const char *path;
};

struct cpu_tlb_stats {
    uint64_t lookups, hits, misses;
    uint64_t events;                /* UNMAP events received (every index) */
    uint64_t flushes;               /* whole-TLB flushes: one per event */
    uint64_t flushed_entries;       /* valid entries those flushes dropped */
};

enum { CPUTLB_R_LOOKUPS, CPUTLB_R_HITS, CPUTLB_R_MISSES, CPUTLB_R_EVENTS, CPUTLB_R_FLUSHES,
       CPUTLB_R_FLUSHED_ENTRIES };

struct cpu_tlb {
    struct iommu_consumer c;        /* first */
    struct cpu_tlb_cfg cfg;
    struct sim *sim;
    struct iotlb tlb;
    struct iommu_notifier *n;       /* one per iommu_idx, allocated at attach */
    unsigned nn;
    struct cpu_tlb_stats st;
};

extern const struct iommu_consumer_ops cpu_tlb_consumer_ops;

int cpu_tlb_init(struct cpu_tlb *t, struct sim *sim, const struct cpu_tlb_cfg *cfg,
                 char *err, size_t errlen);
void cpu_tlb_destroy(struct cpu_tlb *t);

/*
 * A CPU access to @iova in index @idx: fills *out (perm NONE: the IOMMU
 * faults it) and returns the tick the translation is available.
 */
sim_tick_t cpu_tlb_translate(struct cpu_tlb *t, uint64_t iova, unsigned access, unsigned idx,
                             struct iommu_tlb_entry *out);

/* "CpuTlb": the config descriptor (cpu_tlb.c). */
extern const struct sim_model cpu_tlb_model;

#endif /* SIM_IOMMU_CPU_TLB_H */
