/*
 * rowdeflate.c - a zlib stream for a chunk of rows that mostly repeat
 * (what and why: rowdeflate.h).
 *
 * Format (RFC 1950, RFC 1951): the two-byte zlib header 78 01 (deflate,
 * 32 KiB window, "fastest"), one final block of type 01 (fixed Huffman
 * codes), the end-of-block code, padding to a byte, and the Adler-32 of
 * the input, big-endian. Huffman codes are defined most significant bit
 * first while the stream is packed least significant bit first, so the
 * tables hold them bit-reversed; extra bits go in as they are.
 *
 * Matching: every row after the first is compared with the row before it
 * eight bytes at a time; equal stretches become matches one row back (in
 * pieces of at most 258 bytes, deflate's longest), the changed bytes of a
 * word literals. The first row (and any tail that is not a whole row) is
 * coded greedily with matches one element (8 bytes) or one byte back.
 *
 * Adler-32 follows the rows too: with A = 1 + sum d_i and B = n + sum
 * (n - i) d_i (mod 65521), a row's contribution is its byte sum S and its
 * position-weighted sum W, and a row differs from the one before only
 * where counts changed, so S and W are updated from the changed words
 * instead of being summed again over every byte (zlib's adler32 over every
 * byte cost as much as the encoding).
 */
#include "stats/rowdeflate.h"

#include <string.h>
#include <zlib.h>

#define ADLER_MOD 65521u

static uint32_t bit_reverse(uint32_t code, unsigned n)
{
    uint32_t r = 0;

    while (n--) {
        r = (r << 1) | (code & 1);
        code >>= 1;
    }
    return r;
}

/* RFC 1951 3.2.5: length codes 257..285, their base lengths and extra bits. */
static const uint16_t len_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
};
static const uint8_t len_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
};
static const uint16_t dist_base[30] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
    257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
};
static const uint8_t dist_extra[30] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
    7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
};

/* Fixed literal/length code of symbol s (RFC 1951 3.2.6), reversed. */
static void fixed_code(unsigned s, uint32_t *code, unsigned *n)
{
    if (s < 144) {
        *code = bit_reverse(0x30 + s, 8), *n = 8;
    } else if (s < 256) {
        *code = bit_reverse(0x190 + s - 144, 9), *n = 9;
    } else if (s < 280) {
        *code = bit_reverse(s - 256, 7), *n = 7;
    } else {
        *code = bit_reverse(0xc0 + s - 280, 8), *n = 8;
    }
}

void rowdeflate_init(struct rowdeflate *z)
{
    unsigned s, l, c = 0;

    memset(z, 0, sizeof(*z));
    for (s = 0; s < 256; s++) {
        uint32_t code;
        unsigned n;

        fixed_code(s, &code, &n);
        z->lit[s] = (uint16_t)code;
        z->litn[s] = (uint8_t)n;
    }
    for (l = 3; l <= 258; l++) {
        uint32_t code;
        unsigned n;

        while (c + 1 < 29 && len_base[c + 1] <= l)
            c++;
        fixed_code(257 + c, &code, &n);
        z->len[l] = code | (uint32_t)(l - len_base[c]) << n;
        z->lenn[l] = (uint8_t)(n + len_extra[c]);
    }
}

size_t rowdeflate_bound(size_t n)
{
    /* 9 bits a literal at worst, the header, end of block and trailer. */
    return n + n / 8 + 16;
}

/* The LSB-first bit packer: at most 32 bits pending between puts. */
struct bits {
    unsigned char *p, *end;
    uint64_t acc;
    unsigned n;
};

static inline int bits_put(struct bits *b, uint32_t v, unsigned n)
{
    b->acc |= (uint64_t)v << b->n;
    b->n += n;
    if (b->n >= 32) {
        if (b->end - b->p < 4)
            return -1;
        b->p[0] = (unsigned char)b->acc;
        b->p[1] = (unsigned char)(b->acc >> 8);
        b->p[2] = (unsigned char)(b->acc >> 16);
        b->p[3] = (unsigned char)(b->acc >> 24);
        b->p += 4;
        b->acc >>= 32;
        b->n -= 32;
    }
    return 0;
}

