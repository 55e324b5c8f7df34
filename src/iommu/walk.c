/*
 * walk.c - timed page-table walks with page-walk caches (see walk.h).
 *
 * A walk is planned functionally (pgtable_walk gives the PTE addresses) and
 * then timed: its reads go to the memory model one at a time, each issued
 * when the previous completes. Planning at slot-grant time, not at issue,
 * means a walk sees the tables as they are when hardware would start it.
 */
#include "iommu/walk.h"

#include <string.h>

#include "engine/error.h"

int walker_init(struct walker *w, struct sim *sim, struct mem *mem,
                const struct walk_cfg *cfg, char *err, size_t errlen)
{
    const char *path = cfg->path ? cfg->path : "walker";
    unsigned s, d;
    int r;

    memset(w, 0, sizeof(*w));
    if (cfg->walkers == 0)
        return sim_error_format(err, errlen, SIM_EINVAL, path,
                                "walkers (got 0, expected >= 1)");
    w->sim = sim;
    w->mem = mem;
    w->cfg = *cfg;
    if (!w->cfg.pte_bytes)
        w->cfg.pte_bytes = 8;
    r = sim_resource_init(&w->slots, sim, cfg->walkers);
    if (r)
        return sim_error_format(err, errlen, r, path, NULL);
    for (s = 0; s < 2; s++)
        for (d = 1; d < PGTABLE_MAX_LEVELS; d++) {
            struct iotlb_cfg c;

            if (!cfg->pwc_entries[d])
                continue;
            memset(&c, 0, sizeof(c));
            c.policy = IOTLB_LRU;
            c.arr[0].entries = cfg->pwc_entries[d];
            c.arr[0].ways = cfg->pwc_ways_at[d] ? cfg->pwc_ways_at[d]
                            : cfg->pwc_ways ? cfg->pwc_ways : cfg->pwc_entries[d];
            c.path = path;
            r = iotlb_init(&w->pwc[s][d], &c, err, errlen);
            if (r) {
                walker_destroy(w);
                return r;
            }
            w->pwc_on[s][d] = true;
        }
    return 0;
}

void walker_destroy(struct walker *w)
{
    unsigned s, d;

    for (s = 0; s < 2; s++)
        for (d = 0; d < PGTABLE_MAX_LEVELS; d++)
            if (w->pwc_on[s][d]) {
                iotlb_destroy(&w->pwc[s][d]);
                w->pwc_on[s][d] = false;
            }
    sim_resource_destroy(&w->slots);
}

/* The input bits the first @depth reads of a walk of @pt consume (their
 * widths follow the table's granule). */
static inline uint64_t prefix_of(const struct pgtable *pt, uint64_t addr, unsigned depth)
{
    return addr >> pgtable_level_shift(pt, pt->levels - depth + 1);
}

/* The PWC that holds what @depth reads of a walk of @pt found: depth
 * itself, or (pwc_by_level) the Arm level of the last read + 1; 0: none. */
static inline unsigned pwc_index(const struct walker *w, const struct pgtable *pt,
                                 unsigned depth)
{
    int k;

    if (!w->cfg.pwc_by_level)
        return depth;
    k = 4 - (int)pt->levels + (int)depth;
    return k >= 1 && k < PGTABLE_MAX_LEVELS ? (unsigned)k : 0;
}

/*
 * Plan one stage: append its reads to r->addr, skipping what the PWCs hold
 * (counted only when @count, i.e. on a real walk), and note the fills.
 */
