# err_nosim.py - builds a tree and forgets to call simulate().
import iommusim as sim

root = sim.Root()
root.system = sim.System(src=sim.PeriodicSource())
