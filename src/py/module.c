/*
 * module.c - `_iommusim`, the built-in module that gives Python the C side.
 *
 * The Python package (python/iommusim) builds and checks the object tree;
 * this module is the narrow door to C:
 *   models()                        the descriptor table, as dicts
 *   check(model, {param: text})     parse + check one object, every problem
 *   event_sets(n)                   n independent event sets (before create)
 *   create(model, path, {param: text}, set), start()
 *   simulate(until, max_events)     run, in slices, with progress and Ctrl-C
 *   read(path), reset_stats(), now(), events(), reset()
 *   parse_time(text), options()
 *   stats_open(config_json), stats_period(ticks), stats_close(complete)
 *                                   the run's statistics (OUTDIR/stats.h5, .txt)
 * Values cross as text in the parameter's syntax, so C parses everything
 * (one set of rules, tested in C) and Python never needs to know a unit.
 *
 * Simulation runs in slices of SLICE_EVENTS events (sim_world_run with an
 * event cap): between slices, and only there, C checks for Ctrl-C
 * (PyErr_CheckSignals) and prints the progress line. A slice costs one
 * function return per 64 Ki events; no Python runs on the per-event path.
 * The world may hold several event sets (engine/object.h: machines that
 * share no object), each run alone to the next stop: a dump or the limit.
 *
 * Statistics. instantiate() calls stats_open() once every object is
 * connected: each object's register_stats op registers its values (see
 * stats/objstats.h), and the HDF5 writer creates OUTDIR/stats.h5.tmp. A
 * periodic dump is a stop of every event set on the grid k * stats_period,
 * at the key an event of SIM_PRIO_STATS would have there (so it sees the
 * work of its tick done: sim_run_before); a next dump is armed only while
 * events are pending, so a run "until no events are left" still ends.
 * The runner calls stats_close() at the end of the run: a final dump
 * (unless the last periodic one already saw this very state), stats.txt,
 * and the rename of stats.h5.tmp, with /run/complete 0 when the run was cut
 * short (Ctrl-C, an error) so that what was measured is kept but marked.
 * The registry reads the models' own counters, so it is closed before any
 * object is destroyed.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "engine/error.h"
#include "engine/object.h"
#include "engine/units.h"
#include "engine/worldpool.h"
#include "py/internal.h"
#include "py/py.h"
#include "py/registry.h"
#include "stats/h5writer.h"
#include "stats/objstats.h"
#include "stats/txtwriter.h"
#include "gitrev.h"

#define SLICE_EVENTS (UINT64_C(1) << 16)
#define PROGRESS_EVERY_S 0.5

static struct {
    struct sim_world world;
    int world_ready;
    struct sim_world_pool *pool;    /* threads for the event sets, or NULL */
    int pool_tried;                 /* started (or found needless) once */
    const struct py_opts *opts;
    /* Statistics (stats_open .. stats_close). */
    struct stats_registry reg;
    int reg_ready;
    struct stats_h5_writer *h5;
    char *h5_path, *txt_path;
    sim_tick_t next_dump;           /* the next periodic dump's tick; 0: none armed */
    sim_tick_t period;              /* 0: final dump only */
    uint64_t events_at_dump;        /* sim events when the last dump was taken */
    int dump_err;                   /* a periodic dump failed (message in reg) */
} M;

static void stats_teardown(void);
static PyObject *stats_error(const char *fallback);

static struct sim_world *world(void)
{
    if (!M.world_ready) {
        sim_world_init(&M.world, M.opts ? M.opts->seed : 1);
        M.world_ready = 1;
    }
    return &M.world;
}

void py_module_set_opts(const struct py_opts *opts)
{
    M.opts = opts;
}

void py_module_shutdown(void)
{
    stats_teardown();               /* the registry points into the objects */
    sim_world_pool_stop(M.pool);
    M.pool = NULL;
    M.pool_tried = 0;
    if (M.world_ready)
        sim_world_destroy(&M.world);
    M.world_ready = 0;
}

static double host_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --- Descriptors --------------------------------------------------------- */

static PyObject *str_or_none(const char *s)
{
    if (s)
        return PyUnicode_FromString(s);
    Py_RETURN_NONE;
}

