/*
 * virtio_iommu_tree.c - the per-domain mapping tree (see virtio_iommu_tree.h).
 *
 * A treap: a binary search tree on `start` that is also a max-heap on
 * `prio`. Insert descends to a leaf and rotates the new node up while its
 * priority beats its parent's; remove replaces a node by the merge of its
 * subtrees. Recursion depth is the tree's height, O(log n) expected.
 */
#include "iommu/models/virtio_iommu_tree.h"

#include <stdlib.h>

#include "engine/error.h"

#define BLOCK_NODES 256

struct viommu_block {
    struct viommu_block *next;
    struct viommu_mapping nodes[BLOCK_NODES];
};

/* A fixed mixing function (splitmix32-like): deterministic priorities. */
static uint32_t prio_hash(uint32_t x)
{
    x += 0x9e3779b9u;
    x = (x ^ (x >> 16)) * 0x85ebca6bu;
    x = (x ^ (x >> 13)) * 0xc2b2ae35u;
    return x ^ (x >> 16);
}

void viommu_tree_init(struct viommu_tree *t)
{
    t->root = NULL;
    t->free = NULL;
    t->blocks = NULL;
    t->count = 0;
    t->seq = 0;
}

void viommu_tree_destroy(struct viommu_tree *t)
{
    struct viommu_block *b, *next;

    for (b = t->blocks; b; b = next) {
        next = b->next;
        free(b);
    }
    viommu_tree_init(t);
}

static struct viommu_mapping *node_alloc(struct viommu_tree *t)
{
    struct viommu_mapping *n;

    if (!t->free) {
        struct viommu_block *b = malloc(sizeof(*b));

        if (!b)
            return NULL;
        b->next = t->blocks;
        t->blocks = b;
        for (unsigned i = 0; i < BLOCK_NODES; i++) {
            b->nodes[i].r = t->free;
            t->free = &b->nodes[i];
        }
    }
    n = t->free;
    t->free = n->r;
    return n;
}

const struct viommu_mapping *viommu_tree_floor(const struct viommu_tree *t, uint64_t iova)
{
    const struct viommu_mapping *n = t->root, *best = NULL;

    while (n) {
        if (n->start <= iova) {
            best = n;
            n = n->r;
        } else {
            n = n->l;
        }
    }
    return best;
}

const struct viommu_mapping *viommu_tree_ceil(const struct viommu_tree *t, uint64_t iova)
{
    const struct viommu_mapping *n = t->root, *best = NULL;

    while (n) {
        if (n->start >= iova) {
            best = n;
            n = n->l;
        } else {
            n = n->r;
        }
    }
    return best;
}

const struct viommu_mapping *viommu_tree_find(const struct viommu_tree *t, uint64_t iova)
{
    const struct viommu_mapping *m = viommu_tree_floor(t, iova);

    return m && m->end >= iova ? m : NULL;
}

static struct viommu_mapping *insert_at(struct viommu_mapping *root, struct viommu_mapping *n)
{
    struct viommu_mapping *c;

    if (!root)
        return n;
    if (n->start < root->start) {
        root->l = insert_at(root->l, n);
        if (root->l->prio > root->prio) {       /* rotate right */
            c = root->l;
            root->l = c->r;
            c->r = root;
            return c;
        }
    } else {
        root->r = insert_at(root->r, n);
        if (root->r->prio > root->prio) {       /* rotate left */
            c = root->r;
            root->r = c->l;
            c->l = root;
            return c;
        }
    }
    return root;
}

int viommu_tree_insert(struct viommu_tree *t, uint64_t start, uint64_t end, uint64_t pa,
                       unsigned perm)
{
    const struct viommu_mapping *f;
    struct viommu_mapping *n;

    if (end < start || !perm)
        return SIM_EINVAL;
    /* Disjoint ranges: the last mapping starting at or before `end` is the
     * only one that can reach into [start, end]. */
    f = viommu_tree_floor(t, end);
    if (f && f->end >= start)
        return SIM_EEXIST;
    n = node_alloc(t);
    if (!n)
        return SIM_ENOMEM;
    n->start = start;
    n->end = end;
    n->pa = pa;
    n->perm = perm;
    n->prio = prio_hash(t->seq++);
    n->l = n->r = NULL;
    t->root = insert_at(t->root, n);
    t->count++;
    return 0;
}

static struct viommu_mapping *merge(struct viommu_mapping *a, struct viommu_mapping *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (a->prio > b->prio) {
        a->r = merge(a->r, b);
        return a;
    }
    b->l = merge(a, b->l);
    return b;
}

int viommu_tree_remove(struct viommu_tree *t, uint64_t start)
{
    struct viommu_mapping **link = &t->root, *n;

    while ((n = *link) && n->start != start)
        link = start < n->start ? &n->l : &n->r;
    if (!n)
        return SIM_ENOENT;
    *link = merge(n->l, n->r);
    n->r = t->free;
    t->free = n;
    t->count--;
    return 0;
}

static void visit(const struct viommu_mapping *n, uint64_t start, uint64_t end,
                  viommu_tree_cb cb, void *arg)
{
    while (n) {
        /* Left subtree: starts below n->start, may still overlap. */
        if (n->start > start)
            visit(n->l, start, end, cb, arg);
        if (n->start <= end && n->end >= start)
            cb(arg, n);
        if (n->start >= end)
            return;                 /* everything to the right starts after end */
        n = n->r;
    }
}

void viommu_tree_for_each(const struct viommu_tree *t, uint64_t start, uint64_t end,
                          viommu_tree_cb cb, void *arg)
{
    visit(t->root, start, end, cb, arg);
}
