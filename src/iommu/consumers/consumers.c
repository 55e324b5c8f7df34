/*
 * consumers.c - THE table of notifier users, the wrappers that apply its
 * defaults, and the statistics glue shared by their config descriptors
 * (see consumer.h).
 *
 * Adding a consumer is adding its file and one row here.
 */
#include "iommu/consumers/consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/consumers/ats_tlb.h"
#include "iommu/consumers/cpu_tlb.h"
#include "iommu/consumers/vfio_shadow.h"
#include "iommu/consumers/vhost_iotlb.h"
#include "iommu/domain.h"
#include "stats/objstats.h"

const struct iommu_consumer_ops *const iommu_consumer_table[] = {
    &vfio_shadow_consumer_ops,
    &vhost_iotlb_consumer_ops,
    &cpu_tlb_consumer_ops,
    &ats_tlb_consumer_ops,
    NULL,
};

const struct iommu_consumer_ops *iommu_consumer_find(const char *name)
{
    for (unsigned i = 0; iommu_consumer_table[i]; i++)
        if (strcmp(iommu_consumer_table[i]->name, name) == 0)
            return iommu_consumer_table[i];
    return NULL;
}

void iommu_consumer_init(struct iommu_consumer *c, const struct iommu_consumer_ops *ops,
                         const char *path)
{
    c->ops = ops;
    c->mmu = NULL;
    c->path = path ? path : ops->name;
}

int iommu_consumer_attach(struct iommu_consumer *c, struct iommu *mmu, char *err,
                          size_t errlen)
{
    int r;

    if (!mmu)
        return sim_error_format(err, errlen, SIM_EINVAL, c->path,
                                "no address space to attach to");
    if (c->mmu)
        return sim_error_format(err, errlen, SIM_EINVAL, c->path,
                                "already attached (to %s)", c->mmu->path ? c->mmu->path
                                : "an IOMMU");
    c->mmu = mmu;
    r = c->ops->attach(c, mmu, err, errlen);
    if (r)
        c->mmu = NULL;
    return r;
}

void iommu_consumer_detach(struct iommu_consumer *c)
{
    if (!c->mmu)
        return;
    c->ops->detach(c);
    c->mmu = NULL;
}

void iommu_consumer_reset_stats(struct iommu_consumer *c)
{
    if (c->ops->reset_stats)
        c->ops->reset_stats(c);
}

double iommu_consumer_read_counter(const struct iommu_consumer *c, unsigned idx)
{
    const uint64_t *p = c->ops->counter ? c->ops->counter(c, idx) : NULL;

    return p ? (double)*p : 0.0;
}

/* --- Config objects -------------------------------------------------------- */

void iommu_consumer_object_reset_stats(struct sim_object *obj)
{
    if (obj->priv)
        iommu_consumer_reset_stats(obj->priv);
}

double iommu_consumer_object_read(const struct sim_object *obj, unsigned idx)
{
    const struct iommu_consumer *c = obj->priv;

    if (!c || !c->ops->read || idx >= c->ops->nreadouts)
        return 0.0;
    return c->ops->read(c, idx);
}

int iommu_consumer_object_register_stats(struct sim_object *obj, void *reg)
{
    const struct iommu_consumer *c = obj->priv;
    uint64_t done = 0;
    int rc = 0;

    for (unsigned i = 0; c->ops->counter && i < c->ops->nreadouts && !rc; i++) {
        const uint64_t *src = c->ops->counter(c, i);

        if (src)
            rc = stats_object_readout_counter(reg, obj, i, src, &done);
    }
    return rc ? rc : stats_object_readouts(reg, obj, done);
}

int iommu_consumer_object_device(const struct sim_object *iommu, int64_t rid, int64_t domain,
                                 struct iommu **as, char *err, size_t errlen)
{
    unsigned dom = domain < 0 ? (unsigned)rid : (unsigned)domain;
    char e[400];
    int r;

    r = iommu_object_attach(iommu, (uint32_t)rid, dom, as, e, sizeof(e));
    if (r)
        snprintf(err, errlen, "iommu: %s", e);
    return r;
}

int iommu_consumer_object_attach(struct sim_object *obj, struct iommu *as, char *err,
                                 size_t errlen)
{
    int r = iommu_consumer_attach(obj->priv, as, err, errlen);

    if (r)
        iommu_consumer_object_destroy(obj);
    return r;
}

void iommu_consumer_object_destroy(struct sim_object *obj)
{
    struct iommu_consumer *c = obj->priv;

    if (!c)
        return;
    c->ops->destroy(c);
    free(c);
    obj->priv = NULL;
}
