/*
 * virtio_iommu_tree.h - the host's mapping tree of one virtio-iommu domain.
 *
 * A virtio-iommu device keeps, per domain, the ranges the guest mapped with
 * MAP requests: [virt_start, virt_end] -> phys_start with flags, one node
 * per request, never split (an UNMAP that covers part of a mapping fails;
 * virtio spec "Device operations", QEMU's per-domain GTree of intervals in
 * hw/virtio/virtio-iommu.c). That is an interval map, not a radix page
 * table: a 1 GiB MAP is one node whatever the granule, and an input space
 * of up to 64 bits costs nothing for what is not mapped.
 *
 * Here it is a treap keyed by the range start (priorities from a fixed
 * hash of an insertion counter, so the shape, and therefore every run, is
 * deterministic). Ranges never overlap, so ordering by start also orders
 * by end, and every query is a floor or ceiling search.
 *
 * Costs: find/insert/remove O(log n) expected; a visit O(log n + k). Nodes
 * come from a free list refilled by blocks of 256: nothing is allocated
 * per MAP once the tree has reached its peak size.
 */
#ifndef SIM_IOMMU_VIRTIO_IOMMU_TREE_H
#define SIM_IOMMU_VIRTIO_IOMMU_TREE_H

#include <stdint.h>

struct viommu_mapping {
    uint64_t start, end;            /* IOVA range, inclusive */
    uint64_t pa;                    /* output address of start */
    unsigned perm;                  /* IOMMU_RO/WO/RW */
    /* private to the tree */
    uint32_t prio;
    struct viommu_mapping *l, *r;
};

struct viommu_block;

struct viommu_tree {
    struct viommu_mapping *root;
    struct viommu_mapping *free;    /* free nodes (linked through r) */
    struct viommu_block *blocks;    /* every allocation, for destroy */
    uint64_t count;                 /* mappings present */
    uint32_t seq;                   /* insertions so far: the priority hash input */
};

void viommu_tree_init(struct viommu_tree *t);
void viommu_tree_destroy(struct viommu_tree *t);

/* The mapping that contains @iova, or NULL. */
const struct viommu_mapping *viommu_tree_find(const struct viommu_tree *t, uint64_t iova);

/* The mapping with the largest start <= @iova (it may end before @iova), or NULL. */
const struct viommu_mapping *viommu_tree_floor(const struct viommu_tree *t, uint64_t iova);

/* The mapping with the smallest start >= @iova, or NULL. */
const struct viommu_mapping *viommu_tree_ceil(const struct viommu_tree *t, uint64_t iova);

/* Add [start, end] -> pa. SIM_EINVAL if end < start or perm is 0,
 * SIM_EEXIST if it overlaps a mapping, SIM_ENOMEM. */
int viommu_tree_insert(struct viommu_tree *t, uint64_t start, uint64_t end, uint64_t pa,
                       unsigned perm);

/* Remove the mapping that starts at @start; SIM_ENOENT if none does. */
int viommu_tree_remove(struct viommu_tree *t, uint64_t start);

/* Visit, in IOVA order, every mapping that overlaps [start, end]. The
 * callback must not change the tree. */
typedef void (*viommu_tree_cb)(void *arg, const struct viommu_mapping *m);
void viommu_tree_for_each(const struct viommu_tree *t, uint64_t start, uint64_t end,
                          viommu_tree_cb cb, void *arg);

#endif /* SIM_IOMMU_VIRTIO_IOMMU_TREE_H */
