/*
 * iova.c - the Linux-like IOVA allocator (see iova.h for the behaviour and
 * its sources).
 */
#include "os/iova.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

static uint64_t roundup_pow2(uint64_t x)
{
    uint64_t p = 1;

    while (p < x)
        p <<= 1;
    return p;
}

uint64_t iova_block_pages(uint64_t pages)
{
    return pages <= (UINT64_C(1) << (IOVA_RANGE_CACHE_MAX_SIZE - 1)) ? roundup_pow2(pages) : pages;
}

/* Order of a cached block, or -1 for sizes the caches do not hold. */
static int cache_order(uint64_t block)
{
    int o;

    for (o = 0; o < IOVA_RANGE_CACHE_MAX_SIZE; o++)
        if ((UINT64_C(1) << o) == block)
            return o;
    return -1;
}

/* --- The tree (a sorted array of ranges) ---------------------------------- */

static int tree_insert_at(struct iova_domain *d, size_t i, uint64_t lo, uint64_t hi)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        struct iova_range *r = realloc(d->r, cap * sizeof(*r));

        if (!r)
            return SIM_ENOMEM;
        d->r = r;
        d->cap = cap;
    }
    /* Just below the top run and abutting it (or the limit): the run grows.
     * Anywhere lower, it keeps its length (indices above i shift along). */
    if (i == d->n - d->top_run &&
        hi + 1 == (d->top_run ? d->r[i].lo : d->limit_pfn + 1))
        d->top_run++;
    memmove(&d->r[i + 1], &d->r[i], (d->n - i) * sizeof(*d->r));
    d->r[i].lo = lo;
    d->r[i].hi = hi;
    d->n++;
    return 0;
}

/*
 * The highest block of @size pages aligned to @align (a power of two) in a
 * gap at or below limit_pfn: scan the gaps from the top down. SIM_ERANGE if
 * none fits.
 */
static int tree_alloc(struct iova_domain *d, uint64_t size, uint64_t align, uint64_t *pfn)
{
    uint64_t hi = d->limit_pfn;
    size_t i = d->n;

    if (d->top_run) {
        /* The gaps inside the top run are empty: jump below it, with the
         * same start_pfn check the scan would have made on the way. */
        i = d->n - d->top_run;
        if (d->r[i].lo <= d->start_pfn)
            return SIM_ERANGE;
        hi = d->r[i].lo - 1;
    }
    for (;;) {
        uint64_t lo = i ? d->r[i - 1].hi + 1 : d->start_pfn;

        if (hi >= lo && hi - lo + 1 >= size) {
            uint64_t cand = (hi - size + 1) & ~(align - 1);

            if (cand >= lo) {
                int r = tree_insert_at(d, i, cand, cand + size - 1);

                if (r)
                    return r;
                *pfn = cand;
                d->st.tree_allocs++;
                return 0;
            }
        }
        if (i == 0 || d->r[i - 1].lo <= d->start_pfn)
            return SIM_ERANGE;
        hi = d->r[i - 1].lo - 1;
        i--;
    }
}

