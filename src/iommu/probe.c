/*
 * probe.c - the TranslationProbe model (see probe.h).
 *
 * Arrivals come every 1/rate (periodic) or at exponential gaps of mean
 * 1/rate (poisson, its own stream). An arrival takes a request from a pool
 * of `outstanding`; when the pool is empty it waits (counted in `waiting`)
 * and is issued when a request completes, so the offered load is kept and
 * the queueing shows in the latency. Page choice is a second stream, so
 * switching the arrival process does not change the page sequence.
 *
 * Per translation: one arrival event, one RNG draw, the IOMMU's own
 * events, one completion callback; no allocation (the pool is made at
 * create).
 */
#include "iommu/probe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "iommu/models/generic.h"
#include "stats/objstats.h"

enum { PR_P_IOMMU, PR_P_PAGES, PR_P_BASE, PR_P_PATTERN, PR_P_RATE, PR_P_ARRIVALS,
       PR_P_OUTSTANDING, PR_P_COUNT, PR_P_ACCESS, PR_P_DOMAIN, PR_P_REQUESTER_ID };

enum { PAT_UNIFORM, PAT_CYCLIC };
enum { ARR_PERIODIC, ARR_POISSON };

static const char *const pattern_names[] = { "uniform", "cyclic", NULL };
static const char *const arrival_names[] = { "periodic", "poisson", NULL };
static const char *const access_names[] = { "read", "write", NULL };

static const struct sim_param pr_params[] = {
    [PR_P_IOMMU] = {
        .name = "iommu", .type = SIM_PT_REF, .ref_model = "GenericIOMMU",
        .doc = "the IOMMU whose translations are probed",
    },
    [PR_P_PAGES] = {
        .name = "pages", .type = SIM_PT_INT, .def = "256", .min = "1", .max = "268435456",
        .doc = "distinct 4 KiB pages mapped (one 4 KiB leaf each) and accessed",
    },
    [PR_P_BASE] = {
        .name = "base", .type = SIM_PT_INT, .def = "0x100000000", .min = "0",
        .doc = "IOVA of the first page (4 KiB-aligned); pages are contiguous from there",
    },
    [PR_P_PATTERN] = {
        .name = "pattern", .type = SIM_PT_ENUM, .def = "uniform", .choices = pattern_names,
        .doc = "uniform: each access picks one of the pages at random (seeded by --seed and "
               "the path); cyclic: pages 0, 1, ..., pages-1, 0, ... in turn",
    },
    [PR_P_RATE] = {
        .name = "rate", .type = SIM_PT_FREQ, .def = "5MHz",
        .doc = "translations issued per second, as a frequency",
    },
    [PR_P_ARRIVALS] = {
        .name = "arrivals", .type = SIM_PT_ENUM, .def = "periodic", .choices = arrival_names,
        .doc = "periodic: one every 1/rate; poisson: exponential gaps of mean 1/rate",
    },
    [PR_P_OUTSTANDING] = {
        .name = "outstanding", .type = SIM_PT_INT, .def = "16", .min = "1", .max = "65536",
        .doc = "translations in flight at most; later arrivals wait for a completion",
    },
    [PR_P_COUNT] = {
        .name = "count", .type = SIM_PT_INT, .def = "0", .min = "0",
        .doc = "stop after this many arrivals; 0 for no limit",
    },
    [PR_P_ACCESS] = {
        .name = "access", .type = SIM_PT_ENUM, .def = "read", .choices = access_names,
        .doc = "the access each translation asks for (pages are mapped read-write)",
    },
    [PR_P_DOMAIN] = {
        .name = "domain", .type = SIM_PT_INT, .def = "0", .min = "0", .max = "65535",
        .doc = "the IOMMU domain the pages are mapped in (created if it does not exist)",
    },
    [PR_P_REQUESTER_ID] = {
        .name = "requester_id", .type = SIM_PT_INT, .def = "0", .min = "0", .max = "65535",
        .doc = "the requester id the probe translates as, bound to `domain`",
    },
};

