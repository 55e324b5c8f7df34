/*
 * test_pgtable_granule.c - page tables with the 16 KiB and 64 KiB
 * translation granules (Arm DDI 0487, VMSAv8-64 translation table format).
 *
 * Every expected level count, index, node address and page size below is
 * derived from the granule's geometry, written out next to the assertion:
 *   16 KiB: 14-bit offset, 11 bits (2048 entries) per level;
 *   64 KiB: 16-bit offset, 13 bits (8192 entries) per level;
 * levels = ceil((ia_bits - offset) / bits), the top level taking the rest.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "engine/error.h"
#include "mem/pgtable.h"

void test_pgtable_granule_levels(void);
void test_pgtable_granule_16k_map_walk(void);
void test_pgtable_granule_64k_map_walk(void);
void test_pgtable_granule_64k_pgsize_and_unmap(void);
void test_pgtable_granule_bad_input(void);

#define K16 UINT64_C(0x4000)
#define M32 UINT64_C(0x2000000)
#define K64 UINT64_C(0x10000)
#define M512 UINT64_C(0x20000000)

void test_pgtable_granule_levels(void)
{
    struct pgtable pt;

    /* 48-bit input: 4K: (48-12)/9 = 4; 16K: ceil(34/11) = 4 (top level
     * 34 - 33 = 1 bit); 64K: ceil(32/13) = 3 (top level 32 - 26 = 6 bits). */
    CU_ASSERT_EQUAL(pgtable_levels_for(4096, 48), 4);
    CU_ASSERT_EQUAL(pgtable_levels_for(16384, 48), 4);
    CU_ASSERT_EQUAL(pgtable_levels_for(65536, 48), 3);
    /* 39 bits with 4K: 27 / 9 = 3 (the 3-level VT-d/LPAE shape); 42 bits
     * with 64K: 26 / 13 = 2; 47 bits with 16K: ceil(33 / 11) = 3. */
    CU_ASSERT_EQUAL(pgtable_levels_for(4096, 39), 3);
    CU_ASSERT_EQUAL(pgtable_levels_for(65536, 42), 2);
    CU_ASSERT_EQUAL(pgtable_levels_for(16384, 47), 3);
    CU_ASSERT_EQUAL(pgtable_levels_for(8192, 48), 0);

    /* pgtable_init is the 4K granule: same geometry as before. */
    CU_ASSERT_EQUAL_FATAL(pgtable_init(&pt, 4, 0x1000, 0), 0);
    CU_ASSERT_EQUAL(pt.page_shift, 12);
    CU_ASSERT_EQUAL(pt.bits, 9);
    CU_ASSERT_EQUAL(pgtable_span(&pt), UINT64_C(1) << 48);
    pgtable_destroy(&pt);

    /* 16K, 48 bits: leaf sizes 2^14, 2^25 (32 MiB), 2^36, 2^47. */
    CU_ASSERT_EQUAL_FATAL(pgtable_init_granule(&pt, 16384, 48, K16 | M32, 0), 0);
    CU_ASSERT_EQUAL(pt.levels, 4);
    CU_ASSERT_EQUAL(pgtable_leaf_size(&pt, 1), K16);
    CU_ASSERT_EQUAL(pgtable_leaf_size(&pt, 2), M32);
    CU_ASSERT_EQUAL(pgtable_leaf_size(&pt, 3), UINT64_C(1) << 36);
    CU_ASSERT_EQUAL(pgtable_span(&pt), UINT64_C(1) << 48);
    /* The root has 2 entries: its host node is 2 x 8 bytes of entries. */
    CU_ASSERT(pgtable_mem_bytes(&pt) < sizeof(pt) + 64);
    pgtable_destroy(&pt);

    /* 64K, 48 bits: leaf sizes 2^16, 2^29 (512 MiB), 2^42. */
    CU_ASSERT_EQUAL_FATAL(pgtable_init_granule(&pt, 65536, 48, K64 | M512, 0), 0);
    CU_ASSERT_EQUAL(pt.levels, 3);
    CU_ASSERT_EQUAL(pgtable_leaf_size(&pt, 1), K64);
    CU_ASSERT_EQUAL(pgtable_leaf_size(&pt, 2), M512);
    CU_ASSERT_EQUAL(pgtable_granule(&pt), K64);
    pgtable_destroy(&pt);
}

