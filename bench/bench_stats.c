/*
 * bench_stats.c - what periodic statistics dumps cost a simulation.
 *
 * Issue 4's target: dumping ~300 stats every simulated microsecond costs at
 * most 10% extra wall time against the same run with only a final dump.
 *
 * The workload: 300 stats shaped like a small system's (200 counters, 30
 * scalars, 20 time-weighted averages, 20 vectors of 8, 15 log2 histograms of
 * 64 bins, 15 formulas) and S event streams on the real engine, each event
 * recording what a DMA request step records (three counter increments, a
 * vector element, a histogram sample, a twa change, a scalar add) and
 * rescheduling itself after an exponential gap. The event density D (events
 * per simulated microsecond) sets how much simulation work a dump is
 * amortised over; the cost of one dump is fixed, so the ratio falls as 1/D.
 *
 * Both runs write a real stats.h5 (SWMR, default options: a file write every
 * 4096 dumps or 1 host second, from the writer thread) into a temporary
 * directory:
 *   final     one dump at the end;
 *   periodic  a dump event every simulated microsecond (SIM_PRIO_STATS).
 * Runs alternate and the best of R is kept for each.
 *
 * Usage: bench_stats [--quick] [--reps R] [--us T] [--sync] [--chunks auto|zlib|raw]
 *                    [--only final|periodic] [--no-writer] [--batch N]
 *                    [--dump-only | --density D ...]
 *   --us T       simulated microseconds per run (default 20000, so 20000 dumps)
 *   --density D  events per simulated microsecond (default: 100, 300, 1000)
 *   --sync       write batches in the simulation thread (no writer thread)
 *   --chunks E   the compressed chunks' encoding (h5writer.h; default auto)
 *   --only K     run only the final-dump or only the periodic runs, and no
 *                --dump-only line (for perf record / perf stat of one kind)
 *   --no-writer  no HDF5 file: the dumps are the registry's snapshots alone
 *                (the simulation thread's share, apart from the writer's)
 *   --batch N    dumps per file batch (the writer's batch_rows)
 *   --dump-only  only the first line: dumps back to back, no simulation
 * Output:
 *   dump_only dumps=N registry_us=... with_h5_us=... sim_cpu_us=... writer_cpu_us=...
 *                                                       (cost of one dump)
 *   stats D=300 final_s=... periodic_s=... dumps=... us_per_dump=... ratio=1.07
 *         sim_cpu_ratio=... sim_extra_us=... writer_cpu_us=... file_mb=...
 * ratio = periodic_s / final_s, the figure (target <= 1.10);
 * sim_extra_us the simulation thread's extra CPU per dump, writer_cpu_us the
 * writer thread's CPU per dump (periodic run), file_mb its stats.h5.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/rng.h"
#include "engine/sim.h"
#include "stats/h5writer.h"

#define STREAMS 64

static int g_sync;              /* --sync: no writer thread */
static int g_chunks;            /* --chunks */
static int g_only = -1;         /* --only: 0 final, 1 periodic */
static int g_nowriter;          /* --no-writer */
static uint32_t g_batch;        /* --batch: rows per batch (0: default) */

struct bench {
    struct sim sim;
    struct stats_registry reg;
    struct sim_rng rng;
    struct stats_counter *ctr[200];
    struct stats_scalar *sc[30];
    struct stats_twa *twa[20];
    struct stats_vector *vec[20];
    struct stats_hist *hist[15];
    struct sim_event ev[STREAMS];
    struct sim_event dump_ev;
    double mean_gap;            /* ticks between a stream's events */
    sim_tick_t period;
    int dump_failed;
};

static double cpu_s(clockid_t id);

/* Last run_once: CPU seconds of the simulation thread and of the rest of
   the process (the writer thread). */
static double g_sim_cpu, g_writer_cpu;
static double g_file_mb;        /* last run's stats.h5, MB */

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void step_cb(struct sim_event *ev, void *arg)
{
    struct bench *b = arg;
    uint64_t r = sim_rng_next(&b->rng);
    sim_tick_t now = sim_now(&b->sim);

    stats_counter_inc(b->ctr[r % 200]);
    stats_counter_inc(b->ctr[(r >> 8) % 200]);
    stats_counter_add(b->ctr[(r >> 16) % 200], 64);
    stats_vector_inc(b->vec[(r >> 24) % 20], (uint32_t)((r >> 29) & 7));
    stats_hist_sample(b->hist[(r >> 32) % 15], (double)(1 + ((r >> 36) & 0xfffff)));
    stats_twa_set(b->twa[(r >> 40) % 20], now, (double)((r >> 45) & 31));
    stats_scalar_add(b->sc[(r >> 50) % 30], 4096.0);
    sim_event_schedule_in(&b->sim, ev, 1 + (sim_tick_t)sim_rng_exponential(&b->rng, b->mean_gap));
}

