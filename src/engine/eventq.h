/*
 * eventq.h - the pending-event set: a ladder queue.
 *
 * Design source: W. T. Tang, R. S. M. Goh, I. L.-J. Thng, "Ladder Queue: An
 * O(1) Priority Queue Structure for Large-Scale Discrete Event Simulation",
 * ACM TOMACS 15(3), 2005. Three tiers:
 *
 *   top     an unsorted list of far-future events (O(1) insert);
 *   rungs   bucket arrays, each bucket an unsorted list covering a time slice;
 *           a bucket that is too full when reached is split into a finer rung;
 *   bottom  a small binary heap holding the events about to run, ordered by
 *           the full key (time, priority, sequence).
 *
 * Tiers are separated strictly by time (bottom < deepest rung's current
 * bucket < ... < top), so the only place ties are broken is the bottom heap,
 * which breaks them by the full key: the order is exactly the one event.h
 * states, independent of memory addresses or bucket layout.
 *
 * Costs: insert and remove O(1) amortised for the bucketed tiers, O(log b) in
 * the bottom (b is small, about LADDER_THRES); a pop is O(1) amortised. Memory
 * is one pointer per bucket plus one heap slot per event, allocated only when
 * the queue grows past its previous peak: steady state allocates nothing.
 * A plain binary heap touches log2(N) cache lines per operation; at 10^6
 * pending events that is what makes it memory-bound (see docs/performance.md).
 */
#ifndef SIM_EVENTQ_H
#define SIM_EVENTQ_H

#include <stddef.h>
#include <stdint.h>

#include "engine/event.h"

#define SIM_EVQ_MAX_RUNGS 8

struct sim_evq_rung {
    struct sim_event **bucket;      /* nb hlist heads */
    size_t nb;                      /* buckets in use */
    size_t cap;                     /* buckets allocated */
    size_t cur;                     /* first bucket not yet handed down */
    size_t count;                   /* events in this rung */
    sim_tick_t start;               /* time of bucket 0 */
    unsigned shift;                 /* a bucket is 2^shift ticks wide */
    sim_tick_t cur_start;           /* start of bucket cur (saturated) */
    sim_tick_t end;                 /* end of the last bucket (saturated) */
};

struct sim_eventq {
    /* bottom: binary heap by (when, order) */
    struct sim_event **heap;
    size_t heap_len;
    size_t heap_cap;

    /* rungs 0 .. nrungs-1; rung nrungs-1 is the finest */
    struct sim_evq_rung rung[SIM_EVQ_MAX_RUNGS];
    unsigned nrungs;

    /* top: an unsorted array; an event's heap_idx is its index here */
    struct sim_event **top;
    size_t top_len;
    size_t top_cap;
    sim_tick_t top_min;
    sim_tick_t top_max;
    sim_tick_t top_start;           /* events at or after this go to top */

    size_t count;                   /* all pending events */
};

void sim_eventq_init(struct sim_eventq *q);
void sim_eventq_destroy(struct sim_eventq *q);

/*
 * Make room for one more event; call before sim_eventq_insert(). This is
 * where the queue allocates, and only when it is larger than ever before.
 * Returns 0 or SIM_ENOMEM (the queue is unchanged).
 */
int sim_eventq_reserve(struct sim_eventq *q);

/* Insert ev, whose when and order are set; room must have been reserved. */
void sim_eventq_insert(struct sim_eventq *q, struct sim_event *ev);

/* Remove a scheduled ev from wherever it is. */
void sim_eventq_remove(struct sim_eventq *q, struct sim_event *ev);

/* The first event, or NULL when empty. It stays in the queue. */
struct sim_event *sim_eventq_peek(struct sim_eventq *q);

/* Remove and return the first event if it is due at or before limit. */
struct sim_event *sim_eventq_pop_until(struct sim_eventq *q, sim_tick_t limit);

static inline size_t sim_eventq_count(const struct sim_eventq *q)
{
    return q->count;
}

#endif /* SIM_EVENTQ_H */
