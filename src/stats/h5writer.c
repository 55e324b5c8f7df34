/*
 * h5writer.c - the HDF5 statistics writer (SWMR, batched, atomic rename).
 *
 * Layout (stats/SCHEMA.md is the reference): root attributes for the run's
 * start, /run datasets for its end, /dumps/tick and /dumps/reset_tick, and under /stats one dataset per stat
 * (a group of three datasets per histogram), first axis the dump index.
 *
 * Cost model. Appending to an HDF5 dataset costs microseconds (extent
 * change, hyperslab selection, chunk I/O, SWMR metadata flush), so doing it
 * for 300 datasets at every dump would cost milliseconds per dump. Instead a
 * dump appends one row of every dataset's values (a "column" each) to a
 * row-major batch buffer; the batch goes to the file in one write per
 * dataset every batch_rows dumps or flush_interval_s host seconds. A live
 * reader therefore lags by at most that interval, and at most batch_rows
 * dumps are lost to a crash (they would be in the .tmp only anyway). The
 * simulation fills small buffers (HANDOFF_ROWS dumps, a ring of slots) and
 * the writer thread gathers them into the batch, turning rows into one
 * block per dataset and rebuilding the vector and histogram rows from the
 * dump's log of changed counts; compressed chunks are encoded here
 * (put_chunk: rowdeflate.h by default), not by HDF5's filters.
 *
 * Fixed cost of a file (2026-11-24): every chunk, narrow ones too, is
 * written whole by put_chunk with H5Dwrite_chunk. HDF5's own H5Dwrite of a
 * batch into a new chunk allocated, zeroed and wrote all 32 KiB of it even
 * for one row, so a run with one or two dumps of 516 stats left an 18 MB
 * file and spent ~15 ms writing it; the run's last, partly filled chunk
 * is now deflated (~0.7 MB for that run; earlier partial ones go out raw
 * and are rewritten in place) and a full one raw straight from colbuf.
 * colbuf grows with the rows gathered (grow_colbuf), and the dataset
 * property lists are shared (make_dataset). vfio_nic.py, --until 5ms:
 * close (final dump to exit) ~45-100 ms before, see docs/performance.md.
 *
 * Ordering for live readers: within a flush every stat dataset is extended
 * and flushed before /dumps/tick, so a reader that takes n = len(tick) after
 * refreshing tick first finds at least n rows in every stat.
 */
#include "stats/h5writer.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "engine/error.h"
#include "stats/internal.h"
#include "stats/rowdeflate.h"

#define SCHEMA_VERSION 1
/*
 * Chunks: at most CHUNK_ROWS rows (one default batch, so batches fill whole
 * chunks of narrow datasets) and about CHUNK_BYTES (wide rows: histogram
 * counts). Every dataset declares shuffle + deflate 1: a partly filled
 * chunk is stored deflated and small (a raw one takes its full size on
 * disk as soon as it is touched), full chunks of wide counts are deflated
 * (cumulative histogram counts shrink several times, at a CPU cost paid by
 * the writer thread) and full chunks of narrow ones stored raw. Measured with bench/bench_stats (--dump-only): 64 KiB
 * wide chunks cost the writer about 15% less than 8 KiB ones.
 */
#define CHUNK_ROWS 4096
#define CHUNK_BYTES 65536
#define COMPRESS_MIN_COLS 16
#define DEFLATE_LEVEL 1
/* A compressed dataset's pipeline, in order (make_dataset), and the bits
   of a chunk's filter mask that say a filter was skipped for that chunk. */
#define MASK_NO_SHUFFLE 0x1u
#define MASK_NO_DEFLATE 0x2u
/*
 * Dumps the simulation buffers before handing them to the writer, which
 * gathers them into file batches of batch_rows. The simulation's two
 * buffers (rows and delta log, ~1.5 MB for 300 stats) are then reused
 * every 2 x 512 dumps, their pages faulted once; with 4096-row buffers the
 * first touch of ~25 MB of fresh pages per run cost the simulation thread
 * ~10% of its time (perf: clear_page under stats_dump).
 */
#define HANDOFF_ROWS 128
/*
 * Buffers ("slots") the simulation fills in turn: up to MAX_SLOTS hand-offs
 * may wait for the writer, so the simulation goes on while the writer spends
 * tens of milliseconds writing a file batch (back-pressure only when every
 * slot is full). At most SLOTS_BYTES of them, at least two. The writer
 * faults the pages of the slots ahead of the simulation (populate_slot): in
 * this machine's VM a fresh page cost ~4 ms per MB to fault in, and in the
 * simulation thread that was ~10% of its time.
 */
#define MAX_SLOTS 16
#define SLOTS_BYTES ((size_t)32 << 20)
/* Delta log entries a buffered dump may use on average (12 bytes each). */
#define LOG_PER_ROW 64

/*
 * One dataset. Dense columns (counters, scalars, twa, formulas, histogram
 * summaries, the /dumps columns) have cols values at doff in each buffered
 * row, filled by the registry's snapshot (the stat's dst_off), and a block
 * of batch_rows x cols values in the writer's column buffer; wide columns
 * (vector and histogram counts) are rebuilt by the writer thread from the
 * delta log into `asmb` or, compressed, into `chunk`.
 */
struct column {
    hid_t ds;
    hid_t memtype;
    int rank;                   /* 1: (dumps,)  2: (dumps, cols) */
    size_t cols;
    struct stats_stat *stat;    /* dense stat column: its dst is set here */
    int wide;                   /* counts rebuilt from the delta log */
    uint32_t wide_base;         /* wide (and pct): first element */
    size_t doff;                /* dense: its values' offset in a row */
    size_t boff;                /* dense: its block in colbuf, in rows */
    unsigned char *asmb;        /* wide, not compressed: batch_rows x cols */
    /* A histogram's summary: the registry's snapshot leaves the percentile
       columns to the reader, so the writer thread fills them from the
       rebuilt counts of the same row. A copy of the bin layout (fixed at
       registration) keeps the thread off the live struct. */
    int pct;
    struct stats_hist layout;
    /* Compressed (filtered) datasets: chunks assembled here and written
       whole with H5Dwrite_chunk (see write_column_direct). */
    int direct;
    uint64_t chunk_rows;
    uint64_t chunk_start;       /* first row of the chunk being assembled */
    unsigned char *chunk;       /* chunk_rows x cols x 8 raw bytes */
    int raw_tail;               /* dense: the partial chunk at chunk_start
                                   went out raw (write_dense_direct) */
};

struct stats_h5_writer {
    struct stats_writer base;
    struct stats_registry *r;
    char *path, *tmp;
    hid_t file, fapl;
    hid_t lcpl, dapl;           /* every dataset's (layout) */
    int deflate_ok;             /* HDF5 has the deflate filter */
    struct column *cols;        /* stats, then the two /dumps columns last */
    size_t ncols;
    struct column **wcols;      /* the columns rebuild_wide fills (wide
                                   counts, histogram summaries), in order */
    size_t nwcols;
    uint64_t rows;              /* rows in the file (under mu when threaded) */
    uint64_t frows;             /* the same, kept by whoever writes (the
                                   writer thread) without the lock */
    /*
     * Buffered dumps, double-buffered. The registry's snapshot is the only
     * copy the simulation thread makes (internal.h, the dump sink): each
     * dense value goes straight from the model's counter into the dump's
     * row (consecutive addresses: a dump's stores fill ~40 whole cache
     * lines; one block per dataset had them land in ~300 lines 32 KiB
     * apart, which alias in the caches), and of the vector and histogram
     * counts only those that changed since the last dump go to the delta
     * log. The writer thread turns the rows into one block per dataset
     * (colbuf, what HDF5 writes) and replays the log over `counts` to
     * rebuild the wide rows.
     */
    unsigned char *buf[MAX_SLOTS];  /* hand_rows + 1 rows of rowbytes (the
                                   spare row takes dumps after a failure) */
    unsigned char *colbuf;      /* writer thread: colcap x densebytes,
                                   one block per dense column */
    uint32_t colcap;            /* rows a colbuf block holds: grows from
                                   hand_rows to batch_rows (grow_colbuf) */
    size_t rowbytes;            /* the registry's dense row + the /dumps
                                   columns */
    unsigned nown;              /* /dumps columns laid out so far */
    uint32_t *log_idx[MAX_SLOTS];   /* delta log, log_cap entries each */
    uint64_t *log_val[MAX_SLOTS];
    size_t *log_end[MAX_SLOTS];     /* hand_rows: log_n after each row */
    unsigned char *slot[MAX_SLOTS]; /* one page-aligned block per slot
                                       holding the four above */
    size_t slot_bytes;
    int nslots;
    bool populated[MAX_SLOTS];  /* writer thread: pages faulted in */
    bool sinking;               /* the registry's sink points here */
    size_t log_cap;
    size_t densebytes;          /* one row of every dense column */
    size_t wide_elems;
    uint64_t *counts;           /* writer thread: every count, as of the
                                   last rebuilt row */
    /* Chunk encoding for direct columns (writer thread only): the
       encoding (enum stats_h5_chunks), the row-delta coder's tables, one
       zlib stream rewound per chunk (ZLIB), a shuffled copy (ZLIB) and the
       encoded output. */
    int chunks;
    struct rowdeflate rd;
    z_stream zs;
    int zs_ok;
    unsigned char *shuf, *zbuf;
    size_t chunk_max, zbuf_size;
    uint32_t nbuf;              /* rows buffered in buf[cur] */
    uint32_t hand_rows;         /* rows a buffer holds: a hand-off */
    uint32_t gathered;          /* rows handed off since the last file
                                   batch (so hand-offs end on batches) */
    uint32_t pending;           /* writer: rows gathered, not yet written */
    int cur;                    /* the slot dumps are copied into */
    uint32_t batch_rows;
    double flush_interval;
    double last_flush;          /* host monotonic seconds */
    double start_wall;          /* host real time at open */
    char msg[512];              /* the failure, repeated on later calls */
    hid_t run[7];               /* /run datasets, see enum run_ds */
    int failed;
    /* The writer thread (background option): it owns every HDF5 call
       between open and close; the simulation thread only fills buffers. */
    int threaded;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_idle;
    /* The queue of handed-off slots, under mu: nqueued slots from head
       (the one the writer is taking counts until it is done). */
    int head, nqueued, quit;
    uint32_t qrows[MAX_SLOTS];  /* rows in each handed-off slot */
    int qflush[MAX_SLOTS];      /* ... and write the file batch after it
                                   (2: the last hand-off, from close) */
    bool closing;               /* close's final hand-off */
    bool final;                 /* writer: the batch being taken is the
                                   last (write_dense_direct keeps no tail) */
    unsigned char *scratch;     /* writer: a partial dense chunk, padded */
    int tfailed, terrno;        /* set by the thread, read after cv_idle */
    const char *twhat;          /* ... and what failed */
    int setup_errno;            /* create_file's failure */
    int wb_fd;                  /* PATH.tmp, for starting writeback (take_batch) */
    const char *setup_what;
    /* The run's start, copied at open: the file is created later, by the
       writer thread (create_file), when the caller's strings may be gone. */
    struct stats_run_meta meta;
    char *meta_str[4];          /* version, git revision, config, command */
    char *meta_host;
    size_t tick_off, reset_off; /* the /dumps values in a row */
};

