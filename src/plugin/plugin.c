/*
 * plugin.c - loading out-of-tree models (see plugin.h).
 *
 * A load is: resolve the path (each file is loaded once, whatever the path
 * used to name it), dlopen it with RTLD_NOW (an undefined symbol fails here,
 * not in the middle of a run), check iommusim_plugin_api_version, find
 * iommusim_plugin_init and call it. Registration is transactional: the
 * sizes of the two tables (the descriptor registry of py/registry.c and the
 * model table of iommu/models/models.c) are noted before init and restored
 * if anything failed, and the object is closed again, so a refused plugin
 * leaves nothing behind.
 *
 * Nothing here runs once a simulation has started; the cost is dlopen's.
 */
#include "plugin/plugin.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/error.h"
#include "iommu/domain.h"
#include "py/registry.h"

struct iommusim_plugin {
    const char *path;               /* as the user gave it, for messages */
    char err[400];                  /* the first registration error */
    int failed;
};

/* The files loaded so far (real paths), so that each loads once. */
static char **loaded;
static size_t nloaded, caploaded;

const char *iommusim_plugin_path(const struct iommusim_plugin *p)
{
    return p->path;
}

int iommusim_plugin_error(struct iommusim_plugin *p, const char *fmt, ...)
{
    va_list ap;

    if (!p->failed) {
        va_start(ap, fmt);
        vsnprintf(p->err, sizeof(p->err), fmt, ap);
        va_end(ap);
    }
    p->failed = 1;
    return SIM_EINVAL;
}

int iommusim_plugin_add_model(struct iommusim_plugin *p, const struct sim_model *m)
{
    char err[sizeof(p->err)];
    int r = model_registry_add(m, err, sizeof(err));

    if (r)
        iommusim_plugin_error(p, "%s", err);
    return r;
}

int iommusim_plugin_add_iommu(struct iommusim_plugin *p, const struct iommu_model_info *info,
                              const struct sim_model *m)
{
    size_t nm = model_registry_count();
    int r;

    if (!info || !info->name || !info->ops || !info->ops->translate || !info->doc) {
        iommusim_plugin_error(p, "IOMMU model %s: needs a name, a doc and ops with "
                              "translate", info && info->name ? info->name : "(no name)");
        return SIM_EINVAL;
    }
    if (!m || !m->implements || strcmp(m->implements, IOMMU_OBJECT_IFACE) != 0 || !m->iface) {
        iommusim_plugin_error(p, "IOMMU model %s: its descriptor %s must implement \"%s\" "
                              "with a struct iommu_object_ops as iface", info->name,
                              m && m->name ? m->name : "(none)", IOMMU_OBJECT_IFACE);
        return SIM_EINVAL;
    }
    r = iommusim_plugin_add_model(p, m);
    if (r)
        return r;
    r = iommu_model_register(info);
    if (r) {
        model_registry_truncate(nm);
        iommusim_plugin_error(p, "IOMMU model %s: %s", info->name,
                              r == SIM_EEXIST ? "the name is taken in the model table"
                                              : sim_strerror(r));
    }
    return r;
}

static int remember(const char *real)
{
    if (nloaded == caploaded) {
        size_t cap = caploaded ? 2 * caploaded : 8;
        char **v = realloc(loaded, cap * sizeof(*v));

        if (!v)
            return SIM_ENOMEM;
        loaded = v;
        caploaded = cap;
    }
    loaded[nloaded] = strdup(real);
    if (!loaded[nloaded])
        return SIM_ENOMEM;
    nloaded++;
    return 0;
}

