/*
 * test_vstack.c - the virtual-IOMMU stack of issue 9 put together: a guest
 * VT-d with caching mode (or a virtio-iommu) whose MAP/UNMAP events a
 * VfioShadow mirrors into a host VT-d.
 *
 *  - timing: a burst of K caching-mode maps into a lock-serialised shadow
 *    completes (T_PAGE + L + T_WAIT) apart, derived by hand below; the
 *    users' lock wait is never added to the queue's processing a second
 *    time (which made completions grow as K^2); the same for virtio-iommu
 *    (RT + MW + L apart);
 *  - counts: N packets each mapped and unmapped once send exactly N MAP and
 *    N UNMAP events to the shadow through VT-d and 2N page-selective
 *    descriptors; without caching mode the shadow's attach is refused and
 *    nothing stays registered (B5);
 *  - after a random sequence of guest maps and unmaps the host VT-d's
 *    tables equal the guest's composed with guest-physical -> host-physical
 *    and no DMA of the assigned device uses a stale shadow entry (B11);
 *  - the default replay (B9) over a 4 GiB region of a VT-d address space
 *    makes size / granule translate calls, where VT-d's own replay walks
 *    the tables (test_vtd.c).
 * Expected values come from the derivations in the comments and from a
 * reference array of the guest's mappings kept by the test.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "iommu/consumers/consumer.h"
#include "iommu/consumers/vfio_shadow.h"
#include "iommu/models/virtio_iommu.h"
#include "iommu/models/vtd.h"
#include "testutil.h"
#include "vstack_fixture.h"

void test_vstack_vtd_cm_burst_timing(void);
void test_vstack_virtio_burst_timing(void);
void test_vstack_vtd_cm_shadow_counts(void);
void test_vstack_vtd_cm_composition_random(void);
void test_vstack_vtd_default_replay_granules(void);

#define NS SIM_TICKS_PER_NS
#define US SIM_TICKS_PER_US
#define PG 4096u
#define RID 3
#define GDOM 1                      /* the guest's domain on the virtual VT-d */
#define HDOM 2                      /* the container's domain on the host VT-d */
#define OFF VSTACK_OFF               /* guest RAM base in host memory */

/* Descriptor processing times (both VT-ds). */
#define T_PAGE (300 * NS)
#define T_DOM  (13 * NS)
#define T_WAIT (50 * NS)

struct xenv {
    struct sim sim;
    struct mem mem;
    struct vtd guest, host;
    struct iommu_domain *gd, *hd;   /* driver views */
    struct iommu *gas, *has;        /* the device's address spaces */
};

static void vtd_cfg_of(struct vtd_cfg *c, bool cm, const char *path)
{
    memset(c, 0, sizeof(*c));
    c->aw_bits = 48;
    c->pgsize_bitmap = 0x40201000;
    c->caching_mode = cm;
    c->max_am = 18;
    c->qi.length = 256;
    c->qi.time[VTD_DESC_CC] = 7 * NS;
    c->qi.time[VTD_DESC_IOTLB_GLOBAL] = 11 * NS;
    c->qi.time[VTD_DESC_IOTLB_DOMAIN] = T_DOM;
    c->qi.time[VTD_DESC_IOTLB_PAGE] = T_PAGE;
    c->qi.time[VTD_DESC_DEVTLB] = 17 * NS;
    c->qi.time[VTD_DESC_WAIT] = T_WAIT;
    c->iotlb.policy = IOTLB_LRU;
    c->iotlb.arr[0] = (struct iotlb_array_cfg){ 64, 4 };
    c->iotlb.mshrs = 4;
    c->walk.walkers = 2;
    c->walk.pwc_entries[1] = c->walk.pwc_entries[2] = c->walk.pwc_entries[3] = 16;
    c->hit_latency = 2 * NS;
    c->lookup_ports = 1;
    c->lookup_cycle = 1 * NS;
    c->cc_entries = 8;
    c->cc_latency = 1 * NS;
    c->max_domains = 4;
    c->max_devices = 8;
    c->path = path;
}

/* A guest VT-d (caching mode @cm) and a host VT-d, RID attached to GDOM on
 * the guest and to HDOM on the host; the queues have drained at 1 us. */
