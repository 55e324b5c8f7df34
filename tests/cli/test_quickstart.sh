#!/bin/sh
# test_quickstart.sh - configs/quickstart.py and configs/strict_vs_lazy.py:
# their summaries against derivations.
#
# Quick start (100 Gb/s, 1500-byte packets, 1 ms, lazy, 4 CPUs):
#  - a packet takes (1500 + 20) * 8 bits / 100 Gb/s = 121.6 ns of wire, so
#    arrivals at 0, 121.6, ... ns: floor(1e6 / 121.6) + 1 = 8224 by 1 ms;
#  - lazy costs 100 + 100 ns of CPU per packet on 4 CPUs (50 ns < 121.6 ns):
#    nothing is dropped, and every packet but those in flight at the end is
#    delivered, so throughput is the offered load 100 * 1500/1520 Gb/s;
#  - each packet makes 8 translated requests (a descriptor read, 1500/256 ->
#    6 data writes within one page, a descriptor write-back);
#  - a packet's buffer IOVA is reused only after a domain-wide flush, so
#    its first data request always misses: walks >= packets.
# Strict at 100 Gb/s: 100 + 100 + 50 + 1000 ns per packet on 4 CPUs caps the
# rate at 3.2 Mpps, so at most 1024 (the ring posted at start) + 3200
# packets by 1 ms, and one invalidation per unmap.
# The embedded CPython's allocations are not leak-checked (docs/configs.md).
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
PY=/usr/bin/python3
cd "$TMP" || exit 1
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$OLDPWD/$top_srcdir" ;; esac

# check NAME PYTHON-EXPR: the expression over the summary's numbers must hold.
check() {
    if $PY - "$TMP/out" "$2" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
def num(pattern):
    m = re.search(pattern + r"\s+([-0-9.e+]+)", text)
    if not m:
        raise SystemExit(f"no '{pattern}' in the summary")
    return float(m.group(1))
v = dict(throughput=num("throughput"), packets=num("packets"),
         offered=num(r"packets \d+ offered"), dropped=num("dropped"), faults=num("faults"),
         hit_rate=num("hit_rate"), lookups=num("lookups"), p50=num("p50"), p99=num("p99"),
         walks=num("walks"), unmaps=num("unmaps"), invalidations=num("invalidations"))
ok = eval(sys.argv[2], {}, v)
raise SystemExit(0 if ok else f"false: {sys.argv[2]}")
PYEOF
    then ok "$1"; else bad "$1" "$(head -c 600 "$TMP/out")"; fi
}

expect_status 0 "quickstart runs" -- "$IOMMUSIM" -q "$SRC/configs/quickstart.py"
check "8224 packets offered in 1 ms at 121.6 ns each" 'offered == 8224'
check "lazy keeps up: nothing dropped, no faults" 'dropped == 0 and faults == 0'
check "delivered = offered less those in flight" 'offered - 16 <= packets <= offered'
check "throughput <= offered load 98.68 Gb/s, >= 99% of it" \
    '0.99 * 100 * 1500 / 1520 <= throughput <= 100 * 1500 / 1520 + 1e-9'
check "8 translated requests per packet" \
    '8 * packets <= lookups <= 8 * offered'
check "hit rate in [0, 7/8]: each buffer's first request misses" \
    '0 <= hit_rate <= 7 / 8'
check "walks >= packets" 'walks >= packets'
check "p99 translation >= p50 >= lookup + hit latency (3 ns)" \
    'p99 >= p50 >= 3.0'
check "lazy: one flush per 4 x 256 unmaps, none by the 10 ms timer" \
    'invalidations == unmaps // 1024'
grep -q "^throughput .* of 100 Gb/s line rate" "$TMP/out" && ok "summary line" || bad "summary line"

expect_status 0 "quickstart strict" -- "$IOMMUSIM" -q "$SRC/configs/quickstart.py" --policy strict
check "strict: at most 1024 + 3200 packets in 1 ms" 'packets <= 1024 + 3200'
check "strict: packets dropped at 100 Gb/s" 'dropped > 0'
check "strict: one invalidation per unmap" 'invalidations == unmaps'

expect_status 0 "quickstart short run" -- "$IOMMUSIM" -q "$SRC/configs/quickstart.py" --until 100us
# 1e5 / 121.6 = 822.4: arrivals 0 .. 822
check "100 us: 823 arrivals" 'offered == 823'

