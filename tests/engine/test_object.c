/*
 * test_object.c - the descriptor table and the world of objects: every
 * registered descriptor is well formed, objects are created from text
 * values with references resolved by path, every problem of an object is
 * reported, and the engine's sources fire as their closed forms say.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/models.h"
#include "engine/object.h"
#include "py/registry.h"
#include "testutil.h"

void test_registry_well_formed(void);
void test_registry_describe_lists_every_param(void);
void test_object_check_reports_every_problem(void);
void test_object_refs_resolved_and_checked(void);
void test_object_periodic_cycles_exact(void);
void test_object_poisson_count_and_determinism(void);
void test_object_reset_stats(void);
void test_object_list_refs_and_trace(void);

void test_registry_well_formed(void)
{
    CU_ASSERT_EQUAL(model_registry_check(stderr), 0);
    CU_ASSERT_PTR_EQUAL(model_registry_find("PoissonSource"), &sim_model_poisson_source);
    CU_ASSERT_PTR_NULL(model_registry_find("poissonsource"));
    CU_ASSERT_TRUE(model_registry_count() >= 4);
}

void test_registry_describe_lists_every_param(void)
{
    char *buf = NULL;
    size_t len = 0;

    for (size_t i = 0; i < model_registry_count(); i++) {
        const struct sim_model *m = model_registry_at(i);
        FILE *f = open_memstream(&buf, &len);

        model_registry_describe(f, m);
        fclose(f);
        for (unsigned k = 0; k < m->nparams; k++) {
            CU_ASSERT_PTR_NOT_NULL(strstr(buf, m->params[k].name));
            CU_ASSERT_PTR_NOT_NULL(strstr(buf, m->params[k].doc));
        }
        free(buf);
        buf = NULL;
    }
}

struct reports {
    int n;
    char text[8][256];
};

static void collect(void *ctx, const char *param, const char *msg)
{
    struct reports *r = ctx;

    if (r->n < 8)
        snprintf(r->text[r->n], sizeof(r->text[0]), "%s: %s", param, msg);
    r->n++;
}

static char canon[8][64];

static void keep_canon(void *ctx, unsigned idx, const char *text)
{
    (void)ctx;
    snprintf(canon[idx], sizeof(canon[idx]), "%s", text);
}

void test_object_check_reports_every_problem(void)
{
    const struct sim_model *m = &sim_model_periodic_source;
    const char *texts[8] = { 0 };
    struct reports r = { 0 };

    /* Two bad values: both reported, not just the first. */
    texts[sim_model_param_index(m, "period")] = "80";
    texts[sim_model_param_index(m, "count")] = "-1";
    CU_ASSERT_EQUAL(sim_model_check(m, texts, collect, &r, NULL), 2);
    CU_ASSERT_EQUAL(r.n, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.text[0], "period: missing or unknown unit (got '80'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.text[1], "count: value too small (got '-1'"));

    /* Values that parse but break a cross-parameter rule: the validate hook. */
    memset(&r, 0, sizeof(r));
    memset(texts, 0, sizeof(texts));
    texts[sim_model_param_index(m, "period")] = "12cycles";
    CU_ASSERT_EQUAL(sim_model_check(m, texts, collect, &r, NULL), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.text[0], "period: given in cycles but no clock"));

    /* Canonical texts of good values. */
    memset(&r, 0, sizeof(r));
    texts[sim_model_param_index(m, "period")] = "1.5 us";
    CU_ASSERT_EQUAL(sim_model_check(m, texts, collect, &r, keep_canon), 0);
    CU_ASSERT_STRING_EQUAL(canon[sim_model_param_index(m, "period")], "1500ns");
    CU_ASSERT_STRING_EQUAL(canon[sim_model_param_index(m, "clock")], "none");
}

