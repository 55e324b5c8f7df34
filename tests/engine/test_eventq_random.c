/*
 * test_eventq_random.c - the ladder queue against a trivially correct model.
 *
 * The reference is a sorted array of (when, prio, seq, id): an insert finds
 * its place by binary search on the full key, a pop takes the front. Random
 * sequences of schedule / deschedule / reschedule / run-one-event go to both,
 * and every popped event must match. Delay mixes are chosen to reach every
 * path of the ladder: ties (bottom heap only), clusters (child rungs, up to
 * the rung limit), far-future outliers (top, saturated bucket ranges).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "engine/sim.h"
#include "testutil.h"

void test_eventq_random_vs_sorted_list(void);
void test_eventq_random_heavy_ties(void);
void test_eventq_burst_deep_rungs(void);
void test_eventq_far_future_outliers(void);
void test_eventq_random_large_population(void);
void test_eventq_grow_from_small(void);

struct ref_entry {
    sim_tick_t when;
    int prio;
    uint64_t seq;
    int id;
};

struct harness {
    struct sim sim;
    struct sim_rng rng;
    int nev;
    struct sim_event *ev;
    int *pending;               /* id -> 1 if scheduled */
    struct ref_entry *ref;      /* ref[lo .. hi) sorted */
    int lo, hi, cap;
    uint64_t seq;
    int popped;                 /* id of the last event run, -1 if none */
    int mismatches;
    sim_tick_t (*delay)(struct harness *h);
};

static void popped_cb(struct sim_event *ev, void *arg)
{
    struct harness *h = arg;

    h->popped = (int)(ev - h->ev);
}

static int ref_less(const struct ref_entry *a, const struct ref_entry *b)
{
    if (a->when != b->when)
        return a->when < b->when;
    if (a->prio != b->prio)
        return a->prio < b->prio;
    return a->seq < b->seq;
}

static void ref_compact(struct harness *h)
{
    if (h->lo > 0) {
        memmove(h->ref, h->ref + h->lo, (size_t)(h->hi - h->lo) * sizeof(*h->ref));
        h->hi -= h->lo;
        h->lo = 0;
    }
}

static void ref_insert(struct harness *h, struct ref_entry e)
{
    int a = h->lo, b = h->hi;

    if (h->hi == h->cap)
        ref_compact(h);
    a = h->lo;
    b = h->hi;
    while (a < b) {             /* first entry that e is before */
        int m = a + (b - a) / 2;

        if (ref_less(&e, &h->ref[m]))
            b = m;
        else
            a = m + 1;
    }
    memmove(h->ref + a + 1, h->ref + a, (size_t)(h->hi - a) * sizeof(*h->ref));
    h->ref[a] = e;
    h->hi++;
}

static void ref_remove_id(struct harness *h, int id)
{
    for (int i = h->lo; i < h->hi; i++) {
        if (h->ref[i].id == id) {
            memmove(h->ref + i, h->ref + i + 1, (size_t)(h->hi - i - 1) * sizeof(*h->ref));
            h->hi--;
            return;
        }
    }
    CU_FAIL("reference lost an id");
}

static void harness_init(struct harness *h, int nev, uint64_t seed,
                         sim_tick_t (*delay)(struct harness *))
{
    memset(h, 0, sizeof(*h));
    sim_init(&h->sim);
    sim_rng_seed(&h->rng, seed, "test.eventq");
    h->nev = nev;
    h->ev = calloc((size_t)nev, sizeof(*h->ev));
    h->pending = calloc((size_t)nev, sizeof(*h->pending));
    h->ref = calloc((size_t)nev, sizeof(*h->ref));
    h->cap = nev;
    h->delay = delay;
    for (int i = 0; i < nev; i++)
        sim_event_init(&h->ev[i], popped_cb, h, 0);
}

static void harness_destroy(struct harness *h)
{
    sim_destroy(&h->sim);
    free(h->ev);
    free(h->pending);
    free(h->ref);
}

