/*
 * registry.c - registration, freeze, reset and snapshots of statistics.
 *
 * The registry is a flat array of stat records in registration order; path
 * lookups (formula resolution, tests, tools) are linear scans, which is fine
 * because they happen at setup, never while simulating. A dump copies each
 * stat's recording struct into its snapshot fields (a few words per scalar,
 * one memcpy per vector or histogram), summarises histograms, evaluates
 * formulas in dependency order and hands the snapshot to the writers. With
 * 300 stats that is a few microseconds; writers batch the file I/O.
 */
#include "stats/internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

static const char *const kind_names[STATS__KIND_COUNT] = {
    [STATS_COUNTER] = "counter", [STATS_SCALAR] = "scalar", [STATS_TWA] = "twa",
    [STATS_VECTOR] = "vector", [STATS_HIST] = "histogram", [STATS_FORMULA] = "formula",
};

const char *stats_kind_name(enum stats_kind k)
{
    return (unsigned)k < STATS__KIND_COUNT ? kind_names[k] : "?";
}

void stats_registry_init(struct stats_registry *r)
{
    memset(r, 0, sizeof(*r));
}

static void stat_free(struct stats_stat *s)
{
    uint32_t i;

    if (!s)
        return;
    if (s->kind == STATS_VECTOR) {
        free(s->u.vector.v);
        for (i = 0; s->elem_names && i < s->u.vector.n; i++)
            free(s->elem_names[i]);
        free(s->elem_names);
    } else if (s->kind == STATS_HIST) {
        free(s->u.hist.bins);
    }
    stats_formula_free(s->formula);
    free(s->expr);
    free(s->snap_counts);
    free(s->path);
    free(s->prefix);
    free(s->unit);
    free(s->desc);
    free(s);
}

void stats_registry_destroy(struct stats_registry *r)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        stat_free(r->stats[i]);
    free(r->stats);
    free(r->formulas);
    free(r->syncs);
    memset(r, 0, sizeof(*r));
}

int stats_register_sync(struct stats_registry *r, stats_sync_fn fn, void *ctx)
{
    struct stats_sync *n = realloc(r->syncs, (r->nsyncs + 1) * sizeof(*n));

    if (!n)
        return stats_registry_fail(r, SIM_ENOMEM, "stats", "sync hook");
    r->syncs = n;
    r->syncs[r->nsyncs].fn = fn;
    r->syncs[r->nsyncs++].ctx = ctx;
    return 0;
}

int stats_registry_error(const struct stats_registry *r)
{
    return r->err;
}

const char *stats_registry_errmsg(const struct stats_registry *r)
{
    return r->err ? r->errmsg : "";
}

int stats_registry_fail(struct stats_registry *r, int err, const char *where,
                        const char *fmt, ...)
{
    if (r->err == 0) {
        char detail[384];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, sizeof(detail), fmt, ap);
        va_end(ap);
        sim_error_format(r->errmsg, sizeof(r->errmsg), err, where, "%s", detail);
        r->err = err;
    }
    return err;
}

/* Before a dump: registration errors cannot happen any more (freeze refuses
   to run with one pending), so a dump reports its own failure. */
static void clear_error(struct stats_registry *r)
{
    r->err = 0;
    r->errmsg[0] = '\0';
}

/* --- Registration ----------------------------------------------------------- */

