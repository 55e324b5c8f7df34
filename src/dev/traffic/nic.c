/*
 * nic.c - a NIC's receive or transmit ring at line rate.
 *
 * The ring has `ring` descriptors of desc_size bytes (mapped once at start,
 * as a driver's dma_alloc_coherent ring is) and one packet buffer of
 * buf_size bytes per descriptor. Packets arrive back to back at line rate:
 * a packet of L bytes occupies the wire for (L + 20) * 8 / line_rate
 * seconds (8 bytes of preamble and 12 of inter-frame gap); L is drawn from
 * the packet-size distribution (pkt_sizes with pkt_weights).
 *
 * Receive, per packet: the NIC takes the next descriptor in ring order; if
 * the driver has not re-posted it yet the packet is dropped (counted). It
 * reads the descriptor and writes the packet into the buffer, then writes
 * the descriptor back. The driver then, with per-I/O mapping (strict,
 * lazy), unmaps the buffer and maps a fresh one (dma_unmap_single +
 * dma_map_single on CPU idx mod cpus) and re-posts the descriptor when that
 * CPU work is done; with persistent or passthrough mapping it re-posts at
 * once. So when the driver's CPUs cannot keep up (strict invalidations at a
 * high packet rate), the ring runs dry and throughput falls below line rate.
 *
 * Transmit, per packet: the next free descriptor (else dropped: ring
 * full), the driver maps the buffer (per-I/O), then the NIC reads the
 * descriptor, reads the packet and writes the descriptor back; the driver
 * unmaps on completion and the descriptor is free again.
 *
 * Per packet: three DMA transfers and, per I/O, one map and one unmap; no
 * allocation. The driver's CPUs finish their work FIFO: each CPU's pending
 * re-posts share one event (a sim_fifo), however deep the backlog.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dev/traffic/traffic.h"
#include "engine/error.h"
#include "engine/fifo.h"

enum slot_state {
    S_FREE,         /* tx: free; rx: waiting for the driver to re-post */
    S_POSTED,       /* rx: buffer posted, ready for a packet */
    S_MAP,          /* tx: driver mapping the buffer */
    S_DMA,          /* rx: descriptor read + data write; tx: descriptor read */
    S_DATA,         /* tx: data read */
    S_WB,           /* descriptor write-back */
    S_DRIVER,       /* driver unmapping (and, rx, re-mapping) */
};

struct nic_slot {
    struct traffic *t;
    unsigned idx;
    uint8_t state;
    uint8_t pending;                /* transfers outstanding in this state */
    int status;
    uint32_t len;
    uint64_t buf_pa, buf_iova;
    sim_tick_t arrived;
    struct dma_xfer desc, data, wb;
    struct sim_event ev;            /* the slot's own event (work done at once) */
    struct sim_fifo_item cpu_done;  /* the end of the driver's CPU work */
    /* The driver's unmap (and re-map) ends at (ready_at, ready_order), the
     * place its CPU's event would have in the run: the descriptor is ready
     * from then on (slot_ready). */
    bool lazy;
    sim_tick_t ready_at;
    uint64_t ready_order;
};

struct nic {
    struct nic_slot *slot;
    unsigned next;                  /* the descriptor the next packet takes */
    uint64_t ring_iova;
    struct sim_empirical sizes;
    bool sizes_init;
    /* One packet size (the usual pkt_sizes): it, without a draw. The
     * traffic's rng serves only the size draws here, so skipping draws
     * whose answer is known changes nothing else. 0: draw. */
    uint32_t fixed_len;
    struct sim_event arrival;
    double t_next;
    double ps_per_bit;
    struct lathist pkt_lat;         /* arrival to descriptor write-back */
    /*
     * Per driver CPU, the slots whose driver work it is doing, in the order
     * that work ends (a CPU runs it FIFO). When the driver cannot keep up,
     * most of the ring waits here: as events of their own they made every
     * event-set operation of the run deeper (3 rings of 256 slots in
     * configs/vfio_nic.py); a sim_fifo keeps one event per CPU, same run.
     */
    struct sim_fifo *cpu;
    unsigned ncpu;
};

#define NIC_WIRE_OVERHEAD 20        /* preamble + SFD (8) and inter-frame gap (12) */

static void submit(struct nic_slot *s, struct dma_xfer *x, uint64_t iova, uint32_t bytes,
                   bool write)
{
    x->iova = iova;
    x->bytes = bytes;
    x->write = write;
    dma_engine_submit(s->t->eng, x);
}

