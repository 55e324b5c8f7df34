"""An assigned NIC behind a virtual IOMMU: what shadowing the guest's per-packet maps costs.

    iommusim configs/vfio_nic.py [--until 5ms] [--warmup 3ms] [--rate 100Gbps] [--pkt-size 1500]
                                 [--ring 256] [--viommu vtd|generic] [--only VARIANT,...]

A guest's NIC driver maps and unmaps every packet buffer (the DMA API,
strict: a virtual VT-d with caching mode forces strict). The NIC is
assigned to the guest with VFIO, so its DMA is translated by the *host*
IOMMU; the guest's IOMMU is virtual. Identical machines in one run:

  cm           a virtual VT-d with caching mode (--viommu vtd, the default;
               --viommu generic: a GenericIOMMU with map_events): every
               guest map is followed by a page-selective invalidation and
               a wait, whose processing turns into a MAP event; VfioShadow
               pins the page and maps it into the host VT-d (VFIO type1);
               every unmap is undone the same way. The shadow's work runs
               inside the processing of the guest's descriptor (QEMU calls
               the notifiers there) under the container lock.
  virtio       the same with a virtio-iommu (MAP/UNMAP requests, one guest
               round trip each, instead of caching-mode invalidations).
  nested       scalable-mode VT-d with nested translation: the guest's first
               level over the host's second level, walked in 2D by the
               hardware; nothing to shadow.
  passthrough  no vIOMMU in the guest (iommu=pt): the host maps all guest RAM
               once; no per-packet work at all.

Printed per variant: throughput (and of offered), packets, CPU time per
packet in the guest's DMA API, in the VFIO shadow (map, unmap) and in the
virtual IOMMU's queue (descriptors or requests, the shadow's work inside),
the notifications per packet, and the container lock's mean queue wait.

What to expect, with the defaults (docs/consumers.md, docs/models/vtd.md,
docs/models/virtio-iommu.md; tests/cli/test_vfio_nic.sh checks each):
  cm       the guest VT-d's queue handles a packet's map (page-selective
           descriptor 200 ns + the shadow's MAP 2.25 us + wait 100 ns) and
           unmap (200 ns + the shadow's UNMAP 2.4 us + 100 ns) one after
           another: 5.25 us per packet, 12000 bits / 5.25 us = 2.29 Gb/s;
  virtio   a MAP request (round trip 5 us + 1 us + 2.25 us) and an UNMAP
           request (5 + 1 + 2.4 us) per packet: 16.65 us, 0.72 Gb/s;
  nested   the 4 driver CPUs' DMA-API time, 1.25 us per packet (map 100 ns,
           unmap 100 ns, invalidation submit 50 ns and wait 1 us): 3.2 Mpps,
           38.4 Gb/s;
  passthrough  the link: 100 Gb/s x 1500 / 1520 = 98.7 Gb/s.
The ring (--ring, 256 descriptors) is filled at start, one map per buffer:
under virtio that takes 256 x 8.25 us = 2.1 ms, inside the 3 ms warm-up
(with Linux's 1024 it would take 8.5 ms).
"""
import argparse

import iommusim as sim

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--until", default="5ms", help="simulated time (default 5ms)")
ap.add_argument("--warmup", default="3ms", help="simulated warm-up, not measured "
                "(default 3ms: the first ring fill takes 2.1 ms under virtio)")
ap.add_argument("--ring", type=int, default=256, help="NIC ring descriptors (default 256)")
ap.add_argument("--only", default="", help="comma-separated variants to build (default all)")
ap.add_argument("--rate", default="100Gbps", help="line rate (default 100Gbps)")
ap.add_argument("--pkt-size", type=int, default=1500, help="bytes per packet")
ap.add_argument("--viommu", choices=["vtd", "generic"], default="vtd",
                help="the caching-mode virtual IOMMU of the cm variant (default vtd)")
args = ap.parse_args()

ALL = ["cm", "virtio", "nested", "passthrough"]
VARIANTS = [v for v in ALL if not args.only or v in args.only.split(",")]
bad = [v for v in args.only.split(",") if v and v not in ALL]
if bad or not VARIANTS:
    raise SystemExit(f"vfio_nic.py: --only: unknown variant {','.join(bad) or args.only!r} "
                     f"(expected some of {','.join(ALL)})")
RID = 8              # the NIC's requester id (bus 0, device 1, function 0)
HOST_DOMAIN = 1      # the VFIO container's domain on the host IOMMU


