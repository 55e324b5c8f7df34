/*
 * eventq.c - the ladder queue (see eventq.h for the design and its source).
 */
#include "engine/eventq.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

/*
 * A bucket reached with more than this many events is split into a finer rung
 * rather than heaped. The paper's value is 50; with a binary heap as the
 * bottom (not the paper's sorted list) any value from 16 to 128 measures
 * within a few percent.
 */
#define LADDER_THRES 48

/* --- Bottom: a binary heap ordered by (when, order) --------------------- */

static inline int ev_less(const struct sim_event *a, const struct sim_event *b)
{
    return a->when < b->when || (a->when == b->when && a->order < b->order);
}

static void heap_up(struct sim_eventq *q, size_t i)
{
    struct sim_event *ev = q->heap[i];

    while (i > 0) {
        size_t p = (i - 1) / 2;

        if (!ev_less(ev, q->heap[p]))
            break;
        q->heap[i] = q->heap[p];
        q->heap[i]->heap_idx = (uint32_t)i;
        i = p;
    }
    q->heap[i] = ev;
    ev->heap_idx = (uint32_t)i;
}

static void heap_down(struct sim_eventq *q, size_t i)
{
    struct sim_event *ev = q->heap[i];
    size_t n = q->heap_len;

    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= n)
            break;
        if (c + 1 < n && ev_less(q->heap[c + 1], q->heap[c]))
            c++;
        if (!ev_less(q->heap[c], ev))
            break;
        q->heap[i] = q->heap[c];
        q->heap[i]->heap_idx = (uint32_t)i;
        i = c;
    }
    q->heap[i] = ev;
    ev->heap_idx = (uint32_t)i;
}

static inline void heap_push(struct sim_eventq *q, struct sim_event *ev)
{
    ev->where = SIM_EVQ_BOTTOM;
    q->heap[q->heap_len] = ev;
    heap_up(q, q->heap_len++);
}

static void heap_remove(struct sim_eventq *q, size_t i)
{
    struct sim_event *last = q->heap[--q->heap_len];

    if (i == q->heap_len)
        return;
    q->heap[i] = last;
    last->heap_idx = (uint32_t)i;
    if (i > 0 && ev_less(last, q->heap[(i - 1) / 2]))
        heap_up(q, i);
    else
        heap_down(q, i);
}

/* --- Bucket lists: hlist-style, O(1) unlink without knowing the bucket -- */

static inline void hl_add(struct sim_event **head, struct sim_event *ev)
{
    ev->next = *head;
    if (ev->next)
        ev->next->pprev = &ev->next;
    *head = ev;
    ev->pprev = head;
}

static inline void hl_del(struct sim_event *ev)
{
    *ev->pprev = ev->next;
    if (ev->next)
        ev->next->pprev = ev->pprev;
}

/* --- Top: an unsorted array (sequential to scan when it becomes a rung) - */

static inline void top_add(struct sim_eventq *q, struct sim_event *ev)
{
    ev->where = SIM_EVQ_TOP;
    ev->heap_idx = (uint32_t)q->top_len;
    q->top[q->top_len++] = ev;
    if (ev->when < q->top_min)
        q->top_min = ev->when;
    if (ev->when > q->top_max)
        q->top_max = ev->when;
}

static inline void top_del(struct sim_eventq *q, struct sim_event *ev)
{
    struct sim_event *last = q->top[--q->top_len];

    q->top[ev->heap_idx] = last;
    last->heap_idx = ev->heap_idx;
    if (q->top_len == 0) {
        /* min/max are only widened, never narrowed; reset when empty */
        q->top_min = SIM_TICK_MAX;
        q->top_max = 0;
    }
}

/* --- Rungs --------------------------------------------------------------- */

static inline sim_tick_t sat_add(sim_tick_t a, sim_tick_t b)
{
    return a > SIM_TICK_MAX - b ? SIM_TICK_MAX : a + b;
}