void test_pgtable_granule_16k_map_walk(void)
{
    const uint64_t base = UINT64_C(0x100000000);
    struct pgtable pt;
    struct pgtable_result r;
    struct pgtable_path p;

    CU_ASSERT_EQUAL_FATAL(pgtable_init_granule(&pt, 16384, 48, K16 | M32, base), 0);
    /* One 16 KiB page at IOVA 0x4000 (level-1 index 1). */
    CU_ASSERT_EQUAL(pgtable_map(&pt, 0x4000, 0xabc000, K16, PGTABLE_PERM_R), 0);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0x7ffc, &r), 0);
    CU_ASSERT_EQUAL(r.translated_addr, 0xabc000);
    CU_ASSERT_EQUAL(r.addr_mask, K16 - 1);
    CU_ASSERT_EQUAL(r.level, 1);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0x8000, &r), SIM_EFAULT);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0x3fff, &r), SIM_EFAULT);
    /* Root + one table per level below it. */
    CU_ASSERT_EQUAL(pt.st.nodes, 4);

    /* The walk: 4 reads. Nodes are numbered in creation order (root 0,
     * then levels 3, 2, 1) and each takes one 16 KiB granule of simulated
     * memory, so the level-1 table is at base + 3 x 0x4000 and the PTE of
     * index 1 at + 8. */
    CU_ASSERT_EQUAL(pgtable_walk(&pt, 0x5000, &p, &r), 0);
    CU_ASSERT_EQUAL(p.n, 4);
    CU_ASSERT_EQUAL(p.level[0], 4);
    CU_ASSERT_EQUAL(p.pte_addr[0], base);
    CU_ASSERT_EQUAL(p.pte_addr[1], base + 1 * K16);
    CU_ASSERT_EQUAL(p.pte_addr[2], base + 2 * K16);
    CU_ASSERT_EQUAL(p.pte_addr[3], base + 3 * K16 + 8);

    /* A 32 MiB block at 3 x 32 MiB: level 2 (index 3), under the same level-3
     * and level-2 tables (its bits 36 and up are 0): 3 reads, no new node. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, 3 * M32, 5 * M32, M32, 3), 0);
    CU_ASSERT_EQUAL(pt.st.nodes, 4);
    CU_ASSERT_EQUAL(pgtable_walk(&pt, 3 * M32 + 0x123456, &p, &r), 0);
    CU_ASSERT_EQUAL(p.n, 3);
    CU_ASSERT_EQUAL(p.pte_addr[2], base + 2 * K16 + 3 * 8);
    CU_ASSERT_EQUAL(r.level, 2);
    CU_ASSERT_EQUAL(r.addr_mask, M32 - 1);
    CU_ASSERT_EQUAL(r.translated_addr, 5 * M32);

    /* The root's second entry (bit 47 set) and the end of the span. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, UINT64_C(1) << 47, 0, K16, 1), 0);
    CU_ASSERT_EQUAL(pgtable_walk(&pt, UINT64_C(1) << 47, &p, &r), 0);
    CU_ASSERT_EQUAL(p.pte_addr[0], base + 8);
    CU_ASSERT_EQUAL(pgtable_map(&pt, (UINT64_C(1) << 48) - K16, 0, K16, 1), 0);
    CU_ASSERT_EQUAL(pgtable_map(&pt, UINT64_C(1) << 48, 0, K16, 1), SIM_ERANGE);

    /* Nodes: root; under root entry 0 the level-3, level-2 (it holds the
     * block) and level-1 tables = 3; under root entry 1 the level-3 table
     * and, for 2^47, a level-2 and a level-1 table = 3; 2^48 - 16K shares
     * that level-3 table (root entry 1) but has level-3 index 2047: its own
     * level-2 and level-1 tables = 2. Total 9. */
    CU_ASSERT_EQUAL(pt.st.nodes, 1 + 3 + 3 + 2);
    /* Unmapping the first page frees its level-1 table only (the level-2
     * table still holds the block). */
    CU_ASSERT_EQUAL(pgtable_unmap(&pt, 0x4000, K16, NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 0x4000, &r), SIM_EFAULT);
    CU_ASSERT_EQUAL(pgtable_lookup(&pt, 3 * M32, &r), 0);
    CU_ASSERT_EQUAL(pt.st.nodes, 8);
    CU_ASSERT_EQUAL(pt.st.leaves, 3);
    pgtable_destroy(&pt);
    CU_ASSERT_EQUAL(pt.st.nodes, 0);
}

