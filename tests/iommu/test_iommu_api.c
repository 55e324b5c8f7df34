/*
 * test_iommu_api.c - behaviours B1-B12 and B14 of spec/iommu-api.md.
 *
 * A tiny test model ("pages"): 16 pages of 4 KiB per index, a table of
 * output page numbers and permissions, 1 or 2 indexes (index 0 secure,
 * index 1 non-secure, as a TrustZone MPC). Its map/unmap send events the way
 * every model must. Each test would fail if the behaviour were missing; the
 * comments say which line of the core it pins down.
 */
#include <CUnit/CUnit.h>
#include <stddef.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/iommu.h"

void test_iommu_b1_translate_mandatory(void);
void test_iommu_b2_defaults(void);
void test_iommu_b3_register_validation(void);
void test_iommu_b4_flag_union(void);
void test_iommu_b5_refusal_rolls_back(void);
void test_iommu_b6_fanout_filters(void);
void test_iommu_b7_unmap_perm_and_change_order(void);
void test_iommu_b8_deviotlb_crop(void);
void test_iommu_b9_default_replay(void);
void test_iommu_b10_unmap_notifier_range(void);
void test_iommu_b11_cached_user_never_stale(void);
void test_iommu_b12_per_index(void);
void test_iommu_b14_get_attr(void);
void test_iommu_fanout_cost(void);

#define NPAGES 16
#define PG 4096u

struct pages {
    struct iommu mmu;
    unsigned nidx;
    uint64_t out[2][NPAGES];        /* output page address */
    unsigned perm[2][NPAGES];
    int allow_map;                  /* refuse MAP notifiers unless set */
    unsigned changed_calls, last_old, last_new;
};

#define PAGES(m) ((struct pages *)((char *)(m) - offsetof(struct pages, mmu)))

static struct iommu_tlb_entry pages_translate(struct iommu *mmu, uint64_t iova,
                                              unsigned flag, unsigned idx)
{
    struct pages *p = PAGES(mmu);
    struct iommu_tlb_entry e = { .iova = iova & ~(uint64_t)(PG - 1), .addr_mask = PG - 1 };
    uint64_t pn = iova / PG;

    if (pn >= NPAGES)
        return e;
    e.translated_addr = p->out[idx][pn];
    e.perm = p->perm[idx][pn];
    if (flag != IOMMU_NONE && (e.perm & flag) != flag)
        e.perm = IOMMU_NONE;
    return e;
}

static unsigned pages_num_indexes(struct iommu *mmu)
{
    return PAGES(mmu)->nidx;
}

static unsigned pages_attrs_to_index(struct iommu *mmu, const struct iommu_attrs *a)
{
    (void)mmu;
    return (a->secure || a->unspecified) ? 0 : 1;
}

static int pages_flag_changed(struct iommu *mmu, unsigned old, unsigned nf,
                              char *err, size_t errlen)
{
    struct pages *p = PAGES(mmu);

    p->changed_calls++;
    p->last_old = old;
    p->last_new = nf;
    if ((nf & IOMMU_NOTIFIER_MAP) && !p->allow_map)
        return sim_error_format(err, errlen, SIM_EREFUSED, "pages",
                                "MAP notifiers need map events");
    return 0;
}

static int pages_get_attr(struct iommu *mmu, enum iommu_attr attr, void *data)
{
    (void)mmu;
    if (attr == IOMMU_ATTR_ADDR_WIDTH) {
        *(unsigned *)data = 16;     /* 16 pages of 4 KiB: 64 KiB */
        return 0;
    }
    return SIM_EINVAL;
}

static const struct iommu_ops pages_ops = {
    .translate = pages_translate,
    .num_indexes = pages_num_indexes,
    .attrs_to_index = pages_attrs_to_index,
    .notify_flag_changed = pages_flag_changed,
    .get_attr = pages_get_attr,
};

static const struct iommu_ops bare_ops = { .translate = pages_translate };

static struct sim g_sim;

static void pages_setup(struct pages *p, const struct iommu_ops *ops, unsigned nidx)
{
    char err[160];

    memset(p, 0, sizeof(*p));
    p->nidx = nidx;
    p->allow_map = 1;
    sim_init(&g_sim);
    CU_ASSERT_EQUAL_FATAL(iommu_init(&p->mmu, ops, &g_sim, "sys.iommu",
                                     NPAGES * PG, err, sizeof(err)), 0);
}

