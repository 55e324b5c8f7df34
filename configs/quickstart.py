"""Quick start: a 100 Gb/s NIC receiving through the generic IOMMU.

    iommusim configs/quickstart.py [--until 1ms] [--policy lazy] [--entries 64]

A NIC (PCIe gen4 x16) receives 1500-byte packets back to back at line rate
into a ring of 1024 buffers of 2 KiB. The driver maps and unmaps each buffer
per packet through the Linux-like DMA API (lazy invalidation, the x86
default, unless --policy says otherwise); every DMA request is translated
by the generic IOMMU (a 64-entry IOTLB, two walkers with page-walk caches).

The summary compares the packet throughput with the line rate. The
offered load is below the line rate by the Ethernet overhead: a packet of L
bytes takes L + 20 bytes of wire time (preamble and inter-frame gap), so at
most L / (L + 20) of the line rate is packet data.
"""
import argparse

import iommusim as sim

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--until", default="1ms", help="simulated time (default 1ms)")
ap.add_argument("--policy", default="lazy",
                choices=["strict", "lazy", "persistent", "passthrough"])
ap.add_argument("--entries", type=int, default=64, help="IOTLB entries (default 64)")
ap.add_argument("--line-rate", default="100Gbps")
ap.add_argument("--pkt-size", type=int, default=1500, help="bytes per packet")
args = ap.parse_args()

root = sim.Root()
s = root.system = sim.System()
s.mem = sim.Memory(latency="80ns", channels=4, bandwidth="25.6GB/s")
s.iotlb = sim.IOTLB(entries=args.entries, policy="lru")
s.walker = sim.Walker(walkers=2)
s.iommu = sim.GenericIOMMU(iotlb=s.iotlb, walker=s.walker, memory=s.mem)
s.nic = sim.DmaDevice(iommu=s.iommu, memory=s.mem, requester_id=1,
                      pattern="nic", line_rate=args.line_rate,
                      pkt_sizes=f"{args.pkt_size}B", policy=args.policy,
                      pcie_gen=4, lanes=16)

ex = sim.simulate(until=args.until)

nic, tlb, walker = s.nic, s.iotlb, s.walker
L = args.pkt_size
rate = args.line_rate
mult = {"Gbps": 1e9, "Mbps": 1e6, "Tbps": 1e12}
line_bps = next(float(rate[:-len(u)]) * m for u, m in mult.items() if rate.endswith(u))
offered = line_bps * L / (L + 20)
thr = nic.read("throughput")
print(f"simulated {ex.tick / 1e9:.3f} ms, {ex.events} events, policy {args.policy}")
print(f"throughput {thr / 1e9:.2f} Gb/s of {line_bps / 1e9:.0f} Gb/s line rate "
      f"(offered {offered / 1e9:.2f} Gb/s; {100 * thr / offered:.1f}% delivered)")
print(f"packets {nic.read('completed'):.0f} offered {nic.read('offered'):.0f} "
      f"dropped {nic.read('dropped'):.0f} faults {nic.read('faults'):.0f}")
print(f"iotlb hit_rate {tlb.read('hit_rate'):.4f} lookups {tlb.read('lookups'):.0f}")
print(f"translation p50 {nic.read('xlate_lat_p50') / 1000:.1f} ns "
      f"p99 {nic.read('xlate_lat_p99') / 1000:.1f} ns")
print(f"walks {walker.read('walks'):.0f} reads_per_walk {walker.read('reads_per_walk'):.2f}")
print(f"dma maps {nic.read('maps'):.0f} unmaps {nic.read('unmaps'):.0f} "
      f"invalidations {nic.read('invalidations'):.0f} cpu_util {nic.read('cpu_util'):.3f}")
