/*
 * test_stats_formula.c - formula parsing, resolution and evaluation,
 * including division by zero (NaN by definition) and formula chains.
 */
#include <math.h>
#include <string.h>

#include "engine/error.h"
#include "stats/registry.h"
#include "testutil.h"

void test_stats_formula_hit_rate(void);
void test_stats_formula_divide_by_zero(void);
void test_stats_formula_precedence(void);
void test_stats_formula_vector_hist_time(void);
void test_stats_formula_chain_and_cycle(void);
void test_stats_formula_resolve_errors(void);
void test_stats_formula_syntax_errors(void);

static double val(struct stats_registry *r, const char *path)
{
    return stats_snap_f64(stats_find(r, path));
}

void test_stats_formula_hit_rate(void)
{
    struct stats_registry r;
    struct stats_counter *hits, *misses;
    double *rate;

    stats_registry_init(&r);
    /* Registered before the counters it reads: resolved at freeze. */
    rate = stats_register_formula(&r, "sys.iotlb", "hit_rate", "ratio", "hits / lookups",
                                  "hits / (hits + misses)");
    hits = stats_register_counter(&r, "sys.iotlb", "hits", "count", "");
    misses = stats_register_counter(&r, "sys.iotlb", "misses", "count", "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rate);
    CU_ASSERT_PTR_NOT_NULL_FATAL(misses);
    stats_counter_add(hits, 30);
    stats_counter_add(misses, 10);
    CU_ASSERT_EQUAL(stats_dump(&r, 1), 0);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "sys.iotlb.hit_rate"), 0.75, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(*rate, 0.75, 1e-15);
    /* Re-evaluated at every dump. */
    stats_counter_add(misses, 20);
    CU_ASSERT_EQUAL(stats_dump(&r, 2), 0);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "sys.iotlb.hit_rate"), 0.5, 1e-15);
    CU_ASSERT_STRING_EQUAL(stats_stat_expr(stats_find(&r, "sys.iotlb.hit_rate")),
                           "hits / (hits + misses)");
    stats_registry_destroy(&r);
}

void test_stats_formula_divide_by_zero(void)
{
    struct stats_registry r;

    stats_registry_init(&r);
    CU_ASSERT_PTR_NOT_NULL(stats_register_counter(&r, "t", "hits", "", ""));
    CU_ASSERT_PTR_NOT_NULL(stats_register_counter(&r, "t", "misses", "", ""));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "t", "rate", "", "",
                                                  "hits / (hits + misses)"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "t", "inf", "", "", "1 / 0"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "t", "neg", "", "", "-5 / (2 - 2)"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "t", "nested", "", "",
                                                  "1 + 2 * (3 / misses)"));
    /* No lookups: 0/0; 1/0 and -5/0 are NaN too, not +-inf; NaN spreads. */
    CU_ASSERT_EQUAL(stats_dump(&r, 0), 0);
    CU_ASSERT(isnan(val(&r, "t.rate")));
    CU_ASSERT(isnan(val(&r, "t.inf")));
    CU_ASSERT(isnan(val(&r, "t.neg")));
    CU_ASSERT(isnan(val(&r, "t.nested")));
    stats_registry_destroy(&r);
}

void test_stats_formula_precedence(void)
{
    struct stats_registry r;

    stats_registry_init(&r);
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "p", "a", "", "", "2 + 3 * 4"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "p", "b", "", "", "(2 + 3) * 4"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "p", "c", "", "", "10 - 4 - 3"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "p", "d", "", "", "64 / 4 / 2"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "p", "e", "", "", "-2 * -3 + 1.5e1"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "p", "f", "", "", "--4"));
    CU_ASSERT_EQUAL(stats_dump(&r, 0), 0);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "p.a"), 14, 0);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "p.b"), 20, 0);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "p.c"), 3, 0);     /* left associative */
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "p.d"), 8, 0);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "p.e"), 21, 0);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "p.f"), 4, 0);
    stats_registry_destroy(&r);
}

