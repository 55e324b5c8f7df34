/*
 * test_trace_replay.c - timed replay: map/unmap at the trace's (scaled)
 * times, accesses spread evenly or spaced strictly inside each buffer's
 * life (ended by the first unmap touching it, partial unmaps included), a
 * failed map sends no accesses; and the generic-IOMMU sink end to end,
 * whose IOTLB hits and walks are counted by hand for a small trace.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "engine/error.h"
#include "trace/replay.h"

void test_trace_replay_even_spread(void);
void test_trace_replay_spacing_and_scale(void);
void test_trace_replay_partial_unmap_and_errors(void);
void test_trace_replay_generic_sink(void);

#define NS SIM_TICKS_PER_NS

/* A sink that records every call with its tick. */
struct call {
    char op;                        /* 'm', 'u', 'a' */
    sim_tick_t when;
    uint64_t iova, len;
};

struct rec_sink {
    struct sim *sim;
    struct call c[64];
    unsigned n;
    int fail_map_at;                /* 1-based map number that fails; 0 none */
    unsigned maps;
};

static void add(struct rec_sink *s, char op, uint64_t iova, uint64_t len)
{
    if (s->n < 64)
        s->c[s->n] = (struct call){ op, sim_now(s->sim), iova, len };
    s->n++;
}

static int rs_map(void *sink, uint64_t iova, uint64_t pa, uint64_t size)
{
    struct rec_sink *s = sink;

    (void)pa;
    add(s, 'm', iova, size);
    return ++s->maps == (unsigned)s->fail_map_at ? SIM_EEXIST : 0;
}

static int rs_unmap(void *sink, uint64_t iova, uint64_t size)
{
    add(sink, 'u', iova, size);
    return 0;
}

static int rs_access(void *sink, uint64_t iova, uint32_t len, bool write)
{
    (void)write;
    add(sink, 'a', iova, len);
    return 0;
}

static const struct trace_sink_ops rec_ops = { rs_map, rs_unmap, rs_access };

/* A: 8 KiB at 0x10000 mapped at 0, unmapped at 1000 ns.
 * B: 4 KiB at 0x20000 mapped at 100 ns, unmapped at 2100 ns. */
static void small_trace(struct trace *t)
{
    static const struct trace_rec r[] = {
        { 0, 0x10000, 0x100000, 8192, 0, 0, TRACE_OP_MAP },
        { 100 * NS, 0x20000, 0x200000, 4096, 0, 0, TRACE_OP_MAP },
        { 1000 * NS, 0x10000, 0, 8192, 8192, 0, TRACE_OP_UNMAP },
        { 2100 * NS, 0x20000, 0, 4096, 4096, 0, TRACE_OP_UNMAP },
    };

    trace_init(t);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL_FATAL(trace_append(t, &r[i]), 0);
}

static void run(struct trace *t, const struct trace_replay_cfg *cfg, struct rec_sink *s,
                struct trace_replay_stats *st)
{
    struct sim sim;
    struct trace_replay rp;
    char err[200];
    int fail = s->fail_map_at;

