/*
 * test_stats_hist.c - histogram binning, exact moments, and percentiles
 * from bins against exact percentiles of a known sample, within the bound
 * documented in hist.c and stats/SCHEMA.md.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/rng.h"
#include "stats/registry.h"
#include "testutil.h"

void test_stats_hist_linear_bins(void);
void test_stats_hist_log2_bins(void);
void test_stats_hist_moments(void);
void test_stats_hist_percentile_rank_exact(void);
void test_stats_hist_percentiles_linear_vs_exact(void);
void test_stats_hist_percentiles_log2_vs_exact(void);
void test_stats_hist_percentile_degenerate(void);

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Nearest rank: the k-th smallest, k = ceil(ppm n / 10^6), by integers. */
static double exact_percentile(const double *sorted, size_t n, uint32_t ppm)
{
    uint64_t k = ((uint64_t)n * ppm + 999999) / 1000000;

    return sorted[k ? k - 1 : 0];
}

void test_stats_hist_linear_bins(void)
{
    struct stats_registry r;
    struct stats_hist *h;
    const uint64_t *c;

    stats_registry_init(&r);
    h = stats_register_hist_linear(&r, "d", "lat", "ns", "", 10, 50, 4);   /* width 10 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(h, 0), 10, 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(h, 2), 30, 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(h, 4), 50, 0);
    stats_hist_sample(h, 9.999);    /* underflow */
    stats_hist_sample(h, 10);       /* bin 0: [10, 20) */
    stats_hist_sample(h, 19.999);   /* bin 0 */
    stats_hist_sample(h, 20);       /* bin 1: an edge belongs to the bin above */
    stats_hist_sample(h, 49.999);   /* bin 3 */
    stats_hist_sample(h, 50);       /* overflow: the last edge is exclusive */
    stats_hist_sample(h, -1e9);     /* underflow */
    CU_ASSERT_EQUAL(stats_dump(&r, 0), 0);
    c = stats_snap_hist_counts(stats_find(&r, "d.lat"));
    CU_ASSERT_EQUAL(c[0], 2);
    CU_ASSERT_EQUAL(c[1], 2);
    CU_ASSERT_EQUAL(c[2], 1);
    CU_ASSERT_EQUAL(c[3], 0);
    CU_ASSERT_EQUAL(c[4], 1);
    CU_ASSERT_EQUAL(c[5], 1);
    stats_registry_destroy(&r);
}

