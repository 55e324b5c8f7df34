/*
 * registry.c - the table of every model, and the texts derived from it.
 *
 * Order matters only for listings: containers first, then by layer.
 */
#include "py/registry.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"

#include "engine/models.h"
#include "iommu/models/generic.h"      /* GenericIOMMU (issue 5) */
#include "iommu/models/tz_mpc.h"       /* TzMpc (issue 10) */
#include "iommu/models/amdvi.h"        /* AmdViIOMMU (issue 10) */
#include "iommu/models/smmuv3.h"       /* SMMUv3 (issue 10) */
#include "iommu/models/vtd.h"          /* VTdIOMMU (issue 9) */
#include "iommu/models/virtio_iommu.h" /* VirtioIOMMU (issue 9) */
#include "iommu/objects.h"             /* IOTLB, Walker (issue 5) */
#include "iommu/probe.h"               /* TranslationProbe (issue 5) */
#include "mem/mem_object.h"            /* Memory (issue 5) */
#include "dev/dev_object.h"            /* DmaDevice (issue 6) */
#include "trace/replay_object.h"       /* TraceReplay (issue 6, trace replay) */
#include "iommu/consumers/cpu_tlb.h"     /* CpuTlb (issue 9, consumers) */
#include "iommu/consumers/vfio_shadow.h" /* VfioShadow (issue 9, consumers) */
#include "iommu/consumers/vhost_iotlb.h" /* VhostIotlb (issue 9, consumers) */

/* System: a pure container that groups objects under one path. */
static const struct sim_model model_system = {
    .name = "System",
    .doc = "A container: groups the objects of one simulated machine under a path "
           "(system.iommu, system.dev0). It has no parameters and no behaviour.",
};

static const struct sim_model *const models[] = {
    &model_system,
    &sim_model_clock_domain,
    &sim_model_periodic_source,
    &sim_model_poisson_source,
    &sim_model_trace_source,
    /* Memory and the IOMMU (issue 5): parts before the models that use them. */
    &mem_model_memory,
    &iommu_model_iotlb,
    &iommu_model_walker,
    &generic_model_object,
    &tz_mpc_model_object,           /* TzMpc (issue 10) */
    &amdvi_model_object,            /* AmdViIOMMU (issue 10) */
    &smmuv3_model_object,           /* SMMUv3 (issue 10) */
    &vtd_model_object,              /* Intel VT-d (issue 9) */
    &virtio_iommu_model_object,     /* VirtioIOMMU (issue 9) */
    /* Devices (issue 6): after the IOMMU they attach to. */
    &dev_model_dma_device,
    &iommu_model_translation_probe,
    &trace_model_replay,            /* a trace through a GenericIOMMU */
    /* Notifier users (issue 9): after the IOMMUs whose events they take. */
    &vfio_shadow_model,
    &vhost_iotlb_model,
    &cpu_tlb_model,
};

#define NMODELS (sizeof(models) / sizeof(models[0]))

/*
 * Descriptors added at run time by plugins (plugin/plugin.h), after the
 * built-in table: a growable array written only while plugins load, before
 * the Python module builds its classes from the table; read-only after.
 */
static const struct sim_model **added;
static size_t nadded, capadded;

size_t model_registry_count(void)
{
    return NMODELS + nadded;
}

size_t model_registry_builtin_count(void)
{
    return NMODELS;
}

const struct sim_model *model_registry_at(size_t i)
{
    if (i < NMODELS)
        return models[i];
    i -= NMODELS;
    return i < nadded ? added[i] : NULL;
}

const struct sim_model *model_registry_find(const char *name)
{
    for (size_t i = 0; i < model_registry_count(); i++)
        if (strcmp(model_registry_at(i)->name, name) == 0)
            return model_registry_at(i);
    return NULL;
}

/* The index of the model called @name, or model_registry_count(). */
static size_t model_registry_index(const char *name)
{
    size_t i;

    for (i = 0; i < model_registry_count(); i++)
        if (strcmp(model_registry_at(i)->name, name) == 0)
            break;
    return i;
}

/* Does some model implement interface @name (sim_model.implements)? */
int model_registry_implemented(const char *name)
{
    for (size_t i = 0; i < model_registry_count(); i++) {
        const struct sim_model *m = model_registry_at(i);

        if (m->implements && strcmp(m->implements, name) == 0)
            return 1;
    }
    return 0;
}

/* Method names of the Python SimObject class: a parameter may not hide one. */
static const char *const py_reserved[] = { "read", "readouts", "path", "children", NULL };