def vtd(s, name, **kw):
    """A VT-d with its own IOTLB and walker objects under s."""
    setattr(s, name + "_iotlb", sim.IOTLB(entries=64))
    setattr(s, name + "_walker", sim.Walker(walkers=2))
    setattr(s, name, sim.VTdIOMMU(iotlb=getattr(s, name + "_iotlb"),
                                  walker=getattr(s, name + "_walker"), memory=s.mem, **kw))
    return getattr(s, name)


root = sim.Root()
for var in VARIANTS:
    s = sim.System()
    setattr(root, var, s)
    s.mem = sim.Memory(latency="80ns", channels=4, bandwidth="25.6GB/s")
    nic = dict(memory=s.mem, requester_id=RID, pattern="nic", line_rate=args.rate,
               pkt_sizes=f"{args.pkt_size}B", policy="strict", ring=args.ring)
    if var in ("cm", "virtio"):
        if var == "cm" and args.viommu == "vtd":
            guest = vtd(s, "viommu", caching_mode=True)
        elif var == "cm":
            s.viotlb = sim.IOTLB(entries=64)
            s.viwalker = sim.Walker(walkers=2)
            s.viommu = sim.GenericIOMMU(iotlb=s.viotlb, walker=s.viwalker, memory=s.mem,
                                        map_events=True)
            guest = s.viommu
        else:
            s.viommu = sim.VirtioIOMMU()
            guest = s.viommu
        host = vtd(s, "host")
        s.nic = sim.DmaDevice(iommu=guest, host_iommu=host, host_domain=HOST_DOMAIN, **nic)
        s.vfio = sim.VfioShadow(iommu=guest, requester_id=RID, host_iommu=host,
                                host_domain=HOST_DOMAIN)
    elif var == "nested":
        s.nic = sim.DmaDevice(iommu=vtd(s, "iommu", scalable=True, pgtt="nested"), **nic)
    else:
        s.nic = sim.DmaDevice(iommu=vtd(s, "host"), **dict(nic, policy="passthrough"))

sim.simulate(until=args.warmup)
sim.reset_stats()
t0 = sim.now()
ex = sim.simulate(until=args.until)

T = (ex.tick - t0) / 1e12          # the measured span, seconds
L = args.pkt_size
rate_bps = float(args.rate.lower().replace("gbps", "e9").replace("mbps", "e6"))
offered = rate_bps * L / (L + 20)
print(f"measured {T * 1e6:.1f} us after {args.warmup} of warm-up, {L}-byte packets at "
      f"{args.rate}, cm through {'a VT-d' if args.viommu == 'vtd' else 'a GenericIOMMU'}")
print(f"{'variant':>11} {'Gb/s':>7} {'of_offered':>10} {'packets':>8} {'os_ns/pkt':>9} "
      f"{'vfio_map_ns':>11} {'vfio_unmap_ns':>13} {'viommu_ns':>9} {'notif/pkt':>9} "
      f"{'lock_wait_ns':>12}")
for var in VARIANTS:
    s = getattr(root, var)
    n = s.nic
    pk = max(n.read("completed"), 1.0)
    thr = n.read("throughput")
    os_ns = n.read("cpu_util") * 4 * T * 1e9 / pk        # 4 driver CPUs (the default)
    if hasattr(s, "vfio"):
        v = s.vfio
        ev = v.read("maps") + v.read("unmaps")
        vm, vu = v.read("map_time") / 1e3 / pk, v.read("unmap_time") / 1e3 / pk
        wait = v.read("queue_wait") / 1e3 / max(ev, 1.0)
        notif = ev / pk
    else:
        vm = vu = wait = notif = 0.0
    # The virtual IOMMU's own queue per packet (the shadow's work inside):
    # VT-d's invalidation unit, virtio-iommu's request queue.
    vq = 0.0
    if var == "cm" and args.viommu == "vtd":
        vq = s.viommu.read("qi_busy_time") / 1e3 / pk
    elif var == "virtio":
        vq = s.viommu.read("queue_util") * T * 1e9 / pk
    print(f"{var:>11} {thr / 1e9:7.2f} {thr / offered:10.3f} {n.read('completed'):8.0f} "
          f"{os_ns:9.1f} {vm:11.1f} {vu:13.1f} {vq:9.1f} {notif:9.2f} {wait:12.1f}")
# One line for scripts (bench/bench_vfio_nic): the measured span's packets,
# every variant together: completed (through the whole DMA path) and
# offered (arrivals at the line rate, dropped ones included).
done_all = sum(getattr(root, v).nic.read("completed") for v in VARIANTS)
offered_all = sum(getattr(root, v).nic.read("offered") for v in VARIANTS)
print(f"total completed {done_all:.0f} offered {offered_all:.0f} over {T * 1e3:.3f} ms")
