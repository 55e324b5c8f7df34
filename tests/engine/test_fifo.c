/*
 * test_fifo.c - the timed FIFO (engine/fifo.h) runs jobs exactly as if each
 * had been scheduled on its own when it was pushed.
 *
 * The reference is the plain event set: the same randomized world is run
 * twice, once scheduling every job as its own event and once through one
 * sim_fifo per server, and the two logs of (job, tick) must be identical.
 * Job callbacks draw from one random stream and spawn further jobs, so any
 * difference in firing order changes everything after it.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/fifo.h"
#include "engine/rng.h"
#include "engine/sim.h"
#include "testutil.h"

void test_fifo_same_run_as_plain_events(void);
void test_fifo_out_of_order_and_errors(void);

#define SERVERS 3
#define MAXJOBS 6000

struct world;

struct job {
    struct sim_event ev;            /* the reference run's own event */
    struct sim_fifo_item it;        /* the fifo run's item */
    struct world *w;
    int id;
};

struct world {
    struct sim sim;
    struct sim_rng rng;
    bool use_fifo;
    struct sim_fifo fifo[SERVERS];
    sim_tick_t busy[SERVERS];
    struct job *jobs;
    int njobs;
    int *log_id;
    sim_tick_t *log_tick;
    int nlog;
    uint64_t max_pending;
    int out_of_order;               /* pushes earlier than their server's latest */
    sim_tick_t last[SERVERS];
};

static void job_run(struct job *j);

static void job_event(struct sim_event *ev, void *arg)
{
    (void)ev;
    job_run(arg);
}

static void fifo_fire(struct sim_fifo *f, struct sim_fifo_item *it)
{
    (void)f;
    job_run((struct job *)((char *)it - offsetof(struct job, it)));
}

static void spawn(struct world *w)
{
    struct job *j;
    sim_tick_t now = sim_now(&w->sim), when;
    unsigned k;

    if (w->njobs == MAXJOBS)
        return;
    j = &w->jobs[w->njobs];
    j->w = w;
    j->id = w->njobs++;
    sim_event_init(&j->ev, job_event, j, SIM_PRIO_DEFAULT);
    k = (unsigned)sim_rng_below(&w->rng, SERVERS);
    if (sim_rng_below(&w->rng, 8) == 0) {
        /* An urgent job: may land before what the server already holds. */
        when = now + 10 * sim_rng_below(&w->rng, 3);
    } else {
        /* FIFO service in steps of 10 ticks: many equal ticks, across
         * servers and with the other events. */
        when = (w->busy[k] > now ? w->busy[k] : now) + 10 * sim_rng_below(&w->rng, 4);
        w->busy[k] = when;
    }
    if (w->use_fifo) {
        if (sim_fifo_len(&w->fifo[k]) && when < w->last[k])
            w->out_of_order++;
        CU_ASSERT_EQUAL_FATAL(sim_fifo_push(&w->fifo[k], &j->it, when), 0);
    } else {
        CU_ASSERT_EQUAL_FATAL(sim_event_schedule(&w->sim, &j->ev, when), 0);
    }
    if (when > w->last[k])
        w->last[k] = when;
    /* A plain event at a tick jobs may share, in both runs. */
    if (sim_rng_below(&w->rng, 4) == 0 && w->njobs < MAXJOBS) {
        struct job *o = &w->jobs[w->njobs];

        o->w = w;
        o->id = w->njobs++;
        sim_event_init(&o->ev, job_event, o, SIM_PRIO_DEFAULT);
        CU_ASSERT_EQUAL_FATAL(sim_event_schedule(&w->sim, &o->ev,
                                                 now + 10 * sim_rng_below(&w->rng, 6)), 0);
    }
}

static void job_run(struct job *j)
{
    struct world *w = j->w;
    uint64_t pending = sim_events_pending(&w->sim);

    w->log_id[w->nlog] = j->id;
    w->log_tick[w->nlog++] = sim_now(&w->sim);
    if (pending > w->max_pending)
        w->max_pending = pending;
    /* 0, 1 or 2 children, 1 on average: the population stays steady. */
    for (uint64_t n = sim_rng_below(&w->rng, 3); n > 0; n--)
        spawn(w);
}

