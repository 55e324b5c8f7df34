/*
 * models.h - the one table of IOMMU models.
 *
 * Adding a model is adding its file and one row in models.c. The core never
 * names a model; front ends find one by name here.
 */
#ifndef SIM_IOMMU_MODELS_H
#define SIM_IOMMU_MODELS_H

#include "iommu/iommu.h"

struct iommu_model_info {
    const char *name;
    const char *doc;
    const struct iommu_ops *ops;
};

extern const struct iommu_model_info iommu_models[];
extern const unsigned iommu_models_count;

/* The model called @name, or NULL. */
const struct iommu_model_info *iommu_model_find(const char *name);

#endif /* SIM_IOMMU_MODELS_H */
