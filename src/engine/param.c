/*
 * param.c - parse, check, compare and print parameter values (see param.h).
 *
 * Messages follow error.h: "what is wrong (got X, expected Y)"; the caller
 * puts "path.param: " in front. Nothing here allocates.
 */
#include "engine/param.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/error.h"

static const char *const type_names[] = {
#define SIM_PARAM_TYPE_NAME_(name, text, expected) text,
    SIM_PARAM_TYPE_MAP(SIM_PARAM_TYPE_NAME_)
#undef SIM_PARAM_TYPE_NAME_
};

static const char *const type_expected[] = {
#define SIM_PARAM_TYPE_EXP_(name, text, expected) expected,
    SIM_PARAM_TYPE_MAP(SIM_PARAM_TYPE_EXP_)
#undef SIM_PARAM_TYPE_EXP_
};

const char *sim_param_type_name(enum sim_param_type t)
{
    return (unsigned)t < SIM_PT__COUNT ? type_names[t] : "?";
}

const char *sim_param_type_expected(enum sim_param_type t)
{
    return (unsigned)t < SIM_PT__COUNT ? type_expected[t] : "?";
}

/* The list of enum choices, "'a', 'b' or 'c'", for messages. */
static void choices_text(const struct sim_param *p, char *buf, size_t len)
{
    size_t n = 0, used = 0;

    buf[0] = '\0';
    while (p->choices && p->choices[n])
        n++;
    for (size_t i = 0; i < n && used < len; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int w = snprintf(buf + used, len - used, "%s'%s'", sep, p->choices[i]);

        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Parse without bound checks: the syntax of the type only. */
static int parse_raw(const struct sim_param *p, const char *text,
                     struct sim_value *out)
{
    memset(out, 0, sizeof(*out));
    switch (p->type) {
    case SIM_PT_INT:       return sim_units_parse_int(text, &out->i);
    case SIM_PT_BOOL:      return sim_units_parse_bool(text, &out->b);
    case SIM_PT_FLOAT:     return sim_units_parse_float(text, &out->f);
    case SIM_PT_RATIO:     return sim_units_parse_ratio(text, &out->f);
    case SIM_PT_SIZE:      return sim_units_parse_size(text, &out->u);
    case SIM_PT_LATENCY:   return sim_units_parse_latency(text, &out->lat);
    case SIM_PT_FREQ:      return sim_clock_parse_hz(text, &out->u);
    case SIM_PT_BANDWIDTH: return sim_units_parse_bandwidth(text, &out->u);
    case SIM_PT_ENUM:
        for (unsigned i = 0; p->choices && p->choices[i]; i++) {
            if (strcmp(text, p->choices[i]) == 0) {
                out->e = i;
                return 0;
            }
        }
        return SIM_EPARSE;
    case SIM_PT_REF:
        /* Resolved by the object layer; here only "none" is special. */
        if (strcmp(text, "none") == 0) {
            out->ref.path = NULL;
            return 0;
        }
        if (!*text)
            return SIM_EPARSE;
        out->ref.path = text;
        return 0;
    case SIM_PT_STRING:
        out->s = text;              /* any text, the empty one included */
        return 0;
    case SIM_PT_PATH:
        if (!*text)
            return SIM_EPARSE;
        out->s = text;              /* existence: path_check() */
        return 0;
    case SIM_PT__COUNT:
        break;
    }
    return SIM_EINVAL;
}

/* What a parse error means for this type, in words. */
static const char *what_wrong(const struct sim_param *p, int err)
{
    switch (err) {
    case SIM_EUNIT:
        return "missing or unknown unit";
    case SIM_EOVERFLOW:
        return "value too large";
    case SIM_ERANGE:
        switch (p->type) {
        case SIM_PT_SIZE:    return "not a whole number of bytes";
        case SIM_PT_LATENCY: return "not a whole number of cycles, or negative";
        case SIM_PT_FREQ:    return "frequency out of range or not a whole number of Hz";
        case SIM_PT_RATIO:   return "ratio out of range";
        default:             return "value out of range";
        }
    default:
        switch (p->type) {
        case SIM_PT_INT:       return "not an integer";
        case SIM_PT_BOOL:      return "not a boolean";
        case SIM_PT_FLOAT:     return "not a number";
        case SIM_PT_RATIO:     return "not a ratio";
        case SIM_PT_ENUM:      return "not one of the choices";
        case SIM_PT_SIZE:      return "not a size";
        case SIM_PT_LATENCY:   return "not a latency";
        case SIM_PT_FREQ:      return "not a frequency";
        case SIM_PT_BANDWIDTH: return "not a bandwidth";
        case SIM_PT_REF:       return "not a reference";
        case SIM_PT_PATH:      return "empty path";
        default:               return "malformed value";
        }
    }
}

int sim_param_compare(const struct sim_param *p, const struct sim_value *a,
                      const struct sim_value *b)
{
    switch (p->type) {
    case SIM_PT_INT:
        return (a->i > b->i) - (a->i < b->i);
    case SIM_PT_FLOAT:
    case SIM_PT_RATIO:
        return (a->f > b->f) - (a->f < b->f);
    case SIM_PT_SIZE:
    case SIM_PT_FREQ:
    case SIM_PT_BANDWIDTH:
        return (a->u > b->u) - (a->u < b->u);
    case SIM_PT_LATENCY:
        /* Cycles and times compare only among themselves: a bound in ns
         * says nothing about a value in cycles before the clock is known. */
        if (a->lat.cycles != b->lat.cycles)
            return 0;
        return (a->lat.value > b->lat.value) - (a->lat.value < b->lat.value);
    default:
        return 0;
    }
}

/*
 * A PATH must be a file that exists, is not a directory and can be read, so
 * that a missing trace is reported by instantiate() with every other
 * problem of the tree rather than when the model opens it.
 */
static int path_check(const char *path, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            snprintf(err, errlen, "no such file (got '%s')", path);
            return SIM_ENOENT;
        }
        snprintf(err, errlen, "cannot use the file: %s (got '%s')", strerror(errno), path);
        return SIM_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "a directory, not a file (got '%s', expected a file)", path);
        return SIM_EINVAL;
    }
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "cannot read the file: %s (got '%s')", strerror(errno), path);
        return SIM_EIO;
    }
    return 0;
}

