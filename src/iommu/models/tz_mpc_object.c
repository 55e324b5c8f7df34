/*
 * tz_mpc_object.c - the `TzMpc` model descriptor: a TrustZone MPC (tz_mpc.h)
 * as an object of a config, with its LUT's initial contents and a schedule
 * of LUT changes (what secure software writes to BLK_LUT while masters run).
 *
 * It implements "IOMMU" so that DmaDevice masters sit behind it. An MPC
 * does not translate, so its domains (iommu/domain.h) carry
 * IOMMU_DOMAIN_IDENTITY: a master uses the passthrough DMA policy (its
 * buffers are addressed physically) and its requests still go through the
 * MPC, which checks them. The domain ops are the LUT writes:
 *
 *   domain 0 is the secure world, domain 1 the non-secure world;
 *   map(d, a, a, size, perm): the blocks of [a, a + size) become d's
 *     (the address must be its own physical address: SIM_EINVAL otherwise;
 *     the MPC has no read/write permissions, so any perm gives both);
 *     SIM_EEXIST if one of them is d's already;
 *   unmap(d, a, size): the blocks of the range that are d's go to the other
 *     world (one LUT bit per block: taking a block from one world gives it
 *     to the other); SIM_ENOENT if none is d's;
 *   lookup(d, a): perm RW where the block is d's, NONE elsewhere;
 *   flush_all: nothing is cached, done at once.
 * Every op changes the LUT at once and sends the UNMAPs of tz_mpc_lut_set;
 * *done is when the notifier users have finished.
 *
 * attach(rid, d) hands every master the MPC's one address space: which
 * index a request is checked in follows its attributes (secure or not),
 * not the domain, exactly as in the hardware.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/domain.h"
#include "iommu/models/tz_mpc.h"

enum { TM_P_BASE, TM_P_SIZE, TM_P_BLOCK_SIZE, TM_P_BLOCKED_RESPONSE, TM_P_LOOKUP_LATENCY,
       TM_P_NS_BASE, TM_P_NS_SIZE, TM_P_CHANGE_AT, TM_P_CHANGE_BASE, TM_P_CHANGE_SIZE,
       TM_P_CHANGE_TO };

static const char *const response_names[] = { "raz_wi", "bus_error", NULL };
static const char *const world_names[] = { "secure", "nonsecure", NULL };

static const struct sim_param tm_params[] = {
    [TM_P_BASE] = {
        .name = "base", .type = SIM_PT_SIZE, .def = "4GiB",
        .doc = "first physical address of the memory the MPC guards, a multiple of "
               "block_size (the default is DmaDevice's default buf_base)",
    },
    [TM_P_SIZE] = {
        .name = "size", .type = SIM_PT_SIZE, .def = "64MiB", .min = "32B",
        .doc = "bytes guarded, a multiple of block_size; accesses outside [base, base + "
               "size) reach no memory and fail (decode_errors)",
    },
    [TM_P_BLOCK_SIZE] = {
        .name = "block_size", .type = SIM_PT_SIZE, .def = "4KiB", .min = "32B", .max = "1GiB",
        .doc = "bytes per LUT bit, a power of two (SIE-200 BLK_CFG: 32 << n bytes; QEMU "
               "fixes it at the 4 KiB target page)",
    },
    [TM_P_BLOCKED_RESPONSE] = {
        .name = "blocked_response", .type = SIM_PT_ENUM, .def = "raz_wi",
        .choices = response_names,
        .doc = "what a blocked access gets (CTRL.SEC_RESP): raz_wi (read as zero, write "
               "ignored: no error; the reset value) or bus_error (the request fails)",
    },
    [TM_P_LOOKUP_LATENCY] = {
        .name = "lookup_latency", .type = SIM_PT_LATENCY, .def = "0ns",
        .flags = SIM_PF_NO_CYCLES,
        .doc = "time the MPC adds to every access for its LUT lookup (QEMU: none)",
    },
    [TM_P_NS_BASE] = {
        .name = "ns_base", .type = SIM_PT_SIZE, .def = "", .flags = SIM_PF_LIST,
        .doc = "start addresses of the ranges that are non-secure at time 0 (the LUT "
               "resets to all secure); block-aligned, one per ns_size item",
    },
    [TM_P_NS_SIZE] = {
        .name = "ns_size", .type = SIM_PT_SIZE, .def = "", .flags = SIM_PF_LIST,
        .doc = "bytes of each ns_base range, block-aligned",
    },
    [TM_P_CHANGE_AT] = {
        .name = "change_at", .type = SIM_PT_LATENCY, .def = "", .flags = SIM_PF_LIST |
        SIM_PF_NO_CYCLES,
        .doc = "simulated times at which software rewrites part of the LUT, in "
               "non-decreasing order; item i changes change_size[i] bytes at "
               "change_base[i] to change_to[i]",
    },
    [TM_P_CHANGE_BASE] = {
        .name = "change_base", .type = SIM_PT_SIZE, .def = "", .flags = SIM_PF_LIST,
        .doc = "start address of each change_at change, block-aligned",
    },
    [TM_P_CHANGE_SIZE] = {
        .name = "change_size", .type = SIM_PT_SIZE, .def = "", .flags = SIM_PF_LIST,
        .doc = "bytes of each change_at change, block-aligned",
    },
    [TM_P_CHANGE_TO] = {
        .name = "change_to", .type = SIM_PT_ENUM, .def = "", .flags = SIM_PF_LIST,
        .choices = world_names,
        .doc = "the world each change_at change gives its blocks to",
    },
};

enum { TM_R_S_ALLOWED, TM_R_S_BLOCKED, TM_R_NS_ALLOWED, TM_R_NS_BLOCKED, TM_R_RAZ_WI,
       TM_R_BUS_ERRORS, TM_R_DECODE_ERRORS, TM_R_LUT_CHANGES, TM_R_BLOCKS_CHANGED,
       TM_R_UNMAP_EVENTS, TM_R_NOTIFY_TIME, TM_R_NS_BLOCKS };

static const struct sim_readout tm_readouts[] = {
    [TM_R_S_ALLOWED] = { "s_allowed", "requests", "secure (or attribute-less) requests "
                         "passed to memory" },
    [TM_R_S_BLOCKED] = { "s_blocked", "requests", "secure requests to non-secure blocks" },
    [TM_R_NS_ALLOWED] = { "ns_allowed", "requests", "non-secure requests passed to memory" },
    [TM_R_NS_BLOCKED] = { "ns_blocked", "requests", "non-secure requests to secure blocks" },
    [TM_R_RAZ_WI] = { "raz_wi", "requests", "blocked requests answered read-as-zero / "
                      "write-ignored" },
    [TM_R_BUS_ERRORS] = { "bus_errors", "requests", "blocked requests answered with a "
                          "bus error" },
    [TM_R_DECODE_ERRORS] = { "decode_errors", "requests", "requests outside the guarded "
                             "memory" },
    [TM_R_LUT_CHANGES] = { "lut_changes", "writes", "LUT writes that changed a block" },
    [TM_R_BLOCKS_CHANGED] = { "blocks_changed", "blocks", "blocks whose world changed" },
    [TM_R_UNMAP_EVENTS] = { "unmap_events", "events", "UNMAP fan-outs: one per index per "
                            "changed block" },
    [TM_R_NOTIFY_TIME] = { "notify_time", "ps", "sum over LUT changes of the time until "
                           "every notifier user was done" },
    [TM_R_NS_BLOCKS] = { "ns_blocks", "blocks", "blocks that are non-secure now (not "
                         "reset)" },
};

struct tz_mpc_object {
    struct tz_mpc m;                /* first: tz_mpc_from_object is a cast */
    struct iommu_domain doms[TZ_MPC_NUM_INDEXES];   /* [world]: 0 secure, 1 non-secure */
    struct sim_event change_ev;
    const struct sim_value *v;      /* the object's values: the change schedule */
    uint32_t next_change;
};

