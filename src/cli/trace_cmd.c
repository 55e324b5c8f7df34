/*
 * trace_cmd.c - `iommusim trace import|info|gen|replay`.
 *
 * The front end of src/trace: convert ftrace text into a binary trace,
 * summarise one, make synthetic text traces, and replay one through the
 * generic IOMMU. Exit status: 0 ok, 1 an output could not be written or a
 * replay failed, 2 usage error or bad input (malformed text, a file that
 * is not a trace, a missing file). Outputs are written atomically: a
 * failing command leaves no output file behind and never a partial one.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/error.h"
#include "iommu/models/generic.h"
#include "mem/memory.h"
#include "trace/gen.h"
#include "trace/replay.h"
#include "trace/trace.h"

static void trace_usage(FILE *out)
{
    fprintf(out,
        "usage: iommusim trace import IN.txt -o OUT.iotrace [--skip-bad-lines] [-q]\n"
        "       iommusim trace info FILE.iotrace\n"
        "       iommusim trace gen --pattern nic|nvme|random -o OUT.txt [--seed N]\n"
        "                [--count N] [--cpus N] [--ring N] [--qdepth N] [--gap NS]\n"
        "                [--format new|old|mixed] [--style sysfs|trace-cmd|perf|mixed]\n"
        "       iommusim trace replay FILE.iotrace [--accesses N] [--spacing NS]\n"
        "                [--access-size BYTES] [--time-scale X] [--write]\n"
        "\n"
        "import   convert the text of the iommu:map/unmap/io_page_fault tracepoints\n"
        "         (/sys/kernel/tracing/trace, trace-cmd report, perf script) into a\n"
        "         binary trace; a malformed line is an error (FILE:LINE: ...) and\n"
        "         nothing is written, unless --skip-bad-lines (then they are counted)\n"
        "info     counts, time span, CPUs and the map size histogram of a binary trace\n"
        "gen      write a synthetic, seeded ftrace text trace (docs/traces.md)\n"
        "replay   replay a binary trace through the generic IOMMU with N device\n"
        "         accesses to each buffer between its map and its unmap\n"
        "\n"
        "exit status: 0 ok, 1 output or simulation error, 2 usage error or bad input\n");
}

/* Parse a whole decimal number in [lo, hi]. */
static int parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "iommusim trace: %s: expected a whole number from %" PRIu64 " to %"
                PRIu64 " (got '%s')\n", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (!*s || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "iommusim trace: %s: expected a number from %g to %g (got '%s')\n",
                opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* --- import -------------------------------------------------------------- */

struct warn_ctx {
    unsigned printed;
    bool quiet;
};

static void print_warning(void *ctx, const char *msg)
{
    struct warn_ctx *w = ctx;

    if (!w->quiet)
        fprintf(stderr, "%s\n", msg);
    w->printed++;
}

static int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "skip-bad-lines", no_argument, NULL, 's' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    struct trace_import_opts io = { 0 };
    struct trace_import_report rep;
    struct warn_ctx wc = { 0, false };
    const char *outpath = NULL, *inpath;
    struct trace t;
    char err[600];
    FILE *in;
    int c, r;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': outpath = optarg; break;
        case 's': io.skip_bad_lines = true; break;
        case 'q': wc.quiet = true; break;
        case 'h': trace_usage(stdout); return 0;
        default:
            fprintf(stderr, "iommusim trace import: try 'iommusim trace --help'\n");
            return 2;
        }
    }
    if (optind + 1 != argc || !outpath) {
        fprintf(stderr, "iommusim trace import: expected one input file and -o OUTPUT "
                "(usage: iommusim trace import IN.txt -o OUT.iotrace)\n");
        return 2;
    }
    inpath = argv[optind];
    in = strcmp(inpath, "-") == 0 ? stdin : fopen(inpath, "r");
    if (!in) {
        fprintf(stderr, "%s: cannot open: %s\n", inpath, strerror(errno));
        return 2;
    }
    io.warn = print_warning;
    io.warn_ctx = &wc;
    trace_init(&t);
    r = trace_import(in, inpath, &io, &t, &rep, err, sizeof(err));
    if (in != stdin)
        fclose(in);
    if (r) {
        fprintf(stderr, "%s\n", err);
        if (r == SIM_EPARSE)
            fprintf(stderr, "iommusim trace import: nothing written (use --skip-bad-lines "
                    "to import the lines that parse)\n");
        return r == SIM_ENOMEM || r == SIM_EIO ? 1 : 2;
    }
    if (t.n == 0) {
        fprintf(stderr, "%s: no iommu map, unmap or io_page_fault events in %" PRIu64
                " lines (expected lines such as '<idle>-0 [001] d.h1. 12.345678: map: IOMMU: "
                "iova=0x... paddr=0x... size=4096'); nothing written\n", inpath, rep.lines);
        return 2;
    }
    r = trace_file_write(outpath, &t, err, sizeof(err));
    trace_free(&t);
    if (r) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (!wc.quiet) {
        printf("%s: %" PRIu64 " lines: %" PRIu64 " maps, %" PRIu64 " unmaps, %" PRIu64
               " page faults (%" PRIu64 " old form, %" PRIu64 " new form)\n", inpath,
               rep.lines, rep.maps, rep.unmaps, rep.faults, rep.old_form, rep.new_form);
        printf("  skipped: %" PRIu64 " comment/header lines, %" PRIu64 " other events, %"
               PRIu64 " bad lines\n", rep.comments, rep.other_events, rep.bad_lines);
        printf("  warnings: %" PRIu64 " unmaps of unmapped iova, %" PRIu64
               " overlapping maps, %" PRIu64 " out of order, %" PRIu64 " events lost\n",
               rep.unmap_unmapped, rep.map_overlaps, rep.out_of_order, rep.lost_events);
        printf("wrote %s (%" PRIu64 " records)\n", outpath, rep.maps + rep.unmaps + rep.faults);
    }
    return 0;
}

