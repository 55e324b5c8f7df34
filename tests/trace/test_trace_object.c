/*
 * test_trace_object.c - the TraceReplay model as a config builds it: an
 * ftrace text file and the same trace as an .iotrace file replay to the
 * same counts, which follow from the trace by hand; the access parameters
 * reach the replay; a malformed, truncated or event-less file, or a domain
 * the IOMMU does not have, is one error line naming the object and the
 * file; reset_stats zeroes the counters.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/error.h"
#include "engine/object.h"
#include "iommu/models/generic.h"
#include "iommu/objects.h"
#include "mem/mem_object.h"
#include "trace/replay_object.h"
#include "trace/trace.h"

void test_trace_object_text_and_binary(void);
void test_trace_object_params_reach_replay(void);
void test_trace_object_errors(void);

/*
 * Buffer A: 8 KiB at 0x10000, mapped at 0 us, unmapped at 1000 us.
 * Buffer B: 4 KiB at 0x20000, mapped at 100 us, unmapped at 2100 us.
 * One line in the old form, one with trace-cmd's padding, one perf-style.
 */
static const char trace_text[] =
    "# tracer: nop\n"
    "  fio-1 [000] .... 100.000000: map: IOMMU: iova=0x0000000000010000 - "
    "0x0000000000012000 paddr=0x0000000000100000 size=8192\n"
    "  fio-1 [001] .... 100.000100: map: IOMMU: iova=0x0000000000020000 "
    "paddr=0x0000000000200000 size=4096\n"
    "  fio-1 [000]   100.001000: unmap:    IOMMU: iova=0x0000000000010000 size=8192 "
    "unmapped_size=8192\n"
    "  fio 1 [001] 100.002100: iommu:unmap: IOMMU: iova=0x0000000000020000 size=4096 "
    "unmapped_size=4096\n";

static char tmpdir[64];

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void set(const struct sim_model *m, const char **texts, const char *name,
                const char *val)
{
    int i = sim_model_param_index(m, name);

    CU_ASSERT_FATAL(i >= 0);
    texts[i] = val;
}

static double readout(const struct sim_object *o, const char *name)
{
    for (unsigned i = 0; i < o->model->nreadouts; i++)
        if (strcmp(o->model->readouts[i].name, name) == 0)
            return o->model->ops->read(o, i);
    CU_FAIL("no such readout");
    return -1;
}