static int check_param(FILE *out, const struct sim_model *m, const struct sim_param *p)
{
    struct sim_value v;
    char err[512];
    int n = 0;

    for (unsigned i = 0; p->name && py_reserved[i]; i++) {
        if (strcmp(p->name, py_reserved[i]) == 0) {
            if (out)
                fprintf(out, "%s.%s: the name is a SimObject method in Python\n",
                        m->name, p->name);
            n++;
        }
    }
    if (p->name && p->name[0] == '_') {
        if (out)
            fprintf(out, "%s.%s: names starting with '_' are reserved\n", m->name, p->name);
        n++;
    }

    if (!p->name || !*p->name || !p->doc || !*p->doc) {
        if (out)
            fprintf(out, "%s: a parameter without a name or doc\n", m->name);
        return 1;
    }
    if (p->def) {
        if (sim_param_parse(p, p->def, &v, err, sizeof(err))) {
            if (out)
                fprintf(out, "%s.%s: bad default: %s\n", m->name, p->name, err);
            n++;
        } else {
            sim_param_value_free(p, &v);
        }
    }
    if (p->type == SIM_PT_ENUM && (!p->choices || !p->choices[0])) {
        if (out)
            fprintf(out, "%s.%s: an enum without choices\n", m->name, p->name);
        n++;
    }
    if (p->type == SIM_PT_REF && p->ref_model && !model_registry_find(p->ref_model) &&
        !model_registry_implemented(p->ref_model)) {
        if (out)
            fprintf(out, "%s.%s: refers to unknown model %s\n", m->name, p->name, p->ref_model);
        n++;
    }
    /* Bounds: parse them with the bounds themselves switched off. */
    {
        struct sim_param bare = *p;

        bare.min = bare.max = NULL;
        bare.flags &= ~(unsigned)SIM_PF_LIST;      /* bounds are per item */
        if (p->min && sim_param_parse(&bare, p->min, &v, err, sizeof(err))) {
            if (out)
                fprintf(out, "%s.%s: bad min: %s\n", m->name, p->name, err);
            n++;
        }
        if (p->max && sim_param_parse(&bare, p->max, &v, err, sizeof(err))) {
            if (out)
                fprintf(out, "%s.%s: bad max: %s\n", m->name, p->name, err);
            n++;
        }
    }
    return n;
}

/* The checks of model_registry_check() for descriptor @m, which would be
 * entry @i of the table (its name must differ from entries 0 .. i-1). */
static int check_model(FILE *out, const struct sim_model *m, size_t i)
{
    int n = 0;

    if (!m->name || !*m->name || !m->doc) {
        if (out)
            fprintf(out, "model %zu: no name or doc\n", i);
        return 1;
    }
    for (size_t j = 0; j < i; j++) {
        if (strcmp(model_registry_at(j)->name, m->name) == 0) {
            if (out)
                fprintf(out, "%s: registered twice\n", m->name);
            n++;
        }
    }
    for (unsigned k = 0; k < m->nparams; k++) {
        n += check_param(out, m, &m->params[k]);
        for (unsigned j = 0; j < k; j++) {
            if (m->params[j].name && m->params[k].name &&
                strcmp(m->params[j].name, m->params[k].name) == 0) {
                if (out)
                    fprintf(out, "%s.%s: declared twice\n", m->name, m->params[k].name);
                n++;
            }
        }
    }
    if (m->nreadouts && (!m->ops || !m->ops->read)) {
        if (out)
            fprintf(out, "%s: readouts without a read op\n", m->name);
        n++;
    }
    if (m->implements && !m->iface) {
        if (out)
            fprintf(out, "%s: implements %s without its table of operations (iface)\n",
                    m->name, m->implements);
        n++;
    }
    return n;
}

int model_registry_check(FILE *out)
{
    int n = 0;

    for (size_t i = 0; i < model_registry_count(); i++)
        n += check_model(out, model_registry_at(i), i);
    return n;
}

int model_registry_add(const struct sim_model *m, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f;
    int n;

    if (!m) {
        snprintf(err, errlen, "no model descriptor");
        return SIM_EINVAL;
    }
    if (m->name && model_registry_find(m->name)) {
        snprintf(err, errlen, "model %s: the name is taken (%s)", m->name,
                 model_registry_index(m->name) < NMODELS ? "a built-in model"
                                                         : "a model of another plugin");
        return SIM_EEXIST;
    }
    /* The same checks as the built-in table's unit test; the first problem
     * is the error. */
    f = open_memstream(&text, &len);
    if (!f) {
        snprintf(err, errlen, "cannot check the descriptor (%s)", sim_strerror(SIM_ENOMEM));
        return SIM_ENOMEM;
    }
    n = check_model(f, m, model_registry_count());
    fclose(f);
    if (n) {
        snprintf(err, errlen, "bad model descriptor: %.*s", (int)strcspn(text, "\n"), text);
        free(text);
        return SIM_EINVAL;
    }
    free(text);
    if (nadded == capadded) {
        size_t cap = capadded ? 2 * capadded : 8;
        const struct sim_model **v = realloc(added, cap * sizeof(*v));

        if (!v) {
            snprintf(err, errlen, "%s: %s", m->name, sim_strerror(SIM_ENOMEM));
            return SIM_ENOMEM;
        }
        added = v;
        capadded = cap;
    }
    added[nadded++] = m;
    return 0;
}

