"""sources.py - Poisson sources, warm-up and measurement, closed-form check.

    iommusim configs/sources.py [--until 1ms] [--warmup 100us]

Two independent PoissonSources (10 MHz and 2.5 MHz). After a warm-up, the
readouts are reset and the measured window should hold about rate * window
events each (standard deviation sqrt of that). The config prints measured
and expected counts.
"""
import argparse
import math

import helpers                      # a module next to this config
import iommusim as sim

ap = argparse.ArgumentParser(prog="sources.py")
ap.add_argument("--until", default="1ms")
ap.add_argument("--warmup", default="100us")
args = ap.parse_args()

root = sim.Root()
root.system = sim.System()
a, b = helpers.poisson_pair(root.system, "10MHz", "2.5MHz")

sim.simulate(until=args.warmup)
t0 = sim.now()
sim.reset_stats()
ex = sim.simulate(until=args.until)
window = (ex.tick - t0) / 1e12
for src, rate in ((a, 10e6), (b, 2.5e6)):
    n = src.read("events")
    mean = rate * window
    print(f"{src.path}: {n:.0f} events, expected {mean:.0f} +- {math.sqrt(mean):.0f}")
