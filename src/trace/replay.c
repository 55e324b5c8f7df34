/*
 * replay.c - timed replay of a map/unmap trace into a sink (see replay.h).
 *
 * One event walks the records in order (one firing per record, rescheduled
 * to the next record's tick). Each map record owns a buffer record with its
 * own event, which fires at each of its accesses: access k of A goes at
 *     t_map + (k + 1) * spacing                      (spacing given), or
 *     t_map + (k + 1) * (t_end - t_map) / (A + 1)    (even spread),
 * and only if it falls strictly between t_map and t_end, the time of the
 * first unmap touching the buffer (or the trace's last record). The k-th
 * access covers access_size bytes at offset (k * access_size) mod size, so
 * consecutive accesses walk through the buffer and wrap.
 */
#include "trace/replay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

struct trace_replay_buf {
    struct sim_event ev;
    struct trace_replay *r;
    uint64_t iova, size;
    sim_tick_t t_map, t_end;    /* absolute ticks */
    unsigned k;                 /* next access */
    bool ended;                 /* t_end set by an unmap */
};

void trace_replay_cfg_defaults(struct trace_replay_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->accesses = 4;
    c->access_size = 64;
    c->time_scale = 1.0;
}

/* The tick of trace time @t, or SIM_TICK_MAX if it does not fit. */
static sim_tick_t scaled(const struct trace_replay *r, uint64_t t)
{
    long double x;

    if (r->cfg.time_scale == 1.0)
        return t < SIM_TICK_MAX - r->start ? r->start + t : SIM_TICK_MAX;
    x = (long double)t * r->cfg.time_scale + 0.5L;
    if (x >= (long double)(SIM_TICK_MAX - r->start))
        return SIM_TICK_MAX;
    return r->start + (sim_tick_t)x;
}

/* The tick of access k of @b, or 0 if it does not fit its life. */
static sim_tick_t access_time(const struct trace_replay *r, const struct trace_replay_buf *b,
                              unsigned k)
{
    unsigned __int128 off;

    if (r->cfg.spacing)
        off = (unsigned __int128)(k + 1) * r->cfg.spacing;
    else
        off = (unsigned __int128)(k + 1) * (b->t_end - b->t_map) / (r->cfg.accesses + 1);
    if (off == 0 || off >= b->t_end - b->t_map)
        return 0;
    return b->t_map + (sim_tick_t)off;
}

/* Schedule @b's next access that fits; the rest are counted as skipped. */
static void buf_schedule_next(struct trace_replay_buf *b)
{
    struct trace_replay *r = b->r;

    while (b->k < r->cfg.accesses) {
        sim_tick_t when = access_time(r, b, b->k);

        if (when && sim_event_schedule(r->sim, &b->ev, when) == 0)
            return;
        r->st.accesses_skipped++;
        b->k++;
    }
}

static void buf_fire(struct sim_event *ev, void *arg)
{
    struct trace_replay_buf *b = arg;
    struct trace_replay *r = b->r;
    uint64_t off = ((uint64_t)b->k * r->cfg.access_size) % b->size;
    uint64_t len = b->size - off < r->cfg.access_size ? b->size - off : r->cfg.access_size;

    (void)ev;
    r->st.accesses++;
    r->st.bytes += len;
    if (r->ops->access(r->sink, b->iova + off, (uint32_t)len, r->cfg.write))
        r->st.access_errors++;
    b->k++;
    buf_schedule_next(b);
}

static void stream_fire(struct sim_event *ev, void *arg)
{
    struct trace_replay *r = arg;
    const struct trace_rec *x = &r->t->recs[r->next++];

    (void)ev;
    r->st.records++;
    switch (x->op) {
    case TRACE_OP_MAP: {
        struct trace_replay_buf *b = &r->bufs[r->next_buf++];

        r->st.maps++;
        if (r->ops->map(r->sink, x->iova, x->paddr, x->size)) {
            r->st.map_errors++;
            r->st.accesses_skipped += r->cfg.accesses;
        } else if (x->size) {
            buf_schedule_next(b);
        } else {
            r->st.accesses_skipped += r->cfg.accesses;
        }
        break;
    }
    case TRACE_OP_UNMAP:
        r->st.unmaps++;
        if (r->ops->unmap(r->sink, x->iova, x->size))
            r->st.unmap_errors++;
        break;
    default:
        r->st.faults++;
        break;
    }
    if (r->next < r->t->n)
        sim_event_schedule(r->sim, &r->ev, scaled(r, r->t->recs[r->next].t));
}

