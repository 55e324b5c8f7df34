/*
 * models.c - the model table (see models.h).
 */
#include "iommu/models/models.h"

#include <string.h>

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

const struct iommu_model_info *iommu_model_find(const char *name)
{
    unsigned i;

    for (i = 0; i < iommu_models_count; i++)
        if (strcmp(iommu_models[i].name, name) == 0)
            return &iommu_models[i];
    return NULL;
}
