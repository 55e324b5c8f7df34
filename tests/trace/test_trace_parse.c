/*
 * test_trace_parse.c - the ftrace text parser and importer: every accepted
 * line form (tracing file, trace-cmd report, perf script; old and new printk
 * forms; flags, TGID and system-name variants), every rejection with its
 * exact message, line numbers through the importer, --skip-bad-lines, the
 * consistency warnings, sorting, and the live set's coverage arithmetic.
 * Expected values are read off the test lines by hand.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "engine/error.h"
#include "trace/trace.h"

void test_trace_parse_accepts(void);
void test_trace_parse_skips(void);
void test_trace_parse_rejects(void);
void test_trace_import_line_numbers(void);
void test_trace_import_checks_and_sort(void);
void test_trace_live_coverage(void);

static int parse(const char *s, struct trace_line *tl, char *msg, size_t len)
{
    return trace_line_parse(s, strlen(s), tl, msg, len);
}

struct ok_case {
    const char *line;
    enum trace_form form;
    unsigned op;
    uint32_t cpu;
    uint64_t sec, ps, iova, paddr, size, aux;
};

void test_trace_parse_accepts(void)
{
    static const struct ok_case cases[] = {
        /* /sys/kernel/tracing/trace, 5-char flags, new form */
        { "          <idle>-0       [001] d.h1.  1234.567890: map: IOMMU: "
          "iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x0000000123456000 size=4096",
          TRACE_FORM_NEW, TRACE_OP_MAP, 1, 1234, 567890000000, 0xfffff000, 0x123456000, 4096, 0 },
        /* older kernel: 4-char flags, old form, task with '/' ':' '-' */
        { "  kworker/u16:2-123   [003] ...1  5.000001: map: IOMMU: iova=0x0000000000001000 "
          "paddr=0x0000000000002000 size=8192",
          TRACE_FORM_OLD, TRACE_OP_MAP, 3, 5, 1000000, 0x1000, 0x2000, 8192, 0 },
        /* trace-cmd report -t: no flags, padded event name, ns timestamps */
        { "     fio-4321  [000]   100.123456789: unmap:                IOMMU: "
          "iova=0x00000000ffff0000 - 0x00000000ffff2000 size=8192 unmapped_size=8192",
          TRACE_FORM_NEW, TRACE_OP_UNMAP, 0, 100, 123456789000, 0xffff0000, 0, 8192, 8192 },
        /* old unmap form, a failed unmap (unmapped_size 0), short fraction */
        { "<idle>-0 [002] d..1. 7.5: unmap: IOMMU: iova=0x0000000000001000 size=4096 "
          "unmapped_size=0",
          TRACE_FORM_OLD, TRACE_OP_UNMAP, 2, 7, 500000000000, 0x1000, 0, 4096, 0 },
        /* perf script: pid after a space, system:event */
        { "         swapper     0 [005]  42.000100: iommu:map: IOMMU: iova=0x0000000000010000 "
          "paddr=0x0000000000020000 size=4096",
          TRACE_FORM_OLD, TRACE_OP_MAP, 5, 42, 100000000, 0x10000, 0x20000, 4096, 0 },
        /* TGID column, short hex, CRLF line end */
        { "          bash-1234  ( 1234) [000] .... 10.000000: map: IOMMU: iova=0x1000 "
          "- 0x3000 paddr=0x5000 size=8192\r\n",
          TRACE_FORM_NEW, TRACE_OP_MAP, 0, 10, 0, 0x1000, 0x5000, 8192, 0 },
        /* a task name with a space; 12 decimals (ps resolution) */
        { "  Web Content-4242  [001] .... 1.000000000001: unmap: IOMMU: iova=0x1000 size=4096 "
          "unmapped_size=4096",
          TRACE_FORM_OLD, TRACE_OP_UNMAP, 1, 1, 1, 0x1000, 0, 4096, 4096 },
        /* io_page_fault: driver and device after IOMMU: */
        { "  irq/25-AMD-Vi-100 [000] d..1. 3.000000: io_page_fault: IOMMU:amd_iommu "
          "0000:01:00.0 iova=0x0000000000dead00 flags=0x0010",
          TRACE_FORM_NONE, TRACE_OP_FAULT, 0, 3, 0, 0xdead00, 0, 0, 0x10 },
        /* the mapping that ends at 2^64: end prints as 0 */
        { "x-1 [000] 1.0: map: IOMMU: iova=0xfffffffffffff000 - 0x0000000000000000 "
          "paddr=0x1000 size=4096",
          TRACE_FORM_NEW, TRACE_OP_MAP, 0, 1, 0, 0xfffffffffffff000, 0x1000, 4096, 0 },
    };
    char msg[300];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct ok_case *c = &cases[i];
        struct trace_line tl;
        int r = parse(c->line, &tl, msg, sizeof(msg));

        if (r)
            fprintf(stderr, "\n    case %zu: %s\n", i, msg);
        CU_ASSERT_EQUAL_FATAL(r, 0);
        CU_ASSERT_EQUAL(tl.kind, TRACE_LINE_EVENT);
        CU_ASSERT_EQUAL(tl.form, c->form);
        CU_ASSERT_EQUAL(tl.rec.op, c->op);
        CU_ASSERT_EQUAL(tl.rec.cpu, c->cpu);
        CU_ASSERT_EQUAL(tl.sec, c->sec);
        CU_ASSERT_EQUAL(tl.ps, c->ps);
        CU_ASSERT_EQUAL(tl.rec.iova, c->iova);
        CU_ASSERT_EQUAL(tl.rec.paddr, c->paddr);
        CU_ASSERT_EQUAL(tl.rec.size, c->size);
        CU_ASSERT_EQUAL(tl.rec.aux, c->aux);
    }
}

