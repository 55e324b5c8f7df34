/*
 * sequential.c - the sequential stream: transfer k starts at offset
 * k * size, wrapping at the footprint (a streaming copy or a log write).
 * One IOTLB miss per page per pass; with a footprint larger than the
 * IOTLB's reach every page misses once per pass.
 */
#include "dev/traffic/traffic.h"

static uint64_t seq_next(struct traffic *t)
{
    uint64_t off = t->pos;

    t->pos += t->cfg.size;
    if (t->pos + t->cfg.size > t->cfg.footprint)
        t->pos = 0;
    return off;
}

const struct traffic_ops traffic_sequential = {
    .name = "sequential",
    .doc = "transfers of `size` bytes at consecutive offsets, wrapping at `footprint`",
    .next_offset = seq_next,
};
