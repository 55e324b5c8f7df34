/*
 * test_walk.c - the memory model and the walker.
 *
 * Expected values: read counts from the radix geometry (4 levels: 4 reads
 * cold, 1 with warm PWCs, 24 for a cold 4x4 nested walk = 4 x (4 + 1) + 4);
 * latencies as reads x memory latency; channel queueing by hand; the walk
 * queue against M/D/1, Wq = rho D / (2 (1 - rho)).
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "iommu/walk.h"
#include "mem/memory.h"
#include "testutil.h"

void test_mem_latency_and_channel_queueing(void);
void test_mem_llc_hit_probability(void);
void test_mem_bad_config(void);
void test_walk_counts_cold_warm(void);
void test_walk_nested_24(void);
void test_walk_fault(void);
void test_walk_queue_md1(void);

#define NS SIM_TICKS_PER_NS

static struct mem_cfg mem_cfg_simple(sim_tick_t lat)
{
    struct mem_cfg c;

    memset(&c, 0, sizeof(c));
    c.latency = lat;
    c.channels = 1;
    c.interleave = 64;
    c.path = "sys.mem";
    return c;
}

static unsigned n_done;
static sim_tick_t done_at[8];

static void mem_done_time(struct mem_req *r)
{
    struct sim *s = r->ctx;

    done_at[n_done++ & 7] = sim_now(s);
}

void test_mem_latency_and_channel_queueing(void)
{
    struct sim sim;
    struct mem m;
    struct mem_cfg c = mem_cfg_simple(50 * NS);
    struct mem_req r[3];
    char err[160];
    unsigned i;

    sim_init(&sim);
    c.channels = 2;
    c.bandwidth = UINT64_C(64) * 1000000000;    /* 64 B/ns: 1 ns per 64 B */
    CU_ASSERT_EQUAL_FATAL(mem_init(&m, &sim, &c, err, sizeof(err)), 0);
    /* Two on channel 0 (addresses 0 and 128), one on channel 1 (64). */
    memset(r, 0, sizeof(r));
    r[0].addr = 0;
    r[1].addr = 128;
    r[2].addr = 64;
    n_done = 0;
    for (i = 0; i < 3; i++) {
        r[i].bytes = 64;
        r[i].done = mem_done_time;
        r[i].ctx = &sim;
        mem_access(&m, &r[i]);
    }
    sim_run(&sim);
    CU_ASSERT_EQUAL(n_done, 3);
    /* Channel 1: 1 ns + 50 ns; channel 0: 51 ns, then 52 ns (queued 1 ns). */
    CU_ASSERT_EQUAL(done_at[0], 51 * NS);
    CU_ASSERT_EQUAL(done_at[1], 51 * NS);
    CU_ASSERT_EQUAL(done_at[2], 52 * NS);
    CU_ASSERT_EQUAL(m.st.requests, 3);
    CU_ASSERT_EQUAL(m.st.bytes, 192);
    CU_ASSERT_EQUAL(m.st.lat_max, 52 * NS);
    CU_ASSERT_EQUAL(m.chan[0].st.wait_max, 1 * NS);
    ASSERT_NEAR(mem_mean_latency(&m), (51 + 51 + 52) * 1000.0 / 3, 0.5);
    mem_destroy(&m);
    sim_destroy(&sim);
}

void test_mem_llc_hit_probability(void)
{
    struct sim sim;
    struct mem m;
    struct mem_cfg c = mem_cfg_simple(80 * NS);
    struct mem_req r;
    char err[160];
    unsigned i;

    sim_init(&sim);
    c.llc_hit = 0.3;
    c.llc_latency = 10 * NS;
    c.seed = 3;
    CU_ASSERT_EQUAL_FATAL(mem_init(&m, &sim, &c, err, sizeof(err)), 0);
    memset(&r, 0, sizeof(r));
    r.bytes = 8;
    r.done = mem_done_time;
    r.ctx = &sim;
    for (i = 0; i < 100000; i++) {
        r.pt = (i % 2) == 0;        /* only page-table reads may hit */
        mem_access(&m, &r);
        sim_run(&sim);
    }
    CU_ASSERT_EQUAL(m.st.pt_reads, 50000);
    /* Binomial(50000, 0.3): sd 0.002; 0.01 is 5 sd. */
    ASSERT_NEAR((double)m.st.llc_hits / 50000.0, 0.3, 0.01);
    /* Mean latency: half are data (80 ns), half pt (0.3 x 10 + 0.7 x 80). */
    ASSERT_NEAR(mem_mean_latency(&m) / 1000.0,
                0.5 * 80 + 0.5 * (0.3 * 10 + 0.7 * 80), 1.0);
    mem_destroy(&m);
    sim_destroy(&sim);
}

