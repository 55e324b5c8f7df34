/*
 * trace.h - IOMMU map/unmap traces: the in-memory form, the Linux ftrace
 * text importer, the binary `.iotrace` file, and consistency checks.
 *
 * A trace is what the kernel's `iommu:map`, `iommu:unmap` and
 * `iommu:io_page_fault` tracepoints recorded, in time order, with times
 * relative to the first record (the absolute origin is kept in the file
 * header). It is read once, before simulating, into one array: replay
 * (replay.h) walks that array without allocating.
 *
 * Errors follow error.h; text-input errors read
 *     FILE:LINE: what was expected (got 'TEXT')
 * and a file with a bad line yields no trace at all unless the caller asks
 * to skip bad lines (then they are counted). docs/traces.md documents the
 * accepted text forms and the binary format byte by byte.
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Record kinds; the values are the `op` byte of the binary format. */
enum trace_op {
    TRACE_OP_MAP   = 1,     /* iova, paddr, size */
    TRACE_OP_UNMAP = 2,     /* iova, size (requested), aux = unmapped_size */
    TRACE_OP_FAULT = 3,     /* iova, aux = flags (io_page_fault) */
};

struct trace_rec {
    uint64_t t;             /* picoseconds since the trace's origin */
    uint64_t iova;
    uint64_t paddr;         /* MAP only; 0 otherwise */
    uint64_t size;          /* MAP, UNMAP; 0 for FAULT */
    uint64_t aux;           /* UNMAP: unmapped_size; FAULT: flags; MAP: 0 */
    uint32_t cpu;
    uint8_t op;             /* enum trace_op */
};

struct trace {
    struct trace_rec *recs; /* sorted by t (stable) */
    size_t n, cap;
    uint64_t base_s;        /* origin: the first record's timestamp, */
    uint64_t base_ps;       /* whole seconds + picoseconds (< 1e12) */
};

void trace_init(struct trace *t);
void trace_free(struct trace *t);
/* Append a record (amortised growth). SIM_ENOMEM. */
int trace_append(struct trace *t, const struct trace_rec *r);

/* --- One line of ftrace text ---------------------------------------------- */

enum trace_line_kind {
    TRACE_LINE_BLANK,       /* empty or only spaces */
    TRACE_LINE_COMMENT,     /* starts with '#' */
    TRACE_LINE_HEADER,      /* trace-cmd's "cpus=N", "CPU N is empty" */
    TRACE_LINE_LOST,        /* "CPU:N [LOST M EVENTS]": the trace has a hole */
    TRACE_LINE_OTHER,       /* a well-formed event line of another event */
    TRACE_LINE_EVENT,       /* map, unmap or io_page_fault: see rec */
};

/* Which printk form an iommu event line used. */
enum trace_form {
    TRACE_FORM_NONE = 0,
    TRACE_FORM_OLD,         /* "iova=0x... paddr=..." / "iova=0x... size=..." */
    TRACE_FORM_NEW,         /* "iova=0x... - 0x... ..." (end address printed) */
};

struct trace_line {
    enum trace_line_kind kind;
    enum trace_form form;
    uint64_t sec, ps;       /* the timestamp: seconds + picoseconds */
    uint64_t lost;          /* TRACE_LINE_LOST: events lost */
    struct trace_rec rec;   /* TRACE_LINE_EVENT: t unset (see sec, ps) */
};

/*
 * Parse one line (without or with its '\n'). Returns 0 and fills *out, or
 * SIM_EPARSE with "what was expected (got 'TEXT')" in msg. Never allocates.
 */
int trace_line_parse(const char *line, size_t len, struct trace_line *out,
                     char *msg, size_t msglen);

/* --- Importing a text file ------------------------------------------------ */

/* Called with one line of warning text ("FILE:LINE: warning: ..."). */
typedef void (*trace_warn_fn)(void *ctx, const char *msg);

struct trace_import_opts {
    bool skip_bad_lines;    /* count bad lines instead of failing */
    trace_warn_fn warn;     /* NULL: warnings are only counted */
    void *warn_ctx;
    unsigned max_warnings;  /* per kind, passed to warn (0: 10) */
};

