/*
 * traffic.c - the table of traffic patterns and the stream driver shared by
 * the address-stream patterns (see traffic.h).
 */
#include "dev/traffic/traffic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

const struct traffic_ops *const traffic_patterns[] = {
    &traffic_sequential, &traffic_strided, &traffic_uniform, &traffic_zipf, &traffic_nic,
    &traffic_nvme, &traffic_accel, NULL,
};

const char *const traffic_pattern_names[] = {
    "sequential", "strided", "uniform", "zipf", "nic", "nvme", "accel", NULL,
};

/* --- The stream driver -------------------------------------------------------- */

static void stream_issue(struct traffic *t, struct dma_xfer *x)
{
    x->iova = t->base_iova + t->ops->next_offset(t);
    x->bytes = t->cfg.size;
    x->write = t->cfg.write_ratio >= 1.0 ||
               (t->cfg.write_ratio > 0.0 && sim_rng_uniform(&t->rng) < t->cfg.write_ratio);
    dma_engine_submit(t->eng, x);
}

static void stream_done(struct dma_xfer *x)
{
    struct traffic *t = x->ctx;

    t->st.completed++;
    if (x->status)
        t->st.errors++;
    else
        t->st.bytes += x->bytes;
    if (t->cfg.issue == TRAFFIC_CLOSED) {
        stream_issue(t, x);
        return;
    }
    x->next = t->free_xfers;
    t->free_xfers = x;
}

static void stream_arrival(struct sim_event *ev, void *arg)
{
    struct traffic *t = arg;
    struct dma_xfer *x = t->free_xfers;

    (void)ev;
    t->st.offered++;
    if (x) {
        t->free_xfers = x->next;
        stream_issue(t, x);
    } else {
        t->st.dropped++;
    }
    t->t_next += t->cfg.poisson ? sim_rng_exponential(&t->rng, t->gap) : t->gap;
    if (t->t_next < (double)(SIM_TICK_MAX - 1)) {
        sim_tick_t next = traffic_round_tick(t->t_next);

        sim_event_schedule(t->sim, &t->arrival, next < sim_now(t->sim) ? sim_now(t->sim) : next);
    }
}

int traffic_stream_begin(struct traffic *t)
{
    if (t->cfg.issue == TRAFFIC_CLOSED) {
        /* Every slot issues at once; the mapping's CPU time is a start-up cost. */
        for (unsigned i = 0; i < t->cfg.slots; i++)
            stream_issue(t, &t->xfers[i]);
        return 0;
    }
    t->gap = (double)t->cfg.size * (double)SIM_TICKS_PER_S / (double)t->cfg.rate;
    t->t_next = (double)sim_now(t->sim);
    return sim_event_schedule(t->sim, &t->arrival, sim_now(t->sim));
}

static int stream_start(struct traffic *t, char *err, size_t errlen)
{
    sim_tick_t done;
    int r;

    r = os_dma_map(t->os, 0, t->cfg.buf_pa, t->cfg.footprint, IOMMU_RW, &t->base_iova, &done);
    if (r)
        return sim_error_format(err, errlen, r, t->cfg.path,
                                "cannot map the %llu-byte footprint",
                                (unsigned long long)t->cfg.footprint);
    return traffic_stream_begin(t);
}

/* --- Common ------------------------------------------------------------------- */

int traffic_create(struct traffic *t, const struct traffic_ops *ops,
                   const struct traffic_cfg *cfg, struct sim *sim, struct dma_engine *eng,
                   struct os_dma *os, char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "traffic";

    memset(t, 0, sizeof(*t));
    t->ops = ops;
    t->cfg = *cfg;
    t->sim = sim;
    t->eng = eng;
    t->os = os;
    sim_rng_seed(&t->rng, cfg->seed, path);
    sim_event_init(&t->arrival, stream_arrival, t, SIM_PRIO_DEFAULT);
    if (ops->next_offset) {
        if (!cfg->size || !cfg->slots || cfg->footprint < cfg->size)
            return sim_error_format(err, errlen, SIM_EINVAL, path,
                                    "size, slots >= 1 and footprint >= size (got size %u, "
                                    "slots %u, footprint %llu)", cfg->size, cfg->slots,
                                    (unsigned long long)cfg->footprint);
        if (cfg->issue == TRAFFIC_OPEN && !cfg->rate)
            return sim_error_format(err, errlen, SIM_EINVAL, path,
                                    "open-loop issue needs a rate above 0");
        t->xfers = calloc(cfg->slots, sizeof(*t->xfers));
        if (!t->xfers)
            return sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
        for (unsigned i = cfg->slots; i-- > 0;) {
            t->xfers[i].done = stream_done;
            t->xfers[i].ctx = t;
            t->xfers[i].next = t->free_xfers;
            t->free_xfers = &t->xfers[i];
        }
    }
    if (ops->init) {
        int r = ops->init(t, err, errlen);

        if (r) {
            free(t->xfers);
            t->xfers = NULL;
            return r;
        }
    }
    return 0;
}

int traffic_start(struct traffic *t, char *err, size_t errlen)
{
    t->st.since = sim_now(t->sim);
    if (t->ops->start)
        return t->ops->start(t, err, errlen);
    return stream_start(t, err, errlen);
}

void traffic_destroy(struct traffic *t)
{
    if (t->ops && t->ops->destroy)
        t->ops->destroy(t);
    free(t->xfers);
    t->xfers = NULL;
}

void traffic_reset_stats(struct traffic *t)
{
    memset(&t->st, 0, sizeof(t->st));
    t->st.since = sim_now(t->sim);
    if (t->ops->reset_stats)
        t->ops->reset_stats(t);
}

double traffic_throughput_bps(const struct traffic *t)
{
    sim_tick_t span = sim_now(t->sim) - t->st.since;

    return span ? (double)t->st.bytes * 8.0 * (double)SIM_TICKS_PER_S / (double)span : 0.0;
}
