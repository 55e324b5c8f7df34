/*
 * registry.h - the statistics registry: what objects record into.
 *
 * At instantiation an object registers its statistics, each under a dotted
 * path ("system.iommu.iotlb.hits") with a unit and a one-line description,
 * and gets back a pointer to a small struct the registry owns. Recording is
 * an inline increment or bin update on that struct: no allocation, no string
 * work, no call into the stats layer (see the stats_*_inc/_sample inlines).
 *
 * Kinds (the HDF5 layout of each is in stats/SCHEMA.md):
 *   counter    uint64 event count                     stats_counter_inc/add
 *   scalar     a double the model sets or adds to     stats_scalar_set/add
 *   twa        time-weighted average of a level        stats_twa_set/add
 *              (queue depth, occupancy); needs `now`
 *   vector     uint64 counters with named elements    stats_vector_inc/add
 *   hist       distribution: linear or log2 bins,      stats_hist_sample
 *              count/min/max/mean/stdev, percentiles
 *   formula    an expression over other stats,        (nothing to record)
 *              evaluated at each dump
 *
 * Life cycle:
 *   stats_registry_init()
 *   stats_register_*()            any number, any order
 *   stats_registry_freeze()       resolves formulas; implicit in the first
 *                                 writer open or dump; no registration after
 *   stats_registry_reset(now)     warm-up: zero everything, restart averages
 *   stats_dump(now)               snapshot + hand the snapshot to writers
 *   stats_registry_destroy()      after every writer is closed
 *
 * Every dump is cumulative since the last reset (never since the previous
 * dump): a per-interval figure is the difference of two rows.
 *
 * Errors: registration returns NULL on failure and records the first error
 * in the registry (sticky, like ferror), so an object can register all its
 * stats and check stats_registry_error() once; freeze refuses to run while
 * one is pending. Other calls return 0 or a negative SIM_E* code; the
 * message ("path: what (detail)") is in stats_registry_errmsg(), and after
 * freeze it describes the latest failed dump.
 */
#ifndef STATS_REGISTRY_H
#define STATS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/tick.h"

enum stats_kind {
    STATS_COUNTER = 0,
    STATS_SCALAR,
    STATS_TWA,
    STATS_VECTOR,
    STATS_HIST,
    STATS_FORMULA,
    STATS__KIND_COUNT
};

/* --- Recording structs (owned by the registry, written by the model) --- */

struct stats_counter {
    uint64_t value;
};

struct stats_scalar {
    double value;
};

/*
 * Time-weighted average of a piecewise-constant level. area is the integral
 * of the level over [reset, last]; the mean at time t is
 * (area + value * (t - last)) / (t - start).
 */
struct stats_twa {
    double value;           /* the current level */
    sim_tick_t last;        /* when value last changed (or the reset) */
    double area;            /* level x ticks accumulated over [start, last] */
    sim_tick_t start;       /* registration or last reset */
};

struct stats_vector {
    uint64_t *v;            /* n elements, registry-owned */
    uint32_t n;
};

enum stats_hist_scale {
    STATS_HIST_LINEAR = 0,  /* nbins equal bins over [lo, hi) */
    STATS_HIST_LOG2,        /* octaves [lo*2^k, lo*2^(k+1)), each split in
                               `sub` equal bins; lo a power of two */
    STATS_HIST_LOGLIN,      /* log-linear over integers (src/dev/lathist.h,
                               HdrHistogram-like): 2*sub unit bins [i, i+1)
                               from 0, then octaves [2^k, 2^(k+1)) from
                               2*sub, each split in `sub` equal bins; only
                               for histograms by reference */
};

/*
 * A histogram. Samples below the first edge count in `underflow`, at or
 * above the last edge in `overflow`. min, max and the shifted sums are exact,
 * whatever the binning; percentiles come from the bins (see hist.c for the
 * error bound). The sums are taken about the first sample (`shift`), which
 * keeps the variance accurate when the mean is large against the spread.
 */
