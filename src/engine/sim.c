/*
 * sim.c - scheduling and the run loop.
 *
 * The run loop is the hottest code in the simulator: a pop, a store of the
 * time, an indirect call. Everything else (limits, stop requests) is a
 * predictable branch per event.
 */
#include "engine/sim.h"

#include <string.h>

#include "engine/error.h"

void sim_init(struct sim *s)
{
    memset(s, 0, sizeof(*s));
    sim_eventq_init(&s->q);
}

void sim_destroy(struct sim *s)
{
    sim_eventq_destroy(&s->q);
}

int sim_event_deschedule(struct sim *s, struct sim_event *ev)
{
    if (!sim_event_is_scheduled(ev))
        return SIM_ENOTSCHED;
    sim_eventq_remove(&s->q, ev);
    return 0;
}

int sim_event_reschedule(struct sim *s, struct sim_event *ev, sim_tick_t when)
{
    if (when < s->now)
        return SIM_EPAST;
    if (when == SIM_TICK_MAX)
        return SIM_ERANGE;
    if (sim_event_is_scheduled(ev))
        sim_eventq_remove(&s->q, ev);   /* frees a slot: reserve cannot fail */
    return sim_event_schedule(s, ev, when);
}

struct sim_exit sim_run_until(struct sim *s, sim_tick_t limit, uint64_t max_events)
{
    struct sim_exit ex = { SIM_EXIT_LIMIT, 0, 0, "reached the tick limit" };
    uint64_t start = s->events;
    /* No cap is a cap that cannot be reached: one test per event, not two. */
    uint64_t cap = max_events && max_events < UINT64_MAX - start ? start + max_events
                                                                  : UINT64_MAX;
    struct sim_event *ev;

    s->stop = false;
    s->stop_reason = NULL;
    if (limit < s->now)
        limit = s->now;             /* time never runs backwards */
    for (;;) {
        if (s->events >= cap) {
            ex.cause = SIM_EXIT_MAX_EVENTS;
            ex.reason = "reached the event limit";
            break;
        }
        ev = sim_eventq_pop_until(&s->q, limit);
        if (!ev) {
            if (sim_eventq_count(&s->q) == 0) {
                ex.cause = SIM_EXIT_EMPTY;
                ex.reason = "no events left";
            }
            /* An explicit limit moves time to it, so run_for() calls tile
             * time even across idle stretches; sim_run() (no limit) leaves
             * time at the last event. */
            if (limit != SIM_TICK_MAX - 1)
                s->now = limit;
            break;
        }
        s->now = ev->when;
        s->cur_order = ev->order;
        s->events++;
        ev->cb(ev, ev->arg);        /* may free ev: do not touch it after */
        if (s->stop) {
            ex.cause = SIM_EXIT_STOP;
            ex.reason = s->stop_reason ? s->stop_reason : "stopped";
            break;
        }
    }
    ex.events = s->events - start;
    ex.tick = s->now;
    return ex;
}

struct sim_exit sim_run_before(struct sim *s, sim_tick_t limit, uint64_t order_bound,
                               uint64_t max_events)
{
    struct sim_exit ex = { SIM_EXIT_LIMIT, s->now, 0, "reached the tick limit" }, one;
    struct sim_event *ev;

    if (order_bound == UINT64_MAX)
        return sim_run_until(s, limit, max_events);
    if (limit < s->now)
        return ex;                  /* a limit already passed runs nothing */
    /* Everything due before limit at full speed, then the events at limit
     * one at a time: there are few, and each needs its place checked. */
    if (limit > s->now) {
        ex = sim_run_until(s, limit - 1, max_events);
        if (ex.cause == SIM_EXIT_STOP || ex.cause == SIM_EXIT_MAX_EVENTS)
            return ex;
    }
    while ((ev = sim_eventq_peek(&s->q)) && ev->when == limit && ev->order < order_bound) {
        if (max_events && ex.events >= max_events) {
            ex.cause = SIM_EXIT_MAX_EVENTS;
            ex.reason = "reached the event limit";
            return ex;
        }
        one = sim_run_until(s, limit, 1);       /* runs exactly ev, the earliest */
        ex.events += one.events;
        ex.tick = one.tick;
        if (one.cause == SIM_EXIT_STOP) {
            ex.cause = one.cause;
            ex.reason = one.reason;
            return ex;
        }
    }
    s->now = limit;
    ex.tick = limit;
    ex.cause = sim_eventq_count(&s->q) ? SIM_EXIT_LIMIT : SIM_EXIT_EMPTY;
    ex.reason = ex.cause == SIM_EXIT_LIMIT ? "reached the tick limit" : "no events left";
    return ex;
}

struct sim_exit sim_run_for(struct sim *s, sim_tick_t duration, uint64_t max_events)
{
    sim_tick_t limit = duration > SIM_TICK_MAX - 1 - s->now ? SIM_TICK_MAX - 1
                                                            : s->now + duration;

    return sim_run_until(s, limit, max_events);
}

struct sim_exit sim_run(struct sim *s)
{
    return sim_run_until(s, SIM_TICK_MAX - 1, 0);
}

void sim_stop(struct sim *s, const char *reason)
{
    s->stop = true;
    s->stop_reason = reason;
}

const char *sim_exit_cause_name(enum sim_exit_cause cause)
{
    switch (cause) {
    case SIM_EXIT_LIMIT:      return "limit";
    case SIM_EXIT_EMPTY:      return "empty";
    case SIM_EXIT_STOP:       return "stop";
    case SIM_EXIT_MAX_EVENTS: return "max_events";
    }
    return "?";
}