/* A world with the generic IOMMU (every part at its defaults) at sys.iommu. */
static void machine(struct sim_world *w)
{
    const char *gi[16] = { 0 };
    char err[512];

    sim_world_init(w, 1);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(w, &mem_model_memory, "sys.mem", NULL, err,
                                        sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(w, &iommu_model_iotlb, "sys.iotlb", NULL, err,
                                        sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sim_world_add(w, &iommu_model_walker, "sys.walker", NULL, err,
                                        sizeof(err)), 0);
    set(&generic_model_object, gi, "iotlb", "sys.iotlb");
    set(&generic_model_object, gi, "walker", "sys.walker");
    set(&generic_model_object, gi, "memory", "sys.mem");
    if (sim_world_add(w, &generic_model_object, "sys.iommu", gi, err, sizeof(err)))
        fprintf(stderr, "%s\n", err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sim_world_find(w, "sys.iommu"));
}

/* Add sys.replay of @file with extra (name, value) pairs; the return code,
 * the error in err. */
static int add_replay(struct sim_world *w, const char *file, const char *const *extra,
                      char *err, size_t errlen)
{
    const char *t[16] = { 0 };

    set(&trace_model_replay, t, "trace", file);
    set(&trace_model_replay, t, "iommu", "sys.iommu");
    for (; extra && extra[0]; extra += 2)
        set(&trace_model_replay, t, extra[0], extra[1]);
    return sim_world_add(w, &trace_model_replay, "sys.replay", t, err, errlen);
}

static void mktmp(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/iommusim-tro-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
}

static void rmtmp(const char *const *names)
{
    char p[128];

    for (; *names; names++) {
        snprintf(p, sizeof(p), "%s/%s", tmpdir, *names);
        unlink(p);
    }
    rmdir(tmpdir);
}

/* Replay @file with 3 accesses of 64 B per buffer, evenly spread: both
 * lives are long, so all 6 fit; each stays in one page (one translation),
 * every page is mapped (no fault). */
static void check_default_replay(const char *file)
{
    const char *extra[] = { "accesses", "3", NULL };
    struct sim_world w;
    struct sim_object *o;
    char err[512];

    machine(&w);
    if (add_replay(&w, file, extra, err, sizeof(err)))
        fprintf(stderr, "%s\n", err);
    o = sim_world_find(&w, "sys.replay");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_EQUAL_FATAL(sim_world_start(&w, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(readout(o, "done"), 0.0);
    sim_run(&w.sim);
    CU_ASSERT_EQUAL(readout(o, "records"), 4.0);
    CU_ASSERT_EQUAL(readout(o, "maps"), 2.0);
    CU_ASSERT_EQUAL(readout(o, "unmaps"), 2.0);
    CU_ASSERT_EQUAL(readout(o, "faults"), 0.0);
    CU_ASSERT_EQUAL(readout(o, "map_errors"), 0.0);
    CU_ASSERT_EQUAL(readout(o, "unmap_errors"), 0.0);
    CU_ASSERT_EQUAL(readout(o, "accesses"), 6.0);
    CU_ASSERT_EQUAL(readout(o, "skipped"), 0.0);
    CU_ASSERT_EQUAL(readout(o, "bytes"), 6.0 * 64);
    CU_ASSERT_EQUAL(readout(o, "translations"), 6.0);
    CU_ASSERT_EQUAL(readout(o, "translation_faults"), 0.0);
    CU_ASSERT(readout(o, "mean_latency") > 0.0);
    CU_ASSERT(readout(o, "max_latency") >= readout(o, "mean_latency"));
    CU_ASSERT_EQUAL(readout(o, "done"), 1.0);
    /* The last record (B's unmap) is at 2100 us of trace time. */
    CU_ASSERT(w.sim.now >= UINT64_C(2100) * SIM_TICKS_PER_US);
    /* The IOMMU saw the same maps and unmaps. */
    CU_ASSERT_EQUAL(readout(sim_world_find(&w, "sys.iommu"), "maps"), 2.0);
    CU_ASSERT_EQUAL(readout(sim_world_find(&w, "sys.iommu"), "unmaps"), 2.0);
    CU_ASSERT_EQUAL(readout(sim_world_find(&w, "sys.iommu"), "translations"), 6.0);

    o->model->ops->reset_stats(o);
    CU_ASSERT_EQUAL(readout(o, "maps"), 0.0);
    CU_ASSERT_EQUAL(readout(o, "accesses"), 0.0);
    CU_ASSERT_EQUAL(readout(o, "translations"), 0.0);
    CU_ASSERT_EQUAL(readout(o, "done"), 1.0);
    sim_world_destroy(&w);
}

void test_trace_object_text_and_binary(void)
{
    static const char *const names[] = { "t.txt", "t.iotrace", NULL };
    struct trace_import_report rep;
    struct trace t;
    char txt[128], bin[128], err[512];
    FILE *f;

    mktmp();
    snprintf(txt, sizeof(txt), "%s/t.txt", tmpdir);
    snprintf(bin, sizeof(bin), "%s/t.iotrace", tmpdir);
    write_file(txt, trace_text, sizeof(trace_text) - 1);
    check_default_replay(txt);

    /* The same trace in the binary form. */
    trace_init(&t);
    f = fopen(txt, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL_FATAL(trace_import(f, txt, NULL, &t, &rep, err, sizeof(err)), 0);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(trace_file_write(bin, &t, err, sizeof(err)), 0);
    trace_free(&t);
    check_default_replay(bin);
    rmtmp(names);
}

void test_trace_object_params_reach_replay(void)
{
    static const char *const names[] = { "t.txt", NULL };
    /* One 8 KiB write per buffer: A's covers its two pages (2
     * translations), B's is cut to B's 4 KiB (1); spaced 1 us after each
     * map, inside both lives. At time_scale 2 the trace ends at 4200 us. */
    const char *extra[] = { "accesses", "1", "access_size", "8KiB", "write", "true",
                            "spacing", "1us", "time_scale", "2", "domain", "3",
                            "requester_id", "7", NULL };
    struct sim_world w;
    struct sim_object *o;
    char txt[128], err[512];

    mktmp();
    snprintf(txt, sizeof(txt), "%s/t.txt", tmpdir);
    write_file(txt, trace_text, sizeof(trace_text) - 1);
    machine(&w);
    CU_ASSERT_EQUAL_FATAL(add_replay(&w, txt, extra, err, sizeof(err)), 0);
    o = sim_world_find(&w, "sys.replay");
    CU_ASSERT_EQUAL_FATAL(sim_world_start(&w, err, sizeof(err)), 0);
    sim_run(&w.sim);
    CU_ASSERT_EQUAL(readout(o, "accesses"), 2.0);
    CU_ASSERT_EQUAL(readout(o, "bytes"), 8192.0 + 4096.0);
    CU_ASSERT_EQUAL(readout(o, "translations"), 3.0);
    CU_ASSERT_EQUAL(readout(o, "translation_faults"), 0.0);
    CU_ASSERT(w.sim.now >= UINT64_C(4200) * SIM_TICKS_PER_US);
    sim_world_destroy(&w);
    rmtmp(names);
}

void test_trace_object_errors(void)
{
    static const char *const names[] = { "bad.txt", "empty.txt", "t.iotrace", "cut.iotrace",
                                         NULL };
    const char *skip[] = { "skip_bad_lines", "true", NULL };
    const char *dom[] = { "domain", "64", NULL };
    char bad[128], empty[128], bin[128], cut[128], want[300], err[512];
    struct trace_import_report rep;
    struct sim_world w;
    struct trace t;
    FILE *f;
    char *buf;

    mktmp();
    snprintf(bad, sizeof(bad), "%s/bad.txt", tmpdir);
    snprintf(empty, sizeof(empty), "%s/empty.txt", tmpdir);
    snprintf(bin, sizeof(bin), "%s/t.iotrace", tmpdir);
    snprintf(cut, sizeof(cut), "%s/cut.iotrace", tmpdir);
    buf = malloc(sizeof(trace_text) + 16);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    snprintf(buf, sizeof(trace_text) + 16, "%sgarbage\n", trace_text);
    write_file(bad, buf, strlen(buf));
    free(buf);
    write_file(empty, "# tracer: nop\n#\n", 16);

    /* A malformed line: FILE:LINE after the object's path, one line. */
    machine(&w);
    CU_ASSERT_EQUAL(add_replay(&w, bad, NULL, err, sizeof(err)), SIM_EPARSE);
    snprintf(want, sizeof(want), "sys.replay: %s:6: ", bad);
    CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "(got 'garbage')"));
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    CU_ASSERT_PTR_NULL(sim_world_find(&w, "sys.replay"));
    /* ... unless bad lines are skipped, then counted. */
    CU_ASSERT_EQUAL_FATAL(add_replay(&w, bad, skip, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(readout(sim_world_find(&w, "sys.replay"), "bad_lines"), 1.0);
    sim_world_destroy(&w);

    machine(&w);
    CU_ASSERT_EQUAL(add_replay(&w, empty, NULL, err, sizeof(err)), SIM_EPARSE);
    snprintf(want, sizeof(want), "sys.replay: %s: no map, unmap or io_page_fault record", empty);
    CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);

    /* A binary trace cut short: the reader's refusal, with the file. */
    trace_init(&t);
    f = fmemopen((void *)trace_text, sizeof(trace_text) - 1, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL_FATAL(trace_import(f, "mem", NULL, &t, &rep, err, sizeof(err)), 0);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(trace_file_write(bin, &t, err, sizeof(err)), 0);
    trace_free(&t);
    CU_ASSERT_EQUAL_FATAL(truncate(bin, 100), 0);
    CU_ASSERT_EQUAL(rename(bin, cut), 0);
    CU_ASSERT_EQUAL(add_replay(&w, cut, NULL, err, sizeof(err)), SIM_EPARSE);
    snprintf(want, sizeof(want), "sys.replay: %s: ", cut);
    CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated or corrupt"));

    /* A missing file: the parameter's own check. */
    CU_ASSERT_EQUAL(add_replay(&w, bin, NULL, err, sizeof(err)), SIM_ENOENT);
    snprintf(want, sizeof(want), "sys.replay.trace: no such file (got '%s')", bin);
    CU_ASSERT_STRING_EQUAL(err, want);

    /* The default IOMMU has domains 0..63. */
    CU_ASSERT_EQUAL(add_replay(&w, empty, dom, err, sizeof(err)), SIM_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "sys.replay: domain: beyond the IOMMU's domains "
                                       "(got 64, expected < max_domains = 64"));
    sim_world_destroy(&w);
    rmtmp(names);
}
