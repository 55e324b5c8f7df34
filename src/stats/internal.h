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
    int mark;                   /* freeze: formula ordering DFS state */
};

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
