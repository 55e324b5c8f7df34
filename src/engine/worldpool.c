/*
 * worldpool.c - a world's event sets on several threads (see worldpool.h).
 *
 * One mutex guards the run's bookkeeping (the generation that wakes the
 * workers, how many threads are still busy, the first stop's reason); the
 * hand-out of sets, the abort flag, the event count and each set's
 * published time are atomics, touched once per slice. A set's own state is
 * only ever touched by the one thread that took it in this run, and the
 * mutex round at the end of a run orders all of it before the caller reads
 * the world again.
 */
#include "engine/worldpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "engine/error.h"

struct sim_world_pool {
    struct sim_world *w;
    unsigned nworkers;
    pthread_t *tid;
    pthread_mutex_t mu;
    pthread_cond_t go;              /* a new run (or quit) for the workers */
    pthread_cond_t idle;            /* the last busy thread finished */
    uint64_t gen;                   /* run number, under mu */
    int quit;                       /* under mu */
    unsigned busy;                  /* threads in the current run, under mu */
    const char *stop_reason;        /* first sim_stop of the run, under mu */
    /* The current run. */
    sim_tick_t limit;
    uint64_t order_bound, slice;
    atomic_uint next;               /* the next set to hand out */
    atomic_int abort;
    atomic_uint_fast64_t events;
    _Atomic sim_tick_t *tick;       /* per set: its time after its last slice */
    sim_world_poll_fn poll;         /* the caller's, called by the caller only */
    void *poll_ctx;
    int polled;                     /* poll asked to stop (caller only) */
};

/* Take sets and run each to the key, slice by slice, until none is left or
 * the run is stopped. `caller`: this is the calling thread, which polls. */
static void run_sets(struct sim_world_pool *p, int caller)
{
    unsigned n = sim_world_nsets(p->w);

    while (!atomic_load(&p->abort)) {
        unsigned i = atomic_fetch_add(&p->next, 1);
        struct sim *s;

        if (i >= n)
            return;
        s = sim_world_set_sim(p->w, i);
        for (;;) {
            struct sim_exit ex = sim_run_before(s, p->limit, p->order_bound, p->slice);

            atomic_fetch_add(&p->events, ex.events);
            atomic_store(&p->tick[i], sim_now(s));
            if (ex.cause == SIM_EXIT_STOP) {
                pthread_mutex_lock(&p->mu);
                if (!p->stop_reason)
                    p->stop_reason = ex.reason;
                pthread_mutex_unlock(&p->mu);
                atomic_store(&p->abort, 1);
                return;
            }
            if (ex.cause != SIM_EXIT_MAX_EVENTS)
                break;              /* this set is at the key */
            if (caller && p->poll && p->poll(p->poll_ctx)) {
                p->polled = 1;
                atomic_store(&p->abort, 1);
            }
            if (atomic_load(&p->abort))
                return;
        }
    }
}

static void *worker_main(void *arg)
{
    struct sim_world_pool *p = arg;
    uint64_t seen = 0;

    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->quit && p->gen == seen)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);

        run_sets(p, 0);

        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->idle);
        pthread_mutex_unlock(&p->mu);
    }
}

int sim_world_pool_start(struct sim_world_pool **pool, struct sim_world *w, unsigned threads)
{
    struct sim_world_pool *p;

    *pool = NULL;
    if (threads < 2)
        return SIM_EINVAL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return SIM_ENOMEM;
    p->w = w;
    p->tid = calloc(threads - 1, sizeof(*p->tid));
    p->tick = calloc(sim_world_nsets(w), sizeof(*p->tick));
    if (!p->tid || !p->tick) {
        free(p->tid);
        free((void *)p->tick);
        free(p);
        return SIM_ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->idle, NULL);
    for (unsigned i = 0; i < threads - 1; i++) {
        if (pthread_create(&p->tid[i], NULL, worker_main, p) != 0) {
            sim_world_pool_stop(p);
            return SIM_EIO;
        }
        p->nworkers++;
    }
    *pool = p;
    return 0;
}

void sim_world_pool_stop(struct sim_world_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nworkers; i++)
        pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->idle);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->mu);
    free(p->tid);
    free((void *)p->tick);
    free(p);
}

struct sim_exit sim_world_pool_run(struct sim_world_pool *p, sim_tick_t limit,
                                   uint64_t order_bound, uint64_t slice,
                                   sim_world_poll_fn poll, void *ctx, unsigned poll_ms)
{
    struct sim_exit ex = { SIM_EXIT_LIMIT, 0, 0, "reached the tick limit" };

    for (unsigned i = 0; i < sim_world_nsets(p->w); i++)
        atomic_store(&p->tick[i], sim_now(sim_world_set_sim(p->w, i)));
    p->limit = limit;
    p->order_bound = order_bound;
    p->slice = slice ? slice : UINT64_MAX;
    p->poll = poll;
    p->poll_ctx = ctx;
    p->polled = 0;
    atomic_store(&p->next, 0);
    atomic_store(&p->abort, 0);
    atomic_store(&p->events, 0);

    pthread_mutex_lock(&p->mu);
    p->stop_reason = NULL;
    p->busy = p->nworkers + 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);

    run_sets(p, 1);

    /* Wait for the workers, polling every poll_ms meanwhile. */
    pthread_mutex_lock(&p->mu);
    p->busy--;
    while (p->busy) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(poll_ms ? poll_ms : 100) * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        if (pthread_cond_timedwait(&p->idle, &p->mu, &until) == ETIMEDOUT && p->busy &&
            poll && !p->polled) {
            pthread_mutex_unlock(&p->mu);
            if (poll(ctx)) {
                p->polled = 1;
                atomic_store(&p->abort, 1);
            }
            pthread_mutex_lock(&p->mu);
        }
    }
    if (p->stop_reason) {
        ex.cause = SIM_EXIT_STOP;
        ex.reason = p->stop_reason;
    }
    pthread_mutex_unlock(&p->mu);

    if (ex.cause != SIM_EXIT_STOP) {
        if (p->polled) {
            ex.cause = SIM_EXIT_STOP;
            ex.reason = "polled";
        } else {
            sim_world_catch_up(p->w);
            if (sim_world_pending(p->w) == 0) {
                ex.cause = SIM_EXIT_EMPTY;
                ex.reason = "no events left";
            }
        }
    }
    ex.events = atomic_load(&p->events);
    ex.tick = sim_world_now(p->w);
    return ex;
}

uint64_t sim_world_pool_progress(struct sim_world_pool *p, sim_tick_t *mean_tick)
{
    unsigned n = sim_world_nsets(p->w);
    double sum = 0.0;

    for (unsigned i = 0; i < n; i++)
        sum += (double)atomic_load(&p->tick[i]);
    if (mean_tick)
        *mean_tick = (sim_tick_t)(sum / n);
    return atomic_load(&p->events);
}
