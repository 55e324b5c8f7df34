/*
 * test_tz_mpc.c - the TrustZone MPC model (src/iommu/models/tz_mpc.h) and
 * its TzMpc object.
 *
 * The guarded memory in the model-level tests: 16 blocks of 4 KiB at
 * BASE, every block secure at reset. Expected answers follow from the
 * SIE-200 rule (a transaction passes only to blocks of its own world) and
 * from B12 (a LUT change sends one UNMAP per changed block on each index,
 * never a MAP).
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "dev/dev_object.h"
#include "engine/error.h"
#include "iommu/domain.h"
#include "iommu/models/tz_mpc.h"
#include "mem/mem_object.h"

void test_tz_mpc_secure_vs_nonsecure(void);
void test_tz_mpc_change_unmaps_both_indexes(void);
void test_tz_mpc_blocked_counting(void);
void test_tz_mpc_raz_wi_vs_bus_error(void);
void test_tz_mpc_domain_ops(void);
void test_tz_mpc_masters_mid_run_change(void);

#define BASE UINT64_C(0x100000)
#define BS UINT64_C(4096)
#define NBLK 16

static void mpc_make(struct sim *s, struct tz_mpc *m, bool bus_error, sim_tick_t lat)
{
    struct tz_mpc_cfg c = { .base = BASE, .size = NBLK * BS, .block_size = BS,
                            .bus_error = bus_error, .lookup_latency = lat, .path = "mpc" };
    char err[256];

    sim_init(s);
    CU_ASSERT_EQUAL_FATAL(tz_mpc_init(m, s, &c, err, sizeof(err)), 0);
}

static void mpc_free(struct sim *s, struct tz_mpc *m)
{
    tz_mpc_destroy(m);
    sim_destroy(s);
}

/* --- timed requests ------------------------------------------------------------ */

struct rq {
    struct iommu_req r;
    int done;
};

static void rq_done(struct iommu_req *r)
{
    ((struct rq *)r)->done++;
}

/* One timed request for @addr with @secure (or no attributes); run to completion. */
static struct rq issue(struct sim *s, struct tz_mpc *m, uint64_t addr, int secure,
                       bool write)
{
    struct rq q;

    memset(&q, 0, sizeof(q));
    q.r.iova = addr;
    q.r.access = write ? IOMMU_WO : IOMMU_RO;
    q.r.attrs.is_write = write;
    if (secure < 0)
        q.r.attrs.unspecified = true;
    else
        q.r.attrs.secure = secure;
    q.r.done = rq_done;
    CU_ASSERT_EQUAL(iommu_translate_timed(&m->mmu, &q.r), 0);
    sim_run(s);
    CU_ASSERT_EQUAL(q.done, 1);
    return q;
}

/* The same address, secure and non-secure: different answers; unspecified
 * attributes count as secure (QEMU's rule, so reset-time loads pass). */
