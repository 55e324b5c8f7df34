/*
 * test_world_sets.c - a world split into independent event sets: a run up to
 * a key (tick, place) stops exactly where an event at that key would have
 * run; sets run in turn see what one shared set would have seen at every
 * stop; a user's event cap cuts every set at one time; references across
 * sets are refused.
 */
#include <stdio.h>
#include <string.h>

#include "engine/error.h"
#include "engine/models.h"
#include "engine/object.h"
#include "engine/worldpool.h"
#include "testutil.h"

void test_run_before_key(void);
void test_world_sets_same_as_one(void);
void test_world_sets_time_order_cap(void);
void test_world_sets_refs_and_catch_up(void);
void test_world_pool_threads(void);

struct tick_log {
    int n;                          /* times the event ran */
};

static void log_cb(struct sim_event *ev, void *arg)
{
    (void)ev;
    ((struct tick_log *)arg)->n++;
}

void test_run_before_key(void)
{
    struct sim s;
    struct tick_log a = { .n = 0 }, b = { .n = 0 }, c = { .n = 0 }, d = { .n = 0 };
    struct sim_event e5, e10a, e10last, e11;
    uint64_t bound = sim_order_prio_floor(SIM_PRIO_STATS);
    struct sim_exit ex;

    sim_init(&s);
    sim_event_init(&e5, log_cb, &a, SIM_PRIO_DEFAULT);
    sim_event_init(&e10a, log_cb, &b, SIM_PRIO_DEFAULT);
    sim_event_init(&e10last, log_cb, &c, SIM_PRIO_LAST);
    sim_event_init(&e11, log_cb, &d, SIM_PRIO_DEFAULT);
    CU_ASSERT_EQUAL(sim_event_schedule(&s, &e10last, 10), 0);   /* first in FIFO order */
    CU_ASSERT_EQUAL(sim_event_schedule(&s, &e11, 11), 0);
    CU_ASSERT_EQUAL(sim_event_schedule(&s, &e10a, 10), 0);
    CU_ASSERT_EQUAL(sim_event_schedule(&s, &e5, 5), 0);

    /* Below the key (10, STATS): the event at 5 and the default-priority one
     * at 10; not the SIM_PRIO_LAST one at 10 (it sorts after a dump there,
     * although scheduled first), not 11. Time ends at 10. */
    ex = sim_run_before(&s, 10, bound, 0);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_LIMIT);
    CU_ASSERT_EQUAL(ex.events, 2);
    CU_ASSERT_EQUAL(ex.tick, 10);
    CU_ASSERT_EQUAL(sim_now(&s), 10);
    CU_ASSERT_EQUAL(a.n + b.n, 2);
    CU_ASSERT_EQUAL(c.n + d.n, 0);
    /* Again: nothing more below the key. */
    CU_ASSERT_EQUAL(sim_run_before(&s, 10, bound, 0).events, 0);
    /* A limit already passed runs nothing and keeps the time. */
    CU_ASSERT_EQUAL(sim_run_before(&s, 9, bound, 0).events, 0);
    CU_ASSERT_EQUAL(sim_now(&s), 10);
    /* The rest of tick 10, then 11. */
    ex = sim_run_until(&s, 10, 0);
    CU_ASSERT_EQUAL(ex.events, 1);
    CU_ASSERT_EQUAL(c.n, 1);
    ex = sim_run_before(&s, 20, bound, 0);
    CU_ASSERT_EQUAL(ex.events, 1);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_EMPTY);
    CU_ASSERT_EQUAL(sim_now(&s), 20);

    /* A cap among the events at the key. */
    CU_ASSERT_EQUAL(sim_event_schedule(&s, &e10a, 30), 0);
    CU_ASSERT_EQUAL(sim_event_schedule(&s, &e5, 30), 0);
    ex = sim_run_before(&s, 30, bound, 1);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_MAX_EVENTS);
    CU_ASSERT_EQUAL(ex.events, 1);
    ex = sim_run_before(&s, 30, bound, 0);
    CU_ASSERT_EQUAL(ex.events, 1);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_EMPTY);
    sim_destroy(&s);
}

/*
 * Build a 1 GHz clock and a PeriodicSource every 100 ns from 100 ns on it,
 * and a PoissonSource of mean gap 37 ns: in one event set (sets = 1) or
 * the Poisson source in a set of its own (sets = 2).
 */