static void dump_cb(struct sim_event *ev, void *arg)
{
    struct bench *b = arg;

    if (stats_dump(&b->reg, sim_now(&b->sim)) != 0) {
        b->dump_failed = 1;
        sim_stop(&b->sim, "dump failed");
        return;
    }
    sim_event_schedule_in(&b->sim, ev, b->period);
}

static int setup(struct bench *b)
{
    static const char *const el[8] = { "e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7" };
    char name[32];
    int i;

    stats_registry_init(&b->reg);
    for (i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        b->ctr[i] = stats_register_counter(&b->reg, "system.bench.counters", name, "count", "c");
    }
    for (i = 0; i < 30; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        b->sc[i] = stats_register_scalar(&b->reg, "system.bench.scalars", name, "B", "s");
    }
    for (i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        b->twa[i] = stats_register_twa(&b->reg, "system.bench.levels", name, "entries", "t", 0);
        snprintf(name, sizeof(name), "v%d", i);
        b->vec[i] = stats_register_vector(&b->reg, "system.bench.vectors", name, "count", "v",
                                          el, 8);
    }
    for (i = 0; i < 15; i++) {
        char expr[64];

        snprintf(name, sizeof(name), "h%d", i);
        b->hist[i] = stats_register_hist_log2(&b->reg, "system.bench.hists", name, "ns", "h",
                                              1, 16, 4);
        snprintf(name, sizeof(name), "f%d", i);
        snprintf(expr, sizeof(expr), "counters.c%d / (counters.c%d + counters.c%d)",
                 i, i, i + 100);
        stats_register_formula(&b->reg, "system.bench", name, "ratio", "f", expr);
    }
    return stats_registry_error(&b->reg);
}

/* One run; returns wall seconds (or -1) and the number of dumps. */
static double run_once(const char *dir, double density, uint64_t us, int periodic,
                       uint64_t *dumps)
{
    struct bench *b = calloc(1, sizeof(*b));
    struct stats_h5_writer *w = NULL;
    struct stats_run_meta meta = { .version = "bench", .config_json = "{}" };
    struct stats_run_end end;
    char path[4096];
    double t0, t1;
    int i;

    if (!b)
        return -1;
    sim_init(&b->sim);
    sim_rng_seed(&b->rng, 1, "bench.stats");
    b->mean_gap = (double)SIM_TICKS_PER_US * STREAMS / density;
    b->period = SIM_TICKS_PER_US;
    snprintf(path, sizeof(path), "%s/stats.h5", dir);
    t0 = now_s();
    double c0 = cpu_s(CLOCK_THREAD_CPUTIME_ID), p0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
    struct stats_h5_options o = STATS_H5_OPTIONS_DEFAULT;

    o.background = !g_sync;
    o.chunks = g_chunks;
    if (g_batch)
        o.batch_rows = g_batch;
    if (setup(b) != 0 ||
        (!g_nowriter && stats_h5_writer_open(&w, &b->reg, path, &meta, &o) != 0)) {
        fprintf(stderr, "bench_stats: %s\n", stats_registry_errmsg(&b->reg));
        return -1;
    }
    for (i = 0; i < STREAMS; i++) {
        sim_event_init(&b->ev[i], step_cb, b, SIM_PRIO_DEFAULT);
        sim_event_schedule(&b->sim, &b->ev[i], (sim_tick_t)sim_rng_below(&b->rng, SIM_TICKS_PER_US));
    }
    if (periodic) {
        sim_event_init(&b->dump_ev, dump_cb, b, SIM_PRIO_STATS);
        sim_event_schedule(&b->sim, &b->dump_ev, b->period);
    }
    sim_run_until(&b->sim, us * SIM_TICKS_PER_US, 0);
    if (!periodic && stats_dump(&b->reg, sim_now(&b->sim)) != 0)
        b->dump_failed = 1;
    end.sim_ticks = sim_now(&b->sim);
    end.events = sim_events_processed(&b->sim);
    *dumps = b->reg.ndumps;
    if (b->dump_failed || (w && stats_h5_writer_close(w, &end) != 0)) {
        fprintf(stderr, "bench_stats: %s\n", stats_registry_errmsg(&b->reg));
        return -1;
    }
    t1 = now_s();
    {
        struct stat st;

        g_file_mb = w && stat(path, &st) == 0 ? (double)st.st_size / 1e6 : 0.0;
    }
    g_sim_cpu = cpu_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    g_writer_cpu = cpu_s(CLOCK_PROCESS_CPUTIME_ID) - p0 - g_sim_cpu;
    sim_destroy(&b->sim);
    stats_registry_destroy(&b->reg);
    free(b);
    return t1 - t0;
}