/* --- Checks ------------------------------------------------------------------ */

static int check_range(const char *param, uint64_t a, uint64_t n, uint64_t base,
                       uint64_t size, uint64_t bs, sim_report_fn report, void *ctx)
{
    char msg[240];

    if (a % bs || n % bs || !n) {
        snprintf(msg, sizeof(msg), "not block-aligned (got %#llx + %llu, expected multiples "
                 "of block_size %llu, size > 0)", (unsigned long long)a,
                 (unsigned long long)n, (unsigned long long)bs);
        report(ctx, param, msg);
        return 1;
    }
    if (a < base || n > size || a - base > size - n) {
        snprintf(msg, sizeof(msg), "outside the guarded memory (got [%#llx, %#llx), "
                 "expected inside [%#llx, %#llx))", (unsigned long long)a,
                 (unsigned long long)(a + n), (unsigned long long)base,
                 (unsigned long long)(base + size));
        report(ctx, param, msg);
        return 1;
    }
    return 0;
}

static int tm_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    uint64_t bs = v[TM_P_BLOCK_SIZE].u, base = v[TM_P_BASE].u, size = v[TM_P_SIZE].u;
    uint32_t nc = v[TM_P_CHANGE_AT].list.n;
    char msg[240];
    int n = 0;

    if (bs & (bs - 1)) {
        snprintf(msg, sizeof(msg), "not a power of two (got %llu)", (unsigned long long)bs);
        report(ctx, "block_size", msg);
        return 1;
    }
    if (base % bs || size % bs) {
        snprintf(msg, sizeof(msg), "base and size must be multiples of block_size (got "
                 "base %#llx, size %llu, block_size %llu)", (unsigned long long)base,
                 (unsigned long long)size, (unsigned long long)bs);
        report(ctx, base % bs ? "base" : "size", msg);
        return 1;
    }
    if (size / bs > TZ_MPC_MAX_BLOCKS || base + size < base) {
        snprintf(msg, sizeof(msg), "too many blocks or past 2^64 (got %llu blocks, "
                 "expected at most %llu)", (unsigned long long)(size / bs),
                 (unsigned long long)TZ_MPC_MAX_BLOCKS);
        report(ctx, "size", msg);
        return 1;
    }
    if (v[TM_P_NS_BASE].list.n != v[TM_P_NS_SIZE].list.n) {
        snprintf(msg, sizeof(msg), "one size per ns_base item (got %u ns_base, %u ns_size)",
                 v[TM_P_NS_BASE].list.n, v[TM_P_NS_SIZE].list.n);
        report(ctx, "ns_size", msg);
        n++;
    } else {
        for (uint32_t i = 0; i < v[TM_P_NS_BASE].list.n; i++)
            n += check_range("ns_base", v[TM_P_NS_BASE].list.items[i].u,
                             v[TM_P_NS_SIZE].list.items[i].u, base, size, bs, report, ctx);
    }
    if (v[TM_P_CHANGE_BASE].list.n != nc || v[TM_P_CHANGE_SIZE].list.n != nc ||
        v[TM_P_CHANGE_TO].list.n != nc) {
        snprintf(msg, sizeof(msg), "change_at, change_base, change_size and change_to need "
                 "as many items each (got %u, %u, %u, %u)", nc, v[TM_P_CHANGE_BASE].list.n,
                 v[TM_P_CHANGE_SIZE].list.n, v[TM_P_CHANGE_TO].list.n);
        report(ctx, "change_at", msg);
        return n + 1;
    }
    for (uint32_t i = 0; i < nc; i++) {
        n += check_range("change_base", v[TM_P_CHANGE_BASE].list.items[i].u,
                         v[TM_P_CHANGE_SIZE].list.items[i].u, base, size, bs, report, ctx);
        if (i && v[TM_P_CHANGE_AT].list.items[i].lat.value <
                 v[TM_P_CHANGE_AT].list.items[i - 1].lat.value) {
            snprintf(msg, sizeof(msg), "times must not decrease (item %u is earlier than "
                     "item %u)", i, i - 1);
            report(ctx, "change_at", msg);
            n++;
        }
    }
    return n;
}

