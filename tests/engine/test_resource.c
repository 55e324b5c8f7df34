/*
 * test_resource.c - sim_resource against queueing theory.
 *
 * Expected values are closed forms, never simulator output:
 *   M/D/1 mean wait  Wq = rho D / (2 (1 - rho))          (Pollaczek-Khinchine)
 *   M/M/1 mean wait  Wq = rho / (mu - lambda)
 *   M/M/2 mean wait  Wq = C(2, a) / (2 mu - lambda), C = Erlang C, a = lambda/mu
 *   utilisation      rho = lambda / (c mu)
 * Sample sizes give a standard error under 1% of Wq at these loads (the
 * M/M/1 relaxation-time variance bound), so the tolerances are >= 3 sigma.
 * The two modes of the resource (acquire/release with events, reserve with
 * computed start times) must give identical waits on the same arrivals.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "engine/resource.h"
#include "engine/rng.h"
#include "testutil.h"

void test_resource_fifo_grant_order(void);
void test_resource_mode_mix_and_errors(void);
void test_resource_md1_wait(void);
void test_resource_mm1_wait(void);
void test_resource_mm2_reserve_erlang_c(void);
void test_resource_modes_agree(void);

/* --- A small open queueing experiment driven by events ------------------- */

struct cust {
    struct sim_resource_req rr;
    struct sim_event dep;
    struct cust *next_free;
    struct qexp *x;
    sim_tick_t service;         /* kept here while queued */
};

struct qexp {
    struct sim sim;
    struct sim_resource res;
    struct sim_rng rng;
    struct sim_event arr;
    double mean_iat;            /* ticks */
    double service;             /* mean (ticks) */
    int det;                    /* deterministic service */
    int reserve;                /* use reserve mode instead of acquire */
    uint64_t arrivals, limit, warmup;
    struct cust *pool, *free;
    size_t npool;
    int exhausted;
};

static sim_tick_t draw_service(struct qexp *x)
{
    if (x->det)
        return (sim_tick_t)x->service;
    return (sim_tick_t)(sim_rng_exponential(&x->rng, x->service) + 0.5);
}

static void departed(struct sim_event *ev, void *arg)
{
    struct cust *c = arg;
    struct qexp *x = c->x;

    (void)ev;
    if (!x->reserve)
        CU_ASSERT_EQUAL(sim_resource_release(&x->res), 0);
    c->next_free = x->free;
    x->free = c;
}

static void granted(struct sim_resource_req *rr)
{
    struct cust *c = rr->arg;

    sim_event_schedule_in(&c->x->sim, &c->dep, c->service);
}

static void arrive(struct sim_event *ev, void *arg)
{
    struct qexp *x = arg;
    struct cust *c = x->free;
    sim_tick_t s;

    (void)ev;
    if (x->arrivals == x->warmup)
        sim_resource_reset_stats(&x->res);
    if (x->arrivals++ >= x->limit)
        return;
    if (!c) {
        x->exhausted = 1;
        sim_stop(&x->sim, "pool exhausted");
        return;
    }
    x->free = c->next_free;
    s = draw_service(x);
    if (x->reserve) {
        sim_tick_t done = sim_resource_reserve(&x->res, s, NULL);
        sim_event_schedule(&x->sim, &c->dep, done);
    } else {
        int r;

        c->rr.granted = granted;
        c->rr.arg = c;
        c->service = s;
        r = sim_resource_acquire(&x->res, &c->rr);
        if (r == 1)
            sim_event_schedule_in(&x->sim, &c->dep, s);
    }
    sim_event_schedule_in(&x->sim, &x->arr,
                          (sim_tick_t)(sim_rng_exponential(&x->rng, x->mean_iat) + 0.5));
}

static void qexp_run(struct qexp *x, unsigned servers, double lambda_per_tick,
                     double service, int det, int reserve, uint64_t n, uint64_t seed,
                     int warm)
{
    size_t i;

    sim_init(&x->sim);
    CU_ASSERT_EQUAL_FATAL(sim_resource_init(&x->res, &x->sim, servers), 0);
    sim_rng_seed(&x->rng, seed, "test.queue");
    x->mean_iat = 1.0 / lambda_per_tick;
    x->service = service;
    x->det = det;
    x->reserve = reserve;
    x->arrivals = 0;
    x->limit = n;
    x->warmup = warm ? n / 20 : UINT64_MAX;   /* reset after 5% */
    x->npool = 1u << 16;
    x->pool = calloc(x->npool, sizeof(*x->pool));
    CU_ASSERT_PTR_NOT_NULL_FATAL(x->pool);
    x->free = NULL;
    x->exhausted = 0;
    for (i = 0; i < x->npool; i++) {
        x->pool[i].x = x;
        sim_event_init(&x->pool[i].dep, departed, &x->pool[i], 0);
        x->pool[i].next_free = x->free;
        x->free = &x->pool[i];
    }
    sim_event_init(&x->arr, arrive, x, 0);
    sim_event_schedule(&x->sim, &x->arr, 0);
    sim_run(&x->sim);
    CU_ASSERT_FALSE(x->exhausted);
}

static void qexp_free(struct qexp *x)
{
    sim_resource_destroy(&x->res);
    sim_destroy(&x->sim);
    free(x->pool);
}

/* --- Tests --------------------------------------------------------------- */

struct order_rec {
    struct sim_resource_req rr;
    int id;
    int *log;
    int *nlog;
};

static void order_granted(struct sim_resource_req *rr)
{
    struct order_rec *o = rr->arg;

    o->log[(*o->nlog)++] = o->id;
}

