/*
 * test_virtio_iommu.c - the virtio-iommu model: request costs from the
 * parameters by hand (one round trip plus host work per kick, served one
 * at a time), exactly one MAP/UNMAP event per request and UNMAP before the
 * mapping goes (B11), aw_bits and granule enforced, boot_bypass on and off,
 * replay of exactly the present mappings, lazy UNMAPs batched into one
 * kick, the mapping tree against a brute-force reference, and a DmaDevice
 * in lazy mode using the one shared flush queue.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev/dev_object.h"
#include "engine/error.h"
#include "engine/object.h"
#include "engine/rng.h"
#include "iommu/iotlb.h"
#include "iommu/models/generic.h"
#include "iommu/models/models.h"
#include "iommu/models/virtio_iommu.h"
#include "iommu/objects.h"
#include "mem/mem_object.h"
#include "testutil.h"

void test_virtio_iommu_request_costs(void);
void test_virtio_iommu_events(void);
void test_virtio_iommu_limits(void);
void test_virtio_iommu_boot_bypass(void);
void test_virtio_iommu_replay(void);
void test_virtio_iommu_lazy_batch(void);
void test_virtio_iommu_tree_reference(void);
void test_virtio_iommu_dma_device_lazy(void);

#define US SIM_TICKS_PER_US
#define NS SIM_TICKS_PER_NS

/* Distinct costs so that a wrong one shows: RT 5 us, MAP 1 us, UNMAP 2 us,
 * ATTACH/DETACH 3 us, PROBE 4 us, a translation 100 ns. */
#define RT (5 * US)
#define MW (1 * US)
#define UW (2 * US)
#define AW (3 * US)
#define PW (4 * US)
#define XL (100 * NS)

struct venv {
    struct sim sim;
    struct virtio_iommu v;
    struct iommu_domain *dom;
    struct iommu *as;               /* endpoint 1, attached to domain 0 */
};