static uint64_t desc_iova(const struct nic *n, const struct nic_slot *s)
{
    return n->ring_iova + (uint64_t)s->idx * s->t->cfg.desc_size;
}

static void slot_event_at(struct nic_slot *s, sim_tick_t when)
{
    sim_tick_t now = sim_now(s->t->sim);

    sim_event_schedule(s->t->sim, &s->ev, when < now ? now : when);
}

static void slot_event(struct sim_event *ev, void *arg);

static void cpu_fire(struct sim_fifo *f, struct sim_fifo_item *it)
{
    (void)f;
    slot_event(NULL, (char *)it - offsetof(struct nic_slot, cpu_done));
}

/*
 * The driver's work for slot @s on CPU @cpu ends at @when (>= now).
 *
 * After a packet (S_DRIVER) that end only makes the descriptor ready, and
 * the one event that looks at a descriptor's state is the arrival of a
 * packet for it. So no event: the end keeps the key (tick, FIFO place) its
 * CPU's event would have had, taken now as sim_fifo_push() takes it, and
 * the arrival compares that key with its own (slot_ready). Same order of
 * everything, same statistics; an event per packet less under strict and
 * lazy mapping. A transmit's map (S_MAP) starts DMA at its end: an event.
 */
static void slot_cpu_done(struct nic_slot *s, unsigned cpu, sim_tick_t when)
{
    struct nic *n = s->t->priv;
    sim_tick_t now = sim_now(s->t->sim);

    if (when < now)
        when = now;
    if (s->state == S_DRIVER) {
        s->lazy = true;
        s->ready_at = when;
        /* SIM_TICK_MAX never comes (sim_fifo_push refuses it, taking no
         * place): then no place is taken either. */
        if (when != SIM_TICK_MAX)
            s->ready_order = sim_event_order_take(s->t->sim, SIM_PRIO_DEFAULT);
        return;
    }
    if (sim_fifo_push(&n->cpu[cpu % n->ncpu], &s->cpu_done, when) != 0)
        slot_event_at(s, when);     /* (no room in the event set: as before) */
}

/* Called by the arrival for @s (the running event): the driver's work
 * for it has ended if its key comes before the arrival's. */
static void slot_ready(struct nic_slot *s)
{
    struct sim *sim = s->t->sim;
    sim_tick_t now = sim_now(sim);

    if (s->lazy && (s->ready_at < now ||
                    (s->ready_at == now && s->ready_order < sim_current_order(sim)))) {
        s->lazy = false;
        s->state = s->t->cfg.nic_tx ? S_FREE : S_POSTED;
    }
}

/* The packet is on the host (rx) or sent (tx): hand it to the driver. */
static void packet_done(struct nic_slot *s)
{
    struct traffic *t = s->t;
    struct nic *n = t->priv;
    unsigned cpu = s->idx % t->os->cfg.cpus;
    sim_tick_t done, t2;

    t->st.completed++;
    if (s->status)
        t->st.errors++;
    else
        t->st.bytes += s->len;
    lathist_add(&n->pkt_lat, sim_now(t->sim) - s->arrived);
    s->state = S_DRIVER;
    if (!os_dma_per_io(t->os)) {
        /*
         * No driver work: the descriptor is ready again now. Its event at
         * now would run after every event already due now, and the only
         * one that looks at this slot is the arrival of a packet for it:
         * unless that arrival is due now, the event changes nothing that
         * its absence would not, so the slot is ready at once (an event
         * per packet less, e.g. passthrough).
         */
        if (sim_event_is_scheduled(&n->arrival) &&
            sim_event_when(&n->arrival) == sim_now(t->sim) && &n->slot[n->next] == s)
            slot_event_at(s, sim_now(t->sim));
        else
            s->state = t->cfg.nic_tx ? S_FREE : S_POSTED;
        return;
    }
    os_dma_unmap(t->os, cpu, s->buf_iova, t->cfg.buf_size, &done);
    t->st.unmaps++;
    if (!t->cfg.nic_tx) {
        /* Re-arm with a fresh mapping of the buffer. */
        if (os_dma_map(t->os, cpu, s->buf_pa, t->cfg.buf_size, IOMMU_WO, &s->buf_iova, &t2) == 0) {
            t->st.maps++;
            if (t2 > done)
                done = t2;
        } else {
            s->buf_iova = 0;        /* no IOVA space: the packet into it faults */
        }
    }
    slot_cpu_done(s, cpu, done);
}

