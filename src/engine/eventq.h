/*
 * eventq.h - the pending-event set: a ladder queue with chunked buckets.
 *
 * Design source: W. T. Tang, R. S. M. Goh, I. L.-J. Thng, "Ladder Queue: An
 * O(1) Priority Queue Structure for Large-Scale Discrete Event Simulation",
 * ACM TOMACS 15(3), 2005. Three tiers:
 *
 *   top     an unsorted array of far-future events (O(1) insert);
 *   rungs   bucket arrays, each bucket an unsorted set covering a time slice;
 *           a bucket that is too full when reached is split into a finer rung;
 *   bottom  a small binary heap holding the events about to run, ordered by
 *           the full key (time, priority, sequence).
 *
 * Tiers are separated strictly by time (bottom < deepest rung's current
 * bucket < ... < top), so the only place ties are broken is the bottom heap,
 * which breaks them by the full key: the order is exactly the one event.h
 * states, independent of memory addresses or bucket layout.
 *
 * Departures from the paper, all for memory behaviour at 10^6 events:
 *  - A bucket is a list of 64-byte chunks of three (time, event) entries,
 *    not a linked list of events, and top is an array of such entries.
 *    Moving events between tiers then reads arrays, not the scattered
 *    events: no chain of dependent cache misses, and writes to an event's
 *    position fields are stores the CPU does not wait for. Chunks come from
 *    a pool that grows by slabs and never shrinks, so the steady state
 *    allocates nothing.
 *  - Bucket widths are powers of two (a bucket index is a shift), and rung
 *    0's width comes from the density of the earliest events, not from
 *    top's whole span, so early buckets hold an event or two even when
 *    pending times are far from uniform (events past the buckets that
 *    allows stay in top for a later rung).
 *  - While top holds at most LADDER_SMALL events a refill heaps them all: a
 *    heap that small lives in L1 and beats the ladder's extra moves. The
 *    queue then stays all heap (every insert goes there) until the heap
 *    holds LADDER_SMALL events, when top restarts after the heap's latest.
 *  - Inserts bound for rung 0 wait in a small inbox and reach their buckets
 *    in batches, with the bucket words and chunks prefetched: one insert's
 *    random bucket-word read would stall the callback that scheduled it.
 *  - A pop leaves its slot at the heap's root; a callback that schedules
 *    its successor then costs one sift-down instead of a sift-down and a
 *    sift-up (see heap_push in eventq.c).
 *
 * Costs: insert and remove O(1); a pop O(1) amortised plus O(log b) in the
 * bottom heap (b is about LADDER_THRES, or LADDER_SMALL in a small queue).
 * Memory: 48 bytes per event (in the owner), a heap and a top slot per event
 * (40 bytes), one pointer per bucket, one 64-byte chunk per three bucketed
 * events (at worst one per bucket) and a 2 KiB inbox in the queue itself.
 */
#ifndef SIM_EVENTQ_H
#define SIM_EVENTQ_H

#include <stddef.h>
#include <stdint.h>

#include "engine/event.h"

#define SIM_EVQ_MAX_RUNGS 8
#define SIM_EVQ_CHUNK_SLOTS 3
#define SIM_EVQ_INBOX_SLOTS 128     /* rung-0 inserts placed in one batch */

/* An event with its time beside it, so that moving events between tiers
 * reads only the arrays, never the (cold) events themselves. */
struct sim_evq_entry {
    sim_tick_t when;
    struct sim_event *ev;
};

/*
 * A bucket is a list of chunks: a header and three entries, one cache line.
 * Only a bucket's head chunk may be partly filled, and its fill count is kept
 * in the low bits of the bucket's pointer to it (chunks are 64-byte aligned),
 * so adding an event reads only the bucket array and merely writes the chunk:
 * a store the CPU does not wait for. Removing an event moves the head chunk's
 * last entry into the hole, so a bucket of k events is ceil(k/3) chunks
 * however it was built.
 */
struct sim_evq_chunk {
    struct sim_evq_chunk *next;     /* older chunks of the bucket, all full */
    uint64_t bucket;                /* index of its bucket in its rung */
    struct sim_evq_entry e[SIM_EVQ_CHUNK_SLOTS];
};

/* A bottom-heap slot: the event's key beside it. */
struct sim_evq_slot {
    sim_tick_t when;
    uint64_t order;
    struct sim_event *ev;
};

struct sim_evq_rung {
    uintptr_t *bucket;              /* nb chunk lists: head | head's fill */
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
    /* bottom: binary heap by (when, order), keys kept inline so that
     * comparisons never touch an event; an event's idx is its slot */
    struct sim_evq_slot *heap;
    size_t heap_len;
    size_t heap_cap;
    int dead_root;                  /* heap[0] was popped, not yet removed */
    /* A small all-heap queue keeps the bottom sorted instead, the earliest
     * at heap[base] (see SORTED_MAX in eventq.c); base is 0 in a heap. */
    int sorted;
    size_t base;

