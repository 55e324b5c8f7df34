/*
 * test_trace_file.c - the binary .iotrace format and the generator: a round
 * trip with extreme values, the header and record bytes exactly as
 * docs/traces.md lays them out, every refusal of a corrupt file, atomic
 * writing (no temporary left, nothing created on failure), and the
 * generator's determinism and consistency (what it writes imports with no
 * bad line and no warning, with the counts its pattern implies).
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/error.h"
#include "trace/gen.h"
#include "trace/trace.h"

void test_trace_file_round_trip(void);
void test_trace_file_layout(void);
void test_trace_file_rejects(void);
void test_trace_file_atomic(void);
void test_trace_gen_deterministic(void);
void test_trace_gen_consistent(void);

static char dir[64];

static void mkdir_tmp(void)
{
    snprintf(dir, sizeof(dir), "/tmp/iommusim-trace.XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

static void rm_tmp(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static const struct trace_rec sample_recs[] = {
    { 0, 0x1000, 0x2000, 4096, 0, 0, TRACE_OP_MAP },
    { 1, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT32_MAX, TRACE_OP_UNMAP },
    { UINT64_MAX, 0xdead00, 0, 0, 0x10, 7, TRACE_OP_FAULT },
};

static void sample(struct trace *t)
{
    trace_init(t);
    for (size_t i = 0; i < 3; i++)
        CU_ASSERT_EQUAL_FATAL(trace_append(t, &sample_recs[i]), 0);
    t->base_s = 12345;
    t->base_ps = 999999999999;
}

void test_trace_file_round_trip(void)
{
    struct trace t, u;
    char path[128], err[300];

    mkdir_tmp();
    sample(&t);
    snprintf(path, sizeof(path), "%s/a.iotrace", dir);
    CU_ASSERT_EQUAL_FATAL(trace_file_write(path, &t, err, sizeof(err)), 0);
    trace_init(&u);
    CU_ASSERT_EQUAL_FATAL(trace_file_read(path, &u, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(u.n, 3);
    CU_ASSERT_EQUAL(u.base_s, 12345);
    CU_ASSERT_EQUAL(u.base_ps, 999999999999);
    for (size_t i = 0; i < 3 && i < u.n; i++) {
        CU_ASSERT_EQUAL(u.recs[i].t, sample_recs[i].t);
        CU_ASSERT_EQUAL(u.recs[i].iova, sample_recs[i].iova);
        CU_ASSERT_EQUAL(u.recs[i].paddr, sample_recs[i].paddr);
        CU_ASSERT_EQUAL(u.recs[i].size, sample_recs[i].size);
        CU_ASSERT_EQUAL(u.recs[i].aux, sample_recs[i].aux);
        CU_ASSERT_EQUAL(u.recs[i].cpu, sample_recs[i].cpu);
        CU_ASSERT_EQUAL(u.recs[i].op, sample_recs[i].op);
    }
    trace_free(&u);
    trace_free(&t);
    rm_tmp();
}

static long read_all(const char *path, unsigned char *buf, size_t len)
{
    FILE *f = fopen(path, "rb");
    long n;

    if (!f)
        return -1;
    n = (long)fread(buf, 1, len, f);
    fclose(f);
    return n;
}

static void write_all(const char *path, const unsigned char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(buf, 1, len, f), len);
    fclose(f);
}

void test_trace_file_layout(void)
{
    /* Byte by byte, as docs/traces.md states: little-endian throughout. */
    static const unsigned char want_head[32] = {
        'I', 'O', 'M', 'M', 'U', 'T', 'R', 'C',
        1, 0, 0, 0,   64, 0, 0, 0,   48, 0, 0, 0,   0, 0, 0, 0,
        3, 0, 0, 0, 0, 0, 0, 0,
    };
    unsigned char buf[512];
    struct trace t;
    char path[128], err[300];

    mkdir_tmp();
    sample(&t);
    snprintf(path, sizeof(path), "%s/b.iotrace", dir);
    CU_ASSERT_EQUAL_FATAL(trace_file_write(path, &t, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(read_all(path, buf, sizeof(buf)), 64 + 3 * 48);
    CU_ASSERT_EQUAL(memcmp(buf, want_head, sizeof(want_head)), 0);
    /* origin seconds 12345 = 0x3039 at 32; ps 999999999999 = 0xe8d4a50fff at 40 */
    CU_ASSERT_EQUAL(buf[32], 0x39);
    CU_ASSERT_EQUAL(buf[33], 0x30);
    CU_ASSERT_EQUAL(buf[40], 0xff);
    CU_ASSERT_EQUAL(buf[41], 0x0f);
    CU_ASSERT_EQUAL(buf[42], 0xa5);
    CU_ASSERT_EQUAL(buf[43], 0xd4);
    CU_ASSERT_EQUAL(buf[44], 0xe8);
    for (int i = 48; i < 64; i++)
        CU_ASSERT_EQUAL(buf[i], 0);
    /* Record 0 at 64: iova 0x1000 at +8, paddr 0x2000 at +16, size 4096 at +24,
     * op 1 at +44. Record 2 (at 160): cpu 7 at +40, op 3 at +44, aux 0x10 at +32. */
    CU_ASSERT_EQUAL(buf[64 + 9], 0x10);
    CU_ASSERT_EQUAL(buf[64 + 17], 0x20);
    CU_ASSERT_EQUAL(buf[64 + 25], 0x10);
    CU_ASSERT_EQUAL(buf[64 + 44], 1);
    CU_ASSERT_EQUAL(buf[160 + 40], 7);
    CU_ASSERT_EQUAL(buf[160 + 44], 3);
    CU_ASSERT_EQUAL(buf[160 + 32], 0x10);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(buf[160 + i], 0xff);        /* t = UINT64_MAX */
    trace_free(&t);
    rm_tmp();
}

static int read_err(const char *path, char *err, size_t len)
{
    struct trace u;
    int r;

    trace_init(&u);
    r = trace_file_read(path, &u, err, len);
    CU_ASSERT_EQUAL(u.n, 0);
    trace_free(&u);
    return r;
}

void test_trace_file_rejects(void)
{
    unsigned char good[64 + 3 * 48], bad[sizeof(good)];
    char path[128], err[400];
    struct trace t;

    mkdir_tmp();
    sample(&t);
    snprintf(path, sizeof(path), "%s/c.iotrace", dir);
    CU_ASSERT_EQUAL_FATAL(trace_file_write(path, &t, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(read_all(path, good, sizeof(good)), (long)sizeof(good));

    /* truncated: one byte short */
    write_all(path, good, sizeof(good) - 1);
    CU_ASSERT_EQUAL(read_err(path, err, sizeof(err)), SIM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "the header says 3 records but the file has 207 bytes "
                                  "(truncated or corrupt)"));
    /* bad magic (a text trace given where a binary one is expected) */
    memcpy(bad, good, sizeof(good));
    bad[0] = '#';
    write_all(path, bad, sizeof(bad));
    CU_ASSERT_EQUAL(read_err(path, err, sizeof(err)), SIM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not an iommusim trace"));
    /* a future version */
    memcpy(bad, good, sizeof(good));
    bad[8] = 2;
    write_all(path, bad, sizeof(bad));
    CU_ASSERT_EQUAL(read_err(path, err, sizeof(err)), SIM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unsupported trace version 2"));
    /* unknown op in record 1 */
    memcpy(bad, good, sizeof(good));
    bad[64 + 48 + 44] = 9;
    write_all(path, bad, sizeof(bad));
    CU_ASSERT_EQUAL(read_err(path, err, sizeof(err)), SIM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "record 1 has an unknown op 9"));
    /* records out of time order: record 1's time above record 2's */
    memcpy(bad, good, sizeof(good));
    memset(bad + 64 + 48, 0xff, 8);
    memset(bad + 64 + 96, 0x00, 8);
    write_all(path, bad, sizeof(bad));
    CU_ASSERT_EQUAL(read_err(path, err, sizeof(err)), SIM_EPARSE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "record 2 is earlier than the one before"));
    /* missing */
    snprintf(path, sizeof(path), "%s/missing.iotrace", dir);
    CU_ASSERT_EQUAL(read_err(path, err, sizeof(err)), SIM_ENOENT);
    trace_free(&t);
    rm_tmp();
}

static int count_entries(const char *d)
{
    DIR *dp = opendir(d);
    struct dirent *e;
    int n = 0;

    if (!dp)
        return -1;
    while ((e = readdir(dp)) != NULL)
        n += e->d_name[0] != '.';
    closedir(dp);
    return n;
}

void test_trace_file_atomic(void)
{
    char path[160], err[400];
    struct trace t;

    mkdir_tmp();
    sample(&t);
    /* Success leaves exactly the target, no temporary. */
    snprintf(path, sizeof(path), "%s/d.iotrace", dir);
    CU_ASSERT_EQUAL(trace_file_write(path, &t, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(count_entries(dir), 1);
    /* Failure (no such directory) creates nothing and says where. */
    snprintf(path, sizeof(path), "%s/nodir/e.iotrace", dir);
    CU_ASSERT_EQUAL(trace_file_write(path, &t, err, sizeof(err)), SIM_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "nodir/e.iotrace: input/output error (cannot create"));
    CU_ASSERT_EQUAL(count_entries(dir), 1);
    trace_free(&t);
    rm_tmp();
}

/* --- Generator ------------------------------------------------------------ */

static char *gen_text(const struct trace_gen_cfg *c, size_t *len)
{
    char *buf = NULL, err[300];
    FILE *f = open_memstream(&buf, len);

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(trace_gen_write(f, c, err, sizeof(err)), 0);
    fclose(f);
    return buf;
}

void test_trace_gen_deterministic(void)
{
    static const enum trace_gen_pattern pats[] = { TRACE_GEN_NIC, TRACE_GEN_NVME,
                                                   TRACE_GEN_RANDOM };
    struct trace_gen_cfg c;

    for (int p = 0; p < 3; p++) {
        size_t la, lb, lc;
        char *a, *b, *d;

        trace_gen_defaults(&c);
        c.pattern = pats[p];
        c.count = 300;
        c.style = TRACE_GEN_STYLE_MIXED;
        c.form = TRACE_GEN_FORM_MIXED;
        a = gen_text(&c, &la);
        b = gen_text(&c, &lb);
        c.seed = 2;
        d = gen_text(&c, &lc);
        CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
        CU_ASSERT(la != lc || memcmp(a, d, la) != 0);
        free(a);
        free(b);
        free(d);
    }
}

static void warn_count(void *ctx, const char *msg)
{
    (void)msg;
    (*(unsigned *)ctx)++;
}

void test_trace_gen_consistent(void)
{
    static const enum trace_gen_pattern pats[] = { TRACE_GEN_NIC, TRACE_GEN_NVME,
                                                   TRACE_GEN_RANDOM };
    static const enum trace_gen_style styles[] = { TRACE_GEN_STYLE_SYSFS,
        TRACE_GEN_STYLE_TRACECMD, TRACE_GEN_STYLE_PERF, TRACE_GEN_STYLE_MIXED };

    for (int p = 0; p < 3; p++) {
        for (int s = 0; s < 4; s++) {
            struct trace_gen_cfg c;
            struct trace_import_report rep;
            unsigned nwarn = 0;
            struct trace_import_opts o = { false, warn_count, &nwarn, 1000 };
            struct trace t;
            char err[300], *text;
            size_t len;
            FILE *f;

            trace_gen_defaults(&c);
            c.pattern = pats[p];
            c.count = 500;
            c.ring = 64;
            c.style = styles[s];
            c.form = s == 3 ? TRACE_GEN_FORM_MIXED : s == 1 ? TRACE_GEN_FORM_OLD
                                                            : TRACE_GEN_FORM_NEW;
            text = gen_text(&c, &len);
            f = fmemopen(text, len, "r");
            trace_init(&t);
            CU_ASSERT_EQUAL_FATAL(trace_import(f, "gen", &o, &t, &rep, err, sizeof(err)), 0);
            fclose(f);
            /* Every map unmapped only once mapped; nothing overlaps; in order. */
            CU_ASSERT_EQUAL(nwarn, 0);
            CU_ASSERT_EQUAL(rep.unmap_unmapped + rep.map_overlaps + rep.out_of_order, 0);
            CU_ASSERT_EQUAL(rep.bad_lines + rep.other_events, 0);
            /* nic: the ring is filled (64 maps), then each of the 500
             * packets unmaps one buffer and maps one. nvme and random: each
             * of the 500 commands/buffers is mapped once and unmapped once. */
            if (pats[p] == TRACE_GEN_NIC) {
                CU_ASSERT_EQUAL(rep.maps, 64 + 500);
            } else {
                CU_ASSERT_EQUAL(rep.maps, 500);
            }
            CU_ASSERT_EQUAL(rep.unmaps, 500);
            if (c.form == TRACE_GEN_FORM_MIXED) {
                CU_ASSERT(rep.old_form > 0 && rep.new_form > 0);
            } else if (c.form == TRACE_GEN_FORM_OLD) {
                CU_ASSERT_EQUAL(rep.new_form, 0);
            } else {
                CU_ASSERT_EQUAL(rep.old_form, 0);
            }
            trace_free(&t);
            free(text);
        }
    }
}