/*
 * The dump alone: N dumps back to back with one recording between them,
 * with and without the HDF5 writer. Splits the cost into the registry's
 * snapshot (percentiles, formulas) and the writer's (copy + file writes).
 */
static double cpu_s(clockid_t id)
{
    struct timespec t;

    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/*
 * us_per_dump: wall time per dump. sim_cpu / writer_cpu (may be NULL): CPU
 * time per dump of this thread (the simulation's share: snapshot and row
 * copy) and of the rest of the process (the writer thread). The simulation
 * waits for the writer when the writer's share is the larger, so both have
 * budgets: at 300 events per simulated us a run takes ~15-25 us of host time
 * per simulated us, and the 10% target leaves the simulation thread ~1.5 us
 * a dump while the writer thread must stay well under that host time.
 */
static int dump_only(const char *dir, uint64_t n, int with_writer, double *us_per_dump,
                     double *sim_cpu, double *writer_cpu)
{
    struct bench *b = calloc(1, sizeof(*b));
    struct stats_h5_writer *w = NULL;
    struct stats_h5_options o = STATS_H5_OPTIONS_DEFAULT;
    char path[4096];
    double t0, t1, c0, c1, p0, p1;
    uint64_t k;

    if (!b || setup(b) != 0)
        return -1;
    o.background = !g_sync;
    o.chunks = g_chunks;
    snprintf(path, sizeof(path), "%s/stats.h5", dir);
    if (with_writer && stats_h5_writer_open(&w, &b->reg, path, NULL, &o) != 0)
        return -1;
    t0 = now_s();
    c0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    p0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
    for (k = 1; k <= n; k++) {
        stats_counter_inc(b->ctr[k % 200]);
        stats_hist_sample(b->hist[k % 15], (double)k);
        if (stats_dump(&b->reg, k * SIM_TICKS_PER_US) != 0)
            return -1;
    }
    /* The simulation thread's share ends with the last dump (closing the
       file is once a run, not per dump); the writer's once it is done. */
    c1 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    if (w && stats_h5_writer_flush(w) != 0)
        return -1;
    t1 = now_s();
    p1 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
    if (w && stats_h5_writer_close(w, NULL) != 0)
        return -1;
    *us_per_dump = 1e6 * (t1 - t0) / (double)n;
    if (sim_cpu)
        *sim_cpu = 1e6 * (c1 - c0) / (double)n;
    if (writer_cpu)
        *writer_cpu = 1e6 * ((p1 - p0) - (c1 - c0)) / (double)n;
    stats_registry_destroy(&b->reg);
    free(b);
    return 0;
}

int main(int argc, char **argv)
{
    double densities[16];
    int nd = 0, reps = 3, quick = 0, i, r;
    uint64_t us = 20000;
    char dir[] = "/tmp/iommusim-bench-stats.XXXXXX";

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--us") == 0 && i + 1 < argc)
            us = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--sync") == 0)
            g_sync = 1;
        else if (strcmp(argv[i], "--no-writer") == 0)
            g_nowriter = 1;
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            g_batch = (uint32_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--chunks") == 0 && i + 1 < argc) {
            i++;
            g_chunks = strcmp(argv[i], "zlib") == 0 ? STATS_H5_CHUNKS_ZLIB
                     : strcmp(argv[i], "raw") == 0 ? STATS_H5_CHUNKS_RAW
                     : strcmp(argv[i], "auto") == 0 ? STATS_H5_CHUNKS_AUTO : -1;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            i++;
            g_only = strcmp(argv[i], "final") == 0 ? 0 : strcmp(argv[i], "periodic") == 0 ? 1 : -2;
        } else if (strcmp(argv[i], "--dump-only") == 0)
            nd = -1;
        else if (strcmp(argv[i], "--density") == 0 && i + 1 < argc && nd >= 0 && nd < 16)
            densities[nd++] = atof(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_stats [--quick] [--reps R] [--us T] [--sync] "
                    "[--chunks auto|zlib|raw] [--only final|periodic] [--no-writer] "
                    "[--dump-only | --density D ...]\n");
            return 2;
        }
    }
    if (reps < 1 || us < 1) {
        fprintf(stderr, "bench_stats: --reps and --us must be positive\n");
        return 2;
    }
    if (g_chunks < 0 || g_only < -1) {
        fprintf(stderr, "bench_stats: --chunks takes auto, zlib or raw; --only final or "
                "periodic\n");
        return 2;
    }
    if (nd < 0) {
        nd = 0;     /* --dump-only: the dump cost, no simulation */
    } else if (nd == 0) {
        densities[nd++] = 100;
        densities[nd++] = 300;
        densities[nd++] = 1000;
    }
    if (quick) {
        us = us > 1000 ? 1000 : us;
        reps = 1;
    }
    if (!mkdtemp(dir)) {
        perror("bench_stats: mkdtemp");
        return 1;
    }
    if (g_only < 0) {
        double reg_us = 1e300, wr_us = 1e300, sim_us = 1e300, thr_us = 1e300, x, y, z;

        for (r = 0; r < reps; r++) {
            if (dump_only(dir, us, 0, &x, NULL, NULL) != 0)
                return 1;
            reg_us = x < reg_us ? x : reg_us;
            if (dump_only(dir, us, 1, &x, &y, &z) != 0)
                return 1;
            wr_us = x < wr_us ? x : wr_us;
            sim_us = y < sim_us ? y : sim_us;
            thr_us = z < thr_us ? z : thr_us;
        }
        printf("dump_only dumps=%llu registry_us=%.3f with_h5_us=%.3f sim_cpu_us=%.3f "
               "writer_cpu_us=%.3f\n", (unsigned long long)us, reg_us, wr_us, sim_us, thr_us);
    }
    if (nd > 0)
        printf("# %d stats, dump every 1 us of simulated time, %llu us simulated, best of %d\n",
           300, (unsigned long long)us, reps);
    for (i = 0; i < nd; i++) {
        double best_f = 1e300, best_p = 1e300, sim_f = 1e300, sim_p = 1e300, wr_p = 1e300;
        uint64_t df = 0, dp = 0;

        for (r = 0; r < reps; r++) {
            double tf = 0, tp = 0, sf = 0;

            if (g_only != 1) {
                tf = run_once(dir, densities[i], us, 0, &df);
                sf = g_sim_cpu;
            }
            if (g_only != 0)
                tp = run_once(dir, densities[i], us, 1, &dp);
            if (tf < 0 || tp < 0)
                return 1;
            if (g_only != 1) {
                sim_f = sf < sim_f ? sf : sim_f;
                best_f = tf < best_f ? tf : best_f;
            }
            if (g_only != 0) {
                sim_p = g_sim_cpu < sim_p ? g_sim_cpu : sim_p;
                wr_p = g_writer_cpu < wr_p ? g_writer_cpu : wr_p;
                best_p = tp < best_p ? tp : best_p;
            }
        }
        if (g_only >= 0) {
            printf("only %s D=%g wall_s=%.4f sim_cpu_s=%.4f writer_cpu_us_per_dump=%.3f "
                   "file_mb=%.1f\n", g_only ? "periodic" : "final", densities[i],
                   g_only ? best_p : best_f, g_only ? sim_p : sim_f,
                   g_only ? 1e6 * wr_p / (double)(dp ? dp : 1) : 0.0, g_file_mb);
            continue;
        }
        /* sim_extra_us: the simulation thread's extra CPU per dump, the
           share of the wall ratio no second core can hide. */
        printf("stats D=%g final_s=%.4f periodic_s=%.4f dumps=%llu us_per_dump=%.3f "
               "ratio=%.3f sim_cpu_ratio=%.3f sim_extra_us=%.3f writer_cpu_us=%.3f "
               "file_mb=%.1f\n",
               densities[i], best_f, best_p, (unsigned long long)dp,
               1e6 * (best_p - best_f) / (double)(dp > df ? dp - df : 1), best_p / best_f,
               sim_p / sim_f, 1e6 * (sim_p - sim_f) / (double)(dp > df ? dp - df : 1),
               1e6 * wr_p / (double)(dp ? dp : 1), g_file_mb);
        printf("%s periodic/final <= 1.10 at %g events per simulated us: %.3f%s\n",
               best_p / best_f <= 1.10 ? "PASS" : "FAIL", densities[i], best_p / best_f,
               quick ? " (QUICK run, not a measurement)" : "");
        fflush(stdout);
    }
    {
        char path[4096];

        snprintf(path, sizeof(path), "%s/stats.h5", dir);
        unlink(path);
        rmdir(dir);
    }
    return 0;
}