void test_tz_mpc_secure_vs_nonsecure(void)
{
    struct sim s;
    struct tz_mpc m;
    struct iommu_attrs a = { 0 };
    uint64_t ns_addr = BASE + 2 * BS + 0x123, s_addr = BASE + 5 * BS + 8;
    struct iommu_tlb_entry e;
    struct rq q;

    mpc_make(&s, &m, true, 0);
    CU_ASSERT_EQUAL(iommu_num_indexes(&m.mmu), 2);
    a.secure = true;
    CU_ASSERT_EQUAL(iommu_attrs_to_index(&m.mmu, &a), TZ_MPC_IDX_S);
    a.secure = false;
    CU_ASSERT_EQUAL(iommu_attrs_to_index(&m.mmu, &a), TZ_MPC_IDX_NS);
    a.unspecified = true;
    CU_ASSERT_EQUAL(iommu_attrs_to_index(&m.mmu, &a), TZ_MPC_IDX_S);
    CU_ASSERT_EQUAL(iommu_get_min_page_size(&m.mmu), BS);

    CU_ASSERT_EQUAL(tz_mpc_lut_set(&m, BASE + 2 * BS, BS, true, NULL, NULL), 0);

    /* Functional answers: identity for the owner, blocked for the other. */
    e = iommu_translate(&m.mmu, ns_addr, IOMMU_RO, TZ_MPC_IDX_NS);
    CU_ASSERT_EQUAL(e.perm, IOMMU_RW);
    CU_ASSERT_EQUAL(e.iova, BASE + 2 * BS);
    CU_ASSERT_EQUAL(e.translated_addr, BASE + 2 * BS);
    CU_ASSERT_EQUAL(e.addr_mask, BS - 1);
    CU_ASSERT_PTR_NULL(e.target);
    e = iommu_translate(&m.mmu, ns_addr, IOMMU_RO, TZ_MPC_IDX_S);
    CU_ASSERT_EQUAL(e.perm, IOMMU_NONE);
    e = iommu_translate(&m.mmu, s_addr, IOMMU_WO, TZ_MPC_IDX_S);
    CU_ASSERT_EQUAL(e.perm, IOMMU_RW);
    e = iommu_translate(&m.mmu, s_addr, IOMMU_WO, TZ_MPC_IDX_NS);
    CU_ASSERT_EQUAL(e.perm, IOMMU_NONE);

    /* Timed, through the attributes: the same address, opposite outcomes. */
    q = issue(&s, &m, ns_addr, 0, false);
    CU_ASSERT_EQUAL(q.r.status, 0);
    CU_ASSERT_EQUAL(q.r.entry.translated_addr | (ns_addr & (BS - 1)), ns_addr);
    q = issue(&s, &m, ns_addr, 1, false);
    CU_ASSERT_EQUAL(q.r.status, SIM_EFAULT);
    q = issue(&s, &m, ns_addr, -1, false);
    CU_ASSERT_EQUAL(q.r.status, SIM_EFAULT);     /* unspecified = secure */
    q = issue(&s, &m, s_addr, -1, true);
    CU_ASSERT_EQUAL(q.r.status, 0);
    q = issue(&s, &m, s_addr, 0, true);
    CU_ASSERT_EQUAL(q.r.status, SIM_EFAULT);
    /* Outside the guarded memory: no memory, for both worlds. */
    q = issue(&s, &m, BASE + NBLK * BS, 1, false);
    CU_ASSERT_EQUAL(q.r.status, SIM_EFAULT);
    CU_ASSERT_EQUAL(m.st.decode_errors, 1);
    mpc_free(&s, &m);
}

/* --- notifiers ------------------------------------------------------------------- */

struct rec {
    struct iommu_notifier n;
    unsigned count, maps;
    uint64_t iova[8];
};

static void rec_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct rec *r = (struct rec *)n;

    if (ev->type == IOMMU_NOTIFIER_MAP)
        r->maps++;
    CU_ASSERT_EQUAL(ev->entry.perm, IOMMU_NONE);
    CU_ASSERT_EQUAL(ev->entry.addr_mask, BS - 1);
    if (r->count < 8)
        r->iova[r->count] = ev->entry.iova;
    r->count++;
}

static void rec_init(struct rec *r, unsigned flags, unsigned idx, uint64_t start, uint64_t end,
                     sim_tick_t latency)
{
    memset(r, 0, sizeof(*r));
    r->n.notify = rec_notify;
    r->n.flags = flags;
    r->n.start = start;
    r->n.end = end;
    r->n.iommu_idx = idx;
    r->n.latency = latency;
}

/* A LUT write over blocks 3..6 where block 4 is already non-secure: the
 * three changed blocks (3, 5, 6) each send one UNMAP on each index and
 * nothing else; MAP notifiers are refused and leave nothing registered. */