enum { PR_R_ISSUED, PR_R_COMPLETED, PR_R_FAULTS, PR_R_MEAN_LATENCY, PR_R_MAX_LATENCY,
       PR_R_WAITING, PR_R_DROPPED };

static const struct sim_readout pr_readouts[] = {
    [PR_R_ISSUED] = { "issued", "requests", "translations issued since the last reset" },
    [PR_R_COMPLETED] = { "completed", "requests", "translations completed since the last reset" },
    [PR_R_FAULTS] = { "faults", "requests", "of which faults" },
    [PR_R_MEAN_LATENCY] = { "mean_latency", "ps", "mean time from arrival to completion, "
                            "waiting for a free request included" },
    [PR_R_MAX_LATENCY] = { "max_latency", "ps", "longest time from arrival to completion" },
    [PR_R_WAITING] = { "waiting", "requests", "arrivals waiting for a free request now" },
    [PR_R_DROPPED] = { "dropped", "requests", "arrivals dropped because 64 x outstanding "
                       "were already waiting (the load is far beyond what is served)" },
};

struct probe_req {
    struct iommu_req r;             /* first: done() gets it back by a cast */
    struct probe *p;
    sim_tick_t arrived;
    struct probe_req *next_free;
};

struct probe {
    struct sim *sim;
    struct iommu *as;               /* the probe's address space */
    struct sim_event arrive;
    struct sim_rng pages_rng, gaps_rng;
    struct probe_req *pool, *free;
    uint64_t npages, base, next_page, limit, arrivals;
    unsigned pattern, arrival, access;
    uint32_t rid;
    double gap;                     /* ticks */
    double t_exact;                 /* next arrival, exact */
    /* Arrivals waiting for a request: a FIFO of arrival ticks. */
    sim_tick_t *wait_q;
    unsigned wq_head, wq_n, wq_cap;
    /* Readouts. */
    uint64_t issued, completed, faults, dropped;
    double lat_sum;
    sim_tick_t lat_max;
};

static void probe_req_done(struct iommu_req *req);

static void probe_issue(struct probe *p, struct probe_req *q, sim_tick_t arrived)
{
    uint64_t page;

    if (p->pattern == PAT_UNIFORM) {
        page = sim_rng_below(&p->pages_rng, p->npages);
    } else {
        page = p->next_page;
        p->next_page = page + 1 == p->npages ? 0 : page + 1;
    }
    memset(&q->r, 0, sizeof(q->r));
    q->r.iova = p->base + (page << 12);
    q->r.access = p->access;
    q->r.attrs.is_write = p->access == IOMMU_WO;
    q->r.attrs.requester_id = p->rid;
    q->r.done = probe_req_done;
    q->arrived = arrived;
    p->issued++;
    if (iommu_translate_timed(p->as, &q->r) != 0) {
        /* Refused by the model (the generic model never does): a fault, and
         * the request goes back to the pool. */
        p->faults++;
        p->completed++;
        q->next_free = p->free;
        p->free = q;
    }
}

static void probe_req_done(struct iommu_req *req)
{
    struct probe_req *q = (struct probe_req *)req;
    struct probe *p = q->p;
    sim_tick_t now = sim_now(p->sim), lat = now - q->arrived;

    p->completed++;
    if (req->status)
        p->faults++;
    p->lat_sum += (double)lat;
    if (lat > p->lat_max)
        p->lat_max = lat;
    if (p->wq_n) {                  /* the oldest waiting arrival takes it */
        sim_tick_t arrived = p->wait_q[p->wq_head];

        p->wq_head = (p->wq_head + 1) % p->wq_cap;
        p->wq_n--;
        probe_issue(p, q, arrived);
        return;
    }
    q->next_free = p->free;
    p->free = q;
}

static void probe_schedule_next(struct probe *p)
{
    sim_tick_t now = sim_now(p->sim), next;

    if (p->limit && p->arrivals >= p->limit)
        return;
    p->t_exact += p->arrival == ARR_POISSON ? sim_rng_exponential(&p->gaps_rng, p->gap)
                                            : p->gap;
    if (!(p->t_exact < (double)(SIM_TICK_MAX - 1)))
        return;
    /* Rounded per arrival from the exact time: rounding does not accumulate. */
    next = (sim_tick_t)llround(p->t_exact);
    sim_event_schedule(p->sim, &p->arrive, next < now ? now : next);
}

