/*
 * iotlb.h - the IOTLB: a set-associative translation cache with MSHRs.
 *
 * Geometry: one array per page size (4 KiB, 2 MiB, 1 GiB: "split", as most
 * MMU TLBs and SST Samba's per-size TLBs) or one unified array holding every
 * size, the Arm granules' 16 KiB, 64 KiB, 32 MiB and 512 MiB too. Each array has sets x ways entries; ways == entries is fully
 * associative. Replacement: lru, plru (binary tree, ways a power of two),
 * fifo, random (a seeded sim_rng stream, so runs are reproducible). An
 * invalid way is always used before any valid one is evicted.
 *
 * Tags: (domain or PASID, iommu_idx, page number, page size); an entry holds
 * the output page address and permissions.
 *
 * Invalidation: global, per domain, per page (every size that could hold the
 * address) and per range (address + mask), each counted, plus the number of
 * entries actually removed.
 *
 * MSHRs: a miss to a page whose walk is already in flight joins that walk
 * instead of starting another (gem5 SMMUv3's hazard check on 4 KiB pages).
 * An MSHR is keyed by (domain, iommu_idx, 4 KiB page), because the size of
 * the page is not known before the walk ends.
 *
 * Costs: lookup is one hash probe per page size present (one or two in practice),
 * allocation-free; insert is O(1) (O(log ways) for plru); domain and range
 * invalidation scan the arrays' valid entries (a bitmap of them per array:
 * an empty or nearly empty array costs a word per 64 entries), which is what
 * hardware without range support does too. Timing (hit latency, lookup ports) belongs to the model
 * that owns the IOTLB; this file is structure and statistics.
 */
#ifndef SIM_IOTLB_H
#define SIM_IOTLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/rng.h"

struct iommu_req;

enum iotlb_policy { IOTLB_LRU = 0, IOTLB_PLRU, IOTLB_FIFO, IOTLB_RANDOM };

/* The arrays of split mode (one per x86 page size), indexes of cfg.arr. */
enum iotlb_size { IOTLB_4K = 0, IOTLB_2M, IOTLB_1G, IOTLB_NSIZES };

/*
 * The sizes an entry can have: the x86 ones and the Arm translation
 * granules' pages and blocks (16 KiB: 32 MiB blocks; 64 KiB: 512 MiB). A
 * page is cached at the largest class not above its size that the IOTLB
 * holds: every class in unified mode, only 4K/2M/1G in split mode (a 64 KiB
 * page there is cached as 4 KiB pieces). Lookups probe only the classes
 * that hold entries now.
 */
enum iotlb_class {
    IOTLB_C4K = 0, IOTLB_C16K, IOTLB_C64K, IOTLB_C2M, IOTLB_C32M, IOTLB_C512M, IOTLB_C1G,
    IOTLB_NCLASSES
};

struct iotlb_array_cfg {
    unsigned entries;               /* 0: no array (split mode only) */
    unsigned ways;                  /* entries % ways == 0; == entries: fully assoc. */
};

struct iotlb_cfg {
    enum iotlb_policy policy;
    bool split;                     /* arrays per size; else arr[0] holds all */
    struct iotlb_array_cfg arr[IOTLB_NSIZES];
    unsigned mshrs;                 /* outstanding distinct misses tracked */
    uint64_t seed;                  /* for the random policy */
    const char *path;               /* dotted name: errors and the rng stream */
};

struct iotlb_stats {
    uint64_t lookups, hits, misses;
    uint64_t merged;                /* misses that joined an in-flight walk */
    uint64_t mshr_full;             /* misses that found every MSHR busy */
    uint64_t fills, evictions;
    uint64_t inval_global, inval_domain, inval_page, inval_range;
    uint64_t inval_entries;         /* entries removed by invalidations */
    uint64_t occupancy;             /* valid entries now */
};

struct iotlb_entry {
    uint64_t vpn;                   /* iova >> page shift */
    uint64_t pa;                    /* output page address */
    uint32_t domain;
    uint16_t idx;
    uint8_t size;                   /* enum iotlb_class */
    uint8_t perm;
    uint8_t valid;
    uint32_t set;                   /* fixed (index / ways): spares a division per hit */
};

struct iotlb_array {
    unsigned sets, ways, n;
    uint32_t mru;                   /* entry index + 1 of the last hit or fill, 0: none
                                     * (in what was padding: same size and offsets) */
    struct iotlb_entry *e;
    uint32_t *prev, *next;          /* per-set list: valid MRU-first, invalid at tail */
    uint32_t *head, *tail;          /* per set */
    uint64_t *plru;                 /* per set tree bits (plru) */
    uint64_t *hash;                 /* tag hash << 32 | entry index + 1; linear probing */
    uint32_t hmask;
    uint32_t count[IOTLB_NCLASSES]; /* valid entries by size class */
};

struct iotlb_mshr {
    bool busy;
    uint32_t domain;
    uint16_t idx;
    uint64_t vpn4k;
    struct iommu_req *head, *tail;  /* requests waiting on this walk */
};