void test_stats_hist_log2_bins(void)
{
    struct stats_registry r;
    struct stats_hist *h, *q;

    stats_registry_init(&r);
    /* lo 1, 3 octaves, 4 bins each: edges 1 1.25 1.5 1.75 2 2.5 3 3.5 4 5 6 7 8 */
    h = stats_register_hist_log2(&r, "d", "lat", "ns", "", 1, 3, 4);
    /* lo 0.25, 2 octaves, no sub-bins: edges 0.25 0.5 1 */
    q = stats_register_hist_log2(&r, "d", "small", "s", "", 0.25, 2, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT_EQUAL(h->nbins, 12);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(h, 1), 1.25, 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(h, 5), 2.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(h, 11), 7, 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(h, 12), 8, 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_edge(q, 1), 0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(q->hi, 1.0, 0);
    stats_hist_sample(h, 0);        /* underflow */
    stats_hist_sample(h, 1);        /* bin 0 */
    stats_hist_sample(h, 1.2499);   /* bin 0 */
    stats_hist_sample(h, 1.25);     /* bin 1 */
    stats_hist_sample(h, 3);        /* bin 6: [3, 3.5) */
    stats_hist_sample(h, 7.99);     /* bin 11 */
    stats_hist_sample(h, 8);        /* overflow */
    stats_hist_sample(q, 0.3);      /* bin 0 */
    stats_hist_sample(q, 0.75);     /* bin 1 */
    stats_hist_sample(q, 0.1);      /* underflow */
    CU_ASSERT_EQUAL(h->underflow, 1);
    CU_ASSERT_EQUAL(h->bins[0], 2);
    CU_ASSERT_EQUAL(h->bins[1], 1);
    CU_ASSERT_EQUAL(h->bins[6], 1);
    CU_ASSERT_EQUAL(h->bins[11], 1);
    CU_ASSERT_EQUAL(h->overflow, 1);
    CU_ASSERT_EQUAL(q->bins[0], 1);
    CU_ASSERT_EQUAL(q->bins[1], 1);
    CU_ASSERT_EQUAL(q->underflow, 1);
    stats_registry_destroy(&r);
}

void test_stats_hist_moments(void)
{
    /* Large offset, small spread: naive sum of squares would lose it all
       (1e12^2 = 1e24 swamps a variance of ~1). Samples 1e12 + {0..9}:
       mean 1e12 + 4.5, sample variance sum((i-4.5)^2)/9 = 82.5/9. */
    struct stats_registry r;
    struct stats_hist *h;
    const double *s;
    int i;

    stats_registry_init(&r);
    h = stats_register_hist_linear(&r, "d", "big", "ps", "", 0, 1, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    for (i = 0; i < 10; i++)
        stats_hist_sample(h, 1e12 + i);
    CU_ASSERT_EQUAL(stats_dump(&r, 0), 0);
    s = stats_snap_hist_summary(stats_find(&r, "d.big"));
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_COUNT], 10, 0);
    ASSERT_NEAR(s[STATS_HCOL_MEAN], 1e12 + 4.5, 1e-3);
    ASSERT_NEAR(s[STATS_HCOL_STDEV], sqrt(82.5 / 9.0), 1e-9);
    ASSERT_NEAR(s[STATS_HCOL_SUM], 1e13 + 45, 1e-2);
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_MIN], 1e12, 0);
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_MAX], 1e12 + 9, 0);
    /* All in overflow, so percentiles lie in [min, max]. */
    CU_ASSERT(s[STATS_HCOL_P50] >= 1e12 && s[STATS_HCOL_P50] <= 1e12 + 9);
    stats_registry_destroy(&r);
}

void test_stats_hist_percentile_rank_exact(void)
{
    /* Samples 1..100 in unit bins [0, 200): the exact p99 is 99 and sits
       alone in bin [99, 100). Computing the rank as ceil(0.99 * 100) in
       double gives 100 and would answer from the bin [100, 101). */
    struct stats_registry r;
    struct stats_hist *h;
    const double *s;
    int i;

    stats_registry_init(&r);
    h = stats_register_hist_linear(&r, "d", "u", "", "", 0, 200, 200);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    for (i = 1; i <= 100; i++)
        stats_hist_sample(h, i);
    CU_ASSERT_EQUAL(stats_dump(&r, 0), 0);
    s = stats_snap_hist_summary(stats_find(&r, "d.u"));
    CU_ASSERT(s[STATS_HCOL_P99] >= 99 && s[STATS_HCOL_P99] < 100);
    CU_ASSERT(s[STATS_HCOL_P50] >= 50 && s[STATS_HCOL_P50] < 51);
    CU_ASSERT(s[STATS_HCOL_P90] >= 90 && s[STATS_HCOL_P90] < 91);
    /* p99.9: ceil(99.9) = 100, the maximum; clipped to max it is exact. */
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_P999], 100, 0);
    stats_registry_destroy(&r);
}

/* Percentiles the histograms must estimate, in ppm. */
static const uint32_t ppms[] = { 1000, 100000, 250000, 500000, 900000, 990000,
                                 999000, 1000000 };