void test_tz_mpc_change_unmaps_both_indexes(void)
{
    struct sim s;
    struct tz_mpc m;
    struct rec rs, rns, part, mapn;
    uint64_t changed = 0, fanouts;
    sim_tick_t done = 0;
    char err[256] = "";

    mpc_make(&s, &m, false, 0);
    CU_ASSERT_EQUAL(tz_mpc_lut_set(&m, BASE + 4 * BS, BS, true, &changed, NULL), 0);
    CU_ASSERT_EQUAL(changed, 1);    /* no notifier yet: nothing delivered */
    fanouts = m.mmu.st.events[0];
    CU_ASSERT_EQUAL(fanouts, 2);

    rec_init(&rs, IOMMU_NOTIFIER_UNMAP, TZ_MPC_IDX_S, 0, UINT64_MAX, 100);
    rec_init(&rns, IOMMU_NOTIFIER_UNMAP, TZ_MPC_IDX_NS, 0, UINT64_MAX, 250);
    /* A notifier over block 6 only (index NS) sees only that block's event. */
    rec_init(&part, IOMMU_NOTIFIER_UNMAP, TZ_MPC_IDX_NS, BASE + 6 * BS, BASE + 7 * BS - 1, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&m.mmu, &rs.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&m.mmu, &rns.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&m.mmu, &part.n, err, sizeof(err)), 0);
    rec_init(&mapn, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, TZ_MPC_IDX_S, 0, UINT64_MAX, 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(&m.mmu, &mapn.n, err, sizeof(err)), SIM_EREFUSED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "MAP"));
    CU_ASSERT_EQUAL(m.mmu.notify_flags, IOMMU_NOTIFIER_UNMAP);

    CU_ASSERT_EQUAL(tz_mpc_lut_set(&m, BASE + 3 * BS, 4 * BS, true, &changed, &done), 0);
    CU_ASSERT_EQUAL(changed, 3);
    CU_ASSERT_EQUAL(rs.count, 3);
    CU_ASSERT_EQUAL(rns.count, 3);
    CU_ASSERT_EQUAL(rs.iova[0], BASE + 3 * BS);
    CU_ASSERT_EQUAL(rs.iova[1], BASE + 5 * BS);
    CU_ASSERT_EQUAL(rs.iova[2], BASE + 6 * BS);
    CU_ASSERT_EQUAL(rns.iova[0], BASE + 3 * BS);
    CU_ASSERT_EQUAL(rns.iova[2], BASE + 6 * BS);
    CU_ASSERT_EQUAL(part.count, 1);
    CU_ASSERT_EQUAL(part.iova[0], BASE + 6 * BS);
    CU_ASSERT_EQUAL(rs.maps + rns.maps + part.maps + mapn.count, 0);
    /* UNMAP fan-outs: 3 blocks x 2 indexes, after the first change's 2 */
    CU_ASSERT_EQUAL(m.mmu.st.events[0] - fanouts, 6);
    CU_ASSERT_EQUAL(m.mmu.st.events[1], 0);  /* MAP: none, ever */
    CU_ASSERT_EQUAL(m.st.unmap_events, 8);
    /* Events are handled in parallel (no serialising resource): the change is
     * done when the slowest user has done its last one, 250 ps after now. */
    CU_ASSERT_EQUAL(done, 250);
    /* Writing what is there already changes nothing and says nothing. */
    CU_ASSERT_EQUAL(tz_mpc_lut_set(&m, BASE + 3 * BS, 4 * BS, true, &changed, NULL), 0);
    CU_ASSERT_EQUAL(changed, 0);
    CU_ASSERT_EQUAL(rs.count, 3);
    /* And back: the same three plus block 4 now. */
    CU_ASSERT_EQUAL(tz_mpc_lut_set(&m, BASE + 3 * BS, 4 * BS, false, &changed, NULL), 0);
    CU_ASSERT_EQUAL(changed, 4);
    CU_ASSERT_EQUAL(rs.count, 7);
    CU_ASSERT_EQUAL(rns.count, 7);
    CU_ASSERT_EQUAL(m.mmu.st.events[1], 0);
    /* Bad ranges change nothing. */
    CU_ASSERT_EQUAL(tz_mpc_lut_set(&m, BASE + 1, BS, true, NULL, NULL), SIM_EINVAL);
    CU_ASSERT_EQUAL(tz_mpc_lut_set(&m, BASE + 15 * BS, 2 * BS, true, NULL, NULL), SIM_ERANGE);
    CU_ASSERT_EQUAL(tz_mpc_ns_blocks(&m), 0);
    mpc_free(&s, &m);
}

/* Blocks 0..7 non-secure, 8..15 secure; each world reads and writes each
 * block once, so per world 8 blocks x 2 accesses are allowed and 8 x 2
 * blocked. Every request completes lookup_latency after it was issued. */