/* --- info ---------------------------------------------------------------- */

static int cmd_info(int argc, char **argv)
{
    uint64_t n[4] = { 0 }, hist[65] = { 0 }, bytes = 0, minsz = UINT64_MAX, maxsz = 0;
    uint64_t peak_n = 0, peak_bytes = 0, live_bytes = 0, uncovered;
    unsigned char seen[4096 / 8] = { 0 };
    unsigned ncpus = 0, cpu_over = 0;
    struct trace_live live;
    struct trace t;
    char err[600];
    int r;

    if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        trace_usage(stdout);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "iommusim trace info: expected one trace file (usage: iommusim "
                "trace info FILE.iotrace)\n");
        return 2;
    }
    trace_init(&t);
    if ((r = trace_file_read(argv[1], &t, err, sizeof(err))) != 0) {
        fprintf(stderr, "%s\n", err);
        return r == SIM_ENOMEM ? 1 : 2;
    }
    trace_live_init(&live);
    for (size_t i = 0; i < t.n; i++) {
        const struct trace_rec *x = &t.recs[i];

        n[x->op]++;
        if (x->cpu < 4096) {
            if (!(seen[x->cpu / 8] & (1u << (x->cpu % 8))))
                ncpus++;
            seen[x->cpu / 8] |= (unsigned char)(1u << (x->cpu % 8));
        } else {
            cpu_over++;
        }
        if (x->op == TRACE_OP_MAP) {
            unsigned b = 0;

            while (b < 64 && (UINT64_C(1) << b) < x->size)
                b++;
            hist[b]++;
            bytes += x->size;
            minsz = x->size < minsz ? x->size : minsz;
            maxsz = x->size > maxsz ? x->size : maxsz;
            if (trace_live_map(&live, x->iova, x->size, i, NULL) < 0)
                goto nomem;
            live_bytes += x->size;
        } else if (x->op == TRACE_OP_UNMAP) {
            if (trace_live_unmap(&live, x->iova, x->size, NULL, NULL, &uncovered))
                goto nomem;
            live_bytes -= x->size - uncovered < live_bytes ? x->size - uncovered : live_bytes;
        }
        if (live.n > peak_n)
            peak_n = live.n;
        if (live_bytes > peak_bytes)
            peak_bytes = live_bytes;
    }
    printf("%s: iommusim trace v%u, %zu records\n", argv[1], TRACE_FILE_VERSION, t.n);
    printf("  maps %" PRIu64 ", unmaps %" PRIu64 ", page faults %" PRIu64 "\n",
           n[TRACE_OP_MAP], n[TRACE_OP_UNMAP], n[TRACE_OP_FAULT]);
    printf("  origin %" PRIu64 ".%012" PRIu64 " s (the first record's timestamp)\n",
           t.base_s, t.base_ps);
    printf("  time span %.6f us\n", t.n ? (double)t.recs[t.n - 1].t / 1e6 : 0.0);
    printf("  cpus %u%s\n", ncpus, cpu_over ? " (and ids >= 4096)" : "");
    if (n[TRACE_OP_MAP]) {
        printf("  map sizes: min %" PRIu64 ", mean %.1f, max %" PRIu64 " bytes; %" PRIu64
               " bytes mapped in all\n", minsz, (double)bytes / (double)n[TRACE_OP_MAP],
               maxsz, bytes);
        printf("  peak live: %" PRIu64 " mapped ranges, %" PRIu64 " bytes\n", peak_n,
               peak_bytes);
        printf("  map size histogram (size <= bound):\n");
        for (unsigned b = 0; b < 65; b++) {
            if (!hist[b])
                continue;
            if (b >= 30)
                printf("    %6" PRIu64 " GiB %12" PRIu64 "\n", UINT64_C(1) << (b - 30), hist[b]);
            else if (b >= 20)
                printf("    %6" PRIu64 " MiB %12" PRIu64 "\n", UINT64_C(1) << (b - 20), hist[b]);
            else if (b >= 10)
                printf("    %6" PRIu64 " KiB %12" PRIu64 "\n", UINT64_C(1) << (b - 10), hist[b]);
            else
                printf("    %6" PRIu64 " B   %12" PRIu64 "\n", UINT64_C(1) << b, hist[b]);
        }
    }
    trace_live_free(&live);
    trace_free(&t);
    return 0;

