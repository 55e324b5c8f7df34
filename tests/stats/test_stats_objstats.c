/*
 * test_stats_objstats.c - stats that live in the models (counters by
 * reference, scalars read at each dump) and the registration of a world's
 * objects through their register_stats ops. Expected values are closed
 * forms derived in the comments.
 */
#include <math.h>
#include <string.h>

#include "engine/error.h"
#include "engine/models.h"
#include "engine/object.h"
#include "stats/objstats.h"
#include "stats/registry.h"
#include "testutil.h"

void test_stats_counter_ref_and_fn(void);
void test_stats_world_register_sources(void);

static double twice(const void *ctx, unsigned idx)
{
    return 2.0 * (double)*(const uint64_t *)ctx + (double)idx;
}

void test_stats_counter_ref_and_fn(void)
{
    struct stats_registry r;
    uint64_t hits = 0, misses = 0;

    stats_registry_init(&r);
    CU_ASSERT_EQUAL(stats_register_counter_ref(&r, "sys.tlb", "hits", "lookups", "", &hits), 0);
    CU_ASSERT_EQUAL(stats_register_counter_ref(&r, "sys.tlb", "misses", "lookups", "", &misses), 0);
    CU_ASSERT_EQUAL(stats_register_scalar_fn(&r, "sys.tlb", "twice", "", "", twice, &hits, 1), 0);
    CU_ASSERT_PTR_NOT_NULL(stats_register_formula(&r, "sys.tlb", "hit_rate", "ratio", "",
                                                  "hits / (hits + misses)"));
    /* The model counts in its own storage; the dump reads it. */
    hits = 3;
    misses = 1;
    CU_ASSERT_EQUAL_FATAL(stats_dump(&r, 10), 0);
    CU_ASSERT_EQUAL(stats_stat_kind(stats_find(&r, "sys.tlb.hits")), STATS_COUNTER);
    CU_ASSERT_EQUAL(stats_stat_kind(stats_find(&r, "sys.tlb.twice")), STATS_SCALAR);
    CU_ASSERT_EQUAL(stats_snap_u64(stats_find(&r, "sys.tlb.hits")), 3);
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "sys.tlb.twice")), 7.0, 0); /* 2*3+1 */
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "sys.tlb.hit_rate")), 0.75, 0);
    /* The registry never writes model storage: the model resets its own. */
    stats_registry_reset(&r, 10);
    CU_ASSERT_EQUAL(hits, 3);
    hits = misses = 0;
    CU_ASSERT_EQUAL_FATAL(stats_dump(&r, 20), 0);
    CU_ASSERT_TRUE(isnan(stats_snap_f64(stats_find(&r, "sys.tlb.hit_rate"))));
    stats_registry_destroy(&r);

    /* Errors are recorded as for the other kinds. */
    stats_registry_init(&r);
    CU_ASSERT_EQUAL(stats_register_counter_ref(&r, "a", "b", "", "", NULL), SIM_EINVAL);
    r.err = 0;
    CU_ASSERT_EQUAL(stats_register_counter_ref(&r, "a", "b", "", "", &hits), 0);
    CU_ASSERT_EQUAL(stats_register_scalar_fn(&r, "a", "b", "", "", twice, &hits, 0), SIM_EEXIST);
    CU_ASSERT_EQUAL(stats_registry_error(&r), SIM_EEXIST);
    r.err = 0;
    CU_ASSERT_EQUAL(stats_register_scalar_fn(&r, "a", "c", "", "", NULL, NULL, 0), SIM_EINVAL);
    stats_registry_destroy(&r);
}

/*
 * A PeriodicSource at 10 ns and a ClockDomain through their register_stats
 * ops. By 1 us the source fired floor(1000 / 10) + 1 = 101 events, 10 ns
 * (10000 ps) apart; after a reset at 1 us and a run to 2 us, the events of
 * (1 us, 2 us]: 100.
 */
void test_stats_world_register_sources(void)
{
    const struct sim_model *per = &sim_model_periodic_source, *cd = &sim_model_clock_domain;
    const char *texts[8] = { 0 };
    struct sim_world w;
    struct stats_registry r;
    char err[512];

    sim_world_init(&w, 1);
    stats_registry_init(&r);
    texts[sim_model_param_index(per, "period")] = "10ns";
    CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, cd, "system.clk", NULL, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, per, "system.src", texts, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sim_world_start(&w, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(stats_world_register(&r, &w, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(stats_find(&r, "system.src.events"));
    CU_ASSERT_EQUAL(stats_stat_kind(stats_find(&r, "system.src.events")), STATS_COUNTER);
    CU_ASSERT_STRING_EQUAL(stats_stat_unit(stats_find(&r, "system.src.events")), "events");
    CU_ASSERT_PTR_NOT_NULL(stats_find(&r, "system.src.mean_gap"));
    CU_ASSERT_PTR_NOT_NULL(stats_find(&r, "system.clk.frequency"));

    sim_run_until(&w.sim, 1000000, 0);
    CU_ASSERT_EQUAL_FATAL(stats_dump(&r, sim_now(&w.sim)), 0);
    CU_ASSERT_EQUAL(stats_snap_u64(stats_find(&r, "system.src.events")), 101);
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "system.src.mean_gap")), 10000.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(stats_snap_f64(stats_find(&r, "system.clk.frequency")), 1e9, 0);

    sim_world_reset_stats(&w);
    stats_registry_reset(&r, sim_now(&w.sim));
    sim_run_until(&w.sim, 2000000, 0);
    CU_ASSERT_EQUAL_FATAL(stats_dump(&r, sim_now(&w.sim)), 0);
    CU_ASSERT_EQUAL(stats_snap_u64(stats_find(&r, "system.src.events")), 100);

    /* Registering twice clashes: a one-line error naming the path. */
    {
        struct stats_registry r2;

        stats_registry_init(&r2);
        CU_ASSERT_EQUAL(stats_world_register(&r2, &w, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL(stats_world_register(&r2, &w, err, sizeof(err)), SIM_EEXIST);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "system.clk.frequency"));
        stats_registry_destroy(&r2);
    }
    stats_registry_destroy(&r);
    sim_world_destroy(&w);
}
