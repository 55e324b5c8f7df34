# err_refs.py - references: outside the tree, wrong kind, cycles without clock.
import iommusim as sim

root = sim.Root()
root.system = sim.System()
root.system.other = sim.PeriodicSource()
root.system.a = sim.PeriodicSource(clock=sim.ClockDomain())      # not in the tree
root.system.b = sim.PeriodicSource(clock=root.system.other)      # not a ClockDomain
root.system.c = sim.PeriodicSource(period="12cycles")            # cycles, no clock
sim.simulate(until="1us")