static void pages_teardown(struct pages *p)
{
    iommu_destroy(&p->mmu);
    sim_destroy(&g_sim);
}

/* The model's unmap: the change, then the UNMAP event (B7, B11). */
static void pages_unmap(struct pages *p, unsigned idx, unsigned pn)
{
    struct iommu_event ev = { .type = IOMMU_NOTIFIER_UNMAP,
        .entry = { .iova = (uint64_t)pn * PG, .addr_mask = PG - 1,
                   .translated_addr = p->out[idx][pn], .perm = IOMMU_NONE } };

    p->perm[idx][pn] = IOMMU_NONE;
    iommu_notify(&p->mmu, idx, &ev);
}

/* A recording notifier. */
struct rec {
    struct iommu_notifier n;
    unsigned count;
    struct iommu_event last, log[8];
};

static void rec_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct rec *r = (struct rec *)n;

    if (r->count < 8)
        r->log[r->count] = *ev;
    r->count++;
    r->last = *ev;
}

static void rec_init(struct rec *r, unsigned flags, uint64_t start, uint64_t end,
                     unsigned idx)
{
    memset(r, 0, sizeof(*r));
    r->n.notify = rec_notify;
    r->n.flags = flags;
    r->n.start = start;
    r->n.end = end;
    r->n.iommu_idx = idx;
}

static struct iommu_event ev_of(unsigned type, uint64_t iova, uint64_t mask,
                                uint64_t pa, unsigned perm)
{
    struct iommu_event ev = { .type = type,
        .entry = { .iova = iova, .addr_mask = mask, .translated_addr = pa, .perm = perm } };
    return ev;
}

/* --- Tests ---------------------------------------------------------------- */

void test_iommu_b1_translate_mandatory(void)
{
    static const struct iommu_ops no_translate = { .num_indexes = pages_num_indexes };
    struct iommu mmu;
    struct sim sim;
    char err[160] = "";

    sim_init(&sim);
    CU_ASSERT_EQUAL(iommu_init(&mmu, &no_translate, &sim, "system.iommu", 0,
                               err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "system.iommu: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "translate"));
    CU_ASSERT_EQUAL(iommu_init(&mmu, NULL, &sim, "x", 0, err, sizeof(err)), SIM_EINVAL);
    sim_destroy(&sim);
}

static int timed_done_calls;
static void timed_done(struct iommu_req *req)
{
    (void)req;
    timed_done_calls++;
}

void test_iommu_b2_defaults(void)
{
    struct pages p;
    unsigned w = 0;
    struct iommu_attrs a = { .secure = false };
    struct iommu_req req;
    struct rec r;
    char err[160];

    pages_setup(&p, &bare_ops, 1);
    CU_ASSERT_EQUAL(iommu_num_indexes(&p.mmu), 1);
    CU_ASSERT_EQUAL(iommu_get_min_page_size(&p.mmu), 4096);
    CU_ASSERT_EQUAL(iommu_get_attr(&p.mmu, IOMMU_ATTR_ADDR_WIDTH, &w), SIM_EINVAL);
    CU_ASSERT_EQUAL(iommu_attrs_to_index(&p.mmu, &a), 0);
    /* Default notify_flag_changed accepts MAP even though allow_map is 0. */
    p.allow_map = 0;
    rec_init(&r, IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &r.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(p.changed_calls, 0);
    CU_ASSERT_EQUAL(p.mmu.notify_flags, IOMMU_NOTIFIER_MAP);
    /* Default timed path: the functional answer, now. */
    p.out[0][3] = 0x777000;
    p.perm[0][3] = IOMMU_RW;
    memset(&req, 0, sizeof(req));
    req.iova = 3 * PG + 0x10;
    req.access = IOMMU_WO;
    req.done = timed_done;
    timed_done_calls = 0;
    CU_ASSERT_EQUAL(iommu_translate_timed(&p.mmu, &req), 0);
    sim_run(&g_sim);
    CU_ASSERT_EQUAL(timed_done_calls, 1);
    CU_ASSERT_EQUAL(req.status, 0);
    CU_ASSERT_EQUAL(req.entry.translated_addr, 0x777000);
    CU_ASSERT_EQUAL(req.completed, 0);
    /* Default replay walks granules: 16 translate calls for 64 KiB. */
    iommu_replay(&p.mmu, &r.n);
    CU_ASSERT_EQUAL(p.mmu.st.replay_translates, 16);
    iommu_notifier_unregister(&p.mmu, &r.n);
    pages_teardown(&p);
}

void test_iommu_b3_register_validation(void)
{
    struct pages p;
    struct rec r;
    char err[160];

    pages_setup(&p, &pages_ops, 2);
    rec_init(&r, IOMMU_NOTIFIER_NONE, 0, 100, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &r.n, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "flags"));
    rec_init(&r, 0x8, 0, 100, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &r.n, err, sizeof(err)), SIM_EINVAL);
    rec_init(&r, IOMMU_NOTIFIER_UNMAP, 101, 100, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &r.n, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "range"));
    rec_init(&r, IOMMU_NOTIFIER_UNMAP, 0, 100, 2);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &r.n, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "iommu_idx (got 2, expected < 2)"));
    /* start == end is a valid one-byte range; index 1 exists. */
    rec_init(&r, IOMMU_NOTIFIER_UNMAP, 100, 100, 1);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &r.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &r.n, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_EQUAL(p.mmu.st.registers, 1);
    CU_ASSERT_EQUAL(iommu_notifier_unregister(&p.mmu, &r.n), 0);
    CU_ASSERT_EQUAL(iommu_notifier_unregister(&p.mmu, &r.n), SIM_ENOENT);
    pages_teardown(&p);
}

