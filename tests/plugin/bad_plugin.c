/*
 * bad_plugin.c - plugins the loader must refuse (tests/cli/test_plugin.sh).
 *
 * One file, one variant per macro, each built like the example plugin
 * (pkg-config against the DESTDIR install):
 *   OTHER_VERSION  built for the plugin API version after this one
 *   NO_INIT        the version symbol but no iommusim_plugin_init
 *   UNDEFINED      calls a function no iommusim library has (dlopen fails)
 *   DUP_NAME       registers a descriptor named like a built-in model
 *   INIT_FAILS     registers a model, then init reports an error
 * Each registers (or would register) a valid model, so the only fault of a
 * variant is the one it is named after.
 */
#include "plugin/plugin.h"

static const struct sim_param params[] = {
    { .name = "x", .type = SIM_PT_INT, .def = "1", .doc = "an unused parameter" },
};

/* unused in the NO_INIT variant */
static const struct sim_model model __attribute__((unused)) = {
#ifdef DUP_NAME
    .name = "GenericIOMMU",
#else
    .name = "BadPluginModel",
#endif
    .doc = "A model of a plugin that is refused.",
    .params = params, .nparams = 1,
};

#ifdef OTHER_VERSION
const unsigned iommusim_plugin_api_version = IOMMUSIM_PLUGIN_API_VERSION + 1;
#else
IOMMUSIM_PLUGIN_API_VERSION_DEFINE;
#endif

#ifdef UNDEFINED
void iommusim_no_such_function(void);
#endif

#ifndef NO_INIT
int iommusim_plugin_init(struct iommusim_plugin *p)
{
#ifdef UNDEFINED
    iommusim_no_such_function();
#endif
    int r = iommusim_plugin_add_model(p, &model);
#ifdef INIT_FAILS
    if (!r)
        r = iommusim_plugin_error(p, "the device file this model needs is missing");
#endif
    return r;
}
#endif
