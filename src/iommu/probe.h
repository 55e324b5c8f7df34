/*
 * probe.h - the `TranslationProbe` model: timed translations straight into
 * an IOMMU, for IOMMU-only experiments.
 *
 * A probe binds its requester id to a domain of a GenericIOMMU, maps
 * `pages` 4 KiB pages there (one 4 KiB leaf each, whatever the alignment),
 * and issues timed translations to them at `rate` with a seeded stream:
 * pages drawn uniformly (the C/N experiment) or in a cyclic scan. No data
 * moves: what it measures is the IOMMU (IOTLB hit rate, walks, latency).
 * Devices with DMA engines and links live in src/dev.
 */
#ifndef SIM_IOMMU_PROBE_H
#define SIM_IOMMU_PROBE_H

#include "engine/object.h"

extern const struct sim_model iommu_model_translation_probe;   /* "TranslationProbe" */

#endif /* SIM_IOMMU_PROBE_H */
