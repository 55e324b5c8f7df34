/*
 * testutil.h - small helpers shared by the unit tests.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <CUnit/CUnit.h>
#include <math.h>

/* |got - want| <= tol, with both numbers in the failure message. */
#define ASSERT_NEAR(got, want, tol)                                           \
    do {                                                                      \
        double g_ = (double)(got), w_ = (double)(want), t_ = (double)(tol);   \
        if (!(fabs(g_ - w_) <= t_))                                           \
            fprintf(stderr, "\n    %s:%d: %s = %.9g, want %.9g +- %.3g\n",    \
                    __FILE__, __LINE__, #got, g_, w_, t_);                    \
        CU_ASSERT(fabs(g_ - w_) <= t_);                                       \
    } while (0)

#endif /* TESTUTIL_H */
