/*
 * tz_mpc.h - the `tz_mpc` model: an Arm TrustZone Memory Protection
 * Controller (CoreLink SIE-200 MPC, as QEMU's hw/misc/tz-mpc.c models it).
 *
 * An MPC sits in front of one memory and does not translate: the address a
 * master sends is the address the memory sees. What it does is gate each
 * access by the security of the transaction. The memory [base, base + size)
 * is cut into blocks of block_size bytes, and a lookup table (LUT) holds
 * one bit per block, cfg_ns: 1 means the block belongs to the non-secure
 * world, 0 to the secure world (reset: every block secure). A secure
 * transaction passes only to secure blocks, a non-secure one only to
 * non-secure blocks; any other access is blocked and gets, by the CTRL
 * register's SEC_RESP bit, read-as-zero/write-ignored (the access
 * "succeeds" without reaching memory) or a bus error.
 *
 * In the model API that is an IOMMU with two indexes (B12): index 0
 * (TZ_MPC_IDX_S) for secure transactions and for transactions without
 * attributes (QEMU treats unspecified like secure, so boot-time loads pass
 * the all-secure reset LUT), index 1 (TZ_MPC_IDX_NS) for non-secure ones.
 * translate() answers per index and per block: an allowed access is the
 * identity to system memory (target NULL, perm RW); a blocked one is, with
 * RAZ/WI, the identity to the MPC's blocked sink (target = &mpc->blocked,
 * perm RW: the device completes without error) and, with bus errors, perm
 * NONE (the device's request completes with SIM_EFAULT).
 *
 * A LUT change changes both indexes' answers for each changed block, and
 * the MPC cannot know which attributes future transactions carry, so it
 * sends, per changed block, one UNMAP on each index and never a MAP (B12).
 * MAP notifiers are refused (B5), and there is nothing to replay.
 *
 * Cost: a translation is one bit test; nothing is cached, so a LUT change
 * needs no invalidation beyond the notifier fan-out.
 */
#ifndef SIM_IOMMU_TZ_MPC_H
#define SIM_IOMMU_TZ_MPC_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/object.h"
#include "iommu/iommu.h"

enum { TZ_MPC_IDX_S = 0, TZ_MPC_IDX_NS = 1, TZ_MPC_NUM_INDEXES = 2 };

/* The most blocks a LUT may have: 2^28 bits, 32 MiB of host memory. */
#define TZ_MPC_MAX_BLOCKS (UINT64_C(1) << 28)

struct tz_mpc_cfg {
    uint64_t base;                  /* first address of the guarded memory */
    uint64_t size;                  /* bytes guarded: a multiple of block_size */
    uint64_t block_size;            /* a power of two >= 32 (BLK_CFG: 32 << n) */
    bool bus_error;                 /* blocked: bus error (SEC_RESP = 1), else RAZ/WI */
    sim_tick_t lookup_latency;      /* added to every timed request */
    const char *path;
};

struct tz_mpc_stats {
    uint64_t allowed[TZ_MPC_NUM_INDEXES];   /* timed requests passed downstream */
    uint64_t blocked[TZ_MPC_NUM_INDEXES];   /* timed requests blocked */
    uint64_t raz_wi, bus_errors;    /* blocked requests by response */
    uint64_t decode_errors;         /* timed requests outside [base, base + size) */
    uint64_t lut_changes;           /* tz_mpc_lut_set calls that changed a block */
    uint64_t blocks_changed;
    uint64_t unmap_events;          /* UNMAP fan-outs (two per changed block) */
    sim_tick_t notify_ticks;        /* sum over LUT changes of the time until
                                     * every notifier user was done */
};

struct tz_mpc {
    struct iommu mmu;               /* the one upstream address space */
    struct sim *sim;
    struct tz_mpc_cfg cfg;
    uint64_t nblocks;
    uint32_t *lut;                  /* nblocks bits, 32 per word like BLK_LUT */
    char blocked;                   /* the blocked sink: its address is the
                                     * target of a RAZ/WI answer */
    struct tz_mpc_stats st;
};

extern const struct iommu_ops tz_mpc_iommu_ops;

/*
 * Build the MPC with every block secure. Checks what the object's validate
 * hook checks too (block_size a power of two >= 32, size a non-zero
 * multiple of it, at most TZ_MPC_MAX_BLOCKS blocks, base aligned to it,
 * base + size without overflow): SIM_EINVAL with a one-line err; SIM_ENOMEM.
 */
int tz_mpc_init(struct tz_mpc *m, struct sim *sim, const struct tz_mpc_cfg *cfg,
                char *err, size_t errlen);
void tz_mpc_destroy(struct tz_mpc *m);

/* Is @addr inside the guarded memory? */
static inline bool tz_mpc_covers(const struct tz_mpc *m, uint64_t addr)
{
    return addr >= m->cfg.base && addr - m->cfg.base < m->cfg.size;
}

/* cfg_ns of the block holding @addr (which tz_mpc_covers). */
static inline bool tz_mpc_block_ns(const struct tz_mpc *m, uint64_t addr)
{
    uint64_t b = (addr - m->cfg.base) / m->cfg.block_size;

    return (m->lut[b / 32] >> (b % 32)) & 1;
}

/*
 * Software writes the LUT: every block of [addr, addr + size) becomes
 * non-secure (@ns) or secure. Each block whose bit changes is announced by
 * one UNMAP on each index; unchanged blocks send nothing. addr and size
 * must be block-aligned and inside the guarded memory (SIM_EINVAL,
 * SIM_ERANGE). *changed (may be NULL) gets the number of blocks changed,
 * *done (may be NULL) the tick at which every notifier user has finished.
 */
int tz_mpc_lut_set(struct tz_mpc *m, uint64_t addr, uint64_t size, bool ns,
                   uint64_t *changed, sim_tick_t *done);

/* Blocks that are non-secure now. */
uint64_t tz_mpc_ns_blocks(const struct tz_mpc *m);

/* --- As an object of a config (tz_mpc_object.c) ---------------------------- */
extern const struct sim_model tz_mpc_model_object;         /* "TzMpc" */

/* The MPC behind a created TzMpc object; NULL for NULL or any other model. */
struct tz_mpc *tz_mpc_from_object(const struct sim_object *obj);

#endif /* SIM_IOMMU_TZ_MPC_H */
