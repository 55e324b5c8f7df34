/*
 * iotrace.c - the binary trace file (.iotrace), version 1.
 *
 * A 64-byte header then fixed-size 48-byte records, every integer little-
 * endian whatever the host (docs/traces.md gives the layout byte by byte):
 *
 *   header: magic "IOMMUTRC", u32 version, u32 header size, u32 record
 *           size, u32 flags (0), u64 record count, u64 origin seconds,
 *           u64 origin picoseconds, 16 reserved zero bytes
 *   record: u64 time_ps, u64 iova, u64 paddr, u64 size, u64 aux, u32 cpu,
 *           u8 op, 3 reserved zero bytes
 *
 * Fixed-size records make the file seekable by index and let a reader check
 * its length against the count, which catches truncation. The sizes are in
 * the header so that a later version can append fields to a record and an
 * old reader can say precisely why it refuses the file.
 *
 * Writing is atomic: a temporary file next to the target, fsync'ed, then
 * renamed; an error (full disk included) removes the temporary and leaves
 * the target as it was.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/error.h"
#include "trace/trace.h"

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void trace_rec_encode(const struct trace_rec *r, unsigned char buf[TRACE_RECORD_SIZE])
{
    memset(buf, 0, TRACE_RECORD_SIZE);
    put64(buf + 0, r->t);
    put64(buf + 8, r->iova);
    put64(buf + 16, r->paddr);
    put64(buf + 24, r->size);
    put64(buf + 32, r->aux);
    put32(buf + 40, r->cpu);
    buf[44] = r->op;
}

int trace_rec_decode(const unsigned char buf[TRACE_RECORD_SIZE], struct trace_rec *r)
{
    r->t = get64(buf + 0);
    r->iova = get64(buf + 8);
    r->paddr = get64(buf + 16);
    r->size = get64(buf + 24);
    r->aux = get64(buf + 32);
    r->cpu = get32(buf + 40);
    r->op = buf[44];
    if (r->op < TRACE_OP_MAP || r->op > TRACE_OP_FAULT || buf[45] || buf[46] || buf[47])
        return SIM_EPARSE;
    return 0;
}

static void header_encode(const struct trace *t, unsigned char h[TRACE_HEADER_SIZE])
{
    memset(h, 0, TRACE_HEADER_SIZE);
    memcpy(h, TRACE_FILE_MAGIC, 8);
    put32(h + 8, TRACE_FILE_VERSION);
    put32(h + 12, TRACE_HEADER_SIZE);
    put32(h + 16, TRACE_RECORD_SIZE);
    put32(h + 20, 0);
    put64(h + 24, t->n);
    put64(h + 32, t->base_s);
    put64(h + 40, t->base_ps);
}

int trace_atomic_write(const char *path, const void *data, size_t len,
                       char *err, size_t errlen)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    const char *why = NULL;
    mode_t um;
    FILE *f = NULL;
    int fd, e = 0;

    if (!tmp)
        return sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    fd = mkstemp(tmp);
    if (fd < 0) {
        e = errno;
        free(tmp);
        return sim_error_format(err, errlen, SIM_EIO, path, "cannot create a temporary "
                                "file next to it: %s", strerror(e));
    }
    /* mkstemp makes 0600; give the file the mode a plain create would. */
    um = umask(0);
    umask(um);
    if (fchmod(fd, 0666 & ~um) != 0) {
        e = errno;
        why = "cannot set its mode";
        close(fd);
        goto fail;
    }
    f = fdopen(fd, "wb");
    if (!f) {
        e = errno;
        why = "cannot open it";
        close(fd);
        goto fail;
    }
    if ((len && fwrite(data, 1, len, f) != len) || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        e = errno;
        why = "cannot write";
        goto fail;
    }
    if (fclose(f) != 0) {
        f = NULL;
        e = errno;
        why = "cannot write";
        goto fail;
    }
    f = NULL;
    if (rename(tmp, path) != 0) {
        e = errno;
        why = "cannot rename the temporary file over it";
        goto fail;
    }
    free(tmp);
    return 0;

fail:
    if (f)
        fclose(f);
    unlink(tmp);
    free(tmp);
    return sim_error_format(err, errlen, SIM_EIO, path, "%s: %s", why,
                            e ? strerror(e) : "unknown error");
}