static void world_run(struct world *w, bool use_fifo)
{
    memset(w, 0, sizeof(*w));
    sim_init(&w->sim);
    sim_rng_seed(&w->rng, 42, "test.fifo");
    w->use_fifo = use_fifo;
    for (unsigned k = 0; k < SERVERS; k++)
        sim_fifo_init(&w->fifo[k], &w->sim, fifo_fire, w, SIM_PRIO_DEFAULT);
    w->jobs = calloc(MAXJOBS, sizeof(*w->jobs));
    w->log_id = calloc(MAXJOBS, sizeof(*w->log_id));
    w->log_tick = calloc(MAXJOBS, sizeof(*w->log_tick));
    CU_ASSERT_FATAL(w->jobs && w->log_id && w->log_tick);
    for (int i = 0; i < 200; i++)
        spawn(w);
    sim_run(&w->sim);
}

static void world_free(struct world *w)
{
    sim_destroy(&w->sim);
    free(w->jobs);
    free(w->log_id);
    free(w->log_tick);
}

void test_fifo_same_run_as_plain_events(void)
{
    static struct world ref, fif;
    int same = 1;

    world_run(&ref, false);
    world_run(&fif, true);
    CU_ASSERT_EQUAL(fif.nlog, ref.nlog);
    CU_ASSERT(ref.nlog > MAXJOBS / 2);      /* the world did run */
    for (int i = 0; i < ref.nlog && i < fif.nlog && same; i++)
        if (ref.log_id[i] != fif.log_id[i] || ref.log_tick[i] != fif.log_tick[i]) {
            fprintf(stderr, "\n    step %d: job %d at %llu, want job %d at %llu\n", i,
                    fif.log_id[i], (unsigned long long)fif.log_tick[i], ref.log_id[i],
                    (unsigned long long)ref.log_tick[i]);
            same = 0;
        }
    CU_ASSERT(same);
    /* The point of the structure: the event set held fewer events. */
    CU_ASSERT(fif.max_pending < ref.max_pending);
    /* The urgent jobs exercised the ordered insert and the new-head path. */
    CU_ASSERT(fif.out_of_order > 10);
    for (unsigned k = 0; k < SERVERS; k++)
        CU_ASSERT_EQUAL(sim_fifo_len(&fif.fifo[k]), 0);
    world_free(&ref);
    world_free(&fif);
}

struct rec {
    struct sim_fifo_item it;
    int id;
    int *log, *n;
};

static void rec_fire(struct sim_fifo *f, struct sim_fifo_item *it)
{
    struct rec *r = (struct rec *)it;

    (void)f;
    r->log[(*r->n)++] = r->id;
}

void test_fifo_out_of_order_and_errors(void)
{
    struct sim s;
    struct sim_fifo f;
    struct rec r[5];
    int log[8], n = 0;
    /* Pushed in this order at these ticks: 30, 10, 20, 10, 40. Order by
     * (tick, push order): ids 1 (10), 3 (10), 2 (20), 0 (30), 4 (40). */
    static const sim_tick_t when[5] = { 30, 10, 20, 10, 40 };
    static const int want[5] = { 1, 3, 2, 0, 4 };

    sim_init(&s);
    sim_fifo_init(&f, &s, rec_fire, NULL, SIM_PRIO_DEFAULT);
    for (int i = 0; i < 5; i++) {
        r[i] = (struct rec){ .id = i, .log = log, .n = &n };
        CU_ASSERT_EQUAL(sim_fifo_push(&f, &r[i].it, when[i]), 0);
    }
    CU_ASSERT_EQUAL(sim_fifo_len(&f), 5);
    CU_ASSERT_EQUAL(sim_events_pending(&s), 1);    /* one event for all five */
    sim_run_until(&s, 15, 0);
    CU_ASSERT_EQUAL(n, 2);
    /* The past is refused and nothing is queued. */
    CU_ASSERT_EQUAL(sim_fifo_push(&f, &r[0].it, 14), SIM_EPAST);
    CU_ASSERT_EQUAL(sim_fifo_push(&f, &r[0].it, SIM_TICK_MAX), SIM_ERANGE);
    CU_ASSERT_EQUAL(sim_fifo_len(&f), 3);
    sim_run(&s);
    CU_ASSERT_EQUAL_FATAL(n, 5);
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(log[i], want[i]);
    /* clear: queued jobs never fire and the event set is left empty. */
    CU_ASSERT_EQUAL(sim_fifo_push(&f, &r[0].it, sim_now(&s) + 5), 0);
    CU_ASSERT_EQUAL(sim_fifo_push(&f, &r[1].it, sim_now(&s) + 6), 0);
    sim_fifo_clear(&f);
    CU_ASSERT_EQUAL(sim_events_pending(&s), 0);
    sim_run(&s);
    CU_ASSERT_EQUAL(n, 5);
    sim_destroy(&s);
}