/* --- Domain ops: the LUT writes ------------------------------------------------- */

static struct tz_mpc *dom_mpc(const struct iommu_domain *dom)
{
    return dom->model;
}

/* How many blocks of [iova, iova + size) belong to world @ns. */
static uint64_t blocks_of(const struct tz_mpc *m, uint64_t iova, uint64_t size, bool ns)
{
    uint64_t n = 0;

    for (uint64_t a = iova; a - iova < size; a += m->cfg.block_size)
        n += tz_mpc_block_ns(m, a) == ns;
    return n;
}

static int range_ok(const struct tz_mpc *m, uint64_t iova, uint64_t size)
{
    if (!size || iova % m->cfg.block_size || size % m->cfg.block_size)
        return SIM_EINVAL;
    if (!tz_mpc_covers(m, iova) || size > m->cfg.base + m->cfg.size - iova)
        return SIM_ERANGE;
    return 0;
}

static int tmd_map(struct iommu_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
                   unsigned perm, sim_tick_t at, sim_tick_t *done)
{
    struct tz_mpc *m = dom_mpc(dom);
    bool ns = dom->id == TZ_MPC_IDX_NS;
    int r = range_ok(m, iova, size);

    *done = at;
    if (r)
        return r;
    if (iova != pa || perm == IOMMU_NONE)
        return SIM_EINVAL;          /* an MPC does not translate */
    if (blocks_of(m, iova, size, ns))
        return SIM_EEXIST;
    r = tz_mpc_lut_set(m, iova, size, ns, NULL, done);
    if (*done < at)
        *done = at;
    return r;
}