struct stats_hist {
    uint64_t *bins;         /* nbins counts, registry-owned */
    uint32_t nbins;
    uint8_t scale;          /* enum stats_hist_scale */
    uint8_t sub_shift;      /* log2: log2(bins per octave) */
    int32_t lo_exp;         /* log2: lo == 2^lo_exp */
    double lo, hi;          /* first and last edge */
    double width;           /* linear: bin width */
    uint64_t count, underflow, overflow;
    /* Bins changed since the last dump, a bit per group of 2^dirty_shift
       bins (at most 64 groups): a dump then looks only at those, not at
       every bin (one OR per sample; histograms by reference leave it 0
       and are compared whole). */
    uint64_t dirty;
    uint8_t dirty_shift;
    double shift;           /* first sample since reset */
    double sum_d, sumsq_d;  /* sum of (x - shift) and of its square */
    double min, max;
};

/* --- The registry ------------------------------------------------------- */

/* Reads a value a model keeps itself (stats_register_scalar_fn). */
typedef double (*stats_read_fn)(const void *ctx, unsigned idx);

/* Brings a model's lazily kept counters up to date (stats_register_sync). */
typedef void (*stats_sync_fn)(void *ctx);
struct stats_sync {
    stats_sync_fn fn;
    void *ctx;
};

/*
 * Fills the moments of a histogram a model keeps itself
 * (stats_register_hist_ref): count, underflow, overflow, shift, sum_d,
 * sumsq_d, min and max of *out, as struct stats_hist defines them (bins and
 * the layout are not touched).
 */
typedef void (*stats_hist_moments_fn)(const void *ctx, struct stats_hist *out);

struct stats_stat;          /* one registered stat (registry.c) */
struct stats_writer;

struct stats_dump_info {
    uint64_t index;         /* 0 for the first dump */
    sim_tick_t tick;        /* simulated time of the dump */
    sim_tick_t reset_tick;  /* time of the last reset (0 if none) */
};

struct stats_registry {
    struct stats_stat **stats;  /* in registration order */
    size_t n, cap;
    struct stats_stat **formulas;   /* formulas in evaluation order */
    size_t nformulas;
    struct stats_writer *writers;
    sim_tick_t reset_tick;
    uint64_t ndumps;
    struct stats_dump_info last;    /* valid when ndumps > 0 */
    /* The dump sink (internal.h): the row a dump's dense values go to
       (NULL: none), its size, and the delta log of changed vector and
       histogram counts. */
    unsigned char *sink_rowp;
    size_t dense_bytes;         /* set at freeze */
    uint32_t *log_idx;          /* NULL: no sink */
    uint64_t *log_val;
    size_t log_n;
    size_t wide_elems;          /* set at freeze */
    bool frozen;
    int err;                    /* first error, sticky */
    char errmsg[512];
    struct stats_sync *syncs;   /* run at the start of every dump */
    size_t nsyncs;
};

void stats_registry_init(struct stats_registry *r);

/* Frees every stat. Writers must have been closed (detached) first. */
void stats_registry_destroy(struct stats_registry *r);

/* The first error (0 if none) and its message. */
int stats_registry_error(const struct stats_registry *r);
const char *stats_registry_errmsg(const struct stats_registry *r);

/*
 * Registration. The path is prefix + "." + name (prefix may be NULL or "");
 * components are [A-Za-z0-9_]+. A path may not equal another stat's path nor
 * be a prefix component of one ("a.b" and "a.b.c" cannot both exist: in the
 * HDF5 file one would be a dataset and a group). unit and desc are copied.
 * Returns NULL on error (SIM_EINVAL bad path or parameter, SIM_EEXIST
 * duplicate, SIM_ESTATE registry frozen, SIM_ENOMEM).
 */
struct stats_counter *stats_register_counter(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc);

struct stats_scalar *stats_register_scalar(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc);

/* The average runs from `now` (normally 0, the start of simulation). */
struct stats_twa *stats_register_twa(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        sim_tick_t now);

/* n elements named names[0..n-1] (each [A-Za-z0-9_]+, distinct). */
struct stats_vector *stats_register_vector(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        const char *const *names, uint32_t n);

/* nbins equal bins over [lo, hi); lo < hi, 1 <= nbins <= 65536. */
struct stats_hist *stats_register_hist_linear(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        double lo, double hi, uint32_t nbins);

