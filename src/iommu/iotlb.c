/*
 * iotlb.c - set-associative IOTLB with MSHRs (see iotlb.h).
 *
 * Every array keeps a hash of its valid entries (open addressing, linear
 * probing, backward-shift deletion) so that a lookup costs one probe
 * whatever the associativity: a 2048-way fully associative TLB costs what a
 * 4-way one does. Per set, a doubly linked list orders the ways: valid
 * entries MRU-first, invalid ones at the tail. That one list gives LRU
 * (victim = tail), FIFO (moved to the head on insert only) and "an invalid
 * way first" for plru and random in O(1).
 *
 * Three summaries keep the common cases cheap (tests/iommu/
 * test_iotlb_summaries.c checks them against a reference model): t->live
 * has a bit per size class with valid entries (a lookup probes only those,
 * typically one, instead of testing all seven classes); each array has a
 * bitmap of its valid entries, stored after its hash slots in the same
 * allocation, so a domain or range invalidation visits the valid entries,
 * in index order as a scan of every entry would, for a word per 64 entries
 * (the walker's six page-walk caches are emptied on every page-selective
 * invalidation of a strict unmap, and are nearly empty when it comes); and
 * each array remembers the entry of its last hit or fill (mru), whose tag
 * a lookup compares before hashing (a context cache answers one requester
 * over and over). The memo needs no invalidation: a removed entry is not
 * valid, a reused one has another tag. Lookup and fill results, order of
 * removals and replacement state are exactly those of the plain scans.
 */
#include "iommu/iotlb.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#define NIL UINT32_MAX

static const unsigned size_shift[IOTLB_NCLASSES] = { 12, 14, 16, 21, 25, 29, 30 };
/* Split mode: the array of each class (IOTLB_NSIZES: the class is not cached
 * in split mode, whose arrays are the x86 sizes). */
static const unsigned class_array[IOTLB_NCLASSES] = {
    IOTLB_4K, IOTLB_NSIZES, IOTLB_NSIZES, IOTLB_2M, IOTLB_NSIZES, IOTLB_NSIZES, IOTLB_1G,
};

/* --- Summaries: live classes, valid bitmap -------------------------------- */

/* The bitmap of valid entries: (n + 63) / 64 words after the hash slots. */
static inline uint64_t *valid_map(const struct iotlb_array *a)
{
    return a->hash + a->hmask + 1;
}

static inline void entry_set_valid(struct iotlb *t, struct iotlb_array *a, uint32_t ei,
                                   unsigned s)
{
    a->e[ei].valid = 1;
    valid_map(a)[ei / 64] |= UINT64_C(1) << (ei % 64);
    if (a->count[s]++ == 0)
        t->live |= (uint8_t)(1u << s);
}

static inline void entry_clear_valid(struct iotlb *t, struct iotlb_array *a, uint32_t ei)
{
    unsigned s = a->e[ei].size;

    a->e[ei].valid = 0;
    valid_map(a)[ei / 64] &= ~(UINT64_C(1) << (ei % 64));
    if (--a->count[s] == 0)
        t->live &= (uint8_t)~(1u << s);
}

/* --- Hash of valid entries ------------------------------------------------ */

/* Does valid entry @e have this tag? */
static inline bool entry_is(const struct iotlb_entry *e, uint32_t domain, unsigned idx,
                            uint64_t vpn, unsigned size)
{
    return e->valid && e->vpn == vpn && e->domain == domain && e->idx == idx &&
           e->size == size;
}

static inline uint32_t tag_hash(uint32_t domain, unsigned idx, uint64_t vpn, unsigned size)
{
    /* Fibonacci hashing: the product's high half is well mixed, whereas its
     * low bits depend only on the key's low bits, which clustered the
     * linear probes (8 probes per lookup measured, against 1.5 now). */
    uint64_t k = vpn ^ (((uint64_t)domain << 24 | (uint64_t)idx << 4 | size) << 40);

    return (uint32_t)((k * UINT64_C(0x9E3779B97F4A7C15)) >> 32);
}

