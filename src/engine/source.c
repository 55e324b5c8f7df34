/*
 * source.c - engine-level event sources: PeriodicSource and PoissonSource.
 *
 * Each owns one intrusive event that reschedules itself, and counts what it
 * fires. They are the simplest traffic an experiment can have and they have
 * closed forms, which is why the config tests use them:
 *  - PeriodicSource fires at start + k * period, k = 0, 1, ... (at most
 *    `count` times). Event k is placed at an absolute time computed from k,
 *    not by adding a rounded period to the previous one, so a period of one
 *    cycle at 3 GHz stays exact over any run (clock.h's rounding rule).
 *  - PoissonSource fires at start + the sum of exponential gaps with mean
 *    1/rate, drawn from the RNG stream (seed, object path); by time T it has
 *    fired Poisson(rate * (T - start)) times. The exact arrival times are
 *    kept as a double and rounded to the nearest tick per event, so rounding
 *    does not accumulate.
 *  - TraceSource fires once at each time of its `times` list (sorted at
 *    creation, so the list may be in any order): by time T it has fired as
 *    many events as there are listed times <= T.
 * Per event: one callback, one counter increment, one schedule; no
 * allocation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/models.h"
#include "engine/rng.h"
#include "stats/objstats.h"

/* --- Shared ------------------------------------------------------------- */

struct source {
    struct sim_event ev;
    struct sim *sim;
    const struct sim_clock *clk;    /* NULL: no clock (latencies in time) */
    sim_tick_t start;               /* ticks */
    uint64_t limit;                 /* 0: unbounded */
    uint64_t fired;                 /* since creation (drives the schedule) */
    uint64_t events;                /* since the last reset_stats */
    sim_tick_t first, last;         /* ticks of the first/last event since reset */
    /* periodic */
    struct sim_latency period;
    /* trace */
    sim_tick_t *times;              /* sorted, ntimes of them */
    uint64_t ntimes;
    /* Poisson */
    struct sim_rng rng;
    double gap_mean;                /* ticks */
    double t_exact;                 /* the exact time of the next arrival */
};

enum { SRC_READ_EVENTS, SRC_READ_FIRST, SRC_READ_LAST, SRC_READ_MEAN_GAP };

static const struct sim_readout src_readouts[] = {
    [SRC_READ_EVENTS] = { "events", "events", "events fired since the last reset_stats()" },
    [SRC_READ_FIRST] = { "first", "ps", "tick of the first event since the last reset (0 if none)" },
    [SRC_READ_LAST] = { "last", "ps", "tick of the last event since the last reset (0 if none)" },
    [SRC_READ_MEAN_GAP] = { "mean_gap", "ps", "mean time between events since the last reset "
                            "((last - first) / (events - 1); 0 below two events)" },
};

static void source_count(struct source *s)
{
    sim_tick_t now = sim_now(s->sim);

    if (s->events++ == 0)
        s->first = now;
    s->last = now;
    s->fired++;
}

static void source_reset_stats(struct sim_object *obj)
{
    struct source *s = obj->priv;

    s->events = 0;
    s->first = s->last = 0;
}

static double source_read(const struct sim_object *obj, unsigned idx)
{
    const struct source *s = obj->priv;

    switch (idx) {
    case SRC_READ_EVENTS: return (double)s->events;
    case SRC_READ_FIRST:  return (double)s->first;
    case SRC_READ_LAST:   return (double)s->last;
    case SRC_READ_MEAN_GAP:
        return s->events > 1 ? (double)(s->last - s->first) / (double)(s->events - 1) : 0.0;
    default:              return 0.0;
    }
}

static void source_destroy(struct sim_object *obj)
{
    struct source *s = obj->priv;

    if (s)
        free(s->times);
    free(s);
    obj->priv = NULL;
}

/* Parameter indices: each source's own parameter (period, rate) first,
 * then the ones they share. */
enum { SRC_MAIN, SRC_START, SRC_COUNT, SRC_CLOCK };

#define SRC_COMMON_PARAMS                                                       \
    [SRC_START] = {                                                             \
        .name = "start", .type = SIM_PT_LATENCY, .def = "0ns",                  \
        .doc = "time of the first event (in cycles needs `clock`)",             \
    },                                                                          \
    [SRC_COUNT] = {                                                             \
        .name = "count", .type = SIM_PT_INT, .def = "0", .min = "0",            \
        .doc = "stop after this many events; 0 for no limit",                  \
    },                                                                          \
    [SRC_CLOCK] = {                                                             \
        .name = "clock", .type = SIM_PT_REF, .ref_model = "ClockDomain",        \
        .flags = SIM_PF_OPTIONAL,                                               \
        .doc = "clock domain for latencies given in cycles; none for times only", \
    }

static int cycles_need_clock(const struct sim_value *v, unsigned idx, const char *name,
                             sim_report_fn report, void *ctx)
{
    if (v[idx].lat.cycles && !v[SRC_CLOCK].ref.path) {
        report(ctx, name, "given in cycles but no clock is set (expected a time such "
               "as '10ns', or set clock to a ClockDomain)");
        return 1;
    }
    return 0;
}

