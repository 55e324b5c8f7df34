/*
 * bench_iommu.c - what the IOMMU core costs on the host (issue 5's targets).
 *
 * Three measurements, each printed as one `iommu ...` line with PASS/FAIL
 * against its target:
 *
 *  1. Functional IOTLB lookups per second (target >= 50 M/s): iotlb_lookup()
 *     on a full 512-entry 8-way LRU IOTLB and on a 64-entry fully
 *     associative one, at random pages from an inline LCG (a few cycles, no
 *     memory traffic) of which about 90% are cached. Hits update the replacement state; misses
 *     fill nothing (a fill is a walk's cost, part of measurement 2).
 *  2. Timed translations per second with >= 95% IOTLB hits (target >= 5 M/s
 *     on one core): the generic model on the engine, 1024-entry fully
 *     associative IOTLB, uniform accesses over 1056 pages (C/N = 0.97), 64
 *     requests kept in flight by a closed loop (each completion issues the
 *     next). Everything a request costs is timed: lookup port, IOTLB, walks
 *     with PWCs and memory on misses, the completion event.
 *  3. Page-table memory for 1 Mi mapped 4 KiB pages (target < 64 MiB): one
 *     map call per page over a dense 4 GiB range, 4 KiB pages only; the
 *     tables' own count (pgtable_mem_bytes) and the growth of the process's
 *     resident set, which includes malloc's overhead.
 *
 * Usage: bench_iommu [--quick] [--reps R] [--only lookup|timed|pgtable]
 * (best of R for the rates; --only runs one measurement, e.g. under perf)
 * Exit status: 0 when the measurements ran (a missed target is reported, not
 * an error), 1 on a set-up failure, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "iommu/iotlb.h"
#include "iommu/models/generic.h"
#include "mem/pgtable.h"

#define NS SIM_TICKS_PER_NS

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static const char *verdict(int ok)
{
    return ok ? "PASS" : "FAIL";
}

/* --- 1. Functional IOTLB lookups ------------------------------------------- */

/* The page of the next lookup: a 64-bit LCG (Knuth's MMIX constants) and a
 * multiply-shift into [0, pages): a few cycles and no memory traffic, like
 * an address arriving with a device's request. */
static inline uint64_t next_page(uint64_t *x, uint64_t pages)
{
    *x = *x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return ((*x >> 32) * pages) >> 32;
}

static int bench_lookups(const char *name, unsigned entries, unsigned ways,
                         uint64_t n, unsigned reps)
{
    struct iotlb t;
    struct iotlb_cfg c;
    struct iotlb_hit h;
    uint64_t hits = 0, i, x = 1, base = UINT64_C(1) << 32;
    unsigned pages = entries + entries / 9, r;   /* ~90% of the lookups hit */
    double best = 0.0, t0, dt;
    char err[200];

    memset(&c, 0, sizeof(c));
    c.policy = IOTLB_LRU;
    c.arr[0].entries = entries;
    c.arr[0].ways = ways;
    c.mshrs = 1;
    c.path = "bench.iotlb";
    if (iotlb_init(&t, &c, err, sizeof(err))) {
        fprintf(stderr, "bench_iommu: %s\n", err);
        return 1;
    }
    for (i = 0; i < entries; i++)   /* fill: the measured state is a full IOTLB */
        iotlb_insert(&t, 0, 0, base + (i << 12), i << 12, 0xfff, 3);
    for (r = 0; r < reps; r++) {
        iotlb_reset_stats(&t);
        t0 = now_s();
        /* Lookups only: a miss fills nothing (fills are a walk's cost,
         * measured in 2), so the contents and the hit rate stay put. */
        for (i = 0; i < n; i++)
            iotlb_lookup(&t, 0, 0, base + (next_page(&x, pages) << 12) + (i & 0xfc0), &h);
        dt = now_s() - t0;
        hits = t.st.hits;
        if (n / dt > best)
            best = (double)n / dt;
    }
    printf("iommu iotlb_lookup %s lookups=%llu lookups/s=%.4g hit_rate=%.3f target>=5e+07 %s\n",
           name, (unsigned long long)n, best, (double)hits / (double)n, verdict(best >= 5e7));
    iotlb_destroy(&t);
    return 0;
}