void test_object_refs_resolved_and_checked(void)
{
    struct sim_world w;
    const struct sim_model *per = &sim_model_periodic_source;
    const char *texts[8] = { 0 };
    char err[512];
    int clock = sim_model_param_index(per, "clock");

    sim_world_init(&w, 1);
    texts[clock] = "system.clk";
    CU_ASSERT_EQUAL(sim_world_add(&w, per, "system.src", texts, err, sizeof(err)), SIM_ENOENT);
    CU_ASSERT_STRING_EQUAL(err, "system.src.clock: refers to no created object (got "
                           "'system.clk', expected the path of an object created before it)");

    CU_ASSERT_EQUAL(sim_world_add(&w, per, "system.other", NULL, err, sizeof(err)), 0);
    texts[clock] = "system.other";
    CU_ASSERT_EQUAL(sim_world_add(&w, per, "system.src", texts, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "refers to the wrong kind of object (got "
                                       "PeriodicSource 'system.other', expected a ClockDomain)"));
    CU_ASSERT_EQUAL(sim_world_add(&w, per, "system.other", NULL, err, sizeof(err)), SIM_EEXIST);
    CU_ASSERT_EQUAL(w.nobjs, 1);
    sim_world_destroy(&w);
}

void test_object_periodic_cycles_exact(void)
{
    struct sim_world w;
    const struct sim_model *cd = &sim_model_clock_domain, *per = &sim_model_periodic_source;
    const char *cdt[1] = { "3GHz" };
    const char *pt[8] = { 0 };
    struct sim_object *src;
    struct sim_exit ex;
    char err[512];

    sim_world_init(&w, 1);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, cd, "clk", cdt, err, sizeof(err)), 0);
    pt[sim_model_param_index(per, "clock")] = "clk";
    pt[sim_model_param_index(per, "period")] = "1cycle";
    pt[sim_model_param_index(per, "start")] = "3cycles";     /* = 1000 ps */
    CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, per, "src", pt, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sim_world_start(&w, err, sizeof(err)), 0);

    /* Event k at 1000 + round(k * 1000 / 3) ps <= 10^6 ps  <=>  k <= 2997:
     * 2998 events, the last at 1000 + 999000 = 10^6 ps exactly. A period
     * rounded to 333 ps would have fired 3001 times. */
    ex = sim_run_until(&w.sim, SIM_TICKS_PER_US, 0);
    src = sim_world_find(&w, "src");
    CU_ASSERT_EQUAL(ex.cause, SIM_EXIT_LIMIT);
    CU_ASSERT_EQUAL(per->ops->read(src, 0), 2998.0);
    CU_ASSERT_EQUAL(per->ops->read(src, 1), 1000.0);         /* first */
    CU_ASSERT_EQUAL(per->ops->read(src, 2), 1000000.0);      /* last */
    sim_world_destroy(&w);
}