nomem:
    fprintf(stderr, "%s: out of memory\n", argv[1]);
    trace_live_free(&live);
    trace_free(&t);
    return 1;
}

/* --- gen ----------------------------------------------------------------- */

static int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        { "output", required_argument, NULL, 'o' },
        { "pattern", required_argument, NULL, 'p' },
        { "seed", required_argument, NULL, 'S' },
        { "count", required_argument, NULL, 'n' },
        { "cpus", required_argument, NULL, 'c' },
        { "ring", required_argument, NULL, 'r' },
        { "qdepth", required_argument, NULL, 'Q' },
        { "gap", required_argument, NULL, 'g' },
        { "format", required_argument, NULL, 'f' },
        { "style", required_argument, NULL, 'y' },
        { "start", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    struct trace_gen_cfg cfg;
    const char *outpath = NULL;
    bool have_pattern = false;
    char *buf = NULL, err[400];
    size_t len = 0;
    uint64_t v;
    FILE *mem;
    int c, r;

    trace_gen_defaults(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': outpath = optarg; break;
        case 'p':
            if (trace_gen_pattern_parse(optarg, &cfg.pattern)) {
                fprintf(stderr, "iommusim trace gen: --pattern: expected nic, nvme or random "
                        "(got '%s')\n", optarg);
                return 2;
            }
            have_pattern = true;
            break;
        case 'S':
            if (parse_u64("--seed", optarg, 0, UINT64_MAX, &cfg.seed))
                return 2;
            break;
        case 'n':
            if (parse_u64("--count", optarg, 1, 100000000, &cfg.count))
                return 2;
            break;
        case 'c':
            if (parse_u64("--cpus", optarg, 1, 4096, &v))
                return 2;
            cfg.cpus = (unsigned)v;
            break;
        case 'r':
            if (parse_u64("--ring", optarg, 1, 65536, &v))
                return 2;
            cfg.ring = (unsigned)v;
            break;
        case 'Q':
            if (parse_u64("--qdepth", optarg, 1, 65536, &v))
                return 2;
            cfg.qdepth = (unsigned)v;
            break;
        case 'g':
            if (parse_double("--gap", optarg, 1, 1e12, &cfg.gap_ns))
                return 2;
            break;
        case 't':
            if (parse_u64("--start", optarg, 0, 1000000000, &cfg.start_s))
                return 2;
            break;
        case 'f':
            if (trace_gen_form_parse(optarg, &cfg.form)) {
                fprintf(stderr, "iommusim trace gen: --format: expected new, old or mixed "
                        "(got '%s')\n", optarg);
                return 2;
            }
            break;
        case 'y':
            if (trace_gen_style_parse(optarg, &cfg.style)) {
                fprintf(stderr, "iommusim trace gen: --style: expected sysfs, trace-cmd, perf "
                        "or mixed (got '%s')\n", optarg);
                return 2;
            }
            break;
        case 'h': trace_usage(stdout); return 0;
        default:
            fprintf(stderr, "iommusim trace gen: try 'iommusim trace --help'\n");
            return 2;
        }
    }
    if (optind != argc || !outpath || !have_pattern) {
        fprintf(stderr, "iommusim trace gen: expected --pattern nic|nvme|random and -o OUTPUT "
                "and no other arguments\n");
        return 2;
    }
    mem = open_memstream(&buf, &len);
    if (!mem) {
        fprintf(stderr, "iommusim trace gen: out of memory\n");
        return 1;
    }
    r = trace_gen_write(mem, &cfg, err, sizeof(err));
    if (fclose(mem) != 0 && !r) {
        r = SIM_ENOMEM;
        snprintf(err, sizeof(err), "trace gen: out of memory");
    }
    if (!r)
        r = trace_atomic_write(outpath, buf, len, err, sizeof(err));
    free(buf);
    if (r) {
        fprintf(stderr, "%s\n", err);
        return r == SIM_EINVAL ? 2 : 1;
    }
    return 0;
}