/*
 * A slot is (tag hash << 32) | (entry index + 1), 0 when empty: a probe
 * compares the stored hash before it touches the entry, and deletion
 * re-homes slots from the stored hash, so neither walks the entry array
 * (random loads that cost more than the hashing itself).
 */
static inline uint32_t slot_entry(const struct iotlb_array *a, uint32_t slot)
{
    return (uint32_t)a->hash[slot] - 1;
}

static inline uint32_t entry_hash(const struct iotlb_array *a, uint32_t ei)
{
    const struct iotlb_entry *e = &a->e[ei];

    return tag_hash(e->domain, e->idx, e->vpn, e->size);
}

/* Slot of the entry with this tag, or NIL. */
static inline uint32_t hash_find(const struct iotlb_array *a, uint32_t domain,
                                 unsigned idx, uint64_t vpn, unsigned size)
{
    uint32_t h = tag_hash(domain, idx, vpn, size), i = h & a->hmask;

    for (;;) {
        uint64_t v = a->hash[i];
        const struct iotlb_entry *e;

        if (!v)
            return NIL;
        if ((uint32_t)(v >> 32) == h) {
            e = &a->e[(uint32_t)v - 1];
            if (e->vpn == vpn && e->domain == domain && e->idx == idx && e->size == size)
                return i;
        }
        i = (i + 1) & a->hmask;
    }
}

static void hash_add(struct iotlb_array *a, uint32_t ei)
{
    uint32_t h = entry_hash(a, ei), i = h & a->hmask;

    while (a->hash[i])
        i = (i + 1) & a->hmask;
    a->hash[i] = (uint64_t)h << 32 | (ei + 1);
}

/* Backward-shift deletion (Knuth 6.4, algorithm R): no tombstones. */
static void hash_del_slot(struct iotlb_array *a, uint32_t i)
{
    uint32_t j = i;

    for (;;) {
        uint32_t k;

        j = (j + 1) & a->hmask;
        if (!a->hash[j])
            break;
        k = (uint32_t)(a->hash[j] >> 32) & a->hmask;
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        a->hash[i] = a->hash[j];
        i = j;
    }
    a->hash[i] = 0;
}

static void hash_del(struct iotlb_array *a, uint32_t ei)
{
    const struct iotlb_entry *e = &a->e[ei];
    uint32_t i = hash_find(a, e->domain, e->idx, e->vpn, e->size);

    if (i != NIL)
        hash_del_slot(a, i);
}

/* --- Per-set way lists ---------------------------------------------------- */

static inline void list_unlink(struct iotlb_array *a, unsigned set, uint32_t ei)
{
    if (a->prev[ei] != NIL)
        a->next[a->prev[ei]] = a->next[ei];
    else
        a->head[set] = a->next[ei];
    if (a->next[ei] != NIL)
        a->prev[a->next[ei]] = a->prev[ei];
    else
        a->tail[set] = a->prev[ei];
}

static inline void list_to_head(struct iotlb_array *a, unsigned set, uint32_t ei)
{
    if (a->head[set] == ei)
        return;
    list_unlink(a, set, ei);
    a->prev[ei] = NIL;
    a->next[ei] = a->head[set];
    a->prev[a->head[set]] = ei;
    a->head[set] = ei;
}

static void list_to_tail(struct iotlb_array *a, unsigned set, uint32_t ei)
{
    if (a->tail[set] == ei)
        return;
    list_unlink(a, set, ei);
    a->next[ei] = NIL;
    a->prev[ei] = a->tail[set];
    a->next[a->tail[set]] = ei;
    a->tail[set] = ei;
}

/* Tree PLRU: bit set at a node means "the victim is on the right". */
static void plru_touch(struct iotlb_array *a, unsigned set, unsigned way)
{
    uint64_t *b = &a->plru[set];
    unsigned node = 1, depth = (unsigned)__builtin_ctz(a->ways), l;

    for (l = 0; l < depth; l++) {
        unsigned bit = (way >> (depth - 1 - l)) & 1u;

        if (bit)
            *b &= ~(UINT64_C(1) << node);   /* accessed right: victim left */
        else
            *b |= UINT64_C(1) << node;
        node = 2 * node + bit;
    }
}

