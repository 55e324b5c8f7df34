/*
 * smmuv3_object.c - the `SMMUv3` model descriptor: the SMMUv3 model
 * (smmuv3.h) as an object of a config, with gem5's parameters under gem5's
 * names where gem5 has them (src/dev/arm/SMMUv3.py; the device interface's
 * tlb_* become the main TLB's, the SMMU's own tlb_* become smmu_tlb_*), and
 * the ones gem5 lacks (command times, fault mode, stream table layout).
 * Latencies may be given in cycles of `clock`, as gem5's are.
 *
 * It implements "IOMMU": DmaDevice and the OS layer reach the domain ops of
 * smmuv3_domain.c through domain() and attach() (attach writes the
 * stream's STE and CD).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/error.h"
#include "iommu/models/smmuv3.h"
#include "mem/mem_object.h"
#include "stats/objstats.h"

static const char *const policy_names[] = { "rr", "rand", "lru", "plru", NULL };
static const enum iotlb_policy policy_map[] = { IOTLB_FIFO, IOTLB_RANDOM, IOTLB_LRU,
                                                IOTLB_PLRU };
static const char *const stage_names[] = { "s1", "s2", "nested", NULL };
static const char *const fault_names[] = { "terminate", "stall", NULL };

/* The caches with gem5's five settings: name, entries, assoc, enable, lat. */
#define SMMU_CACHES(X)                                                          \
    X(UTLB, "utlb", "32", "0", "true", "1cycles", "1", "micro TLB of each device interface") \
    X(TLB, "tlb", "2048", "4", "true", "3cycles", "3", "main TLB of each device interface") \
    X(STLB, "smmu_tlb", "2048", "4", "false", "3cycles", "3",                          \
      "the SMMU's TLB (gem5's SMMUv3.tlb_*)")                                           \
    X(CFG, "cfg", "64", "4", "true", "3cycles", "3", "config cache (STEs and CDs)")    \
    X(IPA, "ipa_cache", "128", "4", "false", "3cycles", "3",                            \
      "IPA cache (stage-2 IPA->PA results of nested walks, by domain)")

#define SMMU_WALK(X) X(S1L0, 0, 0, "4") X(S1L1, 0, 1, "28") X(S1L2, 0, 2, "348") \
                     X(S1L3, 0, 3, "4")                                          \
                     X(S2L0, 1, 0, "4") X(S2L1, 1, 1, "28") X(S2L2, 1, 2, "92")  \
                     X(S2L3, 1, 3, "4")

#define SMMU_CMDS(X) X(CFGI_STE, "cfgi_ste", "20ns") X(CFGI_CD, "cfgi_cd", "20ns")     \
    X(TLBI_NH_VA, "tlbi_nh_va", "40ns") X(TLBI_NH_ASID, "tlbi_nh_asid", "40ns")        \
    X(TLBI_S2_IPA, "tlbi_s2_ipa", "40ns") X(TLBI_NSNH_ALL, "tlbi_nsnh_all", "100ns")    \
    X(ATC_INV, "atc_inv", "40ns") X(SYNC, "sync", "100ns")

enum {
    P_MEMORY, P_CLOCK, P_STAGE, P_GRANULE, P_S2_GRANULE, P_MAX_DOMAINS, P_GUEST_MEMORY,
    P_MAX_STREAMS, P_SSIDS,
    P_ST_TWO_LEVEL, P_ST_SPLIT,
#define E_(id, n, e, a, en, l, sl, d) P_##id##_ENTRIES, P_##id##_ASSOC, P_##id##_POLICY, \
                                      P_##id##_ENABLE, P_##id##_LAT, P_##id##_SLOTS,
    SMMU_CACHES(E_)
#undef E_
#define E_(id, s, l, d) P_WALK_##id,
    SMMU_WALK(E_)
#undef E_
    P_WALK_ASSOC, P_WALK_POLICY, P_WALK_ENABLE, P_WC_NONFINAL, P_WC_S1_LEVELS,
    P_WC_S2_LEVELS, P_WALK_LAT, P_WALK_SLOTS,
    P_IFC_XLATE_SLOTS, P_XLATE_SLOTS, P_PTW_SLOTS, P_IFC_SMMU_LAT, P_SMMU_IFC_LAT,
    P_PREFETCH, P_PREFETCH_RESERVE, P_FAULT_MODE, P_STALL_LATENCY, P_EVTQ_ENTRIES, P_CMDQ_ENTRIES,
#define E_(id, n, d) P_CMD_##id,
    SMMU_CMDS(E_)
#undef E_
    P_COUNT
};

