/*
 * event.h - the intrusive event.
 *
 * An event is embedded in the object that owns it (a device, a walker, a
 * timer); the engine never allocates or frees one. Initialise it once with
 * sim_event_init(), then schedule it as often as needed. While scheduled, its
 * storage must stay valid; after it has been popped to run (its callback is
 * being called) the engine no longer touches it, so a callback may free its
 * own event, reschedule it, or schedule others.
 *
 * Order, stated once for the whole engine: events run by time, then by
 * priority (lower first), then by the order in which they were scheduled
 * (FIFO). Rescheduling counts as scheduling anew.
 */
#ifndef SIM_EVENT_H
#define SIM_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/tick.h"

struct sim_event;
struct sim_evq_chunk;
typedef void (*sim_event_cb)(struct sim_event *ev, void *arg);

/* Priorities: lower runs first among events at the same tick. */
enum {
    SIM_PRIO_FIRST   = -128,
    SIM_PRIO_DEFAULT = 0,
    SIM_PRIO_STATS   = 100,         /* statistics dumps see the tick's work done */
    SIM_PRIO_LAST    = 127,
};

/* Where a scheduled event lives inside the event set (private). */
enum sim_event_where {
    SIM_EVQ_NONE = 0,
    SIM_EVQ_TOP,
    SIM_EVQ_BOTTOM,
    SIM_EVQ_INBOX,                  /* bound for rung 0, not yet in its bucket */
    SIM_EVQ_RUNG0,                  /* RUNG0 + i: rung i of the ladder */
};

struct sim_event {
    /* Set by sim_event_init(); may be changed while not scheduled. */
    sim_event_cb cb;
    void *arg;
    int8_t prio;

    /* Private to the engine. */
    uint8_t where;                  /* enum sim_event_where */
    uint32_t idx;                   /* slot in the heap, top or chunk */
    sim_tick_t when;
    uint64_t order;                 /* (prio + 128) << 56 | insertion seq */
    struct sim_evq_chunk *chunk;    /* the rung bucket chunk holding it */
};

static inline void sim_event_init(struct sim_event *ev, sim_event_cb cb,
                                  void *arg, int prio)
{
    ev->cb = cb;
    ev->arg = arg;
    ev->prio = (int8_t)prio;
    ev->where = SIM_EVQ_NONE;
    ev->idx = 0;
    ev->when = 0;
    ev->order = 0;
    ev->chunk = 0;
}

static inline bool sim_event_is_scheduled(const struct sim_event *ev)
{
    return ev->where != SIM_EVQ_NONE;
}

/* The tick a scheduled event will run at (meaningless when not scheduled). */
static inline sim_tick_t sim_event_when(const struct sim_event *ev)
{
    return ev->when;
}

/* Strict "a runs before b". */
static inline bool sim_event_before(const struct sim_event *a,
                                    const struct sim_event *b)
{
    return a->when < b->when || (a->when == b->when && a->order < b->order);
}

#endif /* SIM_EVENT_H */
