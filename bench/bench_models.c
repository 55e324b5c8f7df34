/*
 * bench_models.c - every IOMMU model's timed translation path on the host
 * (issue 10's target: >= 3 M translations per host second with >= 95% IOTLB
 * hits, for each model).
 *
 * For each model of the one model table (iommu/models/models.c, in its
 * order), the bench builds the model the way a config does, through its
 * descriptor from the one descriptor table (py/registry.c) and a world of
 * objects: a Memory, a 1024-entry fully associative LRU IOTLB, a Walker and
 * the model, with the parameters of the model's row below (the models'
 * defaults otherwise). Requester 0 is attached to domain 0 through the
 * model's "IOMMU" interface (iommu/domain.h), which also maps 1056 pages
 * through the domain ops, exactly as the OS layer would. Then 64 requests
 * are kept in flight by a closed loop (each completion issues the next) at
 * pages drawn uniformly from the 1056: with C = 1024 entries and LRU, a
 * uniform stream over N pages hits with probability C/N = 0.970 in steady
 * state, so every model with an IOTLB runs at the issue's >= 95% hits.
 * What a request costs is everything the model does for it on the engine:
 * lookup, walk (with its memory reads or read latencies) on a miss, the
 * completion event, the done() callback that counts it.
 *
 * A model without an IOTLB (virtio-iommu answers from the host's mapping
 * tree, an MPC tests one bit) reports hit_rate n/a: every translation
 * takes its one path, and the target is then the rate alone.
 *
 * Adding a model is one row in `rows` (its model-table name, descriptor
 * name, parameters, the readout that gives its IOTLB hit rate); a model
 * of the table without a row is listed as FAIL ("no row"), so a new
 * model cannot silently go unmeasured.
 *
 * One line per model:
 *   model NAME translations=N translations/s=R hit_rate=H events/translation=E
 *         target>=3e+06 with hit_rate>=0.95 PASS|FAIL
 *
 * Usage: bench_models [--quick] [--reps R] [--only MODEL]
 * (best of R; --only runs one model, e.g. under perf)
 * Exit status: 0 when every measurement ran (a missed target is reported,
 * not an error), 1 on a set-up failure (with a one-line reason), 2 on bad
 * usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/error.h"
#include "engine/object.h"
#include "engine/rng.h"
#include "iommu/domain.h"
#include "iommu/models/models.h"
#include "py/registry.h"

#define TARGET_RATE 3e6
#define TARGET_HIT 0.95
#define INFLIGHT 64
#define NPAGES 1056                 /* 1024-entry IOTLB: C/N = 0.970 */
#define IOVA_BASE (UINT64_C(1) << 32)
#define PA_BASE (UINT64_C(1) << 36)

/*
 * One model's set-up. params: NAME, VALUE pairs ending with NULL; "@iotlb",
 * "@walker" and "@mem" as a value name the support objects. hit_path: the
 * object whose readouts give the model's IOTLB hit rate (b.iotlb: the
 * IOTLB object the model references; b.iommu: the model itself; NULL: the
 * model has no IOTLB): hits[0] is a ratio readout when lookups is NULL,
 * else the rate is (hits[0] + hits[1]) / lookups (a model with a TLB
 * hierarchy: the translations answered without a walk). identity: the
 * model does not translate (IOMMU_DOMAIN_IDENTITY): nothing is mapped and
 * requests address [base, base + NPAGES pages) of the guarded memory
 * directly; pages from ns_from on are the non-secure world's (set through
 * params) and are accessed with non-secure attributes, the rest with
 * secure ones, so that every request is allowed.
 */
struct model_row {
    const char *model;              /* its name in iommu_models[] */
    const char *object;             /* its descriptor in the registry */
    const char *const *params;
    const char *hit_path;
    const char *hits[2];
    const char *lookups;
    int identity;
    uint64_t base;                  /* identity: first address requested */
    unsigned ns_from;               /* identity: first non-secure page */
};

static const char *const generic_params[] = {
    "iotlb", "@iotlb", "walker", "@walker", "memory", "@mem", NULL };
