/*
 * mem_object.c - the `Memory` model: descriptor, parameters and readouts of
 * the memory timing model (memory.h).
 *
 * Every constraint a parameter has is declared here (bounds) or checked by
 * the validate hook (the interleave is a power of two), so a bad config is
 * reported by instantiate() with the parameter's path before anything
 * exists, and mem_init() can only fail for want of memory.
 */
#include "mem/mem_object.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "stats/objstats.h"

enum { MEM_P_LATENCY, MEM_P_CHANNELS, MEM_P_BANDWIDTH, MEM_P_INTERLEAVE,
       MEM_P_LLC_HIT, MEM_P_LLC_LATENCY };

static const struct sim_param mem_params[] = {
    [MEM_P_LATENCY] = {
        .name = "latency", .type = SIM_PT_LATENCY, .def = "80ns", .flags = SIM_PF_NO_CYCLES,
        .doc = "fixed part of every DRAM access (after its transfer on a channel)",
    },
    [MEM_P_CHANNELS] = {
        .name = "channels", .type = SIM_PT_INT, .def = "2", .min = "1", .max = "1024",
        .doc = "independent channels, address-interleaved; each serves one transfer at a time",
    },
    [MEM_P_BANDWIDTH] = {
        .name = "bandwidth", .type = SIM_PT_BANDWIDTH, .def = "25.6GB/s",
        .doc = "bandwidth of one channel; a transfer of B bytes occupies its channel for "
               "B / bandwidth, and requests queue FIFO behind it; 0 for unlimited",
    },
    [MEM_P_INTERLEAVE] = {
        .name = "interleave", .type = SIM_PT_SIZE, .def = "64B", .min = "1B", .max = "1GiB",
        .doc = "bytes per channel stripe (a power of two): address a goes to channel "
               "(a / interleave) mod channels",
    },
    [MEM_P_LLC_HIT] = {
        .name = "llc_hit", .type = SIM_PT_RATIO, .def = "0",
        .doc = "probability that a page-table read hits in the last-level cache "
               "(a seeded stream; DMA data never does)",
    },
    [MEM_P_LLC_LATENCY] = {
        .name = "llc_latency", .type = SIM_PT_LATENCY, .def = "20ns", .flags = SIM_PF_NO_CYCLES,
        .doc = "latency of a page-table read that hits in the LLC (it uses no channel)",
    },
};

enum { MEM_R_REQUESTS, MEM_R_BYTES, MEM_R_PT_READS, MEM_R_LLC_HITS, MEM_R_MEAN_LATENCY,
       MEM_R_MAX_LATENCY, MEM_R_UTILISATION };

static const struct sim_readout mem_readouts[] = {
    [MEM_R_REQUESTS] = { "requests", "requests", "accesses completed since the last reset" },
    [MEM_R_BYTES] = { "bytes", "B", "bytes transferred by those accesses" },
    [MEM_R_PT_READS] = { "pt_reads", "requests", "of which page-table reads" },
    [MEM_R_LLC_HITS] = { "llc_hits", "requests", "page-table reads that hit in the LLC" },
    [MEM_R_MEAN_LATENCY] = { "mean_latency", "ps", "mean latency from issue to completion, "
                             "queueing included (0 without requests)" },
    [MEM_R_MAX_LATENCY] = { "max_latency", "ps", "largest latency of one access" },
    [MEM_R_UTILISATION] = { "utilisation", "ratio", "busy fraction of the channels, "
                            "averaged over channels, since the last reset" },
};

static int mem_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    uint64_t il = v[MEM_P_INTERLEAVE].u;
    char msg[160];

    if (il & (il - 1)) {
        snprintf(msg, sizeof(msg), "not a power of two (got %llu bytes, expected a size "
                 "such as 64B or 4KiB)", (unsigned long long)il);
        report(ctx, "interleave", msg);
        return 1;
    }
    return 0;
}

