"""The quick start over IOTLB sizes x traffic patterns: 16 points.

    iommusim sweep configs/sweeps/quickstart_iotlb.py -j 2 --outdir sweep-out

Each point runs configs/quickstart.py for 1 ms of simulated time with an
IOTLB of 16 to 1024 entries and the NIC's traffic pattern replaced by
another (docs/sweeps.md). Then, under /usr/bin/python3:

    from iommusim.stats import load_sweep
    df = load_sweep("sweep-out", ["system.iotlb.hit_rate"])
    df.pivot(index="entries", columns="system.nic.pattern",
             values="system.iotlb.hit_rate")
"""
from iommusim.sweep import Sweep

sweep = Sweep("../quickstart.py", args=["--until", "1ms"], name="quickstart-iotlb")
sweep.grid({"entries": [16, 64, 256, 1024],
            "system.nic.pattern": ["sequential", "uniform", "zipf", "nic"]})
