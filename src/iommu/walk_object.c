/*
 * walk_object.c - the `Walker` model: descriptor, validation, readouts of
 * an IOMMU's page-table walker (see objects.h and walk.h).
 *
 * Page-walk caches are given per depth: item d-1 of `pwc_entries` is the
 * cache of table addresses reached after the top d levels, so a hit there
 * skips d reads. A 4-level walk has depths 1..3; the owning IOMMU checks
 * that no more depths are given than its tables have levels - 1.
 */
#include "iommu/objects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "stats/objstats.h"

enum { WK_P_WALKERS, WK_P_PWC_ENTRIES, WK_P_PWC_WAYS, WK_P_PTE_BYTES };

static const struct sim_param wk_params[] = {
    [WK_P_WALKERS] = {
        .name = "walkers", .type = SIM_PT_INT, .def = "2", .min = "1", .max = "4096",
        .doc = "concurrent walks; a walk waits FIFO for a free walker (the wait is a readout)",
    },
    [WK_P_PWC_ENTRIES] = {
        .name = "pwc_entries", .type = SIM_PT_INT, .def = "16,16,16", .flags = SIM_PF_LIST,
        .min = "0", .max = "1048576",
        .doc = "page-walk cache entries per depth: item d (from 1) caches the table "
               "reached after the top d levels, so a hit skips d reads; 0 or a missing "
               "item for no cache at that depth; at most levels - 1 items",
    },
    [WK_P_PWC_WAYS] = {
        .name = "pwc_ways", .type = SIM_PT_INT, .def = "", .flags = SIM_PF_LIST,
        .min = "0", .max = "1048576",
        .doc = "ways of each page-walk cache, one item per pwc_entries item (each divides "
               "its entries; 0 fully associative); empty for all fully associative",
    },
    [WK_P_PTE_BYTES] = {
        .name = "pte_bytes", .type = SIM_PT_INT, .def = "8", .min = "1", .max = "64",
        .doc = "bytes read from memory per page-table entry",
    },
};

enum { WK_R_WALKS, WK_R_FAULTS, WK_R_READS, WK_R_READS_PER_WALK, WK_R_MEAN_LATENCY,
       WK_R_MAX_LATENCY, WK_R_QUEUE_WAIT, WK_R_UTILISATION, WK_R_PWC_HIT_RATE };

static const struct sim_readout wk_readouts[] = {
    [WK_R_WALKS] = { "walks", "walks", "walks completed since the last reset (faults included)" },
    [WK_R_FAULTS] = { "faults", "walks", "walks that found no mapping" },
    [WK_R_READS] = { "reads", "reads", "page-table reads made through the memory model" },
    [WK_R_READS_PER_WALK] = { "reads_per_walk", "reads", "reads / walks (0 without walks)" },
    [WK_R_MEAN_LATENCY] = { "mean_latency", "ps", "mean walk time from request to "
                            "completion, queueing for a walker included" },
    [WK_R_MAX_LATENCY] = { "max_latency", "ps", "longest walk time" },
    [WK_R_QUEUE_WAIT] = { "queue_wait", "ps", "mean wait for a free walker" },
    [WK_R_UTILISATION] = { "utilisation", "ratio", "busy fraction of the walkers" },
    [WK_R_PWC_HIT_RATE] = { "pwc_hit_rate", "ratio", "page-walk cache hits / lookups over "
                            "every depth and stage (0 without lookups)" },
};

static int wk_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    const struct sim_value *e = &v[WK_P_PWC_ENTRIES], *w = &v[WK_P_PWC_WAYS];
    char msg[200];
    int n = 0;

    if (e->list.n > PGTABLE_MAX_LEVELS - 1) {
        snprintf(msg, sizeof(msg), "too many depths (got %u items, expected at most %d: "
                 "depths 1..levels-1 of a table of at most %d levels)",
                 e->list.n, PGTABLE_MAX_LEVELS - 1, PGTABLE_MAX_LEVELS);
        report(ctx, "pwc_entries", msg);
        n++;
    }
    if (w->list.n && w->list.n != e->list.n) {
        snprintf(msg, sizeof(msg), "one item per pwc_entries item (got %u items, expected "
                 "%u, or none for fully associative)", w->list.n, e->list.n);
        report(ctx, "pwc_ways", msg);
        return n + 1;
    }
    for (uint32_t i = 0; i < w->list.n; i++) {
        int64_t ent = e->list.items[i].i, ways = w->list.items[i].i;

        if (ways && ent && (ways > ent || ent % ways)) {
            snprintf(msg, sizeof(msg), "item %u does not divide pwc_entries item %u (got "
                     "%lld, expected a divisor of %lld, or 0 for fully associative)",
                     i + 1, i + 1, (long long)ways, (long long)ent);
            report(ctx, "pwc_ways", msg);
            n++;
        }
    }
    return n;
}