/* --- replay -------------------------------------------------------------- */

/*
 * The machine `trace replay` builds: the generic IOMMU with the quick-start
 * sizes (4-level tables, 4 KiB/2 MiB/1 GiB pages, a 64 x 4 IOTLB with 8
 * MSHRs, 2 walkers with 16-entry walk caches, 2 ns hits) over DRAM of 80 ns
 * and 2 channels of 25.6 GB/s. docs/traces.md states the same numbers.
 */
static void replay_machine(struct mem_cfg *mc, struct generic_cfg *gc)
{
    memset(mc, 0, sizeof(*mc));
    mc->latency = 80 * SIM_TICKS_PER_NS;
    mc->channels = 2;
    mc->interleave = 64;
    mc->bandwidth = UINT64_C(25600000000);
    mc->path = "system.mem";
    memset(gc, 0, sizeof(*gc));
    gc->levels = 4;
    gc->pgsize_bitmap = UINT64_C(0x40201000);
    gc->iotlb.policy = IOTLB_LRU;
    gc->iotlb.arr[0] = (struct iotlb_array_cfg){ 64, 4 };
    gc->iotlb.mshrs = 8;
    gc->walk.walkers = 2;
    gc->walk.pwc_entries[1] = gc->walk.pwc_entries[2] = gc->walk.pwc_entries[3] = 16;
    gc->hit_latency = 2 * SIM_TICKS_PER_NS;
    gc->lookup_ports = 1;
    gc->lookup_cycle = 1 * SIM_TICKS_PER_NS;
    gc->max_domains = 1;
    gc->max_devices = 1;
    gc->path = "system.iommu";
}

