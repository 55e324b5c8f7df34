/*
 * test_stats_histref.c - a model's latency histogram (src/dev/lathist.h)
 * registered by reference as a real histogram (stats_object_lathist), and
 * the dump sink's delta log replayed against the full snapshot.
 *
 * Expected values are derived here, independently of lathist_bin's bit
 * arithmetic: the bins are [edge_i, edge_i+1) with edges 0, 1, ..., 16 and
 * then 2^k (1 + j/8), so the count of bin i for the integer samples 0..N-1
 * is the number of integers in [edge_i, edge_i+1) below N; the moments of
 * 0..N-1 are closed forms (sum N(N-1)/2, variance N(N+1)/12).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dev/lathist.h"
#include "engine/object.h"
#include "stats/internal.h"
#include "stats/objstats.h"
#include "stats/registry.h"
#include "testutil.h"

void test_stats_lathist_by_reference(void);
void test_stats_sink_delta_log(void);

/* Integers v with lo <= v < hi and v < n (lo, hi integers here). */
static uint64_t ints_in(double lo, double hi, uint64_t n)
{
    double top = hi < (double)n ? hi : (double)n;

    return top > lo ? (uint64_t)(top - lo) : 0;
}

void test_stats_lathist_by_reference(void)
{
    enum { N = 1000 };
    struct stats_registry r;
    struct sim_object obj = { .path = "system.dev" };
    struct lathist *h = calloc(1, sizeof(*h));
    const struct stats_stat *st;
    const struct stats_hist *layout;
    const uint64_t *c;
    const double *s;
    uint64_t total = 0;
    uint32_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    stats_registry_init(&r);
    CU_ASSERT_EQUAL(stats_object_lathist(&r, &obj, "translation_latency", "ps", "t", h), 0);
    /* Bad layouts are refused with a message, as other registrations. */
    CU_ASSERT_EQUAL(stats_register_hist_ref(&r, "x", "bad", "", "", 6, 48, h->bin,
                                            NULL, h), SIM_EINVAL);
    r.err = 0;
    for (i = 0; i < N; i++)
        lathist_add(h, i);
    lathist_add(h, 5000000);
    CU_ASSERT_EQUAL_FATAL(stats_dump(&r, 1), 0);
    st = stats_find(&r, "system.dev.translation_latency");
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(stats_stat_kind(st), STATS_HIST);
    layout = stats_stat_hist(st);
    CU_ASSERT_EQUAL(layout->scale, STATS_HIST_LOGLIN);
    CU_ASSERT_EQUAL(layout->nbins, LATHIST_BINS);
    /* Edges: unit bins to 16, then 8 per octave; the last is 2^64. */
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(layout, 5), 5.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(layout, 16), 16.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(layout, 17), 18.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(layout, 71), 1920.0, 0);  /* 1024 (1 + 7/8) */
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(layout, LATHIST_BINS), ldexp(1.0, 64), 0);
    c = stats_snap_hist_counts(st);
    CU_ASSERT_EQUAL(c[0], 0);                                   /* underflow */
    CU_ASSERT_EQUAL(c[LATHIST_BINS + 1], 0);                    /* overflow */
    for (i = 0; i < LATHIST_BINS; i++) {
        double lo = stats_hist_edge(layout, i), hi = stats_hist_edge(layout, i + 1);
        uint64_t want = ints_in(lo, hi, N) + (lo <= 5e6 && 5e6 < hi);

        if (c[i + 1] != want)
            CU_FAIL("bin count differs from the integers in its edges");
        total += c[i + 1];
    }
    CU_ASSERT_EQUAL(total, N + 1);
    s = stats_snap_hist_summary(st);
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_COUNT], N + 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_SUM], N * (N - 1) / 2.0 + 5e6, 0);
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_MIN], 0.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_MAX], 5e6, 0);
    {
        /* Sample variance of 0..N-1 and 5e6, two-pass in long double. */
        long double mean = ((long double)N * (N - 1) / 2 + 5e6L) / (N + 1), ss = 0;

        for (i = 0; i < N; i++)
            ss += ((long double)i - mean) * ((long double)i - mean);
        ss += (5e6L - mean) * (5e6L - mean);
        CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_MEAN], (double)mean, 1e-9 * (double)mean);
        CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_STDEV], (double)sqrtl(ss / N),
                               1e-9 * (double)sqrtl(ss / N));
    }
    /* p50: the 501st smallest of N + 1 samples is 500, in bin [480, 512). */
    CU_ASSERT_TRUE(fabs(s[STATS_HCOL_P50] - 500.0) <= 32.0);
    /* p99.9: rank ceil(0.999 * 1001) = 1000, the sample 999, bin [992, 1024). */
    CU_ASSERT_TRUE(fabs(s[STATS_HCOL_P999] - 999.0) <= 32.0);

    /* The model resets its own histogram (the registry's reset leaves it). */
    stats_registry_reset(&r, 2);
    CU_ASSERT_EQUAL_FATAL(stats_dump(&r, 2), 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_hist_summary(st)[STATS_HCOL_COUNT], N + 1, 0);
    lathist_reset(h);
    lathist_add(h, 7);
    CU_ASSERT_EQUAL_FATAL(stats_dump(&r, 3), 0);
    s = stats_snap_hist_summary(st);
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_COUNT], 1, 0);
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_MIN], 7, 0);
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_STDEV], 0, 0);
    CU_ASSERT_EQUAL(stats_snap_hist_counts(st)[7 + 1], 1);
    CU_ASSERT_EQUAL(stats_snap_hist_counts(st)[500 / 32 + 1], 0);
    stats_registry_destroy(&r);
    free(h);
}