void test_trace_parse_skips(void)
{
    static const struct { const char *line; enum trace_line_kind kind; } cases[] = {
        { "# tracer: nop", TRACE_LINE_COMMENT },
        { "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION", TRACE_LINE_COMMENT },
        { "", TRACE_LINE_BLANK },
        { "   \t \n", TRACE_LINE_BLANK },
        { "cpus=4", TRACE_LINE_HEADER },
        { "CPU 2 is empty", TRACE_LINE_HEADER },
        { "CPU:1 [LOST 42 EVENTS]", TRACE_LINE_LOST },
        { "  <idle>-0 [001] d.h1. 1.000000: sched_switch: prev_comm=swapper/1 prev_pid=0",
          TRACE_LINE_OTHER },
        { "  bash-5 [000] .... 2.000000: attach_device_to_domain: IOMMU: device=0000:01:00.0",
          TRACE_LINE_OTHER },
        { "  bash-5 [000] .... 2.000000: sched:map: something else", TRACE_LINE_OTHER },
    };
    char msg[300];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct trace_line tl;

        CU_ASSERT_EQUAL_FATAL(parse(cases[i].line, &tl, msg, sizeof(msg)), 0);
        CU_ASSERT_EQUAL(tl.kind, cases[i].kind);
        if (tl.kind == TRACE_LINE_LOST)
            CU_ASSERT_EQUAL(tl.lost, 42);
    }
}

