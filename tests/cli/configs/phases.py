# phases.py - warm-up, reset_stats(), measure; max_events; empty queue.
import iommusim as sim

root = sim.Root()
root.system = sim.System(src=sim.PeriodicSource(period="10ns"),
                         burst=sim.PeriodicSource(period="1ns", count=5))
src = root.system.src
ex = sim.simulate(until="1us")
print(f"warm {ex.cause} {src.read('events'):.0f}")
print(f"burst {root.system.burst.read('events'):.0f} last {root.system.burst.read('last'):.0f}")
sim.reset_stats()
ex = sim.simulate(until="2us")
print(f"measure {ex.cause} {src.read('events'):.0f} gap {src.read('mean_gap'):.0f}")
ex = sim.simulate(until="3us", max_events=7)
print(f"capped {ex.cause} {ex.events}")
try:
    src.period = "20ns"
except sim.ConfigError as e:
    print("frozen:", e)
