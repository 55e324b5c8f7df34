/*
 * resource.c - N servers and a FIFO queue (see resource.h for the contract).
 *
 * Acquire mode keeps an intrusive singly linked FIFO of caller-owned
 * requests and integrates busy servers and queue length over time at every
 * change (two multiply-adds). Reserve mode keeps, per server, the tick it
 * next becomes free; a new request takes the server that frees first, which
 * is exactly FIFO order because arrivals come in nondecreasing time. Cost:
 * O(servers) per reserve, which is fine for the handful of servers a
 * channel or a lock has.
 */
#include "engine/resource.h"

#include <stdlib.h>
#include <string.h>

int sim_resource_init(struct sim_resource *r, struct sim *sim, unsigned servers)
{
    memset(r, 0, sizeof(*r));
    if (servers == 0)
        return SIM_EINVAL;
    r->free_at = calloc(servers, sizeof(*r->free_at));
    if (!r->free_at)
        return SIM_ENOMEM;
    r->sim = sim;
    r->servers = servers;
    r->last = sim_now(sim);
    r->st.since = sim_now(sim);
    return 0;
}

void sim_resource_destroy(struct sim_resource *r)
{
    free(r->free_at);
    r->free_at = NULL;
    r->head = r->tail = NULL;
}

static inline void record_wait(struct sim_resource_stats *st, sim_tick_t w)
{
    unsigned bin = 0;
    double d = (double)w;

    st->waits++;
    if (w == 0) {
        /* Most requests of a lightly loaded server: the sums and the max
         * do not change, bin 0 counts it. */
        st->wait_hist[0]++;
        return;
    }
    st->wait_sum += d;
    st->wait_sumsq += d * d;
    if (w > st->wait_max)
        st->wait_max = w;
    bin = 64u - (unsigned)__builtin_clzll(w);
    if (bin >= SIM_RESOURCE_HIST_BINS)
        bin = SIM_RESOURCE_HIST_BINS - 1;
    st->wait_hist[bin]++;
}

/* Integrate busy servers and queue length from r->last to now. */
static void advance(struct sim_resource *r)
{
    sim_tick_t now = sim_now(r->sim);
    double dt = (double)(now - r->last);

    r->st.busy_area += dt * r->busy;
    r->st.queue_area += dt * (double)r->qlen;
    r->last = now;
}

void sim_resource_sync(struct sim_resource *r)
{
    if (r->mode == SIM_RESOURCE_ACQUIRE)
        advance(r);
}

int sim_resource_acquire(struct sim_resource *r, struct sim_resource_req *req)
{
    if (r->mode == SIM_RESOURCE_RESERVE)
        return SIM_ESTATE;
    r->mode = SIM_RESOURCE_ACQUIRE;
    advance(r);
    r->st.requests++;
    if (r->busy < r->servers) {
        r->busy++;
        r->st.immediate++;
        record_wait(&r->st, 0);
        return 1;
    }
    req->next = NULL;
    req->enq = sim_now(r->sim);
    if (r->tail)
        r->tail->next = req;
    else
        r->head = req;
    r->tail = req;
    r->qlen++;
    if (r->qlen > r->st.queue_max)
        r->st.queue_max = r->qlen;
    return 0;
}

int sim_resource_release(struct sim_resource *r)
{
    struct sim_resource_req *req;

    if (r->mode != SIM_RESOURCE_ACQUIRE || r->busy == 0)
        return SIM_ESTATE;
    advance(r);
    req = r->head;
    if (!req) {
        r->busy--;
        return 0;
    }
    /* Hand the server straight to the first waiter: busy stays the same. */
    r->head = req->next;
    if (!r->head)
        r->tail = NULL;
    r->qlen--;
    record_wait(&r->st, sim_now(r->sim) - req->enq);
    req->granted(req);
    return 0;
}