void test_trace_parse_rejects(void)
{
#define P "  <idle>-0 [001] d.h1. 12.000001: "
    static const struct { const char *line, *msg; } cases[] = {
        { "hello world",
          "expected an ftrace line 'TASK-PID [CPU] TIMESTAMP: EVENT: ...' (got 'hello')" },
        { "nopid [001] 1.0: map: IOMMU: iova=0x1000 paddr=0x1000 size=4096",
          "expected TASK-PID before the CPU column (got 'nopid')" },
        { "  <idle>-0 [001] dh 1.000000: map: IOMMU: iova=0x1000 paddr=0x1000 size=4096",
          "expected irq flags such as 'd..1.' or a timestamp such as '1234.567890:' (got 'dh')" },
        { "  <idle>-0 [001] d.h1. 12: map: IOMMU: iova=0x1000 paddr=0x1000 size=4096",
          "expected a timestamp such as '1234.567890:' (got '12:')" },
        { "  <idle>-0 [001] d.h1. 1.0000000000001: map: IOMMU: iova=0x1 paddr=0x1 size=1",
          "expected a timestamp with at most 12 decimals (got '1.0000000000001:')" },
        { "  <idle>-0 [001] d.h1. 1.000000: map IOMMU: iova=0x1000 paddr=0x1000 size=4096",
          "expected an event name followed by ':' (such as 'map:') (got 'map')" },
        { P "map: iova=0x1000 paddr=0x1000 size=4096",
          "expected 'IOMMU:' after the event name (got 'iova=0x1000')" },
        { P "map: IOMMU: iova=0xzz paddr=0x1000 size=4096",
          "expected iova as 0x followed by 1 to 16 hex digits (got '0xzz')" },
        { P "map: IOMMU: iova=4096 paddr=0x1000 size=4096",
          "expected iova as 0x followed by hex digits (got '4096')" },
        { P "map: IOMMU: iova=0x10000000000000000 paddr=0x1000 size=4096",
          "expected iova as 0x followed by 1 to 16 hex digits (got '0x10000000000000000')" },
        { P "map: IOMMU: iova=0x1000 size=4096",
          "expected 'paddr=' (got 'size=4096')" },
        { P "map: IOMMU: iova=0x1000 paddr=0x2000",
          "expected 'size=' (got end of line)" },
        { P "map: IOMMU: iova=0x1000 paddr=0x2000 size=4k",
          "expected size as a decimal number (got '4k')" },
        { P "map: IOMMU: iova=0x1000 paddr=0x2000 size=99999999999999999999",
          "expected size as a decimal number below 2^64 (got '99999999999999999999')" },
        { P "map: IOMMU: iova=0x1000 paddr=0x2000 size=4096 extra",
          "expected end of line after size=N (got 'extra')" },
        { P "map: IOMMU: iova=0x1000 - 0x3000 paddr=0x2000 size=4096",
          "expected the end address iova + size = 0x0000000000002000 (got 'size=4096')" },
        { P "map: IOMMU: iova=0xfffffffffffff000 paddr=0x2000 size=8192",
          "expected iova + size within 2^64 (got 'size=8192')" },
        { P "map: IOMMU: iova=0x1000 - paddr=0x2000 size=4096",
          "expected the end address as 0x followed by hex digits (got 'paddr=0x2000')" },
        { P "unmap: IOMMU: iova=0x1000 size=4096",
          "expected 'unmapped_size=' (got end of line)" },
        { P "unmap: IOMMU: iova=0x1000 - 0x2000 size=4096 unmapped_size=4096 x",
          "expected end of line after unmapped_size=N (got 'x')" },
        { P "io_page_fault: IOMMU:amd_iommu iova=0x1 flags=0x0",
          "expected 'DRIVER DEVICE iova=...' after 'IOMMU:' (got 'iova=0x1')" },
        { P "io_page_fault: IOMMU:amd_iommu 0000:01:00.0 iova=0x1",
          "expected 'flags=' (got end of line)" },
    };
#undef P
    char msg[300];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct trace_line tl;
        int r = parse(cases[i].line, &tl, msg, sizeof(msg));

        CU_ASSERT_EQUAL(r, SIM_EPARSE);
        if (r != SIM_EPARSE || strcmp(msg, cases[i].msg) != 0)
            fprintf(stderr, "\n    case %zu: got \"%s\"\n    want \"%s\"\n", i,
                    r ? msg : "(accepted)", cases[i].msg);
        CU_ASSERT_STRING_EQUAL(msg, cases[i].msg);
    }
    {
        static const char nul[] = "  <idle>-0 [001] d.h1. 1.0: map: \0 IOMMU:";
        struct trace_line tl;

        CU_ASSERT_EQUAL(trace_line_parse(nul, sizeof(nul) - 1, &tl, msg, sizeof(msg)),
                        SIM_EPARSE);
        CU_ASSERT_STRING_EQUAL(msg, "expected text (got a NUL byte)");
    }
}

/* --- The importer -------------------------------------------------------- */

struct warns {
    char text[8][300];
    unsigned n;
};

static void collect(void *ctx, const char *msg)
{
    struct warns *w = ctx;

    if (w->n < 8)
        snprintf(w->text[w->n], sizeof(w->text[0]), "%s", msg);
    w->n++;
}

static int import_text(const char *text, bool skip, struct trace *t,
                       struct trace_import_report *rep, struct warns *w, char *err, size_t len)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    struct trace_import_opts o = { skip, collect, w, 0 };
    int r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    trace_init(t);
    r = trace_import(f, "mem.txt", &o, t, rep, err, len);
    fclose(f);
    return r;
}

#define L(ts, body) "  <idle>-0 [000] d.h1. " ts ": " body "\n"

