/*
 * domain.c - finding the driver's view of an IOMMU config object (domain.h).
 */
#include "iommu/domain.h"

#include <stdio.h>

#include "engine/error.h"

const struct iommu_object_ops *iommu_object_ops_of(const struct sim_object *obj)
{
    if (!obj || !obj->priv || !obj->model->implements ||
        strcmp(obj->model->implements, IOMMU_OBJECT_IFACE) != 0)
        return NULL;
    return obj->model->iface;
}

static const struct iommu_object_ops *ops_or_err(const struct sim_object *obj, char *err,
                                                 size_t errlen)
{
    const struct iommu_object_ops *ops = iommu_object_ops_of(obj);

    if (!ops)
        snprintf(err, errlen, "iommu: not a created IOMMU model (got %s, expected an object "
                 "whose model implements IOMMU)", obj ? obj->model->name : "none");
    return ops;
}

int iommu_object_domain(const struct sim_object *obj, unsigned id, struct iommu_domain **out,
                        char *err, size_t errlen)
{
    const struct iommu_object_ops *ops = ops_or_err(obj, err, errlen);

    return ops ? ops->domain(obj, id, out, err, errlen) : SIM_EINVAL;
}

int iommu_object_attach(const struct sim_object *obj, uint32_t rid, unsigned id,
                        struct iommu **out, char *err, size_t errlen)
{
    const struct iommu_object_ops *ops = ops_or_err(obj, err, errlen);

    return ops ? ops->attach(obj, rid, id, out, err, errlen) : SIM_EINVAL;
}