/*
 * The sink's delta log: replaying every logged (element, value) pair over
 * a copy of the counts must give, after each dump, exactly the registry's
 * full snapshot of every long vector and histogram, whatever changed
 * (random recording, a reset to zero in between), with each pair a real
 * change. A vector of at most STATS_DENSE_VECTOR_MAX elements is dense
 * (copied whole into the sink's row): it has no elements in the log, and
 * its snapshot still follows the recording.
 */
void test_stats_sink_delta_log(void)
{
    static const char *const el[12] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
                                         "k", "l" };
    struct stats_registry r;
    struct stats_vector *v, *sv;
    uint64_t short_want[5] = { 0 };
    struct stats_hist *hl, *hg, *hw;
    uint64_t *mirror, x = 88172645463325252ULL;
    uint32_t idx[1024];
    uint64_t val[1024];
    int d, k;

    stats_registry_init(&r);
    v = stats_register_vector(&r, "m", "v", "", "", el, 12);
    sv = stats_register_vector(&r, "m", "short", "", "", el, 5);
    hl = stats_register_hist_linear(&r, "m", "lin", "", "", 0, 100, 10);
    hg = stats_register_hist_log2(&r, "m", "log", "", "", 1, 8, 4);
    /* 200 bins: changes are tracked per group of 4 (registry.h, dirty). */
    hw = stats_register_hist_linear(&r, "m", "wide", "", "", 0, 200, 200);
    CU_ASSERT_EQUAL_FATAL(stats_registry_freeze(&r), 0);
    CU_ASSERT_EQUAL(stats_registry_wide_elems(&r), 12 + 12 + 34 + 202);
    mirror = calloc(stats_registry_wide_elems(&r), sizeof(uint64_t));
    CU_ASSERT_PTR_NOT_NULL_FATAL(mirror);
    r.log_idx = idx;
    r.log_val = val;
    for (d = 1; d <= 40; d++) {
        size_t n, i;

        for (k = 0; k < d % 7 * 3; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;    /* xorshift64 */
            stats_vector_inc(v, (uint32_t)(x % 12));
            stats_vector_add(sv, (uint32_t)(x % 5), 3);
            short_want[x % 5] += 3;
            stats_hist_sample(hl, (double)(x % 130));
            stats_hist_sample(hg, (double)(x % 400) / 2.0);
            stats_hist_sample(hw, (double)(x % 211));
        }
        if (d == 25) {
            stats_registry_reset(&r, (sim_tick_t)d);
            memset(short_want, 0, sizeof(short_want));
        }
        r.log_n = 0;
        CU_ASSERT_EQUAL_FATAL(stats_dump(&r, (sim_tick_t)d), 0);
        n = r.log_n;
        CU_ASSERT_TRUE(n <= stats_registry_wide_elems(&r));
        for (i = 0; i < n; i++) {
            CU_ASSERT_NOT_EQUAL(mirror[idx[i]], val[i]);    /* only changes */
            mirror[idx[i]] = val[i];
        }
        if (memcmp(mirror, stats_snap_vector(stats_find(&r, "m.v")), 12 * 8) ||
            memcmp(mirror + 12, stats_snap_hist_counts(stats_find(&r, "m.lin")), 12 * 8) ||
            memcmp(mirror + 24, stats_snap_hist_counts(stats_find(&r, "m.log")), 34 * 8) ||
            memcmp(mirror + 58, stats_snap_hist_counts(stats_find(&r, "m.wide")), 202 * 8))
            CU_FAIL("replayed log differs from the snapshot");
        /* The snapshot equals the live bins, whichever the dump compared. */
        {
            const struct stats_hist *const hs[3] = { hl, hg, hw };
            const char *const names[3] = { "m.lin", "m.log", "m.wide" };
            int h;

            for (h = 0; h < 3; h++) {
                const uint64_t *c = stats_snap_hist_counts(stats_find(&r, names[h]));

                if (c[0] != hs[h]->underflow || c[hs[h]->nbins + 1] != hs[h]->overflow ||
                    memcmp(c + 1, hs[h]->bins, hs[h]->nbins * 8) != 0)
                    CU_FAIL("a histogram's snapshot differs from its bins");
            }
        }
        if (memcmp(short_want, stats_snap_vector(stats_find(&r, "m.short")), 5 * 8))
            CU_FAIL("a dense vector's snapshot differs from what was recorded");
    }
    r.log_idx = NULL;
    r.log_val = NULL;
    stats_registry_destroy(&r);
    free(mirror);
}