static void build(struct sim_world *w, unsigned sets)
{
    const struct sim_model *cd = &sim_model_clock_domain, *per = &sim_model_periodic_source,
                           *poi = &sim_model_poisson_source;
    const char *cdt[1] = { "1GHz" };
    const char *pt[8] = { 0 }, *qt[8] = { 0 };
    char err[512];

    sim_world_init(w, 7);
    CU_ASSERT_EQUAL_FATAL(sim_world_set_count(w, sets), 0);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(w, cd, "clk", cdt, err, sizeof(err)), 0);
    pt[sim_model_param_index(per, "clock")] = "clk";
    pt[sim_model_param_index(per, "period")] = "100cycles";
    pt[sim_model_param_index(per, "start")] = "100cycles";
    CU_ASSERT_EQUAL_FATAL(sim_world_add(w, per, "p", pt, err, sizeof(err)), 0);
    qt[sim_model_param_index(poi, "rate")] = "27MHz";
    CU_ASSERT_EQUAL_FATAL(sim_world_add_to(w, sets - 1, poi, "q", qt, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sim_world_start(w, err, sizeof(err)), 0);
}

void test_world_sets_same_as_one(void)
{
    struct sim_world one, two;
    uint64_t bound = sim_order_prio_floor(SIM_PRIO_STATS);

    build(&one, 1);
    build(&two, 2);
    CU_ASSERT_EQUAL(sim_world_nsets(&two), 2);
    CU_ASSERT_PTR_NOT_EQUAL(sim_world_find(&two, "q")->world, &two);
    /* Stops at every microsecond, as periodic dumps would be: each sees
     * the periodic source's event at that very tick (k us: 10 k events)
     * and the Poisson source exactly as one shared set sees it. */
    for (int k = 1; k <= 20; k++) {
        sim_tick_t key = (sim_tick_t)k * SIM_TICKS_PER_US;
        struct sim_exit a = sim_world_run(&one, key, bound, 0, 0);
        struct sim_exit b = sim_world_run(&two, key, bound, 0, 0);
        struct sim_object *p1 = sim_world_find(&one, "p"), *p2 = sim_world_find(&two, "p");
        struct sim_object *q1 = sim_world_find(&one, "q"), *q2 = sim_world_find(&two, "q");

        CU_ASSERT_EQUAL(a.tick, key);
        CU_ASSERT_EQUAL(b.tick, key);
        CU_ASSERT_EQUAL(sim_now(sim_world_set_sim(&two, 0)), key);
        CU_ASSERT_EQUAL(sim_now(sim_world_set_sim(&two, 1)), key);
        CU_ASSERT_EQUAL(p1->model->ops->read(p1, 0), 10.0 * k);
        CU_ASSERT_EQUAL(p2->model->ops->read(p2, 0), 10.0 * k);
        CU_ASSERT_EQUAL(q1->model->ops->read(q1, 0), q2->model->ops->read(q2, 0));
        CU_ASSERT_EQUAL(q1->model->ops->read(q1, 2), q2->model->ops->read(q2, 2));
        CU_ASSERT_EQUAL(a.events, b.events);
        CU_ASSERT_EQUAL(sim_world_events(&one), sim_world_events(&two));
    }
    /* About 27 Poisson events per microsecond: the stream really ran. */
    CU_ASSERT_TRUE(sim_world_find(&two, "q")->model->ops->read(sim_world_find(&two, "q"), 0)
                   > 400.0);
    sim_world_destroy(&one);
    sim_world_destroy(&two);
}

/* A chain of events every `gap` ticks, counting and logging its last tick. */
struct chain {
    struct sim *sim;
    struct sim_event ev;
    sim_tick_t gap, last;
    uint64_t n;
    uint64_t stop_at;               /* sim_stop() at this event (0: never) */
};

static void chain_cb(struct sim_event *ev, void *arg)
{
    struct chain *c = arg;

    c->n++;
    c->last = sim_now(c->sim);
    if (c->n == c->stop_at)
        sim_stop(c->sim, "chain stop");
    sim_event_schedule_in(c->sim, ev, c->gap);
}