void test_trace_import_line_numbers(void)
{
    static const char text[] =
        "# tracer: nop\n"
        L("1.000000", "map: IOMMU: iova=0x1000 paddr=0x2000 size=4096")
        "\n"
        L("1.000002", "map: IOMMU: iova=0x2000 paddr=0x3000 size=4k")
        L("1.000003", "unmap: IOMMU: iova=0x1000 size=4096 unmapped_size=4096")
        "garbage\n"
        L("1.000004", "unmap: IOMMU: iova=0x2000 - 0x3000 size=4096 unmapped_size=4096");
    struct trace_import_report rep;
    struct warns w = { .n = 0 };
    struct trace t;
    char err[400];

    /* Without skipping: the first bad line (4) fails the whole file. */
    CU_ASSERT_EQUAL(import_text(text, false, &t, &rep, &w, err, sizeof(err)), SIM_EPARSE);
    CU_ASSERT_STRING_EQUAL(err, "mem.txt:4: expected size as a decimal number (got '4k')");
    CU_ASSERT_EQUAL(t.n, 0);
    CU_ASSERT_PTR_NULL(t.recs);

    /* Skipping: lines 4 and 6 are counted and reported, the rest imported.
     * The unmap of 0x2000 (line 7) now unmaps what line 4 failed to map. */
    memset(&w, 0, sizeof(w));
    CU_ASSERT_EQUAL_FATAL(import_text(text, true, &t, &rep, &w, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(rep.bad_lines, 2);
    CU_ASSERT_EQUAL(rep.lines, 7);
    CU_ASSERT_EQUAL(rep.maps, 1);
    CU_ASSERT_EQUAL(rep.unmaps, 2);
    CU_ASSERT_EQUAL(rep.comments, 2);
    CU_ASSERT_EQUAL(rep.old_form, 2);
    CU_ASSERT_EQUAL(rep.new_form, 1);
    CU_ASSERT_EQUAL(rep.unmap_unmapped, 1);
    CU_ASSERT_EQUAL(t.n, 3);
    CU_ASSERT_EQUAL_FATAL(w.n, 3);
    CU_ASSERT_STRING_EQUAL(w.text[0], "mem.txt:4: expected size as a decimal number "
                           "(got '4k') (line skipped)");
    CU_ASSERT_STRING_EQUAL(w.text[1], "mem.txt:6: expected an ftrace line 'TASK-PID [CPU] "
                           "TIMESTAMP: EVENT: ...' (got 'garbage') (line skipped)");
    CU_ASSERT_STRING_EQUAL(w.text[2], "mem.txt:7: warning: unmap of iova 0x2000 size 4096: "
                           "4096 bytes were not mapped");
    /* Times relative to the first record (1.000000 s), in ps. */
    CU_ASSERT_EQUAL(t.base_s, 1);
    CU_ASSERT_EQUAL(t.base_ps, 0);
    CU_ASSERT_EQUAL(t.recs[0].t, 0);
    CU_ASSERT_EQUAL(t.recs[1].t, 3000000);
    CU_ASSERT_EQUAL(t.recs[2].t, 4000000);
    trace_free(&t);

    /* A file with no events at all imports as an empty trace. */
    CU_ASSERT_EQUAL(import_text("# nothing\n\n", false, &t, &rep, &w, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(t.n, 0);
}

void test_trace_import_checks_and_sort(void)
{
    static const char text[] =
        L("5.000010", "map: IOMMU: iova=0x10000 paddr=0x2000 size=8192")
        L("5.000020", "map: IOMMU: iova=0x11000 paddr=0x9000 size=4096")
        L("5.000005", "map: IOMMU: iova=0x40000 paddr=0x3000 size=4096")
        L("5.000030", "unmap: IOMMU: iova=0x10000 size=16384 unmapped_size=8192")
        L("5.000040", "io_page_fault: IOMMU:dmar0 0000:00:02.0 iova=0x10000 flags=0x0002")
        "CPU:0 [LOST 7 EVENTS]\n";
    struct trace_import_report rep;
    struct warns w = { .n = 0 };
    struct trace t;
    char err[400];

    CU_ASSERT_EQUAL_FATAL(import_text(text, false, &t, &rep, &w, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(rep.out_of_order, 1);
    CU_ASSERT_EQUAL(rep.lost_events, 7);
    CU_ASSERT_EQUAL(rep.faults, 1);
    /* Line 2 maps 0x11000 inside line 1's [0x10000, 0x12000). */
    CU_ASSERT_EQUAL(rep.map_overlaps, 1);
    /* Line 4 unmaps [0x10000, 0x14000): 0x12000-0x13fff were never mapped. */
    CU_ASSERT_EQUAL(rep.unmap_unmapped, 1);
    CU_ASSERT_EQUAL_FATAL(t.n, 5);
    /* Sorted: line 3 (5.000005) first, and it is the origin. */
    CU_ASSERT_EQUAL(t.base_s, 5);
    CU_ASSERT_EQUAL(t.base_ps, 5000000);
    CU_ASSERT_EQUAL(t.recs[0].iova, 0x40000);
    CU_ASSERT_EQUAL(t.recs[0].t, 0);
    CU_ASSERT_EQUAL(t.recs[1].t, 5000000);
    CU_ASSERT_EQUAL(t.recs[4].op, TRACE_OP_FAULT);
    CU_ASSERT_EQUAL(t.recs[4].aux, 2);
    CU_ASSERT_EQUAL(t.recs[3].aux, 8192);
    /* Warnings: lost events (line 6), the sort, then the checks by line. */
    CU_ASSERT_EQUAL_FATAL(w.n, 4);
    CU_ASSERT_STRING_EQUAL(w.text[0], "mem.txt:6: warning: the kernel lost 7 events here; "
                           "maps or unmaps may be missing");
    CU_ASSERT_STRING_EQUAL(w.text[1], "mem.txt: warning: 1 records were earlier than the "
                           "record before them; sorted by time");
    CU_ASSERT_STRING_EQUAL(w.text[2], "mem.txt:2: warning: map of iova 0x11000 size 4096 "
                           "overlaps a live mapping (mapped at line 1; another domain?)");
    CU_ASSERT_STRING_EQUAL(w.text[3], "mem.txt:4: warning: unmap of iova 0x10000 size 16384: "
                           "8192 bytes were not mapped");
    trace_free(&t);
}

/* --- Live set -------------------------------------------------------------- */

static uint64_t touched[8];
static unsigned ntouched;

static void touch(void *ctx, uint64_t id)
{
    (void)ctx;
    if (ntouched < 8)
        touched[ntouched] = id;
    ntouched++;
}

void test_trace_live_coverage(void)
{
    struct trace_live l;
    uint64_t unc, other = 99;

    trace_live_init(&l);
    /* A = [0x1000, 0x4000), B = [0x8000, 0x9000) */
    CU_ASSERT_EQUAL(trace_live_map(&l, 0x1000, 0x3000, 1, &other), 0);
    CU_ASSERT_EQUAL(trace_live_map(&l, 0x8000, 0x1000, 2, &other), 0);
    CU_ASSERT_EQUAL(trace_live_map(&l, 0x3000, 0x2000, 3, &other), 1);    /* hits A */
    CU_ASSERT_EQUAL(other, 1);
    CU_ASSERT_EQUAL(trace_live_unmap(&l, 0x3000, 0x2000, NULL, NULL, &unc), 0);
    /* C was inserted although it overlapped; [0x3000, 0x5000) is A's tail
     * plus C: fully covered. A is cut to [0x1000, 0x3000). */
    CU_ASSERT_EQUAL(unc, 0);
    /* The last page of what remains of A: fully covered. */
    ntouched = 0;
    CU_ASSERT_EQUAL(trace_live_unmap(&l, 0x2000, 0x1000, touch, NULL, &unc), 0);
    CU_ASSERT_EQUAL(unc, 0);
    CU_ASSERT_EQUAL(ntouched, 1);
    CU_ASSERT_EQUAL(touched[0], 1);
    /* [0x1000, 0x2000) remains of A; unmapping [0x0, 0x9000) covers it and B:
     * 0x1000 + 0x1000 of 0x9000 bytes are mapped. */
    ntouched = 0;
    CU_ASSERT_EQUAL(trace_live_unmap(&l, 0x0, 0x9000, touch, NULL, &unc), 0);
    CU_ASSERT_EQUAL(unc, 0x9000 - 0x2000);
    CU_ASSERT_EQUAL(ntouched, 2);
    CU_ASSERT_EQUAL(l.n, 0);
    /* The top of the address space: [2^64 - 8 KiB, 2^64). */
    CU_ASSERT_EQUAL(trace_live_map(&l, UINT64_C(0xffffffffffffe000), 0x2000, 4, NULL), 0);
    CU_ASSERT_EQUAL(trace_live_unmap(&l, UINT64_C(0xfffffffffffff000), 0x1000, NULL, NULL,
                                     &unc), 0);
    CU_ASSERT_EQUAL(unc, 0);
    CU_ASSERT_EQUAL(l.n, 1);
    CU_ASSERT_EQUAL(l.e[0].last, UINT64_C(0xffffffffffffefff));
    trace_live_free(&l);
}