static void xfer_done(struct dma_xfer *x)
{
    struct nic_slot *s = x->ctx;
    struct traffic *t = s->t;

    if (x->status && !s->status)
        s->status = x->status;
    if (--s->pending)
        return;
    switch (s->state) {
    case S_DMA:
        if (t->cfg.nic_tx) {
            s->state = S_DATA;
            s->pending = 1;
            submit(s, &s->data, s->buf_iova, s->len, false);
            break;
        }
        /* rx: data is in */
        __attribute__((fallthrough));
    case S_DATA:
        s->state = S_WB;
        s->pending = 1;
        submit(s, &s->wb, desc_iova(t->priv, s), t->cfg.desc_size, true);
        break;
    case S_WB:
        packet_done(s);
        break;
    default:
        break;
    }
}

/* The driver's CPU work for a slot is over. */
static void slot_event(struct sim_event *ev, void *arg)
{
    struct nic_slot *s = arg;
    struct nic *n = s->t->priv;

    (void)ev;
    if (s->state == S_MAP) {        /* tx: mapped; ring the doorbell */
        s->state = S_DMA;
        s->pending = 1;
        submit(s, &s->desc, desc_iova(n, s), s->t->cfg.desc_size, false);
        return;
    }
    s->state = s->t->cfg.nic_tx ? S_FREE : S_POSTED;
}

static void nic_arrival(struct sim_event *ev, void *arg)
{
    struct traffic *t = arg;
    struct nic *n = t->priv;
    struct nic_slot *s = &n->slot[n->next];
    uint32_t len = n->fixed_len ? n->fixed_len
                                : (uint32_t)sim_empirical_sample(&n->sizes, &t->rng);

    (void)ev;
    t->st.offered++;
    slot_ready(s);
    if (s->state != (t->cfg.nic_tx ? S_FREE : S_POSTED)) {
        t->st.dropped++;
    } else {
        n->next = (n->next + 1) % t->cfg.ring;
        s->len = len;
        s->status = 0;
        s->arrived = sim_now(t->sim);
        if (!t->cfg.nic_tx) {
            s->state = S_DMA;
            s->pending = 2;
            submit(s, &s->desc, desc_iova(n, s), t->cfg.desc_size, false);
            submit(s, &s->data, s->buf_iova, len, true);
        } else if (os_dma_per_io(t->os)) {
            sim_tick_t done;

            s->state = S_MAP;
            if (os_dma_map(t->os, s->idx % t->os->cfg.cpus, s->buf_pa, t->cfg.buf_size,
                           IOMMU_RO, &s->buf_iova, &done) == 0)
                t->st.maps++;
            else
                s->buf_iova = 0;
            if (s->buf_iova)
                slot_cpu_done(s, s->idx % t->os->cfg.cpus, done);
            else
                slot_event_at(s, sim_now(t->sim));
        } else {
            s->state = S_MAP;
            slot_event_at(s, sim_now(t->sim));
        }
    }
    n->t_next += (double)(len + NIC_WIRE_OVERHEAD) * 8.0 * n->ps_per_bit;
    if (n->t_next < (double)(SIM_TICK_MAX - 1))
        sim_event_schedule(t->sim, &n->arrival, traffic_round_tick(n->t_next));
}

static void nic_destroy(struct traffic *t)
{
    struct nic *n = t->priv;

    if (!n)
        return;
    if (n->sizes_init)
        sim_empirical_destroy(&n->sizes);
    free(n->slot);
    free(n->cpu);
    free(n);
    t->priv = NULL;
}

