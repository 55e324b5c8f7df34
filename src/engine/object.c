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
    return sim_world_add_to(w, 0, m, path, texts, err, errlen);
}

int sim_world_set_count(struct sim_world *w, unsigned n)
{
    struct sim_world **sets;

    if (!n)
        return SIM_EINVAL;
    if (w->nobjs || w->started || w->nsets > 1)
        return SIM_ESTATE;
    if (n == 1)
        return 0;
    sets = calloc(n - 1, sizeof(*sets));
    if (!sets)
        return SIM_ENOMEM;
    for (unsigned i = 0; i < n - 1; i++) {
        sets[i] = malloc(sizeof(*sets[i]));
        if (!sets[i]) {
            while (i-- > 0) {
                sim_destroy(&sets[i]->sim);
                free(sets[i]);
            }
            free(sets);
            return SIM_ENOMEM;
        }
        sim_world_init(sets[i], w->seed);
    }
    w->sets = sets;
    w->nsets = n;
    return 0;
}

/* Does every object obj references live in the set @set_world? */
static int refs_in_set(const struct sim_object *obj, const struct sim_world *set_world,
                       char *err, size_t errlen)
{
    for (unsigned i = 0; i < obj->model->nparams; i++) {
        const struct sim_param *p = &obj->model->params[i];
        const struct sim_value *v = &obj->values[i];
        uint32_t n = p->flags & SIM_PF_LIST ? v->list.n : 1;

        if (p->type != SIM_PT_REF)
            continue;
        for (uint32_t k = 0; k < n; k++) {
            const struct sim_object *t = p->flags & SIM_PF_LIST ? v->list.items[k].ref.obj
                                                                 : v->ref.obj;

            if (t && t->world != set_world) {
                snprintf(err, errlen, "%s.%s: refers to '%s', which is in another event "
                         "set (internal error: the sets must follow the references)",
                         obj->path, p->name, t->path);
                return SIM_EINVAL;
            }
        }
    }
    return 0;
}

int sim_world_add_to(struct sim_world *w, unsigned set, const struct sim_model *m,
                     const char *path, const char *const *texts, char *err, size_t errlen)
{
    struct sim_object *obj = NULL;
    struct first_error fe = { path, err, errlen, 0 };
    struct sim_world *sw;
    char msg[512];
    unsigned n = m->nparams;
    int rc;

    err[0] = '\0';
    if (w->started)
        return sim_error_format(err, errlen, SIM_ESTATE, path,
                                "objects cannot be added after the simulation started");
    if (set >= sim_world_nsets(w))
        return sim_error_format(err, errlen, SIM_EINVAL, path, "no event set %u (the "
                                "world has %u)", set, sim_world_nsets(w));
    sw = set ? w->sets[set - 1] : w;
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
    obj->world = sw;
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
    if ((rc = refs_in_set(obj, sw, err, errlen)) != 0)
        goto err_free;
    if (m->ops && m->ops->validate && m->ops->validate(obj->values, first_error_report, &fe)) {
        rc = SIM_EINVAL;
        goto err_free;
    }
    if (m->ops && m->ops->create) {
        char cerr[512] = "";

        rc = m->ops->create(obj, sw, cerr, sizeof(cerr));
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
        rc = obj->model->ops->connect(obj, obj->world, cerr, sizeof(cerr));
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
    for (unsigned i = 1; i < sim_world_nsets(w); i++)
        sim_destroy(&w->sets[i - 1]->sim);
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
    for (unsigned i = 1; i < sim_world_nsets(w); i++)
        free(w->sets[i - 1]);
    free(w->sets);
    w->sets = NULL;
    w->nsets = 0;
}

sim_tick_t sim_world_now(struct sim_world *w)
{
    sim_tick_t t = 0;

    for (unsigned i = 0; i < sim_world_nsets(w); i++)
        if (sim_now(sim_world_set_sim(w, i)) > t)
            t = sim_now(sim_world_set_sim(w, i));
    return t;
}

uint64_t sim_world_events(struct sim_world *w)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < sim_world_nsets(w); i++)
        n += sim_events_processed(sim_world_set_sim(w, i));
    return n;
}

uint64_t sim_world_pending(struct sim_world *w)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < sim_world_nsets(w); i++)
        n += sim_events_pending(sim_world_set_sim(w, i));
    return n;
}

void sim_world_catch_up(struct sim_world *w)
{
    sim_tick_t t = sim_world_now(w);

    for (unsigned i = 0; i < sim_world_nsets(w); i++) {
        struct sim *s = sim_world_set_sim(w, i);

        if (sim_now(s) < t && sim_events_pending(s) == 0)
            sim_run_until(s, t, 0);
    }
}

/* The earliest pending tick of set i, or SIM_TICK_MAX. */
static sim_tick_t set_next(struct sim_world *w, unsigned i)
{
    struct sim_event *ev = sim_eventq_peek(&sim_world_set_sim(w, i)->q);

    return ev ? ev->when : SIM_TICK_MAX;
}

/*
 * Run one set up to the key under what is left of the cap. Returns 1 when
 * the run must end here (a stop or the cap): *ex is then its exit.
 */
static int run_set(struct sim *s, sim_tick_t limit, uint64_t order_bound,
                   uint64_t max_events, uint64_t *done, struct sim_exit *ex)
{
    struct sim_exit part = sim_run_before(s, limit, order_bound,
                                          max_events ? max_events - *done : 0);

    *done += part.events;
    if (part.cause != SIM_EXIT_STOP && part.cause != SIM_EXIT_MAX_EVENTS)
        return 0;
    *ex = part;
    ex->events = *done;
    return 1;
}

struct sim_exit sim_world_run(struct sim_world *w, sim_tick_t limit, uint64_t order_bound,
                              uint64_t max_events, int in_time_order)
{
    unsigned n = sim_world_nsets(w);
    struct sim_exit ex = { SIM_EXIT_LIMIT, 0, 0, "reached the tick limit" };
    uint64_t done = 0;

    if (n == 1)
        return sim_run_before(&w->sim, limit, order_bound, max_events);
    /* In time order: the set with the earliest event runs to the next set's
     * first tick (inclusive) while that is before the limit; what is left
     * is at most each set's events at the limit, run below. */
    while (in_time_order) {
        unsigned pick = 0;
        sim_tick_t first = SIM_TICK_MAX, second = SIM_TICK_MAX;

        for (unsigned i = 0; i < n; i++) {
            sim_tick_t t = set_next(w, i);

            if (t < first) {
                second = first;
                first = t;
                pick = i;
            } else if (t < second) {
                second = t;
            }
        }
        if (second >= limit)
            break;
        if (run_set(sim_world_set_sim(w, pick), second, UINT64_MAX, max_events, &done, &ex))
            return ex;
    }
    for (unsigned i = 0; i < n; i++)
        if (run_set(sim_world_set_sim(w, i), limit, order_bound, max_events, &done, &ex))
            return ex;
    sim_world_catch_up(w);
    ex.events = done;
    ex.tick = sim_world_now(w);
    if (sim_world_pending(w) == 0) {
        ex.cause = SIM_EXIT_EMPTY;
        ex.reason = "no events left";
    }
    return ex;
}

sim_tick_t sim_latency_ticks(struct sim_latency lat, const struct sim_clock *clk)
{
    if (!lat.cycles)
        return lat.value;
    return clk ? sim_clock_cycles_to_ticks(clk, lat.value) : SIM_TICK_MAX;
}