/* --- 2. Timed translations --------------------------------------------------- */

#define INFLIGHT 64

struct tbench {
    struct sim sim;
    struct mem mem;
    struct generic_iommu g;
    struct iommu *as;
    struct sim_rng rng;
    struct iommu_req req[INFLIGHT];
    uint64_t npages, issued, limit, done, faults;
};

static void treq_issue(struct tbench *b, struct iommu_req *r);

static void treq_done(struct iommu_req *r)
{
    struct tbench *b = r->ctx;

    b->done++;
    b->faults += r->status != 0;
    if (b->issued < b->limit)
        treq_issue(b, r);
}

static void treq_issue(struct tbench *b, struct iommu_req *r)
{
    r->iova = (UINT64_C(1) << 32) + (sim_rng_below(&b->rng, b->npages) << 12);
    r->access = IOMMU_RO;
    r->done = treq_done;
    r->ctx = b;
    b->issued++;
    iommu_translate_timed(b->as, r);
}

/* Run `count` translations to completion; returns host seconds. */
static double tbench_run(struct tbench *b, uint64_t count)
{
    double t0 = now_s();
    unsigned i;

    b->issued = b->done = 0;
    b->limit = count;
    for (i = 0; i < INFLIGHT && b->issued < b->limit; i++)
        treq_issue(b, &b->req[i]);
    sim_run(&b->sim);
    return now_s() - t0;
}

static int bench_timed(uint64_t n, unsigned reps)
{
    struct tbench *b = calloc(1, sizeof(*b));
    struct mem_cfg mc;
    struct generic_cfg c;
    char err[200];
    double best = 0.0, dt, hit = 0.0;
    uint64_t i, events = 0;
    unsigned r;

    if (!b)
        return 1;
    sim_init(&b->sim);
    memset(&mc, 0, sizeof(mc));
    mc.latency = 80 * NS;
    mc.channels = 2;
    mc.interleave = 64;
    mc.bandwidth = UINT64_C(25600000000);
    memset(&c, 0, sizeof(c));
    c.levels = 4;
    c.pgsize_bitmap = 0x40201000;
    c.iotlb.policy = IOTLB_LRU;
    c.iotlb.arr[0] = (struct iotlb_array_cfg){ 1024, 1024 };
    c.iotlb.mshrs = 16;
    c.iotlb.path = "bench.iommu.iotlb";
    c.walk.walkers = 2;
    c.walk.pwc_entries[1] = c.walk.pwc_entries[2] = c.walk.pwc_entries[3] = 16;
    c.hit_latency = 2 * NS;
    c.lookup_ports = 1;
    c.lookup_cycle = 1 * NS;
    c.max_domains = 1;
    c.max_devices = 1;
    c.path = "bench.iommu";
    b->npages = 1056;
    if (mem_init(&b->mem, &b->sim, &mc, err, sizeof(err)) ||
        generic_create(&b->g, &b->sim, &b->mem, &c, err, sizeof(err)) ||
        generic_domain_create(&b->g, 0) ||
        generic_attach(&b->g, 0, 0, &b->as, err, sizeof(err))) {
        fprintf(stderr, "bench_iommu: timed set-up: %s\n", err);
        return 1;
    }
    for (i = 0; i < b->npages; i++)
        if (generic_map(&b->g, 0, (UINT64_C(1) << 32) + (i << 12), (UINT64_C(1) << 36) + (i << 12),
                        4096, IOMMU_RW)) {
            fprintf(stderr, "bench_iommu: map failed\n");
            return 1;
        }
    sim_rng_seed(&b->rng, 1, "bench.timed");
    tbench_run(b, 20000);           /* warm-up: fill the IOTLB and the PWCs */
    for (r = 0; r < reps; r++) {
        uint64_t ev0 = sim_events_processed(&b->sim);

        iotlb_reset_stats(&b->g.tlb);
        dt = tbench_run(b, n);
        if (b->done != n || b->faults) {
            fprintf(stderr, "bench_iommu: %llu of %llu translations completed, %llu faults\n",
                    (unsigned long long)b->done, (unsigned long long)n,
                    (unsigned long long)b->faults);
            return 1;
        }
        if ((double)n / dt > best) {
            best = (double)n / dt;
            hit = iotlb_hit_rate(&b->g.tlb);
            events = sim_events_processed(&b->sim) - ev0;
        }
    }
    printf("iommu timed_translate translations=%llu translations/s=%.4g hit_rate=%.3f "
           "events/translation=%.2f target>=5e+06 with hit_rate>=0.95 %s\n",
           (unsigned long long)n, best, hit, (double)events / (double)n,
           verdict(best >= 5e6 && hit >= 0.95));
    generic_destroy(&b->g);
    mem_destroy(&b->mem);
    sim_destroy(&b->sim);
    free(b);
    return 0;
}