static int valid_component(const char *b, size_t n)
{
    size_t i;

    if (n == 0)
        return 0;
    for (i = 0; i < n; i++) {
        char c = b[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

static int valid_path(const char *p)
{
    const char *dot;

    for (;;) {
        dot = strchr(p, '.');
        if (!valid_component(p, dot ? (size_t)(dot - p) : strlen(p)))
            return 0;
        if (!dot)
            return 1;
        p = dot + 1;
    }
}

/* a is b, or a is a dotted prefix of b. */
static int path_covers(const char *a, const char *b)
{
    size_t n = strlen(a);

    return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '.');
}

/*
 * Common part of every registration: validate, check for clashes, allocate
 * the record and append it. Returns NULL with the error recorded.
 */
static struct stats_stat *stat_new(struct stats_registry *r, enum stats_kind kind,
                                   const char *prefix, const char *name,
                                   const char *unit, const char *desc)
{
    struct stats_stat *s;
    size_t lp = prefix ? strlen(prefix) : 0, ln = name ? strlen(name) : 0, i;
    char *path;

    if (r->frozen) {
        stats_registry_fail(r, SIM_ESTATE, name ? name : "stats",
                            "statistics are registered before the first dump");
        return NULL;
    }
    if (!name) {
        stats_registry_fail(r, SIM_EINVAL, prefix, "stat without a name");
        return NULL;
    }
    if (!(path = malloc(lp + ln + 2))) {
        stats_registry_fail(r, SIM_ENOMEM, name, "registering a stat");
        return NULL;
    }
    if (lp) {
        memcpy(path, prefix, lp);
        path[lp] = '.';
        memcpy(path + lp + 1, name, ln + 1);
    } else {
        memcpy(path, name, ln + 1);
    }
    if (!valid_path(path)) {
        stats_registry_fail(r, SIM_EINVAL, path,
                            "bad stat path (expected dot-separated [A-Za-z0-9_]+)");
        free(path);
        return NULL;
    }
    for (i = 0; i < r->n; i++) {
        const char *q = r->stats[i]->path;

        if (strcmp(q, path) == 0) {
            stats_registry_fail(r, SIM_EEXIST, path, "stat registered twice");
            free(path);
            return NULL;
        }
        if (path_covers(q, path) || path_covers(path, q)) {
            stats_registry_fail(r, SIM_EINVAL, path,
                                "clashes with stat '%s' (one path would be a group "
                                "holding the other)", q);
            free(path);
            return NULL;
        }
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct stats_stat **a = realloc(r->stats, cap * sizeof(*a));

        if (!a) {
            stats_registry_fail(r, SIM_ENOMEM, path, "registering a stat");
            free(path);
            return NULL;
        }
        r->stats = a;
        r->cap = cap;
    }
    /* Cache-line aligned: a dump's fields start a line (internal.h). */
    s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
    if (s)
        memset(s, 0, sizeof(*s));
    if (!s || !(s->prefix = strdup(lp ? prefix : "")) ||
        !(s->unit = strdup(unit ? unit : "")) || !(s->desc = strdup(desc ? desc : ""))) {
        if (s) {
            free(s->prefix);
            free(s->unit);
            free(s);
        }
        free(path);
        stats_registry_fail(r, SIM_ENOMEM, name, "registering a stat");
        return NULL;
    }
    s->kind = kind;
    s->path = path;
    return s;
}

static void stat_append(struct stats_registry *r, struct stats_stat *s)
{
    r->stats[r->n++] = s;
}

struct stats_counter *stats_register_counter(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc)
{
    struct stats_stat *s = stat_new(r, STATS_COUNTER, prefix, name, unit, desc);

    if (!s)
        return NULL;
    stat_append(r, s);
    return &s->u.counter;
}

int stats_register_counter_ref(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        const uint64_t *src)
{
    struct stats_stat *s;

    if (!src)
        return stats_registry_fail(r, SIM_EINVAL, name, "counter reference is NULL");
    if (!(s = stat_new(r, STATS_COUNTER, prefix, name, unit, desc)))
        return r->err;
    s->ref = src;
    stat_append(r, s);
    return 0;
}

int stats_register_scalar_fn(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        stats_read_fn fn, const void *ctx, unsigned idx)
{
    struct stats_stat *s;

    if (!fn)
        return stats_registry_fail(r, SIM_EINVAL, name, "scalar read function is NULL");
    if (!(s = stat_new(r, STATS_SCALAR, prefix, name, unit, desc)))
        return r->err;
    s->fn = fn;
    s->fn_ctx = ctx;
    s->fn_idx = idx;
    stat_append(r, s);
    return 0;
}

struct stats_scalar *stats_register_scalar(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc)
{
    struct stats_stat *s = stat_new(r, STATS_SCALAR, prefix, name, unit, desc);

    if (!s)
        return NULL;
    stat_append(r, s);
    return &s->u.scalar;
}

struct stats_twa *stats_register_twa(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        sim_tick_t now)
{
    struct stats_stat *s = stat_new(r, STATS_TWA, prefix, name, unit, desc);

    if (!s)
        return NULL;
    s->u.twa.last = s->u.twa.start = now;
    stat_append(r, s);
    return &s->u.twa;
}

struct stats_vector *stats_register_vector(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        const char *const *names, uint32_t n)
{
    struct stats_stat *s;
    uint32_t i, j;

    if (n == 0 || !names) {
        stats_registry_fail(r, SIM_EINVAL, name, "vector needs at least one element");
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (!names[i] || !valid_component(names[i], strlen(names[i]))) {
            stats_registry_fail(r, SIM_EINVAL, name,
                                "bad vector element name '%s' (expected [A-Za-z0-9_]+)",
                                names[i] ? names[i] : "(null)");
            return NULL;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(names[i], names[j]) == 0) {
                stats_registry_fail(r, SIM_EINVAL, name,
                                    "vector element '%s' named twice", names[i]);
                return NULL;
            }
        }
    }
    if (!(s = stat_new(r, STATS_VECTOR, prefix, name, unit, desc)))
        return NULL;
    s->u.vector.n = n;
    s->u.vector.v = calloc(n, sizeof(uint64_t));
    s->elem_names = calloc(n, sizeof(char *));
    s->snap_counts = calloc(n, sizeof(uint64_t));
    if (!s->u.vector.v || !s->elem_names || !s->snap_counts)
        goto err_nomem;
    for (i = 0; i < n; i++)
        if (!(s->elem_names[i] = strdup(names[i])))
            goto err_nomem;
    stat_append(r, s);
    return &s->u.vector;

err_nomem:
    stats_registry_fail(r, SIM_ENOMEM, s->path, "registering a vector");
    stat_free(s);
    return NULL;
}

static struct stats_hist *hist_finish(struct stats_registry *r, struct stats_stat *s)
{
    struct stats_hist *h = &s->u.hist;

    h->bins = calloc(h->nbins, sizeof(uint64_t));
    s->snap_counts = calloc((size_t)h->nbins + 2, sizeof(uint64_t));
    h->dirty = 0;
    h->dirty_shift = 0;
    while (((h->nbins - 1) >> h->dirty_shift) >= 64)
        h->dirty_shift++;
    if (!h->bins || !s->snap_counts) {
        stats_registry_fail(r, SIM_ENOMEM, s->path, "registering a histogram");
        stat_free(s);
        return NULL;
    }
    stat_append(r, s);
    return h;
}

struct stats_hist *stats_register_hist_linear(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        double lo, double hi, uint32_t nbins)
{
    struct stats_stat *s;

    if (!(lo < hi) || !isfinite(lo) || !isfinite(hi) || nbins < 1 || nbins > 65536) {
        stats_registry_fail(r, SIM_EINVAL, name,
                            "histogram needs finite lo < hi and 1..65536 bins "
                            "(got lo %g, hi %g, %u bins)", lo, hi, nbins);
        return NULL;
    }
    if (!(s = stat_new(r, STATS_HIST, prefix, name, unit, desc)))
        return NULL;
    s->u.hist.scale = STATS_HIST_LINEAR;
    s->u.hist.nbins = nbins;
    s->u.hist.lo = lo;
    s->u.hist.hi = hi;
    s->u.hist.width = (hi - lo) / nbins;
    return hist_finish(r, s);
}

struct stats_hist *stats_register_hist_log2(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        double lo, uint32_t octaves, uint32_t sub)
{
    struct stats_stat *s;
    int e;
    double m = frexp(lo, &e);   /* lo = m * 2^e, m in [0.5, 1) */
    uint32_t shift = 0;

    while (shift < 11 && (UINT32_C(1) << shift) < sub)
        shift++;
    if (!(lo > 0) || !isnormal(lo) || m != 0.5 || octaves < 1 || sub < 1 ||
        sub > 1024 || (UINT32_C(1) << shift) != sub ||
        (uint64_t)octaves * sub > 65536 || !isfinite(ldexp(lo, (int)octaves))) {
        stats_registry_fail(r, SIM_EINVAL, name,
                            "log2 histogram needs lo a power of two, octaves >= 1, sub a "
                            "power of two <= 1024 and octaves*sub <= 65536 (got lo %g, "
                            "%u octaves, sub %u)", lo, octaves, sub);
        return NULL;
    }
    if (!(s = stat_new(r, STATS_HIST, prefix, name, unit, desc)))
        return NULL;
    s->u.hist.scale = STATS_HIST_LOG2;
    s->u.hist.nbins = octaves * sub;
    s->u.hist.sub_shift = (uint8_t)shift;
    s->u.hist.lo_exp = e - 1;
    s->u.hist.lo = lo;
    s->u.hist.hi = ldexp(lo, (int)octaves);
    return hist_finish(r, s);
}

int stats_register_hist_ref(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        uint32_t sub, uint32_t nbins, const uint64_t *bins,
        stats_hist_moments_fn fn, const void *ctx)
{
    struct stats_stat *s;
    uint32_t shift = 0;

    while (shift < 11 && (UINT32_C(1) << shift) < sub)
        shift++;
    if (!bins || !fn || sub < 2 || sub > 1024 || (UINT32_C(1) << shift) != sub ||
        nbins < 2 * sub || nbins % sub || nbins > 65536 || nbins / sub + shift - 1 > 1000)
        return stats_registry_fail(r, SIM_EINVAL, name,
                                   "histogram by reference needs bins, a moments function, "
                                   "sub a power of two in 2..1024 and nbins a multiple of "
                                   "sub, >= 2*sub, <= 65536 (got sub %u, %u bins)",
                                   sub, nbins);
    if (!(s = stat_new(r, STATS_HIST, prefix, name, unit, desc)))
        return r->err;
    s->u.hist.scale = STATS_HIST_LOGLIN;
    s->u.hist.nbins = nbins;
    s->u.hist.sub_shift = (uint8_t)shift;
    s->u.hist.lo = 0.0;
    s->u.hist.hi = ldexp(1.0, (int)(nbins / sub + shift - 1));
    s->ref_bins = bins;
    s->hist_fn = fn;
    s->fn_ctx = ctx;
    if (!(s->snap_counts = calloc((size_t)nbins + 2, sizeof(uint64_t)))) {
        stats_registry_fail(r, SIM_ENOMEM, s->path, "registering a histogram");
        stat_free(s);
        return r->err;
    }
    stat_append(r, s);
    return 0;
}

double *stats_register_formula(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        const char *expr)
{
    struct stats_stat *s;
    struct stats_formula *f;
    char err[256];
    int rc;

    if (!expr) {
        stats_registry_fail(r, SIM_EINVAL, name, "formula without an expression");
        return NULL;
    }
    if (!(s = stat_new(r, STATS_FORMULA, prefix, name, unit, desc)))
        return NULL;
    if ((rc = stats_formula_parse(expr, &f, err, sizeof(err))) != 0) {
        stats_registry_fail(r, rc, s->path, "%s", err);
        stat_free(s);
        return NULL;
    }
    s->formula = f;
    if (!(s->expr = strdup(expr))) {
        stats_registry_fail(r, SIM_ENOMEM, s->path, "registering a formula");
        stat_free(s);
        return NULL;
    }
    s->u.formula = NAN;
    stat_append(r, s);
    return &s->u.formula;
}

/* --- Freeze: resolve formulas and order them ------------------------------------ */

/* Depth-first post-order over formula dependencies: 1 visiting, 2 done. */
static int order_formula(struct stats_registry *r, struct stats_stat *s)
{
    size_t i;

    if (s->mark == 2)
        return 0;
    if (s->mark == 1)
        return stats_registry_fail(r, SIM_EINVAL, s->path,
                                   "formulas depend on each other in a cycle");
    s->mark = 1;
    for (i = 0; i < stats_formula_ndeps(s->formula); i++) {
        struct stats_stat *d = stats_formula_dep(s->formula, i);

        if (d && order_formula(r, d))
            return r->err;
    }
    s->mark = 2;
    r->formulas[r->nformulas++] = s;
    return 0;
}

int stats_registry_freeze(struct stats_registry *r)
{
    size_t i, nf = 0;

    if (r->frozen)
        return 0;
    if (r->err)
        return r->err;
    for (i = 0; i < r->n; i++) {
        struct stats_stat *s = r->stats[i];

        if (s->kind != STATS_FORMULA)
            continue;
        nf++;
        if (stats_formula_resolve(s->formula, r, s))
            return r->err;
    }
    free(r->formulas);
    r->nformulas = 0;
    if (nf && !(r->formulas = calloc(nf, sizeof(*r->formulas))))
        return stats_registry_fail(r, SIM_ENOMEM, "stats", "ordering formulas");
    for (i = 0; i < r->n; i++)
        r->stats[i]->mark = 0;
    for (i = 0; i < r->n; i++)
        if (r->stats[i]->kind == STATS_FORMULA && order_formula(r, r->stats[i]))
            return r->err;
    /* Sink layout: the dense row, and the numbering of counts. */
    r->wide_elems = 0;
    r->dense_bytes = 0;
    for (i = 0; i < r->n; i++) {
        struct stats_stat *s = r->stats[i];

        s->dst_width = s->kind == STATS_HIST ? STATS_HMOM__COUNT : 1;
        s->wide_base = (uint32_t)r->wide_elems;
        if (s->kind == STATS_VECTOR && s->u.vector.n <= STATS_DENSE_VECTOR_MAX) {
            s->dst_width = s->u.vector.n;
        } else if (s->kind == STATS_VECTOR) {
            s->dst_width = 0;
            r->wide_elems += s->u.vector.n;
        } else if (s->kind == STATS_HIST) {
            r->wide_elems += (size_t)s->u.hist.nbins + 2;
        }
        s->dst_off = (uint32_t)r->dense_bytes;
        r->dense_bytes += (size_t)s->dst_width * 8;
    }
    r->frozen = true;
    return 0;
}

/* --- Reset and dump --------------------------------------------------------------- */

static void hist_clear(struct stats_hist *h)
{
    memset(h->bins, 0, (size_t)h->nbins * sizeof(uint64_t));
    h->dirty = ~UINT64_C(0);        /* every bin may have changed */
    h->count = h->underflow = h->overflow = 0;
    h->shift = h->sum_d = h->sumsq_d = 0.0;
    h->min = h->max = 0.0;
}

void stats_registry_reset(struct stats_registry *r, sim_tick_t now)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        struct stats_stat *s = r->stats[i];

        switch (s->kind) {
        case STATS_COUNTER:
            s->u.counter.value = 0;
            break;
        case STATS_SCALAR:
            s->u.scalar.value = 0.0;
            break;
        case STATS_TWA:
            s->u.twa.area = 0.0;
            s->u.twa.last = s->u.twa.start = now;
            break;
        case STATS_VECTOR:
            memset(s->u.vector.v, 0, (size_t)s->u.vector.n * sizeof(uint64_t));
            break;
        case STATS_HIST:
            if (!s->ref_bins)
                hist_clear(&s->u.hist);
            break;
        default:
            break;
        }
    }
    r->reset_tick = now;
}