static void probe_arrive(struct sim_event *ev, void *arg)
{
    struct probe *p = arg;
    struct probe_req *q = p->free;

    (void)ev;
    p->arrivals++;
    if (q) {
        p->free = q->next_free;
        probe_issue(p, q, sim_now(p->sim));
    } else if (p->wq_n < p->wq_cap) {
        p->wait_q[(p->wq_head + p->wq_n) % p->wq_cap] = sim_now(p->sim);
        p->wq_n++;
    } else {
        /* The backlog is full: the offered load exceeds what the IOMMU
         * serves by far. The arrival is dropped and counted. */
        p->dropped++;
    }
    probe_schedule_next(p);
}

static int pr_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    char msg[200];

    if (v[PR_P_BASE].i & 0xfff) {
        snprintf(msg, sizeof(msg), "not 4 KiB-aligned (got 0x%llx, expected a multiple of "
                 "0x1000)", (unsigned long long)v[PR_P_BASE].i);
        report(ctx, "base", msg);
        return 1;
    }
    return 0;
}

static void pr_destroy(struct sim_object *obj)
{
    struct probe *p = obj->priv;

    if (!p)
        return;
    free(p->pool);
    free(p->wait_q);
    free(p);
    obj->priv = NULL;
}

static int pr_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *v = obj->values;
    struct generic_iommu *g;
    unsigned dom = (unsigned)v[PR_P_DOMAIN].i, n = (unsigned)v[PR_P_OUTSTANDING].i;
    uint64_t span, pa_base;
    char path[512], e[300];
    struct probe *p;
    int r;

    r = generic_iommu_domain_from_object(v[PR_P_IOMMU].ref.obj, dom, &g, err, errlen);
    if (r)
        return r;
    p = calloc(1, sizeof(*p));
    if (!p)
        return SIM_ENOMEM;
    obj->priv = p;
    p->sim = &w->sim;
    p->npages = (uint64_t)v[PR_P_PAGES].i;
    p->base = (uint64_t)v[PR_P_BASE].i;
    p->pattern = v[PR_P_PATTERN].e;
    p->arrival = v[PR_P_ARRIVALS].e;
    p->access = v[PR_P_ACCESS].e == 1 ? IOMMU_WO : IOMMU_RO;
    p->limit = (uint64_t)v[PR_P_COUNT].i;
    p->rid = (uint32_t)v[PR_P_REQUESTER_ID].i;
    p->gap = (double)SIM_TICKS_PER_S / (double)v[PR_P_RATE].u;
    p->pool = calloc(n, sizeof(*p->pool));
    /* Waiting arrivals: room for 64 per request in flight; beyond that the
     * load is hopeless and arrivals pause (see probe_arrive). */
    p->wq_cap = n * 64;
    p->wait_q = calloc(p->wq_cap, sizeof(*p->wait_q));
    if (!p->pool || !p->wait_q)
        goto err_nomem;
    for (unsigned i = 0; i < n; i++) {
        p->pool[i].p = p;
        p->pool[i].next_free = p->free;
        p->free = &p->pool[i];
    }
    sim_rng_seed(&p->pages_rng, w->seed, obj->path);
    snprintf(path, sizeof(path), "%s.arrivals", obj->path);
    sim_rng_seed(&p->gaps_rng, w->seed, path);
    sim_event_init(&p->arrive, probe_arrive, p, SIM_PRIO_DEFAULT);

    r = generic_domain_create(g, dom);
    if (r && r != SIM_EEXIST) {
        snprintf(err, errlen, "domain: cannot create domain %u (%s)", dom, sim_strerror(r));
        goto err;
    }
    span = UINT64_C(1) << (12 + 9 * g->cfg.levels);
    if (p->base >= span || p->npages > (span - p->base) >> 12) {
        snprintf(err, errlen, "pages: %llu pages from 0x%llx pass the end of a %u-level "
                 "table's IOVA space (expected an end <= 0x%llx)",
                 (unsigned long long)p->npages, (unsigned long long)p->base, g->cfg.levels,
                 (unsigned long long)span);
        r = SIM_ERANGE;
        goto err;
    }
    r = generic_attach(g, p->rid, dom, &p->as, e, sizeof(e));
    if (r) {
        snprintf(err, errlen, "requester_id: %s", e);
        goto err;
    }
    /* One 4 KiB leaf per page, at output addresses of its own (above 1 TiB,
     * clear of the simulated table nodes' addresses, which start at 1 TiB
     * and use 4 GiB per domain): no huge page can form. */
    pa_base = (UINT64_C(1) << 44) + ((uint64_t)dom << 36);
    for (uint64_t i = 0; i < p->npages; i++) {
        r = generic_map(g, dom, p->base + (i << 12), pa_base + (i << 12), 4096, IOMMU_RW);
        if (r) {
            snprintf(err, errlen, "pages: cannot map page %llu at 0x%llx in domain %u (%s; "
                     "another probe or device maps there?)", (unsigned long long)i,
                     (unsigned long long)(p->base + (i << 12)), dom, sim_strerror(r));
            goto err;
        }
    }
    return 0;

