/*
 * rng.c - stream seeding and distributions (sources cited in rng.h).
 */
#include "engine/rng.h"

#include <math.h>
#include <stdlib.h>

#include "engine/error.h"

/* --- Seeding ------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t fnv1a64(const char *str)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (; str && *str; str++) {
        h ^= (unsigned char)*str;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

void sim_rng_seed(struct sim_rng *rng, uint64_t seed, const char *path)
{
    /* Two splitmix rounds separate seed and path so (a, p) != (p, a). */
    uint64_t x = seed;
    uint64_t mix = splitmix64(&x) ^ fnv1a64(path);

    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&mix);
    /* All-zero state is the one forbidden state; splitmix never yields four
     * zeros in a row, but be explicit about the invariant. */
    if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
        rng->s[0] = 1;
}

/* --- Integers and exponential ------------------------------------------- */

uint64_t sim_rng_below(struct sim_rng *rng, uint64_t n)
{
    /* Lemire, "Fast random integer generation in an interval", TOMACS 2019. */
    unsigned __int128 m = (unsigned __int128)sim_rng_next(rng) * n;
    uint64_t low = (uint64_t)m;

    if (low < n) {
        uint64_t threshold = -n % n;

        while (low < threshold) {
            m = (unsigned __int128)sim_rng_next(rng) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

uint64_t sim_rng_range(struct sim_rng *rng, uint64_t lo, uint64_t hi)
{
    if (lo == 0 && hi == UINT64_MAX)
        return sim_rng_next(rng);
    return lo + sim_rng_below(rng, hi - lo + 1);
}

double sim_rng_exponential(struct sim_rng *rng, double mean)
{
    /* 1 - u is in (0, 1], so the log is finite. */
    return -mean * log(1.0 - sim_rng_uniform(rng));
}

/* --- Zipf: rejection-inversion ------------------------------------------ */

/* log1p(x)/x and expm1(x)/x, both -> 1 as x -> 0, computed stably. */
static double log1p_over_x(double x)
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1.0 - x / 2.0 + x * x / 3.0;
}

static double expm1_over_x(double x)
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1.0 + x / 2.0 + x * x / 6.0;
}

/* h(x) = x^-s and H, an antiderivative of h: H(x) = (x^(1-s) - 1) / (1 - s). */
static double zipf_h(double s, double x)
{
    return exp(-s * log(x));
}

static double zipf_H(double s, double x)
{
    double lx = log(x);

    return expm1_over_x((1.0 - s) * lx) * lx;
}

static double zipf_H_inv(double s, double y)
{
    double t = y * (1.0 - s);

    if (t < -1.0)
        t = -1.0;                   /* guards rounding at the far end */
    return exp(log1p_over_x(t) * y);
}

int sim_zipf_init(struct sim_zipf *z, uint64_t n, double s)
{
    if (n < 1 || !(s > 0.0) || !isfinite(s))
        return SIM_EINVAL;
    z->n = n;
    z->s = s;
    z->h_x1 = zipf_H(s, 1.5) - 1.0;
    z->h_n = zipf_H(s, (double)n + 0.5);
    z->sq = 2.0 - zipf_H_inv(s, zipf_H(s, 2.5) - zipf_h(s, 2.0));
    return 0;
}

uint64_t sim_zipf_sample(const struct sim_zipf *z, struct sim_rng *rng)
{
    for (;;) {
        double u = z->h_n + sim_rng_uniform(rng) * (z->h_x1 - z->h_n);
        double x = zipf_H_inv(z->s, u);
        double kd = floor(x + 0.5);
        uint64_t k;

        if (kd < 1.0)
            kd = 1.0;
        else if (kd > (double)z->n)
            kd = (double)z->n;
        k = (uint64_t)kd;
        /* Accept at once in the region where the hat equals the density,
         * else compare with the exact area under h around k. */
        if (kd - x <= z->sq || u >= zipf_H(z->s, kd + 0.5) - zipf_h(z->s, kd))
            return k;
    }
}

/* --- Empirical: Vose's alias method ------------------------------------ */

int sim_empirical_init(struct sim_empirical *e, const double *values,
                       const double *weights, size_t n)
{
    double sum = 0.0;
    size_t *small = NULL, *large = NULL, ns = 0, nl = 0;

    e->prob = NULL;
    e->alias = NULL;
    e->value = NULL;
    e->n = 0;
    if (n == 0 || n > UINT32_MAX)
        return SIM_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!(weights[i] >= 0.0) || !isfinite(weights[i]))
            return SIM_EINVAL;
        sum += weights[i];
    }
    if (!(sum > 0.0))
        return SIM_EINVAL;

    e->prob = malloc(n * sizeof(*e->prob));
    e->alias = malloc(n * sizeof(*e->alias));
    e->value = malloc(n * sizeof(*e->value));
    small = malloc(n * sizeof(*small));
    large = malloc(n * sizeof(*large));
    if (!e->prob || !e->alias || !e->value || !small || !large)
        goto err_free;

    for (size_t i = 0; i < n; i++) {
        e->value[i] = values[i];
        e->prob[i] = weights[i] * (double)n / sum;
        e->alias[i] = (uint32_t)i;
        if (e->prob[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns && nl) {
        size_t s = small[--ns], l = large[nl - 1];

        e->alias[s] = (uint32_t)l;
        e->prob[l] -= 1.0 - e->prob[s];
        if (e->prob[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* Leftovers are 1 up to rounding. */
    while (nl)
        e->prob[large[--nl]] = 1.0;
    while (ns)
        e->prob[small[--ns]] = 1.0;
    free(small);
    free(large);
    e->n = n;
    return 0;

err_free:
    free(small);
    free(large);
    sim_empirical_destroy(e);
    return SIM_ENOMEM;
}

double sim_empirical_sample(const struct sim_empirical *e, struct sim_rng *rng)
{
    size_t i = (size_t)sim_rng_below(rng, e->n);

    return sim_rng_uniform(rng) < e->prob[i] ? e->value[i] : e->value[e->alias[i]];
}

void sim_empirical_destroy(struct sim_empirical *e)
{
    free(e->prob);
    free(e->alias);
    free(e->value);
    e->prob = NULL;
    e->alias = NULL;
    e->value = NULL;
    e->n = 0;
}