/*
 * Copy n live counts into the snapshot. With a sink, only the counts that
 * changed are written, each also logged for the writer: a dump's cost then
 * follows what happened since the last one rather than the size of the
 * histograms (and the snapshot lines that did not change stay clean).
 */
static void snap_counts(struct stats_registry *r, uint64_t *snap, const uint64_t *live,
                        size_t n, uint32_t base)
{
    size_t i, k;

    if (!r->log_idx) {
        memcpy(snap, live, n * sizeof(uint64_t));
        return;
    }
    k = r->log_n;
    for (i = 0; i < n; i += 8) {
        size_t m = n - i < 8 ? n - i : 8, j;
        uint64_t d = 0;

        /* Eight counts at a time without a branch each (most are equal). */
        for (j = 0; j < m; j++)
            d |= live[i + j] ^ snap[i + j];
        if (!d)
            continue;
        for (j = i; j < i + m; j++) {
            if (live[j] != snap[j]) {
                snap[j] = live[j];
                r->log_idx[k] = base + (uint32_t)j;
                r->log_val[k] = live[j];
                k++;
            }
        }
    }
    r->log_n = k;
}

static void snap_one(struct stats_registry *r, struct stats_stat *s, uint64_t c, uint32_t i)
{
    if (s->snap_counts[i] != c) {
        s->snap_counts[i] = c;
        if (r->log_idx) {
            r->log_idx[r->log_n] = s->wide_base + i;
            r->log_val[r->log_n++] = c;
        }
    }
}

