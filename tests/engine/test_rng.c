/*
 * test_rng.c - generator correctness, stream properties and distributions.
 *
 * Statistical checks use fixed seeds, so they are deterministic; their
 * tolerances are 5 standard errors of the estimated quantity, derived in each
 * test, so a correct implementation passes for essentially any seed while a
 * wrong formula (a biased Zipf, a swapped alias) fails by far more.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "testutil.h"

void test_rng_xoshiro_known_answer(void);
void test_rng_stream_determinism(void);
void test_rng_stream_order_independent(void);
void test_rng_streams_independent(void);
void test_rng_below_uniform(void);
void test_rng_exponential_moments(void);
void test_rng_zipf_matches_pmf(void);
void test_rng_zipf_rejects_bad_params(void);
void test_rng_empirical_matches_weights(void);
void test_rng_empirical_rejects_bad_weights(void);

void test_rng_xoshiro_known_answer(void)
{
    /* The reference algorithm (Blackman & Vigna), computed independently
     * (a 10-line Python transcription of the paper's code) from the state
     * {1, 2, 3, 4}. */
    static const uint64_t want[6] = {
        0x2d00, 0x0, 0x5a007080, 0x10e0000000009d80,
        0x10e0b61ce1009d80, 0x870021ce143ad00,
    };
    struct sim_rng r = { { 1, 2, 3, 4 } };

    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(sim_rng_next(&r), want[i]);
}

void test_rng_stream_determinism(void)
{
    struct sim_rng a, b, c;
    int same_c = 0;

    sim_rng_seed(&a, 42, "system.dev0.traffic");
    sim_rng_seed(&b, 42, "system.dev0.traffic");
    sim_rng_seed(&c, 43, "system.dev0.traffic");
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sim_rng_next(&a);

        CU_ASSERT_EQUAL(x, sim_rng_next(&b));
        same_c += x == sim_rng_next(&c);
    }
    CU_ASSERT_EQUAL(same_c, 0);             /* the seed matters */
}

void test_rng_stream_order_independent(void)
{
    /* Creating streams in a different order, or adding one, changes none. */
    static const char *paths[3] = { "system.a", "system.b", "system.c" };
    uint64_t first[3], second[3];
    struct sim_rng r[3], extra;

    for (int i = 0; i < 3; i++) {
        sim_rng_seed(&r[i], 7, paths[i]);
        first[i] = sim_rng_next(&r[i]);
    }
    sim_rng_seed(&extra, 7, "system.new");
    (void)sim_rng_next(&extra);
    for (int i = 2; i >= 0; i--) {
        sim_rng_seed(&r[i], 7, paths[i]);
        second[i] = sim_rng_next(&r[i]);
    }
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(first[i], second[i]);
    CU_ASSERT_NOT_EQUAL(first[0], first[1]);
}

void test_rng_streams_independent(void)
{
    /* Pearson correlation of 10^5 paired uniforms from sibling paths; for
     * independent streams its standard error is 1/sqrt(n) = 0.0032. Also the
     * seed and path must not commute: (seed 1, "2") != (seed 2, "1"). */
    enum { N = 100000 };
    struct sim_rng a, b;
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, r;

    sim_rng_seed(&a, 1, "system.dev0");
    sim_rng_seed(&b, 1, "system.dev1");
    for (int i = 0; i < N; i++) {
        double x = sim_rng_uniform(&a), y = sim_rng_uniform(&b);

        sa += x; sb += y; saa += x * x; sbb += y * y; sab += x * y;
    }
    r = (N * sab - sa * sb) / sqrt((N * saa - sa * sa) * (N * sbb - sb * sb));
    ASSERT_NEAR(r, 0.0, 5.0 / sqrt(N));
    sim_rng_seed(&a, 1, "2");
    sim_rng_seed(&b, 2, "1");
    CU_ASSERT_NOT_EQUAL(sim_rng_next(&a), sim_rng_next(&b));
}

void test_rng_below_uniform(void)
{
    /* 10 cells, 10^5 draws: each count is Binomial(n, 0.1), sd = sqrt(9000). */
    enum { N = 100000, K = 10 };
    struct sim_rng r;
    int count[K] = { 0 };

    sim_rng_seed(&r, 3, "below");
    for (int i = 0; i < N; i++) {
        uint64_t v = sim_rng_below(&r, K);

        CU_ASSERT_FATAL(v < K);
        count[v]++;
    }
    for (int k = 0; k < K; k++)
        ASSERT_NEAR(count[k], N / K, 5.0 * sqrt(N * 0.1 * 0.9));
    for (int i = 0; i < 1000; i++) {
        uint64_t v = sim_rng_range(&r, 100, 103);

        CU_ASSERT(v >= 100 && v <= 103);
    }
    CU_ASSERT_EQUAL(sim_rng_below(&r, 1), 0);
}

