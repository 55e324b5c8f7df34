/*
 * test_generic_batch.c - two shortcuts of the generic model that must not
 * change what it simulates.
 *
 * 1. It answers the requests merged into
 * one walk from one event (struct iommu_batch, iommu.h) exactly as one completion
 * event each would: at the walk's end tick, in MSHR order, after an event
 * that was scheduled for that tick after the walk's last read was issued
 * (the walk's end runs before it, the per-request events after it), and
 * before an event a done() schedules for that same tick.
 *
 * 3. A miss joins a walk in flight at its lookup's start, without a
 * lookup-end event, only when that is what the lookup's end would do: the
 * MSHR list keeps the order of the lookups' ends (a miss still in its
 * lookup goes first), and a lookup that ends after the walk starts a walk
 * of its own, as before.
 *
 * 2. An unmap drops the domain's page-walk-cache entries only if a walk has
 * ended since the last time it did (nothing else fills them): so a walk
 * after any unmap is as cold as it always was, also when a walk ran between
 * two unmaps, and in each domain separately.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/models/generic.h"

void test_generic_batch_order(void);
void test_generic_pwc_inval_after_walks(void);
void test_generic_fold_exact(void);

#define NS SIM_TICKS_PER_NS

static struct {
    struct sim *sim;
    char log[16];
    unsigned n;
    sim_tick_t at[16];
    struct sim_event after;         /* scheduled by the first done() for now */
    struct sim_event before;        /* scheduled by `arm` for the walk's end */
    sim_tick_t end;
} B;

static void logit(char c)
{
    if (B.n < sizeof(B.log) - 1) {
        B.at[B.n] = sim_now(B.sim);
        B.log[B.n++] = c;
    }
}

static void mark_event(struct sim_event *ev, void *arg)
{
    (void)ev;
    logit(*(const char *)arg);
}

/* Between the walk's last read issue and its end: schedule `before` for the
 * end tick, so it sorts after the read's completion, before what that
 * completion schedules. */
static void arm_event(struct sim_event *ev, void *arg)
{
    (void)ev;
    (void)arg;
    sim_event_schedule(B.sim, &B.before, B.end);
}

static void req_done(struct iommu_req *req)
{
    logit((char)(uintptr_t)req->ctx);
    /* Per-request events would each have been scheduled by the walk's end
     * before this one: an event for now runs after all of them. */
    if (req->ctx == (void *)(uintptr_t)'0')
        sim_event_schedule(B.sim, &B.after, sim_now(B.sim));
}

