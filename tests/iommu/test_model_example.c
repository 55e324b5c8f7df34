/*
 * test_model_example.c - the worked example of docs/models.md: `window`, a
 * tiny IOMMU model, and the tests that show it keeps the contract.
 *
 * The model maps one window of IOVAs [0, size) linearly onto [base, base +
 * size) with one permission, like an inbound window of a PCI host bridge.
 * It provides only what it must (translate) and what it has an answer for
 * (get_attr); every other op takes the core's default. Moving the window
 * changes every translation, so it first sends one UNMAP covering the
 * window (B11). docs/models.md quotes this file: keep the two in step.
 */
#include <CUnit/CUnit.h>
#include <stddef.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/iommu.h"

void test_model_example_translate(void);
void test_model_example_defaults(void);
void test_model_example_move_unmaps(void);

/* --- The model -------------------------------------------------------------- */

struct window {
    struct iommu mmu;               /* embedded: the ops get &w->mmu back */
    uint64_t base, size;            /* size: a power of two, >= 4 KiB */
    unsigned perm;
};

#define WINDOW(m) ((struct window *)((char *)(m) - offsetof(struct window, mmu)))

static struct iommu_tlb_entry window_translate(struct iommu *mmu, uint64_t iova,
                                               unsigned flag, unsigned idx)
{
    struct window *w = WINDOW(mmu);
    struct iommu_tlb_entry e = { .iova = iova & ~UINT64_C(0xfff), .addr_mask = 0xfff };

    (void)idx;                      /* one index: the core passes 0 */
    if (iova >= w->size)
        return e;                   /* perm NONE: not mapped */
    e.translated_addr = w->base + e.iova;
    e.perm = w->perm;
    if (flag != IOMMU_NONE && (e.perm & flag) != flag)
        e.perm = IOMMU_NONE;        /* a fault for this access */
    return e;
}

static int window_get_attr(struct iommu *mmu, enum iommu_attr attr, void *data)
{
    struct window *w = WINDOW(mmu);

    if (attr != IOMMU_ATTR_ADDR_WIDTH)
        return SIM_EINVAL;          /* B14: only what the model supports */
    *(unsigned *)data = (unsigned)__builtin_ctzll(w->size);
    return 0;
}

static const struct iommu_ops window_ops = {
    .translate = window_translate,
    .get_attr = window_get_attr,
};

static int window_init(struct window *w, struct sim *sim, uint64_t base, uint64_t size,
                       unsigned perm, char *err, size_t errlen)
{
    w->base = base;
    w->size = size;
    w->perm = perm;
    return iommu_init(&w->mmu, &window_ops, sim, "system.window", size, err, errlen);
}

/* Move the window: every translation changes, so UNMAP all of it first (B11). */
static sim_tick_t window_move(struct window *w, uint64_t new_base)
{
    struct iommu_event ev = { .type = IOMMU_NOTIFIER_UNMAP,
        .entry = { .iova = 0, .translated_addr = w->base, .addr_mask = w->size - 1,
                   .perm = IOMMU_NONE } };
    sim_tick_t done = iommu_notify(&w->mmu, 0, &ev);

    w->base = new_base;
    return done;
}

/* --- Tests ------------------------------------------------------------------ */

void test_model_example_translate(void)
{
    struct sim sim;
    struct window w;
    struct iommu_tlb_entry e;
    char err[128];

    sim_init(&sim);
    CU_ASSERT_EQUAL_FATAL(window_init(&w, &sim, 0x80000000, 1 << 20, IOMMU_RO, err,
                                      sizeof(err)), 0);
    e = iommu_translate(&w.mmu, 0x12345, IOMMU_RO, 0);
    CU_ASSERT_EQUAL(e.iova, 0x12000);
    CU_ASSERT_EQUAL(e.translated_addr, 0x80012000);
    CU_ASSERT_EQUAL(e.addr_mask, 0xfff);
    CU_ASSERT_EQUAL(e.perm, IOMMU_RO);
    /* A write to a read-only window faults; outside the window nothing is mapped. */
    CU_ASSERT_EQUAL(iommu_translate(&w.mmu, 0x12345, IOMMU_WO, 0).perm, IOMMU_NONE);
    CU_ASSERT_EQUAL(iommu_translate(&w.mmu, 1 << 20, IOMMU_NONE, 0).perm, IOMMU_NONE);
    iommu_destroy(&w.mmu);
    sim_destroy(&sim);
}