/*
 * `octaves` octaves starting at lo (a power of two, e.g. 1 or 0.5), each
 * split into `sub` equal bins (a power of two, 1..1024): bin edges are
 * lo*2^k*(1 + j/sub). sub bins per octave bound a percentile's relative
 * error by 1/sub. octaves*sub <= 65536.
 */
struct stats_hist *stats_register_hist_log2(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        double lo, uint32_t octaves, uint32_t sub);

/*
 * A histogram whose counts live in the model (zero cost on the hot path
 * beyond the model's own recording): at each dump the registry reads
 * `bins` (nbins in-range counts) and calls fn(ctx, ...) for the moments.
 * The bins are log-linear (STATS_HIST_LOGLIN) with `sub` bins per octave
 * (a power of two, 2..1024): nbins must be a multiple of sub and at least
 * 2*sub; edges are 0, 1, ..., 2*sub, then 2^k (1 + j/sub). As for the other
 * _ref stats, the model resets its own histogram. 0 or SIM_E* (recorded).
 */
int stats_register_hist_ref(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        uint32_t sub, uint32_t nbins, const uint64_t *bins,
        stats_hist_moments_fn fn, const void *ctx);

/*
 * A formula, evaluated at each dump after every other stat is snapshot.
 * Grammar (whitespace free):
 *   expr   := term (('+'|'-') term)*
 *   term   := unary (('*'|'/') unary)*
 *   unary  := '-' unary | atom
 *   atom   := NUMBER | '(' expr ')' | REF | REF '[' ELEMENT ']'
 *           | FUNC '(' REF ')' | '@seconds' | '@ticks'
 *   FUNC   := sum | count | mean | min | max | stdev
 * REF names a counter, scalar, twa (its mean) or formula; REF[e] a vector
 * element; sum(REF) a vector's total or a histogram's sum of samples;
 * count/mean/min/max/stdev(REF) a histogram's. A REF is looked up relative to
 * the formula's prefix first ("hits" in a formula under system.iotlb means
 * system.iotlb.hits), then as an absolute path. @seconds and @ticks are the
 * simulated time since the last reset. Any division by zero yields NaN (an
 * undefined rate is "no value", never infinity). The syntax is checked here;
 * names are resolved, and cycles rejected, by stats_registry_freeze().
 */
double *stats_register_formula(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        const char *expr);

/*
 * Stats whose value lives in the model (zero cost on the hot path: the model
 * goes on incrementing its own inline counter; the registry reads it at each
 * dump). The pointed-to storage, or fn's context, must outlive the registry's
 * last dump. The registry never writes them, so stats_registry_reset() leaves
 * them alone: the model zeroes its own counters in its reset_stats op (a
 * warm-up reset calls both, see sim_world_reset_stats). Both return 0 or a
 * negative SIM_E* with the error recorded (sticky, as the others).
 *
 * stats_register_counter_ref: a `counter` whose value is *src.
 * stats_register_scalar_fn:   a `scalar` whose value is fn(ctx, idx), called
 *                             once per dump (a derived value: a mean, a level).
 */
int stats_register_counter_ref(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        const uint64_t *src);

int stats_register_scalar_fn(struct stats_registry *r,
        const char *prefix, const char *name, const char *unit, const char *desc,
        stats_read_fn fn, const void *ctx, unsigned idx);

/*
 * Resolve formulas, order them and allocate snapshot buffers. Idempotent.
 * After it, registration fails with SIM_ESTATE.
 */
int stats_registry_freeze(struct stats_registry *r);

/*
 * Run fn(ctx) at the start of every dump, before any stat is read, in
 * registration order: for a model that counts some events lazily and must
 * bring its counters up to the dump's tick (dma_engine.c's posted writes).
 * A dump runs after the tick's default-priority events. SIM_ENOMEM.
 */
int stats_register_sync(struct stats_registry *r, stats_sync_fn fn, void *ctx);

/*
 * Warm-up reset at `now`: counters, scalars, vectors and histograms go to
 * zero; a twa keeps its current level and restarts its average at `now`.
 * Stats registered by reference (_ref, _fn) belong to their model, which
 * resets them itself.
 * Does not touch the dump count or the writers.
 */
