/*
 * lathist.h - an inline log-linear histogram of tick counts (latencies).
 *
 * Eight bins per power of two (the HdrHistogram idea with 3 bits of
 * mantissa): values below 16 are exact, larger ones fall in a bin whose
 * width is 1/8 of its power of two, so a percentile read from the bins is
 * within 1/16 of the true value. Recording is a count-leading-zeros and an
 * increment; the struct is 4 KiB and lives inside its owner, so the stats
 * layer registers it by address as a real histogram (stats_object_lathist:
 * dumps x bins in stats.h5, scale `loglin`).
 */
#ifndef SIM_DEV_LATHIST_H
#define SIM_DEV_LATHIST_H

#include <stdint.h>
#include <string.h>

#define LATHIST_SUB 8
#define LATHIST_BINS (62 * LATHIST_SUB)

struct lathist {
    uint64_t count;
    double sum;
    uint64_t max;
    uint64_t bin[LATHIST_BINS];
    /* For the stats layer's histogram by reference (stats_object_lathist):
       the exact minimum and sums about the first sample, which keep the
       standard deviation accurate when the mean is large against the
       spread. Three flops a sample. */
    uint64_t min;
    double shift, sum_d, sumsq_d;
};

static inline unsigned lathist_bin(uint64_t v)
{
    unsigned e;

    if (v < 2 * LATHIST_SUB)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v);            /* >= 4 */
    return (e - 2) * LATHIST_SUB + (unsigned)((v >> (e - 3)) & (LATHIST_SUB - 1));
}

/* Lowest value of bin b, and its width. */
static inline uint64_t lathist_bin_lo(unsigned b, uint64_t *width)
{
    unsigned e;

    if (b < 2 * LATHIST_SUB) {
        *width = 1;
        return b;
    }
    e = b / LATHIST_SUB + 2;
    *width = UINT64_C(1) << (e - 3);
    return (uint64_t)(LATHIST_SUB + b % LATHIST_SUB) << (e - 3);
}

static inline void lathist_add(struct lathist *h, uint64_t v)
{
    double d;

    if (h->count == 0) {
        h->shift = (double)v;
        h->min = v;
    }
    if (v < h->min)
        h->min = v;
    h->count++;
    h->sum += (double)v;
    d = (double)v - h->shift;
    h->sum_d += d;
    h->sumsq_d += d * d;
    if (v > h->max)
        h->max = v;
    h->bin[lathist_bin(v)]++;
}

static inline double lathist_mean(const struct lathist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}

/*
 * The p-quantile (0 < p <= 1): the smallest bin holding at least
 * ceil(p * count) samples, reported as its midpoint (exact below 16,
 * never above the maximum seen). 0 for an empty histogram.
 */
static inline double lathist_percentile(const struct lathist *h, double p)
{
    uint64_t need, seen = 0, w, lo;
    double need_d;

    if (!h->count)
        return 0.0;
    need_d = p * (double)h->count;
    need = (uint64_t)need_d;
    if ((double)need < need_d)
        need++;
    if (need < 1)
        need = 1;
    for (unsigned b = 0; b < LATHIST_BINS; b++) {
        seen += h->bin[b];
        if (seen >= need) {
            double mid;

            lo = lathist_bin_lo(b, &w);
            mid = w == 1 ? (double)lo : (double)lo + (double)(w - 1) / 2.0;
            return mid > (double)h->max ? (double)h->max : mid;
        }
    }
    return (double)h->max;
}

static inline void lathist_reset(struct lathist *h)
{
    memset(h, 0, sizeof(*h));
}

#endif /* SIM_DEV_LATHIST_H */
