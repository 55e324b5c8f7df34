/*
 * gen.h - synthetic iommu:map/unmap traces, as ftrace text.
 *
 * For tests, demos and the shipped sample: it writes what a kernel would
 * print for three driver behaviours, seeded and deterministic (same config,
 * same bytes). The patterns (docs/traces.md has the numbers):
 *  - nic:    a receive ring of `ring` one-page buffers; each packet unmaps
 *            its buffer and maps a fresh one into the slot (refill);
 *            exponential packet gaps.
 *  - nvme:   `qdepth` commands in flight, sizes from 4 KiB to 128 KiB,
 *            mapped at submission and unmapped at completion after an
 *            exponential service time (closed loop).
 *  - random: maps of 1..64 pages at Poisson times, each unmapped after an
 *            exponential lifetime.
 * IOVAs come from a Linux-like allocator: top-down below 4 GiB (a 32-bit
 * DMA mask), size-aligned, freed ranges reused last-in-first-out per size,
 * so addresses recur as on a real system. A generated trace never unmaps
 * what is not mapped and never maps over a live mapping.
 */
#ifndef SIM_TRACE_GEN_H
#define SIM_TRACE_GEN_H

#include <stdint.h>
#include <stdio.h>

enum trace_gen_pattern { TRACE_GEN_NIC, TRACE_GEN_NVME, TRACE_GEN_RANDOM };
enum trace_gen_form { TRACE_GEN_FORM_NEW, TRACE_GEN_FORM_OLD, TRACE_GEN_FORM_MIXED };
enum trace_gen_style {
    TRACE_GEN_STYLE_SYSFS,          /* /sys/kernel/tracing/trace */
    TRACE_GEN_STYLE_TRACECMD,       /* trace-cmd report -t */
    TRACE_GEN_STYLE_PERF,           /* perf script */
    TRACE_GEN_STYLE_MIXED,          /* one of the three per line */
};

struct trace_gen_cfg {
    enum trace_gen_pattern pattern;
    enum trace_gen_form form;
    enum trace_gen_style style;
    uint64_t seed;
    uint64_t count;                 /* packets, commands or buffers (> 0) */
    unsigned cpus;                  /* 1..4096 */
    unsigned ring;                  /* nic: ring entries (default 256) */
    unsigned qdepth;                /* nvme: commands in flight (default 32) */
    double gap_ns;                  /* mean gap between packets/maps (0: default) */
    uint64_t start_s;               /* the first timestamp's seconds */
};

/* Defaults for every field but pattern. */
void trace_gen_defaults(struct trace_gen_cfg *c);

/* Parse a pattern/form/style name; 0 or SIM_EINVAL. */
int trace_gen_pattern_parse(const char *s, enum trace_gen_pattern *out);
int trace_gen_form_parse(const char *s, enum trace_gen_form *out);
int trace_gen_style_parse(const char *s, enum trace_gen_style *out);

/* Write the trace text to @out. SIM_EINVAL (bad config, message in err),
 * SIM_ENOMEM, SIM_EIO. */
int trace_gen_write(FILE *out, const struct trace_gen_cfg *c, char *err, size_t errlen);

#endif /* SIM_TRACE_GEN_H */