/* Length of the match of src[a..] with src[b..] (b < a), at most max. */
static inline size_t match_len(const unsigned char *src, size_t a, size_t b, size_t max)
{
    size_t l = 0;

    while (l + 8 <= max) {
        uint64_t x, y;

        memcpy(&x, src + a + l, 8);
        memcpy(&y, src + b + l, 8);
        if (x != y)
            return l + (size_t)(__builtin_ctzll(x ^ y) >> 3);   /* little-endian */
        l += 8;
    }
    while (l < max && src[a + l] == src[b + l])
        l++;
    return l;
}

/* A distance's code and extra bits, reversed code first. */
static void dist_code(size_t d, uint32_t *v, unsigned *n)
{
    unsigned c = 0;

    while (c + 1 < 30 && dist_base[c + 1] <= d)
        c++;
    *v = bit_reverse(c, 5) | (uint32_t)(d - dist_base[c]) << 5;
    *n = 5u + dist_extra[c];
}

/* Emit a match of m bytes at distance (dv, dn), in pieces of at most 258
   and at least 3; a leftover of 1 or 2 bytes goes out as literals. */
static int put_match(struct bits *b, const struct rowdeflate *z, const unsigned char *src,
                     size_t p, size_t m, uint32_t dv, unsigned dn)
{
    while (m >= 3) {
        size_t l = m > 258 ? 258 : m;

        if (m - l == 1 || m - l == 2)
            l -= 3;
        if (bits_put(b, z->len[l], z->lenn[l]) < 0 || bits_put(b, dv, dn) < 0)
            return -1;
        p += l;
        m -= l;
    }
    for (; m; m--, p++)
        if (bits_put(b, z->lit[src[p]], z->litn[src[p]]) < 0)
            return -1;
    return 0;
}

/*
 * The bytes [p, end) with greedy matches one element back (distance 8) or
 * in a run (distance 1): the first row, which has no row before it, and
 * anything not made of whole rows.
 */
static int put_plain(struct bits *b, const struct rowdeflate *z, const unsigned char *src,
                     size_t p, size_t end, uint32_t d8, unsigned n8)
{
    while (p < end) {
        size_t max = end - p < 258 ? end - p : 258, l = 0;
        uint32_t dv = d8;
        unsigned dn = n8;

        if (p >= 8 && src[p] == src[p - 8])
            l = match_len(src, p, p - 8, max);
        if (l < 3 && p >= 1 && src[p] == src[p - 1]) {
            l = match_len(src, p, p - 1, max);
            dv = 0, dn = 5;                     /* distance 1: code 0 */
        }
        if (l >= 3) {
            if (put_match(b, z, src, p, l, dv, dn) < 0)
                return -1;
            p += l;
        } else {
            if (bits_put(b, z->lit[src[p]], z->litn[src[p]]) < 0)
                return -1;
            p++;
        }
    }
    return 0;
}

size_t rowdeflate(const struct rowdeflate *z, const unsigned char *src, size_t n,
                  size_t row, unsigned char *out, size_t cap)
{
    return rowdeflate_fill(z, src, n, n, row, out, cap);
}

