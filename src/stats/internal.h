/*
 * internal.h - what registry.c, formula.c and the writers share and users
 * of the registry do not see: the stat record and the compiled formula.
 */
#ifndef STATS_INTERNAL_H
#define STATS_INTERNAL_H

#include "stats/registry.h"

struct stats_formula;

/*
 * One registered stat: the recording struct the model writes (u), its names,
 * and the last snapshot. One allocation per stat plus its arrays, all made
 * at registration or freeze, none per dump.
 */
struct stats_stat {
    enum stats_kind kind;
    char *path;
    char *prefix;               /* formula lookup base ("" if none) */
    char *unit;
    char *desc;
    union {
        struct stats_counter counter;
        struct stats_scalar scalar;
        struct stats_twa twa;
        struct stats_vector vector;
        struct stats_hist hist;
        double formula;
    } u;
    const uint64_t *ref;        /* counter: the model's own counter, or NULL */
    stats_read_fn fn;           /* scalar: read at each dump, or NULL */
    const void *fn_ctx;
    unsigned fn_idx;
    char **elem_names;          /* vector: n names */
    struct stats_formula *formula;
    char *expr;                 /* formula source */
    /* Snapshot. */
    union {
        uint64_t u64;
        double f64;
    } snap;
    uint64_t *snap_counts;      /* vector: n; hist: nbins + 2 */
    double snap_summary[STATS_HCOL__COUNT];
    bool snap_pct;              /* hist: snap_summary's percentiles are filled
                                   (computed on first use after a dump) */
    /* A histogram by reference: counts and moments live in the model. */
    const uint64_t *ref_bins;   /* nbins in-range counts */
    stats_hist_moments_fn hist_fn;
    /* Where a dump also puts this stat's values for a writer (see
       stats_registry_sink): the dense values (one, or a histogram's summary
       row) at dst + row * dst_width * 8, and for a vector or histogram each
       count that changed since the last dump as (wide_base + i, value) in
       the registry's delta log. */
    unsigned char *dst;
    uint32_t dst_width;
    uint32_t wide_base;
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
 * At most one sink per registry. Set the stats' dst pointers (dst_width is
 * filled at freeze), r->sink_row, and r->log_*; log_n grows by the dump's
 * changes (the writer resets it). Every count starts from the registry's
 * own snapshot (stats_snap_vector / _hist_counts), which the sink copies
 * when it attaches.
 */
size_t stats_registry_wide_elems(const struct stats_registry *r);

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
