#!/bin/sh
# test_trace_config.sh - the TraceReplay model from a config, and path
# parameters: configs/trace_replay.py replays the shipped sample with the
# map/unmap counts grep finds in it and the same IOMMU counts as
# `iommusim trace replay` (the same machine built in C); a path set in a
# config is relative to the config's directory, one given with --set to the
# working directory; a missing or malformed trace is one error line with
# exit 2; --dump-config and --describe show the path parameter.
. "${top_srcdir:-.}/tests/cli/lib.sh"

SRC=$(cd "$top_srcdir" && pwd)
IOMMUSIM=$(cd "$(dirname "$IOMMUSIM")" && pwd)/$(basename "$IOMMUSIM")
SAMPLE="$SRC/tests/data/sample_ftrace.txt"
CONFIG="$SRC/configs/trace_replay.py"
export ASAN_OPTIONS=detect_leaks=0          # CPython's own allocations (docs/configs.md)

# Field N after NAME on a line of the summary: "maps 160 unmaps 160 ..."
field() { sed -n "s/.*\\b$2 \\([0-9.]*%*\\).*/\\1/p" "$1" | head -1; }

# --- The shipped sample: counts derived with grep, independently of the parser.
maps=$(grep -Ec ' (iommu:)?map: +IOMMU:' "$SAMPLE")
unmaps=$(grep -Ec ' (iommu:)?unmap: +IOMMU:' "$SAMPLE")
expect_status 0 "config replays the sample" -- \
    "$IOMMUSIM" -q --outdir "$TMP/o1" "$CONFIG"
cp "$TMP/out" "$TMP/config.out"
expect_grep "$TMP/config.out" "^maps $maps unmaps $unmaps fault_records 0 map_errors 0 unmap_errors 0$" \
    "maps and unmaps match grep ($maps, $unmaps)"
acc=$(field "$TMP/config.out" accesses)
skipped=$(field "$TMP/config.out" skipped)
# Every map is accepted, so each buffer's 4 accesses are either sent or
# skipped; 64-byte accesses never cross a page, so one translation each;
# every access is to a mapped buffer, so none faults.
if [ -n "$acc" ] && [ $((acc + skipped)) -eq $((4 * maps)) ] && [ "$acc" -gt 0 ]; then
    ok "accesses + skipped = 4 x maps ($acc + $skipped)"
else bad "accesses + skipped = 4 x maps" "got '$acc' + '$skipped'"; fi
expect_grep "$TMP/config.out" "^translations $acc translation_faults 0 " "translations = accesses, no faults"
expect_grep "$TMP/config.out" "^iotlb lookups $acc hits [0-9]+ hit_rate [0-9.]+% walks [0-9]+$" \
    "summary has the IOTLB hit rate and walks"
[ -s "$TMP/o1/config.json" ] && ok "config.json written" || bad "config.json written"

# --- The same machine built by `iommusim trace replay` gives the same counts.
"$IOMMUSIM" trace import -q "$SAMPLE" -o "$TMP/s.iotrace"
expect_status 0 "trace replay runs" -- "$IOMMUSIM" trace replay "$TMP/s.iotrace"
cp "$TMP/out" "$TMP/cmd.out"
c_hits=$(sed -n 's/.*iotlb lookups [0-9]*, hits \([0-9]*\) .*/\1/p' "$TMP/cmd.out")
c_walks=$(sed -n 's/.*, walks \([0-9]*\)$/\1/p' "$TMP/cmd.out")
c_lat=$(sed -n 's/.*mean latency \([0-9.]*\) ns.*/\1/p' "$TMP/cmd.out")
expect_grep "$TMP/cmd.out" "^  accesses $acc .*skipped $skipped," "command: same accesses and skipped"
if [ "$(field "$TMP/config.out" hits)" = "$c_hits" ] && [ "$(field "$TMP/config.out" walks)" = "$c_walks" ] &&
   [ "$(field "$TMP/config.out" mean_latency_ns)" = "$c_lat" ]; then
    ok "config and command agree on hits ($c_hits), walks ($c_walks), latency ($c_lat ns)"
else bad "config and command agree" "config: $(tail -2 "$TMP/config.out" | tr '\n' ' ') command: $(tail -2 "$TMP/cmd.out" | tr '\n' ' ')"; fi

# --- Paths: in a config relative to the config's directory (run from
# elsewhere, it still finds ../tests/data); with --set relative to the
# working directory; the binary form is read as well as the text.
cd "$TMP" || exit 1
expect_status 0 "config path found from another directory" -- "$IOMMUSIM" -q --outdir o2 "$CONFIG"
expect_grep "$TMP/out" "^maps $maps unmaps $unmaps " "same counts from another directory"
expect_status 0 "--set path relative to the working directory (binary trace)" -- \
    "$IOMMUSIM" -q --outdir o3 --set system.replay.trace=s.iotrace "$CONFIG"
