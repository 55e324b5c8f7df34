/*
 * gen.c - the synthetic trace generator (see gen.h).
 *
 * A tiny discrete-event loop: pending actions (a packet arrives, a command
 * completes, a buffer's life ends) sit in a binary heap ordered by (time,
 * sequence), and each is handled in time order, allocating and freeing
 * IOVAs as it goes and printing its trace lines at once. Handling in time
 * order is what makes the trace consistent: an IOVA is reused only after
 * the unmap that freed it has been printed. Times are whole nanoseconds,
 * printed with the precision of the chosen tool (microseconds for the
 * tracing file and perf, nanoseconds for `trace-cmd report -t` unless styles
 * are mixed); flooring keeps the printed times in order.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "engine/rng.h"
#include "trace/gen.h"

/* --- Names --------------------------------------------------------------- */

static int name_lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static const char *const pattern_names[] = { "nic", "nvme", "random" };
static const char *const form_names[] = { "new", "old", "mixed" };
static const char *const style_names[] = { "sysfs", "trace-cmd", "perf", "mixed" };

int trace_gen_pattern_parse(const char *s, enum trace_gen_pattern *out)
{
    int i = name_lookup(s, pattern_names, 3);

    if (i < 0)
        return SIM_EINVAL;
    *out = (enum trace_gen_pattern)i;
    return 0;
}

int trace_gen_form_parse(const char *s, enum trace_gen_form *out)
{
    int i = name_lookup(s, form_names, 3);

    if (i < 0)
        return SIM_EINVAL;
    *out = (enum trace_gen_form)i;
    return 0;
}

int trace_gen_style_parse(const char *s, enum trace_gen_style *out)
{
    int i = name_lookup(s, style_names, 4);

    if (i < 0)
        return SIM_EINVAL;
    *out = (enum trace_gen_style)i;
    return 0;
}

void trace_gen_defaults(struct trace_gen_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->form = TRACE_GEN_FORM_NEW;
    c->style = TRACE_GEN_STYLE_SYSFS;
    c->seed = 1;
    c->count = 1000;
    c->cpus = 4;
    c->ring = 256;
    c->qdepth = 32;
    c->start_s = 1000;
}

/* --- IOVA allocation: top-down, size-aligned, LIFO reuse per order ------- */

#define GEN_ORDERS 16               /* up to 2^15 pages = 128 MiB */
#define GEN_LIMIT  (UINT64_C(1) << 32)

struct iova_stack {
    uint64_t *v;
    size_t n, cap;
};

struct iova_alloc {
    uint64_t top;                   /* everything at or above is handed out */
    struct iova_stack free[GEN_ORDERS];
};

static unsigned order_of(uint64_t size)
{
    unsigned o = 0;

    while ((UINT64_C(4096) << o) < size)
        o++;
    return o;
}

static int iova_get(struct iova_alloc *a, uint64_t size, uint64_t *iova)
{
    unsigned o = order_of(size);
    uint64_t span = UINT64_C(4096) << o;

    if (o >= GEN_ORDERS)
        return SIM_ERANGE;
    if (a->free[o].n) {
        *iova = a->free[o].v[--a->free[o].n];
        return 0;
    }
    if (a->top < span + 4096)
        return SIM_ENOMEM;          /* below the first page: exhausted */
    a->top = (a->top - span) & ~(span - 1);
    *iova = a->top;
    return 0;
}

static int iova_put(struct iova_alloc *a, uint64_t iova, uint64_t size)
{
    struct iova_stack *s = &a->free[order_of(size)];

    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint64_t *p = realloc(s->v, cap * sizeof(*p));

        if (!p)
            return SIM_ENOMEM;
        s->v = p;
        s->cap = cap;
    }
    s->v[s->n++] = iova;
    return 0;
}

/* --- Pending actions ----------------------------------------------------- */

enum act { ACT_PACKET, ACT_COMPLETE, ACT_SUBMIT, ACT_MAP, ACT_UNMAP };

struct action {
    uint64_t t;                     /* ns since start */
    uint64_t seq;
    enum act what;
    uint64_t arg;                   /* packet number, slot or buffer */
};

struct buf {
    uint64_t iova, pa, size;
    unsigned cpu;
};

struct gen {
    const struct trace_gen_cfg *c;
    FILE *out;
    struct sim_rng rng;
    struct iova_alloc ia;
    struct action *heap;
    size_t nheap, capheap;
    uint64_t seq;
    struct buf *bufs;
    uint64_t issued;                /* nvme: commands submitted or queued to be */
};

