"""NVMe random reads through the generic IOMMU.

    iommusim configs/nvme_random.py [--until 1ms] [--qd 32] [--block 4KiB]
                                    [--policy lazy] [--media 10us]

An NVMe SSD (PCIe gen4 x4) serves 4 KiB reads at queue depth 32 (closed
loop: a new command the moment one completes). Each command: the driver maps
the buffer (per I/O), the controller reads the 64-byte submission entry (and
a PRP list for blocks over 8 KiB), waits the media latency, writes the data
and a 16-byte completion entry, and the driver unmaps.

With media latency m and queue depth q, a command cannot complete faster
than m, so at most q / m commands per second complete (32 / 10 us = 3.2 M
IOPS); the DMA, translation and CPU costs on top are what the run measures.
"""
import argparse

import iommusim as sim

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--until", default="1ms")
ap.add_argument("--qd", type=int, default=32, help="queue depth")
ap.add_argument("--block", default="4KiB", help="bytes per command, a multiple of 4KiB")
ap.add_argument("--policy", default="lazy",
                choices=["strict", "lazy", "persistent", "passthrough"])
ap.add_argument("--media", default="10us", help="media latency per command")
ap.add_argument("--write-ratio", type=float, default=0.0)
args = ap.parse_args()

root = sim.Root()
s = root.system = sim.System()
s.mem = sim.Memory(latency="80ns", channels=4, bandwidth="25.6GB/s")
s.iotlb = sim.IOTLB(entries=64)
s.walker = sim.Walker(walkers=2)
s.iommu = sim.GenericIOMMU(iotlb=s.iotlb, walker=s.walker, memory=s.mem)
s.ssd = sim.DmaDevice(iommu=s.iommu, memory=s.mem, requester_id=2, pattern="nvme",
                      size=args.block, slots=args.qd, write_ratio=args.write_ratio,
                      media_latency=args.media, policy=args.policy, pcie_gen=4, lanes=4)

ex = sim.simulate(until=args.until)
d = s.ssd
secs = ex.tick / 1e12
print(f"simulated {ex.tick / 1e9:.3f} ms, policy {args.policy}, qd {args.qd}, "
      f"block {args.block}")
print(f"commands {d.read('completed'):.0f} iops {d.read('completed') / secs / 1e6:.3f} M "
      f"throughput {d.read('throughput') / 8e9:.2f} GB/s errors {d.read('errors'):.0f}")
print(f"command p99 {d.read('cmd_lat_p99') / 1e6:.2f} us "
      f"translation p99 {d.read('xlate_lat_p99') / 1e3:.1f} ns "
      f"iotlb hit_rate {s.iotlb.read('hit_rate'):.4f}")
print(f"maps {d.read('maps'):.0f} unmaps {d.read('unmaps'):.0f} "
      f"invalidations {d.read('invalidations'):.0f}")
