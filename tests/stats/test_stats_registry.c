/*
 * test_stats_registry.c - registration rules, recording, dumps, reset and
 * time-weighted averages. Expected values are derived by hand in comments.
 */
#include <math.h>
#include <string.h>

#include "engine/error.h"
#include "stats/registry.h"
#include "testutil.h"

void test_stats_register_paths(void);
void test_stats_register_errors_sticky(void);
void test_stats_register_after_freeze(void);
void test_stats_record_and_dump(void);
void test_stats_reset_semantics(void);
void test_stats_twa_hand_derived(void);
void test_stats_dump_order_enforced(void);

void test_stats_register_paths(void)
{
    struct stats_registry r;
    struct stats_counter *a, *b;

    stats_registry_init(&r);
    a = stats_register_counter(&r, "system.iommu.iotlb", "hits", "count", "IOTLB hits");
    b = stats_register_counter(&r, NULL, "top", "count", "no prefix");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_NOT_NULL(stats_find(&r, "system.iommu.iotlb.hits"));
    CU_ASSERT_PTR_NOT_NULL(stats_find(&r, "top"));
    CU_ASSERT_STRING_EQUAL(stats_stat_unit(stats_find(&r, "top")), "count");
    CU_ASSERT_STRING_EQUAL(stats_stat_desc(stats_find(&r, "system.iommu.iotlb.hits")),
                           "IOTLB hits");
    CU_ASSERT_EQUAL(stats_count(&r), 2);
    CU_ASSERT_EQUAL(stats_registry_error(&r), 0);
    stats_registry_destroy(&r);
}

static int fails_with(struct stats_registry *r, void *p, int err)
{
    int ok = p == NULL && stats_registry_error(r) == err;

    /* Reset the sticky error for the next case. */
    r->err = 0;
    r->errmsg[0] = '\0';
    return ok;
}

void test_stats_register_errors_sticky(void)
{
    static const char *const dup[] = { "a", "a" };
    static const char *const bad[] = { "ok", "no-dash" };
    struct stats_registry r;

    stats_registry_init(&r);
    CU_ASSERT_PTR_NOT_NULL(stats_register_counter(&r, "sys.dev", "reads", "count", ""));
    CU_ASSERT(fails_with(&r, stats_register_counter(&r, "sys.dev", "reads", "count", ""),
                         SIM_EEXIST));
    CU_ASSERT(fails_with(&r, stats_register_counter(&r, "sys..dev", "x", "", ""), SIM_EINVAL));
    CU_ASSERT(fails_with(&r, stats_register_counter(&r, "sys", "dev x", "", ""), SIM_EINVAL));
    CU_ASSERT(fails_with(&r, stats_register_counter(&r, "sys", "", "", ""), SIM_EINVAL));
    /* sys.dev.reads exists: sys.dev.reads.x would make it a group, and
       sys.dev would be a dataset holding it. */
    CU_ASSERT(fails_with(&r, stats_register_counter(&r, "sys.dev.reads", "x", "", ""),
                         SIM_EINVAL));
    CU_ASSERT(fails_with(&r, stats_register_scalar(&r, "sys", "dev", "", ""), SIM_EINVAL));
    /* sys.devx is not under sys.dev: allowed. */
    CU_ASSERT_PTR_NOT_NULL(stats_register_counter(&r, "sys", "devx", "", ""));
    CU_ASSERT(fails_with(&r, stats_register_vector(&r, "sys", "v", "", "", dup, 2), SIM_EINVAL));
    CU_ASSERT(fails_with(&r, stats_register_vector(&r, "sys", "v", "", "", bad, 2), SIM_EINVAL));
    CU_ASSERT(fails_with(&r, stats_register_hist_linear(&r, "sys", "h", "", "", 5, 5, 4),
                         SIM_EINVAL));
    CU_ASSERT(fails_with(&r, stats_register_hist_log2(&r, "sys", "h", "", "", 3, 4, 4),
                         SIM_EINVAL));   /* lo not a power of two */
    CU_ASSERT(fails_with(&r, stats_register_hist_log2(&r, "sys", "h", "", "", 1, 4, 3),
                         SIM_EINVAL));   /* sub not a power of two */
    CU_ASSERT(fails_with(&r, stats_register_formula(&r, "sys", "f", "", "", "a +"),
                         SIM_EPARSE));

    /* Sticky: the first error stays, later successes do not clear it. */
    CU_ASSERT_PTR_NULL(stats_register_counter(&r, "sys.dev", "reads", "count", ""));
    CU_ASSERT_PTR_NULL(stats_register_counter(&r, "bad path", "x", "", ""));
    CU_ASSERT_PTR_NOT_NULL(stats_register_counter(&r, "sys", "fine", "", ""));
    CU_ASSERT_EQUAL(stats_registry_error(&r), SIM_EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(stats_registry_errmsg(&r), "sys.dev.reads"));
    /* And freeze refuses to go on with an error pending. */
    CU_ASSERT_EQUAL(stats_registry_freeze(&r), SIM_EEXIST);
    stats_registry_destroy(&r);
}

