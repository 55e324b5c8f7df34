/*
 * registry.h - the one table of models a config can build.
 *
 * Every model descriptor (object.h) is listed once in registry.c. The
 * Python classes, `iommusim --list-models`, `--describe MODEL` and
 * docs/params.md (`make docs`) are all generated from this table. It lives
 * in py/, the one layer allowed to see every other layer, so that the
 * engine never names a model: adding a model is adding a row.
 */
#ifndef PY_REGISTRY_H
#define PY_REGISTRY_H

#include <stdio.h>

#include "engine/object.h"

size_t model_registry_count(void);
const struct sim_model *model_registry_at(size_t i);
const struct sim_model *model_registry_find(const char *name);
/* Does some model implement interface @name (a ref_model may name it)? */
int model_registry_implemented(const char *name);

/*
 * Check every descriptor for mistakes a compiler cannot see: duplicate or
 * empty names, a default or bound that does not parse, an enum without
 * choices or a default outside them, a reference to an unknown model.
 * Writes one line per problem to `out` (may be NULL); returns the count.
 */
int model_registry_check(FILE *out);

/*
 * Add descriptor @m at run time (a plugin, plugin/plugin.h): after this it
 * is listed, described, built by configs and reported in statistics like a
 * built-in model. Only before the Python module is built (its classes are
 * made from the table once). @m is not copied: it must stay valid. Runs the
 * checks of model_registry_check() on it: 0, or SIM_EEXIST (the name is
 * taken), SIM_EINVAL (the first problem found), SIM_ENOMEM, with one line
 * in err.
 */
int model_registry_add(const struct sim_model *m, char *err, size_t errlen);

/* Forget the descriptors added after the first @n of model_registry_count()
 * (a plugin whose registration failed part-way). */
void model_registry_truncate(size_t n);

/* How many of the models are built in (the first ones of the table). */
size_t model_registry_builtin_count(void);

/* `--describe`: the model, its parameters and readouts, as text. */
void model_registry_describe(FILE *out, const struct sim_model *m);

/* `make docs`: every built-in model as Markdown (docs/params.md). */
void model_registry_markdown(FILE *out);

#endif /* PY_REGISTRY_H */