# --- strict_vs_lazy ---------------------------------------------------------
expect_status 0 "strict_vs_lazy runs" -- "$IOMMUSIM" -q "$SRC/configs/strict_vs_lazy.py"
row() {     # RATE POLICY COLUMN(1-based after rate, policy)
    awk -v r="$1" -v p="$2" -v c="$3" '$1 == r && $2 == p { print $(c + 2) }' "$TMP/out"
}
s100=$(row 100G strict 1); l100=$(row 100G lazy 1)
si100=$(row 100G strict 5); li100=$(row 100G lazy 5); sp100=$(row 100G strict 3)
s10=$(row 10G strict 2); l10=$(row 10G lazy 2)
if $PY -c "import sys; sys.exit(0 if float('$s100') < 0.8 * float('$l100') else 1)"; then
    ok "100 Gb/s: strict throughput below lazy ($s100 < $l100 Gb/s)"
else bad "100 Gb/s: strict throughput below lazy" "strict $s100, lazy $l100"; fi
if [ "${si100:-0}" -gt "${li100:-0}" ] && [ "$si100" = "$sp100" ]; then
    ok "100 Gb/s: strict issues more invalidations ($si100 = packets > $li100)"
else bad "strict invalidations" "strict $si100 (packets $sp100), lazy $li100"; fi
if $PY -c "import sys; sys.exit(0 if float('$s10') >= 0.99 and float('$l10') >= 0.99 else 1)"; then
    ok "10 Gb/s: both keep up ($s10, $l10 of offered)"
else bad "10 Gb/s: both keep up" "strict $s10, lazy $l10"; fi

# --- nvme_random --------------------------------------------------------------
# Queue depth q, mean media time m = 10 us, T = 1 ms. Little's law: completed
# <= q T / m + q (no command is faster than its media time on average).
# Each of a command's four DMA phases costs at most two link latencies
# (200 ns), a memory access (80 ns) and a cold 4-level walk (4 x 80 ns) plus
# transfer time, < 700 ns, and map + unmap 200 ns of CPU: under 3 us on top
# of m, so completed >= q T / (m + 3 us) - q.
nv() {      # NAME PYTHON-EXPR over commands, throughput_GBps, maps, unmaps, invals
    if $PY - "$TMP/out" "$2" <<'PYEOF'
import re, sys
t = open(sys.argv[1]).read()
g = lambda p: float(re.search(p + r"\s+([-0-9.e+]+)", t).group(1))
v = dict(commands=g("commands"), gbps=g("throughput"), maps=g("maps"), unmaps=g("unmaps"),
         invals=g("invalidations"), errors=g("errors"))
raise SystemExit(0 if eval(sys.argv[2], {}, v) else f"false: {sys.argv[2]}")
PYEOF
    then ok "$1"; else bad "$1" "$(head -c 600 "$TMP/out")"; fi
}
expect_status 0 "nvme_random qd 8" -- "$IOMMUSIM" -q "$SRC/configs/nvme_random.py" --qd 8
nv "qd 8: 8e3/13 - 8 <= commands <= 8e3/10 + 8" '8e3 / 13 - 8 <= commands <= 8e3 / 10 + 8'
# maps: one per command started (<= 8 in flight) plus the queues' region.
nv "qd 8: no errors, one unmap per command, at most 8 buffers + the queues mapped" \
    'errors == 0 and unmaps == commands and 1 <= maps - unmaps <= 9'
# gen4 x4 = 4 x 16e9 x 128/130 bit/s; 4 KiB of data takes 16 TLPs of 256 B
# with 24 B overhead each: at most 63.0 x 4096 / 4480 Gb/s = 7.2 GB/s.
expect_status 0 "nvme_random qd 32" -- "$IOMMUSIM" -q "$SRC/configs/nvme_random.py" --qd 32
nv "qd 32: throughput under the link bound 7.2 GB/s" \
    'gbps <= 4 * 16e9 * 128 / 130 * 4096 / 4480 / 8e9'
expect_status 0 "nvme_random strict 128 KiB writes" -- "$IOMMUSIM" -q \
    "$SRC/configs/nvme_random.py" --policy strict --block 128KiB --qd 4 --write-ratio 1
nv "strict: one invalidation per command" 'invals == unmaps == commands and commands > 0'

finish