void test_stats_register_after_freeze(void)
{
    struct stats_registry r;

    stats_registry_init(&r);
    CU_ASSERT_PTR_NOT_NULL(stats_register_counter(&r, "a", "b", "", ""));
    CU_ASSERT_EQUAL(stats_dump(&r, 0), 0);      /* freezes */
    CU_ASSERT_PTR_NULL(stats_register_counter(&r, "a", "c", "", ""));
    CU_ASSERT_EQUAL(stats_registry_error(&r), SIM_ESTATE);
    stats_registry_destroy(&r);
}

void test_stats_record_and_dump(void)
{
    static const char *const sizes[] = { "4K", "2M", "1G" };
    struct stats_registry r;
    struct stats_counter *c;
    struct stats_scalar *s;
    struct stats_vector *v;
    const uint64_t *snap;
    int i;

    stats_registry_init(&r);
    c = stats_register_counter(&r, "dev", "reqs", "count", "requests");
    s = stats_register_scalar(&r, "dev", "bytes", "B", "bytes moved");
    v = stats_register_vector(&r, "dev", "maps", "count", "maps by page size", sizes, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    for (i = 0; i < 1000; i++) {
        stats_counter_inc(c);
        stats_scalar_add(s, 64.0);
        stats_vector_inc(v, (uint32_t)(i % 3));
    }
    stats_counter_add(c, 5);
    stats_vector_add(v, 2, 10);
    CU_ASSERT_EQUAL(stats_dump(&r, 1000), 0);
    CU_ASSERT_EQUAL(stats_snap_u64(stats_find(&r, "dev.reqs")), 1005);
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "dev.bytes")), 64000.0, 0);
    snap = stats_snap_vector(stats_find(&r, "dev.maps"));
    /* i % 3 over 0..999: 334 zeros, 333 ones, 333 twos (+10). */
    CU_ASSERT_EQUAL(snap[0], 334);
    CU_ASSERT_EQUAL(snap[1], 333);
    CU_ASSERT_EQUAL(snap[2], 343);
    CU_ASSERT_STRING_EQUAL(stats_stat_elem_name(stats_find(&r, "dev.maps"), 1), "2M");
    /* The snapshot is a copy: recording after the dump does not change it. */
    stats_counter_inc(c);
    CU_ASSERT_EQUAL(stats_snap_u64(stats_find(&r, "dev.reqs")), 1005);
    CU_ASSERT_EQUAL(r.ndumps, 1);
    CU_ASSERT_EQUAL(r.last.tick, 1000);
    stats_registry_destroy(&r);
}