/* Index of the range starting at pfn, or d->n. */
static size_t tree_find(const struct iova_domain *d, uint64_t pfn)
{
    size_t lo = 0, hi = d->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (d->r[mid].lo < pfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->n && d->r[lo].lo == pfn ? lo : d->n;
}

static int tree_free(struct iova_domain *d, uint64_t pfn, uint64_t size)
{
    size_t i = tree_find(d, pfn);

    if (i == d->n || d->r[i].hi != pfn + size - 1)
        return SIM_ENOENT;
    if (i >= d->n - d->top_run)
        d->top_run = d->n - 1 - i;  /* the ranges above i still abut the limit */
    memmove(&d->r[i], &d->r[i + 1], (d->n - i - 1) * sizeof(*d->r));
    d->n--;
    d->st.tree_frees++;
    return 0;
}

bool iova_is_allocated(const struct iova_domain *d, uint64_t pfn)
{
    size_t lo = 0, hi = d->n;

    /* The last range with r.lo <= pfn. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (d->r[mid].lo <= pfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && d->r[lo - 1].hi >= pfn;
}

/* --- Magazines ------------------------------------------------------------- */

static void mag_spill(struct iova_domain *d, struct iova_mag *m, unsigned order)
{
    for (unsigned k = 0; k < m->n; k++)
        tree_free(d, m->pfn[k], UINT64_C(1) << order);
    m->n = 0;
}

static bool rcache_get(struct iova_domain *d, unsigned order, unsigned cpu, uint64_t *pfn)
{
    struct iova_rcache *rc = &d->rcache[order];
    struct iova_cpu_cache *c = &rc->cpu[cpu];

    if (!c->loaded->n) {
        if (c->prev->n) {
            struct iova_mag *t = c->loaded;

            c->loaded = c->prev;
            c->prev = t;
        } else if (rc->ndepot) {
            c->loaded->next_free = rc->free_mags;
            rc->free_mags = c->loaded;
            c->loaded = rc->depot[--rc->ndepot];
            d->st.depot_pops++;
        } else {
            return false;
        }
    }
    *pfn = c->loaded->pfn[--c->loaded->n];
    return true;
}

static void rcache_insert(struct iova_domain *d, unsigned order, unsigned cpu, uint64_t pfn)
{
    struct iova_rcache *rc = &d->rcache[order];
    struct iova_cpu_cache *c = &rc->cpu[cpu];

    if (c->loaded->n == IOVA_MAG_SIZE) {
        if (c->prev->n < IOVA_MAG_SIZE) {
            struct iova_mag *t = c->loaded;

            c->loaded = c->prev;
            c->prev = t;
        } else if (rc->ndepot < IOVA_MAX_GLOBAL_MAGS) {
            /* The pool holds 2 per CPU + the depot: a free one exists. */
            rc->depot[rc->ndepot++] = c->loaded;
            c->loaded = rc->free_mags;
            rc->free_mags = c->loaded->next_free;
            c->loaded->n = 0;
            d->st.depot_pushes++;
        } else {
            mag_spill(d, c->loaded, order);
            d->st.mag_spills++;
        }
    }
    c->loaded->pfn[c->loaded->n++] = pfn;
}

void iova_drain_caches(struct iova_domain *d)
{
    for (unsigned o = 0; o < IOVA_RANGE_CACHE_MAX_SIZE; o++) {
        struct iova_rcache *rc = &d->rcache[o];

        for (unsigned c = 0; c < d->ncpus; c++) {
            mag_spill(d, rc->cpu[c].loaded, o);
            mag_spill(d, rc->cpu[c].prev, o);
        }
        while (rc->ndepot) {
            struct iova_mag *m = rc->depot[--rc->ndepot];

            mag_spill(d, m, o);
            m->next_free = rc->free_mags;
            rc->free_mags = m;
        }
    }
    d->st.drains++;
}

/* --- Public ---------------------------------------------------------------- */

int iova_domain_init(struct iova_domain *d, uint64_t start_pfn, uint64_t limit_pfn,
                     unsigned ncpus)
{
    unsigned per_order = 2 * ncpus + IOVA_MAX_GLOBAL_MAGS;
    unsigned k = 0;

    memset(d, 0, sizeof(*d));
    if (start_pfn < 1 || start_pfn > limit_pfn || ncpus < 1)
        return SIM_EINVAL;
    d->start_pfn = start_pfn;
    d->limit_pfn = limit_pfn;
    d->ncpus = ncpus;
    d->pool = calloc((size_t)per_order * IOVA_RANGE_CACHE_MAX_SIZE, sizeof(*d->pool));
    if (!d->pool)
        return SIM_ENOMEM;
    for (unsigned o = 0; o < IOVA_RANGE_CACHE_MAX_SIZE; o++) {
        struct iova_rcache *rc = &d->rcache[o];

        rc->cpu = calloc(ncpus, sizeof(*rc->cpu));
        if (!rc->cpu) {
            iova_domain_destroy(d);
            return SIM_ENOMEM;
        }
        for (unsigned i = 0; i < per_order; i++) {
            struct iova_mag *m = &d->pool[k++];

            m->next_free = rc->free_mags;
            rc->free_mags = m;
        }
        for (unsigned c = 0; c < ncpus; c++) {
            rc->cpu[c].loaded = rc->free_mags;
            rc->free_mags = rc->free_mags->next_free;
            rc->cpu[c].prev = rc->free_mags;
            rc->free_mags = rc->free_mags->next_free;
        }
    }
    return 0;
}

void iova_domain_destroy(struct iova_domain *d)
{
    for (unsigned o = 0; o < IOVA_RANGE_CACHE_MAX_SIZE; o++)
        free(d->rcache[o].cpu);
    free(d->pool);
    free(d->r);
    memset(d, 0, sizeof(*d));
}

int iova_alloc(struct iova_domain *d, unsigned cpu, uint64_t pages, uint64_t *pfn)
{
    uint64_t block, align;
    int order, r;

    if (pages == 0 || cpu >= d->ncpus)
        return SIM_EINVAL;
    block = iova_block_pages(pages);
    align = roundup_pow2(block);
    order = cache_order(block);
    d->st.allocs++;
    if (order >= 0) {
        if (rcache_get(d, (unsigned)order, cpu, pfn)) {
            d->st.cache_hits++;
            d->st.pages_live += block;
            return 0;
        }
        d->st.cache_misses++;
    }
    r = tree_alloc(d, block, align, pfn);
    if (r == SIM_ERANGE) {
        iova_drain_caches(d);
        r = tree_alloc(d, block, align, pfn);
    }
    if (r) {
        d->st.failures++;
        return r;
    }
    d->st.pages_live += block;
    return 0;
}

int iova_free(struct iova_domain *d, unsigned cpu, uint64_t pfn, uint64_t pages)
{
    uint64_t block;
    int order, r;

    if (pages == 0 || cpu >= d->ncpus)
        return SIM_EINVAL;
    block = iova_block_pages(pages);
    order = cache_order(block);
    if (order >= 0) {
        /* As in Linux, a cached free is not checked against the tree. */
        rcache_insert(d, (unsigned)order, cpu, pfn);
        d->st.cache_frees++;
    } else {
        r = tree_free(d, pfn, block);
        if (r)
            return r;
    }
    d->st.frees++;
    d->st.pages_live -= block;
    return 0;
}
