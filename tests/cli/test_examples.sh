#!/bin/sh
# test_examples.sh - every example under configs/ runs with a short duration,
# and configs/accel_hugepages.py's summary holds against derivations.
#
# Every configs/*.py but helpers.py (a module the examples import) is found
# by the loop, so a new example is run without editing this file: a config
# whose --help offers --until gets --until 50us (and --warmup 10us if it has
# one); each must exit 0, print a summary and write OUTDIR/stats.h5. Each
# must also be installed (listed in Makefile.am's dist_configs_DATA).
#
# The accelerator (gen4 x16, 1 MiB reads walking a 64 MiB buffer, 64 tags of
# 256 bytes, 1 ms, a 64-entry IOTLB):
#  - link bound: a read completion carries 256 bytes in 256 + 24 bytes of
#    wire time on 16 x 16e9 x 128/130 bit/s, so at most 230.46 Gb/s of data;
#    64 tags of 256 B over a round trip of about 0.3 us (two link latencies,
#    80 ns of memory, serialisation) would sustain 430 Gb/s, so the link is
#    the bottleneck and the stream reaches >= 95% of the bound (start-up and
#    one stalled walk per 2 MiB page, about 0.4 us each, cost < 1%);
#  - lookups: one per 256-byte request, completed ones (bytes / 256) plus
#    at most 64 in flight;
#  - walks, 2 MiB pages: at least one per distinct 2 MiB page touched,
#    D = ceil(bytes / 2 MiB) (the IOTLB holds all 32, so none twice); at most
#    5 per page: misses merge per 4 KiB page and 64 tags x 256 B span at most
#    16 KiB, i.e. 5 distinct 4 KiB pages, while the page's first walk is in
#    flight;
#  - hit rate: a miss holds a tag until its walk ends, so at most 64 misses
#    per walk: hit_rate >= 1 - 64 x walks / lookups;
#  - 4 KiB pages: every 4 KiB page touched is walked at least once
#    (walks >= bytes / 4096: 512 times the 2 MiB figure) and its first of 16
#    requests misses (hit_rate <= 15/16);
#  - 1 GiB pages over a 1 GiB buffer: one page, so 1 to 5 walks.
# The embedded CPython's allocations are not leak-checked (docs/configs.md).
. "${top_srcdir:-.}/tests/cli/lib.sh"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
PY=/usr/bin/python3
cd "$TMP" || exit 1
case $IOMMUSIM in /*) ;; *) IOMMUSIM="$OLDPWD/$IOMMUSIM" ;; esac
case $top_srcdir in /*) SRC=$top_srcdir ;; *) SRC="$OLDPWD/$top_srcdir" ;; esac

# --- Every example, short --------------------------------------------------------
n=0
for cfg in "$SRC"/configs/*.py; do
    ex=${cfg##*/}       # not $ex: expect_status sets that
    [ "$ex" = helpers.py ] && continue
    n=$((n + 1))
    "$IOMMUSIM" -q --no-progress --outdir "h_$ex" "$cfg" --help >"$TMP/help" 2>&1
    set --
    grep -q -- '--until' "$TMP/help" && set -- "$@" --until 50us
    grep -q -- '--warmup' "$TMP/help" && set -- "$@" --warmup 10us
    rm -rf "out_$ex"
    expect_status 0 "example $ex $*" -- \
        "$IOMMUSIM" -q --no-progress --outdir "out_$ex" "$cfg" "$@"
    if [ -s "$TMP/out" ] && [ -s "out_$ex/stats.h5" ]; then
        ok "example $ex: a summary and stats.h5"
    else
        bad "example $ex: a summary and stats.h5" "$(head -c 300 "$TMP/out") $(cat "$TMP/err")"
    fi
    if grep -q "configs/$ex" "$SRC/Makefile.am"; then ok "example $ex is installed"
    else bad "example $ex is installed" "not in Makefile.am's dist_configs_DATA"; fi
done
[ "$n" -ge 8 ] && ok "$n examples found" || bad "examples found" "only $n under $SRC/configs"

# --- accel_hugepages ---------------------------------------------------------------
# check NAME PYTHON-EXPR: over the summary's numbers (T = simulated seconds).
check() {
    if $PY - "$TMP/out" "$2" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
def num(pattern):
    m = re.search(pattern + r"\s+([-0-9.e+]+)", text)
    if not m:
        raise SystemExit(f"no '{pattern}' in the summary")
    return float(m.group(1))
v = dict(T=num("simulated") * 1e-3, moved=num("bytes_moved"), errors=num("errors"),
         hit_rate=num("hit_rate"), lookups=num("lookups"), walks=num("walks"),
         bound=16 * 16e9 * 128 / 130 * 256 / 280, MiB=2.0 ** 20)
ok = eval(sys.argv[2], {"ceil": __import__("math").ceil}, v)
raise SystemExit(0 if ok else f"false: {sys.argv[2]} with {v}")
PYEOF
    then ok "$1"; else bad "$1" "$(head -c 600 "$TMP/out")"; fi
}
ACC="$SRC/configs/accel_hugepages.py"