int trace_file_write(const char *path, const struct trace *t, char *err, size_t errlen)
{
    size_t len = TRACE_HEADER_SIZE + t->n * TRACE_RECORD_SIZE;
    unsigned char *buf = malloc(len);
    int r;

    if (!buf)
        return sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
    header_encode(t, buf);
    for (size_t i = 0; i < t->n; i++)
        trace_rec_encode(&t->recs[i], buf + TRACE_HEADER_SIZE + i * TRACE_RECORD_SIZE);
    r = trace_atomic_write(path, buf, len, err, errlen);
    free(buf);
    return r;
}

int trace_file_read(const char *path, struct trace *out, char *err, size_t errlen)
{
    unsigned char h[TRACE_HEADER_SIZE], rb[TRACE_RECORD_SIZE];
    uint32_t version, hsize, rsize;
    uint64_t count;
    struct stat st;
    FILE *f = fopen(path, "rb");
    int r;

    if (!f)
        return sim_error_format(err, errlen, errno == ENOENT ? SIM_ENOENT : SIM_EIO, path,
                                "cannot open: %s", strerror(errno));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return sim_error_format(err, errlen, SIM_EIO, path, "not a regular file");
    }
    if (fread(h, 1, sizeof(h), f) != sizeof(h) || memcmp(h, TRACE_FILE_MAGIC, 8) != 0) {
        fclose(f);
        return sim_error_format(err, errlen, SIM_EPARSE, path, "not an iommusim trace "
                                "(expected the magic 'IOMMUTRC' at offset 0; text traces "
                                "are converted with 'iommusim trace import')");
    }
    version = get32(h + 8);
    hsize = get32(h + 12);
    rsize = get32(h + 16);
    count = get64(h + 24);
    if (version != TRACE_FILE_VERSION || hsize != TRACE_HEADER_SIZE ||
        rsize != TRACE_RECORD_SIZE) {
        fclose(f);
        return sim_error_format(err, errlen, SIM_EPARSE, path, "unsupported trace version %"
                                PRIu32 " (header %" PRIu32 " bytes, records %" PRIu32
                                " bytes; expected version 1, 64, 48)", version, hsize, rsize);
    }
    if (get32(h + 20) != 0 || get64(h + 40) >= UINT64_C(1000000000000)) {
        fclose(f);
        return sim_error_format(err, errlen, SIM_EPARSE, path, "corrupt header (flags or "
                                "origin picoseconds out of range)");
    }
    if (count > (UINT64_MAX - TRACE_HEADER_SIZE) / TRACE_RECORD_SIZE ||
        (uint64_t)st.st_size != TRACE_HEADER_SIZE + count * TRACE_RECORD_SIZE) {
        fclose(f);
        return sim_error_format(err, errlen, SIM_EPARSE, path, "the header says %" PRIu64
                                " records but the file has %lld bytes (truncated or "
                                "corrupt)", count, (long long)st.st_size);
    }
    out->base_s = get64(h + 32);
    out->base_ps = get64(h + 40);
    for (uint64_t i = 0; i < count; i++) {
        struct trace_rec rec;

        if (fread(rb, 1, sizeof(rb), f) != sizeof(rb)) {
            r = sim_error_format(err, errlen, SIM_EIO, path, "read error at record %" PRIu64,
                                 i);
            goto fail;
        }
        if (trace_rec_decode(rb, &rec) != 0) {
            r = sim_error_format(err, errlen, SIM_EPARSE, path, "record %" PRIu64 " has an "
                                 "unknown op %u or non-zero reserved bytes", i, rb[44]);
            goto fail;
        }
        if (out->n && rec.t < out->recs[out->n - 1].t) {
            r = sim_error_format(err, errlen, SIM_EPARSE, path, "record %" PRIu64 " is "
                                 "earlier than the one before (records must be in time "
                                 "order)", i);
            goto fail;
        }
        if (trace_append(out, &rec)) {
            r = sim_error_format(err, errlen, SIM_ENOMEM, path, NULL);
            goto fail;
        }
    }
    fclose(f);
    return 0;

fail:
    fclose(f);
    trace_free(out);
    return r;
}