static struct source *source_new(struct sim_object *obj, struct sim_world *w,
                                 sim_event_cb cb)
{
    struct source *s = calloc(1, sizeof(*s));

    if (!s)
        return NULL;
    s->sim = &w->sim;
    s->clk = sim_clock_domain_clock(obj->values[SRC_CLOCK].ref.obj);
    s->start = sim_latency_ticks(obj->values[SRC_START].lat, s->clk);
    s->limit = (uint64_t)obj->values[SRC_COUNT].i;
    sim_event_init(&s->ev, cb, s, SIM_PRIO_DEFAULT);
    obj->priv = s;
    return s;
}

/* --- PeriodicSource ----------------------------------------------------- */

enum { PER_PERIOD = SRC_MAIN };

static const struct sim_param per_params[] = {
    [PER_PERIOD] = {
        .name = "period", .type = SIM_PT_LATENCY, .def = "10ns",
        .doc = "time between events; in cycles needs `clock`",
    },
    SRC_COMMON_PARAMS,
};

/* The absolute tick of event k, or SIM_TICK_MAX past the end of time. */
static sim_tick_t periodic_when(const struct source *s, uint64_t k)
{
    unsigned __int128 off;

    if (s->period.cycles) {
        off = (unsigned __int128)k * s->period.value;
        if (off > UINT64_MAX)
            return SIM_TICK_MAX;
        off = sim_clock_cycles_to_ticks(s->clk, (uint64_t)off);
    } else {
        off = (unsigned __int128)k * s->period.value;
    }
    off += s->start;
    return off >= SIM_TICK_MAX ? SIM_TICK_MAX : (sim_tick_t)off;
}

static void periodic_fire(struct sim_event *ev, void *arg)
{
    struct source *s = arg;
    sim_tick_t next;

    (void)ev;
    source_count(s);
    if (s->limit && s->fired >= s->limit)
        return;
    next = periodic_when(s, s->fired);
    if (next != SIM_TICK_MAX)
        sim_event_schedule(s->sim, &s->ev, next);
}

static int periodic_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    int n = cycles_need_clock(v, PER_PERIOD, "period", report, ctx) +
            cycles_need_clock(v, SRC_START, "start", report, ctx);

    if (v[PER_PERIOD].lat.value == 0) {
        report(ctx, "period", "must be positive (got '0', expected at least 1ps or 1cycles)");
        n++;
    }
    return n;
}

static int periodic_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    struct source *s = source_new(obj, w, periodic_fire);

    (void)err;
    (void)errlen;
    if (!s)
        return SIM_ENOMEM;
    s->period = obj->values[PER_PERIOD].lat;
    return 0;
}

static int source_connect(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    struct source *s = obj->priv;
    int rc;

    if (s->start == SIM_TICK_MAX)
        return 0;                   /* starts past the end of time */
    rc = sim_event_schedule(&w->sim, &s->ev, s->start);
    if (rc)
        snprintf(err, errlen, "cannot schedule the first event: %s", sim_strerror(rc));
    return rc;
}

/* events by reference; first, last and mean_gap through read. */
static int source_register_stats(struct sim_object *obj, void *reg)
{
    struct source *s = obj->priv;
    uint64_t done = 0;
    int rc = stats_object_readout_counter(reg, obj, SRC_READ_EVENTS, &s->events, &done);

    return rc ? rc : stats_object_readouts(reg, obj, done);
}

static const struct sim_model_ops periodic_ops = {
    .validate = periodic_validate,
    .create = periodic_create,
    .connect = source_connect,
    .destroy = source_destroy,
    .reset_stats = source_reset_stats,
    .read = source_read,
    .register_stats = source_register_stats,
};

const struct sim_model sim_model_periodic_source = {
    .name = "PeriodicSource",
    .doc = "Fires an event every `period`, from `start`, `count` times (0: forever). "
           "By time T it has fired floor((T - start) / period) + 1 events.",
    .params = per_params, .nparams = sizeof(per_params) / sizeof(per_params[0]),
    .readouts = src_readouts, .nreadouts = sizeof(src_readouts) / sizeof(src_readouts[0]),
    .ops = &periodic_ops,
};

/* --- PoissonSource ------------------------------------------------------ */

enum { POI_RATE = SRC_MAIN };

static const struct sim_param poi_params[] = {
    [POI_RATE] = {
        .name = "rate", .type = SIM_PT_FREQ, .def = "1MHz",
        .doc = "mean events per second, as a frequency ('2MHz' is 2e6 per second)",
    },
    SRC_COMMON_PARAMS,
};

static void poisson_fire(struct sim_event *ev, void *arg)
{
    struct source *s = arg;

    (void)ev;
    source_count(s);
    if (s->limit && s->fired >= s->limit)
        return;
    s->t_exact += sim_rng_exponential(&s->rng, s->gap_mean);
    if (s->t_exact < (double)(SIM_TICK_MAX - 1)) {
        sim_tick_t next = (sim_tick_t)llround(s->t_exact);

        sim_event_schedule(s->sim, &s->ev, next < sim_now(s->sim) ? sim_now(s->sim) : next);
    }
}

