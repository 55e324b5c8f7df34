/*
 * fifo.h - a timed FIFO: events in time order that occupy one slot of the
 * event set between them.
 *
 * Many models complete work in the order they accepted it: a CPU that runs
 * a driver's unmaps one after another, a server whose jobs finish FIFO. Each
 * job's completion tick is known when it is accepted, so each could be an
 * event; but then every queued job sits in the event set, and a CPU with a
 * backlog of 200 jobs makes every other event's push and pop a level or two
 * deeper (the binary heap's cost is log2 of the pending count). A
 * sim_fifo keeps its jobs in a list instead and schedules only the earliest:
 * when that one fires, the next takes its place.
 *
 * Exactly the same run, not an approximation: sim_fifo_push() takes the
 * job's place in the engine's FIFO order at the moment it is pushed
 * (sim_event_order_take), and the head is scheduled with that place
 * (sim_event_schedule_as). Every job therefore runs at the same tick and in
 * the same order relative to every other event as if it had been scheduled
 * on its own at push time; the statistics of a model that switches to a
 * sim_fifo do not change by one bit.
 *
 * Jobs normally come in non-decreasing tick order (append: O(1)). One that
 * does not is placed in order by a walk from the head (O(backlog)), and a
 * new earliest job reschedules the head event; both are correct, just not
 * the case the structure is for.
 *
 * Items are caller-owned and embedded (no allocation). One item is in at
 * most one fifo at a time; removing a job that was pushed is not supported
 * (no user needs it; sim_fifo_clear empties the whole fifo).
 */
#ifndef SIM_FIFO_H
#define SIM_FIFO_H

#include <stddef.h>
#include <stdint.h>

#include "engine/sim.h"

struct sim_fifo;
struct sim_fifo_item;

/* A job is due: called from the fifo's event, the item already removed
 * (the callback may push it again). */
typedef void (*sim_fifo_fn)(struct sim_fifo *f, struct sim_fifo_item *it);

struct sim_fifo_item {
    struct sim_fifo_item *next;     /* private */
    sim_tick_t when;                /* private: due tick */
    uint64_t order;                 /* private: FIFO place taken at push */
};

struct sim_fifo {
    struct sim *sim;
    sim_fifo_fn fire;
    void *ctx;                      /* for the owner's use */
    struct sim_event ev;            /* scheduled at head's (when, order) */
    struct sim_fifo_item *head, *tail;
    size_t len;
};

void sim_fifo_init(struct sim_fifo *f, struct sim *sim, sim_fifo_fn fire, void *ctx, int prio);

/*
 * Queue @it to fire at tick @when (>= sim_now()). Errors as
 * sim_event_schedule(): SIM_EPAST, SIM_ERANGE (SIM_TICK_MAX), SIM_ENOMEM;
 * on an error nothing is queued.
 */
int sim_fifo_push(struct sim_fifo *f, struct sim_fifo_item *it, sim_tick_t when);

/* Drop every queued job (their items are the owners'; none fires). */
void sim_fifo_clear(struct sim_fifo *f);

static inline size_t sim_fifo_len(const struct sim_fifo *f)
{
    return f->len;
}

#endif /* SIM_FIFO_H */
