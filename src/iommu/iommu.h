/*
 * iommu.h - the IOMMU model API: translation, notifiers and their fan-out.
 *
 * The contract is QEMU's IOMMUMemoryRegionClass (include/exec/memory.h,
 * system/memory.c), adapted to a timed simulation; the behaviours B1-B14 of
 * shared/spec/iommu-api.md are what the core and every model guarantee.
 *
 * Objects:
 *  - struct iommu is one translated address space: what one device (or one
 *    requester) sees through the IOMMU. Like QEMU's per-device
 *    IOMMUMemoryRegion, it owns the notifier lists; the hardware it shares
 *    with other devices (IOTLB, walkers, page tables) belongs to the model,
 *    which embeds struct iommu in its per-device struct and gets back to
 *    itself with container_of().
 *  - struct iommu_ops is a model's table of operations. Only translate is
 *    mandatory; the core supplies the defaults of every optional op (B2).
 *  - struct iommu_notifier is a user of translations that must hear about
 *    changes (a device TLB, a VFIO-style shadow mapper, a CPU TLB). Its
 *    storage is the caller's.
 *
 * Time: notification is synchronous (the consumer's state changes at once,
 * which is what makes B11 hold), and its *cost* is simulated: each notifier
 * declares a per-event latency and, optionally, a sim_resource that
 * serialises its work (a VFIO container lock, a vhost worker).
 * iommu_notify() returns the tick at which every consumer has finished, which
 * an invalidation queue waits for before it reports completion. A map storm
 * thus shows up as queueing delay in the consumers' resources.
 */
#ifndef SIM_IOMMU_H
#define SIM_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/event.h"
#include "engine/resource.h"
#include "engine/sim.h"

/* Access flags (perm of an entry, flag of a translation). */
enum iommu_access {
    IOMMU_NONE = 0,         /* translate: no check, say what is mapped (replay) */
    IOMMU_RO   = 1,
    IOMMU_WO   = 2,
    IOMMU_RW   = 3,
};

/*
 * A translation. addr_mask is the page size minus one (0xfff for 4 KiB);
 * iova and translated_addr are aligned to it. perm == IOMMU_NONE means not
 * mapped (or a fault). target names the output address space (NULL: system
 * memory).
 */
struct iommu_tlb_entry {
    void *target;
    uint64_t iova;
    uint64_t translated_addr;
    uint64_t addr_mask;
    unsigned perm;
};

/* Notifier flags, also the event types (QEMU's values). */
enum iommu_notifier_flag {
    IOMMU_NOTIFIER_NONE           = 0,
    IOMMU_NOTIFIER_UNMAP          = 1,
    IOMMU_NOTIFIER_MAP            = 2,
    IOMMU_NOTIFIER_DEVIOTLB_UNMAP = 4,
};
#define IOMMU_NOTIFIER_IOTLB_EVENTS (IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP)
#define IOMMU_NOTIFIER_ALL (IOMMU_NOTIFIER_IOTLB_EVENTS | IOMMU_NOTIFIER_DEVIOTLB_UNMAP)

struct iommu_event {
    unsigned type;                  /* one IOMMU_NOTIFIER_* */
    struct iommu_tlb_entry entry;
};

/* Transaction attributes of a DMA request. */
struct iommu_attrs {
    bool secure;
    bool unspecified;               /* no attributes given (QEMU's MEMTXATTRS_UNSPECIFIED) */
    bool is_write;
    bool has_pasid;
    uint32_t requester_id;          /* PCI bus/dev/fn or stream id */
    uint32_t pasid;
};

/* Attributes a model may answer through get_attr (B14). */
enum iommu_attr {
    IOMMU_ATTR_ADDR_WIDTH,          /* unsigned: input address bits */
    IOMMU_ATTR_PGSIZE_BITMAP,       /* uint64_t: supported page sizes */
    IOMMU_ATTR_CACHING_MODE,        /* bool: invalidations on map (VT-d CM) */
};

struct iommu;
struct iommu_notifier;
struct iommu_req;

typedef void (*iommu_notify_fn)(struct iommu_notifier *n, const struct iommu_event *ev);