static unsigned plru_victim(const struct iotlb_array *a, unsigned set)
{
    uint64_t b = a->plru[set];
    unsigned node = 1;

    while (node < a->ways)
        node = 2 * node + (unsigned)((b >> node) & 1u);
    return node - a->ways;
}

/* The tree's victim, turned at each node away from a subtree with no way in
 * [lo, hi). */
static unsigned plru_victim_in(const struct iotlb_array *a, unsigned set, unsigned lo,
                               unsigned hi)
{
    uint64_t b = a->plru[set];
    unsigned node = 1, first = 0, span = a->ways;

    while (node < a->ways) {
        unsigned half = span / 2, dir = (unsigned)((b >> node) & 1u);
        unsigned cl = first + dir * half;

        if (cl >= hi || cl + half <= lo) {
            dir ^= 1u;
            cl = first + dir * half;
        }
        node = 2 * node + dir;
        first = cl;
        span = half;
    }
    return first;
}

/* --- Set-up --------------------------------------------------------------- */

static int array_init(struct iotlb_array *a, unsigned entries, unsigned ways)
{
    unsigned i, hs = 4;

    memset(a, 0, sizeof(*a));
    a->n = entries;
    a->ways = ways;
    a->sets = entries / ways;
    while (hs < 2 * entries)
        hs <<= 1;
    a->hmask = hs - 1;
    a->e = calloc(entries, sizeof(*a->e));
    a->prev = malloc(entries * sizeof(uint32_t));
    a->next = malloc(entries * sizeof(uint32_t));
    a->head = malloc(a->sets * sizeof(uint32_t));
    a->tail = malloc(a->sets * sizeof(uint32_t));
    a->plru = calloc(a->sets, sizeof(uint64_t));
    /* The hash slots, then the valid bitmap (valid_map). */
    a->hash = calloc(hs + (entries + 63) / 64, sizeof(uint64_t));
    if (!a->e || !a->prev || !a->next || !a->head || !a->tail || !a->plru || !a->hash)
        return SIM_ENOMEM;
    for (i = 0; i < entries; i++) {
        unsigned set = i / ways, way = i % ways;

        a->e[i].set = set;
        a->prev[i] = way ? i - 1 : NIL;
        a->next[i] = way + 1 < ways ? i + 1 : NIL;
        if (way == 0)
            a->head[set] = i;
        if (way + 1 == ways)
            a->tail[set] = i;
    }
    return 0;
}

static void array_free(struct iotlb_array *a)
{
    free(a->e);
    free(a->prev);
    free(a->next);
    free(a->head);
    free(a->tail);
    free(a->plru);
    free(a->hash);
    memset(a, 0, sizeof(*a));
}

