#!/bin/sh
# test_iommu_config.sh - the IOMMU objects from a config: configs/iommu_random.py
# against the closed forms of issue 5, and the IOMMU parameters' errors.
#
# Expected numbers (derived, not pasted):
#  - Uniform random accesses over N pages, C-entry IOTLB, C < N: once full
#    the IOTLB holds C distinct pages, and each access picks its page
#    independently, so it hits with probability C/N, for any replacement
#    policy; with S sets and N a multiple of S, each set holds `ways` of the
#    N/S pages that map to it: ways/(N/S) = C/N again. 100000 measured
#    lookups give a standard deviation of sqrt(p(1-p)/1e5) < 0.0016, so the
#    1% band of the issue is > 6 sigma.
#  - The probe issues one translation every 1/5 MHz = 200 ns: the measured
#    window (2 ms, 22 ms] holds 20 ms / 200 ns = 100000 lookups.
#  - A cyclic scan of C+1 pages through a C-entry LRU IOTLB, one request at a
#    time: page p's previous use was C+1 accesses ago and C other pages were
#    filled since, so it was evicted: hit rate 0.
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
cd "$TMP" || exit 1
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$OLDPWD/$top_srcdir" ;; esac
CFG="$SRC/configs/iommu_random.py"

# within FILE WANT TOL NAME: the hit_rate line is within TOL of WANT
within() {
    got=$(sed -n 's/^hit_rate \([0-9.]*\).*/\1/p' "$1")
    if [ -n "$got" ] && awk -v g="$got" -v w="$2" -v t="$3" \
        'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then
        ok "$4 (got $got)"
    else
        bad "$4" "hit_rate '$got', expected $2 +- $3; out: $(head -c 300 "$1")"
    fi
}

expect_status 0 "uniform C=64 N=256 runs" -- "$IOMMUSIM" -q "$CFG"
within "$TMP/out" 0.25 0.01 "uniform over 256 pages, 64-entry LRU IOTLB: hit rate C/N = 0.25"
expect_grep "$TMP/out" "^lookups 100000 " "5 MHz for 20 ms: 100000 lookups measured"
expect_grep "$TMP/out" "^translations 100000 faults 0 " "every translation completes, none faults"
expect_grep "$TMP/out" " occupancy 64$" "the IOTLB is full"
cp "$TMP/out" "$TMP/first"

expect_status 0 "same seed again" -- "$IOMMUSIM" -q "$CFG"
if cmp -s "$TMP/out" "$TMP/first"; then ok "same seed, same config: identical results"; else
    bad "same seed, same config: identical results" "$(diff "$TMP/first" "$TMP/out" | head -5)"; fi
expect_status 0 "another seed" -- "$IOMMUSIM" -q --seed 7 "$CFG"
within "$TMP/out" 0.25 0.01 "seed 7: hit rate still C/N"
cmp -s "$TMP/out" "$TMP/first" && bad "the seed changes the page stream" || \
    ok "the seed changes the page stream"

for pol in lru plru fifo random; do
    expect_status 0 "8-way $pol" -- "$IOMMUSIM" -q "$CFG" --entries 200 --ways 8 \
        --policy "$pol" --pages 1000
    within "$TMP/out" 0.2 0.01 "25 sets x 8 ways, $pol, 1000 pages: hit rate C/N = 0.2"
done

expect_status 0 "cyclic scan of C+1 pages" -- "$IOMMUSIM" -q "$CFG" --pattern cyclic \
    --pages 65 --outstanding 1
expect_grep "$TMP/out" "^lookups 100000 hits 0 " "cyclic scan of 65 pages through 64 LRU entries: no hit"

# --- Parameter errors: one line each, with the path, exit 2 ---------------
cat >"$TMP/bad.py" <<'PY'
import iommusim as sim
root = sim.Root()
s = root.system = sim.System()
s.mem = sim.Memory(interleave="96B")
s.iotlb = sim.IOTLB(entries=48, ways=5)
s.t2 = sim.IOTLB(policy="plru", entries=48, ways=3, entries_2m=8)
s.walker = sim.Walker(pwc_entries=[16, 16], pwc_ways=[4])
s.iommu = sim.GenericIOMMU(iotlb=s.iotlb, walker=s.walker, memory=s.mem,
                           page_sizes=["4KiB", "3KiB"])
s.probe = sim.TranslationProbe(iommu=s.iommu, base=0x1234)
sim.simulate(until="1us")
PY
expect_status 2 "bad IOMMU parameters exit 2" -- "$IOMMUSIM" "$TMP/bad.py"
expect_grep "$TMP/err" "^iommusim: system\.iotlb\.ways: does not divide entries \(got 5, expected a divisor of 48" \
    "ways must divide entries, reported with its path"
expect_grep "$TMP/err" "^iommusim: system\.t2\.ways: plru needs a power of two" "plru ways"
expect_grep "$TMP/err" "^iommusim: system\.t2\.entries_2m: applies only to a split IOTLB" \
    "per-size arrays need split"
expect_grep "$TMP/err" "^iommusim: system\.mem\.interleave: not a power of two \(got 96 bytes" \
    "memory interleave"
expect_grep "$TMP/err" "^iommusim: system\.walker\.pwc_ways: one item per pwc_entries item" \
    "pwc ways per depth"
expect_grep "$TMP/err" "^iommusim: system\.iommu\.page_sizes: not a page size" "page sizes"
expect_grep "$TMP/err" "^iommusim: system\.probe\.base: not 4 KiB-aligned" "probe base alignment"
n=$(grep -c '^iommusim: system\.' "$TMP/err")
[ "$n" -eq 7 ] && ok "every problem reported at once (7 lines)" || \
    bad "every problem reported at once (7 lines)" "$(cat "$TMP/err")"

# Creation-time errors: an IOTLB shared by two IOMMUs, too many PWC depths.
cat >"$TMP/share.py" <<'PY'
import iommusim as sim
root = sim.Root()
s = root.system = sim.System()
s.mem = sim.Memory()
s.iotlb = sim.IOTLB()
s.w0 = sim.Walker()
s.w1 = sim.Walker()
s.iommu0 = sim.GenericIOMMU(iotlb=s.iotlb, walker=s.w0, memory=s.mem)
s.iommu1 = sim.GenericIOMMU(iotlb=s.iotlb, walker=s.w1, memory=s.mem)
sim.simulate(until="1us")
PY
expect_status 2 "a shared IOTLB exits 2" -- "$IOMMUSIM" "$TMP/share.py"
expect_grep "$TMP/err" "^iommusim: system\.iommu1: iotlb: system\.iotlb already serves system\.iommu0" \
    "an IOTLB serves one IOMMU"
sed -i 's/^s.iommu1 = .*/s.t1 = sim.IOTLB()\ns.iommu1 = sim.GenericIOMMU(iotlb=s.t1, walker=s.w1, memory=s.mem, levels=3)/' "$TMP/share.py"
expect_status 2 "too many PWC depths exits 2" -- "$IOMMUSIM" "$TMP/share.py"
expect_grep "$TMP/err" "^iommusim: system\.iommu1: walker: system\.w1 has page-walk caches for 3 depths but a 3-level table" \
    "PWC depths checked against the table levels"

finish
