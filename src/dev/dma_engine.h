/*
 * dma_engine.h - a DMA engine: a device that moves data through an IOMMU.
 *
 * A traffic pattern submits transfers (struct dma_xfer, the pattern's
 * storage). The engine splits each into requests that never cross a 4 KiB
 * page and carry at most max_payload bytes (a PCIe TLP may not cross 4 KiB;
 * the payload limit is the device's Max_Payload_Size / Max_Read_Request),
 * and keeps at most `tags` requests outstanding, taking them from a pool
 * allocated at init (the hot path allocates nothing). A transfer waits FIFO
 * for tags.
 *
 * One request's path (docs/architecture.md):
 *   1. the request TLP goes upstream on the PCIe link (a write carries its
 *      data; a read request is header only);
 *   2. iommu_translate_timed() with the transaction attributes (requester
 *      id, PASID, write flag); a device in a passthrough domain skips it;
 *   3. the memory access at the translated address (memory.h);
 *   4. a read's completion with data comes back downstream; the request
 *      completes, its latency and its translation latency are recorded, and
 *      its tag is reused at once.
 * A translation fault completes the request with SIM_EFAULT and no memory
 * access; the transfer completes with that status once all of its
 * requests are done.
 *
 * Posted writes. A write needs no completion back (PCIe posts it), and once
 * the memory model has booked it its completion tick is fixed, so it needs
 * no completion event either. Its tag stays taken until that tick, as
 * before. It is retired lazily (its tag freed, and it is counted: requests,
 * bytes, latency) by the next pass of the engine that runs after its tick,
 * or by dma_engine_sync() before a statistics dump, in completion order.
 * Only when something waits for the tick is an event
 * scheduled, one per engine at a time: the write that completes its
 * transfer (done() runs at its completion tick) and, while transfers wait
 * for tags, the earliest write to finish. That event takes the place in the
 * run the write's own completion event had (sim_event_order_take at
 * booking), so transfers complete, tags free and waiting transfers issue at
 * the same ticks and in the same order as with an event per write, and
 * every statistic is the same. A NIC packet's six 256-byte writes and its
 * descriptor write-back cost two events instead of seven.
 *
 * ATS (optional, ats.entries > 0): a device TLB (an IOTLB structure,
 * iotlb.h) looked up before the request leaves the device. A hit sends the
 * request pre-translated: the IOMMU is not involved. A miss sends a
 * translation request (a header-only TLP) up, the IOMMU translates it
 * (timed), the completion comes down and fills the device TLB, and then the
 * translated request goes up. The device TLB is the `ats_tlb` row of the
 * notifier users' table (iommu/consumers/ats_tlb.h): an UNMAP and
 * DEVIOTLB_UNMAP notifier on its address space that drops the range on each
 * event (spec B11: it never uses an entry after the UNMAP); the notifier's
 * latency is the invalidation round trip, which a strict unmap waits for.
 *
 * Costs per request: two or three reserves; a read three or four events, a
 * write two or three (and one per transfer); no allocation.
 */
#ifndef SIM_DEV_DMA_ENGINE_H
#define SIM_DEV_DMA_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dev/lathist.h"
#include "dev/link.h"
#include "engine/sim.h"
#include "iommu/consumers/ats_tlb.h"
#include "iommu/iommu.h"
#include "iommu/iotlb.h"
#include "mem/memory.h"

struct dma_xfer;
typedef void (*dma_xfer_done_fn)(struct dma_xfer *x);

/* One transfer. Owned by the submitter; valid until done() ran. */
struct dma_xfer {
    uint64_t iova;
    uint32_t bytes;                 /* >= 1 */
    bool write;                     /* device to memory */
    dma_xfer_done_fn done;
    void *ctx;
    /* Results, valid in done(). */
    int status;                     /* 0 or the first request's error */
    sim_tick_t submitted, completed;
    /* Private to the engine. */
    uint32_t off;                   /* bytes carved into requests */
    uint32_t inflight;              /* requests neither done nor posted */
    struct dma_xfer *next;
    struct dma_engine_req *last_posted; /* its posted write that ends last */
};

struct dma_engine_cfg {
    unsigned tags;                  /* outstanding requests */
    uint32_t max_payload;           /* bytes per request */
    uint32_t requester_id;
    bool has_pasid;
    uint32_t pasid;
    bool secure;
    /* ATS device TLB: entries 0 for none; ways 0 for fully associative. */
    unsigned ats_entries, ats_ways;
    sim_tick_t ats_hit_latency;     /* device TLB lookup */
    sim_tick_t ats_inval_latency;   /* invalidation request to completion */
};

enum { DMA_READ = 0, DMA_WRITE = 1 };