static int tmd_unmap(struct iommu_domain *dom, uint64_t iova, uint64_t size, unsigned flags,
                     sim_tick_t at, sim_tick_t *done)
{
    struct tz_mpc *m = dom_mpc(dom);
    bool ns = dom->id == TZ_MPC_IDX_NS;
    int r = range_ok(m, iova, size);

    (void)flags;                    /* nothing cached: strict and lazy alike */
    *done = at;
    if (r)
        return r;
    if (!blocks_of(m, iova, size, ns))
        return SIM_ENOENT;
    /* Blocks of the other world already are: only this world's flip. */
    r = tz_mpc_lut_set(m, iova, size, !ns, NULL, done);
    if (*done < at)
        *done = at;
    return r;
}

static sim_tick_t tmd_flush_all(struct iommu_domain *dom, sim_tick_t at)
{
    (void)dom;
    return at;
}

static struct iommu_tlb_entry tmd_lookup(struct iommu_domain *dom, uint64_t iova)
{
    struct tz_mpc *m = dom_mpc(dom);
    uint64_t mask = m->cfg.block_size - 1;
    struct iommu_tlb_entry e = { .iova = iova & ~mask, .translated_addr = iova & ~mask,
                                 .addr_mask = mask };

    if (tz_mpc_covers(m, iova) && tz_mpc_block_ns(m, iova) == (dom->id == TZ_MPC_IDX_NS))
        e.perm = IOMMU_RW;
    return e;
}

static const struct iommu_domain_ops tm_domain_ops = {
    .map = tmd_map,
    .unmap = tmd_unmap,
    .flush_all = tmd_flush_all,
    .lookup = tmd_lookup,
};