struct iommu_notifier {
    /* Set by the user before registering. */
    iommu_notify_fn notify;         /* called for each event that passes the filters */
    unsigned flags;                 /* non-empty subset of IOMMU_NOTIFIER_ALL */
    uint64_t start, end;            /* IOVA range, inclusive */
    unsigned iommu_idx;             /* < num_indexes */
    sim_tick_t latency;             /* simulated work per delivered event */
    struct sim_resource *serialise; /* NULL: events are handled in parallel */
    void *opaque;                   /* for the user */

    /* Private to the core. */
    struct iommu_notifier *next;
    struct iommu *owner;
    uint64_t delivered;             /* events this notifier received */
};

/* A timed translation request. Caller-owned (a device's request pool). */
typedef void (*iommu_req_done_fn)(struct iommu_req *req);

struct iommu_req {
    /* Set by the caller. */
    uint64_t iova;
    unsigned access;                /* IOMMU_RO or IOMMU_WO (or RW) */
    struct iommu_attrs attrs;
    iommu_req_done_fn done;         /* runs at the completion tick */
    void *ctx;

    /* Results, valid in done(). */
    int status;                     /* 0, or SIM_EFAULT (no mapping / no permission) */
    struct iommu_tlb_entry entry;   /* the translation (perm NONE on a fault) */
    sim_tick_t issued, completed;

    /* Private: the core and the model that holds the request. */
    unsigned iommu_idx;
    struct iommu *mmu;
    struct iommu_req *next;         /* model's wait lists (MSHR, queues) */
    struct sim_event ev;
};

/*
 * struct iommu_ops - what a model provides. Every member is documented with
 * its contract; the core's default applies when an optional member is NULL.
 */
struct iommu_ops {
    /*
     * translate (mandatory): the functional translation of @iova for an
     * access of @flag in index @iommu_idx, answered instantly from the
     * model's current state (no timing, no cache side effects).
     *
     * Returns an entry whose iova/translated_addr are aligned to addr_mask.
     * With @flag == IOMMU_NONE no permission is checked: the entry says what
     * is mapped, with its permissions (replay uses this). Otherwise perm is
     * IOMMU_NONE when the access would fault. Once an entry with perm !=
     * NONE has been returned, the model must send an UNMAP (or
     * DEVIOTLB_UNMAP) event covering it before the mapping changes (B11);
     * until then the caller may keep using it.
     */
    struct iommu_tlb_entry (*translate)(struct iommu *mmu, uint64_t iova,
                                        unsigned flag, unsigned iommu_idx);

    /*
     * translate_timed (optional): start the timed path a DMA request takes
     * (IOTLB lookup, walk, memory reads). The model must eventually call
     * iommu_req_complete() exactly once for @req, with the same answer
     * translate() would give at that moment. Returns 0, or a negative code
     * if the request was not accepted (then done() is never called).
     * Default: the functional answer, completed at the current tick (a model
     * with no timing, like a TrustZone MPC).
     */
    int (*translate_timed)(struct iommu *mmu, struct iommu_req *req);

    /*
     * get_min_page_size (optional): the smallest page the model maps, the
     * granule of the default replay. Default: 4096.
     */
    uint64_t (*get_min_page_size)(struct iommu *mmu);

    /*
     * notify_flag_changed (optional): the union of the registered
     * notifiers' flags changes from @old to @new (B4). Return 0 to accept,
     * or a negative code (with a one-line reason in @err) to refuse, which
     * rolls the registration back (B5): e.g. VT-d refuses MAP without
     * caching mode. Default: accept every change.
     */
    int (*notify_flag_changed)(struct iommu *mmu, unsigned old, unsigned new_flags,
                               char *err, size_t errlen);

    /*
     * replay (optional): deliver every present translation in the
     * notifier's range and index to @n (and only to @n), through
     * iommu_notify_one(). Returns the tick at which the replay's simulated
     * work ends. Default: the granule walk of B9 (translate() at every
     * get_min_page_size() step of the region), whose cost is why models
     * that keep page tables walk those instead.
     */
    sim_tick_t (*replay)(struct iommu *mmu, struct iommu_notifier *n);

    /*
     * get_attr (optional): fill @data for attribute @attr and return 0, or
     * return SIM_EINVAL for attributes the model does not support (B14).
     * Default: SIM_EINVAL for every attribute.
     */
    int (*get_attr)(struct iommu *mmu, enum iommu_attr attr, void *data);

