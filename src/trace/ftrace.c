/*
 * ftrace.c - the Linux ftrace text importer for the iommu tracepoints.
 *
 * Accepts what /sys/kernel/tracing/trace, `trace-cmd report` and `perf
 * script` print for the `iommu:map`, `iommu:unmap` and `iommu:io_page_fault`
 * events (include/trace/events/iommu.h), in both printk forms: the older
 *     IOMMU: iova=0x%016llx paddr=0x%016llx size=%zu
 *     IOMMU: iova=0x%016llx size=%zu unmapped_size=%zu
 * and the newer one that prints the end address (iova + size) too:
 *     IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%zu
 *     IOMMU: iova=0x%016llx - 0x%016llx size=%zu unmapped_size=%zu
 * behind the usual prefix "TASK-PID [CPU] FLAGS TIMESTAMP: EVENT:", where the
 * flags column is optional (irq-info off, trace-cmd), a "(TGID)" column may
 * follow the task, perf separates the pid with a space, and the event name
 * may carry its system ("iommu:map:"). Comments, blank lines and trace-cmd's
 * header lines are skipped; well-formed lines of other events are counted
 * and ignored; anything else is an error naming the line and what was
 * expected there (docs/traces.md lists the forms).
 *
 * The parser is a cursor over one line and never allocates; the importer
 * keeps one record plus its absolute time and line number per event, sorts
 * only if the input was out of time order, then runs the consistency checks
 * (unmap of unmapped IOVA, overlapping maps; live.c) in time order.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "trace/trace.h"

/* --- The in-memory trace ------------------------------------------------- */

void trace_init(struct trace *t)
{
    memset(t, 0, sizeof(*t));
}

void trace_free(struct trace *t)
{
    free(t->recs);
    trace_init(t);
}

int trace_append(struct trace *t, const struct trace_rec *r)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        struct trace_rec *p = realloc(t->recs, cap * sizeof(*p));

        if (!p)
            return SIM_ENOMEM;
        t->recs = p;
        t->cap = cap;
    }
    t->recs[t->n++] = *r;
    return 0;
}

/* --- The line parser ----------------------------------------------------- */

struct cur {
    const char *p, *end;
    char *msg;
    size_t msglen;
};

