# periodic.py - a 3 GHz clock and a PeriodicSource every `--period` (default
# 1cycle) from 3 cycles (1000 ps); prints its sys.argv and the count by --until.
import argparse
import sys

import iommusim as sim

print("argv:", " ".join(sys.argv[1:]))
ap = argparse.ArgumentParser(prog="periodic.py")
ap.add_argument("--until", default="1us")
ap.add_argument("--period", default="1cycle")
args = ap.parse_args()

root = sim.Root()
root.system = sim.System()
root.system.clk = sim.ClockDomain(frequency="3GHz")
root.system.src = sim.PeriodicSource(period=args.period, start="3cycles",
                                     clock=root.system.clk)
ex = sim.simulate(until=args.until)
print(f"exit {ex.cause} tick {ex.tick} events {ex.events}")
print(f"count {root.system.src.read('events'):.0f}")
