/*
 * iotlb_object.c - the `IOTLB` model: descriptor, validation, readouts of
 * an IOMMU's translation cache (see objects.h and iotlb.h).
 *
 * Geometry: `entries` and `ways` give the 4 KiB array, or the one array of
 * every page size when `split` is false (unified). With `split`, 2 MiB and
 * 1 GiB pages have arrays of their own (`entries_2m`, `entries_1g`); a size
 * without an array is cached as 4 KiB pieces. Ways 0 means fully
 * associative (ways == entries).
 */
#include "iommu/objects.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/models.h"
#include "stats/objstats.h"

enum { TLB_P_ENTRIES, TLB_P_WAYS, TLB_P_POLICY, TLB_P_SPLIT, TLB_P_ENTRIES_2M,
       TLB_P_WAYS_2M, TLB_P_ENTRIES_1G, TLB_P_WAYS_1G, TLB_P_MSHRS, TLB_P_HIT_LATENCY,
       TLB_P_LOOKUP_PORTS, TLB_P_LOOKUP_CYCLE, TLB_P_CLOCK };

static const char *const policy_names[] = { "lru", "plru", "fifo", "random", NULL };

static const struct sim_param tlb_params[] = {
    [TLB_P_ENTRIES] = {
        .name = "entries", .type = SIM_PT_INT, .def = "64", .min = "1", .max = "16777216",
        .doc = "entries of the 4 KiB array, or of the one array of every size when "
               "split is false",
    },
    [TLB_P_WAYS] = {
        .name = "ways", .type = SIM_PT_INT, .def = "0", .min = "0", .max = "16777216",
        .doc = "associativity of that array: must divide entries; 0 for fully "
               "associative (ways = entries)",
    },
    [TLB_P_POLICY] = {
        .name = "policy", .type = SIM_PT_ENUM, .def = "lru", .choices = policy_names,
        .doc = "replacement within a set: lru, plru (tree pseudo-LRU, ways a power of "
               "two <= 64), fifo, random (a stream seeded by --seed and the path)",
    },
    [TLB_P_SPLIT] = {
        .name = "split", .type = SIM_PT_BOOL, .def = "false",
        .doc = "one array per page size (4 KiB, 2 MiB, 1 GiB) instead of one unified array",
    },
    [TLB_P_ENTRIES_2M] = {
        .name = "entries_2m", .type = SIM_PT_INT, .def = "0", .min = "0", .max = "16777216",
        .doc = "with split: entries of the 2 MiB array; 0 caches 2 MiB pages as 4 KiB pieces",
    },
    [TLB_P_WAYS_2M] = {
        .name = "ways_2m", .type = SIM_PT_INT, .def = "0", .min = "0", .max = "16777216",
        .doc = "with split: ways of the 2 MiB array (divides entries_2m; 0 fully associative)",
    },
    [TLB_P_ENTRIES_1G] = {
        .name = "entries_1g", .type = SIM_PT_INT, .def = "0", .min = "0", .max = "16777216",
        .doc = "with split: entries of the 1 GiB array; 0 caches 1 GiB pages as smaller pieces",
    },
    [TLB_P_WAYS_1G] = {
        .name = "ways_1g", .type = SIM_PT_INT, .def = "0", .min = "0", .max = "16777216",
        .doc = "with split: ways of the 1 GiB array (divides entries_1g; 0 fully associative)",
    },
    [TLB_P_MSHRS] = {
        .name = "mshrs", .type = SIM_PT_INT, .def = "16", .min = "1", .max = "65536",
        .doc = "distinct misses in flight; a miss to a page already being walked joins "
               "that walk, a miss finding every MSHR busy waits for one",
    },
    [TLB_P_HIT_LATENCY] = {
        .name = "hit_latency", .type = SIM_PT_LATENCY, .def = "2ns",
        .doc = "time from the start of a lookup to its answer (a hit completes then); "
               "in cycles needs `clock`",
    },
    [TLB_P_LOOKUP_PORTS] = {
        .name = "lookup_ports", .type = SIM_PT_INT, .def = "1", .min = "1", .max = "1024",
        .doc = "lookups that can start per lookup_cycle; more wait their turn (port contention)",
    },
    [TLB_P_LOOKUP_CYCLE] = {
        .name = "lookup_cycle", .type = SIM_PT_LATENCY, .def = "1ns",
        .doc = "how long a lookup occupies its port; 0 for no port contention; in cycles "
               "needs `clock`",
    },
    [TLB_P_CLOCK] = {
        .name = "clock", .type = SIM_PT_REF, .ref_model = "ClockDomain",
        .flags = SIM_PF_OPTIONAL,
        .doc = "clock domain for latencies given in cycles; none for times only",
    },
};

