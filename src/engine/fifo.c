/*
 * fifo.c - a timed FIFO whose jobs share one event (fifo.h).
 *
 * Costs: a push in tick order is O(1) and touches the event set only when
 * the fifo was empty; a job's firing is one event-set pop plus, when jobs
 * remain, one push of the next head. An out-of-order push walks the list.
 */
#include "engine/fifo.h"

static inline int item_before(const struct sim_fifo_item *a, const struct sim_fifo_item *b)
{
    return a->when < b->when || (a->when == b->when && a->order < b->order);
}

static void fifo_event(struct sim_event *ev, void *arg)
{
    struct sim_fifo *f = arg;
    struct sim_fifo_item *it = f->head;

    (void)ev;
    f->head = it->next;
    f->len--;
    if (f->head)        /* its tick is >= now: it was queued behind it */
        sim_event_schedule_as(f->sim, &f->ev, f->head->when, f->head->order);
    else
        f->tail = NULL;
    it->next = NULL;
    f->fire(f, it);
}

void sim_fifo_init(struct sim_fifo *f, struct sim *sim, sim_fifo_fn fire, void *ctx, int prio)
{
    f->sim = sim;
    f->fire = fire;
    f->ctx = ctx;
    f->head = f->tail = NULL;
    f->len = 0;
    sim_event_init(&f->ev, fifo_event, f, prio);
}

int sim_fifo_push(struct sim_fifo *f, struct sim_fifo_item *it, sim_tick_t when)
{
    struct sim_fifo_item **pp;
    int err;

    if (when < sim_now(f->sim))
        return SIM_EPAST;
    if (when == SIM_TICK_MAX)
        return SIM_ERANGE;
    it->when = when;
    it->order = sim_event_order_take(f->sim, f->ev.prio);
    it->next = NULL;
    if (!f->head) {
        err = sim_event_schedule_as(f->sim, &f->ev, when, it->order);
        if (err)
            return err;
        f->head = f->tail = it;
        f->len = 1;
        return 0;
    }
    if (!item_before(it, f->tail)) {        /* the usual case: append */
        f->tail->next = it;
        f->tail = it;
        f->len++;
        return 0;
    }
    if (item_before(it, f->head)) {         /* a new earliest job */
        sim_event_deschedule(f->sim, &f->ev);
        err = sim_event_schedule_as(f->sim, &f->ev, when, it->order);
        if (err) {                          /* put the old head back */
            sim_event_schedule_as(f->sim, &f->ev, f->head->when, f->head->order);
            return err;
        }
        it->next = f->head;
        f->head = it;
        f->len++;
        return 0;
    }
    for (pp = &f->head->next; !item_before(it, *pp); pp = &(*pp)->next)
        ;                                   /* stops at the tail at the latest */
    it->next = *pp;
    *pp = it;
    f->len++;
    return 0;
}

void sim_fifo_clear(struct sim_fifo *f)
{
    if (f->head)
        sim_event_deschedule(f->sim, &f->ev);
    f->head = f->tail = NULL;
    f->len = 0;
}
