"""An assigned NIC behind a virtual IOMMU: what shadowing the guest's per-packet maps costs.

    iommusim configs/vfio_nic.py [--until 5ms] [--warmup 3ms] [--rate 100Gbps] [--pkt-size 1500]
                                 [--viommu generic|vtd]

A guest's NIC driver maps and unmaps every packet buffer (the DMA API,
strict: a virtual VT-d with caching mode forces strict). The NIC is
assigned to the guest with VFIO, so its DMA is translated by the *host*
IOMMU; the guest's IOMMU is virtual. Identical machines in one run:

  cm           a caching-mode vIOMMU (--viommu: a GenericIOMMU with
               map_events, the default, or a VTdIOMMU with caching_mode):
               every guest map is followed by an invalidation the vIOMMU
               turns into a MAP event; VfioShadow
               pins the page and maps it into the host VT-d (VFIO type1),
               every unmap is undone the same way; the container lock
               serialises it all and the guest's map/unmap wait for it.
               The host IOMMU is a VT-d either way. (With --viommu vtd the
               VT-d model adds each notifier's queueing on the container
               lock to its serial invalidation queue as well, so a burst of
               maps is charged its lock wait twice: see docs/consumers.md.)
  virtio       the same with a virtio-iommu (MAP/UNMAP requests instead of
               caching-mode invalidations), if the model is built in.
  nested       scalable-mode VT-d with nested translation: the guest's first
               level over the host's second level, walked in 2D by the
               hardware; nothing to shadow.
  passthrough  no vIOMMU in the guest (iommu=pt): the host maps all guest RAM
               once; no per-packet work at all.

Printed per variant: throughput (and of offered), packets, CPU time per
packet in the guest's DMA API and in the VFIO shadow (map, unmap), the
notifications per packet, and the container lock's mean queue wait.

What to expect: the shadow's map + unmap cost (2 x 2 us fixed + pinning
and host invalidation by default, docs/consumers.md has the worked example)
is paid per packet under one lock, so cm tops out near
1 / (per-packet shadow time) packets per second, far below 100 Gb/s of
1500-byte packets (8.2 Mpps); nested and passthrough are bounded by the
guest's own DMA-API CPU time and the link.
"""
import argparse

import iommusim as sim

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--until", default="5ms", help="simulated time (default 5ms)")
ap.add_argument("--warmup", default="3ms", help="simulated warm-up, not measured "
                "(default 3ms: the shadow of the first ring fill, 1024 maps, takes 2.3 ms)")
ap.add_argument("--rate", default="100Gbps", help="line rate (default 100Gbps)")
ap.add_argument("--pkt-size", type=int, default=1500, help="bytes per packet")
ap.add_argument("--viommu", choices=["generic", "vtd"], default="generic",
                help="the caching-mode virtual IOMMU of the cm variant (default generic)")
args = ap.parse_args()

HAVE_VIRTIO = hasattr(sim, "VirtioIOMMU")
VARIANTS = ["cm"] + (["virtio"] if HAVE_VIRTIO else []) + ["nested", "passthrough"]
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
               pkt_sizes=f"{args.pkt_size}B", policy="strict")
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
print(f"measured {T * 1e6:.1f} us after {args.warmup} of warm-up, {L}-byte packets at {args.rate}"
      + ("" if HAVE_VIRTIO else " (virtio: no VirtioIOMMU in this build)"))
print(f"{'variant':>11} {'Gb/s':>7} {'of_offered':>10} {'packets':>8} {'os_ns/pkt':>9} "
      f"{'vfio_map_ns':>11} {'vfio_unmap_ns':>13} {'notif/pkt':>9} {'lock_wait_ns':>12}")
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
    print(f"{var:>11} {thr / 1e9:7.2f} {thr / offered:10.3f} {n.read('completed'):8.0f} "
          f"{os_ns:9.1f} {vm:11.1f} {vu:13.1f} {notif:9.2f} {wait:12.1f}")
