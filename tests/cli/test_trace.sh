#!/bin/sh
# test_trace.sh - `iommusim trace`: the shipped sample imports with the
# counts grep finds in it; the generator is deterministic; a malformed file
# fails with FILE:LINE, exit 2 and writes nothing (an existing output stays
# as it was); --skip-bad-lines imports the rest and counts the bad lines;
# info and replay refuse what is not a trace; usage errors exit 2 and
# unwritable outputs exit 1 without leaving files behind.
. "${top_srcdir:-.}/tests/cli/lib.sh"

SAMPLE="$top_srcdir/tests/data/sample_ftrace.txt"

# --- The shipped sample: counts derived with grep, independently of the parser.
maps=$(grep -Ec ' (iommu:)?map: +IOMMU:' "$SAMPLE")
unmaps=$(grep -Ec ' (iommu:)?unmap: +IOMMU:' "$SAMPLE")
newform=$(grep -Ec 'iova=0x[0-9a-f]+ - 0x' "$SAMPLE")
oldform=$((maps + unmaps - newform))
expect_status 0 "sample imports" -- "$IOMMUSIM" trace import "$SAMPLE" -o "$TMP/s.iotrace"
expect_grep "$TMP/out" ": $maps maps, $unmaps unmaps, 0 page faults \\($oldform old form, $newform new form\\)" \
    "import counts match grep ($maps maps, $unmaps unmaps)"
expect_grep "$TMP/out" ' 0 unmaps of unmapped iova, 0 overlapping maps' "sample is consistent"
if [ "$oldform" -gt 0 ] && [ "$newform" -gt 0 ] && grep -q 'iommu:map:' "$SAMPLE" &&
   grep -q '^cpus=' "$SAMPLE" && grep -q '] d.h1. ' "$SAMPLE"; then
    ok "sample has both forms and every prefix style"
else bad "sample has both forms and every prefix style"; fi
# 64-byte header + 48 bytes per record.
size=$(wc -c <"$TMP/s.iotrace")
if [ "$size" -eq $((64 + 48 * (maps + unmaps))) ]; then ok "binary size is 64 + 48 * records"
else bad "binary size" "got $size"; fi
expect_status 0 "info runs" -- "$IOMMUSIM" trace info "$TMP/s.iotrace"
expect_grep "$TMP/out" "^  maps $maps, unmaps $unmaps, page faults 0" "info counts"
expect_grep "$TMP/out" '^  map size histogram' "info has a histogram"

# --- Replay through the generic IOMMU: every access is one translation here
# (64-byte accesses never cross a page), and the sample never faults.
expect_status 0 "replay runs" -- "$IOMMUSIM" trace replay "$TMP/s.iotrace" --accesses 2
acc=$(sed -n 's/^  accesses \([0-9]*\) .*/\1/p' "$TMP/out")
expect_grep "$TMP/out" "^  translations $acc, faults 0" "replay: translations = accesses ($acc)"
expect_grep "$TMP/out" "^  maps $maps \\(errors 0\\), unmaps $unmaps \\(errors 0\\)" "replay counts"

# --- Generator: deterministic, seed-sensitive, and importable.
for p in nic nvme random; do
    "$IOMMUSIM" trace gen --pattern $p --count 200 --seed 3 -o "$TMP/a.txt"
    "$IOMMUSIM" trace gen --pattern $p --count 200 --seed 3 -o "$TMP/b.txt"
    "$IOMMUSIM" trace gen --pattern $p --count 200 --seed 4 -o "$TMP/c.txt"
    if cmp -s "$TMP/a.txt" "$TMP/b.txt" && ! cmp -s "$TMP/a.txt" "$TMP/c.txt"; then
        ok "gen $p: same seed same bytes, other seed other bytes"
    else bad "gen $p determinism"; fi