struct trace_import_report {
    uint64_t lines;
    uint64_t maps, unmaps, faults;
    uint64_t other_events;  /* well-formed lines of other events, ignored */
    uint64_t comments;      /* comment, blank and header lines */
    uint64_t bad_lines;     /* only with skip_bad_lines */
    uint64_t lost_events;   /* sum over "[LOST N EVENTS]" lines */
    uint64_t old_form, new_form;
    uint64_t out_of_order;  /* records earlier than the one before: sorted */
    /* Consistency (warnings; the trace is still produced). */
    uint64_t unmap_unmapped;    /* unmaps covering bytes not mapped */
    uint64_t map_overlaps;      /* maps overlapping a live mapping */
};

/*
 * Read ftrace text from @in (named @name in messages) into @out (which must
 * be initialised and empty). On a bad line without skip_bad_lines: SIM_EPARSE
 * with "NAME:LINE: what was expected (got '...')" in err, and @out left
 * empty. SIM_EIO on a read error, SIM_ERANGE if the trace spans more than
 * 2^64 ps (213 days), SIM_ENOMEM.
 */
int trace_import(FILE *in, const char *name, const struct trace_import_opts *o,
                 struct trace *out, struct trace_import_report *rep,
                 char *err, size_t errlen);

/* --- The binary file (docs/traces.md) -------------------------------------- */

#define TRACE_FILE_MAGIC    "IOMMUTRC"
#define TRACE_FILE_VERSION  1u
#define TRACE_HEADER_SIZE   64u
#define TRACE_RECORD_SIZE   48u

/*
 * Write @t to @path atomically: a temporary file in the same directory,
 * flushed and fsync'ed, then renamed over @path. On any error nothing is
 * left at @path that was not there before. SIM_EIO with "PATH: why" in err.
 */
int trace_file_write(const char *path, const struct trace *t, char *err, size_t errlen);

/* Write @len bytes to @path the same atomic way (the generator uses it). */
int trace_atomic_write(const char *path, const void *data, size_t len,
                       char *err, size_t errlen);

/*
 * Read @path into @out (initialised, empty). Checks the magic, version,
 * sizes, the record count against the file length, ops and time order.
 * SIM_ENOENT, SIM_EIO, SIM_EPARSE (not a trace / corrupt), SIM_ENOMEM.
 */
int trace_file_read(const char *path, struct trace *out, char *err, size_t errlen);

/* Encode/decode one record (exposed for tests and tools). */
void trace_rec_encode(const struct trace_rec *r, unsigned char buf[TRACE_RECORD_SIZE]);
int trace_rec_decode(const unsigned char buf[TRACE_RECORD_SIZE], struct trace_rec *r);

/* --- Live mappings: consistency checks and buffer lifetimes --------------- */

/*
 * The set of mapped IOVA ranges while walking a trace in time order. An
 * entry is [first, last] (inclusive, so a range may end at 2^64 - 1) with
 * the id of the map that created it. Kept sorted by first in one array:
 * map and unmap cost a binary search plus a memmove of the entries after
 * the position, which is cheap because a trace has few live mappings
 * (hundreds to thousands) against many records.
 */
struct trace_live_ent {
    uint64_t first, last;
    uint64_t id;
};

struct trace_live {
    struct trace_live_ent *e;
    size_t n, cap;
    uint64_t maxlen;        /* longest entry ever (last - first), bounds the scan */
    struct trace_live_ent *tmp;     /* scratch for unmap's right-hand pieces */
    size_t tmpcap;
};

void trace_live_init(struct trace_live *l);
void trace_live_free(struct trace_live *l);

/*
 * Add [iova, iova + size) with @id. *overlap_id (may be NULL) gets the id
 * of one live entry it overlaps. Returns 1 if it overlapped, 0 if not,
 * SIM_ENOMEM. A zero size adds nothing.
 */
int trace_live_map(struct trace_live *l, uint64_t iova, uint64_t size, uint64_t id,
                   uint64_t *overlap_id);

/*
 * Remove [iova, iova + size): entries inside go, entries straddling an end
 * are cut. @cb (may be NULL) is called once per entry touched, with its id.
 * *uncovered gets the bytes of the range that were NOT mapped (0: fully
 * mapped). Returns 0 or SIM_ENOMEM. A zero size removes nothing.
 */
typedef void (*trace_live_cb)(void *ctx, uint64_t id);
int trace_live_unmap(struct trace_live *l, uint64_t iova, uint64_t size,
                     trace_live_cb cb, void *ctx, uint64_t *uncovered);

#endif /* SIM_TRACE_H */