static PyObject *param_dict(const struct sim_param *p)
{
    PyObject *choices = PyList_New(0);
    PyObject *d;

    if (!choices)
        return NULL;
    for (unsigned i = 0; p->choices && p->choices[i]; i++) {
        PyObject *c = PyUnicode_FromString(p->choices[i]);

        if (!c || PyList_Append(choices, c)) {
            Py_XDECREF(c);
            Py_DECREF(choices);
            return NULL;
        }
        Py_DECREF(c);
    }
    d = Py_BuildValue("{s:s,s:s,s:N,s:s,s:N,s:N,s:N,s:N,s:O,s:O,s:s}",
                      "name", p->name,
                      "type", sim_param_type_name(p->type),
                      "default", str_or_none(p->def),
                      "doc", p->doc,
                      "min", str_or_none(p->min),
                      "max", str_or_none(p->max),
                      "choices", choices,
                      "ref_model", str_or_none(p->ref_model),
                      "optional", (p->flags & SIM_PF_OPTIONAL) ? Py_True : Py_False,
                      "list", (p->flags & SIM_PF_LIST) ? Py_True : Py_False,
                      "expected", sim_param_type_expected(p->type));
    return d;
}

static PyObject *model_dict(const struct sim_model *m)
{
    PyObject *params = PyList_New(0), *readouts = PyList_New(0);

    if (!params || !readouts)
        goto err;
    for (unsigned i = 0; i < m->nparams; i++) {
        PyObject *p = param_dict(&m->params[i]);

        if (!p || PyList_Append(params, p)) {
            Py_XDECREF(p);
            goto err;
        }
        Py_DECREF(p);
    }
    for (unsigned i = 0; i < m->nreadouts; i++) {
        PyObject *r = Py_BuildValue("{s:s,s:s,s:s}", "name", m->readouts[i].name,
                                    "unit", m->readouts[i].unit, "doc", m->readouts[i].doc);

        if (!r || PyList_Append(readouts, r)) {
            Py_XDECREF(r);
            goto err;
        }
        Py_DECREF(r);
    }
    return Py_BuildValue("{s:s,s:s,s:N,s:N,s:O,s:N}", "name", m->name, "doc", m->doc,
                         "params", params, "readouts", readouts,
                         "container", (m->ops && m->ops->create) ? Py_False : Py_True,
                         "implements", str_or_none(m->implements));
err:
    Py_XDECREF(params);
    Py_XDECREF(readouts);
    return NULL;
}