/*
 * Reserve for work arriving at @now (sim_now, or a later arrival tick).
 *
 * A link direction, a lookup port and a memory channel are one server each,
 * and the quick start reserves three or four of them per DMA request: the
 * first branch is that case once the mode is set, with no server search and
 * the zero-wait bookkeeping of record_wait() written out (about 20
 * instructions instead of 50). It books exactly what the general path below
 * books, in the same order, so the statistics are the same bit for bit.
 */
static inline sim_tick_t reserve_from(struct sim_resource *r, sim_tick_t now,
                                      sim_tick_t service, sim_tick_t *wait)
{
    sim_tick_t start;
    unsigned i, best = 0;

    if (__builtin_expect(r->servers == 1 && r->mode == SIM_RESOURCE_RESERVE, 1)) {
        sim_tick_t f = r->free_at[0];

        start = f > now ? f : now;
        r->free_at[0] = start + service;
        r->st.requests++;
        r->st.busy_area += (double)service;
        if (start == now) {
            r->st.immediate++;
            r->st.waits++;
            r->st.wait_hist[0]++;
        } else {
            record_wait(&r->st, start - now);
            r->st.queue_area += (double)(start - now);
        }
        if (wait)
            *wait = start - now;
        return start + service;
    }
    if (r->mode == SIM_RESOURCE_ACQUIRE)
        return SIM_TICK_MAX;
    r->mode = SIM_RESOURCE_RESERVE;
    for (i = 1; i < r->servers; i++)
        if (r->free_at[i] < r->free_at[best])
            best = i;
    start = r->free_at[best] > now ? r->free_at[best] : now;
    r->free_at[best] = start + service;
    r->st.requests++;
    r->st.busy_area += (double)service;
    if (start == now) {
        r->st.immediate++;
        record_wait(&r->st, 0);     /* queue_area += 0 */
    } else {
        record_wait(&r->st, start - now);
        r->st.queue_area += (double)(start - now);   /* Little: sum of waits */
    }
    if (wait)
        *wait = start - now;
    return start + service;
}

sim_tick_t sim_resource_reserve(struct sim_resource *r, sim_tick_t service,
                                sim_tick_t *wait)
{
    return reserve_from(r, sim_now(r->sim), service, wait);
}

sim_tick_t sim_resource_reserve_at(struct sim_resource *r, sim_tick_t arrival,
                                   sim_tick_t service, sim_tick_t *wait)
{
    sim_tick_t now = sim_now(r->sim);

    return reserve_from(r, arrival > now ? arrival : now, service, wait);
}

sim_tick_t sim_resource_next_start_at(const struct sim_resource *r, sim_tick_t arrival)
{
    sim_tick_t s = sim_resource_next_start(r);

    return arrival > s ? arrival : s;
}

sim_tick_t sim_resource_next_start(const struct sim_resource *r)
{
    sim_tick_t now = sim_now(r->sim), best = r->free_at[0];

    for (unsigned i = 1; i < r->servers; i++)
        if (r->free_at[i] < best)
            best = r->free_at[i];
    return best > now ? best : now;
}

double sim_resource_utilisation(struct sim_resource *r)
{
    sim_tick_t span;

    sim_resource_sync(r);
    span = sim_now(r->sim) - r->st.since;
    return span ? r->st.busy_area / ((double)span * r->servers) : 0.0;
}

double sim_resource_mean_wait(const struct sim_resource *r)
{
    return r->st.waits ? r->st.wait_sum / (double)r->st.waits : 0.0;
}

double sim_resource_mean_queue(struct sim_resource *r)
{
    sim_tick_t span;

    sim_resource_sync(r);
    span = sim_now(r->sim) - r->st.since;
    return span ? r->st.queue_area / (double)span : 0.0;
}

void sim_resource_reset_stats(struct sim_resource *r)
{
    sim_resource_sync(r);
    memset(&r->st, 0, sizeof(r->st));
    r->st.since = sim_now(r->sim);
    r->last = sim_now(r->sim);
}