static void venv_init(struct venv *e, uint64_t granule, unsigned aw_bits, bool bypass,
                      bool attach)
{
    struct virtio_iommu_cfg c;
    sim_tick_t done;
    char err[200];

    sim_init(&e->sim);
    memset(&c, 0, sizeof(c));
    c.granule = granule;
    c.aw_bits = aw_bits;
    c.boot_bypass = bypass;
    c.round_trip = RT;
    c.work[VIOMMU_REQ_MAP] = MW;
    c.work[VIOMMU_REQ_UNMAP] = UW;
    c.work[VIOMMU_REQ_ATTACH] = c.work[VIOMMU_REQ_DETACH] = AW;
    c.work[VIOMMU_REQ_PROBE] = PW;
    c.xlate_latency = XL;
    c.max_domains = 4;
    c.max_endpoints = 8;
    c.path = "sys.viommu";
    CU_ASSERT_EQUAL_FATAL(virtio_iommu_create(&e->v, &e->sim, &c, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(virtio_iommu_domain(&e->v, 0, &e->dom, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(virtio_iommu_endpoint(&e->v, 1, &e->as, err, sizeof(err)), 0);
    if (attach) {
        CU_ASSERT_EQUAL(virtio_iommu_attach(&e->v, 1, 0, 0, &done), 0);
        CU_ASSERT_EQUAL(done, RT + AW);
    }
}

static void venv_free(struct venv *e)
{
    virtio_iommu_destroy(&e->v);
    sim_destroy(&e->sim);
}

/* --- Request costs ---------------------------------------------------------- */

void test_virtio_iommu_request_costs(void)
{
    struct venv e;
    sim_tick_t at = 100 * US, done, t0;
    const unsigned N = 10, K = 7;
    unsigned i;

    venv_init(&e, 4096, 48, true, true);
    /* N maps, each issued when the previous completed: RT + MW each. */
    for (i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x100000 + i * 4096ull, 0x800000 + i * 4096ull,
                                         4096, IOMMU_RW, at, &done), 0);
        CU_ASSERT_EQUAL(done - at, RT + MW);
        at = done;
    }
    /* K maps issued at the same tick: one server, so the k-th completes at
     * at + k (RT + MW). */
    t0 = at + 50 * US;
    for (i = 1; i <= K; i++) {
        CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x200000 + i * 4096ull, 0x900000 + i * 4096ull,
                                         4096, IOMMU_RW, t0, &done), 0);
        CU_ASSERT_EQUAL(done, t0 + i * (RT + MW));
    }
    CU_ASSERT_EQUAL(e.v.st.requests[VIOMMU_REQ_MAP], N + K);
    CU_ASSERT_EQUAL(e.v.st.kicks, 1 + N + K);             /* ATTACH + maps */
    /* Waits: the k-th of the K waited (k - 1)(RT + MW); the others none. */
    ASSERT_NEAR(e.v.st.wait_ticks, (double)(RT + MW) * K * (K - 1) / 2, 0);
    CU_ASSERT_EQUAL(e.v.st.wait_max, (K - 1) * (RT + MW));
    /* Mean request latency over ATTACH, N and K maps:
     * (RT + AW + N (RT + MW) + (RT + MW) K (K + 1) / 2) / (1 + N + K). */
    ASSERT_NEAR(e.v.st.req_ticks / (double)e.v.st.completed,
                ((double)(RT + AW) + N * (double)(RT + MW) +
                 (double)(RT + MW) * K * (K + 1) / 2) / (1 + N + K), 1e-6);

    /* A strict unmap is one synchronous UNMAP: RT + UW, no other wait. */
    at = t0 + K * (RT + MW);
    CU_ASSERT_EQUAL(iommu_domain_unmap(e.dom, 0x100000, 4096, 0, at, &done), 0);
    CU_ASSERT_EQUAL(done, at + RT + UW);
    /* PROBE and DETACH cost their own work. */
    at = done;
    CU_ASSERT_EQUAL(virtio_iommu_probe(&e.v, 2, at, &done), 0);
    CU_ASSERT_EQUAL(done, at + RT + PW);
    at = done;
    CU_ASSERT_EQUAL(virtio_iommu_detach(&e.v, 1, at, &done), 0);
    CU_ASSERT_EQUAL(done, at + RT + AW);
    at = done;
    CU_ASSERT_EQUAL(virtio_iommu_detach(&e.v, 1, at, &done), SIM_ENOENT);
    CU_ASSERT_EQUAL(done, at);                      /* nothing sent */
    /* Re-attaching the domain (now without endpoints) replays its N - 1 + K
     * mappings to the device in the same kick: RT + AW + (N - 1 + K) MW. */
    CU_ASSERT_EQUAL(virtio_iommu_attach(&e.v, 1, 0, at, &done), 0);
    CU_ASSERT_EQUAL(done, at + RT + AW + (N - 1 + K) * MW);
    CU_ASSERT_EQUAL(e.v.st.requests[VIOMMU_REQ_MAP], N + K + N - 1 + K);
    venv_free(&e);
}

/* --- Events ------------------------------------------------------------------ */

struct rec {
    struct iommu_notifier n;
    struct iommu *as;
    unsigned maps, unmaps;
    unsigned bad;                   /* events that saw the wrong state */
    struct iommu_event last;
};

/* At an UNMAP the mapping must still translate (B11); at a MAP it must
 * already translate to what the event says. */
static void rec_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    struct rec *r = n->opaque;
    struct iommu_tlb_entry t = iommu_translate(r->as, ev->entry.iova, IOMMU_NONE, 0);

    r->last = *ev;
    if (ev->type == IOMMU_NOTIFIER_MAP) {
        r->maps++;
        if (t.perm == IOMMU_NONE || t.translated_addr != ev->entry.translated_addr)
            r->bad++;
    } else {
        r->unmaps++;
        if (t.perm == IOMMU_NONE || ev->entry.perm != IOMMU_NONE)
            r->bad++;
    }
}

static void rec_register(struct rec *r, struct iommu *as, unsigned flags, uint64_t start,
                         uint64_t end, sim_tick_t latency)
{
    char err[200];

    memset(r, 0, sizeof(*r));
    r->as = as;
    r->n.notify = rec_notify;
    r->n.flags = flags;
    r->n.start = start;
    r->n.end = end;
    r->n.latency = latency;
    r->n.opaque = r;
    CU_ASSERT_EQUAL(iommu_notifier_register(as, &r->n, err, sizeof(err)), 0);
}

