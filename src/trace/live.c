/*
 * live.c - the set of live IOVA mappings while walking a trace in time order.
 *
 * Used twice: by the importer's consistency checks (an unmap of bytes that
 * are not mapped, a map over a live mapping) and by replay to find when
 * each mapped buffer's life ends (the first unmap that touches it). One
 * array sorted by start; see trace.h for the costs.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "trace/trace.h"

void trace_live_init(struct trace_live *l)
{
    memset(l, 0, sizeof(*l));
}

void trace_live_free(struct trace_live *l)
{
    free(l->e);
    free(l->tmp);
    trace_live_init(l);
}

/* First index whose entry starts at or after @first. */
static size_t live_lower(const struct trace_live *l, uint64_t first)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (l->e[mid].first < first)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index that can overlap a range starting at @first: no entry is
 * longer than maxlen, so nothing starting before first - maxlen reaches it. */
static size_t live_scan_from(const struct trace_live *l, uint64_t first)
{
    return live_lower(l, first > l->maxlen ? first - l->maxlen : 0);
}

static int live_insert(struct trace_live *l, uint64_t first, uint64_t last, uint64_t id)
{
    size_t i;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct trace_live_ent *p = realloc(l->e, cap * sizeof(*p));

        if (!p)
            return SIM_ENOMEM;
        l->e = p;
        l->cap = cap;
    }
    i = live_lower(l, first);
    memmove(&l->e[i + 1], &l->e[i], (l->n - i) * sizeof(*l->e));
    l->e[i] = (struct trace_live_ent){ first, last, id };
    l->n++;
    if (last - first > l->maxlen)
        l->maxlen = last - first;
    return 0;
}

int trace_live_map(struct trace_live *l, uint64_t iova, uint64_t size, uint64_t id,
                   uint64_t *overlap_id)
{
    uint64_t last = iova + size - 1;
    int hit = 0, r;

    if (size == 0)
        return 0;
    for (size_t i = live_scan_from(l, iova); i < l->n && l->e[i].first <= last; i++) {
        if (l->e[i].last >= iova) {
            if (overlap_id)
                *overlap_id = l->e[i].id;
            hit = 1;
            break;
        }
    }
    r = live_insert(l, iova, last, id);
    return r ? r : hit;
}

int trace_live_unmap(struct trace_live *l, uint64_t iova, uint64_t size,
                     trace_live_cb cb, void *ctx, uint64_t *uncovered)
{
    uint64_t last = iova + size - 1, covered = 0, next = iova;  /* next uncovered byte */
    bool done = false;                                          /* covered up to last */
    size_t i, w, nright = 0;

    *uncovered = 0;
    if (size == 0)
        return 0;
    i = live_scan_from(l, iova);
    for (w = i; i < l->n; i++) {
        struct trace_live_ent e = l->e[i];

        if (e.first > last) {
            l->e[w++] = e;
            continue;
        }
        if (e.last < iova) {
            l->e[w++] = e;
            continue;
        }
        /* Coverage of [iova, last]: entries come sorted by first. */
        if (!done) {
            uint64_t a = e.first > next ? e.first : next;
            uint64_t b = e.last < last ? e.last : last;

            if (a <= b) {
                covered += b - a + 1;
                if (b == last)
                    done = true;
                else
                    next = b + 1;
            }
        }
        if (cb)
            cb(ctx, e.id);
        if (e.first < iova)
            l->e[w++] = (struct trace_live_ent){ e.first, iova - 1, e.id };
        if (e.last > last) {
            if (nright == l->tmpcap) {
                size_t cap = l->tmpcap ? l->tmpcap * 2 : 16;
                struct trace_live_ent *p = realloc(l->tmp, cap * sizeof(*p));

                if (!p)
                    return SIM_ENOMEM;
                l->tmp = p;
                l->tmpcap = cap;
            }
            l->tmp[nright++] = (struct trace_live_ent){ last + 1, e.last, e.id };
        }
    }
    l->n = w;
    /* The left pieces kept their start, so order holds; the right pieces go
     * back in at their new start (insertion cannot fail: the array had room
     * for the entries they were cut from). */
    for (size_t k = 0; k < nright; k++) {
        int r = live_insert(l, l->tmp[k].first, l->tmp[k].last, l->tmp[k].id);

        if (r)
            return r;
    }
    *uncovered = size - covered;
    return 0;
}

