/*
 * nvme.c - NVMe-style I/O queue: commands with PRP lists at a queue depth.
 *
 * `slots` commands are outstanding at most (the queue depth). Each command
 * moves one block of `size` bytes (a multiple of 4 KiB pages) to or from a
 * host buffer; `write_ratio` of them are storage writes (the device reads
 * memory), the rest storage reads (the device writes memory). A command's
 * life, as an NVMe driver and controller do it:
 *   1. the driver maps the buffer (dma_map per I/O under strict and lazy;
 *      buffers are mapped once under persistent and passthrough) and writes
 *      the 64-byte submission entry; the doorbell follows the CPU work;
 *   2. the controller reads the submission entry and, for blocks of more
 *      than two pages, the PRP list (8 bytes per page after the first; two
 *      pages fit in PRP1 and PRP2);
 *   3. storage read: the media time, then the data write; storage write:
 *      the data read, then the media time. The media time is uniform in
 *      [m/2, 3m/2] for media_latency m (mean m): flash reads vary, and
 *      without the spread the commands of a closed loop stay in lock step
 *      (all in the media, then all on the link) and halve the throughput;
 *   4. the controller writes the 16-byte completion entry; the driver
 *      unmaps (per I/O) and, closed loop, submits the next command on that
 *      slot at once; open loop, commands arrive at `rate` / size per second
 *      and one finding every slot busy is dropped.
 * Submission and completion queues and PRP lists live in one coherent
 * region mapped once at start (64 + 16 + 8 x pages bytes per slot).
 * Buffers sit at buf_base + slot x size; the IOVA allocator decides the
 * device addresses. Per command: four or five DMA transfers and, per I/O,
 * one map and one unmap; no allocation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dev/traffic/traffic.h"
#include "engine/error.h"

#define SQE_BYTES 64
#define CQE_BYTES 16
#define PRP_BYTES 8

enum cmd_state { C_FREE, C_MAP, C_SQE, C_MEDIA, C_DATA, C_CQE, C_UNMAP };

struct nvme_cmd {
    struct traffic *t;
    unsigned idx;
    uint8_t state, pending;
    bool write;                     /* storage write: the device reads memory */
    int status;
    uint64_t buf_pa, buf_iova;
    sim_tick_t issued;
    struct dma_xfer sqe, prp, data, cqe;
    struct sim_event ev;            /* CPU work done, or media latency over */
};

struct nvme {
    struct nvme_cmd *cmd;
    struct nvme_cmd **free;         /* open loop: free slots (a stack) */
    unsigned nfree;
    uint64_t region_iova;           /* SQ, CQ and PRP lists */
    uint64_t pages;                 /* per block */
    uint64_t per_slot;              /* region bytes per slot */
    struct lathist cmd_lat;
};

static void submit(struct nvme_cmd *c, struct dma_xfer *x, uint64_t iova, uint32_t bytes,
                   bool write)
{
    x->iova = iova;
    x->bytes = bytes;
    x->write = write;
    dma_engine_submit(c->t->eng, x);
}

static uint64_t slot_region(const struct nvme *n, const struct nvme_cmd *c)
{
    return n->region_iova + c->idx * n->per_slot;
}

static void at(struct nvme_cmd *c, sim_tick_t when)
{
    sim_tick_t now = sim_now(c->t->sim);

    sim_event_schedule(c->t->sim, &c->ev, when < now ? now : when);
}

static sim_tick_t media_time(struct traffic *t)
{
    double m = (double)t->cfg.media_latency;

    return (sim_tick_t)llround(m * (0.5 + sim_rng_uniform(&t->rng)));
}

/* Start a command on slot c: the driver maps the buffer. */
static void cmd_start(struct nvme_cmd *c)
{
    struct traffic *t = c->t;
    sim_tick_t done = sim_now(t->sim);

    c->write = t->cfg.write_ratio >= 1.0 ||
               (t->cfg.write_ratio > 0.0 && sim_rng_uniform(&t->rng) < t->cfg.write_ratio);
    c->status = 0;
    c->issued = sim_now(t->sim);
    c->state = C_MAP;
    if (os_dma_per_io(t->os)) {
        if (os_dma_map(t->os, c->idx % t->os->cfg.cpus, c->buf_pa, t->cfg.size,
                       c->write ? IOMMU_RO : IOMMU_WO, &c->buf_iova, &done) == 0)
            t->st.maps++;
        else
            c->buf_iova = 0;        /* no IOVA space: its data transfer faults */
    }
    at(c, done);
}