void test_iommu_b4_flag_union(void)
{
    struct pages p;
    struct rec a, b, c;
    char err[160];

    pages_setup(&p, &pages_ops, 2);
    rec_init(&a, IOMMU_NOTIFIER_UNMAP, 0, 0xffff, 0);
    rec_init(&b, IOMMU_NOTIFIER_UNMAP, 0, 0xffff, 1);
    rec_init(&c, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0, 0xffff, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &a.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(p.changed_calls, 1);
    CU_ASSERT_EQUAL(p.last_old, 0);
    CU_ASSERT_EQUAL(p.last_new, IOMMU_NOTIFIER_UNMAP);
    /* Same union (another index counts towards it too): no call. */
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &b.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(p.changed_calls, 1);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &c.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(p.changed_calls, 2);
    CU_ASSERT_EQUAL(p.last_old, IOMMU_NOTIFIER_UNMAP);
    CU_ASSERT_EQUAL(p.last_new, IOMMU_NOTIFIER_IOTLB_EVENTS);
    /* Removing a notifier whose flags others still cover: no call. */
    CU_ASSERT_EQUAL(iommu_notifier_unregister(&p.mmu, &a.n), 0);
    CU_ASSERT_EQUAL(p.changed_calls, 2);
    CU_ASSERT_EQUAL(iommu_notifier_unregister(&p.mmu, &c.n), 0);
    CU_ASSERT_EQUAL(p.changed_calls, 3);
    CU_ASSERT_EQUAL(p.last_old, IOMMU_NOTIFIER_IOTLB_EVENTS);
    CU_ASSERT_EQUAL(p.last_new, IOMMU_NOTIFIER_UNMAP);
    CU_ASSERT_EQUAL(iommu_notifier_unregister(&p.mmu, &b.n), 0);
    CU_ASSERT_EQUAL(p.changed_calls, 4);
    CU_ASSERT_EQUAL(p.last_new, 0);
    CU_ASSERT_EQUAL(p.mmu.notify_flags, 0);
    pages_teardown(&p);
}

void test_iommu_b5_refusal_rolls_back(void)
{
    struct pages p;
    struct rec u, m;
    char err[160] = "";
    struct iommu_event ev = ev_of(IOMMU_NOTIFIER_UNMAP, 0, PG - 1, 0, IOMMU_NONE);

    pages_setup(&p, &pages_ops, 1);
    p.allow_map = 0;
    rec_init(&u, IOMMU_NOTIFIER_UNMAP, 0, 0xffff, 0);
    rec_init(&m, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0, 0xffff, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &u.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &m.n, err, sizeof(err)), SIM_EREFUSED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "MAP notifiers need map events"));
    CU_ASSERT_EQUAL(p.mmu.notify_flags, IOMMU_NOTIFIER_UNMAP);
    CU_ASSERT_PTR_NULL(m.n.owner);
    /* Not in the list: it gets no event, and unregistering finds nothing. */
    iommu_notify(&p.mmu, 0, &ev);
    CU_ASSERT_EQUAL(u.count, 1);
    CU_ASSERT_EQUAL(m.count, 0);
    CU_ASSERT_EQUAL(iommu_notifier_unregister(&p.mmu, &m.n), SIM_ENOENT);
    /* Once the model allows it, the same notifier registers. */
    p.allow_map = 1;
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &m.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(p.mmu.notify_flags, IOMMU_NOTIFIER_IOTLB_EVENTS);
    pages_teardown(&p);
}