static int mem_obj_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *v = obj->values;
    struct mem_cfg c;
    struct mem *m = malloc(sizeof(*m));
    char e[256];

    if (!m)
        return SIM_ENOMEM;
    memset(&c, 0, sizeof(c));
    c.latency = sim_latency_ticks(v[MEM_P_LATENCY].lat, NULL);
    c.channels = (unsigned)v[MEM_P_CHANNELS].i;
    c.bandwidth = v[MEM_P_BANDWIDTH].u / 8;        /* bit/s -> B/s */
    c.interleave = (unsigned)v[MEM_P_INTERLEAVE].u;
    c.llc_hit = v[MEM_P_LLC_HIT].f;
    c.llc_latency = sim_latency_ticks(v[MEM_P_LLC_LATENCY].lat, NULL);
    c.seed = w->seed;
    c.path = obj->path;                            /* names the LLC stream */
    if (mem_init(m, &w->sim, &c, e, sizeof(e))) {
        free(m);
        /* Only allocation can fail here: the bounds and validate hold the rest. */
        snprintf(err, errlen, "cannot create the memory model (%s)", e);
        return SIM_ENOMEM;
    }
    obj->priv = m;
    return 0;
}

static void mem_obj_destroy(struct sim_object *obj)
{
    if (obj->priv)
        mem_destroy(obj->priv);
    free(obj->priv);
    obj->priv = NULL;
}

static void mem_obj_reset_stats(struct sim_object *obj)
{
    mem_reset_stats(obj->priv);
}

static double mem_obj_read(const struct sim_object *obj, unsigned idx)
{
    struct mem *m = obj->priv;
    double u = 0.0;
    unsigned i;

    switch (idx) {
    case MEM_R_REQUESTS:     return (double)m->st.requests;
    case MEM_R_BYTES:        return (double)m->st.bytes;
    case MEM_R_PT_READS:     return (double)m->st.pt_reads;
    case MEM_R_LLC_HITS:     return (double)m->st.llc_hits;
    case MEM_R_MEAN_LATENCY: return mem_mean_latency(m);
    case MEM_R_MAX_LATENCY:  return (double)m->st.lat_max;
    case MEM_R_UTILISATION:
        for (i = 0; i < m->cfg.channels; i++)
            u += mem_utilisation(m, i);
        return u / (double)m->cfg.channels;
    default:                 return 0.0;
    }
}

/* The access counters by reference; latency and utilisation through read. */
static int mem_obj_register_stats(struct sim_object *obj, void *reg)
{
    struct mem *m = obj->priv;
    uint64_t done = 0;
    int rc;

    rc = stats_object_readout_counter(reg, obj, MEM_R_REQUESTS, &m->st.requests, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, MEM_R_BYTES, &m->st.bytes, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, MEM_R_PT_READS, &m->st.pt_reads, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, MEM_R_LLC_HITS, &m->st.llc_hits, &done);
    return rc ? rc : stats_object_readouts(reg, obj, done);
}

static const struct sim_model_ops mem_ops = {
    .validate = mem_validate,
    .create = mem_obj_create,
    .destroy = mem_obj_destroy,
    .reset_stats = mem_obj_reset_stats,
    .read = mem_obj_read,
    .register_stats = mem_obj_register_stats,
};

const struct sim_model mem_model_memory = {
    .name = "Memory",
    .doc = "Memory timing for page-table reads and DMA data: a fixed latency plus a "
           "transfer on one of `channels` address-interleaved channels, each serving one "
           "transfer at a time at `bandwidth` (requests queue FIFO). Page-table reads hit "
           "in an LLC with probability `llc_hit`.",
    .params = mem_params, .nparams = sizeof(mem_params) / sizeof(mem_params[0]),
    .readouts = mem_readouts, .nreadouts = sizeof(mem_readouts) / sizeof(mem_readouts[0]),
    .ops = &mem_ops,
};

struct mem *mem_object_mem(const struct sim_object *obj)
{
    return obj && obj->model == &mem_model_memory ? obj->priv : NULL;
}