static bool act_before(const struct action *x, const struct action *y)
{
    return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

static int push(struct gen *g, uint64_t t, enum act what, uint64_t arg)
{
    size_t i;

    if (g->nheap == g->capheap) {
        size_t cap = g->capheap ? g->capheap * 2 : 64;
        struct action *p = realloc(g->heap, cap * sizeof(*p));

        if (!p)
            return SIM_ENOMEM;
        g->heap = p;
        g->capheap = cap;
    }
    i = g->nheap++;
    g->heap[i] = (struct action){ t, g->seq++, what, arg };
    while (i && act_before(&g->heap[i], &g->heap[(i - 1) / 2])) {
        struct action tmp = g->heap[i];

        g->heap[i] = g->heap[(i - 1) / 2];
        g->heap[(i - 1) / 2] = tmp;
        i = (i - 1) / 2;
    }
    return 0;
}

static struct action pop(struct gen *g)
{
    struct action top = g->heap[0];
    size_t i = 0;

    g->heap[0] = g->heap[--g->nheap];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < g->nheap && act_before(&g->heap[l], &g->heap[m]))
            m = l;
        if (r < g->nheap && act_before(&g->heap[r], &g->heap[m]))
            m = r;
        if (m == i)
            break;
        struct action tmp = g->heap[i];

        g->heap[i] = g->heap[m];
        g->heap[m] = tmp;
        i = m;
    }
    return top;
}

/* --- Printing ------------------------------------------------------------ */

static void line(struct gen *g, uint64_t t_ns, const char *task, unsigned pid,
                 unsigned cpu, const char *flags, bool map, const struct buf *b)
{
    const struct trace_gen_cfg *c = g->c;
    uint64_t ns = c->start_s * UINT64_C(1000000000) + t_ns;
    unsigned long long sec = (unsigned long long)(ns / 1000000000u);
    unsigned long long frac = (unsigned long long)(ns % 1000000000u);
    enum trace_gen_style st = c->style;
    bool old = c->form == TRACE_GEN_FORM_OLD;
    const char *ev = map ? "map:" : "unmap:";
    char who[64];

    if (st == TRACE_GEN_STYLE_MIXED)
        st = (enum trace_gen_style)sim_rng_below(&g->rng, 3);
    if (c->form == TRACE_GEN_FORM_MIXED)
        old = sim_rng_below(&g->rng, 2) != 0;
    switch (st) {
    case TRACE_GEN_STYLE_TRACECMD:
        snprintf(who, sizeof(who), "%s-%u", task, pid);
        /* Nanoseconds (report -t), except among other styles: a file of one
         * clock has one precision, and mixing them would reorder lines. */
        if (c->style == TRACE_GEN_STYLE_MIXED)
            fprintf(g->out, "%16s [%03u] %6llu.%06llu: %-20s ", who, cpu, sec, frac / 1000, ev);
        else
            fprintf(g->out, "%16s [%03u] %6llu.%09llu: %-20s ", who, cpu, sec, frac, ev);
        break;
    case TRACE_GEN_STYLE_PERF:
        fprintf(g->out, "%16s %6u [%03u] %6llu.%06llu: iommu:%s ", task, pid, cpu, sec,
                frac / 1000, ev);
        break;
    default:
        snprintf(who, sizeof(who), "%s-%u", task, pid);
        fprintf(g->out, "%24s [%03u] %s %6llu.%06llu: %s ", who, cpu, flags, sec,
                frac / 1000, ev);
        break;
    }
    if (map && old)
        fprintf(g->out, "IOMMU: iova=0x%016" PRIx64 " paddr=0x%016" PRIx64 " size=%" PRIu64
                "\n", b->iova, b->pa, b->size);
    else if (map)
        fprintf(g->out, "IOMMU: iova=0x%016" PRIx64 " - 0x%016" PRIx64 " paddr=0x%016"
                PRIx64 " size=%" PRIu64 "\n", b->iova, b->iova + b->size, b->pa, b->size);
    else if (old)
        fprintf(g->out, "IOMMU: iova=0x%016" PRIx64 " size=%" PRIu64 " unmapped_size=%"
                PRIu64 "\n", b->iova, b->size, b->size);
    else
        fprintf(g->out, "IOMMU: iova=0x%016" PRIx64 " - 0x%016" PRIx64 " size=%" PRIu64
                " unmapped_size=%" PRIu64 "\n", b->iova, b->iova + b->size, b->size, b->size);
}

