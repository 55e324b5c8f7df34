/*
 * replay_object.c - the `TraceReplay` model descriptor (see replay_object.h):
 * a map/unmap trace replayed through a GenericIOMMU, from a config.
 *
 * At create the whole trace is read into memory (48 bytes a record in the
 * binary file, about as much in memory), the sink binds `requester_id` to
 * `domain` of the IOMMU, and trace_replay_init computes every buffer's life
 * (one 80-byte record per map). Trace time 0 is simulated time 0. While
 * simulating the costs are replay.h's: one event per record and per
 * access, no allocation beyond the sink's request pool reaching a new peak.
 *
 * The file may be either form, told apart by its first eight bytes: the
 * `.iotrace` magic means the binary file, anything else is imported as
 * ftrace text (strictly, unless `skip_bad_lines`), so a config can replay
 * what `cat /sys/kernel/tracing/trace` gave without a separate import
 * step. A file that fails either reader, or has no map, unmap or fault
 * record, is one error line naming the object and the file (and the line).
 */
#include "trace/replay_object.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "iommu/models/generic.h"
#include "trace/replay.h"
#include "trace/trace.h"
#include "stats/objstats.h"

enum { RO_P_TRACE, RO_P_IOMMU, RO_P_ACCESSES, RO_P_SPACING, RO_P_ACCESS_SIZE,
       RO_P_TIME_SCALE, RO_P_WRITE, RO_P_DOMAIN, RO_P_REQUESTER_ID, RO_P_SKIP_BAD };

static const struct sim_param ro_params[] = {
    [RO_P_TRACE] = {
        .name = "trace", .type = SIM_PT_PATH,
        .doc = "the trace: a binary .iotrace file (iommusim trace import) or Linux ftrace "
               "text of the iommu:map/unmap events, imported when the object is created "
               "(docs/traces.md lists the accepted forms)",
    },
    [RO_P_IOMMU] = {
        .name = "iommu", .type = SIM_PT_REF, .ref_model = "GenericIOMMU",
        .doc = "the IOMMU the trace's maps and unmaps go to and the accesses translate in",
    },
    [RO_P_ACCESSES] = {
        .name = "accesses", .type = SIM_PT_INT, .def = "4", .min = "0", .max = "1000000",
        .doc = "device accesses to each mapped buffer, strictly inside its life "
               "(0: maps and unmaps only)",
    },
    [RO_P_SPACING] = {
        .name = "spacing", .type = SIM_PT_LATENCY, .def = "0ns", .flags = SIM_PF_NO_CYCLES,
        .doc = "time between a buffer's accesses, the first one spacing after its map; "
               "0 spreads them evenly over the buffer's life",
    },
    [RO_P_ACCESS_SIZE] = {
        .name = "access_size", .type = SIM_PT_SIZE, .def = "64B", .min = "1B", .max = "1GiB",
        .doc = "bytes per access; access k covers the bytes at (k * access_size) mod the "
               "buffer's size, one translation per 4 KiB page touched",
    },
    [RO_P_TIME_SCALE] = {
        .name = "time_scale", .type = SIM_PT_FLOAT, .def = "1", .min = "1e-9", .max = "1e9",
        .doc = "simulated time = trace time x time_scale (0.5 replays twice as fast)",
    },
    [RO_P_WRITE] = {
        .name = "write", .type = SIM_PT_BOOL, .def = "false",
        .doc = "the accesses are device writes (else reads)",
    },
    [RO_P_DOMAIN] = {
        .name = "domain", .type = SIM_PT_INT, .def = "0", .min = "0", .max = "65535",
        .doc = "the IOMMU domain every mapping of the trace goes to (created if it does "
               "not exist; a trace does not say which domain a mapping was in)",
    },
    [RO_P_REQUESTER_ID] = {
        .name = "requester_id", .type = SIM_PT_INT, .def = "0", .min = "0", .max = "65535",
        .doc = "the requester id the accesses translate as, bound to `domain`",
    },
    [RO_P_SKIP_BAD] = {
        .name = "skip_bad_lines", .type = SIM_PT_BOOL, .def = "false",
        .doc = "ftrace text only: skip and count malformed lines instead of refusing "
               "the file",
    },
};

enum { RO_R_RECORDS, RO_R_MAPS, RO_R_UNMAPS, RO_R_FAULTS, RO_R_MAP_ERRORS,
       RO_R_UNMAP_ERRORS, RO_R_ACCESSES, RO_R_SKIPPED, RO_R_ACCESS_ERRORS, RO_R_BYTES,
       RO_R_TRANSLATIONS, RO_R_TRANSLATION_FAULTS, RO_R_MEAN_LATENCY, RO_R_MAX_LATENCY,
       RO_R_BAD_LINES, RO_R_DONE };