static int poisson_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    return cycles_need_clock(v, SRC_START, "start", report, ctx);
}

static int poisson_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    struct source *s = source_new(obj, w, poisson_fire);

    (void)err;
    (void)errlen;
    if (!s)
        return SIM_ENOMEM;
    sim_rng_seed(&s->rng, w->seed, obj->path);
    s->gap_mean = (double)SIM_TICKS_PER_S / (double)obj->values[POI_RATE].u;
    s->t_exact = (double)s->start;
    return 0;
}

static const struct sim_model_ops poisson_ops = {
    .validate = poisson_validate,
    .create = poisson_create,
    .connect = source_connect,
    .destroy = source_destroy,
    .reset_stats = source_reset_stats,
    .read = source_read,
    .register_stats = source_register_stats,
};

const struct sim_model sim_model_poisson_source = {
    .name = "PoissonSource",
    .doc = "Fires events at exponentially distributed gaps with mean 1/rate, from "
           "`start` (the first event is at `start`). Its random stream is seeded "
           "by (--seed, the object's path).",
    .params = poi_params, .nparams = sizeof(poi_params) / sizeof(poi_params[0]),
    .readouts = src_readouts, .nreadouts = sizeof(src_readouts) / sizeof(src_readouts[0]),
    .ops = &poisson_ops,
};

/* --- TraceSource -------------------------------------------------------- */

enum { TR_TIMES, TR_CLOCK };

static const struct sim_param tr_params[] = {
    [TR_TIMES] = {
        .name = "times", .type = SIM_PT_LATENCY, .def = "", .flags = SIM_PF_LIST,
        .doc = "the times of the events, in any order (\"10ns,25ns,1us\"); "
               "items in cycles need `clock`",
    },
    [TR_CLOCK] = {
        .name = "clock", .type = SIM_PT_REF, .ref_model = "ClockDomain",
        .flags = SIM_PF_OPTIONAL,
        .doc = "clock domain for times given in cycles; none for times only",
    },
};

static int tick_cmp(const void *a, const void *b)
{
    sim_tick_t x = *(const sim_tick_t *)a, y = *(const sim_tick_t *)b;

    return (x > y) - (x < y);
}

static void trace_fire(struct sim_event *ev, void *arg)
{
    struct source *s = arg;

    (void)ev;
    source_count(s);
    if (s->fired < s->ntimes)
        sim_event_schedule(s->sim, &s->ev, s->times[s->fired]);
}

static int trace_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    if (v[TR_CLOCK].ref.path)
        return 0;
    for (uint32_t i = 0; i < v[TR_TIMES].list.n; i++) {
        if (v[TR_TIMES].list.items[i].lat.cycles) {
            report(ctx, "times", "an item is given in cycles but no clock is set (expected "
                   "times such as '10ns', or set clock to a ClockDomain)");
            return 1;
        }
    }
    return 0;
}

static int trace_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *times = &obj->values[TR_TIMES];
    struct source *s = calloc(1, sizeof(*s));

    (void)err;
    (void)errlen;
    if (!s)
        return SIM_ENOMEM;
    obj->priv = s;
    s->sim = &w->sim;
    s->clk = sim_clock_domain_clock(obj->values[TR_CLOCK].ref.obj);
    s->ntimes = times->list.n;
    s->times = calloc(s->ntimes ? s->ntimes : 1, sizeof(*s->times));
    if (!s->times) {
        free(s);                    /* destroy() is not called after a failed create */
        obj->priv = NULL;
        return SIM_ENOMEM;
    }
    for (uint64_t i = 0; i < s->ntimes; i++)
        s->times[i] = sim_latency_ticks(times->list.items[i].lat, s->clk);
    qsort(s->times, s->ntimes, sizeof(*s->times), tick_cmp);
    /* A time at SIM_TICK_MAX ("never") cannot be scheduled: drop the tail. */
    while (s->ntimes && s->times[s->ntimes - 1] == SIM_TICK_MAX)
        s->ntimes--;
    s->start = s->ntimes ? s->times[0] : SIM_TICK_MAX;
    sim_event_init(&s->ev, trace_fire, s, SIM_PRIO_DEFAULT);
    return 0;
}

static const struct sim_model_ops trace_ops = {
    .validate = trace_validate,
    .create = trace_create,
    .connect = source_connect,
    .destroy = source_destroy,
    .reset_stats = source_reset_stats,
    .read = source_read,
    .register_stats = source_register_stats,
};

const struct sim_model sim_model_trace_source = {
    .name = "TraceSource",
    .doc = "Fires one event at each of the listed `times`. By time T it has fired "
           "as many events as there are listed times <= T.",
    .params = tr_params, .nparams = sizeof(tr_params) / sizeof(tr_params[0]),
    .readouts = src_readouts, .nreadouts = sizeof(src_readouts) / sizeof(src_readouts[0]),
    .ops = &trace_ops,
};