static int cmd_replay(int argc, char **argv)
{
    static const struct option opts[] = {
        { "accesses", required_argument, NULL, 'a' },
        { "spacing", required_argument, NULL, 's' },
        { "access-size", required_argument, NULL, 'z' },
        { "time-scale", required_argument, NULL, 'x' },
        { "write", no_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    struct trace_replay_cfg rc;
    struct trace_replay rp;
    struct trace_sink_generic sink;
    struct generic_iommu g;
    struct mem_cfg mc;
    struct generic_cfg gc;
    struct mem mem;
    struct sim sim;
    struct trace t;
    struct sim_exit ex;
    char err[600];
    double d;
    uint64_t v;
    int c, r, status = 0;

    trace_replay_cfg_defaults(&rc);
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (parse_u64("--accesses", optarg, 0, 1000000, &v))
                return 2;
            rc.accesses = (unsigned)v;
            break;
        case 's':
            if (parse_double("--spacing", optarg, 0, 1e12, &d))
                return 2;
            rc.spacing = (sim_tick_t)(d * 1000.0 + 0.5);
            break;
        case 'z':
            if (parse_u64("--access-size", optarg, 1, UINT64_C(1) << 30, &v))
                return 2;
            rc.access_size = (uint32_t)v;
            break;
        case 'x':
            if (parse_double("--time-scale", optarg, 1e-9, 1e9, &rc.time_scale))
                return 2;
            break;
        case 'w': rc.write = true; break;
        case 'h': trace_usage(stdout); return 0;
        default:
            fprintf(stderr, "iommusim trace replay: try 'iommusim trace --help'\n");
            return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "iommusim trace replay: expected one trace file (usage: iommusim "
                "trace replay FILE.iotrace [options])\n");
        return 2;
    }
    trace_init(&t);
    if ((r = trace_file_read(argv[optind], &t, err, sizeof(err))) != 0) {
        fprintf(stderr, "%s\n", err);
        return r == SIM_ENOMEM ? 1 : 2;
    }
    replay_machine(&mc, &gc);
    sim_init(&sim);
    if ((r = mem_init(&mem, &sim, &mc, err, sizeof(err))) != 0)
        goto out_sim;
    if ((r = generic_create(&g, &sim, &mem, &gc, err, sizeof(err))) != 0)
        goto out_mem;
    if ((r = trace_sink_generic_init(&sink, &g, 0, 0, err, sizeof(err))) != 0)
        goto out_g;
    if ((r = trace_replay_init(&rp, &sim, &t, &rc, &trace_sink_generic_ops, &sink, err,
                               sizeof(err))) != 0)
        goto out_sink;
    if ((r = trace_replay_start(&rp)) != 0) {
        sim_error_format(err, sizeof(err), r, "trace replay", "cannot schedule");
        goto out_rp;
    }
    ex = sim_run(&sim);
    printf("%s: replayed %" PRIu64 " records in %.6f us of simulated time (%" PRIu64
           " events)\n", argv[optind], rp.st.records, (double)ex.tick / 1e6, ex.events);
    printf("  maps %" PRIu64 " (errors %" PRIu64 "), unmaps %" PRIu64 " (errors %" PRIu64
           "), page-fault records %" PRIu64 "\n", rp.st.maps, rp.st.map_errors, rp.st.unmaps,
           rp.st.unmap_errors, rp.st.faults);
    printf("  accesses %" PRIu64 " (%" PRIu64 " bytes), skipped %" PRIu64 ", errors %"
           PRIu64 "\n", rp.st.accesses, rp.st.bytes, rp.st.accesses_skipped,
           rp.st.access_errors);
    printf("  translations %" PRIu64 ", faults %" PRIu64 ", mean latency %.3f ns, max %.3f "
           "ns\n", sink.st.translations, sink.st.faults,
           sink.st.translations ? sink.st.lat_sum / (double)sink.st.translations / 1e3 : 0.0,
           (double)sink.st.lat_max / 1e3);
    printf("  iotlb lookups %" PRIu64 ", hits %" PRIu64 " (%.2f%%), walks %" PRIu64 "\n",
           g.tlb.st.lookups, g.tlb.st.hits,
           g.tlb.st.lookups ? 100.0 * (double)g.tlb.st.hits / (double)g.tlb.st.lookups : 0.0,
           g.walker.st.walks);
out_rp:
    trace_replay_destroy(&rp);
out_sink:
    trace_sink_generic_destroy(&sink);
out_g:
    generic_destroy(&g);
out_mem:
    mem_destroy(&mem);
out_sim:
    sim_destroy(&sim);
    trace_free(&t);
    if (r) {
        fprintf(stderr, "%s\n", err);
        status = 1;
    }
    return status;
}

int cli_trace_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        trace_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "import") == 0)
        return cmd_import(argc - 1, argv + 1);
    if (strcmp(argv[1], "info") == 0)
        return cmd_info(argc - 1, argv + 1);
    if (strcmp(argv[1], "gen") == 0)
        return cmd_gen(argc - 1, argv + 1);
    if (strcmp(argv[1], "replay") == 0)
        return cmd_replay(argc - 1, argv + 1);
    fprintf(stderr, "iommusim trace: unknown command '%s' (expected import, info, gen or "
            "replay)\n", argv[1]);
    return 2;
}