static const char *const vtd_params[] = {
    "iotlb", "@iotlb", "walker", "@walker", "memory", "@mem", NULL };
static const char *const amdvi_params[] = { "iotlb", "@iotlb", NULL };
static const char *const virtio_params[] = { NULL };
/* SMMUv3: gem5's structure, its main TLB sized like the others' IOTLB (1024
 * entries, fully associative, LRU), the 32-entry micro TLB as in gem5. */
static const char *const smmuv3_params[] = {
    "memory", "@mem", "tlb_entries", "1024", "tlb_assoc", "0", "tlb_policy", "lru", NULL };
/* The upper half of the 1056 pages (528 on) is non-secure: 4 GiB + 2112 KiB. */
static const char *const tz_mpc_params[] = {
    "base", "4GiB", "ns_base", "4196416KiB", "ns_size", "2112KiB", NULL };

static const struct model_row rows[] = {
    { "generic", "GenericIOMMU", generic_params, "b.iotlb", { "hit_rate" }, NULL, 0, 0, 0 },
    { "vtd", "VTdIOMMU", vtd_params, "b.iotlb", { "hit_rate" }, NULL, 0, 0, 0 },
    { "tz_mpc", "TzMpc", tz_mpc_params, NULL, { NULL }, NULL, 1, UINT64_C(4) << 30,
      NPAGES / 2 },
    { "amdvi", "AmdViIOMMU", amdvi_params, "b.iotlb", { "hit_rate" }, NULL, 0, 0, 0 },
    { "virtio_iommu", "VirtioIOMMU", virtio_params, NULL, { NULL }, NULL, 0, 0, 0 },
    /* Answered without a walk: a micro-TLB hit or, after its miss, a main-TLB hit. */
    { "smmuv3", "SMMUv3", smmuv3_params, "b.iommu", { "utlb_hits", "tlb_hits" },
      "utlb_lookups", 0, 0, 0 },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

struct mbench {
    struct sim_world w;
    const struct model_row *row;
    struct sim_object *tlb;         /* NULL: no IOTLB */
    struct iommu *as;
    struct sim_rng rng;
    struct iommu_req req[INFLIGHT];
    uint64_t issued, limit, done, faults;
};

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void mreq_issue(struct mbench *b, struct iommu_req *r);

static void mreq_done(struct iommu_req *r)
{
    struct mbench *b = r->ctx;

    b->done++;
    b->faults += r->status != 0;
    if (b->issued < b->limit)
        mreq_issue(b, r);
}

static void mreq_issue(struct mbench *b, struct iommu_req *r)
{
    uint64_t page = sim_rng_below(&b->rng, NPAGES);

    r->access = IOMMU_RO;
    r->done = mreq_done;
    r->ctx = b;
    if (b->row->identity) {
        r->iova = b->row->base + (page << 12);
        r->attrs.secure = page < b->row->ns_from;
    } else {
        r->iova = IOVA_BASE + (page << 12);
    }
    b->issued++;
    if (iommu_translate_timed(b->as, r)) {
        b->done++;                  /* refused: counted as a fault, never done() */
        b->faults++;
    }
}

/* Run @count translations to completion; returns host seconds. */
static double mbench_run(struct mbench *b, uint64_t count)
{
    double t0 = now_s();
    unsigned i;

    b->issued = b->done = b->faults = 0;
    b->limit = count;
    for (i = 0; i < INFLIGHT && b->issued < b->limit; i++)
        mreq_issue(b, &b->req[i]);
    sim_run(&b->w.sim);
    return now_s() - t0;
}

/* Add object @path of descriptor @name with NAME, VALUE pairs @kv. */
static int add(struct sim_world *w, const char *name, const char *path,
               const char *const *kv, char *err, size_t errlen)
{
    const struct sim_model *m = model_registry_find(name);
    const char *texts[128] = { 0 };

    if (!m) {
        snprintf(err, errlen, "%s: no model descriptor called %s", path, name);
        return SIM_ENOENT;
    }
    if (m->nparams > sizeof(texts) / sizeof(texts[0])) {
        snprintf(err, errlen, "%s: %s has %u parameters, more than the bench handles",
                 path, name, m->nparams);
        return SIM_EINVAL;
    }
    for (; kv && kv[0]; kv += 2) {
        int i = sim_model_param_index(m, kv[0]);
        const char *v = kv[1];

        if (i < 0) {
            snprintf(err, errlen, "%s: %s has no parameter %s", path, name, kv[0]);
            return SIM_EINVAL;
        }
        if (v[0] == '@')            /* a support object: b.iotlb, b.walker, b.mem */
            v = strcmp(v, "@iotlb") == 0 ? "b.iotlb" : strcmp(v, "@walker") == 0 ?
                "b.walker" : "b.mem";
        texts[i] = v;
    }
    return sim_world_add(w, m, path, texts, err, errlen);
}

/* Readout @name of @o; -1 if it has none (readouts here are never negative). */
static double readout(const struct sim_object *o, const char *name)
{
    for (unsigned i = 0; name && i < o->model->nreadouts; i++)
        if (strcmp(o->model->readouts[i].name, name) == 0)
            return o->model->ops->read(o, i);
    return -1.0;
}

/* The model's IOTLB hit rate (see struct model_row); -1 if a readout is missing. */
static double hit_rate(const struct mbench *b)
{
    const struct model_row *row = b->row;
    double h0 = readout(b->tlb, row->hits[0]), h1 = 0.0, n;

    if (!row->lookups)
        return h0;
    n = readout(b->tlb, row->lookups);
    if (row->hits[1])
        h1 = readout(b->tlb, row->hits[1]);
    if (h0 < 0.0 || h1 < 0.0 || n < 0.0)
        return -1.0;
    return n > 0.0 ? (h0 + h1) / n : 0.0;
}

static const char *const iotlb_params[] = {
    "entries", "1024", "ways", "0", "policy", "lru", "mshrs", "16", NULL };

/* Build the world of @row: support objects, the model, requester 0 in
 * domain 0, the pages mapped. */
static int mbench_setup(struct mbench *b, const struct model_row *row, char *err,
                        size_t errlen)
{
    struct sim_object *mmu;
    struct iommu_domain *dom;
    int r;

    sim_world_init(&b->w, 1);
    b->row = row;
    if ((r = add(&b->w, "System", "b", NULL, err, errlen)) ||
        (r = add(&b->w, "Memory", "b.mem", NULL, err, errlen)) ||
        (r = add(&b->w, "IOTLB", "b.iotlb", iotlb_params, err, errlen)) ||
        (r = add(&b->w, "Walker", "b.walker", NULL, err, errlen)) ||
        (r = add(&b->w, row->object, "b.iommu", row->params, err, errlen)))
        return r;
    if ((r = sim_world_start(&b->w, err, errlen)))
        return r;
    mmu = sim_world_find(&b->w, "b.iommu");
    b->tlb = row->hit_path ? sim_world_find(&b->w, row->hit_path) : NULL;
    if (row->hit_path && (!b->tlb || hit_rate(b) < 0.0)) {
        snprintf(err, errlen, "%s: %s lacks the readouts of the hit rate", row->model,
                 row->hit_path);
        return SIM_EINVAL;
    }
    if ((r = iommu_object_domain(mmu, 0, &dom, err, errlen)) ||
        (r = iommu_object_attach(mmu, 0, 0, &b->as, err, errlen)))
        return r;
    if (row->identity != !!(dom->flags & IOMMU_DOMAIN_IDENTITY)) {
        snprintf(err, errlen, "%s: the bench row says identity=%d, the domain's flags "
                 "say otherwise", row->model, row->identity);
        return SIM_EINVAL;
    }
    for (uint64_t i = 0; !row->identity && i < NPAGES; i++) {
        sim_tick_t done;

        r = iommu_domain_map(dom, IOVA_BASE + (i << 12), PA_BASE + (i << 12), 4096,
                             IOMMU_RW, sim_now(&b->w.sim), &done);
        if (r) {
            snprintf(err, errlen, "%s: map of page %llu failed (%s)", row->model,
                     (unsigned long long)i, sim_strerror(r));
            return r;
        }
    }
    sim_run(&b->w.sim);             /* whatever the maps and attach scheduled */
    sim_rng_seed(&b->rng, 1, "bench.models");
    return 0;
}

static int bench_model(const struct model_row *row, uint64_t n, unsigned reps)
{
    struct mbench *b = calloc(1, sizeof(*b));
    char err[512] = "", hit_text[32];
    double best = 0.0, dt, hit = -1.0;
    uint64_t events = 0;
    unsigned r;
    int ok;

    if (!b) {
        fprintf(stderr, "bench_models: out of memory\n");
        return 1;
    }
    if (mbench_setup(b, row, err, sizeof(err))) {
        fprintf(stderr, "bench_models: %s: set-up: %s\n", row->model, err);
        sim_world_destroy(&b->w);
        free(b);
        return 1;
    }
    mbench_run(b, 20000);           /* warm-up: fill the IOTLB and the walk caches */
    for (r = 0; r < reps; r++) {
        uint64_t ev0 = sim_events_processed(&b->w.sim);

        sim_world_reset_stats(&b->w);
        dt = mbench_run(b, n);
        if (b->done != n || b->faults) {
            fprintf(stderr, "bench_models: %s: %llu of %llu translations completed, "
                    "%llu faults\n", row->model, (unsigned long long)b->done,
                    (unsigned long long)n, (unsigned long long)b->faults);
            sim_world_destroy(&b->w);
            free(b);
            return 1;
        }
        if ((double)n / dt > best) {
            best = (double)n / dt;
            hit = b->tlb ? hit_rate(b) : -1.0;
            events = sim_events_processed(&b->w.sim) - ev0;
        }
    }
    ok = best >= TARGET_RATE && (!b->tlb || hit >= TARGET_HIT);
    if (b->tlb)
        snprintf(hit_text, sizeof(hit_text), "%.4f", hit);
    else
        snprintf(hit_text, sizeof(hit_text), "n/a");
    printf("model %s translations=%llu translations/s=%.4g hit_rate=%s "
           "events/translation=%.2f target>=%.0e with hit_rate>=%.2f %s\n",
           row->model, (unsigned long long)n, best, hit_text, (double)events / (double)n,
           TARGET_RATE, TARGET_HIT, ok ? "PASS" : "FAIL");
    sim_world_destroy(&b->w);
    free(b);
    return 0;
}

static const struct model_row *row_of(const char *model)
{
    for (size_t i = 0; i < NROWS; i++)
        if (strcmp(rows[i].model, model) == 0)
            return &rows[i];
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned reps = 3, found = 0;
    int quick = 0, rc = 0, i;
    const char *only = NULL;
    uint64_t n;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);

            if (*end || v < 1 || v > 1000) {
                fprintf(stderr, "bench_models: --reps: expected 1..1000 (got '%s')\n",
                        argv[i]);
                return 2;
            }
            reps = (unsigned)v;
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[++i];
            if (!iommu_model_find(only)) {
                fprintf(stderr, "bench_models: --only: no model '%s' in the model table\n",
                        only);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: bench_models [--quick] [--reps R] [--only MODEL]\n");
            return 2;
        }
    }
    n = quick ? 100000 : 3000000;
    if (quick)
        printf("model QUICK run: few translations, figures are not meaningful\n");
    for (unsigned m = 0; m < iommu_models_count; m++) {
        const char *name = iommu_models[m].name;
        const struct model_row *row = row_of(name);

        if (only && strcmp(only, name) != 0)
            continue;
        found++;
        if (!row) {
            printf("model %s not measured: no row in bench/bench_models.c FAIL\n", name);
            continue;
        }
        rc |= bench_model(row, n, reps);
    }
    return rc ? 1 : found ? 0 : 1;
}
