# trace.py - a TraceSource with a list of times (one in cycles of a 1 GHz
# clock); prints the events by --until.
import argparse

import iommusim as sim

ap = argparse.ArgumentParser(prog="trace.py")
ap.add_argument("--until", default="1us")
args = ap.parse_args()

root = sim.Root()
root.system = sim.System()
root.system.clk = sim.ClockDomain(frequency="1GHz")
root.system.t = sim.TraceSource(times=["30ns", "10ns", "25cycles", "2us"],
                                clock=root.system.clk)
ex = sim.simulate(until=args.until)
print(f"events {root.system.t.read('events'):.0f} last {root.system.t.read('last'):.0f}")