void model_registry_truncate(size_t n)
{
    if (n < NMODELS)
        n = NMODELS;
    if (n - NMODELS < nadded)
        nadded = n - NMODELS;
}

/* "frequency", "enum: 'a', 'b'", "reference to ClockDomain" */
static void type_text(const struct sim_param *p, char *buf, size_t len)
{
    if (p->type == SIM_PT_ENUM) {
        size_t used = (size_t)snprintf(buf, len, "%senum:",
                                       (p->flags & SIM_PF_LIST) ? "list of " : "");
        for (unsigned i = 0; p->choices && p->choices[i] && used < len; i++)
            used += (size_t)snprintf(buf + used, len - used, "%s %s", i ? "," : "",
                                     p->choices[i]);
    } else if (p->type == SIM_PT_REF) {
        snprintf(buf, len, "%sreference%s to %s%s", (p->flags & SIM_PF_LIST) ? "list of " : "",
                 (p->flags & SIM_PF_LIST) ? "s" : "",
                 p->ref_model ? p->ref_model : "any object",
                 (p->flags & SIM_PF_OPTIONAL) ? " (or none)" : "");
    } else {
        snprintf(buf, len, "%s%s", (p->flags & SIM_PF_LIST) ? "list of " : "",
                 sim_param_type_name(p->type));
    }
}

static const char *default_text(const struct sim_param *p)
{
    if (p->def)
        return *p->def || !(p->flags & SIM_PF_LIST) ? p->def : "(empty list)";
    return p->type == SIM_PT_REF && (p->flags & SIM_PF_OPTIONAL) ? "none" : "(required)";
}

void model_registry_describe(FILE *out, const struct sim_model *m)
{
    char type[256];

    fprintf(out, "%s\n    %s\n", m->name, m->doc);
    if (!m->nparams)
        fprintf(out, "\nparameters: none\n");
    else
        fprintf(out, "\nparameters:\n");
    for (unsigned i = 0; i < m->nparams; i++) {
        const struct sim_param *p = &m->params[i];

        type_text(p, type, sizeof(type));
        fprintf(out, "  %-12s %s, default %s", p->name, type, default_text(p));
        if (p->min)
            fprintf(out, ", min %s", p->min);
        if (p->max)
            fprintf(out, ", max %s", p->max);
        fprintf(out, "\n      %s\n", p->doc);
    }
    if (m->nreadouts)
        fprintf(out, "\nreadouts (obj.read(NAME) after simulate()):\n");
    for (unsigned i = 0; i < m->nreadouts; i++)
        fprintf(out, "  %-12s [%s] %s\n", m->readouts[i].name, m->readouts[i].unit,
                m->readouts[i].doc);
}

void model_registry_markdown(FILE *out)
{
    char type[256];

    fprintf(out, "# Model parameters\n\n"
            "<!-- Generated by `make docs` from the descriptor table (src/py/registry.c); "
            "do not edit. -->\n\n"
            "Every model a config can build, with every parameter: its type, default, "
            "bounds and meaning. Values are written in the type's syntax "
            "(see [configs.md](configs.md#values-and-units)).\n\n");
    /* NMODELS, not model_registry_count(): this documents what ships, not
     * whatever plugins a user loaded. */
    for (size_t i = 0; i < NMODELS; i++)
        fprintf(out, "- [%s](#%s)\n", models[i]->name, models[i]->name);
    for (size_t i = 0; i < NMODELS; i++) {
        const struct sim_model *m = models[i];

        fprintf(out, "\n<a id=\"%s\"></a>\n## %s\n\n%s\n\n", m->name, m->name, m->doc);
        if (!m->nparams) {
            fprintf(out, "No parameters.\n");
        } else {
            fprintf(out, "| parameter | type | default | bounds | meaning |\n"
                         "|---|---|---|---|---|\n");
            for (unsigned k = 0; k < m->nparams; k++) {
                const struct sim_param *p = &m->params[k];

                type_text(p, type, sizeof(type));
                fprintf(out, "| `%s` | %s | `%s` | %s%s%s%s%s | %s |\n", p->name, type,
                        default_text(p),
                        p->min ? ">= " : "", p->min ? p->min : "",
                        p->min && p->max ? ", " : "",
                        p->max ? "<= " : "", p->max ? p->max : "", p->doc);
            }
        }
        if (m->nreadouts) {
            fprintf(out, "\n| readout | unit | meaning |\n|---|---|---|\n");
            for (unsigned k = 0; k < m->nreadouts; k++)
                fprintf(out, "| `%s` | %s | %s |\n", m->readouts[k].name,
                        m->readouts[k].unit, m->readouts[k].doc);
        }
    }
}