/* Map a fresh buffer of @size into @b. Physical pages between 4 and 8 GiB. */
static int buf_map(struct gen *g, struct buf *b, uint64_t size)
{
    int r = iova_get(&g->ia, size, &b->iova);

    if (r)
        return r;
    b->size = size;
    b->pa = (UINT64_C(1) << 32) + (sim_rng_below(&g->rng, UINT64_C(1) << 20) << 12);
    return 0;
}

static uint64_t exp_ns(struct gen *g, double mean)
{
    return (uint64_t)llround(sim_rng_exponential(&g->rng, mean));
}

/* --- Patterns ------------------------------------------------------------ */

static int nic_start(struct gen *g)
{
    int r = 0;

    for (unsigned i = 0; i < g->c->ring && !r; i++) {
        r = buf_map(g, &g->bufs[i], 4096);
        g->bufs[i].cpu = 0;
        if (!r)
            line(g, (uint64_t)i * 20, "ethtool", 2100, 0, "....1", true, &g->bufs[i]);
    }
    return r ? r : push(g, (uint64_t)g->c->ring * 20 + exp_ns(g, g->c->gap_ns), ACT_PACKET, 0);
}

/* A packet landed in slot k % ring: unmap it, refill the slot (NAPI). */
static int nic_packet(struct gen *g, const struct action *a)
{
    struct buf *b = &g->bufs[a->arg % g->c->ring];
    unsigned cpu = (unsigned)((a->arg / 64) % g->c->cpus);
    int r;

    line(g, a->t, "<idle>", 0, cpu, "..s1.", false, b);
    if ((r = iova_put(&g->ia, b->iova, b->size)) != 0 || (r = buf_map(g, b, 4096)) != 0)
        return r;
    line(g, a->t, "<idle>", 0, cpu, "..s1.", true, b);
    if (a->arg + 1 < g->c->count)
        return push(g, a->t + 1 + exp_ns(g, g->c->gap_ns), ACT_PACKET, a->arg + 1);
    return 0;
}

static const uint64_t nvme_sizes[] = { 4096, 4096, 4096, 8192, 16384, 32768, 65536, 131072 };

static int nvme_submit(struct gen *g, uint64_t t, uint64_t slot)
{
    struct buf *b = &g->bufs[slot];
    uint64_t size = nvme_sizes[sim_rng_below(&g->rng, 8)];
    int r = buf_map(g, b, size);

    if (r)
        return r;
    b->cpu = (unsigned)(slot % g->c->cpus);
    line(g, t, "fio", 4000 + b->cpu, b->cpu, "....1", true, b);
    /* Service time: mean 20 us. */
    return push(g, t + 1 + exp_ns(g, 20000.0), ACT_COMPLETE, slot);
}

static int nvme_start(struct gen *g)
{
    int r = 0;

    /* Queued, not submitted here: a completion may come before the last
     * initial submission, and lines must be printed in time order. */
    for (unsigned i = 0; i < g->c->qdepth && g->issued < g->c->count && !r; i++, g->issued++)
        r = push(g, (uint64_t)i * 100, ACT_SUBMIT, i);
    return r;
}

static int nvme_complete(struct gen *g, const struct action *a)
{
    struct buf *b = &g->bufs[a->arg];
    int r;

    line(g, a->t, "<idle>", 0, b->cpu, "d.h1.", false, b);
    if ((r = iova_put(&g->ia, b->iova, b->size)) != 0)
        return r;
    if (g->issued < g->c->count) {
        g->issued++;
        return push(g, a->t + (uint64_t)llround(g->c->gap_ns), ACT_SUBMIT, a->arg);
    }
    return 0;
}

static int random_map(struct gen *g, const struct action *a)
{
    struct buf *b = &g->bufs[a->arg];
    int r = buf_map(g, b, UINT64_C(4096) << sim_rng_below(&g->rng, 7));

    if (r)
        return r;
    b->cpu = (unsigned)sim_rng_below(&g->rng, g->c->cpus);
    line(g, a->t, "kworker", 100 + b->cpu, b->cpu, "....1", true, b);
    /* Lifetime: mean 50 us. */
    if ((r = push(g, a->t + 1 + exp_ns(g, 50000.0), ACT_UNMAP, a->arg)) != 0)
        return r;
    if (a->arg + 1 < g->c->count)
        return push(g, a->t + 1 + exp_ns(g, g->c->gap_ns), ACT_MAP, a->arg + 1);
    return 0;
}

static int random_unmap(struct gen *g, const struct action *a)
{
    struct buf *b = &g->bufs[a->arg];

    line(g, a->t, "kworker", 100 + b->cpu, b->cpu, "....1", false, b);
    return iova_put(&g->ia, b->iova, b->size);
}