static const struct sim_readout ro_readouts[] = {
    [RO_R_RECORDS] = { "records", "records", "trace records replayed since the last reset" },
    [RO_R_MAPS] = { "maps", "records", "map records replayed" },
    [RO_R_UNMAPS] = { "unmaps", "records", "unmap records replayed" },
    [RO_R_FAULTS] = { "faults", "records", "io_page_fault records met (counted, not acted on)" },
    [RO_R_MAP_ERRORS] = { "map_errors", "records", "maps the IOMMU refused (their buffers "
                          "get no accesses)" },
    [RO_R_UNMAP_ERRORS] = { "unmap_errors", "records", "unmaps the IOMMU refused" },
    [RO_R_ACCESSES] = { "accesses", "accesses", "device accesses sent to the IOMMU" },
    [RO_R_SKIPPED] = { "skipped", "accesses", "accesses that did not fit strictly inside "
                       "their buffer's life (or whose map was refused)" },
    [RO_R_ACCESS_ERRORS] = { "access_errors", "accesses", "accesses the IOMMU refused to start" },
    [RO_R_BYTES] = { "bytes", "B", "bytes accessed" },
    [RO_R_TRANSLATIONS] = { "translations", "requests", "timed translations completed "
                            "(one per 4 KiB page an access touches)" },
    [RO_R_TRANSLATION_FAULTS] = { "translation_faults", "requests", "of which faulted" },
    [RO_R_MEAN_LATENCY] = { "mean_latency", "ps", "mean translation latency (0 without any)" },
    [RO_R_MAX_LATENCY] = { "max_latency", "ps", "longest translation latency" },
    [RO_R_BAD_LINES] = { "bad_lines", "lines", "malformed text lines skipped at import "
                         "(skip_bad_lines; not reset)" },
    [RO_R_DONE] = { "done", "bool", "1 once every record and access has been sent "
                    "(not reset)" },
};

struct replay_object {
    struct trace t;
    struct trace_sink_generic sink;
    struct trace_replay rp;
    uint64_t bad_lines;
    bool sink_ready, rp_ready;
};

/* Read @path in whichever form it is into @t; "FILE: why" in err. */
static int ro_load(const char *path, bool skip_bad, struct trace *t, uint64_t *bad,
                   char *err, size_t errlen)
{
    struct trace_import_opts io = { .skip_bad_lines = skip_bad };
    struct trace_import_report rep;
    char magic[8];
    size_t got;
    FILE *f;
    int r;

    f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return errno == ENOENT ? SIM_ENOENT : SIM_EIO;
    }
    got = fread(magic, 1, sizeof(magic), f);
    if (got == sizeof(magic) && memcmp(magic, TRACE_FILE_MAGIC, sizeof(magic)) == 0) {
        fclose(f);
        r = trace_file_read(path, t, err, errlen);
    } else {
        rewind(f);
        r = trace_import(f, path, &io, t, &rep, err, errlen);
        fclose(f);
        *bad = rep.bad_lines;
    }
    if (r)
        return r;
    if (t->n == 0) {
        snprintf(err, errlen, "%s: no map, unmap or io_page_fault record (expected an "
                 ".iotrace file or ftrace text of the iommu events)", path);
        return SIM_EPARSE;
    }
    return 0;
}

static void ro_free(struct replay_object *o)
{
    if (o->rp_ready)
        trace_replay_release(&o->rp);
    if (o->sink_ready)
        trace_sink_generic_destroy(&o->sink);
    trace_free(&o->t);
    free(o);
}

static int ro_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    const struct sim_value *v = obj->values;
    struct generic_iommu *g;
    unsigned dom = (unsigned)v[RO_P_DOMAIN].i;
    struct trace_replay_cfg rc;
    struct replay_object *o;
    char e[400];
    int r;

    r = generic_iommu_domain_from_object(v[RO_P_IOMMU].ref.obj, dom, &g, err, errlen);
    if (r)
        return r;
    o = calloc(1, sizeof(*o));
    if (!o)
        return SIM_ENOMEM;
    trace_init(&o->t);
    r = ro_load(v[RO_P_TRACE].s, v[RO_P_SKIP_BAD].b, &o->t, &o->bad_lines, err, errlen);
    if (r)
        goto fail;
    r = trace_sink_generic_init(&o->sink, g, dom, (uint32_t)v[RO_P_REQUESTER_ID].i,
                                e, sizeof(e));
    if (r) {
        snprintf(err, errlen, "requester_id: %s", e);
        goto fail;
    }
    o->sink_ready = true;
    trace_replay_cfg_defaults(&rc);
    rc.accesses = (unsigned)v[RO_P_ACCESSES].i;
    rc.spacing = v[RO_P_SPACING].lat.value;
    rc.access_size = (uint32_t)v[RO_P_ACCESS_SIZE].u;
    rc.time_scale = v[RO_P_TIME_SCALE].f;
    rc.write = v[RO_P_WRITE].b;
    r = trace_replay_init(&o->rp, &w->sim, &o->t, &rc, &trace_sink_generic_ops, &o->sink,
                          err, errlen);
    if (r)
        goto fail;
    o->rp_ready = true;
    obj->priv = o;
    return 0;