int iotlb_init(struct iotlb *t, const struct iotlb_cfg *cfg, char *err, size_t errlen)
{
    static const char *names[IOTLB_NSIZES] = { "4k", "2m", "1g" };
    const char *path = cfg->path ? cfg->path : "iotlb";
    unsigned i, n = cfg->split ? IOTLB_NSIZES : 1, total = 0;
    int r;

    memset(t, 0, sizeof(*t));
    t->cfg = *cfg;
    if (cfg->policy > IOTLB_RANDOM)
        return sim_error_format(err, errlen, SIM_EINVAL, path, "policy (got %d)", (int)cfg->policy);
    for (i = 0; i < n; i++) {
        const struct iotlb_array_cfg *c = &cfg->arr[i];

        if (c->entries == 0)
            continue;
        if (c->ways == 0 || c->entries % c->ways)
            return sim_error_format(err, errlen, SIM_EINVAL, path,
                                    "%s entries %u not a multiple of ways %u",
                                    n > 1 ? names[i] : "", c->entries, c->ways);
        if (cfg->policy == IOTLB_PLRU && (c->ways > 64 || (c->ways & (c->ways - 1))))
            return sim_error_format(err, errlen, SIM_EINVAL, path,
                                    "plru ways (got %u, expected a power of two <= 64)",
                                    c->ways);
        if (c->entries >= (1u << 30))
            return sim_error_format(err, errlen, SIM_EINVAL, path,
                                    "entries (got %u, expected < 2^30)", c->entries);
        total += c->entries;
    }
    if (total == 0)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "no entries (expected at least one array)");
    t->narr = n;
    for (i = 0; i < n; i++) {
        if (cfg->arr[i].entries == 0)
            continue;
        r = array_init(&t->arr[i], cfg->arr[i].entries, cfg->arr[i].ways);
        if (r)
            goto err_free;
    }
    if (cfg->mshrs) {
        t->mshr = calloc(cfg->mshrs, sizeof(*t->mshr));
        if (!t->mshr) {
            r = SIM_ENOMEM;
            goto err_free;
        }
    }
    sim_rng_seed(&t->rng, cfg->seed, path);
    return 0;

err_free:
    iotlb_destroy(t);
    return sim_error_format(err, errlen, r, path, NULL);
}

void iotlb_destroy(struct iotlb *t)
{
    unsigned i;

    for (i = 0; i < IOTLB_NSIZES; i++)
        array_free(&t->arr[i]);
    free(t->mshr);
    t->mshr = NULL;
}

/* The array holding size class s, or NULL. */
static inline struct iotlb_array *array_for(struct iotlb *t, unsigned s)
{
    struct iotlb_array *a;

    if (!t->cfg.split)
        a = &t->arr[0];
    else if (class_array[s] < IOTLB_NSIZES)
        a = &t->arr[class_array[s]];
    else
        return NULL;
    return a->n ? a : NULL;
}

/* The array of a class known to hold entries (its bit in t->live). */
static inline struct iotlb_array *live_array(struct iotlb *t, unsigned s)
{
    return t->cfg.split ? &t->arr[class_array[s]] : &t->arr[0];
}

/* --- Lookup and fill ------------------------------------------------------ */

static inline void touch(struct iotlb *t, struct iotlb_array *a, uint32_t ei)
{
    unsigned set = a->e[ei].set;

    switch (t->cfg.policy) {
    case IOTLB_LRU:
        list_to_head(a, set, ei);
        break;
    case IOTLB_PLRU:
        plru_touch(a, set, ei - set * a->ways);
        break;
    default:                        /* fifo, random: hits change nothing */
        break;
    }
}

/* A hit on entry @ei of class @s. */
static inline bool lookup_hit(struct iotlb *t, struct iotlb_array *a, uint32_t ei, unsigned s,
                              struct iotlb_hit *hit)
{
    touch(t, a, ei);
    hit->addr_mask = (UINT64_C(1) << size_shift[s]) - 1;
    hit->translated_addr = a->e[ei].pa;
    hit->perm = a->e[ei].perm;
    t->st.hits++;
    return true;
}

/* The lookup through the hashes: the classes holding entries, smallest
 * first (as a loop over all seven would). */
static bool lookup_probe(struct iotlb *t, uint32_t domain, unsigned idx, uint64_t iova,
                         struct iotlb_hit *hit)
{
    unsigned live = t->live;

    while (live) {
        unsigned s = (unsigned)__builtin_ctz(live);
        struct iotlb_array *a = live_array(t, s);
        uint32_t slot = hash_find(a, domain, idx, iova >> size_shift[s], s), ei;

        live &= live - 1;
        if (slot == NIL)
            continue;
        ei = slot_entry(a, slot);
        a->mru = ei + 1;
        return lookup_hit(t, a, ei, s, hit);
    }
    t->st.misses++;
    return false;
}

bool iotlb_lookup(struct iotlb *t, uint32_t domain, unsigned idx, uint64_t iova,
                  struct iotlb_hit *hit)
{
    unsigned live = t->live;