void test_virtio_iommu_events(void)
{
    struct venv e;
    struct rec all, unmap_only;
    sim_tick_t at = 100 * US, done;
    const sim_tick_t L = 3 * US;    /* the notifier user's work per event */
    const unsigned N = 6;
    unsigned i;

    venv_init(&e, 4096, 48, true, true);
    /* MAP notifiers are accepted: no caching mode needed. */
    rec_register(&all, e.as, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0, UINT64_MAX, L);
    rec_register(&unmap_only, e.as, IOMMU_NOTIFIER_UNMAP, 0, UINT64_MAX, 0);
    CU_ASSERT_EQUAL(e.as->notify_flags, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP);

    for (i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x40000 + i * 0x2000ull, 0x700000 + i * 0x2000ull,
                                         0x2000, IOMMU_RW, at, &done), 0);
        /* One MAP request, one MAP event, one 8 KiB block; the user's work
         * is inside the request (the host calls it synchronously). */
        CU_ASSERT_EQUAL(all.maps, i + 1);
        CU_ASSERT_EQUAL(all.last.entry.iova, 0x40000 + i * 0x2000ull);
        CU_ASSERT_EQUAL(all.last.entry.addr_mask, 0x1fff);
        CU_ASSERT_EQUAL(all.last.entry.perm, IOMMU_RW);
        CU_ASSERT_EQUAL(done, at + RT + MW + L);
        at = done;
    }
    for (i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(iommu_domain_unmap(e.dom, 0x40000 + i * 0x2000ull, 0x2000, 0, at, &done), 0);
        CU_ASSERT_EQUAL(all.unmaps, i + 1);
        CU_ASSERT_EQUAL(unmap_only.unmaps, i + 1);
        CU_ASSERT_EQUAL(all.last.type, IOMMU_NOTIFIER_UNMAP);
        CU_ASSERT_EQUAL(all.last.entry.addr_mask, 0x1fff);
        CU_ASSERT_EQUAL(done, at + RT + UW + L);
        /* Gone afterwards. */
        CU_ASSERT_EQUAL(iommu_translate(e.as, 0x40000 + i * 0x2000ull, IOMMU_NONE, 0).perm,
                        IOMMU_NONE);
        at = done;
    }
    CU_ASSERT_EQUAL(all.maps, N);
    CU_ASSERT_EQUAL(unmap_only.maps, 0);
    CU_ASSERT_EQUAL(all.bad, 0);
    CU_ASSERT_EQUAL(unmap_only.bad, 0);
    CU_ASSERT_EQUAL(e.v.st.map_events, N);
    CU_ASSERT_EQUAL(e.v.st.unmap_events, N);

    /* A 12 KiB range is not one power-of-two block: it is announced as
     * the aligned blocks that tile it, 8 KiB at 0x80000 then 4 KiB. */
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x80000, 0x100000, 0x3000, IOMMU_RO, at, &done), 0);
    CU_ASSERT_EQUAL(all.maps, N + 2);
    CU_ASSERT_EQUAL(all.last.entry.iova, 0x82000);
    CU_ASSERT_EQUAL(all.last.entry.translated_addr, 0x102000);
    CU_ASSERT_EQUAL(all.last.entry.addr_mask, 0xfff);
    /* Two events, one request; a user without a serialise resource
     * handles them in parallel (iommu.h), so its work adds L once. */
    CU_ASSERT_EQUAL(done - at, RT + MW + L);
    iommu_notifier_unregister(e.as, &all.n);
    iommu_notifier_unregister(e.as, &unmap_only.n);
    venv_free(&e);
}

/* --- Limits ------------------------------------------------------------------ */