static const struct sim_param sm_params[] = {
    [P_MEMORY] = { .name = "memory", .type = SIM_PT_REF, .ref_model = "Memory",
                   .doc = "the Memory object that STE, CD and page-table reads go to" },
    [P_CLOCK] = { .name = "clock", .type = SIM_PT_FREQ, .def = "1GHz",
                  .doc = "the SMMU's clock, for latencies given in cycles (gem5's "
                         "ClockedObject; 1GHz is iommusim's choice)" },
    [P_STAGE] = { .name = "stage", .type = SIM_PT_ENUM, .def = "s1", .choices = stage_names,
                  .doc = "what the OS's domains are: s1 (a CD per domain, ASID = id), s2 "
                         "(VMID = id) or nested (stage 1 per domain over one identity "
                         "stage 2 of guest_memory)" },
    [P_GRANULE] = { .name = "granule", .type = SIM_PT_SIZE, .def = "4KiB", .min = "4KiB",
                    .max = "64KiB",
                    .doc = "translation granule of the OS's stage-1 (and nested stage-1) "
                           "tables, CD.TG0: 4KiB (4 levels, pages 4K/2M/1G), 16KiB (4 "
                           "levels, 16K/32M) or 64KiB (3 levels, 64K/512M); 48-bit inputs. "
                           "The OS maps in units of it" },
    [P_S2_GRANULE] = { .name = "s2_granule", .type = SIM_PT_SIZE, .def = "4KiB",
                       .min = "4KiB", .max = "64KiB",
                       .doc = "translation granule of the stage-2 tables (stage s2 domains "
                              "and the nested identity stage 2), STE.S2TG: 4KiB, 16KiB or "
                              "64KiB" },
    [P_MAX_DOMAINS] = { .name = "max_domains", .type = SIM_PT_INT, .def = "64", .min = "1",
                        .max = "32768", .doc = "domain ids 0 .. max_domains - 1" },
    [P_GUEST_MEMORY] = { .name = "guest_memory", .type = SIM_PT_SIZE, .def = "1TiB",
                         .min = "4KiB", .max = "256TiB",
                         .doc = "nested: the IPA range stage 2 maps to itself (largest "
                                "blocks); stage-1 tables live in its upper half" },
    [P_MAX_STREAMS] = { .name = "max_streams", .type = SIM_PT_INT, .def = "256", .min = "1",
                        .max = "65536", .doc = "stream ids (requester ids) 0 .. n - 1" },
    [P_SSIDS] = { .name = "ssids_per_stream", .type = SIM_PT_INT, .def = "1", .min = "1",
                  .max = "1024", .doc = "CDs per stream (substream ids = PASIDs)" },
    [P_ST_TWO_LEVEL] = { .name = "st_two_level", .type = SIM_PT_BOOL, .def = "false",
                         .doc = "two-level stream table: an STE fetch reads the L1 "
                                "descriptor first (2 reads instead of 1)" },
    [P_ST_SPLIT] = { .name = "st_split", .type = SIM_PT_INT, .def = "8", .min = "1",
                     .max = "24", .doc = "two-level: streams per L1 descriptor = 2^split" },
#define E_(id, n, e, a, en, l, sl, d)                                                      \
    [P_##id##_ENTRIES] = { .name = n "_entries", .type = SIM_PT_INT, .def = e, .min = "1",  \
                           .max = "1048576", .doc = d ": entries (gem5 " e ")" },          \
    [P_##id##_ASSOC] = { .name = n "_assoc", .type = SIM_PT_INT, .def = a, .min = "0",      \
                         .max = "1048576", .doc = d ": ways, 0 fully associative; sets "   \
                         "must be a power of two" },                                        \
    [P_##id##_POLICY] = { .name = n "_policy", .type = SIM_PT_ENUM, .def = "rr",            \
                          .choices = policy_names, .doc = d ": replacement (rr is fifo, "   \
                          "rand, lru, plru)" },                                            \
    [P_##id##_ENABLE] = { .name = n "_enable", .type = SIM_PT_BOOL, .def = en,              \
                          .doc = d ": enabled" },                                          \
    [P_##id##_LAT] = { .name = n "_lat", .type = SIM_PT_LATENCY, .def = l,                 \
                       .doc = d ": lookup latency" },                                      \
    [P_##id##_SLOTS] = { .name = n "_slots", .type = SIM_PT_INT, .def = sl, .min = "1",     \
                         .max = "65536", .doc = d ": lookups in progress at once, each "    \
                         "holding a slot for the lookup latency; more wait in order (gem5 " \
                         sl ")" },
    SMMU_CACHES(E_)
#undef E_
#define E_(id, s, l, d) [P_WALK_##id] = { .name = "walk_" #id, .type = SIM_PT_INT, .def = d, \
    .min = "0", .max = "1048576", .doc = "walk cache " #id " entries (gem5 " d "); 0: none" },
    SMMU_WALK(E_)
#undef E_
    [P_WALK_ASSOC] = { .name = "walk_assoc", .type = SIM_PT_INT, .def = "4", .min = "0",
                       .max = "1048576", .doc = "walk cache ways (0 fully associative); a "
                       "level whose sets are not a power of two is fully associative" },
    [P_WALK_POLICY] = { .name = "walk_policy", .type = SIM_PT_ENUM, .def = "rr",
                        .choices = policy_names, .doc = "walk cache replacement" },
    [P_WALK_ENABLE] = { .name = "walk_enable", .type = SIM_PT_BOOL, .def = "true",
                        .doc = "walk caches enabled" },
    [P_WC_NONFINAL] = { .name = "wc_nonfinal_enable", .type = SIM_PT_BOOL, .def = "false",
                        .doc = "nested walks: the stage-2 walk caches also serve the "
                               "stage-2 walks of the stage-1 table addresses; false (gem5): "
                               "only the final IPA's, each table address walks stage 2 from "
                               "its root (4 reads with 4 KiB tables)" },
    [P_WC_S1_LEVELS] = { .name = "wc_s1_levels", .type = SIM_PT_INT, .def = "7", .min = "0",
                         .max = "15", .doc = "stage-1 levels cached (bit 0 = L0 .. bit 3 = "
                         "L3); a leaf is cached at its level (a page at L3, a 2 MiB block "
                         "at L2) and a hit on it skips the stage's reads; gem5's 7 leaves "
                         "L3, the pages, to the TLBs" },
    [P_WC_S2_LEVELS] = { .name = "wc_s2_levels", .type = SIM_PT_INT, .def = "7", .min = "0",
                         .max = "15", .doc = "stage-2 levels cached, as wc_s1_levels" },
    [P_WALK_LAT] = { .name = "walk_lat", .type = SIM_PT_LATENCY, .def = "4cycles",
                     .doc = "walk cache lookup latency, once per walk" },
    [P_WALK_SLOTS] = { .name = "walk_slots", .type = SIM_PT_INT, .def = "4", .min = "1",
                       .max = "65536", .doc = "walk cache lookups in progress at once, each "
                       "holding a slot for walk_lat; more wait in order (gem5 4)" },
    [P_IFC_XLATE_SLOTS] = { .name = "ifc_xlate_slots", .type = SIM_PT_INT, .def = "16",
                            .min = "1", .max = "65536",
                            .doc = "translations in flight per device interface" },
    [P_XLATE_SLOTS] = { .name = "xlate_slots", .type = SIM_PT_INT, .def = "64", .min = "1",
                        .max = "65536", .doc = "translations in flight in the SMMU" },
    [P_PTW_SLOTS] = { .name = "ptw_slots", .type = SIM_PT_INT, .def = "16", .min = "1",
                      .max = "65536", .doc = "page walks in flight" },
    [P_IFC_SMMU_LAT] = { .name = "ifc_smmu_lat", .type = SIM_PT_LATENCY, .def = "8cycles",
                         .doc = "device interface to SMMU link" },
    [P_SMMU_IFC_LAT] = { .name = "smmu_ifc_lat", .type = SIM_PT_LATENCY, .def = "8cycles",
                         .doc = "SMMU to device interface link" },
    [P_PREFETCH] = { .name = "prefetch_enable", .type = SIM_PT_BOOL, .def = "false",
                     .doc = "after a walk, walk the next 4 KiB page into the main TLB" },
    [P_PREFETCH_RESERVE] = { .name = "prefetch_reserve_last_way", .type = SIM_PT_BOOL,
                             .def = "true",
                             .doc = "with prefetch_enable: prefetches fill only the last way "
                                    "of the main TLB's set and demand fills only the others, "
                                    "so a prefetch never evicts a demanded entry (needs "
                                    "tlb_assoc >= 2 or 0)" },
    [P_FAULT_MODE] = { .name = "fault_mode", .type = SIM_PT_ENUM, .def = "terminate",
                       .choices = fault_names,
                       .doc = "terminate: a faulting transaction completes with an error; "
                              "stall: it waits stall_latency, then is retried (a second "
                              "fault terminates it)" },
    [P_STALL_LATENCY] = { .name = "stall_latency", .type = SIM_PT_LATENCY, .def = "10us",
                          .flags = SIM_PF_NO_CYCLES,
                          .doc = "software's handling of a stall event (event queue "
                                 "interrupt, fault handler, CMD_RESUME)" },
    [P_EVTQ_ENTRIES] = { .name = "evtq_entries", .type = SIM_PT_INT, .def = "128",
                         .min = "1", .max = "1048576",
                         .doc = "event queue records; more are counted as overflows" },
    [P_CMDQ_ENTRIES] = { .name = "cmdq_entries", .type = SIM_PT_INT, .def = "128",
                         .min = "1", .max = "1048576",
                         .doc = "command queue size (gem5's IDR1.CMDQS = 128); "
                                "submissions beyond it are counted (cmdq_full)" },
#define E_(id, n, d) [P_CMD_##id] = { .name = n "_time", .type = SIM_PT_LATENCY, .def = d, \
    .doc = "processing time of CMD_" #id " (gem5: zero)" },
    SMMU_CMDS(E_)
#undef E_
};

