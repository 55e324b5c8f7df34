/*
 * strided.c - the strided stream: transfer k starts at offset
 * (k * stride) mod footprint, rounded down to a multiple of size (a column
 * walk over a matrix, a scatter of fixed-size records). A stride of a page
 * or more touches a new page with every transfer.
 */
#include "dev/traffic/traffic.h"

static uint64_t strided_next(struct traffic *t)
{
    uint64_t span = t->cfg.footprint - t->cfg.footprint % t->cfg.size;
    uint64_t off = t->pos - t->pos % t->cfg.size;

    t->pos = (t->pos + t->cfg.stride) % span;
    return off;
}

const struct traffic_ops traffic_strided = {
    .name = "strided",
    .doc = "transfers at offsets k * `stride` modulo `footprint` (aligned down to `size`)",
    .next_offset = strided_next,
};