/* --- 3. Page-table memory ---------------------------------------------------- */

static long rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = -1;
    fclose(f);
    return rss < 0 ? -1 : rss * sysconf(_SC_PAGESIZE);
}

static int bench_pgtable(uint64_t npages)
{
    struct pgtable pt;
    long rss0 = rss_bytes(), rss1;
    double t0, dt, mib, rss_mib;
    uint64_t i;

    if (pgtable_init(&pt, 4, 0x1000, UINT64_C(1) << 40))
        return 1;
    t0 = now_s();
    for (i = 0; i < npages; i++)
        if (pgtable_map(&pt, (UINT64_C(1) << 32) + (i << 12), (UINT64_C(1) << 36) + (i << 12),
                        4096, PGTABLE_PERM_R | PGTABLE_PERM_W)) {
            fprintf(stderr, "bench_iommu: pgtable_map failed at page %llu\n",
                    (unsigned long long)i);
            pgtable_destroy(&pt);
            return 1;
        }
    dt = now_s() - t0;
    rss1 = rss_bytes();
    mib = (double)pgtable_mem_bytes(&pt) / (1024.0 * 1024.0);
    rss_mib = rss0 >= 0 && rss1 >= 0 ? (double)(rss1 - rss0) / (1024.0 * 1024.0) : -1.0;
    printf("iommu pgtable_memory pages=%llu table_mib=%.2f rss_growth_mib=%.2f "
           "bytes/page=%.2f maps/s=%.4g target<64MiB %s\n",
           (unsigned long long)npages, mib, rss_mib,
           (double)pgtable_mem_bytes(&pt) / (double)npages, (double)npages / dt,
           verdict(mib < 64.0 && rss_mib < 64.0));
    pgtable_destroy(&pt);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned reps = 3;
    int quick = 0, i, rc = 0;
    const char *only = NULL;
    uint64_t lookups, translations, pages = UINT64_C(1) << 20;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);

            if (*end || v < 1 || v > 1000) {
                fprintf(stderr, "bench_iommu: --reps: expected 1..1000 (got '%s')\n", argv[i]);
                return 2;
            }
            reps = (unsigned)v;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc &&
                   (strcmp(argv[i + 1], "lookup") == 0 || strcmp(argv[i + 1], "timed") == 0 ||
                    strcmp(argv[i + 1], "pgtable") == 0)) {
            only = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_iommu [--quick] [--reps R] [--only lookup|timed|pgtable]\n");
            return 2;
        }
    }
    lookups = quick ? 1000000 : 50000000;
    translations = quick ? 100000 : 5000000;
    if (quick)
        printf("iommu QUICK run: few operations, figures are not meaningful\n");
    if (!only || strcmp(only, "lookup") == 0) {
        rc |= bench_lookups("512x8way", 512, 8, lookups, reps);
        rc |= bench_lookups("64xfull", 64, 64, lookups, reps);
    }
    if (!only || strcmp(only, "timed") == 0)
        rc |= bench_timed(translations, reps);
    if (!only || strcmp(only, "pgtable") == 0)
        rc |= bench_pgtable(pages); /* the target's size even in quick mode: it is cheap */
    return rc ? 1 : 0;
}