static inline sim_tick_t sat_shl(sim_tick_t v, unsigned k)
{
    return (k >= 64 || v > (SIM_TICK_MAX >> k)) ? SIM_TICK_MAX : v << k;
}

/*
 * Bucket widths are powers of two so that a bucket index is a shift, not a
 * 64-bit division (which costs 25-40 cycles on the machines we measured).
 * Choose the smallest shift k that gives at most n buckets over the span.
 */
static unsigned rung_shift(sim_tick_t span, size_t n)
{
    unsigned k = 0;

    while (k < 64 && (span >> k) >= n)
        k++;
    return k;
}

/* Make rung `level` from n events in [min, max]; false if it cannot grow. */
static int rung_spawn_prepare(struct sim_eventq *q, unsigned level, size_t n,
                              sim_tick_t min, sim_tick_t max)
{
    struct sim_evq_rung *r = &q->rung[level];
    unsigned k = rung_shift(max - min, n);
    size_t nb = (size_t)((max - min) >> k) + 1;

    if (nb > r->cap) {
        size_t cap = nb < 2 * r->cap ? 2 * r->cap : nb;
        struct sim_event **b = realloc(r->bucket, cap * sizeof(*b));

        if (!b)
            return 0;               /* the caller heaps the events instead */
        r->bucket = b;
        r->cap = cap;
    }
    memset(r->bucket, 0, nb * sizeof(*r->bucket));
    r->nb = nb;
    r->cur = 0;
    r->count = n;
    r->start = min;
    r->shift = k;
    r->cur_start = min;
    r->end = sat_add(min, sat_shl(nb, k));
    q->nrungs = level + 1;
    return 1;
}

static inline void rung_add(struct sim_eventq *q, unsigned level,
                            struct sim_event *ev)
{
    struct sim_evq_rung *r = &q->rung[level];
    size_t idx = (size_t)((ev->when - r->start) >> r->shift);

    ev->where = (uint8_t)(SIM_EVQ_RUNG0 + level);
    hl_add(&r->bucket[idx], ev);
}

/* --- Refill: make the bottom hold the earliest events ------------------- */

static void eventq_from_top(struct sim_eventq *q)
{
    size_t n = q->top_len;
    sim_tick_t min = q->top_min, max = q->top_max;

    q->top_len = 0;
    q->top_min = SIM_TICK_MAX;
    q->top_max = 0;
    if (n > LADDER_THRES && max > min && rung_spawn_prepare(q, 0, n, min, max)) {
        for (size_t i = 0; i < n; i++)
            rung_add(q, 0, q->top[i]);
        q->top_start = q->rung[0].end;
    } else {
        for (size_t i = 0; i < n; i++)
            heap_push(q, q->top[i]);
        q->top_start = sat_add(max, 1);
    }
}

static void eventq_from_rung(struct sim_eventq *q)
{
    unsigned level = q->nrungs - 1;
    struct sim_evq_rung *r = &q->rung[level];
    struct sim_event *list, *ev, *next;
    sim_tick_t min = SIM_TICK_MAX, max = 0;
    size_t n = 0;

    while (!r->bucket[r->cur])
        r->cur++;
    list = r->bucket[r->cur];
    r->bucket[r->cur] = NULL;
    r->cur++;
    r->cur_start = sat_add(r->start, sat_shl(r->cur, r->shift));

    for (ev = list; ev; ev = ev->next) {
        n++;
        if (ev->when < min)
            min = ev->when;
        if (ev->when > max)
            max = ev->when;
    }
    r->count -= n;

    /*
     * The finer rung spans from the earliest event to the end of this
     * bucket, not just to the latest event: anything scheduled later into
     * this bucket's slice must find a bucket there, because the parent now
     * sends everything below its cur_start down to it.
     */
    if (n > LADDER_THRES && max > min && level + 1 < SIM_EVQ_MAX_RUNGS &&
        rung_spawn_prepare(q, level + 1, n, min, r->cur_start - 1)) {
        for (ev = list; ev; ev = next) {
            next = ev->next;
            rung_add(q, level + 1, ev);
        }
        return;
    }
    for (ev = list; ev; ev = next) {
        next = ev->next;
        heap_push(q, ev);
    }
}