    /*
     * attrs_to_index (optional): the iommu_idx a transaction with @attrs is
     * translated in (B12). Must be < num_indexes. Default: 0.
     */
    unsigned (*attrs_to_index)(struct iommu *mmu, const struct iommu_attrs *attrs);

    /*
     * num_indexes (optional): how many indexes the model translates for;
     * read once at iommu_init(). Default: 1.
     */
    unsigned (*num_indexes)(struct iommu *mmu);
};

struct iommu_stats {
    uint64_t translations;          /* functional translate() calls */
    uint64_t timed, timed_faults;   /* timed requests completed, of which faults */
    double timed_ticks;             /* sum of their issue-to-completion times */
    uint64_t registers, refusals, unregisters;
    uint64_t flag_changes;          /* notify_flag_changed calls */
    uint64_t events[3];             /* fan-outs by type: UNMAP, MAP, DEVIOTLB_UNMAP */
    uint64_t deliveries;            /* notifier callbacks made */
    uint64_t skipped_range, skipped_flags;
    double consumer_ticks;          /* simulated consumer work booked */
    uint64_t replays, replay_translates, replay_notifications;
    double replay_ticks;            /* simulated time replays took */
};

struct iommu {
    const struct iommu_ops *ops;
    struct sim *sim;
    const char *path;               /* dotted name, for errors */
    uint64_t size;                  /* region size; 0 means 2^64 */
    unsigned num_indexes;
    unsigned notify_flags;          /* union over all notifiers (B4) */
    struct iommu_notifier **lists;  /* per iommu_idx */
    sim_tick_t replay_translate_cost; /* simulated cost of one replay translate */
    /* When the events a model is sending reach the users (0: now); the
     * model sets it around its iommu_notify() calls (iommu_notify_tick). */
    sim_tick_t notify_at;
    struct iommu_stats st;
};

/*
 * Create the address space of a model. Rejects ops without translate (B1)
 * and num_indexes() == 0, with "path: what (detail)" in err: SIM_EINVAL.
 * SIM_ENOMEM. @size is the input address space (0: 2^64).
 */
int iommu_init(struct iommu *mmu, const struct iommu_ops *ops, struct sim *sim,
               const char *path, uint64_t size, char *err, size_t errlen);
void iommu_destroy(struct iommu *mmu);

/* --- Wrappers that apply the defaults (B2) -------------------------------- */

struct iommu_tlb_entry iommu_translate(struct iommu *mmu, uint64_t iova,
                                       unsigned flag, unsigned iommu_idx);
uint64_t iommu_get_min_page_size(struct iommu *mmu);
int iommu_get_attr(struct iommu *mmu, enum iommu_attr attr, void *data);
unsigned iommu_attrs_to_index(struct iommu *mmu, const struct iommu_attrs *attrs);

static inline unsigned iommu_num_indexes(const struct iommu *mmu)
{
    return mmu->num_indexes;
}

/*
 * Start a timed translation; req->done runs at its completion tick. Fills
 * req->iommu_idx from the attributes. Returns 0 or the model's error.
 */
int iommu_translate_timed(struct iommu *mmu, struct iommu_req *req);

/*
 * For models: finish @req with @status and @entry at tick @when (>= now):
 * schedules req->done. A permission mismatch between req->access and
 * entry->perm is turned into SIM_EFAULT here, so every model checks alike.
 */
void iommu_req_complete(struct iommu *mmu, struct iommu_req *req,
                        const struct iommu_tlb_entry *entry, sim_tick_t when);

/*
 * What iommu_req_complete() does except scheduling: the answer, the
 * permission check and the statistics, with req->completed = @when. For a
 * model that delivers several completions of one tick from one event of its
 * own (the generic model after a walk): that event then calls req->done(req)
 * for each, in order, at @when. Same statistics, same order of done() calls
 * as one event each, one event instead of N.
 */
void iommu_req_resolve(struct iommu *mmu, struct iommu_req *req,
                       const struct iommu_tlb_entry *entry, sim_tick_t when);