static double mono_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double wall_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void iso_time(char *buf, size_t len, double t)
{
    time_t s = (time_t)t;
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Record a failure of an HDF5 or system call on the temporary file. errno
 * from the failing write (ENOSPC, EFBIG, EIO) usually survives HDF5's error
 * path; it is quoted when set.
 */
static int h5_fail(struct stats_h5_writer *w, int err_no, const char *what)
{
    H5Eclear2(H5E_DEFAULT);     /* free the messages HDF5 stacked up */
    w->failed = 1;
    w->r->err = 0;
    if (err_no)
        stats_registry_fail(w->r, SIM_EIO, w->tmp, "%s: %s", what, strerror(err_no));
    else
        stats_registry_fail(w->r, SIM_EIO, w->tmp, "%s", what);
    snprintf(w->msg, sizeof(w->msg), "%s", w->r->errmsg);
    return SIM_EIO;
}

/* Once failed, every later call reports the first failure again. */
static int h5_failed(struct stats_h5_writer *w)
{
    w->r->err = SIM_EIO;
    snprintf(w->r->errmsg, sizeof(w->r->errmsg), "%s", w->msg);
    return SIM_EIO;
}

/* --- Attributes ------------------------------------------------------------ */

static hid_t vlen_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);

    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static int attr_write(hid_t obj, const char *name, hid_t type, hid_t space,
                      const void *val)
{
    hid_t a;
    int rc = -1;

    /* Every object is new (layout): no attribute to replace. */
    a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        rc = H5Awrite(a, type, val) < 0 ? -1 : 0;
        H5Aclose(a);
    }
    return rc;
}

static int attr_str(hid_t obj, const char *name, const char *v)
{
    hid_t t = vlen_str_type(), sp = H5Screate(H5S_SCALAR);
    int rc = -1;

    if (t >= 0 && sp >= 0)
        rc = attr_write(obj, name, t, sp, &v);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    return rc;
}

static int attr_strs(hid_t obj, const char *name, const char *const *v, size_t n)
{
    hsize_t dim = n;
    hid_t t = vlen_str_type(), sp = H5Screate_simple(1, &dim, NULL);
    int rc = -1;

    if (t >= 0 && sp >= 0)
        rc = attr_write(obj, name, t, sp, v);
    if (t >= 0)
        H5Tclose(t);
    if (sp >= 0)
        H5Sclose(sp);
    return rc;
}

static int attr_num(hid_t obj, const char *name, hid_t type, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    int rc = -1;

    if (sp >= 0) {
        rc = attr_write(obj, name, type, sp, v);
        H5Sclose(sp);
    }
    return rc;
}

static int attr_u64(hid_t obj, const char *name, uint64_t v)
{
    return attr_num(obj, name, H5T_NATIVE_UINT64, &v);
}

static int attr_f64(hid_t obj, const char *name, double v)
{
    return attr_num(obj, name, H5T_NATIVE_DOUBLE, &v);
}

static int attr_i32(hid_t obj, const char *name, int32_t v)
{
    return attr_num(obj, name, H5T_NATIVE_INT32, &v);
}

/* --- Layout ------------------------------------------------------------------ */

/*
 * End-of-run metadata lives in /run, scalar datasets created (and allocated)
 * before SWMR starts and overwritten at close. Root attributes would need the
 * file reopened without SWMR after it is closed, and that reopen needs an
 * exclusive lock: a user watching the live file with h5py holds a shared
 * one, so the run would fail to finish. Overwriting allocated raw data is
 * allowed under SWMR, and a live reader sees /run/complete turn to 1.
 */
enum run_ds { RUN_COMPLETE, RUN_END_TIME, RUN_END_UNIX, RUN_WALL_SECONDS, RUN_SIM_TICKS,
              RUN_EVENTS, RUN_DUMPS, RUN__COUNT };
#define RUN_TIME_LEN 32         /* fixed-length ISO-8601 string */

static const char *const run_names[RUN__COUNT] = {
    "complete", "end_time", "end_time_unix", "wall_seconds", "sim_ticks",
    "events_processed", "dumps",
};

static hid_t run_file_type(int i, hid_t *str)
{
    switch (i) {
    case RUN_COMPLETE:
        return H5T_STD_I32LE;
    case RUN_END_TIME:
        return *str;
    case RUN_END_UNIX:
    case RUN_WALL_SECONDS:
        return H5T_IEEE_F64LE;
    default:
        return H5T_STD_U64LE;
    }
}

static hid_t run_mem_type(int i, hid_t *str)
{
    switch (i) {
    case RUN_COMPLETE:
        return H5T_NATIVE_INT32;
    case RUN_END_TIME:
        return *str;
    case RUN_END_UNIX:
    case RUN_WALL_SECONDS:
        return H5T_NATIVE_DOUBLE;
    default:
        return H5T_NATIVE_UINT64;
    }
}

/* Write the /run values (all zero and "" while running). */
static int run_write(struct stats_h5_writer *w, int finished, int complete,
                     double end_unix, uint64_t ticks, uint64_t events, uint64_t dumps)
{
    char iso[RUN_TIME_LEN] = "";
    int32_t c = complete;
    double wall = finished ? end_unix - w->start_wall : 0.0;
    const void *val[RUN__COUNT] = { &c, iso, &end_unix, &wall, &ticks, &events, &dumps };
    hid_t str = H5Tcopy(H5T_C_S1);
    int i, rc = 0;

    if (finished)
        iso_time(iso, sizeof(iso), end_unix);
    if (str < 0 || H5Tset_size(str, RUN_TIME_LEN) < 0) {
        if (str >= 0)
            H5Tclose(str);
        return -1;
    }
    for (i = 0; i < RUN__COUNT && rc == 0; i++) {
        if (H5Dwrite(w->run[i], run_mem_type(i, &str), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                     val[i]) < 0 || H5Dflush(w->run[i]) < 0)
            rc = -1;
    }
    H5Tclose(str);
    return rc;
}