static int nic_init(struct traffic *t, char *err, size_t errlen)
{
    const struct traffic_cfg *c = &t->cfg;
    struct nic *n;

    if (!c->ring || !c->line_rate || !c->desc_size || !c->buf_size || !c->npkt)
        return sim_error_format(err, errlen, SIM_EINVAL, c->path,
                                "ring, line_rate, desc_size, buf_size and pkt_sizes must be "
                                "non-zero");
    for (size_t i = 0; i < c->npkt; i++)
        if (c->pkt_sizes[i] < 1 || c->pkt_sizes[i] > c->buf_size ||
            c->pkt_sizes[i] != floor(c->pkt_sizes[i]))
            return sim_error_format(err, errlen, SIM_EINVAL, c->path,
                                    "pkt_sizes (got %g, expected whole bytes 1..buf_size = %u)",
                                    c->pkt_sizes[i], c->buf_size);
    n = calloc(1, sizeof(*n));
    if (!n)
        return sim_error_format(err, errlen, SIM_ENOMEM, c->path, NULL);
    t->priv = n;
    n->slot = calloc(c->ring, sizeof(*n->slot));
    if (!n->slot || sim_empirical_init(&n->sizes, c->pkt_sizes, c->pkt_weights, c->npkt)) {
        nic_destroy(t);
        return sim_error_format(err, errlen, SIM_EINVAL, c->path,
                                "pkt_weights must be >= 0 with a positive sum, one per size");
    }
    n->sizes_init = true;
    /* A draw from one size answers value[0] whatever the rng gives (index
     * 0 of 1, then value[0] or its alias, which is itself). */
    if (n->sizes.n == 1 && (n->sizes.prob[0] >= 1.0 || n->sizes.alias[0] == 0))
        n->fixed_len = (uint32_t)n->sizes.value[0];
    n->ncpu = t->os && t->os->cfg.cpus ? t->os->cfg.cpus : 1;
    n->cpu = calloc(n->ncpu, sizeof(*n->cpu));
    if (!n->cpu) {
        nic_destroy(t);
        return sim_error_format(err, errlen, SIM_ENOMEM, c->path, NULL);
    }
    for (unsigned i = 0; i < n->ncpu; i++)
        sim_fifo_init(&n->cpu[i], t->sim, cpu_fire, t, SIM_PRIO_DEFAULT);
    n->ps_per_bit = (double)SIM_TICKS_PER_S / (double)c->line_rate;
    sim_event_init(&n->arrival, nic_arrival, t, SIM_PRIO_DEFAULT);
    for (unsigned i = 0; i < c->ring; i++) {
        struct nic_slot *s = &n->slot[i];
        struct dma_xfer *xs[3] = { &s->desc, &s->data, &s->wb };

        s->t = t;
        s->idx = i;
        s->buf_pa = c->buf_pa + (uint64_t)i * c->buf_size;
        for (unsigned k = 0; k < 3; k++) {
            xs[k]->done = xfer_done;
            xs[k]->ctx = s;
        }
        sim_event_init(&s->ev, slot_event, s, SIM_PRIO_DEFAULT);
    }
    return 0;
}

static int nic_start(struct traffic *t, char *err, size_t errlen)
{
    struct nic *n = t->priv;
    const struct traffic_cfg *c = &t->cfg;
    /* The ring lives just below the buffers' physical range. */
    uint64_t ring_bytes = (uint64_t)c->ring * c->desc_size;
    uint64_t ring_pa = (c->buf_pa - ring_bytes) & ~UINT64_C(4095);
    sim_tick_t done;
    int r;

    r = os_dma_map(t->os, 0, ring_pa, ring_bytes, IOMMU_RW, &n->ring_iova, &done);
    if (r)
        return sim_error_format(err, errlen, r, c->path, "cannot map the descriptor ring");
    for (unsigned i = 0; i < c->ring; i++) {
        struct nic_slot *s = &n->slot[i];

        s->state = c->nic_tx ? S_FREE : S_POSTED;
        /* rx posts every buffer at start; persistent tx maps them once. */
        if (!c->nic_tx || !os_dma_per_io(t->os)) {
            r = os_dma_map(t->os, i % t->os->cfg.cpus, s->buf_pa, c->buf_size,
                           c->nic_tx ? IOMMU_RO : IOMMU_WO, &s->buf_iova, &done);
            if (r)
                return sim_error_format(err, errlen, r, c->path,
                                        "cannot map the buffer of descriptor %u", i);
        }
    }
    n->t_next = (double)sim_now(t->sim);
    return sim_event_schedule(t->sim, &n->arrival, sim_now(t->sim));
}

const struct lathist *traffic_nic_packet_latency(const struct traffic *t)
{
    return t->ops == &traffic_nic && t->priv ? &((const struct nic *)t->priv)->pkt_lat : NULL;
}

static void nic_reset_stats(struct traffic *t)
{
    lathist_reset(&((struct nic *)t->priv)->pkt_lat);
}

const struct traffic_ops traffic_nic = {
    .name = "nic",
    .doc = "a NIC receive (or, with nic_tx, transmit) ring at `line_rate` with per-packet "
           "map/unmap through the mapping policy",
    .init = nic_init,
    .start = nic_start,
    .reset_stats = nic_reset_stats,
    .destroy = nic_destroy,
};
