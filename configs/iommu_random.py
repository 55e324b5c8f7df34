"""iommu_random.py - uniform random translations over N pages through a
C-entry IOTLB of the generic IOMMU, and the hit rate they get.

Why the hit rate is C/N: every access picks one of the N mapped pages
uniformly and independently of the past. Once the IOTLB is full it holds C
distinct pages (C < N), whatever the replacement policy, so an access finds
its page there with probability C/N. With sets (ways < entries) the same
holds when N is a multiple of the number of sets: each set holds `ways` of
the N/sets pages that map to it. In-flight walks do not change this: an
entry is evicted only when another is filled, so the cache stays full.

    iommusim configs/iommu_random.py                 # C=64, N=256: 0.25
    iommusim configs/iommu_random.py --entries 128 --pages 1000 --policy random
    iommusim configs/iommu_random.py --pattern cyclic --pages 65 --outstanding 1
        (a cyclic scan of C+1 pages through LRU: hit rate 0)
"""
import argparse

import iommusim as sim

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--entries", type=int, default=64, help="IOTLB entries C (default 64)")
ap.add_argument("--ways", type=int, default=0, help="IOTLB ways (default 0: fully associative)")
ap.add_argument("--policy", default="lru", help="lru, plru, fifo or random (default lru)")
ap.add_argument("--pages", type=int, default=256, help="distinct 4 KiB pages N (default 256)")
ap.add_argument("--pattern", default="uniform", help="uniform or cyclic (default uniform)")
ap.add_argument("--rate", default="5MHz", help="translations per second (default 5MHz)")
ap.add_argument("--outstanding", type=int, default=16, help="in flight at most (default 16)")
ap.add_argument("--warmup", default="2ms", help="simulated warm-up, not measured (default 2ms)")
ap.add_argument("--until", default="22ms", help="end of the measured run (default 22ms)")
args = ap.parse_args()

root = sim.Root()
s = root.system = sim.System()
s.mem = sim.Memory(latency="80ns", channels=2, bandwidth="25.6GB/s")
s.iotlb = sim.IOTLB(entries=args.entries, ways=args.ways, policy=args.policy,
                    hit_latency="2ns", lookup_cycle="1ns", mshrs=16)
s.walker = sim.Walker(walkers=2, pwc_entries=[16, 16, 16])
s.iommu = sim.GenericIOMMU(iotlb=s.iotlb, walker=s.walker, memory=s.mem, levels=4)
s.probe = sim.TranslationProbe(iommu=s.iommu, pages=args.pages, pattern=args.pattern,
                               rate=args.rate, outstanding=args.outstanding)

sim.simulate(until=args.warmup)
sim.reset_stats()
sim.simulate(until=args.until)

t = s.iotlb.readouts()
p = s.probe.readouts()
w = s.walker.readouts()
if args.pattern == "uniform":
    expected = min(1.0, args.entries / args.pages)
    print(f"hit_rate {t['hit_rate']:.4f} expected {expected:.4f} (C/N = {args.entries}/{args.pages})")
else:
    print(f"hit_rate {t['hit_rate']:.4f}")
print(f"lookups {t['lookups']:.0f} hits {t['hits']:.0f} misses {t['misses']:.0f} "
      f"merged {t['merged']:.0f} occupancy {t['occupancy']:.0f}")
print(f"translations {p['completed']:.0f} faults {p['faults']:.0f} "
      f"mean_latency_ns {p['mean_latency'] / 1000:.1f} dropped {p['dropped']:.0f}")
print(f"walks {w['walks']:.0f} reads_per_walk {w['reads_per_walk']:.3f} "
      f"walk_latency_ns {w['mean_latency'] / 1000:.1f} walker_utilisation {w['utilisation']:.3f}")
