/*
 * pgtable.c - sparse radix page tables (see pgtable.h).
 *
 * An entry is one uint64_t, 0 when empty:
 *   table entry: host pointer to the child node | PRESENT (nodes are
 *                malloc'ed, so the low 4 bits of the pointer are free);
 *   leaf entry:  output address | perm << 1 | LEAF | PRESENT.
 * Keeping host pointers (not simulated addresses) in table entries makes a
 * walk one dependent load per level, the same as the hardware it models; the
 * node's simulated address is kept in the node for the timing model.
 *
 * A node holds as many entries as its level indexes: 2^bits (512, 2048 or
 * 8192 by granule), or fewer at the top level when the input size leaves it
 * fewer bits (a 48-bit 16 KiB-granule root has 2). Its host size is sized
 * to that, so a 64 KiB-granule table costs 64 KiB of host memory as it
 * would of the target's.
 */
#include "mem/pgtable.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#define PTE_PRESENT UINT64_C(1)
#define PTE_PERM_SHIFT 1
#define PTE_LEAF    (UINT64_C(1) << 3)
#define PTE_ADDR    (~UINT64_C(0xfff))

struct pgtable_node {
    uint64_t addr;                  /* simulated address of this table */
    uint32_t used;                  /* non-empty entries */
    uint64_t e[];                   /* level_entries() of them */
};

/* Entries of a table at @level: 2^bits, the top level what the input leaves. */
static inline unsigned level_entries(const struct pgtable *pt, unsigned level)
{
    if (level == pt->levels)
        return 1u << (pt->ia_bits - pgtable_level_shift(pt, level));
    return 1u << pt->bits;
}

static inline unsigned pte_index(const struct pgtable *pt, uint64_t iova, unsigned level)
{
    return (unsigned)(iova >> pgtable_level_shift(pt, level)) & ((1u << pt->bits) - 1);
}

static inline size_t node_bytes(const struct pgtable *pt, unsigned level)
{
    return sizeof(struct pgtable_node) + (size_t)level_entries(pt, level) * sizeof(uint64_t);
}

static inline struct pgtable_node *pte_table(uint64_t pte)
{
    return (struct pgtable_node *)(uintptr_t)(pte & ~UINT64_C(0xf));
}

static inline int pte_is_leaf(uint64_t pte)
{
    return (pte & PTE_LEAF) != 0;
}

static void leaf_result(const struct pgtable *pt, uint64_t pte, unsigned level,
                        struct pgtable_result *r)
{
    r->addr_mask = pgtable_leaf_size(pt, level) - 1;
    r->translated_addr = pte & PTE_ADDR & ~r->addr_mask;
    r->perm = (unsigned)(pte >> PTE_PERM_SHIFT) & 3u;
    r->level = level;
}

static struct pgtable_node *node_new(struct pgtable *pt, unsigned level)
{
    size_t bytes = node_bytes(pt, level);
    struct pgtable_node *n = calloc(1, bytes);

    if (!n)
        return NULL;
    /* Every table takes one granule of simulated memory (a partial top
     * table too: Arm aligns it to its size, which is at most a granule). */
    n->addr = pt->table_base + (pt->next_node++ << pt->page_shift);
    pt->st.nodes++;
    if (pt->st.nodes > pt->st.nodes_max)
        pt->st.nodes_max = pt->st.nodes;
    return n;
}

static void node_free(struct pgtable *pt, struct pgtable_node *n)
{
    pt->st.nodes--;
    free(n);
}

/* log2 of a granule the Arm ARM defines (4, 16, 64 KiB), else 0. */
static unsigned granule_shift(uint64_t granule)
{
    switch (granule) {
    case 4096: return 12;
    case 16384: return 14;
    case 65536: return 16;
    default: return 0;
    }
}

