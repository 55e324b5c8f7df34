# stats_source.py - a 10 ns PeriodicSource for the statistics tests
# (test_config_stats.sh): optional stats_period in the config, optional
# warm-up with reset_stats(), optional Poisson source (seeded).
import argparse

import iommusim as sim

ap = argparse.ArgumentParser()
ap.add_argument("--until", default="1us")
ap.add_argument("--stats-period", default=None, help="simulate(stats_period=...)")
ap.add_argument("--warmup", default=None, help="simulate to this, then reset_stats()")
ap.add_argument("--poisson", action="store_true", help="add a 50 MHz PoissonSource")
args = ap.parse_args()

root = sim.Root()
root.system = sim.System(src=sim.PeriodicSource(period="10ns"))
if args.poisson:
    root.system.poi = sim.PoissonSource(rate="50MHz")
if args.warmup:
    sim.simulate(until=args.warmup, stats_period=args.stats_period)
    sim.reset_stats()
sim.simulate(until=args.until, stats_period=args.stats_period)
print(f"events {root.system.src.read('events'):.0f}")