/* The dense value of s (8 bytes) to the sink's row: a plain store, not a
   call (a memcpy of variable size per stat cost more than the snapshot). */
static inline void put_dense(const struct stats_registry *r, const struct stats_stat *s,
                             const void *v)
{
    if (r->sink_rowp)
        memcpy(r->sink_rowp + s->dst_off, v, 8);
}

static void snapshot(struct stats_registry *r, struct stats_stat *s,
                     const struct stats_dump_info *info)
{
    switch (s->kind) {
    case STATS_COUNTER:
        s->snap.u64 = s->ref ? *s->ref : s->u.counter.value;
        put_dense(r, s, &s->snap);
        break;
    case STATS_SCALAR:
        s->snap.f64 = s->fn ? s->fn(s->fn_ctx, s->fn_idx) : s->u.scalar.value;
        put_dense(r, s, &s->snap);
        break;
    case STATS_TWA: {
        const struct stats_twa *t = &s->u.twa;
        sim_tick_t span = info->tick > t->start ? info->tick - t->start : 0;
        double area = t->area;

        if (t->last < info->tick)
            area += t->value * (double)(info->tick - t->last);
        /* Over an empty span the average is the level itself. */
        s->snap.f64 = span ? area / (double)span : t->value;
        put_dense(r, s, &s->snap);
        break;
    }
    case STATS_VECTOR:
        if (s->dst_width) {
            /* Dense (internal.h): copied whole, into the row too; a loop of
               at most 8 words, where memcpy of a variable size is a call. */
            uint32_t e;

            for (e = 0; e < s->dst_width; e++) {
                uint64_t x = s->u.vector.v[e];

                s->snap_counts[e] = x;
                if (r->sink_rowp)
                    memcpy(r->sink_rowp + s->dst_off + 8 * e, &x, 8);
            }
        } else {
            snap_counts(r, s->snap_counts, s->u.vector.v, s->u.vector.n, s->wide_base);
        }
        break;
    case STATS_HIST: {
        struct stats_hist *h = &s->u.hist;

        if (s->ref_bins) {
            /* The model's moments into the registry's copy of the struct
               (the layout fields stay), its bins straight from the model. */
            s->hist_fn(s->fn_ctx, h);
            snap_counts(r, s->snap_counts + 1, s->ref_bins, h->nbins, s->wide_base + 1);
        } else {
            /* Only the groups of bins recorded into since the last dump. */
            uint64_t d = h->dirty;

            h->dirty = 0;
            while (d) {
                size_t lo = (size_t)__builtin_ctzll(d) << h->dirty_shift;
                size_t n = (size_t)1 << h->dirty_shift;

                d &= d - 1;
                if (lo >= h->nbins)
                    break;
                n = h->nbins - lo < n ? h->nbins - lo : n;
                snap_counts(r, s->snap_counts + 1 + lo, h->bins + lo, n,
                            s->wide_base + 1 + (uint32_t)lo);
            }
        }
        snap_one(r, s, h->underflow, 0);
        snap_one(r, s, h->overflow, h->nbins + 1);
        /* The raw moments only: the summary is left to whoever reads it
           (the HDF5 writer computes its own in its thread; see
           stats_snap_hist_summary). Percentiles were a third of a dump's
           cost in the simulation thread, the moments' divisions and square
           root another tenth. */
        s->snap_mom[STATS_HMOM_COUNT] = h->count;
        memcpy(&s->snap_mom[STATS_HMOM_SHIFT], &h->shift, 8);
        memcpy(&s->snap_mom[STATS_HMOM_SUM_D], &h->sum_d, 8);
        memcpy(&s->snap_mom[STATS_HMOM_SUMSQ_D], &h->sumsq_d, 8);
        memcpy(&s->snap_mom[STATS_HMOM_MIN], &h->min, 8);
        memcpy(&s->snap_mom[STATS_HMOM_MAX], &h->max, 8);
        s->snap_sum = false;
        s->snap_pct = false;
        if (r->sink_rowp)
            memcpy(r->sink_rowp + s->dst_off, s->snap_mom, sizeof(s->snap_mom));
        break;
    }
    default:
        break;
    }
}