    t->st.lookups++;
    /*
     * The smallest class's last hit or fill first (a context cache, a
     * device's run of requests to one page): a tag is in an array at most
     * once (insert overwrites it), so a match there is the entry the hash
     * would find first, for a tag compare instead of a hash and a probe.
     */
    if (live) {
        unsigned s = (unsigned)__builtin_ctz(live);
        struct iotlb_array *a = live_array(t, s);
        uint32_t ei = a->mru - 1;

        if (a->mru && entry_is(&a->e[ei], domain, idx, iova >> size_shift[s], s))
            return lookup_hit(t, a, ei, s, hit);
    }
    return lookup_probe(t, domain, idx, iova, hit);
}

static void entry_remove(struct iotlb *t, struct iotlb_array *a, uint32_t ei)
{
    hash_del(a, ei);
    entry_clear_valid(t, a, ei);
    t->st.occupancy--;
    list_to_tail(a, a->e[ei].set, ei);
}

static void insert(struct iotlb *t, uint32_t domain, unsigned idx, uint64_t iova,
                   uint64_t translated_addr, uint64_t addr_mask, unsigned perm,
                   unsigned way_lo, unsigned way_hi)
{
    unsigned s, set;
    struct iotlb_array *a;
    uint32_t ei, slot;
    uint64_t vpn;
    struct iotlb_entry *e;

    /* The largest cached size not above the page's size. A page below
     * 16 KiB (every x86 4 KiB fill) can only be class 4K: no loop. */
    if (addr_mask < (UINT64_C(1) << size_shift[IOTLB_C16K]) - 1) {
        if (addr_mask < (UINT64_C(1) << size_shift[IOTLB_C4K]) - 1 || !array_for(t, IOTLB_C4K))
            return;                 /* no array can hold it */
        s = IOTLB_C4K;
    } else {
        for (s = IOTLB_NCLASSES; s-- > 0;)
            if ((UINT64_C(1) << size_shift[s]) - 1 <= addr_mask && array_for(t, s))
                break;
        if (s >= IOTLB_NCLASSES)
            return;                 /* no array can hold it */
    }
    a = array_for(t, s);
    vpn = iova >> size_shift[s];
    /* A larger page cached as a smaller size: keep the sub-page's address. */
    translated_addr = (translated_addr & ~addr_mask) |
                      (iova & addr_mask & ~((UINT64_C(1) << size_shift[s]) - 1));
    t->st.fills++;
    if (idx > t->max_idx)
        t->max_idx = (uint16_t)idx;
    slot = hash_find(a, domain, idx, vpn, s);
    if (slot != NIL) {
        ei = slot_entry(a, slot);
        a->e[ei].pa = translated_addr;
        a->e[ei].perm = (uint8_t)perm;
        a->mru = ei + 1;
        touch(t, a, ei);
        return;
    }
    /* Sets are usually a power of two (1 when fully associative): a mask,
     * not a 64-bit division per fill. */
    set = (unsigned)((a->sets & (a->sets - 1)) ? vpn % a->sets : vpn & (a->sets - 1));
    ei = a->tail[set];
    if (way_hi > a->ways)
        way_hi = a->ways;
    if (way_lo > 0 || way_hi < a->ways) {
        /* A way range: its invalid entries are at the list's tail end, its
         * oldest valid one next (lru, fifo). */
        uint32_t x;

        for (x = a->tail[set]; x != NIL; x = a->prev[x])
            if (x - set * a->ways >= way_lo && x - set * a->ways < way_hi)
                break;
        if (x == NIL)
            return;                 /* an empty range: nothing may be evicted */
        ei = x;
        if (a->e[ei].valid) {
            if (t->cfg.policy == IOTLB_PLRU)
                ei = set * a->ways + plru_victim_in(a, set, way_lo, way_hi);
            else if (t->cfg.policy == IOTLB_RANDOM)
                ei = set * a->ways + way_lo +
                     (uint32_t)sim_rng_below(&t->rng, way_hi - way_lo);
            entry_remove(t, a, ei);
            t->st.evictions++;
        }
    } else if (a->e[ei].valid) {
        if (t->cfg.policy == IOTLB_PLRU)
            ei = set * a->ways + plru_victim(a, set);
        else if (t->cfg.policy == IOTLB_RANDOM)
            ei = set * a->ways + (uint32_t)sim_rng_below(&t->rng, a->ways);
        entry_remove(t, a, ei);
        t->st.evictions++;
    }
    e = &a->e[ei];
    e->vpn = vpn;
    e->pa = translated_addr;
    e->domain = domain;
    e->idx = (uint16_t)idx;
    e->size = (uint8_t)s;
    e->perm = (uint8_t)perm;
    entry_set_valid(t, a, ei, s);
    a->mru = ei + 1;
    hash_add(a, ei);
    t->st.occupancy++;
    list_to_head(a, set, ei);
    if (t->cfg.policy == IOTLB_PLRU)
        plru_touch(a, set, ei - set * a->ways);
}

