/*
 * test_plugin_registry.c - the model tables grow at run time (what a plugin's
 * registration does, without dlopen): an added descriptor is found, listed
 * and checked like a built-in one; a taken name or a bad descriptor is
 * refused with one line and changes nothing; truncating restores the
 * tables exactly (the loader's rollback); the IOMMU model table likewise.
 * Loading real shared objects is tests/cli/test_plugin.sh's job.
 */
#include <stdio.h>
#include <string.h>

#include "engine/error.h"
#include "engine/object.h"
#include "iommu/iommu.h"
#include "iommu/models/models.h"
#include "py/registry.h"
#include "testutil.h"

void test_plugin_registry_add_and_truncate(void);
void test_plugin_registry_refusals(void);
void test_plugin_iommu_table_add_and_truncate(void);

static const struct sim_param good_params[] = {
    { .name = "depth", .type = SIM_PT_INT, .def = "8", .min = "1", .doc = "a depth" },
};

static const struct sim_model good = {
    .name = "TestPluginModel", .doc = "A model added at run time.",
    .params = good_params, .nparams = 1,
};

void test_plugin_registry_add_and_truncate(void)
{
    size_t n = model_registry_count(), builtin = model_registry_builtin_count();
    char err[256] = "";

    CU_ASSERT_EQUAL(n, builtin);            /* nothing added by other tests */
    CU_ASSERT_PTR_NULL(model_registry_find("TestPluginModel"));
    CU_ASSERT_EQUAL(model_registry_add(&good, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(model_registry_count(), n + 1);
    CU_ASSERT_PTR_EQUAL(model_registry_at(n), &good);   /* after the built-in ones */
    CU_ASSERT_PTR_EQUAL(model_registry_find("TestPluginModel"), &good);
    CU_ASSERT_PTR_NULL(model_registry_at(n + 1));
    CU_ASSERT_EQUAL(model_registry_builtin_count(), builtin);
    CU_ASSERT_EQUAL(model_registry_check(stderr), 0);
    model_registry_truncate(n);
    CU_ASSERT_EQUAL(model_registry_count(), n);
    CU_ASSERT_PTR_NULL(model_registry_find("TestPluginModel"));
    /* Truncating below the built-in table keeps the built-in table. */
    model_registry_truncate(0);
    CU_ASSERT_EQUAL(model_registry_count(), builtin);
    CU_ASSERT_PTR_NOT_NULL(model_registry_find("GenericIOMMU"));
}

void test_plugin_registry_refusals(void)
{
    static const struct sim_param no_doc[] = { { .name = "x", .type = SIM_PT_INT, .def = "1" } };
    static const struct sim_param bad_def[] = {
        { .name = "lat", .type = SIM_PT_LATENCY, .def = "fast", .doc = "a latency" },
    };
    static const struct sim_model dup = { .name = "GenericIOMMU", .doc = "a second one" };
    static const struct sim_model undocumented = {
        .name = "TestNoDoc", .doc = "d", .params = no_doc, .nparams = 1 };
    static const struct sim_model baddefault = {
        .name = "TestBadDefault", .doc = "d", .params = bad_def, .nparams = 1 };
    static const struct sim_model noiface = {
        .name = "TestNoIface", .doc = "d", .implements = "IOMMU" };
    size_t n = model_registry_count();
    char err[256];

    CU_ASSERT_EQUAL(model_registry_add(&dup, err, sizeof(err)), SIM_EEXIST);
    CU_ASSERT_STRING_EQUAL(err, "model GenericIOMMU: the name is taken (a built-in model)");
    CU_ASSERT_EQUAL(model_registry_add(&undocumented, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_STRING_EQUAL(err, "bad model descriptor: TestNoDoc: a parameter without a "
                           "name or doc");
    CU_ASSERT_EQUAL(model_registry_add(&baddefault, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad model descriptor: TestBadDefault.lat: bad default"));
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    CU_ASSERT_EQUAL(model_registry_add(&noiface, err, sizeof(err)), SIM_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "implements IOMMU without its table of operations"));
    CU_ASSERT_EQUAL(model_registry_add(NULL, err, sizeof(err)), SIM_EINVAL);
    /* A plugin's name is taken by the next plugin too. */
    CU_ASSERT_EQUAL(model_registry_add(&good, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(model_registry_add(&good, err, sizeof(err)), SIM_EEXIST);
    CU_ASSERT_STRING_EQUAL(err, "model TestPluginModel: the name is taken (a model of "
                           "another plugin)");
    CU_ASSERT_EQUAL(model_registry_count(), n + 1);
    model_registry_truncate(n);
    CU_ASSERT_EQUAL(model_registry_count(), n);
}

static struct iommu_tlb_entry identity(struct iommu *mmu, uint64_t iova, unsigned flag,
                                       unsigned idx)
{
    struct iommu_tlb_entry e = { .iova = iova & ~UINT64_C(0xfff),
                                 .translated_addr = iova & ~UINT64_C(0xfff),
                                 .addr_mask = 0xfff, .perm = IOMMU_RW };

    (void)mmu;
    (void)flag;
    (void)idx;
    return e;
}

void test_plugin_iommu_table_add_and_truncate(void)
{
    static const struct iommu_ops ops = { .translate = identity };
    static const struct iommu_ops no_translate = { .translate = NULL };
    static const struct iommu_model_info mine = { "test_identity", "identity", &ops };
    static const struct iommu_model_info taken = { "generic", "a second generic", &ops };
    static const struct iommu_model_info broken = { "test_broken", "no translate",
                                                    &no_translate };
    unsigned n = iommu_model_count();

    CU_ASSERT_EQUAL(n, iommu_models_count);
    CU_ASSERT_PTR_EQUAL(iommu_model_at(0), &iommu_models[0]);
    CU_ASSERT_EQUAL(iommu_model_register(&mine), 0);
    CU_ASSERT_EQUAL(iommu_model_count(), n + 1);
    CU_ASSERT_PTR_EQUAL(iommu_model_at(n), &mine);
    CU_ASSERT_PTR_EQUAL(iommu_model_find("test_identity"), &mine);
    CU_ASSERT_EQUAL(iommu_model_register(&mine), SIM_EEXIST);
    CU_ASSERT_EQUAL(iommu_model_register(&taken), SIM_EEXIST);
    CU_ASSERT_EQUAL(iommu_model_register(&broken), SIM_EINVAL);     /* B1 */
    CU_ASSERT_EQUAL(iommu_model_count(), n + 1);
    iommu_model_truncate(n);
    CU_ASSERT_EQUAL(iommu_model_count(), n);
    CU_ASSERT_PTR_NULL(iommu_model_find("test_identity"));
    CU_ASSERT_PTR_NOT_NULL(iommu_model_find("generic"));
}
