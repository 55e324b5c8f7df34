/*
 * internal.h - what registry.c, formula.c and the writers share and users
 * of the registry do not see: the stat record and the compiled formula.
 */
#ifndef STATS_INTERNAL_H
#define STATS_INTERNAL_H

#include "stats/registry.h"

struct stats_formula;

/*
 * A histogram's dense values in the sink's row: its raw moments (count as
 * uint64 bits, the rest doubles), from which the writer thread computes the
 * summary's count, sum, mean and stdev as stats_hist_summarise_moments
 * would (stats_hist_moments_summary): the square root and divisions stay
 * off the simulation thread, and a row carries six values, not ten.
 */
enum stats_hmom {
    STATS_HMOM_COUNT = 0, STATS_HMOM_SHIFT, STATS_HMOM_SUM_D, STATS_HMOM_SUMSQ_D,
    STATS_HMOM_MIN, STATS_HMOM_MAX, STATS_HMOM__COUNT
};

/*
 * Vectors of at most this many elements (one cache line) are dense: a dump
 * copies them whole into the row, which costs less than comparing and
 * logging their changes (most change at every dump).
 */
#define STATS_DENSE_VECTOR_MAX 8

/*
 * One registered stat: the recording struct the model writes (u), its names,
 * and the last snapshot. One allocation per stat plus its arrays, all made
 * at registration or freeze, none per dump.
 */
struct stats_stat {
    /*
     * What a dump reads and writes comes first, in a record aligned to a
     * cache line (stat_new), so that a counter's or a scalar's dump touches
     * one line: a dump walks ~300 records, and with these fields spread
     * over four lines each it pushed the simulation's own working set out
     * of L1 at every dump (bench_stats: the simulation thread's CPU grew
     * by twice the dump's own cost).
     */
    enum stats_kind kind;
    /* Where a dump also puts this stat's values for a writer (the dump
       sink, below): the dense values (one, or a histogram's summary row)
       at dst_off bytes into the sink's row, and for a vector or histogram
       each count that changed since the last dump as (wide_base + i,
       value) in the registry's delta log. */
    uint32_t dst_off;
    union {
        uint64_t u64;
        double f64;
    } snap;                     /* the last snapshot */
    const uint64_t *ref;        /* counter: the model's own counter, or NULL */
    stats_read_fn fn;           /* scalar: read at each dump, or NULL */
    const void *fn_ctx;
    struct stats_formula *formula;
    unsigned fn_idx;
    uint32_t wide_base;
    /* The recording struct the model writes (a counter's value is still
       in the first line). */
    union {
        struct stats_counter counter;
        struct stats_scalar scalar;
        struct stats_twa twa;
        struct stats_vector vector;
        struct stats_hist hist;
        double formula;
    } u;
    uint64_t *snap_counts;      /* vector: n; hist: nbins + 2 */
    /* A histogram by reference: counts and moments live in the model. */
    const uint64_t *ref_bins;   /* nbins in-range counts */
    stats_hist_moments_fn hist_fn;
    uint64_t snap_mom[STATS_HMOM__COUNT];   /* hist: raw moments */
    double snap_summary[STATS_HCOL__COUNT];
    bool snap_sum;              /* hist: snap_summary's moment columns are
                                   filled (computed on first use after a dump) */
    bool snap_pct;              /* hist: ... and its percentiles */
    uint32_t dst_width;         /* dense values (8 bytes each) in the row */
    /* Cold: names, set-up. */
    char *path;
    char *prefix;               /* formula lookup base ("" if none) */
    char *unit;
    char *desc;
    char **elem_names;          /* vector: n names */
    char *expr;                 /* formula source */
    int mark;                   /* freeze: formula ordering DFS state */
};

/*
 * The dump sink: a writer (h5writer.c) that wants every dump's values in
 * its own buffers, so the simulation thread copies each value once, straight
 * from the model's counter to where the writer reads it. Vector and
 * histogram counts are the bulk of a dump (a 64-bin histogram is 66 values)
 * and most of them do not change from one dump to the next, so a dump logs
 * only the counts that changed, as (element, value) pairs; the writer
 * rebuilds the full rows in its own thread. Elements are numbered over all
 * vectors and histograms in registration order (stats_stat.wide_base), a
 * histogram's nbins + 2 counts as in stats_snap_hist_counts().
 *
 * The dense values of a dump form one row of r->dense_bytes (laid out at
 * freeze: each stat's dst_off and dst_width), written in registration order
 * to consecutive addresses, so a dump's stores fill a few whole cache lines
 * instead of touching one line in each of ~300 per-dataset buffers; the
 * writer thread turns the rows into columns.
 *
 * At most one sink per registry. Set r->sink_rowp (the row the next dump
 * fills) and r->log_*; log_n grows by the dump's changes (the writer resets
 * it). Every count starts from the registry's
 * own snapshot (stats_snap_vector / _hist_counts), which the sink copies
 * when it attaches.
 */
size_t stats_registry_wide_elems(const struct stats_registry *r);

/* Summary columns count..max (percentiles NaN) from raw moments m[]. */
void stats_hist_moments_summary(const uint64_t *m, double *summary);

/* The snapshot's summary with (at least) its moment columns filled. */
const double *stats_snap_hist_moments(const struct stats_stat *s);

/* formula.c */
int stats_formula_parse(const char *expr, struct stats_formula **out,
                        char *err, size_t errlen);
int stats_formula_resolve(struct stats_formula *f, struct stats_registry *r,
                          struct stats_stat *self);
size_t stats_formula_ndeps(const struct stats_formula *f);
struct stats_stat *stats_formula_dep(const struct stats_formula *f, size_t i);
double stats_formula_eval(const struct stats_formula *f,
                          const struct stats_dump_info *info);
void stats_formula_free(struct stats_formula *f);

#endif /* STATS_INTERNAL_H */
