/*
 * memory.h - the memory timing model for page-table reads and DMA data.
 *
 * A request costs a fixed latency plus its transfer on one of `channels`
 * channels (address-interleaved), each a sim_resource of one server whose
 * service time is bytes / bandwidth: requests queue FIFO when their channel
 * is busy. Transfers and latency pipeline: a channel is occupied for the
 * transfer only, and the fixed latency follows it. Page-table reads may hit
 * in a last-level cache with probability llc_hit (a seeded stream, so runs
 * repeat), costing llc_latency and no channel time.
 *
 * Cost per request: one reserve on a channel (O(1)), one event. Requests are
 * caller-owned (the walker embeds one per walk): no allocation.
 */
#ifndef SIM_MEMORY_H
#define SIM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/resource.h"
#include "engine/rng.h"
#include "engine/sim.h"

struct mem_cfg {
    sim_tick_t latency;             /* fixed part of every DRAM access */
    unsigned channels;              /* >= 1 */
    uint64_t bandwidth;             /* bytes per second per channel; 0: unlimited */
    unsigned interleave;            /* bytes per channel stripe, power of two */
    double llc_hit;                 /* page-table reads: P(hit in the LLC), 0..1 */
    sim_tick_t llc_latency;
    uint64_t seed;
    const char *path;
};

struct mem_req;
typedef void (*mem_done_fn)(struct mem_req *r);

struct mem_req {
    uint64_t addr;
    uint32_t bytes;
    bool pt;                        /* a page-table read (may hit the LLC) */
    mem_done_fn done;
    void *ctx;
    /* private */
    sim_tick_t issued;
    struct sim_event ev;
};

#define MEM_HIST_BINS 48

struct mem_stats {
    uint64_t requests, bytes, pt_reads, llc_hits;
    double lat_sum;
    sim_tick_t lat_max;
    uint64_t lat_hist[MEM_HIST_BINS];   /* log2 bins of latency in ticks */
};

#define MEM_MEMO 4                  /* transfer sizes whose service time is kept */

struct mem {
    struct sim *sim;
    struct mem_cfg cfg;
    struct sim_resource *chan;
    struct sim_rng rng;
    /* Service ticks of recent transfer sizes (DMA and table reads come in a
     * few sizes): spares a division per access, same value. */
    uint32_t memo_bytes[MEM_MEMO];
    sim_tick_t memo_service[MEM_MEMO];
    struct mem_stats st;
};

/* SIM_EINVAL ("path: what (got, expected)" in err) or SIM_ENOMEM. */
int mem_init(struct mem *m, struct sim *sim, const struct mem_cfg *cfg,
             char *err, size_t errlen);
void mem_destroy(struct mem *m);

/* Start an access; r->done runs at its completion tick. */
void mem_access(struct mem *m, struct mem_req *r);

/*
 * The same access, booked the same way and counted in the same statistics,
 * but with no completion event: returns the completion tick and never calls
 * r->done. For callers that need no callback per access (a posted write,
 * dma_engine.c), which saves an event-set push and pop each.
 */
sim_tick_t mem_access_book(struct mem *m, struct mem_req *r);

/* The channel an address maps to. interleave is a power of two (mem_init
 * checks it), and so are channels in most configurations: a shift and a
 * mask instead of two 64-bit divisions per access, same channel. */
static inline unsigned mem_channel(const struct mem *m, uint64_t addr)
{
    uint64_t stripe = addr >> __builtin_ctz(m->cfg.interleave);
    unsigned ch = m->cfg.channels;

    return (unsigned)((ch & (ch - 1)) ? stripe % ch : stripe & (ch - 1));
}

/* Busy fraction of channel ch since the last reset. */
double mem_utilisation(struct mem *m, unsigned ch);

static inline double mem_mean_latency(const struct mem *m)
{
    return m->st.requests ? m->st.lat_sum / (double)m->st.requests : 0.0;
}

void mem_reset_stats(struct mem *m);

#endif /* SIM_MEMORY_H */
