/*
 * objstats.c - registering the statistics of a world's objects (see
 * objstats.h). Setup only: nothing here runs while simulating except
 * readout_fn, once per readout stat per dump.
 */
#include "stats/objstats.h"

#include <stdio.h>

#include "dev/lathist.h"
#include "engine/error.h"

/* The registry's scalar_fn signature over the model's read op. */
static double readout_fn(const void *ctx, unsigned idx)
{
    const struct sim_object *obj = ctx;

    return obj->model->ops->read(obj, idx);
}

int stats_object_readout(struct stats_registry *r, const struct sim_object *obj,
                         unsigned idx)
{
    const struct sim_model *m = obj->model;

    if (idx >= m->nreadouts || !m->ops || !m->ops->read)
        return stats_registry_fail(r, SIM_EINVAL, obj->path, "no readout %u", idx);
    return stats_register_scalar_fn(r, obj->path, m->readouts[idx].name,
                                    m->readouts[idx].unit, m->readouts[idx].doc,
                                    readout_fn, obj, idx);
}

int stats_object_readouts(struct stats_registry *r, const struct sim_object *obj,
                          uint64_t skip)
{
    int rc = 0;

    for (unsigned i = 0; i < obj->model->nreadouts; i++) {
        if (i < 64 && (skip >> i) & 1)
            continue;
        if (!rc)
            rc = stats_object_readout(r, obj, i);
    }
    return rc;
}

int stats_object_counter(struct stats_registry *r, const struct sim_object *obj,
                         const char *name, const char *unit, const char *desc,
                         const uint64_t *src)
{
    return stats_register_counter_ref(r, obj->path, name, unit, desc, src);
}

int stats_object_readout_counter(struct stats_registry *r, const struct sim_object *obj,
                                 unsigned idx, const uint64_t *src, uint64_t *done)
{
    const struct sim_model *m = obj->model;

    if (idx >= m->nreadouts)
        return stats_registry_fail(r, SIM_EINVAL, obj->path, "no readout %u", idx);
    if (done && idx < 64)
        *done |= UINT64_C(1) << idx;
    return stats_register_counter_ref(r, obj->path, m->readouts[idx].name,
                                      m->readouts[idx].unit, m->readouts[idx].doc, src);
}

/* The registry's moments of a lathist (its bins are read by reference). */
static void lathist_moments(const void *ctx, struct stats_hist *out)
{
    const struct lathist *h = ctx;

    out->count = h->count;
    out->underflow = out->overflow = 0;     /* the bins cover every uint64 */
    out->shift = h->shift;
    out->sum_d = h->sum_d;
    out->sumsq_d = h->sumsq_d;
    out->min = (double)h->min;
    out->max = (double)h->max;
}

int stats_object_lathist(struct stats_registry *r, const struct sim_object *obj,
                         const char *name, const char *unit, const char *desc,
                         const struct lathist *h)
{
    return stats_register_hist_ref(r, obj->path, name, unit, desc, LATHIST_SUB,
                                   LATHIST_BINS, h->bin, lathist_moments, h);
}

int stats_world_register(struct stats_registry *r, struct sim_world *w,
                         char *err, size_t errlen)
{
    for (size_t i = 0; i < w->nobjs; i++) {
        struct sim_object *obj = w->objs[i];
        const struct sim_model_ops *ops = obj->model->ops;
        int rc;

        if (ops && ops->register_stats)
            rc = ops->register_stats(obj, r);
        else if (obj->model->nreadouts && ops && ops->read)
            rc = stats_object_readouts(r, obj, 0);
        else
            rc = 0;
        if (!rc)
            rc = stats_registry_error(r);
        if (rc) {
            snprintf(err, errlen, "%s", stats_registry_error(r) ? stats_registry_errmsg(r)
                     : sim_strerror(rc));
            return rc;
        }
    }
    return 0;
}