void test_stats_reset_semantics(void)
{
    static const char *const el[] = { "a", "b" };
    struct stats_registry r;
    struct stats_counter *c;
    struct stats_scalar *s;
    struct stats_vector *v;
    struct stats_hist *h;
    struct stats_twa *t;
    const double *sum;

    stats_registry_init(&r);
    c = stats_register_counter(&r, "x", "c", "", "");
    s = stats_register_scalar(&r, "x", "s", "", "");
    v = stats_register_vector(&r, "x", "v", "", "", el, 2);
    h = stats_register_hist_linear(&r, "x", "h", "ns", "", 0, 100, 10);
    t = stats_register_twa(&r, "x", "t", "", "", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    stats_counter_add(c, 7);
    stats_scalar_set(s, 3.5);
    stats_vector_inc(v, 1);
    stats_hist_sample(h, 42);
    stats_hist_sample(h, 500);
    stats_twa_set(t, 0, 4.0);
    CU_ASSERT_EQUAL(stats_dump(&r, 100), 0);

    /* Warm-up over at t=100: everything restarts, the level 4 persists. */
    stats_registry_reset(&r, 100);
    CU_ASSERT_EQUAL(r.reset_tick, 100);
    stats_counter_add(c, 2);
    stats_hist_sample(h, 15);
    CU_ASSERT_EQUAL(stats_dump(&r, 200), 0);
    CU_ASSERT_EQUAL(stats_snap_u64(stats_find(&r, "x.c")), 2);
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "x.s")), 0.0, 0);
    CU_ASSERT_EQUAL(stats_snap_vector(stats_find(&r, "x.v"))[1], 0);
    sum = stats_snap_hist_summary(stats_find(&r, "x.h"));
    CU_ASSERT_DOUBLE_EQUAL(sum[STATS_HCOL_COUNT], 1.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(sum[STATS_HCOL_MIN], 15.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(sum[STATS_HCOL_MAX], 15.0, 0);
    CU_ASSERT_EQUAL(stats_snap_hist_counts(stats_find(&r, "x.h"))[11], 0); /* overflow */
    /* Level 4 held over [100, 200]: mean 4, not diluted by [0, 100). */
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "x.t")), 4.0, 1e-12);
    CU_ASSERT_EQUAL(r.last.reset_tick, 100);
    /* A dump before the reset time is refused. */
    stats_registry_reset(&r, 300);
    CU_ASSERT_EQUAL(stats_dump(&r, 250), SIM_EPAST);
    stats_registry_destroy(&r);
}

void test_stats_twa_hand_derived(void)
{
    struct stats_registry r;
    struct stats_twa *t, *late;

    stats_registry_init(&r);
    t = stats_register_twa(&r, "q", "depth", "entries", "queue depth", 0);
    late = stats_register_twa(&r, "q", "late", "entries", "registered at t=20", 20);
    CU_ASSERT_PTR_NOT_NULL_FATAL(late);
    /* Level 0 on [0,10), 2 on [10,30), 5 on [30,50]:
       area = 0*10 + 2*20 + 5*20 = 140, mean = 140 / 50 = 2.8. */
    stats_twa_set(t, 10, 2.0);
    stats_twa_add(t, 30, 3.0);
    /* late: 6 on [20, 40), 0 on [40, 50]: 120 / 30 = 4. */
    stats_twa_set(late, 20, 6.0);
    stats_twa_set(late, 40, 0.0);
    CU_ASSERT_EQUAL(stats_dump(&r, 50), 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "q.depth")), 2.8, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "q.late")), 4.0, 1e-12);
    /* Cumulative, not per interval: at t=100 with no change since 30,
       area = 140 + 5*50 = 390, mean 3.9. */
    CU_ASSERT_EQUAL(stats_dump(&r, 100), 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "q.depth")), 3.9, 1e-12);
    /* Reset at 100 (level stays 5), 1 from 110: area 5*10 + 1*40 = 90 over 50. */
    stats_registry_reset(&r, 100);
    stats_twa_set(t, 110, 1.0);
    CU_ASSERT_EQUAL(stats_dump(&r, 150), 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "q.depth")), 1.8, 1e-12);
    /* A dump at the reset instant averages over nothing: the level itself. */
    stats_registry_reset(&r, 150);
    CU_ASSERT_EQUAL(stats_dump(&r, 150), 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "q.depth")), 1.0, 0);
    stats_registry_destroy(&r);
}

void test_stats_dump_order_enforced(void)
{
    struct stats_registry r;

    stats_registry_init(&r);
    CU_ASSERT_PTR_NOT_NULL(stats_register_counter(&r, "a", "b", "", ""));
    CU_ASSERT_EQUAL(stats_dump(&r, 500), 0);
    CU_ASSERT_EQUAL(stats_dump(&r, 400), SIM_EPAST);
    CU_ASSERT_PTR_NOT_NULL(strstr(stats_registry_errmsg(&r), "400"));
    CU_ASSERT_EQUAL(stats_dump(&r, 500), 0);    /* same tick again is fine */
    CU_ASSERT_EQUAL(r.ndumps, 2);
    stats_registry_destroy(&r);
}