void iotlb_insert(struct iotlb *t, uint32_t domain, unsigned idx, uint64_t iova,
                  uint64_t translated_addr, uint64_t addr_mask, unsigned perm)
{
    insert(t, domain, idx, iova, translated_addr, addr_mask, perm, 0, UINT_MAX);
}

void iotlb_insert_ways(struct iotlb *t, uint32_t domain, unsigned idx, uint64_t iova,
                       uint64_t translated_addr, uint64_t addr_mask, unsigned perm,
                       unsigned way_lo, unsigned way_hi)
{
    insert(t, domain, idx, iova, translated_addr, addr_mask, perm, way_lo, way_hi);
}

/* --- Invalidation --------------------------------------------------------- */

/* Remove the valid entries that match(), in index order. */
static void scan_remove(struct iotlb *t, int (*match)(const struct iotlb_entry *, const void *),
                        const void *arg)
{
    unsigned i, w;

    if (!t->live)
        return;                 /* nothing valid anywhere */
    for (i = 0; i < t->narr; i++) {
        struct iotlb_array *a = &t->arr[i];
        const uint64_t *map;

        if (!a->n)
            continue;           /* no array (split mode) */
        map = valid_map(a);
        for (w = 0; w < (a->n + 63) / 64; w++) {
            uint64_t bits = map[w];     /* a copy: removals clear map[w] */

            while (bits) {
                uint32_t k = w * 64 + (uint32_t)__builtin_ctzll(bits);

                bits &= bits - 1;
                if (match(&a->e[k], arg)) {
                    entry_remove(t, a, k);
                    t->st.inval_entries++;
                }
            }
        }
    }
}

static int match_all(const struct iotlb_entry *e, const void *arg)
{
    (void)e;
    (void)arg;
    return 1;
}

static int match_domain(const struct iotlb_entry *e, const void *arg)
{
    return e->domain == *(const uint32_t *)arg;
}

struct range_arg {
    uint32_t domain;
    uint64_t lo, hi;
};

static int match_range(const struct iotlb_entry *e, const void *arg)
{
    const struct range_arg *r = arg;
    uint64_t lo = e->vpn << size_shift[e->size];
    uint64_t hi = lo + ((UINT64_C(1) << size_shift[e->size]) - 1);

    return e->domain == r->domain && lo <= r->hi && r->lo <= hi;
}

void iotlb_inval_global(struct iotlb *t)
{
    t->st.inval_global++;
    scan_remove(t, match_all, NULL);
}

void iotlb_inval_domain(struct iotlb *t, uint32_t domain)
{
    t->st.inval_domain++;
    scan_remove(t, match_domain, &domain);
}

void iotlb_inval_page(struct iotlb *t, uint32_t domain, uint64_t iova)
{
    unsigned s, idx;

    t->st.inval_page++;
    /* One probe per size and index: no scan. */
    for (s = 0; s < IOTLB_NCLASSES; s++) {
        struct iotlb_array *a;

        if (!(t->live & (1u << s)))
            continue;
        a = live_array(t, s);
        for (idx = 0; idx <= t->max_idx; idx++) {
            uint32_t slot = hash_find(a, domain, idx, iova >> size_shift[s], s);

            if (slot != NIL) {
                entry_remove(t, a, slot_entry(a, slot));
                t->st.inval_entries++;
            }
        }
    }
}

