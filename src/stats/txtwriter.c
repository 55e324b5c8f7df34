/*
 * txtwriter.c - stats.txt, the last dump as a gem5-like table.
 *
 * One line per value: the dotted name padded to a column, the value, and
 * "# description (unit)". Vectors add name::element lines with percentage
 * and cumulative percentage and a name::total; histograms add ::samples,
 * ::mean, ::stdev, ::min, ::max, ::sum, the percentiles and one line per
 * non-empty bin ("::lo-hi count pct cum"), with ::underflows and
 * ::overflows always shown. Numbers print with %.9g (exact for counters up
 * to 10^9 and stable for doubles), NaN as "nan". The file is meant for
 * eyes and grep; tools read stats.h5.
 */
#include "stats/txtwriter.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/error.h"
#include "stats/internal.h"

#define NAME_W 56

static void line_u64(FILE *f, const char *name, const char *suffix, uint64_t v,
                     const char *desc, const char *unit)
{
    char n[512];

    snprintf(n, sizeof(n), "%s%s", name, suffix);
    fprintf(f, "%-*s %20" PRIu64 "  # %s (%s)\n", NAME_W, n, v, desc, unit);
}

static void fmt_f64(char *buf, size_t len, double v)
{
    if (isnan(v))
        snprintf(buf, len, "nan");
    else
        snprintf(buf, len, "%.9g", v);
}

static void line_f64(FILE *f, const char *name, const char *suffix, double v,
                     const char *desc, const char *unit)
{
    char n[512], val[64];

    snprintf(n, sizeof(n), "%s%s", name, suffix);
    fmt_f64(val, sizeof(val), v);
    fprintf(f, "%-*s %20s  # %s (%s)\n", NAME_W, n, val, desc, unit);
}

/* "name::label  count  pct%  cum%" */
static void line_share(FILE *f, const char *name, const char *label, uint64_t v,
                       uint64_t cum, uint64_t total)
{
    char n[512];
    double pct = total ? 100.0 * (double)v / (double)total : 0.0;
    double cpct = total ? 100.0 * (double)cum / (double)total : 0.0;

    snprintf(n, sizeof(n), "%s::%s", name, label);
    fprintf(f, "%-*s %20" PRIu64 " %7.2f%% %7.2f%%\n", NAME_W, n, v, pct, cpct);
}

static void write_hist(FILE *f, const struct stats_stat *s)
{
    static const char *const sfx[STATS_HCOL__COUNT] = {
        "::samples", "::sum", "::mean", "::stdev", "::min", "::max",
        "::p50", "::p90", "::p99", "::p99.9",
    };
    const struct stats_hist *h = &s->u.hist;
    const uint64_t *c = s->snap_counts;
    const double *sum = stats_snap_hist_summary(s);
    uint64_t total = (uint64_t)sum[STATS_HCOL_COUNT], cum = 0;
    char label[128], a[48], b[48];
    uint32_t i;
    int k;

    line_u64(f, s->path, sfx[0], total, s->desc, "samples");
    for (k = 1; k < STATS_HCOL__COUNT; k++)
        line_f64(f, s->path, sfx[k], sum[k], s->desc, s->unit);
    cum += c[0];
    line_share(f, s->path, "underflows", c[0], cum, total);
    for (i = 0; i < h->nbins; i++) {
        if (!c[i + 1])
            continue;
        cum += c[i + 1];
        fmt_f64(a, sizeof(a), stats_hist_edge(h, i));
        fmt_f64(b, sizeof(b), stats_hist_edge(h, i + 1));
        snprintf(label, sizeof(label), "%s-%s", a, b);
        line_share(f, s->path, label, c[i + 1], cum, total);
    }
    cum += c[h->nbins + 1];
    line_share(f, s->path, "overflows", c[h->nbins + 1], cum, total);
}

static void write_all(FILE *f, const struct stats_registry *r)
{
    const struct stats_dump_info *d = &r->last;
    size_t i;

    fprintf(f, "\n---------- Begin Simulation Statistics ----------\n");
    line_u64(f, "dump_index", "", d->index, "Index of this dump in stats.h5", "count");
    line_u64(f, "sim_ticks", "", d->tick, "Simulated time of this dump", "ps");
    line_u64(f, "reset_tick", "", d->reset_tick, "Simulated time of the last reset", "ps");
    line_f64(f, "sim_seconds", "", sim_tick_to_seconds(d->tick - d->reset_tick),
             "Simulated time since the last reset", "s");
    for (i = 0; i < r->n; i++) {
        const struct stats_stat *s = r->stats[i];

        switch (s->kind) {
        case STATS_COUNTER:
            line_u64(f, s->path, "", s->snap.u64, s->desc, s->unit);
            break;
        case STATS_SCALAR:
        case STATS_TWA:
        case STATS_FORMULA:
            line_f64(f, s->path, "", s->snap.f64, s->desc, s->unit);
            break;
        case STATS_VECTOR: {
            uint64_t total = 0, cum = 0;
            uint32_t e;

            for (e = 0; e < s->u.vector.n; e++)
                total += s->snap_counts[e];
            for (e = 0; e < s->u.vector.n; e++) {
                cum += s->snap_counts[e];
                line_share(f, s->path, s->elem_names[e], s->snap_counts[e], cum, total);
            }
            line_u64(f, s->path, "::total", total, s->desc, s->unit);
            break;
        }
        case STATS_HIST:
            write_hist(f, s);
            break;
        default:
            break;
        }
    }
    fprintf(f, "\n---------- End Simulation Statistics   ----------\n");
}

int stats_txt_write(struct stats_registry *r, const char *path)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 5);
    FILE *f;
    int rc = 0;

    r->err = 0;
    if (!tmp)
        return stats_registry_fail(r, SIM_ENOMEM, path, "writing statistics text");
    if (r->ndumps == 0) {
        free(tmp);
        return stats_registry_fail(r, SIM_ESTATE, path, "no statistics dump to write yet");
    }
    snprintf(tmp, n + 5, "%s.tmp", path);
    if (!(f = fopen(tmp, "w"))) {
        rc = stats_registry_fail(r, SIM_EIO, tmp, "cannot create: %s", strerror(errno));
        free(tmp);
        return rc;
    }
    write_all(f, r);
    errno = 0;
    if (ferror(f) || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        rc = stats_registry_fail(r, SIM_EIO, tmp, "write failed: %s",
                                 strerror(errno ? errno : EIO));
        fclose(f);
        unlink(tmp);
        free(tmp);
        return rc;
    }
    if (fclose(f) != 0) {
        rc = stats_registry_fail(r, SIM_EIO, tmp, "write failed: %s", strerror(errno));
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = stats_registry_fail(r, SIM_EIO, tmp, "cannot rename to %s: %s", path,
                                 strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