int iommusim_plugin_load(const char *path, char *err, size_t errlen)
{
    struct iommusim_plugin p = { .path = path };
    const unsigned *version;
    int (*init)(struct iommusim_plugin *);
    size_t nm = model_registry_count();
    unsigned ni = iommu_model_count();
    char real[PATH_MAX];
    void *h;
    int r;

    if (!realpath(path, real)) {
        snprintf(err, errlen, "%s: cannot open the plugin (%s)", path, strerror(errno));
        return SIM_ENOENT;
    }
    for (size_t i = 0; i < nloaded; i++)
        if (strcmp(loaded[i], real) == 0)
            return 0;
    /* The real path has a '/', so dlopen never searches the library path. */
    h = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        size_t n = strlen(real);

        /* dlerror() usually starts with the path: say it once. */
        if (why && strncmp(why, real, n) == 0 && why[n] == ':')
            why += n + 1 + (why[n + 1] == ' ');
        snprintf(err, errlen, "%s: cannot load the plugin (%s)", path, why ? why : "dlopen failed");
        return SIM_EIO;
    }
    version = dlsym(h, "iommusim_plugin_api_version");
    if (!version) {
        snprintf(err, errlen, "%s: not an iommusim plugin (no symbol "
                 "iommusim_plugin_api_version; define it with "
                 "IOMMUSIM_PLUGIN_API_VERSION_DEFINE)", path);
        dlclose(h);
        return SIM_EINVAL;
    }
    if (*version != IOMMUSIM_PLUGIN_API_VERSION) {
        snprintf(err, errlen, "%s: built for plugin API version %u, but this iommusim has "
                 "plugin API version %u (rebuild the plugin against its headers)", path,
                 *version, (unsigned)IOMMUSIM_PLUGIN_API_VERSION);
        dlclose(h);
        return SIM_EINVAL;
    }
    init = (int (*)(struct iommusim_plugin *))dlsym(h, "iommusim_plugin_init");
    if (!init) {
        snprintf(err, errlen, "%s: not an iommusim plugin (no symbol iommusim_plugin_init, "
                 "its entry point)", path);
        dlclose(h);
        return SIM_EINVAL;
    }
    r = init(&p);
    if (r || p.failed) {
        model_registry_truncate(nm);
        iommu_model_truncate(ni);
        snprintf(err, errlen, "%s: registration failed: %s", path,
                 p.failed ? p.err : sim_strerror(r));
        dlclose(h);
        return SIM_EREFUSED;
    }
    if ((r = remember(real)) != 0) {
        snprintf(err, errlen, "%s: %s", path, sim_strerror(r));
        return r;
    }
    return 0;               /* h stays open: the tables point into it */
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.so of directory @dir, in strcmp order (not the locale's: the
 * order must not depend on the user's environment). */
static int load_dir(const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;

    if (!d) {
        snprintf(err, errlen, "%s: cannot read the plugin directory (%s)", dir,
                 strerror(errno));
        return SIM_ENOENT;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (e->d_name[0] == '.' || len < 4 || strcmp(e->d_name + len - 3, ".so") != 0)
            continue;
        if (n == cap) {
            char **v = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*v));

            if (!v) {
                r = SIM_ENOMEM;
                break;
            }
            names = v;
        }
        if (!(names[n] = malloc(strlen(dir) + len + 2))) {
            r = SIM_ENOMEM;
            break;
        }
        sprintf(names[n++], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (r)
        snprintf(err, errlen, "%s: %s", dir, sim_strerror(r));
    else if (n)
        qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        if (!r)
            r = iommusim_plugin_load(names[i], err, errlen);
        free(names[i]);
    }
    free(names);
    return r;
}

int iommusim_plugin_load_list(const char *list, char *err, size_t errlen)
{
    char *copy = strdup(list), *save = NULL, *item;
    int r = 0;

    if (!copy) {
        snprintf(err, errlen, "%s", sim_strerror(SIM_ENOMEM));
        return SIM_ENOMEM;
    }
    for (item = strtok_r(copy, ":", &save); item && !r; item = strtok_r(NULL, ":", &save)) {
        struct stat sb;

        if (stat(item, &sb) == 0 && S_ISDIR(sb.st_mode))
            r = load_dir(item, err, errlen);
        else
            r = iommusim_plugin_load(item, err, errlen);
    }
    free(copy);
    return r;
}