int stats_dump(struct stats_registry *r, sim_tick_t now)
{
    struct stats_dump_info info;
    struct stats_writer *w;
    size_t i;
    int rc = 0;

    if (!r->frozen && stats_registry_freeze(r))
        return r->err;
    if (now < r->reset_tick || (r->ndumps && now < r->last.tick))
        return stats_registry_fail(r, SIM_EPAST, "stats",
                                   "dump at tick %llu is before the last dump or reset",
                                   (unsigned long long)now);
    info.index = r->ndumps;
    info.tick = now;
    info.reset_tick = r->reset_tick;
    for (i = 0; i < r->nsyncs; i++)
        r->syncs[i].fn(r->syncs[i].ctx);
    for (i = 0; i < r->n; i++)
        snapshot(r, r->stats[i], &info);
    for (i = 0; i < r->nformulas; i++) {
        struct stats_stat *s = r->formulas[i];

        s->snap.f64 = s->u.formula = stats_formula_eval(s->formula, &info);
        put_dense(r, s, &s->snap);
    }
    r->last = info;
    r->ndumps++;
    /* After freeze the message describes the latest failed call. */
    clear_error(r);
    for (w = r->writers; w; w = w->next) {
        int e;

        if ((e = w->ops->dump(w, r, &info)) != 0 && rc == 0)
            rc = e;
    }
    if (rc && r->err == 0)
        stats_registry_fail(r, rc, "stats", "a writer failed");
    return rc;
}

