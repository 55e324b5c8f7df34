/*
 * object.c - checking descriptors' parameters and managing the world of
 * created objects (see object.h).
 *
 * Lookups by path are linear: a world has tens to hundreds of objects and
 * they are looked up only while the tree is built, never while simulating.
 */
#include "engine/object.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

int sim_model_param_index(const struct sim_model *m, const char *name)
{
    for (unsigned i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Gathers the problems a validate hook reports, for sim_world_add(). */
struct first_error {
    const char *path;
    char *err;
    size_t errlen;
    int n;
};

static void first_error_report(void *ctx, const char *param, const char *msg)
{
    struct first_error *fe = ctx;

    if (fe->n++ == 0)
        snprintf(fe->err, fe->errlen, "%s.%s: %s", fe->path, param, msg);
}

int sim_model_check(const struct sim_model *m, const char *const *texts,
                    sim_report_fn report, void *ctx, sim_canon_fn canon)
{
    struct sim_value *vals = calloc(m->nparams ? m->nparams : 1, sizeof(*vals));
    char msg[512];
    int problems = 0;

    if (!vals) {
        report(ctx, m->name, "out of memory");
        return 1;
    }
    for (unsigned i = 0; i < m->nparams; i++) {
        const struct sim_param *p = &m->params[i];

        if (sim_param_parse(p, texts ? texts[i] : NULL, &vals[i], msg, sizeof(msg))) {
            report(ctx, p->name, msg);
            problems++;
        } else if (canon) {
            char *text = sim_param_format_dup(p, &vals[i]);

            if (!text) {
                report(ctx, p->name, "out of memory");
                problems++;
            } else {
                canon(ctx, i, text);
                free(text);
            }
        }
    }
    if (problems == 0 && m->ops && m->ops->validate)
        problems += m->ops->validate(vals, report, ctx);
    for (unsigned i = 0; i < m->nparams; i++)
        sim_param_value_free(&m->params[i], &vals[i]);
    free(vals);
    return problems;
}

void sim_world_init(struct sim_world *w, uint64_t seed)
{
    memset(w, 0, sizeof(*w));
    sim_init(&w->sim);
    w->seed = seed;
}

struct sim_object *sim_world_find(const struct sim_world *w, const char *path)
{
    for (size_t i = 0; i < w->nobjs; i++)
        if (strcmp(w->objs[i]->path, path) == 0)
            return w->objs[i];
    return NULL;
}

static void object_free(struct sim_object *obj)
{
    if (!obj)
        return;
    for (unsigned i = 0; i < obj->model->nparams; i++) {
        if (obj->texts)
            free(obj->texts[i]);
        if (obj->values)
            sim_param_value_free(&obj->model->params[i], &obj->values[i]);
    }
    free(obj->texts);
    free(obj->values);
    free(obj->path);
    free(obj);
}

/* Point a reference at the created object it names, of the right model. */
static int resolve_ref(struct sim_world *w, const char *path, const struct sim_param *p,
                       struct sim_value *v, char *err, size_t errlen)
{
    v->ref.obj = sim_world_find(w, v->ref.path);
    if (!v->ref.obj) {
        snprintf(err, errlen, "%s.%s: refers to no created object (got '%s', expected "
                 "the path of an object created before it)", path, p->name, v->ref.path);
        return SIM_ENOENT;
    }
    if (!sim_model_matches(v->ref.obj->model, p->ref_model)) {
        snprintf(err, errlen, "%s.%s: refers to the wrong kind of object (got %s '%s', "
                 "expected a %s)", path, p->name, v->ref.obj->model->name,
                 v->ref.path, p->ref_model);
        return SIM_EINVAL;
    }
    return 0;
}

int sim_world_add(struct sim_world *w, const struct sim_model *m, const char *path,
                  const char *const *texts, char *err, size_t errlen)
{
    struct sim_object *obj = NULL;
    struct first_error fe = { path, err, errlen, 0 };
    char msg[512];
    unsigned n = m->nparams;
    int rc;

    err[0] = '\0';
    if (w->started)
        return sim_error_format(err, errlen, SIM_ESTATE, path,
                                "objects cannot be added after the simulation started");
    if (sim_world_find(w, path))
        return sim_error_format(err, errlen, SIM_EEXIST, path, "path already used");
    if (w->nobjs == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct sim_object **objs = realloc(w->objs, cap * sizeof(*objs));

        if (!objs)
            return sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
        w->objs = objs;
        w->cap = cap;
    }
    obj = calloc(1, sizeof(*obj));
    if (!obj)
        goto err_nomem;
    obj->model = m;
    obj->world = w;
    obj->path = strdup(path);
    obj->values = calloc(n ? n : 1, sizeof(*obj->values));
    obj->texts = calloc(n ? n : 1, sizeof(*obj->texts));
    if (!obj->path || !obj->values || !obj->texts)
        goto err_nomem;

    for (unsigned i = 0; i < n; i++) {
        const struct sim_param *p = &m->params[i];
        struct sim_value *v = &obj->values[i];
        rc = sim_param_parse(p, texts ? texts[i] : NULL, v, msg, sizeof(msg));
        if (rc) {
            snprintf(err, errlen, "%s.%s: %s", path, p->name, msg);
            goto err_free;
        }
        obj->texts[i] = sim_param_format_dup(p, v);
        if (!obj->texts[i])
            goto err_nomem;
        if ((p->type == SIM_PT_STRING || p->type == SIM_PT_PATH) &&
            !(p->flags & SIM_PF_LIST)) {
            v->s = obj->texts[i];           /* own it, as a reference's path */
            continue;
        }
        if (p->type != SIM_PT_REF)
            continue;
        if (!(p->flags & SIM_PF_LIST)) {
            if (!v->ref.path)
                continue;
            v->ref.path = obj->texts[i];    /* own it: the caller's text may go */
            rc = resolve_ref(w, path, p, v, err, errlen);
        } else {
            /* List items point into the value's own copy of the text. */
            rc = 0;
            for (uint32_t k = 0; k < v->list.n && !rc; k++)
                rc = resolve_ref(w, path, p, &v->list.items[k], err, errlen);
        }
        if (rc)
            goto err_free;
    }
    if (m->ops && m->ops->validate && m->ops->validate(obj->values, first_error_report, &fe)) {
        rc = SIM_EINVAL;
        goto err_free;
    }
    if (m->ops && m->ops->create) {
        char cerr[512] = "";

        rc = m->ops->create(obj, w, cerr, sizeof(cerr));
        if (rc) {
            snprintf(err, errlen, "%s: %s", path, cerr[0] ? cerr : sim_strerror(rc));
            goto err_free;
        }
    }
    w->objs[w->nobjs++] = obj;
    return 0;

err_nomem:
    rc = SIM_ENOMEM;
    sim_error_format(err, errlen, rc, path, NULL);
err_free:
    object_free(obj);
    return rc;
}

int sim_world_start(struct sim_world *w, char *err, size_t errlen)
{
    if (w->started)
        return sim_error_format(err, errlen, SIM_ESTATE, "world", "already started");
    w->started = 1;
    for (size_t i = 0; i < w->nobjs; i++) {
        struct sim_object *obj = w->objs[i];
        char cerr[512] = "";
        int rc;

        if (!obj->model->ops || !obj->model->ops->connect)
            continue;
        rc = obj->model->ops->connect(obj, w, cerr, sizeof(cerr));
        if (rc) {
            snprintf(err, errlen, "%s: %s", obj->path, cerr[0] ? cerr : sim_strerror(rc));
            return rc;
        }
    }
    return 0;
}

void sim_world_reset_stats(struct sim_world *w)
{
    for (size_t i = 0; i < w->nobjs; i++) {
        struct sim_object *obj = w->objs[i];

        if (obj->model->ops && obj->model->ops->reset_stats)
            obj->model->ops->reset_stats(obj);
    }
}

void sim_world_destroy(struct sim_world *w)
{
    /* The events the objects own die with them: drop them from the queue
     * first so nothing points into freed storage. */
    sim_destroy(&w->sim);
    for (size_t i = w->nobjs; i-- > 0;) {
        struct sim_object *obj = w->objs[i];

        if (obj->model->ops && obj->model->ops->destroy)
            obj->model->ops->destroy(obj);
        object_free(obj);
    }
    free(w->objs);
    w->objs = NULL;
    w->nobjs = w->cap = 0;
    w->started = 0;
}

sim_tick_t sim_latency_ticks(struct sim_latency lat, const struct sim_clock *clk)
{
    if (!lat.cycles)
        return lat.value;
    return clk ? sim_clock_cycles_to_ticks(clk, lat.value) : SIM_TICK_MAX;
}
