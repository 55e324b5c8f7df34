"""check_plots.py - checks of `iommusim plot` / `report` outputs for
tests/cli/test_plot.sh, against values computed independently (closed forms
of the stats writer driver, or the points' own stats.h5 read with h5py).

    check_plots.py cdf DRIVER_STATS.h5 OUT.svg
    check_plots.py series DRIVER_STATS.h5 OUT.svg
    check_plots.py sweep SWEEPDIR OUT.svg
    check_plots.py report SWEEPDIR REPORT.html
"""
import re
import sys
import xml.etree.ElementTree as ET

import h5py
import numpy as np

from iommusim import plot, stats

SVG = "{http://www.w3.org/2000/svg}"


def line_vertices(svg, gid):
    """The (x, y) vertices of the path inside the group with id gid."""
    root = ET.parse(svg).getroot()
    for g in root.iter(SVG + "g"):
        if g.get("id") == gid:
            path = next(g.iter(SVG + "path"))
            nums = [float(v) for v in re.findall(r"[-+]?[0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?",
                                                 path.get("d"))]
            return list(zip(nums[0::2], nums[1::2]))
    raise AssertionError("%s: no group '%s'" % (svg, gid))


def cdf(h5, svg):
    # Driver: samples (37 i + 101 k) mod 1200, k = 0..4, dumps i = 21..50
    # after the reset at 20; linear bins of 100 over [0, 1000).
    samples = [(37 * i + 101 * k) % 1200 for i in range(21, 51) for k in range(5)]
    with stats.load(h5) as s:
        xs, ys = plot.cdf_points(s.hist("system.dev0.lat"))
    want_x = [e for e in range(0, 1001, 100) if e == 0 or any(e - 100 <= v < e for v in samples)]
    assert list(xs[:len(want_x)]) == want_x, (xs, want_x)
    for x, y in zip(xs[1:-1], ys[1:-1]):
        assert abs(y - sum(v < x for v in samples) / len(samples)) < 1e-12, (x, y)
    assert xs[-1] == max(samples) and ys[-1] == 1.0, (xs[-1], ys[-1])
    v = line_vertices(svg, "cdf:system.dev0.lat")
    assert len(v) == 2 * len(xs) - 1, (len(v), len(xs))   # a step: two per jump
    print("CDF: %d steps match the samples" % (len(xs) - 1))


def series(h5, svg):
    t, vals = plot.plot_series(h5, "system.dev0.reqs", svg)
    want = [sum(range(21, i + 1)) if i > 20 else i * (i + 1) // 2 for i in range(1, 51)]
    assert list(vals) == want, (list(vals), want)
    assert len(line_vertices(svg, "time:system.dev0.reqs")) == 50
    print("series: 50 dumps")


def sweep(d, svg):
    # Independent: each point's own stats.h5, read with h5py.
    import json
    m = json.load(open(d + "/manifest.json"))
    acc = {}
    for p in m["points"]:
        with h5py.File(p["outdir"] + "/stats.h5", "r") as f:
            hr = f["stats/system/iotlb/hit_rate"][-1]
        key = (p["params"]["system.nic.pattern"], p["params"]["entries"])
        acc.setdefault(key, []).append(hr)
    series_ = plot.plot_sweep(stats.load_sweep(d), "entries", "system.iotlb.hit_rate", svg,
                              by="system.nic.pattern")
    assert sorted(series_) == ["nic", "uniform"], sorted(series_)
    for pat, (xs, mean, lo, hi) in series_.items():
        assert list(xs) == [16, 64], xs
        for x, mu, a, b in zip(xs, mean, lo, hi):
            v = acc[(pat, x)]
            assert abs(mu - np.mean(v)) < 1e-12 and a == min(v) and b == max(v), (pat, x)
        assert len(line_vertices(svg, "series:system.nic.pattern=" + pat)) == 2
    print("sweep plot: 2 series x 2 points, means over seeds")


def report(d, html):
    text = open(html, encoding="utf-8").read()
    npts = len(stats.load_sweep(d))
    table = text[text.index('<table id="points">'):text.index("</table>")]
    assert table.count("<tr>") == npts + 1, table.count("<tr>")
    assert '<figure id="plot:system.iotlb.hit_rate">' in text
    assert text.count("<svg") == text.count("<figure"), "every plot inline"
    assert 'id="series:system.nic.pattern=nic"' in text
    assert not re.search(r'(src|href)="(https?:|file:|/)', text), "not self-contained"
    print("report: %d rows, %d plots" % (npts, text.count("<figure")))


{"cdf": cdf, "series": series, "sweep": sweep, "report": report}[sys.argv[1]](*sys.argv[2:4])