static int run_layout(struct stats_h5_writer *w)
{
    hid_t g, sp, dcpl, str;
    int i, rc = 0;

    g = H5Gcreate2(w->file, "/run", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    sp = H5Screate(H5S_SCALAR);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    str = H5Tcopy(H5T_C_S1);
    if (g < 0 || sp < 0 || dcpl < 0 || str < 0 || H5Tset_size(str, RUN_TIME_LEN) < 0 ||
        H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 ||
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0)
        rc = -1;
    for (i = 0; i < RUN__COUNT && rc == 0; i++) {
        w->run[i] = H5Dcreate2(g, run_names[i], run_file_type(i, &str), sp, H5P_DEFAULT,
                               dcpl, H5P_DEFAULT);
        if (w->run[i] < 0)
            rc = -1;
    }
    if (g >= 0)
        H5Gclose(g);
    if (sp >= 0)
        H5Sclose(sp);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (str >= 0)
        H5Tclose(str);
    return rc < 0 ? -1 : run_write(w, 0, 0, 0.0, 0, 0, 0);
}

/* "/stats/" + path with dots as slashes. */
static char *h5_path(const char *path)
{
    size_t n = strlen(path);
    char *p = malloc(n + 8), *c;

    if (!p)
        return NULL;
    memcpy(p, "/stats/", 7);
    memcpy(p + 7, path, n + 1);
    for (c = p + 7; *c; c++)
        if (*c == '.')
            *c = '/';
    return p;
}

/*
 * Rows in a chunk of a dataset `width` values wide: a power of two nearest
 * CHUNK_BYTES / row size, so that a full batch (CHUNK_ROWS rows) ends on a
 * chunk boundary: a compressed chunk left partly filled at a batch's end
 * is compressed again at the next.
 */
static hsize_t chunk_rows_for(size_t width)
{
    hsize_t rows = 1;

    while (rows < CHUNK_ROWS && 3 * rows * 8 * width < 2 * CHUNK_BYTES)
        rows *= 2;
    return rows;
}

/*
 * An extendible, chunked dataset of `cols` 8-byte columns (rank 1 if 0).
 * The link and access property lists are the writer's, made once in
 * layout(): with ~600 datasets, making and closing them per dataset, and
 * asking HDF5 for the creation list again in add_column, cost ~10% of
 * create_file (perf), which a short run waits for at close.
 */
static hid_t make_dataset(struct stats_h5_writer *w, hid_t loc, const char *name,
                          hid_t type, size_t cols)
{
    int rank = cols ? 2 : 1;
    size_t width = cols ? cols : 1;
    hsize_t dims[2] = { 0, width }, maxd[2] = { H5S_UNLIMITED, width };
    hsize_t chunk[2] = { chunk_rows_for(width), width };
    hid_t sp, dcpl, ds = -1;

    sp = H5Screate_simple(rank, dims, maxd);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (sp < 0 || dcpl < 0)
        goto out;
    if (H5Pset_chunk(dcpl, rank, chunk) < 0)
        goto out;
    /* Every row is written before the extent shows it: no fill value, so
       HDF5 neither memsets new chunks nor needs them in its chunk cache. */
    if (H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0)
        goto out;
    /* Every dataset declares the pipeline; the writer encodes each chunk
       itself and records in its mask which filters it went through
       (put_chunk), so a full chunk of a narrow dataset is stored raw and
       a partly filled one deflated (a few hundred bytes, not 32 KiB). */
    if (w->deflate_ok && (H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, DEFLATE_LEVEL) < 0))
        goto out;
    ds = H5Dcreate2(loc, name, type, sp, w->lcpl, dcpl, w->dapl);
out:
    if (sp >= 0)
        H5Sclose(sp);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    return ds;
}

/* The chunks written directly hold file bytes (little-endian); elsewhere
   HDF5 converts and H5Dwrite writes them. */
static int host_little_endian(void)
{
    const uint16_t one = 1;

    return *(const unsigned char *)&one == 1;
}

/* A dataset: dense (stat's values, or the writer's own with stat NULL and
   wide 0) or wide (counts from wide_base). */
static int add_column(struct stats_h5_writer *w, hid_t ds, hid_t memtype,
                      size_t cols, struct stats_stat *stat, int wide, uint32_t wide_base)
{
    struct column *c = &w->cols[w->ncols];

    c->ds = ds;
    c->memtype = memtype;
    c->rank = cols ? 2 : 1;
    c->cols = cols ? cols : 1;
    c->stat = wide ? NULL : stat;
    c->wide = wide;
    c->wide_base = wide_base;
    if (!wide) {
        /* The registry laid out the stats' values in its row; the writer's
           own columns (/dumps) follow it. */
        c->doff = stat ? stat->dst_off : w->r->dense_bytes + 8 * (size_t)w->nown++;
        c->boff = w->densebytes;
        w->densebytes += c->cols * 8;
    }
    w->ncols++;
    /* A compressed dataset: its chunks are assembled and written here. */
    {
        hsize_t chunk[1] = { chunk_rows_for(c->cols) };
        int rc = 0;

        if (w->deflate_ok && host_little_endian()) {
            c->direct = 1;
            c->chunk_rows = chunk[0];
            /* A dense column's rows are in colbuf; its partly filled
               last chunk is kept (keep_tail) only when a batch ends in it. */
            if (wide && !(c->chunk = calloc(chunk[0], c->cols * 8)))
                rc = -1;
            if (chunk[0] * c->cols * 8 > w->chunk_max)
                w->chunk_max = chunk[0] * c->cols * 8;
        }
        if (rc == 0 && wide && !c->direct &&
            !(c->asmb = malloc((size_t)w->batch_rows * c->cols * 8)))
            rc = -1;
        return rc;
    }
}

static int stat_common_attrs(hid_t obj, const struct stats_stat *s)
{
    if (attr_str(obj, "kind", stats_kind_name(s->kind)) < 0 ||
        attr_str(obj, "unit", s->unit) < 0 ||
        attr_str(obj, "description", s->desc) < 0)
        return -1;
    if (s->kind == STATS_FORMULA && attr_str(obj, "expr", s->expr) < 0)
        return -1;
    return 0;
}