done
expect_status 2 "gen: bad pattern" -- "$IOMMUSIM" trace gen --pattern disk -o "$TMP/x.txt"
expect_grep "$TMP/err" "--pattern: expected nic, nvme or random \\(got 'disk'\\)" "gen: pattern message"
expect_status 2 "gen: bad count" -- "$IOMMUSIM" trace gen --pattern nic --count 0 -o "$TMP/x.txt"
expect_status 2 "gen: no output" -- "$IOMMUSIM" trace gen --pattern nic
[ ! -e "$TMP/x.txt" ] && ok "gen errors write nothing" || bad "gen errors write nothing"

# --- Malformed input: FILE:LINE, exit 2, nothing written.
head -20 "$SAMPLE" >"$TMP/bad.txt"
echo '  <idle>-0 [001] d.h1. 1000.000400: map: IOMMU: iova=0x1000 paddr=0x2000 size=4k' >>"$TMP/bad.txt"
tail -n +21 "$SAMPLE" | head -5 >>"$TMP/bad.txt"
expect_status 2 "malformed file fails" -- "$IOMMUSIM" trace import "$TMP/bad.txt" -o "$TMP/bad.iotrace"
expect_grep "$TMP/err" "^$TMP/bad.txt:21: expected size as a decimal number \\(got '4k'\\)$" \
    "error names file, line, expectation"
[ ! -e "$TMP/bad.iotrace" ] && ok "failed import writes nothing" || bad "failed import writes nothing"
echo keep >"$TMP/old.iotrace"
"$IOMMUSIM" trace import "$TMP/bad.txt" -o "$TMP/old.iotrace" 2>/dev/null
[ "$(cat "$TMP/old.iotrace")" = keep ] && ok "failed import leaves an existing output alone" ||
    bad "failed import leaves an existing output alone"
expect_status 0 "--skip-bad-lines imports the rest" -- \
    "$IOMMUSIM" trace import --skip-bad-lines "$TMP/bad.txt" -o "$TMP/bad.iotrace"
expect_grep "$TMP/out" ' 1 bad lines' "skipped lines are counted"
expect_grep "$TMP/err" "bad.txt:21: .*\\(line skipped\\)" "skipped line is reported"
echo '# only comments' >"$TMP/empty.txt"
expect_status 2 "no events: refused" -- "$IOMMUSIM" trace import "$TMP/empty.txt" -o "$TMP/e.iotrace"
[ ! -e "$TMP/e.iotrace" ] && ok "no events: nothing written" || bad "no events: nothing written"

# --- Missing files, unwritable outputs, non-traces.
expect_status 2 "missing input" -- "$IOMMUSIM" trace import "$TMP/nope.txt" -o "$TMP/n.iotrace"
expect_grep "$TMP/err" "nope.txt: cannot open" "missing input message"
expect_status 1 "unwritable output" -- "$IOMMUSIM" trace import "$SAMPLE" -o "$TMP/nodir/x.iotrace"
expect_grep "$TMP/err" "nodir/x.iotrace: input/output error" "unwritable output message"
expect_status 2 "info: text is not a trace" -- "$IOMMUSIM" trace info "$SAMPLE"
expect_grep "$TMP/err" "not an iommusim trace" "info: says why"
head -c 100 "$TMP/s.iotrace" >"$TMP/trunc.iotrace"
expect_status 2 "info: truncated trace" -- "$IOMMUSIM" trace info "$TMP/trunc.iotrace"
expect_grep "$TMP/err" "truncated or corrupt" "info: truncation message"
expect_status 2 "replay: truncated trace" -- "$IOMMUSIM" trace replay "$TMP/trunc.iotrace"
expect_status 2 "replay: bad option value" -- "$IOMMUSIM" trace replay "$TMP/s.iotrace" --accesses x
expect_status 2 "trace: unknown command" -- "$IOMMUSIM" trace frob
expect_status 2 "import: no -o" -- "$IOMMUSIM" trace import "$SAMPLE"
expect_status 0 "trace --help" -- "$IOMMUSIM" trace --help
expect_grep "$TMP/out" '^usage: iommusim trace import' "help text"
finish