static void skip_ws(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

/* "expected ... (got 'TOKEN')": the token is the next word at c->p (up to
 * 40 characters), or "end of line". Non-printable bytes are shown as '?'. */
static int fail(struct cur *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct cur *c, const char *fmt, ...)
{
    char what[200], got[48];
    const char *q = c->p;
    size_t n = 0;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    while (q < c->end && (*q == ' ' || *q == '\t'))
        q++;
    while (q < c->end && *q != ' ' && *q != '\t' && n < 40) {
        got[n++] = isprint((unsigned char)*q) ? *q : '?';
        q++;
    }
    got[n] = 0;
    if (n == 0)
        snprintf(c->msg, c->msglen, "%s (got end of line)", what);
    else
        snprintf(c->msg, c->msglen, "%s (got '%s%s')", what, got,
                 q < c->end && *q != ' ' && *q != '\t' ? "..." : "");
    return SIM_EPARSE;
}

static bool lit(struct cur *c, const char *s)
{
    size_t n = strlen(s);

    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* 0x followed by 1..16 hex digits, then a separator or the end. */
static int hex64(struct cur *c, const char *field, uint64_t *v)
{
    const char *s = c->p;
    uint64_t x = 0;
    int n = 0;

    if (!lit(c, "0x"))
        return fail(c, "expected %s as 0x followed by hex digits", field);
    for (; c->p < c->end && hexval(*c->p) >= 0; c->p++, n++)
        x = x << 4 | (uint64_t)hexval(*c->p);
    if (n == 0 || n > 16 || (c->p < c->end && *c->p != ' ' && *c->p != '\t')) {
        c->p = s;
        return fail(c, "expected %s as 0x followed by 1 to 16 hex digits", field);
    }
    *v = x;
    return 0;
}

/* Decimal, 1..20 digits, no overflow, then a separator or the end. */
static int dec64(struct cur *c, const char *field, uint64_t *v)
{
    const char *s = c->p;
    uint64_t x = 0;
    int n = 0;

    for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++, n++) {
        unsigned d = (unsigned)(*c->p - '0');

        if (x > (UINT64_MAX - d) / 10) {
            c->p = s;
            return fail(c, "expected %s as a decimal number below 2^64", field);
        }
        x = x * 10 + d;
    }
    if (n == 0 || (c->p < c->end && *c->p != ' ' && *c->p != '\t')) {
        c->p = s;
        return fail(c, "expected %s as a decimal number", field);
    }
    *v = x;
    return 0;
}

/* "name=" then a value; a single space separates fields in the kernel's
 * printk, but runs of blanks are tolerated (hand-edited files). */
static int field(struct cur *c, const char *name, bool hex, uint64_t *v)
{
    char want[40];

    skip_ws(c);
    snprintf(want, sizeof(want), "%s=", name);
    if (!lit(c, want))
        return fail(c, "expected '%s'", want);
    return hex ? hex64(c, name, v) : dec64(c, name, v);
}

static int at_eol(struct cur *c, const char *after)
{
    skip_ws(c);
    if (c->p < c->end)
        return fail(c, "expected end of line after %s", after);
    return 0;
}

/* "iova=0x... [- 0x...]": the optional end address is the newer form; it
 * must equal iova + size (mod 2^64, as the kernel computes it). */
static int iova_range(struct cur *c, uint64_t *iova, bool *has_end, uint64_t *end)
{
    int r = field(c, "iova", true, iova);

    if (r)
        return r;
    skip_ws(c);
    *has_end = false;
    if (c->p < c->end && *c->p == '-') {
        c->p++;
        skip_ws(c);
        r = hex64(c, "the end address", end);
        if (r)
            return r;
        *has_end = true;
    }
    return 0;
}

static int check_end(struct cur *c, const char *end_at, uint64_t iova, uint64_t size,
                     bool has_end, uint64_t end)
{
    if (has_end && end != iova + size) {
        c->p = end_at;
        return fail(c, "expected the end address iova + size = 0x%016" PRIx64,
                    iova + size);
    }
    if (size && size - 1 > UINT64_MAX - iova) {
        c->p = end_at;
        return fail(c, "expected iova + size within 2^64");
    }
    return 0;
}

static int body_map(struct cur *c, struct trace_line *out)
{
    uint64_t iova, end = 0, pa, size;
    bool has_end;
    const char *end_at;
    int r;

    r = iova_range(c, &iova, &has_end, &end);
    if (!r)
        r = field(c, "paddr", true, &pa);
    end_at = c->p;
    if (!r)
        r = field(c, "size", false, &size);
    if (!r)
        r = at_eol(c, "size=N");
    if (!r)
        r = check_end(c, end_at, iova, size, has_end, end);
    if (r)
        return r;
    out->form = has_end ? TRACE_FORM_NEW : TRACE_FORM_OLD;
    out->rec.op = TRACE_OP_MAP;
    out->rec.iova = iova;
    out->rec.paddr = pa;
    out->rec.size = size;
    return 0;
}

static int body_unmap(struct cur *c, struct trace_line *out)
{
    uint64_t iova, end = 0, size, unmapped;
    bool has_end;
    const char *end_at;
    int r;

    r = iova_range(c, &iova, &has_end, &end);
    end_at = c->p;
    if (!r)
        r = field(c, "size", false, &size);
    if (!r)
        r = field(c, "unmapped_size", false, &unmapped);
    if (!r)
        r = at_eol(c, "unmapped_size=N");
    if (!r)
        r = check_end(c, end_at, iova, size, has_end, end);
    if (r)
        return r;
    out->form = has_end ? TRACE_FORM_NEW : TRACE_FORM_OLD;
    out->rec.op = TRACE_OP_UNMAP;
    out->rec.iova = iova;
    out->rec.size = size;
    out->rec.aux = unmapped;
    return 0;
}

/* "IOMMU:DRIVER DEVICE iova=0x... flags=0x...": driver follows the colon. */
static int body_fault(struct cur *c, struct trace_line *out)
{
    uint64_t iova, flags;
    int words = 0, r;

    for (; words < 2; words++) {
        skip_ws(c);
        if (c->p >= c->end || (c->end - c->p >= 5 && memcmp(c->p, "iova=", 5) == 0))
            break;
        while (c->p < c->end && *c->p != ' ' && *c->p != '\t')
            c->p++;
    }
    if (words < 2)
        return fail(c, "expected 'DRIVER DEVICE iova=...' after 'IOMMU:'");
    r = field(c, "iova", true, &iova);
    if (!r)
        r = field(c, "flags", true, &flags);
    if (!r)
        r = at_eol(c, "flags=0x...");
    if (r)
        return r;
    out->rec.op = TRACE_OP_FAULT;
    out->rec.iova = iova;
    out->rec.aux = flags;
    return 0;
}

static bool all_digits(const char *s, const char *e)
{
    if (s >= e)
        return false;
    for (; s < e; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* The CPU column: the first " [DIGITS]" in the line. */
static const char *find_cpu(const char *s, const char *e, const char **close)
{
    for (const char *p = s + 1; p < e; p++) {
        if (*p != '[' || (p[-1] != ' ' && p[-1] != '\t'))
            continue;
        const char *q = p + 1;

        while (q < e && *q >= '0' && *q <= '9')
            q++;
        if (q > p + 1 && q < e && *q == ']') {
            *close = q;
            return p;
        }
    }
    return NULL;
}

/* "TASK-PID", "TASK-PID (TGID)", "TASK-PID (-------)" or perf's "TASK PID". */
static bool task_ok(const char *s, const char *e)
{
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (e > s && e[-1] == ')') {            /* the tgid column */
        const char *o = e - 1;

        while (o > s && *o != '(')
            o--;
        if (*o != '(')
            return false;
        e = o;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
    }
    const char *d = e;

    while (d > s && d[-1] >= '0' && d[-1] <= '9')
        d--;
    if (d == e || d == s)
        return false;
    return d[-1] == '-' || d[-1] == ' ' || d[-1] == '\t';
}

static bool is_ident(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

/* trace-cmd's "cpus=N", "CPU N is empty", and "CPU:N [LOST M EVENTS]". */
static bool header_line(struct cur *c, struct trace_line *out)
{
    const char *s = c->p;
    uint64_t v;

    if (lit(c, "cpus=") && all_digits(c->p, c->end)) {
        out->kind = TRACE_LINE_HEADER;
        return true;
    }
    c->p = s;
    if (lit(c, "CPU ")) {
        const char *d = c->p;

        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
        if (c->p > d && lit(c, " is empty") && c->p == c->end) {
            out->kind = TRACE_LINE_HEADER;
            return true;
        }
    }
    c->p = s;
    if (lit(c, "CPU:")) {
        const char *d = c->p;

        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
        if (c->p > d && lit(c, " [LOST ")) {
            const char *n = c->p;

            while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
                c->p++;
            if (c->p > n && lit(c, " EVENTS]")) {
                skip_ws(c);
                if (c->p == c->end) {
                    v = 0;
                    for (; n < c->p && *n >= '0' && *n <= '9'; n++)
                        v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : v * 10 + (uint64_t)(*n - '0');
                    out->kind = TRACE_LINE_LOST;
                    out->lost = v;
                    return true;
                }
            }
        }
    }
    c->p = s;
    return false;
}

/* "SECONDS.FRACTION:" with 1..12 fractional digits, into seconds + ps. */
static int timestamp(struct cur *c, struct trace_line *out)
{
    const char *s = c->p, *dot, *e;
    uint64_t sec = 0, ps = 0;
    int nfrac = 0;

    for (e = s; e < c->end && *e != ' ' && *e != '\t'; e++)
        ;
    dot = memchr(s, '.', (size_t)(e - s));
    if (e - s < 4 || e[-1] != ':' || !dot || !all_digits(s, dot) ||
        !all_digits(dot + 1, e - 1) || dot - s > 19)
        return fail(c, "expected a timestamp such as '1234.567890:'");
    for (const char *p = s; p < dot; p++)
        sec = sec * 10 + (uint64_t)(*p - '0');
    for (const char *p = dot + 1; p < e - 1; p++, nfrac++) {
        if (nfrac == 12)
            return fail(c, "expected a timestamp with at most 12 decimals");
        ps = ps * 10 + (uint64_t)(*p - '0');
    }
    for (; nfrac < 12; nfrac++)
        ps *= 10;
    out->sec = sec;
    out->ps = ps;
    c->p = e;
    return 0;
}

/* Flags column: 4 (older kernels) or 5 characters such as "d..1." or "...1". */
static bool flags_token(const char *s, const char *e)
{
    if (e - s < 4 || e - s > 5)
        return false;
    for (; s < e; s++)
        if (!isalnum((unsigned char)*s) && *s != '.')
            return false;
    return true;
}

int trace_line_parse(const char *line, size_t len, struct trace_line *out,
                     char *msg, size_t msglen)
{
    struct cur c = { line, line + len, msg, msglen };
    const char *open, *close, *tok, *name, *name_end, *sys = NULL, *sys_end = NULL;
    uint64_t cpu = 0;

    memset(out, 0, sizeof(*out));
    while (c.end > c.p && (c.end[-1] == '\n' || c.end[-1] == '\r'))
        c.end--;
    if (memchr(c.p, '\0', (size_t)(c.end - c.p))) {
        snprintf(msg, msglen, "expected text (got a NUL byte)");
        return SIM_EPARSE;
    }
    skip_ws(&c);
    if (c.p == c.end) {
        out->kind = TRACE_LINE_BLANK;
        return 0;
    }
    if (*c.p == '#') {
        out->kind = TRACE_LINE_COMMENT;
        return 0;
    }
    if (header_line(&c, out))
        return 0;

    /* TASK-PID [CPU] */
    open = find_cpu(c.p, c.end, &close);
    if (!open)
        return fail(&c, "expected an ftrace line 'TASK-PID [CPU] TIMESTAMP: EVENT: ...'");
    if (!task_ok(c.p, open))
        return fail(&c, "expected TASK-PID before the CPU column");
    for (const char *p = open + 1; p < close; p++) {
        cpu = cpu * 10 + (uint64_t)(*p - '0');
        if (cpu > UINT32_MAX) {
            c.p = open;
            return fail(&c, "expected a CPU number below 2^32");
        }
    }
    out->rec.cpu = (uint32_t)cpu;
    c.p = close + 1;

    /* [FLAGS] TIMESTAMP: */
    skip_ws(&c);
    for (tok = c.p; tok < c.end && *tok != ' ' && *tok != '\t'; tok++)
        ;
    if (tok > c.p && tok[-1] != ':') {
        if (!flags_token(c.p, tok))
            return fail(&c, "expected irq flags such as 'd..1.' or a timestamp such as "
                        "'1234.567890:'");
        c.p = tok;
        skip_ws(&c);
    }
    if (timestamp(&c, out))
        return SIM_EPARSE;

    /* EVENT: or SYSTEM:EVENT: */
    skip_ws(&c);
    name = c.p;
    while (c.p < c.end && is_ident(*c.p))
        c.p++;
    name_end = c.p;
    if (name_end > name && c.p < c.end && *c.p == ':' && c.p + 1 < c.end && is_ident(c.p[1])) {
        sys = name;
        sys_end = name_end;
        name = ++c.p;
        while (c.p < c.end && is_ident(*c.p))
            c.p++;
        name_end = c.p;
    }
    if (name_end == name || c.p >= c.end || *c.p != ':') {
        c.p = name;
        return fail(&c, "expected an event name followed by ':' (such as 'map:')");
    }
    c.p++;

    bool iommu_sys = !sys || (sys_end - sys == 5 && memcmp(sys, "iommu", 5) == 0);
    size_t nl = (size_t)(name_end - name);
    int (*body)(struct cur *, struct trace_line *) = NULL;

    if (iommu_sys && nl == 3 && memcmp(name, "map", 3) == 0)
        body = body_map;
    else if (iommu_sys && nl == 5 && memcmp(name, "unmap", 5) == 0)
        body = body_unmap;
    else if (iommu_sys && nl == 13 && memcmp(name, "io_page_fault", 13) == 0)
        body = body_fault;
    if (!body) {
        out->kind = TRACE_LINE_OTHER;
        return 0;
    }
    skip_ws(&c);
    if (!lit(&c, "IOMMU:"))
        return fail(&c, "expected 'IOMMU:' after the event name");
    out->kind = TRACE_LINE_EVENT;
    return body(&c, out);
}

/* --- The importer -------------------------------------------------------- */

struct imp {
    const char *name;
    const struct trace_import_opts *o;
    unsigned max_warn;
    uint64_t *lines;            /* input line of each record */
    size_t lcap;
};

static void warn(const struct imp *im, uint64_t count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(const struct imp *im, uint64_t count, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (!im->o || !im->o->warn || count > im->max_warn)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    im->o->warn(im->o->warn_ctx, buf);
}

struct sort_ent {
    unsigned __int128 t;        /* absolute time in ps */
    size_t idx;
};

static int sort_cmp(const void *a, const void *b)
{
    const struct sort_ent *x = a, *y = b;

    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Stable sort of records (and their line numbers) by absolute time. */
static int sort_records(struct trace *t, unsigned __int128 *abs, uint64_t *lines)
{
    struct sort_ent *s = malloc(t->n * sizeof(*s));
    struct trace_rec *r = malloc(t->n * sizeof(*r));
    uint64_t *l = malloc(t->n * sizeof(*l));
    unsigned __int128 *a = malloc(t->n * sizeof(*a));

    if (!s || !r || !l || !a) {
        free(s), free(r), free(l), free(a);
        return SIM_ENOMEM;
    }
    for (size_t i = 0; i < t->n; i++)
        s[i] = (struct sort_ent){ abs[i], i };
    qsort(s, t->n, sizeof(*s), sort_cmp);
    for (size_t i = 0; i < t->n; i++) {
        r[i] = t->recs[s[i].idx];
        l[i] = lines[s[i].idx];
        a[i] = abs[s[i].idx];
    }
    memcpy(t->recs, r, t->n * sizeof(*r));
    memcpy(lines, l, t->n * sizeof(*l));
    memcpy(abs, a, t->n * sizeof(*a));
    free(s), free(r), free(l), free(a);
    return 0;
}

/* Consistency checks in time order: warnings, never errors (a trace mixes
 * every domain of the machine, so equal IOVAs in two domains are legal). */
static int check_records(const struct trace *t, const struct imp *im,
                         struct trace_import_report *rep)
{
    struct trace_live live;
    int r = 0;

    trace_live_init(&live);
    for (size_t i = 0; i < t->n && r >= 0; i++) {
        const struct trace_rec *x = &t->recs[i];
        uint64_t other = 0, unc = 0;

        if (x->op == TRACE_OP_MAP) {
            r = trace_live_map(&live, x->iova, x->size, im->lines[i], &other);
            if (r == 1) {
                rep->map_overlaps++;
                warn(im, rep->map_overlaps, "%s:%" PRIu64 ": warning: map of iova 0x%" PRIx64
                     " size %" PRIu64 " overlaps a live mapping (mapped at line %" PRIu64
                     "; another domain?)", im->name, im->lines[i], x->iova, x->size, other);
            }
        } else if (x->op == TRACE_OP_UNMAP) {
            r = trace_live_unmap(&live, x->iova, x->size, NULL, NULL, &unc);
            if (r == 0 && unc) {
                rep->unmap_unmapped++;
                warn(im, rep->unmap_unmapped, "%s:%" PRIu64 ": warning: unmap of iova 0x%"
                     PRIx64 " size %" PRIu64 ": %" PRIu64 " bytes were not mapped",
                     im->name, im->lines[i], x->iova, x->size, unc);
            }
        }
    }
    trace_live_free(&live);
    return r < 0 ? r : 0;
}

int trace_import(FILE *in, const char *name, const struct trace_import_opts *o,
                 struct trace *out, struct trace_import_report *rep,
                 char *err, size_t errlen)
{
    struct imp im = { name, o, o && o->max_warnings ? o->max_warnings : 10, NULL, 0 };
    unsigned __int128 *abs = NULL, prev = 0, base;
    char *line = NULL, msg[300];
    size_t linecap = 0, acap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    int r = 0;

    memset(rep, 0, sizeof(*rep));
    while ((len = getline(&line, &linecap, in)) >= 0) {
        struct trace_line tl;

        lineno++;
        if (trace_line_parse(line, (size_t)len, &tl, msg, sizeof(msg))) {
            if (o && o->skip_bad_lines) {
                rep->bad_lines++;
                warn(&im, rep->bad_lines, "%s:%" PRIu64 ": %s (line skipped)", name, lineno, msg);
                continue;
            }
            r = SIM_EPARSE;
            snprintf(err, errlen, "%s:%" PRIu64 ": %s", name, lineno, msg);
            goto fail;
        }
        switch (tl.kind) {
        case TRACE_LINE_BLANK:
        case TRACE_LINE_COMMENT:
        case TRACE_LINE_HEADER:
            rep->comments++;
            continue;
        case TRACE_LINE_LOST:
            rep->lost_events += tl.lost;
            warn(&im, 1, "%s:%" PRIu64 ": warning: the kernel lost %" PRIu64 " events here; "
                 "maps or unmaps may be missing", name, lineno, tl.lost);
            continue;
        case TRACE_LINE_OTHER:
            rep->other_events++;
            continue;
        case TRACE_LINE_EVENT:
            break;
        }
        if (tl.rec.op == TRACE_OP_MAP)
            rep->maps++;
        else if (tl.rec.op == TRACE_OP_UNMAP)
            rep->unmaps++;
        else
            rep->faults++;
        if (tl.form == TRACE_FORM_OLD)
            rep->old_form++;
        else if (tl.form == TRACE_FORM_NEW)
            rep->new_form++;
        if (out->n == acap) {
            size_t cap = acap ? acap * 2 : 1024;
            unsigned __int128 *a = realloc(abs, cap * sizeof(*a));
            uint64_t *l = realloc(im.lines, cap * sizeof(*l));

            if (a)
                abs = a;
            if (l)
                im.lines = l;
            if (!a || !l) {
                r = sim_error_format(err, errlen, SIM_ENOMEM, name, NULL);
                goto fail;
            }
            acap = cap;
        }
        abs[out->n] = (unsigned __int128)tl.sec * 1000000000000u + tl.ps;
        im.lines[out->n] = lineno;
        if (out->n && abs[out->n] < prev)
            rep->out_of_order++;
        prev = abs[out->n];
        if (trace_append(out, &tl.rec)) {
            r = sim_error_format(err, errlen, SIM_ENOMEM, name, NULL);
            goto fail;
        }
    }
    if (ferror(in)) {
        r = sim_error_format(err, errlen, SIM_EIO, name, "read error after line %" PRIu64,
                             lineno);
        goto fail;
    }
    rep->lines = lineno;
    if (rep->out_of_order) {
        warn(&im, 1, "%s: warning: %" PRIu64 " records were earlier than the record before "
             "them; sorted by time", name, rep->out_of_order);
        if ((r = sort_records(out, abs, im.lines)) != 0) {
            sim_error_format(err, errlen, r, name, NULL);
            goto fail;
        }
    }
    if (out->n) {
        base = abs[0];
        if (abs[out->n - 1] - base >= (unsigned __int128)UINT64_MAX) {
            r = sim_error_format(err, errlen, SIM_ERANGE, name, "the trace spans more than "
                                 "2^64 ps (213 days)");
            goto fail;
        }
        out->base_s = (uint64_t)(base / 1000000000000u);
        out->base_ps = (uint64_t)(base % 1000000000000u);
        for (size_t i = 0; i < out->n; i++)
            out->recs[i].t = (uint64_t)(abs[i] - base);
    }
    if ((r = check_records(out, &im, rep)) != 0) {
        sim_error_format(err, errlen, r, name, NULL);
        goto fail;
    }
    free(abs);
    free(im.lines);
    free(line);
    return 0;

fail:
    free(abs);
    free(im.lines);
    free(line);
    trace_free(out);
    return r;
}