static void cmd_complete(struct nvme_cmd *c)
{
    struct traffic *t = c->t;
    struct nvme *n = t->priv;
    sim_tick_t done = sim_now(t->sim);

    t->st.completed++;
    if (c->status)
        t->st.errors++;
    else
        t->st.bytes += t->cfg.size;
    lathist_add(&n->cmd_lat, sim_now(t->sim) - c->issued);
    c->state = C_UNMAP;
    if (os_dma_per_io(t->os) && c->buf_iova) {
        os_dma_unmap(t->os, c->idx % t->os->cfg.cpus, c->buf_iova, t->cfg.size, &done);
        t->st.unmaps++;
    }
    at(c, done);
}

static void xfer_done(struct dma_xfer *x)
{
    struct nvme_cmd *c = x->ctx;
    struct traffic *t = c->t;

    if (x->status && !c->status)
        c->status = x->status;
    if (--c->pending)
        return;
    switch (c->state) {
    case C_SQE:
        if (c->write) {             /* fetch the data, then program the media */
            c->state = C_DATA;
            c->pending = 1;
            submit(c, &c->data, c->buf_iova, t->cfg.size, false);
        } else {
            c->state = C_MEDIA;
            at(c, sim_now(t->sim) + media_time(t));
        }
        break;
    case C_DATA:
        if (c->write) {
            c->state = C_MEDIA;
            at(c, sim_now(t->sim) + media_time(t));
            break;
        }
        c->state = C_CQE;
        c->pending = 1;
        submit(c, &c->cqe, slot_region(t->priv, c) + SQE_BYTES, CQE_BYTES, true);
        break;
    case C_CQE:
        cmd_complete(c);
        break;
    default:
        break;
    }
}

static void cmd_event(struct sim_event *ev, void *arg)
{
    struct nvme_cmd *c = arg;
    struct traffic *t = c->t;
    struct nvme *n = t->priv;
    uint64_t base = slot_region(n, c);

    (void)ev;
    switch (c->state) {
    case C_MAP:                     /* doorbell: fetch the SQE (and PRP list) */
        c->state = C_SQE;
        c->pending = 1;
        submit(c, &c->sqe, base, SQE_BYTES, false);
        if (n->pages > 2) {
            c->pending++;
            submit(c, &c->prp, base + SQE_BYTES + CQE_BYTES,
                   (uint32_t)((n->pages - 1) * PRP_BYTES), false);
        }
        break;
    case C_MEDIA:
        if (c->write) {
            c->state = C_CQE;
            c->pending = 1;
            submit(c, &c->cqe, base + SQE_BYTES, CQE_BYTES, true);
        } else {
            c->state = C_DATA;
            c->pending = 1;
            submit(c, &c->data, c->buf_iova, t->cfg.size, true);
        }
        break;
    case C_UNMAP:
        if (t->cfg.issue == TRAFFIC_CLOSED) {
            cmd_start(c);
        } else {
            c->state = C_FREE;
            n->free[n->nfree++] = c;
        }
        break;
    default:
        break;
    }
}

static void nvme_arrival(struct sim_event *ev, void *arg)
{
    struct traffic *t = arg;
    struct nvme *n = t->priv;

    (void)ev;
    t->st.offered++;
    if (n->nfree)
        cmd_start(n->free[--n->nfree]);
    else
        t->st.dropped++;
    t->t_next += t->cfg.poisson ? sim_rng_exponential(&t->rng, t->gap) : t->gap;
    if (t->t_next < (double)(SIM_TICK_MAX - 1))
        sim_event_schedule(t->sim, &t->arrival, traffic_round_tick(t->t_next));
}

static void nvme_destroy(struct traffic *t)
{
    struct nvme *n = t->priv;

    if (!n)
        return;
    free(n->cmd);
    free(n->free);
    free(n);
    t->priv = NULL;
}

