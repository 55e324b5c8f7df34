/*
 * vstack_fixture.c - the shared part of the virtual-IOMMU stack tests (see
 * vstack_fixture.h): the reference model of the guest's mappings, the DMA
 * probes checked against it, and the random run of guest operations.
 *
 * The reference and the probes are static (20 KiB at VSTACK_MAX_PAGES): one
 * run at a time, as CUnit runs tests.
 */
#include "vstack_fixture.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "engine/error.h"
#include "engine/rng.h"

#define PG VSTACK_PG
#define OFF VSTACK_OFF
#define NS SIM_TICKS_PER_NS

void vstack_mem_init(struct mem *mem, struct sim *sim, unsigned channels, uint64_t bandwidth)
{
    struct mem_cfg mc;
    char err[200];

    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = channels;
    mc.interleave = 64;
    mc.bandwidth = bandwidth;
    CU_ASSERT_EQUAL_FATAL(mem_init(mem, sim, &mc, err, sizeof(err)), 0);
}

void vstack_shadow_init(struct vfio_shadow *v, struct sim *sim, struct iommu_domain *host,
                        sim_tick_t map_cost, sim_tick_t pin_cost)
{
    struct vfio_shadow_cfg c = { .host = host, .gpa_offset = OFF, .map_cost = map_cost,
                                 .unmap_cost = 500 * NS, .pin_cost = pin_cost,
                                 .unpin_cost = 50 * NS, .path = "sys.vfio" };
    char err[200];

    CU_ASSERT_EQUAL_FATAL(vfio_shadow_init(v, sim, &c, err, sizeof(err)), 0);
}

/* The test's own model of the guest's mappings. */
struct gref {
    uint64_t gpa[VSTACK_MAX_PAGES]; /* guest-physical of each IOVA page; 0 = unmapped
                                     * (GPAs used are never 0) */
    unsigned perm[VSTACK_MAX_PAGES];
    unsigned len[VSTACK_MAX_PAGES]; /* at the first page of a mapping: its pages */
    unsigned ver[VSTACK_MAX_PAGES]; /* changes of each page so far */
};

/* Every page of the window: host lookup == guest lookup + OFF, both as the
 * reference says. Returns the number of mismatching pages. */
static unsigned check_composition(const struct vstack_random *r, const struct gref *ref)
{
    unsigned bad = 0;

    for (unsigned p = 0; p < r->npages; p++) {
        uint64_t iova = (uint64_t)p * PG;
        struct iommu_tlb_entry g = iommu_domain_lookup(r->gd, iova);
        struct iommu_tlb_entry h = iommu_domain_lookup(r->hd, iova);

        if (!ref->gpa[p]) {
            bad += g.perm != IOMMU_NONE || h.perm != IOMMU_NONE;
            continue;
        }
        if (g.perm != ref->perm[p] || h.perm != ref->perm[p] ||
            (g.translated_addr | (iova & g.addr_mask)) != ref->gpa[p] ||
            (h.translated_addr | (iova & h.addr_mask)) != ref->gpa[p] + OFF)
            bad++;
    }
    return bad;
}

/* One DMA of the assigned device, and what its page was at issue. */
struct dma_probe {
    struct iommu_req r;
    const struct gref *ref;
    unsigned *bad, *done;
    bool busy;                      /* issued, done() not yet run */
    unsigned ver;                   /* the page's version at issue */
    uint64_t gpa0;                  /* and its mapping then */
    unsigned perm0;
};

static bool probe_matches(const struct iommu_req *req, uint64_t gpa, unsigned perm)
{
    if (!gpa || (perm & req->access) != req->access)
        return req->status == SIM_EFAULT;
    return req->status == 0 &&
           (req->entry.translated_addr | (req->iova & req->entry.addr_mask)) ==
           gpa + OFF + (req->iova & (PG - 1));
}

static void probe_done(struct iommu_req *req)
{
    struct dma_probe *d = (struct dma_probe *)req;
    unsigned p = (unsigned)(req->iova / PG);
    bool ok = probe_matches(req, d->ref->gpa[p], d->ref->perm[p]);

    (*d->done)++;
    d->busy = false;
    if (!ok && d->ver != d->ref->ver[p])
        ok = probe_matches(req, d->gpa0, d->perm0);
    *d->bad += !ok;
}

