/*
 * plugin.h - out-of-tree models: the plugin entry point and registration.
 *
 * A plugin is a shared object built against an installed iommusim
 * (`pkg-config --cflags --libs iommusim`) and loaded with `iommusim
 * --plugin PATH` or through IOMMUSIM_PLUGIN_PATH. It defines two symbols:
 *
 *	IOMMUSIM_PLUGIN_API_VERSION_DEFINE;
 *	int iommusim_plugin_init(struct iommusim_plugin *p) { ... }
 *
 * The loader refuses a plugin whose iommusim_plugin_api_version differs from
 * the IOMMUSIM_PLUGIN_API_VERSION it was itself built with (the structs of
 * the model API would not match), then calls iommusim_plugin_init(), which
 * registers the plugin's models with iommusim_plugin_add_model() (any model
 * descriptor of engine/object.h) or iommusim_plugin_add_iommu() (an IOMMU:
 * its iommu_ops in the model table of iommu/models/models.h and its
 * descriptor, which implements IOMMU_OBJECT_IFACE). From then on the model
 * is in `--list-models`, `--describe`, the Python classes of configs and
 * the statistics exactly like a built-in one: there is one table, and
 * plugins add rows to it before anything reads it.
 *
 * A plugin's descriptors and tables are not copied: they are its static
 * data, and plugins are never unloaded. Registration is all or nothing: if
 * init returns non-zero or any add call failed, everything the plugin added
 * is dropped again and the load fails with one line naming the plugin.
 *
 * Everything else a model needs comes from the same installed headers:
 * iommu/iommu.h (translation, notifiers), iommu/domain.h (the OS side),
 * engine/object.h and engine/param.h (descriptors, parameters),
 * stats/objstats.h (statistics), and the building blocks (mem/pgtable.h,
 * iommu/iotlb.h, iommu/walk.h, engine/resource.h). docs/plugins.md walks
 * through examples/plugin/.
 */
#ifndef IOMMUSIM_PLUGIN_H
#define IOMMUSIM_PLUGIN_H

#include <stddef.h>

#include "engine/object.h"
#include "iommu/iommu.h"
#include "iommu/models/models.h"

/*
 * The version of everything a plugin sees: this header and the model API
 * headers it includes. Raised whenever a struct or a function signature a
 * plugin may use changes incompatibly; a plugin must be rebuilt then.
 */
#define IOMMUSIM_PLUGIN_API_VERSION 1

/* The loader's handle on the plugin being loaded (passed to init). */
struct iommusim_plugin;

/* --- What a plugin defines --------------------------------------------- */

/* Exported even from a plugin built with -fvisibility=hidden. */
#define IOMMUSIM_PLUGIN_EXPORT __attribute__((visibility("default")))

/* The API version the plugin was built for: define it with the macro. */
IOMMUSIM_PLUGIN_EXPORT extern const unsigned iommusim_plugin_api_version;
#define IOMMUSIM_PLUGIN_API_VERSION_DEFINE \
    const unsigned iommusim_plugin_api_version = IOMMUSIM_PLUGIN_API_VERSION

/*
 * The entry point: register the plugin's models. Returns 0, or non-zero
 * to refuse to load (after iommusim_plugin_error() says why).
 */
IOMMUSIM_PLUGIN_EXPORT int iommusim_plugin_init(struct iommusim_plugin *p);

/* --- What the plugin calls from init ------------------------------------ */

/*
 * Register model descriptor @m (the Python class m->name). 0, or
 * SIM_EEXIST (a model of that name exists), SIM_EINVAL (the descriptor
 * fails the checks every built-in one passes: a parameter without doc, a
 * default that does not parse, ...), SIM_ENOMEM. On an error the reason is
 * kept for the loader's message and the whole load fails.
 */
int iommusim_plugin_add_model(struct iommusim_plugin *p, const struct sim_model *m);

/*
 * Register an IOMMU model: @info (name, one-line doc, ops with translate)
 * in the model table, and its descriptor @m, which must implement
 * IOMMU_OBJECT_IFACE with a struct iommu_object_ops as iface (that is how
 * DmaDevice, TranslationProbe and the OS DMA layer reach it). Both or
 * neither. Errors as iommusim_plugin_add_model().
 */
int iommusim_plugin_add_iommu(struct iommusim_plugin *p, const struct iommu_model_info *info,
                              const struct sim_model *m);

/*
 * Say why init fails (printf-style, one line, no trailing newline); the
 * loader prints "PATH: registration failed: MESSAGE". Returns SIM_EINVAL
 * so that init can `return iommusim_plugin_error(p, ...)`.
 */
int iommusim_plugin_error(struct iommusim_plugin *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The path the plugin was loaded from (for its own messages). */
const char *iommusim_plugin_path(const struct iommusim_plugin *p);

/* --- For programs that load plugins (the iommusim command) --------------- */

/*
 * Load the plugin file at @path (dlopen, version check, init). Loading the
 * same file again does nothing. 0, or SIM_ENOENT (no such file), SIM_IO
 * (dlopen failed: not a shared object, an undefined symbol), SIM_EINVAL
 * (not a plugin: a symbol is missing, or the API version differs),
 * SIM_EREFUSED (registration failed), with one line in err that starts
 * with @path.
 */
int iommusim_plugin_load(const char *path, char *err, size_t errlen);

/*
 * Load every plugin of a colon-separated @list (IOMMUSIM_PLUGIN_PATH): a
 * file is loaded, a directory's *.so files are loaded in name order, empty
 * items are skipped. Stops at the first error (as above).
 */
int iommusim_plugin_load_list(const char *list, char *err, size_t errlen);

#endif /* IOMMUSIM_PLUGIN_H */