unsigned pgtable_levels_for(uint64_t granule, unsigned ia_bits)
{
    unsigned ps = granule_shift(granule), bits = ps - 3;   /* 8-byte descriptors */

    if (!ps || ia_bits <= ps)
        return 0;
    return (ia_bits - ps + bits - 1) / bits;
}

int pgtable_init_granule(struct pgtable *pt, uint64_t granule, unsigned ia_bits,
                         uint64_t pgsize_bitmap, uint64_t table_base)
{
    unsigned ps = granule_shift(granule), levels = pgtable_levels_for(granule, ia_bits), l;
    uint64_t allowed = 0;

    memset(pt, 0, sizeof(*pt));
    if (!ps || ia_bits > 57 || levels < 2 || levels > PGTABLE_MAX_LEVELS)
        return SIM_EINVAL;
    pt->levels = levels;
    pt->page_shift = (uint8_t)ps;
    pt->bits = (uint8_t)(ps - 3);
    pt->ia_bits = (uint8_t)ia_bits;
    for (l = 1; l <= levels; l++)
        allowed |= pgtable_leaf_size(pt, l);
    if (!(pgsize_bitmap & granule) || (pgsize_bitmap & ~allowed) ||
        (table_base & (granule - 1))) {
        memset(pt, 0, sizeof(*pt));
        return SIM_EINVAL;
    }
    pt->pgsize_bitmap = pgsize_bitmap;
    pt->table_base = table_base;
    pt->root = node_new(pt, levels);
    return pt->root ? 0 : SIM_ENOMEM;
}

int pgtable_init(struct pgtable *pt, unsigned levels, uint64_t pgsize_bitmap,
                 uint64_t table_base)
{
    if (levels < 3 || levels > PGTABLE_MAX_LEVELS) {
        memset(pt, 0, sizeof(*pt));
        return SIM_EINVAL;
    }
    return pgtable_init_granule(pt, 4096, PGTABLE_PAGE_SHIFT + 9 * levels, pgsize_bitmap,
                                table_base);
}

static void free_tree(struct pgtable *pt, struct pgtable_node *n, unsigned level)
{
    unsigned i, ne = level_entries(pt, level);

    if (level > 1)
        for (i = 0; i < ne; i++)
            if ((n->e[i] & PTE_PRESENT) && !pte_is_leaf(n->e[i]))
                free_tree(pt, pte_table(n->e[i]), level - 1);
    node_free(pt, n);
}

void pgtable_destroy(struct pgtable *pt)
{
    if (pt->root)
        free_tree(pt, pt->root, pt->levels);
    pt->root = NULL;
}

/* Linux's iommu_pgsize(): largest allowed size aligned for both and <= size. */
static uint64_t pick_pgsize(const struct pgtable *pt, uint64_t iova, uint64_t pa,
                            uint64_t size)
{
    uint64_t cand = pt->pgsize_bitmap;
    uint64_t align = iova | pa;

    /* Sizes no larger than the remaining size... */
    cand &= (UINT64_C(2) << (63 - __builtin_clzll(size))) - 1;
    /* ...and no larger than the alignment of both addresses. */
    if (align)
        cand &= (align & -align) | ((align & -align) - 1);
    return cand ? UINT64_C(1) << (63 - __builtin_clzll(cand)) : 0;
}

static int map_one(struct pgtable *pt, uint64_t iova, uint64_t pa,
                   unsigned leaf_level, unsigned perm)
{
    struct pgtable_node *n = pt->root;
    unsigned level;

    for (level = pt->levels; level > leaf_level; level--) {
        uint64_t *pte = &n->e[pte_index(pt, iova, level)];

        if (*pte & PTE_PRESENT) {
            if (pte_is_leaf(*pte))
                return SIM_EEXIST;
        } else {
            struct pgtable_node *c = node_new(pt, level - 1);

            if (!c)
                return SIM_ENOMEM;
            *pte = (uint64_t)(uintptr_t)c | PTE_PRESENT;
            n->used++;
        }
        n = pte_table(*pte);
    }
    {
        uint64_t *pte = &n->e[pte_index(pt, iova, leaf_level)];

        if (*pte & PTE_PRESENT)
            return SIM_EEXIST;      /* a leaf, or a table with leaves below */
        *pte = pa | (uint64_t)perm << PTE_PERM_SHIFT | PTE_LEAF | PTE_PRESENT;
        n->used++;
    }
    pt->st.maps++;
    pt->st.leaves++;
    return 0;
}