void test_pgtable_granule_64k_map_walk(void)
{
    const uint64_t base = UINT64_C(0x200000000);
    struct pgtable pt;
    struct pgtable_result r;
    struct pgtable_path p;
    size_t bytes;

    CU_ASSERT_EQUAL_FATAL(pgtable_init_granule(&pt, 65536, 48, K64 | M512, base), 0);
    /* A 64 KiB page at 0x10000 (level-1 index 1): 3 reads. Nodes 0 (root),
     * 1 (level 2), 2 (level 1), 64 KiB of simulated memory each. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, K64, 0x30000, K64, PGTABLE_PERM_R | PGTABLE_PERM_W), 0);
    CU_ASSERT_EQUAL(pgtable_walk(&pt, K64 + 0xfff8, &p, &r), 0);
    CU_ASSERT_EQUAL(p.n, 3);
    CU_ASSERT_EQUAL(p.level[0], 3);
    CU_ASSERT_EQUAL(p.level[2], 1);
    CU_ASSERT_EQUAL(p.pte_addr[0], base);
    CU_ASSERT_EQUAL(p.pte_addr[1], base + K64);
    CU_ASSERT_EQUAL(p.pte_addr[2], base + 2 * K64 + 8);
    CU_ASSERT_EQUAL(r.translated_addr, 0x30000);
    CU_ASSERT_EQUAL(r.addr_mask, K64 - 1);
    /* The neighbour 64 KiB page shares the level-1 table: the same first two
     * PTE addresses, the next 8 bytes of the last table. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, 2 * K64, 0x50000, K64, 1), 0);
    CU_ASSERT_EQUAL(pgtable_walk(&pt, 2 * K64, &p, &r), 0);
    CU_ASSERT_EQUAL(p.pte_addr[1], base + K64);
    CU_ASSERT_EQUAL(p.pte_addr[2], base + 2 * K64 + 16);
    CU_ASSERT_EQUAL(pt.st.nodes, 3);

    /* A 512 MiB block at 2 x 512 MiB: a level-2 leaf, index 2 of the level-2
     * table: 2 reads. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, 2 * M512, 3 * M512, M512, 1), 0);
    CU_ASSERT_EQUAL(pgtable_walk(&pt, 2 * M512 + 0x1234567, &p, &r), 0);
    CU_ASSERT_EQUAL(p.n, 2);
    CU_ASSERT_EQUAL(p.pte_addr[1], base + K64 + 2 * 8);
    CU_ASSERT_EQUAL(r.level, 2);
    CU_ASSERT_EQUAL(r.addr_mask, M512 - 1);
    CU_ASSERT_EQUAL(r.translated_addr, 3 * M512);
    /* A fault in an empty level-2 slot reads 2 PTEs (root and level 2). */
    CU_ASSERT_EQUAL(pgtable_walk(&pt, 5 * M512, &p, &r), SIM_EFAULT);
    CU_ASSERT_EQUAL(p.n, 2);
    /* Host memory: a 64-entry root and two 8192-entry tables. */
    bytes = pgtable_mem_bytes(&pt);
    CU_ASSERT(bytes >= 2 * 8192 * 8 + 64 * 8 && bytes <= 2 * 8192 * 8 + 64 * 8 + 3 * 64 + sizeof(pt));
    pgtable_destroy(&pt);
}

struct leaves {
    unsigned n;
    uint64_t iova[8], mask[8];
};

static void note_leaf(void *arg, uint64_t iova, const struct pgtable_result *r)
{
    struct leaves *l = arg;

    if (l->n < 8) {
        l->iova[l->n] = iova;
        l->mask[l->n] = r->addr_mask;
    }
    l->n++;
}

static void note_unmap(void *arg, uint64_t iova, const struct pgtable_result *old)
{
    note_leaf(arg, iova, old);
}