struct life_ctx {
    struct trace_replay *r;
    sim_tick_t now;
};

static void life_end(void *ctx, uint64_t id)
{
    struct life_ctx *c = ctx;
    struct trace_replay_buf *b = &c->r->bufs[id];

    if (!b->ended) {
        b->ended = true;
        b->t_end = c->now;
    }
}

int trace_replay_init(struct trace_replay *r, struct sim *sim, const struct trace *t,
                      const struct trace_replay_cfg *cfg, const struct trace_sink_ops *ops,
                      void *sink, char *err, size_t errlen)
{
    struct trace_live live;
    struct life_ctx lc;
    sim_tick_t t_last;
    size_t nb = 0;

    memset(r, 0, sizeof(*r));
    if (!ops || !ops->map || !ops->unmap || !ops->access)
        return sim_error_format(err, errlen, SIM_EINVAL, "trace replay",
                                "the sink lacks map, unmap or access");
    if (!(cfg->time_scale > 0) || !isfinite(cfg->time_scale) || cfg->access_size == 0)
        return sim_error_format(err, errlen, SIM_EINVAL, "trace replay", "time_scale must be "
                                "positive and access_size at least 1 (got %g, %u)",
                                cfg->time_scale, cfg->access_size);
    r->sim = sim;
    r->t = t;
    r->cfg = *cfg;
    r->ops = ops;
    r->sink = sink;
    r->start = sim_now(sim);
    sim_event_init(&r->ev, stream_fire, r, SIM_PRIO_DEFAULT);
    if (t->n && scaled(r, t->recs[t->n - 1].t) == SIM_TICK_MAX)
        return sim_error_format(err, errlen, SIM_ERANGE, "trace replay", "the scaled trace "
                                "ends past the end of simulated time (time_scale %g)",
                                cfg->time_scale);
    for (size_t i = 0; i < t->n; i++)
        nb += t->recs[i].op == TRACE_OP_MAP;
    r->bufs = calloc(nb ? nb : 1, sizeof(*r->bufs));
    if (!r->bufs)
        return sim_error_format(err, errlen, SIM_ENOMEM, "trace replay", NULL);
    r->nbufs = nb;

    /* Lives: each buffer ends at the first unmap that touches it. */
    t_last = t->n ? scaled(r, t->recs[t->n - 1].t) : r->start;
    trace_live_init(&live);
    lc.r = r;
    nb = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct trace_rec *x = &t->recs[i];
        uint64_t unc;
        int e = 0;

        lc.now = scaled(r, x->t);
        if (x->op == TRACE_OP_MAP) {
            struct trace_replay_buf *b = &r->bufs[nb];

            sim_event_init(&b->ev, buf_fire, b, SIM_PRIO_DEFAULT);
            b->r = r;
            b->iova = x->iova;
            b->size = x->size;
            b->t_map = lc.now;
            b->t_end = t_last;
            e = trace_live_map(&live, x->iova, x->size, nb++, NULL);
        } else if (x->op == TRACE_OP_UNMAP) {
            e = trace_live_unmap(&live, x->iova, x->size, life_end, &lc, &unc);
        }
        if (e < 0) {
            trace_live_free(&live);
            trace_replay_destroy(r);
            return sim_error_format(err, errlen, SIM_ENOMEM, "trace replay", NULL);
        }
    }
    trace_live_free(&live);
    return 0;
}

int trace_replay_start(struct trace_replay *r)
{
    if (r->t->n == 0)
        return 0;
    return sim_event_schedule(r->sim, &r->ev, scaled(r, r->t->recs[0].t));
}

bool trace_replay_done(const struct trace_replay *r)
{
    if (r->next < r->t->n)
        return false;
    for (size_t i = 0; i < r->nbufs; i++)
        if (sim_event_is_scheduled(&r->bufs[i].ev))
            return false;
    return true;
}

void trace_replay_destroy(struct trace_replay *r)
{
    if (r->sim && sim_event_is_scheduled(&r->ev))
        sim_event_deschedule(r->sim, &r->ev);
    for (size_t i = 0; r->bufs && i < r->nbufs; i++)
        if (sim_event_is_scheduled(&r->bufs[i].ev))
            sim_event_deschedule(r->sim, &r->bufs[i].ev);
    free(r->bufs);
    r->bufs = NULL;
    r->nbufs = 0;
}

void trace_replay_release(struct trace_replay *r)
{
    free(r->bufs);
    r->bufs = NULL;
    r->nbufs = 0;
}
