/*
 * test_event.c - scheduling and run control: the order guarantee, errors,
 * callbacks that schedule, deschedule and reschedule, and run limits.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/sim.h"
#include "testutil.h"

void test_event_order_by_time(void);
void test_event_order_by_priority(void);
void test_event_order_fifo(void);
void test_event_schedule_errors(void);
void test_event_deschedule(void);
void test_event_reschedule_moves_and_requeues(void);
void test_event_periodic_self_reschedule(void);
void test_event_deschedule_other_from_callback(void);
void test_event_schedule_now_from_callback(void);
void test_event_free_in_own_callback(void);
void test_run_until_boundaries(void);
void test_run_for_tiles_time(void);
void test_run_empty_and_counts(void);
void test_run_stop_from_callback(void);
void test_run_max_events(void);
void test_run_past_limit_keeps_time(void);

/* A log of (id, tick) that callbacks append to. */
struct trace {
    struct sim *sim;
    int ids[64];
    sim_tick_t ticks[64];
    int n;
};

struct item {
    struct sim_event ev;
    struct trace *tr;
    int id;
};

static void record_cb(struct sim_event *ev, void *arg)
{
    struct item *it = arg;

    (void)ev;
    it->tr->ids[it->tr->n] = it->id;
    it->tr->ticks[it->tr->n] = sim_now(it->tr->sim);
    it->tr->n++;
}

static void item_init(struct item *it, struct trace *tr, int id, int prio)
{
    sim_event_init(&it->ev, record_cb, it, prio);
    it->tr = tr;
    it->id = id;
}

static void assert_ids(const struct trace *tr, const int *want, int n)
{
    CU_ASSERT_EQUAL_FATAL(tr->n, n);
    for (int i = 0; i < n; i++)
        CU_ASSERT_EQUAL(tr->ids[i], want[i]);
}

void test_event_order_by_time(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item it[5];
    static const sim_tick_t when[5] = { 50, 10, 40, 20, 30 };
    static const int want[5] = { 1, 3, 4, 2, 0 };

    sim_init(&s);
    for (int i = 0; i < 5; i++) {
        item_init(&it[i], &tr, i, SIM_PRIO_DEFAULT);
        CU_ASSERT_EQUAL(sim_event_schedule(&s, &it[i].ev, when[i]), 0);
    }
    sim_run(&s);
    assert_ids(&tr, want, 5);
    CU_ASSERT_EQUAL(tr.ticks[0], 10);
    CU_ASSERT_EQUAL(tr.ticks[4], 50);
    sim_destroy(&s);
}

void test_event_order_by_priority(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item it[4];
    static const int prio[4] = { 5, -3, SIM_PRIO_LAST, SIM_PRIO_FIRST };
    static const int want[4] = { 3, 1, 0, 2 };

    sim_init(&s);
    for (int i = 0; i < 4; i++) {
        item_init(&it[i], &tr, i, prio[i]);
        sim_event_schedule(&s, &it[i].ev, 100);
    }
    sim_run(&s);
    assert_ids(&tr, want, 4);
    sim_destroy(&s);
}

void test_event_order_fifo(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item it[40];
    int want[40];

    /* 40 events at one tick and priority: more than a ladder bucket holds
     * before it splits, so the tie-break is exercised past the bottom heap. */
    sim_init(&s);
    for (int i = 0; i < 40; i++) {
        item_init(&it[i], &tr, i, 0);
        sim_event_schedule(&s, &it[i].ev, 7);
        want[i] = i;
    }
    sim_run(&s);
    assert_ids(&tr, want, 40);
    sim_destroy(&s);
}