int pgtable_map(struct pgtable *pt, uint64_t iova, uint64_t pa, uint64_t size,
                unsigned perm)
{
    uint64_t done = 0;
    int err = 0;

    if (!size || ((iova | pa | size) & (pgtable_granule(pt) - 1)) || !perm || (perm & ~3u))
        return SIM_EINVAL;
    if (iova + size < iova || iova + size > pgtable_span(pt) || pa + size < pa)
        return SIM_ERANGE;
    while (done < size) {
        uint64_t pg = pick_pgsize(pt, iova + done, pa + done, size - done);
        unsigned level = (unsigned)(__builtin_ctzll(pg) - pt->page_shift) / pt->bits + 1;

        err = map_one(pt, iova + done, pa + done, level, perm);
        if (err)
            break;
        done += pg;
    }
    if (err && done)
        pgtable_unmap(pt, iova, done, NULL, NULL, NULL);
    return err;
}

int pgtable_lookup(const struct pgtable *pt, uint64_t iova,
                   struct pgtable_result *r)
{
    const struct pgtable_node *n = pt->root;
    unsigned level, shift = pgtable_level_shift(pt, pt->levels), mask = (1u << pt->bits) - 1;

    if (iova >= pgtable_span(pt))
        return SIM_EFAULT;
    /* pte_index() with the level's shift kept as it goes down. */
    for (level = pt->levels; level >= 1; level--, shift -= pt->bits) {
        uint64_t pte = n->e[(unsigned)(iova >> shift) & mask];

        if (!(pte & PTE_PRESENT))
            return SIM_EFAULT;
        if (pte_is_leaf(pte)) {
            leaf_result(pt, pte, level, r);
            return 0;
        }
        n = pte_table(pte);
    }
    return SIM_EFAULT;      /* unreachable: level 1 entries are leaves */
}

int pgtable_walk(const struct pgtable *pt, uint64_t iova,
                 struct pgtable_path *path, struct pgtable_result *r)
{
    const struct pgtable_node *n = pt->root;
    unsigned level, shift = pgtable_level_shift(pt, pt->levels), mask = (1u << pt->bits) - 1;

    path->n = 0;
    if (iova >= pgtable_span(pt))
        return SIM_EFAULT;      /* beyond the address width: no read made */
    /* pte_index() with the level's shift kept as it goes down. */
    for (level = pt->levels; level >= 1; level--, shift -= pt->bits) {
        unsigned idx = (unsigned)(iova >> shift) & mask;
        uint64_t pte = n->e[idx];

        path->pte_addr[path->n] = n->addr + 8u * idx;
        path->level[path->n] = level;
        path->n++;
        if (!(pte & PTE_PRESENT))
            return SIM_EFAULT;
        if (pte_is_leaf(pte)) {
            leaf_result(pt, pte, level, r);
            return 0;
        }
        n = pte_table(pte);
    }
    return SIM_EFAULT;
}

/* --- Range removal and iteration ---------------------------------------- */

struct range_op {
    struct pgtable *pt;
    uint64_t lo, hi;            /* inclusive */
    pgtable_unmap_cb ucb;
    pgtable_leaf_cb lcb;
    void *arg;
    uint64_t bytes;
};

