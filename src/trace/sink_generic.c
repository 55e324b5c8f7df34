/*
 * sink_generic.c - a replay sink that drives the `generic` IOMMU directly.
 *
 * map and unmap go straight to generic_map/generic_unmap on one domain (the
 * driver's view with strict invalidation, as the generic model gives it);
 * an access becomes one timed translation (iommu_translate_timed) per 4 KiB
 * page it touches, as a device splits a transfer at page boundaries. The
 * sink records translation count, faults and latency itself; it does not
 * model the data transfer (that is the device layer's job).
 *
 * Requests come from a free list refilled in chunks of 256: the pool grows
 * only past its previous peak of requests in flight, so a steady replay
 * allocates nothing.
 */
#include "trace/replay.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#define SINK_CHUNK 256

struct trace_sink_generic_req {
    struct iommu_req r;             /* first: done() gets it back by cast */
    struct trace_sink_generic *s;
    struct trace_sink_generic_req *next;
};

static int sink_grow(struct trace_sink_generic *s)
{
    struct trace_sink_generic_req *c = calloc(SINK_CHUNK, sizeof(*c));
    void **p = realloc(s->chunks, (s->nchunks + 1) * sizeof(*p));

    if (!c || !p) {
        free(c);
        if (p)
            s->chunks = p;
        return SIM_ENOMEM;
    }
    s->chunks = p;
    s->chunks[s->nchunks++] = c;
    for (unsigned i = 0; i < SINK_CHUNK; i++) {
        c[i].s = s;
        c[i].next = s->free;
        s->free = &c[i];
    }
    return 0;
}

static void sink_done(struct iommu_req *req)
{
    struct trace_sink_generic_req *q = (struct trace_sink_generic_req *)req;
    struct trace_sink_generic *s = q->s;
    sim_tick_t lat = req->completed - req->issued;

    s->st.translations++;
    if (req->status)
        s->st.faults++;
    s->st.lat_sum += (double)lat;
    if (lat > s->st.lat_max)
        s->st.lat_max = lat;
    s->st.inflight--;
    q->next = s->free;
    s->free = q;
}

static int sink_map(void *sink, uint64_t iova, uint64_t paddr, uint64_t size)
{
    struct trace_sink_generic *s = sink;
    int r = generic_map(s->g, s->domain, iova, paddr, size, IOMMU_RW);

    if (!r)
        s->st.maps++;
    return r;
}

static int sink_unmap(void *sink, uint64_t iova, uint64_t size)
{
    struct trace_sink_generic *s = sink;
    int r = size ? generic_unmap(s->g, s->domain, iova, size, NULL) : 0;

    if (!r)
        s->st.unmaps++;
    return r;
}

static int sink_access(void *sink, uint64_t iova, uint32_t len, bool write)
{
    struct trace_sink_generic *s = sink;
    uint64_t page = iova & ~UINT64_C(0xfff), last = (iova + len - 1) & ~UINT64_C(0xfff);

    for (;; page += 4096) {
        struct trace_sink_generic_req *q;
        int r;

        if (!s->free && (r = sink_grow(s)) != 0)
            return r;
        q = s->free;
        s->free = q->next;
        memset(&q->r, 0, sizeof(q->r));
        q->r.iova = page == (iova & ~UINT64_C(0xfff)) ? iova : page;
        q->r.access = write ? IOMMU_WO : IOMMU_RO;
        q->r.attrs.requester_id = s->rid;
        q->r.attrs.is_write = write;
        q->r.done = sink_done;
        q->r.ctx = s;
        r = iommu_translate_timed(s->mmu, &q->r);
        if (r) {
            q->next = s->free;
            s->free = q;
            return r;
        }
        if (++s->st.inflight > s->st.peak_inflight)
            s->st.peak_inflight = s->st.inflight;
        if (page == last)
            return 0;
    }
}

const struct trace_sink_ops trace_sink_generic_ops = {
    .map = sink_map,
    .unmap = sink_unmap,
    .access = sink_access,
};

int trace_sink_generic_init(struct trace_sink_generic *s, struct generic_iommu *g,
                            unsigned domain, uint32_t rid, char *err, size_t errlen)
{
    int r;

    memset(s, 0, sizeof(*s));
    s->g = g;
    s->domain = domain;
    s->rid = rid;
    r = generic_domain_create(g, domain);
    if (r && r != SIM_EEXIST)
        return sim_error_format(err, errlen, r, "trace replay", "cannot create domain %u",
                                domain);
    return generic_attach(g, rid, domain, &s->mmu, err, errlen);
}

void trace_sink_generic_destroy(struct trace_sink_generic *s)
{
    for (size_t i = 0; i < s->nchunks; i++)
        free(s->chunks[i]);
    free(s->chunks);
    s->chunks = NULL;
    s->nchunks = 0;
    s->free = NULL;
}