static int tm_domain(const struct sim_object *obj, unsigned id, struct iommu_domain **out,
                     char *err, size_t errlen)
{
    struct tz_mpc_object *o = obj->priv;

    if (id >= TZ_MPC_NUM_INDEXES) {
        snprintf(err, errlen, "domain: a TzMpc has domains 0 (secure world) and 1 "
                 "(non-secure world) (got %u of %s)", id, obj->path);
        return SIM_ERANGE;
    }
    *out = &o->doms[id];
    return 0;
}

static int tm_attach(const struct sim_object *obj, uint32_t rid, unsigned id,
                     struct iommu **out, char *err, size_t errlen)
{
    struct tz_mpc_object *o = obj->priv;
    struct iommu_domain *dom;
    int r = tm_domain(obj, id, &dom, err, errlen);

    (void)rid;                      /* every master sees the same MPC */
    if (!r)
        *out = &o->m.mmu;
    return r;
}

static const struct iommu_object_ops tm_iface = {
    .domain = tm_domain,
    .attach = tm_attach,
};

/* --- Scheduled LUT changes ------------------------------------------------------ */

static void schedule_next(struct tz_mpc_object *o)
{
    const struct sim_value *at = &o->v[TM_P_CHANGE_AT];

    if (o->next_change < at->list.n)
        sim_event_schedule(o->m.sim, &o->change_ev,
                           at->list.items[o->next_change].lat.value);
}

/* Every change due now, in list order, then the next one's event. */
static void change_fire(struct sim_event *ev, void *arg)
{
    struct tz_mpc_object *o = arg;
    const struct sim_value *v = o->v;
    sim_tick_t now = sim_now(o->m.sim);

    (void)ev;
    while (o->next_change < v[TM_P_CHANGE_AT].list.n &&
           v[TM_P_CHANGE_AT].list.items[o->next_change].lat.value <= now) {
        uint32_t i = o->next_change++;

        /* validate checked alignment and bounds: this cannot fail */
        tz_mpc_lut_set(&o->m, v[TM_P_CHANGE_BASE].list.items[i].u,
                       v[TM_P_CHANGE_SIZE].list.items[i].u,
                       v[TM_P_CHANGE_TO].list.items[i].e == 1, NULL, NULL);
    }
    schedule_next(o);
}

/* --- Lifecycle ------------------------------------------------------------------ */

static int tm_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *v = obj->values;
    struct tz_mpc_object *o;
    struct tz_mpc_cfg c;
    char e[300];
    int r;

    o = calloc(1, sizeof(*o));
    if (!o)
        return SIM_ENOMEM;
    memset(&c, 0, sizeof(c));
    c.base = v[TM_P_BASE].u;
    c.size = v[TM_P_SIZE].u;
    c.block_size = v[TM_P_BLOCK_SIZE].u;
    c.bus_error = v[TM_P_BLOCKED_RESPONSE].e == 1;
    c.lookup_latency = v[TM_P_LOOKUP_LATENCY].lat.value;
    c.path = obj->path;
    r = tz_mpc_init(&o->m, &w->sim, &c, e, sizeof(e));
    if (r) {
        /* validate holds every constraint: only memory can run out */
        snprintf(err, errlen, "cannot create the model (%s)", e);
        free(o);
        return r;
    }
    /* The initial LUT: no notifier exists yet, so no event goes anywhere. */
    for (uint32_t i = 0; i < v[TM_P_NS_BASE].list.n; i++)
        tz_mpc_lut_set(&o->m, v[TM_P_NS_BASE].list.items[i].u, v[TM_P_NS_SIZE].list.items[i].u,
                       true, NULL, NULL);
    memset(&o->m.st, 0, sizeof(o->m.st));
    for (unsigned d = 0; d < TZ_MPC_NUM_INDEXES; d++) {
        struct iommu_domain *dom = &o->doms[d];
        unsigned bits = 0;

        dom->ops = &tm_domain_ops;
        dom->id = d;
        iommu_get_attr(&o->m.mmu, IOMMU_ATTR_ADDR_WIDTH, &bits);
        dom->addr_bits = bits;
        dom->pgsize_bitmap = c.block_size;
        dom->flags = IOMMU_DOMAIN_IDENTITY;
        dom->model = &o->m;
    }
    sim_event_init(&o->change_ev, change_fire, o, SIM_PRIO_DEFAULT);
    o->v = obj->values;
    obj->priv = o;
    return 0;
}

