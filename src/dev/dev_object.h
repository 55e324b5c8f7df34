/*
 * dev_object.h - the `DmaDevice` model descriptor: a DMA engine with its
 * PCIe link, a traffic pattern and the OS mapping policy of its domain, as
 * one object a config builds and attaches to a GenericIOMMU.
 */
#ifndef SIM_DEV_OBJECT_H
#define SIM_DEV_OBJECT_H

#include "engine/object.h"

extern const struct sim_model dev_model_dma_device;     /* "DmaDevice" */

#endif /* SIM_DEV_OBJECT_H */