size_t rowdeflate_fill(const struct rowdeflate *z, const unsigned char *src, size_t filled,
                       size_t n, size_t row, unsigned char *out, size_t cap)
{
    struct bits b = { out, out + cap, 0, 0 };
    uint32_t drow = 0, d8, adler;
    unsigned nrow = 0, n8;
    size_t nrows, whole, r, m = 0, p;
    /* Adler-32 (see the top of the file): this row's byte sum s and
       position-weighted sum w, and the totals over the rows so far. */
    uint64_t s = 0, w = 0, sum_s = 0, sum_b = 0;

    if (cap < 8)
        return 0;
    if (row % 8 || row > ROWDEFLATE_MAX_ROW || row > n || n >= ((size_t)1 << 24))
        row = 0;                                /* no row structure to use */
    if (filled != n && (!row || n % row || !filled || filled % row || filled > n))
        return 0;                               /* padding needs whole rows */
    nrows = row ? n / row : 0;
    whole = nrows * row;
    if (row)
        dist_code(row, &drow, &nrow);
    dist_code(8, &d8, &n8);
    out[0] = 0x78;      /* CM 8 (deflate), CINFO 7 (32 KiB window) */
    out[1] = 0x01;      /* FLEVEL 0, no dictionary, (0x7801 % 31) == 0 */
    b.p += 2;
    if (bits_put(&b, 1 | 1 << 1, 3) < 0)       /* BFINAL 1, BTYPE 01 */
        return 0;
    /* The first row on its own (everything, without rows). */
    if (put_plain(&b, z, src, 0, row ? row : n, d8, n8) < 0)
        return 0;
    for (p = 0; p < row; p++) {
        s += src[p];
        w += (uint64_t)p * src[p];
    }
    sum_s = s;
    sum_b = (uint64_t)n * s - w;
    /*
     * Every later row against the one before, a word at a time: an equal
     * word extends the pending match m; a word that differs ends it at its
     * first changed byte, its changed bytes go out as literals, and the
     * match restarts after its last changed byte. Only changed bytes touch
     * the Adler-32 sums. Unsigned arithmetic wraps through negative steps;
     * every true partial sum is non-negative and, with n < 2^24, below 2^64,
     * so the totals are exact before the final reduction.
     */
    p = row;
    for (r = 1; r < nrows; r++) {
        const unsigned char *cur = src + r * row;

        if (r * row >= filled) {
            /* Past the filled rows: each repeats the one before, one long
               match; the row's sums s and w stay those of the last row. */
            m += (nrows - r) * row;
            for (; r < nrows; r++)
                sum_b += (uint64_t)(n - r * row) * s - w;
            sum_s += (uint64_t)(nrows - (filled / row)) * s;
            break;
        }
        size_t j;

        for (j = 0; j < row; j += 8) {
            uint64_t x, y, d;
            unsigned f, l, k;

            memcpy(&x, cur + j, 8);
            memcpy(&y, cur + j - row, 8);
            if (x == y) {
                m += 8;
                continue;
            }
            d = x ^ y;
            f = (unsigned)__builtin_ctzll(d) >> 3;          /* little-endian */
            l = 7 - ((unsigned)__builtin_clzll(d) >> 3);
            m += f;
            if (put_match(&b, z, src, p, m, drow, nrow) < 0)
                return 0;
            p += m;
            for (k = f; k <= l; k++, p++) {
                unsigned c = cur[j + k], o = cur[j + k - row];

                if (bits_put(&b, z->lit[c], z->litn[c]) < 0)
                    return 0;
                s += c;
                s -= o;
                w += (uint64_t)(j + k) * ((uint64_t)c - o);
            }
            m = 7 - l;
        }
        sum_s += s;
        sum_b += (uint64_t)(n - r * row) * s - w;
    }
    if (put_match(&b, z, src, p, m, drow, nrow) < 0)
        return 0;
    /* Bytes after the last whole row. */
    if (row && whole < n && put_plain(&b, z, src, whole, n, d8, n8) < 0)
        return 0;
    if (bits_put(&b, 0, 7) < 0)                 /* end of block: code 256 */
        return 0;
    while (b.n > 0) {                           /* pad to a byte, then flush */
        if (b.p == b.end)
            return 0;
        *b.p++ = (unsigned char)b.acc;
        b.acc >>= 8;
        b.n = b.n > 8 ? b.n - 8 : 0;
    }
    if (b.end - b.p < 4)
        return 0;
    if (row && whole == n)
        adler = (uint32_t)(((n + sum_b) % ADLER_MOD) << 16 | (1 + sum_s) % ADLER_MOD);
    else
        adler = (uint32_t)adler32(adler32(0L, Z_NULL, 0), src, (uInt)n);
    b.p[0] = (unsigned char)(adler >> 24);
    b.p[1] = (unsigned char)(adler >> 16);
    b.p[2] = (unsigned char)(adler >> 8);
    b.p[3] = (unsigned char)adler;
    return (size_t)(b.p + 4 - out);
}