/* Remove leaves in [lo, hi] under node n (covering `base` at `level`). */
static void unmap_rec(struct range_op *op, struct pgtable_node *n,
                      unsigned level, uint64_t base)
{
    unsigned shift = pgtable_level_shift(op->pt, level);
    uint64_t sz = UINT64_C(1) << shift;     /* a shift, not a 64-bit division */
    unsigned i = op->lo > base ? (unsigned)((op->lo - base) >> shift) : 0;
    unsigned ne = level_entries(op->pt, level);

    for (; i < ne; i++) {
        uint64_t va = base + (uint64_t)i * sz;
        uint64_t pte = n->e[i];

        if (va > op->hi)
            break;
        if (!(pte & PTE_PRESENT))
            continue;
        if (pte_is_leaf(pte)) {
            struct pgtable_result r;

            leaf_result(op->pt, pte, level, &r);
            n->e[i] = 0;
            n->used--;
            op->pt->st.unmaps++;
            op->pt->st.leaves--;
            op->bytes += sz;
            if (op->ucb)
                op->ucb(op->arg, va, &r);
        } else {
            struct pgtable_node *c = pte_table(pte);

            unmap_rec(op, c, level - 1, va);
            if (c->used == 0) {
                node_free(op->pt, c);
                n->e[i] = 0;
                n->used--;
            }
        }
    }
}

int pgtable_unmap(struct pgtable *pt, uint64_t iova, uint64_t size,
                  pgtable_unmap_cb cb, void *arg, uint64_t *unmapped)
{
    struct pgtable_result r;
    struct range_op op = { .pt = pt, .lo = iova, .hi = iova + size - 1,
                           .ucb = cb, .arg = arg };

    if (unmapped)
        *unmapped = 0;
    if (!size || ((iova | size) & (pgtable_granule(pt) - 1)))
        return SIM_EINVAL;
    if (iova + size < iova || iova + size > pgtable_span(pt))
        return SIM_ERANGE;
    /* Refuse to split a leaf at either end before touching anything. */
    if (pgtable_lookup(pt, iova, &r) == 0 && (iova & r.addr_mask))
        return SIM_EINVAL;
    if (pgtable_lookup(pt, op.hi, &r) == 0 && ((op.hi & r.addr_mask) != r.addr_mask))
        return SIM_EINVAL;
    unmap_rec(&op, pt->root, pt->levels, 0);
    if (unmapped)
        *unmapped = op.bytes;
    return 0;
}

static void each_rec(struct range_op *op, const struct pgtable_node *n,
                     unsigned level, uint64_t base)
{
    unsigned shift = pgtable_level_shift(op->pt, level);
    uint64_t sz = UINT64_C(1) << shift;     /* a shift, not a 64-bit division */
    unsigned i = op->lo > base ? (unsigned)((op->lo - base) >> shift) : 0;
    unsigned ne = level_entries(op->pt, level);

    for (; i < ne; i++) {
        uint64_t va = base + (uint64_t)i * sz;
        uint64_t pte = n->e[i];

        if (va > op->hi)
            break;
        if (!(pte & PTE_PRESENT))
            continue;
        if (pte_is_leaf(pte)) {
            struct pgtable_result r;

            leaf_result(op->pt, pte, level, &r);
            op->lcb(op->arg, va, &r);
        } else {
            each_rec(op, pte_table(pte), level - 1, va);
        }
    }
}

void pgtable_for_each(const struct pgtable *pt, uint64_t start, uint64_t end,
                      pgtable_leaf_cb cb, void *arg)
{
    struct range_op op = { .pt = (struct pgtable *)pt, .lo = start, .hi = end, .lcb = cb,
                           .arg = arg };

    if (start > end || start >= pgtable_span(pt))
        return;
    each_rec(&op, pt->root, pt->levels, 0);
}

size_t pgtable_mem_bytes(const struct pgtable *pt)
{
    /* Every node is a full table but the root, which may be smaller. */
    if (!pt->st.nodes)
        return sizeof(*pt);
    return sizeof(*pt) + node_bytes(pt, pt->levels) +
           (size_t)(pt->st.nodes - 1) * node_bytes(pt, 1);
}