err_nomem:
    r = SIM_ENOMEM;
err:
    pr_destroy(obj);
    return r;
}

static int pr_connect(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    struct probe *p = obj->priv;
    int r = sim_event_schedule(&w->sim, &p->arrive, sim_now(&w->sim));

    p->t_exact = (double)sim_now(&w->sim);
    if (r)
        snprintf(err, errlen, "cannot schedule the first arrival: %s", sim_strerror(r));
    return r;
}

static void pr_reset_stats(struct sim_object *obj)
{
    struct probe *p = obj->priv;

    p->issued = p->completed = p->faults = p->dropped = 0;
    p->lat_sum = 0.0;
    p->lat_max = 0;
}

static double pr_read(const struct sim_object *obj, unsigned idx)
{
    const struct probe *p = obj->priv;

    switch (idx) {
    case PR_R_ISSUED:       return (double)p->issued;
    case PR_R_COMPLETED:    return (double)p->completed;
    case PR_R_FAULTS:       return (double)p->faults;
    case PR_R_MEAN_LATENCY: return p->completed ? p->lat_sum / (double)p->completed : 0.0;
    case PR_R_MAX_LATENCY:  return (double)p->lat_max;
    case PR_R_WAITING:      return (double)p->wq_n;
    case PR_R_DROPPED:      return (double)p->dropped;
    default:                return 0.0;
    }
}

/* The request counters by reference; latencies and the queue through read. */
static int pr_register_stats(struct sim_object *obj, void *reg)
{
    struct probe *p = obj->priv;
    uint64_t done = 0;
    int rc;

    rc = stats_object_readout_counter(reg, obj, PR_R_ISSUED, &p->issued, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, PR_R_COMPLETED, &p->completed, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, PR_R_FAULTS, &p->faults, &done);
    if (!rc)
        rc = stats_object_readout_counter(reg, obj, PR_R_DROPPED, &p->dropped, &done);
    return rc ? rc : stats_object_readouts(reg, obj, done);
}

static const struct sim_model_ops pr_ops = {
    .validate = pr_validate,
    .create = pr_create,
    .connect = pr_connect,
    .destroy = pr_destroy,
    .reset_stats = pr_reset_stats,
    .read = pr_read,
    .register_stats = pr_register_stats,
};

const struct sim_model iommu_model_translation_probe = {
    .name = "TranslationProbe",
    .doc = "Timed translations straight into an IOMMU, for IOMMU-only experiments: maps "
           "`pages` 4 KiB pages in `domain`, binds `requester_id` to it and translates "
           "accesses to those pages at `rate`, uniformly at random or in a cyclic scan, "
           "with at most `outstanding` in flight. No data moves.",
    .params = pr_params, .nparams = sizeof(pr_params) / sizeof(pr_params[0]),
    .readouts = pr_readouts, .nreadouts = sizeof(pr_readouts) / sizeof(pr_readouts[0]),
    .ops = &pr_ops,
};