expect_status 0 "accel 2MiB pages" -- "$IOMMUSIM" -q --no-progress --outdir a2m "$ACC"
check "2MiB: no errors, data moved" 'errors == 0 and moved > 0'
check "2MiB: link bound: 0.95 x 230.46 Gb/s <= data rate <= 230.46 Gb/s" \
    '0.95 * bound <= moved * 8 / T <= bound * 1.0001'
check "2MiB: one lookup per 256-byte request (+ <= 64 in flight)" \
    'moved / 256 <= lookups <= moved / 256 + 64'
check "2MiB: D <= walks <= 5 D for D = ceil(bytes / 2 MiB) pages touched" \
    'ceil(moved / (2 * MiB)) <= walks <= 5 * ceil((moved + 64 * 256) / (2 * MiB))'
check "2MiB: hit rate >= 1 - 64 walks / lookups (and > 0.99)" \
    'hit_rate >= 1 - 64 * walks / lookups and hit_rate > 0.99'
w2m=$(awk '$1 == "walks" { print $2 }' "$TMP/out")

expect_status 0 "accel 4KiB pages" -- "$IOMMUSIM" -q --no-progress --outdir a4k "$ACC" \
    --page-size 4KiB
check "4KiB: a walk per 4 KiB page touched" 'walks >= moved // 4096'
check "4KiB: hit rate <= 15/16" 'hit_rate <= 15 / 16'
w4k=$(awk '$1 == "walks" { print $2 }' "$TMP/out")
if [ -n "$w2m" ] && [ -n "$w4k" ] && [ $((w2m * 100)) -le "$w4k" ]; then
    ok "2 MiB pages: at least 100x fewer walks ($w2m against $w4k)"
else bad "2 MiB pages: at least 100x fewer walks" "2MiB $w2m, 4KiB $w4k"; fi

expect_status 0 "accel 1GiB pages" -- "$IOMMUSIM" -q --no-progress --outdir a1g "$ACC" \
    --page-size 1GiB --footprint 1GiB
check "1GiB: one page: 1 <= walks <= 5, link bound still holds" \
    '1 <= walks <= 5 and moved * 8 / T <= bound * 1.0001'

expect_status 0 "accel writes" -- "$IOMMUSIM" -q --no-progress --outdir aw "$ACC" \
    --write-ratio 1
# Writes carry their data upstream: the same 256/280 bound on the other direction.
check "writes: link bound holds, >= 95% of it" '0.95 * bound <= moved * 8 / T <= bound * 1.0001'

# Bad input: huge pages need an aligned physical base; one line naming it.
cat >"$TMP/badbase.py" <<'EOF'
import iommusim as sim
root = sim.Root()
s = root.system = sim.System()
s.mem = sim.Memory()
s.tlb = sim.IOTLB()
s.walker = sim.Walker()
s.iommu = sim.GenericIOMMU(iotlb=s.tlb, walker=s.walker, memory=s.mem)
s.acc = sim.DmaDevice(iommu=s.iommu, memory=s.mem, pattern="accel", page_size="2MiB",
                      buf_base="5MiB")
sim.simulate(until="1us")
EOF
expect_status 2 "accel: unaligned buf_base is a config error" -- \
    "$IOMMUSIM" -q --no-progress --outdir bad "$TMP/badbase.py"
expect_grep "$TMP/err" 'system\.acc.*buf_base 0x500000 is not aligned to page_size 2097152' \
    "accel: the error names the object, buf_base and page_size"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && ok "accel: a one-line error" || bad "accel: a one-line error" "$(cat "$TMP/err")"
sed -i 's/page_size="2MiB",/page_size="2MiB", dma_bits=48,/; s/buf_base="5MiB"/buf_base="4GiB"/; s/sim.GenericIOMMU(/sim.GenericIOMMU(page_sizes="4KiB", /' "$TMP/badbase.py"
expect_status 2 "accel: an IOMMU without 2MiB pages is a config error" -- \
    "$IOMMUSIM" -q --no-progress --outdir bad "$TMP/badbase.py"
expect_grep "$TMP/err" "page_sizes do not include page_size 2097152" \
    "accel: the error names page_sizes"

finish
