/*
 * test_amdvi.c - the AMD-Vi model (src/iommu/models/amdvi.h): level
 * skipping, the timed command buffer and NpCache. Expected numbers are
 * derived from the table layout and the command processor's rule (one
 * command at a time, in order, each taking its type's time).
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include "dev/dev_object.h"
#include "engine/error.h"
#include "iommu/models/amdvi.h"
#include "iommu/objects.h"
#include "mem/mem_object.h"

void test_amdvi_level_skipping_reads(void);
void test_amdvi_command_buffer_timing(void);
void test_amdvi_npcache_map_events(void);
void test_amdvi_object_nic_strict(void);
void test_amdvi_ats_flush(void);

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define HIT 1000u
#define READ 50000u
#define INV 200000u
#define WAIT 700000u

static void make(struct sim *s, struct amdvi *v, bool skip, bool npcache)
{
    struct amdvi_cfg c;
    char err[256];

    memset(&c, 0, sizeof(c));
    c.levels = 4;
    c.pgsize_bitmap = 0x1000 | (2 * MiB) | GiB;
    c.skip_levels = skip;
    c.npcache = npcache;
    c.iotlb.arr[0].entries = 64;
    c.iotlb.arr[0].ways = 64;
    c.iotlb.mshrs = 1;
    c.iotlb.path = "amdvi.iotlb";
    c.pdc_entries = 0;
    c.hit_latency = HIT;
    c.read_latency = READ;
    c.cmd_time[AMDVI_CMD_INV_IOMMU_PAGES] = INV;
    c.cmd_time[AMDVI_CMD_INV_DEVTAB_ENTRY] = INV;
    c.cmd_time[AMDVI_CMD_INV_IOTLB_PAGES] = INV;
    c.cmd_time[AMDVI_CMD_COMPLETION_WAIT] = WAIT;
    c.max_domains = 4;
    c.max_devices = 4;
    c.path = "amdvi";
    sim_init(s);
    CU_ASSERT_EQUAL_FATAL(amdvi_create(v, s, &c, err, sizeof(err)), 0);
}

static void done_cb(struct iommu_req *r)
{
    (void)r;
}

/* One timed read of @iova; returns its issue-to-completion time. */
static sim_tick_t timed(struct sim *s, struct iommu *as, uint64_t iova, int *status)
{
    struct iommu_req q;

    memset(&q, 0, sizeof(q));
    q.iova = iova;
    q.access = IOMMU_RO;
    q.done = done_cb;
    CU_ASSERT_EQUAL(iommu_translate_timed(as, &q), 0);
    sim_run(s);
    *status = q.status;
    return q.completed - q.issued;
}

/*
 * A 4-level table (L4 root), a 2 MiB page at IOVA 2 MiB. Without skipping
 * the walk reads L4, L3, L2 entries: 3. With skipping, the L4 PDE points
 * straight at the L2 table (IOVA bits 30..38, level 3's, are zero): 2
 * reads. A cold timed request costs the IOTLB lookup, the DTE read and the
 * walk's reads. A 4 KiB map at 1 GiB needs level 3 (its bits 30..38 are
 * 1): L3 is put back, and from then on the 2 MiB page takes 3 reads; the
 * 4 KiB page is reached L4, L3, then (bits 21..29 zero) straight to L1: 3.
 */
