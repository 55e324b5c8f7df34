"""default.py - the smallest useful config: one clock, one periodic source.

    iommusim configs/default.py
    iommusim configs/default.py --until 10us
    iommusim --set system.tick.period=8cycles configs/default.py

A PeriodicSource clocked at 2 GHz fires every 4 cycles (2 ns) from time 0,
so by 1 us it has fired 1us / 2ns + 1 = 501 events.
"""
import argparse

import iommusim as sim

ap = argparse.ArgumentParser(prog="default.py", description=__doc__.splitlines()[0])
ap.add_argument("--until", default="1us", help="simulated time to run (default 1us)")
args = ap.parse_args()

root = sim.Root()
root.system = sim.System()
root.system.clk = sim.ClockDomain(frequency="2GHz")
root.system.tick = sim.PeriodicSource(period="4cycles", clock=root.system.clk)

ex = sim.simulate(until=args.until)
print(f"exit: {ex.cause} at {ex.tick} ps after {ex.events} events")
print(f"system.tick.events {root.system.tick.read('events'):.0f}")
