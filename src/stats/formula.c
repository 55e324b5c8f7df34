/*
 * formula.c - formulas: expressions over other stats, evaluated at dumps.
 *
 * An expression is parsed once, at registration, by recursive descent into
 * reverse Polish code (grammar in registry.h). Names stay strings until
 * stats_registry_freeze() resolves them to stat records, because a formula
 * may be registered before the stats it reads. Evaluation walks the code
 * over the snapshot with a stack sized at parse time: no allocation, a few
 * nanoseconds per operation, once per formula per dump.
 */
#include "stats/internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

enum f_op { F_CONST, F_REF, F_ADD, F_SUB, F_MUL, F_DIV, F_NEG, F_SECONDS, F_TICKS };

/* What a reference reads from the stat it names. */
enum f_field { R_VALUE, R_ELEM, R_SUM, R_COUNT, R_MEAN, R_MIN, R_MAX, R_STDEV };

static const char *const field_func[] = {
    [R_SUM] = "sum", [R_COUNT] = "count", [R_MEAN] = "mean",
    [R_MIN] = "min", [R_MAX] = "max", [R_STDEV] = "stdev",
};

struct f_insn {
    uint8_t op;
    uint8_t field;
    uint32_t elem;
    double k;
    char *name;             /* F_REF: the name as written */
    char *elem_name;        /* R_ELEM */
    struct stats_stat *s;   /* F_REF after resolution */
};

struct stats_formula {
    struct f_insn *code;
    size_t n, cap;
    size_t depth, maxdepth;
    double *stack;          /* maxdepth slots, for evaluation */
};

struct parser {
    const char *p;
    const char *start;
    struct stats_formula *f;
    char *err;
    size_t errlen;
    int rc;
};

static int perr(struct parser *ps, const char *what)
{
    if (ps->rc == 0) {
        snprintf(ps->err, ps->errlen, "%s at offset %td in '%s'", what,
                 ps->p - ps->start, ps->start);
        ps->rc = SIM_EPARSE;
    }
    return ps->rc;
}

static int emit(struct parser *ps, struct f_insn in)
{
    struct stats_formula *f = ps->f;

    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 8;
        struct f_insn *c = realloc(f->code, cap * sizeof(*c));

        if (!c) {
            free(in.name);
            free(in.elem_name);
            ps->rc = SIM_ENOMEM;
            snprintf(ps->err, ps->errlen, "out of memory");
            return ps->rc;
        }
        f->code = c;
        f->cap = cap;
    }
    f->code[f->n++] = in;
    /* Track the stack depth the code needs. */
    if (in.op == F_CONST || in.op == F_REF || in.op == F_SECONDS || in.op == F_TICKS) {
        if (++f->depth > f->maxdepth)
            f->maxdepth = f->depth;
    } else if (in.op != F_NEG) {
        f->depth--;
    }
    return 0;
}

