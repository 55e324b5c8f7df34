/*
 * param.h - typed, documented model parameters.
 *
 * A parameter is declared once, in C, in its model's descriptor (object.h):
 * name, type, default, doc, bounds, enum choices. Everything else is derived
 * from that declaration: the Python class attributes, `--describe`,
 * docs/params.md, the parsing of `--set` values and the error messages.
 *
 * Values travel as text in the type's syntax (units.h) until the object is
 * created; sim_param_parse() is the one place text becomes a struct
 * sim_value, and it checks bounds and choices, so a config, `--set` and a
 * default are held to the same rules. Bounds and defaults are themselves
 * text ("1ns", "64"), parsed with the same function; a unit test parses every
 * default and bound of every registered model.
 */
#ifndef SIM_PARAM_H
#define SIM_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/units.h"

#define SIM_PARAM_TYPE_MAP(X)                                                \
    X(INT,       "int",       "an integer such as 42 or 0x1000")              \
    X(BOOL,      "bool",      "true or false")                                \
    X(FLOAT,     "float",     "a number such as 0.5")                         \
    X(RATIO,     "ratio",     "a ratio such as 0.25 or 25%")                  \
    X(ENUM,      "enum",      "one of the listed choices")                    \
    X(SIZE,      "size",      "a size such as '4KiB' or '2MiB' (units B, KiB, MiB, GiB, TiB, PiB, kB, MB, GB, TB)") \
    X(LATENCY,   "latency",   "a time such as '80ns' or '12cycles' (units ps, ns, us, ms, s, cycles)") \
    X(FREQ,      "frequency", "a frequency such as '2GHz' (units Hz, kHz, MHz, GHz, THz)") \
    X(BANDWIDTH, "bandwidth", "a bandwidth such as '32GB/s' or '100Gbps' (units bps .. Tbps, B/s .. TB/s, KiB/s .. TiB/s)") \
    X(REF,       "reference", "an object of the tree, or none")                \
    X(STRING,    "string",    "a text such as 'nic0'")                        \
    X(PATH,      "path",      "the path of an existing file (in a config: relative to the config's directory)")

enum sim_param_type {
#define SIM_PARAM_TYPE_ENUM_(name, text, expected) SIM_PT_##name,
    SIM_PARAM_TYPE_MAP(SIM_PARAM_TYPE_ENUM_)
#undef SIM_PARAM_TYPE_ENUM_
    SIM_PT__COUNT
};

struct sim_object;

/* One parsed value. Which member is live follows the parameter's type. */
struct sim_value {
    union {
        int64_t i;                  /* INT */
        bool b;                     /* BOOL */
        double f;                   /* FLOAT, RATIO */
        unsigned e;                 /* ENUM: index into choices */
        uint64_t u;                 /* SIZE (bytes), FREQ (Hz), BANDWIDTH (bit/s) */
        struct sim_latency lat;     /* LATENCY */
        struct {
            const char *path;       /* NULL: none; borrowed from the caller */
            struct sim_object *obj; /* set once the target exists */
        } ref;                      /* REF */
        const char *s;              /* STRING, PATH: borrowed from the caller,
                                       like ref.path (an object's own copy
                                       once created) */
        struct {
            uint32_t n;             /* number of items */
            struct sim_value *items;/* n values of the element type */
            char *buf;              /* the items' text (ref paths point here) */
        } list;                     /* any type with SIM_PF_LIST */
    };
};

/* Parameter flags. */
enum {
    SIM_PF_OPTIONAL = 1u << 0,      /* REF: may be none (def is then NULL) */
    SIM_PF_NO_CYCLES = 1u << 1,     /* LATENCY: an absolute time only */
    SIM_PF_LIST = 1u << 2,          /* a list of the type: "10ns,20ns" ("" empty);
                                       bounds and choices apply to each item */
};

struct sim_param {
    const char *name;               /* a Python identifier, lower_case */
    enum sim_param_type type;
    const char *def;                /* default in the type's syntax; NULL: required */
    const char *doc;                /* one sentence, shown by --describe */
    const char *min, *max;          /* inclusive bounds in the type's syntax, or NULL */
    const char *const *choices;     /* ENUM: NULL-terminated */
    const char *ref_model;          /* REF: the model it must name (NULL: any) */
    unsigned flags;                 /* SIM_PF_* */
};

const char *sim_param_type_name(enum sim_param_type t);

/* The expected form, for messages: "a time such as '80ns' or '12cycles' ...". */
const char *sim_param_type_expected(enum sim_param_type t);

/*
 * Parse `text` as a value of p (NULL text: p's default). On error, returns a
 * negative SIM_E* and writes "what is wrong (got X, expected Y)" into err;
 * the caller prefixes "path.param: ". REF values keep a pointer to text
 * ("none" is no reference) and are not resolved here; so do STRING and PATH
 * values. A PATH must name an existing file that is not a directory
 * (stat(2) here, relative to the process's working directory: the Python
 * layer joins a config's relative paths to the config's directory first),
 * else "no such file (got 'x')"; that is the only parse that looks outside
 * the text. A list (SIM_PF_LIST)
 * is items separated by commas (one space allowed after each), and is the
 * only kind of value that allocates: release it with sim_param_value_free().
 */
int sim_param_parse(const struct sim_param *p, const char *text,
                    struct sim_value *out, char *err, size_t errlen);

/* The canonical text in a new string of exactly the right size (free()
 * it), or NULL when out of memory. */
char *sim_param_format_dup(const struct sim_param *p, const struct sim_value *v);

/* Release what sim_param_parse() allocated (lists); safe on any value. */
void sim_param_value_free(const struct sim_param *p, struct sim_value *v);

/* Canonical text of a value (parses back to the same value). */
int sim_param_format(const struct sim_param *p, const struct sim_value *v,
                     char *buf, size_t len);

/* <0, 0, >0 as a < b; for the ordered types (not BOOL, ENUM, REF). */
int sim_param_compare(const struct sim_param *p, const struct sim_value *a,
                      const struct sim_value *b);

#endif /* SIM_PARAM_H */