void test_event_schedule_errors(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item a, b;

    sim_init(&s);
    item_init(&a, &tr, 0, 0);
    item_init(&b, &tr, 1, 0);
    CU_ASSERT_EQUAL(sim_event_schedule(&s, &a.ev, 100), 0);
    CU_ASSERT_EQUAL(sim_event_schedule(&s, &a.ev, 200), SIM_EBUSY);
    CU_ASSERT_EQUAL(sim_event_when(&a.ev), 100);            /* unchanged */
    sim_run_until(&s, 150, 0);
    CU_ASSERT_EQUAL(sim_now(&s), 150);
    CU_ASSERT_EQUAL(sim_event_schedule(&s, &b.ev, 149), SIM_EPAST);
    CU_ASSERT_FALSE(sim_event_is_scheduled(&b.ev));
    CU_ASSERT_EQUAL(sim_event_reschedule(&s, &b.ev, 10), SIM_EPAST);
    CU_ASSERT_EQUAL(sim_event_schedule(&s, &b.ev, SIM_TICK_MAX), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_event_schedule_in(&s, &b.ev, SIM_TICK_MAX - 10), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_event_schedule(&s, &b.ev, 150), 0);  /* now is fine */
    sim_run(&s);
    CU_ASSERT_EQUAL(tr.n, 2);
    sim_destroy(&s);
}

void test_event_deschedule(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item it[3];
    static const int want[2] = { 0, 2 };

    sim_init(&s);
    for (int i = 0; i < 3; i++) {
        item_init(&it[i], &tr, i, 0);
        sim_event_schedule(&s, &it[i].ev, 10 * (sim_tick_t)(i + 1));
    }
    CU_ASSERT_TRUE(sim_event_is_scheduled(&it[1].ev));
    CU_ASSERT_EQUAL(sim_event_deschedule(&s, &it[1].ev), 0);
    CU_ASSERT_FALSE(sim_event_is_scheduled(&it[1].ev));
    CU_ASSERT_EQUAL(sim_event_deschedule(&s, &it[1].ev), SIM_ENOTSCHED);
    CU_ASSERT_EQUAL(sim_events_pending(&s), 2);
    sim_run(&s);
    assert_ids(&tr, want, 2);
    sim_destroy(&s);
}

void test_event_reschedule_moves_and_requeues(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item it[3];
    static const int want[3] = { 1, 2, 0 };

    sim_init(&s);
    for (int i = 0; i < 3; i++) {
        item_init(&it[i], &tr, i, 0);
        sim_event_schedule(&s, &it[i].ev, 100);
    }
    /* Rescheduling 0 to the same tick puts it behind 1 and 2 (FIFO anew). */
    CU_ASSERT_EQUAL(sim_event_reschedule(&s, &it[0].ev, 100), 0);
    CU_ASSERT_EQUAL(sim_events_pending(&s), 3);
    sim_run(&s);
    assert_ids(&tr, want, 3);
    /* Reschedule of an event that is not scheduled schedules it. */
    CU_ASSERT_EQUAL(sim_event_reschedule(&s, &it[2].ev, 300), 0);
    sim_run(&s);
    CU_ASSERT_EQUAL(tr.n, 4);
    CU_ASSERT_EQUAL(tr.ticks[3], 300);
    sim_destroy(&s);
}

struct periodic {
    struct sim_event ev;
    struct sim *sim;
    int runs;
    sim_tick_t at[8];
    int deschedule_self_rc;
};

static void periodic_cb(struct sim_event *ev, void *arg)
{
    struct periodic *p = arg;

    p->at[p->runs++] = sim_now(p->sim);
    /* While its callback runs, an event is no longer scheduled. */
    p->deschedule_self_rc = sim_event_deschedule(p->sim, ev);
    if (p->runs < 5)
        sim_event_reschedule(p->sim, ev, sim_now(p->sim) + 1000);
}

void test_event_periodic_self_reschedule(void)
{
    struct sim s;
    struct periodic p = { .sim = &s };

    sim_init(&s);
    sim_event_init(&p.ev, periodic_cb, &p, 0);
    sim_event_schedule(&s, &p.ev, 500);
    sim_run(&s);
    CU_ASSERT_EQUAL(p.runs, 5);
    CU_ASSERT_EQUAL(p.at[0], 500);
    CU_ASSERT_EQUAL(p.at[4], 4500);
    CU_ASSERT_EQUAL(p.deschedule_self_rc, SIM_ENOTSCHED);
    CU_ASSERT_FALSE(sim_event_is_scheduled(&p.ev));
    sim_destroy(&s);
}

struct canceller {
    struct sim_event ev;
    struct sim *sim;
    struct item *victim;
};