/*
 * The completions of one walk: every request that joined its MSHR is
 * answered at the walk's end tick, and one event delivers them all, in
 * list order, instead of one event each. The N events would run back to
 * back anyway (scheduled together at the current tick, with consecutive
 * sequence numbers, and whatever one done() schedules comes after them
 * all), so the order of everything is unchanged
 * (tests/iommu/test_generic_batch.c). A model keeps a pool of them, one
 * per MSHR: those pending at once belong to walks that ended at the
 * current tick, which only exceed the MSHRs if walks take no time; when it
 * runs dry, or a list has one request, each request gets its own event.
 */
struct iommu_batch {
    struct sim_event ev;
    struct iommu_batches *pool;
    struct iommu_req *head;
    struct iommu_batch *next_free;
};

struct iommu_batches {
    struct sim *sim;
    struct iommu_batch *all, *free;
};

/* A pool of @n batches (SIM_ENOMEM); destroy frees it (after sim_destroy). */
int iommu_batches_init(struct iommu_batches *bs, struct sim *sim, unsigned n);
void iommu_batches_destroy(struct iommu_batches *bs);

/*
 * Answer every request of the list @head (linked by req->next) with @entry
 * (its iova set per request from addr_mask) at @when, the current tick:
 * one event for them all when a batch is free, else iommu_req_complete()
 * each. The list belongs to the batch until its event has run.
 */
void iommu_req_complete_list(struct iommu_batches *bs, struct iommu_req *head,
                             struct iommu_tlb_entry entry, sim_tick_t when);

/* --- Notifiers ------------------------------------------------------------ */

/*
 * Register @n (B3: flags non-empty and within IOMMU_NOTIFIER_ALL, start <=
 * end, iommu_idx < num_indexes, not already registered; else SIM_EINVAL).
 * If the union of flags changes, notify_flag_changed decides (B4); a refusal
 * undoes the registration and returns its code (B5). err gets one line.
 */
int iommu_notifier_register(struct iommu *mmu, struct iommu_notifier *n,
                            char *err, size_t errlen);

/* Remove @n; the union shrinks if it can (B4). SIM_ENOENT if not registered. */
int iommu_notifier_unregister(struct iommu *mmu, struct iommu_notifier *n);

/*
 * Fan an event out to the notifiers of @iommu_idx (B6): those whose range
 * overlaps the entry and whose flags include the type; DEVIOTLB_UNMAP
 * entries are cropped to each notifier's range (B8). UNMAP events must carry
 * perm NONE (B7). Returns the tick at which all consumers finish their work.
 */
sim_tick_t iommu_notify(struct iommu *mmu, unsigned iommu_idx,
                        const struct iommu_event *ev);

/* Deliver to one notifier, with the same filtering and cropping. */
sim_tick_t iommu_notify_one(struct iommu_notifier *n, const struct iommu_event *ev);

/*
 * The tick the events being sent reach their users: mmu->notify_at when a
 * model set it later than now (it runs its users inside timed processing
 * of its own: VT-d's invalidation queue, virtio-iommu's request queue),
 * else now. The core books a user's work on its serialise resource from
 * that tick; a user that times its own work (VfioShadow) starts from it.
 */
static inline sim_tick_t iommu_notify_tick(const struct iommu *mmu)
{
    sim_tick_t now = sim_now(mmu->sim);

    return mmu->notify_at > now ? mmu->notify_at : now;
}

/*
 * An in-place change of a mapping (B7): UNMAP of @old then MAP of @new, in
 * that order, so that no consumer ever holds both.
 */
sim_tick_t iommu_notify_change(struct iommu *mmu, unsigned iommu_idx,
                               const struct iommu_tlb_entry *old,
                               const struct iommu_tlb_entry *new_entry);

/* Replay present translations to @n (model's replay, else B9's walk). */
sim_tick_t iommu_replay(struct iommu *mmu, struct iommu_notifier *n);

/* The default replay (B9), for models that want it after their own work. */
sim_tick_t iommu_replay_granules(struct iommu *mmu, struct iommu_notifier *n);

/* Send one UNMAP covering [n->start, n->end] to @n (B10). */
sim_tick_t iommu_unmap_notifier_range(struct iommu_notifier *n);

/* Reset/disable: B10 for every registered notifier. */
sim_tick_t iommu_unmap_all(struct iommu *mmu);

#endif /* SIM_IOMMU_H */