void test_mem_bad_config(void)
{
    struct sim sim;
    struct mem m;
    struct mem_cfg c = mem_cfg_simple(1);
    char err[160];

    sim_init(&sim);
    c.channels = 0;
    CU_ASSERT_EQUAL(mem_init(&m, &sim, &c, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "sys.mem: "));
    c.channels = 1;
    c.interleave = 96;
    CU_ASSERT_EQUAL(mem_init(&m, &sim, &c, err, sizeof(err)), SIM_EINVAL);
    c.interleave = 64;
    c.llc_hit = 1.5;
    CU_ASSERT_EQUAL(mem_init(&m, &sim, &c, err, sizeof(err)), SIM_EINVAL);
    sim_destroy(&sim);
}

/* --- Walker ---------------------------------------------------------------- */

struct wenv {
    struct sim sim;
    struct mem mem;
    struct walker w;
    struct pgtable pt, s2;
};

static void wenv_init(struct wenv *e, unsigned walkers, unsigned pwc, sim_tick_t lat)
{
    struct mem_cfg mc = mem_cfg_simple(lat);
    struct walk_cfg wc;
    char err[160];
    unsigned d;

    sim_init(&e->sim);
    CU_ASSERT_EQUAL_FATAL(mem_init(&e->mem, &e->sim, &mc, err, sizeof(err)), 0);
    memset(&wc, 0, sizeof(wc));
    wc.walkers = walkers;
    for (d = 1; d < PGTABLE_MAX_LEVELS; d++)
        wc.pwc_entries[d] = pwc;
    wc.path = "sys.iommu.walker";
    CU_ASSERT_EQUAL_FATAL(walker_init(&e->w, &e->sim, &e->mem, &wc, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&e->pt, 4, 0x40201000, 0x80000000), 0);
    memset(&e->s2, 0, sizeof(e->s2));
}

static void wenv_free(struct wenv *e)
{
    pgtable_destroy(&e->pt);
    if (e->s2.root)
        pgtable_destroy(&e->s2);
    walker_destroy(&e->w);
    mem_destroy(&e->mem);
    sim_destroy(&e->sim);
}

static unsigned walks_done;
static void walk_done_count(struct walk_req *r)
{
    (void)r;
    walks_done++;
}

static void run_walk(struct wenv *e, struct walk_req *r, uint64_t iova)
{
    memset(r, 0, sizeof(*r));
    r->s1 = &e->pt;
    r->s2 = e->s2.root ? &e->s2 : NULL;
    r->domain = 1;
    r->iova = iova;
    r->done = walk_done_count;
    walks_done = 0;
    walk_start(&e->w, r);
    sim_run(&e->sim);
    CU_ASSERT_EQUAL(walks_done, 1);
}