enum { TLB_R_LOOKUPS, TLB_R_HITS, TLB_R_MISSES, TLB_R_HIT_RATE, TLB_R_MERGED,
       TLB_R_MSHR_FULL, TLB_R_FILLS, TLB_R_EVICTIONS, TLB_R_INVAL_GLOBAL,
       TLB_R_INVAL_DOMAIN, TLB_R_INVAL_PAGE, TLB_R_INVAL_RANGE, TLB_R_INVAL_ENTRIES,
       TLB_R_OCCUPANCY };

static const struct sim_readout tlb_readouts[] = {
    [TLB_R_LOOKUPS] = { "lookups", "lookups", "lookups since the last reset" },
    [TLB_R_HITS] = { "hits", "lookups", "lookups that hit" },
    [TLB_R_MISSES] = { "misses", "lookups", "lookups that missed (merged ones included)" },
    [TLB_R_HIT_RATE] = { "hit_rate", "ratio", "hits / lookups (0 without lookups)" },
    [TLB_R_MERGED] = { "merged", "lookups", "misses that joined a walk already in flight" },
    [TLB_R_MSHR_FULL] = { "mshr_full", "lookups", "misses that found every MSHR busy" },
    [TLB_R_FILLS] = { "fills", "entries", "entries written after walks" },
    [TLB_R_EVICTIONS] = { "evictions", "entries", "valid entries replaced by fills" },
    [TLB_R_INVAL_GLOBAL] = { "inval_global", "commands", "global invalidations" },
    [TLB_R_INVAL_DOMAIN] = { "inval_domain", "commands", "per-domain invalidations" },
    [TLB_R_INVAL_PAGE] = { "inval_page", "commands", "per-page invalidations" },
    [TLB_R_INVAL_RANGE] = { "inval_range", "commands", "per-range (address + mask) invalidations" },
    [TLB_R_INVAL_ENTRIES] = { "inval_entries", "entries", "entries removed by invalidations" },
    [TLB_R_OCCUPANCY] = { "occupancy", "entries", "valid entries now (not reset)" },
};

static int is_pow2(int64_t x)
{
    return x > 0 && (x & (x - 1)) == 0;
}

/* One array's geometry; returns the problems reported. */
static int check_array(const struct sim_value *v, unsigned pe, unsigned pw,
                       const char *ename, const char *wname, sim_report_fn report, void *ctx)
{
    int64_t e = v[pe].i, w = v[pw].i, eff = w ? w : e;
    char msg[200];

    if (e == 0)
        return 0;
    if (w > e) {
        snprintf(msg, sizeof(msg), "more ways than entries (got %lld, expected at most "
                 "%s = %lld, or 0 for fully associative)", (long long)w, ename, (long long)e);
        report(ctx, wname, msg);
        return 1;
    }
    if (w && e % w) {
        snprintf(msg, sizeof(msg), "does not divide %s (got %lld, expected a divisor of "
                 "%lld, or 0 for fully associative)", ename, (long long)w, (long long)e);
        report(ctx, wname, msg);
        return 1;
    }
    if (v[TLB_P_POLICY].e == IOTLB_PLRU && (!is_pow2(eff) || eff > 64)) {
        snprintf(msg, sizeof(msg), "plru needs a power of two of at most 64 ways (got %lld "
                 "ways, expected 1, 2, 4, ..., 64)", (long long)eff);
        report(ctx, wname, msg);
        return 1;
    }
    return 0;
}

static int cycles_need_clock(const struct sim_value *v, unsigned idx, const char *name,
                             sim_report_fn report, void *ctx)
{
    if (v[idx].lat.cycles && !v[TLB_P_CLOCK].ref.path) {
        report(ctx, name, "given in cycles but no clock is set (expected a time such "
               "as '2ns', or set clock to a ClockDomain)");
        return 1;
    }
    return 0;
}

