"""An SMMUv3 with gem5's defaults in front of a DMA device (a NIC).

    iommusim configs/smmuv3_gem5_defaults.py [--until 1ms] [--rate 10Gbps] [--policy strict]
                                             [--granule 4KiB] [--s2-granule 4KiB]

Every SMMUv3 parameter that gem5 has is set here to gem5's default
(src/dev/arm/SMMUv3.py: SMMUv3DeviceInterface and SMMUv3), under its
iommusim name (docs/models/smmuv3.md has the table), so a gem5 user finds
the same structure: a 32-entry fully associative micro TLB (1 cycle) and a
2048 x 4-way main TLB (3 cycles) per device interface, 16 translation
slots per interface, 64 in the SMMU, 16 page-walk slots, 8-cycle links,
the SMMU TLB off, a 64 x 4-way config cache, walk caches S1L0..S1L3 and
S2L0..S2L3 with 4/28/348/4 and 4/28/92/4 entries, 4-way, levels 0-2 cached
(L3 off), the stage-2 walk caches serving only a nested walk's final IPA
(wc_nonfinal_enable false), lookup slots that let each cache start one
lookup per cycle (micro TLB 1, the others 3, walk caches 4), round-robin
replacement, prefetch off (its last-way reservation on, should you turn it
on). What gem5 does not have keeps iommusim's
defaults: command times (gem5's are zero), the terminate fault mode.

The NIC maps and unmaps one buffer per 1500-byte packet (strict: each unmap
is a TLBI_NH_VA and a CMD_SYNC; with --ats N the NIC has an N-entry device
TLB, and each unmap also queues a CMD_ATC_INV that the sync waits for). The table printed shows hits and misses at
each level of the hierarchy. --granule / --s2-granule pick the translation
granules (4KiB, 16KiB or 64KiB; gem5 reads them from the CD and STE): with
64KiB the OS maps each buffer as 64 KiB pages and a cold walk reads 3 entries
instead of 4.
"""
import argparse

import iommusim as sim

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--until", default="1ms", help="simulated time (default 1ms)")
ap.add_argument("--rate", default="10Gbps", help="NIC line rate (default 10Gbps)")
ap.add_argument("--policy", default="strict", help="strict or lazy (default strict)")
ap.add_argument("--ats", type=int, default=0,
                help="device TLB entries (ATS); 0: no ATS (default)")
ap.add_argument("--stage", default="s1", help="s1, s2 or nested (default s1)")
ap.add_argument("--granule", default="4KiB",
                help="stage-1 translation granule: 4KiB, 16KiB or 64KiB (default 4KiB)")
ap.add_argument("--s2-granule", default="4KiB",
                help="stage-2 translation granule (default 4KiB)")
args = ap.parse_args()

GEM5 = dict(
    # SMMUv3DeviceInterface
    ifc_xlate_slots=16,
    utlb_entries=32, utlb_assoc=0, utlb_policy="rr", utlb_enable=True, utlb_lat="1cycles",
    utlb_slots=1,
    tlb_entries=2048, tlb_assoc=4, tlb_policy="rr", tlb_enable=True, tlb_lat="3cycles",
    tlb_slots=3,
    prefetch_enable=False, prefetch_reserve_last_way=True,
    # SMMUv3
    ifc_smmu_lat="8cycles", smmu_ifc_lat="8cycles", xlate_slots=64, ptw_slots=16,
    smmu_tlb_entries=2048, smmu_tlb_assoc=4, smmu_tlb_policy="rr", smmu_tlb_enable=False,
    smmu_tlb_lat="3cycles", smmu_tlb_slots=3,
    cfg_entries=64, cfg_assoc=4, cfg_policy="rr", cfg_enable=True, cfg_lat="3cycles",
    cfg_slots=3, ipa_cache_slots=3,
    walk_S1L0=4, walk_S1L1=28, walk_S1L2=348, walk_S1L3=4,
    walk_S2L0=4, walk_S2L1=28, walk_S2L2=92, walk_S2L3=4,
    walk_assoc=4, walk_policy="rr", walk_enable=True, wc_nonfinal_enable=False,
    wc_s1_levels=7, wc_s2_levels=7, walk_lat="4cycles", walk_slots=4,
)

root = sim.Root()
root.sys = s = sim.System()
s.mem = sim.Memory(latency="80ns", channels=4, bandwidth="25.6GB/s")
s.smmu = sim.SMMUv3(memory=s.mem, stage=args.stage, granule=args.granule,
                    s2_granule=args.s2_granule, **GEM5)
s.nic = sim.DmaDevice(iommu=s.smmu, memory=s.mem, requester_id=1, pattern="nic",
                      line_rate=args.rate, pkt_sizes="1500B", policy=args.policy,
                      ats_entries=args.ats)

ex = sim.simulate(until=args.until)

v = s.smmu
print(f"simulated {ex.tick / 1e9:.3f} ms at {args.rate}, {args.policy}")
print(f"packets {s.nic.read('completed'):.0f} throughput_gbps "
      f"{s.nic.read('throughput') / 1e9:.2f}")
for k in ("translations", "faults", "utlb_lookups", "utlb_hits", "tlb_lookups", "tlb_hits",
          "smmu_tlb_lookups", "smmu_tlb_hits", "cfg_lookups", "cfg_hits", "walks",
          "walk_reads", "merged", "walk_S1L2_lookups", "walk_S1L2_hits", "unmaps",
          "cmd_tlbi_nh_va", "cmd_tlbi_nh_asid", "cmd_tlbi_s2_ipa", "cmd_atc_inv",
          "atc_notify", "cmd_sync", "mean_latency"):
    print(f"{k} {v.read(k):.0f}")
