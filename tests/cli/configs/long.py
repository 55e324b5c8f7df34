# long.py - a long run (10^12 events), for --progress and Ctrl-C.
import iommusim as sim

root = sim.Root()
root.system = sim.System(src=sim.PeriodicSource(period="1ps"))
sim.simulate(until="1s")
