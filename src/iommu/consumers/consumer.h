/*
 * consumer.h - notifier users ("consumers"): the ops table every user of an
 * IOMMU's translations implements, and the one table of them.
 *
 * A consumer caches or mirrors what an IOMMU translates and must hear when
 * that changes (iommu.h's notifiers, B3-B11): QEMU's VFIO listener shadows
 * a virtual IOMMU's mappings into the host IOMMU, vhost keeps a device
 * IOTLB, TCG's software TLB is flushed, an ATS device TLB drops entries.
 * Each one is a file of this folder with a struct iommu_consumer_ops row in
 * consumers.c, so a config, a test or a device drives all of them alike:
 *
 *     iommu_consumer_attach(&x->c, as, err, n);   registers (and replays)
 *     ... simulate: the IOMMU's events reach the consumer ...
 *     iommu_consumer_reset_stats(&x->c);           warm-up over
 *     iommu_consumer_detach(&x->c);                unregisters
 *
 * Time. Notification is synchronous (the consumer's state changes inside
 * the IOMMU's fan-out, which is what keeps B11) and its cost is simulated
 * through the notifier's `latency` and `serialise` resource; iommu_notify()
 * returns when every consumer is done, which the IOMMU's driver waits for.
 * A consumer whose work per event varies (VFIO pins one page or 512) sets
 * its notifier's latency inside the callback, before the core books it.
 *
 * Statistics. A consumer names its values in a sim_readout table (the same
 * table its config descriptor shows), reads them with `read`, and hands out
 * the inline uint64 counters behind them with `counter`, so the stats
 * registry reads those by reference at each dump with no per-event cost.
 */
#ifndef SIM_IOMMU_CONSUMER_H
#define SIM_IOMMU_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include "engine/object.h"
#include "iommu/iommu.h"

struct iommu_consumer;

/*
 * struct iommu_consumer_ops - one kind of notifier user. name, doc, attach
 * and detach are mandatory; the rest may be NULL (no statistics).
 */
struct iommu_consumer_ops {
    const char *name;               /* "vfio_shadow", "vhost_iotlb", "cpu_tlb", "ats_tlb" */
    const char *doc;                /* what it models, one paragraph */

    /*
     * attach: start using the translations of address space @mmu: register
     * the notifier(s) (a refusal, e.g. MAP without caching mode (B5),
     * leaves nothing registered and is returned with a one-line reason in
     * @err) and, for users that mirror mappings, replay the ones present.
     * The core has set c->mmu before the call and clears it on failure.
     */
    int (*attach)(struct iommu_consumer *c, struct iommu *mmu, char *err, size_t errlen);

    /*
     * detach: unregister and drop whatever is cached (a shadow keeps its
     * mirror until the owner tears it down: detaching VFIO from a device
     * does not unmap the host). Never fails.
     */
    void (*detach)(struct iommu_consumer *c);

    /* reset_stats: zero the counters (warm-up over); state stays. */
    void (*reset_stats)(struct iommu_consumer *c);

    /*
     * The consumer's values: names, units, docs; read gives value idx now
     * (iommu_consumer_read_counter for the values a counter stands behind).
     */
    const struct sim_readout *readouts;
    unsigned nreadouts;
    double (*read)(const struct iommu_consumer *c, unsigned idx);

    /*
     * counter (optional): the inline counter behind readout idx, for
     * registration by reference, or NULL for values computed by read.
     */
    const uint64_t *(*counter)(const struct iommu_consumer *c, unsigned idx);

    /*
     * destroy (optional; mandatory for a consumer with a config
     * descriptor): release what the consumer's own init took, detaching
     * first (its header's x_destroy), but not the instance's memory, which
     * iommu_consumer_object_destroy frees.
     */
    void (*destroy)(struct iommu_consumer *c);
};

/* The part of a consumer the core manages; the consumer embeds it first. */
struct iommu_consumer {
    const struct iommu_consumer_ops *ops;
    struct iommu *mmu;              /* attached to; NULL when detached */
    const char *path;               /* dotted name, for errors */
};

/* THE table (consumers.c): every consumer kind, NULL-terminated. */
extern const struct iommu_consumer_ops *const iommu_consumer_table[];

/* The row named @name, or NULL. */
const struct iommu_consumer_ops *iommu_consumer_find(const char *name);

/* Set ops and path; the consumer's own init does the rest. */
void iommu_consumer_init(struct iommu_consumer *c, const struct iommu_consumer_ops *ops,
                         const char *path);

/*
 * Attach to @mmu (see ops->attach). SIM_EINVAL (with "path: ..." in err)
 * if already attached or @mmu is NULL.
 */
int iommu_consumer_attach(struct iommu_consumer *c, struct iommu *mmu, char *err,
                          size_t errlen);

/* Detach if attached (safe to call twice). */
void iommu_consumer_detach(struct iommu_consumer *c);

void iommu_consumer_reset_stats(struct iommu_consumer *c);

/*
 * The value of readout @idx from the counter behind it (ops->counter), 0
 * if none: a consumer's read for its counters, so the value a dump reads
 * by reference and the one read returns come from the same switch.
 */
double iommu_consumer_read_counter(const struct iommu_consumer *c, unsigned idx);

/*
 * For a config object whose instance (obj->priv) starts with a struct
 * iommu_consumer and whose descriptor's readouts are the consumer's: the
 * sim_model_ops members reset_stats, read and register_stats (counters by
 * reference, the rest read at each dump). Shared by every descriptor of
 * this folder.
 */
void iommu_consumer_object_reset_stats(struct sim_object *obj);
double iommu_consumer_object_read(const struct sim_object *obj, unsigned idx);
int iommu_consumer_object_register_stats(struct sim_object *obj, void *registry);

/*
 * The create and destroy steps every consumer descriptor shares (the
 * instance is calloc'd, its struct iommu_consumer first, ops->destroy set).
 *
 * iommu_consumer_object_device: the address space of the device the
 * consumer serves: requester @rid attached to domain @domain (-1: the
 * domain numbered as the requester id) of the IOMMU object @iommu, the
 * values of the descriptor's iommu, requester_id and domain parameters;
 * "iommu: ..." in err on failure.
 *
 * iommu_consumer_object_attach: attach the instance (obj->priv) to @as, the
 * last step of create; on failure the instance is destroyed and freed
 * (iommu_consumer_object_destroy), so create just returns the error.
 *
 * iommu_consumer_object_destroy: the destroy op: ops->destroy, then free.
 */
int iommu_consumer_object_device(const struct sim_object *iommu, int64_t rid, int64_t domain,
                                 struct iommu **as, char *err, size_t errlen);
int iommu_consumer_object_attach(struct sim_object *obj, struct iommu *as, char *err,
                                 size_t errlen);
void iommu_consumer_object_destroy(struct sim_object *obj);

#endif /* SIM_IOMMU_CONSUMER_H */