static void xenv_init(struct xenv *e, bool cm)
{
    struct vtd_cfg c;
    char err[300];

    memset(e, 0, sizeof(*e));
    sim_init(&e->sim);
    vstack_mem_init(&e->mem, &e->sim, 2, 0);
    vtd_cfg_of(&c, cm, "sys.viommu");
    CU_ASSERT_EQUAL_FATAL(vtd_create(&e->guest, &e->sim, &e->mem, &c, err, sizeof(err)), 0);
    vtd_cfg_of(&c, false, "sys.host");
    CU_ASSERT_EQUAL_FATAL(vtd_create(&e->host, &e->sim, &e->mem, &c, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e->guest, GDOM, &e->gd, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&e->host, HDOM, &e->hd, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e->guest, RID, GDOM, &e->gas, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_attach(&e->host, RID, HDOM, &e->has, err, sizeof(err)), 0);
    sim_run_until(&e->sim, 1 * US, 0);
}

static void xenv_free(struct xenv *e)
{
    vtd_destroy(&e->guest);
    vtd_destroy(&e->host);
    mem_destroy(&e->mem);
    sim_destroy(&e->sim);
}

/* --- Timing of a burst --------------------------------------------------------- */

/*
 * K single-page maps issued together at t0 (= now) through a caching-mode
 * VT-d into a shadow of work L = map_cost + pin_cost = 1 + 0.1 = 1.1 us per
 * MAP under its container lock (the host VT-d's map sends no descriptor:
 * no caching mode there, so it is done at once).
 *
 * Each map is a page-selective descriptor and a wait (qi_submit_sync). The
 * k-th descriptor starts when the (k-1)-th wait is done, w(k-1); after its
 * own T_PAGE its processing runs the MAP notifier (QEMU calls the
 * notifiers there), whose work L starts when the event reaches it and the
 * lock is free; the lock last freed at psi(k-1) < w(k-1):
 *     psi(k) = max(w(k-1) + T_PAGE, lock free) + L = w(k-1) + T_PAGE + L
 *     w(k)   = psi(k) + T_WAIT
 * => w(k) = t0 + k (T_PAGE + L + T_WAIT) = t0 + k x 1.45 us, and the lock
 * never waits (the queue serialises the maps). (Booking every MAP at t0 and
 * adding the user's "now to done" time, t0 + k L - t0, to the descriptor
 * gave w(k) = t0 + k (T_PAGE + T_WAIT) + L k (k + 1) / 2: 84.7 us for
 * k = 10 instead of 14.5 us, and a lock wait of L k (k - 1) / 2.)
 *
 * Then the lock is made busy by someone else (another device of the same
 * container) for B = 20 us from t1 = now, and K more maps are issued at t1:
 * the first user waits for the lock, which the descriptor waits for, but
 * the wait is counted once:
 *     psi(1) = max(t1 + T_PAGE, t1 + B) + L = t1 + B + L,
 *     w(1)   = t1 + B + L + T_WAIT
 *     psi(k) = max(w(k-1) + T_PAGE, psi(k-1)) + L = w(k-1) + T_PAGE + L
 * => w(k) = t1 + B + L + T_WAIT + (k - 1)(T_PAGE + L + T_WAIT); the lock
 * wait is the first MAP's, B - T_PAGE.
 */
void test_vstack_vtd_cm_burst_timing(void)
{
    enum { K = 10 };
    const sim_tick_t L = 1100 * NS, B = 20 * US, STEP = T_PAGE + L + T_WAIT;
    struct xenv e;
    struct vfio_shadow v;
    char err[200];
    sim_tick_t t0, t1, d, wait;

    xenv_init(&e, true);
    vstack_shadow_init(&v, &e.sim, e.hd, 1 * US, 100 * NS);
    CU_ASSERT_EQUAL_FATAL(iommu_consumer_attach(&v.c, e.gas, err, sizeof(err)), 0);
    /* The attach's replay (one UNMAP of the range: unmap_cost on the lock)
     * is over by then. */
    sim_run_until(&e.sim, sim_now(&e.sim) + 1 * US, 0);
    t0 = sim_now(&e.sim);
    for (unsigned k = 1; k <= K; k++) {
        CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x100000 + (uint64_t)k * PG,
                                         0x800000 + (uint64_t)k * PG, PG, IOMMU_RW, t0, &d), 0);
        CU_ASSERT_EQUAL(d, t0 + k * STEP);
    }
    CU_ASSERT_EQUAL(v.st.maps, K);
    CU_ASSERT_EQUAL(e.guest.qi.st.desc[VTD_DESC_IOTLB_PAGE], K);
    /* Each MAP found the lock free when it reached the shadow. */
    ASSERT_NEAR(v.lock.st.wait_sum, 0.0, 0.5);
    iommu_consumer_reset_stats(&v.c);

    sim_run_until(&e.sim, d + 1 * US, 0);
    t1 = sim_now(&e.sim);
    CU_ASSERT_EQUAL(sim_resource_reserve(&v.lock, B, &wait), t1 + B);
    CU_ASSERT_EQUAL(wait, 0);
    for (unsigned k = 1; k <= K; k++) {
        CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x200000 + (uint64_t)k * PG,
                                         0x900000 + (uint64_t)k * PG, PG, IOMMU_RW, t1, &d), 0);
        CU_ASSERT_EQUAL(d, t1 + B + L + T_WAIT + (k - 1) * STEP);
    }
    ASSERT_NEAR(v.lock.st.wait_sum, (double)(B - T_PAGE), 0.5);
    iommu_consumer_detach(&v.c);
    vfio_shadow_destroy(&v);
    xenv_free(&e);
}