void test_tz_mpc_blocked_counting(void)
{
    struct sim s;
    struct tz_mpc m;
    const sim_tick_t lat = 7000;

    mpc_make(&s, &m, false, lat);
    CU_ASSERT_EQUAL(tz_mpc_lut_set(&m, BASE, 8 * BS, true, NULL, NULL), 0);
    for (int sec = 0; sec < 2; sec++)
        for (unsigned b = 0; b < NBLK; b++)
            for (int w = 0; w < 2; w++) {
                sim_tick_t t0 = sim_now(&s);
                struct rq q = issue(&s, &m, BASE + b * BS + 64 * (unsigned)w, sec, w);

                CU_ASSERT_EQUAL(q.r.completed - t0, lat);
                CU_ASSERT_EQUAL(q.r.status, 0);      /* RAZ/WI: never an error */
            }
    CU_ASSERT_EQUAL(m.st.allowed[TZ_MPC_IDX_S], 16);
    CU_ASSERT_EQUAL(m.st.blocked[TZ_MPC_IDX_S], 16);
    CU_ASSERT_EQUAL(m.st.allowed[TZ_MPC_IDX_NS], 16);
    CU_ASSERT_EQUAL(m.st.blocked[TZ_MPC_IDX_NS], 16);
    CU_ASSERT_EQUAL(m.st.raz_wi, 32);
    CU_ASSERT_EQUAL(m.st.bus_errors, 0);
    CU_ASSERT_EQUAL(m.mmu.st.timed, 64);
    CU_ASSERT_EQUAL(m.mmu.st.timed_faults, 0);
    mpc_free(&s, &m);
}

/* The same blocked access under both responses: RAZ/WI completes without
 * error and names the blocked sink (not memory) as its target; a bus error
 * fails the request. Allowed accesses are the same under both. */
void test_tz_mpc_raz_wi_vs_bus_error(void)
{
    for (int be = 0; be < 2; be++) {
        struct sim s;
        struct tz_mpc m;
        struct rq q;

        mpc_make(&s, &m, be, 0);
        q = issue(&s, &m, BASE + 3 * BS, 0, true);          /* NS write, secure block */
        if (be) {
            CU_ASSERT_EQUAL(q.r.status, SIM_EFAULT);
            CU_ASSERT_EQUAL(q.r.entry.perm, IOMMU_NONE);
            CU_ASSERT_EQUAL(m.st.bus_errors, 1);
            CU_ASSERT_EQUAL(m.st.raz_wi, 0);
        } else {
            CU_ASSERT_EQUAL(q.r.status, 0);
            CU_ASSERT_EQUAL(q.r.entry.perm, IOMMU_RW);
            CU_ASSERT_PTR_EQUAL(q.r.entry.target, &m.blocked);
            CU_ASSERT_EQUAL(m.st.raz_wi, 1);
            CU_ASSERT_EQUAL(m.st.bus_errors, 0);
        }
        CU_ASSERT_EQUAL(m.st.blocked[TZ_MPC_IDX_NS], 1);
        q = issue(&s, &m, BASE + 3 * BS, 1, true);          /* secure write: allowed */
        CU_ASSERT_EQUAL(q.r.status, 0);
        CU_ASSERT_PTR_NULL(q.r.entry.target);
        CU_ASSERT_EQUAL(m.st.allowed[TZ_MPC_IDX_S], 1);
        mpc_free(&s, &m);
    }
}

/* --- the TzMpc object: domain ops and masters ----------------------------------- */

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

static int add_mpc(struct sim_world *w, const char *const *extra, char *err, size_t errlen)
{
    const char *t[16] = { 0 };

    set(&tz_mpc_model_object, t, "base", "1MiB");
    set(&tz_mpc_model_object, t, "size", "64KiB");
    for (; extra && extra[0]; extra += 2)
        set(&tz_mpc_model_object, t, extra[0], extra[1]);
    return sim_world_add(w, &tz_mpc_model_object, "sys.mpc", t, err, errlen);
}

/* Domain 0 is the secure world, 1 the non-secure one; map gives blocks to a
 * world, unmap takes them away (to the other), lookup says whose they are. */
