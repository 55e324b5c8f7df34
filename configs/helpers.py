"""helpers.py - a user's own module next to a config (configs/sources.py
imports it as `import helpers`), to show that configs can share code."""
import iommusim as sim


def poisson_pair(parent, rate_a, rate_b):
    """Two independent Poisson sources under `parent`, named a and b."""
    parent.a = sim.PoissonSource(rate=rate_a)
    parent.b = sim.PoissonSource(rate=rate_b)
    return parent.a, parent.b


def expected_poisson_events(rate_hz, seconds):
    """Mean events of a PoissonSource starting at 0: the event at time 0
    plus rate * T more."""
    return 1 + rate_hz * seconds