void test_iommu_b6_fanout_filters(void)
{
    struct pages p;
    struct rec in, out, unmap_only, other_idx;
    char err[160];
    struct iommu_event map = ev_of(IOMMU_NOTIFIER_MAP, 0x2000, PG - 1, 0x9000, IOMMU_RW);
    struct iommu_event unmap = ev_of(IOMMU_NOTIFIER_UNMAP, 0x2000, PG - 1, 0x9000, IOMMU_NONE);

    pages_setup(&p, &pages_ops, 2);
    rec_init(&in, IOMMU_NOTIFIER_IOTLB_EVENTS, 0x2fff, 0x5000, 0);  /* overlaps by one byte */
    rec_init(&out, IOMMU_NOTIFIER_IOTLB_EVENTS, 0x3000, 0x5000, 0); /* just after */
    rec_init(&unmap_only, IOMMU_NOTIFIER_UNMAP, 0, 0xffff, 0);
    rec_init(&other_idx, IOMMU_NOTIFIER_IOTLB_EVENTS, 0, 0xffff, 1);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &in.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &out.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &unmap_only.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &other_idx.n, err, sizeof(err)), 0);
    iommu_notify(&p.mmu, 0, &map);
    iommu_notify(&p.mmu, 0, &unmap);
    CU_ASSERT_EQUAL(in.count, 2);
    CU_ASSERT_EQUAL(out.count, 0);
    CU_ASSERT_EQUAL(unmap_only.count, 1);       /* never sees MAP */
    CU_ASSERT_EQUAL(unmap_only.last.type, IOMMU_NOTIFIER_UNMAP);
    CU_ASSERT_EQUAL(other_idx.count, 0);
    /* MAP/UNMAP entries are delivered whole (no cropping). */
    CU_ASSERT_EQUAL(in.log[0].entry.iova, 0x2000);
    CU_ASSERT_EQUAL(in.log[0].entry.addr_mask, PG - 1);
    CU_ASSERT_EQUAL(p.mmu.st.skipped_range, 2);
    CU_ASSERT_EQUAL(p.mmu.st.skipped_flags, 1);
    pages_teardown(&p);
}

void test_iommu_b7_unmap_perm_and_change_order(void)
{
    struct pages p;
    struct rec r;
    char err[160];
    struct iommu_tlb_entry old = { .iova = 0x4000, .translated_addr = 0x10000,
                                   .addr_mask = PG - 1, .perm = IOMMU_RW };
    struct iommu_tlb_entry nw = { .iova = 0x4000, .translated_addr = 0x20000,
                                  .addr_mask = PG - 1, .perm = IOMMU_RO };

    pages_setup(&p, &pages_ops, 1);
    rec_init(&r, IOMMU_NOTIFIER_IOTLB_EVENTS, 0, 0xffff, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &r.n, err, sizeof(err)), 0);
    iommu_notify_change(&p.mmu, 0, &old, &nw);
    CU_ASSERT_EQUAL(r.count, 2);
    CU_ASSERT_EQUAL(r.log[0].type, IOMMU_NOTIFIER_UNMAP);
    CU_ASSERT_EQUAL(r.log[0].entry.perm, IOMMU_NONE);
    CU_ASSERT_EQUAL(r.log[0].entry.translated_addr, 0x10000);
    CU_ASSERT_EQUAL(r.log[1].type, IOMMU_NOTIFIER_MAP);
    CU_ASSERT_EQUAL(r.log[1].entry.translated_addr, 0x20000);
    CU_ASSERT_EQUAL(r.log[1].entry.perm, IOMMU_RO);
    /* The model's own unmap path carries perm NONE too. */
    p.perm[0][5] = IOMMU_RW;
    pages_unmap(&p, 0, 5);
    CU_ASSERT_EQUAL(r.last.type, IOMMU_NOTIFIER_UNMAP);
    CU_ASSERT_EQUAL(r.last.entry.perm, IOMMU_NONE);
    pages_teardown(&p);
}