static PyObject *mod_models(PyObject *self, PyObject *args)
{
    PyObject *list = PyList_New(0);

    (void)self;
    (void)args;
    if (!list)
        return NULL;
    for (size_t i = 0; i < model_registry_count(); i++) {
        PyObject *d = model_dict(model_registry_at(i));

        if (!d || PyList_Append(list, d)) {
            Py_XDECREF(d);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(d);
    }
    return list;
}

static const struct sim_model *find_model(const char *name)
{
    const struct sim_model *m = model_registry_find(name);

    if (!m)
        PyErr_Format(PyExc_KeyError, "no model '%s'", name);
    return m;
}

/*
 * texts[i] from a {param: str} dict. The strings stay owned by the dict
 * (which the caller holds) for as long as texts is used. Unknown names are
 * an error: the Python side reports them with suggestions before calling.
 */
static int texts_from_dict(const struct sim_model *m, PyObject *dict, const char **texts)
{
    PyObject *key, *val;
    Py_ssize_t pos = 0;

    for (unsigned i = 0; i < m->nparams; i++)
        texts[i] = NULL;
    if (!PyDict_Check(dict)) {
        PyErr_SetString(PyExc_TypeError, "parameter values must be a dict");
        return -1;
    }
    while (PyDict_Next(dict, &pos, &key, &val)) {
        const char *name = PyUnicode_AsUTF8(key);
        int idx;

        if (!name)
            return -1;
        idx = sim_model_param_index(m, name);
        if (idx < 0) {
            PyErr_Format(PyExc_KeyError, "%s has no parameter '%s'", m->name, name);
            return -1;
        }
        if (val == Py_None)
            continue;
        if (!PyUnicode_Check(val)) {
            PyErr_Format(PyExc_TypeError, "%s.%s: value must be text", m->name, name);
            return -1;
        }
        texts[idx] = PyUnicode_AsUTF8(val);
        if (!texts[idx])
            return -1;
    }
    return 0;
}

static void report_to_list(void *ctx, const char *param, const char *msg)
{
    PyObject *t = Py_BuildValue("(ss)", param, msg);

    if (t) {
        PyList_Append((PyObject *)ctx, t);
        Py_DECREF(t);
    }
}

#define MAX_PARAMS 128

/* sim_model_check's canonical texts, into a list indexed by parameter. */
struct canon_ctx {
    PyObject *errors;               /* report() appends here */
    PyObject *texts;                /* list, nparams entries */
};

static void report_canon(void *ctx, const char *param, const char *msg)
{
    report_to_list(((struct canon_ctx *)ctx)->errors, param, msg);
}

static void keep_canon(void *ctx, unsigned idx, const char *text)
{
    PyObject *v = PyUnicode_FromString(text);

    if (v)
        PyList_SetItem(((struct canon_ctx *)ctx)->texts, idx, v);   /* steals v */
}

static PyObject *mod_check(PyObject *self, PyObject *args)
{
    const char *name;
    PyObject *dict, *errors = NULL, *canon = NULL, *list = NULL;
    const struct sim_model *m;
    const char *texts[MAX_PARAMS];
    struct canon_ctx cc;
    int problems;

    (void)self;
    if (!PyArg_ParseTuple(args, "sO", &name, &dict) || !(m = find_model(name)))
        return NULL;
    if (m->nparams > MAX_PARAMS)
        return PyErr_Format(PyExc_RuntimeError, "%s: too many parameters", m->name);
    if (texts_from_dict(m, dict, texts))
        return NULL;
    errors = PyList_New(0);
    canon = PyDict_New();
    list = PyList_New(m->nparams);
    if (!errors || !canon || !list)
        goto err;
    for (unsigned i = 0; i < m->nparams; i++) {
        Py_INCREF(Py_None);
        PyList_SET_ITEM(list, i, Py_None);
    }
    cc.errors = errors;
    cc.texts = list;
    problems = sim_model_check(m, texts, report_canon, &cc, keep_canon);
    if (PyErr_Occurred())
        goto err;
    if (problems == 0) {
        for (unsigned i = 0; i < m->nparams; i++)
            if (PyDict_SetItemString(canon, m->params[i].name, PyList_GET_ITEM(list, i)))
                goto err;
    }
    Py_DECREF(list);
    return Py_BuildValue("(NN)", errors, canon);
err:
    Py_XDECREF(errors);
    Py_XDECREF(canon);
    Py_XDECREF(list);
    return NULL;
}

/* --- The world ------------------------------------------------------------ */

static PyObject *mod_create(PyObject *self, PyObject *args)
{
    const char *name, *path;
    PyObject *dict;
    const struct sim_model *m;
    const char *texts[MAX_PARAMS];
    unsigned set = 0;
    char err[1024];

    (void)self;
    if (!PyArg_ParseTuple(args, "ssO|I", &name, &path, &dict, &set) || !(m = find_model(name)))
        return NULL;
    if (texts_from_dict(m, dict, texts))
        return NULL;
    if (sim_world_add_to(world(), set, m, path, texts, err, sizeof(err)))
        return PyErr_Format(PyExc_ValueError, "%s", err);
    Py_RETURN_NONE;
}

/* event_sets(n): the world's objects go into n event sets (create's `set`). */
static PyObject *mod_event_sets(PyObject *self, PyObject *args)
{
    unsigned n;
    int rc;

    (void)self;
    if (!PyArg_ParseTuple(args, "I", &n))
        return NULL;
    rc = sim_world_set_count(world(), n);
    if (rc)
        return PyErr_Format(PyExc_ValueError, "event_sets(%u): %s", n,
                            rc == SIM_ESTATE ? "objects exist already" : sim_strerror(rc));
    Py_RETURN_NONE;
}

static PyObject *mod_start(PyObject *self, PyObject *args)
{
    char err[1024];

    (void)self;
    (void)args;
    if (sim_world_start(world(), err, sizeof(err)))
        return PyErr_Format(PyExc_ValueError, "%s", err);
    Py_RETURN_NONE;
}

static PyObject *mod_reset(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    py_module_shutdown();
    Py_RETURN_NONE;
}

static PyObject *mod_reset_stats(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    sim_world_reset_stats(world());
    if (M.reg_ready)
        stats_registry_reset(&M.reg, sim_world_now(world()));
    Py_RETURN_NONE;
}

static PyObject *mod_now(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    return PyLong_FromUnsignedLongLong(sim_world_now(world()));
}

static PyObject *mod_events(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    return PyLong_FromUnsignedLongLong(sim_world_events(world()));
}

static PyObject *mod_read(PyObject *self, PyObject *args)
{
    const char *path;
    struct sim_object *obj;
    PyObject *d;

    (void)self;
    if (!PyArg_ParseTuple(args, "s", &path))
        return NULL;
    obj = sim_world_find(world(), path);
    if (!obj)
        return PyErr_Format(PyExc_KeyError, "%s: no such object (instantiate() first?)", path);
    d = PyDict_New();
    if (!d)
        return NULL;
    for (unsigned i = 0; i < obj->model->nreadouts; i++) {
        PyObject *v = PyFloat_FromDouble(obj->model->ops->read(obj, i));

        if (!v || PyDict_SetItemString(d, obj->model->readouts[i].name, v)) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

static PyObject *mod_parse_time(PyObject *self, PyObject *args)
{
    static const struct sim_param until = {
        .name = "until", .type = SIM_PT_LATENCY, .doc = "", .flags = SIM_PF_NO_CYCLES,
    };
    const char *text;
    struct sim_value v;
    char err[512];

    (void)self;
    if (!PyArg_ParseTuple(args, "s", &text))
        return NULL;
    if (sim_param_parse(&until, text, &v, err, sizeof(err)))
        return PyErr_Format(PyExc_ValueError, "%s", err);
    return PyLong_FromUnsignedLongLong(v.lat.value);
}

/* --- Running ---------------------------------------------------------------- */

/* "1.234 ms" with a unit that keeps 3-4 significant digits. */
static void fmt_time(char *buf, size_t len, sim_tick_t t)
{
    static const struct { const char *u; double div; } units[] = {
        { "s", 1e12 }, { "ms", 1e9 }, { "us", 1e6 }, { "ns", 1e3 },
    };

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if ((double)t >= units[i].div) {
            snprintf(buf, len, "%.4g %s", (double)t / units[i].div, units[i].u);
            return;
        }
    }
    snprintf(buf, len, "%" PRIu64 " ps", t);
}

struct progress {
    int on, tty;
    double t0, last;
    sim_tick_t until;               /* SIM_TICK_MAX: no end requested */
    sim_tick_t from;
    uint64_t events0;
    int printed;
    struct sim_world *w;
    /* While the pool runs, the sets are the threads' own: what the progress
       line shows comes from the pool (its events since run_events0). */
    struct sim_world_pool *pool;
    uint64_t run_events0;
    int interrupted;                /* Ctrl-C seen (KeyboardInterrupt set) */
};

static uint64_t progress_events(struct progress *pg, struct sim_world *w)
{
    return pg->pool ? pg->run_events0 + sim_world_pool_progress(pg->pool, NULL)
                    : sim_world_events(w);
}

/* How far the world is: the mean of its sets' times (they run in turn). */
static sim_tick_t progress_tick(struct progress *pg, struct sim_world *w)
{
    unsigned n = sim_world_nsets(w);
    double sum = 0.0;

    if (pg->pool) {
        sim_tick_t mean;

        sim_world_pool_progress(pg->pool, &mean);
        return mean > pg->from ? mean : pg->from;
    }
    for (unsigned i = 0; i < n; i++) {
        sim_tick_t t = sim_now(sim_world_set_sim(w, i));

        sum += (double)(t > pg->from ? t - pg->from : 0);
    }
    return pg->from + (sim_tick_t)(sum / n);
}

static void progress_print(struct progress *pg, struct sim_world *w, int final)
{
    char now[32], end[32], pct[48] = "";
    double host = host_now() - pg->t0;
    uint64_t ev = progress_events(pg, w) - pg->events0;
    double rate = host > 0 ? (double)ev / host : 0.0;
    sim_tick_t at = final ? sim_world_now(w) : progress_tick(pg, w);

    fmt_time(now, sizeof(now), at);
    if (pg->until != SIM_TICK_MAX && pg->until > pg->from) {
        fmt_time(end, sizeof(end), pg->until);
        snprintf(pct, sizeof(pct), " (%5.1f%% of %s)",
                 100.0 * (double)(at - pg->from) / (double)(pg->until - pg->from), end);
    }
    fprintf(stderr, "%siommusim: sim %s%s, %.3g events/s, host %.2f s%s",
            pg->tty ? "\r\033[K" : "", now, pct, rate, host,
            pg->tty && !final ? "" : "\n");
    fflush(stderr);
    pg->printed = 1;
}

/* The next dump tick on the grid k * period after now, or 0 if past the end
 * of time. */
static sim_tick_t next_dump_tick(sim_tick_t now, sim_tick_t period)
{
    sim_tick_t k = now / period + 1;

    if (k > (SIM_TICK_MAX - 1) / period)
        return 0;
    return k * period;
}

/*
 * The periodic dump at tick t, every set stopped at t's stats key. Arms the
 * next one only while events are pending (else a run "until no events are
 * left" would never end). Returns 0, or -1 when the file cannot be written.
 */
static int dump_periodic(struct sim_world *w, sim_tick_t t)
{
    if (stats_dump(&M.reg, t) != 0) {
        M.dump_err = 1;
        M.next_dump = 0;
        return -1;
    }
    M.events_at_dump = sim_world_events(w);
    M.next_dump = sim_world_pending(w) && M.period ? next_dump_tick(t, M.period) : 0;
    return 0;
}

/*
 * Between slices (and, with threads, every 100 ms while waiting): Ctrl-C
 * and the progress line. Returns 1 to stop the run (KeyboardInterrupt set).
 */
static int simulate_poll(void *ctx)
{
    struct progress *pg = ctx;

    if (PyErr_CheckSignals()) {
        pg->interrupted = 1;
        return 1;
    }
    if (pg->on) {
        double h = host_now();

        if (h - pg->last >= PROGRESS_EVERY_S) {
            pg->last = h;
            progress_print(pg, pg->w, 0);
        }
    }
    return 0;
}

/*
 * The threads for a world of several event sets: --threads, default the
 * host's CPUs, never more than the sets. Made once, at the first
 * simulate(). A failure to make threads is not an error: the sets then run
 * in turn on this thread, with the same results.
 */
static struct sim_world_pool *simulate_pool(struct sim_world *w)
{
    long cpus;
    unsigned want;

    if (M.pool_tried)
        return M.pool;
    M.pool_tried = 1;
    cpus = sysconf(_SC_NPROCESSORS_ONLN);
    want = M.opts && M.opts->threads ? M.opts->threads : (cpus > 0 ? (unsigned)cpus : 1);
    if (want > sim_world_nsets(w))
        want = sim_world_nsets(w);
    if (want >= 2 && sim_world_pool_start(&M.pool, w, want) != 0)
        M.pool = NULL;
    if (M.pool && M.opts && M.opts->verbosity >= 2)
        fprintf(stderr, "iommusim: %u event sets on %u threads\n", sim_world_nsets(w), want);
    return M.pool;
}

static PyObject *mod_simulate(PyObject *self, PyObject *args)
{
    unsigned long long until_arg, max_events;
    int until_set;
    struct sim_world *w = world();
    struct sim_exit ex = { 0 };
    struct progress pg = { 0 };
    sim_tick_t limit;
    uint64_t done = 0;
    double t0;

    (void)self;
    if (!PyArg_ParseTuple(args, "pKK", &until_set, &until_arg, &max_events))
        return NULL;
    if (!w->started)
        return PyErr_Format(PyExc_RuntimeError, "simulate: the objects were not started");
    limit = until_set ? (sim_tick_t)until_arg : SIM_TICK_MAX - 1;
    if (limit >= SIM_TICK_MAX)
        limit = SIM_TICK_MAX - 1;
    t0 = host_now();
    pg.on = M.opts && M.opts->progress;
    pg.tty = isatty(STDERR_FILENO);
    pg.t0 = pg.last = t0;
    pg.until = until_set ? limit : SIM_TICK_MAX;
    pg.from = sim_world_now(w);
    pg.events0 = sim_world_events(w);
    pg.w = w;

    for (;;) {
        uint64_t cap = SLICE_EVENTS;
        /* The next stop: a periodic dump, which must see its tick's work
         * done (every event below SIM_PRIO_STATS), or the limit. */
        int dump = M.next_dump && M.next_dump <= limit;
        sim_tick_t key = dump ? M.next_dump : limit;
        uint64_t bound = dump ? sim_order_prio_floor(SIM_PRIO_STATS) : UINT64_MAX;
        struct sim_exit part;

        if (max_events && max_events - done < cap)
            cap = max_events - done;
        if (!max_events && simulate_pool(w)) {
            /* The sets on threads, each to the key; the pool polls. */
            pg.pool = M.pool;
            pg.run_events0 = sim_world_events(w);
            part = sim_world_pool_run(M.pool, key, bound, SLICE_EVENTS, simulate_poll, &pg,
                                      100);
            pg.pool = NULL;
        } else {
            /* A user's event cap cuts every set at about one time. */
            part = sim_world_run(w, key, bound, cap, max_events != 0);
        }
        done += part.events;
        ex = part;
        if (pg.interrupted)
            goto interrupted;       /* the pool's poll saw Ctrl-C */
        if (part.cause == SIM_EXIT_STOP)
            break;
        if (part.cause != SIM_EXIT_MAX_EVENTS) {
            if (!dump || dump_periodic(w, key) != 0)
                break;
            /* then the rest of the key's tick, or on, after the checks */
        } else if (max_events && done >= max_events) {
            break;
        }
        /* Between slices and after each dump: Ctrl-C and progress. */
        if (simulate_poll(&pg))
            goto interrupted;
    }
    if (pg.on)
        progress_print(&pg, w, 1);
    if (M.dump_err)
        return stats_error("a statistics dump failed");
    return Py_BuildValue("(sKKd)", sim_exit_cause_name(ex.cause),
                         (unsigned long long)sim_world_now(w), (unsigned long long)done,
                         host_now() - t0);

interrupted:
    if (pg.printed && pg.tty)
        fputc('\n', stderr);
    return NULL;                    /* KeyboardInterrupt, at an event boundary */
}

/* --- Statistics ------------------------------------------------------------ */

/* Drop the writer (removing its .tmp) and the registry: after an error, or
 * when the world goes away without stats_close() (an internal error). */
static void stats_teardown(void)
{
    M.next_dump = 0;
    if (M.h5)
        stats_h5_writer_abort(M.h5);
    M.h5 = NULL;
    if (M.reg_ready)
        stats_registry_destroy(&M.reg);
    M.reg_ready = 0;
    free(M.h5_path);
    free(M.txt_path);
    M.h5_path = M.txt_path = NULL;
    M.period = 0;
    M.dump_err = 0;
}

static PyObject *stats_error(const char *fallback)
{
    const char *msg = M.reg_ready && stats_registry_error(&M.reg) ?
                      stats_registry_errmsg(&M.reg) : fallback;

    return PyErr_Format(PyExc_RuntimeError, "%s", msg);
}

static int path_join(char **out, const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;

    *out = malloc(n);
    if (!*out)
        return -1;
    snprintf(*out, n, "%s/%s", dir, name);
    return 0;
}

/* stats_open(config_json): register every object's stats, create stats.h5.tmp. */
static PyObject *mod_stats_open(PyObject *self, PyObject *args)
{
    struct sim_world *w = world();
    const struct py_opts *o = M.opts;
    const char *json;
    struct stats_run_meta meta = { 0 };
    char err[1024], *cmd = NULL;
    size_t cmdlen = 1;

    (void)self;
    if (!PyArg_ParseTuple(args, "s", &json))
        return NULL;
    if (M.reg_ready)
        return PyErr_Format(PyExc_RuntimeError, "stats_open: statistics already open");
    if (!w->started)
        return PyErr_Format(PyExc_RuntimeError, "stats_open: the objects were not started");
    stats_registry_init(&M.reg);
    M.reg_ready = 1;
    if (stats_world_register(&M.reg, w, err, sizeof(err))) {
        stats_teardown();
        return PyErr_Format(PyExc_RuntimeError, "%s", err);
    }
    if (path_join(&M.h5_path, o && o->outdir ? o->outdir : "iommusim-out", "stats.h5") ||
        path_join(&M.txt_path, o && o->outdir ? o->outdir : "iommusim-out", "stats.txt")) {
        stats_teardown();
        return PyErr_NoMemory();
    }
    for (int i = 0; o && i < o->cmd_argc; i++)
        cmdlen += 4 * strlen(o->cmd_argv[i]) + 3;  /* worst case: every char a quote */
    if (!(cmd = malloc(cmdlen))) {
        stats_teardown();
        return PyErr_NoMemory();
    }
    stats_command_line(cmd, cmdlen, o ? o->cmd_argc : 0, o ? o->cmd_argv : NULL);
    meta.version = PACKAGE_VERSION;
    meta.git_revision = IOMMUSIM_GIT_REVISION;
    meta.config_json = json;
    meta.command_line = cmd;
    meta.seed = w->seed;
    if (stats_h5_writer_open(&M.h5, &M.reg, M.h5_path, &meta, NULL)) {
        free(cmd);
        snprintf(err, sizeof(err), "%s", stats_registry_errmsg(&M.reg));
        stats_teardown();
        return PyErr_Format(PyExc_RuntimeError, "%s", err);
    }
    free(cmd);
    M.events_at_dump = UINT64_MAX;  /* no dump yet */
    return PyLong_FromSize_t(stats_count(&M.reg));
}

/* stats_period(ticks): dump every `ticks` from now on the grid k * ticks; 0 stops. */
static PyObject *mod_stats_period(PyObject *self, PyObject *args)
{
    unsigned long long ticks;

    (void)self;
    if (!PyArg_ParseTuple(args, "K", &ticks))
        return NULL;
    if (!M.reg_ready)
        return PyErr_Format(PyExc_RuntimeError, "stats_period: statistics are not open");
    M.period = (sim_tick_t)ticks;
    M.next_dump = M.period ? next_dump_tick(sim_world_now(world()), M.period) : 0;
    Py_RETURN_NONE;
}

/*
 * stats_close(complete): the final dump, stats.txt, then stats.h5 renamed
 * into place. complete False: the run was cut short; the file is kept with
 * /run/complete 0. Returns the number of dumps in the file.
 */
static PyObject *mod_stats_close(PyObject *self, PyObject *args)
{
    struct sim_world *w = world();
    sim_tick_t now = sim_world_now(w);
    struct stats_run_end end = { 0 };
    int complete, rc;
    uint64_t dumps;
    char err[1024];

    (void)self;
    if (!PyArg_ParseTuple(args, "p", &complete))
        return NULL;
    if (!M.reg_ready || !M.h5)
        Py_RETURN_NONE;             /* never opened (config error) */
    M.next_dump = 0;
    if (M.dump_err) {               /* the file is broken: keep nothing */
        snprintf(err, sizeof(err), "%s", stats_registry_errmsg(&M.reg));
        stats_teardown();
        return PyErr_Format(PyExc_RuntimeError, "%s", err);
    }
    /* The final dump, unless the last periodic dump saw this very state (the
     * same tick, no event and no reset since). */
    if (!(M.reg.ndumps && M.reg.last.tick == now &&
          M.events_at_dump == sim_world_events(w) &&
          M.reg.last.reset_tick == M.reg.reset_tick) &&
        stats_dump(&M.reg, now) != 0) {
        PyObject *e = stats_error("final statistics dump failed");

        stats_teardown();
        return e;
    }
    dumps = M.reg.ndumps;
    if (stats_txt_write(&M.reg, M.txt_path) != 0) {
        PyObject *e = stats_error("cannot write stats.txt");

        stats_teardown();
        return e;
    }
    end.sim_ticks = now;
    end.events = sim_world_events(w);
    end.incomplete = !complete;
    rc = stats_h5_writer_close(M.h5, &end);
    M.h5 = NULL;
    if (rc) {
        PyObject *e = stats_error("cannot finish stats.h5");

        stats_teardown();
        return e;
    }
    stats_teardown();
    return PyLong_FromUnsignedLongLong(dumps);
}

static PyObject *mod_options(PyObject *self, PyObject *args)
{
    const struct py_opts *o = M.opts;
    PyObject *sets, *d;

    (void)self;
    (void)args;
    sets = PyList_New(0);
    if (!sets)
        return NULL;
    for (size_t i = 0; o && i < o->nsets; i++) {
        PyObject *v = PyUnicode_FromString(o->sets[i]);

        if (!v || PyList_Append(sets, v)) {
            Py_XDECREF(v);
            Py_DECREF(sets);
            return NULL;
        }
        Py_DECREF(v);
    }
    d = Py_BuildValue("{s:s,s:K,s:N,s:O,s:i,s:O,s:O,s:I,s:s,s:O}",
                      "outdir", o && o->outdir ? o->outdir : "iommusim-out",
                      "seed", (unsigned long long)(o ? o->seed : 1),
                      "sets", sets,
                      "dump_config", o && o->dump_config ? Py_True : Py_False,
                      "verbosity", o ? o->verbosity : 1,
                      "progress", o && o->progress ? Py_True : Py_False,
                      "one_event_set", o && o->one_event_set ? Py_True : Py_False,
                      "threads", o ? o->threads : 0u,
                      "config", o && o->config ? o->config : "",
                      "stats_period", o && o->stats_period_set ?
                          PyLong_FromUnsignedLongLong(o->stats_period) : Py_None);
    return d;
}

static PyMethodDef mod_methods[] = {
    { "models", mod_models, METH_NOARGS, "The descriptor table, as a list of dicts." },
    { "check", mod_check, METH_VARARGS,
      "check(model, {param: text}) -> ([(param, message)], {param: canonical text})" },
    { "event_sets", mod_event_sets, METH_VARARGS,
      "event_sets(n): n independent event sets, before the first create" },
    { "create", mod_create, METH_VARARGS,
      "create(model, path, {param: text}, set=0); ValueError" },
    { "start", mod_start, METH_NOARGS, "Connect every created object." },
    { "simulate", mod_simulate, METH_VARARGS,
      "simulate(until_set, until_ticks, max_events) -> (cause, tick, events, host_s)" },
    { "read", mod_read, METH_VARARGS, "read(path) -> {readout: value}" },
    { "reset_stats", mod_reset_stats, METH_NOARGS, "Zero every object's readouts." },
    { "reset", mod_reset, METH_NOARGS, "Destroy every object and the simulation." },
    { "now", mod_now, METH_NOARGS, "The current tick (ps)." },
    { "events", mod_events, METH_NOARGS, "Events processed since the world was made." },
    { "parse_time", mod_parse_time, METH_VARARGS, "parse_time('1ms') -> ticks" },
    { "options", mod_options, METH_NOARGS, "The command-line options, as a dict." },
    { "stats_open", mod_stats_open, METH_VARARGS,
      "stats_open(config_json) -> number of stats; creates OUTDIR/stats.h5.tmp" },
    { "stats_period", mod_stats_period, METH_VARARGS,
      "stats_period(ticks): periodic dumps on the grid k * ticks; 0: none" },
    { "stats_close", mod_stats_close, METH_VARARGS,
      "stats_close(complete) -> dumps; final dump, stats.txt, stats.h5 in place" },
    { NULL, NULL, 0, NULL },
};

static struct PyModuleDef mod_def = {
    PyModuleDef_HEAD_INIT, "_iommusim",
    "The C side of iommusim (use the `iommusim` package instead).",
    -1, mod_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC py_module_init(void)
{
    PyObject *m = PyModule_Create(&mod_def);

    if (m && PyModule_AddIntConstant(m, "TICKS_PER_NS", (long)SIM_TICKS_PER_NS)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