void test_rng_exponential_moments(void)
{
    /* Exp(mean m): mean m, variance m^2, so the sample mean's standard error
     * is m / sqrt(n); P(X > m) = 1/e. */
    enum { N = 200000 };
    const double m = 250.0;
    struct sim_rng r;
    double sum = 0, sumsq = 0;
    int above = 0;

    sim_rng_seed(&r, 4, "exp");
    for (int i = 0; i < N; i++) {
        double x = sim_rng_exponential(&r, m);

        CU_ASSERT_FATAL(x >= 0.0 && isfinite(x));
        sum += x;
        sumsq += x * x;
        above += x > m;
    }
    ASSERT_NEAR(sum / N, m, 5.0 * m / sqrt(N));
    /* Var of X^2 is 20 m^4, so E[X^2] = 2 m^2 has s.e. sqrt(20) m^2 / sqrt(n). */
    ASSERT_NEAR(sumsq / N, 2 * m * m, 5.0 * sqrt(20.0) * m * m / sqrt(N));
    ASSERT_NEAR((double)above / N, exp(-1.0), 5.0 * sqrt(0.2325 / N));
}

static void zipf_check(uint64_t n, double s, uint64_t seed)
{
    enum { N = 200000 };
    struct sim_zipf z;
    struct sim_rng r;
    int *count = calloc(n + 1, sizeof(*count));
    double norm = 0.0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(count);
    CU_ASSERT_EQUAL_FATAL(sim_zipf_init(&z, n, s), 0);
    sim_rng_seed(&r, seed, "zipf");
    for (uint64_t k = 1; k <= n; k++)
        norm += pow((double)k, -s);
    for (int i = 0; i < N; i++) {
        uint64_t k = sim_zipf_sample(&z, &r);

        CU_ASSERT_FATAL(k >= 1 && k <= n);
        count[k]++;
    }
    /* Each count is Binomial(N, p_k), p_k = k^-s / H(n, s). */
    for (uint64_t k = 1; k <= n && k <= 20; k++) {
        double p = pow((double)k, -s) / norm;

        ASSERT_NEAR(count[k], N * p, 5.0 * sqrt(N * p * (1 - p)) + 1.0);
    }
    free(count);
}

void test_rng_zipf_matches_pmf(void)
{
    zipf_check(10, 1.2, 11);
    zipf_check(1000, 0.8, 12);
    zipf_check(100, 1.0, 13);       /* s = 1: the log special case */
    zipf_check(1, 2.0, 14);         /* a single element */
    zipf_check(50, 3.5, 15);        /* steep */
}

void test_rng_zipf_rejects_bad_params(void)
{
    struct sim_zipf z;

    CU_ASSERT_EQUAL(sim_zipf_init(&z, 0, 1.0), SIM_EINVAL);
    CU_ASSERT_EQUAL(sim_zipf_init(&z, 10, 0.0), SIM_EINVAL);
    CU_ASSERT_EQUAL(sim_zipf_init(&z, 10, -1.0), SIM_EINVAL);
    CU_ASSERT_EQUAL(sim_zipf_init(&z, 10, NAN), SIM_EINVAL);
    CU_ASSERT_EQUAL(sim_zipf_init(&z, 10, INFINITY), SIM_EINVAL);
}

void test_rng_empirical_matches_weights(void)
{
    enum { N = 200000 };
    static const double values[5] = { 64, 128, 256, 1500, 9000 };
    static const double weights[5] = { 5, 0, 1, 3, 1 };     /* sum 10 */
    struct sim_empirical e;
    struct sim_rng r;
    int count[5] = { 0 };

    CU_ASSERT_EQUAL_FATAL(sim_empirical_init(&e, values, weights, 5), 0);
    sim_rng_seed(&r, 21, "empirical");
    for (int i = 0; i < N; i++) {
        double v = sim_empirical_sample(&e, &r);
        int found = 0;

        for (int k = 0; k < 5; k++) {
            if (v == values[k]) {
                count[k]++;
                found = 1;
            }
        }
        CU_ASSERT_FATAL(found);
    }
    CU_ASSERT_EQUAL(count[1], 0);           /* weight 0 is never drawn */
    for (int k = 0; k < 5; k++) {
        double p = weights[k] / 10.0;

        ASSERT_NEAR(count[k], N * p, 5.0 * sqrt(N * p * (1 - p)));
    }
    sim_empirical_destroy(&e);
}

void test_rng_empirical_rejects_bad_weights(void)
{
    struct sim_empirical e;
    const double v[2] = { 1, 2 };
    const double zero[2] = { 0, 0 }, neg[2] = { 1, -1 }, nan_w[2] = { 1, NAN };

    CU_ASSERT_EQUAL(sim_empirical_init(&e, v, zero, 2), SIM_EINVAL);
    CU_ASSERT_EQUAL(sim_empirical_init(&e, v, neg, 2), SIM_EINVAL);
    CU_ASSERT_EQUAL(sim_empirical_init(&e, v, nan_w, 2), SIM_EINVAL);
    CU_ASSERT_EQUAL(sim_empirical_init(&e, v, zero, 0), SIM_EINVAL);
}
