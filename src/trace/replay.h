/*
 * replay.h - replaying a map/unmap trace as timed events, into a sink.
 *
 * The replay turns each record of a trace (trace.h) into an event at its
 * time (times scaled by `time_scale`, from the tick replay starts), calls
 * the sink's map or unmap there, and adds device traffic: `accesses` DMA
 * accesses to every mapped buffer, strictly between its map and the first
 * unmap that touches it (or the trace's end if none does). The sink is an
 * ops table, so the same replay drives the generic IOMMU directly today
 * (trace_sink_generic below) and an OS-layer/device sink later.
 *
 * Costs: at init, one pass over the trace (the live set of trace.h) and one
 * 80-byte buffer record per map; while running, one event per record and
 * one per access, nothing allocated by the replay itself.
 */
#ifndef SIM_TRACE_REPLAY_H
#define SIM_TRACE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/sim.h"
#include "iommu/models/generic.h"
#include "trace/trace.h"

/*
 * struct trace_sink_ops - what a replay drives. Every member is mandatory.
 *
 * @map: the driver mapped [iova, iova + size) to paddr (at sim_now()).
 *	Returns 0, or a negative SIM_E* code: the replay counts it and does
 *	not send accesses to that buffer.
 * @unmap: the driver unmapped [iova, iova + size). 0 or SIM_E* (counted).
 * @access: the device reads (write false) or writes @len bytes at @iova
 *	now. The sink owns the timing (translation, memory, link) and its
 *	statistics; the replay does not wait for completion. 0 or SIM_E*
 *	(counted as an access error).
 *
 * An OS-layer sink would turn map/unmap into its DMA API calls (with their
 * CPU costs and invalidation policy) and access into a device request.
 */
struct trace_sink_ops {
    int (*map)(void *sink, uint64_t iova, uint64_t paddr, uint64_t size);
    int (*unmap)(void *sink, uint64_t iova, uint64_t size);
    int (*access)(void *sink, uint64_t iova, uint32_t len, bool write);
};

struct trace_replay_cfg {
    unsigned accesses;          /* per buffer (0: map/unmap only) */
    sim_tick_t spacing;         /* between accesses; 0: spread evenly over the life */
    uint32_t access_size;       /* bytes per access (> 0) */
    double time_scale;          /* trace time x scale = simulated time (> 0) */
    bool write;                 /* accesses are writes (else reads) */
};

struct trace_replay_stats {
    uint64_t records;           /* records replayed */
    uint64_t maps, unmaps, faults;      /* by record kind (faults: not replayed) */
    uint64_t map_errors, unmap_errors;
    uint64_t accesses;          /* sent to the sink */
    uint64_t accesses_skipped;  /* did not fit strictly inside the buffer's life */
    uint64_t access_errors;
    uint64_t bytes;             /* accessed */
};

struct trace_replay_buf;

struct trace_replay {
    struct sim *sim;
    const struct trace *t;
    struct trace_replay_cfg cfg;
    const struct trace_sink_ops *ops;
    void *sink;
    sim_tick_t start;           /* tick of trace time 0 (sim_now() at init) */
    struct sim_event ev;        /* the record stream */
    size_t next;                /* next record */
    size_t next_buf;            /* next map's buffer */
    struct trace_replay_buf *bufs;
    size_t nbufs;
    struct trace_replay_stats st;
};

/* Defaults: 4 accesses, even spread, 64 bytes, scale 1, reads. */
void trace_replay_cfg_defaults(struct trace_replay_cfg *c);

/*
 * Prepare a replay of @t (which must outlive it) into @ops/@sink. Computes
 * every buffer's life. SIM_EINVAL (bad cfg), SIM_ERANGE (scaled times past
 * the end of simulated time), SIM_ENOMEM; "trace replay: ..." in err.
 */
int trace_replay_init(struct trace_replay *r, struct sim *sim, const struct trace *t,
                      const struct trace_replay_cfg *cfg, const struct trace_sink_ops *ops,
                      void *sink, char *err, size_t errlen);

/* Schedule the first record. Trace time 0 is the tick at which
 * trace_replay_init() was called. 0 or SIM_E*. */
int trace_replay_start(struct trace_replay *r);

/* True once every record and access has been sent. */
bool trace_replay_done(const struct trace_replay *r);

void trace_replay_destroy(struct trace_replay *r);

/* Release what init allocated without touching the event queue, for an
 * owner whose simulation is already gone (sim_world_destroy() destroys the
 * sim, and with it every queued event, before the objects). */
void trace_replay_release(struct trace_replay *r);

/* --- A sink that drives the generic IOMMU model directly ----------------- */

struct trace_sink_generic_req;

struct trace_sink_generic_stats {
    uint64_t maps, unmaps;
    uint64_t translations;      /* timed translations completed */
    uint64_t faults;            /* of which faulted */
    uint64_t inflight, peak_inflight;
    double lat_sum;             /* ticks */
    sim_tick_t lat_max;
};

struct trace_sink_generic {
    struct generic_iommu *g;
    struct iommu *mmu;          /* the device's address space */
    unsigned domain;
    uint32_t rid;
    struct trace_sink_generic_req *free;
    void **chunks;              /* request pool, grown in chunks */
    size_t nchunks;
    struct trace_sink_generic_stats st;
};

extern const struct trace_sink_ops trace_sink_generic_ops;

/*
 * Replay into @g's @domain (created if it does not exist) as the device
 * @rid (attached to it). Each access becomes one timed translation per
 * 4 KiB page it touches; requests come from a pool that only grows past
 * its previous peak.
 */
int trace_sink_generic_init(struct trace_sink_generic *s, struct generic_iommu *g,
                            unsigned domain, uint32_t rid, char *err, size_t errlen);
void trace_sink_generic_destroy(struct trace_sink_generic *s);

#endif /* SIM_TRACE_REPLAY_H */