/* --- Readouts ------------------------------------------------------------------- */

enum {
    R_TRANSLATIONS, R_FAULTS, R_MEAN_LATENCY, R_WALKS, R_WALK_READS, R_MERGED,
    R_STE_FETCHES, R_CD_FETCHES, R_BYPASS, R_ABORTS,
    R_UTLB_LOOKUPS, R_UTLB_HITS, R_TLB_LOOKUPS, R_TLB_HITS, R_STLB_LOOKUPS, R_STLB_HITS,
    R_CFG_LOOKUPS, R_CFG_HITS, R_IPA_LOOKUPS, R_IPA_HITS,
#define E_(id, s, l, d) R_WC_##id##_LOOKUPS, R_WC_##id##_HITS,
    SMMU_WALK(E_)
#undef E_
#define E_(id, n, d) R_CMD_##id,
    SMMU_CMDS(E_)
#undef E_
    R_TERMINATED, R_STALLED, R_STALL_RESUMED, R_STALL_TERMINATED, R_EVENTS,
    R_EVTQ_OVERFLOWS, R_CMDQ_FULL, R_ATC_NOTIFY, R_PF_WALKS, R_PF_FILLS,
    R_XLATE_SLOT_WAITS, R_MAPS, R_UNMAPS, R_HIT_RATE, R_COUNT
};