expect_grep "$TMP/out" "^maps $maps unmaps $unmaps .*" "binary trace: same counts"
expect_grep "$TMP/o3/config.json" '"trace": "s.iotrace"' "config.json has the --set path"
expect_status 2 "--set missing file" -- \
    "$IOMMUSIM" -q --outdir o4 --set system.replay.trace=nope.iotrace "$CONFIG"
expect_grep "$TMP/err" "^iommusim: system.replay.trace: no such file \\(got 'nope.iotrace'\\) \\[--set\\]$" \
    "missing file: one line naming the parameter and file"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && ok "missing file: exactly one line" || bad "missing file: one line" "$(cat "$TMP/err")"
[ ! -e o4/config.json ] && ok "missing file: nothing written" || bad "missing file: nothing written"
expect_status 2 "--set a directory" -- "$IOMMUSIM" -q --set system.replay.trace=o3 "$CONFIG"
expect_grep "$TMP/err" "system.replay.trace: a directory, not a file \\(got 'o3'" "directory refused"

# A malformed text trace: the importer's FILE:LINE, after the object's path.
head -20 "$SAMPLE" >bad.txt
echo '  <idle>-0 [001] d.h1. 1000.000400: map: IOMMU: iova=0x1000 paddr=0x2000 size=4k' >>bad.txt
expect_status 2 "malformed trace" -- "$IOMMUSIM" -q --set system.replay.trace=bad.txt "$CONFIG"
expect_grep "$TMP/err" "^iommusim: system.replay: bad.txt:21: expected size as a decimal number \\(got '4k'\\)$" \
    "malformed trace: object, file, line"
[ "$(wc -l <"$TMP/err")" -eq 1 ] && ok "malformed trace: one line" || bad "malformed trace: one line" "$(cat "$TMP/err")"
head -c 100 s.iotrace >cut.iotrace
expect_status 2 "truncated binary trace" -- "$IOMMUSIM" -q --set system.replay.trace=cut.iotrace "$CONFIG"
expect_grep "$TMP/err" "^iommusim: system.replay: cut.iotrace: .*truncated or corrupt" "truncated: says which file"
cd "$SRC" || exit 1

# --- --dump-config: the resolved path (config dir + value, normalised).
expect_status 0 "dump-config" -- "$IOMMUSIM" --dump-config "$CONFIG"
want=$(/usr/bin/python3 -c 'import os,sys; print(os.path.normpath(os.path.join(os.path.dirname(sys.argv[1]), "../tests/data/sample_ftrace.txt")))' "$CONFIG")
if /usr/bin/python3 - "$TMP/out" "$want" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))["objects"]["system.replay"]["params"]
assert p["trace"] == sys.argv[2], p["trace"]
assert p["accesses"] == 4 and p["write"] is False and p["time_scale"] == 1.0, p
assert p["iommu"] == "system.iommu" and p["access_size"] == "64B", p
EOF
then ok "dump-config: trace is the resolved path, other values typed"
else bad "dump-config: trace is the resolved path"; fi

# --- Values from a config: a path must be text; pathlib paths are fine;
# a config-relative path that does not exist names the resolved path.
mkdir -p "$TMP/cfg"
cat >"$TMP/cfg/c.py" <<EOF
import pathlib, sys
import iommusim as sim
root = sim.Root()
s = root.system = sim.System()
s.mem = sim.Memory(); s.iotlb = sim.IOTLB(); s.walker = sim.Walker()
s.iommu = sim.GenericIOMMU(iotlb=s.iotlb, walker=s.walker, memory=s.mem)
trace = {"int": 42, "pathlib": pathlib.Path("$SAMPLE"), "rel": "nope.txt"}[sys.argv[1]]
s.replay = sim.TraceReplay(trace=trace, iommu=s.iommu, accesses=0)
sim.simulate()
print("maps", int(s.replay.read("maps")), "accesses", int(s.replay.read("accesses")))
EOF
expect_status 2 "a number is not a path" -- "$IOMMUSIM" -q "$TMP/cfg/c.py" int
expect_grep "$TMP/err" "system.replay.trace: not a path \\(got 42, expected the path of an existing file" \
    "a number is not a path: message"
expect_status 0 "a pathlib.Path is a path" -- "$IOMMUSIM" -q --outdir "$TMP/o5" "$TMP/cfg/c.py" pathlib
expect_grep "$TMP/out" "^maps $maps accesses 0$" "accesses=0: maps only"
expect_status 2 "config-relative missing file" -- "$IOMMUSIM" -q "$TMP/cfg/c.py" rel
expect_grep "$TMP/err" "system.replay.trace: no such file \\(got '$TMP/cfg/nope.txt'\\)" \
    "config-relative path resolved against the config's directory"

# --- --describe shows the type.
expect_status 0 "describe TraceReplay" -- "$IOMMUSIM" --describe TraceReplay
expect_grep "$TMP/out" "^  trace +path, default \\(required\\)" "describe: trace is a path"
expect_status 0 "--help" -- "$IOMMUSIM" --help
expect_grep "$TMP/out" "^  trace +import, inspect, generate or replay" "--help lists the trace command"
finish