static int tlb_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    int n = check_array(v, TLB_P_ENTRIES, TLB_P_WAYS, "entries", "ways", report, ctx);

    if (v[TLB_P_SPLIT].b) {
        n += check_array(v, TLB_P_ENTRIES_2M, TLB_P_WAYS_2M, "entries_2m", "ways_2m",
                         report, ctx);
        n += check_array(v, TLB_P_ENTRIES_1G, TLB_P_WAYS_1G, "entries_1g", "ways_1g",
                         report, ctx);
    } else {
        static const unsigned only_split[] = { TLB_P_ENTRIES_2M, TLB_P_WAYS_2M,
                                               TLB_P_ENTRIES_1G, TLB_P_WAYS_1G };
        for (unsigned i = 0; i < 4; i++) {
            if (v[only_split[i]].i) {
                report(ctx, tlb_params[only_split[i]].name,
                       "applies only to a split IOTLB (expected 0, or set split=true)");
                n++;
            }
        }
    }
    n += cycles_need_clock(v, TLB_P_HIT_LATENCY, "hit_latency", report, ctx);
    n += cycles_need_clock(v, TLB_P_LOOKUP_CYCLE, "lookup_cycle", report, ctx);
    return n;
}

static int tlb_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *v = obj->values;
    const struct sim_clock *clk = sim_clock_domain_clock(v[TLB_P_CLOCK].ref.obj);
    struct iotlb_object *o = calloc(1, sizeof(*o));
    struct iotlb_cfg *c;

    (void)err;
    (void)errlen;
    if (!o)
        return SIM_ENOMEM;
    c = &o->cfg;
    c->policy = (enum iotlb_policy)v[TLB_P_POLICY].e;
    c->split = v[TLB_P_SPLIT].b;
    c->arr[IOTLB_4K].entries = (unsigned)v[TLB_P_ENTRIES].i;
    c->arr[IOTLB_4K].ways = (unsigned)(v[TLB_P_WAYS].i ? v[TLB_P_WAYS].i : v[TLB_P_ENTRIES].i);
    if (c->split) {
        c->arr[IOTLB_2M].entries = (unsigned)v[TLB_P_ENTRIES_2M].i;
        c->arr[IOTLB_2M].ways = (unsigned)(v[TLB_P_WAYS_2M].i ? v[TLB_P_WAYS_2M].i
                                                              : v[TLB_P_ENTRIES_2M].i);
        c->arr[IOTLB_1G].entries = (unsigned)v[TLB_P_ENTRIES_1G].i;
        c->arr[IOTLB_1G].ways = (unsigned)(v[TLB_P_WAYS_1G].i ? v[TLB_P_WAYS_1G].i
                                                              : v[TLB_P_ENTRIES_1G].i);
    }
    c->mshrs = (unsigned)v[TLB_P_MSHRS].i;
    c->seed = w->seed;
    c->path = obj->path;                            /* names the random stream */
    o->hit_latency = sim_latency_ticks(v[TLB_P_HIT_LATENCY].lat, clk);
    o->lookup_cycle = sim_latency_ticks(v[TLB_P_LOOKUP_CYCLE].lat, clk);
    o->lookup_ports = (unsigned)v[TLB_P_LOOKUP_PORTS].i;
    obj->priv = o;
    return 0;
}

static void tlb_destroy(struct sim_object *obj)
{
    free(obj->priv);
    obj->priv = NULL;
}

static void tlb_reset_stats(struct sim_object *obj)
{
    struct iotlb_object *o = obj->priv;

    if (o->live)
        iotlb_reset_stats(o->live);
}

static double tlb_read(const struct sim_object *obj, unsigned idx)
{
    const struct iotlb_object *o = obj->priv;
    const struct iotlb_stats *s;

    if (!o->live)
        return 0.0;                 /* not used by any IOMMU: nothing happened */
    s = &o->live->st;
    switch (idx) {
    case TLB_R_LOOKUPS:       return (double)s->lookups;
    case TLB_R_HITS:          return (double)s->hits;
    case TLB_R_MISSES:        return (double)s->misses;
    case TLB_R_HIT_RATE:      return iotlb_hit_rate(o->live);
    case TLB_R_MERGED:        return (double)s->merged;
    case TLB_R_MSHR_FULL:     return (double)s->mshr_full;
    case TLB_R_FILLS:         return (double)s->fills;
    case TLB_R_EVICTIONS:     return (double)s->evictions;
    case TLB_R_INVAL_GLOBAL:  return (double)s->inval_global;
    case TLB_R_INVAL_DOMAIN:  return (double)s->inval_domain;
    case TLB_R_INVAL_PAGE:    return (double)s->inval_page;
    case TLB_R_INVAL_RANGE:   return (double)s->inval_range;
    case TLB_R_INVAL_ENTRIES: return (double)s->inval_entries;
    case TLB_R_OCCUPANCY:     return (double)s->occupancy;
    default:                  return 0.0;
    }
}