static int wk_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *v = obj->values;
    struct walker_object *o = calloc(1, sizeof(*o));

    (void)w;
    (void)err;
    (void)errlen;
    if (!o)
        return SIM_ENOMEM;
    o->cfg.walkers = (unsigned)v[WK_P_WALKERS].i;
    o->npwc = v[WK_P_PWC_ENTRIES].list.n;
    for (unsigned d = 1; d <= o->npwc; d++) {
        o->cfg.pwc_entries[d] = (unsigned)v[WK_P_PWC_ENTRIES].list.items[d - 1].i;
        if (v[WK_P_PWC_WAYS].list.n)
            o->cfg.pwc_ways_at[d] = (unsigned)v[WK_P_PWC_WAYS].list.items[d - 1].i;
    }
    o->cfg.pte_bytes = (unsigned)v[WK_P_PTE_BYTES].i;
    o->cfg.path = obj->path;
    obj->priv = o;
    return 0;
}

static void wk_destroy(struct sim_object *obj)
{
    free(obj->priv);
    obj->priv = NULL;
}

static void wk_reset_stats(struct sim_object *obj)
{
    struct walker_object *o = obj->priv;

    if (o->live)
        walker_reset_stats(o->live);
}

static double wk_read(const struct sim_object *obj, unsigned idx)
{
    const struct walker_object *o = obj->priv;
    const struct walk_stats *s;
    uint64_t lk = 0, hit = 0;

    if (!o->live)
        return 0.0;
    s = &o->live->st;
    switch (idx) {
    case WK_R_WALKS:          return (double)s->walks;
    case WK_R_FAULTS:         return (double)s->faults;
    case WK_R_READS:          return (double)s->reads;
    case WK_R_READS_PER_WALK: return s->walks ? (double)s->reads / (double)s->walks : 0.0;
    case WK_R_MEAN_LATENCY:   return s->walks ? s->lat_sum / (double)s->walks : 0.0;
    case WK_R_MAX_LATENCY:    return (double)s->lat_max;
    case WK_R_QUEUE_WAIT:     return sim_resource_mean_wait(&o->live->slots);
    case WK_R_UTILISATION:    return sim_resource_utilisation(&o->live->slots);
    case WK_R_PWC_HIT_RATE:
        for (unsigned st = 0; st < 2; st++)
            for (unsigned d = 0; d < PGTABLE_MAX_LEVELS; d++) {
                lk += s->pwc_lookups[st][d];
                hit += s->pwc_hits[st][d];
            }
        return lk ? (double)hit / (double)lk : 0.0;
    default:                  return 0.0;
    }
}

/* walks, faults and reads by reference into the live walker; the means,
 * utilisation and PWC hit rate through read. */
static int wk_register_stats(struct sim_object *obj, void *reg)
{
    struct walker_object *o = obj->priv;
    uint64_t done = 0;
    int rc = 0;

    if (o->live) {
        struct walk_stats *s = &o->live->st;

        rc = stats_object_readout_counter(reg, obj, WK_R_WALKS, &s->walks, &done);
        if (!rc)
            rc = stats_object_readout_counter(reg, obj, WK_R_FAULTS, &s->faults, &done);
        if (!rc)
            rc = stats_object_readout_counter(reg, obj, WK_R_READS, &s->reads, &done);
    }
    return rc ? rc : stats_object_readouts(reg, obj, done);
}

static const struct sim_model_ops wk_ops = {
    .validate = wk_validate,
    .create = wk_create,
    .destroy = wk_destroy,
    .reset_stats = wk_reset_stats,
    .read = wk_read,
    .register_stats = wk_register_stats,
};

const struct sim_model iommu_model_walker = {
    .name = "Walker",
    .doc = "The page-table walker of an IOMMU (referenced by the IOMMU's `walker`): "
           "`walkers` concurrent walks with a FIFO queue, page-walk caches per depth that "
           "skip upper levels, every table read through the IOMMU's Memory. A cold "
           "4-level walk makes 4 reads, one with warm caches.",
    .params = wk_params, .nparams = sizeof(wk_params) / sizeof(wk_params[0]),
    .readouts = wk_readouts, .nreadouts = sizeof(wk_readouts) / sizeof(wk_readouts[0]),
    .ops = &wk_ops,
};

int walker_object_claim(struct sim_object *obj, const char *owner,
                        struct walker_object **out, char *err, size_t errlen)
{
    struct walker_object *o;

    if (!obj || obj->model != &iommu_model_walker || !obj->priv) {
        snprintf(err, errlen, "walker: not a Walker object");
        return SIM_EINVAL;
    }
    o = obj->priv;
    if (o->owner) {
        snprintf(err, errlen, "walker: %s already serves %s (each IOMMU needs a Walker "
                 "of its own)", obj->path, o->owner);
        return SIM_EEXIST;
    }
    o->owner = owner;
    *out = o;
    return 0;
}
