/*
 * objects.h - the `IOTLB` and `Walker` model descriptors: the settings of an
 * IOMMU's translation cache and page-table walker, as objects a config
 * builds and an IOMMU model references.
 *
 * They hold parameters, not hardware: an IOMMU model that references one
 * (GenericIOMMU's `iotlb` and `walker`) builds its own struct iotlb /
 * struct walker from the settings in its create op, then binds it back so
 * that the object's readouts (`system.iotlb.read("hit_rate")`) and
 * reset_stats() reach the live instance. One IOTLB or Walker object serves
 * one IOMMU: a second claim is an error at instantiate().
 *
 * Every constraint is checked by the validate hooks (ways divide entries,
 * plru needs power-of-two ways, ...), so a config error is reported as
 * `system.iotlb.ways: ...` before anything is created, and iotlb_init() /
 * walker_init() can then fail only for want of memory.
 */
#ifndef SIM_IOMMU_OBJECTS_H
#define SIM_IOMMU_OBJECTS_H

#include "engine/object.h"
#include "iommu/iotlb.h"
#include "iommu/walk.h"

extern const struct sim_model iommu_model_iotlb;    /* "IOTLB" */
extern const struct sim_model iommu_model_walker;   /* "Walker" */

/* The instance (obj->priv) of an IOTLB object. */
struct iotlb_object {
    struct iotlb_cfg cfg;           /* geometry, policy, MSHRs; path = object path */
    sim_tick_t hit_latency;         /* lookup to answer, ticks */
    sim_tick_t lookup_cycle;        /* a lookup port is busy this long per lookup */
    unsigned lookup_ports;
    struct iotlb *live;             /* bound by the owning IOMMU; NULL before */
    const char *owner;              /* that IOMMU's path */
};

/* The instance (obj->priv) of a Walker object. */
struct walker_object {
    struct walk_cfg cfg;            /* pwc_entries[d] for depths 1..npwc */
    unsigned npwc;                  /* depths with a PWC setting */
    struct walker *live;
    const char *owner;
};

/*
 * Claim the IOTLB (or Walker) object @obj for the IOMMU at @owner and return
 * its settings; the IOMMU then builds its instance and binds it with
 * ..._bind() so readouts reach it. SIM_EINVAL if @obj is not of the model,
 * SIM_EEXIST (with "PATH already serves OWNER ..." in err) if another IOMMU
 * claimed it. Called from an IOMMU model's create op.
 */
int iotlb_object_claim(struct sim_object *obj, const char *owner,
                       struct iotlb_object **out, char *err, size_t errlen);
int walker_object_claim(struct sim_object *obj, const char *owner,
                        struct walker_object **out, char *err, size_t errlen);

/* Bind the live instance (NULL to unbind, from the IOMMU's destroy op). */
static inline void iotlb_object_bind(struct iotlb_object *o, struct iotlb *live)
{
    o->live = live;
    if (!live)
        o->owner = NULL;
}

static inline void walker_object_bind(struct walker_object *o, struct walker *live)
{
    o->live = live;
    if (!live)
        o->owner = NULL;
}

/*
 * struct iommu_object_parts - the IOTLB and Walker objects one IOMMU model's
 * config object references, handled as one: every model that takes its
 * cache and walker settings from them (GenericIOMMU, VTdIOMMU, AmdViIOMMU)
 * claims them in its create op, binds them once its model is built, and
 * releases them in destroy or when create fails after the claim. Kept here
 * so the claim order, the unwinding and the unbinding before the model's
 * memory goes are written once (object_parts.c).
 */
struct iommu_object_parts {
    struct iotlb_object *tlb;
    struct walker_object *walker;   /* NULL for a model without a Walker (AMD-Vi) */
};

/*
 * Claim the IOTLB object that @tlb references and, unless @walker is NULL
 * (the model has no `walker` parameter), the Walker object @walker
 * references, for the IOMMU at @owner. On failure nothing stays claimed
 * and err holds iotlb_object_claim's or walker_object_claim's message.
 */
int iommu_object_parts_claim(struct iommu_object_parts *p, const char *owner,
                             const struct sim_value *tlb, const struct sim_value *walker,
                             char *err, size_t errlen);

/* Bind the model's live IOTLB and walker (@walker ignored without one), so
 * the objects' readouts and reset_stats reach them. */
void iommu_object_parts_bind(struct iommu_object_parts *p, struct iotlb *tlb,
                             struct walker *walker);

/* Unbind and unclaim both (safe on parts never bound); before the model's
 * instance is freed, so no readout reaches freed memory. */
void iommu_object_parts_release(struct iommu_object_parts *p);

#endif /* SIM_IOMMU_OBJECTS_H */
