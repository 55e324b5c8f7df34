"""An out-of-tree IOMMU in a config: a DMA device behind FixedLatencyIOMMU.

    iommusim --plugin ./fixed_iommu.so fixed_iommu.py [--until 20us] [--latency 50ns]

FixedLatencyIOMMU comes from the plugin (examples/plugin/fixed_iommu.c); once
loaded it is a class of the iommusim package like any built-in model. A
device streams 4 KiB transfers (closed loop, 16 in flight) over a 1 MiB
footprint mapped once at start; every request is translated in exactly
`latency`, so the mean translation latency the device measures is that
value, and the IOMMU translated every request the device completed plus at
most `tags` still in flight.
"""
import argparse

import iommusim as sim

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--until", default="20us", help="simulated time (default 20us)")
ap.add_argument("--latency", default="50ns", help="translation latency (default 50ns)")
args = ap.parse_args()

root = sim.Root()
s = root.system = sim.System()
s.mem = sim.Memory(latency="80ns", channels=4, bandwidth="25.6GB/s")
s.iommu = sim.FixedLatencyIOMMU(latency=args.latency)
s.dev = sim.DmaDevice(iommu=s.iommu, memory=s.mem, requester_id=1, pattern="sequential",
                      size="4KiB", footprint="1MiB", slots=16, policy="persistent")

sim.simulate(until=args.until)

mmu, dev = s.iommu, s.dev
completed = dev.read("read_requests") + dev.read("write_requests")
print(f"translations {mmu.read('translations'):.0f} faults {mmu.read('faults'):.0f} "
      f"maps {mmu.read('maps'):.0f}")
print(f"requests completed {completed:.0f} "
      f"xlate_lat_mean {dev.read('xlate_lat_mean') / 1000:.3f} ns")