void test_tz_mpc_domain_ops(void)
{
    struct sim_world w;
    struct iommu_domain *d0, *d1, *dx;
    struct iommu *as0, *as1;
    struct rec r0, r1;
    sim_tick_t done = 0;
    char err[512] = "";
    struct sim_object *o;

    sim_world_init(&w, 1);
    CU_ASSERT_EQUAL_FATAL(add_mpc(&w, NULL, err, sizeof(err)), 0);
    o = sim_world_find(&w, "sys.mpc");
    CU_ASSERT_PTR_NOT_NULL_FATAL(iommu_object_ops_of(o));
    CU_ASSERT_EQUAL_FATAL(iommu_object_domain(o, 0, &d0, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(iommu_object_domain(o, 1, &d1, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_object_domain(o, 2, &dx, err, sizeof(err)), SIM_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "domain"));
    CU_ASSERT(d0->flags & IOMMU_DOMAIN_IDENTITY);
    CU_ASSERT_EQUAL(d0->pgsize_bitmap, BS);
    CU_ASSERT_EQUAL(d0->addr_bits, 21);     /* 1 MiB + 64 KiB < 2^21 */
    /* Every master sees the one address space. */
    CU_ASSERT_EQUAL(iommu_object_attach(o, 3, 0, &as0, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_object_attach(o, 4, 1, &as1, err, sizeof(err)), 0);
    CU_ASSERT_PTR_EQUAL(as0, as1);
    rec_init(&r0, IOMMU_NOTIFIER_UNMAP, TZ_MPC_IDX_S, 0, UINT64_MAX, 0);
    rec_init(&r1, IOMMU_NOTIFIER_UNMAP, TZ_MPC_IDX_NS, 0, UINT64_MAX, 500);
    CU_ASSERT_EQUAL(iommu_notifier_register(as0, &r0.n, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(iommu_notifier_register(as0, &r1.n, err, sizeof(err)), 0);

    /* Reset: all secure. */
    CU_ASSERT_EQUAL(iommu_domain_lookup(d0, 0x100000).perm, IOMMU_RW);
    CU_ASSERT_EQUAL(iommu_domain_lookup(d1, 0x100000).perm, IOMMU_NONE);
    CU_ASSERT_EQUAL(iommu_domain_map(d0, 0x100000, 0x100000, BS, IOMMU_RW, 0, &done),
                    SIM_EEXIST);
    /* Two blocks to the non-secure world: two UNMAPs per index. */
    CU_ASSERT_EQUAL(iommu_domain_map(d1, 0x102000, 0x102000, 2 * BS, IOMMU_RO, 1000, &done), 0);
    CU_ASSERT_EQUAL(done, 1000);    /* now (0) + 500 < at: the work ends at `at` */
    CU_ASSERT_EQUAL(r0.count, 2);
    CU_ASSERT_EQUAL(r1.count, 2);
    CU_ASSERT_EQUAL(iommu_domain_lookup(d1, 0x103fff).perm, IOMMU_RW);
    CU_ASSERT_EQUAL(iommu_domain_lookup(d0, 0x103fff).perm, IOMMU_NONE);
    CU_ASSERT_EQUAL(iommu_domain_map(d1, 0x103000, 0x103000, 2 * BS, IOMMU_RW, 0, &done),
                    SIM_EEXIST);
    /* An MPC does not translate; ranges are block-aligned and inside. */
    CU_ASSERT_EQUAL(iommu_domain_map(d1, 0x108000, 0x208000, BS, IOMMU_RW, 0, &done),
                    SIM_EINVAL);
    CU_ASSERT_EQUAL(iommu_domain_map(d1, 0x108800, 0x108800, BS, IOMMU_RW, 0, &done),
                    SIM_EINVAL);
    CU_ASSERT_EQUAL(iommu_domain_map(d1, 0x10f000, 0x10f000, 2 * BS, IOMMU_RW, 0, &done),
                    SIM_ERANGE);
    /* Unmap from the non-secure world over four blocks, two of which are
     * its own: those two go back to the secure world. */
    CU_ASSERT_EQUAL(iommu_domain_unmap(d1, 0x101000, 4 * BS, 0, 0, &done), 0);
    CU_ASSERT_EQUAL(done, 500);
    CU_ASSERT_EQUAL(r0.count, 4);
    CU_ASSERT_EQUAL(r1.count, 4);
    CU_ASSERT_EQUAL(iommu_domain_unmap(d1, 0x101000, 4 * BS, 0, 0, &done), SIM_ENOENT);
    CU_ASSERT_EQUAL(readout(o, "ns_blocks"), 0);
    CU_ASSERT_EQUAL(readout(o, "blocks_changed"), 4);
    CU_ASSERT_EQUAL(readout(o, "unmap_events"), 8);
    CU_ASSERT_EQUAL(iommu_domain_flush_all(d0, 1234), 1234);
    iommu_notifier_unregister(as0, &r0.n);
    iommu_notifier_unregister(as0, &r1.n);
    sim_world_destroy(&w);
}

/* Two DmaDevice masters share the guarded memory: the secure one reads the
 * first 32 KiB (secure), the non-secure one reads the last 32 KiB, which
 * is secure until software gives it to the non-secure world at 20 us.
 * Before: every non-secure request is blocked (RAZ/WI: no device error),
 * every secure one allowed. After the change (plus the requests already
 * past the MPC), none is blocked any more. A master that asks for a
 * translating policy is refused with a one-line error. */
void test_tz_mpc_masters_mid_run_change(void)
{
    static const char *const sched[] = {
        "change_at", "20us", "change_base", "1056KiB", "change_size", "32KiB",
        "change_to", "nonsecure", NULL };
    struct sim_world w;
    char err[512] = "";
    const char *d[64] = { 0 };
    struct sim_object *mpc, *sdev, *nsdev;
    double nsb_early, nsb_mid, nsa_mid;

    sim_world_init(&w, 1);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, &mem_model_memory, "sys.mem", NULL, err,
                                        sizeof(err)), 0);
    if (add_mpc(&w, sched, err, sizeof(err)))
        fprintf(stderr, "%s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sim_world_find(&w, "sys.mpc"));
    set(&dev_model_dma_device, d, "iommu", "sys.mpc");
    set(&dev_model_dma_device, d, "memory", "sys.mem");
    set(&dev_model_dma_device, d, "policy", "passthrough");
    set(&dev_model_dma_device, d, "footprint", "32KiB");
    set(&dev_model_dma_device, d, "size", "4KiB");
    set(&dev_model_dma_device, d, "buf_base", "1MiB");
    set(&dev_model_dma_device, d, "secure", "true");
    set(&dev_model_dma_device, d, "domain", "0");
    if (sim_world_add(&w, &dev_model_dma_device, "sys.s", d, err, sizeof(err)))
        fprintf(stderr, "%s\n", err);
    set(&dev_model_dma_device, d, "buf_base", "1056KiB");
    set(&dev_model_dma_device, d, "secure", "false");
    set(&dev_model_dma_device, d, "domain", "1");
    set(&dev_model_dma_device, d, "requester_id", "1");
    set(&dev_model_dma_device, d, "policy", "lazy");
    CU_ASSERT_EQUAL(sim_world_add(&w, &dev_model_dma_device, "sys.bad", d, err, sizeof(err)),
                    SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "expected passthrough"));
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    set(&dev_model_dma_device, d, "policy", "passthrough");
    if (sim_world_add(&w, &dev_model_dma_device, "sys.ns", d, err, sizeof(err)))
        fprintf(stderr, "%s\n", err);
    mpc = sim_world_find(&w, "sys.mpc");
    sdev = sim_world_find(&w, "sys.s");
    nsdev = sim_world_find(&w, "sys.ns");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sdev);
    CU_ASSERT_PTR_NOT_NULL_FATAL(nsdev);
    CU_ASSERT_EQUAL_FATAL(sim_world_start(&w, err, sizeof(err)), 0);

    sim_run_until(&w.sim, 10 * SIM_TICKS_PER_US, 0);
    nsb_early = readout(mpc, "ns_blocked");
    CU_ASSERT(nsb_early > 0);
    CU_ASSERT_EQUAL(readout(mpc, "ns_allowed"), 0);
    CU_ASSERT(readout(mpc, "s_allowed") > 0);
    CU_ASSERT_EQUAL(readout(mpc, "s_blocked"), 0);
    CU_ASSERT_EQUAL(readout(mpc, "raz_wi"), nsb_early);
    CU_ASSERT_EQUAL(readout(nsdev, "errors"), 0);
    CU_ASSERT_EQUAL(readout(mpc, "lut_changes"), 0);

    /* Just after the change: whatever was blocked was blocked before it. */
    sim_run_until(&w.sim, 20 * SIM_TICKS_PER_US + 1, 0);
    CU_ASSERT_EQUAL(readout(mpc, "lut_changes"), 1);
    CU_ASSERT_EQUAL(readout(mpc, "blocks_changed"), 8);
    CU_ASSERT_EQUAL(readout(mpc, "ns_blocks"), 8);
    nsb_mid = readout(mpc, "ns_blocked");
    nsa_mid = readout(mpc, "ns_allowed");
    sim_run_until(&w.sim, 40 * SIM_TICKS_PER_US, 0);
    CU_ASSERT_EQUAL(readout(mpc, "ns_blocked"), nsb_mid);
    CU_ASSERT(readout(mpc, "ns_allowed") > nsa_mid);
    CU_ASSERT_EQUAL(readout(mpc, "s_blocked"), 0);
    CU_ASSERT_EQUAL(readout(sdev, "errors"), 0);
    CU_ASSERT_EQUAL(readout(mpc, "decode_errors"), 0);
    sim_world_destroy(&w);
}