void test_resource_fifo_grant_order(void)
{
    struct sim sim;
    struct sim_resource r;
    struct order_rec rec[5];
    int log[5], nlog = 0, i;

    sim_init(&sim);
    CU_ASSERT_EQUAL_FATAL(sim_resource_init(&r, &sim, 2), 0);
    for (i = 0; i < 5; i++) {
        rec[i].rr.granted = order_granted;
        rec[i].rr.arg = &rec[i];
        rec[i].id = i;
        rec[i].log = log;
        rec[i].nlog = &nlog;
        CU_ASSERT_EQUAL(sim_resource_acquire(&r, &rec[i].rr), i < 2 ? 1 : 0);
    }
    CU_ASSERT_EQUAL(sim_resource_queued(&r), 3);
    CU_ASSERT_EQUAL(r.st.queue_max, 3);
    for (i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(sim_resource_release(&r), 0);
    /* The first two were granted at once; the queued ones in FIFO order. */
    CU_ASSERT_EQUAL(nlog, 3);
    CU_ASSERT_EQUAL(log[0], 2);
    CU_ASSERT_EQUAL(log[1], 3);
    CU_ASSERT_EQUAL(log[2], 4);
    CU_ASSERT_EQUAL(r.busy, 0);
    CU_ASSERT_EQUAL(sim_resource_release(&r), SIM_ESTATE);
    sim_resource_destroy(&r);
    sim_destroy(&sim);
}

void test_resource_mode_mix_and_errors(void)
{
    struct sim sim;
    struct sim_resource r;
    struct sim_resource_req rq = {0};
    sim_tick_t w;

    sim_init(&sim);
    CU_ASSERT_EQUAL(sim_resource_init(&r, &sim, 0), SIM_EINVAL);
    CU_ASSERT_EQUAL_FATAL(sim_resource_init(&r, &sim, 1), 0);
    CU_ASSERT_EQUAL(sim_resource_reserve(&r, 10, &w), 10);
    CU_ASSERT_EQUAL(w, 0);
    /* A second request arriving at the same tick waits for the first. */
    CU_ASSERT_EQUAL(sim_resource_reserve(&r, 5, &w), 15);
    CU_ASSERT_EQUAL(w, 10);
    CU_ASSERT_EQUAL(sim_resource_acquire(&r, &rq), SIM_ESTATE);
    CU_ASSERT_EQUAL(sim_resource_release(&r), SIM_ESTATE);
    sim_resource_destroy(&r);
    sim_destroy(&sim);
}

static void check_md1(double rho)
{
    struct qexp x;
    double D = 1e6;                         /* 1 us in ticks */
    double want = rho * D / (2.0 * (1.0 - rho));

    qexp_run(&x, 1, rho / D, D, 1, 0, rho > 0.6 ? 1500000 : 600000, 42, 1);
    ASSERT_NEAR(sim_resource_mean_wait(&x.res) / want, 1.0, 0.03);
    ASSERT_NEAR(sim_resource_utilisation(&x.res), rho, 0.01);
    /* Little's law on the queue: mean queue length = lambda * Wq. */
    ASSERT_NEAR(sim_resource_mean_queue(&x.res) / (rho / D * want), 1.0, 0.03);
    qexp_free(&x);
}

void test_resource_md1_wait(void)
{
    check_md1(0.5);
    check_md1(0.8);
}

void test_resource_mm1_wait(void)
{
    struct qexp x;
    double S = 1e6, rho = 0.7;
    double want = rho * S / (1.0 - rho);    /* rho / (mu - lambda) */

    qexp_run(&x, 1, rho / S, S, 0, 0, 1000000, 7, 1);
    ASSERT_NEAR(sim_resource_mean_wait(&x.res) / want, 1.0, 0.04);
    ASSERT_NEAR(sim_resource_utilisation(&x.res), rho, 0.01);
    qexp_free(&x);
}

void test_resource_mm2_reserve_erlang_c(void)
{
    struct qexp x;
    double S = 1e6, lambda = 1.5 / S, a = lambda * S, rho = a / 2.0;
    double top = a * a / 2.0 / (1.0 - rho);
    double erlang_c = top / (1.0 + a + top);
    double want = erlang_c / (2.0 / S - lambda);

    qexp_run(&x, 2, lambda, S, 0, 1, 1000000, 11, 1);
    ASSERT_NEAR(sim_resource_mean_wait(&x.res) / want, 1.0, 0.04);
    ASSERT_NEAR(sim_resource_utilisation(&x.res), rho, 0.01);
    qexp_free(&x);
}

void test_resource_modes_agree(void)
{
    struct qexp a, b;
    unsigned c;

    for (c = 1; c <= 3; c++) {
        double S = 1e6, lambda = 0.75 * c / S;

        qexp_run(&a, c, lambda, S, 0, 0, 50000, 99, 0);
        qexp_run(&b, c, lambda, S, 0, 1, 50000, 99, 0);
        CU_ASSERT_EQUAL(a.res.st.waits, b.res.st.waits);
        CU_ASSERT_EQUAL(a.res.st.immediate, b.res.st.immediate);
        CU_ASSERT_EQUAL(a.res.st.wait_max, b.res.st.wait_max);
        CU_ASSERT_DOUBLE_EQUAL(a.res.st.wait_sum, b.res.st.wait_sum, 1e-6 * a.res.st.wait_sum);
        qexp_free(&a);
        qexp_free(&b);
    }
}