static void chains_start(struct sim_world *w, struct chain *c, const sim_tick_t *gaps)
{
    for (unsigned i = 0; i < 3; i++) {
        c[i] = (struct chain){ .sim = sim_world_set_sim(w, i), .gap = gaps[i] };
        sim_event_init(&c[i].ev, chain_cb, &c[i], SIM_PRIO_DEFAULT);
        sim_event_schedule(c[i].sim, &c[i].ev, gaps[i]);
    }
}

void test_world_sets_time_order_cap(void)
{
    static const sim_tick_t gaps[3] = { 10, 7, 13 };
    struct sim_world w;
    struct chain c[3];
    struct sim_exit ex;
    sim_tick_t ran = 0, pending = SIM_TICK_MAX;
    uint64_t total = 0;

    sim_world_init(&w, 1);
    CU_ASSERT_EQUAL_FATAL(sim_world_set_count(&w, 3), 0);
    chains_start(&w, c, gaps);
    /* In time order, a cap of 50 events runs the 50 earliest: every event
     * run is no later than every event left. Events up to tick T number
     * floor(T/10) + floor(T/7) + floor(T/13): 15 + 22 + 12 = 49 by 159 and
     * 16 + 22 + 12 = 50 by 160 (chain 0's 16th), so the 50th is at 160. */
    ex = sim_world_run(&w, 1000, UINT64_MAX, 50, 1);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_MAX_EVENTS);
    CU_ASSERT_EQUAL(ex.events, 50);
    for (unsigned i = 0; i < 3; i++) {
        total += c[i].n;
        if (c[i].last > ran)
            ran = c[i].last;
        if (c[i].ev.when < pending)
            pending = c[i].ev.when;
    }
    CU_ASSERT_EQUAL(total, 50);
    CU_ASSERT_TRUE(ran <= pending);
    CU_ASSERT_EQUAL(ran, 160);
    /* The rest to the limit: 100 + 142 + 76 events by tick 1000. */
    ex = sim_world_run(&w, 1000, UINT64_MAX, 0, 0);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_LIMIT);
    CU_ASSERT_EQUAL(ex.tick, 1000);
    CU_ASSERT_EQUAL(c[0].n, 100);
    CU_ASSERT_EQUAL(c[1].n, 142);
    CU_ASSERT_EQUAL(c[2].n, 76);
    sim_world_destroy(&w);

    /* Without time order the sets run in turn: set 0 alone takes the cap. */
    sim_world_init(&w, 1);
    CU_ASSERT_EQUAL_FATAL(sim_world_set_count(&w, 3), 0);
    chains_start(&w, c, gaps);
    ex = sim_world_run(&w, 1000, UINT64_MAX, 50, 0);
    CU_ASSERT_EQUAL(ex.events, 50);
    CU_ASSERT_EQUAL(c[0].n, 50);
    CU_ASSERT_EQUAL(c[1].n + c[2].n, 0);
    sim_world_destroy(&w);
}

static void once_cb(struct sim_event *ev, void *arg)
{
    (void)ev;
    (*(int *)arg)++;
}