fail:
    ro_free(o);                     /* nothing is scheduled before connect */
    return r;
}

static int ro_connect(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    struct replay_object *o = obj->priv;
    int r = trace_replay_start(&o->rp);

    (void)w;
    if (r)
        snprintf(err, errlen, "cannot schedule the first record: %s", sim_strerror(r));
    return r;
}

static void ro_destroy(struct sim_object *obj)
{
    if (obj->priv)
        ro_free(obj->priv);         /* the sim, with the queued events, is gone */
    obj->priv = NULL;
}

static void ro_reset_stats(struct sim_object *obj)
{
    struct replay_object *o = obj->priv;
    uint64_t inflight = o->sink.st.inflight;    /* live: completions decrement it */

    memset(&o->rp.st, 0, sizeof(o->rp.st));
    memset(&o->sink.st, 0, sizeof(o->sink.st));
    o->sink.st.inflight = o->sink.st.peak_inflight = inflight;
}

static double ro_read(const struct sim_object *obj, unsigned idx)
{
    const struct replay_object *o = obj->priv;
    const struct trace_replay_stats *rs = &o->rp.st;
    const struct trace_sink_generic_stats *ss = &o->sink.st;

    switch (idx) {
    case RO_R_RECORDS:       return (double)rs->records;
    case RO_R_MAPS:          return (double)rs->maps;
    case RO_R_UNMAPS:        return (double)rs->unmaps;
    case RO_R_FAULTS:        return (double)rs->faults;
    case RO_R_MAP_ERRORS:    return (double)rs->map_errors;
    case RO_R_UNMAP_ERRORS:  return (double)rs->unmap_errors;
    case RO_R_ACCESSES:      return (double)rs->accesses;
    case RO_R_SKIPPED:       return (double)rs->accesses_skipped;
    case RO_R_ACCESS_ERRORS: return (double)rs->access_errors;
    case RO_R_BYTES:         return (double)rs->bytes;
    case RO_R_TRANSLATIONS:  return (double)ss->translations;
    case RO_R_TRANSLATION_FAULTS: return (double)ss->faults;
    case RO_R_MEAN_LATENCY:
        return ss->translations ? ss->lat_sum / (double)ss->translations : 0.0;
    case RO_R_MAX_LATENCY:   return (double)ss->lat_max;
    case RO_R_BAD_LINES:     return (double)o->bad_lines;
    case RO_R_DONE:          return trace_replay_done(&o->rp) ? 1.0 : 0.0;
    default:                 return 0.0;
    }
}

/* The replay and sink counters by reference; latencies, bad_lines and done
 * through read. */
static int ro_register_stats(struct sim_object *obj, void *reg)
{
    struct replay_object *o = obj->priv;
    struct trace_replay_stats *rs = &o->rp.st;
    struct trace_sink_generic_stats *ss = &o->sink.st;
    const struct { unsigned idx; const uint64_t *src; } refs[] = {
        { RO_R_RECORDS, &rs->records }, { RO_R_MAPS, &rs->maps },
        { RO_R_UNMAPS, &rs->unmaps }, { RO_R_FAULTS, &rs->faults },
        { RO_R_MAP_ERRORS, &rs->map_errors }, { RO_R_UNMAP_ERRORS, &rs->unmap_errors },
        { RO_R_ACCESSES, &rs->accesses }, { RO_R_SKIPPED, &rs->accesses_skipped },
        { RO_R_ACCESS_ERRORS, &rs->access_errors }, { RO_R_BYTES, &rs->bytes },
        { RO_R_TRANSLATIONS, &ss->translations },
        { RO_R_TRANSLATION_FAULTS, &ss->faults },
    };
    uint64_t done = 0;
    int rc = 0;

    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]) && !rc; i++)
        rc = stats_object_readout_counter(reg, obj, refs[i].idx, refs[i].src, &done);
    return rc ? rc : stats_object_readouts(reg, obj, done);
}

static const struct sim_model_ops ro_ops = {
    .create = ro_create,
    .connect = ro_connect,
    .destroy = ro_destroy,
    .reset_stats = ro_reset_stats,
    .read = ro_read,
    .register_stats = ro_register_stats,
};

const struct sim_model trace_model_replay = {
    .name = "TraceReplay",
    .doc = "Replays a Linux IOMMU map/unmap trace (ftrace text or .iotrace) through a "
           "GenericIOMMU: each record at its trace time x time_scale, maps and unmaps on "
           "`domain`, and `accesses` device accesses to each mapped buffer inside its "
           "life, each one timed translation per 4 KiB page as `requester_id`. "
           "docs/traces.md describes the replay.",
    .params = ro_params, .nparams = sizeof(ro_params) / sizeof(ro_params[0]),
    .readouts = ro_readouts, .nreadouts = sizeof(ro_readouts) / sizeof(ro_readouts[0]),
    .ops = &ro_ops,
};