void test_pgtable_granule_64k_pgsize_and_unmap(void)
{
    struct pgtable pt;
    struct leaves seen = {0}, gone = {0};
    uint64_t bytes;

    CU_ASSERT_EQUAL_FATAL(pgtable_init_granule(&pt, 65536, 48, K64 | M512, 0), 0);
    /* 64K below a 512 MiB boundary, then 512 MiB + 64K: iommu_pgsize picks
     * 64K (alignment), 512M, then 64K (remaining size): 3 leaves. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, M512 - K64, M512 - K64, M512 + 2 * K64, 1), 0);
    CU_ASSERT_EQUAL(pt.st.leaves, 3);
    pgtable_for_each(&pt, 0, UINT64_MAX, note_leaf, &seen);
    CU_ASSERT_EQUAL(seen.n, 3);
    CU_ASSERT_EQUAL(seen.iova[0], M512 - K64);
    CU_ASSERT_EQUAL(seen.mask[0], K64 - 1);
    CU_ASSERT_EQUAL(seen.iova[1], M512);
    CU_ASSERT_EQUAL(seen.mask[1], M512 - 1);
    CU_ASSERT_EQUAL(seen.iova[2], 2 * M512);
    CU_ASSERT_EQUAL(seen.mask[2], K64 - 1);
    /* Cutting the block is refused; so is a 4 KiB-aligned range. */
    CU_ASSERT_EQUAL(pgtable_unmap(&pt, M512, M512 / 2, NULL, NULL, &bytes), SIM_EINVAL);
    CU_ASSERT_EQUAL(pgtable_unmap(&pt, 2 * M512, 0x1000, NULL, NULL, &bytes), SIM_EINVAL);
    CU_ASSERT_EQUAL(pgtable_map(&pt, 4 * M512, 0x1000, K64, 1), SIM_EINVAL);
    /* A 64K page over the block overlaps. */
    CU_ASSERT_EQUAL(pgtable_map(&pt, M512 + K64, 0, K64, 1), SIM_EEXIST);
    CU_ASSERT_EQUAL(pgtable_unmap(&pt, 0, 4 * M512, note_unmap, &gone, &bytes), 0);
    CU_ASSERT_EQUAL(bytes, M512 + 2 * K64);
    CU_ASSERT_EQUAL(gone.n, 3);
    CU_ASSERT_EQUAL(gone.iova[1], M512);
    CU_ASSERT_EQUAL(pt.st.leaves, 0);
    CU_ASSERT_EQUAL(pt.st.nodes, 1);       /* emptied tables freed */
    pgtable_destroy(&pt);
}

void test_pgtable_granule_bad_input(void)
{
    struct pgtable pt;

    CU_ASSERT_EQUAL(pgtable_init_granule(&pt, 8192, 48, 8192, 0), SIM_EINVAL);
    /* 4 KiB or 1 GiB are no leaf sizes of the 64K granule. */
    CU_ASSERT_EQUAL(pgtable_init_granule(&pt, 65536, 48, 0x1000 | K64, 0), SIM_EINVAL);
    CU_ASSERT_EQUAL(pgtable_init_granule(&pt, 65536, 48, K64 | (UINT64_C(1) << 30), 0),
                    SIM_EINVAL);
    /* The granule itself must be a leaf size. */
    CU_ASSERT_EQUAL(pgtable_init_granule(&pt, 16384, 48, M32, 0), SIM_EINVAL);
    /* Tables aligned to the granule. */
    CU_ASSERT_EQUAL(pgtable_init_granule(&pt, 65536, 48, K64, 0x1000), SIM_EINVAL);
    /* Too wide, and too narrow for two levels (64K: 16 + 13 = 29 bits). */
    CU_ASSERT_EQUAL(pgtable_init_granule(&pt, 4096, 58, 0x1000, 0), SIM_EINVAL);
    CU_ASSERT_EQUAL(pgtable_init_granule(&pt, 65536, 29, K64, 0), SIM_EINVAL);
    CU_ASSERT_EQUAL_FATAL(pgtable_init_granule(&pt, 65536, 30, K64, 0), 0);
    CU_ASSERT_EQUAL(pt.levels, 2);
    CU_ASSERT_EQUAL(pgtable_map(&pt, UINT64_C(1) << 30, 0, K64, 1), SIM_ERANGE);
    pgtable_destroy(&pt);
}
