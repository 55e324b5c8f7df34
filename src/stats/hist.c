/*
 * hist.c - histogram edges, percentiles and summaries.
 *
 * Recording (registry.h) only bumps a bin and exact moments; everything here
 * runs at dump time, once per histogram: one pass over the bins per
 * percentile, so a 64-bin histogram costs a few hundred nanoseconds a dump.
 *
 * Percentiles follow the nearest-rank definition: for p = ppm/10^6 and n
 * samples the answer is the k-th smallest sample, k = ceil(p n) (k >= 1).
 * The bins say which bin holds the k-th sample; min and max, kept exactly,
 * clip the underflow and overflow bins (and any bin) to where samples can
 * be. Inside the clipped bin [a, b] holding c samples of which the k-th is
 * the j-th, the estimate is a + (b - a) (j - 1/2) / c: it assumes the c
 * samples are spread evenly, and whatever their spread both the estimate
 * and the exact value lie in [a, b]. So |error| <= b - a: at most the bin
 * width (linear), under x/sub for x in a log2 bin, and 0 when min == max.
 */
#include "stats/registry.h"

#include <math.h>
#include <string.h>

const char *const stats_hist_col_names[STATS_HCOL__COUNT] = {
    "count", "sum", "mean", "stdev", "min", "max", "p50", "p90", "p99", "p99.9",
};

double stats_hist_edge(const struct stats_hist *h, uint32_t i)
{
    if (i >= h->nbins)
        return h->hi;
    if (h->scale == STATS_HIST_LINEAR)
        return h->lo + (double)i * h->width;
    if (h->scale == STATS_HIST_LOGLIN) {
        /* Unit bins up to 2 sub, then octave o >= 2 starts at
           2^(o + sub_shift - 1): the integer edges of src/dev/lathist.h. */
        uint32_t sub = UINT32_C(1) << h->sub_shift, o = i >> h->sub_shift;

        if (i < 2 * sub)
            return (double)i;
        return ldexp(1.0 + (double)(i & (sub - 1)) / (double)sub,
                     (int)(o + h->sub_shift - 1));
    }
    {
        /* lo 2^octave (1 + j/sub), exactly. lo is a power of two and
           registration checked that hi = lo 2^octaves is finite, so
           2^(lo_exp + octave) is a normal double, built from its exponent
           bits. ldexp() here was about a third of a dump's percentile
           work (bench_stats --dump-only: registry 2.4 -> 1.9 us a dump). */
        uint32_t sub = UINT32_C(1) << h->sub_shift;
        uint32_t octave = i >> h->sub_shift, j = i & (sub - 1);
        uint64_t bits = (uint64_t)(h->lo_exp + (int32_t)octave + 1023) << 52;
        double p2;

        memcpy(&p2, &bits, sizeof(p2));
        return p2 * (1.0 + (double)j / (double)sub);
    }
}

/* The clipped bounds [a, z] of bin b of counts[] (0 underflow, nb-1 overflow). */
static void bin_bounds(const struct stats_hist *h, uint32_t b, uint32_t nb,
                       double min, double max, double *a, double *z)
{
    if (b == 0) {
        *a = min;
        *z = h->lo;
    } else if (b == nb - 1) {
        *a = h->hi;
        *z = max;
    } else {
        *a = stats_hist_edge(h, b - 1);
        *z = stats_hist_edge(h, b);
    }
    if (*a < min)
        *a = min;
    if (*z > max)
        *z = max;
    if (*z < *a)        /* only through rounding at an edge */
        *z = *a;
}

/*
 * Several percentiles in one pass over the bins: ppm[] ascending, n of them.
 * A dump summarises every histogram, so one pass instead of four matters.
 */
static void percentiles(const struct stats_hist *h, const uint64_t *counts,
                        uint64_t count, double min, double max,
                        const uint32_t *ppm, int n, double *out)
{
    uint64_t cum = 0;
    uint32_t b = 0, nb = h->nbins + 2;
    int i;

    for (i = 0; i < n; i++) {
        /* 64-bit arithmetic when count * 10^6 fits (any real count):
           a 128-bit division is a library call, four per histogram per
           dump in the writer thread. */
        uint64_t k = count <= UINT64_MAX / 1000000 - 1
            ? (count * ppm[i] + 999999) / 1000000
            : (uint64_t)(((unsigned __int128)count * ppm[i] + 999999) / 1000000);

        if (count == 0 || ppm[i] == 0 || ppm[i] > 1000000) {
            out[i] = NAN;
            continue;
        }
        while (b < nb && cum + counts[b] < k)
            cum += counts[b++];
        if (b == nb) {
            out[i] = max;   /* counts disagree with count: stay in the data */
        } else {
            double a, z;

            bin_bounds(h, b, nb, min, max, &a, &z);
            out[i] = a + (z - a) * ((double)(k - cum) - 0.5) / (double)counts[b];
        }
    }
}

double stats_hist_percentile(const struct stats_hist *h, const uint64_t *counts,
                             uint64_t count, double min, double max, uint32_t ppm)
{
    double v;

    percentiles(h, counts, count, min, max, &ppm, 1, &v);
    return v;
}

void stats_hist_summarise_moments(const struct stats_hist *h, double *s)
{
    double n = (double)h->count;
    int i;

    s[STATS_HCOL_COUNT] = n;
    if (h->count == 0) {
        s[STATS_HCOL_SUM] = 0.0;
        for (i = STATS_HCOL_MEAN; i < STATS_HCOL__COUNT; i++)
            s[i] = NAN;
        return;
    }
    s[STATS_HCOL_SUM] = h->shift * n + h->sum_d;
    s[STATS_HCOL_MEAN] = h->shift + h->sum_d / n;
    if (h->count < 2) {
        s[STATS_HCOL_STDEV] = 0.0;
    } else {
        double var = (h->sumsq_d - h->sum_d * h->sum_d / n) / (n - 1.0);

        s[STATS_HCOL_STDEV] = var > 0.0 ? sqrt(var) : 0.0;
    }
    s[STATS_HCOL_MIN] = h->min;
    s[STATS_HCOL_MAX] = h->max;
    for (i = STATS_HCOL_P50; i < STATS_HCOL__COUNT; i++)
        s[i] = NAN;
}

void stats_hist_summarise_percentiles(const struct stats_hist *h, const uint64_t *counts,
                                      double *s)
{
    static const uint32_t ppm[4] = { 500000, 900000, 990000, 999000 };
    uint64_t count = 0;
    uint32_t i;

    /* Every sample is in exactly one of counts[] (underflow, a bin or
       overflow), so their sum is the sample count, exactly. */
    for (i = 0; i < h->nbins + 2; i++)
        count += counts[i];
    percentiles(h, counts, count, s[STATS_HCOL_MIN], s[STATS_HCOL_MAX], ppm, 4,
                s + STATS_HCOL_P50);
}

void stats_hist_summarise(const struct stats_hist *h, const uint64_t *counts,
                          double *s)
{
    stats_hist_summarise_moments(h, s);
    stats_hist_summarise_percentiles(h, counts, s);
}
