# err_until.py - simulate(until=...) without a unit.
import iommusim as sim

root = sim.Root()
root.system = sim.System(src=sim.PeriodicSource())
sim.simulate(until="10")
