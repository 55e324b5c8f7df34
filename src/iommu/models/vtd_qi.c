/*
 * vtd_qi.c - VT-d invalidation timing: the descriptor ring and the
 * register interface (see vtd_qi.h).
 *
 * Nothing here allocates after init: the ring of completion ticks is sized
 * once. A post costs O(1) plus the backward scan that counts the pending
 * descriptors (a handful in practice: the driver waits after each flush).
 */
#include "iommu/models/vtd_qi.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

int vtd_qi_init(struct vtd_qi *q, struct sim *sim, const struct vtd_qi_cfg *cfg,
                vtd_qi_process_fn process, void *owner, const char *path,
                char *err, size_t errlen)
{
    unsigned len = cfg->registers ? 1 : cfg->length;

    memset(q, 0, sizeof(*q));
    if (len < 1 || (!cfg->registers && cfg->length < 2))
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "invalidation queue length (got %u, expected >= 2)",
                                cfg->length);
    q->cfg = *cfg;
    q->cfg.length = len;
    q->sim = sim;
    q->process = process;
    q->owner = owner;
    q->done_at = calloc(len, sizeof(*q->done_at));
    if (!q->done_at)
        return sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
    return 0;
}

void vtd_qi_destroy(struct vtd_qi *q)
{
    free(q->done_at);
    q->done_at = NULL;
}

unsigned vtd_qi_pending(const struct vtd_qi *q, sim_tick_t t)
{
    uint64_t n = q->posted < q->cfg.length ? q->posted : q->cfg.length;
    unsigned slot = q->tail, k = 0;

    /* Completion ticks are non-decreasing in posting order: walk back from
     * the newest until one is done. */
    while (k < n) {
        slot = slot ? slot - 1 : q->cfg.length - 1;
        if (q->done_at[slot] <= t)
            break;
        k++;
    }
    return k;
}

/* When a post at @at is submitted: a full ring makes the driver spin until
 * the oldest slot is consumed. In register mode the one "slot" is the
 * command register, polled until the previous command is done, which is
 * the same arithmetic. */
static sim_tick_t submit_tick(const struct vtd_qi *q, sim_tick_t at)
{
    sim_tick_t sub = at, now = sim_now(q->sim);

    if (sub < now)
        sub = now;
    if (q->posted >= q->cfg.length && q->done_at[q->tail] > sub)
        sub = q->done_at[q->tail];
    return sub;
}

sim_tick_t vtd_qi_start(const struct vtd_qi *q, sim_tick_t at)
{
    sim_tick_t sub = submit_tick(q, at);

    return sub > q->free_at ? sub : q->free_at;
}

sim_tick_t vtd_qi_post(struct vtd_qi *q, const struct vtd_desc *d, sim_tick_t at)
{
    sim_tick_t base = at > sim_now(q->sim) ? at : sim_now(q->sim);
    sim_tick_t sub = submit_tick(q, at), start, ticks, done;
    unsigned occ;

    if (sub > base && !q->cfg.registers)
        q->st.full_stalls++;        /* the ring was full */
    occ = vtd_qi_pending(q, sub);
    q->st.occ_sum += occ;
    if (occ > q->st.occ_max)
        q->st.occ_max = occ;

    start = sub > q->free_at ? sub : q->free_at;
    ticks = q->cfg.time[d->type];
    done = start + ticks;
    /* The users run inside this descriptor's processing, after its own
     * part: their events reach them at `done` and their lock books them
     * from then; the descriptor ends when they do (vtd_qi.h), their lock
     * wait counted once. */
    if (d->users_done > done)
        done = d->users_done;
    if (q->process) {
        sim_tick_t u = q->process(q->owner, d, start + ticks);

        if (u > done)
            done = u;
    }
    ticks = done - start;
    /* Processing is in order: the unit takes the next descriptor once this
     * one has completed, which keeps done_at[] non-decreasing. */
    q->free_at = done;
    q->done_at[q->tail] = done;
    q->tail = (q->tail + 1) % q->cfg.length;
    q->posted++;
    q->st.desc[d->type]++;
    q->st.busy += (double)ticks;
    return done;
}

sim_tick_t vtd_qi_sync(struct vtd_qi *q, const struct vtd_desc *d, unsigned n,
                       sim_tick_t at)
{
    static const struct vtd_desc wait = { .type = VTD_DESC_WAIT };
    sim_tick_t done = at, base = at > sim_now(q->sim) ? at : sim_now(q->sim), w;
    unsigned i;

    for (i = 0; i < n; i++) {
        /* Register mode: the next command is written once the previous one
         * has been polled to completion. */
        done = vtd_qi_post(q, &d[i], q->cfg.registers && i ? done : at);
    }
    if (!q->cfg.registers)
        done = vtd_qi_post(q, &wait, at);
    else if (n == 0)
        done = q->free_at > base ? q->free_at : base;
    w = done > base ? done - base : 0;
    q->st.syncs++;
    q->st.wait_sum += (double)w;
    if (w > q->st.wait_max)
        q->st.wait_max = w;
    return done;
}

void vtd_qi_reset_stats(struct vtd_qi *q)
{
    memset(&q->st, 0, sizeof(q->st));
}
