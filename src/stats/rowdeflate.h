/*
 * rowdeflate.h - a zlib stream for a chunk of rows that mostly repeat.
 *
 * A compressed HDF5 chunk of histogram or vector counts is `rows` rows of
 * cumulative counts, and from one dump to the next only a few counts
 * change: each row is mostly the row before it. rowdeflate() encodes such
 * a chunk as a standard zlib stream (RFC 1950 header and Adler-32 trailer
 * around one RFC 1951 block with the fixed Huffman codes) whose matches
 * look back one row (distance `row`) or one 8-byte element (distance 8,
 * runs of zeros): an unchanged stretch of a row costs one length/distance
 * code per 258 bytes, a changed count a literal per changed byte. There is
 * no hash table and no search, so the cost follows the number of changes
 * plus n/8 word compares, where zlib's deflate (level 1, after HDF5's
 * shuffle) hashes every byte: the writer thread spent half its time there.
 *
 * Any inflater decodes the stream (HDF5's deflate filter, zlib's
 * uncompress): the chunk is written with the shuffle filter's bit set in
 * the chunk's filter mask, so readers apply deflate only.
 */
#ifndef STATS_ROWDEFLATE_H
#define STATS_ROWDEFLATE_H

#include <stddef.h>
#include <stdint.h>

/* The fixed Huffman codes, bit-reversed for an LSB-first bit stream, and
   each match length's code with its extra bits: built once per writer. */
struct rowdeflate {
    uint16_t lit[256];          /* literal code */
    uint8_t litn[256];          /* its length in bits (8 or 9) */
    uint32_t len[259];          /* length 3..258: code | extra << codebits */
    uint8_t lenn[259];
};

/* The longest look-back deflate allows. */
#define ROWDEFLATE_MAX_ROW 32768

void rowdeflate_init(struct rowdeflate *z);

/* An output buffer of this many bytes always holds the stream. */
size_t rowdeflate_bound(size_t n);

/*
 * Encode the n bytes at src, rows of `row` bytes (row <= ROWDEFLATE_MAX_ROW;
 * 0 for no row look-back), into out[cap]. Returns the stream's length, or 0
 * if it needs more than cap bytes (a caller that passes cap = n and gets 0
 * knows the data does not compress).
 */
size_t rowdeflate(const struct rowdeflate *z, const unsigned char *src, size_t n,
                  size_t row, unsigned char *out, size_t cap);

/*
 * The same stream as rowdeflate() of n bytes whose bytes past the first
 * `filled` repeat the last filled row (a partly filled chunk, padded),
 * reading only src[0, filled): the padding costs one length/distance code
 * per 258 bytes and no compares. filled and n must be whole rows (n ==
 * filled: rowdeflate()); returns 0 otherwise, as when the stream needs
 * more than cap bytes.
 */
size_t rowdeflate_fill(const struct rowdeflate *z, const unsigned char *src, size_t filled,
                       size_t n, size_t row, unsigned char *out, size_t cap);

#endif /* STATS_ROWDEFLATE_H */