void test_amdvi_level_skipping_reads(void)
{
    for (int skip = 0; skip < 2; skip++) {
        struct sim s;
        struct amdvi v;
        struct iommu_domain *d;
        struct iommu *as;
        char err[256];
        sim_tick_t done, lat;
        int st;
        unsigned want = skip ? 2 : 3;

        make(&s, &v, skip, false);
        CU_ASSERT_EQUAL_FATAL(amdvi_domain_get(&v, 1, &d, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL_FATAL(amdvi_attach(&v, 2, 1, &as, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL(iommu_domain_map(d, 2 * MiB, 8 * GiB, 2 * MiB, IOMMU_RW, 0, &done), 0);
        CU_ASSERT_EQUAL(iommu_domain_lookup(d, 2 * MiB + 0x1234).addr_mask, 2 * MiB - 1);
        CU_ASSERT_EQUAL(amdvi_walk_reads(&v, 1, 2 * MiB + 0x1234), want);
        CU_ASSERT_EQUAL(v.st.skipped_pdes, (uint64_t)skip);
        lat = timed(&s, as, 2 * MiB + 0x1234, &st);
        CU_ASSERT_EQUAL(st, 0);
        CU_ASSERT_EQUAL(lat, HIT + READ + want * READ);
        CU_ASSERT_EQUAL(v.st.walk_reads, want);
        /* Warm: an IOTLB hit, the DTE cached. */
        lat = timed(&s, as, 2 * MiB + 0x8000, &st);
        CU_ASSERT_EQUAL(lat, HIT);
        if (skip) {
            /* Level 3's bits must be zero under the skipping PDE: 1 GiB + 2 MiB faults. */
            CU_ASSERT_EQUAL(iommu_translate(as, GiB + 2 * MiB, IOMMU_RO, 0).perm, IOMMU_NONE);
        }
        CU_ASSERT_EQUAL(iommu_domain_map(d, GiB, 16 * GiB, 0x1000, IOMMU_RW, 0, &done), 0);
        CU_ASSERT_EQUAL(amdvi_walk_reads(&v, 1, 2 * MiB), 3);
        CU_ASSERT_EQUAL(amdvi_walk_reads(&v, 1, GiB), skip ? 3 : 4);
        CU_ASSERT_EQUAL(v.st.skipped_pdes, (uint64_t)skip);   /* the L3 -> L1 PDE */
        CU_ASSERT_EQUAL(iommu_translate(as, GiB + 0x10, IOMMU_RO, 0).translated_addr, 16 * GiB);
        CU_ASSERT_EQUAL(iommu_translate(as, 2 * MiB + 5, IOMMU_RO, 0).translated_addr, 8 * GiB);
        /* Unmap both; nothing is left, and the tables stay (Linux v1 tables). */
        CU_ASSERT_EQUAL(iommu_domain_unmap(d, 0, 2 * GiB, 0, 0, &done), 0);
        CU_ASSERT_EQUAL(v.st.unmap_pages, 2);
        CU_ASSERT_EQUAL(iommu_translate(as, 2 * MiB, IOMMU_NONE, 0).perm, IOMMU_NONE);
        CU_ASSERT_EQUAL(iommu_domain_unmap(d, 0, 2 * GiB, 0, 0, &done), SIM_ENOENT);
        amdvi_destroy(&v);
        sim_destroy(&s);
    }
}

/*
 * K INVALIDATE_IOMMU_PAGES and a COMPLETION_WAIT submitted at t complete
 * at t + K x INV + WAIT; a wait submitted later, while the K are still
 * being processed, completes only after all of them; commands submitted
 * when the processor is idle start at their submission.
 */
void test_amdvi_command_buffer_timing(void)
{
    enum { K = 7 };
    struct sim s;
    struct amdvi v;
    struct amdvi_cmd c[K + 1];
    const sim_tick_t t = 5000000;
    sim_tick_t end;

    make(&s, &v, true, false);
    memset(c, 0, sizeof(c));
    for (unsigned i = 0; i < K; i++) {
        c[i].type = AMDVI_CMD_INV_IOMMU_PAGES;
        c[i].domain = 1;
        c[i].addr = (uint64_t)i << 12;
        c[i].size = 0x1000;
    }
    c[K].type = AMDVI_CMD_COMPLETION_WAIT;
    end = amdvi_cmd_submit(&v, c, K + 1, t, NULL);
    CU_ASSERT_EQUAL(end, t + K * (sim_tick_t)INV + WAIT);
    CU_ASSERT_EQUAL(v.st.cmds[AMDVI_CMD_INV_IOMMU_PAGES], K);
    CU_ASSERT_EQUAL(v.st.cmds[AMDVI_CMD_COMPLETION_WAIT], 1);

    /* K more at t2, then a wait alone at t2 + 1 ps: behind all K. */
    {
        sim_tick_t t2 = end + 1000;

        amdvi_cmd_submit(&v, c, K, t2, NULL);
        end = amdvi_cmd_submit(&v, &c[K], 1, t2 + 1, NULL);
        CU_ASSERT_EQUAL(end, t2 + K * (sim_tick_t)INV + WAIT);
    }
    /* Idle again: a lone wait takes WAIT from its submission. */
    CU_ASSERT_EQUAL(amdvi_cmd_submit(&v, &c[K], 1, end + 10, NULL), end + 10 + WAIT);
    amdvi_destroy(&v);
    sim_destroy(&s);
}

struct counter {
    struct iommu_notifier n;
    unsigned maps, unmaps;
};

static void count_cb(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct counter *c = (struct counter *)n;

    if (ev->type == IOMMU_NOTIFIER_MAP)
        c->maps++;
    else if (ev->type == IOMMU_NOTIFIER_UNMAP)
        c->unmaps++;
}

/*
 * NpCache on: N single-page maps give N MAP events (one per page) and N
 * INVALIDATE_IOMMU_PAGES + N COMPLETION_WAIT commands, each map done when
 * its flush is (INV + WAIT after it, the processor idle); N unmaps give N
 * UNMAPs. The domain is strict-only. NpCache off: no MAP notifier can
 * register, maps send nothing and cost no command.
 */
void test_amdvi_npcache_map_events(void)
{
    enum { N = 10 };

    for (int np = 0; np < 2; np++) {
        struct sim s;
        struct amdvi v;
        struct iommu_domain *d;
        struct iommu *as;
        struct counter c;
        char err[256] = "";
        sim_tick_t done, at = 0;

        make(&s, &v, true, np);
        CU_ASSERT_EQUAL_FATAL(amdvi_domain_get(&v, 0, &d, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL_FATAL(amdvi_attach(&v, 1, 0, &as, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL(!!(d->flags & IOMMU_DOMAIN_STRICT_ONLY), np);
        memset(&c, 0, sizeof(c));
        c.n.notify = count_cb;
        c.n.flags = IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP;
        c.n.start = 0;
        c.n.end = UINT64_MAX;
        CU_ASSERT_EQUAL(iommu_notifier_register(as, &c.n, err, sizeof(err)),
                        np ? 0 : SIM_EREFUSED);
        if (!np) {
            c.n.flags = IOMMU_NOTIFIER_UNMAP;
            CU_ASSERT_EQUAL(iommu_notifier_register(as, &c.n, err, sizeof(err)), 0);
        }
        for (unsigned i = 0; i < N; i++) {
            at += 10 * (sim_tick_t)(INV + WAIT);        /* the processor is idle */
            CU_ASSERT_EQUAL(iommu_domain_map(d, (uint64_t)(i + 16) << 12, (uint64_t)i << 12,
                                             0x1000, IOMMU_RW, at, &done), 0);
            CU_ASSERT_EQUAL(done, np ? at + INV + WAIT : at);
        }
        CU_ASSERT_EQUAL(c.maps, np ? N : 0);
        CU_ASSERT_EQUAL(v.st.cmds[AMDVI_CMD_INV_IOMMU_PAGES], np ? N : 0);
        CU_ASSERT_EQUAL(v.st.cmds[AMDVI_CMD_COMPLETION_WAIT], np ? N : 0);
        CU_ASSERT_EQUAL(v.st.map_flushes, np ? N : 0);
        for (unsigned i = 0; i < N; i++)
            CU_ASSERT_EQUAL(iommu_domain_unmap(d, (uint64_t)(i + 16) << 12, 0x1000, 0,
                                               at, &done), 0);
        CU_ASSERT_EQUAL(c.unmaps, N);
        CU_ASSERT_EQUAL(v.st.cmds[AMDVI_CMD_INV_IOMMU_PAGES], np ? 2 * N : N);
        iommu_notifier_unregister(as, &c.n);
        amdvi_destroy(&v);
        sim_destroy(&s);
    }
}

struct devtlb {
    struct iommu_notifier n;
    unsigned events;
    uint64_t iova, mask;
};

static void devtlb_cb(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct devtlb *t = (struct devtlb *)n;

    if (ev->type != IOMMU_NOTIFIER_DEVIOTLB_UNMAP)
        return;
    t->events++;
    t->iova = ev->entry.iova;
    t->mask = ev->entry.addr_mask;
}

/*
 * A strict unmap in a domain with two devices, one with an ATS TLB (a
 * DEVIOTLB_UNMAP notifier, invalidation round trip L): the driver queues
 * INVALIDATE_IOMMU_PAGES, one INVALIDATE_IOTLB_PAGES (for the ATS device
 * only) and COMPLETION_WAIT, so the unmap is done at
 * max(at + INV + INV + WAIT, now + L); the ATS TLB hears exactly the
 * unmapped page. The same with L = 0 is the command time alone.
 */
void test_amdvi_ats_flush(void)
{
    const sim_tick_t lats[2] = { 0, 5000000 };

    for (int k = 0; k < 2; k++) {
        struct sim s;
        struct amdvi v;
        struct iommu_domain *d;
        struct iommu *ats, *plain;
        struct devtlb t;
        char err[256] = "";
        sim_tick_t done, at = 1000;
        sim_tick_t cmds = at + 2 * (sim_tick_t)INV + WAIT;

        make(&s, &v, false, false);
        CU_ASSERT_EQUAL_FATAL(amdvi_domain_get(&v, 2, &d, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL_FATAL(amdvi_attach(&v, 0, 2, &ats, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL_FATAL(amdvi_attach(&v, 1, 2, &plain, err, sizeof(err)), 0);
        memset(&t, 0, sizeof(t));
        t.n.notify = devtlb_cb;
        t.n.flags = IOMMU_NOTIFIER_DEVIOTLB_UNMAP;
        t.n.end = UINT64_MAX;
        t.n.latency = lats[k];
        CU_ASSERT_EQUAL_FATAL(iommu_notifier_register(ats, &t.n, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL(iommu_domain_map(d, 0x7000, 0x9000, 0x1000, IOMMU_RW, at, &done), 0);
        CU_ASSERT_EQUAL(iommu_domain_unmap(d, 0x7000, 0x1000, 0, at, &done), 0);
        CU_ASSERT_EQUAL(done, cmds > lats[k] ? cmds : lats[k]);
        CU_ASSERT_EQUAL(v.st.cmds[AMDVI_CMD_INV_IOTLB_PAGES], 1);
        CU_ASSERT_EQUAL(v.st.cmds[AMDVI_CMD_INV_IOMMU_PAGES], 1);
        CU_ASSERT_EQUAL(t.events, 1);
        CU_ASSERT_EQUAL(t.iova, 0x7000);
        CU_ASSERT_EQUAL(t.mask, 0xfff);
        iommu_notifier_unregister(ats, &t.n);
        amdvi_destroy(&v);
        sim_destroy(&s);
    }
}

static void set(const struct sim_model *m, const char **texts, const char *name,
                const char *val)
{
    int i = sim_model_param_index(m, name);

    CU_ASSERT_FATAL(i >= 0);
    texts[i] = val;
}

static double readout(const struct sim_object *o, const char *name)
{
    for (unsigned i = 0; i < o->model->nreadouts; i++)
        if (strcmp(o->model->readouts[i].name, name) == 0)
            return o->model->ops->read(o, i);
    CU_FAIL("no such readout");
    return -1;
}

/*
 * The AmdViIOMMU object under a NIC whose driver maps and unmaps every
 * packet (strict) on an IOMMU with NpCache: the OS layer drives it through
 * the domain ops, the driver flushes after every map and after every
 * unmap, so INVALIDATE_IOMMU_PAGES commands = maps + unmaps, each followed
 * by one COMPLETION_WAIT; every request is translated without a fault.
 * A lazy policy is made strict by the domain (NpCache), so the same holds.
 */
void test_amdvi_object_nic_strict(void)
{
    for (int lazy = 0; lazy < 2; lazy++) {
        struct sim_world w;
        char err[512] = "";
        const char *a[16] = { 0 }, *d[64] = { 0 };
        struct sim_object *mmu, *nic;
        double maps, unmaps;

        sim_world_init(&w, 1);
        CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, &mem_model_memory, "sys.mem", NULL, err,
                                            sizeof(err)), 0);
        CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, &iommu_model_iotlb, "sys.iotlb", NULL, err,
                                            sizeof(err)), 0);
        set(&amdvi_model_object, a, "iotlb", "sys.iotlb");
        set(&amdvi_model_object, a, "npcache", "true");
        set(&amdvi_model_object, a, "skip_levels", "true");
        if (sim_world_add(&w, &amdvi_model_object, "sys.iommu", a, err, sizeof(err)))
            fprintf(stderr, "%s\n", err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(mmu = sim_world_find(&w, "sys.iommu"));
        set(&dev_model_dma_device, d, "iommu", "sys.iommu");
        set(&dev_model_dma_device, d, "memory", "sys.mem");
        set(&dev_model_dma_device, d, "requester_id", "3");
        set(&dev_model_dma_device, d, "pattern", "nic");
        set(&dev_model_dma_device, d, "line_rate", "10Gbps");
        set(&dev_model_dma_device, d, "policy", lazy ? "lazy" : "strict");
        if (sim_world_add(&w, &dev_model_dma_device, "sys.nic", d, err, sizeof(err)))
            fprintf(stderr, "%s\n", err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(nic = sim_world_find(&w, "sys.nic"));
        CU_ASSERT_EQUAL_FATAL(sim_world_start(&w, err, sizeof(err)), 0);
        sim_run_until(&w.sim, 50 * SIM_TICKS_PER_US, 0);

        maps = readout(mmu, "maps");
        unmaps = readout(mmu, "unmaps");
        CU_ASSERT(maps > 10);
        CU_ASSERT(unmaps > 10);
        CU_ASSERT_EQUAL(readout(mmu, "cmd_inv_pages"), maps + unmaps);
        CU_ASSERT_EQUAL(readout(mmu, "cmd_completion_wait"), maps + unmaps);
        CU_ASSERT_EQUAL(readout(mmu, "map_flushes"), maps);
        CU_ASSERT(readout(mmu, "translations") > 0);
        CU_ASSERT_EQUAL(readout(mmu, "faults"), 0);
        CU_ASSERT_EQUAL(readout(nic, "errors"), 0);
        CU_ASSERT(readout(nic, "completed") > 0);
        sim_world_destroy(&w);
    }
}
