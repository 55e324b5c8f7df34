/*
 * mem_object.h - the `Memory` model descriptor: the memory timing model
 * (memory.h) as an object a config builds.
 *
 * A Memory object owns one struct mem. IOMMU models read their page tables
 * through it and devices send their DMA data through it; they reach it from
 * a reference parameter with mem_object_mem(), in their create op (the
 * Memory object is created first: the world creates an object after what it
 * references).
 */
#ifndef SIM_MEM_OBJECT_H
#define SIM_MEM_OBJECT_H

#include "engine/object.h"
#include "mem/memory.h"

extern const struct sim_model mem_model_memory;     /* "Memory" */

/* The struct mem of a created Memory object; NULL for NULL or another model. */
struct mem *mem_object_mem(const struct sim_object *obj);

#endif /* SIM_MEM_OBJECT_H */