    sim_init(&sim);
    memset(s, 0, sizeof(*s));
    s->fail_map_at = fail;
    s->sim = &sim;
    CU_ASSERT_EQUAL_FATAL(trace_replay_init(&rp, &sim, t, cfg, &rec_ops, s, err,
                                            sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(trace_replay_start(&rp), 0);
    sim_run(&sim);
    CU_ASSERT(trace_replay_done(&rp));
    *st = rp.st;
    trace_replay_destroy(&rp);
    sim_destroy(&sim);
}

static void expect(const struct rec_sink *s, unsigned i, char op, sim_tick_t when,
                   uint64_t iova, uint64_t len)
{
    CU_ASSERT_FATAL(i < s->n);
    if (s->c[i].op != op || s->c[i].when != when || s->c[i].iova != iova ||
        s->c[i].len != len)
        fprintf(stderr, "\n    call %u: got %c %llu 0x%llx %llu, want %c %llu 0x%llx %llu\n",
                i, s->c[i].op, (unsigned long long)s->c[i].when,
                (unsigned long long)s->c[i].iova, (unsigned long long)s->c[i].len, op,
                (unsigned long long)when, (unsigned long long)iova, (unsigned long long)len);
    CU_ASSERT_EQUAL(s->c[i].op, op);
    CU_ASSERT_EQUAL(s->c[i].when, when);
    CU_ASSERT_EQUAL(s->c[i].iova, iova);
    CU_ASSERT_EQUAL(s->c[i].len, len);
}

void test_trace_replay_even_spread(void)
{
    struct trace_replay_cfg cfg;
    struct trace_replay_stats st;
    struct rec_sink s = { .fail_map_at = 0 };
    struct trace t;

    small_trace(&t);
    trace_replay_cfg_defaults(&cfg);
    cfg.accesses = 3;
    cfg.access_size = 4096;
    run(&t, &cfg, &s, &st);
    /* A lives 1000 ns: accesses at 1000 * k / 4 = 250, 500, 750 ns, at
     * offsets 0, 4096, (2 * 4096) mod 8192 = 0. B lives 2000 ns from 100:
     * 100 + 500 k = 600, 1100, 1600 ns. */
    CU_ASSERT_EQUAL(s.n, 10);
    expect(&s, 0, 'm', 0, 0x10000, 8192);
    expect(&s, 1, 'm', 100 * NS, 0x20000, 4096);
    expect(&s, 2, 'a', 250 * NS, 0x10000, 4096);
    expect(&s, 3, 'a', 500 * NS, 0x11000, 4096);
    expect(&s, 4, 'a', 600 * NS, 0x20000, 4096);
    expect(&s, 5, 'a', 750 * NS, 0x10000, 4096);
    expect(&s, 6, 'u', 1000 * NS, 0x10000, 8192);
    expect(&s, 7, 'a', 1100 * NS, 0x20000, 4096);
    expect(&s, 8, 'a', 1600 * NS, 0x20000, 4096);
    expect(&s, 9, 'u', 2100 * NS, 0x20000, 4096);
    CU_ASSERT_EQUAL(st.records, 4);
    CU_ASSERT_EQUAL(st.accesses, 6);
    CU_ASSERT_EQUAL(st.accesses_skipped, 0);
    CU_ASSERT_EQUAL(st.bytes, 6 * 4096);
    trace_free(&t);
}

void test_trace_replay_spacing_and_scale(void)
{
    struct trace_replay_cfg cfg;
    struct trace_replay_stats st;
    struct rec_sink s = { .fail_map_at = 0 };
    struct trace t;

    small_trace(&t);
    trace_replay_cfg_defaults(&cfg);
    cfg.accesses = 3;
    cfg.access_size = 64;
    cfg.spacing = 400 * NS;
    run(&t, &cfg, &s, &st);
    /* A: 400, 800 ns (1200 is past its unmap at 1000: skipped);
     * B: 500, 900, 1300 ns; offsets 0, 64, 128. */
    CU_ASSERT_EQUAL(st.accesses, 5);
    CU_ASSERT_EQUAL(st.accesses_skipped, 1);
    expect(&s, 2, 'a', 400 * NS, 0x10000, 64);
    expect(&s, 3, 'a', 500 * NS, 0x20000, 64);
    expect(&s, 4, 'a', 800 * NS, 0x10040, 64);
    expect(&s, 5, 'a', 900 * NS, 0x20040, 64);
    expect(&s, 6, 'u', 1000 * NS, 0x10000, 8192);
    expect(&s, 7, 'a', 1300 * NS, 0x20080, 64);

    /* Time scale 2: every record and every evenly spread access doubles. */
    cfg.spacing = 0;
    cfg.time_scale = 2.0;
    run(&t, &cfg, &s, &st);
    CU_ASSERT_EQUAL(s.n, 10);
    expect(&s, 1, 'm', 200 * NS, 0x20000, 4096);
    expect(&s, 2, 'a', 500 * NS, 0x10000, 64);
    expect(&s, 6, 'u', 2000 * NS, 0x10000, 8192);
    expect(&s, 9, 'u', 4200 * NS, 0x20000, 4096);

    /* Accesses that cannot fit a 2 ps life are skipped, not crammed in. */
    t.recs[2].t = 2;            /* A unmapped 2 ps after its map */
    cfg.time_scale = 1.0;
    t.recs[1].t = 1;
    run(&t, &cfg, &s, &st);
    /* A: offsets 2 * k / 4 for k = 1..3 are 0, 1, 1 ps: the first is not
     * after the map and is skipped, the other two fit at 1 ps. */
    CU_ASSERT_EQUAL(st.accesses_skipped, 1);
    trace_free(&t);
}

void test_trace_replay_partial_unmap_and_errors(void)
{
    static const struct trace_rec r[] = {
        { 0, 0x10000, 0x100000, 8192, 0, 0, TRACE_OP_MAP },
        { 400 * NS, 0x11000, 0, 4096, 4096, 0, TRACE_OP_UNMAP },   /* ends A's life */
        { 900 * NS, 0x30000, 0x300000, 4096, 0, 0, TRACE_OP_MAP }, /* never unmapped */
        { 1000 * NS, 0x10000, 0, 4096, 4096, 0, TRACE_OP_UNMAP },
        { 1900 * NS, 0x10, 0, 0, 0x2, 0, TRACE_OP_FAULT },         /* the trace's end */
    };
    struct trace_replay_cfg cfg;
    struct trace_replay_stats st;
    struct rec_sink s = { .fail_map_at = 0 };
    struct trace t;

    trace_init(&t);
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL_FATAL(trace_append(&t, &r[i]), 0);
    trace_replay_cfg_defaults(&cfg);
    cfg.accesses = 1;
    run(&t, &cfg, &s, &st);
    /* A: one access at 400 / 2 = 200 ns; C lives 900..1900 ns (the trace's
     * last record): its access at 1400 ns. */
    CU_ASSERT_EQUAL(st.accesses, 2);
    CU_ASSERT_EQUAL(st.faults, 1);
    expect(&s, 1, 'a', 200 * NS, 0x10000, 64);
    expect(&s, 4, 'u', 1000 * NS, 0x10000, 4096);
    expect(&s, 5, 'a', 1400 * NS, 0x30000, 64);

    /* A map the sink refuses gets no accesses. */
    s.fail_map_at = 1;
    run(&t, &cfg, &s, &st);
    CU_ASSERT_EQUAL(st.map_errors, 1);
    CU_ASSERT_EQUAL(st.accesses, 1);
    CU_ASSERT_EQUAL(st.accesses_skipped, 1);
    trace_free(&t);
}

void test_trace_replay_generic_sink(void)
{
    struct sim sim;
    struct mem mem;
    struct mem_cfg mc;
    struct generic_cfg gc;
    struct generic_iommu g;
    struct trace_sink_generic sink;
    struct trace_replay rp;
    struct trace_replay_cfg cfg;
    struct trace t;
    char err[300];

    sim_init(&sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = 2;
    mc.interleave = 64;
    CU_ASSERT_EQUAL_FATAL(mem_init(&mem, &sim, &mc, err, sizeof(err)), 0);
    memset(&gc, 0, sizeof(gc));
    gc.levels = 4;
    gc.pgsize_bitmap = 0x1000;
    gc.iotlb.policy = IOTLB_LRU;
    gc.iotlb.arr[0] = (struct iotlb_array_cfg){ 64, 4 };
    gc.iotlb.mshrs = 4;
    gc.walk.walkers = 2;
    gc.hit_latency = 2 * NS;
    gc.lookup_ports = 1;
    gc.lookup_cycle = 1 * NS;
    gc.max_domains = 2;
    gc.max_devices = 2;
    CU_ASSERT_EQUAL_FATAL(generic_create(&g, &sim, &mem, &gc, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(trace_sink_generic_init(&sink, &g, 1, 1, err, sizeof(err)), 0);

    small_trace(&t);
    trace_replay_cfg_defaults(&cfg);
    cfg.accesses = 3;
    cfg.access_size = 4096;
    CU_ASSERT_EQUAL_FATAL(trace_replay_init(&rp, &sim, &t, &cfg, &trace_sink_generic_ops,
                                            &sink, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(trace_replay_start(&rp), 0);
    sim_run(&sim);
    /* Accesses (see even_spread): A0 0x10000 @250 miss, A1 0x11000 @500
     * miss, B0 0x20000 @600 miss, A2 0x10000 @750 hit (A0's walk, 4 reads of
     * 80 ns, ended near 573 ns), B1 @1100 and B2 @1600 hit (A's unmap
     * invalidates A's range only). No access is left in flight at an unmap,
     * so none faults. */
    CU_ASSERT_EQUAL(rp.st.accesses, 6);
    CU_ASSERT_EQUAL(sink.st.translations, 6);
    CU_ASSERT_EQUAL(sink.st.faults, 0);
    CU_ASSERT_EQUAL(sink.st.maps, 2);
    CU_ASSERT_EQUAL(sink.st.unmaps, 2);
    CU_ASSERT_EQUAL(g.tlb.st.lookups, 6);
    CU_ASSERT_EQUAL(g.tlb.st.hits, 3);
    CU_ASSERT_EQUAL(g.walker.st.walks, 3);
    /* The tables are empty again: a functional translate of A faults. */
    CU_ASSERT_EQUAL(iommu_translate(sink.mmu, 0x10000, IOMMU_RO, 0).perm, IOMMU_NONE);

    trace_replay_destroy(&rp);
    trace_sink_generic_destroy(&sink);
    generic_destroy(&g);
    mem_destroy(&mem);
    sim_destroy(&sim);
    trace_free(&t);
}