static void cancel_cb(struct sim_event *ev, void *arg)
{
    struct canceller *c = arg;

    (void)ev;
    CU_ASSERT_EQUAL(sim_event_deschedule(c->sim, &c->victim->ev), 0);
}

void test_event_deschedule_other_from_callback(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item victim, other;
    struct canceller c = { .sim = &s, .victim = &victim };
    static const int want[1] = { 2 };

    sim_init(&s);
    item_init(&victim, &tr, 1, 0);
    item_init(&other, &tr, 2, 0);
    sim_event_init(&c.ev, cancel_cb, &c, 0);
    sim_event_schedule(&s, &c.ev, 10);
    sim_event_schedule(&s, &victim.ev, 10);     /* same tick, after c */
    sim_event_schedule(&s, &other.ev, 20);
    sim_run(&s);
    assert_ids(&tr, want, 1);
    sim_destroy(&s);
}

struct spawner {
    struct sim_event ev;
    struct sim *sim;
    struct item *child;
};

static void spawn_cb(struct sim_event *ev, void *arg)
{
    struct spawner *sp = arg;

    (void)ev;
    CU_ASSERT_EQUAL(sim_event_schedule(sp->sim, &sp->child->ev, sim_now(sp->sim)), 0);
}

void test_event_schedule_now_from_callback(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item child, later;
    struct spawner sp = { .sim = &s, .child = &child };
    static const int want[2] = { 1, 2 };
    struct sim_exit ex;

    sim_init(&s);
    item_init(&child, &tr, 1, 0);
    item_init(&later, &tr, 2, 0);
    sim_event_init(&sp.ev, spawn_cb, &sp, 0);
    sim_event_schedule(&s, &sp.ev, 100);
    sim_event_schedule(&s, &later.ev, 101);
    /* The child scheduled at tick 100 from a callback at tick 100 runs within
     * the same run_until(100), before time moves on. */
    ex = sim_run_until(&s, 100, 0);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_LIMIT);
    CU_ASSERT_EQUAL(tr.n, 1);
    CU_ASSERT_EQUAL(tr.ticks[0], 100);
    sim_run(&s);
    assert_ids(&tr, want, 2);
    sim_destroy(&s);
}

struct heap_owned {
    struct sim_event ev;
    int *ran;
};

static void free_self_cb(struct sim_event *ev, void *arg)
{
    struct heap_owned *h = arg;

    (void)ev;
    (*h->ran)++;
    free(h);        /* the engine must not touch ev after this (ASan checks) */
}

void test_event_free_in_own_callback(void)
{
    struct sim s;
    int ran = 0;

    sim_init(&s);
    for (int i = 0; i < 100; i++) {
        struct heap_owned *h = malloc(sizeof(*h));

        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        h->ran = &ran;
        sim_event_init(&h->ev, free_self_cb, h, 0);
        sim_event_schedule(&s, &h->ev, (sim_tick_t)(i % 7));
    }
    sim_run(&s);
    CU_ASSERT_EQUAL(ran, 100);
    sim_destroy(&s);
}

void test_run_until_boundaries(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item it[3];
    struct sim_exit ex;

    sim_init(&s);
    for (int i = 0; i < 3; i++) {
        item_init(&it[i], &tr, i, 0);
        sim_event_schedule(&s, &it[i].ev, 1000 + (sim_tick_t)i);   /* 1000..1002 */
    }
    ex = sim_run_until(&s, 999, 0);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_LIMIT);
    CU_ASSERT_EQUAL(ex.tick, 999);
    CU_ASSERT_EQUAL(ex.events, 0);
    CU_ASSERT_EQUAL(tr.n, 0);
    ex = sim_run_until(&s, 1001, 0);        /* inclusive limit */
    CU_ASSERT_EQUAL(ex.events, 2);
    CU_ASSERT_EQUAL(ex.tick, 1001);
    CU_ASSERT_EQUAL(sim_now(&s), 1001);
    ex = sim_run_until(&s, 5000, 0);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_EMPTY);
    CU_ASSERT_EQUAL(ex.tick, 5000);          /* an explicit limit is reached */
    CU_ASSERT_EQUAL(tr.n, 3);
    sim_destroy(&s);
}

