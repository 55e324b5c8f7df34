/*
 * sim.h - the simulation: simulated time, scheduling and run control.
 *
 * One struct sim is one simulated world, run by one thread. It owns the
 * pending-event set (a ladder queue, eventq.h) and the current tick; it owns
 * no event storage (event.h). Host-side work (timers, child processes,
 * signals) never runs here; it lives in the CLI on libuv.
 *
 * Guarantees:
 *  - Events run by (tick, priority, scheduling order); see event.h.
 *  - Scheduling before sim_now() is an error (SIM_EPAST), never clamped.
 *  - A callback may schedule, deschedule or reschedule any event, including
 *    its own (which is no longer scheduled while its callback runs), and may
 *    free its own event's storage.
 *  - sim_stop() from a callback ends the current run after that callback.
 *  - Nothing on the schedule/run path allocates except sim_eventq_reserve()
 *    growing the queue past its previous peak size.
 */
#ifndef SIM_SIM_H
#define SIM_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/error.h"
#include "engine/event.h"
#include "engine/eventq.h"
#include "engine/tick.h"

/* Why a run returned. */
enum sim_exit_cause {
    SIM_EXIT_LIMIT = 0,     /* reached the requested tick */
    SIM_EXIT_EMPTY,         /* no events left */
    SIM_EXIT_STOP,          /* a callback called sim_stop() */
    SIM_EXIT_MAX_EVENTS,    /* processed the requested number of events */
};

struct sim_exit {
    enum sim_exit_cause cause;
    sim_tick_t tick;        /* sim_now() on return */
    uint64_t events;        /* events processed by this run */
    const char *reason;     /* sim_stop()'s reason, else a fixed text */
};

struct sim {
    struct sim_eventq q;
    sim_tick_t now;
    uint64_t seq;               /* next insertion sequence number */
    uint64_t cur_order;         /* the running event's FIFO place (sim_current_order) */
    uint64_t events;            /* events processed since sim_init() */
    bool stop;
    const char *stop_reason;
};

void sim_init(struct sim *s);

/* Pending events are dropped (their storage is the owners'). */
void sim_destroy(struct sim *s);

static inline sim_tick_t sim_now(const struct sim *s)
{
    return s->now;
}

/*
 * The FIFO place (event.h's order) of the event whose callback is running:
 * with sim_now(), its position in the run. A structure that completes work
 * at known (tick, place) keys without an event per job compares against it
 * to tell what is already done "now" (dma_engine.c's posted writes).
 */
static inline uint64_t sim_current_order(const struct sim *s)
{
    return s->cur_order;
}

static inline uint64_t sim_events_processed(const struct sim *s)
{
    return s->events;
}

static inline uint64_t sim_events_pending(const struct sim *s)
{
    return sim_eventq_count(&s->q);
}

/* The FIFO place of an event of priority @prio scheduled now (see
 * sim_event_schedule_as). 56 bits of sequence: 7e16 schedules, centuries at
 * 10^8 per second. */
static inline uint64_t sim_event_order_take(struct sim *s, int prio)
{
    return ((uint64_t)(uint8_t)(prio + 128) << 56) |
           (s->seq++ & ((UINT64_C(1) << 56) - 1));
}

/* Insert ev at `when` once the checks have passed (internal). */
static inline int sim__event_insert(struct sim *s, struct sim_event *ev,
                                    sim_tick_t when)
{
    int err = sim_eventq_reserve(&s->q);

    if (err)
        return err;
    ev->when = when;
    ev->order = sim_event_order_take(s, ev->prio);
    sim_eventq_insert(&s->q, ev);
    return 0;
}

/*
 * Schedule ev at tick `when` (inline: it is on every model's hot path).
 * Errors: SIM_EBUSY if ev is already scheduled (use sim_event_reschedule),
 * SIM_EPAST if when < sim_now(), SIM_ERANGE if when is SIM_TICK_MAX,
 * SIM_ENOMEM if the queue could not grow.
 */