static void header(struct gen *g)
{
    const struct trace_gen_cfg *c = g->c;

    if (c->style == TRACE_GEN_STYLE_TRACECMD || c->style == TRACE_GEN_STYLE_MIXED)
        fprintf(g->out, "cpus=%u\n", c->cpus);
    if (c->style == TRACE_GEN_STYLE_SYSFS || c->style == TRACE_GEN_STYLE_MIXED)
        fprintf(g->out,
                "# tracer: nop\n#\n"
                "# generated by iommusim trace gen --pattern %s --seed %" PRIu64
                " --count %" PRIu64 "\n#\n"
                "#                                _-----=> irqs-off/BH-disabled\n"
                "#                               / _----=> need-resched\n"
                "#                              | / _---=> hardirq/softirq\n"
                "#                              || / _--=> preempt-depth\n"
                "#                              ||| / _-=> migrate-disable\n"
                "#                              |||| /     delay\n"
                "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
                "#              | |         |   |||||     |         |\n",
                pattern_names[c->pattern], c->seed, c->count);
}

int trace_gen_write(FILE *out, const struct trace_gen_cfg *cfg, char *err, size_t errlen)
{
    struct trace_gen_cfg c = *cfg;
    struct gen g;
    size_t nbufs;
    int r = 0;

    if (c.count == 0 || c.count > UINT64_C(100000000))
        return sim_error_format(err, errlen, SIM_EINVAL, "--count", "expected 1 to 100000000 "
                                "(got %" PRIu64 ")", c.count);
    if (c.cpus == 0 || c.cpus > 4096)
        return sim_error_format(err, errlen, SIM_EINVAL, "--cpus", "expected 1 to 4096 "
                                "(got %u)", c.cpus);
    if (c.ring < 1 || c.ring > 65536 || c.qdepth < 1 || c.qdepth > 65536)
        return sim_error_format(err, errlen, SIM_EINVAL, "--ring/--qdepth", "expected 1 to "
                                "65536 (got %u, %u)", c.ring, c.qdepth);
    if (c.start_s > UINT64_C(1000000000))
        return sim_error_format(err, errlen, SIM_EINVAL, "--start", "expected at most 1e9 "
                                "seconds (got %" PRIu64 ")", c.start_s);
    if (!(c.gap_ns >= 0) || c.gap_ns > 1e12)
        return sim_error_format(err, errlen, SIM_EINVAL, "--gap", "expected 0 to 1e12 ns "
                                "(got %g)", c.gap_ns);
    if (c.gap_ns == 0)
        c.gap_ns = c.pattern == TRACE_GEN_NIC ? 120.0 : 1000.0;

    memset(&g, 0, sizeof(g));
    g.c = &c;
    g.out = out;
    g.ia.top = GEN_LIMIT;
    sim_rng_seed(&g.rng, c.seed, "trace.gen");
    nbufs = c.pattern == TRACE_GEN_NIC ? c.ring : c.pattern == TRACE_GEN_NVME ? c.qdepth
                                                                               : c.count;
    g.bufs = calloc(nbufs, sizeof(*g.bufs));
    if (!g.bufs)
        return sim_error_format(err, errlen, SIM_ENOMEM, "trace gen", NULL);
    header(&g);
    if (c.pattern == TRACE_GEN_NIC)
        r = nic_start(&g);
    else if (c.pattern == TRACE_GEN_NVME)
        r = nvme_start(&g);
    else
        r = push(&g, 0, ACT_MAP, 0);
    while (!r && g.nheap) {
        struct action a = pop(&g);

        switch (a.what) {
        case ACT_PACKET:   r = nic_packet(&g, &a); break;
        case ACT_COMPLETE: r = nvme_complete(&g, &a); break;
        case ACT_SUBMIT:   r = nvme_submit(&g, a.t, a.arg); break;
        case ACT_MAP:      r = random_map(&g, &a); break;
        case ACT_UNMAP:    r = random_unmap(&g, &a); break;
        }
    }
    if (!r && ferror(out))
        r = SIM_EIO;
    free(g.heap);
    free(g.bufs);
    for (unsigned i = 0; i < GEN_ORDERS; i++)
        free(g.ia.free[i].v);
    if (r == SIM_ENOMEM || r == SIM_ERANGE)
        return sim_error_format(err, errlen, r, "trace gen", "out of memory or IOVA space");
    if (r)
        return sim_error_format(err, errlen, r, "trace gen", "cannot write the output");
    return 0;
}
