"""A secure and a non-secure DMA master sharing memory behind a TrustZone MPC.

    iommusim configs/tz_mpc.py [--until 200us] [--block-size 4KiB] [--bus-error]

The MPC guards 1 MiB at 4 GiB in blocks of --block-size. Both masters read
and write 4 KiB transfers over the same 512 KiB window at its start. At
reset the whole memory is secure (the LUT resets to 0). Secure software
then rewrites the LUT twice while the masters run:
  - at until/4 it gives the window's upper half to the non-secure world;
  - at until/2 it gives the whole window to the non-secure world.

What to expect (and why):
  - before until/4 every non-secure request is blocked and every secure one
    passes; between until/4 and until/2 each master is blocked on the half
    that is not its world's; after until/2 the secure master is blocked
    everywhere in the window and the non-secure one nowhere;
  - blocked requests are read-as-zero/write-ignored by default (no device
    error); with --bus-error they fail and show as the device's errors;
  - each LUT change sends one UNMAP per changed block on each of the two
    indexes and never a MAP: 2 x (window/2 + window/2) / block_size events.
"""
import argparse

import iommusim as sim

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--until", default="200us", help="simulated time (default 200us)")
ap.add_argument("--block-size", default="4KiB", help="MPC block size (default 4KiB)")
ap.add_argument("--bus-error", action="store_true",
                help="blocked accesses get a bus error instead of RAZ/WI")
args = ap.parse_args()

UNITS = {"ps": 1e-12, "ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def seconds(text):
    for u in sorted(UNITS, key=len, reverse=True):
        if text.endswith(u):
            return float(text[:-len(u)]) * UNITS[u]
    raise SystemExit(f"--until: a time such as 200us (got {text!r})")


T = seconds(args.until)
BASE = 4 << 30
WINDOW = 512 << 10
half = WINDOW // 2

root = sim.Root()
s = root.system = sim.System()
s.mem = sim.Memory(latency="80ns", channels=2)
s.mpc = sim.TzMpc(base=f"{BASE}B", size="1MiB", block_size=args.block_size,
                  blocked_response="bus_error" if args.bus_error else "raz_wi",
                  change_at=f"{T / 4 * 1e9:.3f}ns, {T / 2 * 1e9:.3f}ns",
                  change_base=f"{BASE + half}B, {BASE}B",
                  change_size=f"{half}B, {WINDOW}B",
                  change_to="nonsecure, nonsecure")
common = dict(iommu=s.mpc, memory=s.mem, policy="passthrough", pattern="uniform",
              footprint=f"{WINDOW}B", size="4KiB", slots=8, buf_base=f"{BASE}B",
              write_ratio=0.5, issue="open", rate="2GB/s")
s.secure = sim.DmaDevice(requester_id=0, domain=0, secure=True, **common)
s.nonsecure = sim.DmaDevice(requester_id=1, domain=1, secure=False, **common)

ex = sim.simulate(until=args.until)

m = s.mpc
print(f"simulated {ex.tick / 1e6:.3f} us, block {args.block_size}, "
      f"blocked accesses: {'bus error' if args.bus_error else 'RAZ/WI'}")
print(f"{'world':>10} {'allowed':>8} {'blocked':>8} {'transfers':>9} {'errors':>7} "
      f"{'Gb/s':>7}")
for name, dev, pre in (("secure", s.secure, "s"), ("nonsecure", s.nonsecure, "ns")):
    print(f"{name:>10} {m.read(pre + '_allowed'):8.0f} {m.read(pre + '_blocked'):8.0f} "
          f"{dev.read('completed'):9.0f} {dev.read('errors'):7.0f} "
          f"{dev.read('throughput') / 1e9:7.2f}")
print(f"lut_changes {m.read('lut_changes'):.0f} blocks_changed {m.read('blocks_changed'):.0f} "
      f"unmap_events {m.read('unmap_events'):.0f} raz_wi {m.read('raz_wi'):.0f} "
      f"bus_errors {m.read('bus_errors'):.0f}")