/* The checks of sim_event_schedule() and sim_event_schedule_as() (internal). */
static inline int sim__event_check(const struct sim *s, const struct sim_event *ev,
                                   sim_tick_t when)
{
    if (sim_event_is_scheduled(ev))
        return SIM_EBUSY;
    if (when < s->now)
        return SIM_EPAST;
    if (when == SIM_TICK_MAX)
        return SIM_ERANGE;
    return 0;
}

static inline int sim_event_schedule(struct sim *s, struct sim_event *ev,
                                     sim_tick_t when)
{
    int err = sim__event_check(s, ev, when);

    return err ? err : sim__event_insert(s, ev, when);
}

/*
 * Deferred scheduling, for structures that hold events outside the event set
 * and insert them later (fifo.h): sim_event_order_take() takes the FIFO
 * place an event of priority @prio scheduled now would get, and
 * sim_event_schedule_as() schedules ev with a place taken earlier. An event
 * so scheduled runs exactly where it would have run had it been scheduled
 * when its place was taken. Errors as sim_event_schedule().
 */
static inline int sim_event_schedule_as(struct sim *s, struct sim_event *ev,
                                        sim_tick_t when, uint64_t order)
{
    int err = sim__event_check(s, ev, when);

    if (!err)
        err = sim_eventq_reserve(&s->q);
    if (err)
        return err;
    ev->when = when;
    ev->order = order;
    sim_eventq_insert(&s->q, ev);
    return 0;
}

/* Schedule ev `delay` ticks from now (SIM_ERANGE on overflow). */
static inline int sim_event_schedule_in(struct sim *s, struct sim_event *ev,
                                        sim_tick_t delay)
{
    if (sim_event_is_scheduled(ev))
        return SIM_EBUSY;
    if (delay >= SIM_TICK_MAX - s->now)
        return SIM_ERANGE;
    return sim__event_insert(s, ev, s->now + delay);
}

/* Remove a scheduled event. SIM_ENOTSCHED if it was not scheduled. */
int sim_event_deschedule(struct sim *s, struct sim_event *ev);

/*
 * Move ev to `when`, scheduled or not. It takes a new place in FIFO order, as
 * if descheduled and scheduled again. Errors as sim_event_schedule(); on an
 * error a scheduled event stays where it was.
 */
int sim_event_reschedule(struct sim *s, struct sim_event *ev, sim_tick_t when);

/*
 * Run every event due at or before `limit` (inclusive), then set the time to
 * `limit`; the cause is SIM_EXIT_LIMIT, or SIM_EXIT_EMPTY if no events are
 * left. Returns early, with the time of the last event run, when a callback
 * calls sim_stop() or after max_events events (0: no cap). A limit already
 * passed runs nothing and leaves the time alone.
 * sim_run_until(s, sim_now(s), 0) runs what is due now.
 */
struct sim_exit sim_run_until(struct sim *s, sim_tick_t limit, uint64_t max_events);

/*
 * Run every event that sorts before the key (limit, order_bound), then set
 * the time to limit: the events due before limit, and those due at limit
 * whose FIFO place (event.h's order, whose top byte is the priority) is
 * below order_bound. sim_event_order_take(s, SIM_PRIO_STATS) & ~seq, i.e.
 * sim_order_prio_floor(SIM_PRIO_STATS), bounds "the tick's work at lower
 * priorities": what a statistics dump at that tick would have seen as an
 * event. order_bound UINT64_MAX is sim_run_until(). Causes and early
 * returns as sim_run_until(); the events at limit cost a peek each.
 */
struct sim_exit sim_run_before(struct sim *s, sim_tick_t limit, uint64_t order_bound,
                               uint64_t max_events);

/* The lowest FIFO place an event of priority @prio can have (see above). */
static inline uint64_t sim_order_prio_floor(int prio)
{
    return (uint64_t)(uint8_t)(prio + 128) << 56;
}

/* sim_run_until(now + duration), saturating. */
struct sim_exit sim_run_for(struct sim *s, sim_tick_t duration, uint64_t max_events);

/* Run until no events are left (or stopped); time stays at the last event. */
struct sim_exit sim_run(struct sim *s);

/* From a callback: return from the current run after this callback. */
void sim_stop(struct sim *s, const char *reason);

const char *sim_exit_cause_name(enum sim_exit_cause cause);

#endif /* SIM_SIM_H */
