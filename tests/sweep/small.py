"""small.py - the sweep of the sweep tests: 4 periods x 2 seeds = 8 points;
the i-th period goes with the i-th --mode (injected only under
SWEEP_TEST_INJECT=1, see point.py)."""
from iommusim.sweep import Sweep

sweep = Sweep("point.py")
sweep.zip({"system.tick.period": ["2ns", "4ns", "5ns", "10ns"],
           "mode": ["ok", "crash", "fail", "sleep"]})
sweep.repeat(2, base_seed=7)