/*
 * The same burst through virtio-iommu: each MAP request is one kick of
 * round trip RT + host work MW, after which the host runs the MAP
 * notifier (L) before the request completes. One server, so the k-th of K
 * maps issued at t0 completes at t0 + k (RT + MW + L), the lock never
 * waiting (booking every MAP at t0 and adding the user's "now to done"
 * time gave t0 + k (RT + MW) + L k (k + 1) / 2).
 */
void test_vstack_virtio_burst_timing(void)
{
    enum { K = 10 };
    const sim_tick_t RT = 5 * US, MW = 1 * US, L = 1100 * NS;
    struct sim sim;
    struct mem mem;
    struct vtd host;
    struct vtd_cfg hc;
    struct virtio_iommu vi;
    struct virtio_iommu_cfg c;
    struct iommu_domain *gd, *hd;
    struct iommu *gas;
    struct vfio_shadow v;
    char err[300];
    sim_tick_t t0, d;

    sim_init(&sim);
    vstack_mem_init(&mem, &sim, 1, 0);
    vtd_cfg_of(&hc, false, "sys.host");
    CU_ASSERT_EQUAL_FATAL(vtd_create(&host, &sim, &mem, &hc, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(vtd_domain_get(&host, HDOM, &hd, err, sizeof(err)), 0);
    memset(&c, 0, sizeof(c));
    c.granule = PG;
    c.aw_bits = 48;
    c.round_trip = RT;
    c.work[VIOMMU_REQ_MAP] = c.work[VIOMMU_REQ_UNMAP] = MW;
    c.work[VIOMMU_REQ_ATTACH] = c.work[VIOMMU_REQ_DETACH] = MW;
    c.work[VIOMMU_REQ_PROBE] = MW;
    c.xlate_latency = 10 * NS;
    c.max_domains = 4;
    c.max_endpoints = 8;
    c.path = "sys.viommu";
    CU_ASSERT_EQUAL_FATAL(virtio_iommu_create(&vi, &sim, &c, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(virtio_iommu_domain(&vi, GDOM, &gd, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(virtio_iommu_endpoint(&vi, RID, &gas, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(virtio_iommu_attach(&vi, RID, GDOM, 0, &d), 0);
    sim_run_until(&sim, d + 1 * US, 0);
    vstack_shadow_init(&v, &sim, hd, 1 * US, 100 * NS);
    CU_ASSERT_EQUAL_FATAL(iommu_consumer_attach(&v.c, gas, err, sizeof(err)), 0);
    t0 = sim_now(&sim);
    for (unsigned k = 1; k <= K; k++) {
        CU_ASSERT_EQUAL(iommu_domain_map(gd, 0x100000 + (uint64_t)k * PG,
                                         0x800000 + (uint64_t)k * PG, PG, IOMMU_RW, t0, &d), 0);
        CU_ASSERT_EQUAL(d, t0 + k * (RT + MW + L));
    }
    CU_ASSERT_EQUAL(v.st.maps, K);
    ASSERT_NEAR(v.lock.st.wait_sum, 0.0, 0.5);
    iommu_consumer_detach(&v.c);
    vfio_shadow_destroy(&v);
    virtio_iommu_destroy(&vi);
    vtd_destroy(&host);
    mem_destroy(&mem);
    sim_destroy(&sim);
}

/* --- Counts ------------------------------------------------------------------ */

/*
 * Caching mode on, N packets each mapped and unmapped once (one 4 KiB page
 * each, the next packet issued when the previous unmap is done): exactly N
 * MAP and N UNMAP events reach the shadow, which makes N host maps and N
 * host unmaps; the guest VT-d processes 2N page-selective descriptors (one
 * per map, one per unmap) and 2N waits; the host VT-d one page-selective
 * descriptor per shadow unmap (N). Caching mode off: the shadow's attach
 * (MAP|UNMAP) is refused with a one-line error naming caching_mode and
 * nothing stays registered.
 */
void test_vstack_vtd_cm_shadow_counts(void)
{
    const unsigned N = 64;
    struct xenv e;
    struct vfio_shadow v;
    char err[300];
    uint64_t psi0, wait0, hpsi0, del0;
    sim_tick_t d;

    xenv_init(&e, true);
    vstack_shadow_init(&v, &e.sim, e.hd, 1 * US, 100 * NS);
    CU_ASSERT_EQUAL_FATAL(iommu_consumer_attach(&v.c, e.gas, err, sizeof(err)), 0);
    /* The attach's replay: one UNMAP of the notifier's range, no MAP. */
    CU_ASSERT_EQUAL(v.st.unmaps, 1);
    CU_ASSERT_EQUAL(v.st.maps, 0);
    iommu_consumer_reset_stats(&v.c);
    del0 = v.n.delivered;
    psi0 = e.guest.qi.st.desc[VTD_DESC_IOTLB_PAGE];
    wait0 = e.guest.qi.st.desc[VTD_DESC_WAIT];
    hpsi0 = e.host.qi.st.desc[VTD_DESC_IOTLB_PAGE];
    for (unsigned i = 0; i < N; i++) {
        uint64_t iova = 0x40000000 + (uint64_t)(i % 8) * PG;

        CU_ASSERT_EQUAL(iommu_domain_map(e.gd, iova, 0x9000000 + (uint64_t)i * PG, PG,
                                         IOMMU_WO, sim_now(&e.sim), &d), 0);
        sim_run_until(&e.sim, d, 0);
        CU_ASSERT_EQUAL(iommu_domain_lookup(e.hd, iova).translated_addr,
                        0x9000000 + (uint64_t)i * PG + OFF);
        CU_ASSERT_EQUAL(iommu_domain_unmap(e.gd, iova, PG, 0, sim_now(&e.sim), &d), 0);
        sim_run_until(&e.sim, d, 0);
        CU_ASSERT_EQUAL(iommu_domain_lookup(e.hd, iova).perm, IOMMU_NONE);
    }
    CU_ASSERT_EQUAL(v.st.maps, N);
    CU_ASSERT_EQUAL(v.st.unmaps, N);
    CU_ASSERT_EQUAL(v.n.delivered - del0, 2 * N);
    CU_ASSERT_EQUAL(v.st.host_maps, N);
    CU_ASSERT_EQUAL(v.st.host_unmaps, N);
    CU_ASSERT_EQUAL(v.st.errors, 0);
    CU_ASSERT_EQUAL(v.pinned, 0);
    CU_ASSERT_EQUAL(e.guest.qi.st.desc[VTD_DESC_IOTLB_PAGE] - psi0, 2 * N);
    CU_ASSERT_EQUAL(e.guest.qi.st.desc[VTD_DESC_WAIT] - wait0, 2 * N);
    CU_ASSERT_EQUAL(e.guest.st.map_invals, N);
    CU_ASSERT_EQUAL(e.host.qi.st.desc[VTD_DESC_IOTLB_PAGE] - hpsi0, N);
    iommu_consumer_detach(&v.c);
    vfio_shadow_destroy(&v);
    xenv_free(&e);

    xenv_init(&e, false);
    vstack_shadow_init(&v, &e.sim, e.hd, 1 * US, 100 * NS);
    err[0] = 0;
    CU_ASSERT_EQUAL(iommu_consumer_attach(&v.c, e.gas, err, sizeof(err)), SIM_EREFUSED);
    CU_ASSERT(strstr(err, "caching_mode") != NULL);
    CU_ASSERT(strchr(err, '\n') == NULL);
    CU_ASSERT_PTR_NULL(v.c.mmu);
    CU_ASSERT_PTR_NULL(e.gas->lists[0]);
    CU_ASSERT_EQUAL(e.gas->notify_flags, 0);
    /* Maps then reach nobody: the shadow stays empty. */
    CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x40000000, 0x9000000, PG, IOMMU_RW,
                                     sim_now(&e.sim), &d), 0);
    CU_ASSERT_EQUAL(v.st.maps, 0);
    CU_ASSERT_EQUAL(e.guest.st.ev_map, 0);
    CU_ASSERT_EQUAL(iommu_domain_lookup(e.hd, 0x40000000).perm, IOMMU_NONE);
    vfio_shadow_destroy(&v);
    xenv_free(&e);
}

/* --- Composition and no stale DMA --------------------------------------------- */

#define NPAGES 256                   /* the reference model and DMA probes: vstack_fixture.c */

void test_vstack_vtd_cm_composition_random(void)
{
    struct xenv e;
    struct vfio_shadow v;
    struct vstack_random run;
    char err[200];

    xenv_init(&e, true);
    vstack_shadow_init(&v, &e.sim, e.hd, 1 * US, 100 * NS);
    CU_ASSERT_EQUAL_FATAL(iommu_consumer_attach(&v.c, e.gas, err, sizeof(err)), 0);
    /* B11: the reference changes when the guest's unmap starts; DMAs
     * issued from then on must not see the old page. */
    run = (struct vstack_random){ .sim = &e.sim, .gd = e.gd, .hd = e.hd, .has = e.has,
                                  .rid = RID, .npages = NPAGES, .steps = 3000, .seed = 9,
                                  .rng_path = "test.vstack.random", .ref_before_unmap = true };
    vstack_random_run(&run);
    /* No stale DMA, > 2500 DMAs, > 300 maps and unmaps; through VT-d one
     * MAP per 4 KiB leaf placed and one UNMAP per leaf: pinned = mapped. */
    vstack_random_expect_shadow(&run, &v);
    CU_ASSERT_EQUAL(e.guest.st.map_invals, run.maps);
    /* The race B11 is about did occur: walks of the host VT-d overtaken
     * by a shadow unmap's invalidation (they must answer afresh). */
    CU_ASSERT(e.host.st.walks_overtaken > 0);
    iommu_consumer_detach(&v.c);
    vfio_shadow_destroy(&v);
    xenv_free(&e);
}

/* --- B9's default replay on a VT-d address space ------------------------------ */

struct counter {
    struct iommu_notifier n;
    uint64_t maps;
};

static void count_notify(struct iommu_notifier *n, const struct iommu_event *ev)
{
    if (ev->type == IOMMU_NOTIFIER_MAP)
        ((struct counter *)n)->maps++;
}

/*
 * The domain holds two 4 KiB pages, one 2 MiB and one 1 GiB leaf below
 * 4 GiB. Over a 4 GiB region, B9's default replay translates every 4 KiB
 * granule: 2^32 / 2^12 = 2^20 calls, and announces each present one:
 * 2 + 512 + 262144 MAPs (VT-d's own replay sends M = 4, test_vtd.c).
 */
void test_vstack_vtd_default_replay_granules(void)
{
    struct xenv e;
    struct counter c;
    char err[300];
    uint64_t size0;
    sim_tick_t d;

    xenv_init(&e, true);
    CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x1000, 0x100000, PG, IOMMU_RW, 0, &d), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x5000, 0x105000, PG, IOMMU_RW, 0, &d), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x200000, 0x400000, 0x200000, IOMMU_RW, 0, &d), 0);
    CU_ASSERT_EQUAL(iommu_domain_map(e.gd, 0x40000000, 0x80000000, 0x40000000, IOMMU_RW, 0,
                                     &d), 0);
    memset(&c, 0, sizeof(c));
    c.n.notify = count_notify;
    c.n.flags = IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP;
    c.n.end = UINT64_C(0xffffffff);
    CU_ASSERT_EQUAL_FATAL(iommu_notifier_register(e.gas, &c.n, err, sizeof(err)), 0);
    size0 = e.gas->size;
    e.gas->size = UINT64_C(1) << 32;        /* the region replayed: 4 GiB */
    iommu_replay_granules(e.gas, &c.n);
    e.gas->size = size0;
    CU_ASSERT_EQUAL(e.gas->st.replay_translates, UINT64_C(1) << 20);
    CU_ASSERT_EQUAL(c.maps, 2 + 512 + 262144);
    iommu_notifier_unregister(e.gas, &c.n);
    xenv_free(&e);
}