/* --- Writers ------------------------------------------------------------------------ */

void stats_registry_attach(struct stats_registry *r, struct stats_writer *w)
{
    w->next = r->writers;
    r->writers = w;
}

void stats_registry_detach(struct stats_registry *r, struct stats_writer *w)
{
    struct stats_writer **pp;

    for (pp = &r->writers; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            w->next = NULL;
            return;
        }
    }
}

/* --- Introspection ------------------------------------------------------------------ */

size_t stats_registry_wide_elems(const struct stats_registry *r)
{
    return r->wide_elems;
}

size_t stats_count(const struct stats_registry *r)
{
    return r->n;
}

struct stats_stat *stats_at(const struct stats_registry *r, size_t i)
{
    return i < r->n ? r->stats[i] : NULL;
}

struct stats_stat *stats_find(const struct stats_registry *r, const char *path)
{
    size_t i;

    for (i = 0; i < r->n; i++)
        if (strcmp(r->stats[i]->path, path) == 0)
            return r->stats[i];
    return NULL;
}

enum stats_kind stats_stat_kind(const struct stats_stat *s) { return s->kind; }
const char *stats_stat_path(const struct stats_stat *s) { return s->path; }
const char *stats_stat_unit(const struct stats_stat *s) { return s->unit; }
const char *stats_stat_desc(const struct stats_stat *s) { return s->desc; }
const char *stats_stat_expr(const struct stats_stat *s) { return s->expr; }

