/*
 * tz_mpc.c - the TrustZone Memory Protection Controller (see tz_mpc.h).
 *
 * Per timed request: one bit test, one completion; counters inline, nothing
 * allocated. A LUT change costs two fan-outs per changed block, which is
 * what the notifier users (a CPU software TLB per index) pay for it.
 */
#include "iommu/models/tz_mpc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#define MPC_OF(m) ((struct tz_mpc *)((char *)(m) - offsetof(struct tz_mpc, mmu)))

/* --- Functional path ------------------------------------------------------ */

static struct iommu_tlb_entry mpc_translate(struct iommu *mmu, uint64_t iova,
                                            unsigned flag, unsigned idx)
{
    struct tz_mpc *m = MPC_OF(mmu);
    uint64_t mask = m->cfg.block_size - 1;
    struct iommu_tlb_entry e = { .iova = iova & ~mask, .translated_addr = iova & ~mask,
                                 .addr_mask = mask };

    (void)flag;                     /* an MPC has no read/write permissions */
    if (!tz_mpc_covers(m, iova))
        return e;                   /* no memory behind the MPC here: perm NONE */
    if (tz_mpc_block_ns(m, iova) == (idx == TZ_MPC_IDX_NS)) {
        e.perm = IOMMU_RW;          /* allowed: downstream, identity */
    } else if (!m->cfg.bus_error) {
        e.perm = IOMMU_RW;          /* RAZ/WI: answered by the blocked sink */
        e.target = &m->blocked;
    }                               /* else bus error: perm NONE */
    return e;
}

/* --- Timed path ----------------------------------------------------------- */

static int mpc_translate_timed(struct iommu *mmu, struct iommu_req *req)
{
    struct tz_mpc *m = MPC_OF(mmu);
    unsigned idx = req->iommu_idx;
    struct iommu_tlb_entry e = mpc_translate(mmu, req->iova, req->access, idx);

    if (!tz_mpc_covers(m, req->iova)) {
        m->st.decode_errors++;
    } else if (e.perm != IOMMU_NONE && !e.target) {
        m->st.allowed[idx]++;
    } else {
        m->st.blocked[idx]++;
        if (e.target)
            m->st.raz_wi++;
        else
            m->st.bus_errors++;
    }
    iommu_req_complete(mmu, req, &e, sim_now(m->sim) + m->cfg.lookup_latency);
    return 0;
}

/* --- Optional ops --------------------------------------------------------- */

static uint64_t mpc_min_page_size(struct iommu *mmu)
{
    return MPC_OF(mmu)->cfg.block_size;
}

static int mpc_flag_changed(struct iommu *mmu, unsigned old, unsigned nf, char *err,
                            size_t errlen)
{
    (void)old;
    if (nf & IOMMU_NOTIFIER_MAP)
        return sim_error_format(err, errlen, SIM_EREFUSED, mmu->path,
                                "MAP notifiers: a TrustZone MPC sends only UNMAP, since "
                                "it cannot know the attributes of future transactions");
    return 0;
}

/*
 * Nothing to replay: replay delivers MAP events, which no notifier of an
 * MPC can take (they are refused above). The default granule walk would
 * cost size / block_size translate calls and deliver nothing.
 */
static sim_tick_t mpc_replay(struct iommu *mmu, struct iommu_notifier *n)
{
    (void)n;
    return sim_now(mmu->sim);
}

static unsigned addr_bits(uint64_t end)
{
    unsigned b = 1;

    while (b < 64 && (UINT64_C(1) << b) < end)
        b++;
    return b;
}

static int mpc_get_attr(struct iommu *mmu, enum iommu_attr attr, void *data)
{
    struct tz_mpc *m = MPC_OF(mmu);

    switch (attr) {
    case IOMMU_ATTR_ADDR_WIDTH:
        *(unsigned *)data = addr_bits(m->cfg.base + m->cfg.size);
        return 0;
    case IOMMU_ATTR_PGSIZE_BITMAP:
        *(uint64_t *)data = m->cfg.block_size;
        return 0;
    case IOMMU_ATTR_CACHING_MODE:
        *(bool *)data = false;
        return 0;
    }
    return SIM_EINVAL;
}

/* QEMU's rule: transactions without attributes count as secure. */
static unsigned mpc_attrs_to_index(struct iommu *mmu, const struct iommu_attrs *a)
{
    (void)mmu;
    return (a->unspecified || a->secure) ? TZ_MPC_IDX_S : TZ_MPC_IDX_NS;
}

static unsigned mpc_num_indexes(struct iommu *mmu)
{
    (void)mmu;
    return TZ_MPC_NUM_INDEXES;
}