void stats_registry_reset(struct stats_registry *r, sim_tick_t now);

/*
 * Take a snapshot at `now` (freezing first if needed), evaluate formulas and
 * pass the snapshot to every attached writer. Returns the first writer error.
 * `now` must not be before the previous dump or the last reset.
 */
int stats_dump(struct stats_registry *r, sim_tick_t now);

/* --- Introspection (writers, tests) ------------------------------------- */

size_t stats_count(const struct stats_registry *r);
struct stats_stat *stats_at(const struct stats_registry *r, size_t i);
struct stats_stat *stats_find(const struct stats_registry *r, const char *path);

enum stats_kind stats_stat_kind(const struct stats_stat *s);
const char *stats_stat_path(const struct stats_stat *s);
const char *stats_stat_unit(const struct stats_stat *s);
const char *stats_stat_desc(const struct stats_stat *s);
const char *stats_stat_expr(const struct stats_stat *s);      /* formula */
const char *stats_kind_name(enum stats_kind k);

/* Vector element names and count. */
uint32_t stats_stat_nelems(const struct stats_stat *s);
const char *stats_stat_elem_name(const struct stats_stat *s, uint32_t i);

/* The recording struct of a histogram (bin layout: nbins, scale, edges). */
const struct stats_hist *stats_stat_hist(const struct stats_stat *s);

/* Edge i (0..nbins) of a histogram. */
double stats_hist_edge(const struct stats_hist *h, uint32_t i);

/* --- The last snapshot (valid after a dump) ------------------------------ */

/* Counter as uint64. */
uint64_t stats_snap_u64(const struct stats_stat *s);
/* Scalar, twa mean, formula; a counter converted. */
double stats_snap_f64(const struct stats_stat *s);
/* Vector elements (n of them). */
const uint64_t *stats_snap_vector(const struct stats_stat *s);

/* Histogram summary columns, in this order (SCHEMA.md: summary). */
enum stats_hist_col {
    STATS_HCOL_COUNT = 0, STATS_HCOL_SUM, STATS_HCOL_MEAN, STATS_HCOL_STDEV,
    STATS_HCOL_MIN, STATS_HCOL_MAX, STATS_HCOL_P50, STATS_HCOL_P90,
    STATS_HCOL_P99, STATS_HCOL_P999, STATS_HCOL__COUNT
};
extern const char *const stats_hist_col_names[STATS_HCOL__COUNT];

/* nbins + 2 counts: underflow, bins..., overflow. */
const uint64_t *stats_snap_hist_counts(const struct stats_stat *s);
const double *stats_snap_hist_summary(const struct stats_stat *s);

/* --- Histogram maths (hist.c), usable on live structs ------------------- */

/*
 * Estimate the nearest-rank percentile of `ppm` parts per million
 * (1..1000000; p99.9 is 999000): the smallest sample value with at least
 * ceil(ppm * count / 10^6) samples at or below it. It works from counts[]
 * (underflow, bins..., overflow) bounded by the exact min and max. Error
 * bound (SCHEMA.md): the estimate and the exact percentile lie in the same
 * bin clipped to [min, max], so the error is at most that clipped bin's
 * width: `width` for linear bins, under value/sub for log2 bins; for the
 * underflow or overflow bin, the distance to min or max. NaN if count is 0.
 * Integer ppm keeps the rank exact (0.99 * 100 is 99.00000000000001 in
 * double, whose ceiling would pick the wrong sample).
 */
double stats_hist_percentile(const struct stats_hist *h, const uint64_t *counts,
                             uint64_t count, double min, double max, uint32_t ppm);

/*
 * Fill summary[STATS_HCOL__COUNT] from h's exact moments and counts[]
 * (nbins + 2, as stats_hist_percentile). count 0: count and sum 0, the rest
 * NaN; count 1: stdev 0. stdev is the sample standard deviation (n - 1).
 */
void stats_hist_summarise(const struct stats_hist *h, const uint64_t *counts,
                          double *summary);