void test_stats_hist_percentiles_linear_vs_exact(void)
{
    /* 100000 exponential samples, mean 1000 ns, in 1000 bins of 10 ns over
       [0, 10000) (a few land in overflow: P(X > 10 mean) = e^-10). Bound:
       the estimate is in the same bin as the exact value, clipped to
       [min, max]: |error| <= 10 ns in-range, <= max - 10000 in overflow. */
    enum { N = 100000 };
    struct stats_registry r;
    struct stats_hist *h;
    struct sim_rng rng;
    double *x = malloc(N * sizeof(double));
    size_t i, j;

    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    stats_registry_init(&r);
    h = stats_register_hist_linear(&r, "d", "lat", "ns", "", 0, 10000, 1000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    sim_rng_seed(&rng, 42, "test.hist.linear");
    for (i = 0; i < N; i++) {
        x[i] = sim_rng_exponential(&rng, 1000.0);
        stats_hist_sample(h, x[i]);
    }
    CU_ASSERT_EQUAL(stats_dump(&r, 0), 0);
    qsort(x, N, sizeof(double), cmp_double);
    for (j = 0; j < sizeof(ppms) / sizeof(ppms[0]); j++) {
        const struct stats_stat *st = stats_find(&r, "d.lat");
        double est = stats_hist_percentile(h, stats_snap_hist_counts(st), h->count,
                                           h->min, h->max, ppms[j]);
        double want = exact_percentile(x, N, ppms[j]);
        double bound = want >= 10000 ? x[N - 1] - 10000 : 10.0;

        ASSERT_NEAR(est, want, bound);
    }
    /* The stored summary uses the same estimator. */
    {
        const double *s = stats_snap_hist_summary(stats_find(&r, "d.lat"));

        ASSERT_NEAR(s[STATS_HCOL_P99], exact_percentile(x, N, 990000), 10.0);
        ASSERT_NEAR(s[STATS_HCOL_P999], exact_percentile(x, N, 999000), 10.0);
    }
    free(x);
    stats_registry_destroy(&r);
}

void test_stats_hist_percentiles_log2_vs_exact(void)
{
    /* Lognormal-ish latencies spanning four decades (exp of a uniform on
       [0, 9.2]: 1 .. ~10^4), log2 bins from 1 with 16 sub-bins: the bound
       is |error| <= x / 16 (bin width 2^k/16 for x >= 2^k). */
    enum { N = 50000 };
    struct stats_registry r;
    struct stats_hist *h;
    struct sim_rng rng;
    double *x = malloc(N * sizeof(double));
    size_t i, j;

    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    stats_registry_init(&r);
    h = stats_register_hist_log2(&r, "d", "lat", "ns", "", 1, 16, 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    sim_rng_seed(&rng, 7, "test.hist.log2");
    for (i = 0; i < N; i++) {
        x[i] = exp(9.2 * sim_rng_uniform(&rng));
        stats_hist_sample(h, x[i]);
    }
    CU_ASSERT_EQUAL(stats_dump(&r, 0), 0);
    qsort(x, N, sizeof(double), cmp_double);
    for (j = 0; j < sizeof(ppms) / sizeof(ppms[0]); j++) {
        const struct stats_stat *st = stats_find(&r, "d.lat");
        double est = stats_hist_percentile(h, stats_snap_hist_counts(st), h->count,
                                           h->min, h->max, ppms[j]);
        double want = exact_percentile(x, N, ppms[j]);

        ASSERT_NEAR(est, want, want / 16.0);
    }
    free(x);
    stats_registry_destroy(&r);
}

void test_stats_hist_percentile_degenerate(void)
{
    struct stats_registry r;
    struct stats_hist *h, *one;
    const double *s;
    int i;

    stats_registry_init(&r);
    h = stats_register_hist_linear(&r, "d", "empty", "", "", 0, 10, 10);
    one = stats_register_hist_linear(&r, "d", "same", "", "", 0, 10, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(one);
    for (i = 0; i < 5; i++)
        stats_hist_sample(one, 3.7);
    CU_ASSERT_EQUAL(stats_dump(&r, 0), 0);
    /* No samples: count and sum 0, everything else undefined. */
    s = stats_snap_hist_summary(stats_find(&r, "d.empty"));
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_COUNT], 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_SUM], 0, 0);
    CU_ASSERT(isnan(s[STATS_HCOL_MEAN]));
    CU_ASSERT(isnan(s[STATS_HCOL_P50]));
    /* min == max: the clipped bin has zero width, percentiles are exact. */
    s = stats_snap_hist_summary(stats_find(&r, "d.same"));
    for (i = STATS_HCOL_P50; i <= STATS_HCOL_P999; i++)
        CU_ASSERT_DOUBLE_EQUAL(s[i], 3.7, 0);
    CU_ASSERT_DOUBLE_EQUAL(s[STATS_HCOL_STDEV], 0, 0);
    (void)h;
    stats_registry_destroy(&r);
}
