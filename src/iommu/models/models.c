/*
 * models.c - the model table (see models.h).
 */
#include "iommu/models/models.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#include "iommu/models/generic.h"
#include "iommu/models/amdvi.h"
#include "iommu/models/smmuv3.h"
#include "iommu/models/tz_mpc.h"
#include "iommu/models/vtd.h"
#include "iommu/models/virtio_iommu.h"

const struct iommu_model_info iommu_models[] = {
    { "generic", "radix page tables, IOTLB with MSHRs, walker with PWCs",
      &generic_iommu_ops },
    { "tz_mpc", "TrustZone MPC: a secure/non-secure bit per block, two indexes, UNMAP only",
      &tz_mpc_iommu_ops },
    { "amdvi", "AMD-Vi: device table, level-skipping I/O page tables, IOTLB + PDC, "
      "timed command buffer, NpCache", &amdvi_iommu_ops },
    { "smmuv3", "Arm SMMUv3: stream table, STE/CD, gem5's TLB hierarchy and walk caches, "
      "timed command queue, stall/terminate faults, ATC invalidation", &smmuv3_iommu_ops },
    { "vtd", "Intel VT-d: context cache, legacy/scalable (nested) translation, timed "
      "queued invalidation, caching mode", &vtd_iommu_ops },
    { "virtio_iommu", "virtio-iommu: MAP/UNMAP requests to the host, per-domain mapping "
      "trees, MAP and UNMAP events", &virtio_iommu_ops },
};

const unsigned iommu_models_count = sizeof(iommu_models) / sizeof(iommu_models[0]);

/*
 * Models registered at run time (plugins): a growable array of pointers,
 * written only while plugins load (before any config runs), never on a
 * per-event path. It lives until exit, like the plugins' code.
 */
static const struct iommu_model_info **registered;
static unsigned nregistered, capregistered;

unsigned iommu_model_count(void)
{
    return iommu_models_count + nregistered;
}

const struct iommu_model_info *iommu_model_at(unsigned i)
{
    if (i < iommu_models_count)
        return &iommu_models[i];
    i -= iommu_models_count;
    return i < nregistered ? registered[i] : NULL;
}

const struct iommu_model_info *iommu_model_find(const char *name)
{
    unsigned i, n = iommu_model_count();

    for (i = 0; i < n; i++)
        if (strcmp(iommu_model_at(i)->name, name) == 0)
            return iommu_model_at(i);
    return NULL;
}

int iommu_model_register(const struct iommu_model_info *info)
{
    if (!info || !info->name || !*info->name || !info->doc || !info->ops ||
        !info->ops->translate)
        return SIM_EINVAL;
    if (iommu_model_find(info->name))
        return SIM_EEXIST;
    if (nregistered == capregistered) {
        unsigned cap = capregistered ? 2 * capregistered : 8;
        const struct iommu_model_info **v = realloc(registered, cap * sizeof(*v));

        if (!v)
            return SIM_ENOMEM;
        registered = v;
        capregistered = cap;
    }
    registered[nregistered++] = info;
    return 0;
}

void iommu_model_truncate(unsigned n)
{
    if (n < iommu_models_count)
        n = iommu_models_count;
    if (n - iommu_models_count < nregistered)
        nregistered = n - iommu_models_count;
}
