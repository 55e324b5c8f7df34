/*
 * stats_writer_driver.c - registers a known set of stats, records values
 * that are closed-form functions of the dump index, dumps them through the
 * HDF5 and text writers, so the integration tests (tests/cli/test_stats.sh,
 * check_stats_file.py) can recompute every value independently.
 *
 * Usage: stats_writer_driver OUTDIR [--dumps N] [--period TICKS]
 *          [--reset-after K] [--flush-interval S] [--batch N] [--sleep-us U]
 *          [--wide N] [--sync] [--chunks auto|zlib|raw] [--noisy]
 *
 * Interval i (1..N) runs over ticks [(i-1)P, iP) and ends with dump i at iP:
 *   system.dev0.reqs         += i
 *   system.dev0.bytes        += 64 i                (scalar)
 *   system.dev0.queue_depth  level i % 4 over the interval (twa)
 *   system.iommu.maps[e]     += e + 1 for e = 0 (4K), 1 (2M), 2 (1G)
 *   system.iommu.iotlb.hits  += i;  .misses += 1
 *   system.dev0.lat          samples (37 i + 101 k) mod 1200, k = 0..4,
 *                            linear bins of 100 over [0, 1000)
 *   system.iommu.walk_lat    samples 1 + (i k) mod 5000, k = 1..3,
 *                            log2 bins from 1, 12 octaves x 4
 *   formulas: system.iommu.iotlb.hit_rate = hits / (hits + misses),
 *             system.iommu.iotlb.empty_rate = never / (never + never) (NaN),
 *             system.dev0.bw = bytes / @seconds
 * With --reset-after K the registry is reset at tick K P, after dump K.
 * --wide N adds N extra counters system.extra.cN (+= i) to grow the file.
 * --sync writes batches in the calling thread (no writer thread).
 * --chunks picks the compressed chunks' encoding (enum stats_h5_chunks).
 * --noisy adds system.noise.v, a vector of 16 elements (compressed, being
 * 16 wide) that changes in every byte in every other chunk of 512 dumps
 * (the vector's chunk), so AUTO stores those chunks raw and the rest
 * deflated: dump i adds to element e
 *     noise(16 i + e) >> 14   if ((i - 1) / 512) is odd, else 1,
 * noise(x) being splitmix64's output for state x (check_stats_file.py).
 * Writes OUTDIR/stats.h5 and OUTDIR/stats.txt; exits 1 with a one-line
 * error on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "stats/h5writer.h"
#include "stats/txtwriter.h"

static void *g_extra;

/* splitmix64's finaliser of x + golden gamma: a closed form per (i, e). */
static uint64_t noise(uint64_t x)
{
    uint64_t z = x + UINT64_C(0x9e3779b97f4a7c15);

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Report the registry's error in one line and free everything. */
static int fail(struct stats_registry *r)
{
    fprintf(stderr, "stats_writer_driver: %s\n", stats_registry_errmsg(r));
    stats_registry_destroy(r);
    free(g_extra);
    return 1;
}

static unsigned long long arg_num(const char *opt, const char *v)
{
    char *end;
    unsigned long long n = strtoull(v ? v : "", &end, 10);

    if (!v || *end) {
        fprintf(stderr, "stats_writer_driver: %s: expected a number\n", opt);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    static const char *const sizes[] = { "4K", "2M", "1G" };
    struct stats_h5_options opt = STATS_H5_OPTIONS_DEFAULT;
    struct stats_run_meta meta = { 0 };
    struct stats_run_end end;
    struct stats_registry r;
    struct stats_h5_writer *w;
    struct stats_counter *reqs, *hits, *misses, **extra = NULL;
    struct stats_scalar *bytes;
    struct stats_twa *depth;
    struct stats_vector *maps, *noisy = NULL;
    struct stats_hist *lat, *walk;
    unsigned long long dumps = 10, period = 1000000, reset_after = 0, sleep_us = 0;
    unsigned long long wide = 0, samples = 0, i, k;
    int want_noisy = 0;
    char cmd[4096], path[4096], json[256];
    const char *outdir;
    int a;

    if (argc < 2) {
        fprintf(stderr, "usage: stats_writer_driver OUTDIR [options]\n");
        return 2;
    }
    outdir = argv[1];
    for (a = 2; a < argc; a++) {
        const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;

        if (strcmp(o, "--dumps") == 0)
            dumps = arg_num(o, v);
        else if (strcmp(o, "--period") == 0)
            period = arg_num(o, v);
        else if (strcmp(o, "--reset-after") == 0)
            reset_after = arg_num(o, v);
        else if (strcmp(o, "--flush-interval") == 0)
            opt.flush_interval_s = atof(v ? v : "0");
        else if (strcmp(o, "--batch") == 0)
            opt.batch_rows = (uint32_t)arg_num(o, v);
        else if (strcmp(o, "--sleep-us") == 0)
            sleep_us = arg_num(o, v);
        else if (strcmp(o, "--wide") == 0)
            wide = arg_num(o, v);
        else if (strcmp(o, "--sync") == 0) {
            opt.background = 0;
            continue;
        } else if (strcmp(o, "--noisy") == 0) {
            want_noisy = 1;
            continue;
        } else if (strcmp(o, "--chunks") == 0 && v && strcmp(v, "auto") == 0)
            opt.chunks = STATS_H5_CHUNKS_AUTO;
        else if (strcmp(o, "--chunks") == 0 && v && strcmp(v, "zlib") == 0)
            opt.chunks = STATS_H5_CHUNKS_ZLIB;
        else if (strcmp(o, "--chunks") == 0 && v && strcmp(v, "raw") == 0)
            opt.chunks = STATS_H5_CHUNKS_RAW;
        else {
            fprintf(stderr, "stats_writer_driver: unknown option '%s'\n", o);
            return 2;
        }
        a++;
    }

    stats_registry_init(&r);
    reqs = stats_register_counter(&r, "system.dev0", "reqs", "count", "requests issued");
    bytes = stats_register_scalar(&r, "system.dev0", "bytes", "B", "bytes transferred");
    depth = stats_register_twa(&r, "system.dev0", "queue_depth", "entries",
                               "time-weighted queue depth", 0);
    maps = stats_register_vector(&r, "system.iommu", "maps", "count", "maps by page size",
                                 sizes, 3);
    hits = stats_register_counter(&r, "system.iommu.iotlb", "hits", "count", "IOTLB hits");
    misses = stats_register_counter(&r, "system.iommu.iotlb", "misses", "count",
                                    "IOTLB misses");
    stats_register_counter(&r, "system.iommu.iotlb", "never", "count", "never incremented");
    stats_register_formula(&r, "system.iommu.iotlb", "hit_rate", "ratio", "IOTLB hit rate",
                           "hits / (hits + misses)");
    stats_register_formula(&r, "system.iommu.iotlb", "empty_rate", "ratio",
                           "a rate with no events", "never / (never + never)");
    stats_register_formula(&r, "system.dev0", "bw", "B/s", "bandwidth", "bytes / @seconds");
    lat = stats_register_hist_linear(&r, "system.dev0", "lat", "ns", "request latency",
                                     0, 1000, 10);
    walk = stats_register_hist_log2(&r, "system.iommu", "walk_lat", "ns", "walk latency",
                                    1, 12, 4);
    if (wide && !(g_extra = extra = calloc(wide, sizeof(*extra))))
        return 1;
    for (k = 0; k < wide; k++) {
        char name[32];

        snprintf(name, sizeof(name), "c%llu", k);
        extra[k] = stats_register_counter(&r, "system.extra", name, "count", "filler");
    }
    if (want_noisy) {
        static const char *const el[16] = { "e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7",
                                            "e8", "e9", "e10", "e11", "e12", "e13", "e14",
                                            "e15" };

        noisy = stats_register_vector(&r, "system.noise", "v", "count",
                                      "counts that change in every byte half the time",
                                      el, 16);
    }
    if (stats_registry_error(&r))
        return fail(&r);

    snprintf(json, sizeof(json), "{\"driver\": {\"dumps\": %llu, \"period\": %llu}}",
             dumps, period);
    meta.version = PACKAGE_VERSION;
    meta.git_revision = "test-revision";
    meta.config_json = json;
    meta.command_line = stats_command_line(cmd, sizeof(cmd), argc, argv);
    meta.seed = 1234;
    snprintf(path, sizeof(path), "%s/stats.h5", outdir);
    if (stats_h5_writer_open(&w, &r, path, &meta, &opt) != 0)
        return fail(&r);

    for (i = 1; i <= dumps; i++) {
        sim_tick_t t0 = (i - 1) * period, t1 = i * period;

        stats_twa_set(depth, t0, (double)(i % 4));
        stats_counter_add(reqs, i);
        stats_scalar_add(bytes, 64.0 * (double)i);
        for (k = 0; k < 3; k++)
            stats_vector_add(maps, (uint32_t)k, k + 1);
        stats_counter_add(hits, i);
        stats_counter_inc(misses);
        for (k = 0; k < 5; k++, samples++)
            stats_hist_sample(lat, (double)((37 * i + 101 * k) % 1200));
        for (k = 1; k <= 3; k++, samples++)
            stats_hist_sample(walk, (double)(1 + (i * k) % 5000));
        for (k = 0; k < wide; k++)
            stats_counter_add(extra[k], i);
        for (k = 0; noisy && k < 16; k++)
            stats_vector_add(noisy, (uint32_t)k, (i - 1) / 512 % 2 ? noise(16 * i + k) >> 14 : 1);
        if (stats_dump(&r, t1) != 0) {
            stats_h5_writer_abort(w);
            return fail(&r);
        }
        if (reset_after && i == reset_after)
            stats_registry_reset(&r, t1);
        if (sleep_us) {
            struct timespec ts = { (time_t)(sleep_us / 1000000),
                                   (long)(sleep_us % 1000000) * 1000 };

            nanosleep(&ts, NULL);
        }
    }
    end.sim_ticks = dumps * period;
    end.events = samples;
    if (stats_h5_writer_close(w, &end) != 0)
        return fail(&r);
    snprintf(path, sizeof(path), "%s/stats.txt", outdir);
    if (stats_txt_write(&r, path) != 0)
        return fail(&r);
    free(extra);
    stats_registry_destroy(&r);
    return 0;
}
