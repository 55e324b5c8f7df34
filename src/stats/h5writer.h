/*
 * h5writer.h - the HDF5 statistics file (layout: stats/SCHEMA.md).
 *
 * The writer creates PATH.tmp, lays out every group, dataset and attribute
 * for the registry's stats, then starts HDF5 SWMR (single-writer multiple-
 * reader) mode so h5py can read the file while it grows. Each dump is copied
 * into in-memory row buffers; the buffers are written (by a writer thread,
 * see `background`), and the file flushed for SWMR readers, when `batch_rows` dumps are buffered or
 * `flush_interval_s` host seconds have passed since the last write (0: after
 * every dump), and at close. Close writes the end-of-run metadata into the
 * /run datasets made at open (HDF5 1.10 cannot create attributes under SWMR,
 * and reopening without SWMR would fail while a reader has the file open),
 * closes, fsyncs and renames the file to PATH. A crash or kill
 * therefore leaves PATH.tmp and never touches an existing PATH.
 *
 * All calls return 0 or a negative SIM_E*; the one-line message
 * ("PATH.tmp: input/output error (...)") is in stats_registry_errmsg().
 * HDF5's own error printing is switched off for the process.
 */
#ifndef STATS_H5WRITER_H
#define STATS_H5WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "stats/registry.h"

/* Run metadata written as root attributes at open. NULL strings get a
   default: "unknown", "{}", "" or the host's name. */
struct stats_run_meta {
    const char *version;        /* iommusim version, e.g. PACKAGE_VERSION */
    const char *git_revision;
    const char *config_json;    /* the resolved object tree */
    const char *command_line;   /* see stats_command_line() */
    const char *host_name;      /* NULL: gethostname() */
    uint64_t seed;
};

/* End-of-run metadata, written into /run at close. */
struct stats_run_end {
    sim_tick_t sim_ticks;       /* simulated time at the end */
    uint64_t events;            /* events processed */
    int incomplete;             /* the run was cut short (Ctrl-C, an error):
                                   /run/complete stays 0, the file is kept */
};

/*
 * How the compressed datasets' chunks (histogram counts, every dataset of
 * 16 columns or more) are encoded. The values read back are the same
 * whatever the choice; only the file's bytes and size differ. Each chunk
 * records in its filter mask which of the dataset's filters (shuffle,
 * deflate) it went through, and HDF5 (h5py, h5dump) undoes exactly those.
 *   AUTO  row-delta deflate (rowdeflate.h: matches one row back, no
 *         shuffle), stored raw when that would not shrink it. About a fifth
 *         of zlib's CPU; files up to ~2x larger than ZLIB's when many counts
 *         change every dump, about the same when few do.
 *   ZLIB  shuffle + zlib deflate level 1 (the smallest files).
 *   RAW   no compression (the largest files, the least CPU).
 */
enum stats_h5_chunks {
    STATS_H5_CHUNKS_AUTO = 0,
    STATS_H5_CHUNKS_ZLIB,
    STATS_H5_CHUNKS_RAW,
};

struct stats_h5_options {
    double flush_interval_s;    /* host seconds between writes; 0: every dump */
    uint32_t batch_rows;        /* write at least every this many dumps */
    int background;             /* write batches from a writer thread */
    int chunks;                 /* enum stats_h5_chunks */
};

/*
 * flush_interval_s 1.0, batch_rows 4096, background 1, chunks AUTO.
 *
 * background: every 128 dumps the buffered rows are handed to a writer
 * thread (a ring of buffers) and the simulation goes on while the thread
 * gathers them into batches, compresses and writes them; the writer thread
 * makes every HDF5 call between open and close. The simulation itself stays
 * single-threaded and deterministic: the thread only copies finished rows
 * to the file. If the thread falls behind by the whole ring, the next
 * hand-off waits for it. With 0, batches are written in the calling thread (what a
 * sweep that already fills every core may prefer: the work is the same).
 */
#define STATS_H5_OPTIONS_DEFAULT { 1.0, 4096, 1, STATS_H5_CHUNKS_AUTO }

struct stats_h5_writer;

/*
 * Freeze r, create path + ".tmp" with the full layout, start SWMR and attach
 * the writer to r (every later stats_dump() appends a row). opt may be NULL.
 * On failure nothing is attached and the temporary file is removed.
 */
int stats_h5_writer_open(struct stats_h5_writer **out, struct stats_registry *r,
                         const char *path, const struct stats_run_meta *meta,
                         const struct stats_h5_options *opt);

/* Write buffered dumps now (a host timer may call this). */
int stats_h5_writer_flush(struct stats_h5_writer *w);

/*
 * Write what is buffered and the end-of-run metadata, fsync and rename
 * PATH.tmp to PATH; detach and free w whatever happens. On failure PATH.tmp
 * is removed and an existing PATH is left as it was.
 */
int stats_h5_writer_close(struct stats_h5_writer *w, const struct stats_run_end *end);

/* Give up (after an error or a signal): detach, free, remove PATH.tmp. */
void stats_h5_writer_abort(struct stats_h5_writer *w);

/* Dumps written to the file so far (not counting buffered ones). */
uint64_t stats_h5_writer_rows(struct stats_h5_writer *w);

/*
 * argv joined with spaces, each argument quoted for a POSIX shell when it
 * needs it, into buf (truncated, NUL-terminated). Returns buf.
 */
char *stats_command_line(char *buf, size_t len, int argc, char *const *argv);

#endif /* STATS_H5WRITER_H */