void test_virtio_iommu_limits(void)
{
    struct venv e;
    sim_tick_t done;
    unsigned aw = 0;
    uint64_t bm = 0;
    uint64_t kicks;

    /* aw_bits = 32: the last page below 4 GiB maps, nothing at or past it. */
    venv_init(&e, 4096, 32, true, true);
    kicks = e.v.st.kicks;
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0xfffff000, 0x1000, 4096, IOMMU_RW, 0, &done), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, UINT64_C(1) << 32, 0x1000, 4096, IOMMU_RW, 0,
                                     &done), SIM_ERANGE);
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0xffffe000, 0x1000, 0x3000, IOMMU_RW, 0, &done),
                    SIM_ERANGE);
    CU_ASSERT_EQUAL(e.v.st.kicks, kicks + 1);   /* refused maps send nothing */
    CU_ASSERT_EQUAL(iommu_get_attr(e.as, IOMMU_ATTR_ADDR_WIDTH, &aw), 0);
    CU_ASSERT_EQUAL(aw, 32);
    CU_ASSERT_EQUAL(e.dom->addr_bits, 32);
    CU_ASSERT_EQUAL(e.dom->flags & IOMMU_DOMAIN_SINGLE_FQ, IOMMU_DOMAIN_SINGLE_FQ);
    CU_ASSERT_EQUAL(iommu_get_attr(e.as, IOMMU_ATTR_CACHING_MODE, &aw), SIM_EINVAL);
    /* Overlap, partial unmap (not split, nothing removed), holes. */
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x10000, 0x1000, 0x4000, IOMMU_RW, 0, &done), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x13000, 0x1000, 0x1000, IOMMU_RW, 0, &done),
                    SIM_EEXIST);
    CU_ASSERT_EQUAL(iommu_domain_unmap(e.dom, 0x11000, 0x1000, 0, 0, &done), SIM_EINVAL);
    CU_ASSERT_EQUAL(iommu_domain_unmap(e.dom, 0xf000, 0x2000, 0, 0, &done), SIM_EINVAL);
    CU_ASSERT_EQUAL(iommu_domain_lookup(e.dom, 0x11000).perm, IOMMU_RW);
    CU_ASSERT_EQUAL(iommu_domain_lookup(e.dom, 0x11000).translated_addr, 0x2000);
    CU_ASSERT_EQUAL(iommu_domain_unmap(e.dom, 0x20000, 0x1000, 0, 0, &done), SIM_ENOENT);
    /* One UNMAP covering two mappings and a hole removes both. */
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x18000, 0x9000, 0x1000, IOMMU_RO, 0, &done), 0);
    CU_ASSERT_EQUAL(iommu_domain_unmap(e.dom, 0x10000, 0x10000, 0, 0, &done), 0);
    CU_ASSERT_EQUAL(e.v.dom[0].tree.count, 1);                  /* 0xfffff000 only */
    venv_free(&e);

    /* granule 64 KiB: maps must be 64 KiB aligned in iova, pa and size. */
    venv_init(&e, 65536, 48, true, true);
    CU_ASSERT_EQUAL(iommu_get_min_page_size(e.as), 65536);
    CU_ASSERT_EQUAL(iommu_get_attr(e.as, IOMMU_ATTR_PGSIZE_BITMAP, &bm), 0);
    CU_ASSERT_EQUAL(bm, ~UINT64_C(0xffff) & ((UINT64_C(1) << 48) - 1));
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x1000, 0, 65536, IOMMU_RW, 0, &done), SIM_EINVAL);
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x10000, 0x1000, 65536, IOMMU_RW, 0, &done),
                    SIM_EINVAL);
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x10000, 0, 4096, IOMMU_RW, 0, &done), SIM_EINVAL);
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x10000, 0x30000, 65536, IOMMU_RW, 0, &done), 0);
    /* A translation's entry is one granule. */
    CU_ASSERT_EQUAL(iommu_translate(e.as, 0x1abcd, IOMMU_RO, 0).iova, 0x10000);
    CU_ASSERT_EQUAL(iommu_translate(e.as, 0x1abcd, IOMMU_RO, 0).addr_mask, 0xffff);
    CU_ASSERT_EQUAL(iommu_translate(e.as, 0x1abcd, IOMMU_RO, 0).translated_addr, 0x30000);
    venv_free(&e);

    /* aw_bits = 64: the top page maps and its events do not wrap. */
    venv_init(&e, 4096, 64, true, true);
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, UINT64_MAX - 0xfff, 0x1000, 4096, IOMMU_RW, 0,
                                     &done), 0);
    CU_ASSERT_EQUAL(iommu_translate(e.as, UINT64_MAX, IOMMU_RW, 0).translated_addr, 0x1000);
    CU_ASSERT_EQUAL(iommu_domain_unmap(e.dom, UINT64_MAX - 0xfff, 4096, 0, 0, &done), 0);
    CU_ASSERT_EQUAL(e.v.st.map_events, 1);
    CU_ASSERT_EQUAL(e.v.st.unmap_events, 1);
    venv_free(&e);
}

