/*
 * object.h - model descriptors and the world of instantiated objects.
 *
 * A model (a clock domain, a traffic source; later an IOMMU, an IOTLB, a
 * device) is {descriptor, ops table, instance struct}. The descriptor says
 * what the model is called, which parameters it takes and which values it
 * can report; the ops build, wire up and tear down one instance. Descriptors
 * are registered in ONE table (py/registry.c); the Python classes, the
 * `--describe` text and docs/params.md are generated from it, so nothing a
 * user can set is declared twice.
 *
 * Objects live in a tree named by dotted paths ("system.iommu.iotlb"). The
 * world holds the created objects in creation order, which the caller makes
 * a dependency order (an object after everything it references). The
 * lifecycle is: sim_world_add() each object (parse, check, create), then
 * sim_world_start() (connect every object, in order), run the simulation,
 * sim_world_destroy() (destroy in reverse order).
 *
 * Nothing here is on the per-event path: models keep their counters inline
 * and `read` copies them out only when asked.
 */
#ifndef SIM_OBJECT_H
#define SIM_OBJECT_H

#include <stddef.h>
#include <string.h>
#include <stdint.h>

#include "engine/clock.h"
#include "engine/param.h"
#include "engine/sim.h"

struct sim_world;
struct sim_object;

/* A value a model reports (until the stats layer owns reporting). */
struct sim_readout {
    const char *name;
    const char *unit;               /* "events", "ps", ... */
    const char *doc;
};

/* How a validate hook reports one problem with one parameter. */
typedef void (*sim_report_fn)(void *ctx, const char *param, const char *msg);

/**
 * struct sim_model_ops - what a model does. Every member is optional.
 *
 * @validate: cross-parameter constraints that bounds cannot say ("ways
 *	divides entries", "a period in cycles needs a clock"). Called with
 *	every parameter parsed (refs not yet resolved: check ref.path only),
 *	before anything is created, so every error of the tree is reported at
 *	once. Calls report() once per problem with a message in the error.h
 *	form; returns the number of problems. Absent: no constraints.
 * @create: build the instance from obj->values into obj->priv. References
 *	point at objects already created (ref.obj). May not schedule events
 *	(nothing is connected yet). Returns 0 or a SIM_E* code with a message
 *	in err. Absent: a pure container (no instance).
 * @connect: called once every object exists, in creation order: wire up to
 *	referenced objects and schedule the first events. Returns 0 or SIM_E*.
 * @destroy: release obj->priv. Called for every created object, in reverse
 *	creation order, also after a failed connect.
 * @register_stats: register the object's statistics with the registry (a
 *	struct stats_registry *, opaque here) under obj->path; see
 *	stats/objstats.h. Called once, after every object is connected.
 *	Returns 0 or SIM_E* (message in the registry). Absent: the readouts
 *	are registered, read through @read at each dump.
 * @reset_stats: zero the values `read` reports (warm-up, then measure).
 * @read: the current value of readout idx (0 .. nreadouts - 1).
 */
struct sim_model_ops {
    int (*validate)(const struct sim_value *values, sim_report_fn report, void *ctx);
    int (*create)(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen);
    int (*connect)(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen);
    void (*destroy)(struct sim_object *obj);
    int (*register_stats)(struct sim_object *obj, void *registry);
    void (*reset_stats)(struct sim_object *obj);
    double (*read)(const struct sim_object *obj, unsigned idx);
};

struct sim_model {
    const char *name;               /* the Python class name: "PoissonSource" */
    const char *doc;                /* a paragraph for --describe */
    const struct sim_param *params;
    unsigned nparams;
    const struct sim_readout *readouts;
    unsigned nreadouts;
    const struct sim_model_ops *ops;
    /*
     * An interface the model implements, which a reference parameter may
     * name instead of a model (ref_model "IOMMU" accepts GenericIOMMU,
     * VTdIOMMU, ...), and that interface's table of operations (for
     * "IOMMU": struct iommu_object_ops, iommu/domain.h). NULL: none.
     */
    const char *implements;
    const void *iface;
};

/* Does @m satisfy a reference parameter's ref_model (its name or its interface)? */
static inline int sim_model_matches(const struct sim_model *m, const char *ref_model)
{
    return !ref_model || strcmp(m->name, ref_model) == 0 ||
           (m->implements && strcmp(m->implements, ref_model) == 0);
}

struct sim_object {
    const struct sim_model *model;
    char *path;                     /* owned */
    struct sim_value *values;       /* model->nparams, owned */
    char **texts;                   /* the canonical text of each value, owned */
    void *priv;                     /* the model's instance */
    struct sim_world *world;
};

