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

struct sim_world {
    struct sim sim;
    uint64_t seed;                  /* RNG streams: sim_rng_seed(seed, path) */
    struct sim_object **objs;       /* creation order */
    size_t nobjs, cap;
    int started;
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
