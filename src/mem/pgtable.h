/*
 * pgtable.h - sparse radix page tables, one per domain (or per stage).
 *
 * Each table has a translation granule (Arm DDI 0487, "VMSAv8-64
 * translation table format": granule sizes and lookup levels):
 *   4 KiB:  512 entries per table, 9 bits of input per level above a 12-bit
 *           page offset (the x86-64 shape too); leaves 4 KiB, 2 MiB, 1 GiB;
 *   16 KiB: 2048 entries, 11 bits per level, 14-bit offset; leaves 16 KiB,
 *           32 MiB;
 *   64 KiB: 8192 entries, 13 bits per level, 16-bit offset; leaves 64 KiB,
 *           512 MiB.
 * The number of levels follows from the input size as the Arm ARM derives
 * it: levels = ceil((ia_bits - offset) / bits per level), the top level
 * taking the bits left over (48-bit inputs: 4K -> 4 levels; 16K -> 4 levels
 * whose top table has 2 entries; 64K -> 3 levels, top table 64 entries).
 * pgtable_init() is the 4 KiB granule with 3, 4 or 5 levels (39, 48 or
 * 57-bit IOVAs), which every x86 model uses; pgtable_init_granule() takes a
 * granule and an input size (SMMUv3: CD.TG0/T0SZ, STE.S2TG/S2T0SZ).
 *
 * Level 1 is the last level (granule pages); a leaf may sit at any level
 * whose page size is in the table's page-size bitmap (2 MiB at level 2,
 * 1 GiB at level 3 with 4 KiB; 512 MiB at level 2 with 64 KiB), which is
 * how huge pages (blocks) are mapped.
 *
 * Only tables that hold something exist, so memory is proportional to what
 * is mapped: one node per table (a 4 KiB-granule node holds 512 entries, a
 * 64 KiB one 8192), plus the path above it. Tables emptied by an unmap are
 * freed.
 *
 * Every table node has a simulated address (table_base + granule x node
 * number: a 64 KiB-granule table occupies 64 KiB) so that the walker can
 * issue each PTE read to the memory model at a realistic, distinct address;
 * pgtable_walk() reports those addresses. For a nested (stage-1 over
 * stage-2) setup, a stage-1 table's addresses are intermediate
 * (guest-physical) addresses that stage 2 must map.
 *
 * Costs: lookup and walk O(levels); map and unmap O(levels) per page placed.
 * Nothing here is on an allocation-free path except lookup and walk.
 */
#ifndef SIM_PGTABLE_H
#define SIM_PGTABLE_H

#include <stddef.h>
#include <stdint.h>

#define PGTABLE_MAX_LEVELS 5
#define PGTABLE_ENTRIES    512      /* of a 4 KiB-granule table */
#define PGTABLE_PAGE_SHIFT 12       /* the 4 KiB granule */

/* Permission bits of a mapping, the same values as iommu.h's access flags. */
enum {
    PGTABLE_PERM_R = 1,
    PGTABLE_PERM_W = 2,
};

struct pgtable_node;

struct pgtable_stats {
    uint64_t maps, unmaps;          /* pages (leaves) placed and removed */
    uint64_t nodes, nodes_max;      /* tables allocated now / at most */
    uint64_t leaves;                /* leaves present now */
};

struct pgtable {
    unsigned levels;                /* 2 .. 5 (3 .. 5 with the 4 KiB granule) */
    /* In what was padding after levels: the struct's size, and so
     * pgtable_mem_bytes() of a 4 KiB table, are what they were before
     * granules (a statistic of the generic model). */
    uint8_t page_shift;             /* log2 of the granule: 12, 14 or 16 */
    uint8_t bits;                   /* input bits per level: 9, 11 or 13 */
    uint8_t ia_bits;                /* input size: the span is 2^ia_bits */
    uint64_t pgsize_bitmap;         /* allowed page sizes, bit n = 2^n bytes */
    uint64_t table_base;            /* simulated address of node 0 */
    uint64_t next_node;             /* node numbers handed out (never reused) */
    struct pgtable_node *root;
    struct pgtable_stats st;
};

/* The answer of a functional lookup. */
struct pgtable_result {
    uint64_t translated_addr;       /* output address of the page (aligned) */
    uint64_t addr_mask;             /* page size - 1 */
    unsigned perm;                  /* PGTABLE_PERM_* */
    unsigned level;                 /* level of the leaf: 1 = a granule page */
};

/* The reads a hardware walker makes for one IOVA, root first. */
struct pgtable_path {
    unsigned n;                             /* reads made */
    uint64_t pte_addr[PGTABLE_MAX_LEVELS];  /* simulated address of each PTE */
    unsigned level[PGTABLE_MAX_LEVELS];
};

/* Page size of a leaf at `level` (1-based) of a 4 KiB-granule table. */
static inline uint64_t pgtable_level_size(unsigned level)
{
    return UINT64_C(1) << (PGTABLE_PAGE_SHIFT + 9 * (level - 1));
}

