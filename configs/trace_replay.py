"""trace_replay.py - replay a Linux IOMMU map/unmap trace through the generic
IOMMU and summarise what the IOMMU did with it.

The trace is ftrace text of the iommu:map/unmap events (what
`cat /sys/kernel/tracing/trace` or `trace-cmd report` print) or a binary
.iotrace from `iommusim trace import`; TraceReplay reads either. Each mapped
buffer gets --accesses device accesses of --access-size bytes inside its
life (docs/traces.md). The machine is the one `iommusim trace replay`
builds: 4-level tables, a 64-entry 4-way (16-set) LRU IOTLB with 8 MSHRs and 2 ns
hits, 2 walkers with 16-entry walk caches, DRAM of 80 ns on 2 channels of
25.6 GB/s; so this config and that command give the same counts.

    iommusim configs/trace_replay.py                      # the shipped sample
    iommusim configs/trace_replay.py --trace /tmp/iommu.txt --accesses 16
    iommusim --set system.replay.time_scale=0.1 configs/trace_replay.py
"""
import argparse
import os

import iommusim as sim

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--trace", default=None,
                help="ftrace text or .iotrace (default: the shipped sample, "
                     "tests/data/sample_ftrace.txt)")
ap.add_argument("--accesses", type=int, default=4, help="accesses per buffer (default 4)")
ap.add_argument("--access-size", default="64B", help="bytes per access (default 64B)")
ap.add_argument("--spacing", default="0ns",
                help="time between a buffer's accesses (default 0ns: spread evenly)")
ap.add_argument("--time-scale", type=float, default=1.0,
                help="simulated time = trace time x this (default 1)")
ap.add_argument("--write", action="store_true", help="device writes (default reads)")
args = ap.parse_args()

# A path parameter set in a config is relative to the config's directory,
# which is what the default wants; a file named on the command line is
# relative to where the user is, so make it absolute here.
trace = os.path.abspath(args.trace) if args.trace else "../tests/data/sample_ftrace.txt"

root = sim.Root()
s = root.system = sim.System()
s.mem = sim.Memory(latency="80ns", channels=2, bandwidth="25.6GB/s", interleave="64B")
s.iotlb = sim.IOTLB(entries=64, ways=4, policy="lru", mshrs=8, hit_latency="2ns",
                    lookup_ports=1, lookup_cycle="1ns")
s.walker = sim.Walker(walkers=2, pwc_entries=[16, 16, 16])
s.iommu = sim.GenericIOMMU(iotlb=s.iotlb, walker=s.walker, memory=s.mem, levels=4,
                           page_sizes=["4KiB", "2MiB", "1GiB"])
s.replay = sim.TraceReplay(trace=trace, iommu=s.iommu, accesses=args.accesses,
                           access_size=args.access_size, spacing=args.spacing,
                           time_scale=args.time_scale, write=args.write)

ex = sim.simulate()                 # until every record and access is done

r = s.replay.readouts()
t = s.iotlb.readouts()
w = s.walker.readouts()
print(f"trace {s.replay.trace}: replayed {r['records']:.0f} records in "
      f"{ex.tick / 1e6:.3f} us of simulated time")
print(f"maps {r['maps']:.0f} unmaps {r['unmaps']:.0f} fault_records {r['faults']:.0f} "
      f"map_errors {r['map_errors']:.0f} unmap_errors {r['unmap_errors']:.0f}")
print(f"accesses {r['accesses']:.0f} skipped {r['skipped']:.0f} bytes {r['bytes']:.0f}")
print(f"translations {r['translations']:.0f} translation_faults "
      f"{r['translation_faults']:.0f} mean_latency_ns {r['mean_latency'] / 1000:.3f} "
      f"max_latency_ns {r['max_latency'] / 1000:.3f}")
print(f"iotlb lookups {t['lookups']:.0f} hits {t['hits']:.0f} "
      f"hit_rate {100 * t['hit_rate']:.2f}% walks {w['walks']:.0f}")