const struct iommu_ops tz_mpc_iommu_ops = {
    .translate = mpc_translate,
    .translate_timed = mpc_translate_timed,
    .get_min_page_size = mpc_min_page_size,
    .notify_flag_changed = mpc_flag_changed,
    .replay = mpc_replay,
    .get_attr = mpc_get_attr,
    .attrs_to_index = mpc_attrs_to_index,
    .num_indexes = mpc_num_indexes,
};

/* --- Set-up and the LUT ----------------------------------------------------- */

int tz_mpc_init(struct tz_mpc *m, struct sim *sim, const struct tz_mpc_cfg *cfg,
                char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "tz_mpc";
    uint64_t bs = cfg->block_size;
    int r;

    memset(m, 0, sizeof(*m));
    if (bs < 32 || (bs & (bs - 1)))
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "block_size must be a power of two >= 32 (got %llu)",
                                (unsigned long long)bs);
    if (!cfg->size || cfg->size % bs || cfg->base % bs)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "base and size must be multiples of block_size %llu and "
                                "size non-zero (got base %#llx, size %llu)",
                                (unsigned long long)bs, (unsigned long long)cfg->base,
                                (unsigned long long)cfg->size);
    if (cfg->size / bs > TZ_MPC_MAX_BLOCKS || cfg->base + cfg->size < cfg->base)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "size / block_size must be <= %llu blocks and base + size "
                                "below 2^64 (got %llu blocks)",
                                (unsigned long long)TZ_MPC_MAX_BLOCKS,
                                (unsigned long long)(cfg->size / bs));
    m->sim = sim;
    m->cfg = *cfg;
    m->cfg.path = path;
    m->nblocks = cfg->size / bs;
    m->lut = calloc((size_t)((m->nblocks + 31) / 32), sizeof(*m->lut));
    if (!m->lut)
        return sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
    /* Upstream addresses equal downstream ones: the region runs from 0. */
    r = iommu_init(&m->mmu, &tz_mpc_iommu_ops, sim, path, cfg->base + cfg->size, err,
                   errlen);
    if (r) {
        free(m->lut);
        m->lut = NULL;
    }
    return r;
}

void tz_mpc_destroy(struct tz_mpc *m)
{
    if (!m->lut)
        return;
    iommu_destroy(&m->mmu);
    free(m->lut);
    m->lut = NULL;
}

int tz_mpc_lut_set(struct tz_mpc *m, uint64_t addr, uint64_t size, bool ns,
                   uint64_t *changed, sim_tick_t *done)
{
    uint64_t bs = m->cfg.block_size, b, first, n, count = 0;
    sim_tick_t now = sim_now(m->sim), end = now;
    struct iommu_event ev = { .type = IOMMU_NOTIFIER_UNMAP,
                              .entry = { .addr_mask = bs - 1, .perm = IOMMU_NONE } };

    if (addr % bs || size % bs || !size)
        return SIM_EINVAL;
    if (!tz_mpc_covers(m, addr) || size > m->cfg.base + m->cfg.size - addr)
        return SIM_ERANGE;
    first = (addr - m->cfg.base) / bs;
    n = size / bs;
    for (b = first; b < first + n; b++) {
        uint32_t bit = UINT32_C(1) << (b % 32);
        sim_tick_t t;

        if (!!(m->lut[b / 32] & bit) == ns)
            continue;
        /*
         * The bit flips first, then both indexes hear the UNMAP: delivery is
         * synchronous, so a user that translates again from its callback
         * already gets the new answer and none keeps the old one (B11).
         */
        m->lut[b / 32] ^= bit;
        ev.entry.iova = ev.entry.translated_addr = m->cfg.base + b * bs;
        t = iommu_notify(&m->mmu, TZ_MPC_IDX_S, &ev);
        if (t > end)
            end = t;
        t = iommu_notify(&m->mmu, TZ_MPC_IDX_NS, &ev);
        if (t > end)
            end = t;
        m->st.unmap_events += 2;
        count++;
    }
    if (count) {
        m->st.lut_changes++;
        m->st.blocks_changed += count;
        m->st.notify_ticks += end - now;
    }
    if (changed)
        *changed = count;
    if (done)
        *done = end;
    return 0;
}

uint64_t tz_mpc_ns_blocks(const struct tz_mpc *m)
{
    uint64_t n = 0;

    for (uint64_t w = 0; w < (m->nblocks + 31) / 32; w++)
        n += (uint64_t)__builtin_popcount(m->lut[w]);
    return n;
}
