/*
 * resource.h - sim_resource: N identical servers in front of one FIFO queue.
 *
 * The one way iommusim models contention: page-table walkers, memory
 * channels, IOTLB lookup ports, a consumer's notifier worker, a VFIO
 * container lock. Validating sim_resource against M/M/1 and M/D/1 closed
 * forms (tests/engine/test_resource.c) validates every one of them at once.
 *
 * Two ways to use a resource (pick one per resource; mixing returns
 * SIM_ESTATE):
 *
 *  - acquire/release, for holders whose hold time is only known when they
 *    finish (a walker holds a walk slot across several timed memory reads):
 *    sim_resource_acquire() either grants at once (returns 1) or queues the
 *    caller-owned request (returns 0) and calls its `granted` callback later,
 *    from inside the sim_resource_release() that frees a server. No events,
 *    no allocation.
 *
 *  - reserve, for work whose service time is known on arrival (a memory
 *    channel transfer of B bytes, a notifier callback of fixed cost):
 *    sim_resource_reserve() returns the tick at which the work completes.
 *    Because arrivals come in time order and the queue is FIFO, a request's
 *    start time is known on arrival (the earliest instant a server frees), so
 *    this mode needs no request storage and no events: O(servers) per call.
 *
 * Statistics are plain inline counters so that the stats layer can register
 * them by address: wait time (count, sum, sum of squares, max, a log2
 * histogram in ticks), busy server-time, time-weighted queue length. In
 * reserve mode busy time and queue area are booked at arrival (Little's law
 * gives the same integral once the work has finished), so a snapshot taken
 * while work is pending is ahead by at most that pending work.
 */
#ifndef SIM_RESOURCE_H
#define SIM_RESOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/sim.h"

struct sim_resource_req;
typedef void (*sim_resource_granted_cb)(struct sim_resource_req *req);

/* A queued acquire. Caller-owned; must stay valid until granted. */
struct sim_resource_req {
    sim_resource_granted_cb granted;    /* called when a queued req gets a server */
    void *arg;                          /* for the caller */
    /* private */
    struct sim_resource_req *next;
    sim_tick_t enq;
};

#define SIM_RESOURCE_HIST_BINS 48       /* log2 bins of wait ticks; bin 0: wait 0 */

struct sim_resource_stats {
    uint64_t requests;                  /* acquires + reserves */
    uint64_t immediate;                 /* granted without waiting */
    uint64_t waits;                     /* requests that have started service */
    double wait_sum;                    /* ticks */
    double wait_sumsq;
    sim_tick_t wait_max;
    uint64_t wait_hist[SIM_RESOURCE_HIST_BINS]; /* bin b: wait in [2^(b-1), 2^b) */
    double busy_area;                   /* server-ticks busy */
    double queue_area;                  /* queue-length x ticks */
    uint64_t queue_max;
    sim_tick_t since;                   /* when these stats were reset */
};

enum sim_resource_mode { SIM_RESOURCE_UNUSED = 0, SIM_RESOURCE_ACQUIRE, SIM_RESOURCE_RESERVE };

struct sim_resource {
    struct sim *sim;
    unsigned servers;
    unsigned busy;                      /* acquire mode: servers held */
    enum sim_resource_mode mode;
    struct sim_resource_req *head, *tail;
    uint64_t qlen;
    sim_tick_t last;                    /* acquire mode: last area update */
    sim_tick_t *free_at;                /* reserve mode: per server */
    struct sim_resource_stats st;
};

/* SIM_EINVAL if servers == 0, SIM_ENOMEM. */
int sim_resource_init(struct sim_resource *r, struct sim *sim, unsigned servers);
void sim_resource_destroy(struct sim_resource *r);

/*
 * Ask for a server. Returns 1 when granted now (the callback is NOT called),
 * 0 when queued (req->granted runs later, at the grant), or SIM_ESTATE if
 * the resource is used in reserve mode.
 */
int sim_resource_acquire(struct sim_resource *r, struct sim_resource_req *req);

/*
 * Give a server back. If requests wait, the first is granted now and its
 * callback runs before this returns. SIM_ESTATE if nothing is held.
 */
int sim_resource_release(struct sim_resource *r);

/*
 * Reserve mode: work of `service` ticks arriving now. Returns the completion
 * tick (start + service); *wait (may be NULL) gets the queueing delay.
 * Returns SIM_TICK_MAX on a mode mix-up (never a valid completion).
 */
sim_tick_t sim_resource_reserve(struct sim_resource *r, sim_tick_t service,
                                sim_tick_t *wait);

/*
 * Reserve mode: the same for work arriving at @arrival (a tick before now
 * counts as now), e.g. a notifier user that runs inside a model's queued
 * processing, which starts later than the event is sent; *wait is measured
 * from @arrival.
 */
sim_tick_t sim_resource_reserve_at(struct sim_resource *r, sim_tick_t arrival,
                                   sim_tick_t service, sim_tick_t *wait);

/*
 * Reserve mode: the tick at which work arriving now would start, i.e. the
 * start the next sim_resource_reserve() books. For holders whose service
 * time depends on when they start (a VFIO container-lock holder issues
 * host IOMMU work timed from its start). Changes nothing.
 */
sim_tick_t sim_resource_next_start(const struct sim_resource *r);

/* The same for work arriving at @arrival (before now: now). */
sim_tick_t sim_resource_next_start_at(const struct sim_resource *r, sim_tick_t arrival);

/* Bring the time integrals up to now (acquire mode) before reading stats. */
void sim_resource_sync(struct sim_resource *r);

/* Mean servers busy over [since, now] divided by servers. */
double sim_resource_utilisation(struct sim_resource *r);
double sim_resource_mean_wait(const struct sim_resource *r);
double sim_resource_mean_queue(struct sim_resource *r);

void sim_resource_reset_stats(struct sim_resource *r);

static inline unsigned sim_resource_queued(const struct sim_resource *r)
{
    return (unsigned)r->qlen;
}

#endif /* SIM_RESOURCE_H */