struct dma_engine_stats {
    uint64_t requests[2], bytes[2]; /* completed without error, [DMA_READ/WRITE] */
    uint64_t xfers, xfer_errors;    /* transfers completed, of which with an error */
    uint64_t faults;                /* requests completed with a translation fault */
    uint64_t tag_waits;             /* issue passes that left a transfer waiting for tags */
    uint64_t ats_hits, ats_misses;  /* device TLB lookups */
    struct lathist req_lat;         /* issue to completion, ticks */
    struct lathist xlate_lat;       /* translation alone, ticks */
    double xlate_ticks;             /* summed translation time (stalled on translation) */
    sim_tick_t since;               /* last reset */
};

struct dma_engine;

/*
 * A translator in the device that answers instead of the IOMMU's timed path:
 * a vhost backend's device IOTLB (iommu/consumers/vhost_iotlb.h), whose
 * misses go to the virtual IOMMU. Returns the tick the translation is ready;
 * *out with perm IOMMU_NONE (or without @access) is a fault.
 */
typedef sim_tick_t (*dma_xlate_fn)(void *ctx, uint64_t iova, unsigned access,
                                   struct iommu_tlb_entry *out);

struct dma_engine_req {
    struct iommu_req ir;
    struct mem_req mr;
    struct sim_event ev;
    struct dma_engine *e;
    struct dma_xfer *x;
    uint64_t iova;
    uint64_t pa;                    /* ATS: the translated address */
    uint32_t bytes;
    bool write;
    uint8_t stage;
    sim_tick_t issued;
    /* A posted write: its completion key (tick, FIFO place), and whether
     * its transfer completes with it. */
    sim_tick_t done_at;
    uint64_t done_order;
    bool last;
    struct dma_engine_req *next_free;   /* free list, or the posted list */
};

struct dma_engine {
    struct sim *sim;
    struct dma_engine_cfg cfg;
    struct pcie_link link;
    struct iommu *mmu;              /* NULL: no translation (passthrough) */
    struct mem *mem;
    struct dma_engine_req *pool, *free_reqs;
    unsigned busy;                  /* tags taken (posted writes until reclaimed) */
    struct dma_engine_req *posted;  /* posted writes by completion key */
    struct dma_engine_req *posted_tail;
    struct dma_engine_req *posted_first_last;  /* the first with `last` */
    struct sim_event posted_ev;     /* at the key of the one waited for */
    struct dma_engine_req *posted_target;
    struct dma_xfer *qhead, *qtail; /* transfers with requests still to issue */
    bool ats;
    struct ats_tlb atc;             /* the ATS device TLB (a notifier user) */
    dma_xlate_fn xlate;             /* NULL: the IOMMU translates (see above) */
    void *xlate_ctx;
    struct dma_engine_stats st;
    /* Where the current span of the throughput series began (bytes done
     * then, and when): dma_engine_interval_bps. */
    uint64_t ival_bytes;
    sim_tick_t ival_start;
};

/*
 * tags >= 1 and max_payload >= 1 (SIM_EINVAL), link as pcie_link_init().
 * @mmu may be NULL (passthrough; ATS is then ignored); @mem is required.
 * err: "path: what". With ATS, registers the device TLB's notifier on @mmu
 * (the engine must be destroyed before the IOMMU).
 */
int dma_engine_init(struct dma_engine *e, struct sim *sim, const struct dma_engine_cfg *cfg,
                    const struct pcie_link_cfg *link, struct iommu *mmu, struct mem *mem,
                    const char *path, char *err, size_t errlen);
/* After sim_destroy(): events in flight live in the pool. */
void dma_engine_destroy(struct dma_engine *e);

/* Translate through @fn (a device IOTLB) instead of the IOMMU; NULL undoes. */
static inline void dma_engine_set_translator(struct dma_engine *e, dma_xlate_fn fn, void *ctx)
{
    e->xlate = fn;
    e->xlate_ctx = ctx;
}

/* Queue a transfer; its requests issue as tags allow. */
void dma_engine_submit(struct dma_engine *e, struct dma_xfer *x);

/* Requests outstanding now (tags taken; called from an event's callback). */
unsigned dma_engine_busy(struct dma_engine *e);

/* Bytes completed per second since the last reset (both directions). */
double dma_engine_throughput(struct dma_engine *e);

/*
 * The achieved-throughput time series: bits of requests completed without
 * error (both directions) per second, over the span from the previous call
 * (or the last reset, or init) to now; then a new span starts now. Meant to
 * be called once per statistics dump (a DmaDevice's `interval_throughput`),
 * so each dump holds the throughput of its own period. NaN over an empty
 * span (a second call at the same tick), as for the stats' formulas.
 */
double dma_engine_interval_bps(struct dma_engine *e);

void dma_engine_reset_stats(struct dma_engine *e);

/*
 * Count the posted writes done by now (see "Posted writes"): call between
 * events or from a statistics-priority event, before reading the stats.
 * A DmaDevice registers it as a dump hook; reset_stats does it first.
 */
void dma_engine_sync(struct dma_engine *e);

#endif /* SIM_DEV_DMA_ENGINE_H */