static int nvme_init(struct traffic *t, char *err, size_t errlen)
{
    const struct traffic_cfg *c = &t->cfg;
    struct nvme *n;

    if (!c->size || c->size % 4096 || !c->slots)
        return sim_error_format(err, errlen, SIM_EINVAL, c->path,
                                "nvme: size must be a multiple of 4 KiB and slots >= 1 (got "
                                "size %u, slots %u)", c->size, c->slots);
    if (c->issue == TRAFFIC_OPEN && !c->rate)
        return sim_error_format(err, errlen, SIM_EINVAL, c->path,
                                "open-loop issue needs a rate above 0");
    n = calloc(1, sizeof(*n));
    if (!n)
        return sim_error_format(err, errlen, SIM_ENOMEM, c->path, NULL);
    t->priv = n;
    n->cmd = calloc(c->slots, sizeof(*n->cmd));
    n->free = calloc(c->slots, sizeof(*n->free));
    if (!n->cmd || !n->free) {
        nvme_destroy(t);
        return sim_error_format(err, errlen, SIM_ENOMEM, c->path, NULL);
    }
    n->pages = c->size / 4096;
    /* SQE + CQE + PRP list, rounded to 64 bytes. */
    n->per_slot = (SQE_BYTES + CQE_BYTES + n->pages * PRP_BYTES + 63) & ~UINT64_C(63);
    t->arrival.cb = nvme_arrival;
    for (unsigned i = 0; i < c->slots; i++) {
        struct nvme_cmd *m = &n->cmd[i];
        struct dma_xfer *xs[4] = { &m->sqe, &m->prp, &m->data, &m->cqe };

        m->t = t;
        m->idx = i;
        m->buf_pa = c->buf_pa + (uint64_t)i * c->size;
        for (unsigned k = 0; k < 4; k++) {
            xs[k]->done = xfer_done;
            xs[k]->ctx = m;
        }
        sim_event_init(&m->ev, cmd_event, m, SIM_PRIO_DEFAULT);
    }
    return 0;
}

static int nvme_start(struct traffic *t, char *err, size_t errlen)
{
    struct nvme *n = t->priv;
    const struct traffic_cfg *c = &t->cfg;
    uint64_t bytes = n->per_slot * c->slots;
    uint64_t region_pa = (c->buf_pa - bytes) & ~UINT64_C(4095);
    sim_tick_t done;
    int r;

    r = os_dma_map(t->os, 0, region_pa, bytes, IOMMU_RW, &n->region_iova, &done);
    if (r)
        return sim_error_format(err, errlen, r, c->path, "cannot map the queues");
    for (unsigned i = 0; i < c->slots; i++) {
        struct nvme_cmd *m = &n->cmd[i];

        if (!os_dma_per_io(t->os)) {
            r = os_dma_map(t->os, i % t->os->cfg.cpus, m->buf_pa, c->size, IOMMU_RW,
                           &m->buf_iova, &done);
            if (r)
                return sim_error_format(err, errlen, r, c->path,
                                        "cannot map the buffer of slot %u", i);
        }
        if (c->issue == TRAFFIC_CLOSED)
            cmd_start(m);
        else
            n->free[n->nfree++] = &n->cmd[c->slots - 1 - i];
    }
    if (c->issue == TRAFFIC_OPEN) {
        t->gap = (double)c->size * (double)SIM_TICKS_PER_S / (double)c->rate;
        t->t_next = (double)sim_now(t->sim);
        return sim_event_schedule(t->sim, &t->arrival, sim_now(t->sim));
    }
    return 0;
}

static void nvme_reset_stats(struct traffic *t)
{
    lathist_reset(&((struct nvme *)t->priv)->cmd_lat);
}

const struct lathist *traffic_nvme_command_latency(const struct traffic *t)
{
    return t->ops == &traffic_nvme && t->priv ? &((const struct nvme *)t->priv)->cmd_lat : NULL;
}

const struct traffic_ops traffic_nvme = {
    .name = "nvme",
    .doc = "NVMe-style commands of `size` bytes at queue depth `slots`: SQE and PRP-list "
           "reads, media latency, data, CQE write, per-I/O map/unmap",
    .init = nvme_init,
    .start = nvme_start,
    .reset_stats = nvme_reset_stats,
    .destroy = nvme_destroy,
};
