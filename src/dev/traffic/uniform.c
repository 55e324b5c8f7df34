/*
 * uniform.c - uniform random offsets: each transfer picks one of the
 * floor(footprint / size) size-aligned blocks with equal probability (an
 * unbiased draw from the device's seeded stream). With C IOTLB entries of
 * page size P over a footprint F >> C * P the hit rate tends to C * P / F
 * (and to 1 when the footprint fits).
 */
#include "dev/traffic/traffic.h"

static uint64_t uniform_next(struct traffic *t)
{
    return sim_rng_below(&t->rng, t->cfg.footprint / t->cfg.size) * t->cfg.size;
}

const struct traffic_ops traffic_uniform = {
    .name = "uniform",
    .doc = "transfers at uniformly random `size`-aligned offsets within `footprint`",
    .next_offset = uniform_next,
};
