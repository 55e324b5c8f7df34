/*
 * unit_main.c - registers every test in test-list.h and runs them.
 *
 * Usage: unit [SUITE[/TEST]]   (no argument: everything)
 * Exit status is non-zero when any test fails. The last lines printed are
 * CUnit's run summary, which CI reads.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "test-list.h"

#define DECLARE_SUITE_(name)
#define DECLARE_TEST_(suite, fn) void fn(void);
IOMMUSIM_TEST_LIST(DECLARE_SUITE_, DECLARE_TEST_)

static const char *only_suite;
static const char *only_test;

static int wanted(const char *suite, const char *test)
{
    if (only_suite && strcmp(only_suite, suite) != 0)
        return 0;
    if (test && only_test && strcmp(only_test, test) != 0)
        return 0;
    return 1;
}

int main(int argc, char **argv)
{
    static char filter[256];
    CU_pSuite suite = NULL;
    const char *suite_name = NULL;
    unsigned failed;

    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            printf("usage: %s [SUITE[/TEST]]\n", argv[0]);
            return 0;
        }
        snprintf(filter, sizeof(filter), "%s", argv[1]);
        only_suite = filter;
        char *slash = strchr(filter, '/');
        if (slash) {
            *slash = '\0';
            only_test = slash + 1;
        }
    }
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;

#define REGISTER_SUITE_(name)                                                 \
    suite_name = #name;                                                       \
    suite = wanted(#name, NULL) ? CU_add_suite(#name, NULL, NULL) : NULL;
#define REGISTER_TEST_(sname, fn)                                             \
    if (suite && wanted(suite_name, #fn))                                     \
        CU_add_test(suite, #fn, fn);
    IOMMUSIM_TEST_LIST(REGISTER_SUITE_, REGISTER_TEST_)
    (void)suite_name;

    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