void vstack_random_run(struct vstack_random *r)
{
    static struct gref ref;
    static struct dma_probe probes[64];
    const unsigned npages = r->npages;
    struct sim_rng rng;
    unsigned issued = 0;

    CU_ASSERT_FATAL(npages <= VSTACK_MAX_PAGES);
    memset(&ref, 0, sizeof(ref));
    memset(probes, 0, sizeof(probes));
    r->bad = r->done = r->maps = r->unmaps = r->mapped_pages = 0;
    sim_rng_seed(&rng, r->seed, r->rng_path);
    for (unsigned step = 0; step < r->steps; step++) {
        unsigned p = (unsigned)sim_rng_below(&rng, npages);
        sim_tick_t now = sim_now(r->sim), d;

        if (ref.gpa[p] && ref.len[p]) {     /* unmap a whole mapping */
            unsigned n = ref.len[p];

            if (r->ref_before_unmap)
                for (unsigned k = 0; k < n; k++)
                    ref.gpa[p + k] = 0, ref.len[p + k] = 0, ref.ver[p + k]++;
            CU_ASSERT_EQUAL(iommu_domain_unmap(r->gd, (uint64_t)p * PG, (uint64_t)n * PG, 0,
                                               now, &d), 0);
            if (!r->ref_before_unmap)
                for (unsigned k = 0; k < n; k++)
                    ref.gpa[p + k] = 0, ref.len[p + k] = 0, ref.ver[p + k]++;
            r->unmaps++;
            r->mapped_pages -= n;
        } else if (!ref.gpa[p]) {           /* map 1..4 free pages */
            unsigned n = 1 + (unsigned)sim_rng_below(&rng, 4), k;
            uint64_t gpa = (1 + sim_rng_below(&rng, 1u << 20)) * PG;
            unsigned perm = 1 + (unsigned)sim_rng_below(&rng, 3);

            for (k = 0; k < n && p + k < npages && !ref.gpa[p + k]; k++)
                ;
            n = k;
            CU_ASSERT_EQUAL(iommu_domain_map(r->gd, (uint64_t)p * PG, gpa, (uint64_t)n * PG,
                                             perm, now, &d), 0);
            for (k = 0; k < n; k++) {
                ref.gpa[p + k] = gpa + (uint64_t)k * PG;
                ref.perm[p + k] = perm;
                ref.ver[p + k]++;
            }
            ref.len[p] = n;
            r->maps++;
            r->mapped_pages += n;
        }
        /* A DMA in flight across the next guest operations. */
        {
            struct dma_probe *q = &probes[issued++ % 64];

            if (!q->busy) {
                memset(q, 0, sizeof(*q));
                q->r.iova = sim_rng_below(&rng, npages) * PG + sim_rng_below(&rng, PG);
                q->r.access = 1 + (unsigned)sim_rng_below(&rng, 2);
                q->r.attrs.requester_id = r->rid;
                q->r.done = probe_done;
                q->ref = &ref;
                q->bad = &r->bad;
                q->done = &r->done;
                q->busy = true;
                q->ver = ref.ver[q->r.iova / PG];
                q->gpa0 = ref.gpa[q->r.iova / PG];
                q->perm0 = ref.perm[q->r.iova / PG];
                CU_ASSERT_EQUAL(iommu_translate_timed(r->has, &q->r), 0);
            }
        }
        sim_run_until(r->sim, sim_now(r->sim) + 200 * NS, 0);
        if (step % 500 == 499)
            CU_ASSERT_EQUAL(check_composition(r, &ref), 0);
    }
    sim_run(r->sim);
    CU_ASSERT_EQUAL(check_composition(r, &ref), 0);
}

void vstack_random_expect_shadow(const struct vstack_random *r, const struct vfio_shadow *v)
{
    if (r->bad || r->done <= r->steps * 5 / 6)
        fprintf(stderr, "\n    %u of %u DMAs used a stale or wrong translation\n", r->bad,
                r->done);
    CU_ASSERT_EQUAL(r->bad, 0);
    CU_ASSERT(r->done > r->steps * 5 / 6);
    CU_ASSERT(r->maps > r->steps / 10 && r->unmaps > r->steps / 10);
    CU_ASSERT_EQUAL(v->pinned, r->mapped_pages);
    CU_ASSERT_EQUAL(v->st.pages_pinned - v->st.pages_unpinned, r->mapped_pages);
    CU_ASSERT_EQUAL(v->st.errors, 0);
}