    /* rungs 0 .. nrungs-1; rung nrungs-1 is the finest */
    struct sim_evq_rung rung[SIM_EVQ_MAX_RUNGS];
    unsigned nrungs;

    /*
     * Inserts bound for rung 0 wait here and are put in their buckets in
     * batches, before rung 0 reaches the earliest of them: a bucket word
     * is a random read in an array of up to n words, and in a batch those
     * reads are prefetched and overlap instead of each stalling an insert.
     * An event's idx is its slot; these events count in rung 0's count.
     */
    uint32_t inbox_len;
    sim_tick_t inbox_min;           /* at most the earliest (only lowered) */
    struct sim_evq_entry inbox[SIM_EVQ_INBOX_SLOTS];

    /* top: an unsorted array; an event's idx is its slot */
    struct sim_evq_entry *top;
    size_t top_len;
    size_t top_cap;
    sim_tick_t top_min;
    sim_tick_t top_max;
    sim_tick_t top_start;           /* events at or after this go to top */

    /* Small-queue mode: no rungs, top empty and unused, every insert goes
     * to the heap until it holds LADDER_SMALL events (see eventq.c). */
    int heap_only;
    sim_tick_t heap_max;            /* at least the latest heap event's time */

    /* chunk pool: a stack of free chunks (popping one reads no chunk) */
    struct sim_evq_chunk **free_stack;
    size_t nfree_chunks;
    size_t nchunks;                 /* chunks in all slabs = stack capacity */
    void *slabs;                    /* list of slabs, for destroy */

    size_t count;                   /* all pending events */
    size_t room;                    /* count may grow to this without allocating */
};

void sim_eventq_init(struct sim_eventq *q);
void sim_eventq_destroy(struct sim_eventq *q);

/*
 * Make room for one more event; call before sim_eventq_insert(). This is
 * where the queue allocates, and only when it is larger than ever before.
 * Returns 0 or SIM_ENOMEM (the queue is unchanged).
 */
static inline int sim_eventq_reserve(struct sim_eventq *q);

/* The slow path of sim_eventq_reserve(): grow the arrays and the pool. */
int sim_eventq_grow(struct sim_eventq *q);

static inline int sim_eventq_reserve(struct sim_eventq *q)
{
    /* free chunks: one per inbox entry (for its batch) and one to insert */
    if (__builtin_expect(q->count < q->room && q->nfree_chunks > q->inbox_len, 1))
        return 0;
    return sim_eventq_grow(q);
}

/* Insert ev, whose when and order are set; room must have been reserved. */
void sim_eventq_insert(struct sim_eventq *q, struct sim_event *ev);

/* Remove a scheduled ev from wherever it is. */
void sim_eventq_remove(struct sim_eventq *q, struct sim_event *ev);

/* The first event, or NULL when empty. It stays in the queue. */
struct sim_event *sim_eventq_peek(struct sim_eventq *q);

/* The general case of sim_eventq_pop_until(). */
struct sim_event *sim_eventq_pop_slow(struct sim_eventq *q, sim_tick_t limit);

/*
 * Remove and return the first event if it is due at or before limit. The
 * common case (the bottom heap is settled and not empty) is inline: it is
 * once per event in the run loop. The popped slot stays at the root, dead,
 * until the next heap operation (see heap_push in eventq.c).
 */
static inline struct sim_event *sim_eventq_pop_until(struct sim_eventq *q,
                                                     sim_tick_t limit)
{
    struct sim_event *ev;

    if (q->sorted) {
        const struct sim_evq_slot *s = &q->heap[q->base];

        if (__builtin_expect(q->heap_len == 0, 0))
            return sim_eventq_pop_slow(q, limit);
        if (s->when > limit)
            return NULL;
        ev = s->ev;
        q->base++;
        q->heap_len--;
        q->count--;
        ev->where = SIM_EVQ_NONE;
        return ev;
    }
    if (__builtin_expect(q->dead_root || q->heap_len == 0, 0))
        return sim_eventq_pop_slow(q, limit);
    if (q->heap[0].when > limit)
        return NULL;
    ev = q->heap[0].ev;
    q->dead_root = 1;
    q->count--;
    ev->where = SIM_EVQ_NONE;
    return ev;
}

static inline size_t sim_eventq_count(const struct sim_eventq *q)
{
    return q->count;
}

#endif /* SIM_EVENTQ_H */