static int pick(struct harness *h, int want_pending)
{
    /* A random id in the wanted state, or -1; a few probes then a scan. */
    for (int k = 0; k < 8; k++) {
        int id = (int)sim_rng_below(&h->rng, (uint64_t)h->nev);

        if (h->pending[id] == want_pending)
            return id;
    }
    for (int id = 0; id < h->nev; id++)
        if (h->pending[id] == want_pending)
            return id;
    return -1;
}

static int random_prio(struct harness *h)
{
    uint64_t r = sim_rng_below(&h->rng, 10);

    return r < 7 ? 0 : (r < 9 ? (int)sim_rng_below(&h->rng, 3) - 1 : SIM_PRIO_LAST);
}

/* now + a random delay, kept below SIM_TICK_MAX (the one unschedulable tick). */
static sim_tick_t later(struct harness *h)
{
    sim_tick_t now = sim_now(&h->sim), d = h->delay(h);

    return d > SIM_TICK_MAX - 2 - now ? SIM_TICK_MAX - 2 : now + d;
}

static void op_schedule(struct harness *h, int id)
{
    struct ref_entry e;
    sim_tick_t when = later(h);

    h->ev[id].prio = (int8_t)random_prio(h);
    if (sim_event_schedule(&h->sim, &h->ev[id], when) != 0) {
        h->mismatches++;
        return;
    }
    e.when = when;
    e.prio = h->ev[id].prio;
    e.seq = h->seq++;
    e.id = id;
    ref_insert(h, e);
    h->pending[id] = 1;
}

static void op_reschedule(struct harness *h, int id)
{
    struct ref_entry e;
    sim_tick_t when = later(h);

    if (sim_event_reschedule(&h->sim, &h->ev[id], when) != 0) {
        h->mismatches++;
        return;
    }
    ref_remove_id(h, id);
    e.when = when;
    e.prio = h->ev[id].prio;
    e.seq = h->seq++;
    e.id = id;
    ref_insert(h, e);
}

static void op_deschedule(struct harness *h, int id)
{
    if (sim_event_deschedule(&h->sim, &h->ev[id]) != 0)
        h->mismatches++;
    ref_remove_id(h, id);
    h->pending[id] = 0;
}

static void op_pop(struct harness *h)
{
    struct sim_exit ex;

    h->popped = -1;
    ex = sim_run_until(&h->sim, SIM_TICK_MAX - 1, 1);
    if (h->lo == h->hi) {
        if (ex.cause != SIM_EXIT_EMPTY || h->popped != -1)
            h->mismatches++;
        return;
    }
    if (h->popped != h->ref[h->lo].id || sim_now(&h->sim) != h->ref[h->lo].when)
        h->mismatches++;
    if (h->popped >= 0)
        h->pending[h->popped] = 0;
    h->lo++;
}

/* ops operations: schedule 40%, pop 35%, reschedule 15%, deschedule 10%. */
static void harness_run(struct harness *h, int ops)
{
    for (int i = 0; i < ops && h->mismatches == 0; i++) {
        uint64_t r = sim_rng_below(&h->rng, 100);
        int id;

        if (r < 40 && (id = pick(h, 0)) >= 0)
            op_schedule(h, id);
        else if (r >= 40 && r < 55 && (id = pick(h, 1)) >= 0)
            op_reschedule(h, id);
        else if (r >= 55 && r < 65 && (id = pick(h, 1)) >= 0)
            op_deschedule(h, id);
        else
            op_pop(h);
        if ((int)sim_events_pending(&h->sim) != h->hi - h->lo)
            h->mismatches++;
    }
    while (h->lo < h->hi && h->mismatches == 0)
        op_pop(h);
    CU_ASSERT_EQUAL(h->mismatches, 0);
    CU_ASSERT_EQUAL(sim_events_pending(&h->sim), 0);
}

static sim_tick_t delay_exponential(struct harness *h)
{
    return (sim_tick_t)sim_rng_exponential(&h->rng, 1e6);
}

static sim_tick_t delay_ties(struct harness *h)
{
    return sim_rng_below(&h->rng, 4);
}

