/*
 * test_stats_rowdeflate.c - the row-delta deflate coder of the HDF5
 * writer's chunks (src/stats/rowdeflate.h), checked by an independent
 * decoder: zlib's uncompress() must give back every byte, which also checks
 * the stream's framing and its Adler-32 trailer (uncompress fails on a bad
 * checksum). Inputs: the shapes the writer makes (cumulative counts that
 * change in a few elements a row, rows of 8 to 3984 bytes, a partly filled
 * chunk padded with its last row), and the awkward ones (a single row, rows
 * not dividing the input, rows not a multiple of 8, no rows, all zeros,
 * runs longer than deflate's 258-byte match, random bytes, which must not
 * fit in as many bytes as they are).
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "stats/rowdeflate.h"
#include "testutil.h"

void test_stats_rowdeflate_roundtrip(void);
void test_stats_rowdeflate_incompressible(void);

static uint64_t xs(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;     /* xorshift64 */
    return *x;
}

/*
 * rows x cols cumulative counts: row r is row r-1 with `changes` random
 * elements incremented by a random amount below 2^bits.
 */
static void counts_rows(unsigned char *buf, size_t rows, size_t cols, unsigned changes,
                        unsigned bits, uint64_t *x)
{
    uint64_t *v = calloc(cols, sizeof(uint64_t));
    size_t r;
    unsigned k;

    for (r = 0; r < rows && v; r++) {
        for (k = 0; k < changes; k++)
            v[xs(x) % cols] += xs(x) & ((UINT64_C(1) << bits) - 1);
        memcpy(buf + r * cols * 8, v, cols * 8);
    }
    free(v);
}

/* Encode n bytes with rows of `row`, decode with zlib, compare; returns
   the stream's length (0 on any failure, reported). */
static size_t roundtrip(const unsigned char *src, size_t n, size_t row, const char *what)
{
    static struct rowdeflate z;
    static int init;
    size_t cap = rowdeflate_bound(n), len;
    unsigned char *out = malloc(cap), *back = malloc(n ? n : 1);
    uLongf got = n;
    int rc;

    if (!init) {
        rowdeflate_init(&z);
        init = 1;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    len = rowdeflate(&z, src, n, row, out, cap);
    rc = len ? uncompress(back, &got, out, len) : Z_DATA_ERROR;
    if (len == 0 || rc != Z_OK || got != n || memcmp(back, src, n) != 0) {
        fprintf(stderr, "rowdeflate %s (n %zu row %zu): len %zu zlib %d got %lu\n",
                what, n, row, len, rc, (unsigned long)got);
        CU_FAIL("rowdeflate stream does not decode to its input");
        len = 0;
    }
    free(out);
    free(back);
    return len;
}

/*
 * rowdeflate_fill of the first `filled` rows must give byte for byte the
 * stream rowdeflate makes of the same chunk padded with its last row (the
 * writer's partly filled chunks), and so decode to the padded chunk.
 */
static void fill_matches_padded(const unsigned char *src, size_t filled, size_t n,
                                size_t row)
{
    static struct rowdeflate z;
    size_t cap = rowdeflate_bound(n), a, b, p;
    unsigned char *pad = malloc(n), *oa = malloc(cap), *ob = malloc(cap);

    rowdeflate_init(&z);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pad);
    CU_ASSERT_PTR_NOT_NULL_FATAL(oa);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ob);
    memcpy(pad, src, filled);
    for (p = filled; p < n; p += row)
        memcpy(pad + p, src + filled - row, row);
    a = roundtrip(pad, n, row, "padded chunk");
    b = rowdeflate_fill(&z, src, filled, n, row, ob, cap);
    CU_ASSERT(a > 0 && a == b);
    if (a > 0 && a == b) {
        rowdeflate(&z, pad, n, row, oa, cap);
        CU_ASSERT(memcmp(oa, ob, a) == 0);
    }
    free(pad);
    free(oa);
    free(ob);
}