/*
 * The two halves of stats_hist_summarise, for a dump that defers the
 * percentiles (they are the expensive part: a pass over the bins):
 * _moments fills count, sum, mean, stdev, min and max from h's moments and
 * sets the percentile columns to NaN; _percentiles then fills p50..p99.9
 * from counts[] and the min and max already in summary. _percentiles reads
 * only h's bin layout (fixed at registration), so it may run on a copy of
 * the struct in another thread while the model goes on recording.
 */
void stats_hist_summarise_moments(const struct stats_hist *h, double *summary);
void stats_hist_summarise_percentiles(const struct stats_hist *h, const uint64_t *counts,
                                      double *summary);

/* --- Writers ------------------------------------------------------------- */

/*
 * A writer receives every dump. Embedded in the writer's own struct
 * (container_of); attached by the writer's open function.
 */
struct stats_writer_ops {
    /* Mandatory. Called after each snapshot; 0 or a negative SIM_E* with a
       message formatted into r->errmsg. */
    int (*dump)(struct stats_writer *w, struct stats_registry *r,
                const struct stats_dump_info *info);
};

struct stats_writer {
    const struct stats_writer_ops *ops;
    struct stats_writer *next;
};

void stats_registry_attach(struct stats_registry *r, struct stats_writer *w);
void stats_registry_detach(struct stats_registry *r, struct stats_writer *w);

/* Record an error in r (if none is recorded yet) and return err. */
int stats_registry_fail(struct stats_registry *r, int err, const char *where,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* --- Recording (the hot path) -------------------------------------------- */

static inline void stats_counter_inc(struct stats_counter *c)
{
    c->value++;
}

static inline void stats_counter_add(struct stats_counter *c, uint64_t n)
{
    c->value += n;
}

static inline void stats_scalar_set(struct stats_scalar *s, double v)
{
    s->value = v;
}

static inline void stats_scalar_add(struct stats_scalar *s, double v)
{
    s->value += v;
}

/* The level becomes v at `now` (now >= the previous change). */
static inline void stats_twa_set(struct stats_twa *t, sim_tick_t now, double v)
{
    t->area += t->value * (double)(now - t->last);
    t->last = now;
    t->value = v;
}

static inline void stats_twa_add(struct stats_twa *t, sim_tick_t now, double delta)
{
    stats_twa_set(t, now, t->value + delta);
}

static inline void stats_vector_inc(struct stats_vector *v, uint32_t i)
{
    v->v[i]++;
}

static inline void stats_vector_add(struct stats_vector *v, uint32_t i, uint64_t n)
{
    v->v[i] += n;
}

/*
 * One sample (finite). Linear: one division to find the bin. Log2: the bin
 * comes straight from the IEEE-754 exponent and top mantissa bits, so no
 * log() call: octave = exponent - lo_exp, sub-bin = top sub_shift bits.
 */
static inline void stats_hist_sample(struct stats_hist *h, double x)
{
    double d;

    if (h->count == 0) {
        h->shift = x;
        h->min = h->max = x;
    }
    if (x < h->min)
        h->min = x;
    if (x > h->max)
        h->max = x;
    h->count++;
    d = x - h->shift;
    h->sum_d += d;
    h->sumsq_d += d * d;

    if (x < h->lo) {
        h->underflow++;
    } else if (x >= h->hi) {
        h->overflow++;
    } else if (h->scale == STATS_HIST_LINEAR) {
        uint32_t i = (uint32_t)((x - h->lo) / h->width);

        i = i < h->nbins ? i : h->nbins - 1;
        h->bins[i]++;
        h->dirty |= UINT64_C(1) << (i >> h->dirty_shift);
    } else {
        uint64_t bits;
        int32_t octave;
        uint32_t i;

        memcpy(&bits, &x, sizeof(bits));
        octave = (int32_t)((bits >> 52) & 0x7ff) - 1023 - h->lo_exp;
        i = ((uint32_t)octave << h->sub_shift) |
            (uint32_t)((bits & ((UINT64_C(1) << 52) - 1)) >> (52 - h->sub_shift));
        h->bins[i]++;
        h->dirty |= UINT64_C(1) << (i >> h->dirty_shift);
    }
}

#endif /* STATS_REGISTRY_H */