/* One value (an item, for lists), with bounds and choices. */
static int parse_one(const struct sim_param *p, const char *text,
                     struct sim_value *out, char *err, size_t errlen)
{
    struct sim_value bound;
    int rc;

    if (!text) {
        if (p->type == SIM_PT_REF && (p->flags & SIM_PF_OPTIONAL)) {
            memset(out, 0, sizeof(*out));
            return 0;
        }
        snprintf(err, errlen, "missing required parameter (expected %s%s)",
                 (p->flags & SIM_PF_LIST) ? "a comma-separated list, each item " : "",
                 sim_param_type_expected(p->type));
        return SIM_ENOENT;
    }
    rc = parse_raw(p, text, out);
    if (rc) {
        if (p->type == SIM_PT_ENUM) {
            char list[256];

            choices_text(p, list, sizeof(list));
            snprintf(err, errlen, "%s (got '%s', expected %s)",
                     what_wrong(p, rc), text, list);
        } else {
            snprintf(err, errlen, "%s (got '%s', expected %s)",
                     what_wrong(p, rc), text, sim_param_type_expected(p->type));
        }
        return rc;
    }
    if (p->type == SIM_PT_REF && !out->ref.path && !(p->flags & SIM_PF_OPTIONAL)) {
        snprintf(err, errlen, "a reference is required (got 'none', expected %s%s)",
                 p->ref_model ? "a " : "an object of the tree",
                 p->ref_model ? p->ref_model : "");
        return SIM_ENOENT;
    }
    if (p->type == SIM_PT_PATH && (rc = path_check(text, err, errlen)) != 0)
        return rc;
    if (p->type == SIM_PT_LATENCY && out->lat.cycles && (p->flags & SIM_PF_NO_CYCLES)) {
        snprintf(err, errlen, "cycles are not allowed here (got '%s', expected a time "
                 "such as '80ns')", text);
        return SIM_EUNIT;
    }
    if (p->min && parse_raw(p, p->min, &bound) == 0 &&
        sim_param_compare(p, out, &bound) < 0) {
        snprintf(err, errlen, "value too small (got '%s', expected at least %s)",
                 text, p->min);
        return SIM_ERANGE;
    }
    if (p->max && parse_raw(p, p->max, &bound) == 0 &&
        sim_param_compare(p, out, &bound) > 0) {
        snprintf(err, errlen, "value too large (got '%s', expected at most %s)",
                 text, p->max);
        return SIM_ERANGE;
    }
    return 0;
}

/* The shortest of %.15g .. %.17g that reads back as the same double. */
static int format_double(char *buf, size_t len, double f)
{
    char tmp[40];

    for (int prec = 15; prec < 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, f);
        if (strtod(tmp, NULL) == f)
            return snprintf(buf, len, "%s", tmp);
    }
    return snprintf(buf, len, "%.17g", f);
}