struct iotlb {
    struct iotlb_cfg cfg;
    struct iotlb_array arr[IOTLB_NSIZES];
    unsigned narr;
    struct sim_rng rng;
    struct iotlb_mshr *mshr;
    unsigned mshr_busy;
    uint16_t max_idx;               /* largest iommu_idx inserted */
    /* Bit s: size class s has valid entries now (a lookup probes those
     * classes only). Lives in what was padding: the struct's size and
     * offsets are unchanged. */
    uint8_t live;
    struct iotlb_stats st;
};

/* A hit: the page's output address, size and permissions. */
struct iotlb_hit {
    uint64_t translated_addr;
    uint64_t addr_mask;
    unsigned perm;
};

/*
 * Validate and allocate. SIM_EINVAL with "path: what (got, expected)" in err
 * for a bad geometry (entries not a multiple of ways, plru ways not a power
 * of two or > 64, no array, sets not a power of two); SIM_ENOMEM.
 */
int iotlb_init(struct iotlb *t, const struct iotlb_cfg *cfg, char *err, size_t errlen);
void iotlb_destroy(struct iotlb *t);

/* Look up; counts a hit or a miss and updates replacement state. */
bool iotlb_lookup(struct iotlb *t, uint32_t domain, unsigned idx, uint64_t iova,
                  struct iotlb_hit *hit);

/*
 * iotlb_lookup(), with its most common hit inline: a 4 KiB entry of a
 * unified LRU array that is the array's last hit or fill (mru) and already
 * its set's most recent, so the hit changes nothing but the counts (a
 * context cache answering one requester, a device's run of requests to one
 * page). Every other case calls iotlb_lookup(). Same answer, same counts,
 * same replacement state; for the callers on a request's path.
 */
static inline bool iotlb_lookup_mru(struct iotlb *t, uint32_t domain, unsigned idx,
                                    uint64_t iova, struct iotlb_hit *hit)
{
    const struct iotlb_array *a = &t->arr[0];

    /* live bit 0: 4 KiB is the smallest class holding entries, the one a
     * lookup probes first. */
    if ((t->live & 1u) && !t->cfg.split && t->cfg.policy == IOTLB_LRU && a->mru) {
        const struct iotlb_entry *e = &a->e[a->mru - 1];

        if (e->valid && e->vpn == iova >> 12 && e->domain == domain && e->idx == idx &&
            e->size == IOTLB_C4K && a->head[e->set] == a->mru - 1) {
            t->st.lookups++;
            t->st.hits++;
            hit->addr_mask = 0xfff;
            hit->translated_addr = e->pa;
            hit->perm = e->perm;
            return true;
        }
    }
    return iotlb_lookup(t, domain, idx, iova, hit);
}

/* Fill after a walk. addr_mask selects the size (4 KiB, 2 MiB or 1 GiB;
 * other sizes are cached as their largest supported sub-size containing
 * iova). An existing entry for the same tag is overwritten, not duplicated. */
void iotlb_insert(struct iotlb *t, uint32_t domain, unsigned idx, uint64_t iova,
                  uint64_t translated_addr, uint64_t addr_mask, unsigned perm);

/* The same, but a new entry may only take ways [way_lo, way_hi) of its set
 * (gem5 SMMUv3's prefetch_reserve_last_way: prefetches fill the last way,
 * demand fills the others). The victim is an invalid way of the range, else
 * the policy's choice within it (lru/fifo: the oldest of the range; plru:
 * the tree's, turned away from subtrees outside it; random: uniform in it).
 * An existing entry for the tag is overwritten where it is. Needs
 * way_lo < way_hi <= ways; costs O(ways) per fill. */
void iotlb_insert_ways(struct iotlb *t, uint32_t domain, unsigned idx, uint64_t iova,
                       uint64_t translated_addr, uint64_t addr_mask, unsigned perm,
                       unsigned way_lo, unsigned way_hi);

void iotlb_inval_global(struct iotlb *t);
void iotlb_inval_domain(struct iotlb *t, uint32_t domain);
void iotlb_inval_page(struct iotlb *t, uint32_t domain, uint64_t iova);
/* Every entry of @domain overlapping [addr, addr + mask]. */
void iotlb_inval_range(struct iotlb *t, uint32_t domain, uint64_t addr, uint64_t mask);

/* --- MSHRs ---------------------------------------------------------------- */

/* The busy MSHR for this page, or NULL. A hit counts as a merged miss. */
struct iotlb_mshr *iotlb_mshr_find(struct iotlb *t, uint32_t domain, unsigned idx,
                                   uint64_t iova);
/* The same without counting (a model deciding whether a miss may join). */
struct iotlb_mshr *iotlb_mshr_peek(const struct iotlb *t, uint32_t domain, unsigned idx,
                                   uint64_t iova);
/* A free MSHR for this page, marked busy, or NULL if all are busy. */
struct iotlb_mshr *iotlb_mshr_alloc(struct iotlb *t, uint32_t domain, unsigned idx,
                                    uint64_t iova);
void iotlb_mshr_free(struct iotlb *t, struct iotlb_mshr *m);

static inline double iotlb_hit_rate(const struct iotlb *t)
{
    return t->st.lookups ? (double)t->st.hits / (double)t->st.lookups : 0.0;
}

void iotlb_reset_stats(struct iotlb *t);

#endif /* SIM_IOTLB_H */