/* Probes a small range may take before a scan of every entry is cheaper. */
#define INVAL_RANGE_PROBES 64

void iotlb_inval_range(struct iotlb *t, uint32_t domain, uint64_t addr, uint64_t mask)
{
    struct range_arg r = { domain, addr & ~mask, (addr & ~mask) + mask };
    uint64_t probes = 0;
    unsigned s, idx;

    t->st.inval_range++;
    /*
     * A range of a few pages (an unmap's per-page invalidation is the common
     * case) is cheaper as one hash probe per page, size and index than as a
     * scan of every entry, which cost O(entries) per unmapped page.
     */
    for (s = 0; s < IOTLB_NCLASSES; s++) {
        if (t->live & (1u << s))
            probes += ((r.hi >> size_shift[s]) - (r.lo >> size_shift[s]) + 1) *
                      ((uint64_t)t->max_idx + 1);
        if (probes > INVAL_RANGE_PROBES) {
            scan_remove(t, match_range, &r);
            return;
        }
    }
    for (s = 0; s < IOTLB_NCLASSES; s++) {
        struct iotlb_array *a;

        if (!(t->live & (1u << s)))
            continue;
        a = live_array(t, s);
        for (uint64_t vpn = r.lo >> size_shift[s]; vpn <= r.hi >> size_shift[s]; vpn++) {
            for (idx = 0; idx <= t->max_idx; idx++) {
                uint32_t slot = hash_find(a, domain, idx, vpn, s);

                if (slot != NIL) {
                    entry_remove(t, a, slot_entry(a, slot));
                    t->st.inval_entries++;
                }
            }
        }
    }
}

/* --- MSHRs ---------------------------------------------------------------- */

struct iotlb_mshr *iotlb_mshr_peek(const struct iotlb *t, uint32_t domain, unsigned idx,
                                   uint64_t iova)
{
    unsigned i, left = t->mshr_busy;
    uint64_t vpn = iova >> 12;

    /* Stop after the last busy one: alloc takes the lowest free MSHR, so
     * the busy ones are usually first. */
    for (i = 0; left; i++) {
        struct iotlb_mshr *m = &t->mshr[i];

        if (!m->busy)
            continue;
        if (m->vpn4k == vpn && m->domain == domain && m->idx == idx)
            return m;
        left--;
    }
    return NULL;
}

struct iotlb_mshr *iotlb_mshr_find(struct iotlb *t, uint32_t domain, unsigned idx,
                                   uint64_t iova)
{
    struct iotlb_mshr *m = iotlb_mshr_peek(t, domain, idx, iova);

    if (m)
        t->st.merged++;
    return m;
}

struct iotlb_mshr *iotlb_mshr_alloc(struct iotlb *t, uint32_t domain, unsigned idx,
                                    uint64_t iova)
{
    unsigned i;

    for (i = 0; i < t->cfg.mshrs; i++) {
        struct iotlb_mshr *m = &t->mshr[i];

        if (!m->busy) {
            m->busy = true;
            m->domain = domain;
            m->idx = (uint16_t)idx;
            m->vpn4k = iova >> 12;
            m->head = m->tail = NULL;
            t->mshr_busy++;
            return m;
        }
    }
    t->st.mshr_full++;
    return NULL;
}

void iotlb_mshr_free(struct iotlb *t, struct iotlb_mshr *m)
{
    if (m->busy) {
        m->busy = false;
        m->head = m->tail = NULL;
        t->mshr_busy--;
    }
}

void iotlb_reset_stats(struct iotlb *t)
{
    uint64_t occ = t->st.occupancy;

    memset(&t->st, 0, sizeof(t->st));
    t->st.occupancy = occ;
}