void test_walk_counts_cold_warm(void)
{
    struct wenv e;
    struct walk_req r;
    sim_tick_t t0;

    wenv_init(&e, 1, 16, 100 * NS);
    CU_ASSERT_EQUAL(pgtable_map(&e.pt, 0x40000000, 0x7000000, 0x400000, 3), 0);
    CU_ASSERT_EQUAL(pgtable_map(&e.pt, 0x80000000, 0x9000000, 0x1000, 3), 0);
    /* Cold: 4 reads, 4 x 100 ns. The 2 MiB-aligned range maps as 2 MiB
     * pages, so use the 4 KiB page at 0x80000000 for a 4-level walk. */
    t0 = sim_now(&e.sim);
    run_walk(&e, &r, 0x80000123);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(r.nreads, 4);
    CU_ASSERT_EQUAL(r.completed - t0, 400 * NS);
    CU_ASSERT_EQUAL(r.res.translated_addr, 0x9000000);
    /* Warm: the depth-3 PWC knows the level-1 table: 1 read. */
    CU_ASSERT_EQUAL(pgtable_map(&e.pt, 0x80001000, 0xa000000, 0x1000, 3), 0);
    t0 = sim_now(&e.sim);
    run_walk(&e, &r, 0x80001000);
    CU_ASSERT_EQUAL(r.nreads, 1);
    CU_ASSERT_EQUAL(r.completed - t0, 100 * NS);
    CU_ASSERT_EQUAL(r.res.translated_addr, 0xa000000);
    CU_ASSERT_EQUAL(e.w.st.pwc_hits[0][3], 1);
    /* A 2 MiB leaf at level 2 under the same level-3 entry (0x40000000 is
     * in the same 512 GiB and a different 1 GiB region): depth-1 PWC hits,
     * then 2 reads (level 3, level 2). */
    run_walk(&e, &r, 0x40234567);
    CU_ASSERT_EQUAL(r.nreads, 2);
    CU_ASSERT_EQUAL(r.res.addr_mask, 0x1fffff);
    CU_ASSERT_EQUAL(r.res.translated_addr, 0x7200000);
    /* Invalidating the PWCs makes the next walk cold again. */
    walk_pwc_inval_domain(&e.w, 1);
    run_walk(&e, &r, 0x80001000);
    CU_ASSERT_EQUAL(r.nreads, 4);
    CU_ASSERT_EQUAL(e.w.st.walks, 4);
    CU_ASSERT_EQUAL(e.w.st.reads_hist[4], 2);
    CU_ASSERT_EQUAL(e.w.st.reads_hist[1], 1);
    wenv_free(&e);
}

void test_walk_nested_24(void)
{
    struct wenv e;
    struct walk_req r;
    uint64_t t0;

    wenv_init(&e, 1, 0, 10 * NS);      /* PWCs off: the cold walk */
    /* Stage-1 tables live at IPA 0x80000000 + 4 KiB x node; stage 2 maps
     * the first 64 table pages there and the data page, all 4 KiB. */
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&e.s2, 4, 0x1000, 0x200000000ull), 0);
    CU_ASSERT_EQUAL(pgtable_map(&e.pt, 0x1000, 0x10000000, 0x1000, 3), 0);
    CU_ASSERT_EQUAL(pgtable_map(&e.s2, 0x80000000, 0x3000000000ull, 64 * 0x1000, 3), 0);
    CU_ASSERT_EQUAL(pgtable_map(&e.s2, 0x10000000, 0x4000000000ull, 0x1000, 1), 0);
    t0 = sim_now(&e.sim);
    run_walk(&e, &r, 0x1abc);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(r.nreads, 24);
    CU_ASSERT_EQUAL(r.completed - t0, 240 * NS);
    CU_ASSERT_EQUAL(r.res.translated_addr, 0x4000000000ull);
    CU_ASSERT_EQUAL(r.res.perm, 1);         /* RW at stage 1, RO at stage 2 */
    /* Stage 2 missing the data page: a fault after 4 x 5 + 4 reads too. */
    CU_ASSERT_EQUAL(pgtable_unmap(&e.s2, 0x10000000, 0x1000, NULL, NULL, NULL), 0);
    run_walk(&e, &r, 0x1abc);
    CU_ASSERT_EQUAL(r.status, SIM_EFAULT);
    CU_ASSERT_EQUAL(e.w.st.faults, 1);
    wenv_free(&e);
}

