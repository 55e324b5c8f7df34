/*
 * test_error.c - the error convention: every code has its own message, and
 * messages read "where: what (detail)".
 */
#include <string.h>

#include "engine/error.h"
#include "testutil.h"

void test_error_messages_distinct(void);
void test_error_format_where_what_detail(void);
void test_error_format_truncates(void);

void test_error_messages_distinct(void)
{
    for (int a = SIM__E_FIRST + 1; a < SIM__E_LAST; a++) {
        CU_ASSERT(a < 0);
        CU_ASSERT_STRING_NOT_EQUAL(sim_strerror(a), "unknown error");
        CU_ASSERT_STRING_NOT_EQUAL(sim_errname(a), "SIM_E?");
        for (int b = a + 1; b < SIM__E_LAST; b++)
            CU_ASSERT_STRING_NOT_EQUAL(sim_strerror(a), sim_strerror(b));
    }
    CU_ASSERT_STRING_EQUAL(sim_strerror(12345), "unknown error");
    CU_ASSERT_STRING_EQUAL(sim_errname(SIM_EPAST), "SIM_EPAST");
}

void test_error_format_where_what_detail(void)
{
    char buf[128];
    int rc = sim_error_format(buf, sizeof(buf), SIM_ERANGE, "system.iommu.iotlb.ways",
                              "got %d, expected 1..%d", 0, 64);

    CU_ASSERT_EQUAL(rc, SIM_ERANGE);
    CU_ASSERT_STRING_EQUAL(buf, "system.iommu.iotlb.ways: value out of range (got 0, expected 1..64)");
    sim_error_format(buf, sizeof(buf), SIM_ENOENT, "missing.py", NULL);
    CU_ASSERT_STRING_EQUAL(buf, "missing.py: no such object or file");
}

void test_error_format_truncates(void)
{
    char buf[16];

    memset(buf, 'x', sizeof(buf));
    sim_error_format(buf, sizeof(buf), SIM_EINVAL, "a.very.long.path.name", "detail %d", 1);
    CU_ASSERT_EQUAL(strlen(buf), sizeof(buf) - 1);
    CU_ASSERT_EQUAL(strncmp(buf, "a.very.long.pat", 15), 0);
}