static inline void eventq_refill(struct sim_eventq *q)
{
    while (q->heap_len == 0 && q->count > 0) {
        if (q->nrungs == 0)
            eventq_from_top(q);
        else if (q->rung[q->nrungs - 1].count == 0)
            q->nrungs--;            /* rung drained: go back to its parent */
        else
            eventq_from_rung(q);
    }
}

/* --- API ----------------------------------------------------------------- */

void sim_eventq_init(struct sim_eventq *q)
{
    memset(q, 0, sizeof(*q));
    q->top_min = SIM_TICK_MAX;
    q->top_max = 0;
    q->top_start = 0;               /* everything starts in top */
}

void sim_eventq_destroy(struct sim_eventq *q)
{
    free(q->heap);
    free(q->top);
    for (unsigned i = 0; i < SIM_EVQ_MAX_RUNGS; i++)
        free(q->rung[i].bucket);
    memset(q, 0, sizeof(*q));
}

int sim_eventq_reserve(struct sim_eventq *q)
{
    size_t need = q->count + 1;

    if (need > UINT32_MAX)
        return SIM_ENOMEM;          /* heap_idx is 32 bits */

    /* Both the heap and top may have to hold every pending event at once. */
    if (need > q->heap_cap) {
        size_t cap = q->heap_cap ? 2 * q->heap_cap : 64;
        struct sim_event **h = realloc(q->heap, cap * sizeof(*h));

        if (!h)
            return SIM_ENOMEM;
        q->heap = h;
        q->heap_cap = cap;
    }
    if (need > q->top_cap) {
        size_t cap = q->top_cap ? 2 * q->top_cap : 64;
        struct sim_event **t = realloc(q->top, cap * sizeof(*t));

        if (!t)
            return SIM_ENOMEM;
        q->top = t;
        q->top_cap = cap;
    }
    return 0;
}

void sim_eventq_insert(struct sim_eventq *q, struct sim_event *ev)
{
    sim_tick_t t = ev->when;

    q->count++;
    if (t >= q->top_start) {
        top_add(q, ev);
        return;
    }
    /* Coarsest rung first: in the common case the first test places it. */
    for (unsigned i = 0; i < q->nrungs; i++) {
        if (t >= q->rung[i].cur_start) {
            q->rung[i].count++;
            rung_add(q, i, ev);
            return;
        }
    }
    heap_push(q, ev);
}

void sim_eventq_remove(struct sim_eventq *q, struct sim_event *ev)
{
    switch (ev->where) {
    case SIM_EVQ_NONE:
        return;
    case SIM_EVQ_TOP:
        top_del(q, ev);
        break;
    case SIM_EVQ_BOTTOM:
        heap_remove(q, ev->heap_idx);
        break;
    default:
        hl_del(ev);
        q->rung[ev->where - SIM_EVQ_RUNG0].count--;
        break;
    }
    q->count--;
    ev->where = SIM_EVQ_NONE;
}

struct sim_event *sim_eventq_peek(struct sim_eventq *q)
{
    eventq_refill(q);
    return q->heap_len ? q->heap[0] : NULL;
}

struct sim_event *sim_eventq_pop_until(struct sim_eventq *q, sim_tick_t limit)
{
    struct sim_event *ev;

    eventq_refill(q);
    if (q->heap_len == 0 || q->heap[0]->when > limit)
        return NULL;
    ev = q->heap[0];
    heap_remove(q, 0);
    q->count--;
    ev->where = SIM_EVQ_NONE;
    return ev;
}