void test_walk_fault(void)
{
    struct wenv e;
    struct walk_req r;

    wenv_init(&e, 2, 16, 100 * NS);
    CU_ASSERT_EQUAL(pgtable_map(&e.pt, 0x1000, 0x2000, 0x1000, 3), 0);
    /* Same level-1 table, empty slot: 4 reads, then the fault. */
    run_walk(&e, &r, 0x5000);
    CU_ASSERT_EQUAL(r.status, SIM_EFAULT);
    CU_ASSERT_EQUAL(r.nreads, 4);
    /* Empty level-4 slot: 1 read. */
    run_walk(&e, &r, UINT64_C(1) << 40);
    CU_ASSERT_EQUAL(r.status, SIM_EFAULT);
    CU_ASSERT_EQUAL(r.nreads, 1);
    CU_ASSERT_EQUAL(e.w.st.faults, 2);
    /* Faulting walks fill no PWC: the good page still walks cold. */
    run_walk(&e, &r, 0x1000);
    CU_ASSERT_EQUAL(r.nreads, 4);
    wenv_free(&e);
}

/* --- M/D/1 on the walk queue --------------------------------------------- */

struct wsrc {
    struct wenv *e;
    struct sim_rng rng;
    struct sim_event arr;
    struct walk_req *pool;
    struct walk_req **free;
    unsigned nfree, npool;
    uint64_t n, limit, warm;
    double mean_iat;
    int exhausted;
};

static struct wsrc *g_src;

static void src_walk_done(struct walk_req *r)
{
    g_src->free[g_src->nfree++] = r;
}

static void src_arrive(struct sim_event *ev, void *arg)
{
    struct wsrc *s = arg;
    struct walk_req *r;

    (void)ev;
    if (s->n == s->warm)
        walker_reset_stats(&s->e->w);
    if (s->n++ >= s->limit)
        return;
    if (!s->nfree) {
        s->exhausted = 1;
        return;
    }
    r = s->free[--s->nfree];
    memset(r, 0, sizeof(*r));
    r->s1 = &s->e->pt;
    r->domain = 1;
    r->iova = sim_rng_below(&s->rng, 1024) << 12;
    r->done = src_walk_done;
    walk_start(&s->e->w, r);
    sim_event_schedule_in(&s->e->sim, &s->arr,
                          (sim_tick_t)(sim_rng_exponential(&s->rng, s->mean_iat) + 0.5));
}

static void check_walk_md1(double rho)
{
    struct wenv e;
    struct wsrc s;
    double D = 4 * 100.0 * NS;         /* 4 reads of 100 ns, no PWC */
    double want = rho * D / (2 * (1 - rho));
    unsigned i;

    wenv_init(&e, 1, 0, 100 * NS);
    /* pa off 2 MiB alignment: 4 KiB leaves, so every walk is 4 reads. */
    CU_ASSERT_EQUAL(pgtable_map(&e.pt, 0, 0x100001000ull, 1024 * 0x1000, 3), 0);
    memset(&s, 0, sizeof(s));
    g_src = &s;
    s.e = &e;
    sim_rng_seed(&s.rng, 21, "walk.md1");
    s.npool = 4096;
    s.pool = calloc(s.npool, sizeof(*s.pool));
    s.free = calloc(s.npool, sizeof(*s.free));
    CU_ASSERT_PTR_NOT_NULL_FATAL(s.pool);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s.free);
    for (i = 0; i < s.npool; i++)
        s.free[s.nfree++] = &s.pool[i];
    s.limit = rho > 0.6 ? 1500000 : 600000;
    s.warm = s.limit / 20;
    s.mean_iat = D / rho;
    sim_event_init(&s.arr, src_arrive, &s, 0);
    sim_event_schedule(&e.sim, &s.arr, 0);
    sim_run(&e.sim);
    CU_ASSERT_FALSE(s.exhausted);
    ASSERT_NEAR(sim_resource_mean_wait(&e.w.slots) / want, 1.0, 0.03);
    /* Every walk made 4 reads: the service time really is D. */
    CU_ASSERT_EQUAL(e.w.st.reads_hist[4], e.w.st.walks);
    ASSERT_NEAR(e.w.st.lat_sum / (double)e.w.st.walks, want + D, 0.03 * want + 1);
    free(s.pool);
    free(s.free);
    wenv_free(&e);
}

void test_walk_queue_md1(void)
{
    check_walk_md1(0.5);
    check_walk_md1(0.8);
}
