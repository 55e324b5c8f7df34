/*
 * object_parts.c - the IOTLB and Walker objects of an IOMMU model's config
 * object, claimed, bound and released as one (objects.h, struct
 * iommu_object_parts).
 *
 * Every IOMMU model descriptor that references an IOTLB (and a Walker) did
 * these steps itself, with the same unwind labels; one copy here keeps the
 * order the same for all of them: the IOTLB is claimed first (so its error
 * is the one reported when both references are wrong), and a failed
 * Walker claim gives the IOTLB back, so a config that fails leaves both
 * objects free for whichever IOMMU is fixed to use them. Create and destroy
 * only: nothing here runs per request.
 */
#include "iommu/objects.h"

int iommu_object_parts_claim(struct iommu_object_parts *p, const char *owner,
                             const struct sim_value *tlb, const struct sim_value *walker,
                             char *err, size_t errlen)
{
    int r;

    p->tlb = NULL;
    p->walker = NULL;
    r = iotlb_object_claim(tlb->ref.obj, owner, &p->tlb, err, errlen);
    if (r)
        return r;
    if (!walker)
        return 0;
    r = walker_object_claim(walker->ref.obj, owner, &p->walker, err, errlen);
    if (r) {
        iotlb_object_bind(p->tlb, NULL);
        p->tlb = NULL;
    }
    return r;
}

void iommu_object_parts_bind(struct iommu_object_parts *p, struct iotlb *tlb,
                             struct walker *walker)
{
    iotlb_object_bind(p->tlb, tlb);
    if (p->walker)
        walker_object_bind(p->walker, walker);
}

void iommu_object_parts_release(struct iommu_object_parts *p)
{
    if (p->tlb)
        iotlb_object_bind(p->tlb, NULL);
    if (p->walker)
        walker_object_bind(p->walker, NULL);
}