static void skip_ws(struct parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* A dotted name; returns a copy or NULL (error set). */
static char *parse_name(struct parser *ps)
{
    const char *b = ps->p;
    char *s;

    while (is_name_char(*ps->p))
        ps->p++;
    if (ps->p == b || b[0] == '.' || ps->p[-1] == '.') {
        perr(ps, "expected a stat name");
        return NULL;
    }
    s = strndup(b, (size_t)(ps->p - b));
    if (!s) {
        ps->rc = SIM_ENOMEM;
        snprintf(ps->err, ps->errlen, "out of memory");
    }
    return s;
}

static int parse_expr(struct parser *ps);

static int parse_atom(struct parser *ps)
{
    struct f_insn in = { 0 };

    skip_ws(ps);
    if (*ps->p == '(') {
        ps->p++;
        if (parse_expr(ps))
            return ps->rc;
        skip_ws(ps);
        if (*ps->p != ')')
            return perr(ps, "expected ')'");
        ps->p++;
        return 0;
    }
    if (isdigit((unsigned char)*ps->p) || (*ps->p == '.' && isdigit((unsigned char)ps->p[1]))) {
        char *end;

        in.op = F_CONST;
        in.k = strtod(ps->p, &end);
        ps->p = end;
        return emit(ps, in);
    }
    if (*ps->p == '@') {
        if (strncmp(ps->p, "@seconds", 8) == 0 && !is_name_char(ps->p[8])) {
            in.op = F_SECONDS;
            ps->p += 8;
        } else if (strncmp(ps->p, "@ticks", 6) == 0 && !is_name_char(ps->p[6])) {
            in.op = F_TICKS;
            ps->p += 6;
        } else {
            return perr(ps, "unknown variable (expected @seconds or @ticks)");
        }
        return emit(ps, in);
    }
    in.op = F_REF;
    in.field = R_VALUE;
    if (!(in.name = parse_name(ps)))
        return ps->rc;
    skip_ws(ps);
    if (*ps->p == '(') {
        int fi, found = 0;

        for (fi = R_SUM; fi <= R_STDEV; fi++) {
            if (strcmp(in.name, field_func[fi]) == 0) {
                found = 1;
                break;
            }
        }
        if (!found) {
            free(in.name);
            return perr(ps, "unknown function (expected sum, count, mean, min, max or stdev)");
        }
        free(in.name);
        in.field = (uint8_t)fi;
        ps->p++;
        skip_ws(ps);
        if (!(in.name = parse_name(ps)))
            return ps->rc;
        skip_ws(ps);
        if (*ps->p != ')') {
            free(in.name);
            return perr(ps, "expected ')'");
        }
        ps->p++;
    } else if (*ps->p == '[') {
        const char *b;

        ps->p++;
        skip_ws(ps);
        b = ps->p;
        while (isalnum((unsigned char)*ps->p) || *ps->p == '_')
            ps->p++;
        if (ps->p == b) {
            free(in.name);
            return perr(ps, "expected an element name");
        }
        in.elem_name = strndup(b, (size_t)(ps->p - b));
        skip_ws(ps);
        if (!in.elem_name || *ps->p != ']') {
            free(in.name);
            free(in.elem_name);
            return in.elem_name ? perr(ps, "expected ']'") : (ps->rc = SIM_ENOMEM);
        }
        ps->p++;
        in.field = R_ELEM;
    }
    return emit(ps, in);
}

static int parse_unary(struct parser *ps)
{
    skip_ws(ps);
    if (*ps->p == '-') {
        struct f_insn in = { .op = F_NEG };

        ps->p++;
        if (parse_unary(ps))
            return ps->rc;
        return emit(ps, in);
    }
    return parse_atom(ps);
}

static int parse_term(struct parser *ps)
{
    if (parse_unary(ps))
        return ps->rc;
    for (;;) {
        struct f_insn in = { 0 };

        skip_ws(ps);
        if (*ps->p == '*')
            in.op = F_MUL;
        else if (*ps->p == '/')
            in.op = F_DIV;
        else
            return 0;
        ps->p++;
        if (parse_unary(ps) || emit(ps, in))
            return ps->rc;
    }
}

static int parse_expr(struct parser *ps)
{
    if (parse_term(ps))
        return ps->rc;
    for (;;) {
        struct f_insn in = { 0 };

        skip_ws(ps);
        if (*ps->p == '+')
            in.op = F_ADD;
        else if (*ps->p == '-')
            in.op = F_SUB;
        else
            return 0;
        ps->p++;
        if (parse_term(ps) || emit(ps, in))
            return ps->rc;
    }
}

void stats_formula_free(struct stats_formula *f)
{
    size_t i;

    if (!f)
        return;
    for (i = 0; i < f->n; i++) {
        free(f->code[i].name);
        free(f->code[i].elem_name);
    }
    free(f->code);
    free(f->stack);
    free(f);
}

int stats_formula_parse(const char *expr, struct stats_formula **out,
                        char *err, size_t errlen)
{
    struct parser ps = { .p = expr, .start = expr, .err = err, .errlen = errlen };

    *out = NULL;
    if (!(ps.f = calloc(1, sizeof(*ps.f)))) {
        snprintf(err, errlen, "out of memory");
        return SIM_ENOMEM;
    }
    if (parse_expr(&ps) == 0) {
        skip_ws(&ps);
        if (*ps.p != '\0')
            perr(&ps, *ps.p == ')' ? "unbalanced ')'" : "unexpected character");
    }
    if (ps.rc == 0 && !(ps.f->stack = calloc(ps.f->maxdepth, sizeof(double)))) {
        snprintf(err, errlen, "out of memory");
        ps.rc = SIM_ENOMEM;
    }
    if (ps.rc) {
        stats_formula_free(ps.f);
        return ps.rc;
    }
    *out = ps.f;
    return 0;
}

static struct stats_stat *lookup(struct stats_registry *r, const char *prefix,
                                 const char *name)
{
    struct stats_stat *s = NULL;

    if (prefix && *prefix) {
        size_t lp = strlen(prefix), ln = strlen(name);
        char *full = malloc(lp + ln + 2);

        if (full) {
            memcpy(full, prefix, lp);
            full[lp] = '.';
            memcpy(full + lp + 1, name, ln + 1);
            s = stats_find(r, full);
            free(full);
        }
    }
    return s ? s : stats_find(r, name);
}

int stats_formula_resolve(struct stats_formula *f, struct stats_registry *r,
                          struct stats_stat *self)
{
    size_t i;

    for (i = 0; i < f->n; i++) {
        struct f_insn *in = &f->code[i];
        struct stats_stat *s;
        enum stats_kind k;

        if (in->op != F_REF)
            continue;
        s = lookup(r, self->prefix, in->name);
        if (!s)
            return stats_registry_fail(r, SIM_ENOENT, self->path,
                                       "formula '%s' refers to '%s'", self->expr, in->name);
        if (s == self)
            return stats_registry_fail(r, SIM_EINVAL, self->path,
                                       "formula '%s' refers to itself", self->expr);
        k = s->kind;
        switch (in->field) {
        case R_VALUE:
            if (k == STATS_VECTOR || k == STATS_HIST)
                return stats_registry_fail(r, SIM_EINVAL, self->path,
                        "formula '%s': '%s' is a %s; use sum(), an element [name] or "
                        "count/mean/min/max/stdev()", self->expr, in->name, stats_kind_name(k));
            break;
        case R_ELEM: {
            uint32_t e;

            if (k != STATS_VECTOR)
                return stats_registry_fail(r, SIM_EINVAL, self->path,
                        "formula '%s': '%s' is not a vector", self->expr, in->name);
            for (e = 0; e < s->u.vector.n; e++)
                if (strcmp(s->elem_names[e], in->elem_name) == 0)
                    break;
            if (e == s->u.vector.n)
                return stats_registry_fail(r, SIM_ENOENT, self->path,
                        "formula '%s': vector '%s' has no element '%s'",
                        self->expr, in->name, in->elem_name);
            in->elem = e;
            break;
        }
        case R_SUM:
            if (k != STATS_VECTOR && k != STATS_HIST)
                return stats_registry_fail(r, SIM_EINVAL, self->path,
                        "formula '%s': sum() needs a vector or histogram, '%s' is a %s",
                        self->expr, in->name, stats_kind_name(k));
            break;
        default:
            if (k != STATS_HIST)
                return stats_registry_fail(r, SIM_EINVAL, self->path,
                        "formula '%s': %s() needs a histogram, '%s' is a %s",
                        self->expr, field_func[in->field], in->name, stats_kind_name(k));
            break;
        }
        in->s = s;
    }
    return 0;
}

size_t stats_formula_ndeps(const struct stats_formula *f)
{
    return f->n;
}

/* The formula stat read by instruction i, or NULL (evaluation order only
   cares about formulas reading formulas). */
struct stats_stat *stats_formula_dep(const struct stats_formula *f, size_t i)
{
    const struct f_insn *in = &f->code[i];

    return in->op == F_REF && in->s && in->s->kind == STATS_FORMULA ? in->s : NULL;
}

static double ref_value(const struct f_insn *in)
{
    const struct stats_stat *s = in->s;

    switch (in->field) {
    case R_VALUE:
        return s->kind == STATS_COUNTER ? (double)s->snap.u64 : s->snap.f64;
    case R_ELEM:
        return (double)s->snap_counts[in->elem];
    case R_SUM:
        if (s->kind == STATS_VECTOR) {
            uint64_t t = 0;
            uint32_t e;

            for (e = 0; e < s->u.vector.n; e++)
                t += s->snap_counts[e];
            return (double)t;
        }
        return stats_snap_hist_moments(s)[STATS_HCOL_SUM];
    case R_COUNT:
        return stats_snap_hist_moments(s)[STATS_HCOL_COUNT];
    case R_MEAN:
        return stats_snap_hist_moments(s)[STATS_HCOL_MEAN];
    case R_MIN:
        return stats_snap_hist_moments(s)[STATS_HCOL_MIN];
    case R_MAX:
        return stats_snap_hist_moments(s)[STATS_HCOL_MAX];
    default:
        return stats_snap_hist_moments(s)[STATS_HCOL_STDEV];
    }
}

double stats_formula_eval(const struct stats_formula *f,
                          const struct stats_dump_info *info)
{
    double *st = f->stack;
    size_t sp = 0, i;

    for (i = 0; i < f->n; i++) {
        const struct f_insn *in = &f->code[i];
        double a, b;

        switch (in->op) {
        case F_CONST:
            st[sp++] = in->k;
            break;
        case F_REF:
            st[sp++] = ref_value(in);
            break;
        case F_SECONDS:
            st[sp++] = sim_tick_to_seconds(info->tick - info->reset_tick);
            break;
        case F_TICKS:
            st[sp++] = (double)(info->tick - info->reset_tick);
            break;
        case F_NEG:
            st[sp - 1] = -st[sp - 1];
            break;
        default:
            b = st[--sp];
            a = st[sp - 1];
            switch (in->op) {
            case F_ADD: a += b; break;
            case F_SUB: a -= b; break;
            case F_MUL: a *= b; break;
            default:    a = b == 0.0 ? NAN : a / b; break;
            }
            st[sp - 1] = a;
            break;
        }
    }
    return sp == 1 ? st[0] : NAN;
}
