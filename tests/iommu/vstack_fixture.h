/*
 * vstack_fixture.h - what the tests of a guest's virtual IOMMU shadowed by a
 * VfioShadow into a host IOMMU share (test_consumers.c with GenericIOMMUs,
 * test_vstack.c with VT-ds): the shadow's settings, and the random run of
 * guest maps and unmaps with the assigned device's DMA in flight, checked
 * against the test's own reference model of the guest's mappings.
 *
 * The checks stay the tests' own: the run asserts what every step must
 * hold (each map and unmap succeeds, the host tables are the guest's
 * composed with guest-physical -> host-physical every 500 steps and at the
 * end) and hands the counts back for each test's assertions.
 */
#ifndef TESTS_IOMMU_VSTACK_FIXTURE_H
#define TESTS_IOMMU_VSTACK_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/sim.h"
#include "iommu/consumers/vfio_shadow.h"
#include "iommu/domain.h"
#include "mem/memory.h"

#define VSTACK_PG 4096u
#define VSTACK_OFF (UINT64_C(1) << 30)  /* guest RAM base in host memory */
#define VSTACK_MAX_PAGES 1024u          /* the widest IOVA window a run uses */

/*
 * The Memory both IOMMUs read their tables from: 80 ns per access, 64-byte
 * stripes over @channels channels of @bandwidth bytes/s each (0: unlimited).
 */
void vstack_mem_init(struct mem *mem, struct sim *sim, unsigned channels, uint64_t bandwidth);

/*
 * A VfioShadow of the host domain @host: guest RAM at VSTACK_OFF, unmaps
 * 500 ns and 50 ns a page unpinned, named sys.vfio.
 */
void vstack_shadow_init(struct vfio_shadow *v, struct sim *sim, struct iommu_domain *host,
                        sim_tick_t map_cost, sim_tick_t pin_cost);

/* A random run: the test sets the first block, the run fills the second. */
struct vstack_random {
    struct sim *sim;
    struct iommu_domain *gd, *hd;   /* the guest's and the host's domain (driver views) */
    struct iommu *has;              /* the device's host address space: its DMA */
    uint32_t rid;                   /* the device's requester id */
    unsigned npages;                /* IOVA window [0, npages pages), <= VSTACK_MAX_PAGES */
    unsigned steps;                 /* guest operations */
    uint64_t seed;
    const char *rng_path;
    /*
     * The reference drops an unmapped page before the guest's unmap call
     * (B11: DMAs issued from that call on must not see the old page)
     * rather than after it.
     */
    bool ref_before_unmap;

    unsigned bad;                   /* DMAs that got a stale or wrong translation */
    unsigned done;                  /* DMAs completed */
    unsigned maps, unmaps;          /* guest operations made */
    unsigned mapped_pages;          /* guest pages mapped at the end */
};

/*
 * Per step: a guest map of 1..4 free pages or an unmap of a whole mapping
 * at a random page, one DMA of the device at a random address (while one
 * of its 64 slots is free), then 200 ns of simulated time; finally the
 * simulation runs dry. A DMA whose page did not change while it was in
 * flight must get the current mapping (or a fault when unmapped); one in
 * flight across a change may get either side of it (an invalidation
 * completes after the translations in flight); one issued after a change
 * that returns the old mapping is bad.
 */
void vstack_random_run(struct vstack_random *r);

/*
 * What every such run must end with, whatever the IOMMUs: no DMA got a
 * stale or wrong translation, most DMAs completed (> 5/6 of the steps),
 * both operations happened often (> 1/10 of the steps each), and the
 * shadow @v pinned exactly the guest's mapped pages (every guest page is
 * one 4 KiB leaf: one event per page) with no error.
 */
void vstack_random_expect_shadow(const struct vstack_random *r, const struct vfio_shadow *v);

#endif /* TESTS_IOMMU_VSTACK_FIXTURE_H */