void test_generic_batch_order(void)
{
    struct sim sim;
    struct mem mem;
    struct mem_cfg mc;
    struct generic_cfg c;
    struct generic_iommu g;
    struct iommu *mmu;
    struct iommu_req r[3];
    struct sim_event arm;
    char err[200];
    static const char tag_before = 'b', tag_after = 'a';
    /* A PTE read: 8 bytes at 25.6 GB/s = 312.5 ps -> 313 ticks, + 80 ns. */
    const sim_tick_t rd = 313 + 80 * NS;
    /* r0's lookup: 1 ns port + 2 ns hit latency, then a cold 4-read walk;
     * r1 and r2 look up at 1 ns intervals behind it and join its MSHR. */
    const sim_tick_t end = 3 * NS + 4 * rd;

    sim_init(&sim);
    memset(&B, 0, sizeof(B));
    B.sim = &sim;
    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = 1;
    mc.interleave = 64;
    mc.bandwidth = UINT64_C(25600000000);
    CU_ASSERT_EQUAL_FATAL(mem_init(&mem, &sim, &mc, err, sizeof(err)), 0);
    memset(&c, 0, sizeof(c));
    c.levels = 4;
    c.pgsize_bitmap = 0x1000;
    c.iotlb.policy = IOTLB_LRU;
    c.iotlb.arr[0] = (struct iotlb_array_cfg){ 16, 16 };
    c.iotlb.mshrs = 2;
    c.walk.walkers = 1;
    c.hit_latency = 2 * NS;
    c.lookup_ports = 1;
    c.lookup_cycle = 1 * NS;
    c.max_domains = 1;
    c.max_devices = 1;
    c.path = "t.iommu";
    CU_ASSERT_EQUAL_FATAL(generic_create(&g, &sim, &mem, &c, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(generic_domain_create(&g, 0), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&g, 0, 0, &mmu, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(generic_map(&g, 0, 0x40000, 0x9000000, 0x1000, IOMMU_RW), 0);

    B.end = end;
    sim_event_init(&B.before, mark_event, (void *)&tag_before, SIM_PRIO_DEFAULT);
    sim_event_init(&arm, arm_event, NULL, SIM_PRIO_DEFAULT);
    sim_event_schedule(&sim, &arm, end - 40 * NS);
    sim_event_init(&B.after, mark_event, (void *)&tag_after, SIM_PRIO_DEFAULT);
    for (unsigned i = 0; i < 3; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        r[i].iova = 0x40000 + 64 * i;
        r[i].access = IOMMU_RO;
        r[i].done = req_done;
        r[i].ctx = (void *)(uintptr_t)('0' + i);
        CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &r[i]), 0);
    }
    sim_run(&sim);

    CU_ASSERT_STRING_EQUAL(B.log, "b012a");
    for (unsigned i = 0; i < B.n; i++)
        CU_ASSERT_EQUAL(B.at[i], end);
    for (unsigned i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(r[i].status, 0);
        CU_ASSERT_EQUAL(r[i].completed, end);
        CU_ASSERT_EQUAL(r[i].entry.translated_addr, 0x9000000);
    }
    CU_ASSERT_EQUAL(g.walker.st.walks, 1);
    CU_ASSERT_EQUAL(g.tlb.st.merged, 2);
    CU_ASSERT_EQUAL(mmu->st.timed, 3);
    generic_destroy(&g);
    mem_destroy(&mem);
    sim_destroy(&sim);
}

/* --- 2. PWC invalidation on unmap ------------------------------------------ */

static unsigned n_done;

static void count_done(struct iommu_req *req)
{
    (void)req;
    n_done++;
}

/* One timed translation of iova in mmu, run to completion: the reads its
 * walk made (0 for an IOTLB hit). */
static uint64_t walk_reads(struct sim *sim, struct generic_iommu *g, struct iommu *mmu,
                           uint64_t iova)
{
    struct iommu_req r;
    uint64_t before = g->walker.st.reads;

    memset(&r, 0, sizeof(r));
    r.iova = iova;
    r.access = IOMMU_RO;
    r.done = count_done;
    CU_ASSERT_EQUAL(iommu_translate_timed(mmu, &r), 0);
    sim_run(sim);
    CU_ASSERT_EQUAL(r.status, 0);
    return g->walker.st.reads - before;
}

void test_generic_pwc_inval_after_walks(void)
{
    struct sim sim;
    struct mem mem;
    struct mem_cfg mc;
    struct generic_cfg c;
    struct generic_iommu g;
    struct iommu *a, *b;
    char err[200];
    unsigned i;

    sim_init(&sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = 1;
    mc.interleave = 64;
    CU_ASSERT_EQUAL_FATAL(mem_init(&mem, &sim, &mc, err, sizeof(err)), 0);
    memset(&c, 0, sizeof(c));
    c.levels = 4;
    c.pgsize_bitmap = 0x1000;
    c.iotlb.policy = IOTLB_LRU;
    /* One IOTLB entry: every other page misses and walks. */
    c.iotlb.arr[0] = (struct iotlb_array_cfg){ 1, 1 };
    c.iotlb.mshrs = 2;
    c.walk.walkers = 1;
    c.walk.pwc_entries[1] = c.walk.pwc_entries[2] = c.walk.pwc_entries[3] = 8;
    c.hit_latency = 2 * NS;
    c.lookup_ports = 1;
    c.lookup_cycle = 1 * NS;
    c.max_domains = 2;
    c.max_devices = 2;
    c.path = "t.iommu";
    CU_ASSERT_EQUAL_FATAL(generic_create(&g, &sim, &mem, &c, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(generic_domain_create(&g, 0), 0);
    CU_ASSERT_EQUAL_FATAL(generic_domain_create(&g, 1), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&g, 0, 0, &a, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&g, 1, 1, &b, err, sizeof(err)), 0);
    /* Pages 0x100000 .. 0x107000 in both domains (one leaf table each). */
    for (i = 0; i < 8; i++) {
        CU_ASSERT_EQUAL(generic_map(&g, 0, 0x100000 + 0x1000 * i, 0x8000000 + 0x1000 * i,
                                    0x1000, IOMMU_RW), 0);
        CU_ASSERT_EQUAL(generic_map(&g, 1, 0x100000 + 0x1000 * i, 0x9000000 + 0x1000 * i,
                                    0x1000, IOMMU_RW), 0);
    }
    /* Cold: 4 reads; then the PWCs know the way: 1 read. */
    CU_ASSERT_EQUAL(walk_reads(&sim, &g, a, 0x100000), 4);
    CU_ASSERT_EQUAL(walk_reads(&sim, &g, a, 0x101000), 1);
    /* An unmap drops them: cold again, and warm after that walk. */
    CU_ASSERT_EQUAL(generic_unmap(&g, 0, 0x107000, 0x1000, NULL), 0);
    CU_ASSERT_EQUAL(walk_reads(&sim, &g, a, 0x100000), 4);
    CU_ASSERT_EQUAL(walk_reads(&sim, &g, a, 0x101000), 1);
    /* A walk ran since the last unmap: the next unmap drops them again. */
    CU_ASSERT_EQUAL(generic_unmap(&g, 0, 0x106000, 0x1000, NULL), 0);
    CU_ASSERT_EQUAL(walk_reads(&sim, &g, a, 0x102000), 4);
    /* Two unmaps in a row: the same as one. */
    CU_ASSERT_EQUAL(generic_unmap(&g, 0, 0x105000, 0x1000, NULL), 0);
    CU_ASSERT_EQUAL(generic_unmap(&g, 0, 0x104000, 0x1000, NULL), 0);
    CU_ASSERT_EQUAL(walk_reads(&sim, &g, a, 0x100000), 4);
    /* Per domain: warm domain 1, unmap in domain 0 (its own PWC entries
     * are dropped, domain 1's kept), then unmap in domain 1 with no walk
     * in between: domain 1's entries must still go. */
    CU_ASSERT_EQUAL(walk_reads(&sim, &g, b, 0x100000), 4);
    CU_ASSERT_EQUAL(walk_reads(&sim, &g, b, 0x101000), 1);
    CU_ASSERT_EQUAL(generic_unmap(&g, 0, 0x103000, 0x1000, NULL), 0);
    CU_ASSERT_EQUAL(walk_reads(&sim, &g, b, 0x102000), 1);
    CU_ASSERT_EQUAL(generic_unmap(&g, 0, 0x102000, 0x1000, NULL), 0);
    CU_ASSERT_EQUAL(generic_unmap(&g, 1, 0x107000, 0x1000, NULL), 0);
    CU_ASSERT_EQUAL(walk_reads(&sim, &g, b, 0x100000), 4);
    CU_ASSERT_EQUAL(walk_reads(&sim, &g, a, 0x101000), 4);
    generic_destroy(&g);
    mem_destroy(&mem);
    sim_destroy(&sim);
}

/* --- 3. Folded lookups ------------------------------------------------------ */

struct fold_env {
    struct sim sim;
    struct mem mem;
    struct generic_iommu g;
    struct iommu *mmu;
};

static void fold_env_init(struct fold_env *f, sim_tick_t hit_latency)
{
    struct mem_cfg mc;
    struct generic_cfg c;
    char err[200];

    sim_init(&f->sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = 1;
    mc.interleave = 64;
    mc.bandwidth = UINT64_C(25600000000);
    CU_ASSERT_EQUAL_FATAL(mem_init(&f->mem, &f->sim, &mc, err, sizeof(err)), 0);
    memset(&c, 0, sizeof(c));
    c.levels = 4;
    c.pgsize_bitmap = 0x1000;
    c.iotlb.policy = IOTLB_LRU;
    c.iotlb.arr[0] = (struct iotlb_array_cfg){ 16, 16 };
    c.iotlb.mshrs = 4;
    c.walk.walkers = 1;
    c.walk.pwc_entries[1] = c.walk.pwc_entries[2] = c.walk.pwc_entries[3] = 8;
    c.hit_latency = hit_latency;
    c.lookup_ports = 1;
    c.lookup_cycle = 1 * NS;
    c.max_domains = 1;
    c.max_devices = 1;
    c.path = "t.iommu";
    CU_ASSERT_EQUAL_FATAL(generic_create(&f->g, &f->sim, &f->mem, &c, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(generic_domain_create(&f->g, 0), 0);
    CU_ASSERT_EQUAL_FATAL(generic_attach(&f->g, 0, 0, &f->mmu, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(generic_map(&f->g, 0, 0x40000, 0x9000000, 0x1000, IOMMU_RW), 0);
}

static void fold_env_free(struct fold_env *f)
{
    generic_destroy(&f->g);
    mem_destroy(&f->mem);
    sim_destroy(&f->sim);
}

/* Issue r at `at` (ticks), to 0x40000 + off, logging its done() as `tag`. */
struct timed_issue {
    struct sim_event ev;
    struct fold_env *f;
    struct iommu_req r;
};

static void issue_event(struct sim_event *ev, void *arg)
{
    struct timed_issue *ti = arg;

    (void)ev;
    CU_ASSERT_EQUAL(iommu_translate_timed(ti->f->mmu, &ti->r), 0);
}

static void timed_issue(struct timed_issue *ti, struct fold_env *f, sim_tick_t at,
                        uint64_t off, char tag)
{
    memset(ti, 0, sizeof(*ti));
    ti->f = f;
    ti->r.iova = 0x40000 + off;
    ti->r.access = IOMMU_RO;
    ti->r.done = req_done;
    ti->r.ctx = (void *)(uintptr_t)tag;
    sim_event_init(&ti->ev, issue_event, ti, SIM_PRIO_DEFAULT);
    sim_event_schedule(&f->sim, &ti->ev, at);
}

void test_generic_fold_exact(void)
{
    struct fold_env f;
    struct timed_issue ti[4];
    /* A PTE read: 8 bytes at 25.6 GB/s = 312.5 ps -> 313 ticks, + 80 ns. */
    const sim_tick_t rd = 313 + 80 * NS;
    const sim_tick_t end = 3 * NS + 4 * rd;

    /*
     * Order. Lookups take the port for 1 ns, then 2 ns. r0 at 0: its lookup
     * ends at 3 ns and starts a cold walk (4 reads, to `end`). r1 at 0.5 ns
     * waits for the port: its lookup ends at 4 ns. r2 at 3.5 ns finds the
     * walk in flight while r1 is still in its lookup, so r1 joins first
     * (4 ns), then r2 (6.5 ns); r3 at 10 ns finds nothing in between and
     * joins at once. All four are answered at the walk's end, in that order.
     */
    fold_env_init(&f, 2 * NS);
    memset(&B, 0, sizeof(B));
    B.sim = &f.sim;
    sim_event_init(&B.after, mark_event, (void *)"a", SIM_PRIO_DEFAULT);
    timed_issue(&ti[0], &f, 0, 0x0, '0');
    timed_issue(&ti[1], &f, 500, 0x40, '1');
    timed_issue(&ti[2], &f, 3500, 0x80, '2');
    timed_issue(&ti[3], &f, 10 * NS, 0xc0, '3');
    sim_run(&f.sim);
    CU_ASSERT_STRING_EQUAL(B.log, "0123a");
    for (unsigned i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(ti[i].r.completed, end);
    CU_ASSERT_EQUAL(f.g.walker.st.walks, 1);
    CU_ASSERT_EQUAL(f.g.tlb.st.merged, 3);
    fold_env_free(&f);

    /*
     * A lookup that ends after the walk. With a 500 ns hit latency, r0's
     * lookup ends at 501 ns and its cold walk at 501 ns + 4 reads. r1 at
     * 600 ns sees that walk in flight, but its lookup ends at 1101 ns,
     * after it: the lookup's end finds no walk and starts one of its own
     * (warm PWCs: 1 read), as the model always did.
     */
    fold_env_init(&f, 500 * NS);
    memset(&B, 0, sizeof(B));
    B.sim = &f.sim;
    sim_event_init(&B.after, mark_event, (void *)"a", SIM_PRIO_DEFAULT);
    timed_issue(&ti[0], &f, 0, 0x0, '0');
    timed_issue(&ti[1], &f, 600 * NS, 0x40, '1');
    sim_run(&f.sim);
    CU_ASSERT_EQUAL(ti[0].r.completed, 501 * NS + 4 * rd);
    CU_ASSERT_EQUAL(ti[1].r.completed, 1101 * NS + rd);
    CU_ASSERT_EQUAL(f.g.walker.st.walks, 2);
    CU_ASSERT_EQUAL(f.g.tlb.st.merged, 0);
    fold_env_free(&f);
}
