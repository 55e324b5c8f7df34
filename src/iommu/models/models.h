/*
 * models.h - the one table of IOMMU models.
 *
 * Adding a model is adding its file and one row in models.c. The core never
 * names a model; front ends find one by name here. Out-of-tree models
 * (plugins, docs/plugins.md) are added at run time with
 * iommu_model_register(), and are found exactly like built-in ones.
 */
#ifndef SIM_IOMMU_MODELS_H
#define SIM_IOMMU_MODELS_H

#include "iommu/iommu.h"

struct iommu_model_info {
    const char *name;
    const char *doc;
    const struct iommu_ops *ops;
};

/* The built-in models (this table is what ships; plugins add to the list below). */
extern const struct iommu_model_info iommu_models[];
extern const unsigned iommu_models_count;

/* The model called @name (built in or registered), or NULL. */
const struct iommu_model_info *iommu_model_find(const char *name);

/*
 * Every model: the built-in ones, then those registered at run time by
 * plugins (plugin/plugin.h), in registration order.
 */
unsigned iommu_model_count(void);
const struct iommu_model_info *iommu_model_at(unsigned i);

/*
 * Add a model at run time. @info is not copied: it must stay valid (a
 * plugin's static table). 0, or SIM_EINVAL (no name, no doc, no ops or no
 * translate op: B1), SIM_EEXIST (the name is taken), SIM_ENOMEM.
 */
int iommu_model_register(const struct iommu_model_info *info);

/* Forget the registered models after the first @n of iommu_model_count()
 * (a plugin whose registration failed part-way). */
void iommu_model_truncate(unsigned n);

#endif /* SIM_IOMMU_MODELS_H */
