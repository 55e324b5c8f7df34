/*
 * walk.h - the page-table walker: walk slots, page-walk caches, nested walks.
 *
 * A walker unit has `walkers` concurrent walk slots (a sim_resource: a walk
 * waits FIFO for a slot, and the wait is a statistic). A walk decides its
 * reads when it gets a slot, from the page tables as they are at that tick,
 * then makes them one after another through the memory model (each read
 * depends on the one before, as in hardware).
 *
 * Page-walk caches (PWCs), one per depth d (1 .. levels-1) and stage: PWC d
 * remembers, for an IOVA prefix covering the top d levels, that the table
 * those d reads lead to is known. A hit at the deepest d skips d reads: a
 * 4-level walk is 4 reads cold and 1 read with warm PWCs. The prefix is the
 * IOVA above the bits the remaining levels index, so its width follows the
 * table's granule (4 KiB: 9 bits a level; 64 KiB: 13, so two IOVAs 64 KiB
 * apart share every prefix but the leaf's).
 *
 * Two options serve Arm's walk caches (gem5 SMMUv3, walk_S1L0..walk_S2L3):
 *  - pwc_by_level: PWC index k holds entries read at Arm level k - 1 (the
 *    leaf level of any granule is L3, index 4), not depth k; a 3-level
 *    64 KiB-granule walk starts at L1, so its first read is cached at index
 *    2, where a 4-level 4 KiB walk's second read is. Index = 4 - levels + d.
 *  - pwc_leaf: a leaf entry is cached too, at its level's index (a 2 MiB
 *    block at L2, a page at L3), and a hit there skips every read of the
 *    stage (gem5's walkCacheUpdate(..., leaf = true)).
 *  - s2_pwc_final_only: in a nested walk the stage-2 PWCs serve only the
 *    final IPA's stage-2 walk; each stage-1 table address takes a full
 *    stage-2 walk that neither looks up nor fills them (gem5's
 *    wc_nonfinal_enable = false). The IPA cache still serves both.
 * All are off for every x86 model (depth indexing, tables only). PWCs are filled
 * when a walk completes. They model timing only: the answer always comes
 * from the current tables, so a missed PWC invalidation can understate a
 * walk's cost but never return a wrong translation. Models invalidate them
 * (walk_pwc_inval_domain) when tables are freed, for realistic costs.
 *
 * Nested (stage 1 over stage 2, the two-dimensional walk): every stage-1
 * table address is an intermediate address that stage 2 translates before
 * it can be read, and so is the final output. Cold 4x4 walk: 4 x (4 + 1) + 4
 * = 24 reads. Stage-2 walks use the stage-2 PWCs.
 *
 * A walk that finds no mapping completes with SIM_EFAULT (counted); its
 * reads up to the non-present entry are still made and timed. A faulting
 * walk fills no PWC (conservative: faults are rare and usually followed by
 * a map that changes the tables anyway).
 */
#ifndef SIM_WALK_H
#define SIM_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/resource.h"
#include "iommu/iotlb.h"
#include "mem/memory.h"
#include "mem/pgtable.h"

#define WALK_MAX_READS ((PGTABLE_MAX_LEVELS + 1) * PGTABLE_MAX_LEVELS + PGTABLE_MAX_LEVELS)

struct walk_cfg {
    unsigned walkers;                       /* concurrent walks, >= 1 */
    unsigned pwc_entries[PGTABLE_MAX_LEVELS]; /* per depth 1..4 (index d); 0: none */
    unsigned pwc_ways;                      /* 0: fully associative */
    unsigned pwc_ways_at[PGTABLE_MAX_LEVELS]; /* per depth; 0: pwc_ways applies */
    unsigned pte_bytes;                     /* bytes per PTE read (8) */
    bool pwc_by_level;                      /* index by Arm level + 1, not depth */
    bool pwc_leaf;                          /* leaves are cached at their level too */
    bool s2_pwc_final_only;                 /* nested: the stage-2 PWCs serve (look up
                                             * and fill) only the final IPA's stage-2
                                             * walk, not those of the stage-1 table
                                             * addresses (gem5 SMMUv3's
                                             * wc_nonfinal_enable = false); false: all */
    const char *path;
};

struct walk_stats {
    uint64_t walks, faults, reads;
    uint64_t reads_hist[WALK_MAX_READS + 1];    /* reads per walk */
    double lat_sum;                             /* issue to completion, ticks */
    sim_tick_t lat_max;
    uint64_t lat_hist[48];                      /* log2 bins of latency */
    uint64_t pwc_lookups[2][PGTABLE_MAX_LEVELS];
    uint64_t pwc_hits[2][PGTABLE_MAX_LEVELS];   /* [stage][depth] */
    uint64_t ipa_lookups, ipa_hits;             /* the optional IPA cache (walker.ipa) */
};

struct walk_req;
typedef void (*walk_done_fn)(struct walk_req *r);

struct walk_req {
    /* Set by the caller. */
    const struct pgtable *s1;       /* the (stage-1) table */
    const struct pgtable *s2;       /* stage 2 for a nested walk, else NULL */
    bool s1_is_s2;                  /* s1 is a stage-2 table walked on its own (an
                                     * SMMU stage-2-only stream): the stage-2 PWCs
                                     * serve it; false for every other walk */
    uint32_t domain;                /* PWC tag */
    uint64_t iova;
    walk_done_fn done;
    void *ctx;

    /* Results, valid in done(). */
    int status;                     /* 0 or SIM_EFAULT */
    struct pgtable_result res;      /* the leaf (combined for nested walks) */
    unsigned nreads;
    sim_tick_t issued, started, completed;

    /* Private. */
    struct walker *w;
    struct sim_resource_req rr;
    struct mem_req mr;
    unsigned next;
    uint64_t addr[WALK_MAX_READS];
    unsigned nfill;
    struct { uint8_t stage, depth; uint64_t prefix; } fill[WALK_MAX_READS];
    unsigned nipa;                  /* IPA cache fills, one per stage-2 sub-walk */
    struct { uint64_t ipa; struct pgtable_result res; } ipa_fill[PGTABLE_MAX_LEVELS + 1];
};

struct walker {
    struct sim *sim;
    struct mem *mem;
    struct walk_cfg cfg;
    struct sim_resource slots;
    struct iotlb pwc[2][PGTABLE_MAX_LEVELS];
    bool pwc_on[2][PGTABLE_MAX_LEVELS];
    struct walk_stats st;
    /*
     * Optional IPA cache (gem5 SMMUv3's ipa_cache): stage-2 leaf results of
     * nested walks, tagged by the walk's domain. A hit replaces a stage-2
     * sub-walk (its table reads) by nothing. Owned and set up by the model
     * after walker_init (NULL: none, every other model); invalidated with
     * the PWCs by walk_pwc_inval_domain/_all.
     */
    struct iotlb *ipa;
};

int walker_init(struct walker *w, struct sim *sim, struct mem *mem,
                const struct walk_cfg *cfg, char *err, size_t errlen);
void walker_destroy(struct walker *w);

/* Queue a walk; r->done runs when it completes. Allocation-free. */
void walk_start(struct walker *w, struct walk_req *r);

/* The reads a walk would make now and its answer, without timing or cache
 * updates (for tests and for checking a model). Returns the status. */
int walk_plan(struct walker *w, struct walk_req *r);

void walk_pwc_inval_domain(struct walker *w, uint32_t domain);
void walk_pwc_inval_all(struct walker *w);
void walker_reset_stats(struct walker *w);

#endif /* SIM_WALK_H */
