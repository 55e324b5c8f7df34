/*
 * traffic.h - traffic patterns: what a device asks its DMA engine to move.
 *
 * A pattern is a documented ops table registered in one table
 * (traffic_patterns[] in traffic.c); each lives in its own file. Two kinds:
 *
 *  - Address streams (sequential, strided, uniform, zipf): a buffer of
 *    `footprint` bytes is mapped once through the OS layer at start (a
 *    long-lived buffer, whatever the policy), and transfers of `size` bytes
 *    go to offsets the pattern's next_offset() picks. They are driven by the
 *    common stream driver here: closed loop (`slots` transfers always in
 *    flight, the next one submitted the moment one completes) or open loop
 *    (one arrival every size / rate, or Poisson arrivals at that mean; an
 *    arrival finding all `slots` busy is dropped and counted).
 *  - Patterns with their own driver (nic, nvme): start() replaces the
 *    stream driver; they map and unmap per I/O through the OS layer.
 *  - accel is a stream with its own start(): it maps its footprint with
 *    huge pages (checking that the mapping can use them) and then runs the
 *    stream driver (traffic_stream_begin()).
 *
 * Everything a pattern needs at run time (transfer slots, rings, tables) is
 * allocated in create; the per-transfer path allocates nothing.
 */
#ifndef SIM_DEV_TRAFFIC_H
#define SIM_DEV_TRAFFIC_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/dma_engine.h"
#include "engine/rng.h"
#include "engine/sim.h"
#include "os/dma.h"

enum traffic_issue { TRAFFIC_CLOSED = 0, TRAFFIC_OPEN };

struct traffic_cfg {
    /* streams */
    enum traffic_issue issue;
    bool poisson;                   /* open loop: exponential gaps */
    uint64_t rate;                  /* open loop: offered bytes per second */
    uint32_t size;                  /* bytes per transfer */
    uint64_t footprint;             /* bytes mapped; offsets fall in it */
    uint64_t stride;                /* strided: bytes between transfers */
    double zipf_s;                  /* zipf: exponent */
    double write_ratio;             /* fraction of transfers that write */
    unsigned slots;                 /* transfers in flight at most */
    uint64_t buf_pa;                /* physical base of the buffers */
    /* nic */
    bool nic_tx;                    /* transmit (reads) rather than receive (writes) */
    uint64_t line_rate;             /* bit/s */
    unsigned ring;                  /* descriptors */
    uint32_t buf_size;              /* bytes per packet buffer */
    uint32_t desc_size;             /* bytes per descriptor */
    const double *pkt_sizes, *pkt_weights;
    size_t npkt;
    /* nvme */
    sim_tick_t media_latency;       /* flash read/program time per command */
    /* accel */
    uint64_t page_size;             /* bytes per page of the buffers' mapping */
    /* common */
    uint64_t seed;
    const char *path;
};

struct traffic_stats {
    uint64_t offered, dropped;      /* arrivals (open loop, nic), of which dropped */
    uint64_t completed, errors;     /* transfers or packets completed, with an error */
    uint64_t bytes;                 /* payload bytes of completed transfers/packets */
    uint64_t maps, unmaps;          /* per-I/O mapping calls made */
    sim_tick_t since;
};

struct traffic;

/**
 * struct traffic_ops - one pattern.
 * @name: the value of the device's `pattern` parameter.
 * @doc: one sentence for the docs.
 * @init: optional; pattern state from t->cfg (tables, rings) into t->priv.
 *	Returns 0 or SIM_E* with a message in err.
 * @next_offset: streams: the offset of the next transfer, a multiple of
 *	cfg.size below cfg.footprint. NULL for patterns with their own start.
 * @start: optional; replaces the stream driver (schedules first events,
 *	maps what it needs). Returns 0 or SIM_E*.
 * @reset_stats: optional; zero the pattern's own statistics.
 * @destroy: optional; free t->priv.
 */
struct traffic_ops {
    const char *name;
    const char *doc;
    int (*init)(struct traffic *t, char *err, size_t errlen);
    uint64_t (*next_offset)(struct traffic *t);
    int (*start)(struct traffic *t, char *err, size_t errlen);
    void (*reset_stats)(struct traffic *t);
    void (*destroy)(struct traffic *t);
};

struct traffic {
    const struct traffic_ops *ops;
    struct traffic_cfg cfg;
    struct sim *sim;
    struct dma_engine *eng;
    struct os_dma *os;
    struct sim_rng rng;
    /* stream driver */
    uint64_t base_iova;
    uint64_t pos;                   /* sequential/strided cursor */
    struct dma_xfer *xfers, *free_xfers;
    struct sim_event arrival;
    double t_next, gap;             /* open loop, ticks */
    void *priv;                     /* the pattern's own state */
    struct traffic_stats st;
};

extern const struct traffic_ops traffic_sequential, traffic_strided, traffic_uniform,
    traffic_zipf, traffic_nic, traffic_nvme, traffic_accel;

/* The one table, NULL-terminated; and the names for an enum parameter. */
extern const struct traffic_ops *const traffic_patterns[];
extern const char *const traffic_pattern_names[];

/* Set up pattern @ops (allocates slots and the pattern's state). */
int traffic_create(struct traffic *t, const struct traffic_ops *ops,
                   const struct traffic_cfg *cfg, struct sim *sim, struct dma_engine *eng,
                   struct os_dma *os, char *err, size_t errlen);
/* Streams whose start() mapped the footprint at t->base_iova: issue the
 * first transfers (closed loop) or schedule the first arrival (open). */
int traffic_stream_begin(struct traffic *t);
/* Map buffers and schedule the first events. */
int traffic_start(struct traffic *t, char *err, size_t errlen);
/* After sim_destroy(), like every model. */
void traffic_destroy(struct traffic *t);
void traffic_reset_stats(struct traffic *t);

/* nic: packet latency (arrival to descriptor write-back); NULL otherwise. */
const struct lathist *traffic_nic_packet_latency(const struct traffic *t);

/* nvme: command latency (submission to completion entry); NULL otherwise. */
const struct lathist *traffic_nvme_command_latency(const struct traffic *t);

/* Payload bits per second completed since the last reset. */
double traffic_throughput_bps(const struct traffic *t);

/*
 * The tick of an arrival time kept in double ticks: llround(x) for
 * 0 <= x < 2^63, without the libm call below 2^52 (every tick of a run
 * shorter than 52 days), where the truncation is exact and so is x minus
 * it, and a fraction of one half or more rounds away from zero as llround
 * does. One per arrival.
 */
static inline sim_tick_t traffic_round_tick(double x)
{
    if (x >= 0.0 && x < 4503599627370496.0) {              /* 2^52 */
        uint64_t i = (uint64_t)x;

        return x - (double)i >= 0.5 ? i + 1 : i;
    }
    return (sim_tick_t)llround(x);
}

#endif /* SIM_DEV_TRAFFIC_H */
