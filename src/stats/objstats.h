/*
 * objstats.h - statistics of the objects of a world (the glue between the
 * model descriptors of engine/object.h and the registry).
 *
 * Each model's `register_stats` op registers its values under the object's
 * dotted path (obj->path + "." + name): plain event counters by reference
 * (the registry reads the model's own inline uint64 at each dump, so the hot
 * path is unchanged), rates as formulas over them, and derived values (means,
 * levels, utilisations) through the model's `read` op at each dump. The
 * helpers below do the common cases so that an op is a few lines.
 */
#ifndef STATS_OBJSTATS_H
#define STATS_OBJSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/object.h"
#include "stats/registry.h"

/* Readout idx of obj as a `scalar` read through the model's read op at each
 * dump, named, unit'd and described as the readout. 0 or SIM_E*. */
int stats_object_readout(struct stats_registry *r, const struct sim_object *obj,
                         unsigned idx);

/* Every readout of obj whose bit (1 << idx) is clear in `skip`, as above.
 * 0 or the first SIM_E* (the registry keeps the message). */
int stats_object_readouts(struct stats_registry *r, const struct sim_object *obj,
                          uint64_t skip);

/* A counter of obj by reference: obj->path + "." + name. */
int stats_object_counter(struct stats_registry *r, const struct sim_object *obj,
                         const char *name, const char *unit, const char *desc,
                         const uint64_t *src);

/* Counter `idx` of obj's readouts by reference (name, unit and doc of the
 * readout), and sets bit idx in *done so stats_object_readouts can skip it. */
int stats_object_readout_counter(struct stats_registry *r, const struct sim_object *obj,
                                 unsigned idx, const uint64_t *src, uint64_t *done);

/*
 * A model's latency histogram (src/dev/lathist.h) by reference: a
 * `histogram` stat obj->path + "." + name whose bins are the lathist's own
 * (log-linear, 8 per octave, exact below 16), read at each dump. The model
 * resets it in its reset_stats op. 0 or SIM_E* (the registry keeps it).
 */
struct lathist;
int stats_object_lathist(struct stats_registry *r, const struct sim_object *obj,
                         const char *name, const char *unit, const char *desc,
                         const struct lathist *h);

/*
 * Call every object's register_stats op, in creation order. Objects whose
 * model has no op but has readouts get their readouts (read at each dump).
 * Returns 0 or SIM_E* with "path: what" in err.
 */
int stats_world_register(struct stats_registry *r, struct sim_world *w,
                         char *err, size_t errlen);

#endif /* STATS_OBJSTATS_H */