uint32_t stats_stat_nelems(const struct stats_stat *s)
{
    return s->kind == STATS_VECTOR ? s->u.vector.n : 0;
}

const char *stats_stat_elem_name(const struct stats_stat *s, uint32_t i)
{
    return s->kind == STATS_VECTOR && i < s->u.vector.n ? s->elem_names[i] : NULL;
}

const struct stats_hist *stats_stat_hist(const struct stats_stat *s)
{
    return s->kind == STATS_HIST ? &s->u.hist : NULL;
}

uint64_t stats_snap_u64(const struct stats_stat *s)
{
    return s->snap.u64;
}

double stats_snap_f64(const struct stats_stat *s)
{
    return s->kind == STATS_COUNTER ? (double)s->snap.u64 : s->snap.f64;
}

const uint64_t *stats_snap_vector(const struct stats_stat *s)
{
    return s->snap_counts;
}

const uint64_t *stats_snap_hist_counts(const struct stats_stat *s)
{
    return s->snap_counts;
}

void stats_hist_moments_summary(const uint64_t *m, double *summary)
{
    struct stats_hist h;

    memset(&h, 0, sizeof(h));
    h.count = m[STATS_HMOM_COUNT];
    memcpy(&h.shift, &m[STATS_HMOM_SHIFT], 8);
    memcpy(&h.sum_d, &m[STATS_HMOM_SUM_D], 8);
    memcpy(&h.sumsq_d, &m[STATS_HMOM_SUMSQ_D], 8);
    memcpy(&h.min, &m[STATS_HMOM_MIN], 8);
    memcpy(&h.max, &m[STATS_HMOM_MAX], 8);
    stats_hist_summarise_moments(&h, summary);
}

/* Every stat is allocated by the registry, never const: filling the cached
   summary through the const view is safe. */
const double *stats_snap_hist_moments(const struct stats_stat *s)
{
    struct stats_stat *m = (struct stats_stat *)s;

    if (s->kind == STATS_HIST && !s->snap_sum) {
        stats_hist_moments_summary(s->snap_mom, m->snap_summary);
        m->snap_sum = true;
    }
    return s->snap_summary;
}

const double *stats_snap_hist_summary(const struct stats_stat *s)
{
    struct stats_stat *m = (struct stats_stat *)s;

    if (s->kind == STATS_HIST && !s->snap_pct) {
        stats_snap_hist_moments(s);
        stats_hist_summarise_percentiles(&s->u.hist, s->snap_counts, m->snap_summary);
        m->snap_pct = true;
    }
    return s->snap_summary;
}