static int plan_stage(struct walker *w, struct walk_req *r, unsigned stage,
                      const struct pgtable *pt, uint64_t addr, bool count,
                      struct pgtable_path *path, struct pgtable_result *res,
                      unsigned *skip_out)
{
    int st = pgtable_walk(pt, addr, path, res);
    unsigned skip = 0, d, k;
    /* Deepest cacheable depth: the last table read; the leaf too (pwc_leaf)
     * when the walk found one. */
    unsigned top = path->n ? path->n - (w->cfg.pwc_leaf && st == 0 ? 0 : 1) : 0;

    for (d = top; d >= 1; d--) {
        struct iotlb_hit h;

        k = pwc_index(w, pt, d);
        if (!w->pwc_on[stage][k])
            continue;
        if (count)
            w->st.pwc_lookups[stage][k]++;
        /* iotlb counts its own hits; a peek would disturb LRU, so a plan
         * without @count still looks up: walk_plan is for tests only. */
        if (iotlb_lookup(&w->pwc[stage][k], r->domain, 0,
                         prefix_of(pt, addr, d) << 12, &h)) {
            if (count)
                w->st.pwc_hits[stage][k]++;
            skip = d;
            break;
        }
    }
    for (d = skip + 1; d <= top; d++)
        if (w->pwc_on[stage][k = pwc_index(w, pt, d)] && r->nfill < WALK_MAX_READS) {
            r->fill[r->nfill].stage = (uint8_t)stage;
            r->fill[r->nfill].depth = (uint8_t)k;
            r->fill[r->nfill].prefix = prefix_of(pt, addr, d);
            r->nfill++;
        }
    *skip_out = skip;
    return st;
}

/*
 * Translate @ipa through stage 2 for a nested walk: the IPA cache if there
 * is one (a hit costs no read), else a stage-2 sub-walk appended to r->addr,
 * whose result is noted for an IPA cache fill at the walk's end.
 */
static int plan_s2(struct walker *w, struct walk_req *r, uint64_t ipa, bool final,
                   bool count, struct pgtable_result *r2)
{
    struct pgtable_path p2;
    unsigned skip2, k;
    int st;

    if (w->ipa) {
        struct iotlb_hit h;

        if (count)
            w->st.ipa_lookups++;
        if (iotlb_lookup(w->ipa, r->domain, 0, ipa, &h)) {
            if (count)
                w->st.ipa_hits++;
            memset(r2, 0, sizeof(*r2));
            r2->translated_addr = h.translated_addr;
            r2->addr_mask = h.addr_mask;
            r2->perm = h.perm;
            return 0;
        }
    }
    if (!final && w->cfg.s2_pwc_final_only) {
        /* A stage-1 table address: a full stage-2 walk, no PWC lookup or fill. */
        st = pgtable_walk(r->s2, ipa, &p2, r2);
        skip2 = 0;
    } else {
        st = plan_stage(w, r, 1, r->s2, ipa, count, &p2, r2, &skip2);
    }
    for (k = skip2; k < p2.n; k++)
        r->addr[r->nreads++] = p2.pte_addr[k];
    if (st == 0 && w->ipa && r->nipa < PGTABLE_MAX_LEVELS + 1) {
        r->ipa_fill[r->nipa].ipa = ipa;
        r->ipa_fill[r->nipa].res = *r2;
        r->nipa++;
    }
    return st;
}

static int plan(struct walker *w, struct walk_req *r, bool count)
{
    struct pgtable_path p1;
    struct pgtable_result r1, r2;
    unsigned skip, i;
    int st;

    r->next = 0;
    r->nreads = 0;
    r->nfill = 0;
    r->nipa = 0;
    memset(&r->res, 0, sizeof(r->res));
    st = plan_stage(w, r, r->s1_is_s2 && !r->s2 ? 1 : 0, r->s1, r->iova, count, &p1, &r1,
                    &skip);
    if (!r->s2) {
        for (i = skip; i < p1.n; i++)
            r->addr[r->nreads++] = p1.pte_addr[i];
        if (st == 0)
            r->res = r1;
        return st;
    }
    /* Nested: each stage-1 table read needs its address through stage 2. */
    for (i = skip; i < p1.n; i++) {
        uint64_t ipa = p1.pte_addr[i];
        int s2st = plan_s2(w, r, ipa, false, count, &r2);

        if (s2st)
            return s2st;
        r->addr[r->nreads++] = r2.translated_addr | (ipa & r2.addr_mask);
    }
    if (st)
        return st;
    {
        uint64_t ipa = r1.translated_addr | (r->iova & r1.addr_mask);
        int s2st = plan_s2(w, r, ipa, true, count, &r2);

        if (s2st)
            return s2st;
        /* The combined page is the smaller of the two. */
        r->res.addr_mask = r1.addr_mask < r2.addr_mask ? r1.addr_mask : r2.addr_mask;
        r->res.translated_addr = (r2.translated_addr | (ipa & r2.addr_mask)) & ~r->res.addr_mask;
        r->res.perm = r1.perm & r2.perm;
        r->res.level = r1.level;
        if (!r->res.perm)
            return SIM_EFAULT;
    }
    return 0;
}