/*
 * "a,b, c": items separated by commas, one space allowed after each; "" is
 * the empty list. One allocation for the items, one for a copy of the text
 * (REF items point into it, so the caller's text may go away).
 */
static int parse_list(const struct sim_param *p, const char *text,
                      struct sim_value *out, char *err, size_t errlen)
{
    struct sim_param item = *p;
    char msg[400];
    uint32_t n = 1, i = 0;
    char *buf, *tok;

    item.flags &= ~(unsigned)SIM_PF_LIST;
    item.flags &= ~(unsigned)SIM_PF_OPTIONAL;       /* no "none" inside a list */
    memset(out, 0, sizeof(*out));
    if (!*text)
        return 0;
    for (const char *c = text; *c; c++)
        n += *c == ',';
    buf = strdup(text);
    out->list.items = calloc(n, sizeof(*out->list.items));
    out->list.buf = buf;
    if (!buf || !out->list.items) {
        sim_param_value_free(p, out);
        snprintf(err, errlen, "out of memory");
        return SIM_ENOMEM;
    }
    for (tok = buf; i < n; i++) {
        char *comma = strchr(tok, ',');
        int rc;

        if (comma)
            *comma = '\0';
        if (i > 0 && *tok == ' ')
            tok++;
        rc = parse_one(&item, tok, &out->list.items[i], msg, sizeof(msg));
        if (rc) {
            snprintf(err, errlen, "item %u of %u: %s", i + 1, n, msg);
            sim_param_value_free(p, out);
            return rc;
        }
        out->list.n = i + 1;
        tok = comma ? comma + 1 : tok + strlen(tok);
    }
    return 0;
}

int sim_param_parse(const struct sim_param *p, const char *text,
                    struct sim_value *out, char *err, size_t errlen)
{
    if (!text)
        text = p->def;
    if (text && (p->flags & SIM_PF_LIST))
        return parse_list(p, text, out, err, errlen);
    return parse_one(p, text, out, err, errlen);
}

void sim_param_value_free(const struct sim_param *p, struct sim_value *v)
{
    if (!(p->flags & SIM_PF_LIST))
        return;
    free(v->list.items);
    free(v->list.buf);
    v->list.items = NULL;
    v->list.buf = NULL;
    v->list.n = 0;
}

static int format_one(const struct sim_param *p, const struct sim_value *v,
                      char *buf, size_t len);

char *sim_param_format_dup(const struct sim_param *p, const struct sim_value *v)
{
    int n = sim_param_format(p, v, NULL, 0);
    char *s;

    if (n < 0)
        return NULL;
    s = malloc((size_t)n + 1);
    if (s)
        sim_param_format(p, v, s, (size_t)n + 1);
    return s;
}

int sim_param_format(const struct sim_param *p, const struct sim_value *v,
                     char *buf, size_t len)
{
    size_t used = 0;

    if (!(p->flags & SIM_PF_LIST))
        return format_one(p, v, buf, len);
    if (len)
        buf[0] = '\0';
    for (uint32_t i = 0; i < v->list.n; i++) {
        int w;

        if (i && used + 1 < len)
            buf[used] = ',', buf[used + 1] = '\0';
        used += i ? 1 : 0;
        w = format_one(p, &v->list.items[i], used < len ? buf + used : NULL,
                       used < len ? len - used : 0);
        if (w < 0)
            return w;
        used += (size_t)w;
    }
    return (int)used;
}

static int format_one(const struct sim_param *p, const struct sim_value *v,
                      char *buf, size_t len)
{
    switch (p->type) {
    case SIM_PT_INT:       return snprintf(buf, len, "%" PRId64, v->i);
    case SIM_PT_BOOL:      return snprintf(buf, len, "%s", v->b ? "true" : "false");
    case SIM_PT_FLOAT:
    case SIM_PT_RATIO:     return format_double(buf, len, v->f);
    case SIM_PT_ENUM:      return snprintf(buf, len, "%s", p->choices[v->e]);
    case SIM_PT_SIZE:      return sim_units_format_size(buf, len, v->u);
    case SIM_PT_LATENCY:   return sim_units_format_latency(buf, len, v->lat);
    case SIM_PT_FREQ:      return sim_units_format_freq(buf, len, v->u);
    case SIM_PT_BANDWIDTH: return sim_units_format_bandwidth(buf, len, v->u);
    case SIM_PT_REF:       return snprintf(buf, len, "%s", v->ref.path ? v->ref.path : "none");
    case SIM_PT_STRING:
    case SIM_PT_PATH:      return snprintf(buf, len, "%s", v->s ? v->s : "");
    default:               return snprintf(buf, len, "?");
    }
}