void test_world_sets_refs_and_catch_up(void)
{
    struct sim_world w;
    const struct sim_model *cd = &sim_model_clock_domain, *per = &sim_model_periodic_source;
    const char *pt[8] = { 0 };
    struct sim_event e0, e1;
    int n0 = 0, n1 = 0;
    struct sim_exit ex;
    char err[512];

    sim_world_init(&w, 1);
    CU_ASSERT_EQUAL(sim_world_set_count(&w, 0), SIM_EINVAL);
    CU_ASSERT_EQUAL_FATAL(sim_world_set_count(&w, 2), 0);
    CU_ASSERT_EQUAL(sim_world_add_to(&w, 2, cd, "c2", NULL, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_EQUAL_FATAL(sim_world_add_to(&w, 0, cd, "clk", NULL, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_world_set_count(&w, 3), SIM_ESTATE);
    /* A source in set 1 cannot use set 0's clock: its events would run in
     * one set and its clock's users in another. */
    pt[sim_model_param_index(per, "clock")] = "clk";
    pt[sim_model_param_index(per, "period")] = "10cycles";
    CU_ASSERT_EQUAL(sim_world_add_to(&w, 1, per, "p", pt, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "p.clock: refers to 'clk', which is in another "
                                       "event set"));
    CU_ASSERT_PTR_NULL(sim_world_find(&w, "p"));
    CU_ASSERT_EQUAL_FATAL(sim_world_start(&w, err, sizeof(err)), 0);

    /* Run until nothing is left: the set that ran out first catches up with
     * the latest one, so the world has one time. */
    sim_event_init(&e0, once_cb, &n0, SIM_PRIO_DEFAULT);
    sim_event_init(&e1, once_cb, &n1, SIM_PRIO_DEFAULT);
    sim_event_schedule(sim_world_set_sim(&w, 0), &e0, 500);
    sim_event_schedule(sim_world_set_sim(&w, 1), &e1, 300);
    ex = sim_world_run(&w, SIM_TICK_MAX - 1, UINT64_MAX, 0, 0);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_EMPTY);
    CU_ASSERT_EQUAL(ex.tick, 500);
    CU_ASSERT_EQUAL(n0 + n1, 2);
    CU_ASSERT_EQUAL(sim_now(sim_world_set_sim(&w, 1)), 500);
    CU_ASSERT_EQUAL(sim_world_pending(&w), 0);
    sim_world_destroy(&w);
}

static int poll_calls;

static int poll_stop_first(void *ctx)
{
    (void)ctx;
    return ++poll_calls == 1;
}

static int poll_never(void *ctx)
{
    (void)ctx;
    poll_calls++;
    return 0;
}

void test_world_pool_threads(void)
{
    static const sim_tick_t gaps[3] = { 10, 7, 13 };
    uint64_t bound = sim_order_prio_floor(SIM_PRIO_STATS);
    struct sim_world w;
    struct sim_world_pool *pool;
    struct chain c[3];
    struct sim_exit ex;

    sim_world_init(&w, 1);
    CU_ASSERT_EQUAL_FATAL(sim_world_set_count(&w, 3), 0);
    chains_start(&w, c, gaps);
    CU_ASSERT_EQUAL(sim_world_pool_start(&pool, &w, 1), SIM_EINVAL);
    CU_ASSERT_EQUAL_FATAL(sim_world_pool_start(&pool, &w, 3), 0);

    /* Three threads, slices of 4 events: by the key (1000, STATS) every
     * chain's events up to 1000 inclusive, floor(1000 / gap) each. */
    ex = sim_world_pool_run(pool, 1000, bound, 4, poll_never, NULL, 10);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_LIMIT);
    CU_ASSERT_EQUAL(ex.tick, 1000);
    CU_ASSERT_EQUAL(ex.events, 100 + 142 + 76);
    CU_ASSERT_EQUAL(c[0].n, 100);
    CU_ASSERT_EQUAL(c[1].n, 142);
    CU_ASSERT_EQUAL(c[2].n, 76);
    for (unsigned i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(sim_now(sim_world_set_sim(&w, i)), 1000);

    /* A poll that says stop at once (Ctrl-C): the run ends early, unless
     * the workers (on a loaded host) finished every set before the calling
     * thread's first slice ended, when nothing is left to stop ... */
    poll_calls = 0;
    ex = sim_world_pool_run(pool, 2000, bound, 4, poll_stop_first, NULL, 10);
    if (poll_calls) {
        CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_STOP);
        CU_ASSERT_STRING_EQUAL(ex.reason, "polled");
        CU_ASSERT_TRUE(c[0].n + c[1].n + c[2].n < 200 + 285 + 153);
    }
    /* ... and the next run resumes every set: floor(2000 / gap) each. */
    ex = sim_world_pool_run(pool, 2000, bound, 4, NULL, NULL, 10);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_LIMIT);
    CU_ASSERT_EQUAL(c[0].n, 200);
    CU_ASSERT_EQUAL(c[1].n, 285);
    CU_ASSERT_EQUAL(c[2].n, 153);

    /* A set's sim_stop() ends the run with its reason. */
    c[1].stop_at = 300;
    ex = sim_world_pool_run(pool, 3000, bound, 0, NULL, NULL, 10);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_STOP);
    CU_ASSERT_STRING_EQUAL(ex.reason, "chain stop");
    CU_ASSERT_EQUAL(c[1].n, 300);
    CU_ASSERT_EQUAL(c[1].last, 2100);
    sim_world_pool_stop(pool);
    sim_world_destroy(&w);
}
