/*
 * rng.h - random number streams and distributions.
 *
 * Generator: xoshiro256** (D. Blackman and S. Vigna, "Scrambled Linear
 * Pseudorandom Number Generators", ACM TOMS 47(4), 2021): 256 bits of state,
 * period 2^256 - 1, about 1 ns per number, no allocation.
 *
 * Streams: every component that draws random numbers owns a stream seeded from
 * (global seed, its dotted path). The path is hashed (FNV-1a, 64 bits) and
 * mixed with the seed through splitmix64 to fill the state, so a stream
 * depends only on the seed and the path: components may be created in any
 * order, and adding a component does not perturb the others.
 *
 * Distributions draw from one stream and cost O(1) per sample: exponential by
 * inversion, bounded integers by Lemire's multiply-shift with rejection
 * (unbiased), Zipf by rejection-inversion (W. Hormann and G. Derflinger,
 * "Rejection-inversion to generate variates from monotone discrete
 * distributions", ACM TOMACS 6(3), 1996) and empirical (discrete, weighted)
 * by Walker's alias method (Vose's construction, O(n) set-up).
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stddef.h>
#include <stdint.h>

struct sim_rng {
    uint64_t s[4];
};

/* Seed from (seed, path); path may be NULL or "" for the root stream. */
void sim_rng_seed(struct sim_rng *rng, uint64_t seed, const char *path);

/* The next 64 random bits. */
static inline uint64_t sim_rng_next(struct sim_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double sim_rng_uniform(struct sim_rng *rng)
{
    return (double)(sim_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n); n > 0. Unbiased. */
uint64_t sim_rng_below(struct sim_rng *rng, uint64_t n);

/* Uniform integer in [lo, hi]; lo <= hi. */
uint64_t sim_rng_range(struct sim_rng *rng, uint64_t lo, uint64_t hi);

/* Exponential with the given mean (> 0). */
double sim_rng_exponential(struct sim_rng *rng, double mean);

/* --- Zipf over {1..n}, P(k) proportional to k^-s, s > 0 ----------------- */

struct sim_zipf {
    uint64_t n;
    double s;
    double h_x1;            /* H(1.5) - 1 */
    double h_n;             /* H(n + 0.5) */
    double sq;              /* the acceptance shortcut threshold */
};

/* SIM_EINVAL unless n >= 1 and s > 0 (finite). */
int sim_zipf_init(struct sim_zipf *z, uint64_t n, double s);
uint64_t sim_zipf_sample(const struct sim_zipf *z, struct sim_rng *rng);

/* --- Empirical: values with weights, alias method ----------------------- */

struct sim_empirical {
    size_t n;
    double *prob;           /* alias acceptance probabilities */
    uint32_t *alias;
    double *value;
};

/*
 * Copy n (value, weight) pairs; weights >= 0 with a positive sum. Allocates;
 * release with sim_empirical_destroy(). SIM_EINVAL or SIM_ENOMEM.
 */
int sim_empirical_init(struct sim_empirical *e, const double *values,
                       const double *weights, size_t n);
double sim_empirical_sample(const struct sim_empirical *e, struct sim_rng *rng);
void sim_empirical_destroy(struct sim_empirical *e);

#endif /* SIM_RNG_H */