static double poisson_events(uint64_t seed, const char *rate, const char *count)
{
    struct sim_world w;
    const struct sim_model *poi = &sim_model_poisson_source;
    const char *t[8] = { 0 };
    char err[512];
    double n;

    sim_world_init(&w, seed);
    t[sim_model_param_index(poi, "rate")] = rate;
    t[sim_model_param_index(poi, "count")] = count;
    CU_ASSERT_EQUAL(sim_world_add(&w, poi, "system.poisson", t, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_world_start(&w, err, sizeof(err)), 0);
    sim_run_until(&w.sim, SIM_TICKS_PER_MS, 0);
    n = poi->ops->read(sim_world_find(&w, "system.poisson"), 0);
    sim_world_destroy(&w);
    return n;
}

void test_object_poisson_count_and_determinism(void)
{
    /* 10 MHz for 1 ms: 1 + Poisson(10^4) events, sd 100; 5 sd is 500. */
    double a = poisson_events(1, "10MHz", NULL);

    ASSERT_NEAR(a, 10001, 500);
    CU_ASSERT_EQUAL(poisson_events(1, "10MHz", NULL), a);        /* same seed, same run */
    CU_ASSERT_NOT_EQUAL(poisson_events(2, "10MHz", NULL), a);    /* P(equal) ~ 0.3% */
    CU_ASSERT_EQUAL(poisson_events(1, "10MHz", "25"), 25);       /* count caps */
}

void test_object_reset_stats(void)
{
    struct sim_world w;
    const struct sim_model *per = &sim_model_periodic_source;
    const char *t[8] = { 0 };
    char err[512];
    struct sim_object *o;

    sim_world_init(&w, 1);
    t[sim_model_param_index(per, "period")] = "10ns";
    CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, per, "p", t, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sim_world_start(&w, err, sizeof(err)), 0);
    o = sim_world_find(&w, "p");
    sim_run_until(&w.sim, 1000 * SIM_TICKS_PER_NS, 0);      /* 0, 10, ..., 1000 ns */
    CU_ASSERT_EQUAL(per->ops->read(o, 0), 101.0);
    sim_world_reset_stats(&w);
    sim_run_until(&w.sim, 2000 * SIM_TICKS_PER_NS, 0);      /* 1010 .. 2000 ns */
    CU_ASSERT_EQUAL(per->ops->read(o, 0), 100.0);
    CU_ASSERT_EQUAL(per->ops->read(o, 3), 10000.0);         /* mean gap 10 ns */
    sim_world_destroy(&w);
}

/* A model used only here: a list of references to clock domains. */
static const struct sim_param clocks_params[] = {
    { .name = "clocks", .type = SIM_PT_REF, .ref_model = "ClockDomain", .def = "",
      .flags = SIM_PF_LIST, .doc = "d" },
};
static const struct sim_model clocks_model = {
    .name = "Clocks", .doc = "d", .params = clocks_params, .nparams = 1,
};

void test_object_list_refs_and_trace(void)
{
    struct sim_world w;
    const struct sim_model *cd = &sim_model_clock_domain, *tr = &sim_model_trace_source;
    const char *one[2] = { "1GHz", NULL };
    const char *refs[1] = { "a, b" };
    const char *bad[1] = { "a,t" };
    const char *tt[2] = { "5cycles,1ns,3ns,20ns,2ns", "a" };
    struct sim_object *o, *t;
    char err[512];

    sim_world_init(&w, 1);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, cd, "a", one, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, cd, "b", NULL, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, &clocks_model, "c", refs, err, sizeof(err)), 0);
    o = sim_world_find(&w, "c");
    CU_ASSERT_EQUAL(o->values[0].list.n, 2);
    CU_ASSERT_PTR_EQUAL(o->values[0].list.items[0].ref.obj, sim_world_find(&w, "a"));
    CU_ASSERT_PTR_EQUAL(o->values[0].list.items[1].ref.obj, sim_world_find(&w, "b"));
    CU_ASSERT_STRING_EQUAL(o->texts[0], "a,b");

    /* Times in any order, one in cycles of a 1 GHz clock (5 ns). By 4 ns:
     * 1, 2, 3 ns; by 1 us all five, the last at 20 ns. */
    CU_ASSERT_EQUAL_FATAL(sim_world_add(&w, tr, "t", tt, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_world_add(&w, &clocks_model, "d", bad, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "d.clocks: refers to the wrong kind of object (got "
                                       "TraceSource 't', expected a ClockDomain)"));
    CU_ASSERT_EQUAL_FATAL(sim_world_start(&w, err, sizeof(err)), 0);
    t = sim_world_find(&w, "t");
    sim_run_until(&w.sim, 4 * SIM_TICKS_PER_NS, 0);
    CU_ASSERT_EQUAL(tr->ops->read(t, 0), 3.0);
    sim_run_until(&w.sim, SIM_TICKS_PER_US, 0);
    CU_ASSERT_EQUAL(tr->ops->read(t, 0), 5.0);
    CU_ASSERT_EQUAL(tr->ops->read(t, 2), 20000.0);
    sim_world_destroy(&w);
}