/* --- boot_bypass ---------------------------------------------------------------- */

struct treq {
    struct iommu_req r;
    int status;
    uint64_t out;
    sim_tick_t at;
};

static void treq_done(struct iommu_req *req)
{
    struct treq *t = (struct treq *)req;

    t->status = req->status;
    t->out = req->entry.translated_addr;
    t->at = req->completed;
}

static struct treq timed(struct venv *e, uint64_t iova)
{
    struct treq t;

    memset(&t, 0, sizeof(t));
    t.status = 1;
    t.r.iova = iova;
    t.r.access = IOMMU_WO;
    t.r.done = treq_done;
    CU_ASSERT_EQUAL(iommu_translate_timed(e->as, &t.r), 0);
    sim_run(&e->sim);
    return t;
}

void test_virtio_iommu_boot_bypass(void)
{
    struct venv e;
    struct treq t;
    sim_tick_t done;

    for (int bypass = 0; bypass <= 1; bypass++) {
        venv_init(&e, 4096, 48, bypass, false);
        /* Unattached: identity with bypass, a fault without. */
        t = timed(&e, 0x123456);
        CU_ASSERT_EQUAL(t.at, XL);
        if (bypass) {
            CU_ASSERT_EQUAL(t.status, 0);
            CU_ASSERT_EQUAL(t.out, 0x123000);
            CU_ASSERT_EQUAL(e.v.st.bypassed, 1);
            CU_ASSERT_EQUAL(e.v.st.faults, 0);
        } else {
            CU_ASSERT_EQUAL(t.status, SIM_EFAULT);
            CU_ASSERT_EQUAL(e.v.st.unattached_faults, 1);
            CU_ASSERT_EQUAL(e.v.st.faults, 1);
        }
        /* Attached: only what is mapped, whatever boot_bypass says. */
        CU_ASSERT_EQUAL(virtio_iommu_attach(&e.v, 1, 0, 0, &done), 0);
        CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x5000, 0x9000, 4096, IOMMU_RW, 0, &done), 0);
        t = timed(&e, 0x123456);
        CU_ASSERT_EQUAL(t.status, SIM_EFAULT);
        t = timed(&e, 0x5010);
        CU_ASSERT_EQUAL(t.status, 0);
        CU_ASSERT_EQUAL(t.out, 0x9000);
        /* Detached: boot_bypass again. */
        CU_ASSERT_EQUAL(virtio_iommu_detach(&e.v, 1, done, &done), 0);
        t = timed(&e, 0x123456);
        CU_ASSERT_EQUAL(t.status, bypass ? 0 : SIM_EFAULT);
        CU_ASSERT_EQUAL(e.v.st.translations, 4);
        CU_ASSERT_EQUAL(e.v.st.bypassed, bypass ? 2 : 0);
        CU_ASSERT_EQUAL(e.v.st.faults, bypass ? 1 : 3);
        venv_free(&e);
    }
}

/* --- Replay --------------------------------------------------------------------- */