void test_iommu_b8_deviotlb_crop(void)
{
    struct pages p;
    struct rec d, u;
    char err[160];
    /* A 2 MiB invalidation over notifiers covering parts of it. */
    struct iommu_event ev = ev_of(IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0x200000, 0x1fffff,
                                  0, IOMMU_NONE);

    pages_setup(&p, &pages_ops, 1);
    rec_init(&d, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0x280000, 0x2fffff, 0);
    rec_init(&u, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0x100000, 0x200fff, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &d.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &u.n, err, sizeof(err)), 0);
    iommu_notify(&p.mmu, 0, &ev);
    CU_ASSERT_EQUAL(d.count, 1);
    CU_ASSERT_EQUAL(d.last.entry.iova, 0x280000);               /* raised to start */
    CU_ASSERT_EQUAL(d.last.entry.addr_mask, 0x2fffff - 0x280000); /* ends at end */
    CU_ASSERT_EQUAL(u.count, 1);
    CU_ASSERT_EQUAL(u.last.entry.iova, 0x200000);               /* already >= start */
    CU_ASSERT_EQUAL(u.last.entry.addr_mask, 0xfff);             /* cut at 0x200fff */
    /* The event itself was not modified for later notifiers. */
    CU_ASSERT_EQUAL(ev.entry.addr_mask, 0x1fffff);
    pages_teardown(&p);
}

static uint64_t huge_pg(struct iommu *mmu)
{
    (void)mmu;
    return UINT64_C(1) << 62;
}

static const struct iommu_ops huge_ops = {
    .translate = pages_translate,
    .get_min_page_size = huge_pg,
    .num_indexes = pages_num_indexes,
};

void test_iommu_b9_default_replay(void)
{
    struct pages p;
    struct rec r;
    char err[160];
    unsigned i;

    pages_setup(&p, &pages_ops, 2);
    p.mmu.replay_translate_cost = 50 * SIM_TICKS_PER_NS;
    p.perm[1][2] = IOMMU_RO;
    p.out[1][2] = 0xa000;
    p.perm[1][9] = IOMMU_WO;
    p.out[1][9] = 0xb000;
    p.perm[0][4] = IOMMU_RW;                /* other index: not replayed */
    rec_init(&r, IOMMU_NOTIFIER_IOTLB_EVENTS, 0, 0xffff, 1);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &r.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_replay(&p.mmu, &r.n), 16 * 50 * SIM_TICKS_PER_NS);
    /* 64 KiB / 4 KiB = 16 translate calls; the two present entries only,
     * each with the permissions mapped (translate with NONE). */
    CU_ASSERT_EQUAL(p.mmu.st.replay_translates, 16);
    CU_ASSERT_EQUAL(p.mmu.st.replay_notifications, 2);
    CU_ASSERT_EQUAL(r.count, 2);
    CU_ASSERT_EQUAL(r.log[0].type, IOMMU_NOTIFIER_MAP);
    CU_ASSERT_EQUAL(r.log[0].entry.iova, 2 * PG);
    CU_ASSERT_EQUAL(r.log[0].entry.perm, IOMMU_RO);
    CU_ASSERT_EQUAL(r.log[1].entry.iova, 9 * PG);
    CU_ASSERT_EQUAL(r.log[1].entry.perm, IOMMU_WO);
    CU_ASSERT_DOUBLE_EQUAL(p.mmu.st.replay_ticks, 16 * 50 * 1000.0, 0.5);
    pages_teardown(&p);

    /* A 2^64 region with 2^62 granules: 4 calls, then the wrap stops it. */
    pages_setup(&p, &huge_ops, 1);
    p.mmu.size = 0;
    rec_init(&r, IOMMU_NOTIFIER_MAP, 0, UINT64_MAX, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &r.n, err, sizeof(err)), 0);
    iommu_replay(&p.mmu, &r.n);
    CU_ASSERT_EQUAL(p.mmu.st.replay_translates, 4);
    pages_teardown(&p);
    (void)i;
}