static sim_tick_t delay_mixed(struct harness *h)
{
    uint64_t r = sim_rng_below(&h->rng, 100);

    if (r < 50)
        return sim_rng_below(&h->rng, 64);                 /* clusters */
    if (r < 85)
        return (sim_tick_t)sim_rng_exponential(&h->rng, 1e5);
    if (r < 98)
        return sim_rng_below(&h->rng, UINT64_C(1) << 40);
    return UINT64_C(1) << 60;                               /* far future */
}

void test_eventq_random_vs_sorted_list(void)
{
    struct harness h;

    harness_init(&h, 3000, 1, delay_exponential);
    harness_run(&h, 100000);
    harness_destroy(&h);
    harness_init(&h, 3000, 2, delay_mixed);
    harness_run(&h, 100000);
    harness_destroy(&h);
}

void test_eventq_random_heavy_ties(void)
{
    struct harness h;

    harness_init(&h, 2000, 3, delay_ties);
    harness_run(&h, 100000);
    harness_destroy(&h);
}

static sim_tick_t delay_clustered(struct harness *h)
{
    /* 40 clusters a million ticks apart, each 4096 ticks wide: buckets of a
     * coarse rung overflow and split, and split again. */
    return sim_rng_below(&h->rng, 40) * 1000000 + sim_rng_below(&h->rng, 4096);
}

void test_eventq_burst_deep_rungs(void)
{
    struct harness h;

    harness_init(&h, 20000, 4, delay_clustered);
    for (int id = 0; id < h.nev; id++)
        op_schedule(&h, id);
    harness_run(&h, 60000);
    harness_destroy(&h);
}

static sim_tick_t delay_outliers(struct harness *h)
{
    uint64_t r = sim_rng_below(&h->rng, 1000);

    if (r == 0)
        return SIM_TICK_MAX - 2 - sim_now(&h->sim);         /* the last tick */
    if (r < 5)
        return UINT64_C(1) << 62;
    return sim_rng_below(&h->rng, 1000);
}

void test_eventq_far_future_outliers(void)
{
    struct harness h;

    harness_init(&h, 2000, 5, delay_outliers);
    harness_run(&h, 50000);
    harness_destroy(&h);
}

/*
 * The mixes above rarely hold more than a few hundred events, so rung 0 and
 * its inbox (inserts placed in their buckets in batches) barely appear. Here
 * 5000 events start scheduled and the mix drains them over 10^5 operations
 * (schedules 40%, pops and deschedules 45%): the ladder is exercised from
 * thousands of events in rungs down to the small all-heap case, with inbox
 * events descheduled, rescheduled and placed ahead of rung 0's scan.
 */
void test_eventq_random_large_population(void)
{
    struct harness h;

    harness_init(&h, 5000, 6, delay_exponential);
    for (int id = 0; id < h.nev; id++)
        op_schedule(&h, id);
    harness_run(&h, 100000);
    harness_destroy(&h);
    harness_init(&h, 5000, 7, delay_mixed);
    for (int id = 0; id < h.nev; id++)
        op_schedule(&h, id);
    harness_run(&h, 100000);
    harness_destroy(&h);
}

/*
 * A queue that starts small is all heap (nothing goes through top); it must
 * hand over to the ladder as it grows. Grow 50 pending events to 6000, three
 * schedules per pop, checking every pop, then drain with the usual mix.
 */
void test_eventq_grow_from_small(void)
{
    struct harness h;

    for (int mix = 0; mix < 2; mix++) {
        harness_init(&h, 6000, 8 + (uint64_t)mix, mix ? delay_mixed : delay_exponential);
        for (int id = 0; id < 50; id++)
            op_schedule(&h, id);
        op_pop(&h);                     /* the first refill: all heap */
        for (int id = 50; id < h.nev && h.mismatches == 0; id++) {
            op_schedule(&h, id);
            if (id % 3 == 0)
                op_pop(&h);
        }
        harness_run(&h, 100000);
        harness_destroy(&h);
    }
}