void test_run_for_tiles_time(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item it[10];

    sim_init(&s);
    for (int i = 0; i < 10; i++) {
        item_init(&it[i], &tr, i, 0);
        sim_event_schedule(&s, &it[i].ev, 10 * (sim_tick_t)i);  /* 0..90 */
    }
    /* Ten run_for(10) calls see each event exactly once, at its tick. */
    for (int k = 0; k < 10; k++) {
        struct sim_exit ex = sim_run_for(&s, 10, 0);

        CU_ASSERT_EQUAL(ex.events, k == 0 ? 2 : (k < 9 ? 1 : 0));
        CU_ASSERT_EQUAL(sim_now(&s), 10 * (sim_tick_t)(k + 1));
    }
    CU_ASSERT_EQUAL(tr.n, 10);
    sim_destroy(&s);
}

void test_run_empty_and_counts(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item it[4];
    struct sim_exit ex;

    sim_init(&s);
    ex = sim_run(&s);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_EMPTY);
    CU_ASSERT_EQUAL(ex.events, 0);
    for (int i = 0; i < 4; i++) {
        item_init(&it[i], &tr, i, 0);
        sim_event_schedule(&s, &it[i].ev, 5);
    }
    CU_ASSERT_EQUAL(sim_events_pending(&s), 4);
    ex = sim_run(&s);
    CU_ASSERT_EQUAL(ex.events, 4);
    CU_ASSERT_EQUAL(sim_events_processed(&s), 4);
    CU_ASSERT_EQUAL(sim_events_pending(&s), 0);
    CU_ASSERT_STRING_EQUAL(sim_exit_cause_name(ex.cause), "empty");
    sim_destroy(&s);
}

struct stopper {
    struct sim_event ev;
    struct sim *sim;
};

static void stop_cb(struct sim_event *ev, void *arg)
{
    struct stopper *st = arg;

    (void)ev;
    sim_stop(st->sim, "enough");
}

void test_run_stop_from_callback(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item before, after;
    struct stopper st = { .sim = &s };
    struct sim_exit ex;

    sim_init(&s);
    item_init(&before, &tr, 1, 0);
    item_init(&after, &tr, 2, 0);
    sim_event_init(&st.ev, stop_cb, &st, 0);
    sim_event_schedule(&s, &before.ev, 10);
    sim_event_schedule(&s, &st.ev, 20);
    sim_event_schedule(&s, &after.ev, 20);  /* same tick, after the stop */
    ex = sim_run(&s);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_STOP);
    CU_ASSERT_STRING_EQUAL(ex.reason, "enough");
    CU_ASSERT_EQUAL(ex.tick, 20);
    CU_ASSERT_EQUAL(tr.n, 1);
    ex = sim_run(&s);                       /* resumes where it stopped */
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_EMPTY);
    CU_ASSERT_EQUAL(ex.tick, 20);           /* no limit: the last event's */
    CU_ASSERT_EQUAL(tr.n, 2);
    sim_destroy(&s);
}

void test_run_max_events(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item it[5];
    struct sim_exit ex;

    sim_init(&s);
    for (int i = 0; i < 5; i++) {
        item_init(&it[i], &tr, i, 0);
        sim_event_schedule(&s, &it[i].ev, (sim_tick_t)i);
    }
    ex = sim_run_until(&s, 1000, 3);
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_MAX_EVENTS);
    CU_ASSERT_EQUAL(ex.events, 3);
    CU_ASSERT_EQUAL(ex.tick, 2);
    CU_ASSERT_EQUAL(sim_events_pending(&s), 2);
    sim_destroy(&s);
}

void test_run_past_limit_keeps_time(void)
{
    struct sim s;
    struct trace tr = { .sim = &s };
    struct item it;
    struct sim_exit ex;

    sim_init(&s);
    item_init(&it, &tr, 0, 0);
    sim_event_schedule(&s, &it.ev, 1000);
    sim_run_until(&s, 500, 0);
    ex = sim_run_until(&s, 100, 0);         /* a limit already passed */
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_LIMIT);
    CU_ASSERT_EQUAL(ex.tick, 500);
    CU_ASSERT_EQUAL(sim_now(&s), 500);
    CU_ASSERT_EQUAL(tr.n, 0);
    sim_destroy(&s);
}