void test_iommu_b10_unmap_notifier_range(void)
{
    struct pages p;
    struct rec a, b, dev;
    char err[160];

    pages_setup(&p, &pages_ops, 2);
    rec_init(&a, IOMMU_NOTIFIER_IOTLB_EVENTS, 0x1000, 0x7fff, 0);
    rec_init(&b, IOMMU_NOTIFIER_UNMAP, 0, UINT64_MAX, 1);
    rec_init(&dev, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0, 0xffff, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &a.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &b.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &dev.n, err, sizeof(err)), 0);
    iommu_unmap_all(&p.mmu);
    CU_ASSERT_EQUAL(a.count, 1);
    CU_ASSERT_EQUAL(a.last.type, IOMMU_NOTIFIER_UNMAP);
    CU_ASSERT_EQUAL(a.last.entry.iova, 0x1000);
    CU_ASSERT_EQUAL(a.last.entry.addr_mask, 0x7fff - 0x1000);
    CU_ASSERT_EQUAL(a.last.entry.perm, IOMMU_NONE);
    CU_ASSERT_EQUAL(b.count, 1);
    CU_ASSERT_EQUAL(b.last.entry.iova, 0);
    CU_ASSERT_EQUAL(b.last.entry.addr_mask, UINT64_MAX);
    /* An UNMAP event; a DEVIOTLB-only notifier does not take it. */
    CU_ASSERT_EQUAL(dev.count, 0);
    pages_teardown(&p);
}

/* A user that caches one translation beyond a request (a vhost IOTLB). */
struct cacher {
    struct iommu_notifier n;
    struct iommu *mmu;
    int valid;
    struct iommu_tlb_entry e;
    unsigned translates;
};

static void cacher_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct cacher *c = (struct cacher *)n;

    if (c->valid && ev->entry.iova <= c->e.iova + c->e.addr_mask &&
        c->e.iova <= ev->entry.iova + ev->entry.addr_mask)
        c->valid = 0;
}

static uint64_t cacher_use(struct cacher *c, uint64_t iova)
{
    if (!c->valid || (iova & ~c->e.addr_mask) != c->e.iova) {
        c->e = iommu_translate(c->mmu, iova, IOMMU_RO, 0);
        c->valid = c->e.perm != IOMMU_NONE;
        c->translates++;
        if (!c->valid)
            return UINT64_MAX;
    }
    return c->e.translated_addr | (iova & c->e.addr_mask);
}

void test_iommu_b11_cached_user_never_stale(void)
{
    struct pages p;
    struct cacher with = {0}, without = {0};
    char err[160];

    pages_setup(&p, &pages_ops, 1);
    p.out[0][1] = 0x50000;
    p.perm[0][1] = IOMMU_RW;
    with.mmu = without.mmu = &p.mmu;
    with.n.notify = cacher_notify;
    with.n.flags = IOMMU_NOTIFIER_UNMAP;
    with.n.end = UINT64_MAX;
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &with.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(cacher_use(&with, 0x1010), 0x50010);
    CU_ASSERT_EQUAL(cacher_use(&without, 0x1010), 0x50010);
    CU_ASSERT_EQUAL(cacher_use(&with, 0x1020), 0x50020);
    CU_ASSERT_EQUAL(with.translates, 1);        /* it does cache */
    /* The page is unmapped (UNMAP sent), then mapped elsewhere. */
    pages_unmap(&p, 0, 1);
    CU_ASSERT_EQUAL(cacher_use(&with, 0x1010), UINT64_MAX);
    p.out[0][1] = 0x60000;
    p.perm[0][1] = IOMMU_RW;
    CU_ASSERT_EQUAL(cacher_use(&with, 0x1010), 0x60010);
    /* Control: a cache without a notifier keeps using the stale entry,
     * which is exactly what the notifier prevents. */
    CU_ASSERT_EQUAL(cacher_use(&without, 0x1010), 0x50010);
    pages_teardown(&p);
}