static const struct sim_readout sm_readouts[] = {
    [R_TRANSLATIONS] = { "translations", "requests", "timed translations completed" },
    [R_FAULTS] = { "faults", "requests", "faults (each recorded in the event queue)" },
    [R_MEAN_LATENCY] = { "mean_latency", "ps", "mean time from request to completion" },
    [R_WALKS] = { "walks", "walks", "page-table walks (not counting prefetches)" },
    [R_WALK_READS] = { "walk_reads", "reads", "table entries read by those walks" },
    [R_MERGED] = { "merged", "requests", "misses that waited on a walk of the same page" },
    [R_STE_FETCHES] = { "ste_fetches", "fetches", "STE fetches (config cache misses)" },
    [R_CD_FETCHES] = { "cd_fetches", "fetches", "CD fetches (config cache misses)" },
    [R_BYPASS] = { "bypass", "requests", "transactions of bypass streams" },
    [R_ABORTS] = { "aborts", "requests", "transactions of abort streams" },
    [R_UTLB_LOOKUPS] = { "utlb_lookups", "lookups", "micro TLB lookups (all interfaces)" },
    [R_UTLB_HITS] = { "utlb_hits", "lookups", "micro TLB hits" },
    [R_TLB_LOOKUPS] = { "tlb_lookups", "lookups", "main TLB lookups (all interfaces)" },
    [R_TLB_HITS] = { "tlb_hits", "lookups", "main TLB hits" },
    [R_STLB_LOOKUPS] = { "smmu_tlb_lookups", "lookups", "SMMU TLB lookups" },
    [R_STLB_HITS] = { "smmu_tlb_hits", "lookups", "SMMU TLB hits" },
    [R_CFG_LOOKUPS] = { "cfg_lookups", "lookups", "config cache lookups (STE and CD)" },
    [R_CFG_HITS] = { "cfg_hits", "lookups", "config cache hits" },
    [R_IPA_LOOKUPS] = { "ipa_cache_lookups", "lookups",
                        "IPA cache lookups (one per stage-2 translation of a nested walk)" },
    [R_IPA_HITS] = { "ipa_cache_hits", "lookups",
                     "IPA cache hits (each saves that stage-2 sub-walk's reads)" },
#define E_(id, s, l, d) \
    [R_WC_##id##_LOOKUPS] = { "walk_" #id "_lookups", "lookups", "walk cache " #id " lookups" }, \
    [R_WC_##id##_HITS] = { "walk_" #id "_hits", "lookups", "walk cache " #id " hits" },
    SMMU_WALK(E_)
#undef E_
#define E_(id, n, d) [R_CMD_##id] = { "cmd_" n, "commands", "CMD_" #id " queued" },
    SMMU_CMDS(E_)
#undef E_
    [R_TERMINATED] = { "terminated", "requests", "faults that terminated at once" },
    [R_STALLED] = { "stalled", "requests", "faults that stalled" },
    [R_STALL_RESUMED] = { "stall_resumed", "requests", "stalls resumed with a retry" },
    [R_STALL_TERMINATED] = { "stall_terminated", "requests", "stalls software terminated" },
    [R_EVENTS] = { "events", "records", "event queue records written or lost" },
    [R_EVTQ_OVERFLOWS] = { "evtq_overflows", "records", "records lost to a full queue" },
    [R_CMDQ_FULL] = { "cmdq_full", "commands", "commands queued beyond cmdq_entries" },
    [R_ATC_NOTIFY] = { "atc_notify", "events", "DEVIOTLB_UNMAP events sent by CMD_ATC_INV" },
    [R_PF_WALKS] = { "prefetch_walks", "walks", "next-page prefetch walks" },
    [R_PF_FILLS] = { "prefetch_fills", "entries", "main TLB entries filled by prefetch" },
    [R_XLATE_SLOT_WAITS] = { "xlate_slot_waits", "requests", "waits for an SMMU slot" },
    [R_MAPS] = { "maps", "calls", "domain map calls" },
    [R_UNMAPS] = { "unmaps", "calls", "domain unmap calls" },
    [R_HIT_RATE] = { "hit_rate", "ratio", "translations answered by a TLB (micro, main or "
                     "SMMU) over all translations" },
};

struct smmuv3_object {
    struct smmuv3 s;
};

static int cache_check(const struct sim_value *v, unsigned pe, unsigned pa, const char *name,
                       sim_report_fn report, void *ctx)
{
    int64_t e = v[pe].i, a = v[pa].i ? v[pa].i : v[pe].i;
    char msg[160];

    if (e % a || ((e / a) & (e / a - 1))) {
        snprintf(msg, sizeof(msg), "entries / ways must be a power of two (got %lld entries, "
                 "%lld ways)", (long long)e, (long long)a);
        report(ctx, name, msg);
        return 1;
    }
    return 0;
}

/* A granule the architecture defines (IHI 0070: TG0 / S2TG encodings). */
static int granule_check(const struct sim_value *v, unsigned p, const char *name,
                         sim_report_fn report, void *ctx)
{
    char msg[160];

    if (smmuv3_pgsizes(v[p].u))
        return 0;
    snprintf(msg, sizeof(msg), "not a translation granule (got %llu bytes, expected 4KiB, "
             "16KiB or 64KiB)", (unsigned long long)v[p].u);
    report(ctx, name, msg);
    return 1;
}

static int sm_validate(const struct sim_value *v, sim_report_fn report, void *ctx)
{
    int n = 0;

    n += granule_check(v, P_GRANULE, "granule", report, ctx);
    n += granule_check(v, P_S2_GRANULE, "s2_granule", report, ctx);

#define E_(id, nm, e, a, en, l, sl, d) \
    n += cache_check(v, P_##id##_ENTRIES, P_##id##_ASSOC, nm "_assoc", report, ctx);
    SMMU_CACHES(E_)
#undef E_
    return n;
}

static void cache_cfg(const struct sim_value *v, unsigned base, const struct sim_clock *clk,
                      struct smmuv3_cache_cfg *c)
{
    c->entries = (unsigned)v[base].i;
    c->ways = (unsigned)v[base + 1].i;
    c->policy = policy_map[v[base + 2].e];
    c->enable = v[base + 3].b;
    c->lat = sim_latency_ticks(v[base + 4].lat, clk);
    c->slots = (unsigned)v[base + 5].i;
}

static int sm_create(struct sim_object *obj, struct sim_world *w, char *err, size_t errlen)
{
    static const enum smmuv3_ste_config stages[] = { SMMUV3_STE_S1, SMMUV3_STE_S2,
                                                     SMMUV3_STE_NESTED };
    const struct sim_value *v = obj->values;
    struct mem *mem = mem_object_mem(v[P_MEMORY].ref.obj);
    struct smmuv3_object *o;
    struct smmuv3_cfg c;
    struct sim_clock clk;
    char e[300];
    int r;

    if (!mem) {
        snprintf(err, errlen, "memory: not a created Memory object");
        return SIM_EINVAL;
    }
    if (sim_clock_init(&clk, v[P_CLOCK].u)) {
        snprintf(err, errlen, "clock: not a usable frequency");
        return SIM_EINVAL;
    }
    memset(&c, 0, sizeof(c));
    cache_cfg(v, P_UTLB_ENTRIES, &clk, &c.utlb);
    cache_cfg(v, P_TLB_ENTRIES, &clk, &c.tlb);
    cache_cfg(v, P_STLB_ENTRIES, &clk, &c.smmu_tlb);
    cache_cfg(v, P_CFG_ENTRIES, &clk, &c.cfg_cache);
    cache_cfg(v, P_IPA_ENTRIES, &clk, &c.ipa_cache);
#define E_(id, s, l, d) c.wc_entries[s][l] = (unsigned)v[P_WALK_##id].i;
    SMMU_WALK(E_)
#undef E_
    c.wc_ways = (unsigned)v[P_WALK_ASSOC].i;
    c.wc_policy = policy_map[v[P_WALK_POLICY].e];
    c.wc_enable = v[P_WALK_ENABLE].b;
    c.wc_nonfinal = v[P_WC_NONFINAL].b;
    c.wc_levels[0] = (unsigned)v[P_WC_S1_LEVELS].i;
    c.wc_levels[1] = (unsigned)v[P_WC_S2_LEVELS].i;
    c.wc_lat = sim_latency_ticks(v[P_WALK_LAT].lat, &clk);
    c.wc_slots = (unsigned)v[P_WALK_SLOTS].i;
    c.ifc_slots = (unsigned)v[P_IFC_XLATE_SLOTS].i;
    c.xlate_slots = (unsigned)v[P_XLATE_SLOTS].i;
    c.ptw_slots = (unsigned)v[P_PTW_SLOTS].i;
    c.ifc_smmu_lat = sim_latency_ticks(v[P_IFC_SMMU_LAT].lat, &clk);
    c.smmu_ifc_lat = sim_latency_ticks(v[P_SMMU_IFC_LAT].lat, &clk);
    c.prefetch = v[P_PREFETCH].b;
    c.prefetch_reserve_last_way = v[P_PREFETCH_RESERVE].b;
    c.max_streams = (unsigned)v[P_MAX_STREAMS].i;
    c.ssids_per_stream = (unsigned)v[P_SSIDS].i;
    c.st_two_level = v[P_ST_TWO_LEVEL].b;
    c.st_split = (unsigned)v[P_ST_SPLIT].i;
    c.strtab_base = UINT64_C(0x7000000000);
    c.cdtab_base = UINT64_C(0x7100000000);
    c.granule = v[P_GRANULE].u;
    c.s2_granule = v[P_S2_GRANULE].u;
    c.fault_mode = v[P_FAULT_MODE].e ? SMMUV3_FAULT_STALL : SMMUV3_FAULT_TERMINATE;
    c.stall_latency = v[P_STALL_LATENCY].lat.value;
    c.evtq_entries = (unsigned)v[P_EVTQ_ENTRIES].i;
    c.cmdq_entries = (unsigned)v[P_CMDQ_ENTRIES].i;
#define E_(id, n, d) c.cmd_time[SMMUV3_CMD_##id] = sim_latency_ticks(v[P_CMD_##id].lat, &clk);
    SMMU_CMDS(E_)
#undef E_
    c.seed = w->seed;
    c.path = obj->path;
    o = calloc(1, sizeof(*o));
    if (!o)
        return SIM_ENOMEM;
    r = smmuv3_create(&o->s, &w->sim, mem, &c, e, sizeof(e));
    if (!r) {
        r = smmuv3_domains_init(&o->s, stages[v[P_STAGE].e], (unsigned)v[P_MAX_DOMAINS].i,
                                v[P_GUEST_MEMORY].u, e, sizeof(e));
        if (r)
            smmuv3_destroy(&o->s);
    }
    if (r) {
        snprintf(err, errlen, "cannot create the model (%s)", e);
        free(o);
        return r;
    }
    obj->priv = o;
    return 0;
}

static void sm_destroy(struct sim_object *obj)
{
    struct smmuv3_object *o = obj->priv;

    if (!o)
        return;
    smmuv3_destroy(&o->s);
    free(o);
    obj->priv = NULL;
}

static void sm_reset_stats(struct sim_object *obj)
{
    struct smmuv3_object *o = obj->priv;

    smmuv3_reset_stats(&o->s);
}

static double ifc_sum(const struct smmuv3 *s, unsigned idx)
{
    double sum = 0.0, lat = 0.0;

    for (unsigned i = 0; i < s->cfg.max_streams; i++) {
        const struct smmuv3_ifc *f = s->ifc[i];

        if (!f)
            continue;
        switch (idx) {
        case R_UTLB_LOOKUPS: sum += (double)f->utlb.st.lookups; break;
        case R_UTLB_HITS:    sum += (double)f->utlb.st.hits; break;
        case R_TLB_LOOKUPS:  sum += (double)f->tlb.st.lookups; break;
        case R_TLB_HITS:     sum += (double)f->tlb.st.hits; break;
        case R_PF_WALKS:     sum += (double)f->pf_walks; break;
        case R_PF_FILLS:     sum += (double)f->pf_fills; break;
        case R_FAULTS:       sum += (double)f->mmu.st.timed_faults; break;
        case R_MEAN_LATENCY: sum += (double)f->mmu.st.timed; lat += f->mmu.st.timed_ticks; break;
        default: break;
        }
    }
    if (idx == R_MEAN_LATENCY)
        return sum > 0.0 ? lat / sum : 0.0;
    return sum;
}

static double sm_read(const struct sim_object *obj, unsigned idx)
{
    const struct smmuv3_object *o = obj->priv;
    const struct smmuv3 *s = &o->s;
    const struct smmuv3_stats *st = &s->st;

    switch (idx) {
    case R_TRANSLATIONS:   return (double)st->translations;
    case R_FAULTS:         return (double)st->faults;
    case R_WALKS:          return (double)st->walks;
    case R_WALK_READS:     return (double)st->walk_reads;
    case R_MERGED:         return (double)st->merged;
    case R_STE_FETCHES:    return (double)st->ste_fetches;
    case R_CD_FETCHES:     return (double)st->cd_fetches;
    case R_BYPASS:         return (double)st->bypass;
    case R_ABORTS:         return (double)st->aborts;
    case R_STLB_LOOKUPS:   return (double)s->smmu_tlb.st.lookups;
    case R_STLB_HITS:      return (double)s->smmu_tlb.st.hits;
    case R_CFG_LOOKUPS:    return (double)s->cfg_cache.st.lookups;
    case R_CFG_HITS:       return (double)s->cfg_cache.st.hits;
    case R_IPA_LOOKUPS:    return (double)s->walker.st.ipa_lookups;
    case R_IPA_HITS:       return (double)s->walker.st.ipa_hits;
#define E_(id, sg, l, d) \
    case R_WC_##id##_LOOKUPS: return (double)s->walker.st.pwc_lookups[sg][l + 1]; \
    case R_WC_##id##_HITS:    return (double)s->walker.st.pwc_hits[sg][l + 1];
    SMMU_WALK(E_)
#undef E_
#define E_(id, n, d) case R_CMD_##id: return (double)st->cmds[SMMUV3_CMD_##id];
    SMMU_CMDS(E_)
#undef E_
    case R_TERMINATED:     return (double)st->terminated;
    case R_STALLED:        return (double)st->stalled;
    case R_STALL_RESUMED:  return (double)st->stall_resumed;
    case R_STALL_TERMINATED: return (double)st->stall_terminated;
    case R_EVENTS:         return (double)st->events;
    case R_EVTQ_OVERFLOWS: return (double)st->evtq_overflows;
    case R_CMDQ_FULL:      return (double)st->cmdq_full;
    case R_ATC_NOTIFY:     return (double)st->atc_notify;
    case R_XLATE_SLOT_WAITS: return (double)st->xlate_slot_waits;
    case R_MAPS:           return (double)st->maps;
    case R_UNMAPS:         return (double)st->unmaps;
    case R_HIT_RATE:
        return st->translations ? (ifc_sum(s, R_UTLB_HITS) + ifc_sum(s, R_TLB_HITS) +
                                   (double)s->smmu_tlb.st.hits) / (double)st->translations
                                : 0.0;
    default:               return ifc_sum(s, idx);
    }
}

/* Readouts through read at each dump; the two latency histograms by reference. */
static int sm_register_stats(struct sim_object *obj, void *reg)
{
    struct smmuv3_object *o = obj->priv;
    int rc = stats_object_readouts(reg, obj, 0);

    if (!rc)
        rc = stats_object_lathist(reg, obj, "xlate_time", "ps",
                                  "translation time, issue to completion",
                                  &o->s.st.xlate_lat);
    if (!rc)
        rc = stats_object_lathist(reg, obj, "walk_time", "ps",
                                  "page walk time, issue to completion", &o->s.st.walk_lat);
    return rc;
}

static const struct sim_model_ops sm_ops = {
    .validate = sm_validate,
    .create = sm_create,
    .destroy = sm_destroy,
    .reset_stats = sm_reset_stats,
    .read = sm_read,
    .register_stats = sm_register_stats,
};

static int sm_domain(const struct sim_object *obj, unsigned id, struct iommu_domain **out,
                     char *err, size_t errlen)
{
    struct smmuv3_object *o = obj->priv;

    return smmuv3_domain_get(&o->s, id, out, err, errlen);
}

static int sm_attach(const struct sim_object *obj, uint32_t rid, unsigned id,
                     struct iommu **out, char *err, size_t errlen)
{
    struct smmuv3_object *o = obj->priv;

    return smmuv3_attach(&o->s, rid, id, out, err, errlen);
}

static const struct iommu_object_ops sm_iface = {
    .domain = sm_domain,
    .attach = sm_attach,
};

const struct sim_model smmuv3_model_object = {
    .name = "SMMUv3",
    .doc = "The Arm SMMUv3 with gem5's timed structure: per-interface micro and main TLBs, "
           "an SMMU TLB, a config cache, walk caches per stage and level, translation and "
           "walk slots, link latencies, miss merging and next-page prefetch; plus a timed "
           "command queue (CFGI_STE, CFGI_CD, TLBI_NH_VA, TLBI_NH_ASID, TLBI_S2_IPA, "
           "TLBI_NSNH_ALL, ATC_INV, SYNC), an event queue and stall or terminate faults. "
           "Domains are stage 1, stage 2 or nested, with 4 KiB, 16 KiB or 64 KiB "
           "translation granules per stage (granule, s2_granule).",
    .params = sm_params, .nparams = sizeof(sm_params) / sizeof(sm_params[0]),
    .readouts = sm_readouts, .nreadouts = sizeof(sm_readouts) / sizeof(sm_readouts[0]),
    .ops = &sm_ops,
    .implements = IOMMU_OBJECT_IFACE,
    .iface = &sm_iface,
};