void test_model_example_defaults(void)
{
    struct sim sim;
    struct window w;
    struct iommu_attrs attrs = { .secure = true };
    unsigned width = 0;
    bool cm;
    char err[128];

    sim_init(&sim);
    CU_ASSERT_EQUAL_FATAL(window_init(&w, &sim, 0, 1 << 20, IOMMU_RW, err, sizeof(err)), 0);
    /* Ops the model left out answer with the core's defaults (B2). */
    CU_ASSERT_EQUAL(iommu_get_min_page_size(&w.mmu), 4096);
    CU_ASSERT_EQUAL(iommu_num_indexes(&w.mmu), 1);
    CU_ASSERT_EQUAL(iommu_attrs_to_index(&w.mmu, &attrs), 0);
    /* get_attr: its own attribute, EINVAL for the rest (B14). */
    CU_ASSERT_EQUAL(iommu_get_attr(&w.mmu, IOMMU_ATTR_ADDR_WIDTH, &width), 0);
    CU_ASSERT_EQUAL(width, 20);
    CU_ASSERT_EQUAL(iommu_get_attr(&w.mmu, IOMMU_ATTR_CACHING_MODE, &cm), SIM_EINVAL);
    iommu_destroy(&w.mmu);
    sim_destroy(&sim);
}

/* A user that caches one translation, as a device TLB does (B11). */
struct cached {
    struct iommu_notifier n;
    struct iommu_tlb_entry e;       /* perm NONE: nothing cached */
    unsigned unmaps, maps;
};

static void cached_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct cached *c = (struct cached *)n;

    if (ev->type == IOMMU_NOTIFIER_MAP) {
        c->maps++;
        return;
    }
    c->unmaps++;
    if (c->e.perm != IOMMU_NONE && c->e.iova >= ev->entry.iova &&
        c->e.iova <= ev->entry.iova + ev->entry.addr_mask)
        c->e.perm = IOMMU_NONE;     /* drop the stale entry */
}

void test_model_example_move_unmaps(void)
{
    struct sim sim;
    struct window w;
    struct cached c;
    char err[128];

    sim_init(&sim);
    CU_ASSERT_EQUAL_FATAL(window_init(&w, &sim, 0x80000000, 1 << 16, IOMMU_RW, err,
                                      sizeof(err)), 0);
    memset(&c, 0, sizeof(c));
    c.n.notify = cached_notify;
    c.n.flags = IOMMU_NOTIFIER_IOTLB_EVENTS;
    c.n.end = UINT64_MAX;
    CU_ASSERT_EQUAL_FATAL(iommu_notifier_register(&w.mmu, &c.n, err, sizeof(err)), 0);
    /* The default replay (B9) walks the 64 KiB window in 4 KiB granules:
     * 16 present pages, each delivered as a MAP to this notifier. */
    iommu_replay(&w.mmu, &c.n);
    CU_ASSERT_EQUAL(c.maps, 16);

    c.e = iommu_translate(&w.mmu, 0x3000, IOMMU_RW, 0);
    CU_ASSERT_EQUAL_FATAL(c.e.translated_addr, 0x80003000);
    window_move(&w, 0x90000000);
    /* One UNMAP covering the window reached the user, which dropped its copy:
     * it can no longer use 0x80003000 for IOVA 0x3000. */
    CU_ASSERT_EQUAL(c.unmaps, 1);
    CU_ASSERT_EQUAL(c.e.perm, IOMMU_NONE);
    CU_ASSERT_EQUAL(iommu_translate(&w.mmu, 0x3000, IOMMU_RW, 0).translated_addr, 0x90003000);
    CU_ASSERT_EQUAL(iommu_notifier_unregister(&w.mmu, &c.n), 0);
    iommu_destroy(&w.mmu);
    sim_destroy(&sim);
}