void test_iommu_b12_per_index(void)
{
    struct pages p;
    struct rec s, ns;
    char err[160];
    struct iommu_attrs sec = { .secure = true }, nsec = { .secure = false },
                       unspec = { .unspecified = true };
    struct iommu_tlb_entry e;
    struct iommu_req req;

    pages_setup(&p, &pages_ops, 2);
    CU_ASSERT_EQUAL(iommu_num_indexes(&p.mmu), 2);
    CU_ASSERT_EQUAL(iommu_attrs_to_index(&p.mmu, &sec), 0);
    CU_ASSERT_EQUAL(iommu_attrs_to_index(&p.mmu, &nsec), 1);
    CU_ASSERT_EQUAL(iommu_attrs_to_index(&p.mmu, &unspec), 0);
    /* The same address: secure sees a mapping, non-secure is blocked. */
    p.out[0][7] = 0x70000;
    p.perm[0][7] = IOMMU_RW;
    e = iommu_translate(&p.mmu, 7 * PG, IOMMU_RO, 0);
    CU_ASSERT_EQUAL(e.perm, IOMMU_RW);
    e = iommu_translate(&p.mmu, 7 * PG, IOMMU_RO, 1);
    CU_ASSERT_EQUAL(e.perm, IOMMU_NONE);
    /* The timed path picks the index from the request's attributes. */
    memset(&req, 0, sizeof(req));
    req.iova = 7 * PG;
    req.access = IOMMU_RO;
    req.attrs = nsec;
    req.done = timed_done;
    CU_ASSERT_EQUAL(iommu_translate_timed(&p.mmu, &req), 0);
    sim_run(&g_sim);
    CU_ASSERT_EQUAL(req.iommu_idx, 1);
    CU_ASSERT_EQUAL(req.status, SIM_EFAULT);
    req.attrs = sec;
    CU_ASSERT_EQUAL(iommu_translate_timed(&p.mmu, &req), 0);
    sim_run(&g_sim);
    CU_ASSERT_EQUAL(req.status, 0);
    CU_ASSERT_EQUAL(req.entry.translated_addr, 0x70000);
    /* Notifiers are per index: a config change unmaps on each index and
     * each notifier hears only its own. */
    rec_init(&s, IOMMU_NOTIFIER_UNMAP, 0, UINT64_MAX, 0);
    rec_init(&ns, IOMMU_NOTIFIER_UNMAP, 0, UINT64_MAX, 1);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &s.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &ns.n, err, sizeof(err)), 0);
    pages_unmap(&p, 0, 7);
    CU_ASSERT_EQUAL(s.count, 1);
    CU_ASSERT_EQUAL(ns.count, 0);
    pages_unmap(&p, 1, 7);
    CU_ASSERT_EQUAL(s.count, 1);
    CU_ASSERT_EQUAL(ns.count, 1);
    pages_teardown(&p);
}

void test_iommu_b14_get_attr(void)
{
    struct pages p;
    unsigned w = 0;
    uint64_t bm = 0;

    pages_setup(&p, &pages_ops, 1);
    CU_ASSERT_EQUAL(iommu_get_attr(&p.mmu, IOMMU_ATTR_ADDR_WIDTH, &w), 0);
    CU_ASSERT_EQUAL(w, 16);
    CU_ASSERT_EQUAL(iommu_get_attr(&p.mmu, IOMMU_ATTR_PGSIZE_BITMAP, &bm), SIM_EINVAL);
    CU_ASSERT_EQUAL(bm, 0);
    pages_teardown(&p);
}

void test_iommu_fanout_cost(void)
{
    struct pages p;
    struct rec ser, par;
    struct sim_resource lock;
    char err[160];
    struct iommu_event ev = ev_of(IOMMU_NOTIFIER_UNMAP, 0, PG - 1, 0, IOMMU_NONE);
    sim_tick_t end = 0;
    unsigned i;

    pages_setup(&p, &pages_ops, 1);
    CU_ASSERT_EQUAL_FATAL(sim_resource_init(&lock, &g_sim, 1), 0);
    rec_init(&ser, IOMMU_NOTIFIER_UNMAP, 0, UINT64_MAX, 0);
    ser.n.latency = 2 * SIM_TICKS_PER_US;
    ser.n.serialise = &lock;
    rec_init(&par, IOMMU_NOTIFIER_UNMAP, 0, UINT64_MAX, 0);
    par.n.latency = 3 * SIM_TICKS_PER_US;
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &ser.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&p.mmu, &par.n, err, sizeof(err)), 0);
    /* A storm of 10 events at one tick: the serialising consumer finishes
     * after 10 x 2 us; the parallel one after 3 us each. */
    for (i = 0; i < 10; i++)
        end = iommu_notify(&p.mmu, 0, &ev);
    CU_ASSERT_EQUAL(end, 20 * SIM_TICKS_PER_US);
    CU_ASSERT_EQUAL(lock.st.wait_max, 18 * SIM_TICKS_PER_US);
    CU_ASSERT_DOUBLE_EQUAL(p.mmu.st.consumer_ticks, 10 * 5e6, 0.5);
    sim_resource_destroy(&lock);
    pages_teardown(&p);
}