static int tm_connect(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    (void)w;
    (void)err;
    (void)errlen;
    schedule_next(obj->priv);
    return 0;
}

static void tm_destroy(struct sim_object *obj)
{
    struct tz_mpc_object *o = obj->priv;

    if (!o)
        return;
    tz_mpc_destroy(&o->m);
    free(o);
    obj->priv = NULL;
}

static void tm_reset_stats(struct sim_object *obj)
{
    struct tz_mpc_object *o = obj->priv;

    memset(&o->m.st, 0, sizeof(o->m.st));
}

static double tm_read(const struct sim_object *obj, unsigned idx)
{
    const struct tz_mpc_object *o = obj->priv;
    const struct tz_mpc_stats *s = &o->m.st;

    switch (idx) {
    case TM_R_S_ALLOWED:     return (double)s->allowed[TZ_MPC_IDX_S];
    case TM_R_S_BLOCKED:     return (double)s->blocked[TZ_MPC_IDX_S];
    case TM_R_NS_ALLOWED:    return (double)s->allowed[TZ_MPC_IDX_NS];
    case TM_R_NS_BLOCKED:    return (double)s->blocked[TZ_MPC_IDX_NS];
    case TM_R_RAZ_WI:        return (double)s->raz_wi;
    case TM_R_BUS_ERRORS:    return (double)s->bus_errors;
    case TM_R_DECODE_ERRORS: return (double)s->decode_errors;
    case TM_R_LUT_CHANGES:   return (double)s->lut_changes;
    case TM_R_BLOCKS_CHANGED: return (double)s->blocks_changed;
    case TM_R_UNMAP_EVENTS:  return (double)s->unmap_events;
    case TM_R_NOTIFY_TIME:   return (double)s->notify_ticks;
    case TM_R_NS_BLOCKS:     return (double)tz_mpc_ns_blocks(&o->m);
    default:                 return 0.0;
    }
}

static const struct sim_model_ops tm_ops = {
    .validate = tm_validate,
    .create = tm_create,
    .connect = tm_connect,
    .destroy = tm_destroy,
    .reset_stats = tm_reset_stats,
    .read = tm_read,
};

const struct sim_model tz_mpc_model_object = {
    .name = "TzMpc",
    .doc = "An Arm TrustZone Memory Protection Controller (CoreLink SIE-200 MPC, as QEMU's "
           "tz-mpc): a lookup table with one secure/non-secure bit per block of the guarded "
           "memory. Secure (and attribute-less) requests pass only to secure blocks, "
           "non-secure ones only to non-secure blocks; others are blocked (read-as-zero/"
           "write-ignored or a bus error) and counted. No translation: masters behind it "
           "use the passthrough policy and set `secure`. A LUT change (scheduled with "
           "change_at, or a domain op: domain 0 secure, 1 non-secure) sends UNMAP on both "
           "indexes for each changed block, never MAP; MAP notifiers are refused.",
    .params = tm_params, .nparams = sizeof(tm_params) / sizeof(tm_params[0]),
    .readouts = tm_readouts, .nreadouts = sizeof(tm_readouts) / sizeof(tm_readouts[0]),
    .ops = &tm_ops,
    .implements = IOMMU_OBJECT_IFACE,
    .iface = &tm_iface,
};

struct tz_mpc *tz_mpc_from_object(const struct sim_object *obj)
{
    if (!obj || obj->model != &tz_mpc_model_object || !obj->priv)
        return NULL;
    return &((struct tz_mpc_object *)obj->priv)->m;
}