void test_virtio_iommu_replay(void)
{
    struct venv e;
    struct rec in, other;
    sim_tick_t done;
    /* M = 5 mappings of power-of-two aligned sizes inside [0, 16 MiB), and
     * one far outside the notifier's range. */
    static const uint64_t iova[] = { 0x1000, 0x4000, 0x10000, 0x200000, 0x800000 };
    static const uint64_t size[] = { 0x1000, 0x2000, 0x10000, 0x200000, 0x1000 };
    const unsigned M = 5;

    venv_init(&e, 4096, 48, true, true);
    for (unsigned i = 0; i < M; i++)
        CU_ASSERT_EQUAL(iommu_domain_map(e.dom, iova[i], 0x40000000 + iova[i], size[i],
                                         IOMMU_RW, 0, &done), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, UINT64_C(1) << 40, 0, 4096, IOMMU_RW, 0, &done), 0);
    rec_register(&in, e.as, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0, 0xffffff, 0);
    rec_register(&other, e.as, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0, UINT64_MAX, 0);
    iommu_replay(e.as, &in.n);
    CU_ASSERT_EQUAL(in.maps, M);
    CU_ASSERT_EQUAL(in.unmaps, 0);
    CU_ASSERT_EQUAL(in.bad, 0);
    CU_ASSERT_EQUAL(other.maps, 0);                 /* to that notifier only */
    CU_ASSERT_EQUAL(in.last.entry.iova, 0x800000);
    CU_ASSERT_EQUAL(e.as->st.replay_translates, 0); /* the tree, not B9's walk */
    CU_ASSERT_EQUAL(e.as->st.replay_notifications, M);
    iommu_notifier_unregister(e.as, &in.n);
    iommu_notifier_unregister(e.as, &other.n);
    venv_free(&e);
}

/* --- Lazy: UNMAPs queued without a kick, one kick for the batch ---------------- */

void test_virtio_iommu_lazy_batch(void)
{
    struct venv e;
    sim_tick_t at = 1000 * US, done;
    const unsigned K = 9;
    uint64_t kicks;

    venv_init(&e, 4096, 48, true, true);
    for (unsigned i = 0; i < K; i++)
        CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x10000 + i * 4096ull, 0x10000 + i * 4096ull,
                                         4096, IOMMU_RW, 0, &done), 0);
    /* An empty flush costs nothing on the device side. */
    CU_ASSERT_EQUAL(iommu_domain_flush_all(e.dom, at), at);
    CU_ASSERT_EQUAL(e.v.st.empty_flushes, 1);
    kicks = e.v.st.kicks;
    for (unsigned i = 0; i < K; i++) {
        CU_ASSERT_EQUAL(iommu_domain_unmap(e.dom, 0x10000 + i * 4096ull, 4096,
                                           IOMMU_UNMAP_DEFER_FLUSH, at, &done), 0);
        CU_ASSERT_EQUAL(done, at);
        /* Removed (and announced) at once, B11; not yet sent. */
        CU_ASSERT_EQUAL(iommu_domain_lookup(e.dom, 0x10000 + i * 4096ull).perm, IOMMU_NONE);
    }
    CU_ASSERT_EQUAL(e.v.st.kicks, kicks);
    CU_ASSERT_EQUAL(e.v.st.unmap_events, K);
    /* The flush kicks once: RT + K UW. */
    CU_ASSERT_EQUAL(iommu_domain_flush_all(e.dom, at), at + RT + K * UW);
    CU_ASSERT_EQUAL(e.v.st.kicks, kicks + 1);
    CU_ASSERT_EQUAL(e.v.st.deferred_unmaps, K);
    CU_ASSERT_EQUAL(e.v.st.requests[VIOMMU_REQ_UNMAP], K);
    /* Queued UNMAPs also go with the next synchronous request's kick. */
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0x90000, 0, 4096, IOMMU_RW, 0, &done), 0);
    CU_ASSERT_EQUAL(iommu_domain_unmap(e.dom, 0x90000, 4096, IOMMU_UNMAP_DEFER_FLUSH,
                                       10000 * US, &done), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(e.dom, 0xa0000, 0, 4096, IOMMU_RW, 10000 * US, &done), 0);
    CU_ASSERT_EQUAL(done, 10000 * US + RT + UW + MW);
    CU_ASSERT_EQUAL(iommu_domain_flush_all(e.dom, done), done);
    venv_free(&e);
}

/* --- The tree against a brute-force reference ----------------------------------- */

#define REF_SLOTS 256               /* 4 KiB pages of a 1 MiB space */