/*
 * The event counters by reference into the live IOTLB (bound by the IOMMU's
 * connect, which runs before registration); hit_rate as the formula
 * hits / (hits + misses) (NaN without lookups, where the readout says 0);
 * occupancy, a level, through read. An IOTLB no IOMMU uses has no live
 * instance: its readouts (all 0) are registered instead.
 */
static int tlb_register_stats(struct sim_object *obj, void *reg)
{
    struct iotlb_object *o = obj->priv;
    struct iotlb_stats *s;
    static const struct { unsigned idx; size_t off; } refs[] = {
        { TLB_R_LOOKUPS, offsetof(struct iotlb_stats, lookups) },
        { TLB_R_HITS, offsetof(struct iotlb_stats, hits) },
        { TLB_R_MISSES, offsetof(struct iotlb_stats, misses) },
        { TLB_R_MERGED, offsetof(struct iotlb_stats, merged) },
        { TLB_R_MSHR_FULL, offsetof(struct iotlb_stats, mshr_full) },
        { TLB_R_FILLS, offsetof(struct iotlb_stats, fills) },
        { TLB_R_EVICTIONS, offsetof(struct iotlb_stats, evictions) },
        { TLB_R_INVAL_GLOBAL, offsetof(struct iotlb_stats, inval_global) },
        { TLB_R_INVAL_DOMAIN, offsetof(struct iotlb_stats, inval_domain) },
        { TLB_R_INVAL_PAGE, offsetof(struct iotlb_stats, inval_page) },
        { TLB_R_INVAL_RANGE, offsetof(struct iotlb_stats, inval_range) },
        { TLB_R_INVAL_ENTRIES, offsetof(struct iotlb_stats, inval_entries) },
    };
    uint64_t done = UINT64_C(1) << TLB_R_HIT_RATE;
    int rc = 0;

    if (!o->live)
        return stats_object_readouts(reg, obj, 0);
    s = &o->live->st;
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]) && !rc; i++)
        rc = stats_object_readout_counter(reg, obj, refs[i].idx,
                                          (const uint64_t *)((const char *)s + refs[i].off),
                                          &done);
    if (!rc && !stats_register_formula(reg, obj->path, "hit_rate", "ratio",
                                       "hits / (hits + misses) since the last reset "
                                       "(NaN without lookups)", "hits / (hits + misses)"))
        rc = stats_registry_error(reg);
    return rc ? rc : stats_object_readouts(reg, obj, done);
}

static const struct sim_model_ops tlb_ops = {
    .validate = tlb_validate,
    .create = tlb_create,
    .destroy = tlb_destroy,
    .reset_stats = tlb_reset_stats,
    .read = tlb_read,
    .register_stats = tlb_register_stats,
};

const struct sim_model iommu_model_iotlb = {
    .name = "IOTLB",
    .doc = "The translation cache of an IOMMU (referenced by the IOMMU's `iotlb`): "
           "sets x ways, lru/plru/fifo/random replacement, unified or split per page "
           "size, MSHRs that merge misses to a page being walked, a hit latency and "
           "lookup ports. Uniform random accesses over N pages through C entries hit "
           "C/N of the time once it is full.",
    .params = tlb_params, .nparams = sizeof(tlb_params) / sizeof(tlb_params[0]),
    .readouts = tlb_readouts, .nreadouts = sizeof(tlb_readouts) / sizeof(tlb_readouts[0]),
    .ops = &tlb_ops,
};

int iotlb_object_claim(struct sim_object *obj, const char *owner,
                       struct iotlb_object **out, char *err, size_t errlen)
{
    struct iotlb_object *o;

    if (!obj || obj->model != &iommu_model_iotlb || !obj->priv) {
        snprintf(err, errlen, "iotlb: not an IOTLB object");
        return SIM_EINVAL;
    }
    o = obj->priv;
    if (o->owner) {
        snprintf(err, errlen, "iotlb: %s already serves %s (each IOMMU needs an IOTLB "
                 "of its own)", obj->path, o->owner);
        return SIM_EEXIST;
    }
    o->owner = owner;
    *out = o;
    return 0;
}