void test_stats_formula_vector_hist_time(void)
{
    static const char *const el[] = { "read", "write" };
    struct stats_registry r;
    struct stats_vector *v;
    struct stats_hist *h;
    struct stats_scalar *bytes;
    struct stats_twa *q;

    stats_registry_init(&r);
    v = stats_register_vector(&r, "dev", "ops", "count", "", el, 2);
    h = stats_register_hist_linear(&r, "dev", "lat", "ns", "", 0, 100, 10);
    bytes = stats_register_scalar(&r, "dev", "bytes", "B", "");
    q = stats_register_twa(&r, "dev", "depth", "", "", 0);
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "dev", "write_share", "", "",
                                                  "ops[write] / sum(ops)"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "dev", "lat_total", "ns", "",
                                                  "count(lat) * mean(lat)"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "dev", "spread", "ns", "",
                                                  "max(lat) - min(lat) + 0 * stdev(lat)"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "dev", "bw", "B/s", "",
                                                  "bytes / @seconds"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "dev", "per_tick", "", "",
                                                  "dev.depth * @ticks"));   /* absolute */
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "dev", "hsum", "ns", "", "sum(lat)"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    stats_vector_add(v, 0, 3);
    stats_vector_add(v, 1, 1);
    stats_hist_sample(h, 10);
    stats_hist_sample(h, 30);
    stats_hist_sample(h, 50);
    stats_scalar_add(bytes, 4096);
    stats_twa_set(q, 0, 2.0);
    /* 2 us after a reset at 1 us: 4096 B / 2e-6 s = 2.048e9 B/s. */
    stats_registry_reset(&r, SIM_TICKS_PER_US);
    stats_scalar_add(bytes, 4096);
    stats_vector_add(v, 0, 3);
    stats_vector_add(v, 1, 1);
    stats_hist_sample(h, 10);
    stats_hist_sample(h, 30);
    stats_hist_sample(h, 50);
    CU_ASSERT_EQUAL(stats_dump(&r, 3 * SIM_TICKS_PER_US), 0);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "dev.write_share"), 0.25, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "dev.lat_total"), 90, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "dev.spread"), 40, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "dev.hsum"), 90, 1e-12);
    ASSERT_NEAR(val(&r, "dev.bw"), 2.048e9, 1e-3);
    ASSERT_NEAR(val(&r, "dev.per_tick"), 2.0 * 2 * SIM_TICKS_PER_US, 1e-6);
    stats_registry_destroy(&r);
}

void test_stats_formula_chain_and_cycle(void)
{
    struct stats_registry r;
    struct stats_counter *c;

    /* c <- b <- a, registered in the worst order: evaluation follows the
       dependencies, not registration. */
    stats_registry_init(&r);
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "f", "a", "", "", "b * 2"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "f", "b", "", "", "c + 1"));
    c = stats_register_counter(&r, "f", "c", "", "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    stats_counter_add(c, 4);
    CU_ASSERT_EQUAL(stats_dump(&r, 0), 0);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "f.b"), 5, 0);
    CU_ASSERT_DOUBLE_EQUAL(val(&r, "f.a"), 10, 0);
    stats_registry_destroy(&r);

    stats_registry_init(&r);
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "g", "x", "", "", "y + 1"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "g", "y", "", "", "z + 1"));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "g", "z", "", "", "x + 1"));
    CU_ASSERT_EQUAL(stats_registry_freeze(&r), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(stats_registry_errmsg(&r), "cycle"));
    stats_registry_destroy(&r);
}

static void expect_freeze_error(const char *expr, int err, const char *needle)
{
    static const char *const el[] = { "a" };
    struct stats_registry r;

    stats_registry_init(&r);
    CU_ASSERT_PTR_NOT_NULL(stats_register_counter(&r, "m", "n", "", ""));
    CU_ASSERT_PTR_NOT_NULL(stats_register_vector(&r, "m", "v", "", "", el, 1));
    CU_ASSERT_PTR_NOT_NULL(stats_register_hist_linear(&r, "m", "h", "", "", 0, 1, 1));
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "m", "f", "", "", expr));
    CU_ASSERT_EQUAL(stats_registry_freeze(&r), err);
    if (!strstr(stats_registry_errmsg(&r), needle))
        fprintf(stderr, "\n    '%s': message '%s' lacks '%s'\n", expr,
                stats_registry_errmsg(&r), needle);
    CU_ASSERT_PTR_NOT_NULL(strstr(stats_registry_errmsg(&r), needle));
    CU_ASSERT_PTR_NOT_NULL(strstr(stats_registry_errmsg(&r), "m.f"));
    stats_registry_destroy(&r);
}

void test_stats_formula_resolve_errors(void)
{
    expect_freeze_error("nope + 1", SIM_ENOENT, "'nope'");
    expect_freeze_error("v + 1", SIM_EINVAL, "vector");
    expect_freeze_error("h * 2", SIM_EINVAL, "histogram");
    expect_freeze_error("v[b]", SIM_ENOENT, "no element 'b'");
    expect_freeze_error("n[a]", SIM_EINVAL, "not a vector");
    expect_freeze_error("mean(v)", SIM_EINVAL, "needs a histogram");
    expect_freeze_error("sum(n)", SIM_EINVAL, "sum()");
    expect_freeze_error("f + 1", SIM_EINVAL, "itself");
}

void test_stats_formula_syntax_errors(void)
{
    static const char *const bad[] = {
        "", "a +", "(a", "a)", "a b", "2 ** 3", "foo(a)", "sum(a", "v[", "v[a",
        "@minutes", ".a", "a.", "1 $ 2",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct stats_registry r;

        stats_registry_init(&r);
        CU_ASSERT_PTR_NULL(stats_register_formula(&r, "s", "f", "", "", bad[i]));
        if (stats_registry_error(&r) != SIM_EPARSE)
            fprintf(stderr, "\n    '%s' gave %s\n", bad[i], sim_errname(stats_registry_error(&r)));
        CU_ASSERT_EQUAL(stats_registry_error(&r), SIM_EPARSE);
        CU_ASSERT_EQUAL(stats_count(&r), 0);
        stats_registry_destroy(&r);
    }
}
