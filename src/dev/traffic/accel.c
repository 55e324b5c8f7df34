/*
 * accel.c - bulk accelerator transfers over huge pages.
 *
 * An accelerator (a GPU copy engine, a crypto or compression offload, an
 * AI accelerator pulling weights) moves large blocks between itself and
 * host buffers that its driver pinned and mapped once, with huge pages
 * (hugetlbfs or THP backing, and an IOMMU mapping of 2 MiB or 1 GiB leaves:
 * Linux's iommu_map() places the largest page size that the alignment of
 * both addresses allows). Transfers of `size` bytes walk the `footprint`
 * in order, wrapping (a stream of jobs over a buffer pool), closed loop
 * (`slots` jobs in flight) or open loop at `rate`; `write_ratio` of them
 * write host memory.
 *
 * What the pattern adds to a sequential stream is the mapping: at start it
 * maps the footprint (rounded up to whole pages) in one call through the
 * OS layer, whatever the per-I/O policy (the buffers are long-lived), and
 * refuses to run unless every page can be a `page_size` leaf: the IOMMU
 * must offer that page size, the physical base (`buf_base`) and the IOVA
 * the allocator returned must be aligned to it. Otherwise a run meant to
 * show huge pages would silently measure 4 KiB ones. With 2 MiB leaves one
 * IOTLB entry covers 512 4 KiB pages, so a sequential pass needs one walk
 * per 2 MiB page (a few more while the first walk is in flight: MSHRs
 * merge misses per 4 KiB page), and the IOTLB holds 64 x 2 MiB = 128 MiB
 * of reach with 64 entries.
 *
 * Cost: as the sequential stream; the check at start is one lookup in the
 * page tables.
 */
#include <stdlib.h>

#include "dev/traffic/traffic.h"
#include "engine/error.h"
#include "mem/pgtable.h"

static uint64_t accel_next(struct traffic *t)
{
    uint64_t off = t->pos;

    t->pos += t->cfg.size;
    if (t->pos + t->cfg.size > t->cfg.footprint)
        t->pos = 0;
    return off;
}

static int accel_init(struct traffic *t, char *err, size_t errlen)
{
    uint64_t ps = t->cfg.page_size;

    if (ps != (UINT64_C(1) << 12) && ps != (UINT64_C(1) << 21) && ps != (UINT64_C(1) << 30))
        return sim_error_format(err, errlen, SIM_EINVAL, t->cfg.path,
                                "page_size (got %llu bytes, expected 4KiB, 2MiB or 1GiB)",
                                (unsigned long long)ps);
    if (t->cfg.buf_pa & (ps - 1))
        return sim_error_format(err, errlen, SIM_EINVAL, t->cfg.path,
                                "buf_base 0x%llx is not aligned to page_size %llu (huge pages "
                                "need physically aligned buffers)",
                                (unsigned long long)t->cfg.buf_pa, (unsigned long long)ps);
    if (t->os && os_dma_translates(t->os) && !(t->os->dom->pgsize_bitmap & ps))
        return sim_error_format(err, errlen, SIM_EINVAL, t->cfg.path,
                                "the IOMMU's page_sizes do not include page_size %llu",
                                (unsigned long long)ps);
    return 0;
}

static int accel_start(struct traffic *t, char *err, size_t errlen)
{
    uint64_t ps = t->cfg.page_size;
    uint64_t bytes = (t->cfg.footprint + ps - 1) & ~(ps - 1);
    sim_tick_t done;
    int r;

    r = os_dma_map(t->os, 0, t->cfg.buf_pa, bytes, IOMMU_RW, &t->base_iova, &done);
    if (r)
        return sim_error_format(err, errlen, r, t->cfg.path,
                                "cannot map the %llu-byte footprint (dma_bits too small?)",
                                (unsigned long long)bytes);
    if (os_dma_translates(t->os)) {
        struct iommu_tlb_entry pr = iommu_domain_lookup(t->os->dom, t->base_iova);

        if (pr.perm == IOMMU_NONE)
            pr.addr_mask = 0;
        if ((t->base_iova & (ps - 1)) || pr.addr_mask != ps - 1)
            return sim_error_format(err, errlen, SIM_EINVAL, t->cfg.path,
                                    "the footprint mapped with %llu-byte pages, not page_size "
                                    "%llu (IOVA 0x%llx; a larger page needs the IOMMU's "
                                    "page_sizes without it, a smaller one an IOVA aligned "
                                    "to it: raise dma_bits)",
                                    (unsigned long long)pr.addr_mask + 1,
                                    (unsigned long long)ps, (unsigned long long)t->base_iova);
    }
    return traffic_stream_begin(t);
}

const struct traffic_ops traffic_accel = {
    .name = "accel",
    .doc = "bulk transfers of `size` bytes walking `footprint` in order, mapped once with "
           "`page_size` pages (2MiB or 1GiB huge pages)",
    .init = accel_init,
    .next_offset = accel_next,
    .start = accel_start,
};
