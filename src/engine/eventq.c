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
 * bottom (not the paper's sorted list) values from 16 to 128 measure within a
 * few percent of each other.
 */
#define LADDER_THRES 48

/*
 * While top holds no more than this many events, a refill heaps them all
 * instead of building a rung: a heap this small lives in L1, and the ladder's
 * extra moves (top -> rung -> heap) would cost more than its O(1) saves.
 */
#define LADDER_SMALL 256

/* How many buckets ahead to prefetch while stepping through a rung. */
#define LADDER_PREFETCH 8

_Static_assert(sizeof(struct sim_evq_chunk) == 64, "a chunk is one cache line");

/* A bucket word: the head chunk's address with its fill count in bits 0-5. */
static inline struct sim_evq_chunk *bucket_head(uintptr_t w)
{
    return (struct sim_evq_chunk *)(w & ~(uintptr_t)63);
}

static inline uint32_t bucket_fill(uintptr_t w)
{
    return (uint32_t)(w & 63);
}

static inline uintptr_t bucket_word(struct sim_evq_chunk *c, uint32_t fill)
{
    return c ? (uintptr_t)c | fill : 0;
}

/* --- Chunk pool: 256 KiB slabs, a stack of free chunks, never shrinks ---- */

#define SLAB_CHUNKS 4095            /* 256 KiB slabs */

struct evq_slab {
    struct evq_slab *next;
    char pad[64 - sizeof(struct evq_slab *)];
    struct sim_evq_chunk chunk[SLAB_CHUNKS];
};

static int pool_grow(struct sim_eventq *q, size_t need)
{
    while (q->nfree_chunks < need) {
        struct evq_slab *slab = aligned_alloc(64, sizeof(*slab));
        struct sim_evq_chunk **stack;

        if (!slab)
            return SIM_ENOMEM;
        stack = realloc(q->free_stack, (q->nchunks + SLAB_CHUNKS) * sizeof(*stack));
        if (!stack) {
            free(slab);
            return SIM_ENOMEM;
        }
        q->free_stack = stack;
        q->nchunks += SLAB_CHUNKS;
        slab->next = q->slabs;
        q->slabs = slab;
        for (size_t i = SLAB_CHUNKS; i-- > 0;)
            q->free_stack[q->nfree_chunks++] = &slab->chunk[i];
    }
    return 0;
}

/* LIFO: the chunk freed last, likely still cached, is reused first. */
static inline struct sim_evq_chunk *pool_get(struct sim_eventq *q)
{
    return q->free_stack[--q->nfree_chunks];
}

static inline void pool_put(struct sim_eventq *q, struct sim_evq_chunk *c)
{
    q->free_stack[q->nfree_chunks++] = c;
}

/* --- Bottom: a binary heap ordered by (when, order) --------------------- */


/* One 128-bit comparison, branch-free, instead of two dependent ones. */
static inline unsigned __int128 slot_key(const struct sim_evq_slot *a)
{
    return ((unsigned __int128)a->when << 64) | a->order;
}

static inline int slot_less(const struct sim_evq_slot *a,
                            const struct sim_evq_slot *b)
{
    return slot_key(a) < slot_key(b);
}

/* Keep h[heap_len] a slot that sorts after everything (see heap_down). */
static inline void heap_sentinel(struct sim_eventq *q)
{
    q->heap[q->heap_len].when = SIM_TICK_MAX;
    q->heap[q->heap_len].order = UINT64_MAX;
    q->heap[q->heap_len].ev = NULL;
}

static inline void heap_set(struct sim_eventq *q, size_t i,
                            const struct sim_evq_slot *s)
{
    q->heap[i] = *s;
    s->ev->idx = (uint32_t)i;
}

static void heap_up(struct sim_eventq *q, size_t i)
{
    struct sim_evq_slot s = q->heap[i];

    while (i > 0) {
        size_t p = (i - 1) / 2;

        if (!slot_less(&s, &q->heap[p]))
            break;
        heap_set(q, i, &q->heap[p]);
        i = p;
    }
    heap_set(q, i, &s);
}

static inline __attribute__((always_inline)) void heap_down(struct sim_eventq *q, size_t i)
{
    struct sim_evq_slot s = q->heap[i], *h = q->heap;
    unsigned __int128 ks = slot_key(&s);
    size_t n = q->heap_len;

    for (;;) {
        size_t c = 2 * i + 1;
        const struct sim_evq_slot *a;
        struct sim_evq_slot t;
        int right;

        if (c >= n)
            break;
        /* h[n] is a sentinel with the largest key, so c + 1 is always a
         * valid slot. Which child is smaller is a coin toss: select it
         * without a branch, which saves a mispredict per level. */
        right = slot_key(&h[c + 1]) < slot_key(&h[c]);
        c += (size_t)right;
        a = &h[c];
        if (!(slot_key(a) < ks))
            break;
        t = *a;
        h[i] = t;
        t.ev->idx = (uint32_t)i;
        i = c;
    }
    h[i] = s;
    s.ev->idx = (uint32_t)i;
}

/*
 * Remove the dead root: the last slot moves to the root and sifts down. It is
 * heap_remove(q, 0) without what a removal elsewhere needs (the sift-up test,
 * an index write that the sift repeats): half the quick start's pops end here
 * (their callback scheduled nothing), so it is a function of its own.
 */
static void heap_remove_root(struct sim_eventq *q)
{
    size_t last = --q->heap_len;

    if (last) {
        q->heap[0] = q->heap[last];
        heap_sentinel(q);
        heap_down(q, 0);
        return;
    }
    heap_sentinel(q);
}

static inline void heap_settle(struct sim_eventq *q)
{
    if (q->dead_root) {
        q->dead_root = 0;
        heap_remove_root(q);
    }
}

/* --- Bottom, small: a sorted array --------------------------------------- */

/*
 * While the queue is all heap and holds at most SORTED_MAX events, the bottom
 * is an array sorted by (when, order), the earliest at heap[base]: a pop is
 * base++, and an insert moves up only the events later than the new one.
 * A simulation of a pipeline schedules mostly near the end: in the quick
 * start (about 20 pending events) an insert passes 5.3 later events on
 * average and just one (a far timer) in half the inserts, where a heap
 * sifts through its four levels on every insert or pop. Random times (the
 * hold model) would move half the array each time, so the bottom goes back
 * to a heap past SORTED_MAX events, and returns to sorting only when it has
 * shrunk to SORTED_BACK (the gap keeps a queue that hovers near one bound
 * from converting back and forth). An ascending array is a valid heap, so
 * the way to the heap is a move to base 0; the way back is an insertion sort
 * of at most SORTED_BACK slots. Every event's idx is its absolute slot, as
 * in the heap, so a deschedule stays O(1) to find (and O(SORTED_MAX) to close
 * the gap).
 */
#define SORTED_MAX 32
#define SORTED_BACK 16

/*
 * Move the sorted events to heap[to ..]: the slots past them free again.
 * A sorted bottom starts at 1 or later, so that an insert has a slot below
 * base for its scan's stop (see sorted_insert); a heap starts at 0.
 */
static void sorted_compact(struct sim_eventq *q, size_t to)
{
    struct sim_evq_slot *h = q->heap;

    if (q->base == to)
        return;
    memmove(h + to, h + q->base, q->heap_len * sizeof(*h));
    for (size_t i = to; i < to + q->heap_len; i++)
        h[i].ev->idx = (uint32_t)i;
    q->base = to;
}

/* Sorted -> heap: ascending order already is a heap; add the sentinel. */
static void sorted_to_heap(struct sim_eventq *q)
{
    sorted_compact(q, 0);
    q->sorted = 0;
    heap_sentinel(q);
}

/* Heap -> sorted (dead root settled, at most SORTED_BACK slots). */
static __attribute__((noinline, cold)) void heap_to_sorted(struct sim_eventq *q)
{
    struct sim_evq_slot *h = q->heap;
    size_t n = q->heap_len;

    for (size_t i = 1; i < n; i++) {
        struct sim_evq_slot s = h[i];
        size_t j = i;

        while (j > 0 && slot_less(&s, &h[j - 1])) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = s;
    }
    q->base = 0;
    sorted_compact(q, 1);               /* and sets every idx */
    q->sorted = 1;
}

/*
 * The scan from the end needs no bound test: the slot below base (base >= 1)
 * is given the key (0, 0), which no key is less than. It cannot be left to
 * hold the event popped from it: an event scheduled now with a higher
 * priority sorts before that one.
 */
static inline void sorted_insert(struct sim_eventq *q, struct sim_event *ev)
{
    struct sim_evq_slot s = { ev->when, ev->order, ev }, *h;
    unsigned __int128 k = slot_key(&s);
    size_t i;

    ev->where = SIM_EVQ_BOTTOM;
    if (q->base + q->heap_len + 1 >= q->heap_cap)   /* the heap's sentinel too */
        sorted_compact(q, 1);
    h = q->heap;
    h[q->base - 1].when = 0;
    h[q->base - 1].order = 0;
    i = q->base + q->heap_len;
    while (k < slot_key(&h[i - 1])) {
        h[i] = h[i - 1];
        h[i].ev->idx = (uint32_t)i;
        i--;
    }
    h[i] = s;
    ev->idx = (uint32_t)i;
    q->heap_len++;
}

static void sorted_remove(struct sim_eventq *q, size_t i)
{
    struct sim_evq_slot *h = q->heap;
    size_t end = q->base + --q->heap_len;

    for (; i < end; i++) {
        h[i] = h[i + 1];
        h[i].ev->idx = (uint32_t)i;
    }
}

/* --- Bottom: pushes and removals, whichever form it has ------------------ */

/*
 * The commonest pattern in a simulation is "pop an event, and its callback
 * schedules the next one". A pop therefore leaves the popped slot at the root
 * as a dead slot instead of sifting at once; if the next heap operation is a
 * push, the new event replaces the root and sifts down once, which saves a
 * whole sift (half the work of the pair). Any other operation settles the
 * dead root first with an ordinary removal. (A sorted bottom has no dead
 * root: its pop is already O(1). Its inserts never come here: the queue is
 * sorted only while it is all heap, and sim_eventq_insert() handles that.)
 */
static void heap_push(struct sim_eventq *q, struct sim_event *ev)
{
    struct sim_evq_slot s = { ev->when, ev->order, ev };

    ev->where = SIM_EVQ_BOTTOM;
    if (q->dead_root) {
        q->dead_root = 0;
        q->heap[0] = s;
        ev->idx = 0;
        heap_down(q, 0);
        return;
    }
    q->heap[q->heap_len] = s;
    heap_up(q, q->heap_len++);
    heap_sentinel(q);
}

/* A bottom-up (Floyd) removal and a 4-ary heap were both tried and measured
 * slower here: with comparisons this cheap, the textbook sift wins. */
static void heap_remove(struct sim_eventq *q, size_t i)
{
    size_t last = --q->heap_len;

    if (i != last) {
        heap_set(q, i, &q->heap[last]);
        heap_sentinel(q);
        if (i > 0 && slot_less(&q->heap[i], &q->heap[(i - 1) / 2]))
            heap_up(q, i);
        else
            heap_down(q, i);
        return;
    }
    heap_sentinel(q);
}

/*
 * Fill the empty heap with k <= SIM_EVQ_CHUNK_SLOTS entries of one chunk: a
 * bucket's usual size at 10^6 events, where buckets hold one to three. Only
 * the smallest has to be at the root; the minimum is chosen with selects,
 * not branches (which of them is smallest is a coin toss), and no sift runs.
 */
static inline void heap_fill_small(struct sim_eventq *q,
                                   const struct sim_evq_entry *e, uint32_t k)
{
    struct sim_evq_slot *h = q->heap;
    unsigned __int128 kmin;
    uint32_t m = 0;

    for (uint32_t j = 0; j < k; j++) {
        struct sim_event *ev = e[j].ev;

        h[j].when = e[j].when;
        h[j].order = ev->order;
        h[j].ev = ev;
        ev->where = SIM_EVQ_BOTTOM;
    }
    kmin = slot_key(&h[0]);
    for (uint32_t j = 1; j < k; j++) {
        unsigned __int128 kj = slot_key(&h[j]);
        int less = kj < kmin;

        m = less ? j : m;
        kmin = less ? kj : kmin;
    }
    if (m) {
        struct sim_evq_slot t = h[0];

        h[0] = h[m];
        h[m] = t;
    }
    for (uint32_t j = 0; j < k; j++)
        h[j].ev->idx = j;
    q->heap_len = k;
    heap_sentinel(q);
}

/* --- Top: an unsorted array (sequential to scan when it becomes a rung) - */

static inline void top_add(struct sim_eventq *q, struct sim_event *ev)
{
    ev->where = SIM_EVQ_TOP;
    ev->idx = (uint32_t)q->top_len;
    q->top[q->top_len].when = ev->when;
    q->top[q->top_len++].ev = ev;
    if (ev->when < q->top_min)
        q->top_min = ev->when;
    if (ev->when > q->top_max)
        q->top_max = ev->when;
}

static inline void top_del(struct sim_eventq *q, struct sim_event *ev)
{
    struct sim_evq_entry last = q->top[--q->top_len];

    q->top[ev->idx] = last;
    last.ev->idx = ev->idx;
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

/* The smallest shift k that spreads [0, span] over at most n buckets. */
static unsigned rung_shift(sim_tick_t span, size_t n)
{
    unsigned k = 0;

    while (k < 64 && (span >> k) >= n)
        k++;
    return k;
}

/*
 * Make rung `level` ready for n events in [min, max]: allocate its bucket
 * array. Returns 0 (nothing changed) when memory is short; the caller then
 * heaps the events instead, for which room is always reserved.
 */
static int rung_spawn_prepare(struct sim_eventq *q, unsigned level, size_t n,
                              sim_tick_t min, sim_tick_t max)
{
    struct sim_evq_rung *r = &q->rung[level];
    unsigned k = rung_shift(max - min, n);
    size_t nb = (size_t)((max - min) >> k) + 1;

    /* + 2 * LADDER_PREFETCH empty words for rung_advance to read past nb */
    if (nb + 2 * LADDER_PREFETCH > r->cap) {
        size_t cap = nb + 2 * LADDER_PREFETCH;
        uintptr_t *b;

        cap = cap < 2 * r->cap ? 2 * r->cap : cap;
        b = realloc(r->bucket, cap * sizeof(*b));

        if (!b)
            return 0;
        r->bucket = b;
        r->cap = cap;
    }
    memset(r->bucket, 0, (nb + 2 * LADDER_PREFETCH) * sizeof(*r->bucket));
    r->nb = nb;
    r->cur = 0;
    r->count = 0;
    r->start = min;
    r->shift = k;
    r->cur_start = min;
    r->end = sat_add(min, sat_shl(nb, k));
    q->nrungs = level + 1;
    return 1;
}

/*
 * Add ev to its bucket in rung `level`. Fails only when it needs a chunk, the
 * pool is empty and cannot grow; sim_eventq_reserve() makes that impossible
 * for a single insert, and a rung being built undoes itself (rung_unspawn).
 */
static inline int rung_add(struct sim_eventq *q, unsigned level,
                           sim_tick_t when, struct sim_event *ev)
{
    struct sim_evq_rung *r = &q->rung[level];
    size_t b = (size_t)((when - r->start) >> r->shift);
    uintptr_t w = r->bucket[b];
    struct sim_evq_chunk *c = bucket_head(w);
    uint32_t fill = bucket_fill(w);

    if (!c || fill == SIM_EVQ_CHUNK_SLOTS) {
        struct sim_evq_chunk *nc;

        /* inbox_len chunks stay reserved for the inbox's batch */
        if (q->nfree_chunks <= q->inbox_len && pool_grow(q, q->inbox_len + 1) != 0)
            return -1;
        nc = pool_get(q);
        nc->bucket = b;
        nc->next = c;
        c = nc;
        fill = 0;
    }
    ev->where = (uint8_t)(SIM_EVQ_RUNG0 + level);
    ev->chunk = c;
    ev->idx = fill;
    c->e[fill].when = when;
    c->e[fill].ev = ev;
    r->bucket[b] = bucket_word(c, fill + 1);
    r->count++;
    return 0;
}

/* Undo a rung being built when memory ran out: heap all it holds. */
static void heap_push(struct sim_eventq *q, struct sim_event *ev);

static void rung_unspawn(struct sim_eventq *q, unsigned level)
{
    struct sim_evq_rung *r = &q->rung[level];

    for (size_t b = 0; b < r->nb; b++) {
        struct sim_evq_chunk *c = bucket_head(r->bucket[b]), *next;
        uint32_t fill = bucket_fill(r->bucket[b]);

        for (; c; c = next, fill = SIM_EVQ_CHUNK_SLOTS) {
            next = c->next;
            for (uint32_t j = 0; j < fill; j++)
                heap_push(q, c->e[j].ev);
            pool_put(q, c);
        }
        r->bucket[b] = 0;
    }
    r->count = 0;
    q->nrungs = level;
}

/* Fill ev's slot with the last event of its bucket's head chunk. */
static inline void rung_del(struct sim_eventq *q, struct sim_event *ev)
{
    struct sim_evq_rung *r = &q->rung[ev->where - SIM_EVQ_RUNG0];
    struct sim_evq_chunk *c = ev->chunk;
    uintptr_t *w = &r->bucket[c->bucket];
    struct sim_evq_chunk *head = bucket_head(*w);
    uint32_t fill = bucket_fill(*w) - 1;
    struct sim_evq_entry last = head->e[fill];

    c->e[ev->idx] = last;
    last.ev->chunk = c;
    last.ev->idx = ev->idx;
    if (fill == 0) {
        *w = bucket_word(head->next, SIM_EVQ_CHUNK_SLOTS);
        pool_put(q, head);
    } else {
        *w = bucket_word(head, fill);
    }
    r->count--;
}

/*
 * Step to the next bucket, prefetching in two stages so that a bucket's
 * chunk and then its events are in cache by the time the bucket is emptied:
 * the chunk 2 * LADDER_PREFETCH buckets ahead, and the events of the bucket
 * LADDER_PREFETCH ahead (whose chunk the first stage fetched earlier).
 *
 * Without a branch: whether a bucket ahead is empty, and how many events it
 * holds, are coin tosses at 10^6 events (buckets hold zero to three), and
 * testing them cost a mispredict per step. The bucket array has
 * 2 * LADDER_PREFETCH zero words past its end, an empty bucket's chunk reads
 * as prefetch_dummy, and the entries prefetched are 0, min(1, fill - 1) and
 * min(2, fill - 1), chosen with selects. Prefetching an address that is not
 * needed (the dummy, a duplicate) costs a little bandwidth and never faults.
 */
static struct sim_evq_chunk prefetch_dummy = {
    NULL, 0, { { 0, (struct sim_event *)&prefetch_dummy } }
};

static inline void rung_advance(struct sim_evq_rung *r)
{
    uintptr_t wf = r->bucket[r->cur + 2 * LADDER_PREFETCH];
    uintptr_t wn = r->bucket[r->cur + LADDER_PREFETCH];
    const struct sim_evq_chunk *c = wn ? bucket_head(wn) : &prefetch_dummy;
    uint32_t fill = bucket_fill(wn);

    __builtin_prefetch(bucket_head(wf));
    __builtin_prefetch(c->e[0].ev, 1);
    __builtin_prefetch(c->e[fill > 1].ev, 1);
    __builtin_prefetch(c->e[fill > 2 ? 2 : 0].ev, 1);
    r->cur++;
}

/* --- Inbox: rung-0 inserts, put in their buckets in batches ------------- */

/* How many entries ahead the batch prefetches bucket words (and half as far
 * ahead, the head chunks those words point to). */
#define INBOX_PREFETCH 16

/*
 * Put every inbox event in its rung-0 bucket. The bucket words are read in
 * an order known in advance, so they are prefetched: INBOX_PREFETCH entries
 * ahead the word, half as far ahead the chunk it points to (for writing).
 * The events themselves were scheduled moments ago and are still cached.
 * Cannot fail: rung_add() keeps a free chunk per inbox entry in reserve.
 */
static void inbox_flush(struct sim_eventq *q)
{
    struct sim_evq_rung *r = &q->rung[0];
    const struct sim_evq_entry *e = q->inbox;
    uint32_t n = q->inbox_len;

    q->inbox_len = 0;                   /* its reserve is now ours */
    q->inbox_min = SIM_TICK_MAX;
    r->count -= n;                      /* rung_add() counts them again */
    for (uint32_t i = 0; i < n; i++) {
        if (i + INBOX_PREFETCH < n)
            __builtin_prefetch(&r->bucket[(e[i + INBOX_PREFETCH].when - r->start) >> r->shift]);
        if (i + INBOX_PREFETCH / 2 < n)
            __builtin_prefetch(bucket_head(r->bucket[(e[i + INBOX_PREFETCH / 2].when -
                                                      r->start) >> r->shift]), 1);
        (void)rung_add(q, 0, e[i].when, e[i].ev);
    }
}

static inline void inbox_add(struct sim_eventq *q, struct sim_event *ev)
{
    sim_tick_t t = ev->when;

    if (q->inbox_len == SIM_EVQ_INBOX_SLOTS)
        inbox_flush(q);
    ev->where = SIM_EVQ_INBOX;
    ev->idx = q->inbox_len;
    q->inbox[q->inbox_len].when = t;
    q->inbox[q->inbox_len++].ev = ev;
    q->inbox_min = t < q->inbox_min ? t : q->inbox_min;
    q->rung[0].count++;
}

static inline void inbox_del(struct sim_eventq *q, struct sim_event *ev)
{
    struct sim_evq_entry last = q->inbox[--q->inbox_len];

    q->inbox[ev->idx] = last;
    last.ev->idx = ev->idx;
    q->rung[0].count--;
    if (q->inbox_len == 0)
        q->inbox_min = SIM_TICK_MAX;
}

/* --- Refill: make the bottom hold the earliest events ------------------- */

/*
 * Choose rung 0's bucket width from the density of the earliest events, not
 * from top's whole span. Pending times are rarely uniform: in a hold model
 * with exponential increments the front is ~10x denser than the average, so
 * a width of span/n puts a dozen events in each early bucket while the late
 * ones stay empty. A sample of LADDER_SAMPLE evenly spaced events estimates
 * the time below which the first 1/8 of them lie; the width makes that
 * stretch n/8 buckets, i.e. about one event per bucket where it matters.
 * Events beyond the n buckets this allows stay in top for a later rung.
 */
#define LADDER_SAMPLE 64

static unsigned top_front_shift(const struct sim_eventq *q, size_t n,
                                sim_tick_t min, sim_tick_t max)
{
    sim_tick_t sample[LADDER_SAMPLE], front;
    size_t m = 0, step = n / LADDER_SAMPLE;
    unsigned k, kspan = rung_shift(max - min, n);

    for (size_t i = 0; i < LADDER_SAMPLE; i++)
        sample[m++] = q->top[i * step].when;
    /* the (m/8)-th smallest by partial selection: m is 64, this is cheap */
    for (size_t i = 0; i <= m / 8; i++) {
        size_t lo = i;

        for (size_t j = i + 1; j < m; j++)
            if (sample[j] < sample[lo])
                lo = j;
        front = sample[lo];
        sample[lo] = sample[i];
        sample[i] = front;
    }
    front = sample[m / 8] - min;
    /* width ~ front / (n / 8): the smallest k with front >> k < n / 8 */
    k = rung_shift(front, n / 8 ? n / 8 : 1);
    return k < kspan ? k : kspan;
}

static void eventq_from_top(struct sim_eventq *q)
{
    size_t n = q->top_len;
    sim_tick_t min = q->top_min, max = q->top_max;

    if (q->sorted)                      /* empty here: only the form changes */
        sorted_to_heap(q);

    if (n > LADDER_SMALL && max > min) {
        unsigned k = top_front_shift(q, n, min, max);
        sim_tick_t hi = sat_add(min, sat_shl(n, k)) - 1;    /* n buckets at most */
        size_t kept = 0;

        if (hi > max)
            hi = max;
        if (rung_spawn_prepare(q, 0, n, min, hi)) {
            sim_tick_t end = q->rung[0].end;

            q->heap_only = 0;

            q->top_min = SIM_TICK_MAX;
            q->top_max = 0;
            for (size_t i = 0; i < n; i++) {
                struct sim_evq_entry te = q->top[i];

                /* both paths write the event: fetch it for writing early */
                if (i + LADDER_PREFETCH < n)
                    __builtin_prefetch(q->top[i + LADDER_PREFETCH].ev, 1);
                if (te.when < end) {
                    if (rung_add(q, 0, te.when, te.ev) != 0) {
                        rung_unspawn(q, 0);     /* out of memory: heap all */
                        for (size_t j = 0; j < kept; j++)
                            heap_push(q, q->top[j].ev);
                        for (; i < n; i++)
                            heap_push(q, q->top[i].ev);
                        goto heaped;
                    }
                } else {                /* stays in top, compacted */
                    te.ev->idx = (uint32_t)kept;
                    q->top[kept++] = te;
                    q->top_min = te.when < q->top_min ? te.when : q->top_min;
                    q->top_max = te.when > q->top_max ? te.when : q->top_max;
                }
            }
            q->top_len = kept;
            q->top_start = end;
            return;
        }
    }
    for (size_t i = 0; i < n; i++)
        heap_push(q, q->top[i].ev);
heaped:
    q->top_len = 0;
    q->top_min = SIM_TICK_MAX;
    q->top_max = 0;
    /* Everything is in the heap: keep it that way while it is small (see
     * sim_eventq_insert), rather than send later events through top. */
    q->heap_only = 1;
    q->heap_max = max;
    q->top_start = SIM_TICK_MAX;
}

static void eventq_from_rung(struct sim_eventq *q)
{
    unsigned level = q->nrungs - 1;
    struct sim_evq_rung *r = &q->rung[level];
    struct sim_evq_chunk *list, *c, *next;
    uint32_t head_fill, fill;
    sim_tick_t min = SIM_TICK_MAX, max = 0;
    size_t n = 0;
    int split;

    /* Rung 0 must not pass the inbox's earliest event: stop at its bucket
     * and place the inbox first (inbox_min >= cur_start, so stop >= cur). */
    if (level == 0 && q->inbox_len) {
        size_t stop = (size_t)((q->inbox_min - r->start) >> r->shift);

        while (!r->bucket[r->cur] && r->cur < stop)
            rung_advance(r);
        if (r->cur >= stop)
            inbox_flush(q);
    }
    while (!r->bucket[r->cur])
        rung_advance(r);
    list = bucket_head(r->bucket[r->cur]);
    head_fill = bucket_fill(r->bucket[r->cur]);
    r->bucket[r->cur] = 0;
    rung_advance(r);
    r->cur_start = sat_add(r->start, sat_shl(r->cur, r->shift));

    /* The common case: one chunk, at most three events, never split. */
    if (!list->next) {
        r->count -= head_fill;
        heap_fill_small(q, list->e, head_fill);
        pool_put(q, list);
        return;
    }

    /* The times are in the chunks: no event is read to find the range. */
    for (c = list, fill = head_fill; c; c = c->next, fill = SIM_EVQ_CHUNK_SLOTS) {
        for (uint32_t j = 0; j < fill; j++) {
            sim_tick_t t = c->e[j].when;

            min = t < min ? t : min;
            max = t > max ? t : max;
        }
        n += fill;
    }
    r->count -= n;

    /*
     * The finer rung spans from the earliest event to the end of this
     * bucket, not just to the latest event: anything scheduled later into
     * this bucket's slice must find a bucket there, because the parent now
     * sends everything below its cur_start down to it.
     */
    split = n > LADDER_THRES && max > min && level + 1 < SIM_EVQ_MAX_RUNGS &&
            rung_spawn_prepare(q, level + 1, n, min, r->cur_start - 1);
    for (c = list, fill = head_fill; c; c = next, fill = SIM_EVQ_CHUNK_SLOTS) {
        next = c->next;
        for (uint32_t j = 0; j < fill; j++) {
            if (split && rung_add(q, level + 1, c->e[j].when, c->e[j].ev) != 0) {
                rung_unspawn(q, level + 1);     /* out of memory: heap all */
                split = 0;
            }
            if (!split)
                heap_push(q, c->e[j].ev);
        }
        pool_put(q, c);
    }
}

static inline void eventq_refill(struct sim_eventq *q)
{
    heap_settle(q);
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
    q->inbox_min = SIM_TICK_MAX;
}

void sim_eventq_destroy(struct sim_eventq *q)
{
    struct evq_slab *slab = q->slabs;

    while (slab) {
        struct evq_slab *next = slab->next;

        free(slab);
        slab = next;
    }
    free(q->free_stack);
    free(q->heap);
    free(q->top);
    for (unsigned i = 0; i < SIM_EVQ_MAX_RUNGS; i++)
        free(q->rung[i].bucket);
    memset(q, 0, sizeof(*q));
}

static void eventq_update_room(struct sim_eventq *q)
{
    size_t room = q->heap_cap - 1 < q->top_cap ? q->heap_cap - 1 : q->top_cap;

    q->room = room < UINT32_MAX ? room : UINT32_MAX;  /* idx is 32 bits */
}

int sim_eventq_grow(struct sim_eventq *q)
{
    size_t need = q->count + 1;

    if (need > UINT32_MAX)
        return SIM_ENOMEM;
    /* Both the heap and top may have to hold every pending event at once. */
    if (need + 1 > q->heap_cap) {     /* + the sentinel slot */
        size_t cap = q->heap_cap ? 2 * q->heap_cap : 64;
        struct sim_evq_slot *h = realloc(q->heap, cap * sizeof(*h));

        if (!h)
            return SIM_ENOMEM;
        q->heap = h;
        q->heap_cap = cap;
    }
    if (need > q->top_cap) {
        size_t cap = q->top_cap ? 2 * q->top_cap : 64;
        struct sim_evq_entry *t = realloc(q->top, cap * sizeof(*t));

        if (!t)
            return SIM_ENOMEM;
        q->top = t;
        q->top_cap = cap;
    }
    eventq_update_room(q);
    /* An insert takes at most one chunk; the inbox's batch one per entry. */
    return pool_grow(q, q->inbox_len + 1);
}

void sim_eventq_insert(struct sim_eventq *q, struct sim_event *ev)
{
    sim_tick_t t = ev->when;

    q->count++;
    if (t >= q->top_start) {
        top_add(q, ev);
        return;
    }
    if (q->nrungs && t >= q->rung[0].cur_start) {
        inbox_add(q, ev);
        return;
    }
    /*
     * A small queue is all heap: a heap of up to LADDER_SMALL events lives
     * in L1, and an event sent to top would cost a top slot, a removal of
     * the popped root (heap_push could not reuse it) and a push later. At
     * LADDER_SMALL the ladder takes over again: every heap event is at or
     * before heap_max, so top starts after it.
     */
    if (q->heap_only) {
        if (q->sorted) {
            if (q->heap_len < SORTED_MAX) {
                q->heap_max = t > q->heap_max ? t : q->heap_max;
                sorted_insert(q, ev);
                return;
            }
            sorted_to_heap(q);          /* heap_push() sees only heaps */
        }
        if (q->heap_len < LADDER_SMALL) {
            q->heap_max = t > q->heap_max ? t : q->heap_max;
            heap_push(q, ev);
            return;
        }
        q->heap_only = 0;
        if (q->sorted)                  /* (SORTED_MAX < LADDER_SMALL: never) */
            sorted_to_heap(q);
        q->top_start = sat_add(q->heap_max, 1);
        if (t >= q->top_start) {
            top_add(q, ev);
            return;
        }
        heap_push(q, ev);
        return;
    }
    /* Coarsest rung first: in the common case the first test places it. */
    for (unsigned i = 1; i < q->nrungs; i++) {
        if (t >= q->rung[i].cur_start) {
            (void)rung_add(q, i, t, ev);    /* reserve() left a free chunk */
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
        if (q->sorted) {
            sorted_remove(q, ev->idx);
            break;
        }
        heap_settle(q);                 /* may move ev: read idx after */
        heap_remove(q, ev->idx);
        break;
    case SIM_EVQ_INBOX:
        inbox_del(q, ev);
        break;
    default:
        rung_del(q, ev);
        break;
    }
    q->count--;
    ev->where = SIM_EVQ_NONE;
}

struct sim_event *sim_eventq_peek(struct sim_eventq *q)
{
    eventq_refill(q);
    return q->heap_len ? q->heap[q->base].ev : NULL;
}

/* pop_slow() of a sorted bottom: kept out of the heap's path. */
static __attribute__((noinline)) struct sim_event *sorted_pop(struct sim_eventq *q,
                                                              sim_tick_t limit)
{
    struct sim_event *ev;

    if (q->heap_len == 0 || q->heap[q->base].when > limit)
        return NULL;
    ev = q->heap[q->base].ev;
    q->base++;
    q->heap_len--;
    q->count--;
    ev->where = SIM_EVQ_NONE;
    return ev;
}

struct sim_event *sim_eventq_pop_slow(struct sim_eventq *q, sim_tick_t limit)
{
    struct sim_event *ev;

    eventq_refill(q);
    /* A small queue that was a heap becomes sorted again (see SORTED_MAX). */
    if (q->heap_only && q->heap_len <= SORTED_BACK && !q->sorted)
        heap_to_sorted(q);
    if (q->sorted)
        return sorted_pop(q, limit);
    if (q->heap_len == 0 || q->heap[0].when > limit)
        return NULL;
    ev = q->heap[0].ev;
    q->dead_root = 1;                   /* removed lazily: see heap_push */
    q->count--;
    ev->where = SIM_EVQ_NONE;
    return ev;
}