void test_virtio_iommu_tree_reference(void)
{
    struct viommu_tree t;
    struct sim_rng rng;
    int owner[REF_SLOTS];           /* start page of the mapping holding a page, or -1 */
    unsigned bad = 0;

    viommu_tree_init(&t);
    sim_rng_seed(&rng, 7, "test.viommu.tree");
    for (int i = 0; i < REF_SLOTS; i++)
        owner[i] = -1;
    for (unsigned step = 0; step < 20000; step++) {
        unsigned p = (unsigned)(sim_rng_next(&rng) % REF_SLOTS);
        unsigned n = 1 + (unsigned)(sim_rng_next(&rng) % 8);
        bool free_run = p + n <= REF_SLOTS;
        int r;

        for (unsigned k = p; free_run && k < p + n; k++)
            free_run = owner[k] < 0;
        if (sim_rng_next(&rng) & 1) {
            r = viommu_tree_insert(&t, p * 4096ull, (p + n) * 4096ull - 1, p * 8192ull, 3);
            if (p + n > REF_SLOTS) {
                /* beyond the reference space: remove it again */
                if (r == 0)
                    viommu_tree_remove(&t, p * 4096ull);
                continue;
            }
            bad += (r == 0) != free_run;
            if (r == 0)
                for (unsigned k = p; k < p + n; k++)
                    owner[k] = (int)p;
        } else if (owner[p] == (int)p) {
            bad += viommu_tree_remove(&t, p * 4096ull) != 0;
            for (unsigned k = p; k < REF_SLOTS && owner[k] == (int)p; k++)
                owner[k] = -1;
        } else {
            bad += viommu_tree_remove(&t, p * 4096ull) != SIM_ENOENT;
        }
        if (step % 997 == 0) {
            uint64_t count = 0;

            for (unsigned k = 0; k < REF_SLOTS; k++) {
                const struct viommu_mapping *m = viommu_tree_find(&t, k * 4096ull + 5);

                count += owner[k] == (int)k;
                bad += (m != NULL) != (owner[k] >= 0);
                if (m)
                    bad += m->start != (uint64_t)owner[m->start / 4096] * 4096;
            }
            bad += count != t.count;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    viommu_tree_destroy(&t);
}

/* --- A DmaDevice in lazy mode: one shared flush queue ---------------------------- */

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
 * A 1 Gb/s receiving NIC (1500-byte packets: 81.2 kpps) for 30 ms on a
 * VirtioIOMMU (or a GenericIOMMU to compare), lazy policy, 4 CPUs; @fq_size
 * NULL for the default. Returns the device and the IOMMU objects.
 */
static void nic_world(struct sim_world *w, bool virtio, const char *fq_size,
                      struct sim_object **dev, struct sim_object **mmu)
{
    const char *d[64] = { 0 }, *g[16] = { 0 };
    char err[512];

    sim_world_init(w, 1);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(w, &mem_model_memory, "sys.mem", NULL, err,
                                        sizeof(err)), 0);
    if (virtio) {
        CU_ASSERT_EQUAL_FATAL(sim_world_add(w, &virtio_iommu_model_object, "sys.iommu", NULL,
                                            err, sizeof(err)), 0);
    } else {
        CU_ASSERT_EQUAL_FATAL(sim_world_add(w, &iommu_model_iotlb, "sys.iotlb", NULL, err,
                                            sizeof(err)), 0);
        CU_ASSERT_EQUAL_FATAL(sim_world_add(w, &iommu_model_walker, "sys.walker", NULL, err,
                                            sizeof(err)), 0);
        set(&generic_model_object, g, "iotlb", "sys.iotlb");
        set(&generic_model_object, g, "walker", "sys.walker");
        set(&generic_model_object, g, "memory", "sys.mem");
        CU_ASSERT_EQUAL_FATAL(sim_world_add(w, &generic_model_object, "sys.iommu", g, err,
                                            sizeof(err)), 0);
    }
    set(&dev_model_dma_device, d, "iommu", "sys.iommu");
    set(&dev_model_dma_device, d, "memory", "sys.mem");
    set(&dev_model_dma_device, d, "requester_id", "1");
    set(&dev_model_dma_device, d, "pattern", "nic");
    set(&dev_model_dma_device, d, "line_rate", "1Gbps");
    set(&dev_model_dma_device, d, "policy", "lazy");
    set(&dev_model_dma_device, d, "cpus", "4");
    if (fq_size)
        set(&dev_model_dma_device, d, "fq_size", fq_size);
    if (sim_world_add(w, &dev_model_dma_device, "sys.nic", d, err, sizeof(err)))
        fprintf(stderr, "%s\n", err);
    *dev = sim_world_find(w, "sys.nic");
    *mmu = sim_world_find(w, "sys.iommu");
    CU_ASSERT_PTR_NOT_NULL_FATAL(*dev);
    CU_ASSERT_EQUAL_FATAL(sim_world_start(w, err, sizeof(err)), 0);
    sim_run_until(&w->sim, 30 * SIM_TICKS_PER_MS, 0);
}

void test_virtio_iommu_dma_device_lazy(void)
{
    struct sim_world w;
    struct sim_object *dev, *mmu;
    double u, flushes, maps;

    /*
     * Defaults: one shared queue of 32768 entries flushed after 1000 ms.
     * At 82 kpps, 30 ms hold about 2470 packets, less those of the first
     * 6.2 ms while the 1025 boot-time maps (ring + buffers) queue at 6 us
     * each: U unmaps with 1024 < U < 32768. The shared queue neither fills
     * nor times out: no flush, no UNMAP request reaches the device
     * (per-CPU rings with their 10 ms timer would have flushed: see the
     * generic IOMMU below).
     */
    nic_world(&w, true, NULL, &dev, &mmu);
    u = readout(dev, "unmaps");
    maps = readout(dev, "maps");
    CU_ASSERT(u > 1024 && u < 32768);
    CU_ASSERT_EQUAL(readout(dev, "flushes_full"), 0);
    CU_ASSERT_EQUAL(readout(dev, "flushes_timeout"), 0);
    CU_ASSERT_EQUAL(readout(dev, "invalidations"), 0);
    CU_ASSERT_EQUAL(readout(mmu, "unmap_requests"), 0);
    CU_ASSERT_EQUAL(readout(mmu, "flushes"), 0);
    /* Every dma_map is one MAP request; PROBE + ATTACH at boot. */
    CU_ASSERT_EQUAL(readout(mmu, "map_requests"), maps);
    CU_ASSERT_EQUAL(readout(mmu, "probe_requests"), 1);
    CU_ASSERT_EQUAL(readout(mmu, "attach_requests"), 1);
    CU_ASSERT_EQUAL(readout(mmu, "kicks"), maps + 2);
    CU_ASSERT_EQUAL(readout(mmu, "map_events"), maps);   /* no notifier, still fanned */
    sim_world_destroy(&w);

    /*
     * The generic IOMMU's domain has per-CPU rings of 256 and a 10 ms
     * timer: 81 kpps give about 810 unmaps per 10 ms, 203 per ring, so no
     * ring fills and the timer flushes, first 10 ms after the first unmap
     * (well under 1 ms into the run), then 10 ms after the first unmap
     * that follows: 2 flushes in 30 ms.
     */
    nic_world(&w, false, NULL, &dev, &mmu);
    CU_ASSERT(readout(dev, "unmaps") > 1024);
    CU_ASSERT_EQUAL(readout(dev, "flushes_full"), 0);
    CU_ASSERT_EQUAL(readout(dev, "flushes_timeout"), 2);
    sim_world_destroy(&w);

    /*
     * fq_size = 64, still one ring: the ring is full at every 65th unmap,
     * which flushes the 64 queued then queues itself: floor((U - 1) / 64)
     * flushes, each sending its 64 UNMAPs in one kick.
     */
    nic_world(&w, true, "64", &dev, &mmu);
    u = readout(dev, "unmaps");
    maps = readout(dev, "maps");
    flushes = (double)(((uint64_t)u - 1) / 64);
    CU_ASSERT(flushes >= 10);
    CU_ASSERT_EQUAL(readout(dev, "flushes_full"), flushes);
    CU_ASSERT_EQUAL(readout(dev, "flushes_timeout"), 0);
    CU_ASSERT_EQUAL(readout(mmu, "flushes"), flushes);
    CU_ASSERT_EQUAL(readout(mmu, "empty_flushes"), 0);
    CU_ASSERT_EQUAL(readout(mmu, "unmap_requests"), 64 * flushes);
    CU_ASSERT_EQUAL(readout(mmu, "deferred_unmaps"), 64 * flushes);
    CU_ASSERT_EQUAL(readout(mmu, "kicks"), maps + 2 + flushes);
    sim_world_destroy(&w);
}