/*
 * A world may hold several event sets: machines that share no object (no
 * reference path joins them) cannot affect each other's events, so each can
 * run in a sim of its own. One event set for four independent machines
 * costs about half the host speed (a deeper heap, four working sets in the
 * caches: docs/performance.md, "vIOMMU stack"); separate sets run one after
 * another to each limit, and every statistic stays as in one set, since
 * nothing orders events across them. Set 0 is the world's own sim; set i > 0
 * is a world of its own (sets[i - 1]) holding only its sim and the seed,
 * which is what a model's create and connect see of it: models need not
 * know. The caller picks the sets (py/: the connected parts of the
 * reference graph) before adding objects.
 */
struct sim_world {
    struct sim sim;                 /* event set 0 */
    uint64_t seed;                  /* RNG streams: sim_rng_seed(seed, path) */
    struct sim_object **objs;       /* creation order, every set's */
    size_t nobjs, cap;
    int started;
    struct sim_world **sets;        /* event sets 1 .. nsets - 1 */
    unsigned nsets;                 /* 0 or 1: only the world's own sim */
};

/* Index of a parameter by name, or -1. */
int sim_model_param_index(const struct sim_model *m, const char *name);

/*
 * Parse and check one object's parameters without creating anything:
 * texts[i] is parameter i's text or NULL (default). Every problem is passed
 * to report() (param name, message); the validate hook runs only if all
 * values parsed. canon (optional) is called with each parsed value's
 * canonical text (param index, text valid during the call). Returns the
 * number of problems.
 */
typedef void (*sim_canon_fn)(void *ctx, unsigned idx, const char *text);
int sim_model_check(const struct sim_model *m, const char *const *texts,
                    sim_report_fn report, void *ctx, sim_canon_fn canon);

void sim_world_init(struct sim_world *w, uint64_t seed);

/*
 * Parse, check and create one object. References must name objects already
 * added, of the referenced model. Errors: SIM_EEXIST (path taken),
 * SIM_ENOENT (dangling reference), SIM_EINVAL (wrong model), parse errors,
 * or the model's create error; err holds "path.param: what (got, expected)"
 * or "path: what".
 */
int sim_world_add(struct sim_world *w, const struct sim_model *m, const char *path,
                  const char *const *texts, char *err, size_t errlen);

/*
 * Give w n event sets (n >= 1), before any object is added. SIM_ESTATE if
 * objects exist, SIM_EINVAL if n is 0, SIM_ENOMEM.
 */
int sim_world_set_count(struct sim_world *w, unsigned n);

static inline unsigned sim_world_nsets(const struct sim_world *w)
{
    return w->nsets ? w->nsets : 1;
}

/* Event set i's simulation (i < sim_world_nsets(w)). */
static inline struct sim *sim_world_set_sim(struct sim_world *w, unsigned i)
{
    return i ? &w->sets[i - 1]->sim : &w->sim;
}

/*
 * sim_world_add() into event set @set: the object's create and connect get
 * that set's world. Every object it references must be in the same set
 * (SIM_EINVAL otherwise: the sets were picked wrong).
 */
int sim_world_add_to(struct sim_world *w, unsigned set, const struct sim_model *m,
                     const char *path, const char *const *texts, char *err, size_t errlen);

/* The latest time of any set (after a run to a limit all sets are there),
 * the events processed and pending in all sets. */
sim_tick_t sim_world_now(struct sim_world *w);
uint64_t sim_world_events(struct sim_world *w);
uint64_t sim_world_pending(struct sim_world *w);

/*
 * After every set has run to a key: a set that ran out of events earlier
 * (a run without a limit leaves a set at its last event) moves to the
 * latest set's time, so that the world has one time.
 */
void sim_world_catch_up(struct sim_world *w);

/*
 * Run every event set up to the key (limit, order_bound), as
 * sim_run_before(), with at most max_events events in all (0: no cap).
 * Each set runs alone up to the key, one set after another: a set whose
 * events are done returns at once, so a call that returns early (a cap, a
 * stop) can simply be repeated. in_time_order (for a user's event cap): the
 * sets advance together, the set with the earliest pending event running up
 * to the next set's earliest tick, so that a cap cuts the whole world at
 * about one time (ties between sets at one tick go to the lower set). A
 * sim_stop() in any set returns at once (SIM_EXIT_STOP). The cause is
 * SIM_EXIT_EMPTY only if every set is empty; the tick is sim_world_now().
 */
struct sim_exit sim_world_run(struct sim_world *w, sim_tick_t limit, uint64_t order_bound,
                              uint64_t max_events, int in_time_order);

/* Connect every object in creation order (once). */
int sim_world_start(struct sim_world *w, char *err, size_t errlen);

struct sim_object *sim_world_find(const struct sim_world *w, const char *path);

void sim_world_reset_stats(struct sim_world *w);

/* Destroy every object (reverse order) and the simulation; w is reusable
 * after sim_world_init(). */
void sim_world_destroy(struct sim_world *w);

/* A latency in ticks: cycles converted with clk (which must be non-NULL for
 * a value in cycles; the validate hook guarantees it). */
sim_tick_t sim_latency_ticks(struct sim_latency lat, const struct sim_clock *clk);

#endif /* SIM_OBJECT_H */