/* Lowest input bit that indexes `level` (1-based) of this table's granule. */
static inline unsigned pgtable_level_shift(const struct pgtable *pt, unsigned level)
{
    return pt->page_shift + pt->bits * (level - 1);
}

/* Page size of a leaf at `level` of this table. */
static inline uint64_t pgtable_leaf_size(const struct pgtable *pt, unsigned level)
{
    return UINT64_C(1) << pgtable_level_shift(pt, level);
}

/* The table's granule in bytes (4096, 16384 or 65536). */
static inline uint64_t pgtable_granule(const struct pgtable *pt)
{
    return UINT64_C(1) << pt->page_shift;
}

/*
 * The 4 KiB granule: levels 3..5; pgsize_bitmap must include 4 KiB and only
 * sizes of levels 1..levels (a 3-level VT-d or LPAE table holds 1 GiB
 * leaves in its root); table_base 4 KiB-aligned. SIM_EINVAL otherwise.
 */
int pgtable_init(struct pgtable *pt, unsigned levels, uint64_t pgsize_bitmap,
                 uint64_t table_base);

/*
 * Any granule: granule 4096, 16384 or 65536 bytes; ia_bits the input size,
 * at most 57 and giving at least 2 levels (more than 21 bits with 4 KiB, 25
 * with 16 KiB, 29 with 64 KiB); pgsize_bitmap must include the granule and only leaf sizes of
 * levels 1..levels; table_base aligned to the granule. SIM_EINVAL
 * otherwise. pgtable_init(pt, L, b, t) is pgtable_init_granule(pt, 4096,
 * 12 + 9 L, b, t).
 */
int pgtable_init_granule(struct pgtable *pt, uint64_t granule, unsigned ia_bits,
                         uint64_t pgsize_bitmap, uint64_t table_base);

/* The levels a table of @granule bytes needs for @ia_bits of input (0: bad granule). */
unsigned pgtable_levels_for(uint64_t granule, unsigned ia_bits);

void pgtable_destroy(struct pgtable *pt);

/* Size of the IOVA space: 2^ia_bits (2^(12 + 9 levels) with 4 KiB). */
static inline uint64_t pgtable_span(const struct pgtable *pt)
{
    return UINT64_C(1) << pt->ia_bits;
}

/*
 * Map [iova, iova + size) to [pa, pa + size) with perm (non-zero), placing
 * at each step the largest page size that the bitmap allows, that fits the
 * remaining size and to which both iova and pa are aligned (Linux's
 * iommu_pgsize()). iova, pa and size must be aligned to the granule.
 * Errors: SIM_EINVAL (alignment, perm, size 0), SIM_ERANGE (beyond the
 * span), SIM_EEXIST (overlaps a mapping), SIM_ENOMEM. On an error nothing
 * stays mapped (what was placed is unmapped again, as __iommu_map does).
 */
int pgtable_map(struct pgtable *pt, uint64_t iova, uint64_t pa, uint64_t size,
                unsigned perm);

/*
 * Called by pgtable_unmap() for every leaf removed, with the entry it held
 * (iova and translated_addr aligned to addr_mask + 1).
 */
typedef void (*pgtable_unmap_cb)(void *arg, uint64_t iova,
                                 const struct pgtable_result *old);

/*
 * Remove every leaf inside [iova, iova + size); holes are skipped. A leaf
 * that straddles either end is not split: SIM_EINVAL before anything is
 * removed. *unmapped (may be NULL) gets the bytes of leaves removed.
 */
int pgtable_unmap(struct pgtable *pt, uint64_t iova, uint64_t size,
                  pgtable_unmap_cb cb, void *arg, uint64_t *unmapped);

/*
 * Functional lookup: 0 and *r filled (translated_addr is the page's output
 * address, not iova's), or SIM_EFAULT when nothing maps iova.
 */
int pgtable_lookup(const struct pgtable *pt, uint64_t iova,
                   struct pgtable_result *r);

/*
 * The walk a hardware walker would make: fills *path with the PTE reads from
 * the root down to the leaf (or down to the non-present entry that faults,
 * which is read too), and *r like pgtable_lookup(). Allocation-free.
 */
int pgtable_walk(const struct pgtable *pt, uint64_t iova,
                 struct pgtable_path *path, struct pgtable_result *r);

/*
 * Visit every leaf that overlaps [start, end] (inclusive) in IOVA order:
 * the cost is proportional to what is mapped, not to the range. A model's
 * replay uses this instead of the 2^36-call default granule walk.
 */
typedef void (*pgtable_leaf_cb)(void *arg, uint64_t iova,
                                const struct pgtable_result *r);
void pgtable_for_each(const struct pgtable *pt, uint64_t start, uint64_t end,
                      pgtable_leaf_cb cb, void *arg);

/* Host memory the tables use, in bytes. */
size_t pgtable_mem_bytes(const struct pgtable *pt);

#endif /* SIM_PGTABLE_H */