/* Datasets and attributes of one stat; its columns appended to w. */
static int layout_stat(struct stats_h5_writer *w, struct stats_stat *s)
{
    char *p = h5_path(s->path);
    hid_t ds = -1, g = -1;
    int rc = -1;

    if (!p)
        return -1;
    switch (s->kind) {
    case STATS_COUNTER:
        ds = make_dataset(w, w->file, p, H5T_STD_U64LE, 0);
        if (ds < 0 || stat_common_attrs(ds, s) < 0)
            break;
        rc = add_column(w, ds, H5T_NATIVE_UINT64, 0, s, 0, 0);
        ds = -1;
        break;
    case STATS_SCALAR:
    case STATS_TWA:
    case STATS_FORMULA:
        ds = make_dataset(w, w->file, p, H5T_IEEE_F64LE, 0);
        if (ds < 0 || stat_common_attrs(ds, s) < 0)
            break;
        rc = add_column(w, ds, H5T_NATIVE_DOUBLE, 0, s, 0, 0);
        ds = -1;
        break;
    case STATS_VECTOR:
        ds = make_dataset(w, w->file, p, H5T_STD_U64LE, s->u.vector.n);
        if (ds < 0 || stat_common_attrs(ds, s) < 0 ||
            attr_strs(ds, "elements", (const char *const *)s->elem_names, s->u.vector.n) < 0)
            break;
        /* Short vectors are dense (internal.h), longer ones logged. */
        rc = add_column(w, ds, H5T_NATIVE_UINT64, s->u.vector.n, s, s->dst_width == 0,
                        s->wide_base);
        ds = -1;
        break;
    case STATS_HIST: {
        const struct stats_hist *h = &s->u.hist;
        hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
        hsize_t ne = (hsize_t)h->nbins + 1;
        double *edges = malloc(ne * sizeof(double));
        hid_t esp = -1, eds = -1;
        uint32_t i;

        if (lcpl >= 0 && H5Pset_create_intermediate_group(lcpl, 1) >= 0)
            g = H5Gcreate2(w->file, p, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (lcpl >= 0)
            H5Pclose(lcpl);
        if (g < 0 || !edges || stat_common_attrs(g, s) < 0 ||
            attr_str(g, "scale", h->scale == STATS_HIST_LINEAR ? "linear" :
                     h->scale == STATS_HIST_LOG2 ? "log2" : "loglin") < 0 ||
            attr_u64(g, "sub_bins", UINT64_C(1) << h->sub_shift) < 0 ||
            attr_u64(g, "nbins", h->nbins) < 0) {
            free(edges);
            break;
        }
        for (i = 0; i <= h->nbins; i++)
            edges[i] = stats_hist_edge(h, i);
        esp = H5Screate_simple(1, &ne, NULL);
        if (esp >= 0)
            eds = H5Dcreate2(g, "edges", H5T_IEEE_F64LE, esp, H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT);
        if (eds >= 0 && H5Dwrite(eds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                 edges) >= 0)
            rc = 0;
        free(edges);
        if (esp >= 0)
            H5Sclose(esp);
        if (eds >= 0)
            H5Dclose(eds);
        if (rc < 0)
            break;
        rc = -1;
        ds = make_dataset(w, g, "counts", H5T_STD_U64LE, (size_t)h->nbins + 2);
        if (ds < 0 || add_column(w, ds, H5T_NATIVE_UINT64, (size_t)h->nbins + 2,
                                 s, 1, s->wide_base) < 0)
            break;
        ds = make_dataset(w, g, "summary", H5T_IEEE_F64LE, STATS_HCOL__COUNT);
        if (ds < 0 || attr_strs(ds, "columns", stats_hist_col_names, STATS_HCOL__COUNT) < 0)
            break;
        rc = add_column(w, ds, H5T_NATIVE_DOUBLE, STATS_HCOL__COUNT, s, 0, s->wide_base);
        if (rc == 0) {
            struct column *c = &w->cols[w->ncols - 1];

            c->pct = 1;
            /* Only the bin layout, fixed at registration: the writer
               thread lays the file out while the simulation records
               samples into the rest of *h. */
            c->layout.nbins = h->nbins;
            c->layout.scale = h->scale;
            c->layout.sub_shift = h->sub_shift;
            c->layout.lo_exp = h->lo_exp;
            c->layout.lo = h->lo;
            c->layout.hi = h->hi;
            c->layout.width = h->width;
        }
        ds = -1;
        break;
    }
    default:
        break;
    }
    if (ds >= 0)
        H5Dclose(ds);
    if (g >= 0)
        H5Gclose(g);
    free(p);
    return rc;
}

static int root_attrs(struct stats_h5_writer *w, const struct stats_run_meta *m)
{
    char host[256], iso[64];
    hid_t f = w->file;

    snprintf(host, sizeof(host), "%s", m->host_name);
    iso_time(iso, sizeof(iso), w->start_wall);
    if (attr_i32(f, "schema_version", SCHEMA_VERSION) < 0 ||
        attr_str(f, "iommusim_version", m && m->version ? m->version : "unknown") < 0 ||
        attr_str(f, "git_revision", m && m->git_revision ? m->git_revision : "unknown") < 0 ||
        attr_str(f, "config_json", m && m->config_json ? m->config_json : "{}") < 0 ||
        attr_u64(f, "seed", m ? m->seed : 0) < 0 ||
        attr_str(f, "command_line", m && m->command_line ? m->command_line : "") < 0 ||
        attr_str(f, "host_name", host) < 0 ||
        attr_str(f, "start_time", iso) < 0 ||
        attr_f64(f, "start_time_unix", w->start_wall) < 0 ||
        attr_u64(f, "ticks_per_second", SIM_TICKS_PER_S) < 0)
        return -1;
    return 0;
}

static int layout(struct stats_h5_writer *w, const struct stats_run_meta *meta)
{
    struct stats_registry *r = w->r;
    hid_t g;
    size_t i, n = 2;

    for (i = 0; i < r->n; i++)
        n += r->stats[i]->kind == STATS_HIST ? 2 : 1;
    if (!(w->cols = calloc(n, sizeof(*w->cols))))
        return -1;
    /*
     * Shared by every dataset (make_dataset): intermediate groups made on
     * the way, and no chunk cache (a zero-byte one). Every chunk is
     * written whole by the writer (put_chunk); where the deflate filter is
     * missing, HDF5's own write path writes new chunks straight from the
     * writer's buffer, with no copy into a cached chunk.
     */
    w->deflate_ok = H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0;
    if ((w->lcpl = H5Pcreate(H5P_LINK_CREATE)) < 0 ||
        H5Pset_create_intermediate_group(w->lcpl, 1) < 0 ||
        (w->dapl = H5Pcreate(H5P_DATASET_ACCESS)) < 0 ||
        H5Pset_chunk_cache(w->dapl, 0, 0, 1.0) < 0)
        return -1;
    if (root_attrs(w, meta) < 0 || run_layout(w) < 0)
        return -1;
    if ((g = H5Gcreate2(w->file, "/stats", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        return -1;
    H5Gclose(g);
    for (i = 0; i < r->n; i++)
        if (layout_stat(w, r->stats[i]) < 0)
            return -1;
    /* The /dumps columns go last: they are written after every stat. */
    {
        hid_t d = H5Gcreate2(w->file, "/dumps", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        hid_t t, rt;

        if (d < 0)
            return -1;
        t = make_dataset(w, d, "tick", H5T_STD_U64LE, 0);
        rt = make_dataset(w, d, "reset_tick", H5T_STD_U64LE, 0);
        if (t < 0 || rt < 0 || attr_str(t, "unit", "ps") < 0 ||
            attr_str(t, "description", "simulated time of each dump") < 0 ||
            attr_str(rt, "unit", "ps") < 0 ||
            attr_str(rt, "description", "time of the last reset before each dump") < 0) {
            if (t >= 0)
                H5Dclose(t);
            if (rt >= 0)
                H5Dclose(rt);
            H5Gclose(d);
            return -1;
        }
        H5Gclose(d);
        if (add_column(w, rt, H5T_NATIVE_UINT64, 0, NULL, 0, 0) < 0) {
            H5Dclose(t);
            return -1;
        }
        if (add_column(w, t, H5T_NATIVE_UINT64, 0, NULL, 0, 0) < 0)
            return -1;
    }
    return 0;
}

/* --- Writing -------------------------------------------------------------------- */

/*
 * Shuffle and deflate c's chunk (n values) into w->zbuf with zlib, as the
 * dataset's pipeline declares it (shuffle with 8-byte elements, then zlib
 * at DEFLATE_LEVEL): filter mask 0. Returns the stream's length or 0.
 *
 * Why not H5Dwrite: HDF5's filter path copies a batch into its chunk cache,
 * allocates and frees chunk and filter buffers, and calls compress2() per
 * chunk, which sets up and tears down about 260 KB of zlib state each time;
 * with 64 KiB chunks that set-up (allocation, page faults, clearing zlib's
 * hash table) cost the writer thread over half as much as the deflating
 * itself (perf, bench_stats --dump-only). Here one zlib stream is rewound
 * per chunk (deflateReset leaves it exactly as a fresh deflateInit would)
 * and the buffers are the writer's.
 */
static size_t zlib_chunk(struct stats_h5_writer *w, const unsigned char *src, size_t n)
{
    const uint64_t *v = (const uint64_t *)src;
    size_t e;
    unsigned b;

    /*
     * Shuffle: byte b of element e goes to b * n + e. Eight elements at a
     * time as an 8x8 byte transpose in three rounds of 64-bit swaps
     * (halves, quarters, bytes), then one 8-byte store per byte plane
     * instead of eight single-byte stores per element.
     */
    for (e = 0; e + 8 <= n; e += 8) {
        uint64_t x[8], t;
        int i;

        memcpy(x, v + e, sizeof(x));
        for (i = 0; i < 4; i++) {
            t = ((x[i] >> 32) ^ x[i + 4]) & UINT64_C(0x00000000ffffffff);
            x[i] ^= t << 32;
            x[i + 4] ^= t;
        }
        for (i = 0; i < 8; i += (i & 1) ? 3 : 1) {     /* 0, 1, 4, 5 */
            t = ((x[i] >> 16) ^ x[i + 2]) & UINT64_C(0x0000ffff0000ffff);
            x[i] ^= t << 16;
            x[i + 2] ^= t;
        }
        for (i = 0; i < 8; i += 2) {
            t = ((x[i] >> 8) ^ x[i + 1]) & UINT64_C(0x00ff00ff00ff00ff);
            x[i] ^= t << 8;
            x[i + 1] ^= t;
        }
        for (b = 0; b < 8; b++)
            memcpy(w->shuf + b * n + e, &x[b], 8);
    }
    for (; e < n; e++) {
        uint64_t x = v[e];

        for (b = 0; b < 8; b++)
            w->shuf[b * n + e] = (unsigned char)(x >> (8 * b));
    }
    if (!w->zs_ok || deflateReset(&w->zs) != Z_OK)
        return 0;
    w->zs.next_in = w->shuf;
    w->zs.avail_in = (uInt)(n * 8);
    w->zs.next_out = w->zbuf;
    w->zs.avail_out = (uInt)w->zbuf_size;
    if (deflate(&w->zs, Z_FINISH) != Z_STREAM_END)
        return 0;
    return (size_t)w->zs.total_out;
}

/*
 * Encode the chunk of c at c->chunk_start, held in buf (room for
 * chunk_rows rows, its first `rows` rows filled), and write it whole with
 * H5Dwrite_chunk, its filter mask saying which of the dataset's filters
 * the bytes went through (h5writer.h, enum stats_h5_chunks):
 *   AUTO  rowdeflate, deflate only (mask: no shuffle); raw (mask: neither)
 *         if that would not shrink the chunk. Rows past `rows` repeat the
 *         last one, which costs one match per 258 bytes (zeros would cost
 *         a literal per non-zero byte); nobody reads them, the extent ends
 *         before. A full chunk of a dense column is stored raw without
 *         trying: its values mostly change every dump (counters, times),
 *         and deflating 4096 of them cost more than the writer's whole
 *         budget per dump.
 *   ZLIB  shuffle + zlib, mask 0; rows past `rows` zeroed.
 *   RAW   the chunk as it is, mask: neither.
 * A full chunk is only read, and so is a partial one under AUTO that
 * deflating shrinks (rowdeflate_fill pads it as it encodes: no copying,
 * no compares over the padding); otherwise a partial chunk is padded in
 * buf, or, if `inplace` is 0 (buf is the column's block in colbuf), in a
 * copy in w->scratch. `chunks` is the encoding (enum stats_h5_chunks).
 */
static int put_chunk(struct stats_h5_writer *w, struct column *c, unsigned char *buf,
                     uint64_t rows, int inplace, int chunks)
{
    size_t rb = c->cols * 8, n = c->chunk_rows * c->cols, bytes = n * 8, len = 0;
    hsize_t offset[2] = { c->chunk_start, 0 };
    const void *data = w->zbuf;
    uint32_t mask = 0;
    uint64_t r;

    if (rows < c->chunk_rows && rows > 0 && chunks == STATS_H5_CHUNKS_AUTO &&
        (len = rowdeflate_fill(&w->rd, buf, rows * rb, bytes, rb, w->zbuf, bytes)) != 0)
        return H5Dwrite_chunk(c->ds, H5P_DEFAULT, MASK_NO_SHUFFLE, offset, len, w->zbuf) < 0
               ? -1 : 0;
    if (rows < c->chunk_rows && !inplace) {
        memcpy(w->scratch, buf, rows * rb);
        buf = w->scratch;
    }
    if (rows < c->chunk_rows) {
        if (chunks == STATS_H5_CHUNKS_AUTO && rows > 0)
            for (r = rows; r < c->chunk_rows; r++)
                memcpy(buf + r * rb, buf + (rows - 1) * rb, rb);
        else
            memset(buf + rows * rb, 0, (c->chunk_rows - rows) * rb);
    } else if (chunks == STATS_H5_CHUNKS_AUTO && !c->wide) {
        chunks = STATS_H5_CHUNKS_RAW;
    }
    switch (chunks) {
    case STATS_H5_CHUNKS_ZLIB:
        if ((len = zlib_chunk(w, buf, n)) == 0)
            return -1;
        break;
    case STATS_H5_CHUNKS_AUTO:
        /* cap = bytes: a stream as large as the chunk is not worth it. */
        len = rowdeflate(&w->rd, buf, bytes, rb, w->zbuf, bytes);
        mask = MASK_NO_SHUFFLE;
        if (len)
            break;
        __attribute__((fallthrough));   /* does not shrink: raw */
    default:
        data = buf;
        len = bytes;
        mask = MASK_NO_SHUFFLE | MASK_NO_DEFLATE;
        break;
    }
    return H5Dwrite_chunk(c->ds, H5P_DEFAULT, mask, offset, len, data) < 0 ? -1 : 0;
}

/*
 * A dense column's rows [at, at + rows), the block `blk` (colbuf), as
 * whole chunks: a chunk the block holds entirely goes to the file straight
 * from it; one that began in an earlier batch is completed in c->chunk,
 * which holds its first rows. A batch that ends inside a chunk writes it
 * partly filled (through w->scratch: deflated, a few hundred bytes) and,
 * unless this is close's last batch, keeps its rows in c->chunk for the
 * next batch, which writes it again. Returns 0 or -1.
 */
static int extend(struct column *c, uint64_t size);

static int write_dense_direct(struct stats_h5_writer *w, struct column *c,
                              unsigned char *blk, uint64_t at, uint64_t rows)
{
    size_t rb = c->cols * 8;
    uint64_t r = at, end = at + rows;

    if (extend(c, end) < 0)
        return -1;
    while (r < end) {
        uint64_t idx = r - c->chunk_start, n = c->chunk_rows - idx;
        unsigned char *src = blk + (r - at) * rb, *buf = src;

        if (n > end - r)
            n = end - r;
        if (idx) {                      /* the chunk began earlier */
            memcpy(c->chunk + idx * rb, src, n * rb);
            buf = c->chunk;
        }
        if (idx + n == c->chunk_rows) {
            if (put_chunk(w, c, buf, c->chunk_rows, 0, w->chunks) < 0)
                return -1;
            c->chunk_start += c->chunk_rows;
            c->raw_tail = 0;
        } else {
            /*
             * The last, partial chunk, kept for the next batch. Raw (its
             * full size, rewritten in place by later batches) unless this
             * is close's last batch: a deflated chunk that grows needs new
             * room in the file at each rewrite, and with a flush every
             * 10 ms a file of 20 000 dumps grew from 8 to 40 MB.
             */
            c->raw_tail = !w->final;
            if (put_chunk(w, c, buf, idx + n, 0, w->final ? w->chunks : STATS_H5_CHUNKS_RAW) < 0)
                return -1;
            if (!idx && !w->final) {
                if (!c->chunk && !(c->chunk = malloc(c->chunk_rows * rb)))
                    return -1;
                memcpy(c->chunk, src, n * rb);
            }
        }
        r += n;
    }
    return 0;
}

/* Rows written: set the extent of c to `size` rows. */
static int extend(struct column *c, uint64_t size)
{
    hsize_t dims[2] = { size, c->cols };

    return H5Dset_extent(c->ds, dims) < 0 ? -1 : 0;
}

/* A dense block or an assembled wide one: rows x cols values at `from`,
   one H5Dwrite straight from the buffer. */
static int write_rows(struct column *c, const void *from, uint64_t at, uint32_t rows,
                      int flush)
{
    hsize_t start[2] = { at, 0 }, count[2] = { rows, c->cols };
    hid_t fsp = -1, msp = -1;
    int rc = -1;

    if (extend(c, at + rows) < 0)
        return -1;
    fsp = H5Dget_space(c->ds);
    msp = H5Screate_simple(c->rank, count, NULL);
    if (fsp >= 0 && msp >= 0 &&
        H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
        H5Dwrite(c->ds, c->memtype, msp, fsp, H5P_DEFAULT, from) >= 0 &&
        (!flush || H5Dflush(c->ds) >= 0))
        rc = 0;
    if (fsp >= 0)
        H5Sclose(fsp);
    if (msp >= 0)
        H5Sclose(msp);
    return rc;
}

/*
 * Rebuild the wide rows of the `rows` dumps in buffer `buf`, the first of
 * them file row `at` and colbuf row `pos`: replay each row's changes over
 * w->counts, copy every wide column's counts into its assembly (a
 * compressed chunk is written as soon as it is full; write_pending writes
 * a partly filled one, so readers see every row, and it is written again,
 * whole, when later rows fill it), and fill the histogram summaries from
 * the row's raw moments and the same counts. Compressed datasets are
 * extended first: a chunk is only written inside the extent.
 */
static int rebuild_wide(struct stats_h5_writer *w, int buf, uint64_t at, uint32_t pos,
                        uint32_t rows)
{
    const uint32_t *idx = w->log_idx[buf];
    const uint64_t *val = w->log_val[buf];
    size_t k = 0, i;
    uint32_t row;

    for (i = 0; i < w->ncols; i++)
        if (w->cols[i].direct && w->cols[i].wide && extend(&w->cols[i], at + rows) < 0)
            return -1;
    for (row = 0; row < rows; row++) {
        size_t end = w->log_end[buf][row];

        for (; k < end; k++)
            w->counts[idx[k]] = val[k];
        for (i = 0; i < w->nwcols; i++) {
            struct column *c = w->wcols[i];
            size_t rb = c->cols * 8;
            const uint64_t *cnt = w->counts + c->wide_base;

            if (c->pct) {
                /* The summary from the row's raw moments (internal.h), then
                   its percentiles from the rebuilt counts. */
                double *sum = (double *)(w->colbuf + c->boff * w->colcap +
                                         (size_t)(pos + row) * rb);
                uint64_t mom[STATS_HMOM__COUNT];

                memcpy(mom, w->buf[buf] + (size_t)row * w->rowbytes + c->doff, sizeof(mom));
                stats_hist_moments_summary(mom, sum);
                stats_hist_summarise_percentiles(&c->layout, cnt, sum);
            } else if (c->direct) {
                uint64_t r = at + row;

                memcpy(c->chunk + (r - c->chunk_start) * rb, cnt, rb);
                if (r + 1 - c->chunk_start == c->chunk_rows) {
                    if (put_chunk(w, c, c->chunk, c->chunk_rows, 1, w->chunks) < 0)
                        return -1;
                    c->chunk_start += c->chunk_rows;
                }
            } else if (c->wide) {
                memcpy(c->asmb + (size_t)(pos + row) * rb, cnt, rb);
            }
        }
    }
    return 0;
}

/*
 * The rows of buffer `buf` into one block per dense column (colbuf, from
 * row `pos`), eight rows at a time: the eight rows (~20 KB for 300 stats)
 * stay in L1 while each column's eight values complete one line of its
 * block.
 */
static void transpose(struct stats_h5_writer *w, int buf, uint32_t pos, uint32_t rows)
{
    const unsigned char *src = w->buf[buf];
    uint32_t r0, r;
    size_t i;

    for (r0 = 0; r0 < rows; r0 += 8) {
        uint32_t r1 = rows - r0 < 8 ? rows : r0 + 8;

        for (i = 0; i < w->ncols; i++) {
            const struct column *c = &w->cols[i];
            size_t rb = c->cols * 8;
            unsigned char *dst = w->colbuf + c->boff * w->colcap + (size_t)pos * rb;

            if (c->wide || c->pct)      /* pct: rebuild_wide */
                continue;
            if (rb == 8) {
                for (r = r0; r < r1; r++)
                    memcpy(dst + (size_t)r * 8, src + (size_t)r * w->rowbytes + c->doff, 8);
            } else {
                for (r = r0; r < r1; r++)
                    memcpy(dst + (size_t)r * rb, src + (size_t)r * w->rowbytes + c->doff, rb);
            }
        }
    }
}

/*
 * Append the `pending` rows gathered since the last write at file row
 * w->frows: every stat column, one file flush, then /dumps/tick (the last
 * column) with its own flush, so readers never see a tick whose rows are
 * missing. One H5Fflush rather than an H5Dflush per dataset: each flush
 * walks the whole metadata cache. Returns 0 or the errno of the failure
 * (EIO if HDF5 lost it). The caller adds pending to w->frows.
 */
static int write_pending(struct stats_h5_writer *w)
{
    uint64_t at = w->frows, end = at + w->pending;
    size_t i;

    if (w->pending == 0)
        return 0;
    for (i = 0; i < w->ncols; i++) {
        struct column *c = &w->cols[i];
        int last = i + 1 == w->ncols, rc = 0;

        errno = 0;
        if (last && H5Fflush(w->file, H5F_SCOPE_LOCAL) < 0)
            rc = -1;
        else if (c->direct && c->wide)
            rc = end > c->chunk_start ? put_chunk(w, c, c->chunk, end - c->chunk_start, 1, w->chunks) : 0;
        else if (c->direct)
            rc = write_dense_direct(w, c, w->colbuf + c->boff * w->colcap, at, w->pending) < 0 ||
                 (last && H5Dflush(c->ds) < 0) ? -1 : 0;
        else if (c->wide)
            rc = write_rows(c, c->asmb, at, w->pending, last);
        else
            rc = write_rows(c, w->colbuf + c->boff * w->colcap, at, w->pending, last);
        if (rc < 0)
            return errno ? errno : EIO;
    }
    return 0;
}

/*
 * Start the kernel's writeback of what the batch left dirty, without
 * waiting for it. Otherwise close pays for all of it in the simulation's
 * thread: ext4 writes a file back when it is closed after being truncated
 * (H5Fcreate truncates), and fsync does the rest; for 20 000 dumps (99 MB)
 * that was ~14 ms of the simulation thread's CPU in close (perf,
 * bench_stats: 0.7 us a dump). Errors show up in close's fsync.
 */
static void start_writeback(struct stats_h5_writer *w)
{
#ifdef SYNC_FILE_RANGE_WRITE
    if (w->wb_fd >= 0)
        sync_file_range(w->wb_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)w;
#endif
}

/*
 * Make room in colbuf for `need` rows (at most batch_rows), doubling its
 * blocks and moving the `pending` rows gathered so far. colbuf starts at
 * one hand-off's rows: at batch_rows it is ~23 MB for 500 stats, and a
 * short run that wrote one row into each block had the kernel fault in and
 * zero all of it (a block per ~32 KiB, huge pages: ~10% of a 5 ms run's
 * CPU, all of it after the simulation's last dump). A long run grows it
 * five times in its first 4096 dumps, copying < 2 x its final size once.
 */
static void *buffer_alloc(size_t n);

static int grow_colbuf(struct stats_h5_writer *w, uint32_t need)
{
    uint32_t cap = w->colcap;
    unsigned char *nb;
    size_t i;

    if (need <= cap)
        return 0;
    while (cap < need)
        cap = cap > w->batch_rows / 2 ? w->batch_rows : 2 * cap;
    if (!(nb = buffer_alloc((size_t)cap * w->densebytes)))
        return -1;
    for (i = 0; i < w->ncols; i++) {
        const struct column *c = &w->cols[i];

        if (!c->wide && w->pending)
            memcpy(nb + c->boff * cap, w->colbuf + c->boff * w->colcap,
                   (size_t)w->pending * c->cols * 8);
    }
    free(w->colbuf);
    w->colbuf = nb;
    w->colcap = cap;
    return 0;
}

/*
 * Close's last batch is empty (the last rows went out with an earlier
 * flush): the partial chunks those left raw are encoded now. Returns 0 or
 * an errno, as write_pending.
 */
static int encode_tails(struct stats_h5_writer *w)
{
    size_t i;

    for (i = 0; i < w->ncols; i++) {
        struct column *c = &w->cols[i];

        errno = 0;
        if (c->direct && !c->wide && c->raw_tail && w->frows > c->chunk_start &&
            put_chunk(w, c, c->chunk, w->frows - c->chunk_start, 1, w->chunks) < 0)
            return errno ? errno : EIO;
        c->raw_tail = 0;
    }
    return 0;
}

/*
 * Take a hand-off of `rows` dumps in buffer `buf` (rows may be 0): gather
 * them into the file batch (colbuf, the wide assemblies and chunks), and
 * write the batch when it is full or `flush` asks. The simulation hands
 * off every HANDOFF_ROWS dumps, so its buffers stay small and their pages
 * warm; the file is written every batch_rows dumps, so HDF5's per-dataset
 * cost is paid as rarely as before. Returns 0 or an errno, as write_pending.
 */
static int take_batch(struct stats_h5_writer *w, int buf, uint32_t rows, int flush)
{
    int err;

    w->final = false;
    if (w->pending + rows > w->batch_rows) {
        if ((err = write_pending(w)) != 0)
            return err;
        w->frows += w->pending;
        w->pending = 0;
    }
    if (grow_colbuf(w, w->pending + rows) < 0)
        return ENOMEM;
    transpose(w, buf, w->pending, rows);
    errno = 0;
    if (rebuild_wide(w, buf, w->frows + w->pending, w->pending, rows) < 0)
        return errno ? errno : EIO;
    w->pending += rows;
    if (flush == 2 && w->pending == 0 && (err = encode_tails(w)) != 0)
        return err;
    if (w->pending == w->batch_rows || flush) {
        w->final = flush == 2;
        if ((err = write_pending(w)) != 0)
            return err;
        w->frows += w->pending;
        w->pending = 0;
        start_writeback(w);
    }
    return 0;
}

/*
 * Fault in slot k's pages without writing to them (the simulation may be
 * filling it: MADV_POPULATE_WRITE leaves the contents alone), once. Where
 * the kernel lacks it, the simulation faults them itself.
 */
static void populate_slot(struct stats_h5_writer *w, int k)
{
    if (w->populated[k])
        return;
    w->populated[k] = true;
#ifdef MADV_POPULATE_WRITE
    madvise(w->slot[k], w->slot_bytes, MADV_POPULATE_WRITE);
#endif
}

static int create_file(struct stats_h5_writer *w);

static void *writer_thread(void *arg)
{
    struct stats_h5_writer *w = arg;

    /* A name for top, perf --comm and gdb. */
    pthread_setname_np(pthread_self(), "stats-writer");
    /* The file first (create_file also turns HDF5's error printing off,
       which is per thread in a thread-safe HDF5). The simulation runs
       meanwhile: its first hand-off comes HANDOFF_ROWS dumps later. */
    if (create_file(w) < 0) {
        H5Eclear2(H5E_DEFAULT);
        pthread_mutex_lock(&w->mu);
        w->tfailed = 1;
        w->terrno = w->setup_errno;
        w->twhat = w->setup_what;
        pthread_mutex_unlock(&w->mu);
    }
    pthread_mutex_lock(&w->mu);
    for (;;) {
        int buf, flush, err = 0;
        uint32_t rows;

        while (w->nqueued == 0 && !w->quit)
            pthread_cond_wait(&w->cv_work, &w->mu);
        if (w->quit)        /* close waited for an empty queue; abort drops it */
            break;
        buf = w->head;
        rows = w->qrows[buf];
        flush = w->qflush[buf];
        pthread_mutex_unlock(&w->mu);
        if (!w->tfailed)
            err = take_batch(w, buf, rows, flush);
        if (err)
            H5Eclear2(H5E_DEFAULT);     /* this thread's error stack */
        /* The slots the simulation fills after the next one; none after
           close's last hand-off (two slots are ~1.6 MB for 500 stats,
           ~6 ms of faults that close would wait for). */
        if (flush != 2) {
            populate_slot(w, (buf + 2) % w->nslots);
            populate_slot(w, (buf + 3) % w->nslots);
        }
        pthread_mutex_lock(&w->mu);
        if (err) {
            w->tfailed = 1;
            w->terrno = err == EIO ? 0 : err;
            w->twhat = "writing statistics failed";
        } else if (!w->tfailed) {
            w->rows = w->frows;         /* published for stats_h5_writer_rows */
        }
        w->head = (w->head + 1) % w->nslots;
        w->nqueued--;
        pthread_cond_signal(&w->cv_idle);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Wait until the thread has written what it was given; report its failure. */
static int wait_idle(struct stats_h5_writer *w)
{
    int tfailed, terrno;

    if (!w->threaded)
        return w->failed ? h5_failed(w) : 0;
    pthread_mutex_lock(&w->mu);
    while (w->nqueued > 0)
        pthread_cond_wait(&w->cv_idle, &w->mu);
    tfailed = w->tfailed;
    terrno = w->terrno;
    pthread_mutex_unlock(&w->mu);
    if (w->failed)
        return h5_failed(w);
    if (tfailed)
        return h5_fail(w, terrno, w->twhat);
    return 0;
}

/* Point the registry's dump sink (internal.h) at buffer `buf`: its first
   row, and its delta log. */
static void sink_set(struct stats_h5_writer *w, int buf)
{
    w->sinking = true;
    w->r->sink_rowp = w->buf[buf];
    w->r->log_idx = w->log_idx[buf];
    w->r->log_val = w->log_val[buf];
    w->r->log_n = 0;
}

/* Stop feeding the registry's sink (before the buffers go). */
static void sink_clear(struct stats_h5_writer *w)
{
    if (w->sinking) {
        w->sinking = false;
        w->r->sink_rowp = NULL;
        w->r->log_idx = NULL;
        w->r->log_val = NULL;
        w->r->log_n = 0;
    }
}

/*
 * Hand the current slot to the writer (thread, or take it here), and go on
 * in the next slot; with `flush`, the writer also writes what it has
 * gathered to the file. If every slot is waiting for the thread, the
 * simulation waits: the back-pressure that keeps memory bounded. A failure
 * of the thread is reported at the next hand-off.
 */
static int hand_off(struct stats_h5_writer *w, int flush)
{
    if (flush)
        w->last_flush = mono_now();
    if (w->failed)
        return h5_failed(w);
    if (w->nbuf == 0 && !flush)
        return 0;
    if (w->threaded) {
        int tfailed, terrno;

        pthread_mutex_lock(&w->mu);
        w->qrows[w->cur] = w->nbuf;
        w->qflush[w->cur] = flush && w->closing ? 2 : flush;
        w->nqueued++;
        pthread_cond_signal(&w->cv_work);
        while (w->nqueued == w->nslots)
            pthread_cond_wait(&w->cv_idle, &w->mu);
        tfailed = w->tfailed;
        terrno = w->terrno;
        pthread_mutex_unlock(&w->mu);
        w->cur = (w->cur + 1) % w->nslots;
        if (tfailed) {
            w->nbuf = 0;
            sink_set(w, w->cur);
            return h5_fail(w, terrno, w->twhat);
        }
    } else {
        int err = take_batch(w, w->cur, w->nbuf, flush && w->closing ? 2 : flush);

        if (err)
            return h5_fail(w, err == EIO ? 0 : err, "writing statistics failed");
        w->rows = w->frows;
    }
    w->gathered += w->nbuf;
    if (flush || w->gathered >= w->batch_rows)
        w->gathered = 0;
    w->nbuf = 0;
    sink_set(w, w->cur);
    return 0;
}

int stats_h5_writer_flush(struct stats_h5_writer *w)
{
    int rc = hand_off(w, 1);

    return rc ? rc : wait_idle(w);
}

/*
 * The registry has already put this dump's values in buf[cur] (row nbuf)
 * and its changed counts in the log: record the row's end of log and the
 * /dumps values, and hand the buffer off when it is full or its log could
 * not take a dump that changed every count, and with a file write when the
 * flush interval has passed.
 */
static int h5_dump(struct stats_writer *base, struct stats_registry *r,
                   const struct stats_dump_info *info)
{
    struct stats_h5_writer *w = (struct stats_h5_writer *)base;
    unsigned char *row = w->buf[w->cur] + (size_t)w->nbuf * w->rowbytes;
    int rc, flush;

    if (w->failed) {
        /* Nothing more is written: the next dumps reuse row 0 and an
           empty log, so they stay inside the buffers. */
        r->sink_rowp = w->buf[w->cur];
        r->log_n = 0;
        return h5_failed(w);
    }
    w->log_end[w->cur][w->nbuf] = r->log_n;
    /* The /dumps columns: reset_tick then tick, after the stats' values. */
    memcpy(row + w->reset_off, &info->reset_tick, 8);
    memcpy(row + w->tick_off, &info->tick, 8);
    w->nbuf++;
    r->sink_rowp = row + w->rowbytes;   /* at most the spare row */
    flush = mono_now() - w->last_flush >= w->flush_interval;
    if (w->nbuf == w->hand_rows || w->gathered + w->nbuf == w->batch_rows ||
        w->log_cap - r->log_n < w->wide_elems || flush) {
        if ((rc = hand_off(w, flush)) != 0) {
            r->sink_rowp = w->buf[w->cur];
            r->log_n = 0;
        }
        return rc;
    }
    return 0;
}

static void stop_thread(struct stats_h5_writer *w)
{
    if (!w->threaded)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_signal(&w->cv_work);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv_work);
    pthread_cond_destroy(&w->cv_idle);
    w->threaded = 0;
}

static const struct stats_writer_ops h5_writer_ops = {
    .dump = h5_dump,
};

/* --- Open and close -------------------------------------------------------------- */

/*
 * HDF5's error printing off for the calling thread (per thread in a
 * thread-safe HDF5, as Debian's is): failures are reported as one line
 * each, from the writer's own message. Called by each thread before its
 * first HDF5 call; the first call initialises the library (create_file,
 * in the writer thread).
 */
static void h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void close_run(struct stats_h5_writer *w)
{
    int i;

    for (i = 0; i < RUN__COUNT; i++) {
        if (w->run[i] >= 0)
            H5Dclose(w->run[i]);
        w->run[i] = -1;
    }
}

/*
 * A dump writes one value into each of ~300 dense blocks, so with 4 KiB
 * pages it touches ~300 pages: TLB misses were a third of the simulation
 * thread's cost of a dump. Transparent huge pages, where the kernel gives
 * them, make that a page or two.
 */
static void *buffer_alloc(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    void *p = NULL;

    if (n >= huge / 2) {
        n = (n + huge - 1) & ~(huge - 1);
        if (posix_memalign(&p, huge, n) != 0)
            return NULL;
#ifdef MADV_HUGEPAGE
        madvise(p, n, MADV_HUGEPAGE);
#endif
        return p;
    }
    return malloc(n ? n : 1);
}

static void free_writer(struct stats_h5_writer *w)
{
    size_t i;

    stop_thread(w);
    sink_clear(w);
    h5_quiet();         /* the closes below, from this thread */
    close_run(w);
    for (i = 0; i < w->ncols; i++) {
        if (w->cols[i].ds >= 0)
            H5Dclose(w->cols[i].ds);
    }
    for (i = 0; i < w->ncols; i++) {
        free(w->cols[i].chunk);
        free(w->cols[i].asmb);
    }
    free(w->cols);
    free(w->wcols);
    for (i = 0; i < MAX_SLOTS; i++)
        free(w->slot[i]);
    free(w->colbuf);
    free(w->counts);
    free(w->shuf);
    free(w->zbuf);
    free(w->scratch);
    if (w->zs_ok)
        deflateEnd(&w->zs);
    if (w->file >= 0)
        H5Fclose(w->file);
    if (w->fapl >= 0)
        H5Pclose(w->fapl);
    if (w->lcpl >= 0)
        H5Pclose(w->lcpl);
    if (w->dapl >= 0)
        H5Pclose(w->dapl);
    if (w->wb_fd >= 0)
        close(w->wb_fd);
    free(w->path);
    free(w->tmp);
    for (i = 0; i < 4; i++)
        free(w->meta_str[i]);
    free(w->meta_host);
    free(w);
}

static void close_datasets(struct stats_h5_writer *w)
{
    size_t i;

    for (i = 0; i < w->ncols; i++) {
        if (w->cols[i].ds >= 0)
            H5Dclose(w->cols[i].ds);
        w->cols[i].ds = -1;
    }
}

/*
 * Everything of the file: create PATH.tmp with HDF5, lay out every group,
 * dataset and attribute, the writer's buffers that follow from the layout
 * (column blocks, chunk assembly, compression) and start SWMR. For ~300
 * stats this is ~44 M instructions, ~10 ms: the writer thread does it
 * while the simulation starts (its first hand-off comes HANDOFF_ROWS
 * dumps later), so it is off the critical path of every run. The bytes
 * are the same whichever thread makes the calls. Returns 0, or -1 with
 * setup_errno (0: unknown) and setup_what set.
 */
static int create_file(struct stats_h5_writer *w)
{
    size_t i;

    h5_quiet();
    w->fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (w->fapl < 0 || H5Pset_libver_bounds(w->fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST) < 0)
        goto fail_noerrno;
    errno = 0;
    w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, w->fapl);
    if (w->file < 0) {
        w->setup_what = "cannot create the HDF5 file";
        goto fail;
    }
    w->wb_fd = open(w->tmp, O_RDONLY | O_CLOEXEC);    /* -1: no early writeback */
    errno = 0;
    if (layout(w, &w->meta) < 0) {
        w->setup_what = "cannot lay out the statistics file";
        goto fail;
    }
    if (!(w->wcols = calloc(w->ncols, sizeof(*w->wcols))) ||
        !(w->colbuf = buffer_alloc((size_t)w->colcap * w->densebytes))) {
        w->setup_what = "cannot allocate the dump buffers";
        goto fail_nomem;
    }
    for (i = 0; i < w->ncols; i++)
        if (w->cols[i].wide || w->cols[i].pct)
            w->wcols[w->nwcols++] = &w->cols[i];
    rowdeflate_init(&w->rd);
    if (w->chunk_max) {
        int zlib = w->chunks == STATS_H5_CHUNKS_ZLIB;

        w->zbuf_size = zlib ? compressBound((uLong)w->chunk_max) : w->chunk_max;
        w->shuf = zlib ? malloc(w->chunk_max) : NULL;
        w->zbuf = malloc(w->zbuf_size);
        w->scratch = malloc(w->chunk_max);
        if ((zlib && !w->shuf) || !w->zbuf || !w->scratch ||
            (zlib && deflateInit(&w->zs, DEFLATE_LEVEL) != Z_OK)) {
            w->setup_what = "cannot allocate the compression buffers";
            goto fail_nomem;
        }
        w->zs_ok = zlib;
    }
    /* Every object exists now: SWMR readers may open the file. */
    errno = 0;
    if (H5Fstart_swmr_write(w->file) < 0) {
        w->setup_what = "cannot start SWMR writing";
        goto fail;
    }
    return 0;

fail_noerrno:
    w->setup_what = "cannot set up HDF5 file access";
    w->setup_errno = 0;
    return -1;
fail_nomem:
    w->setup_errno = ENOMEM;
    return -1;
fail:
    w->setup_errno = errno;
    return -1;
}

/* The run metadata's strings, copied for create_file. */
static int copy_meta(struct stats_h5_writer *w, const struct stats_run_meta *m)
{
    const char *src[4] = { "unknown", "unknown", "{}", "" };
    char host[256];
    int i;

    if (m) {
        src[0] = m->version ? m->version : src[0];
        src[1] = m->git_revision ? m->git_revision : src[1];
        src[2] = m->config_json ? m->config_json : src[2];
        src[3] = m->command_line ? m->command_line : src[3];
        w->meta.seed = m->seed;
    }
    for (i = 0; i < 4; i++)
        if (!(w->meta_str[i] = strdup(src[i])))
            return -1;
    w->meta.version = w->meta_str[0];
    w->meta.git_revision = w->meta_str[1];
    w->meta.config_json = w->meta_str[2];
    w->meta.command_line = w->meta_str[3];
    /* The host's name now (root_attrs would ask for it in the thread). */
    if (m && m->host_name)
        snprintf(host, sizeof(host), "%s", m->host_name);
    else if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    if (!(w->meta_host = strdup(host)))
        return -1;
    w->meta.host_name = w->meta_host;
    return 0;
}

int stats_h5_writer_open(struct stats_h5_writer **out, struct stats_registry *r,
                         const char *path, const struct stats_run_meta *meta,
                         const struct stats_h5_options *opt)
{
    static const struct stats_h5_options defaults = STATS_H5_OPTIONS_DEFAULT;
    struct stats_h5_writer *w;
    int fd, rc;

    *out = NULL;
    if ((rc = stats_registry_freeze(r)) != 0)
        return rc;
    if (r->log_idx)     /* the registry's dump sink is taken (internal.h) */
        return stats_registry_fail(r, SIM_ESTATE, path,
                                   "the statistics already go to another HDF5 file");
    if (!opt)
        opt = &defaults;
    if (opt->chunks < STATS_H5_CHUNKS_AUTO || opt->chunks > STATS_H5_CHUNKS_RAW)
        return stats_registry_fail(r, SIM_EINVAL, path, "unknown chunk encoding %d",
                                   opt->chunks);
    if (!(w = calloc(1, sizeof(*w))))
        return stats_registry_fail(r, SIM_ENOMEM, path, "opening the statistics file");
    w->r = r;
    w->file = w->fapl = w->lcpl = w->dapl = -1;
    w->wb_fd = -1;
    for (fd = 0; fd < RUN__COUNT; fd++)
        w->run[fd] = -1;
    w->batch_rows = opt->batch_rows ? opt->batch_rows : 1;
    w->hand_rows = w->batch_rows < HANDOFF_ROWS ? w->batch_rows : HANDOFF_ROWS;
    w->colcap = w->hand_rows;
    w->flush_interval = opt->flush_interval_s;
    w->chunks = opt->chunks;
    w->start_wall = wall_now();
    w->last_flush = mono_now();
    w->path = strdup(path);
    w->tmp = malloc(strlen(path) + 5);
    if (!w->path || !w->tmp || copy_meta(w, meta) < 0) {
        free_writer(w);
        return stats_registry_fail(r, SIM_ENOMEM, path, "opening the statistics file");
    }
    sprintf(w->tmp, "%s.tmp", path);
    r->err = 0;

    /* Create the file ourselves first: HDF5 loses errno, and "cannot create
       (No such file or directory)" is the message a user needs, at once. */
    fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = stats_registry_fail(r, SIM_EIO, w->tmp, "cannot create: %s", strerror(errno));
        free_writer(w);
        return rc;
    }
    close(fd);

    /*
     * HDF5 1.10 closes open files at exit; a file whose close failed after a
     * failed write (full disk) stays in its ID table and that exit-time close
     * crashes inside H5F__close_cb. We close our files explicitly, so turn
     * the exit hook off (a no-op if the library is already initialised).
     */
    H5dont_atexit();
    /*
     * What the simulation thread needs for its dumps, all from the frozen
     * registry: a row is the registry's dense values then the two /dumps
     * columns (reset_tick, tick; layout() gives them the same offsets).
     * The delta log holds a batch's changed counts: LOG_PER_ROW a dump on
     * average, and never less than one dump changing every count (a buffer
     * is handed off early when the next dump might not fit).
     */
    w->reset_off = r->dense_bytes;
    w->tick_off = r->dense_bytes + 8;
    w->rowbytes = r->dense_bytes + 16;
    w->wide_elems = stats_registry_wide_elems(r);
    w->log_cap = (size_t)w->hand_rows * LOG_PER_ROW;
    if (w->log_cap < 2 * w->wide_elems)
        w->log_cap = 2 * w->wide_elems;
    w->counts = calloc(w->wide_elems ? w->wide_elems : 1, sizeof(uint64_t));
    /* Slots: rows, then the log's values, indexes and row ends (8-byte
       items first, so every part is aligned), in one block each. */
    {
        size_t rows_b = ((size_t)w->hand_rows + 1) * w->rowbytes;
        size_t val_b = w->log_cap * sizeof(uint64_t), end_b = w->hand_rows * sizeof(size_t);

        w->slot_bytes = (rows_b + val_b + end_b + w->log_cap * sizeof(uint32_t) + 4095) &
                        ~(size_t)4095;
        w->nslots = (int)(SLOTS_BYTES / w->slot_bytes);
        w->nslots = w->nslots < 2 ? 2 : w->nslots > MAX_SLOTS ? MAX_SLOTS : w->nslots;
        for (fd = 0; fd < w->nslots && w->counts; fd++) {
            void *p = NULL;

            if (posix_memalign(&p, 4096, w->slot_bytes) != 0) {
                w->counts = (free(w->counts), NULL);
                break;
            }
            w->slot[fd] = p;
            w->buf[fd] = p;
            w->log_val[fd] = (uint64_t *)(w->slot[fd] + rows_b);
            w->log_end[fd] = (size_t *)(w->slot[fd] + rows_b + val_b);
            w->log_idx[fd] = (uint32_t *)(w->slot[fd] + rows_b + val_b + end_b);
        }
    }
    if (!w->counts) {
        rc = h5_fail(w, ENOMEM, "cannot allocate the dump buffers");
        goto err_unlink;
    }
    /* Counts start from the registry's last snapshot (zero before any). */
    {
        size_t i;

        for (i = 0; i < r->n; i++) {
            const struct stats_stat *st = r->stats[i];

            if ((st->kind == STATS_VECTOR && st->dst_width == 0) || st->kind == STATS_HIST)
                memcpy(w->counts + st->wide_base, st->snap_counts,
                       (st->kind == STATS_VECTOR ? st->u.vector.n
                        : (size_t)st->u.hist.nbins + 2) * sizeof(uint64_t));
        }
    }
    /* The writer thread, which creates the file first; without one (not
       asked for, or no thread to be had) the file is created here and
       batches are written in the calling thread. */
    if (opt->background && pthread_mutex_init(&w->mu, NULL) == 0) {
        if (pthread_cond_init(&w->cv_work, NULL) == 0 &&
            pthread_cond_init(&w->cv_idle, NULL) == 0 &&
            pthread_create(&w->thread, NULL, writer_thread, w) == 0) {
            w->threaded = 1;
        } else {
            pthread_mutex_destroy(&w->mu);
        }
    }
    if (!w->threaded && create_file(w) < 0) {
        rc = h5_fail(w, w->setup_errno, w->setup_what);
        goto err_unlink;
    }
    sink_set(w, w->cur);
    w->base.ops = &h5_writer_ops;
    stats_registry_attach(r, &w->base);
    *out = w;
    return 0;

err_unlink:
    unlink(w->tmp);
    free_writer(w);
    return rc;
}

static int fsync_path(const char *p, int flags)
{
    int fd = open(p, flags | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

int stats_h5_writer_close(struct stats_h5_writer *w, const struct stats_run_end *end)
{
    struct stats_registry *r = w->r;
    char *dir;
    int rc;

    stats_registry_detach(r, &w->base);
    w->closing = true;
    if ((rc = stats_h5_writer_flush(w)) != 0)
        goto err_unlink;
    stop_thread(w);     /* from here on HDF5 is called from this thread */
    h5_quiet();
    errno = 0;
    if (run_write(w, 1, !(end && end->incomplete), wall_now(),
                  end ? end->sim_ticks : r->last.tick,
                  end ? end->events : 0, w->rows) < 0) {
        rc = h5_fail(w, errno, "writing end-of-run metadata failed");
        goto err_unlink;
    }
    close_datasets(w);
    close_run(w);
    errno = 0;
    rc = H5Fclose(w->file);
    w->file = -1;
    if (rc < 0) {
        rc = h5_fail(w, errno, "closing the HDF5 file failed");
        goto err_unlink;
    }
    if (fsync_path(w->tmp, O_RDONLY) < 0) {
        rc = h5_fail(w, errno, "fsync failed");
        goto err_unlink;
    }
    if (rename(w->tmp, w->path) < 0) {
        rc = h5_fail(w, errno, "cannot rename to the final name");
        goto err_unlink;
    }
    /* Make the rename itself durable; failure here loses nothing. */
    if ((dir = strdup(w->path)) != NULL) {
        fsync_path(dirname(dir), O_RDONLY | O_DIRECTORY);
        free(dir);
    }
    free_writer(w);
    return 0;

err_unlink:
    unlink(w->tmp);
    free_writer(w);
    return rc;
}

void stats_h5_writer_abort(struct stats_h5_writer *w)
{
    stats_registry_detach(w->r, &w->base);
    unlink(w->tmp);
    free_writer(w);
}

uint64_t stats_h5_writer_rows(struct stats_h5_writer *w)
{
    uint64_t n;

    if (!w->threaded)
        return w->rows;
    pthread_mutex_lock(&w->mu);
    n = w->rows;
    pthread_mutex_unlock(&w->mu);
    return n;
}

/* --- Command line --------------------------------------------------------------- */

char *stats_command_line(char *buf, size_t len, int argc, char *const *argv)
{
    size_t o = 0;
    int i;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (i = 0; i < argc && o + 1 < len; i++) {
        const char *a = argv[i];
        int plain = *a != '\0';
        const char *c;

        for (c = a; *c; c++)
            if (!(strchr("_-./:=,+@%", *c) || (*c >= 'a' && *c <= 'z') ||
                  (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
                plain = 0;
        if (i && o + 1 < len)
            buf[o++] = ' ';
        if (plain) {
            for (c = a; *c && o + 1 < len; c++)
                buf[o++] = *c;
        } else {
            /* 'it'\''s' : single quotes, each embedded quote closed and escaped. */
            if (o + 1 < len)
                buf[o++] = '\'';
            for (c = a; *c && o + 1 < len; c++) {
                if (*c == '\'') {
                    const char *esc = "'\\''";

                    while (*esc && o + 1 < len)
                        buf[o++] = *esc++;
                } else {
                    buf[o++] = *c;
                }
            }
            if (o + 1 < len)
                buf[o++] = '\'';
        }
    }
    buf[o] = '\0';
    return buf;
}