void test_stats_rowdeflate_roundtrip(void)
{
    static const size_t cols[] = { 1, 3, 8, 16, 66, 498, 4096 };
    uint64_t x = 88172645463325252ULL;
    size_t n = 64 * 4096 * 8, i, len;
    unsigned char *buf = malloc(n);
    unsigned ch;

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    /* The writer's chunks: about 64 KiB of rows, few to many changes. */
    for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        size_t rb = cols[i] * 8, rows = 65536 / rb ? 65536 / rb : 1;

        for (ch = 0; ch <= 24; ch += 6) {
            counts_rows(buf, rows, cols[i], ch, ch == 24 ? 40 : 6, &x);
            len = roundtrip(buf, rows * rb, rb, "counts");
            /* Few changes a row compress well: at most a few bytes per
               unchanged 258 bytes plus ~4 bytes per change. */
            if (ch == 6 && cols[i] >= 16)
                CU_ASSERT_TRUE(len > 0 && len < rows * rb / 4);
        }
        /* A chunk filled to row 5, padded with its last row. */
        counts_rows(buf, rows, cols[i], 3, 8, &x);
        {
            size_t r;

            for (r = 5; r < rows; r++)
                memcpy(buf + r * rb, buf + 4 * rb, rb);
            /* The padding costs one match (< 3 bytes) per 258 bytes. */
            if (rows > 5)
                CU_ASSERT_TRUE(roundtrip(buf, rows * rb, rb, "padded") <
                               2 * rb + rows * rb / 86 + 64);
        }
    }
    /* Awkward shapes: one row, rows not dividing n, rows not a multiple of
       8, no rows, rows beyond deflate's window (coded without them). */
    counts_rows(buf, 40, 66, 5, 12, &x);
    roundtrip(buf, 528, 528, "one row");
    roundtrip(buf, 528 * 10 + 100, 528, "a partial last row");
    roundtrip(buf, 528 * 10, 44, "rows of 44 bytes");
    roundtrip(buf, 528 * 10, 0, "no rows");
    roundtrip(buf, 5, 528, "shorter than a row");
    roundtrip(buf, 0, 0, "empty");
    counts_rows(buf, 8, 8192, 50, 20, &x);
    roundtrip(buf, 8 * 65536, 65536, "rows beyond the window");
    /* Zeros: runs far longer than a match. */
    memset(buf, 0, n);
    CU_ASSERT_TRUE(roundtrip(buf, 65536, 528, "zeros") < 1024);
    CU_ASSERT_TRUE(roundtrip(buf, 65536, 0, "zeros without rows") < 1024);
    /* Every byte value as a literal (codes of 8 and 9 bits). */
    for (i = 0; i < 4096; i++)
        buf[i] = (unsigned char)(i * 7);
    roundtrip(buf, 4096, 256, "all literals");
    free(buf);
    /* Partly filled chunks, as the writer pads them: one-value rows (a
       counter: 1 of 4096 rows, a few), summary-wide rows, a full chunk. */
    {
        static const size_t shapes[][3] = {     /* filled rows, rows, cols */
            { 1, 4096, 1 }, { 2, 4096, 1 }, { 37, 4096, 1 }, { 4095, 4096, 1 },
            { 1, 1024, 10 }, { 300, 1024, 10 }, { 512, 512, 16 }, { 5, 64, 498 },
        };
        uint64_t seed = 0x9e3779b97f4a7c15u;
        size_t k;

        for (k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
            size_t row = shapes[k][2] * 8, bytes = shapes[k][1] * row;
            unsigned char *chunk = malloc(bytes);

            CU_ASSERT_PTR_NOT_NULL_FATAL(chunk);
            counts_rows(chunk, shapes[k][0], shapes[k][2], 3, 20, &seed);
            fill_matches_padded(chunk, shapes[k][0] * row, bytes, row);
            free(chunk);
        }
        /* Not whole rows: refused, so the caller pads itself. */
        {
            static struct rowdeflate z;
            unsigned char src[64] = { 1 }, out[256];

            rowdeflate_init(&z);
            CU_ASSERT(rowdeflate_fill(&z, src, 12, 64, 8, out, sizeof(out)) == 0);
            CU_ASSERT(rowdeflate_fill(&z, src, 0, 64, 8, out, sizeof(out)) == 0);
            CU_ASSERT(rowdeflate_fill(&z, src, 16, 64, 8, out, sizeof(out)) > 0);
        }
    }
}

void test_stats_rowdeflate_incompressible(void)
{
    struct rowdeflate z;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    size_t n = 32768, i;
    unsigned char *buf = malloc(n), *out = malloc(rowdeflate_bound(n));

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    rowdeflate_init(&z);
    for (i = 0; i < n; i++)
        buf[i] = (unsigned char)(xs(&x) >> 24);
    /* Random bytes cost at least 8 bits each: no room in n bytes (the
       writer then stores the chunk raw), and with the bound they decode. */
    CU_ASSERT_EQUAL(rowdeflate(&z, buf, n, 512, out, n), 0);
    CU_ASSERT_TRUE(roundtrip(buf, n, 512, "random") > n);
    /* Too small a buffer for even the header and trailer. */
    CU_ASSERT_EQUAL(rowdeflate(&z, buf, 16, 8, out, 7), 0);
    free(buf);
    free(out);
}
