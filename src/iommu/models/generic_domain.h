/*
 * generic_domain.h - the `generic` model's domains as the OS sees them
 * (iommu/domain.h): one struct iommu_domain per domain id, created on first
 * use, owned by the GenericIOMMU object.
 */
#ifndef SIM_IOMMU_GENERIC_DOMAIN_H
#define SIM_IOMMU_GENERIC_DOMAIN_H

#include "iommu/domain.h"
#include "iommu/models/generic.h"

struct generic_domains {
    struct generic_iommu *g;
    struct iommu_domain *v;         /* [max_domains]; ops NULL: not created yet */
};

int generic_domains_init(struct generic_domains *d, struct generic_iommu *g);
void generic_domains_destroy(struct generic_domains *d);

/* Domain @id (created with empty tables on first use). err: one line. */
int generic_domains_get(struct generic_domains *d, unsigned id, struct iommu_domain **out,
                        char *err, size_t errlen);

#endif /* SIM_IOMMU_GENERIC_DOMAIN_H */