int walk_plan(struct walker *w, struct walk_req *r)
{
    return plan(w, r, false);
}

static void walk_issue(struct walker *w, struct walk_req *r);

static void walk_finish(struct walker *w, struct walk_req *r)
{
    sim_tick_t now = sim_now(w->sim), lat;
    unsigned i, bin = 0;

    if (r->status == 0)
        for (i = 0; i < r->nfill; i++)
            iotlb_insert(&w->pwc[r->fill[i].stage][r->fill[i].depth], r->domain, 0,
                         r->fill[i].prefix << 12, 0, 0xfff, 3);
    if (r->status == 0)
        for (i = 0; i < r->nipa; i++)
            iotlb_insert(w->ipa, r->domain, 0, r->ipa_fill[i].ipa,
                         r->ipa_fill[i].res.translated_addr, r->ipa_fill[i].res.addr_mask,
                         r->ipa_fill[i].res.perm);
    r->completed = now;
    w->st.walks++;
    if (r->status)
        w->st.faults++;
    w->st.reads += r->nreads;
    w->st.reads_hist[r->nreads <= WALK_MAX_READS ? r->nreads : WALK_MAX_READS]++;
    lat = now - r->issued;
    w->st.lat_sum += (double)lat;
    if (lat > w->st.lat_max)
        w->st.lat_max = lat;
    if (lat)
        bin = 64u - (unsigned)__builtin_clzll(lat);
    w->st.lat_hist[bin < 48 ? bin : 47]++;
    sim_resource_release(&w->slots);        /* may start the next walk now */
    r->done(r);
}

static void read_done(struct mem_req *mr)
{
    struct walk_req *r = mr->ctx;

    r->next++;
    walk_issue(r->w, r);
}

static void walk_issue(struct walker *w, struct walk_req *r)
{
    if (r->next >= r->nreads) {
        walk_finish(w, r);
        return;
    }
    r->mr.addr = r->addr[r->next];  /* the rest: walk_begin */
    mem_access(w->mem, &r->mr);
}

static void walk_begin(struct walker *w, struct walk_req *r)
{
    r->started = sim_now(w->sim);
    r->status = plan(w, r, true);
    /* What every read of the walk shares (walk_issue sets the address). */
    r->mr.bytes = w->cfg.pte_bytes;
    r->mr.pt = true;
    r->mr.done = read_done;
    r->mr.ctx = r;
    walk_issue(w, r);
}

static void slot_granted(struct sim_resource_req *rr)
{
    struct walk_req *r = rr->arg;

    walk_begin(r->w, r);
}

void walk_start(struct walker *w, struct walk_req *r)
{
    r->w = w;
    r->issued = sim_now(w->sim);
    r->rr.granted = slot_granted;
    r->rr.arg = r;
    if (sim_resource_acquire(&w->slots, &r->rr) == 1)
        walk_begin(w, r);
}

void walk_pwc_inval_domain(struct walker *w, uint32_t domain)
{
    unsigned s, d;

    for (s = 0; s < 2; s++)
        for (d = 0; d < PGTABLE_MAX_LEVELS; d++)
            if (w->pwc_on[s][d])
                iotlb_inval_domain(&w->pwc[s][d], domain);
    if (w->ipa)
        iotlb_inval_domain(w->ipa, domain);
}

void walk_pwc_inval_all(struct walker *w)
{
    unsigned s, d;

    for (s = 0; s < 2; s++)
        for (d = 0; d < PGTABLE_MAX_LEVELS; d++)
            if (w->pwc_on[s][d])
                iotlb_inval_global(&w->pwc[s][d]);
    if (w->ipa)
        iotlb_inval_global(w->ipa);
}

void walker_reset_stats(struct walker *w)
{
    memset(&w->st, 0, sizeof(w->st));
    sim_resource_reset_stats(&w->slots);
}
