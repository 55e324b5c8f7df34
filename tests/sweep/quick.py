"""quick.py - the quick start over IOTLB sizes x traffic patterns, two seeds
each (8 points), 30 us of simulated time: the determinism (-j1 vs -j2) and
Dask tests of tests/cli/test_sweep.sh."""
from iommusim.sweep import Sweep

sweep = Sweep("../../configs/quickstart.py", args=["--until", "30us"])
sweep.grid({"entries": [16, 64], "system.nic.pattern": ["uniform", "nic"]})
sweep.repeat(2)
